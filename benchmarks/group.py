"""Client groups (issue 14): opening many stdio servers at once, and fan-out across them.

    .venv/bin/python -m benchmarks.group            # full: 10-server opens, 10,000-call fan-out
    .venv/bin/python -m benchmarks.group --quick    # smoke-sized
    .venv/bin/python -m benchmarks.run --group-only # the same, as a section of the report

Every server is ``benchmarks/stdio_server.py`` run with ``sys.executable``, spawned by
the group (``MCPClientGroup.from_config``) or by the one client it is compared with.
Each sample runs in a fresh process (``--measure ...``) that prints one JSON object.

**Opening.** A group of ``--servers`` (10) stdio servers against a group of one, and
against the sum of opening each of the ten alone, one after the other. Two variants:

* ``plain``: every server starts as fast as Python can (start-up is CPU-bound, so ten
  at once compete for this machine's cores);
* ``staggered``: server *i* sleeps ``(i + 1) x --delay-step`` seconds before it serves
  (a slow ``npx``-style start-up that waits rather than computes); the group of one is
  the slowest of the ten, so "about the time of the slowest one" reads directly.

``open`` is ``async with group`` (``__aenter__``); ``ready`` adds the first
``group.list_tools()``, so it holds even for a group that connects lazily. "By hand" is
the same servers as plain clients opened with ``asyncio.gather``: what this machine
allows at best, so ``x by hand`` is the group's own cost. The "raw floor" starts the
same server processes with no mcp_async at all (one ``initialize`` line each, until the
last reply), and the slowest one alone the same way: how close to its slowest server this
machine lets any client open ten.

**Fan-out.** ``--fanout-calls`` (10,000) ``echo`` calls spread round-robin over
``--fanout-servers`` (4) servers with ``group.call_tools(calls, concurrency=C,
per_server=P)``, against one ``AsyncMCPClient.stdio`` doing the same calls with
``client.call_tools`` at concurrency P (the same depth per server) and at C (the same
calls in flight), and against the same fan-out by hand (one client per server, each
``call_tools`` at concurrency P, gathered). Every run counts calls in flight per server
around ``AsyncMCPClient.call_tool`` (the same wrapper everywhere, so it costs all the
same) and measures this process's CPU (``getrusage``; the servers are children, not
included).
Ratios are paired per round and the median is reported.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from .protocol_data import EXPECTED_TEXT, TOOL_ARGUMENTS, TOOL_NAME, answer
from .servers import REPO_ROOT, STDIO_SCRIPT
from .worker import child_pids, cpu_seconds, peak_rss_mb, servers_cpu_seconds

SEP = "__"
#: ``--profile``: count Python function calls in the timed part (cProfile) instead of
#: trusting CPU time alone; slower, but the same on every run of a cell.
_PROFILE = False
MEASURE_TIMEOUT = 600.0

#: ``python -c`` program of a slow-starting server: sleep, then run the stdio server in
#: the same interpreter (one Python start-up, as for a plain server).
_DELAYED = (
    "import runpy, sys, time; time.sleep(float(sys.argv[1])); script = sys.argv[2]; "
    "sys.argv = [script]; runpy.run_path(script, run_name='__main__')"
)


# -------------------------------------------------------------------------- configs
def server_entry(delay: float = 0.0) -> dict[str, Any]:
    """One ``mcpServers`` entry for the benchmark stdio server (started after ``delay`` s)."""
    args = [str(STDIO_SCRIPT)]
    if delay > 0:
        args = ["-c", _DELAYED, f"{delay:.3f}", *args]
    return {"command": sys.executable, "args": args, "cwd": str(REPO_ROOT)}


def config(delays: Sequence[float]) -> dict[str, Any]:
    """``{"mcpServers": {"s0": ..., "s1": ...}}`` with one server per delay."""
    return {"mcpServers": {f"s{i}": server_entry(delay) for i, delay in enumerate(delays)}}


def delays_for(variant: str, servers: int, step: float) -> list[float]:
    """Start-up delays of the servers of ``variant`` (``plain`` or ``staggered``)."""
    if variant == "plain":
        return [0.0] * servers
    return [step * (i + 1) for i in range(servers)]


# ------------------------------------------------------------------------- opening
async def _open_once(delays: Sequence[float]) -> dict[str, float]:
    """Open one group, list its tools, close it; the three wall times in ms."""
    from mcp_async import MCPClientGroup

    group = MCPClientGroup.from_config(config(delays), require_all=True)
    started = time.perf_counter()
    await group.__aenter__()
    try:
        opened = time.perf_counter()
        tools = await group.list_tools()
        ready = time.perf_counter()
        if len(tools) < len(delays):
            raise RuntimeError(f"{len(tools)} tools from {len(delays)} servers")
        result = await group.call_tool(f"s{len(delays) - 1}{SEP}{TOOL_NAME}", TOOL_ARGUMENTS)
        if result.text != EXPECTED_TEXT:
            raise RuntimeError(f"unexpected result {result!r}")
    finally:
        closing = time.perf_counter()
        await group.__aexit__(None, None, None)
    closed = time.perf_counter()
    return {
        "open_ms": (opened - started) * 1000,
        "ready_ms": (ready - started) * 1000,
        "close_ms": (closed - closing) * 1000,
    }


async def _open_by_hand(delays: Sequence[float]) -> dict[str, float]:
    """The same servers without a group: ``asyncio.gather`` of one client each."""
    from mcp_async import AsyncMCPClient

    entries = [server_entry(delay) for delay in delays]
    clients = [AsyncMCPClient.stdio(e["command"], e["args"], cwd=e["cwd"]) for e in entries]

    async def connect(client: AsyncMCPClient) -> None:
        await client.open()
        await client.initialize()

    started = time.perf_counter()
    try:
        await asyncio.gather(*(connect(client) for client in clients))
        opened = time.perf_counter()
    finally:
        closing = time.perf_counter()
        await asyncio.gather(*(client.aclose() for client in clients), return_exceptions=True)
    closed = time.perf_counter()
    return {"open_ms": (opened - started) * 1000, "close_ms": (closed - closing) * 1000}


async def _open_raw(delays: Sequence[float]) -> float:
    """The floor, without mcp_async: start every server process at once, write one
    ``initialize`` line to each and read its reply; ms until the last one answered."""
    entries = [server_entry(delay) for delay in delays]
    line = json.dumps({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "floor", "version": "0"}}}).encode() + b"\n"
    processes: list[asyncio.subprocess.Process] = []

    async def start(entry: dict[str, Any]) -> None:
        process = await asyncio.create_subprocess_exec(
            entry["command"], *entry["args"], cwd=entry["cwd"],
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
        processes.append(process)
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(line)
        reply = json.loads(await process.stdout.readline())
        if "result" not in reply:
            raise RuntimeError(f"unexpected reply {reply!r}")

    started = time.perf_counter()
    try:
        await asyncio.gather(*(start(entry) for entry in entries))
        return (time.perf_counter() - started) * 1000
    finally:
        for process in processes:
            assert process.stdin is not None
            process.stdin.close()
        for process in processes:
            await process.wait()


async def measure_open(variant: str, servers: int, step: float) -> dict[str, Any]:
    """One sample: a group of all ``servers``, the same clients opened by hand with
    ``asyncio.gather``, the raw floor of all and of the slowest one, a group of the
    slowest one, and a group of each alone in turn."""
    delays = delays_for(variant, servers, step)
    await _open_once(delays[:1])  # untimed: imports and first-use costs
    whole = await _open_once(delays)
    by_hand = await _open_by_hand(delays)
    raw = await _open_raw(delays)
    raw_slowest = await _open_raw([max(delays)])
    slowest = await _open_once([max(delays)])
    alone = [await _open_once([delay]) for delay in delays]
    sums = {key: sum(sample[key] for sample in alone) for key in ("open_ms", "ready_ms")}
    return {
        "variant": variant,
        "servers": servers,
        "delays": delays,
        "group": whole,
        "by_hand": by_hand,
        "slowest": slowest,
        "sum_open_ms": sums["open_ms"],
        "sum_ready_ms": sums["ready_ms"],
        "x_slowest": whole["open_ms"] / slowest["open_ms"],
        "x_slowest_ready": whole["ready_ms"] / slowest["ready_ms"],
        "x_sum": whole["open_ms"] / sums["open_ms"],
        "x_sum_ready": whole["ready_ms"] / sums["ready_ms"],
        "x_by_hand": whole["open_ms"] / by_hand["open_ms"],
        "raw_open_ms": raw,
        "raw_slowest_open_ms": raw_slowest,
        "raw_x_slowest": raw / raw_slowest,
        "x_raw": whole["open_ms"] / raw,
    }


# ------------------------------------------------------------------------- fan-out
class InFlight:
    """Calls in flight per server, counted around each client's ``call_tool``."""

    def __init__(self) -> None:
        self.now: dict[str, int] = {}
        self.peak: dict[str, int] = {}
        self.calls: dict[str, int] = {}
        self.total = 0
        self.total_peak = 0

    def wrap(self, client: Any, name: str) -> None:
        """Count ``client.call_tool`` (an instance attribute shadows the method)."""
        original: Callable[..., Awaitable[Any]] = client.call_tool
        now, peak, calls = self.now, self.peak, self.calls
        now[name] = peak[name] = calls[name] = 0

        async def call_tool(*args: Any, **kwargs: Any) -> Any:
            now[name] += 1
            calls[name] += 1
            self.total += 1
            if now[name] > peak[name]:
                peak[name] = now[name]
            if self.total > self.total_peak:
                self.total_peak = self.total
            try:
                return await original(*args, **kwargs)
            finally:
                now[name] -= 1
                self.total -= 1

        client.call_tool = call_tool

    def reset(self) -> None:
        for table in (self.peak, self.calls):
            for name in table:
                table[name] = 0
        self.total_peak = 0

    def figures(self) -> dict[str, Any]:
        return {
            "peak_in_flight": dict(self.peak),
            "counted_calls": dict(self.calls),
            "peak_in_flight_total": self.total_peak,
        }


def _check(batch: Any, calls: int) -> None:
    if len(batch) != calls:
        raise RuntimeError(f"{len(batch)} outcomes for {calls} calls")
    failed = batch.failed
    if failed:
        raise RuntimeError(f"{len(failed)} calls failed; first: {failed[0].error!r}")
    last = batch[len(batch) - 1].value
    if last.text != EXPECTED_TEXT:
        raise RuntimeError(f"unexpected result {last!r}")


async def _timed(run: Callable[[], Awaitable[Any]], calls: int) -> dict[str, Any]:
    """Run ``run()`` (one batch, or a list of batches) timed; check every outcome."""
    servers = child_pids()
    server0 = servers_cpu_seconds(servers) if servers else None
    profiler = cProfile.Profile() if _PROFILE else None
    cpu0, wall0 = cpu_seconds(), time.perf_counter()
    if profiler is not None:
        profiler.enable()
    batch = await run()
    if profiler is not None:
        profiler.disable()
    wall = time.perf_counter() - wall0
    cpu = cpu_seconds() - cpu0
    server1 = servers_cpu_seconds(servers) if server0 is not None else None
    batches = batch if isinstance(batch, list) else [batch]
    for part in batches:
        _check(part, len(part))
    if sum(len(part) for part in batches) != calls:
        raise RuntimeError(f"{sum(map(len, batches))} outcomes for {calls} calls")
    server_cpu = None if server0 is None or server1 is None else server1 - server0
    return {
        "calls": calls,
        "wall_s": wall,
        "calls_per_s": calls / wall,
        "cpu_us_per_call": cpu / calls * 1e6,
        "server_cpu_us_per_call": None if server_cpu is None else server_cpu / calls * 1e6,
        "py_calls_per_call": (None if profiler is None
                              else pstats.Stats(profiler).total_calls / calls),
    }


async def measure_fanout_group(
    servers: int, calls: int, concurrency: int, per_server: int, warmup: int
) -> dict[str, Any]:
    """``group.call_tools`` over ``servers`` stdio servers, round-robin."""
    from mcp_async import MCPClientGroup

    names = [f"s{i}" for i in range(servers)]
    counter = InFlight()
    async with MCPClientGroup.from_config(config([0.0] * servers), require_all=True) as group:
        await group.list_tools()
        for name in names:
            counter.wrap(group[name], name)

        def items(count: int) -> list[tuple[str, dict[str, Any]]]:
            return [(f"{names[i % servers]}{SEP}{TOOL_NAME}", TOOL_ARGUMENTS)
                    for i in range(count)]

        _check(await group.call_tools(items(warmup), concurrency=concurrency,
                                      per_server=per_server), warmup)
        counter.reset()
        work = items(calls)
        row = await _timed(
            lambda: group.call_tools(work, concurrency=concurrency, per_server=per_server),
            calls,
        )
    row.update(counter.figures())
    row.update(kind="group", servers=servers, concurrency=concurrency, per_server=per_server,
               peak_rss_mb=peak_rss_mb())
    return row


async def measure_fanout_by_hand(
    servers: int, calls: int, per_server: int, warmup: int
) -> dict[str, Any]:
    """The group's work without a group: one ``AsyncMCPClient.stdio`` per server, each
    ``client.call_tools(its share, concurrency=per_server)``, all at once."""
    from contextlib import AsyncExitStack

    from mcp_async import AsyncMCPClient

    counter = InFlight()
    entry = server_entry()
    async with AsyncExitStack() as stack:
        clients = []
        for _ in range(servers):
            client = AsyncMCPClient.stdio(entry["command"], entry["args"], cwd=entry["cwd"])
            clients.append(await stack.enter_async_context(client))
        await asyncio.gather(*(client.list_tools() for client in clients))
        for i, client in enumerate(clients):
            counter.wrap(client, f"s{i}")

        def shares(count: int) -> list[list[tuple[str, dict[str, Any]]]]:
            return [[(TOOL_NAME, TOOL_ARGUMENTS)] * len(range(i, count, servers))
                    for i in range(servers)]

        def fan_out(parts: list[list[tuple[str, dict[str, Any]]]]) -> Awaitable[list[Any]]:
            return asyncio.gather(*(
                client.call_tools(part, concurrency=per_server)
                for client, part in zip(clients, parts, strict=True)
            ))

        for batch in await fan_out(shares(warmup)):
            _check(batch, len(batch))
        counter.reset()
        work = shares(calls)
        row = await _timed(lambda: fan_out(work), calls)
    row.update(counter.figures())
    row.update(kind="by_hand", servers=servers, concurrency=servers * per_server,
               per_server=per_server, peak_rss_mb=peak_rss_mb())
    return row


async def measure_fanout_single(calls: int, concurrency: int, warmup: int) -> dict[str, Any]:
    """``client.call_tools`` on one ``AsyncMCPClient.stdio``."""
    from mcp_async import AsyncMCPClient

    counter = InFlight()
    entry = server_entry()
    async with AsyncMCPClient.stdio(entry["command"], entry["args"], cwd=entry["cwd"]) as client:
        await client.list_tools()
        counter.wrap(client, "s0")
        items = [(TOOL_NAME, TOOL_ARGUMENTS)] * max(calls, warmup)
        _check(await client.call_tools(items[:warmup], concurrency=concurrency), warmup)
        counter.reset()
        work = items[:calls]
        row = await _timed(lambda: client.call_tools(work, concurrency=concurrency), calls)
    row.update(counter.figures())
    row.update(kind="single", servers=1, concurrency=concurrency, per_server=None,
               peak_rss_mb=peak_rss_mb())
    return row


# ------------------------------------------------------------ in memory (no processes)
def _memory_server() -> tuple[Any, Callable[[], Awaitable[None]]]:
    """An unopened client on a memory transport, and the coroutine that answers it."""
    from mcp_async import AsyncMCPClient
    from mcp_async.protocol.jsonrpc import ErrorResponse, Request, Response
    from mcp_async.transports.memory import memory_pair

    transport, peer = memory_pair()

    async def serve() -> None:
        while True:
            message = await peer.receive()
            if not isinstance(message, Request):
                continue
            reply = answer(message.to_dict(), "benchmarks-memory")
            if "result" in reply:
                await peer.send(Response(message.id, reply["result"]))
            else:
                error = reply["error"]
                await peer.send(ErrorResponse(message.id, error["code"], error["message"]))

    return AsyncMCPClient(transport), serve


async def measure_memory(
    kind: str, servers: int, calls: int, concurrency: int, per_server: int, warmup: int
) -> dict[str, Any]:
    """The group's own cost without processes or pipes: ``servers`` in-memory servers in a
    group (``kind="group"``) or one client alone (``"single"``), answered in this process.

    The servers' work is the same per call either way, so the difference of the two
    CPU/call figures is what the group adds to a call.
    """
    from mcp_async import MCPClientGroup

    count = servers if kind == "group" else 1
    pairs = [_memory_server() for _ in range(count)]
    tasks = [asyncio.ensure_future(serve()) for _, serve in pairs]
    counter = InFlight()
    try:
        if kind == "group":
            group = MCPClientGroup({f"s{i}": client for i, (client, _) in enumerate(pairs)},
                                   require_all=True)
            async with group:
                await group.list_tools()
                for i in range(count):
                    counter.wrap(group[f"s{i}"], f"s{i}")
                names = [f"s{i}{SEP}{TOOL_NAME}" for i in range(count)]
                work = [(names[i % count], TOOL_ARGUMENTS) for i in range(max(calls, warmup))]
                _check(await group.call_tools(work[:warmup], concurrency=concurrency,
                                              per_server=per_server), warmup)
                counter.reset()
                work = work[:calls]
                row = await _timed(lambda: group.call_tools(
                    work, concurrency=concurrency, per_server=per_server), calls)
        else:
            client = pairs[0][0]
            async with client:
                await client.list_tools()
                counter.wrap(client, "s0")
                items = [(TOOL_NAME, TOOL_ARGUMENTS)] * max(calls, warmup)
                _check(await client.call_tools(items[:warmup], concurrency=concurrency), warmup)
                counter.reset()
                work = items[:calls]
                row = await _timed(lambda: client.call_tools(work, concurrency=concurrency),
                                   calls)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    row.update(counter.figures())
    row.update(kind=f"memory_{kind}", servers=count, concurrency=concurrency,
               per_server=per_server if kind == "group" else None, peak_rss_mb=peak_rss_mb())
    return row


# -------------------------------------------------------------------------- driver
def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _sample(*args: str) -> dict[str, Any]:
    """Run ``python -m benchmarks.group --measure ...`` and return its JSON line."""
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.group", *args], cwd=REPO_ROOT,
        capture_output=True, text=True, timeout=MEASURE_TIMEOUT,
    )
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-8:])
        raise RuntimeError(f"benchmarks.group {' '.join(args)} failed:\n{tail}")
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _median(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Every sample, in fresh processes, and their medians."""
    opens: dict[str, list[dict[str, Any]]] = {"plain": [], "staggered": []}
    for round_no in range(args.open_rounds):
        for variant in (("plain", "staggered") if round_no % 2 == 0 else ("staggered", "plain")):
            sample = _sample("--measure", "open", "--variant", variant,
                             "--servers", str(args.servers), "--delay-step", str(args.delay_step))
            opens[variant].append(sample)
            _log(f"[open {round_no + 1}/{args.open_rounds}] {variant:9} "
                 f"{args.servers} servers {sample['group']['open_ms']:7.1f} ms, slowest alone "
                 f"{sample['slowest']['open_ms']:7.1f} ms, sum {sample['sum_open_ms']:8.1f} ms "
                 f"-> x slowest {sample['x_slowest']:.2f}, x sum {sample['x_sum']:.2f}")

    cells = {
        "group": ["--measure", "fanout-group", "--fanout-servers", str(args.fanout_servers),
                  "--concurrency", str(args.concurrency), "--per-server", str(args.per_server)],
        "by_hand": ["--measure", "fanout-by-hand", "--fanout-servers", str(args.fanout_servers),
                    "--per-server", str(args.per_server)],
        "single_per_server": ["--measure", "fanout-single",
                              "--concurrency", str(args.per_server)],
        "single_concurrency": ["--measure", "fanout-single",
                               "--concurrency", str(args.concurrency)],
        "memory_group": ["--measure", "memory-group", "--fanout-servers", str(args.fanout_servers),
                         "--concurrency", str(args.concurrency),
                         "--per-server", str(args.per_server)],
        "memory_single": ["--measure", "memory-single", "--concurrency", str(args.concurrency)],
    }
    sizes = ["--fanout-calls", str(args.fanout_calls), "--warmup", str(args.warmup)]
    fanout: dict[str, list[dict[str, Any]]] = {name: [] for name in cells}
    names = list(cells)
    for round_no in range(args.rounds):
        shift = round_no % len(names)
        for name in names[shift:] + names[:shift]:
            row = _sample(*cells[name], *sizes)
            fanout[name].append(row)
            _log(f"[fan-out {round_no + 1}/{args.rounds}] {name:18} c={row['concurrency']:<3} "
                 f"{row['calls_per_s']:8,.0f} calls/s {row['cpu_us_per_call']:6.1f} us/call "
                 f"peak in flight {row['peak_in_flight']}")
    # One more sample per cell under cProfile: Python function calls per tool call, a
    # count that CPU-time noise of a shared machine does not blur.
    profiled: dict[str, float] = {}
    for name in names:
        row = _sample(*cells[name], *sizes, "--profile")
        profiled[name] = row["py_calls_per_call"]
        _log(f"[profile] {name:18} {profiled[name]:6.1f} Python calls per tool call")
    return summarize(args, opens, fanout, profiled)


def _bound_kept(row: dict[str, Any]) -> bool:
    """Every call counted, none over the per-server bound, none over the total bound."""
    bound = row["per_server"] or row["concurrency"]
    return (
        max(row["peak_in_flight"].values(), default=0) <= bound
        and row["peak_in_flight_total"] <= row["concurrency"]
        and sum(row["counted_calls"].values()) == row["calls"]
    )


def summarize(
    args: argparse.Namespace,
    opens: dict[str, list[dict[str, Any]]],
    fanout: dict[str, list[dict[str, Any]]],
    profiled: dict[str, float] | None = None,
) -> dict[str, Any]:
    """Medians of every figure and paired ratios (the report's input); ``profiled``:
    Python function calls per tool call of each cell, from one cProfile'd sample."""
    open_summary = {}
    for variant, samples in opens.items():
        if not samples:
            continue
        open_summary[variant] = {
            "servers": samples[0]["servers"],
            "delays": samples[0]["delays"],
            "samples": len(samples),
            **{f"group_{k}": _median([s["group"][k] for s in samples])
               for k in ("open_ms", "ready_ms", "close_ms")},
            **{f"slowest_{k}": _median([s["slowest"][k] for s in samples])
               for k in ("open_ms", "ready_ms", "close_ms")},
            "by_hand_open_ms": _median([s["by_hand"]["open_ms"] for s in samples]),
            "sum_open_ms": _median([s["sum_open_ms"] for s in samples]),
            "sum_ready_ms": _median([s["sum_ready_ms"] for s in samples]),
            **{k: _median([s[k] for s in samples])
               for k in ("x_slowest", "x_slowest_ready", "x_sum", "x_sum_ready", "x_by_hand",
                         "raw_open_ms", "raw_slowest_open_ms", "raw_x_slowest", "x_raw")
               if all(k in s for s in samples)},
        }

    fan_summary: dict[str, Any] = {}
    for name, rows in fanout.items():
        if not rows:
            continue
        peaks: dict[str, int] = {}
        counted: dict[str, int] = {}
        for row in rows:
            for server, peak in row["peak_in_flight"].items():
                peaks[server] = max(peaks.get(server, 0), peak)
            for server, count in row["counted_calls"].items():
                counted[server] = max(counted.get(server, 0), count)
        fan_summary[name] = {
            "calls": rows[0]["calls"],
            "servers": rows[0]["servers"],
            "concurrency": rows[0]["concurrency"],
            "per_server": rows[0]["per_server"],
            "rounds": len(rows),
            **{k: _median([r[k] for r in rows]) for k in (
                "wall_s", "calls_per_s", "cpu_us_per_call", "server_cpu_us_per_call",
                "peak_rss_mb")},
            "py_calls_per_call": (profiled or {}).get(name),
            "peak_in_flight": peaks,
            "peak_in_flight_total": max(r["peak_in_flight_total"] for r in rows),
            "counted_calls": counted,
            "bound_kept": all(_bound_kept(row) for row in rows),
        }
    pairs = [("group", name) for name in ("by_hand", "single_per_server", "single_concurrency")]
    pairs.append(("memory_group", "memory_single"))
    for mine, other in pairs:
        group_rows, rows = fanout.get(mine, []), fanout.get(other, [])
        if group_rows and rows:
            paired = list(zip(group_rows, rows, strict=False))
            fan_summary[f"x_{other}"] = _median([
                g["cpu_us_per_call"] / s["cpu_us_per_call"] for g, s in paired
                if s["cpu_us_per_call"]
            ])
            fan_summary[f"x_{other}_range"] = [
                min(g["cpu_us_per_call"] / s["cpu_us_per_call"] for g, s in paired),
                max(g["cpu_us_per_call"] / s["cpu_us_per_call"] for g, s in paired),
            ]
            fan_summary[f"plus_us_{other}"] = _median([
                g["cpu_us_per_call"] - s["cpu_us_per_call"] for g, s in paired
            ])
            mine_py = fan_summary[mine]["py_calls_per_call"]
            other_py = fan_summary[other]["py_calls_per_call"]
            if mine_py and other_py:
                fan_summary[f"py_x_{other}"] = mine_py / other_py
    return {
        "settings": {k: getattr(args, k) for k in (
            "servers", "delay_step", "open_rounds", "fanout_servers", "fanout_calls",
            "concurrency", "per_server", "warmup", "rounds")},
        "cpu_count": os.cpu_count(),
        "open": open_summary,
        "fanout": fan_summary,
        "raw": {"open": opens, "fanout": fanout},
    }


def add_arguments(parser: argparse.ArgumentParser, *, prefix: str = "") -> None:
    """The size options (``prefix``: ``group-`` when embedded in ``benchmarks.run``)."""
    p = f"--{prefix}"
    parser.add_argument(f"{p}servers", type=int, help="servers in the opened group (10 / 4)")
    parser.add_argument(f"{p}delay-step", type=float, default=0.05,
                        help="staggered variant: server i waits (i+1) x this many seconds")
    parser.add_argument(f"{p}open-rounds", type=int, help="open samples per variant (5 / 1)")
    parser.add_argument(f"{p}fanout-servers", type=int, default=4)
    parser.add_argument(f"{p}fanout-calls", type=int, help="fan-out calls (10000 / 400)")
    parser.add_argument(f"{p}concurrency", type=int, default=64)
    parser.add_argument(f"{p}per-server", type=int, default=16)
    parser.add_argument(f"{p}warmup", type=int, help="untimed calls first (1000 / 100)")
    parser.add_argument(f"{p}rounds", type=int, help="fan-out rounds (5 / 1)")


def apply_defaults(
    args: argparse.Namespace, quick: bool, *, prefix: str = ""
) -> argparse.Namespace:
    """A namespace with the plain size names, full or quick defaults filled in."""
    names = ("servers", "delay_step", "open_rounds", "fanout_servers", "fanout_calls",
             "concurrency", "per_server", "warmup", "rounds")
    sizes = argparse.Namespace(**{name: getattr(args, prefix + name) for name in names})
    for name, full, small in (("servers", 10, 4), ("open_rounds", 5, 1),
                              ("fanout_calls", 10_000, 400), ("warmup", 1000, 100),
                              ("rounds", 5, 1)):
        if getattr(sizes, name) is None:
            setattr(sizes, name, small if quick else full)
    return sizes


def main(argv: list[str] | None = None) -> dict[str, Any] | None:
    """Command-line entry point: the driver, or one ``--measure`` sample."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke-sized run")
    parser.add_argument("--measure",
                        choices=("open", "fanout-group", "fanout-by-hand", "fanout-single",
                                 "memory-group", "memory-single"),
                        help="(internal) take one sample in this process")
    parser.add_argument("--variant", choices=("plain", "staggered"), default="plain")
    parser.add_argument("--profile", action="store_true",
                        help="(internal) count Python calls in the timed part (cProfile)")
    parser.add_argument("--json", help="also write the figures here")
    add_arguments(parser)
    args = parser.parse_args(argv)
    global _PROFILE
    _PROFILE = args.profile
    sizes = apply_defaults(args, args.quick)
    if args.measure is not None:
        if args.measure == "open":
            coro: Awaitable[dict[str, Any]] = measure_open(
                args.variant, sizes.servers, sizes.delay_step)
        elif args.measure == "fanout-group":
            coro = measure_fanout_group(sizes.fanout_servers, sizes.fanout_calls,
                                        sizes.concurrency, sizes.per_server, sizes.warmup)
        elif args.measure.startswith("memory-"):
            coro = measure_memory(args.measure.removeprefix("memory-"), sizes.fanout_servers,
                                  sizes.fanout_calls, sizes.concurrency, sizes.per_server,
                                  sizes.warmup)
        elif args.measure == "fanout-by-hand":
            coro = measure_fanout_by_hand(sizes.fanout_servers, sizes.fanout_calls,
                                          sizes.per_server, sizes.warmup)
        else:
            coro = measure_fanout_single(sizes.fanout_calls, sizes.concurrency, sizes.warmup)
        print(json.dumps(asyncio.run(coro)), flush=True)  # type: ignore[arg-type]
        return None
    figures = run(sizes)
    from .report import group_section

    print("\n".join(group_section(figures)))
    if args.json:
        with open(args.json, "w") as out:
            json.dump(figures, out, indent=1)
    return figures


if __name__ == "__main__":
    main()
