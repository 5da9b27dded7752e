"""Where a client's CPU goes: cProfile of the timed calls, grouped by package.

    .venv/bin/python -m benchmarks.profile_client [--client mcp_async] [--reply json|sse]
        [--transport http|stdio|sse] [--calls 5000] [--concurrency 16] [--top 25]

Starts the minimal server (``--transport sse``: the legacy HTTP+SSE server; ``stdio``:
the client spawns ``benchmarks/stdio_server.py``) in its own process, then, in this
process, warms the client up and profiles ``--calls`` calls. Prints the own time (``tottime``) per
call summed by package (mcp_async, aiohttp, asyncio, json, ...) and the top
functions. Compare ``--client floor`` with ``--client mcp_async``: the difference
is what mcp_async adds beyond the floor (cProfile inflates every Python call, so
read it as shares, not as absolute microseconds).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import pstats
from collections import defaultdict

from . import servers
from .legacy_sse_server import SSE_PATH as LEGACY_SSE_PATH
from .minimal_server import SSE_PREFIX
from .worker import run_calls

_GROUPS = (
    ("/mcp_async/", "mcp_async"),
    ("/aiohttp/", "aiohttp"),
    ("/multidict/", "multidict/yarl"),
    ("/yarl/", "multidict/yarl"),
    ("/asyncio/", "asyncio"),
    ("/anyio/", "anyio"),
    ("/httpx2/", "httpx2/httpcore"),
    ("/httpcore", "httpx2/httpcore"),
    ("/pydantic", "pydantic"),
    ("/mcp/", "mcp"),
    ("/mcp_types/", "mcp"),
    ("/fastmcp/", "fastmcp"),
    ("/json/", "json"),
    ("/benchmarks/", "benchmarks driver"),
)


def _group(filename: str, function: str) -> str:
    for marker, name in _GROUPS:
        if marker in filename:
            return name
    return "C builtins" if filename == "~" else "other Python"


def by_group(stats: pstats.Stats, calls: int) -> list[tuple[str, float]]:
    """Own time in microseconds per call, summed by package, largest first."""
    totals: dict[str, float] = defaultdict(float)
    for (filename, _line, function), row in stats.stats.items():  # type: ignore[attr-defined]
        totals[_group(filename, function)] += row[2]
    return sorted(((name, t / calls * 1e6) for name, t in totals.items()), key=lambda x: -x[1])


async def profile(client: str, url: str, calls: int, concurrency: int,
                  transport: str = "http") -> cProfile.Profile:
    """Profile ``calls`` calls of ``client`` after a warm-up."""
    from .clients import load

    adapter = load(client, transport)(url)
    await adapter.start()
    profiler = cProfile.Profile()
    try:
        await run_calls(adapter.call, max(200, 4 * concurrency), concurrency)
        profiler.enable()
        await run_calls(adapter.call, calls, concurrency)
        profiler.disable()
    finally:
        await adapter.stop()
    return profiler


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description="profile one client's calls")
    parser.add_argument("--client", default="mcp_async")
    parser.add_argument("--reply", choices=("json", "sse"), default="json")
    parser.add_argument("--transport", choices=("http", "stdio", "sse"), default="http")
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--sort", default="tottime")
    args = parser.parse_args(argv)
    server = None
    if args.transport == "stdio":
        target = str(servers.STDIO_SCRIPT)
    elif args.transport == "sse":
        server = servers.start_legacy_sse()
        target = server.base_url + LEGACY_SSE_PATH
    else:
        server = servers.start_minimal()
        path = "/json/mcp" if args.reply == "json" else f"{SSE_PREFIX}/mcp"
        target = server.base_url + path
    try:
        profiler = asyncio.run(
            profile(args.client, target, args.calls, args.concurrency, args.transport)
        )
    finally:
        if server is not None:
            server.stop()
    stats = pstats.Stats(profiler)
    what = f"{args.reply} replies" if args.transport == "http" else f"{args.transport} transport"
    print(f"{args.client}, {what}, concurrency {args.concurrency}, "
          f"{args.calls} calls: own time per call by package (us, under cProfile)")
    total = 0.0
    for name, micros in by_group(stats, args.calls):
        total += micros
        print(f"  {name:24} {micros:8.1f}")
    print(f"  {'total':24} {total:8.1f}\n")
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(args.sort).print_stats(args.top)
    print(out.getvalue())


if __name__ == "__main__":
    main()
