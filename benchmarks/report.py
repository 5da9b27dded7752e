"""Medians, paired ratios and the Markdown tables of a benchmark run.

Every worker result carries ``server``, ``reply``, ``concurrency``, ``client`` and
``round``. A ratio "x floor" is the median over rounds of the ratio of the two
clients' figures *in the same round* (paired, so slow drift of the shared machine
cancels out); plain figures are medians over rounds.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

Cell = tuple[str, str, int]  # server, reply kind, concurrency
CLIENT_ORDER = ("floor", "mcp_async", "mcp", "fastmcp")
CPU_TARGET = 1.3
RSS_TARGET = 1.3
IMPORT_TARGET = 1.3
THROUGHPUT_TARGET = 0.8
SSE_SAME = 1.1  # "SSE costs the same as JSON": within 10 %
FANOUT_RSS_TARGET = 2.0


def _median(values: Iterable[float]) -> float | None:
    values = list(values)
    return statistics.median(values) if values else None


class Summary:
    """Per cell and client: medians and paired ratios of the worker results."""

    def __init__(self, results: list[dict[str, Any]]) -> None:
        self.runs: dict[Cell, dict[str, dict[int, dict[str, Any]]]] = defaultdict(
            lambda: defaultdict(dict)
        )
        for row in results:
            cell = (row["server"], row["reply"], row["concurrency"])
            self.runs[cell][row["client"]][row["round"]] = row

    def cells(self) -> list[Cell]:
        """All cells, ordered by server, reply kind and concurrency."""
        return sorted(self.runs, key=lambda c: (c[0] != "minimal", c[1] != "json", c[2]))

    def clients(self, cell: Cell) -> list[str]:
        """Clients measured in ``cell``, in table order."""
        return [c for c in CLIENT_ORDER if c in self.runs[cell]]

    def median(self, cell: Cell, client: str, key: str) -> float | None:
        """Median of ``key`` over the rounds of ``client`` in ``cell``."""
        return _median(r[key] for r in self.runs[cell].get(client, {}).values())

    def ratio(self, cell: Cell, client: str, other: str, key: str) -> float | None:
        """Median over rounds of ``client[key] / other[key]`` measured in the same round."""
        mine = self.runs[cell].get(client, {})
        theirs = self.runs[cell].get(other, {})
        return _median(
            mine[r][key] / theirs[r][key] for r in mine if r in theirs and theirs[r][key]
        )

    def connect_ms(self, server: str, client: str) -> float | None:
        """Median connect+initialize time of ``client`` against ``server`` over all cells."""
        return _median(
            row["connect_ms"]
            for cell, by_client in self.runs.items() if cell[0] == server
            for row in by_client.get(client, {}).values()
        )


def _fmt(value: float | None, spec: str, suffix: str = "") -> str:
    return "-" if value is None else f"{value:{spec}}{suffix}"


def _cell_row(summary: Summary, cell: Cell, client: str) -> str:
    def med(key: str) -> float | None:
        return summary.median(cell, client, key)

    def ratio(other: str, key: str) -> float | None:
        return summary.ratio(cell, client, other, key)

    name = f"**{client}**" if client == "mcp_async" else client
    return (
        f"| {cell[1]} | {cell[2]} | {name} | {_fmt(med('calls_per_s'), ',.0f')} "
        f"| {_fmt(ratio('floor', 'calls_per_s'), '.2f')} "
        f"| {_fmt(med('cpu_us_per_call'), ',.0f')} "
        f"| {_fmt(ratio('floor', 'cpu_us_per_call'), '.2f')} "
        f"| {_fmt(ratio('mcp', 'cpu_us_per_call'), '.2f')} "
        f"| {_fmt(med('conn_per_call'), '.3f')} | {_fmt(med('peak_rss_mb'), '.1f')} "
        f"| {_fmt(ratio('floor', 'peak_rss_mb'), '.2f')} |"
    )


def cell_table(summary: Summary, server: str) -> list[str]:
    """The Markdown table of every cell of ``server``."""
    lines = [
        "| reply | conc | client | calls/s | x floor | CPU us/call | x floor | x mcp "
        "| new conn/call | peak RSS MB | x floor |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for cell in summary.cells():
        if cell[0] == server:
            lines.extend(_cell_row(summary, cell, client) for client in summary.clients(cell))
    return lines


def connect_table(summary: Summary) -> list[str]:
    """Median connect+initialize time per client and server."""
    servers = sorted({cell[0] for cell in summary.runs}, key=lambda s: s != "minimal")
    lines = ["| client | " + " | ".join(f"{s} server (ms)" for s in servers) + " |",
             "|---|" + "---:|" * len(servers)]
    for client in CLIENT_ORDER:
        values = [summary.connect_ms(s, client) for s in servers]
        if any(v is not None for v in values):
            lines.append(f"| {client} | " + " | ".join(_fmt(v, '.1f') for v in values) + " |")
    return lines


def import_table(imports: dict[str, dict[str, float]]) -> list[str]:
    """Median import time per package and its ratio to aiohttp."""
    lines = ["| package | import (ms) | x aiohttp |", "|---|---:|---:|"]
    for name, row in imports.items():
        lines.append(f"| {name} | {row['ms']:.0f} | {row['x_aiohttp']:.2f} |")
    return lines


def fanout_table(fanout: dict[str, Any]) -> list[str]:
    """The fan-out figures."""
    return [
        "| form | calls | conc | wall (s) | calls/s | CPU us/call | new conn/call "
        "| single-call RSS MB | peak RSS MB | x single-call |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {fanout['form']} | {fanout['calls']:,} | {fanout['concurrency']} "
        f"| {fanout['wall_s']:.1f} | {fanout['calls_per_s']:,.0f} "
        f"| {fanout['cpu_us_per_call']:.0f} | {fanout['conn_per_call']:.4f} "
        f"| {fanout['single_call_rss_mb']:.1f} | {fanout['peak_rss_mb']:.1f} "
        f"| {fanout['rss_ratio']:.2f} |",
    ]


def _verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("holds" if ok else "**missed**")


def targets(summary: Summary, imports: dict[str, Any] | None,
            fanout: dict[str, Any] | None) -> list[str]:
    """The issue's targets for mcp_async, each with the measured worst case."""
    mine = [c for c in summary.cells() if c[0] == "minimal" and "mcp_async" in summary.runs[c]]
    every = [c for c in summary.cells() if "mcp_async" in summary.runs[c]]
    rows: list[tuple[str, str, bool | None]] = []

    cpu = [summary.ratio(c, "mcp_async", "floor", "cpu_us_per_call") for c in mine]
    cpu_ok = [v for v in cpu if v is not None]
    worst = max(cpu_ok, default=None)
    rows.append((f"CPU/call <= {CPU_TARGET}x floor (minimal server, every cell)",
                 _fmt(worst, ".2f", "x worst"), None if worst is None else worst <= CPU_TARGET))

    sse = []
    for server, reply, conc in mine:
        if reply == "sse" and (server, "json", conc) in summary.runs:
            a = summary.median((server, "sse", conc), "mcp_async", "cpu_us_per_call")
            b = summary.median((server, "json", conc), "mcp_async", "cpu_us_per_call")
            if a and b:
                sse.append(a / b)
    worst = max(sse, default=None)
    rows.append((f"SSE CPU/call = JSON CPU/call (within {SSE_SAME:.1f}x)",
                 _fmt(worst, ".2f", "x worst"), None if worst is None else worst <= SSE_SAME))

    conns = [summary.median(c, "mcp_async", "conn_per_call") for c in every]
    worst = max((v for v in conns if v is not None), default=None)
    rows.append(("0 new TCP connections per call after warm-up (all cells)",
                 _fmt(worst, ".3f", " worst"), None if worst is None else worst == 0))

    tput = [summary.ratio(c, "mcp_async", "floor", "calls_per_s") for c in mine if c[2] == 64]
    worst = min((v for v in tput if v is not None), default=None)
    rows.append((f"calls/s at conc 64 >= {THROUGHPUT_TARGET}x floor (minimal server)",
                 _fmt(worst, ".2f", "x worst"),
                 None if worst is None else worst >= THROUGHPUT_TARGET))

    if imports and "mcp_async" in imports:
        ratio = imports["mcp_async"]["x_aiohttp"]
        rows.append((f"import <= {IMPORT_TARGET}x aiohttp", f"{ratio:.2f}x",
                     ratio <= IMPORT_TARGET))

    rss = [summary.ratio(c, "mcp_async", "floor", "peak_rss_mb") for c in every]
    worst = max((v for v in rss if v is not None), default=None)
    rows.append((f"peak RSS <= {RSS_TARGET}x floor (all cells)", _fmt(worst, ".2f", "x worst"),
                 None if worst is None else worst <= RSS_TARGET))

    if fanout:
        name = f"{fanout['calls']:,}-call fan-out peak RSS < {FANOUT_RSS_TARGET}x single-call"
        rows.append((name,
                     f"{fanout['rss_ratio']:.2f}x", fanout["rss_ratio"] < FANOUT_RSS_TARGET))

    lines = ["| target | measured | verdict |", "|---|---:|---|"]
    lines.extend(f"| {name} | {value} | {_verdict(ok)} |" for name, value, ok in rows)
    return lines


def render(results: list[dict[str, Any]], imports: dict[str, Any] | None,
           fanout: dict[str, Any] | None) -> str:
    """The whole report as Markdown."""
    summary = Summary(results)
    out: list[str] = []
    for server in sorted({c[0] for c in summary.runs}, key=lambda s: s != "minimal"):
        out += [f"### {server} server", "", *cell_table(summary, server), ""]
    out += ["### connect + initialize", "", *connect_table(summary), ""]
    if imports:
        out += ["### import time", "", *import_table(imports), ""]
    if fanout:
        out += ["### fan-out", "", *fanout_table(fanout), ""]
    out += ["### targets (mcp_async)", "", *targets(summary, imports, fanout), ""]
    return "\n".join(out)
