"""The transport-independent heart of the test server: its state, the intake of client
messages, the answering of requests (by the method table) and the messages the server
sends on its own (notifications and server requests)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Awaitable, Callable
from typing import Any, Literal, Protocol

from .._exceptions import InvalidJSONError
from ..protocol.jsonrpc import (
    INTERNAL_ERROR,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    ErrorResponse,
    Message,
    Notification,
    Request,
    Response,
    encode,
    parse_message,
)
from .context import Emit, RequestFailed
from .faults import Fault, FaultPlan
from .registry import ServerRegistry
from .state import Session, Work
from .stats import ServerStats
from .streams import EventLog
from .tasks import TaskStore
from .wire import DEFAULT_VERSIONS, RPCError, encode_one, wrong_id

__all__ = ["Handler", "ServerCore", "StatelessEra"]

#: Answers one request of a session (None: stateless), sending on ``emit`` meanwhile.
Handler = Callable[[Request, Session | None, Emit | None], Awaitable[dict[str, Any]]]


class StatelessEra(Protocol):
    """What the core asks of the 2026-07-28 mode (:mod:`mcp_async.testing.modern`)."""

    def claims_message(self, req: Request) -> bool:
        """Whether this request belongs to the stateless era."""

    async def answer(
        self, req: Request, session: Session | None, emit: Emit | None
    ) -> Response | ErrorResponse:
        """Answer a request of the stateless era."""


class ServerCore(ServerRegistry):
    """State, message intake, answering and server-initiated messages of a test server.

    The options below are set by :class:`~mcp_async.testing.MCPTestServer`, which adds the
    front ends (Streamable HTTP, legacy HTTP+SSE, stdio).
    """

    name: str
    version: str
    reply: Literal["json", "sse"]
    stateful: bool
    instructions: str | None
    page_size: int | None
    priming: bool
    get_stream: bool
    resumable: bool
    transport: Literal["http", "sse"]
    keepalive: float | None
    endpoint_override: str | None
    versions: tuple[str, ...] | None

    def __init__(self) -> None:
        super().__init__()
        #: Faults to inject; empty by default.
        self.faults = FaultPlan()
        #: Counters of what the server saw.
        self.stats = ServerStats()
        #: Tasks (2025-11-25) started by ``tools/call`` with ``params.task``.
        self.task_store = TaskStore()
        #: The stateless era (``eras`` naming 2026-07-28), else None.
        self.modern: StatelessEra | None = None
        self._sessions: dict[str, Session] = {}
        self._log_level: str | None = None  # used when stateless
        self._events = EventLog()
        self._request_ids = itertools.count(1)
        self._waiting: dict[str | int, asyncio.Future[Response | ErrorResponse]] = {}
        # Running tools/call handlers by (session id, request id), for notifications/cancelled.
        self._calls: dict[tuple[str | None, Any], asyncio.Task[Any]] = {}
        # The MCP methods by name (filled by ServerMethods).
        self._methods: dict[str, Handler] = {}

    def _versions(self, transport: str) -> tuple[str, ...]:
        return self.versions if self.versions is not None else DEFAULT_VERSIONS[transport]

    # ---- intake -------------------------------------------------------------------------

    def _parse(self, items: list[Any]) -> list[Message | None]:
        """Parse each item (None if it is not a JSON-RPC message) and record it in the stats."""
        messages: list[Message | None] = []
        for item in items:
            try:
                message = parse_message(item)
            except InvalidJSONError:  # answered with an Invalid Request error
                messages.append(None)
                continue
            if isinstance(message, Request | Notification):
                self.stats._record(message.method, message.params)
            messages.append(message)
        return messages


    def _work(
        self, messages: list[Message | None], batch: bool, session: Session | None
    ) -> list[Work]:
        """Requests to answer (and ready-made errors); handles notifications on the way."""
        work: list[Work] = []
        for message in messages:
            if batch and isinstance(message, Request) and message.method == "initialize":
                error = "initialize must not be part of a JSON-RPC batch"
                work.append(ErrorResponse(message.id, INVALID_REQUEST, error))
                continue
            item = self._take(message, session)
            if item is not None:
                work.append(item)
        return work

    def _take(self, message: Message | None, session: Session | None) -> Work | None:
        """The transport-independent intake of one message from a session's client.

        A notification or an answer to a server request is acted on at once (None is
        returned); a request is returned to be answered (:meth:`_answer`), and an item
        that was not a JSON-RPC message becomes an Invalid Request error.
        """
        if message is None:
            return ErrorResponse(None, INVALID_REQUEST, "Invalid Request")
        if isinstance(message, Request):
            return message
        if isinstance(message, Notification):
            if message.method == "notifications/initialized" and session is not None:
                session.initialized = True
            elif message.method == "notifications/cancelled":
                target = (message.params or {}).get("requestId")
                call = self._calls.get((session.id if session is not None else None, target))
                if call is not None:
                    self.stats.cancelled += 1
                    call.cancel()
            return None
        self.stats.replies += 1
        waiting = self._waiting.get(message.id) if message.id is not None else None
        if waiting is not None and not waiting.done():
            waiting.set_result(message)
        return None

    async def _answer_all(
        self,
        work: list[Work],
        batch: bool,
        session: Session | None,
        emit: Emit | None,
        fault: Fault | None,
    ) -> bytes:
        """Answer ``work`` in order and encode the replies (one, or a batch array).

        ``emit`` sends the notifications and server requests made meanwhile (``None``:
        the server's own GET stream, or nowhere).
        """
        replies = [await self._answer(item, session, emit) for item in work]
        return self._encode_replies(replies, batch, fault)

    def _encode_replies(
        self, replies: list[Response | ErrorResponse], batch: bool, fault: Fault | None
    ) -> bytes:
        if fault is not None and fault.wrong_id:
            replies = [wrong_id(reply) for reply in replies]
        if batch:
            body = b"[" + b",".join(encode_one(reply) for reply in replies) + b"]"
        else:
            body = encode_one(replies[0])
        if fault is not None and fault.invalid_json:
            body = body[: len(body) // 2]
        return body

    # ---- server-initiated messages ------------------------------------------------------

    def _session_named(self, session_id: str | None) -> Session:
        if session_id is not None:
            session = self._sessions.get(session_id)
            if session is None:
                raise LookupError(f"no session {session_id!r}")
            return session
        if len(self._sessions) != 1:
            raise LookupError(
                f"name the session: the server has {len(self._sessions)} sessions"
            )
        return next(iter(self._sessions.values()))

    async def notify(
        self, method: str, params: dict[str, Any] | None = None, *, session_id: str | None = None
    ) -> int:
        """Send a notification on the GET stream of one session (or of every session).

        A stdio or legacy SSE session gets it on its one stream. Returns how many streams
        it went to; a session without a GET stream (or whose stream is gone) is skipped.
        """
        sessions = (
            [self._session_named(session_id)] if session_id is not None
            else list(self._sessions.values())
        )
        sent = 0
        for session in sessions:
            if session.standalone is not None:
                note = encode(Notification(method, params)).decode()
                self._events.push(session.standalone, self._events.event(note))
                sent += 1
            elif session.link is not None and not session.link.closed:
                with contextlib.suppress(ConnectionError):
                    await session.link.emit(Notification(method, params))
                    sent += 1
        return sent

    async def request(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        *,
        session_id: str | None = None,
        timeout: float = 10.0,
    ) -> dict[str, Any]:
        """Send a request on a session's GET stream (or its stdio / legacy SSE stream)
        and return the client's result.

        ``session_id`` may be omitted when there is exactly one session. Raises
        :class:`RequestFailed` for an error answer, ``TimeoutError`` without one.
        """
        session = self._session_named(session_id)
        return await self._server_request(method, params, None, session.id, timeout)

    def end_get_streams(self, *, retry: int | None = None) -> int:
        """End every open GET stream cleanly, as a server asking its clients to poll.

        With ``retry``, an event carrying it (and an id) is sent first. The streams are
        kept: a client that reconnects with ``Last-Event-ID`` misses nothing. Returns
        how many streams were ended.
        """
        ended = 0
        for session in self._sessions.values():
            stream = session.standalone
            if stream is not None:
                if retry is not None:
                    self._events.push(stream, self._events.event("", event=None, retry=retry))
                stream.kick()
                ended += 1
        return ended

    async def _server_request(
        self,
        method: str,
        params: dict[str, Any] | None,
        emit: Emit | None,
        session_id: str | None,
        timeout: float,
    ) -> dict[str, Any]:
        request_id = f"s-{next(self._request_ids)}"
        future: asyncio.Future[Response | ErrorResponse] = (
            asyncio.get_running_loop().create_future()
        )
        self._waiting[request_id] = future
        owner = self._sessions.get(session_id) if session_id is not None else None
        if owner is not None:
            owner.pending.add(request_id)

        async def send(message: Notification | Request) -> None:
            if emit is not None:
                await emit(message)
                return
            session = self._sessions.get(session_id) if session_id is not None else None
            if session is not None and session.link is not None:
                await session.link.emit(message)
                return
            if session is None or session.standalone is None:
                raise RuntimeError("the client has no GET stream open to send a request on")
            self._events.push(session.standalone, self._events.event(encode(message).decode()))

        try:
            await send(Request(request_id, method, params))
            try:
                async with asyncio.timeout(timeout):
                    reply = await future
            except TimeoutError:
                cancel = {"requestId": request_id, "reason": "timed out"}
                with contextlib.suppress(RuntimeError, ConnectionError):
                    await send(Notification("notifications/cancelled", cancel))
                raise
        finally:
            self._waiting.pop(request_id, None)
            if owner is not None:
                owner.pending.discard(request_id)
        if isinstance(reply, ErrorResponse):
            raise RequestFailed(reply.code, reply.message, reply.data)
        return reply.result

    async def _answer(
        self, item: Work, session: Session | None, emit: Emit | None
    ) -> Response | ErrorResponse:
        if isinstance(item, ErrorResponse):
            return item
        if self.modern is not None and self.modern.claims_message(item):
            return await self.modern.answer(item, session, emit)
        handler = self._methods.get(item.method)
        if handler is None:
            return ErrorResponse(item.id, METHOD_NOT_FOUND, f"Method not found: {item.method}")
        try:
            return Response(item.id, await handler(item, session, emit))
        except RPCError as exc:
            return ErrorResponse(item.id, exc.code, exc.message, exc.data)
        except Exception as exc:
            return ErrorResponse(item.id, INTERNAL_ERROR, f"Internal error: {exc}")
