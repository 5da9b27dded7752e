"""Local servers for the OAuth tests: an authorization server and an MCP resource server.

:class:`AuthorizationServer` is an OAuth 2.1 authorization server written with
aiohttp.web that implements the endpoints the MCP client uses, strictly:

* metadata at ``/.well-known/oauth-authorization-server[/path]`` and the two OpenID
  Connect forms (which ones exist is configurable), issuer with or without a path;
* ``/authorize`` auto-approves and redirects with ``code``, ``state`` and ``iss``
  after checking the client, the exact redirect URI (any port for loopback IPs, RFC
  8252 §7.3), PKCE S256, scopes and the ``resource`` indicator;
* ``/token`` with ``authorization_code`` (single-use code, PKCE verification, redirect
  and resource checks), ``refresh_token`` (rotation; a rotated-out token is dead),
  ``client_credentials``, the RFC 7523 ``jwt-bearer`` grant for ID-JAGs and, when acting
  as an enterprise IdP, RFC 8693 token exchange issuing ID-JAGs. Client
  authentication ``client_secret_basic``, ``client_secret_post``, ``none`` and
  ``private_key_jwt`` must be the method the client registered;
* ``/register`` (RFC 7591), client ID metadata documents fetched over HTTP, and
  ``/introspect`` (RFC 7662) used by the resource server.

Failure modes are knobs on :class:`ASOptions` plus :meth:`AuthorizationServer.fail_next`.
The clock is injected (:class:`FakeClock`), so expiry is tested without sleeping.

:func:`start_resource_server` runs the official ``mcp`` SDK server (``MCPServer``) with
bearer verification by introspection at the authorization server, under uvicorn on
127.0.0.1, behind a small ASGI shim that reshapes discovery for the variants the
tests need (hidden or moved resource metadata, extra challenge parameters,
per-tool scopes for step-up, a 2025-03-26-style proxy to the authorization server).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import re
import secrets
import socket
import warnings
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit, urlunsplit

import aiohttp
import jwt
from aiohttp import web
from aiohttp.test_utils import TestServer

ID_JAG = "urn:ietf:params:oauth:token-type:id-jag"
ID_TOKEN = "urn:ietf:params:oauth:token-type:id_token"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
CLIENT_ASSERTION = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
SECRET_METHODS = ("client_secret_basic", "client_secret_post")
ALL_METHODS = (*SECRET_METHODS, "none", "private_key_jwt")


class FakeClock:
    """Epoch seconds that only move when told to."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Client:
    """A client known to the authorization server."""

    client_id: str
    token_endpoint_auth_method: str = "none"
    client_secret: str | None = None
    redirect_uris: list[str] = field(default_factory=list)
    grant_types: list[str] = field(default_factory=lambda: ["authorization_code", "refresh_token"])
    public_key: Any = None
    allowed_scopes: set[str] | None = None


@dataclass
class Code:
    client_id: str
    redirect_uri: str
    challenge: str
    scope: str | None
    resource: str | None
    expires_at: float


@dataclass
class Issued:
    client_id: str
    scope: str | None
    resource: str | None
    subject: str
    expires_at: float
    active: bool = True


@dataclass
class ASOptions:
    """Behaviour knobs of :class:`AuthorizationServer` (change them at any time)."""

    #: Path of the issuer identifier, e.g. ``"/tenant1"``.
    issuer_path: str = ""
    #: Which metadata documents exist: "oauth", "oidc-insert", "oidc-append".
    metadata: frozenset[str] = frozenset({"oauth"})
    #: Lie about the issuer in the metadata document.
    metadata_issuer: str | None = None
    #: Extra/overriding metadata fields.
    metadata_extra: dict[str, Any] = field(default_factory=dict)
    #: ``code_challenge_methods_supported``; ``None`` leaves the field out.
    pkce_methods: list[str] | None = field(default_factory=lambda: ["S256"])
    scopes_supported: list[str] | None = None
    registration: bool = True
    #: Force the auth method of registrations (else the requested one is honoured).
    registration_auth_method: str | None = None
    cimd: bool = False
    iss_parameter: bool = True
    #: Override the ``iss`` of authorization responses ("" leaves it out).
    response_iss: str | None = None
    #: Override the ``state`` of authorization responses.
    response_state: str | None = None
    #: Every resource the server accepts in ``resource`` (``None``: any absolute URI).
    resources: set[str] | None = None
    access_token_ttl: float = 3600.0
    issue_refresh_tokens: bool = True
    rotate_refresh_tokens: bool = True
    #: Real seconds the token endpoint waits before answering a refresh.
    refresh_delay: float = 0.0
    #: Issuers whose ID-JAGs the jwt-bearer grant accepts, with their public keys.
    trusted_idps: dict[str, Any] = field(default_factory=dict)
    #: Acting as an IdP: subject tokens it knows (token -> subject).
    id_tokens: dict[str, str] = field(default_factory=dict)
    #: Acting as an IdP: the client id at the MCP AS for each IdP client.
    id_jag_client_ids: dict[str, str] = field(default_factory=dict)
    #: Issuer and endpoints as seen from outside (for the 2025-03-26 proxy).
    public_base: str | None = None
    #: Scopes the server never grants, even when asked (silent down-scoping).
    withheld_scopes: set[str] = field(default_factory=set)


class AuthorizationServer:
    """The authorization server; call :meth:`start` inside a running loop."""

    def __init__(self, options: ASOptions | None = None, *, clock: FakeClock | None = None):
        self.options = options or ASOptions()
        self.clock = clock or FakeClock()
        self.clients: dict[str, Client] = {}
        self.codes: dict[str, Code] = {}
        self.access_tokens: dict[str, Issued] = {}
        self.refresh_tokens: dict[str, Issued] = {}
        self.used_jti: set[str] = set()
        #: ``(endpoint, parameters)`` of every request, in order.
        self.log: list[tuple[str, dict[str, str]]] = []
        #: Paths of metadata requests (found or not).
        self.metadata_hits: list[str] = []
        self.grants: Counter[str] = Counter()
        self.registrations: list[dict[str, Any]] = []
        self.client_auth_methods: list[str] = []
        self.introspections = 0
        self._failures: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        self.signing_key = _rsa_key()
        #: Every access and refresh token ever issued (for leak checks).
        self.all_tokens: list[str] = []
        self._server: TestServer | None = None
        self._http: aiohttp.ClientSession | None = None

    # -- lifecycle ------------------------------------------------------------------------
    async def start(self) -> AuthorizationServer:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._server = TestServer(app, host="127.0.0.1")
        await self._server.start_server()
        self._http = aiohttp.ClientSession()
        return self

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
        if self._server is not None:
            await self._server.close()

    @property
    def origin(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.port}"

    @property
    def base(self) -> str:
        return (self.options.public_base or self.origin) + self.options.issuer_path

    @property
    def issuer(self) -> str:
        return self.base

    @property
    def introspection_url(self) -> str:
        return self.origin + self.options.issuer_path + "/introspect"

    # -- test helpers ---------------------------------------------------------------------
    def add_client(self, client: Client) -> Client:
        self.clients[client.client_id] = client
        return client

    def fail_next(self, endpoint: str, status: int, body: dict[str, Any] | None = None) -> None:
        """Answer the next request to ``endpoint`` ("token", "refresh", "register",
        "metadata", "introspect") with ``status`` and ``body``."""
        self._failures.setdefault(endpoint, []).append((status, body or {}))

    def revoke_access_tokens(self) -> None:
        """Make every issued access token inactive (as if they expired server-side)."""
        for issued in self.access_tokens.values():
            issued.active = False

    def requests_to(self, endpoint: str) -> list[dict[str, str]]:
        return [params for name, params in self.log if name == endpoint]

    def count_grant(self, grant: str) -> int:
        return self.grants[grant]

    def issue_id_token(self, subject: str) -> str:
        token = "idt_" + secrets.token_urlsafe(12)
        self.options.id_tokens[token] = subject
        return token

    # -- routing --------------------------------------------------------------------------
    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if path.startswith("/.well-known/") or path.endswith("/.well-known/openid-configuration"):
            return self._metadata(request)
        prefix = self.options.issuer_path
        if not path.startswith(prefix):
            return web.json_response({"error": "not_found"}, status=404)
        name = path[len(prefix) :]
        if name == "/authorize" and request.method == "GET":
            return await self._authorize(request)
        if name == "/token" and request.method == "POST":
            return await self._token(request)
        if name == "/register" and request.method == "POST" and self.options.registration:
            return await self._register(request)
        if name == "/introspect" and request.method == "POST":
            return await self._introspect(request)
        return web.json_response({"error": "not_found"}, status=404)

    def _forced(self, endpoint: str) -> web.Response | None:
        queue = self._failures.get(endpoint)
        if not queue:
            return None
        status, body = queue.pop(0)
        return web.json_response(body, status=status)

    # -- metadata -------------------------------------------------------------------------
    def metadata_document(self) -> dict[str, Any]:
        o = self.options
        base = self.base
        doc: dict[str, Any] = {
            "issuer": o.metadata_issuer or self.issuer,
            "authorization_endpoint": base + "/authorize",
            "token_endpoint": base + "/token",
            "introspection_endpoint": base + "/introspect",
            "response_types_supported": ["code"],
            "grant_types_supported": [
                "authorization_code",
                "refresh_token",
                "client_credentials",
                JWT_BEARER,
                TOKEN_EXCHANGE,
            ],
            "token_endpoint_auth_methods_supported": list(ALL_METHODS),
            "client_id_metadata_document_supported": o.cimd,
            "authorization_response_iss_parameter_supported": o.iss_parameter,
        }
        if o.registration:
            doc["registration_endpoint"] = base + "/register"
        if o.pkce_methods is not None:
            doc["code_challenge_methods_supported"] = o.pkce_methods
        if o.scopes_supported is not None:
            doc["scopes_supported"] = o.scopes_supported
        doc.update(o.metadata_extra)
        return doc

    def _metadata(self, request: web.Request) -> web.Response:
        path = request.path
        self.metadata_hits.append(path)
        forced = self._forced("metadata")
        if forced is not None:
            return forced
        issuer_path = self.options.issuer_path
        served = {
            "oauth": "/.well-known/oauth-authorization-server" + issuer_path,
            "oidc-insert": "/.well-known/openid-configuration" + issuer_path,
            "oidc-append": issuer_path + "/.well-known/openid-configuration",
        }
        for kind, expected in served.items():
            if kind in self.options.metadata and path == expected:
                return web.json_response(self.metadata_document())
        return web.json_response({"error": "not_found"}, status=404)

    # -- clients ----------------------------------------------------------------------------
    async def _lookup_client(self, client_id: str) -> Client | None:
        client = self.clients.get(client_id)
        if client is not None or not self.options.cimd or not client_id.startswith("http"):
            return client
        assert self._http is not None
        try:
            async with self._http.get(client_id, allow_redirects=False) as response:
                if response.status != 200:
                    return None
                document = await response.json(content_type=None)
        except (aiohttp.ClientError, ValueError):
            return None
        if not isinstance(document, dict) or document.get("client_id") != client_id:
            return None
        uris = document.get("redirect_uris")
        if not isinstance(uris, list) or not uris:
            return None
        method = document.get("token_endpoint_auth_method", "none")
        if method != "none":
            return None
        return Client(client_id=client_id, redirect_uris=list(uris))

    @staticmethod
    def _redirect_ok(client: Client, redirect_uri: str | None) -> bool:
        if redirect_uri is None:
            return len(client.redirect_uris) == 1
        if redirect_uri in client.redirect_uris:
            return True
        wanted = urlsplit(redirect_uri)
        if wanted.scheme != "http" or wanted.hostname not in ("127.0.0.1", "::1"):
            return False
        for registered in client.redirect_uris:
            have = urlsplit(registered)
            if (have.scheme, have.hostname, have.path, have.query) == (
                wanted.scheme,
                wanted.hostname,
                wanted.path,
                wanted.query,
            ):
                return True
        return False

    def _resource_ok(self, resource: str | None) -> bool:
        if resource is None:
            return True
        parts = urlsplit(resource)
        if not parts.scheme or not parts.netloc or parts.fragment:
            return False
        return self.options.resources is None or resource in self.options.resources

    # -- /authorize -------------------------------------------------------------------------
    async def _authorize(self, request: web.Request) -> web.Response:
        query = dict(request.query)
        self.log.append(("authorize", query))
        client = await self._lookup_client(query.get("client_id", ""))
        redirect_uri = query.get("redirect_uri")
        if client is None or not self._redirect_ok(client, redirect_uri):
            return web.Response(status=400, text="unknown client or redirect_uri")
        target = redirect_uri or client.redirect_uris[0]
        state = query.get("state")

        def back(**params: str | None) -> web.Response:
            if self.options.response_state is not None:
                params["state"] = self.options.response_state
            else:
                params["state"] = state
            iss = self.options.response_iss
            if iss is None:
                params["iss"] = self.issuer
            elif iss:
                params["iss"] = iss
            parts = urlsplit(target)
            extra = urlencode({k: v for k, v in params.items() if v is not None})
            query_string = f"{parts.query}&{extra}" if parts.query else extra
            location = urlunsplit(parts._replace(query=query_string))
            return web.Response(status=302, headers={"Location": location})

        if query.get("response_type") != "code":
            return back(error="unsupported_response_type")
        method = query.get("code_challenge_method")
        if not query.get("code_challenge") or method not in (self.options.pkce_methods or []):
            return back(error="invalid_request", error_description="PKCE S256 is required")
        if method != "S256":
            return back(error="invalid_request", error_description="only S256")
        scope = query.get("scope")
        supported = self.options.scopes_supported
        if scope and supported is not None and not set(scope.split()) <= set(supported):
            return back(error="invalid_scope")
        resource = query.get("resource")
        if not self._resource_ok(resource):
            return back(error="invalid_target")
        code = "code_" + secrets.token_urlsafe(16)
        self.codes[code] = Code(
            client_id=client.client_id,
            redirect_uri=target,
            challenge=query["code_challenge"],
            scope=scope,
            resource=resource,
            expires_at=self.clock() + 60,
        )
        return back(code=code)

    # -- /token -----------------------------------------------------------------------------
    async def _token(self, request: web.Request) -> web.Response:
        form = {
            key: value for key, value in (await request.post()).items() if isinstance(value, str)
        }
        grant = form.get("grant_type", "")
        self.log.append(("token", form))
        forced = self._forced("refresh" if grant == "refresh_token" else "token")
        if forced is not None:
            return forced
        if grant == "refresh_token" and self.options.refresh_delay:
            await asyncio.sleep(self.options.refresh_delay)
        client, failure = await self._authenticate(request, form)
        if failure is not None:
            return failure
        assert client is not None
        if grant not in client.grant_types and grant != TOKEN_EXCHANGE:
            return _error("unauthorized_client", f"{grant} is not allowed for this client")
        self.grants[grant] += 1
        if grant == "authorization_code":
            return self._code_grant(client, form)
        if grant == "refresh_token":
            return self._refresh_grant(client, form)
        if grant == "client_credentials":
            return self._client_credentials(client, form)
        if grant == JWT_BEARER:
            return self._jwt_bearer(client, form)
        if grant == TOKEN_EXCHANGE:
            return self._token_exchange(client, form)
        return _error("unsupported_grant_type")

    async def _authenticate(
        self, request: web.Request, form: dict[str, str]
    ) -> tuple[Client | None, web.Response | None]:
        header = request.headers.get("Authorization", "")
        client_id: str | None
        if header.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(header[6:], validate=True).decode()
                raw_id, _, raw_secret = decoded.partition(":")
            except (ValueError, UnicodeDecodeError):
                return None, _error("invalid_client", status=401)
            method, client_id, secret = "client_secret_basic", unquote(raw_id), unquote(raw_secret)
        elif "client_assertion" in form:
            method, client_id, secret = "private_key_jwt", None, None
        elif "client_secret" in form:
            method, client_id, secret = (
                "client_secret_post",
                form.get("client_id"),
                form["client_secret"],
            )
        else:
            method, client_id, secret = "none", form.get("client_id"), None
        self.client_auth_methods.append(method)
        if method == "private_key_jwt":
            return self._verify_client_assertion(form)
        client = await self._lookup_client(client_id or "")
        if client is None or client.token_endpoint_auth_method != method:
            return None, _error("invalid_client", "unknown client or wrong auth method", 401)
        if method in SECRET_METHODS and not (
            client.client_secret and hmac.compare_digest(client.client_secret, secret or "")
        ):
            return None, _error("invalid_client", "bad client secret", 401)
        return client, None

    def _verify_client_assertion(
        self, form: dict[str, str]
    ) -> tuple[Client | None, web.Response | None]:
        if form.get("client_assertion_type") != CLIENT_ASSERTION:
            return None, _error("invalid_client", "bad client_assertion_type", 401)
        assertion = form["client_assertion"]
        try:
            unverified = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError:
            return None, _error("invalid_client", "malformed assertion", 401)
        client = self.clients.get(str(unverified.get("iss")))
        if client is None or client.token_endpoint_auth_method != "private_key_jwt":
            return None, _error("invalid_client", "unknown client", 401)
        try:
            claims = jwt.decode(
                assertion,
                client.public_key,
                algorithms=["RS256", "PS256", "ES256", "EdDSA"],
                audience=self.issuer,
                options={"verify_exp": False, "verify_iat": False, "require": ["exp", "jti"]},
            )
        except jwt.PyJWTError as exc:
            return None, _error("invalid_client", f"assertion rejected: {exc}", 401)
        if claims.get("sub") != client.client_id or claims.get("iss") != client.client_id:
            return None, _error("invalid_client", "iss and sub must be the client id", 401)
        if form.get("client_id", client.client_id) != client.client_id:
            return None, _error("invalid_client", "client_id does not match", 401)
        if claims["exp"] <= self.clock() or claims["jti"] in self.used_jti:
            return None, _error("invalid_client", "assertion expired or replayed", 401)
        self.used_jti.add(claims["jti"])
        return client, None

    def _issue(
        self,
        client: Client,
        scope: str | None,
        resource: str | None,
        subject: str,
        *,
        refresh: bool,
    ) -> web.Response:
        now = self.clock()
        if scope:
            scope = " ".join(s for s in scope.split() if s not in self.options.withheld_scopes)
        access = "at_" + secrets.token_urlsafe(16)
        self.all_tokens.append(access)
        ttl = self.options.access_token_ttl
        self.access_tokens[access] = Issued(client.client_id, scope, resource, subject, now + ttl)
        body: dict[str, Any] = {"access_token": access, "token_type": "Bearer", "expires_in": ttl}
        if scope is not None:
            body["scope"] = scope
        if refresh:
            token = "rt_" + secrets.token_urlsafe(16)
            self.all_tokens.append(token)
            self.refresh_tokens[token] = Issued(
                client.client_id, scope, resource, subject, now + 30 * 86400
            )
            body["refresh_token"] = token
        return web.json_response(body, headers={"Cache-Control": "no-store"})

    def _code_grant(self, client: Client, form: dict[str, str]) -> web.Response:
        code = self.codes.pop(form.get("code", ""), None)
        if code is None or code.expires_at <= self.clock() or code.client_id != client.client_id:
            return _error("invalid_grant", "unknown, used or expired code")
        if form.get("redirect_uri") != code.redirect_uri:
            return _error("invalid_grant", "redirect_uri mismatch")
        verifier = form.get("code_verifier", "")
        if not re.fullmatch(r"[A-Za-z0-9._~-]{43,128}", verifier):
            return _error("invalid_grant", "bad code_verifier")
        digest = hashlib.sha256(verifier.encode()).digest()
        if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != code.challenge:
            return _error("invalid_grant", "PKCE verification failed")
        resource = form.get("resource")
        if code.resource is not None and resource != code.resource:
            return _error("invalid_target", "resource differs from the authorization request")
        if not self._resource_ok(resource):
            return _error("invalid_target")
        refresh = self.options.issue_refresh_tokens and "refresh_token" in client.grant_types
        return self._issue(client, code.scope, resource, "user-1", refresh=refresh)

    def _refresh_grant(self, client: Client, form: dict[str, str]) -> web.Response:
        token = form.get("refresh_token", "")
        issued = self.refresh_tokens.get(token)
        if issued is None or not issued.active or issued.client_id != client.client_id:
            return _error("invalid_grant", "unknown or revoked refresh token")
        resource = form.get("resource", issued.resource)
        if issued.resource is not None and resource != issued.resource:
            return _error("invalid_target")
        scope = form.get("scope", issued.scope)
        if scope and not set(scope.split()) <= set((issued.scope or "").split()):
            return _error("invalid_scope")
        if self.options.rotate_refresh_tokens:
            del self.refresh_tokens[token]
            return self._issue(client, scope, resource, issued.subject, refresh=True)
        response = self._issue(client, scope, resource, issued.subject, refresh=False)
        return response

    def _client_credentials(self, client: Client, form: dict[str, str]) -> web.Response:
        if client.token_endpoint_auth_method == "none":
            return _error("unauthorized_client", "public clients cannot use client_credentials")
        scope = form.get("scope")
        if (
            scope
            and client.allowed_scopes is not None
            and not set(scope.split()) <= client.allowed_scopes
        ):
            return _error("invalid_scope")
        resource = form.get("resource")
        if not self._resource_ok(resource):
            return _error("invalid_target")
        return self._issue(client, scope, resource, client.client_id, refresh=False)

    def _jwt_bearer(self, client: Client, form: dict[str, str]) -> web.Response:
        if client.token_endpoint_auth_method == "none":
            return _error("invalid_client", "the jwt-bearer grant needs a confidential client", 401)
        assertion = form.get("assertion", "")
        try:
            header = jwt.get_unverified_header(assertion)
            unverified = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError:
            return _error("invalid_grant", "malformed assertion")
        if header.get("typ") != "oauth-id-jag+jwt":
            return _error("invalid_grant", "not an ID-JAG")
        key = self.options.trusted_idps.get(str(unverified.get("iss")))
        if key is None:
            return _error("invalid_grant", "untrusted issuer")
        try:
            claims = jwt.decode(
                assertion,
                key,
                algorithms=["RS256"],
                audience=self.issuer,
                options={
                    "verify_exp": False,
                    "verify_iat": False,
                    "require": ["exp", "jti", "sub", "client_id"],
                },
            )
        except jwt.PyJWTError as exc:
            return _error("invalid_grant", f"assertion rejected: {exc}")
        if claims["exp"] <= self.clock() or claims["jti"] in self.used_jti:
            return _error("invalid_grant", "expired or replayed")
        if claims["client_id"] != client.client_id:
            return _error("invalid_grant", "ID-JAG was issued to another client")
        self.used_jti.add(claims["jti"])
        resource = claims.get("resource")
        if form.get("resource") not in (None, resource) or not self._resource_ok(resource):
            return _error("invalid_target")
        return self._issue(client, claims.get("scope"), resource, claims["sub"], refresh=False)

    def _token_exchange(self, client: Client, form: dict[str, str]) -> web.Response:
        if form.get("requested_token_type") != ID_JAG:
            return _error("invalid_request", "only ID-JAGs are issued")
        if form.get("subject_token_type") != ID_TOKEN:
            return _error("invalid_request", "subject must be an ID token")
        subject = self.options.id_tokens.get(form.get("subject_token", ""))
        if subject is None:
            return _error("invalid_grant", "unknown subject token")
        audience = form.get("audience")
        target_client = self.options.id_jag_client_ids.get(client.client_id)
        if not audience or target_client is None:
            return _error("invalid_target", "no audience or no client mapping")
        now = int(self.clock())
        claims = {
            "iss": self.issuer,
            "sub": subject,
            "aud": audience,
            "client_id": target_client,
            "jti": secrets.token_urlsafe(12),
            "iat": now,
            "exp": now + 300,
        }
        if form.get("resource"):
            claims["resource"] = form["resource"]
        if form.get("scope"):
            claims["scope"] = form["scope"]
        assertion = jwt.encode(
            claims, self.signing_key, algorithm="RS256", headers={"typ": "oauth-id-jag+jwt"}
        )
        return web.json_response(
            {
                "access_token": assertion,
                "issued_token_type": ID_JAG,
                "token_type": "N_A",
                "expires_in": 300,
            }
        )

    # -- /register, /introspect -----------------------------------------------------------------
    async def _register(self, request: web.Request) -> web.Response:
        forced = self._forced("register")
        if forced is not None:
            return forced
        try:
            data = await request.json()
        except ValueError:
            return _error("invalid_client_metadata", "not JSON")
        self.registrations.append(data)
        uris = data.get("redirect_uris")
        if not isinstance(uris, list) or not uris or not all(isinstance(u, str) for u in uris):
            return _error("invalid_redirect_uri")
        method = self.options.registration_auth_method or data.get(
            "token_endpoint_auth_method", "client_secret_basic"
        )
        if method not in ALL_METHODS or method == "private_key_jwt":
            return _error("invalid_client_metadata", f"unsupported method {method}")
        client = self.add_client(
            Client(
                client_id="dcr_" + secrets.token_urlsafe(8),
                token_endpoint_auth_method=method,
                client_secret=secrets.token_urlsafe(24) if method in SECRET_METHODS else None,
                redirect_uris=list(uris),
                grant_types=list(data.get("grant_types") or ["authorization_code"]),
            )
        )
        body = {
            **data,
            "client_id": client.client_id,
            "client_id_issued_at": int(self.clock()),
            "token_endpoint_auth_method": method,
        }
        if client.client_secret:
            body["client_secret"] = client.client_secret
            body["client_secret_expires_at"] = 0
        return web.json_response(body, status=201)

    async def _introspect(self, request: web.Request) -> web.Response:
        self.introspections += 1
        forced = self._forced("introspect")
        if forced is not None:
            return forced
        form = await request.post()
        issued = self.access_tokens.get(str(form.get("token", "")))
        if issued is None or not issued.active or issued.expires_at <= self.clock():
            return web.json_response({"active": False})
        body: dict[str, Any] = {
            "active": True,
            "client_id": issued.client_id,
            "sub": issued.subject,
            "iss": self.issuer,
            "exp": int(issued.expires_at),
            "token_type": "Bearer",
            "scope": issued.scope or "",
        }
        if issued.resource is not None:
            body["aud"] = issued.resource
        return web.json_response(body)


def _error(code: str, description: str | None = None, status: int = 400) -> web.Response:
    body = {"error": code}
    if description:
        body["error_description"] = description
    return web.json_response(body, status=status)


_KEYS: list[Any] = []


def _rsa_key() -> Any:
    if not _KEYS:
        from cryptography.hazmat.primitives.asymmetric import rsa

        _KEYS.append(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    return _KEYS[0]


# ------------------------------------------------------------------------------------------
# The resource server: the official MCP SDK server with bearer verification.
# ------------------------------------------------------------------------------------------
@dataclass
class ShimOptions:
    """How the shim in front of the SDK server reshapes discovery (change any time)."""

    #: resource_metadata in 401 challenges: True = the SDK's, False = removed, str = this URL.
    challenge_metadata: bool | str = True
    #: Add ``scope="..."`` to 401 challenges.
    challenge_scope: str | None = None
    #: Where the resource metadata lives: "sdk" (the SDK's path-based route), "root",
    #: "custom" (at /meta/prm, announced in the challenge) or "none".
    prm: str = "sdk"
    #: Fields overriding the resource metadata document the shim serves.
    prm_override: dict[str, Any] = field(default_factory=dict)
    #: tools/call name -> scope it needs (403 insufficient_scope otherwise).
    tool_scopes: dict[str, str] = field(default_factory=dict)
    #: Forward /authorize, /token, /register and the AS metadata to the AS (2025-03-26).
    proxy_as: bool = False
    #: Serve no AS metadata through the proxy (default endpoints only).
    proxy_metadata: bool = True
    #: Answer every resource metadata request with this status.
    prm_status: int | None = None


@dataclass
class ServerStats:
    active: int = 0
    max_active: int = 0
    calls: int = 0
    #: (method, path, Authorization header or None, status) of every request.
    requests: list[tuple[str, str, str | None, int]] = field(default_factory=list)


class IntrospectionVerifier:
    """An ``mcp`` TokenVerifier asking the authorization server (RFC 7662)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.session: aiohttp.ClientSession | None = None

    async def introspect(self, token: str) -> dict[str, Any] | None:
        if self.session is None:
            self.session = aiohttp.ClientSession()
        async with self.session.post(self.url, data={"token": token}) as response:
            if response.status != 200:
                return None
            data = await response.json()
        return data if data.get("active") else None

    async def verify_token(self, token: str) -> Any:
        from mcp.server.auth.provider import AccessToken

        data = await self.introspect(token)
        if data is None:
            return None
        return AccessToken(
            token=token,
            client_id=data["client_id"],
            scopes=data.get("scope", "").split(),
            resource=data.get("aud"),
            subject=data.get("sub"),
            claims={"iss": data.get("iss")},
        )

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()


@dataclass
class ResourceServer:
    url: str
    origin: str
    shim: ShimOptions
    stats: ServerStats
    verifier: IntrospectionVerifier
    server: Any
    task: asyncio.Task[None]
    prm_path: str = "/.well-known/oauth-protected-resource/mcp"

    async def close(self) -> None:
        self.server.should_exit = True
        await self.task
        await self.verifier.close()

    def requests_with(self, token: str) -> int:
        return sum(1 for _, _, auth, _ in self.stats.requests if auth == f"Bearer {token}")

    def statuses(self) -> list[int]:
        return [status for *_, status in self.stats.requests]


def _build_mcp_server(
    authorization: AuthorizationServer,
    resource_url: str,
    verifier: IntrospectionVerifier,
    stats: ServerStats,
    required_scopes: list[str] | None,
    validate_resource: bool,
) -> Any:
    from mcp.server.auth.settings import AuthSettings
    from mcp.server.mcpserver import MCPServer

    server: Any = MCPServer(
        "oauth-test-server",
        token_verifier=verifier,
        auth=AuthSettings(
            issuer_url=authorization.issuer,
            resource_server_url=resource_url,
            required_scopes=required_scopes,
            validate_token_resource=validate_resource,
        ),
        log_level="WARNING",
    )

    @server.tool()
    async def echo(text: str) -> str:
        """Echo the text back."""
        return text

    @server.tool()
    async def slow(delay: float) -> str:
        """Sleep, counting how many calls run at once."""
        stats.calls += 1
        stats.active += 1
        stats.max_active = max(stats.max_active, stats.active)
        try:
            await asyncio.sleep(delay)
        finally:
            stats.active -= 1
        return "done"

    @server.tool()
    async def admin_op() -> str:
        """Needs the 'admin' scope (enforced by the shim)."""
        return "admin done"

    return server


class _Shim:
    """ASGI wrapper in front of the SDK app; see :class:`ShimOptions`."""

    def __init__(
        self,
        app: Any,
        rs: Callable[[], ResourceServer],
        authorization: AuthorizationServer,
    ) -> None:
        self.app = app
        self.rs = rs
        self.authorization = authorization

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rs = self.rs()
        options = rs.shim
        path, method = scope["path"], scope["method"]
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        auth = headers.get("authorization")
        status_box = [0]

        async def record_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status_box[0] = message["status"]
                # Recorded before the client can see the response, so tests never race it.
                rs.stats.requests.append((method, path, auth, message["status"]))
                if message["status"] == 401:
                    message["headers"] = self._rewrite_challenge(message["headers"], rs)
            await send(message)

        try:
            if path.startswith("/.well-known/oauth-protected-resource") or path == "/meta/prm":
                if options.prm_status is not None:
                    await _send_json(record_send, options.prm_status, {"error": "unavailable"})
                    return
                if options.prm != "sdk":
                    await self._serve_prm(path, rs, record_send)
                    return
            if options.proxy_as and (
                path in ("/authorize", "/token", "/register")
                or path.startswith("/.well-known/oauth-authorization-server")
            ):
                await self._proxy(scope, receive, record_send, options.proxy_metadata)
                return
            if method == "POST" and path == "/mcp" and options.tool_scopes and auth:
                body = await _read_body(receive)
                needed = _needed_scope(body, options.tool_scopes)
                if needed is not None:
                    info = await rs.verifier.introspect(auth.removeprefix("Bearer "))
                    have = set((info or {}).get("scope", "").split())
                    if info is not None and needed not in have:
                        wanted = " ".join(sorted(have | {needed}))
                        await _send_json(
                            record_send,
                            403,
                            {"error": "insufficient_scope"},
                            {
                                "www-authenticate": (
                                    f'Bearer error="insufficient_scope", scope="{wanted}", '
                                    f'resource_metadata="{rs.origin}{rs.prm_path}"'
                                ),
                            },
                        )
                        return
                receive = _replay(body)
            await self.app(scope, receive, record_send)
        finally:
            if not status_box[0]:
                rs.stats.requests.append((method, path, auth, 0))

    @staticmethod
    def _rewrite_challenge(raw: list[tuple[bytes, bytes]], rs: ResourceServer) -> list[Any]:
        options = rs.shim
        out = []
        for name, value in raw:
            if name.lower() == b"www-authenticate":
                text = value.decode()
                if options.challenge_metadata is not True or options.prm == "custom":
                    text = re.sub(r',\s*resource_metadata="[^"]*"', "", text)
                if isinstance(options.challenge_metadata, str):
                    text += f', resource_metadata="{options.challenge_metadata}"'
                elif options.prm == "custom":
                    text += f', resource_metadata="{rs.origin}/meta/prm"'
                if options.challenge_scope:
                    text += f', scope="{options.challenge_scope}"'
                value = text.encode()
            out.append((name, value))
        return out

    async def _serve_prm(self, path: str, rs: ResourceServer, send: Any) -> None:
        options = rs.shim
        locations = {"root": "/.well-known/oauth-protected-resource", "custom": "/meta/prm"}
        if locations.get(options.prm) != path:
            await _send_json(send, 404, {"error": "not_found"})
            return
        document = {
            "resource": rs.url,
            "authorization_servers": [self.authorization.issuer],
            "bearer_methods_supported": ["header"],
            **options.prm_override,
        }
        await _send_json(send, 200, document)

    async def _proxy(self, scope: dict[str, Any], receive: Any, send: Any, metadata: bool) -> None:
        path = scope["path"]
        if path.startswith("/.well-known/") and not metadata:
            await _send_json(send, 404, {"error": "not_found"})
            return
        body = await _read_body(receive)
        query = scope.get("query_string", b"").decode()
        url = self.authorization.origin + path + (f"?{query}" if query else "")
        forwarded = {
            k.decode(): v.decode()
            for k, v in scope["headers"]
            if k.lower() in (b"authorization", b"content-type", b"accept")
        }
        assert self.authorization._http is not None
        async with self.authorization._http.request(
            scope["method"], url, data=body, headers=forwarded, allow_redirects=False
        ) as response:
            payload = await response.read()
            keep = {
                k.lower(): v
                for k, v in response.headers.items()
                if k.lower() in ("content-type", "location", "www-authenticate")
            }
        await send(
            {
                "type": "http.response.start",
                "status": response.status,
                "headers": [(k.encode(), v.encode()) for k, v in keep.items()]
                + [(b"content-length", str(len(payload)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": payload})


def _needed_scope(body: bytes, tool_scopes: Mapping[str, str]) -> str | None:
    try:
        message = json.loads(body)
    except ValueError:
        return None
    if not isinstance(message, dict) or message.get("method") != "tools/call":
        return None
    return tool_scopes.get(str((message.get("params") or {}).get("name")))


async def _read_body(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


def _replay(body: bytes) -> Callable[[], Awaitable[dict[str, Any]]]:
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()
        return {"type": "http.disconnect"}

    return receive


async def _send_json(
    send: Any, status: int, data: Any, headers: Mapping[str, str] | None = None
) -> None:
    payload = json.dumps(data).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    raw += [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": payload})


async def start_resource_server(
    authorization: AuthorizationServer,
    *,
    shim: ShimOptions | None = None,
    required_scopes: list[str] | None = None,
    validate_resource: bool = True,
) -> ResourceServer:
    """Serve the SDK server at ``http://127.0.0.1:<port>/mcp`` behind the shim."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    origin = f"http://127.0.0.1:{port}"
    url = origin + "/mcp"
    stats = ServerStats()
    verifier = IntrospectionVerifier(authorization.introspection_url)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        mcp_server = _build_mcp_server(
            authorization, url, verifier, stats, required_scopes, validate_resource
        )
        app = mcp_server.streamable_http_app()
    holder: list[ResourceServer] = []
    config = uvicorn.Config(
        _Shim(app, lambda: holder[0], authorization),
        log_level="warning",
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    task = asyncio.ensure_future(server.serve(sockets=[sock]))
    rs = ResourceServer(
        url=url,
        origin=origin,
        shim=shim or ShimOptions(),
        stats=stats,
        verifier=verifier,
        server=server,
        task=task,
    )
    holder.append(rs)
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.005)
    return rs


# ------------------------------------------------------------------------------------------
# The user agent, and one environment per test.
# ------------------------------------------------------------------------------------------
class Browser:
    """Plays the user: opens the authorization URL (the AS auto-approves) and follows
    the redirect back to the client when ``follow`` is set."""

    def __init__(self, *, follow: bool = True) -> None:
        self.follow = follow
        self.visits: list[str] = []
        self.location: str | None = None
        self.status: int | None = None

    async def __call__(self, url: str) -> None:
        self.visits.append(url)
        async with aiohttp.ClientSession() as session:
            async with session.get(url, allow_redirects=False) as response:
                self.status = response.status
                self.location = response.headers.get("Location")
            if self.follow and self.status == 302 and self.location:
                async with session.get(self.location) as response:
                    await response.read()

    def callback(self) -> str:
        """For a FunctionCallbackHandler: the URL the user was redirected to."""
        assert self.location is not None, "the authorization server did not redirect"
        return self.location

    @property
    def last_query(self) -> dict[str, str]:
        from urllib.parse import parse_qsl

        return dict(parse_qsl(urlsplit(self.visits[-1]).query))


@dataclass
class Env:
    authorization: AuthorizationServer
    rs: ResourceServer
    clock: FakeClock
    browser: Browser


class env_context:
    """``async with env_context(...) as env``: an AS and the SDK resource server."""

    def __init__(
        self,
        options: ASOptions | None = None,
        *,
        shim: ShimOptions | None = None,
        required_scopes: list[str] | None = None,
        validate_resource: bool = True,
        browser: Browser | None = None,
    ) -> None:
        self.options = options
        self.shim = shim
        self.required_scopes = required_scopes
        self.validate_resource = validate_resource
        self.browser = browser or Browser()
        self._as: AuthorizationServer | None = None
        self._rs: ResourceServer | None = None

    async def __aenter__(self) -> Env:
        clock = FakeClock()
        self._as = await AuthorizationServer(self.options, clock=clock).start()
        self._rs = await start_resource_server(
            self._as,
            shim=self.shim,
            required_scopes=self.required_scopes,
            validate_resource=self.validate_resource,
        )
        return Env(self._as, self._rs, clock, self.browser)

    async def __aexit__(self, *exc: object) -> None:
        if self._rs is not None:
            await self._rs.close()
        if self._as is not None:
            await self._as.close()


#: The redirect URI headless tests register (nothing listens there).
REDIRECT_URI = "http://127.0.0.1:53682/callback"


def headless_oauth(env: Env, **kwargs: Any) -> Any:
    """An OAuth hook whose user agent is ``env.browser`` and whose callback is a function."""
    from mcp_async.auth.callback import FunctionCallbackHandler
    from mcp_async.auth.oauth import OAuth

    env.browser.follow = False
    kwargs.setdefault("clock", env.clock)
    return OAuth(
        redirect_handler=env.browser,
        callback_handler=FunctionCallbackHandler(env.browser.callback, redirect_uri=REDIRECT_URI),
        **kwargs,
    )
