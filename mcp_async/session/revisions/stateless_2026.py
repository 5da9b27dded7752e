"""MCP 2026-07-28, the stateless revision: no handshake, no session.

Every request carries a ``_meta`` envelope (version, client capabilities and info, the
log level asked for) and over HTTP the routing headers ``Mcp-Method``/``Mcp-Name`` (and
``Mcp-Param-*`` for annotated tool arguments); a request is cancelled by closing its
response stream where the transport can; a result may ask for input (MRTR) or be a
task the server chose; ``ping``, ``logging/setLevel``, ``resources/subscribe`` and
``notifications/roots/list_changed`` are gone; ``listen`` is ``subscriptions/listen``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final

from ..._exceptions import UnsupportedProtocolVersionError
from ...protocol import modern
from ...protocol.models import DiscoverResult, InitializeResult, ServerCapabilities
from ...transports.message import MessageTransport
from ...transports.wire import WireRules
from ..portable import SessionState
from .base import ClientFacts, Send

__all__ = ["VERSIONS", "Envelope", "Stateless2026"]

#: The versions of this revision the client speaks, newest first.
VERSIONS: Final = modern.MODERN_VERSIONS

#: The task wire form of this revision (the tasks extension).
TASK_FORM: Final = "2026"

#: Methods of the handshake era that this revision dropped, and what to do instead.
_DROPPED: Final = {
    "ping": "every request has its own timeout; to check that the server answers, "
            "await client.discover()",
    "notifications/roots/list_changed": "roots are asked for anew with each input "
                                        "request, so changed roots need no notice",
    "resources/subscribe": "follow resources with client.listen(resource_uris=[...]) instead",
    "resources/unsubscribe": "follow resources with client.listen(resource_uris=[...]) "
                             "instead",
    "logging/setLevel": "every request carries the logLevel it asks for",
}


class Envelope:
    """The ``_meta`` keys every request carries in the stateless era.

    Requests that may come back asking for input (``tools/call``, ``prompts/get``,
    ``resources/read``) declare the client's input capabilities; the others declare
    none, as no server need ask them anything.
    """

    __slots__ = ("_bare", "_full", "log_level", "version")

    def __init__(
        self,
        version: str,
        client_info: Mapping[str, Any],
        capabilities: Mapping[str, Any],
        log_level: str | None = None,
    ) -> None:
        self.version = version
        self.log_level = log_level
        info = dict(client_info)
        self._full = {
            modern.VERSION_META: version,
            modern.CAPABILITIES_META: modern.modern_capabilities(capabilities),
            modern.CLIENT_INFO_META: info,
        }
        self._bare = {
            modern.VERSION_META: version,
            modern.CAPABILITIES_META: {},
            modern.CLIENT_INFO_META: info,
        }
        if log_level is not None:
            self.set_log_level(log_level)

    def set_log_level(self, level: str) -> None:
        """Ask for ``notifications/message`` at ``level`` and above on later requests."""
        self.log_level = level
        self._full[modern.LOG_LEVEL_META] = level
        self._bare[modern.LOG_LEVEL_META] = level

    def stamp(self, method: str, params: Mapping[str, Any] | None) -> dict[str, Any]:
        """``params`` with the envelope merged into ``_meta`` (a new dict; the caller's
        own ``_meta`` keys are kept, the envelope's protocol version wins)."""
        base = self._full if method in modern.INPUT_METHODS else self._bare
        if params is None:
            return {"_meta": base.copy()}
        stamped = dict(params)
        given = params.get("_meta")
        if given:
            meta = {**base, **given}
            meta[modern.VERSION_META] = self.version
            stamped["_meta"] = meta
        else:
            stamped["_meta"] = base.copy()
        return stamped


#: The transport rules of every stateless session: no sessions, routing headers.
def _wire(version: str) -> WireRules:
    return WireRules(version, sessions=False, routing_headers=modern.routing_headers)


class Stateless2026:
    """A 2026-07-28 session at ``version``, knowing ``discovered`` (``None``: pinned,
    no probe ran)."""

    __slots__ = ("_facts", "_wire", "discovered", "envelope", "result", "stamp", "version")

    cancels_by_abort: Final = True
    listens_by_request: Final = True
    tasks_by_result: Final = True

    def __init__(
        self, facts: ClientFacts, version: str, discovered: DiscoverResult | None = None
    ) -> None:
        self._facts = facts
        self.version = version
        self._wire = _wire(version)
        self.envelope: Envelope
        self.discovered: DiscoverResult | None = None
        self.result: InitializeResult | None = None
        #: The envelope's own ``stamp`` (one call less on every request).
        self.stamp: Callable[[str, dict[str, Any] | None], dict[str, Any]]
        self._adopt(discovered)

    def _adopt(self, discovered: DiscoverResult | None) -> None:
        facts = self._facts
        capabilities = facts.capabilities
        offered = (discovered.capabilities.extensions or {}) if discovered is not None else {}
        declared = {k: v for k, v in facts.extension_capabilities.items() if k in offered}
        if declared:  # extensions the client handles, declared to servers that offer them
            extensions = {**(capabilities.get("extensions") or {}), **declared}
            capabilities = {**capabilities, "extensions": extensions}
        log_level = getattr(self, "envelope", None)
        level = facts.log_level if log_level is None else log_level.log_level
        self.envelope = Envelope(self.version, facts.client_info, capabilities, level)
        self.stamp = self.envelope.stamp
        self.discovered = discovered
        self.result = (None if discovered is None
                       else discovered.as_initialize_result(self.version))

    @property
    def verdict(self) -> str:
        """The version itself."""
        return self.version

    @property
    def wire(self) -> WireRules:
        """No sessions; ``Mcp-Method``/``Mcp-Name`` on every request."""
        return self._wire

    async def start(self, send: Send, transport: MessageTransport) -> None:
        """Nothing to send: the envelope says it all."""
        transport.negotiated(self._wire)

    async def ready(self, transport: MessageTransport) -> None:
        """Nothing to open: there is no session."""

    def resume(self, state: SessionState, transport: MessageTransport, keep_open: bool) -> None:
        """Continue with what ``state``'s ``server/discover`` said."""
        self._adopt(state.discover_result())
        transport.negotiated(self._wire)

    def portable(self, transport: MessageTransport) -> tuple[str | None, Mapping[str, Any] | None]:
        """No session id; the ``server/discover`` result, if known."""
        found = self.discovered
        return None, None if found is None else found.raw

    def incomplete(self, result: Mapping[str, Any]) -> bool:
        """A ``resultType`` other than ``"complete"`` (input rounds, a task, an
        extension's)."""
        kind: object = result.get("resultType", "complete")
        return kind != "complete"

    def refused(self, error: BaseException) -> bool:
        """A ``-32022`` whose ``supported`` lists this very version."""
        if not isinstance(error, UnsupportedProtocolVersionError):
            return False
        return bool(self.version in error.supported)

    def unsupported(self, method: str) -> str | None:
        """The handshake-era methods this revision dropped."""
        return _DROPPED.get(method)

    def set_log_level(self, level: str) -> None:
        """Later requests carry ``logLevel``."""
        self.envelope.set_log_level(level)

    def task_form(self, capabilities: ServerCapabilities) -> str | None:
        """``"2026"`` when the server offers the tasks extension."""
        return TASK_FORM if modern.TASKS_EXTENSION in (capabilities.extensions or {}) else None

    def param_headers(
        self, annotations: Mapping[tuple[str, ...], str], arguments: Mapping[str, Any] | None
    ) -> dict[str, str] | None:
        """The ``Mcp-Param-*`` headers of the annotated arguments."""
        return modern.param_headers(annotations, arguments)

    def tool_problem(self, schema: Any) -> str | None:
        """A broken ``x-mcp-header`` annotation."""
        return modern.tool_header_problem(schema)

    async def discover(self, fetch: Callable[[], Awaitable[dict[str, Any]]]) -> DiscoverResult:
        """Ask again; the extensions it offers are declared from now on."""
        discovered = DiscoverResult.from_dict(await fetch())
        self._adopt(discovered)
        return discovered

    def undescribed(self) -> str:
        """Pinned: no probe ran."""
        return (f"the server has not described itself yet (MCP {self.version} was pinned, "
                "so no probe ran): await client.discover() first")
