"""Enterprise-managed authorization (cross-app access): an identity assertion grant.

:class:`IdentityAssertionAuth` gets an ID-JAG from the enterprise identity provider
(RFC 8693 token exchange, :class:`IdPTokenExchange`, or an :data:`AssertionProvider`
function) and presents it at the MCP authorization server with the RFC 7523 jwt-bearer
grant.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Awaitable, Callable, Mapping

from .._config import TimeoutLike
from .._exceptions import AuthError, ConfigError
from ..protocol.mcp import PROTOCOL_VERSION_HEADER
from ..protocol.oauth import Challenge, check_endpoint, union_scopes
from ..transports.http.base import Handler, HTTPRequest
from .discovery import Discovery, discover_issuer
from .dpop import DPoPKey
from .oauth_hook import _call, _OAuthHook
from .storage import ClientRegistration, OAuthTokens, TokenStorage
from .token_endpoint import (
    _REGISTRATION_METHODS,
    _SECRET_METHODS,
    ID_JAG_TOKEN_TYPE,
    ID_TOKEN_TYPE,
    JWT_BEARER_GRANT,
    TOKEN_EXCHANGE_GRANT,
    Clock,
    _client_auth,
    _endpoint_error,
)

__all__ = ["AssertionProvider", "IdPTokenExchange", "IdentityAssertionAuth"]


#: ``provider(audience, resource, scope) -> ID-JAG``: get an identity assertion grant
#: some other way than :class:`IdPTokenExchange` (sync or async).
AssertionProvider = Callable[[str, str, str | None], Awaitable[str] | str]


@dataclasses.dataclass(frozen=True, slots=True, repr=False)
class IdPTokenExchange:
    """How to get an ID-JAG from the enterprise identity provider (RFC 8693).

    ``subject_token`` is the user's identity assertion at the IdP (by default an ID
    token), or a sync/async function returning it (called for every exchange).
    The exchange asks for ``urn:ietf:params:oauth:token-type:id-jag`` with the MCP
    authorization server's issuer as ``audience`` and the MCP server as ``resource``.
    """

    token_endpoint: str
    subject_token: str | Callable[[], Awaitable[str] | str]
    client_id: str
    client_secret: str | None = None
    token_endpoint_auth_method: str = "client_secret_basic"
    subject_token_type: str = ID_TOKEN_TYPE

    def __post_init__(self) -> None:
        if self.token_endpoint_auth_method not in _REGISTRATION_METHODS:
            raise ConfigError(
                "IdPTokenExchange.token_endpoint_auth_method must be client_secret_basic, "
                "client_secret_post or none"
            )
        if self.token_endpoint_auth_method in _SECRET_METHODS and not self.client_secret:
            raise ConfigError(f"{self.token_endpoint_auth_method} needs client_secret")
        try:
            check_endpoint(self.token_endpoint, "IdP token endpoint", step="authorization")
        except AuthError as exc:
            raise ConfigError(str(exc)) from None

    def __repr__(self) -> str:
        return (
            f"IdPTokenExchange(token_endpoint={self.token_endpoint!r}, "
            f"client_id={self.client_id!r}, subject_token=<redacted>)"
        )


class IdentityAssertionAuth(_OAuthHook):
    """Enterprise-managed authorization: ID-JAG from the IdP, then jwt-bearer at the AS.

    The MCP authorization server is configuration (``issuer``), never taken from the
    MCP server, so neither the assertion nor the client secret can be steered
    elsewhere. For each grant, ``identity`` yields an Identity Assertion JWT
    Authorization Grant: an :class:`IdPTokenExchange` performs the RFC 8693 exchange
    at the IdP, or an :data:`AssertionProvider` function returns one. It is then
    exchanged at the authorization server with the RFC 7523 jwt-bearer grant,
    authenticating as a confidential client. ``dpop=True`` asks for DPoP-bound tokens,
    as with :class:`OAuth`.

    Example::

        auth = IdentityAssertionAuth(
            issuer="https://auth.mcp.example.com",
            client_id="agent", client_secret=secret,
            identity=IdPTokenExchange(
                token_endpoint="https://idp.corp.example/oauth2/token",
                subject_token=current_id_token, client_id="agent-at-idp", client_secret=s2,
            ),
        )
    """

    _silent = True

    def __init__(
        self,
        *,
        issuer: str,
        client_id: str,
        client_secret: str,
        identity: IdPTokenExchange | AssertionProvider,
        token_endpoint_auth_method: str = "client_secret_basic",
        scope: str | None = None,
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
        try:
            check_endpoint(issuer, "issuer", step="discovery")
        except AuthError as exc:
            raise ConfigError(str(exc)) from None
        if not client_id or not client_secret:
            raise ConfigError("IdentityAssertionAuth needs client_id and client_secret")
        if token_endpoint_auth_method not in _SECRET_METHODS:
            raise ConfigError(
                "token_endpoint_auth_method must be client_secret_basic or client_secret_post"
            )
        if not isinstance(identity, IdPTokenExchange) and not callable(identity):
            raise ConfigError("identity must be an IdPTokenExchange or an assertion provider")
        self._issuer = issuer
        self._client = ClientRegistration(
            client_id=client_id,
            client_secret=client_secret,
            token_endpoint_auth_method=token_endpoint_auth_method,
            issuer=issuer,
        )
        self._identity = identity
        self._scope = " ".join(scope.split()) if scope else None

    async def _discover(self, challenge: Challenge | None, request: HTTPRequest) -> Discovery:
        return await discover_issuer(
            self._http(), self._issuer, self._server(),
            protocol_version=request.headers.get(PROTOCOL_VERSION_HEADER),
        )

    def _scope_for(self, context: Discovery, challenge_scope: str | None) -> str | None:
        return union_scopes(self._requested_scope, challenge_scope, self._scope)

    async def _refresh_client(self, context: Discovery) -> ClientRegistration | None:
        return self._client

    async def _grant(
        self, context: Discovery, scope: str | None, request: HTTPRequest
    ) -> OAuthTokens:
        form = {"grant_type": JWT_BEARER_GRANT, "assertion": await self._id_jag(context, scope)}
        if scope:
            form["scope"] = scope
        return await self._token_request(context, self._client, form, step="token")

    async def _id_jag(self, context: Discovery, scope: str | None) -> str:
        identity = self._identity
        if not isinstance(identity, IdPTokenExchange):
            value = await _call(identity, context.issuer, context.resource, scope)
            if not isinstance(value, str) or not value:
                raise AuthError("the assertion provider returned no ID-JAG", step="authorization")
            return value
        subject = identity.subject_token
        subject_token = subject if isinstance(subject, str) else await _call(subject)
        if not isinstance(subject_token, str) or not subject_token:
            raise AuthError("no subject token for the IdP exchange", step="authorization")
        form = {
            "grant_type": TOKEN_EXCHANGE_GRANT,
            "requested_token_type": ID_JAG_TOKEN_TYPE,
            "audience": context.issuer,
            "resource": context.resource,
            "subject_token": subject_token,
            "subject_token_type": identity.subject_token_type,
        }
        if scope:
            form["scope"] = scope
        headers: dict[str, str] = {}
        idp_client = ClientRegistration(
            client_id=identity.client_id,
            client_secret=identity.client_secret,
            token_endpoint_auth_method=identity.token_endpoint_auth_method,
        )
        _client_auth(idp_client, form, headers, step="authorization")
        status, data = await self._http().post_form(
            identity.token_endpoint, form, headers=headers, step="authorization",
            what="identity provider token endpoint",
        )
        if status != 200:
            raise _endpoint_error("identity provider token endpoint", status, data, "authorization")
        if not isinstance(data, Mapping) or data.get("issued_token_type") != ID_JAG_TOKEN_TYPE:
            raise AuthError(
                "the identity provider did not issue an ID-JAG", step="authorization"
            )
        assertion = data.get("access_token")
        if not isinstance(assertion, str) or not assertion:
            raise AuthError("the identity provider's answer has no ID-JAG", step="authorization")
        return assertion

    def __repr__(self) -> str:
        return (
            f"IdentityAssertionAuth(issuer={self._issuer!r}, "
            f"client_id={self._client.client_id!r})"
        )
