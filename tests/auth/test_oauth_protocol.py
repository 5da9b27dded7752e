"""Pure OAuth rules: challenge parsing, discovery URL orders, resources, scopes, PKCE."""

from __future__ import annotations

import base64
import hashlib

import pytest

from mcp_async import AuthError, ConfigError
from mcp_async.auth.callback import AuthorizationResponse, FunctionCallbackHandler
from mcp_async.auth.pkce import PKCE, make_state, s256_challenge, state_matches
from mcp_async.protocol.oauth import (
    AuthServerMetadata,
    ProtectedResourceMetadata,
    as_metadata_urls,
    basic_authorization,
    bearer_challenge,
    canonical_resource,
    check_endpoint,
    is_loopback_url,
    issuers_match,
    legacy_metadata,
    legacy_metadata_url,
    parse_www_authenticate,
    prm_urls,
    resource_allowed,
    select_scope,
    union_scopes,
)


class TestWWWAuthenticate:
    def test_mcp_bearer_challenge(self) -> None:
        value = (
            'Bearer error="insufficient_scope", scope="files:read files:write", '
            'resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource"'
        )
        challenge = bearer_challenge(value)
        assert challenge is not None
        assert challenge.error == "insufficient_scope"
        assert challenge.scope == "files:read files:write"
        assert challenge.resource_metadata == (
            "https://mcp.example.com/.well-known/oauth-protected-resource"
        )

    def test_several_challenges_and_token68(self) -> None:
        value = 'Basic realm="a, b", Negotiate abc123==, Bearer realm=x,scope="s1"'
        schemes = [(c.scheme, dict(c.params), c.token68) for c in parse_www_authenticate(value)]
        assert schemes == [
            ("Basic", {"realm": "a, b"}, None),
            ("Negotiate", {}, "abc123=="),
            ("Bearer", {"realm": "x", "scope": "s1"}, None),
        ]

    def test_quoted_pairs_case_and_spacing(self) -> None:
        challenge = bearer_challenge(
            'bearer  ERROR = "invalid_token" , error_description="a \\"q\\""'
        )
        assert challenge is not None
        assert challenge.error == "invalid_token"
        assert challenge.params["error_description"] == 'a "q"'

    @pytest.mark.parametrize("value", [None, "", "Basic realm=x", ",,,", '="broken"'])
    def test_no_bearer_challenge(self, value: str | None) -> None:
        assert bearer_challenge(value) is None

    def test_bare_scheme_and_malformed_tail(self) -> None:
        assert [c.scheme for c in parse_www_authenticate("Bearer")] == ["Bearer"]
        challenge = bearer_challenge('Bearer scope="a   b", ="oops"')
        assert challenge is not None and challenge.scope == "a b"

    def test_first_value_of_a_repeated_parameter_wins(self) -> None:
        challenge = bearer_challenge('Bearer scope="a", scope="b"')
        assert challenge is not None and challenge.scope == "a"


class TestURLs:
    @pytest.mark.parametrize(
        ("server", "header", "expected"),
        [
            (
                "https://mcp.example.com/public/mcp",
                None,
                [
                    "https://mcp.example.com/.well-known/oauth-protected-resource/public/mcp",
                    "https://mcp.example.com/.well-known/oauth-protected-resource",
                ],
            ),
            (
                "https://mcp.example.com/mcp",
                "https://meta.example.com/prm",
                [
                    "https://meta.example.com/prm",
                    "https://mcp.example.com/.well-known/oauth-protected-resource/mcp",
                    "https://mcp.example.com/.well-known/oauth-protected-resource",
                ],
            ),
            (
                "https://mcp.example.com/",
                None,
                ["https://mcp.example.com/.well-known/oauth-protected-resource"],
            ),
        ],
    )
    def test_prm_order(self, server: str, header: str | None, expected: list[str]) -> None:
        assert prm_urls(server, header) == expected

    def test_as_metadata_order_with_path(self) -> None:
        assert as_metadata_urls("https://auth.example.com/tenant1") == [
            "https://auth.example.com/.well-known/oauth-authorization-server/tenant1",
            "https://auth.example.com/.well-known/openid-configuration/tenant1",
            "https://auth.example.com/tenant1/.well-known/openid-configuration",
        ]

    @pytest.mark.parametrize("issuer", ["https://auth.example.com", "https://auth.example.com/"])
    def test_as_metadata_order_root(self, issuer: str) -> None:
        assert as_metadata_urls(issuer) == [
            "https://auth.example.com/.well-known/oauth-authorization-server",
            "https://auth.example.com/.well-known/openid-configuration",
        ]

    def test_legacy_defaults_discard_the_path(self) -> None:
        server = "https://mcp.example.com:8443/v1/mcp"
        assert legacy_metadata_url(server) == (
            "https://mcp.example.com:8443/.well-known/oauth-authorization-server"
        )
        metadata = legacy_metadata(server)
        assert metadata.issuer == "https://mcp.example.com:8443"
        assert metadata.authorization_endpoint == "https://mcp.example.com:8443/authorize"
        assert metadata.token_endpoint == "https://mcp.example.com:8443/token"
        assert metadata.registration_endpoint == "https://mcp.example.com:8443/register"
        assert metadata.supports_s256 and metadata.legacy_defaults

    @pytest.mark.parametrize(
        ("url", "canonical"),
        [
            ("HTTPS://MCP.Example.COM:443/Mcp#frag", "https://mcp.example.com/Mcp"),
            ("https://mcp.example.com/", "https://mcp.example.com"),
            ("https://mcp.example.com", "https://mcp.example.com"),
            ("http://127.0.0.1:8000/mcp/", "http://127.0.0.1:8000/mcp/"),
        ],
    )
    def test_canonical_resource(self, url: str, canonical: str) -> None:
        assert canonical_resource(url) == canonical

    @pytest.mark.parametrize(
        ("advertised", "ok"),
        [
            ("https://mcp.example.com/api/mcp", True),
            ("https://mcp.example.com/api/mcp/", True),
            ("https://mcp.example.com/api", True),
            ("https://mcp.example.com", True),
            ("https://mcp.example.com/ap", False),
            ("https://mcp.example.com/api/mcp/v2", False),
            ("https://evil.example.com/api/mcp", False),
            ("http://mcp.example.com/api/mcp", False),
            ("https://mcp.example.com:8443/api/mcp", False),
            ("not a url", False),
        ],
    )
    def test_resource_allowed(self, advertised: str, ok: bool) -> None:
        assert resource_allowed("https://mcp.example.com/api/mcp", advertised) is ok

    @pytest.mark.parametrize(
        ("a", "b", "match"),
        [
            ("https://as.example.com", "https://as.example.com/", True),
            ("https://as.example.com/t1", "https://as.example.com/t1/", False),
            ("https://as.example.com/t1", "https://as.example.com/t1", True),
            ("https://as.example.com", "https://AS.example.com", False),
        ],
    )
    def test_issuers_match(self, a: str, b: str, match: bool) -> None:
        assert issuers_match(a, b) is match

    @pytest.mark.parametrize(
        "url",
        [
            "https://as.example.com/token",
            "http://127.0.0.1:9000/token",
            "http://localhost/t",
            "http://[::1]:80/token",
            "http://127.5.6.7/token",
        ],
    )
    def test_safe_endpoints(self, url: str) -> None:
        assert check_endpoint(url, "token endpoint", step="discovery") == url

    @pytest.mark.parametrize(
        ("url", "reason"),
        [
            ("http://as.example.com/token", "uses plain HTTP"),
            ("http://10.0.0.1/token", "uses plain HTTP"),
            ("ftp://as.example.com/", "must be an absolute http(s) URL"),
            ("https://as.example.com/token#frag", "must not have a fragment or user info"),
            ("https://user:pw@as.example.com/token", "must not have a fragment or user info"),
            ("/token", "must be an absolute http(s) URL"),
        ],
    )
    def test_unsafe_endpoints(self, url: str, reason: str) -> None:
        with pytest.raises(AuthError) as info:
            check_endpoint(url, "token endpoint", step="discovery")
        assert info.value.step == "discovery"
        assert reason in str(info.value)

    def test_loopback_detection(self) -> None:
        assert is_loopback_url("http://127.0.0.1:1/")
        assert is_loopback_url("http://[::1]/")
        assert not is_loopback_url("http://128.0.0.1/")
        assert not is_loopback_url("http://localhost.evil.com/")


class TestMetadata:
    def test_prm_document(self) -> None:
        prm = ProtectedResourceMetadata.from_dict(
            {
                "resource": "https://m/mcp",
                "authorization_servers": ["https://as"],
                "scopes_supported": ["a", "b"],
            }
        )
        assert prm.authorization_servers == ("https://as",)
        assert prm.scopes_supported == ("a", "b")

    @pytest.mark.parametrize(
        ("doc", "reason"),
        [
            ([], "not a JSON object"),
            ({"authorization_servers": ["https://as"]}, "has no 'resource'"),
            ({"resource": "https://m"}, "lists no 'authorization_servers'"),
            ({"resource": "https://m", "authorization_servers": []},
             "lists no 'authorization_servers'"),
            ({"resource": "https://m", "authorization_servers": "https://as"},
             "'authorization_servers' must be a list of strings"),
            (
                {
                    "resource": "https://m",
                    "authorization_servers": ["https://as"],
                    "scopes_supported": [1],
                },
                "'scopes_supported' must be a list of strings",
            ),
        ],
    )
    def test_bad_prm_documents(self, doc: object, reason: str) -> None:
        with pytest.raises(AuthError) as info:
            ProtectedResourceMetadata.from_dict(doc)
        assert info.value.step == "discovery"
        assert reason in str(info.value)

    def test_as_document(self) -> None:
        metadata = AuthServerMetadata.from_dict(
            {
                "issuer": "https://as",
                "token_endpoint": "https://as/token",
                "authorization_endpoint": "https://as/authorize",
                "code_challenge_methods_supported": ["plain", "S256"],
                "grant_types_supported": ["authorization_code"],
                "client_id_metadata_document_supported": True,
                "authorization_response_iss_parameter_supported": "yes",
            }
        )
        assert metadata.supports_s256
        assert not metadata.supports_refresh
        assert metadata.client_id_metadata_document_supported
        assert not metadata.authorization_response_iss_parameter_supported
        assert dict(metadata.endpoints()) == {
            "token_endpoint": "https://as/token",
            "authorization_endpoint": "https://as/authorize",
        }

    def test_absent_pkce_list_is_not_s256(self) -> None:
        metadata = AuthServerMetadata.from_dict(
            {"issuer": "https://as", "token_endpoint": "https://as/t"}
        )
        assert not metadata.supports_s256
        assert metadata.supports_refresh

    @pytest.mark.parametrize(
        ("doc", "reason"),
        [
            ({"token_endpoint": "https://as/t"}, "has no 'issuer'"),
            ({"issuer": "https://as"}, "has no 'token_endpoint'"),
            ({"issuer": "https://as", "token_endpoint": 5}, "'token_endpoint' must be a URL"),
            ("x", "not a JSON object"),
        ],
    )
    def test_bad_as_documents(self, doc: object, reason: str) -> None:
        with pytest.raises(AuthError) as info:
            AuthServerMetadata.from_dict(doc)
        assert info.value.step == "discovery"
        assert reason in str(info.value)


class TestScopes:
    prm = ProtectedResourceMetadata("https://m", ("https://as",), ("read", "write"))
    bare_prm = ProtectedResourceMetadata("https://m", ("https://as",))
    offline_as = AuthServerMetadata(
        "https://as", "https://as/t", scopes_supported=("read", "offline_access")
    )
    plain_as = AuthServerMetadata("https://as", "https://as/t", scopes_supported=("read",))

    def test_challenge_scope_wins(self) -> None:
        assert select_scope("admin", self.prm) == "admin"

    def test_then_prm_scopes_supported(self) -> None:
        assert select_scope(None, self.prm) == "read write"

    def test_else_omitted(self) -> None:
        assert select_scope(None, self.bare_prm) is None
        assert select_scope(None, None) is None

    def test_offline_access_only_when_advertised(self) -> None:
        assert select_scope("read", self.prm, self.offline_as, offline_access=True) == (
            "read offline_access"
        )
        assert select_scope("read", self.prm, self.plain_as, offline_access=True) == "read"
        assert select_scope("read", self.prm, self.offline_as, offline_access=False) == "read"
        no_refresh = AuthServerMetadata(
            "https://as",
            "https://as/t",
            scopes_supported=("offline_access",),
            grant_types_supported=("authorization_code",),
        )
        assert select_scope("read", None, no_refresh, offline_access=True) == "read"

    def test_union(self) -> None:
        assert union_scopes("a b", None, "b c", "") == "a b c"
        assert union_scopes(None, "") is None


class TestClientPieces:
    def test_basic_authorization_form_encodes(self) -> None:
        header = basic_authorization("id:1", "s3cr+t/ü")
        decoded = base64.b64decode(header.removeprefix("Basic ")).decode()
        assert decoded == "id%3A1:s3cr%2Bt%2F%C3%BC"

    def test_pkce_s256(self) -> None:
        pkce = PKCE.generate()
        assert len(pkce.verifier) == 64
        digest = hashlib.sha256(pkce.verifier.encode()).digest()
        assert pkce.challenge == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        assert "verifier=<redacted>" in repr(pkce) and pkce.verifier not in repr(pkce)
        # RFC 7636 appendix B example
        assert s256_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == (
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        )

    def test_pkce_bounds(self) -> None:
        with pytest.raises(ConfigError):
            PKCE.generate(42)
        with pytest.raises(ConfigError):
            PKCE.from_verifier("short")
        assert PKCE.from_verifier("a" * 43).challenge == s256_challenge("a" * 43)

    def test_state(self) -> None:
        state = make_state()
        assert len(state) >= 43 and state != make_state()
        assert state_matches(state, state)
        assert not state_matches(state, state + "x")
        assert not state_matches(state, None)

    def test_authorization_response_parsing(self) -> None:
        answer = AuthorizationResponse.from_url(
            "http://127.0.0.1:1/cb?code=abc&state=xyz&iss=https%3A%2F%2Fas"
        )
        assert (answer.code, answer.state, answer.iss, answer.error) == (
            "abc",
            "xyz",
            "https://as",
            None,
        )
        assert "abc" not in repr(answer) and "xyz" not in repr(answer)
        error = AuthorizationResponse.from_params({"error": "access_denied", "state": "s"})
        assert error.error == "access_denied" and error.code is None

    @pytest.mark.parametrize(
        "uri", ["http://example.com/cb", "cb", "http://127.0.0.1/cb#x", "custom:/cb"]
    )
    def test_function_callback_refuses_unsafe_redirects(self, uri: str) -> None:
        with pytest.raises(ConfigError):
            FunctionCallbackHandler(lambda: "x", redirect_uri=uri)

    async def test_function_callback_results(self) -> None:
        for value in (
            "http://127.0.0.1/cb?code=c&state=s",
            {"code": "c", "state": "s"},
            ("c", "s"),
        ):
            handler = FunctionCallbackHandler(lambda v=value: v, redirect_uri="https://app/cb")
            async with handler.listen() as pending:
                answer = await pending.wait()
            assert (answer.code, answer.state) == ("c", "s")
        handler = FunctionCallbackHandler(lambda: 42, redirect_uri="https://app/cb")  # type: ignore[arg-type,return-value]
        async with handler.listen() as pending:
            with pytest.raises(AuthError):
                await pending.wait()
