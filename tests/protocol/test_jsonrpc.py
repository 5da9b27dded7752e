"""JSON-RPC codec: table-driven decoding, encoding and error mapping (pure)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mcp_async import InvalidJSONError, JSONRPCError
from mcp_async.protocol import jsonrpc
from mcp_async.protocol.jsonrpc import ErrorResponse, Notification, Request, Response


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        ({"jsonrpc": "2.0", "id": 1, "method": "ping"}, Request(1, "ping")),
        ({"jsonrpc": "2.0", "id": "a", "method": "m", "params": {"x": 1}},
         Request("a", "m", {"x": 1})),
        ({"jsonrpc": "2.0", "method": "notifications/progress", "params": {"p": 1}},
         Notification("notifications/progress", {"p": 1})),
        ({"jsonrpc": "2.0", "id": 7, "result": {}}, Response(7, {})),
        ({"jsonrpc": "2.0", "id": 7, "result": {"k": [1]}, "extra": True}, Response(7, {"k": [1]})),
        ({"jsonrpc": "2.0", "id": 3, "error": {"code": -32601, "message": "nope"}},
         ErrorResponse(3, -32601, "nope")),
        ({"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "parse", "data": 1}},
         ErrorResponse(None, -32700, "parse", 1)),
    ],
)
def test_decode_valid_messages(wire: dict[str, Any], expected: jsonrpc.Message) -> None:
    assert jsonrpc.decode(json.dumps(wire).encode()) == expected


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
        (b"[]", "empty"),
        (b"42", "must be an object"),
        (b'{"id": 1, "result": {}}', "jsonrpc"),
        (b'{"jsonrpc": "1.0", "id": 1, "result": {}}', "jsonrpc"),
        (b'{"jsonrpc": "2.0", "id": 1.5, "result": {}}', "id must be"),
        (b'{"jsonrpc": "2.0", "id": true, "result": {}}', "id must be"),
        (b'{"jsonrpc": "2.0", "id": 1, "result": [1]}', "result must be an object"),
        (b'{"jsonrpc": "2.0", "id": 1, "method": 5}', "method must be a string"),
        (b'{"jsonrpc": "2.0", "id": 1, "method": "m", "params": [1]}', "params"),
        (b'{"jsonrpc": "2.0", "id": 1, "error": {"code": "x", "message": "m"}}', "integer code"),
        (b'{"jsonrpc": "2.0", "id": 1}', "neither"),
    ],
)
def test_decode_rejects_invalid_messages(body: bytes, problem: str) -> None:
    with pytest.raises(InvalidJSONError, match=problem):
        jsonrpc.decode(body)


def test_batch_array_is_decoded_in_order() -> None:
    body = b'[{"jsonrpc":"2.0","method":"n"},{"jsonrpc":"2.0","id":2,"result":{}}]'
    assert jsonrpc.decode(body) == [Notification("n"), Response(2, {})]


@pytest.mark.parametrize(
    "message",
    [
        Request(1, "tools/call", {"name": "é", "arguments": {"x": [1, None]}}),
        Request("id-1", "ping"),
        Notification("notifications/initialized"),
        Response(5, {"tools": []}),
        ErrorResponse(5, -32602, "bad", {"field": "x"}),
        ErrorResponse(None, -32700, "parse"),
    ],
)
def test_encode_round_trips(message: jsonrpc.Message) -> None:
    assert jsonrpc.decode(jsonrpc.encode(message)) == message


def test_encode_request_matches_encode() -> None:
    params = {"name": "add", "arguments": {"a": 1}}
    assert jsonrpc.encode_request(4, "tools/call", params) == jsonrpc.encode(
        Request(4, "tools/call", params)
    )
    assert b" " not in jsonrpc.encode_request(1, "ping", None)


def test_encode_refuses_non_json() -> None:
    with pytest.raises(TypeError):
        jsonrpc.encode_request(1, "m", {"x": object()})
    with pytest.raises(ValueError):
        jsonrpc.encode_request(1, "m", {"x": float("inf")})


def test_error_to_exception_keeps_code_message_data() -> None:
    exc = jsonrpc.error_to_exception(ErrorResponse(1, -32002, "Resource not found", {"uri": "u"}))
    assert isinstance(exc, JSONRPCError)
    assert (exc.code, exc.message, exc.data) == (-32002, "Resource not found", {"uri": "u"})


def test_id_allocator_is_monotonic() -> None:
    ids = jsonrpc.IdAllocator()
    assert [ids.next() for _ in range(3)] == [1, 2, 3]
