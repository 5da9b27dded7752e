"""Tools: what ``tools/list`` lists and what ``tools/call`` returns."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Self

from mcp_async._exceptions import UnexpectedResponseError

from .content import ContentBlock, TextContent, parse_content
from .decoding import (
    cursor,
    list_of,
    obj,
    opt_bool,
    opt_dict,
    opt_meta,
    opt_str,
    opt_sub,
    req_dict,
    req_str,
)
from .display import Icon, _icons

__all__ = [
    "CallToolResult",
    "ListToolsPage",
    "Tool",
    "ToolAnnotations",
]


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
        d = obj(data, m)
        return cls(
            title=opt_str(d, "title", m),
            read_only_hint=opt_bool(d, "readOnlyHint", m),
            destructive_hint=opt_bool(d, "destructiveHint", m),
            idempotent_hint=opt_bool(d, "idempotentHint", m),
            open_world_hint=opt_bool(d, "openWorldHint", m),
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
        d = obj(data, "Tool")
        return cls(
            name=req_str(d, "name", "Tool"),
            input_schema=req_dict(d, "inputSchema", "Tool"),
            description=opt_str(d, "description", "Tool"),
            output_schema=opt_dict(d, "outputSchema", "Tool"),
            title=opt_str(d, "title", "Tool"),
            annotations=opt_sub(d, "annotations", "Tool", ToolAnnotations.from_dict),
            icons=_icons(d, "Tool"),
            execution=opt_dict(d, "execution", "Tool"),
            meta=opt_meta(d, "Tool"),
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
        d = obj(data, m)
        return cls(
            content=list_of(d, "content", m, parse_content, required=True),
            structured_content=d.get("structuredContent"),
            is_error=opt_bool(d, "isError", m) or False,
            meta=opt_meta(d, m),
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


@dataclass(frozen=True, slots=True)
class ListToolsPage:
    """One page of ``tools/list``; ``next_cursor`` is ``None`` on the last page."""

    tools: tuple[Tool, ...]
    next_cursor: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Decode a wire ``ListToolsResult``."""
        d = obj(data, "ListToolsPage")
        return cls(
            tools=list_of(d, "tools", "ListToolsPage", Tool.from_dict, required=True),
            next_cursor=cursor(d, "ListToolsPage"),
            raw=d,
        )
