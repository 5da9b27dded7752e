"""Keep the benchmark harness working: smoke-sized runs that assert figures, not speed.

Runs ``python -m benchmarks.run --quick`` as a subprocess, once for every transport (a
module-scoped fixture the tests share), and checks that every cell produced numbers:

* Streamable HTTP: mcp_async and the raw floor against the minimal server (JSON and SSE
  replies), with a small fan-out and one import sample;
* stdio and legacy HTTP+SSE: the raw floors always; mcp_async where this checkout has
  the transport (``AsyncMCPClient.stdio``; ``AsyncMCPClient(url, transport="sse")``),
  skipped with the reason otherwise.
"""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
CLIENTS = ("floor", "mcp_async")
REPLIES = ("json", "sse")
CONCURRENCY = (1, 16)
NEW_TRANSPORTS = ("stdio", "sse")
#: Calls per HTTP and legacy SSE cell (a stdio cell makes STDIO_FACTOR times as many).
CALLS = 60
#: A stdio cell times ten times the calls of an HTTP cell unless --stdio-calls says otherwise.
STDIO_FACTOR = 10
#: Calls per HTTP cell of the --modern-only run.
MODERN_CALLS = 30


def _calls(transport: str, calls: int) -> int:
    return calls * STDIO_FACTOR if transport == "stdio" else calls


def _check_row(row: dict[str, Any], calls: int) -> None:
    assert row["calls"] == calls
    assert row["calls_per_s"] > 0
    assert row["cpu_us_per_call"] > 0
    assert row["peak_rss_mb"] > 0
    assert row["connect_ms"] > 0
    # Connections are reused: after the warm-up (which opens every lane's connection) the
    # timed calls open almost none. One per call would be 1.0.
    assert 0 <= row["conn_per_call"] <= 0.05


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One quick run of every transport (Streamable HTTP against the minimal server, stdio,
    legacy SSE), floor and mcp_async, with the imports and the fan-out: the tests below
    each check their part of it."""
    out = tmp_path_factory.mktemp("bench") / "bench.json"
    done = subprocess.run(
        [
            sys.executable, "-m", "benchmarks.run", "--quick",
            "--transports", ",".join(("http", *NEW_TRANSPORTS)),
            "--clients", ",".join(CLIENTS), "--servers", "minimal",
            "--concurrency", ",".join(map(str, CONCURRENCY)), "--calls", str(CALLS),
            "--warmup", "10", "--import-reps", "1", "--fanout-calls", "600",
            "--json", str(out),
        ],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=240,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    figures: dict[str, Any] = json.loads(out.read_text())
    figures["stdout"] = done.stdout
    figures["stderr"] = done.stderr
    return figures


def test_quick_benchmark_produces_figures(quick_run: dict[str, Any]) -> None:
    assert "### minimal server" in quick_run["stdout"]
    assert "### targets (mcp_async)" in quick_run["stdout"]

    cells = {(r["client"], r["reply"], r["concurrency"]): r for r in quick_run["results"]
             if r["transport"] == "http"}
    for client in CLIENTS:
        for reply in REPLIES:
            for conc in CONCURRENCY:
                _check_row(cells[(client, reply, conc)], CALLS)

    assert set(quick_run["imports"]) == {"aiohttp", "mcp_async"}
    assert quick_run["imports"]["mcp_async"]["ms"] > 0
    fanout = quick_run["fanout"]
    assert fanout["calls"] == 600
    assert fanout["wall_s"] > 0
    assert fanout["peak_rss_mb"] >= fanout["single_call_rss_mb"] > 0


def _cells(figures: dict[str, Any], client: str, transport: str) -> dict[int, dict[str, Any]]:
    return {r["concurrency"]: r for r in figures["results"]
            if r["client"] == client and r["transport"] == transport}


@pytest.mark.parametrize("transport", NEW_TRANSPORTS)
def test_quick_new_transport_floor(quick_run: dict[str, Any], transport: str) -> None:
    assert "### stdio" in quick_run["stdout"]
    assert "### legacy HTTP+SSE" in quick_run["stdout"]
    cells = _cells(quick_run, "floor", transport)
    assert set(cells) == set(CONCURRENCY), quick_run["stderr"][-2000:]
    for row in cells.values():
        _check_row(row, _calls(transport, CALLS))
        assert row["conn_per_call"] == 0  # the floor keeps its connections (none for stdio)
    if transport == "stdio":
        # The stdio server is the worker's child: its CPU is measured apart from the client's.
        assert all(row["server_cpu_us_per_call"] is not None for row in cells.values())


def _mcp_async_lacks(transport: str) -> str | None:
    """Why this checkout's mcp_async cannot be measured on ``transport``, or ``None``."""
    from mcp_async import AsyncMCPClient

    if transport == "stdio" and not hasattr(AsyncMCPClient, "stdio"):
        return "AsyncMCPClient.stdio does not exist yet"
    if transport == "sse" and "transport" not in inspect.signature(AsyncMCPClient).parameters:
        return "AsyncMCPClient(url, transport='sse') does not exist yet"
    return None


@pytest.mark.parametrize("transport", NEW_TRANSPORTS)
def test_quick_new_transport_mcp_async(
    quick_run: dict[str, Any], transport: str
) -> None:
    reason = _mcp_async_lacks(transport)
    if reason is None:
        reason = quick_run["unavailable"].get(transport, {}).get("mcp_async")
    if reason is not None:
        pytest.skip(f"mcp_async on {transport}: {reason}")
    cells = _cells(quick_run, "mcp_async", transport)
    assert set(cells) == set(CONCURRENCY), quick_run["stderr"][-2000:]
    for row in cells.values():
        _check_row(row, _calls(transport, CALLS))


def test_quick_group_benchmark(tmp_path: Path) -> None:
    """Client groups (benchmarks/group.py): opening times and a fan-out that keeps its bound."""
    import mcp_async

    if not hasattr(mcp_async, "MCPClientGroup"):
        pytest.skip("mcp_async.MCPClientGroup does not exist yet")
    out = tmp_path / "group.json"
    done = subprocess.run(
        [
            sys.executable, "-m", "benchmarks.run", "--group-only", "--quick",
            "--group-servers", "2", "--group-delay-step", "0.02", "--group-fanout-servers", "2",
            "--group-fanout-calls", "120", "--group-warmup", "20", "--group-concurrency", "3",
            "--group-per-server", "2",
            "--json", str(out),
        ],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=180,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "### client groups" in done.stdout
    figures = json.loads(out.read_text())["group"]

    for variant in ("plain", "staggered"):
        row = figures["open"][variant]
        assert row["servers"] == 2
        for key in ("group_open_ms", "group_ready_ms", "slowest_open_ms", "sum_open_ms"):
            assert row[key] > 0
        assert row["x_slowest"] > 0 and row["x_sum"] > 0
    assert figures["open"]["staggered"]["delays"] == pytest.approx([0.02, 0.04])

    fanout = figures["fanout"]
    group = fanout["group"]
    assert (group["calls"], group["servers"], group["per_server"]) == (120, 2, 2)
    assert group["bound_kept"], group
    assert set(group["peak_in_flight"]) == {"s0", "s1"}
    assert max(group["peak_in_flight"].values()) <= 2
    # Bounded by the concurrency (3, under 2 servers x 2 per server), yet concurrent.
    assert 1 < group["peak_in_flight_total"] <= 3
    assert sum(group["counted_calls"].values()) == 120
    assert group["cpu_us_per_call"] > 0
    for name in ("single_per_server", "single_concurrency"):
        assert fanout[name]["calls"] == 120
        assert fanout[name]["bound_kept"]
        assert fanout[f"x_{name}"] > 0


def test_quick_modern_benchmark(tmp_path: Path) -> None:
    """MCP 2026-07-28 (``--modern-only``): floor and mcp_async with the envelope, MRTR, the
    probe counted once per ``protocol="auto"`` client, against both minimal servers."""
    from mcp_async.session.revisions import stateless_2026

    if not hasattr(stateless_2026, "Envelope"):
        pytest.skip("mcp_async does not speak MCP 2026-07-28 yet")
    out = tmp_path / "modern.json"
    clients = ("floor_modern", "mcp_async", "mcp_async_modern", "mcp_async_auto",
               "floor_modern_mrtr", "mcp_async_mrtr")
    done = subprocess.run(
        [
            sys.executable, "-m", "benchmarks.run", "--modern-only", "--quick",
            "--clients", ",".join(clients), "--replies", "json", "--concurrency", "1,8",
            "--calls", str(MODERN_CALLS), "--warmup", "10", "--json", str(out),
        ],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=180,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "### MCP 2026-07-28" in done.stdout
    figures = json.loads(out.read_text())
    rows = {(r["client"], r["transport"], r["concurrency"]): r for r in figures["results"]}
    for client in clients:
        for transport in ("http", "stdio"):
            for conc in (1, 8):
                _check_row(rows[(client, transport, conc)], _calls(transport, MODERN_CALLS))
    for transport in ("http", "stdio"):
        for conc in (1, 8):
            assert rows[("mcp_async_auto", transport, conc)]["discover_requests"] == 1
            assert rows[("mcp_async_modern", transport, conc)]["discover_requests"] == 0
            assert rows[("mcp_async_modern", transport, conc)]["initialize_requests"] == 0
            assert rows[("mcp_async", transport, conc)]["initialize_requests"] == 1


def _fake_checkout(root: Path) -> Path:
    """A directory shaped like an older checkout: only ``mcp_async/__init__.py``."""
    (root / "mcp_async").mkdir(parents=True)
    (root / "mcp_async" / "__init__.py").write_text('WHERE = "baseline"\n')
    return root


def test_baseline_option_checks_the_checkout_and_adds_twins(tmp_path: Path) -> None:
    """``--baseline PATH``: PATH must hold mcp_async/__init__.py; every mcp_async* client
    then gets an ``@baseline`` twin right after it."""
    from benchmarks.run import parse_args

    with pytest.raises(SystemExit):
        parse_args(["--baseline", str(tmp_path), "--clients", "floor,mcp_async"])
    checkout = _fake_checkout(tmp_path / "old")
    args = parse_args(["--baseline", str(checkout), "--clients", "floor,mcp_async"])
    assert args.clients == ["floor", "mcp_async", "mcp_async@baseline"]
    assert args.baseline == checkout.resolve()
    args = parse_args(["--modern-only", "--baseline", str(checkout),
                       "--clients", "floor_modern,mcp_async_modern,mcp_async_auto"])
    assert args.clients == ["floor_modern", "mcp_async_modern", "mcp_async_modern@baseline",
                            "mcp_async_auto", "mcp_async_auto@baseline"]


def test_baseline_worker_imports_mcp_async_from_the_checkout(tmp_path: Path) -> None:
    """What a baseline worker does first: this repository is first on ``sys.path`` (the
    working directory), yet ``mcp_async`` comes from the checkout, and that is checked."""
    checkout = _fake_checkout(tmp_path)
    done = subprocess.run(
        [sys.executable, "-c", "import sys; from benchmarks.baseline import use; "
         "print(use(sys.argv[1])); import mcp_async; print(mcp_async.WHERE)", str(checkout)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    where, mark = done.stdout.split()
    assert Path(where) == (checkout / "mcp_async" / "__init__.py").resolve()
    assert mark == "baseline"


def test_baseline_section_pairs_each_client_with_its_twin() -> None:
    """The report: the twin is a row of its own, and x baseline is paired per round with
    a geometric mean over the cells."""
    from benchmarks.report import Summary, baseline_section, cell_table

    def row(client: str, conc: int, round_no: int, cpu: float) -> dict[str, Any]:
        return {"client": client, "transport": "http", "server": "minimal", "reply": "json",
                "concurrency": conc, "round": round_no, "cpu_us_per_call": cpu,
                "calls_per_s": 1000.0, "conn_per_call": 0.0, "peak_rss_mb": 40.0,
                "connect_ms": 5.0}

    results = [row("mcp_async", 1, 0, 100.0), row("mcp_async@baseline", 1, 0, 200.0),
               row("mcp_async", 16, 0, 300.0), row("mcp_async@baseline", 16, 0, 150.0),
               row("mcp_async", 16, 1, 300.0), row("mcp_async@baseline", 16, 1, 100.0)]
    summary = Summary(results)
    assert any("| mcp_async@baseline |" in line for line in cell_table(summary, "minimal"))
    text = "\n".join(baseline_section(summary, "`old`"))
    assert "| http | minimal | json | 1 | mcp_async | 100 | 200 | 0.500 |" in text
    assert "| http | minimal | json | 16 | mcp_async | 300 | 125 | 2.500 |" in text
    assert "| mcp_async | 2 | **1.118x** | 0.500x | 2.500x |" in text  # sqrt(0.5 * 2.5)
    assert baseline_section(Summary(results[::2]), "`old`") == []
