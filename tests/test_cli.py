"""The mcp-async command: demo, tools and call, end to end against a loopback server."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator

import pytest

from mcp_async.cli import main, parse_arg
from mcp_async.testing import demo_server


def test_demo_runs_end_to_end() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "mcp_async", "demo", "--calls", "50", "--reply", "sse"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert "add(2, 40) -> {'result': 42}" in out
    assert "50 correct, in order" in out
    assert "Done." in out


@pytest.fixture
def server_url() -> Iterator[str]:
    loop = asyncio.new_event_loop()
    server = demo_server()
    url = loop.run_until_complete(server.start())
    # Serve from a background thread so the CLI (which runs its own loop) can reach it.
    import threading

    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield url
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    loop.run_until_complete(server.stop())
    loop.close()


def test_tools_and_call(server_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tools", server_url]) == 0
    assert "echo" in capsys.readouterr().out
    assert main(["call", server_url, "add", "--arg", "a=2", "-a", "b=3"]) == 0
    assert json.loads(capsys.readouterr().out) == {"result": 5}
    assert main(["call", server_url, "echo", "--arg", "text=hi there", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["content"][0]["text"] == "hi there"
    assert main(["call", server_url, "fail"]) == 1


def test_connection_error_is_reported_not_raised(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tools", "http://127.0.0.1:1/mcp", "--timeout", "2"]) == 2
    assert "ConnectError" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "pair"),
    [
        ("a=1", ("a", 1)),
        ("s=hello", ("s", "hello")),
        ('j={"x": [1]}', ("j", {"x": [1]})),
        ("e=", ("e", "")),
    ],
)
def test_parse_arg(text: str, pair: tuple[str, object]) -> None:
    assert parse_arg(text) == pair
