"""Groups that survive failed servers (issue 29): states, background reconnects with
backoff, fail-fast calls, the health view, catalogue events and subset views.

The servers are real ``python -m mcp_async.testing --stdio`` processes, started through
a small gate script: while the gate file is missing the script exits at once (a server
that cannot start), so a test decides when a server may come back.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from yarl import URL

from mcp_async import (
    AsyncMCPClient,
    ConfigError,
    ConnectError,
    GroupEvent,
    MCPClientGroup,
    ServerExitedError,
    ServerHealth,
    ServerRecovery,
    ServerSpawnError,
    ServerUnavailableError,
    StdioTransport,
    UnknownServerError,
)
from mcp_async.testing import MCPTestServer

REPO = str(Path(__file__).resolve().parents[2])
STDIO: dict[str, Any] = {
    "command": sys.executable, "args": ["-m", "mcp_async.testing", "--stdio"],
    "env": {"PYTHONPATH": REPO},
}
MISSING: dict[str, Any] = {"command": "no-such-mcp-server-xyz"}
FAST = ServerRecovery(initial=0.05, maximum=0.2, jitter=0.5)

GATE_SCRIPT = """
import os, sys
if not os.path.exists(sys.argv[1]):
    print("gate closed", file=sys.stderr)
    sys.exit(7)
os.execv(sys.executable, [sys.executable, "-m", "mcp_async.testing", "--stdio"])
"""


def gated(gate: Path) -> dict[str, Any]:
    """A server that starts only while ``gate`` exists."""
    return {"command": sys.executable, "args": ["-c", GATE_SCRIPT, str(gate)],
            "env": {"PYTHONPATH": REPO}}


def children() -> set[int]:
    """Child processes of this test process, zombies included."""
    me = os.getpid()
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(fields[1]) == me:
            found.add(int(entry.name))
    return found


def pid_of(group: MCPClientGroup, name: str) -> int:
    transport = group[name]._given_transport
    assert isinstance(transport, StdioTransport) and transport.pid is not None
    return transport.pid


async def next_event(events: AsyncIterator[GroupEvent], timeout: float = 20.0) -> GroupEvent:
    return await asyncio.wait_for(events.__anext__(), timeout)


def group_tasks() -> set[asyncio.Task[Any]]:
    """Running tasks whose coroutine is code of the mcp_async/group/ modules.

    (reconnects, watches)
    """
    folder = os.path.join("mcp_async", "group", "")
    found = set()
    for task in asyncio.all_tasks():
        code = getattr(task.get_coro(), "cr_code", None)
        if not task.done() and code is not None and folder in code.co_filename:
            found.add(task)
    return found


@pytest.fixture
def reaped() -> Any:
    before = children()
    yield
    deadline = time.monotonic() + 10
    while children() - before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not children() - before, "a child process was left behind or not reaped"


# -- the backoff -------------------------------------------------------------------------------


def test_backoff_grows_is_capped_and_jittered() -> None:
    policy = ServerRecovery(initial=1.0, maximum=8.0, multiplier=2.0, jitter=0.5)
    for attempt, base in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (5, 8.0), (10_000, 8.0)]:
        delays = {policy.delay(attempt) for _ in range(50)}
        assert all(base * 0.5 <= d <= base for d in delays), (attempt, delays)
        assert len(delays) > 1  # jittered
    assert ServerRecovery(jitter=0).delay(3) == 4.0
    defaults = ServerRecovery()
    assert (defaults.initial, defaults.maximum, defaults.multiplier, defaults.jitter) == (
        1.0, 60.0, 2.0, 0.5)


@pytest.mark.parametrize("options", [
    {"initial": 0}, {"maximum": -1}, {"multiplier": 0.5}, {"jitter": 2},
    {"initial": 5, "maximum": 1}, {"max_attempts": 0}, {"initial": True},
    {"maximum": float("inf")}, {"restart_delay": -1}, {"restart_delay": "soon"},
])
def test_bad_backoff_is_a_config_error(options: dict[str, Any]) -> None:
    with pytest.raises(ConfigError, match="ServerRecovery"):
        ServerRecovery(**options)


def test_bad_group_options_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="recovery"):
        MCPClientGroup({}, recovery="fast")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="on_event"):
        MCPClientGroup({}, on_event=42)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="factory returned int"):
        MCPClientGroup({"x": lambda: 42})  # type: ignore[dict-item,return-value]


# -- crash and come back -----------------------------------------------------------------------


async def test_a_crashed_server_fails_fast_and_comes_back_with_its_tools(
    tmp_path: Path, reaped: None,
) -> None:
    gate = tmp_path / "gate"
    gate.touch()
    seen: list[GroupEvent] = []
    async with MCPClientGroup(
        {"flaky": gated(gate), "steady": STDIO}, recovery=FAST, on_event=seen.append,
    ) as group:
        assert group.active == ["flaky", "steady"] and group.failed == {}
        events = group.events()
        assert {t.server for t in await group.list_tools()} == {"flaky", "steady"}
        assert (await group.call_tool("flaky__echo", {"text": "one"})).text == "one"
        opened = group.health()["flaky"].opened_at
        assert opened is not None and opened <= time.time()
        steady_pid = pid_of(group, "steady")

        gate.unlink()  # it cannot start again for now
        os.kill(pid_of(group, "flaky"), signal.SIGKILL)
        event = await next_event(events)
        assert (event.kind, event.server) == ("failed", "flaky")
        assert isinstance(event.error, ServerExitedError)
        # The immediate attempt fails (gate closed, exit code 7): then it waits out its
        # backoff, and calls fail at once.
        deadline = time.monotonic() + 20
        while not (group.state("flaky") == "failed"
                   and getattr(group.health()["flaky"].last_error, "exit_code", None) == 7):
            assert time.monotonic() < deadline, group.health()["flaky"]
            await asyncio.sleep(0.005)
        assert group.active == ["steady"] and list(group.failed) == ["flaky"]
        assert "flaky" not in group and "steady" in group
        assert [t.server for t in await group.list_tools()] == ["steady"] * 5

        started = time.monotonic()
        with pytest.raises(ServerUnavailableError, match="'flaky' is not connected") as info:
            await group.call_tool("flaky__echo", {"text": "two"})
        assert time.monotonic() - started < 1.0  # at once, no wait for the server
        assert info.value.server == "flaky"
        assert isinstance(info.value.error, ServerExitedError)
        assert isinstance(info.value, UnknownServerError)  # one except clause for both
        # The other server is untouched.
        assert (await group.call_tool("steady__echo", {"text": "s"})).text == "s"
        assert pid_of(group, "steady") == steady_pid

        gate.touch()  # the next attempt succeeds
        event = await next_event(events)
        assert (event.kind, event.server) == ("recovered", "flaky")
        assert group.active == ["flaky", "steady"] and group.failed == {}
        assert {t.server for t in await group.list_tools()} == {"flaky", "steady"}
        assert (await group.call_tool("flaky__echo", {"text": "back"})).text == "back"

        health = group.health()["flaky"]
        assert isinstance(health, ServerHealth)
        assert health.state == "active" and health.reconnects == 1
        assert isinstance(health.last_error, ServerExitedError)
        assert health.calls == 2 and health.failures == 0  # the refused call never ran
        assert health.opened_at is not None and health.opened_at > opened
        with pytest.raises(AttributeError):
            health.calls = 0  # type: ignore[misc]
    assert [(e.kind, e.server) for e in seen] == [("failed", "flaky"), ("recovered", "flaky")]
    assert not group_tasks()
    assert group.health()["flaky"].state == "closed"


async def test_a_server_that_never_starts_is_retried_until_the_group_closes(
    reaped: None,
) -> None:
    attempts: list[float] = []

    def missing() -> AsyncMCPClient:
        attempts.append(time.monotonic())
        return AsyncMCPClient.stdio("no-such-mcp-server-xyz")

    group = MCPClientGroup({"gone": missing, "ok": STDIO}, recovery=FAST)
    async with group:
        assert group.active == ["ok"]
        assert isinstance(group.failed["gone"], ServerSpawnError)
        deadline = time.monotonic() + 20
        while len(attempts) < 4:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.01)
        gaps = [b - a for a, b in itertools.pairwise(attempts)]
        assert all(gap >= 0.02 for gap in gaps), gaps  # backoff between attempts
        assert group.state("gone") in ("failed", "reconnecting")
        with pytest.raises(ServerUnavailableError, match=r"'gone'.*ServerSpawnError"):
            group["gone"]
        assert (await group.call_tool("ok__echo", {"text": "fine"})).text == "fine"
        assert group_tasks()  # the reconnect runs in the background
    assert not group_tasks()  # ... and stops with the group
    settled = len(attempts)
    await asyncio.sleep(0.3)
    assert len(attempts) == settled
    assert isinstance(group.failures["gone"], ServerSpawnError)


async def test_a_server_given_late_connects_in_the_background(
    tmp_path: Path, reaped: None,
) -> None:
    gate = tmp_path / "gate"
    async with MCPClientGroup({"late": gated(gate)}, recovery=FAST) as group:
        events = group.events()
        assert isinstance(group.failed["late"], ServerExitedError)
        assert await group.list_tools() == []
        gate.touch()
        assert (await next_event(events)).kind == "recovered"
        assert "late__echo" in [t.name for t in await group.list_tools()]
        assert group.health()["late"].reconnects == 1


async def test_without_recovery_a_failed_server_stays_failed(
    tmp_path: Path, reaped: None,
) -> None:
    gate = tmp_path / "gate"
    gate.touch()
    async with MCPClientGroup({"s": gated(gate)}, recovery=False) as group:
        events = group.events()
        await group.list_tools()
        os.kill(pid_of(group, "s"), signal.SIGKILL)
        assert (await next_event(events)).kind == "failed"
        with pytest.raises(ServerUnavailableError, match="not retried"):
            await group.call_tool("s__echo", {"text": "x"})
        await asyncio.sleep(0.3)
        assert group.state("s") == "failed"


async def test_an_http_server_that_goes_away_is_noticed_by_a_call_and_comes_back(
    reaped: None,
) -> None:
    def server(port: int = 0) -> MCPTestServer:
        made = MCPTestServer(name="web", port=port)

        @made.tool
        def echo(text: str) -> str:
            """Echo the text back."""
            return text

        return made

    first = server()
    await first.start()
    port = URL(first.url).port
    assert port is not None
    async with MCPClientGroup({"web": {"url": first.url}}, recovery=FAST) as group:
        events = group.events()
        assert (await group.call_tool("web__echo", {"text": "a"})).text == "a"
        await first.stop()
        with pytest.raises(ConnectError):
            await group.call_tool("web__echo", {"text": "b"})
        event = await next_event(events)
        assert (event.kind, event.server) == ("failed", "web")
        assert isinstance(event.error, ConnectError)
        with pytest.raises(ServerUnavailableError, match="'web'"):
            await group.call_tool("web__echo", {"text": "c"})
        async with server(port):
            assert (await next_event(events)).kind == "recovered"
            assert (await group.call_tool("web__echo", {"text": "d"})).text == "d"
            health = group.health()["web"]
            assert (health.calls, health.failures, health.reconnects) == (3, 1, 1)


# -- events ------------------------------------------------------------------------------------


async def test_events_end_when_the_group_closes_and_async_handlers_run(
    tmp_path: Path, reaped: None,
) -> None:
    gate = tmp_path / "gate"
    gate.touch()
    handled = asyncio.Event()

    async def on_event(event: GroupEvent) -> None:
        if event.kind == "recovered":
            handled.set()

    group = MCPClientGroup({"s": gated(gate)}, recovery=FAST, on_event=on_event)
    async with group:
        events = group.events()
        os.kill(pid_of(group, "s"), signal.SIGKILL)
        kinds = [(await next_event(events)).kind, (await next_event(events)).kind]
        assert kinds == ["failed", "recovered"]
        await asyncio.wait_for(handled.wait(), 10)
        waiting = asyncio.ensure_future(next_event(events))
        await asyncio.sleep(0)
    with pytest.raises(StopAsyncIteration):
        await waiting


# -- subsets -----------------------------------------------------------------------------------


async def test_a_subset_shares_the_clients_and_closing_it_closes_nothing(
    tmp_path: Path, reaped: None,
) -> None:
    gate = tmp_path / "gate"
    gate.touch()
    async with MCPClientGroup(
        {"a": gated(gate), "b": STDIO, "off": {**STDIO, "disabled": True}}, recovery=FAST,
    ) as group:
        before = children()
        view = group.subset(["a"])
        assert children() == before  # nothing opened again
        assert view.servers == ["a"] and view.active == ["a"]
        assert view["a"] is group["a"]
        assert {t.server for t in await view.list_tools()} == {"a"}
        assert (await view.call_tool("a__echo", {"text": "v"})).text == "v"
        with pytest.raises(UnknownServerError, match="no server named 'b'"):
            view["b"]
        with pytest.raises(UnknownServerError, match="no server named 'zz'"):
            group.subset(["a", "zz"])
        with pytest.raises(UnknownServerError, match="disabled"):
            group.subset(["off"])
        with pytest.raises(ConfigError, match="not one string"):
            group.subset("a")
        batch = await view.call_tools([("a__echo", {"text": str(i)}) for i in range(5)])
        assert [o.value.text for o in batch] == [str(i) for i in range(5)]

        # A failure and a recovery show in the view, and in its own events.
        events = view.events()
        os.kill(pid_of(group, "a"), signal.SIGKILL)
        assert (await next_event(events)).kind == "failed"
        assert (await next_event(events)).kind == "recovered"
        assert view.health()["a"].reconnects == 1 == group.health()["a"].reconnects
        assert (await view.call_tool("a__echo", {"text": "again"})).text == "again"

        async with group.subset(["b"]) as other:
            assert [t.server for t in await other.list_tools()][:1] == ["b"]
        with pytest.raises(Exception, match="closed"):
            await other.list_tools()
        assert group.active == ["a", "b"]
        assert (await group.call_tool("b__echo", {"text": "still"})).text == "still"
    with pytest.raises(Exception, match="closed"):
        await view.list_tools()


async def test_a_subset_needs_an_open_group() -> None:
    group = MCPClientGroup({"s": STDIO})
    view = group.subset(["s"])
    with pytest.raises(Exception, match="not open"):
        await view.list_tools()
    with pytest.raises(Exception, match="not open"):
        async with view:
            pass


async def test_a_factory_that_fails_later_is_a_failed_attempt_not_a_dead_task(
    reaped: None,
) -> None:
    built: list[int] = []

    def flaky() -> AsyncMCPClient:
        built.append(1)
        if len(built) == 1:  # the first client is built with the group
            return AsyncMCPClient.stdio("no-such-mcp-server-xyz")
        if len(built) == 2:
            raise RuntimeError("factory broke")
        return AsyncMCPClient.stdio(sys.executable, ["-m", "mcp_async.testing", "--stdio"],
                                    env={"PYTHONPATH": REPO})

    async with MCPClientGroup({"s": flaky}, recovery=FAST) as group:
        events = group.events()
        assert (await next_event(events)).kind == "recovered"
        assert len(built) == 3
        assert "s__echo" in [t.name for t in await group.list_tools()]
