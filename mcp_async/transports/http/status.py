"""Turning a non-2xx HTTP response into the right exception."""

from __future__ import annotations

from ..._exceptions import (
    AuthError,
    HTTPStatusError,
    MCPClientError,
    RateLimitedError,
    SessionExpiredError,
)
from ...protocol import jsonrpc
from ...protocol.headers import parse_retry_after
from ...protocol.mcp import JSON_CONTENT_TYPE, SESSION_HEADER
from .base import HTTPRequest, HTTPResponse

__all__ = ["raise_for_status"]

_ERROR_BODY_LIMIT = 64 * 1024


async def raise_for_status(
    request: HTTPRequest, response: HTTPResponse, *, jsonrpc_body: bool = False
) -> None:
    """Raise the typed error for a non-2xx ``response``; return quietly for 2xx.

    The body is read (bounded) for the error message and the connection released.
    With ``jsonrpc_body``, an error body holding a JSON-RPC error object raises
    :class:`~mcp_async.JSONRPCError` (with ``http_status`` set) instead of a plain
    :class:`HTTPStatusError`, except for statuses with their own meaning below.

    Session expiry: the spec signals it with 404 on a request carrying ``Mcp-Session-Id``
    (whatever the body). Some servers (the TypeScript SDK's) answer 400 "No valid session
    ID provided" instead; a 400 whose body mentions the session is treated the same way.
    """
    if 200 <= response.status < 300:
        return
    try:
        body = await response.read()
    except MCPClientError:
        body = b""
    finally:
        response.release()
    status = response.status
    headers = response.headers
    url = request.url
    body = body[:_ERROR_BODY_LIMIT]
    if status == 429 or (status == 503 and "Retry-After" in headers):
        retry_after = parse_retry_after(headers.get("Retry-After"))
        raise RateLimitedError(
            status, retry_after=retry_after, url=url, headers=headers, body=body
        )
    if SESSION_HEADER in request.headers and (
        status == 404 or (status == 400 and b"session" in body.lower())
    ):
        raise SessionExpiredError(
            status,
            message=f"MCP session expired (HTTP {status} from {url})",
            url=url,
            headers=headers,
            body=body,
        )
    if status in (401, 403):
        raise AuthError(
            f"HTTP {status} from {request.url}: the server refused the credentials",
            step="unauthorized",
            status=status,
            www_authenticate=headers.get("WWW-Authenticate"),
        )
    if jsonrpc_body and response.content_type == JSON_CONTENT_TYPE and body:
        try:
            message = jsonrpc.decode(body)
        except MCPClientError:
            message = None
        if isinstance(message, jsonrpc.ErrorResponse):
            exc = jsonrpc.error_to_exception(message)
            exc.http_status = status
            raise exc
    raise HTTPStatusError(status, url=url, headers=headers, body=body)
