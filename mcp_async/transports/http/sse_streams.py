"""SSE streams read outside a POST reply: the standalone GET stream and its reconnection.

After the handshake, a server that assigned a session id may offer a GET stream for
messages it starts itself (requests such as ``elicitation/create``, and notifications).
:class:`Listener` owns the one background task that reads it; the Streamable HTTP transport owns the
listener and stops it on close or when the session is replaced.

Streams end for ordinary reasons: a 2025-11-25 server closes them on purpose to make the
client poll, after sending an event id and a ``retry`` time. The client then waits that
long (or a capped backoff when the server gave none) and reconnects with
``Last-Event-ID``. :class:`ReconnectPolicy` bounds how many times in a row that may fail.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, Protocol

from ..._config import Timeout
from ..._exceptions import (
    AuthError,
    ConfigError,
    HTTPStatusError,
    MCPClientError,
    ProtocolError,
    RateLimitedError,
    SessionExpiredError,
    TransportError,
)
from ...protocol.sse import SSEDecoder
from .base import HTTPResponse

__all__ = ["Listener", "ReconnectPolicy", "StreamHost", "gives_up"]

logger = logging.getLogger("mcp_async")


@dataclass(frozen=True, slots=True)
class ReconnectPolicy:
    """How SSE streams are re-opened after they end or break.

    A server's ``retry`` time is honoured up to ``max_server_delay`` seconds (a server
    asking for a day does not stall the client for a day); without one the wait starts at
    ``initial_delay`` seconds and doubles up to ``max_delay``. After ``max_attempts``
    reconnections in a row that bring no new event, the client gives up: a request
    waiting for its response fails, the GET stream stays closed.

    No wait is shorter than ``min_delay`` seconds (0.1 by default), whatever the server's
    ``retry`` says: a stream that brings an event resets the count of failures, so a
    server that sends ``retry: 0`` (or one event) and ends the stream each time would
    otherwise make the client reconnect in a busy loop. ``min_delay=0`` lifts the floor.
    """

    max_attempts: int = 3
    initial_delay: float = 1.0
    max_delay: float = 30.0
    #: The longest server-requested ``retry`` honoured; longer ones are clamped to it.
    max_server_delay: float = 60.0
    #: The shortest wait before any reconnection (a floor under ``retry`` and backoff).
    min_delay: float = 0.1

    def __post_init__(self) -> None:
        if isinstance(self.max_attempts, bool) or not isinstance(self.max_attempts, int) or (
            self.max_attempts < 0
        ):
            raise ConfigError(
                f"ReconnectPolicy.max_attempts must be an int >= 0, got {self.max_attempts!r}"
            )
        for name in ("initial_delay", "max_delay", "max_server_delay", "min_delay"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ConfigError(
                    f"ReconnectPolicy.{name} must be a number >= 0, got {value!r}"
                )

    def delay(self, failures: int, retry_ms: int | None) -> float:
        """Seconds to wait before the next attempt, after ``failures`` fruitless ones."""
        if retry_ms is not None:
            wait = min(retry_ms / 1000, self.max_server_delay)
        else:
            wait = min(self.initial_delay * (2**failures), self.max_delay)
        return float(max(wait, self.min_delay))


def gives_up(exc: MCPClientError) -> bool:
    """Whether opening a stream failed for good (no point reconnecting)."""
    if isinstance(exc, RateLimitedError):
        return False
    if isinstance(exc, HTTPStatusError):
        return exc.status < 500 and exc.status != 408
    return isinstance(exc, AuthError | ProtocolError)


class StreamHost(Protocol):
    """What a :class:`Listener` needs from the session."""

    async def open_event_stream(
        self, last_event_id: str | None, timeout: Timeout | None
    ) -> HTTPResponse:
        """GET the endpoint as an event stream (resuming after ``last_event_id``)."""

    async def pump_events(
        self, response: HTTPResponse, decoder: SSEDecoder, waiter: Any
    ) -> int:
        """Route the stream's messages until ``waiter`` is done (``None``: to the end);
        return the number of events read."""


class Listener:
    """Reads the standalone GET stream in one background task, reconnecting within bounds.

    405 means the server offers no such stream: the listener ends quietly. So does a 404
    (the session is gone; the next request starts a new one, which listens again).
    """

    def __init__(
        self,
        host: StreamHost,
        policy: ReconnectPolicy,
        *,
        connect_timeout: float | None,
        max_event_size: int | None,
    ) -> None:
        self._host = host
        self._policy = policy
        self._timeout = Timeout(total=None, connect=connect_timeout, read=None)
        self._max_event_size = max_event_size
        self._task: asyncio.Task[None] | None = None
        self._opening: asyncio.Future[HTTPResponse] | None = None
        #: True while a GET stream is open and being read.
        self.connected = False
        #: Why the listener stopped for good (``None`` while it runs or after :meth:`stop`).
        self.stopped_by: MCPClientError | None = None

    @property
    def running(self) -> bool:
        """Whether the background task is alive."""
        return self._task is not None and not self._task.done()

    async def start(self, wait: float) -> None:
        """Open the stream and read it in a background task (once).

        Waits up to ``wait`` seconds for the server's answer to the GET, so that when the
        handshake returns the stream is usually open (or known to be absent, and its
        connection back in the pool).
        """
        if self._task is not None:
            return
        self.begin()
        await self.wait_open(wait)

    async def wait_open(self, wait: float) -> None:
        """Wait up to ``wait`` seconds for the server's answer to the GET under way (if
        any). Cancelled, it stops the listener."""
        # Locals: stop() may run meanwhile (the client closing) and clear the attributes.
        task, opening = self._task, self._opening
        if task is None or opening is None or opening.done():
            return
        try:
            await asyncio.wait((opening,), timeout=wait)
        except asyncio.CancelledError:
            task.cancel()
            raise

    def begin(self) -> None:
        """Open the stream and read it in a background task (once), without waiting."""
        if self._task is not None:
            return
        opening = asyncio.ensure_future(self._host.open_event_stream(None, self._timeout))
        self._opening = opening
        self._task = asyncio.ensure_future(self._run(opening))

    async def stop(self) -> None:
        """Stop the task and close its stream."""
        task, self._task = self._task, None
        self._opening = None
        if task is None:
            return
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise
        self.connected = False

    async def _run(self, opening: asyncio.Future[HTTPResponse]) -> None:
        try:
            await self._read(opening)
        except Exception:
            logger.exception("the GET stream reader failed")
        finally:
            if not opening.done():
                opening.cancel()
            elif not opening.cancelled() and opening.exception() is None:
                opening.result().close()

    async def _read(self, opening: asyncio.Future[HTTPResponse]) -> None:
        decoder = SSEDecoder(self._max_event_size)
        failures = 0
        first = True
        while True:
            before = decoder.last_event_id
            events = 0
            try:
                if first:
                    first = False
                    response = await opening
                else:
                    response = await self._host.open_event_stream(before, self._timeout)
            except MCPClientError as exc:
                if isinstance(exc, HTTPStatusError) and exc.status == 405:
                    logger.debug("server offers no GET stream (405)")
                    return
                if isinstance(exc, SessionExpiredError) or gives_up(exc):
                    logger.info("GET stream not opened: %s", exc)
                    self.stopped_by = exc
                    return
                error: MCPClientError | None = exc
            else:
                error = None
                self.connected = True
                try:
                    events = await self._host.pump_events(response, decoder, None)
                except TransportError as exc:
                    error = exc
                finally:
                    self.connected = False
                    response.close()
                    decoder.flush()
            if events or decoder.last_event_id != before:
                failures = 0
            else:
                failures += 1
                if failures > self._policy.max_attempts:
                    logger.warning(
                        "GET stream closed for good after %d failed reconnections%s",
                        failures - 1, f": {error}" if error else "",
                    )
                    self.stopped_by = error
                    return
            await asyncio.sleep(self._policy.delay(failures, decoder.retry))
