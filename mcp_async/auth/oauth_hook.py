"""What every OAuth hook shares: the HTTP hook that puts tokens on requests, and their life.

:class:`_OAuthHook` adds the token to each request to the MCP server (``Bearer``, or ``DPoP``
with a fresh proof), renews it on a 401, steps up on a 403 ``insufficient_scope``, refreshes
it before it expires, and keeps it in the token storage. A grant (authorization code,
client credentials, identity assertion, workload identity) subclasses it and says how to get
tokens from scratch.

Concurrency: no lock is held across a request. Tokens are read without waiting; anything
that replaces them (refresh, a new grant, a step-up) runs as one shared task ("single
flight") that every request needing new tokens awaits. A token that is about to expire is
refreshed in the background while requests keep using it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import logging
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from yarl import URL

from .._config import Timeout, TimeoutLike, to_timeout
from .._exceptions import AuthError, ClientStateError, ConfigError
from ..protocol.mcp import PROTOCOL_VERSION_HEADER
from ..protocol.oauth import (
    Challenge,
    bearer_challenge,
    canonical_resource,
    issuers_match,
    resource_allowed,
    same_origin,
    select_scope,
    union_scopes,
)
from ..transports.http.base import Handler, HTTPRequest, HTTPResponse
from ..transports.http.hooks import Hook
from .discovery import AuthHTTP, Discovery, discover
from .dpop import DPoPKey, DPoPNonces
from .storage import ClientRegistration, MemoryTokenStorage, OAuthTokens, TokenStorage
from .token_endpoint import Clock, _EndpointError, request_tokens

logger = logging.getLogger("mcp_async.auth")

_DEFAULT_TIMEOUT = Timeout(total=30.0, connect=10.0)


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
        return await request_tokens(
            self._http,
            context,
            client,
            form,
            step=step,
            clock=self._clock,
            dpop=self._dpop,
            nonces=self._nonces,
            assertion=self._assertion_for(context),
            previous=previous,
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(server_url={self._server_url!r})"


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
