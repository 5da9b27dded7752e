"""The authorization code flow: client identity, auth methods, scopes, PKCE, state, iss."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from yarl import URL

from mcp_async import AsyncMCPClient, AuthError
from mcp_async.auth.callback import LoopbackCallbackHandler
from mcp_async.auth.oauth import OAuth
from mcp_async.auth.storage import MemoryTokenStorage
from tests.auth.as_server import (
    REDIRECT_URI,
    ASOptions,
    Browser,
    Client,
    Env,
    ShimOptions,
    env_context,
    headless_oauth,
)
from tests.conftest import EchoServer


async def call_echo(env: Env, auth: OAuth) -> None:
    async with AsyncMCPClient(env.rs.url, auth=auth) as client:
        assert (await client.call_tool("echo", {"text": "hi"})).text == "hi"


async def refused(env: Env, auth: OAuth, step: str) -> AuthError:
    async with AsyncMCPClient(env.rs.url, auth=auth) as client:
        with pytest.raises(AuthError) as info:
            await client.call_tool("echo", {"text": "hi"})
    assert info.value.step == step, info.value
    return info.value


class TestClientIdentity:
    async def test_dynamic_registration_public_client(self) -> None:
        storage = MemoryTokenStorage()
        async with env_context() as env:
            await call_echo(env, headless_oauth(env, storage=storage, client_name="tester"))
            [registration] = env.authorization.registrations
            assert registration["redirect_uris"] == [REDIRECT_URI]
            assert registration["application_type"] == "native"
            assert registration["token_endpoint_auth_method"] == "none"
            assert registration["grant_types"] == ["authorization_code", "refresh_token"]
            assert registration["client_name"] == "tester"
            assert env.authorization.client_auth_methods == ["none"]
            stored = await storage.get_client_info(env.authorization.issuer)
            assert stored is not None and stored.issuer == env.authorization.issuer

    @pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
    async def test_registration_answer_decides_the_auth_method(self, method: str) -> None:
        async with env_context(ASOptions(registration_auth_method=method)) as env:
            await call_echo(env, headless_oauth(env))
            assert env.authorization.client_auth_methods == [method]
            token_request = env.authorization.requests_to("token")[0]
            assert ("client_secret" in token_request) is (method == "client_secret_post")

    async def test_stored_registration_is_reused(self) -> None:
        storage = MemoryTokenStorage()
        async with env_context() as env:
            await call_echo(env, headless_oauth(env, storage=storage))
            await storage.delete(env.rs.url, keep_client_info=True)
            await call_echo(env, headless_oauth(env, storage=storage))
            assert len(env.authorization.registrations) == 1
            assert len(env.browser.visits) == 2

    @pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post", "none"])
    async def test_pre_registered_client(self, method: str) -> None:
        async with env_context() as env:
            secret = None if method == "none" else "s3cret/+:"
            env.authorization.add_client(
                Client(
                    "pre-1",
                    method,
                    secret,
                    redirect_uris=[REDIRECT_URI],
                )
            )
            auth = headless_oauth(
                env, client_id="pre-1", client_secret=secret, token_endpoint_auth_method=method
            )
            await call_echo(env, auth)
            assert env.authorization.registrations == []
            assert env.authorization.client_auth_methods == [method]
            assert env.browser.last_query["client_id"] == "pre-1"

    async def test_wrong_pre_registered_secret(self) -> None:
        async with env_context() as env:
            env.authorization.add_client(
                Client(
                    "pre-1",
                    "client_secret_basic",
                    "right",
                    redirect_uris=[REDIRECT_URI],
                )
            )
            auth = headless_oauth(env, client_id="pre-1", client_secret="wrong")
            error = await refused(env, auth, "token")
            assert "invalid_client" in str(error) and "wrong" not in str(error)

    async def test_client_id_metadata_document(
        self, make_server: Callable[[dict[str, Any]], Awaitable[EchoServer]]
    ) -> None:
        async def document(request: web.Request) -> web.Response:
            return web.json_response(
                {
                    "client_id": str(request.url),
                    "client_name": "cimd client",
                    "redirect_uris": [REDIRECT_URI],
                    "token_endpoint_auth_method": "none",
                }
            )

        host = await make_server({"/oauth/client.json": document})
        cimd_url = str(host.server.make_url("/oauth/client.json"))
        async with env_context(ASOptions(cimd=True)) as env:
            await call_echo(env, headless_oauth(env, client_metadata_url=cimd_url))
            assert env.authorization.registrations == []
            assert env.browser.last_query["client_id"] == cimd_url
            assert env.authorization.requests_to("token")[0]["client_id"] == cimd_url
            assert len(host.requests) == 2  # fetched at /authorize and at /token

    async def test_cimd_not_supported_falls_back_to_registration(self) -> None:
        async with env_context(ASOptions(cimd=False)) as env:
            auth = headless_oauth(env, client_metadata_url="https://app.example.com/client.json")
            await call_echo(env, auth)
            assert len(env.authorization.registrations) == 1

    async def test_no_way_to_identify_the_client(self) -> None:
        async with env_context(ASOptions(registration=False)) as env:
            error = await refused(env, headless_oauth(env), "registration")
            assert "registration endpoint" in str(error)
            assert env.browser.visits == []

    async def test_registration_refused(self) -> None:
        async with env_context() as env:
            env.authorization.fail_next("register", 400, {"error": "invalid_client_metadata"})
            error = await refused(env, headless_oauth(env), "registration")
            assert "invalid_client_metadata" in str(error)

    async def test_registration_without_promised_secret(self) -> None:
        async with env_context() as env:
            env.authorization.fail_next(
                "register",
                201,
                {"client_id": "x", "token_endpoint_auth_method": "client_secret_post"},
            )
            error = await refused(env, headless_oauth(env), "registration")
            assert "without a client_secret" in str(error)
            assert env.browser.visits == []

    async def test_registration_with_unusable_method(self) -> None:
        async with env_context() as env:
            env.authorization.fail_next(
                "register", 201, {"client_id": "x", "token_endpoint_auth_method": "tls_client_auth"}
            )
            error = await refused(env, headless_oauth(env), "registration")
            assert "'tls_client_auth'" in str(error) and "cannot use" in str(error)


class TestScopes:
    async def test_challenge_scope(self) -> None:
        async with env_context(shim=ShimOptions(challenge_scope="mcp:read")) as env:
            await call_echo(env, headless_oauth(env))
            assert env.browser.last_query["scope"] == "mcp:read"

    async def test_prm_scopes_supported(self) -> None:
        async with env_context(required_scopes=["mcp:read", "mcp:write"]) as env:
            auth = headless_oauth(env)
            await call_echo(env, auth)
            assert env.browser.last_query["scope"] == "mcp:read mcp:write"
            assert auth.tokens.scopes == {"mcp:read", "mcp:write"}

    async def test_scope_omitted(self) -> None:
        async with env_context() as env:
            await call_echo(env, headless_oauth(env))
            assert "scope" not in env.browser.last_query
            assert "scope" not in env.authorization.requests_to("token")[0]

    async def test_offline_access_when_advertised(self) -> None:
        options = ASOptions(scopes_supported=["mcp:read", "offline_access"])
        async with env_context(options, shim=ShimOptions(challenge_scope="mcp:read")) as env:
            await call_echo(env, headless_oauth(env))
            assert env.browser.last_query["scope"] == "mcp:read offline_access"
            assert env.browser.last_query["prompt"] == "consent"

    async def test_no_offline_access_when_not_advertised(self) -> None:
        options = ASOptions(scopes_supported=["mcp:read"])
        async with env_context(options, shim=ShimOptions(challenge_scope="mcp:read")) as env:
            await call_echo(env, headless_oauth(env))
            assert env.browser.last_query["scope"] == "mcp:read"
            assert "prompt" not in env.browser.last_query

    async def test_offline_access_can_be_declined(self) -> None:
        options = ASOptions(scopes_supported=["mcp:read", "offline_access"])
        async with env_context(options, shim=ShimOptions(challenge_scope="mcp:read")) as env:
            await call_echo(env, headless_oauth(env, offline_access=False))
            assert env.browser.last_query["scope"] == "mcp:read"


class TestAuthorizationRequest:
    async def test_request_parameters(self) -> None:
        async with env_context() as env:
            await call_echo(env, headless_oauth(env))
            query = env.browser.last_query
            assert query["response_type"] == "code"
            assert query["code_challenge_method"] == "S256"
            assert len(query["code_challenge"]) == 43
            assert query["redirect_uri"] == REDIRECT_URI
            assert query["resource"] == env.rs.url
            token = env.authorization.requests_to("token")[0]
            assert token["resource"] == env.rs.url
            assert token["redirect_uri"] == REDIRECT_URI
            assert len(token["code_verifier"]) == 64

    @pytest.mark.parametrize("methods", [None, ["plain"]])
    async def test_refuses_without_s256(self, methods: list[str] | None) -> None:
        async with env_context(ASOptions(pkce_methods=methods)) as env:
            error = await refused(env, headless_oauth(env), "authorization")
            assert "S256" in str(error)
            assert env.browser.visits == []

    async def test_state_mismatch(self) -> None:
        async with env_context(ASOptions(response_state="forged")) as env:
            error = await refused(env, headless_oauth(env), "authorization")
            assert "state" in str(error)
            assert env.authorization.requests_to("token") == []

    async def test_issuer_mismatch_in_response(self) -> None:
        async with env_context(ASOptions(response_iss="http://127.0.0.1:1")) as env:
            error = await refused(env, headless_oauth(env), "authorization")
            assert "issuer" in str(error)
            assert env.authorization.requests_to("token") == []

    async def test_missing_iss_when_advertised(self) -> None:
        async with env_context(ASOptions(response_iss="")) as env:
            error = await refused(env, headless_oauth(env), "authorization")
            assert "no 'iss'" in str(error) and "advertises" in str(error)
            assert env.authorization.requests_to("token") == []

    async def test_missing_iss_when_not_advertised(self) -> None:
        async with env_context(ASOptions(response_iss="", iss_parameter=False)) as env:
            await call_echo(env, headless_oauth(env))

    async def test_authorization_error(self) -> None:
        options = ASOptions(scopes_supported=["a"])
        async with env_context(options, shim=ShimOptions(challenge_scope="b")) as env:
            error = await refused(env, headless_oauth(env), "authorization")
            assert "invalid_scope" in str(error)

    async def test_token_endpoint_error(self) -> None:
        async with env_context() as env:
            env.authorization.fail_next("token", 400, {"error": "invalid_grant"})
            error = await refused(env, headless_oauth(env), "token")
            assert error.status == 400 and "invalid_grant" in str(error)

    async def test_token_endpoint_answer_without_token(self) -> None:
        async with env_context() as env:
            env.authorization.fail_next("token", 200, {"token_type": "Bearer"})
            error = await refused(env, headless_oauth(env), "token")
            assert "no 'access_token'" in str(error)

    async def test_non_bearer_token_refused(self) -> None:
        async with env_context() as env:
            env.authorization.fail_next("token", 200, {"access_token": "x", "token_type": "DPoP"})
            error = await refused(env, headless_oauth(env), "token")
            assert "DPoP" in str(error)


class TestUserAgent:
    async def test_loopback_listener_end_to_end(self) -> None:
        browser = Browser(follow=True)
        async with env_context(browser=browser) as env:
            handler = LoopbackCallbackHandler()
            auth = OAuth(redirect_handler=browser, callback_handler=handler, clock=env.clock)
            await call_echo(env, auth)
            redirect_uri = browser.last_query["redirect_uri"]
            assert redirect_uri.startswith("http://127.0.0.1:")
            assert redirect_uri.endswith("/callback")
            async with aiohttp.ClientSession() as session:
                with pytest.raises(aiohttp.ClientConnectionError):
                    await session.get(redirect_uri)

    async def test_loopback_registration_reused_on_another_port(self) -> None:
        browser = Browser(follow=True)
        storage = MemoryTokenStorage()
        async with env_context(browser=browser) as env:
            for _ in range(2):
                auth = OAuth(redirect_handler=browser, storage=storage, clock=env.clock)
                await call_echo(env, auth)
                await storage.delete(env.rs.url, keep_client_info=True)
            ports = {URL(URL(v).query["redirect_uri"]).port for v in browser.visits}
            assert len(ports) == 2
            assert len(env.authorization.registrations) == 1

    async def test_no_callback_in_time(self) -> None:
        browser = Browser(follow=False)
        async with env_context(browser=browser) as env:
            auth = OAuth(redirect_handler=browser, callback_timeout=0.2, clock=env.clock)
            error = await refused(env, auth, "authorization")
            assert "callback" in str(error)

    async def test_failing_redirect_handler(self) -> None:
        async def broken(url: str) -> None:
            raise RuntimeError("no display")

        async with env_context() as env:
            auth = OAuth(redirect_handler=broken, clock=env.clock)
            error = await refused(env, auth, "authorization")
            assert "no display" in str(error)

    async def test_listener_refuses_other_paths_and_empty_queries(self) -> None:
        handler = LoopbackCallbackHandler(path="/cb")
        async with handler.listen() as pending, aiohttp.ClientSession() as session:
            base = pending.redirect_uri
            async with session.get(base) as response:
                assert response.status == 400
            async with session.get(base.replace("/cb", "/favicon.ico")) as response:
                assert response.status == 404
            async with session.get(base + "?code=c1&state=s1") as response:
                assert "Authorization complete" in await response.text()
            answer = await pending.wait()
            assert (answer.code, answer.state) == ("c1", "s1")

    async def test_listener_must_be_loopback(self) -> None:
        from mcp_async import ConfigError

        with pytest.raises(ConfigError):
            LoopbackCallbackHandler(host="0.0.0.0")
