"""``mcp-async bridge`` end to end (issue 29).

A real host-like client, the official SDK's stdio client, starts ``mcp-async bridge
URL`` as its stdio server; the bridge speaks to an in-process ``MCPTestServer`` over
Streamable HTTP (both eras) or legacy SSE. Checked: the handshake carries the host's
capabilities and client info to the remote server, every kind of message passes both
ways (sampling, elicitation, roots, logging, progress), the host's cancellation reaches
the remote server, and an expired remote session is re-initialized unseen by the host.

The reverse, ``mcp-async bridge --http 127.0.0.1:0 -- COMMAND``, is driven by the
official SDK's Streamable HTTP client; Origin and Host checks, non-loopback binds, and
that every server process is stopped and reaped are checked too.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import tempfile
import uuid
import warnings
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from mcp_async import ConfigError
from mcp_async.cli.bridge import check_loopback_bind
from mcp_async.cli.bridge.stdio_bridge import _answer_version
from mcp_async.cli.main import main
from mcp_async.testing import MCPTestServer, demo_server

mcp = pytest.importorskip("mcp")
from mcp.client.stdio import StdioServerParameters, stdio_client  # noqa: E402
from mcp.client.streamable_http import streamable_http_client  # noqa: E402
from mcp.shared.exceptions import MCPError  # noqa: E402

types = mcp.types
ROOT = Path(__file__).resolve().parents[2]
ENV = {"PYTHONPATH": str(ROOT)}
DEMO_TOOLS = {"add", "echo", "slow", "weather", "fail"}
TWO_WAY_TOOLS = {"sample", "confirm", "list_roots", "log_message"}


def bridge_params(*args: str, env: dict[str, str] | None = None) -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", "mcp_async", "bridge", *args],
        env={**ENV, **(env or {})},
        cwd=str(ROOT),
    )


class Host:
    """The host's side: callbacks for the server's requests, and what they saw."""

    def __init__(self) -> None:
        self.logs: list[Any] = []
        self.sampled: list[str] = []

    async def sampling(self, context: Any, params: Any) -> Any:
        text = params.messages[0].content.text
        self.sampled.append(text)
        return types.CreateMessageResult(
            role="assistant",
            content=types.TextContent(type="text", text=text.upper()),
            model="host-model",
        )

    async def elicitation(self, context: Any, params: Any) -> Any:
        return types.ElicitResult(action="accept", content={"answer": "yes"})

    async def roots(self, context: Any) -> Any:
        return types.ListRootsResult(roots=[types.Root(uri="file:///host/project")])

    async def logging(self, params: Any) -> None:
        self.logs.append(params)


@contextlib.asynccontextmanager
async def host_session(params: StdioServerParameters, host: Host) -> AsyncIterator[Any]:
    with tempfile.TemporaryFile("w+") as errlog:
        async with (
            stdio_client(params, errlog=errlog) as (read, write),
            mcp.ClientSession(
                read,
                write,
                sampling_callback=host.sampling,
                elicitation_callback=host.elicitation,
                list_roots_callback=host.roots,
                logging_callback=host.logging,
                client_info=types.Implementation(name="test-host", version="9.9"),
            ) as session,
        ):
            yield session


# -- small pieces --------------------------------------------------------------------------


def test_the_version_told_to_the_host() -> None:
    assert _answer_version("2025-06-18", "2025-11-25") == "2025-06-18"
    assert _answer_version("2025-11-25", "2025-03-26") == "2025-03-26"
    assert _answer_version("2025-06-18", "2026-07-28") == "2025-06-18"  # translated
    assert _answer_version("1999-01-01", "2025-03-26") == "2025-03-26"
    assert _answer_version(None, "2026-07-28") == "2025-11-25"


def test_only_loopback_binds_unless_forced() -> None:
    for host in ("127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"):
        check_loopback_bind(host)
    for host in ("0.0.0.0", "192.168.1.10", "::"):
        with pytest.raises(ConfigError, match="--allow-non-loopback"):
            check_loopback_bind(host)
        check_loopback_bind(host, allow_non_loopback=True)
    with pytest.raises(ConfigError, match="IP address"):
        check_loopback_bind("example.com")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["bridge"], "give the remote server's URL"),
        (["bridge", "--http", "0.0.0.0:0", "--", "true"], "refusing to listen on 0.0.0.0"),
        (["bridge", "--http", "127.0.0.1"], "HOST:PORT"),
        (["bridge", "--http", "127.0.0.1:0"], "command after --"),
        (["bridge", "http://127.0.0.1:1/mcp", "--", "x"], "needs --http"),
        (["bridge", "http://127.0.0.1:1/mcp", "--token", "t", "--oauth"], "either a bearer"),
        (["bridge", "http://127.0.0.1:1/mcp", "--token-env", "NO_SUCH_VAR_XYZ"], "is empty"),
        (["bridge", "http://127.0.0.1:1/mcp", "--header", "nocolon"], "Name: value"),
    (["bridge", "not-a-url"], "not-a-url"),
    (["bridge", "http://127.0.0.1:1/mcp", "--protocol", "1999-01-01"], "1999-01-01"),
    (["bridge", "http://127.0.0.1:1/mcp", "--retries", "0"], "--retries"),
    ],
)
def test_bad_command_lines_are_clear_errors(
    argv: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(argv) == 2
    assert message in capsys.readouterr().err


# -- a remote server as stdio ----------------------------------------------------------------


@pytest.mark.parametrize("variant", ["handshake", "2026-07-28", "legacy-sse"])
async def test_a_host_uses_a_remote_server_through_the_bridge(variant: str) -> None:
    options: dict[str, Any] = {"two_way": True, "reply": "sse"}
    if variant == "2026-07-28":
        options["eras"] = ("2026-07-28", "2025-11-25")
    if variant == "legacy-sse":
        options["transport"] = "sse"
        del options["reply"]
    host = Host()
    async with (
        demo_server(**options) as server,
        host_session(bridge_params(server.url), host) as session,
    ):
        init = await session.initialize()
        assert init.server_info.name == "mcp-async-demo"
        assert init.instructions and "demo MCP server" in init.instructions
        assert init.capabilities.tools is not None

        if variant != "2026-07-28":
            # The remote server saw the host's own initialize, not the bridge's.
            [params] = [p for m, p in server.stats.received if m == "initialize"]
            assert params["clientInfo"] == {"name": "test-host", "version": "9.9"}
            assert {"sampling", "elicitation", "roots"} <= set(params["capabilities"])

        tools = await session.list_tools()
        assert {tool.name for tool in tools.tools} == DEMO_TOOLS | TWO_WAY_TOOLS
        added = await session.call_tool("add", {"a": 2, "b": 40})
        assert added.structured_content == {"result": 42}
        failed = await session.call_tool("fail", {})
        assert failed.is_error

        progress: list[float] = []

        async def on_progress(done: float, total: float | None, message: str | None) -> None:
            progress.append(done)

        slow = await session.call_tool("slow", {"seconds": 0.2}, progress_callback=on_progress)
        assert slow.content[0].text == "slept 0.2 s"
        assert progress == [1, 2, 3, 4]

        sampled = await session.call_tool("sample", {"prompt": "hello"})
        assert sampled.content[0].text == "HELLO" and host.sampled == ["hello"]
        confirmed = await session.call_tool("confirm", {"question": "ok?"})
        assert confirmed.structured_content == {"action": "accept", "answer": "yes"} or (
            "yes" in confirmed.content[0].text
        )
        roots = await session.call_tool("list_roots", {})
        assert "file:///host/project" in roots.content[0].text

        if variant == "handshake":
            with warnings.catch_warnings():  # deprecated in 2026-07-28; still the host's
                warnings.simplefilter("ignore")
                await session.set_logging_level("info")
        await session.call_tool("log_message", {"level": "warning", "text": "careful"})
        for _ in range(200):
            if host.logs:
                break
            await asyncio.sleep(0.01)
        assert host.logs and host.logs[0].data == "careful"

        # An unknown tool's error comes back as the remote server's JSON-RPC error
        # (or as an isError result, as the server chose).
        try:
            missing = await session.call_tool("no_such_tool", {})
        except Exception as exc:
            assert "no_such_tool" in str(exc)
        else:
            assert missing.is_error


async def test_cancellation_reaches_the_remote_server() -> None:
    async with (
        demo_server(reply="sse") as server,
        host_session(bridge_params(server.url), Host()) as session,
    ):
        await session.initialize()
        with mcp_anyio().move_on_after(1.0):
            await session.call_tool("slow", {"seconds": 60})
        for _ in range(500):
            if server.stats.cancelled:
                break
            await asyncio.sleep(0.01)
        assert server.stats.cancelled == 1
        # The session goes on.
        assert (await session.call_tool("echo", {"text": "after"})).content[0].text == "after"


async def test_an_expired_remote_session_is_renewed_unseen_by_the_host() -> None:
    async with (
        demo_server() as server,
        host_session(bridge_params(server.url), Host()) as session,
    ):
        await session.initialize()
        assert (await session.call_tool("echo", {"text": "1"})).content[0].text == "1"
        created = server.stats.sessions_created
        server.expire_sessions()
        assert (await session.call_tool("echo", {"text": "2"})).content[0].text == "2"
        assert server.stats.sessions_created == created + 1


async def test_an_unreachable_remote_server_is_an_error_the_host_sees() -> None:
    with socket_port() as port:
        params = bridge_params(f"http://127.0.0.1:{port}/mcp", "--connect-timeout", "5")
        async with host_session(params, Host()) as session:
            with pytest.raises(MCPError, match="cannot reach the remote MCP server"):
                await session.initialize()


async def test_a_bearer_token_from_the_environment_is_sent() -> None:
    async with MCPTestServer(name="guarded") as server:

        @server.tool
        def echo(text: str) -> str:
            """Echo."""
            return text

        params = bridge_params(
            server.url, "--token-env", "BRIDGE_TEST_TOKEN", env={"BRIDGE_TEST_TOKEN": "s3cret"}
        )
        async with host_session(params, Host()) as session:
            await session.initialize()
            await session.call_tool("echo", {"text": "x"})
        assert server.stats.last_headers is not None
        assert server.stats.last_headers.get("Authorization") == "Bearer s3cret"


def mcp_anyio() -> Any:
    import anyio

    return anyio


@contextlib.contextmanager
def socket_port() -> Any:
    """A loopback port nobody listens on."""
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()


# -- a stdio server as HTTP -----------------------------------------------------------------


def marked_processes(marker: str) -> set[int]:
    """Processes whose environment holds ``marker`` (the bridge and its children)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if marker.encode() in (entry / "environ").read_bytes():
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if stat[0] != "Z":
                    found.add(int(entry.name))
        except OSError:
            continue
    return found


@contextlib.asynccontextmanager
async def reverse_bridge(
    *extra: str, command: list[str] | None = None
) -> AsyncIterator[tuple[str, asyncio.subprocess.Process, str]]:
    marker = f"BRIDGE_TEST_MARKER={uuid.uuid4().hex}"
    env = {**os.environ, **ENV, marker.split("=")[0]: marker.split("=")[1]}
    command = command or [sys.executable, "-m", "mcp_async.testing", "--stdio", "--two-way"]
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "mcp_async",
        "bridge",
        "--http",
        "127.0.0.1:0",
        *extra,
        "--",
        *command,
        env=env,
        cwd=str(ROOT),
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None
    try:
        url = None
        while url is None:
            line = (await asyncio.wait_for(process.stderr.readline(), 30)).decode()
            assert line, "the bridge exited before listening"
            if line.startswith("listening on "):
                url = line.split()[-1]
        drain = asyncio.ensure_future(process.stderr.read())
        yield url, process, marker
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 30) == 0
        drain.cancel()
    for _ in range(100):
        if not marked_processes(marker):
            break
        await asyncio.sleep(0.05)
    assert not marked_processes(marker), "a server process outlived the bridge"


async def test_a_stdio_server_served_over_http_to_the_official_client() -> None:
    host = Host()
    async with reverse_bridge() as (url, _process, marker):
        async with (
            streamable_http_client(url) as (read, write),
            mcp.ClientSession(
                read, write, sampling_callback=host.sampling, logging_callback=host.logging
            ) as session,
        ):
            init = await session.initialize()
            assert init.server_info.name == "mcp-async-demo"
            tools = await session.list_tools()
            assert {tool.name for tool in tools.tools} == DEMO_TOOLS | TWO_WAY_TOOLS
            assert (await session.call_tool("echo", {"text": "hi"})).content[0].text == "hi"
            progress: list[float] = []

            async def on_progress(done: float, total: float | None, message: str | None) -> None:
                progress.append(done)

            slow = await session.call_tool("slow", {"seconds": 0.2}, progress_callback=on_progress)
            assert slow.content[0].text == "slept 0.2 s" and progress == [1, 2, 3, 4]
            sampled = await session.call_tool("sample", {"prompt": "over http"})
            assert sampled.content[0].text == "OVER HTTP"
            calls = await asyncio.gather(
                *(session.call_tool("echo", {"text": str(i)}) for i in range(20))
            )
            assert [c.content[0].text for c in calls] == [str(i) for i in range(20)]
            assert len(marked_processes(marker)) == 2  # the bridge and one server
        # The client's DELETE ended the session and its process.
        for _ in range(100):
            if len(marked_processes(marker)) == 1:
                break
            await asyncio.sleep(0.05)
        assert len(marked_processes(marker)) == 1


async def test_the_reverse_bridge_checks_origin_host_and_sessions() -> None:
    async with reverse_bridge("--max-sessions", "1") as (url, _process, _marker):
        initialize = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "raw", "version": "1"},
            },
        }
        accept = {"Accept": "application/json, text/event-stream"}
        async with aiohttp.ClientSession() as http:
            for headers in ({"Origin": "https://evil.example"}, {"Host": "evil.example"}):
                async with http.post(url, json=initialize, headers={**accept, **headers}) as r:
                    assert r.status == 403
            async with http.post(
                url, json=initialize, headers={**accept, "Origin": "http://localhost:3000"}
            ) as r:
                assert r.status == 200
                session_id = r.headers["Mcp-Session-Id"]
                body = await r.text()
                assert '"serverInfo"' in body and "event: message" in body
            # One session at most: a second initialize is refused while it runs.
            async with http.post(url, json=initialize, headers=accept) as r:
                assert r.status == 503
            listing = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}
            async with http.post(url, json=listing, headers=accept) as r:
                assert r.status == 400  # no session id
            async with http.post(
                url, json=listing, headers={**accept, "Mcp-Session-Id": "nope"}
            ) as r:
                assert r.status == 404
            async with http.post(url, data=b"{not json", headers=accept) as r:
                assert r.status == 400 and "error" in await r.json()
            async with http.delete(url, headers={"Mcp-Session-Id": session_id}) as r:
                assert r.status == 200
            async with http.post(
                url, json=listing, headers={**accept, "Mcp-Session-Id": session_id}
            ) as r:
                assert r.status == 404


async def test_a_server_that_dies_mid_request_gives_an_error_and_a_new_session_works() -> None:
    command = [sys.executable, "-m", "mcp_async.testing", "--stdio", "--exit-after", "3"]
    async with (
        reverse_bridge(command=command) as (url, _process, _marker),
        streamable_http_client(url) as (read, write),
        mcp.ClientSession(read, write) as session,
    ):
        await session.initialize()
        await session.list_tools()
        with pytest.raises(MCPError, match="exited"):
            await session.call_tool("echo", {"text": "x"})


async def test_the_raw_line_protocol_before_initialize() -> None:
    # A host that sends nonsense, or calls before initialize, gets answers (no hang),
    # and the bridge ends cleanly when stdin closes.
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "mcp_async", "bridge", "http://127.0.0.1:1/mcp",
        env={**os.environ, **ENV}, cwd=str(ROOT), stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )
    assert process.stdin is not None and process.stdout is not None

    async def exchange(line: bytes) -> dict[str, Any]:
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(line + b"\n")
        await process.stdin.drain()
        answer: dict[str, Any] = json.loads(
            await asyncio.wait_for(process.stdout.readline(), 30)
        )
        return answer

    try:
        bad = await exchange(b"{not json")
        assert bad["error"]["code"] == -32700 and bad["id"] is None
        early = await exchange(b'{"jsonrpc": "2.0", "id": 1, "method": "tools/list"}')
        assert early["id"] == 1 and early["error"]["code"] == -32002
        assert "initialize first" in early["error"]["message"]
        assert await exchange(b'{"jsonrpc": "2.0", "id": "p", "method": "ping"}') == {
            "jsonrpc": "2.0", "id": "p", "result": {},
        }
        bad_init = await exchange(
            b'{"jsonrpc": "2.0", "id": 2, "method": "initialize", "params": {}}'
        )
        assert bad_init["error"]["code"] == -32602
    finally:
        process.stdin.close()
        assert await asyncio.wait_for(process.wait(), 30) == 0
