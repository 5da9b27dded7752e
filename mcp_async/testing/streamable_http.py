"""The Streamable HTTP front end of the test server: POST (JSON or SSE replies), the
standalone GET stream and its resumption with ``Last-Event-ID``, and DELETE."""

from __future__ import annotations

import contextlib
import json
import secrets

from aiohttp import web

from ..protocol.jsonrpc import (
    INVALID_REQUEST,
    PARSE_ERROR,
    Message,
    Notification,
    Request,
    encode,
)
from ..protocol.mcp import (
    JSON_CONTENT_TYPE,
    LAST_EVENT_ID_HEADER,
    PROTOCOL_VERSION_HEADER,
    SESSION_HEADER,
    SSE_CONTENT_TYPE,
    SUPPORTED_VERSIONS,
    media_type,
)
from .core import ServerCore
from .faults import Fault
from .http_replies import error_reply, fault_reply
from .modern import ModernMode
from .state import Session, Work
from .streams import EventStream, ReplyOutbox
from .wire import SESSION_NOT_FOUND, accepts_both, negotiate, primary

__all__ = ["StreamableHTTPFrontEnd"]


class StreamableHTTPFrontEnd:
    """The aiohttp handlers of the Streamable HTTP transport for one server.

    Requests of the stateless era (``modern``) are handed to it.
    """

    __slots__ = ("_modern", "_server")

    def __init__(self, server: ServerCore, modern: ModernMode | None) -> None:
        self._server = server
        self._modern = modern

    def add_routes(self, app: web.Application, path: str) -> None:
        """Serve POST, GET and DELETE on ``path``."""
        app.router.add_route("POST", path, self.handle_post)
        app.router.add_route("GET", path, self.handle_get)
        app.router.add_route("DELETE", path, self.handle_delete)

    async def handle_get(self, request: web.Request) -> web.StreamResponse:
        """GET opens the standalone SSE stream (``get_stream``) or, with ``Last-Event-ID``,
        resumes a stream (``resumable``); 405 when neither is offered."""
        self._server.stats._see_connection(request)
        if self._modern is not None and self._modern.claims(request):
            return self._modern.refuse_stream()
        last = request.headers.get(LAST_EVENT_ID_HEADER)
        offered = self._server.get_stream and self._server.stateful
        if not (offered or (self._server.resumable and last is not None)):
            return web.Response(status=405, headers={"Allow": self._allowed()})
        accept = {media_type(part) for part in request.headers.get("Accept", "").split(",")}
        if SSE_CONTENT_TYPE not in accept:
            return error_reply(406, INVALID_REQUEST, "Not Acceptable: Accept text/event-stream")
        session: Session | None = None
        if self._server.stateful:
            session_id = request.headers.get(SESSION_HEADER)
            if session_id is None:
                return error_reply(400, INVALID_REQUEST, f"Bad Request: missing {SESSION_HEADER}")
            session = self._server._sessions.get(session_id)
            if session is None:
                return error_reply(404, SESSION_NOT_FOUND, "Session not found")
        after: int | None = None
        if last is not None:
            self._server.stats.resumptions += 1
            self._server.stats.last_event_ids.append(last)
            found = self._server._events.stream_of(int(last)) if last.isdigit() else None
            if found is None:
                return error_reply(400, INVALID_REQUEST, f"Bad Request: unknown event id {last!r}")
            stream, after = found, int(last)
        else:
            assert session is not None
            if session.standalone is not None:
                session.standalone.kick()
            stream = session.standalone = EventStream()
            self._server.stats.get_streams += 1
        headers = {SESSION_HEADER: session.id} if session is not None else {}
        response = web.StreamResponse(headers=headers)
        response.content_type = SSE_CONTENT_TYPE
        response.headers["Cache-Control"] = "no-cache"
        await response.prepare(request)
        if last is None and self._server.priming:
            self._server._events.push(stream, self._server._events.event("", event=None))
        with contextlib.suppress(ConnectionError):
            await stream.follow(after, response)
            await response.write_eof()
        return response

    async def handle_delete(self, request: web.Request) -> web.StreamResponse:
        """DELETE ends a session (stateful mode); 405 when stateless."""
        self._server.stats._see_connection(request)
        if self._modern is not None and self._modern.claims(request):
            return self._modern.refuse_stream()
        if not self._server.stateful:
            return web.Response(status=405, headers={"Allow": self._allowed()})
        session_id = request.headers.get(SESSION_HEADER)
        if session_id is None:
            return error_reply(400, INVALID_REQUEST, f"Bad Request: missing {SESSION_HEADER}")
        ended = self._server._sessions.pop(session_id, None)
        if ended is None:
            return error_reply(404, SESSION_NOT_FOUND, "Session not found")
        if ended.standalone is not None:
            ended.standalone.kick()
        self._server.stats.deletes += 1
        return web.Response(status=200)

    def _allowed(self) -> str:
        if not self._server.stateful:
            return "POST"
        return "GET, POST, DELETE" if self._server.get_stream else "POST, DELETE"

    async def handle_post(self, request: web.Request) -> web.StreamResponse:
        if self._modern is not None and self._modern.claims(request):
            return await self._modern.handle_post(request)
        stats = self._server.stats
        stats.requests += 1
        stats._see_connection(request)
        stats.last_headers = request.headers
        refusal = self._check_post_headers(request)
        if refusal is not None:
            return refusal
        try:
            body = json.loads(await request.read())
        except ValueError:
            return error_reply(400, PARSE_ERROR, "Parse error: body is not valid JSON")
        batch = isinstance(body, list)
        messages = self._server._parse(body if batch else [body])
        if not messages or (not batch and messages[0] is None):
            return error_reply(400, INVALID_REQUEST, "Invalid Request")
        fault = self._server.faults.pick(*primary(messages)) if len(self._server.faults) else None
        if fault is not None:
            early = await fault_reply(
                fault, request, request.headers.get(SESSION_HEADER), self._server._sessions
            )
            if early is not None:
                return early
        session, refusal = self._session_for(request, messages, batch)
        if refusal is not None:
            return refusal
        return await self._reply(request, messages, batch, session, fault)

    def _check_post_headers(self, request: web.Request) -> web.Response | None:
        headers = request.headers
        if not accepts_both(headers.get("Accept", "")):
            return error_reply(
                406,
                INVALID_REQUEST,
                "Not Acceptable: Accept must list application/json and text/event-stream",
            )
        if media_type(headers.get("Content-Type")) != JSON_CONTENT_TYPE:
            return error_reply(
                415,
                INVALID_REQUEST,
                "Unsupported Media Type: Content-Type must be application/json",
            )
        version = headers.get(PROTOCOL_VERSION_HEADER)
        if version is not None and version not in SUPPORTED_VERSIONS:
            return error_reply(
                400,
                INVALID_REQUEST,
                f"Bad Request: unsupported {PROTOCOL_VERSION_HEADER} {version!r}"
                f" (supported: {', '.join(SUPPORTED_VERSIONS)})",
            )
        return None

    def _session_for(
        self, request: web.Request, messages: list[Message | None], batch: bool
    ) -> tuple[Session | None, web.Response | None]:
        """The request's session (a new one for ``initialize``), or a refusal."""
        if not self._server.stateful:
            return None, None
        first = messages[0]
        if not batch and isinstance(first, Request) and first.method == "initialize":
            session = Session(
                secrets.token_hex(16), negotiate(first.params, self._server._versions("http"))
            )
            self._server._sessions[session.id] = session
            self._server.stats.sessions_created += 1
            return session, None
        session_id = request.headers.get(SESSION_HEADER)
        if session_id is None:
            refusal = error_reply(400, INVALID_REQUEST, f"Bad Request: missing {SESSION_HEADER}")
            return None, refusal
        found = self._server._sessions.get(session_id)
        if found is None:
            return None, error_reply(404, SESSION_NOT_FOUND, "Session not found")
        return found, None

    # ---- legacy HTTP+SSE ---------------------------------------------------------------

    async def _reply(
        self,
        request: web.Request,
        messages: list[Message | None],
        batch: bool,
        session: Session | None,
        fault: Fault | None,
    ) -> web.StreamResponse:
        work = self._server._work(messages, batch, session)
        headers = {SESSION_HEADER: session.id} if session is not None else {}
        if not work:
            return web.Response(status=202, headers=headers)
        if self._server.reply == "sse" or (
            fault is not None
            and (fault.truncate_sse or fault.end_after is not None or fault.break_after is not None)
        ):
            return await self._reply_sse(request, work, batch, session, fault, headers)
        body = await self._server._answer_all(work, batch, session, None, fault)
        return web.Response(body=body, content_type=JSON_CONTENT_TYPE, headers=headers)

    async def _reply_sse(
        self,
        request: web.Request,
        work: list[Work],
        batch: bool,
        session: Session | None,
        fault: Fault | None,
        headers: dict[str, str],
    ) -> web.StreamResponse:
        response = web.StreamResponse(headers=headers)
        response.content_type = SSE_CONTENT_TYPE
        response.headers["Cache-Control"] = "no-cache"
        await response.prepare(request)
        truncate = fault is not None and fault.truncate_sse
        retry = fault.retry if fault is not None else None
        cuts = fault is not None and (fault.end_after is not None or fault.break_after is not None)
        stream = EventStream() if self._server.resumable else None
        outbox = ReplyOutbox(self._server._events, request, response, stream, fault)
        try:
            if self._server.priming or retry is not None or cuts:
                await outbox.write("", event=None, retry=retry)

            async def emit(message: Notification | Request) -> None:
                await outbox.write(encode(message).decode())

            data = (await self._server._answer_all(work, batch, session, emit, fault)).decode(
                "utf-8", "replace"
            )
            if truncate and outbox.attached:
                outbox.attached = False
                await response.write_eof()
            await outbox.write(data, last=True)
        except ConnectionError:
            pass
        finally:
            if stream is not None:
                stream.finish()
        return response
