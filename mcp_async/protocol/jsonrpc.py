"""JSON-RPC 2.0 messages: frozen message types, encoding, decoding and error mapping.

Pure code: no I/O, no asyncio. Decoding is strict about what JSON-RPC requires
(``jsonrpc: "2.0"``, the right members for each message kind) and tolerant of
unknown members, which later protocol revisions may add.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import orjson

from .._exceptions import (
    HeaderMismatchError,
    InvalidJSONError,
    JSONRPCError,
    MissingClientCapabilityError,
    UnsupportedProtocolVersionError,
)

__all__ = [
    "INTERNAL_ERROR",
    "INVALID_PARAMS",
    "INVALID_REQUEST",
    "METHOD_NOT_FOUND",
    "PARSE_ERROR",
    "RESOURCE_NOT_FOUND",
    "ErrorResponse",
    "IdAllocator",
    "Message",
    "Notification",
    "Request",
    "RequestId",
    "Response",
    "decode",
    "encode",
    "encode_request",
    "error_to_exception",
    "parse_message",
]

PARSE_ERROR: Final = -32700
INVALID_REQUEST: Final = -32600
METHOD_NOT_FOUND: Final = -32601
INVALID_PARAMS: Final = -32602
INTERNAL_ERROR: Final = -32603
RESOURCE_NOT_FOUND: Final = -32002

RequestId = str | int

_strict_dumps = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), allow_nan=False
).encode


def _dumps(obj: Any) -> bytes:
    """Compact UTF-8 JSON, with the standard library's strictness at orjson's speed."""
    try:
        out = orjson.dumps(obj)
    except orjson.JSONEncodeError:
        # Non-string keys, integers beyond 64 bits, ...: the standard library either
        # accepts them or raises the TypeError/ValueError callers expect.
        return _strict_dumps(obj).encode()
    if b"null" in out:
        # orjson writes NaN and the infinities as null; the standard library refuses them.
        return _strict_dumps(obj).encode()
    return out


_loads = orjson.loads


@dataclass(frozen=True, slots=True)
class Request:
    """A request: expects a :class:`Response` or :class:`ErrorResponse` with the same id."""

    id: RequestId
    method: str
    params: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the wire form of the message."""
        out: dict[str, Any] = {"jsonrpc": "2.0", "id": self.id, "method": self.method}
        if self.params is not None:
            out["params"] = self.params
        return out


@dataclass(frozen=True, slots=True)
class Notification:
    """A one-way message: no id, no answer."""

    method: str
    params: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the wire form of the message."""
        out: dict[str, Any] = {"jsonrpc": "2.0", "method": self.method}
        if self.params is not None:
            out["params"] = self.params
        return out


@dataclass(frozen=True, slots=True)
class Response:
    """A successful answer to the request with the same id."""

    id: RequestId
    result: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """Return the wire form of the message."""
        return {"jsonrpc": "2.0", "id": self.id, "result": self.result}


@dataclass(frozen=True, slots=True)
class ErrorResponse:
    """A failed answer. ``id`` is ``None`` when the server could not tell which request failed."""

    id: RequestId | None
    code: int
    message: str
    data: Any = None

    def to_dict(self) -> dict[str, Any]:
        """Return the wire form of the message."""
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return {"jsonrpc": "2.0", "id": self.id, "error": error}


Message = Request | Notification | Response | ErrorResponse


class IdAllocator:
    """Hands out request ids that are unique for the life of a client (1, 2, 3, ...)."""

    __slots__ = ("next",)

    def __init__(self) -> None:
        #: Return a fresh id (the counter's own C method: no Python frame per request).
        self.next: Callable[[], int] = itertools.count(1).__next__


def encode(message: Message) -> bytes:
    """Serialise one message to UTF-8 JSON bytes.

    Raises ``TypeError``/``ValueError`` (from :mod:`json`) for params that are not JSON.
    """
    return _dumps(message.to_dict())


def encode_request(request_id: RequestId, method: str, params: dict[str, Any] | None) -> bytes:
    """Serialise a request without building a :class:`Request` first (the hot path)."""
    out: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
    if params is not None:
        out["params"] = params
    return _dumps(out)


def decode(body: bytes | str) -> Message | list[Message]:
    """Decode a body holding one message or (2025-03-26) a batch array of messages."""
    try:
        obj = _loads(body)
    except ValueError as exc:  # orjson.JSONDecodeError, also for nesting beyond 1024
        raise InvalidJSONError(f"body is not valid JSON: {exc}") from exc
    if isinstance(obj, list):
        if not obj:
            raise InvalidJSONError("empty JSON-RPC batch")
        return [parse_message(item) for item in obj]
    return parse_message(obj)


def load_document(body: bytes | str) -> Any:
    """Decode a JSON document that is not JSON-RPC (a plain reply, an OAuth document).

    Invalid JSON raises ``ValueError`` as :func:`json.loads` does; nesting deep enough to
    exhaust the interpreter's recursion raises :class:`InvalidJSONError` instead of
    letting ``RecursionError`` out.
    """
    try:
        return json.loads(body)
    except RecursionError:
        raise InvalidJSONError("the JSON document is nested too deeply to decode") from None


def _check_id(value: Any) -> RequestId:
    if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise InvalidJSONError(f"JSON-RPC id must be a string or integer, got {value!r}")


def _check_params(value: Any, method: str) -> dict[str, Any] | None:
    if value is None or isinstance(value, dict):
        return value
    raise InvalidJSONError(f"params of {method!r} must be an object, got {type(value).__name__}")


def parse_message(obj: Any) -> Message:
    """Turn one decoded JSON value into a message, or raise :class:`InvalidJSONError`."""
    if type(obj) is dict and "result" in obj and "method" not in obj:
        # The common message, a successful response, checked without the general path.
        result = obj["result"]
        rid = obj.get("id")
        if (type(result) is dict and (type(rid) is int or type(rid) is str)
                and obj.get("jsonrpc") == "2.0"):
            return _response(rid, result)
    if not isinstance(obj, dict):
        raise InvalidJSONError(f"JSON-RPC message must be an object, got {type(obj).__name__}")
    if obj.get("jsonrpc") != "2.0":
        raise InvalidJSONError('JSON-RPC message lacks "jsonrpc": "2.0"')
    method = obj.get("method")
    if method is not None:
        if not isinstance(method, str):
            raise InvalidJSONError("JSON-RPC method must be a string")
        params = _check_params(obj.get("params"), method)
        if "id" in obj:
            return Request(_check_id(obj["id"]), method, params)
        return Notification(method, params)
    if "result" in obj:
        result = obj["result"]
        if not isinstance(result, dict):
            raise InvalidJSONError("JSON-RPC result must be an object for MCP")
        return Response(_check_id(obj.get("id")), result)
    error = obj.get("error")
    if isinstance(error, dict):
        code = error.get("code")
        message = error.get("message")
        if not isinstance(code, int) or isinstance(code, bool) or not isinstance(message, str):
            raise InvalidJSONError("JSON-RPC error needs an integer code and a string message")
        raw_id = obj.get("id")
        return ErrorResponse(
            None if raw_id is None else _check_id(raw_id), code, message, error.get("data")
        )
    raise InvalidJSONError("object is neither a JSON-RPC request, notification nor response")


def _response(
    rid: RequestId,
    result: dict[str, Any],
    _new: Callable[[type[Response]], Response] = object.__new__,
    _id: Any = Response.__dict__["id"].__set__,
    _result: Any = Response.__dict__["result"].__set__,
) -> Response:
    # Response(rid, result) with its slots filled directly: a frozen dataclass's
    # __init__ pays an object.__setattr__ per field, twice this on the hot path.
    response = _new(Response)
    _id(response, rid)
    _result(response, result)
    return response


def new_request(
    rid: RequestId,
    method: str,
    params: dict[str, Any] | None,
    _new: Callable[[type[Request]], Request] = object.__new__,
    _id: Any = Request.__dict__["id"].__set__,
    _method: Any = Request.__dict__["method"].__set__,
    _params: Any = Request.__dict__["params"].__set__,
) -> Request:
    """``Request(rid, method, params)`` at half the cost (one per call on the hot path)."""
    request = _new(Request)
    _id(request, rid)
    _method(request, method)
    _params(request, params)
    return request


def error_to_exception(error: ErrorResponse) -> JSONRPCError:
    """Build the exception raised to callers for a JSON-RPC error response (the typed
    subclass for the codes MCP 2026-07-28 defines)."""
    kind = _ERRORS_BY_CODE.get(error.code, JSONRPCError)
    return kind(error.code, error.message, error.data)


_ERRORS_BY_CODE: dict[int, type[JSONRPCError]] = {
    -32020: HeaderMismatchError,
    -32021: MissingClientCapabilityError,
    -32022: UnsupportedProtocolVersionError,
}
