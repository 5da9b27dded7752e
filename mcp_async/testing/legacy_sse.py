"""The legacy HTTP+SSE front end of the test server (revision 2024-11-05): ``GET`` opens
a session's event stream, ``POST`` to the announced endpoint hands it messages."""

from __future__ import annotations

import json
import secrets

from aiohttp import web

from ..protocol.jsonrpc import INVALID_REQUEST, PARSE_ERROR
from ..protocol.mcp import SSE_CONTENT_TYPE
from .core import ServerCore
from .http_replies import error_reply, fault_reply
from .link import StreamLink
from .sse import SSEChannel
from .state import Session
from .wire import SESSION_NOT_FOUND, primary

__all__ = ["LegacySSEFrontEnd"]


class LegacySSEFrontEnd:
    """The aiohttp handlers of the legacy HTTP+SSE transport for one server, and its open
    streams."""

    __slots__ = ("_channels", "_messages_path", "_server")

    def __init__(self, server: ServerCore, messages_path: str) -> None:
        self._server = server
        self._messages_path = messages_path
        # Open streams by session id.
        self._channels: dict[str, SSEChannel] = {}

    def add_routes(self, app: web.Application, path: str) -> None:
        """Serve the event streams on ``GET path`` and the messages on ``POST``."""
        app.router.add_route("GET", path, self.handle_get)
        app.router.add_route("POST", self._messages_path, self.handle_post)

    def end_all(self) -> None:
        """End every open stream cleanly."""
        for channel in list(self._channels.values()):
            channel.end()

    def drop_streams(self, *, abort: bool = True) -> int:
        """Close every open stream and forget its session; see
        :meth:`~mcp_async.testing.MCPTestServer.drop_sse_streams`."""
        closed = 0
        for session_id, channel in list(self._channels.items()):
            if abort:
                channel.abort()
            else:
                channel.end()
            session = self._server._sessions.get(session_id)
            if session is not None and session.link is not None:
                session.link.close()
            closed += 1
        return closed

    async def handle_get(self, request: web.Request) -> web.StreamResponse:
        """GET opens a session's event stream; its first event announces the POST endpoint."""
        stats = self._server.stats
        stats._see_connection(request)
        response = web.StreamResponse(headers={"Cache-Control": "no-cache"})
        response.content_type = SSE_CONTENT_TYPE
        await response.prepare(request)
        channel = SSEChannel(request, response, self._server.keepalive)
        session = Session(secrets.token_hex(16), self._server._versions("sse")[0])
        link = StreamLink(self._server, session, channel.send, "sse")
        self._server._sessions[session.id] = session
        self._channels[session.id] = channel
        stats.sessions_created += 1
        stats.sse_streams += 1
        try:
            await channel.announce(self._endpoint(session.id))
            await channel.run()
        except ConnectionError:
            pass
        finally:
            link.close()
            if self._channels.get(session.id) is channel:
                del self._channels[session.id]
        return response

    def _endpoint(self, session_id: str) -> str:
        base = self._server.endpoint_override if self._server.endpoint_override is not None else (
            self._messages_path
        )
        return f"{base}{'&' if '?' in base else '?'}session_id={session_id}"

    async def handle_post(self, request: web.Request) -> web.StreamResponse:
        """POST hands a message (or batch) to a session: 202, the replies go on its stream."""
        stats = self._server.stats
        stats.requests += 1
        stats._see_connection(request)
        stats.last_headers = request.headers
        session_id = request.query.get("session_id")
        if session_id is None:
            return error_reply(400, INVALID_REQUEST, "Bad Request: missing session_id")
        session = self._server._sessions.get(session_id)
        link = session.link if session is not None else None
        if not isinstance(link, StreamLink) or link.kind != "sse" or link.closed:
            return error_reply(404, SESSION_NOT_FOUND, "Session not found")
        try:
            body = json.loads(await request.read())
        except (ValueError, RecursionError):
            return error_reply(400, PARSE_ERROR, "Parse error: body is not valid JSON")
        batch = isinstance(body, list)
        messages = self._server._parse(body if batch else [body])
        if not messages or (not batch and messages[0] is None):
            return error_reply(400, INVALID_REQUEST, "Invalid Request")
        fault = self._server.faults.pick(*primary(messages)) if len(self._server.faults) else None
        if fault is not None:
            early = await fault_reply(fault, request, session_id, self._server._sessions)
            if early is not None:
                return early
        link.take(messages, batch, fault)
        return web.Response(status=202)
