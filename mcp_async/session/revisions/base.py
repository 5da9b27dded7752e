"""The interface every protocol revision implements (see :mod:`mcp_async.session.revisions`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any, Protocol

from ...protocol.models import DiscoverResult, InitializeResult, ServerCapabilities
from ...transports.message import MessageTransport
from ...transports.wire import WireRules
from ..portable import SessionState

__all__ = ["ClientFacts", "Revision", "Send"]

#: How a revision sends one request while it starts a session (no recovery, no
#: envelope: the engine's bare exchange).
Send = Callable[[str, "dict[str, Any] | None"], Awaitable[dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class ClientFacts:
    """What the client says of itself, read by a revision when it starts.

    ``extension_capabilities`` is the engine's own (mutable) table of the 2026
    extensions the client handles; a revision reads it when the server's offer is known.
    """

    client_info: Mapping[str, Any]
    capabilities: Mapping[str, Any]
    extension_capabilities: MutableMapping[str, Any]
    log_level: str | None = None


class Revision(Protocol):
    """Everything that differs between two protocol revisions.

    The engine, the tasks feature, the facade and (through :attr:`wire`) the transports
    ask the revision in use instead of testing which era it is. A new revision is one
    module that implements this and is listed in :data:`mcp_async.session.revisions.REVISIONS`.
    """

    #: The protocol version in use (for the handshake: the one offered until the server
    #: answers, then the negotiated one).
    version: str
    #: What the server said of itself (``initialize``, or ``server/discover`` in that
    #: shape); ``None`` while unknown.
    result: InitializeResult | None
    #: The ``server/discover`` result, in a revision that has one.
    discovered: DiscoverResult | None

    @property
    def verdict(self) -> str:
        """What the era verdict cache remembers for a server that speaks this revision."""

    @property
    def wire(self) -> WireRules:
        """What the transport must do for this revision (headers, sessions)."""

    @property
    def cancels_by_abort(self) -> bool:
        """Whether closing a request's response stream cancels it (on a transport that
        aborts to cancel), instead of ``notifications/cancelled``."""

    @property
    def listens_by_request(self) -> bool:
        """Whether ``listen`` is a ``subscriptions/listen`` request (else the session's
        notifications plus ``resources/subscribe``)."""

    @property
    def tasks_by_result(self) -> bool:
        """Whether the server may run any ``tools/call`` as a task on its own (a
        ``resultType`` of ``"task"``), so no tool needs a look before the call."""

    async def start(self, send: Send, transport: MessageTransport) -> None:
        """Begin a session: the ``initialize`` handshake, or nothing (a stateless revision
        knows all it needs); tells ``transport`` the :attr:`wire` rules."""

    async def ready(self, transport: MessageTransport) -> None:
        """The session is up: open what only a started session may open."""

    def resume(self, state: SessionState, transport: MessageTransport, keep_open: bool) -> None:
        """Continue the exported session ``state`` instead of starting one."""

    def portable(self, transport: MessageTransport) -> tuple[str | None, Mapping[str, Any] | None]:
        """The session id and the server's self-description to export."""

    def stamp(self, method: str, params: dict[str, Any] | None) -> dict[str, Any] | None:
        """``params`` as the request carries them (the 2026 ``_meta`` envelope)."""

    def incomplete(self, result: Mapping[str, Any]) -> bool:
        """Whether ``result`` is not final as it stands (a ``resultType`` to act on)."""

    def refused(self, error: BaseException) -> bool:
        """Whether ``error`` refused the request's version while naming it (``-32022``):
        the server did not run it, and it may be sent once more."""

    def unsupported(self, method: str) -> str | None:
        """Why ``method`` has no meaning in this revision (what to do instead), or
        ``None`` when it exists."""

    def set_log_level(self, level: str) -> None:
        """Later requests ask for log messages at ``level`` (where requests carry it)."""

    def task_form(self, capabilities: ServerCapabilities) -> str | None:
        """The task wire form the server offers (``"2025-11-25"``, ``"2026"``) or ``None``."""

    def param_headers(
        self, annotations: Mapping[tuple[str, ...], str], arguments: Mapping[str, Any] | None
    ) -> dict[str, str] | None:
        """A ``tools/call``'s ``Mcp-Param-*`` headers over HTTP; ``None`` if this revision
        has none."""

    def tool_problem(self, schema: Any) -> str | None:
        """Why a tool with ``schema`` must not be used over HTTP, or ``None``."""

    async def discover(self, fetch: Callable[[], Awaitable[dict[str, Any]]]) -> DiscoverResult:
        """``server/discover`` (sent by ``fetch``) and what it offers from now on."""

    def undescribed(self) -> str:
        """Why the server has not described itself yet (for a clear error)."""
