"""Every program in examples/ runs to completion (exit status 0) within 60 seconds."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").glob("*.py"))

#: Text an example must print, beyond exiting with status 0.
EXPECTED = {
    "group_catalogue.py": ["alpha__echo(text=...) -> hello from alpha",
                           "web__echo(text=...) -> hello from web"],
}


def test_there_are_examples() -> None:
    assert "group_catalogue.py" in [path.name for path in EXAMPLES]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.name)
def test_example_runs(path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(path)], capture_output=True, text=True, timeout=60,
        cwd=path.parent.parent,
    )
    assert done.returncode == 0, f"{path.name} failed:\n{done.stdout}\n{done.stderr}"
    for text in EXPECTED.get(path.name, []):
        assert text in done.stdout
