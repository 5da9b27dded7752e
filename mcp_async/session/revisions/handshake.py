"""The handshake era (MCP 2024-11-05 to 2025-11-25): a session begins with ``initialize``.

The server keeps a session (over HTTP an ``Mcp-Session-Id``, the standalone GET stream,
resumable reply streams); requests carry no envelope; a request is cancelled with
``notifications/cancelled``; ``ping``, ``logging/setLevel``, ``resources/subscribe`` and
``notifications/roots/list_changed`` exist; tasks are the 2025-11-25 experimental form,
asked for per tool; ``listen`` follows the session's notifications.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final

from ..._exceptions import EraError
from ...protocol import mcp
from ...protocol.jsonrpc import Notification
from ...protocol.mcp import SUPPORTED_VERSIONS
from ...protocol.models import DiscoverResult, InitializeResult, ServerCapabilities
from ...transports.message import MessageTransport
from ...transports.wire import WireRules
from ..portable import SessionState
from .base import ClientFacts, Send

__all__ = ["LEGACY", "VERSIONS", "Handshake"]

logger = logging.getLogger("mcp_async")

#: The versions of this era the client speaks, newest first.
VERSIONS: Final = tuple(SUPPORTED_VERSIONS)

#: What a verdict cache stores for a server that speaks only the handshake era.
LEGACY: Final = "legacy"

#: The task wire form of this era.
TASK_FORM: Final = "2025-11-25"


class Handshake:
    """A handshake-era session, offering ``offer`` in ``initialize``."""

    __slots__ = ("_facts", "_wire", "discovered", "result", "version")

    verdict: Final = LEGACY
    cancels_by_abort: Final = False
    listens_by_request: Final = False
    tasks_by_result: Final = False

    def __init__(self, facts: ClientFacts, offer: str = mcp.LATEST_VERSION) -> None:
        self._facts = facts
        self.version = offer
        self.result: InitializeResult | None = None
        self.discovered: DiscoverResult | None = None
        self._wire = WireRules(offer)

    @property
    def wire(self) -> WireRules:
        """Sessions, no routing headers."""
        return self._wire

    async def start(self, send: Send, transport: MessageTransport) -> None:
        """``initialize``, then ``notifications/initialized``."""
        facts = self._facts
        params = mcp.initialize_params(facts.client_info, facts.capabilities, self.version)
        raw = await send("initialize", params)
        version = mcp.accept_server_version(raw.get("protocolVersion"))
        result = InitializeResult.from_dict(raw)
        self.version = version
        self._wire = WireRules(version)
        transport.negotiated(self._wire)
        await transport.send(Notification("notifications/initialized", None))
        self.result = result

    async def ready(self, transport: MessageTransport) -> None:
        """The handshake is over: the transport may open its stream for server push."""
        await transport.handshake_done()

    def resume(self, state: SessionState, transport: MessageTransport, keep_open: bool) -> None:
        """Continue the session id of ``state`` (if any), without a handshake."""
        if state.session_id is not None:
            transport.adopt_session(  # type: ignore[attr-defined]
                state.session_id, keep_open=keep_open
            )
        self.version = state.protocol_version
        self._wire = WireRules(self.version)
        transport.negotiated(self._wire)
        self.result = state.initialize_result()
        logger.info("MCP session resumed without a handshake (protocol %s)", self.version)

    def portable(self, transport: MessageTransport) -> tuple[str | None, Mapping[str, Any] | None]:
        """The session id and the ``initialize`` result."""
        assert self.result is not None
        return transport.session_id, self.result.raw

    def stamp(self, method: str, params: dict[str, Any] | None) -> dict[str, Any] | None:
        """Requests carry no envelope."""
        return params

    def incomplete(self, result: Mapping[str, Any]) -> bool:
        """Every result is final."""
        return False

    def refused(self, error: BaseException) -> bool:
        """Versions are refused in ``initialize`` only."""
        return False

    def unsupported(self, method: str) -> str | None:
        """Every method of the era exists, but ``server/discover``."""
        if method == "server/discover":
            return ("the server described itself in initialize: use client.server_info, "
                    "client.server_capabilities and client.instructions")
        return None

    def set_log_level(self, level: str) -> None:
        """Nothing to carry: ``logging/setLevel`` is a request of its own."""

    def task_form(self, capabilities: ServerCapabilities) -> str | None:
        """``"2025-11-25"`` when ``tools/call`` may be task-augmented."""
        if capabilities.tasks is not None and capabilities.supports_task_tool_calls:
            return TASK_FORM
        return None

    def param_headers(
        self, annotations: Mapping[tuple[str, ...], str], arguments: Mapping[str, Any] | None
    ) -> dict[str, str] | None:
        """No ``Mcp-Param-*`` headers in this era."""
        return None

    def tool_problem(self, schema: Any) -> str | None:
        """``x-mcp-header`` means nothing in this era."""
        return None

    async def discover(self, fetch: Callable[[], Awaitable[dict[str, Any]]]) -> DiscoverResult:
        """There is no ``server/discover`` in this era."""
        raise EraError("server/discover", self.version or "the handshake era",
                       self.unsupported("server/discover") or "")

    def undescribed(self) -> str:
        """Before ``initialize``."""
        return ("the MCP handshake has not run yet: await client.initialize() first "
                "(or make any MCP call)")
