"""In-process HTTP: an ASGI application as the client's HTTP layer, with no socket.

:class:`ASGITransport` is an :class:`~mcp_async.HTTPTransport`: it turns one
:class:`~mcp_async.HTTPRequest` into one :class:`~mcp_async.HTTPResponse` by calling an
ASGI application in the same event loop. Everything above it (the hooks, Streamable HTTP
with JSON or SSE replies, legacy HTTP+SSE, detection, both protocol eras) runs unchanged.

Each request runs the application in a task of its own, so a streamed (SSE) body
reaches the client chunk by chunk as the application sends it, with back-pressure. The
application's failures are translated here into the ``mcp_async`` exception tree, as
``http.py`` does for aiohttp.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from typing import Any, Literal

from multidict import CIMultiDict
from yarl import URL

from ..._config import DEFAULT_TIMEOUT, Timeout, TimeoutLike, to_timeout
from ..._exceptions import (
    BodyTooLargeError,
    ClientStateError,
    ConfigError,
    ConnectError,
    ConnectTimeout,
    MCPClientError,
    ReadError,
    ReadTimeout,
    TransportError,
)
from .aiohttp_transport import MAX_REDIRECTS, _follow
from .base import HTTPRequest, HTTPResponse

__all__ = ["ASGI_URL", "ASGIApp", "ASGITransport"]

_log = logging.getLogger("mcp_async.asgi")

#: An ASGI 3 application: ``await app(scope, receive, send)``.
ASGIApp = Callable[
    [
        MutableMapping[str, Any],
        Callable[[], Awaitable[MutableMapping[str, Any]]],
        Callable[[MutableMapping[str, Any]], Awaitable[None]],
    ],
    Awaitable[None],
]

#: The URL ``AsyncMCPClient(app)`` uses: ``/mcp`` is where the official SDK's
#: ``streamable_http_app()`` and FastMCP's ``http_app()`` serve MCP. The explicit port
#: satisfies the SDK's default DNS-rebinding protection (``localhost:*``).
ASGI_URL = "http://localhost:8000/mcp"

#: Body bytes an application may send ahead of the client's reading before its
#: ``send`` waits (back-pressure, as a socket's buffers give).
_BUFFER = 256 * 1024
#: Default cap on a body read whole, as ``AsyncMCPClient(max_body_size=...)``.
_MAX_BODY = 16 * 1024 * 1024


class _Exchange:
    """One request to the application: its task, the request body it reads, and the
    response it sends, buffered for the client."""

    __slots__ = (
        "_body", "_body_sent", "buffered", "chunks", "complete", "disconnected", "error",
        "readable", "start", "task", "url", "writable",
    )

    def __init__(self, body: bytes, url: str) -> None:
        loop = asyncio.get_running_loop()
        self._body = body
        self._body_sent = False
        self.url = url
        self.start: asyncio.Future[tuple[int, CIMultiDict[str]]] = loop.create_future()
        self.chunks: deque[bytes] = deque()
        self.buffered = 0
        #: The application sent its last body message (or returned after starting).
        self.complete = False
        self.error: BaseException | None = None
        self.disconnected = asyncio.Event()
        self.readable = asyncio.Event()
        self.writable = asyncio.Event()
        self.writable.set()
        self.task: asyncio.Task[None] | None = None

    async def receive(self) -> MutableMapping[str, Any]:
        if not self._body_sent:
            self._body_sent = True
            return {"type": "http.request", "body": self._body, "more_body": False}
        # Like a server: nothing more until the client goes away (SSE responses wait
        # here to notice the disconnect).
        await self.disconnected.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: MutableMapping[str, Any]) -> None:
        if self.disconnected.is_set():
            return  # as uvicorn does: the application learns it from receive()
        kind = message.get("type")
        if kind == "http.response.start":
            if self.start.done():
                raise RuntimeError("http.response.start sent twice")
            headers: CIMultiDict[str] = CIMultiDict()
            for name, value in message.get("headers", ()):
                headers.add(bytes(name).decode("latin-1"), bytes(value).decode("latin-1"))
            self.start.set_result((int(message["status"]), headers))
        elif kind == "http.response.body":
            if not self.start.done():
                raise RuntimeError("http.response.body sent before http.response.start")
            if self.complete:
                raise RuntimeError("http.response.body sent after the body ended")
            body = bytes(message.get("body", b""))
            while self.buffered >= _BUFFER:
                self.writable.clear()
                await self.writable.wait()
                if self.disconnected.is_set():
                    return
            if body:
                self.chunks.append(body)
                self.buffered += len(body)
            if not message.get("more_body", False):
                self.complete = True
            self.readable.set()
        # Other messages (trailers, extensions this transport does not offer) are ignored.

    async def run(self, app: ASGIApp, scope: MutableMapping[str, Any]) -> None:
        """Run the application for this request; never raises but CancelledError."""
        try:
            await app(scope, self.receive, self.send)
        except Exception as exc:  # the application's failure, for the client
            if self.disconnected.is_set():
                self._ended(None)  # failing once the client went away: no one to tell
            elif self.start.done() and self.complete:
                # The client has the whole response already, as it would over a socket.
                _log.warning("the ASGI application failed after answering %s", self.url,
                             exc_info=exc)
                self._ended(None)
            else:
                self._ended(exc)
        except BaseException:  # cancelled (the client or the transport closed), or exiting
            self._ended(None)
            raise
        else:
            self._ended(None)

    def _ended(self, exc: BaseException | None) -> None:
        if not self.start.done():
            failure: MCPClientError
            if exc is not None:
                failure = ConnectError(
                    f"the ASGI application failed before answering {self.url}: "
                    f"{type(exc).__name__}: {exc}", sent=True,
                )
                failure.__cause__ = exc
            elif self.disconnected.is_set():
                failure = ClientStateError(f"the request to {self.url} was closed unanswered")
            else:
                failure = ConnectError(
                    f"the ASGI application returned without sending a response ({self.url})",
                    sent=True,
                )
            self.start.set_exception(failure)
            self.start.exception()  # retrieved: a caller cancelled meanwhile must not warn
        elif not self.complete:
            if exc is not None:
                error = ReadError(
                    f"the ASGI application failed while sending the body of {self.url}: "
                    f"{type(exc).__name__}: {exc}"
                )
                error.__cause__ = exc
                self.error = error
            elif self.disconnected.is_set():  # cut by close: not a complete body
                self.error = ClientStateError(f"the response from {self.url} was closed")
            self.complete = True
        self.readable.set()

    def close(self) -> None:
        """The client is done with the response: the application sees a disconnect, and
        its task is cancelled unless it already sent the whole body."""
        self.disconnected.set()
        self.writable.set()
        self.readable.set()
        task = self.task
        if task is not None and not task.done() and not self.complete:
            task.cancel()


class _Chunks:
    """The body as the application sends it (each wait bounded by the read timeout)."""

    __slots__ = ("_deadline", "_exchange", "_read")

    def __init__(self, exchange: _Exchange, read: float | None, deadline: float | None) -> None:
        self._exchange = exchange
        self._read = read
        self._deadline = deadline

    def __aiter__(self) -> _Chunks:
        return self

    async def __anext__(self) -> bytes:
        exchange = self._exchange
        while True:
            if exchange.chunks:
                chunk = exchange.chunks.popleft()
                exchange.buffered -= len(chunk)
                exchange.writable.set()
                return chunk
            if exchange.error is not None:
                raise exchange.error
            if exchange.complete:
                raise StopAsyncIteration
            if exchange.disconnected.is_set():
                raise ClientStateError(f"the response from {exchange.url} was closed")
            exchange.readable.clear()
            wait = _wait_for(self._read, self._deadline)
            try:
                async with asyncio.timeout(wait):
                    await exchange.readable.wait()
            except TimeoutError:
                exchange.close()
                raise ReadTimeout(f"timed out waiting for {exchange.url}") from None


def _wait_for(read: float | None, deadline: float | None) -> float | None:
    """The longest wait allowed now: the read timeout, cut at the total deadline."""
    if deadline is None:
        return read
    left = max(0.0, deadline - asyncio.get_running_loop().time())
    return left if read is None else min(read, left)


class _ASGIResponse(HTTPResponse):
    """A response the application sends while the client reads it."""

    __slots__ = ("_chunks", "_exchange", "_max_body")

    def __init__(
        self,
        status: int,
        headers: CIMultiDict[str],
        url: str,
        exchange: _Exchange,
        chunks: _Chunks,
        max_body: int | None,
    ) -> None:
        super().__init__(status, headers, url)
        self._exchange = exchange
        self._chunks = chunks
        self._max_body = max_body

    async def read(self) -> bytes:
        parts: list[bytes] = []
        size = 0
        limit = self._max_body
        try:
            async for chunk in self._chunks:
                size += len(chunk)
                if limit is not None and size > limit:
                    raise BodyTooLargeError(limit)
                parts.append(chunk)
        finally:
            self.release()
        return b"".join(parts)

    def iter_chunks(self) -> AsyncIterator[bytes]:
        return self._chunks

    @property
    def at_eof(self) -> bool:
        """True once the whole body has been received."""
        exchange = self._exchange
        return exchange.complete and not exchange.chunks

    def release(self) -> None:
        exchange = self._exchange
        if exchange.complete and not exchange.chunks:
            return  # read to the end: the application may finish its work in peace
        exchange.close()

    def close(self) -> None:
        self._exchange.close()


class ASGITransport:
    """Sends the client's HTTP requests to an ASGI application in this process.

    Use it for an MCP server written in Python (the official SDK's
    ``streamable_http_app()``, FastMCP's ``http_app()``, a Starlette app that mounts
    one): ``AsyncMCPClient(app)``, or ``AsyncMCPClient(url, http_transport=
    ASGITransport(app))`` to choose the URL (its host and path reach the application).

    Args:
        app: the ASGI 3 application.
        lifespan: ``"auto"`` (default) runs the application's lifespan (startup before
            the first request, shutdown in :meth:`aclose`) if it speaks the lifespan
            protocol; ``True`` requires it to; ``False`` says the application is
            already running (its lifespan is yours to run).
        lifespan_timeout: seconds that startup and shutdown may each take, and that
            :meth:`aclose` waits for request tasks it cancelled.
        max_body_size: the most bytes of a body read whole
            (:class:`~mcp_async.BodyTooLargeError` beyond; ``None``: no limit).
        client: the ``(host, port)`` the application sees as the peer.
        timeout: for a request that carries none (``send_request`` without
            ``timeout=``): a :class:`~mcp_async.Timeout` or seconds (default 60 s
            total). ``AsyncMCPClient(app, timeout=...)`` passes the client's.

    The client that is given this transport closes it. The application's failures
    surface as :class:`~mcp_async.ConnectError` (before it answered, ``sent=True``),
    :class:`~mcp_async.ReadError` (while it sent the body) or, for a lifespan startup
    that fails, :class:`~mcp_async.ConnectError` (``sent=False``).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        lifespan: bool | Literal["auto"] = "auto",
        lifespan_timeout: float = 30.0,
        max_body_size: int | None = _MAX_BODY,
        client: tuple[str, int] = ("127.0.0.1", 50000),
        timeout: TimeoutLike = None,
    ) -> None:
        if not callable(app):
            raise ConfigError(f"app must be an ASGI application, got {type(app).__name__}")
        if not (isinstance(lifespan, bool) or lifespan == "auto"):
            raise ConfigError(f"lifespan must be True, False or 'auto', got {lifespan!r}")
        if isinstance(lifespan_timeout, bool) or not (
            isinstance(lifespan_timeout, int | float) and lifespan_timeout > 0
        ):
            raise ConfigError(
                f"lifespan_timeout must be a positive number, got {lifespan_timeout!r}"
            )
        self.app = app
        self.lifespan = lifespan
        self.lifespan_timeout = float(lifespan_timeout)
        self.max_body_size = max_body_size
        self.timeout = to_timeout(timeout, DEFAULT_TIMEOUT)
        self._client = client
        #: The lifespan state, copied into each request's scope (ASGI lifespan ``state``).
        self._state: dict[str, Any] = {}
        self._started = lifespan is False
        self._closed = False
        self._starting: asyncio.Lock | None = None
        self._lifespan_task: asyncio.Task[None] | None = None
        self._lifespan_inbox: asyncio.Queue[dict[str, Any]] | None = None
        self._lifespan_replies: asyncio.Queue[MutableMapping[str, Any]] | None = None
        self._exchanges: set[_Exchange] = set()

    @property
    def started(self) -> bool:
        """True once the lifespan startup completed (or was not this transport's to run)."""
        return self._started

    async def __aenter__(self) -> ASGITransport:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def start(self) -> None:
        """Run the lifespan startup now (the first request does it otherwise)."""
        if self._closed:
            raise ClientStateError("the ASGI transport is closed")
        if self._started:
            return
        if self._starting is None:
            self._starting = asyncio.Lock()
        async with self._starting:
            if self._closed:
                raise ClientStateError("the ASGI transport is closed")
            if not self._started:
                await self._startup()
                self._started = True

    async def _startup(self) -> None:
        inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        replies: asyncio.Queue[MutableMapping[str, Any]] = asyncio.Queue()
        self._lifespan_inbox, self._lifespan_replies = inbox, replies
        scope = {
            "type": "lifespan",
            "asgi": {"version": "3.0", "spec_version": "2.0"},
            "state": self._state,
        }

        async def receive() -> MutableMapping[str, Any]:
            return await inbox.get()

        async def send(message: MutableMapping[str, Any]) -> None:
            await replies.put(message)

        async def run() -> None:
            try:
                await self.app(scope, receive, send)
            except asyncio.CancelledError:
                raise
            except BaseException as exc:  # ends the lifespan; reported by _await_reply
                await replies.put({"type": "lifespan.error", "error": exc})
            else:
                await replies.put({"type": "lifespan.returned"})

        self._lifespan_task = asyncio.create_task(run(), name="mcp_async ASGI lifespan")
        inbox.put_nowait({"type": "lifespan.startup"})
        reply = await self._await_reply("startup")
        kind = reply["type"]
        if kind == "lifespan.startup.complete":
            return
        self._lifespan_task = None  # it ended, or is cancelled below
        if kind == "lifespan.startup.failed":
            raise ConnectError(
                f"the ASGI application failed to start: {reply.get('message') or 'no reason'}",
                sent=False,
            )
        error = reply.get("error")
        if self.lifespan == "auto":
            # An application without lifespan support raises or returns at once.
            _log.debug("the ASGI application does not run a lifespan: %r", error)
            return
        failure = ConnectError(
            "the ASGI application did not start its lifespan"
            + (f": {type(error).__name__}: {error}" if error is not None else ""),
            sent=False,
        )
        raise failure from error

    async def _await_reply(self, phase: str) -> MutableMapping[str, Any]:
        assert self._lifespan_replies is not None and self._lifespan_task is not None
        try:
            async with asyncio.timeout(self.lifespan_timeout):
                return await self._lifespan_replies.get()
        except TimeoutError:
            await _cancel(self._lifespan_task)
            self._lifespan_task = None
            error = ConnectTimeout if phase == "startup" else ReadTimeout
            raise error(
                f"the ASGI application's lifespan {phase} took more than "
                f"{self.lifespan_timeout:g} s"
            ) from None
        except asyncio.CancelledError:
            await _cancel(self._lifespan_task)
            self._lifespan_task = None
            raise

    async def send(self, request: HTTPRequest) -> HTTPResponse:
        """Send ``request`` to the application and return its response (any status).

        Same-origin ``307``/``308`` redirects are followed as over aiohttp (a Starlette
        ``Mount`` redirects ``/mcp`` to ``/mcp/``).
        """
        if not self._started or self._closed:
            await self.start()
        url = request.url
        for hop in range(MAX_REDIRECTS + 1):
            response = await self._exchange(request, url)
            if not 300 <= response.status < 400 or response.status == 304:
                return response
            location = response.headers.get("Location")
            response.close()
            url = _follow(url, response.status, location, hop, response.headers)
        raise AssertionError("unreachable: _follow raises after MAX_REDIRECTS")  # pragma: no cover

    async def _exchange(self, request: HTTPRequest, url: str) -> HTTPResponse:
        scope = self._scope(request, url)
        body = request.body or b""
        exchange = _Exchange(body, url)
        loop = asyncio.get_running_loop()
        timeout = request.timeout or self.timeout
        deadline = None
        if timeout is not None and timeout.total is not None:
            deadline = loop.time() + timeout.total
        task = exchange.task = asyncio.create_task(
            exchange.run(self.app, scope), name=f"mcp_async ASGI {request.method} {url}"
        )
        self._exchanges.add(exchange)
        task.add_done_callback(lambda _: self._exchanges.discard(exchange))
        try:
            async with asyncio.timeout(_wait_for(_start_timeout(timeout), deadline)):
                status, headers = await exchange.start
        except TimeoutError:
            exchange.close()
            raise ReadTimeout(f"timed out waiting for {url}") from None
        except BaseException:
            exchange.close()
            raise
        chunks = _Chunks(exchange, timeout.read, deadline)
        return _ASGIResponse(status, headers, url, exchange, chunks, self.max_body_size)

    def _scope(self, request: HTTPRequest, url: str) -> dict[str, Any]:
        try:
            target = URL(url)
        except (ValueError, TypeError) as exc:
            raise ConnectError(f"invalid URL {url!r}: {exc}", sent=False) from None
        if target.scheme not in ("http", "https") or not target.host:
            raise ConnectError(f"invalid URL {url!r}: not an absolute http(s) URL", sent=False)
        port = target.port or (443 if target.scheme == "https" else 80)
        authority = target.host_port_subcomponent or ""
        body = request.body
        try:
            headers = [(b"host", authority.encode("ascii"))]
            for name, value in request.headers.items():
                lowered = name.lower()
                if lowered in ("host", "content-length"):
                    continue
                headers.append((lowered.encode("latin-1"), value.encode("latin-1")))
        except UnicodeError as exc:
            raise ConnectError(
                f"request to {url} has a header that is not Latin-1: {exc}", sent=False
            ) from None
        if body is not None:
            headers.append((b"content-length", str(len(body)).encode()))
        return {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": request.method.upper(),
            "scheme": target.scheme,
            "path": target.path,
            "raw_path": target.raw_path.encode("ascii"),
            "query_string": target.raw_query_string.encode("ascii"),
            "root_path": "",
            "headers": headers,
            "client": self._client,
            "server": (target.host, port),
            "state": dict(self._state),
        }

    async def aclose(self) -> None:
        """Cancel the requests still running (streams included) and wait for them, then
        run the lifespan shutdown if this transport ran the startup. Idempotent."""
        if self._closed:
            return
        self._closed = True
        exchanges = list(self._exchanges)
        for exchange in exchanges:
            exchange.close()
            task = exchange.task
            if task is not None and not task.done():
                task.cancel()  # background work after a complete response too
        tasks = [e.task for e in exchanges if e.task is not None and not e.task.done()]
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=self.lifespan_timeout)
            if pending:
                _log.warning("%d ASGI request task(s) ignored cancellation", len(pending))
        await self._shutdown()

    async def _shutdown(self) -> None:
        task, self._lifespan_task = self._lifespan_task, None
        if task is None or self._lifespan_inbox is None:
            return
        if task.done():  # the lifespan ended early: say why, if it failed
            replies = self._lifespan_replies
            reply = replies.get_nowait() if replies is not None and not replies.empty() else {}
            self._raise_shutdown_failure(reply)
            return
        self._lifespan_task = task  # for _await_reply
        self._lifespan_inbox.put_nowait({"type": "lifespan.shutdown"})
        reply = await self._await_reply("shutdown")
        self._lifespan_task = None
        await _cancel(task)  # it should have returned; never left running
        self._raise_shutdown_failure(reply)

    @staticmethod
    def _raise_shutdown_failure(reply: MutableMapping[str, Any]) -> None:
        kind = reply.get("type")
        if kind == "lifespan.shutdown.failed":
            raise TransportError(
                f"the ASGI application failed to shut down: {reply.get('message') or 'no reason'}"
            )
        if kind == "lifespan.error":
            error = reply["error"]
            raise TransportError(
                f"the ASGI application failed in its lifespan shutdown: "
                f"{type(error).__name__}: {error}"
            ) from error

    def __repr__(self) -> str:
        return f"<ASGITransport {self.app!r}>"


def _start_timeout(timeout: Timeout) -> float | None:
    """How long to wait for the response to start: the read timeout, as over aiohttp
    (the total deadline cuts it)."""
    return timeout.read


async def _cancel(task: asyncio.Task[Any]) -> None:
    """Cancel ``task`` and wait for it to end (whatever it raised is of no interest now)."""
    if task.done():
        if not task.cancelled():
            task.exception()
        return
    task.cancel()
    await asyncio.wait([task])
    if not task.cancelled():
        task.exception()
