"""Static or provider-backed bearer tokens."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable

from .._exceptions import AuthError, ConfigError, MCPClientError
from ..transports.http.base import Handler, HTTPRequest, HTTPResponse
from ..transports.http.hooks import Hook

__all__ = ["BearerAuth", "TokenProvider"]

#: ``provider(force_refresh)`` — or ``provider()`` — returns the token, sync or async.
#: ``force_refresh`` is True after the server refused the previous token.
TokenProvider = Callable[[bool], Awaitable[str] | str] | Callable[[], Awaitable[str] | str]


def _check_token(token: object, source: str) -> str:
    if not isinstance(token, str) or not token:
        raise ConfigError(f"{source} must be a non-empty string, got {type(token).__name__}")
    # A header value must be visible ASCII without spaces; anything else is a bug that
    # would otherwise surface as an obscure header error (or a header injection).
    if not all("\x21" <= ch <= "\x7e" for ch in token):
        raise ConfigError(f"{source} contains whitespace, control or non-ASCII characters")
    return token


def _takes_flag(provider: Callable[..., object]) -> bool:
    try:
        signature = inspect.signature(provider)
    except (TypeError, ValueError):
        return True
    try:
        signature.bind(True)
    except TypeError:
        try:
            signature.bind()
        except TypeError:
            raise ConfigError(
                "a token provider must accept (force_refresh: bool) or no arguments"
            ) from None
        return False
    return True


class BearerAuth(Hook):
    """Send ``Authorization: Bearer <token>`` on every request.

    ``token`` is a string, or a provider called for each request: ``(force_refresh:
    bool) -> str`` or ``() -> str``, plain or ``async``. The provider should cache;
    the hook does not. With a provider, a 401 answer makes the hook ask again with
    ``force_refresh=True`` and re-send the request once if the token changed.
    Concurrent 401s for the same token share one forced refresh.

    An exception from the provider becomes :class:`~mcp_async.AuthError` with
    ``step="token"`` (chained); a provider returning something that is not a usable
    token raises :class:`~mcp_async.ConfigError`. Tokens never appear in ``repr``
    or logs.

    Example::

        AsyncMCPClient(url, auth=BearerAuth(lambda force: vault.token(refresh=force)))
    """

    def __init__(self, token: str | TokenProvider) -> None:
        self._static: str | None = None
        self._provider: Callable[..., Awaitable[str] | str] | None = None
        self._takes_flag = False
        if isinstance(token, str):
            self._static = _check_token(token, "bearer token")
        elif callable(token):
            self._provider = token
            self._takes_flag = _takes_flag(token)
        else:
            raise ConfigError(
                f"token must be a string or a callable provider, got {type(token).__name__}"
            )
        self._refresh_lock = asyncio.Lock()
        #: (refused token, the token the forced refresh returned for it)
        self._last_refresh: tuple[str, str] | None = None

    async def token(self, force_refresh: bool = False) -> str:
        """The token to send now (asks the provider, if there is one)."""
        if self._static is not None:
            return self._static
        assert self._provider is not None
        try:
            value = self._provider(force_refresh) if self._takes_flag else self._provider()
            if inspect.isawaitable(value):
                value = await value
        except MCPClientError:
            raise
        except Exception as exc:
            raise AuthError(
                f"the bearer token provider failed: {type(exc).__name__}: {exc}", step="token"
            ) from exc
        return _check_token(value, "the bearer token provider's result")

    async def _refresh(self, stale: str) -> str:
        async with self._refresh_lock:
            # Another request already refreshed this refused token while we waited.
            if self._last_refresh is not None and self._last_refresh[0] == stale:
                return self._last_refresh[1]
            fresh = await self.token(force_refresh=True)
            self._last_refresh = (stale, fresh)
            return fresh

    async def around(self, request: HTTPRequest, call_next: Handler) -> HTTPResponse:
        """Attach the token; with a provider, refresh and re-send once on 401."""
        token = await self.token()
        request.headers["Authorization"] = f"Bearer {token}"
        response = await call_next(request)
        if response.status != 401 or self._provider is None:
            return response
        try:
            fresh = await self._refresh(token)
        except BaseException:
            response.release()
            raise
        if fresh == token:
            return response
        response.release()
        request.headers["Authorization"] = f"Bearer {fresh}"
        return await call_next(request)

    def __repr__(self) -> str:
        kind = "static" if self._static is not None else "provider"
        return f"{type(self).__name__}(<redacted {kind} token>)"
