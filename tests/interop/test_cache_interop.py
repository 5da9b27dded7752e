"""The response cache against the official ``mcp`` 2.3.0 server (2026-07-28 era).

A recording proxy of ours sits in front of the server and counts the requests that
reach it. The shared SDK server (sdk_server.py) sets no cache hints, so the SDK sends
``ttlMs: 0`` / ``cacheScope: "private"``: nothing may be served from the cache there.
tests/interop/sdk_cache_server.py is the same SDK with ``cache_hints=`` set: there a
second ``list_tools`` is served without a request, and a tools list-changed event
evicts it. In 2026-07-28 that event arrives only on a ``subscriptions/listen``
stream; the test opens one with ``client.request("subscriptions/listen", ...)`` in
a task (its notifications go through the client's dispatcher, like those of
``client.listen()``).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterator

import pytest
from recording_proxy import recording_proxy
from servers import INTEROP_DIR, RunningServer, ServerSpec, python_script_argv

from mcp_async import AsyncMCPClient

MODERN = "2026-07-28"

# ------------------------------------------------------------------ recording proxy




# ------------------------------------------------------------------ servers


def cache_server_spec() -> ServerSpec:
    script = INTEROP_DIR / "sdk_cache_server.py"

    def argv(port: int) -> list[str]:
        return python_script_argv(script, "--port", str(port), "--exit-on-stdin-eof")

    def env(port: int) -> dict[str, str]:
        return {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1"}

    return ServerSpec(name="sdk-cache", argv=argv, env=env, health_path="/healthz",
                      stateful=True, json_response=False)


@pytest.fixture
def cache_server() -> Iterator[RunningServer]:
    server = RunningServer(cache_server_spec()).start()
    try:
        yield server
    finally:
        server.stop()


# ------------------------------------------------------------------ tests


async def test_the_shared_sdk_server_sends_no_freshness_so_nothing_is_served(
    start_server: Callable[[str], RunningServer],
) -> None:
    server = start_server("sdk-json-stateful")
    async with recording_proxy(server.url) as (url, recorder):
        async with AsyncMCPClient(url, timeout=20) as client:
            raw = await client.request("tools/list")
            assert client.protocol_version == MODERN
            assert raw.get("ttlMs") == 0 and raw.get("cacheScope") == "private"
            await client.list_tools()
            await client.list_tools()
            assert client.cache is not None and client.cache.hits == 0
        assert len(recorder.posts("tools/list")) == 3


async def test_a_second_list_tools_is_served_without_a_request(
    cache_server: RunningServer,
) -> None:
    async with (
        recording_proxy(cache_server.url) as (url, recorder),
        AsyncMCPClient(url, timeout=20) as client,
    ):
        first = await client.list_tools()
        assert client.protocol_version == MODERN
        second = await client.list_tools()
        assert [t.name for t in first] == [t.name for t in second]
        assert {"echo", "add_tool", "touch"} <= {t.name for t in second}
        assert len(recorder.posts("tools/list")) == 1
        await client.list_tools(cache="refresh")
        assert len(recorder.posts("tools/list")) == 2

        # resources/read is private here: kept for this (anonymous) context
        one = await client.read_resource("counter://reads")
        two = await client.read_resource("counter://reads")
        assert one == two
        assert len(recorder.posts("resources/read")) == 1

        discovered = await client.discover()
        assert discovered.ttl_ms == 60_000 and discovered.cache_scope == "public"
        await client.discover()
        assert len(recorder.posts("server/discover")) == 2  # the probe, then one


async def test_a_tools_list_changed_event_evicts_the_cached_list(
    cache_server: RunningServer,
) -> None:
    async with (
        recording_proxy(cache_server.url) as (url, recorder),
        AsyncMCPClient(url, timeout=20) as client,
    ):
        acknowledged = asyncio.Event()
        changed = asyncio.Event()
        client.add_notification_handler("notifications/subscriptions/acknowledged",
                                        lambda params: acknowledged.set())
        client.add_notification_handler("notifications/tools/list_changed",
                                        lambda params: changed.set())
        before = {t.name for t in await client.list_tools()}
        await client.list_tools()
        assert len(recorder.posts("tools/list")) == 1

        listen = asyncio.ensure_future(client.request(
            "subscriptions/listen", {"notifications": {"toolsListChanged": True}}
        ))
        try:
            await asyncio.wait_for(acknowledged.wait(), 10)
            await client.call_tool("add_tool", {"name": "late"})
            await asyncio.wait_for(changed.wait(), 10)
            after = {t.name for t in await client.list_tools()}
        finally:
            listen.cancel()
            await asyncio.gather(listen, return_exceptions=True)
        assert after == before | {"late"}
        assert len(recorder.posts("tools/list")) == 2
        await client.list_tools()  # the new list is cached again
        assert len(recorder.posts("tools/list")) == 2
