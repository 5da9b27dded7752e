"""An OAuth 2.0 authorization server whose protocol work is Authlib's (a library nobody
here wrote), for test_features_interop.py.

Authlib's ``AuthorizationServer`` with its ``ClientCredentialsGrant`` (client
authentication ``client_secret_basic`` and ``client_secret_post`` by Authlib,
``private_key_jwt`` by Authlib's ``JWTBearerClientAssertion``) and its RFC 7523
``JWTBearerGrant``. For the jwt-bearer grant of enterprise-managed authorization
(ID-JAG), the grant is Authlib's with the profile's two additions: the assertion's
issuer is a trusted IdP (not the client), and the client also authenticates with its
secret (Authlib's client authentication), which must match the assertion's
``client_id``. Written here: the client and token storage, the RFC 8414 metadata
document, and the glue to Starlette (Authlib has no Starlette server integration).

The resource server is the official ``mcp`` SDK's ``MCPServer`` with bearer auth: its
protected resource metadata names this issuer, and its token verifier asks this
server's token table.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import parse_qsl

os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")  # loopback http only

from authlib.oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin, OAuth2Request
from authlib.oauth2.rfc6749.grants import ClientCredentialsGrant
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion, JWTBearerGrant
from joserfc.jwk import ECKey

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
TTL = 600


@dataclass
class Client(ClientMixin):  # type: ignore[misc]
    client_id: str
    method: str  # client_secret_basic, client_secret_post or private_key_jwt
    secret: str = ""
    public_key: Any = None  # private_key_jwt: a PEM EC public key
    grant_types: list[str] = field(default_factory=lambda: ["client_credentials"])
    scope: str = "mcp:read mcp:write"

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> None:
        return None

    def get_allowed_scope(self, scope: str | None) -> str:
        if not scope:
            return ""
        allowed = set(self.scope.split())
        return " ".join(s for s in scope.split() if s in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return False

    def check_client_secret(self, client_secret: str) -> bool:
        return bool(self.secret) and secrets.compare_digest(self.secret, client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if method == JWTBearerClientAssertion.CLIENT_AUTH_METHOD:
            method = "private_key_jwt"
        return method == self.method

    def check_response_type(self, response_type: str) -> bool:
        return False

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.grant_types


@dataclass
class Issued:
    client_id: str
    scope: str
    subject: str | None
    grant_type: str
    resource: str | None


class _Credentials(ClientCredentialsGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = [
        "client_secret_basic", "client_secret_post", "private_key_jwt"]


class _PrivateKeyJWT(JWTBearerClientAssertion):  # type: ignore[misc]
    def __init__(self, server: AuthlibServer) -> None:
        super().__init__()
        self.server = server

    def get_audiences(self) -> list[str]:
        return [self.server.issuer, self.server.issuer + "/token"]

    def validate_jti(self, claims: Any, jti: str) -> bool:
        if jti in self.server.seen_jti:
            return False
        self.server.seen_jti.add(jti)
        return True

    def resolve_client_public_key(self, client: Client) -> Any:
        return ECKey.import_key(client.public_key)


class _IdJag(JWTBearerGrant):  # type: ignore[misc]
    """Authlib's RFC 7523 grant, with the ID-JAG profile's client authentication."""

    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = [
        "client_secret_basic", "client_secret_post"]

    def validate_token_request(self) -> None:
        client = self.authenticate_token_endpoint_client()  # Authlib: the secret
        super().validate_token_request()  # Authlib: signature, iss, aud, exp, sub
        claims = self.request.jwt_claims = self._claims
        if claims.get("client_id") != client.client_id:
            from authlib.oauth2.rfc6749 import InvalidGrantError

            raise InvalidGrantError(description="the assertion is for another client")
        self.request.client = client

    def process_assertion_claims(self, assertion: str) -> Any:
        self._claims: dict[str, Any] = super().process_assertion_claims(assertion)
        return self._claims

    def resolve_issuer_client(self, issuer: str) -> Client | None:
        server: AuthlibServer = self.server
        if issuer not in server.trusted_idps:
            return None
        # The profile's client is the authenticated one; Authlib asks for one by issuer.
        return next((c for c in server.clients.values() if c.check_grant_type(JWT_BEARER)),
                    None)

    def resolve_client_public_key(self, client: Client) -> Any:
        server: AuthlibServer = self.server
        return ECKey.import_key(server.trusted_idps[self._issuer_seen])

    def extract_assertion(self, assertion: str) -> Any:
        headers, claims = super().extract_assertion(assertion)
        self._issuer_seen = claims.get("iss")
        return headers, claims

    def get_audiences(self) -> list[str]:
        server: AuthlibServer = self.server
        return [server.issuer]

    def authenticate_user(self, subject: str) -> str:
        return subject

    def has_granted_permission(self, client: Client, user: str) -> bool:
        return True


class _Request(OAuth2Request):  # type: ignore[misc]
    def __init__(self, method: str, uri: str, headers: Any, form: dict[str, str]):
        super().__init__(method, uri, headers=headers)
        self.payload = BasicOAuth2Payload(form)
        self._form = form

    @property
    def args(self) -> dict[str, str]:
        return {}

    @property
    def form(self) -> dict[str, str]:
        return self._form


class AuthlibServer(AuthorizationServer):  # type: ignore[misc]
    """Authlib's authorization server, storing clients and tokens in memory."""

    def __init__(self, issuer: str) -> None:
        super().__init__(scopes_supported=["mcp:read", "mcp:write"])
        self.issuer = issuer
        self.clients: dict[str, Client] = {}
        self.tokens: dict[str, Issued] = {}
        self.seen_jti: set[str] = set()
        self.trusted_idps: dict[str, Any] = {}
        self.token_requests: list[dict[str, str]] = []

        def access_token(**_: Any) -> str:
            return secrets.token_urlsafe(24)

        self.register_token_generator("default", BearerTokenGenerator(
            access_token, expires_generator=lambda client, grant_type: TTL))
        self.register_grant(_Credentials)
        self.register_grant(_IdJag)
        self.register_client_auth_method("private_key_jwt", _PrivateKeyJWT(self))

    def add_client(self, client: Client) -> Client:
        self.clients[client.client_id] = client
        return client

    def query_client(self, client_id: str) -> Client | None:
        return self.clients.get(client_id)

    def save_token(self, token: dict[str, Any], request: Any) -> None:
        claims = getattr(request, "jwt_claims", None) or {}
        self.tokens[token["access_token"]] = Issued(
            request.client.client_id, token.get("scope", ""), claims.get("sub"),
            request.form.get("grant_type", ""),
            request.form.get("resource") or claims.get("resource"))  # ID-JAG: in the assertion

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        pass

    def create_oauth2_request(self, request: Any) -> OAuth2Request:
        return request  # made by the Starlette route below

    def handle_response(self, status: int, body: Any, headers: Any) -> tuple[int, Any, Any]:
        return status, body, headers

    def metadata(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "token_endpoint": self.issuer + "/token",
            "grant_types_supported": ["client_credentials", JWT_BEARER],
            "token_endpoint_auth_methods_supported": [
                "client_secret_basic", "client_secret_post", "private_key_jwt"],
            "token_endpoint_auth_signing_alg_values_supported": ["ES256", "RS256"],
            "scopes_supported": ["mcp:read", "mcp:write"],
            "response_types_supported": [],
        }

    def asgi(self) -> Any:
        from starlette.applications import Starlette
        from starlette.requests import Request
        from starlette.responses import JSONResponse, Response
        from starlette.routing import Route

        async def token(request: Request) -> Response:
            form = dict(parse_qsl((await request.body()).decode()))
            self.token_requests.append(form)
            # Starlette's headers: looked up case-insensitively, as Authlib expects.
            oauth_request = _Request("POST", str(request.url), request.headers, form)
            status, body, headers = self.create_token_response(oauth_request)
            return JSONResponse(body, status_code=status, headers=dict(headers))

        async def metadata(request: Request) -> Response:
            return JSONResponse(self.metadata())

        return Starlette(routes=[
            Route("/token", token, methods=["POST"]),
            Route("/.well-known/oauth-authorization-server", metadata, methods=["GET"]),
        ])


def _bound_socket() -> tuple[socket.socket, int]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock, sock.getsockname()[1]


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


@dataclass
class Env:
    authorization: AuthlibServer
    mcp_url: str


@asynccontextmanager
async def authlib_env() -> AsyncIterator[Env]:
    """Authlib's AS and the SDK's resource server (bearer auth, ``echo`` tool)."""
    from mcp.server.auth.provider import AccessToken
    from mcp.server.auth.settings import AuthSettings
    from mcp.server.mcpserver import MCPServer

    as_sock, as_port = _bound_socket()
    rs_sock, rs_port = _bound_socket()
    issuer = f"http://127.0.0.1:{as_port}"
    authorization = AuthlibServer(issuer)

    class Verifier:
        async def verify_token(self, token: str) -> AccessToken | None:
            issued = authorization.tokens.get(token)
            if issued is None:
                return None
            return AccessToken(token=token, client_id=issued.client_id,
                               scopes=issued.scope.split(), resource=issued.resource)

    mcp: Any = MCPServer(
        "authlib-resource-server",
        token_verifier=Verifier(),
        auth=AuthSettings(issuer_url=issuer, resource_server_url=f"http://127.0.0.1:{rs_port}/mcp",
                          required_scopes=["mcp:read"], validate_token_resource=True),
        log_level="WARNING",
    )

    @mcp.tool()
    async def echo(text: str) -> str:
        """Echo the text back."""
        return text

    async with _serve(authorization.asgi(), as_sock), _serve(mcp.streamable_http_app(), rs_sock):
        yield Env(authorization, f"http://127.0.0.1:{rs_port}/mcp")
