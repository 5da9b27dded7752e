"""Closing a client with requests in flight: every caller gets its result or a
``ClientStateError`` at once, on every transport; nothing from aiohttp or asyncio leaks,
and nothing hangs."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from mcp_async import AsyncMCPClient, ClientStateError
from mcp_async.models import CallToolResult
from mcp_async.testing import demo_server


@pytest.fixture(params=["http-json", "http-sse", "legacy-sse", "stdio"])
async def opener(request: pytest.FixtureRequest) -> AsyncIterator[Callable[[], AsyncMCPClient]]:
    kind = request.param
    if kind == "stdio":
        yield lambda: AsyncMCPClient.stdio(sys.executable, ["-m", "mcp_async.testing", "--stdio"])
        return
    options: dict[str, Any] = {"reply": "sse" if kind == "http-sse" else "json"}
    if kind == "legacy-sse":
        options = {"transport": "sse"}
    async with demo_server(**options) as server:
        yield lambda: AsyncMCPClient(server.url)


async def test_closing_fails_what_is_in_flight_with_client_state_error(
    opener: Callable[[], AsyncMCPClient],
) -> None:
    client = opener()
    await client.__aenter__()
    await client.call_tool("echo", {"text": "warm"})
    slow = [asyncio.ensure_future(client.call_tool("slow", {"seconds": 5})) for _ in range(10)]
    quick = [asyncio.ensure_future(client.call_tool("echo", {"text": str(i)})) for i in range(10)]
    await asyncio.sleep(0.1)
    async with asyncio.timeout(5):
        await client.aclose()
        outcomes = await asyncio.gather(*slow, *quick, return_exceptions=True)
    for outcome in outcomes:
        assert isinstance(outcome, CallToolResult | ClientStateError), repr(outcome)
    assert all(isinstance(outcome, ClientStateError) for outcome in outcomes[:10])
    with pytest.raises(ClientStateError):
        await client.call_tool("echo", {"text": "after"})
