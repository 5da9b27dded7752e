"""A small authorization server and MCP resource server for DPoP, workload identity and
authorization-server migration tests.

Both check what they receive strictly and independently of the client's code: DPoP
proofs are verified with pyjwt against the ``jwk`` in their own header (``typ``,
signature, ``htm``, ``htu``, ``iat``, ``ath``, ``jti`` uniqueness, the nonce, and the
token's key binding by RFC 7638 thumbprint computed here). The resource server answers
just enough MCP (handshake era, JSON replies) for ``initialize``, ``tools/list`` and an
``echo`` tool.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import jwt
from aiohttp import web
from aiohttp.test_utils import TestServer

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"


def b64url_sha256(text: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()


def jwk_thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638, written out here (not the client's code)."""
    members = {"EC": ("crv", "kty", "x", "y"), "RSA": ("e", "kty", "n"), "OKP": ("crv", "kty", "x")}
    chosen = {name: jwk[name] for name in members[jwk["kty"]]}
    canonical = json.dumps(chosen, separators=(",", ":"), sort_keys=True)
    return b64url_sha256(canonical)


class ProofError(Exception):
    pass


@dataclass
class ProofLog:
    """What a server saw in the DPoP proofs it checked."""

    jtis: list[str] = field(default_factory=list)
    claims: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def verify_proof(
    proof: str | None, method: str, url: str, log: ProofLog, *, access_token: str | None = None
) -> tuple[dict[str, Any], str]:
    """The proof's claims and its key's thumbprint; raises :class:`ProofError`."""
    try:
        if not proof or "," in proof:
            raise ProofError("missing or repeated DPoP header")
        header = jwt.get_unverified_header(proof)
        if header.get("typ") != "dpop+jwt":
            raise ProofError("typ is not dpop+jwt")
        jwk = header.get("jwk")
        if not isinstance(jwk, dict) or "d" in jwk:
            raise ProofError("bad jwk")
        key = jwt.PyJWK(jwk, header["alg"]).key
        claims = jwt.decode(proof, key, algorithms=[header["alg"]])
        if claims.get("htm") != method:
            raise ProofError(f"htm {claims.get('htm')} != {method}")
        if claims.get("htu") != url.split("?")[0]:
            raise ProofError(f"htu {claims.get('htu')} != {url}")
        if abs(time.time() - claims["iat"]) > 60:
            raise ProofError("iat out of window")
        if claims["jti"] in log.jtis:
            raise ProofError("jti replayed")
        if access_token is not None and claims.get("ath") != b64url_sha256(access_token):
            raise ProofError("ath does not match the token")
        if access_token is None and "ath" in claims:
            raise ProofError("ath on a token request")
    except ProofError as exc:
        log.errors.append(str(exc))
        raise
    except Exception as exc:
        log.errors.append(f"{type(exc).__name__}: {exc}")
        raise ProofError(str(exc)) from exc
    log.jtis.append(claims["jti"])
    log.claims.append(claims)
    return claims, jwk_thumbprint(jwk)


@dataclass
class ASConfig:
    dpop: bool = False
    require_nonce: bool = False
    dpop_algs: list[str] = field(default_factory=lambda: ["ES256"])
    token_type: str | None = None  # force a token_type in answers
    grant: str = "authorization_code"  # or "jwt-bearer"
    refuse_jwt_bearer: str | None = None  # an OAuth error code to answer with
    client_prefix: str = "client"


class AuthServer:
    """An OAuth authorization server: registration, auto-approving authorize, token."""

    NONCE = "as-nonce-1"

    def __init__(self, config: ASConfig | None = None) -> None:
        self.config = config or ASConfig()
        self.registrations: list[dict[str, Any]] = []
        self.client_ids_seen: list[str] = []
        self.token_requests: list[dict[str, str]] = []
        self.proofs = ProofLog()
        self.nonce_challenges = 0
        self.tokens: dict[str, str | None] = {}  # token -> bound jkt
        self._codes: dict[str, dict[str, str]] = {}
        self._server: TestServer | None = None

    async def start(self) -> AuthServer:
        app = web.Application()
        app.router.add_get("/.well-known/oauth-authorization-server", self._metadata)
        app.router.add_post("/register", self._register)
        app.router.add_get("/authorize", self._authorize)
        app.router.add_post("/token", self._token)
        self._server = TestServer(app, host="127.0.0.1")
        await self._server.start_server()
        return self

    async def close(self) -> None:
        if self._server is not None:
            await self._server.close()

    @property
    def issuer(self) -> str:
        assert self._server is not None
        return str(self._server.make_url("")).rstrip("/")

    async def _metadata(self, request: web.Request) -> web.Response:
        doc: dict[str, Any] = {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "registration_endpoint": f"{self.issuer}/register",
            "code_challenge_methods_supported": ["S256"],
            "grant_types_supported": ["authorization_code", "refresh_token", JWT_BEARER],
            "token_endpoint_auth_methods_supported": ["none", "client_secret_basic"],
        }
        if self.config.dpop:
            doc["dpop_signing_alg_values_supported"] = self.config.dpop_algs
        return web.json_response(doc)

    async def _register(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.registrations.append(body)
        client_id = f"{self.config.client_prefix}-{len(self.registrations)}"
        return web.json_response(
            {**body, "client_id": client_id, "token_endpoint_auth_method": "none"}, status=201
        )

    async def _authorize(self, request: web.Request) -> web.Response:
        query = request.query
        self.client_ids_seen.append(query["client_id"])
        code = secrets.token_urlsafe(8)
        self._codes[code] = dict(query)
        location = (
            f"{query['redirect_uri']}?code={code}&state={query['state']}&iss={self.issuer}"
        )
        raise web.HTTPFound(location)

    async def _token(self, request: web.Request) -> web.Response:
        form = dict(await request.post())
        self.token_requests.append(form)
        if "client_id" in form:
            self.client_ids_seen.append(form["client_id"])
        jkt: str | None = None
        if self.config.dpop and "DPoP" in request.headers:
            try:
                claims, jkt = verify_proof(
                    request.headers.get("DPoP"), "POST", f"{self.issuer}/token", self.proofs
                )
            except ProofError as exc:
                return web.json_response(
                    {"error": "invalid_dpop_proof", "error_description": str(exc)}, status=400
                )
            if self.config.require_nonce and claims.get("nonce") != self.NONCE:
                self.nonce_challenges += 1
                return web.json_response(
                    {"error": "use_dpop_nonce"}, status=400, headers={"DPoP-Nonce": self.NONCE}
                )
        grant = form.get("grant_type")
        if grant == JWT_BEARER and self.config.refuse_jwt_bearer:
            return web.json_response({"error": self.config.refuse_jwt_bearer}, status=400)
        if grant not in ("authorization_code", JWT_BEARER, "refresh_token"):
            return web.json_response({"error": "unsupported_grant_type"}, status=400)
        token = f"{self.config.client_prefix}-token-{secrets.token_urlsafe(8)}"
        self.tokens[token] = jkt
        token_type = self.config.token_type or ("DPoP" if jkt else "Bearer")
        return web.json_response(
            {"access_token": token, "token_type": token_type, "expires_in": 3600}
        )


class ResourceServer:
    """An MCP endpoint that accepts tokens of the current authorization server(s)."""

    RS_NONCE = "rs-nonce-1"

    def __init__(
        self,
        authorities: list[AuthServer],
        *,
        dpop: bool = False,
        require_nonce: bool = False,
        always_new_nonce: bool = False,
    ) -> None:
        self.authorities = authorities
        self.current = 0  # index of the AS the resource metadata names
        self.dpop = dpop
        self.require_nonce = require_nonce
        self.always_new_nonce = always_new_nonce
        self.proofs = ProofLog()
        self.schemes: list[str] = []
        self.nonce_challenges = 0
        self.accepted = 0
        self.move_after_first_success = False
        self._server: TestServer | None = None

    async def start(self) -> ResourceServer:
        app = web.Application()
        app.router.add_get("/.well-known/oauth-protected-resource/mcp", self._prm)
        app.router.add_post("/mcp", self._mcp)
        app.router.add_get("/mcp", self._no_stream)
        app.router.add_delete("/mcp", self._no_stream)
        self._server = TestServer(app, host="127.0.0.1")
        await self._server.start_server()
        return self

    async def close(self) -> None:
        if self._server is not None:
            await self._server.close()

    @property
    def url(self) -> str:
        assert self._server is not None
        return str(self._server.make_url("/mcp"))

    @property
    def prm_url(self) -> str:
        assert self._server is not None
        return str(self._server.make_url("/.well-known/oauth-protected-resource/mcp"))

    async def _prm(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "resource": self.url,
                "authorization_servers": [self.authorities[self.current].issuer],
            }
        )

    def _challenge(self, error: str | None = None, nonce: str | None = None) -> web.Response:
        scheme = "DPoP" if self.dpop else "Bearer"
        params = f'resource_metadata="{self.prm_url}"'
        if error:
            params = f'error="{error}", {params}'
        headers = {"WWW-Authenticate": f"{scheme} {params}"}
        if nonce:
            headers["DPoP-Nonce"] = nonce
        return web.json_response({"error": error or "unauthorized"}, status=401, headers=headers)

    async def _no_stream(self, request: web.Request) -> web.Response:
        return web.Response(status=405)

    async def _mcp(self, request: web.Request) -> web.Response:
        authorization = request.headers.get("Authorization")
        if not authorization:
            return self._challenge()
        scheme, _, token = authorization.partition(" ")
        self.schemes.append(scheme)
        issuer_tokens = self.authorities[self.current].tokens
        if token not in issuer_tokens:
            return self._challenge("invalid_token")
        if self.dpop:
            if scheme != "DPoP":
                return self._challenge("invalid_token")
            try:
                claims, jkt = verify_proof(
                    request.headers.get("DPoP"), "POST", self.url, self.proofs,
                    access_token=token,
                )
            except ProofError:
                return self._challenge("invalid_dpop_proof")
            if jkt != issuer_tokens[token]:
                return self._challenge("invalid_token")
            if self.always_new_nonce:
                self.nonce_challenges += 1
                return self._challenge("use_dpop_nonce", nonce=secrets.token_urlsafe(6))
            if self.require_nonce and claims.get("nonce") != self.RS_NONCE:
                self.nonce_challenges += 1
                return self._challenge("use_dpop_nonce", nonce=self.RS_NONCE)
        elif scheme != "Bearer":
            return self._challenge("invalid_token")
        self.accepted += 1
        if self.move_after_first_success and self.current == 0:
            self.current = 1
        return await self._answer(await request.json())

    async def _answer(self, message: dict[str, Any]) -> web.Response:
        method = message.get("method")
        if "id" not in message:
            return web.Response(status=202)
        result: dict[str, Any]
        if method == "initialize":
            result = {
                "protocolVersion": message["params"]["protocolVersion"],
                "capabilities": {"tools": {}},
                "serverInfo": {"name": "dpop-test", "version": "1"},
            }
        elif method == "tools/list":
            result = {
                "tools": [
                    {
                        "name": "echo",
                        "inputSchema": {
                            "type": "object",
                            "properties": {"text": {"type": "string"}},
                        },
                    }
                ]
            }
        elif method == "tools/call":
            text = message["params"]["arguments"]["text"]
            result = {"content": [{"type": "text", "text": text}]}
        else:
            return web.json_response(
                {"jsonrpc": "2.0", "id": message["id"],
                 "error": {"code": -32601, "message": "Method not found"}}
            )
        return web.json_response({"jsonrpc": "2.0", "id": message["id"], "result": result})
