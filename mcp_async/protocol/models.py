"""Typed, immutable models of the MCP results and notifications a client receives.

Covers the handshake-era revisions 2025-03-26 … 2025-11-25 (and decodes 2024-11-05 payloads,
which are a subset). Every model is a frozen, slotted dataclass with snake_case attributes and a
``from_dict`` classmethod that decodes the wire (camelCase) form.

Decoding rules, shared by every model:

* Unknown fields are ignored; they stay reachable through ``.raw``, the decoded JSON object
  itself (not a copy when a ``dict`` was given: treat it as read-only).
* Optional fields that are absent *or* ``null`` take their default.
* A missing required field, or a field of the wrong JSON type, raises
  :class:`~mcp_async._exceptions.UnexpectedResponseError` (a ``ProtocolError``) whose message
  names the model and the wire field, with the path into lists and nested objects, e.g.
  ``ListToolsPage.tools[2]: Tool.inputSchema: expected an object, got array``.
* Content blocks of a type this client does not know become :class:`UnknownContent` instead of
  failing, so servers speaking a newer revision keep working.

Sequences are tuples. JSON objects that are free-form by design (schemas, capability objects,
``_meta``) are kept as plain dicts.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Self, TypeAlias, TypeVar

from mcp_async._exceptions import UnexpectedResponseError

__all__ = [
    "Annotations",
    "AudioContent",
    "BlobResourceContents",
    "CallToolResult",
    "Completion",
    "ContentBlock",
    "DiscoverResult",
    "EmbeddedResource",
    "GetPromptResult",
    "Icon",
    "ImageContent",
    "Implementation",
    "InitializeResult",
    "InputRequest",
    "InputRequiredResult",
    "ListPromptsPage",
    "ListResourceTemplatesPage",
    "ListResourcesPage",
    "ListToolsPage",
    "LoggingMessage",
    "ProgressNotification",
    "Prompt",
    "PromptArgument",
    "PromptMessage",
    "ReadResourceResult",
    "Resource",
    "ResourceContents",
    "ResourceLink",
    "ResourceTemplate",
    "Root",
    "ServerCapabilities",
    "TextContent",
    "TextResourceContents",
    "Tool",
    "ToolAnnotations",
    "UnknownContent",
    "parse_content",
    "parse_resource_contents",
]

_T = TypeVar("_T")
_Parse: TypeAlias = Callable[[Any], _T]

# Sentinel for "key absent" (distinct from an explicit JSON null).
_MISSING: Any = object()

_JSON_KIND: dict[type, str] = {
    dict: "object",
    list: "array",
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    type(None): "null",
}


# --------------------------------------------------------------------------- decoding helpers
# Only the error paths do any extra work; the success paths are a dict lookup and an isinstance.


def _kind(value: object) -> str:
    return _JSON_KIND.get(type(value), type(value).__name__)


def _wrong(model: str, key: str, expected: str, value: object) -> UnexpectedResponseError:
    return UnexpectedResponseError(f"{model}.{key}: expected {expected}, got {_kind(value)}")


def _missing(model: str, key: str) -> UnexpectedResponseError:
    return UnexpectedResponseError(f"{model}: missing required field {key!r}")


def _obj(data: object, model: str) -> dict[str, Any]:
    """Return ``data`` as a dict (the same object when it already is one)."""
    if isinstance(data, dict):
        return data
    if isinstance(data, Mapping):
        return dict(data)
    raise UnexpectedResponseError(f"{model}: expected an object, got {_kind(data)}")


def _req_str(d: Mapping[str, Any], key: str, model: str) -> str:
    v = d.get(key, _MISSING)
    if isinstance(v, str):
        return v
    if v is _MISSING:
        raise _missing(model, key)
    raise _wrong(model, key, "a string", v)


def _opt_str(d: Mapping[str, Any], key: str, model: str) -> str | None:
    v = d.get(key)
    if v is None or isinstance(v, str):
        return v
    raise _wrong(model, key, "a string", v)


def _opt_bool(d: Mapping[str, Any], key: str, model: str) -> bool | None:
    v = d.get(key)
    if v is None or isinstance(v, bool):
        return v
    raise _wrong(model, key, "a boolean", v)


def _opt_int(d: Mapping[str, Any], key: str, model: str) -> int | None:
    v = d.get(key)
    if v is None:
        return None
    if isinstance(v, int) and not isinstance(v, bool):
        return v
    if isinstance(v, float) and v.is_integer():  # 1024.0 from a JS server
        return int(v)
    raise _wrong(model, key, "an integer", v)


def _number(v: Any, key: str, model: str) -> float:
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    if v is _MISSING:
        raise _missing(model, key)
    raise _wrong(model, key, "a number", v)


def _opt_number(d: Mapping[str, Any], key: str, model: str) -> float | None:
    v = d.get(key)
    return None if v is None else _number(v, key, model)


def _req_dict(d: Mapping[str, Any], key: str, model: str) -> dict[str, Any]:
    v = d.get(key, _MISSING)
    if isinstance(v, dict):
        return v
    if v is _MISSING:
        raise _missing(model, key)
    raise _wrong(model, key, "an object", v)


def _opt_dict(d: Mapping[str, Any], key: str, model: str) -> dict[str, Any] | None:
    v = d.get(key)
    if v is None or isinstance(v, dict):
        return v
    raise _wrong(model, key, "an object", v)


def _meta(d: Mapping[str, Any], model: str) -> dict[str, Any] | None:
    return _opt_dict(d, "_meta", model)


def _sub(d: Mapping[str, Any], key: str, model: str, parse: _Parse[_T]) -> _T:
    """Decode the required nested object ``d[key]`` with ``parse``, naming the path on error."""
    v = d.get(key, _MISSING)
    if v is _MISSING:
        raise _missing(model, key)
    try:
        return parse(v)
    except UnexpectedResponseError as exc:
        raise UnexpectedResponseError(f"{model}.{key}: {exc}") from None


def _opt_sub(d: Mapping[str, Any], key: str, model: str, parse: _Parse[_T]) -> _T | None:
    v = d.get(key)
    if v is None:
        return None
    try:
        return parse(v)
    except UnexpectedResponseError as exc:
        raise UnexpectedResponseError(f"{model}.{key}: {exc}") from None


def _list_of(
    d: Mapping[str, Any], key: str, model: str, parse: _Parse[_T], *, required: bool = False
) -> tuple[_T, ...]:
    """Decode the array ``d[key]`` item by item; absent/null gives ``()`` unless ``required``."""
    v = d.get(key, _MISSING)
    if not isinstance(v, list):
        if v is _MISSING and required:
            raise _missing(model, key)
        if (v is _MISSING or v is None) and not required:
            return ()
        raise _wrong(model, key, "an array", v)
    out: list[_T] = []
    for i, item in enumerate(v):
        try:
            out.append(parse(item))
        except UnexpectedResponseError as exc:
            raise UnexpectedResponseError(f"{model}.{key}[{i}]: {exc}") from None
    return tuple(out)


def _str_tuple(
    d: Mapping[str, Any], key: str, model: str, *, required: bool = False
) -> tuple[str, ...]:
    v = d.get(key, _MISSING)
    if not isinstance(v, list):
        if v is _MISSING and required:
            raise _missing(model, key)
        if (v is _MISSING or v is None) and not required:
            return ()
        raise _wrong(model, key, "an array", v)
    for i, item in enumerate(v):
        if not isinstance(item, str):
            raise _wrong(model, f"{key}[{i}]", "a string", item)
    return tuple(v)


def _cursor(d: Mapping[str, Any], model: str) -> str | None:
    # An empty cursor is treated as "no more pages" so a paginating loop cannot spin forever.
    return _opt_str(d, "nextCursor", model) or None


def _b64decode(data: str, model: str, key: str) -> bytes:
    try:
        if "-" in data or "_" in data:  # tolerate the URL-safe alphabet
            return base64.b64decode(data, altchars=b"-_")
        return base64.b64decode(data)
    except (binascii.Error, ValueError) as exc:
        raise UnexpectedResponseError(f"{model}.{key}: invalid base64 ({exc})") from None


# --------------------------------------------------------------------------- shared pieces


@dataclass(frozen=True, slots=True)
class Icon:
    """An icon for display (2025-11-25+): ``{src, mimeType?, sizes?, theme?}``.

    ``src`` is an ``https:`` or ``data:`` URI supplied by the server: fetch it only with the
    usual precautions (no credentials, beware of SVG scripts).
    """

    src: str
    mime_type: str | None = None
    sizes: tuple[str, ...] = ()
    theme: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Decode a wire ``Icon`` object."""
        d = _obj(data, "Icon")
        sizes_raw = d.get("sizes")
        # An early 2025-11-25 draft had ``sizes`` as one space-separated string.
        sizes = (
            tuple(sizes_raw.split())
            if isinstance(sizes_raw, str)
            else _str_tuple(d, "sizes", "Icon")
        )
        return cls(
            src=_req_str(d, "src", "Icon"),
            mime_type=_opt_str(d, "mimeType", "Icon"),
            sizes=sizes,
            theme=_opt_str(d, "theme", "Icon"),
            raw=d,
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the wire form."""
        out: dict[str, Any] = {"src": self.src}
        if self.mime_type is not None:
            out["mimeType"] = self.mime_type
        if self.sizes:
            out["sizes"] = list(self.sizes)
        if self.theme is not None:
            out["theme"] = self.theme
        return out


def _icons(d: Mapping[str, Any], model: str) -> tuple[Icon, ...]:
    return _list_of(d, "icons", model, Icon.from_dict)


@dataclass(frozen=True, slots=True)
class Annotations:
    """Display hints on content blocks and resources: ``{audience?, priority?, lastModified?}``."""

    audience: tuple[str, ...] = ()
    priority: float | None = None
    last_modified: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Decode a wire ``Annotations`` object."""
        d = _obj(data, "Annotations")
        return cls(
            audience=_str_tuple(d, "audience", "Annotations"),
            priority=_opt_number(d, "priority", "Annotations"),
            last_modified=_opt_str(d, "lastModified", "Annotations"),
            raw=d,
        )


def _annotations(d: Mapping[str, Any], model: str) -> Annotations | None:
    return _opt_sub(d, "annotations", model, Annotations.from_dict)


# --------------------------------------------------------------------------- lifecycle


@dataclass(frozen=True, slots=True)
class Implementation:
    """Name and version of an MCP implementation (``serverInfo`` / ``clientInfo``)."""

    name: str
    version: str
    title: str | None = None
    description: str | None = None
    website_url: str | None = None
    icons: tuple[Icon, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Decode a wire ``Implementation`` object."""
        d = _obj(data, "Implementation")
        return cls(
            name=_req_str(d, "name", "Implementation"),
            version=_req_str(d, "version", "Implementation"),
            title=_opt_str(d, "title", "Implementation"),
            description=_opt_str(d, "description", "Implementation"),
            website_url=_opt_str(d, "websiteUrl", "Implementation"),
            icons=_icons(d, "Implementation"),
            raw=d,
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the wire form (for sending ``clientInfo``); unset optional fields are omitted."""
        out: dict[str, Any] = {"name": self.name, "version": self.version}
        if self.title is not None:
            out["title"] = self.title
        if self.description is not None:
            out["description"] = self.description
        if self.website_url is not None:
            out["websiteUrl"] = self.website_url
        if self.icons:
            out["icons"] = [icon.to_dict() for icon in self.icons]
        return out


def _flag(cap: dict[str, Any] | None, key: str) -> bool:
    return cap is not None and cap.get(key) is True


@dataclass(frozen=True, slots=True)
class ServerCapabilities:
    """What the server offers. Each capability is its raw object, or ``None`` when absent.

    Use the ``supports_*`` / ``*_list_changed`` properties to gate requests.
    """

    tools: dict[str, Any] | None = None
    resources: dict[str, Any] | None = None
    prompts: dict[str, Any] | None = None
    logging: dict[str, Any] | None = None
    completions: dict[str, Any] | None = None
    experimental: dict[str, Any] | None = None
    tasks: dict[str, Any] | None = None
    extensions: dict[str, Any] | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Decode a wire ``ServerCapabilities`` object."""
        m = "ServerCapabilities"
        d = _obj(data, m)
        return cls(
            tools=_opt_dict(d, "tools", m),
            resources=_opt_dict(d, "resources", m),
            prompts=_opt_dict(d, "prompts", m),
            logging=_opt_dict(d, "logging", m),
            completions=_opt_dict(d, "completions", m),
            experimental=_opt_dict(d, "experimental", m),
            tasks=_opt_dict(d, "tasks", m),
            extensions=_opt_dict(d, "extensions", m),
            raw=d,
        )

    @property
    def supports_tools(self) -> bool:
        """The server offers ``tools/list`` and ``tools/call``."""
        return self.tools is not None

    @property
    def supports_resources(self) -> bool:
        """The server offers ``resources/list``, ``resources/read`` and templates."""
        return self.resources is not None

    @property
    def supports_resource_subscribe(self) -> bool:
        """The server accepts ``resources/subscribe``."""
        return _flag(self.resources, "subscribe")

    @property
    def supports_prompts(self) -> bool:
        """The server offers ``prompts/list`` and ``prompts/get``."""
        return self.prompts is not None

    @property
    def supports_logging(self) -> bool:
        """The server accepts ``logging/setLevel`` and may send ``notifications/message``."""
        return self.logging is not None

    @property
    def supports_completions(self) -> bool:
        """The server offers ``completion/complete``."""
        return self.completions is not None

    @property
    def supports_tasks(self) -> bool:
        """The server declared the (2025-11-25, experimental) ``tasks`` capability."""
        return self.tasks is not None

    @property
    def supports_task_tool_calls(self) -> bool:
        """``tools/call`` may be task-augmented (``tasks.requests.tools.call``)."""
        if self.tasks is None:
            return False
        requests = self.tasks.get("requests")
        tools = requests.get("tools") if isinstance(requests, dict) else None
        return isinstance(tools, dict) and isinstance(tools.get("call"), dict)

    @property
    def tools_list_changed(self) -> bool:
        """The server sends ``notifications/tools/list_changed``."""
        return _flag(self.tools, "listChanged")

    @property
    def resources_list_changed(self) -> bool:
        """The server sends ``notifications/resources/list_changed``."""
        return _flag(self.resources, "listChanged")

    @property
    def prompts_list_changed(self) -> bool:
        """The server sends ``notifications/prompts/list_changed``."""
        return _flag(self.prompts, "listChanged")


@dataclass(frozen=True, slots=True)
class InitializeResult:
    """The server's answer to ``initialize``."""

    protocol_version: str
    capabilities: ServerCapabilities
    server_info: Implementation
    instructions: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Decode a wire ``InitializeResult``."""
        m = "InitializeResult"
        d = _obj(data, m)
        return cls(
            protocol_version=_req_str(d, "protocolVersion", m),
            capabilities=_sub(d, "capabilities", m, ServerCapabilities.from_dict),
            server_info=_sub(d, "serverInfo", m, Implementation.from_dict),
            instructions=_opt_str(d, "instructions", m),
            raw=d,
        )


@dataclass(frozen=True, slots=True)
class DiscoverResult:
    """The answer to ``server/discover`` (MCP 2026-07-28).

    ``ttl_ms`` (never negative) and ``cache_scope`` are the server's caching hints;
    ``server_info`` comes from ``_meta["io.modelcontextprotocol/serverInfo"]``.
    """

    supported_versions: tuple[str, ...]
    capabilities: ServerCapabilities
    server_info: Implementation | None = None
    instructions: str | None = None
    ttl_ms: int = 0
    cache_scope: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Decode a wire ``DiscoverResult``."""
        m = "DiscoverResult"
        d = _obj(data, m)
        meta = _meta(d, m) or {}
        info = meta.get("io.modelcontextprotocol/serverInfo")
        ttl = d.get("ttlMs")
        return cls(
            supported_versions=_str_tuple(d, "supportedVersions", m, required=True),
            capabilities=_sub(d, "capabilities", m, ServerCapabilities.from_dict),
            server_info=Implementation.from_dict(info) if isinstance(info, Mapping) else None,
            instructions=_opt_str(d, "instructions", m),
            ttl_ms=max(int(ttl), 0) if isinstance(ttl, int | float) and ttl == ttl else 0,
            cache_scope=_opt_str(d, "cacheScope", m),
            raw=d,
        )

    def as_initialize_result(self, protocol_version: str) -> InitializeResult:
        """The same facts in the shape the handshake era reports them."""
        return InitializeResult(
            protocol_version=protocol_version,
            capabilities=self.capabilities,
            server_info=self.server_info or Implementation(name="", version=""),
            instructions=self.instructions,
            raw=self.raw,
        )


@dataclass(frozen=True, slots=True)
class InputRequest:
    """One entry of an ``InputRequiredResult``: a request the client must answer."""

    method: str
    params: dict[str, Any]


@dataclass(frozen=True, slots=True)
class InputRequiredResult:
    """An interim result (MCP 2026-07-28, MRTR): the server needs input to go on.

    Answer every entry of ``input_requests`` and send the original request again with
    ``input_responses`` (same keys) and ``request_state`` exactly as given.
    """

    input_requests: dict[str, InputRequest]
    request_state: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Decode a wire ``InputRequiredResult``."""
        m = "InputRequiredResult"
        d = _obj(data, m)
        requests: dict[str, InputRequest] = {}
        for key, entry in (_opt_dict(d, "inputRequests", m) or {}).items():
            where = f"inputRequests.{key}"
            e = _obj(entry, f"{m}.{where}")
            params = e.get("params")
            if params is not None and not isinstance(params, dict):
                raise _wrong(m, f"{where}.params", "an object", params)
            requests[key] = InputRequest(_req_str(e, "method", f"{m}.{where}"), params or {})
        state = _opt_str(d, "requestState", m)
        if not requests and state is None:
            raise UnexpectedResponseError(
                f"{m}: needs inputRequests or requestState, and has neither"
            )
        return cls(input_requests=requests, request_state=state, raw=d)


# --------------------------------------------------------------------------- tools


@dataclass(frozen=True, slots=True)
class ToolAnnotations:
    """Behaviour hints of a tool. Untrusted unless the server is trusted; all optional.

    Spec defaults when absent: read-only ``False``, destructive ``True``, idempotent
    ``False``, open-world ``True``.
    """

    title: str | None = None
    read_only_hint: bool | None = None
    destructive_hint: bool | None = None
    idempotent_hint: bool | None = None
    open_world_hint: bool | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Decode a wire ``ToolAnnotations`` object."""
        m = "ToolAnnotations"
        d = _obj(data, m)
        return cls(
            title=_opt_str(d, "title", m),
            read_only_hint=_opt_bool(d, "readOnlyHint", m),
            destructive_hint=_opt_bool(d, "destructiveHint", m),
            idempotent_hint=_opt_bool(d, "idempotentHint", m),
            open_world_hint=_opt_bool(d, "openWorldHint", m),
            raw=d,
        )


@dataclass(frozen=True, slots=True)
class Tool:
    """A tool from ``tools/list``. ``input_schema``/``output_schema`` are raw JSON Schemas."""

    name: str
    input_schema: dict[str, Any]
    description: str | None = None
    output_schema: dict[str, Any] | None = None
    title: str | None = None
    annotations: ToolAnnotations | None = None
    icons: tuple[Icon, ...] = ()
    execution: dict[str, Any] | None = None
    meta: dict[str, Any] | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Decode a wire ``Tool`` object."""
        d = _obj(data, "Tool")
        return cls(
            name=_req_str(d, "name", "Tool"),
            input_schema=_req_dict(d, "inputSchema", "Tool"),
            description=_opt_str(d, "description", "Tool"),
            output_schema=_opt_dict(d, "outputSchema", "Tool"),
            title=_opt_str(d, "title", "Tool"),
            annotations=_opt_sub(d, "annotations", "Tool", ToolAnnotations.from_dict),
            icons=_icons(d, "Tool"),
            execution=_opt_dict(d, "execution", "Tool"),
            meta=_meta(d, "Tool"),
            raw=d,
        )

    @property
    def display_name(self) -> str:
        """``title``, else ``annotations.title``, else ``name`` (the spec's display order)."""
        if self.title:
            return self.title
        if self.annotations is not None and self.annotations.title:
            return self.annotations.title
        return self.name


# --------------------------------------------------------------------------- resource contents


@dataclass(frozen=True, slots=True)
class TextResourceContents:
    """Text contents of a resource: ``{uri, mimeType?, text}``."""

    uri: str
    text: str
    mime_type: str | None = None
    meta: dict[str, Any] | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Decode a wire ``TextResourceContents`` object."""
        m = "TextResourceContents"
        d = _obj(data, m)
        return cls(
            uri=_req_str(d, "uri", m),
            text=_req_str(d, "text", m),
            mime_type=_opt_str(d, "mimeType", m),
            meta=_meta(d, m),
            raw=d,
        )


@dataclass(frozen=True, slots=True)
class BlobResourceContents:
    """Binary contents of a resource: ``{uri, mimeType?, blob}`` with ``blob`` in base64."""

    uri: str
    blob: str
    mime_type: str | None = None
    meta: dict[str, Any] | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Decode a wire ``BlobResourceContents`` object."""
        m = "BlobResourceContents"
        d = _obj(data, m)
        return cls(
            uri=_req_str(d, "uri", m),
            blob=_req_str(d, "blob", m),
            mime_type=_opt_str(d, "mimeType", m),
            meta=_meta(d, m),
            raw=d,
        )

    def decoded(self) -> bytes:
        """The base64-decoded ``blob``; raises ``UnexpectedResponseError`` if it is not base64."""
        return _b64decode(self.blob, "BlobResourceContents", "blob")


ResourceContents: TypeAlias = TextResourceContents | BlobResourceContents


def parse_resource_contents(data: Mapping[str, Any]) -> ResourceContents:
    """Decode resource contents, choosing text or blob by which of the two fields is present."""
    d = _obj(data, "ResourceContents")
    if "text" in d:
        return TextResourceContents.from_dict(d)
    if "blob" in d:
        return BlobResourceContents.from_dict(d)
    raise UnexpectedResponseError("ResourceContents: missing required field 'text' or 'blob'")


# --------------------------------------------------------------------------- content blocks


@dataclass(frozen=True, slots=True)
class TextContent:
    """A text content block: ``{"type": "text", "text": ...}``."""

    type: ClassVar[Literal["text"]] = "text"
    text: str
    annotations: Annotations | None = None
    meta: dict[str, Any] | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Decode a wire ``text`` block."""
        d = _obj(data, "TextContent")
        return cls(
            text=_req_str(d, "text", "TextContent"),
            annotations=_annotations(d, "TextContent"),
            meta=_meta(d, "TextContent"),
            raw=d,
        )


@dataclass(frozen=True, slots=True)
class ImageContent:
    """An image content block: base64 ``data`` plus ``mime_type``."""

    type: ClassVar[Literal["image"]] = "image"
    data: str
    mime_type: str
    annotations: Annotations | None = None
    meta: dict[str, Any] | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Decode a wire ``image`` block."""
        d = _obj(data, "ImageContent")
        return cls(
            data=_req_str(d, "data", "ImageContent"),
            mime_type=_req_str(d, "mimeType", "ImageContent"),
            annotations=_annotations(d, "ImageContent"),
            meta=_meta(d, "ImageContent"),
            raw=d,
        )

    def decoded(self) -> bytes:
        """The image bytes; raises ``UnexpectedResponseError`` if ``data`` is not base64."""
        return _b64decode(self.data, "ImageContent", "data")


@dataclass(frozen=True, slots=True)
class AudioContent:
    """An audio content block (2025-03-26+): base64 ``data`` plus ``mime_type``."""

    type: ClassVar[Literal["audio"]] = "audio"
    data: str
    mime_type: str
    annotations: Annotations | None = None
    meta: dict[str, Any] | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Decode a wire ``audio`` block."""
        d = _obj(data, "AudioContent")
        return cls(
            data=_req_str(d, "data", "AudioContent"),
            mime_type=_req_str(d, "mimeType", "AudioContent"),
            annotations=_annotations(d, "AudioContent"),
            meta=_meta(d, "AudioContent"),
            raw=d,
        )

    def decoded(self) -> bytes:
        """The audio bytes; raises ``UnexpectedResponseError`` if ``data`` is not base64."""
        return _b64decode(self.data, "AudioContent", "data")


@dataclass(frozen=True, slots=True)
class ResourceLink:
    """A link to a resource (2025-06-18+); it need not appear in ``resources/list``."""

    type: ClassVar[Literal["resource_link"]] = "resource_link"
    uri: str
    name: str
    title: str | None = None
    description: str | None = None
    mime_type: str | None = None
    size: int | None = None
    annotations: Annotations | None = None
    icons: tuple[Icon, ...] = ()
    meta: dict[str, Any] | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Decode a wire ``resource_link`` block."""
        m = "ResourceLink"
        d = _obj(data, m)
        return cls(
            uri=_req_str(d, "uri", m),
            name=_req_str(d, "name", m),
            title=_opt_str(d, "title", m),
            description=_opt_str(d, "description", m),
            mime_type=_opt_str(d, "mimeType", m),
            size=_opt_int(d, "size", m),
            annotations=_annotations(d, m),
            icons=_icons(d, m),
            meta=_meta(d, m),
            raw=d,
        )


@dataclass(frozen=True, slots=True)
class EmbeddedResource:
    """A resource embedded in a content block: ``{"type": "resource", "resource": {...}}``."""

    type: ClassVar[Literal["resource"]] = "resource"
    resource: ResourceContents
    annotations: Annotations | None = None
    meta: dict[str, Any] | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Decode a wire ``resource`` block."""
        m = "EmbeddedResource"
        d = _obj(data, m)
        return cls(
            resource=_sub(d, "resource", m, parse_resource_contents),
            annotations=_annotations(d, m),
            meta=_meta(d, m),
            raw=d,
        )


@dataclass(frozen=True, slots=True)
class UnknownContent:
    """A content block of a type this client does not know (e.g. from a newer revision)."""

    type: str
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


def _text_block(
    text: str,
    raw: dict[str, Any],
    _new: Callable[[type[TextContent]], TextContent] = object.__new__,
    _set: tuple[Any, ...] = (TextContent.__dict__["text"].__set__,
                             TextContent.__dict__["annotations"].__set__,
                             TextContent.__dict__["meta"].__set__,
                             TextContent.__dict__["raw"].__set__),
) -> TextContent:
    # A plain text block, built by filling its slots directly: a frozen dataclass's
    # __init__ pays an object.__setattr__ per field, twice this on the hot path.
    block = _new(TextContent)
    _set[0](block, text)
    _set[1](block, None)
    _set[2](block, None)
    _set[3](block, raw)
    return block


ContentBlock: TypeAlias = (
    TextContent | ImageContent | AudioContent | ResourceLink | EmbeddedResource | UnknownContent
)

_CONTENT_PARSERS: dict[str, Callable[[dict[str, Any]], ContentBlock]] = {
    "text": TextContent.from_dict,
    "image": ImageContent.from_dict,
    "audio": AudioContent.from_dict,
    "resource_link": ResourceLink.from_dict,
    "resource": EmbeddedResource.from_dict,
}


def parse_content(block: Mapping[str, Any]) -> ContentBlock:
    """Decode one content block by its ``type``; unknown types give :class:`UnknownContent`."""
    if type(block) is dict and len(block) == 2 and block.get("type") == "text":
        text = block.get("text")
        if type(text) is str:  # the common plain text block, without the general checks
            return _text_block(text, block)
    d = _obj(block, "ContentBlock")
    kind = _req_str(d, "type", "ContentBlock")
    parser = _CONTENT_PARSERS.get(kind)
    if parser is None:
        return UnknownContent(type=kind, raw=d)
    return parser(d)


_PLAIN_RESULT_KEYS = frozenset({"content", "structuredContent", "isError", "resultType",
                                "_meta"})


@dataclass(frozen=True, slots=True)
class CallToolResult:
    """The result of ``tools/call``. ``is_error`` means the *tool* failed (not the protocol)."""

    content: tuple[ContentBlock, ...]
    structured_content: Any | None = None
    is_error: bool = False
    meta: dict[str, Any] | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Decode a wire ``CallToolResult``."""
        if type(data) is dict and data.keys() <= _PLAIN_RESULT_KEYS:
            content = data.get("content")
            is_error = data.get("isError", False)
            meta = data.get("_meta")
            if type(content) is list and type(is_error) is bool and (
                meta is None or type(meta) is dict
            ):  # the common shape
                try:
                    blocks = tuple(map(parse_content, content))
                except UnexpectedResponseError:
                    pass  # decoded again below, to name the bad block
                else:
                    if cls is CallToolResult:
                        return _tool_result(  # type: ignore[return-value]
                            blocks, data.get("structuredContent"), is_error, meta, data
                        )
                    return cls(blocks, data.get("structuredContent"), is_error, meta, data)
        m = "CallToolResult"
        d = _obj(data, m)
        return cls(
            content=_list_of(d, "content", m, parse_content, required=True),
            structured_content=d.get("structuredContent"),
            is_error=_opt_bool(d, "isError", m) or False,
            meta=_meta(d, m),
            raw=d,
        )

    @property
    def text(self) -> str:
        """All text blocks of ``content`` joined with newlines (``""`` if there are none)."""
        return "\n".join(b.text for b in self.content if isinstance(b, TextContent))


def _tool_result(
    content: tuple[ContentBlock, ...],
    structured_content: Any,
    is_error: bool,
    meta: dict[str, Any] | None,
    raw: dict[str, Any],
    _new: Callable[[type[CallToolResult]], CallToolResult] = object.__new__,
    _set: tuple[Any, ...] = (CallToolResult.__dict__["content"].__set__,
                             CallToolResult.__dict__["structured_content"].__set__,
                             CallToolResult.__dict__["is_error"].__set__,
                             CallToolResult.__dict__["meta"].__set__,
                             CallToolResult.__dict__["raw"].__set__),
) -> CallToolResult:
    # As _text_block: the common result, its slots filled directly.
    result = _new(CallToolResult)
    _set[0](result, content)
    _set[1](result, structured_content)
    _set[2](result, is_error)
    _set[3](result, meta)
    _set[4](result, raw)
    return result


# --------------------------------------------------------------------------- resources


@dataclass(frozen=True, slots=True)
class Resource:
    """A resource from ``resources/list``."""

    uri: str
    name: str
    title: str | None = None
    description: str | None = None
    mime_type: str | None = None
    size: int | None = None
    annotations: Annotations | None = None
    icons: tuple[Icon, ...] = ()
    meta: dict[str, Any] | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Decode a wire ``Resource`` object."""
        d = _obj(data, "Resource")
        return cls(
            uri=_req_str(d, "uri", "Resource"),
            name=_req_str(d, "name", "Resource"),
            title=_opt_str(d, "title", "Resource"),
            description=_opt_str(d, "description", "Resource"),
            mime_type=_opt_str(d, "mimeType", "Resource"),
            size=_opt_int(d, "size", "Resource"),
            annotations=_annotations(d, "Resource"),
            icons=_icons(d, "Resource"),
            meta=_meta(d, "Resource"),
            raw=d,
        )


@dataclass(frozen=True, slots=True)
class ResourceTemplate:
    """A parameterised resource from ``resources/templates/list`` (RFC 6570 ``uri_template``)."""

    uri_template: str
    name: str
    title: str | None = None
    description: str | None = None
    mime_type: str | None = None
    annotations: Annotations | None = None
    icons: tuple[Icon, ...] = ()
    meta: dict[str, Any] | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Decode a wire ``ResourceTemplate`` object."""
        m = "ResourceTemplate"
        d = _obj(data, m)
        return cls(
            uri_template=_req_str(d, "uriTemplate", m),
            name=_req_str(d, "name", m),
            title=_opt_str(d, "title", m),
            description=_opt_str(d, "description", m),
            mime_type=_opt_str(d, "mimeType", m),
            annotations=_annotations(d, m),
            icons=_icons(d, m),
            meta=_meta(d, m),
            raw=d,
        )


@dataclass(frozen=True, slots=True)
class ReadResourceResult:
    """The result of ``resources/read``."""

    contents: tuple[ResourceContents, ...]
    meta: dict[str, Any] | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Decode a wire ``ReadResourceResult``."""
        m = "ReadResourceResult"
        d = _obj(data, m)
        return cls(
            contents=_list_of(d, "contents", m, parse_resource_contents, required=True),
            meta=_meta(d, m),
            raw=d,
        )


# --------------------------------------------------------------------------- prompts


@dataclass(frozen=True, slots=True)
class PromptArgument:
    """An argument a prompt accepts."""

    name: str
    title: str | None = None
    description: str | None = None
    required: bool = False
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Decode a wire ``PromptArgument`` object."""
        m = "PromptArgument"
        d = _obj(data, m)
        return cls(
            name=_req_str(d, "name", m),
            title=_opt_str(d, "title", m),
            description=_opt_str(d, "description", m),
            required=_opt_bool(d, "required", m) or False,
            raw=d,
        )


@dataclass(frozen=True, slots=True)
class Prompt:
    """A prompt template from ``prompts/list``."""

    name: str
    title: str | None = None
    description: str | None = None
    arguments: tuple[PromptArgument, ...] = ()
    icons: tuple[Icon, ...] = ()
    meta: dict[str, Any] | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Decode a wire ``Prompt`` object."""
        d = _obj(data, "Prompt")
        return cls(
            name=_req_str(d, "name", "Prompt"),
            title=_opt_str(d, "title", "Prompt"),
            description=_opt_str(d, "description", "Prompt"),
            arguments=_list_of(d, "arguments", "Prompt", PromptArgument.from_dict),
            icons=_icons(d, "Prompt"),
            meta=_meta(d, "Prompt"),
            raw=d,
        )


@dataclass(frozen=True, slots=True)
class PromptMessage:
    """One message of a rendered prompt: ``role`` (``"user"``/``"assistant"``) and a block."""

    role: str
    content: ContentBlock
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Decode a wire ``PromptMessage`` object."""
        d = _obj(data, "PromptMessage")
        return cls(
            role=_req_str(d, "role", "PromptMessage"),
            content=_sub(d, "content", "PromptMessage", parse_content),
            raw=d,
        )


@dataclass(frozen=True, slots=True)
class GetPromptResult:
    """The result of ``prompts/get``."""

    messages: tuple[PromptMessage, ...]
    description: str | None = None
    meta: dict[str, Any] | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Decode a wire ``GetPromptResult``."""
        m = "GetPromptResult"
        d = _obj(data, m)
        return cls(
            messages=_list_of(d, "messages", m, PromptMessage.from_dict, required=True),
            description=_opt_str(d, "description", m),
            meta=_meta(d, m),
            raw=d,
        )


# --------------------------------------------------------------------------- completion


@dataclass(frozen=True, slots=True)
class Completion:
    """Suggestions from ``completion/complete`` (the result's ``completion`` object)."""

    values: tuple[str, ...]
    total: int | None = None
    has_more: bool | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Decode the ``completion`` object itself."""
        d = _obj(data, "Completion")
        return cls(
            values=_str_tuple(d, "values", "Completion", required=True),
            total=_opt_int(d, "total", "Completion"),
            has_more=_opt_bool(d, "hasMore", "Completion"),
            raw=d,
        )

    @classmethod
    def from_result(cls, data: Mapping[str, Any]) -> Self:
        """Decode a whole ``CompleteResult`` (``{"completion": {...}}``)."""
        d = _obj(data, "CompleteResult")
        return _sub(d, "completion", "CompleteResult", cls.from_dict)


# --------------------------------------------------------------------------- pages


@dataclass(frozen=True, slots=True)
class ListToolsPage:
    """One page of ``tools/list``; ``next_cursor`` is ``None`` on the last page."""

    tools: tuple[Tool, ...]
    next_cursor: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Decode a wire ``ListToolsResult``."""
        d = _obj(data, "ListToolsPage")
        return cls(
            tools=_list_of(d, "tools", "ListToolsPage", Tool.from_dict, required=True),
            next_cursor=_cursor(d, "ListToolsPage"),
            raw=d,
        )


@dataclass(frozen=True, slots=True)
class ListResourcesPage:
    """One page of ``resources/list``; ``next_cursor`` is ``None`` on the last page."""

    resources: tuple[Resource, ...]
    next_cursor: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Decode a wire ``ListResourcesResult``."""
        m = "ListResourcesPage"
        d = _obj(data, m)
        return cls(
            resources=_list_of(d, "resources", m, Resource.from_dict, required=True),
            next_cursor=_cursor(d, m),
            raw=d,
        )


@dataclass(frozen=True, slots=True)
class ListResourceTemplatesPage:
    """One page of ``resources/templates/list``; ``next_cursor`` is ``None`` on the last page."""

    resource_templates: tuple[ResourceTemplate, ...]
    next_cursor: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Decode a wire ``ListResourceTemplatesResult``."""
        m = "ListResourceTemplatesPage"
        d = _obj(data, m)
        return cls(
            resource_templates=_list_of(
                d, "resourceTemplates", m, ResourceTemplate.from_dict, required=True
            ),
            next_cursor=_cursor(d, m),
            raw=d,
        )


@dataclass(frozen=True, slots=True)
class ListPromptsPage:
    """One page of ``prompts/list``; ``next_cursor`` is ``None`` on the last page."""

    prompts: tuple[Prompt, ...]
    next_cursor: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Decode a wire ``ListPromptsResult``."""
        m = "ListPromptsPage"
        d = _obj(data, m)
        return cls(
            prompts=_list_of(d, "prompts", m, Prompt.from_dict, required=True),
            next_cursor=_cursor(d, m),
            raw=d,
        )


# --------------------------------------------------------------------------- notifications


@dataclass(frozen=True, slots=True)
class LoggingMessage:
    """``notifications/message`` params: ``level``, optional ``logger``, any JSON ``data``."""

    level: str
    data: Any
    logger: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Decode the notification's ``params``."""
        d = _obj(data, "LoggingMessage")
        if "data" not in d:
            raise _missing("LoggingMessage", "data")
        return cls(
            level=_req_str(d, "level", "LoggingMessage"),
            data=d["data"],
            logger=_opt_str(d, "logger", "LoggingMessage"),
            raw=d,
        )


@dataclass(frozen=True, slots=True)
class ProgressNotification:
    """``notifications/progress`` params. ``progress_token`` is the request's token."""

    progress_token: str | int
    progress: float
    total: float | None = None
    message: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Decode the notification's ``params``."""
        m = "ProgressNotification"
        d = _obj(data, m)
        token = d.get("progressToken", _MISSING)
        if not isinstance(token, (str, int)) or isinstance(token, bool):
            if token is _MISSING:
                raise _missing(m, "progressToken")
            raise _wrong(m, "progressToken", "a string or integer", token)
        return cls(
            progress_token=token,
            progress=_number(d.get("progress", _MISSING), "progress", m),
            total=_opt_number(d, "total", m),
            message=_opt_str(d, "message", m),
            raw=d,
        )


# --------------------------------------------------------------------------- roots


@dataclass(frozen=True, slots=True)
class Root:
    """A root the client exposes to the server (answer to ``roots/list``); ``uri`` is ``file://``."""

    uri: str
    name: str | None = None
    meta: dict[str, Any] | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Decode a wire ``Root`` object."""
        d = _obj(data, "Root")
        return cls(
            uri=_req_str(d, "uri", "Root"),
            name=_opt_str(d, "name", "Root"),
            meta=_meta(d, "Root"),
            raw=d,
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the wire form; unset optional fields are omitted."""
        out: dict[str, Any] = {"uri": self.uri}
        if self.name is not None:
            out["name"] = self.name
        if self.meta is not None:
            out["_meta"] = self.meta
        return out
