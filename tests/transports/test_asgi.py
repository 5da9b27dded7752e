"""The in-process ASGI transport: the official SDK's and FastMCP's apps, no socket.

Servers are built here, in this process, with the SDK's ``MCPServer`` and FastMCP; a
tool can wait on an ``asyncio.Event`` that the test's progress callback sets, which
proves SSE events reach the client while the response is still being sent.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, MutableMapping
from typing import Any

import pytest
from fastmcp import Context as FastContext
from fastmcp import FastMCP
from mcp.server.mcpserver import Context, MCPServer
from starlette.applications import Starlette
from starlette.routing import Mount

from mcp_async import (
    ASGITransport,
    AsyncMCPClient,
    BodyTooLargeError,
    ClientStateError,
    ConfigError,
    ConnectError,
    HTTPRequest,
    HTTPResponse,
    HTTPStatusError,
    ReadError,
    ReadTimeout,
    Timeout,
    TransportError,
)
from mcp_async.protocol.models import ProgressNotification
from mcp_async.transports.http.asgi import ASGI_URL

pytestmark = pytest.mark.filterwarnings(
    "ignore::mcp.shared.exceptions.MCPDeprecationWarning",
    "ignore::DeprecationWarning",
)

ERAS = ["2025-11-25", "2026-07-28"]


def sdk_server(released: asyncio.Event | None = None) -> MCPServer:
    """The official SDK's high-level server with an ``add`` tool and a ``stream`` tool
    that reports progress, then waits until ``released`` is set (by the client side)."""
    mcp = MCPServer("asgi-sdk")

    @mcp.tool()
    def add(a: int, b: int) -> int:
        return a + b

    @mcp.tool()
    async def stream(ctx: Context, steps: int = 2) -> str:
        for step in range(1, steps + 1):
            await ctx.report_progress(step, steps, f"step {step}")
        if released is not None:
            await asyncio.wait_for(released.wait(), 10)
        return f"streamed {steps}"

    @mcp.tool()
    async def slow(seconds: float) -> str:
        await asyncio.sleep(seconds)
        return "slept"

    return mcp


def fast_server(released: asyncio.Event | None = None) -> FastMCP:
    """The same tools with FastMCP."""
    mcp: FastMCP = FastMCP("asgi-fastmcp")

    @mcp.tool
    def add(a: int, b: int) -> int:
        return a + b

    @mcp.tool
    async def stream(ctx: FastContext, steps: int = 2) -> str:
        for step in range(1, steps + 1):
            await ctx.report_progress(step, steps, f"step {step}")
        if released is not None:
            await asyncio.wait_for(released.wait(), 10)
        return f"streamed {steps}"

    return mcp


def _others() -> set[asyncio.Task[Any]]:
    """Tasks other than this one and sse_starlette's per-loop shutdown watcher (a global
    of that library that outlives every response by design)."""
    current = asyncio.current_task()
    return {
        task for task in asyncio.all_tasks()
        if task is not current and "_shutdown_watcher" not in repr(task.get_coro())
    }


async def _streamed_call(client: AsyncMCPClient, released: asyncio.Event) -> None:
    """A call whose tool finishes only after the client saw its progress: fails (times
    out) unless SSE events are delivered while the response is still open."""
    seen: list[ProgressNotification] = []

    def progress(note: ProgressNotification) -> None:
        seen.append(note)
        if len(seen) == 2:
            released.set()

    result = await client.call_tool("stream", {"steps": 2}, progress=progress, timeout=15)
    assert result.text == "streamed 2"
    assert [note.progress for note in seen] == [1, 2]


@pytest.mark.parametrize("protocol", ERAS)
@pytest.mark.parametrize("reply", ["json", "sse"])
async def test_sdk_server_in_process(protocol: str, reply: str) -> None:
    released = asyncio.Event()
    app = sdk_server(released).streamable_http_app(json_response=reply == "json")
    before = _others()
    async with AsyncMCPClient(app, protocol=protocol) as client:
        assert client.url == ASGI_URL
        assert (await client.call_tool("add", {"a": 2, "b": 40})).structured_content == {
            "result": 42
        }
        assert client.protocol_version == protocol
        assert client.transport_kind == "streamable-http"
        if reply == "sse":
            await _streamed_call(client, released)
        else:  # a JSON reply carries only the response
            released.set()
            assert (await client.call_tool("stream", {"steps": 2})).text == "streamed 2"
    assert _others() <= before


@pytest.mark.parametrize("protocol", ERAS)
@pytest.mark.parametrize("reply", ["json", "sse"])
async def test_fastmcp_in_process(protocol: str, reply: str) -> None:
    released = asyncio.Event()
    app = fast_server(released).http_app(json_response=reply == "json")
    before = _others()
    async with AsyncMCPClient(app, protocol=protocol) as client:
        assert (await client.call_tool("add", {"a": 1, "b": 2})).structured_content == {
            "result": 3
        }
        assert client.protocol_version == protocol
        if reply == "sse":
            await _streamed_call(client, released)
    assert _others() <= before


async def test_a_starlette_mount_and_its_redirect() -> None:
    """A server mounted under a prefix (its session manager run by the outer app's
    lifespan); ``Mount`` answers ``/demo`` with a 307 to ``/demo/``, which is followed."""
    mcp = sdk_server()
    inner = mcp.streamable_http_app(streamable_http_path="/")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with mcp.session_manager.run():
            yield

    outer = Starlette(routes=[Mount("/servers/demo", app=inner)], lifespan=lifespan)
    url = "http://localhost:8000/servers/demo"
    async with AsyncMCPClient(url, http_transport=ASGITransport(outer)) as client:
        assert (await client.call_tool("add", {"a": 3, "b": 4})).structured_content == {
            "result": 7
        }


async def test_legacy_sse_detected_in_process() -> None:
    """Detection and the legacy HTTP+SSE transport run over the same HTTP layer."""
    app = sdk_server().sse_app()
    url = "http://localhost:8000/sse"
    async with AsyncMCPClient(url, http_transport=ASGITransport(app)) as client:
        assert (await client.call_tool("add", {"a": 5, "b": 5})).structured_content == {
            "result": 10
        }
        assert client.transport_kind == "sse"


async def test_the_lifespan_runs_unless_the_app_is_already_running() -> None:
    app = sdk_server().streamable_http_app()
    # Without its lifespan the SDK's session manager has no task group: the app fails
    # (Starlette answers 500 before it re-raises, as a socket client would see).
    with pytest.raises(HTTPStatusError) as failed:
        async with AsyncMCPClient(ASGITransport(app, lifespan=False)) as client:
            await client.ping()
    assert failed.value.status == 500
    # Told it is running, the transport leaves the lifespan to its owner.
    app = sdk_server().streamable_http_app()
    async with (
        app.router.lifespan_context(app),
        AsyncMCPClient(ASGITransport(app, lifespan=False)) as client,
    ):
        assert (await client.call_tool("add", {"a": 1, "b": 1})).text == "2"


# -- a small raw ASGI application: lifespan and failure modes ---------------------------

class RawApp:
    """A hand-written ASGI app: records its lifespan and the requests it got."""

    def __init__(self, *, mode: str = "ok", lifespan: str = "ok") -> None:
        self.mode = mode
        self.lifespan = lifespan
        self.events: list[str] = []
        self.requests: list[dict[str, Any]] = []
        self.received = asyncio.Event()
        self.finished = asyncio.Event()

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(scope, receive, send)
            return
        message = await receive()
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        self.requests.append({"path": scope["path"], "headers": headers,
                              "body": message["body"], "state": scope["state"]})
        self.received.set()
        try:
            await self._answer(send)
        finally:
            self.finished.set()

    async def _lifespan(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if self.lifespan == "unsupported":
            raise RuntimeError("no lifespan here")
        await receive()
        if self.lifespan == "fails":
            await send({"type": "lifespan.startup.failed", "message": "no database"})
            return
        scope["state"]["ready"] = True
        self.events.append("startup")
        await send({"type": "lifespan.startup.complete"})
        await receive()
        self.events.append("shutdown")
        await send({"type": "lifespan.shutdown.complete"})

    async def _answer(self, send: Any) -> None:
        mode = self.mode
        if mode == "raises":
            raise ValueError("boom")
        if mode == "silent":
            return
        start = {"type": "http.response.start", "status": 200,
                 "headers": [(b"content-type", b"application/json")]}
        if mode == "hangs":
            await asyncio.Event().wait()
        await send(start)
        if mode == "breaks":
            await send({"type": "http.response.body", "body": b'{"a"', "more_body": True})
            raise ValueError("broken halfway")
        if mode == "stalls":
            await send({"type": "http.response.body", "body": b"[", "more_body": True})
            await asyncio.Event().wait()
        if mode == "big":
            for _ in range(10):
                await send({"type": "http.response.body", "body": b" " * 1000, "more_body": True})
        await send({"type": "http.response.body", "body": b'{"ok": true}'})


async def test_lifespan_startup_shutdown_and_state() -> None:
    app = RawApp()
    client = AsyncMCPClient(app, auth="s3cret", headers={"X-Extra": "1"})
    async with client:
        assert app.events == []  # started by the first request
        assert await client.send_request("", {"q": 1}) == {"ok": True}
        assert app.events == ["startup"]
    assert app.events == ["startup", "shutdown"]
    (seen,) = app.requests
    # The HTTP hooks ran above the in-process layer.
    assert seen["headers"]["authorization"] == "Bearer s3cret"
    assert seen["headers"]["x-extra"] == "1"
    assert seen["headers"]["host"] == "localhost:8000"
    assert seen["path"] == "/mcp"
    assert seen["body"] == b'{"q":1}' or seen["body"] == b'{"q": 1}'
    assert seen["state"] == {"ready": True}


async def test_an_app_without_lifespan_support_works_in_auto_mode_only() -> None:
    async with AsyncMCPClient(RawApp(lifespan="unsupported")) as client:
        assert await client.send_request("", {}) == {"ok": True}
    strict = ASGITransport(RawApp(lifespan="unsupported"), lifespan=True)
    async with AsyncMCPClient(ASGI_URL, http_transport=strict) as client:
        with pytest.raises(ConnectError, match="did not start its lifespan") as failed:
            await client.send_request("", {})
    assert not failed.value.sent


async def test_a_failed_startup_is_a_connect_error() -> None:
    async with AsyncMCPClient(RawApp(lifespan="fails")) as client:
        with pytest.raises(ConnectError, match="failed to start: no database"):
            await client.send_request("", {})


async def test_app_failures_are_typed() -> None:
    async with AsyncMCPClient(RawApp(mode="raises")) as client:
        with pytest.raises(ConnectError, match="ValueError: boom") as raised:
            await client.send_request("", {})
        assert raised.value.sent and isinstance(raised.value.__cause__, ValueError)
    async with AsyncMCPClient(RawApp(mode="silent")) as client:
        with pytest.raises(ConnectError, match="without sending a response"):
            await client.send_request("", {})
    async with AsyncMCPClient(RawApp(mode="breaks")) as client:
        with pytest.raises(ReadError, match="broken halfway"):
            await client.send_request("", {})
    async with AsyncMCPClient(RawApp(mode="big"), max_body_size=5000) as client:
        with pytest.raises(BodyTooLargeError):
            await client.send_request("", {})


@pytest.mark.parametrize("mode", ["hangs", "stalls"])
async def test_timeouts_cancel_the_app_task(mode: str) -> None:
    app = RawApp(mode=mode)
    before = _others()
    async with AsyncMCPClient(app) as client:
        with pytest.raises(ReadTimeout):
            await client.send_request("", {}, timeout=Timeout(total=0.3))
        await asyncio.wait_for(app.finished.wait(), 5)  # cancelled, not left running
    assert _others() <= before


async def test_close_cancels_and_awaits_open_streams() -> None:
    """An in-flight call and the GET stream are running when the client closes: their
    tasks are cancelled and awaited, the lifespan shuts down, nothing is left."""
    released = asyncio.Event()  # never set: the call waits until it is cancelled
    app = sdk_server(released).streamable_http_app()
    before = _others()
    transport = ASGITransport(app)
    client = AsyncMCPClient(ASGI_URL, http_transport=transport, listen=True,
                            protocol="2025-11-25")
    async with client:
        await client.call_tool("add", {"a": 1, "b": 1})
        call = asyncio.ensure_future(client.call_tool("stream", {"steps": 1}, timeout=30))
        await asyncio.sleep(0.2)
        assert not call.done()
    with pytest.raises(ClientStateError):
        await call
    assert _others() <= before
    with pytest.raises(ClientStateError):
        await transport.send(HTTPRequest("GET", ASGI_URL))


async def test_a_custom_http_layer_is_used_with_the_hooks_above_it() -> None:
    """Any object with ``send``/``aclose`` is an HTTP layer; here one that records."""
    inner = ASGITransport(RawApp())
    sent: list[str] = []

    class Recording:
        async def send(self, request: HTTPRequest) -> HTTPResponse:
            sent.append(request.headers.get("Authorization", ""))
            return await inner.send(request)

        async def aclose(self) -> None:
            sent.append("closed")
            await inner.aclose()

    async with AsyncMCPClient("http://localhost:8000/x", http_transport=Recording(),
                              auth="tok") as client:
        assert await client.send_request("", {}) == {"ok": True}
    assert sent == ["Bearer tok", "closed"]


async def test_bad_configuration_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="ASGI application"):
        ASGITransport("not an app")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="lifespan"):
        ASGITransport(RawApp(), lifespan="sometimes")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="url must be"):
        AsyncMCPClient(42)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="not both"):
        AsyncMCPClient(ASGI_URL, http_transport=ASGITransport(RawApp()),
                       session=object())  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="send"):
        AsyncMCPClient(ASGI_URL, http_transport=object())  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="needs a URL"):
        AsyncMCPClient(RawApp(), http_transport=ASGITransport(RawApp()))


async def test_closing_the_transport_under_waiting_and_streaming_requests() -> None:
    """A request still waiting for its response and a body half read when the
    transport closes: typed errors, the application's tasks cancelled and awaited."""
    waiting_app, streaming_app = RawApp(mode="hangs"), RawApp(mode="stalls")
    before = _others()
    waiting_layer, streaming_layer = ASGITransport(waiting_app), ASGITransport(streaming_app)
    waiting = asyncio.ensure_future(waiting_layer.send(HTTPRequest("POST", ASGI_URL, body=b"{}")))
    response = await streaming_layer.send(HTTPRequest("POST", ASGI_URL, body=b"{}"))
    chunks = response.iter_chunks()
    assert await chunks.__anext__() == b"["
    reading = asyncio.ensure_future(chunks.__anext__())
    unread = await streaming_layer.send(HTTPRequest("POST", ASGI_URL, body=b"{}"))
    await asyncio.wait_for(waiting_app.received.wait(), 10)
    await waiting_layer.aclose()
    await streaming_layer.aclose()
    with pytest.raises(ClientStateError, match="was closed"):
        await unread.read()  # cut short: never mistaken for a complete body
    with pytest.raises(ClientStateError, match="closed unanswered"):
        await waiting
    with pytest.raises(ClientStateError, match="was closed"):
        await reading
    assert waiting_app.finished.is_set() and streaming_app.finished.is_set()
    assert waiting_app.events == streaming_app.events == ["startup", "shutdown"]
    assert _others() <= before


async def test_a_cancelled_caller_cancels_its_request() -> None:
    app = RawApp(mode="hangs")
    async with ASGITransport(app) as layer:
        sending = asyncio.ensure_future(layer.send(HTTPRequest("POST", ASGI_URL, body=b"")))
        await asyncio.wait_for(app.received.wait(), 10)
        sending.cancel()
        with pytest.raises(asyncio.CancelledError):
            await sending
        await asyncio.wait_for(app.finished.wait(), 5)


class FailingLifespan:
    """An app whose lifespan fails at shutdown, or dies while the app runs."""

    def __init__(self, how: str) -> None:
        self.how = how

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "lifespan"
        await receive()
        await send({"type": "lifespan.startup.complete"})
        if self.how == "dies":
            raise RuntimeError("lifespan died")
        await receive()
        await send({"type": "lifespan.shutdown.failed", "message": "could not flush"})


@pytest.mark.parametrize(("how", "message"), [("fails", "could not flush"),
                                              ("dies", "RuntimeError: lifespan died")])
async def test_lifespan_failures_are_reported_at_close(how: str, message: str) -> None:
    layer = ASGITransport(FailingLifespan(how))
    await layer.start()
    await asyncio.sleep(0)
    with pytest.raises(TransportError, match=message):
        await layer.aclose()


async def test_a_request_without_a_timeout_gets_the_clients() -> None:
    """``send_request`` without ``timeout=`` carries none: the client's bounds it."""
    async with AsyncMCPClient(RawApp(mode="hangs"), timeout=0.3) as client:
        with pytest.raises(ReadTimeout):
            await asyncio.wait_for(client.send_request("", {}), 10)
