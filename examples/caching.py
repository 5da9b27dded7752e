"""The response cache: MCP 2026-07-28 ``ttlMs`` / ``cacheScope`` hints (docs/caching.md).

Runs as it is: the server is a small stand-in that speaks 2026-07-28 over the
in-memory transport (``mcp_async.transports.memory``) and counts the requests it
gets, so you can see which calls the cache answered. Against a real server only the
``AsyncMCPClient(...)`` line changes: a URL, or ``AsyncMCPClient.stdio(...)``.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from mcp_async import AsyncMCPClient
from mcp_async.protocol.jsonrpc import Notification, Request, Response
from mcp_async.transports.memory import MemoryPeer, memory_pair

TOOLS = [{"name": "add", "inputSchema": {"type": "object"}}]


async def serve(peer: MemoryPeer, seen: Counter[str]) -> None:
    """Answer every request; lists are fresh for a minute, reads for five seconds."""
    while True:
        message = await peer.receive()
        if not isinstance(message, Request):
            continue
        seen[message.method] += 1
        result: dict[str, Any]
        if message.method == "server/discover":
            result = {"supportedVersions": ["2026-07-28"], "capabilities": {"tools": {}}}
        elif message.method == "tools/list":
            result = {"tools": TOOLS, "ttlMs": 60_000, "cacheScope": "public"}
        elif message.method == "resources/read":
            text = f"read #{seen[message.method]}"
            result = {"contents": [{"uri": "demo://clock", "text": text}],
                      "ttlMs": 5_000, "cacheScope": "private"}
        else:
            result = {}
        await peer.send(Response(message.id, result))


async def main() -> None:
    transport, peer = memory_pair()
    seen: Counter[str] = Counter()
    server = asyncio.ensure_future(serve(peer, seen))
    try:
        async with AsyncMCPClient(transport) as client:  # the cache is on by default
            for _ in range(3):
                await client.list_tools()
            print(f"3 x list_tools -> {seen['tools/list']} tools/list request")

            # The server says its tools changed: the cached list is dropped at once.
            await peer.send(Notification("notifications/tools/list_changed", None))
            await client.list_tools()
            print(f"after tools/list_changed -> {seen['tools/list']} requests")

            first = await client.read_resource("demo://clock")
            again = await client.read_resource("demo://clock")
            print(f"read twice -> {first.contents[0].uri} {first == again}, "
                  f"{seen['resources/read']} resources/read request")
            await client.read_resource("demo://clock", cache="refresh")
            print(f"cache='refresh' -> {seen['resources/read']} resources/read requests")
            await client.list_tools(cache="bypass")
            print(f"cache='bypass' -> {seen['tools/list']} tools/list requests")
            assert client.cache is not None
            print(f"hits: {client.cache.hits}, misses: {client.cache.misses}")
    finally:
        server.cancel()
        await asyncio.gather(server, return_exceptions=True)


if __name__ == "__main__":
    asyncio.run(main())
