"""MCP 2026-07-28 over HTTP against fault-injecting loopback servers of ours.

What real servers do not produce on demand: a reply stream that breaks before its
response, a tool whose ``x-mcp-header`` annotations break the rules, a call that is
cancelled mid-flight.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web

from mcp_async import AsyncMCPClient, ConnectionLostError, ReadTimeout

MODERN = "2026-07-28"
Handler = Callable[[dict[str, Any], web.Request], Awaitable[web.StreamResponse | None]]


class ModernApp:
    """A stateless-era server: answers discover, records every POST body."""

    def __init__(self, handle: Handler) -> None:
        self.handle = handle
        self.bodies: list[dict[str, Any]] = []

    def methods(self) -> list[str]:
        return [body["method"] for body in self.bodies if "method" in body]

    async def serve(self, request: web.Request) -> web.StreamResponse:
        if request.method != "POST":
            return web.Response(status=405)
        body = json.loads(await request.read())
        self.bodies.append(body)
        if "id" not in body:
            return web.Response(status=202)
        if body["method"] == "server/discover":
            return reply(body, {"resultType": "complete", "supportedVersions": [MODERN],
                                "capabilities": {"tools": {}}, "ttlMs": 0})
        answer = await self.handle(body, request)
        if answer is None:
            return web.Response(status=500)
        return answer


def reply(body: dict[str, Any], result: dict[str, Any]) -> web.Response:
    return web.json_response({"jsonrpc": "2.0", "id": body["id"], "result": result})


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Handler], Awaitable[tuple[str, ModernApp]]]]:
    runners: list[web.AppRunner] = []

    async def start(handle: Handler) -> tuple[str, ModernApp]:
        app = ModernApp(handle)
        web_app = web.Application()
        web_app.router.add_route("*", "/mcp", app.serve)
        runner = web.AppRunner(web_app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return f"http://127.0.0.1:{port}/mcp", app

    yield start
    for runner in runners:
        await runner.cleanup()


async def broken_stream(body: dict[str, Any], request: web.Request) -> web.StreamResponse:
    """The first request of each method gets an SSE stream cut before its response."""
    method = body["method"]
    if sum(1 for seen in BROKEN_SEEN if seen == method) == 0:
        BROKEN_SEEN.append(method)
        response = web.StreamResponse()
        response.content_type = "text/event-stream"
        await response.prepare(request)
        await response.write(b'event: message\ndata: {"jsonrpc":"2.0","method":'
                             b'"notifications/message","params":{"level":"info","data":"x"}}'
                             b'\n\n')
        assert request.transport is not None
        request.transport.close()
        return response
    if method == "tools/list":
        return reply(body, {"tools": [{"name": "t", "inputSchema": {"type": "object"}}]})
    return reply(body, {"content": [{"type": "text", "text": "done"}]})


BROKEN_SEEN: list[str] = []


async def test_a_broken_reply_stream_resends_only_idempotent_requests_with_a_new_id(
    serve: Callable[[Handler], Awaitable[tuple[str, ModernApp]]],
) -> None:
    BROKEN_SEEN.clear()
    url, app = await serve(broken_stream)
    async with AsyncMCPClient(url, protocol=MODERN) as client:
        # tools/list is idempotent: sent again (new id) and answered.
        assert [tool.name for tool in await client.list_tools()] == ["t"]
        # tools/call is not: the request is lost and says so, and is not sent twice.
        with pytest.raises(ConnectionLostError, match=r"cannot be resumed|broke"):
            await client.call_tool("t")
        assert (await client.call_tool("t")).text == "done"  # the client goes on
    lists = [body for body in app.bodies if body.get("method") == "tools/list"]
    assert len(lists) == 2 and lists[0]["id"] != lists[1]["id"]
    assert app.methods().count("tools/call") == 2  # the lost one, then the next call


async def test_a_tool_with_invalid_header_annotations_is_left_out(
    serve: Callable[[Handler], Awaitable[tuple[str, ModernApp]]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    tools = [
        {"name": "good", "inputSchema": {"type": "object", "properties": {
            "region": {"type": "string", "x-mcp-header": "Region"}}}},
        {"name": "number", "inputSchema": {"type": "object", "properties": {
            "n": {"type": "number", "x-mcp-header": "N"}}}},
        {"name": "nested", "inputSchema": {"type": "object", "properties": {
            "xs": {"type": "array", "items": {"type": "string", "x-mcp-header": "X"}}}}},
        {"name": "twice", "inputSchema": {"type": "object", "properties": {
            "a": {"type": "string", "x-mcp-header": "Dup"},
            "b": {"type": "string", "x-mcp-header": "dup"}}}},
        {"name": "plain", "inputSchema": {"type": "object"}},
    ]
    headers_seen: list[dict[str, str]] = []

    async def handle(body: dict[str, Any], request: web.Request) -> web.StreamResponse:
        if body["method"] == "tools/list":
            return reply(body, {"tools": tools})
        headers_seen.append(dict(request.headers))
        return reply(body, {"content": [{"type": "text", "text": "ok"}]})

    url, _ = await serve(handle)
    async with AsyncMCPClient(url) as client:
        with caplog.at_level(logging.WARNING, logger="mcp_async"):
            names = [tool.name for tool in await client.list_tools()]
        assert names == ["good", "plain"]
        dropped = " ".join(record.getMessage() for record in caplog.records)
        assert "'number'" in dropped and "'nested'" in dropped and "'twice'" in dropped
        await client.call_tool("good", {"region": " padded "})
        await client.call_tool("good", {"region": None})
    assert headers_seen[0]["Mcp-Param-Region"] == "=?base64?IHBhZGRlZCA=?="
    assert "Mcp-Param-Region" not in headers_seen[1]  # null: no header
    assert headers_seen[0]["Mcp-Name"] == "good"


async def test_a_timed_out_call_is_cancelled_by_closing_its_request(
    serve: Callable[[Handler], Awaitable[tuple[str, ModernApp]]],
) -> None:
    closed = asyncio.Event()

    async def handle(body: dict[str, Any], request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.content_type = "text/event-stream"
        await response.prepare(request)
        try:
            while True:
                await response.write(b": keep-alive\n\n")
                await asyncio.sleep(0.05)
        except (OSError, asyncio.CancelledError):  # aiohttp's reset errors are OSErrors
            closed.set()
        return response

    url, app = await serve(handle)
    async with AsyncMCPClient(url, protocol=MODERN) as client:
        with pytest.raises(ReadTimeout):
            await client.call_tool("slow", timeout=0.3)
        async with asyncio.timeout(5):
            await closed.wait()  # the server saw its request go away
    # No notifications/cancelled: in this era closing the stream is the cancellation.
    assert app.methods() == ["tools/call"]
