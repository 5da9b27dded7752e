"""A scripted MCP server on the in-memory transport, for engine and client tests.

Subclasses write :meth:`ScriptedServer.answer`; the base records every message the
client sends and answers each request in a task of its own (so a slow answer never
holds up the next message). :func:`scripted_session` opens a client on it and tears
both down.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

from mcp_async import AsyncMCPClient
from mcp_async.protocol.jsonrpc import Message, Request
from mcp_async.transports.memory import MemoryPeer, memory_pair

__all__ = ["ScriptedServer", "scripted_session"]

_S = TypeVar("_S", bound="ScriptedServer")


class ScriptedServer:
    """The server side of a memory pair: ``seen`` holds every message received."""

    def __init__(self, peer: MemoryPeer) -> None:
        self.peer = peer
        self.seen: list[Message] = []
        self.tasks: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        while True:
            message = await self.peer.receive()
            self.seen.append(message)
            if isinstance(message, Request):
                task = asyncio.ensure_future(self.answer(message))
                self.tasks.add(task)
                task.add_done_callback(self.tasks.discard)

    async def answer(self, request: Request) -> None:
        raise NotImplementedError

    def requests(self, method: str | None = None) -> list[Request]:
        return [m for m in self.seen
                if isinstance(m, Request) and (method is None or m.method == method)]


@contextlib.asynccontextmanager
async def scripted_session(
    make_server: Callable[[MemoryPeer], _S], **options: Any
) -> AsyncIterator[tuple[AsyncMCPClient, _S]]:
    """A client (``options``) connected to ``make_server(peer)``; both torn down after."""
    transport, peer = memory_pair()
    server = make_server(peer)
    runner = asyncio.ensure_future(server.run())
    try:
        async with AsyncMCPClient(transport, **options) as client:
            yield client, server
    finally:
        runner.cancel()
        for task in list(server.tasks):
            task.cancel()
        await asyncio.gather(runner, *server.tasks, return_exceptions=True)
