"""The stream of the legacy HTTP+SSE transport (2024-11-05) for ``mcp_async.testing``.

:class:`SSEChannel` is one open ``GET`` event stream of :class:`~mcp_async.testing.MCPTestServer`
in ``transport="sse"`` mode: it announces the POST endpoint, carries every server message
as an ``event: message``, sends ``: ping`` comments when idle, and ends cleanly or breaks
on cue. The routing (sessions, POSTs, faults) stays in :mod:`mcp_async.testing`.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Final

from aiohttp import web

from ..protocol.sse import encode_event

__all__ = ["PING", "SSEChannel"]

#: The keep-alive comment a client must ignore.
PING: Final = b": ping\n\n"


class SSEChannel:
    """One open legacy SSE stream: serialised, flow-controlled writes until it ends.

    :meth:`send` writes one JSON-RPC message (``event: message``); writers are serialised,
    so events never interleave, and each write waits for the socket to drain.
    :meth:`run` keeps the stream open, writing :data:`PING` after ``keepalive`` idle
    seconds (``None``: never), until :meth:`end` or :meth:`abort` or the client leaves.
    """

    __slots__ = ("_done", "_idle", "_keepalive", "_lock", "_request", "_response", "closed")

    def __init__(
        self, request: web.Request, response: web.StreamResponse, keepalive: float | None
    ) -> None:
        if keepalive is not None and keepalive <= 0:
            raise ValueError("keepalive must be > 0 seconds or None")
        self._request = request
        self._response = response
        self._keepalive = keepalive
        self._lock = asyncio.Lock()
        self._done = asyncio.Event()
        self._idle = True
        #: Whether the stream can no longer carry events.
        self.closed = False

    async def announce(self, endpoint: str) -> None:
        """Write the first event: ``event: endpoint`` with the URL to POST messages to."""
        await self._write(encode_event(endpoint, event="endpoint"))

    async def send(self, message: bytes) -> None:
        """Write one encoded JSON-RPC message as an ``event: message``.

        Raises :class:`ConnectionError` once the stream is closed.
        """
        await self._write(encode_event(message.decode("utf-8"), event="message"))

    async def _write(self, chunk: bytes) -> None:
        async with self._lock:
            if self.closed:
                raise ConnectionResetError("the SSE stream is closed")
            try:
                await self._response.write(chunk)
            except ConnectionError:
                self.closed = True
                self._done.set()
                raise
            self._idle = False

    async def run(self) -> None:
        """Keep the stream open (pinging when idle) until it ends, then end the body."""
        while not self._done.is_set():
            self._idle = True
            try:
                async with asyncio.timeout(self._keepalive):
                    await self._done.wait()
            except TimeoutError:
                if self._idle:
                    with contextlib.suppress(ConnectionError):
                        await self._write(PING)
        async with self._lock:
            if not self.closed:
                self.closed = True
                with contextlib.suppress(ConnectionError):
                    await self._response.write_eof()

    def end(self) -> None:
        """End the stream cleanly (the body is terminated; no more events)."""
        self._done.set()

    def abort(self) -> None:
        """Break the stream: close the TCP connection without ending the body."""
        self.closed = True
        transport = self._request.transport
        if transport is not None:
            transport.abort()
        self._done.set()
