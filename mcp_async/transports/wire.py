"""What a negotiated protocol revision asks of a message transport, and what a transport
reports back about the era probe.

The session layer's revision objects (``mcp_async.session.revisions``) make a
:class:`WireRules` and hand it to :meth:`MessageTransport.negotiated`; a transport reads
its fields and never asks which revision it is. In the other direction, a transport that
can tell from its own framing that a server does not speak the stateless era (over HTTP:
the status of the refused ``server/discover``) raises :class:`NotModernServerError`, which
the probe reads as "run the handshake".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .._exceptions import HTTPStatusError

__all__ = ["NotModernServerError", "RoutingHeaders", "WireRules"]

#: Headers a request carries because of its method and params (MCP 2026-07-28 over HTTP:
#: ``Mcp-Method`` and ``Mcp-Name``).
RoutingHeaders = Callable[[str, Mapping[str, Any] | None], Mapping[str, str]]


@dataclass(frozen=True, slots=True)
class WireRules:
    """The transport-level facts of the negotiated revision.

    ``version`` is sent as ``MCP-Protocol-Version`` over HTTP. ``routing_headers`` (if
    any) adds headers to every request. ``sessions``: the server may keep a session (an
    ``Mcp-Session-Id``, the standalone GET stream, reply streams resumed with
    ``Last-Event-ID``) and the revision may run over legacy HTTP+SSE; without sessions a
    broken reply stream is a lost connection.
    """

    version: str
    sessions: bool = True
    routing_headers: RoutingHeaders | None = None


class NotModernServerError(HTTPStatusError):
    """The server refused the era probe (``server/discover``) in a way that, by the
    transport's own rules, says it does not speak the stateless era (over Streamable
    HTTP: 400, 404 or 405 without a JSON-RPC error body). The probe then runs the
    handshake; anyone catching :class:`~mcp_async.HTTPStatusError` still sees one."""

    @classmethod
    def from_status_error(cls, error: HTTPStatusError) -> NotModernServerError:
        """The same HTTP facts as ``error``, typed as the probe's outcome."""
        refused = cls(error.status, url=error.url, headers=error.headers,
                      message=str(error))
        refused.body_snippet = error.body_snippet
        return refused
