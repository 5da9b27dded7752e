"""Wire details the test server's front ends share: revisions, JSON-RPC errors, list
cursors and the reply encodings that faults can garble (HTTP error replies are in
:mod:`~mcp_async.testing.http_replies`)."""

from __future__ import annotations

import base64
import functools
import json
from collections.abc import Sequence
from typing import Any, Final

from ..protocol.jsonrpc import (
    INTERNAL_ERROR,
    INVALID_PARAMS,
    ErrorResponse,
    Message,
    Notification,
    Request,
    Response,
    encode,
)
from ..protocol.mcp import JSON_CONTENT_TYPE, SSE_CONTENT_TYPE, SUPPORTED_VERSIONS, media_type

#: JSON-RPC code of the body sent with HTTP 404 for an unknown session.
SESSION_NOT_FOUND: Final = -32001
#: The revision of the legacy HTTP+SSE transport, the oldest the server speaks.
LEGACY_VERSION: Final = "2024-11-05"
#: Every handshake revision the server knows, newest first.
HANDSHAKE_VERSIONS: Final = ("2025-11-25", "2025-06-18", "2025-03-26", LEGACY_VERSION)
#: The stateless revisions ``eras=`` may name (see mcp_async.testing.modern).
STATELESS_VERSIONS: Final = ("2026-07-28",)
#: What each transport accepts in ``initialize`` by default; the first is the fallback.
DEFAULT_VERSIONS: Final[dict[str, tuple[str, ...]]] = {
    "http": SUPPORTED_VERSIONS,
    "sse": (LEGACY_VERSION, *HANDSHAKE_VERSIONS[:-1]),
    "stdio": HANDSHAKE_VERSIONS,
}

#: Compact JSON, as the server writes it.
dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode


class RPCError(Exception):
    """Raised by a method handler: answer the request with this JSON-RPC error."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data



def text_block(text: str) -> dict[str, Any]:
    """A text content block."""
    return {"type": "text", "text": text}


def encode_cursor(kind: str, offset: int) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{offset}".encode()).decode("ascii")


def decode_cursor(kind: str, cursor: Any, total: int) -> int:
    try:
        decoded = base64.urlsafe_b64decode(cursor.encode("ascii")).decode("ascii")
        got_kind, _, offset_text = decoded.partition(":")
        offset = int(offset_text)
    except (AttributeError, ValueError):
        offset, got_kind = -1, ""
    if got_kind != kind or not 0 <= offset <= total:
        raise RPCError(INVALID_PARAMS, "Invalid cursor", {"cursor": cursor})
    return offset


@functools.lru_cache(maxsize=64)
def accepts_both(accept: str) -> bool:
    types_ = {media_type(part) for part in accept.split(",")}
    return JSON_CONTENT_TYPE in types_ and SSE_CONTENT_TYPE in types_


def negotiate(params: dict[str, Any] | None, versions: Sequence[str]) -> str:
    """The client's ``protocolVersion`` if among ``versions``, else the first of them."""
    requested = (params or {}).get("protocolVersion")
    return requested if isinstance(requested, str) and requested in versions else versions[0]


def wrong_id(reply: Response | ErrorResponse) -> Response | ErrorResponse:
    rid = reply.id
    if rid is None:  # an id-less error has no request to mismatch
        return reply
    new_id: str | int = rid + 1_000_000 if isinstance(rid, int) else f"{rid}-wrong"
    if isinstance(reply, Response):
        return Response(new_id, reply.result)
    return ErrorResponse(new_id, reply.code, reply.message, reply.data)


def encode_one(reply: Response | ErrorResponse) -> bytes:
    try:
        return encode(reply)
    except (TypeError, ValueError) as exc:
        return encode(ErrorResponse(reply.id, INTERNAL_ERROR, f"result is not JSON: {exc}"))


def primary(messages: Sequence[Message | None]) -> tuple[str | None, str | None]:
    """The method and ``params.name`` faults match against."""
    for message in messages:
        if isinstance(message, Request | Notification):
            name = (message.params or {}).get("name")
            return message.method, name if isinstance(name, str) else None
    return None, None
