"""One measured client process: connect, warm up, time N calls at concurrency C, report.

    python -m benchmarks.worker --client mcp_async --url URL --calls 2000 --concurrency 16

Prints one JSON object on stdout:

* ``connect_ms`` - wall time to build the client, connect and finish the handshake;
* ``wall_s`` / ``calls_per_s`` - the timed part only (after the warm-up);
* ``cpu_us_per_call`` - this process's user+sys CPU (``getrusage``) over the timed part
  divided by the calls; the server runs in another process, so only the client counts;
* ``connections`` / ``conn_per_call`` - TCP connections opened during the timed part,
  counted by wrapping the event loop's ``create_connection`` (which aiohttp, httpx2's
  anyio backend and the floor all use to open sockets);
* ``peak_rss_mb`` - ``ru_maxrss`` of this process at the end (imports included).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import time
from collections.abc import Awaitable, Callable
from typing import Any

from .protocol_data import EXPECTED_TEXT

_connections = 0


def count_connections() -> None:
    """Wrap ``BaseEventLoop.create_connection`` so every new TCP connection is counted."""
    original = asyncio.base_events.BaseEventLoop.create_connection

    async def counting(self: Any, *args: Any, **kwargs: Any) -> Any:
        global _connections
        _connections += 1
        return await original(self, *args, **kwargs)

    asyncio.base_events.BaseEventLoop.create_connection = counting  # type: ignore[method-assign]


def connections() -> int:
    """TCP connections opened so far in this process."""
    return _connections


def cpu_seconds() -> float:
    """User + system CPU time of this process."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def run_calls(call: Callable[[], Awaitable[Any]], calls: int, concurrency: int) -> None:
    """Make ``calls`` calls with ``concurrency`` lanes pulling from one shared counter."""
    remaining = iter(range(calls))

    async def lane() -> None:
        for _ in remaining:
            await call()

    await asyncio.gather(*(lane() for _ in range(max(1, min(concurrency, calls)))))


async def measure(
    client: str, url: str, calls: int, concurrency: int, warmup: int
) -> dict[str, Any]:
    """Run the whole measurement for one client in this process."""
    from .clients import load

    adapter_class = load(client)
    started = time.perf_counter()
    adapter = adapter_class(url)
    await adapter.start()
    connect_ms = (time.perf_counter() - started) * 1000
    try:
        text = await adapter.call()
        if text != EXPECTED_TEXT:
            raise RuntimeError(f"{client}: unexpected tool result {text!r}")
        # Enough warm-up calls for every lane to have opened its connection.
        await run_calls(adapter.call, max(warmup, 4 * concurrency), concurrency)
        conn0, cpu0, wall0 = connections(), cpu_seconds(), time.perf_counter()
        await run_calls(adapter.call, calls, concurrency)
        wall = time.perf_counter() - wall0
        cpu = cpu_seconds() - cpu0
        new_connections = connections() - conn0
    finally:
        await adapter.stop()
    return {
        "client": client,
        "url": url,
        "calls": calls,
        "concurrency": concurrency,
        "connect_ms": connect_ms,
        "wall_s": wall,
        "calls_per_s": calls / wall,
        "cpu_us_per_call": cpu / calls * 1e6,
        "connections": new_connections,
        "conn_per_call": new_connections / calls,
        "peak_rss_mb": peak_rss_mb(),
    }


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description="measure one client in this process")
    parser.add_argument("--client", required=True)
    parser.add_argument("--url", required=True)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--warmup", type=int, default=200)
    args = parser.parse_args(argv)
    count_connections()
    result = asyncio.run(measure(args.client, args.url, args.calls, args.concurrency, args.warmup))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
