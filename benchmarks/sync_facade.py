"""CPU per call of the blocking facade (``mcp_async.sync.MCPClient``) against the async client.

    .venv/bin/python -m benchmarks.sync_facade            # 5 rounds of 3,000 calls each
    .venv/bin/python -m benchmarks.sync_facade --quick    # smoke-sized

Both clients make the same sequential ``tools/call echo`` calls against the minimal
server (``benchmarks/minimal_server.py``, a child process, JSON replies), one call at a
time, after a warm-up. CPU is this process's user + system time (``getrusage``), which
counts every thread, so the facade's loop thread is included. Both clients are open side
by side and chunks of 250 calls alternate between them, so both see the same machine
load; the table gives the median per-call CPU of each over the rounds and the median of
the paired differences (the facade's overhead per call; target: < 100 µs). The last row
is the facade alone: handing a no-op coroutine to the loop thread and waiting for it,
less awaiting it directly.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from typing import Any

from mcp_async import AsyncMCPClient
from mcp_async.sync import MCPClient

from . import sequential
from .protocol_data import EXPECTED_TEXT, TOOL_ARGUMENTS, TOOL_NAME
from .servers import start_minimal
from .worker import cpu_seconds


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
        client._run("noop", _noop())
    sync = cpu_seconds() - cpu
    awaited = asyncio.run(_await_noops(calls))
    return (sync - awaited) / calls * 1e6


def run(rounds: int, calls: int, warmup: int, chunk: int = 250) -> dict[str, Any]:
    """Both clients open side by side; chunks of ``chunk`` calls alternate between them
    (so both see the same machine load), ``rounds`` times ``calls`` calls each."""
    server = start_minimal()
    loop = asyncio.new_event_loop()
    try:
        url = server.base_url + "/json/mcp"
        aclient = AsyncMCPClient(url, transport="streamable-http")
        loop.run_until_complete(aclient.open())
        try:
            with MCPClient(url, transport="streamable-http") as client:
                loop.run_until_complete(sequential.timed_calls(aclient, warmup))
                _sync_chunk(client, warmup)
                samples: dict[str, list[dict[str, float]]] = {"async": [], "sync": []}
                for _ in range(rounds):
                    totals = {"async": [0.0, 0.0], "sync": [0.0, 0.0]}
                    for index in range(max(1, calls // chunk)):
                        order = ("async", "sync") if index % 2 == 0 else ("sync", "async")
                        for name in order:
                            cpu, wall = (
                                loop.run_until_complete(sequential.timed_calls(aclient, chunk))
                                if name == "async" else _sync_chunk(client, chunk)
                            )
                            totals[name][0] += cpu
                            totals[name][1] += wall
                    done = max(1, calls // chunk) * chunk
                    for name, (cpu, wall) in totals.items():
                        samples[name].append({
                            "cpu_us_per_call": cpu / done * 1e6,
                            "wall_us_per_call": wall / done * 1e6,
                        })
                handoff = statistics.median(_handoff_us(client, 5000) for _ in range(3))
        finally:
            loop.run_until_complete(aclient.aclose())
    finally:
        loop.close()
        server.stop()
    out: dict[str, Any] = {"rounds": rounds, "calls": calls, "handoff_cpu_us": handoff}
    for name, rows in samples.items():
        out[name] = {
            key: statistics.median(row[key] for row in rows)
            for key in ("cpu_us_per_call", "wall_us_per_call")
        }
    for key in ("cpu", "wall"):
        out[f"overhead_{key}_us_per_call"] = statistics.median(
            s[f"{key}_us_per_call"] - a[f"{key}_us_per_call"]
            for a, s in zip(samples["async"], samples["sync"], strict=True)
        )
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
    for name, label in (("async", "AsyncMCPClient"), ("sync", "sync.MCPClient")):
        row = figures[name]
        lines.append(
            f"| {label} | {row['cpu_us_per_call']:.1f} | {row['wall_us_per_call']:.1f} |"
        )
    lines.append(
        f"| overhead (paired median) | {figures['overhead_cpu_us_per_call']:+.1f} | "
        f"{figures['overhead_wall_us_per_call']:+.1f} |"
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
