"""Scale: many MCP sessions in one process, each opened and called once, then held open.

    .venv/bin/python -m benchmarks.scale                                  # the full table
    .venv/bin/python -m benchmarks.scale --sessions 500 --configs shared modern
    .venv/bin/python -m benchmarks.scale --json benchmarks/results/scale.json

Each measurement runs in a fresh worker process (``--worker``) against a server in
another process: the official Python SDK server (``benchmarks.sdk_server``, JSON
replies, stateful, both eras) or, with ``--server testing``, ``mcp_async.testing``'s
server (``python -m mcp_async.testing --http``). The worker warms up (one session opened,
called and closed, so that code and caches are loaded), collects garbage and reads its
RSS; opens ``N`` sessions (at most ``--concurrency`` opening at once), calls
``echo`` once on each, keeps them all open, collects garbage and reads its RSS again.
Per session = the difference / N. It also records the time to open and call them all,
the sockets it holds then (``/proc/self/fd``), and the time to close them all.

Configurations (``--configs``):

* ``own``: mcp_async, handshake era (``protocol="legacy"``), each client with its own
  ``aiohttp`` session (the default).
* ``shared``: mcp_async, handshake era, one ``aiohttp.ClientSession()`` with aiohttp's
  default connector (100 connections) passed to every client as ``session=``.
* ``pool``: mcp_async, handshake era, through a :class:`~mcp_async.ClientPool` (one key
  per session; the pool's own session, 100 connections).
* ``modern``: mcp_async, MCP 2026-07-28 (``protocol="2026-07-28"``), shared session.
* ``floor``: no MCP client at all: one shared aiohttp session; per session, the three
  handshake-era exchanges by hand and the least state a session needs kept (its id and
  the ``initialize`` result as parsed JSON). What any client must hold, at least.
* ``official``: the official ``mcp`` client, ``mcp.Client(url, mode="legacy")`` entered
  per session (each with its own ``httpx`` client, as its API offers).

``--steady`` (for ``shared``, ``pool`` and ``modern``) also measures CPU per call: one
session making ``--calls`` calls one after the other, then every one of the ``N``
sessions making calls at once (the same total), as worker CPU time (``process_time``)
per call. See docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
CONFIGS = ("own", "shared", "pool", "modern", "floor", "official")
TOOL = "echo"
ARGS = {"text": "hi"}
_PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_bytes() -> int:
    """Resident set size of this process, from /proc/self/statm."""
    with open("/proc/self/statm") as stat:
        return int(stat.read().split()[1]) * _PAGE


def sockets() -> int:
    """Sockets this process holds open."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}").startswith("socket:"):
                count += 1
        except OSError:
            continue
    return count


def settle() -> int:
    gc.collect()
    gc.collect()
    return rss_bytes()


# -- what each configuration opens -------------------------------------------------------------


class Sessions:
    """Opens, calls and closes the sessions of one configuration."""

    def __init__(self, config: str, url: str) -> None:
        self.config = config
        self.url = url
        self.http: Any = None
        self.pool: Any = None
        self.held: list[Any] = []

    async def setup(self) -> None:
        import aiohttp

        if self.config in ("shared", "modern", "floor"):
            self.http = aiohttp.ClientSession()
        if self.config == "pool":
            from mcp_async import ClientPool

            self.pool = ClientPool(
                {"s": self.url}, protocol="legacy", max_open=1_000_000, idle_ttl=None,
                acquire_timeout=None, timeout=120,
            )
            await self.pool.__aenter__()

    async def teardown(self) -> None:
        if self.pool is not None:
            await self.pool.aclose()
        if self.http is not None:
            await self.http.close()

    async def open_and_call(self, index: int) -> Any:
        """Open one session, call the tool once, return what keeps it open."""
        config = self.config
        if config == "official":
            return await self._official()
        if config == "floor":
            return await self._floor()
        if config == "pool":
            lease = await self.pool.acquire("s", f"principal-{index}")
            result = await lease.client.call_tool(TOOL, ARGS)
            assert result.text == "hi"
            await lease.release()  # stays open in the pool
            return None
        from mcp_async import AsyncMCPClient

        options: dict[str, Any] = {"timeout": 120}
        options["protocol"] = "2026-07-28" if config == "modern" else "legacy"
        if self.http is not None:
            options["session"] = self.http
        client = AsyncMCPClient(self.url, **options)
        await client.open()
        result = await client.call_tool(TOOL, ARGS)
        assert result.text == "hi"
        return client

    async def _official(self) -> tuple[asyncio.Task[None], asyncio.Event]:
        """An official client entered, called and then held in a task of its own (its
        anyio cancel scopes must be left in the task that entered them)."""
        from mcp import Client

        opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        release = asyncio.Event()

        async def hold() -> None:
            try:
                async with Client(self.url, mode="legacy") as client:
                    result = await client.call_tool(TOOL, ARGS)
                    assert result.content[0].text == "hi"
                    opened.set_result(None)
                    await release.wait()
            except BaseException as exc:
                if not opened.done():
                    opened.set_exception(exc)
                raise

        task = asyncio.ensure_future(hold())
        await opened
        return task, release

    async def _floor(self) -> dict[str, Any]:
        headers = {"Accept": "application/json, text/event-stream",
                   "Content-Type": "application/json"}
        init = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": {"name": "floor", "version": "1"}}}
        async with self.http.post(self.url, json=init, headers=headers) as response:
            session_id = response.headers["Mcp-Session-Id"]
            result = (await response.json())["result"]
        headers = {**headers, "Mcp-Session-Id": session_id,
                   "MCP-Protocol-Version": result["protocolVersion"]}
        note = {"jsonrpc": "2.0", "method": "notifications/initialized"}
        async with self.http.post(self.url, json=note, headers=headers) as response:
            await response.read()
        call = {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                "params": {"name": TOOL, "arguments": ARGS}}
        async with self.http.post(self.url, json=call, headers=headers) as response:
            assert (await response.json())["result"]["content"][0]["text"] == "hi"
        return {"id": session_id, "result": result, "headers": headers}

    async def close(self, held: Any) -> None:
        if held is None:
            return
        if self.config == "official":
            task, release = held
            release.set()
            await task
        elif self.config == "floor":
            async with self.http.delete(self.url, headers=held["headers"]) as response:
                await response.read()
        else:
            await held.aclose()

    async def call(self, held: Any, index: int) -> None:
        if self.config == "pool":
            async with self.pool.client("s", f"principal-{index}") as client:
                await client.call_tool(TOOL, ARGS)
        else:
            await held.call_tool(TOOL, ARGS)


async def bounded(count: int, limit: int, work: Callable[[int], Awaitable[Any]]) -> list[Any]:
    """``work(i)`` for i in range(count), at most ``limit`` at once, results in order."""
    results: list[Any] = [None] * count
    indices = iter(range(count))

    async def lane() -> None:
        for index in indices:
            results[index] = await work(index)

    await asyncio.gather(*(lane() for _ in range(min(limit, count))))
    return results


async def measure(config: str, url: str, count: int, concurrency: int,
                  steady: bool, calls: int) -> dict[str, Any]:
    sessions = Sessions(config, url)
    await sessions.setup()
    try:
        # Warm-up: code, caches and one pooled connection are loaded before the baseline.
        warm = await sessions.open_and_call(count)
        await sessions.close(warm)
        if sessions.pool is not None:
            await sessions.pool._close(sessions.pool._entries.pop(("s", f"principal-{count}")))
        before = settle()
        sockets_before = sockets()
        started = time.perf_counter()
        cpu = time.process_time()
        held = await bounded(count, concurrency, sessions.open_and_call)
        open_seconds = time.perf_counter() - started
        open_cpu = time.process_time() - cpu
        after = settle()
        report: dict[str, Any] = {
            "config": config, "sessions": count,
            "rss_before_mb": round(before / 2**20, 1), "rss_after_mb": round(after / 2**20, 1),
            "per_session_kb": round((after - before) / count / 1024, 2),
            "open_and_call_s": round(open_seconds, 2),
            "open_cpu_s": round(open_cpu, 2),
            "sockets": sockets() - sockets_before,
        }
        if steady:
            report.update(await _steady(sessions, held, count, calls))
        started = time.perf_counter()
        await bounded(count, concurrency, lambda i: sessions.close(held[i]))
        if sessions.pool is not None:
            await sessions.pool.aclose()  # the pool holds its clients: closing it ends them
        report["close_s"] = round(time.perf_counter() - started, 2)
        return report
    finally:
        await sessions.teardown()


async def _steady(sessions: Sessions, held: list[Any], count: int, calls: int) -> dict[str, Any]:
    one = held[0]
    for _ in range(50):  # warm
        await sessions.call(one, 0)
    cpu = time.process_time()
    for _ in range(calls):
        await sessions.call(one, 0)
    single = (time.process_time() - cpu) / calls
    rounds = max(calls // count, 1)
    cpu = time.process_time()
    for _ in range(rounds):
        await asyncio.gather(*(sessions.call(held[i], i) for i in range(count)))
    many = (time.process_time() - cpu) / (rounds * count)
    return {
        "cpu_per_call_one_session_us": round(single * 1e6, 1),
        "cpu_per_call_all_sessions_us": round(many * 1e6, 1),
        "cpu_ratio": round(many / single, 2),
    }


# -- driver -----------------------------------------------------------------------------------


def start_server(kind: str) -> tuple[subprocess.Popen[str], str]:
    """Start the server in a child process; return it and the MCP endpoint URL."""
    if kind == "sdk":
        from benchmarks.servers import start_sdk

        server = start_sdk(json_response=True)
        return server.process, server.base_url + "/mcp"
    process = subprocess.Popen(
        [sys.executable, "-m", "mcp_async.testing", "--http", "--eras",
         "2025-11-25,2026-07-28"],
        cwd=REPO_ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    url = line.split()[-1] if line else ""
    if not url.startswith("http"):
        process.kill()
        raise RuntimeError(f"the test server did not start: {line!r}")
    return process, url


def stop_server(process: subprocess.Popen[str]) -> None:
    if process.stdin is not None:
        process.stdin.close()
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def run_worker(config: str, url: str, count: int, args: argparse.Namespace) -> dict[str, Any]:
    command = [
        sys.executable, "-m", "benchmarks.scale", "--worker", config, "--url", url,
        "--sessions", str(count), "--concurrency", str(args.concurrency),
        "--calls", str(args.calls),
    ]
    if args.steady and config in ("shared", "pool", "modern"):
        command.append("--steady")
    done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=args.worker_timeout, check=False)
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if "Error" in line]
        return {"config": config, "sessions": count,
                "error": (lines or done.stderr.strip().splitlines() or ["?"])[-1][:300]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, nargs="+", default=[500, 1000, 10_000])
    parser.add_argument("--configs", nargs="+", choices=CONFIGS,
                        default=["own", "shared", "pool", "modern", "floor"])
    parser.add_argument("--official-sessions", type=int, nargs="*", default=[500, 1000],
                        help="session counts for the official client")
    parser.add_argument("--server", choices=("sdk", "testing"), default="sdk")
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--steady", action="store_true", help="also CPU per call")
    parser.add_argument("--worker-timeout", type=float, default=1800)
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--worker", choices=CONFIGS, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        report = asyncio.run(measure(args.worker, args.url, args.sessions[0],
                                     args.concurrency, args.steady, args.calls))
        print(json.dumps(report))
        return 0

    runs: list[tuple[str, int]] = [
        (config, count) for count in args.sessions for config in args.configs
        if config != "official"
    ]
    if "official" in args.configs or args.official_sessions:
        runs += [("official", count) for count in args.official_sessions]
    results = []
    for config, count in runs:
        process, url = start_server(args.server)  # a fresh server per measurement
        try:
            result = run_worker(config, url, count, args)
        finally:
            stop_server(process)
        result["server"] = args.server
        results.append(result)
        print(json.dumps(result), flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {"benchmark": "scale", "python": sys.version.split()[0],
                   "cpus": os.cpu_count(), "results": results}
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
