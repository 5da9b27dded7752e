"""Keep the soak benchmark working: a few seconds of it, with the bar's hard parts asserted.

``python -m benchmarks.soak`` (see benchmarks/soak.py) runs minutes; here it runs for a
few seconds on every transport, with servers that crash every two to four seconds, and
must report completed calls, no untyped failure, no duplicated execution, and every
descriptor closed once the clients are.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from benchmarks.soak import TRANSPORTS, verdict

REPO_ROOT = Path(__file__).resolve().parent.parent


def test_short_soak_meets_the_bar(tmp_path: Path) -> None:
    out = tmp_path / "soak.json"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.soak", "--duration", "8", "--callers", "2",
         "--fanout", "8", "--lifetime", "2,4", "--json", str(out)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(out.read_text())
    assert set(report["transports"]) == set(TRANSPORTS)
    for transport, figures in report["transports"].items():
        assert figures["completed"] > 0, transport
        assert figures["untyped_failures"] == {}, (transport, figures["untyped_examples"])
        assert figures["duplicated_executions"] == 0, (transport, figures)
        assert figures["hung_workers"] == 0, transport
        # Every key the server executed was one the client sent.
        assert 0 < figures["executed_keys"] <= figures["keys_sent"], transport
    # The HTTP servers crashed and were started again during the run.
    assert report["transports"]["http"]["server_restarts"] >= 1
    assert report["transports"]["sse"]["server_restarts"] >= 1
    memory = report["memory"]
    assert memory["after_close"]["fds"] <= memory["before_clients"]["fds"] + 2
    assert len(memory["samples"]) >= 2
    assert "soak:" in done.stdout


def test_verdict_names_what_misses_the_bar() -> None:
    def report(untyped: int, duplicated: int, fds: list[int], closed_fds: int) -> dict:
        samples = [{"t": 10.0 + i, "rss_mb": 40.0, "fds": n} for i, n in enumerate(fds)]
        return {
            "totals": {"untyped_failures": untyped, "duplicated_executions": duplicated},
            "transports": {"http": {"hung_workers": 0}},
            "memory": {"warmup_s": 10.0, "samples": samples,
                       "before_clients": {"rss_mb": 30.0, "fds": 10},
                       "start": {"rss_mb": 40.0, "fds": 40},
                       "end_under_load": {"rss_mb": 41.0, "fds": 40},
                       "after_close": {"rss_mb": 41.0, "fds": closed_fds}},
        }

    assert verdict(report(0, 0, [40, 45, 41, 44], 10)) == []
    problems = verdict(report(2, 1, [40, 41, 80, 120], 30))
    assert problems[0] == "2 untyped failures"
    assert problems[1] == "1 duplicated executions"
    assert "descriptors grew" in problems[2]
    # One spike (a churned stdio client open at the sampling instant) is not growth.
    assert verdict(report(0, 0, [40, 41, 40, 42, 90, 41], 10)) == []
    assert "left open" in problems[3]
