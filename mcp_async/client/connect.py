"""How a client reaches its server over HTTP: the HTTP layer (the aiohttp session, owned
or borrowed, or a given :class:`~mcp_async.HTTPTransport`), the hook pipeline above it,
the message transport for the URL (Streamable HTTP or legacy HTTP+SSE), the session
engine over a message transport, and the stream of server push it opens on demand."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp
from yarl import URL

from .._config import Timeout
from .._exceptions import ClientStateError
from ..features import tasks as _tasks
from ..policies.base import MessagePolicy
from ..session.engine import SessionEngine
from ..transports.http.aiohttp_transport import AiohttpTransport, make_session
from ..transports.http.base import HTTPTransport
from ..transports.http.detect import url_transport
from ..transports.http.stream_connections import StreamConnections
from ..transports.message import MessageTransport
from .options import ClientConfig
from .pipeline import HTTPPipeline

__all__ = [
    "HTTPLink", "await_push_stream", "connect_url", "new_engine", "open_push_stream",
    "shared_verdicts",
]

_TASK_RESULT_TYPES = frozenset({_tasks.TASK_RESULT_TYPE})

#: Era verdicts of ``protocol="auto"`` (origin -> version or "legacy"), shared by the
#: clients that borrow one aiohttp session.
_VERDICTS: weakref.WeakKeyDictionary[aiohttp.ClientSession, dict[str, str]] = (
    weakref.WeakKeyDictionary()
)


def shared_verdicts(config: ClientConfig) -> dict[str, str] | None:
    """Where era verdicts are shared: per borrowed aiohttp session (an owned one
    serves this client alone, which remembers its own verdict anyway)."""
    if config.borrowed_session is None:
        return None
    return _VERDICTS.setdefault(config.borrowed_session, {})


@dataclass(frozen=True, slots=True)
class HTTPLink:
    """What an open client holds to reach its URL."""

    #: The MCP message transport for the URL.
    messages: MessageTransport
    #: The HTTP layer (the client closes it).
    http: HTTPTransport
    #: The connections of long-lived streams (aiohttp only; the client closes them).
    streams: StreamConnections | None
    pipeline: HTTPPipeline


def connect_url(
    config: ClientConfig, url: str, timeout: Timeout, wants_push: Callable[[], bool]
) -> HTTPLink:
    """Build the HTTP session, the hook pipeline and the transport for ``url``, with
    the client's default ``timeout``; ``wants_push`` says whether something needs
    server push (``listen="auto"``)."""
    if config.http_transport is not None:
        return _link(config, url, timeout, config.http_transport, None, wants_push)
    borrowed = config.borrowed_session
    if borrowed is not None:
        if borrowed.closed:
            raise ClientStateError("the borrowed aiohttp session is closed")
        session = borrowed
    else:
        session = make_session(limit=config.connection_limit)
    http = AiohttpTransport(
        session,
        owns_session=borrowed is None,
        max_body_size=config.max_body_size,
        default_timeout=timeout,
    )
    # Streams hold their connection for good: they get connections of their own.
    return _link(config, url, timeout, http, StreamConnections(http), wants_push)


def _link(
    config: ClientConfig,
    url: str,
    timeout: Timeout,
    http: HTTPTransport,
    streams: StreamConnections | None,
    wants_push: Callable[[], bool],
) -> HTTPLink:
    pipeline = HTTPPipeline(config.hooks, http, None if streams is None else streams.send)
    messages = url_transport(
        config.transport_choice,
        url,
        pipeline.send,
        headers=config.headers,
        max_event_size=config.max_event_size,
        default_timeout=timeout,
        listen=wants_push if config.listen == "auto" else bool(config.listen),
        reconnect=config.reconnect,
    )
    return HTTPLink(messages, http, streams, pipeline)


def new_engine(
    config: ClientConfig,
    messages: MessageTransport,
    policies: list[MessagePolicy],
    retry_option_policies: list[MessagePolicy] | None,
    *,
    url: str | None,
    timeout: Timeout,
    log_level: str | None,
) -> SessionEngine:
    """The session engine of a client with ``config`` over ``messages``, not yet
    connected (``url``, ``timeout`` and ``log_level``: the client's current ones)."""
    result_types = config.result_types
    engine = SessionEngine(
        messages,
        client_info=config.client_info,
        capabilities=config.capabilities,
        dispatcher=config.dispatcher,
        default_timeout=timeout,
        policies=policies,
        retry_option_policies=retry_option_policies,
        protocol=config.protocol,
        verdicts=shared_verdicts(config),
        verdict_key=None if url is None else str(URL(url).origin()),
        log_level=log_level,
        result_types=(result_types | _TASK_RESULT_TYPES) if result_types
        else _TASK_RESULT_TYPES,
        max_input_rounds=config.max_input_rounds,
    )
    engine.extension_capabilities[_tasks.TASKS_EXTENSION] = {}
    return engine


def open_push_stream(engine: SessionEngine, loop: asyncio.AbstractEventLoop | None) -> None:
    """Ask ``engine``'s transport to open its stream of server push (the GET stream)
    if it has none, from any thread; ``loop`` is the loop the client runs in."""
    want = getattr(engine.transport, "want_push", None)
    if want is None or loop is None or loop.is_closed():
        return
    try:
        running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        want()
    else:  # called from another thread (the blocking MCPClient's caller)
        loop.call_soon_threadsafe(want)


async def await_push_stream(engine: SessionEngine) -> None:
    """As :func:`open_push_stream`, then wait briefly for the stream to be answered."""
    opening = getattr(engine.transport, "await_push", None)
    if opening is not None:
        await opening()
