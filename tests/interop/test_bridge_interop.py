"""``mcp-async bridge`` between real clients and real servers nobody here wrote (issue 29).

* The official SDK's stdio client (a host that only starts stdio servers) uses
  ``@modelcontextprotocol/server-everything`` and the official SDK server over
  Streamable HTTP through ``mcp-async bridge URL``: tools, a call, progress.
* The same host uses the SDK resource server behind the strict local authorization
  server (tests/auth/as_server.py) with OAuth: client credentials, and the browser
  sign-in (the "browser" is a script named by ``$BROWSER``), whose tokens are kept on
  disk so that a second start needs no browser.
* ``mcp-async bridge --http`` serves server-everything's stdio mode to the official
  SDK's Streamable HTTP client.

Every process started is reaped.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import stat
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from servers import RunningServer, StdioCommand

from tests.auth.as_server import Client, env_context

mcp = pytest.importorskip("mcp")
from mcp.client.stdio import StdioServerParameters, stdio_client  # noqa: E402
from mcp.client.streamable_http import streamable_http_client  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent.parent
ENV = {"PYTHONPATH": str(ROOT)}
HTTP_MODE = "sse-stateful"


def _children() -> set[int]:
    me = os.getpid()
    found: set[int] = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_bytes().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == me:
            found.add(int(entry))
    return found


@pytest.fixture
def reaped() -> Iterator[None]:
    """Every child process started during the test is gone (and reaped) at its end."""
    before = _children()
    yield
    end = time.monotonic() + 10
    while _children() - before and time.monotonic() < end:
        time.sleep(0.05)
    assert not _children() - before, "a process was left behind (or not reaped)"


def bridge(*args: str, env: dict[str, str] | None = None) -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable, args=["-m", "mcp_async", "bridge", *args],
        env={**ENV, **(env or {})}, cwd=str(ROOT),
    )


@contextlib.asynccontextmanager
async def host(params: StdioServerParameters) -> AsyncIterator[Any]:
    with tempfile.TemporaryFile("w+") as errlog:
        async with (
            stdio_client(params, errlog=errlog) as (read, write),
            mcp.ClientSession(read, write) as session,
        ):
            yield session


async def test_a_stdio_host_uses_server_everything_over_http(
    everything_server: RunningServer, reaped: None,
) -> None:
    async with host(bridge(everything_server.url)) as session:
        init = await session.initialize()
        assert "everything" in init.server_info.name
        tools = {tool.name for tool in (await session.list_tools()).tools}
        assert {"echo", "get-sum", "trigger-long-running-operation"} <= tools
        echo = await session.call_tool("echo", {"message": "through the bridge"})
        assert "through the bridge" in echo.content[0].text
        progress: list[float] = []

        async def on_progress(done: float, total: float | None, message: str | None) -> None:
            progress.append(done)

        long = await session.call_tool(
            "trigger-long-running-operation", {"duration": 0.4, "steps": 4},
            progress_callback=on_progress,
        )
        assert not long.is_error
        assert progress == [1, 2, 3, 4]


@pytest.mark.parametrize("sdk_server", [HTTP_MODE], indirect=True)
async def test_a_stdio_host_uses_the_sdk_server_over_http(
    sdk_server: RunningServer, reaped: None,
) -> None:
    async with host(bridge(sdk_server.url)) as session:
        await session.initialize()
        tools = {tool.name for tool in (await session.list_tools()).tools}
        assert "echo" in tools
        echoed = await session.call_tool("echo", {"text": "sdk via bridge"})
        assert echoed.content[0].text == "sdk via bridge"


async def test_oauth_client_credentials_through_the_bridge(
    reaped: None, tmp_path: Path,
) -> None:
    async with env_context() as env:
        env.authorization.add_client(Client(
            "svc-1", "client_secret_basic", "svc-secret", grant_types=["client_credentials"],
        ))
        tokens = tmp_path / "tokens.json"
        params = bridge(env.rs.url, "--client-id", "svc-1", "--issuer", env.authorization.issuer,
                        "--token-file", str(tokens),
                        env={"MCP_ASYNC_CLIENT_SECRET": "svc-secret"})
        async with host(params) as session:
            await session.initialize()
            echoed = await session.call_tool("echo", {"text": "m2m"})
            assert echoed.content[0].text == "m2m"
        assert env.authorization.grants["client_credentials"] == 1
        assert tokens.exists() and stat.S_IMODE(tokens.stat().st_mode) == 0o600
        assert "svc-secret" not in tokens.read_text()


BROWSE = """#!{python}
import sys, urllib.request, urllib.error
with open({log!r}, "a") as log:
    log.write(sys.argv[1] + "\\n")
class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None
opener = urllib.request.build_opener(NoRedirect)
try:
    opener.open(sys.argv[1])
except urllib.error.HTTPError as answer:
    location = answer.headers["Location"]
urllib.request.urlopen(location).read()
"""


async def test_oauth_browser_sign_in_once_then_tokens_from_disk(
    reaped: None, tmp_path: Path,
) -> None:
    visits = tmp_path / "visits.log"
    browser = tmp_path / "browse"
    browser.write_text(BROWSE.format(python=sys.executable, log=str(visits)))
    browser.chmod(0o755)
    tokens = tmp_path / "tokens.json"
    async with env_context() as env:
        params = bridge(env.rs.url, "--oauth", "--token-file", str(tokens),
                        env={"BROWSER": str(browser)})
        for run in range(2):
            async with host(params) as session:
                await session.initialize()
                echoed = await session.call_tool("echo", {"text": "signed in"})
                assert echoed.content[0].text == "signed in"
                if run == 1:
                    # The access token expires (the authorization server's clock moves):
                    # the bridge refreshes it, unseen by the host.
                    env.clock.advance(7200)
                    again = await session.call_tool("echo", {"text": "refreshed"})
                    assert again.content[0].text == "refreshed"
        assert len(visits.read_text().splitlines()) == 1  # the second run used the file
        assert env.authorization.grants["authorization_code"] == 1
        assert env.authorization.grants["refresh_token"] == 1
        stored = json.loads(tokens.read_text())
        assert stored  # tokens and the registration, under the resource and the issuer


@contextlib.asynccontextmanager
async def reverse(command: StdioCommand) -> AsyncIterator[str]:
    env = {**os.environ, **ENV, **(command.env or {})}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "mcp_async", "bridge", "--http", "127.0.0.1:0", "--",
        command.command, *command.args, env=env, cwd=command.cwd or str(ROOT),
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None
    drain: asyncio.Future[bytes] | None = None
    try:
        url = None
        while url is None:
            line = (await asyncio.wait_for(process.stderr.readline(), 60)).decode()
            assert line, "the bridge exited before listening"
            if line.startswith("listening on "):
                url = line.split()[-1]
        drain = asyncio.ensure_future(process.stderr.read())
        yield url
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 30) == 0
        if drain is not None:
            drain.cancel()


async def test_server_everything_stdio_served_over_http_to_the_sdk_client(
    reaped: None, everything_stdio_command: StdioCommand,
) -> None:
    async with (
        reverse(everything_stdio_command) as url,
        streamable_http_client(url) as (read, write),
        mcp.ClientSession(read, write) as session,
    ):
        init = await session.initialize()
        assert "everything" in init.server_info.name
        tools = {tool.name for tool in (await session.list_tools()).tools}
        assert {"echo", "get-sum"} <= tools
        echo = await session.call_tool("echo", {"message": "reverse"})
        assert "reverse" in echo.content[0].text
        summed = await session.call_tool("get-sum", {"a": 2, "b": 40})
        assert "42" in summed.content[0].text
