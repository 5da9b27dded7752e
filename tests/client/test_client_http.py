"""Foundation behaviour against real aiohttp.web servers on loopback."""

from __future__ import annotations

import asyncio
import gc
import socket
import warnings

import aiohttp
import pytest

from mcp_async import (
    AsyncMCPClient,
    ClientStateError,
    ConfigError,
    ConnectError,
    ContentTypeError,
    HTTPRequest,
    HTTPStatusError,
    InvalidJSONError,
    RateLimitedError,
    ReadTimeout,
    RequestTimeoutError,
    Timeout,
    request_hook,
)
from tests.conftest import EchoServer


async def test_send_request_posts_json_and_returns_decoded_reply(echo_server: EchoServer) -> None:
    async with AsyncMCPClient(echo_server.url) as client:
        reply = await client.send_request("echo", {"a": [1, 2], "b": "ü"})
    assert reply == {"path": "/api/echo", "echo": {"a": [1, 2], "b": "ü"}}
    sent = echo_server.requests[0]
    assert sent["headers"]["Content-Type"] == "application/json"


@pytest.mark.parametrize(
    ("base_suffix", "endpoint"),
    [("", "echo"), ("/", "echo"), ("", "/echo"), ("/", "/echo"), ("//", "//echo")],
)
async def test_endpoint_join_neither_doubles_nor_loses_slashes(
    echo_server: EchoServer, base_suffix: str, endpoint: str
) -> None:
    async with AsyncMCPClient(echo_server.url + base_suffix) as client:
        reply = await client.send_request(endpoint, {})
    assert reply["path"] == "/api/echo"


async def test_nested_endpoint(echo_server: EchoServer) -> None:
    async with AsyncMCPClient(echo_server.url) as client:
        assert (await client.send_request("nested/path", 1))["path"] == "/api/nested/path"


async def test_absolute_endpoint_is_refused_so_tokens_stay_on_origin(
    echo_server: EchoServer,
) -> None:
    async with AsyncMCPClient(echo_server.url, auth="secret") as client:
        with pytest.raises(ConfigError, match="relative"):
            await client.send_request("http://evil.example/steal", {})
    assert echo_server.requests == []


async def test_connection_pool_is_reused_sequentially_and_concurrently(
    echo_server: EchoServer,
) -> None:
    async with AsyncMCPClient(echo_server.url, connection_limit=4) as client:
        for i in range(20):
            await client.send_request("echo", i)
        assert echo_server.connections == 1
        await asyncio.gather(*(client.send_request("echo", i) for i in range(200)))
    assert len(echo_server.requests) == 220
    assert echo_server.connections <= 4


async def test_headers_merge_per_call_wins(echo_server: EchoServer) -> None:
    async with AsyncMCPClient(
        echo_server.url, headers={"X-Default": "d", "X-Both": "client"}
    ) as client:
        seen = await client.send_request("headers", {}, headers={"X-Both": "call", "X-Call": "c"})
    assert seen["X-Default"] == "d"
    assert seen["X-Both"] == "call"
    assert seen["X-Call"] == "c"


async def test_per_call_timeout_raises_read_timeout(echo_server: EchoServer) -> None:
    async with AsyncMCPClient(echo_server.url, timeout=30) as client:
        with pytest.raises(ReadTimeout) as info:
            await client.send_request("slow?s=2", {}, timeout=0.2)
        assert isinstance(info.value, TimeoutError)  # the builtin
        assert isinstance(info.value, RequestTimeoutError)
        # The client stays usable after a timeout.
        assert (await client.send_request("echo", 5))["echo"] == 5


async def test_client_default_timeout_applies(echo_server: EchoServer) -> None:
    async with AsyncMCPClient(echo_server.url, timeout=Timeout(total=0.2)) as client:
        with pytest.raises(ReadTimeout):
            await client.send_request("slow?s=2", {})


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_connection_refused_is_a_typed_connect_error() -> None:
    url = f"http://127.0.0.1:{_free_port()}/api"
    async with AsyncMCPClient(url) as client:
        with pytest.raises(ConnectError) as info:
            await client.send_request("echo", {})
    assert info.value.sent is False
    assert isinstance(info.value, OSError)
    assert not isinstance(info.value, aiohttp.ClientError)
    assert isinstance(info.value.__cause__, aiohttp.ClientError)


async def test_non_json_reply_names_content_type_and_shows_snippet(echo_server: EchoServer) -> None:
    async with AsyncMCPClient(echo_server.url) as client:
        with pytest.raises(ContentTypeError) as info:
            await client.send_request("text", {})
    assert info.value.content_type == "text/html"
    assert "Oops" in str(info.value)
    assert "text/html" in str(info.value)


async def test_invalid_json_reply(echo_server: EchoServer) -> None:
    async with AsyncMCPClient(echo_server.url) as client:
        with pytest.raises(InvalidJSONError):
            await client.send_request("bad-json", {})


async def test_no_content_reply_returns_none(echo_server: EchoServer) -> None:
    async with AsyncMCPClient(echo_server.url) as client:
        assert await client.send_request("empty", {}) is None


@pytest.mark.parametrize("status", [400, 404, 500, 502])
async def test_non_2xx_raises_http_status_error(echo_server: EchoServer, status: int) -> None:
    async with AsyncMCPClient(echo_server.url) as client:
        with pytest.raises(HTTPStatusError) as info:
            await client.send_request(f"status/{status}", {})
    assert info.value.status == status
    assert info.value.body_snippet == f"status {status}"
    assert not isinstance(info.value, RateLimitedError)


async def test_429_carries_retry_after(echo_server: EchoServer) -> None:
    async with AsyncMCPClient(echo_server.url) as client:
        with pytest.raises(RateLimitedError) as info:
            await client.send_request("status/429?Retry-After=7", {})
    assert info.value.retry_after == 7.0
    assert info.value.headers["Retry-After"] == "7"


@pytest.mark.parametrize("data", [{1, 2}, object(), float("nan"), {"x": b"bytes"}])
async def test_unserializable_data_fails_before_sending(
    echo_server: EchoServer, data: object
) -> None:
    async with AsyncMCPClient(echo_server.url) as client:
        with pytest.raises((TypeError, ValueError)):
            await client.send_request("echo", data)
    assert echo_server.requests == []


async def test_borrowed_session_is_used_and_left_open(echo_server: EchoServer) -> None:
    async with aiohttp.ClientSession() as session:
        async with AsyncMCPClient(echo_server.url, session=session) as client:
            await client.send_request("echo", 1)
        assert not session.closed
        async with session.post(echo_server.url + "/echo", json=2) as response:
            assert (await response.json())["echo"] == 2


async def test_owned_session_is_closed_on_exit(echo_server: EchoServer) -> None:
    client = AsyncMCPClient(echo_server.url)
    async with client:
        await client.send_request("echo", 1)
        transport = client._transport
        assert transport is not None
    assert transport.session.closed
    assert client.closed


async def test_closed_client_raises_clear_error(echo_server: EchoServer) -> None:
    client = AsyncMCPClient(echo_server.url)
    async with client:
        pass
    with pytest.raises(ClientStateError, match="closed"):
        await client.send_request("echo", 1)
    with pytest.raises(ClientStateError, match="closed"):
        await client.list_tools()
    with pytest.raises(ClientStateError, match="new AsyncMCPClient"):
        async with client:
            pass


async def test_unopened_client_raises_clear_error(echo_server: EchoServer) -> None:
    client = AsyncMCPClient(echo_server.url)
    with pytest.raises(ClientStateError, match="async with"):
        await client.send_request("echo", 1)


async def test_entering_twice_raises(echo_server: EchoServer) -> None:
    async with AsyncMCPClient(echo_server.url) as client:
        with pytest.raises(ClientStateError, match="only once"):
            await client.__aenter__()


async def test_aclose_is_idempotent(echo_server: EchoServer) -> None:
    client = AsyncMCPClient(echo_server.url)
    await client.open()
    await client.aclose()
    await client.aclose()
    assert client.closed


async def test_unclosed_client_warns_like_aiohttp(echo_server: EchoServer) -> None:
    client = AsyncMCPClient(echo_server.url)
    await client.open()
    transport = client._transport
    assert transport is not None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        del client
        gc.collect()
    assert any(
        issubclass(w.category, ResourceWarning) and "Unclosed AsyncMCPClient" in str(w.message)
        for w in caught
    )
    await transport.session.close()


async def test_request_hooks_run_for_send_request(echo_server: EchoServer) -> None:
    seen: list[str] = []

    async def stamp(request: HTTPRequest) -> None:
        seen.append(request.url)
        request.headers["X-Hooked"] = "yes"

    async with AsyncMCPClient(echo_server.url, hooks=[request_hook(stamp)]) as client:
        headers = await client.send_request("headers", {})
    assert headers["X-Hooked"] == "yes"
    assert seen == [echo_server.url + "/headers"]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"url": "ftp://example.com"},
        {"url": "not a url"},
        {"url": "/relative"},
        {"url": 42},
        {"url": "http://h", "timeout": -1},
        {"url": "http://h", "timeout": "10"},
        {"url": "http://h", "initialize": "sometimes"},
        {"url": "http://h", "hooks": [object()]},
        {"url": "http://h", "auth": 123},
        {"url": "http://h", "session": "nope"},
        {"url": "http://h", "connection_limit": 0},
    ],
)
def test_bad_constructor_arguments_raise_config_error(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        AsyncMCPClient(**kwargs)  # type: ignore[arg-type]
