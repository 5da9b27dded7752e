"""Features that other tests prove only against servers written here, now against
implementations nobody here wrote (issue 24, "Test gaps").

* **Rate limiting**: express-rate-limit (the limiter of the MCP TypeScript SDK's
  examples), in a small Node reverse proxy (rate_limit_proxy.mjs) in front of the
  official ``mcp`` SDK server, in each header family it writes: IETF drafts 6, 7 and 8
  and ``X-RateLimit-*``. ``RateLimit(server_signals=True)`` must pace itself from those
  headers so that the limiter never refuses a request; without it, ``RetryPolicy`` must
  wait out express-rate-limit's own ``Retry-After``.
* **Body limits**: the official SDK server's real JSON bodies and SSE events, larger
  than ``max_body_size`` / ``max_event_size``: a typed ``BodyTooLargeError``, and the
  client goes on working.
* **Redirects**: Starlette's ``redirect_slashes`` (the SDK server's own router) answers
  ``POST /mcp/`` with 307 to ``/mcp``: a same-origin 307, followed with the body.
* **Private cache entries per token**: the official SDK server with ``cache_hints``
  (sdk_cache_server.py) marks ``resources/read`` private and the lists public. Two
  clients with different access tokens share one cache store: a public entry serves
  both, a private one only its own token.
* **Tools with invalid ``x-mcp-header``**: the official SDK server listing tools whose
  annotations break the rules (sdk_header_server.py); mcp_async must keep exactly the
  tools the official client (mcp 2.3.0) keeps.

* **Client credentials and identity assertion**: an authorization server whose grants
  and client authentication are Authlib's (authlib_as.py): ``client_credentials`` with
  ``client_secret_basic``, ``client_secret_post`` and ``private_key_jwt``, and the RFC
  7523 jwt-bearer grant that trades an ID-JAG for a token; the resource server is the
  official SDK's ``MCPServer`` with bearer auth (resource-bound tokens).

No third party here covers the rest (see docs/architecture.md, "Tests in the same
shape"): the IdP's RFC 8693 token exchange that issues the ID-JAG (Authlib has none), and
legacy SSE origin refusal (the SDK and server-everything only ever announce a relative
endpoint; the SDK refuses an absolute one).
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import aiohttp
import pytest
from recording_proxy import recording_proxy
from servers import (
    INTEROP_DIR,
    RunningServer,
    ServerSpec,
    ServerUnavailable,
    node_executable,
    python_script_argv,
)

from mcp_async import AsyncMCPClient, BodyTooLargeError, RateLimit, RetryPolicy
from mcp_async.features.cache import MemoryCacheStore

pytestmark = pytest.mark.interop

MODERN = "2026-07-28"


def _unavailable(what: str, reason: object) -> None:
    """Skip, or under ``CI=true`` fail: a missing third party is not a pass."""
    message = f"{what} cannot run here: {reason}"
    if os.environ.get("CI", "").strip().lower() in ("true", "1", "yes"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def _script_spec(name: str, script: str, *, json_response: bool) -> ServerSpec:
    def argv(port: int) -> list[str]:
        return python_script_argv(INTEROP_DIR / script, "--port", str(port),
                                  "--exit-on-stdin-eof")

    def env(port: int) -> dict[str, str]:
        return {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1"}

    return ServerSpec(name=name, argv=argv, env=env, health_path="/healthz",
                      stateful=True, json_response=json_response)


@pytest.fixture
def script_server() -> Iterator[Callable[[str, str], RunningServer]]:
    started: list[RunningServer] = []

    def start(name: str, script: str) -> RunningServer:
        server = RunningServer(_script_spec(name, script, json_response=False))
        try:
            server.start()
        except ServerUnavailable as exc:
            _unavailable(name, exc)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
        server.cleanup_logs()


# ------------------------------------------------------------------ rate limiting


class LimiterProxy:
    """rate_limit_proxy.mjs: express-rate-limit in front of ``upstream``."""

    def __init__(self, upstream: str, limit: int, window_ms: int, headers: str) -> None:
        try:
            node = node_executable()
        except ServerUnavailable as exc:
            _unavailable("express-rate-limit", exc)
        if not (INTEROP_DIR / "node_modules" / "express-rate-limit").is_dir():
            _unavailable("express-rate-limit", "not installed (scripts/install-interop-servers.sh)")
        self.process = subprocess.Popen(
            [node, str(INTEROP_DIR / "rate_limit_proxy.mjs"), upstream, str(limit),
             str(window_ms), headers],
            cwd=INTEROP_DIR, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], 30)
        line = self.process.stdout.readline() if ready else ""
        if not line.startswith("READY "):
            self.stop()
            pytest.fail(f"rate_limit_proxy.mjs did not start: {line!r}")
        self.base = f"http://127.0.0.1:{int(line.split()[1])}"
        self.url = self.base + "/mcp"

    async def stats(self) -> dict[str, int]:
        async with aiohttp.ClientSession() as http, http.get(self.base + "/proxy-stats") as r:
            figures: dict[str, int] = await r.json()
            return figures

    def stop(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.close()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


@pytest.fixture
def limiter(start_server: Callable[[str], RunningServer]) -> Iterator[
    Callable[[int, int, str], LimiterProxy]
]:
    upstream = start_server("sdk-json-stateful")
    proxies: list[LimiterProxy] = []

    def make(limit: int, window_ms: int, headers: str) -> LimiterProxy:
        proxy = LimiterProxy(upstream.base_url, limit, window_ms, headers)
        proxies.append(proxy)
        return proxy

    yield make
    for proxy in proxies:
        proxy.stop()


@pytest.mark.parametrize("headers", ["draft-6", "draft-7", "draft-8", "legacy"])
async def test_server_signals_pace_the_client_below_express_rate_limit(
    limiter: Callable[[int, int, str], LimiterProxy], headers: str
) -> None:
    proxy = limiter(4, 1000, headers)
    started = time.monotonic()
    async with AsyncMCPClient(proxy.url, protocol="legacy",
                              rate_limit=RateLimit(server_signals=True)) as client:
        for i in range(10):
            assert (await client.call_tool("echo", {"text": str(i)})).text == str(i)
    took = time.monotonic() - started
    stats = await proxy.stats()
    # The handshake and ten calls: at least three windows of four POSTs, and the
    # limiter never had to refuse one, because the client read its headers.
    assert stats["allowed"] >= 11
    assert stats["refused"] == 0, (headers, stats)
    assert took >= 1.5


async def test_express_rate_limit_retry_after_is_waited_out(
    limiter: Callable[[int, int, str], LimiterProxy],
) -> None:
    proxy = limiter(3, 1000, "draft-7")
    async with AsyncMCPClient(proxy.url, protocol="legacy",
                              retry=RetryPolicy(attempts=4, backoff=0.05)) as client:
        texts = [(await client.call_tool("echo", {"text": str(i)})).text for i in range(6)]
    assert texts == [str(i) for i in range(6)]
    stats = await proxy.stats()
    # Refused, then retried after express-rate-limit's Retry-After (1 s), not in a loop.
    assert 1 <= stats["refused"] <= 3, stats


# ------------------------------------------------------------------ body limits


@pytest.mark.parametrize("kind", ["sdk-json-stateful", "sdk-sse-stateful"])
async def test_bodies_and_events_over_the_limit_are_refused_typed(
    start_server: Callable[[str], RunningServer], kind: str
) -> None:
    server = start_server(kind)
    big = "x" * 200_000
    async with AsyncMCPClient(server.url, max_body_size=64 * 1024,
                              max_event_size=64 * 1024) as client:
        assert (await client.call_tool("echo", {"text": "small"})).text == "small"
        with pytest.raises(BodyTooLargeError):
            await client.call_tool("echo", {"text": big})
        # The refused reply did not poison the pool or the session.
        assert (await client.call_tool("echo", {"text": "after"})).text == "after"
    async with AsyncMCPClient(server.url, max_body_size=None, max_event_size=None) as client:
        assert (await client.call_tool("echo", {"text": big})).text == big


# ------------------------------------------------------------------ redirects


@pytest.mark.parametrize("kind", ["sdk-json-stateful", "sdk-sse-stateful"])
async def test_starlettes_trailing_slash_redirect_is_followed(
    start_server: Callable[[str], RunningServer], kind: str
) -> None:
    server = start_server(kind)
    async with aiohttp.ClientSession() as http, http.post(
        server.url + "/", allow_redirects=False, json={}
    ) as reply:
        assert reply.status == 307  # the SDK server's router, not ours
        assert reply.headers["Location"].endswith("/mcp")
    async with AsyncMCPClient(server.url + "/") as client:
        assert (await client.call_tool("add", {"a": 2, "b": 3})).structured_content == {
            "result": 5
        }
        assert len(await client.list_tools()) > 5


# ------------------------------------------------------------------ private cache entries


async def test_private_entries_are_kept_per_token_with_the_sdks_cache_hints(
    script_server: Callable[[str, str], RunningServer],
) -> None:
    server = script_server("sdk-cache", "sdk_cache_server.py")
    store = MemoryCacheStore()
    async with recording_proxy(server.url) as (url, recorder), \
            AsyncMCPClient(url, auth="token-alpha", cache=store) as alpha, \
            AsyncMCPClient(url, auth="token-beta", cache=store) as beta:
        first = await alpha.read_resource("counter://reads")
        assert alpha.protocol_version == MODERN
        assert await alpha.read_resource("counter://reads") == first  # cached
        assert len(recorder.posts("resources/read")) == 1
        # Another token: alpha's private entry is not served to beta.
        theirs = await beta.read_resource("counter://reads")
        assert theirs != first
        assert len(recorder.posts("resources/read")) == 2
        assert await beta.read_resource("counter://reads") == theirs
        assert len(recorder.posts("resources/read")) == 2
        # Public entries are shared across tokens.
        await alpha.list_tools()
        listed = len(recorder.posts("tools/list"))
        await beta.list_tools()
        assert len(recorder.posts("tools/list")) == listed


# ------------------------------------------------------------------ x-mcp-header


async def test_tools_with_invalid_x_mcp_header_are_dropped_as_the_official_client_does(
    script_server: Callable[[str, str], RunningServer],
) -> None:
    from mcp import Client

    sys.path.insert(0, str(INTEROP_DIR))
    try:
        from sdk_header_server import SCHEMAS
    finally:
        sys.path.remove(str(INTEROP_DIR))
    server = script_server("sdk-header", "sdk_header_server.py")
    async with Client(server.url) as official:
        theirs = {tool.name for tool in (await official.list_tools()).tools}
    async with AsyncMCPClient(server.url) as client:
        ours = {tool.name for tool in await client.list_tools()}
        assert client.protocol_version == MODERN
        # What is kept works, with its header.
        result = await client.call_tool("valid_string", {"value": "eu-west"})
        assert result.text == "eu-west"
    assert ours == theirs
    assert {name for name in SCHEMAS if name.startswith("valid_")} | {"plain"} == ours


async def test_listing_is_read_raw_by_the_official_server(
    script_server: Callable[[str, str], RunningServer],
) -> None:
    """The server really lists the invalid annotations (the drop is the clients')."""
    server = script_server("sdk-header", "sdk_header_server.py")
    async with AsyncMCPClient(server.url, protocol="legacy") as client:
        raw = await client.request("tools/list", {})
    listed = {tool["name"]: tool["inputSchema"] for tool in raw["tools"]}
    assert json.dumps(listed["bad_space"]).count("Re gion") == 1
    assert "bad_duplicate" in listed



# ------------------------------------------------------------------ client credentials, ID-JAG


def _pem_pair() -> tuple[str, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


async def _echo(url: str, auth: Any) -> None:
    async with AsyncMCPClient(url, auth=auth) as client:
        assert (await client.call_tool("echo", {"text": "m2m"})).text == "m2m"


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
async def test_client_credentials_with_a_secret_at_authlib(method: str) -> None:
    from authlib_as import Client, authlib_env

    from mcp_async.auth.oauth import ClientCredentials

    async with authlib_env() as env:
        env.authorization.add_client(Client("svc-1", method, "svc-secret"))
        auth = ClientCredentials("svc-1", "svc-secret", token_endpoint_auth_method=method)
        await _echo(env.mcp_url, auth)
        (issued,) = env.authorization.tokens.values()
        assert (issued.client_id, issued.grant_type) == ("svc-1", "client_credentials")
        assert "mcp:read" in issued.scope.split()
        form = env.authorization.token_requests[-1]
        assert ("client_secret" in form) == (method == "client_secret_post")


async def test_client_credentials_refused_by_authlib_is_typed() -> None:
    from authlib_as import Client, authlib_env

    from mcp_async import AuthError
    from mcp_async.auth.oauth import ClientCredentials

    async with authlib_env() as env:
        env.authorization.add_client(Client("svc-1", "client_secret_basic", "svc-secret"))
        with pytest.raises(AuthError) as info:
            await _echo(env.mcp_url, ClientCredentials("svc-1", "wrong"))
        assert "invalid_client" in str(info.value)
        assert env.authorization.tokens == {}


async def test_client_credentials_with_private_key_jwt_at_authlib() -> None:
    from authlib_as import Client, authlib_env

    from mcp_async.auth.oauth import ClientCredentials

    private, public = _pem_pair()
    async with authlib_env() as env:
        env.authorization.add_client(Client("svc-2", "private_key_jwt", public_key=public))
        auth = ClientCredentials("svc-2", private_key=private, algorithm="ES256")
        await _echo(env.mcp_url, auth)
        (issued,) = env.authorization.tokens.values()
        assert issued.client_id == "svc-2"
        form = env.authorization.token_requests[-1]
        assert form["client_assertion_type"].endswith("client-assertion-type:jwt-bearer")
        assert "client_secret" not in form
        assert len(env.authorization.seen_jti) == 1  # Authlib checked the assertion's jti


async def test_identity_assertion_jwt_bearer_leg_at_authlib() -> None:
    """The ID-JAG is given by a provider here (Authlib has no RFC 8693 token exchange);
    the jwt-bearer grant that trades it for an access token is Authlib's."""
    import jwt
    from authlib_as import JWT_BEARER, Client, authlib_env

    from mcp_async import AuthError
    from mcp_async.auth.oauth import IdentityAssertionAuth

    idp_private, idp_public = _pem_pair()
    stranger_private, _ = _pem_pair()
    async with authlib_env() as env:
        idp = "https://idp.example.test"
        env.authorization.trusted_idps[idp] = idp_public
        env.authorization.add_client(Client("agent", "client_secret_post", "agent-secret",
                                            grant_types=[JWT_BEARER]))
        seen: list[tuple[str, str, str | None]] = []

        def provider_signed_with(key: str) -> Any:
            async def provider(audience: str, resource: str, scope: str | None) -> str:
                seen.append((audience, resource, scope))
                now = int(time.time())
                return jwt.encode(
                    {"iss": idp, "sub": "bob", "aud": audience, "client_id": "agent",
                     "resource": resource, "jti": f"j{now}-{len(seen)}", "iat": now,
                     "exp": now + 60},
                    key, algorithm="ES256", headers={"typ": "oauth-id-jag+jwt"},
                )
            return provider

        # scope= given: the SDK's 403 insufficient_scope names no scope to step up to, and
        # IdentityAssertionAuth does not fall back to the resource metadata's
        # scopes_supported (ClientCredentials does).
        auth = IdentityAssertionAuth(
            issuer=env.authorization.issuer, client_id="agent", client_secret="agent-secret",
            token_endpoint_auth_method="client_secret_post", scope="mcp:read",
            identity=provider_signed_with(idp_private),
        )
        await _echo(env.mcp_url, auth)
        assert seen[0][:2] == (env.authorization.issuer, env.mcp_url)
        (issued,) = env.authorization.tokens.values()
        assert (issued.client_id, issued.subject, issued.grant_type) == (
            "agent", "bob", JWT_BEARER)
        assert issued.resource == env.mcp_url and issued.scope == "mcp:read"
        # An assertion the AS cannot verify (not the IdP's key) is refused, typed.
        forged = IdentityAssertionAuth(
            issuer=env.authorization.issuer, client_id="agent", client_secret="agent-secret",
            token_endpoint_auth_method="client_secret_post", scope="mcp:read",
            identity=provider_signed_with(stranger_private),
        )
        with pytest.raises(AuthError, match="invalid_grant"):
            await _echo(env.mcp_url, forged)
        # And a right assertion with the wrong client secret: Authlib's client auth.
        wrong_secret = IdentityAssertionAuth(
            issuer=env.authorization.issuer, client_id="agent", client_secret="nope",
            token_endpoint_auth_method="client_secret_post", scope="mcp:read",
            identity=provider_signed_with(idp_private),
        )
        with pytest.raises(AuthError, match="invalid_client"):
            await _echo(env.mcp_url, wrong_secret)
        assert len(env.authorization.tokens) == 1
