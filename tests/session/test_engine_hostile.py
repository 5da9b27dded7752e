"""The session engine against hostile servers (issue 24): results whose ``resultType`` is
not a string, floods of server requests and notifications, and a first call whose
connecting would outlast its timeout.

Floods run on every transport (memory, Streamable HTTP, legacy SSE, stdio); each checks
that every request gets its answer, that no more than ``max_concurrent_handlers`` answers
are sent at once, and that memory stays bounded (``tracemalloc`` peak).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import resource
import sys
import time
import tracemalloc
from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from mcp_async import (
    AsyncMCPClient,
    ProtocolError,
    RequestTimeoutError,
    UnknownResultTypeError,
)
from mcp_async.protocol.jsonrpc import (
    ErrorResponse,
    Message,
    Notification,
    Request,
    Response,
)
from mcp_async.session.handlers import SamplingRequest, SamplingResult
from mcp_async.transports.memory import MemoryTransport
from tests.session.test_era import (
    ELICIT,
    Server,
    elicit_ada,
    input_required,
    rounds_tool,
    session,
)

INIT = {"protocolVersion": "2025-11-25", "capabilities": {"tools": {}},
        "serverInfo": {"name": "hostile", "version": "1"}}
DONE = {"content": [{"type": "text", "text": "done"}]}
SSE = "text/event-stream"


# -- item 2: a resultType that is not a string -----------------------------------------------
@pytest.mark.parametrize("result_type", [{"kind": "task"}, ["complete"], 7, None, True])
async def test_a_result_type_that_is_not_a_string_is_a_typed_protocol_error(
    result_type: Any,
) -> None:
    async def odd(request: Request, server: Server) -> None:
        await server.reply(request, {"resultType": result_type, **DONE})

    async with session("modern", {"tools/call": odd}, result_types=("x-claimed",)) as (
        client, _,
    ):
        with pytest.raises(UnknownResultTypeError) as info:
            await client.call_tool("t")
        assert isinstance(info.value, ProtocolError)
        assert info.value.result_type == result_type
        assert info.value.method == "tools/call"
        with pytest.raises(UnknownResultTypeError):
            await client.request("tools/call", {"name": "t"})
        assert (await client.list_tools())[0].name == "t"  # the session is still fine


async def test_a_result_type_that_is_not_a_string_after_an_input_round() -> None:
    tool = rounds_tool(input_required({"k": ELICIT}, "s"), final={"resultType": [1, 2]})
    async with session("modern", {"tools/call": tool}, elicitation_handler=elicit_ada) as (
        client, _,
    ):
        with pytest.raises(UnknownResultTypeError) as info:
            await client.call_tool("t")
        assert info.value.result_type == [1, 2]


# -- item 5: floods of server requests and notifications, in memory ----------------------------
class CountingMemory(MemoryTransport):
    """A memory transport whose sends take a moment, counting how many overlap."""

    def __init__(self) -> None:
        super().__init__()
        self.sending = 0
        self.peak = 0

    async def send(self, message: Notification | Response | ErrorResponse) -> None:
        self.sending += 1
        self.peak = max(self.peak, self.sending)
        try:
            await asyncio.sleep(0)
            await asyncio.sleep(0)
        finally:
            self.sending -= 1
        await super().send(message)


class Inbox:
    """What the client sent the server: every message, or (``keep=False``, for floods,
    so that the test itself holds no memory) only a tally of the answers."""

    def __init__(self, keep: bool = True, ids: int = 0) -> None:
        self.keep = keep
        self.messages: list[Message] = []
        self.count = 0
        self.kinds: Counter[Any] = Counter()
        self.answered = bytearray(ids)  # answered[n]: how often "r<n>" was answered

    def add(self, message: Message) -> None:
        if not isinstance(message, Response | ErrorResponse):
            return
        self.count += 1
        if self.keep:
            self.messages.append(message)
        else:
            self.kinds["result" if isinstance(message, Response) else message.code] += 1
            self.answered[int(str(message.id)[1:])] += 1


@contextlib.asynccontextmanager
async def flooded(keep: bool = True, ids: int = 0, **options: Any) -> AsyncIterator[tuple[
        AsyncMCPClient, CountingMemory, Inbox]]:
    """A client on a counting memory transport whose server answers the handshake and
    records the answers the client sends."""
    transport = CountingMemory()
    inbox = Inbox(keep, ids)

    async def serve() -> None:
        while True:
            message = await transport.peer.receive()
            if isinstance(message, Request) and message.method == "initialize":
                await transport.peer.send(Response(message.id, INIT))
            else:
                inbox.add(message)

    server = asyncio.ensure_future(serve())
    try:
        async with AsyncMCPClient(transport, protocol="legacy", **options) as client:
            await client.initialize()
            yield client, transport, inbox
    finally:
        server.cancel()
        await asyncio.gather(server, return_exceptions=True)


async def until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    """Poll ``condition`` (what the server saw) until it holds, within ``timeout``."""
    for _ in range(int(timeout / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not met in time")


def peak_rss() -> int:
    """The process's peak resident memory so far, in bytes (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


@contextlib.contextmanager
def traced() -> Any:
    """Measure the peak of memory allocated by Python inside the block (bytes)."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    box: dict[str, int] = {}
    try:
        yield box
    finally:
        box["peak"] = tracemalloc.get_traced_memory()[1] - base
        tracemalloc.stop()


@pytest.mark.parametrize("method", ["ping", "x/unheard-of"])
async def test_a_flood_of_requests_is_answered_with_bounded_sends_and_memory(
    method: str,
) -> None:
    count = 20_000
    async with flooded(False, count, max_concurrent_handlers=4) as (_, transport, received):
        with traced() as memory:
            for n in range(count):
                await transport.peer.send(Request(f"r{n}", method, None))
            await until(lambda: received.count == count)
        assert received.answered == bytes([1]) * count  # each once
        assert received.kinds == {"result" if method == "ping" else -32601: count}
        assert 2 <= transport.peak <= 4
        # 20,000 requests, one task and one answer each, held at once: tens of megabytes.
        assert memory["peak"] < 3_000_000, memory


async def test_handlers_and_their_answers_are_bounded_and_the_excess_refused(
    caplog: pytest.LogCaptureFixture,
) -> None:
    gate = asyncio.Event()
    running = peak = 0

    async def sample(request: SamplingRequest) -> SamplingResult:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        try:
            await gate.wait()
        finally:
            running -= 1
        return SamplingResult("ok", model="m")

    params = {"messages": [], "maxTokens": 1}
    async with flooded(sampling_handler=sample, max_concurrent_handlers=3) as (
        client, transport, received,
    ):
        with caplog.at_level(logging.WARNING, logger="mcp_async"):
            for n in range(200):
                await transport.peer.send(Request(n, "sampling/createMessage", params))
            await until(lambda: received.count == 194)
        refused = received.messages
        assert sorted(int(a.id) for a in refused) == list(range(6, 200))
        assert all(isinstance(a, ErrorResponse) and a.code == -32603 and "busy" in a.message
                   for a in refused)
        assert client._dispatcher.refused == 194
        assert client._dispatcher.handlers_running == 6
        assert len([r for r in caplog.records if "refusing server requests" in r.message]) == 1
        gate.set()
        await until(lambda: received.count == 200)
        results = [a for a in received.messages if isinstance(a, Response)]
        assert sorted(int(a.id) for a in results) == list(range(6))
        assert peak == 3
        assert transport.peak <= 3


async def test_a_request_id_already_in_progress_is_refused() -> None:
    gate = asyncio.Event()

    async def sample(request: SamplingRequest) -> SamplingResult:
        await gate.wait()
        return SamplingResult("ok", model="m")

    params = {"messages": [], "maxTokens": 1}
    async with flooded(sampling_handler=sample) as (client, transport, received):
        for _ in range(100):  # one id, over and over: not 100 handlers
            await transport.peer.send(Request(7, "sampling/createMessage", params))
        await until(lambda: received.count == 99)
        assert all(isinstance(a, ErrorResponse) and a.code == -32600 for a in received.messages)
        assert client._dispatcher.handlers_running == 1
        gate.set()
        await until(lambda: received.count == 100)
        assert isinstance(received.messages[-1], Response)


async def test_a_flood_of_notifications_is_handled_in_order_in_bounded_memory() -> None:
    count = 50_000
    seen: list[int] = []

    async def on_notification(method: str, params: dict[str, Any]) -> None:
        seen.append(params["n"])

    async with flooded(on_notification=on_notification) as (_, transport, _):
        with traced() as memory:
            for n in range(count):
                await transport.peer.send(Notification("notifications/x", {"n": n}))
        assert seen == list(range(count))
        assert memory["peak"] < 2_000_000, memory


async def test_input_requests_of_one_round_are_answered_at_most_n_at_once() -> None:
    running = peak = 0

    async def elicit(request: Any) -> Any:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.001)
        running -= 1
        return await elicit_ada(request)

    many = {f"k{n}": ELICIT for n in range(100)}
    tool = rounds_tool(input_required(many, "s"))
    async with session("modern", {"tools/call": tool}, elicitation_handler=elicit,
                       max_concurrent_handlers=5) as (client, server):
        assert (await client.call_tool("t")).text == "done"
        final = server.requests("tools/call")[-1]
        assert final.params is not None
        assert sorted(final.params["inputResponses"]) == sorted(many)
    assert peak == 5


# -- item 5: floods over the wire --------------------------------------------------------------
def sse_event(message: dict[str, Any]) -> bytes:
    return b"event: message\ndata: " + json.dumps(message).encode() + b"\n\n"


def pings(count: int) -> list[dict[str, Any]]:
    return [{"jsonrpc": "2.0", "id": f"p{n}", "method": "ping"} for n in range(count)]


class AnswerCounter:
    """Counts the answers a server receives and how many were being received at once."""

    def __init__(self) -> None:
        self.ids: list[Any] = []
        self.inflight = 0
        self.peak = 0

    async def take(self, body: dict[str, Any]) -> None:
        self.inflight += 1
        self.peak = max(self.peak, self.inflight)
        try:
            await asyncio.sleep(0.001)
        finally:
            self.inflight -= 1
        self.ids.append(body["id"])


@contextlib.asynccontextmanager
async def web_server(app: web.Application) -> AsyncIterator[TestServer]:
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield server
    finally:
        await server.close()


async def not_allowed(request: web.Request) -> web.StreamResponse:
    return web.Response(status=405)


def streamable_flood(count: int, counter: AnswerCounter) -> web.Application:
    """Streamable HTTP: ``tools/call`` is answered by one SSE reply that carries
    ``count`` ping requests before the result."""

    async def mcp(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        if "method" not in body:  # an answer to one of the pings
            await counter.take(body)
            return web.Response(status=202)
        if body["method"] == "initialize":
            return web.json_response({"jsonrpc": "2.0", "id": body["id"], "result": INIT})
        if "id" not in body:
            return web.Response(status=202)
        reply = web.StreamResponse(headers={"Content-Type": SSE})
        await reply.prepare(request)
        chunk = bytearray()
        for ping in pings(count):
            chunk += sse_event(ping)
            if len(chunk) > 65536:
                await reply.write(bytes(chunk))
                chunk.clear()
        chunk += sse_event({"jsonrpc": "2.0", "id": body["id"], "result": DONE})
        await reply.write(bytes(chunk))
        await reply.write_eof()
        return reply

    app = web.Application()
    app.router.add_post("/mcp", mcp)
    app.router.add_route("*", "/mcp", not_allowed)
    return app


def legacy_flood(count: int, counter: AnswerCounter) -> web.Application:
    """Legacy HTTP+SSE: ``tools/call`` makes the stream carry ``count`` ping requests
    before the result."""
    streams: list[web.StreamResponse] = []
    done = asyncio.Event()

    async def sse(request: web.Request) -> web.StreamResponse:
        stream = web.StreamResponse(headers={"Content-Type": SSE})
        await stream.prepare(request)
        await stream.write(b"event: endpoint\ndata: /messages\n\n")
        streams.append(stream)
        await done.wait()
        return stream

    async def messages(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        stream = streams[-1]
        if "method" not in body:
            await counter.take(body)
        elif body["method"] == "initialize":
            await stream.write(sse_event({"jsonrpc": "2.0", "id": body["id"], "result": INIT}))
        elif body["method"] == "tools/call":
            chunk = bytearray()
            for ping in pings(count):
                chunk += sse_event(ping)
                if len(chunk) > 65536:
                    await stream.write(bytes(chunk))
                    chunk.clear()
            chunk += sse_event({"jsonrpc": "2.0", "id": body["id"], "result": DONE})
            await stream.write(bytes(chunk))
        return web.Response(status=202)

    async def stop(app: web.Application) -> None:
        done.set()

    app = web.Application()
    app.router.add_get("/sse", sse)
    app.router.add_post("/messages", messages)
    app.on_shutdown.append(stop)
    return app


STDIO_FLOOD = r"""
import json, queue, sys, threading
count = int(sys.argv[1])
lock = threading.Lock()
requests = queue.Queue()


def write(message):
    with lock:
        sys.stdout.write(json.dumps(message) + "\n")
        sys.stdout.flush()


def read():  # reads stdin all along, as servers do, while the main thread writes
    answers = 0
    for line in sys.stdin:
        message = json.loads(line)
        if "method" in message:
            requests.put(message)
            continue
        answers += 1
        if answers == count:
            write({"jsonrpc": "2.0", "method": "notifications/message",
                   "params": {"level": "info", "data": "all answered"}})
    requests.put(None)


threading.Thread(target=read, daemon=True).start()
while (message := requests.get()) is not None:
    if "id" not in message:
        continue
    if message["method"] == "initialize":
        result = {"protocolVersion": "2025-11-25", "capabilities": {"tools": {}},
                  "serverInfo": {"name": "flood", "version": "1"}}
    else:
        with lock:
            for n in range(count):
                sys.stdout.write(json.dumps({"jsonrpc": "2.0", "id": f"p{n}", "method": "ping"})
                                 + "\n")
        result = {"content": [{"type": "text", "text": "done"}]}
    write({"jsonrpc": "2.0", "id": message["id"], "result": result})
"""


@pytest.mark.parametrize("kind", ["streamable-http", "sse", "stdio"])
async def test_a_flood_of_pings_in_one_reply_is_bounded_on_every_transport(kind: str) -> None:
    count = 20_000
    counter = AnswerCounter()
    all_answered = asyncio.Event()

    def logged(message: Any) -> None:
        all_answered.set()

    async with contextlib.AsyncExitStack() as stack:
        if kind == "stdio":
            client = AsyncMCPClient.stdio(sys.executable, ["-c", STDIO_FLOOD, str(count)],
                                          protocol="legacy", logging_handler=logged)
        else:
            app = (streamable_flood if kind == "streamable-http" else legacy_flood)(
                count, counter)
            server = await stack.enter_async_context(web_server(app))
            path = "/mcp" if kind == "streamable-http" else "/sse"
            client = AsyncMCPClient(str(server.make_url(path)), transport=kind,
                                    protocol="legacy")
        await stack.enter_async_context(client)
        await client.initialize()
        before = peak_rss()
        with traced() if kind == "stdio" else contextlib.nullcontext({}) as memory:
            assert (await client.call_tool("flood", timeout=120)).text == "done"
            if kind == "stdio":
                async with asyncio.timeout(60):
                    await all_answered.wait()
            else:
                await until(lambda: len(counter.ids) == count, timeout=120)
        grown = peak_rss() - before
        if kind == "stdio":
            # Before the bound: a task per ping, 2 MB here (writes to a pipe are quick).
            assert memory["peak"] < 1_500_000, memory
        else:
            assert sorted(counter.ids) == sorted(f"p{n}" for n in range(count))
            assert counter.peak <= 16  # max_concurrent_handlers' default
            # Before the bound: a task and a POST per ping at once, hundreds of megabytes
            # (tracemalloc would be more exact, but makes aiohttp ten times slower).
            assert grown < 40_000_000, grown


# -- item 7: connecting counts against the first call's timeout --------------------------------
SILENT_STDIO = "import sys\nfor line in sys.stdin:\n    pass\n"


async def silent_streamable(request: web.Request) -> web.StreamResponse:
    await asyncio.sleep(30)
    return web.Response(status=202)


async def no_endpoint(request: web.Request) -> web.StreamResponse:
    stream = web.StreamResponse(headers={"Content-Type": SSE})
    await stream.prepare(request)
    await asyncio.sleep(30)
    return stream


async def refuses_probe_then_silent(request: web.Request) -> web.StreamResponse:
    body = await request.json()
    if body.get("method") == "server/discover":
        return web.json_response({"jsonrpc": "2.0", "id": body["id"],
                                  "error": {"code": -32601, "message": "no such method"}})
    await asyncio.sleep(30)
    return web.Response(status=202)


@contextlib.asynccontextmanager
async def silent_client(kind: str, **options: Any) -> AsyncIterator[AsyncMCPClient]:
    if kind == "stdio":
        async with AsyncMCPClient.stdio(sys.executable, ["-c", SILENT_STDIO], **options) as c:
            yield c
        return
    if kind == "memory":
        async with AsyncMCPClient(MemoryTransport(), **options) as c:  # nobody answers
            yield c
        return
    app = web.Application()
    if kind == "sse":
        app.router.add_get("/mcp", no_endpoint)
        options["transport"] = "sse"
    elif kind == "streamable-http":
        app.router.add_post("/mcp", silent_streamable)
    else:
        app.router.add_post("/mcp", refuses_probe_then_silent)
    async with web_server(app) as server, AsyncMCPClient(str(server.make_url("/mcp")),
                                                         **options) as c:
        yield c


KINDS = ["stdio", "sse", "streamable-http", "http-handshake-silent", "memory"]


@pytest.mark.parametrize("kind", KINDS)
async def test_the_first_call_never_outlives_the_client_timeout(kind: str) -> None:
    async with silent_client(kind, timeout=0.5) as client:
        start = time.monotonic()
        with pytest.raises(RequestTimeoutError):
            await client.call_tool("t")
        elapsed = time.monotonic() - start
    assert elapsed < 0.5 + 0.35, elapsed


@pytest.mark.parametrize("kind", KINDS)
async def test_the_first_call_never_outlives_its_own_timeout(kind: str) -> None:
    async with silent_client(kind) as client:  # the client's default timeout: 60 s
        for call in (
            lambda: client.call_tool("t", timeout=0.5),
            lambda: client.call_tool("t", timeout=0.5, max_total_timeout=0.5),
            # (With reset_timeout_on_progress the timeout is one of inactivity, which
            # starts once connected: max_total_timeout bounds connecting.)
            lambda: client.call_tool("t", timeout=0.2, reset_timeout_on_progress=True,
                                     max_total_timeout=0.5),
            lambda: client.request("x/y", timeout=0.5),
        ):
            start = time.monotonic()
            with pytest.raises(RequestTimeoutError, match="connecting"):
                await call()
            elapsed = time.monotonic() - start
            assert elapsed < 0.5 + 0.35, elapsed


async def test_a_call_that_connects_has_the_rest_of_its_timeout_for_itself() -> None:
    """The handshake takes most of the call's timeout: the call then fails when its
    own timeout ends, not a whole timeout after the handshake."""
    transport = MemoryTransport()

    async def slow_handshake() -> None:
        while True:
            message = await transport.peer.receive()
            if isinstance(message, Request) and message.method == "initialize":
                await asyncio.sleep(0.4)
                await transport.peer.send(Response(message.id, INIT))

    server = asyncio.ensure_future(slow_handshake())
    try:
        async with AsyncMCPClient(transport, protocol="legacy") as client:
            start = time.monotonic()
            with pytest.raises(RequestTimeoutError):
                await client.call_tool("t", timeout=0.6)  # nobody answers the call
            elapsed = time.monotonic() - start
            assert client.protocol_version == "2025-11-25"
        assert 0.55 < elapsed < 0.6 + 0.35, elapsed
    finally:
        server.cancel()
        await asyncio.gather(server, return_exceptions=True)

