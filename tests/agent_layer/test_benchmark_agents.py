"""benchmarks/agents.py keeps working: a smoke-sized run that checks figures, not speed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def test_agents_benchmark_smoke(tmp_path: Path) -> None:
    out = tmp_path / "agents.json"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.agents", "--rounds", "1", "--calls", "100",
         "--warmup", "5", "--json", str(out)],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    figures = json.loads(out.read_text())
    assert set(figures["variants"]) == {"plain", "openai", "openai-responses", "anthropic",
                                        "gemini"}
    for name, row in figures["variants"].items():
        assert row["cpu_us_per_call"] > 0
        assert (row["layer_alone_us"] is None) == (name == "plain")
    assert "| openai |" in done.stdout
