"""Many tool calls across a group at once: bounded overall and per server, in input
order (:meth:`~mcp_async.MCPClientGroup.call_tools`) or as they finish
(:meth:`~mcp_async.MCPClientGroup.stream_calls`)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable
from typing import TYPE_CHECKING

from .._config import TimeoutLike
from .._exceptions import ConfigError
from ..client.async_client import AsyncMCPClient
from ..features.batch import (
    BatchResult,
    CallLike,
    OutcomeStream,
    ProgressOption,
    ToolCall,
    gather_bounded,
    stream_bounded,
)
from ..protocol.models import CallToolResult
from .routing import GroupRouting

if TYPE_CHECKING:
    from ..policies.retry import RetryPolicy

__all__ = ["GroupFanOut"]


class GroupFanOut(GroupRouting):
    """A group's :meth:`call_tools`, :meth:`stream_calls` and their building block
    :meth:`bounded_caller`."""

    def bounded_caller(
        self,
        *,
        per_server: int | None = 4,
        timeout: TimeoutLike = None,
        raise_on_error: bool = False,
        idempotent: bool = False,
        retry: RetryPolicy | bool | None = None,
    ) -> Callable[[CallLike], Awaitable[CallToolResult]]:
        """``call(item)``: route one batch item and call it, at most ``per_server`` at once
        per server (across every use of this caller). The building block of
        :meth:`call_tools`, for use with :func:`~mcp_async.gather_bounded` or
        :func:`~mcp_async.stream_bounded` over items of your own."""
        bound = _check_per_server(per_server)
        semaphores: dict[str, asyncio.Semaphore] = {}

        async def call(item: CallLike) -> CallToolResult:
            tool_call = ToolCall.coerce(item)
            routes = self._routes
            found = routes.get(tool_call.name) if routes is not None else None
            server, tool = found if found is not None else await self._resolve(tool_call.name)
            if bound is None:
                return await self._routed(server, lambda client: send(client, tool, tool_call))
            semaphore = semaphores.get(server)
            if semaphore is None:
                semaphore = semaphores[server] = asyncio.Semaphore(bound)
            await semaphore.acquire()  # not ``async with``: one coroutine less per call
            try:
                return await self._routed(server, lambda client: send(client, tool, tool_call))
            finally:
                semaphore.release()

        def send(client: AsyncMCPClient, tool: str, call: ToolCall) -> Awaitable[CallToolResult]:
            return client.call_tool(
                tool, call.arguments,
                timeout=call.timeout if call.timeout is not None else timeout,
                meta=call.meta,
                raise_on_error=raise_on_error,
                idempotent=call.idempotent if call.idempotent is not None else idempotent,
                retry=retry,
            )

        return call

    async def call_tools(
        self,
        calls: Iterable[CallLike] | AsyncIterable[CallLike],
        *,
        concurrency: int = 16,
        per_server: int | None = 4,
        fail_fast: bool = False,
        progress: ProgressOption = None,
        timeout: TimeoutLike = None,
        raise_on_error: bool = False,
        idempotent: bool = False,
        retry: RetryPolicy | bool | None = None,
    ) -> BatchResult[CallToolResult]:
        """Call many tools across the group: one :class:`~mcp_async.Outcome` per call, in
        input order, with at most ``concurrency`` calls in flight and at most
        ``per_server`` on any one server (``None``: no per-server bound).

        ``calls`` are ``(group_name, arguments)`` tuples, :class:`~mcp_async.ToolCall`
        objects or names. An unknown name is that item's :class:`UnknownToolError`.
        The other options are those of :meth:`AsyncMCPClient.call_tools`.
        """
        self._require_open()
        caller = self.bounded_caller(
            per_server=per_server, timeout=timeout, raise_on_error=raise_on_error,
            idempotent=idempotent, retry=retry,
        )
        return await gather_bounded(
            calls, caller, concurrency=concurrency, fail_fast=fail_fast, progress=progress
        )

    def stream_calls(
        self,
        calls: Iterable[CallLike] | AsyncIterable[CallLike],
        *,
        concurrency: int = 16,
        per_server: int | None = 4,
        fail_fast: bool = False,
        progress: ProgressOption = None,
        timeout: TimeoutLike = None,
        raise_on_error: bool = False,
        idempotent: bool = False,
        retry: RetryPolicy | bool | None = None,
    ) -> OutcomeStream[CallToolResult]:
        """Like :meth:`call_tools`, but ``async for index, outcome in ...`` as calls
        finish; the input is read lazily and memory stays O(``concurrency``)."""
        self._require_open()
        caller = self.bounded_caller(
            per_server=per_server, timeout=timeout, raise_on_error=raise_on_error,
            idempotent=idempotent, retry=retry,
        )
        return stream_bounded(
            calls, caller, concurrency=concurrency, fail_fast=fail_fast, progress=progress
        )


def _check_per_server(per_server: object) -> int | None:
    if per_server is None:
        return None
    if isinstance(per_server, bool) or not isinstance(per_server, int) or per_server < 1:
        raise ConfigError(f"per_server must be an integer >= 1 or None, got {per_server!r}")
    return per_server
