"""examples/agent_pydantic_ai.py runs against the scripted model server (it starts its
own, and its own MCP server) and prints what docs/agents.md promises."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]

EXPECTED = [
    "first run answered: 2 + 3 = 5, and Lisbon's weather is in the tool results.",
    "second run answered: Counted to 6.",
    "add({'a': 2, 'b': 3}) -> ok: {\"result\":5}",
    "fail({}) -> refused: the call to 'fail' was refused and not run",
    "the model read for fail: {\"error\":\"the call to 'fail' was refused and not run: "
    "the operator does not allow 'fail' today.\"}",
    "tool calls: 9, MCP sessions: 1",
    "problems the scripted model found: none",
]


def test_pydantic_ai_example_runs() -> None:
    pytest.importorskip("pydantic_ai")
    pytest.importorskip("openai")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    done = subprocess.run([sys.executable, str(ROOT / "examples" / "agent_pydantic_ai.py")],
                          capture_output=True, text=True, timeout=90, cwd=ROOT, env=env)
    assert done.returncode == 0, f"the example failed:\n{done.stdout}\n{done.stderr}"
    for text in EXPECTED:
        assert text in done.stdout, f"{text!r} not in:\n{done.stdout}"
    assert "Traceback" not in done.stderr
