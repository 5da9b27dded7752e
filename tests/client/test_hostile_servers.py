"""Hostile and flaky servers (issue 11): decompression bombs, deep nesting, streams left
open, huge reconnect delays, redirects, and a client used from a second event loop.

Every server here is a small aiohttp.web app on 127.0.0.1 that misbehaves on purpose.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import resource
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from mcp_async import (
    AsyncMCPClient,
    BodyTooLargeError,
    ClientStateError,
    HTTPStatusError,
    InvalidJSONError,
    JSONRPCError,
    MetricsHook,
    RateLimit,
    RateLimitedError,
    ReadTimeout,
    RedirectError,
    RequestSample,
    RetryPolicy,
)
from mcp_async.protocol.headers import MAX_SERVER_WAIT
from mcp_async.transports.http.aiohttp_transport import MAX_REDIRECTS, _follow
from mcp_async.transports.http.sse_streams import ReconnectPolicy

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

INIT = {"protocolVersion": "2025-11-25", "capabilities": {"tools": {}},
        "serverInfo": {"name": "hostile", "version": "1"}}


def gzip_of_zeros(size: int) -> bytes:
    """gzip of ``size`` zero bytes, built in pieces (never ``size`` bytes at once)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(1 << 20)
    parts = [packer.compress(block) for _ in range(size // len(block))]
    parts.append(packer.flush())
    return b"".join(parts)


BOMB_SIZE = 512 << 20  # 512 MiB of zeros, about 0.5 MB compressed
BOMB = gzip_of_zeros(BOMB_SIZE)
NESTED = b"[" * 100_000 + b"]" * 100_000


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def not_allowed(request: web.Request) -> web.StreamResponse:
    return web.Response(status=405)


@pytest.fixture
async def serve() -> AsyncIterator[Callable[..., Awaitable[str]]]:
    servers: list[TestServer] = []

    async def start(mcp: Handler, **routes: Handler) -> str:
        app = web.Application()
        app.router.add_post("/mcp", mcp)
        app.router.add_get("/mcp", not_allowed)
        app.router.add_delete("/mcp", not_allowed)
        for path, handler in routes.items():
            app.router.add_route("*", "/" + path, handler)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        servers.append(server)
        return str(server.make_url("/mcp"))

    yield start
    for server in servers:
        await server.close()


def mcp_app(tool_reply: Callable[[dict[str, Any]], Awaitable[web.StreamResponse]],
            hits: list[str] | None = None) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        if hits is not None:
            hits.append(body.get("method", "?"))
        if body.get("method") == "initialize":
            return web.json_response({"jsonrpc": "2.0", "id": body["id"], "result": INIT})
        if "id" not in body:
            return web.Response(status=202)
        if body["method"] == "tools/call" and body["params"]["name"] == "hostile":
            return await tool_reply(body)
        result = {"content": [{"type": "text", "text": "fine"}]}
        return web.json_response({"jsonrpc": "2.0", "id": body["id"], "result": result})

    return handle


def bomb_reply(status: int = 200, content_type: str = "application/json") -> Callable[
        [dict[str, Any]], Awaitable[web.StreamResponse]]:
    async def reply(body: dict[str, Any]) -> web.StreamResponse:
        return web.Response(
            status=status, body=BOMB,
            headers={"Content-Encoding": "gzip", "Content-Type": content_type,
                     "Content-Length": str(len(BOMB))},
        )

    return reply


# -- 1. decompression bombs ---------------------------------------------------------------
@pytest.mark.parametrize("content_type", ["application/json", "text/event-stream"])
async def test_a_gzip_bomb_with_content_length_is_refused_early(
    serve: Callable[..., Awaitable[str]], content_type: str
) -> None:
    hits: list[str] = []
    url = await serve(mcp_app(bomb_reply(content_type=content_type), hits))
    async with AsyncMCPClient(url, max_body_size=1 << 20, max_event_size=1 << 20,
                              retry=RetryPolicy(attempts=3, backoff=0)) as client:
        await client.initialize()
        before = peak_rss_mb()
        with pytest.raises(BodyTooLargeError):
            await client.call_tool("hostile", idempotent=True)
        assert peak_rss_mb() - before < 100
        assert hits.count("tools/call") == 1  # never re-inflated by a retry
        assert (await client.call_tool("other")).text == "fine"


async def test_a_gzip_bomb_as_an_error_body_is_bounded(
    serve: Callable[..., Awaitable[str]],
) -> None:
    url = await serve(mcp_app(bomb_reply(status=500)))
    async with AsyncMCPClient(url, max_body_size=1 << 20) as client:
        before = peak_rss_mb()
        with pytest.raises(HTTPStatusError) as info:
            await client.call_tool("hostile")
        assert info.value.status == 500
        assert peak_rss_mb() - before < 100


async def test_send_request_refuses_a_gzip_bomb(serve: Callable[..., Awaitable[str]]) -> None:
    async def bomb(request: web.Request) -> web.StreamResponse:
        return await bomb_reply()({})

    url = await serve(mcp_app(bomb_reply()), api=bomb)
    async with AsyncMCPClient(url.removesuffix("/mcp"), max_body_size=1 << 20) as client:
        before = peak_rss_mb()
        with pytest.raises(BodyTooLargeError):
            await client.send_request("api", {"x": 1})
        assert peak_rss_mb() - before < 100


async def test_a_small_compressed_reply_still_works(serve: Callable[..., Awaitable[str]]) -> None:
    async def small(body: dict[str, Any]) -> web.StreamResponse:
        payload = json.dumps({"jsonrpc": "2.0", "id": body["id"], "result": {
            "content": [{"type": "text", "text": "z" * 5000}]}}).encode()
        packed = gzip.compress(payload)
        return web.Response(body=packed, headers={
            "Content-Encoding": "gzip", "Content-Type": "application/json",
            "Content-Length": str(len(packed))})

    url = await serve(mcp_app(small))
    async with AsyncMCPClient(url, max_body_size=1 << 20) as client:
        assert (await client.call_tool("hostile")).text == "z" * 5000


# -- 2. deeply nested JSON ------------------------------------------------------------------
async def test_deep_nesting_is_a_typed_error_on_every_path(
    serve: Callable[..., Awaitable[str]],
) -> None:
    async def nested_json(body: dict[str, Any]) -> web.StreamResponse:
        return web.Response(body=NESTED, content_type="application/json")

    async def nested_plain(request: web.Request) -> web.StreamResponse:
        return web.Response(body=NESTED, content_type="application/json")

    url = await serve(mcp_app(nested_json), api=nested_plain)
    async with AsyncMCPClient(url) as client:
        with pytest.raises(InvalidJSONError):
            await client.call_tool("hostile")
        assert (await client.call_tool("other")).text == "fine"
    async with AsyncMCPClient(url.removesuffix("/mcp")) as client:
        with pytest.raises(InvalidJSONError, match="nested"):
            await client.send_request("api", {})


async def test_deep_nesting_in_an_sse_reply(serve: Callable[..., Awaitable[str]]) -> None:
    async def nested_event(body: dict[str, Any]) -> web.StreamResponse:
        return web.Response(body=b"event: message\ndata: " + NESTED + b"\n\n",
                            content_type="text/event-stream")

    url = await serve(mcp_app(nested_event))
    async with AsyncMCPClient(url, max_event_size=1 << 20) as client:
        with pytest.raises(InvalidJSONError):
            await client.call_tool("hostile")
        assert (await client.call_tool("other")).text == "fine"


# -- 4. an SSE reply left open -----------------------------------------------------------------
async def test_a_result_returns_before_the_server_closes_its_stream(
    serve: Callable[..., Awaitable[str]],
) -> None:
    async def handle(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        if body.get("method") == "initialize":
            return web.json_response({"jsonrpc": "2.0", "id": body["id"], "result": INIT})
        if "id" not in body:
            return web.Response(status=202)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        message = {"jsonrpc": "2.0", "id": body["id"],
                   "result": {"content": [{"type": "text", "text": "early"}]}}
        await response.write(f"event: message\ndata: {json.dumps(message)}\n\n".encode())
        await asyncio.sleep(3)  # keeps the stream open
        return response

    url = await serve(handle)
    async with AsyncMCPClient(url) as client:
        await client.initialize()
        start = time.monotonic()
        assert (await client.call_tool("any")).text == "early"
        assert time.monotonic() - start < 0.5


# -- 5. reconnect delays ---------------------------------------------------------------------
def test_a_server_requested_reconnect_delay_is_clamped() -> None:
    policy = ReconnectPolicy()
    assert policy.delay(0, 86_400_000) == policy.max_server_delay == 60.0
    assert policy.delay(0, 1500) == 1.5
    assert ReconnectPolicy(max_server_delay=5).delay(0, 86_400_000) == 5


# -- 7. redirects ------------------------------------------------------------------------------
async def test_a_same_origin_307_is_followed_with_method_and_body(
    serve: Callable[..., Awaitable[str]],
) -> None:
    seen: list[str] = []
    real = mcp_app(bomb_reply(), seen)

    async def moved(request: web.Request) -> web.StreamResponse:
        raise web.HTTPTemporaryRedirect("/real")

    url = await serve(moved, real=real)
    async with AsyncMCPClient(url) as client:
        assert (await client.call_tool("other")).text == "fine"
    # The era probe (refused by this handshake-era app) is redirected like the rest.
    assert seen[:4] == ["server/discover", "initialize", "notifications/initialized",
                        "tools/call"]


async def test_redirects_that_are_not_followed_name_their_location(
    serve: Callable[..., Awaitable[str]],
) -> None:
    other_hits: list[str] = []
    elsewhere = await serve(mcp_app(bomb_reply(), other_hits))

    async def away(request: web.Request) -> web.StreamResponse:
        raise web.HTTPPermanentRedirect(elsewhere)

    async def found(request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound("/mcp")

    async def loop(request: web.Request) -> web.StreamResponse:
        raise web.HTTPTemporaryRedirect("/mcp")

    for handler, reason in ((away, "origin"), (found, "307/308"), (loop, "redirects")):
        url = await serve(handler)
        async with AsyncMCPClient(url, transport="streamable-http") as client:
            with pytest.raises(RedirectError, match=reason) as info:
                await client.initialize()
            assert info.value.location is not None
    assert other_hits == []  # the other origin never saw the request


def test_redirect_rules() -> None:
    follow = lambda url, status, location, hop=0: _follow(url, status, location, hop, {})  # noqa: E731
    assert follow("http://a:1/mcp", 307, "/mcp/") == "http://a:1/mcp/"
    assert follow("http://a:1/x/mcp", 308, "next") == "http://a:1/x/next"
    for location in ("http://b:1/mcp", "https://a:1/mcp", "http://a:2/mcp"):
        with pytest.raises(RedirectError, match="origin"):
            follow("http://a:1/mcp", 307, location)
    with pytest.raises(RedirectError, match="origin"):
        follow("https://a/mcp", 307, "http://a/mcp")  # never downgraded
    with pytest.raises(RedirectError):
        follow("http://a/mcp", 303, "/mcp")
    with pytest.raises(RedirectError, match="no Location"):
        follow("http://a/mcp", 307, None)
    with pytest.raises(RedirectError, match="more than"):
        follow("http://a/mcp", 307, "/mcp", MAX_REDIRECTS)


# -- 8. one client, one event loop -----------------------------------------------------------
def test_a_client_used_from_another_event_loop_says_so() -> None:
    async def serve_and_open() -> tuple[AsyncMCPClient, TestServer]:
        app = web.Application()
        app.router.add_post("/mcp", mcp_app(bomb_reply()))
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        client = AsyncMCPClient(str(server.make_url("/mcp")))
        await client.open()
        return client, server

    loop = asyncio.new_event_loop()
    try:
        client, server = loop.run_until_complete(serve_and_open())

        async def use() -> None:
            with pytest.raises(ClientStateError, match="another event loop"):
                await client.ping()
            with pytest.raises(ClientStateError, match="another event loop"):
                await client.send_request("x", {})

        asyncio.run(use())

        async def finish() -> None:
            await client.aclose()
            await server.close()

        loop.run_until_complete(finish())
    finally:
        loop.close()


# -- 3. waits a server imposes are capped, per URL, and within the call's timeout -------------
async def test_a_huge_retry_after_never_freezes_the_client(
    serve: Callable[..., Awaitable[str]],
) -> None:
    async def limited(body: dict[str, Any]) -> web.StreamResponse:
        return web.Response(status=429, headers={"Retry-After": "99999"})

    async def healthy(request: web.Request) -> web.StreamResponse:
        return web.json_response({"ok": True})

    url = await serve(mcp_app(limited), **{"mcp/api": healthy})
    limit = RateLimit()
    async with AsyncMCPClient(url, retry=RetryPolicy(), rate_limit=limit) as client:
        await client.initialize()
        start = time.monotonic()
        with pytest.raises(RateLimitedError):
            await client.call_tool("hostile")  # retry gives up: the wait is over the cap
        assert time.monotonic() - start < 1
        assert limit.paused_until - limit._clock() <= MAX_SERVER_WAIT
        # Another endpoint is not held by that URL's pause...
        assert await client.send_request("api", {}) == {"ok": True}
        # ...and a call to the paused URL fails at once, within its own timeout.
        start = time.monotonic()
        with pytest.raises(ReadTimeout, match="rate limit"):
            await client.call_tool("other", timeout=5)
        assert time.monotonic() - start < 1


async def test_retry_backoff_counts_against_the_call_timeout(
    serve: Callable[..., Awaitable[str]],
) -> None:
    hits: list[str] = []

    async def unavailable(body: dict[str, Any]) -> web.StreamResponse:
        return web.Response(status=503)

    url = await serve(mcp_app(unavailable, hits))
    policy = RetryPolicy(attempts=10, backoff=0.4, jitter=False, deadline=None)
    async with AsyncMCPClient(url, retry=policy) as client:
        await client.initialize()
        start = time.monotonic()
        with pytest.raises(HTTPStatusError):
            await client.call_tool("hostile", timeout=1.0)
        assert time.monotonic() - start < 1.5
    assert 1 < hits.count("tools/call") < 10


# -- 9. metrics tell the truth ---------------------------------------------------------------
async def test_metrics_outcomes_latency_and_labels(serve: Callable[..., Awaitable[str]]) -> None:
    async def slow_sse(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        if body.get("method") == "initialize":
            return web.json_response({"jsonrpc": "2.0", "id": body["id"], "result": INIT})
        if "id" not in body:
            return web.Response(status=202)
        name = body["params"].get("name")
        if name == "missing":
            return web.json_response({"jsonrpc": "2.0", "id": body["id"],
                                      "error": {"code": -32602, "message": "no such tool"}})
        result: dict[str, Any] = {"content": [{"type": "text", "text": "x"}]}
        if name == "broken":
            result["isError"] = True
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await asyncio.sleep(0.3)  # the headers came long before the response
        message = {"jsonrpc": "2.0", "id": body["id"], "result": result}
        await response.write(f"event: message\ndata: {json.dumps(message)}\n\n".encode())
        return response

    samples: list[RequestSample] = []

    class Recorder(MetricsHook):
        def on_finish(self, sample: RequestSample) -> None:
            samples.append(sample)

    url = await serve(slow_sse)
    async with AsyncMCPClient(url, metrics=Recorder(max_tool_labels=2)) as client:
        await client.call_tool("fine")
        await client.call_tool("broken")
        with pytest.raises(JSONRPCError):
            await client.call_tool("missing")
    calls = [s for s in samples if s.method == "tools/call"]
    assert [(s.tool, s.outcome) for s in calls] == [
        ("fine", "ok"), ("broken", "tool_error"), ("other", "jsonrpc_error"),
    ]
    assert calls[0].duration >= 0.3  # measured until the response, not the headers
    assert not [s for s in samples if s.method.startswith("http")]  # GET probe's 405 unseen


# -- 10. a retried request gets a new id --------------------------------------------------------
async def test_each_retry_attempt_has_a_new_id(serve: Callable[..., Awaitable[str]]) -> None:
    ids: list[Any] = []

    async def flaky(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        if body.get("method") == "initialize":
            return web.json_response({"jsonrpc": "2.0", "id": body["id"], "result": INIT})
        if "id" not in body:
            return web.Response(status=202)
        ids.append(body["id"])
        if len(ids) < 3:
            return web.Response(status=503)
        return web.json_response({"jsonrpc": "2.0", "id": body["id"], "result": {
            "content": [{"type": "text", "text": "third time"}]}})

    url = await serve(flaky)
    retry = RetryPolicy(backoff=0, jitter=False)
    async with AsyncMCPClient(url, retry=retry, protocol="legacy") as client:
        assert (await client.call_tool("x")).text == "third time"
    assert len(ids) == 3 and len(set(ids)) == 3
