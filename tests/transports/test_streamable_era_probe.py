"""The Streamable HTTP transport's part of the era verdict: which refusals of the
``server/discover`` probe say "not a modern server" (the statuses are its rule; the
probe in mcp_async.session.era only reads the typed outcome)."""

from __future__ import annotations

import asyncio
import json

import pytest

from mcp_async import HTTPStatusError, JSONRPCError, MCPClientError, RateLimitedError
from mcp_async.protocol.jsonrpc import Request
from mcp_async.transports.http.base import BytesResponse, HTTPRequest, HTTPResponse
from mcp_async.transports.http.streamable import StreamableHTTPTransport
from mcp_async.transports.message import Call
from mcp_async.transports.wire import NotModernServerError

URL = "http://x/mcp"


async def refuse(method: str, status: int, body: bytes = b"nope",
                 content_type: str = "text/plain") -> BaseException:
    async def send(request: HTTPRequest) -> HTTPResponse:
        return BytesResponse(status, body, {"Content-Type": content_type}, URL)

    transport = StreamableHTTPTransport(URL, send)
    call = Call(asyncio.get_running_loop().create_future())
    with pytest.raises(MCPClientError) as info:
        await transport.request(Request(1, method, None), call)
    return info.value


@pytest.mark.parametrize("status", [400, 404, 405])
async def test_a_probe_refused_with_400_404_405_is_not_a_modern_server(status: int) -> None:
    error = await refuse("server/discover", status)
    assert type(error) is NotModernServerError
    assert isinstance(error, HTTPStatusError)  # still one for whoever catches those
    assert error.status == status
    assert error.url == URL
    assert error.body_snippet == "nope"


@pytest.mark.parametrize("status", [406, 500, 502])
async def test_other_statuses_are_plain_status_errors(status: int) -> None:
    assert type(await refuse("server/discover", status)) is HTTPStatusError


async def test_a_rate_limit_is_no_verdict() -> None:
    assert type(await refuse("server/discover", 429)) is RateLimitedError


@pytest.mark.parametrize("status", [400, 404, 405])
async def test_other_methods_refused_with_those_statuses_are_plain(status: int) -> None:
    assert type(await refuse("tools/list", status)) is HTTPStatusError


async def test_a_jsonrpc_error_body_wins_over_the_status() -> None:
    body = json.dumps({"jsonrpc": "2.0", "id": 1,
                       "error": {"code": -32601, "message": "no such method"}}).encode()
    error = await refuse("server/discover", 404, body, "application/json")
    assert isinstance(error, JSONRPCError)
    assert not isinstance(error, NotModernServerError)
