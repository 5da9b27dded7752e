"""SSE streams of the Streamable HTTP front end: the events of a stream kept for resumption,
the outbox that writes one SSE reply (and cuts it on a fault's cue), and the event log
that numbers events and forgets the oldest streams."""

from __future__ import annotations

import asyncio
import collections
import itertools
from typing import TYPE_CHECKING, Final

from ..protocol.sse import encode_event
from .faults import Fault

if TYPE_CHECKING:
    from aiohttp import web

__all__ = ["EventLog", "EventStream", "ReplyOutbox"]

#: How many SSE streams a resumable server keeps for replay.
_KEPT_STREAMS: Final = 512


class EventStream:
    """The events of one SSE stream, kept (with ``resumable``) so a client can resume it.

    Writers :meth:`add` encoded events; :meth:`follow` writes them to an attached HTTP
    response until the stream is finished or :meth:`kick` detaches its followers.
    """

    __slots__ = ("_generation", "_kicked_at", "_wake", "events", "finished")

    def __init__(self) -> None:
        self.events: list[tuple[int, bytes]] = []
        self.finished = False
        self._generation = 0
        self._kicked_at = 0
        self._wake = asyncio.Event()

    def _changed(self) -> None:
        wake, self._wake = self._wake, asyncio.Event()
        wake.set()

    def add(self, event_id: int, data: bytes) -> None:
        self.events.append((event_id, data))
        self._changed()

    def finish(self) -> None:
        self.finished = True
        self._changed()

    def kick(self) -> None:
        self._generation += 1
        self._kicked_at = len(self.events)
        self._changed()

    async def follow(self, after: int | None, response: web.StreamResponse) -> None:
        index = 0
        if after is not None:
            index = next(
                (i + 1 for i, (event_id, _) in enumerate(self.events) if event_id == after), 0
            )
        generation = self._generation
        while True:
            kicked = generation != self._generation
            end = self._kicked_at if kicked else len(self.events)
            batch = self.events[index:end]
            index = max(index, end)
            stop = kicked or self.finished
            wake = self._wake
            for _, data in batch:
                await response.write(data)
            if stop:
                return
            if index == len(self.events):
                await wake.wait()



class EventLog:
    """Numbers the server's SSE events and remembers which stream each belongs to, for
    resumption with ``Last-Event-ID`` (bounded: the oldest streams are forgotten first)."""

    __slots__ = ("_ids", "_kept", "_streams")

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        # Event id -> its stream; streams are forgotten oldest first.
        self._streams: dict[int, EventStream] = {}
        self._kept: collections.OrderedDict[EventStream, list[int]] = collections.OrderedDict()

    def next_id(self) -> int:
        """A new event id."""
        return next(self._ids)

    def stream_of(self, event_id: int) -> EventStream | None:
        """The kept stream that event ``event_id`` belongs to."""
        return self._streams.get(event_id)

    def streams(self) -> list[EventStream]:
        """Every kept stream."""
        return list(self._kept)

    def keep(self, event_id: int, stream: EventStream) -> None:
        """Remember which stream an event belongs to."""
        self._streams[event_id] = stream
        ids = self._kept.get(stream)
        if ids is None:
            ids = self._kept[stream] = []
            while len(self._kept) > _KEPT_STREAMS:
                _, old = self._kept.popitem(last=False)
                for old_id in old:
                    self._streams.pop(old_id, None)
        ids.append(event_id)

    def event(
        self, data: str, *, event: str | None = "message", retry: int | None = None
    ) -> tuple[int, bytes]:
        """A new numbered event, encoded."""
        event_id = self.next_id()
        return event_id, encode_event(data, event=event, id=str(event_id), retry=retry)

    def push(self, stream: EventStream, event: tuple[int, bytes]) -> None:
        """Add an event to a stream and keep it."""
        event_id, data = event
        self.keep(event_id, stream)
        stream.add(event_id, data)


class ReplyOutbox:
    """Writes the events of one SSE reply, keeps them for resumption, cuts it on cue."""

    __slots__ = ("_break_after", "_end_after", "_events", "_request", "_response", "_stream",
                 "attached", "written")

    def __init__(
        self,
        events: EventLog,
        request: web.Request,
        response: web.StreamResponse,
        stream: EventStream | None,
        fault: Fault | None,
    ) -> None:
        self._events = events
        self._request = request
        self._response = response
        self._stream = stream
        self._end_after = fault.end_after if fault is not None else None
        self._break_after = fault.break_after if fault is not None else None
        self.attached = True
        self.written = 0

    async def write(self, data: str, *, event: str | None = "message", retry: int | None = None,
                    last: bool = False) -> None:
        event_id = self._events.next_id()
        encoded = encode_event(data, event=event, id=str(event_id), retry=retry)
        if self._stream is not None:
            self._events.keep(event_id, self._stream)
            self._stream.add(event_id, encoded)
        if not self.attached:
            return
        try:
            if last:
                await self._response.write_eof(encoded)
            else:
                await self._response.write(encoded)
        except ConnectionError:  # client gone: let the request finish
            self.attached = False
            return
        self.written += 1
        if self._end_after is not None and self.written > self._end_after:
            self.attached = False
            await self._response.write_eof()
        elif self._break_after is not None and self.written > self._break_after:
            self.attached = False
            transport = self._request.transport
            if transport is not None:
                transport.close()

