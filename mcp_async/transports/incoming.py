"""What a transport hands the engine from one SSE event, stdio line or JSON body.

A server may mix messages that cannot be routed into a good stream: a notification whose
``params`` is not an object, a response with no usable id, JSON that is not JSON-RPC at
all. :func:`routable` turns the raw text into the messages that can be routed; each one
that cannot is logged and skipped on its own, so one stray message neither ends a stream
nor decides a call (the other SDKs behave the same way). Only the awaited response
decides a call: when *it* is malformed, the call fails with
:class:`~mcp_async.InvalidJSONError`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import orjson

from .._exceptions import InvalidJSONError
from ..protocol import jsonrpc
from ..protocol.jsonrpc import ErrorResponse, Message, RequestId, Response

__all__ = ["routable"]

logger = logging.getLogger("mcp_async")


def routable(
    data: bytes | str,
    where: str,
    *,
    awaited: RequestId | None = None,
    skipped: list[InvalidJSONError] | None = None,
) -> Sequence[Message]:
    """The messages of ``data`` (one message or a batch) that can be routed.

    ``where`` names the stream in log records. Data that is not JSON is logged and gives
    no message (its error is appended to ``skipped``, if given: it may have been the
    awaited response). Each message of a batch is checked on its own: one that is not
    valid JSON-RPC is logged and skipped.

    ``awaited`` is the id of the request whose reply this is, if any. Then an error
    response without id is kept (it answers that request), and a malformed message
    carrying that id raises :class:`~mcp_async.InvalidJSONError`: it was the response.
    Without ``awaited`` (a stream of the server's own), an error response without id
    answers nothing and is logged and skipped.
    """
    try:
        decoded = jsonrpc.decode(data)
    except InvalidJSONError as exc:
        return _salvage(data, where, awaited, skipped, exc)
    if type(decoded) is Response:
        return (decoded,)
    messages = decoded if isinstance(decoded, list) else (decoded,)
    if awaited is not None:
        return messages
    return [message for message in messages if _has_address(message, where)]


def _salvage(
    data: bytes | str,
    where: str,
    awaited: RequestId | None,
    skipped: list[InvalidJSONError] | None,
    error: InvalidJSONError,
) -> Sequence[Message]:
    """The valid messages of data that did not decode as a whole."""
    try:
        loaded = orjson.loads(data)
    except ValueError:
        logger.warning("skipping a bad message on %s: %s", where, error)
        if skipped is not None:
            skipped.append(error)
        return ()
    items: list[Any] = loaded if isinstance(loaded, list) and loaded else [loaded]
    kept: list[Message] = []
    for item in items:
        try:
            message = jsonrpc.parse_message(item)
        except InvalidJSONError as exc:
            if awaited is not None and _is_response_to(item, awaited):
                raise InvalidJSONError(
                    f"the response (id {awaited!r}) on {where} is malformed: {exc}"
                ) from exc
            logger.warning("skipping a bad message on %s: %s: %.200r", where, exc, item)
            continue
        if awaited is not None or _has_address(message, where):
            kept.append(message)
    return kept


def _has_address(message: Message, where: str) -> bool:
    if isinstance(message, ErrorResponse) and message.id is None:
        logger.warning("ignoring an error without id on %s: %s", where, message)
        return False
    return True


def _is_response_to(item: Any, awaited: RequestId) -> bool:
    """Whether a raw message that failed to parse claims to answer request ``awaited``."""
    if not isinstance(item, dict) or "method" in item:
        return False
    rid = item.get("id")
    return type(rid) is type(awaited) and rid == awaited
