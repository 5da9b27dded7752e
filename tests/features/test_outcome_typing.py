"""Outcome, Success and Failure: the same runtime API as before, and narrowing for mypy."""

from __future__ import annotations

import copy
import fcntl
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import mcp_async
from mcp_async import AnyOutcome, BatchResult, Failure, Outcome, Success

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_outcome_builds_a_success_or_a_failure() -> None:
    ok: Outcome[int] = Outcome(0, value=1)
    bad: Outcome[int] = Outcome(1, error=ValueError("no"))
    assert type(ok) is Success and type(bad) is Failure
    assert isinstance(ok, Outcome) and isinstance(bad, Outcome)
    assert ok == Success(0, 1) and ok.ok and ok.unwrap() == 1 and ok.error is None
    assert not bad.ok and bad.value is None
    with pytest.raises(ValueError, match="no"):
        bad.unwrap()
    assert Outcome(2).value is None  # as before: no value, no error
    assert repr(bad) == "Failure(index=1, value=None, error=ValueError('no'))"
    assert copy.copy(ok) == ok and pickle.loads(pickle.dumps(ok)) == ok
    assert copy.deepcopy(bad).index == 1
    with pytest.raises(TypeError, match="Failure needs error"):
        Failure(3)


def test_batch_result_splits_by_type() -> None:
    batch: BatchResult[int] = BatchResult((Success(0, 1), Failure(1, error=KeyError("k"))))
    assert [type(o) for o in batch.succeeded] == [Success]
    assert [type(o) for o in batch.failed] == [Failure]
    assert not batch.ok
    with pytest.raises(mcp_async.BatchError):
        batch.values()
    assert BatchResult((Success(0, 1), Success(1, 2))).values() == [1, 2]


def test_match_statement() -> None:
    seen = []
    for outcome in BatchResult((Success(0, "a"), Failure(1, error=OSError("x")))):
        match outcome:
            case Success(value=value):
                seen.append(value)
            case Failure(error=error):
                seen.append(type(error).__name__)
    assert seen == ["a", "OSError"]


def test_any_outcome_alias() -> None:
    assert AnyOutcome[int] == Success[int] | Failure[int]


_USER_PROGRAM = """
    from typing import assert_type

    from mcp_async import AnyOutcome, AsyncMCPClient, Failure, Success
    from mcp_async.protocol.models import CallToolResult


    async def main(client: AsyncMCPClient) -> None:
        batch = await client.call_tools(["echo"])
        for outcome in batch:
            if outcome.ok:
                assert_type(outcome.value, CallToolResult)
            else:
                assert_type(outcome.error, BaseException)
        first = batch[0]
        if isinstance(first, Success):
            assert_type(first.value, CallToolResult)
        assert_type(batch.failed, list[Failure[CallToolResult]])
        assert_type(batch.succeeded[0].value, CallToolResult)
        async for _, item in client.stream_calls(["echo"]):
            if not item.ok:
                assert_type(item.error, BaseException)


    def total_of(outcome: AnyOutcome[int]) -> int:
        return outcome.value if outcome.ok else 0


    def progress(done: int, total: int | None) -> None:
        pass
"""


def test_mypy_narrows_value_after_checking_success(tmp_path: Path) -> None:
    program = tmp_path / "user_program.py"
    program.write_text(textwrap.dedent(_USER_PROGRAM))
    # A cache kept across runs and shared by the xdist workers, one mypy process at a time
    # (a lock file; mypy re-reads a module whose file changed): on a warm clone mypy then
    # re-reads only the program, not the package and its dependencies (5 s cold, 1 s warm).
    cache = REPO_ROOT / ".mypy_cache" / "outcome"
    cache.parent.mkdir(exist_ok=True)
    with open(cache.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = subprocess.run(
            [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(cache), str(program)],
            cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
        )
    assert done.returncode == 0, done.stdout + done.stderr
