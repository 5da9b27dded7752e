"""The client's tool catalogue: the server's tools, fetched once for every caller and
dropped on ``tools/list_changed``, with what is derived from them (output-schema
validators, ``x-mcp-header`` annotations)."""

from __future__ import annotations

import asyncio
import difflib
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from .._exceptions import (
    ConfigError,
    JSONRPCError,
    MCPClientError,
    OutputValidationError,
    UnknownToolError,
)
from ..protocol import modern
from ..protocol.models import CallToolResult, ListToolsPage, Tool
from ..session.engine import SessionEngine

__all__ = ["ToolCatalogue"]

logger = logging.getLogger("mcp_async")

#: Fetches the whole tool list (``client.list_tools``), which calls :meth:`remember`.
FetchTools = Callable[[], Awaitable[object]]


class ToolCatalogue:
    """The tools one client knows, shared by all its tasks."""

    __slots__ = ("_header_maps", "_task", "_validators", "tools")

    def __init__(self) -> None:
        #: The known tools by name; ``None`` until a list is fetched or after it changed.
        self.tools: dict[str, Tool] | None = None
        self._task: asyncio.Task[dict[str, Tool]] | None = None
        self._validators: dict[str, Any] = {}
        #: Per tool: its ``x-mcp-header`` annotations (2026-07-28 over HTTP).
        self._header_maps: dict[str, dict[tuple[str, ...], str]] = {}

    @property
    def has_header_maps(self) -> bool:
        """Whether any known tool has ``x-mcp-header`` annotations."""
        return bool(self._header_maps)

    def page(self, engine: SessionEngine, raw: Mapping[str, Any]) -> ListToolsPage:
        """One ``tools/list`` page; over HTTP, without the tools whose ``x-mcp-header``
        annotations the revision in use refuses (logged)."""
        revision = engine.revision
        if revision is None or not engine.transport.capabilities.http_headers:
            return ListToolsPage.from_dict(raw)
        tools = raw.get("tools")
        if isinstance(tools, list):
            kept = []
            for tool in tools:
                schema = tool.get("inputSchema") if isinstance(tool, Mapping) else None
                problem = revision.tool_problem(schema)
                if problem is None:
                    kept.append(tool)
                else:
                    name = tool.get("name") if isinstance(tool, Mapping) else None
                    logger.warning("leaving out tool %r: invalid x-mcp-header (%s)",
                                   name, problem)
            if len(kept) != len(tools):
                raw = {**raw, "tools": kept}
        return ListToolsPage.from_dict(raw)

    def remember(self, tools: Sequence[Tool], *, replace: bool) -> None:
        """Learn ``tools`` (``replace``: they are the whole list)."""
        if replace or self.tools is None:
            self.tools = {}
            self._validators.clear()
            self._header_maps.clear()
        for tool in tools:
            self.tools[tool.name] = tool
            self._validators.pop(tool.name, None)
            annotations = modern.header_annotations(tool.input_schema)
            if annotations:
                self._header_maps[tool.name] = annotations
            else:
                self._header_maps.pop(tool.name, None)

    async def forget(self, params: dict[str, Any]) -> None:
        """The ``notifications/tools/list_changed`` handler: the list is stale."""
        self.tools = None
        self._validators.clear()

    async def tool(self, name: str, fetch: FetchTools) -> Tool | None:
        """The tool's definition, the list fetched once for all callers when needed."""
        if self.tools is not None and name in self.tools:
            return self.tools[name]
        task = self._task
        if task is None or task.done():
            task = self._task = asyncio.ensure_future(self._fetch(fetch))
        tools = await asyncio.shield(task)
        return tools.get(name)

    async def _fetch(self, fetch: FetchTools) -> dict[str, Tool]:
        await fetch()
        return dict(self.tools or {})

    def closing(self) -> None:
        """The client closes: leave a running fetch to fail with the session."""
        task = self._task
        if task is not None and not task.done():
            # Not cancelled: the calls awaiting it would get CancelledError. Its
            # request fails with ClientStateError as the session closes, and so do they.
            task.add_done_callback(lambda done: done.cancelled() or done.exception())

    async def unknown_tool(
        self, name: str, error: JSONRPCError, fetch: FetchTools
    ) -> UnknownToolError | None:
        """An :class:`UnknownToolError` for a ``-32602`` answer to calling ``name`` when
        the tool list agrees there is no such tool (the known list, else one fetched);
        ``None`` when the list has it (then the arguments were refused) or cannot be had."""
        tools = self.tools
        if tools is None:
            try:
                known = await self.tool(name, fetch) is not None
            except MCPClientError:
                return None
            tools = self.tools or {}
        else:
            known = name in tools
        if known:
            return None
        close = difflib.get_close_matches(name, list(tools), n=3)
        hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
        return UnknownToolError(name, hint=hint, server_error=error)

    async def param_headers(
        self,
        engine: SessionEngine,
        name: str,
        params: Mapping[str, Any],
        headers: Mapping[str, str] | None,
        *,
        fresh: bool = False,
    ) -> Mapping[str, str] | None:
        """``headers`` plus the ``Mcp-Param-*`` headers of the tool's annotated
        arguments (2026-07-28 over HTTP only; ``fresh``: drop ones sent before)."""
        if not engine.connected:
            await engine.connect()
        revision = engine.revision
        if revision is None or not engine.transport.capabilities.http_headers:
            return headers
        annotations = self._header_maps.get(name)
        added = revision.param_headers(annotations or {}, params.get("arguments"))
        if added is None:  # no such headers in this revision
            return headers
        out = {k: v for k, v in (headers or {}).items()
               if not (fresh and k.startswith(modern.PARAM_HEADER_PREFIX))}
        out.update(added)
        return out

    async def validate(self, name: str, result: CallToolResult, fetch: FetchTools) -> None:
        """Check ``structuredContent`` against the tool's ``outputSchema``
        (:class:`~mcp_async.OutputValidationError`)."""
        tool = await self.tool(name, fetch)
        if tool is None or tool.output_schema is None:
            return
        if result.structured_content is None:
            raise OutputValidationError(name, "is missing although the tool has an outputSchema")
        validator = self._validators.get(name)
        if validator is None:
            validator = self._validators[name] = _compile_schema(tool.output_schema)
        errors = sorted(validator.iter_errors(result.structured_content), key=str)
        if errors:
            raise OutputValidationError(name, f"does not match outputSchema: {errors[0].message}")


def _compile_schema(schema: dict[str, Any]) -> Any:
    try:
        import jsonschema
    except ImportError as exc:
        raise ConfigError(
            "validate_output needs the 'jsonschema' package: pip install 'mcp-async[validation]'"
        ) from exc
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    return cls(schema)
