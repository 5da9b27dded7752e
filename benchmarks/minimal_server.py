"""A minimal, fast MCP Streamable HTTP server on bare asyncio (HTTP/1.1 keep-alive).

It exists so that client cost dominates the benchmark: it parses just enough HTTP
and JSON-RPC to answer ``initialize``, notifications (202), ``ping``,
``logging/setLevel``, ``tools/list`` and ``tools/call``, with stateful
``Mcp-Session-Id`` sessions (404 for an unknown one, DELETE ends one).

It also speaks MCP 2026-07-28 (stateless): ``server/discover`` gets a
``DiscoverResult``, and a request whose ``params._meta`` carries
``io.modelcontextprotocol/protocolVersion`` needs no session (none is handed out)
and must carry the routing headers: ``MCP-Protocol-Version`` equal to that version,
``Mcp-Method`` and, for ``tools/call``, ``Mcp-Name`` (else 400 with ``-32020``).

The reply kind is chosen by the path: ``/json/mcp`` answers with
``application/json`` bodies, ``/event-stream/mcp`` with a one-event
``text/event-stream`` (chunked, ended right after the event, as the SDK server
does). No path ends in ``/sse``: FastMCP would take that for the legacy SSE
transport. ``GET /stats`` returns how many TCP connections and requests it has
seen (a cross-check for the client-side connection count) and how many
``server/discover`` requests (``discover``) and ``initialize`` requests.

    python -m benchmarks.minimal_server [--port 0]   # prints "READY <port>"
"""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

from .protocol_data import VERSION_META, answer
from .serving import run_protocol_server

#: Paths under this prefix get event-stream replies; all others get JSON.
SSE_PREFIX = "/event-stream"
_dumps = json.JSONEncoder(separators=(",", ":")).encode
_REASONS = {200: "OK", 202: "Accepted", 400: "Bad Request", 404: "Not Found",
            405: "Method Not Allowed", 411: "Length Required"}


def _head(status: int, headers: list[tuple[str, str]]) -> bytes:
    lines = [f"HTTP/1.1 {status} {_REASONS[status]}"]
    lines.extend(f"{name}: {value}" for name, value in headers)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _plain(status: int, body: bytes = b"", content_type: str = "application/json",
           extra: list[tuple[str, str]] | None = None) -> bytes:
    headers = [("Content-Type", content_type), ("Content-Length", str(len(body)))]
    if extra:
        headers.extend(extra)
    return _head(status, headers) + body


def _error(code: int, message: str) -> bytes:
    error = {"code": code, "message": message}
    return _dumps({"jsonrpc": "2.0", "id": None, "error": error}).encode()


def _sse(body: bytes, extra: list[tuple[str, str]]) -> bytes:
    event = b"event: message\r\ndata: " + body + b"\r\n\r\n"
    headers = [("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache"),
               ("Transfer-Encoding", "chunked"), *extra]
    return _head(200, headers) + b"%x\r\n%s\r\n0\r\n\r\n" % (len(event), event)


class ServerState:
    """Sessions and counters shared by all connections."""

    def __init__(self) -> None:
        self.sessions: set[str] = set()
        self.connections = 0
        self.requests = 0
        self.discover = 0
        self.initialize = 0

    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> bytes:
        """Answer one HTTP request with the full response bytes."""
        self.requests += 1
        if method == "GET" and path == "/stats":
            stats = {"connections": self.connections, "requests": self.requests,
                     "discover": self.discover, "initialize": self.initialize}
            return _plain(200, _dumps(stats).encode())
        if method == "DELETE":
            self.sessions.discard(headers.get("mcp-session-id", ""))
            return _plain(200)
        if method != "POST":
            return _plain(405, extra=[("Allow", "POST, DELETE")])
        try:
            message = json.loads(body)
        except ValueError:
            return _plain(400, _error(-32700, "parse error"))
        if not isinstance(message, dict):
            return _plain(400)
        rpc_method = message.get("method")
        session = headers.get("mcp-session-id")
        extra: list[tuple[str, str]] = []
        params = message.get("params")
        meta = params.get("_meta") if isinstance(params, dict) else None
        version = meta.get(VERSION_META) if isinstance(meta, dict) else None
        if rpc_method == "server/discover":
            self.discover += 1
        if version is not None or rpc_method == "server/discover":
            mismatch = self._routing_mismatch(rpc_method, params, version, headers)
            if mismatch is not None:
                return _plain(400, _dumps({"jsonrpc": "2.0", "id": message.get("id"),
                                           "error": {"code": -32020, "message": mismatch}}
                                          ).encode())
        elif rpc_method == "initialize":
            self.initialize += 1
            session = uuid.uuid4().hex
            self.sessions.add(session)
            extra.append(("Mcp-Session-Id", session))
        elif session is None:
            return _plain(400, _error(-32600, "missing Mcp-Session-Id"))
        elif session not in self.sessions:
            return _plain(404, _error(-32001, "session not found"))
        if "id" not in message or rpc_method is None:
            return _plain(202)  # a notification, or an answer to a server request
        reply = _dumps({"jsonrpc": "2.0", "id": message["id"], **self._answer(message)}).encode()
        if path.startswith(SSE_PREFIX):
            return _sse(reply, extra)
        return _plain(200, reply, extra=extra)

    @staticmethod
    def _answer(message: dict[str, Any]) -> dict[str, Any]:
        return answer(message, "benchmarks-minimal")

    @staticmethod
    def _routing_mismatch(method: Any, params: Any, version: str | None,
                          headers: dict[str, str]) -> str | None:
        """Why a 2026-07-28 request's routing headers disagree with its body, or None."""
        if version is not None and headers.get("mcp-protocol-version") != version:
            return "MCP-Protocol-Version does not match _meta"
        if headers.get("mcp-method") != method:
            return "Mcp-Method does not match the method"
        if method == "tools/call" and headers.get("mcp-name") != params.get("name"):
            return "Mcp-Name does not match params.name"
        return None


class RequestParser(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection whose requests carry a Content-Length body;
    subclasses answer each request in :meth:`respond`."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while self.transport is not None and not self.transport.is_closing():
            if not self._one_request():
                return

    def respond(self, method: str, target: str, headers: dict[str, str], body: bytes) -> bool:
        """Answer one request; False stops reading requests from this connection."""
        raise NotImplementedError  # pragma: no cover - every server defines it

    def _one_request(self) -> bool:
        """Answer the first complete request in the buffer; False if there is none yet."""
        buffer = self.buffer
        end = buffer.find(b"\r\n\r\n")
        if end < 0:
            return False
        lines = bytes(buffer[:end]).decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        assert self.transport is not None
        if "chunked" in headers.get("transfer-encoding", "").lower():
            self.transport.write(_plain(411, extra=[("Connection", "close")]))
            self.transport.close()
            return False
        total = end + 4 + int(headers.get("content-length") or 0)
        if len(buffer) < total:
            return False
        body = bytes(buffer[end + 4 : total])
        del buffer[:total]
        if not self.respond(method, target, headers, body):
            return False
        if headers.get("connection", "").lower() == "close":
            self.transport.close()
        return True

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None


class HTTPConnection(RequestParser):
    """A connection of the minimal server."""

    def __init__(self, state: ServerState) -> None:
        super().__init__()
        self.state = state

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self.state.connections += 1

    def respond(self, method: str, target: str, headers: dict[str, str], body: bytes) -> bool:
        assert self.transport is not None
        self.transport.write(self.state.handle(method, target.split("?", 1)[0], headers, body))
        return True


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    state = ServerState()
    description = "minimal MCP server for the benchmarks"
    run_protocol_server(lambda: HTTPConnection(state), description, argv)


if __name__ == "__main__":
    main()
