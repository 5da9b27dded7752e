"""Deadlines for replies that travel on a stream: many coarse timeouts checked by one
timer, and the error a request that ran out of time fails with."""

from __future__ import annotations

import asyncio

from .._exceptions import ReadTimeout
from ..protocol.jsonrpc import RequestId
from ..transports.message import Reply

__all__ = ["COARSE_FROM", "Deadlines", "expire", "timed_out"]

#: Timeouts at least this long are tracked coarsely (they may fire up to 2 * _SLACK late).
COARSE_FROM = 1.0
_SLACK = 0.1


def timed_out(method: str, request_id: RequestId, total: float | None) -> ReadTimeout:
    """The error of a request ``method`` (id ``request_id``) unanswered within ``total``s."""
    return ReadTimeout(f"no response to {method!r} (id {request_id!r}) within {total}s")


def expire(waiter: asyncio.Future[Reply]) -> None:
    """Fail ``waiter`` with ReadTimeout, unless it is already done (a timer's callback)."""
    if not waiter.done():
        waiter.set_exception(ReadTimeout("timed out"))


class Deadlines:
    """Coarse timeouts for many requests at once, checked ten times a second.

    A request registers its deadline and removes it when its reply arrives: two dict
    operations, against a timer's heap work per request. While any are registered, one
    timer sweeps them and fails the expired waiters with ReadTimeout (up to two tenths
    of a second late, never early).
    """

    def __init__(self) -> None:
        self._due: dict[asyncio.Future[Reply], float] = {}
        self._now = 0.0
        self._sweeper: asyncio.TimerHandle | None = None

    def track(self, waiter: asyncio.Future[Reply], seconds: float) -> None:
        """Fail ``waiter`` with ReadTimeout once ``seconds`` have passed."""
        if self._sweeper is None:
            loop = asyncio.get_running_loop()
            self._now = loop.time()
            self._sweeper = loop.call_later(_SLACK, self._sweep)
        self._due[waiter] = self._now + seconds + _SLACK

    def forget(self, waiter: asyncio.Future[Reply]) -> None:
        """Stop tracking ``waiter`` (its reply arrived, or it gave up)."""
        self._due.pop(waiter, None)

    def _sweep(self) -> None:
        loop = asyncio.get_running_loop()
        now = self._now = loop.time()
        expired = [waiter for waiter, due in self._due.items() if due <= now]
        for waiter in expired:
            del self._due[waiter]
            if not waiter.done():
                waiter.set_exception(ReadTimeout("timed out"))
        self._sweeper = loop.call_later(_SLACK, self._sweep) if self._due else None

    def close(self) -> None:
        """Stop the timer and forget every deadline."""
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        self._due.clear()
