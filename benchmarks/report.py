"""Medians, paired ratios and the Markdown tables of a benchmark run.

Every worker result carries ``transport`` (``http`` when absent, as in older result
files), ``server``, ``reply``, ``concurrency``, ``client`` and ``round``. A ratio
"x floor" is the median over rounds of the ratio of the two clients' figures *in the
same round* (paired, so slow drift of the shared machine cancels out); plain figures
are medians over rounds. Streamable HTTP gets one table per server; stdio and the
legacy HTTP+SSE transport one table each. With ``--baseline`` every ``mcp_async*``
client has a twin ``<client>@baseline`` (the older checkout's library): a row of its own
in the tables, and a section pairing the two (:func:`baseline_section`).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from .clients import ALL_CLIENTS, BASELINE, adapter_name

Cell = tuple[str, str, str, int]  # transport, server, reply kind, concurrency
CLIENT_ORDER = ("floor", "floor_orjson", "floor_protocol", "mcp_async", "mcp", "fastmcp")
TRANSPORT_ORDER = ("http", "stdio", "sse")
TRANSPORT_TITLES = {
    "stdio": "stdio (`benchmarks/stdio_server.py`, spawned by each client)",
    "sse": "legacy HTTP+SSE, 2024-11-05 (`benchmarks/legacy_sse_server.py`)",
}
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
            cell = (row.get("transport", "http"), row["server"], row["reply"], row["concurrency"])
            self.runs[cell][row["client"]][row["round"]] = row

    def cells(self) -> list[Cell]:
        """All cells, ordered by transport, server, reply kind and concurrency."""
        return sorted(self.runs, key=lambda c: (_transport_rank(c[0]), c[1] != "minimal",
                                                c[2] != "json", c[3]))

    def transports(self) -> list[str]:
        """Transports measured, in report order."""
        return sorted({c[0] for c in self.runs}, key=_transport_rank)

    def clients(self, cell: Cell) -> list[str]:
        """Clients measured in ``cell``, in table order (a baseline twin after its client)."""
        return [c for c in _with_twins(CLIENT_ORDER) if c in self.runs[cell]]

    def twins(self) -> list[str]:
        """The ``<client>@baseline`` clients measured anywhere, in client order."""
        found = {c for by_client in self.runs.values() for c in by_client if c.endswith(BASELINE)}
        return sorted(found, key=lambda c: _client_rank(adapter_name(c)))

    def median(self, cell: Cell, client: str, key: str) -> float | None:
        """Median of ``key`` over the rounds of ``client`` in ``cell`` (missing values skipped)."""
        return _median(r[key] for r in self.runs[cell].get(client, {}).values()
                       if r.get(key) is not None)

    def ratio(self, cell: Cell, client: str, other: str, key: str) -> float | None:
        """Median over rounds of ``client[key] / other[key]`` measured in the same round."""
        mine = self.runs[cell].get(client, {})
        theirs = self.runs[cell].get(other, {})
        return _median(
            mine[r][key] / theirs[r][key] for r in mine if r in theirs and theirs[r][key]
        )

    def connect_ms(self, transport: str, server: str, client: str) -> float | None:
        """Median connect+initialize time of ``client`` on ``transport`` against ``server``."""
        return _median(
            row["connect_ms"]
            for cell, by_client in self.runs.items() if cell[:2] == (transport, server)
            for row in by_client.get(client, {}).values()
        )


def _with_twins(clients: Iterable[str]) -> list[str]:
    return [name for client in clients for name in (client, client + BASELINE)]


def _client_rank(client: str) -> int:
    return ALL_CLIENTS.index(client) if client in ALL_CLIENTS else len(ALL_CLIENTS)


def _transport_rank(transport: str) -> int:
    return TRANSPORT_ORDER.index(transport) if transport in TRANSPORT_ORDER else 99


def _fmt(value: float | None, spec: str, suffix: str = "") -> str:
    return "-" if value is None else f"{value:{spec}}{suffix}"


def _cell_row(summary: Summary, cell: Cell, client: str) -> str:
    def med(key: str) -> float | None:
        return summary.median(cell, client, key)

    def ratio(other: str, key: str) -> float | None:
        return summary.ratio(cell, client, other, key)

    name = f"**{client}**" if client == "mcp_async" else client
    return (
        f"| {cell[2]} | {cell[3]} | {name} | {_fmt(med('calls_per_s'), ',.0f')} "
        f"| {_fmt(ratio('floor', 'calls_per_s'), '.2f')} "
        f"| {_fmt(med('cpu_us_per_call'), ',.0f')} "
        f"| {_fmt(ratio('floor', 'cpu_us_per_call'), '.2f')} "
        f"| {_fmt(ratio('mcp', 'cpu_us_per_call'), '.2f')} "
        f"| {_fmt(med('conn_per_call'), '.3f')} | {_fmt(med('peak_rss_mb'), '.1f')} "
        f"| {_fmt(ratio('floor', 'peak_rss_mb'), '.2f')} |"
    )


def cell_table(summary: Summary, server: str) -> list[str]:
    """The Markdown table of every Streamable HTTP cell of ``server``."""
    lines = [
        "| reply | conc | client | calls/s | x floor | CPU us/call | x floor | x mcp "
        "| new conn/call | peak RSS MB | x floor |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for cell in summary.cells():
        if cell[:2] == ("http", server):
            lines.extend(_cell_row(summary, cell, client) for client in summary.clients(cell))
    return lines


def _transport_row(summary: Summary, cell: Cell, client: str, connections: bool) -> str:
    def med(key: str) -> float | None:
        return summary.median(cell, client, key)

    def ratio(other: str, key: str) -> float | None:
        return summary.ratio(cell, client, other, key)

    name = f"**{client}**" if client == "mcp_async" else client
    conn = f" {_fmt(med('conn_per_call'), '.3f')} |" if connections else ""
    return (
        f"| {cell[3]} | {name} | {_fmt(med('calls_per_s'), ',.0f')} "
        f"| {_fmt(ratio('floor', 'calls_per_s'), '.2f')} "
        f"| {_fmt(med('cpu_us_per_call'), ',.0f')} "
        f"| {_fmt(ratio('floor', 'cpu_us_per_call'), '.2f')} "
        f"| {_fmt(ratio('mcp', 'cpu_us_per_call'), '.2f')} "
        f"| {_fmt(med('server_cpu_us_per_call'), ',.0f')} |{conn} "
        f"{_fmt(med('peak_rss_mb'), '.1f')} | {_fmt(ratio('floor', 'peak_rss_mb'), '.2f')} |"
    )


def transport_table(summary: Summary, transport: str) -> list[str]:
    """The Markdown table of a stdio or legacy-SSE run: one row per concurrency and client."""
    connections = transport != "stdio"
    lines = [
        "| conc | client | calls/s | x floor | CPU us/call | x floor | x mcp | server CPU us/call "
        + ("| new conn/call " if connections else "") + "| peak RSS MB | x floor |",
        "|---:|---|---:|---:|---:|---:|---:|---:|" + ("---:|" if connections else "")
        + "---:|---:|",
    ]
    for cell in summary.cells():
        if cell[0] == transport:
            lines.extend(_transport_row(summary, cell, client, connections)
                         for client in summary.clients(cell))
    return lines


def _columns(summary: Summary) -> list[tuple[str, str, str]]:
    """(transport, server, heading) of every connect-time column."""
    columns = []
    for transport in summary.transports():
        servers = sorted({c[1] for c in summary.runs if c[0] == transport},
                         key=lambda s: s != "minimal")
        for server in servers:
            if transport == "http":
                heading = f"{server} server (ms)"
            else:
                heading = "stdio (ms)" if transport == "stdio" else "legacy SSE (ms)"
            columns.append((transport, server, heading))
    return columns


def connect_table(summary: Summary) -> list[str]:
    """Median connect+initialize time per client and server (stdio: spawn included)."""
    columns = _columns(summary)
    lines = ["| client | " + " | ".join(heading for _, _, heading in columns) + " |",
             "|---|" + "---:|" * len(columns)]
    for client in _with_twins(CLIENT_ORDER):
        values = [summary.connect_ms(t, s, client) for t, s, _ in columns]
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


def baseline_section(summary: Summary, label: str = "the baseline",
                     imports: dict[str, dict[str, float]] | None = None) -> list[str]:
    """Every ``mcp_async*`` client against its ``@baseline`` twin: CPU per call, per cell.

    "x baseline" is paired like every ratio here (this checkout / the baseline in the
    same round, median over rounds); the geometric mean over the cells makes "no
    slowdown" one figure (below 1: faster now).
    """
    twins = summary.twins()
    if not twins:
        return []
    lines = [
        f"### mcp_async against the baseline, {label}",
        "",
        "*Client CPU µs per call, median over rounds; x baseline = this checkout / the "
        "baseline's library (same adapter), paired per round; below 1 = faster now.*",
        "",
        "| transport | server | reply | conc | client | CPU us/call | baseline CPU us/call "
        "| x baseline |",
        "|---|---|---|---:|---|---:|---:|---:|",
    ]
    per_client: dict[str, list[float]] = defaultdict(list)
    for cell in summary.cells():
        for twin in twins:
            client = adapter_name(twin)
            if twin not in summary.runs[cell] and client not in summary.runs[cell]:
                continue
            ratio = summary.ratio(cell, client, twin, "cpu_us_per_call")
            if ratio is not None:
                per_client[client].append(ratio)
            lines.append(
                f"| {cell[0]} | {cell[1]} | {cell[2]} | {cell[3]} | {client} "
                f"| {_fmt(summary.median(cell, client, 'cpu_us_per_call'), ',.0f')} "
                f"| {_fmt(summary.median(cell, twin, 'cpu_us_per_call'), ',.0f')} "
                f"| {_fmt(ratio, '.3f')} |"
            )
    lines += ["", "| client | cells | x baseline, geometric mean | best cell | worst cell |",
              "|---|---:|---:|---:|---:|"]
    every = [r for ratios in per_client.values() for r in ratios]
    rows = [(client, per_client[client]) for client in map(adapter_name, twins)]
    if len(rows) > 1:
        rows.append(("**all**", every))
    for client, ratios in rows:
        mean = statistics.geometric_mean(ratios) if ratios else None
        lines.append(f"| {client} | {len(ratios)} | **{_fmt(mean, '.3f', 'x')}** "
                     f"| {_fmt(min(ratios, default=None), '.3f', 'x')} "
                     f"| {_fmt(max(ratios, default=None), '.3f', 'x')} |")
    now, then = (imports or {}).get("mcp_async"), (imports or {}).get("mcp_async" + BASELINE)
    if now and then:
        lines += ["", f"*import mcp_async: {now['ms']:.0f} ms, the baseline {then['ms']:.0f} ms "
                      f"({now['ms'] / then['ms']:.2f}x; medians, not paired).*"]
    return [*lines, ""]


def _verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("holds" if ok else "**missed**")


def targets(summary: Summary, imports: dict[str, Any] | None,
            fanout: dict[str, Any] | None) -> list[str]:
    """The issue's targets for mcp_async, each with the measured worst case.

    The Streamable HTTP targets are measured on HTTP cells only; stdio and legacy SSE get
    the same CPU bar as rows of their own.
    """
    http = [c for c in summary.cells() if c[0] == "http"]
    mine = [c for c in http if c[1] == "minimal" and "mcp_async" in summary.runs[c]]
    every = [c for c in http if "mcp_async" in summary.runs[c]]
    rows: list[tuple[str, str, bool | None]] = []

    cpu = [summary.ratio(c, "mcp_async", "floor", "cpu_us_per_call") for c in mine]
    cpu_ok = [v for v in cpu if v is not None]
    worst = max(cpu_ok, default=None)
    rows.append((f"CPU/call <= {CPU_TARGET}x floor (minimal server, every cell)",
                 _fmt(worst, ".2f", "x worst"), None if worst is None else worst <= CPU_TARGET))

    sse = []
    for transport, server, reply, conc in mine:
        if reply == "sse" and (transport, server, "json", conc) in summary.runs:
            a = summary.median((transport, server, "sse", conc), "mcp_async", "cpu_us_per_call")
            b = summary.median((transport, server, "json", conc), "mcp_async",
                               "cpu_us_per_call")
            if a and b:
                sse.append(a / b)
    worst = max(sse, default=None)
    rows.append((f"SSE CPU/call = JSON CPU/call (within {SSE_SAME:.1f}x)",
                 _fmt(worst, ".2f", "x worst"), None if worst is None else worst <= SSE_SAME))

    conns = [summary.median(c, "mcp_async", "conn_per_call") for c in every]
    worst = max((v for v in conns if v is not None), default=None)
    rows.append(("0 new TCP connections per call after warm-up (all cells)",
                 _fmt(worst, ".3f", " worst"), None if worst is None else worst == 0))

    tput = [summary.ratio(c, "mcp_async", "floor", "calls_per_s") for c in mine if c[3] == 64]
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

    for transport, label in (("stdio", "stdio"), ("sse", "legacy HTTP+SSE")):
        cells = [c for c in summary.cells() if c[0] == transport]
        if not cells:
            continue
        cpu = [summary.ratio(c, "mcp_async", "floor", "cpu_us_per_call") for c in cells]
        worst = max((v for v in cpu if v is not None), default=None)
        rows.append((f"{label}: CPU/call <= {CPU_TARGET}x floor (every cell)",
                     _fmt(worst, ".2f", "x worst"), None if worst is None else worst <= CPU_TARGET))

    if fanout:
        name = f"{fanout['calls']:,}-call fan-out peak RSS < {FANOUT_RSS_TARGET}x single-call"
        rows.append((name,
                     f"{fanout['rss_ratio']:.2f}x", fanout["rss_ratio"] < FANOUT_RSS_TARGET))

    lines = ["| target | measured | verdict |", "|---|---:|---|"]
    lines.extend(f"| {name} | {value} | {_verdict(ok)} |" for name, value, ok in rows)
    return lines


def _skipped(unavailable: dict[str, dict[str, str]] | None, transport: str) -> list[str]:
    notes = (unavailable or {}).get(transport, {})
    return [f"*{client} not measured: {reason}.*" for client, reason in notes.items()]


def render(results: list[dict[str, Any]], imports: dict[str, Any] | None,
           fanout: dict[str, Any] | None,
           unavailable: dict[str, dict[str, str]] | None = None,
           group: dict[str, Any] | None = None, baseline: str | None = None) -> str:
    """The whole report as Markdown (``unavailable``: transport -> client -> reason;
    ``group``: the client-group figures of ``benchmarks.group``, if run; ``baseline``:
    how to name the ``--baseline`` checkout in its section's heading)."""
    summary = Summary(results)
    out: list[str] = []
    http_servers = sorted({c[1] for c in summary.runs if c[0] == "http"},
                          key=lambda s: s != "minimal")
    for server in http_servers:
        out += [f"### {server} server", "", *cell_table(summary, server), ""]
    if http_servers and _skipped(unavailable, "http"):
        out += [*_skipped(unavailable, "http"), ""]
    for transport in ("stdio", "sse"):
        if transport in summary.transports() or (unavailable or {}).get(transport):
            out += [f"### {TRANSPORT_TITLES[transport]}", "", *transport_table(summary, transport),
                    ""]
            if _skipped(unavailable, transport):
                out += [*_skipped(unavailable, transport), ""]
    out += ["### connect + initialize", "", *connect_table(summary), ""]
    if imports:
        out += ["### import time", "", *import_table(imports), ""]
    if fanout:
        out += ["### fan-out", "", *fanout_table(fanout), ""]
    out += baseline_section(summary, baseline or "the baseline", imports)
    out += ["### targets (mcp_async)", "", *targets(summary, imports, fanout), ""]
    if group:
        out += group_section(group)
    return "\n".join(out)


# -- client groups (benchmarks/group.py, issue 14) -----------------------------------------
GROUP_OPEN_SLOWEST_TARGET = 1.25  # staggered start-ups: a 10-server group ~ the slowest one
GROUP_OPEN_PARALLEL_SLACK = 1.5  # plain (CPU-bound) start-ups: <= 1.5x sum / min(CPUs, n)
GROUP_OPEN_BY_HAND_TARGET = 1.1  # the group adds (almost) nothing to asyncio.gather
GROUP_CPU_TARGET = 1.2  # group fan-out CPU/call <= 1.2x one-server fan-out
GROUP_TITLES = {"group": "group", "by_hand": "by hand: a client per server, gathered",
                "single_per_server": "one client, conc = per server",
                "single_concurrency": "one client, conc = group conc",
                "memory_group": "in memory: group", "memory_single": "in memory: one client"}


def _peaks(row: dict[str, Any]) -> str:
    peaks = row.get("peak_in_flight") or {}
    return ", ".join(f"{name}: {peak}" for name, peak in sorted(peaks.items())) or "-"


def group_section(figures: dict[str, Any]) -> list[str]:
    """The client-group tables and targets (``figures`` from ``benchmarks.group.run``)."""
    opens = figures.get("open") or {}
    fanout = figures.get("fanout") or {}
    out = ["### client groups (stdio, `benchmarks/group.py`)", "",
           f"*{figures.get('cpu_count')} CPUs. `open`: `async with group`; `ready`: plus the "
           "first `list_tools()`. Staggered: server i sleeps (i+1) x "
           f"{figures.get('settings', {}).get('delay_step', 0):.2f} s before serving; "
           "\"slowest alone\" is a group of that one server; \"by hand\": the same clients "
           "opened with `asyncio.gather`, no group; \"raw floor\": the same server "
           "processes started at once without mcp_async, each sent one `initialize` line, "
           "until the last reply, and its ratio to the slowest one alone the same way.*", "",
           "| start-up | servers | open (ms) | ready (ms) | by hand (ms) | x by hand "
           "| raw floor (ms) | x raw floor | raw floor x its slowest alone "
           "| slowest alone: open / ready (ms) | x slowest (open / ready) "
           "| sum of each alone (ms) | x sum | close (ms) |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for variant, row in opens.items():
        out.append(
            f"| {variant} | {row['servers']} | {_fmt(row['group_open_ms'], '.1f')} "
            f"| {_fmt(row['group_ready_ms'], '.1f')} "
            f"| {_fmt(row.get('by_hand_open_ms'), '.1f')} | {_fmt(row.get('x_by_hand'), '.2f')} "
            f"| {_fmt(row.get('raw_open_ms'), '.1f')} | {_fmt(row.get('x_raw'), '.2f')} "
            f"| {_fmt(row.get('raw_x_slowest'), '.2f')} "
            f"| {_fmt(row['slowest_open_ms'], '.1f')} / {_fmt(row['slowest_ready_ms'], '.1f')} "
            f"| {_fmt(row['x_slowest'], '.2f')} / {_fmt(row['x_slowest_ready'], '.2f')} "
            f"| {_fmt(row['sum_open_ms'], ',.0f')} | {_fmt(row['x_sum'], '.2f')} "
            f"| {_fmt(row['group_close_ms'], '.1f')} |")
    out += ["", "| run | servers | conc | per server | calls | calls/s | CPU us/call "
            "| group x this (range) | Python calls/call | group x this "
            "| peak in flight per server | peak in flight | bound kept |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---|"]
    for name, title in GROUP_TITLES.items():
        row = fanout.get(name)
        if not row:
            continue
        ratio = fanout.get(f"x_{name}")
        spread = fanout.get(f"x_{name}_range")
        shown = _fmt(ratio, ".2f") + (f" ({spread[0]:.2f}-{spread[1]:.2f})" if spread else "")
        out.append(
            f"| {title} | {row['servers']} | {row['concurrency']} "
            f"| {row['per_server'] if row['per_server'] is not None else '-'} "
            f"| {row['calls']:,} | {_fmt(row['calls_per_s'], ',.0f')} "
            f"| {_fmt(row['cpu_us_per_call'], '.1f')} | {shown} "
            f"| {_fmt(row.get('py_calls_per_call'), '.1f')} "
            f"| {_fmt(fanout.get(f'py_x_{name}'), '.2f')} "
            f"| {_peaks(row)} | {row['peak_in_flight_total']} "
            f"| {'yes' if row['bound_kept'] else '**no**'} |")
    out += ["", *group_targets(figures), ""]
    return out


def group_targets(figures: dict[str, Any]) -> list[str]:
    """Issue 14's performance targets, each with its measured figure."""
    opens = figures.get("open") or {}
    fanout = figures.get("fanout") or {}
    rows: list[tuple[str, str, bool | None]] = []
    staggered = opens.get("staggered")
    if staggered:
        worst = max(v for v in (staggered["x_slowest"], staggered["x_slowest_ready"])
                    if v is not None)
        floor = staggered.get("raw_x_slowest")
        rows.append((f"{staggered['servers']}-server group opens in about the slowest one's "
                     f"time (staggered start-ups, open and ready) <= {GROUP_OPEN_SLOWEST_TARGET}x"
                     + (f" (the raw floor's own: {floor:.2f}x)" if floor is not None else ""),
                     f"{worst:.2f}x", worst <= GROUP_OPEN_SLOWEST_TARGET))
    for variant, row in opens.items():
        # (Plain start-ups are CPU-bound: there the clients' own handshakes compete with
        # ten interpreters, which the parallel-open row below bounds.)
        if variant == "staggered" and row.get("x_raw") is not None:
            rows.append((f"{variant} start-ups: open <= {GROUP_OPEN_BY_HAND_TARGET}x the raw "
                         "floor (the same processes started and sent `initialize` without "
                         f"mcp_async; the floor itself takes {row['raw_x_slowest']:.2f}x its "
                         "slowest server alone)", f"{row['x_raw']:.2f}x",
                         row["x_raw"] <= GROUP_OPEN_BY_HAND_TARGET))
        if row.get("x_by_hand") is not None:
            rows.append((f"{variant} start-ups: the group's own cost, open <= "
                         f"{GROUP_OPEN_BY_HAND_TARGET}x the same clients opened by hand "
                         "(`asyncio.gather`)", f"{row['x_by_hand']:.2f}x",
                         row["x_by_hand"] <= GROUP_OPEN_BY_HAND_TARGET))
    plain = opens.get("plain")
    if plain and plain["group_ready_ms"] is not None and plain["sum_open_ms"]:
        # Python start-ups are CPU-bound: n of them take at best sum / min(CPUs, n).
        lanes = min(int(figures.get("cpu_count") or 1), int(plain["servers"]))
        bar = GROUP_OPEN_PARALLEL_SLACK * plain["sum_open_ms"] / lanes
        rows.append((f"{plain['servers']} plain servers (CPU-bound start-ups) open in parallel: "
                     f"ready <= {GROUP_OPEN_PARALLEL_SLACK}x sum / min(CPUs, servers) "
                     f"= {bar:,.0f} ms",
                     f"{plain['group_ready_ms']:,.0f} ms ({plain['x_sum_ready']:.2f}x sum)",
                     plain["group_ready_ms"] <= bar))
    group = fanout.get("group")
    if group:
        rows.append((f"{group['calls']:,}-call fan-out over {group['servers']} servers keeps "
                     f"per_server={group['per_server']} (conc {group['concurrency']})",
                     f"peak {max(group['peak_in_flight'].values(), default=0)} per server, "
                     f"{group['peak_in_flight_total']} total", bool(group["bound_kept"])))
        memory = fanout.get("x_memory_single")
        if memory is not None:
            rows.append((f"the group's own cost in memory (no processes): CPU/call <= "
                         f"{GROUP_CPU_TARGET}x one client",
                         f"{memory:.2f}x ({fanout['plus_us_memory_single']:+.1f} us/call)",
                         memory <= GROUP_CPU_TARGET))
        by_hand = fanout.get("x_by_hand")
        if by_hand is not None:
            rows.append((f"the group's own cost: CPU/call <= {GROUP_CPU_TARGET}x the same "
                         "fan-out by hand (a client per server)", f"{by_hand:.2f}x",
                         by_hand <= GROUP_CPU_TARGET))
        counted = {name: fanout.get(f"py_x_{name}") for name in (
            "by_hand", "single_per_server", "single_concurrency", "memory_single")}
        counted = {name: value for name, value in counted.items() if value is not None}
        if counted:
            worst = max(counted.values())
            short = {"by_hand": "by hand", "single_per_server": "one client, conc = P",
                     "single_concurrency": "one client, conc = C", "memory_single": "in memory"}
            rows.append((f"Python function calls per tool call (cProfile, free of CPU-time "
                         f"noise) <= {GROUP_CPU_TARGET}x: group vs "
                         + ", ".join(short[name] for name in counted),
                         ", ".join(f"{value:.2f}x" for value in counted.values()),
                         worst <= GROUP_CPU_TARGET))
        ratios = [fanout.get(f"x_{name}") for name in ("single_per_server", "single_concurrency")]
        present = [v for v in ratios if v is not None]
        worst = max(present, default=None)
        rows.append((f"group CPU/call <= {GROUP_CPU_TARGET}x one-server fan-out (worst of conc "
                     "= per server, conc = group conc)",
                     _fmt(worst, ".2f", "x") + (f" ({', '.join(f'{v:.2f}x' for v in present)})"
                                                if present else ""),
                     None if worst is None else worst <= GROUP_CPU_TARGET))
    lines = ["| target | measured | verdict |", "|---|---:|---|"]
    lines.extend(f"| {name} | {value} | {_verdict(ok)} |" for name, value, ok in rows)
    return lines
