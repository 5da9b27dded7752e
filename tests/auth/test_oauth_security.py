"""Security rules: token scoping by origin, no redirects, nothing secret logged, typed errors."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web

from mcp_async import (
    AsyncMCPClient,
    AuthError,
    BytesResponse,
    ClientStateError,
    ConnectError,
    HTTPRequest,
    HTTPStatusError,
)
from mcp_async.auth.oauth import ClientCredentials, OAuth
from mcp_async.auth.storage import ClientRegistration, MemoryTokenStorage, OAuthTokens
from mcp_async.transports.http.hooks import build_pipeline
from tests.auth.as_server import (
    ASOptions,
    Client,
    ShimOptions,
    env_context,
    headless_oauth,
)
from tests.conftest import EchoServer

SERVER = "https://mcp.example.com/mcp"


async def preloaded(server: str = SERVER) -> MemoryTokenStorage:
    storage = MemoryTokenStorage()
    await storage.set_tokens(server, OAuthTokens(access_token="tok-123", resource=server))
    return storage


class TestOrigins:
    async def test_token_only_for_the_servers_origin(self) -> None:
        seen: list[HTTPRequest] = []

        async def send(request: HTTPRequest) -> BytesResponse:
            seen.append(request)
            return BytesResponse(200, b"{}", url=request.url)

        auth = OAuth(server_url=SERVER, storage=await preloaded(), send=send)
        handler = build_pipeline([auth], send)
        await handler(HTTPRequest("POST", SERVER, headers={"authorization": "Bearer user-set"}))
        await handler(HTTPRequest("POST", "https://mcp.example.com/other"))
        await handler(HTTPRequest("POST", "https://evil.example.com/mcp"))
        await handler(HTTPRequest("POST", "http://mcp.example.com/mcp"))
        await handler(HTTPRequest("POST", "https://mcp.example.com:8443/mcp"))
        sent = [{k.lower(): v for k, v in r.headers.items()}.get("authorization") for r in seen]
        assert sent == ["Bearer tok-123", "Bearer tok-123", None, None, None]
        assert list(seen[0].headers) == ["Authorization"]

    async def test_server_url_defaults_to_the_first_request(self) -> None:
        seen: list[HTTPRequest] = []

        async def send(request: HTTPRequest) -> BytesResponse:
            seen.append(request)
            return BytesResponse(200, b"{}", url=request.url)

        auth = OAuth(storage=await preloaded(), send=send)
        handler = build_pipeline([auth], send)
        await handler(HTTPRequest("POST", SERVER + "?x=1"))
        await handler(HTTPRequest("POST", "https://other.example.com/mcp"))
        assert [r.headers.get("Authorization") for r in seen] == ["Bearer tok-123", None]

    async def test_stored_token_for_another_resource_is_ignored(self) -> None:
        storage = MemoryTokenStorage()
        await storage.set_tokens(
            SERVER,
            OAuthTokens(access_token="tok-elsewhere", resource="https://mcp.example.com/other"),
        )
        seen: list[HTTPRequest] = []

        async def send(request: HTTPRequest) -> BytesResponse:
            seen.append(request)
            return BytesResponse(200, b"{}", url=request.url)

        handler = build_pipeline([OAuth(server_url=SERVER, storage=storage, send=send)], send)
        await handler(HTTPRequest("POST", SERVER))
        assert "Authorization" not in seen[0].headers

    async def test_redirects_are_not_followed(
        self, make_server: Callable[[dict[str, Any]], Awaitable[EchoServer]]
    ) -> None:
        async def elsewhere(request: web.Request) -> web.Response:
            return web.json_response({})

        other = await make_server({"/mcp": elsewhere})

        async def redirect(request: web.Request) -> web.Response:
            raise web.HTTPTemporaryRedirect(str(other.server.make_url("/mcp")))

        origin = await make_server({"/mcp": redirect})
        url = str(origin.server.make_url("/mcp"))
        auth = OAuth(storage=await preloaded(url))
        async with AsyncMCPClient(url, auth=auth) as client:
            with pytest.raises(HTTPStatusError) as info:
                await client.initialize()
        assert info.value.status == 307
        assert origin.requests[0]["headers"]["Authorization"] == "Bearer tok-123"
        assert other.requests == []

    def test_not_attached(self) -> None:
        auth = OAuth(server_url=SERVER)
        with pytest.raises(ClientStateError):
            auth._http()


class TestNothingSecretLeaks:
    async def test_logs_reprs_and_errors(self, caplog: pytest.LogCaptureFixture) -> None:
        caplog.set_level(logging.DEBUG)
        shim = ShimOptions(challenge_scope="mcp:read", tool_scopes={"admin_op": "admin"})
        options = ASOptions(registration_auth_method="client_secret_basic")
        storage = MemoryTokenStorage()
        async with env_context(options, shim=shim) as env:
            auth = headless_oauth(env, storage=storage)
            async with AsyncMCPClient(env.rs.url, auth=auth) as client:
                await client.call_tool("echo", {"text": "a"})
                env.clock.advance(3601)
                await client.call_tool("echo", {"text": "b"})
                await client.call_tool("admin_op")
                env.authorization.fail_next("refresh", 400, {"error": "invalid_request"})
                env.clock.advance(3601)
                with pytest.raises(AuthError) as info:
                    await client.call_tool("echo", {"text": "c"})
            registration = await storage.get_client_info(env.authorization.issuer)
            tokens = await storage.get_tokens(env.rs.url)
            assert registration is not None and registration.client_secret
            assert tokens is not None
            secrets = [*env.authorization.all_tokens, registration.client_secret]
            for _, params in env.authorization.log:
                secrets += [params[k] for k in ("code", "code_verifier", "state") if k in params]
            assert len(secrets) > 8
            # The test servers' own logs (aiohttp access log, uvicorn, the SDK) are not ours.
            theirs = ("aiohttp.access", "aiohttp.server", "uvicorn", "sse_starlette", "mcp.")
            texts = [r.getMessage() for r in caplog.records if not r.name.startswith(theirs)]
            texts += [repr(auth), repr(tokens), repr(registration), str(info.value)]
            texts += [str(info.value.__cause__ or "")]
            leaks = [(s, t) for s in secrets for t in texts if s in t]
            assert leaks == []
            assert any(r.name == "mcp_async.auth" for r in caplog.records)

    def test_hook_reprs(self) -> None:
        cc = ClientCredentials("svc", "topsecret", issuer="https://as.example.com")
        assert "topsecret" not in repr(cc)
        oauth = OAuth(client_id="c", client_secret="hunter2")
        assert "hunter2" not in repr(oauth)


class TestTypedErrors:
    async def test_authorization_server_down(self) -> None:
        async with env_context() as env:
            await env.authorization.close()
            async with AsyncMCPClient(env.rs.url, auth=headless_oauth(env)) as client:
                with pytest.raises(AuthError) as info:
                    await client.call_tool("echo", {"text": "x"})
            assert info.value.step == "discovery"
            assert "authorization server metadata request" in str(info.value)
            assert "failed" in str(info.value)
            assert isinstance(info.value.__cause__, ConnectError)

    async def test_metadata_that_is_not_json(
        self, make_server: Callable[[dict[str, Any]], Awaitable[EchoServer]]
    ) -> None:
        async def html(request: web.Request) -> web.Response:
            return web.Response(text="<html>login</html>", content_type="text/html")

        async def unauthorized(request: web.Request) -> web.Response:
            return web.json_response({}, status=401, headers={"WWW-Authenticate": "Bearer"})

        host = await make_server(
            {"/mcp": unauthorized, "/.well-known/oauth-protected-resource/mcp": html}
        )
        url = str(host.server.make_url("/mcp"))
        async with AsyncMCPClient(url, auth=OAuth(server_url=url)) as client:
            with pytest.raises(AuthError) as info:
                await client.initialize()
        assert info.value.step == "discovery" and "JSON" in str(info.value)

    async def test_token_answer_that_is_not_json(self) -> None:
        async with env_context() as env:
            env.authorization.add_client(
                Client("svc", "client_secret_basic", "s", grant_types=["client_credentials"])
            )
            env.authorization.fail_next("token", 200)
            env.authorization._failures["token"][0] = (200, [])  # a JSON array, not an object
            auth = ClientCredentials("svc", "s", clock=env.clock)
            async with AsyncMCPClient(env.rs.url, auth=auth) as client:
                with pytest.raises(AuthError) as info:
                    await client.call_tool("echo", {"text": "x"})
            assert info.value.step == "token"
            assert "not a JSON object" in str(info.value)

    async def test_storage_key_for_registrations_is_the_issuer(self) -> None:
        storage = MemoryTokenStorage()
        async with env_context() as env:
            await storage.set_client_info(
                env.authorization.issuer,
                ClientRegistration(
                    client_id="stale",
                    issuer="https://another-as.example.com",
                ),
            )
            auth = headless_oauth(env, storage=storage)
            async with AsyncMCPClient(env.rs.url, auth=auth) as client:
                await client.call_tool("echo", {"text": "x"})
            assert env.browser.last_query["client_id"] != "stale"
            assert len(env.authorization.registrations) == 1
