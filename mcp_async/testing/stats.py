"""What the test server saw: :class:`ServerStats`."""

from __future__ import annotations

import weakref
from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aiohttp import web

__all__ = ["ServerStats"]


def _received_log() -> deque[tuple[str, dict[str, Any]]]:
    return deque(maxlen=10_000)


@dataclass(eq=False)
class ServerStats:
    """What the server saw since start (or the last :meth:`reset`).

    ``requests``: POSTs (stdio: JSON lines read); ``by_method``: messages per
    JSON-RPC method; ``connections``: distinct TCP connections (all HTTP methods);
    ``in_flight`` / ``max_in_flight``: concurrent ``tools/call`` executions now / at
    most; ``sessions_created`` (stdio and legacy SSE sessions included);
    ``deletes``: accepted DELETEs; ``last_headers``: headers of the last POST
    (case-insensitive); ``received``: the last 10,000 ``(method, params)`` pairs;
    ``get_streams``: standalone GET streams opened; ``resumptions``: GETs with
    ``Last-Event-ID`` (``last_event_ids`` lists their values); ``replies``: client
    answers to server requests; ``cancelled``: tool calls stopped by the client's
    ``notifications/cancelled``; ``sse_streams``: legacy SSE streams opened.
    """

    requests: int = 0
    by_method: Counter[str] = field(default_factory=Counter)
    connections: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    sessions_created: int = 0
    deletes: int = 0
    last_headers: Mapping[str, str] | None = None
    received: deque[tuple[str, dict[str, Any]]] = field(default_factory=_received_log)
    get_streams: int = 0
    resumptions: int = 0
    last_event_ids: list[str] = field(default_factory=list)
    replies: int = 0
    cancelled: int = 0
    sse_streams: int = 0
    _transports: weakref.WeakSet[Any] = field(default_factory=weakref.WeakSet, repr=False)

    def reset(self) -> None:
        """Zero every counter (``in_flight`` keeps the current value)."""
        self.requests = self.connections = self.sessions_created = self.deletes = 0
        self.get_streams = self.resumptions = self.replies = self.cancelled = 0
        self.sse_streams = 0
        self.last_event_ids = []
        self.max_in_flight = self.in_flight
        self.by_method.clear()
        self.received.clear()
        self.last_headers = None
        self._transports = weakref.WeakSet()

    def _see_connection(self, request: web.Request) -> None:
        transport = request.transport
        if transport is not None and transport not in self._transports:
            self._transports.add(transport)
            self.connections += 1

    def _record(self, method: str, params: dict[str, Any] | None) -> None:
        self.by_method[method] += 1
        self.received.append((method, params if params is not None else {}))


