"""The body size limits (``max_body_size``, ``max_event_size``; over stdio ``max_body_size``
bounds one line) on real loopback replies: with and without a ``Content-Length``,
compressed and not, through ``call_tool``, ``send_request``, SSE replies, error bodies,
legacy HTTP+SSE and stdio.

The ``Content-Length`` path is the normal one for JSON replies. A reply that announces
more than the limit must be refused from its headers: the server below announces a
large body and then sends only part of it, so a client that read the body anyway would
hang until its timeout instead of failing at once.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from mcp_async import AsyncMCPClient, BodyTooLargeError, ConnectionLostError, HTTPStatusError
from mcp_async.testing import MCPTestServer

LIMIT = 64 * 1024
SMALL = 8 * 1024
BIG = 100 * 1024
INIT = {"protocolVersion": "2025-11-25", "capabilities": {"tools": {}},
        "serverInfo": {"name": "limits", "version": "1"}}

# How the reply is framed: (content type, compressed, with Content-Length)
MODES = {
    "json-length": ("application/json", False, True),
    "json-chunked": ("application/json", False, False),
    "json-gzip-length": ("application/json", True, True),
    "json-gzip-chunked": ("application/json", True, False),
    "sse-length": ("text/event-stream", False, True),
    "sse-chunked": ("text/event-stream", False, False),
    "sse-gzip-chunked": ("text/event-stream", True, False),
}


def tool_result(request_id: Any, size: int) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "id": request_id, "result": {
        "content": [{"type": "text", "text": "x" * size}]}}).encode()


async def framed(request: web.Request, payload: bytes, mode: str,
                 status: int = 200) -> web.StreamResponse:
    content_type, compressed, with_length = MODES[mode]
    if content_type == "text/event-stream":
        payload = b"event: message\ndata: " + payload + b"\n\n"
    headers = {"Content-Type": content_type}
    if compressed:
        payload = gzip.compress(payload)
        headers["Content-Encoding"] = "gzip"
    if with_length:
        return web.Response(status=status, body=payload, headers=headers)
    response = web.StreamResponse(status=status, headers=headers)
    response.enable_chunked_encoding()
    await response.prepare(request)
    for start in range(0, len(payload), 4096):
        await response.write(payload[start:start + 4096])
    await response.write_eof()
    return response


async def stalled(request: web.Request, announced: int, content_type: str,
                  release: asyncio.Event) -> web.StreamResponse:
    """Announce ``announced`` bytes, send a few, then wait (until the test ends)."""
    response = web.StreamResponse(headers={"Content-Type": content_type,
                                           "Content-Length": str(announced)})
    await response.prepare(request)
    await response.write(b'{"jsonrpc": "2.0", ')
    await release.wait()
    return response


Reply = Callable[[web.Request, dict[str, Any]], Awaitable[web.StreamResponse]]


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Reply], Awaitable[str]]]:
    """A loopback MCP server whose tool replies (and /api replies) come from ``reply``."""
    servers: list[TestServer] = []

    async def start(reply: Reply) -> str:
        async def mcp(request: web.Request) -> web.StreamResponse:
            body = await request.json()
            if "id" not in body:
                return web.Response(status=202)
            if body["method"] == "initialize":
                return web.json_response({"jsonrpc": "2.0", "id": body["id"], "result": INIT})
            if body["method"] == "tools/call":
                if body["params"]["name"] == "ok":
                    return web.Response(body=tool_result(body["id"], 10),
                                        content_type="application/json")
                return await reply(request, body)
            error = {"code": -32601, "message": "method not found"}
            return web.json_response({"jsonrpc": "2.0", "id": body["id"], "error": error})

        async def api(request: web.Request) -> web.StreamResponse:
            return await reply(request, await request.json())

        async def not_allowed(request: web.Request) -> web.StreamResponse:
            return web.Response(status=405)

        app = web.Application()
        app.router.add_post("/mcp", mcp)
        app.router.add_get("/mcp", not_allowed)
        app.router.add_delete("/mcp", not_allowed)
        app.router.add_post("/api", api)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        servers.append(server)
        return str(server.make_url("/mcp"))

    yield start
    for server in servers:
        await server.close()


def client(url: str) -> AsyncMCPClient:
    return AsyncMCPClient(url, max_body_size=LIMIT, max_event_size=LIMIT, timeout=10)


# ---- call_tool: every framing, under and over the limit -----------------------------------


@pytest.mark.parametrize("mode", list(MODES))
async def test_call_tool_reply_under_the_limit(
    serve: Callable[[Reply], Awaitable[str]], mode: str
) -> None:
    async def reply(request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
        return await framed(request, tool_result(body["id"], SMALL), mode)

    async with client(await serve(reply)) as mcp:
        assert (await mcp.call_tool("sized")).text == "x" * SMALL


@pytest.mark.parametrize("mode", list(MODES))
async def test_call_tool_reply_over_the_limit(
    serve: Callable[[Reply], Awaitable[str]], mode: str
) -> None:
    async def reply(request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
        return await framed(request, tool_result(body["id"], BIG), mode)

    async with client(await serve(reply)) as mcp:
        with pytest.raises(BodyTooLargeError) as info:
            await mcp.call_tool("sized")
        assert info.value.limit == LIMIT
        assert (await mcp.call_tool("ok")).text == "x" * 10  # the client stays usable


# ---- send_request -------------------------------------------------------------------------


@pytest.mark.parametrize("mode", [m for m in MODES if m.startswith("json")])
async def test_send_request_reply_over_and_under_the_limit(
    serve: Callable[[Reply], Awaitable[str]], mode: str
) -> None:
    async def reply(request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
        return await framed(request, json.dumps({"blob": "y" * body["size"]}).encode(), mode)

    url = await serve(reply)
    async with client(url.removesuffix("/mcp")) as http:
        assert await http.send_request("api", {"size": SMALL}) == {"blob": "y" * SMALL}
        with pytest.raises(BodyTooLargeError):
            await http.send_request("api", {"size": BIG})


# ---- a Content-Length over the limit is refused from the headers --------------------------


@pytest.mark.parametrize("path", ["call_tool", "send_request"])
async def test_a_content_length_over_the_limit_is_refused_before_the_body(
    serve: Callable[[Reply], Awaitable[str]], path: str
) -> None:
    release = asyncio.Event()

    async def reply(request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
        return await stalled(request, 10 * LIMIT, "application/json", release)

    url = await serve(reply)
    started = time.monotonic()
    try:
        if path == "call_tool":
            async with client(url) as mcp:
                with pytest.raises(BodyTooLargeError):
                    await mcp.call_tool("sized", timeout=5)
        else:
            async with client(url.removesuffix("/mcp")) as http:
                with pytest.raises(BodyTooLargeError):
                    await http.send_request("api", {}, timeout=5)
    finally:
        release.set()
    # Refused from the header: nowhere near the 5 s a body read would have waited.
    assert time.monotonic() - started < 2.5


# ---- error bodies -------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["json-length", "json-chunked", "json-gzip-length"])
async def test_a_large_error_body_is_a_status_error_not_a_read_of_it_all(
    serve: Callable[[Reply], Awaitable[str]], mode: str
) -> None:
    async def reply(request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
        return await framed(request, b"E" * (20 * LIMIT), mode, status=500)

    async with client(await serve(reply)) as mcp:
        with pytest.raises(HTTPStatusError) as info:
            await mcp.call_tool("sized")
        assert info.value.status == 500
        assert len(str(info.value)) < 10 * 1024  # a snippet, never the whole body
        assert (await mcp.call_tool("ok")).text == "x" * 10


async def test_a_stalled_error_body_with_a_large_length_does_not_hang(
    serve: Callable[[Reply], Awaitable[str]],
) -> None:
    release = asyncio.Event()

    async def reply(request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
        response = web.StreamResponse(status=500, headers={
            "Content-Type": "text/plain", "Content-Length": str(10 * LIMIT)})
        await response.prepare(request)
        await response.write(b"E" * 1024)
        await release.wait()
        return response

    url = await serve(reply)
    started = time.monotonic()
    try:
        async with client(url) as mcp:
            with pytest.raises(HTTPStatusError) as info:
                await mcp.call_tool("sized", timeout=5)
            assert info.value.status == 500
    finally:
        release.set()
    assert time.monotonic() - started < 2.5


# ---- legacy HTTP+SSE and stdio ------------------------------------------------------------


def sized_server(**options: Any) -> MCPTestServer:
    server = MCPTestServer(**options)

    @server.tool
    def sized(size: int) -> str:
        """Return `size` x characters."""
        return "x" * size

    return server


async def test_legacy_sse_event_limit() -> None:
    """Legacy SSE has one shared stream: an event over ``max_event_size`` ends it, so the
    waiting call fails with ``ConnectionLostError`` naming the limit (the oversized event
    is never held), and the next call reconnects."""
    server = sized_server(transport="sse")
    async with server, AsyncMCPClient(server.url, max_event_size=LIMIT, timeout=10) as mcp:
        assert (await mcp.call_tool("sized", {"size": SMALL})).text == "x" * SMALL
        assert mcp.transport_kind == "sse"
        with pytest.raises(ConnectionLostError, match=f"exceeds the limit of {LIMIT} bytes"):
            await mcp.call_tool("sized", {"size": BIG})
        assert (await mcp.call_tool("sized", {"size": SMALL})).text == "x" * SMALL


async def test_stdio_line_limit() -> None:
    async with AsyncMCPClient.stdio(
        sys.executable, ["-m", "mcp_async.testing", "--stdio"], inherit_env=True,
        max_body_size=LIMIT, timeout=10,
    ) as mcp:
        assert (await mcp.call_tool("echo", {"text": "x" * SMALL})).text == "x" * SMALL
        with pytest.raises(BodyTooLargeError) as info:
            await mcp.call_tool("echo", {"text": "x" * BIG})
        assert info.value.limit == LIMIT
