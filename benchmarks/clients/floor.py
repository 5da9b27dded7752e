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
from typing import Any, ClassVar

import aiohttp

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

    async def _post(
        self, payload: dict[str, Any], headers: dict[str, str] | None = None
    ) -> tuple[Any, aiohttp.ClientResponse]:
        async with self.http.post(self.url, data=self.dumps(payload),
                                  headers=headers or self.headers) as response:
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


def envelope(capabilities: dict[str, Any]) -> dict[str, Any]:
    """The MCP 2026-07-28 ``_meta`` envelope a floor request carries."""
    return {VERSION_META: MODERN_VERSION, CAPABILITIES_META: capabilities,
            CLIENT_INFO_META: {"name": "floor", "version": "0"}}


class ModernAdapter(Adapter):
    """The floor in MCP 2026-07-28: envelope and routing headers, no handshake, no session."""

    tool = TOOL_NAME
    capabilities: ClassVar[dict[str, Any]] = {}

    async def start(self) -> None:
        """Open the HTTP session; the stateless era has no handshake."""
        self.http = aiohttp.ClientSession()
        self.meta = envelope(self.capabilities)
        self.call_headers = {**self.headers, "MCP-Protocol-Version": MODERN_VERSION,
                             "Mcp-Method": "tools/call", "Mcp-Name": self.tool}

    async def _call(self, params: dict[str, Any]) -> dict[str, Any]:
        self.next_id += 1
        message, _ = await self._post(
            {"jsonrpc": "2.0", "id": self.next_id, "method": "tools/call", "params": params},
            self.call_headers,
        )
        return message["result"]  # type: ignore[no-any-return]

    async def call(self) -> str:
        """One ``tools/call``; returns the first text block."""
        result = await self._call({"name": TOOL_NAME, "arguments": TOOL_ARGUMENTS,
                                   "_meta": self.meta})
        return result["content"][0]["text"]  # type: ignore[no-any-return]

    async def stop(self) -> None:
        """Close the HTTP session (no session to DELETE)."""
        await self.http.close()


def answer_inputs(requests: dict[str, Any]) -> dict[str, Any]:
    """The floor's answers to an ``InputRequiredResult``'s requests (elicitations only)."""
    return {key: {"action": "accept", "content": {"name": MRTR_ANSWER}} for key in requests}


class ModernMRTRAdapter(ModernAdapter):
    """``tools/call`` of ``mrtr``: one input round (an elicitation), then the result."""

    tool = MRTR_TOOL
    capabilities: ClassVar[dict[str, Any]] = {"elicitation": {"form": {}}}

    async def call(self) -> str:
        """The call, its input round and the retried call; returns the first text block."""
        params: dict[str, Any] = {"name": MRTR_TOOL, "arguments": {}, "_meta": self.meta}
        result = await self._call(params)
        while result.get("resultType") == "input_required":
            result = await self._call({
                **params, "inputResponses": answer_inputs(result.get("inputRequests") or {}),
                "requestState": result["requestState"],
            })
        return result["content"][0]["text"]  # type: ignore[no-any-return]


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
