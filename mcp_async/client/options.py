"""The constructor's arguments of :class:`~mcp_async.AsyncMCPClient`, checked and
normalised into one typed value, :class:`ClientConfig`."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import aiohttp
from yarl import URL

from .._config import DEFAULT_TIMEOUT, Timeout, TimeoutLike, to_timeout
from .._exceptions import ConfigError
from .._version import __version__
from ..features.cache import CacheStore, ResponseCache
from ..protocol.models import Implementation
from ..session.dispatch import Dispatcher, LoggingHandler, NotificationHandler
from ..transports.http.aiohttp_transport import check_session
from ..transports.http.base import HTTPTransport
from ..transports.http.hooks import Hook
from ..transports.http.sse_streams import ReconnectPolicy
from ..transports.message import MessageTransport
from .pipeline import HookPlan

if TYPE_CHECKING:
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

__all__ = ["DEFAULT_LOG_LEVEL", "DEFAULT_MAX_BODY", "LOG_LEVELS", "ClientConfig"]

#: Logging levels accepted by :meth:`AsyncMCPClient.set_logging_level` (RFC 5424 order).
LOG_LEVELS = ("debug", "info", "notice", "warning", "error", "critical", "alert", "emergency")

#: The ``log_level`` of a client that has a ``logging_handler`` and sets no level. In the
#: 2026-07-28 era a server sends log messages only to requests that ask for a level; in
#: the handshake era servers send every level until told otherwise. Asking for
#: ``"debug"`` makes one handler receive the same in both eras.
DEFAULT_LOG_LEVEL = "debug"

#: The default ``max_body_size`` (also the stdio line limit).
DEFAULT_MAX_BODY = 16 * 1024 * 1024

#: What ``transport=`` accepts for a URL.
URL_TRANSPORTS = ("auto", "streamable-http", "sse")

#: Shared by the clients that add no result types of their own (most: one set each
#: would cost hundreds of bytes per client in a gateway).
_NO_RESULT_TYPES: frozenset[str] = frozenset()

_DEFAULT_CLIENT_INFO: dict[str, Any] = {"name": "mcp-async", "version": __version__}


@dataclass(frozen=True, slots=True)
class ClientConfig:
    """What a client's constructor arguments come to, checked (see
    :class:`~mcp_async.AsyncMCPClient` for each)."""

    #: The server's URL; ``None`` when a message transport was given.
    url: str | None
    given_transport: MessageTransport | None
    http_transport: HTTPTransport | None
    transport_choice: Literal["auto", "streamable-http", "sse"]
    timeout: Timeout
    headers: dict[str, str]
    initialize_mode: Literal["lazy", "eager"]
    borrowed_session: aiohttp.ClientSession | None
    trust_idempotent_hint: bool
    hooks: HookPlan
    client_info: dict[str, Any]
    validate_output: bool
    #: The handlers of server messages (one per client: it holds their state).
    dispatcher: Dispatcher
    capabilities: dict[str, Any]
    listen: bool | Literal["auto"]
    #: Whether the arguments alone need server push (see ``listen``).
    push: bool
    reconnect: ReconnectPolicy | None
    cache: ResponseCache | None
    max_body_size: int | None
    max_event_size: int | None
    connection_limit: int
    max_list_pages: int
    tracing: bool | TracingPolicy | None
    tracer_provider: Any
    protocol: str
    log_level: str | None
    max_input_rounds: int
    result_types: frozenset[str]

    @classmethod
    def build(
        cls,
        url: str | MessageTransport | ASGIApp | ASGITransport,
        *,
        transport: Literal["auto", "streamable-http", "sse"],
        http_transport: HTTPTransport | None,
        headers: Mapping[str, str] | None,
        auth: str | Hook | None,
        retry: Hook | None,
        trust_idempotent_hint: bool,
        rate_limit: Hook | None,
        metrics: Hook | None,
        timeout: TimeoutLike,
        session: aiohttp.ClientSession | None,
        hooks: Sequence[Hook],
        client_info: Mapping[str, Any] | Implementation | None,
        capabilities: Mapping[str, Any] | None,
        initialize: Literal["lazy", "eager"],
        validate_output: bool,
        logging_handler: LoggingHandler | None,
        on_notification: NotificationHandler | None,
        sampling_handler: SamplingHandler | None,
        sampling_tools: bool,
        elicitation_handler: ElicitationHandler | None,
        elicitation_complete_handler: ElicitationCompleteHandler | None,
        roots: RootsProvider | None,
        tools_list_changed_handler: ListChangedHandler | None,
        resources_list_changed_handler: ListChangedHandler | None,
        prompts_list_changed_handler: ListChangedHandler | None,
        resource_updated_handler: ResourceUpdatedHandler | None,
        max_concurrent_handlers: int,
        listen: bool | Literal["auto"],
        reconnect: ReconnectPolicy | None,
        max_body_size: int | None,
        max_event_size: int | None,
        connection_limit: int,
        max_list_pages: int,
        protocol: str,
        log_level: str | None,
        max_input_rounds: int,
        result_types: Collection[str],
        tracing: bool | TracingPolicy | None,
        tracer_provider: Any,
        cache: bool | CacheStore,
    ) -> ClientConfig:
        """Check the arguments in the constructor's order; ``ConfigError`` names the
        first that is wrong."""
        if not isinstance(url, str | MessageTransport):
            # In process: an ASGI application (or its transport) at ASGI_URL.
            url, http_transport = _asgi_target(url, http_transport, max_body_size, timeout)
        given: MessageTransport | None = None
        target: str | None = None
        scope: str | MessageTransport  # what the response cache is for
        if isinstance(url, MessageTransport):
            if http_transport is not None:
                raise ConfigError(f"http_transport= applies only to HTTP, not {url.kind}")
            scope = given = url
            for name, value in (("auth", auth), ("session", session), ("headers", headers)):
                if value:
                    raise ConfigError(f"{name}= applies only to HTTP transports, not {url.kind}")
            if hooks:
                raise ConfigError(f"hooks= apply only to HTTP transports, not {url.kind}")
        else:
            scope = target = _check_url(url)
        http_transport = _check_http_transport(http_transport, session)
        if transport not in URL_TRANSPORTS:
            raise ConfigError(
                f"transport must be one of {', '.join(URL_TRANSPORTS)}; got {transport!r}"
            )
        checked_timeout = to_timeout(timeout, DEFAULT_TIMEOUT)
        header_map = dict(headers or {})
        if initialize not in ("lazy", "eager"):
            raise ConfigError(f"initialize must be 'lazy' or 'eager', got {initialize!r}")
        check_session(session)
        plan = HookPlan.build(
            metrics=metrics, retry=retry, rate_limit=rate_limit, auth=auth, hooks=hooks
        )
        if isinstance(client_info, Implementation):
            client_info = client_info.to_dict()
        dispatcher = Dispatcher(
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
        if reconnect is not None and not isinstance(reconnect, ReconnectPolicy):
            raise ConfigError("reconnect must be a mcp_async.ReconnectPolicy")
        if not (isinstance(listen, bool) or listen == "auto"):
            raise ConfigError(f"listen must be True, False or 'auto', got {listen!r}")
        push = validate_output or any(
            handler is not None for handler in (
                logging_handler, on_notification, sampling_handler, elicitation_handler,
                elicitation_complete_handler, roots, tools_list_changed_handler,
                resources_list_changed_handler, prompts_list_changed_handler,
                resource_updated_handler,
            )
        )
        response_cache = ResponseCache.build(
            cache, target=scope, auth=auth, hooks=hooks, headers=headers
        )
        if connection_limit < 1:
            raise ConfigError("connection_limit must be at least 1")
        if max_list_pages < 1:
            raise ConfigError("max_list_pages must be at least 1")
        from ..session.era import parse_protocol

        parse_protocol(protocol)  # a clear error now rather than at the first call
        if log_level is not None and log_level not in LOG_LEVELS:
            raise ConfigError(
                f"log_level must be one of {', '.join(LOG_LEVELS)}; got {log_level!r}"
            )
        if log_level is None and logging_handler is not None:
            log_level = DEFAULT_LOG_LEVEL  # the same log messages in both eras
        if isinstance(max_input_rounds, bool) or not isinstance(max_input_rounds, int) or (
            max_input_rounds < 1
        ):
            raise ConfigError(f"max_input_rounds must be an int >= 1, got {max_input_rounds!r}")
        return cls(
            url=target,
            given_transport=given,
            http_transport=http_transport,
            transport_choice=transport,
            timeout=checked_timeout,
            headers=header_map,
            initialize_mode=initialize,
            borrowed_session=session,
            trust_idempotent_hint=trust_idempotent_hint,
            hooks=plan,
            # (The default is one dict for every client; none of them changes it.)
            client_info=dict(client_info) if client_info else _DEFAULT_CLIENT_INFO,
            validate_output=validate_output,
            dispatcher=dispatcher,
            # Capabilities given explicitly win over those the handlers imply.
            capabilities={**dispatcher.capabilities(), **(capabilities or {})},
            listen=listen,
            push=push,
            reconnect=reconnect,
            cache=response_cache,
            max_body_size=max_body_size,
            max_event_size=max_event_size,
            connection_limit=connection_limit,
            max_list_pages=max_list_pages,
            tracing=tracing,
            tracer_provider=tracer_provider,
            protocol=protocol,
            log_level=log_level,
            max_input_rounds=max_input_rounds,
            result_types=frozenset(result_types) if result_types else _NO_RESULT_TYPES,
        )


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
