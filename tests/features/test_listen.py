"""``client.listen()`` on the in-memory transport: the demultiplexer, how a listen
ends, bounded buffering and the handshake-era form. Real servers: tests/interop/
test_listen_interop.py."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from mcp_async import AsyncMCPClient, ConfigError, ReadTimeout, SubscriptionLostError
from mcp_async.features.listen import (
    ListenEvent,
    ListenFilter,
    PromptsListChanged,
    ResourcesListChanged,
    ResourceUpdated,
    Resynced,
    ToolsListChanged,
)
from mcp_async.protocol.jsonrpc import (
    ErrorResponse,
    Message,
    Notification,
    Request,
    RequestId,
    Response,
)
from mcp_async.transports.memory import MemoryPeer, memory_pair

SUB = "io.modelcontextprotocol/subscriptionId"
MODERN = "2026-07-28"


class ListenServer:
    """A 2026-07-28 server that keeps listen requests open and publishes on demand."""

    def __init__(self, peer: MemoryPeer, *, ack: bool = True, honour_tools: bool = True) -> None:
        self.peer = peer
        self.ack = ack
        self.honour_tools = honour_tools
        self.listens: dict[RequestId, dict[str, Any]] = {}
        self.seen: list[Message] = []
        self.seen_more = asyncio.Event()

    async def run(self) -> None:
        while True:
            message = await self.peer.receive()
            self.seen.append(message)
            self.seen_more.set()
            if isinstance(message, Notification):
                if message.method == "notifications/cancelled" and message.params:
                    self.listens.pop(message.params["requestId"], None)
                continue
            if not isinstance(message, Request):
                continue
            if message.method == "server/discover":
                await self.peer.send(Response(message.id, {
                    "supportedVersions": [MODERN], "capabilities": {"tools": {}}}))
            elif message.method == "subscriptions/listen":
                assert message.params is not None
                wanted = dict(message.params["notifications"])
                if not self.honour_tools:
                    wanted.pop("toolsListChanged", None)
                self.listens[message.id] = wanted
                if self.ack:
                    await self.notify(message.id, "notifications/subscriptions/acknowledged",
                                      {"notifications": wanted})
            else:
                await self.peer.send(Response(message.id, {}))

    async def notify(self, listen_id: RequestId, method: str, params: dict[str, Any]) -> None:
        await self.peer.send(Notification(method, {**params, "_meta": {SUB: listen_id}}))

    async def publish(self, method: str, params: dict[str, Any] | None = None) -> None:
        for listen_id in list(self.listens):
            await self.notify(listen_id, method, params or {})

    def cancels(self) -> list[Any]:
        return [m.params["requestId"] for m in self.seen if isinstance(m, Notification)
                and m.method == "notifications/cancelled" and m.params]


@contextlib.asynccontextmanager
async def modern(**server: Any) -> AsyncIterator[tuple[AsyncMCPClient, ListenServer]]:
    transport, peer = memory_pair()
    fake = ListenServer(peer, **server)
    runner = asyncio.ensure_future(fake.run())
    try:
        async with AsyncMCPClient(transport, protocol=MODERN, timeout=2) as client:
            yield client, fake
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)


async def next_event(events: AsyncIterator[ListenEvent]) -> ListenEvent:
    async with asyncio.timeout(2):
        return await anext(events)


async def test_events_are_typed_and_the_ack_says_what_is_honoured() -> None:
    async with modern(honour_tools=False) as (client, server):
        async with client.listen(tools=True, prompts=True, resources=True,
                                 resource_uris=["file:///a"]) as events:
            assert events.wanted == ListenFilter(True, True, True, ("file:///a",))
            assert events.acknowledged == ListenFilter(False, True, True, ("file:///a",))
            await server.publish("notifications/prompts/list_changed")
            await server.publish("notifications/resources/list_changed")
            await server.publish("notifications/resources/updated", {"uri": "file:///a"})
            assert [await next_event(events) for _ in range(3)] == [
                PromptsListChanged(), ResourcesListChanged(), ResourceUpdated("file:///a")
            ]
        (listen_id,) = [m.id for m in server.seen if isinstance(m, Request)
                        and m.method == "subscriptions/listen"]
        # Leaving the block ends the listen: over a stream, notifications/cancelled.
        async with asyncio.timeout(2):
            while listen_id not in server.cancels():
                await server.seen_more.wait()
                server.seen_more.clear()


async def test_several_listens_are_told_apart_by_their_subscription_id() -> None:
    async with (
        modern() as (client, server),
        client.listen(tools=True) as one,
        client.listen(prompts=True) as two,
    ):
        ids = list(server.listens)
        await server.notify(ids[1], "notifications/prompts/list_changed", {})
        await server.notify(ids[0], "notifications/tools/list_changed", {})
        await server.notify(999, "notifications/tools/list_changed", {})  # nobody's
        assert await next_event(two) == PromptsListChanged()
        assert await next_event(one) == ToolsListChanged()


async def test_a_missing_acknowledgement_is_a_timeout() -> None:
    async with modern(ack=False) as (client, _):
        with pytest.raises(ReadTimeout, match="acknowledge"):
            async with client.listen(tools=True, ack_timeout=0.2):
                pass


async def test_a_final_result_ends_the_iteration() -> None:
    async with modern() as (client, server), client.listen(tools=True) as events:
        (listen_id,) = server.listens
        await server.notify(listen_id, "notifications/tools/list_changed", {})
        await server.peer.send(Response(listen_id, {"_meta": {SUB: listen_id}}))
        assert [event async for event in events] == [ToolsListChanged()]


async def test_the_server_cancelling_the_listen_ends_it_gracefully() -> None:
    async with modern() as (client, server), client.listen(tools=True) as events:
        (listen_id,) = server.listens
        await server.peer.send(Notification("notifications/cancelled",
                                            {"requestId": listen_id}))
        assert [event async for event in events] == []


async def test_an_abrupt_drop_raises_subscription_lost() -> None:
    async with modern() as (client, server), client.listen(tools=True) as events:
        (_listen_id,) = server.listens
        client._mcp().connection_lost(_lost())
        with pytest.raises(SubscriptionLostError, match="lost"):
            await next_event(events)


async def test_reconnect_listens_again_and_says_resynced() -> None:
    async with modern() as (client, server), client.listen(tools=True, reconnect=True) as events:
        (first,) = server.listens
        server.listens.clear()
        client._mcp().connection_lost(_lost())
        assert await next_event(events) == Resynced()
        (second,) = server.listens
        assert second != first
        await server.publish("notifications/tools/list_changed")
        assert await next_event(events) == ToolsListChanged()


async def test_a_consumer_that_falls_behind_gets_subscription_lost() -> None:
    async with (
        modern() as (client, server),
        client.listen(resource_uris=["file:///a"], max_buffered=5) as events,
    ):
        for i in range(6):
            await server.publish("notifications/resources/updated", {"uri": f"file:///{i}"})
        with pytest.raises(SubscriptionLostError, match="behind"):
            async with asyncio.timeout(2):
                while True:
                    await anext(events)


async def test_repeated_events_wait_in_the_buffer_once() -> None:
    async with modern() as (client, server), client.listen(tools=True, max_buffered=2) as events:
        for _ in range(50):
            await server.publish("notifications/tools/list_changed")
        assert await next_event(events) == ToolsListChanged()
        await server.publish("notifications/resources/updated", {"uri": "x"})


async def test_listen_arguments_are_checked() -> None:
    async with modern() as (client, _):
        with pytest.raises(ConfigError, match="listen to something"):
            client.listen()
        with pytest.raises(ConfigError, match="resource_uris"):
            client.listen(resource_uris="file:///a")
        with pytest.raises(ConfigError, match="max_buffered"):
            client.listen(tools=True, max_buffered=0)


# -- the handshake era -------------------------------------------------------------------


class HandshakeServer:
    def __init__(self, peer: MemoryPeer, capabilities: dict[str, Any]) -> None:
        self.peer = peer
        self.capabilities = capabilities
        self.methods: list[str] = []

    async def run(self) -> None:
        while True:
            message = await self.peer.receive()
            if isinstance(message, Request | Notification):
                self.methods.append(message.method)
            if not isinstance(message, Request):
                continue
            if message.method == "server/discover":
                await self.peer.send(ErrorResponse(message.id, -32601, "no such method"))
            elif message.method == "initialize":
                await self.peer.send(Response(message.id, {
                    "protocolVersion": "2025-11-25", "capabilities": self.capabilities,
                    "serverInfo": {"name": "old", "version": "1"}}))
            else:
                await self.peer.send(Response(message.id, {}))


async def test_handshake_era_listen_follows_session_notifications_and_subscribes() -> None:
    transport, peer = memory_pair()
    server = HandshakeServer(peer, {"tools": {"listChanged": True},
                                    "resources": {"subscribe": True}})
    runner = asyncio.ensure_future(server.run())
    try:
        async with AsyncMCPClient(transport, timeout=2) as client:
            async with client.listen(tools=True, prompts=True,
                                     resource_uris=["file:///dir"]) as events:
                assert events.acknowledged == ListenFilter(True, False, False, ("file:///dir",))
                await peer.send(Notification("notifications/resources/updated",
                                             {"uri": "file:///elsewhere"}))  # not asked for
                await peer.send(Notification("notifications/resources/updated",
                                             {"uri": "file:///dir/file.txt"}))
                await peer.send(Notification("notifications/tools/list_changed", None))
                assert await next_event(events) == ResourceUpdated("file:///dir/file.txt")
                assert await next_event(events) == ToolsListChanged()
            assert server.methods.count("resources/subscribe") == 1
            assert server.methods.count("resources/unsubscribe") == 1
            assert "subscriptions/listen" not in server.methods
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)


async def test_handshake_era_without_subscribe_capability_subscribes_nothing() -> None:
    transport, peer = memory_pair()
    server = HandshakeServer(peer, {"resources": {}})
    runner = asyncio.ensure_future(server.run())
    try:
        async with AsyncMCPClient(transport, timeout=2) as client:
            async with client.listen(resource_uris=["file:///a"]) as events:
                assert events.acknowledged == ListenFilter()
            assert "resources/subscribe" not in server.methods
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)


def _lost() -> Exception:
    from mcp_async import ConnectionLostError

    return ConnectionLostError("the memory peer went away")
