"""``AsyncMCPClient``: the public facade.

One client owns one ``aiohttp.ClientSession`` (or borrows one) and one MCP session,
and is meant to be shared by every task of a program::

    async with AsyncMCPClient("http://127.0.0.1:8000/mcp") as client:
        tools = await client.list_tools()
        result = await client.call_tool("add", {"a": 1, "b": 2})
"""

from __future__ import annotations

import asyncio
import difflib
import enum
import functools
import json
import logging
import os
import warnings
import weakref
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload

import aiohttp
from yarl import URL

from .._config import DEFAULT_TIMEOUT, Timeout, TimeoutLike, to_timeout
from .._exceptions import (
    ClientStateError,
    ConfigError,
    ContentTypeError,
    EraError,
    HeaderMismatchError,
    InvalidJSONError,
    JSONRPCError,
    MCPClientError,
    OutputValidationError,
    ToolError,
    UnexpectedResponseError,
    UnknownToolError,
)
from .._version import __version__
from ..features import tasks as _tasks
from ..features.cache import CacheMode, CacheStore, ResponseCache, check_mode
from ..policies.base import MessagePolicy
from ..protocol import modern
from ..protocol.jsonrpc import load_document
from ..protocol.models import (
    CallToolResult,
    Completion,
    DiscoverResult,
    GetPromptResult,
    Implementation,
    InitializeResult,
    InputRequiredResult,
    ListPromptsPage,
    ListResourcesPage,
    ListResourceTemplatesPage,
    ListToolsPage,
    Prompt,
    ReadResourceResult,
    Resource,
    ResourceTemplate,
    ServerCapabilities,
    Tool,
)
from ..session.api import Session, SessionLookup
from ..session.dispatch import Dispatcher, LoggingHandler, NotificationHandler, ProgressCallback
from ..session.engine import SessionEngine
from ..session.portable import SessionState, SessionStateError
from ..session.revisions import Revision
from ..transports.http.aiohttp_transport import AiohttpTransport, check_session, make_session
from ..transports.http.base import Handler, HTTPRequest, HTTPResponse, HTTPTransport
from ..transports.http.detect import url_transport
from ..transports.http.hooks import Hook, build_pipeline
from ..transports.http.sse_streams import ReconnectPolicy
from ..transports.http.status import raise_for_status
from ..transports.http.stream_connections import StreamConnections
from ..transports.message import MessageTransport
from ..transports.options import NO_OPTIONS, RequestOptions

if TYPE_CHECKING:
    from collections.abc import AsyncIterable, Iterable

    from ..features.batch import BatchResult, CallLike, OutcomeStream, ProgressOption
    from ..features.listen import Listening
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

__all__ = ["AsyncMCPClient", "LOG_LEVELS"]

_T = TypeVar("_T")
_Page = TypeVar("_Page")

#: Logging levels accepted by :meth:`AsyncMCPClient.set_logging_level` (RFC 5424 order).
LOG_LEVELS = ("debug", "info", "notice", "warning", "error", "critical", "alert", "emergency")

#: The ``log_level`` of a client that has a ``logging_handler`` and sets no level. In the
#: 2026-07-28 era a server sends log messages only to requests that ask for a level; in
#: the handshake era servers send every level until told otherwise. Asking for
#: ``"debug"`` makes one handler receive the same in both eras.
DEFAULT_LOG_LEVEL = "debug"

_JSON_DUMPS = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode


_DEFAULT_MAX_BODY = 16 * 1024 * 1024

#: The JSON-RPC code with which servers such as ``mcp-async serve`` refuse an unknown tool.
_INVALID_PARAMS = -32602

#: Shared by the clients that add no result types of their own (most: one set each
#: would cost hundreds of bytes per client in a gateway).
_NO_RESULT_TYPES: frozenset[str] = frozenset()
_TASK_RESULT_TYPES = frozenset({_tasks.TASK_RESULT_TYPE})

#: What ``transport=`` accepts for a URL.
_URL_TRANSPORTS = ("auto", "streamable-http", "sse")

logger = logging.getLogger("mcp_async")

#: Era verdicts of ``protocol="auto"`` (origin -> version or "legacy"), shared by the
#: clients that borrow one aiohttp session.
_VERDICTS: weakref.WeakKeyDictionary[aiohttp.ClientSession, dict[str, str]] = (
    weakref.WeakKeyDictionary()
)


class _State(enum.Enum):
    NEW = "new"
    OPEN = "open"
    CLOSED = "closed"


def _check_url(url: str) -> str:
    if not isinstance(url, str):
        raise ConfigError(f"url must be a string, got {type(url).__name__}")
    parsed = URL(url)
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ConfigError(f"url must be an absolute http(s) URL, got {url!r}")
    return url


def _asgi_target(
    target: object, given: HTTPTransport | None, max_body_size: int | None, timeout: TimeoutLike
) -> tuple[str, HTTPTransport]:
    """``AsyncMCPClient(app)``: the URL and HTTP layer for an ASGI application (or an
    :class:`~mcp_async.ASGITransport`) given as the first argument."""
    from ..transports.http.asgi import ASGI_URL, ASGITransport

    if given is not None:
        raise ConfigError("http_transport= needs a URL as the first argument, not an app")
    if isinstance(target, ASGITransport):
        return ASGI_URL, target
    if callable(target):
        return ASGI_URL, ASGITransport(target, max_body_size=max_body_size, timeout=timeout)
    raise ConfigError(
        "url must be a URL string, a MessageTransport or an ASGI application, got "
        f"{type(target).__name__}"
    )


def _check_http_transport(
    given: HTTPTransport | None, session: aiohttp.ClientSession | None
) -> HTTPTransport | None:
    if given is None:
        return None
    if session is not None:
        raise ConfigError("give either session= (aiohttp) or http_transport=, not both")
    if not (callable(getattr(given, "send", None)) and callable(getattr(given, "aclose", None))):
        raise ConfigError(
            "http_transport must have async send(request) and aclose() methods "
            f"(mcp_async.HTTPTransport), got {type(given).__name__}"
        )
    return given


def _join(base: str, endpoint: str) -> str:
    if not isinstance(endpoint, str):
        raise ConfigError(f"endpoint must be a string, got {type(endpoint).__name__}")
    if "://" in endpoint:
        raise ConfigError(
            f"endpoint must be a path relative to the client URL, got {endpoint!r}"
        )
    if not endpoint:
        return base
    return base.rstrip("/") + "/" + endpoint.lstrip("/")


def _is_json_type(media_type: str) -> bool:
    return media_type == "application/json" or media_type.endswith("+json")


class AsyncMCPClient:
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
        "__dict__", "__weakref__", "_borrowed_session", "_cache", "_capabilities",
        "_client_info", "_connection_limit", "_dispatcher", "_given_transport",
        "_header_maps", "_headers", "_http_transport", "_initialize_mode", "_listen",
        "_log_level", "_loop",
        "_max_body_size", "_max_event_size", "_max_input_rounds", "_message_level",
        "_plain_retry", "_policy_hooks", "_protocol", "_push", "_reconnect", "_result_types",
        "_retry", "_retry_stand_in", "_send", "_session", "_state", "_streams", "_tools",
        "_tools_task", "_tracing_options", "_transport", "_transport_choice", "_validators",
        "max_list_pages", "timeout", "trust_idempotent_hint", "url", "validate_output",
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
        max_body_size: int | None = _DEFAULT_MAX_BODY,
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
        if not isinstance(url, str | MessageTransport):
            # In process: an ASGI application (or its transport) at ASGI_URL.
            url, http_transport = _asgi_target(url, http_transport, max_body_size, timeout)
        if isinstance(url, MessageTransport):
            if http_transport is not None:
                raise ConfigError(f"http_transport= applies only to HTTP, not {url.kind}")
            self._given_transport: MessageTransport | None = url
            self.url: str | None = None
            for name, value in (("auth", auth), ("session", session), ("headers", headers)):
                if value:
                    raise ConfigError(f"{name}= applies only to HTTP transports, not {url.kind}")
            if hooks:
                raise ConfigError(f"hooks= apply only to HTTP transports, not {url.kind}")
        else:
            self._given_transport = None
            self.url = _check_url(url)
        self._http_transport = _check_http_transport(http_transport, session)
        if transport not in _URL_TRANSPORTS:
            raise ConfigError(
                f"transport must be one of {', '.join(_URL_TRANSPORTS)}; got {transport!r}"
            )
        self._transport_choice = transport
        self.timeout = to_timeout(timeout, DEFAULT_TIMEOUT)
        self._headers = dict(headers or {})
        if initialize not in ("lazy", "eager"):
            raise ConfigError(f"initialize must be 'lazy' or 'eager', got {initialize!r}")
        self._initialize_mode = initialize
        check_session(session)
        self._borrowed_session = session
        self.trust_idempotent_hint = trust_idempotent_hint
        # Without a policy of its own the client still honours per-call ``retry=``
        # options, through a stand-in in a second message chain used only by such calls.
        self._retry_stand_in: Hook | None = None
        if retry is None:
            from ..policies.retry import per_call_retry

            retry = self._retry_stand_in = per_call_retry()
        self._retry = retry
        self._policy_hooks = self._collect_hooks(metrics, retry, rate_limit, auth, hooks)
        # On HTTP too, metrics and retry wrap each MCP request message (when they can):
        # they then see JSON-RPC outcomes, time until the response, and give every
        # retried attempt a new id. Retry runs only there; metrics keeps its HTTP form
        # for plain HTTP requests (send_request, DELETE, notifications).
        self._message_level: list[MessagePolicy] = []
        for hook in (metrics, retry):
            if isinstance(hook, MessagePolicy):
                self._message_level.append(hook)
        #: The bottom of the HTTP pipeline when send_request runs under a retry policy
        #: (its pipeline is built per retried call: few clients ever make one).
        self._plain_retry: Handler | None = None
        if isinstance(client_info, Implementation):
            client_info = client_info.to_dict()
        # (The default is one dict for every client; none of them changes it.)
        self._client_info = dict(client_info) if client_info else _DEFAULT_CLIENT_INFO
        self.validate_output = validate_output
        self._dispatcher = Dispatcher(
            logging_handler=logging_handler,
            on_notification=on_notification,
            sampling_handler=sampling_handler,
            sampling_tools=sampling_tools,
            elicitation_handler=elicitation_handler,
            elicitation_complete_handler=elicitation_complete_handler,
            roots=roots,
            tools_list_changed_handler=tools_list_changed_handler,
            resources_list_changed_handler=resources_list_changed_handler,
            prompts_list_changed_handler=prompts_list_changed_handler,
            resource_updated_handler=resource_updated_handler,
            max_concurrent_handlers=max_concurrent_handlers,
        )
        # Capabilities given explicitly win over those the handlers imply.
        self._capabilities = {**self._dispatcher.capabilities(), **(capabilities or {})}
        if reconnect is not None and not isinstance(reconnect, ReconnectPolicy):
            raise ConfigError("reconnect must be a mcp_async.ReconnectPolicy")
        if not (isinstance(listen, bool) or listen == "auto"):
            raise ConfigError(f"listen must be True, False or 'auto', got {listen!r}")
        self._listen = listen
        #: Whether something needs server push (see ``listen``); only ever becomes True.
        self._push = validate_output or any(
            handler is not None for handler in (
                logging_handler, on_notification, sampling_handler, elicitation_handler,
                elicitation_complete_handler, roots, tools_list_changed_handler,
                resources_list_changed_handler, prompts_list_changed_handler,
                resource_updated_handler,
            )
        )
        self._reconnect = reconnect
        self._dispatcher.on("notifications/tools/list_changed", self._tools_changed)
        self._cache = ResponseCache.build(
            cache, target=url, auth=auth, hooks=hooks, headers=headers
        )
        if self._cache is not None:
            self._cache.attach(self._dispatcher)
        self._max_body_size = max_body_size
        self._max_event_size = max_event_size
        if connection_limit < 1:
            raise ConfigError("connection_limit must be at least 1")
        self._connection_limit = connection_limit
        if max_list_pages < 1:
            raise ConfigError("max_list_pages must be at least 1")
        self.max_list_pages = max_list_pages
        self._tracing_options = (tracing, tracer_provider)  # see open()
        from ..session.era import parse_protocol

        parse_protocol(protocol)  # a clear error now rather than at the first call
        self._protocol = protocol
        if log_level is not None and log_level not in LOG_LEVELS:
            raise ConfigError(
                f"log_level must be one of {', '.join(LOG_LEVELS)}; got {log_level!r}"
            )
        if log_level is None and logging_handler is not None:
            log_level = DEFAULT_LOG_LEVEL  # the same log messages in both eras
        self._log_level = log_level
        if isinstance(max_input_rounds, bool) or not isinstance(max_input_rounds, int) or (
            max_input_rounds < 1
        ):
            raise ConfigError(f"max_input_rounds must be an int >= 1, got {max_input_rounds!r}")
        self._max_input_rounds = max_input_rounds
        self._result_types = frozenset(result_types) if result_types else _NO_RESULT_TYPES
        #: Per tool: its ``x-mcp-header`` annotations (2026-07-28 over HTTP).
        self._header_maps: dict[str, dict[tuple[str, ...], str]] = {}
        self._state = _State.NEW
        self._loop: asyncio.AbstractEventLoop | None = None
        self._transport: HTTPTransport | None = None
        self._streams: StreamConnections | None = None
        self._session: SessionEngine | None = None
        self._tools: dict[str, Tool] | None = None
        self._tools_task: asyncio.Task[dict[str, Tool]] | None = None
        self._validators: dict[str, Any] = {}

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

        max_line = client_options.get("max_body_size", _DEFAULT_MAX_BODY)
        transport = StdioTransport(
            command, args, env=env, cwd=cwd, inherit_env=inherit_env, stderr=stderr,
            restart=restart, max_line_size=max_line, shutdown_grace=shutdown_grace,
        )
        return cls(transport, **client_options)

    @staticmethod
    def _collect_hooks(
        metrics: Hook | None,
        retry: Hook | None,
        rate_limit: Hook | None,
        auth: str | Hook | None,
        hooks: Sequence[Hook],
    ) -> list[Hook]:
        if isinstance(auth, str):
            from ..auth.bearer import BearerAuth

            auth = BearerAuth(auth)
        chain: list[Hook] = []
        for name, hook in (
            ("metrics", metrics), ("retry", retry), ("rate_limit", rate_limit), ("auth", auth),
        ):
            if hook is None:
                continue
            if not isinstance(hook, Hook):
                raise ConfigError(f"{name} must be a mcp_async.Hook, got {type(hook).__name__}")
            chain.append(hook)
        for hook in hooks:
            if not isinstance(hook, Hook):
                raise ConfigError(f"hooks must be mcp_async.Hook objects, got {hook!r}")
            chain.append(hook)
        return chain

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

        tracer = tracing_policy(self._session_lookup(), *self._tracing_options)  # None: off
        policies: list[MessagePolicy] = []
        retry_option_policies: list[MessagePolicy] | None = None
        if self._given_transport is not None:
            messages = self._given_transport
            # Without HTTP, metrics, retry and rate limiting act on each request message.
            for hook in self._policy_hooks:
                if not isinstance(hook, MessagePolicy):
                    raise ConfigError(
                        f"{hook!r} is an HTTP hook; over {messages.kind} only policies with "
                        "around_message (metrics, retry, rate limits) apply"
                    )
            chain: list[Any] = list(self._policy_hooks)
            policies = [hook for hook in chain if hook is not self._retry_stand_in]
            if self._retry_stand_in is not None:
                retry_option_policies = chain
        else:
            messages = self._url_transport()
            chain = list(self._message_level)
            policies = [hook for hook in chain if hook is not self._retry_stand_in]
            if self._retry_stand_in is not None:
                retry_option_policies = chain
        if tracer is not None:  # innermost: one span per attempt (mcp_async.tracing)
            policies = [*policies, tracer]
            if retry_option_policies is not None:
                retry_option_policies = [*retry_option_policies, tracer]
        self._session = SessionEngine(
            messages,
            client_info=self._client_info,
            capabilities=self._capabilities,
            dispatcher=self._dispatcher,
            default_timeout=self.timeout,
            policies=policies,
            retry_option_policies=retry_option_policies,
            protocol=self._protocol,
            verdicts=self._verdicts(),
            verdict_key=None if self.url is None else str(URL(self.url).origin()),
            log_level=self._log_level,
            result_types=(self._result_types | _TASK_RESULT_TYPES) if self._result_types
            else _TASK_RESULT_TYPES,
            max_input_rounds=self._max_input_rounds,
        )
        self._session.extension_capabilities[_tasks.TASKS_EXTENSION] = {}
        self._session.owner = _SessionOwner(self)
        resumed = self.__dict__.get("_resumed")  # set by resume() only
        if resumed is not None:
            self._session.resume(resumed[0], keep_open=resumed[1])
        self._state = _State.OPEN
        self._loop = asyncio.get_running_loop()
        if self._initialize_mode == "eager":
            try:
                await self.initialize()
            except BaseException:
                await self.aclose()
                raise

    def _verdicts(self) -> dict[str, str] | None:
        """Where era verdicts are shared: per borrowed aiohttp session (an owned one
        serves this client alone, which remembers its own verdict anyway)."""
        if self._borrowed_session is None:
            return None
        return _VERDICTS.setdefault(self._borrowed_session, {})

    def _url_transport(self) -> MessageTransport:
        """Build the HTTP session, the hook pipeline and the transport for ``self.url``."""
        assert self.url is not None
        if self._http_transport is not None:
            return self._over(self._http_transport)
        if self._borrowed_session is not None:
            if self._borrowed_session.closed:
                raise ClientStateError("the borrowed aiohttp session is closed")
            http = self._borrowed_session
        else:
            http = make_session(limit=self._connection_limit)
        aiohttp_transport = self._transport = AiohttpTransport(
            http,
            owns_session=self._borrowed_session is None,
            max_body_size=self._max_body_size,
            default_timeout=self.timeout,
        )
        # Streams hold their connection for good: they get connections of their own.
        self._streams = StreamConnections(aiohttp_transport)
        return self._over(aiohttp_transport, self._streams.send)

    def _over(self, http: HTTPTransport, send: Handler | None = None) -> MessageTransport:
        """The hook pipeline down to ``send`` (``http.send`` unless given) and the
        message transport for ``self.url`` above it."""
        assert self.url is not None
        self._transport = http
        bottom = http.send if send is None else send
        hooks = self._policy_hooks
        for hook in hooks:
            hook.attach(http.send)
        retry = self._retry
        if self._retries_messages():
            # The retry policy is no HTTP hook: it runs in the message chain, and around
            # the hooks below its place for send_request (see _send_plain).
            self._plain_retry = bottom
            hooks = [hook for hook in hooks if hook is not retry]
        self._send = build_pipeline(hooks, bottom)
        return url_transport(
            self._transport_choice,
            self.url,
            self._send,
            headers=self._headers,
            max_event_size=self._max_event_size,
            default_timeout=self.timeout,
            listen=self._wants_push if self._listen == "auto" else bool(self._listen),
            reconnect=self._reconnect,
        )

    def _retries_messages(self) -> bool:
        """Whether the client's retry is a :class:`~mcp_async.RetryPolicy` (or the
        stand-in for per-call options), which runs in the message chain only; a retry
        hook of your own stays in the HTTP pipeline."""
        from ..policies.retry import RetryPolicy

        retry = self._retry
        return retry is self._retry_stand_in or isinstance(retry, RetryPolicy)

    def _send_plain(
        self, request: HTTPRequest, option: RetryPolicy | bool | None
    ) -> Awaitable[HTTPResponse]:
        """Send a plain HTTP request (send_request) through the pipeline, under the
        retry policy that applies to it, at the retry's place in the hook order."""
        bottom = self._plain_retry
        if bottom is None:
            return self._send(request)
        from ..policies.retry import resolve

        policy = resolve(self._retry, option)
        if policy is None:
            return self._send(request)
        hooks = self._policy_hooks
        at = hooks.index(self._retry)
        inner = build_pipeline(hooks[at + 1:], bottom)

        def retrying(request: HTTPRequest) -> Awaitable[HTTPResponse]:
            return policy.run(request, inner)

        return build_pipeline(hooks[:at], retrying)(request)

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
            tools = self._tools_task
            if tools is not None and not tools.done():
                # Not cancelled: the calls awaiting it would get CancelledError. Its
                # request fails with ClientStateError as the session closes, and so do they.
                tools.add_done_callback(lambda done: done.cancelled() or done.exception())
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
        if engine is None or not engine.connected or self._listen != "auto":
            return
        want = getattr(engine.transport, "want_push", None)
        loop = self._loop
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

    async def _await_push(self) -> None:
        """As :meth:`_want_push`, then wait briefly for the GET stream to be answered."""
        self._push = True
        engine = self._session
        if engine is not None and engine.connected and self._listen == "auto":
            opening = getattr(engine.transport, "await_push", None)
            if opening is not None:
                await opening()

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
            return self._transport_choice
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
        return self._cache

    @property
    def closed(self) -> bool:
        """True once :meth:`aclose` ran."""
        return self._state is _State.CLOSED

    def __del__(self, _warn: Callable[..., None] = warnings.warn) -> None:
        if getattr(self, "_state", None) is _State.OPEN and self._borrowed_session is None:
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
        if self._transport is None or self.url is None:
            raise ClientStateError(
                f"send_request needs an HTTP server; this client speaks {self.transport_kind}"
            )
        url = _join(self.url, endpoint)
        body = _JSON_DUMPS(data).encode()
        request_headers = {**self._headers, "Content-Type": "application/json",
                           "Accept": "application/json"}
        if headers:
            request_headers.update(headers)
        request = HTTPRequest(
            "POST", url, headers=request_headers, body=body,
            timeout=self._call_timeout(timeout),
        )
        response = await self._send_plain(request, _check_retry(retry))
        try:
            await raise_for_status(request, response)
            if response.status == 204:
                return None
            payload = await response.read()
            if not _is_json_type(response.content_type):
                raise ContentTypeError(response.content_type, payload, url=url)
            try:
                return load_document(payload)
            except ValueError as exc:
                raise InvalidJSONError(f"reply from {url} is not valid JSON: {exc}") from exc
        finally:
            response.release()

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
        store = self._cache
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
        engine = self._mcp()
        if not engine.connected or engine.protocol_version is None:
            raise ClientStateError(
                "no session to export yet: call initialize() or make a request first"
            )
        transport = engine.transport
        if self.url is None or not transport.capabilities.sessions:
            raise ClientStateError(
                "only Streamable HTTP sessions can be exported; this client speaks "
                f"{transport.kind}"
            )
        assert engine.revision is not None  # (connected)
        session_id, server = engine.revision.portable(transport)
        state = SessionState.capture(self.url, engine.protocol_version, session_id, server)
        if keep_open and state.session_id is not None:
            transport.keep_open()  # type: ignore[attr-defined]
        return state

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
        if not isinstance(url, str):
            raise SessionStateError("resume needs the server's URL (a str)")
        if isinstance(state, SessionState):
            parsed = state
        elif isinstance(state, str | bytes | bytearray):
            parsed = SessionState.from_json(state)
        else:
            parsed = SessionState.from_dict(state)
        parsed.check_endpoint(url)
        chosen = options.pop("transport", "auto")
        if chosen not in ("auto", parsed.transport):
            raise SessionStateError(
                f"the session state is a {parsed.transport} session; transport={chosen!r} "
                "cannot continue it"
            )
        protocol = options.get("protocol", "auto")
        if protocol != "auto" and (
            protocol != parsed.protocol_version
            and not (protocol == "legacy" and parsed.era == "handshake")
        ):
            raise SessionStateError(
                f"the session state speaks {parsed.protocol_version}; protocol={protocol!r} "
                "contradicts it"
            )
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
            max_total_timeout=max_total_timeout, options=_retry_options(retry),
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
            _check_max_total(max_total_timeout)
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

    # -- pagination --------------------------------------------------------------------
    async def _page(
        self, method: str, cursor: str | None, cache: CacheMode = "use"
    ) -> dict[str, Any]:
        if cursor is not None and not isinstance(cursor, str):
            raise ConfigError(f"cursor must be a string, got {cursor!r}")
        params = {"cursor": cursor} if cursor else None
        if check_mode(cache) == "bypass" or self._cache is None:
            return await self.request(method, params, idempotent=True)
        return await self._cache.fetch(
            self._mcp(), method, params, cache,
            lambda: self.request(method, params, idempotent=True),
        )

    async def _walk(
        self,
        method: str,
        parse: Callable[[Mapping[str, Any]], _Page],
        items: Callable[[_Page], Sequence[_T]],
        next_cursor: Callable[[_Page], str | None],
        max_pages: int | None,
        cache: CacheMode = "use",
    ) -> list[_T]:
        hits = self._cache.hits if self._cache is not None else 0
        try:
            return await self._walk_pages(method, parse, items, next_cursor, max_pages, cache)
        except JSONRPCError as exc:
            # A cursor from a cached page the server no longer honours: the pages were
            # dropped (see mcp_async.cache); walk once more from the first page.
            if exc.code != -32602 or self._cache is None or self._cache.hits == hits:
                raise
        return await self._walk_pages(method, parse, items, next_cursor, max_pages, "refresh")

    async def _walk_pages(
        self,
        method: str,
        parse: Callable[[Mapping[str, Any]], _Page],
        items: Callable[[_Page], Sequence[_T]],
        next_cursor: Callable[[_Page], str | None],
        max_pages: int | None,
        cache: CacheMode,
    ) -> list[_T]:
        limit = self.max_list_pages if max_pages is None else max_pages
        out: list[_T] = []
        seen: set[str] = set()
        cursor: str | None = None
        for _ in range(limit):
            page = parse(await self._page(method, cursor, cache))
            out.extend(items(page))
            cursor = next_cursor(page)
            if cursor is None:
                return out
            if cursor in seen:
                raise UnexpectedResponseError(f"{method} returned the cursor {cursor!r} twice")
            seen.add(cursor)
        raise UnexpectedResponseError(
            f"{method} still had more pages after {limit}; raise max_pages or use the *_page form"
        )

    # -- tools -------------------------------------------------------------------------
    async def list_tools_page(
        self, cursor: str | None = None, *, cache: CacheMode = "use"
    ) -> ListToolsPage:
        """One page of ``tools/list``.

        Over HTTP in the 2026-07-28 era, a tool whose ``x-mcp-header`` annotations
        break the spec's rules is left out (with a warning), as the spec requires.
        ``cache``: ``"use"``, ``"refresh"`` or ``"bypass"`` the response cache
        (docs/caching.md), as for every list method, :meth:`read_resource` and
        :meth:`discover`.
        """
        page = self._tools_page(await self._page("tools/list", cursor, cache))
        self._remember_tools(page.tools, replace=False)
        return page

    async def list_tools(
        self, *, max_pages: int | None = None, cache: CacheMode = "use"
    ) -> list[Tool]:
        """All tools, walking every page (see :meth:`list_tools_page` on dropped tools)."""
        tools = await self._walk(
            "tools/list", self._tools_page, lambda p: p.tools, lambda p: p.next_cursor,
            max_pages, cache,
        )
        self._remember_tools(tools, replace=True)
        return tools

    def _tools_page(self, raw: Mapping[str, Any]) -> ListToolsPage:
        engine = self._mcp()
        revision = engine.revision
        if revision is None or not engine.transport.capabilities.http_headers:
            return ListToolsPage.from_dict(raw)
        tools = raw.get("tools")
        if isinstance(tools, list):
            kept = []
            for tool in tools:
                schema = tool.get("inputSchema") if isinstance(tool, Mapping) else None
                problem = revision.tool_problem(schema)
                if problem is None:
                    kept.append(tool)
                else:
                    name = tool.get("name") if isinstance(tool, Mapping) else None
                    logger.warning("leaving out tool %r: invalid x-mcp-header (%s)",
                                   name, problem)
            if len(kept) != len(tools):
                raw = {**raw, "tools": kept}
        return ListToolsPage.from_dict(raw)

    def _remember_tools(self, tools: Sequence[Tool], *, replace: bool) -> None:
        if replace or self._tools is None:
            self._tools = {}
            self._validators.clear()
            self._header_maps.clear()
        for tool in tools:
            self._tools[tool.name] = tool
            self._validators.pop(tool.name, None)
            annotations = modern.header_annotations(tool.input_schema)
            if annotations:
                self._header_maps[tool.name] = annotations
            else:
                self._header_maps.pop(tool.name, None)

    async def _tools_changed(self, params: dict[str, Any]) -> None:
        self._tools = None
        self._validators.clear()

    async def _tool(self, name: str) -> Tool | None:
        """The tool's definition from the shared cache, fetched once for all callers."""
        if self._tools is not None and name in self._tools:
            return self._tools[name]
        task = self._tools_task
        if task is None or task.done():
            task = self._tools_task = asyncio.ensure_future(self._fetch_tools())
        tools = await asyncio.shield(task)
        return tools.get(name)

    async def _fetch_tools(self) -> dict[str, Tool]:
        await self.list_tools()
        return dict(self._tools or {})

    async def tool_schemas(self, format: str = "openai") -> list[dict[str, Any]]:
        """The server's tools as plain dicts for a model API: ``"openai"`` (function
        tools), ``"anthropic"`` (``input_schema``) or ``"mcp"``. No SDK is imported."""
        from ..features.schemas import export_tools

        return export_tools(((tool.name, tool) for tool in await self.list_tools()), format)

    @overload
    async def call_tool(
        self,
        name: str,
        arguments: Mapping[str, Any] | None = None,
        *,
        timeout: TimeoutLike = None,
        progress: ProgressCallback | None = None,
        meta: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        raise_on_error: bool = False,
        validate_output: bool | None = None,
        idempotent: bool = False,
        reset_timeout_on_progress: bool = False,
        max_total_timeout: float | None = None,
        retry: RetryPolicy | bool | None = None,
        allow_input_required: Literal[False] = False,
        input_responses: Mapping[str, Any] | None = None,
        request_state: str | None = None,
    ) -> CallToolResult: ...

    @overload
    async def call_tool(
        self,
        name: str,
        arguments: Mapping[str, Any] | None = None,
        *,
        timeout: TimeoutLike = None,
        progress: ProgressCallback | None = None,
        meta: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        raise_on_error: bool = False,
        validate_output: bool | None = None,
        idempotent: bool = False,
        reset_timeout_on_progress: bool = False,
        max_total_timeout: float | None = None,
        retry: RetryPolicy | bool | None = None,
        allow_input_required: Literal[True],
        input_responses: Mapping[str, Any] | None = None,
        request_state: str | None = None,
    ) -> CallToolResult | InputRequiredResult: ...

    async def call_tool(
        self,
        name: str,
        arguments: Mapping[str, Any] | None = None,
        *,
        timeout: TimeoutLike = None,
        progress: ProgressCallback | None = None,
        meta: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        raise_on_error: bool = False,
        validate_output: bool | None = None,
        idempotent: bool = False,
        reset_timeout_on_progress: bool = False,
        max_total_timeout: float | None = None,
        retry: RetryPolicy | bool | None = None,
        allow_input_required: bool = False,
        input_responses: Mapping[str, Any] | None = None,
        request_state: str | None = None,
    ) -> CallToolResult | InputRequiredResult:
        """Call a tool and return its :class:`~mcp_async.models.CallToolResult`.

        A tool-level failure (``isError: true``) is returned, not raised, unless
        ``raise_on_error`` is set (then :class:`~mcp_async.ToolError`). A ``-32602``
        error for a tool the server's tool list does not have raises
        :class:`~mcp_async.UnknownToolError` (a :class:`~mcp_async.JSONRPCError`). With
        ``validate_output`` (default: the client's setting), ``structuredContent`` is
        checked against the tool's ``outputSchema`` from a shared, once-fetched tool list.
        ``idempotent=True`` lets a retry policy re-send the call after a dropped response.
        ``reset_timeout_on_progress``, ``max_total_timeout`` and ``retry`` work as in
        :meth:`request`.

        In the 2026-07-28 era a server that needs input (elicitation, sampling, roots)
        answers with an ``InputRequiredResult``; the call answers it through the
        client's handlers and goes on, round after round (see docs/two-way.md). With
        ``allow_input_required=True`` the interim
        :class:`~mcp_async.models.InputRequiredResult` is returned instead; resume it
        later with ``input_responses=`` and ``request_state=``. Over HTTP, arguments
        annotated ``x-mcp-header`` in the tool's schema (from the last
        :meth:`list_tools`) are also sent as ``Mcp-Param-*`` headers.
        """
        if not isinstance(name, str) or not name:
            raise ConfigError("tool name must be a non-empty string")
        params: dict[str, Any] = {"name": name}
        if arguments is not None:
            # (A dict is the common case; the ABC check is ten times slower.)
            if type(arguments) is not dict and not isinstance(arguments, Mapping):
                raise ConfigError(f"arguments must be a mapping, got {type(arguments).__name__}")
            params["arguments"] = dict(arguments)
        if meta is not None:
            params["_meta"] = dict(meta)
        if input_responses is not None or request_state is not None:
            _add_input(params, input_responses, request_state)
        # Arguments are checked before anything connects.
        if max_total_timeout is not None:
            _check_max_total(max_total_timeout)
        if timeout is not None:
            timeout = to_timeout(timeout, self.timeout)
        if not self._mcp().connected:  # connecting counts against the call's timeout
            timeout, max_total_timeout = await self._mcp().connect_for_call(
                "tools/call", timeout, reset_timeout_on_progress, max_total_timeout)
        if not idempotent and self.trust_idempotent_hint:
            idempotent = _hints_idempotent(await self._tool(name))
        if retry is None and not allow_input_required:
            options = _tool_options(name)  # the common call: one value per tool name
        else:
            options = RequestOptions(
                mcp_name=name, retry=_check_retry(retry),
                allow_input_required=allow_input_required,
            )
        engine = self._mcp()
        # execution.taskSupport "required": run as a task (see mcp_async.features.tasks)
        task = bool(not allow_input_required and _tasks.may_require(engine)
                    and await _tasks.required(engine, name))
        if self._header_maps:
            headers = await self._param_headers(engine, name, params, headers)
        try:
            raw = await self._call_tool(
                engine, params, timeout, headers, progress, idempotent,
                reset_timeout_on_progress, max_total_timeout, options, task,
            )
        except HeaderMismatchError:
            if engine.revision is None or engine.revision.wire.routing_headers is None:
                raise
            # The server's tool definitions changed: learn them again, send once more.
            await self.list_tools(cache="refresh")
            headers = await self._param_headers(engine, name, params, headers, fresh=True)
            raw = await self._call_tool(
                engine, params, timeout, headers, progress, idempotent,
                reset_timeout_on_progress, max_total_timeout, options, task,
            )
        except JSONRPCError as exc:
            if exc.code != _INVALID_PARAMS or type(exc) is not JSONRPCError:
                raise
            unknown = await self._unknown_tool(name, exc)
            if unknown is None:
                raise
            raise unknown from exc
        kind = raw.get("resultType")
        if kind is not None:
            if allow_input_required and kind == "input_required":
                return InputRequiredResult.from_dict(raw)
            if (kind == _tasks.TASK_RESULT_TYPE and engine.revision is not None
                    and engine.revision.tasks_by_result):
                raw = await _tasks.follow(  # the server chose to run it as a task (2026)
                    engine, raw, name, timeout=timeout,
                    max_total_timeout=max_total_timeout,
                )
        result = CallToolResult.from_dict(raw)
        if result.is_error:
            if raise_on_error:
                raise ToolError(name, result)
            return result
        if validate_output if validate_output is not None else self.validate_output:
            await self._validate(name, result)
        return result

    async def _unknown_tool(self, name: str, error: JSONRPCError) -> UnknownToolError | None:
        """An :class:`UnknownToolError` for a ``-32602`` answer to calling ``name`` when
        the tool list agrees there is no such tool (the known list, else one fetched);
        ``None`` when the list has it (then the arguments were refused) or cannot be had."""
        tools = self._tools
        if tools is None:
            try:
                known = await self._tool(name) is not None
            except MCPClientError:
                return None
            tools = self._tools or {}
        else:
            known = name in tools
        if known:
            return None
        close = difflib.get_close_matches(name, list(tools), n=3)
        hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
        return UnknownToolError(name, hint=hint, server_error=error)

    def _call_tool(
        self,
        engine: SessionEngine,
        params: dict[str, Any],
        timeout: TimeoutLike,
        headers: Mapping[str, str] | None,
        progress: ProgressCallback | None,
        idempotent: bool,
        reset_timeout_on_progress: bool,
        max_total_timeout: float | None,
        options: RequestOptions,
        task: bool,
    ) -> Awaitable[dict[str, Any]]:
        if task:  # create, poll, return the final result
            return _tasks.run(
                engine, params, timeout=timeout, max_total_timeout=max_total_timeout,
                headers=headers, progress=progress,
            )
        if reset_timeout_on_progress or max_total_timeout is not None:
            return self._request(
                "tools/call", params, timeout=timeout, headers=headers, progress=progress,
                idempotent=idempotent, reset_timeout_on_progress=reset_timeout_on_progress,
                max_total_timeout=max_total_timeout, options=options,
            )
        # The common call: straight to the session (params is ours already).
        return engine.request(
            "tools/call", params,
            timeout=None if timeout is None else to_timeout(timeout, self.timeout),
            headers=headers, progress=progress, idempotent=idempotent,
            options=options,
        )

    async def start_task(
        self,
        name: str,
        arguments: Mapping[str, Any] | None = None,
        *,
        ttl: int | None = None,
        timeout: TimeoutLike = None,
        progress: ProgressCallback | None = None,
        meta: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> _tasks.TaskHandle:
        """Start tool ``name`` as a task and return its :class:`~mcp_async.TaskHandle`
        (``status()``, ``wait()``, ``cancel()``, ``async for`` status changes).

        ``ttl`` asks the server to keep the task that many milliseconds (2025-11-25);
        ``timeout`` bounds the creating request only; ``progress`` gets the task's
        progress notifications for its whole life. Raises
        :class:`~mcp_async.TaskNotSupportedError` when the server offers no tasks or
        (2025-11-25) the tool forbids them. See docs/tasks.md.
        """
        if not isinstance(name, str) or not name:
            raise ConfigError("tool name must be a non-empty string")
        if arguments is not None and not isinstance(arguments, Mapping):
            raise ConfigError(f"arguments must be a mapping, got {type(arguments).__name__}")
        params: dict[str, Any] = {"name": name, "arguments": dict(arguments or {})}
        if meta is not None:
            params["_meta"] = dict(meta)
        return await _tasks.create(
            self._mcp(), params, ttl=ttl, timeout=timeout, headers=headers,
            progress=progress,
        )

    async def _param_headers(
        self,
        engine: SessionEngine,
        name: str,
        params: Mapping[str, Any],
        headers: Mapping[str, str] | None,
        *,
        fresh: bool = False,
    ) -> Mapping[str, str] | None:
        """``headers`` plus the ``Mcp-Param-*`` headers of the tool's annotated
        arguments (2026-07-28 over HTTP only; ``fresh``: drop ones sent before)."""
        if not engine.connected:
            await engine.connect()
        revision = engine.revision
        if revision is None or not engine.transport.capabilities.http_headers:
            return headers
        annotations = self._header_maps.get(name)
        added = revision.param_headers(annotations or {}, params.get("arguments"))
        if added is None:  # no such headers in this revision
            return headers
        out = {k: v for k, v in (headers or {}).items()
               if not (fresh and k.startswith(modern.PARAM_HEADER_PREFIX))}
        out.update(added)
        return out
    async def _validate(self, name: str, result: CallToolResult) -> None:
        tool = await self._tool(name)
        if tool is None or tool.output_schema is None:
            return
        if result.structured_content is None:
            raise OutputValidationError(name, "is missing although the tool has an outputSchema")
        validator = self._validators.get(name)
        if validator is None:
            validator = self._validators[name] = _compile_schema(tool.output_schema)
        errors = sorted(validator.iter_errors(result.structured_content), key=str)
        if errors:
            raise OutputValidationError(name, f"does not match outputSchema: {errors[0].message}")

    # -- resources ---------------------------------------------------------------------
    async def list_resources_page(
        self, cursor: str | None = None, *, cache: CacheMode = "use"
    ) -> ListResourcesPage:
        """One page of ``resources/list``."""
        return ListResourcesPage.from_dict(await self._page("resources/list", cursor, cache))

    async def list_resources(
        self, *, max_pages: int | None = None, cache: CacheMode = "use"
    ) -> list[Resource]:
        """All resources, walking every page."""
        return await self._walk(
            "resources/list", ListResourcesPage.from_dict, lambda p: p.resources,
            lambda p: p.next_cursor, max_pages, cache,
        )

    async def list_resource_templates_page(
        self, cursor: str | None = None, *, cache: CacheMode = "use"
    ) -> ListResourceTemplatesPage:
        """One page of ``resources/templates/list``."""
        return ListResourceTemplatesPage.from_dict(
            await self._page("resources/templates/list", cursor, cache)
        )

    async def list_resource_templates(
        self, *, max_pages: int | None = None, cache: CacheMode = "use"
    ) -> list[ResourceTemplate]:
        """All resource templates, walking every page."""
        return await self._walk(
            "resources/templates/list", ListResourceTemplatesPage.from_dict,
            lambda p: p.resource_templates, lambda p: p.next_cursor, max_pages, cache,
        )

    @overload
    async def read_resource(
        self, uri: str, *, timeout: TimeoutLike = None,
        allow_input_required: Literal[False] = False,
        input_responses: Mapping[str, Any] | None = None, request_state: str | None = None,
        cache: CacheMode = "use",
    ) -> ReadResourceResult: ...

    @overload
    async def read_resource(
        self, uri: str, *, timeout: TimeoutLike = None,
        allow_input_required: Literal[True],
        input_responses: Mapping[str, Any] | None = None, request_state: str | None = None,
        cache: CacheMode = "use",
    ) -> ReadResourceResult | InputRequiredResult: ...

    async def read_resource(
        self,
        uri: str,
        *,
        timeout: TimeoutLike = None,
        allow_input_required: bool = False,
        input_responses: Mapping[str, Any] | None = None,
        request_state: str | None = None,
        cache: CacheMode = "use",
    ) -> ReadResourceResult | InputRequiredResult:
        """Read a resource by URI (input rounds as in :meth:`call_tool`; ``cache`` as in
        :meth:`list_tools_page`: results of input rounds are never cached)."""
        _require_str("uri", uri)
        params: dict[str, Any] = {"uri": uri}
        if input_responses is not None or request_state is not None:
            _add_input(params, input_responses, request_state)
        # Connecting counts against the call's timeout.
        timeout = await self._mcp().connect_within("resources/read", self._call_timeout(timeout))

        rounds: list[str] = []  # the engine notes here any input rounds it drove

        def read() -> Awaitable[dict[str, Any]]:
            return self._request(
                "resources/read", params, timeout=timeout, headers=None, progress=None,
                idempotent=True, reset_timeout_on_progress=False, max_total_timeout=None,
                options=RequestOptions(
                    allow_input_required=allow_input_required, on_input_round=rounds.append
                ),
            )

        if check_mode(cache) == "bypass" or self._cache is None or len(params) > 1:
            raw = await read()
        else:  # results of input rounds are never cached
            raw = await self._cache.fetch(
                self._mcp(), "resources/read", params, cache, read, keep=lambda: not rounds
            )
        if allow_input_required and raw.get("resultType") == "input_required":
            return InputRequiredResult.from_dict(raw)
        return ReadResourceResult.from_dict(raw)

    async def subscribe_resource(self, uri: str) -> None:
        """Ask for ``notifications/resources/updated`` about ``uri`` (handshake era;
        MCP 2026-07-28 has no ``resources/subscribe``: :class:`~mcp_async.EraError`)."""
        _require_str("uri", uri)
        await self._no_subscribe("resources/subscribe")
        await self._await_push()  # the updates come on the GET stream
        await self.request("resources/subscribe", {"uri": uri}, idempotent=True)

    async def unsubscribe_resource(self, uri: str) -> None:
        """Stop updates about ``uri`` (handshake era only, as :meth:`subscribe_resource`)."""
        _require_str("uri", uri)
        await self._no_subscribe("resources/unsubscribe")
        await self.request("resources/unsubscribe", {"uri": uri}, idempotent=True)

    def listen(
        self,
        *,
        tools: bool = False,
        prompts: bool = False,
        resources: bool = False,
        resource_uris: Sequence[str] = (),
        reconnect: bool = False,
        max_buffered: int = 256,
        ack_timeout: float | None = None,
    ) -> Listening:
        """Follow changes on the server, in either protocol era::

            async with client.listen(tools=True, resource_uris=["docs://readme"]) as events:
                async for event in events:
                    ...  # ToolsListChanged(), ResourceUpdated(uri=...), ...

        In MCP 2026-07-28 this is a ``subscriptions/listen`` request; before, the
        session's notifications plus ``resources/subscribe`` for ``resource_uris`` (undone
        on exit). ``events.acknowledged`` says what the server honours. A graceful end by
        the server ends the iteration; a dropped stream raises
        :class:`~mcp_async.SubscriptionLostError`, or with ``reconnect=True`` listens again and
        yields :class:`~mcp_async.listen.Resynced`. More than ``max_buffered`` unread
        events also raise ``SubscriptionLostError``. The acknowledgement must arrive within
        ``ack_timeout`` seconds (default: the client's total timeout). See docs/listen.md.
        """
        from ..features.listen import ListenFilter, Listening

        if isinstance(resource_uris, str) or not all(
            isinstance(uri, str) and uri for uri in resource_uris
        ):
            raise ConfigError("resource_uris must be a sequence of non-empty URI strings")
        if not (tools or prompts or resources or resource_uris):
            raise ConfigError("listen to something: tools, prompts, resources or resource_uris")
        if isinstance(max_buffered, bool) or not isinstance(max_buffered, int) or (
            max_buffered < 1
        ):
            raise ConfigError(f"max_buffered must be an int >= 1, got {max_buffered!r}")
        wanted = ListenFilter(tools, prompts, resources, tuple(resource_uris))
        self._push = True  # handshake era: the notifications come on the GET stream
        if ack_timeout is None and self.timeout is not None:
            ack_timeout = self.timeout.total
        return Listening(self._mcp, wanted, reconnect=reconnect, max_buffered=max_buffered,
                         ack_timeout=ack_timeout)

    async def _no_subscribe(self, method: str) -> None:
        await self._require_method(method)

    # -- prompts and completion ------------------------------------------------------------
    async def list_prompts_page(
        self, cursor: str | None = None, *, cache: CacheMode = "use"
    ) -> ListPromptsPage:
        """One page of ``prompts/list``."""
        return ListPromptsPage.from_dict(await self._page("prompts/list", cursor, cache))

    async def list_prompts(
        self, *, max_pages: int | None = None, cache: CacheMode = "use"
    ) -> list[Prompt]:
        """All prompts, walking every page."""
        return await self._walk(
            "prompts/list", ListPromptsPage.from_dict, lambda p: p.prompts,
            lambda p: p.next_cursor, max_pages, cache,
        )

    @overload
    async def get_prompt(
        self, name: str, arguments: Mapping[str, str] | None = None, *,
        timeout: TimeoutLike = None, allow_input_required: Literal[False] = False,
        input_responses: Mapping[str, Any] | None = None, request_state: str | None = None,
    ) -> GetPromptResult: ...

    @overload
    async def get_prompt(
        self, name: str, arguments: Mapping[str, str] | None = None, *,
        timeout: TimeoutLike = None, allow_input_required: Literal[True],
        input_responses: Mapping[str, Any] | None = None, request_state: str | None = None,
    ) -> GetPromptResult | InputRequiredResult: ...

    async def get_prompt(
        self,
        name: str,
        arguments: Mapping[str, str] | None = None,
        *,
        timeout: TimeoutLike = None,
        allow_input_required: bool = False,
        input_responses: Mapping[str, Any] | None = None,
        request_state: str | None = None,
    ) -> GetPromptResult | InputRequiredResult:
        """Render a prompt; argument values must be strings (``timeout`` and input
        rounds as in :meth:`call_tool`)."""
        _require_str("prompt name", name)
        params: dict[str, Any] = {"name": name}
        if arguments is not None:
            for key, value in arguments.items():
                if not isinstance(value, str):
                    raise ConfigError(f"prompt argument {key!r} must be a string, got {value!r}")
            params["arguments"] = dict(arguments)
        if input_responses is not None or request_state is not None:
            _add_input(params, input_responses, request_state)
        # Connecting counts against the call's timeout.
        timeout = await self._mcp().connect_within("prompts/get", self._call_timeout(timeout))
        raw = await self._request(
            "prompts/get", params, timeout=timeout, headers=None, progress=None,
            idempotent=True, reset_timeout_on_progress=False, max_total_timeout=None,
            options=_input_options(allow_input_required),
        )
        if allow_input_required and raw.get("resultType") == "input_required":
            return InputRequiredResult.from_dict(raw)
        return GetPromptResult.from_dict(raw)

    async def complete(
        self,
        ref: Mapping[str, Any],
        argument: Mapping[str, str] | tuple[str, str],
        context: Mapping[str, str] | None = None,
    ) -> Completion:
        """Ask for completions of ``argument`` for a prompt or resource-template ``ref``.

        ``ref`` is ``{"type": "ref/prompt", "name": ...}`` or
        ``{"type": "ref/resource", "uri": ...}``; ``argument`` is ``{"name", "value"}`` or
        a ``(name, value)`` pair; ``context`` maps already-chosen argument names to values.
        """
        ref = dict(ref)
        if ref.get("type") not in ("ref/prompt", "ref/resource"):
            raise ConfigError("ref type must be 'ref/prompt' or 'ref/resource'")
        if isinstance(argument, tuple):
            argument = {"name": argument[0], "value": argument[1]}
        argument = dict(argument)
        if not isinstance(argument.get("name"), str) or not isinstance(argument.get("value"), str):
            raise ConfigError("argument needs string 'name' and 'value'")
        params: dict[str, Any] = {"ref": ref, "argument": argument}
        if context is not None:
            params["context"] = {"arguments": dict(context)}
        return Completion.from_result(
            await self.request("completion/complete", params, idempotent=True)
        )

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

    # -- bounded fan-out (see mcp_async.features.batch) ------------------------------------------
    async def call_tools(
        self,
        calls: Iterable[CallLike] | AsyncIterable[CallLike],
        *,
        concurrency: int = 16,
        fail_fast: bool = False,
        progress: ProgressOption = None,
        timeout: TimeoutLike = None,
        raise_on_error: bool = False,
        idempotent: bool = False,
        retry: RetryPolicy | bool | None = None,
    ) -> BatchResult[CallToolResult]:
        """Call many tools, at most ``concurrency`` at once; one outcome per call, in order.

        ``calls`` holds :class:`~mcp_async.ToolCall` objects, ``(name, arguments)``
        tuples or tool names (any iterable or async iterable, read lazily). Each
        :class:`~mcp_async.Outcome` has the result or the exception; a tool's
        ``isError`` result is a value unless ``raise_on_error``. With ``fail_fast`` the
        first failure cancels the rest and raises :class:`~mcp_async.BatchError` naming
        the item. ``progress`` is a ``progress(done, total)`` function called after
        each call, or ``True`` for a ready progress bar drawn by tqdm or rich, whichever
        is installed (``pip install 'mcp-async[progress]'``; ``"tqdm"`` or ``"rich"``
        picks one; a terminal or a notebook).
        """
        from ..features.batch import gather_bounded, tool_caller

        self._mcp()
        caller = tool_caller(
            self, timeout=timeout, raise_on_error=raise_on_error, idempotent=idempotent,
            retry=retry,
        )
        return await gather_bounded(
            calls, caller, concurrency=concurrency, fail_fast=fail_fast, progress=progress
        )

    def stream_calls(
        self,
        calls: Iterable[CallLike] | AsyncIterable[CallLike],
        *,
        concurrency: int = 16,
        fail_fast: bool = False,
        progress: ProgressOption = None,
        timeout: TimeoutLike = None,
        raise_on_error: bool = False,
        idempotent: bool = False,
        retry: RetryPolicy | bool | None = None,
    ) -> OutcomeStream[CallToolResult]:
        """Like :meth:`call_tools`, but ``async for index, outcome in ...`` as calls finish.

        Memory stays proportional to ``concurrency`` however many calls there are. Use
        ``async with client.stream_calls(...) as stream:`` to cancel what is still
        running if the loop is left early.
        """
        from ..features.batch import stream_bounded, tool_caller

        self._mcp()
        caller = tool_caller(
            self, timeout=timeout, raise_on_error=raise_on_error, idempotent=idempotent,
            retry=retry,
        )
        return stream_bounded(
            calls, caller, concurrency=concurrency, fail_fast=fail_fast, progress=progress
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


_DEFAULT_CLIENT_INFO: dict[str, Any] = {"name": "mcp-async", "version": __version__}


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


def _check_retry(retry: object) -> RetryPolicy | bool | None:
    """A per-call ``retry=`` option, checked (``ConfigError`` for anything else)."""
    if retry is None:
        return None
    from ..policies.retry import check_retry_option

    return check_retry_option(retry)


def _retry_options(retry: object) -> RequestOptions:
    return NO_OPTIONS if retry is None else RequestOptions(retry=_check_retry(retry))


def _add_input(
    params: dict[str, Any], responses: Mapping[str, Any] | None, state: str | None
) -> None:
    """Add a resumed input round's answers and state to a request's params."""
    if responses is not None:
        if not isinstance(responses, Mapping):
            raise ConfigError(f"input_responses must be a mapping, got {type(responses).__name__}")
        params["inputResponses"] = dict(responses)
    if state is not None:
        if not isinstance(state, str):
            raise ConfigError(f"request_state must be the string the server sent, got {state!r}")
        params["requestState"] = state


def _check_max_total(value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ConfigError(f"max_total_timeout must be a positive number of seconds, got {value!r}")


@functools.lru_cache(maxsize=256)
def _tool_options(name: str) -> RequestOptions:
    """The options of a plain call of tool ``name`` (values are frozen: shared)."""
    return RequestOptions(mcp_name=name)


def _input_options(allow_input_required: bool) -> RequestOptions:
    return _INPUT_ALLOWED if allow_input_required else NO_OPTIONS


_INPUT_ALLOWED = RequestOptions(allow_input_required=True)


def _hints_idempotent(tool: Tool | None) -> bool:
    hints = tool.annotations if tool is not None else None
    return hints is not None and bool(hints.idempotent_hint or hints.read_only_hint)


def _require_str(what: str, value: object) -> None:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{what} must be a non-empty string, got {value!r}")


def _compile_schema(schema: dict[str, Any]) -> Any:
    try:
        import jsonschema
    except ImportError as exc:
        raise ConfigError(
            "validate_output needs the 'jsonschema' package: pip install 'mcp-async[validation]'"
        ) from exc
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    return cls(schema)

