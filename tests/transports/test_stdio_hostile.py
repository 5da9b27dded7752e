"""stdio against hostile servers (issue #24, items 4 and 6), end to end with real processes.

* A server that stops reading stdin: a call with a 1 MiB argument times out, and closing
  still runs the whole escalation (stdin, SIGTERM, SIGKILL), every wait bounded.
* A server that exits while a child it started keeps stdin and stdout open: the waiting
  call fails at once with ``ServerExitedError`` and the exit code, so does every later
  call, and closing kills the child (the whole process group). A child that left the
  group with ``setsid`` is out of reach; the client still closes its pipes and stops
  waiting.

The server is tests/transports/stdio_fault_server.py; ``shutdown_grace`` is small here so
that the escalation runs in well under a second per step.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from mcp_async import AsyncMCPClient, ConfigError, ReadTimeout, ServerExitedError, StdioTransport
from tests.transports.test_stdio import SERVER, alive, children, open_fds, pid_of

GRACE = 0.3


def hostile_client(*flags: str, grace: float = GRACE, restart: bool = False,
                   lines: list[str] | None = None, **options: Any) -> AsyncMCPClient:
    transport = StdioTransport(
        sys.executable, [SERVER, *flags], shutdown_grace=grace, restart=restart,
        stderr=lines.append if lines is not None else None,
    )
    return AsyncMCPClient(transport, **options)


def child_pid(lines: list[str] | tuple[str, ...]) -> int:
    for line in lines:
        found = re.fullmatch(r"child (\d+)", line)
        if found:
            return int(found.group(1))
    raise AssertionError(f"the server did not report its child: {lines!r}")


async def gone(pid: int, within: float = 5.0) -> bool:
    """Whether ``pid`` is gone (or a zombie) within ``within`` seconds."""
    deadline = time.monotonic() + within
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


def kill_quietly(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


# -- item 4: a server that stops reading stdin ------------------------------------------
async def stuck_write(client: AsyncMCPClient) -> int:
    """Make the server stop reading, then time out a call whose 1 MiB cannot be written."""
    await client.open()
    assert (await client.call_tool("stall")).text == "stalled"
    with pytest.raises(ReadTimeout):
        await client.call_tool("echo", {"text": "x" * (1 << 20)}, timeout=0.5)
    return pid_of(client)


async def test_close_after_a_stuck_write_still_sends_sigterm(tmp_path: Path) -> None:
    record = tmp_path / "record.txt"
    client = hostile_client("--record", str(record))
    pid = await stuck_write(client)
    began = time.monotonic()
    # The engine's notifications/cancelled waits at most one grace for room in stdin;
    # stdin cannot be flushed: after one grace it is dropped and the server sees EOF,
    # which it does not read, so SIGTERM follows (the server records it).
    await asyncio.wait_for(client.aclose(), 3 * GRACE + 2)
    took = time.monotonic() - began
    assert record.read_text().split() == ["sigterm"]
    assert await gone(pid, 1)
    assert took >= 2 * GRACE


async def test_close_after_a_stuck_write_kills_a_server_that_ignores_sigterm() -> None:
    client = hostile_client("--ignore-sigterm")
    pid = await stuck_write(client)
    began = time.monotonic()
    await asyncio.wait_for(client.aclose(), 4 * GRACE + 2)
    took = time.monotonic() - began
    assert not alive(pid)  # SIGKILL: gone by the time close returns
    assert took >= 3 * GRACE


async def test_writers_stuck_on_a_full_pipe_are_released_by_close() -> None:
    # Calls blocked in flow control while closing end with a typed error, not a hang.
    client = hostile_client("--ignore-sigterm")
    await client.open()
    try:
        assert (await client.call_tool("stall")).text == "stalled"
        calls = [asyncio.ensure_future(client.call_tool("echo", {"text": "y" * (1 << 20)}))
                 for _ in range(3)]
        await asyncio.sleep(0.2)
        assert not any(call.done() for call in calls)
    finally:
        await asyncio.wait_for(client.aclose(), 3 * GRACE + 2)
    for outcome in await asyncio.gather(*calls, return_exceptions=True):
        assert isinstance(outcome, Exception)
        assert type(outcome).__module__.startswith("mcp_async"), repr(outcome)


async def test_calls_timing_out_against_a_stuck_server_time_out_and_leave_nothing() -> None:
    # While stdin is full a request waits in a queue, not in the call: each call ends at
    # its own timeout, and one that ended while queued is never written, nor kept.
    client = hostile_client("--ignore-sigterm")
    await stuck_write(client)  # about 1 MiB is buffered now, and will stay
    try:
        transport = client._mcp().transport
        assert isinstance(transport, StdioTransport) and transport._pipe is not None
        for _ in range(40):
            began = time.monotonic()
            with pytest.raises(ReadTimeout):
                await client.call_tool("echo", {"text": "x" * (1 << 20)}, timeout=0.05)
            assert time.monotonic() - began < 1
        assert transport._pipe.get_write_buffer_size() < 2 << 20
        assert len(transport._queued) <= 16
    finally:
        await client.aclose()


# -- item 6: a server that exits while its child holds the pipes ------------------------
async def test_an_exit_is_seen_although_a_child_holds_the_pipes() -> None:
    lines: list[str] = []
    client = hostile_client(lines=lines, timeout=30)
    async with client:
        await client.ping()
        pending = asyncio.ensure_future(client.call_tool("sleep", {"seconds": 40}))
        await asyncio.sleep(0.05)
        began = time.monotonic()
        with pytest.raises(ServerExitedError) as info:
            await client.call_tool("orphan", {"code": 5})
        assert time.monotonic() - began < 3  # not the 30 s timeout
        assert info.value.exit_code == 5
        grandchild = child_pid(info.value.stderr_tail)  # its last words were read
        assert alive(grandchild)  # it still holds stdin and stdout
        with pytest.raises(ServerExitedError) as later:
            await pending
        assert later.value.exit_code == 5
        began = time.monotonic()
        with pytest.raises(ServerExitedError) as again:
            await client.call_tool("echo", {"text": "anyone?"})
        assert again.value.exit_code == 5
        assert time.monotonic() - began < 1
    # Closing killed the rest of the group: the child that kept the pipes.
    assert await gone(grandchild, 2)


async def test_close_kills_a_child_that_ignores_sigterm() -> None:
    client = hostile_client(timeout=30)
    async with client:
        with pytest.raises(ServerExitedError) as info:
            await client.call_tool("orphan", {"code": 5, "ignore_sigterm": True})
        grandchild = child_pid(info.value.stderr_tail)
        assert alive(grandchild)
        began = time.monotonic()
    took = time.monotonic() - began
    assert await gone(grandchild, 1)  # SIGTERM was ignored: SIGKILL after the grace
    assert GRACE <= took < GRACE + 1.5


async def test_a_restart_clears_the_old_group_first() -> None:
    client = hostile_client(restart=True, timeout=30)
    async with client:
        with pytest.raises(ServerExitedError) as info:
            await client.call_tool("orphan", {"code": 7})
        assert info.value.exit_code == 7
        grandchild = child_pid(info.value.stderr_tail)
        assert (await client.call_tool("echo", {"text": "again"})).text == "again"
        assert await gone(grandchild, 1)


async def test_a_child_that_called_setsid_escapes_but_the_client_lets_go() -> None:
    before_fds = open_fds()
    client = hostile_client(timeout=30)
    escaped: int | None = None
    try:
        async with client:
            began = time.monotonic()
            with pytest.raises(ServerExitedError) as info:
                await client.call_tool("orphan", {"code": 5, "setsid": True})
            assert time.monotonic() - began < 3
            escaped = child_pid(info.value.stderr_tail)
            began = time.monotonic()
        # Out of the group: no signal reaches it, but the client closed its ends of the
        # pipes and did not wait for the child to close its own.
        assert time.monotonic() - began < 1.5
        assert alive(escaped)
        assert open_fds() <= before_fds
    finally:
        if escaped is not None:
            kill_quietly(escaped)
            assert await gone(escaped, 2)


async def test_no_process_is_left_after_hostile_servers() -> None:
    before = children()
    for flags, tool, arguments in (
        ((), "orphan", {"code": 5}),
        (("--ignore-sigterm",), "stall", {}),
    ):
        lines: list[str] = []
        async with hostile_client(*flags, lines=lines, timeout=30) as client:
            with pytest.raises((ServerExitedError, ReadTimeout)):
                await client.call_tool(tool, arguments)
                await client.call_tool("echo", {"text": "z" * (1 << 20)}, timeout=0.3)
        if tool == "orphan":
            assert await gone(child_pid(lines), 1)
    assert children() - before == set()


def test_shutdown_grace_must_be_a_positive_number() -> None:
    for bad in (0, -1, float("inf"), float("nan"), "2", True):
        with pytest.raises(ConfigError, match="shutdown_grace"):
            StdioTransport(sys.executable, shutdown_grace=bad)  # type: ignore[arg-type]


# -- server requests: the reader hands them on, it does not hoard them ------------------
async def test_a_flood_of_server_requests_is_answered_and_the_reader_stays_bounded() -> None:
    # 20,000 pings written at once: the stdio reader passes each on as it is read (its
    # own queue stays under the pause mark plus one read), and every ping gets an
    # answer, a result or (past the client's limit) a JSON-RPC error, none dropped.
    from mcp_async.transports import stdio

    client = hostile_client(timeout=60)
    async with client:
        await client.initialize()
        transport = client._mcp().transport
        assert isinstance(transport, StdioTransport)
        pipes = transport._pipes
        assert pipes is not None
        engine = transport.receiver
        receive = engine.receive
        seen: list[int] = []

        async def counting(message: Any) -> None:
            seen.append(len(pipes._backlog))
            await receive(message)

        engine.receive = counting  # type: ignore[method-assign]
        result = await client.call_tool("ping_flood", {"count": 20_000})
        ok, errors = (int(word) for word in re.findall(r"\d+", result.text))
        assert ok + errors == 20_000
        assert ok > 0
        assert max(seen, default=0) < stdio._BACKLOG_HIGH + 2_000  # one 64 KiB read
        assert (await client.call_tool("echo", {"text": "after"})).text == "after"


# -- Ctrl-C -------------------------------------------------------------------------------
CTRL_C_PROGRAM = """
import asyncio, sys
from mcp_async import AsyncMCPClient

async def main():
    server, record = sys.argv[1], sys.argv[2]
    async with AsyncMCPClient.stdio(sys.executable, [server, "--record", record]) as client:
        await client.ping()
        print(client._mcp().transport.pid, flush=True)
        await asyncio.sleep(60)

try:
    asyncio.run(main())
except KeyboardInterrupt:
    sys.exit(130)
"""


async def test_ctrl_c_reaches_only_the_program_which_then_stops_the_server(
    tmp_path: Path,
) -> None:
    # A terminal sends SIGINT to its foreground process group. The server is in a group
    # of its own, so it does not see it: the program's close ends it through stdin EOF.
    program = tmp_path / "program.py"
    program.write_text(CTRL_C_PROGRAM)
    record = tmp_path / "record.txt"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(program), SERVER, str(record),
        stdout=asyncio.subprocess.PIPE, env=env, start_new_session=True,
    )
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), 30)
        server = int(line)
        os.killpg(process.pid, signal.SIGINT)
        assert await asyncio.wait_for(process.wait(), 15) == 130
    finally:
        kill_quietly(process.pid)
        await process.wait()
    assert record.read_text().split() == ["eof"]  # no SIGINT, no SIGTERM: a clean EOF
    assert await gone(server, 2)


def test_the_client_constructors_pass_shutdown_grace_through() -> None:
    from mcp_async.client.blocking import MCPClient

    client = AsyncMCPClient.stdio(sys.executable, [SERVER], shutdown_grace=0.25)
    transport = client._given_transport
    assert isinstance(transport, StdioTransport) and transport.shutdown_grace == 0.25
    blocking = MCPClient.stdio(sys.executable, [SERVER], shutdown_grace=0.5)
    try:
        transport = blocking.aclient._given_transport
        assert isinstance(transport, StdioTransport) and transport.shutdown_grace == 0.5
    finally:
        blocking.close()
    with pytest.raises(ConfigError, match="shutdown_grace"):
        AsyncMCPClient.stdio(sys.executable, [SERVER], shutdown_grace=0)


async def test_exit_watch_and_exit_error_report_the_servers_exit() -> None:
    transport = StdioTransport(sys.executable, [SERVER], shutdown_grace=0.5)
    assert transport.exit_watch() is None and transport.exit_error is None
    async with AsyncMCPClient(transport) as client:
        await client.initialize()
        watch = transport.exit_watch()
        assert watch is not None and not watch.done() and transport.exit_error is None
        pid = transport.pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        await asyncio.wait_for(watch, 5)
        assert isinstance(transport.exit_error, ServerExitedError)
        assert transport.exit_watch() is None
