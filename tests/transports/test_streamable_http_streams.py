"""GET streams and the connection pool: many clients on one ``aiohttp.ClientSession``, the
GET stream opened only when something needs server push, and the floor under SSE
reconnection waits."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from mcp_async import AsyncMCPClient, ConfigError, ReconnectPolicy
from mcp_async.protocol.models import LoggingMessage
from mcp_async.testing import MCPTestServer

#: More clients than aiohttp's default connector has connections (100).
CLIENTS = 130


async def until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():  # noqa: ASYNC110 - the state lives in other objects
            await asyncio.sleep(0.01)


def _echo_server() -> MCPTestServer:
    server = MCPTestServer(reply="json", get_stream=True)

    @server.tool
    def echo(text: str) -> str:
        return text

    return server


async def _many(url: str, http: aiohttp.ClientSession, **options: Any) -> None:
    """CLIENTS clients open at the same time, on one session, and each makes a call while
    all the others are still open."""
    opened = 0
    everyone = asyncio.Event()

    async def one(index: int) -> str:
        nonlocal opened
        async with AsyncMCPClient(url, session=http, timeout=20, **options) as client:
            first = await client.call_tool("echo", {"text": f"hi {index}"})
            opened += 1
            if opened == CLIENTS:
                everyone.set()
            await asyncio.wait_for(everyone.wait(), 60)
            second = await client.call_tool("echo", {"text": f"again {index}"})
            return f"{first.text}/{second.text}"

    results = await asyncio.gather(*(one(index) for index in range(CLIENTS)))
    assert results == [f"hi {index}/again {index}" for index in range(CLIENTS)]


async def test_more_clients_than_connections_without_push() -> None:
    """No handler: no GET stream, so 130 clients share the default 100 connections."""
    async with _echo_server() as server, aiohttp.ClientSession() as http:
        await _many(server.url, http)
        assert server.stats.get_streams == 0


async def test_more_clients_than_connections_each_with_a_get_stream() -> None:
    """Every client needs server push (a logging handler): 130 GET streams stay open, on
    connections of their own, and requests still get pooled connections."""
    async with _echo_server() as server, aiohttp.ClientSession() as http:
        await _many(server.url, http, logging_handler=lambda message: None)
        assert server.stats.get_streams == CLIENTS
        assert http.connector is not None and http.connector.limit == 100


async def test_streams_use_their_own_connections_with_a_limit_of_one() -> None:
    """Even a connector with a single connection serves requests while the stream is open."""
    logs: list[LoggingMessage] = []
    connector = aiohttp.TCPConnector(limit=1)
    async with _echo_server() as server, aiohttp.ClientSession(connector=connector) as http:
        async with AsyncMCPClient(
            server.url, session=http, timeout=10, logging_handler=logs.append
        ) as client:
            await client.initialize()
            assert client.listening
            assert (await client.call_tool("echo", {"text": "one"})).text == "one"
            await server.notify("notifications/message", {"level": "info", "data": "pushed"})
            await until(lambda: len(logs) == 1)
            assert (await client.call_tool("echo", {"text": "two"})).text == "two"
            assert client._streams is not None
            streams = client._streams.stream_session
            assert streams is not None and streams is not http and not streams.closed
        # The companion stream session is closed with the last client using it; the
        # borrowed one is left open.
        assert streams.closed and not http.closed


async def test_get_stream_opens_only_when_push_is_needed() -> None:
    seen: list[dict[str, Any]] = []
    async with _echo_server() as server:
        async with AsyncMCPClient(server.url) as client:
            await client.call_tool("echo", {"text": "x"})
            assert not client.listening
            assert server.stats.get_streams == 0
            # A handler added later opens the stream; the server's pushes then arrive.
            client.add_notification_handler("notifications/custom", seen.append)
            await until(lambda: client.listening)
            assert server.stats.get_streams == 1
            await server.notify("notifications/custom", {"n": 1})
            await until(lambda: seen == [{"n": 1}])
        async with AsyncMCPClient(server.url, listen=True) as client:
            await client.initialize()
            assert client.listening  # listen=True: always, as before
        assert server.stats.get_streams == 2
        async with AsyncMCPClient(server.url, listen=False) as client:
            client.add_notification_handler("notifications/custom", seen.append)
            await client.initialize()
            assert not client.listening
        assert server.stats.get_streams == 2


async def test_handlers_given_to_the_constructor_open_the_stream_at_the_handshake() -> None:
    async with _echo_server() as server:
        async with AsyncMCPClient(server.url, resource_updated_handler=lambda uri: None) as c:
            await c.initialize()
            assert c.listening
        async with AsyncMCPClient(server.url, validate_output=True) as c:
            await c.initialize()
            assert c.listening  # the tool list must follow list_changed


async def test_a_new_session_listens_again_when_push_was_wanted() -> None:
    async with _echo_server() as server, AsyncMCPClient(server.url) as client:
        client.add_notification_handler("notifications/custom", lambda params: None)
        await client.initialize()
        await until(lambda: client.listening)
        first = client.session_id
        server.expire_sessions()
        # The next call meets a 404, shakes hands again, and the new session listens.
        assert (await client.call_tool("echo", {"text": "x"})).text == "x"
        assert client.session_id != first
        await until(lambda: client.listening)
        assert server.stats.get_streams == 2


def test_listen_is_checked() -> None:
    with pytest.raises(ConfigError, match="listen"):
        AsyncMCPClient("http://127.0.0.1:9/mcp", listen="sometimes")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="listen"):
        AsyncMCPClient("http://127.0.0.1:9/mcp", listen=1)  # type: ignore[arg-type]


# -- the floor under reconnection waits ---------------------------------------------------


def test_reconnect_policy_has_a_floor() -> None:
    policy = ReconnectPolicy()
    assert policy.delay(0, 0) == policy.min_delay == 0.1
    assert policy.delay(0, 20) == 0.1
    assert policy.delay(0, 1500) == 1.5
    assert ReconnectPolicy(initial_delay=0).delay(0, None) == 0.1
    assert ReconnectPolicy(min_delay=0).delay(0, 0) == 0
    with pytest.raises(ConfigError, match="min_delay"):
        ReconnectPolicy(min_delay=-1)


async def test_retry_zero_does_not_make_the_client_reconnect_in_a_busy_loop() -> None:
    """A server that sends one event with ``retry: 0`` and ends its GET stream each time:
    the client waits ``min_delay`` between reconnections instead of none."""
    gets: list[float] = []

    async def handle(request: web.Request) -> web.StreamResponse:
        headers = {"Mcp-Session-Id": "s-1"}
        if request.method == "GET":
            gets.append(time.monotonic())
            response = web.StreamResponse(headers=headers)
            response.content_type = "text/event-stream"
            await response.prepare(request)
            await response.write(f"id: {len(gets)}\nretry: 0\ndata: \n\n".encode())
            await response.write_eof()
            return response
        if request.method == "DELETE":
            return web.Response(status=200)
        body = await request.json()
        if "id" not in body:
            return web.Response(status=202)
        result = {"protocolVersion": "2025-11-25", "capabilities": {},
                  "serverInfo": {"name": "s", "version": "1"}}
        return web.json_response({"jsonrpc": "2.0", "id": body["id"], "result": result},
                                 headers=headers)

    app = web.Application()
    app.router.add_route("*", "/mcp", handle)
    async with (
        TestServer(app, host="127.0.0.1") as server,
        AsyncMCPClient(str(server.make_url("/mcp")), listen=True) as client,
    ):
        await client.initialize()
        await until(lambda: len(gets) >= 2)
        started = time.monotonic()
        before = len(gets)
        await asyncio.sleep(0.5)
        during = len(gets) - before
        elapsed = time.monotonic() - started
    # At most one reconnection per 0.1 s (plus the one in progress); with no floor it
    # would be hundreds.
    assert during <= elapsed / 0.1 + 1, (during, elapsed)
    gaps = [later - earlier for earlier, later in itertools.pairwise(gets[1:])]
    assert gaps and min(gaps) >= 0.09


async def test_a_listen_on_a_connected_client_opens_the_stream_before_it_returns() -> None:
    from mcp_async.features.listen import ToolsListChanged

    async with _echo_server() as server, AsyncMCPClient(server.url) as client:
        await client.call_tool("echo", {"text": "x"})
        assert not client.listening
        async with client.listen(tools=True) as events:
            # Sent at once: the stream is open when the listen is entered, nothing is lost.
            assert await server.notify("notifications/tools/list_changed") == 1
            async with asyncio.timeout(5):
                assert await anext(events) == ToolsListChanged()


def test_a_handler_added_from_another_thread_opens_the_stream_in_the_loop() -> None:
    import threading

    from mcp_async.client.blocking import MCPClient

    seen = threading.Event()
    ready: list[str] = []

    async def serve() -> None:
        async with _echo_server() as server:
            ready.append(server.url)
            while not seen.is_set():
                await asyncio.sleep(0.01)
                if server.stats.get_streams:
                    await server.notify("notifications/custom", {})

    thread = threading.Thread(target=asyncio.run, args=(serve(),))
    thread.start()
    try:
        while not ready:
            time.sleep(0.01)
        with MCPClient(ready[0]) as client:
            client.call_tool("echo", {"text": "x"})
            client.add_notification_handler("notifications/custom", lambda params: seen.set())
            assert seen.wait(10)
    finally:
        seen.set()
        thread.join(10)


async def test_closing_while_the_handshake_waits_for_the_get_stream_is_typed() -> None:
    """The GET is sent and the server never answers it: closing the client meanwhile ends
    the handshake's wait with a typed error (it once raised AttributeError)."""
    from mcp_async import ClientStateError

    get_arrived = asyncio.Event()

    async def handle(request: web.Request) -> web.StreamResponse:
        headers = {"Mcp-Session-Id": "s-1"}
        if request.method == "GET":
            get_arrived.set()
            await asyncio.sleep(30)
        if request.method in ("GET", "DELETE"):
            return web.Response(status=200)
        body = await request.json()
        if "id" not in body:
            return web.Response(status=202)
        result = {"protocolVersion": "2025-11-25", "capabilities": {},
                  "serverInfo": {"name": "s", "version": "1"}}
        return web.json_response({"jsonrpc": "2.0", "id": body["id"], "result": result},
                                 headers=headers)

    app = web.Application()
    app.router.add_route("*", "/mcp", handle)
    async with TestServer(app, host="127.0.0.1") as server:
        for _ in range(5):
            get_arrived.clear()
            client = AsyncMCPClient(
                str(server.make_url("/mcp")), logging_handler=lambda message: None,
                protocol="legacy",
            )
            await client.open()
            handshake = asyncio.ensure_future(client.initialize())
            await asyncio.wait_for(get_arrived.wait(), 5)
            await client.aclose()
            outcome = (await asyncio.gather(handshake, return_exceptions=True))[0]
            assert isinstance(outcome, ClientStateError), repr(outcome)
