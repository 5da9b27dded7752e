"""HTTP edge cases scripted with aioresponses (no sockets)."""

from __future__ import annotations

import re

import pytest
from aioresponses import aioresponses

from mcp_async import (
    AsyncMCPClient,
    AuthError,
    BodyTooLargeError,
    ContentTypeError,
    HTTPStatusError,
    RateLimitedError,
    ReadError,
)

URL = "http://mcp.test/api"


@pytest.fixture
def mocked() -> aioresponses:
    with aioresponses() as m:
        yield m


async def test_retry_after_http_date(mocked: aioresponses) -> None:
    mocked.post(
        URL + "/x", status=429, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}
    )
    async with AsyncMCPClient(URL) as client:
        with pytest.raises(RateLimitedError) as info:
            await client.send_request("x", {})
    assert info.value.retry_after == 0.0  # a date in the past means "now"


async def test_503_with_retry_after_is_rate_limited(mocked: aioresponses) -> None:
    mocked.post(URL + "/x", status=503, headers={"Retry-After": "3"})
    async with AsyncMCPClient(URL) as client:
        with pytest.raises(RateLimitedError) as info:
            await client.send_request("x", {})
    assert (info.value.status, info.value.retry_after) == (503, 3.0)


async def test_503_without_retry_after_is_plain_status_error(mocked: aioresponses) -> None:
    mocked.post(URL + "/x", status=503, body="busy")
    async with AsyncMCPClient(URL) as client:
        with pytest.raises(HTTPStatusError) as info:
            await client.send_request("x", {})
    assert type(info.value) is HTTPStatusError
    assert info.value.body_snippet == "busy"


@pytest.mark.parametrize("status", [401, 403])
async def test_auth_refusal_is_auth_error_with_challenge(mocked: aioresponses, status: int) -> None:
    challenge = 'Bearer resource_metadata="http://mcp.test/.well-known/oauth-protected-resource"'
    mocked.post(URL + "/x", status=status, headers={"WWW-Authenticate": challenge})
    async with AsyncMCPClient(URL) as client:
        with pytest.raises(AuthError) as info:
            await client.send_request("x", {})
    assert info.value.status == status
    assert info.value.www_authenticate == challenge


async def test_error_snippet_is_bounded(mocked: aioresponses) -> None:
    mocked.post(URL + "/x", status=500, body="E" * 10_000)
    async with AsyncMCPClient(URL) as client:
        with pytest.raises(HTTPStatusError) as info:
            await client.send_request("x", {})
    assert len(info.value.body_snippet) <= 201
    assert len(str(info.value)) < 400


async def test_json_content_type_with_charset_and_vendor_suffix(mocked: aioresponses) -> None:
    mocked.post(URL + "/a", body='{"ok": 1}', content_type="application/json; charset=utf-8")
    mocked.post(URL + "/b", body='{"ok": 2}', content_type="application/problem+json")
    async with AsyncMCPClient(URL) as client:
        assert await client.send_request("a", {}) == {"ok": 1}
        assert await client.send_request("b", {}) == {"ok": 2}


async def test_missing_content_type_is_reported(mocked: aioresponses) -> None:
    mocked.post(URL + "/a", body="plain words", content_type="")
    async with AsyncMCPClient(URL) as client:
        with pytest.raises(ContentTypeError, match="plain words"):
            await client.send_request("a", {})


async def test_oversized_body_is_refused(mocked: aioresponses) -> None:
    mocked.post(URL + "/a", body='{"x": "' + "a" * 5000 + '"}', content_type="application/json")
    async with AsyncMCPClient(URL, max_body_size=1000) as client:
        with pytest.raises(BodyTooLargeError):
            await client.send_request("a", {})


async def test_redirect_is_not_followed(mocked: aioresponses) -> None:
    mocked.post(URL + "/a", status=307, headers={"Location": "http://elsewhere.test/a"})
    async with AsyncMCPClient(URL, auth="tok") as client:
        with pytest.raises(HTTPStatusError) as info:
            await client.send_request("a", {})
    assert info.value.status == 307
    assert not any("elsewhere" in str(key[1]) for key in mocked.requests)


async def test_broken_payload_is_read_error(mocked: aioresponses) -> None:
    import aiohttp

    mocked.post(re.compile(r".*/a$"), exception=aiohttp.ClientPayloadError("truncated"))
    async with AsyncMCPClient(URL) as client:
        with pytest.raises(ReadError):
            await client.send_request("a", {})


async def test_bearer_token_is_sent(mocked: aioresponses) -> None:
    mocked.post(URL + "/a", payload={"ok": True})
    async with AsyncMCPClient(URL, auth="s3cret") as client:
        await client.send_request("a", {})
    (request,) = next(iter(mocked.requests.values()))
    assert request.kwargs["headers"]["Authorization"] == "Bearer s3cret"
