"""HTTP replies the test server's front ends share: id-less JSON-RPC errors, and the early
replies a :class:`~mcp_async.testing.Fault` forces on a request (delay, drop, expired
session, forced status or body).

The only testing module besides the front ends that needs ``aiohttp.web``, kept apart so
the stdio server never loads it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from ..protocol.jsonrpc import ErrorResponse, encode
from ..protocol.mcp import JSON_CONTENT_TYPE
from .faults import Fault
from .wire import SESSION_NOT_FOUND

__all__ = ["error_reply", "fault_reply"]


def error_reply(
    status: int, code: int, message: str, headers: Mapping[str, str] | None = None
) -> web.Response:
    """An HTTP error whose body is an id-less JSON-RPC error."""
    return web.Response(
        status=status,
        body=encode(ErrorResponse(None, code, message)),
        content_type=JSON_CONTENT_TYPE,
        headers=headers,
    )


async def fault_reply(
    fault: Fault, request: web.Request, session_id: str | None, sessions: dict[str, Any]
) -> web.StreamResponse | None:
    """Apply a fault's early effects; return the reply it forces, or None to go on.

    An ``expire_session`` fault forgets ``session_id`` in ``sessions``.
    """
    if fault.delay:
        await asyncio.sleep(fault.delay)
    if fault.drop:
        return _drop(request)
    if fault.expire_session:
        if session_id is not None:
            sessions.pop(session_id, None)
        return error_reply(404, SESSION_NOT_FOUND, "Session not found")
    if fault.status is not None or fault.body is not None:
        return _fault_body(fault)
    return None


def _drop(request: web.Request) -> web.StreamResponse:
    transport = request.transport
    if transport is not None:
        transport.abort()
    # aiohttp cannot write this on the aborted transport; the client sees a disconnect.
    return web.Response(status=500)


def _fault_body(fault: Fault) -> web.Response:
    status = 200 if fault.status is None else fault.status
    response = web.Response(status=status, headers=fault.headers)
    if fault.body is not None:
        body = fault.body.encode() if isinstance(fault.body, str) else fault.body
        response.body = body
    if "Content-Type" not in response.headers and (fault.body or fault.content_type):
        default = JSON_CONTENT_TYPE if fault.status is None else "text/plain"
        response.headers["Content-Type"] = fault.content_type or default
    return response
