"""A loopback proxy of ours in front of a real server: it records every request (method,
headers, JSON body) and streams each reply through unchanged, so interop tests can
assert what actually went over the wire (envelope, routing headers, request counts)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

__all__ = ["Recorder", "Seen", "recording_proxy"]


@dataclass
class Seen:
    """One request that passed through the proxy."""

    method: str
    headers: dict[str, str]
    body: Any


@dataclass
class Recorder:
    """What passed through the proxy, in order."""

    requests: list[Seen] = field(default_factory=list)

    def posts(self, mcp_method: str | None = None) -> list[Seen]:
        """The POSTs, or those of one MCP method."""
        return [r for r in self.requests if r.method == "POST" and (
            mcp_method is None or (isinstance(r.body, dict) and r.body.get("method") == mcp_method)
        )]


@contextlib.asynccontextmanager
async def recording_proxy(upstream: str) -> AsyncIterator[tuple[str, Recorder]]:
    """Serve ``/mcp`` on 127.0.0.1, forwarding to ``upstream``; yields (url, recorder)."""
    recorder = Recorder()
    session = aiohttp.ClientSession(auto_decompress=False)

    async def forward(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        try:
            parsed: Any = json.loads(body) if body else None
        except ValueError:
            parsed = None
        recorder.requests.append(Seen(request.method, dict(request.headers), parsed))
        headers = {k: v for k, v in request.headers.items()
                   if k.lower() not in ("host", "content-length")}
        async with session.request(request.method, upstream, headers=headers,
                                   data=body) as reply:
            response = web.StreamResponse(status=reply.status, headers={
                k: v for k, v in reply.headers.items()
                if k.lower() not in ("content-length", "transfer-encoding", "connection")
            })
            await response.prepare(request)
            async for chunk in reply.content.iter_any():
                await response.write(chunk)
            await response.write_eof()
            return response

    app = web.Application()
    app.router.add_route("*", "/mcp", forward)
    # A client that goes away (a cancelled listen stream) cancels its handler, so the
    # upstream stream is closed at once instead of waiting for the server's next ping.
    runner = web.AppRunner(app, handler_cancellation=True)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}/mcp", recorder
    finally:
        await runner.cleanup()
        await session.close()
