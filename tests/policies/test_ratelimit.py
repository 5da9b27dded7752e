"""Rate limiting: header parsing (pure), the token bucket, the RateLimit hook and a real server."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from email.utils import formatdate
from typing import Any

import pytest
from aiohttp import web

from mcp_async import (
    AsyncMCPClient,
    BytesResponse,
    ConfigError,
    HTTPRequest,
    RateLimitedError,
    ReadTimeout,
    Timeout,
)
from mcp_async.policies.base import Exchange
from mcp_async.policies.ratelimit import RateLimit, TokenBucket
from mcp_async.protocol.ratelimit_headers import RateLimitInfo, parse_rate_limit, parse_reset
from mcp_async.transports.http.base import HTTPResponse
from mcp_async.transports.options import AttemptRecord


class FakeClock:
    """A clock that only moves when someone sleeps on it."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        await asyncio.sleep(0)  # let the others run "meanwhile"
        self.now += seconds


# -- header parsing -------------------------------------------------------------------------

NOW = 1_700_000_000.0

PARSE_CASES: list[tuple[str, dict[str, str], RateLimitInfo | None]] = [
    ("none", {"Content-Type": "application/json"}, None),
    (
        "x_ratelimit_delta",
        {"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "7", "X-RateLimit-Reset": "30"},
        RateLimitInfo(limit=100, remaining=7, reset=30.0),
    ),
    (
        "x_ratelimit_epoch_seconds",
        {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW) + 12)},
        RateLimitInfo(remaining=0, reset=12.0),
    ),
    (
        "x_ratelimit_epoch_millis",
        {"X-RATELIMIT-REMAINING": "3", "X-RateLimit-Reset": str(int(NOW * 1000) + 2500)},
        RateLimitInfo(remaining=3, reset=2.5),
    ),
    (
        "x_ratelimit_reset_in_past_is_zero",
        {"X-RateLimit-Remaining": "3", "X-RateLimit-Reset": str(int(NOW) - 50)},
        RateLimitInfo(remaining=3, reset=0.0),
    ),
    (
        "x_ratelimit_garbage_remaining",
        {"X-RateLimit-Remaining": "lots", "X-RateLimit-Reset": "10"},
        None,
    ),
    (
        "x_ratelimit_negative_remaining",
        {"X-RateLimit-Remaining": "-1"},
        None,
    ),
    (
        "x_ratelimit_listed_limit",
        {"X-RateLimit-Limit": "100, 100;w=60", "X-RateLimit-Remaining": "99"},
        RateLimitInfo(limit=100, remaining=99),
    ),
    (
        "ietf_structured_with_policy",
        {"RateLimit-Policy": '"default";q=100;w=60', "RateLimit": '"default";r=12;t=40'},
        RateLimitInfo(limit=100, remaining=12, reset=40.0, window=60.0, policy="default"),
    ),
    (
        "ietf_structured_tightest_policy_wins",
        {
            "RateLimit-Policy": '"burst";q=10;w=1, "day";q=1000;w=86400',
            "RateLimit": '"burst";r=9;t=1, "day";r=2;t=5000',
        },
        RateLimitInfo(limit=1000, remaining=2, reset=5000.0, window=86400.0, policy="day"),
    ),
    (
        "ietf_structured_without_policy",
        {"RateLimit": '"p";r=0;t=3'},
        RateLimitInfo(remaining=0, reset=3.0, policy="p"),
    ),
    (
        "ietf_dictionary_draft07",
        {"RateLimit": "limit=10, remaining=1, reset=7", "RateLimit-Policy": "10;w=1"},
        RateLimitInfo(limit=10, remaining=1, reset=7.0, window=1.0),
    ),
    (
        "ietf_separate_fields",
        {"RateLimit-Limit": "50", "RateLimit-Remaining": "4", "RateLimit-Reset": "9"},
        RateLimitInfo(limit=50, remaining=4, reset=9.0),
    ),
    (
        "ietf_beats_x_ratelimit",
        {"RateLimit": '"a";r=5;t=2', "X-RateLimit-Remaining": "500"},
        RateLimitInfo(remaining=5, reset=2.0, policy="a"),
    ),
    (
        "quoted_commas_do_not_split",
        {"RateLimit": '"x,y";r=3;t=4'},
        RateLimitInfo(remaining=3, reset=4.0, policy="x,y"),
    ),
]


@pytest.mark.parametrize(
    ("headers", "expected"), [c[1:] for c in PARSE_CASES], ids=[c[0] for c in PARSE_CASES]
)
def test_parse_rate_limit(headers: dict[str, str], expected: RateLimitInfo | None) -> None:
    assert parse_rate_limit(headers, now=NOW) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, None), ("", None), ("abc", None), ("nan", None), ("5", 5.0), ("-3", 0.0),
     ("1.5", 1.5), (str(int(NOW) + 60), 60.0)],
)
def test_parse_reset(value: str | None, expected: float | None) -> None:
    assert parse_reset(value, now=NOW) == expected


# -- token bucket ---------------------------------------------------------------------------


def test_token_bucket_burst_then_rate() -> None:
    bucket = TokenBucket(rate=2, per=1.0, burst=2)
    assert bucket.delay(0.0) == 0.0
    bucket.take(0.0)
    bucket.take(0.0)
    assert bucket.delay(0.0) == pytest.approx(0.5)
    assert bucket.delay(0.25) == pytest.approx(0.25)
    assert bucket.delay(0.5) == 0.0
    bucket.take(0.5)
    assert bucket.delay(0.5) == pytest.approx(0.5)
    # Idle time refills up to the burst only.
    assert bucket.delay(100.0) == 0.0
    bucket.take(100.0)
    bucket.take(100.0)
    assert bucket.delay(100.0) > 0


@pytest.mark.parametrize(
    "kwargs",
    [{"rate": 0}, {"rate": -1}, {"rate": True}, {"rate": 1, "per": 0}, {"rate": 1, "burst": 0},
     {"rate": 1, "burst": 1.5}],
)
def test_token_bucket_rejects_bad_arguments(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        TokenBucket(**kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [{"burst": 3}, {"low_watermark": 2}, {"max_pause": 0}, {"rate": "fast"}],
)
def test_rate_limit_rejects_bad_arguments(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        RateLimit(**kwargs)


# -- the hook with a fake clock ---------------------------------------------------------------


def responder(
    *replies: tuple[int, dict[str, str]],
) -> tuple[Callable[[HTTPRequest], Awaitable[HTTPResponse]], list[float]]:
    """A call_next answering with the given (status, headers), recording clock times."""
    queue = list(replies)
    sent: list[float] = []

    async def call_next(request: HTTPRequest) -> HTTPResponse:
        sent.append(request.extensions["clock"]())
        status, headers = queue.pop(0) if queue else (200, {})
        return BytesResponse(status, b"{}", headers)

    return call_next, sent


def request_for(clock: FakeClock) -> HTTPRequest:
    return HTTPRequest("POST", "http://h/mcp", extensions={"clock": clock})


async def test_client_side_rate_is_shared_by_all_tasks() -> None:
    clock = FakeClock()
    limit = RateLimit(rate=10, per=1.0, burst=1, clock=clock, sleep=clock.sleep)
    call_next, sent = responder()
    await asyncio.gather(*(limit.around(request_for(clock), call_next) for _ in range(5)))
    assert sent == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4])
    assert limit.waits == 4
    assert limit.waited == pytest.approx(0.1 + 0.2 + 0.3 + 0.4)


async def test_wait_is_recorded_in_the_request_record() -> None:
    clock = FakeClock()
    limit = RateLimit(rate=1, per=2.0, clock=clock, sleep=clock.sleep)
    call_next, _ = responder()
    first, second = request_for(clock), request_for(clock)
    first.record, second.record = AttemptRecord(), AttemptRecord()
    await limit.around(first, call_next)
    await limit.around(second, call_next)
    assert first.record.rate_limit_wait == 0.0
    assert second.record.rate_limit_wait == pytest.approx(2.0)


async def test_low_remaining_paces_until_reset() -> None:
    clock = FakeClock()
    limit = RateLimit(clock=clock, sleep=clock.sleep)
    headers = {"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "3",
               "X-RateLimit-Reset": "8"}
    call_next, sent = responder((200, headers))
    await limit.around(request_for(clock), call_next)  # learns: 3 left, reset in 8 s
    for _ in range(4):
        await limit.around(request_for(clock), call_next)
    # Three requests spread over the 8 s (2 s apart), none more until the reset.
    assert sent == pytest.approx([0.0, 2.0, 4.0, 6.0, 8.0])


async def test_high_remaining_does_not_pace() -> None:
    clock = FakeClock()
    limit = RateLimit(clock=clock, sleep=clock.sleep)
    headers = {"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "80",
               "X-RateLimit-Reset": "60"}
    call_next, sent = responder(*[(200, headers)] * 10)
    for _ in range(10):
        await limit.around(request_for(clock), call_next)
    assert sent == [0.0] * 10
    assert clock.sleeps == []


async def test_remaining_zero_waits_for_reset_ietf() -> None:
    clock = FakeClock()
    limit = RateLimit(clock=clock, sleep=clock.sleep)
    call_next, sent = responder((200, {"RateLimit": '"d";r=0;t=5'}))
    await limit.around(request_for(clock), call_next)
    await limit.around(request_for(clock), call_next)
    assert sent == [0.0, 5.0]


async def test_429_pauses_every_task_until_retry_after() -> None:
    clock = FakeClock()
    limit = RateLimit(clock=clock, sleep=clock.sleep)
    call_next, sent = responder((429, {"Retry-After": "3"}))
    first = await limit.around(request_for(clock), call_next)
    assert first.status == 429
    assert limit.paused_until == 3.0
    await asyncio.gather(*(limit.around(request_for(clock), call_next) for _ in range(3)))
    assert sent == [0.0, 3.0, 3.0, 3.0]
    assert limit.paused_until == 0.0


async def test_429_http_date_and_max_pause() -> None:
    clock = FakeClock()
    limit = RateLimit(clock=clock, sleep=clock.sleep, max_pause=10)
    far = formatdate(time.time() + 3600, usegmt=True)
    call_next, sent = responder((429, {"Retry-After": far}))
    await limit.around(request_for(clock), call_next)
    await limit.around(request_for(clock), call_next)
    assert sent == [0.0, 10.0]


async def test_503_without_retry_after_does_not_pause() -> None:
    clock = FakeClock()
    limit = RateLimit(clock=clock, sleep=clock.sleep)
    call_next, sent = responder((503, {}))
    await limit.around(request_for(clock), call_next)
    await limit.around(request_for(clock), call_next)
    assert sent == [0.0, 0.0]


async def test_server_signals_can_be_ignored() -> None:
    clock = FakeClock()
    limit = RateLimit(clock=clock, sleep=clock.sleep, server_signals=False)
    call_next, sent = responder((429, {"Retry-After": "30"}))
    await limit.around(request_for(clock), call_next)
    await limit.around(request_for(clock), call_next)
    assert sent == [0.0, 0.0]


async def test_cancelled_waiter_does_not_block_the_queue() -> None:
    clock = FakeClock()
    release = asyncio.Event()

    async def slow_sleep(seconds: float) -> None:
        await release.wait()
        clock.now += seconds

    limit = RateLimit(rate=1, per=1.0, clock=clock, sleep=slow_sleep)
    call_next, sent = responder()
    await limit.around(request_for(clock), call_next)
    waiter = asyncio.ensure_future(limit.around(request_for(clock), call_next))
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    release.set()
    await limit.around(request_for(clock), call_next)
    assert sent == [0.0, 1.0]


# -- acquire(timeout=) and per-URL pauses, directly ---------------------------------------------
A = "http://h/a"
B = "http://h/b"


async def test_acquire_fails_at_once_when_the_pause_outlasts_its_timeout() -> None:
    clock = FakeClock()
    limit = RateLimit(clock=clock, sleep=clock.sleep)
    limit.observe(429, {"Retry-After": "30"}, A)
    with pytest.raises(ReadTimeout, match=r"rate limit holds requests to http://h/a for 30\.0s"):
        await limit.acquire(A, timeout=1)
    assert clock.sleeps == []  # failed without waiting at all
    assert clock.now == 0.0
    assert limit.waits == 0


async def test_acquire_waits_when_the_pause_fits_in_its_timeout() -> None:
    clock = FakeClock()
    limit = RateLimit(clock=clock, sleep=clock.sleep)
    limit.observe(429, {"Retry-After": "30"}, A)
    assert await limit.acquire(A, timeout=31) == pytest.approx(30.0)
    assert clock.sleeps == [30.0]
    # Exactly the timeout still fits; a hair more does not.
    limit.observe(429, {"Retry-After": "5"}, A)
    assert await limit.acquire(A, timeout=5) == pytest.approx(5.0)
    limit.observe(429, {"Retry-After": "5"}, A)
    with pytest.raises(ReadTimeout):
        await limit.acquire(A, timeout=4.99)


async def test_acquire_timeout_counts_the_time_already_spent_queueing() -> None:
    # The token bucket makes the third request wait 2 s in line; with a 1.5 s timeout it
    # fails at once instead of queueing past its timeout.
    clock = FakeClock()
    limit = RateLimit(rate=1, per=1.0, burst=1, clock=clock, sleep=clock.sleep)
    await limit.acquire(A)
    second = asyncio.ensure_future(limit.acquire(A))
    await asyncio.sleep(0)
    with pytest.raises(ReadTimeout):
        await limit.acquire(A, timeout=1.5)
    assert await second == pytest.approx(1.0)
    assert clock.sleeps == [1.0]


async def test_a_429_pauses_only_the_url_that_answered_it() -> None:
    clock = FakeClock()
    limit = RateLimit(clock=clock, sleep=clock.sleep)
    call_next, sent = responder((429, {"Retry-After": "30"}))
    refused = HTTPRequest("POST", A, extensions={"clock": clock})
    assert (await limit.around(refused, call_next)).status == 429
    # Another URL goes at once, without a wait, also with a short timeout of its own.
    assert await limit.acquire(B, timeout=0.5) == 0.0
    other = HTTPRequest("POST", B, extensions={"clock": clock}, timeout=Timeout(total=0.5))
    assert (await limit.around(other, call_next)).status == 200
    assert clock.sleeps == []
    assert sent == [0.0, 0.0]
    # The URL that answered 429 is held: past a request's timeout it fails at once...
    held = HTTPRequest("POST", A, extensions={"clock": clock}, timeout=Timeout(total=0.5))
    with pytest.raises(ReadTimeout):
        await limit.around(held, call_next)
    assert sent == [0.0, 0.0]
    # ...and within one it waits for the pause to end.
    assert await limit.acquire(A, timeout=60) == pytest.approx(30.0)


async def test_a_pause_without_url_holds_every_url() -> None:
    clock = FakeClock()
    limit = RateLimit(clock=clock, sleep=clock.sleep)
    limit.pause(10)
    for url in (A, B):
        with pytest.raises(ReadTimeout):
            await limit.acquire(url, timeout=1)
    assert clock.sleeps == []
    assert await limit.acquire(B, timeout=20) == pytest.approx(10.0)


async def test_a_retry_after_of_zero_does_not_pause() -> None:
    clock = FakeClock()
    limit = RateLimit(clock=clock, sleep=clock.sleep)
    for value in ("0", "-3", "soon"):
        limit.observe(429, {"Retry-After": value}, A)
        assert await limit.acquire(A, timeout=0.1) == 0.0
    assert clock.sleeps == []


async def test_message_level_wait_respects_the_call_timeout() -> None:
    # The same limit around a request message (the path of MCP requests): the call's
    # timeout travels in the exchange.
    clock = FakeClock()
    limit = RateLimit(clock=clock, sleep=clock.sleep)
    limit.observe(429, {"Retry-After": "30"}, A)
    sent: list[str] = []

    async def send(exchange: Exchange) -> None:
        sent.append(exchange.url)

    with pytest.raises(ReadTimeout):
        await limit.around_message(Exchange("tools/call", A, timeout=2.0), send)
    await limit.around_message(Exchange("tools/call", B, timeout=2.0), send)
    assert sent == [B]
    assert clock.sleeps == []


# -- against a real server ------------------------------------------------------------------


async def test_low_remaining_slows_client_without_blocking_other_tasks(
    make_server: Callable[[dict[str, Any]], Awaitable[Any]],
) -> None:
    """A paced client waits with asyncio.sleep: a heartbeat task keeps ticking meanwhile."""
    hits: list[float] = []

    async def limited(request: web.Request) -> web.Response:
        hits.append(time.monotonic())
        left = max(0, 2 - len(hits))
        return web.json_response(
            {"n": len(hits)},
            headers={"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": str(left),
                     "X-RateLimit-Reset": "0.3"},
        )

    server = await make_server({"/api/limited": limited})
    ticks = 0
    stop = asyncio.Event()

    async def heartbeat() -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            await asyncio.sleep(0.01)

    beat = asyncio.ensure_future(heartbeat())
    limit = RateLimit()
    async with AsyncMCPClient(server.url, rate_limit=limit) as client:
        start = time.monotonic()
        for _ in range(3):
            await client.send_request("limited", {})
        elapsed = time.monotonic() - start
    stop.set()
    await beat
    # 1 left after the first reply, 0 after the second: the third waits for the reset.
    assert elapsed >= 0.2
    assert limit.waits >= 1
    assert ticks >= 10  # the loop was never blocked


async def test_429_without_retry_surfaces_retry_after(
    make_server: Callable[[dict[str, Any]], Awaitable[Any]],
) -> None:
    async def busy(request: web.Request) -> web.Response:
        return web.Response(status=429, text="slow down", headers={"Retry-After": "7"})

    server = await make_server({"/api/busy": busy})
    clock = FakeClock()
    limit = RateLimit(clock=clock, sleep=clock.sleep)
    async with AsyncMCPClient(server.url, rate_limit=limit) as client:
        with pytest.raises(RateLimitedError) as info:
            await client.send_request("busy", {})
        assert info.value.retry_after == 7.0
        assert info.value.status == 429
        assert limit.paused_until == 7.0
        with pytest.raises(RateLimitedError):
            await client.send_request("busy", {})
    assert clock.sleeps == [7.0]
