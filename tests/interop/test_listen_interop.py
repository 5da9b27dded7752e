"""``client.listen()`` against servers nobody here wrote, in both protocol eras.

* The official ``mcp`` 2.3.0 server in the 2026-07-28 era (``subscriptions/listen``) over
  Streamable HTTP with SSE replies and over stdio, and in the handshake era (the GET
  stream and ``resources/subscribe``).
* ``@modelcontextprotocol/server-everything`` (handshake era only): subscribe to one of
  its resources and receive its simulated updates.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from servers import RunningServer, StdioCommand

from mcp_async import AsyncMCPClient
from mcp_async.features.listen import ListenEvent, ResourceUpdated, ToolsListChanged


async def next_event(events: AsyncIterator[ListenEvent], timeout: float = 10) -> ListenEvent:
    async with asyncio.timeout(timeout):
        return await anext(events)


@pytest.fixture(params=["http-sse", "stdio"])
def opener(
    request: pytest.FixtureRequest, start_server: Callable[[str], RunningServer],
    sdk_stdio_command: StdioCommand,
) -> Callable[..., AsyncMCPClient]:
    """A private server (tools are added at run time) in each transport that can stream."""
    if request.param == "stdio":
        command = sdk_stdio_command
        return lambda **options: AsyncMCPClient.stdio(
            command.command, command.args, env=command.env, cwd=command.cwd, **options
        )
    server = start_server("sdk-sse-stateful")
    return lambda **options: AsyncMCPClient(server.url, **options)


@pytest.mark.parametrize("protocol", ["auto", "legacy"])
async def test_a_listening_client_sees_the_tool_list_change(
    opener: Callable[..., AsyncMCPClient], protocol: str
) -> None:
    async with opener(protocol=protocol, timeout=20) as client:
        name = f"grown_{protocol}"
        async with client.listen(tools=True) as events:
            assert events.acknowledged is not None
            if protocol == "auto":  # the server's acknowledgement
                assert events.acknowledged.tools
            else:  # what the server's capabilities promise (the SDK server's: nothing)
                assert events.acknowledged.tools == client.server_capabilities.tools_list_changed
            assert (await client.call_tool("grow", {"name": name})).text == f"added {name}"
            assert await next_event(events) == ToolsListChanged()
            assert name in [tool.name for tool in await client.list_tools()]
        assert (await client.call_tool(name, {"text": "hi"})).text == "hi"
        if protocol == "auto":
            assert client.protocol_version == "2026-07-28"


async def test_two_listens_at_once_each_get_their_own_events(
    opener: Callable[..., AsyncMCPClient],
) -> None:
    async with opener(timeout=20) as client:
        assert (await client.initialize()).protocol_version == "2026-07-28"
        async with client.listen(resource_uris=["docs://a"]) as a, \
                client.listen(resource_uris=["docs://b"], tools=True) as b:
            assert a.acknowledged is not None and a.acknowledged.resource_uris == ("docs://a",)
            await client.call_tool("publish_update", {"uri": "docs://b"})
            await client.call_tool("publish_update", {"uri": "docs://a"})
            assert await next_event(a) == ResourceUpdated("docs://a")
            assert await next_event(b) == ResourceUpdated("docs://b")
            await client.call_tool("grow", {"name": "grown_two"})
            assert await next_event(b) == ToolsListChanged()
        # Leaving the blocks ended both listens; the client goes on.
        assert (await client.call_tool("echo", {"text": "after"})).text == "after"


async def test_handshake_era_resource_updates_with_server_everything(
    everything_server: RunningServer,
) -> None:
    uri = "demo://resource/static/document/architecture.md"
    async with (
        AsyncMCPClient(everything_server.url, timeout=20) as client,
        client.listen(resource_uris=[uri]) as events,
    ):
        assert events.acknowledged is not None
        assert events.acknowledged.resource_uris == (uri,)
        await client.call_tool("toggle-subscriber-updates", {})
        try:
            assert await next_event(events, timeout=15) == ResourceUpdated(uri)
        finally:
            await client.call_tool("toggle-subscriber-updates", {})


async def test_handshake_era_subscriptions_are_undone_on_exit(
    start_server: Callable[[str], RunningServer],
) -> None:
    server = start_server("sdk-sse-stateful")
    async with AsyncMCPClient(server.url, protocol="legacy", timeout=20) as client:
        async with client.listen(resource_uris=["docs://readme"]) as events:
            hit: Any = await client.call_tool("touch", {"uri": "docs://readme"})
            assert hit.structured_content == {"result": True}
            assert await next_event(events) == ResourceUpdated("docs://readme")
        missed = await client.call_tool("touch", {"uri": "docs://readme"})
        assert missed.structured_content == {"result": False}  # unsubscribed on exit
