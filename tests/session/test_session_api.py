"""The public session API features are built on (mcp_async.session.api), on the in-memory
transport: what ``client.session`` offers, the same for the async and the blocking client,
and the capabilities each transport declares."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from mcp_async import (
    AsyncMCPClient,
    ClientStateError,
    ConfigError,
    MemoryTransport,
    StdioTransport,
    Timeout,
    TransportCapabilities,
)
from mcp_async.protocol.jsonrpc import Message, Request, Response
from mcp_async.session.api import Session
from mcp_async.session.dispatch import Dispatcher
from mcp_async.sync import MCPClient
from mcp_async.transports.http.legacy_sse import LegacySSETransport
from mcp_async.transports.http.streamable import StreamableHTTPTransport
from mcp_async.transports.memory import MemoryPeer, memory_pair

TOOLS = {"tools": [{"name": "echo", "inputSchema": {"type": "object"}}]}


class Server:
    """Answers initialize, tools/list and x/echo; holds x/hold until told."""

    def __init__(self, peer: MemoryPeer) -> None:
        self.peer = peer
        self.seen: list[Message] = []
        self.held: asyncio.Queue[Request] = asyncio.Queue()

    async def run(self) -> None:
        while True:
            message = await self.peer.receive()
            self.seen.append(message)
            if not isinstance(message, Request):
                continue
            if message.method == "initialize":
                await self.peer.send(Response(message.id, {
                    "protocolVersion": "2025-11-25", "capabilities": {"tools": {}},
                    "serverInfo": {"name": "memory", "version": "1"},
                }))
            elif message.method == "tools/list":
                await self.peer.send(Response(message.id, TOOLS))
            elif message.method == "x/hold":
                self.held.put_nowait(message)
            else:
                await self.peer.send(Response(message.id, {"echo": message.params}))


@contextlib.asynccontextmanager
async def served(transport: MemoryTransport, peer: MemoryPeer) -> AsyncIterator[Server]:
    server = Server(peer)
    runner = asyncio.ensure_future(server.run())
    try:
        yield server
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)


async def a_feature(session: Session) -> tuple[Any, ...]:
    """A feature of one's own, written against the session API only."""
    if not session.connected:
        await session.connect()
    echoed = await session.request("x/echo", {"a": 1}, idempotent=True)
    tool = await session.tool("echo")
    return (echoed, session.stateless_version, session.protocol_version,
            session.require_result().server_info.name, None if tool is None else tool.name)


async def test_a_feature_on_the_session_api() -> None:
    transport, peer = memory_pair()
    async with served(transport, peer), AsyncMCPClient(transport, protocol="legacy") as client:
        assert await a_feature(client.session) == (
            {"echo": {"a": 1}}, None, "2025-11-25", "memory", "echo",
        )
        assert await client.session.tool("missing") is None  # the catalogue, fetched once


async def test_the_session_is_there_only_while_the_client_is_open() -> None:
    transport, _ = memory_pair()
    client = AsyncMCPClient(transport, protocol="legacy")
    with pytest.raises(ClientStateError, match="not open"):
        client.session  # noqa: B018
    assert not client.is_open and client.message_transport is transport


async def test_a_router_is_made_once_per_session() -> None:
    made: list[Dispatcher] = []

    def make(dispatcher: Dispatcher) -> object:
        made.append(dispatcher)
        return object()

    transport, peer = memory_pair()
    async with served(transport, peer), AsyncMCPClient(transport, protocol="legacy") as client:
        session = client.session
        assert session.router(make) is session.router(make)
        assert made == [session.dispatcher]


async def test_default_timeout_follows_the_client() -> None:
    transport, peer = memory_pair()
    async with served(transport, peer), AsyncMCPClient(
        transport, protocol="legacy", timeout=7
    ) as client:
        assert client.session.default_timeout.total == 7
        client.timeout = Timeout(total=3)
        assert client.session.default_timeout.total == 3


async def test_finish_ends_a_waiting_request_with_a_result() -> None:
    transport, peer = memory_pair()
    async with served(transport, peer) as server, AsyncMCPClient(
        transport, protocol="legacy"
    ) as client:
        session = client.session
        waiting = asyncio.ensure_future(session.request("x/hold", None))
        held = await asyncio.wait_for(server.held.get(), 5)
        assert session.expects(held.id)
        assert session.finish(held.id, {"ended": True})
        assert await waiting == {"ended": True}
        assert not session.finish(held.id, {})  # nothing waits for it any more


def test_the_blocking_client_runs_a_session_feature() -> None:
    transport, peer = memory_pair()
    runners: list[asyncio.Task[None]] = []

    async def start_server() -> None:  # in the blocking client's loop thread
        runners.append(asyncio.ensure_future(Server(peer).run()))

    async def feature() -> tuple[Any, ...]:
        return await a_feature(client.aclient.session)

    async def stop_server() -> None:
        runners[0].cancel()

    with MCPClient(AsyncMCPClient(transport, protocol="legacy")) as client:
        assert client.is_open
        client.run(start_server())
        assert client.run(feature()) == (
            {"echo": {"a": 1}}, None, "2025-11-25", "memory", "echo",
        )
        client.run(stop_server())
    assert not client.is_open


def test_the_blocking_client_wraps_a_client_without_options() -> None:
    transport, _ = memory_pair()
    with pytest.raises(ConfigError, match="options"):
        MCPClient(AsyncMCPClient(transport), timeout=3)


def test_each_transport_declares_its_capabilities() -> None:
    assert MemoryTransport.capabilities == TransportCapabilities(probe_timeout_is_legacy=True)
    assert StdioTransport.capabilities == TransportCapabilities(
        server_push=True, probe_timeout_is_legacy=True
    )
    assert LegacySSETransport.capabilities == TransportCapabilities(
        server_push=True, stateless_era=False
    )
    assert StreamableHTTPTransport.capabilities == TransportCapabilities(
        server_push=True, resumable=True, sessions=True, cancels_by_abort=True,
        http_headers=True,
    )
    with pytest.raises(AttributeError):
        StreamableHTTPTransport.capabilities.resumable = False  # type: ignore[misc]
