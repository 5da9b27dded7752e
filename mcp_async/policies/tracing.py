"""OpenTelemetry tracing: one CLIENT span per MCP request (extra ``otel``).

It follows the OpenTelemetry semantic conventions for MCP
(https://opentelemetry.io/docs/specs/semconv/gen-ai/mcp/) and turns itself on the way
OpenTelemetry instrumentations do: when ``opentelemetry-api`` is installed and the
application has set a tracer provider (``trace.set_tracer_provider(...)``) before the
client is entered, every client traces, with no code change::

    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider

    trace.set_tracer_provider(TracerProvider())      # once, at start-up
    async with AsyncMCPClient(url) as client:        # traced
        await client.call_tool("add", {"a": 1})      # span "tools/call add"

``AsyncMCPClient(..., tracing=False)`` turns it off; ``tracer_provider=`` picks a
provider for one client (and turns tracing on for it); ``tracing=True`` insists (then
the global provider is used even before one is set). When the package is not installed
or no provider is set, the client runs exactly as without this module: nothing is
imported and no policy is added.

Each request message gets a span named ``{mcp.method.name} {target}`` (the tool or
prompt name; a resource URI only with ``uri_in_span_name``, which the conventions leave
opt-in because of its cardinality), of kind CLIENT, child of the caller's current span,
lasting until the response arrived. Attributes: ``mcp.method.name``,
``jsonrpc.request.id``, ``mcp.session.id``, ``mcp.protocol.version``,
``gen_ai.tool.name`` and ``gen_ai.operation.name`` (``execute_tool``) for
``tools/call``, ``gen_ai.prompt.name`` for ``prompts/get``, ``mcp.resource.uri``
for resource requests, ``network.transport`` (``tcp``; ``pipe`` for stdio),
``network.protocol.name`` (``http``), ``server.address`` and ``server.port``. On
failure the span's status is ERROR and ``error.type`` is the JSON-RPC error code (also
``rpc.response.status_code``), ``tool_error`` for a ``tools/call`` result with
``isError``, or the exception's qualified class name (the exception is recorded as an
event).

The ``server/discover`` probe of ``protocol="auto"`` is a span like any request. When a
handshake-era server refuses it (the expected fall-back to ``initialize``), its status
stays UNSET: it gets the attribute ``mcp.era.fallback`` (``"initialize"``) and an event of
that name whose ``mcp.era.fallback.reason`` is the JSON-RPC code (or the exception class)
and ``mcp.era.fallback.message`` the server's message. A probe that fails otherwise (an
outage, a 401) is an ERROR span as above.

The span runs inside the retry policy: every attempt of a retried request (each with
its own ``jsonrpc.request.id``) and every input round of protocol 2026-07-28 is a span
of its own. The span's context is propagated with the application's propagator
(W3C ``traceparent``/``tracestate`` by default) into ``params._meta`` of the request
and, on HTTP, into the request's headers.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sys
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .._exceptions import ConfigError, JSONRPCError
from .._version import __version__
from ..protocol.jsonrpc import ErrorResponse, error_to_exception
from .base import Exchange, NextStep

if TYPE_CHECKING:
    from ..session.api import SessionLookup

__all__ = ["TracingPolicy", "configured_tracer_provider", "tracing_policy"]

#: The instrumentation scope of the spans.
SCOPE = "mcp_async"
_PROMPT_METHODS = frozenset({"prompts/get"})
_URI_METHODS = frozenset({"resources/read", "resources/subscribe", "resources/unsubscribe"})
#: Set (to ``"initialize"``) on a ``server/discover`` span whose refusal sent the client
#: to the handshake era; the span also gets a :data:`FALLBACK_EVENT` event.
FALLBACK_ATTRIBUTE = "mcp.era.fallback"
FALLBACK_EVENT = "mcp.era.fallback"


def configured_tracer_provider() -> Any | None:
    """The tracer provider the application set, or ``None``.

    ``None`` when OpenTelemetry was never imported (then no provider can have been set,
    and nothing is imported here), or when the global provider is still the API's
    default proxy (or a no-op provider).
    """
    trace = sys.modules.get("opentelemetry.trace")
    if trace is None:
        return None
    provider = trace.get_tracer_provider()
    if isinstance(provider, trace.ProxyTracerProvider | trace.NoOpTracerProvider):
        return None
    return provider


def tracing_policy(
    session: SessionLookup, tracing: bool | TracingPolicy | None, tracer_provider: Any | None
) -> TracingPolicy | None:
    """The tracing policy for a client whose session ``session()`` returns (``None``
    before it has one), or ``None`` when the client does not trace.

    ``tracing=None`` (the default) traces when ``tracer_provider`` is given or the
    application set a global provider; ``False`` never; ``True`` always (the global
    provider when none is given); a :class:`TracingPolicy` always, with its options.
    """
    if tracing is False:
        return None
    if isinstance(tracing, TracingPolicy):
        return tracing.for_session(session)
    if tracing not in (None, True):
        raise ConfigError(f"tracing must be True, False or None, got {tracing!r}")
    provider = tracer_provider
    if provider is None:
        provider = configured_tracer_provider()
        if provider is None and tracing is None:
            return None
    try:
        from opentelemetry import trace
    except ImportError as exc:
        raise ConfigError(
            "tracing needs the 'opentelemetry-api' package: pip install 'mcp-async[otel]'"
        ) from exc
    if provider is None:
        provider = trace.get_tracer_provider()
    return TracingPolicy(provider, facts=_session_facts(session))


def _session_facts(session: SessionLookup) -> Callable[[], tuple[str | None, str | None]]:
    """``() -> (session id, protocol version)`` of the session ``session()`` returns."""

    def facts() -> tuple[str | None, str | None]:
        current = session()
        if current is None:
            return None, None
        session_id = current.session_id
        version = current.protocol_version
        return (session_id if isinstance(session_id, str) else None,
                version if isinstance(version, str) else None)

    return facts


@lru_cache(maxsize=64)
def _endpoint(url: str) -> dict[str, Any]:
    """The network attributes of a server named as in :attr:`Exchange.url`."""
    if url.startswith(("http://", "https://")):
        parts = urlsplit(url)
        out: dict[str, Any] = {"network.transport": "tcp", "network.protocol.name": "http"}
        if parts.hostname:
            out["server.address"] = parts.hostname
            out["server.port"] = parts.port or (443 if parts.scheme == "https" else 80)
        return out
    if url.startswith("stdio:"):
        return {"network.transport": "pipe"}
    return {}


class TracingPolicy:
    """A message-level policy (see :mod:`mcp_async.policies.base`) that opens one CLIENT span
    per request message and propagates its context (see the module docstring).

    The client makes one from its ``tracing=`` and ``tracer_provider=`` options. Pass
    your own as ``AsyncMCPClient(..., tracing=TracingPolicy(...))`` for its options:
    ``tracer_provider`` (``None``: the global one), ``uri_in_span_name`` (a resource's
    URI in its span name; opt-in, as the conventions ask) and ``propagate=False`` (send
    no trace context). One object may serve many clients.
    """

    def __init__(
        self,
        tracer_provider: Any = None,
        *,
        facts: Callable[[], tuple[str | None, str | None]] | None = None,
        uri_in_span_name: bool = False,
        propagate: bool = True,
    ) -> None:
        from opentelemetry import propagate as otel_propagate
        from opentelemetry import trace
        from opentelemetry.trace import SpanKind, Status, StatusCode

        if tracer_provider is None:
            tracer_provider = trace.get_tracer_provider()
        self._provider = tracer_provider
        self._tracer = tracer_provider.get_tracer(SCOPE, __version__)
        self._trace = trace
        self._inject = otel_propagate.inject
        self._client_kind = SpanKind.CLIENT
        self._status = Status
        self._error = StatusCode.ERROR
        self._facts = facts
        self._uri_in_name = uri_in_span_name
        self._propagate = propagate

    def for_session(self, session: SessionLookup) -> TracingPolicy:
        """A policy with the same options that reads the facts of the session
        ``session()`` returns (``None`` before there is one)."""
        return TracingPolicy(
            self._provider, facts=_session_facts(session),
            uri_in_span_name=self._uri_in_name, propagate=self._propagate,
        )

    async def around_message(self, exchange: Exchange, call_next: NextStep) -> None:
        """Run the rest of the chain inside a span for this request message."""
        method = exchange.method
        request, call, sent = exchange.payload
        params: dict[str, Any] = request.params or {}
        attributes: dict[str, Any] = {"mcp.method.name": method, **_endpoint(exchange.url)}
        target: str | None = None
        name = params.get("name")
        if method == "tools/call" and isinstance(name, str):
            target = name
            attributes["gen_ai.tool.name"] = name
            attributes["gen_ai.operation.name"] = "execute_tool"
        elif method in _PROMPT_METHODS and isinstance(name, str):
            target = name
            attributes["gen_ai.prompt.name"] = name
        elif method in _URI_METHODS and isinstance(params.get("uri"), str):
            attributes["mcp.resource.uri"] = params["uri"]
            if self._uri_in_name:
                target = params["uri"]
        if self._facts is not None:
            session_id, version = self._facts()
            if session_id is not None:
                attributes["mcp.session.id"] = session_id
            if version is not None:
                attributes["mcp.protocol.version"] = version
        span = self._tracer.start_span(
            f"{method} {target}" if target else method,
            kind=self._client_kind,
            attributes=attributes,
        )
        if not span.is_recording() and not span.get_span_context().is_valid:
            # A no-op tracer: nothing to record or propagate.
            await call_next(exchange)
            return
        with self._trace.use_span(span, end_on_exit=True, record_exception=False,
                                  set_status_on_exception=False):
            if self._propagate:
                carrier: dict[str, str] = {}
                self._inject(carrier)
                if carrier:
                    new_params = dict(params)
                    new_params["_meta"] = {**(params.get("_meta") or {}), **carrier}
                    headers = {**call.headers, **carrier} if call.headers else carrier
                    exchange.payload = (
                        dataclasses.replace(request, params=new_params),
                        call._replace(headers=headers),
                        sent,
                    )
            try:
                await call_next(exchange)
            except BaseException as exc:
                self._failed(span, exchange, exc)
                raise
            self._finished(span, exchange)

    def _request_id(self, span: Any, exchange: Exchange) -> None:
        request_id = exchange.payload[0].id  # the attempt's own id, known once sent
        span.set_attribute("jsonrpc.request.id", str(request_id))

    def _finished(self, span: Any, exchange: Exchange) -> None:
        self._request_id(span, exchange)
        reply = exchange.reply
        if isinstance(reply, ErrorResponse):  # the engine raises it afterwards
            if _fell_back(exchange, error_to_exception(reply)):
                _record_fallback(span, str(reply.code), reply.message)
                return
            code = str(reply.code)
            span.set_attribute("error.type", code)
            span.set_attribute("rpc.response.status_code", code)
            span.set_status(self._status(self._error, reply.message))
            return
        result = getattr(reply, "result", None)
        if (exchange.method == "tools/call" and isinstance(result, dict)
                and result.get("isError") is True):
            span.set_attribute("error.type", "tool_error")
            span.set_status(self._status(self._error, "the tool returned isError"))

    def _failed(self, span: Any, exchange: Exchange, exc: BaseException) -> None:
        self._request_id(span, exchange)
        if _fell_back(exchange, exc):
            reason = str(exc.code) if isinstance(exc, JSONRPCError) else _qualified_name(type(exc))
            _record_fallback(span, reason, str(exc))
            return
        if isinstance(exc, JSONRPCError):
            code = str(exc.code)
            span.set_attribute("error.type", code)
            span.set_attribute("rpc.response.status_code", code)
        elif isinstance(exc, asyncio.CancelledError):
            span.set_attribute("error.type", "cancelled")
        else:
            span.set_attribute("error.type", _qualified_name(type(exc)))
            span.record_exception(exc)
        span.set_status(self._status(self._error, f"{type(exc).__name__}: {exc}"))


def _fell_back(exchange: Exchange, error: BaseException) -> bool:
    """Whether ``error`` ended the ``server/discover`` era probe in the expected fall-back
    to the handshake (see :mod:`mcp_async.session.era`)."""
    fell_back = exchange.options.era_probe
    return fell_back is not None and fell_back(error)


def _record_fallback(span: Any, reason: str, message: str) -> None:
    """Mark the probe's span as the era fall-back; its status stays UNSET (no error)."""
    span.set_attribute(FALLBACK_ATTRIBUTE, "initialize")
    span.add_event(FALLBACK_EVENT, {"mcp.era.fallback.reason": reason,
                                    "mcp.era.fallback.message": message})


def _qualified_name(kind: type[BaseException]) -> str:
    """``mcp_async.ReadTimeout``, ``ValueError``, ``package.module.Error``."""
    module = kind.__module__
    if module == "builtins":
        return kind.__qualname__
    if module.startswith("mcp_async."):
        module = "mcp_async"  # the public name of every error of the package
    return f"{module}.{kind.__qualname__}"
