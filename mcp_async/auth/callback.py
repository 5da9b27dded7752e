"""The user-agent step of the authorization code flow, made pluggable.

Two roles, as in the MCP specification:

* a **redirect handler** ``async (authorization_url) -> None`` sends the user to the
  authorization server: :func:`open_browser` (the default) or
  :func:`print_authorization_url`;
* a **callback handler** receives the redirect back, with the code and state:
  :class:`LoopbackCallbackHandler` (a one-shot listener on ``127.0.0.1``) or
  :class:`FunctionCallbackHandler` (your function returns the redirected URL, the
  query parameters or ``(code, state)``; for headless use and tests).

A callback handler's :meth:`~CallbackHandler.listen` is an async context manager: the
redirect URI is known (and the listener bound) inside it, so it can be registered
with the authorization server before the user is sent there.
"""

from __future__ import annotations

import asyncio
import inspect
import sys
import webbrowser
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Protocol, runtime_checkable
from urllib.parse import parse_qsl, urlsplit

from aiohttp import web
from yarl import URL

from .._exceptions import AuthError, ConfigError
from ..protocol.oauth import is_loopback_url

__all__ = [
    "AuthorizationResponse",
    "CallbackHandler",
    "FunctionCallbackHandler",
    "LoopbackCallbackHandler",
    "PendingCallback",
    "RedirectHandler",
    "open_browser",
    "print_authorization_url",
]

#: ``handler(authorization_url)``, sync or async: send the user to the authorization server.
RedirectHandler = Callable[[str], Awaitable[None] | None]

_DONE_PAGE = (
    "<!doctype html><meta charset=utf-8><title>Authorization complete</title>"
    "<p>Authorization complete. You can close this window and return to the application.</p>"
)


@dataclass(frozen=True, slots=True, repr=False)
class AuthorizationResponse:
    """The query parameters of the redirect back from the authorization server."""

    code: str | None = None
    state: str | None = None
    iss: str | None = None
    error: str | None = None
    error_description: str | None = None

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> AuthorizationResponse:
        """Build from the redirect's query parameters."""

        def get(name: str) -> str | None:
            value = params.get(name)
            return value if isinstance(value, str) else None

        return cls(
            code=get("code"),
            state=get("state"),
            iss=get("iss"),
            error=get("error"),
            error_description=get("error_description"),
        )

    @classmethod
    def from_url(cls, url: str) -> AuthorizationResponse:
        """Build from the full URL the user agent was redirected to."""
        return cls.from_params(dict(parse_qsl(urlsplit(url).query, keep_blank_values=True)))

    def __repr__(self) -> str:
        code = "<redacted>" if self.code else None
        return (
            f"AuthorizationResponse(code={code}, state=<redacted>, iss={self.iss!r}, "
            f"error={self.error!r})"
        )


@runtime_checkable
class PendingCallback(Protocol):
    """One expected redirect: its URI, and a way to wait for it."""

    @property
    def redirect_uri(self) -> str:
        """The ``redirect_uri`` to register and send in the authorization request."""

    async def wait(self) -> AuthorizationResponse:
        """Wait for the redirect and return its parameters."""


@runtime_checkable
class CallbackHandler(Protocol):
    """Receives the authorization server's redirect back to the client."""

    def listen(self) -> AbstractAsyncContextManager[PendingCallback]:
        """Prepare for one redirect (bind a listener, ...); release it on exit."""


async def open_browser(url: str) -> None:
    """Open ``url`` in the user's browser; print it when no browser can be started."""
    opened = await asyncio.to_thread(webbrowser.open, url)
    if not opened:
        await print_authorization_url(url)


async def print_authorization_url(url: str) -> None:
    """Print ``url`` on standard error for the user to open."""
    print(f"Open this URL in a browser to authorize access:\n{url}", file=sys.stderr)


class _Pending:
    __slots__ = ("_future", "redirect_uri")

    def __init__(self, redirect_uri: str, future: asyncio.Future[AuthorizationResponse]) -> None:
        self.redirect_uri = redirect_uri
        self._future = future

    async def wait(self) -> AuthorizationResponse:
        return await asyncio.shield(self._future)


class LoopbackCallbackHandler:
    """Receive the redirect on a short-lived HTTP listener bound to a loopback address.

    ``port=0`` picks a free port for each authorization (RFC 8252 §7.3 requires
    authorization servers to accept any port on a loopback redirect URI); pass a
    fixed port for servers that compare redirect URIs exactly. The listener answers
    only ``GET <path>``, keeps no access log (the query holds the code) and closes as
    soon as the flow ends.

    Example::

        OAuth(callback_handler=LoopbackCallbackHandler(port=33418))
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        path: str = "/callback",
        page: str = _DONE_PAGE,
    ) -> None:
        if not is_loopback_url(f"http://{host if ':' not in host else f'[{host}]'}/"):
            raise ConfigError(f"the callback listener must bind a loopback address, got {host!r}")
        if not isinstance(port, int) or not 0 <= port <= 65535:
            raise ConfigError(f"port must be 0..65535, got {port!r}")
        if not path.startswith("/"):
            raise ConfigError(f"path must start with '/', got {path!r}")
        self.host = host
        self.port = port
        self.path = path
        self._page = page

    @asynccontextmanager
    async def _listen(self) -> AsyncIterator[PendingCallback]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[AuthorizationResponse] = loop.create_future()

        async def receive(request: web.Request) -> web.Response:
            query = request.query
            if "code" not in query and "error" not in query:
                return web.Response(status=400, text="missing code or error")
            if not future.done():
                future.set_result(AuthorizationResponse.from_params(dict(query)))
            return web.Response(text=self._page, content_type="text/html")

        app = web.Application()
        app.router.add_get(self.path, receive)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.host, self.port)
            try:
                await site.start()
            except OSError as exc:
                raise AuthError(
                    f"cannot listen for the authorization callback on {self.host}:{self.port}: "
                    f"{exc}",
                    step="authorization",
                ) from exc
            port = runner.addresses[0][1]
            host = f"[{self.host}]" if ":" in self.host else self.host
            uri = str(URL.build(scheme="http", host=host, port=port, path=self.path))
            yield _Pending(uri, future)
        finally:
            if not future.done():
                future.cancel()
            await runner.cleanup()

    def listen(self) -> AbstractAsyncContextManager[PendingCallback]:
        """Bind the listener; inside the block ``redirect_uri`` names its port."""
        return self._listen()

    def __repr__(self) -> str:
        return f"LoopbackCallbackHandler(host={self.host!r}, port={self.port}, path={self.path!r})"


#: What a :class:`FunctionCallbackHandler` function returns: the redirected URL, its
#: query parameters, or ``(code, state)``.
CallbackResult = str | Mapping[str, str] | tuple[str, str]


class _FunctionPending:
    __slots__ = ("_fn", "redirect_uri")

    def __init__(
        self, redirect_uri: str, fn: Callable[[], Awaitable[CallbackResult] | CallbackResult]
    ) -> None:
        self.redirect_uri = redirect_uri
        self._fn = fn

    async def wait(self) -> AuthorizationResponse:
        value = self._fn()
        if inspect.isawaitable(value):
            value = await value
        if isinstance(value, str):
            return AuthorizationResponse.from_url(value)
        if isinstance(value, tuple) and len(value) == 2:
            return AuthorizationResponse(code=value[0], state=value[1])
        if isinstance(value, Mapping):
            return AuthorizationResponse.from_params(value)
        raise AuthError(
            "the callback function must return a URL, a mapping or (code, state)",
            step="authorization",
        )


class FunctionCallbackHandler:
    """Get the redirect's parameters from a function, for headless use and tests.

    ``fn()`` (sync or async) is called after the redirect handler ran and returns
    the URL the user agent was redirected to, its query parameters, or
    ``(code, state)``. ``redirect_uri`` is what is registered and sent.

    Example (a terminal without a browser)::

        OAuth(
            redirect_handler=print_authorization_url,
            callback_handler=FunctionCallbackHandler(
                lambda: input("Paste the URL you were redirected to: "),
                redirect_uri="http://127.0.0.1:33418/callback",
            ),
        )
    """

    def __init__(
        self,
        fn: Callable[[], Awaitable[CallbackResult] | CallbackResult],
        *,
        redirect_uri: str,
    ) -> None:
        if not callable(fn):
            raise ConfigError("fn must be callable")
        parsed = URL(redirect_uri)
        if parsed.scheme not in ("http", "https") or not parsed.host or parsed.fragment:
            raise ConfigError(f"redirect_uri must be an absolute URL, got {redirect_uri!r}")
        if parsed.scheme == "http" and not is_loopback_url(parsed):
            raise ConfigError("redirect_uri must use HTTPS unless it points at a loopback address")
        self.redirect_uri = redirect_uri
        self._fn = fn

    @asynccontextmanager
    async def _listen(self) -> AsyncIterator[PendingCallback]:
        yield _FunctionPending(self.redirect_uri, self._fn)

    def listen(self) -> AbstractAsyncContextManager[PendingCallback]:
        """Nothing to bind: the function is called when the flow waits."""
        return self._listen()

    def __repr__(self) -> str:
        return f"FunctionCallbackHandler(redirect_uri={self.redirect_uri!r})"
