"""The aiohttp transport: the only module that talks to aiohttp.

Every aiohttp/asyncio failure is translated here, by :func:`translate_error`, into the
``mcp_async`` exception tree and chained with ``from``.
"""

from __future__ import annotations

import asyncio
import select
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any

import aiohttp
from yarl import URL

from ..._config import Timeout
from ..._exceptions import (
    BodyTooLargeError,
    ClientStateError,
    ConfigError,
    ConnectError,
    ConnectTimeout,
    MCPClientError,
    ReadError,
    ReadTimeout,
    RedirectError,
    TransportError,
)
from .base import HTTPRequest, HTTPResponse

__all__ = ["AiohttpResponse", "AiohttpTransport", "make_session", "translate_error"]

_CHUNK = 65536
#: Most same-origin 307/308 redirects followed for one request.
MAX_REDIRECTS = 5


#: What :func:`translate_error` maps: aiohttp errors and the asyncio/OS ones it lets through.
_FAILURES = (aiohttp.ClientError, TimeoutError, ConnectionError)


def translate_error(exc: BaseException, url: str, *, reading: bool) -> MCPClientError:
    """The ``mcp_async`` error for an aiohttp/asyncio failure (one of ``_FAILURES``).

    ``reading`` is True once a response has started to arrive: failures then are read
    errors (the request certainly reached the server) rather than connect errors.
    """
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return ConnectTimeout(f"timed out connecting to {url}")
    if isinstance(exc, TimeoutError | aiohttp.ServerTimeoutError):
        return ReadTimeout(f"timed out waiting for {url}")
    if isinstance(exc, aiohttp.ClientConnectorError):
        return ConnectError(f"cannot connect to {url}: {exc.os_error or exc}", sent=False)
    if isinstance(exc, aiohttp.InvalidURL):
        return ConnectError(f"invalid URL {url!r}: {exc}", sent=False)
    if isinstance(exc, aiohttp.ClientPayloadError | aiohttp.ClientResponseError):
        return ReadError(f"broken response from {url}: {exc}")
    if isinstance(exc, aiohttp.ClientConnectionError | ConnectionError):
        detail = str(exc) or type(exc).__name__
        if reading:
            return ReadError(f"connection to {url} lost while reading: {detail}")
        return ConnectError(f"connection to {url} failed: {detail}", sent=True)
    return TransportError(f"HTTP request to {url} failed: {exc}")


def _failure(
    exc: BaseException, url: str, session: aiohttp.ClientSession | None, *, reading: bool
) -> MCPClientError:
    """:func:`translate_error`, unless the session was closed under the request: then
    the caller gets the same error as every other call in flight at close."""
    if session is not None and session.closed:
        return ClientStateError(f"the HTTP session was closed with a request to {url} in flight")
    return translate_error(exc, url, reading=reading)


def _client_timeout(timeout: Timeout) -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(
        total=timeout.total, sock_connect=timeout.connect, sock_read=timeout.read
    )


class _Chunks:
    """Body chunks as they arrive.

    A plain iterator object rather than an async generator: a generator left unfinished
    after the MCP response event is closed by asyncio's finalizer hook, which costs an
    extra task and a self-pipe wake-up on every SSE reply.
    """

    __slots__ = ("_content", "_url")

    def __init__(self, content: aiohttp.StreamReader, url: str) -> None:
        self._content = content
        self._url = url

    def __aiter__(self) -> _Chunks:
        return self

    async def __anext__(self) -> bytes:
        try:
            chunk = await self._content.readany()
        except _FAILURES as exc:
            raise translate_error(exc, self._url, reading=True) from exc
        if not chunk:
            raise StopAsyncIteration
        return chunk


class AiohttpResponse(HTTPResponse):
    """A response read lazily from an ``aiohttp.ClientResponse``."""

    __slots__ = ("_max_body", "_raw", "_session")

    def __init__(
        self,
        raw: aiohttp.ClientResponse,
        url: str,
        max_body: int | None,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        super().__init__(raw.status, raw.headers, url)
        self._raw = raw
        self._max_body = max_body
        self._session = session

    async def read(self) -> bytes:
        raw = self._raw
        try:
            limit = self._max_body
            if limit is None:
                return await raw.read()
            length = raw.content_length
            if length is not None and "Content-Encoding" not in raw.headers:
                # Not compressed: the length is what will be held in memory.
                if length > limit:
                    raise BodyTooLargeError(limit)
                return await raw.read()
            # Compressed or of unknown length: count the decoded bytes as they come,
            # and stop at the limit (a small gzip body can inflate to gigabytes).
            parts: list[bytes] = []
            size = 0
            async for chunk in raw.content.iter_chunked(_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise BodyTooLargeError(limit)
                parts.append(chunk)
            return b"".join(parts)
        except _FAILURES as exc:
            raw.close()
            raise _failure(exc, self.url, self._session, reading=True) from exc
        except BaseException:
            raw.close()
            raise
        finally:
            raw.release()

    def iter_chunks(self) -> AsyncIterator[bytes]:
        return _Chunks(self._raw.content, self.url)

    @property
    def at_eof(self) -> bool:
        """True once the whole body has been received."""
        return self._raw.content.at_eof()

    def release(self) -> None:
        self._raw.release()

    def close(self) -> None:
        self._raw.close()


class AiohttpTransport:
    """Sends requests through one shared ``aiohttp.ClientSession``.

    The session's connection pool is reused by every request and every task.
    ``owns_session`` says whether :meth:`aclose` closes it.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        owns_session: bool,
        max_body_size: int | None = None,
        default_timeout: Timeout | None = None,
    ) -> None:
        self.session = session
        self.owns_session = owns_session
        self.max_body_size = max_body_size
        self._timeouts: dict[Timeout, aiohttp.ClientTimeout] = {}
        self._default_timeout = default_timeout

    def _aiohttp_timeout(self, timeout: Timeout | None) -> aiohttp.ClientTimeout | Any:
        timeout = timeout or self._default_timeout
        if timeout is None:
            return aiohttp.helpers.sentinel
        cached = self._timeouts.get(timeout)
        if cached is None:
            if len(self._timeouts) > 256:
                self._timeouts.clear()
            cached = self._timeouts[timeout] = _client_timeout(timeout)
        return cached

    async def send(self, request: HTTPRequest) -> HTTPResponse:
        """Send ``request``; returns a response for any status, or raises a TransportError.

        A ``307``/``308`` to the same origin is followed (method, body and headers kept)
        up to ``MAX_REDIRECTS`` times; any other redirect raises
        :class:`~mcp_async.RedirectError`, so credentials never leave the origin.
        """
        url = request.url
        for hop in range(MAX_REDIRECTS + 1):
            try:
                raw = await self.session.request(
                    request.method,
                    url,
                    data=request.body,
                    headers=request.headers,
                    timeout=self._aiohttp_timeout(request.timeout),
                    allow_redirects=False,
                )
            except _FAILURES as exc:
                raise _failure(exc, url, self.session, reading=False) from exc
            except RuntimeError as exc:
                if not self.session.closed:
                    raise
                raise ClientStateError(f"the HTTP session is closed: {exc}") from exc
            except asyncio.CancelledError:
                # Closing the session cancels the requests still waiting for a pooled
                # connection; their callers were not cancelled and get the typed error.
                task = asyncio.current_task()
                if self.session.closed and task is not None and task.cancelling() == 0:
                    raise ClientStateError(
                        f"the HTTP session was closed with a request to {url} waiting"
                    ) from None
                raise
            if not 300 <= raw.status < 400 or raw.status == 304:
                return AiohttpResponse(raw, url, self.max_body_size, self.session)
            location = raw.headers.get("Location")
            raw.release()
            url = _follow(url, raw.status, location, hop, raw.headers)
        raise AssertionError("unreachable: _follow raises after MAX_REDIRECTS")  # pragma: no cover

    async def aclose(self) -> None:
        """Close the session if this transport owns it."""
        if self.owns_session and not self.session.closed:
            await self.session.close()


def _follow(
    url: str, status: int, location: str | None, hop: int, headers: Mapping[str, str]
) -> str:
    """The URL a redirect leads to, if the client follows it; else RedirectError."""

    def refuse(reason: str) -> RedirectError:
        return RedirectError(status, location=location, reason=reason, url=url, headers=headers)

    if status not in (307, 308):
        raise refuse("only 307/308 redirects, which keep the method and body, are followed")
    if not location:
        raise refuse("the redirect has no Location")
    if hop >= MAX_REDIRECTS:
        raise refuse(f"more than {MAX_REDIRECTS} redirects")
    try:
        target = URL(url).join(URL(location))
    except ValueError as exc:
        raise refuse(f"the Location is not a URL ({exc})") from None
    if target.origin() != URL(url).origin():
        raise refuse("it leaves the origin (credentials and the session stay with it)")
    return str(target)


#: A pooled connection idle at least this long (seconds) is checked before it is reused.
_CHECK_IDLE_AFTER = 0.05


def _closed_by_peer(transport: Any) -> bool:
    """Whether an idle keep-alive connection's socket has something to read: the server's
    FIN (or a reset, or stray bytes) that a busy event loop has not processed yet. Such a
    connection would take the next request and lose it."""
    sock = transport.get_extra_info("socket") if transport is not None else None
    if sock is None:
        return False
    try:
        readable, _, _ = select.select([sock.fileno()], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


class _CheckingConnector(aiohttp.TCPConnector):
    """A connector that checks a pooled connection before reusing it, as urllib3 and
    httpcore do: when the server restarted or closed idle connections while this event loop
    was busy, the first request afterwards gets a fresh connection instead of a dead one."""

    async def _get(self, key: Any, traces: Any) -> Any:
        conns = getattr(self, "_conns", {}).get(key)
        if conns:
            # aiohttp reuses from the left, where the longest idle are: check from there
            # until the one that will be reused (usually the first, still young, at once).
            now = time.monotonic()
            for proto, idle_since in conns:
                if now - idle_since < _CHECK_IDLE_AFTER:
                    break
                if not (proto.is_connected() and _closed_by_peer(proto.transport)):
                    break
                proto.close()  # aiohttp then drops it instead of reusing it
        return await super()._get(key, traces)


def check_session(session: object) -> None:
    """Refuse a borrowed ``session=`` that is not an ``aiohttp.ClientSession``."""
    if session is not None and not isinstance(session, aiohttp.ClientSession):
        raise ConfigError("session must be an aiohttp.ClientSession")


def make_session(*, limit: int = 100, limit_per_host: int = 0) -> aiohttp.ClientSession:
    """Create the ``ClientSession`` a client owns (call inside a running event loop)."""
    connector = _CheckingConnector(limit=limit, limit_per_host=limit_per_host)
    return aiohttp.ClientSession(connector=connector, auto_decompress=True)
