"""Request metrics and structured request logs: :class:`MetricsHook` and :class:`PrometheusMetrics`.

The metrics hook runs outermost in the pipeline, so it sees one *logical* request per
call: its retries and rate-limit waits are inside it and are reported as such::

    from prometheus_client import CollectorRegistry

    registry = CollectorRegistry()
    async with AsyncMCPClient(url, metrics=PrometheusMetrics(registry=registry)) as client:
        await client.call_tool("echo", {"text": "hi"})

Latency is measured until the response headers arrive (a streamed body is read later,
by the session). Nothing here ever logs request headers, so ``Authorization`` and tokens
stay out of the logs, and URLs are logged without their query strings.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .._exceptions import ConfigError, HTTPStatusError, JSONRPCError
from ..protocol.jsonrpc import ErrorResponse, Response, error_to_exception
from ..transports.http.base import Handler, HTTPRequest, HTTPResponse
from ..transports.http.hooks import Hook
from ..transports.options import AttemptRecord
from .base import Exchange, NextStep
from .retry import redact_url

__all__ = ["MetricsHook", "PrometheusMetrics", "RequestSample"]

_FIRST_TRY = AttemptRecord()  # (read only)

logger = logging.getLogger("mcp_async.requests")

#: The ``outcome`` of a ``server/discover`` era probe that a handshake-era server refused:
#: the client falls back to ``initialize``, as the spec expects; not an error.
FALLBACK = "era_fallback"


@dataclass(frozen=True, slots=True)
class RequestSample:
    """One finished logical request, as seen by a :class:`MetricsHook`.

    ``method`` is the JSON-RPC method (``"http"`` for a plain :meth:`send_request` and
    ``"http:DELETE"``-style labels for other bare HTTP requests); ``tool`` the tool name
    of a ``tools/call`` (``""`` otherwise); ``outcome`` is ``"ok"``, ``"jsonrpc_error"``
    (the server answered a JSON-RPC error), ``"tool_error"`` (an ``isError`` result),
    ``"era_fallback"`` (a ``server/discover`` probe refused by a handshake-era server,
    after which the client runs ``initialize``: expected, not an error),
    ``"http_<status>"`` for a non-2xx status, or the name of the exception class
    (``"ReadTimeout"``, ``"ConnectError"``, ``"cancelled"``); ``status`` the HTTP status
    of a failure or of a plain HTTP request (``None`` for an answered MCP request);
    ``attempts`` the tries made; ``rate_limit_wait`` the seconds spent waiting for the
    rate limiter.
    """

    method: str
    tool: str
    outcome: str
    status: int | None
    duration: float
    attempts: int
    rate_limit_wait: float
    url: str


def method_label(request: HTTPRequest) -> str:
    """The ``method`` label of ``request``: its JSON-RPC method, else an HTTP label."""
    method = request.mcp_method
    if method:
        return method
    return "http" if request.method == "POST" else f"http:{request.method}"


def reply_outcome(reply: object) -> str:
    """The ``outcome`` label of a request answered by ``reply``: ``"ok"``,
    ``"jsonrpc_error"`` for a JSON-RPC error, ``"tool_error"`` for an ``isError`` result."""
    if isinstance(reply, ErrorResponse):
        return "jsonrpc_error"
    if isinstance(reply, Response) and reply.result.get("isError") is True:
        return "tool_error"
    return "ok"


def outcome_of(exc: BaseException) -> str:
    """The ``outcome`` label of a request that raised ``exc``."""
    if isinstance(exc, HTTPStatusError):
        return f"http_{exc.status}"
    if isinstance(exc, JSONRPCError) and exc.http_status is not None:
        return f"http_{exc.http_status}"
    if isinstance(exc, asyncio.CancelledError):
        return "cancelled"
    return type(exc).__name__


class MetricsHook(Hook):
    """Measures every logical request and reports it to :meth:`on_finish`.

    The base class logs each finished request at DEBUG on the ``mcp_async.requests``
    logger, with the sample's fields under ``extra={"mcp_request": {...}}`` for
    structured log handlers. Subclasses (e.g. :class:`PrometheusMetrics`) override
    :meth:`on_start` and :meth:`on_finish`; call ``super().on_finish`` to keep the log.

    ``clock`` is a monotonic clock in seconds (default ``time.perf_counter``).
    ``max_tool_labels`` bounds the distinct ``tool`` labels (later names: ``"other"``),
    so a caller-supplied name cannot grow a metrics backend without bound.

    MCP requests are measured around the request message, until its response arrived
    (over SSE too); outcomes are ``"ok"``, ``"jsonrpc_error"``, ``"tool_error"``,
    ``"era_fallback"``, ``"http_<status>"`` or the exception class. Plain HTTP requests
    (``send_request``, DELETE) are measured in the HTTP pipeline; opening an SSE stream
    is not measured.
    """

    def __init__(
        self, *, clock: Callable[[], float] | None = None, max_tool_labels: int = 100
    ) -> None:
        self._clock = clock if clock is not None else time.perf_counter
        #: Distinct ``tool`` label values kept; later names are reported as ``"other"``.
        self.max_tool_labels = max_tool_labels
        self._tool_labels: set[str] = set()

    def on_start(self, method: str, tool: str) -> None:
        """A logical request started (before retries and rate limiting)."""
        return None

    def on_finish(self, sample: RequestSample) -> None:
        """A logical request finished; by default, log it at DEBUG."""
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "%s%s -> %s in %.1f ms (%d %s)",
                sample.method,
                f" {sample.tool}" if sample.tool else "",
                sample.outcome,
                sample.duration * 1000,
                sample.attempts,
                "try" if sample.attempts == 1 else "tries",
                extra={
                    "mcp_request": {
                        "method": sample.method,
                        "tool": sample.tool,
                        "outcome": sample.outcome,
                        "status": sample.status,
                        "duration": sample.duration,
                        "attempts": sample.attempts,
                        "rate_limit_wait": sample.rate_limit_wait,
                        "url": sample.url,
                    }
                },
            )

    async def around_message(self, exchange: Exchange, call_next: NextStep) -> None:
        """Time one request message (on every transport) and report the outcome."""
        method = exchange.method
        tool = self._tool_label(exchange.options.mcp_name)
        self.on_start(method, tool)
        start = self._clock()
        try:
            await call_next(exchange)
        except BaseException as exc:
            outcome = FALLBACK if _fell_back(exchange, exc) else outcome_of(exc)
            self._finish(exchange, method, tool, outcome, _status_of(exc), start)
            raise
        reply = exchange.reply
        outcome = reply_outcome(reply)
        if isinstance(reply, ErrorResponse) and _fell_back(exchange, error_to_exception(reply)):
            outcome = FALLBACK
        self._finish(exchange, method, tool, outcome, None, start)

    def _tool_label(self, name: object) -> str:
        """The ``tool`` label: the name, or ``"other"`` past ``max_tool_labels`` names."""
        if not isinstance(name, str) or not name:
            return ""
        labels = self._tool_labels
        if name in labels:
            return name
        if len(labels) >= self.max_tool_labels:
            return "other"
        labels.add(name)
        return name

    async def around(self, request: HTTPRequest, call_next: Handler) -> HTTPResponse:
        """Time the rest of the pipeline and report the outcome, success or failure.

        MCP request messages are measured by :meth:`around_message` instead, and the
        opening of an SSE stream is not a call: both pass through unmeasured.
        """
        if request.stream is not None or request.record is not None:
            return await call_next(request)  # (a record: the message policies watch it)
        request.record = AttemptRecord()  # what retry and the rate limiter report
        method = method_label(request)
        tool = self._tool_label(request.options.mcp_name)
        self.on_start(method, tool)
        start = self._clock()
        status: int | None = None
        try:
            response = await call_next(request)
        except BaseException as exc:
            status = _status_of(exc)
            self._finish(request, method, tool, outcome_of(exc), status, start)
            raise
        status = response.status
        outcome = "ok" if response.ok else f"http_{status}"
        self._finish(request, method, tool, outcome, status, start)
        return response

    def _finish(
        self,
        request: HTTPRequest | Exchange,
        method: str,
        tool: str,
        outcome: str,
        status: int | None,
        start: float,
    ) -> None:
        record = request.record or _FIRST_TRY
        sample = RequestSample(
            method=method,
            tool=tool,
            outcome=outcome,
            status=status,
            duration=self._clock() - start,
            attempts=record.attempt,
            rate_limit_wait=record.rate_limit_wait,
            url=redact_url(request.url),
        )
        try:
            self.on_finish(sample)
        except Exception:
            # A broken metrics backend must not fail the request it measured.
            logger.exception("metrics hook failed to record a request")


def _fell_back(exchange: Exchange, error: BaseException) -> bool:
    """Whether ``error`` ended the ``server/discover`` era probe in the expected fall-back."""
    fell_back = exchange.options.era_probe
    return fell_back is not None and fell_back(error)


def _status_of(exc: BaseException) -> int | None:
    if isinstance(exc, HTTPStatusError):
        return exc.status
    if isinstance(exc, JSONRPCError):
        return exc.http_status
    return None


# -- Prometheus ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Collectors:
    requests: Any
    duration: Any
    in_flight: Any
    retries: Any
    rate_limit_waits: Any
    rate_limit_wait_seconds: Any


_REGISTRY_LOCK = threading.Lock()
_BY_REGISTRY: weakref.WeakKeyDictionary[Any, dict[str, _Collectors]] = (
    weakref.WeakKeyDictionary()
)


def _collectors(registry: Any, namespace: str, buckets: Sequence[float] | None) -> _Collectors:
    """The collectors of ``namespace`` in ``registry``, created once per registry."""
    from prometheus_client import Counter, Gauge, Histogram

    with _REGISTRY_LOCK:
        known = _BY_REGISTRY.setdefault(registry, {})
        found = known.get(namespace)
        if found is not None:
            return found
        labels = ("client", "method", "tool")
        histogram_options: dict[str, Any] = {}
        if buckets is not None:
            histogram_options["buckets"] = tuple(buckets)
        found = _Collectors(
            requests=Counter(
                f"{namespace}_requests", "MCP client requests by method and outcome.",
                (*labels, "outcome"), registry=registry,
            ),
            duration=Histogram(
                f"{namespace}_request_duration_seconds",
                "Time from sending an MCP client request to its response headers, "
                "retries and rate-limit waits included.",
                labels, registry=registry, **histogram_options,
            ),
            in_flight=Gauge(
                f"{namespace}_requests_in_flight", "MCP client requests under way.",
                ("client", "method"), registry=registry,
            ),
            retries=Counter(
                f"{namespace}_retries", "Extra tries made by the retry policy.",
                labels, registry=registry,
            ),
            rate_limit_waits=Counter(
                f"{namespace}_rate_limit_waits", "Requests delayed by the rate limiter.",
                ("client", "method"), registry=registry,
            ),
            rate_limit_wait_seconds=Counter(
                f"{namespace}_rate_limit_wait_seconds",
                "Seconds requests spent waiting for the rate limiter.",
                ("client", "method"), registry=registry,
            ),
        )
        known[namespace] = found
        return found


class PrometheusMetrics(MetricsHook):
    """Prometheus metrics for a client (needs ``pip install 'mcp-async[prometheus]'``).

    Exposes, with ``namespace`` (default ``mcp_client``) as prefix and a ``client`` label
    set from ``client`` (default ``"default"``)::

        mcp_client_requests_total{client,method,tool,outcome}
        mcp_client_request_duration_seconds{client,method,tool}   (histogram)
        mcp_client_requests_in_flight{client,method}
        mcp_client_retries_total{client,method,tool}
        mcp_client_rate_limit_waits_total{client,method}
        mcp_client_rate_limit_wait_seconds_total{client,method}

    Any number of instances may target the same ``registry`` (default: the global
    ``prometheus_client.REGISTRY``): they share the collectors, created on first use,
    so several clients in one process never hit a duplicate-registration error. Give
    them distinct ``client`` names to tell them apart. ``buckets`` (histogram bounds
    in seconds) only counts for the first instance of a namespace in a registry.
    """

    def __init__(
        self,
        *,
        registry: Any = None,
        namespace: str = "mcp_client",
        client: str = "default",
        buckets: Sequence[float] | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        super().__init__(clock=clock)
        try:
            import prometheus_client
        except ImportError as exc:
            raise ConfigError(
                "PrometheusMetrics needs the 'prometheus-client' package: "
                "pip install 'mcp-async[prometheus]'"
            ) from exc
        if not namespace or not namespace.replace("_", "a").isalnum():
            raise ConfigError(f"namespace must be letters, digits and '_', got {namespace!r}")
        self.registry = registry if registry is not None else prometheus_client.REGISTRY
        self.namespace = namespace
        self.client = str(client)
        self._metrics = _collectors(self.registry, namespace, buckets)
        self._cache: dict[tuple[str, str], _Children] = {}

    def on_start(self, method: str, tool: str) -> None:
        """Count the request as in flight."""
        self._children(method, tool).in_flight.inc()

    def on_finish(self, sample: RequestSample) -> None:
        """Record the finished request in every collector (and log it at DEBUG)."""
        children = self._children(sample.method, sample.tool)
        children.in_flight.dec()
        requests = children.requests.get(sample.outcome)
        if requests is None:
            requests = children.requests[sample.outcome] = self._metrics.requests.labels(
                self.client, sample.method, sample.tool, sample.outcome
            )
        requests.inc()
        children.duration.observe(sample.duration)
        if sample.attempts > 1:
            children.retries.inc(sample.attempts - 1)
        if sample.rate_limit_wait > 0:
            children.rate_limit_waits.inc()
            children.rate_limit_wait_seconds.inc(sample.rate_limit_wait)
        super().on_finish(sample)

    def _children(self, method: str, tool: str) -> _Children:
        # Looking up labelled children in prometheus_client is the costly part: cache them.
        children = self._cache.get((method, tool))
        if children is None:
            m, client = self._metrics, self.client
            children = self._cache[(method, tool)] = _Children(
                in_flight=m.in_flight.labels(client, method),
                duration=m.duration.labels(client, method, tool),
                retries=m.retries.labels(client, method, tool),
                rate_limit_waits=m.rate_limit_waits.labels(client, method),
                rate_limit_wait_seconds=m.rate_limit_wait_seconds.labels(client, method),
                requests={},
            )
        return children


@dataclass(frozen=True, slots=True)
class _Children:
    """The labelled collectors of one (method, tool) of one client."""

    in_flight: Any
    duration: Any
    retries: Any
    rate_limit_waits: Any
    rate_limit_wait_seconds: Any
    requests: dict[str, Any]
