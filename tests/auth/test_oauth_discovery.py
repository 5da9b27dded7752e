"""Discovery against the local AS and the official SDK resource server: every variant."""

from __future__ import annotations

from typing import Any

import pytest

from mcp_async import AsyncMCPClient, AuthError, BytesResponse, HTTPRequest, Timeout
from mcp_async.auth.discovery import AuthHTTP, discover
from mcp_async.protocol.oauth import Challenge
from tests.auth.as_server import ASOptions, Env, ShimOptions, env_context, headless_oauth

PRM_PATH = "/.well-known/oauth-protected-resource/mcp"
PRM_ROOT = "/.well-known/oauth-protected-resource"


async def call_echo(env: Env, **kwargs: Any) -> Any:
    auth = headless_oauth(env, **kwargs)
    async with AsyncMCPClient(env.rs.url, auth=auth) as client:
        result = await client.call_tool("echo", {"text": "ok"})
        assert result.text == "ok"
    return auth


def rs_paths(env: Env, method: str = "GET") -> list[tuple[str, int]]:
    return [(path, status) for m, path, _, status in env.rs.stats.requests if m == method]


async def fails(env: Env, step: str, **kwargs: Any) -> AuthError:
    auth = headless_oauth(env, **kwargs)
    async with AsyncMCPClient(env.rs.url, auth=auth) as client:
        with pytest.raises(AuthError) as info:
            await client.call_tool("echo", {"text": "ok"})
    assert info.value.step == step, info.value
    return info.value


class TestProtectedResourceMetadata:
    async def test_url_from_the_challenge(self) -> None:
        """The SDK's 401 names the path-based URL; a custom location proves the header is used."""
        async with env_context(shim=ShimOptions(prm="custom")) as env:
            auth = await call_echo(env)
            # The SDK server speaks MCP 2026-07-28: no GET stream follows (the handshake
            # era would add ("/mcp", 200) for it).
            assert rs_paths(env) == [("/meta/prm", 200)]
            assert auth.discovery.prm_url.endswith("/meta/prm")

    async def test_sdk_challenge_and_path_based_document(self) -> None:
        async with env_context() as env:
            await call_echo(env)
            assert rs_paths(env)[0] == (PRM_PATH, 200)
            assert env.rs.statuses()[0] == 401

    async def test_path_based_well_known_without_header(self) -> None:
        async with env_context(shim=ShimOptions(challenge_metadata=False)) as env:
            auth = await call_echo(env)
            assert rs_paths(env)[0] == (PRM_PATH, 200)
            assert auth.discovery.prm_url == env.rs.origin + PRM_PATH

    async def test_root_well_known_last(self) -> None:
        async with env_context(shim=ShimOptions(challenge_metadata=False, prm="root")) as env:
            await call_echo(env)
            assert rs_paths(env)[:2] == [(PRM_PATH, 404), (PRM_ROOT, 200)]

    async def test_missing_header_document_falls_back_in_order(self) -> None:
        shim = ShimOptions(prm="root")
        async with env_context(shim=shim) as env:
            shim.challenge_metadata = env.rs.origin + "/nothing-here"
            await call_echo(env)
            assert rs_paths(env)[:3] == [
                ("/nothing-here", 404),
                (PRM_PATH, 404),
                (PRM_ROOT, 200),
            ]

    async def test_server_error_is_not_absence(self) -> None:
        async with env_context(shim=ShimOptions(prm_status=503)) as env:
            error = await fails(env, "discovery")
            assert error.status == 503
            assert "protected resource metadata" in str(error) and "HTTP 503" in str(error)
            assert env.authorization.metadata_hits == []

    async def test_resource_mismatch_aborts(self) -> None:
        shim = ShimOptions(prm="root", challenge_metadata=False)
        async with env_context(shim=shim) as env:
            shim.prm_override = {"resource": "http://127.0.0.1:1/mcp"}
            error = await fails(env, "discovery")
            assert "not for" in str(error)
            assert env.authorization.log == []

    async def test_plain_http_authorization_server_refused(self) -> None:
        shim = ShimOptions(prm="root", challenge_metadata=False)
        async with env_context(shim=shim) as env:
            shim.prm_override = {"authorization_servers": ["http://auth.example.com"]}
            error = await fails(env, "discovery")
            assert "plain HTTP" in str(error)

    async def test_pinned_issuer_must_be_listed(self) -> None:
        async with env_context() as env:
            error = await fails(env, "discovery", issuer="https://other.example.com")
            assert "configured issuer" in str(error)
            assert env.authorization.metadata_hits == []

    async def test_first_listed_server_is_used(self) -> None:
        shim = ShimOptions(prm="root", challenge_metadata=False)
        async with env_context(shim=shim) as env:
            shim.prm_override = {
                "authorization_servers": [env.authorization.issuer, "https://second.example.com"]
            }
            auth = await call_echo(env)
            assert auth.discovery.issuer == env.authorization.issuer


class TestAuthorizationServerMetadata:
    @pytest.mark.parametrize(
        ("kind", "expected_hits"),
        [
            ("oauth", ["/.well-known/oauth-authorization-server/tenant1"]),
            (
                "oidc-insert",
                [
                    "/.well-known/oauth-authorization-server/tenant1",
                    "/.well-known/openid-configuration/tenant1",
                ],
            ),
            (
                "oidc-append",
                [
                    "/.well-known/oauth-authorization-server/tenant1",
                    "/.well-known/openid-configuration/tenant1",
                    "/tenant1/.well-known/openid-configuration",
                ],
            ),
        ],
    )
    async def test_issuer_with_path(self, kind: str, expected_hits: list[str]) -> None:
        options = ASOptions(issuer_path="/tenant1", metadata=frozenset({kind}))
        async with env_context(options) as env:
            auth = await call_echo(env)
            assert env.authorization.metadata_hits == expected_hits
            assert auth.discovery.issuer.endswith("/tenant1")
            assert env.authorization.requests_to("authorize")

    @pytest.mark.parametrize(
        ("kind", "expected_hits"),
        [
            ("oauth", ["/.well-known/oauth-authorization-server"]),
            (
                "oidc-insert",
                [
                    "/.well-known/oauth-authorization-server",
                    "/.well-known/openid-configuration",
                ],
            ),
        ],
    )
    async def test_root_issuer(self, kind: str, expected_hits: list[str]) -> None:
        async with env_context(ASOptions(metadata=frozenset({kind}))) as env:
            await call_echo(env)
            assert env.authorization.metadata_hits == expected_hits

    async def test_no_document_anywhere(self) -> None:
        async with env_context(ASOptions(issuer_path="/t", metadata=frozenset())) as env:
            error = await fails(env, "discovery")
            assert "no authorization server metadata" in str(error)
            assert len(env.authorization.metadata_hits) == 3

    async def test_server_error_stops(self) -> None:
        async with env_context(ASOptions(metadata=frozenset({"oidc-insert"}))) as env:
            env.authorization.fail_next("metadata", 500)
            error = await fails(env, "discovery")
            assert error.status == 500
            assert "authorization server metadata" in str(error) and "HTTP 500" in str(error)
            assert len(env.authorization.metadata_hits) == 1

    async def test_issuer_mismatch_aborts(self) -> None:
        options = ASOptions(metadata_issuer="http://127.0.0.1:1/impostor")
        async with env_context(options) as env:
            error = await fails(env, "discovery")
            assert "impostor" in str(error)
            assert env.authorization.log == []

    async def test_plain_http_endpoint_in_metadata_refused(self) -> None:
        options = ASOptions(metadata_extra={"token_endpoint": "http://10.9.8.7/token"})
        async with env_context(options) as env:
            error = await fails(env, "discovery")
            assert "plain HTTP" in str(error)


class TestLegacy20250326:
    """No resource metadata: the AS lives at the MCP server's origin."""

    async def test_metadata_at_the_server_origin(self) -> None:
        shim = ShimOptions(prm="none", challenge_metadata=False, proxy_as=True)
        async with env_context(shim=shim) as env:
            env.authorization.options.public_base = env.rs.origin
            auth = await call_echo(env)
            assert auth.discovery.issuer == env.rs.origin
            assert not auth.discovery.metadata.legacy_defaults
            assert [p for p, _ in rs_paths(env)[:3]] == [
                PRM_PATH,
                PRM_ROOT,
                "/.well-known/oauth-authorization-server",
            ]
            authorize = env.authorization.requests_to("authorize")[0]
            assert authorize["resource"] == env.rs.url

    async def test_default_endpoints_without_metadata(self) -> None:
        shim = ShimOptions(
            prm="none", challenge_metadata=False, proxy_as=True, proxy_metadata=False
        )
        async with env_context(shim=shim) as env:
            env.authorization.options.public_base = env.rs.origin
            auth = await call_echo(env)
            assert auth.discovery.metadata.legacy_defaults
            assert env.browser.visits[0].startswith(env.rs.origin + "/authorize?")
            posted = [p for m, p, _, _ in env.rs.stats.requests if m == "POST"]
            assert "/register" in posted and "/token" in posted
            assert len(env.authorization.registrations) == 1


def _fake_send(routes: dict[str, tuple[int, Any]], seen: list[HTTPRequest]) -> Any:
    import json

    async def send(request: HTTPRequest) -> BytesResponse:
        seen.append(request)
        status, body = routes.get(request.url, (404, {"error": "not_found"}))
        return BytesResponse(status, json.dumps(body).encode(), url=request.url)

    return send


async def test_protocol_version_header_and_resource_rule() -> None:
    """Metadata requests carry MCP-Protocol-Version; 2025-03-26 servers get no resource."""
    seen: list[HTTPRequest] = []
    http = AuthHTTP(_fake_send({}, seen), timeout=Timeout(total=5))
    result = await discover(http, "https://mcp.example.com/mcp", protocol_version="2025-03-26")
    assert result.metadata.legacy_defaults and not result.send_resource
    assert [r.headers["MCP-Protocol-Version"] for r in seen] == ["2025-03-26"] * 3
    newer = await discover(http, "https://mcp.example.com/mcp", protocol_version="2025-06-18")
    assert newer.send_resource


async def test_header_url_elsewhere_must_be_safe() -> None:
    seen: list[HTTPRequest] = []
    http = AuthHTTP(_fake_send({}, seen), timeout=Timeout(total=5))
    challenge = Challenge("Bearer", {"resource_metadata": "http://meta.example.com/prm"})
    with pytest.raises(AuthError) as info:
        await discover(http, "https://mcp.example.com/mcp", challenge)
    assert info.value.step == "discovery" and seen == []


async def test_plain_http_server_is_not_its_own_plain_http_as() -> None:
    """A plain-HTTP MCP server may serve its metadata, but its origin is no acceptable AS."""
    seen: list[HTTPRequest] = []
    http = AuthHTTP(_fake_send({}, seen), timeout=Timeout(total=5))
    with pytest.raises(AuthError) as info:
        await discover(http, "http://mcp.internal.example/mcp")
    assert "plain HTTP" in str(info.value)
    assert [r.url for r in seen] == [
        "http://mcp.internal.example/.well-known/oauth-protected-resource/mcp",
        "http://mcp.internal.example/.well-known/oauth-protected-resource",
    ]
