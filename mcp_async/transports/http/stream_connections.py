"""Connections for long-lived SSE streams, kept apart from the ones requests use.

A GET stream (the standalone stream of a Streamable HTTP session, a resumption, the
legacy HTTP+SSE stream) holds its connection for as long as it is open. Were it drawn
from the connection pool that requests use, clients sharing one ``aiohttp.ClientSession``
would take one pooled connection each for good: with aiohttp's default connector (100
connections) the 101st client's requests would wait for a connection that never comes.

So every request with ``stream == "standalone"`` (but not ``"resumed"``: the resumed
stream of one request ends with it, like any request) goes through a companion
``aiohttp.ClientSession`` with a connector of its own (no connection limit: the number
of streams is the number of clients that need server push). There is one companion per
request session, created at the first stream and shared by every client that uses that
request session; it copies the request session's default headers, cookie jar, TLS
setting, ``trust_env`` and trace configs, and is closed when the last of those clients
closes.
"""

from __future__ import annotations

import weakref
from collections.abc import Awaitable
from typing import Any

import aiohttp

from ..._config import Timeout
from .aiohttp_transport import AiohttpTransport, _CheckingConnector
from .base import HTTPRequest, HTTPResponse

__all__ = ["StreamConnections"]


class _Companion:
    """The stream session of one request session, and how many clients use it."""

    __slots__ = ("session", "users")

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session
        self.users = 0


_COMPANIONS: weakref.WeakKeyDictionary[aiohttp.ClientSession, _Companion] = (
    weakref.WeakKeyDictionary()
)


def _companion_session(base: aiohttp.ClientSession) -> aiohttp.ClientSession:
    """A session for streams configured like ``base``, with an unlimited connector."""
    ssl: Any = getattr(base.connector, "_ssl", True)
    connector = _CheckingConnector(limit=0, ssl=ssl)
    return aiohttp.ClientSession(
        connector=connector,
        headers=base.headers,
        cookie_jar=base.cookie_jar,
        trust_env=base.trust_env,
        auto_decompress=base.auto_decompress,
        trace_configs=list(base.trace_configs) or None,
    )


class StreamConnections:
    """Sends one client's HTTP requests: streams on the companion, the rest on ``main``.

    :meth:`send` is the bottom of the client's hook pipeline (hooks, auth included, run
    for streams as for requests).
    """

    __slots__ = ("_companion", "_main", "_send_main", "_streams")

    def __init__(self, main: AiohttpTransport) -> None:
        self._main = main
        self._send_main = main.send
        self._companion: _Companion | None = None
        self._streams: AiohttpTransport | None = None

    def send(self, request: HTTPRequest) -> Awaitable[HTTPResponse]:
        """Send ``request`` through the connections its kind uses (a plain function that
        returns the transport's coroutine: no extra layer on every call)."""
        if request.stream == "standalone":
            return self._stream_transport().send(request)
        return self._send_main(request)

    @property
    def stream_session(self) -> aiohttp.ClientSession | None:
        """The companion session once a stream was opened (``None`` before)."""
        return None if self._companion is None else self._companion.session

    def _stream_transport(self) -> AiohttpTransport:
        streams = self._streams
        if streams is not None:
            return streams
        base = self._main.session
        companion = _COMPANIONS.get(base)
        if companion is None or companion.session.closed:
            companion = _COMPANIONS[base] = _Companion(_companion_session(base))
        companion.users += 1
        self._companion = companion
        timeout: Timeout | None = getattr(self._main, "_default_timeout", None)
        streams = self._streams = AiohttpTransport(
            companion.session, owns_session=False,
            max_body_size=self._main.max_body_size, default_timeout=timeout,
        )
        return streams

    async def aclose(self) -> None:
        """Stop using the companion; the last client to stop closes it."""
        companion, self._companion = self._companion, None
        self._streams = None
        if companion is None:
            return
        companion.users -= 1
        if companion.users <= 0 and not companion.session.closed:
            if _COMPANIONS.get(self._main.session) is companion:
                del _COMPANIONS[self._main.session]
            await companion.session.close()
