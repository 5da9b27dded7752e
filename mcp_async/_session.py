"""One MCP session over Streamable HTTP: handshake, session id, exchanges, replies.

The session sends every message through the client's hook pipeline, reads JSON and
SSE replies, hands server notifications and requests to the :class:`Dispatcher`
and re-initializes transparently when the server forgets the session (HTTP 404).

Beyond plain request/reply it keeps the two-way parts of the protocol:

* the standalone GET stream (a :class:`~mcp_async._streams.Listener`), opened after the
  handshake when the server assigned a session id;
* resumption: when a reply stream ends or breaks before its response, the session waits
  the server's ``retry`` time and re-attaches with GET and ``Last-Event-ID``. A request in
  that state is listed in ``_pending`` so its response completes it whichever stream
  brings it;
* MCP-level deadlines that progress notifications push back (``reset_timeout_on_progress``)
  under a hard ``max_total_timeout``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, TypeGuard

from ._config import Timeout
from ._dispatch import Dispatcher, ProgressCallback
from ._exceptions import (
    ClientStateError,
    ContentTypeError,
    MCPClientError,
    ProtocolError,
    ReadError,
    ReadTimeout,
    SessionExpiredError,
    TransportError,
    UnexpectedResponseError,
)
from ._status import raise_for_status
from ._streams import Listener, ReconnectPolicy, gives_up
from .models import InitializeResult, ProgressNotification
from .protocol import jsonrpc, mcp
from .protocol.jsonrpc import ErrorResponse, Message, Notification, RequestId, Response
from .protocol.sse import SSEDecoder
from .transports.base import Handler, HTTPRequest, HTTPResponse

__all__ = ["MCPSession"]

logger = logging.getLogger("mcp_async")

_DRAIN_SECONDS = 1.0
_NOTIFY_TIMEOUT = Timeout(total=10.0, connect=10.0)
#: How long the handshake waits for the server to answer the GET stream request.
_LISTEN_WAIT = 5.0
#: How many unclaimed responses from the GET stream are kept for their requests.
_ORPHANS_KEPT = 64
_Reply = Response | ErrorResponse


class MCPSession:
    """The MCP state of one client: negotiated version, session id and in-flight bookkeeping."""

    def __init__(
        self,
        url: str,
        send: Handler,
        *,
        client_info: Mapping[str, Any],
        capabilities: Mapping[str, Any],
        headers: Mapping[str, str],
        dispatcher: Dispatcher,
        max_event_size: int | None,
        default_timeout: Timeout | None = None,
        listen: bool = True,
        reconnect: ReconnectPolicy | None = None,
    ) -> None:
        self.url = url
        self._send = send
        self._client_info = dict(client_info)
        self._capabilities = dict(capabilities)
        self._headers = dict(headers)
        self.dispatcher = dispatcher
        self._max_event_size = max_event_size
        self._default_timeout = default_timeout
        self._listen = listen
        self._reconnect = reconnect or ReconnectPolicy()
        self._ids = jsonrpc.IdAllocator()
        self.session_id: str | None = None
        self.protocol_version: str | None = None
        self.result: InitializeResult | None = None
        self._init_task: asyncio.Task[InitializeResult] | None = None
        self._base_headers: dict[str, str] = {}
        self._background: set[asyncio.Task[None]] = set()
        # Requests whose reply stream broke: their response may come on any stream.
        self._pending: dict[RequestId, asyncio.Future[_Reply]] = {}
        # Responses that came on the GET stream before their request knew its stream broke.
        self._orphans: OrderedDict[RequestId, _Reply] = OrderedDict()
        self._listener: Listener | None = None
        self._rebuild_headers()

    # -- headers -----------------------------------------------------------------------
    def _rebuild_headers(self) -> None:
        headers = dict(self._headers)
        headers.update(mcp.request_headers(self.session_id, self.protocol_version))
        headers["Content-Type"] = mcp.JSON_CONTENT_TYPE
        self._base_headers = headers

    def _request_headers(self, extra: Mapping[str, str] | None) -> dict[str, str]:
        headers = self._base_headers.copy()
        if extra:
            headers.update(extra)
        return headers

    # -- handshake ---------------------------------------------------------------------
    async def initialize(self) -> InitializeResult:
        """Run the handshake once; concurrent callers share it (single flight)."""
        if self.result is not None:
            return self.result
        task = self._init_task
        if task is None or (task.done() and (task.cancelled() or task.exception() is not None)):
            task = self._init_task = asyncio.ensure_future(self._handshake())
        return await asyncio.shield(task)

    async def _handshake(self) -> InitializeResult:
        await self._stop_listening()
        self.session_id = None
        self.protocol_version = None
        self.result = None
        self._rebuild_headers()
        params = mcp.initialize_params(self._client_info, self._capabilities)
        raw, response_headers = await self._exchange("initialize", params, capture=True)
        version = mcp.accept_server_version(raw.get("protocolVersion"))
        result = InitializeResult.from_dict(raw)
        session_id = response_headers.get(mcp.SESSION_HEADER)
        self.session_id = session_id or None
        self.protocol_version = version
        self._rebuild_headers()
        await self.notify("notifications/initialized", None)
        self.result = result
        if self._listen and self.session_id is not None:
            connect = self._default_timeout.connect if self._default_timeout else None
            self._listener = Listener(
                self, self._reconnect, connect_timeout=connect,
                max_event_size=self._max_event_size,
            )
            await self._listener.start(wait=_LISTEN_WAIT)
        return result

    async def _reinitialize(self, expired: str | None) -> None:
        """Start a new session after ``expired`` was rejected (once, whoever asks)."""
        if self.session_id != expired and self.result is not None:
            return  # another task already replaced it
        task = self._init_task
        if task is None or task.done():
            logger.info("MCP session %s expired; initializing a new one", expired)
            self.result = None
            task = self._init_task = asyncio.ensure_future(self._handshake())
        await asyncio.shield(task)

    @property
    def listening(self) -> bool:
        """Whether the standalone GET stream is open right now."""
        return self._listener is not None and self._listener.connected

    async def _stop_listening(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            await listener.stop()

    # -- requests ----------------------------------------------------------------------
    async def request(
        self,
        method: str,
        params: dict[str, Any] | None,
        *,
        timeout: Timeout | None = None,
        headers: Mapping[str, str] | None = None,
        progress: ProgressCallback | None = None,
        idempotent: bool = False,
        reset_timeout_on_progress: bool = False,
        max_total_timeout: float | None = None,
        extensions: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Send one request (after the handshake) and return its result object.

        ``extensions`` are merged into the HTTP request's extensions (e.g. ``"retry"``).

        With ``reset_timeout_on_progress`` or ``max_total_timeout``, ``timeout.total`` is
        enforced here, as a deadline that each progress notification pushes back (when
        asked) but never past ``max_total_timeout`` seconds from the start; the HTTP
        exchange then runs without a total timeout of its own.
        """
        if reset_timeout_on_progress or max_total_timeout is not None:
            return await self._request_within(
                method, params, timeout, headers, progress, idempotent,
                reset_timeout_on_progress, max_total_timeout, extensions,
            )
        if self.result is None:
            await self.initialize()
        sent_session = self.session_id
        try:
            result, _ = await self._exchange(
                method, params, timeout=timeout, headers=headers, progress=progress,
                idempotent=idempotent, extensions=extensions,
            )
        except SessionExpiredError:
            if sent_session is None:
                raise
            await self._reinitialize(sent_session)
            result, _ = await self._exchange(
                method, params, timeout=timeout, headers=headers, progress=progress,
                idempotent=idempotent, extensions=extensions,
            )
        return result

    async def _request_within(
        self,
        method: str,
        params: dict[str, Any] | None,
        timeout: Timeout | None,
        headers: Mapping[str, str] | None,
        progress: ProgressCallback | None,
        idempotent: bool,
        reset: bool,
        max_total: float | None,
        extensions: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        timeout = timeout or self._default_timeout or Timeout()
        idle = timeout.total
        http_timeout = Timeout(total=None, connect=timeout.connect, read=timeout.read)
        loop = asyncio.get_running_loop()
        start = loop.time()
        hard = None if max_total is None else start + max_total
        first = None if idle is None else start + idle
        if hard is not None:
            first = hard if first is None else min(first, hard)
        deadline = asyncio.timeout_at(first)
        if reset and idle is not None:
            user = progress

            def on_progress(note: ProgressNotification) -> Any:
                when = loop.time() + idle
                deadline.reschedule(when if hard is None else min(when, hard))
                return None if user is None else user(note)

            progress = on_progress
        try:
            async with deadline:
                return await self.request(
                    method, params, timeout=http_timeout, headers=headers, progress=progress,
                    idempotent=idempotent, extensions=extensions,
                )
        except TimeoutError:
            if not deadline.expired():
                raise
            if hard is not None and loop.time() >= hard:
                detail = f"it ran past max_total_timeout ({max_total}s)"
            else:
                detail = f"nothing was heard for {idle}s"
            raise ReadTimeout(f"{method!r} timed out: {detail}") from None

    async def _exchange(
        self,
        method: str,
        params: dict[str, Any] | None,
        *,
        timeout: Timeout | None = None,
        headers: Mapping[str, str] | None = None,
        progress: ProgressCallback | None = None,
        idempotent: bool = False,
        capture: bool = False,
        extensions: Mapping[str, Any] | None = None,
    ) -> tuple[dict[str, Any], Mapping[str, str]]:
        request_id = self._ids.next()
        if progress is not None:
            params = dict(params or {})
            meta = dict(params.get("_meta") or {})
            meta["progressToken"] = request_id
            params["_meta"] = meta
            self.dispatcher.add_progress(request_id, progress)
        body = jsonrpc.encode_request(request_id, method, params)
        request = HTTPRequest(
            "POST",
            self.url,
            headers=self._request_headers(headers),
            body=body,
            timeout=timeout,
            extensions={"mcp_method": method, "idempotent": idempotent, **(extensions or {})},
        )
        started = time.monotonic()
        try:
            response = await self._send(request)
            try:
                if not response.ok:
                    await raise_for_status(request, response, jsonrpc_body=True)
                if response.status == 202:
                    raise UnexpectedResponseError(
                        f"server answered {method!r} with 202 Accepted and no response"
                    )
                result = await self._read_reply(response, request_id, method, timeout, started)
            finally:
                response.release()
        except (asyncio.CancelledError, TimeoutError):
            if method != "initialize":
                self._cancel_remote(request_id, "request timed out or was cancelled")
            raise
        finally:
            if progress is not None:
                self.dispatcher.remove_progress(request_id)
        return result, (response.headers if capture else {})

    async def _read_reply(
        self,
        response: HTTPResponse,
        request_id: RequestId,
        method: str,
        timeout: Timeout | None,
        started: float,
    ) -> dict[str, Any]:
        content_type = response.content_type
        if content_type == mcp.JSON_CONTENT_TYPE:
            decoded = jsonrpc.decode(await response.read())
            found = decoded if _answers(decoded, request_id) else await self._route(
                decoded, request_id
            )
            if found is None:
                raise UnexpectedResponseError(
                    f"JSON reply to {method!r} (id {request_id!r}) holds no response with that id"
                )
            return _unwrap(found)
        if content_type == mcp.SSE_CONTENT_TYPE:
            return await self._read_sse(response, request_id, method, timeout, started)
        raise ContentTypeError(content_type, await _snippet(response), url=response.url)

    async def _read_sse(
        self,
        response: HTTPResponse,
        request_id: RequestId,
        method: str,
        timeout: Timeout | None,
        started: float,
    ) -> dict[str, Any]:
        decoder = SSEDecoder(self._max_event_size)
        found: Response | ErrorResponse | None = None
        chunks = response.iter_chunks()
        try:
            async for chunk in chunks:
                for event in decoder.feed(chunk):
                    if not event.data or event.event != "message":
                        continue
                    decoded = jsonrpc.decode(event.data)
                    reply = decoded if _answers(decoded, request_id) else await self._route(
                        decoded, request_id
                    )
                    if reply is not None:
                        found = reply
                if found is not None:
                    break
        except ReadError:
            if not decoder.last_event_id:
                raise
            response.close()
        if found is None:
            if not decoder.last_event_id:
                raise UnexpectedResponseError(
                    f"SSE stream for {method!r} (id {request_id!r}) ended before its response"
                    " and gave no event id to resume from"
                )
            response.release()
            decoder.flush()
            try:
                found = await self._resume(request_id, method, decoder, timeout, started)
            except MCPClientError as exc:
                # Timeouts send their cancellation in _exchange.
                if method != "initialize" and not isinstance(exc, TimeoutError):
                    self._cancel_remote(request_id, f"the response could not be received: {exc}")
                raise
            return _unwrap(found)
        # Read to the end so the connection goes back to the pool; a server that keeps
        # the stream open after the response loses the connection instead.
        if not getattr(response, "at_eof", True):
            try:
                async with asyncio.timeout(_DRAIN_SECONDS):
                    async for _ in chunks:
                        pass
            except (TimeoutError, MCPClientError):
                response.close()
        return _unwrap(found)

    # -- resumption ----------------------------------------------------------------------
    async def _resume(
        self,
        request_id: RequestId,
        method: str,
        decoder: SSEDecoder,
        timeout: Timeout | None,
        started: float,
    ) -> _Reply:
        """Wait for the response of a request whose stream ended, within its timeout."""
        timeout = timeout or self._default_timeout
        total = timeout.total if timeout is not None else None
        get_timeout = Timeout(
            total=None,
            connect=timeout.connect if timeout is not None else None,
            read=timeout.read if timeout is not None else None,
        )
        if total is None:
            return await self._await_resumed(request_id, method, decoder, get_timeout)
        deadline = asyncio.timeout(max(total - (time.monotonic() - started), 0.0))
        try:
            async with deadline:
                return await self._await_resumed(request_id, method, decoder, get_timeout)
        except TimeoutError:
            if not deadline.expired():
                raise
            raise ReadTimeout(
                f"timed out waiting for the resumed response to {method!r} (id {request_id!r})"
            ) from None

    async def _await_resumed(
        self, request_id: RequestId, method: str, decoder: SSEDecoder, get_timeout: Timeout
    ) -> _Reply:
        orphan = self._orphans.pop(request_id, None)
        if orphan is not None:
            return orphan
        future: asyncio.Future[_Reply] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        failures = 0
        error: MCPClientError | None = None
        try:
            while True:
                delay = self._reconnect.delay(failures, decoder.retry)
                if delay > 0:
                    await asyncio.wait((future,), timeout=delay)
                if future.done():
                    return future.result()
                before = decoder.last_event_id
                events = 0
                try:
                    response = await self.open_event_stream(before, get_timeout)
                except SessionExpiredError as exc:
                    raise UnexpectedResponseError(
                        f"cannot resume the stream of {method!r} (id {request_id!r}): "
                        "the session expired"
                    ) from exc
                except MCPClientError as exc:
                    if gives_up(exc):
                        raise
                    error = exc
                else:
                    reader = asyncio.ensure_future(
                        self.pump_events(response, decoder, request_id)
                    )
                    try:
                        await asyncio.wait((reader, future), return_when=asyncio.FIRST_COMPLETED)
                    finally:
                        if not reader.done():
                            reader.cancel()
                        response.close()
                        decoder.flush()
                    if future.done():
                        _discard(reader)
                        return future.result()
                    try:
                        found, events = reader.result()
                    except TransportError as exc:
                        error = exc
                    else:
                        if found is not None:
                            return found
                if events or decoder.last_event_id != before:
                    failures = 0
                    continue
                failures += 1
                if failures > self._reconnect.max_attempts:
                    if error is not None:
                        raise error
                    raise UnexpectedResponseError(
                        f"the stream of {method!r} (id {request_id!r}) could not be resumed: "
                        f"{failures} reconnections in a row brought nothing"
                    )
        finally:
            del self._pending[request_id]

    async def open_event_stream(
        self, last_event_id: str | None, timeout: Timeout | None
    ) -> HTTPResponse:
        """GET the endpoint as an event stream, resuming after ``last_event_id`` if given.

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
            extensions={"mcp_method": None, "idempotent": True, "sse_stream": True},
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
        self, response: HTTPResponse, decoder: SSEDecoder, request_id: RequestId | None
    ) -> tuple[_Reply | None, int]:
        """Route every message of an event stream until the response to ``request_id``.

        Returns that response (``None`` if the stream ended first) and the number of
        events read. A message that cannot be decoded is logged and skipped.
        """
        events = 0
        async for chunk in response.iter_chunks():
            for event in decoder.feed(chunk):
                events += 1
                if not event.data or event.event != "message":
                    continue
                try:
                    found = await self._route(jsonrpc.decode(event.data), request_id)
                except ProtocolError as exc:
                    logger.warning("skipping a bad message on an event stream: %s", exc)
                    continue
                if found is not None:
                    return found, events
        return None, events

    # -- incoming messages -----------------------------------------------------------------
    async def _route(
        self, decoded: Message | list[Message], request_id: RequestId | None
    ) -> _Reply | None:
        """Dispatch everything that is not our response; return our response if present."""
        messages = decoded if isinstance(decoded, list) else (decoded,)
        found: Response | ErrorResponse | None = None
        for message in messages:
            if isinstance(message, Response | ErrorResponse):
                if message.id == request_id and request_id is not None:
                    found = message
                elif message.id is None and request_id is not None:
                    found = message  # an id-less error answers the request it came with
                else:
                    self._deliver(message, request_id)
            elif isinstance(message, Notification):
                await self.dispatcher.notification(message)
            else:
                self.dispatcher.start(message, self._reply)
        return found

    def _deliver(self, message: _Reply, request_id: RequestId | None) -> None:
        """Hand a response that is not the one awaited here to the request waiting for it."""
        future = self._pending.get(message.id) if message.id is not None else None
        if future is not None:
            if not future.done():
                future.set_result(message)
            return
        if request_id is not None:
            raise UnexpectedResponseError(
                f"response id {message.id!r} does not match request id {request_id!r}"
            )
        if message.id is None:
            logger.warning("ignoring an error without id on the GET stream: %s", message)
            return
        # Its request may not have noticed yet that its own stream broke.
        self._orphans[message.id] = message
        while len(self._orphans) > _ORPHANS_KEPT:
            self._orphans.popitem(last=False)

    async def _reply(self, answer: _Reply) -> None:
        try:
            await self._post(answer)
        except MCPClientError as exc:
            logger.warning("could not deliver the answer to server request %r: %s",
                           answer.id, exc)

    # -- notifications and answers -------------------------------------------------------
    async def notify(self, method: str, params: dict[str, Any] | None) -> None:
        """Send a notification; the server answers 202 with no body."""
        await self._post(Notification(method, params))

    async def _post(self, message: Notification | Response | ErrorResponse) -> None:
        request = HTTPRequest(
            "POST",
            self.url,
            headers=self._base_headers.copy(),
            body=jsonrpc.encode(message),
            timeout=_NOTIFY_TIMEOUT,
            extensions={"mcp_method": getattr(message, "method", None), "idempotent": True},
        )
        response = await self._send(request)
        try:
            if not response.ok:
                await raise_for_status(request, response, jsonrpc_body=True)
        finally:
            response.release()

    def _cancel_remote(self, request_id: RequestId, reason: str) -> None:
        params = {"requestId": request_id, "reason": reason}
        self._spawn(self._quiet(self.notify("notifications/cancelled", params)))

    @staticmethod
    async def _quiet(coro: Any) -> None:
        try:
            await coro
        except MCPClientError as exc:
            logger.debug("best-effort notification failed: %s", exc)

    def _spawn(self, coro: Any) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # -- shutdown ----------------------------------------------------------------------
    async def close(self) -> None:
        """Stop the GET stream and server-request handlers, finish background work and end
        the session on the server (DELETE; 405 is fine)."""
        if self._init_task is not None and not self._init_task.done():
            self._init_task.cancel()
        await self._stop_listening()
        await self.dispatcher.cancel_all()
        for future in self._pending.values():
            if not future.done():
                future.set_exception(ClientStateError("the client was closed"))
        if self._background:
            await asyncio.wait(list(self._background), timeout=5)
            for task in self._background:
                task.cancel()
        session_id = self.session_id
        self.result = None
        if session_id is None:
            return
        request = HTTPRequest(
            "DELETE", self.url, headers=self._base_headers.copy(), timeout=_NOTIFY_TIMEOUT,
            extensions={"mcp_method": None, "idempotent": True},
        )
        try:
            response = await self._send(request)
            response.release()
        except MCPClientError as exc:
            logger.debug("DELETE of MCP session failed: %s", exc)
        self.session_id = None

    def require_result(self) -> InitializeResult:
        """The handshake result, or a clear error if it has not happened yet."""
        if self.result is None:
            raise ClientStateError(
                "the MCP handshake has not run yet: await client.initialize() first "
                "(or make any MCP call)"
            )
        return self.result


def _answers(decoded: Message | list[Message], request_id: RequestId) -> TypeGuard[_Reply]:
    """Whether ``decoded`` is just the response to ``request_id`` (nothing to route)."""
    return isinstance(decoded, Response | ErrorResponse) and decoded.id == request_id


def _unwrap(message: Response | ErrorResponse) -> dict[str, Any]:
    if isinstance(message, ErrorResponse):
        raise jsonrpc.error_to_exception(message)
    return message.result


def _discard(task: asyncio.Task[Any]) -> None:
    """Mark a finished side task's outcome as seen (it lost a race and no longer matters)."""
    if task.done() and not task.cancelled():
        task.exception()


async def _snippet(response: HTTPResponse) -> bytes:
    try:
        return (await response.read())[:512]
    except MCPClientError:
        return b""
