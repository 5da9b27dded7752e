"""Routing of messages the server sends to the client: notifications and requests.

Server requests are answered by handlers registered per method; an unknown method
gets a JSON-RPC "method not found" error and a handler that raises becomes an
"internal error" response, so the server is never left waiting.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from .models import LoggingMessage, ProgressNotification
from .protocol import jsonrpc
from .protocol.jsonrpc import ErrorResponse, Notification, Request, RequestId, Response

__all__ = [
    "Dispatcher",
    "LoggingHandler",
    "NotificationHandler",
    "ProgressCallback",
    "RequestHandler",
]

logger = logging.getLogger("mcp_async")

#: ``callback(progress)``, sync or async, receives :class:`~mcp_async.models.ProgressNotification`.
ProgressCallback = Callable[[ProgressNotification], Awaitable[None] | None]
#: ``handler(message)`` for ``notifications/message``.
LoggingHandler = Callable[[LoggingMessage], Awaitable[None] | None]
#: ``handler(method, params)`` for any notification.
NotificationHandler = Callable[[str, dict[str, Any]], Awaitable[None] | None]
#: ``handler(params) -> result dict`` answering one server request method.
RequestHandler = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


async def _call(fn: Callable[..., Awaitable[None] | None], *args: Any) -> None:
    result = fn(*args)
    if inspect.isawaitable(result):
        await result


class Dispatcher:
    """Routes incoming notifications to callbacks and server requests to handlers."""

    def __init__(
        self,
        *,
        logging_handler: LoggingHandler | None = None,
        on_notification: NotificationHandler | None = None,
    ) -> None:
        self.logging_handler = logging_handler
        self.on_notification = on_notification
        self._progress: dict[RequestId, ProgressCallback] = {}
        self._notification_handlers: dict[str, Callable[[dict[str, Any]], Awaitable[None]]] = {}
        self.request_handlers: dict[str, RequestHandler] = {"ping": _answer_ping}

    # -- progress -------------------------------------------------------------------------
    def add_progress(self, token: RequestId, callback: ProgressCallback) -> None:
        """Deliver ``notifications/progress`` carrying ``token`` to ``callback``."""
        self._progress[token] = callback

    def remove_progress(self, token: RequestId) -> None:
        """Stop delivering progress for ``token``."""
        self._progress.pop(token, None)

    def on(self, method: str, handler: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
        """Register an internal handler for one notification method (one per method)."""
        self._notification_handlers[method] = handler

    # -- incoming -------------------------------------------------------------------------
    async def notification(self, message: Notification) -> None:
        """Handle one notification; callback errors are logged, never raised."""
        params = message.params or {}
        try:
            if message.method == "notifications/progress":
                await self._progress_notification(params)
            elif message.method == "notifications/message" and self.logging_handler is not None:
                await _call(self.logging_handler, LoggingMessage.from_dict(params))
            internal = self._notification_handlers.get(message.method)
            if internal is not None:
                await internal(params)
            if self.on_notification is not None:
                await _call(self.on_notification, message.method, params)
        except Exception:
            logger.exception("notification handler for %s failed", message.method)

    async def _progress_notification(self, params: dict[str, Any]) -> None:
        token = params.get("progressToken")
        callback = self._progress.get(token) if isinstance(token, str | int) else None
        if callback is not None:
            await _call(callback, ProgressNotification.from_dict(params))

    async def request(self, message: Request) -> Response | ErrorResponse:
        """Answer one server request; never raises (except cancellation)."""
        handler = self.request_handlers.get(message.method)
        if handler is None:
            return ErrorResponse(
                message.id, jsonrpc.METHOD_NOT_FOUND, f"method not found: {message.method}"
            )
        try:
            result = await handler(message.params or {})
        except Exception as exc:
            logger.exception("handler for server request %s failed", message.method)
            code = getattr(exc, "code", None)
            if not isinstance(code, int) or isinstance(code, bool):
                code = jsonrpc.INTERNAL_ERROR
            return ErrorResponse(message.id, code, str(exc) or type(exc).__name__)
        return Response(message.id, result)


async def _answer_ping(params: dict[str, Any]) -> dict[str, Any]:
    return {}
