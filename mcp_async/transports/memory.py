"""An in-memory transport pair, for tests of the engine and of code built on the client.

:func:`memory_pair` returns the client's end (a :class:`MemoryTransport`, given to
``AsyncMCPClient``) and the server's end (a :class:`MemoryPeer`), which reads what the
client sent and sends messages back. Messages are passed as objects, with a JSON
round trip so that what crosses is what could cross a wire::

    transport, server = memory_pair()
    async with AsyncMCPClient(transport) as client:
        ...  # a task answers with ``await server.receive()`` / ``await server.send(...)``
"""

from __future__ import annotations

import asyncio

from .._exceptions import ConnectionLostError
from ..protocol import jsonrpc
from ..protocol.jsonrpc import ErrorResponse, Message, Notification, Request, Response
from .message import Call, MessageTransport, TransportCapabilities

__all__ = ["MemoryPeer", "MemoryTransport", "memory_pair"]


class MemoryPeer:
    """The server's end of a memory pair."""

    def __init__(self, transport: MemoryTransport) -> None:
        self._transport = transport
        self._inbox: asyncio.Queue[Message] = asyncio.Queue()

    async def receive(self) -> Message:
        """The next message the client sent."""
        return await self._inbox.get()

    async def send(self, message: Message) -> None:
        """Deliver ``message`` to the client, as its transport's reader would."""
        decoded = jsonrpc.decode(jsonrpc.encode(message))
        for item in decoded if isinstance(decoded, list) else (decoded,):
            await self._transport.receiver.receive(item)

    def disconnect(self) -> None:
        """Drop the connection: the client's waiting requests fail."""
        self._transport.connected = False
        self._transport.receiver.connection_lost(
            ConnectionLostError("the memory connection was dropped")
        )


class MemoryTransport(MessageTransport):
    """The client's end of a memory pair."""

    kind = "memory"
    capabilities = TransportCapabilities(server_push=True, probe_timeout_is_legacy=True)

    def __init__(self) -> None:
        self.peer = MemoryPeer(self)
        self.connected = False
        #: How many times :meth:`prepare` connected (each new handshake reconnects).
        self.connections = 0

    async def prepare(self) -> None:
        """(Re)connect."""
        if not self.connected:
            self.connected = True
            self.connections += 1

    async def request(self, request: Request, call: Call) -> None:
        """Hand ``request`` to the peer; the reply comes through :meth:`MemoryPeer.send`."""
        self._post(request)

    async def send(self, message: Notification | Response | ErrorResponse) -> None:
        """Hand a notification or answer to the peer."""
        self._post(message)

    def _post(self, message: Message) -> None:
        if not self.connected:
            raise ConnectionLostError("the memory connection is closed")
        decoded = jsonrpc.decode(jsonrpc.encode(message))
        assert not isinstance(decoded, list)
        self.peer._inbox.put_nowait(decoded)

    async def close(self) -> None:
        """Disconnect."""
        self.connected = False


def memory_pair() -> tuple[MemoryTransport, MemoryPeer]:
    """A connected client transport and server end."""
    transport = MemoryTransport()
    return transport, transport.peer
