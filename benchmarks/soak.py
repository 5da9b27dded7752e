"""Soak test: a steady mixed load against servers that restart, drop connections and stall.

    .venv/bin/python -m benchmarks.soak                      # three minutes, every transport
    .venv/bin/python -m benchmarks.soak --duration 600 --json benchmarks/results/soak.json
    .venv/bin/python -m benchmarks.soak --duration 10 --transports stdio

For each transport (Streamable HTTP with SSE replies, legacy HTTP+SSE, stdio) one shared
:class:`~mcp_async.AsyncMCPClient` carries, for ``--duration`` seconds and all at once:

* single calls of a non-idempotent tool, some slow, some with a timeout shorter than
  the server's delay;
* fan-outs through ``call_tools`` and ``stream_calls``;
* listens (``client.listen(tools=True)`` while a tool sends ``tools/list_changed``);
* cancellations (a call's task cancelled while it waits);
* churn: a second, short-lived client opened, loaded and closed with calls in flight.

The server is :class:`mcp_async.testing.MCPTestServer` in a child process
(``python -m benchmarks.soak --serve <transport>``). It crashes on purpose (``os._exit``)
after a random lifetime; an HTTP server is started again on the same port by this
driver, a stdio server by the client (``restart=True``). Its fault plan delays some
calls and, over HTTP, drops connections, answers 429 and 503, and breaks SSE replies
after the tool ran.

Every ``work`` call carries a unique key, and the server appends each key it executes to
a log shared by all its incarnations, so a call sent twice and executed twice (a
duplicated non-idempotent execution) is counted by the server side. The report gives, per
transport: calls completed, typed failures (``mcp_async`` errors) by kind, untyped
failures (anything else, including an ``asyncio.CancelledError`` in a task nobody
cancelled), duplicated executions, and the driver's RSS and open file descriptors at the
start (after a warm-up) and the end, with samples in between. The bar is nothing
untyped, nothing duplicated, flat memory and descriptors; ``--strict`` exits 1 if it is
not met. See docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import logging
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

REPO_ROOT = Path(__file__).resolve().parent.parent
TRANSPORTS = ("http", "sse", "stdio")
#: Seconds a call may take (the servers' slowest normal answer is well under it).
CALL_TIMEOUT = 5.0
#: Seconds of load before the "start" figures are taken (pools, imports, caches and the
#: allocator's arenas fill up: RSS climbs for about the first minute, then levels off).
WARMUP = 60.0
#: Seconds between RSS/descriptor samples.
SAMPLE_EVERY = 5.0
#: Delay of the calls that are meant to time out (above ``SHORT_TIMEOUT``).
STALL = 1.5
SHORT_TIMEOUT = 0.4


# ----------------------------------------------------------------------------------------
# The server side
# ----------------------------------------------------------------------------------------


def _build_server(transport: str, log_path: str, seed: int, port: int) -> Any:
    """The soak server: ``work`` logs its key, ``touch`` announces a tools change."""
    from mcp_async.testing import Fault, MCPTestServer, ToolContext

    if transport == "sse":
        server = MCPTestServer(transport="sse", port=port)
    elif transport == "http":
        server = MCPTestServer(reply="sse", get_stream=True, port=port)
    else:
        server = MCPTestServer()
    log_fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    async def work(key: str, delay: float = 0.0) -> dict[str, Any]:
        """Record one execution of ``key`` (one write, O_APPEND), then wait ``delay`` s."""
        os.write(log_fd, f"{key}\n".encode())
        if delay:
            await asyncio.sleep(delay)
        return {"key": key}

    async def touch(ctx: ToolContext) -> dict[str, Any]:
        """Tell the client the tool list changed."""
        await ctx.notify("notifications/tools/list_changed")
        return {"ok": True}

    server.tool(work)
    server.tool(touch)
    seeds = random.Random(seed)

    def match(probability: float, **extra: Any) -> dict[str, Any]:
        return {"probability": probability, "seed": seeds.randrange(1 << 30), **extra}

    calls = {"method": "tools/call"}
    faults = [Fault.slow(1.0, **match(0.03, **calls)),
              Fault.slow(STALL * 4, **match(0.003, **calls))]
    if transport != "stdio":
        faults += [
            Fault.disconnect(**match(0.01, **calls)),
            Fault.rate_limited(0.05, **match(0.01, **calls)),
            Fault.error(503, retry_after=0.05, **match(0.005, **calls)),
        ]
    if transport == "http":
        # The tool runs, then the reply stream breaks before its response.
        faults.append(Fault.break_stream(0, **match(0.01, name="work")))
    for fault in faults:
        server.faults.add(fault)
    return server


async def _serve(transport: str, log_path: str, seed: int, port: int,
                 lifetime: tuple[float, float]) -> None:
    logging.disable(logging.CRITICAL)  # a crashing server's complaints are expected
    server = _build_server(transport, log_path, seed, port)
    life = random.Random(seed).uniform(*lifetime)
    # A crash, not a shutdown: nothing is flushed or answered.
    asyncio.get_running_loop().call_later(life, os._exit, 1)
    if transport == "stdio":
        await server.serve_stdio()
        return
    url = await server.start()
    print(f"READY {url}", flush=True)
    await asyncio.Event().wait()


# ----------------------------------------------------------------------------------------
# The driver side
# ----------------------------------------------------------------------------------------


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@dataclass
class Tally:
    """What one transport's load saw."""

    completed: int = 0
    typed: Counter[str] = field(default_factory=Counter)
    untyped: Counter[str] = field(default_factory=Counter)
    untyped_examples: list[str] = field(default_factory=list)
    typed_examples: dict[str, str] = field(default_factory=dict)
    cancelled_by_us: int = 0
    listens: int = 0
    listen_events: int = 0
    churned_clients: int = 0
    keys_sent: int = 0
    hung_workers: int = 0

    def failure(self, exc: BaseException) -> None:
        """Classify one failure."""
        from mcp_async import MCPClientError

        name = type(exc).__name__
        if isinstance(exc, MCPClientError):
            self.typed[name] += 1
            self.typed_examples.setdefault(name, str(exc)[:300])
            return
        self.untyped[name] += 1
        if len(self.untyped_examples) < 10:
            self.untyped_examples.append(
                "".join(traceback.format_exception(exc, limit=-6)).strip()[-1500:]
            )

    def report(self) -> dict[str, Any]:
        """As JSON."""
        return {
            "completed": self.completed, "typed_failures": dict(self.typed.most_common()),
            "untyped_failures": dict(self.untyped.most_common()),
            "typed_examples": self.typed_examples,
            "untyped_examples": self.untyped_examples, "cancelled_by_us": self.cancelled_by_us,
            "listens": self.listens, "listen_events": self.listen_events,
            "churned_clients": self.churned_clients, "keys_sent": self.keys_sent,
            "hung_workers": self.hung_workers,
        }


class HTTPServerKeeper:
    """Runs an HTTP soak server in a child process and starts it again when it dies."""

    def __init__(self, transport: str, log_path: str, seed: int,
                 lifetime: tuple[float, float]) -> None:
        self.transport = transport
        self.log_path = log_path
        self.seed = seed
        self.lifetime = lifetime
        self.port = 0
        self.url = ""
        self.restarts = 0
        self.process: asyncio.subprocess.Process | None = None
        self._task: asyncio.Task[None] | None = None

    async def _spawn(self) -> None:
        self.seed += 1
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "benchmarks.soak", "--serve", self.transport,
            "--log", self.log_path, "--seed", str(self.seed), "--port", str(self.port),
            "--lifetime", f"{self.lifetime[0]},{self.lifetime[1]}",
            cwd=REPO_ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        )
        assert process.stdout is not None
        try:
            line = await asyncio.wait_for(process.stdout.readline(), 30)
        except TimeoutError:
            line = b""
        if not line.startswith(b"READY "):
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
            raise RuntimeError(f"{self.transport} soak server did not start: {line!r}")
        self.url = line.split()[1].decode()
        self.port = int(self.url.split(":")[2].split("/")[0])
        self.process = process

    async def start(self) -> str:
        """Start the server and the watcher; returns its URL."""
        await self._spawn()
        self._task = asyncio.create_task(self._watch())
        return self.url

    async def _watch(self) -> None:
        while True:
            assert self.process is not None
            await self.process.wait()
            await asyncio.sleep(0.3)  # clients meet a refused connection for a moment
            for _ in range(50):
                try:
                    await self._spawn()
                    break
                except RuntimeError:  # the port may linger for a moment
                    await asyncio.sleep(0.2)
            else:
                raise RuntimeError(f"{self.transport} soak server could not be restarted")
            self.restarts += 1

    async def stop(self) -> None:
        """Stop the watcher and the server."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()


class Load:
    """The mixed load on one transport."""

    def __init__(self, transport: str, make_client: Callable[[], Any], seed: int,
                 stop: asyncio.Event, fanout: int) -> None:
        self.transport = transport
        self.make_client = make_client
        self.rng = random.Random(seed)
        self.stop = stop
        self.fanout = fanout
        self.tally = Tally()
        self._keys = 0

    def key(self) -> str:
        """A unique key for one ``work`` execution."""
        self._keys += 1
        self.tally.keys_sent += 1
        return f"{self.transport}-{self._keys}"

    async def guarded(self, operation: Awaitable[Any], *, count: int = 1) -> Any:
        """Await ``operation``; count success or classify the failure."""
        try:
            result = await operation
        except asyncio.CancelledError as exc:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise  # our own cancellation (the worker stopping)
            self.tally.failure(exc)  # a CancelledError nobody asked for
            return None
        except Exception as exc:
            self.tally.failure(exc)
            return None
        self.tally.completed += count
        return result

    def _delay(self) -> float:
        return 0.0 if self.rng.random() < 0.7 else self.rng.uniform(0.01, 0.2)

    async def caller(self, client: Any) -> None:
        """Single calls; one in ten with a timeout shorter than the tool's delay."""
        while not self.stop.is_set():
            if self.rng.random() < 0.1:
                await self.guarded(client.call_tool(
                    "work", {"key": self.key(), "delay": STALL}, timeout=SHORT_TIMEOUT))
            else:
                await self.guarded(client.call_tool(
                    "work", {"key": self.key(), "delay": self._delay()}))

    def _outcomes(self, outcomes: Any) -> None:
        for outcome in outcomes:
            if outcome.ok:
                self.tally.completed += 1
            elif outcome.error is not None:
                self.tally.failure(outcome.error)

    async def fanner(self, client: Any) -> None:
        """``call_tools`` and ``stream_calls`` in turn."""
        turn = 0
        while not self.stop.is_set():
            turn += 1
            calls = [("work", {"key": self.key(), "delay": self._delay()})
                     for _ in range(self.fanout)]
            try:
                if turn % 2:
                    batch = await client.call_tools(calls, concurrency=8)
                    self._outcomes(batch.outcomes)
                else:
                    async with client.stream_calls(calls, concurrency=8) as stream:
                        self._outcomes([outcome async for _, outcome in stream])
            except asyncio.CancelledError as exc:
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    raise
                self.tally.failure(exc)
            except Exception as exc:
                self.tally.failure(exc)

    async def listener(self, client: Any) -> None:
        """Listen for tool changes while a tool announces one."""
        from mcp_async.features.listen import ToolsListChanged

        async def one() -> None:
            async with client.listen(tools=True) as events:
                self.tally.listens += 1
                await client.call_tool("touch", {})
                async with asyncio.timeout(3):
                    async for event in events:
                        if isinstance(event, ToolsListChanged):
                            self.tally.listen_events += 1
                            return

        while not self.stop.is_set():
            # A late event is not a failure of the client: the stream may have dropped.
            with contextlib.suppress(TimeoutError):
                await self.guarded(one())
            await asyncio.sleep(self.rng.uniform(0.1, 0.5))

    async def canceller(self, client: Any) -> None:
        """Calls whose task is cancelled while they wait."""
        while not self.stop.is_set():
            task = asyncio.create_task(self.guarded(client.call_tool(
                "work", {"key": self.key(), "delay": 1.0})))
            await asyncio.sleep(self.rng.uniform(0.0, 0.5))
            if task.cancel():
                self.tally.cancelled_by_us += 1
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def churner(self) -> None:
        """Open a client, load it, close it with calls in flight."""
        while not self.stop.is_set():
            client = self.make_client()
            tasks: list[asyncio.Task[Any]] = []
            try:
                await self.guarded(client.open(), count=0)
                tasks = [asyncio.create_task(self.guarded(client.call_tool(
                    "work", {"key": self.key(), "delay": self.rng.uniform(0, 0.5)})))
                    for _ in range(self.rng.randrange(1, 30))]
                await asyncio.sleep(self.rng.uniform(0.05, 0.4))
            finally:
                await self.guarded(client.aclose(), count=0)
            await asyncio.gather(*tasks)
            self.tally.churned_clients += 1
            await asyncio.sleep(self.rng.uniform(0.5, 2.0))

    async def run(self, callers: int) -> None:
        """Run every kind of load until ``stop`` is set, then close the shared client."""
        client = self.make_client()
        await client.open()
        workers = [self.caller(client) for _ in range(callers)]
        workers += [self.fanner(client), self.listener(client), self.canceller(client),
                    self.churner()]
        tasks = [asyncio.create_task(worker) for worker in workers]
        try:
            await self.stop.wait()
            # Let the workers end their current operation (all are bounded by timeouts).
            # A worker still busy then is stuck: a hang, reported.
            _, pending = await asyncio.wait(tasks, timeout=4 * CALL_TIMEOUT)
            self.tally.hung_workers = len(pending)
            for task in pending:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        finally:
            await self.guarded(client.aclose(), count=0)


class LogCounter(logging.Handler):
    """Counts the client's log records of WARNING and above, by logger and first words."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.counts: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        words = " ".join(record.getMessage().split()[:5])
        self.counts[f"{record.levelname} {record.name}: {words}"] += 1


def _duplicates(log_path: str) -> tuple[int, int, list[str]]:
    with open(log_path) as log:
        seen = Counter(line.strip() for line in log if line.strip())
    doubled = [key for key, count in seen.items() if count > 1]
    return len(seen), len(doubled), doubled[:20]


def _client_factory(transport: str, url: str, log_path: str, seed: int,
                    lifetime: tuple[float, float]) -> Callable[[], Any]:
    from mcp_async import AsyncMCPClient, RetryPolicy

    retry = RetryPolicy(attempts=4, backoff=0.05, max_backoff=0.5, deadline=CALL_TIMEOUT)
    seeds = iter(range(seed * 1000, 1 << 31))
    if transport == "stdio":
        def stdio() -> Any:
            args = ["-m", "benchmarks.soak", "--serve", "stdio", "--log", log_path,
                    "--seed", str(next(seeds)), "--lifetime", f"{lifetime[0]},{lifetime[1]}"]
            return AsyncMCPClient.stdio(sys.executable, args, cwd=REPO_ROOT, restart=True,
                                        retry=retry, timeout=CALL_TIMEOUT, inherit_env=True,
                                        stderr=lambda line: None)
        return stdio
    kind: Literal["sse", "streamable-http"] = "sse" if transport == "sse" else "streamable-http"

    def http() -> Any:
        return AsyncMCPClient(url, transport=kind, retry=retry, timeout=CALL_TIMEOUT)
    return http


async def soak(args: argparse.Namespace) -> dict[str, Any]:
    """Run the soak and return its report."""
    lifetime = (args.lifetime[0], args.lifetime[1])
    stop = asyncio.Event()
    workdir = tempfile.mkdtemp(prefix="mcp-soak-")
    keepers: dict[str, HTTPServerKeeper] = {}
    loads: dict[str, Load] = {}
    logs: dict[str, str] = {}
    for index, transport in enumerate(args.transports):
        logs[transport] = os.path.join(workdir, f"{transport}.log")
        os.close(os.open(logs[transport], os.O_CREAT | os.O_WRONLY, 0o644))
        url = ""
        if transport != "stdio":
            keepers[transport] = HTTPServerKeeper(transport, logs[transport],
                                                  args.seed * 100 + index * 10_000, lifetime)
            url = await keepers[transport].start()
        factory = _client_factory(transport, url, logs[transport], args.seed + index, lifetime)
        loads[transport] = Load(transport, factory, args.seed + index, stop, args.fanout)
    samples: list[dict[str, float]] = []
    began = time.monotonic()
    before_start = {"rss_mb": round(_rss_mb(), 1), "fds": _open_fds()}

    async def sampler() -> None:
        while True:
            samples.append({"t": round(time.monotonic() - began, 1),
                            "rss_mb": round(_rss_mb(), 1), "fds": _open_fds()})
            await asyncio.sleep(SAMPLE_EVERY)

    sampling = asyncio.create_task(sampler())
    runs = [asyncio.create_task(load.run(args.callers)) for load in loads.values()]
    try:
        await asyncio.sleep(min(WARMUP, args.duration / 3))
        gc.collect()
        start = {"rss_mb": round(_rss_mb(), 1), "fds": _open_fds()}
        await asyncio.sleep(max(args.duration - (time.monotonic() - began), 0))
        gc.collect()
        end_loaded = {"rss_mb": round(_rss_mb(), 1), "fds": _open_fds()}
        stop.set()
        await asyncio.gather(*runs)
    finally:
        stop.set()
        sampling.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sampling
        for keeper in keepers.values():
            await keeper.stop()
    wall = time.monotonic() - began
    gc.collect()
    await asyncio.sleep(0.5)  # closed transports finish on the next loop passes
    closed = {"rss_mb": round(_rss_mb(), 1), "fds": _open_fds()}
    per_transport: dict[str, Any] = {}
    for transport, load in loads.items():
        executed, doubled, examples = _duplicates(logs[transport])
        figures = load.tally.report()
        figures.update(executed_keys=executed, duplicated_executions=doubled,
                       duplicated_examples=examples)
        if transport in keepers:
            figures["server_restarts"] = keepers[transport].restarts
        per_transport[transport] = figures
    for path in logs.values():
        os.unlink(path)
    os.rmdir(workdir)
    warmup = min(WARMUP, args.duration / 3)
    steady = [s for s in samples if s["t"] >= warmup]
    return {
        "benchmark": "soak", "duration_s": args.duration, "wall_s": round(wall, 1),
        "seed": args.seed, "callers": args.callers, "fanout": args.fanout,
        "server_lifetime_s": list(lifetime), "python": sys.version.split()[0],
        "date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "cpus": os.cpu_count(),
        "memory": {"warmup_s": warmup, "before_clients": before_start, "start": start,
                   "end_under_load": end_loaded,
                   "after_close": closed,
                   "steady_rss_range_mb": [min(s["rss_mb"] for s in steady),
                                           max(s["rss_mb"] for s in steady)] if steady else None,
                   "steady_fd_range": [min(s["fds"] for s in steady),
                                       max(s["fds"] for s in steady)] if steady else None,
                   "samples": samples},
        "transports": per_transport,
        "totals": {
            "completed": sum(f["completed"] for f in per_transport.values()),
            "typed_failures": sum(sum(f["typed_failures"].values())
                                  for f in per_transport.values()),
            "untyped_failures": sum(sum(f["untyped_failures"].values())
                                    for f in per_transport.values()),
            "duplicated_executions": sum(f["duplicated_executions"]
                                         for f in per_transport.values()),
        },
    }


def verdict(report: dict[str, Any], *, rss_slack_mb: float = 25.0,
            fd_slack: int = 16) -> list[str]:
    """What misses the bar (an empty list: nothing untyped, nothing duplicated, flat)."""
    problems = []
    totals = report["totals"]
    if totals["untyped_failures"]:
        problems.append(f"{totals['untyped_failures']} untyped failures")
    hung = sum(f["hung_workers"] for f in report["transports"].values())
    if hung:
        problems.append(f"{hung} workers stuck past the end")
    if totals["duplicated_executions"]:
        problems.append(f"{totals['duplicated_executions']} duplicated executions")
    memory = report["memory"]
    grown = memory["end_under_load"]["rss_mb"] - memory["start"]["rss_mb"]
    if grown > rss_slack_mb:
        problems.append(f"RSS grew {grown:.1f} MB under load")
    # Descriptors come and go with the churned clients (a stdio one holds pipes and a
    # child): compare the medians of the two halves of the steady run, not two instants.
    steady = [s["fds"] for s in memory["samples"] if s["t"] >= memory["warmup_s"]]
    half = len(steady) // 2
    if half:
        first, second = statistics.median(steady[:half]), statistics.median(steady[half:])
        if second > first + fd_slack:
            problems.append(f"open descriptors grew under load: median {first} in the first "
                            f"half, {second} in the second")
    if memory["after_close"]["fds"] > memory["before_clients"]["fds"] + 2:
        problems.append("descriptors left open after every client closed")
    return problems


def _summary(report: dict[str, Any]) -> str:
    lines = [f"soak: {report['duration_s']} s, wall {report['wall_s']} s"]
    for transport, figures in report["transports"].items():
        lines.append(
            f"  {transport:5} completed {figures['completed']:7}  typed "
            f"{dict(figures['typed_failures'])}  untyped {dict(figures['untyped_failures'])}  "
            f"duplicated {figures['duplicated_executions']}  restarts "
            f"{figures.get('server_restarts', '-')}  listens {figures['listens']}/"
            f"{figures['listen_events']} events  churned {figures['churned_clients']}"
        )
    memory = report["memory"]
    lines.append(f"  memory: {json.dumps({k: v for k, v in memory.items() if k != 'samples'})}")
    return "\n".join(lines)


def _pair(text: str) -> tuple[float, float]:
    low, _, high = text.partition(",")
    return float(low), float(high or low)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=180.0, help="seconds (default 180)")
    parser.add_argument("--transports", type=lambda t: [p for p in t.split(",") if p],
                        default=list(TRANSPORTS), help="http, sse, stdio (default all)")
    parser.add_argument("--callers", type=int, default=6,
                        help="single-call workers per transport (default 6)")
    parser.add_argument("--fanout", type=int, default=24, help="calls per fan-out (default 24)")
    parser.add_argument("--lifetime", type=_pair, default=(8.0, 20.0),
                        help="a server crashes after LOW,HIGH seconds (default 8,20)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, help="also write the report here")
    parser.add_argument("--strict", action="store_true", help="exit 1 if the bar is missed")
    parser.add_argument("--serve", choices=TRANSPORTS, help=argparse.SUPPRESS)
    parser.add_argument("--log", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    unknown = set(args.transports) - set(TRANSPORTS)
    if unknown:
        parser.error(f"unknown transports: {', '.join(sorted(unknown))}")
    return args


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    args = parse_args(argv)
    if args.serve:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        asyncio.run(_serve(args.serve, args.log, args.seed, args.port, args.lifetime))
        return 0
    counter = LogCounter()
    client_logger = logging.getLogger("mcp_async")
    client_logger.addHandler(counter)
    client_logger.propagate = False
    report = asyncio.run(soak(args))
    report["client_log"] = dict(counter.counts.most_common(30))
    problems = verdict(report)
    report["verdict"] = problems or ["met: nothing untyped, nothing duplicated, flat"]
    print(_summary(report))
    print("  verdict:", "; ".join(report["verdict"]))
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")
    return 1 if problems and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
