"""A remote MCP server served to a host on stdin/stdout (``mcp-async bridge URL``): every
message passes both ways, the host's ``initialize`` opens the remote session with the
host's capabilities, progress and cancellation pass through."""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from ..._config import Timeout
from ..._exceptions import JSONRPCError, MCPClientError
from ...protocol import jsonrpc
from ...protocol.jsonrpc import (
    ErrorResponse,
    Message,
    Notification,
    Request,
    RequestId,
    Response,
)
from ...protocol.mcp import SUPPORTED_VERSIONS
from .lines import HostLines

if TYPE_CHECKING:
    from ...client.async_client import AsyncMCPClient
    from ...protocol.models import ProgressNotification
    from ...session.api import Session

__all__ = ["ClientMaker", "StdioBridge"]

logger = logging.getLogger("mcp_async.bridge")

#: Server requests a host may be asked (each only when the host declared its capability).
_SERVER_REQUESTS = {
    "sampling/createMessage": "sampling",
    "elicitation/create": "elicitation",
    "roots/list": "roots",
}
#: Host requests that are safe to send again after a dropped connection.
_IDEMPOTENT = frozenset({
    "tools/list", "prompts/list", "prompts/get", "resources/list", "resources/read",
    "resources/templates/list", "completion/complete", "server/discover",
})
_NOT_INITIALIZED = -32002  # a request before initialize (as several SDKs answer)


ClientMaker = Callable[[dict[str, Any], dict[str, Any]], "AsyncMCPClient"]


class StdioBridge:
    """Serves one remote MCP session to a host on a pair of streams (stdin/stdout).

    ``make_client(capabilities, client_info)`` builds the (unopened) client for the
    remote server from what the host sent in its ``initialize``. ``timeout`` bounds each
    forwarded request (restarted by each progress notification; ``None``: the host's
    own timeouts and cancellations only); ``connect_timeout`` bounds opening the remote
    session.
    """

    def __init__(
        self,
        make_client: ClientMaker,
        lines: HostLines,
        *,
        timeout: float | None = 600.0,
        connect_timeout: float = 120.0,
    ) -> None:
        self._make_client = make_client
        self._lines = lines
        self._timeout = Timeout(total=timeout, connect=min(connect_timeout, 30.0), read=None)
        self._connect_timeout = connect_timeout
        self._client: AsyncMCPClient | None = None
        self._ready = asyncio.Event()
        self._failed: BaseException | None = None
        self._initializing = False
        self._running: dict[RequestId, asyncio.Task[None]] = {}
        self._cancelled: set[RequestId] = set()
        self._to_host: dict[RequestId, asyncio.Future[Response | ErrorResponse]] = {}
        self._ids = itertools.count(1)
        self._tasks: set[asyncio.Task[Any]] = set()

    async def run(self) -> int:
        """Serve until the host closes stdin; 0, or 1 when the remote session failed."""
        try:
            while True:
                messages = await self._lines.read()
                if messages is None:
                    break
                for message in messages:
                    await self._take(message)
        finally:
            await self.aclose()
        return 1 if self._failed is not None else 0

    async def aclose(self) -> None:
        """Stop everything: requests in flight, then the remote session."""
        tasks = [*self._running.values(), *self._tasks]
        for task in tasks:
            task.cancel()
        for future in self._to_host.values():
            if not future.done():
                future.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        client, self._client = self._client, None
        if client is not None:
            try:
                await client.aclose()
            except Exception as exc:
                logger.warning("closing the remote session failed: %s: %s",
                               type(exc).__name__, exc)

    def _spawn(self, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # -- from the host ---------------------------------------------------------------------
    async def _take(self, message: Message) -> None:
        if isinstance(message, Request):
            if message.id in self._running:
                await self._lines.send(ErrorResponse(
                    message.id, jsonrpc.INVALID_REQUEST,
                    f"request id {message.id!r} is already in use by a request in progress"))
            elif message.method == "ping":
                await self._lines.send(Response(message.id, {}))
            else:
                task = asyncio.ensure_future(self._serve(message))
                self._running[message.id] = task
                task.add_done_callback(self._forget(message.id))
        elif isinstance(message, Notification):
            await self._notification(message)
        else:
            future = self._to_host.get(message.id) if message.id is not None else None
            if future is not None and not future.done():
                future.set_result(message)
            else:
                logger.debug("an answer from the host to no pending request: %r", message.id)

    def _forget(self, request_id: RequestId) -> Callable[[asyncio.Task[None]], None]:
        def forget(task: asyncio.Task[None]) -> None:
            if self._running.get(request_id) is task:
                del self._running[request_id]
            self._cancelled.discard(request_id)

        return forget

    async def _notification(self, message: Notification) -> None:
        params = message.params or {}
        if message.method == "notifications/cancelled":
            request_id = params.get("requestId")
            task = self._running.get(request_id) if isinstance(request_id, str | int) else None
            if task is not None:
                self._cancelled.add(request_id)  # type: ignore[arg-type]
                task.cancel()
            return
        if message.method == "notifications/initialized":
            return  # the bridge's client sent its own
        client = self._client
        if client is None or not self._ready.is_set():
            logger.debug("notification %s before the session is up: dropped", message.method)
            return
        self._spawn(self._notify(client, message))

    async def _notify(self, client: AsyncMCPClient, message: Notification) -> None:
        try:
            session = client.session
            if not session.connected:
                await session.connect()
            if session.stateless_version is not None:
                logger.debug("%s has no meaning in the 2026-07-28 era: not sent", message.method)
                return
            await client.notify(message.method, message.params)
        except MCPClientError as exc:
            logger.warning("could not pass %s on: %s: %s", message.method,
                           type(exc).__name__, exc)

    async def _serve(self, request: Request) -> None:
        try:
            if request.method == "initialize":
                answer = await self._initialize(request)
            else:
                answer = await self._forward(request)
        except asyncio.CancelledError:
            if request.id in self._cancelled:
                self._cancelled.discard(request.id)
                return  # cancelled by the host: no answer (spec)
            raise
        await self._lines.send(answer)

    async def _initialize(self, request: Request) -> Response | ErrorResponse:
        if self._initializing:
            return ErrorResponse(request.id, jsonrpc.INVALID_REQUEST,
                                 "the session is already initialized")
        self._initializing = True
        params = request.params or {}
        capabilities = params.get("capabilities")
        info = params.get("clientInfo")
        if not isinstance(capabilities, dict) or not isinstance(info, dict):
            self._initializing = False
            return ErrorResponse(request.id, jsonrpc.INVALID_PARAMS,
                                 "initialize needs capabilities and clientInfo objects")
        try:
            client = self._make_client(capabilities, info)
        except MCPClientError as exc:
            self._failed = exc
            self._ready.set()
            return ErrorResponse(request.id, jsonrpc.INTERNAL_ERROR, f"bridge: {exc}")
        self._client = client
        try:
            async with asyncio.timeout(self._connect_timeout):
                await client.open()
                self._wire(client.session, capabilities)
                result = await client.initialize()
        except (MCPClientError, TimeoutError) as exc:
            self._failed = exc
            logger.error("cannot reach the remote MCP server: %s: %s", type(exc).__name__, exc)
            self._ready.set()
            return ErrorResponse(request.id, jsonrpc.INTERNAL_ERROR,
                                 f"bridge: cannot reach the remote MCP server: "
                                 f"{type(exc).__name__}: {exc}")
        self._ready.set()
        answer: dict[str, Any] = {
            "protocolVersion": _answer_version(params.get("protocolVersion"),
                                               client.protocol_version),
            "capabilities": dict(result.capabilities.raw),
            "serverInfo": result.server_info.to_dict(),
        }
        if result.instructions is not None:
            answer["instructions"] = result.instructions
        logger.info("bridging %s (%s, protocol %s)", client.url, client.transport_kind,
                    client.protocol_version)
        return Response(request.id, answer)

    async def _forward(self, request: Request) -> Response | ErrorResponse:
        if not self._initializing:
            return ErrorResponse(request.id, _NOT_INITIALIZED,
                                 "bridge: the session is not initialized; send initialize first")
        await self._ready.wait()  # bounded: opening the remote session has connect_timeout
        client = self._client
        if client is None or self._failed is not None:
            code = _NOT_INITIALIZED if not self._initializing else jsonrpc.INTERNAL_ERROR
            why = "the session is not initialized" if not self._initializing else (
                f"the remote session failed: {type(self._failed).__name__}: {self._failed}")
            return ErrorResponse(request.id, code, f"bridge: {why}")
        params = request.params
        meta = params.get("_meta") if params else None
        token = meta.get("progressToken") if isinstance(meta, dict) else None
        progress = self._progress(token) if isinstance(token, str | int) else None
        try:
            if request.method == "logging/setLevel" and params is not None:
                await client.set_logging_level(str(params.get("level")))
                return Response(request.id, {})
            result = await client.request(
                request.method, params, timeout=self._timeout, progress=progress,
                idempotent=request.method in _IDEMPOTENT,
                reset_timeout_on_progress=self._timeout.total is not None,
            )
        except JSONRPCError as exc:
            return ErrorResponse(request.id, exc.code, exc.message, exc.data)
        except MCPClientError as exc:
            return ErrorResponse(request.id, jsonrpc.INTERNAL_ERROR,
                                 f"bridge: {type(exc).__name__}: {exc}")
        return Response(request.id, result)

    def _progress(self, token: str | int) -> Callable[[ProgressNotification], Awaitable[None]]:
        async def forward(note: ProgressNotification) -> None:
            params: dict[str, Any] = {"progressToken": token, "progress": note.progress}
            if note.total is not None:
                params["total"] = note.total
            if note.message is not None:
                params["message"] = note.message
            await self._lines.send(Notification("notifications/progress", params))

        return forward

    # -- from the remote server --------------------------------------------------------------
    def _wire(self, session: Session, capabilities: dict[str, Any]) -> None:
        """Pass the remote server's notifications and requests on to the host (before
        the handshake, which then opens the push stream)."""
        session.dispatcher.on_notification = self._remote_notification
        session.want_push()
        handlers = session.dispatcher.request_handlers
        for method, capability in _SERVER_REQUESTS.items():
            if capability in capabilities:
                handlers[method] = self._asker(method)

    async def _remote_notification(self, method: str, params: dict[str, Any]) -> None:
        # Progress goes to the host's token (see _progress); a cancellation of a server
        # request cancels its handler, which tells the host itself.
        if method in ("notifications/progress", "notifications/cancelled"):
            return
        await self._lines.send(Notification(method, params or None))

    def _asker(self, method: str) -> Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]:
        async def ask(params: dict[str, Any]) -> dict[str, Any]:
            request_id = next(self._ids)
            future: asyncio.Future[Response | ErrorResponse] = (
                asyncio.get_running_loop().create_future()
            )
            self._to_host[request_id] = future
            try:
                await self._lines.send(Request(request_id, method, params))
                answer = await future
            except asyncio.CancelledError:
                await self._lines.send(Notification("notifications/cancelled", {
                    "requestId": request_id, "reason": "cancelled by the remote server",
                }))
                raise
            finally:
                self._to_host.pop(request_id, None)
            if isinstance(answer, ErrorResponse):
                raise JSONRPCError(answer.code, answer.message, answer.data)
            return answer.result

        return ask


def _answer_version(asked: object, remote: str) -> str:
    """The version told to the host: the older of what it asked and what the remote
    server speaks, when both are handshake versions; what it asked when the remote
    speaks the 2026-07-28 era (the bridge translates); else the latest."""
    if isinstance(asked, str) and asked in SUPPORTED_VERSIONS:
        if remote in SUPPORTED_VERSIONS:
            return max(asked, remote, key=SUPPORTED_VERSIONS.index)
        return asked
    return remote if remote in SUPPORTED_VERSIONS else SUPPORTED_VERSIONS[0]
