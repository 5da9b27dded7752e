"""A session on a stream transport (stdio or legacy HTTP+SSE): one ``send`` carries
everything the server says to the client."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, Literal

from ..protocol.jsonrpc import (
    INVALID_REQUEST,
    ErrorResponse,
    Message,
    Notification,
    Request,
    encode,
)
from .core import ServerCore
from .faults import Fault
from .state import Session, Work
from .stdio import Send
from .wire import primary

__all__ = ["StreamLink"]


class StreamLink:
    """A session on a stream transport (stdio or legacy SSE).

    Everything the server says to the client, replies included, goes out through one
    ``send`` (a line on stdout, an event on the SSE stream). Notifications and answers
    to server requests are acted on as they arrive; each request (or batch) is answered
    in its own task, so a slow tool does not hold up the others.
    """

    __slots__ = ("_send", "_server", "_tasks", "closed", "kind", "session")

    def __init__(
        self, server: ServerCore, session: Session, send: Send, kind: Literal["sse", "stdio"]
    ) -> None:
        self._server = server
        self._send = send
        self._tasks: set[asyncio.Task[None]] = set()
        self.session = session
        self.kind = kind
        self.closed = False
        session.link = self

    async def emit(self, message: Notification | Request) -> None:
        """Send a notification or server request; ConnectionError once closed."""
        if self.closed:
            raise ConnectionResetError("the session's transport is closed")
        await self._send(encode(message))

    def receive(self, body: Any) -> None:
        """Take one JSON value read from a stdio line: a message or a batch."""
        server = self._server
        server.stats.requests += 1
        batch = isinstance(body, list)
        messages = server._parse(body if batch else [body])
        fault = server.faults.pick(*primary(messages)) if len(server.faults) else None
        self.take(messages, batch, fault, delay=fault.delay if fault is not None else 0.0)

    def take(
        self,
        messages: list[Message | None],
        batch: bool,
        fault: Fault | None,
        *,
        delay: float = 0.0,
    ) -> None:
        """Act on notifications and replies now; answer requests in a task (after ``delay``)."""
        work: list[Work]
        if batch and not messages:
            work, batch = [ErrorResponse(None, INVALID_REQUEST, "Invalid Request")], False
        else:
            work = self._server._work(messages, batch, self.session)
        if work and not self.closed:
            task = asyncio.create_task(self._answer(work, batch, fault, delay))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _answer(
        self, work: list[Work], batch: bool, fault: Fault | None, delay: float
    ) -> None:
        if delay:
            await asyncio.sleep(delay)
        data = await self._server._answer_all(work, batch, self.session, self.emit, fault)
        if not self.closed:
            with contextlib.suppress(ConnectionError):
                await self._send(data)

    async def finish(self, grace: float) -> None:
        """The client stopped sending: fail the server requests it can no longer answer,
        give running requests ``grace`` seconds to answer, then :meth:`close`."""
        self._fail_pending("the client closed its input")
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=grace)
        tasks = set(self._tasks)
        self.close()
        if tasks:
            await asyncio.wait(tasks)

    def close(self) -> None:
        """Cancel running requests, fail waiting server requests, forget the session."""
        if self.closed:
            return
        self.closed = True
        for task in self._tasks:
            task.cancel()
        self._fail_pending("the session's transport closed")
        sessions = self._server._sessions
        if sessions.get(self.session.id) is self.session:
            del sessions[self.session.id]

    def _fail_pending(self, reason: str) -> None:
        for request_id in list(self.session.pending):
            future = self._server._waiting.get(request_id)
            if future is not None and not future.done():
                future.set_exception(ConnectionResetError(reason))

