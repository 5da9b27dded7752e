"""A minimal, fast MCP server for the legacy HTTP+SSE transport (2024-11-05), on bare asyncio.

* ``GET /sse`` opens a session's event stream (chunked ``text/event-stream``); its
  first event is ``event: endpoint`` with ``data: /messages?session_id=<hex>``.
* ``POST /messages?session_id=<hex>`` takes one JSON-RPC message and answers
  ``202 Accepted`` at once; the reply to a request goes out on the session's event
  stream as ``event: message``. An unknown session gets 404, a body that is not JSON 400.
* ``GET /stats`` gives the sessions opened, live sessions and POSTs seen.

Replies produced during one event-loop pass are written to their stream as one chunk
(a ``call_soon`` flush), so under concurrency many replies share one write. Answers
are the same as the other minimal servers' (``benchmarks.protocol_data.answer``). The
session ends when the client drops the event stream.

It is bare asyncio (HTTP/1.1 keep-alive, Content-Length request bodies) for the same
reason as ``minimal_server``: an aiohttp.web version cost 120-200 us of server CPU per
call, as much as a thin client, and a slow server changes the clients' own cost per
call (fewer replies per wake-up), so the figures would measure the server.

    python -m benchmarks.legacy_sse_server [--port 0]   # prints "READY <port>"
"""

from __future__ import annotations

import asyncio
import json
import uuid
from urllib.parse import parse_qs

from .minimal_server import RequestParser, _head, _plain
from .protocol_data import answer
from .serving import run_protocol_server

SSE_PATH = "/sse"
MESSAGES_PATH = "/messages"
SERVER_NAME = "benchmarks-legacy-sse"
_dumps = json.JSONEncoder(separators=(",", ":")).encode
_STREAM_HEAD = _head(200, [("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache"),
                           ("Transfer-Encoding", "chunked")])
_ACCEPTED = _plain(202, b"Accepted", "text/plain")


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


class EventStream:
    """One session's ``GET /sse`` connection: events queued, then flushed once per loop pass."""

    __slots__ = ("loop", "outbox", "transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self.transport: asyncio.Transport | None = transport
        self.loop = loop
        self.outbox: list[bytes] = []

    def send(self, message: bytes) -> None:
        """Queue one ``message`` event."""
        if not self.outbox:
            self.loop.call_soon(self.flush)
        self.outbox.append(b"event: message\r\ndata: " + message + b"\r\n\r\n")

    def flush(self) -> None:
        """Write every queued event as one chunk."""
        data = b"".join(self.outbox)
        self.outbox.clear()
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(_chunk(data))


class ServerState:
    """Sessions by id and counters shared by all connections."""

    def __init__(self) -> None:
        self.sessions: dict[str, EventStream] = {}
        self.opened = 0
        self.requests = 0

    def open_stream(self, transport: asyncio.Transport) -> str:
        """Start a session on ``transport`` (a ``GET /sse``); returns its id."""
        session_id = uuid.uuid4().hex
        self.sessions[session_id] = EventStream(transport, asyncio.get_running_loop())
        self.opened += 1
        endpoint = f"{MESSAGES_PATH}?session_id={session_id}"
        transport.write(_STREAM_HEAD
                        + _chunk(f"event: endpoint\r\ndata: {endpoint}\r\n\r\n".encode()))
        return session_id

    def close_stream(self, session_id: str) -> None:
        """End a session (its stream connection is gone)."""
        stream = self.sessions.pop(session_id, None)
        if stream is not None:
            stream.transport = None

    def post(self, query: str, body: bytes) -> bytes:
        """Answer ``POST /messages?<query>``: 202, the reply queued on the stream."""
        self.requests += 1
        session_id = parse_qs(query).get("session_id", [""])[0]
        stream = self.sessions.get(session_id)
        if stream is None:
            return _plain(404, b"Could not find session", "text/plain")
        try:
            message = json.loads(body)
        except ValueError:
            return _plain(400, b"Could not parse message", "text/plain")
        if isinstance(message, dict) and "id" in message and "method" in message:
            reply = {"jsonrpc": "2.0", "id": message["id"], **answer(message, SERVER_NAME)}
            stream.send(_dumps(reply).encode())
        return _ACCEPTED

    def stats(self) -> bytes:
        """``GET /stats``."""
        figures = {"sessions": self.opened, "live": len(self.sessions), "requests": self.requests}
        return _plain(200, _dumps(figures).encode())


class HTTPConnection(RequestParser):
    """One keep-alive HTTP/1.1 connection; it becomes an event stream after ``GET /sse``."""

    def __init__(self, state: ServerState) -> None:
        super().__init__()
        self.state = state
        self.session_id: str | None = None

    def data_received(self, data: bytes) -> None:
        if self.session_id is None:  # nothing more is expected on an event stream
            super().data_received(data)

    def respond(self, method: str, target: str, headers: dict[str, str], body: bytes) -> bool:
        assert self.transport is not None
        path, _, query = target.partition("?")
        if method == "POST" and path == MESSAGES_PATH:
            self.transport.write(self.state.post(query, body))
        elif method == "GET" and path == SSE_PATH:
            self.session_id = self.state.open_stream(self.transport)
            return False
        elif method == "GET" and path == "/stats":
            self.transport.write(self.state.stats())
        elif path in (SSE_PATH, MESSAGES_PATH):
            self.transport.write(_plain(405, extra=[("Allow", "GET" if path == SSE_PATH
                                                     else "POST")]))
        else:
            self.transport.write(_plain(404))
        return True

    def connection_lost(self, exc: Exception | None) -> None:
        if self.session_id is not None:
            self.state.close_stream(self.session_id)
        super().connection_lost(exc)


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    state = ServerState()
    description = "legacy HTTP+SSE MCP server for the benchmarks"
    run_protocol_server(lambda: HTTPConnection(state), description, argv)


if __name__ == "__main__":
    main()
