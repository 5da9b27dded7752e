"""Keep the benchmark harness working: a smoke-sized run that asserts figures, not speed.

Runs ``python -m benchmarks.run --quick`` for mcp_async and the raw floor against the
minimal server (JSON and SSE replies), with a small fan-out and one import sample,
as a subprocess, and checks that every cell produced numbers.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
CLIENTS = ("floor", "mcp_async")
REPLIES = ("json", "sse")
CONCURRENCY = (1, 16)


def test_quick_benchmark_produces_figures(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [
            sys.executable, "-m", "benchmarks.run", "--quick",
            "--clients", ",".join(CLIENTS), "--servers", "minimal",
            "--concurrency", ",".join(map(str, CONCURRENCY)),
            "--calls", "150", "--import-reps", "1", "--fanout-calls", "600",
            "--json", str(out),
        ],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "### minimal server" in done.stdout
    assert "### targets (mcp_async)" in done.stdout

    figures = json.loads(out.read_text())
    cells = {(r["client"], r["reply"], r["concurrency"]): r for r in figures["results"]}
    for client in CLIENTS:
        for reply in REPLIES:
            for conc in CONCURRENCY:
                row = cells[(client, reply, conc)]
                assert row["calls"] == 150
                assert row["calls_per_s"] > 0
                assert row["cpu_us_per_call"] > 0
                assert row["peak_rss_mb"] > 0
                assert row["connect_ms"] > 0
                assert row["conn_per_call"] >= 0

    assert set(figures["imports"]) == {"aiohttp", "mcp_async"}
    assert figures["imports"]["mcp_async"]["ms"] > 0
    fanout = figures["fanout"]
    assert fanout["calls"] == 600
    assert fanout["wall_s"] > 0
    assert fanout["peak_rss_mb"] >= fanout["single_call_rss_mb"] > 0
