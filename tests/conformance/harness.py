"""Run one conformance-harness client scenario against tests/conformance/client.py.

Used by test_conformance.py (one pytest case per scenario and wire) and from the
command line to look at a single run::

    .venv/bin/python -m tests.conformance.harness 0.2 request-metadata [2026-07-28]

A run passes only when the harness reported at least one SUCCESS check, no FAILURE
and no WARNING, and the client neither exited non-zero nor timed out.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
if str(ROOT / "tests" / "interop") not in sys.path:
    sys.path.append(str(ROOT / "tests" / "interop"))

import forkserver  # noqa: E402  (tests/interop/forkserver.py)

NODE_MODULES = HERE / "node_modules"
#: The harness needs Node.js >= 22 (fs.globSync); the `node` npm package ships one.
NODE = NODE_MODULES / ".bin" / "node"
HARNESSES = {
    "0.1": NODE_MODULES / "conformance-0.1" / "dist" / "index.js",
    "0.2": NODE_MODULES / "conformance-0.2" / "dist" / "index.js",
}
#: The wire of the 2026-07-28 requirement set.
MODERN_WIRE = "2026-07-28"
#: Seconds the harness gives the client (its own default is 30).
CLIENT_TIMEOUT_MS = 30_000

_EXIT = re.compile(r"Client exited with code (-?\d+)")
#: What client.py imports, for its fork server.
CLIENT_IMPORTS = ("aiohttp", "mcp_async", "mcp_async.auth", "mcp_async.session.elicitation",
                  "mcp_async.session.handlers")


def installed() -> bool:
    """Whether scripts/install-conformance.sh has run."""
    return NODE.exists() and all(path.exists() for path in HARNESSES.values())


def _node_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """``env`` (default: ours) with Node's on-disk compile cache (Node >= 22.1) in
    node_modules: each run of the harness then skips compiling its bundle again."""
    return {**(os.environ if env is None else env),
            "NODE_COMPILE_CACHE": str(NODE_MODULES / ".compile-cache")}


def _node(harness: str, *args: str, timeout: float = 60) -> str:
    done = subprocess.run(
        [str(NODE), str(HARNESSES[harness]), *args],
        capture_output=True, text=True, timeout=timeout, check=True, cwd=HERE, env=_node_env(),
    )
    return done.stdout


def client_scenarios(harness: str) -> list[str]:
    """Every client scenario the harness version knows."""
    out = _node(harness, "list", "--client")
    return re.findall(r"^\s+- (\S+)", out.split("Client scenarios", 1)[1], re.M)


def required_scenarios(harness: str, revision: str) -> list[str]:
    """The client scenarios a spec revision's frozen requirement set names."""
    out = _node(harness, "list", "--client", "--requirements", revision)
    client = out.split("Client scenarios", 1)[1].split("Run and reported", 1)[0]
    return re.findall(r"^\s+- (\S+)", client, re.M)


@dataclass
class Outcome:
    """What one scenario run produced."""

    scenario: str
    checks: list[dict[str, Any]]
    exit_code: int | None
    timed_out: bool
    log: str = field(repr=False)

    def bad_checks(self) -> list[dict[str, Any]]:
        return [c for c in self.checks if c.get("status") in ("FAILURE", "WARNING")]

    @property
    def exercised(self) -> bool:
        return any(c.get("status") == "SUCCESS" for c in self.checks)

    @property
    def passed(self) -> bool:
        return (self.exercised and not self.bad_checks() and not self.timed_out
                and self.exit_code in (0, None))

    def explain(self) -> str:
        """Why the run did not pass, readable in a test report."""
        lines = [f"scenario {self.scenario}:"]
        if self.timed_out:
            lines.append("  the client timed out")
        if self.exit_code not in (0, None):
            lines.append(f"  the client exited with code {self.exit_code}")
        if not self.exercised:
            lines.append("  no check succeeded: the harness exercised nothing")
        for check in self.bad_checks():
            message = check.get("errorMessage") or check.get("description") or ""
            lines.append(f"  {check['status']} {check.get('id')}: {message}")
        lines.append("--- harness output (tail) ---")
        lines.append(self.log[-4000:])
        return "\n".join(lines)


def run(harness: str, scenario: str, wire: str | None = None, *, timeout: float = 120) -> Outcome:
    """Run ``scenario`` on harness ``harness`` ("0.1" or "0.2") at ``wire`` (a spec
    version, forced even where the scenario's default differs; ``None``: its own)."""
    # The client starts by fork from a process that imported it once (forkserver.py):
    # a fresh interpreter would spend most of a scenario's CPU importing mcp_async.
    command = shlex.join(forkserver.script_argv(
        HERE / "client.py", preload=CLIENT_IMPORTS, path=(str(ROOT),)))
    with tempfile.TemporaryDirectory(prefix="conformance-") as out:
        args = ["client", "--command", command, "--scenario", scenario,
                "--timeout", str(CLIENT_TIMEOUT_MS), "-o", out]
        if wire is not None:
            args += ["--spec-version", wire, "--force"]
        env = _node_env({**os.environ, "PYTHONPATH": str(ROOT)})
        env.pop("MCP_CONFORMANCE_PROTOCOL_VERSION", None)
        done = subprocess.run(
            [str(NODE), str(HARNESSES[harness]), *args], capture_output=True, text=True,
            timeout=timeout, cwd=out, env=env, stdin=subprocess.DEVNULL,
        )
        log = done.stdout + done.stderr
        found = list(Path(out).rglob("checks.json"))
        checks = json.loads(found[0].read_text()) if found else []
    match = _EXIT.search(log)
    return Outcome(
        scenario=scenario, checks=checks,
        exit_code=int(match.group(1)) if match else None,
        timed_out="Client timed out" in log, log=log,
    )


if __name__ == "__main__":
    version, name, *rest = sys.argv[1:]
    outcome = run(version, name, rest[0] if rest else None)
    print("PASS" if outcome.passed else outcome.explain())
    for check in outcome.checks:
        print(f"  {check.get('status'):8} {check.get('id')}")
