"""What a server may ask of the client, and the callbacks that answer it.

A server sends three kinds of requests to its client (revisions 2025-03-26 to 2025-11-25):

* ``sampling/createMessage``: run an LLM completion. Pass ``sampling_handler=`` to
  :class:`~mcp_async.AsyncMCPClient`; it receives a :class:`SamplingRequest` and returns a
  :class:`SamplingResult` (or the wire result as a dict).
* ``elicitation/create``: ask the user for input, as a form (``requestedSchema``) or by
  sending them to a URL. Pass ``elicitation_handler=``; it receives an
  :class:`ElicitationRequest` and returns an :class:`ElicitationResult`.
* ``roots/list``: the filesystem roots the server may use. Pass ``roots=``, a list or a
  (sync or async) callable returning one.

Each capability is declared in ``initialize`` only when its handler is given. Handlers run
as tasks, so a slow one never holds up other traffic; a handler that raises
:class:`~mcp_async.JSONRPCError` answers with that error (``-1`` is the customary code for
"the user rejected it"), any other exception with an internal error::

    async def sample(request: SamplingRequest) -> SamplingResult:
        text = await my_llm(request.system_prompt, [m.text for m in request.messages])
        return SamplingResult(content=text, model="my-llm")

    async with AsyncMCPClient(url, sampling_handler=sample) as client:
        await client.call_tool("summarise", {"path": "notes.txt"})

The notification callbacks (``tools_list_changed_handler``, ``resource_updated_handler``,
...) are typed here too. They run in the reader of the stream that carried them, so keep
them quick and start a task for slow work.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Self, TypeAlias

from .._exceptions import UnexpectedResponseError
from ..protocol.models import ContentBlock, Root, TextContent, Tool, parse_content
from ..protocol.models.decoding import (
    list_of,
    obj,
    opt_bool,
    opt_dict,
    opt_int,
    opt_meta,
    opt_number,
    opt_str,
    req_dict,
    req_str,
    str_tuple,
)

__all__ = [
    "ElicitationAction",
    "ElicitationCompleteHandler",
    "ElicitationHandler",
    "ElicitationRequest",
    "ElicitationResult",
    "ListChangedHandler",
    "ModelPreferences",
    "ResourceUpdatedHandler",
    "RootsProvider",
    "SamplingContent",
    "SamplingHandler",
    "SamplingMessage",
    "SamplingRequest",
    "SamplingResult",
    "ToolResultContent",
    "ToolUseContent",
]


# --------------------------------------------------------------------------- sampling content


@dataclass(frozen=True, slots=True)
class ToolUseContent:
    """A ``tool_use`` block (2025-11-25): the model asks to call ``name`` with ``input``."""

    type: ClassVar[Literal["tool_use"]] = "tool_use"
    id: str
    name: str
    input: dict[str, Any]
    meta: dict[str, Any] | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Decode a wire ``tool_use`` block."""
        m = "ToolUseContent"
        d = obj(data, m)
        return cls(
            id=req_str(d, "id", m),
            name=req_str(d, "name", m),
            input=req_dict(d, "input", m),
            meta=opt_meta(d, m),
            raw=d,
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the wire form."""
        out: dict[str, Any] = {"type": "tool_use", "id": self.id, "name": self.name,
                               "input": self.input}
        if self.meta is not None:
            out["_meta"] = self.meta
        return out


@dataclass(frozen=True, slots=True)
class ToolResultContent:
    """A ``tool_result`` block (2025-11-25): the outcome of the ``tool_use`` ``tool_use_id``."""

    type: ClassVar[Literal["tool_result"]] = "tool_result"
    tool_use_id: str
    content: tuple[ContentBlock, ...] = ()
    structured_content: Any | None = None
    is_error: bool = False
    meta: dict[str, Any] | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Decode a wire ``tool_result`` block."""
        m = "ToolResultContent"
        d = obj(data, m)
        return cls(
            tool_use_id=req_str(d, "toolUseId", m),
            content=list_of(d, "content", m, parse_content),
            structured_content=d.get("structuredContent"),
            is_error=opt_bool(d, "isError", m) or False,
            meta=opt_meta(d, m),
            raw=d,
        )


#: A block of a sampling message: the usual content blocks plus tool use and tool results.
SamplingContent: TypeAlias = ContentBlock | ToolUseContent | ToolResultContent


def _sampling_content(block: Any) -> SamplingContent:
    d = obj(block, "SamplingContent")
    kind = d.get("type")
    if kind == "tool_use":
        return ToolUseContent.from_dict(d)
    if kind == "tool_result":
        return ToolResultContent.from_dict(d)
    return parse_content(d)


# --------------------------------------------------------------------------- sampling


@dataclass(frozen=True, slots=True)
class SamplingMessage:
    """One message of the conversation to sample from.

    ``content`` is always a tuple, whether the wire carried one block or (2025-11-25) a list.
    """

    role: str
    content: tuple[SamplingContent, ...]
    meta: dict[str, Any] | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Decode a wire ``SamplingMessage``."""
        m = "SamplingMessage"
        d = obj(data, m)
        content = d.get("content")
        if isinstance(content, list):
            blocks = list_of(d, "content", m, _sampling_content, required=True)
        elif content is None:
            raise UnexpectedResponseError(f"{m}: missing required field 'content'")
        else:
            try:
                blocks = (_sampling_content(content),)
            except UnexpectedResponseError as exc:
                raise UnexpectedResponseError(f"{m}.content: {exc}") from None
        return cls(role=req_str(d, "role", m), content=blocks, meta=opt_meta(d, m), raw=d)

    @property
    def text(self) -> str:
        """The text blocks of ``content`` joined with newlines (``""`` if there are none)."""
        return "\n".join(b.text for b in self.content if isinstance(b, TextContent))


@dataclass(frozen=True, slots=True)
class ModelPreferences:
    """The server's hints for choosing a model; every priority is between 0 and 1."""

    hints: tuple[str, ...] = ()
    cost_priority: float | None = None
    speed_priority: float | None = None
    intelligence_priority: float | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Decode a wire ``ModelPreferences`` object."""
        m = "ModelPreferences"
        d = obj(data, m)
        hints = list_of(d, "hints", m, lambda h: opt_str(obj(h, "ModelHint"), "name", m))
        return cls(
            hints=tuple(h for h in hints if h),
            cost_priority=opt_number(d, "costPriority", m),
            speed_priority=opt_number(d, "speedPriority", m),
            intelligence_priority=opt_number(d, "intelligencePriority", m),
            raw=d,
        )


@dataclass(frozen=True, slots=True)
class SamplingRequest:
    """The params of ``sampling/createMessage``.

    ``tools`` and ``tool_choice`` (``"auto"``, ``"required"`` or ``"none"``) come from
    2025-11-25 servers, and only when the client declared ``sampling.tools`` (pass
    ``sampling_tools=True`` to the client). ``include_context`` other than ``"none"`` asks
    for context from this or all servers.
    """

    messages: tuple[SamplingMessage, ...]
    max_tokens: int
    system_prompt: str | None = None
    model_preferences: ModelPreferences | None = None
    include_context: str | None = None
    temperature: float | None = None
    stop_sequences: tuple[str, ...] = ()
    metadata: dict[str, Any] | None = None
    tools: tuple[Tool, ...] = ()
    tool_choice: str | None = None
    meta: dict[str, Any] | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Decode the request's ``params``."""
        m = "SamplingRequest"
        d = obj(data, m)
        max_tokens = opt_int(d, "maxTokens", m)
        if max_tokens is None:
            raise UnexpectedResponseError(f"{m}: missing required field 'maxTokens'")
        preferences = opt_dict(d, "modelPreferences", m)
        choice = opt_dict(d, "toolChoice", m)
        return cls(
            messages=list_of(d, "messages", m, SamplingMessage.from_dict, required=True),
            max_tokens=max_tokens,
            system_prompt=opt_str(d, "systemPrompt", m),
            model_preferences=(
                None if preferences is None else ModelPreferences.from_dict(preferences)
            ),
            include_context=opt_str(d, "includeContext", m),
            temperature=opt_number(d, "temperature", m),
            stop_sequences=str_tuple(d, "stopSequences", m),
            metadata=opt_dict(d, "metadata", m),
            tools=list_of(d, "tools", m, Tool.from_dict),
            tool_choice=None if choice is None else opt_str(choice, "mode", "ToolChoice"),
            meta=opt_meta(d, m),
            raw=d,
        )


def _block_to_wire(block: Any) -> dict[str, Any]:
    if isinstance(block, str):
        return {"type": "text", "text": block}
    if isinstance(block, Mapping):
        return dict(block)
    if isinstance(block, TextContent) and not block.raw:
        return {"type": "text", "text": block.text}
    to_dict = getattr(block, "to_dict", None)
    if callable(to_dict):
        return dict(to_dict())
    raw = getattr(block, "raw", None)
    if isinstance(raw, dict) and raw:
        return raw
    raise TypeError(f"cannot send {type(block).__name__} as sampling content")


@dataclass(frozen=True, slots=True)
class SamplingResult:
    """The answer to ``sampling/createMessage``.

    ``content`` is a string (one text block), a wire content block (a dict), a
    :class:`ToolUseContent`, or a sequence of those (several blocks need a 2025-11-25
    server). ``stop_reason`` is e.g. ``"endTurn"``, ``"maxTokens"`` or ``"toolUse"``.
    """

    content: str | Mapping[str, Any] | ToolUseContent | Sequence[Any]
    model: str
    role: str = "assistant"
    stop_reason: str | None = None
    meta: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the wire ``CreateMessageResult``."""
        content = self.content
        if isinstance(content, str | Mapping | ToolUseContent):
            wire: Any = _block_to_wire(content)
        else:
            blocks = [_block_to_wire(block) for block in content]
            wire = blocks[0] if len(blocks) == 1 else blocks
        out: dict[str, Any] = {"role": self.role, "content": wire, "model": self.model}
        if self.stop_reason is not None:
            out["stopReason"] = self.stop_reason
        if self.meta is not None:
            out["_meta"] = self.meta
        return out


# --------------------------------------------------------------------------- elicitation


@dataclass(frozen=True, slots=True)
class ElicitationRequest:
    """The params of ``elicitation/create``.

    ``mode`` is ``"form"`` (the default when the server sends none) with a flat
    ``requested_schema`` of primitive properties, or ``"url"`` (2025-11-25) with the
    ``url`` the user should open and the ``elicitation_id`` that a later
    ``notifications/elicitation/complete`` names. Show the user who is asking and, for a
    URL, its host before opening anything.
    """

    message: str
    mode: str = "form"
    requested_schema: dict[str, Any] | None = None
    url: str | None = None
    elicitation_id: str | None = None
    meta: dict[str, Any] | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Decode the request's ``params``."""
        if type(data) is dict and data.get("mode", "form") == "form":
            message = data.get("message")
            schema = data.get("requestedSchema")
            meta = data.get("_meta")
            if type(message) is str and type(schema) is dict and (
                meta is None or type(meta) is dict
            ):  # the common, well-formed form (MRTR asks once per round)
                return cls(message, "form", schema, None, None, meta, data)
        m = "ElicitationRequest"
        d = obj(data, m)
        mode = opt_str(d, "mode", m) or "form"
        if mode == "url":
            return cls(
                message=req_str(d, "message", m),
                mode=mode,
                url=req_str(d, "url", m),
                elicitation_id=opt_str(d, "elicitationId", m),
                meta=opt_meta(d, m),
                raw=d,
            )
        return cls(
            message=req_str(d, "message", m),
            mode=mode,
            requested_schema=req_dict(d, "requestedSchema", m),
            meta=opt_meta(d, m),
            raw=d,
        )

    @property
    def properties(self) -> dict[str, dict[str, Any]]:
        """The form's fields (name → property schema); empty in URL mode."""
        props = (self.requested_schema or {}).get("properties")
        if not isinstance(props, dict):
            return {}
        return {k: v for k, v in props.items() if isinstance(v, dict)}

    @property
    def required(self) -> tuple[str, ...]:
        """Names of the fields the form requires."""
        names = (self.requested_schema or {}).get("required")
        if not isinstance(names, list):
            return ()
        return tuple(n for n in names if isinstance(n, str))


#: What the user did: ``"accept"`` (submitted / consented), ``"decline"`` or ``"cancel"``.
ElicitationAction = Literal["accept", "decline", "cancel"]


@dataclass(frozen=True, slots=True)
class ElicitationResult:
    """The answer to ``elicitation/create``.

    ``content`` (form mode, ``accept`` only) maps field names to strings, numbers, booleans
    or lists of strings. With ``fill_defaults`` (the default), fields the content omits are
    filled from the schema's ``default`` values before sending (SEP-1034), so
    ``ElicitationResult.accept()`` accepts every default as shown.
    """

    action: ElicitationAction
    content: Mapping[str, Any] | None = None
    fill_defaults: bool = True

    def __post_init__(self) -> None:
        if self.action not in ("accept", "decline", "cancel"):
            raise ValueError(
                f"ElicitationResult.action must be 'accept', 'decline' or 'cancel', "
                f"got {self.action!r}"
            )

    @classmethod
    def accept(cls, content: Mapping[str, Any] | None = None) -> ElicitationResult:
        """The user submitted ``content`` (omitted fields take the schema defaults)."""
        return cls("accept", content)

    @classmethod
    def decline(cls) -> ElicitationResult:
        """The user explicitly refused."""
        return cls("decline")

    @classmethod
    def cancel(cls) -> ElicitationResult:
        """The user dismissed the request without choosing."""
        return cls("cancel")


# --------------------------------------------------------------------------- callback types

#: ``async handler(request) -> SamplingResult | dict`` for ``sampling/createMessage``.
SamplingHandler: TypeAlias = Callable[
    [SamplingRequest], Awaitable[SamplingResult | Mapping[str, Any]]
]
#: ``async handler(request) -> ElicitationResult | dict`` for ``elicitation/create``.
ElicitationHandler: TypeAlias = Callable[
    [ElicitationRequest], Awaitable[ElicitationResult | Mapping[str, Any]]
]
_RootItems: TypeAlias = Sequence[Root | str | Mapping[str, Any]]
#: Roots as a list of :class:`~mcp_async.models.Root` / ``file://`` URIs, or a sync or
#: async callable returning one (called for every ``roots/list``).
RootsProvider: TypeAlias = _RootItems | Callable[[], _RootItems | Awaitable[_RootItems]]
#: ``handler()`` called when the server says a list (tools, resources, prompts) changed.
ListChangedHandler: TypeAlias = Callable[[], Awaitable[None] | None]
#: ``handler(uri)`` called with ``notifications/resources/updated`` for a subscription.
ResourceUpdatedHandler: TypeAlias = Callable[[str], Awaitable[None] | None]
#: ``handler(elicitation_id)`` called when a URL-mode elicitation the client accepted is done.
ElicitationCompleteHandler: TypeAlias = Callable[[str], Awaitable[None] | None]
