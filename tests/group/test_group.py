"""MCPClientGroup: naming, opening, routing, fan-out bounds, change tracking, restarts, CLI.

The servers are real: ``python -m mcp_async.testing --stdio`` processes and in-process
``MCPTestServer`` Streamable HTTP servers on loopback.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from mcp_async import (
    AsyncMCPClient,
    ClientStateError,
    ConfigError,
    ConnectTimeout,
    GroupConnectError,
    GroupTool,
    HTTPStatusError,
    MCPClientGroup,
    ServerExitedError,
    ServerSpawnError,
    StdioTransport,
    ToolCall,
    UnknownServerError,
    UnknownToolError,
)
from mcp_async.cli.main import main
from mcp_async.group.naming import NAME_PATTERN, assign_names, default_name
from mcp_async.testing import Fault, MCPTestServer, demo_server

STDIO: dict[str, Any] = {"command": sys.executable, "args": ["-m", "mcp_async.testing", "--stdio"]}
MISSING: dict[str, Any] = {"command": "no-such-mcp-server-xyz"}


# -- helpers -------------------------------------------------------------------------------


def children() -> set[int]:
    """Live (non-zombie) child processes of this test process."""
    me = os.getpid()
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(fields[1]) == me and fields[0] != "Z":
            found.add(int(entry.name))
    return found


async def until(predicate: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


def pid_of(group: MCPClientGroup, name: str) -> int | None:
    transport = group[name]._given_transport
    assert isinstance(transport, StdioTransport)
    return transport.pid


class InFlight:
    """Counts tool calls running at once, across every server that shares it."""

    def __init__(self) -> None:
        self.now = 0
        self.max = 0


def counting_server(name: str, across: InFlight, **options: Any) -> MCPTestServer:
    server = MCPTestServer(name=name, **options)

    @server.tool
    async def work(i: int, ms: int = 20) -> str:
        """Sleep ms milliseconds; return '<server>:<i>'."""
        across.now += 1
        across.max = max(across.max, across.now)
        try:
            await asyncio.sleep(ms / 1000)
        finally:
            across.now -= 1
        return f"{name}:{i}"

    @server.tool
    def echo(text: str) -> str:
        """Echo the text back."""
        return text

    return server


@pytest.fixture
async def trio() -> AsyncIterator[tuple[InFlight, list[MCPTestServer]]]:
    across = InFlight()
    servers = [counting_server(name, across) for name in ("a", "b", "c")]
    for server in servers:
        await server.start()
    yield across, servers
    for server in servers:
        await server.stop()


# -- naming --------------------------------------------------------------------------------


def test_default_names_join_server_and_tool() -> None:
    assert assign_names([("files", "read_file"), ("git", "log")]) == [
        "files__read_file", "git__log",
    ]
    assert assign_names([("files", "read")], separator="-") == ["files-read"]


def test_other_characters_become_underscores() -> None:
    [name] = assign_names([("my server", "read.file/v2 ✓")])
    assert name == "my_server__read_file_v2__"
    assert NAME_PATTERN.fullmatch(name)


def test_long_names_keep_a_prefix_and_a_stable_hash() -> None:
    server, tool = "s" * 30, "t" * 50
    [name] = assign_names([(server, tool)])
    digest = hashlib.blake2s(f"{server}\x00{tool}".encode(), digest_size=4).hexdigest()
    assert len(name) == 64
    assert name == f"{(server + '__' + tool)[:55]}_{digest}"
    assert assign_names([(server, tool)]) == [name]  # deterministic
    [other] = assign_names([(server, tool + "x")])  # same 55-character prefix
    assert other != name and other[:55] == name[:55]


def test_collisions_get_a_hash_deterministically() -> None:
    entries = [("a.b", "c"), ("a_b", "c"), ("a b", "c")]
    names = assign_names(entries)
    assert names[0] == "a_b__c"
    assert len(set(names)) == 3
    assert all(NAME_PATTERN.fullmatch(name) for name in names)
    digest = hashlib.blake2s(b"a_b\x00c", digest_size=4).hexdigest()
    assert names[1] == f"a_b__c_{digest}"
    assert assign_names(entries) == names
    # A separator inside a server name cannot make two tools share a name either.
    assert len(set(assign_names([("x__y", "z"), ("x", "y__z")]))) == 2


def test_custom_naming_is_used_and_checked() -> None:
    assert assign_names([("s", "t")], naming=lambda s, t: f"{t}-at-{s}") == ["t-at-s"]
    with pytest.raises(ConfigError, match=r"returned 's\.t'"):
        assign_names([("s", "t")], naming=lambda s, t: f"{s}.{t}")
    with pytest.raises(ConfigError, match="returned ''"):
        assign_names([("s", "t")], naming=lambda s, t: "")
    with pytest.raises(ConfigError, match=r"returned 'x+'"):
        assign_names([("s", "t")], naming=lambda s, t: "x" * 65)
    with pytest.raises(ConfigError, match="to both"):
        assign_names([("a", "echo"), ("b", "echo")], naming=lambda s, t: t)


def test_default_name_matches_the_pattern_for_any_input() -> None:
    for server, tool in [("ü" * 70, "x"), ("s", ""), ("-", "-"), ("a\nb", "c\n")]:
        assert NAME_PATTERN.fullmatch(default_name(server, tool))


def test_bad_group_arguments_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="separator"):
        MCPClientGroup({}, separator=".")
    with pytest.raises(ConfigError, match="connect_timeout"):
        MCPClientGroup({}, connect_timeout=0)
    with pytest.raises(ConfigError, match="naming must be callable"):
        MCPClientGroup({}, naming="x")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="server 'x': expected"):
        MCPClientGroup({"x": 42})  # type: ignore[dict-item]
    with pytest.raises(ConfigError, match="needs 'command'"):
        MCPClientGroup({"x": {"args": []}})


# -- opening -------------------------------------------------------------------------------


async def test_a_group_of_stdio_and_http_servers_routes_each_call(
    trio: tuple[InFlight, list[MCPTestServer]],
) -> None:
    _, (a, b, _c) = trio
    group = MCPClientGroup({"one": STDIO, "a": {"url": a.url}, "b": AsyncMCPClient(b.url),
                            "off": {**STDIO, "disabled": True}})
    async with group:
        assert group.names == ["one", "a", "b"]
        assert group.disabled == ("off",)
        assert not group.failures
        tools = await group.list_tools()
        names = [tool.name for tool in tools]
        assert names[:5] == ["one__add", "one__echo", "one__slow", "one__weather", "one__fail"]
        assert names[5:] == ["a__work", "a__echo", "b__work", "b__echo"]
        assert tools[6] == GroupTool("a__echo", "a", tools[6].tool)
        assert tools[6].tool.name == "echo"

        added = await group.call_tool("one__add", {"a": 2, "b": 3})
        assert added.structured_content == {"result": 5}
        result = await group.call_tool("b__echo", {"text": "to b"})
        assert result.text == "to b"
        assert b.stats.by_method["tools/call"] == 1
        assert a.stats.by_method.get("tools/call", 0) == 0
        assert group["a"].url == a.url

        with pytest.raises(UnknownToolError, match=r"'b__ech'.*did you mean 'b__echo'"):
            await group.call_tool("b__ech", {"text": "x"})
        with pytest.raises(UnknownServerError, match="no server named 'zz'") as info:
            group["zz"]
        assert isinstance(info.value, KeyError)
        with pytest.raises(UnknownServerError, match="disabled"):
            group["off"]


async def test_servers_connect_concurrently() -> None:
    # Each server sleeps 1 s before serving: one after the other would take over 5 s.
    slow_start = {
        "command": sys.executable,
        "args": ["-c", "import sys, time; from mcp_async.testing import main; time.sleep(1.0); "
                       "sys.exit(main(['--stdio']))"],
    }
    group = MCPClientGroup({f"s{i}": slow_start for i in range(5)})
    start = time.monotonic()
    async with group:
        elapsed = time.monotonic() - start
        assert group.names == [f"s{i}" for i in range(5)]
        assert len({pid_of(group, name) for name in group.names}) == 5
    assert elapsed < 4.0, elapsed


async def test_a_missing_command_is_reported_and_the_rest_works(
    trio: tuple[InFlight, list[MCPTestServer]],
) -> None:
    _, (a, _b, _c) = trio
    async with MCPClientGroup({"bad": MISSING, "a": {"url": a.url}}) as group:
        assert group.names == ["a"]
        assert list(group.failures) == ["bad"]
        assert isinstance(group.failures["bad"], ServerSpawnError)
        assert (await group.call_tool("a__echo", {"text": "ok"})).text == "ok"
        with pytest.raises(UnknownServerError, match=r"'bad' is not connected.*ServerSpawnError"):
            group["bad"]
        with pytest.raises(UnknownToolError, match="server 'bad' failed to connect"):
            await group.call_tool("bad__echo", {})


async def test_require_all_raises_naming_the_failures_and_leaves_no_process() -> None:
    before = children()
    group = MCPClientGroup({"good": STDIO, "bad": MISSING}, require_all=True)
    failed = r"1 of 2 MCP servers.*bad: ServerSpawnError"
    with pytest.raises(GroupConnectError, match=failed) as info:
        async with group:
            pass
    assert list(info.value.failures) == ["bad"]
    assert isinstance(info.value.__cause__, ServerSpawnError)
    await until(lambda: not children() - before)
    with pytest.raises(ClientStateError):
        await group.list_tools()


async def test_each_server_has_its_own_connect_timeout(
    trio: tuple[InFlight, list[MCPTestServer]],
) -> None:
    _, (a, b, _c) = trio
    b.faults.add(Fault.slow(0.8, method="initialize", times=1))
    start = time.monotonic()
    async with MCPClientGroup({"a": {"url": a.url}, "b": {"url": b.url}},
                              connect_timeout=0.3) as group:
        assert time.monotonic() - start < 0.7
        assert group.names == ["a"]
        error = group.failures["b"]
        assert isinstance(error, ConnectTimeout) and isinstance(error, TimeoutError)
        assert "'b' did not connect within 0.3 s" in str(error)


async def test_lifecycle_errors() -> None:
    group = MCPClientGroup({})
    with pytest.raises(ClientStateError, match="not open"):
        await group.list_tools()
    async with group:
        assert await group.list_tools() == []
        with pytest.raises(ClientStateError, match="already open"):
            await group.open()
    with pytest.raises(ClientStateError, match="closed"):
        await group.open()
    with pytest.raises(ClientStateError, match="closed"):
        group.stream_calls([])


# -- fan-out -------------------------------------------------------------------------------


async def test_call_tools_bounds_per_server_and_overall(
    trio: tuple[InFlight, list[MCPTestServer]],
) -> None:
    across, servers = trio
    a, b, c = servers
    async with MCPClientGroup({s.name: {"url": s.url} for s in servers}) as group:
        # Interleaved first (every server busy), then 30 calls to "a" alone.
        order = ["a", "b", "c"] * 10 + ["a"] * 30
        calls = [(f"{name}__work", {"i": i, "ms": 5 + (i * 7) % 20}) for i, name in
                 enumerate(order)]
        batch = await group.call_tools(calls, concurrency=5, per_server=2)
        assert [outcome.unwrap().text for outcome in batch] == [
            f"{name}:{i}" for i, name in enumerate(order)
        ]
        assert a.stats.max_in_flight == 2
        assert b.stats.max_in_flight <= 2 and c.stats.max_in_flight <= 2
        assert across.max <= 5

        for server in servers:
            server.stats.reset()
        across.max = 0
        calls = [(f"{name}__work", {"i": i}) for i, name in enumerate(["a", "b", "c"] * 8)]
        batch = await group.call_tools(calls, concurrency=3, per_server=None)
        assert batch.ok
        assert across.max == 3
        assert a.stats.max_in_flight <= 3


async def test_outcomes_are_per_item_and_in_order(
    trio: tuple[InFlight, list[MCPTestServer]],
) -> None:
    _, servers = trio
    async with MCPClientGroup({s.name: {"url": s.url} for s in servers}) as group:
        calls: list[Any] = [
            ToolCall("c__work", {"i": 0, "ms": 40}),
            ("a__echo", {"text": "one"}),
            ("nope__echo", {"text": "x"}),
            "b__echo",  # missing argument: the server answers isError
            ("a__work", {"i": 4, "ms": 1}),
        ]
        batch = await group.call_tools(calls, per_server=1)
        assert [o.index for o in batch] == [0, 1, 2, 3, 4]
        assert batch[0].unwrap().text == "c:0"
        assert batch[1].unwrap().text == "one"
        assert isinstance(batch[2].error, UnknownToolError)
        assert batch[3].unwrap().is_error
        assert batch[4].unwrap().text == "a:4"
        with pytest.raises(ConfigError, match="per_server"):
            await group.call_tools([], per_server=0)


async def test_stream_calls_reads_the_input_lazily(
    trio: tuple[InFlight, list[MCPTestServer]],
) -> None:
    _, servers = trio
    pulled = 0

    def calls() -> Iterator[tuple[str, dict[str, Any]]]:
        nonlocal pulled
        for i in range(60):
            pulled += 1
            yield (f"{'abc'[i % 3]}__work", {"i": i, "ms": 2})

    async with MCPClientGroup({s.name: {"url": s.url} for s in servers}) as group:
        seen = []
        async with group.stream_calls(calls(), concurrency=4, per_server=2) as stream:
            async for index, outcome in stream:
                seen.append(index)
                assert outcome.unwrap().text == f"{'abc'[index % 3]}:{index}"
                assert pulled <= len(seen) + 4
        assert sorted(seen) == list(range(60))


# -- change tracking, restarts, closing -----------------------------------------------------


async def test_tools_list_changed_refreshes_the_catalogue() -> None:
    async with MCPTestServer(name="live", get_stream=True) as server:

        @server.tool
        def first() -> str:
            return "1"

        async with MCPClientGroup({"live": {"url": server.url}}) as group:
            assert [t.name for t in await group.list_tools()] == ["live__first"]
            await until(lambda: group["live"].listening)

            @server.tool
            def late() -> str:
                return "late"

            # Cached: the new tool is unknown until the server says the list changed.
            assert [t.name for t in await group.list_tools()] == ["live__first"]
            assert await server.notify("notifications/tools/list_changed") == 1
            for _ in range(200):
                names = [t.name for t in await group.list_tools()]
                if "live__late" in names:
                    break
                await asyncio.sleep(0.01)
            assert names == ["live__first", "live__late"]
            assert (await group.call_tool("live__late")).text == "late"


async def test_a_list_changed_during_the_first_fetch_still_routes_the_call() -> None:
    # server-everything sends tools/list_changed right after its handshake: when it lands
    # while a call's own catalogue fetch is under way, the fetch's routes are not kept
    # (they may be stale), but the call is still routed by what that fetch listed.
    async with MCPTestServer(name="live", get_stream=True) as server:

        @server.tool
        def first() -> str:
            return "1"

        async with MCPClientGroup({"live": {"url": server.url}}) as group:
            await until(lambda: group["live"].listening)
            server.faults.add(Fault.slow(0.3, method="tools/list", times=1))

            async def change_during_the_fetch() -> None:
                await until(lambda: server.stats.by_method.get("tools/list", 0) >= 1)
                assert await server.notify("notifications/tools/list_changed") == 1

            changer = asyncio.create_task(change_during_the_fetch())
            result = await group.call_tool("live__first")  # the group's first fetch
            await changer
            assert result.text == "1"


async def test_a_killed_stdio_server_restarts_and_the_others_are_untouched(
    trio: tuple[InFlight, list[MCPTestServer]],
) -> None:
    _, (a, _b, _c) = trio
    async with MCPClientGroup({"x": STDIO, "y": STDIO, "web": {"url": a.url}}) as group:
        await group.list_tools()
        x_pid, y_pid = pid_of(group, "x"), pid_of(group, "y")
        assert x_pid is not None and y_pid is not None
        os.kill(x_pid, signal.SIGKILL)
        await until(lambda: pid_of(group, "x") is None)
        try:
            result = await group.call_tool("x__echo", {"text": "back"})
        except ServerExitedError:  # the death was noticed by this call: the next restarts
            result = await group.call_tool("x__echo", {"text": "back"})
        assert result.text == "back"
        assert pid_of(group, "x") not in (None, x_pid)
        assert pid_of(group, "y") == y_pid
        assert (await group.call_tool("y__echo", {"text": "y"})).text == "y"
        assert (await group.call_tool("web__echo", {"text": "w"})).text == "w"


async def test_closing_leaves_no_child_process_even_when_a_close_fails(
    trio: tuple[InFlight, list[MCPTestServer]], caplog: pytest.LogCaptureFixture,
) -> None:
    _, (a, _b, _c) = trio
    caplog.set_level(logging.WARNING, logger="mcp_async")

    class BadClose(AsyncMCPClient):
        async def aclose(self) -> None:
            await super().aclose()
            raise RuntimeError("close failed")

    before = children()
    group = MCPClientGroup({"bad": BadClose(a.url), "s1": STDIO, "s2": STDIO})
    async with group:
        assert len(children() - before) == 2
    assert isinstance(group.close_errors["bad"], RuntimeError)
    assert "closing MCP server 'bad' failed" in caplog.text
    assert not children() - before
    with pytest.raises(UnknownServerError, match="not connected"):
        group["s1"]


# -- prompts, resources, schemas, list errors ------------------------------------------------


async def test_prompts_resources_and_templates_are_namespaced_and_routed() -> None:
    async with demo_server(name="one") as one, demo_server(name="two") as two:
        group = MCPClientGroup({"one": {"url": one.url}, "two": {"url": two.url}})
        async with group:
            prompts = await group.list_prompts()
            assert [(p.name, p.server) for p in prompts] == [
                ("one__review_code", "one"), ("two__review_code", "two"),
            ]
            rendered = await group.get_prompt("two__review_code", {"code": "x = 1"})
            assert "x = 1" in str(rendered.messages[0].raw)
            assert two.stats.by_method["prompts/get"] == 1
            assert "prompts/get" not in one.stats.by_method
            with pytest.raises(UnknownToolError, match="prompt 'one__nope'"):
                await group.get_prompt("one__nope")

            resources = await group.list_resources()
            assert [(r.name, r.resource.uri) for r in resources] == [
                ("one__readme", "demo://readme"), ("two__readme", "demo://readme"),
            ]
            with pytest.raises(ConfigError, match="several servers"):
                await group.read_resource("demo://readme")
            read = await group.read_resource("demo://readme", server="two")
            assert "demo" in str(read.raw)
            with pytest.raises(UnknownToolError, match="resource 'demo://none'"):
                await group.read_resource("demo://none")

            templates = await group.list_resource_templates()
            assert [t.name for t in templates] == ["one__greeting", "two__greeting"]


async def test_tool_schemas_use_the_group_names(
    trio: tuple[InFlight, list[MCPTestServer]],
) -> None:
    _, (a, b, _c) = trio
    async with MCPClientGroup({"a": {"url": a.url}, "b": {"url": b.url}}) as group:
        openai = await group.tool_schemas("openai")
        assert [t["function"]["name"] for t in openai] == [
            "a__work", "a__echo", "b__work", "b__echo",
        ]
        anthropic = await group.tool_schemas(format="anthropic")
        assert anthropic[1]["input_schema"]["required"] == ["text"]
        mcp = await group.tool_schemas("mcp")
        assert mcp[3]["name"] == "b__echo" and "inputSchema" in mcp[3]
        lists = a.stats.by_method["tools/list"]
        with pytest.raises(ConfigError, match="format"):
            await group.tool_schemas("not-an-api")
        assert a.stats.by_method["tools/list"] == lists == 1  # listed once, then cached


async def test_a_server_whose_list_fails_is_left_out_unless_strict(
    trio: tuple[InFlight, list[MCPTestServer]],
) -> None:
    _, (a, b, _c) = trio
    b.faults.add(Fault.error(500, method="tools/list", times=2))
    async with MCPClientGroup({"a": {"url": a.url}, "b": {"url": b.url}}) as group:
        assert [t.server for t in await group.list_tools()] == ["a", "a"]
        assert "b" in group.list_errors
        with pytest.raises(HTTPStatusError, match="500") as info:
            await group.list_tools(strict=True)
        assert info.value.status == 500
        assert "MCP server 'b'" in "".join(getattr(info.value, "__notes__", []))
        assert [t.server for t in await group.list_tools()] == ["a", "a", "b", "b"]
        assert not group.list_errors


# -- the command line ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_urls() -> Iterator[list[str]]:
    """Two demo servers served from a background thread (the CLI runs its own loop)."""
    loop = asyncio.new_event_loop()
    servers = [demo_server(name="one"), demo_server(name="two")]
    urls = [loop.run_until_complete(server.start()) for server in servers]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield urls
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    for server in servers:
        loop.run_until_complete(server.stop())
    loop.close()


@pytest.fixture
def config_file(tmp_path: Path, demo_urls: list[str]) -> Path:
    path = tmp_path / "mcp.json"
    path.write_text(json.dumps({"mcpServers": {
        "one": {"url": demo_urls[0]}, "two": {"url": demo_urls[1], "type": "http"},
        "bad": MISSING, "off": {**STDIO, "disabled": True},
    }}))
    return path


def test_cli_tools_and_call(config_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", str(config_file), "tools"]) == 0
    out, err = capsys.readouterr()
    assert "one__echo" in out and "two__weather" in out
    assert "server 'bad' failed: ServerSpawnError" in err

    assert main(["--config", str(config_file), "call", "one.echo", "-a", "text=hi"]) == 0
    assert capsys.readouterr().out.strip() == "hi"
    assert main(["call", "two__add", "-a", "a=1", "-a", "b=2", "--config", str(config_file)]) == 0
    assert json.loads(capsys.readouterr().out) == {"result": 3}
    assert main(["--config", str(config_file), "call", "two.nope"]) == 2
    assert "UnknownToolError: the server has no tool 'nope'" in capsys.readouterr().err

    assert main(["--config", str(config_file), "tools", "--format", "anthropic"]) == 0
    schemas = json.loads(capsys.readouterr().out)
    assert schemas[1]["name"] == "one__echo"
    assert schemas[1]["input_schema"]["required"] == ["text"]


def test_cli_batch_across_the_group(
    config_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "calls.jsonl"
    source.write_text("\n".join([
        json.dumps({"tool": "one.echo", "arguments": {"text": "a"}}),
        json.dumps({"tool": "two__add", "arguments": {"a": 1, "b": 1}}),
        json.dumps({"arguments": {}}),
        json.dumps({"tool": "two.echo", "arguments": {"text": "d"}}),
    ]) + "\n")
    out = tmp_path / "out.jsonl"
    status = main(["--config", str(config_file), "batch", "-i", str(source), "-o", str(out),
                   "--per-server", "1", "--no-progress"])
    assert status == 1
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["line"] for r in records] == [1, 2, 3, 4]
    assert records[0]["result"]["content"][0]["text"] == "a"
    assert records[1]["result"]["structuredContent"] == {"result": 2}
    assert records[2]["error"]["type"] == "ConfigError"
    assert records[3]["result"]["content"][0]["text"] == "d"

    args = tmp_path / "args.jsonl"
    args.write_text('{"text": "x"}\n{"text": "y"}\n')
    assert main(["--config", str(config_file), "batch", "two.echo", "-i", str(args),
                 "-o", str(out), "--no-progress"]) == 0
    assert [json.loads(line)["result"]["content"][0]["text"]
            for line in out.read_text().splitlines()] == ["x", "y"]
    capsys.readouterr()


def test_cli_servers_lists_each_status(
    config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["servers", "--config", str(config_file)]) == 1  # one failed
    out = capsys.readouterr().out
    assert f"MCP servers in {config_file}:" in out
    lines = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert "connected" in lines["one"] and "5 tools" in lines["one"]
    assert "one 1.0.0" in lines["one"] and "http: http://127.0.0.1:" in lines["one"]
    assert "failed" in lines["bad"] and "ServerSpawnError" in lines["bad"]
    assert "disabled" in lines["off"]

    assert main(["--config", str(config_file), "servers", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert [(s["name"], s["status"]) for s in report["servers"]] == [
        ("one", "connected"), ("two", "connected"), ("bad", "failed"), ("off", "disabled"),
    ]


def test_cli_finds_host_files_and_never_writes_them(
    tmp_path: Path, demo_urls: list[str], monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    home, project = tmp_path / "home", tmp_path / "project"
    home.mkdir()
    project.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.chdir(project)
    assert main(["servers"]) == 2
    assert "give --config FILE: no MCP host configuration" in capsys.readouterr().err

    claude = home / ".config" / "Claude" / "claude_desktop_config.json"
    claude.parent.mkdir(parents=True)
    text = json.dumps({"mcpServers": {"solo": {"url": demo_urls[0]}}})
    claude.write_text(text)
    stamp = claude.stat().st_mtime_ns
    assert main(["servers"]) == 0
    out, err = capsys.readouterr()
    assert f"reading the Claude Desktop configuration {claude}" in err
    assert "solo" in out and "connected" in out
    assert main(["call", "solo.echo", "-a", "text=found"]) == 0
    assert capsys.readouterr().out.strip() == "found"
    assert claude.read_text() == text and claude.stat().st_mtime_ns == stamp


CRASH: dict[str, Any] = {
    "command": sys.executable,
    "args": ["-c", "import sys; print('boom', file=sys.stderr); sys.exit(3)"],
}


async def test_a_failed_server_is_reported_once(caplog: pytest.LogCaptureFixture) -> None:
    # The failure is in group.failures; it is not also logged as a warning (which, with
    # logging not configured, Python prints on stderr).
    caplog.set_level(logging.DEBUG, logger="mcp_async")
    async with MCPClientGroup({"crash": CRASH, "ok": STDIO}) as group:
        assert group.names == ["ok"]
        error = group.failures["crash"]
        assert isinstance(error, ServerExitedError) and error.stderr_tail == ("boom",)
    assert not [r for r in caplog.records
                if r.levelno >= logging.WARNING and "exited with code" in r.getMessage()]
    assert any("exited with code 3" in r.getMessage() for r in caplog.records)  # DEBUG


def test_cli_reports_a_failed_server_once(tmp_path: Path) -> None:
    path = tmp_path / "mcp.json"
    # (The servers of a file start in its folder: PYTHONPATH finds this checkout.)
    ok = {**STDIO, "env": {"PYTHONPATH": str(Path(__file__).resolve().parents[2])}}
    path.write_text(json.dumps({"mcpServers": {"crash": CRASH, "ok": ok}}))
    code = subprocess.run(
        [sys.executable, "-m", "mcp_async", "--config", str(path), "tools"],
        capture_output=True, text=True, timeout=60, cwd=os.getcwd(),
    )
    assert code.returncode == 0, code.stderr
    assert "ok__echo" in code.stdout
    assert code.stderr.count("exited with code 3") == 1, code.stderr
