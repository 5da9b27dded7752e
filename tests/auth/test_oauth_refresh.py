"""Refresh, single flight, concurrency, persistence and step-up with the real servers."""

from __future__ import annotations

import asyncio
import json
import os
import stat
from pathlib import Path

import aiohttp
import pytest

from mcp_async import AsyncMCPClient, AuthError, BytesResponse, HTTPRequest
from mcp_async.auth.oauth import ClientCredentials, OAuth
from mcp_async.auth.storage import FileTokenStorage, MemoryTokenStorage, OAuthTokens
from mcp_async.transports.http.hooks import build_pipeline
from tests.auth.as_server import ASOptions, Browser, Env, ShimOptions, env_context, headless_oauth

TTL = 3600.0


def count_401(env: Env) -> int:
    return env.rs.statuses().count(401)


async def wait_for_new_tokens(auth: OAuth, old: OAuthTokens) -> OAuthTokens:
    for _ in range(300):
        if auth.tokens is not None and auth.tokens is not old:
            return auth.tokens
        await asyncio.sleep(0.01)
    raise AssertionError("tokens were never replaced")


class TestRefresh:
    async def test_background_refresh_before_expiry_keeps_requests_flowing(self) -> None:
        async with env_context(ASOptions(refresh_delay=0.3)) as env:
            auth = headless_oauth(env, refresh_margin=60)
            async with AsyncMCPClient(env.rs.url, auth=auth) as client:
                await client.call_tool("echo", {"text": "a"})
                first = auth.tokens
                assert first is not None
                env.clock.advance(TTL - 30)
                await asyncio.gather(
                    *(client.call_tool("echo", {"text": str(i)}) for i in range(5))
                )
                # All five were answered with the old token while the slow refresh ran.
                assert auth.tokens is first
                # The five calls, the first call and the era probe (server/discover).
                assert env.rs.requests_with(first.access_token) >= 5 + 2
                fresh = await wait_for_new_tokens(auth, first)
                await client.call_tool("echo", {"text": "b"})
                assert env.rs.requests_with(fresh.access_token) >= 1
            assert env.authorization.count_grant("refresh_token") == 1
            assert count_401(env) == 1

    async def test_expired_token_is_refreshed_before_sending(self) -> None:
        async with env_context() as env:
            auth = headless_oauth(env)
            async with AsyncMCPClient(env.rs.url, auth=auth) as client:
                await client.call_tool("echo", {"text": "a"})
                env.clock.advance(TTL + 1)
                results = await asyncio.gather(
                    *(client.call_tool("echo", {"text": str(i)}) for i in range(8))
                )
            assert [r.text for r in results] == [str(i) for i in range(8)]
            assert env.authorization.count_grant("refresh_token") == 1
            assert count_401(env) == 1
            refresh = env.authorization.requests_to("token")[-1]
            assert refresh["grant_type"] == "refresh_token"
            assert refresh["resource"] == env.rs.url

    async def test_401_refreshes_once_for_many_concurrent_requests(self) -> None:
        async with env_context() as env:
            auth = headless_oauth(env)
            async with AsyncMCPClient(env.rs.url, auth=auth) as client:
                await client.call_tool("echo", {"text": "a"})
                env.authorization.revoke_access_tokens()
                results = await asyncio.gather(
                    *(client.call_tool("echo", {"text": str(i)}) for i in range(10))
                )
            assert len(results) == 10
            assert env.authorization.count_grant("refresh_token") == 1
            assert count_401(env) == 1 + 10
            assert len(env.browser.visits) == 1

    async def test_requests_overlap_while_auth_is_on(self) -> None:
        async with env_context() as env:
            auth = headless_oauth(env)
            async with AsyncMCPClient(env.rs.url, auth=auth) as client:
                await client.call_tool("echo", {"text": "warm up"})
                await asyncio.gather(
                    client.call_tool("slow", {"delay": 0.3}),
                    client.call_tool("slow", {"delay": 0.3}),
                )
                assert env.rs.stats.max_active == 2
                env.authorization.revoke_access_tokens()
                env.rs.stats.max_active = 0
                await asyncio.gather(
                    client.call_tool("slow", {"delay": 0.3}),
                    client.call_tool("slow", {"delay": 0.3}),
                )
                assert env.rs.stats.max_active == 2
            assert env.authorization.count_grant("refresh_token") == 1

    async def test_refresh_token_rejected_means_sign_in_again(self) -> None:
        storage = MemoryTokenStorage()
        async with env_context() as env:
            auth = headless_oauth(env, storage=storage)
            async with AsyncMCPClient(env.rs.url, auth=auth) as client:
                await client.call_tool("echo", {"text": "a"})
                env.authorization.refresh_tokens.clear()
                env.clock.advance(TTL + 1)
                await client.call_tool("echo", {"text": "b"})
            assert len(env.browser.visits) == 2
            assert len(env.authorization.registrations) == 1
            assert await storage.get_client_info(env.authorization.issuer) is not None

    async def test_transient_refresh_failure_keeps_everything(self) -> None:
        storage = MemoryTokenStorage()
        async with env_context() as env:
            auth = headless_oauth(env, storage=storage)
            async with AsyncMCPClient(env.rs.url, auth=auth) as client:
                await client.call_tool("echo", {"text": "a"})
                stored = await storage.get_tokens(env.rs.url)
                env.clock.advance(TTL + 1)
                env.authorization.fail_next("refresh", 503, {"error": "temporarily_unavailable"})
                with pytest.raises(AuthError) as info:
                    await client.call_tool("echo", {"text": "b"})
                assert info.value.step == "refresh" and info.value.status == 503
                assert await storage.get_tokens(env.rs.url) == stored
                assert await storage.get_client_info(env.authorization.issuer) is not None
                await client.call_tool("echo", {"text": "c"})
            assert len(env.browser.visits) == 1
            assert env.authorization.count_grant("refresh_token") == 1

    async def test_rotated_refresh_token_persisted_across_restarts(self, tmp_path: Path) -> None:
        path = tmp_path / "tokens.json"
        async with env_context() as env:
            auth = headless_oauth(env, storage=FileTokenStorage(path))
            async with AsyncMCPClient(env.rs.url, auth=auth) as client:
                await client.call_tool("echo", {"text": "a"})
                first = auth.tokens
                env.clock.advance(TTL + 1)
                await client.call_tool("echo", {"text": "b"})
                second = auth.tokens
            assert first is not None and second is not None
            assert first.refresh_token and second.refresh_token
            assert second.refresh_token != first.refresh_token
            assert first.refresh_token not in env.authorization.refresh_tokens
            assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
            stored = await FileTokenStorage(path).get_tokens(env.rs.url)
            assert stored is not None and stored.refresh_token == second.refresh_token

            # A new process: the stored access token is used without a browser...
            restarted = headless_oauth(env, storage=FileTokenStorage(path))
            async with AsyncMCPClient(env.rs.url, auth=restarted) as client:
                before = env.rs.requests_with(second.access_token)
                await client.call_tool("echo", {"text": "c"})
                assert env.rs.requests_with(second.access_token) > before
                # ...and the stored refresh token after it expires.
                env.clock.advance(TTL + 1)
                await client.call_tool("echo", {"text": "d"})
            assert len(env.browser.visits) == 1
            assert env.authorization.count_grant("refresh_token") == 2
            assert count_401(env) == 1

    async def test_refresh_token_never_sent_to_another_issuer(self) -> None:
        storage = MemoryTokenStorage()
        async with env_context() as env:
            async with AsyncMCPClient(env.rs.url, auth=headless_oauth(env, storage=storage)) as c:
                await c.call_tool("echo", {"text": "registers a client"})
            await storage.set_tokens(
                env.rs.url,
                OAuthTokens(
                    access_token="foreign-at",
                    refresh_token="foreign-rt",
                    issuer="https://other-as.example.com",
                    resource=env.rs.url,
                    expires_at=env.clock() - 10,
                ),
            )
            auth = headless_oauth(env, storage=storage)
            async with AsyncMCPClient(env.rs.url, auth=auth) as client:
                await client.call_tool("echo", {"text": "a"})
            sent = [value for _, params in env.authorization.log for value in params.values()]
            assert "foreign-rt" not in sent
            assert env.authorization.count_grant("refresh_token") == 0
            assert len(env.browser.visits) == 2
            assert len(env.authorization.registrations) == 1

    async def test_abandoned_interactive_flow_is_stopped(self) -> None:
        browser = Browser(follow=False)
        async with env_context(browser=browser) as env:
            auth = OAuth(redirect_handler=browser, clock=env.clock)
            async with AsyncMCPClient(env.rs.url, auth=auth) as client:
                with pytest.raises(TimeoutError):
                    await asyncio.wait_for(client.call_tool("echo", {"text": "a"}), 0.5)
            await asyncio.sleep(0.05)
            listener = browser.last_query["redirect_uri"]
            async with aiohttp.ClientSession() as session:
                with pytest.raises(aiohttp.ClientConnectionError):
                    await session.get(listener)


class TestStepUp:
    async def test_insufficient_scope_reauthorizes_with_the_union(self) -> None:
        shim = ShimOptions(challenge_scope="mcp:read", tool_scopes={"admin_op": "admin"})
        async with env_context(shim=shim) as env:
            auth = headless_oauth(env)
            async with AsyncMCPClient(env.rs.url, auth=auth) as client:
                await client.call_tool("echo", {"text": "a"})
                results = await asyncio.gather(
                    client.call_tool("admin_op"), client.call_tool("admin_op")
                )
                assert [r.text for r in results] == ["admin done", "admin done"]
                await client.call_tool("echo", {"text": "b"})
            scopes = [set(q["scope"].split()) for q in map(_query, env.browser.visits)]
            assert scopes == [{"mcp:read"}, {"mcp:read", "admin"}]
            assert env.rs.statuses().count(403) == 2

    async def test_step_up_is_bounded(self) -> None:
        shim = ShimOptions(challenge_scope="mcp:read", tool_scopes={"admin_op": "admin"})
        async with env_context(ASOptions(withheld_scopes={"admin"}), shim=shim) as env:
            auth = headless_oauth(env, max_step_up=2)
            async with AsyncMCPClient(env.rs.url, auth=auth) as client:
                with pytest.raises(AuthError) as info:
                    await client.call_tool("admin_op")
            assert info.value.status == 403
            assert "insufficient_scope" in (info.value.www_authenticate or "")
            assert len(env.browser.visits) == 1 + 2

    async def test_no_step_up_without_a_scope_to_ask_for(self) -> None:
        async with env_context(required_scopes=["mcp:read"]) as env:
            env.authorization.options.withheld_scopes = {"mcp:read"}
            auth = headless_oauth(env)
            async with AsyncMCPClient(env.rs.url, auth=auth) as client:
                with pytest.raises(AuthError) as info:
                    await client.call_tool("echo", {"text": "a"})
            assert info.value.status == 403
            assert len(env.browser.visits) == 1


def _query(url: str) -> dict[str, str]:
    from urllib.parse import parse_qsl, urlsplit

    return dict(parse_qsl(urlsplit(url).query))


async def test_requests_arriving_during_a_grant_wait_for_it() -> None:
    """A request with no token while tokens are being obtained waits instead of a 401."""
    server = "https://mcp.example.com/mcp"
    issuer = "https://as.example.com"
    grant_started = asyncio.Event()
    release_grant = asyncio.Event()
    statuses: list[int] = []
    documents = {
        "https://mcp.example.com/.well-known/oauth-protected-resource/mcp": {
            "resource": server,
            "authorization_servers": [issuer],
        },
        issuer + "/.well-known/oauth-authorization-server": {
            "issuer": issuer,
            "token_endpoint": issuer + "/token",
        },
    }

    async def send(request: HTTPRequest) -> BytesResponse:
        if request.url == server:
            ok = request.headers.get("Authorization") == "Bearer t1"
            statuses.append(200 if ok else 401)
            return BytesResponse(200 if ok else 401, b"{}", {"WWW-Authenticate": "Bearer"})
        if request.url == issuer + "/token":
            grant_started.set()
            await release_grant.wait()
            body = {"access_token": "t1", "token_type": "Bearer", "expires_in": 60}
            return BytesResponse(200, json.dumps(body).encode())
        return BytesResponse(200, json.dumps(documents[request.url]).encode())

    handler = build_pipeline([ClientCredentials("svc", "secret", send=send)], send)
    first = asyncio.ensure_future(handler(HTTPRequest("POST", server)))
    await grant_started.wait()
    later = [asyncio.ensure_future(handler(HTTPRequest("POST", server))) for _ in range(4)]
    await asyncio.sleep(0.01)
    release_grant.set()
    responses = await asyncio.gather(first, *later)
    assert [r.status for r in responses] == [200] * 5
    assert statuses == [401] + [200] * 5
