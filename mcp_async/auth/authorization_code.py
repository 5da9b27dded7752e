"""The authorization code grant with PKCE S256 (OAuth 2.1): a user signs in once.

:class:`OAuth` discovers the server's authorization server (RFC 9728 → RFC 8414/OIDC),
identifies the client (pre-registered → client ID metadata document → RFC 7591
registration), sends the user to the authorization page, checks the redirect back
(state, then ``iss`` per RFC 9207) and exchanges the code. Refresh and step-up on
``insufficient_scope`` come from the hook every grant shares (:mod:`~mcp_async.auth.oauth_hook`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import logging
import time
from collections.abc import Mapping
from typing import Any

from yarl import URL

from .._config import TimeoutLike
from .._exceptions import AuthError, ConfigError, body_snippet
from ..protocol.oauth import check_endpoint, is_loopback_url, issuers_match, select_scope
from ..transports.http.base import Handler, HTTPRequest
from .callback import (
    AuthorizationResponse,
    CallbackHandler,
    LoopbackCallbackHandler,
    RedirectHandler,
    open_browser,
)
from .discovery import Discovery
from .dpop import DPoPKey
from .oauth_hook import _OAuthHook
from .pkce import PKCE, make_state, state_matches
from .storage import ClientRegistration, OAuthTokens, TokenStorage
from .token_endpoint import _REGISTRATION_METHODS, _SECRET_METHODS, Clock, _endpoint_error

__all__ = ["OAuth"]

logger = logging.getLogger("mcp_async.auth")


class OAuth(_OAuthHook):
    """OAuth 2.1 authorization code + PKCE for MCP servers (the user signs in once).

    On the first 401 the hook discovers the server's authorization server,
    identifies the client (``client_id`` if given; else ``client_metadata_url`` when
    the server supports client ID metadata documents; else dynamic registration,
    remembered in ``storage`` per issuer), sends the user to the authorization page
    through ``redirect_handler``, receives the redirect with ``callback_handler`` and
    exchanges the code. Tokens are kept in ``storage`` keyed by the server's resource
    URL, so a later run refreshes instead of asking again.

    Args:
        server_url: the MCP endpoint (default: the URL of the first request).
        client_id: the id of a pre-registered client.
        client_secret: the pre-registered client's secret, if it has one.
        token_endpoint_auth_method: how the pre-registered client authenticates at the
            token endpoint.
        client_metadata_url: an HTTPS URL of this client's metadata document (CIMD).
        client_name: the ``client_name`` dynamic registration sends.
        client_metadata: more RFC 7591 fields for dynamic registration, e.g.
            ``{"client_uri": ...}``.
        registration_auth_method: the ``token_endpoint_auth_method`` asked for when
            registering (``"none"``: a public client); the server's answer is used.
        redirect_handler: ``(url) -> None`` sends the user to the authorization page
            (default :func:`~mcp_async.auth.callback.open_browser`).
        callback_handler: receives the redirect back (default: a
            :class:`~mcp_async.auth.callback.LoopbackCallbackHandler` on 127.0.0.1).
        storage: a :class:`~mcp_async.auth.storage.TokenStorage` (default: in memory).
        issuer: only accept this authorization server.
        offline_access: ask for ``offline_access`` when the server advertises it.
        callback_timeout: seconds to wait for the user.
        refresh_margin: refresh this many seconds before expiry, in the background.
        max_step_up: re-authorizations for more scope per request.
        timeout: timeout of each request to the authorization server.
        clock: epoch-seconds clock (for tests).
        send: the HTTP ``send`` to use when not attached to a client.
        dpop: ``True`` to ask for DPoP-bound tokens (RFC 9449) with a fresh ES256 key, or
            a :class:`~mcp_async.auth.dpop.DPoPKey` to use; every token request and
            every request to the server then carries a fresh proof.

    Example::

        auth = OAuth(storage=FileTokenStorage("~/.config/app/tokens.json"))
        async with AsyncMCPClient("https://mcp.example.com/mcp", auth=auth) as client:
            await client.list_tools()
    """

    def __init__(
        self,
        *,
        server_url: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        token_endpoint_auth_method: str | None = None,
        client_metadata_url: str | None = None,
        client_name: str = "mcp-async",
        client_metadata: Mapping[str, Any] | None = None,
        registration_auth_method: str = "none",
        redirect_handler: RedirectHandler | None = None,
        callback_handler: CallbackHandler | None = None,
        storage: TokenStorage | None = None,
        issuer: str | None = None,
        offline_access: bool = True,
        callback_timeout: float = 300.0,
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
        self._preregistered: ClientRegistration | None = None
        if client_id is not None:
            if not isinstance(client_id, str) or not client_id:
                raise ConfigError("client_id must be a non-empty string")
            method = token_endpoint_auth_method
            if method is not None and method not in _REGISTRATION_METHODS:
                raise ConfigError(
                    f"token_endpoint_auth_method must be one of "
                    f"{', '.join(sorted(_REGISTRATION_METHODS))}, got {method!r}"
                )
            self._preregistered = ClientRegistration(
                client_id=client_id,
                client_secret=client_secret,
                token_endpoint_auth_method=method,
                issuer=issuer,
            )
        elif client_secret is not None:
            raise ConfigError("client_secret needs a client_id")
        if client_metadata_url is not None:
            parsed = URL(client_metadata_url)
            if parsed.path in ("", "/") or parsed.scheme not in ("http", "https"):
                raise ConfigError("client_metadata_url must be an HTTPS URL with a path")
            try:
                check_endpoint(client_metadata_url, "client_metadata_url", step="registration")
            except AuthError as exc:
                raise ConfigError(str(exc)) from None
        self._cimd_url = client_metadata_url
        if registration_auth_method not in _REGISTRATION_METHODS:
            raise ConfigError(
                f"registration_auth_method must be one of "
                f"{', '.join(sorted(_REGISTRATION_METHODS))}"
            )
        self._registration_auth_method = registration_auth_method
        self._client_name = client_name
        self._client_metadata = dict(client_metadata or {})
        self._redirect_handler: RedirectHandler = redirect_handler or open_browser
        self._callback: CallbackHandler = callback_handler or LoopbackCallbackHandler()
        self._issuer = issuer
        self._offline_access = offline_access
        if isinstance(callback_timeout, bool) or not callback_timeout > 0:
            raise ConfigError("callback_timeout must be a positive number of seconds")
        self.callback_timeout = float(callback_timeout)

    def _pinned_issuer(self) -> str | None:
        return self._issuer

    def _scope_for(self, context: Discovery, challenge_scope: str | None) -> str | None:
        scope = super()._scope_for(context, challenge_scope)
        return select_scope(scope, None, context.metadata, offline_access=self._offline_access)

    # -- client identity ------------------------------------------------------------------------
    async def _known_client(
        self, context: Discovery, redirect_uri: str | None
    ) -> ClientRegistration | None:
        if self._preregistered is not None:
            return self._bound_preregistered(context)
        if self._cimd_url is not None and context.metadata.client_id_metadata_document_supported:
            return ClientRegistration(client_id=self._cimd_url, token_endpoint_auth_method="none")
        stored = await self._storage.get_client_info(context.issuer)
        if stored is None or (
            stored.issuer is not None and not issuers_match(stored.issuer, context.issuer)
        ):
            return None
        if stored.is_secret_expired(self._clock()):
            return None
        if redirect_uri is not None and not _redirect_registered(stored, redirect_uri):
            return None
        return stored

    def _bound_preregistered(self, context: Discovery) -> ClientRegistration:
        """The pre-registered client, only ever at the one authorization server it is for.

        Without ``issuer=`` it is bound to the first issuer it is used with: credentials
        are never assumed portable across authorization servers (SEP-2352).
        """
        client = self._preregistered
        assert client is not None
        if client.issuer is None:
            client = self._preregistered = dataclasses.replace(client, issuer=context.issuer)
        elif not issuers_match(client.issuer, context.issuer):
            raise AuthError(
                f"the server now uses authorization server {context.issuer}, but client_id "
                f"{client.client_id!r} is registered at {client.issuer}; credentials are not "
                "portable across authorization servers (give a client_id for the new one, or "
                "leave client_id out to register dynamically)",
                step="registration",
            )
        return client

    async def _refresh_client(self, context: Discovery) -> ClientRegistration | None:
        return await self._known_client(context, None)

    async def _forget_client(self, context: Discovery) -> None:
        if self._preregistered is None:
            await self._storage.delete(context.issuer)

    async def _client_identity(self, context: Discovery, redirect_uri: str) -> ClientRegistration:
        known = await self._known_client(context, redirect_uri)
        if known is not None:
            return known
        endpoint = context.metadata.registration_endpoint
        if endpoint is None:
            raise AuthError(
                f"cannot identify this client to {context.issuer}: no client_id was given, it does "
                "not support client ID metadata documents (or none was configured) and it has "
                "no registration endpoint",
                step="registration",
            )
        metadata: dict[str, Any] = {
            **self._client_metadata,
            "client_name": self._client_name,
            "redirect_uris": [redirect_uri],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": self._registration_auth_method,
            "application_type": "native" if is_loopback_url(redirect_uri) else "web",
        }
        status, data = await self._http().post_json(
            endpoint, metadata, step="registration", what="registration endpoint"
        )
        if status not in (200, 201):
            raise _endpoint_error("registration endpoint", status, data, "registration")
        registration = ClientRegistration.from_registration_response(data, issuer=context.issuer)
        method = registration.token_endpoint_auth_method or (
            "client_secret_basic" if registration.client_secret else "none"
        )
        if method not in _REGISTRATION_METHODS:
            raise AuthError(
                f"registration returned token_endpoint_auth_method {method!r}, which this client "
                "cannot use",
                step="registration",
            )
        if method in _SECRET_METHODS and not registration.client_secret:
            raise AuthError(
                f"registration returned {method!r} without a client_secret", step="registration"
            )
        await self._storage.set_client_info(context.issuer, registration)
        logger.info("registered a client at %s", context.issuer)
        return registration

    # -- the authorization code grant ------------------------------------------------------------
    async def _grant(
        self, context: Discovery, scope: str | None, request: HTTPRequest
    ) -> OAuthTokens:
        metadata = context.metadata
        if not metadata.supports_s256:
            raise AuthError(
                f"{context.issuer} does not advertise PKCE S256 "
                "(code_challenge_methods_supported); refusing to authorize",
                step="authorization",
            )
        if metadata.authorization_endpoint is None:
            raise AuthError(
                f"{context.issuer} has no authorization_endpoint", step="authorization"
            )
        pkce = PKCE.generate()
        state = make_state()
        async with self._callback.listen() as pending:
            redirect_uri = pending.redirect_uri
            client = await self._client_identity(context, redirect_uri)
            params = {
                "response_type": "code",
                "client_id": client.client_id,
                "redirect_uri": redirect_uri,
                "state": state,
                "code_challenge": pkce.challenge,
                "code_challenge_method": "S256",
            }
            if scope:
                params["scope"] = scope
                if "offline_access" in scope.split():
                    params["prompt"] = "consent"
            if context.send_resource:
                params["resource"] = context.resource
            url = str(URL(metadata.authorization_endpoint).update_query(params))
            logger.info("sending the user to the authorization page of %s", context.issuer)
            await self._redirect(url)
            try:
                answer = await asyncio.wait_for(pending.wait(), self.callback_timeout)
            except TimeoutError as exc:
                raise AuthError(
                    f"no authorization callback within {self.callback_timeout:g} s",
                    step="authorization",
                ) from exc
        code = _check_authorization_response(answer, state, context)
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": pkce.verifier,
        }
        return await self._token_request(context, client, form, step="token")

    async def _redirect(self, url: str) -> None:
        try:
            result = self._redirect_handler(url)
            if inspect.isawaitable(result):
                await result
        except AuthError:
            raise
        except Exception as exc:
            raise AuthError(
                f"the redirect handler failed: {type(exc).__name__}: {exc}", step="authorization"
            ) from exc

    def __repr__(self) -> str:
        client = self._preregistered.client_id if self._preregistered else self._cimd_url
        return f"OAuth(server_url={self._server_url!r}, client_id={client!r})"


def _redirect_registered(registration: ClientRegistration, redirect_uri: str) -> bool:
    """Whether a stored registration covers ``redirect_uri``.

    Loopback IP redirect URIs match on any port (RFC 8252 §7.3), as servers must allow.
    """
    registered = registration.raw.get("redirect_uris")
    if not isinstance(registered, list):
        return True
    if redirect_uri in registered:
        return True
    wanted = URL(redirect_uri)
    if not is_loopback_url(wanted):
        return False
    for item in registered:
        if not isinstance(item, str):
            continue
        candidate = URL(item)
        if (candidate.scheme, candidate.host, candidate.path) == (
            wanted.scheme, wanted.host, wanted.path,
        ):
            return True
    return False


def _check_authorization_response(
    answer: AuthorizationResponse, state: str, context: Discovery
) -> str:
    """The code, after checking state, then ``iss`` (RFC 9207), then errors."""
    if not state_matches(state, answer.state):
        raise AuthError(
            "the authorization response's state does not match the request; refusing it",
            step="authorization",
        )
    if answer.iss is not None:
        if answer.iss != context.issuer:
            raise AuthError(
                f"the authorization response came from issuer {answer.iss!r}, expected "
                f"{context.issuer!r}; refusing it",
                step="authorization",
            )
    elif context.metadata.authorization_response_iss_parameter_supported:
        raise AuthError(
            "the authorization response has no 'iss' although the server advertises it",
            step="authorization",
        )
    if answer.error is not None:
        detail = f": {body_snippet(answer.error_description)}" if answer.error_description else ""
        raise AuthError(
            f"authorization was refused ({answer.error}){detail}", step="authorization"
        )
    if not answer.code:
        raise AuthError("the authorization response has no code", step="authorization")
    return answer.code
