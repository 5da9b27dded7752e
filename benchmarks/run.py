"""The one command: run every benchmark and print the Markdown tables.

    .venv/bin/python -m benchmarks.run            # full run (about 10 minutes here)
    .venv/bin/python -m benchmarks.run --quick    # smoke-sized, under a minute

Servers run in their own processes; every (round, cell, client) measurement is a
fresh worker process (``benchmarks.worker``), so ``getrusage`` and ``ru_maxrss``
cover one client only. Within a round every client runs once per cell, in an
order that rotates from round to round. See ``docs/performance.md``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from . import imports, report, servers
from .clients import CLIENTS
from .minimal_server import SSE_PREFIX
from .servers import REPO_ROOT, ServerProcess

WORKER_TIMEOUT = 900.0


def _csv(kind: type, text: str) -> list[Any]:
    return [kind(part) for part in text.split(",") if part]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Options; ``--quick`` changes the defaults of the sizes only."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke-sized run")
    parser.add_argument("--rounds", type=int, help="rounds per cell (full 5, quick 1)")
    parser.add_argument("--calls", type=int, help="calls per minimal-server cell (2000 / 200)")
    parser.add_argument("--sdk-calls", type=int, help="calls per SDK-server cell (500 / 100)")
    parser.add_argument("--warmup", type=int, help="untimed calls before each cell (200 / 20)")
    parser.add_argument("--concurrency", type=lambda t: _csv(int, t), default=[1, 16, 64])
    parser.add_argument("--clients", type=lambda t: _csv(str, t), default=list(CLIENTS))
    parser.add_argument("--servers", type=lambda t: _csv(str, t), default=["minimal", "sdk"])
    parser.add_argument("--replies", type=lambda t: _csv(str, t), default=["json", "sse"])
    parser.add_argument("--import-reps", type=int, help="import samples per package (7 / 2)")
    parser.add_argument("--fanout-calls", type=int, help="fan-out calls (100000 / 2000)")
    parser.add_argument("--fanout-concurrency", type=int, default=256)
    parser.add_argument("--no-imports", action="store_true")
    parser.add_argument("--no-fanout", action="store_true")
    parser.add_argument("--json", type=Path, help="also write all raw results here")
    parser.add_argument("--markdown", type=Path, help="also write the tables here")
    args = parser.parse_args(argv)
    quick = args.quick
    for name, full, small in (("rounds", 5, 1), ("calls", 2000, 200), ("sdk_calls", 500, 100),
                              ("warmup", 200, 20), ("import_reps", 7, 2),
                              ("fanout_calls", 100_000, 2000)):
        if getattr(args, name) is None:
            setattr(args, name, small if quick else full)
    unknown = set(args.clients) - set(CLIENTS)
    if unknown:
        parser.error(f"unknown clients: {', '.join(sorted(unknown))}")
    return args


def log(message: str) -> None:
    """Progress goes to stderr; stdout carries only the report."""
    print(message, file=sys.stderr, flush=True)


def run_module(module: str, *args: str) -> dict[str, Any]:
    """Run ``python -m module args`` and return the JSON object it prints last."""
    done = subprocess.run(
        [sys.executable, "-m", module, *args], cwd=REPO_ROOT, capture_output=True, text=True,
        timeout=WORKER_TIMEOUT,
    )
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-5:])
        raise RuntimeError(f"{module} {' '.join(args)} failed:\n{tail}")
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def endpoints(
    args: argparse.Namespace, running: dict[str, ServerProcess]
) -> dict[tuple[str, str], str]:
    """(server, reply kind) -> MCP endpoint URL, starting the servers needed."""
    urls: dict[tuple[str, str], str] = {}
    if "minimal" in args.servers or not args.no_fanout:
        running["minimal"] = servers.start_minimal()
        base = running["minimal"].base_url
        urls[("minimal", "json")] = f"{base}/json/mcp"
        urls[("minimal", "sse")] = f"{base}{SSE_PREFIX}/mcp"
    if "sdk" in args.servers:
        for reply in args.replies:
            server = running[f"sdk-{reply}"] = servers.start_sdk(json_response=reply == "json")
            urls[("sdk", reply)] = f"{server.base_url}/mcp"
    return urls


def run_cells(args: argparse.Namespace, urls: dict[tuple[str, str], str]) -> list[dict[str, Any]]:
    """Every (round, server, reply, concurrency, client) worker, clients rotating per round."""
    results: list[dict[str, Any]] = []
    cells = [(s, r, c) for s in args.servers for r in args.replies for c in args.concurrency]
    for round_no in range(args.rounds):
        for index, (server, reply, conc) in enumerate(cells):
            shift = (round_no + index) % len(args.clients)
            for client in args.clients[shift:] + args.clients[:shift]:
                calls = args.calls if server == "minimal" else args.sdk_calls
                try:
                    row = run_module(
                        "benchmarks.worker", "--client", client, "--url", urls[(server, reply)],
                        "--calls", str(calls), "--concurrency", str(conc),
                        "--warmup", str(args.warmup),
                    )
                except (RuntimeError, subprocess.TimeoutExpired) as exc:
                    log(f"!! {client} on {server}/{reply} c={conc}: {exc}")
                    continue
                row.update(server=server, reply=reply, round=round_no)
                results.append(row)
                log(f"[{round_no + 1}/{args.rounds}] {server:7} {reply:4} c={conc:<3} "
                    f"{client:9} {row['calls_per_s']:8,.0f} calls/s "
                    f"{row['cpu_us_per_call']:7,.0f} us/call  conn/call "
                    f"{row['conn_per_call']:.3f}  rss {row['peak_rss_mb']:.1f} MB")
    return results


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark; print the report and return all figures."""
    args = parse_args(argv)
    started = time.monotonic()
    running: dict[str, ServerProcess] = {}
    fanout: dict[str, Any] | None = None
    import_figures: dict[str, Any] | None = None
    try:
        urls = endpoints(args, running)
        results = run_cells(args, urls)
        for name in [n for n in running if n != "minimal"]:
            running.pop(name).stop()
        if not args.no_imports:
            log("measuring import times ...")
            import_figures = imports.measure(args.import_reps, args.clients)
        if not args.no_fanout:
            log(f"fan-out: {args.fanout_calls:,} calls, concurrency {args.fanout_concurrency}")
            fanout = run_module(
                "benchmarks.fanout", "--url", urls[("minimal", "json")],
                "--calls", str(args.fanout_calls),
                "--concurrency", str(args.fanout_concurrency),
                "--baseline-calls", str(max(args.calls, args.fanout_concurrency)),
            )
    finally:
        for server in running.values():
            server.stop()
    text = report.render(results, import_figures, fanout)
    print(text)
    log(f"done in {time.monotonic() - started:.0f} s")
    everything = {"settings": {k: v for k, v in vars(args).items() if not isinstance(v, Path)},
                  "results": results, "imports": import_figures, "fanout": fanout}
    if args.json:
        args.json.write_text(json.dumps(everything, indent=1))
    if args.markdown:
        args.markdown.write_text(text + "\n")
    return everything


if __name__ == "__main__":
    main()
