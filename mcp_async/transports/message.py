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
from typing import Any, ClassVar, Literal, NamedTuple, Protocol

from .._config import Timeout
from .._exceptions import MCPClientError
from ..protocol.jsonrpc import ErrorResponse, Message, Notification, Request, RequestId, Response

__all__ = ["Call", "MessageTransport", "Receiver", "Reply", "TransportKind"]

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


class Call(NamedTuple):
    """The facts about one outgoing request that a transport may need.

    ``waiter`` is the engine's future for the reply: a transport reading a reply stream
    stops once it is done. ``headers`` and ``extensions`` are per-call options that only
    HTTP transports use (extra headers, and facts for the HTTP hooks). A named tuple:
    one is made per request, and it costs less than a frozen dataclass.
    """

    waiter: asyncio.Future[Reply]
    timeout: Timeout | None = None
    headers: Mapping[str, str] | None = None
    idempotent: bool = False
    extensions: Mapping[str, Any] | None = None


class MessageTransport(ABC):
    """Moves JSON-RPC messages between the engine and one server.

    Class attributes declare what the transport can do: ``kind`` names it,
    ``server_push`` says the server can send messages of its own at any time,
    ``resumable`` that broken streams are resumed, ``sessions`` that the server keeps
    a session the client may have to re-create (HTTP 404 on Streamable HTTP), and
    ``aborts_to_cancel`` that in the stateless era a request is cancelled by closing
    its response stream, not by ``notifications/cancelled``.
    """

    kind: TransportKind
    server_push: ClassVar[bool] = True
    resumable: ClassVar[bool] = False
    sessions: ClassVar[bool] = False
    aborts_to_cancel: ClassVar[bool] = False

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

    def negotiated(self, protocol_version: str) -> None:
        """The era is settled at ``protocol_version`` (HTTP sends it as a header; in the
        stateless era HTTP also adds the routing headers to every request)."""
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
