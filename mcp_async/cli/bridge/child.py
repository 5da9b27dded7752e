"""One stdio server process serving one HTTP session of the reverse bridge
(``mcp-async bridge --http``): writing to it, routing what it writes to the HTTP stream
each message belongs on, and stopping it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections import deque
from typing import Any

from ...protocol import jsonrpc
from ...protocol.jsonrpc import RequestId
from .lines import MAX_LINE

__all__ = ["ChildServer", "end_stream"]

logger = logging.getLogger("mcp_async.bridge")

_BACKLOG = 1000  # server messages kept for a GET stream that is not open yet


class ChildServer:
    """One stdio server process serving one HTTP session."""

    def __init__(self, session_id: str, process: asyncio.subprocess.Process) -> None:
        self.session_id = session_id
        self.process = process
        self.waiting: dict[RequestId, asyncio.Queue[dict[str, Any] | None]] = {}
        self.progress: dict[RequestId, RequestId] = {}  # progress token -> request id
        self.listener: asyncio.Queue[dict[str, Any] | None] | None = None
        self.backlog: deque[dict[str, Any]] = deque()
        self.dropped = 0
        self.exit_code: int | None = None
        self.reader: asyncio.Task[None] | None = None
        self._write_lock = asyncio.Lock()

    @property
    def alive(self) -> bool:
        """Whether the process still runs."""
        return self.exit_code is None and self.process.returncode is None

    async def write(self, payload: dict[str, Any]) -> None:
        """Write one message to the process's stdin."""
        stdin = self.process.stdin
        assert stdin is not None
        data = jsonrpc._dumps(payload) + b"\n"
        async with self._write_lock:
            stdin.write(data)
            await stdin.drain()

    async def route(self, message: dict[str, Any]) -> None:
        """Send one message of the server to the HTTP stream it belongs on."""
        if "method" not in message and "id" in message:  # a response
            queue = self.waiting.get(message["id"])
            if queue is None:
                logger.debug("a response of the server to no open request: %r", message["id"])
                return
            await queue.put(message)
            return
        if message.get("method") == "notifications/progress":
            params = message.get("params")
            token = params.get("progressToken") if isinstance(params, dict) else None
            request_id = self.progress.get(token) if isinstance(token, str | int) else None
            queue = self.waiting.get(request_id) if request_id is not None else None
            if queue is not None:
                await queue.put(message)
                return
        if self.listener is not None:
            await self.listener.put(message)
        elif self.waiting:
            await self.waiting[next(reversed(self.waiting))].put(message)
        else:
            if len(self.backlog) >= _BACKLOG:
                self.backlog.popleft()
                self.dropped += 1
                logger.warning("session %s: server message dropped (no stream open to carry "
                               "it, %d kept)", self.session_id[:8], _BACKLOG)
            self.backlog.append(message)

    async def read(self) -> None:
        """Route everything the process writes, until it exits; then end its streams."""
        stdout = self.process.stdout
        assert stdout is not None
        try:
            while True:
                try:
                    line = await stdout.readline()
                except ValueError:
                    logger.error("session %s: a line over %d bytes from the server was dropped",
                                 self.session_id[:8], MAX_LINE)
                    continue
                if not line:
                    break
                try:
                    message = jsonrpc.load_document(line)
                except ValueError:
                    logger.warning("session %s: the server wrote a line that is not JSON: %r",
                                   self.session_id[:8], line[:200])
                    continue
                for item in message if isinstance(message, list) else [message]:
                    if isinstance(item, dict):
                        await self.route(item)
        finally:
            self.exit_code = await _wait_exit(self.process)
            for queue in [*self.waiting.values(), self.listener]:
                if queue is not None:
                    end_stream(queue)

    async def stop(self, grace: float = 2.0) -> None:
        """Close stdin, then SIGTERM, then SIGKILL (the spec's order); reap the process."""
        process = self.process
        if process.returncode is None:
            if process.stdin is not None:
                with contextlib.suppress(Exception):
                    process.stdin.close()
            for sig in (None, signal.SIGTERM, signal.SIGKILL):
                if sig is not None:
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.killpg(process.pid, sig)
                try:
                    await asyncio.wait_for(asyncio.shield(process.wait()), grace)
                    break
                except TimeoutError:
                    continue
        await process.wait()
        if self.reader is not None:
            self.reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.reader


def end_stream(queue: asyncio.Queue[dict[str, Any] | None]) -> None:
    """Tell a stream's handler that its stream is over (making room if it must: what
    the stream did not carry yet is of a session that ended)."""
    while queue.full():
        queue.get_nowait()
    queue.put_nowait(None)


async def _wait_exit(process: asyncio.subprocess.Process) -> int:
    try:
        return await asyncio.wait_for(asyncio.shield(process.wait()), 5.0)
    except TimeoutError:
        return -1
