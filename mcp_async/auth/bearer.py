"""Static or provider-backed bearer tokens."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable

from .._exceptions import ConfigError
from .._hooks import Hook
from ..transports.base import Handler, HTTPRequest, HTTPResponse

__all__ = ["BearerAuth", "TokenProvider"]

#: ``provider(force_refresh)`` returns the token, sync or async. ``force_refresh`` is True
#: after the server refused the previous token.
TokenProvider = Callable[[bool], Awaitable[str] | str]


class BearerAuth(Hook):
    """Send ``Authorization: Bearer <token>`` on every request.

    ``token`` is a string, or a provider ``(force_refresh: bool) -> str`` (sync or async)
    called for each request. With a provider, a 401 answer makes the hook ask once more
    with ``force_refresh=True`` and re-send the request if the token changed.

    Example::

        AsyncMCPClient(url, auth=BearerAuth(lambda force: vault.token(refresh=force)))
    """

    def __init__(self, token: str | TokenProvider) -> None:
        if isinstance(token, str):
            if not token or "\n" in token or "\r" in token:
                raise ConfigError("bearer token must be a non-empty single-line string")
            self._static: str | None = token
            self._provider: TokenProvider | None = None
        elif callable(token):
            self._static = None
            self._provider = token
        else:
            raise ConfigError("token must be a string or a callable provider")

    async def token(self, force_refresh: bool = False) -> str:
        """The token to send now."""
        if self._static is not None:
            return self._static
        assert self._provider is not None
        value = self._provider(force_refresh)
        if inspect.isawaitable(value):
            value = await value
        if not isinstance(value, str) or not value:
            raise ConfigError("the bearer token provider must return a non-empty string")
        return value

    async def around(self, request: HTTPRequest, call_next: Handler) -> HTTPResponse:
        token = await self.token()
        request.headers["Authorization"] = f"Bearer {token}"
        response = await call_next(request)
        if response.status != 401 or self._provider is None:
            return response
        fresh = await self.token(force_refresh=True)
        if fresh == token:
            return response
        response.release()
        request.headers["Authorization"] = f"Bearer {fresh}"
        return await call_next(request)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(<redacted>)"
