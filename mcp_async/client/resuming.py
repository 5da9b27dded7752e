"""Portable sessions at the facade (docs/sessions.md): a session's state exported from
an open client, and the checks of a state that a new client is to continue."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._exceptions import ClientStateError
from ..session.engine import SessionEngine
from ..session.portable import SessionState, SessionStateError

__all__ = ["export_state", "resumable"]


def export_state(engine: SessionEngine, url: str | None, *, keep_open: bool) -> SessionState:
    """The state of ``engine``'s session, for a client of ``url`` (``None``: no HTTP);
    with ``keep_open`` closing the client no longer ends the session on the server."""
    if not engine.connected or engine.protocol_version is None:
        raise ClientStateError(
            "no session to export yet: call initialize() or make a request first"
        )
    transport = engine.transport
    if url is None or not transport.capabilities.sessions:
        raise ClientStateError(
            "only Streamable HTTP sessions can be exported; this client speaks "
            f"{transport.kind}"
        )
    assert engine.revision is not None  # (connected)
    session_id, server = engine.revision.portable(transport)
    state = SessionState.capture(url, engine.protocol_version, session_id, server)
    if keep_open and state.session_id is not None:
        transport.keep_open()  # type: ignore[attr-defined]
    return state


def resumable(
    url: str, state: SessionState | Mapping[str, Any] | str | bytes, options: dict[str, Any]
) -> SessionState:
    """``state`` parsed and checked against ``url`` and the client ``options`` it is to
    be resumed with (:class:`~mcp_async.SessionStateError`); takes ``transport`` out of
    ``options``."""
    if not isinstance(url, str):
        raise SessionStateError("resume needs the server's URL (a str)")
    if isinstance(state, SessionState):
        parsed = state
    elif isinstance(state, str | bytes | bytearray):
        parsed = SessionState.from_json(state)
    else:
        parsed = SessionState.from_dict(state)
    parsed.check_endpoint(url)
    chosen = options.pop("transport", "auto")
    if chosen not in ("auto", parsed.transport):
        raise SessionStateError(
            f"the session state is a {parsed.transport} session; transport={chosen!r} "
            "cannot continue it"
        )
    protocol = options.get("protocol", "auto")
    if protocol != "auto" and (
        protocol != parsed.protocol_version
        and not (protocol == "legacy" and parsed.era == "handshake")
    ):
        raise SessionStateError(
            f"the session state speaks {parsed.protocol_version}; protocol={protocol!r} "
            "contradicts it"
        )
    return parsed
