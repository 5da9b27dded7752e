"""``AsyncMCPClient``: the public facade.

One client owns one ``aiohttp.ClientSession`` (or borrows one) and one MCP session,
and is meant to be shared by every task of a program::

    async with AsyncMCPClient("http://127.0.0.1:8000/mcp") as client:
        tools = await client.list_tools()
        result = await client.call_tool("add", {"a": 1, "b": 2})
"""

from __future__ import annotations

import asyncio
import enum
import os
import warnings
import weakref
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import aiohttp

from .._config import DEFAULT_TIMEOUT, Timeout, TimeoutLike, to_timeout
from .._exceptions import ClientStateError, ConfigError, EraError
from ..features.cache import CacheMode, CacheStore, ResponseCache, check_mode
from ..protocol.models import (
    DiscoverResult,
    Implementation,
    InitializeResult,
    ServerCapabilities,
    Tool,
)
from ..session.api import Session, SessionLookup
from ..session.dispatch import LoggingHandler, NotificationHandler, ProgressCallback
from ..session.engine import SessionEngine
from ..session.portable import SessionState
from ..session.revisions import Revision
from ..transports.http.base import HTTPTransport
from ..transports.http.hooks import Hook
from ..transports.http.sse_streams import ReconnectPolicy
from ..transports.http.stream_connections import StreamConnections
from ..transports.message import MessageTransport
from ..transports.options import RequestOptions
from .arguments import check_max_total, retry_options
from .catalogue import ToolCatalogue
from .connect import await_push_stream, connect_url, new_engine, open_push_stream
from .options import DEFAULT_LOG_LEVEL, DEFAULT_MAX_BODY, LOG_LEVELS, ClientConfig
from .pages import fetch_page, walk_pages
from .pipeline import HTTPPipeline
from .plain import post_json
from .prompt_methods import PromptMethods
from .resource_methods import ResourceMethods
from .resuming import export_state, resumable
from .tool_methods import ToolMethods

if TYPE_CHECKING:
    from collections.abc import AsyncIterable, Iterable

    from ..features.batch import BatchResult, ProgressOption
    from ..policies.retry import RetryPolicy
    from ..policies.tracing import TracingPolicy
    from ..session.handlers import (
        ElicitationCompleteHandler,
        ElicitationHandler,
        ListChangedHandler,
        ResourceUpdatedHandler,
        RootsProvider,
        SamplingHandler,
    )
    from ..transports.http.asgi import ASGIApp, ASGITransport
    from ..transports.stdio import StderrTarget

__all__ = ["DEFAULT_LOG_LEVEL", "LOG_LEVELS", "AsyncMCPClient"]

_T = TypeVar("_T")
_Page = TypeVar("_Page")


class _State(enum.Enum):
    NEW = "new"
    OPEN = "open"
    CLOSED = "closed"


# The MCP methods of each topic are in a base of their own (tool_methods, resource_methods,
# prompt_methods). The API reference lists inherited methods base by base from the last,
# hence this order: tools, then resources, then prompts.
class AsyncMCPClient(PromptMethods, ResourceMethods, ToolMethods):
    """An asyncio MCP client, safe to share between tasks.

    It reaches a server by URL (Streamable HTTP or legacy HTTP+SSE), by command
    (:meth:`stdio`), or through any :class:`~mcp_async.MessageTransport`.

    Args:
        url: the server's MCP endpoint (``http(s)://host[:port]/path``), a
            transport object such as :class:`~mcp_async.StdioTransport`, or an ASGI
            application (or :class:`~mcp_async.ASGITransport`) to talk to in process
            at ``http://localhost:8000/mcp``.
        transport: for a URL: ``"auto"`` (try Streamable HTTP, fall back to legacy
            HTTP+SSE on 400/404/405), ``"streamable-http"`` or ``"sse"``.
        http_transport: for a URL: the HTTP layer (an :class:`~mcp_async.HTTPTransport`
            such as :class:`~mcp_async.ASGITransport`) instead of aiohttp; the hooks
            run above it, and the client closes it.
        headers: default headers sent on every HTTP request; per-call ``headers=`` win.
        auth: a bearer token string or an auth :class:`~mcp_async.Hook`
            (e.g. :class:`~mcp_async.auth.BearerAuth`, :class:`~mcp_async.auth.JWTAuth`).
        retry: a retry policy hook (e.g. :class:`~mcp_async.RetryPolicy`); ``None`` = no retry.
        trust_idempotent_hint: let the retry policy re-send a tool call after a dropped
            response when the tool is annotated ``idempotentHint`` or ``readOnlyHint``
            (hints are the server's word: enable only for servers you trust).
        rate_limit: a rate-limiting hook; ``None`` = unlimited.
        metrics: a metrics hook; it runs outermost and sees one logical request.
        timeout: default :class:`~mcp_async.Timeout` (or seconds, total) for every request.
        session: an ``aiohttp.ClientSession`` to borrow; it is never closed by the client.
        hooks: extra :class:`~mcp_async.Hook` objects, run in order after auth.
        client_info: ``clientInfo`` sent in ``initialize`` (name/version/...).
        capabilities: client capabilities declared in ``initialize``.
        initialize: ``"lazy"`` (first MCP call runs the handshake) or ``"eager"`` (on enter).
        validate_output: validate ``structuredContent`` against tools' ``outputSchema``.
        logging_handler: called with each ``notifications/message``.
        on_notification: called with ``(method, params)`` for every server notification.
        sampling_handler: answers ``sampling/createMessage`` (see :mod:`mcp_async.handlers`);
            the ``sampling`` capability is declared only when given.
        sampling_tools: also declare ``sampling.tools`` (the handler supports tool use).
        elicitation_handler: answers ``elicitation/create`` in form and URL mode
            (e.g. :func:`mcp_async.elicitation.accept_with_defaults`).
        elicitation_complete_handler: called with the id of an accepted URL-mode
            elicitation when the server reports it complete.
        roots: the roots answered to ``roots/list``: a list of ``file://`` URIs or
            :class:`~mcp_async.models.Root`, or a sync/async callable returning one.
        tools_list_changed_handler: called (no arguments) on ``tools/list_changed``.
        resources_list_changed_handler: called on ``resources/list_changed``.
        prompts_list_changed_handler: called on ``prompts/list_changed``.
        resource_updated_handler: called with the URI of each ``resources/updated``.
        max_concurrent_handlers: most server requests answered at once, and most
            answers sent at once; as many more requests may wait, beyond that they are
            refused with ``-32603`` (see docs/two-way.md).
        listen: the standalone GET stream, on which a handshake-era server that assigned
            a session id sends its own requests and notifications. ``"auto"`` (the
            default) opens it when something needs server push: a handler for server
            requests or notifications (``sampling_handler``, ``roots``,
            ``logging_handler``, ``on_notification``, the ``*_changed`` and
            ``resource_updated`` handlers, :meth:`add_notification_handler`),
            :meth:`listen`, :meth:`subscribe_resource`, or ``validate_output`` (the tool
            list must follow ``list_changed``); ``True`` always opens it after the
            handshake, ``False`` never. Streams use connections of their own, never the
            ones requests need (docs/pool.md).
        reconnect: how SSE streams are resumed (:class:`~mcp_async.ReconnectPolicy`).
        max_body_size: largest JSON body accepted, in bytes (``None``: no limit).
        max_event_size: largest single SSE event accepted, in bytes.
        connection_limit: size of the owned connection pool.
        max_list_pages: most pages a ``list_*`` call walks before raising.
        tracing: OpenTelemetry spans per request (:mod:`mcp_async.tracing`): ``None``
            when a tracer provider is set, ``False`` never, ``True`` (or a
            ``TracingPolicy`` with options) always.
        tracer_provider: the OpenTelemetry tracer provider to use (default: global).
        protocol: the protocol era. ``"auto"`` probes with ``server/discover`` and
            speaks 2026-07-28 when the server does, else runs the ``initialize``
            handshake; ``"legacy"`` always runs the handshake; a version string pins
            it (``"2026-07-28"``: no probe; a handshake version: the one offered).
            See docs/mcp.md.
        log_level: in the 2026-07-28 era, the ``logLevel`` every request asks for
            (:meth:`set_logging_level` changes it). ``None`` (the default) asks for
            :data:`DEFAULT_LOG_LEVEL` (``"debug"``) when a ``logging_handler`` is given,
            so that it receives what a handshake-era server would send, and for no log
            messages otherwise.
        max_input_rounds: most input rounds (2026-07-28 ``InputRequiredResult``) one
            call drives before :class:`~mcp_async.InputRoundsExceededError`.
        result_types: ``resultType`` values an extension handles; :meth:`request`
            returns such results as they are instead of raising
            :class:`~mcp_async.UnknownResultTypeError`.
        cache: the response cache for 2026-07-28 ``ttlMs``/``cacheScope`` hints (on by
            default, in memory); ``False`` turns it off, a
            :class:`~mcp_async.cache.CacheStore` replaces the store. See docs/caching.md.
    """

    # Slots: a gateway holds thousands of clients, and an instance dict of more than 30
    # keys is not key-shared (about 1.5 KB each). ``__dict__`` keeps any other attribute.
    __slots__ = (
        "__dict__", "__weakref__", "_catalogue", "_config", "_dispatcher", "_given_transport",
        "_headers", "_log_level", "_loop", "_pipeline", "_push", "_session", "_state",
        "_streams", "_transport", "max_list_pages", "timeout", "trust_idempotent_hint", "url",
        "validate_output",
    )

    def __init__(
        self,
        url: str | MessageTransport | ASGIApp | ASGITransport,
        *,
        transport: Literal["auto", "streamable-http", "sse"] = "auto",
        http_transport: HTTPTransport | None = None,
        headers: Mapping[str, str] | None = None,
        auth: str | Hook | None = None,
        retry: Hook | None = None,
        trust_idempotent_hint: bool = False,
        rate_limit: Hook | None = None,
        metrics: Hook | None = None,
        timeout: TimeoutLike = None,
        session: aiohttp.ClientSession | None = None,
        hooks: Sequence[Hook] = (),
        client_info: Mapping[str, Any] | Implementation | None = None,
        capabilities: Mapping[str, Any] | None = None,
        initialize: Literal["lazy", "eager"] = "lazy",
        validate_output: bool = False,
        logging_handler: LoggingHandler | None = None,
        on_notification: NotificationHandler | None = None,
        sampling_handler: SamplingHandler | None = None,
        sampling_tools: bool = False,
        elicitation_handler: ElicitationHandler | None = None,
        elicitation_complete_handler: ElicitationCompleteHandler | None = None,
        roots: RootsProvider | None = None,
        tools_list_changed_handler: ListChangedHandler | None = None,
        resources_list_changed_handler: ListChangedHandler | None = None,
        prompts_list_changed_handler: ListChangedHandler | None = None,
        resource_updated_handler: ResourceUpdatedHandler | None = None,
        max_concurrent_handlers: int = 16,
        listen: bool | Literal["auto"] = "auto",
        reconnect: ReconnectPolicy | None = None,
        max_body_size: int | None = DEFAULT_MAX_BODY,
        max_event_size: int | None = 1024 * 1024,
        connection_limit: int = 100,
        max_list_pages: int = 1000,
        protocol: str = "auto",
        log_level: str | None = None,
        max_input_rounds: int = 10,
        result_types: Collection[str] = (),
        tracing: bool | TracingPolicy | None = None,
        tracer_provider: Any = None,
        cache: bool | CacheStore = True,
    ) -> None:
        config = self._config = ClientConfig.build(
            url, transport=transport, http_transport=http_transport, headers=headers, auth=auth,
            retry=retry, trust_idempotent_hint=trust_idempotent_hint, rate_limit=rate_limit,
            metrics=metrics, timeout=timeout, session=session, hooks=hooks,
            client_info=client_info, capabilities=capabilities, initialize=initialize,
            validate_output=validate_output, logging_handler=logging_handler,
            on_notification=on_notification, sampling_handler=sampling_handler,
            sampling_tools=sampling_tools, elicitation_handler=elicitation_handler,
            elicitation_complete_handler=elicitation_complete_handler, roots=roots,
            tools_list_changed_handler=tools_list_changed_handler,
            resources_list_changed_handler=resources_list_changed_handler,
            prompts_list_changed_handler=prompts_list_changed_handler,
            resource_updated_handler=resource_updated_handler,
            max_concurrent_handlers=max_concurrent_handlers, listen=listen, reconnect=reconnect,
            max_body_size=max_body_size, max_event_size=max_event_size,
            connection_limit=connection_limit, max_list_pages=max_list_pages, protocol=protocol,
            log_level=log_level, max_input_rounds=max_input_rounds, result_types=result_types,
            tracing=tracing, tracer_provider=tracer_provider, cache=cache,
        )
        self.url: str | None = config.url
        self._given_transport = config.given_transport
        self.timeout = config.timeout
        self._headers = config.headers
        self.trust_idempotent_hint = trust_idempotent_hint
        self.validate_output = validate_output
        self.max_list_pages = max_list_pages
        self._dispatcher = config.dispatcher
        #: Whether something needs server push (see ``listen``); only ever becomes True.
        self._push = config.push
        self._log_level = config.log_level  # set_logging_level changes it
        self._catalogue = ToolCatalogue()
        self._dispatcher.on("notifications/tools/list_changed", self._tools_changed)
        if config.cache is not None:
            config.cache.attach(self._dispatcher)
        self._state = _State.NEW
        self._loop: asyncio.AbstractEventLoop | None = None
        self._transport: HTTPTransport | None = None
        self._streams: StreamConnections | None = None
        self._pipeline: HTTPPipeline | None = None
        self._session: SessionEngine | None = None

    @classmethod
    def stdio(
        cls,
        command: str,
        args: Sequence[str] = (),
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        inherit_env: bool = False,
        stderr: StderrTarget = None,
        restart: bool = False,
        shutdown_grace: float = 2.0,
        **client_options: Any,
    ) -> AsyncMCPClient:
        """A client for a local server started as ``command args...`` and spoken to over
        stdio (newline-delimited JSON-RPC on its stdin and stdout).

        The process starts when the client is entered, without a shell. It inherits
        only ``HOME``, ``LOGNAME``, ``PATH``, ``SHELL``, ``TERM`` and ``USER`` plus
        ``env`` (``inherit_env=True``: the whole environment plus ``env``). Its stderr
        goes, line by line, to the logger ``mcp_async.server.<name>``, or to ``stderr``
        (a callable taking one line, a :class:`logging.Logger` or a writable text file).
        With ``restart=True`` a call after the server died starts a new process and
        handshake; otherwise it raises :class:`~mcp_async.ServerExitedError`.
        ``shutdown_grace`` bounds each wait while stopping the server (stdin closed,
        then SIGTERM, then SIGKILL to its process group).
        ``client_options`` are the other :class:`AsyncMCPClient` arguments
        (``max_body_size`` also bounds one line of the server's output).

        Example::

            server = ["-y", "@modelcontextprotocol/server-everything"]
            async with AsyncMCPClient.stdio("npx", server) as client:
                print(await client.list_tools())
        """
        from ..transports.stdio import StdioTransport

        max_line = client_options.get("max_body_size", DEFAULT_MAX_BODY)
        transport = StdioTransport(
            command, args, env=env, cwd=cwd, inherit_env=inherit_env, stderr=stderr,
            restart=restart, max_line_size=max_line, shutdown_grace=shutdown_grace,
        )
        return cls(transport, **client_options)

    # -- lifecycle ---------------------------------------------------------------------
    async def __aenter__(self) -> AsyncMCPClient:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def open(self) -> None:
        """Set up the transport (and the HTTP session, unless borrowed); maybe handshake."""
        if self._state is _State.OPEN:
            raise ClientStateError("client is already open; enter it only once")
        if self._state is _State.CLOSED:
            raise ClientStateError("client is closed; create a new AsyncMCPClient")
        from ..policies.tracing import tracing_policy

        config = self._config
        tracer = tracing_policy(self._session_lookup(), config.tracing, config.tracer_provider)
        given = config.given_transport
        if given is not None:
            messages = given
            # (Checked before anything connects: an HTTP hook is a ConfigError here.)
            chains = config.hooks.message_chains(given.kind, tracer)
        else:
            assert self.url is not None
            link = connect_url(config, self.url, self.timeout, self._wants_push)
            self._transport, self._streams, self._pipeline = link.http, link.streams, link.pipeline
            messages = link.messages
            chains = config.hooks.message_chains(None, tracer)
        self._session = new_engine(
            config, messages, *chains, url=self.url, timeout=self.timeout,
            log_level=self._log_level,
        )
        self._session.owner = _SessionOwner(self)
        resumed = self.__dict__.get("_resumed")  # set by resume() only
        if resumed is not None:
            self._session.resume(resumed[0], keep_open=resumed[1])
        self._state = _State.OPEN
        self._loop = asyncio.get_running_loop()
        if config.initialize_mode == "eager":
            try:
                await self.initialize()
            except BaseException:
                await self.aclose()
                raise

    async def aclose(self) -> None:
        """End the MCP session (DELETE) and close the owned HTTP session. Idempotent."""
        if self._state is not _State.OPEN:
            self._state = _State.CLOSED
            return
        self._mcp()  # raises if called from another event loop than the one that opened
        self._state = _State.CLOSED
        try:
            if self._session is not None:
                await self._session.close()
            self._catalogue.closing()
        finally:
            if self._transport is not None:
                await self._transport.aclose()
            if self._streams is not None:
                await self._streams.aclose()

    def _wants_push(self) -> bool:
        """Whether something needs server push (asked by the transport after a handshake)."""
        return self._push

    def _want_push(self) -> None:
        """Something needs server push from now on: open the GET stream if the session is
        up and has none yet (the next handshake opens it otherwise)."""
        self._push = True
        engine = self._session
        if engine is not None and engine.connected and self._config.listen == "auto":
            open_push_stream(engine, self._loop)

    async def _await_push(self) -> None:
        """As :meth:`_want_push`, then wait briefly for the GET stream to be answered."""
        self._push = True
        engine = self._session
        if engine is not None and engine.connected and self._config.listen == "auto":
            await await_push_stream(engine)

    def _target(self) -> str:
        return self.url if self.url is not None else repr(self._given_transport)

    @property
    def transport_kind(self) -> str:
        """The transport in use: ``"streamable-http"``, ``"sse"``, ``"stdio"`` or
        ``"memory"``. For a URL with ``transport="auto"`` it is known after the first
        exchange with the server (``"auto"`` before that)."""
        session = self._session
        if session is None:
            if self._given_transport is not None:
                return self._given_transport.kind
            return self._config.transport_choice
        return session.transport.kind

    @property
    def message_transport(self) -> MessageTransport | None:
        """The transport object the client was given instead of a URL (a
        :class:`~mcp_async.StdioTransport`, say); ``None`` for a URL."""
        return self._given_transport

    @property
    def is_open(self) -> bool:
        """True between a successful :meth:`open` and :meth:`aclose`."""
        return self._state is _State.OPEN

    @property
    def cache(self) -> ResponseCache | None:
        """The response cache (``None`` with ``cache=False``); see docs/caching.md."""
        return self._config.cache

    @property
    def closed(self) -> bool:
        """True once :meth:`aclose` ran."""
        return self._state is _State.CLOSED

    def __del__(self, _warn: Callable[..., None] = warnings.warn) -> None:
        if getattr(self, "_state", None) is _State.OPEN and self._config.borrowed_session is None:
            _warn(
                f"Unclosed AsyncMCPClient for {self._target()}; use 'async with' or await "
                "aclose()",
                ResourceWarning,
                source=self,
                stacklevel=1,
            )

    def _mcp(self) -> SessionEngine:
        if self._state is not _State.OPEN or self._session is None:
            raise ClientStateError(self._state_message())
        if asyncio.get_running_loop() is not self._loop:
            raise ClientStateError(
                "this client was opened in another event loop; a client, its connections "
                "and its processes belong to the loop that entered it"
            )
        return self._session

    @property
    def session(self) -> Session:
        """The MCP session of this open client, as features use it (see
        :class:`mcp_async.session.api.Session`): requests and notifications through the
        client's policies, routers for incoming messages, the negotiated version and
        the server's facts, the tool catalogue and server push. Raises
        :class:`~mcp_async.ClientStateError` unless the client is open and used from the
        event loop that opened it."""
        return self._mcp()

    def _session_lookup(self) -> SessionLookup:
        """``() -> this client's session or None``, without keeping the client alive."""
        ref = weakref.ref(self)

        def current() -> Session | None:
            client = ref()
            return None if client is None else client._session

        return current

    def _state_message(self) -> str:
        if self._state is _State.CLOSED:
            return "client is closed"
        return "client is not open; use 'async with AsyncMCPClient(...) as client'"

    def _call_timeout(self, timeout: TimeoutLike) -> Timeout | None:
        return None if timeout is None else to_timeout(timeout, self.timeout)

    # -- plain JSON requests -----------------------------------------------------------
    async def send_request(
        self,
        endpoint: str,
        data: Any,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: TimeoutLike = None,
        retry: RetryPolicy | bool | None = None,
    ) -> Any:
        """POST ``data`` as JSON to ``{url}/{endpoint}`` and return the decoded JSON reply.

        Runs through the whole hook pipeline. Raises ``TypeError``/``ValueError`` for data
        that is not JSON (before sending), :class:`~mcp_async.HTTPStatusError` (or a
        subclass) for a non-2xx status and :class:`~mcp_async.ContentTypeError` for a
        2xx reply that is not JSON. A 204 No Content reply returns ``None``.
        ``retry`` overrides the client's policy for this call (``False``: no retry).
        """
        self._mcp()  # open, and in its own event loop
        if self._pipeline is None or self.url is None:
            raise ClientStateError(
                f"send_request needs an HTTP server; this client speaks {self.transport_kind}"
            )
        assert self._pipeline is not None  # (with _transport)
        return await post_json(
            self._pipeline, self.url, endpoint, data, default_headers=self._headers,
            headers=headers, timeout=timeout, default_timeout=self.timeout, retry=retry,
        )

    async def send_requests(
        self,
        requests: Iterable[tuple[str, Any]] | AsyncIterable[tuple[str, Any]],
        *,
        concurrency: int = 16,
        fail_fast: bool = False,
        progress: ProgressOption = None,
        timeout: TimeoutLike = None,
        headers: Mapping[str, str] | None = None,
        retry: RetryPolicy | bool | None = None,
    ) -> BatchResult[Any]:
        """:meth:`send_request` for many ``(endpoint, data)`` pairs, ``concurrency`` at once.

        Outcomes come back in input order, as in :meth:`call_tools`.
        """
        from ..features.batch import send_requests

        if self._state is not _State.OPEN:
            raise ClientStateError(self._state_message())
        return await send_requests(
            self, requests, concurrency=concurrency, fail_fast=fail_fast, progress=progress,
            timeout=timeout, headers=headers, retry=retry,
        )

    # -- MCP: handshake and escape hatches ----------------------------------------------
    async def initialize(self) -> InitializeResult:
        """Settle the protocol era and return what the server says of itself.

        In the handshake era this runs ``initialize`` (once; concurrent callers share
        it). In the 2026-07-28 era it returns the ``server/discover`` result in the same
        shape (discovering first if the version was pinned and no probe ran).
        """
        return await self._mcp().initialize()

    async def discover(self, *, cache: CacheMode = "use") -> DiscoverResult:
        """Ask the server about itself with ``server/discover`` (MCP 2026-07-28).

        Updates :attr:`server_info`, :attr:`server_capabilities` and
        :attr:`instructions`. In the handshake era it raises
        :class:`~mcp_async.EraError`: ``initialize`` told all that already.
        ``cache`` as in :meth:`list_tools_page`.
        """
        engine = self._mcp()
        store = self._config.cache
        if check_mode(cache) == "bypass" or store is None:
            return await engine.discover()
        return await engine.discover(lambda: store.fetch(
            engine, "server/discover", None, cache,
            lambda: engine.request("server/discover", None, idempotent=True),
        ))

    @property
    def server_info(self) -> Implementation:
        """The server's ``serverInfo`` (after the handshake)."""
        return self._mcp().require_result().server_info

    @property
    def server_capabilities(self) -> ServerCapabilities:
        """The server's capabilities (after the handshake)."""
        return self._mcp().require_result().capabilities

    @property
    def protocol_version(self) -> str:
        """The negotiated protocol version, in either era (after the first exchange)."""
        engine = self._mcp()
        if engine.protocol_version is None:
            engine.require_result()  # raises the "not yet" error
        assert engine.protocol_version is not None
        return engine.protocol_version

    @property
    def stateless_version(self) -> str | None:
        """The stateless (2026-07-28 or later) version in use; ``None`` in the handshake
        era and before the first exchange."""
        return self._mcp().stateless_version

    async def _revision(self) -> Revision:
        """The protocol revision in use; connects first."""
        engine = self._mcp()
        if not engine.connected:
            await engine.connect()
        assert engine.revision is not None
        return engine.revision

    async def _require_method(self, method: str) -> None:
        """Raise :class:`~mcp_async.EraError` if ``method`` has no meaning in the
        revision in use; connects first."""
        revision = await self._revision()
        instead = revision.unsupported(method)
        if instead is not None:
            raise EraError(method, revision.version, instead)

    @property
    def instructions(self) -> str | None:
        """The server's ``instructions`` (after the handshake; may be ``None``)."""
        return self._mcp().require_result().instructions

    @property
    def listening(self) -> bool:
        """Whether the standalone GET stream for server-initiated messages is open now."""
        return self._mcp().transport.listening

    @property
    def session_id(self) -> str | None:
        """The ``Mcp-Session-Id`` in use (``None`` if stateless or before the handshake)."""
        return self._mcp().transport.session_id

    # -- portable sessions (docs/sessions.md) --------------------------------------------
    def export_session(self, *, keep_open: bool = True) -> SessionState:
        """The session as plain JSON-ready data, for :meth:`resume` in this or another
        process: protocol version (the era verdict), server info and capabilities, and
        in the handshake era the ``Mcp-Session-Id``. No token or header is in it.

        ``keep_open`` (the default): closing this client no longer ends the session on
        the server (no DELETE), since another process may continue it. Raises
        :class:`~mcp_async.ClientStateError` before the first exchange with the server
        and for transports other than Streamable HTTP.
        """
        return export_state(self._mcp(), self.url, keep_open=keep_open)

    @classmethod
    def resume(
        cls,
        url: str,
        state: SessionState | Mapping[str, Any] | str | bytes,
        *,
        keep_open: bool = True,
        **options: Any,
    ) -> AsyncMCPClient:
        """A client that continues an exported session (:meth:`export_session`) without
        a new handshake, and in the 2026-07-28 era without the ``server/discover``
        probe. Open it as usual (``async with``).

        ``state`` is a :class:`~mcp_async.SessionState` or its ``to_json()`` /
        ``to_dict()`` form; ``options`` are any other :class:`AsyncMCPClient`
        arguments (auth comes from them: tokens are never in a state). If the server no
        longer knows the session (HTTP 404), the client starts a new one as usual.
        ``keep_open``: closing this client leaves the resumed session open on the server.

        Raises :class:`~mcp_async.SessionStateError` for a malformed, foreign or
        old-format state, one exported for another endpoint, or options that
        contradict it (``transport``, ``protocol``).
        """
        parsed = resumable(url, state, options)
        client = cls(url, transport=parsed.transport, **options)
        client.__dict__["_resumed"] = (parsed, keep_open)
        return client

    async def request(
        self,
        method: str,
        params: Mapping[str, Any] | None = None,
        *,
        timeout: TimeoutLike = None,
        headers: Mapping[str, str] | None = None,
        progress: ProgressCallback | None = None,
        idempotent: bool = False,
        reset_timeout_on_progress: bool = False,
        max_total_timeout: float | None = None,
        retry: RetryPolicy | bool | None = None,
    ) -> dict[str, Any]:
        """Send any JSON-RPC request and return its raw ``result`` object.

        ``progress`` receives the request's ``notifications/progress``. With
        ``reset_timeout_on_progress``, the ``timeout`` (its total) restarts on each of
        them, so a long job that keeps reporting is not cut off; ``max_total_timeout``
        (seconds) bounds the whole request however much progress arrives. On a timeout
        the server is sent ``notifications/cancelled`` and :class:`~mcp_async.ReadTimeout`
        is raised; cancelling the calling task cancels the request the same way.
        ``retry`` overrides the client's retry policy for this call: ``False`` disables
        it, a :class:`~mcp_async.RetryPolicy` replaces it, ``True`` uses the client's (or
        a default) policy.
        """
        return await self._request(
            method, params, timeout=timeout, headers=headers, progress=progress,
            idempotent=idempotent, reset_timeout_on_progress=reset_timeout_on_progress,
            max_total_timeout=max_total_timeout, options=retry_options(retry),
        )

    def _request(
        self,
        method: str,
        params: Mapping[str, Any] | None,
        *,
        timeout: TimeoutLike,
        headers: Mapping[str, str] | None,
        progress: ProgressCallback | None,
        idempotent: bool,
        reset_timeout_on_progress: bool,
        max_total_timeout: float | None,
        options: RequestOptions,
    ) -> Awaitable[dict[str, Any]]:
        # A plain function that checks its input and returns the session's coroutine:
        # one coroutine layer less on every call.
        if not isinstance(method, str) or not method:
            raise ConfigError("method must be a non-empty string")
        if max_total_timeout is not None:
            check_max_total(max_total_timeout)
        return self._mcp().request(
            method,
            dict(params) if params is not None else None,
            timeout=self._call_timeout(timeout),
            headers=headers,
            progress=progress,
            idempotent=idempotent,
            reset_timeout_on_progress=reset_timeout_on_progress,
            max_total_timeout=max_total_timeout,
            options=options,
        )

    async def notify(self, method: str, params: Mapping[str, Any] | None = None) -> None:
        """Send any JSON-RPC notification (after the handshake)."""
        if not isinstance(method, str) or not method:
            raise ConfigError("method must be a non-empty string")
        await self._mcp().notify(method, dict(params) if params is not None else None)

    def add_notification_handler(
        self, method: str, handler: Callable[[dict[str, Any]], Awaitable[None] | None]
    ) -> None:
        """Also call ``handler(params)`` for every server notification ``method``
        (e.g. ``"notifications/tools/list_changed"``), after the built-in handling.

        Handlers run in order, in the reader of the stream that carried the notification;
        an exception is logged, never raised.
        """
        if not isinstance(method, str) or not method:
            raise ConfigError("method must be a non-empty string")
        if not callable(handler):
            raise ConfigError(f"handler must be callable, got {type(handler).__name__}")

        async def call(params: dict[str, Any]) -> None:
            outcome = handler(params)
            if outcome is not None:
                await outcome

        self._dispatcher.on(method, call)
        self._want_push()

    async def notify_roots_changed(self) -> None:
        """Tell the server the roots changed (``notifications/roots/list_changed``).

        The server then asks ``roots/list`` again, which calls a ``roots`` callable anew.
        """
        if not self._dispatcher.has_roots:
            raise ClientStateError("notify_roots_changed needs roots= on the client")
        await self._require_method("notifications/roots/list_changed")
        await self.notify("notifications/roots/list_changed")

    async def ping(self, *, timeout: TimeoutLike = None) -> None:
        """Check the server is alive (``ping``).

        MCP 2026-07-28 has no ``ping``: there it raises :class:`~mcp_async.EraError`.
        """
        # Connecting counts against the call's timeout.
        timeout = await self._mcp().connect_within("ping", self._call_timeout(timeout))
        await self._require_method("ping")
        await self.request("ping", None, timeout=timeout, idempotent=True)

    async def set_logging_level(self, level: str) -> None:
        """Ask the server to send log messages at ``level`` and above.

        In the handshake era this sends ``logging/setLevel``. MCP 2026-07-28 has no
        such request: there the level becomes the ``logLevel`` that every later request
        carries, so code written for both eras keeps working.
        """
        if level not in LOG_LEVELS:
            raise ConfigError(f"level must be one of {', '.join(LOG_LEVELS)}; got {level!r}")
        engine = self._mcp()
        self._log_level = level
        engine.set_log_level(level)
        if (await self._revision()).unsupported("logging/setLevel") is None:
            await self.request("logging/setLevel", {"level": level}, idempotent=True)

    # -- pagination --------------------------------------------------------------------
    def _page(
        self, method: str, cursor: str | None, cache: CacheMode = "use"
    ) -> Awaitable[dict[str, Any]]:
        return fetch_page(self, method, cursor, cache)

    def _walk(
        self,
        method: str,
        parse: Callable[[Mapping[str, Any]], _Page],
        items: Callable[[_Page], Sequence[_T]],
        next_cursor: Callable[[_Page], str | None],
        max_pages: int | None,
        cache: CacheMode = "use",
    ) -> Awaitable[list[_T]]:
        return walk_pages(self, method, parse, items, next_cursor, max_pages, cache)


class _SessionOwner:
    """What a client lends its session for the features built on it (a
    :class:`~mcp_async.session.api.SessionOwner`). It holds the client weakly: the
    session must not keep its client alive (a dropped, unclosed client is collected,
    and warns, at once)."""

    __slots__ = ("_client",)

    def __init__(self, client: AsyncMCPClient) -> None:
        self._client = weakref.ref(client)

    @property
    def timeout(self) -> Timeout:
        client = self._client()
        return DEFAULT_TIMEOUT if client is None else client.timeout

    async def tool(self, name: str) -> Tool | None:
        client = self._client()
        return None if client is None else await client._tool(name)

    def want_push(self) -> None:
        client = self._client()
        if client is not None:
            client._want_push()

    async def await_push(self) -> None:
        client = self._client()
        if client is not None:
            await client._await_push()
