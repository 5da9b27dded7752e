"""Bounded fan-out: the window primitive (pure) and call_tools/stream_calls/send_requests."""

from __future__ import annotations

import asyncio
import gc
import random
import tracemalloc
from collections.abc import AsyncIterator, Iterator
from typing import Any, ClassVar

import pytest

from mcp_async import AsyncMCPClient, ConfigError, ConnectError, ToolError
from mcp_async.features.batch import (
    BatchError,
    BatchResult,
    Outcome,
    ToolCall,
    gather_bounded,
    stream_bounded,
)
from mcp_async.policies.retry import RetryPolicy
from mcp_async.protocol.models import CallToolResult
from mcp_async.testing import Fault, MCPTestServer


class Gauge:
    """Counts concurrent executions."""

    def __init__(self) -> None:
        self.now = 0
        self.peak = 0
        self.finished = 0
        self.started: list[int] = []

    async def work(self, item: int, delay: float = 0.0) -> int:
        self.started.append(item)
        self.now += 1
        self.peak = max(self.peak, self.now)
        try:
            await asyncio.sleep(delay)
            if item % 7 == 3:
                raise ValueError(f"item {item} is bad")
            return item * 10
        finally:
            self.now -= 1
            self.finished += 1


# -- the primitive ------------------------------------------------------------------------


async def test_gather_keeps_input_order_and_one_outcome_per_item() -> None:
    gauge = Gauge()
    rng = random.Random(1)
    delays = [rng.random() / 1000 for _ in range(200)]
    result = await gather_bounded(
        range(200), lambda i: gauge.work(i, delays[i]), concurrency=8
    )
    assert isinstance(result, BatchResult)
    assert len(result) == 200
    assert [o.index for o in result] == list(range(200))
    for i, outcome in enumerate(result):
        if i % 7 == 3:
            assert isinstance(outcome.error, ValueError) and not outcome.ok
            assert str(i) in str(outcome.error)
        else:
            assert outcome.ok and outcome.value == i * 10 and outcome.unwrap() == i * 10
    assert gauge.peak == 8
    assert len(result.failed) + len(result.succeeded) == 200
    assert not result.ok


async def test_batch_result_values_raises_batch_error_for_first_failure() -> None:
    result = await gather_bounded(range(10), Gauge().work, concurrency=3)
    with pytest.raises(BatchError) as info:
        result.values()
    assert info.value.index == 3
    assert isinstance(info.value.__cause__, ValueError)
    ok = await gather_bounded(range(3), Gauge().work, concurrency=3)
    assert ok.ok and ok.values() == [0, 10, 20]
    assert "3 items, 0 failed" in repr(ok)
    with pytest.raises(ValueError):
        result[3].unwrap()


async def test_fail_fast_cancels_the_rest_and_names_the_item() -> None:
    gauge = Gauge()
    cancelled: list[int] = []

    async def work(item: int) -> int:
        try:
            if item == 3:
                await asyncio.sleep(0.001)
                raise RuntimeError("boom")
            await asyncio.sleep(10)
            return item
        except asyncio.CancelledError:
            cancelled.append(item)
            raise

    async def counted(item: int) -> int:
        gauge.started.append(item)
        return await work(item)

    with pytest.raises(BatchError) as info:
        await gather_bounded(range(1000), counted, concurrency=10, fail_fast=True)
    assert info.value.index == 3
    assert "batch item 3 failed: RuntimeError: boom" in str(info.value)
    assert isinstance(info.value.error, RuntimeError)
    assert info.value.__cause__ is info.value.error
    assert sorted(gauge.started) == list(range(10))  # nothing new started after the failure
    assert sorted(cancelled) == [i for i in range(10) if i != 3]


async def test_progress_sync_and_async() -> None:
    seen: list[tuple[int, int | None]] = []
    await gather_bounded(range(5), Gauge().work, concurrency=2,
                         progress=lambda d, t: seen.append((d, t)))
    assert seen == [(1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]

    async_seen: list[tuple[int, int | None]] = []

    async def report(done: int, total: int | None) -> None:
        async_seen.append((done, total))

    await gather_bounded(iter(range(3)), Gauge().work, concurrency=2, progress=report)
    assert async_seen == [(1, None), (2, None), (3, None)]


async def test_async_iterable_input_is_read_lazily() -> None:
    pulled: list[int] = []
    gauge = Gauge()

    async def source() -> AsyncIterator[int]:
        for i in range(50):
            pulled.append(i)
            assert len(pulled) - gauge.finished <= 4  # never reads ahead of the window
            yield i

    result = await gather_bounded(source(), lambda i: gauge.work(i, 0.0005), concurrency=4)
    assert [o.index for o in result] == list(range(50))
    assert gauge.peak == 4


async def test_stream_yields_as_calls_finish() -> None:
    # Completion order is forced with events, not sleeps: item 4 finishes first, and each
    # item waits until the stream has yielded the one after it (no timing, no CPU-load flake).
    released = {item: asyncio.Event() for item in range(5)}
    started: list[int] = []

    async def work(item: int) -> int:
        started.append(item)
        await released[item].wait()
        return item

    order: list[int] = []
    released[4].set()
    async with stream_bounded(range(5), work, concurrency=5) as stream:
        async for index, _ in stream:
            order.append(index)
            if index > 0:
                released[index - 1].set()
    assert order == [4, 3, 2, 1, 0]
    assert sorted(started) == [0, 1, 2, 3, 4]  # all five ran at once, none waited for another


async def test_stream_async_with_cancels_running_calls_on_early_exit() -> None:
    cancelled: list[int] = []

    async def work(item: int) -> int:
        try:
            await asyncio.sleep(0 if item == 0 else 10)
            return item
        except asyncio.CancelledError:
            cancelled.append(item)
            raise

    async with stream_bounded(range(100), work, concurrency=4) as stream:
        async for index, outcome in stream:
            assert (index, outcome.value) == (0, 0)
            break
    assert sorted(cancelled) == [1, 2, 3]  # the window held 0-3; nothing newer started


async def test_stream_fail_fast() -> None:
    with pytest.raises(BatchError) as info:
        async for _ in stream_bounded(range(20), Gauge().work, concurrency=2, fail_fast=True):
            pass
    assert info.value.index == 3


async def test_outer_cancellation_cancels_every_call() -> None:
    running = Gauge()

    async def forever(item: int) -> None:
        running.now += 1
        try:
            await asyncio.sleep(10)
        finally:
            running.now -= 1

    task = asyncio.ensure_future(gather_bounded(range(100), forever, concurrency=5))
    await asyncio.sleep(0.01)
    assert running.now == 5
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert running.now == 0


async def test_failing_source_iterator_propagates_after_cleanup() -> None:
    def source() -> Iterator[int]:
        yield 1
        raise OSError("disk gone")

    with pytest.raises(OSError, match="disk gone"):
        await gather_bounded(source(), Gauge().work, concurrency=2)


@pytest.mark.parametrize("concurrency", [0, -1, 1.5, True, "4"])
async def test_bad_concurrency(concurrency: Any) -> None:
    with pytest.raises(ConfigError):
        await gather_bounded(range(3), Gauge().work, concurrency=concurrency)


async def test_stream_memory_stays_flat() -> None:
    """Live tasks never exceed the window; memory for 20k items ~ memory for 2k items."""
    concurrency = 16
    worst = 0

    async def work(item: int) -> int:
        nonlocal worst
        worst = max(worst, len(asyncio.all_tasks()))
        await asyncio.sleep(0)
        return item

    async def peak(n: int) -> int:
        gc.collect()
        tracemalloc.start()
        count = 0
        async with stream_bounded(range(n), work, concurrency=concurrency) as stream:
            async for _ in stream:
                count += 1
        _, high = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert count == n
        return high

    baseline = len(asyncio.all_tasks())
    small = await peak(2_000)
    large = await peak(20_000)
    assert worst <= baseline + concurrency
    assert large < small * 2 + 64 * 1024, (small, large)


# -- ToolCall and outcomes -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ("ping", ToolCall("ping")),
        (("add", {"a": 1}), ToolCall("add", {"a": 1})),
        (("add",), ToolCall("add")),
        (("add", None), ToolCall("add")),
        (ToolCall("x", idempotent=True), ToolCall("x", idempotent=True)),
    ],
)
def test_tool_call_coerce(item: Any, expected: ToolCall) -> None:
    assert ToolCall.coerce(item) == expected


@pytest.mark.parametrize("item", [42, ("add", [1, 2]), (1, {}), ("a", {}, "extra"), None])
def test_tool_call_coerce_rejects(item: Any) -> None:
    with pytest.raises(ConfigError):
        ToolCall.coerce(item)


def test_outcome_is_frozen() -> None:
    outcome: Outcome[int] = Outcome(0, value=1)
    with pytest.raises(AttributeError):
        outcome.value = 2  # type: ignore[misc]


# -- against the test server ---------------------------------------------------------------


def n_of(outcome: Outcome[CallToolResult]) -> int:
    content = outcome.unwrap().structured_content
    assert isinstance(content, dict)
    return int(content["n"])


@pytest.fixture
async def server() -> AsyncIterator[MCPTestServer]:
    server = MCPTestServer()
    executed: list[int] = []

    @server.tool
    async def echo(n: int, delay: float = 0.0) -> dict[str, int]:
        """Echo n after an optional delay."""
        executed.append(n)
        if delay:
            await asyncio.sleep(delay)
        return {"n": n}

    @server.tool
    def explode(n: int) -> str:
        """Fail for n == 37."""
        executed.append(n)
        if n == 37:
            raise ValueError("thirty-seven")
        return "fine"

    server.executed = executed  # type: ignore[attr-defined]
    async with server:
        yield server


async def test_1000_calls_at_concurrency_16(server: MCPTestServer) -> None:
    calls = [("echo", {"n": i, "delay": 0.002}) for i in range(1000)]
    done: list[int] = []
    async with AsyncMCPClient(server.url) as client:
        result = await client.call_tools(
            calls, concurrency=16, progress=lambda d, t: done.append(d)
        )
    assert 1 < server.stats.max_in_flight <= 16
    assert len(result) == 1000 and result.ok
    assert [n_of(o) for o in result] == list(range(1000))
    assert done[-1] == 1000
    assert sorted(server.executed) == list(range(1000))  # type: ignore[attr-defined]


async def test_5000_calls_with_10_percent_faults_and_retry_lose_nothing(
    server: MCPTestServer,
) -> None:
    server.faults.add(Fault.error(503, method="tools/call", probability=0.04, seed=1))
    server.faults.add(Fault.rate_limited(0, method="tools/call", probability=0.03, seed=2))
    server.faults.add(Fault.disconnect(method="tools/call", probability=0.03, seed=3))
    sleeps: list[float] = []

    async def no_wait(seconds: float) -> None:
        sleeps.append(seconds)

    policy = RetryPolicy(attempts=10, backoff=0, sleep=no_wait)
    async with AsyncMCPClient(server.url, retry=policy) as client:
        result = await client.call_tools(
            (ToolCall("echo", {"n": i}) for i in range(5000)), concurrency=32, idempotent=True
        )
    fired = sum(fault.fired for fault in server.faults)
    assert 350 < fired < 650  # ~10% of 5000 first tries (and some retries)
    # Every fault is retried once; on a loaded machine a pooled connection the server
    # dropped (a disconnect fault's neighbour) may cost one more retry of its own.
    assert fired <= len(sleeps) <= fired + 5
    assert result.ok, result.failed[:3]
    assert [n_of(o) for o in result] == list(range(5000))
    # faults fire before the tool runs: every call executed exactly once
    assert sorted(server.executed) == list(range(5000))  # type: ignore[attr-defined]


async def test_fail_fast_against_the_server(server: MCPTestServer) -> None:
    async with AsyncMCPClient(server.url) as client:
        with pytest.raises(BatchError) as info:
            await client.call_tools(
                [("explode", {"n": i}) for i in range(1000)], concurrency=8,
                fail_fast=True, raise_on_error=True,
            )
        assert info.value.index == 37
        assert isinstance(info.value.error, ToolError)
        assert len(server.executed) < 100  # type: ignore[attr-defined]
        # the client is still usable
        assert (await client.call_tool("echo", {"n": 1})).structured_content == {"n": 1}


async def test_tool_is_error_is_a_value_unless_raise_on_error(server: MCPTestServer) -> None:
    async with AsyncMCPClient(server.url) as client:
        result = await client.call_tools([("explode", {"n": 36}), ("explode", {"n": 37})])
        assert result.ok
        assert [o.value.is_error for o in result] == [False, True]  # type: ignore[union-attr]
        raised = await client.call_tools(
            [("explode", {"n": 37}), ("explode", {"n": 1})], raise_on_error=True
        )
        assert isinstance(raised[0].error, ToolError) and raised[1].ok


async def test_one_failing_call_does_not_disturb_the_others(server: MCPTestServer) -> None:
    server.faults.add(Fault.disconnect(method="tools/call", name="explode", times=1))
    async with AsyncMCPClient(server.url) as client:
        await client.initialize()
        session = client.session_id
        calls: list[Any] = [("echo", {"n": i}) for i in range(20)]
        calls[10] = ("explode", {"n": 0})
        calls[11] = 12345  # not a call at all
        result = await client.call_tools(calls, concurrency=4)
        assert isinstance(result[10].error, ConnectError)
        assert isinstance(result[11].error, ConfigError)
        assert all(o.ok for i, o in enumerate(result) if i not in (10, 11))
        assert client.session_id == session


async def test_stream_calls_yields_every_index_once(server: MCPTestServer) -> None:
    async def calls() -> AsyncIterator[ToolCall]:
        for i in range(300):
            # Each call takes a little while, so a client running one at a time would show.
            yield ToolCall("echo", {"n": i, "delay": 0.002})

    async with AsyncMCPClient(server.url) as client:
        seen: dict[int, int] = {}
        async with client.stream_calls(calls(), concurrency=12) as stream:
            async for index, outcome in stream:
                seen[index] = n_of(outcome)
    assert seen == {i: i for i in range(300)}
    assert 1 < server.stats.max_in_flight <= 12


async def test_call_tools_on_a_closed_client_raises(server: MCPTestServer) -> None:
    from mcp_async import ClientStateError

    client = AsyncMCPClient(server.url)
    with pytest.raises(ClientStateError):
        await client.call_tools([("echo", {"n": 1})])
    with pytest.raises(ClientStateError):
        await client.send_requests([("echo", {})])


async def test_send_requests_fan_out(echo_server: Any) -> None:
    async with AsyncMCPClient(echo_server.url) as client:
        requests: list[Any] = [("echo", {"i": i}) for i in range(50)]
        requests += [("status/500", {}), "bad"]
        result = await client.send_requests(requests, concurrency=5)
    assert [o.unwrap()["echo"]["i"] for o in result[:50]] == list(range(50))
    assert result[50].error is not None and getattr(result[50].error, "status", None) == 500
    assert isinstance(result[51].error, ConfigError)
    assert echo_server.connections <= 5


# -- progress bars (progress=True) ------------------------------------------------------------


class RecordingBar:
    """Stands in for tqdm.auto.tqdm (which is a notebook widget in Jupyter and a text bar
    in a terminal): records what the batch asked of it."""

    made: ClassVar[list[RecordingBar]] = []

    def __init__(self, *, total: int | None, desc: str, unit: str, **options: Any) -> None:
        self.total, self.desc, self.unit = total, desc, unit
        self.n = 0
        self.postfix: dict[str, Any] = {}
        self.closed = False
        RecordingBar.made.append(self)

    def update(self, steps: int) -> None:
        self.n += steps

    def set_postfix(self, refresh: bool = True, **values: Any) -> None:
        self.postfix.update(values)

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def recording_bar(monkeypatch: pytest.MonkeyPatch) -> type[RecordingBar]:
    import tqdm.auto

    RecordingBar.made = []
    monkeypatch.setattr(tqdm.auto, "tqdm", RecordingBar)
    return RecordingBar


async def test_progress_true_draws_a_tqdm_auto_bar(recording_bar: type[RecordingBar]) -> None:
    result = await gather_bounded(range(10), Gauge().work, concurrency=3, progress=True)
    (bar,) = recording_bar.made
    assert (bar.total, bar.desc, bar.unit) == (10, "calls", "call")
    assert bar.n == 10 and bar.closed
    assert bar.postfix == {"failed": len(result.failed)} == {"failed": 1}  # item 3


async def test_progress_bar_without_a_length_and_on_early_exit(
    recording_bar: type[RecordingBar],
) -> None:
    async with stream_bounded(iter(range(100)), Gauge().work, concurrency=4,
                              progress="tqdm") as stream:
        async for _ in stream:
            break  # left early: the bar closes with the stream
    (bar,) = recording_bar.made
    assert bar.total is None and bar.n == 1 and bar.closed
    with pytest.raises(BatchError):
        await gather_bounded(range(10), Gauge().work, concurrency=1, fail_fast=True,
                             progress=True)
    assert recording_bar.made[1].closed  # a failing batch closes its bar too


async def test_progress_in_a_terminal_with_tqdm(capsys: pytest.CaptureFixture[str]) -> None:
    await gather_bounded(range(7), Gauge().work, concurrency=2, progress="tqdm")
    err = capsys.readouterr().err
    assert "calls: 100%" in err and "7/7" in err and "failed=1" in err


async def test_progress_with_rich(capsys: pytest.CaptureFixture[str]) -> None:
    await gather_bounded(range(7), Gauge().work, concurrency=2, progress="rich")
    out = capsys.readouterr().out
    assert "calls (1 failed)" in out and "7/7" in out


async def test_progress_bar_needs_tqdm_or_rich(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name in ("tqdm", "rich") else real(name, *a))
    gauge = Gauge()
    with pytest.raises(ConfigError, match=r"tqdm or rich, which is not installed: "
                                          r"pip install 'mcp-async\[progress\]'"):
        await gather_bounded(range(3), gauge.work, progress=True)
    with pytest.raises(ConfigError, match="progress='rich' draws a progress bar with rich"):
        stream_bounded(range(3), gauge.work, progress="rich")
    assert gauge.started == []  # refused before anything ran
    with pytest.raises(ConfigError, match="progress must be a progress"):
        stream_bounded(range(3), gauge.work, progress="bar")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="progress must be a progress"):
        stream_bounded(range(3), gauge.work, progress=3)  # type: ignore[arg-type]


async def test_client_and_group_fan_out_with_progress_bars(
    server: MCPTestServer, recording_bar: type[RecordingBar]
) -> None:
    from mcp_async import MCPClientGroup

    calls = [("echo", {"n": i}) for i in range(20)]
    async with AsyncMCPClient(server.url) as client:
        assert (await client.call_tools(calls, progress=True)).ok
        async with client.stream_calls(calls, progress=True) as stream:
            assert len([outcome async for _, outcome in stream]) == 20
    async with MCPClientGroup({"s": {"url": server.url}}) as group:
        assert (await group.call_tools([("s__echo", {"n": i}) for i in range(5)],
                                       progress=True)).ok
    assert [(bar.n, bar.total, bar.closed) for bar in recording_bar.made] == [
        (20, 20, True), (20, 20, True), (5, 5, True)
    ]
