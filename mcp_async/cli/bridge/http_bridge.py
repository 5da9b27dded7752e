"""A local stdio server served as a Streamable HTTP endpoint on loopback
(``mcp-async bridge --http HOST:PORT -- COMMAND``), one process per HTTP session."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from typing import TYPE_CHECKING, Any

from yarl import URL

from ..._exceptions import ConfigError, ProtocolError
from ...protocol import jsonrpc
from ...protocol.jsonrpc import ErrorResponse, Request, RequestId
from .child import ChildServer, end_stream
from .lines import MAX_LINE
from .loopback import check_loopback_bind, is_loopback_name

if TYPE_CHECKING:
    from aiohttp import web

__all__ = ["MAX_SESSIONS", "HTTPBridge"]

logger = logging.getLogger("mcp_async.bridge")

#: Most sessions (server processes) at once, by default.
MAX_SESSIONS = 16
_STREAM_QUEUE = 256  # messages queued for one HTTP stream (then the server waits)
_KEEPALIVE = 15.0  # seconds between SSE comments on an idle GET stream


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
        max_sessions: int = MAX_SESSIONS,
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
        self._children: dict[str, ChildServer] = {}
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
            if not is_loopback_name(origin_host):
                return _error(web.HTTPForbidden, f"origin {origin!r} is not allowed")
        if self._check_host:
            host = request.host.rsplit(":", 1)[0] if not request.host.startswith("[") else (
                request.host.split("]")[0] + "]")
            if not is_loopback_name(host):
                return _error(web.HTTPForbidden, f"host {request.host!r} is not allowed")
        return None

    def _session(self, request: web.Request) -> ChildServer | web.Response:
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

    async def _start_child(self) -> ChildServer | web.Response:
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
        child = ChildServer(session_id, process)
        child.reader = asyncio.ensure_future(child.read())
        self._children[session_id] = child
        return child

    async def _stream_request(
        self, request: web.Request, child: ChildServer, parsed: Request, message: dict[str, Any]
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
            end_stream(child.listener)
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
