"""Change tracking in both protocol eras: ``async with client.listen(...) as events``.

MCP 2026-07-28 has ``subscriptions/listen``: a request whose reply stream carries an
acknowledgement, then the change notifications the client asked for, each tagged with
``_meta["io.modelcontextprotocol/subscriptionId"]`` (the listen request's id). Over HTTP
the stream is the POST's SSE reply; over stdio messages of all listens interleave and
are told apart by that id. Leaving the block ends the request (closing the stream on
HTTP, ``notifications/cancelled`` on stdio).

The handshake era has no such request: the same API is built on the notifications of
the session (the GET stream on HTTP) plus ``resources/subscribe`` for the URIs, gated on
the server's capabilities, and undone on exit.

Either way the caller sees typed events, a bounded buffer (a consumer that falls
behind gets :class:`~mcp_async.SubscriptionLostError`, never unbounded memory), and
:class:`Resynced` after a re-listen (``reconnect=True``) so that it refetches.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from .._config import Timeout
from .._exceptions import MCPClientError, ReadTimeout, SubscriptionLostError, TransportError
from ..protocol.jsonrpc import RequestId
from ..transports.options import RequestOptions

if TYPE_CHECKING:
    from ..session.api import Session
    from ..session.dispatch import Dispatcher

__all__ = [
    "ListenEvent",
    "ListenFilter",
    "Listening",
    "PromptsListChanged",
    "ResourceUpdated",
    "ResourcesListChanged",
    "Resynced",
    "ToolsListChanged",
]

logger = logging.getLogger("mcp_async")

SUBSCRIPTION_META: Final = "io.modelcontextprotocol/subscriptionId"
_ACK = "notifications/subscriptions/acknowledged"
_TOOLS = "notifications/tools/list_changed"
_PROMPTS = "notifications/prompts/list_changed"
_RESOURCES = "notifications/resources/list_changed"
_UPDATED = "notifications/resources/updated"


@dataclass(frozen=True, slots=True)
class ToolsListChanged:
    """The server's tool list changed: list the tools again."""


@dataclass(frozen=True, slots=True)
class PromptsListChanged:
    """The server's prompt list changed."""


@dataclass(frozen=True, slots=True)
class ResourcesListChanged:
    """The server's resource list (and templates) changed."""


@dataclass(frozen=True, slots=True)
class ResourceUpdated:
    """The resource ``uri`` (or one under a subscribed URI) changed: read it again."""

    uri: str


@dataclass(frozen=True, slots=True)
class Resynced:
    """The listen was re-established after its stream dropped. Events in between are
    lost (the spec has no replay): refetch whatever you track."""


ListenEvent = (
    ToolsListChanged | PromptsListChanged | ResourcesListChanged | ResourceUpdated | Resynced
)


@dataclass(frozen=True, slots=True)
class ListenFilter:
    """Which changes a listen covers (asked for, or acknowledged by the server)."""

    tools: bool = False
    prompts: bool = False
    resources: bool = False
    resource_uris: tuple[str, ...] = ()

    def to_wire(self) -> dict[str, Any]:
        """The ``SubscriptionFilter`` of a ``subscriptions/listen`` request."""
        wire: dict[str, Any] = {}
        if self.tools:
            wire["toolsListChanged"] = True
        if self.prompts:
            wire["promptsListChanged"] = True
        if self.resources:
            wire["resourcesListChanged"] = True
        if self.resource_uris:
            wire["resourceSubscriptions"] = list(self.resource_uris)
        return wire

    @classmethod
    def from_wire(cls, data: Any) -> ListenFilter:
        """Read a ``SubscriptionFilter`` (what an acknowledgement says is honoured)."""
        if not isinstance(data, Mapping):
            return cls()
        uris = data.get("resourceSubscriptions")
        return cls(
            tools=data.get("toolsListChanged") is True,
            prompts=data.get("promptsListChanged") is True,
            resources=data.get("resourcesListChanged") is True,
            resource_uris=tuple(u for u in uris if isinstance(u, str))
            if isinstance(uris, list) else (),
        )


class _End:
    """The listen ended gracefully (a final result, or the server cancelled it)."""


_END: Final = _End()


def _event(method: str, params: Mapping[str, Any]) -> ListenEvent | None:
    if method == _TOOLS:
        return ToolsListChanged()
    if method == _PROMPTS:
        return PromptsListChanged()
    if method == _RESOURCES:
        return ResourcesListChanged()
    if method == _UPDATED:
        uri = params.get("uri")
        return ResourceUpdated(uri) if isinstance(uri, str) else None
    return None


class ListenRouter:
    """Routes change notifications to the open listens of one client.

    Made once per session (``session.router(ListenRouter)``) on its dispatcher: a
    notification tagged with a
    subscription id goes to that listen; an untagged one (the handshake era's session
    notifications) goes to every handshake-era listen.
    """

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.by_id: dict[RequestId, Listening] = {}
        self.untagged: set[Listening] = set()
        for method in (_TOOLS, _PROMPTS, _RESOURCES, _UPDATED, _ACK):
            dispatcher.on(method, self._handler(method))
        dispatcher.on("notifications/cancelled", self._cancelled)

    def _handler(self, method: str) -> Any:
        async def route(params: dict[str, Any]) -> None:
            meta = params.get("_meta")
            tag = meta.get(SUBSCRIPTION_META) if isinstance(meta, Mapping) else None
            if tag is not None:
                listen = self.by_id.get(tag) if isinstance(tag, str | int) else None
                if listen is None:
                    logger.debug("ignoring %s for unknown subscription %r", method, tag)
                elif method == _ACK:
                    listen.acknowledge(params.get("notifications"))
                else:
                    listen.deliver(_event(method, params))
                return
            if method != _ACK:
                event = _event(method, params)
                for listen in list(self.untagged):
                    if listen.wants(event):
                        listen.deliver(event)

        return route

    async def _cancelled(self, params: dict[str, Any]) -> None:
        request_id = params.get("requestId")
        listen = self.by_id.get(request_id) if isinstance(request_id, str | int) else None
        if listen is not None:
            listen.ended_by_server()


class Listening:
    """An open listen: ``async for event in listening`` yields :data:`ListenEvent` s.

    Made by :meth:`AsyncMCPClient.listen <mcp_async.AsyncMCPClient.listen>` (``session``
    gives the client's :class:`~mcp_async.session.api.Session` when the listen starts);
    use it as an async context manager.
    ``acknowledged`` is the :class:`ListenFilter` the server honours (in the handshake
    era: what its capabilities allow).
    """

    def __init__(
        self,
        session: Callable[[], Session],
        wanted: ListenFilter,
        *,
        reconnect: bool,
        max_buffered: int,
        ack_timeout: float | None,
    ) -> None:
        self._session = session
        self.wanted = wanted
        self.acknowledged: ListenFilter | None = None
        self._reconnect = reconnect
        self._max_buffered = max_buffered
        self._ack_timeout = ack_timeout
        self._buffer: deque[ListenEvent | _End] = deque()
        self._pending: set[ListenEvent] = set()
        self._wakeup = asyncio.Event()
        self._failure: BaseException | None = None
        self._acked = asyncio.Event()
        self._request_id: RequestId | None = None
        self._task: asyncio.Task[dict[str, Any]] | None = None
        self._router: ListenRouter | None = None
        self._subscribed: list[str] = []
        self._closing = False
        self._relistening: asyncio.Task[None] | None = None

    # -- what the router calls ---------------------------------------------------------
    def acknowledge(self, notifications: Any) -> None:
        """The server acknowledged the listen (its first message)."""
        self.acknowledged = ListenFilter.from_wire(notifications)
        if self.acknowledged != self.wanted:
            logger.info("the server honours only part of the listen: asked for %s, got %s",
                        self.wanted, self.acknowledged)
        self._acked.set()

    def deliver(self, event: ListenEvent | None) -> None:
        """Buffer one event (an identical pending one is not buffered twice)."""
        if event is None or self._failure is not None or event in self._pending:
            return
        if len(self._buffer) >= self._max_buffered:
            self._fail(SubscriptionLostError(
                f"the listener fell {self._max_buffered} events behind; events were dropped "
                "(re-list what you track and listen again)"
            ))
            return
        self._pending.add(event)
        self._buffer.append(event)
        self._wakeup.set()

    def ended_by_server(self) -> None:
        """The server cancelled the listen: a graceful end."""
        self._end()
        if self._request_id is not None:
            self._session().finish(self._request_id, {})

    # -- life ----------------------------------------------------------------------------
    async def __aenter__(self) -> Listening:
        session = self._session()
        if not session.connected:
            await session.connect()
        self._router = session.router(ListenRouter)
        if session.stateless_version is not None:
            await self._listen()
        else:
            await session.await_push()  # its notifications come on the GET stream
            await self._follow_session()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """End the listen: close its request (modern era) or undo the subscriptions."""
        self._closing = True
        relistening, self._relistening = self._relistening, None
        if relistening is not None and not relistening.done():
            relistening.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await relistening
        router = self._router
        if router is not None:
            router.untagged.discard(self)
            if self._request_id is not None:
                router.by_id.pop(self._request_id, None)
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, MCPClientError):
                await task
        subscribed, self._subscribed = self._subscribed, []
        for uri in subscribed:
            try:
                await self._session().request(
                    "resources/unsubscribe", {"uri": uri}, idempotent=True
                )
            except MCPClientError as exc:
                logger.debug("could not unsubscribe from %s: %s", uri, exc)
        self._end()

    # -- the 2026-07-28 era ----------------------------------------------------------------
    async def _listen(self) -> None:
        assert self._router is not None
        router = self._router
        self._acked.clear()

        def remember(request_id: RequestId) -> None:
            if self._request_id is not None:
                router.by_id.pop(self._request_id, None)
            self._request_id = request_id
            router.by_id[request_id] = self

        session = self._session()
        # The stream lasts until either side ends it: no total or read timeout.
        connect = session.default_timeout.connect
        self._task = asyncio.ensure_future(session.request(
            "subscriptions/listen", {"notifications": self.wanted.to_wire()},
            timeout=Timeout(total=None, connect=connect, read=None),
            options=RequestOptions(on_request_id=remember),
        ))
        self._task.add_done_callback(self._request_done)
        waits: list[asyncio.Future[Any]] = [asyncio.ensure_future(self._acked.wait()), self._task]
        try:
            done, _ = await asyncio.wait(
                waits, timeout=self._ack_timeout, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            waits[0].cancel()
        if self._acked.is_set():
            return
        task, self._task = self._task, None
        if task in done:
            error = task.exception()
            if error is not None:
                raise error
            raise SubscriptionLostError("the server ended the listen before acknowledging it")
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, MCPClientError):
            await task
        raise ReadTimeout(
            f"the server did not acknowledge subscriptions/listen within {self._ack_timeout}s"
        )

    def _request_done(self, task: asyncio.Task[dict[str, Any]]) -> None:
        if task is not self._task or self._closing:
            return
        if task.cancelled():
            return
        error = task.exception()
        if error is None:
            self._end()  # a final result: the server ended the listen gracefully
        elif isinstance(error, TransportError) and self._reconnect and self._acked.is_set():
            self._relistening = asyncio.ensure_future(self._relisten(error))
        else:
            self._fail(SubscriptionLostError(f"the listen stream was lost: {error}"), cause=error)

    async def _relisten(self, error: BaseException) -> None:
        logger.info("listen stream lost (%s); listening again", error)
        try:
            await self._listen()
        except MCPClientError as exc:
            self._fail(SubscriptionLostError(f"the listen stream was lost and could not be "
                                        f"re-established: {exc}"), cause=exc)
            return
        self._pending.discard(Resynced())
        self.deliver(Resynced())

    # -- the handshake era -----------------------------------------------------------------
    async def _follow_session(self) -> None:
        assert self._router is not None
        session = self._session()
        capabilities = session.require_result().capabilities
        uris = self.wanted.resource_uris if capabilities.supports_resource_subscribe else ()
        self.acknowledged = ListenFilter(
            tools=self.wanted.tools and capabilities.tools_list_changed,
            prompts=self.wanted.prompts and capabilities.prompts_list_changed,
            resources=self.wanted.resources and capabilities.resources_list_changed,
            resource_uris=uris,
        )
        self._router.untagged.add(self)
        for uri in uris:
            await session.await_push()  # the updates come on the GET stream
            await session.request("resources/subscribe", {"uri": uri}, idempotent=True)
            self._subscribed.append(uri)

    # -- iteration ---------------------------------------------------------------------
    def __aiter__(self) -> Listening:
        return self

    async def __anext__(self) -> ListenEvent:
        while True:
            if self._failure is not None:
                raise self._failure
            if self._buffer:
                item = self._buffer.popleft()
                if isinstance(item, _End):
                    self._buffer.appendleft(item)
                    raise StopAsyncIteration
                self._pending.discard(item)
                return item
            self._wakeup.clear()
            await self._wakeup.wait()

    def wants(self, event: ListenEvent | None) -> bool:
        """Whether an untagged (handshake-era) event is one this listen asked for."""
        wanted = self.wanted
        if isinstance(event, ToolsListChanged):
            return wanted.tools
        if isinstance(event, PromptsListChanged):
            return wanted.prompts
        if isinstance(event, ResourcesListChanged):
            return wanted.resources
        if isinstance(event, ResourceUpdated):
            return any(event.uri == uri or event.uri.startswith(uri.rstrip("/") + "/")
                       for uri in wanted.resource_uris)
        return False

    def _end(self) -> None:
        if not self._buffer or not isinstance(self._buffer[-1], _End):
            self._buffer.append(_END)
        self._wakeup.set()

    def _fail(self, error: BaseException, cause: BaseException | None = None) -> None:
        if self._failure is None:
            if cause is not None:
                error.__cause__ = cause
            self._failure = error
            self._buffer.clear()
            self._pending.clear()
        self._wakeup.set()
        task = self._task
        if task is not None and not task.done():
            task.cancel()
