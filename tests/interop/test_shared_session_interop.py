"""More clients than connections on one ``aiohttp.ClientSession`` (aiohttp's default
connector: 100) against the official Python SDK server: every client completes its calls,
with and without a GET stream each."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
from servers import RunningServer

from mcp_async import AsyncMCPClient

CLIENTS = 130


@pytest.mark.parametrize("push", [False, True], ids=["no-push", "get-stream-each"])
async def test_more_clients_than_connections(
    push: bool, start_server: Callable[[str], RunningServer]
) -> None:
    server = start_server("sdk-sse-stateful")
    options: dict[str, Any] = {"logging_handler": lambda message: None} if push else {}
    opened = 0
    everyone = asyncio.Event()

    async def one(http: aiohttp.ClientSession, index: int) -> str:
        nonlocal opened
        async with AsyncMCPClient(
            server.url, session=http, timeout=30, protocol="legacy", **options
        ) as client:
            first = await client.call_tool("echo", {"text": f"hi {index}"})
            assert client.listening == push
            opened += 1
            if opened == CLIENTS:
                everyone.set()
            await asyncio.wait_for(everyone.wait(), 120)
            second = await client.call_tool("echo", {"text": f"again {index}"})
            return f"{first.text}/{second.text}"

    async with aiohttp.ClientSession() as http:
        results = await asyncio.gather(*(one(http, index) for index in range(CLIENTS)))
    assert results == [f"hi {index}/again {index}" for index in range(CLIENTS)]
