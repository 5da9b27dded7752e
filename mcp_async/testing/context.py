"""What a tool sees of its call: :class:`ToolContext`, and :class:`RequestFailed` for a
server request the client answered with an error."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Final

from ..protocol.jsonrpc import Notification, Request
from .wire import text_block

__all__ = ["LEVEL_RANK", "LOG_LEVELS", "Emit", "RequestFailed", "Requester", "ToolContext"]

#: Log levels of ``logging/setLevel`` and ``notifications/message``, least severe first.
LOG_LEVELS: Final = (
    "debug",
    "info",
    "notice",
    "warning",
    "error",
    "critical",
    "alert",
    "emergency",
)
LEVEL_RANK: Final = {level: rank for rank, level in enumerate(LOG_LEVELS)}

#: Sends a notification or a server request on the stream of the request being answered.
Emit = Callable[[Notification | Request], Awaitable[None]]
#: Sends a server request and returns the client's result:
#: ``(method, params, emit, session id, timeout)``.
Requester = Callable[
    [str, dict[str, Any] | None, Emit | None, str | None, float], Awaitable[dict[str, Any]]
]


class RequestFailed(Exception):
    """The client answered a server request with a JSON-RPC error."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(f"client answered with error {code}: {message}")
        self.code = code
        self.message = message
        self.data = data


class ToolContext:
    """Passed to a tool parameter annotated ``ToolContext`` (or named ``ctx``).

    In SSE reply mode, :meth:`report_progress` and :meth:`log` send notifications on the
    request's stream before its response; in JSON mode they do nothing. :meth:`request`
    (and ``elicit``, ``create_message``, ``list_roots``) asks the client something on the
    request's stream, or in JSON mode on the client's GET stream. Over stdio and legacy
    SSE everything goes on the session's one stream.

    In the 2026-07-28 era (``MCPTestServer(eras=...)``) a request becomes an input round
    (MRTR): the call is answered with an ``InputRequiredResult``, and the client's retry
    runs the tool again from the top, this time with the answer. Logs go out only when
    the request's ``_meta`` asks for them (``logLevel``). In a 2026 task the request waits
    for ``tasks/update`` instead.
    """

    __slots__ = (
        "_emit", "_log_floor", "_requester", "progress_token", "request_id", "session_id"
    )

    def __init__(
        self,
        request_id: str | int,
        progress_token: str | int | None,
        session_id: str | None,
        emit: Emit | None,
        log_floor: int,
        requester: Requester | None = None,
    ) -> None:
        self.request_id = request_id
        self.progress_token = progress_token
        self.session_id = session_id
        self._emit = emit
        self._log_floor = log_floor
        self._requester = requester

    async def notify(self, method: str, params: dict[str, Any] | None = None) -> None:
        """Send any notification on the request's stream (SSE mode; nothing in JSON mode)."""
        if self._emit is not None:
            await self._emit(Notification(method, params))

    async def request(
        self, method: str, params: dict[str, Any] | None = None, *, timeout: float = 10.0
    ) -> dict[str, Any]:
        """Send a request to the client and return its result.

        Raises :class:`RequestFailed` for an error answer and ``TimeoutError`` (after
        sending ``notifications/cancelled``) when none comes within ``timeout`` seconds.
        """
        if self._requester is None:
            raise RuntimeError("this tool context cannot reach the client")
        return await self._requester(method, params, self._emit, self.session_id, timeout)

    async def elicit(
        self, message: str, schema: dict[str, Any], *, timeout: float = 10.0
    ) -> dict[str, Any]:
        """Ask for form input (``elicitation/create``); returns the ``ElicitResult``."""
        params = {"mode": "form", "message": message, "requestedSchema": schema}
        return await self.request("elicitation/create", params, timeout=timeout)

    async def create_message(
        self, text: str, *, max_tokens: int = 100, timeout: float = 10.0, **extra: Any
    ) -> dict[str, Any]:
        """Ask the client to sample a reply to ``text`` (``sampling/createMessage``).

        ``extra`` adds wire params such as ``systemPrompt``, ``tools`` or ``toolChoice``.
        """
        params = {
            "messages": [{"role": "user", "content": text_block(text)}],
            "maxTokens": max_tokens,
            **extra,
        }
        return await self.request("sampling/createMessage", params, timeout=timeout)

    async def list_roots(self, *, timeout: float = 10.0) -> list[dict[str, Any]]:
        """The client's roots (``roots/list``)."""
        roots: list[dict[str, Any]] = (
            await self.request("roots/list", None, timeout=timeout)
        )["roots"]
        return roots

    async def report_progress(
        self, progress: float, total: float | None = None, message: str | None = None
    ) -> None:
        """Send ``notifications/progress`` if the request asked for it (``_meta.progressToken``)."""
        if self._emit is None or self.progress_token is None:
            return
        params: dict[str, Any] = {"progressToken": self.progress_token, "progress": progress}
        if total is not None:
            params["total"] = total
        if message is not None:
            params["message"] = message
        await self._emit(Notification("notifications/progress", params))

    async def log(self, level: str, data: Any, logger: str | None = None) -> None:
        """Send ``notifications/message`` unless below the level set by ``logging/setLevel``."""
        rank = LEVEL_RANK.get(level)
        if rank is None:
            raise ValueError(f"unknown log level {level!r}; expected one of {LOG_LEVELS}")
        if self._emit is None or rank < self._log_floor:
            return
        params: dict[str, Any] = {"level": level, "data": data}
        if logger is not None:
            params["logger"] = logger
        await self._emit(Notification("notifications/message", params))


