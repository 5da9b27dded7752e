"""Closing a client with requests in flight: every caller gets its result or a
``ClientStateError`` at once, on every transport, wherever its call is waiting (for the
reply, for a pooled HTTP connection, in a retry backoff or a rate limit, for the
handshake); nothing from aiohttp or asyncio (``CancelledError``) leaks, and nothing
hangs."""

from __future__ import annotations

import asyncio
import collections
import sys
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from mcp_async import AsyncMCPClient, ClientStateError, RateLimit, RetryPolicy
from mcp_async.protocol.jsonrpc import Request, Response
from mcp_async.protocol.models import CallToolResult
from mcp_async.testing import MCPTestServer, demo_server
from mcp_async.transports.memory import MemoryPeer, memory_pair
from tests.scripted import ScriptedServer

INIT = {"protocolVersion": "2025-11-25", "capabilities": {"tools": {}},
        "serverInfo": {"name": "slow", "version": "1"}}


class SlowMemoryServer(ScriptedServer):
    """Answers the handshake and ``echo`` at once, and ``slow`` never."""

    async def answer(self, request: Request) -> None:
        if request.method == "initialize":
            await self.peer.send(Response(request.id, INIT))
        elif request.method == "tools/call":
            assert request.params is not None
            if request.params["name"] == "echo":
                text = request.params["arguments"]["text"]
                await self.peer.send(Response(request.id, {
                    "content": [{"type": "text", "text": text}]}))
        else:
            await self.peer.send(Response(request.id, {}))


@pytest.fixture(params=["http-json", "http-sse", "legacy-sse", "stdio", "memory"])
async def opener(request: pytest.FixtureRequest) -> AsyncIterator[Callable[[], AsyncMCPClient]]:
    kind = request.param
    if kind == "stdio":
        yield lambda: AsyncMCPClient.stdio(sys.executable, ["-m", "mcp_async.testing", "--stdio"])
        return
    if kind == "memory":
        servers: list[asyncio.Task[None]] = []

        def open_memory() -> AsyncMCPClient:
            transport, peer = memory_pair()
            servers.append(asyncio.ensure_future(SlowMemoryServer(peer).run()))
            return AsyncMCPClient(transport, protocol="legacy")

        yield open_memory
        for server in servers:
            server.cancel()
        await asyncio.gather(*servers, return_exceptions=True)
        return
    options: dict[str, Any] = {"reply": "sse" if kind == "http-sse" else "json"}
    if kind == "legacy-sse":
        options = {"transport": "sse"}
    async with demo_server(**options) as server:
        yield lambda: AsyncMCPClient(server.url)


async def test_closing_fails_what_is_in_flight_with_client_state_error(
    opener: Callable[[], AsyncMCPClient],
) -> None:
    client = opener()
    await client.__aenter__()
    await client.call_tool("echo", {"text": "warm"})
    slow = [asyncio.ensure_future(client.call_tool("slow", {"seconds": 5})) for _ in range(10)]
    quick = [asyncio.ensure_future(client.call_tool("echo", {"text": str(i)})) for i in range(10)]
    await asyncio.sleep(0.1)
    async with asyncio.timeout(5):
        await client.aclose()
        outcomes = await asyncio.gather(*slow, *quick, return_exceptions=True)
    for outcome in outcomes:
        assert isinstance(outcome, CallToolResult | ClientStateError), repr(outcome)
    assert all(isinstance(outcome, ClientStateError) for outcome in outcomes[:10])
    with pytest.raises(ClientStateError):
        await client.call_tool("echo", {"text": "after"})


async def test_closing_with_hundreds_in_flight_fails_every_one_the_same_way(
    opener: Callable[[], AsyncMCPClient],
) -> None:
    """500 calls against a slow server: over HTTP 100 hold the pool's connections and
    400 wait for one; all of them get ClientStateError, none a CancelledError."""
    client = opener()
    await client.__aenter__()
    await client.call_tool("echo", {"text": "warm"})
    calls = [asyncio.ensure_future(client.call_tool("slow", {"seconds": 5}))
             for _ in range(500)]
    await asyncio.sleep(0.3)
    async with asyncio.timeout(10):
        await client.aclose()
        outcomes = await asyncio.gather(*calls, return_exceptions=True)
    kinds = collections.Counter(type(outcome).__name__ for outcome in outcomes)
    assert kinds == {"ClientStateError": 500}, kinds
    assert not any(call.cancelled() for call in calls)


# -- calls waiting elsewhere than for their reply -------------------------------------------
@pytest.fixture
async def http_server() -> AsyncIterator[Callable[..., Any]]:
    servers: list[TestServer] = []

    async def start(mcp: Callable[[dict[str, Any]], Any]) -> str:
        async def handle(request: web.Request) -> web.StreamResponse:
            body = await request.json()
            if "id" not in body:
                return web.Response(status=202)
            if body.get("method") == "initialize":
                return web.json_response({"jsonrpc": "2.0", "id": body["id"], "result": INIT})
            return await mcp(body)

        async def slow_api(request: web.Request) -> web.StreamResponse:
            await asyncio.sleep(30)
            return web.json_response({})

        async def not_allowed(request: web.Request) -> web.StreamResponse:
            return web.Response(status=405)

        app = web.Application()
        app.router.add_post("/mcp", handle)
        app.router.add_route("*", "/mcp", not_allowed)
        app.router.add_post("/mcp/api", slow_api)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        servers.append(server)
        return str(server.make_url("/mcp"))

    yield start
    for server in servers:
        await server.close()


async def close_and_collect(client: AsyncMCPClient, calls: list[asyncio.Future[Any]]) -> None:
    async with asyncio.timeout(5):
        await client.aclose()
        outcomes = await asyncio.gather(*calls, return_exceptions=True)
    kinds = collections.Counter(type(outcome).__name__ for outcome in outcomes)
    assert kinds == {"ClientStateError": len(calls)}, kinds


async def test_calls_in_a_retry_backoff_end_at_close(
    http_server: Callable[..., Any],
) -> None:
    async def unavailable(body: dict[str, Any]) -> web.StreamResponse:
        return web.Response(status=503)

    url = await http_server(unavailable)
    policy = RetryPolicy(attempts=5, backoff=30, jitter=False, deadline=None)
    client = AsyncMCPClient(url, protocol="legacy", retry=policy)
    await client.__aenter__()
    await client.initialize()
    calls = [asyncio.ensure_future(client.call_tool("t", timeout=120)) for _ in range(20)]
    await asyncio.sleep(0.3)  # each has had its 503 and sleeps 30 s before trying again
    await close_and_collect(client, calls)


async def test_calls_held_by_the_rate_limit_end_at_close(
    http_server: Callable[..., Any],
) -> None:
    async def fine(body: dict[str, Any]) -> web.StreamResponse:
        result = {"content": [{"type": "text", "text": "fine"}]}
        return web.json_response({"jsonrpc": "2.0", "id": body["id"], "result": result})

    url = await http_server(fine)
    client = AsyncMCPClient(url, protocol="legacy", rate_limit=RateLimit(1, per=60, burst=2))
    await client.__aenter__()
    await client.initialize()  # the first token; the second goes to the first call
    calls = [asyncio.ensure_future(client.call_tool("t", timeout=120)) for _ in range(20)]
    await asyncio.sleep(0.3)
    assert sum(call.done() for call in calls) <= 1
    await close_and_collect(client, [call for call in calls if not call.done()])


async def test_calls_waiting_for_the_handshake_end_at_close(
    http_server: Callable[..., Any],
) -> None:
    async def never(body: dict[str, Any]) -> web.StreamResponse:
        await asyncio.sleep(30)
        return web.Response(status=202)

    url = await http_server(never)
    client = AsyncMCPClient(url)  # protocol="auto": the server/discover probe never ends
    await client.__aenter__()
    calls: list[asyncio.Future[Any]] = [
        asyncio.ensure_future(client.call_tool("t")) for _ in range(10)]
    calls += [asyncio.ensure_future(client.list_tools()), asyncio.ensure_future(client.ping()),
              asyncio.ensure_future(client.initialize())]
    await asyncio.sleep(0.3)
    await close_and_collect(client, calls)


async def test_plain_requests_waiting_for_a_pooled_connection_end_at_close(
    http_server: Callable[..., Any],
) -> None:
    url = await http_server(lambda body: None)
    client = AsyncMCPClient(url, connection_limit=5)
    await client.__aenter__()
    calls = [asyncio.ensure_future(client.send_request("api", {})) for _ in range(20)]
    await asyncio.sleep(0.3)  # 5 are at the server, 15 wait for a connection
    await close_and_collect(client, calls)


async def test_a_memory_call_waiting_on_a_server_that_never_answers_ends_at_close() -> None:
    transport, peer = memory_pair()
    assert isinstance(peer, MemoryPeer)  # nobody reads: the handshake never ends
    client = AsyncMCPClient(transport)
    await client.__aenter__()
    calls: list[asyncio.Future[Any]] = [
        asyncio.ensure_future(client.call_tool("t", timeout=120)) for _ in range(150)]
    await asyncio.sleep(0.1)
    await close_and_collect(client, calls)


async def test_a_task_call_between_polls_ends_at_close() -> None:
    server = MCPTestServer()
    server.task_store.poll_interval = 60_000  # the client would sleep a minute between polls
    started = asyncio.Event()

    @server.tool(task_support="required")
    async def forever() -> str:
        started.set()
        await asyncio.sleep(3600)
        return "never"

    async with server:
        client = AsyncMCPClient(server.url, protocol="legacy")
        await client.__aenter__()
        calls: list[asyncio.Future[Any]] = [
            asyncio.ensure_future(client.call_tool("forever", timeout=600)) for _ in range(3)
        ]
        await asyncio.wait_for(started.wait(), 5)
        await asyncio.sleep(0.3)  # each call now sleeps until its next poll
        loop = asyncio.get_running_loop()
        begun = loop.time()
        await close_and_collect(client, calls)
        assert loop.time() - begun < 2
