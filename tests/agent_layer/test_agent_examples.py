"""examples/agent_openai.py and examples/agent_anthropic.py run against the scripted
model server (each starts its own) and print what their docs promise."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent

EXPECTED = {
    "agent_openai.py": [
        "offered: add, echo, fail, weather",
        "left out: slow: denied by the tool policy",
        "round 1: add({'a': 2, 'b': 3}) -> ok: {\"result\":5}",
        "round 2: fail({}) -> tool_error: Error: this tool always fails",
        "round 3: the model answered: 2 + 3 = 5",
        "problems the scripted model found: none",
    ],
    "agent_anthropic.py": [
        "tool_result for toolu_0002: is_error=False: {\"result\":42}",
        "is_error=True: the call to 'fail' was refused and not run: the operator does not "
        "allow 'fail' today.",
        "decisions: {'approved': 2, 'rejected': 1}",
        "problems the scripted model found: none",
    ],
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_agent_example_runs(name: str) -> None:
    pytest.importorskip("openai" if "openai" in name else "anthropic")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    done = subprocess.run([sys.executable, str(ROOT / "examples" / name)], capture_output=True,
                          text=True, timeout=60, cwd=ROOT, env=env)
    assert done.returncode == 0, f"{name} failed:\n{done.stdout}\n{done.stderr}"
    for text in EXPECTED[name]:
        assert text in done.stdout, f"{text!r} not in:\n{done.stdout}"
