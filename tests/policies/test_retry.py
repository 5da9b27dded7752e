"""RetryPolicy: what is retried, how long it waits, what it raises — with an injected clock."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from email.utils import formatdate
from typing import Any

import pytest

from mcp_async import (
    AsyncMCPClient,
    BytesResponse,
    ConfigError,
    ConnectError,
    ConnectTimeout,
    HTTPRequest,
    HTTPStatusError,
    JSONRPCError,
    MCPClientError,
    RateLimitedError,
    ReadError,
    ReadTimeout,
    Timeout,
    middleware,
)
from mcp_async.policies import retry as retry_module
from mcp_async.policies.base import Exchange, MessagePolicy
from mcp_async.policies.metrics import MetricsHook, RequestSample
from mcp_async.policies.retry import RetryPolicy, per_call_retry, redact_url, resolve
from mcp_async.testing import Fault, MCPTestServer
from mcp_async.transports.http.base import HTTPResponse
from mcp_async.transports.options import RequestOptions

Step = HTTPResponse | BaseException | tuple[int, dict[str, str]]


class FakeClock:
    """A clock that only moves when someone sleeps on it."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        await asyncio.sleep(0)
        self.now += seconds


def script(
    *steps: Step,
) -> tuple[Callable[[HTTPRequest], Awaitable[HTTPResponse]], list[int | None]]:
    """A call_next that plays ``steps`` (responses, (status, headers) or errors), then 200."""
    queue = list(steps)
    attempts: list[int | None] = []

    async def call_next(request: HTTPRequest) -> HTTPResponse:
        attempts.append(request.record.attempt if request.record is not None else None)
        step: Step = queue.pop(0) if queue else BytesResponse(200, b"{}")
        if isinstance(step, BaseException):
            raise step
        if isinstance(step, tuple):
            return BytesResponse(step[0], b"nope", step[1], url=request.url)
        return step

    return call_next, attempts


def policy(clock: FakeClock, **kwargs: Any) -> RetryPolicy:
    kwargs.setdefault("jitter", False)
    return RetryPolicy(sleep=clock.sleep, clock=clock, **kwargs)


def mcp_request(method: str = "tools/call", *, idempotent: bool = False) -> HTTPRequest:
    return HTTPRequest(
        "POST", "http://127.0.0.1:1/mcp", mcp_method=method, idempotent=idempotent,
    )


def message_script(failures: int) -> tuple[Callable[[Exchange], Awaitable[None]], list[int]]:
    """A message chain's next step that fails ``failures`` times (a refused connection),
    then succeeds; it notes the try number of each attempt."""
    attempts: list[int] = []

    async def call_next(exchange: Exchange) -> None:
        attempts.append(exchange.record.attempt)
        if len(attempts) <= failures:
            raise ConnectError("refused", sent=False)

    return call_next, attempts


def exchange_with(retry: RetryPolicy | bool | None) -> Exchange:
    return Exchange("tools/call", "http://127.0.0.1:1/mcp", RequestOptions(retry=retry))


# -- what is retried ----------------------------------------------------------------------


async def test_429_with_retry_after_then_success() -> None:
    clock = FakeClock()
    call_next, attempts = script((429, {"Retry-After": "2"}))
    request = mcp_request()
    response = await policy(clock).run(request, call_next)
    assert response.status == 200
    assert attempts == [1, 2]
    assert clock.sleeps == [2.0]
    assert request.record is not None and request.record.attempt == 2


async def test_retry_after_http_date() -> None:
    clock = FakeClock()
    when = formatdate(time.time() + 30, usegmt=True)
    call_next, attempts = script((503, {"Retry-After": when}))
    await policy(clock).run(mcp_request(), call_next)
    assert attempts == [1, 2]
    assert clock.sleeps[0] == pytest.approx(30, abs=2)


async def test_503_burst_backs_off_exponentially_with_cap() -> None:
    clock = FakeClock()
    call_next, attempts = script(*[(503, {})] * 4, (502, {}), (504, {}))
    response = await policy(clock, attempts=10, backoff=1, max_backoff=5).run(
        mcp_request(), call_next
    )
    assert response.status == 200
    assert attempts == [1, 2, 3, 4, 5, 6, 7]
    assert clock.sleeps == [1, 2, 4, 5, 5, 5]


async def test_jitter_stays_within_the_backoff() -> None:
    clock = FakeClock()
    call_next, _ = script(*[(503, {})] * 5)
    await policy(clock, attempts=6, backoff=1, max_backoff=8, jitter=True).run(
        mcp_request(), call_next
    )
    for sleep, cap in zip(clock.sleeps, [1, 2, 4, 8, 8], strict=True):
        assert 0 <= sleep <= cap
    # Full jitter draws each wait from [0, cap]: the waits are not the plain backoff (which
    # jitter=False gives, and which this test must not accept).
    assert clock.sleeps != [1, 2, 4, 8, 8]


async def test_jitter_spreads_the_waits_of_many_clients() -> None:
    # Many clients backing off after the same 503 must not retry in lockstep: their first
    # waits are spread over [0, 1], not all equal to 1.
    firsts: list[float] = []
    for _ in range(40):
        clock = FakeClock()
        call_next, _ = script((503, {}))
        await policy(clock, attempts=2, backoff=1, jitter=True).run(mcp_request(), call_next)
        firsts.append(clock.sleeps[0])
    assert all(0 <= wait <= 1 for wait in firsts)
    assert len(set(firsts)) > 30
    assert min(firsts) < 0.5 < max(firsts)


async def test_exhausted_503_raises_typed_error_with_attempts() -> None:
    clock = FakeClock()
    call_next, attempts = script(*[(503, {})] * 5)
    with pytest.raises(HTTPStatusError) as info:
        await policy(clock, attempts=3, backoff=0).run(mcp_request(), call_next)
    assert info.value.status == 503
    assert info.value.attempts == 3
    assert attempts == [1, 2, 3]


async def test_exhausted_429_raises_rate_limited_with_retry_after() -> None:
    clock = FakeClock()
    call_next, _ = script(*[(429, {"Retry-After": "1"})] * 5)
    with pytest.raises(RateLimitedError) as info:
        await policy(clock, attempts=2).run(mcp_request(), call_next)
    assert info.value.retry_after == 1.0
    assert info.value.attempts == 2


@pytest.mark.parametrize("status", [400, 401, 404, 409, 500, 501])
async def test_other_statuses_are_not_retried(status: int) -> None:
    clock = FakeClock()
    call_next, attempts = script((status, {}))
    response = await policy(clock).run(mcp_request(), call_next)
    assert response.status == status
    assert attempts == [1]


async def test_jsonrpc_error_in_a_200_is_not_retried() -> None:
    clock = FakeClock()
    body = b'{"jsonrpc":"2.0","id":1,"error":{"code":-32603,"message":"boom"}}'
    call_next, attempts = script(
        BytesResponse(200, body, {"Content-Type": "application/json"})
    )
    response = await policy(clock).run(mcp_request(), call_next)
    assert await response.read() == body
    assert attempts == [1]


async def test_jsonrpc_error_in_a_502_body_is_retried_then_raised() -> None:
    clock = FakeClock()
    body = b'{"jsonrpc":"2.0","id":1,"error":{"code":-32000,"message":"upstream"}}'
    bad = [BytesResponse(502, body, {"Content-Type": "application/json"}) for _ in range(3)]
    call_next, _attempts = script(*bad)
    with pytest.raises(JSONRPCError) as info:
        await policy(clock, attempts=3, backoff=0).run(mcp_request(), call_next)
    assert info.value.http_status == 502
    assert info.value.attempts == 3


@pytest.mark.parametrize(
    ("error", "idempotent", "retried"),
    [
        (ConnectError("refused", sent=False), False, True),
        (ConnectTimeout("slow connect"), False, True),
        (ConnectError("reset", sent=True), False, False),
        (ConnectError("reset", sent=True), True, True),
        (ReadError("dropped"), False, False),
        (ReadError("dropped"), True, True),
        (ReadTimeout("slow"), False, False),
        (ReadTimeout("slow"), True, True),
    ],
)
async def test_transport_errors_retried_only_when_safe(
    error: MCPClientError, idempotent: bool, retried: bool
) -> None:
    clock = FakeClock()
    call_next, attempts = script(error)
    request = mcp_request(idempotent=idempotent)
    if retried:
        response = await policy(clock).run(request, call_next)
        assert response.status == 200
        assert attempts == [1, 2]
    else:
        with pytest.raises(type(error)) as info:
            await policy(clock).run(request, call_next)
        assert info.value is error
        assert info.value.attempts == 1
        assert attempts == [1]


async def test_idempotent_json_reply_is_buffered_and_a_broken_body_retried() -> None:
    class BrokenBody(BytesResponse):
        released = False

        async def read(self) -> bytes:
            raise ReadError("connection lost mid-body")

        def release(self) -> None:
            self.released = True

    json = {"Content-Type": "application/json"}
    broken = BrokenBody(200, b"", json)
    good = BytesResponse(200, b'{"ok":1}', json)
    clock = FakeClock()
    call_next, attempts = script(broken, good)
    response = await policy(clock).run(mcp_request("tools/list", idempotent=True), call_next)
    assert attempts == [1, 2]
    assert broken.released
    assert await response.read() == b'{"ok":1}'


async def test_non_idempotent_reply_is_passed_through_unread() -> None:
    original = BytesResponse(200, b"{}", {"Content-Type": "application/json"})
    call_next, _ = script(original)
    assert await policy(FakeClock()).run(mcp_request(), call_next) is original


# -- deadline and Retry-After caps -----------------------------------------------------------


async def test_deadline_stops_before_a_wait_that_would_pass_it() -> None:
    clock = FakeClock()
    call_next, _attempts = script(*[(503, {})] * 10)
    with pytest.raises(HTTPStatusError) as info:
        await policy(clock, attempts=10, backoff=1, deadline=5).run(mcp_request(), call_next)
    # waits 1 + 2 = 3 s; the next (4 s) would end at 7 s > 5 s
    assert clock.sleeps == [1, 2]
    assert info.value.attempts == 3


async def test_retry_after_beyond_deadline_gives_up_at_once() -> None:
    clock = FakeClock()
    call_next, _attempts = script((429, {"Retry-After": "90"}))
    with pytest.raises(RateLimitedError) as info:
        await policy(clock, deadline=60).run(mcp_request(), call_next)
    assert clock.sleeps == []
    assert info.value.retry_after == 90.0
    assert info.value.attempts == 1


async def test_retry_after_beyond_max_retry_after_gives_up() -> None:
    clock = FakeClock()
    call_next, _ = script((429, {"Retry-After": "30"}))
    with pytest.raises(RateLimitedError):
        await policy(clock, deadline=None, max_retry_after=10).run(mcp_request(), call_next)
    assert clock.sleeps == []


async def test_time_spent_in_tries_counts_against_the_deadline() -> None:
    clock = FakeClock()

    async def slow_fail(request: HTTPRequest) -> HTTPResponse:
        clock.now += 4  # each try takes 4 s
        return BytesResponse(503)

    with pytest.raises(HTTPStatusError) as info:
        await policy(clock, attempts=10, backoff=0.5, deadline=10).run(
            mcp_request(), slow_fail
        )
    # tries end at 4, 8.5 and 13.5 s; waits of 0.5 and 1 s fit, the next 2 s would not
    assert clock.sleeps == [0.5, 1.0]
    assert info.value.attempts == 3


async def test_retry_after_beyond_the_call_timeout_gives_up_at_once() -> None:
    # The call-timeout version of the deadline test above: with no deadline at all, a
    # Retry-After longer than the call's own timeout ends the call at once, with the
    # server's answer (not a ReadTimeout after sleeping through the timeout).
    clock = FakeClock()
    call_next, attempts = script(*[(429, {"Retry-After": "3"})] * 3)
    request = mcp_request()
    request.timeout = Timeout(total=1)
    with pytest.raises(RateLimitedError) as info:
        await policy(clock, deadline=None).run(request, call_next)
    assert clock.sleeps == []
    assert attempts == [1]
    assert info.value.retry_after == 3.0
    assert info.value.attempts == 1


async def test_retry_after_beyond_the_call_timeout_gives_up_at_once_for_messages() -> None:
    # The same around a request message (the path of MCP requests on every transport).
    clock = FakeClock()
    tries = 0

    async def refused(exchange: Exchange) -> None:
        nonlocal tries
        tries += 1
        raise RateLimitedError(429, retry_after=3.0)

    exchange = Exchange("tools/call", "http://127.0.0.1:1/mcp", timeout=1.0)
    with pytest.raises(RateLimitedError) as info:
        await policy(clock, deadline=None).around_message(exchange, refused)
    assert clock.sleeps == []
    assert tries == 1
    assert info.value.attempts == 1


async def test_a_message_whose_deadline_has_passed_is_not_retried() -> None:
    # The deadline of a message starts before the policy does (the engine sets it), so
    # the policy's own clock can still see time left when the deadline has passed: the
    # timed-out attempt is the last one, reported as attempt 1, not a second "attempt"
    # that fails before it is sent.
    clock = FakeClock()  # never advances: the policy's budget alone would retry
    tries = 0

    async def timed_out(exchange: Exchange) -> None:
        nonlocal tries
        tries += 1
        raise ReadTimeout("'tools/call' timed out")

    loop = asyncio.get_running_loop()
    exchange = Exchange(
        "tools/call", "http://127.0.0.1:1/mcp", idempotent=True, timeout=0.3,
        deadline=loop.time() - 0.001,
    )
    with pytest.raises(ReadTimeout) as info:
        await policy(clock, attempts=3, backoff=0, jitter=False).around_message(
            exchange, timed_out
        )
    assert tries == 1
    assert info.value.attempts == 1


async def test_retry_after_within_the_call_timeout_is_waited() -> None:
    # ...and the boundary: a Retry-After that fits in the timeout is honoured.
    clock = FakeClock()
    call_next, attempts = script((429, {"Retry-After": "3"}))
    request = mcp_request()
    request.timeout = Timeout(total=5)
    response = await policy(clock, deadline=None).run(request, call_next)
    assert response.status == 200
    assert clock.sleeps == [3.0]
    assert attempts == [1, 2]


@pytest.mark.parametrize(
    "retry_after",
    ["0", "-5", "-0.5", "soon", "", "Thu, 01 Jan 1970 00:00:00 GMT", "nan"],
    ids=["zero", "negative", "negative-fraction", "garbage", "empty", "past-date", "nan"],
)
async def test_a_zero_negative_or_invalid_retry_after_falls_back_to_the_backoff(
    retry_after: str,
) -> None:
    clock = FakeClock()
    call_next, attempts = script(*[(429, {"Retry-After": retry_after})] * 4)
    response = await policy(clock, attempts=5, backoff=0.5).run(mcp_request(), call_next)
    assert response.status == 200
    assert attempts == [1, 2, 3, 4, 5]
    assert clock.sleeps == [0.5, 1.0, 2.0, 4.0]


async def test_a_short_retry_after_never_undercuts_the_backoff() -> None:
    # Retry-After can lengthen a wait, never shorten it below the policy's backoff.
    clock = FakeClock()
    call_next, _ = script(*[(429, {"Retry-After": "1.5"})] * 4)
    await policy(clock, attempts=5, backoff=0.5).run(mcp_request(), call_next)
    assert clock.sleeps == [1.5, 1.5, 2.0, 4.0]


async def test_retry_after_zero_with_jitter_still_backs_off() -> None:
    # With jitter the floor is the jittered backoff: every wait is drawn from
    # [0, backoff * 2**(n-1)], never the server's zero for every try.
    waits: list[list[float]] = []
    for _ in range(20):
        clock = FakeClock()
        call_next, _ = script(*[(429, {"Retry-After": "0"})] * 5)
        await policy(clock, attempts=6, backoff=1, jitter=True).run(mcp_request(), call_next)
        for sleep, cap in zip(clock.sleeps, [1, 2, 4, 8, 16], strict=True):
            assert 0 <= sleep <= cap
        waits.append(clock.sleeps)
    assert sum(sum(run) for run in waits) / len(waits) > 5  # the mean is 15.5 s


# -- per-request overrides -----------------------------------------------------------------


async def test_retry_false_in_the_options_skips_the_policy() -> None:
    call_next, attempts = message_script(1)
    with pytest.raises(ConnectError):
        await policy(FakeClock()).around_message(exchange_with(False), call_next)
    assert attempts == [1]


async def test_policy_in_the_options_replaces_the_client_policy() -> None:
    clock = FakeClock()
    call_next, attempts = message_script(4)
    override = policy(clock, attempts=5, backoff=0)
    await policy(clock, attempts=2).around_message(exchange_with(override), call_next)
    assert attempts == [1, 2, 3, 4, 5]


async def test_per_call_stand_in_without_client_policy() -> None:
    clock = FakeClock()
    stand_in = per_call_retry()
    assert isinstance(stand_in, MessagePolicy)
    call_next, attempts = message_script(1)
    with pytest.raises(ConnectError):
        await stand_in.around_message(exchange_with(None), call_next)
    assert attempts == [1]
    call_next, attempts = message_script(1)
    await stand_in.around_message(exchange_with(policy(clock, backoff=0)), call_next)
    assert attempts == [1, 2]


async def test_per_call_true_uses_the_default_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock()
    monkeypatch.setattr(retry_module, "_DEFAULT", [policy(clock, backoff=3)])
    call_next, _attempts = message_script(1)
    stand_in = per_call_retry()
    assert isinstance(stand_in, MessagePolicy)
    await stand_in.around_message(exchange_with(True), call_next)
    assert clock.sleeps == [3]


def test_resolve_picks_the_policy_of_a_call() -> None:
    own, other = RetryPolicy(), RetryPolicy()
    assert resolve(own, None) is own and resolve(None, None) is None
    assert resolve(own, False) is None and resolve(own, other) is other
    assert resolve(own, True) is own and isinstance(resolve(None, True), RetryPolicy)


async def test_one_policy_serves_concurrent_requests_independently() -> None:
    clock = FakeClock()
    shared = policy(clock, attempts=6, backoff=0)

    async def one(failures: int) -> int:
        call_next, _attempts = script(*[(503, {})] * failures)
        request = mcp_request()
        await shared.run(request, call_next)
        assert request.record is not None
        return request.record.attempt

    results = await asyncio.gather(*(one(n % 5) for n in range(20)))
    assert results == [n % 5 + 1 for n in range(20)]


# -- configuration and logging -----------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [{"attempts": 0}, {"attempts": 1.5}, {"attempts": True}, {"backoff": -1},
     {"max_backoff": "x"}, {"deadline": 0}, {"deadline": -3}, {"statuses": [200]},
     {"statuses": ["429"]}, {"max_retry_after": -1}],
)
def test_bad_configuration_is_a_config_error(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        RetryPolicy(**kwargs)


def test_redact_url() -> None:
    assert redact_url("http://h:1/mcp") == "http://h:1/mcp"
    assert redact_url("http://u:pw@h/mcp?token=abc&x=1") == "http://h/mcp?token=***&x=***"


async def test_retry_logs_never_show_credentials(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    request = HTTPRequest(
        "POST", "http://127.0.0.1:1/mcp?api_key=sekrit-key",
        headers={"Authorization": "Bearer sekrit-token"},
        mcp_method="tools/list", idempotent=True,
    )
    call_next, _ = script(
        ConnectError(f"connection to {request.url} failed", sent=False), (503, {})
    )
    with caplog.at_level(logging.DEBUG, logger="mcp_async"):
        await policy(clock, backoff=0).run(request, call_next)
    assert "retrying tools/list" in caplog.text
    assert "sekrit" not in caplog.text
    assert "Authorization" not in caplog.text


# -- against the test server -----------------------------------------------------------------


@pytest.fixture
async def server() -> AsyncIterator[MCPTestServer]:
    server = MCPTestServer()
    calls: list[int] = []

    @server.tool
    def record(n: int) -> dict[str, int]:
        """Record a call."""
        calls.append(n)
        return {"n": n}

    server.calls = calls  # type: ignore[attr-defined]
    async with server:
        yield server


async def test_server_429_with_retry_after_then_success(server: MCPTestServer) -> None:
    server.faults.add(Fault.rate_limited(retry_after=2, method="tools/call", times=1))
    clock = FakeClock()
    async with AsyncMCPClient(server.url, retry=policy(clock)) as client:
        result = await client.call_tool("record", {"n": 1})
    assert result.structured_content == {"n": 1}
    assert clock.sleeps == [2.0]
    assert server.stats.by_method["tools/call"] == 2
    assert server.calls == [1]  # type: ignore[attr-defined]


async def test_server_503_burst(server: MCPTestServer) -> None:
    server.faults.add(Fault.error(503, method="tools/call", times=3))
    clock = FakeClock()
    async with AsyncMCPClient(server.url, retry=policy(clock, attempts=5)) as client:
        result = await client.call_tool("record", {"n": 2})
    assert not result.is_error
    assert clock.sleeps == [0.5, 1.0, 2.0]
    assert server.stats.by_method["tools/call"] == 4


async def test_server_503_burst_longer_than_attempts(server: MCPTestServer) -> None:
    server.faults.add(Fault.error(503, method="tools/call", times=10))
    async with AsyncMCPClient(server.url, retry=policy(FakeClock(), attempts=3)) as client:
        with pytest.raises(HTTPStatusError) as info:
            await client.call_tool("record", {"n": 3})
        assert info.value.status == 503
        assert info.value.attempts == 3
        server.faults.clear()
        assert (await client.call_tool("record", {"n": 4})).structured_content == {"n": 4}


async def test_dropped_connection_not_resent_for_a_plain_tool_call(
    server: MCPTestServer,
) -> None:
    server.faults.add(Fault.disconnect(method="tools/call", times=1))
    async with AsyncMCPClient(server.url, retry=policy(FakeClock())) as client:
        with pytest.raises(ConnectError) as info:
            await client.call_tool("record", {"n": 5})
        assert info.value.sent is True
        assert info.value.attempts == 1
        # the session survives: the next call works
        assert (await client.call_tool("record", {"n": 6})).structured_content == {"n": 6}
    assert server.stats.by_method["tools/call"] == 2


async def test_dropped_connection_resent_for_an_idempotent_call(server: MCPTestServer) -> None:
    server.faults.add(Fault.disconnect(method="tools/call", times=2))
    clock = FakeClock()
    async with AsyncMCPClient(server.url, retry=policy(clock)) as client:
        result = await client.call_tool("record", {"n": 7}, idempotent=True)
        assert result.structured_content == {"n": 7}
        # listing is idempotent by nature
        server.faults.add(Fault.disconnect(method="tools/list", times=1))
        assert [t.name for t in await client.list_tools()] == ["record"]
    assert server.stats.by_method["tools/call"] == 3
    assert len(clock.sleeps) == 3


# -- per-call options through the client ---------------------------------------------------


async def test_call_tool_retry_false_disables_the_client_policy(server: MCPTestServer) -> None:
    server.faults.add(Fault.error(503, method="tools/call", times=1))
    async with AsyncMCPClient(server.url, retry=policy(FakeClock())) as client:
        with pytest.raises(HTTPStatusError) as info:
            await client.call_tool("record", {"n": 1}, retry=False)
        assert info.value.status == 503
    assert server.stats.by_method["tools/call"] == 1


async def test_call_tool_policy_without_a_client_policy(server: MCPTestServer) -> None:
    server.faults.add(Fault.error(503, method="tools/call", times=2))
    clock = FakeClock()
    async with AsyncMCPClient(server.url) as client:
        with pytest.raises(HTTPStatusError):
            await client.call_tool("record", {"n": 1})  # no policy: no retry
        result = await client.call_tool("record", {"n": 2}, retry=policy(clock))
        assert result.structured_content == {"n": 2}
        assert len(clock.sleeps) == 1
        server.faults.add(Fault.error(503, method="tools/list", times=1))
        raw = await client.request("tools/list", retry=policy(clock))
        assert [t["name"] for t in raw["tools"]] == ["record"]
        with pytest.raises(ConfigError):
            await client.call_tool("record", {"n": 3}, retry="yes")  # type: ignore[arg-type]


async def test_per_call_retry_runs_inside_metrics_and_outside_every_http_hook(
    server: MCPTestServer,
) -> None:
    # Retry lives in the message chain only: metrics (a message policy) see one logical
    # call with its attempts; every HTTP hook, a plain `metrics=` hook included, sees
    # each attempt (counted here: the tools/call POSTs).
    seen: dict[str, int] = {"outer": 0, "inner": 0}
    samples: list[RequestSample] = []

    class Recorder(MetricsHook):
        def on_finish(self, sample: RequestSample) -> None:
            samples.append(sample)

    def counting(name: str) -> Any:
        async def count(request: HTTPRequest, call_next: Any) -> HTTPResponse:
            seen[name] += request.mcp_method == "tools/call"
            response: HTTPResponse = await call_next(request)
            return response

        return middleware(count)

    server.faults.add(Fault.error(503, method="tools/call", times=1))
    async with AsyncMCPClient(
        server.url, metrics=counting("outer"), hooks=[counting("inner")]
    ) as client:
        await client.initialize()
        seen.update(outer=0, inner=0)
        await client.call_tool("record", {"n": 1}, retry=policy(FakeClock()))
        assert seen == {"outer": 2, "inner": 2}  # one logical call, two attempts
        await client.call_tool("record", {"n": 2})  # no option: the lean chain
        assert seen == {"outer": 3, "inner": 3}
    server.faults.add(Fault.error(503, method="tools/call", times=1))
    async with AsyncMCPClient(
        server.url, metrics=Recorder(), hooks=[counting("inner")]
    ) as client:
        await client.initialize()
        samples.clear()
        seen.update(inner=0)
        await client.call_tool("record", {"n": 3}, retry=policy(FakeClock()))
        assert seen["inner"] == 2
        assert [(s.method, s.outcome, s.attempts) for s in samples] == [("tools/call", "ok", 2)]


async def test_send_request_retry(make_server: Any) -> None:
    from aiohttp import web

    hits = 0

    async def flaky(request: web.Request) -> web.Response:
        nonlocal hits
        hits += 1
        if hits == 1:
            return web.Response(status=429, headers={"Retry-After": "4"})
        return web.json_response({"hits": hits})

    echo = await make_server({"/api/flaky": flaky})
    clock = FakeClock()
    async with AsyncMCPClient(echo.url) as client:
        assert await client.send_request("flaky", {}, retry=policy(clock)) == {"hits": 2}
    assert clock.sleeps == [4.0]


async def test_send_request_retries_inside_metrics_and_outside_user_hooks(
    make_server: Any,
) -> None:
    # The plain HTTP request keeps the hook order of before: metrics see one logical
    # request with its attempts, each attempt goes through your hooks.
    from aiohttp import web

    hits = 0
    samples: list[RequestSample] = []
    attempts: list[int | None] = []

    class Recorder(MetricsHook):
        def on_finish(self, sample: RequestSample) -> None:
            samples.append(sample)

    async def flaky(request: web.Request) -> web.Response:
        nonlocal hits
        hits += 1
        return web.Response(status=503) if hits == 1 else web.json_response({"hits": hits})

    async def note(request: HTTPRequest, call_next: Any) -> HTTPResponse:
        attempts.append(request.record.attempt if request.record is not None else None)
        response: HTTPResponse = await call_next(request)
        return response

    echo = await make_server({"/api/flaky": flaky})
    async with AsyncMCPClient(
        echo.url, metrics=Recorder(), retry=policy(FakeClock()), hooks=[middleware(note)]
    ) as client:
        assert await client.send_request("flaky", {}) == {"hits": 2}
        assert await client.send_request("flaky", {}, retry=False) == {"hits": 3}
    assert attempts == [1, 2, 1]
    assert [(s.method, s.outcome, s.attempts) for s in samples] == [
        ("http", "ok", 2), ("http", "ok", 1),
    ]


async def test_trusted_idempotent_hint_allows_resending(server: MCPTestServer) -> None:
    seen: list[int] = []

    @server.tool(annotations={"idempotentHint": True})
    def lookup(n: int) -> dict[str, int]:
        """An idempotent lookup."""
        seen.append(n)
        return {"n": n}

    server.faults.add(Fault.disconnect(method="tools/call", name="lookup", times=1))
    async with AsyncMCPClient(server.url, retry=policy(FakeClock())) as client:
        with pytest.raises(ConnectError):  # hints are not trusted by default
            await client.call_tool("lookup", {"n": 1})
    server.faults.add(Fault.disconnect(method="tools/call", name="lookup", times=1))
    server.faults.add(Fault.disconnect(method="tools/call", name="record", times=1))
    async with AsyncMCPClient(
        server.url, retry=policy(FakeClock()), trust_idempotent_hint=True
    ) as client:
        assert (await client.call_tool("lookup", {"n": 2})).structured_content == {"n": 2}
        with pytest.raises(ConnectError):  # "record" has no hint
            await client.call_tool("record", {"n": 3})
    assert seen == [2]
