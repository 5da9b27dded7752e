"""The failure paths of Streamable HTTP resumption that docs/mcp.md and docs/architecture.md
promise, against a scripted loopback server (aiohttp on 127.0.0.1):

* several resumptions in one call, each after the last event the client saw;
* a resumed stream that breaks (or ends) again before the response;
* the response arriving on the standalone GET stream while a resume is open;
* giving up after ``ReconnectPolicy.max_attempts`` reconnections that bring nothing,
  with the abandoned request cancelled on the server.

Every test waits for what the server reports (events, counters), never a fixed sleep.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from mcp_async import AsyncMCPClient, HTTPStatusError, ReadError, UnexpectedResponseError
from mcp_async.protocol.models import ProgressNotification
from mcp_async.protocol.sse import encode_event
from mcp_async.transports.http.sse_streams import ReconnectPolicy

SESSION = "resume-session"
FAST = ReconnectPolicy(max_attempts=2, initial_delay=0.01, max_delay=0.02)

# One step of a resumed (GET with Last-Event-ID) stream: the events to write, then how
# the stream stops: "break" (connection closed mid-body), "end" (clean end), "hold"
# (kept open until the client leaves), or an HTTP status answered instead of a stream.
Step = tuple[list[tuple[str, dict[str, Any]]], str | int]


@dataclass
class Script:
    """What the server does, and what it saw."""

    resumes: list[Step]
    get_stream: bool = False
    last_event_ids: list[str | None] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)
    request_id: Any = None
    standalone: asyncio.Queue[bytes] = field(default_factory=asyncio.Queue)
    resume_closed: asyncio.Event = field(default_factory=asyncio.Event)
    standalone_open: asyncio.Event = field(default_factory=asyncio.Event)

    def methods(self) -> list[str]:
        return [m.get("method", "") for m in self.received]


def progress(n: int, token: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "method": "notifications/progress",
            "params": {"progressToken": token, "progress": n}}


def answer(request_id: Any, text: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id,
            "result": {"content": [{"type": "text", "text": text}]}}


def sse(event_id: str, message: dict[str, Any]) -> bytes:
    return encode_event(json.dumps(message), id=event_id, event="message")


def make_app(script: Script) -> web.Application:
    token: dict[str, Any] = {}

    async def stream(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Mcp-Session-Id": SESSION})
        response.content_type = "text/event-stream"
        await response.prepare(request)
        return response

    async def handle(request: web.Request) -> web.StreamResponse:
        if request.method == "DELETE":
            return web.Response(status=200)
        if request.method == "GET":
            last = request.headers.get("Last-Event-ID")
            if last is None:
                if not script.get_stream:
                    return web.Response(status=405)
                response = await stream(request)
                script.standalone_open.set()
                while True:
                    await response.write(await script.standalone.get())
            script.last_event_ids.append(last)
            if not script.resumes:
                return web.Response(status=500, text="script exhausted")
            events, end = script.resumes.pop(0)
            if isinstance(end, int):
                return web.Response(status=end)
            response = await stream(request)
            for event_id, message in events:
                if message.get("id") == "REQUEST":
                    message = {**message, "id": script.request_id}
                if message.get("method") == "notifications/progress":
                    message["params"]["progressToken"] = token["value"]
                await response.write(sse(event_id, message))
            if end == "break":
                assert request.transport is not None
                request.transport.close()
            elif end == "hold":
                try:
                    await asyncio.Event().wait()  # until the client goes away
                finally:
                    script.resume_closed.set()
            return response
        body = json.loads(await request.read())
        script.received.append(body)
        if "id" not in body:
            return web.Response(status=202)
        if body["method"] == "initialize":
            result = {"protocolVersion": "2025-11-25", "capabilities": {},
                      "serverInfo": {"name": "scripted", "version": "1"}}
            return web.json_response({"jsonrpc": "2.0", "id": body["id"], "result": result},
                                     headers={"Mcp-Session-Id": SESSION})
        if body["method"] != "tools/call":  # e.g. a newer era's discovery probe
            error = {"code": -32601, "message": f"method not found: {body['method']}"}
            return web.json_response({"jsonrpc": "2.0", "id": body["id"], "error": error},
                                     headers={"Mcp-Session-Id": SESSION})
        script.request_id = body["id"]
        token["value"] = body["params"].get("_meta", {}).get("progressToken")
        response = await stream(request)
        await response.write(encode_event("", id="0", retry=10))  # priming event
        assert request.transport is not None
        request.transport.close()  # the reply stream breaks before the response
        return response

    app = web.Application()
    app.router.add_route("*", "/mcp", handle)
    return app


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Script], Any]]:
    servers: list[TestServer] = []

    async def start(script: Script) -> str:
        server = TestServer(make_app(script), host="127.0.0.1")
        await server.start_server()
        servers.append(server)
        return str(server.make_url("/mcp"))

    yield start
    for server in servers:
        await server.close()


async def until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():  # noqa: ASYNC110 - polls what the server recorded
            await asyncio.sleep(0.005)


async def test_several_resumptions_in_one_call(serve: Callable[[Script], Any]) -> None:
    """Break, break again, end cleanly, then the response: four streams for one call, each
    resumed after the last event id the client saw, each progress event seen once."""
    script = Script(resumes=[
        ([("1", progress(1, None))], "break"),
        ([], "break"),  # broke again before any event: still resumes from "1"
        ([("2", progress(2, None))], "end"),
        ([("3", answer("REQUEST", "after three resumptions"))], "end"),
    ])
    url = await serve(script)
    seen: list[float] = []

    def on_progress(p: ProgressNotification) -> None:
        seen.append(p.progress)

    async with AsyncMCPClient(url, reconnect=FAST) as client:
        result = await client.call_tool("work", progress=on_progress, timeout=10)
    assert result.text == "after three resumptions"
    assert script.last_event_ids == ["0", "1", "1", "2"]
    assert seen == [1, 2]
    assert script.methods().count("tools/call") == 1  # resumed, never re-sent
    assert "notifications/cancelled" not in script.methods()


@pytest.mark.parametrize("end", ["break", "end"])
async def test_resumed_stream_breaks_again_then_delivers(
    serve: Callable[[Script], Any], end: str
) -> None:
    script = Script(resumes=[
        ([("1", progress(1, None))], end),
        ([("2", answer("REQUEST", "second resume"))], "end"),
    ])
    url = await serve(script)
    async with AsyncMCPClient(url, reconnect=FAST) as client:
        assert (await client.call_tool("work", timeout=10)).text == "second resume"
    assert script.last_event_ids == ["0", "1"]


@pytest.mark.parametrize(
    ("end", "error", "reason"),
    [
        ("break", ReadError, "broken response"),  # the last error is raised
        ("end", UnexpectedResponseError, "could not be resumed"),
    ],
)
async def test_gives_up_after_the_attempt_limit(
    serve: Callable[[Script], Any], end: str, error: type[Exception], reason: str
) -> None:
    """Every resume brings nothing: after max_attempts + 1 tries the call fails, the server is
    told to cancel the request, and the client stays usable."""
    script = Script(resumes=[([], end)] * (FAST.max_attempts + 1))
    url = await serve(script)
    async with AsyncMCPClient(url, reconnect=FAST) as client:
        with pytest.raises(error, match=reason):
            await client.call_tool("work", timeout=10)
        assert script.last_event_ids == ["0"] * (FAST.max_attempts + 1)
        await until(lambda: "notifications/cancelled" in script.methods())
        cancel = next(m for m in script.received if m.get("method") == "notifications/cancelled")
        assert cancel["params"]["requestId"] == script.request_id
        assert client.session_id == SESSION  # the session survives


async def test_gives_up_with_the_last_error_when_resuming_is_refused(
    serve: Callable[[Script], Any],
) -> None:
    script = Script(resumes=[([], 503)] * (FAST.max_attempts + 1))
    url = await serve(script)
    async with AsyncMCPClient(url, reconnect=FAST) as client:
        with pytest.raises(HTTPStatusError) as info:
            await client.call_tool("work", timeout=10)
        assert info.value.status == 503
        assert len(script.last_event_ids) == FAST.max_attempts + 1
        await until(lambda: "notifications/cancelled" in script.methods())


async def test_progress_resets_the_attempt_count(serve: Callable[[Script], Any]) -> None:
    """Attempts count reconnections *in a row* that bring nothing: a resume that brings an
    event starts the count again, so more than max_attempts + 1 resumes can succeed."""
    empty: Step = ([], "end")
    script = Script(resumes=[
        empty, empty, ([("1", progress(1, None))], "end"),
        empty, empty, ([("2", answer("REQUEST", "patient"))], "end"),
    ])
    url = await serve(script)
    async with AsyncMCPClient(url, reconnect=FAST) as client:
        assert (await client.call_tool("work", timeout=10)).text == "patient"
    assert script.last_event_ids == ["0", "0", "0", "1", "1", "1"]


async def test_response_on_the_get_stream_while_a_resume_is_open(
    serve: Callable[[Script], Any],
) -> None:
    """The resumed stream stays open and silent; the response comes on the standalone GET
    stream instead. The call completes, and the client closes the idle resume stream."""
    script = Script(resumes=[([], "hold")], get_stream=True)
    url = await serve(script)
    async with AsyncMCPClient(url, reconnect=FAST, listen=True) as client:
        await client.initialize()
        await until(script.standalone_open.is_set)
        call = asyncio.ensure_future(client.call_tool("work", timeout=10))
        await until(lambda: bool(script.last_event_ids))  # the resume is open
        script.standalone.put_nowait(
            sse("g1", answer(script.request_id, "via the GET stream"))
        )
        assert (await call).text == "via the GET stream"
        await asyncio.wait_for(script.resume_closed.wait(), 5)
    assert script.last_event_ids == ["0"]
