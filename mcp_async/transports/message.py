"""What every message transport offers the session engine, whatever carries the bytes.

A transport moves JSON-RPC messages. It sends one message, and it hands every message
that arrives (responses, server requests, notifications) to its :class:`Receiver`, the
session engine, which owns the table of waiting requests. A transport never matches a
response to a caller itself, except to stop reading a reply stream once the response
it is waiting for has been delivered.

Each transport owns its own failures: Streamable HTTP resumes broken reply streams,
legacy SSE reconnects, stdio restarts its process. When the whole connection is lost
(the SSE stream or the process is gone), it tells the receiver with
:meth:`Receiver.connection_lost`, which fails every waiting request.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, NamedTuple, Protocol

from .._config import Timeout
from .._exceptions import MCPClientError
from ..protocol.jsonrpc import ErrorResponse, Message, Notification, Request, RequestId, Response
from .options import NO_OPTIONS, AttemptRecord, RequestOptions
from .wire import WireRules

__all__ = [
    "Call", "MessageTransport", "Receiver", "Reply", "TransportCapabilities", "TransportKind",
]

#: ``"auto"`` only while a URL's transport is still being detected.
TransportKind = Literal["streamable-http", "sse", "stdio", "memory", "auto"]
Reply = Response | ErrorResponse


class Receiver(Protocol):
    """What a transport feeds: the session engine."""

    async def receive(self, message: Message) -> None:
        """Route one incoming message (complete a request, run a handler, notify)."""

    def resolve(self, reply: Response | ErrorResponse) -> None:
        """Complete the request ``reply`` answers (the fast path for responses)."""

    def connection_lost(self, error: MCPClientError) -> None:
        """The connection is gone with everything in flight: fail the waiting requests."""

    def expects(self, request_id: RequestId) -> bool:
        """Whether a request with this id is waiting for its reply."""

    def fail(self, request_id: RequestId, error: MCPClientError) -> None:
        """Fail one waiting request with ``error`` (its reply could not be read)."""

    def cancel(self, request_id: RequestId, reason: str) -> None:
        """Tell the server that request ``request_id`` is abandoned (in the background)."""


@dataclass(frozen=True, slots=True)
class TransportCapabilities:
    """What a message transport can do; each transport class declares one.

    Attributes:
        server_push: the server can send messages of its own at any time.
        resumable: broken reply streams are resumed (``Last-Event-ID``).
        sessions: the server keeps a session (``Mcp-Session-Id``) that the client may
            have to re-create (HTTP 404), and that can be exported to continue
            elsewhere (docs/sessions.md).
        cancels_by_abort: in the 2026-07-28 era a request is cancelled by closing its
            response stream, not with ``notifications/cancelled``.
        http_headers: requests carry MCP's HTTP headers in the 2026-07-28 era
            (``Mcp-Method``, ``Mcp-Name``, ``Mcp-Param-*``), so tools' ``x-mcp-header``
            annotations apply.
        stateless_era: the server may speak the 2026-07-28 (stateless) era, so
            ``protocol="auto"`` probes for it; legacy SSE servers predate it and always
            get the handshake.
        probe_timeout_is_legacy: a legacy server may never answer the era probe (a
            message stream: stdio, memory), so a probe that times out means "run the
            handshake"; over HTTP a timeout is an outage.
    """

    server_push: bool = True
    resumable: bool = False
    sessions: bool = False
    cancels_by_abort: bool = False
    http_headers: bool = False
    stateless_era: bool = True
    probe_timeout_is_legacy: bool = False


class Call(NamedTuple):
    """The facts about one outgoing request that a transport may need.

    ``waiter`` is the engine's future for the reply: a transport reading a reply stream
    stops once it is done. ``headers`` are extra HTTP headers, ``options`` the caller's
    per-request options and ``record`` where the layers below report back (the try
    number, rate-limit waits; ``None`` when no message policy reads it): HTTP transports
    hand all three to their hooks. A named tuple: one is made per request, and it costs
    less than a frozen dataclass.
    """

    waiter: asyncio.Future[Reply]
    timeout: Timeout | None = None
    headers: Mapping[str, str] | None = None
    idempotent: bool = False
    options: RequestOptions = NO_OPTIONS
    record: AttemptRecord | None = None


class MessageTransport(ABC):
    """Moves JSON-RPC messages between the engine and one server.

    Two class attributes describe the transport: ``kind`` names it (for messages and
    logs; nothing above compares it) and ``capabilities`` says what it can do.
    """

    kind: TransportKind
    capabilities: TransportCapabilities = TransportCapabilities()

    _receiver: Receiver | None = None

    def bind(self, receiver: Receiver) -> None:
        """Attach the engine that receives incoming messages (once, before use)."""
        self._receiver = receiver

    @property
    def receiver(self) -> Receiver:
        """The bound engine."""
        if self._receiver is None:
            raise RuntimeError("transport used before bind()")
        return self._receiver

    @property
    def session_id(self) -> str | None:
        """The server-assigned session id, for transports that have one."""
        return None

    @property
    def listening(self) -> bool:
        """Whether a stream for server-initiated messages is open right now."""
        return False

    def resolved(self) -> MessageTransport:
        """The transport to use from now on: itself, or the one a detector chose."""
        return self

    @abstractmethod
    async def prepare(self) -> None:
        """Get ready for a new handshake: connect, spawn or forget the old session."""

    def negotiated(self, wire: WireRules) -> None:
        """The era is settled: ``wire`` holds what the revision asks of the transport
        (HTTP sends ``wire.version`` as a header, and ``wire.routing_headers`` with every
        request)."""
        return None

    async def handshake_done(self) -> None:
        """The handshake finished: open what only an initialized session may open."""
        return None

    def send_now(self, request: Request, call: Call) -> bool:
        """Send ``request`` at once without waiting, when the transport can (the fast
        path: no coroutine); ``False`` means: use :meth:`request`."""
        return False

    @abstractmethod
    async def request(self, request: Request, call: Call) -> None:
        """Send ``request``. Its reply reaches ``call.waiter`` through the receiver,
        before this returns (a reply read inline) or later (a reply on a stream)."""

    @abstractmethod
    async def send(self, message: Notification | Response | ErrorResponse) -> None:
        """Send a notification, or the answer to a server request."""

    @abstractmethod
    async def close(self) -> None:
        """End the session and release everything the transport owns. Idempotent."""
