"""OAuth 2.1 hooks for MCP servers, without serializing traffic.

* :class:`OAuth`: authorization code with PKCE S256 for a user, with discovery
  (RFC 9728 → RFC 8414/OIDC), client identity (pre-registered → client ID metadata
  document → RFC 7591 registration), refresh, and step-up on ``insufficient_scope``;
* :class:`ClientCredentials`: machine-to-machine tokens with ``client_secret_basic``,
  ``client_secret_post`` or ``private_key_jwt`` (RFC 7523);
* :class:`IdentityAssertionAuth`: enterprise cross-app access, an ID-JAG from the
  enterprise IdP (RFC 8693) presented with the jwt-bearer grant (RFC 7523).

Concurrency: no lock is held across a request. Tokens are read without waiting;
anything that replaces them (refresh, a new grant, a step-up) runs as one shared
task ("single flight") that every request needing new tokens awaits. A token that
is about to expire is refreshed in the background while requests keep using it.

Security: tokens go only to the origin of the MCP server they were issued for and
refresh tokens only to the authorization server that issued them; authorization
servers must use HTTPS (plain HTTP only on loopback); redirects are never followed;
nothing secret is logged or shown in a ``repr``. Every failure is an
:class:`~mcp_async.AuthError` whose ``step`` is ``discovery``, ``registration``,
``authorization``, ``token`` or ``refresh`` (``storage`` for the token storage).
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import logging
import secrets
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from yarl import URL

from .._config import Timeout, TimeoutLike, to_timeout
from .._exceptions import AuthError, ClientStateError, ConfigError, body_snippet
from ..protocol.mcp import PROTOCOL_VERSION_HEADER
from ..protocol.oauth import (
    Challenge,
    basic_authorization,
    bearer_challenge,
    canonical_resource,
    check_endpoint,
    is_loopback_url,
    issuers_match,
    resource_allowed,
    same_origin,
    select_scope,
    union_scopes,
)
from ..transports.http.base import Handler, HTTPRequest, HTTPResponse
from ..transports.http.hooks import Hook
from .callback import (
    AuthorizationResponse,
    CallbackHandler,
    LoopbackCallbackHandler,
    RedirectHandler,
    open_browser,
)
from .discovery import AuthHTTP, Discovery, discover, discover_issuer
from .dpop import DPoPKey, DPoPNonces
from .pkce import PKCE, make_state, state_matches
from .storage import ClientRegistration, MemoryTokenStorage, OAuthTokens, TokenStorage

__all__ = [
    "AssertionProvider",
    "ClientCredentials",
    "IdPTokenExchange",
    "IdentityAssertionAuth",
    "OAuth",
]

logger = logging.getLogger("mcp_async.auth")

#: Seconds since the epoch, like :func:`time.time` (injected in tests).
Clock = Callable[[], float]

JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"
ID_JAG_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id-jag"
ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token"
CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

_SECRET_METHODS = frozenset({"client_secret_basic", "client_secret_post"})
_REGISTRATION_METHODS = _SECRET_METHODS | {"none"}
_DEFAULT_TIMEOUT = Timeout(total=30.0, connect=10.0)


class _EndpointError(AuthError):
    """An OAuth error answer (RFC 6749 §5.2); ``error`` is its code, if it sent one."""

    def __init__(self, message: str, *, step: str, status: int, error: str | None) -> None:
        super().__init__(message, step=step, status=status)
        self.error = error


def _endpoint_error(what: str, status: int, data: Any, step: str) -> _EndpointError:
    error = description = None
    if isinstance(data, Mapping):
        raw_error, raw_description = data.get("error"), data.get("error_description")
        error = raw_error if isinstance(raw_error, str) else None
        description = raw_description if isinstance(raw_description, str) else None
    message = f"{what} refused the request (HTTP {status}"
    if error:
        message += f", {error}"
    message += ")"
    if description:
        message += f": {body_snippet(description)}"
    return _EndpointError(message, step=step, status=status, error=error)


def _client_auth(
    client: ClientRegistration,
    form: dict[str, str],
    headers: dict[str, str],
    *,
    step: str,
    assertion: Callable[[], str] | None = None,
) -> None:
    """Add client authentication for ``client`` to a token request."""
    method = client.token_endpoint_auth_method or (
        "client_secret_basic" if client.client_secret else "none"
    )
    if method in _SECRET_METHODS:
        if not client.client_secret:
            raise AuthError(f"client authentication {method} needs a client secret", step=step)
        if method == "client_secret_basic":
            headers["Authorization"] = basic_authorization(client.client_id, client.client_secret)
        else:
            form["client_id"] = client.client_id
            form["client_secret"] = client.client_secret
    elif method == "none":
        form["client_id"] = client.client_id
    elif method == "private_key_jwt" and assertion is not None:
        form["client_id"] = client.client_id
        form["client_assertion_type"] = CLIENT_ASSERTION_TYPE
        form["client_assertion"] = assertion()
    else:
        raise AuthError(f"unsupported token endpoint auth method {method!r}", step=step)


def _check_server_url(url: str) -> str:
    parsed = URL(url) if isinstance(url, str) else None
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
        raise ConfigError(f"server_url must be an absolute http(s) URL, got {url!r}")
    return str(parsed.with_fragment(None))


def _check_storage(storage: TokenStorage | None) -> TokenStorage:
    if storage is None:
        return MemoryTokenStorage()
    if not isinstance(storage, TokenStorage):
        raise ConfigError("storage must implement mcp_async.auth.storage.TokenStorage")
    return storage


def _drop_authorization(headers: dict[str, str]) -> None:
    for name in [name for name in headers if name.lower() == "authorization"]:
        del headers[name]


def _consume(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and (exc := task.exception()) is not None:
        logger.debug("background token renewal failed: %s", exc)


class _OAuthHook(Hook, ABC):
    """Token management shared by the OAuth hooks: the request path and single flight.

    Subclasses implement :meth:`_grant` (get tokens from scratch) and may override
    discovery, scope choice and the client used for refreshing.
    """

    #: Whether :meth:`_grant` needs no user, so expired tokens are replaced proactively.
    _silent = False

    def __init__(
        self,
        *,
        server_url: str | None,
        storage: TokenStorage | None,
        clock: Clock,
        refresh_margin: float,
        max_step_up: int,
        timeout: TimeoutLike,
        send: Handler | None,
        dpop: bool | DPoPKey = False,
    ) -> None:
        self._server_url = _check_server_url(server_url) if server_url is not None else None
        if isinstance(dpop, DPoPKey):
            self._dpop: DPoPKey | None = dpop
        elif dpop is True:
            self._dpop = DPoPKey.generate(clock=clock)
        elif dpop is False:
            self._dpop = None
        else:
            raise ConfigError(f"dpop must be True, False or a DPoPKey, got {dpop!r}")
        self._nonces = DPoPNonces()
        self._storage = _check_storage(storage)
        if not callable(clock):
            raise ConfigError("clock must be a callable returning epoch seconds")
        self._clock = clock
        if isinstance(refresh_margin, bool) or not refresh_margin >= 0:
            raise ConfigError("refresh_margin must be a non-negative number of seconds")
        #: Seconds before expiry at which a token is refreshed in the background.
        self.refresh_margin = float(refresh_margin)
        if isinstance(max_step_up, bool) or not isinstance(max_step_up, int) or max_step_up < 0:
            raise ConfigError("max_step_up must be a non-negative integer")
        #: Re-authorizations for more scope (403 ``insufficient_scope``) per request.
        self.max_step_up = max_step_up
        self._timeout = to_timeout(timeout, _DEFAULT_TIMEOUT)
        self._send = send
        self._tokens: OAuthTokens | None = None
        self._loaded = False
        self._load_lock = asyncio.Lock()
        self._discovery: Discovery | None = None
        self._requested_scope: str | None = None
        self._task: asyncio.Task[OAuthTokens | None] | None = None
        self._waiting: dict[asyncio.Task[OAuthTokens | None], int] = {}

    # -- wiring --------------------------------------------------------------------------
    def attach(self, send: Handler) -> None:
        """Use the client's bare transport for requests to authorization servers."""
        self._send = send

    @property
    def tokens(self) -> OAuthTokens | None:
        """The tokens in use (``None`` before the first grant or load)."""
        return self._tokens

    @property
    def discovery(self) -> Discovery | None:
        """What discovery found (``None`` until it ran)."""
        return self._discovery

    @property
    def dpop_key(self) -> DPoPKey | None:
        """The DPoP key every proof is signed with (``None``: plain bearer tokens)."""
        return self._dpop

    def _http(self) -> AuthHTTP:
        if self._send is None:
            raise ClientStateError(
                f"{type(self).__name__} is not attached to a transport: pass it as auth= to an "
                "open AsyncMCPClient, or give it send="
            )
        return AuthHTTP(self._send, timeout=self._timeout)

    def _server(self) -> str:
        assert self._server_url is not None
        return self._server_url

    def _token_key(self) -> str:
        return canonical_resource(self._server())

    # -- the request path ------------------------------------------------------------------
    async def around(self, request: HTTPRequest, call_next: Handler) -> HTTPResponse:
        """Add the bearer token; on 401 renew it, on 403 ``insufficient_scope`` step up."""
        if self._server_url is None:
            self._server_url = _check_server_url(str(URL(request.url).with_query(None)))
        if not same_origin(request.url, self._server_url):
            return await call_next(request)
        _drop_authorization(request.headers)
        tokens = await self._tokens_for_request(request)
        renewed = nonce_retried = False
        step_ups = 0
        while True:
            self._authorize(request, tokens)
            response = await call_next(request)
            if self._dpop is not None:
                self._nonces.update(request.url, response.headers)
            if response.status not in (401, 403):
                return response
            challenge = bearer_challenge(
                response.headers.get("WWW-Authenticate"), dpop=self._dpop is not None
            )
            if response.status == 401:
                if (
                    challenge is not None
                    and challenge.error == "use_dpop_nonce"
                    and tokens is not None
                    and self._nonces.get(request.url) is not None
                ):
                    # RFC 9449 §9: the server wants a nonce in the proof; one retry with it.
                    if nonce_retried:
                        return response
                    nonce_retried = True
                    response.release()
                    continue
                if renewed:
                    return response
                renewed = True
                response.release()
                tokens = await self._after_401(tokens, challenge, request)
                continue
            if (
                challenge is None
                or challenge.error != "insufficient_scope"
                or challenge.scope is None
                or step_ups >= self.max_step_up
            ):
                return response
            step_ups += 1
            response.release()
            tokens = await self._after_403(tokens, challenge, request)

    def _authorize(self, request: HTTPRequest, tokens: OAuthTokens | None) -> None:
        """Put ``tokens`` on ``request``: ``Bearer``, or ``DPoP`` with a fresh proof."""
        headers = request.headers
        headers.pop("DPoP", None)
        if tokens is None:
            headers.pop("Authorization", None)
        elif self._dpop is not None and tokens.token_type.lower() == "dpop":
            headers["Authorization"] = f"DPoP {tokens.access_token}"
            headers["DPoP"] = self._dpop.proof(
                request.method,
                request.url,
                access_token=tokens.access_token,
                nonce=self._nonces.get(request.url),
            )
        else:
            headers["Authorization"] = f"Bearer {tokens.access_token}"

    async def _tokens_for_request(self, request: HTTPRequest) -> OAuthTokens | None:
        await self._load()
        tokens = self._tokens
        if tokens is None:
            # Tokens are being obtained: wait rather than collect a 401 of our own.
            task = self._task
            return await self._join(task) if task is not None and not task.done() else None
        now = self._clock()
        renewable = tokens.refresh_token is not None or self._silent
        if tokens.is_expired(now):
            if not renewable:
                return None
            return await self._replace(tokens, self._fresh, lambda: self._renew(request))
        if renewable and tokens.is_expired(now, self.refresh_margin):
            self._background(lambda: self._renew(request))
        return tokens

    def _fresh(self, tokens: OAuthTokens) -> bool:
        return not tokens.is_expired(self._clock())

    async def _after_401(
        self, sent: OAuthTokens | None, challenge: Challenge | None, request: HTTPRequest
    ) -> OAuthTokens | None:
        return await self._replace(
            sent, self._fresh, lambda: self._recover(challenge, request, rejected=sent is not None)
        )

    async def _after_403(
        self, sent: OAuthTokens | None, challenge: Challenge, request: HTTPRequest
    ) -> OAuthTokens | None:
        needed = frozenset((challenge.scope or "").split())
        wanted = union_scopes(sent.scope if sent is not None else None, challenge.scope)
        logger.info("server asked for more scope; re-authorizing")
        return await self._replace(
            sent,
            lambda tokens: needed <= tokens.scopes,
            lambda: self._step_up(wanted, challenge, request),
        )

    # -- single flight -------------------------------------------------------------------------
    async def _replace(
        self,
        sent: OAuthTokens | None,
        good: Callable[[OAuthTokens], bool],
        make: Callable[[], Awaitable[OAuthTokens | None]],
    ) -> OAuthTokens | None:
        """Tokens better than ``sent``: wait for any flight, else start ``make`` as one."""
        while (task := self._task) is not None and not task.done():
            await self._join(task)
        current = self._tokens
        if (
            current is not None
            and (sent is None or current.access_token != sent.access_token)
            and good(current)
        ):
            return current
        task = self._task = asyncio.ensure_future(make())
        task.add_done_callback(_consume)
        return await self._join(task)

    def _background(self, make: Callable[[], Awaitable[OAuthTokens | None]]) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(make())
            self._task.add_done_callback(_consume)

    async def _join(self, task: asyncio.Task[OAuthTokens | None]) -> OAuthTokens | None:
        self._waiting[task] = self._waiting.get(task, 0) + 1
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            # The last caller waiting for an interactive flow gave up: stop the flow
            # (and its callback listener) instead of leaving it running unobserved.
            if not task.done() and self._waiting.get(task) == 1:
                task.cancel()
            raise
        finally:
            left = self._waiting.get(task, 1) - 1
            if left:
                self._waiting[task] = left
            else:
                self._waiting.pop(task, None)

    # -- flights ----------------------------------------------------------------------------
    async def _renew(self, request: HTTPRequest) -> OAuthTokens | None:
        """Replace expiring tokens without a user: refresh, else a silent grant."""
        context = await self._context(None, request)
        tokens = self._tokens
        if tokens is not None and tokens.refresh_token is not None:
            refreshed = await self._try_refresh(context, tokens)
            if refreshed is not None:
                return refreshed
        if self._silent:
            return await self._acquire(context, self._scope_for(context, None), request)
        return None

    async def _recover(
        self, challenge: Challenge | None, request: HTTPRequest, *, rejected: bool = False
    ) -> OAuthTokens | None:
        """After a 401: refresh if possible, else a new grant.

        ``rejected``: the server refused tokens we sent. Its resource metadata is read
        again, since it may now name another authorization server (SEP-2352).
        """
        context = await self._context(challenge, request, reread=rejected)
        tokens = self._tokens
        if tokens is not None and tokens.refresh_token is not None:
            refreshed = await self._try_refresh(context, tokens)
            if refreshed is not None:
                return refreshed
        scope = self._scope_for(context, challenge.scope if challenge is not None else None)
        return await self._acquire(context, scope, request)

    async def _step_up(
        self, wanted: str | None, challenge: Challenge, request: HTTPRequest
    ) -> OAuthTokens | None:
        context = await self._context(challenge, request)
        return await self._acquire(context, self._scope_for(context, wanted), request)

    async def _acquire(
        self, context: Discovery, scope: str | None, request: HTTPRequest
    ) -> OAuthTokens:
        tokens = await self._grant(context, scope, request)
        if tokens.scope is None and scope:
            # RFC 6749 §5.1: an omitted scope means the requested scope was granted.
            tokens = dataclasses.replace(tokens, scope=scope)
        self._requested_scope = scope
        await self._save(tokens)
        logger.info("obtained OAuth tokens from %s", context.issuer)
        return tokens

    async def _try_refresh(self, context: Discovery, tokens: OAuthTokens) -> OAuthTokens | None:
        # A storage shared by processes may offer ``refresh_lock(key)``, an async context
        # manager held across processes: one refresh per token, whatever the number of
        # workers (refresh tokens are often single-use). Under it, tokens another worker
        # refreshed meanwhile are reused instead of refreshed again.
        shared_lock = getattr(self._storage, "refresh_lock", None)
        if shared_lock is None:
            return await self._refresh_now(context, tokens)
        key = self._token_key()
        async with shared_lock(key):
            stored = await self._storage.get_tokens(key)
            if stored is not None and (
                stored.resource is None or resource_allowed(key, stored.resource)
            ):
                if stored.access_token != tokens.access_token and self._fresh(stored):
                    self._tokens = stored
                    logger.info("reusing OAuth tokens refreshed by another process")
                    return stored
                if stored.refresh_token is not None:
                    tokens = stored  # the newest refresh token
            return await self._refresh_now(context, tokens)

    async def _refresh_now(self, context: Discovery, tokens: OAuthTokens) -> OAuthTokens | None:
        assert tokens.refresh_token is not None
        client = await self._refresh_client(context)
        if client is None:
            return None
        form = {"grant_type": "refresh_token", "refresh_token": tokens.refresh_token}
        try:
            fresh = await self._token_request(
                context, client, form, step="refresh", previous=tokens
            )
        except _EndpointError as exc:
            if exc.error not in ("invalid_grant", "invalid_client", "unauthorized_client"):
                raise
            logger.info("refresh token refused (%s); starting over", exc.error)
            if exc.error != "invalid_grant":
                await self._forget_client(context)
            await self._forget_tokens()
            return None
        await self._save(fresh)
        logger.info("refreshed OAuth tokens at %s", context.issuer)
        return fresh

    # -- state -----------------------------------------------------------------------------------
    async def _load(self) -> None:
        if self._loaded:
            return
        async with self._load_lock:
            if self._loaded:
                return
            stored = await self._storage.get_tokens(self._token_key())
            if (
                stored is not None
                and self._tokens is None
                and (
                    stored.resource is None
                    or resource_allowed(self._token_key(), stored.resource)
                )
            ):
                self._tokens = stored
            self._loaded = True

    async def _save(self, tokens: OAuthTokens) -> None:
        self._tokens = tokens
        await self._storage.set_tokens(self._token_key(), tokens)

    async def _forget_tokens(self) -> None:
        self._tokens = None
        await self._storage.delete(self._token_key(), keep_client_info=True)

    async def _forget_client(self, context: Discovery) -> None:
        return None

    async def _context(
        self, challenge: Challenge | None, request: HTTPRequest, *, reread: bool = False
    ) -> Discovery:
        header_url = challenge.resource_metadata if challenge is not None else None
        context = self._discovery
        if (
            context is None
            or reread
            or (header_url is not None and header_url != context.prm_url)
        ):
            previous = context
            context = self._discovery = await self._discover(challenge, request)
            if previous is not None and not issuers_match(previous.issuer, context.issuer):
                logger.info(
                    "the server moved from authorization server %s to %s",
                    previous.issuer, context.issuer,
                )
            tokens = self._tokens
            if tokens is not None and tokens.issuer is not None and not issuers_match(
                tokens.issuer, context.issuer
            ):
                # Never hand a refresh token to an authorization server that did not issue it.
                await self._forget_tokens()
        return context

    async def _discover(self, challenge: Challenge | None, request: HTTPRequest) -> Discovery:
        return await discover(
            self._http(),
            self._server(),
            challenge,
            issuer=self._pinned_issuer(),
            protocol_version=request.headers.get(PROTOCOL_VERSION_HEADER),
        )

    def _pinned_issuer(self) -> str | None:
        return None

    # -- grants ------------------------------------------------------------------------------------
    def _scope_for(self, context: Discovery, challenge_scope: str | None) -> str | None:
        """Challenge scope, else the resource's ``scopes_supported``; plus earlier requests."""
        return union_scopes(self._requested_scope, select_scope(challenge_scope, context.prm))

    @abstractmethod
    async def _refresh_client(self, context: Discovery) -> ClientRegistration | None:
        """The client that may refresh tokens at ``context``'s server (``None``: cannot)."""

    @abstractmethod
    async def _grant(
        self, context: Discovery, scope: str | None, request: HTTPRequest
    ) -> OAuthTokens:
        """Get new tokens from scratch (may involve the user)."""

    def _assertion_for(self, context: Discovery) -> Callable[[], str] | None:
        return None

    async def _token_request(
        self,
        context: Discovery,
        client: ClientRegistration,
        form: Mapping[str, str],
        *,
        step: str,
        previous: OAuthTokens | None = None,
    ) -> OAuthTokens:
        body = dict(form)
        headers: dict[str, str] = {}
        _client_auth(client, body, headers, step=step, assertion=self._assertion_for(context))
        if context.send_resource:
            body["resource"] = context.resource
        endpoint = context.metadata.token_endpoint
        dpop = self._dpop
        if dpop is not None:
            _check_dpop_algorithm(dpop, context, step)
        for attempt in (1, 2):
            if dpop is not None:
                headers["DPoP"] = dpop.proof("POST", endpoint, nonce=self._nonces.get(endpoint))
            status, data, answer_headers = await self._http().send_form(
                endpoint, body, headers=headers, step=step, what="token endpoint"
            )
            if dpop is None:
                break
            fresh_nonce = self._nonces.update(endpoint, answer_headers)
            if not (
                attempt == 1
                and status == 400
                and fresh_nonce
                and isinstance(data, Mapping)
                and data.get("error") == "use_dpop_nonce"
            ):
                break
            # RFC 9449 §8: the authorization server wants a nonce; one retry with it.
        if status != 200:
            raise _endpoint_error("token endpoint", status, data, step)
        tokens = OAuthTokens.from_token_response(
            data, self._clock(), issuer=context.issuer, resource=context.resource,
            previous=previous, step=step,
        )
        token_type = tokens.token_type.lower()
        if token_type == "dpop" and dpop is None:
            raise AuthError(
                "token endpoint issued a DPoP-bound token, but DPoP is not enabled "
                "(pass dpop=True)",
                step=step,
            )
        if token_type not in ("bearer", "dpop"):
            raise AuthError(
                f"token endpoint issued a {tokens.token_type!r} token; only Bearer and DPoP "
                "are supported",
                step=step,
            )
        return tokens

    def __repr__(self) -> str:
        return f"{type(self).__name__}(server_url={self._server_url!r})"


def _check_dpop_algorithm(dpop: DPoPKey, context: Discovery, step: str) -> None:
    """Refuse early when the authorization server lists DPoP algorithms without ours."""
    supported = context.metadata.raw.get("dpop_signing_alg_values_supported")
    if isinstance(supported, list) and supported and dpop.algorithm not in supported:
        raise AuthError(
            f"{context.issuer} accepts DPoP proofs signed with {', '.join(map(str, supported))}, "
            f"not {dpop.algorithm}; give dpop=DPoPKey.generate(...) one of those",
            step=step,
        )


# -- authorization code -----------------------------------------------------------------------
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


# -- client credentials -----------------------------------------------------------------------
def _load_jwt() -> Any:
    try:
        import jwt
    except ImportError as exc:  # pragma: no cover - pyjwt is a dependency
        raise ConfigError("private_key_jwt needs pyjwt: pip install 'mcp-async[jwt]'") from exc
    return jwt


_ASYMMETRIC_PREFIXES = ("RS", "PS", "ES")


class ClientCredentials(_OAuthHook):
    """OAuth ``client_credentials`` for machine-to-machine access to MCP servers.

    The client authenticates with a secret (``client_secret_basic`` by default, or
    ``client_secret_post``) or, given ``private_key``, with an RFC 7523 assertion
    (``private_key_jwt``: ``iss`` = ``sub`` = client id, ``aud`` = the authorization
    server's issuer, a fresh ``jti``, signed with pyjwt). Tokens are fetched on the
    first 401 and replaced before they expire, without a user.

    Set ``issuer`` so the secret can only ever reach the authorization server you
    expect (otherwise the first one the MCP server advertises is used). ``dpop=True``
    asks for DPoP-bound tokens, as with :class:`OAuth`.

    Example::

        auth = ClientCredentials("svc-1", private_key=pem, key_id="k1",
                                 issuer="https://login.example.com", scope="mcp:tools")
    """

    _silent = True

    def __init__(
        self,
        client_id: str,
        client_secret: str | None = None,
        *,
        private_key: Any = None,
        algorithm: str = "RS256",
        key_id: str | None = None,
        token_endpoint_auth_method: str | None = None,
        scope: str | None = None,
        issuer: str | None = None,
        assertion_lifetime: float = 60.0,
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
        method = token_endpoint_auth_method or (
            "private_key_jwt" if private_key is not None else "client_secret_basic"
        )
        if method == "private_key_jwt":
            if private_key is None:
                raise ConfigError("private_key_jwt needs private_key")
            if algorithm != "EdDSA" and not algorithm.startswith(_ASYMMETRIC_PREFIXES):
                raise ConfigError(
                    f"private_key_jwt needs an asymmetric algorithm (RS*, PS*, ES*, EdDSA), "
                    f"got {algorithm!r}"
                )
            try:
                _load_jwt().encode({"probe": True}, private_key, algorithm=algorithm)
            except ConfigError:
                raise
            except Exception as exc:
                raise ConfigError(
                    f"private_key cannot sign with {algorithm}: {type(exc).__name__}"
                ) from None
        elif method in _SECRET_METHODS:
            if not client_secret:
                raise ConfigError(f"{method} needs client_secret")
        else:
            raise ConfigError(
                "token_endpoint_auth_method must be client_secret_basic, client_secret_post "
                f"or private_key_jwt, got {method!r}"
            )
        if isinstance(assertion_lifetime, bool) or not assertion_lifetime > 0:
            raise ConfigError("assertion_lifetime must be a positive number of seconds")
        self._client = ClientRegistration(
            client_id=client_id,
            client_secret=client_secret,
            token_endpoint_auth_method=method,
            issuer=issuer,
        )
        self._private_key = private_key
        self._algorithm = algorithm
        self._key_id = key_id
        self._assertion_lifetime = float(assertion_lifetime)
        self._scope = " ".join(scope.split()) if scope else None
        self._issuer = issuer

    def _pinned_issuer(self) -> str | None:
        return self._issuer

    def _scope_for(self, context: Discovery, challenge_scope: str | None) -> str | None:
        scope = union_scopes(self._requested_scope, challenge_scope, self._scope)
        return scope or select_scope(None, context.prm)

    async def _refresh_client(self, context: Discovery) -> ClientRegistration | None:
        return self._client

    def _assertion_for(self, context: Discovery) -> Callable[[], str] | None:
        if self._client.token_endpoint_auth_method != "private_key_jwt":
            return None
        return lambda: self.client_assertion(context.issuer)

    def client_assertion(self, audience: str) -> str:
        """A fresh RFC 7523 client assertion for ``audience`` (the AS issuer)."""
        jwt = _load_jwt()
        now = int(self._clock())
        claims = {
            "iss": self._client.client_id,
            "sub": self._client.client_id,
            "aud": audience,
            "iat": now,
            "exp": now + int(self._assertion_lifetime),
            "jti": secrets.token_urlsafe(16),
        }
        headers = {"kid": self._key_id} if self._key_id else None
        try:
            token: str = jwt.encode(
                claims, self._private_key, algorithm=self._algorithm, headers=headers
            )
        except Exception as exc:
            raise AuthError(
                f"cannot sign the client assertion: {type(exc).__name__}", step="token"
            ) from exc
        return token

    async def _grant(
        self, context: Discovery, scope: str | None, request: HTTPRequest
    ) -> OAuthTokens:
        form = {"grant_type": "client_credentials"}
        if scope:
            form["scope"] = scope
        return await self._token_request(context, self._client, form, step="token")

    def __repr__(self) -> str:
        return (
            f"ClientCredentials(client_id={self._client.client_id!r}, "
            f"auth_method={self._client.token_endpoint_auth_method!r}, issuer={self._issuer!r})"
        )


# -- enterprise identity assertion (ID-JAG) ---------------------------------------------------
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


async def _call(fn: Callable[..., Any], *args: Any) -> Any:
    try:
        value = fn(*args)
        if inspect.isawaitable(value):
            value = await value
    except AuthError:
        raise
    except Exception as exc:
        raise AuthError(
            f"{getattr(fn, '__qualname__', 'callback')} failed: {type(exc).__name__}: {exc}",
            step="authorization",
        ) from exc
    return value
