"""The session engine: one MCP session over any :class:`MessageTransport`.

The engine owns everything about a session that does not depend on how messages
travel. Each job has its own module, and :class:`SessionEngine` stacks them:

* :mod:`.replies`: **one table** from request id to the future waiting for its reply,
  fed by whichever stream the reply arrives on (a POST reply, the GET stream, the
  legacy SSE stream, a process's stdout); the dispatch of server requests and
  notifications to the :class:`Dispatcher`; cancellation
  (``notifications/cancelled``) and the calls that closing the client ends;
* :mod:`.connecting`: the protocol era, chosen once and single-flight (see :mod:`.era`):
  the ``initialize`` handshake, re-run when the transport reports that the server forgot
  the session or the connection was lost; or the stateless 2026-07-28 era;
* :mod:`.exchange`: the request path: the message-policy chain, progress tokens,
  MCP-level deadlines that progress pushes back (:mod:`.deadlines`), and the input
  rounds (MRTR) of the stateless era, whose requests each carry a ``_meta`` envelope;
* this module: construction, the session API for features (:mod:`.api`) and closing.

It never imports aiohttp and never sees an HTTP type.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Mapping, MutableMapping, Sequence
from typing import Any, TypeVar

from .._config import DEFAULT_TIMEOUT, Timeout
from .._exceptions import ClientStateError
from ..protocol import jsonrpc
from ..protocol.jsonrpc import Notification, RequestId
from ..protocol.models import DiscoverResult, InitializeResult, Tool
from ..transports.message import MessageTransport, Reply
from .api import SessionOwner
from .deadlines import Deadlines
from .dispatch import Dispatcher
from .era import parse_protocol
from .exchange import Exchanging
from .policy_chain import MessagePolicy, NextStep, build_chain
from .revisions import Revision

__all__ = ["SessionEngine"]

_Router = TypeVar("_Router")

_current_task = asyncio.current_task


class SessionEngine(Exchanging):
    """The MCP state of one client: negotiated version, waiting requests, handlers."""

    __slots__ = ("_routers", "owner")

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
        self._deadlines = Deadlines()
        self._closed = False
        #: The tasks inside a call (with how deeply), and those that closing cancelled.
        self._calls: dict[asyncio.Task[Any] | None, int] = {}
        self._close_cancelled: set[asyncio.Task[Any]] | None = None
        #: What the client lends the features built on this session (see
        #: mcp_async.session.api): its tool catalogue and server push. Set by the client.
        self.owner: SessionOwner | None = None
        self._routers: dict[Callable[[Dispatcher], Any], Any] | None = None
        transport.bind(self)


    # -- notifications -----------------------------------------------------------------
    async def notify(self, method: str, params: dict[str, Any] | None) -> None:
        """Send a notification (after the handshake)."""
        if not self.connected:
            await self.connect()
        await self.transport.send(Notification(method, params))


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
