"""The mcp-async command: demo, tools and call, end to end against a loopback server."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from mcp_async import AsyncMCPClient, ConfigError, HTTPStatusError
from mcp_async.cli.main import load_arguments, main, parse_arg
from mcp_async.cli.serve import parse_fault
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


def test_demo_needs_nothing_but_the_package() -> None:
    # `make demo` installs the package alone: the demo runs without the extras.
    code = ("import sys\n"
            "for name in ('jsonschema', 'prometheus_client', 'opentelemetry', 'tqdm', 'rich',"
            " 'mcp', 'fastmcp', 'jwt.algorithms'):\n"
            "    sys.modules[name] = None  # importing it raises ImportError\n"
            "from mcp_async.cli.main import main\n"
            "sys.exit(main(['demo', '--calls', '20']))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert "add(2, 40) -> {'result': 42}\n" in done.stdout  # not validated: no jsonschema
    assert "20 correct, in order" in done.stdout


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


# -- call --args, -a parsing -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "pair"),
    [
        ("n=3", ("n", 3)),
        ("flag=true", ("flag", True)),
        ("none=null", ("none", None)),
        ('tags=["x"]', ("tags", ["x"])),
        ("name=Ada", ("name", "Ada")),
        ('n="3"', ("n", "3")),
        ("url=http://x/?a=b", ("url", "http://x/?a=b")),
    ],
)
def test_arg_values_are_json_first_else_strings(text: str, pair: tuple[str, object]) -> None:
    assert parse_arg(text) == pair


def test_call_with_args_json(server_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["call", server_url, "add", "--args", '{"a": 2, "b": 3}']) == 0
    assert json.loads(capsys.readouterr().out) == {"result": 5}
    # -a pairs are added on top of --args, and win for the same key.
    assert main(["call", server_url, "add", "--args", '{"a": 2, "b": 3}', "-a", "b=40"]) == 0
    assert json.loads(capsys.readouterr().out) == {"result": 42}


def test_call_with_args_file(
    server_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = tmp_path / "args.json"
    path.write_text('{"text": "from a file"}')
    assert main(["call", server_url, "echo", "--args", f"@{path}"]) == 0
    assert capsys.readouterr().out.strip() == "from a file"
    monkeypatch.setattr("sys.stdin", io.StringIO('{"text": "from stdin"}'))
    assert main(["call", server_url, "echo", "--args", "@-", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["content"][0]["text"] == "from stdin"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("{not json", "--args is not valid JSON"),
        ("[1, 2]", "--args must be a JSON object, got list"),
        ("@/nonexistent/args.json", "cannot read"),
    ],
)
def test_bad_args_are_reported(value: str, message: str,
                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["call", "http://127.0.0.1:1/mcp", "add", "--args", value]) == 2
    assert message in capsys.readouterr().err


def test_load_arguments() -> None:
    assert load_arguments('{"a": {"b": [1]}}') == {"a": {"b": [1]}}
    with pytest.raises(ConfigError):
        load_arguments('"text"')


# -- serve ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "fields"),
    [
        ("error:503", {"status": 503}),
        ("error:429,retry_after=2,times=1", {"status": 429, "times": 1,
                                             "headers": {"Retry-After": "2"}}),
        ("rate_limited", {"status": 429}),
        ("slow:0.5,name=echo", {"delay": 0.5, "name": "echo"}),
        ("disconnect,method=tools/call,probability=0.5,seed=3",
         {"drop": True, "method": "tools/call", "probability": 0.5, "seed": 3}),
        ("expired_session", {"expire_session": True}),
        ("bad_json", {"invalid_json": True}),
        ("mismatched_id", {"wrong_id": True}),
        ("cut_stream,retry=100", {"truncate_sse": True, "retry": 100}),
        ("end_stream:2", {"end_after": 2}),
        ("break-stream", {"break_after": 0}),
        ("garbage:<html>", {"body": "<html>"}),
        ('{"status": 500, "times": 1}', {"status": 500, "times": 1}),
    ],
)
def test_parse_fault(spec: str, fields: dict[str, object]) -> None:
    fault = parse_fault(spec)
    for key, value in fields.items():
        assert getattr(fault, key) == value


@pytest.mark.parametrize(
    "spec", ["bogus", "error", "disconnect:1", "slow:x", "error:500,times", "error:500,colour=red",
             "[1]"],
)
def test_bad_fault_specs(spec: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="bad fault"):
        parse_fault(spec)


@contextlib.contextmanager
def _serve(*flags: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "mcp_async", "serve", "--port", "0", *flags],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), process.stderr.read() if process.stderr else ""
        yield url, process
    finally:
        if process.poll() is None:
            process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


async def test_serve_http_with_faults() -> None:
    with _serve("--fault", "error:503,times=1,method=tools/call", "--reply", "sse") as (url, proc):
        async with AsyncMCPClient(url) as client:
            with pytest.raises(HTTPStatusError) as caught:
                await client.call_tool("echo", {"text": "hi"})
            assert caught.value.status == 503
            assert (await client.call_tool("echo", {"text": "hi"})).text == "hi"
            assert client.transport_kind == "streamable-http"
        proc.terminate()
        assert proc.wait(10) == 0  # SIGTERM stops it cleanly


async def test_serve_legacy_sse() -> None:
    with _serve("--sse", "--two-way") as (url, _):
        assert url.endswith("/sse")
        async with AsyncMCPClient(url) as client:
            names = {tool.name for tool in await client.list_tools()}
            assert {"add", "confirm"} <= names
            assert client.transport_kind == "sse"


async def test_serve_stdio() -> None:
    async with AsyncMCPClient.stdio(
        sys.executable, ["-m", "mcp_async", "serve", "--stdio", "--fault", "slow:0.01"]
    ) as client:
        assert (await client.call_tool("add", {"a": 1, "b": 2})).structured_content == {
            "result": 3
        }


def test_serve_refuses_stdio_only_flags_over_http(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--exit-after", "2"]) == 2
    assert "--stdio only" in capsys.readouterr().err


def test_structured_content_is_indented_in_a_terminal(
    server_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["call", server_url, "weather", "-a", "city=Oslo"]) == 0
    piped = capsys.readouterr().out
    assert piped.count("\n") == 1  # one line of JSON for scripts
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    assert main(["call", server_url, "weather", "-a", "city=Oslo"]) == 0
    shown = capsys.readouterr().out
    assert shown.count("\n") > 2 and json.loads(shown) == json.loads(piped)


# -- help text -------------------------------------------------------------------------------


def _help(capsys: pytest.CaptureFixture[str], *command: str) -> str:
    with pytest.raises(SystemExit) as exited:
        main([*command, "--help"])
    assert exited.value.code == 0
    return capsys.readouterr().out


@pytest.mark.parametrize(
    "command", [(), ("demo",), ("tools",), ("call",), ("batch",), ("servers",), ("serve",)]
)
def test_help_is_plain_text(command: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> None:
    text = _help(capsys, *command)
    for markup in ("``", ":mod:", ":class:", ":func:", ":meth:", "::", "====="):
        assert markup not in text, (command, markup)
    # Every command says what it does above its options.
    head = text.split("\noptions:")[0].split("\npositional arguments:")[0]
    assert len(head.split("\n\n", 1)[-1].strip()) > 40, command


def test_help_examples_are_one_a_line(capsys: pytest.CaptureFixture[str]) -> None:
    text = _help(capsys)
    assert "\nexamples:\n  mcp-async demo\n  mcp-async tools http://" in text
    assert "\n  mcp-async --config ~/.cursor/mcp.json tools\n" in text
    for command in ("tools", "call", "batch", "servers"):
        assert "\nexamples:\n  mcp-async " in _help(capsys, command), command


def test_help_names_every_argument(capsys: pytest.CaptureFixture[str]) -> None:
    call = _help(capsys, "call")
    assert "  TOOL                  the tool to call" in call
    demo = _help(capsys, "demo")
    assert "--reply {json,sse}  how the embedded server answers" in demo
    for command in ("tools", "call", "batch"):
        usage = _help(capsys, command).split("\n\n")[0]
        assert f"mcp-async {command} [options]" in usage
        assert " -- COMMAND [ARG ...]" in usage, command
        assert "--config FILE" in usage, command


def test_tools_without_a_server_says_what_would_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    assert main(["tools"]) == 2
    err = capsys.readouterr().err
    assert "name a server: a URL (mcp-async tools URL ...)" in err
    assert "-- COMMAND [ARG ...]" in err and "--config FILE" in err
    assert "no MCP host configuration was found" in err
    assert main(["servers"]) == 2
    assert "give --config FILE" in capsys.readouterr().err


def test_tools_columns_stay_aligned_for_long_names() -> None:
    from mcp_async.cli.text import NAME_COLUMN_MAX, print_tools

    out = io.StringIO()
    rows = [("add", "Add two numbers.\nMore."), ("a" * 30, "Thirty."), ("b" * 50, "Fifty."),
            ("quiet", None)]
    print_tools(rows, out)
    lines = out.getvalue().splitlines()
    width = 30  # the longest name within the cap
    assert width <= NAME_COLUMN_MAX
    assert lines[0] == "add".ljust(width) + "  Add two numbers."
    assert lines[1] == "a" * 30 + "  Thirty."
    assert lines[2] == "b" * 50  # too long for the column: a line of its own
    assert lines[3] == " " * (width + 2) + "Fifty."
    assert lines[4] == "quiet"


def test_plain_turns_rest_into_terminal_text() -> None:
    from mcp_async.cli.text import plain

    text = plain("Use ``mcp-async``, :class:`~mcp_async.testing.Fault` and "
                 ":mod:`mcp_async.testing`::\n\n    mcp-async serve\n\n===  ===\n**Faults**")
    assert text == ("Use mcp-async, Fault and mcp_async.testing:\n\n    mcp-async serve\n\n"
                    "Faults")
