"""Mutation check for the core behaviours: each source edit below must make a test fail.

A hand-rolled runner (no mutmut): for every mutation it applies one textual edit to a
source file and runs only the test files that guard that behaviour. A mutation that
leaves every test passing "survived": a blind spot. CI need not run this; run it
before resolving work on the engine, transports or auth:

    .venv/bin/python scripts/mutation_check.py            # all mutations
    .venv/bin/python scripts/mutation_check.py body-limit-length resume-last-event-id
    .venv/bin/python scripts/mutation_check.py --list

The working tree is never touched: the repository (without .git, .venv and caches) is
copied to a temporary directory, mutations are applied there and undone after each run
(try/finally), and the copy is deleted at the end, Ctrl-C included. The tests run with
the copy first on ``sys.path``, so they import the mutated package.

A mutation whose ``old`` text is not found (the code moved on) is reported as STALE:
update its texts. Exit status: 0 when every mutation was killed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PER_RUN_TIMEOUT = 600  # seconds for one mutation's test run
PYTEST_TIMEOUT = 30  # per test: a mutation that makes a test hang fails it quickly


@dataclass(frozen=True)
class Mutation:
    name: str
    behaviour: str
    path: str
    old: str
    new: str
    tests: tuple[str, ...]


MUTATIONS: tuple[Mutation, ...] = (
    Mutation(
        "reinit-on-404",
        "an expired session (404) is re-initialized and the request re-sent once",
        "mcp_async/session/exchange.py",
        '            lost = "the server no longer knows the session"\n',
        "            raise\n",
        ("tests/client/test_mcp_client.py",),
    ),
    Mutation(
        "resume-last-event-id",
        "a resumed stream is requested with Last-Event-ID",
        "mcp_async/transports/http/streamable.py",
        "        if last_event_id:\n"
        "            headers[mcp.LAST_EVENT_ID_HEADER] = last_event_id\n",
        "        if False:\n"
        "            headers[mcp.LAST_EVENT_ID_HEADER] = last_event_id\n",
        ("tests/transports/test_resumption_paths.py", "tests/session/test_two_way.py"),
    ),
    Mutation(
        "retry-after",
        "the retry policy waits what Retry-After asks",
        "mcp_async/policies/retry.py",
        "            if retry_after is not None:\n                return retry_after\n"
        "            return self.backoff_for(state.attempt_number)\n",
        "            return self.backoff_for(state.attempt_number)\n",
        ("tests/policies/test_retry.py",),
    ),
    Mutation(
        "fan-out-order",
        "gather_bounded / call_tools return outcomes in input order",
        "mcp_async/features/batch.py",
        "    return BatchResult(tuple(outcomes[i] for i in range(len(outcomes))))\n",
        "    return BatchResult(tuple(outcomes.values()))\n",
        ("tests/features/test_batch.py",),
    ),
    Mutation(
        "pkce-s256-refusal",
        "an authorization server without PKCE S256 is refused",
        "mcp_async/auth/authorization_code.py",
        "        if not metadata.supports_s256:\n",
        "        if False:\n",
        ("tests/auth/test_oauth_flow.py",),
    ),
    Mutation(
        "body-limit-length",
        "a JSON body whose Content-Length exceeds max_body_size is refused",
        "mcp_async/transports/http/aiohttp_transport.py",
        "                if length > limit:\n                    raise BodyTooLargeError(limit)\n",
        "",
        ("tests/transports/http/test_body_limits.py",),
    ),
    Mutation(
        "body-limit-streamed",
        "a compressed or chunked body is counted and cut at max_body_size",
        "mcp_async/transports/http/aiohttp_transport.py",
        "                if size > limit:\n                    raise BodyTooLargeError(limit)\n",
        "",
        ("tests/transports/http/test_body_limits.py",),
    ),
    Mutation(
        "stdio-close-stdin",
        "stdio shutdown starts by closing the server's stdin",
        "mcp_async/transports/stdio.py",
        "        process.stdin.close()\n        with contextlib.suppress(ConnectionError, OSError):"
        "\n            await process.stdin.wait_closed()\n",
        "        pass\n",
        ("tests/transports/test_stdio_shutdown.py", "tests/transports/test_stdio.py"),
    ),
    Mutation(
        "stdio-sigkill",
        "a stdio server that ignores SIGTERM is killed",
        "mcp_async/transports/stdio.py",
        "    if not await _exited_within(process, _GRACE):\n"
        "        _signal_group(process, signal.SIGKILL)\n        await process.wait()\n",
        "    if not await _exited_within(process, _GRACE):\n        await process.wait()\n",
        ("tests/transports/test_stdio.py",),
    ),
    Mutation(
        "era-adopt-modern",
        "a DiscoverResult sharing a modern version makes the client speak 2026-07-28",
        "mcp_async/session/era.py",
        '    return Verdict("modern", version, discovered)\n',
        '    return Verdict("handshake")\n',
        ("tests/session/test_era.py", "tests/protocol/test_modern.py"),
    ),
    Mutation(
        "era-fallback-any-error",
        "any JSON-RPC error to the probe (not one specific code) falls back to initialize",
        "mcp_async/session/era.py",
        "    if isinstance(error, JSONRPCError):\n        return Verdict(\"handshake\")\n",
        "    if isinstance(error, JSONRPCError) and error.code == -32601:\n"
        "        return Verdict(\"handshake\")\n",
        ("tests/session/test_era.py", "tests/protocol/test_modern.py"),
    ),
    Mutation(
        "mrtr-state-echo",
        "an input round echoes the server's requestState exactly",
        "mcp_async/session/input_required.py",
        '        out["requestState"] = state\n',
        '        out["requestState"] = state[:-1]\n',
        ("tests/session/test_era.py",),
    ),
)

_IGNORE = shutil.ignore_patterns(
    ".git", ".venv", "node_modules", "__pycache__", ".mypy_cache", ".pytest_cache",
    ".ruff_cache", "*.egg-info", ".coverage*", "htmlcov",
)


def make_copy(into: Path) -> Path:
    copy = into / "repo"
    shutil.copytree(REPO, copy, ignore=_IGNORE, symlinks=True)
    modules = REPO / "tests" / "interop" / "node_modules"
    if modules.exists():
        (copy / "tests" / "interop" / "node_modules").symlink_to(modules)
    return copy


def run_tests(
    copy: Path,
    tests: tuple[str, ...],
    *,
    deselect: tuple[str, ...] = (),
    first_failure: bool = True,
) -> tuple[int, str, float, list[str]]:
    """Run pytest in the copy: (exit code, summary line, seconds, failed test ids)."""
    env = {**os.environ, "PYTHONPATH": str(copy), "PYTHONDONTWRITEBYTECODE": "1"}
    command = [
        sys.executable, "-m", "pytest", "-q", "-rf", "-p", "no:cacheprovider",
        f"--timeout={PYTEST_TIMEOUT}", *(["-x"] if first_failure else []), *tests,
        *(f"--deselect={node}" for node in deselect),
    ]
    began = time.monotonic()
    try:
        done = subprocess.run(command, cwd=copy, env=env, capture_output=True, text=True,
                              timeout=PER_RUN_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        return -1, "(the test run timed out)", time.monotonic() - began, []
    lines = (done.stdout + done.stderr).strip().splitlines()
    failed = [line.split()[1] for line in lines if line.startswith("FAILED ")]
    summary = lines[-1] if lines else ""
    if failed:
        summary += f"; first failure: {failed[0]}"
    return done.returncode, summary, time.monotonic() - began, failed


def check_imports_the_copy(copy: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(copy)}
    where = subprocess.run(
        [sys.executable, "-c", "import mcp_async; print(mcp_async.__file__)"],
        cwd=copy, env=env, capture_output=True, text=True, check=True,
    ).stdout.strip()
    if not Path(where).resolve().is_relative_to(copy.resolve()):
        raise SystemExit(f"the copy's tests would import {where}, not the mutated copy")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="mutations to run (default: all)")
    parser.add_argument("--list", action="store_true", help="list the mutations and exit")
    parser.add_argument("--no-baseline", action="store_true",
                        help="skip the unmutated run of the test files")
    args = parser.parse_args(argv)
    if args.list:
        for m in MUTATIONS:
            print(f"{m.name:22} {m.path}: {m.behaviour}")
        return 0
    unknown = set(args.names) - {m.name for m in MUTATIONS}
    if unknown:
        parser.error(f"unknown mutations: {', '.join(sorted(unknown))}")
    chosen = [m for m in MUTATIONS if not args.names or m.name in args.names]

    results: list[tuple[str, str, str]] = []
    with tempfile.TemporaryDirectory(prefix="mcp-async-mutation-") as tmp:
        copy = make_copy(Path(tmp))
        check_imports_the_copy(copy)
        known_failures: tuple[str, ...] = ()
        if not args.no_baseline:
            # Tests that already fail without a mutation (work in progress elsewhere) are
            # left out of the mutation runs, and reported.
            files = tuple(dict.fromkeys(t for m in chosen for t in m.tests))
            code, summary, took, failed = run_tests(copy, files, first_failure=False)
            print(f"baseline ({len(files)} files, {took:.0f} s): {summary}", flush=True)
            if code not in (0, 1):
                print("the unmutated test run did not complete: fix that first",
                      file=sys.stderr)
                return 2
            known_failures = tuple(failed)
            for node in known_failures:
                print(f"  deselected (fails without a mutation): {node}", flush=True)
        for mutation in chosen:
            target = copy / mutation.path
            original = target.read_text()
            if original.count(mutation.old) != 1:
                results.append((mutation.name, "STALE", "old text not found exactly once"))
                print(f"{mutation.name:22} STALE (old text not found exactly once)", flush=True)
                continue
            try:
                target.write_text(original.replace(mutation.old, mutation.new))
                code, summary, took, _ = run_tests(
                    copy, mutation.tests, deselect=known_failures
                )
            finally:
                target.write_text(original)
            verdict = "survived" if code == 0 else "killed"
            results.append((mutation.name, verdict, summary))
            print(f"{mutation.name:22} {verdict:8} ({took:4.0f} s) {summary}", flush=True)

    survived = [name for name, verdict, _ in results if verdict != "killed"]
    print(f"\n{len(results) - len(survived)}/{len(results)} mutations killed"
          + (f"; not killed: {', '.join(survived)}" if survived else ""))
    return 1 if survived else 0


if __name__ == "__main__":
    sys.exit(main())
