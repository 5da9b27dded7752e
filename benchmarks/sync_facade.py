"""CPU per call of the blocking facade (``mcp_async.sync.MCPClient``) against the async client.

    .venv/bin/python -m benchmarks.sync_facade            # 5 rounds of 3,000 calls each
    .venv/bin/python -m benchmarks.sync_facade --quick    # smoke-sized

Both clients make the same sequential ``tools/call echo`` calls against the minimal
server (``benchmarks/minimal_server.py``, a child process, JSON replies), one call at a
time, after a warm-up. CPU is this process's user + system time (``getrusage``), which
counts every thread, so the facade's loop thread is included. All clients are open side
by side and chunks of 250 calls rotate between them, so all see the same machine load;
the table gives the median per-call CPU of each over the rounds and the median of the
paired differences (the facade's overhead per call; target: < 100 µs).

Two more rows measure what any blocking client built on an event loop in a background
thread pays on this machine, whatever its code: the raw floor (``benchmarks/clients/
floor.py``, MCP 2026-07-28 like the clients above) awaited in the main thread, and the
same floor coroutine handed to a loop thread with the least code that can do it (one
``call_soon_threadsafe`` that starts a task, a lock as the latch). Their difference is
the price of the thread hand-offs alone. The last row is the facade with no I/O: handing
a no-op coroutine to the loop thread and waiting for it, less awaiting it directly.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from mcp_async import AsyncMCPClient
from mcp_async.client.blocking import MCPClient
from mcp_async.client.loop_thread import new_loop

from . import sequential
from .clients.floor import ModernAdapter
from .protocol_data import EXPECTED_TEXT, TOOL_ARGUMENTS, TOOL_NAME
from .servers import start_minimal
from .worker import cpu_seconds

_T = TypeVar("_T")


def _sync_chunk(client: MCPClient, calls: int) -> tuple[float, float]:
    cpu, wall = cpu_seconds(), time.perf_counter()
    for _ in range(calls):
        result = client.call_tool(TOOL_NAME, TOOL_ARGUMENTS)
    cpu, wall = cpu_seconds() - cpu, time.perf_counter() - wall
    assert result.text == EXPECTED_TEXT
    return cpu, wall


async def _noop() -> None:
    return None


async def _await_noops(calls: int) -> float:
    cpu = cpu_seconds()
    for _ in range(calls):
        await _noop()
    return cpu_seconds() - cpu


def _handoff_us(client: MCPClient, calls: int) -> float:
    """CPU µs of the facade alone: handing a no-op coroutine to the loop thread and
    waiting for it, minus awaiting the same coroutine in a loop."""
    cpu = cpu_seconds()
    for _ in range(calls):
        client.run(_noop(), what="noop")
    sync = cpu_seconds() - cpu
    awaited = asyncio.run(_await_noops(calls))
    return (sync - awaited) / calls * 1e6


class _FloorThread:
    """The least a blocking wrapper can do: a loop in a thread, a task per call, a lock
    as the latch. (The loop is the facade's, which reads 64 KiB at a time: the two
    differ only in what runs on it.)"""

    def __init__(self) -> None:
        self.loop = new_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def call(self, coro: Coroutine[Any, Any, _T]) -> _T:
        latch = threading.Lock()
        latch.acquire()
        task: list[asyncio.Task[_T]] = []

        def start() -> None:
            task.append(self.loop.create_task(coro))
            task[0].add_done_callback(lambda _: latch.release())

        self.loop.call_soon_threadsafe(start)
        latch.acquire()
        return task[0].result()

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        self.loop.close()


def _floor_chunk(call: Callable[[], str], calls: int) -> tuple[float, float]:
    cpu, wall = cpu_seconds(), time.perf_counter()
    for _ in range(calls):
        text = call()
    cpu, wall = cpu_seconds() - cpu, time.perf_counter() - wall
    assert text == EXPECTED_TEXT
    return cpu, wall


CLIENT_ROWS = (
    ("async", "AsyncMCPClient (awaited)"),
    ("sync", "sync.MCPClient (blocking)"),
    ("floor", "raw floor (awaited)"),
    ("floor_thread", "raw floor handed to a loop thread"),
)


def run(
    rounds: int, calls: int, warmup: int, chunk: int = 250, handoffs: int = 5000
) -> dict[str, Any]:
    """All clients open side by side; chunks of ``chunk`` calls rotate between them
    (so all see the same machine load), ``rounds`` times ``calls`` calls each; the
    facade alone is the median of three samples of ``handoffs`` no-op hand-offs."""
    server = start_minimal()
    loop = asyncio.new_event_loop()
    floor_thread = _FloorThread()
    try:
        url = server.base_url + "/json/mcp"
        aclient = AsyncMCPClient(url, transport="streamable-http")
        floor, threaded = ModernAdapter(url), ModernAdapter(url)
        loop.run_until_complete(aclient.open())
        loop.run_until_complete(floor.start())
        floor_thread.call(threaded.start())
        try:
            with MCPClient(url, transport="streamable-http") as client:
                chunks: dict[str, Callable[[int], tuple[float, float]]] = {
                    "async": lambda n: loop.run_until_complete(
                        sequential.timed_calls(aclient, n)),
                    "sync": lambda n: _sync_chunk(client, n),
                    "floor": lambda n: _floor_chunk(
                        lambda: loop.run_until_complete(floor.call()), n),
                    "floor_thread": lambda n: _floor_chunk(
                        lambda: floor_thread.call(threaded.call()), n),
                }
                for measure in chunks.values():
                    measure(warmup)
                names = list(chunks)
                samples: dict[str, list[dict[str, float]]] = {name: [] for name in names}
                for _ in range(rounds):
                    totals = {name: [0.0, 0.0] for name in names}
                    for index in range(max(1, calls // chunk)):
                        shift = index % len(names)
                        for name in names[shift:] + names[:shift]:
                            cpu, wall = chunks[name](chunk)
                            totals[name][0] += cpu
                            totals[name][1] += wall
                    done = max(1, calls // chunk) * chunk
                    for name, (cpu, wall) in totals.items():
                        samples[name].append({
                            "cpu_us_per_call": cpu / done * 1e6,
                            "wall_us_per_call": wall / done * 1e6,
                        })
                handoff = statistics.median(_handoff_us(client, handoffs) for _ in range(3))
        finally:
            floor_thread.call(threaded.stop())
            loop.run_until_complete(floor.stop())
            loop.run_until_complete(aclient.aclose())
    finally:
        floor_thread.stop()
        loop.close()
        server.stop()
    out: dict[str, Any] = {"rounds": rounds, "calls": calls, "handoff_cpu_us": handoff}
    for name, rows in samples.items():
        out[name] = {
            key: statistics.median(row[key] for row in rows)
            for key in ("cpu_us_per_call", "wall_us_per_call")
        }

    def paired(slow: str, fast: str, key: str) -> float:
        return statistics.median(
            s[f"{key}_us_per_call"] - f[f"{key}_us_per_call"]
            for f, s in zip(samples[fast], samples[slow], strict=True)
        )

    for key in ("cpu", "wall"):
        out[f"overhead_{key}_us_per_call"] = paired("sync", "async", key)
        out[f"floor_overhead_{key}_us_per_call"] = paired("floor_thread", "floor", key)
    return out


def report(figures: dict[str, Any]) -> str:
    """The figures as a Markdown table."""
    lines = [
        f"### sync facade ({figures['rounds']} rounds x {figures['calls']} sequential "
        "`tools/call`, minimal server, JSON replies)",
        "",
        "| client | CPU µs/call | wall µs/call |",
        "|---|---:|---:|",
    ]
    for name, label in CLIENT_ROWS:
        row = figures[name]
        lines.append(
            f"| {label} | {row['cpu_us_per_call']:.1f} | {row['wall_us_per_call']:.1f} |"
        )
    for prefix, label in (("", "sync.MCPClient over AsyncMCPClient (paired median)"),
                          ("floor_", "floor in a loop thread over the floor (paired median)")):
        lines.append(
            f"| {label} | {figures[f'{prefix}overhead_cpu_us_per_call']:+.1f} | "
            f"{figures[f'{prefix}overhead_wall_us_per_call']:+.1f} |"
        )
    lines.append(
        f"| facade alone (no-op coroutine, no I/O) | {figures['handoff_cpu_us']:+.1f} | |"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """The command line (see the module docstring)."""
    return sequential.main(__doc__, run, report, 200, argv)


if __name__ == "__main__":
    sys.exit(main())
