"""The raw stdio floor: the least work a correct asyncio client does for the same exchange.

``asyncio.create_subprocess_exec`` with stdin/stdout pipes; a request is one
``json`` line written to stdin (then ``drain()``, for flow control); one reader task
reads stdout in chunks, decodes the complete lines of each chunk at once, splits them,
``json``-decodes each (``JSONDecoder.decode`` of a ``str``: ``json.loads`` of ``bytes`` would
add an encoding sniff per line) and resolves the caller's
future by ``id`` from a dict, so any number of calls can be in flight. A hand-written
``initialize`` + ``notifications/initialized``. No validation, no models. ``stop()``
does the MCP stdio shutdown: close stdin, wait for the server to exit (then
terminate/kill), so the child is always reaped.

Only the standard library is imported (no aiohttp), so the floor's RSS is what a
stdio client needs. ``OrjsonAdapter`` is the same with ``orjson`` doing the JSON.
``ProtocolAdapter`` (client ``floor_protocol``) drops the streams and the reader task:
``loop.subprocess_exec`` with a ``SubprocessProtocol`` whose ``pipe_data_received``
resolves the futures directly, one task wake-up less per reply (cheaper at
concurrency 1, the same once replies arrive in batches).

``ModernStdioAdapter`` (``floor_modern``) and ``ModernStdioMRTRAdapter``
(``floor_modern_mrtr``) are the stdio floor in MCP 2026-07-28: no handshake, every
request carries the ``params._meta`` envelope; the second calls the ``mrtr`` tool and
answers its input round, as ``benchmarks.clients.floor.ModernMRTRAdapter`` does.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import sys
from collections.abc import Callable
from typing import Any, ClassVar

from benchmarks.protocol_data import (
    CAPABILITIES_META,
    CLIENT_INFO_META,
    DEFAULT_VERSION,
    MODERN_VERSION,
    MRTR_ANSWER,
    MRTR_TOOL,
    TOOL_ARGUMENTS,
    TOOL_NAME,
    VERSION_META,
)

_READ_SIZE = 1 << 16
_EXIT_TIMEOUT = 2.0


def _stdlib_dumps() -> Callable[[Any], bytes]:
    encode = json.JSONEncoder(separators=(",", ":")).encode

    def dumps(message: Any) -> bytes:
        return encode(message).encode()

    return dumps


class StdioAdapter:
    """Hand-written newline-delimited JSON-RPC over a child process's pipes."""

    dumps: Callable[[Any], bytes] = staticmethod(_stdlib_dumps())
    loads: Callable[[str], Any] = json.JSONDecoder().decode

    def __init__(self, target: str) -> None:
        self.command = [sys.executable, target]
        self.next_id = 0
        self.pending: dict[int, asyncio.Future[Any]] = {}

    async def start(self) -> None:
        """Spawn the server, start the reader, and run the handshake by hand."""
        self.process = await asyncio.create_subprocess_exec(
            *self.command, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
        )
        assert self.process.stdin is not None
        self.stdin = self.process.stdin
        self.reader = asyncio.create_task(self._read())
        message = await self._request("initialize", {
            "protocolVersion": DEFAULT_VERSION, "capabilities": {},
            "clientInfo": {"name": "floor", "version": "0"},
        })
        if "result" not in message:
            raise RuntimeError(f"initialize failed: {message}")
        self.stdin.write(self.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"})
                         + b"\n")
        await self.stdin.drain()

    async def _read(self) -> None:
        """Route every reply line to the future waiting for its ``id``."""
        assert self.process.stdout is not None
        read = self.process.stdout.read
        loads = self.loads
        pending = self.pending
        rest = b""
        try:
            while chunk := await read(_READ_SIZE):
                end = chunk.rfind(b"\n")
                if end < 0:
                    rest += chunk
                    continue
                # Complete lines only, decoded once per chunk (no UTF-8 sequence is split).
                text = (rest + chunk[:end]).decode() if rest else chunk[:end].decode()
                rest = chunk[end + 1 :]
                for line in text.split("\n"):
                    if not line:
                        continue
                    message = loads(line)
                    future = pending.pop(message.get("id"), None)
                    if future is not None and not future.done():
                        future.set_result(message)
        finally:
            error = ConnectionError("the stdio server closed its stdout")
            for future in pending.values():
                if not future.done():
                    future.set_exception(error)
            pending.clear()

    async def _request(self, method: str, params: dict[str, Any]) -> Any:
        self.next_id += 1
        request_id = self.next_id
        future = asyncio.get_running_loop().create_future()
        self.pending[request_id] = future
        self.stdin.write(self.dumps({"jsonrpc": "2.0", "id": request_id, "method": method,
                                     "params": params}) + b"\n")
        await self.stdin.drain()
        return await future

    async def call(self) -> str:
        """One ``tools/call``; returns the first text block."""
        message = await self._request("tools/call",
                                      {"name": TOOL_NAME, "arguments": TOOL_ARGUMENTS})
        return message["result"]["content"][0]["text"]  # type: ignore[no-any-return]

    async def stop(self) -> None:
        """Close the server's stdin, wait for it to exit (terminate/kill if it lingers)."""
        process = self.process
        self.stdin.close()
        try:
            await asyncio.wait_for(process.wait(), _EXIT_TIMEOUT)
        except TimeoutError:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), _EXIT_TIMEOUT)
            except TimeoutError:
                process.kill()
                await process.wait()
        await self.reader


class ModernStdioAdapter(StdioAdapter):
    """The stdio floor in MCP 2026-07-28: the envelope on every request, no handshake."""

    capabilities: ClassVar[dict[str, Any]] = {}

    async def start(self) -> None:
        """Spawn the server and start the reader; the stateless era has no handshake."""
        self.process = await asyncio.create_subprocess_exec(
            *self.command, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
        )
        assert self.process.stdin is not None
        self.stdin = self.process.stdin
        self.reader = asyncio.create_task(self._read())
        self.meta = {VERSION_META: MODERN_VERSION, CAPABILITIES_META: self.capabilities,
                     CLIENT_INFO_META: {"name": "floor", "version": "0"}}

    async def call(self) -> str:
        """One ``tools/call``; returns the first text block."""
        message = await self._request("tools/call", {"name": TOOL_NAME,
                                                     "arguments": TOOL_ARGUMENTS,
                                                     "_meta": self.meta})
        return message["result"]["content"][0]["text"]  # type: ignore[no-any-return]


class ModernStdioMRTRAdapter(ModernStdioAdapter):
    """``tools/call`` of ``mrtr``: one input round (an elicitation), then the result."""

    capabilities: ClassVar[dict[str, Any]] = {"elicitation": {"form": {}}}

    async def call(self) -> str:
        """The call, its input round and the retried call; returns the first text block."""
        params: dict[str, Any] = {"name": MRTR_TOOL, "arguments": {}, "_meta": self.meta}
        result = (await self._request("tools/call", params))["result"]
        while result.get("resultType") == "input_required":
            answers = {key: {"action": "accept", "content": {"name": MRTR_ANSWER}}
                       for key in result.get("inputRequests") or {}}
            result = (await self._request("tools/call", {
                **params, "inputResponses": answers, "requestState": result["requestState"],
            }))["result"]
        return result["content"][0]["text"]  # type: ignore[no-any-return]


class _Replies(asyncio.SubprocessProtocol):
    """Routes reply lines from the child's stdout straight to the waiting futures."""

    def __init__(self, pending: dict[int, asyncio.Future[Any]], loads: Callable[[str], Any]):
        self.pending = pending
        self.loads = loads
        self.rest = b""
        self.exited = asyncio.get_running_loop().create_future()

    def pipe_data_received(self, fd: int, data: bytes) -> None:
        end = data.rfind(b"\n")
        if end < 0:
            self.rest += data
            return
        text = (self.rest + data[:end]).decode() if self.rest else data[:end].decode()
        self.rest = data[end + 1 :]
        loads, pending = self.loads, self.pending
        for line in text.split("\n"):
            if not line:
                continue
            message = loads(line)
            future = pending.pop(message.get("id"), None)
            if future is not None and not future.done():
                future.set_result(message)

    def pipe_connection_lost(self, fd: int, exc: Exception | None) -> None:
        if fd != 1:
            return
        error = ConnectionError("the stdio server closed its stdout")
        for future in self.pending.values():
            if not future.done():
                future.set_exception(error)
        self.pending.clear()

    def process_exited(self) -> None:
        if not self.exited.done():
            self.exited.set_result(None)


class ProtocolAdapter(StdioAdapter):
    """The floor on ``loop.subprocess_exec`` + a ``SubprocessProtocol`` (no reader task)."""

    async def start(self) -> None:
        """Spawn the server and run the handshake by hand."""
        loop = asyncio.get_running_loop()
        self.transport, self.protocol = await loop.subprocess_exec(
            lambda: _Replies(self.pending, self.loads), *self.command, stderr=None
        )
        stdin = self.transport.get_pipe_transport(0)
        assert isinstance(stdin, asyncio.WriteTransport)
        self.pipe = stdin
        message = await self._request("initialize", {
            "protocolVersion": DEFAULT_VERSION, "capabilities": {},
            "clientInfo": {"name": "floor", "version": "0"},
        })
        if "result" not in message:
            raise RuntimeError(f"initialize failed: {message}")
        stdin.write(self.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"})
                    + b"\n")

    async def _request(self, method: str, params: dict[str, Any]) -> Any:
        self.next_id += 1
        request_id = self.next_id
        future = asyncio.get_running_loop().create_future()
        self.pending[request_id] = future
        # No drain(): the transport buffers; at these sizes it never pauses the writer.
        self.pipe.write(self.dumps({"jsonrpc": "2.0", "id": request_id, "method": method,
                                    "params": params}) + b"\n")
        return await future

    async def stop(self) -> None:
        """Close the server's stdin, wait for it to exit (terminate/kill if it lingers)."""
        self.pipe.close()
        for signal in (None, self.transport.terminate, self.transport.kill):
            if signal is not None:
                signal()
            try:
                await asyncio.wait_for(asyncio.shield(self.protocol.exited), _EXIT_TIMEOUT)
                break
            except TimeoutError:
                continue
        self.transport.close()


class OrjsonAdapter(StdioAdapter):
    """The same floor with ``orjson.dumps`` / ``orjson.loads``."""

    def __init__(self, target: str) -> None:
        try:
            orjson = importlib.import_module("orjson")
        except ImportError as exc:
            from benchmarks.clients import Unavailable

            raise Unavailable("orjson is not installed") from exc
        self.dumps = orjson.dumps
        self.loads = orjson.loads
        super().__init__(target)
