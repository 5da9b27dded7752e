"""MCP rules that do not depend on I/O: versions, headers, content types, handshake params.

Versions are an enumerated set compared by position in :data:`SUPPORTED_VERSIONS`,
never lexicographically.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from .._exceptions import VersionMismatchError

__all__ = [
    "ACCEPT",
    "JSON_CONTENT_TYPE",
    "LAST_EVENT_ID_HEADER",
    "LATEST_VERSION",
    "PROTOCOL_VERSION_HEADER",
    "SESSION_HEADER",
    "SSE_CONTENT_TYPE",
    "SUPPORTED_VERSIONS",
    "accept_server_version",
    "initialize_params",
    "media_type",
    "request_headers",
    "sends_version_header",
]

#: Handshake revisions this client speaks, newest first. The first is offered.
SUPPORTED_VERSIONS: Final = ("2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05")
LATEST_VERSION: Final = SUPPORTED_VERSIONS[0]

ACCEPT: Final = "application/json, text/event-stream"
JSON_CONTENT_TYPE: Final = "application/json"
SSE_CONTENT_TYPE: Final = "text/event-stream"
SESSION_HEADER: Final = "Mcp-Session-Id"
PROTOCOL_VERSION_HEADER: Final = "MCP-Protocol-Version"
LAST_EVENT_ID_HEADER: Final = "Last-Event-ID"

#: From this revision on, every request after initialize carries MCP-Protocol-Version.
_VERSION_HEADER_SINCE: Final = SUPPORTED_VERSIONS.index("2025-06-18")


def accept_server_version(version: Any) -> str:
    """Return the server's chosen version if we speak it, else raise VersionMismatchError."""
    if isinstance(version, str) and version in SUPPORTED_VERSIONS:
        return version
    raise VersionMismatchError(version, SUPPORTED_VERSIONS)


def sends_version_header(version: str) -> bool:
    """Whether ``MCP-Protocol-Version`` is required for the negotiated ``version``.

    It is harmless on 2025-03-26 too, so the client sends it for every known version;
    this tells the rule, for callers that want to be strict.
    """
    return SUPPORTED_VERSIONS.index(version) <= _VERSION_HEADER_SINCE


def request_headers(session_id: str | None, protocol_version: str | None) -> dict[str, str]:
    """The MCP headers every POST/GET/DELETE after the handshake carries."""
    headers = {"Accept": ACCEPT}
    if session_id is not None:
        headers[SESSION_HEADER] = session_id
    if protocol_version is not None:
        headers[PROTOCOL_VERSION_HEADER] = protocol_version
    return headers


def initialize_params(
    client_info: Mapping[str, Any],
    capabilities: Mapping[str, Any],
    version: str = LATEST_VERSION,
) -> dict[str, Any]:
    """Params of the ``initialize`` request."""
    return {
        "protocolVersion": version,
        "capabilities": dict(capabilities),
        "clientInfo": dict(client_info),
    }


def media_type(content_type: str | None) -> str:
    """The lower-cased media type of a Content-Type header, without parameters."""
    if not content_type:
        return ""
    return content_type.split(";", 1)[0].strip().lower()
