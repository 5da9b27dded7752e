"""The HTTP request and response objects of the HTTP transports and their hooks.

The HTTP pipeline (hooks, then aiohttp) turns one :class:`HTTPRequest` into one
:class:`HTTPResponse`. Responses are returned for every status code; what a status
means is decided once, by the transport that sent it (``transports/status.py``) or a
hook that acts on it (retry, auth). Message transports are in ``message.py``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, Protocol

from ..._config import Timeout
from ...protocol.mcp import media_type
from ..options import NO_OPTIONS, AttemptRecord, RequestOptions, StreamKind

__all__ = ["BytesResponse", "HTTPRequest", "HTTPResponse", "HTTPTransport", "Handler", "Transport"]


class HTTPRequest:
    """One outgoing HTTP request. Hooks may change any attribute before it is sent.

    Besides the HTTP parts, it carries typed facts for hooks: ``mcp_method`` (the
    JSON-RPC method of an MCP message, or ``None`` for plain HTTP such as
    ``send_request`` or DELETE), ``idempotent`` (safe to re-send even if it may have
    reached the server), ``stream`` (``"standalone"`` or ``"resumed"`` for a GET that
    opens an event stream, else ``None``) and ``options`` (the caller's
    :class:`~mcp_async.transports.options.RequestOptions`, e.g. ``options.mcp_name``).

    ``record`` (:class:`~mcp_async.transports.options.AttemptRecord`: the try number,
    rate-limit waits) is where the layers report back to the policy that watches the
    request: the message policies for an MCP request; for plain HTTP, the HTTP form of
    metrics sets it (``None`` while nobody watches). ``extensions`` is yours: a
    free-form dict the client never reads or writes, for hooks that pass facts on.
    """

    __slots__ = (
        "body", "extensions", "headers", "idempotent", "mcp_method", "method", "options",
        "record", "stream", "timeout", "url",
    )

    def __init__(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
        timeout: Timeout | None = None,
        mcp_method: str | None = None,
        idempotent: bool = False,
        stream: StreamKind | None = None,
        options: RequestOptions = NO_OPTIONS,
        record: AttemptRecord | None = None,
        extensions: dict[str, Any] | None = None,
    ) -> None:
        self.method = method
        self.url = url
        self.headers: dict[str, str] = headers if headers is not None else {}
        self.body = body
        self.timeout = timeout
        self.mcp_method = mcp_method
        self.idempotent = idempotent
        self.stream = stream
        self.options = options
        self.record = record
        self.extensions: dict[str, Any] = extensions if extensions is not None else {}

    def __repr__(self) -> str:
        return f"<HTTPRequest {self.method} {self.url}>"


class HTTPResponse(ABC):
    """An HTTP response whose body has not necessarily been read yet.

    Subclasses implement :meth:`read`, :meth:`iter_chunks`, :meth:`release` and
    :meth:`close`. Reading translates transport failures into ``mcp_async`` errors.
    """

    __slots__ = ("headers", "status", "url")

    def __init__(self, status: int, headers: Mapping[str, str], url: str) -> None:
        self.status = status
        #: Case-insensitive mapping of response headers.
        self.headers = headers
        self.url = url

    @property
    def content_type(self) -> str:
        """The media type of the body, lower-cased and without parameters ('' if absent)."""
        return media_type(self.headers.get("Content-Type"))

    @property
    def ok(self) -> bool:
        """True for a 2xx status."""
        return 200 <= self.status < 300

    @abstractmethod
    async def read(self) -> bytes:
        """Read the whole body (bounded by the client's ``max_body_size``)."""

    @abstractmethod
    def iter_chunks(self) -> AsyncIterator[bytes]:
        """Yield the body as it arrives."""

    @abstractmethod
    def release(self) -> None:
        """Hand the connection back to the pool (closes it if the body was not read)."""

    @abstractmethod
    def close(self) -> None:
        """Close the underlying connection without reading further."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.status} {self.url}>"


class BytesResponse(HTTPResponse):
    """A response whose body is already in memory (for hooks that answer themselves, and tests)."""

    __slots__ = ("_body",)

    def __init__(
        self,
        status: int,
        body: bytes = b"",
        headers: Mapping[str, str] | None = None,
        url: str = "",
    ) -> None:
        from multidict import CIMultiDict

        super().__init__(status, CIMultiDict(headers or {}), url)
        self._body = body

    async def read(self) -> bytes:
        return self._body

    async def iter_chunks(self) -> AsyncIterator[bytes]:
        if self._body:
            yield self._body

    def release(self) -> None:
        return None

    def close(self) -> None:
        return None


Handler = Callable[[HTTPRequest], Awaitable[HTTPResponse]]


class HTTPTransport(Protocol):
    """The HTTP layer: the bottom of the hook pipeline, which sends one HTTP request and
    returns its response; ``aclose`` releases what it owns.

    The default sends over aiohttp; :class:`~mcp_async.ASGITransport` calls an ASGI
    application in the same process. Give another one as ``AsyncMCPClient(url,
    http_transport=...)``: the hooks (auth, headers, ``on_request``...) run above it and
    Streamable HTTP, legacy HTTP+SSE and detection on top of those. :meth:`send` returns
    a response for every status (including 3xx it does not follow) and raises only
    ``mcp_async`` errors; the client calls :meth:`aclose` when it closes.
    """

    async def send(self, request: HTTPRequest) -> HTTPResponse:
        """Send ``request`` and return the response (any status)."""

    async def aclose(self) -> None:
        """Release what the transport owns."""


#: The former name of :class:`HTTPTransport`.
Transport = HTTPTransport
