"""A ``-32022`` that names the very version the client probed with (issue #26,
conformance scenario ``request-metadata``): the client probes once more at that
version instead of raising, and never more than once."""

from __future__ import annotations

import pytest
from test_era import MODERN, VERSION, Request, Server, discover_result, meta, session

from mcp_async import UnsupportedProtocolVersionError


def refuse(request: Request, server: Server) -> object:
    return server.error(request, -32022, "unsupported protocol version",
                        {"supported": [MODERN], "requested": MODERN})


async def test_a_refusal_naming_the_probed_version_is_retried_once_at_it() -> None:
    refusals = 0

    async def discover(request: Request, server: Server) -> None:
        nonlocal refusals
        if refusals == 0:
            refusals += 1
            await refuse(request, server)
        else:
            await server.reply(request, discover_result([MODERN]))

    async with session("modern", {"server/discover": discover}) as (client, server):
        await client.list_tools()
        assert client.protocol_version == MODERN
    probes = server.requests("server/discover")
    assert [meta(p)[VERSION] for p in probes] == [MODERN, MODERN]
    assert probes[0].id != probes[1].id
    assert "initialize" not in server.methods()
    assert meta(server.requests("tools/list")[0])[VERSION] == MODERN


async def test_a_second_refusal_at_the_same_version_is_raised_without_a_third_try() -> None:
    async def discover(request: Request, server: Server) -> None:
        await refuse(request, server)

    async with session("modern", {"server/discover": discover}) as (client, server):
        with pytest.raises(UnsupportedProtocolVersionError) as info:
            await client.list_tools()
        assert info.value.supported == [MODERN]
    assert server.methods() == ["server/discover", "server/discover"]


async def test_a_pinned_request_refused_at_a_version_the_server_lists_is_sent_once_more(
) -> None:
    refusals = 0

    async def tools_list(request: Request, server: Server) -> None:
        nonlocal refusals
        if refusals == 0:
            refusals += 1
            await refuse(request, server)
        else:
            await server.reply(request, {"resultType": "complete", "tools": [],
                                         "ttlMs": 0, "cacheScope": "private"})

    async with session("modern", {"tools/list": tools_list}, protocol=MODERN) as (
        client, server
    ):
        assert await client.list_tools() == []
    sent = server.requests("tools/list")
    assert [meta(r)[VERSION] for r in sent] == [MODERN, MODERN]
    assert sent[0].id != sent[1].id


async def test_a_pinned_request_refused_twice_is_raised() -> None:
    async def tools_list(request: Request, server: Server) -> None:
        await refuse(request, server)

    async with session("modern", {"tools/list": tools_list}, protocol=MODERN) as (
        client, server
    ):
        with pytest.raises(UnsupportedProtocolVersionError):
            await client.list_tools()
    assert len(server.requests("tools/list")) == 2


async def test_a_refusal_naming_only_other_versions_is_raised_at_once() -> None:
    async def tools_list(request: Request, server: Server) -> None:
        await server.error(request, -32022, "unsupported protocol version",
                           {"supported": ["2099-01-01"], "requested": MODERN})

    async with session("modern", {"tools/list": tools_list}, protocol=MODERN) as (
        client, server
    ):
        with pytest.raises(UnsupportedProtocolVersionError):
            await client.list_tools()
    assert len(server.requests("tools/list")) == 1
