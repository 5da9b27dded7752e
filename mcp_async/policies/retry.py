"""Retrying what is safe to retry: :class:`RetryPolicy`, a message policy built on tenacity.

::

    client = AsyncMCPClient(url, retry=RetryPolicy(attempts=5, deadline=30))
    await client.call_tool("lookup", {"id": 7}, idempotent=True)   # may be re-sent
    await client.call_tool("charge", {"cents": 500}, retry=False)  # never re-sent

What is retried (see :meth:`RetryPolicy.is_retryable`):

* a connection that failed before the request was sent (``ConnectError(sent=False)``,
  ``ConnectTimeout``) — always;
* HTTP 429, 502, 503 and 504 (``statuses=``) — always, honouring ``Retry-After`` (when it
  is longer than the backoff);
* a connection lost after sending, a broken response or a read timeout — only when the
  request is marked idempotent (``tools/list``, ``resources/read``, ``ping``, ... are;
  ``call_tool(..., idempotent=True)`` opts a tool call in).

JSON-RPC errors are answers, not failures, and never reach the policy. An expired MCP
session is recovered by the session itself.

The policy lives in one chain: the message policies the session engine runs around each
request message (:meth:`RetryPolicy.around_message`), on every transport; each attempt
goes through the HTTP hooks (rate limiter, auth, your hooks) again. It is no HTTP hook:
the one plain HTTP request that retries, ``send_request``, is run under it with
:meth:`RetryPolicy.run`. Waits go through an injectable ``sleep``
(``asyncio.sleep`` by default) so other tasks keep running, and tests need no wall time.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeVar

from .._exceptions import (
    ConfigError,
    ConnectError,
    ConnectTimeout,
    HTTPStatusError,
    JSONRPCError,
    MCPClientError,
    RateLimitedError,
    ReadError,
    ReadTimeout,
)
from ..protocol.headers import MAX_SERVER_WAIT, parse_retry_after
from ..protocol.mcp import JSON_CONTENT_TYPE
from ..transports.http.base import BytesResponse, Handler, HTTPRequest, HTTPResponse
from ..transports.http.hooks import Hook
from ..transports.http.status import raise_for_status
from ..transports.options import AttemptRecord
from .base import Exchange, NextStep

if TYPE_CHECKING:
    from tenacity import RetryCallState

__all__ = ["DEFAULT_RETRY_STATUSES", "RetryPolicy", "redact_url"]

logger = logging.getLogger("mcp_async.retry")

#: Statuses retried by default: rate limited, bad gateway, unavailable, gateway timeout.
DEFAULT_RETRY_STATUSES = frozenset({429, 502, 503, 504})

_T = TypeVar("_T")
Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]


def redact_url(url: str) -> str:
    """``url`` with its query string and userinfo hidden (they may carry credentials)."""
    if "?" not in url and "@" not in url:
        return url
    from yarl import URL

    parsed = URL(url)
    if parsed.user is not None or parsed.password is not None:
        parsed = parsed.with_user(None)
    if parsed.query_string:
        parsed = parsed.with_query({key: "***" for key in parsed.query})
    return str(parsed)


def _status_of(exc: BaseException) -> int | None:
    if isinstance(exc, HTTPStatusError):
        return exc.status
    if isinstance(exc, JSONRPCError):
        return exc.http_status
    return None


def _retry_after_of(exc: BaseException) -> float | None:
    """The server's requested wait carried by ``exc`` (429, or 503 with ``Retry-After``)."""
    if isinstance(exc, RateLimitedError):
        return exc.retry_after
    if isinstance(exc, HTTPStatusError) and exc.status == 503:
        return parse_retry_after(exc.headers.get("Retry-After"))
    return None


async def _asyncio_sleep(seconds: float) -> None:
    import asyncio

    await asyncio.sleep(seconds)


class RetryPolicy(Hook):
    """Re-send failed requests that are safe to re-send, with backoff and a deadline.

    Example::

        policy = RetryPolicy(attempts=4, backoff=0.5, max_backoff=10, deadline=30)
        async with AsyncMCPClient(url, retry=policy) as client:
            await client.call_tool("echo", {"text": "hi"})

    Args:
        attempts: total tries, the first included (``1`` disables retrying).
        backoff: the first backoff in seconds; it doubles on each retry. The backoff is
            also the floor of every wait: a ``Retry-After`` can lengthen a wait, never
            shorten it, and ``Retry-After: 0`` (or a negative or invalid one) counts as
            absent.
        max_backoff: cap of one backoff wait.
        jitter: draw each backoff uniformly from ``[0, backoff]`` ("full jitter") so
            many clients do not retry in lock step.
        deadline: no retry is started, nor a wait begun, that would end more than this
            many seconds after the first try (``None``: no deadline). Each try is
            bounded by the request's own timeout.
        max_retry_after: the longest ``Retry-After`` honoured (default
            :data:`~mcp_async.protocol.headers.MAX_SERVER_WAIT`, the rate limiter's cap
            too); a server asking for more makes the policy give up at once with the
            :class:`~mcp_async.RateLimitedError`.
        statuses: HTTP statuses retried (default 429, 502, 503, 504).
        sleep: awaitable ``sleep(seconds)`` (default ``asyncio.sleep``), for tests.
        clock: monotonic clock in seconds for the deadline (default ``time.monotonic``).

    The policy holds no per-request state, so one instance serves every task of a client
    (and several clients). Per call, ``retry=False`` on a client method skips it and
    ``retry=RetryPolicy(...)`` replaces it; both travel in the request's options
    (:attr:`RequestOptions.retry <mcp_async.transports.options.RequestOptions.retry>`).
    The try number is recorded in the request's record (``record.attempt``, which HTTP
    hooks see as ``request.record.attempt``). When retries run out,
    the last error is raised with ``.attempts`` set; a final retryable status becomes its
    typed error (:class:`~mcp_async.RateLimitedError` with ``retry_after`` for 429).
    """

    __slots__ = (
        "_clock",
        "_sleep",
        "attempts",
        "backoff",
        "deadline",
        "jitter",
        "max_backoff",
        "max_retry_after",
        "statuses",
    )

    def __init__(
        self,
        attempts: int = 3,
        *,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        jitter: bool = True,
        deadline: float | None = 60.0,
        max_retry_after: float = MAX_SERVER_WAIT,
        statuses: Iterable[int] = DEFAULT_RETRY_STATUSES,
        sleep: Sleep | None = None,
        clock: Clock | None = None,
    ) -> None:
        if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1:
            raise ConfigError(f"RetryPolicy attempts must be an integer >= 1, got {attempts!r}")
        for name, value in (
            ("backoff", backoff), ("max_backoff", max_backoff),
            ("max_retry_after", max_retry_after),
        ):
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ConfigError(f"RetryPolicy {name} must be a number >= 0, got {value!r}")
        if deadline is not None and (
            isinstance(deadline, bool) or not isinstance(deadline, int | float) or deadline <= 0
        ):
            raise ConfigError(f"RetryPolicy deadline must be > 0 or None, got {deadline!r}")
        codes = frozenset(statuses)
        for code in codes:
            if not isinstance(code, int) or not 400 <= code <= 599:
                raise ConfigError(f"RetryPolicy statuses must be HTTP error codes, got {code!r}")
        self.attempts = attempts
        self.backoff = float(backoff)
        self.max_backoff = float(max_backoff)
        self.jitter = jitter
        self.deadline = None if deadline is None else float(deadline)
        self.max_retry_after = float(max_retry_after)
        self.statuses = codes
        self._sleep: Sleep = sleep if sleep is not None else _asyncio_sleep
        self._clock: Clock = clock if clock is not None else time.monotonic

    def __repr__(self) -> str:
        return (
            f"RetryPolicy(attempts={self.attempts}, backoff={self.backoff}, "
            f"max_backoff={self.max_backoff}, deadline={self.deadline})"
        )

    # -- decisions ------------------------------------------------------------------------
    def is_retryable(self, request: HTTPRequest | Exchange, exc: BaseException) -> bool:
        """Whether ``exc``, raised by one try of ``request``, allows another try.

        Override to widen or narrow what is retried; keep the safety rules in mind.
        """
        if isinstance(exc, ConnectTimeout):
            return True
        if isinstance(exc, ConnectError):
            return not exc.sent or request.idempotent
        if isinstance(exc, ReadError | ReadTimeout):
            return request.idempotent
        status = _status_of(exc)
        return status is not None and status in self.statuses

    def backoff_for(self, attempt: int) -> float:
        """The backoff before try ``attempt + 1`` when the server named no wait."""
        base = min(self.max_backoff, self.backoff * 2.0 ** (attempt - 1))
        if self.jitter and base > 0:
            import random

            return random.uniform(0.0, base)
        return base

    def wait_for(self, attempt: int, exc: BaseException | None) -> float:
        """The wait before try ``attempt + 1`` after try ``attempt`` failed with ``exc``.

        The policy's own backoff (:meth:`backoff_for`) is the floor: a server's
        ``Retry-After`` can make a wait longer, never shorter. A ``Retry-After`` of zero,
        a negative one, a date in the past or an unparsable value counts as absent (as in
        urllib3), so a server answering ``Retry-After: 0`` cannot turn retrying into a
        tight loop.
        """
        backoff = self.backoff_for(attempt)
        retry_after = _retry_after_of(exc) if exc is not None else None
        if retry_after is not None and retry_after > backoff:
            return retry_after
        return backoff

    # -- running it ---------------------------------------------------------------------
    async def around_message(self, exchange: Exchange, call_next: NextStep) -> None:
        """Run the rest of the message chain until the request succeeds, a failure is not
        retryable, or time runs out; a per-call ``retry`` option overrides the policy."""
        override = exchange.options.retry
        if override is False:
            return await call_next(exchange)
        policy = override if isinstance(override, RetryPolicy) else self
        return await policy._run(exchange, lambda: call_next(exchange))

    async def run(self, request: HTTPRequest, call_next: Handler) -> HTTPResponse:
        """Send one plain HTTP ``request`` through ``call_next`` under this policy (the
        client's ``send_request``); a retryable status is raised as its typed error
        between tries, and an idempotent JSON reply is read here, so that a connection
        lost mid-body is retried too."""
        return await self._run(request, lambda: self._try(request, call_next))

    async def _run(
        self, request: HTTPRequest | Exchange, attempt_once: Callable[[], Awaitable[_T]]
    ) -> _T:
        start = self._clock()
        record = _record_of(request)
        # The first try runs without tenacity: most requests succeed, and setting up
        # AsyncRetrying costs more than the rest of the pipeline.
        record.attempt = 1
        try:
            return await attempt_once()
        except MCPClientError as exc:
            if self.attempts == 1 or not self.is_retryable(request, exc):
                exc.attempts = 1
                raise
            first_error = exc

        from tenacity import AsyncRetrying, retry_if_exception

        budget = _timeout_of(request)

        def wait(state: RetryCallState) -> float:
            return self.wait_for(state.attempt_number, _outcome_error(state))

        def stop(state: RetryCallState) -> bool:
            if state.attempt_number >= self.attempts:
                return True
            exc = _outcome_error(state)
            retry_after = _retry_after_of(exc) if exc is not None else None
            if retry_after is not None and retry_after > self.max_retry_after:
                return True
            spent = self._clock() - start + state.upcoming_sleep
            if budget is not None and spent >= budget:
                return True  # the call's own timeout: waits count against it
            if _deadline_left(request) <= state.upcoming_sleep:
                return True  # the deadline began before this policy: nothing is left
            return self.deadline is not None and spent > self.deadline

        async def before_sleep(state: RetryCallState) -> None:
            if logger.isEnabledFor(logging.INFO):
                exc = _outcome_error(state)
                logger.info(
                    "retrying %s %s in %.2fs (try %d of %d failed: %s)",
                    _method_of(request) or request.method,
                    redact_url(request.url),
                    state.upcoming_sleep,
                    state.attempt_number,
                    self.attempts,
                    _describe(exc, request.url),
                    extra={
                        "mcp_method": _method_of(request),
                        "attempt": state.attempt_number,
                        "retry_in": state.upcoming_sleep,
                        "error": type(exc).__name__,
                    },
                )

        retrying = AsyncRetrying(
            sleep=self._sleep,
            stop=stop,
            wait=wait,
            retry=retry_if_exception(lambda exc: self.is_retryable(request, exc)),
            before_sleep=before_sleep,
            reraise=True,
        )
        attempt = 0
        try:
            async for try_ in retrying:
                with try_:
                    attempt = try_.retry_state.attempt_number
                    if attempt == 1:
                        raise first_error  # hand the fast path's failure to tenacity
                    record.attempt = attempt
                    if budget is not None and isinstance(request, HTTPRequest):
                        _shrink_timeout(request, budget - (self._clock() - start))
                    return await attempt_once()
        except MCPClientError as exc:
            exc.attempts = attempt
            raise
        raise AssertionError("unreachable: tenacity either returns or raises")  # pragma: no cover

    async def _try(self, request: HTTPRequest, call_next: Handler) -> HTTPResponse:
        response = await call_next(request)
        if response.status in self.statuses:
            # Reads the (bounded) error body and releases the connection before any wait.
            mcp = request.mcp_method is not None
            await raise_for_status(request, response, jsonrpc_body=mcp)
        if (
            response.ok
            and request.idempotent
            and response.content_type == JSON_CONTENT_TYPE
        ):
            # Buffer a JSON reply here so that a connection lost mid-body is retried too.
            try:
                body = await response.read()
            finally:
                response.release()
            return BytesResponse(response.status, body, response.headers, response.url)
        return response


class _PerCallRetry(Hook):
    """Stands in for a client without a policy: applies only per-call ``retry=`` options."""

    __slots__ = ()

    async def around_message(self, exchange: Exchange, call_next: NextStep) -> None:
        """Run the request under its per-call policy, if it has one."""
        policy = resolve(None, exchange.options.retry)
        if policy is None:
            return await call_next(exchange)
        return await policy.around_message(exchange, call_next)


_DEFAULT: list[RetryPolicy] = []


def _default_policy() -> RetryPolicy:
    if not _DEFAULT:
        _DEFAULT.append(RetryPolicy())
    return _DEFAULT[0]


def per_call_retry() -> Hook:
    """The hook a client installs when it has no retry policy of its own."""
    return _PerCallRetry()


def resolve(client_policy: object, option: object) -> RetryPolicy | None:
    """The policy that runs a request of a client whose ``retry=`` is ``client_policy``
    when the call's ``retry=`` option is ``option`` (``None``: no retrying). A client
    retry hook that is no :class:`RetryPolicy` ignores the options, as before."""
    own = client_policy if isinstance(client_policy, RetryPolicy) else None
    if option is False:
        return None
    if isinstance(option, RetryPolicy):
        return option
    if option is True:
        return own if own is not None else _default_policy()
    return own


def check_retry_option(value: object) -> RetryPolicy | bool | None:
    """Validate a per-call ``retry=`` argument (``None``, ``True``, ``False`` or a policy)."""
    if value is None or isinstance(value, bool | RetryPolicy):
        return value
    raise ConfigError(f"retry must be a RetryPolicy, True, False or None, got {value!r}")


def _shrink_timeout(request: HTTPRequest, left: float) -> None:
    """Give a retried HTTP attempt only what is left of the call's timeout."""
    timeout = request.timeout
    if timeout is not None and timeout.total is not None and left < timeout.total:
        request.timeout = replace(timeout, total=max(left, 0.001))


def _timeout_of(request: HTTPRequest | Exchange) -> float | None:
    """The call's own total timeout in seconds, if it has one."""
    if isinstance(request, HTTPRequest):
        return request.timeout.total if request.timeout is not None else None
    return request.timeout


def _deadline_left(request: HTTPRequest | Exchange) -> float:
    """Seconds left until the message's deadline (infinite when it has none)."""
    if isinstance(request, Exchange) and request.deadline is not None:
        import asyncio

        return request.deadline - asyncio.get_running_loop().time()
    return float("inf")


def _record_of(request: HTTPRequest | Exchange) -> AttemptRecord:
    """Where the try number is reported (an HTTP request nobody watched gets one)."""
    if isinstance(request, Exchange):
        return request.record
    record = request.record
    if record is None:
        record = request.record = AttemptRecord()
    return record


def _method_of(request: HTTPRequest | Exchange) -> str | None:
    """The JSON-RPC method ``request`` carries, if any."""
    return request.method if isinstance(request, Exchange) else request.mcp_method


def _outcome_error(state: RetryCallState) -> BaseException | None:
    outcome = state.outcome
    if outcome is None or not outcome.failed:
        return None
    return outcome.exception()


def _describe(exc: Any, url: str) -> str:
    if exc is None:
        return "no error"
    text = str(exc).replace(url, redact_url(url)) if url else str(exc)
    return f"{type(exc).__name__}: {text}"
