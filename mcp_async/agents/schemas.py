"""The tools of a client or group, for one model API, under names that API accepts.

::

    tools = await model_tools(client, "openai", mode="strict")
    response = await openai.chat.completions.create(..., tools=tools.request_tools)
    for change in tools.report.changes: ...   # every rewrite of a schema
    for skipped in tools.report.skipped: ...  # every tool left out, and why

Built on :func:`mcp_async.features.schemas.export_tools` (which does the per-API shapes and the
strict/portable rewriting); this adds the listing, the name mapping and the policy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._exceptions import ConfigError
from ..features.schema_conversion import SchemaChange, SchemaMode, SkippedTool
from ..features.schemas import export_tools
from ..protocol.models import Tool
from ._apis import Api, check_api, model_names

if TYPE_CHECKING:
    from ..client.async_client import AsyncMCPClient
    from ..group.client_group import MCPClientGroup
    from .policy import ToolPolicy

__all__ = [
    "ModelTool", "ModelTools", "SchemaReport", "build_model_tools", "list_target_tools",
    "model_tools",
]

@dataclass(frozen=True, slots=True)
class ModelTool:
    """One tool as offered to a model: ``model_name`` (what the model calls it),
    ``name`` (the client's or group's name, passed to ``call_tool``), ``server`` (the
    group member that has it; ``None`` for a single client) and its MCP ``tool``."""

    model_name: str
    name: str
    server: str | None
    tool: Tool


@dataclass(slots=True)
class SchemaReport:
    """Every change made to a schema, and every tool left out (never a silent drop)."""

    changes: list[SchemaChange] = field(default_factory=list)
    skipped: list[SkippedTool] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.changes or self.skipped)

    def __str__(self) -> str:
        lines = [f"changed {c}" for c in self.changes]
        lines += [f"skipped {s}" for s in self.skipped]
        return "\n".join(lines) or "no changes"


@dataclass(slots=True)
class ModelTools:
    """The tool list for one model API (see :func:`model_tools`).

    ``tools``: the tool definitions, one per entry of ``entries`` and in the same order;
    ``request_tools``: the value for the request's ``tools`` parameter (the same list,
    except Gemini's, which is wrapped as ``[{"functionDeclarations": tools}]``);
    ``entries``: :class:`ModelTool` by model-side name; ``report``: what was changed or
    left out.
    """

    api: Api
    mode: SchemaMode
    tools: list[dict[str, Any]]
    entries: dict[str, ModelTool]
    report: SchemaReport

    @property
    def request_tools(self) -> list[dict[str, Any]]:
        """The request's ``tools`` parameter for this API."""
        if self.api == "gemini":
            return [{"functionDeclarations": self.tools}] if self.tools else []
        return self.tools

    def lookup(self, model_name: str) -> ModelTool | None:
        """The tool the model means by ``model_name`` (``None``: not offered)."""
        return self.entries.get(model_name)


async def list_target_tools(target: Any) -> list[tuple[str, str | None, Tool]]:
    """``(name, server, tool)`` for every tool of a client (server ``None``) or a group."""
    from ..client.async_client import AsyncMCPClient
    from ..group.client_group import MCPClientGroup

    if isinstance(target, MCPClientGroup):
        return [(t.name, t.server, t.tool) for t in await target.list_tools()]
    if isinstance(target, AsyncMCPClient):
        return [(t.name, None, t) for t in await target.list_tools()]
    raise ConfigError(f"expected an AsyncMCPClient or an MCPClientGroup, "
                      f"got {type(target).__name__}")


def build_model_tools(
    listed: list[tuple[str, str | None, Tool]],
    api: str,
    *,
    mode: SchemaMode | None = None,
    policy: ToolPolicy | None = None,
) -> ModelTools:
    """:func:`model_tools` over an already-listed catalogue (no I/O)."""
    checked = check_api(api)
    chosen: SchemaMode = mode if mode is not None else (
        "portable" if checked == "gemini" else "as_is"
    )
    report = SchemaReport()
    offered: list[tuple[str, str | None, Tool]] = []
    for name, server, tool in listed:
        if policy is not None:
            allowed, reason = policy.permits(name, server, tool.name)
            if not allowed:
                report.skipped.append(SkippedTool(name, f"denied by the tool policy: {reason}"))
                continue
        offered.append((name, server, tool))
    names = model_names([name for name, _, _ in offered], checked)
    entries: dict[str, ModelTool] = {}
    for model_name, (name, server, tool) in zip(names, offered, strict=True):
        if model_name != name:
            report.changes.append(SchemaChange(
                name, "", f"renamed to {model_name!r} ({checked} tool-name rules)"
            ))
        entries[model_name] = ModelTool(model_name, name, server, tool)
    collected: list[Any] = []
    tools = export_tools(
        ((e.model_name, e.tool) for e in entries.values()), checked, mode=chosen,
        report=collected,
    )
    skipped = {s.tool for s in collected if isinstance(s, SkippedTool)}
    for item in collected:
        if isinstance(item, SkippedTool):
            report.skipped.append(SkippedTool(entries[item.tool].name, item.reason))
        else:
            report.changes.append(item)
    for model_name in skipped:
        del entries[model_name]
    return ModelTools(checked, chosen, tools, entries, report)


async def model_tools(
    target: AsyncMCPClient | MCPClientGroup,
    api: str,
    *,
    mode: SchemaMode | None = None,
    policy: ToolPolicy | None = None,
) -> ModelTools:
    """The tools of ``target`` (a client or a group) for ``api``.

    ``api``: ``"openai"``, ``"openai-responses"``, ``"anthropic"`` or ``"gemini"``.
    ``mode``: ``"as_is"``, ``"strict"`` or ``"portable"`` (default ``"as_is"``;
    ``"portable"`` for Gemini). Names the API does not accept are rewritten (see
    :func:`mcp_async.agents._apis.model_names`) and reported. Tools that ``policy``'s
    allow/deny lists refuse are left out and reported.
    """
    return build_model_tools(await list_target_tools(target), api, mode=mode, policy=policy)
