"""``MCPTestServer`` over stdio and legacy HTTP+SSE, driven with raw JSON lines and aiohttp.

Nothing here uses the mcp_async client: stdio is exercised through
``python -m mcp_async.testing --stdio`` subprocesses (and in-process ``serve_stdio`` on a
socket pair), legacy SSE through a raw ``aiohttp.ClientSession``. The ``interop`` tests
check the official SDK's ``stdio_client`` and ``sse_client`` against both modes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import socket
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import aiohttp
import pytest

import mcp_async.testing as testing
from mcp_async.testing import Fault, MCPTestServer, ToolContext, demo_server
from mcp_async.testing.cli import _BANNER

#: The checkout whose ``mcp_async`` these tests import; child processes use the same one.
ROOT = Path(os.path.abspath(testing.__file__)).parents[2]
DEMO_TOOLS = {"add", "echo", "slow", "weather", "fail"}
TWO_WAY_TOOLS = {"sample", "confirm", "list_roots", "log_message"}


def init_params(version: str = "2025-11-25") -> dict[str, Any]:
    return {
        "protocolVersion": version,
        "capabilities": {"sampling": {}, "roots": {}, "elicitation": {}},
        "clientInfo": {"name": "tests", "version": "0"},
    }


# ---- a raw JSON-RPC peer -------------------------------------------------------------------


class RawPeer:
    """Routes replies to their requests by id; everything else (notifications, server
    requests, non-JSON lines) is queued in ``incoming`` in arrival order."""

    def __init__(self, write: Callable[[bytes], Awaitable[None]]) -> None:
        self._write = write
        self._waiting: dict[Any, asyncio.Future[Any]] = {}
        self.incoming: asyncio.Queue[Any] = asyncio.Queue()
        self.replies: list[Any] = []
        self.garbage: list[str] = []
        self._ids = iter(range(1, 1_000_000))

    def dispatch(self, text: str) -> None:
        try:
            message: Any = json.loads(text)
        except ValueError:
            self.garbage.append(text)
            self.incoming.put_nowait(text)
            return
        if isinstance(message, list) or "method" not in message:
            self.replies.append(message)
            key = "batch" if isinstance(message, list) else message.get("id")
            future = self._waiting.pop(key, None)
            if future is not None and not future.done():
                future.set_result(message)
                return
        self.incoming.put_nowait(message)

    async def send(self, message: Any) -> None:
        await self._write(json.dumps(message).encode() + b"\n")

    async def call(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        *,
        request_id: Any = None,
        timeout: float = 10.0,
    ) -> dict[str, Any]:
        """Send a request and return the whole response (result or error)."""
        request_id = next(self._ids) if request_id is None else request_id
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
        if params is not None:
            message["params"] = params
        future = self.expect(request_id)
        await self.send(message)
        reply: dict[str, Any] = await asyncio.wait_for(future, timeout)
        return reply

    def expect(self, request_id: Any) -> asyncio.Future[Any]:
        """A future for the reply with ``request_id`` (``"batch"``: the next batch reply)."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting[request_id] = future
        return future

    async def result(self, method: str, params: dict[str, Any] | None = None) -> Any:
        reply = await self.call(method, params)
        assert "result" in reply, reply
        return reply["result"]

    async def notify(self, method: str, params: dict[str, Any] | None = None) -> None:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        await self.send(message)

    async def next(self, timeout: float = 5.0) -> Any:
        return await asyncio.wait_for(self.incoming.get(), timeout)

    async def initialize(self, version: str = "2025-11-25") -> dict[str, Any]:
        result: dict[str, Any] = await self.result("initialize", init_params(version))
        await self.notify("notifications/initialized")
        return result


async def until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    for _ in range(int(timeout / 0.005)):
        if predicate():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("condition not met in time")


def text_of(result: dict[str, Any]) -> str:
    text: str = result["content"][0]["text"]
    return text


# ---- stdio: subprocesses ---------------------------------------------------------------------


class Child:
    """A ``python -m mcp_async.testing --stdio`` process with a :class:`RawPeer` on its pipes."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        assert proc.stdin is not None and proc.stdout is not None
        self.stdin = proc.stdin
        self.stdout = proc.stdout
        self.peer = RawPeer(self._write)
        self.eof = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    async def _write(self, data: bytes) -> None:
        self.stdin.write(data)
        await self.stdin.drain()

    async def _read(self) -> None:
        while line := await self.stdout.readline():
            self.peer.dispatch(line.decode())
        self.eof.set()

    async def close_stdin(self) -> None:
        self.stdin.close()
        with contextlib.suppress(ConnectionError):
            await self.stdin.wait_closed()

    async def wait(self, timeout: float = 10.0) -> int:
        """Wait for the exit (and the end of stdout); return the exit status."""
        status = await asyncio.wait_for(self.proc.wait(), timeout)
        await asyncio.wait_for(self.eof.wait(), timeout)
        return status

    async def stderr(self) -> str:
        assert self.proc.stderr is not None
        return (await asyncio.wait_for(self.proc.stderr.read(), 10)).decode()

    async def reap(self) -> None:
        """Kill the process if it still runs and collect everything (no leftovers)."""
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
        await self.proc.wait()
        self.stdin.close()
        with contextlib.suppress(ConnectionError):
            await self.stdin.wait_closed()
        await self._reader
        assert self.proc.stderr is not None
        await self.proc.stderr.read()


@contextlib.asynccontextmanager
async def spawn(*flags: str) -> AsyncIterator[Child]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "mcp_async.testing", "--stdio", *flags,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=ROOT,
        env=env,
        limit=16 * 1024 * 1024,
    )
    child = Child(proc)
    try:
        yield child
    finally:
        await child.reap()


async def test_stdio_cli_session_and_clean_exit() -> None:
    async with spawn() as child:
        peer = child.peer
        init = await peer.initialize("2025-06-18")
        assert init["protocolVersion"] == "2025-06-18"
        assert init["serverInfo"]["name"] == "mcp-async-demo"
        assert {"tools", "resources", "prompts", "logging", "completions"} <= set(
            init["capabilities"]
        )
        tools = (await peer.result("tools/list"))["tools"]
        assert {tool["name"] for tool in tools} == DEMO_TOOLS
        added = await peer.result("tools/call", {"name": "add", "arguments": {"a": 1, "b": 2}})
        assert added["structuredContent"] == {"result": 3}
        failed = await peer.result("tools/call", {"name": "fail", "arguments": {}})
        assert failed["isError"] is True
        readme = await peer.result("resources/read", {"uri": "demo://readme"})
        assert readme["contents"][0]["text"].startswith("# mcp_async demo")
        completion = await peer.result(
            "completion/complete",
            {"ref": {"type": "ref/prompt", "name": "review_code"},
             "argument": {"name": "language", "value": "py"}},
        )
        assert completion["completion"]["values"] == ["python"]
        unknown = await peer.call("nope/nope")
        assert unknown["error"]["code"] == -32601

        # A line that is not JSON gets a Parse error with a null id; the session goes on.
        await child._write(b"this is not json\n\n")
        error = await peer.next()
        assert error["id"] is None and error["error"]["code"] == -32700
        assert await peer.result("ping") == {}

        await child.close_stdin()
        assert await child.wait() == 0
        assert await child.stderr() == ""
        assert peer.garbage == []


async def test_stdio_cli_version_negotiation() -> None:
    async with spawn() as child:
        legacy = await child.peer.result("initialize", init_params("2024-11-05"))
        assert legacy["protocolVersion"] == "2024-11-05"
        assert "completions" not in legacy["capabilities"]  # 2025-03-26 and later only
        future = await child.peer.result("initialize", init_params("2099-01-01"))
        assert future["protocolVersion"] == "2025-11-25"
        await child.close_stdin()
        assert await child.wait() == 0


async def test_stdio_cli_two_way_round_trips() -> None:
    async with spawn("--two-way") as child:
        peer = child.peer
        await peer.initialize()
        tools = (await peer.result("tools/list"))["tools"]
        assert {tool["name"] for tool in tools} == DEMO_TOOLS | TWO_WAY_TOOLS

        # sampling/createMessage: the server asks on stdout, we answer on stdin.
        call = asyncio.create_task(peer.call("tools/call", {
            "name": "sample", "arguments": {"prompt": "say hi", "max_tokens": 7}
        }))
        asked = await peer.next()
        assert asked["method"] == "sampling/createMessage"
        assert asked["params"]["maxTokens"] == 7
        assert asked["params"]["messages"][0]["content"] == {"type": "text", "text": "say hi"}
        await peer.send({"jsonrpc": "2.0", "id": asked["id"], "result": {
            "role": "assistant", "content": {"type": "text", "text": "hi!"}, "model": "fake",
        }})
        assert text_of((await call)["result"]) == "hi!"

        # elicitation/create, answered with an error: the tool reports it.
        call = asyncio.create_task(peer.call("tools/call", {
            "name": "confirm", "arguments": {"question": "sure?"}
        }))
        asked = await peer.next()
        assert asked["method"] == "elicitation/create"
        assert asked["params"]["message"] == "sure?"
        await peer.send({"jsonrpc": "2.0", "id": asked["id"],
                         "error": {"code": -32600, "message": "no user here"}})
        result = (await call)["result"]
        assert result["isError"] is True and "no user here" in text_of(result)

        # roots/list
        call = asyncio.create_task(peer.call("tools/call", {"name": "list_roots"}))
        asked = await peer.next()
        assert asked["method"] == "roots/list"
        roots = [{"uri": "file:///tmp", "name": "tmp"}]
        await peer.send({"jsonrpc": "2.0", "id": asked["id"], "result": {"roots": roots}})
        assert (await call)["result"]["structuredContent"] == {"roots": roots}

        # Logging honours logging/setLevel; progress goes out before the response.
        assert await peer.result("logging/setLevel", {"level": "warning"}) == {}
        await peer.result("tools/call", {"name": "log_message",
                                         "arguments": {"level": "info", "text": "quiet"}})
        await peer.result("tools/call", {"name": "log_message",
                                         "arguments": {"level": "error", "text": "loud"}})
        logged = await peer.next()
        assert logged["method"] == "notifications/message"
        assert logged["params"] == {"level": "error", "data": "loud", "logger": "demo"}
        await peer.result("tools/call", {"name": "slow", "arguments": {"seconds": 0.04},
                                         "_meta": {"progressToken": "tok"}})
        progress = [await peer.next() for _ in range(4)]
        assert [p["params"]["progress"] for p in progress] == [1, 2, 3, 4]
        assert peer.incoming.empty()

        await child.close_stdin()
        assert await child.wait() == 0


async def test_stdio_cli_concurrency_and_cancellation() -> None:
    async with spawn() as child:
        peer = child.peer
        await peer.initialize()
        slow = asyncio.create_task(peer.call(
            "tools/call", {"name": "slow", "arguments": {"seconds": 30}}, request_id="slow-1"
        ))
        # A slow tool does not hold up other requests.
        assert text_of(await peer.result(
            "tools/call", {"name": "echo", "arguments": {"text": "fast"}}
        )) == "fast"
        await peer.notify("notifications/cancelled", {"requestId": "slow-1", "reason": "bored"})
        assert await peer.result("ping") == {}
        await child.close_stdin()
        started = time.monotonic()
        assert await child.wait() == 0
        assert time.monotonic() - started < 5
        assert not slow.done()  # cancelled calls are never answered
        slow.cancel()
        assert all(reply.get("id") != "slow-1" for reply in peer.replies)


async def test_stdio_cli_thousand_concurrent_large_replies() -> None:
    async with spawn() as child:
        peer = child.peer
        await peer.initialize()
        big = "x" * 20_000
        started = time.monotonic()
        echoes = [
            peer.call("tools/call", {"name": "echo", "arguments": {"text": f"{i}:{big}"}},
                      timeout=60)
            for i in range(1000)
        ]
        sleeps = [
            peer.call("tools/call", {"name": "slow", "arguments": {"seconds": 1.0}}, timeout=60)
            for _ in range(1000)
        ]
        replies = await asyncio.gather(*echoes, *sleeps)
        elapsed = time.monotonic() - started
        assert [text_of(r["result"]) for r in replies[:1000]] == [
            f"{i}:{big}" for i in range(1000)
        ]
        assert all(text_of(r["result"]) == "slept 1.0 s" for r in replies[1000:])
        assert elapsed < 20  # 1,000 one-second calls ran concurrently
        await child.close_stdin()
        assert await child.wait() == 0


async def test_stdio_cli_end_of_input_grace() -> None:
    async with spawn("--grace", "5") as child:
        await child.peer.initialize()
        call = asyncio.create_task(child.peer.call(
            "tools/call", {"name": "slow", "arguments": {"seconds": 0.2}}
        ))
        await asyncio.sleep(0.05)
        await child.close_stdin()
        assert text_of((await call)["result"]) == "slept 0.2 s"  # answered after EOF
        assert await child.wait() == 0
    async with spawn("--grace", "0.1") as child:
        await child.peer.initialize()
        await child.peer.send({"jsonrpc": "2.0", "id": 9, "method": "tools/call",
                               "params": {"name": "slow", "arguments": {"seconds": 30}}})
        await asyncio.sleep(0.05)
        started = time.monotonic()
        await child.close_stdin()
        assert await child.wait() == 0
        assert time.monotonic() - started < 5
        assert all(reply.get("id") != 9 for reply in child.peer.replies)


async def test_stdio_cli_banner_and_stderr_lines() -> None:
    async with spawn("--banner", "--stderr-lines", "3") as child:
        first = await child.peer.next()
        assert first == _BANNER + "\n"
        assert (await child.peer.initialize())["protocolVersion"] == "2025-11-25"
        await child.close_stdin()
        assert await child.wait() == 0
        lines = (await child.stderr()).splitlines()
        assert len(lines) == 3 and all("stderr line" in line for line in lines)
    async with spawn("--banner=hello, not JSON") as child:
        assert await child.peer.next() == "hello, not JSON\n"
        await child.close_stdin()
        assert await child.wait() == 0


async def test_stdio_cli_exit_after() -> None:
    async with spawn("--exit-after", "3") as child:
        peer = child.peer
        await peer.initialize()  # request 1
        assert await peer.result("ping") == {}  # request 2
        await peer.send({"jsonrpc": "2.0", "id": "last", "method": "tools/list"})
        assert await child.wait() == 3
        assert "dying" in (await child.stderr()).splitlines()
        assert all(reply.get("id") != "last" for reply in peer.replies)


async def test_stdio_cli_sigterm() -> None:
    async with spawn() as child:
        await child.peer.initialize()
        child.proc.send_signal(signal.SIGTERM)
        assert await child.wait() == -signal.SIGTERM
    async with spawn("--ignore-sigterm") as child:
        await child.peer.initialize()
        child.proc.send_signal(signal.SIGTERM)
        await asyncio.sleep(0.2)
        assert child.proc.returncode is None
        assert await child.peer.result("ping") == {}
        await child.close_stdin()
        assert await child.wait() == 0


async def test_cli_rejects_stdio_only_flags() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "mcp_async.testing", "--sse", "--exit-after", "1",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    _, err = await asyncio.wait_for(proc.communicate(), 10)
    assert proc.returncode == 2
    assert b"--stdio only" in err


async def test_cli_sse_mode_prints_url() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "mcp_async.testing", "--sse",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert proc.stdout is not None
        url = (await asyncio.wait_for(proc.stdout.readline(), 10)).decode().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/sse", url)
        async with aiohttp.ClientSession() as http, http.get(url) as resp:
            assert resp.status == 200
            assert await resp.content.readline() == b"event: endpoint\n"
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 10) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.communicate()


# ---- stdio: in process -------------------------------------------------------------------------


class InProcess:
    """``server.serve_stdio`` on one end of a socket pair, a :class:`RawPeer` on the other."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        task: asyncio.Task[None],
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.task = task
        self.peer = RawPeer(self._write)
        self._pump = asyncio.create_task(self._read())

    async def _write(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def _read(self) -> None:
        while line := await self.reader.readline():
            self.peer.dispatch(line.decode())

    async def end_input(self, timeout: float = 5.0) -> None:
        """Send EOF and wait until the server finished serving."""
        self.writer.write_eof()
        await asyncio.wait_for(asyncio.shield(self.task), timeout)


@contextlib.asynccontextmanager
async def served(server: MCPTestServer, **kw: Any) -> AsyncIterator[InProcess]:
    ours, theirs = socket.socketpair()
    server_reader, server_writer = await asyncio.open_connection(sock=theirs)
    reader, writer = await asyncio.open_connection(sock=ours)
    task = asyncio.create_task(server.serve_stdio(server_reader, server_writer, **kw))
    io = InProcess(reader, writer, task)
    try:
        yield io
    finally:
        if not task.done():
            writer.write_eof()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(task), 5)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        server_writer.close()
        writer.close()
        await io._pump
        for closing in (server_writer, writer):
            with contextlib.suppress(ConnectionError):
                await closing.wait_closed()


def two_way_server(**kw: Any) -> MCPTestServer:
    server = demo_server(two_way=True, **kw)

    @server.tool
    async def sleepy(seconds: float) -> str:
        await asyncio.sleep(seconds)
        return "awake"

    @server.tool
    async def ask_twice(ctx: ToolContext) -> str:
        first = await ctx.create_message("one", timeout=30)
        second = await ctx.create_message("two", timeout=30)
        return f"{first['content']['text']}+{second['content']['text']}"

    return server


@pytest.mark.parametrize(
    ("offered", "answered"),
    [
        ("2025-11-25", "2025-11-25"),
        ("2025-06-18", "2025-06-18"),
        ("2025-03-26", "2025-03-26"),
        ("2024-11-05", "2024-11-05"),
        ("1999-12-31", "2025-11-25"),
    ],
)
async def test_stdio_versions(offered: str, answered: str) -> None:
    async with served(demo_server()) as io:
        assert (await io.peer.initialize(offered))["protocolVersion"] == answered


async def test_stdio_versions_option() -> None:
    async with served(demo_server(versions=["2025-03-26"])) as io:
        assert (await io.peer.initialize("2025-11-25"))["protocolVersion"] == "2025-03-26"


async def test_stdio_session_notify_request_and_stats() -> None:
    server = two_way_server()
    async with served(server) as io:
        peer = io.peer
        await peer.initialize()
        (session_id,) = server.session_ids
        assert server.stats.sessions_created == 1

        assert await server.notify("notifications/tools/list_changed") == 1
        assert await peer.next() == {
            "jsonrpc": "2.0", "method": "notifications/tools/list_changed"
        }
        asking = asyncio.create_task(server.request("roots/list", session_id=session_id))
        asked = await peer.next()
        assert asked["method"] == "roots/list"
        await peer.send({"jsonrpc": "2.0", "id": asked["id"], "result": {"roots": []}})
        assert await asking == {"roots": []}
        assert server.stats.replies == 1

        slow = asyncio.create_task(peer.call(
            "tools/call", {"name": "sleepy", "arguments": {"seconds": 30}}, request_id=77
        ))
        await until(lambda: server.stats.in_flight > 0)
        await peer.notify("notifications/cancelled", {"requestId": 77})
        assert await peer.result("ping") == {}
        assert server.stats.cancelled == 1 and server.stats.in_flight == 0
        assert server.stats.by_method["notifications/cancelled"] == 1
        await io.end_input()
        assert not slow.done()
        slow.cancel()
    assert server.session_ids == frozenset()


async def test_stdio_end_of_input_fails_waiting_server_requests() -> None:
    server = two_way_server()
    async with served(server, grace=5) as io:
        await io.peer.initialize()
        call = asyncio.create_task(io.peer.call("tools/call", {"name": "ask_twice"}))
        asked = await io.peer.next()
        assert asked["params"]["messages"][0]["content"]["text"] == "one"
        started = time.monotonic()
        io.writer.write_eof()  # the client goes away without answering
        result = (await call)["result"]  # the tool failed at once, its answer still went out
        assert result["isError"] is True
        await asyncio.wait_for(asyncio.shield(io.task), 5)
        assert time.monotonic() - started < 2


async def test_stdio_batches_and_invalid_messages() -> None:
    async with served(demo_server()) as io:
        peer = io.peer
        await peer.initialize()
        future = peer.expect("batch")
        await peer.send([
            {"jsonrpc": "2.0", "id": 1, "method": "ping"},
            {"jsonrpc": "2.0", "method": "notifications/roots/list_changed"},
            {"oops": True},
            {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
        ])
        replies = await asyncio.wait_for(future, 5)
        assert [r["id"] for r in replies] == [1, None, 2]
        assert replies[1]["error"]["code"] == -32600
        await peer.send([])
        empty = await peer.next()
        assert empty["id"] is None and empty["error"]["code"] == -32600
        await peer.send({"jsonrpc": "1.0", "id": 5, "method": "ping"})
        invalid = await peer.next()
        assert invalid["id"] is None and invalid["error"]["code"] == -32600


async def test_stdio_faults() -> None:
    server = demo_server()
    async with served(server) as io:
        peer = io.peer
        await peer.initialize()
        server.faults.add(Fault.mismatched_id(method="ping", times=1))
        await peer.send({"jsonrpc": "2.0", "id": 5, "method": "ping"})
        assert (await peer.next())["id"] == 1_000_005
        server.faults.add(Fault.bad_json(method="ping", times=1))
        await peer.send({"jsonrpc": "2.0", "id": 6, "method": "ping"})
        assert peer.garbage == [await peer.next()]  # half a line, then a newline
        server.faults.add(Fault.slow(0.3, method="tools/list", times=1))
        started = time.monotonic()
        slow = asyncio.create_task(peer.call("tools/list"))
        assert await peer.result("ping") == {}  # not held up by the delayed one
        assert time.monotonic() - started < 0.25
        await slow
        assert time.monotonic() - started >= 0.3


async def test_serve_stdio_on_the_process_streams() -> None:
    """With no streams given, serve_stdio uses stdin/stdout (here: a child's pipes)."""
    code = (
        "import asyncio, sys\n"
        "from mcp_async.testing import demo_server\n"
        "print('to stderr, not stdout')\n"
        "asyncio.run(demo_server().serve_stdio())\n"
        "print('after serving', file=sys.stderr)\n"
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", code,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    line = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "ping"}).encode() + b"\n"
    out, err = await asyncio.wait_for(proc.communicate(line), 10)
    assert proc.returncode == 0, err
    assert out == b'to stderr, not stdout\n{"jsonrpc":"2.0","id":1,"result":{}}\n'
    assert err == b"after serving\n"


# ---- legacy HTTP+SSE ---------------------------------------------------------------------------


class SSEPeer:
    """A raw legacy-SSE client: one GET stream, POSTs to the announced endpoint."""

    def __init__(self, http: aiohttp.ClientSession, url: str) -> None:
        self.http = http
        self.url = url
        self.peer = RawPeer(self._post)
        self.endpoint: str | None = None
        self.endpoint_data: str | None = None
        self.comments: list[str] = []
        self.events: list[tuple[str, str]] = []
        self.statuses: list[int] = []
        self.closed = asyncio.Event()
        self.error: BaseException | None = None
        self._announced = asyncio.Event()
        self._response: aiohttp.ClientResponse | None = None
        self._task: asyncio.Task[None] | None = None

    async def connect(self) -> SSEPeer:
        self._response = await self.http.get(self.url, headers={"Accept": "text/event-stream"})
        assert self._response.status == 200
        assert self._response.headers["Content-Type"].startswith("text/event-stream")
        self._task = asyncio.create_task(self._read(self._response))
        await asyncio.wait_for(self._announced.wait(), 5)
        return self

    async def _read(self, response: aiohttp.ClientResponse) -> None:
        event, data = "message", []
        try:
            while line := await response.content.readline():
                text = line.decode().rstrip("\n")
                if text.startswith(":"):
                    self.comments.append(text)
                elif text.startswith("event:"):
                    event = text[6:].strip()
                elif text.startswith("data:"):
                    data.append(text[5:].removeprefix(" "))
                elif not text and data:
                    self._event(event, "\n".join(data))
                    event, data = "message", []
        except (aiohttp.ClientError, ConnectionError) as exc:
            self.error = exc
        finally:
            self.closed.set()

    def _event(self, event: str, data: str) -> None:
        self.events.append((event, data))
        if event == "endpoint":
            self.endpoint_data = data
            self.endpoint = urljoin(self.url, data)
            self._announced.set()
        elif event == "message":
            self.peer.dispatch(data)

    async def _post(self, data: bytes) -> None:
        status, body = await self.post_raw(data.rstrip(b"\n"))
        assert status == 202 and body == b"", (status, body)

    async def post_raw(
        self, data: bytes, url: str | None = None
    ) -> tuple[int, bytes]:
        target = url or self.endpoint
        assert target is not None
        async with self.http.post(
            target, data=data, headers={"Content-Type": "application/json"}
        ) as resp:
            self.statuses.append(resp.status)
            return resp.status, await resp.read()

    async def close(self) -> None:
        if self._response is not None:
            self._response.close()
        if self._task is not None:
            await self._task


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@contextlib.asynccontextmanager
async def sse_server(
    http: aiohttp.ClientSession, server: MCPTestServer
) -> AsyncIterator[tuple[MCPTestServer, SSEPeer]]:
    async with server:
        client = SSEPeer(http, server.url)
        await client.connect()
        try:
            yield server, client
        finally:
            await client.close()


async def test_sse_handshake_and_calls(http: aiohttp.ClientSession) -> None:
    async with sse_server(http, demo_server(transport="sse")) as (server, client):
        assert server.url.endswith("/sse") and server.url.startswith("http://127.0.0.1:")
        assert client.events[0][0] == "endpoint"
        assert client.endpoint_data is not None
        match = re.fullmatch(r"/messages\?session_id=([0-9a-f]{32})", client.endpoint_data)
        assert match is not None
        assert server.session_ids == {match.group(1)}
        assert server.stats.sse_streams == 1 and server.stats.sessions_created == 1

        init = await client.peer.initialize("2024-11-05")
        assert init["protocolVersion"] == "2024-11-05"
        assert init["serverInfo"]["name"] == "mcp-async-demo"
        assert "completions" not in init["capabilities"]
        tools = (await client.peer.result("tools/list"))["tools"]
        assert {tool["name"] for tool in tools} == DEMO_TOOLS
        weather = await client.peer.result(
            "tools/call", {"name": "weather", "arguments": {"city": "Paris"}}
        )
        assert weather["structuredContent"]["city"] == "Paris"
        prompt = await client.peer.result(
            "prompts/get", {"name": "review_code", "arguments": {"code": "x = 1"}}
        )
        assert "x = 1" in prompt["messages"][0]["content"]["text"]
        assert set(client.statuses) == {202}
        assert server.stats.requests == len(client.statuses)
        assert server.stats.by_method["notifications/initialized"] == 1


@pytest.mark.parametrize(
    ("offered", "versions", "answered"),
    [
        ("2025-11-25", None, "2025-11-25"),
        ("2025-03-26", None, "2025-03-26"),
        ("1999-12-31", None, "2024-11-05"),
        ("2025-11-25", ["2024-11-05"], "2024-11-05"),
    ],
)
async def test_sse_versions(
    http: aiohttp.ClientSession, offered: str, versions: list[str] | None, answered: str
) -> None:
    async with sse_server(http, demo_server(transport="sse", versions=versions)) as (_, client):
        assert (await client.peer.initialize(offered))["protocolVersion"] == answered


async def test_sse_refusals(http: aiohttp.ClientSession) -> None:
    async with sse_server(http, demo_server(transport="sse")) as (server, client):
        assert client.endpoint is not None
        base = client.endpoint.split("?")[0]
        ping = b'{"jsonrpc":"2.0","id":1,"method":"ping"}'
        status, body = await client.post_raw(ping, f"{base}?session_id=feed")
        assert status == 404 and json.loads(body)["error"]["code"] == -32001
        status, _ = await client.post_raw(ping, base)
        assert status == 400
        status, body = await client.post_raw(b"{not json")
        assert status == 400 and json.loads(body)["error"]["code"] == -32700
        status, _ = await client.post_raw(b'{"no": "message"}')
        assert status == 400
        status, _ = await client.post_raw(ping, server.url)  # POST to the stream: 405
        assert status == 405
        async with http.get(base) as resp:
            assert resp.status == 405
        assert await client.peer.result("ping") == {}  # the session survived all that


async def test_sse_keepalive_comments_are_ignored(http: aiohttp.ClientSession) -> None:
    server = demo_server(transport="sse", keepalive=0.02)
    async with sse_server(http, server) as (_, client):
        await asyncio.sleep(0.15)
        assert ": ping" in client.comments
        assert await client.peer.result("ping") == {}
        assert [event for event, _ in client.events] == ["endpoint", "message"]
    with pytest.raises(ValueError, match="keepalive"):
        MCPTestServer(transport="sse", keepalive=0)


async def test_sse_two_way_progress_and_server_messages(http: aiohttp.ClientSession) -> None:
    server = two_way_server(transport="sse")
    async with sse_server(http, server) as (_, client):
        peer = client.peer
        await peer.initialize()
        call = asyncio.create_task(peer.call(
            "tools/call", {"name": "sample", "arguments": {"prompt": "hello"}}
        ))
        asked = await peer.next()
        assert asked["method"] == "sampling/createMessage"
        await peer.send({"jsonrpc": "2.0", "id": asked["id"], "result": {
            "role": "assistant", "content": {"type": "text", "text": "hey"}, "model": "m",
        }})
        assert text_of((await call)["result"]) == "hey"

        await peer.result("tools/call", {"name": "slow", "arguments": {"seconds": 0.04},
                                         "_meta": {"progressToken": 3}})
        assert [(await peer.next())["params"]["progress"] for _ in range(4)] == [1, 2, 3, 4]

        assert await server.notify("notifications/resources/list_changed") == 1
        assert (await peer.next())["method"] == "notifications/resources/list_changed"
        asking = asyncio.create_task(server.request("ping"))
        asked = await peer.next()
        assert asked["method"] == "ping"
        await peer.send({"jsonrpc": "2.0", "id": asked["id"], "result": {}})
        assert await asking == {}


async def test_sse_concurrency_and_cancellation(http: aiohttp.ClientSession) -> None:
    server = two_way_server(transport="sse")
    async with sse_server(http, server) as (_, client):
        peer = client.peer
        await peer.initialize()
        slow = asyncio.create_task(peer.call(
            "tools/call", {"name": "sleepy", "arguments": {"seconds": 30}}, request_id="s"
        ))
        fast = await asyncio.gather(*(
            peer.result("tools/call", {"name": "sleepy", "arguments": {"seconds": 0.1}})
            for _ in range(50)
        ))
        assert all(text_of(r) == "awake" for r in fast)
        assert server.stats.max_in_flight == 51
        await peer.notify("notifications/cancelled", {"requestId": "s"})
        assert await peer.result("ping") == {}
        assert server.stats.cancelled == 1 and server.stats.in_flight == 0
        assert not slow.done()
        slow.cancel()


async def test_sse_drop_streams(http: aiohttp.ClientSession) -> None:
    server = two_way_server(transport="sse")
    async with sse_server(http, server) as (_, client):
        await client.peer.initialize()
        call = asyncio.create_task(client.peer.call(
            "tools/call", {"name": "sleepy", "arguments": {"seconds": 30}}
        ))
        await until(lambda: server.stats.in_flight > 0)
        assert server.drop_sse_streams() == 1
        await asyncio.wait_for(client.closed.wait(), 5)
        assert isinstance(client.error, aiohttp.ClientPayloadError)  # not a clean end
        assert server.session_ids == frozenset()
        status, _ = await client.post_raw(b'{"jsonrpc":"2.0","id":1,"method":"ping"}')
        assert status == 404
        await until(lambda: server.stats.in_flight == 0)  # the running call was cancelled
        call.cancel()

        again = await SSEPeer(http, server.url).connect()
        try:
            assert server.drop_sse_streams(abort=False) == 1
            await asyncio.wait_for(again.closed.wait(), 5)
            assert again.error is None  # the body ended cleanly
        finally:
            await again.close()
        assert server.drop_sse_streams() == 0


async def test_sse_client_leaving_ends_session(http: aiohttp.ClientSession) -> None:
    async with demo_server(transport="sse") as server:
        client = await SSEPeer(http, server.url).connect()
        await client.peer.initialize()
        assert len(server.session_ids) == 1
        await client.close()
        await until(lambda: not server.session_ids)


async def test_sse_stop_ends_streams(http: aiohttp.ClientSession) -> None:
    server = demo_server(transport="sse")
    await server.start()
    client = await SSEPeer(http, server.url).connect()
    try:
        await server.stop()
        await asyncio.wait_for(client.closed.wait(), 5)
        assert server.session_ids == frozenset()
    finally:
        await client.close()


async def test_sse_endpoint_override_and_paths(http: aiohttp.ClientSession) -> None:
    server = demo_server(transport="sse", endpoint_override="http://evil.example/messages")
    async with sse_server(http, server) as (_, client):
        assert client.endpoint_data is not None
        assert re.fullmatch(
            r"http://evil\.example/messages\?session_id=[0-9a-f]{32}", client.endpoint_data
        )
    server = demo_server(transport="sse", path="/events", messages_path="/rpc/post")
    async with sse_server(http, server) as (_, client):
        assert server.url.endswith("/events")
        assert client.endpoint_data is not None
        assert client.endpoint_data.startswith("/rpc/post?session_id=")
        assert await client.peer.result("ping") == {}


async def test_sse_faults(http: aiohttp.ClientSession) -> None:
    server = demo_server(transport="sse")
    async with sse_server(http, server) as (_, client):
        await client.peer.initialize()
        server.faults.add(Fault.rate_limited(2, method="tools/list", times=1))
        status, _ = await client.post_raw(b'{"jsonrpc":"2.0","id":1,"method":"tools/list"}')
        assert status == 429
        server.faults.add(Fault.mismatched_id(method="ping", times=1))
        await client.peer.send({"jsonrpc": "2.0", "id": 2, "method": "ping"})
        assert (await client.peer.next())["id"] == 1_000_002
        server.faults.add(Fault.expired_session(method="ping"))
        status, _ = await client.post_raw(b'{"jsonrpc":"2.0","id":3,"method":"ping"}')
        assert status == 404
        status, _ = await client.post_raw(b'{"jsonrpc":"2.0","id":4,"method":"tools/list"}')
        assert status == 404


async def test_http_mode_is_unchanged(http: aiohttp.ClientSession) -> None:
    async with demo_server() as server:
        assert server.url.endswith("/mcp")
        async with http.get(server.url) as resp:
            assert resp.status == 405
    with pytest.raises(ValueError, match="transport"):
        MCPTestServer(transport="websocket")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="versions"):
        MCPTestServer(versions=[])


# ---- interop with the official SDK --------------------------------------------------------------


@pytest.mark.interop
async def test_official_sdk_stdio_client() -> None:
    mcp = pytest.importorskip("mcp")
    from mcp.client.stdio import StdioServerParameters, stdio_client

    types = mcp.types

    async def sampling(context: Any, params: Any) -> Any:
        text = params.messages[0].content.text
        return types.CreateMessageResult(
            role="assistant", content=types.TextContent(type="text", text=text.upper()),
            model="fake",
        )

    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "mcp_async.testing", "--stdio", "--two-way", "--stderr-lines", "2"],
        env={"PYTHONPATH": str(ROOT)},
        cwd=ROOT,
    )
    with tempfile.TemporaryFile("w+") as errlog:
        async with (
            stdio_client(params, errlog=errlog) as (read, write),
            mcp.ClientSession(read, write, sampling_callback=sampling) as session,
        ):
            init = await session.initialize()
            assert init.server_info.name == "mcp-async-demo"
            tools = await session.list_tools()
            assert {tool.name for tool in tools.tools} == DEMO_TOOLS | TWO_WAY_TOOLS
            added = await session.call_tool("add", {"a": 2, "b": 3})
            assert added.structured_content == {"result": 5}
            sampled = await session.call_tool("sample", {"prompt": "hi"})
            assert sampled.content[0].text == "HI"
            slow = await asyncio.gather(
                *(session.call_tool("slow", {"seconds": 0.2}) for _ in range(20))
            )
            assert len(slow) == 20
        errlog.seek(0)
        assert "stderr line 2 of 2" in errlog.read()  # stderr is the server's log channel


@pytest.mark.interop
async def test_official_sdk_sse_client() -> None:
    mcp = pytest.importorskip("mcp")
    from mcp.client.sse import sse_client

    types = mcp.types

    async def sampling(context: Any, params: Any) -> Any:
        return types.CreateMessageResult(
            role="assistant", content=types.TextContent(type="text", text="sampled"),
            model="fake",
        )

    async with demo_server(transport="sse", two_way=True, keepalive=0.05) as server:
        async with (
            sse_client(server.url) as (read, write),
            mcp.ClientSession(read, write, sampling_callback=sampling) as session,
        ):
            init = await session.initialize()
            assert init.server_info.name == "mcp-async-demo"
            tools = await session.list_tools()
            assert {tool.name for tool in tools.tools} == DEMO_TOOLS | TWO_WAY_TOOLS
            await asyncio.sleep(0.15)  # some keep-alive comments go by
            added = await session.call_tool("add", {"a": 2, "b": 3})
            assert added.structured_content == {"result": 5}
            sampled = await session.call_tool("sample", {"prompt": "hi"})
            assert sampled.content[0].text == "sampled"
        await until(lambda: not server.session_ids)


@pytest.mark.interop
async def test_official_sdk_sse_client_refuses_foreign_endpoint() -> None:
    """The SDK will not POST to an endpoint on another origin (it never connects)."""
    pytest.importorskip("mcp")
    from mcp.client.sse import sse_client

    server = demo_server(transport="sse", endpoint_override="http://evil.example/messages")
    async with server:
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(1), sse_client(server.url, timeout=2):
                pytest.fail("connected through a foreign endpoint")
        assert server.stats.sse_streams == 1
        assert server.stats.requests == 0
