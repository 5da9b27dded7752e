"""What the sequential-call benchmarks share (``sync_facade``, ``tracing_overhead``).

:func:`timed_calls` makes ``calls`` awaited ``tools/call echo`` calls and returns their
CPU and wall seconds; :func:`main` is the command line of a benchmark module: rounds,
calls, warm-up, ``--quick`` and ``--json``, then the module's Markdown table.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from typing import Any

from mcp_async import AsyncMCPClient

from .protocol_data import EXPECTED_TEXT, TOOL_ARGUMENTS, TOOL_NAME
from .worker import cpu_seconds


async def timed_calls(client: AsyncMCPClient, calls: int) -> tuple[float, float]:
    """CPU and wall seconds of ``calls`` sequential ``tools/call`` calls."""
    cpu, wall = cpu_seconds(), time.perf_counter()
    for _ in range(calls):
        result = await client.call_tool(TOOL_NAME, TOOL_ARGUMENTS)
    cpu, wall = cpu_seconds() - cpu, time.perf_counter() - wall
    assert result.text == EXPECTED_TEXT
    return cpu, wall


def main(
    doc: str,
    run: Callable[[int, int, int], dict[str, Any]],
    report: Callable[[dict[str, Any]], str],
    quick_calls: int,
    argv: list[str] | None,
) -> int:
    """Parse the options, run, print the table (and write the JSON if asked)."""
    parser = argparse.ArgumentParser(description=doc.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--quick", action="store_true",
                        help=f"2 rounds of {quick_calls} calls")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.calls, args.warmup = 2, quick_calls, 20
    figures = run(args.rounds, args.calls, args.warmup)
    print(report(figures))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(figures, f, indent=2)
    return 0
