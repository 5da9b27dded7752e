"""Machine-to-machine: client_credentials (secret, private_key_jwt) and enterprise ID-JAG."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from mcp_async import AsyncMCPClient, AuthError, ConfigError
from mcp_async.auth.oauth import ClientCredentials, IdentityAssertionAuth, IdPTokenExchange
from tests.auth.as_server import (
    JWT_BEARER,
    ASOptions,
    AuthorizationServer,
    Client,
    Env,
    ShimOptions,
    env_context,
)


async def call_echo(env: Env, auth: Any) -> None:
    async with AsyncMCPClient(env.rs.url, auth=auth) as client:
        assert (await client.call_tool("echo", {"text": "m2m"})).text == "m2m"


def service(env: Env, method: str = "client_secret_basic", **kwargs: Any) -> Client:
    return env.authorization.add_client(
        Client(
            "svc-1",
            method,
            kwargs.pop("secret", "svc-secret"),
            grant_types=["client_credentials"],
            **kwargs,
        )
    )


def pem(key: Any) -> bytes:
    return key.private_bytes(  # type: ignore[no-any-return]
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


class TestClientSecret:
    @pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
    async def test_secret_methods(self, method: str) -> None:
        async with env_context() as env:
            service(env, method)
            auth = ClientCredentials(
                "svc-1",
                "svc-secret",
                token_endpoint_auth_method=method,
                scope="mcp:read",
                issuer=env.authorization.issuer,
                clock=env.clock,
            )
            await call_echo(env, auth)
            assert env.authorization.client_auth_methods == [method]
            [request] = env.authorization.requests_to("token")
            assert request["grant_type"] == "client_credentials"
            assert request["scope"] == "mcp:read"
            assert request["resource"] == env.rs.url
            assert ("client_secret" in request) is (method == "client_secret_post")

    async def test_wrong_secret(self) -> None:
        async with env_context() as env:
            service(env)
            auth = ClientCredentials("svc-1", "nope", clock=env.clock)
            async with AsyncMCPClient(env.rs.url, auth=auth) as client:
                with pytest.raises(AuthError) as info:
                    await client.call_tool("echo", {"text": "x"})
            assert info.value.step == "token" and info.value.status == 401
            assert "invalid_client" in str(info.value) and "nope" not in str(info.value)

    async def test_secret_never_reaches_an_unexpected_issuer(self) -> None:
        async with env_context() as env:
            service(env)
            auth = ClientCredentials(
                "svc-1", "svc-secret", issuer="https://login.example.com", clock=env.clock
            )
            async with AsyncMCPClient(env.rs.url, auth=auth) as client:
                with pytest.raises(AuthError) as info:
                    await client.call_tool("echo", {"text": "x"})
            assert info.value.step == "discovery"
            assert "does not list the configured issuer https://login.example.com" in str(
                info.value
            )
            assert env.authorization.log == []

    async def test_renewed_silently_before_expiry(self) -> None:
        async with env_context() as env:
            service(env)
            auth = ClientCredentials("svc-1", "svc-secret", clock=env.clock)
            async with AsyncMCPClient(env.rs.url, auth=auth) as client:
                await client.call_tool("echo", {"text": "a"})
                env.clock.advance(3600 + 5)
                await client.call_tool("echo", {"text": "b"})
            assert env.authorization.count_grant("client_credentials") == 2
            assert env.rs.statuses().count(401) == 1

    async def test_scope_from_resource_metadata(self) -> None:
        async with env_context(required_scopes=["mcp:read"]) as env:
            service(env)
            await call_echo(env, ClientCredentials("svc-1", "svc-secret", clock=env.clock))
            assert env.authorization.requests_to("token")[0]["scope"] == "mcp:read"

    async def test_step_up(self) -> None:
        shim = ShimOptions(tool_scopes={"admin_op": "admin"})
        async with env_context(shim=shim) as env:
            service(env)
            auth = ClientCredentials("svc-1", "svc-secret", scope="mcp:read", clock=env.clock)
            async with AsyncMCPClient(env.rs.url, auth=auth) as client:
                assert (await client.call_tool("admin_op")).text == "admin done"
            scopes = [r.get("scope") for r in env.authorization.requests_to("token")]
            assert scopes == ["mcp:read", "mcp:read admin"]

    async def test_server_refusal(self) -> None:
        async with env_context() as env:
            service(env, allowed_scopes={"mcp:read"})
            auth = ClientCredentials("svc-1", "svc-secret", scope="mcp:admin", clock=env.clock)
            async with AsyncMCPClient(env.rs.url, auth=auth) as client:
                with pytest.raises(AuthError) as info:
                    await client.call_tool("echo", {"text": "x"})
            assert info.value.step == "token" and "invalid_scope" in str(info.value)


class TestPrivateKeyJWT:
    @pytest.mark.parametrize(
        ("algorithm", "make_key"),
        [
            ("RS256", lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)),
            ("ES256", lambda: ec.generate_private_key(ec.SECP256R1())),
            ("EdDSA", ed25519.Ed25519PrivateKey.generate),
        ],
    )
    async def test_signed_assertion(self, algorithm: str, make_key: Any) -> None:
        key = make_key()
        async with env_context() as env:
            service(env, "private_key_jwt", secret=None, public_key=key.public_key())
            auth = ClientCredentials(
                "svc-1",
                private_key=pem(key),
                algorithm=algorithm,
                key_id="k1",
                clock=env.clock,
            )
            await call_echo(env, auth)
            [request] = env.authorization.requests_to("token")
            assertion = request["client_assertion"]
            assert request["client_assertion_type"] == (
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
            )
            assert jwt.get_unverified_header(assertion)["kid"] == "k1"
            claims = jwt.decode(assertion, options={"verify_signature": False})
            assert claims["iss"] == claims["sub"] == "svc-1"
            assert claims["aud"] == env.authorization.issuer
            assert claims["exp"] - claims["iat"] == 60
            assert claims["iat"] == int(env.clock())

    async def test_each_assertion_is_fresh(self) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        async with env_context() as env:
            service(env, "private_key_jwt", secret=None, public_key=key.public_key())
            auth = ClientCredentials("svc-1", private_key=key, algorithm="ES256", clock=env.clock)
            async with AsyncMCPClient(env.rs.url, auth=auth) as client:
                await client.call_tool("echo", {"text": "a"})
                env.clock.advance(3601)
                await client.call_tool("echo", {"text": "b"})
            jtis = {
                jwt.decode(r["client_assertion"], options={"verify_signature": False})["jti"]
                for r in env.authorization.requests_to("token")
            }
            assert len(jtis) == 2

    async def test_key_the_server_does_not_know(self) -> None:
        async with env_context() as env:
            registered = ec.generate_private_key(ec.SECP256R1())
            service(env, "private_key_jwt", secret=None, public_key=registered.public_key())
            other = ec.generate_private_key(ec.SECP256R1())
            auth = ClientCredentials("svc-1", private_key=other, algorithm="ES256", clock=env.clock)
            async with AsyncMCPClient(env.rs.url, auth=auth) as client:
                with pytest.raises(AuthError) as info:
                    await client.call_tool("echo", {"text": "x"})
            assert info.value.step == "token" and "invalid_client" in str(info.value)

    @pytest.mark.parametrize("algorithm", ["none", "HS256"])
    def test_refuses_symmetric_or_no_signature(self, algorithm: str) -> None:
        with pytest.raises(ConfigError):
            ClientCredentials("svc", private_key="k" * 32, algorithm=algorithm)

    def test_refuses_an_unusable_key(self) -> None:
        with pytest.raises(ConfigError):
            ClientCredentials("svc", private_key="not a pem key", algorithm="RS256")

    def test_needs_a_secret_or_a_key(self) -> None:
        with pytest.raises(ConfigError):
            ClientCredentials("svc")


class TestIdentityAssertion:
    @pytest.fixture
    async def idp(self) -> AsyncIterator[AuthorizationServer]:
        server = await AuthorizationServer(
            ASOptions(id_jag_client_ids={"agent-idp": "agent"})
        ).start()
        server.add_client(Client("agent-idp", "client_secret_post", "idp-secret", grant_types=[]))
        yield server
        await server.close()

    async def test_token_exchange_then_jwt_bearer(self, idp: AuthorizationServer) -> None:
        async with env_context() as env:
            idp.clock = env.clock
            mcp_as = env.authorization
            mcp_as.options.trusted_idps[idp.issuer] = idp.signing_key.public_key()
            mcp_as.add_client(
                Client("agent", "client_secret_basic", "agent-secret", grant_types=[JWT_BEARER])
            )
            id_token = idp.issue_id_token("alice@example.com")
            auth = IdentityAssertionAuth(
                issuer=mcp_as.issuer,
                client_id="agent",
                client_secret="agent-secret",
                identity=IdPTokenExchange(
                    token_endpoint=idp.origin + "/token",
                    subject_token=lambda: id_token,
                    client_id="agent-idp",
                    client_secret="idp-secret",
                    token_endpoint_auth_method="client_secret_post",
                ),
                scope="mcp:read",
                clock=env.clock,
            )
            await call_echo(env, auth)
            [exchange] = idp.requests_to("token")
            assert exchange["grant_type"] == "urn:ietf:params:oauth:grant-type:token-exchange"
            assert exchange["requested_token_type"] == "urn:ietf:params:oauth:token-type:id-jag"
            assert exchange["audience"] == mcp_as.issuer
            assert exchange["resource"] == env.rs.url
            assert exchange["subject_token"] == id_token
            [grant] = mcp_as.requests_to("token")
            assert grant["grant_type"] == JWT_BEARER
            claims = jwt.decode(grant["assertion"], options={"verify_signature": False})
            assert claims["sub"] == "alice@example.com" and claims["client_id"] == "agent"
            assert mcp_as.client_auth_methods == ["client_secret_basic"]
            assert mcp_as.access_tokens[auth.tokens.access_token].subject == "alice@example.com"

    async def test_assertion_provider(self, idp: AuthorizationServer) -> None:
        async with env_context() as env:
            idp.clock = env.clock
            mcp_as = env.authorization
            mcp_as.options.trusted_idps[idp.issuer] = idp.signing_key.public_key()
            mcp_as.add_client(
                Client("agent", "client_secret_post", "agent-secret", grant_types=[JWT_BEARER])
            )
            seen: list[tuple[str, str, str | None]] = []

            async def provider(audience: str, resource: str, scope: str | None) -> str:
                seen.append((audience, resource, scope))
                now = int(env.clock())
                return jwt.encode(
                    {
                        "iss": idp.issuer,
                        "sub": "bob",
                        "aud": audience,
                        "client_id": "agent",
                        "resource": resource,
                        "jti": f"j{now}",
                        "iat": now,
                        "exp": now + 60,
                    },
                    idp.signing_key,
                    algorithm="RS256",
                    headers={"typ": "oauth-id-jag+jwt"},
                )

            auth = IdentityAssertionAuth(
                issuer=mcp_as.issuer,
                client_id="agent",
                client_secret="agent-secret",
                token_endpoint_auth_method="client_secret_post",
                identity=provider,
                clock=env.clock,
            )
            await call_echo(env, auth)
            assert seen == [(mcp_as.issuer, env.rs.url, None)]

    async def test_unknown_subject_token(self, idp: AuthorizationServer) -> None:
        async with env_context() as env:
            auth = IdentityAssertionAuth(
                issuer=env.authorization.issuer,
                client_id="agent",
                client_secret="s",
                identity=IdPTokenExchange(
                    token_endpoint=idp.origin + "/token",
                    subject_token="forged",
                    client_id="agent-idp",
                    client_secret="idp-secret",
                    token_endpoint_auth_method="client_secret_post",
                ),
                clock=env.clock,
            )
            async with AsyncMCPClient(env.rs.url, auth=auth) as client:
                with pytest.raises(AuthError) as info:
                    await client.call_tool("echo", {"text": "x"})
            assert info.value.step == "authorization" and "invalid_grant" in str(info.value)
            assert env.authorization.requests_to("token") == []

    async def test_authorization_server_is_configuration(self) -> None:
        """The resource server's metadata is never consulted for where to send the ID-JAG."""
        shim = ShimOptions(prm="root", challenge_metadata=False)
        async with env_context(shim=shim) as env:
            shim.prm_override = {"authorization_servers": ["https://evil.example.com"]}
            mcp_as = env.authorization
            mcp_as.options.trusted_idps["https://idp"] = mcp_as.signing_key.public_key()
            mcp_as.add_client(Client("agent", "client_secret_basic", "s", grant_types=[JWT_BEARER]))

            def provider(audience: str, resource: str, scope: str | None) -> str:
                now = int(env.clock())
                return jwt.encode(
                    {
                        "iss": "https://idp",
                        "sub": "carol",
                        "aud": audience,
                        "client_id": "agent",
                        "resource": resource,
                        "jti": "j1",
                        "iat": now,
                        "exp": now + 60,
                    },
                    mcp_as.signing_key,
                    algorithm="RS256",
                    headers={"typ": "oauth-id-jag+jwt"},
                )

            auth = IdentityAssertionAuth(
                issuer=mcp_as.issuer,
                client_id="agent",
                client_secret="s",
                identity=provider,
                clock=env.clock,
            )
            await call_echo(env, auth)
            assert not any(
                "/.well-known/oauth-protected-resource" in p for _, p, _, _ in env.rs.stats.requests
            )

    def test_configuration_checks(self) -> None:
        with pytest.raises(ConfigError):
            IdentityAssertionAuth(
                issuer="http://idp.example.com",
                client_id="a",
                client_secret="s",
                identity=lambda *a: "x",
            )
        with pytest.raises(ConfigError):
            IdPTokenExchange(
                token_endpoint="https://idp/token",
                subject_token="t",
                client_id="c",
                token_endpoint_auth_method="client_secret_basic",
            )
