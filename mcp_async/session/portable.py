"""Portable sessions: what another process needs to continue a session without a new
handshake (``client.export_session()`` / :meth:`AsyncMCPClient.resume`).

A :class:`SessionState` is plain JSON: the server's endpoint (without userinfo, query
or fragment), the transport, the negotiated protocol version and with it the era
verdict, the ``Mcp-Session-Id`` (handshake era; none in the 2026-07-28 era, which has
no session), and what the server said of itself (its ``initialize`` or
``server/discover`` result: server info, capabilities, instructions).

It never holds a secret the client owns: no token, no ``Authorization`` or other
header, no query string. Tokens stay in the auth storage (see docs/deployment.md). The
session id is the server's handle for the session; whoever holds it can use the
session with valid credentials, so keep exported states where you keep session data.

Reading a state is strict: anything missing, of the wrong type, unknown (a foreign
document) or of another format version raises :class:`SessionStateError` naming it.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final, Literal

from yarl import URL

from .._exceptions import ConfigError, UnexpectedResponseError
from ..protocol import modern
from ..protocol.mcp import SUPPORTED_VERSIONS
from ..protocol.models import DiscoverResult, InitializeResult

__all__ = ["FORMAT", "FORMAT_VERSION", "SessionState", "SessionStateError", "session_endpoint"]

#: The ``format`` field of every exported state.
FORMAT: Final = "mcp_async/session-state"
#: The layout version this release writes and reads.
FORMAT_VERSION: Final = 1

_FIELDS: Final = frozenset({
    "format", "version", "endpoint", "transport", "protocol_version", "era",
    "session_id", "server", "exported_at",
})
_EMPTY: Mapping[str, Any] = MappingProxyType({})


class SessionStateError(ConfigError):
    """An exported session state cannot be used: malformed, foreign, of another format
    version, or for another server than the client's (the message names what)."""


def session_endpoint(url: str) -> str:
    """The endpoint as a state records it: ``url`` without userinfo, query or fragment
    (where credentials sometimes travel)."""
    try:
        parsed = URL(url)
    except (TypeError, ValueError) as exc:
        raise SessionStateError(f"not a URL: {url!r}") from exc
    if not parsed.is_absolute() or parsed.scheme not in ("http", "https"):
        raise SessionStateError(f"session endpoint must be an http(s) URL, got {url!r}")
    return str(parsed.with_user(None).with_password(None).with_query(None).with_fragment(None))


def _valid_session_id(value: str) -> bool:
    # Spec: visible ASCII only (0x21 to 0x7E).
    return 0 < len(value) <= 1024 and all(0x21 <= ord(c) <= 0x7E for c in value)


@dataclass(frozen=True, slots=True)
class SessionState:
    """A session as exported by ``client.export_session()``; give it to
    :meth:`~mcp_async.AsyncMCPClient.resume` in this or another process.

    ``era`` is ``"handshake"`` or ``"stateless"`` (2026-07-28 and later; then
    ``session_id`` is ``None``). ``server`` is the server's own description (its
    ``initialize`` result, or its ``server/discover`` result; in the stateless era it
    may be empty when no discover ran). ``exported_at`` is epoch seconds.
    :meth:`to_json` / :meth:`from_json` convert to and from a JSON string,
    :meth:`to_dict` / :meth:`from_dict` to and from plain JSON-ready data.
    """

    endpoint: str
    protocol_version: str
    session_id: str | None = None
    server: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    transport: Literal["streamable-http"] = "streamable-http"
    exported_at: float = 0.0

    def __post_init__(self) -> None:
        _check(self)

    @property
    def era(self) -> Literal["handshake", "stateless"]:
        """``"stateless"`` for 2026-07-28 and later, else ``"handshake"``."""
        return "stateless" if modern.is_modern(self.protocol_version) else "handshake"

    def initialize_result(self) -> InitializeResult | None:
        """What the server said of itself, in ``initialize`` shape (``None``: unknown)."""
        if not self.server:
            return None
        if self.era == "stateless":
            return DiscoverResult.from_dict(self.server).as_initialize_result(
                self.protocol_version
            )
        return InitializeResult.from_dict(self.server)

    def discover_result(self) -> DiscoverResult | None:
        """In the stateless era, the ``server/discover`` result (``None`` if none)."""
        if self.era != "stateless" or not self.server:
            return None
        return DiscoverResult.from_dict(self.server)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (``format`` and ``version`` included)."""
        return {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "endpoint": self.endpoint,
            "transport": self.transport,
            "protocol_version": self.protocol_version,
            "era": self.era,
            "session_id": self.session_id,
            "server": _plain(self.server),
            "exported_at": self.exported_at,
        }

    def to_json(self) -> str:
        """The state as a compact JSON string."""
        return json.dumps(self.to_dict(), separators=(",", ":"), ensure_ascii=False,
                          allow_nan=False)

    @classmethod
    def from_dict(cls, data: object) -> SessionState:
        """Read a state from :meth:`to_dict`'s data; raises :class:`SessionStateError`."""
        if not isinstance(data, Mapping):
            raise SessionStateError(
                f"a session state must be a JSON object, got {type(data).__name__}"
            )
        kind = data.get("format")
        if kind != FORMAT:
            raise SessionStateError(
                f"not an mcp_async session state: 'format' is {kind!r}, expected {FORMAT!r}"
            )
        version = data.get("version")
        if version != FORMAT_VERSION or isinstance(version, bool):
            raise SessionStateError(
                f"session state format version {version!r} is not supported (this release "
                f"reads version {FORMAT_VERSION}); export the session again"
            )
        unknown = sorted(str(k) for k in data if k not in _FIELDS)
        if unknown:
            raise SessionStateError(f"session state has unknown fields: {', '.join(unknown)}")
        missing = sorted(k for k in _FIELDS if k not in data)
        if missing:
            raise SessionStateError(f"session state lacks fields: {', '.join(missing)}")
        exported_at = data["exported_at"]
        if isinstance(exported_at, bool) or not isinstance(exported_at, int | float):
            raise SessionStateError(
                f"session state 'exported_at' must be a number, got {exported_at!r}"
            )
        server = data["server"]
        if not isinstance(server, Mapping):
            raise SessionStateError(
                f"session state 'server' must be an object, got {type(server).__name__}"
            )
        for name in ("endpoint", "transport", "protocol_version"):
            if not isinstance(data[name], str):
                raise SessionStateError(
                    f"session state {name!r} must be a string, got {data[name]!r}"
                )
        state = cls(
            endpoint=data["endpoint"],
            protocol_version=data["protocol_version"],
            session_id=data["session_id"],
            server=MappingProxyType(dict(server)),
            transport=data["transport"],
            exported_at=float(exported_at),
        )
        if data["era"] != state.era:
            raise SessionStateError(
                f"session state 'era' is {data['era']!r}, but protocol version "
                f"{state.protocol_version!r} belongs to the {state.era!r} era"
            )
        return state

    @classmethod
    def from_json(cls, text: str | bytes) -> SessionState:
        """Read a state from :meth:`to_json`'s string; raises :class:`SessionStateError`."""
        if not isinstance(text, str | bytes | bytearray):
            raise SessionStateError(
                f"a session state in JSON must be str or bytes, got {type(text).__name__}"
            )
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise SessionStateError(f"session state is not valid JSON: {exc}") from None
        return cls.from_dict(data)

    @classmethod
    def capture(
        cls,
        url: str,
        protocol_version: str,
        session_id: str | None,
        server: Mapping[str, Any] | None,
    ) -> SessionState:
        """A state for the session of a client of ``url`` (used by ``export_session``)."""
        return cls(
            endpoint=session_endpoint(url),
            protocol_version=protocol_version,
            session_id=session_id,
            server=MappingProxyType(dict(server or {})),
            exported_at=time.time(),
        )

    def check_endpoint(self, url: str) -> None:
        """Raise :class:`SessionStateError` unless this state is a session of ``url``."""
        mine = session_endpoint(url)
        if mine != self.endpoint:
            raise SessionStateError(
                f"the session state is for {self.endpoint}, not for {mine}"
            )


def _check(state: SessionState) -> None:
    if not isinstance(state.endpoint, str):
        raise SessionStateError(f"session state 'endpoint' must be a string, got "
                                f"{state.endpoint!r}")
    if session_endpoint(state.endpoint) != state.endpoint:
        raise SessionStateError(
            "session state 'endpoint' must have no userinfo, query or fragment: "
            f"{state.endpoint!r}"
        )
    exported_at = state.exported_at
    if isinstance(exported_at, bool) or not isinstance(exported_at, int | float) or not (
        math.isfinite(exported_at)
    ):
        raise SessionStateError(
            f"session state 'exported_at' must be a number, got {exported_at!r}"
        )
    if state.transport != "streamable-http":
        raise SessionStateError(
            f"session state 'transport' is {state.transport!r}; only 'streamable-http' "
            "sessions can be resumed"
        )
    version = state.protocol_version
    if not isinstance(version, str) or not (
        modern.is_modern(version) or version in SUPPORTED_VERSIONS
    ):
        raise SessionStateError(
            f"session state 'protocol_version' {version!r} is not one this client speaks"
        )
    session_id = state.session_id
    if session_id is not None:
        if not isinstance(session_id, str) or not _valid_session_id(session_id):
            raise SessionStateError(
                "session state 'session_id' must be visible ASCII (1 to 1024 characters) "
                "or null"
            )
        if modern.is_modern(version):
            raise SessionStateError(
                f"session state has a 'session_id' but protocol version {version!r} has "
                "no sessions"
            )
    if not isinstance(state.server, Mapping):
        raise SessionStateError("session state 'server' must be an object")
    try:
        _plain(state.server)
    except (TypeError, ValueError, RecursionError) as exc:
        raise SessionStateError(f"session state 'server' is not plain JSON: {exc}") from None
    if state.server:
        try:
            state.initialize_result()
        except UnexpectedResponseError as exc:
            raise SessionStateError(
                f"session state 'server' is not the server's own description: {exc}"
            ) from None
    elif not modern.is_modern(version):
        raise SessionStateError(
            "session state 'server' is empty; a handshake-era state needs the "
            "initialize result"
        )


def _plain(value: Mapping[str, Any]) -> dict[str, Any]:
    """A deep copy of ``value`` as plain JSON data (raises on what JSON cannot hold)."""
    result = json.loads(json.dumps(dict(value), allow_nan=False))
    assert isinstance(result, dict)
    return result
