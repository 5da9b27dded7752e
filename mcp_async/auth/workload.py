"""Workload identity federation: a platform-issued JWT exchanged for MCP tokens (SEP-1933).

A workload (a pod, a CI job, a cloud function) already holds a short-lived JWT from its
platform's identity provider: a Kubernetes projected service-account token, a GitHub
Actions OIDC token, a cloud metadata token. :class:`WorkloadIdentity` presents it to the
MCP server's authorization server with the RFC 7523 JWT-bearer grant, as a **public**
client (a ``client_id`` and no secret), and gets access tokens without a user.

The identity token is read anew for every grant (platforms rotate the file in place),
and a token that has expired by its ``exp`` claim is never sent. Refusals
(``invalid_grant``, ``invalid_scope``, ``unauthorized_client``) are raised as
:class:`~mcp_async.AuthError` at once: the grant is not retried and no other grant is
tried in its place.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from .._config import TimeoutLike
from .._exceptions import AuthError, ConfigError
from ..protocol.mcp import PROTOCOL_VERSION_HEADER
from ..protocol.oauth import Challenge, check_endpoint, select_scope, union_scopes
from ..transports.http.base import Handler, HTTPRequest
from .discovery import Discovery, discover_issuer
from .dpop import DPoPKey
from .oauth_hook import _call, _OAuthHook
from .storage import ClientRegistration, OAuthTokens, TokenStorage
from .token_endpoint import JWT_BEARER_GRANT, Clock

__all__ = ["IdentityTokenSource", "WorkloadIdentity"]

#: ``() -> JWT``: a function returning the workload's identity token (sync or async).
IdentityTokenSource = Callable[[], Awaitable[str] | str]

#: Seconds of clock skew allowed when checking the identity token's ``exp``.
_EXPIRY_LEEWAY = 5.0


def _unverified_expiry(token: str) -> float | None:
    """The ``exp`` claim of a JWT, read without verifying it (the AS verifies it)."""
    parts = token.split(".")
    if len(parts) != 3:
        raise AuthError("the workload identity token is not a JWT", step="token")
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise AuthError("the workload identity token is not a readable JWT", step="token") from exc
    if not isinstance(claims, dict):
        raise AuthError("the workload identity token's claims are not an object", step="token")
    exp = claims.get("exp")
    if exp is None:
        return None
    if isinstance(exp, bool) or not isinstance(exp, int | float):
        raise AuthError("the workload identity token's 'exp' is not a number", step="token")
    return float(exp)


class WorkloadIdentity(_OAuthHook):
    """OAuth JWT-bearer grant (RFC 7523) with a workload identity token, as a public client.

    Exactly one of ``token_file``, ``token_env`` or ``token`` says where the identity
    token comes from: a file (re-read for every grant), an environment variable, or a
    sync/async function. The authorization server is the one the MCP server advertises,
    or ``issuer`` when given (recommended: the identity token then only ever goes there).

    Args:
        client_id: this workload's client id at the authorization server (no secret).
        token_file: path of a file holding the identity JWT.
        token_env: name of an environment variable holding the identity JWT.
        token: a function returning the identity JWT.
        scope: scopes to ask for (default: the server's challenge or ``scopes_supported``).
        issuer: only accept this authorization server.
        dpop: ask for DPoP-bound tokens (see :class:`~mcp_async.auth.OAuth`).

    Example::

        auth = WorkloadIdentity(
            "my-agent", token_file="/var/run/secrets/tokens/mcp-token",
            issuer="https://auth.example.com",
        )
        async with AsyncMCPClient("https://mcp.example.com/mcp", auth=auth) as client:
            tools = await client.list_tools()
    """

    _silent = True

    def __init__(
        self,
        client_id: str,
        *,
        token_file: str | os.PathLike[str] | None = None,
        token_env: str | None = None,
        token: IdentityTokenSource | None = None,
        scope: str | None = None,
        issuer: str | None = None,
        server_url: str | None = None,
        storage: TokenStorage | None = None,
        refresh_margin: float = 60.0,
        max_step_up: int = 2,
        timeout: TimeoutLike = None,
        clock: Clock = time.time,
        send: Handler | None = None,
        dpop: bool | DPoPKey = False,
    ) -> None:
        super().__init__(
            server_url=server_url, storage=storage, clock=clock, refresh_margin=refresh_margin,
            max_step_up=max_step_up, timeout=timeout, send=send, dpop=dpop,
        )
        if not isinstance(client_id, str) or not client_id:
            raise ConfigError("client_id must be a non-empty string")
        sources = [source for source in (token_file, token_env, token) if source is not None]
        if len(sources) != 1:
            raise ConfigError(
                "WorkloadIdentity needs exactly one of token_file, token_env or token"
            )
        if token is not None and not callable(token):
            raise ConfigError("token must be a function returning the identity JWT")
        if token_env is not None and (not isinstance(token_env, str) or not token_env):
            raise ConfigError("token_env must be the name of an environment variable")
        if issuer is not None:
            try:
                check_endpoint(issuer, "issuer", step="discovery")
            except AuthError as exc:
                raise ConfigError(str(exc)) from None
        self._token_file = Path(token_file).expanduser() if token_file is not None else None
        self._token_env = token_env
        self._token_source = token
        self._client = ClientRegistration(
            client_id=client_id, token_endpoint_auth_method="none", issuer=issuer
        )
        self._scope = " ".join(scope.split()) if scope else None
        self._issuer = issuer

    def _pinned_issuer(self) -> str | None:
        return self._issuer

    async def _discover(self, challenge: Challenge | None, request: HTTPRequest) -> Discovery:
        if self._issuer is None:
            return await super()._discover(challenge, request)
        return await discover_issuer(
            self._http(), self._issuer, self._server(),
            protocol_version=request.headers.get(PROTOCOL_VERSION_HEADER),
        )

    def _scope_for(self, context: Discovery, challenge_scope: str | None) -> str | None:
        scope = union_scopes(self._requested_scope, challenge_scope, self._scope)
        return scope or select_scope(None, context.prm)

    async def _refresh_client(self, context: Discovery) -> ClientRegistration | None:
        return self._client

    async def identity_token(self) -> str:
        """The workload's identity JWT, read now from its source and checked for expiry."""
        if self._token_file is not None:
            try:
                value = self._token_file.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise AuthError(
                    f"cannot read the workload identity token from {self._token_file}: "
                    f"{exc.strerror or type(exc).__name__}",
                    step="token",
                ) from exc
            origin = str(self._token_file)
        elif self._token_env is not None:
            value = os.environ.get(self._token_env, "").strip()
            origin = f"${self._token_env}"
        else:
            assert self._token_source is not None
            produced = await _call(self._token_source)
            value = produced.strip() if isinstance(produced, str) else ""
            origin = "the token function"
        if not value:
            raise AuthError(f"no workload identity token in {origin}", step="token")
        expiry = _unverified_expiry(value)
        if expiry is not None and expiry + _EXPIRY_LEEWAY < self._clock():
            raise AuthError(
                f"the workload identity token in {origin} expired at {expiry:.0f} "
                "(epoch seconds); the platform has not renewed it",
                step="token",
            )
        return value

    async def _grant(
        self, context: Discovery, scope: str | None, request: HTTPRequest
    ) -> OAuthTokens:
        form = {"grant_type": JWT_BEARER_GRANT, "assertion": await self.identity_token()}
        if scope:
            form["scope"] = scope
        return await self._token_request(context, self._client, form, step="token")

    def __repr__(self) -> str:
        source = (
            f"token_file={str(self._token_file)!r}" if self._token_file is not None
            else f"token_env={self._token_env!r}" if self._token_env is not None
            else "token=<function>"
        )
        return (
            f"WorkloadIdentity(client_id={self._client.client_id!r}, {source}, "
            f"issuer={self._issuer!r})"
        )
