"""The Streamable HTTP transport (MCP 2025-03-26 and later).

Each client message is one POST through the HTTP hook pipeline. A request's reply is a
JSON body or an SSE stream; every message in it goes to the engine, and reading stops
once the engine has the response. A message in it that cannot be routed (a response to
no request in flight, ``params`` that are not an object, ...) is logged and skipped:
only the awaited response decides the call (:mod:`..incoming`). The transport also owns
what is particular to this transport:

* the ``Mcp-Session-Id`` handed out by ``initialize`` and the ``MCP-Protocol-Version``
  header; a 404 for the session becomes :class:`~mcp_async.SessionExpiredError`, which
  the engine answers with a new handshake;
* the standalone GET stream (a :class:`~mcp_async.transports.http.sse_streams.Listener`),
  opened after the handshake when the server assigned a session id and something needs
  server push (``listen``: always, never, or a predicate asked after each handshake;
  :meth:`StreamableHTTPTransport.want_push` opens it later when the need arises). A
  stream holds its connection for good, so a client that needs no push opens none;
* resumption: when a reply stream ends or breaks before its response, the transport
  waits the server's ``retry`` time and re-attaches with GET and ``Last-Event-ID``,
  until the response arrives on that stream (or on the GET stream);
* ``DELETE`` of the session on close.

In the stateless era (2026-07-28) there is no session, no GET stream and no
resumption: every POST carries ``Mcp-Method`` (and ``Mcp-Name``) besides
``MCP-Protocol-Version``, and a reply stream that breaks loses its request
(:class:`~mcp_async.ConnectionLostError`; the engine may send it again under a new id).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import replace

from ..._config import Timeout
from ..._exceptions import (
    ConnectionLostError,
    ContentTypeError,
    HTTPStatusError,
    InvalidJSONError,
    MCPClientError,
    ReadError,
    ReadTimeout,
    SessionExpiredError,
    TransportError,
    UnexpectedResponseError,
)
from ...protocol import jsonrpc, mcp
from ...protocol.jsonrpc import ErrorResponse, Message, Notification, Request, Response
from ...protocol.sse import SSEDecoder
from ..incoming import routable
from ..message import Call, MessageTransport, Reply, TransportCapabilities
from ..wire import NotModernServerError, WireRules
from .base import Handler, HTTPRequest, HTTPResponse
from .sse_streams import Listener, ReconnectPolicy, gives_up
from .status import raise_for_status

__all__ = ["StreamableHTTPTransport"]

logger = logging.getLogger("mcp_async")

_DRAIN_SECONDS = 1.0
_NOTIFY_TIMEOUT = Timeout(total=10.0, connect=10.0)
#: How long the handshake waits for the server to answer the GET stream request.
_LISTEN_WAIT = 5.0

#: The era probe's request, and the statuses with which a server that does not speak
#: the stateless era refuses it (when no JSON-RPC error body says more).
_PROBE_METHOD = "server/discover"
_NOT_MODERN_STATUSES = frozenset({400, 404, 405})

#: The rules before a revision is negotiated: sessions, no routing headers (no version yet).
_BEFORE_NEGOTIATION = WireRules("")


class StreamableHTTPTransport(MessageTransport):
    """MCP over Streamable HTTP, sending through ``send`` (the HTTP hook pipeline)."""

    kind = "streamable-http"
    #: Server push is the GET stream (handshake era) or a request's own reply stream.
    capabilities = TransportCapabilities(
        server_push=True, resumable=True, sessions=True, cancels_by_abort=True,
        http_headers=True,
    )

    def __init__(
        self,
        url: str,
        send: Handler,
        *,
        headers: Mapping[str, str] | None = None,
        max_event_size: int | None = None,
        default_timeout: Timeout | None = None,
        listen: bool | Callable[[], bool] = True,
        reconnect: ReconnectPolicy | None = None,
    ) -> None:
        self.url = url
        self._send = send
        self._headers = dict(headers or {})
        self._max_event_size = max_event_size
        self._default_timeout = default_timeout
        self._listen = listen
        self._reconnect = reconnect or ReconnectPolicy()
        self._session_id: str | None = None
        self._protocol_version: str | None = None
        #: What the negotiated revision asks (sessions until one is negotiated).
        self._wire = _BEFORE_NEGOTIATION
        self._base_headers: dict[str, str] = {}
        self._listener: Listener | None = None
        #: The handshake of the current session is over (the GET stream may open).
        self._ready = False
        self._drains: dict[asyncio.Task[None], HTTPResponse] = {}
        #: Replies being read now: closing the transport aborts them. (A dict, emptied
        #: with clear(), which frees its table: an idle transport then holds 64 bytes,
        #: not an empty set's 216; a gateway holds thousands.)
        self._reading: dict[HTTPResponse, None] = {}
        self._rebuild_headers()

    @property
    def session_id(self) -> str | None:
        """The ``Mcp-Session-Id`` in use (``None`` if stateless or before the handshake)."""
        return self._session_id

    @property
    def listening(self) -> bool:
        """Whether the standalone GET stream is open right now."""
        return self._listener is not None and self._listener.connected

    # -- headers -------------------------------------------------------------------------
    def _rebuild_headers(self) -> None:
        headers = dict(self._headers)
        headers.update(mcp.request_headers(self._session_id, self._protocol_version))
        headers["Content-Type"] = mcp.JSON_CONTENT_TYPE
        self._base_headers = headers

    def _request_headers(self, extra: Mapping[str, str] | None) -> dict[str, str]:
        headers = self._base_headers.copy()
        if extra:
            headers.update(extra)
        return headers

    # -- session life ----------------------------------------------------------------------
    async def prepare(self) -> None:
        """Forget the old session (and its GET stream) before a new handshake."""
        await self._stop_listening()
        self._ready = False
        self._session_id = None
        self._protocol_version = None
        self._wire = _BEFORE_NEGOTIATION
        self._rebuild_headers()

    #: A session id that closing leaves open on the server (a shared, exported one).
    _kept: str | None = None

    def adopt_session(self, session_id: str, *, keep_open: bool = False) -> None:
        """Continue the server's session ``session_id`` (a resumed, exported session)
        instead of running a handshake; ``keep_open``: closing does not end it."""
        self._session_id = session_id
        self._rebuild_headers()
        if keep_open:
            self._kept = session_id

    def keep_open(self) -> None:
        """Closing leaves the current session open on the server (it was exported)."""
        self._kept = self._session_id

    def negotiated(self, wire: WireRules) -> None:
        """Send ``MCP-Protocol-Version`` from now on, and the revision's routing headers."""
        self._protocol_version = wire.version
        self._wire = wire
        self._rebuild_headers()

    async def handshake_done(self) -> None:
        """Open the GET stream when the server assigned a session id and ``listen`` (or
        its predicate) says something needs server push."""
        self._ready = True
        listen = self._listen
        if self._session_id is not None and (listen() if callable(listen) else listen):
            listener = self._new_listener()
            if listener is not None:
                await listener.start(wait=_LISTEN_WAIT)

    def want_push(self) -> bool:
        """Something needs server push now (a handler or a listen was added after the
        handshake): start opening the GET stream if the session has one and it was
        never opened; returns at once. True if a stream was started."""
        listener = self._new_listener()
        if listener is None:
            return False
        listener.begin()
        return True

    async def await_push(self) -> None:
        """As :meth:`want_push`, then wait (a few seconds at most) for the server's answer
        to the GET, so that what the server pushes from now on is not missed."""
        listener = self._new_listener()
        if listener is not None:
            await listener.start(wait=_LISTEN_WAIT)
        elif self._listener is not None:  # started without waiting (want_push)
            await self._listener.wait_open(_LISTEN_WAIT)

    def _new_listener(self) -> Listener | None:
        """A new listener for this session, or ``None`` if it must not or cannot have one
        (``listen=False``, before the handshake, no session id, or it has one already)."""
        if (
            self._listen is False or not self._ready or self._session_id is None
            or not self._wire.sessions or self._listener is not None
        ):
            return None
        connect = self._default_timeout.connect if self._default_timeout else None
        self._listener = Listener(
            self, self._reconnect, connect_timeout=connect,
            max_event_size=self._max_event_size,
        )
        return self._listener

    async def _stop_listening(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            await listener.stop()

    # -- requests ------------------------------------------------------------------------
    async def request(self, request: Request, call: Call) -> None:
        """POST ``request`` and read its reply until the engine has the response."""
        method = request.method
        headers = self._request_headers(call.headers)
        routing = self._wire.routing_headers
        if routing is not None:
            headers.update(routing(method, request.params))
        http_request = HTTPRequest(
            "POST",
            self.url,
            headers=headers,
            body=jsonrpc.encode_request(request.id, method, request.params),
            timeout=call.timeout or self._default_timeout,
            mcp_method=method,
            idempotent=call.idempotent,
            options=call.options,
            record=call.record,
        )
        started = time.monotonic()
        response = await self._send(http_request)
        handed_off = False
        reading = self._reading
        reading[response] = None
        try:
            if not response.ok:
                await self._raise_for_status(http_request, response)
            if response.status == 202:
                raise UnexpectedResponseError(
                    f"server answered {method!r} with 202 Accepted and no response"
                )
            if method == "initialize":
                self._session_id = response.headers.get(mcp.SESSION_HEADER) or None
                self._rebuild_headers()
            handed_off = await self._read_reply(response, request, call, started)
        finally:
            reading.pop(response, None)
            if not reading:
                reading.clear()
            if not handed_off:
                response.release()

    async def _read_reply(
        self, response: HTTPResponse, request: Request, call: Call, started: float
    ) -> bool:
        """Read the reply until the engine has the response; True if the rest of the body
        was handed to a background drain (which then releases the response)."""
        content_type = response.content_type
        if content_type == mcp.JSON_CONTENT_TYPE:
            skipped: list[InvalidJSONError] = []
            messages = routable(
                await response.read(), _reply_to(request), awaited=request.id, skipped=skipped
            )
            waiter = call.waiter
            if len(messages) == 1:
                only = messages[0]
                if type(only) is Response and only.id == request.id:
                    # The common case: just our response, for the engine to complete
                    # the call (unless it gave up on it while the body was read).
                    receiver = self.receiver
                    if receiver.expects(only.id):
                        receiver.resolve(only)
                    return False
            await self._route(messages, request, call)
            if not waiter.done():
                if skipped:
                    raise skipped[0]
                raise UnexpectedResponseError(
                    f"JSON reply to {request.method!r} (id {request.id!r}) holds no "
                    "response with that id"
                )
            return False
        if content_type == mcp.SSE_CONTENT_TYPE:
            return await self._read_sse(response, request, call, started)
        raise ContentTypeError(content_type, await _snippet(response), url=response.url)

    async def _read_sse(
        self, response: HTTPResponse, request: Request, call: Call, started: float
    ) -> bool:
        decoder = SSEDecoder(self._max_event_size)
        waiter = call.waiter
        chunks = response.iter_chunks()
        where = _reply_to(request)
        # Events that were not JSON at all: any of them may have been the response.
        skipped: list[InvalidJSONError] = []
        try:
            async for chunk in chunks:
                for event in decoder.feed(chunk):
                    if event.data and event.event == "message":
                        messages = routable(
                            event.data, where, awaited=request.id, skipped=skipped
                        )
                        await self._route(messages, request, call)
                if waiter.done():
                    break
        except ReadError as exc:
            if not self._wire.sessions:
                raise ConnectionLostError(
                    f"the reply stream of {request.method!r} (id {request.id!r}) broke: {exc}"
                ) from exc
            if not decoder.last_event_id:
                raise
            response.close()
        if not waiter.done():
            if skipped:
                # Resuming would not bring it back: events are not replayed.
                raise skipped[0]
            if not self._wire.sessions:
                raise ConnectionLostError(
                    f"the reply stream of {request.method!r} (id {request.id!r}) ended "
                    "before its response; MCP 2026-07-28 streams cannot be resumed"
                )
            if not decoder.last_event_id:
                raise UnexpectedResponseError(
                    f"SSE stream for {request.method!r} (id {request.id!r}) ended before its"
                    " response and gave no event id to resume from"
                )
            response.release()
            decoder.flush()
            try:
                await self._resume(request, call, decoder, started)
            except MCPClientError as exc:
                # Timeouts send their cancellation in the engine.
                if request.method != "initialize" and not isinstance(exc, TimeoutError):
                    self.receiver.cancel(
                        request.id, f"the response could not be received: {exc}"
                    )
                raise
            return False
        if getattr(response, "at_eof", True):
            return False
        # The server keeps the stream open after the response: the caller has its
        # result now; reading to the end (so the connection goes back to the pool, or
        # is closed after _DRAIN_SECONDS) happens off its path.
        drain = asyncio.ensure_future(_drain(response, chunks))
        self._drains[drain] = response
        drain.add_done_callback(self._drains.pop)
        return True

    @staticmethod
    async def _raise_for_status(request: HTTPRequest, response: HTTPResponse) -> None:
        """The typed error of a refused POST; a refused era probe with a status that says
        "not a modern server" is :class:`NotModernServerError`."""
        try:
            await raise_for_status(request, response, jsonrpc_body=True)
        except HTTPStatusError as exc:
            if (type(exc) is HTTPStatusError and exc.status in _NOT_MODERN_STATUSES
                    and request.mcp_method == _PROBE_METHOD):
                raise NotModernServerError.from_status_error(exc) from None
            raise

    async def _route(self, messages: Sequence[Message], request: Request, call: Call) -> None:
        """Hand every message of a reply to the engine; an id-less error answers ``call``'s
        request, and a response nobody waits for is logged and skipped."""
        receiver = self.receiver
        for message in messages:
            if isinstance(message, Response | ErrorResponse):
                if message.id is None:
                    # An error the server could not tie to a request: on this reply, it
                    # answers ours.
                    if receiver.expects(request.id):
                        receiver.resolve(replace(message, id=request.id))
                    continue
                if not receiver.expects(message.id):
                    logger.warning(
                        "skipping a response with id %r on %s: no request with that id "
                        "is in flight", message.id, _reply_to(request),
                    )
                    continue
            await receiver.receive(message)

    # -- resumption ----------------------------------------------------------------------
    async def _resume(
        self, request: Request, call: Call, decoder: SSEDecoder, started: float
    ) -> None:
        """Wait for the response of a request whose stream ended, within its timeout."""
        timeout = call.timeout or self._default_timeout
        total = timeout.total if timeout is not None else None
        get_timeout = Timeout(
            total=None,
            connect=timeout.connect if timeout is not None else None,
            read=timeout.read if timeout is not None else None,
        )
        if total is None:
            await self._await_resumed(request, call.waiter, decoder, get_timeout)
            return
        deadline = asyncio.timeout(max(total - (time.monotonic() - started), 0.0))
        try:
            async with deadline:
                await self._await_resumed(request, call.waiter, decoder, get_timeout)
        except TimeoutError:
            if not deadline.expired():
                raise
            raise ReadTimeout(
                f"timed out waiting for the resumed response to {request.method!r} "
                f"(id {request.id!r})"
            ) from None

    async def _await_resumed(
        self,
        request: Request,
        waiter: asyncio.Future[Reply],
        decoder: SSEDecoder,
        get_timeout: Timeout,
    ) -> None:
        failures = 0
        error: MCPClientError | None = None
        what = f"{request.method!r} (id {request.id!r})"
        while True:
            delay = self._reconnect.delay(failures, decoder.retry)
            if delay > 0:
                await asyncio.wait((waiter,), timeout=delay)
            if waiter.done():
                return
            before = decoder.last_event_id
            events = 0
            try:
                response = await self.open_event_stream(before, get_timeout, resumption=True)
            except SessionExpiredError as exc:
                raise UnexpectedResponseError(
                    f"cannot resume the stream of {what}: the session expired"
                ) from exc
            except MCPClientError as exc:
                if gives_up(exc):
                    raise
                error = exc
            else:
                reader = asyncio.ensure_future(self.pump_events(response, decoder, waiter))
                try:
                    await asyncio.wait((reader, waiter), return_when=asyncio.FIRST_COMPLETED)
                finally:
                    if not reader.done():
                        reader.cancel()
                    response.close()
                    decoder.flush()
                if waiter.done():
                    _discard(reader)
                    return
                try:
                    events = reader.result()
                except TransportError as exc:
                    error = exc
            if events or decoder.last_event_id != before:
                failures = 0
                continue
            failures += 1
            if failures > self._reconnect.max_attempts:
                if error is not None:
                    raise error
                raise UnexpectedResponseError(
                    f"the stream of {what} could not be resumed: "
                    f"{failures} reconnections in a row brought nothing"
                )

    async def open_event_stream(
        self, last_event_id: str | None, timeout: Timeout | None, *, resumption: bool = False
    ) -> HTTPResponse:
        """GET the endpoint as an event stream, resuming after ``last_event_id`` if given.

        ``resumption``: the stream of one request, resumed (it ends with that request, so
        it is a request like any other); otherwise the standalone stream, which stays
        open and so goes through connections of its own
        (:mod:`~mcp_async.transports.http.stream_connections`).

        Raises the typed error for a non-2xx status (405: the server offers no GET
        stream) and :class:`~mcp_async.ContentTypeError` for a body that is not SSE.
        """
        headers = self._base_headers.copy()
        headers.pop("Content-Type", None)
        headers["Accept"] = mcp.SSE_CONTENT_TYPE
        if last_event_id:
            headers[mcp.LAST_EVENT_ID_HEADER] = last_event_id
        request = HTTPRequest(
            "GET", self.url, headers=headers, timeout=timeout,
            idempotent=True, stream="resumed" if resumption else "standalone",
        )
        response = await self._send(request)
        if not response.ok:
            await raise_for_status(request, response)
        if response.content_type != mcp.SSE_CONTENT_TYPE:
            snippet = await _snippet(response)
            response.close()
            raise ContentTypeError(response.content_type, snippet, url=response.url)
        return response

    async def pump_events(
        self,
        response: HTTPResponse,
        decoder: SSEDecoder,
        waiter: asyncio.Future[Reply] | None,
    ) -> int:
        """Route every message of an event stream to the engine until ``waiter`` is done
        (or the stream ends); return the number of events read. A message that cannot
        be routed is logged and skipped."""
        events = 0
        receiver = self.receiver
        where = f"an event stream of {self.url}"
        async for chunk in response.iter_chunks():
            for event in decoder.feed(chunk):
                events += 1
                if not event.data or event.event != "message":
                    continue
                for message in routable(event.data, where):
                    await receiver.receive(message)
            if waiter is not None and waiter.done():
                break
        return events

    # -- notifications and answers -------------------------------------------------------
    async def send(self, message: Notification | Response | ErrorResponse) -> None:
        """POST a notification or an answer; the server answers 202 with no body."""
        request = HTTPRequest(
            "POST",
            self.url,
            headers=self._base_headers.copy(),
            body=jsonrpc.encode(message),
            timeout=_NOTIFY_TIMEOUT,
            mcp_method=getattr(message, "method", None),
            idempotent=True,
        )
        response = await self._send(request)
        try:
            if not response.ok:
                await raise_for_status(request, response, jsonrpc_body=True)
        finally:
            response.release()

    # -- shutdown ------------------------------------------------------------------------
    async def close(self) -> None:
        """Stop the GET stream and end the session on the server (DELETE; 405 is fine)."""
        await self._stop_listening()
        for response in list(self._reading):
            response.close()  # its reader fails at once instead of waiting for the server
        drains, self._drains = self._drains, {}
        for drain, response in drains.items():
            drain.cancel()
            response.close()  # also when the task was cancelled before it ever ran
        if drains:
            await asyncio.wait(list(drains))
        session_id, self._session_id = self._session_id, None
        if session_id is None or session_id == self._kept:
            return
        request = HTTPRequest(
            "DELETE", self.url, headers=self._base_headers.copy(), timeout=_NOTIFY_TIMEOUT,
            idempotent=True,
        )
        try:
            response = await self._send(request)
            response.release()
        except MCPClientError as exc:
            logger.debug("DELETE of MCP session failed: %s", exc)


async def _drain(response: HTTPResponse, chunks: AsyncIterator[bytes]) -> None:
    """Read what is left of a reply, then release its connection (or close it)."""
    try:
        async with asyncio.timeout(_DRAIN_SECONDS):
            async for _ in chunks:
                pass
    except (TimeoutError, MCPClientError):
        response.close()
    except BaseException:  # the client is closing
        response.close()
        raise
    else:
        response.release()


def _reply_to(request: Request) -> str:
    """How log records and errors name the reply to ``request``."""
    return f"the reply to {request.method!r} (id {request.id!r})"


def _discard(task: asyncio.Task[int]) -> None:
    """Mark a finished side task's outcome as seen (it lost a race and no longer matters)."""
    if task.done() and not task.cancelled():
        task.exception()


async def _snippet(response: HTTPResponse) -> bytes:
    try:
        return (await response.read())[:512]
    except MCPClientError:
        return b""
