"""Connecting a session: the protocol era, settled once and single-flight.

:class:`Connecting` chooses the era (see :mod:`.era`: pinned, remembered, or the
``protocol="auto"`` probe), has the :class:`~mcp_async.session.revisions.Revision` start
the session (the ``initialize`` handshake, or the stateless 2026-07-28 era), re-runs it
when the transport reports that the server forgot the session or the connection was
lost, and bounds all of it by the total timeout of the call that is waiting.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from time import monotonic as _monotonic
from typing import TYPE_CHECKING, Any, Literal

from .._config import Timeout
from .._exceptions import ClientStateError, ReadTimeout
from ..protocol import mcp
from ..protocol.models import DiscoverResult, InitializeResult
from ..transports.options import NO_OPTIONS, RequestOptions
from .era import LEGACY, ProbeMark, negotiate, probe_request
from .portable import SessionState
from .replies import ReplyTable
from .revisions import ClientFacts, Revision, for_version

if TYPE_CHECKING:
    from .dispatch import ProgressCallback

__all__ = ["Connecting"]

_current_task = asyncio.current_task

logger = logging.getLogger("mcp_async")


class Connecting(ReplyTable):
    """The era and the handshake of a :class:`~mcp_async.session.engine.SessionEngine`
    (which sets every attribute declared here)."""

    #: A session to continue instead of the next handshake (see :meth:`resume`); set
    #: on the instance only when resuming, so most engines never hold it.
    _resume: SessionState | None = None

    __slots__ = (
        "_capabilities",
        "_client_info",
        "_default_timeout",
        "_generation",
        "_init_task",
        "_log_level",
        "_mode",
        "_pinned",
        "_probe_timeout",
        "_verdict",
        "_verdict_key",
        "_verdicts",
        "discovered",
        "extension_capabilities",
        "protocol_version",
        "result",
    )

    _mode: Literal["auto", "legacy", "pinned"]
    _pinned: str | None
    _verdicts: MutableMapping[str, str] | None
    _verdict_key: str | None
    _verdict: str | None
    _log_level: str | None
    _probe_timeout: float
    _client_info: Mapping[str, Any]
    _capabilities: dict[str, Any]
    _default_timeout: Timeout | None
    _generation: int
    _init_task: asyncio.Task[None] | None
    discovered: DiscoverResult | None
    extension_capabilities: dict[str, Any]
    protocol_version: str | None
    result: InitializeResult | None

    if TYPE_CHECKING:
        # The request path (mcp_async.session.exchange), which runs the probe and the
        # handshake's requests.
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
        ) -> dict[str, Any]: ...

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
        ) -> Awaitable[dict[str, Any]]: ...

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
        if self._mode == "legacy" or not self.transport.capabilities.stateless_era:
            return LEGACY  # e.g. legacy SSE servers, which predate the stateless era
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
        streams = self.transport.capabilities.probe_timeout_is_legacy
        revision = await negotiate(self._probe, self._start, self._facts(),
                                   stream_transport=streams)
        self._remember(revision.verdict)

    async def _probe(self, version: str) -> dict[str, Any]:
        params, headers = probe_request(self._facts(), version)
        streams = self.transport.capabilities.probe_timeout_is_legacy
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


def _quietly(task: asyncio.Task[None]) -> None:
    if not task.cancelled():
        task.exception()  # marks it read: the waiters got it, or gave up
