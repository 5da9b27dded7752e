"""The stdio transport against a small fault-injection server (stdio_fault_server.py).

What it proves: spawning without a shell, the minimal environment, stderr forwarding,
skipping non-JSON lines, the line size limit, unexpected exits, restart, spawn
failures, the spec's shutdown sequence, and process hygiene (no child and no file
descriptor left behind).
"""

from __future__ import annotations

import asyncio
import gc
import io
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from mcp_async import (
    AsyncMCPClient,
    BodyTooLargeError,
    ConfigError,
    MetricsHook,
    RateLimit,
    ReadTimeout,
    RequestSample,
    ServerExitedError,
    ServerSpawnError,
    StdioTransport,
    Timeout,
)
from mcp_async.session.handlers import SamplingRequest, SamplingResult

SERVER = str(Path(__file__).with_name("stdio_fault_server.py"))


def fault_client(*flags: str, **options: Any) -> AsyncMCPClient:
    return AsyncMCPClient.stdio(sys.executable, [SERVER, *flags], **options)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); look at its state.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except (FileNotFoundError, ProcessLookupError):  # it went while being looked at
        return False
    return state != "Z"


def children() -> set[int]:
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


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def pid_of(client: AsyncMCPClient) -> int:
    transport = client._mcp().transport
    assert isinstance(transport, StdioTransport)
    pid = transport.pid
    assert pid is not None
    return pid


async def test_a_whole_session_over_stdio() -> None:
    async with fault_client() as client:
        assert client.transport_kind == "stdio"
        info = await client.initialize()
        assert info.server_info.name == "fault-server"
        assert client.protocol_version == "2025-11-25"
        assert client.session_id is None
        assert [tool.name for tool in await client.list_tools()] == ["echo"]
        assert (await client.call_tool("echo", {"text": "hello"})).text == "hello"
        await client.ping()


async def test_concurrent_large_calls_do_not_deadlock() -> None:
    # Large arguments and large replies in both pipes at once: the reader must keep
    # draining stdout while writers wait on stdin.
    payload = "a" * 20_000
    async with fault_client(timeout=60) as client:
        results = await asyncio.gather(
            *(client.call_tool("echo", {"text": f"{i}:{payload}"}) for i in range(1000))
        )
        assert [r.text.split(":")[0] for r in results] == [str(i) for i in range(1000)]
        bigs = await asyncio.gather(*(client.call_tool("big", {"size": 300_000})
                                      for _ in range(20)))
        assert all(len(r.text) == 300_000 for r in bigs)


async def test_default_environment_is_minimal(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MCP_ASYNC_SECRET", "do-not-leak")
    async with fault_client(env={"GIVEN": "yes"}, cwd=tmp_path) as client:
        seen = (await client.call_tool("env")).structured_content
    assert seen is not None
    assert "MCP_ASYNC_SECRET" not in seen["env"]
    assert seen["env"]["GIVEN"] == "yes"
    assert set(seen["env"]) <= {"HOME", "LOGNAME", "PATH", "SHELL", "TERM", "USER", "GIVEN",
                                "LC_CTYPE"}  # LC_CTYPE: set by CPython itself at start
    assert seen["cwd"] == str(tmp_path)


async def test_inherit_env_passes_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCP_ASYNC_SHARED", "visible")
    async with fault_client(inherit_env=True, env={"EXTRA": "1"}) as client:
        seen = (await client.call_tool("env")).structured_content
    assert seen is not None
    assert seen["env"]["MCP_ASYNC_SHARED"] == "visible"
    assert seen["env"]["EXTRA"] == "1"


async def test_stderr_goes_to_the_server_logger_by_default(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="mcp_async.server")
    async with fault_client("--stderr", "3") as client:
        await client.ping()
        await asyncio.sleep(0.1)
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("mcp_async.server.")]
    assert lines[:3] == ["log line 0", "log line 1", "log line 2"]


async def test_stderr_to_a_callable_and_a_file() -> None:
    got: list[str] = []
    async with fault_client("--stderr", "2", stderr=got.append) as client:
        await client.ping()
        await asyncio.sleep(0.1)
    assert got[:2] == ["log line 0", "log line 1"]
    buffer = io.StringIO()
    async with fault_client("--stderr", "1", stderr=buffer) as client:
        await client.ping()
        await asyncio.sleep(0.1)
    assert buffer.getvalue().startswith("log line 0\n")


async def test_a_chatty_stderr_never_blocks_the_server() -> None:
    # 200k lines (several MB) is far more than a pipe buffer holds.
    got: list[str] = []
    async with fault_client("--stderr", "200000", stderr=got.append) as client:
        assert (await client.call_tool("echo", {"text": "still here"})).text == "still here"
    assert len(got) == 200_000


async def test_a_flood_of_notifications_keeps_order_and_bounded_memory() -> None:
    # 3,000 progress notifications and the result, written at once, to a slow callback:
    # every notification is handled, in order, before the call returns, and the queue
    # of unhandled messages stays bounded (reading stdout pauses while it is long).
    from mcp_async.transports import stdio

    seen: list[float] = []
    backlog: list[int] = []
    async with fault_client() as client:
        await client.initialize()
        pipes = client._mcp().transport._process._protocol  # type: ignore[attr-defined]

        async def slow(note: Any) -> None:
            seen.append(note.progress)
            backlog.append(len(pipes._backlog))
            await asyncio.sleep(0)

        result = await client.call_tool("flood", {"count": 3000}, progress=slow)
        assert result.text == "flooded"
        assert seen == list(range(1, 3001))
        assert max(backlog) >= stdio._BACKLOG_HIGH  # the queue did fill up: paused
        assert max(backlog) < stdio._BACKLOG_HIGH + 1000  # one 64 KiB read past the mark
        assert not pipes._paused
        assert (await client.call_tool("echo", {"text": "after"})).text == "after"


async def test_many_calls_in_flight_each_get_their_own_reply() -> None:
    # Replies arrive several per read and complete their requests in the read callback.
    async with fault_client() as client:

        async def lane(lane_id: int) -> list[str]:
            return [(await client.call_tool("echo", {"text": f"{lane_id}-{n}"})).text
                    for n in range(50)]

        results = await asyncio.wait_for(asyncio.gather(*(lane(i) for i in range(32))), 10)
        assert results == [[f"{i}-{n}" for n in range(50)] for i in range(32)]


async def test_a_non_json_line_is_logged_and_skipped(caplog: pytest.LogCaptureFixture) -> None:
    async with fault_client("--banner") as client:
        assert (await client.call_tool("echo", {"text": "x"})).text == "x"
    assert any("not JSON-RPC" in r.getMessage() for r in caplog.records)


async def test_an_oversized_line_fails_its_request_and_the_session_survives() -> None:
    async with fault_client(max_body_size=50_000) as client:
        await client.ping()
        with pytest.raises(BodyTooLargeError):
            await client.call_tool("oversized", {"size": 200_000})
        assert (await client.call_tool("echo", {"text": "after"})).text == "after"


async def test_a_server_dying_mid_call_gives_its_exit_code_and_stderr() -> None:
    async with fault_client() as client:
        await client.ping()
        slow = asyncio.ensure_future(client.call_tool("sleep", {"seconds": 30}))
        await asyncio.sleep(0.05)
        with pytest.raises(ServerExitedError) as info:
            await client.call_tool("die", {"code": 3})
        assert info.value.exit_code == 3
        assert "dying now" in info.value.stderr_tail
        assert "dying now" in str(info.value)
        with pytest.raises(ServerExitedError):
            await slow  # every pending request fails the same way
        with pytest.raises(ServerExitedError):
            await client.ping()  # no restart: the same error


async def test_restart_starts_a_fresh_process_and_handshake() -> None:
    async with fault_client(restart=True) as client:
        await client.ping()
        first = pid_of(client)
        with pytest.raises(ServerExitedError):
            await client.call_tool("die", {"code": 1})
        assert (await client.call_tool("echo", {"text": "again"})).text == "again"
        assert pid_of(client) != first
        assert not alive(first)


async def test_a_missing_command_is_a_typed_error_naming_it() -> None:
    client = AsyncMCPClient.stdio("no-such-mcp-server-xyz", ["--flag"])
    with pytest.raises(ServerSpawnError, match="no-such-mcp-server-xyz") as info:
        async with client:
            await client.ping()
    assert info.value.command == "no-such-mcp-server-xyz"


async def test_a_file_that_is_not_executable_is_a_typed_error(tmp_path: Path) -> None:
    script = tmp_path / "server.sh"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o644)
    with pytest.raises(ServerSpawnError, match=r"server\.sh"):
        async with AsyncMCPClient.stdio(str(script), initialize="eager"):
            pass


def test_bad_arguments_are_config_errors() -> None:
    with pytest.raises(ConfigError):
        AsyncMCPClient.stdio("")
    with pytest.raises(ConfigError):
        AsyncMCPClient.stdio("python", "server.py")  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        AsyncMCPClient.stdio("python", env={"A": 1})  # type: ignore[dict-item]
    with pytest.raises(ConfigError, match="auth"):
        AsyncMCPClient(StdioTransport("python"), auth="token")


async def test_a_server_that_ignores_sigterm_is_killed() -> None:
    client = fault_client("--ignore-sigterm", "--ignore-eof")
    async with client:
        await client.ping()
        pid = pid_of(client)
        start = time.monotonic()
    elapsed = time.monotonic() - start
    assert not alive(pid)
    assert 3.5 < elapsed < 8  # stdin closed + 2 s, SIGTERM + 2 s, then SIGKILL


async def test_cancelling_aexit_still_kills_the_server() -> None:
    client = fault_client("--ignore-sigterm", "--ignore-eof")
    await client.open()
    await client.ping()
    pid = pid_of(client)
    closing = asyncio.ensure_future(client.aclose())
    await asyncio.sleep(0.2)
    closing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await closing
    for _ in range(50):
        if not alive(pid):
            break
        await asyncio.sleep(0.05)
    assert not alive(pid)


async def test_a_client_collected_unclosed_kills_its_server() -> None:
    client = fault_client("--ignore-eof")
    await client.open()
    await client.ping()
    pid = pid_of(client)
    with pytest.warns(ResourceWarning) as warned:
        del client
        gc.collect()
    assert any("killing its server process" in str(w.message) for w in warned)
    for _ in range(50):
        if not alive(pid):
            break
        await asyncio.sleep(0.05)
    assert not alive(pid)


async def test_200_open_close_cycles_leave_no_process_and_no_fd() -> None:
    before_children = children()
    before_fds = open_fds()
    for _ in range(200):
        async with fault_client(initialize="eager") as client:
            await client.ping()
    await asyncio.sleep(0.1)
    assert children() - before_children == set()
    assert open_fds() <= before_fds


async def test_a_timeout_cancels_the_request_on_the_server() -> None:
    got: list[str] = []
    async with fault_client(stderr=got.append) as client:
        with pytest.raises(ReadTimeout):
            await client.call_tool("sleep", {"seconds": 5}, timeout=0.2)
        await client.ping()
        await asyncio.sleep(0.1)
    assert any(line.startswith("cancelled ") for line in got)


async def test_the_client_default_timeout_ends_a_call_over_stdio() -> None:
    # The default wait (a second or more) is tracked by the shared coarse timer.
    got: list[str] = []
    async with fault_client(stderr=got.append, timeout=1.0) as client:
        await client.initialize()  # (connecting would count against the call's timeout)
        started = time.monotonic()
        with pytest.raises(ReadTimeout, match=r"'tools/call'.*within 1.0s"):
            await client.call_tool("sleep", {"seconds": 5})
        assert 1.0 <= time.monotonic() - started < 1.6
        await client.ping()
        await asyncio.sleep(0.1)
    assert any(line.startswith("cancelled ") for line in got)


async def test_server_requests_are_answered_over_stdio() -> None:
    async def sampler(request: SamplingRequest) -> SamplingResult:
        return SamplingResult(role="assistant", content={"type": "text", "text": "yes!"},
                              model="test")

    async with fault_client(sampling_handler=sampler) as client:
        assert (await client.call_tool("ask")).text == "yes!"


async def test_message_level_policies_run_over_stdio() -> None:
    samples: list[RequestSample] = []

    class Recorder(MetricsHook):
        def on_finish(self, sample: RequestSample) -> None:
            samples.append(sample)

    limit = RateLimit(rate=1000)
    async with fault_client(metrics=Recorder(), rate_limit=limit) as client:
        await client.call_tool("echo", {"text": "m"})
        with pytest.raises(ReadTimeout):
            await client.call_tool("sleep", {"seconds": 5}, timeout=0.2)
    calls = [s for s in samples if s.method == "tools/call"]
    assert [s.outcome for s in calls] == ["ok", "ReadTimeout"]
    assert calls[0].tool == "echo"
    assert calls[0].url.startswith("stdio:")


async def test_per_call_retry_re_sends_an_idempotent_request_over_stdio() -> None:
    from mcp_async import RetryPolicy

    samples: list[RequestSample] = []

    class Recorder(MetricsHook):
        def on_finish(self, sample: RequestSample) -> None:
            samples.append(sample)

    async with fault_client(metrics=Recorder()) as client:
        # Each attempt waits timeout.read; the whole call stays within timeout.total.
        start = time.monotonic()
        with pytest.raises(ReadTimeout) as info:
            await client.call_tool(
                "sleep", {"seconds": 5}, timeout=Timeout(total=2, read=0.1), idempotent=True,
                retry=RetryPolicy(attempts=3, backoff=0, jitter=False),
            )
        assert info.value.attempts == 3
        assert time.monotonic() - start < 1
        # Without read, one attempt uses the whole timeout: no time is left to retry.
        with pytest.raises(ReadTimeout) as info:
            await client.call_tool(
                "sleep", {"seconds": 5}, timeout=0.3, idempotent=True,
                retry=RetryPolicy(attempts=3, backoff=0, jitter=False),
            )
        assert info.value.attempts == 1
    assert [s.attempts for s in samples if s.method == "tools/call"] == [3, 1]


async def test_http_only_hooks_are_refused_over_stdio() -> None:
    from mcp_async import Hook

    with pytest.raises(ConfigError, match="HTTP hook"):
        async with fault_client(rate_limit=Hook()):
            pass


async def test_a_server_that_ignores_the_era_probe_falls_back_after_the_probe_timeout() -> None:
    # Some old servers never answer a request they do not know. The probe waits half
    # the client's timeout (here 0.5 s; at most 10 s), then the client runs the
    # handshake in the other half: connecting counts against the first call's own
    # timeout. (Should the handshake not fit, that call fails, the handshake goes on,
    # and the next call joins it.)
    start = time.monotonic()
    async with fault_client("--silent-unknown", timeout=1) as client:
        try:
            tools = await client.list_tools()
        except ReadTimeout:
            assert time.monotonic() - start < 2
            tools = await client.list_tools()
        assert [tool.name for tool in tools] == ["echo"]
        assert client.protocol_version == "2025-11-25"
    assert 0.45 < time.monotonic() - start < 5
