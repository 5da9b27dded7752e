"""OAuth against an authorization server nobody here wrote: the official ``mcp`` SDK's
authorization server routes (``mcp.server.auth.routes.create_auth_routes``: metadata,
``/register``, ``/authorize``, ``/token``, ``/revoke``) with an in-memory
``OAuthAuthorizationServerProvider`` written here, and the SDK's ``MCPServer`` as the
resource server (bearer verification through the same provider, resource-bound tokens).

Both run under uvicorn on 127.0.0.1, each on its own port (AS and RS are different
origins). The SDK does the protocol work: PKCE S256 verification, single-use codes,
redirect URI checks, client authentication, registration; the provider stores what it
is given and rotates refresh tokens.

Shown here: dynamic registration, the authorization code flow with PKCE S256 and the
``resource`` indicator, refresh with rotation (the SDK refuses the rotated-out token),
and the client's ``issuer``, ``resource`` and ``state`` checks against what this real
server sends. Failure modes no real server produces on demand stay with the fake AS
(tests/auth/as_server.py).
"""

from __future__ import annotations

import asyncio
import secrets
import socket
import time
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit, urlunsplit

import aiohttp
import pytest

from mcp_async import AsyncMCPClient, AuthError
from mcp_async.auth.callback import FunctionCallbackHandler
from mcp_async.auth.oauth import OAuth
from mcp_async.auth.storage import MemoryTokenStorage
from tests.auth.as_server import REDIRECT_URI, Browser, FakeClock

TTL = 600  # access token lifetime the provider announces (expires_in)
SCOPES = ["mcp:read", "mcp:write"]


# ---- the provider: storage only; the SDK's handlers enforce the protocol ------------------


@dataclass
class MemoryProvider:
    """An in-memory ``OAuthAuthorizationServerProvider`` that approves every request."""

    issuer: str = ""
    #: ``iss`` added to the authorization response (RFC 9207); None: left out.
    iss: str | None = None
    clients: dict[str, Any] = field(default_factory=dict)
    codes: dict[str, Any] = field(default_factory=dict)
    access: dict[str, Any] = field(default_factory=dict)
    refresh: dict[str, Any] = field(default_factory=dict)
    registrations: list[Any] = field(default_factory=list)
    authorizations: list[Any] = field(default_factory=list)
    code_exchanges: int = 0
    refreshed: list[str] = field(default_factory=list)

    async def get_client(self, client_id: str) -> Any:
        return self.clients.get(client_id)

    async def register_client(self, client_info: Any) -> None:
        self.clients[client_info.client_id] = client_info
        self.registrations.append(client_info)

    async def authorize(self, client: Any, params: Any) -> str:
        from mcp.server.auth.provider import AuthorizationCode, construct_redirect_uri

        self.authorizations.append(params)
        code = secrets.token_urlsafe(32)
        self.codes[code] = AuthorizationCode(
            code=code,
            scopes=params.scopes or [],
            expires_at=time.time() + 300,
            client_id=client.client_id,
            code_challenge=params.code_challenge,
            redirect_uri=params.redirect_uri,
            redirect_uri_provided_explicitly=params.redirect_uri_provided_explicitly,
            resource=params.resource,
            subject="user-1",
        )
        return construct_redirect_uri(
            str(params.redirect_uri), code=code, state=params.state, iss=self.iss
        )

    async def load_authorization_code(self, client: Any, authorization_code: str) -> Any:
        code = self.codes.get(authorization_code)
        return code if code is not None and code.client_id == client.client_id else None

    async def exchange_authorization_code(self, client: Any, authorization_code: Any) -> Any:
        del self.codes[authorization_code.code]  # single use
        self.code_exchanges += 1
        return self._issue(client.client_id, authorization_code.scopes,
                           authorization_code.resource)

    async def load_refresh_token(self, client: Any, refresh_token: str) -> Any:
        token = self.refresh.get(refresh_token)
        return token if token is not None and token.client_id == client.client_id else None

    async def exchange_refresh_token(
        self, client: Any, refresh_token: Any, scopes: list[str]
    ) -> Any:
        del self.refresh[refresh_token.token]  # rotation: the old refresh token is dead
        self.refreshed.append(refresh_token.token)
        return self._issue(client.client_id, scopes, refresh_token.resource)

    async def load_access_token(self, token: str) -> Any:
        access = self.access.get(token)
        if access is None or (access.expires_at and access.expires_at < time.time()):
            return None
        return access

    async def revoke_token(self, token: Any) -> None:
        self.access.pop(token.token, None)
        self.refresh.pop(token.token, None)

    def _issue(self, client_id: str, scopes: list[str], resource: str | None) -> Any:
        from mcp.server.auth.provider import AccessToken, RefreshToken
        from mcp.shared.auth import OAuthToken

        access, refresh = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        self.access[access] = AccessToken(
            token=access, client_id=client_id, scopes=scopes,
            expires_at=int(time.time()) + 3600,  # real time; the client's clock is fake
            resource=resource, subject="user-1",
        )
        self.refresh[refresh] = RefreshToken(
            token=refresh, client_id=client_id, scopes=scopes, resource=resource,
            subject="user-1",
        )
        return OAuthToken(access_token=access, token_type="Bearer", expires_in=TTL,
                          refresh_token=refresh, scope=" ".join(scopes))


# ---- the two servers ----------------------------------------------------------------------


@dataclass
class SDKEnv:
    provider: MemoryProvider
    issuer: str
    rs_url: str
    clock: FakeClock
    browser: Browser
    #: form bodies POSTed to the AS, by path
    forms: dict[str, list[dict[str, str]]]
    #: the issuer as the SDK's metadata spells it (its AnyHttpUrl adds a "/" to a bare origin)
    metadata_issuer: str = ""


def _bound_socket() -> tuple[socket.socket, int]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock, sock.getsockname()[1]


class _FormRecorder:
    """ASGI wrapper that records the form bodies POSTed to the AS, then replays them."""

    def __init__(self, app: Any, forms: dict[str, list[dict[str, str]]]) -> None:
        self.app, self.forms = app, forms

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.forms.setdefault(scope["path"], []).append(dict(parse_qsl(body.decode())))
        sent = False

        async def replay() -> dict[str, Any]:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


@asynccontextmanager
async def _serve(app: Any, sock: socket.socket) -> AsyncIterator[None]:
    import uvicorn

    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on",
                            timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    task = asyncio.ensure_future(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.005)
        yield
    finally:
        server.should_exit = True
        await task
        sock.close()


@asynccontextmanager
async def sdk_env(
    *,
    metadata_issuer: str | None = None,
    resource_path: str = "/mcp",
    iss: str | None = None,
    browser: Browser | None = None,
) -> AsyncIterator[SDKEnv]:
    """The SDK's AS routes and the SDK resource server. ``metadata_issuer``: the issuer the
    AS names in its metadata (default: its own URL); ``resource_path``: the resource URL
    the RS claims in its metadata (default: its real endpoint)."""
    from mcp.server.auth.provider import ProviderTokenVerifier
    from mcp.server.auth.routes import create_auth_routes
    from mcp.server.auth.settings import AuthSettings, ClientRegistrationOptions, RevocationOptions
    from mcp.server.mcpserver import MCPServer
    from pydantic import AnyHttpUrl
    from starlette.applications import Starlette

    as_sock, as_port = _bound_socket()
    rs_sock, rs_port = _bound_socket()
    issuer = f"http://127.0.0.1:{as_port}"
    rs_origin = f"http://127.0.0.1:{rs_port}"
    provider = MemoryProvider(issuer=issuer, iss=iss)
    forms: dict[str, list[dict[str, str]]] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        routes = create_auth_routes(
            provider,
            issuer_url=AnyHttpUrl(metadata_issuer or issuer),
            client_registration_options=ClientRegistrationOptions(
                enabled=True, valid_scopes=SCOPES, default_scopes=["mcp:read"]
            ),
            revocation_options=RevocationOptions(enabled=True),
        )
        authorization_app = _FormRecorder(Starlette(routes=routes), forms)
        mcp: Any = MCPServer(
            "sdk-as-resource-server",
            token_verifier=ProviderTokenVerifier(provider),
            auth=AuthSettings(
                issuer_url=issuer,
                resource_server_url=rs_origin + resource_path,
                required_scopes=["mcp:read"],
                validate_token_resource=True,
            ),
            log_level="WARNING",
        )

        @mcp.tool()
        async def echo(text: str) -> str:
            """Echo the text back."""
            return text

        resource_app = mcp.streamable_http_app()
    async with _serve(authorization_app, as_sock), _serve(resource_app, rs_sock):
        async with aiohttp.ClientSession() as http, http.get(
            f"{issuer}/.well-known/oauth-authorization-server"
        ) as response:
            metadata = await response.json()
        forms.clear()
        yield SDKEnv(provider, issuer, rs_origin + "/mcp", FakeClock(),
                     browser or Browser(follow=False), forms, metadata["issuer"])


def oauth(env: SDKEnv, **kwargs: Any) -> OAuth:
    env.browser.follow = False
    kwargs.setdefault("clock", env.clock)
    return OAuth(
        redirect_handler=env.browser,
        callback_handler=FunctionCallbackHandler(env.browser.callback, redirect_uri=REDIRECT_URI),
        **kwargs,
    )


async def echo(env: SDKEnv, auth: OAuth, text: str = "hi") -> None:
    async with AsyncMCPClient(env.rs_url, auth=auth, protocol="legacy") as client:
        assert (await client.call_tool("echo", {"text": text})).text == text


async def refused(env: SDKEnv, auth: OAuth, step: str, reason: str) -> AuthError:
    async with AsyncMCPClient(env.rs_url, auth=auth, protocol="legacy") as client:
        with pytest.raises(AuthError) as info:
            await client.call_tool("echo", {"text": "x"})
    assert info.value.step == step, info.value
    assert reason in str(info.value), info.value
    return info.value


# ---- the flow -----------------------------------------------------------------------------


async def test_registration_code_flow_with_pkce_s256_and_resource() -> None:
    storage = MemoryTokenStorage()
    async with sdk_env() as env:
        auth = oauth(env, storage=storage, client_name="sdk-as-test")
        await echo(env, auth)

        # Dynamic registration (RFC 7591), answered by the SDK's /register.
        (registration,) = env.provider.registrations
        assert [str(u) for u in registration.redirect_uris] == [REDIRECT_URI]
        assert registration.client_name == "sdk-as-test"
        assert registration.grant_types == ["authorization_code", "refresh_token"]
        stored = await storage.get_client_info(env.metadata_issuer)
        assert stored is not None and stored.client_id == registration.client_id

        # The authorization request: code flow, PKCE S256, state, the resource indicator.
        (visit,) = env.browser.visits
        query = dict(parse_qsl(urlsplit(visit).query))
        assert visit.startswith(f"{env.issuer}/authorize?")
        assert query["response_type"] == "code"
        assert query["code_challenge_method"] == "S256"
        assert len(query["code_challenge"]) == 43  # base64url of a SHA-256 digest
        assert query["client_id"] == registration.client_id
        assert len(query["state"]) >= 16
        (params,) = env.provider.authorizations
        assert params.resource == env.rs_url
        assert params.code_challenge == query["code_challenge"]

        # The token request: the SDK checked the verifier against the S256 challenge.
        (token_form,) = env.forms["/token"]
        assert token_form["grant_type"] == "authorization_code"
        assert token_form["resource"] == env.rs_url
        assert 43 <= len(token_form["code_verifier"]) <= 128
        assert env.provider.code_exchanges == 1 and env.provider.codes == {}  # single use
        (issued,) = env.provider.access.values()
        assert issued.resource == env.rs_url  # the token is bound to this server
        assert auth.tokens is not None and auth.tokens.access_token == issued.token


async def test_the_sdk_refuses_a_wrong_pkce_verifier() -> None:
    """What makes the S256 check worth having: the same code with another verifier is
    refused by the SDK's token endpoint (and a code is good once)."""
    async with sdk_env() as env:
        await echo(env, oauth(env))
        client_id = env.forms["/token"][0]["client_id"]
        # A fresh authorization, redeemed with the wrong verifier.
        query = {"response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT_URI,
                 "code_challenge": "A" * 43, "code_challenge_method": "S256", "state": "s" * 20}
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{env.issuer}/authorize?{urlencode(query)}",
                                allow_redirects=False) as response:
                assert response.status == 302
                code = parse_qs(urlsplit(response.headers["Location"]).query)["code"][0]
            form = {"grant_type": "authorization_code", "code": code, "client_id": client_id,
                    "redirect_uri": REDIRECT_URI, "code_verifier": "v" * 43}
            async with http.post(f"{env.issuer}/token", data=form) as response:
                assert response.status == 400
                body = await response.json()
        assert body["error"] == "invalid_grant"
        assert "code_verifier" in body["error_description"]


async def test_refresh_rotates_and_the_old_token_is_refused() -> None:
    async with sdk_env() as env:
        auth = oauth(env)
        async with AsyncMCPClient(env.rs_url, auth=auth, protocol="legacy") as client:
            await client.call_tool("echo", {"text": "a"})
            first = auth.tokens
            env.clock.advance(TTL + 1)
            await client.call_tool("echo", {"text": "b"})
            second = auth.tokens
            env.clock.advance(TTL + 1)
            await client.call_tool("echo", {"text": "c"})
            third = auth.tokens
        assert first is not None and second is not None and third is not None
        assert first.refresh_token and second.refresh_token and third.refresh_token
        # Each refresh used the newest refresh token and got a new one back.
        assert env.provider.refreshed == [first.refresh_token, second.refresh_token]
        assert len({first.refresh_token, second.refresh_token, third.refresh_token}) == 3
        assert len({first.access_token, second.access_token, third.access_token}) == 3
        assert len(env.browser.visits) == 1  # no second login
        refresh_forms = [f for f in env.forms["/token"] if f["grant_type"] == "refresh_token"]
        assert [f["resource"] for f in refresh_forms] == [env.rs_url] * 2
        # The SDK's token endpoint refuses the rotated-out token.
        form = {"grant_type": "refresh_token", "refresh_token": first.refresh_token,
                "client_id": env.forms["/token"][0]["client_id"]}
        async with aiohttp.ClientSession() as http, http.post(
            f"{env.issuer}/token", data=form
        ) as response:
            assert response.status == 400
            assert (await response.json())["error"] == "invalid_grant"


# ---- the client's checks, against what this server sends ----------------------------------


async def test_issuer_in_metadata_must_be_the_metadata_url() -> None:
    """RFC 8414 §3.3: the SDK's metadata names an issuer other than the URL it came from."""
    async with sdk_env(metadata_issuer="http://localhost:1") as env:
        error = await refused(env, oauth(env), "discovery", "names issuer 'http://localhost:1/'")
        assert f"expected '{env.issuer}'" in str(error)
        assert env.provider.registrations == [] and env.browser.visits == []


async def test_configured_issuer_is_enforced() -> None:
    async with sdk_env() as env:
        await refused(env, oauth(env, issuer="https://login.example.com"), "discovery",
                      "does not list the configured issuer https://login.example.com")
        assert env.provider.registrations == []


async def test_resource_metadata_for_another_resource_is_refused() -> None:
    """The SDK resource server's metadata names a resource other than the URL we call."""
    async with sdk_env(resource_path="/other") as env:
        await refused(env, oauth(env), "discovery", f"not for '{env.rs_url}'")
        assert env.provider.registrations == [] and env.browser.visits == []


class StateTamperingBrowser(Browser):
    """Follows the SDK's redirect but hands the client a callback with another state."""

    @property
    def tampered(self) -> str:
        assert self.location is not None
        parts = urlsplit(self.location)
        query = dict(parse_qsl(parts.query))
        query["state"] = "forged-" + query["state"]
        return urlunsplit(parts._replace(query=urlencode(query)))

    def callback(self) -> str:
        return self.tampered


async def test_a_callback_with_another_state_is_refused() -> None:
    async with sdk_env(browser=StateTamperingBrowser(follow=False)) as env:
        await refused(env, oauth(env), "authorization", "state does not match the request")
        assert env.provider.code_exchanges == 0  # the code was never redeemed
        assert "/token" not in env.forms


@pytest.mark.parametrize("iss", ["http://127.0.0.1:1", "https://evil.example.com"])
async def test_a_wrong_iss_in_the_authorization_response_is_refused(iss: str) -> None:
    """RFC 9207: an ``iss`` in the authorization response must be the issuer."""
    async with sdk_env(iss=iss) as env:
        error = await refused(env, oauth(env), "authorization",
                              f"came from issuer '{iss}'")
        assert f"expected '{env.metadata_issuer}'" in str(error)
        assert env.provider.code_exchanges == 0


async def test_the_right_iss_in_the_authorization_response_is_accepted() -> None:
    async with sdk_env() as env:
        env.provider.iss = env.metadata_issuer
        await echo(env, oauth(env))
        assert "iss" in parse_qs(urlsplit(env.browser.location or "").query)
