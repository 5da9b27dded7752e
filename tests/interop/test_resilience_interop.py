"""Retry, 429 handling and bounded fan-out against the official ``mcp`` SDK server.

The SDK server never throttles, so a small reverse proxy on loopback sits in front of it
and answers some ``tools/call`` POSTs itself (429 with ``Retry-After``, or 503); the
rest, SSE replies included, are streamed through unchanged.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import aiohttp
import pytest
from aiohttp import web
from servers import RunningServer

from mcp_async import AsyncMCPClient, RateLimitedError
from mcp_async.policies.retry import RetryPolicy

_HOP_BY_HOP = {"host", "content-length", "transfer-encoding", "connection", "keep-alive"}


@dataclass
class ThrottlingProxy:
    """Forwards to ``upstream``; ``refuse(n)`` decides the reply to the n-th ``tools/call``."""

    upstream: str
    refuse: Callable[[int], web.Response | None]
    tool_calls: int = 0
    forwarded_tool_calls: int = 0
    url: str = ""
    _runner: web.AppRunner | None = field(default=None, repr=False)
    _http: aiohttp.ClientSession | None = field(default=None, repr=False)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/mcp", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}/mcp"
        self._http = aiohttp.ClientSession(auto_decompress=False)

    async def stop(self) -> None:
        if self._http is not None:
            await self._http.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        if request.method == "POST" and b'"tools/call"' in body:
            self.tool_calls += 1
            refusal = self.refuse(self.tool_calls)
            if refusal is not None:
                return refusal
            self.forwarded_tool_calls += 1
        assert self._http is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        async with self._http.request(
            request.method, self.upstream, headers=headers, data=body or None,
            allow_redirects=False,
        ) as upstream:
            reply = web.StreamResponse(status=upstream.status)
            for key, value in upstream.headers.items():
                if key.lower() not in _HOP_BY_HOP:
                    reply.headers[key] = value
            await reply.prepare(request)
            async for chunk in upstream.content.iter_any():
                await reply.write(chunk)
            await reply.write_eof()
            return reply


@pytest.fixture
async def make_proxy(sdk_server: RunningServer) -> AsyncIterator[
    Callable[[Callable[[int], web.Response | None]], ThrottlingProxy]
]:
    proxies: list[ThrottlingProxy] = []

    def make(refuse: Callable[[int], web.Response | None]) -> ThrottlingProxy:
        proxy = ThrottlingProxy(sdk_server.url, refuse)
        proxies.append(proxy)
        return proxy

    yield make
    for proxy in proxies:
        await proxy.stop()


class FakeSleep:
    def __init__(self) -> None:
        self.sleeps: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        await asyncio.sleep(0)


def too_many(retry_after: str = "1") -> web.Response:
    return web.Response(
        status=429, text="slow down",
        headers={"Retry-After": retry_after, "X-RateLimit-Remaining": "0"},
    )


async def test_429_with_retry_after_then_success(
    make_proxy: Callable[..., ThrottlingProxy],
) -> None:
    proxy = make_proxy(lambda n: too_many("1") if n == 1 else None)
    await proxy.start()
    sleep = FakeSleep()
    async with AsyncMCPClient(
        proxy.url, retry=RetryPolicy(sleep=sleep, jitter=False), listen=False
    ) as client:
        result = await client.call_tool("add", {"a": 2, "b": 3})
    assert result.structured_content == {"result": 5}
    assert sleep.sleeps == [1.0]
    assert (proxy.tool_calls, proxy.forwarded_tool_calls) == (2, 1)


async def test_429_without_retry_is_a_typed_error(
    make_proxy: Callable[..., ThrottlingProxy],
) -> None:
    proxy = make_proxy(lambda n: too_many("7"))
    await proxy.start()
    async with AsyncMCPClient(proxy.url, listen=False) as client:
        with pytest.raises(RateLimitedError) as info:
            await client.call_tool("echo", {"text": "hi"})
        assert info.value.retry_after == 7.0
        # the session is intact: other methods go straight through
        assert "echo" in {tool.name for tool in await client.list_tools()}


async def test_batch_with_503s_loses_nothing(make_proxy: Callable[..., ThrottlingProxy]) -> None:
    proxy = make_proxy(lambda n: web.Response(status=503) if n % 10 == 0 else None)
    await proxy.start()
    sleep = FakeSleep()
    async with AsyncMCPClient(
        proxy.url, retry=RetryPolicy(backoff=0, sleep=sleep), listen=False
    ) as client:
        result = await client.call_tools(
            [("echo", {"text": f"#{i}"}) for i in range(60)], concurrency=8
        )
    assert result.ok
    assert [outcome.unwrap().text for outcome in result] == [f"#{i}" for i in range(60)]
    assert proxy.forwarded_tool_calls == 60
    assert len(sleep.sleeps) == proxy.tool_calls - 60 >= 6
