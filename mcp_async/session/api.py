"""The public session API: what features (listen, tasks, the cache, tracing) use of a client.

A feature never reaches into the client facade. It gets a :class:`Session` (the
client's ``client.session``, which :class:`~mcp_async.session.engine.SessionEngine`
implements) and uses only what is named here: send a request or a notification, register
a router for incoming messages, read the negotiated version and what the server said of
itself, look a tool up in the client's catalogue, and ask for server push. So a feature
works the same for an :class:`~mcp_async.AsyncMCPClient`, a group's members and the
blocking client, whose ``aclient`` is an ``AsyncMCPClient``.

Two things a session cannot know by itself are lent to it by its owner (the facade), as
a :class:`SessionOwner`: the tool catalogue (fetched once, kept up to date) and when
server push (the handshake era's GET stream) is wanted.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from .._config import Timeout
    from ..protocol.jsonrpc import RequestId
    from ..protocol.models import InitializeResult, Tool
    from ..transports.options import RequestOptions
    from .dispatch import Dispatcher, ProgressCallback

__all__ = ["Session", "SessionLookup", "SessionOwner"]

_Router = TypeVar("_Router")


class SessionOwner(Protocol):
    """What the owner of a session (the client facade) lends the features built on it."""

    @property
    def timeout(self) -> Timeout:
        """The owner's default timeout for requests, as it is now."""

    async def tool(self, name: str) -> Tool | None:
        """The tool ``name`` from the owner's catalogue (fetched once for all callers);
        ``None`` when the server has no such tool."""

    def want_push(self) -> None:
        """Something needs server push from now on (handshake era: the GET stream)."""

    async def await_push(self) -> None:
        """As :meth:`want_push`, then wait briefly for the push stream to be answered."""


class Session(Protocol):
    """One client's MCP session, as features use it.

    Requests and notifications go through the client's whole message-policy chain;
    ``router`` registers a feature's handlers for incoming messages once per session.
    """

    @property
    def connected(self) -> bool:
        """Whether the era is settled (and, in the handshake era, the session is up)."""

    @property
    def default_timeout(self) -> Timeout:
        """The client's default timeout for requests."""

    @property
    def protocol_version(self) -> str | None:
        """The negotiated protocol version, in either era (``None`` before)."""

    @property
    def stateless_version(self) -> str | None:
        """The 2026-07-28 (or later) version in use; ``None`` in the handshake era and
        before the era is settled."""

    @property
    def result(self) -> InitializeResult | None:
        """What the server said of itself (``initialize`` or ``server/discover``), with
        its capabilities; ``None`` before it did."""

    @property
    def session_id(self) -> str | None:
        """The server-assigned session id (``Mcp-Session-Id``), if any."""

    @property
    def dispatcher(self) -> Dispatcher:
        """Where incoming notifications and server requests are routed (progress
        callbacks, handlers, the client's answers to input requests)."""

    async def connect(self) -> None:
        """Settle the era and run the handshake if it needs one (single flight)."""

    def require_result(self) -> InitializeResult:
        """:attr:`result`, or a clear :class:`~mcp_async.ClientStateError` without one."""

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
        options: RequestOptions = ...,
    ) -> Awaitable[dict[str, Any]]:
        """Send one request through the policy chain; await it for its result object."""

    async def notify(self, method: str, params: dict[str, Any] | None) -> None:
        """Send a notification (after the handshake)."""

    def expects(self, request_id: RequestId) -> bool:
        """Whether a request with this id is waiting for its reply."""

    def finish(self, request_id: RequestId, result: dict[str, Any]) -> bool:
        """End the waiting request ``request_id`` with ``result``, as if the server had
        answered it (for a request the server ended another way, such as a listen it
        cancelled); ``False`` when nothing waits for it."""

    def router(self, make: Callable[[Dispatcher], _Router]) -> _Router:
        """The router ``make(dispatcher)`` builds, made once per session and then
        shared (a feature registers its handlers for incoming messages in it)."""

    def call_scope(self, what: str) -> AbstractContextManager[None]:
        """Mark the current task as inside a call while it waits outside a request:
        closing the client then ends the wait with :class:`~mcp_async.ClientStateError`."""

    async def tool(self, name: str) -> Tool | None:
        """The tool ``name`` from the client's catalogue; see :class:`SessionOwner`."""

    def want_push(self) -> None:
        """Something needs server push from now on; see :class:`SessionOwner`."""

    async def await_push(self) -> None:
        """Ask for server push and wait briefly for it; see :class:`SessionOwner`."""


#: ``() -> the session, or None`` (none yet, or its client is gone): how a policy made
#: before its session reads the session's facts later (see mcp_async.tracing).
SessionLookup = Callable[[], "Session | None"]
