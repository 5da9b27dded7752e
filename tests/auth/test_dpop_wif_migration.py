"""DPoP-bound tokens, workload identity federation and authorization-server migration,
end to end through AsyncMCPClient against strict local servers (tests/auth/dpop_servers.py).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import jwt
import pytest

from mcp_async import AsyncMCPClient, AuthError, ConfigError, MCPClientError
from mcp_async.auth import DPoPKey, OAuth, WorkloadIdentity
from mcp_async.auth.callback import FunctionCallbackHandler
from tests.auth.as_server import REDIRECT_URI, Browser
from tests.auth.dpop_servers import JWT_BEARER, ASConfig, AuthServer, ResourceServer

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


@asynccontextmanager
async def servers(
    *configs: ASConfig, **rs_options: Any
) -> AsyncIterator[tuple[list[AuthServer], ResourceServer]]:
    authorities = [await AuthServer(config).start() for config in configs]
    rs = await ResourceServer(authorities, **rs_options).start()
    try:
        yield authorities, rs
    finally:
        await rs.close()
        for authority in authorities:
            await authority.close()


def headless(**kwargs: Any) -> OAuth:
    browser = Browser(follow=False)
    return OAuth(
        redirect_handler=browser,
        callback_handler=FunctionCallbackHandler(browser.callback, redirect_uri=REDIRECT_URI),
        **kwargs,
    )


async def echo_three_times(rs: ResourceServer, auth: Any) -> None:
    async with AsyncMCPClient(rs.url, auth=auth, protocol="2025-11-25") as client:
        for text in ("a", "b", "c"):
            assert (await client.call_tool("echo", {"text": text})).text == text


def workload_token(audience: str, *, expires_in: float = 300.0, subject: str = "wl") -> str:
    now = time.time()
    return jwt.encode(
        {"iss": "https://idp.example", "sub": subject, "aud": audience,
         "iat": int(now), "exp": int(now + expires_in)},
        "k" * 32,
        algorithm="HS256",
    )


# -- DPoP ------------------------------------------------------------------------------------
class TestDPoP:
    async def test_every_request_carries_a_fresh_proof_and_the_dpop_scheme(self) -> None:
        async with servers(ASConfig(dpop=True), dpop=True) as ([authority], rs):
            auth = headless(dpop=True)
            await echo_three_times(rs, auth)
            # The token request carried a valid proof (no ath), so the token is key-bound.
            assert authority.proofs.errors == [] and len(authority.proofs.jtis) == 1
            assert list(authority.tokens.values()) == [auth.dpop_key.thumbprint()]  # type: ignore[union-attr]
            # initialize, initialized, tools/list (catalogue), three calls at least.
            assert rs.proofs.errors == []
            assert rs.accepted >= 5
            assert set(rs.schemes) == {"DPoP"}
            assert len(set(rs.proofs.jtis)) == len(rs.proofs.jtis) == rs.accepted

    async def test_nonces_of_both_servers_are_honoured_with_one_retry_each(self) -> None:
        async with servers(
            ASConfig(dpop=True, require_nonce=True), dpop=True, require_nonce=True
        ) as ([authority], rs):
            await echo_three_times(rs, headless(dpop=True))
            assert authority.nonce_challenges == 1
            assert authority.proofs.claims[-1]["nonce"] == AuthServer.NONCE
            # The resource server challenged once; every later proof carried its nonce.
            assert rs.nonce_challenges == 1
            assert all(c.get("nonce") == ResourceServer.RS_NONCE for c in rs.proofs.claims[1:])

    async def test_a_server_that_always_wants_a_new_nonce_gets_one_retry_not_a_loop(
        self,
    ) -> None:
        async with servers(ASConfig(dpop=True), dpop=True, always_new_nonce=True) as (_, rs):
            async with AsyncMCPClient(
                rs.url, auth=headless(dpop=True), protocol="2025-11-25"
            ) as client:
                with pytest.raises(MCPClientError):
                    await client.call_tool("echo", {"text": "x"})
            # The first authenticated request and its single nonce retry, nothing more.
            assert rs.nonce_challenges == 2

    async def test_an_authorization_server_without_our_algorithm_is_refused(self) -> None:
        async with servers(ASConfig(dpop=True, dpop_algs=["RS256"]), dpop=True) as (
            [authority], rs,
        ):
            with pytest.raises(AuthError, match="RS256") as info:
                await echo_three_times(rs, headless(dpop=True))
            assert info.value.step == "token"
            assert authority.token_requests == []

    async def test_a_dpop_token_without_dpop_enabled_is_refused(self) -> None:
        async with servers(ASConfig(token_type="DPoP")) as (_, rs):
            with pytest.raises(AuthError, match="dpop=True"):
                await echo_three_times(rs, headless())

    async def test_a_bearer_token_from_a_server_ignoring_dpop_is_used_as_bearer(self) -> None:
        # RFC 9449 §5: a server that does not do DPoP ignores the header and issues Bearer.
        async with servers(ASConfig(dpop=False)) as (_, rs):
            await echo_three_times(rs, headless(dpop=True))
            assert set(rs.schemes) == {"Bearer"}

    def test_key_options(self) -> None:
        key = DPoPKey.generate()
        assert key.algorithm == "ES256"
        assert "PRIVATE" not in repr(key) and key.thumbprint() in repr(key)
        assert DPoPKey.generate("EdDSA").public_jwk["kty"] == "OKP"
        with pytest.raises(ConfigError, match="HS256"):
            DPoPKey.generate("HS256")
        with pytest.raises(ConfigError, match="HS256"):
            DPoPKey(b"secret", "HS256")
        with pytest.raises(ConfigError, match="dpop must be"):
            OAuth(dpop="yes")  # type: ignore[arg-type]

    def test_proof_claims(self) -> None:
        key = DPoPKey.generate(clock=lambda: 1_700_000_000.0)
        proof = key.proof("post", "https://mcp.example/mcp?x=1#f", access_token="tok", nonce="n")
        header = jwt.get_unverified_header(proof)
        assert header["typ"] == "dpop+jwt" and "d" not in header["jwk"]
        claims = jwt.decode(proof, options={"verify_signature": False})
        assert claims["htm"] == "POST"
        assert claims["htu"] == "https://mcp.example/mcp"
        assert claims["iat"] == 1_700_000_000
        assert claims["nonce"] == "n"
        assert claims["ath"] == "GnZ0607njffhrEOak8P6jjyUV4TU3sn9jjARc4svHWI"
        assert key.proof("GET", "https://a/") != key.proof("GET", "https://a/")


# -- workload identity ---------------------------------------------------------------------------
class TestWorkloadIdentity:
    async def test_the_identity_token_is_exchanged_as_a_public_client(
        self, tmp_path: Path
    ) -> None:
        async with servers(ASConfig(grant="jwt-bearer")) as ([authority], rs):
            token_file = tmp_path / "token"
            token_file.write_text(workload_token(authority.issuer) + "\n")
            await echo_three_times(rs, WorkloadIdentity("agent-1", token_file=token_file))
            [request] = authority.token_requests
            assert request["grant_type"] == JWT_BEARER
            assert request["assertion"] == token_file.read_text().strip()
            assert request["client_id"] == "agent-1"
            assert "client_secret" not in request and authority.registrations == []

    async def test_the_token_is_read_again_for_every_grant(self, tmp_path: Path) -> None:
        async with servers(ASConfig(grant="jwt-bearer")) as ([authority], rs):
            issued: list[str] = []

            def source() -> str:
                issued.append(workload_token(authority.issuer, subject=f"s{len(issued)}"))
                return issued[-1]

            auth = WorkloadIdentity("agent-1", token=source)
            await echo_three_times(rs, auth)
            authority.tokens.clear()  # the AS forgets its tokens: the next call needs a grant
            await echo_three_times(rs, auth)
            assert [r["assertion"] for r in authority.token_requests] == issued
            assert len(issued) == 2

    async def test_an_expired_identity_token_is_never_sent(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        async with servers(ASConfig(grant="jwt-bearer")) as ([authority], rs):
            monkeypatch.setenv("WL_TOKEN", workload_token(authority.issuer, expires_in=-60))
            with pytest.raises(AuthError, match="expired") as info:
                await echo_three_times(rs, WorkloadIdentity("agent-1", token_env="WL_TOKEN"))
            assert info.value.step == "token"
            assert authority.token_requests == []

    @pytest.mark.parametrize("error", ["invalid_grant", "invalid_scope", "unauthorized_client"])
    async def test_a_refusal_is_raised_without_retrying_or_another_grant(
        self, error: str
    ) -> None:
        async with servers(ASConfig(grant="jwt-bearer", refuse_jwt_bearer=error)) as (
            [authority], rs,
        ):
            auth = WorkloadIdentity("agent-1", token=lambda: workload_token(authority.issuer))
            with pytest.raises(AuthError, match=error):
                await echo_three_times(rs, auth)
            assert [r["grant_type"] for r in authority.token_requests] == [JWT_BEARER]

    async def test_missing_or_unreadable_sources_are_typed(self, tmp_path: Path) -> None:
        with pytest.raises(ConfigError, match="exactly one"):
            WorkloadIdentity("a")
        with pytest.raises(ConfigError, match="exactly one"):
            WorkloadIdentity("a", token_env="X", token=lambda: "t")
        with pytest.raises(AuthError, match="cannot read"):
            await WorkloadIdentity("a", token_file=tmp_path / "absent").identity_token()
        (tmp_path / "bad").write_text("not-a-jwt")
        with pytest.raises(AuthError, match="not a JWT"):
            await WorkloadIdentity("a", token_file=tmp_path / "bad").identity_token()
        assert "token=<function>" in repr(WorkloadIdentity("a", token=lambda: "t"))

    async def test_dpop_with_workload_identity(self) -> None:
        async with servers(ASConfig(grant="jwt-bearer", dpop=True), dpop=True) as (
            [authority], rs,
        ):
            auth = WorkloadIdentity(
                "agent-1", token=lambda: workload_token(authority.issuer), dpop=True
            )
            await echo_three_times(rs, auth)
            assert set(rs.schemes) == {"DPoP"} and rs.proofs.errors == []


# -- authorization server migration (SEP-2352) ---------------------------------------------------
class TestAuthorizationServerMigration:
    async def test_a_moved_server_gets_a_new_registration_and_no_old_credentials(self) -> None:
        async with servers(
            ASConfig(client_prefix="as1"), ASConfig(client_prefix="as2")
        ) as ([as1, as2], rs):
            rs.move_after_first_success = True
            await echo_three_times(rs, headless())
            assert len(as1.registrations) == 1 and len(as2.registrations) == 1
            assert as2.client_ids_seen and all(c.startswith("as2-") for c in as2.client_ids_seen)
            assert rs.current == 1

    async def test_a_pre_registered_client_is_not_taken_to_another_server(self) -> None:
        async with servers(
            ASConfig(client_prefix="as1"), ASConfig(client_prefix="as2")
        ) as ([as1, as2], rs):
            rs.move_after_first_success = True
            with pytest.raises(AuthError, match="not portable") as info:
                await echo_three_times(rs, headless(client_id="as1-fixed"))
            assert info.value.step == "registration"
            assert as2.client_ids_seen == [] and as2.token_requests == []
            assert as1.client_ids_seen
