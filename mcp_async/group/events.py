"""What a group tells about its catalogue changing: :class:`GroupEvent` (a server failed,
recovered, or changed its tools), the ``on_event`` handler, and
:meth:`~mcp_async.MCPClientGroup.events` readers with bounded queues."""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any, Literal

from .servers import GroupServers

__all__ = ["EventHandler", "EventQueue", "GroupEvent", "GroupEventKind", "GroupEvents"]

logger = logging.getLogger("mcp_async")

#: What a :class:`GroupEvent` reports: a server ``"failed"`` (its tools left the
#: catalogue), ``"recovered"`` (reconnected, its tools are back), or its
#: ``"tools_changed"`` (it sent ``notifications/tools/list_changed``).
GroupEventKind = Literal["failed", "recovered", "tools_changed"]


@dataclass(frozen=True, slots=True)
class GroupEvent:
    """A change of a group's catalogue (see :meth:`MCPClientGroup.events`).

    After any event, :meth:`MCPClientGroup.list_tools` gives the new catalogue.
    ``error`` is set for ``"failed"``. ``missed`` counts the events an
    :meth:`~MCPClientGroup.events` reader lost before this one by falling behind.
    """

    kind: GroupEventKind
    server: str
    error: BaseException | None = None
    missed: int = 0


#: ``on_event(event)``: called for each :class:`GroupEvent`; may return an awaitable.
EventHandler = Callable[[GroupEvent], Awaitable[None] | None]

_EVENT_BACKLOG = 256  # events kept per events() reader that falls behind


class EventQueue:
    """The events of one :meth:`MCPClientGroup.events` reader: bounded; the oldest are
    dropped (and counted in the next event's ``missed``) when the reader falls behind."""

    def __init__(self) -> None:
        self.items: deque[GroupEvent] = deque()
        self.missed = 0
        self.closed = False
        self._wakeup: asyncio.Event = asyncio.Event()

    def put(self, event: GroupEvent) -> None:
        """Queue ``event``, dropping the oldest when the reader is 256 behind."""
        if len(self.items) >= _EVENT_BACKLOG:
            self.items.popleft()
            self.missed += 1
        self.items.append(event)
        self._wakeup.set()

    def close(self) -> None:
        """End the reader: :meth:`get` returns ``None`` once the queue is empty."""
        self.closed = True
        self._wakeup.set()

    async def get(self) -> GroupEvent | None:
        """The next event (with ``missed`` set), or ``None`` once closed and empty."""
        while not self.items:
            if self.closed:
                return None
            self._wakeup.clear()
            await self._wakeup.wait()
        event = self.items.popleft()
        if self.missed:
            event, self.missed = replace(event, missed=self.missed), 0
        return event


class GroupEvents(GroupServers):
    """A group's events: its readers' queues, and the ``on_event`` handler."""

    _on_event: EventHandler | None
    _queues: list[EventQueue]

    def events(self) -> AsyncIterator[GroupEvent]:
        """``async for event in group.events()``: each :class:`GroupEvent` from now on
        (a server failed, recovered, or changed its tools), until the group closes.

        Each reader has its own queue; one that falls behind by more than 256 events
        loses the oldest and is told how many in the next event's ``missed``.
        """
        self._require_open()
        queue = EventQueue()
        self._queues.append(queue)
        return self._read_events(queue)

    async def _read_events(self, queue: EventQueue) -> AsyncIterator[GroupEvent]:
        try:
            while True:
                event = await queue.get()
                if event is None:
                    return
                yield event
        finally:
            queue.close()
            if queue in self._queues:
                self._queues.remove(queue)

    def _emit(self, event: GroupEvent) -> None:
        groups: tuple[GroupEvents, ...] = (self, *self._views)
        for group in groups:
            if event.server not in group._servers:
                continue
            if event.kind != "failed":  # a failed server's names stay routed (to its error)
                group._routes = None
            for queue in group._queues:
                queue.put(event)
        handler = self._on_event
        if handler is None:
            return
        try:
            outcome = handler(event)
        except Exception:
            logger.exception("the on_event handler of an MCP client group failed")
            return
        if outcome is not None and inspect.isawaitable(outcome):
            self._spawn(_quietly(outcome))


async def _quietly(outcome: Awaitable[Any]) -> None:
    try:
        await outcome
    except Exception:
        logger.exception("the on_event handler of an MCP client group failed")
