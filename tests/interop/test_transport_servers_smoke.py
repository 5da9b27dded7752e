"""Smoke tests for the stdio and legacy HTTP+SSE fixtures, spoken to with raw I/O.

Like test_servers_smoke.py these do not use mcp_async: they prove that the
fixtures start the real servers in the transport they claim, so the client
interop tests (test_stdio_sse_interop.py) can rely on them.

* stdio: newline-delimited JSON-RPC on the child's stdin/stdout (spec notes §1.1);
* legacy SSE: GET the ``/sse`` stream, read its ``endpoint`` event, POST every
  message there (202), read the replies as ``message`` events (spec notes §1.2).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import aiohttp
import pytest
from sdk_server import INVENTORY
from servers import RunningServer, StdioCommand, open_stdio, stdio_stderr
from test_servers_smoke import EVERYTHING_BASE_TOOLS, EVERYTHING_CAPABILITY_TOOLS

VERSIONS = ["2025-11-25", "2024-11-05"]
STEP = 10.0  # seconds allowed for any single message to arrive
HTTP_TIMEOUT = aiohttp.ClientTimeout(total=None, sock_connect=5)

SDK_NAME = "mcp-async-interop-sdk-server"
EVERYTHING_NAME = "mcp-servers/everything"


# ------------------------------------------------------------ raw JSON-RPC peer
class RawPeer:
    """JSON-RPC over some framing: subclasses move one message each way."""

    def __init__(self) -> None:
        self.next_id = 0
        self.seen: list[dict[str, Any]] = []  # notifications received while waiting
        self.server_requests: list[dict[str, Any]] = []

    async def send(self, message: dict[str, Any]) -> None:
        raise NotImplementedError

    async def receive(self) -> dict[str, Any]:
        raise NotImplementedError

    async def notify(self, method: str, params: dict[str, Any] | None = None) -> None:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        await self.send(message)

    async def request(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        *,
        answer: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Send a request; answer server requests met on the way; return the response."""
        self.next_id += 1
        request_id = self.next_id
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
        if params is not None:
            message["params"] = params
        await self.send(message)
        while True:
            incoming = await self.receive()
            if incoming.get("id") == request_id and ("result" in incoming or "error" in incoming):
                return incoming
            if "method" in incoming and "id" in incoming:
                self.server_requests.append(incoming)
                await self.answer(incoming, answer)
            else:
                self.seen.append(incoming)

    async def answer(
        self,
        request: dict[str, Any],
        answer: Callable[[dict[str, Any]], dict[str, Any]] | None,
    ) -> None:
        if answer is None:
            reply = {"error": {"code": -32601, "message": f"no handler for {request['method']}"}}
        else:
            reply = {"result": answer(request)}
        await self.send({"jsonrpc": "2.0", "id": request["id"], **reply})

    async def call(self, method: str, params: dict[str, Any] | None = None, **kw: Any) -> Any:
        response = await self.request(method, params, **kw)
        assert "result" in response, response
        return response["result"]

    async def initialize(
        self, version: str, capabilities: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        result = await self.call(
            "initialize",
            {
                "protocolVersion": version,
                "capabilities": capabilities or {},
                "clientInfo": {"name": "mcp-async-transport-smoke", "version": "0"},
            },
        )
        await self.notify("notifications/initialized")
        return result  # type: ignore[no-any-return]

    async def next_matching(self, predicate: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        """The first message (already seen or still to come) that satisfies `predicate`."""
        for message in self.seen:
            if predicate(message):
                return message
        while True:
            message = await self.receive()
            self.seen.append(message)
            if predicate(message):
                return message


class StdioPeer(RawPeer):
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        super().__init__()
        self.process = process
        self.lines: list[bytes] = []  # every stdout line, for the "only JSON" check

    async def send(self, message: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(message).encode() + b"\n")
        await self.process.stdin.drain()

    async def receive(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        async with asyncio.timeout(STEP):
            line = await self.process.stdout.readline()
        if not line:
            raise AssertionError(
                f"stdout closed (exit {self.process.returncode}); stderr:\n"
                f"{stdio_stderr(self.process)}"
            )
        self.lines.append(line)
        assert line.endswith(b"\n") and b"\n" not in line[:-1]
        message = json.loads(line)  # stdout carries nothing but JSON-RPC
        assert isinstance(message, dict) and message.get("jsonrpc") == "2.0", message
        return message


class SsePeer(RawPeer):
    """Legacy HTTP+SSE: one GET stream in, one POST per message out."""

    def __init__(self, http: aiohttp.ClientSession, stream: aiohttp.ClientResponse) -> None:
        super().__init__()
        self.http = http
        self.stream = stream
        self.endpoint = ""  # absolute POST URL, from the `endpoint` event
        self.endpoint_data = ""  # as sent by the server
        self.events: list[dict[str, str]] = []
        self.post_statuses: list[int] = []

    async def read_event(self) -> dict[str, str]:
        """The next SSE event ({"event", "data", "id"?}), skipping comments (keep-alives)."""
        event: dict[str, str] = {}
        data: list[str] = []
        async with asyncio.timeout(STEP):
            while True:
                raw = await self.stream.content.readline()
                if not raw:
                    raise AssertionError("the SSE stream ended")
                line = raw.decode().rstrip("\r\n")
                if not line:
                    if data or event:
                        event.setdefault("event", "message")
                        event["data"] = "\n".join(data)
                        self.events.append(event)
                        return event
                    continue
                if line.startswith(":"):
                    continue
                name, _, value = line.partition(":")
                value = value.removeprefix(" ")
                if name == "data":
                    data.append(value)
                elif name in ("event", "id", "retry"):
                    event[name] = value

    async def open(self, url: str) -> None:
        first = await self.read_event()
        assert first["event"] == "endpoint", first
        self.endpoint_data = first["data"]
        self.endpoint = urljoin(url, first["data"])

    async def send(self, message: dict[str, Any]) -> None:
        async with self.http.post(
            self.endpoint, json=message, headers={"Content-Type": "application/json"}
        ) as response:
            await response.read()
            self.post_statuses.append(response.status)
            assert response.status == 202, (response.status, message)

    async def receive(self) -> dict[str, Any]:
        while True:
            event = await self.read_event()
            if event["event"] == "message" and event["data"].strip():
                message = json.loads(event["data"])
                assert isinstance(message, dict) and message.get("jsonrpc") == "2.0", message
                return message


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=HTTP_TIMEOUT) as session:
        yield session


# ------------------------------------------------------------------------- stdio
def _stdio_command(request: pytest.FixtureRequest, kind: str) -> StdioCommand:
    return request.getfixturevalue(f"{kind}_stdio_command")  # type: ignore[no-any-return]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("kind", ["sdk", "everything"])
async def test_stdio_handshake_and_tools(
    request: pytest.FixtureRequest, kind: str, version: str
) -> None:
    command = _stdio_command(request, kind)
    async with open_stdio(command) as process:
        peer = StdioPeer(process)
        result = await peer.initialize(version)
        assert result["protocolVersion"] == version
        tools = (await peer.call("tools/list"))["tools"]
        assert await peer.call("ping") == {}
        if kind == "sdk":
            assert result["serverInfo"]["name"] == SDK_NAME
            assert set(result["capabilities"]) == {"tools", "resources", "prompts", "completions"}
            assert [t["name"] for t in tools] == INVENTORY["tools"]
            added = await peer.call("tools/call", {"name": "add", "arguments": {"a": 2, "b": 3}})
            assert added["structuredContent"] == {"result": 5}
        else:
            assert result["serverInfo"]["name"] == EVERYTHING_NAME
            assert "logging" in result["capabilities"]
            assert {t["name"] for t in tools} == EVERYTHING_BASE_TOOLS
            summed = await peer.call(
                "tools/call", {"name": "get-sum", "arguments": {"a": 1, "b": 2}}
            )
            assert summed["content"] == [{"type": "text", "text": "The sum of 1 and 2 is 3."}]
            assert await peer.call("logging/setLevel", {"level": "debug"}) == {}
        # The stdio servers write their own diagnostics to stderr only.
        assert all(line.lstrip().startswith(b"{") for line in peer.lines)


async def test_stdio_sdk_server_requests_and_progress(sdk_stdio_command: StdioCommand) -> None:
    """roots/list and progress/log notifications travel on stdout, answers go on stdin."""
    async with open_stdio(sdk_stdio_command) as process:
        peer = StdioPeer(process)
        await peer.initialize("2025-11-25", {"roots": {"listChanged": True}})
        roots = await peer.call(
            "tools/call",
            {"name": "roots", "arguments": {}},
            answer=lambda _: {"roots": [{"uri": "file:///srv/a", "name": "a"}]},
        )
        assert roots["structuredContent"] == {"result": ["file:///srv/a"]}
        assert [r["method"] for r in peer.server_requests] == ["roots/list"]

        peer.seen.clear()
        done = await peer.call(
            "tools/call",
            {"name": "progress", "arguments": {"steps": 2}, "_meta": {"progressToken": "tok"}},
        )
        assert done["structuredContent"] == {"result": "done 2"}
        assert [(m["method"], m["params"].get("progress")) for m in peer.seen] == [
            ("notifications/progress", 1),
            ("notifications/message", None),
            ("notifications/progress", 2),
            ("notifications/message", None),
        ]
        # MCPServer offers no logging/setLevel (and declares no `logging` capability).
        refused = await peer.request("logging/setLevel", {"level": "debug"})
        assert refused["error"]["code"] == -32601


async def test_stdio_everything_asks_for_roots_after_the_handshake(
    everything_stdio_command: StdioCommand,
) -> None:
    async with open_stdio(everything_stdio_command) as process:
        peer = StdioPeer(process)
        await peer.initialize("2025-11-25", {"roots": {"listChanged": True}, "sampling": {}})
        tools = {t["name"] for t in (await peer.call("tools/list"))["tools"]}
        assert {"get-roots-list", "trigger-sampling-request"} <= tools
        assert tools <= EVERYTHING_BASE_TOOLS | EVERYTHING_CAPABILITY_TOOLS
        # ~350 ms after notifications/initialized the server sends roots/list.
        asked = await peer.next_matching(lambda m: m.get("method") == "roots/list")
        await peer.answer(asked, lambda _: {"roots": [{"uri": "file:///srv/one"}]})
        logged = await peer.next_matching(lambda m: m.get("method") == "notifications/message")
        assert "Roots updated: 1 root(s)" in logged["params"]["data"]


@pytest.mark.parametrize("kind", ["sdk", "everything"])
async def test_stdio_server_exits_when_stdin_closes(
    request: pytest.FixtureRequest, kind: str
) -> None:
    """No orphans: closing stdin ends the server at once, even with a request pending."""
    command = _stdio_command(request, kind)
    async with open_stdio(command, stop_grace=0.1) as process:
        peer = StdioPeer(process)
        await peer.initialize("2025-11-25", {"roots": {}})
        if kind == "everything":  # leave its roots/list request unanswered
            await peer.next_matching(lambda m: m.get("method") == "roots/list")
        assert process.stdin is not None
        began = time.monotonic()
        process.stdin.close()
        async with asyncio.timeout(5):
            code = await process.wait()
        assert code == 0 and time.monotonic() - began < 3


async def test_open_stdio_reaps_a_server_that_ignores_eof(
    everything_stdio_command: StdioCommand,
) -> None:
    """The bare package keeps running after EOF; open_stdio still kills it."""
    import servers

    bare = servers.everything_stdio_command(exit_on_stdin_eof=False)
    assert "exit_on_stdin_end" not in str(bare) and "exit_on_stdin_end" in str(
        everything_stdio_command
    )
    async with open_stdio(bare, stop_grace=0.5) as process:
        peer = StdioPeer(process)
        await peer.initialize("2025-11-25", {"roots": {}})
        await peer.next_matching(lambda m: m.get("method") == "roots/list")
    assert process.returncode is not None and process.returncode != 0  # SIGTERM'd


# --------------------------------------------------------------------- legacy SSE
SSE_ENDPOINTS = {"sdk": "/messages/?session_id=", "everything": "/message?sessionId="}


def _sse_server(request: pytest.FixtureRequest, kind: str) -> RunningServer:
    return request.getfixturevalue(f"{kind}_sse_server")  # type: ignore[no-any-return]


@contextlib.asynccontextmanager
async def sse_peer(http: aiohttp.ClientSession, url: str) -> AsyncIterator[SsePeer]:
    """GET the stream, read its `endpoint` event; the stream is closed on exit."""
    async with http.get(url, headers={"Accept": "text/event-stream"}) as response:
        assert response.status == 200, response.status
        assert response.headers["Content-Type"].startswith("text/event-stream")
        peer = SsePeer(http, response)
        await peer.open(url)
        yield peer


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("kind", ["sdk", "everything"])
async def test_sse_handshake_and_tools(
    request: pytest.FixtureRequest, http: aiohttp.ClientSession, kind: str, version: str
) -> None:
    server = _sse_server(request, kind)
    assert server.transport == "sse"
    assert server.url == f"http://127.0.0.1:{server.port}/sse"
    async with sse_peer(http, server.url) as peer:
        # The first event names a relative, same-origin URL for the POSTs.
        assert peer.endpoint_data.startswith(SSE_ENDPOINTS[kind])
        assert urlsplit(peer.endpoint)[:2] == urlsplit(server.url)[:2]

        result = await peer.initialize(version)
        assert result["protocolVersion"] == version
        tools = (await peer.call("tools/list"))["tools"]
        assert await peer.call("ping") == {}
        if kind == "sdk":
            assert result["serverInfo"]["name"] == SDK_NAME
            assert [t["name"] for t in tools] == INVENTORY["tools"]
            text = await peer.call("resources/read", {"uri": "greeting://ada"})
            assert text["contents"][0]["text"] == "Hello, ada!"
        else:
            assert result["serverInfo"]["name"] == EVERYTHING_NAME
            assert {t["name"] for t in tools} == EVERYTHING_BASE_TOOLS
            summed = await peer.call(
                "tools/call", {"name": "get-sum", "arguments": {"a": 4, "b": 5}}
            )
            assert summed["content"][0]["text"] == "The sum of 4 and 5 is 9."
        assert set(peer.post_statuses) == {202}


@pytest.mark.parametrize("kind", ["sdk", "everything"])
async def test_sse_each_stream_is_its_own_session(
    request: pytest.FixtureRequest, http: aiohttp.ClientSession, kind: str
) -> None:
    server = _sse_server(request, kind)
    async with sse_peer(http, server.url) as first, sse_peer(http, server.url) as second:
        assert first.endpoint != second.endpoint
        await first.initialize("2025-11-25")
        await second.initialize("2025-11-25")
        one, two = await asyncio.gather(first.call("ping"), second.call("ping"))
        assert one == two == {}


async def test_sse_sdk_server_requests_and_progress(
    sdk_sse_server: RunningServer, http: aiohttp.ClientSession
) -> None:
    """A server request arrives on the stream; its answer is POSTed like any message."""
    async with sse_peer(http, sdk_sse_server.url) as peer:
        await peer.initialize("2025-11-25", {"roots": {}})
        roots = await peer.call(
            "tools/call",
            {"name": "roots", "arguments": {}},
            answer=lambda _: {"roots": [{"uri": "file:///srv/b"}]},
        )
        assert roots["structuredContent"] == {"result": ["file:///srv/b"]}
        peer.seen.clear()
        await peer.call(
            "tools/call",
            {"name": "progress", "arguments": {"steps": 2}, "_meta": {"progressToken": 7}},
        )
        assert [m["method"] for m in peer.seen] == [
            "notifications/progress",
            "notifications/message",
            "notifications/progress",
            "notifications/message",
        ]


async def test_sse_everything_asks_for_roots_on_the_stream(
    everything_sse_server: RunningServer, http: aiohttp.ClientSession
) -> None:
    async with sse_peer(http, everything_sse_server.url) as peer:
        await peer.initialize("2025-11-25", {"roots": {}})
        asked = await peer.next_matching(lambda m: m.get("method") == "roots/list")
        await peer.answer(asked, lambda _: {"roots": [{"uri": "file:///a"}, {"uri": "file:///b"}]})
        logged = await peer.next_matching(lambda m: m.get("method") == "notifications/message")
        assert "Roots updated: 2 root(s)" in logged["params"]["data"]


@pytest.mark.parametrize(
    ("kind", "post_status"),
    [("sdk", 405), ("everything", 404)],
)
async def test_sse_url_refuses_a_streamable_http_post(
    request: pytest.FixtureRequest, http: aiohttp.ClientSession, kind: str, post_status: int
) -> None:
    """What transport detection sees: POSTing to the /sse URL fails with 404/405 (§1.2)."""
    server = _sse_server(request, kind)
    message = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "probe", "version": "0"},
        },
    }
    headers = {"Accept": "application/json, text/event-stream"}
    async with http.post(server.url, json=message, headers=headers) as response:
        assert response.status == post_status
        await response.read()


@pytest.mark.parametrize("kind", ["sdk", "everything"])
def test_sse_servers_listen_on_loopback_only(request: pytest.FixtureRequest, kind: str) -> None:
    server = _sse_server(request, kind)
    tables = [Path("/proc/net/tcp"), Path("/proc/net/tcp6")]
    if not tables[0].exists():
        pytest.skip("needs Linux /proc/net")
    listeners = []
    for table in tables:
        for row in table.read_text().splitlines()[1:]:
            fields = row.split()
            address, _, port = fields[1].partition(":")
            if fields[3] == "0A" and int(port, 16) == server.port:
                listeners.append(address)
    assert listeners == ["0100007F"]  # 127.0.0.1, and nothing on :: or 0.0.0.0
