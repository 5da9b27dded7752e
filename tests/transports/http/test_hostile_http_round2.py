"""Hostile HTTP servers, round two (issue 24): stray messages inside a POST's reply, and
``Retry-After`` values that would turn retrying into a tight loop or outlast the timeout.

Every server here is a small aiohttp.web app on 127.0.0.1 that misbehaves on purpose, and
every test goes end to end through :class:`~mcp_async.AsyncMCPClient`. (The legacy SSE
``endpoint`` cases are in ``tests/transports/test_legacy_sse.py``.)
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from mcp_async import (
    AsyncMCPClient,
    InvalidJSONError,
    RateLimitedError,
    RetryPolicy,
    UnexpectedResponseError,
)

Reply = Callable[[dict[str, Any], web.Request], Awaitable[web.StreamResponse]]

INIT = {"protocolVersion": "2025-11-25", "capabilities": {"tools": {"listChanged": True}},
        "serverInfo": {"name": "hostile-2", "version": "1"}}


class Server:
    """What one test server saw: the JSON-RPC methods, and when each tools/call came."""

    def __init__(self) -> None:
        self.methods: list[str] = []
        self.calls: list[float] = []
        self.url = ""


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Reply], Awaitable[Server]]]:
    servers: list[TestServer] = []

    async def start(tool_reply: Reply) -> Server:
        seen = Server()

        async def handle(request: web.Request) -> web.StreamResponse:
            if request.method != "POST":
                return web.Response(status=405)
            body = await request.json()
            seen.methods.append(body.get("method", "?"))
            if body.get("method") == "initialize":
                return web.json_response({"jsonrpc": "2.0", "id": body["id"], "result": INIT})
            if "id" not in body:
                return web.Response(status=202)
            if body["method"] == "tools/call":
                seen.calls.append(time.monotonic())
                return await tool_reply(body, request)
            error = {"code": -32601, "message": f"method not found: {body['method']}"}
            return web.json_response({"jsonrpc": "2.0", "id": body["id"], "error": error})

        app = web.Application()
        app.router.add_route("*", "/mcp", handle)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        servers.append(server)
        seen.url = str(server.make_url("/mcp"))
        return seen

    yield start
    for server in servers:
        await server.close()


def result(request_id: Any, text: str = "the answer") -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id,
            "result": {"content": [{"type": "text", "text": text}]}}


def sse_reply(*events: Any) -> Reply:
    """An SSE reply of ``events`` (JSON values, or raw ``str`` data); ``"RESPONSE"`` stands
    for the valid response to the call."""

    async def reply(body: dict[str, Any], request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        for event in events:
            value = result(body["id"]) if event == "RESPONSE" else event
            data = value if isinstance(value, str) else json.dumps(value)
            await response.write(f"event: message\ndata: {data}\n\n".encode())
        return response

    return reply


# -- item 9: one stray message must not abort a good reply ------------------------------------

STRAY_RESPONSE = result(987_654, "not yours")
STRING_PARAMS = {"jsonrpc": "2.0", "method": "notifications/message", "params": "oops"}
LIST_PARAMS = {"jsonrpc": "2.0", "method": "notifications/tools/list_changed", "params": [1]}
STRAY_ERROR = {"jsonrpc": "2.0", "id": 987_655, "error": {"code": -1, "message": "not yours"}}
NOT_JSONRPC = {"hello": "world"}
BAD_REQUEST = {"jsonrpc": "2.0", "id": "s1", "method": "ping", "params": "x"}

STRAYS = {
    "unknown-id": STRAY_RESPONSE,
    "string-params": STRING_PARAMS,
    "list-changed-array-params": LIST_PARAMS,
    "unknown-id-error": STRAY_ERROR,
    "not-json-rpc": NOT_JSONRPC,
    "request-with-string-params": BAD_REQUEST,
    "batch-of-strays": [STRAY_RESPONSE, STRING_PARAMS, LIST_PARAMS],
}


@pytest.mark.parametrize("stray", list(STRAYS.values()), ids=list(STRAYS))
async def test_a_stray_message_in_an_sse_reply_is_skipped(
    serve: Callable[[Reply], Awaitable[Server]], caplog: pytest.LogCaptureFixture, stray: Any
) -> None:
    server = await serve(sse_reply(stray, "RESPONSE"))
    with caplog.at_level(logging.WARNING, logger="mcp_async"):
        async with AsyncMCPClient(server.url) as client:
            assert (await client.call_tool("x")).text == "the answer"
            assert (await client.call_tool("x")).text == "the answer"  # the session is fine
    assert "skipping" in caplog.text or "ignoring" in caplog.text
    assert server.methods.count("tools/call") == 2


async def test_every_stray_at_once_and_the_valid_messages_among_them_still_arrive(
    serve: Callable[[Reply], Awaitable[Server]],
) -> None:
    good_note = {"jsonrpc": "2.0", "method": "notifications/tools/list_changed"}
    log_note = {"jsonrpc": "2.0", "method": "notifications/message",
                "params": {"level": "info", "data": "kept"}}
    server = await serve(sse_reply(
        *STRAYS.values(),
        [LIST_PARAMS, good_note],  # a batch: the bad member goes, the good one is delivered
        "not json at all {",
        log_note,
        "RESPONSE",
    ))
    changed = asyncio.Event()
    logged: list[Any] = []
    async with AsyncMCPClient(
        server.url, tools_list_changed_handler=changed.set, logging_handler=logged.append
    ) as client:
        assert (await client.call_tool("x")).text == "the answer"
        await asyncio.wait_for(changed.wait(), 5)
    assert [message.data for message in logged] == ["kept"]


async def test_a_stray_message_in_a_json_batch_reply_is_skipped(
    serve: Callable[[Reply], Awaitable[Server]],
) -> None:
    async def batch(body: dict[str, Any], request: web.Request) -> web.StreamResponse:
        return web.json_response([STRAY_RESPONSE, STRING_PARAMS, LIST_PARAMS, result(body["id"])])

    server = await serve(batch)
    async with AsyncMCPClient(server.url) as client:
        assert (await client.call_tool("x")).text == "the answer"


async def test_only_the_awaited_response_decides_the_call(
    serve: Callable[[Reply], Awaitable[Server]],
) -> None:
    # Strays are skipped, but when the awaited response itself is malformed the call
    # fails at once, naming it...
    async def malformed(body: dict[str, Any], request: web.Request) -> web.StreamResponse:
        bad = {"jsonrpc": "2.0", "id": body["id"], "result": "not an object"}
        return await sse_reply(STRAY_RESPONSE, bad, "RESPONSE")(body, request)

    server = await serve(malformed)
    async with AsyncMCPClient(server.url) as client:
        with pytest.raises(InvalidJSONError, match=r"response .* is malformed"):
            await client.call_tool("x")
    # ...and a reply that holds only strays ends as a reply without its response.
    server = await serve(sse_reply(STRAY_RESPONSE, STRING_PARAMS))
    async with AsyncMCPClient(server.url) as client:
        with pytest.raises(UnexpectedResponseError, match="ended before its response"):
            await client.call_tool("x")


async def test_an_undecodable_event_then_no_response_names_the_bad_event(
    serve: Callable[[Reply], Awaitable[Server]],
) -> None:
    # An event that is not JSON may have been the response: skipped, but if the reply ends
    # without one, the call fails with the InvalidJSONError of that event.
    server = await serve(sse_reply(STRAY_RESPONSE, '{"jsonrpc": "2.0", "id": '))
    async with AsyncMCPClient(server.url) as client:
        with pytest.raises(InvalidJSONError, match="not valid JSON"):
            await client.call_tool("x")


# -- item 8: Retry-After: 0 (or negative, or invalid) never makes a tight loop -----------------


def refuse(retry_after: str | None, status: int = 429) -> Reply:
    async def reply(body: dict[str, Any], request: web.Request) -> web.StreamResponse:
        headers = {} if retry_after is None else {"Retry-After": retry_after}
        return web.Response(status=status, headers=headers)

    return reply


@pytest.mark.parametrize("retry_after", ["0", "-1", "soon"], ids=["zero", "negative", "invalid"])
async def test_a_zero_retry_after_falls_back_to_the_backoff(
    serve: Callable[[Reply], Awaitable[Server]], retry_after: str
) -> None:
    server = await serve(refuse(retry_after))
    floor = 0.02
    policy = RetryPolicy(attempts=20, backoff=floor, max_backoff=floor, jitter=False,
                         deadline=None)
    async with AsyncMCPClient(server.url, retry=policy) as client:
        await client.initialize()
        with pytest.raises(RateLimitedError) as info:
            await client.call_tool("x", timeout=30)
    assert info.value.attempts == 20
    assert len(server.calls) == 20
    gaps = [later - earlier for earlier, later in itertools.pairwise(server.calls)]
    # Before issue 24 the 20 requests came within a few milliseconds.
    assert min(gaps) >= floor * 0.9, gaps
    assert server.calls[-1] - server.calls[0] >= 19 * floor * 0.9


async def test_a_zero_retry_after_with_the_default_policy_is_no_tight_loop(
    serve: Callable[[Reply], Awaitable[Server]],
) -> None:
    server = await serve(refuse("0"))
    async with AsyncMCPClient(server.url, retry=RetryPolicy(attempts=20)) as client:
        await client.initialize()
        start = time.monotonic()
        with pytest.raises(RateLimitedError):
            await client.call_tool("x", timeout=1.5)
        elapsed = time.monotonic() - start
    # The jittered backoff (0.5 s doubling, drawn from [0, backoff]) leaves room for a few
    # tries in 1.5 s, not 20; the call ends within its timeout.
    assert 1 <= len(server.calls) < 10
    assert elapsed < 3


# -- the mutation survivor: a Retry-After beyond the call's timeout fails at once --------------


async def test_a_retry_after_beyond_the_call_timeout_fails_at_once(
    serve: Callable[[Reply], Awaitable[Server]],
) -> None:
    server = await serve(refuse("3"))
    async with AsyncMCPClient(server.url, retry=RetryPolicy(deadline=60)) as client:
        await client.initialize()
        start = time.monotonic()
        with pytest.raises(RateLimitedError) as info:
            await client.call_tool("x", timeout=1)
        elapsed = time.monotonic() - start
    assert elapsed < 0.8  # not 3 s of waiting, nor the 1 s timeout running out
    assert info.value.retry_after == 3.0
    assert info.value.attempts == 1
    assert len(server.calls) == 1


async def test_a_503_retry_after_beyond_the_call_timeout_fails_at_once(
    serve: Callable[[Reply], Awaitable[Server]],
) -> None:
    server = await serve(refuse("3", status=503))
    async with AsyncMCPClient(server.url, retry=RetryPolicy(deadline=None)) as client:
        await client.initialize()
        start = time.monotonic()
        with pytest.raises(RateLimitedError):
            await client.call_tool("x", timeout=1)
        assert time.monotonic() - start < 0.8
    assert len(server.calls) == 1


# -- the GET stream routes member by member too ----------------------------------------------


async def test_the_get_stream_delivers_the_good_members_of_a_batch() -> None:
    logged: list[Any] = []
    got_it = asyncio.Event()

    async def handle(request: web.Request) -> web.StreamResponse:
        if request.method == "GET":
            response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
            await response.prepare(request)
            batch = [STRING_PARAMS, LIST_PARAMS, STRAY_RESPONSE, STRAY_ERROR,
                     {"jsonrpc": "2.0", "method": "notifications/message",
                      "params": {"level": "info", "data": "on the GET stream"}}]
            await response.write(f"event: message\ndata: {json.dumps(batch)}\n\n".encode())
            await asyncio.Event().wait()  # held open until the client goes away
        if request.method == "DELETE":
            return web.Response(status=200)
        body = await request.json()
        if body.get("method") == "initialize":
            return web.json_response({"jsonrpc": "2.0", "id": body["id"], "result": INIT},
                                     headers={"Mcp-Session-Id": "s-1"})
        if "id" not in body:
            return web.Response(status=202)
        return web.json_response(result(body["id"]))

    def on_log(message: Any) -> None:
        logged.append(message)
        got_it.set()

    app = web.Application()
    app.router.add_route("*", "/mcp", handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        async with AsyncMCPClient(str(server.make_url("/mcp")), logging_handler=on_log) as client:
            await client.initialize()
            await asyncio.wait_for(got_it.wait(), 5)
            assert client.listening  # the stream survived its stray members
            assert (await client.call_tool("x")).text == "the answer"
    finally:
        await server.close()
    assert [message.data for message in logged] == ["on the GET stream"]
