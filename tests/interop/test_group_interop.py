"""``MCPClientGroup`` against four real servers nobody here wrote (issue 14).

One ``mcpServers`` configuration names:

* ``sdk_stdio``: the official ``mcp`` SDK server over stdio (spawned by the group);
* ``everything``: ``@modelcontextprotocol/server-everything`` over stdio (spawned);
* ``sdk_http``: the official SDK server over Streamable HTTP (``sdk_server`` fixture,
  pinned to one mode here);
* ``sdk_sse``: the official SDK server over legacy HTTP+SSE (``sdk_sse_server``).

Checked: the catalogue (unique namespaced names in the LLM character set, each item's
server), routing (each server's own answer, told apart by the answering process id),
a 1,000-call cross-server fan-out whose per-server bound is measured *by the servers*
(the SDK server's ``inflight_probe`` tool counts its calls in flight; for
server-everything its own timers bound the run time from below), an entry whose command
does not exist, and a stdio server killed mid-run.  After every group every process it
spawned must be gone (reaped, not a zombie).
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
import re
import signal
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import servers
from sdk_server import INVENTORY
from servers import RunningServer, StdioCommand

from mcp_async import (
    MCPClientError,
    MCPClientGroup,
    ServerSpawnError,
    TransportError,
)
from mcp_async.protocol.models import CallToolResult

SEP = "__"
NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
HTTP_MODE = "sse-stateful"  # the Streamable HTTP mode of the sdk_server fixture used here
SERVERS = ("sdk_stdio", "everything", "sdk_http", "sdk_sse")
PROBED = ("sdk_stdio", "sdk_http", "sdk_sse")  # servers with the inflight_probe tool
EVERYTHING_TOOLS = {"echo", "get-sum", "trigger-long-running-operation"}

FANOUT_CALLS = 1_000
CONCURRENCY = 16
PER_SERVER = 4
PROBE_SECONDS = 0.01
#: The first calls each probed server gets sleep this long instead: while they do, the
#: next ones arrive, so the server sees PER_SERVER at once even when a loaded machine
#: makes it slower to take a call than PROBE_SECONDS (it had peaked at 3).
OPENING_SECONDS = 0.25

# Every test here uses the Streamable HTTP SDK server in one mode, not all four.
pytestmark = pytest.mark.parametrize("sdk_server", [HTTP_MODE], indirect=True)


# ------------------------------------------------------------------------- helpers
def _stdio_entry(command: StdioCommand) -> dict[str, Any]:
    entry: dict[str, Any] = {"command": command.command, "args": list(command.args)}
    if command.env is not None:
        entry["env"] = dict(command.env)
    if command.cwd is not None:
        entry["cwd"] = command.cwd
    return entry


@pytest.fixture
def config(
    everything_stdio_command: StdioCommand,
    sdk_server: RunningServer,
    sdk_sse_server: RunningServer,
) -> dict[str, Any]:
    """The four servers as a Claude-Desktop-style ``mcpServers`` document."""
    assert sdk_server.transport == "streamable-http"
    # server-everything sends tools/list_changed right after its handshake; with every
    # server up at once (the fork server's quick start), it lands in the group's first
    # catalogue fetch, which these tests then cover too.
    sdk_stdio_command = servers.sdk_stdio_command()
    return {
        "mcpServers": {
            "sdk_stdio": _stdio_entry(sdk_stdio_command),
            "everything": _stdio_entry(everything_stdio_command),
            "sdk_http": {"url": sdk_server.url, "type": "http"},
            "sdk_sse": {"url": sdk_sse_server.url, "transport": "sse"},
        }
    }


def _children() -> set[int]:
    """Pids whose parent is this process (zombies included), from ``/proc``."""
    me = os.getpid()
    found: set[int] = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_bytes()
        except OSError:
            continue
        fields = stat.rsplit(b")", 1)[1].split()
        if int(fields[1]) == me:
            found.add(int(entry))
    return found


@pytest.fixture
def reaped() -> Iterator[None]:
    """Every child process started during the test is gone (reaped) by its end."""
    if not Path("/proc/self/stat").exists():
        yield
        return
    before = _children()
    yield
    deadline = time.monotonic() + 10.0
    left = _children() - before
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = _children() - before
    assert not left, f"processes left behind (or not reaped): {sorted(left)}"


def _gone(pid: int) -> bool:
    """True when ``pid`` is no longer a running process (exited; maybe not yet reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return True
    return stat.rsplit(b")", 1)[1].split()[0] == b"Z"


async def _until(predicate: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


def _probe(result: CallToolResult) -> dict[str, int]:
    """The ``{"peak", "calls", "pid"}`` answer of ``inflight_probe``."""
    assert not result.is_error, result
    data = result.structured_content
    if isinstance(data, dict) and "result" in data and "peak" not in data:
        data = data["result"]
    if not isinstance(data, dict):
        data = json.loads(result.text)
    return {key: int(data[key]) for key in ("peak", "calls", "pid")}


def _stdio_pid(group: MCPClientGroup, name: str) -> int:
    pid = group[name]._mcp().transport.pid  # type: ignore[attr-defined]
    assert isinstance(pid, int), f"{name} has no running process"
    return pid


async def _server_pids(
    group: MCPClientGroup, sdk_server: RunningServer, sdk_sse_server: RunningServer
) -> dict[str, int]:
    """The process that must answer each probed server's calls."""
    await group["sdk_stdio"].initialize()  # a lazily started stdio server runs after this
    pids = {
        "sdk_stdio": _stdio_pid(group, "sdk_stdio"),
        "sdk_http": sdk_server.pid,
        "sdk_sse": sdk_sse_server.pid,
    }
    assert all(isinstance(pid, int) for pid in pids.values()), pids
    return pids  # type: ignore[return-value]


def _calls(
    total: int, key: str, order: str, seconds: float = PROBE_SECONDS, opening: float = 0.0
) -> list[tuple[str, str, dict[str, Any]]]:
    """``total`` (server, tool, arguments), a quarter per server, round-robin or grouped.

    The first PER_SERVER probes of each server sleep ``opening`` seconds if longer.

    The probed servers get ``inflight_probe`` under ``key``; server-everything gets
    ``echo`` of the call's index (its answer names the call, so order is checked).
    """
    calls: list[tuple[str, str, dict[str, Any]]] = []
    for index in range(total):
        server = SERVERS[index % len(SERVERS)]
        if server == "everything":
            calls.append((server, "echo", {"message": f"call {index}"}))
        else:
            first = index // len(SERVERS) < PER_SERVER
            sleep = max(seconds, opening) if first else seconds
            calls.append((server, "inflight_probe", {"key": key, "seconds": sleep}))
    if order == "grouped":
        calls.sort(key=lambda call: SERVERS.index(call[0]))  # stable: echo texts stay unique
    return calls


def _find(error: BaseException, kind: type[BaseException]) -> BaseException | None:
    """``error`` or anything in its group, cause or context chain that is a ``kind``."""
    seen: set[int] = set()
    todo = [error]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, kind):
            return current
        todo.extend(getattr(current, "exceptions", ()))
        todo.extend(e for e in (current.__cause__, current.__context__) if e is not None)
    return None


# ----------------------------------------------------------------------- catalogue
async def test_the_catalogue_names_every_tool_of_every_server_once(
    config: dict[str, Any], reaped: None
) -> None:
    async with MCPClientGroup.from_config(config, require_all=True) as group:
        assert group.failures == {}
        assert sorted(group.names) == sorted(SERVERS)
        tools = await group.list_tools()

        names = [item.name for item in tools]
        duplicates = [name for name, count in Counter(names).items() if count > 1]
        assert not duplicates, duplicates
        bad = [name for name in names if not NAME_RE.fullmatch(name)]
        assert not bad, bad
        assert {item.server for item in tools} == set(SERVERS)
        for item in tools:
            # Every name here is short and clean, so the default naming is plain.
            assert item.name == f"{item.server}{SEP}{item.tool.name}", item

        by_server: dict[str, list[str]] = {name: [] for name in SERVERS}
        for item in tools:
            by_server[item.server].append(item.tool.name)
        for name in PROBED:
            assert sorted(by_server[name]) == sorted(INVENTORY["tools"]), name
        assert set(by_server["everything"]) >= EVERYTHING_TOOLS
        # Each item came from the server it names: that server lists it itself.
        for name in SERVERS:
            own = {tool.name for tool in await group[name].list_tools()}
            assert set(by_server[name]) <= own, (name, set(by_server[name]) - own)

        # The same names, with their input schemas, in each export format.
        for fmt in ("openai", "anthropic", "mcp"):
            schemas = await group.tool_schemas(format=fmt)
            assert len(schemas) == len(tools), fmt
            exported = [_schema_name(schema) for schema in schemas]
            assert sorted(exported) == sorted(names), fmt
            assert all(isinstance(schema, dict) for schema in schemas)
            json.dumps(schemas)  # plain data, ready for an HTTP body


def _schema_name(schema: dict[str, Any]) -> str:
    if "function" in schema:  # OpenAI chat completions
        return str(schema["function"]["name"])
    return str(schema["name"])  # Anthropic, MCP (and OpenAI's flat form)


# ------------------------------------------------------------------------- routing
async def test_each_call_is_routed_to_its_own_server(
    config: dict[str, Any],
    sdk_server: RunningServer,
    sdk_sse_server: RunningServer,
    reaped: None,
) -> None:
    key = f"route-{uuid.uuid4().hex}"
    async with MCPClientGroup.from_config(config, require_all=True) as group:
        pids = await _server_pids(group, sdk_server, sdk_sse_server)
        assert len(set(pids.values())) == len(PROBED)
        for name in PROBED:
            result = await group.call_tool(
                f"{name}{SEP}inflight_probe", {"key": f"{key}-{name}", "seconds": 0}
            )
            probe = _probe(result)
            assert probe["pid"] == pids[name], (name, probe, pids)
            assert probe["calls"] == 1  # a fresh key: nobody else called it
            added = await group.call_tool(f"{name}{SEP}add", {"a": 2, "b": 40})
            assert added.text == "42"

        echoed = await group.call_tool(f"everything{SEP}echo", {"message": "hi"})
        assert echoed.text == "Echo: hi"
        summed = await group.call_tool(f"everything{SEP}get-sum", {"a": 2, "b": 3})
        assert summed.text == "The sum of 2 and 3 is 5."
        # The SDK's echo answers differently from server-everything's.
        assert (await group.call_tool(f"sdk_stdio{SEP}echo", {"text": "hi"})).text == "hi"

        assert group["sdk_http"].transport_kind == "streamable-http"
        assert group["sdk_sse"].transport_kind == "sse"
        assert group["sdk_stdio"].transport_kind == "stdio"
        assert group["everything"].transport_kind == "stdio"
        with pytest.raises(KeyError):
            group["no_such_server"]
        with pytest.raises((MCPClientError, LookupError)):
            await group.call_tool(f"no_such_server{SEP}echo", {"text": "x"})


# ------------------------------------------------------------------------- fan-out
@pytest.mark.parametrize(
    ("api", "order"), [("call_tools", "interleaved"), ("stream_calls", "grouped")]
)
async def test_cross_server_fan_out_keeps_the_per_server_bound_at_the_servers(
    config: dict[str, Any],
    sdk_server: RunningServer,
    sdk_sse_server: RunningServer,
    reaped: None,
    api: str,
    order: str,
) -> None:
    key = f"fanout-{uuid.uuid4().hex}"
    calls = _calls(FANOUT_CALLS, key, order, opening=OPENING_SECONDS)
    requests = [(f"{server}{SEP}{tool}", arguments) for server, tool, arguments in calls]
    async with MCPClientGroup.from_config(config, require_all=True) as group:
        pids = await _server_pids(group, sdk_server, sdk_sse_server)
        outcomes: list[tuple[int, Any]] = []
        if api == "call_tools":
            batch = await group.call_tools(
                requests, concurrency=CONCURRENCY, per_server=PER_SERVER
            )
            assert len(batch) == len(calls)
            for index, outcome in enumerate(batch):
                assert outcome.index == index
                outcomes.append((index, outcome))
        else:
            async for index, outcome in group.stream_calls(
                requests, concurrency=CONCURRENCY, per_server=PER_SERVER
            ):
                assert outcome.index == index
                outcomes.append((index, outcome))
            assert sorted(index for index, _ in outcomes) == list(range(len(calls)))

    failed = [(index, calls[index][0], repr(o.error)) for index, o in outcomes if not o.ok]
    assert not failed, failed[:5]
    peaks: dict[str, int] = dict.fromkeys(PROBED, 0)
    received: dict[str, int] = dict.fromkeys(PROBED, 0)
    for index, outcome in outcomes:
        server, _, arguments = calls[index]
        result = outcome.value
        if server == "everything":
            assert result.text == f"Echo: {arguments['message']}", index
            continue
        probe = _probe(result)
        assert probe["pid"] == pids[server], (index, server, probe)  # routed right
        peaks[server] = max(peaks[server], probe["peak"])
        received[server] = max(received[server], probe["calls"])
    sent = Counter(server for server, _, _ in calls)
    for server in PROBED:
        # Each call reached its server exactly once (no retries, none lost) ...
        assert received[server] == sent[server], (server, received, sent)
        # ... and the server never saw more than PER_SERVER of them at once.
        assert peaks[server] <= PER_SERVER, f"{server} saw {peaks[server]} calls in flight"
        # The bound was reached, not merely respected (the calls did run in parallel).
        assert peaks[server] == PER_SERVER, f"{server} peaked at {peaks[server]}"


async def test_the_per_server_bound_holds_at_server_everything(
    config: dict[str, Any], reaped: None
) -> None:
    """server-everything has no in-flight counter, but its timers bound the run from below.

    24 operations of 0.25 s each (a server-side ``setTimeout``) at most 4 at a time take
    at least 6 waves, 1.5 s; 16 at a time would take 0.5 s, one at a time 6 s.
    """
    duration, count = 0.25, 24
    calls = [
        (f"everything{SEP}trigger-long-running-operation", {"duration": duration, "steps": 1})
    ] * count
    async with MCPClientGroup.from_config(config, require_all=True) as group:
        await group["everything"].ping()
        started = time.monotonic()
        batch = await group.call_tools(calls, concurrency=CONCURRENCY, per_server=PER_SERVER)
        elapsed = time.monotonic() - started
    assert batch.ok, batch.failed[:3]
    assert all("completed" in outcome.value.text for outcome in batch)
    waves = count / PER_SERVER
    assert elapsed >= waves * duration * 0.95, f"{elapsed:.2f}s: more than 4 ran at once"
    assert elapsed < count * duration * 0.8, f"{elapsed:.2f}s: the calls did not overlap"


# --------------------------------------------------------------- a missing command
async def test_a_missing_command_is_reported_and_the_others_work(
    config: dict[str, Any], reaped: None
) -> None:
    broken = copy.deepcopy(config)
    command = "mcp-async-no-such-server-xyz"
    broken["mcpServers"]["ghost"] = {"command": command, "args": ["--stdio"]}

    async with MCPClientGroup.from_config(broken) as group:
        assert set(group.failures) == {"ghost"}
        error = group.failures["ghost"]
        assert isinstance(error, ServerSpawnError), repr(error)
        assert command in str(error)
        tools = await group.list_tools()
        assert {item.server for item in tools} == set(SERVERS)
        for name in PROBED:
            result = await group.call_tool(f"{name}{SEP}echo", {"text": name})
            assert result.text == name
        echoed = await group.call_tool(f"everything{SEP}echo", {"message": "still here"})
        assert echoed.text == "Echo: still here"
        with pytest.raises((MCPClientError, LookupError)):
            await group.call_tool(f"ghost{SEP}echo", {"text": "x"})

    with pytest.raises(BaseException) as info:  # the type is checked below
        async with MCPClientGroup.from_config(broken, require_all=True):
            pytest.fail("require_all=True opened a group with a failed server")
    assert isinstance(info.value, (MCPClientError, BaseExceptionGroup)), repr(info.value)
    spawn = _find(info.value, ServerSpawnError)
    assert spawn is not None, repr(info.value)
    assert command in str(spawn)
    assert "ghost" in str(info.value) or "ghost" in str(spawn), repr(info.value)


# ------------------------------------------------------------- a server killed mid-run
async def test_a_stdio_server_killed_mid_run_fails_typed_or_restarts_and_spares_the_rest(
    config: dict[str, Any],
    sdk_server: RunningServer,
    sdk_sse_server: RunningServer,
    reaped: None,
) -> None:
    key = f"kill-{uuid.uuid4().hex}"
    calls = _calls(400, key, "interleaved", seconds=0.05)
    requests = [(f"{server}{SEP}{tool}", arguments) for server, tool, arguments in calls]
    async with MCPClientGroup.from_config(config, require_all=True) as group:
        for name in SERVERS:
            await group[name].initialize()
        victim = _stdio_pid(group, "sdk_stdio")
        everything_pid = _stdio_pid(group, "everything")
        http_session = group["sdk_http"].session_id
        pids = await _server_pids(group, sdk_server, sdk_sse_server)

        outcomes: dict[int, Any] = {}
        killed_after: int | None = None
        async for index, outcome in group.stream_calls(
            requests, concurrency=CONCURRENCY, per_server=PER_SERVER
        ):
            outcomes[index] = outcome
            if killed_after is None and len(outcomes) >= 60:
                os.kill(victim, signal.SIGKILL)
                killed_after = len(outcomes)
        assert killed_after is not None
        assert len(outcomes) == len(calls)
        await _until(lambda: _gone(victim))

        # The others were untouched: every call answered, by the same processes and sessions.
        for index, outcome in outcomes.items():
            server = calls[index][0]
            if server == "sdk_stdio":
                continue
            assert outcome.ok, (index, server, repr(outcome.error))
            if server != "everything":
                assert _probe(outcome.value)["pid"] == pids[server]
        assert _stdio_pid(group, "everything") == everything_pid
        assert group["sdk_http"].session_id == http_session

        # The victim's calls: answered by it, failed with a typed error, or answered by
        # a restarted server.
        errors: list[BaseException] = []
        answered_by: Counter[int] = Counter()
        for index, outcome in outcomes.items():
            if calls[index][0] != "sdk_stdio":
                continue
            if outcome.ok:
                answered_by[_probe(outcome.value)["pid"]] += 1
            else:
                errors.append(outcome.error)
        untyped = [e for e in errors if not isinstance(e, TransportError)]
        assert not untyped, [repr(e) for e in untyped[:3]]
        assert errors or len(answered_by) > 1, "the kill went unnoticed"

        # The next call restarts it (issue 14: "restarts on the next call to it").
        result = await group.call_tool(
            f"sdk_stdio{SEP}inflight_probe", {"key": f"{key}-after", "seconds": 0}
        )
        restarted = _probe(result)["pid"]
        assert restarted != victim
        assert _stdio_pid(group, "sdk_stdio") == restarted
        # ... and the rest still answer.
        assert (await group.call_tool(f"sdk_http{SEP}echo", {"text": "ok"})).text == "ok"
        assert (await group.call_tool(f"sdk_sse{SEP}echo", {"text": "ok"})).text == "ok"
        echoed = await group.call_tool(f"everything{SEP}echo", {"message": "ok"})
        assert echoed.text == "Echo: ok"
    assert _gone(restarted)
