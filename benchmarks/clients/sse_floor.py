"""The raw aiohttp floor for the legacy HTTP+SSE transport (protocol 2024-11-05).

One ``aiohttp.ClientSession``: a ``GET`` of the SSE URL held open for the whole run,
read by one task that splits events, takes the first ``endpoint`` event as the POST
URL and routes every ``message`` event (``json.loads`` of its ``data``) to the
future waiting for its ``id``. A request registers its future, then POSTs the
JSON-RPC message to the endpoint, checks for ``202`` and releases the response (the
connection goes back to the pool); the reply may arrive on the stream before or after
that. A hand-written ``initialize`` +
``notifications/initialized``; no validation, no models.

Event parsing is the minimum a correct client needs: CRLF normalised to LF, events
split on blank lines, ``event:`` / ``data:`` fields (several ``data:`` lines joined).
``OrjsonAdapter`` is the same with ``orjson`` doing the JSON.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urljoin

import aiohttp

from benchmarks.protocol_data import TOOL_ARGUMENTS, TOOL_NAME

_HEADERS = {"Content-Type": "application/json"}


def _stdlib_dumps() -> Callable[[Any], bytes]:
    encode = json.JSONEncoder(separators=(",", ":")).encode

    def dumps(message: Any) -> bytes:
        return encode(message).encode()

    return dumps


_decode = json.JSONDecoder().decode


def _loads(data: bytes) -> Any:
    """``json`` of UTF-8 ``data`` (decoding first skips ``json.loads``'s encoding sniff)."""
    return _decode(data.decode())


def _fields(block: bytes) -> tuple[bytes, bytes]:
    """The ``event`` name (default ``message``) and the joined ``data`` of one event."""
    event = b"message"
    data: list[bytes] = []
    for line in block.split(b"\n"):
        name, _, value = line.partition(b":")
        if value.startswith(b" "):
            value = value[1:]
        if name == b"data":
            data.append(value)
        elif name == b"event":
            event = value
    return event, b"\n".join(data)


class SSEAdapter:
    """Hand-written legacy SSE exchange on one aiohttp session."""

    dumps: Callable[[Any], bytes] = staticmethod(_stdlib_dumps())
    loads: Callable[[bytes], Any] = staticmethod(_loads)

    def __init__(self, url: str) -> None:
        self.url = url
        self.next_id = 0
        self.pending: dict[int, asyncio.Future[Any]] = {}

    async def start(self) -> None:
        """Open the event stream, learn the endpoint, run the handshake by hand."""
        self.http = aiohttp.ClientSession()
        self.stream = await self.http.get(self.url, headers={"Accept": "text/event-stream"})
        if self.stream.status != 200:
            raise RuntimeError(f"GET {self.url}: HTTP {self.stream.status}")
        loop = asyncio.get_running_loop()
        self.endpoint_found: asyncio.Future[str] = loop.create_future()
        self.reader = asyncio.create_task(self._read())
        self.endpoint = urljoin(self.url, await self.endpoint_found)
        message = await self._request("initialize", {
            "protocolVersion": "2024-11-05", "capabilities": {},
            "clientInfo": {"name": "floor", "version": "0"},
        })
        if "result" not in message:
            raise RuntimeError(f"initialize failed: {message}")
        await self._post({"jsonrpc": "2.0", "method": "notifications/initialized"})

    async def _read(self) -> None:
        """Split the stream into events; route ``message`` events by ``id``."""
        read = self.stream.content.readany
        loads = self.loads
        pending = self.pending
        rest = b""
        try:
            while chunk := await read():
                if b"\r" in chunk:
                    chunk = chunk.replace(b"\r\n", b"\n")
                *blocks, rest = (rest + chunk).split(b"\n\n")
                for block in blocks:
                    event, data = _fields(block)
                    if event == b"message":
                        message = loads(data)
                        future = pending.pop(message.get("id"), None)
                        if future is not None and not future.done():
                            future.set_result(message)
                    elif event == b"endpoint" and not self.endpoint_found.done():
                        self.endpoint_found.set_result(data.decode())
        finally:
            error = ConnectionError("the event stream ended")
            if not self.endpoint_found.done():
                self.endpoint_found.set_exception(error)
            for future in pending.values():
                if not future.done():
                    future.set_exception(error)
            pending.clear()

    async def _post(self, message: dict[str, Any]) -> None:
        response = await self.http.post(self.endpoint, data=self.dumps(message),
                                        headers=_HEADERS)
        # The short "Accepted" body is normally in already; release() keeps the connection
        # then (and closes it otherwise, which the new-connections figure would show).
        response.release()
        if response.status != 202:
            raise RuntimeError(f"POST {self.endpoint}: HTTP {response.status}")

    async def _request(self, method: str, params: dict[str, Any]) -> Any:
        self.next_id += 1
        request_id = self.next_id
        future = asyncio.get_running_loop().create_future()
        self.pending[request_id] = future
        try:
            await self._post({"jsonrpc": "2.0", "id": request_id, "method": method,
                              "params": params})
        except BaseException:
            self.pending.pop(request_id, None)
            raise
        return await future

    async def call(self) -> str:
        """One ``tools/call``; returns the first text block."""
        message = await self._request("tools/call",
                                      {"name": TOOL_NAME, "arguments": TOOL_ARGUMENTS})
        return message["result"]["content"][0]["text"]  # type: ignore[no-any-return]

    async def stop(self) -> None:
        """Drop the event stream (ends the session) and close the HTTP session."""
        self.stream.close()
        self.reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, aiohttp.ClientError):
            await self.reader
        await self.http.close()


class OrjsonAdapter(SSEAdapter):
    """The same floor with ``orjson.dumps`` / ``orjson.loads``."""

    def __init__(self, url: str) -> None:
        try:
            orjson = importlib.import_module("orjson")
        except ImportError as exc:
            from benchmarks.clients import Unavailable

            raise Unavailable("orjson is not installed") from exc
        self.dumps = orjson.dumps
        self.loads = orjson.loads
        super().__init__(url)
