"""The ``batch`` command: JSONL in, one JSONL line out per input line, in order."""

from __future__ import annotations

import argparse
import asyncio
import io
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from mcp_async import AsyncMCPClient
from mcp_async.cli.batch import add_batch_parser, run_batch
from mcp_async.testing import Fault, MCPTestServer


@pytest.fixture
async def server() -> AsyncIterator[MCPTestServer]:
    server = MCPTestServer()

    @server.tool
    async def square(n: int) -> dict[str, int]:
        """Square n; negative numbers fail; slower for small n so results overtake."""
        if n < 0:
            raise ValueError("negative")
        await asyncio.sleep(0.02 if n < 3 else 0)
        return {"square": n * n}

    async with server:
        yield server


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


async def test_one_output_line_per_input_line_in_order(
    server: MCPTestServer, tmp_path: Path
) -> None:
    lines = [json.dumps({"n": i}) for i in range(40)]
    lines[5] = "{not json"
    lines[6] = "[1, 2]"
    lines[7] = json.dumps({"n": -1})
    lines[8] = ""
    source = tmp_path / "calls.jsonl"
    source.write_text("\n".join(lines) + "\n")
    out = tmp_path / "results.jsonl"

    status = await run_batch(server.url, "square", str(source), str(out), 8, progress=False)

    assert status == 1
    records = read_jsonl(out)
    assert [r["line"] for r in records] == list(range(1, 41))
    for i, record in enumerate(records):
        if i in (5, 6, 8):
            assert record["ok"] is False and record["error"]["type"] == "ConfigError"
        elif i == 7:
            assert record["ok"] is False and record["result"]["isError"] is True
        else:
            assert record == {"line": i + 1, "ok": True,
                              "result": record["result"]}
            assert record["result"]["structuredContent"] == {"square": i * i}
    assert 1 < server.stats.max_in_flight <= 8  # bounded, yet concurrent


async def test_all_ok_exits_zero_and_draws_progress(
    server: MCPTestServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps({"n": i}) + "\n" for i in range(10)))
    out = tmp_path / "out.jsonl"
    status = await run_batch(server.url, "square", str(source), str(out), 4, progress=True)
    assert status == 0
    assert len(read_jsonl(out)) == 10
    err = capsys.readouterr().err
    assert "[##############################] 10/10" in err
    assert "0 failed" in err


async def test_transport_errors_are_reported_per_line_and_retried(
    server: MCPTestServer, tmp_path: Path
) -> None:
    server.faults.add(Fault.error(503, method="tools/call", times=1))
    server.faults.add(Fault.error(500, method="tools/call", times=1))
    source = tmp_path / "in.jsonl"
    source.write_text('{"n": 3}\n{"n": 4}\n')
    out = tmp_path / "out.jsonl"
    # one call at a time: line 1 gets the 503, is retried (retries=1, a wait <= 0.5 s),
    # then gets the 500, which is not retried; line 2 goes through.
    status = await run_batch(server.url, "square", str(source), str(out), 1, retries=1,
                             progress=False)
    records = read_jsonl(out)
    assert status == 1
    assert records[0]["error"]["type"] == "HTTPStatusError"
    assert records[0]["error"]["status"] == 500
    assert records[1]["ok"] is True
    assert server.stats.by_method["tools/call"] == 3


async def test_stdin_and_stdout(
    server: MCPTestServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO('{"n": 2}\n{"n": 3}\n'))
    async with AsyncMCPClient(server.url) as client:
        status = await run_batch("unused", "square", "-", "-", 2, client=client, progress=False)
    assert status == 0
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["result"]["structuredContent"]["square"] for r in out] == [4, 9]


async def test_missing_input_file_exits_two(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = await run_batch("http://127.0.0.1:9/mcp", "t", str(tmp_path / "nope.jsonl"),
                             str(tmp_path / "out.jsonl"), 2)
    assert status == 2
    assert "nope.jsonl" in capsys.readouterr().err


async def test_parser_and_run_from_args(server: MCPTestServer, tmp_path: Path) -> None:
    parser = argparse.ArgumentParser(prog="mcp-async")
    add_batch_parser(parser.add_subparsers(dest="command"))
    source = tmp_path / "in.jsonl"
    source.write_text('{"n": 5}\n')
    out = tmp_path / "out.jsonl"
    args = parser.parse_args([
        "batch", server.url, "square", "--input", str(source), "--output", str(out),
        "--concurrency", "3", "-H", "X-Trace: abc", "--rate", "100", "--no-progress",
    ])
    assert (args.concurrency, args.retries, args.progress, args.rate) == (3, 3, False, 100.0)
    assert await args.run(args) == 0
    assert read_jsonl(out)[0]["result"]["structuredContent"] == {"square": 25}
    assert server.stats.last_headers is not None
    assert server.stats.last_headers.get("X-Trace") == "abc"
    bad = parser.parse_args(["batch", server.url, "square", "-H", "no-colon"])
    assert await bad.run(bad) == 2


@pytest.mark.parametrize("argv", [["--concurrency", "0"], ["--retries", "-1"],
                                  ["--progress", "--no-progress"]])
def test_parser_rejects_bad_options(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="mcp-async")
    add_batch_parser(parser.add_subparsers(dest="command"))
    with pytest.raises(SystemExit):
        parser.parse_args(["batch", "http://h/mcp", "tool", *argv])
