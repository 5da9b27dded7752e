"""The session engine: one MCP session over any :class:`MessageTransport`.

The engine owns everything about a session that does not depend on how messages
travel:

* id allocation and **one table** from request id to the future waiting for its reply,
  fed by whichever stream the reply arrives on (a POST reply, the GET stream, the
  legacy SSE stream, a process's stdout);
* the dispatch of server requests and notifications to the :class:`Dispatcher`;
* progress tokens, cancellation (``notifications/cancelled`` on timeout or when the
  caller is cancelled) and MCP-level deadlines that progress pushes back;
* the protocol era, chosen once and single-flight (see :mod:`.era`): the
  ``initialize`` handshake, re-run when the transport reports that the server forgot
  the session or the connection was lost; or the stateless 2026-07-28 era, whose
  requests each carry a ``_meta`` envelope and whose input rounds (MRTR) it drives.

It never imports aiohttp and never sees an HTTP type.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import (
    Awaitable,
    Callable,
    Collection,
    Iterator,
    Mapping,
    MutableMapping,
    Sequence,
)
from dataclasses import replace
from time import monotonic as _monotonic
from typing import Any, TypeVar

from .._config import DEFAULT_TIMEOUT, Timeout
from .._exceptions import (
    ClientStateError,
    ConnectionLostError,
    MCPClientError,
    ReadTimeout,
    SessionExpiredError,
    UnknownResultTypeError,
)
from ..protocol import jsonrpc, mcp, modern
from ..protocol.jsonrpc import ErrorResponse, Message, Notification, Request, RequestId, Response
from ..protocol.models import DiscoverResult, InitializeResult, ProgressNotification, Tool
from ..transports.message import Call, MessageTransport, Reply
from ..transports.options import NO_OPTIONS, AttemptRecord, RequestOptions
from .api import SessionOwner
from .dispatch import Dispatcher, ProgressCallback
from .era import LEGACY, ProbeMark, negotiate, parse_protocol, probe_request
from .input_required import drive_rounds
from .policy_chain import Exchange, MessagePolicy, NextStep, build_chain
from .portable import SessionState
from .revisions import ClientFacts, Revision, for_version

__all__ = ["SessionEngine"]

_Router = TypeVar("_Router")

_Future = asyncio.Future
_current_task = asyncio.current_task
_new_call = tuple.__new__

logger = logging.getLogger("mcp_async")


class SessionEngine:
    """The MCP state of one client: negotiated version, waiting requests, handlers."""

    #: A session to continue instead of the next handshake (see :meth:`resume`); set
    #: on the instance only when resuming, so most engines never hold it.
    _resume: SessionState | None = None

    # Slots: a gateway holds thousands of engines, and an instance dict of more than 30
    # keys is not key-shared (about 1.5 KB each). ``__dict__`` keeps any other attribute.
    __slots__ = (
        "__dict__",
        "__weakref__",
        "_background",
        "_calls",
        "_capabilities",
        "_chain",
        "_client_info",
        "_close_cancelled",
        "_closed",
        "_deadlines",
        "_default_timeout",
        "_generation",
        "_ids",
        "_init_task",
        "_log_level",
        "_mode",
        "_pinned",
        "_probe_timeout",
        "_result_types",
        "_retry_chain",
        "_retry_policies",
        "_routers",
        "_verdict",
        "_verdict_key",
        "_verdicts",
        "_waiting",
        "connected",
        "discovered",
        "dispatcher",
        "extension_capabilities",
        "max_input_rounds",
        "owner",
        "protocol_version",
        "result",
        "revision",
        "transport",
    )

    def __init__(
        self,
        transport: MessageTransport,
        *,
        client_info: Mapping[str, Any],
        capabilities: Mapping[str, Any],
        dispatcher: Dispatcher,
        default_timeout: Timeout | None = None,
        policies: Sequence[MessagePolicy] = (),
        retry_option_policies: Sequence[MessagePolicy] | None = None,
        protocol: str = "auto",
        verdicts: MutableMapping[str, str] | None = None,
        verdict_key: str | None = None,
        log_level: str | None = None,
        result_types: Collection[str] = (),
        max_input_rounds: int = 10,
        probe_timeout: float = 10.0,
    ) -> None:
        self.transport = transport
        self._mode, self._pinned = parse_protocol(protocol)
        # Era verdicts shared by clients of one server (per origin on HTTP), and this
        # engine's own (kept across reconnects: a restarted process is the same server).
        self._verdicts = verdicts
        self._verdict_key = verdict_key
        self._verdict: str | None = None
        self._log_level = log_level
        self._result_types = frozenset(result_types)
        self.max_input_rounds = max_input_rounds
        self._probe_timeout = probe_timeout
        #: The protocol revision in use (see mcp_async.session.revisions); ``None``
        #: until the era is settled.
        self.revision: Revision | None = None
        self.discovered: DiscoverResult | None = None
        #: 2026 extensions the client handles (id -> settings), declared in requests'
        #: capabilities when the server's ``server/discover`` offers them.
        self.extension_capabilities: dict[str, Any] = {}
        # Message-level policies (see mcp_async.policies.base); requests with a per-call
        # ``retry`` option take the second chain, which also holds the retry stand-in
        # (built on first use: few clients ever pass one, and a gateway holds thousands).
        self._chain = build_chain(policies, self._send_and_wait) if policies else None
        self._retry_policies = retry_option_policies or None
        self._retry_chain: NextStep | None = None
        self._client_info = client_info  # (the client's own copy: not copied again)
        self._capabilities = dict(capabilities)
        self.dispatcher = dispatcher
        self._default_timeout = default_timeout
        self._ids = jsonrpc.IdAllocator()
        self._waiting: dict[RequestId, asyncio.Future[Reply]] = {}
        self.protocol_version: str | None = None
        self.result: InitializeResult | None = None
        #: Whether the era is settled (and, in the handshake era, the session is up).
        #: A plain attribute: it is read on every call.
        self.connected = False
        #: Counts handshakes, so that concurrent failures re-initialize only once.
        self._generation = 0
        self._init_task: asyncio.Task[None] | None = None
        # (These two sets are made on first use: an empty set takes 216 bytes, and a
        # gateway holds thousands of engines that may never need them.)
        self._background: set[asyncio.Task[None]] | None = None
        self._deadlines = _Deadlines()
        self._closed = False
        #: The tasks inside a call (with how deeply), and those that closing cancelled.
        self._calls: dict[asyncio.Task[Any] | None, int] = {}
        self._close_cancelled: set[asyncio.Task[Any]] | None = None
        #: What the client lends the features built on this session (see
        #: mcp_async.session.api): its tool catalogue and server push. Set by the client.
        self.owner: SessionOwner | None = None
        self._routers: dict[Callable[[Dispatcher], Any], Any] | None = None
        transport.bind(self)

    # -- era and handshake ------------------------------------------------------------
    async def connect(self) -> None:
        """Settle the era and run the handshake if it needs one (single flight).

        The wait lasts at most the client's total timeout, even when the probe, the
        handshake and the transport's own connecting would each take that long.
        """
        if not self.connected:
            await self._within("initialize", None, _monotonic(), self._join_connect,
                               "while connecting to the server")

    async def connect_within(self, method: str, timeout: Timeout | None) -> Timeout | None:
        """Connect (if needed) for a call of ``method`` about to start with ``timeout``
        (``None``: the client's): connecting counts against the call's total timeout.
        Returns what is left of it for the rest of the call."""
        if self.connected:
            return timeout
        return await self._connect_within(method, timeout, _monotonic())

    async def connect_for_call(
        self, method: str, timeout: Timeout | None, reset: bool, max_total: float | None
    ) -> tuple[Timeout | None, float | None]:
        """:meth:`connect_within` for a call with ``reset_timeout_on_progress`` (``reset``)
        or ``max_total_timeout``: returns what is left of both. With ``reset`` the timeout
        is one of inactivity and starts once connected; ``max_total`` (if given, else
        the client's timeout) bounds connecting."""
        if self.connected:
            return timeout, max_total
        started = _monotonic()
        if reset:
            await self._within(method, None if max_total is None else Timeout(total=max_total),
                               started, self._join_connect, "while connecting to the server")
        else:
            timeout = await self._connect_within(method, timeout, started)
        if max_total is not None:
            max_total -= _monotonic() - started
            if max_total <= 0:
                raise ReadTimeout(f"{method!r} ran out of its max_total_timeout while connecting")
        return timeout, max_total

    async def _connect_within(
        self, method: str, timeout: Timeout | None, started: float
    ) -> Timeout | None:
        """Connect for a call that began at ``started`` (``time.monotonic``): the probe,
        the handshake and any wait for the transport count against the call's own total
        timeout. Returns what is left of that timeout."""
        return await self._within(method, timeout, started, self._join_connect,
                                  "while connecting to the server")

    def _start_connecting(self) -> asyncio.Task[None]:
        task = asyncio.ensure_future(self._connect())
        # Its failure reaches whoever waits (through shield); once all of them have
        # given up (their own timeouts, closing), nobody is left to read it.
        task.add_done_callback(_quietly)
        task.add_done_callback(self._connecting_done)
        return task

    def _connecting_done(self, task: asyncio.Task[None]) -> None:
        """Drop a finished attempt (a done one counts as none; a gateway holds thousands
        of engines, and a done task with its frames is a few hundred bytes each)."""
        if self._init_task is task:
            self._init_task = None

    async def _join_connect(self) -> None:
        """Start connecting, or join the attempt under way, and wait for it to end."""
        if self._closed:
            raise ClientStateError("the client was closed")
        task = self._init_task
        if task is None or task.done():  # done: it failed, or its session was lost since
            task = self._init_task = self._start_connecting()
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            # Closing cancels the handshake; who waits for it gets the typed error.
            if self._closed and self._cancelled_by_close(_current_task()):
                raise ClientStateError("the client was closed while connecting") from None
            raise

    async def _within(
        self,
        method: str,
        timeout: Timeout | None,
        started: float,
        step: Callable[[], Awaitable[None]],
        what: str,
    ) -> Timeout | None:
        """Run ``step`` within what is left of the total timeout of a call that began
        at ``started``; return the timeout left for the rest of the call."""
        base = timeout or self._default_timeout
        total = None if base is None else base.total
        if base is None or total is None:
            await step()
            return timeout
        left = started + total - _monotonic()
        if left > 0:
            scope = asyncio.timeout(left)
            try:
                async with scope:
                    await step()
            except TimeoutError:
                if not scope.expired():
                    raise
            left = started + total - _monotonic()
        if left <= 0:
            raise ReadTimeout(f"{method!r} ran out of its {total}s timeout {what}")
        read = None if base.read is None else min(base.read, left)
        return Timeout(total=left, connect=base.connect, read=read)

    @contextlib.contextmanager
    def call_scope(self, what: str) -> Iterator[None]:
        """Mark the current task as inside a call while it waits outside a request (a
        feature's poll interval, say): closing the client then ends the wait at once
        with :class:`~mcp_async.ClientStateError`, as it does for requests in flight."""
        task = _current_task()
        calls = self._calls
        calls[task] = calls.get(task, 0) + 1
        try:
            if self._closed:
                raise ClientStateError(f"the client was closed; {what} stopped")
            yield
        except asyncio.CancelledError:
            if self._closed and self._cancelled_by_close(task):
                raise ClientStateError(f"the client was closed during {what}") from None
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
                if cancelled is not None and task in cancelled:
                    cancelled.discard(task)
                    task.uncancel()

    def _cancelled_by_close(self, task: asyncio.Task[Any] | None) -> bool:
        """Whether the cancellation ``task`` is seeing comes from closing the client
        alone (not from its own caller too); closing's own cancellation is undone."""
        if task is None:
            return True
        cancelled = self._close_cancelled
        if cancelled is not None and task in cancelled:
            cancelled.discard(task)
            task.uncancel()
        return task.cancelling() == 0

    async def initialize(self) -> InitializeResult:
        """Connect and return what the server says of itself: the ``initialize`` result,
        or in the stateless era the ``server/discover`` result in the same shape."""
        await self.connect()
        if self.result is None:  # stateless era, pinned: no probe ran
            await self.discover()
        assert self.result is not None
        return self.result

    def _facts(self) -> ClientFacts:
        """What the client says of itself, for the next revision."""
        return ClientFacts(self._client_info, self._capabilities,
                           self.extension_capabilities, self._log_level)

    async def _connect(self) -> None:
        self.connected = False
        self.result = None
        self.revision = None
        self.protocol_version = None
        await self.transport.prepare()
        known = self._known_era()
        resumed, self._resume = self._resume, None
        if resumed is not None:
            self._restore(resumed)
        elif known is not None:
            version = mcp.LATEST_VERSION if known == LEGACY else known
            await self._start(for_version(self._facts(), version, self.discovered))
        else:
            await self._negotiate()
        self._generation += 1
        self.connected = True
        assert self.revision is not None
        await self.revision.ready(self.transport)
        self.transport = self.transport.resolved()

    async def _start(self, revision: Revision) -> None:
        """Start a session at ``revision`` and take what it learnt."""
        await revision.start(self._exchange, self.transport)
        self._took(revision)

    def _took(self, revision: Revision) -> None:
        """``revision`` is in use: take what it knows of the server."""
        self.revision = revision
        self.protocol_version = revision.version
        self.result = revision.result
        if revision.discovered is not None:
            self.discovered = revision.discovered

    def _known_era(self) -> str | None:
        """The version (or ``"legacy"``) to use without a probe, if already known."""
        if self._mode == "legacy" or self.transport.kind == "sse":
            return LEGACY  # legacy SSE servers predate the stateless era
        if self._pinned is not None:
            return self._pinned
        if self._verdict is not None:
            return self._verdict
        if self._verdicts is not None and self._verdict_key is not None:
            return self._verdicts.get(self._verdict_key)
        return None

    def resume(self, state: SessionState, *, keep_open: bool = True) -> None:
        """Continue ``state``'s session at the next connect, without a handshake or a
        probe (if the server no longer knows it, the usual new session follows).
        ``keep_open``: closing leaves that session open on the server."""
        if self.connected:
            raise ClientStateError("the session is already up; resume before connecting")
        adopt = getattr(self.transport, "adopt_session", None)
        if state.session_id is not None and adopt is None:
            raise ClientStateError(f"a {self.transport.kind} transport cannot resume a session")
        self._resume = state
        self._keep_open = keep_open
        # Known at once, before the first exchange: what the server said of itself.
        self.protocol_version = state.protocol_version
        self.result = state.initialize_result()

    def _restore(self, state: SessionState) -> None:
        revision = for_version(self._facts(), state.protocol_version)
        revision.resume(state, self.transport, self._keep_open)
        self._took(revision)
        self._remember(revision.verdict)

    def _remember(self, verdict: str) -> None:
        self._verdict = verdict
        if self._verdicts is not None and self._verdict_key is not None:
            self._verdicts[self._verdict_key] = verdict

    async def _negotiate(self) -> None:
        """``protocol="auto"``: probe with ``server/discover``, or fall back to the handshake."""
        streams = self.transport.kind in ("stdio", "memory")
        revision = await negotiate(self._probe, self._start, self._facts(),
                                   stream_transport=streams)
        self._remember(revision.verdict)

    async def _probe(self, version: str) -> dict[str, Any]:
        params, headers = probe_request(self._facts(), version)
        streams = self.transport.kind in ("stdio", "memory")
        total = self._probe_timeout
        if self._default_timeout is not None and self._default_timeout.total is not None:
            # Connecting counts against the first call's timeout. Over a stream a probe
            # that times out means "run the handshake", which needs the other half;
            # over HTTP it is an error, and may take the whole timeout.
            budget = self._default_timeout.total
            total = min(total, budget / 2 if streams else budget)
        mark = ProbeMark(version, streams)
        return await self._exchange(
            "server/discover", params, timeout=Timeout(total=total), headers=headers,
            idempotent=True, options=RequestOptions(era_probe=mark.fell_back),
        )

    async def discover(
        self, fetch: Callable[[], Awaitable[dict[str, Any]]] | None = None
    ) -> DiscoverResult:
        """Ask a stateless-era server about itself (``server/discover``); ``fetch``
        replaces the request (the client's response cache serves it)."""
        await self.connect()
        revision = self.revision
        assert revision is not None
        discovered = await revision.discover(
            fetch or (lambda: self.request("server/discover", None, idempotent=True))
        )
        self._took(revision)  # what it offers is declared from now on
        self.transport.negotiated(revision.wire)
        return discovered

    def set_log_level(self, level: str) -> None:
        """The ``logLevel`` later stateless-era requests carry."""
        self._log_level = level
        if self.revision is not None:
            self.revision.set_log_level(level)

    async def _reinitialize(self, generation: int, why: str) -> None:
        """Start a new session after the one of ``generation`` was lost (once, whoever asks)."""
        if self._generation != generation and self.connected:
            return  # another task already replaced it
        task = self._init_task
        if task is None or task.done():
            logger.info("MCP session lost (%s); initializing a new one", why)
            self.connected = False
            task = self._init_task = self._start_connecting()
        await asyncio.shield(task)

    # -- requests ----------------------------------------------------------------------
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
        (:class:`_Deadlines`) instead of one timer per request.
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
            if total >= _COARSE_FROM:
                self._deadlines.track(waiter, total)
            else:
                timer = asyncio.get_running_loop().call_later(total, _expire, waiter)
        try:
            await waiter
        except ReadTimeout:
            raise _timed_out(method, request_id, total) from None
        finally:
            if timer is not None:
                timer.cancel()
            elif total is not None:
                self._deadlines.forget(waiter)

    # -- incoming messages ---------------------------------------------------------------
    async def receive(self, message: Message) -> None:
        """Route one incoming message; called by the transports' readers."""
        if isinstance(message, Response | ErrorResponse):
            self.resolve(message)
        elif isinstance(message, Notification):
            await self.dispatcher.notification(message)
        else:
            await self.dispatcher.submit(message, self._reply)

    def resolve(self, reply: Response | ErrorResponse) -> None:
        """Complete the request ``reply`` answers; a reply nobody waits for is logged."""
        waiter = self._waiting.get(reply.id) if reply.id is not None else None
        if waiter is None:
            logger.warning("ignoring a response nobody waits for (id %r)", reply.id)
        elif not waiter.done():
            waiter.set_result(reply)

    def connection_lost(self, error: MCPClientError) -> None:
        """Fail every waiting request with ``error``; the next call starts a new session."""
        self.connected = False
        for waiter in self._waiting.values():
            if not waiter.done():
                waiter.set_exception(error)
                waiter.exception()  # the caller may be gone; do not warn about it

    def expects(self, request_id: RequestId) -> bool:
        """Whether a request with this id is waiting for its reply."""
        return request_id in self._waiting

    def fail(self, request_id: RequestId, error: MCPClientError) -> None:
        """Fail the request ``request_id`` with ``error``, if it is still waiting."""
        waiter = self._waiting.get(request_id)
        if waiter is not None and not waiter.done():
            waiter.set_exception(error)

    async def _reply(self, answer: Response | ErrorResponse) -> None:
        try:
            await self.transport.send(answer)
        except MCPClientError as exc:
            logger.warning("could not deliver the answer to server request %r: %s",
                           answer.id, exc)

    # -- notifications -----------------------------------------------------------------
    async def notify(self, method: str, params: dict[str, Any] | None) -> None:
        """Send a notification (after the handshake)."""
        if not self.connected:
            await self.connect()
        await self.transport.send(Notification(method, params))

    def cancel(self, request_id: RequestId, reason: str) -> None:
        """Tell the server, in the background, that request ``request_id`` is abandoned.

        Not before the era is settled (``initialize`` and the probe are never
        cancelled), and not over stateless-era HTTP, where closing the request's
        response stream is the cancellation.
        """
        if not self.connected:
            return
        revision = self.revision
        if (revision is not None and revision.cancels_by_abort
                and self.transport.capabilities.cancels_by_abort):
            return
        note = Notification("notifications/cancelled", {"requestId": request_id, "reason": reason})
        self._spawn(self._quiet(self.transport.send(note)))

    @staticmethod
    async def _quiet(coro: Any) -> None:
        try:
            await coro
        except MCPClientError as exc:
            logger.debug("best-effort notification failed: %s", exc)

    def _spawn(self, coro: Any) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        if self._background is None:
            self._background = set()
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _retry_option_chain(self) -> NextStep | None:
        """The chain of requests with a per-call ``retry`` option (built on first use)."""
        if self._retry_policies is None:
            return self._chain
        if self._retry_chain is None:
            self._retry_chain = build_chain(self._retry_policies, self._send_and_wait)
        return self._retry_chain

    # -- the session API for features (mcp_async.session.api) ---------------------------
    @property
    def default_timeout(self) -> Timeout:
        """The client's default timeout for requests (its owner's, as it is now)."""
        owner = self.owner
        if owner is not None:
            return owner.timeout
        return self._default_timeout or DEFAULT_TIMEOUT

    @property
    def stateless_version(self) -> str | None:
        """The 2026-07-28 (or later) version in use; ``None`` in the handshake era and
        before the era is settled."""
        revision = self.revision
        if revision is None or revision.wire.sessions:
            return None
        return revision.version

    @property
    def session_id(self) -> str | None:
        """The server-assigned session id (``Mcp-Session-Id``), if any."""
        return self.transport.session_id

    def finish(self, request_id: RequestId, result: dict[str, Any]) -> bool:
        """End the waiting request ``request_id`` with ``result``, as if the server had
        answered it (for a request the server ended another way, such as a listen it
        cancelled); ``False`` when nothing waits for it."""
        if request_id not in self._waiting:
            return False
        self.resolve(Response(request_id, result))
        return True

    def router(self, make: Callable[[Dispatcher], _Router]) -> _Router:
        """The router ``make(dispatcher)`` builds, made once per session and then shared
        (a feature registers its handlers for incoming messages in it)."""
        routers = self._routers
        if routers is None:
            routers = self._routers = {}
        router = routers.get(make)
        if router is None:
            router = routers[make] = make(self.dispatcher)
        return router

    async def tool(self, name: str) -> Tool | None:
        """The tool ``name`` from the client's catalogue (``None``: no such tool, or no
        catalogue lent)."""
        owner = self.owner
        return None if owner is None else await owner.tool(name)

    def want_push(self) -> None:
        """Something needs server push from now on (handshake era: the GET stream)."""
        owner = self.owner
        if owner is not None:
            owner.want_push()

    async def await_push(self) -> None:
        """As :meth:`want_push`, then wait briefly for the push stream to be answered."""
        owner = self.owner
        if owner is not None:
            await owner.await_push()

    # -- shutdown ----------------------------------------------------------------------
    async def close(self) -> None:
        """Stop server-request handlers, finish background work, close the transport."""
        self._closed = True
        if self._init_task is not None and not self._init_task.done():
            self._init_task.cancel()
        # Every call in flight fails with ClientStateError at once: those waiting for a
        # reply here, and those waiting elsewhere (for a pooled connection, in a backoff
        # or a rate limit, for the handshake), whose tasks are cancelled (see _exchange).
        self.connection_lost(ClientStateError("the client was closed"))
        current = _current_task()
        if self._close_cancelled is None:
            self._close_cancelled = set()
        cancelled = self._close_cancelled
        for call_task in list(self._calls):
            if call_task is not None and call_task is not current and not call_task.done():
                cancelled.add(call_task)
                call_task.cancel()
        await self.dispatcher.cancel_all()
        if self._background:
            await asyncio.wait(list(self._background), timeout=5)
            for task in self._background:
                task.cancel()
        self._deadlines.close()
        await self.transport.close()

    def require_result(self) -> InitializeResult:
        """The handshake (or discover) result, or a clear error if there is none yet."""
        if self.result is None:
            revision = self.revision
            if revision is None:
                raise ClientStateError(
                    "the MCP handshake has not run yet: await client.initialize() first "
                    "(or make any MCP call)"
                )
            raise ClientStateError(revision.undescribed())
        return self.result


#: Timeouts at least this long are tracked coarsely (they may fire up to 2 * _SLACK late).
_COARSE_FROM = 1.0
_SLACK = 0.1


def _timed_out(method: str, request_id: RequestId, total: float | None) -> ReadTimeout:
    return ReadTimeout(f"no response to {method!r} (id {request_id!r}) within {total}s")


def _quietly(task: asyncio.Task[None]) -> None:
    if not task.cancelled():
        task.exception()  # marks it read: the waiters got it, or gave up


def _expire(waiter: asyncio.Future[Reply]) -> None:
    if not waiter.done():
        waiter.set_exception(ReadTimeout("timed out"))


class _Deadlines:
    """Coarse timeouts for many requests at once, checked ten times a second.

    A request registers its deadline and removes it when its reply arrives: two dict
    operations, against a timer's heap work per request. While any are registered, one
    timer sweeps them and fails the expired waiters with ReadTimeout (up to two tenths
    of a second late, never early).
    """

    def __init__(self) -> None:
        self._due: dict[asyncio.Future[Reply], float] = {}
        self._now = 0.0
        self._sweeper: asyncio.TimerHandle | None = None

    def track(self, waiter: asyncio.Future[Reply], seconds: float) -> None:
        if self._sweeper is None:
            loop = asyncio.get_running_loop()
            self._now = loop.time()
            self._sweeper = loop.call_later(_SLACK, self._sweep)
        self._due[waiter] = self._now + seconds + _SLACK

    def forget(self, waiter: asyncio.Future[Reply]) -> None:
        self._due.pop(waiter, None)

    def _sweep(self) -> None:
        loop = asyncio.get_running_loop()
        now = self._now = loop.time()
        expired = [waiter for waiter, due in self._due.items() if due <= now]
        for waiter in expired:
            del self._due[waiter]
            if not waiter.done():
                waiter.set_exception(ReadTimeout("timed out"))
        self._sweeper = loop.call_later(_SLACK, self._sweep) if self._due else None

    def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        self._due.clear()


async def _nothing() -> None:
    """A step that takes no time (for :meth:`SessionEngine._within`)."""
