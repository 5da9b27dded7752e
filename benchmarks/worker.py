"""One measured client process: connect, warm up, time N calls at concurrency C, report.

    python -m benchmarks.worker --client mcp_async --url URL --calls 2000 --concurrency 16
    python -m benchmarks.worker --transport stdio --client floor --url benchmarks/stdio_server.py
    python -m benchmarks.worker --transport sse --client mcp --url http://127.0.0.1:PORT/sse

Prints one JSON object on stdout:

* ``connect_ms`` - wall time to build the client, connect and finish the handshake;
* ``wall_s`` / ``calls_per_s`` - the timed part only (after the warm-up);
* ``cpu_us_per_call`` - this process's user+sys CPU (``getrusage``) over the timed part
  divided by the calls; the server runs in another process, so only the client counts;
* ``connections`` / ``conn_per_call`` - TCP connections opened during the timed part,
  counted by wrapping the event loop's ``create_connection`` (which aiohttp, httpx2's
  anyio backend and the floor all use to open sockets);
* ``peak_rss_mb`` - ``ru_maxrss`` of this process at the end (imports included);
* ``server_cpu_us_per_call`` - the server process's CPU over the timed part per call, from
  ``/proc/<pid>/task/*/schedstat`` (``None`` where unknown). For
  stdio the server is this process's child (found through ``/proc``); otherwise the
  driver passes ``--server-pid``. It is never part of ``cpu_us_per_call``: ``getrusage``
  of ``RUSAGE_SELF`` excludes children.

``--count-requests`` adds ``discover_requests`` and ``initialize_requests``: how many
``server/discover`` and ``initialize`` requests the server saw from this client, start to
stop (HTTP: the minimal server's ``GET /stats`` before and after; stdio: the adapter's
``server_stats()``, a ``benchmark/stats`` request to its own server, where it has one).

``--library PATH`` (with a ``<client>@baseline`` client, ``benchmarks.baseline``) imports
mcp_async from the checkout PATH instead of this one, checks that it did, and adds
``library`` (the ``mcp_async/__init__.py`` imported) to the object.

``--transport`` picks the adapter class (``http``: Streamable HTTP, ``stdio``, ``sse``:
legacy HTTP+SSE); for stdio ``--url`` is the server script, run with ``sys.executable``.
When the client has no such transport, the worker prints ``{"unavailable": reason}``
instead of figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sys
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


def process_cpu_seconds(pid: int) -> float | None:
    """CPU time of process ``pid`` so far, from ``/proc``; ``None`` if it cannot be read.

    The sum of its threads' ``schedstat`` run times (nanoseconds) where the kernel keeps
    them, else ``utime + stime`` from ``stat`` (clock ticks, 10 ms: rough on short runs).
    """
    try:
        total = 0
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/schedstat", "rb") as schedstat:
                total += int(schedstat.read().split()[0])
        if total:
            return total / 1e9
    except (OSError, ValueError, IndexError):
        pass
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def child_pids() -> list[int]:
    """Pids of this process's children (the stdio server), from ``/proc``."""
    me = os.getpid()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == me:
            found.append(int(entry))
    return found


def servers_cpu_seconds(pids: list[int]) -> float | None:
    """Summed CPU of ``pids``; ``None`` if any cannot be read."""
    total = 0.0
    for pid in pids:
        seconds = process_cpu_seconds(pid)
        if seconds is None:
            return None
        total += seconds
    return total


def http_stats(url: str) -> dict[str, Any]:
    """``GET /stats`` of the minimal server behind ``url`` (a blocking socket, no imports)."""
    import socket
    from urllib.parse import urlsplit

    where = urlsplit(url)
    with socket.create_connection((where.hostname, where.port), timeout=5) as sock:
        sock.sendall(b"GET /stats HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return json.loads(data.split(b"\r\n\r\n", 1)[1])  # type: ignore[no-any-return]


async def run_calls(call: Callable[[], Awaitable[Any]], calls: int, concurrency: int) -> None:
    """Make ``calls`` calls with ``concurrency`` lanes pulling from one shared counter."""
    remaining = iter(range(calls))

    async def lane() -> None:
        for _ in remaining:
            await call()

    await asyncio.gather(*(lane() for _ in range(max(1, min(concurrency, calls)))))


async def measure(
    client: str, url: str, calls: int, concurrency: int, warmup: int,
    transport: str = "http", server_pid: int | None = None, count_requests: bool = False,
) -> dict[str, Any]:
    """Run the whole measurement for one client in this process."""
    from .clients import Unavailable, load

    adapter_class = load(client, transport)
    counted: dict[str, Any] = {}
    before = http_stats(url) if count_requests and transport == "http" else None
    started = time.perf_counter()
    try:
        adapter = adapter_class(url)
        await adapter.start()
    except Unavailable as exc:
        return {"client": client, "transport": transport, "unavailable": str(exc)}
    connect_ms = (time.perf_counter() - started) * 1000
    try:
        text = await adapter.call()
        if text != EXPECTED_TEXT:
            raise RuntimeError(f"{client}: unexpected tool result {text!r}")
        # Enough warm-up calls for every lane to have opened its connection.
        await run_calls(adapter.call, max(warmup, 4 * concurrency), concurrency)
        server_pids = [server_pid] if server_pid else child_pids()
        server0 = servers_cpu_seconds(server_pids) if server_pids else None
        conn0, cpu0, wall0 = connections(), cpu_seconds(), time.perf_counter()
        await run_calls(adapter.call, calls, concurrency)
        wall = time.perf_counter() - wall0
        cpu = cpu_seconds() - cpu0
        new_connections = connections() - conn0
        server1 = servers_cpu_seconds(server_pids) if server0 is not None else None
        if count_requests and transport == "stdio" and hasattr(adapter, "server_stats"):
            counted = await adapter.server_stats()
    finally:
        await adapter.stop()
    if before is not None:
        after = http_stats(url)
        counted = {key: after[key] - before[key] for key in ("discover", "initialize")}
    server_cpu = None if server0 is None or server1 is None else (server1 - server0)
    return {
        "client": client,
        "transport": transport,
        "url": url,
        "calls": calls,
        "warmup": max(warmup, 4 * concurrency),
        "concurrency": concurrency,
        "connect_ms": connect_ms,
        "wall_s": wall,
        "calls_per_s": calls / wall,
        "cpu_us_per_call": cpu / calls * 1e6,
        "connections": new_connections,
        "conn_per_call": new_connections / calls,
        "peak_rss_mb": peak_rss_mb(),
        "server_cpu_us_per_call": None if server_cpu is None else server_cpu / calls * 1e6,
        **({"discover_requests": counted.get("discover"),
            "initialize_requests": counted.get("initialize")} if count_requests else {}),
    }


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description="measure one client in this process")
    parser.add_argument("--client", required=True)
    parser.add_argument("--transport", choices=("http", "stdio", "sse"), default="http")
    parser.add_argument("--url", "--target", dest="url", required=True,
                        help="MCP endpoint URL; for stdio, the server script")
    parser.add_argument("--server-pid", type=int, help="server process, for its CPU figure")
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--count-requests", action="store_true",
                        help="report the server/discover and initialize requests seen")
    parser.add_argument("--library", help="import mcp_async from this checkout (a baseline)")
    args = parser.parse_args(argv)
    library = None
    if args.library is not None:
        from .baseline import WRONG_LIBRARY, BaselineError, use

        try:
            library = use(args.library)
        except BaselineError as exc:
            print(f"benchmarks.worker: {exc}", file=sys.stderr, flush=True)
            raise SystemExit(WRONG_LIBRARY) from exc
    elif args.client.endswith("@baseline"):
        parser.error(f"--client {args.client} needs --library (the baseline checkout)")
    count_connections()
    result = asyncio.run(measure(args.client, args.url, args.calls, args.concurrency, args.warmup,
                                 args.transport, args.server_pid, args.count_requests))
    if library is not None:
        result["library"] = library
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
