"""Streamable HTTP hands every reply it reads inline to the receiver (the engine), which
alone completes the request's future: the plain JSON response, and an error the server
could not tie to a request (``"id": null``), which on a request's own reply answers it."""

from __future__ import annotations

import json
from collections.abc import MutableMapping
from typing import Any

import pytest

from mcp_async import AsyncMCPClient, JSONRPCError

INIT = {"protocolVersion": "2025-11-25", "capabilities": {},
        "serverInfo": {"name": "inline", "version": "1"}}


class InlineApp:
    """A handshake-era server over ASGI that answers every POST with one JSON body."""

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await receive()
            await send({"type": "lifespan.startup.complete"})
            await receive()
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        if scope["method"] != "POST":
            await self._reply(send, 405, None)
            return
        request = json.loads(body)
        method, request_id = request.get("method"), request.get("id")
        if request_id is None:  # a notification
            await self._reply(send, 202, None)
        elif method == "initialize":
            await self._reply(send, 200, {"jsonrpc": "2.0", "id": request_id, "result": INIT})
        elif method == "x/idless":
            await self._reply(send, 200, {"jsonrpc": "2.0", "id": None,
                                          "error": {"code": -32600, "message": "no id"}})
        else:
            await self._reply(send, 200, {"jsonrpc": "2.0", "id": request_id,
                                          "result": {"method": method}})

    @staticmethod
    async def _reply(send: Any, status: int, payload: dict[str, Any] | None) -> None:
        body = b"" if payload is None else json.dumps(payload).encode()
        headers = [(b"content-type", b"application/json")] if payload is not None else []
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


async def test_inline_replies_reach_the_caller_through_the_receiver() -> None:
    async with AsyncMCPClient(InlineApp(), protocol="legacy") as client:
        assert await client.request("x/ok") == {"method": "x/ok"}
        with pytest.raises(JSONRPCError, match="no id") as raised:
            await client.request("x/idless")
        assert raised.value.code == -32600
        assert await client.request("x/after") == {"method": "x/after"}
