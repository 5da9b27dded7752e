"""The session's reply table and the calls in flight: the engine's bottom layer.

:class:`ReplyTable` keeps **one table** from request id to the future waiting for its
reply, fed by whichever stream the reply arrives on (a POST reply, the GET stream, the
legacy SSE stream, a process's stdout): it is the :class:`~mcp_async.transports.message.Receiver`
the transports call. It also knows which tasks are inside a call, so that closing the
client can end their waits at once, and tells the server about abandoned requests
(``notifications/cancelled``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from typing import Any

from .._exceptions import ClientStateError, MCPClientError
from ..protocol.jsonrpc import ErrorResponse, Message, Notification, RequestId, Response
from ..transports.message import MessageTransport, Reply
from .dispatch import Dispatcher
from .revisions import Revision

__all__ = ["ReplyTable"]

_current_task = asyncio.current_task

logger = logging.getLogger("mcp_async")


class ReplyTable:
    """Waiting requests by id, the tasks inside a call, and the Receiver callbacks.

    The base of :class:`~mcp_async.session.engine.SessionEngine`, which sets every
    attribute declared here.
    """

    # Slots: a gateway holds thousands of engines, and an instance dict of more than 30
    # keys is not key-shared (about 1.5 KB each). ``__dict__`` keeps any other attribute.
    __slots__ = (
        "__dict__",
        "__weakref__",
        "_background",
        "_calls",
        "_close_cancelled",
        "_closed",
        "_waiting",
        "connected",
        "dispatcher",
        "revision",
        "transport",
    )

    transport: MessageTransport
    dispatcher: Dispatcher
    revision: Revision | None
    connected: bool
    _waiting: dict[RequestId, asyncio.Future[Reply]]
    _closed: bool
    _background: set[asyncio.Task[None]] | None
    _calls: dict[asyncio.Task[Any] | None, int]
    _close_cancelled: set[asyncio.Task[Any]] | None

    # -- incoming messages (the Receiver) ------------------------------------------------
    async def receive(self, message: Message) -> None:
        """Route one incoming message; called by the transports' readers."""
        if isinstance(message, Response | ErrorResponse):
            self.resolve(message)
        elif isinstance(message, Notification):
            await self.dispatcher.notification(message)
        else:
            await self.dispatcher.submit(message, self._reply)

    def resolve(self, reply: Response | ErrorResponse) -> None:
        """Complete the request ``reply`` answers; a reply nobody waits for is logged."""
        waiter = self._waiting.get(reply.id) if reply.id is not None else None
        if waiter is None:
            logger.warning("ignoring a response nobody waits for (id %r)", reply.id)
        elif not waiter.done():
            waiter.set_result(reply)

    def connection_lost(self, error: MCPClientError) -> None:
        """Fail every waiting request with ``error``; the next call starts a new session."""
        self.connected = False
        for waiter in self._waiting.values():
            if not waiter.done():
                waiter.set_exception(error)
                waiter.exception()  # the caller may be gone; do not warn about it

    def expects(self, request_id: RequestId) -> bool:
        """Whether a request with this id is waiting for its reply."""
        return request_id in self._waiting

    def fail(self, request_id: RequestId, error: MCPClientError) -> None:
        """Fail the request ``request_id`` with ``error``, if it is still waiting."""
        waiter = self._waiting.get(request_id)
        if waiter is not None and not waiter.done():
            waiter.set_exception(error)

    async def _reply(self, answer: Response | ErrorResponse) -> None:
        try:
            await self.transport.send(answer)
        except MCPClientError as exc:
            logger.warning("could not deliver the answer to server request %r: %s",
                           answer.id, exc)

    def finish(self, request_id: RequestId, result: dict[str, Any]) -> bool:
        """End the waiting request ``request_id`` with ``result``, as if the server had
        answered it (for a request the server ended another way, such as a listen it
        cancelled); ``False`` when nothing waits for it."""
        if request_id not in self._waiting:
            return False
        self.resolve(Response(request_id, result))
        return True


    # -- cancellation ------------------------------------------------------------------
    def cancel(self, request_id: RequestId, reason: str) -> None:
        """Tell the server, in the background, that request ``request_id`` is abandoned.

        Not before the era is settled (``initialize`` and the probe are never
        cancelled), and not over stateless-era HTTP, where closing the request's
        response stream is the cancellation.
        """
        if not self.connected:
            return
        revision = self.revision
        if (revision is not None and revision.cancels_by_abort
                and self.transport.capabilities.cancels_by_abort):
            return
        note = Notification("notifications/cancelled", {"requestId": request_id, "reason": reason})
        self._spawn(self._quiet(self.transport.send(note)))

    @staticmethod
    async def _quiet(coro: Any) -> None:
        try:
            await coro
        except MCPClientError as exc:
            logger.debug("best-effort notification failed: %s", exc)

    def _spawn(self, coro: Any) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        if self._background is None:
            self._background = set()
        self._background.add(task)
        task.add_done_callback(self._background.discard)


    @contextlib.contextmanager
    def call_scope(self, what: str) -> Iterator[None]:
        """Mark the current task as inside a call while it waits outside a request (a
        feature's poll interval, say): closing the client then ends the wait at once
        with :class:`~mcp_async.ClientStateError`, as it does for requests in flight."""
        task = _current_task()
        calls = self._calls
        calls[task] = calls.get(task, 0) + 1
        try:
            if self._closed:
                raise ClientStateError(f"the client was closed; {what} stopped")
            yield
        except asyncio.CancelledError:
            if self._closed and self._cancelled_by_close(task):
                raise ClientStateError(f"the client was closed during {what}") from None
            raise
        finally:
            depth = calls[task] - 1
            if depth:
                calls[task] = depth
            else:
                del calls[task]
                if not calls:
                    calls.clear()  # frees the table (del keeps it): an idle client holds none
                cancelled = self._close_cancelled
                if cancelled is not None and task in cancelled:
                    cancelled.discard(task)
                    task.uncancel()

    def _cancelled_by_close(self, task: asyncio.Task[Any] | None) -> bool:
        """Whether the cancellation ``task`` is seeing comes from closing the client
        alone (not from its own caller too); closing's own cancellation is undone."""
        if task is None:
            return True
        cancelled = self._close_cancelled
        if cancelled is not None and task in cancelled:
            cancelled.discard(task)
            task.uncancel()
        return task.cancelling() == 0
