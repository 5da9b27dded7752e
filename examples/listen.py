"""Follow a server's changes with ``client.listen()``.

Run it with ``python examples/listen.py``; it needs nothing but ``mcp_async``. The
embedded demo server (``mcp_async.testing.demo_server()`` on 127.0.0.1) speaks the
handshake era, so the listen is built on the session's GET stream and
``resources/subscribe``; against a 2026-07-28 server the same code sends
``subscriptions/listen``. See docs/listen.md.
"""

from __future__ import annotations

import asyncio

from mcp_async import AsyncMCPClient
from mcp_async.listen import ResourceUpdated, ToolsListChanged
from mcp_async.testing import demo_server


async def main() -> None:
    # get_stream=True: the server offers the GET stream its notifications travel on.
    async with (
        demo_server(get_stream=True) as server,
        AsyncMCPClient(server.url) as client,
        client.listen(tools=True, resource_uris=["demo://readme"]) as events,
    ):
        print("acknowledged:", events.acknowledged)
        # The server changes something (here the test server is told to say so).
        await server.notify("notifications/tools/list_changed")
        await server.notify("notifications/resources/updated", {"uri": "demo://readme"})
        seen = 0
        async for event in events:
            if isinstance(event, ToolsListChanged):
                tools = await client.list_tools()  # refetch what changed
                print("tools changed:", len(tools), "tools now")
            elif isinstance(event, ResourceUpdated):
                text = (await client.read_resource(event.uri)).contents[0]
                print("updated:", event.uri, type(text).__name__)
            seen += 1
            if seen == 2:
                break  # leaving the block ends the listen (and unsubscribes)

if __name__ == "__main__":
    asyncio.run(main())
