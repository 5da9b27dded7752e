"""The aiohttp transport: the only module that talks to aiohttp.

Every aiohttp/asyncio failure is translated here, by :func:`map_errors`, into the
``mcp_async`` exception tree and chained with ``from``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import aiohttp

from .._config import Timeout
from .._exceptions import (
    BodyTooLargeError,
    ConnectError,
    ConnectTimeout,
    ReadError,
    ReadTimeout,
    TransportError,
)
from .base import HTTPRequest, HTTPResponse

__all__ = ["AiohttpResponse", "AiohttpTransport", "make_session", "map_errors"]

_CHUNK = 65536


@contextmanager
def map_errors(url: str, *, reading: bool) -> Iterator[None]:
    """Translate aiohttp/asyncio exceptions raised inside the block.

    ``reading`` is True once a response has started to arrive: failures then are read
    errors (the request certainly reached the server) rather than connect errors.
    """
    try:
        yield
    except aiohttp.ConnectionTimeoutError as exc:
        raise ConnectTimeout(f"timed out connecting to {url}") from exc
    except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
        raise ReadTimeout(f"timed out waiting for {url}") from exc
    except aiohttp.ClientConnectorError as exc:
        raise ConnectError(f"cannot connect to {url}: {exc.os_error or exc}", sent=False) from exc
    except aiohttp.InvalidURL as exc:
        raise ConnectError(f"invalid URL {url!r}: {exc}", sent=False) from exc
    except (aiohttp.ClientPayloadError, aiohttp.ClientResponseError) as exc:
        raise ReadError(f"broken response from {url}: {exc}") from exc
    except (aiohttp.ClientConnectionError, ConnectionError) as exc:
        detail = str(exc) or type(exc).__name__
        if reading:
            raise ReadError(f"connection to {url} lost while reading: {detail}") from exc
        raise ConnectError(f"connection to {url} failed: {detail}", sent=True) from exc
    except aiohttp.ClientError as exc:
        raise TransportError(f"HTTP request to {url} failed: {exc}") from exc


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
        with map_errors(self._url, reading=True):
            chunk = await self._content.readany()
        if not chunk:
            raise StopAsyncIteration
        return chunk


class AiohttpResponse(HTTPResponse):
    """A response read lazily from an ``aiohttp.ClientResponse``."""

    __slots__ = ("_max_body", "_raw")

    def __init__(self, raw: aiohttp.ClientResponse, max_body: int | None) -> None:
        super().__init__(raw.status, raw.headers, str(raw.url))
        self._raw = raw
        self._max_body = max_body

    async def read(self) -> bytes:
        raw = self._raw
        try:
            with map_errors(self.url, reading=True):
                limit = self._max_body
                if limit is None:
                    return await raw.read()
                length = raw.content_length
                if length is not None and length > limit:
                    raise BodyTooLargeError(limit)
                if length is not None:
                    return await raw.read()
                parts: list[bytes] = []
                size = 0
                async for chunk in raw.content.iter_chunked(_CHUNK):
                    size += len(chunk)
                    if size > limit:
                        raise BodyTooLargeError(limit)
                    parts.append(chunk)
                return b"".join(parts)
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
        """Send ``request``; returns a response for any status, or raises a TransportError."""
        with map_errors(request.url, reading=False):
            raw = await self.session.request(
                request.method,
                request.url,
                data=request.body,
                headers=request.headers,
                timeout=self._aiohttp_timeout(request.timeout),
                allow_redirects=False,
            )
        return AiohttpResponse(raw, self.max_body_size)

    async def aclose(self) -> None:
        """Close the session if this transport owns it."""
        if self.owns_session and not self.session.closed:
            await self.session.close()


def make_session(*, limit: int = 100, limit_per_host: int = 0) -> aiohttp.ClientSession:
    """Create the ``ClientSession`` a client owns (call inside a running event loop)."""
    connector = aiohttp.TCPConnector(limit=limit, limit_per_host=limit_per_host)
    return aiohttp.ClientSession(connector=connector, auto_decompress=True)
