"""One ``tools/call`` after its arguments are checked: as a task when the tool requires
it, with the tool's ``Mcp-Param-*`` headers, an unknown tool named as such, and the
result decoded (and validated against the tool's ``outputSchema`` when asked)."""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from typing import Any

from .._config import Timeout
from .._exceptions import ConfigError, HeaderMismatchError, JSONRPCError, ToolError
from ..features import tasks as _tasks
from ..protocol.models import CallToolResult, InputRequiredResult
from ..session.dispatch import ProgressCallback
from ..session.engine import SessionEngine
from ..transports.options import RequestOptions
from .arguments import add_input
from .catalogue import FetchTools, ToolCatalogue

__all__ = ["run_tool_call", "tool_params"]

#: The JSON-RPC code with which servers such as ``mcp-async serve`` refuse an unknown tool.
_INVALID_PARAMS = -32602


def tool_params(
    name: str,
    arguments: Mapping[str, Any] | None,
    meta: Mapping[str, Any] | None,
    input_responses: Mapping[str, Any] | None,
    request_state: str | None,
) -> dict[str, Any]:
    """The params of calling tool ``name`` (``ConfigError`` for a wrong argument)."""
    if not isinstance(name, str) or not name:
        raise ConfigError("tool name must be a non-empty string")
    params: dict[str, Any] = {"name": name}
    if arguments is not None:
        # (A dict is the common case; the ABC check is ten times slower.)
        if type(arguments) is not dict and not isinstance(arguments, Mapping):
            raise ConfigError(f"arguments must be a mapping, got {type(arguments).__name__}")
        params["arguments"] = dict(arguments)
    if meta is not None:
        params["_meta"] = dict(meta)
    if input_responses is not None or request_state is not None:
        add_input(params, input_responses, request_state)
    return params


async def run_tool_call(
    engine: SessionEngine,
    catalogue: ToolCatalogue,
    list_tools: FetchTools,
    refresh_tools: FetchTools,
    name: str,
    params: dict[str, Any],
    *,
    timeout: Timeout | None,
    headers: Mapping[str, str] | None,
    progress: ProgressCallback | None,
    idempotent: bool,
    reset_timeout_on_progress: bool,
    max_total_timeout: float | None,
    options: RequestOptions,
    allow_input_required: bool,
    raise_on_error: bool,
    validate: bool,
) -> CallToolResult | InputRequiredResult:
    """Call tool ``name`` on ``engine`` (connected) and decode its result, as
    :meth:`AsyncMCPClient.call_tool` describes. ``list_tools`` fills ``catalogue``,
    ``refresh_tools`` fills it bypassing the response cache."""
    # execution.taskSupport "required": run as a task (see mcp_async.features.tasks)
    task = bool(not allow_input_required and _tasks.may_require(engine)
                and await _tasks.required(engine, name))
    if catalogue.has_header_maps:
        headers = await catalogue.param_headers(engine, name, params, headers)
    try:
        raw = await _send(
            engine, params, timeout, headers, progress, idempotent,
            reset_timeout_on_progress, max_total_timeout, options, task,
        )
    except HeaderMismatchError:
        if engine.revision is None or engine.revision.wire.routing_headers is None:
            raise
        # The server's tool definitions changed: learn them again, send once more.
        await refresh_tools()
        headers = await catalogue.param_headers(engine, name, params, headers, fresh=True)
        raw = await _send(
            engine, params, timeout, headers, progress, idempotent,
            reset_timeout_on_progress, max_total_timeout, options, task,
        )
    except JSONRPCError as exc:
        if exc.code != _INVALID_PARAMS or type(exc) is not JSONRPCError:
            raise
        unknown = await catalogue.unknown_tool(name, exc, list_tools)
        if unknown is None:
            raise
        raise unknown from exc
    kind = raw.get("resultType")
    if kind is not None:
        if allow_input_required and kind == "input_required":
            return InputRequiredResult.from_dict(raw)
        if (kind == _tasks.TASK_RESULT_TYPE and engine.revision is not None
                and engine.revision.tasks_by_result):
            raw = await _tasks.follow(  # the server chose to run it as a task (2026)
                engine, raw, name, timeout=timeout, max_total_timeout=max_total_timeout,
            )
    result = CallToolResult.from_dict(raw)
    if result.is_error:
        if raise_on_error:
            raise ToolError(name, result)
        return result
    if validate:
        await catalogue.validate(name, result, list_tools)
    return result


def _send(
    engine: SessionEngine,
    params: dict[str, Any],
    timeout: Timeout | None,
    headers: Mapping[str, str] | None,
    progress: ProgressCallback | None,
    idempotent: bool,
    reset_timeout_on_progress: bool,
    max_total_timeout: float | None,
    options: RequestOptions,
    task: bool,
) -> Awaitable[dict[str, Any]]:
    if task:  # create, poll, return the final result
        return _tasks.run(
            engine, params, timeout=timeout, max_total_timeout=max_total_timeout,
            headers=headers, progress=progress,
        )
    return engine.request(
        "tools/call", params, timeout=timeout, headers=headers, progress=progress,
        idempotent=idempotent, reset_timeout_on_progress=reset_timeout_on_progress,
        max_total_timeout=max_total_timeout, options=options,
    )
