"""A small, real MCP server on loopback, with fault injection, for tests, demos and benchmarks.

:class:`MCPTestServer` speaks Streamable HTTP (revisions 2025-03-26, 2025-06-18 and
2025-11-25) on ``aiohttp.web``. Register Python functions as tools, prompts and
completions, add static resources and URI templates, then start it::

    server = MCPTestServer()

    @server.tool
    def add(a: int, b: int) -> dict[str, int]:
        \"\"\"Add two numbers.\"\"\"
        return {"sum": a + b}

    async with server:
        url = server.url  # http://127.0.0.1:PORT/mcp

Everything is deterministic: session ids are random but nothing depends on them,
and probabilistic faults draw from a seeded :class:`random.Random`.

With ``eras=("2026-07-28", "2025-11-25")`` it also speaks MCP 2026-07-28, the stateless
era (``server/discover``, the ``_meta`` envelope, input rounds, tasks as an extension);
see :class:`MCPTestServer`.

The same server speaks the two other MCP transports, with the same tools, resources,
prompts, logging, progress and server requests:

* **stdio**: :meth:`MCPTestServer.serve_stdio` serves one session as newline-delimited
  JSON-RPC on stdin/stdout (or given streams) until the input ends; from a shell,
  ``python -m mcp_async.testing --stdio`` runs :func:`demo_server` that way (see
  :func:`main` for the fault-injection flags).
* **in memory**: :meth:`MCPTestServer.serve_memory` serves the same session to the
  client end of a :func:`~mcp_async.transports.memory.memory_pair`, in this process.
* **legacy HTTP+SSE** (2024-11-05): ``MCPTestServer(transport="sse")`` serves
  ``GET /sse`` (an event stream whose first event, ``endpoint``, names
  ``/messages?session_id=...``) and ``POST /messages`` (answered 202; replies go out on
  the stream). :meth:`MCPTestServer.drop_sse_streams` breaks the open streams.

Faults (:class:`Fault`, added with ``server.faults.add(...)``) make the next matching
POSTs fail in a chosen way: an HTTP status with headers and a body, a delay, a
dropped connection, an expired session, a garbled or mismatched reply, or an SSE
stream cut before its response. :class:`ServerStats` (``server.stats``) counts what
the server saw, including the number of distinct TCP connections.

Two-way traffic: with ``get_stream=True`` a client may open the standalone GET stream,
on which :meth:`MCPTestServer.notify` and :meth:`MCPTestServer.request` reach it; a
tool's :class:`ToolContext` sends requests (``elicit``, ``create_message``,
``list_roots``) on its own SSE reply or, in JSON mode, on that GET stream. With
``resumable=True`` every SSE event is kept under its id, and a GET with
``Last-Event-ID`` replays the rest of that stream (the request keeps running after a
cut, so its response waits there); :meth:`Fault.end_stream` and
:meth:`Fault.break_stream` cut a reply stream part-way.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from ..protocol.jsonrpc import Message, decode, encode, load_document
from ..transports.memory import MemoryPeer
from .context import RequestFailed, ToolContext
from .faults import Fault, FaultPlan
from .link import StreamLink
from .methods import ServerMethods
from .modern import ModernMode
from .state import Session
from .stats import ServerStats
from .stdio import Send, serve_lines
from .wire import HANDSHAKE_VERSIONS, SESSION_NOT_FOUND, STATELESS_VERSIONS

if TYPE_CHECKING:
    from aiohttp import web

    from .legacy_sse import LegacySSEFrontEnd

__all__ = [
    "SESSION_NOT_FOUND",
    "Fault",
    "FaultPlan",
    "MCPTestServer",
    "RequestFailed",
    "ServerStats",
    "ToolContext",
]


class MCPTestServer(ServerMethods):
    """A Streamable HTTP MCP server on loopback, for tests, demos and benchmarks.

    ``reply`` chooses how requests are answered: ``"json"`` (one JSON body) or ``"sse"``
    (an event stream: optional priming event when ``priming``, notifications, the
    response, end). ``stateful`` servers hand out an ``Mcp-Session-Id`` on
    ``initialize`` and require it afterwards. ``page_size`` makes every list method
    paginate. ``port=0`` picks a free port; :meth:`start` returns the URL.

    ``get_stream`` (stateful only) offers the standalone GET stream (else GET is 405),
    whose events are always kept for resumption; ``resumable`` keeps the events of SSE
    replies too, for replay after ``Last-Event-ID``.

    ``transport="sse"`` serves the legacy HTTP+SSE transport instead (``reply``,
    ``stateful``, ``priming``, ``get_stream`` and ``resumable`` do not apply): ``GET
    path`` (default ``/sse``; :meth:`start` returns its URL) opens a session's event
    stream, whose first event is ``endpoint`` with data ``messages_path?session_id=<hex>``
    (or ``endpoint_override`` with that query, e.g. on another origin); ``POST`` there
    answers 202 with an empty body (400 without ``session_id`` or for bad JSON, 404 for
    an unknown session) and every reply, notification and server request goes out on
    the stream as ``event: message``. With ``keepalive`` seconds, an idle stream gets a
    ``: ping`` comment that often. When a stream closes its session is gone.

    ``versions`` lists the protocol revisions ``initialize`` accepts: the client's is
    answered if listed, else the first. Defaults: Streamable HTTP
    :data:`~mcp_async.protocol.mcp.SUPPORTED_VERSIONS`; legacy SSE 2024-11-05 first,
    then 2025-11-25, 2025-06-18, 2025-03-26; stdio those four, newest first. A session on
    2024-11-05 is not offered the ``completions`` capability (which that revision lacks).

    ``eras`` opts in to MCP 2026-07-28, the stateless era (default: the handshake era
    only, so ``protocol="auto"`` clients probe and fall back). It lists the revisions
    served, e.g. ``eras=("2026-07-28", "2025-11-25")``; its handshake revisions replace
    ``versions`` (give one or the other), and without any the server is stateless only
    (``initialize`` gets ``-32022``). Then: HTTP POSTs with an ``MCP-Protocol-Version``
    that names no handshake revision get no session (GET and DELETE: 405); over stdio a
    request's ``_meta`` protocolVersion picks its era. The server answers
    ``server/discover``, checks the ``_meta`` envelope (``-32602``), the routing headers
    (``-32020``) and the version (``-32022``), stamps ``resultType`` on every result,
    refuses ``ping``, ``logging/setLevel`` and ``resources/subscribe`` (``-32601``, HTTP
    404), turns :class:`ToolContext` requests into input rounds (MRTR) and runs task
    tools in the ``io.modelcontextprotocol/tasks`` extension's form. See
    ``mcp_async.testing.modern`` and docs/testing.md. ``server.modern`` is that mode
    (``None`` when off).
    """

    def __init__(
        self,
        *,
        name: str = "mcp-async-test",
        version: str = "1.0.0",
        reply: Literal["json", "sse"] = "json",
        stateful: bool = True,
        instructions: str | None = None,
        page_size: int | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        path: str | None = None,
        priming: bool = False,
        get_stream: bool = False,
        resumable: bool = False,
        transport: Literal["http", "sse"] = "http",
        messages_path: str = "/messages",
        keepalive: float | None = None,
        endpoint_override: str | None = None,
        versions: Sequence[str] | None = None,
        eras: Sequence[str] | None = None,
    ) -> None:
        if reply not in ("json", "sse"):
            raise ValueError("reply must be 'json' or 'sse'")
        if transport not in ("http", "sse"):
            raise ValueError("transport must be 'http' or 'sse'")
        if page_size is not None and page_size < 1:
            raise ValueError("page_size must be >= 1 or None")
        if keepalive is not None and keepalive <= 0:
            raise ValueError("keepalive must be > 0 seconds or None")
        if versions is not None and (
            isinstance(versions, str) or not versions
            or not all(isinstance(v, str) for v in versions)
        ):
            raise ValueError("versions must be a non-empty sequence of revision strings")
        stateless: tuple[str, ...] = ()
        if eras is not None:
            known = (*STATELESS_VERSIONS, *HANDSHAKE_VERSIONS)
            if isinstance(eras, str) or not eras or any(era not in known for era in eras):
                raise ValueError(f"eras must be a non-empty sequence of {known}")
            stateless = tuple(v for v in STATELESS_VERSIONS if v in eras)
            handshake = tuple(v for v in HANDSHAKE_VERSIONS if v in eras)
            if handshake and versions is not None:
                raise ValueError("give the handshake revisions in eras or in versions, not both")
            if stateless and transport == "sse":
                raise ValueError("the legacy HTTP+SSE transport has no stateless era")
            versions = handshake or versions
        super().__init__()
        self.name = name
        self.version = version
        self.reply = reply
        self.stateful = stateful
        self.instructions = instructions
        self.page_size = page_size
        self.priming = priming
        self.get_stream = get_stream
        self.resumable = resumable
        self.transport = transport
        #: Seconds between ``: ping`` comments on an idle legacy SSE stream (None: never).
        self.keepalive = keepalive
        #: Announced instead of the messages path in the ``endpoint`` event (legacy SSE).
        self.endpoint_override = endpoint_override
        #: Revisions ``initialize`` accepts (None: the transport's defaults).
        self.versions = tuple(versions) if versions is not None else None
        self._host = host
        self._port = port
        self._path = path if path is not None else ("/sse" if transport == "sse" else "/mcp")
        self._runner: web.AppRunner | None = None
        self._url: str | None = None
        #: The stateless era (``eras`` naming 2026-07-28), else None.
        self.modern: ModernMode | None = None
        if stateless:
            handshake_too = eras is not None and any(v in HANDSHAKE_VERSIONS for v in eras)
            self.modern = ModernMode(self, stateless, handshake_too)
        self._messages_path = messages_path
        # The legacy SSE front end (its open streams), made by the first start in that mode.
        self._legacy_sse: LegacySSEFrontEnd | None = None

    # ---- lifecycle --------------------------------------------------------------------

    async def start(self) -> str:
        """Start listening and return the endpoint URL (idempotent).

        The URL is the Streamable HTTP endpoint, or in legacy SSE mode the URL to GET.
        Not needed for :meth:`serve_stdio`.
        """
        if self._runner is not None:
            return self.url
        # The HTTP front ends and aiohttp.web load here: serving stdio never needs them.
        from aiohttp import web

        from .legacy_sse import LegacySSEFrontEnd
        from .streamable_http import StreamableHTTPFrontEnd

        app = web.Application(client_max_size=64 * 1024 * 1024)
        if self.transport == "sse":
            if self._legacy_sse is None:
                self._legacy_sse = LegacySSEFrontEnd(self, self._messages_path)
            self._legacy_sse.add_routes(app, self._path)
            # A client leaving cancels its stream's handler, which ends the session.
            runner = web.AppRunner(
                app, access_log=None, shutdown_timeout=1.0, handler_cancellation=True
            )
        else:
            StreamableHTTPFrontEnd(self, self.modern).add_routes(app, self._path)
            runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self._host, self._port)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        host, port = runner.addresses[0][:2]
        host_text = f"[{host}]" if ":" in host else host
        self._runner = runner
        self._url = f"http://{host_text}:{port}{self._path}"
        return self._url

    async def stop(self) -> None:
        """Stop listening and close every connection."""
        for session in self._sessions.values():
            if session.standalone is not None:
                session.standalone.kick()
        for stream in self._events.streams():
            stream.kick()
        if self._legacy_sse is not None:
            self._legacy_sse.end_all()
        runner, self._runner, self._url = self._runner, None, None
        await self.task_store.close()
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> MCPTestServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        """The endpoint URL; raises :class:`RuntimeError` before :meth:`start`."""
        if self._url is None:
            raise RuntimeError("MCPTestServer is not started")
        return self._url

    @property
    def session_ids(self) -> frozenset[str]:
        """Ids of the sessions the server currently knows."""
        return frozenset(self._sessions)

    def expire_sessions(self) -> None:
        """Forget every session: the next request with an old id gets HTTP 404."""
        self._sessions.clear()

    def drop_sse_streams(self, *, abort: bool = True) -> int:
        """Close every open legacy SSE stream and forget its session (POSTs then get 404).

        ``abort`` breaks the TCP connection mid-body; ``abort=False`` ends the body
        cleanly instead. Requests still running are cancelled. Returns how many streams
        were closed.
        """
        return 0 if self._legacy_sse is None else self._legacy_sse.drop_streams(abort=abort)

    # ---- stdio --------------------------------------------------------------------------

    async def serve_stdio(
        self,
        reader: asyncio.StreamReader | None = None,
        writer: asyncio.StreamWriter | None = None,
        *,
        grace: float = 2.0,
        banner: str | None = None,
    ) -> None:
        """Serve one session over stdio until the input ends (no listener needed).

        Newline-delimited JSON-RPC: one message (or batch) per line on ``reader``, one
        reply, notification or server request per line on ``writer``; they default to
        this process's stdin and stdout (``sys.stdout`` then goes to stderr, so a stray
        ``print`` cannot corrupt the stream). Requests run concurrently;
        ``notifications/cancelled`` cancels a running ``tools/call``; each line waits
        for ``drain``. A line that is not JSON gets a Parse error (id null). At end of
        input, server requests still waiting fail, running requests get ``grace``
        seconds to answer and are then cancelled. ``banner`` is written first, as a
        non-JSON line (fault injection). :meth:`notify` and :meth:`request` reach the
        session while it lasts; ``faults`` apply their ``delay``, ``wrong_id`` and
        ``invalid_json`` effects.
        """
        await serve_lines(self._open_link, reader, writer, grace=grace, banner=banner)

    # ---- memory -------------------------------------------------------------------------

    async def serve_memory(self, peer: MemoryPeer) -> None:
        """Serve one session to the client end of a
        :func:`~mcp_async.transports.memory.memory_pair`, in this process, until cancelled.

        The session is the one :meth:`serve_stdio` serves (the same revisions, faults and
        two-way traffic), with messages passed as objects instead of lines: no socket, no
        process. Cancelling the task that runs it cancels running requests::

            transport, peer = memory_pair()
            serving = asyncio.create_task(server.serve_memory(peer))
            async with AsyncMCPClient(transport) as client:
                assert (await client.call_tool("echo", {"text": "hi"})).text == "hi"
            serving.cancel()
        """

        async def send(data: bytes) -> None:
            for message in _messages(decode(data)):
                await peer.send(message)

        link = self._open_link(send)
        try:
            while True:
                message = await peer.receive()
                link.receive(load_document(encode(message)))
        finally:
            link.close()

    def _open_link(self, send: Send) -> StreamLink:
        """A new stdio session writing through ``send``."""
        session = Session(secrets.token_hex(16), self._versions("stdio")[0])
        self._sessions[session.id] = session
        self.stats.sessions_created += 1
        return StreamLink(self, session, send, "stdio")


def _messages(decoded: Message | list[Message]) -> list[Message]:
    return decoded if isinstance(decoded, list) else [decoded]
