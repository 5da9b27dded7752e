"""Small legacy HTTP+SSE (MCP 2024-11-05) servers on aiohttp.web, for the transport tests.

``GET <sse_path>`` opens an event stream whose first event is ``endpoint`` (data: where
to POST, by default ``/messages?session_id=...``). Client messages POSTed there are
answered ``202 Accepted``; replies, server requests and notifications go out on the
stream as ``event: message``. A POST on ``<sse_path>`` itself is what a detecting
client sends first (a Streamable HTTP ``initialize``): it is answered ``probe_status``.

:class:`LegacyOptions` holds the fault switches fixed at start; :class:`LegacyApp`
holds the runtime switches (``hold``, ``reject_posts``, :meth:`LegacyApp.drop_streams`)
and counts what the server saw.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import secrets
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

__all__ = ["LegacyApp", "LegacyOptions", "free_port", "serve_legacy", "wait_until"]

SSE = "text/event-stream"

TOOLS = [
    {
        "name": "echo",
        "description": "Echo the text back.",
        "inputSchema": {
            "type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"],
        },
    },
    {
        "name": "add",
        "description": "Add two integers.",
        "inputSchema": {
            "type": "object",
            "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
            "required": ["a", "b"],
        },
    },
    {"name": "ask_ping", "inputSchema": {"type": "object"}},
    {"name": "ask_sample", "inputSchema": {"type": "object"}},
    {"name": "log", "inputSchema": {"type": "object"}},
]


@dataclass
class LegacyOptions:
    """Switches fixed when the server starts."""

    sse_path: str = "/sse"
    #: The ``endpoint`` event's data; ``{sid}`` and ``{origin}`` are filled in.
    endpoint: str = "/messages?session_id={sid}"
    send_endpoint: bool = True
    protocol_version: str = "2024-11-05"
    #: What a POST on ``sse_path`` (the detection probe) gets.
    probe_status: int = 405
    probe_body: bytes = b"Method Not Allowed"
    probe_content_type: str = "text/plain"
    probe_headers: dict[str, str] = field(default_factory=dict)
    #: What the GET gets: a status other than 200 is answered with a text body, a
    #: content type other than text/event-stream with an HTML page.
    get_status: int = 200
    get_content_type: str = SSE
    #: Keep-alive comments and empty events around every message on the stream.
    chatter: bool = False
    #: A ``message`` event that is not JSON before every message on the stream.
    garbage: bool = False


@dataclass
class _Session:
    sid: str
    queue: asyncio.Queue[bytes | None] = field(default_factory=asyncio.Queue)
    pending: dict[str, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)


class _RPCError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class LegacyApp:
    """A legacy HTTP+SSE MCP server and what it saw."""

    def __init__(self, options: LegacyOptions | None = None) -> None:
        self.options = options or LegacyOptions()
        self.server: TestServer | None = None
        self.sessions: dict[str, _Session] = {}
        # -- runtime switches
        #: ``method`` or ``"tools/call:<name>"`` -> how many such requests get no reply.
        self.hold: Counter[str] = Counter()
        #: How many of the next message POSTs are answered 404 (session unknown) ...
        self.reject_posts = 0
        #: ... and how long each of those 404s takes, in order (default: no delay).
        self.reject_delays: list[float] = []
        # -- counters
        self.gets = 0
        self.probes = 0
        self.posts: Counter[str] = Counter()
        self.post_paths: list[str] = []
        #: Headers of every message POST and of every GET.
        self.post_headers: list[dict[str, str]] = []
        self.get_headers: list[dict[str, str]] = []
        self.disconnects = 0
        self.drops = 0
        #: ``(HTTP method, Authorization header or None)`` for every request.
        self.authorizations: list[tuple[str, str | None]] = []
        #: Client answers to server requests, in arrival order.
        self.answers: list[dict[str, Any]] = []
        self.held_ids: list[Any] = []
        self._ids = itertools.count(1)
        self._tasks: set[asyncio.Task[None]] = set()

    # -- lifecycle -----------------------------------------------------------------------
    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get(self.options.sse_path, self._get)
        app.router.add_post("/{tail:.*}", self._post)
        app.on_shutdown.append(self._shutdown)
        return app

    async def _shutdown(self, app: web.Application) -> None:
        for task in list(self._tasks):
            task.cancel()
        for session in list(self.sessions.values()):
            session.queue.put_nowait(None)

    @property
    def url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url(self.options.sse_path))

    @property
    def origin(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("/"))[:-1]

    @property
    def port(self) -> int:
        assert self.server is not None and self.server.port is not None
        return self.server.port

    @property
    def initializes(self) -> int:
        return self.posts["initialize"]

    @property
    def message_posts(self) -> int:
        """POSTs to the message endpoint (everything but the probe)."""
        return sum(self.posts.values())

    def drop_streams(self) -> None:
        """End every open event stream from the server side (the sessions are gone)."""
        for session in list(self.sessions.values()):
            self.sessions.pop(session.sid, None)
            session.queue.put_nowait(None)
            self.drops += 1

    # -- GET: the event stream -----------------------------------------------------------
    async def _get(self, request: web.Request) -> web.StreamResponse:
        options = self.options
        self.gets += 1
        self.get_headers.append(dict(request.headers))
        self.authorizations.append(("GET", request.headers.get("Authorization")))
        if options.get_status != 200:
            return web.Response(status=options.get_status, text="no event stream here")
        if options.get_content_type != SSE:
            return web.Response(
                text="<html><body>not an MCP server</body></html>",
                content_type=options.get_content_type,
            )
        session = _Session(secrets.token_hex(8))
        self.sessions[session.sid] = session
        response = web.StreamResponse(
            headers={"Content-Type": SSE, "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        try:
            if options.send_endpoint:
                endpoint = options.endpoint.format(
                    sid=session.sid, origin=self.origin, port=self.port
                )
                await response.write(f"event: endpoint\ndata: {endpoint}\n\n".encode())
            if options.chatter:
                await response.write(b": ping\n\n")
            while True:
                chunk = await session.queue.get()
                if chunk is None:
                    break
                await response.write(chunk)
        except asyncio.CancelledError:  # the client went away (handler cancellation)
            self.disconnects += 1
            raise
        except ConnectionResetError:
            self.disconnects += 1
        finally:
            if self.sessions.get(session.sid) is session:
                del self.sessions[session.sid]
        return response

    def _push(self, session: _Session, message: dict[str, Any]) -> None:
        put = session.queue.put_nowait
        if self.options.chatter:
            put(b": keep-alive\n\n")
            put(b"data:\n\n")
            put(b"event: message\ndata:\n\n")
            put(b"event: heartbeat\n\n")
        if self.options.garbage:
            put(b"event: message\ndata: {this is not json\n\n")
        put(f"event: message\ndata: {json.dumps(message)}\n\n".encode())
        if self.options.chatter:
            put(b":\n\n")

    # -- POST: the probe and the message endpoint --------------------------------------
    async def _post(self, request: web.Request) -> web.Response:
        options = self.options
        self.authorizations.append(("POST", request.headers.get("Authorization")))
        if request.path == options.sse_path:
            self.probes += 1
            return web.Response(
                status=options.probe_status, body=options.probe_body,
                content_type=options.probe_content_type, headers=options.probe_headers,
            )
        self.post_paths.append(request.path_qs)
        self.post_headers.append(dict(request.headers))
        try:
            message = json.loads(await request.read())
        except ValueError:
            return web.Response(status=400, text="not JSON")
        method = message.get("method")
        self.posts[method or "<answer>"] += 1
        session = self.sessions.get(request.query.get("session_id", ""))
        if session is not None and self.reject_posts > 0:
            self.reject_posts -= 1
            if self.reject_delays:
                await asyncio.sleep(self.reject_delays.pop(0))
            session = None
        if session is None:
            return web.Response(status=404, text="Could not find session")
        if method is None:  # the client's answer to a server request
            self.answers.append(message)
            waiter = session.pending.pop(str(message.get("id")), None)
            if waiter is not None and not waiter.done():
                waiter.set_result(message)
        elif "id" in message:
            self._spawn(self._answer(session, message))
        return web.Response(status=202, text="Accepted")

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer(self, session: _Session, message: dict[str, Any]) -> None:
        method = message["method"]
        params = message.get("params") or {}
        key = f"tools/call:{params.get('name')}" if method == "tools/call" else method
        if self.hold[key] > 0:
            self.hold[key] -= 1
            self.held_ids.append(message["id"])
            return
        reply: dict[str, Any] = {"jsonrpc": "2.0", "id": message["id"]}
        try:
            reply["result"] = await self._dispatch(session, method, params)
        except _RPCError as exc:
            reply["error"] = {"code": exc.code, "message": exc.message}
        self._push(session, reply)

    async def _dispatch(self, session: _Session, method: str, params: dict[str, Any]) -> Any:
        if method == "initialize":
            return {
                "protocolVersion": self.options.protocol_version,
                "capabilities": {"tools": {}, "logging": {}},
                "serverInfo": {"name": "legacy-test", "version": "0.1"},
            }
        if method == "ping":
            return {}
        if method == "tools/list":
            return {"tools": TOOLS}
        if method == "tools/call":
            return await self._call(session, params.get("name"), params.get("arguments") or {})
        raise _RPCError(-32601, f"method not found: {method}")

    async def _call(self, session: _Session, name: Any, args: dict[str, Any]) -> Any:
        if name == "echo":
            await asyncio.sleep(float(args.get("delay", 0)))
            text = str(args.get("text", ""))
        elif name == "add":
            text = str(args["a"] + args["b"])
        elif name == "ask_ping":
            answer = await self._ask(session, "ping", None)
            text = "pong " + json.dumps(answer.get("result"))
        elif name == "ask_sample":
            answer = await self._ask(session, "sampling/createMessage", {
                "messages": [{"role": "user", "content": {"type": "text", "text": "hi?"}}],
                "maxTokens": 10,
            })
            text = "sampled " + answer["result"]["content"]["text"]
        elif name == "log":
            self._push(session, {
                "jsonrpc": "2.0", "method": "notifications/message",
                "params": {"level": "warning", "logger": "legacy", "data": args.get("text")},
            })
            text = "logged"
        else:
            raise _RPCError(-32602, f"unknown tool {name!r}")
        return {"content": [{"type": "text", "text": text}], "isError": False}

    async def _ask(self, session: _Session, method: str, params: Any) -> dict[str, Any]:
        request_id = f"srv-{next(self._ids)}"
        waiter: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        session.pending[request_id] = waiter
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
        if params is not None:
            message["params"] = params
        self._push(session, message)
        async with asyncio.timeout(5):
            return await waiter


@contextlib.asynccontextmanager
async def serve_legacy(options: LegacyOptions | None = None) -> AsyncIterator[LegacyApp]:
    """Run a :class:`LegacyApp` on 127.0.0.1 (a free port) for the block."""
    legacy = LegacyApp(options)
    server = TestServer(legacy.app(), host="127.0.0.1")
    await server.start_server()
    legacy.server = server
    try:
        yield legacy
    finally:
        await server.close()


async def wait_until(predicate: Callable[[], bool], timeout: float = 2.0) -> None:
    """Poll ``predicate`` every few milliseconds; fail the test after ``timeout``."""
    async with asyncio.timeout(timeout):
        while not predicate():  # noqa: ASYNC110 - the predicates read plain counters
            await asyncio.sleep(0.005)


def free_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


#: The ``start`` fixture (tests/transports/conftest.py): ``await start(**LegacyOptions)``.
Start = Callable[..., Awaitable[LegacyApp]]
