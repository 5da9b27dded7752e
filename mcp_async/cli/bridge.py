"""``mcp-async bridge``: a remote MCP server as a local stdio server, and the reverse.

Serve a remote server (Streamable HTTP or legacy HTTP+SSE, either protocol era,
OAuth included) on stdin/stdout, for a host that can only start stdio servers:

    mcp-async bridge https://mcp.example.com/mcp
    mcp-async bridge https://mcp.example.com/mcp --oauth
    mcp-async bridge https://mcp.example.com/mcp --client-id svc-1   (secret in
                                                    $MCP_ASYNC_CLIENT_SECRET)

Every message passes both ways: the host's requests and notifications go to the remote
server; the remote server's notifications and requests (sampling, elicitation, roots)
come back to the host. The host's own ``initialize`` opens the remote session with the
host's capabilities and client info, so the remote server sees the host as it is.
Progress and cancellation pass through; expired sessions, retries of idempotent
requests and token refreshes are handled on the remote side, unseen by the host.

The reverse: a local stdio server as a Streamable HTTP endpoint on loopback, one
process per HTTP session:

    mcp-async bridge --http 127.0.0.1:8808 -- npx -y @modelcontextprotocol/server-everything

It refuses addresses other than loopback unless --allow-non-loopback is given, and
requests whose Origin or Host is not a loopback name (DNS rebinding) get 403.
See docs/bridge.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import itertools
import logging
import os
import secrets
import signal
import sys
from collections import deque
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from yarl import URL

from .._config import Timeout
from .._exceptions import ConfigError, JSONRPCError, MCPClientError, ProtocolError
from ..protocol import jsonrpc
from ..protocol.jsonrpc import (
    ErrorResponse,
    Message,
    Notification,
    Request,
    RequestId,
    Response,
)
from ..protocol.mcp import SUPPORTED_VERSIONS
from .text import plain

if TYPE_CHECKING:
    from aiohttp import web

    from ..client.async_client import AsyncMCPClient
    from ..protocol.models import ProgressNotification
    from ..session.api import Session
    from ..transports.http.hooks import Hook

__all__ = ["HTTPBridge", "StdioBridge", "add_bridge_parser", "check_loopback_bind"]

logger = logging.getLogger("mcp_async.bridge")

#: Longest line accepted from the host or from a stdio server (bytes).
MAX_LINE = 16 * 1024 * 1024
#: Environment variable holding the client secret for --client-id.
SECRET_ENV = "MCP_ASYNC_CLIENT_SECRET"
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


def _default_token_file() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(Path.home(), ".config")
    return Path(base) / "mcp-async" / "tokens.json"


# -- stdio side: the host --------------------------------------------------------------------


class _Lines:
    """Newline-delimited JSON-RPC on a pair of streams, writes serialised."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self._lock = asyncio.Lock()

    async def read(self) -> list[Message] | None:
        """The messages of the next line; ``None`` at the end of input. A bad line is
        logged and answered with a parse error when it can be."""
        while True:
            try:
                line = await self.reader.readline()
            except ValueError:  # over the limit: the reader dropped it
                logger.error("a message over %d bytes from the host was dropped", MAX_LINE)
                await self.send(ErrorResponse(None, jsonrpc.INVALID_REQUEST,
                                              f"message over {MAX_LINE} bytes"))
                continue
            if not line:
                return None
            if not line.strip():
                continue
            try:
                decoded = jsonrpc.decode(line)
            except ProtocolError as exc:
                logger.warning("the host sent a line that is not JSON-RPC: %s", exc)
                await self.send(ErrorResponse(None, jsonrpc.PARSE_ERROR, str(exc)))
                continue
            return decoded if isinstance(decoded, list) else [decoded]

    async def send(self, message: Message) -> None:
        try:
            data = jsonrpc.encode(message) + b"\n"
        except (TypeError, ValueError) as exc:
            logger.error("a message for the host is not JSON (%s); sent an error instead", exc)
            if isinstance(message, Response):
                data = jsonrpc.encode(ErrorResponse(
                    message.id, jsonrpc.INTERNAL_ERROR, "the result is not JSON")) + b"\n"
            else:
                return
        async with self._lock:
            if self.writer.is_closing():
                return
            self.writer.write(data)
            with contextlib.suppress(ConnectionError):
                await self.writer.drain()


async def _std_streams() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=MAX_LINE)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin.buffer)
    transport, protocol = await loop.connect_write_pipe(
        asyncio.streams.FlowControlMixin, sys.stdout.buffer
    )
    writer = asyncio.StreamWriter(transport, protocol, reader, loop)
    return reader, writer


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
        lines: _Lines,
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


# -- HTTP side: the reverse bridge -----------------------------------------------------------

_LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})
_MAX_SESSIONS = 16
_BACKLOG = 1000  # server messages kept for a GET stream that is not open yet
_STREAM_QUEUE = 256  # messages queued for one HTTP stream (then the server waits)
_KEEPALIVE = 15.0  # seconds between SSE comments on an idle GET stream


def check_loopback_bind(host: str, *, allow_non_loopback: bool = False) -> None:
    """Refuse to listen on anything but loopback, unless explicitly allowed."""
    if host == "localhost":
        return
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        raise ConfigError(f"--http needs an IP address or localhost, got {host!r}") from None
    if not address.is_loopback and not allow_non_loopback:
        raise ConfigError(
            f"refusing to listen on {host}: a bridge on a non-loopback address lets other "
            "machines use the server; pass --allow-non-loopback to do it anyway"
        )


def _loopback_name(host: str | None) -> bool:
    if host is None:
        return False
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class _Child:
    """One stdio server process serving one HTTP session."""

    def __init__(self, session_id: str, process: asyncio.subprocess.Process) -> None:
        self.session_id = session_id
        self.process = process
        self.waiting: dict[RequestId, asyncio.Queue[dict[str, Any] | None]] = {}
        self.progress: dict[RequestId, RequestId] = {}  # progress token -> request id
        self.listener: asyncio.Queue[dict[str, Any] | None] | None = None
        self.backlog: deque[dict[str, Any]] = deque()
        self.dropped = 0
        self.exit_code: int | None = None
        self.reader: asyncio.Task[None] | None = None
        self._write_lock = asyncio.Lock()

    @property
    def alive(self) -> bool:
        return self.exit_code is None and self.process.returncode is None

    async def write(self, payload: dict[str, Any]) -> None:
        stdin = self.process.stdin
        assert stdin is not None
        data = jsonrpc._dumps(payload) + b"\n"
        async with self._write_lock:
            stdin.write(data)
            await stdin.drain()

    async def route(self, message: dict[str, Any]) -> None:
        """Send one message of the server to the HTTP stream it belongs on."""
        if "method" not in message and "id" in message:  # a response
            queue = self.waiting.get(message["id"])
            if queue is None:
                logger.debug("a response of the server to no open request: %r", message["id"])
                return
            await queue.put(message)
            return
        if message.get("method") == "notifications/progress":
            params = message.get("params")
            token = params.get("progressToken") if isinstance(params, dict) else None
            request_id = self.progress.get(token) if isinstance(token, str | int) else None
            queue = self.waiting.get(request_id) if request_id is not None else None
            if queue is not None:
                await queue.put(message)
                return
        if self.listener is not None:
            await self.listener.put(message)
        elif self.waiting:
            await self.waiting[next(reversed(self.waiting))].put(message)
        else:
            if len(self.backlog) >= _BACKLOG:
                self.backlog.popleft()
                self.dropped += 1
                logger.warning("session %s: server message dropped (no stream open to carry "
                               "it, %d kept)", self.session_id[:8], _BACKLOG)
            self.backlog.append(message)

    async def read(self) -> None:
        stdout = self.process.stdout
        assert stdout is not None
        try:
            while True:
                try:
                    line = await stdout.readline()
                except ValueError:
                    logger.error("session %s: a line over %d bytes from the server was dropped",
                                 self.session_id[:8], MAX_LINE)
                    continue
                if not line:
                    break
                try:
                    message = jsonrpc.load_document(line)
                except ValueError:
                    logger.warning("session %s: the server wrote a line that is not JSON: %r",
                                   self.session_id[:8], line[:200])
                    continue
                for item in message if isinstance(message, list) else [message]:
                    if isinstance(item, dict):
                        await self.route(item)
        finally:
            self.exit_code = await _wait_exit(self.process)
            for queue in [*self.waiting.values(), self.listener]:
                if queue is not None:
                    _end(queue)

    async def stop(self, grace: float = 2.0) -> None:
        """Close stdin, then SIGTERM, then SIGKILL (the spec's order); reap the process."""
        process = self.process
        if process.returncode is None:
            if process.stdin is not None:
                with contextlib.suppress(Exception):
                    process.stdin.close()
            for sig in (None, signal.SIGTERM, signal.SIGKILL):
                if sig is not None:
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.killpg(process.pid, sig)
                try:
                    await asyncio.wait_for(asyncio.shield(process.wait()), grace)
                    break
                except TimeoutError:
                    continue
        await process.wait()
        if self.reader is not None:
            self.reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.reader


def _end(queue: asyncio.Queue[dict[str, Any] | None]) -> None:
    """Tell a stream's handler that its stream is over (making room if it must: what
    the stream did not carry yet is of a session that ended)."""
    while queue.full():
        queue.get_nowait()
    queue.put_nowait(None)


async def _wait_exit(process: asyncio.subprocess.Process) -> int:
    try:
        return await asyncio.wait_for(asyncio.shield(process.wait()), 5.0)
    except TimeoutError:
        return -1


def _sse(message: dict[str, Any]) -> bytes:
    return b"event: message\ndata: " + jsonrpc._dumps(message) + b"\n\n"


class HTTPBridge:
    """Serves a stdio MCP server as a Streamable HTTP endpoint, one process per session.

    Requests are answered on an SSE stream that also carries the server's messages for
    that request (its progress, its own requests and notifications while no GET stream
    is open); ``GET`` opens the stream for everything else. ``DELETE`` ends the session
    and its process. At most ``max_sessions`` run at once.
    """

    def __init__(
        self,
        command: list[str],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        path: str = "/mcp",
        max_sessions: int = _MAX_SESSIONS,
        allow_non_loopback: bool = False,
        allowed_origins: tuple[str, ...] = (),
    ) -> None:
        if not command:
            raise ConfigError("give the stdio server's command after --")
        check_loopback_bind(host, allow_non_loopback=allow_non_loopback)
        if not path.startswith("/"):
            raise ConfigError(f"--path must start with '/', got {path!r}")
        if max_sessions < 1:
            raise ConfigError("--max-sessions must be at least 1")
        self.command = command
        self.host = host
        self.port = port
        self.path = path
        self.max_sessions = max_sessions
        self._check_host = not allow_non_loopback
        self._origins = frozenset(origin.rstrip("/") for origin in allowed_origins)
        self._children: dict[str, _Child] = {}
        self._stopping: set[asyncio.Task[None]] = set()
        self._runner: web.AppRunner | None = None
        self.url: str | None = None

    async def start(self) -> str:
        """Listen; returns the endpoint URL."""
        from aiohttp import web

        app = web.Application(client_max_size=MAX_LINE)
        app.router.add_route("POST", self.path, self._post)
        app.router.add_route("GET", self.path, self._get)
        app.router.add_route("DELETE", self.path, self._delete)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise ConfigError(f"cannot listen on {self.host}:{self.port}: {exc}") from exc
        self._runner = runner
        host, port = runner.addresses[0][:2]
        shown = f"[{host}]" if ":" in host else host
        self.url = f"http://{shown}:{port}{self.path}"
        return self.url

    async def aclose(self) -> None:
        """Stop listening and stop every server process."""
        runner, self._runner = self._runner, None
        children = list(self._children.values())
        self._children.clear()
        await asyncio.gather(*(child.stop() for child in children), *self._stopping,
                             return_exceptions=True)
        if runner is not None:
            await runner.cleanup()

    # -- checks -------------------------------------------------------------------------------
    def _refused(self, request: web.Request) -> web.Response | None:
        from aiohttp import web

        origin = request.headers.get("Origin")
        if origin is not None and origin.rstrip("/") not in self._origins:
            try:
                origin_host = URL(origin).host
            except ValueError:
                origin_host = None
            if not _loopback_name(origin_host):
                return _error(web.HTTPForbidden, f"origin {origin!r} is not allowed")
        if self._check_host:
            host = request.host.rsplit(":", 1)[0] if not request.host.startswith("[") else (
                request.host.split("]")[0] + "]")
            if not _loopback_name(host):
                return _error(web.HTTPForbidden, f"host {request.host!r} is not allowed")
        return None

    def _session(self, request: web.Request) -> _Child | web.Response:
        from aiohttp import web

        session_id = request.headers.get("Mcp-Session-Id")
        if session_id is None:
            return _error(web.HTTPBadRequest, "Mcp-Session-Id header required")
        child = self._children.get(session_id)
        if child is None or not child.alive:
            if child is not None:
                self._children.pop(session_id, None)
                stopping = asyncio.ensure_future(child.stop())
                self._stopping.add(stopping)
                stopping.add_done_callback(self._stopping.discard)
            return _error(web.HTTPNotFound, "session not found (it ended; initialize again)")
        return child

    # -- handlers ---------------------------------------------------------------------------
    async def _post(self, request: web.Request) -> web.StreamResponse:
        from aiohttp import web

        refused = self._refused(request)
        if refused is not None:
            return refused
        try:
            body = await request.read()
            message = jsonrpc.load_document(body)
        except ValueError as exc:
            return _rpc_error(None, jsonrpc.PARSE_ERROR, f"not JSON: {exc}")
        except web.HTTPRequestEntityTooLarge:
            return _rpc_error(None, jsonrpc.INVALID_REQUEST, f"body over {MAX_LINE} bytes")
        if isinstance(message, list):
            return _rpc_error(None, jsonrpc.INVALID_REQUEST, "JSON-RPC batches are not supported")
        try:
            parsed = jsonrpc.parse_message(message)
        except ProtocolError as exc:
            return _rpc_error(None, jsonrpc.INVALID_REQUEST, str(exc))
        if isinstance(parsed, Request) and parsed.method == "initialize":
            if "Mcp-Session-Id" in request.headers:
                return _rpc_error(parsed.id, jsonrpc.INVALID_REQUEST,
                                  "initialize starts a session: send it without Mcp-Session-Id")
            started = await self._start_child()
            if isinstance(started, web.Response):
                return started
            child = started
        else:
            found = self._session(request)
            if isinstance(found, web.Response):
                return found
            child = found
        if not isinstance(parsed, Request):
            try:
                await child.write(message)
            except (ConnectionError, RuntimeError, OSError):
                return _error(web.HTTPNotFound, "the server process ended; initialize again")
            return web.Response(status=202)
        return await self._stream_request(request, child, parsed, message)

    async def _start_child(self) -> _Child | web.Response:
        from aiohttp import web

        for session_id, existing in list(self._children.items()):
            if not existing.alive:
                self._children.pop(session_id, None)
                await existing.stop()
        if len(self._children) >= self.max_sessions:
            return _error(web.HTTPServiceUnavailable,
                          f"{self.max_sessions} sessions are open; end one first")
        try:
            process = await asyncio.create_subprocess_exec(
                *self.command, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                stderr=None, start_new_session=True, limit=MAX_LINE,
            )
        except OSError as exc:
            logger.error("cannot start %s: %s", self.command[0], exc)
            return _error(web.HTTPBadGateway, f"cannot start the server: {exc}")
        session_id = secrets.token_urlsafe(24)
        child = _Child(session_id, process)
        child.reader = asyncio.ensure_future(child.read())
        self._children[session_id] = child
        return child

    async def _stream_request(
        self, request: web.Request, child: _Child, parsed: Request, message: dict[str, Any]
    ) -> web.StreamResponse:
        from aiohttp import web

        if parsed.id in child.waiting:
            return _rpc_error(parsed.id, jsonrpc.INVALID_REQUEST,
                              f"request id {parsed.id!r} is already in progress")
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(_STREAM_QUEUE)
        child.waiting[parsed.id] = queue
        meta = (parsed.params or {}).get("_meta")
        token = meta.get("progressToken") if isinstance(meta, dict) else None
        if isinstance(token, str | int):
            child.progress[token] = parsed.id
        try:
            try:
                await child.write(message)
            except (ConnectionError, RuntimeError, OSError):
                return _error(web.HTTPNotFound, "the server process ended; initialize again")
            response = web.StreamResponse(headers={
                "Content-Type": "text/event-stream", "Cache-Control": "no-cache",
            })
            if parsed.method == "initialize":
                response.headers["Mcp-Session-Id"] = child.session_id
            await response.prepare(request)
            while True:
                item = await queue.get()
                if item is None:  # the server process ended
                    item = ErrorResponse(
                        parsed.id, jsonrpc.INTERNAL_ERROR,
                        f"the server process exited with code {child.exit_code}",
                    ).to_dict()
                try:
                    await response.write(_sse(item))
                except (ConnectionError, RuntimeError):
                    logger.debug("the client left request %r's stream", parsed.id)
                    break
                if "method" not in item and item.get("id") == parsed.id:
                    break
            with contextlib.suppress(ConnectionError, RuntimeError):
                await response.write_eof()
            return response
        finally:
            child.waiting.pop(parsed.id, None)
            if isinstance(token, str | int):
                child.progress.pop(token, None)

    async def _get(self, request: web.Request) -> web.StreamResponse:
        from aiohttp import web

        refused = self._refused(request)
        if refused is not None:
            return refused
        if "text/event-stream" not in request.headers.get("Accept", ""):
            return _error(web.HTTPNotAcceptable, "GET needs Accept: text/event-stream")
        found = self._session(request)
        if isinstance(found, web.Response):
            return found
        child = found
        if child.listener is not None:  # a client reconnecting: the new stream takes over
            _end(child.listener)
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(_STREAM_QUEUE)
        child.listener = queue
        try:
            response = web.StreamResponse(headers={
                "Content-Type": "text/event-stream", "Cache-Control": "no-cache",
            })
            await response.prepare(request)
            while child.backlog:
                kept = child.backlog.popleft()
                try:
                    await response.write(_sse(kept))
                except (ConnectionError, RuntimeError):
                    child.backlog.appendleft(kept)
                    return response
            while True:
                try:
                    item = await asyncio.wait_for(queue.get(), _KEEPALIVE)
                except TimeoutError:  # a comment now and then: a client gone is noticed
                    try:
                        await response.write(b": keepalive\n\n")
                    except (ConnectionError, RuntimeError):
                        break
                    continue
                if item is None:
                    break
                try:
                    await response.write(_sse(item))
                except (ConnectionError, RuntimeError):
                    child.backlog.appendleft(item)
                    break
            with contextlib.suppress(ConnectionError, RuntimeError):
                await response.write_eof()
            return response
        finally:
            if child.listener is queue:
                child.listener = None

    async def _delete(self, request: web.Request) -> web.Response:
        from aiohttp import web

        refused = self._refused(request)
        if refused is not None:
            return refused
        found = self._session(request)
        if isinstance(found, web.Response):
            return found
        self._children.pop(found.session_id, None)
        await found.stop()
        return web.Response(status=200)


def _error(kind: Any, text: str) -> web.Response:
    from aiohttp import web

    response: web.Response = kind(text=text)
    return web.Response(status=response.status, text=text)


def _rpc_error(request_id: RequestId | None, code: int, message: str) -> web.Response:
    from aiohttp import web

    body = jsonrpc.encode(ErrorResponse(request_id, code, message))
    return web.Response(status=400, body=body, content_type="application/json")


# -- the command line ----------------------------------------------------------------------------

_EPILOG = """\
examples:
  mcp-async bridge https://mcp.example.com/mcp
  mcp-async bridge https://mcp.example.com/mcp --oauth
  MCP_ASYNC_CLIENT_SECRET=... mcp-async bridge https://mcp.example.com/mcp --client-id svc-1
  mcp-async bridge http://127.0.0.1:9000/sse --transport sse
  mcp-async bridge --http 127.0.0.1:8808 -- npx -y @modelcontextprotocol/server-everything

Log lines go to stderr; stdout carries only MCP messages. See docs/bridge.md for host
configuration (Claude Desktop, Cursor, VS Code)."""


def add_bridge_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``bridge`` subcommand to an ``argparse`` subparsers object."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "bridge",
        help="serve a remote MCP server over stdio, or a stdio server over HTTP",
        description=plain(__doc__ or ""),
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        usage="%(prog)s [options] URL\n       %(prog)s --http HOST:PORT [options] -- COMMAND "
              "[ARG ...]",
    )
    parser.add_argument("url", nargs="?", metavar="URL", help="the remote server's MCP URL")
    remote = parser.add_argument_group("to a remote server (URL)")
    remote.add_argument("--transport", choices=("auto", "streamable-http", "sse"),
                        default="auto", help="the remote transport (default: detect)")
    remote.add_argument("--protocol", default="auto",
                        help="the protocol era with the remote server: auto (default), "
                             "legacy, or a version")
    remote.add_argument("--header", "-H", action="append", default=[],
                        metavar="'NAME: VALUE'", help="an HTTP header for every request")
    remote.add_argument("--token", help="a bearer token; better: --token-env VAR")
    remote.add_argument("--token-env", metavar="VAR",
                        help="read the bearer token from this environment variable")
    remote.add_argument("--oauth", action="store_true",
                        help="sign in with OAuth through the browser (authorization code + "
                             "PKCE); tokens are kept in --token-file")
    remote.add_argument("--client-id", help="a pre-registered OAuth client id; with a secret "
                        f"in ${SECRET_ENV} it uses the client_credentials grant")
    remote.add_argument("--scope", help="OAuth scopes to ask for (client credentials)")
    remote.add_argument("--issuer", help="the authorization server to accept (its issuer)")
    remote.add_argument("--token-file", default=None, metavar="PATH",
                        help="where OAuth tokens are kept (default: "
                             "$XDG_CONFIG_HOME/mcp-async/tokens.json)")
    remote.add_argument("--callback-port", type=int, default=0, metavar="PORT",
                        help="loopback port of the OAuth redirect (default: a free one)")
    remote.add_argument("--timeout", type=float, default=600.0, metavar="SECONDS",
                        help="bound of each request, restarted by progress (default 600; "
                             "0: only the host's own)")
    remote.add_argument("--connect-timeout", type=float, default=120.0, metavar="SECONDS",
                        help="bound of opening the remote session, sign-in included "
                             "(default 120)")
    remote.add_argument("--retries", type=int, default=3, metavar="N",
                        help="attempts of an idempotent request (default 3; 1: no retry)")
    local = parser.add_argument_group("from a local stdio server (--http ... -- COMMAND)")
    local.add_argument("--http", metavar="HOST:PORT",
                       help="serve the command after -- as Streamable HTTP here")
    local.add_argument("--path", default="/mcp", help="the endpoint path (default /mcp)")
    local.add_argument("--max-sessions", type=int, default=_MAX_SESSIONS, metavar="N",
                       help=f"most sessions (processes) at once (default {_MAX_SESSIONS})")
    local.add_argument("--allow-origin", action="append", default=[], metavar="ORIGIN",
                       help="also accept requests from this Origin (repeatable)")
    local.add_argument("--allow-non-loopback", action="store_true",
                       help="allow listening on a non-loopback address (dangerous)")
    parser.add_argument("--verbose", "-v", action="store_true", help="log more on stderr")
    parser.set_defaults(run=_run)
    return parser


async def _run(args: argparse.Namespace) -> int:
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, stream=sys.stderr,
        format="mcp-async bridge: %(levelname)s %(message)s",
    )
    command = getattr(args, "server_command", None)
    if args.http is not None:
        if args.url is not None:
            raise ConfigError("--http serves a command after --, not a URL")
        return await _serve_http(args, command or [])
    if command:
        raise ConfigError("a command after -- needs --http HOST:PORT")
    if args.url is None:
        raise ConfigError("give the remote server's URL (or --http HOST:PORT -- COMMAND)")
    return await _serve_stdio(args)


def _headers(pairs: list[str]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition(":")
        if not sep or not name.strip():
            raise ConfigError(f"--header: expected 'Name: value', got {pair!r}")
        headers[name.strip()] = value.strip()
    return headers


def _auth(args: argparse.Namespace) -> str | Hook | None:
    token: str | None = args.token
    if args.token_env is not None:
        token = os.environ.get(args.token_env)
        if not token:
            raise ConfigError(f"--token-env: the environment variable {args.token_env} is empty")
    secret = os.environ.get(SECRET_ENV) or None
    oauth = args.oauth or args.client_id is not None
    if token is not None and oauth:
        raise ConfigError("use either a bearer token or OAuth (--oauth/--client-id)")
    if not oauth:
        return token
    from ..auth.storage import FileTokenStorage

    storage = FileTokenStorage(args.token_file or _default_token_file())
    if args.client_id is not None and secret is not None:
        from ..auth.oauth import ClientCredentials

        return ClientCredentials(args.client_id, secret, scope=args.scope, issuer=args.issuer,
                                 storage=storage)
    from ..auth.callback import LoopbackCallbackHandler, open_browser
    from ..auth.oauth import OAuth

    return OAuth(client_id=args.client_id, issuer=args.issuer, storage=storage,
                 redirect_handler=open_browser, client_name="mcp-async bridge",
                 callback_handler=LoopbackCallbackHandler(port=args.callback_port))


async def _serve_stdio(args: argparse.Namespace) -> int:
    from ..client.async_client import DEFAULT_LOG_LEVEL, AsyncMCPClient
    from ..policies.retry import RetryPolicy

    if args.retries < 1:
        raise ConfigError("--retries must be at least 1")
    if args.timeout < 0 or args.connect_timeout <= 0:
        raise ConfigError("--timeout must be >= 0 and --connect-timeout > 0")
    auth = _auth(args)
    headers = _headers(args.header)

    def make(capabilities: dict[str, Any], info: dict[str, Any]) -> AsyncMCPClient:
        return AsyncMCPClient(
            args.url, transport=args.transport, headers=headers or None, auth=auth,
            retry=RetryPolicy(attempts=args.retries) if args.retries > 1 else None,
            capabilities=capabilities, client_info=info, protocol=args.protocol,
            cache=False, log_level=DEFAULT_LOG_LEVEL,
        )

    make({}, {"name": "mcp-async bridge", "version": "0"})  # bad options fail now, not later
    reader, writer = await _std_streams()
    bridge = StdioBridge(make, _Lines(reader, writer),
                         timeout=args.timeout or None, connect_timeout=args.connect_timeout)
    loop = asyncio.get_running_loop()
    main = asyncio.current_task()
    assert main is not None
    with contextlib.suppress(NotImplementedError):
        loop.add_signal_handler(signal.SIGTERM, main.cancel)
    try:
        return await bridge.run()
    except asyncio.CancelledError:
        return 0
    finally:
        with contextlib.suppress(NotImplementedError):
            loop.remove_signal_handler(signal.SIGTERM)
        writer.close()


async def _serve_http(args: argparse.Namespace, command: list[str]) -> int:
    host, _, port_text = args.http.rpartition(":")
    if not host or not port_text.isdigit():
        raise ConfigError(f"--http must be HOST:PORT, got {args.http!r}")
    bridge = HTTPBridge(
        command, host=host.strip("[]") if host.startswith("[") else host, port=int(port_text),
        path=args.path, max_sessions=args.max_sessions,
        allow_non_loopback=args.allow_non_loopback, allowed_origins=tuple(args.allow_origin),
    )
    url = await bridge.start()
    logger.info("serving %s at %s", " ".join(command), url)
    print(f"listening on {url}", file=sys.stderr, flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await bridge.aclose()
    return 0
