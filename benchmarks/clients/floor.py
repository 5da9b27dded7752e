"""The raw aiohttp floor: the least work this stack can do for the same exchange.

One ``ClientSession``, a hand-written ``initialize`` and ``notifications/initialized``,
then bare JSON-RPC POSTs. Replies get minimal parsing: ``json.loads`` of the body,
or of the ``data:`` line holding the response for an event stream. No validation,
no models, no id matching.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from typing import Any

import aiohttp

from benchmarks.protocol_data import DEFAULT_VERSION, TOOL_ARGUMENTS, TOOL_NAME

_dumps = json.JSONEncoder(separators=(",", ":")).encode


def _message(content_type: str, body: bytes, loads: Callable[[bytes], Any] = json.loads) -> Any:
    if content_type != "text/event-stream":
        return loads(body)
    for line in body.split(b"\n"):
        if line.startswith(b"data:"):
            message = loads(line[5:])
            if "result" in message or "error" in message:
                return message
    raise RuntimeError("event stream without a response")


class Adapter:
    """Hand-written Streamable HTTP exchange on one aiohttp session."""

    dumps: Callable[[Any], bytes] = staticmethod(lambda message: _dumps(message).encode())
    loads: Callable[[bytes], Any] = staticmethod(json.loads)

    def __init__(self, url: str) -> None:
        self.url = url
        self.next_id = 0
        self.headers = {"Content-Type": "application/json",
                        "Accept": "application/json, text/event-stream"}

    async def _post(self, payload: dict[str, Any]) -> tuple[Any, aiohttp.ClientResponse]:
        async with self.http.post(self.url, data=self.dumps(payload),
                                  headers=self.headers) as response:
            body = await response.read()
            if response.status == 202:
                return None, response
            return _message(response.content_type, body, self.loads), response

    async def start(self) -> None:
        """Open the session and run the handshake by hand."""
        self.http = aiohttp.ClientSession()
        message, response = await self._post({
            "jsonrpc": "2.0", "id": 0, "method": "initialize",
            "params": {"protocolVersion": DEFAULT_VERSION, "capabilities": {},
                       "clientInfo": {"name": "floor", "version": "0"}},
        })
        session_id = response.headers.get("Mcp-Session-Id")
        if session_id:
            self.headers["Mcp-Session-Id"] = session_id
        self.headers["MCP-Protocol-Version"] = message["result"]["protocolVersion"]
        await self._post({"jsonrpc": "2.0", "method": "notifications/initialized"})

    async def call(self) -> str:
        """One ``tools/call``; returns the first text block."""
        self.next_id += 1
        message, _ = await self._post({
            "jsonrpc": "2.0", "id": self.next_id, "method": "tools/call",
            "params": {"name": TOOL_NAME, "arguments": TOOL_ARGUMENTS},
        })
        return message["result"]["content"][0]["text"]  # type: ignore[no-any-return]

    async def stop(self) -> None:
        """End the session (DELETE) and close the HTTP session."""
        async with self.http.delete(self.url, headers=self.headers) as response:
            await response.read()
        await self.http.close()


class OrjsonAdapter(Adapter):
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
