"""A small recording HTTP proxy (aiohttp, 127.0.0.1) that can cut SSE replies mid-stream.

It sits between the client and a real MCP server and forwards every request. For the
POSTs chosen by ``cut`` (by JSON-RPC method, a number of times), it forwards the SSE
reply event by event and, after ``after`` events that carry an ``id``, closes both
connections without finishing the body: a network cut in the middle of a reply. The
server keeps its events; the client has to come back with ``Last-Event-ID``.

Everything it saw is recorded in ``exchanges`` (one :class:`Exchange` per request:
method, JSON-RPC methods of the body, the ``Last-Event-ID`` header, the status, and
the SSE events forwarded, each as ``(id, decoded data or None)``).

    async with CuttingProxy(server.url) as proxy:
        proxy.cut("tools/call", after=1)
        ...  # a client talks to proxy.url
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from yarl import URL

_HOP_BY_HOP = {
    "connection", "keep-alive", "transfer-encoding", "content-length", "host",
    "content-encoding", "upgrade", "te", "trailer", "proxy-connection",
}


@dataclass
class Exchange:
    method: str
    rpc_methods: list[str]
    rpc_ids: list[Any]
    last_event_id: str | None
    status: int | None = None
    events: list[tuple[str | None, Any]] = field(default_factory=list)
    cut: bool = False
    done: asyncio.Event = field(default_factory=asyncio.Event)
    #: With ``drain=True``: what the server still sent on a cut stream (never forwarded).
    unforwarded: list[tuple[str | None, Any]] = field(default_factory=list)

    def messages(self) -> list[Any]:
        return [data for _, data in self.events if data is not None]


@dataclass
class _Cut:
    rpc_method: str
    after: int
    times: int


def _split_events(buffer: bytearray) -> list[bytes]:
    """Take every complete SSE event (up to its blank line) off the front of ``buffer``."""
    events: list[bytes] = []
    while True:
        text = bytes(buffer)
        ends = [i for i in (text.find(b"\n\n"), text.find(b"\r\n\r\n"), text.find(b"\r\r"))
                if i >= 0]
        if not ends:
            return events
        end = min(ends)
        sep = 4 if text.startswith(b"\r\n\r\n", end) else 2
        events.append(text[: end + sep])
        del buffer[: end + sep]


def _parse_event(raw: bytes) -> tuple[str | None, Any]:
    event_id: str | None = None
    data: list[str] = []
    for line in raw.decode("utf-8", "replace").replace("\r\n", "\n").split("\n"):
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "id":
            event_id = value
        elif name == "data":
            data.append(value)
    text = "\n".join(data)
    try:
        decoded = json.loads(text) if text else None
    except ValueError:
        decoded = text
    return event_id, decoded


class CuttingProxy:
    def __init__(self, upstream_url: str, *, drain: bool = False) -> None:
        """``drain``: on a cut, only the client's side is cut; the proxy reads the server's
        stream to its end (so the server has sent, and stored, the whole reply) and holds
        resuming GETs until then. Without it both sides are cut at once."""
        self.upstream = upstream_url
        self.drain = drain
        self._drains: set[asyncio.Task[None]] = set()
        self.exchanges: list[Exchange] = []
        self._cuts: list[_Cut] = []
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.port = 0
        path = URL(upstream_url)
        self._origin = f"{path.scheme}://{path.host}:{path.port}"
        self.path = path.path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.path}"

    def cut(self, rpc_method: str, *, after: int = 1, times: int = 1) -> None:
        """Cut the SSE reply to the next ``times`` POSTs of ``rpc_method`` after ``after``
        events with an id; ``"resume"`` cuts GETs that carry ``Last-Event-ID``."""
        self._cuts.append(_Cut(rpc_method, after, times))

    def resumes(self) -> list[Exchange]:
        return [e for e in self.exchanges if e.method == "GET" and e.last_event_id]

    def posted(self, rpc_method: str) -> list[Exchange]:
        return [e for e in self.exchanges if rpc_method in e.rpc_methods]

    async def __aenter__(self) -> CuttingProxy:
        self._session = aiohttp.ClientSession(auto_decompress=True)
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None and server.sockets  # type: ignore[attr-defined]
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        return self

    async def __aexit__(self, *exc: object) -> None:
        for task in self._drains:
            task.cancel()
        # Upstream first: that ends every proxied stream still open (a GET stream).
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def _take_cut(self, rpc_methods: list[str]) -> _Cut | None:
        for cut in self._cuts:
            if cut.times > 0 and cut.rpc_method in rpc_methods:
                cut.times -= 1
                return cut
        return None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        assert self._session is not None
        body = await request.read()
        rpc_methods: list[str] = []
        rpc_ids: list[Any] = []
        if body:
            with contextlib.suppress(ValueError):
                decoded = json.loads(body)
                for message in decoded if isinstance(decoded, list) else [decoded]:
                    if isinstance(message, dict):
                        if "method" in message:
                            rpc_methods.append(message["method"])
                        if "id" in message:
                            rpc_ids.append(message["id"])
        exchange = Exchange(
            request.method, rpc_methods, rpc_ids, request.headers.get("Last-Event-ID")
        )
        self.exchanges.append(exchange)
        if request.method == "POST":
            cut = self._take_cut(rpc_methods)
        elif request.method == "GET" and exchange.last_event_id:
            cut = self._take_cut(["resume"])  # a resumed stream
        else:
            cut = None
        if self.drain and request.method == "GET" and exchange.last_event_id and self._drains:
            await asyncio.wait(self._drains)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        try:
            upstream = await self._session.request(
                request.method, f"{self._origin}{request.rel_url}", headers=headers,
                data=body or None, allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=5),
            )
        except aiohttp.ClientError:
            exchange.done.set()
            return web.Response(status=502)
        exchange.status = upstream.status
        out_headers = {k: v for k, v in upstream.headers.items() if k.lower() not in _HOP_BY_HOP}
        response = web.StreamResponse(status=upstream.status, headers=out_headers)
        is_sse = upstream.headers.get("Content-Type", "").startswith("text/event-stream")
        keep_upstream = False
        try:
            await response.prepare(request)
            if not is_sse:
                await response.write(await upstream.read())
                await response.write_eof()
                return response
            buffer = bytearray()
            with_id = 0
            async for chunk in upstream.content.iter_any():
                buffer += chunk
                for raw in _split_events(buffer):
                    parsed = _parse_event(raw)
                    await response.write(raw)
                    exchange.events.append(parsed)
                    if parsed[0]:
                        with_id += 1
                    if cut is not None and with_id >= cut.after:
                        exchange.cut = True
                        assert request.transport is not None
                        request.transport.close()
                        if self.drain:
                            keep_upstream = True
                            task = asyncio.ensure_future(self._drain(upstream, buffer, exchange))
                            self._drains.add(task)
                        else:
                            upstream.close()
                        return response
            await response.write_eof()
            return response
        except (ConnectionError, aiohttp.ClientError):
            return response
        finally:
            if not keep_upstream:
                upstream.release()
                exchange.done.set()

    async def _drain(
        self, upstream: aiohttp.ClientResponse, buffer: bytearray, exchange: Exchange
    ) -> None:
        try:
            async for chunk in upstream.content.iter_any():
                buffer += chunk
                exchange.unforwarded.extend(_parse_event(raw) for raw in _split_events(buffer))
        except aiohttp.ClientError:
            pass
        finally:
            upstream.release()
            exchange.done.set()
