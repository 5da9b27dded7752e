"""The fan-out measurement: 100,000 ``tools/call`` through mcp_async's streaming batch form.

    python -m benchmarks.fanout --url URL [--calls 100000] [--concurrency 256]

In one process: open an ``AsyncMCPClient``, make ``--baseline-calls`` ordinary
single calls at the same concurrency (this warms the pool and gives the
*single-call* peak RSS), then stream ``--calls`` calls and consume each result as it
arrives without keeping it (each is checked to be a success). Uses
``client.stream_calls`` when the client has it; otherwise (older trees) a bounded
pool of ``--concurrency`` worker tasks pulling from one shared iterator.
Prints one JSON object with wall time, calls/s, CPU us/call and both RSS figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterable
from typing import Any

from .protocol_data import EXPECTED_TEXT, TOOL_ARGUMENTS, TOOL_NAME
from .worker import connections, count_connections, cpu_seconds, peak_rss_mb, run_calls


async def _bounded_workers(
    client: Any, items: Iterable[Any], concurrency: int
) -> AsyncIterator[Any]:
    """Fallback streaming form: ``concurrency`` workers, results handed over through a queue."""
    queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=concurrency)
    shared = iter(items)
    done = object()

    async def work() -> None:
        for name, arguments in shared:
            await queue.put(await client.call_tool(name, arguments))
        await queue.put(done)

    tasks = [asyncio.ensure_future(work()) for _ in range(concurrency)]
    try:
        finished = 0
        while finished < concurrency:
            item = await queue.get()
            if item is done:
                finished += 1
            else:
                yield item
    finally:
        for task in tasks:
            task.cancel()


def _stream(client: Any, calls: int, concurrency: int) -> tuple[str, AsyncIterator[Any]]:
    items = ((TOOL_NAME, TOOL_ARGUMENTS) for _ in range(calls))
    stream_calls = getattr(client, "stream_calls", None)
    if stream_calls is None:
        return "bounded workers (fallback)", _bounded_workers(client, items, concurrency)
    return "client.stream_calls", stream_calls(items, concurrency=concurrency)


def _text(item: Any) -> str:
    """The text of a streamed item: a result, or ``stream_calls``'s ``(index, outcome)``."""
    if isinstance(item, tuple):
        item = item[1].unwrap()
    return item.content[0].text  # type: ignore[no-any-return]


async def measure(url: str, calls: int, concurrency: int, baseline_calls: int) -> dict[str, Any]:
    """Run the fan-out once and return its figures."""
    from mcp_async import AsyncMCPClient

    async with AsyncMCPClient(url, connection_limit=concurrency) as client:
        await client.initialize()

        async def one() -> None:
            await client.call_tool(TOOL_NAME, TOOL_ARGUMENTS)

        await run_calls(one, baseline_calls, concurrency)
        baseline_rss = peak_rss_mb()
        form, stream = _stream(client, calls, concurrency)
        received = 0
        conn0, cpu0, wall0 = connections(), cpu_seconds(), time.perf_counter()
        async for item in stream:
            received += 1
            if isinstance(item, tuple) and not item[1].ok:
                raise RuntimeError(f"call {item[0]} failed") from item[1].error
            if received == 1 and _text(item) != EXPECTED_TEXT:
                raise RuntimeError(f"unexpected first result {item!r}")
        wall = time.perf_counter() - wall0
        cpu = cpu_seconds() - cpu0
        new_connections = connections() - conn0
    if received != calls:
        raise RuntimeError(f"streamed {received} results for {calls} calls")
    peak = peak_rss_mb()
    return {
        "form": form,
        "calls": calls,
        "concurrency": concurrency,
        "wall_s": wall,
        "calls_per_s": calls / wall,
        "cpu_us_per_call": cpu / calls * 1e6,
        "conn_per_call": new_connections / calls,
        "baseline_calls": baseline_calls,
        "single_call_rss_mb": baseline_rss,
        "peak_rss_mb": peak,
        "rss_ratio": peak / baseline_rss,
    }


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description="streaming fan-out through mcp_async")
    parser.add_argument("--url", required=True)
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--concurrency", type=int, default=256)
    parser.add_argument("--baseline-calls", type=int, default=2000)
    args = parser.parse_args(argv)
    count_connections()
    result = asyncio.run(measure(args.url, args.calls, args.concurrency, args.baseline_calls))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
