"""The official MCP conformance harness against mcp_async (tests/conformance/client.py).

One test per client scenario and run: every scenario of 0.2.0-alpha.12 at its default
wire, the 2026-07-28 requirement set at the 2026-07-28 wire, and every scenario of
0.1.16. A scenario passes only when the harness reported a SUCCESS check and no FAILURE
or WARNING, and the client exited 0 (harness.py). Known failures are listed, with the
reason, in expected-failures.yml and run as strict xfails: one that starts to pass
fails the run until its entry is removed.

The harness comes from npm (scripts/install-conformance.sh, run by ``make test`` and,
if needed, here at collection); without npm the tests are skipped, except under
``CI=true``, where that fails.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import harness
import pytest
import yaml

pytestmark = pytest.mark.conformance

EXPECTED: dict[str, dict[str, str]] = {
    run: dict(entries or {})
    for run, entries in yaml.safe_load(
        (Path(__file__).with_name("expected-failures.yml")).read_text()
    ).items()
}
# run id -> (harness version, wire or None for each scenario's own)
RUNS = {"0.2": ("0.2", None), "2026-07-28": ("0.2", harness.MODERN_WIRE), "0.1": ("0.1", None)}


def _install() -> str | None:
    """Install the harness if needed; the reason it cannot run here, or ``None``."""
    if harness.installed():
        return None
    if shutil.which("npm") is None:
        return "npm is not installed (the conformance harness comes from npm)"
    script = harness.ROOT / "scripts" / "install-conformance.sh"
    done = subprocess.run(["bash", str(script)], capture_output=True, text=True, timeout=600)
    if done.returncode != 0 or not harness.installed():
        raise RuntimeError(f"scripts/install-conformance.sh failed:\n{done.stderr[-2000:]}")
    return None


def _cases() -> list[Any]:
    missing = _install()
    if missing is not None:
        return [pytest.param(None, missing, id="harness")]
    cases = []
    for run, (version, wire) in RUNS.items():
        names = (harness.required_scenarios(version, wire) if wire is not None
                 else harness.client_scenarios(version))
        for name in names:
            marks = []
            reason = EXPECTED.get(run, {}).get(name)
            if reason is not None:
                marks.append(pytest.mark.xfail(strict=True, reason=reason))
            cases.append(pytest.param(run, name, marks=marks, id=f"{run}:{name}"))
    return cases


CASES = _cases()


def test_expected_failures_name_real_scenarios() -> None:
    known = {(c.values[0], c.values[1]) for c in CASES}
    for run, entries in EXPECTED.items():
        assert run in RUNS, f"expected-failures.yml: unknown run {run!r}"
        for name, reason in entries.items():
            if CASES and CASES[0].values[0] is not None:
                assert (run, name) in known, f"expected-failures.yml: no scenario {run}:{name}"
            assert isinstance(reason, str) and reason.strip(), f"{run}:{name} needs a reason"


@pytest.mark.timeout(180)
@pytest.mark.parametrize(("run", "scenario"), CASES)
def test_scenario(run: str | None, scenario: str) -> None:
    if run is None:  # the harness cannot run here; ``scenario`` says why
        if os.environ.get("CI", "").strip().lower() in ("true", "1", "yes"):
            pytest.fail(scenario)  # under CI a missing harness must not pass as a skip
        pytest.skip(scenario)
    version, wire = RUNS[run]
    outcome = harness.run(version, scenario, wire)
    assert outcome.passed, outcome.explain()
