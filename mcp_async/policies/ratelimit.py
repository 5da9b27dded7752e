"""Client-side rate limiting and server-signalled pacing: the :class:`RateLimit` hook.

::

    limit = RateLimit(rate=20, per=1.0, burst=5)   # at most 20 requests a second
    async with AsyncMCPClient(url, rate_limit=limit) as client:
        await client.call_tool("echo", {"text": "hi"})

One hook does three things, for every task of the client at once:

* a token bucket (``rate`` requests per ``per`` seconds, bursts up to ``burst``);
* pacing from the server's budget headers (``X-RateLimit-*`` and the IETF
  ``RateLimit``/``RateLimit-Policy``): once the remaining budget drops below
  ``low_watermark`` of the limit, requests are spread so that it lasts until the reset,
  and none is sent while it is zero;
* a pause of the whole client after a 429 (or a 503 with ``Retry-After``) until the
  time the server asked for.

Waiting tasks queue in arrival order and sleep with ``asyncio.sleep`` (or the injected
``sleep``), so the event loop and every task not sending through this client keep
running. Retrying is not done here; combine with :class:`~mcp_async.RetryPolicy`, which
runs outside the limiter.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from .._exceptions import ConfigError, ReadTimeout
from ..protocol.headers import MAX_SERVER_WAIT, parse_retry_after
from ..protocol.ratelimit_headers import RateLimitInfo, parse_rate_limit
from ..transports.http.base import Handler, HTTPRequest, HTTPResponse
from ..transports.http.hooks import Hook
from .base import Exchange, NextStep
from .retry import redact_url

__all__ = ["RateLimit", "TokenBucket"]

logger = logging.getLogger("mcp_async.ratelimit")

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]


class TokenBucket:
    """A token bucket over an explicit clock: pure arithmetic, no waiting.

    ``rate`` tokens are added every ``per`` seconds, up to ``burst`` stored tokens;
    each request takes one. :meth:`delay` says how long until a token is available and
    :meth:`take` spends it. The bucket starts full.
    """

    __slots__ = ("_stamp", "_tokens", "burst", "per", "rate")

    def __init__(self, rate: float, per: float = 1.0, burst: int | None = None) -> None:
        _positive("rate", rate)
        _positive("per", per)
        if burst is None:
            burst = max(1, math.floor(rate))
        if isinstance(burst, bool) or not isinstance(burst, int) or burst < 1:
            raise ConfigError(f"burst must be an integer >= 1, got {burst!r}")
        self.rate = float(rate)
        self.per = float(per)
        self.burst = burst
        self._tokens = float(burst)
        self._stamp: float | None = None

    def _refill(self, now: float) -> None:
        if self._stamp is not None and now > self._stamp:
            self._tokens = min(
                float(self.burst), self._tokens + (now - self._stamp) * self.rate / self.per
            )
        if self._stamp is None or now > self._stamp:
            self._stamp = now

    def delay(self, now: float) -> float:
        """Seconds from ``now`` until a token is available (``0.0`` if one is)."""
        self._refill(now)
        missing = 1.0 - self._tokens
        return 0.0 if missing <= 1e-9 else missing * self.per / self.rate

    def take(self, now: float) -> None:
        """Spend one token (call when :meth:`delay` returned ``0.0``)."""
        self._refill(now)
        self._tokens -= 1.0


@dataclass(frozen=True, slots=True)
class _Budget:
    """The server's last word on the budget, anchored to our clock."""

    limit: int | None
    remaining: int
    reset_at: float | None


def _positive(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ConfigError(f"{name} must be a positive number, got {value!r}")


#: Most URLs with a lock of their own; idle ones are forgotten beyond it.
_MAX_LOCKS = 256


async def _asyncio_sleep(seconds: float) -> None:
    await asyncio.sleep(seconds)


class RateLimit(Hook):
    """Limit how fast a client sends, and follow what the server says about its limits.

    Args:
        rate: requests allowed per ``per`` seconds (``None``: no client-side limit).
        per: the period of ``rate`` in seconds.
        burst: requests that may go out back to back (default: ``rate``, at least 1).
        server_signals: read the server's budget headers and 429s (default on).
        low_watermark: fraction of the server's limit below which requests are paced
            (the largest remaining count seen stands in when no limit is sent).
        max_pause: the longest wait taken from a server signal, in seconds (default
            :data:`~mcp_async.protocol.headers.MAX_SERVER_WAIT`, the retry policy's cap
            too); protects against a bogus reset far in the future.
        clock: monotonic clock in seconds (default ``time.monotonic``), for tests.
        sleep: awaitable ``sleep(seconds)`` (default ``asyncio.sleep``), for tests.

    Share one instance between clients that talk to the same server to share its
    budget. The seconds a request waited are added to its record's ``rate_limit_wait``
    (:class:`~mcp_async.transports.options.AttemptRecord`). A 429 pauses only requests to the URL
    that answered it. A request never waits past its own timeout: when the wait would
    end later, it fails at once with :class:`~mcp_async.ReadTimeout`.
    """

    def __init__(
        self,
        rate: float | None = None,
        per: float = 1.0,
        *,
        burst: int | None = None,
        server_signals: bool = True,
        low_watermark: float = 0.1,
        max_pause: float = MAX_SERVER_WAIT,
        clock: Clock | None = None,
        sleep: Sleep | None = None,
    ) -> None:
        self.bucket = TokenBucket(rate, per, burst) if rate is not None else None
        if rate is None and burst is not None:
            raise ConfigError("burst needs a rate")
        if isinstance(low_watermark, bool) or not 0 <= low_watermark <= 1:
            raise ConfigError(f"low_watermark must be between 0 and 1, got {low_watermark!r}")
        _positive("max_pause", max_pause)
        self.server_signals = server_signals
        self.low_watermark = float(low_watermark)
        self.max_pause = float(max_pause)
        self._clock: Clock = clock if clock is not None else time.monotonic
        self._sleep: Sleep = sleep if sleep is not None else _asyncio_sleep
        self._locks: dict[str, asyncio.Lock] = {}
        self._waiting = 0
        # Pauses after a 429, per URL ("" pauses every URL).
        self._pauses: dict[str, float] = {}
        self._budget: _Budget | None = None
        self._largest_remaining = 0
        self._last_send: float | None = None
        #: Requests that had to wait, and the seconds they waited in total.
        self.waits = 0
        self.waited = 0.0

    def __repr__(self) -> str:
        bucket = self.bucket
        rate = f"rate={bucket.rate}, per={bucket.per}, burst={bucket.burst}" if bucket else ""
        return f"RateLimit({rate or 'rate=None'}, server_signals={self.server_signals})"

    # -- state ----------------------------------------------------------------------------
    @property
    def paused_until(self) -> float:
        """Clock time before which some URL gets nothing (after a 429); 0.0 when none is."""
        return max(self._pauses.values(), default=0.0)

    def pause(self, seconds: float, url: str = "") -> None:
        """Hold requests to ``url`` (``""``: every URL) for ``seconds`` from now, capped
        by ``max_pause``."""
        until = self._clock() + min(max(seconds, 0.0), self.max_pause)
        if until > self._pauses.get(url, 0.0):
            self._pauses[url] = until

    def observe(self, status: int, headers: Mapping[str, str], url: str = "") -> None:
        """Update the pacing state from one response (to ``url``): status and headers."""
        if not self.server_signals:
            return
        now = self._clock()
        info = parse_rate_limit(headers)
        if info is not None:
            self._remember(info, now)
        if status == 429 or (status == 503 and "Retry-After" in headers):
            wait = parse_retry_after(headers.get("Retry-After"))
            if wait is None and info is not None and info.remaining == 0:
                wait = info.reset
            if wait is not None:
                logger.info("server rate limit (HTTP %d): pausing requests for %.2fs",
                            status, min(wait, self.max_pause))
                self.pause(wait, url)

    def _remember(self, info: RateLimitInfo, now: float) -> None:
        assert info.remaining is not None
        reset_at = None if info.reset is None else now + min(info.reset, self.max_pause)
        old = self._budget
        if old is None or info.remaining > old.remaining or (
            reset_at is not None and old.reset_at is not None and reset_at > old.reset_at + 1
        ):
            self._largest_remaining = 0  # a new window
        self._largest_remaining = max(self._largest_remaining, info.remaining)
        self._budget = _Budget(info.limit, info.remaining, reset_at)
        if self._last_send is None:
            self._last_send = now

    def delay(self, now: float, url: str = "") -> float:
        """Seconds from ``now`` before the next request to ``url`` may go (without
        reserving it)."""
        pauses = self._pauses
        wait = max(pauses.get("", 0.0), pauses.get(url, 0.0)) - now if pauses else 0.0
        budget = self._budget
        if budget is not None and budget.reset_at is not None:
            left = budget.reset_at - now
            if left <= 0:
                self._budget = None  # the window is over; wait for fresh numbers
            elif budget.remaining <= 0:
                wait = max(wait, left)
            elif budget.remaining <= self._threshold(budget) and self._last_send is not None:
                # Spread what is left evenly between the last send and the reset.
                share = (budget.reset_at - self._last_send) / (budget.remaining + 1)
                wait = max(wait, self._last_send + share - now)
        if self.bucket is not None:
            wait = max(wait, self.bucket.delay(now))
        return max(wait, 0.0)

    def _threshold(self, budget: _Budget) -> float:
        limit = budget.limit if budget.limit else self._largest_remaining
        return max(1.0, self.low_watermark * limit)

    def _spend(self, now: float) -> None:
        self._last_send = now
        if self.bucket is not None:
            self.bucket.take(now)
        budget = self._budget
        if budget is not None and budget.remaining > 0:
            # Count our own sends until the next response brings the server's number.
            self._budget = _Budget(budget.limit, budget.remaining - 1, budget.reset_at)

    def _idle(self) -> bool:
        return self.bucket is None and self._budget is None and not self._pauses

    # -- waiting --------------------------------------------------------------------------
    async def acquire(self, url: str = "", *, timeout: float | None = None) -> float:
        """Wait until a request to ``url`` may be sent and count it; return the seconds
        waited. When the wait would last more than ``timeout`` seconds, raise
        :class:`~mcp_async.ReadTimeout` at once instead.

        Requests to one URL take their turns in order; a pause of one URL never holds
        requests to another.
        """
        if self._idle() and not self._waiting:
            return 0.0
        lock = self._locks.get(url)
        if lock is None:
            if len(self._locks) >= _MAX_LOCKS:
                self._locks = {key: held for key, held in self._locks.items() if held.locked()}
            lock = self._locks[url] = asyncio.Lock()
        start = self._clock()
        self._waiting += 1
        try:
            async with lock:
                while True:
                    now = self._clock()
                    wait = self.delay(now, url)
                    if wait <= 0.0:
                        break
                    if timeout is not None and now - start + wait > timeout:
                        raise ReadTimeout(
                            "the rate limit holds requests to "
                            f"{redact_url(url) or 'the server'} for {wait:.1f}s more, "
                            f"beyond this call's timeout of {timeout}s"
                        )
                    await self._sleep(wait)
                self._spend(now)
                if self._pauses:
                    self._pauses = {key: until for key, until in self._pauses.items()
                                    if until > now}
        finally:
            self._waiting -= 1
        waited = now - start
        if waited > 0:
            self.waits += 1
            self.waited += waited
            logger.debug("rate limit: request waited %.3fs", waited)
        return waited

    async def around_message(self, exchange: Exchange, call_next: NextStep) -> None:
        """Wait for a turn, then send one request message (transports without HTTP)."""
        waited = await self.acquire(exchange.url, timeout=exchange.timeout)
        if waited > 0:
            exchange.record.rate_limit_wait += waited
        await call_next(exchange)

    async def around(self, request: HTTPRequest, call_next: Handler) -> HTTPResponse:
        """Wait for a turn, send, then learn from the response."""
        timeout = request.timeout.total if request.timeout is not None else None
        waited = await self.acquire(request.url, timeout=timeout)
        if waited > 0 and request.record is not None:
            request.record.rate_limit_wait += waited
        response = await call_next(request)
        self.observe(response.status, response.headers, request.url)
        return response
