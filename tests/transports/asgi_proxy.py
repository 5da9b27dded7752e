"""An ASGI application that forwards every request to the HTTP server its URL names.

It lets the behaviour suite (tests/transports/test_behaviour_transports.py) run over
:class:`~mcp_async.ASGITransport` against the aiohttp demo server, which is not an ASGI
app: every byte between the client and the server then goes through the ASGI transport's
scope, receive/send, streaming, cancellation and lifespan. The proxy's own aiohttp
session lives in its lifespan, so the suite also proves the lifespan ran.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

import aiohttp

_HOP = {"host", "content-length", "transfer-encoding", "connection", "content-encoding"}


class AiohttpProxy:
    """Forwards each request to ``http://{Host}{path}``, streaming the body back."""

    def __init__(self) -> None:
        self.session: aiohttp.ClientSession | None = None
        self.lifespan: list[str] = []

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        assert self.session is not None, "the lifespan did not run"
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        url = f"{scope['scheme']}://{headers['host']}{scope['raw_path'].decode()}"
        if scope["query_string"]:
            url += "?" + scope["query_string"].decode()
        forwarded = {k: v for k, v in headers.items() if k not in _HOP}
        async with self.session.request(
            scope["method"], url, headers=forwarded, data=body or None, allow_redirects=False
        ) as upstream:
            await send({
                "type": "http.response.start",
                "status": upstream.status,
                "headers": [
                    (k.lower().encode("latin-1"), v.encode("latin-1"))
                    for k, v in upstream.headers.items() if k.lower() not in _HOP
                ],
            })
            async for chunk in upstream.content.iter_any():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None))
                self.lifespan.append("startup")
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.session is not None:
                    await self.session.close()
                self.lifespan.append("shutdown")
                await send({"type": "lifespan.shutdown.complete"})
                return
