"""The request path of a session: one request and its reply, through the message policies.

:class:`Exchanging` sends a request (stamped by the revision in use), waits for its reply
within the call's deadlines (which progress may push back), and recovers what the spec
lets it recover: a new session when the server forgot the old one (or, for an idempotent
request, when the connection was lost), a re-send after a ``-32022`` naming the very
version sent, and the input rounds of a stateless-era ``input_required`` result.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import replace
from time import monotonic as _monotonic
from typing import Any

from .._config import Timeout
from .._exceptions import (
    ClientStateError,
    ConnectionLostError,
    MCPClientError,
    ReadTimeout,
    SessionExpiredError,
    UnknownResultTypeError,
)
from ..protocol import jsonrpc, modern
from ..protocol.jsonrpc import ErrorResponse, Request, RequestId, Response
from ..protocol.models import ProgressNotification
from ..transports.message import Call, Reply
from ..transports.options import NO_OPTIONS, AttemptRecord, RequestOptions
from .connecting import Connecting
from .deadlines import COARSE_FROM, Deadlines, expire, timed_out
from .dispatch import ProgressCallback
from .input_required import drive_rounds
from .policy_chain import Exchange, MessagePolicy, NextStep, build_chain

__all__ = ["Exchanging"]

_Future = asyncio.Future
_current_task = asyncio.current_task
_new_call = tuple.__new__


class Exchanging(Connecting):
    """The requests of a :class:`~mcp_async.session.engine.SessionEngine` (which sets
    every attribute declared here)."""

    __slots__ = (
        "_chain",
        "_deadlines",
        "_ids",
        "_result_types",
        "_retry_chain",
        "_retry_policies",
        "max_input_rounds",
    )

    _chain: NextStep | None
    _retry_policies: Sequence[MessagePolicy] | None
    _retry_chain: NextStep | None
    _result_types: frozenset[str]
    _ids: jsonrpc.IdAllocator
    _deadlines: Deadlines
    max_input_rounds: int

    def request(
        self,
        method: str,
        params: dict[str, Any] | None,
        *,
        timeout: Timeout | None = None,
        headers: Mapping[str, str] | None = None,
        progress: ProgressCallback | None = None,
        idempotent: bool = False,
        reset_timeout_on_progress: bool = False,
        max_total_timeout: float | None = None,
        options: RequestOptions = NO_OPTIONS,
    ) -> Awaitable[dict[str, Any]]:
        """Send one request (after the handshake); await it for its result object.

        With ``reset_timeout_on_progress`` or ``max_total_timeout``, ``timeout.total`` is
        enforced here, as a deadline that each progress notification pushes back (when
        asked) but never past ``max_total_timeout`` seconds from the start.

        If the server forgot the session, the request is sent once more in a new one.
        If the connection was lost with the request in flight, an idempotent request is
        sent once more on a new connection; any other fails with
        :class:`~mcp_async.ConnectionLostError`.
        """
        # A plain function that returns the coroutine: one layer less on every call.
        if reset_timeout_on_progress or max_total_timeout is not None:
            return self._request_within(
                method, params, timeout, headers, progress, idempotent,
                reset_timeout_on_progress, max_total_timeout, options,
            )
        return self._exchange(
            method, params, timeout=timeout, headers=headers, progress=progress,
            idempotent=idempotent, options=options, recover=True,
        )

    async def _request_within(
        self,
        method: str,
        params: dict[str, Any] | None,
        timeout: Timeout | None,
        headers: Mapping[str, str] | None,
        progress: ProgressCallback | None,
        idempotent: bool,
        reset: bool,
        max_total: float | None,
        options: RequestOptions,
    ) -> dict[str, Any]:
        timeout = timeout or self._default_timeout or Timeout()
        idle = timeout.total
        inner = Timeout(total=None, connect=timeout.connect, read=timeout.read)
        loop = asyncio.get_running_loop()
        start = loop.time()
        if reset and not self.connected:
            # With reset_timeout_on_progress the timeout is one of inactivity: it starts
            # once connected. Connecting counts against max_total_timeout (if given, else
            # the client's timeout bounds it). Otherwise a handshake still to run happens
            # inside, within the call's deadline.
            await self._within(
                method, None if max_total is None else Timeout(total=max_total),
                _monotonic(), self._join_connect, "while connecting to the server",
            )
        hard = None if max_total is None else start + max_total
        first = None if idle is None else loop.time() + idle
        if hard is not None:
            first = hard if first is None else min(first, hard)
        deadline = asyncio.timeout_at(first)
        if reset and idle is not None:
            user = progress

            def on_progress(note: ProgressNotification) -> Any:
                when = loop.time() + idle
                deadline.reschedule(when if hard is None else min(when, hard))
                return None if user is None else user(note)

            progress = on_progress
        try:
            async with deadline:
                return await self.request(
                    method, params, timeout=inner, headers=headers, progress=progress,
                    idempotent=idempotent, options=options,
                )
        except TimeoutError:
            if not deadline.expired():
                raise
            if hard is not None and loop.time() >= hard:
                detail = f"it ran past max_total_timeout ({max_total}s)"
            elif not self.connected:
                detail = f"it was still connecting to the server after {idle}s"
            else:
                detail = f"nothing was heard for {idle}s"
            raise ReadTimeout(f"{method!r} timed out: {detail}") from None

    async def _exchange(
        self,
        method: str,
        params: dict[str, Any] | None,
        *,
        timeout: Timeout | None = None,
        headers: Mapping[str, str] | None = None,
        progress: ProgressCallback | None = None,
        idempotent: bool = False,
        options: RequestOptions = NO_OPTIONS,
        recover: bool = False,
    ) -> dict[str, Any]:
        """One request and its reply. With ``recover`` it first runs the handshake if
        needed, and sends once more in a new session when the server forgot the session
        (or, for an idempotent request, when the connection was lost)."""
        # (time.monotonic, a C call: when the call began, for its timeout across a
        # handshake or a new session, and for input rounds.)
        started = _monotonic()
        # The task is known while in a call, so that closing can end its wait wherever
        # it is (a connection pool, a backoff, a rate limit) with ClientStateError.
        task = _current_task()
        calls = self._calls
        calls[task] = calls.get(task, 0) + 1
        try:
            if recover and not self.connected:
                timeout = await self._connect_within(method, timeout, started)
                started = _monotonic()  # what is left of the timeout counts from here
            generation = self._generation
            lost: str | None = None
            refused = False  # -32022 naming the very version sent
            loop = asyncio.get_running_loop()
            revision = self.revision  # (None while the era is being settled)
            if revision is not None:
                params = revision.stamp(method, params)
            request_id = self._ids.next()
            on_request_id = options.on_request_id
            if on_request_id is not None:
                on_request_id(request_id)  # e.g. a listen, demultiplexed by its id
            if progress is not None:
                params = dict(params or {})
                meta = dict(params.get("_meta") or {})
                meta["progressToken"] = request_id
                params["_meta"] = meta
                self.dispatcher.add_progress(request_id, progress)
            # (The future and the named tuple are made by their C constructors: a Python
            # frame less each than loop.create_future() and Call(...), on every request.)
            waiter: asyncio.Future[Reply] = _Future(loop=loop)
            self._waiting[request_id] = waiter
            request = jsonrpc.new_request(request_id, method, params)
            chain = self._chain
            if options.retry is not None:
                chain = self._retry_option_chain()
            try:
                if chain is None:
                    call = _new_call(Call, (waiter, timeout, headers, idempotent, options, None))
                    transport = self.transport
                    if not transport.send_now(request, call):
                        await transport.request(request, call)
                    if not waiter.done():  # the reply travels on a stream: wait here
                        await self._wait(waiter, method, request_id, timeout)
                else:
                    total = (timeout or self._default_timeout or Timeout()).total
                    # Waits in the policies (backoff, rate limits) and every attempt count
                    # against the call's own total timeout: "deadline" is when it ends.
                    # The record is shared with the HTTP hooks below: the rate limiter's
                    # waits there reach the metrics here.
                    record = AttemptRecord()
                    call = _new_call(
                        Call, (waiter, timeout, headers, idempotent, options, record)
                    )
                    exchange = Exchange(
                        method, self._target(), options, idempotent, total,
                        None if total is None else loop.time() + total, record,
                        (request, call, False),
                    )
                    try:
                        await chain(exchange)
                    finally:
                        request, call, _ = exchange.payload  # the last attempt's
                reply = call.waiter.result()
            except (asyncio.CancelledError, TimeoutError):
                if method != "initialize":
                    self.cancel(request.id, "request timed out or was cancelled")
                raise
            except MCPClientError as exc:
                if self._closed and not isinstance(exc, ClientStateError):
                    raise ClientStateError(
                        f"the client was closed with {method!r} in flight"
                    ) from exc
                if recover and isinstance(exc, SessionExpiredError):
                    lost = "the server no longer knows the session"
                elif recover and idempotent and isinstance(exc, ConnectionLostError):
                    lost = "the connection was lost"
                elif recover and revision is not None and revision.refused(exc):
                    refused = True
                else:
                    raise
            finally:
                waiting = self._waiting
                waiting.pop(request.id, None)
                if not waiting:
                    waiting.clear()  # frees the table, as for calls above
                if progress is not None:
                    self.dispatcher.remove_progress(request_id)
            if lost is not None:
                # The new session is part of this call: it counts against its timeout.
                timeout = await self._within(
                    method, timeout, started, lambda: self._reinitialize(generation, lost),
                    "while starting a new session",
                )
                return await self._exchange(
                    method, params, timeout=timeout, headers=headers, progress=progress,
                    idempotent=idempotent, options=options,
                )
            if refused:
                return await self._send_refused_again(
                    method, params, timeout, headers, progress, idempotent, options, started,
                )
            if type(reply) is Response:
                result = reply.result
                if revision is not None and revision.incomplete(result):
                    return await self._not_complete(
                        method, params, result, timeout, headers, progress, idempotent,
                        options, started,
                    )
                return result
            assert isinstance(reply, ErrorResponse)
            error = jsonrpc.error_to_exception(reply)
            if recover and revision is not None and revision.refused(error):
                return await self._send_refused_again(
                    method, params, timeout, headers, progress, idempotent, options, started,
                )
            raise error
        except asyncio.CancelledError:
            if self._closed and self._cancelled_by_close(task):
                raise ClientStateError(
                    f"the client was closed with {method!r} in flight"
                ) from None
            raise
        finally:
            depth = calls[task] - 1
            if depth:
                calls[task] = depth
            else:
                del calls[task]
                if not calls:
                    calls.clear()  # frees the table (del keeps it): an idle client holds none
                cancelled = self._close_cancelled
                if cancelled is not None and task in cancelled:  # its cancellation was swallowed
                    cancelled.discard(task)
                    task.uncancel()

    async def _send_refused_again(
        self,
        method: str,
        params: dict[str, Any] | None,
        timeout: Timeout | None,
        headers: Mapping[str, str] | None,
        progress: ProgressCallback | None,
        idempotent: bool,
        options: RequestOptions,
        started: float,
    ) -> dict[str, Any]:
        """Send a request once more after a ``-32022`` that lists the very version it
        carried (e.g. one node of a fleet mid-upgrade): the server did not run it, and
        the spec's fallback table allows the retry. Within the call's timeout; a second
        refusal is raised."""
        timeout = await self._within(method, timeout, started, _nothing, "before a re-send")
        return await self._exchange(
            method, params, timeout=timeout, headers=headers, progress=progress,
            idempotent=idempotent, options=options,
        )

    async def _not_complete(
        self,
        method: str,
        params: dict[str, Any] | None,
        result: dict[str, Any],
        timeout: Timeout | None,
        headers: Mapping[str, str] | None,
        progress: ProgressCallback | None,
        idempotent: bool,
        options: RequestOptions,
        started: float,
    ) -> dict[str, Any]:
        """A stateless-era result whose ``resultType`` is not ``"complete"``: drive the
        input rounds, hand back what an extension claimed, or raise."""
        kind = result.get("resultType")
        if type(kind) is not str:  # an object or array would not even hash
            raise UnknownResultTypeError(method, kind)
        if kind in self._result_types:
            return result
        if kind != "input_required" or method not in modern.INPUT_METHODS:
            raise UnknownResultTypeError(method, kind)
        if options.allow_input_required:
            return result
        if options.on_input_round is not None:
            options.on_input_round(method)  # tells the response cache
        total = (timeout or self._default_timeout or Timeout()).total
        round_options = replace(options, allow_input_required=True)
        started += asyncio.get_running_loop().time() - _monotonic()  # onto loop time

        def send(round_params: dict[str, Any]) -> Awaitable[dict[str, Any]]:
            left = timeout
            if total is not None:
                remaining = started + total - asyncio.get_running_loop().time()
                if remaining <= 0:
                    raise ReadTimeout(f"{method!r} ran out of its timeout between input rounds")
                base = timeout or self._default_timeout or Timeout()
                read = None if base.read is None else min(base.read, remaining)
                left = Timeout(total=remaining, connect=base.connect, read=read)
            return self._exchange(
                method, round_params, timeout=left, headers=headers, progress=progress,
                idempotent=idempotent, options=round_options, recover=True,
            )

        return await drive_rounds(
            method, params or {}, result, send, self.dispatcher,
            max_rounds=self.max_input_rounds,
            deadline=None if total is None else started + total,
        )

    def _register(self, request_id: RequestId) -> asyncio.Future[Reply]:
        waiter: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self._waiting[request_id] = waiter
        return waiter

    async def _send_and_wait(self, exchange: Exchange) -> None:
        """The innermost step of the policy chain: send, then wait for the reply.

        A retried attempt goes out under a new id (the server may still be working on
        the old one, which is cancelled), with the same progress token.
        """
        request, call, sent = exchange.payload
        if sent:
            self._waiting.pop(request.id, None)
            self.cancel(request.id, "the request is being retried")
            request = Request(self._ids.next(), request.method, request.params)
            call = call._replace(waiter=self._register(request.id))
            on_request_id = exchange.options.on_request_id
            if on_request_id is not None:
                on_request_id(request.id)
        exchange.payload = (request, call, True)
        deadline = exchange.deadline
        if deadline is not None and deadline <= asyncio.get_running_loop().time():
            raise ReadTimeout(f"{request.method!r} ran out of its timeout before this attempt")
        await self.transport.request(request, call)
        if not call.waiter.done():
            await self._wait(call.waiter, request.method, request.id, call.timeout, deadline)
        exchange.reply = call.waiter.result()

    def _target(self) -> str:
        transport = self.transport
        url = getattr(transport, "url", None)
        if isinstance(url, str):
            return url
        return f"{transport.kind}:{getattr(transport, 'name', '') or transport.kind}"

    async def _wait(
        self,
        waiter: asyncio.Future[Reply],
        method: str,
        request_id: RequestId,
        timeout: Timeout | None,
        deadline: float | None = None,
    ) -> None:
        """Wait for a reply that travels on a stream (stdio, legacy SSE, the GET stream).

        The wait lasts ``timeout.read`` if set, else ``timeout.total`` (the client's
        default timeout if ``timeout`` is None), and never past ``deadline`` (loop time:
        the end of a call whose policies may retry it); then ``waiter`` fails with
        ReadTimeout. Waits of a second or more are checked together by one timer
        (:class:`~mcp_async.session.deadlines.Deadlines`) instead of one timer per request.
        """
        timeout = timeout or self._default_timeout
        total = None
        if timeout is not None:
            total = timeout.read if timeout.read is not None else timeout.total
        if deadline is not None:
            left = deadline - asyncio.get_running_loop().time()
            total = left if total is None else min(total, left)
        timer = None
        if total is not None:
            if total >= COARSE_FROM:
                self._deadlines.track(waiter, total)
            else:
                timer = asyncio.get_running_loop().call_later(total, expire, waiter)
        try:
            await waiter
        except ReadTimeout:
            raise timed_out(method, request_id, total) from None
        finally:
            if timer is not None:
                timer.cancel()
            elif total is not None:
                self._deadlines.forget(waiter)

    def _retry_option_chain(self) -> NextStep | None:
        """The chain of requests with a per-call ``retry`` option (built on first use)."""
        if self._retry_policies is None:
            return self._chain
        if self._retry_chain is None:
            self._retry_chain = build_chain(self._retry_policies, self._send_and_wait)
        return self._retry_chain


async def _nothing() -> None:
    """A step that takes no time (for :meth:`Connecting._within`)."""
