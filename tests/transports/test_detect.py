"""Choosing the transport for a URL: Streamable HTTP first, legacy HTTP+SSE on 400/404/405."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from mcp_async import (
    AsyncMCPClient as _Client,
)
from mcp_async import (
    AuthError,
    ConnectError,
    ContentTypeError,
    HTTPStatusError,
    JSONRPCError,
    RateLimitedError,
    Timeout,
    TransportDetectionError,
)
from mcp_async.testing import demo_server
from tests.transports.legacy_apps import (
    TOOLS,
    Start,
    free_port,
    wait_until,
)

TIMEOUT = Timeout(total=5, connect=1)
TOOL_NAMES = [tool["name"] for tool in TOOLS]


def AsyncMCPClient(url: str, **options: Any) -> _Client:
    """A client whose POST count is the transport detection's alone: the era is pinned
    to the handshake, so no ``server/discover`` probe goes first (the last test of this
    file checks the two together)."""
    options.setdefault("protocol", "legacy")
    return _Client(url, **options)


def jsonrpc_error_body(code: int = -32600, message: str = "Bad Request: no way") -> bytes:
    return json.dumps(
        {"jsonrpc": "2.0", "id": None, "error": {"code": code, "message": message}}
    ).encode()


# -- 1. a Streamable HTTP server --------------------------------------------------------------


async def test_auto_picks_streamable_http_for_a_streamable_server() -> None:
    async with demo_server() as server:
        client = AsyncMCPClient(server.url, timeout=TIMEOUT)
        assert client.transport_kind == "auto"
        async with client:
            assert client.transport_kind == "auto"  # nothing was sent yet
            assert (await client.call_tool("echo", {"text": "hi"})).text == "hi"
            assert client.transport_kind == "streamable-http"
            assert client.protocol_version == "2025-11-25"
            for _ in range(5):
                await client.ping()
            assert client.transport_kind == "streamable-http"
        assert server.stats.by_method["initialize"] == 1
        assert server.stats.by_method["ping"] == 5


# -- 2. a legacy server --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body"),
    [(405, b"Method Not Allowed"), (404, b"Cannot POST /sse"), (400, b"Bad Request")],
)
async def test_auto_falls_back_to_legacy_sse(start: Start, status: int, body: bytes) -> None:
    app = await start(probe_status=status, probe_body=body)
    async with AsyncMCPClient(app.url, timeout=TIMEOUT) as client:
        assert client.transport_kind == "auto"
        assert [tool.name for tool in await client.list_tools()] == TOOL_NAMES
        assert client.transport_kind == "sse"
        assert client.protocol_version == "2024-11-05"
        assert (await client.call_tool("add", {"a": 20, "b": 22})).text == "42"
        results = await asyncio.gather(
            *(client.call_tool("echo", {"text": str(i)}) for i in range(20))
        )
        assert [r.text for r in results] == [str(i) for i in range(20)]
    assert app.probes == 1
    assert app.gets == 1
    assert app.initializes == 1  # the probe's initialize was re-sent once, over legacy SSE
    assert app.posts["notifications/initialized"] == 1


# -- 3. neither works ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "sse_error", "sse_says"),
    [
        ({"probe_status": 404, "get_status": 404}, HTTPStatusError, "HTTP 404"),
        ({"probe_status": 405, "get_content_type": "text/html"}, ContentTypeError, "text/html"),
    ],
    ids=["get-404", "get-html"],
)
async def test_detection_error_says_what_each_attempt_got(
    start: Start, options: dict[str, Any], sse_error: type[Exception], sse_says: str
) -> None:
    app = await start(**options)
    async with AsyncMCPClient(app.url, timeout=TIMEOUT) as client:
        with pytest.raises(TransportDetectionError) as info:
            await client.list_tools()
        assert client.transport_kind == "auto"
    error = info.value
    assert set(error.errors) == {"streamable-http", "sse"}
    first = error.errors["streamable-http"]
    assert isinstance(first, HTTPStatusError)
    assert first.status == options["probe_status"]
    assert isinstance(error.errors["sse"], sse_error)
    message = str(error)
    assert app.url in message
    assert f"streamable-http: HTTPStatusError: HTTP {options['probe_status']}" in message
    sse_part = message.split("sse: ", 1)[1]
    assert sse_error.__name__ in sse_part
    assert sse_says in sse_part
    assert app.probes == 1
    assert app.gets == 1
    assert app.message_posts == 0


# -- 4. and 5. answers that are not "this is an older server" --------------------------------------


@pytest.mark.parametrize("status", [400, 404, 405])
async def test_jsonrpc_error_body_means_no_fallback(start: Start, status: int) -> None:
    app = await start(
        probe_status=status, probe_body=jsonrpc_error_body(), probe_content_type="application/json"
    )
    async with AsyncMCPClient(app.url, timeout=TIMEOUT) as client:
        with pytest.raises(JSONRPCError) as info:
            await client.list_tools()
        assert client.transport_kind == "auto"
    assert info.value.code == -32600
    assert info.value.message == "Bad Request: no way"
    assert info.value.http_status == status
    assert app.probes == 1
    assert app.gets == 0


@pytest.mark.parametrize(
    ("status", "error", "headers"),
    [
        (401, AuthError, {"WWW-Authenticate": 'Bearer realm="mcp"'}),
        (403, AuthError, {}),
        (429, RateLimitedError, {"Retry-After": "7"}),
    ],
)
async def test_auth_and_rate_limit_statuses_mean_no_fallback(
    start: Start, status: int, error: type[Exception], headers: dict[str, str]
) -> None:
    app = await start(probe_status=status, probe_body=b"nope", probe_headers=headers)
    async with AsyncMCPClient(app.url, timeout=TIMEOUT) as client:
        with pytest.raises(error) as info:
            await client.list_tools()
        assert client.transport_kind == "auto"
    assert getattr(info.value, "status", None) == status
    if status == 429:
        assert isinstance(info.value, RateLimitedError)
        assert info.value.retry_after == 7
    assert app.probes == 1
    assert app.gets == 0


# -- 6. once ---------------------------------------------------------------------------------------


async def test_detection_happens_once(start: Start) -> None:
    app = await start()
    async with AsyncMCPClient(app.url, timeout=TIMEOUT) as client:
        first = await asyncio.gather(
            *(client.call_tool("echo", {"text": f"a{i}"}) for i in range(10))
        )
        assert [r.text for r in first] == [f"a{i}" for i in range(10)]
        for i in range(50):
            assert (await client.call_tool("echo", {"text": str(i)})).text == str(i)
        assert client.transport_kind == "sse"
        assert app.probes == 1
        # A new session after the stream drops stays on legacy SSE: no new probe.
        app.drop_streams()
        await wait_until(lambda: not client.listening)
        async with asyncio.timeout(3):
            assert [tool.name for tool in await client.list_tools()] == TOOL_NAMES
        assert client.transport_kind == "sse"
    assert app.probes == 1
    assert app.gets == 2
    assert app.initializes == 2
    assert app.posts["tools/call"] == 60


# -- 7. forced transports --------------------------------------------------------------------------


async def test_forced_streamable_http_does_not_fall_back(start: Start) -> None:
    app = await start()
    async with AsyncMCPClient(app.url, transport="streamable-http", timeout=TIMEOUT) as client:
        assert client.transport_kind == "streamable-http"
        with pytest.raises(HTTPStatusError) as info:
            await client.list_tools()
        assert client.transport_kind == "streamable-http"
    assert info.value.status == 405
    assert not isinstance(info.value, TransportDetectionError)
    assert app.probes == 1
    assert app.gets == 0


async def test_forced_sse_sends_no_probe(start: Start) -> None:
    app = await start()
    async with AsyncMCPClient(app.url, transport="sse", timeout=TIMEOUT) as client:
        assert client.transport_kind == "sse"
        assert [tool.name for tool in await client.list_tools()] == TOOL_NAMES
    assert app.probes == 0
    assert app.gets == 1


async def test_forced_sse_against_a_streamable_server_fails_typed() -> None:
    async with demo_server() as server:
        async with AsyncMCPClient(
            server.url, transport="sse", timeout=Timeout(total=5, connect=0.5)
        ) as client:
            with pytest.raises((HTTPStatusError, ContentTypeError)):
                async with asyncio.timeout(3):
                    await client.list_tools()
        assert server.stats.by_method["initialize"] == 0


# -- 8. no server at all ---------------------------------------------------------------------------


async def test_connection_refused_is_an_outage_not_a_verdict() -> None:
    url = f"http://127.0.0.1:{free_port()}/sse"
    async with AsyncMCPClient(url, timeout=TIMEOUT) as client:
        for _ in range(2):  # still undecided, so the next call tries again
            with pytest.raises(ConnectError) as info:
                await client.list_tools()
            assert not isinstance(info.value, TransportDetectionError)
            assert client.transport_kind == "auto"


async def test_era_probe_then_transport_detection_reach_a_legacy_sse_server(start: Start) -> None:
    # protocol="auto" (the default): the server/discover POST is refused with 405, which
    # says "no 2026-07-28" and nothing about the transport; the initialize that follows
    # is refused too, and detection moves to legacy SSE.
    app = await start(probe_status=405, probe_body=b"Method Not Allowed")
    async with _Client(app.url, timeout=TIMEOUT) as client:
        assert [tool.name for tool in await client.list_tools()] == TOOL_NAMES
        assert client.transport_kind == "sse"
        assert client.protocol_version == "2024-11-05"
        assert (await client.call_tool("add", {"a": 20, "b": 22})).text == "42"
    assert app.probes == 2  # server/discover, then initialize
    assert app.gets == 1
    assert app.initializes == 1
