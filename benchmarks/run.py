"""The one command: run every benchmark and print the Markdown tables.

    .venv/bin/python -m benchmarks.run            # full run (about 16 minutes here)
    .venv/bin/python -m benchmarks.run --quick    # smoke-sized, about two minutes
    .venv/bin/python -m benchmarks.run --transports stdio,sse --no-imports --no-fanout
    .venv/bin/python -m benchmarks.run --group-only     # client groups (benchmarks/group.py)
    .venv/bin/python -m benchmarks.run --modern-only    # MCP 2026-07-28 (benchmarks/modern.py)
    .venv/bin/python -m benchmarks.run --baseline /tmp/old   # also mcp_async from /tmp/old

Three transports (``--transports``, default all): Streamable HTTP against the minimal
and the SDK server (``--servers``, ``--replies``), stdio (every client spawns
``benchmarks/stdio_server.py`` itself) and the legacy HTTP+SSE transport (2024-11-05)
against ``benchmarks.legacy_sse_server``. HTTP servers run in their own processes;
every (round, cell, client) measurement is a fresh worker process
(``benchmarks.worker``), so ``getrusage`` and ``ru_maxrss`` cover one client only (a
stdio server is the worker's child: not in its ``RUSAGE_SELF``). Within a round every
client runs once per cell, in an order that rotates from round to round. A client
whose library lacks a transport (the worker reports it unavailable) is skipped on that
transport for the rest of the run. ``--baseline PATH`` adds a twin
``<client>@baseline`` of every ``mcp_async*`` client, importing mcp_async from the
checkout PATH (``benchmarks.baseline``). See ``docs/performance.md``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from . import baseline as baseline_lib
from . import group as group_bench
from . import imports, modern, report, servers
from .clients import ALL_CLIENTS, BASELINE, CLIENTS, TRANSPORTS, adapter_name, available
from .legacy_sse_server import SSE_PATH as LEGACY_SSE_PATH
from .minimal_server import SSE_PREFIX
from .servers import REPO_ROOT, STDIO_SCRIPT, ServerProcess

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
    parser.add_argument("--stdio-calls", type=int,
                        help="calls per stdio cell (10x --calls: a stdio call costs a tenth "
                        "of an HTTP one, and a run of under 0.1 s of CPU is mostly noise)")
    parser.add_argument("--warmup", type=int, help="untimed calls before each cell (200 / 20)")
    parser.add_argument("--concurrency", type=lambda t: _csv(int, t), default=[1, 16, 64])
    parser.add_argument("--clients", type=lambda t: _csv(str, t), default=list(CLIENTS),
                        help="from " + ",".join(ALL_CLIENTS) + " (floor_orjson: the floor "
                        "with orjson, if importable; floor_protocol: stdio only)")
    parser.add_argument("--transports", type=lambda t: _csv(str, t), default=list(TRANSPORTS),
                        help="http (Streamable HTTP), stdio, sse (legacy HTTP+SSE)")
    parser.add_argument("--servers", type=lambda t: _csv(str, t), default=["minimal", "sdk"],
                        help="Streamable HTTP servers: minimal, sdk")
    parser.add_argument("--replies", type=lambda t: _csv(str, t), default=["json", "sse"],
                        help="Streamable HTTP reply kinds: json, sse")
    parser.add_argument("--import-reps", type=int, help="import samples per package (7 / 2)")
    parser.add_argument("--fanout-calls", type=int, help="fan-out calls (100000 / 2000)")
    parser.add_argument("--fanout-concurrency", type=int, default=256)
    parser.add_argument("--no-imports", action="store_true")
    parser.add_argument("--no-fanout", action="store_true")
    parser.add_argument("--group", action="store_true",
                        help="also run the client-group benchmark (benchmarks/group.py)")
    parser.add_argument("--group-only", action="store_true",
                        help="run only the client-group benchmark")
    group_bench.add_arguments(parser, prefix="group-")
    modern.add_arguments(parser)
    parser.add_argument("--baseline", metavar="PATH",
                        help="another checkout of this repository (e.g. a git worktree of an "
                        "older commit): also measure every mcp_async* client with the "
                        "mcp_async found there, as <client>@baseline")
    parser.add_argument("--json", type=Path, help="also write all raw results here")
    parser.add_argument("--markdown", type=Path, help="also write the tables here")
    args = parser.parse_args(argv)
    if args.modern_only:
        modern.apply_defaults(args, parser)
    if "http" not in args.transports:
        args.no_fanout = True  # the fan-out measures Streamable HTTP
    quick = args.quick
    for name, full, small in (("rounds", 5, 1), ("calls", 2000, 200), ("sdk_calls", 500, 100),
                              ("warmup", 200, 20), ("import_reps", 7, 2),
                              ("fanout_calls", 100_000, 2000)):
        if getattr(args, name) is None:
            setattr(args, name, small if quick else full)
    if args.stdio_calls is None:
        args.stdio_calls = 10 * args.calls
    unknown = set(args.clients) - set(ALL_CLIENTS)
    if unknown:
        parser.error(f"unknown clients: {', '.join(sorted(unknown))}")
    unknown = set(args.transports) - set(TRANSPORTS)
    if unknown:
        parser.error(f"unknown transports: {', '.join(sorted(unknown))}")
    if args.baseline is not None:
        try:
            args.baseline = baseline_lib.validate(args.baseline)
        except baseline_lib.BaselineError as exc:
            parser.error(str(exc))
        args.clients = baseline_lib.with_baselines(args.clients)
        if not any(client.endswith(BASELINE) for client in args.clients):
            parser.error("--baseline needs an mcp_async* client in --clients")
    return args


def log(message: str) -> None:
    """Progress goes to stderr; stdout carries only the report."""
    print(message, file=sys.stderr, flush=True)


def run_module(module: str, *args: str) -> dict[str, Any]:
    """Run ``python -m module args`` and return the JSON object it prints last.

    A worker that imported the wrong mcp_async for a baseline twin stops the whole run
    (:class:`benchmarks.baseline.BaselineError`); any other failure is a ``RuntimeError``.
    """
    done = subprocess.run(
        [sys.executable, "-m", module, *args], cwd=REPO_ROOT, capture_output=True, text=True,
        timeout=WORKER_TIMEOUT,
    )
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-5:])
        if done.returncode == baseline_lib.WRONG_LIBRARY:  # never measure the wrong library
            raise baseline_lib.BaselineError(f"{module} {' '.join(args)}:\n{tail}")
        raise RuntimeError(f"{module} {' '.join(args)} failed:\n{tail}")
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


#: Reply kind recorded for the cells of the new transports (their tables have no such column).
STDIO_REPLY = "line"
LEGACY_SSE_REPLY = "event"

Target = tuple[str, int | None]  # worker --url (URL or stdio script), server pid if ours


def endpoints(
    args: argparse.Namespace, running: dict[str, ServerProcess]
) -> dict[tuple[str, str, str], Target]:
    """(transport, server, reply kind) -> worker target, starting the servers needed."""
    targets: dict[tuple[str, str, str], Target] = {}
    if "http" in args.transports and ("minimal" in args.servers or not args.no_fanout):
        minimal = running["minimal"] = servers.start_minimal()
        targets[("http", "minimal", "json")] = (f"{minimal.base_url}/json/mcp", minimal.pid)
        targets[("http", "minimal", "sse")] = (f"{minimal.base_url}{SSE_PREFIX}/mcp",
                                               minimal.pid)
    if "http" in args.transports and "sdk" in args.servers:
        for reply in args.replies:
            server = running[f"sdk-{reply}"] = servers.start_sdk(json_response=reply == "json")
            targets[("http", "sdk", reply)] = (f"{server.base_url}/mcp", server.pid)
    if "stdio" in args.transports:
        targets[("stdio", "minimal", STDIO_REPLY)] = (str(STDIO_SCRIPT), None)
    if "sse" in args.transports:
        legacy = running["legacy-sse"] = servers.start_legacy_sse()
        targets[("sse", "minimal", LEGACY_SSE_REPLY)] = (legacy.base_url + LEGACY_SSE_PATH,
                                                          legacy.pid)
    return targets


def cell_list(args: argparse.Namespace) -> list[tuple[str, str, str, int]]:
    """Every (transport, server, reply kind, concurrency) cell of the run, in run order."""
    cells: list[tuple[str, str, str, int]] = []
    for transport in args.transports:
        if transport == "http":
            cells += [("http", s, r, c) for s in args.servers for r in args.replies
                      for c in args.concurrency]
        else:
            reply = STDIO_REPLY if transport == "stdio" else LEGACY_SSE_REPLY
            cells += [(transport, "minimal", reply, c) for c in args.concurrency]
    return cells


def run_cells(
    args: argparse.Namespace,
    targets: dict[tuple[str, str, str], Target],
    unavailable: dict[str, dict[str, str]] | None = None,
) -> list[dict[str, Any]]:
    """Every (round, cell, client) worker, clients rotating per round.

    A client the worker reports unavailable on a transport is recorded in
    ``unavailable[transport][client]`` (the reason) and not run there again.
    """
    skipped: dict[str, dict[str, str]] = {} if unavailable is None else unavailable
    results: list[dict[str, Any]] = []
    cells = cell_list(args)
    once = set(getattr(args, "once_clients", ()))  # measured in the first round only
    official_calls = getattr(args, "official_calls", None)
    for round_no in range(args.rounds):
        for index, (transport, server, reply, conc) in enumerate(cells):
            shift = (round_no + index) % len(args.clients)
            for client in args.clients[shift:] + args.clients[:shift]:
                if not available(client, transport) or client in skipped.get(transport, {}):
                    continue
                if adapter_name(client) in once and round_no > 0:
                    continue
                target, server_pid = targets[(transport, server, reply)]
                calls = args.calls if server == "minimal" else args.sdk_calls
                if transport == "stdio":
                    calls = args.stdio_calls
                if official_calls and client in modern.OFFICIAL_CLIENTS:
                    calls = min(calls, official_calls)
                where = f"{transport}/{server}/{reply} c={conc}"
                command = [
                    "benchmarks.worker", "--transport", transport, "--client", client,
                    "--url", target, "--calls", str(calls), "--concurrency", str(conc),
                    "--warmup", str(args.warmup),
                ]
                if server_pid is not None:
                    command += ["--server-pid", str(server_pid)]
                if getattr(args, "count_requests", False):
                    command.append("--count-requests")
                if client.endswith(BASELINE):
                    command += ["--library", str(args.baseline)]
                try:
                    row = run_module(*command)
                except (RuntimeError, subprocess.TimeoutExpired) as exc:
                    log(f"!! {client} on {where}: {exc}")
                    continue
                if "unavailable" in row:
                    skipped.setdefault(transport, {})[client] = row["unavailable"]
                    log(f"-- {client} skipped on {transport}: {row['unavailable']}")
                    continue
                row.update(server=server, reply=reply, round=round_no)
                results.append(row)
                log(f"[{round_no + 1}/{args.rounds}] {transport:5} {server:7} {reply:5} "
                    f"c={conc:<3} {client:18} {row['calls_per_s']:8,.0f} calls/s "
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
    unavailable: dict[str, dict[str, str]] = {}
    results: list[dict[str, Any]] = []
    group: dict[str, Any] | None = None
    label = None
    if args.baseline is not None and not args.group_only:
        try:
            found = baseline_lib.check(args.baseline, REPO_ROOT)
        except baseline_lib.BaselineError as exc:
            raise SystemExit(f"benchmarks.run: {exc}") from exc
        label = baseline_lib.describe(args.baseline)
        log(f"baseline: mcp_async {found['version']} from {found['mcp_async']}")
    if args.group or args.group_only:
        log("client groups (benchmarks/group.py) ...")
        group = group_bench.run(group_bench.apply_defaults(args, args.quick, prefix="group_"))
    try:
        targets = {} if args.group_only else endpoints(args, running)
        if not args.group_only:
            results = run_cells(args, targets, unavailable)
        for name in [n for n in running if n != "minimal"]:
            running.pop(name).stop()
        if not args.no_imports and not args.group_only:
            log("measuring import times ...")
            import_figures = imports.measure(args.import_reps, args.clients, args.baseline)
        if not args.no_fanout and not args.group_only:
            log(f"fan-out: {args.fanout_calls:,} calls, concurrency {args.fanout_concurrency}")
            fanout = run_module(
                "benchmarks.fanout", "--url", targets[("http", "minimal", "json")][0],
                "--calls", str(args.fanout_calls),
                "--concurrency", str(args.fanout_concurrency),
                "--baseline-calls", str(max(args.calls, args.fanout_concurrency)),
            )
    finally:
        for server in running.values():
            server.stop()
    if args.group_only:
        text = "\n".join(report.group_section(group or {}))
    elif args.modern_only:
        lines = modern.section(results, unavailable)
        twins = report.baseline_section(report.Summary(results), label or "")
        text = "\n".join([*lines, "", *twins] if twins else lines)
    else:
        text = report.render(results, import_figures, fanout, unavailable, group, label)
    print(text)
    log(f"done in {time.monotonic() - started:.0f} s")
    settings = {k: v for k, v in vars(args).items() if not isinstance(v, Path)}
    settings["baseline"] = None if args.baseline is None else str(args.baseline)
    everything = {"settings": settings,
                  "results": results, "imports": import_figures, "fanout": fanout,
                  "unavailable": unavailable, "group": group}
    if args.json:
        args.json.write_text(json.dumps(everything, indent=1))
    if args.markdown:
        args.markdown.write_text(text + "\n")
    return everything


if __name__ == "__main__":
    main()
