"""The legacy HTTP+SSE transport (MCP 2024-11-05).

The client opens one GET event stream. Its first event, ``endpoint``, names the URL to
POST every client message to (relative URLs are resolved against the stream's URL; an
endpoint on another origin is refused). Each POST is answered ``202 Accepted``, and
everything the server sends, responses included, arrives on the stream, where the
engine matches responses to requests.

The transport has no resumption: when the stream ends, the server's session is gone.
Requests in flight then fail with :class:`~mcp_async.ConnectionLostError` (the engine
re-sends idempotent ones once), and the next call reconnects and re-initializes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

from yarl import URL

from ..._config import Timeout
from ..._exceptions import (
    ConnectionLostError,
    ContentTypeError,
    MCPClientError,
    ProtocolError,
    ReadTimeout,
    TransportError,
    UnexpectedResponseError,
)
from ...protocol import jsonrpc, mcp
from ...protocol.jsonrpc import ErrorResponse, Notification, Request, Response
from ...protocol.sse import SSEDecoder
from ..incoming import routable
from ..message import Call, MessageTransport, TransportCapabilities
from ..options import NO_OPTIONS, AttemptRecord, RequestOptions
from .base import Handler, HTTPRequest, HTTPResponse
from .status import raise_for_status

__all__ = ["LegacySSETransport"]

logger = logging.getLogger("mcp_async")

#: How long to wait for the ``endpoint`` event when no connect timeout is set.
_ENDPOINT_WAIT = 10.0
_POST_TIMEOUT = Timeout(total=30.0, connect=10.0)


class LegacySSETransport(MessageTransport):
    """MCP over the 2024-11-05 HTTP+SSE transport, through ``send`` (the HTTP hooks)."""

    kind = "sse"
    #: Every message from the server comes on the one SSE stream, which is reconnected
    #: (not resumed) when it drops.
    capabilities = TransportCapabilities(server_push=True, stateless_era=False)

    def __init__(
        self,
        url: str,
        send: Handler,
        *,
        headers: Mapping[str, str] | None = None,
        max_event_size: int | None = None,
        default_timeout: Timeout | None = None,
    ) -> None:
        self.url = url
        self._send = send
        self._headers = dict(headers or {})
        self._max_event_size = max_event_size
        self._default_timeout = default_timeout
        #: Where client messages are POSTed (from the ``endpoint`` event).
        self.endpoint: str | None = None
        self._stream: HTTPResponse | None = None
        self._reader: asyncio.Task[None] | None = None
        self._connected = False
        self._where = f"the SSE stream of {url}"

    @property
    def listening(self) -> bool:
        """Whether the event stream is open."""
        return self._connected

    # -- connecting ----------------------------------------------------------------------
    async def prepare(self) -> None:
        """Open the event stream and wait for its ``endpoint`` (unless it is open)."""
        if self._connected:
            return
        await self._disconnect()
        timeout = self._default_timeout
        connect = timeout.connect if timeout is not None else None
        headers = {**self._headers, "Accept": mcp.SSE_CONTENT_TYPE}
        request = HTTPRequest(
            "GET", self.url, headers=headers,
            timeout=Timeout(total=None, connect=connect, read=None),
            idempotent=True, stream="standalone",
        )
        response = await self._send(request)
        if not response.ok:
            await raise_for_status(request, response)
        if response.content_type != mcp.SSE_CONTENT_TYPE:
            response.close()
            raise ContentTypeError(response.content_type, url=self.url)
        decoder = SSEDecoder(self._max_event_size)
        endpoint: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._stream = response
        self._reader = asyncio.ensure_future(self._read(response, decoder, endpoint))
        wait = connect if connect is not None else _ENDPOINT_WAIT
        if timeout is not None and timeout.total is not None:
            wait = min(wait, timeout.total)  # no longer than a whole call may take
        try:
            async with asyncio.timeout(wait):
                self.endpoint = self._check_endpoint(await asyncio.shield(endpoint))
        except TimeoutError:
            await self._disconnect()
            raise ReadTimeout(
                f"{self.url} sent no 'endpoint' event within {wait}s: not a legacy SSE server"
            ) from None
        except BaseException:
            await self._disconnect()
            raise
        self._connected = True

    def _check_endpoint(self, data: str) -> str:
        """The URL to POST to: ``data`` resolved against the stream's URL, which must be
        an http(s) URL on the stream's origin (anything else is refused before a byte is
        sent)."""
        base = URL(self.url)
        shown = data if len(data) <= 200 else data[:200] + "..."
        try:
            target = base.join(URL(data.strip())) if data.strip() else None
        except ValueError as exc:
            raise UnexpectedResponseError(
                f"unusable endpoint {shown!r} from {self.url}: {exc}"
            ) from exc
        if (
            target is None
            or target.scheme not in ("http", "https")
            or not target.absolute
            or not target.host
        ):
            raise UnexpectedResponseError(
                f"{self.url} named an endpoint that is not an http(s) URL ({shown!r}); refused"
            )
        if target.origin() != base.origin():
            raise UnexpectedResponseError(
                f"{self.url} named an endpoint on another origin ({target.origin()}); refused"
            )
        return str(target)

    async def _read(
        self, response: HTTPResponse, decoder: SSEDecoder, endpoint: asyncio.Future[str]
    ) -> None:
        error: MCPClientError | None = None
        try:
            async for chunk in response.iter_chunks():
                for event in decoder.feed(chunk):
                    if event.event == "endpoint":
                        if not endpoint.done():
                            endpoint.set_result(event.data)
                    elif event.event == "message" and event.data:
                        await self._deliver(event.data)
        except TransportError as exc:
            error = exc
        except ProtocolError as exc:  # an event above the size limit
            error = exc
        finally:
            response.close()
        self._connected = False
        lost = ConnectionLostError(
            f"the SSE stream of {self.url} ended" + (f": {error}" if error else "")
        )
        if not endpoint.done():
            endpoint.set_exception(lost)
            return
        self.receiver.connection_lost(lost)

    async def _deliver(self, data: str) -> None:
        for message in routable(data, self._where):
            if type(message) is Response:
                self.receiver.resolve(message)
            else:
                await self.receiver.receive(message)

    # -- sending -------------------------------------------------------------------------
    async def request(self, request: Request, call: Call) -> None:
        """POST ``request``; its response comes on the stream."""
        await self._post(
            jsonrpc.encode_request(request.id, request.method, request.params),
            request.method, call.timeout or self._default_timeout, call.headers,
            call.idempotent, call.options, call.record,
        )

    async def send(self, message: Notification | Response | ErrorResponse) -> None:
        """POST a notification or an answer."""
        await self._post(
            jsonrpc.encode(message), getattr(message, "method", None), _POST_TIMEOUT,
            None, True, NO_OPTIONS, None,
        )

    async def _post(
        self,
        body: bytes,
        method: str | None,
        timeout: Timeout | None,
        headers: Mapping[str, str] | None,
        idempotent: bool,
        options: RequestOptions,
        record: AttemptRecord | None,
    ) -> None:
        if not self._connected or self.endpoint is None:
            raise ConnectionLostError(f"the SSE stream of {self.url} is not open")
        request = HTTPRequest(
            "POST",
            self.endpoint,
            headers={**self._headers, "Content-Type": mcp.JSON_CONTENT_TYPE, **(headers or {})},
            body=body,
            timeout=timeout,
            mcp_method=method,
            idempotent=idempotent,
            options=options,
            record=record,
        )
        stream = self._stream
        response = await self._send(request)
        try:
            if response.status == 404:
                # The server no longer knows the stream's session (unless a new stream
                # replaced it meanwhile): end it, and fail what waits on it.
                lost = ConnectionLostError(f"{request.url} answered 404: the session is gone")
                if stream is not None and self._stream is stream:
                    await self._disconnect()
                    self.receiver.connection_lost(lost)
                raise lost
            if not response.ok:
                await raise_for_status(request, response, jsonrpc_body=True)
        finally:
            response.release()

    # -- shutdown ------------------------------------------------------------------------
    async def _disconnect(self) -> None:
        self._connected = False
        reader, self._reader = self._reader, None
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.close()
        if reader is not None and not reader.done():
            reader.cancel()
            try:
                await reader
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if current is not None and current.cancelling():
                    raise

    async def close(self) -> None:
        """Close the event stream."""
        await self._disconnect()
