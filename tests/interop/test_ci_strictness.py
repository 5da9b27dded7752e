"""A missing interop server is a skip on a developer's machine, a failure under ``CI=true``.

Without Node.js the server-everything fixtures cannot run. Locally that skips their
tests; under ``CI=true`` (what CI sets) it must fail them, naming what is missing, so a
broken node or npm install cannot turn the interop suite into a green run of skips.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
import servers

INTEROP_DIR = Path(__file__).resolve().parent
REPO_ROOT = INTEROP_DIR.parent.parent


def _interop_conftest() -> ModuleType:
    """tests/interop/conftest.py as a module of its own (its fixture logic, run directly)."""
    spec = importlib.util.spec_from_file_location(
        "interop_conftest_under_test", INTEROP_DIR / "conftest.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def no_node(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A PATH with neither node nor npm on it."""
    monkeypatch.setenv("PATH", str(tmp_path))


@pytest.mark.parametrize("ci", ["true", "TRUE", "1"])
def test_under_ci_a_server_that_cannot_run_fails_and_names_what_is_missing(
    monkeypatch: pytest.MonkeyPatch, no_node: None, ci: str
) -> None:
    monkeypatch.setenv("CI", ci)
    conftest = _interop_conftest()
    with pytest.raises(pytest.fail.Exception) as info:
        next(conftest._running(servers.start_everything_server, "server-everything"))
    message = str(info.value)
    assert "server-everything cannot run here: node is not installed" in message
    assert "Node.js >= 20" in message and "install-interop-servers.sh" in message


@pytest.mark.parametrize("ci", [None, "", "false", "0"])
def test_outside_ci_a_server_that_cannot_run_is_skipped(
    monkeypatch: pytest.MonkeyPatch, no_node: None, ci: str | None
) -> None:
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    conftest = _interop_conftest()
    with pytest.raises(pytest.skip.Exception, match="node is not installed"):
        next(conftest._running(servers.start_everything_server, "server-everything"))


def test_under_ci_a_missing_install_fails_naming_the_path_and_the_script(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CI", "true")
    monkeypatch.setattr(servers, "EVERYTHING_ENTRY", tmp_path / "missing" / "index.js")
    with pytest.raises(servers.ServerUnavailable) as missing:
        servers.everything_stdio_command(install=False)
    conftest = _interop_conftest()
    with pytest.raises(pytest.fail.Exception) as info:
        conftest.unavailable("server-everything (stdio)", missing.value)
    assert str(tmp_path / "missing" / "index.js") in str(info.value)
    assert "install-interop-servers.sh" in str(info.value)


USES_THE_FIXTURES = '''
def test_shared_http(everything_server):
    pass

def test_stdio(everything_stdio_command):
    pass

def test_private(start_server):
    start_server("everything-sse")
'''


@pytest.mark.parametrize(("ci", "outcome"), [("true", "1 failed, 2 errors"), ("", "3 skipped")])
def test_the_fixtures_end_to_end(tmp_path: Path, ci: str, outcome: str) -> None:
    """A pytest run of tests that use the fixtures, on a machine without node."""
    (tmp_path / "test_uses_fixtures.py").write_text(USES_THE_FIXTURES)
    empty_path = tmp_path / "bin"
    empty_path.mkdir()
    env = {
        "PATH": str(empty_path),
        "PYTHONPATH": str(REPO_ROOT),
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "CI": ci,
    }
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.interop.conftest", "-p", "no:cacheprovider",
         "-q", "-rA", "test_uses_fixtures.py"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )
    summary = done.stdout.strip().splitlines()[-1]
    assert outcome in summary, done.stdout[-3000:] + done.stderr[-3000:]
    assert done.returncode == (1 if ci else 0)
    assert done.stdout.count("node is not installed") >= 3
