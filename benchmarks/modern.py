"""MCP 2026-07-28 (stateless era): what the envelope, the routing headers and MRTR cost.

    .venv/bin/python -m benchmarks.run --modern-only             # 3 rounds, http + stdio
    .venv/bin/python -m benchmarks.run --modern-only --quick     # smoke-sized

The same worker processes, minimal servers and cells as the main run
(``benchmarks.run``): Streamable HTTP against the minimal server with JSON and SSE
replies, and stdio, at every ``--concurrency``. The servers answer both eras: a request
whose ``params._meta`` names 2026-07-28 needs no session and gets ``resultType`` in
its result; ``server/discover`` gets a ``DiscoverResult``; the ``mrtr`` tool first answers
with an ``InputRequiredResult`` holding one elicitation. Clients, all in the same run:

* ``floor`` / ``mcp_async`` / ``mcp``: the handshake era (``initialize``; mcp_async with
  ``protocol="legacy"``, the official client with ``mode="legacy"``);
* ``floor_modern``: the raw floor sending the 2026-07-28 envelope
  (``params._meta``: protocol version, client capabilities, client info) and headers
  (``MCP-Protocol-Version``, ``Mcp-Method``, ``Mcp-Name``), no handshake, no session;
* ``mcp_async_modern``: ``AsyncMCPClient(..., protocol="2026-07-28")`` (pinned, no probe);
* ``mcp_async_auto``: ``protocol="auto"``, first round only: its ``server/discover``
  probe is counted by the server (``--count-requests`` of the worker) to show it runs
  once per client, not per call;
* ``mcp_modern``: ``mcp.Client`` in its default ``mode="auto"`` (probes, then 2026-07-28);
* ``floor_modern_mrtr`` / ``mcp_async_mrtr``: ``tools/call`` of ``mrtr``, answering the
  elicitation (mcp_async through ``elicitation_handler``) and sending the call again
  with ``inputResponses`` and ``requestState``: two round trips per call.

The official client makes ``--official-calls`` calls per cell (fewer: it is 10x slower);
every ratio is paired per round, as in ``benchmarks.report``.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from typing import Any

from .clients import CLIENTS, TRANSPORTS
from .report import Summary, _fmt

#: The clients of the section, in run order (rotated per round by the driver).
MODERN_CLIENTS = ("floor", "floor_modern", "mcp_async", "mcp_async_modern", "mcp_async_auto",
                  "mcp", "mcp_modern", "floor_modern_mrtr", "mcp_async_mrtr")
#: Measured in the first round only.
ONCE = ("mcp_async_auto",)
#: The official client, whose cells get ``--official-calls`` calls.
OFFICIAL_CLIENTS = frozenset({"mcp", "mcp_modern"})
MODERN_TRANSPORTS = ("http", "stdio")

CPU_TARGET = 1.3  # x the floor with the same envelope and headers
ERA_TARGET = 1.0  # x mcp_async in the handshake era
MRTR_TARGET = 2.0  # x a plain 2026-07-28 call


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The section's options on the driver's command line."""
    parser.add_argument("--modern-only", action="store_true",
                        help="run only the MCP 2026-07-28 section (benchmarks/modern.py)")
    parser.add_argument("--official-calls", type=int,
                        help="calls per cell of the official client there (500 / 100)")


def apply_defaults(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    """``--modern-only``: its clients, transports and sizes unless given explicitly."""
    if args.clients == list(CLIENTS):
        args.clients = list(MODERN_CLIENTS)
    if args.transports == list(TRANSPORTS):
        args.transports = list(MODERN_TRANSPORTS)
    if "sse" in args.transports:
        parser.error("--modern-only measures http and stdio (legacy SSE predates 2026-07-28)")
    args.servers = ["minimal"]
    args.no_imports = args.no_fanout = True
    args.once_clients = list(ONCE)
    args.count_requests = True
    if args.rounds is None:
        args.rounds = 1 if args.quick else 3
    if args.official_calls is None:
        args.official_calls = 100 if args.quick else 500


def _cells(summary: Summary) -> Iterable[tuple[str, str, str, int]]:
    return [cell for cell in summary.cells() if cell[1] == "minimal"]


def _where(cell: tuple[str, str, str, int]) -> str:
    return f"| {cell[0]} | {cell[2] if cell[0] == 'http' else '-'} | {cell[3]} "


def _worst(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return max(present) if present else None


def section(results: list[dict[str, Any]], unavailable: dict[str, dict[str, str]]) -> list[str]:
    """The Markdown of the 2026-07-28 section: CPU per call, MRTR, the probe, targets."""
    summary = Summary(results)
    cells = _cells(summary)

    def med(cell: tuple[str, str, str, int], client: str) -> float | None:
        return summary.median(cell, client, "cpu_us_per_call")

    def ratio(cell: tuple[str, str, str, int], client: str, other: str) -> float | None:
        return summary.ratio(cell, client, other, "cpu_us_per_call")

    lines = [
        "### MCP 2026-07-28 (stateless era)",
        "",
        "*Client CPU µs per `tools/call` (median over rounds); ratios paired per round. "
        "'2026' = the 2026-07-28 envelope and headers, no handshake; the others run "
        "`initialize` first.*",
        "",
        "| transport | reply | conc | floor | floor 2026 | x floor | mcp_async | "
        "**mcp_async 2026** | x floor 2026 | x mcp_async | mcp | mcp 2026 | x mcp 2026 |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for cell in cells:
        lines.append(
            _where(cell)
            + f"| {_fmt(med(cell, 'floor'), ',.0f')} | {_fmt(med(cell, 'floor_modern'), ',.0f')} "
            f"| {_fmt(ratio(cell, 'floor_modern', 'floor'), '.2f')} "
            f"| {_fmt(med(cell, 'mcp_async'), ',.0f')} "
            f"| **{_fmt(med(cell, 'mcp_async_modern'), ',.0f')}** "
            f"| {_fmt(ratio(cell, 'mcp_async_modern', 'floor_modern'), '.2f')} "
            f"| {_fmt(ratio(cell, 'mcp_async_modern', 'mcp_async'), '.2f')} "
            f"| {_fmt(med(cell, 'mcp'), ',.0f')} | {_fmt(med(cell, 'mcp_modern'), ',.0f')} "
            f"| {_fmt(ratio(cell, 'mcp_async_modern', 'mcp_modern'), '.2f')} |"
        )
    lines += [
        "",
        "*MRTR: a `tools/call` of `mrtr` = an `InputRequiredResult` with one elicitation, "
        "answered, and the call sent again (two round trips), against a plain 2026 call.*",
        "",
        "| transport | reply | conc | mcp_async 2026 | mcp_async MRTR | x plain | floor 2026 "
        "| floor MRTR | x plain | mcp_async MRTR x floor MRTR |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for cell in cells:
        lines.append(
            _where(cell)
            + f"| {_fmt(med(cell, 'mcp_async_modern'), ',.0f')} "
            f"| {_fmt(med(cell, 'mcp_async_mrtr'), ',.0f')} "
            f"| {_fmt(ratio(cell, 'mcp_async_mrtr', 'mcp_async_modern'), '.2f')} "
            f"| {_fmt(med(cell, 'floor_modern'), ',.0f')} "
            f"| {_fmt(med(cell, 'floor_modern_mrtr'), ',.0f')} "
            f"| {_fmt(ratio(cell, 'floor_modern_mrtr', 'floor_modern'), '.2f')} "
            f"| {_fmt(ratio(cell, 'mcp_async_mrtr', 'floor_modern_mrtr'), '.2f')} |"
        )
    lines += [
        "",
        "*The era per client: `server/discover` and `initialize` requests the server saw from "
        "one client over its whole life (connect, warm-up, the timed calls); mcp_async only "
        "(on stdio the count comes through the client itself).*",
        "",
        "| transport | reply | conc | client | calls made | discover | initialize "
        "| connect ms | CPU µs/call | x pinned |",
        "|---|---|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    probe_rows: list[dict[str, Any]] = []
    for cell in cells:
        for client in ("mcp_async", "mcp_async_modern", "mcp_async_auto"):
            rows = summary.runs[cell].get(client, {})
            if not rows:
                continue
            first = rows[min(rows)]
            probe_rows.append(first)
            made = first["calls"] + 1 + first.get("warmup", 4 * cell[3])
            lines.append(
                _where(cell)
                + f"| {client} | {made:,} | {_fmt(first.get('discover_requests'), 'd')} "
                f"| {_fmt(first.get('initialize_requests'), 'd')} "
                f"| {_fmt(summary.median(cell, client, 'connect_ms'), '.1f')} "
                f"| {_fmt(med(cell, client), ',.0f')} "
                f"| {_fmt(ratio(cell, client, 'mcp_async_modern'), '.2f')} |"
            )
    lines += ["", *targets(summary, cells, probe_rows)]
    for transport, skipped in sorted(unavailable.items()):
        for client, reason in sorted(skipped.items()):
            lines.append(f"\n*{client} skipped on {transport}: {reason}*")
    return lines


def targets(summary: Summary, cells: Iterable[tuple[str, str, str, int]],
            probe_rows: list[dict[str, Any]]) -> list[str]:
    """The targets of issue 13 and whether they hold (worst cell)."""
    cells = list(cells)

    def worst(client: str, other: str) -> float | None:
        return _worst(summary.ratio(cell, client, other, "cpu_us_per_call") for cell in cells)

    def verdict(value: float | None, bound: float) -> str:
        return "-" if value is None else ("holds" if value <= bound else "**missed**")

    era = worst("mcp_async_modern", "mcp_async")
    floor = worst("mcp_async_modern", "floor_modern")
    mrtr = worst("mcp_async_mrtr", "mcp_async_modern")
    envelope = worst("floor_modern", "floor")
    auto = [r.get("discover_requests") for r in probe_rows if r["client"] == "mcp_async_auto"]
    pinned = [r.get("discover_requests") for r in probe_rows
              if r["client"] == "mcp_async_modern"]
    once = bool(auto) and all(n == 1 for n in auto) and all(n == 0 for n in pinned)
    return [
        "| target (mcp_async, every cell) | measured (worst cell) | verdict |",
        "|---|---:|---|",
        f"| 2026-07-28 call CPU <= handshake-era call CPU | {_fmt(era, '.2f', 'x')} "
        f"| {verdict(era, ERA_TARGET)} |",
        f"| 2026-07-28 call CPU <= {CPU_TARGET}x the floor with the same envelope and headers "
        f"| {_fmt(floor, '.2f', 'x')} | {verdict(floor, CPU_TARGET)} |",
        f"| MRTR round trip CPU <= {MRTR_TARGET}x a plain 2026-07-28 call "
        f"| {_fmt(mrtr, '.2f', 'x')} | {verdict(mrtr, MRTR_TARGET)} |",
        f"| `protocol=\"auto\"` probes once per client, never per call (pinned: never) "
        f"| {', '.join(str(n) for n in auto) or '-'} probe(s) per auto client "
        f"| {'holds' if once else '**missed**'} |",
        f"| (for reference) the floor: 2026 call / handshake call | {_fmt(envelope, '.2f', 'x')} "
        "| - |",
    ]
