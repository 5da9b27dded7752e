"""Choosing the transport for a URL: Streamable HTTP, legacy HTTP+SSE, or detection.

Detection follows the spec's advice for clients that support both: POST the first
request (``initialize``) with the Streamable HTTP ``Accept`` header. A ``400``, ``404``
or ``405`` without a JSON-RPC error body means an older server: GET the URL expecting an
event stream whose first event is ``endpoint``, and use the legacy transport if it
comes. It runs once per client, on the first handshake; afterwards the engine talks to
the chosen transport directly (:meth:`DetectingTransport.resolved`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Literal

from ..._config import Timeout
from ..._exceptions import (
    AuthError,
    HTTPStatusError,
    MCPClientError,
    RateLimitedError,
    TransportDetectionError,
)
from ...protocol.jsonrpc import ErrorResponse, Notification, Request, Response
from ..message import Call, MessageTransport, Receiver, TransportKind
from ..wire import WireRules
from .base import Handler
from .legacy_sse import LegacySSETransport
from .sse_streams import ReconnectPolicy
from .streamable import StreamableHTTPTransport

__all__ = ["DetectingTransport", "url_transport"]

#: Statuses of a POST that point at a legacy HTTP+SSE server.
_LEGACY_HINTS = frozenset({400, 404, 405})


class DetectingTransport(MessageTransport):
    """Streamable HTTP first; legacy HTTP+SSE when the first POST says it is not that."""

    def __init__(self, streamable: StreamableHTTPTransport, legacy: LegacySSETransport) -> None:
        self._streamable = streamable
        self._legacy = legacy
        #: The server's URL (names it in spans and metrics from the first request on).
        self.url = streamable.url
        self._chosen: MessageTransport | None = None
        self.kind: TransportKind = "auto"

    def bind(self, receiver: Receiver) -> None:
        """Bind both candidates to the engine."""
        super().bind(receiver)
        self._streamable.bind(receiver)
        self._legacy.bind(receiver)

    def resolved(self) -> MessageTransport:
        """The chosen transport once detection is over, else this one."""
        return self._chosen or self

    def _current(self) -> MessageTransport:
        return self._chosen or self._streamable

    async def prepare(self) -> None:
        """Prepare the chosen transport (Streamable HTTP until detection says otherwise)."""
        await self._current().prepare()

    def negotiated(self, wire: WireRules) -> None:
        """Pass the revision's rules on; a revision without sessions settles detection, as
        legacy SSE has them."""
        if self._chosen is None and not wire.sessions:
            self._choose(self._streamable)
        self._current().negotiated(wire)

    async def handshake_done(self) -> None:
        """Pass the end of the handshake on."""
        await self._current().handshake_done()

    async def request(self, request: Request, call: Call) -> None:
        """Send the first request over Streamable HTTP, falling back to legacy SSE."""
        if self._chosen is not None:
            await self._chosen.request(request, call)
            return
        if request.method == "server/discover":
            # The era probe: a refusal says "not 2026-07-28", not "legacy SSE"; the
            # initialize that follows it tells the transports apart.
            await self._streamable.request(request, call)
            self._choose(self._streamable)
            return
        try:
            await self._streamable.request(request, call)
        except HTTPStatusError as exc:
            if (
                exc.status not in _LEGACY_HINTS
                or isinstance(exc, RateLimitedError | AuthError)
            ):
                raise
            await self._fall_back(request, call, exc)
            return
        self._choose(self._streamable)

    async def _fall_back(self, request: Request, call: Call, first: MCPClientError) -> None:
        try:
            await self._legacy.prepare()
        except MCPClientError as exc:
            raise TransportDetectionError(
                self._streamable.url, {"streamable-http": first, "sse": exc}
            ) from exc
        self._choose(self._legacy)
        await self._legacy.request(request, call)

    def _choose(self, transport: MessageTransport) -> None:
        self._chosen = transport
        self.kind = transport.kind
        self.capabilities = transport.capabilities

    async def send(self, message: Notification | Response | ErrorResponse) -> None:
        """Send through the chosen transport."""
        await self._current().send(message)

    async def close(self) -> None:
        """Close both candidates (the unused one holds nothing)."""
        try:
            await self._streamable.close()
        finally:
            await self._legacy.close()


def url_transport(
    choice: Literal["auto", "streamable-http", "sse"],
    url: str,
    send: Handler,
    *,
    headers: Mapping[str, str],
    max_event_size: int | None,
    default_timeout: Timeout | None,
    listen: bool | Callable[[], bool],
    reconnect: ReconnectPolicy | None,
) -> MessageTransport:
    """The transport ``choice`` names for ``url``, sending through ``send``."""

    def streamable() -> StreamableHTTPTransport:
        return StreamableHTTPTransport(
            url, send, headers=headers, max_event_size=max_event_size,
            default_timeout=default_timeout, listen=listen, reconnect=reconnect,
        )

    def legacy() -> LegacySSETransport:
        return LegacySSETransport(
            url, send, headers=headers, max_event_size=max_event_size,
            default_timeout=default_timeout,
        )

    if choice == "streamable-http":
        return streamable()
    if choice == "sse":
        return legacy()
    return DetectingTransport(streamable(), legacy())
