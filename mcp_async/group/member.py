"""One server of a group (:class:`GroupMember`: its current client, state, statistics and
tool list), and what the group asks of a member's client: build a new one, whether it can
restart in place, when its process exits, whether it is alive."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from .._exceptions import (
    ClientStateError,
    ConfigError,
    ConnectError,
    ConnectionLostError,
    EraError,
    ServerExitedError,
)
from ..client.async_client import AsyncMCPClient
from ..protocol.models import Tool
from .health import ServerState

__all__ = [
    "LOST_ERRORS",
    "ClientFactory",
    "GroupMember",
    "call_factory",
    "check_alive",
    "exit_error",
    "exit_watch",
    "restartable",
    "settle_attempt",
]

#: ``factory() -> AsyncMCPClient``: builds a new, unopened client for a server; the group
#: calls it again to reconnect a server whose client it had to close.
ClientFactory = Callable[[], AsyncMCPClient]

# Errors of a call that mean the server itself is gone (not a slow or refusing server).
LOST_ERRORS = (ServerExitedError, ConnectError, ConnectionLostError)


class GroupMember:
    """One server of a group: its current client, state, statistics and tool list.

    Shared by a group and its :meth:`~MCPClientGroup.subset` views, so that a view sees
    the client a reconnect put in place."""

    __slots__ = (
        "attempt", "calls", "client", "error", "factory", "failures", "generation",
        "name", "opened_at", "reconnects", "state", "tools", "tools_task",
    )

    def __init__(self, name: str, client: AsyncMCPClient, factory: ClientFactory | None):
        self.name = name
        self.client = client
        self.factory = factory
        self.state: ServerState = "connecting"
        self.error: BaseException | None = None
        self.opened_at: float | None = None
        self.calls = 0
        self.failures = 0
        self.reconnects = 0
        # Bumped whenever the server's tools may have changed (list_changed, failure,
        # recovery): a list fetched under an older generation is not kept.
        self.generation = 0
        self.tools: list[Tool] | None = None
        self.tools_task: asyncio.Task[list[Tool]] | None = None
        #: Set while a reconnect attempt runs in place (calls may wait for it).
        self.attempt: asyncio.Future[None] | None = None


def call_factory(name: str, factory: Callable[[], Any] | None) -> AsyncMCPClient:
    """A new, unopened client from a server's factory (checked: an open
    :class:`~mcp_async.AsyncMCPClient`)."""
    if factory is None:
        raise ClientStateError(f"server {name!r} has no client factory")
    client = factory()
    if not isinstance(client, AsyncMCPClient):
        raise ConfigError(
            f"server {name!r}: the client factory returned {type(client).__name__}, "
            "not an AsyncMCPClient"
        )
    if client.closed:
        raise ConfigError(f"server {name!r}: the client factory returned a closed client")
    return client


def restartable(client: AsyncMCPClient) -> bool:
    """Whether a reconnect can reuse ``client`` (open, and over HTTP or a stdio transport
    that starts its server again)."""
    from ..transports.stdio import StdioTransport

    if not client.is_open:
        return False
    transport = client.message_transport
    if transport is None:
        return True
    return isinstance(transport, StdioTransport) and transport.restart


def exit_watch(client: AsyncMCPClient) -> asyncio.Future[Any] | None:
    """For a stdio client: what ends when its transport has noticed the server's exit
    (the reader of the running process); ``None`` for other transports."""
    from ..transports.stdio import StdioTransport

    transport = client.message_transport
    if not isinstance(transport, StdioTransport):
        return None
    return transport.exit_watch()


def settle_attempt(server: GroupMember) -> None:
    """End the attempt calls may be waiting for (they then see the server's state)."""
    attempt, server.attempt = server.attempt, None
    if attempt is not None and not attempt.done():
        attempt.set_result(None)


def exit_error(client: AsyncMCPClient, name: str) -> BaseException:
    """The error a stdio client's transport saw when its server exited (or a plain
    :class:`~mcp_async.ServerExitedError`)."""
    from ..transports.stdio import StdioTransport

    transport = client.message_transport
    exited = transport.exit_error if isinstance(transport, StdioTransport) else None
    if exited is not None:
        return exited
    return ServerExitedError(f"MCP server {name!r} exited", exit_code=None)


async def check_alive(client: AsyncMCPClient) -> None:
    """Check that a reused client's server answers: ``ping``, or ``server/discover`` in
    the 2026-07-28 era (which has no ping)."""
    try:
        await client.ping()
    except EraError:
        await client.discover(cache="bypass")
