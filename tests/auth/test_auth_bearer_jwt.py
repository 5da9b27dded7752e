"""BearerAuth and JWTAuth against a real loopback resource server that checks every token."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

from mcp_async import AsyncMCPClient, AuthError, ConfigError
from mcp_async.auth.bearer import BearerAuth
from mcp_async.auth.jwt import SUPPORTED_ALGORITHMS, JWTAuth

ISSUER = "mcp-async-tests"
AUDIENCE = "https://mcp.example/mcp"
HMAC_SECRET = "s3cret-" + "x" * 57  # 64 bytes: long enough for HS512


# -- keys -----------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyPair:
    private: Any  # what the client signs with (PEM text, PEM bytes, key object or secret)
    public: Any  # what the server verifies with


def _pem(key: Any) -> bytes:
    return key.private_bytes(  # type: ignore[no-any-return]
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _public_pem(key: Any) -> bytes:
    return key.public_key().public_bytes(  # type: ignore[no-any-return]
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def keys(rsa_key: rsa.RSAPrivateKey) -> dict[str, KeyPair]:
    p256 = ec.generate_private_key(ec.SECP256R1())
    p384 = ec.generate_private_key(ec.SECP384R1())
    p521 = ec.generate_private_key(ec.SECP521R1())
    ed = ed25519.Ed25519PrivateKey.generate()
    ed4 = ed448.Ed448PrivateKey.generate()
    return {
        "HS256": KeyPair(HMAC_SECRET, HMAC_SECRET),
        "HS512": KeyPair(HMAC_SECRET.encode(), HMAC_SECRET.encode()),
        "RS256": KeyPair(_pem(rsa_key).decode(), rsa_key.public_key()),
        "PS384": KeyPair(_pem(rsa_key), rsa_key.public_key()),
        "ES256": KeyPair(_pem(p256).decode(), p256.public_key()),
        "ES384": KeyPair(p384, p384.public_key()),
        "ES512": KeyPair(p521, p521.public_key()),
        "EdDSA": KeyPair(_pem(ed).decode(), ed.public_key()),
        "EdDSA-448": KeyPair(ed4, ed4.public_key()),
    }


# -- the resource server ----------------------------------------------------------------


@dataclass
class ResourceServer:
    """Verifies the bearer token of every request; records what it saw."""

    server: TestServer
    verify: Callable[[str], dict[str, Any]]
    tokens: list[str] = field(default_factory=list)
    claims: list[dict[str, Any]] = field(default_factory=list)
    refuse_next: int = 0
    revoked: set[str] = field(default_factory=set)

    @property
    def url(self) -> str:
        return str(self.server.make_url("/mcp"))

    async def handle(self, request: web.Request) -> web.Response:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        self.tokens.append(token)
        refuse = web.json_response(
            {"error": "invalid_token"},
            status=401,
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
        if scheme != "Bearer" or not token:
            return refuse
        try:
            claims = self.verify(token)
        except jwt.InvalidTokenError:
            return refuse
        jti = str(claims.get("jti", token))
        if self.refuse_next > 0 or jti in self.revoked:
            self.refuse_next = max(0, self.refuse_next - 1)
            return refuse
        self.claims.append(claims)
        return web.json_response({"ok": True, "sub": claims.get("sub"), "jti": claims.get("jti")})


StartServer = Callable[[Callable[[str], dict[str, Any]]], Awaitable[ResourceServer]]


@pytest.fixture
async def start_server() -> AsyncIterator[StartServer]:
    servers: list[TestServer] = []

    async def start(verify: Callable[[str], dict[str, Any]]) -> ResourceServer:
        app = web.Application()
        holder: list[ResourceServer] = []

        async def handler(request: web.Request) -> web.Response:
            return await holder[0].handle(request)

        app.router.add_post("/mcp/{tail:.*}", handler)
        server = TestServer(app, host="127.0.0.1", port=0)
        await server.start_server()
        servers.append(server)
        holder.append(ResourceServer(server, verify))
        return holder[0]

    yield start
    for server in servers:
        await server.close()


def jwt_verifier(
    algorithm: str, public: Any, *, check_time: bool = True
) -> Callable[[str], dict[str, Any]]:
    def verify(token: str) -> dict[str, Any]:
        return jwt.decode(
            token,
            public,
            algorithms=[algorithm],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={
                "require": ["exp", "iat", "nbf", "iss", "aud", "jti"],
                "verify_exp": check_time,
                "verify_iat": check_time,
                "verify_nbf": check_time,
            },
        )

    return verify


def static_verifier(valid: set[str]) -> Callable[[str], dict[str, Any]]:
    def verify(token: str) -> dict[str, Any]:
        if token not in valid:
            raise jwt.InvalidTokenError("unknown token")
        return {"sub": token}

    return verify


class FakeClock:
    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


def jwt_auth(keys: dict[str, KeyPair], algorithm: str = "HS256", **kwargs: Any) -> JWTAuth:
    kwargs.setdefault("issuer", ISSUER)
    kwargs.setdefault("audience", AUDIENCE)
    return JWTAuth(keys[algorithm].private, algorithm=algorithm.split("-")[0], **kwargs)


# -- JWTAuth: every algorithm family against a verifying server --------------------------


@pytest.mark.parametrize(
    "algorithm",
    ["HS256", "HS512", "RS256", "PS384", "ES256", "ES384", "ES512", "EdDSA", "EdDSA-448"],
)
async def test_each_algorithm_family_is_accepted_by_a_verifying_server(
    start_server: StartServer, keys: dict[str, KeyPair], algorithm: str
) -> None:
    pair = keys[algorithm]
    server = await start_server(jwt_verifier(algorithm.split("-")[0], pair.public))
    auth = jwt_auth(keys, algorithm, subject="agent-7", ttl=120, headers={"kid": "k1"})
    before = time.time()
    async with AsyncMCPClient(server.url, auth=auth) as client:
        reply = await client.send_request("whoami", {"q": 1})
    assert reply["ok"] is True and reply["sub"] == "agent-7"
    (claims,) = server.claims
    assert claims["iss"] == ISSUER and claims["aud"] == AUDIENCE
    assert claims["exp"] - claims["iat"] in (120, 121)
    assert before - 1 <= claims["iat"] <= time.time()
    assert claims["nbf"] == claims["iat"]
    assert len(claims["jti"]) >= 16
    header = jwt.get_unverified_header(server.tokens[0])
    assert header["alg"] == algorithm.split("-")[0] and header["kid"] == "k1"


async def test_server_with_another_key_refuses_and_client_gets_auth_error(
    start_server: StartServer, keys: dict[str, KeyPair], rsa_key: rsa.RSAPrivateKey
) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    server = await start_server(jwt_verifier("RS256", other.public_key()))
    async with AsyncMCPClient(server.url, auth=jwt_auth(keys, "RS256")) as client:
        with pytest.raises(AuthError) as info:
            await client.send_request("whoami", {})
    assert info.value.status == 401
    assert 'error="invalid_token"' in (info.value.www_authenticate or "")
    # One re-signed retry, then the refusal is reported.
    assert len(server.tokens) == 2
    assert server.tokens[0] != server.tokens[1]


async def test_wrong_audience_or_issuer_is_refused_by_the_server(
    start_server: StartServer, keys: dict[str, KeyPair]
) -> None:
    server = await start_server(jwt_verifier("HS256", HMAC_SECRET))
    for auth in (jwt_auth(keys, audience="https://elsewhere"), jwt_auth(keys, issuer="mallory")):
        async with AsyncMCPClient(server.url, auth=auth) as client:
            with pytest.raises(AuthError):
                await client.send_request("whoami", {})
    assert server.claims == []


async def test_expired_token_is_refused_by_the_server(
    start_server: StartServer, keys: dict[str, KeyPair]
) -> None:
    server = await start_server(jwt_verifier("HS256", HMAC_SECRET))
    past = FakeClock(time.time() - 3600)
    async with AsyncMCPClient(server.url, auth=jwt_auth(keys, clock=past)) as client:
        with pytest.raises(AuthError):
            await client.send_request("whoami", {})
    assert server.claims == []


# -- caching and re-signing -------------------------------------------------------------


async def test_token_is_cached_until_the_refresh_margin_then_re_signed(
    start_server: StartServer, keys: dict[str, KeyPair]
) -> None:
    server = await start_server(jwt_verifier("ES256", keys["ES256"].public, check_time=False))
    clock = FakeClock(1_000_000.0)
    auth = jwt_auth(keys, "ES256", ttl=300, refresh_margin=30, clock=clock)
    async with AsyncMCPClient(server.url, auth=auth) as client:
        await client.send_request("a", {})
        clock.now += 200
        await client.send_request("b", {})
        clock.now += 69.5  # 269.5 s: still before exp - margin
        await client.send_request("c", {})
        clock.now += 0.5  # 270 s: exp - margin reached
        await client.send_request("d", {})
        clock.now += 10
        await client.send_request("e", {})
    first, second = server.claims[0], server.claims[3]
    assert [c["jti"] for c in server.claims] == [first["jti"]] * 3 + [second["jti"]] * 2
    assert (first["iat"], first["exp"]) == (1_000_000, 1_000_300)
    assert (second["iat"], second["exp"]) == (1_000_270, 1_000_570)


def test_default_margin_is_capped_at_half_the_ttl(keys: dict[str, KeyPair]) -> None:
    clock = FakeClock(5_000.0)
    auth = jwt_auth(keys, ttl=20, clock=clock)
    first = auth.token()
    clock.now += 9.9
    assert auth.token() == first
    clock.now += 0.1
    assert auth.token() != first


def test_leeway_backdates_iat_and_nbf_but_not_exp(keys: dict[str, KeyPair]) -> None:
    auth = jwt_auth(keys, ttl=60, leeway=30, clock=FakeClock(10_000.7), claims={"tenant": "t1"})
    claims = jwt.decode(
        auth.token(),
        HMAC_SECRET,
        algorithms=["HS256"],
        audience=AUDIENCE,
        options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
    )
    assert (claims["iat"], claims["nbf"], claims["exp"]) == (9_970, 9_970, 10_060)
    assert claims["tenant"] == "t1"


async def test_401_re_signs_once_and_the_new_token_is_cached(
    start_server: StartServer, keys: dict[str, KeyPair]
) -> None:
    server = await start_server(jwt_verifier("EdDSA", keys["EdDSA"].public))
    async with AsyncMCPClient(server.url, auth=jwt_auth(keys, "EdDSA")) as client:
        await client.send_request("a", {})
        server.revoked.add(server.claims[0]["jti"])
        reply = await client.send_request("b", {"payload": [1, 2, 3]})
        await client.send_request("c", {})
    assert reply["ok"] is True
    assert len(server.tokens) == 4  # a, b (refused), b again, c
    assert server.tokens[0] == server.tokens[1] != server.tokens[2] == server.tokens[3]


async def test_concurrent_requests_share_one_token_and_one_re_sign(
    start_server: StartServer, keys: dict[str, KeyPair]
) -> None:
    server = await start_server(jwt_verifier("RS256", keys["RS256"].public))
    async with AsyncMCPClient(server.url, auth=jwt_auth(keys, "RS256")) as client:
        await asyncio.gather(*(client.send_request("x", {"i": i}) for i in range(20)))
        assert len(set(server.tokens)) == 1
        server.revoked.add(server.claims[0]["jti"])
        replies = await asyncio.gather(*(client.send_request("y", {"i": i}) for i in range(20)))
    assert all(r["ok"] for r in replies)
    assert len(set(server.tokens)) == 2  # every refused request reused the one re-signed token


async def test_signing_failure_is_an_auth_error(keys: dict[str, KeyPair]) -> None:
    auth = jwt_auth(keys)

    def broken(*args: object, **kwargs: object) -> str:
        raise RuntimeError("hsm unavailable")

    auth._encode = broken
    with pytest.raises(AuthError) as info:
        auth.token()
    assert info.value.step == "jwt"
    assert isinstance(info.value.__cause__, RuntimeError)


# -- configuration errors ------------------------------------------------------------------


def test_alg_none_and_unknown_algorithms_are_refused() -> None:
    for algorithm in ("none", "None", "NONE"):
        with pytest.raises(ConfigError, match="refused"):
            JWTAuth("", algorithm=algorithm)
    for algorithm in ("HS999", "hs256", "ES521", "", "RSA-OAEP"):
        with pytest.raises(ConfigError, match="unknown JWT algorithm"):
            JWTAuth(HMAC_SECRET, algorithm=algorithm)
    assert "none" not in SUPPORTED_ALGORITHMS


def test_key_of_the_wrong_kind_is_refused_naming_the_problem(
    keys: dict[str, KeyPair], rsa_key: rsa.RSAPrivateKey
) -> None:
    p256 = keys["ES256"].private
    cases: list[tuple[Any, str, str]] = [
        ("", "HS256", "secret is empty"),
        (b"", "HS384", "secret is empty"),
        ("short", "HS256", "too short"),
        ("x" * 40, "HS384", "too short"),
        (_pem(rsa_key), "HS256", "asymmetric key"),
        (rsa_key, "HS256", "got RSAPrivateKey"),
        (HMAC_SECRET, "RS256", "not a PEM-encoded private key"),
        (_pem(rsa_key), "ES256", "the PEM holds RSAPrivateKey"),
        (_public_pem(rsa_key), "RS256", "public key cannot sign"),
        (rsa_key.public_key(), "PS256", "public key cannot sign"),
        (p256, "RS256", "RSA private key"),
        (p256, "ES384", "the PEM holds ECPrivateKey on curve secp256r1"),
        (keys["ES384"].private, "ES256", "got ECPrivateKey on curve secp384r1"),
        (rsa_key, "EdDSA", "Ed25519 or Ed448"),
        (keys["ES384"].private, "EdDSA", "Ed25519"),
        (rsa.generate_private_key(public_exponent=65537, key_size=1024), "RS256", "too short"),
        (12345, "ES256", "got int"),
    ]
    for key, algorithm, problem in cases:
        with pytest.raises(ConfigError, match=problem) as info:
            JWTAuth(key, algorithm=algorithm)
        assert algorithm in str(info.value)
        assert "PRIVATE KEY-----\nMII" not in str(info.value)


def test_encrypted_pem_is_refused_with_a_hint(rsa_key: rsa.RSAPrivateKey) -> None:
    encrypted = rsa_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"pw"),
    )
    with pytest.raises(ConfigError, match="encrypted: load it"):
        JWTAuth(encrypted, algorithm="RS256")


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"ttl": 0}, "ttl"),
        ({"ttl": -5}, "ttl"),
        ({"ttl": float("inf")}, "ttl"),
        ({"ttl": True}, "ttl"),
        ({"ttl": 60, "refresh_margin": 60}, "refresh_margin"),
        ({"refresh_margin": -1}, "refresh_margin"),
        ({"leeway": -1}, "leeway"),
        ({"clock": 5}, "clock"),
        ({"claims": {"exp": 1}}, "exp"),
        ({"claims": {"jti": "fixed", "iat": 1}}, "iat, jti"),
        ({"claims": {"iss": "x"}, "issuer": "y"}, "'iss'"),
        ({"claims": {"aud": "x"}, "audience": "y"}, "'aud'"),
        ({"claims": {"when": object()}}, "JSON"),
        ({"claims": {1: "x"}}, "string keys"),
        ({"headers": {"alg": "none"}}, "'alg'"),
        ({"audience": ""}, "audience"),
        ({"audience": []}, "audience"),
        ({"audience": ["ok", 3]}, "audience"),
        ({"subject": ""}, "'sub'"),
    ],
)
def test_bad_options_are_config_errors(kwargs: dict[str, Any], problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        JWTAuth(HMAC_SECRET, **kwargs)


def test_audience_list_and_extra_claims(keys: dict[str, KeyPair]) -> None:
    auth = jwt_auth(keys, audience=[AUDIENCE, "https://other"], claims={"scope": "tools"})
    claims = jwt.decode(auth.token(), HMAC_SECRET, algorithms=["HS256"], audience=AUDIENCE)
    assert claims["aud"] == [AUDIENCE, "https://other"]
    assert claims["scope"] == "tools"
    assert auth.claims["aud"] == [AUDIENCE, "https://other"]


# -- secrecy ------------------------------------------------------------------------------


async def test_tokens_and_keys_never_reach_logs_or_repr(
    start_server: StartServer, keys: dict[str, KeyPair], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server = await start_server(jwt_verifier("HS256", HMAC_SECRET))
    auth = jwt_auth(keys)
    bearer = BearerAuth("static-SECRET-token")
    async with AsyncMCPClient(server.url, auth=auth) as client:
        await client.send_request("a", {})
        server.refuse_next = 1
        await client.send_request("b", {})
        server.refuse_next = 2
        with pytest.raises(AuthError) as info:
            await client.send_request("c", {})
    assert any("signed a new HS256 JWT" in r.getMessage() for r in caplog.records)
    shown = caplog.text + repr(auth) + str(auth) + repr(bearer) + str(info.value) + repr(info.value)
    assert len(set(server.tokens)) >= 3
    for token in server.tokens:
        assert token not in shown
    assert HMAC_SECRET not in shown and "static-SECRET-token" not in shown
    assert "HS256" in repr(auth) and ISSUER in repr(auth)


def test_importing_the_package_does_not_import_pyjwt_or_cryptography() -> None:
    code = (
        "import sys, mcp_async, mcp_async.auth, mcp_async.auth.jwt, mcp_async.auth.bearer,"
        " mcp_async.auth.storage;"
        "print([m for m in ('jwt', 'cryptography') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# -- BearerAuth -------------------------------------------------------------------------


async def test_static_bearer_token(start_server: StartServer) -> None:
    server = await start_server(static_verifier({"tok-A"}))
    async with AsyncMCPClient(server.url, auth=BearerAuth("tok-A")) as client:
        assert (await client.send_request("x", {}))["sub"] == "tok-A"
    async with AsyncMCPClient(server.url, auth="tok-A") as client:
        assert (await client.send_request("x", {}))["sub"] == "tok-A"
    async with AsyncMCPClient(server.url, auth=BearerAuth("tok-B")) as client:
        with pytest.raises(AuthError) as info:
            await client.send_request("x", {})
    assert info.value.status == 401
    assert server.tokens == ["tok-A", "tok-A", "tok-B"]  # a static token is not retried


class Vault:
    """A token source that rotates only when asked to."""

    def __init__(self) -> None:
        self.version = 1
        self.calls: list[bool] = []

    def sync(self, force_refresh: bool) -> str:
        self.calls.append(force_refresh)
        if force_refresh:
            self.version += 1
        return f"tok-v{self.version}"

    async def async_(self, force_refresh: bool) -> str:
        await asyncio.sleep(0)
        return self.sync(force_refresh)


@pytest.mark.parametrize("kind", ["sync", "async", "no-arg"])
async def test_provider_is_called_per_request_and_refreshed_on_401(
    start_server: StartServer, kind: str
) -> None:
    vault = Vault()
    server = await start_server(static_verifier({"tok-v2"}))
    provider: Any = {
        "sync": vault.sync,
        "async": vault.async_,
        "no-arg": lambda: vault.sync(len(vault.calls) == 1),
    }[kind]
    async with AsyncMCPClient(server.url, auth=BearerAuth(provider)) as client:
        first = await client.send_request("x", {})
        second = await client.send_request("x", {})
    assert first["sub"] == second["sub"] == "tok-v2"
    assert server.tokens == ["tok-v1", "tok-v2", "tok-v2"]
    if kind != "no-arg":
        assert vault.calls == [False, True, False]


async def test_refresh_returning_the_same_token_is_not_resent(start_server: StartServer) -> None:
    server = await start_server(static_verifier(set()))
    calls: list[bool] = []

    def provider(force_refresh: bool) -> str:
        calls.append(force_refresh)
        return "same"

    async with AsyncMCPClient(server.url, auth=BearerAuth(provider)) as client:
        with pytest.raises(AuthError):
            await client.send_request("x", {})
    assert calls == [False, True]
    assert server.tokens == ["same"]


async def test_concurrent_401s_share_one_forced_refresh(start_server: StartServer) -> None:
    vault = Vault()
    server = await start_server(static_verifier({"tok-v2"}))
    async with AsyncMCPClient(server.url, auth=BearerAuth(vault.async_)) as client:
        replies = await asyncio.gather(*(client.send_request("x", {"i": i}) for i in range(10)))
    assert all(r["sub"] == "tok-v2" for r in replies)
    assert vault.calls.count(True) == 1
    assert vault.version == 2


async def test_provider_errors_are_typed(start_server: StartServer) -> None:
    server = await start_server(static_verifier({"ok"}))

    async def failing(force_refresh: bool) -> str:
        raise OSError("vault unreachable")

    async with AsyncMCPClient(server.url, auth=BearerAuth(failing)) as client:
        with pytest.raises(AuthError, match="vault unreachable") as info:
            await client.send_request("x", {})
    assert info.value.step == "token"
    assert isinstance(info.value.__cause__, OSError)
    assert server.tokens == []  # nothing was sent without a token

    for bad in (5, "", "two words", "line\nbreak", "caf\u00e9"):
        auth = BearerAuth(lambda force, bad=bad: bad)
        with pytest.raises(ConfigError, match="provider"):
            await auth.token()


async def test_refresh_failure_after_401_is_typed(start_server: StartServer) -> None:
    server = await start_server(static_verifier(set()))

    def provider(force_refresh: bool) -> str:
        if force_refresh:
            raise RuntimeError("refresh endpoint down")
        return "stale"

    async with AsyncMCPClient(server.url, auth=BearerAuth(provider)) as client:
        with pytest.raises(AuthError) as info:
            await client.send_request("x", {})
    assert info.value.step == "token"
    assert server.tokens == ["stale"]


def test_bearer_configuration_errors() -> None:
    for bad in ("", "a b", "tok\r\nX-Injected: 1", 42, None):
        with pytest.raises(ConfigError):
            BearerAuth(bad)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="force_refresh"):
        BearerAuth(lambda a, b: "x")  # type: ignore[arg-type,misc,return-value]
    assert repr(BearerAuth("tok-secret")) == "BearerAuth(<redacted static token>)"
    assert "tok-secret" not in repr(BearerAuth(lambda force: "tok-secret"))
