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

import argparse
import asyncio
import base64
import collections
import contextlib
import functools
import inspect
import itertools
import json
import random
import re
import secrets
import signal
import sys
import types
import typing
import weakref
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Literal, TypedDict, TypeVar, Unpack, overload
from urllib.parse import unquote

from aiohttp import web

from .._exceptions import InvalidJSONError
from ..protocol.jsonrpc import (
    INTERNAL_ERROR,
    INVALID_PARAMS,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    PARSE_ERROR,
    RESOURCE_NOT_FOUND,
    ErrorResponse,
    Message,
    Notification,
    Request,
    Response,
    encode,
    parse_message,
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
from ..protocol.sse import encode_event as _encode_event
from .sse import SSEChannel
from .stdio import Send, serve_lines
from .tasks import TASK_CAPABILITY, ServerTask, TaskRPCError, TaskStore

if TYPE_CHECKING:
    from .modern import ModernMode

__all__ = [
    "SESSION_NOT_FOUND",
    "Fault",
    "FaultPlan",
    "MCPTestServer",
    "RequestFailed",
    "ServerStats",
    "ToolContext",
    "demo_server",
    "main",
]

#: JSON-RPC code of the body sent with HTTP 404 for an unknown session.
SESSION_NOT_FOUND: Final = -32001
#: How many SSE streams a resumable server keeps for replay.
_KEPT_STREAMS: Final = 512
#: The revision of the legacy HTTP+SSE transport, the oldest the server speaks.
_LEGACY_VERSION: Final = "2024-11-05"
#: Every handshake revision the server knows, newest first.
_KNOWN_VERSIONS: Final = ("2025-11-25", "2025-06-18", "2025-03-26", _LEGACY_VERSION)
#: The stateless revisions ``eras=`` may name (see mcp_async.testing.modern).
_STATELESS_VERSIONS: Final = ("2026-07-28",)
#: What each transport accepts in ``initialize`` by default; the first is the fallback.
_DEFAULT_VERSIONS: Final[dict[str, tuple[str, ...]]] = {
    "http": SUPPORTED_VERSIONS,
    "sse": (_LEGACY_VERSION, *_KNOWN_VERSIONS[:-1]),
    "stdio": _KNOWN_VERSIONS,
}

#: Log levels of ``logging/setLevel`` and ``notifications/message``, least severe first.
LOG_LEVELS: Final = (
    "debug",
    "info",
    "notice",
    "warning",
    "error",
    "critical",
    "alert",
    "emergency",
)
_LEVEL_RANK: Final = {level: rank for rank, level in enumerate(LOG_LEVELS)}

_F = TypeVar("_F", bound=Callable[..., Any])
_Emit = Callable[[Notification | Request], Awaitable[None]]
_Work = Request | ErrorResponse  # a request to answer, or an answer made while parsing

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode
_JSON_TYPES: Final[dict[Any, str]] = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    list: "array",
    tuple: "array",
    dict: "object",
}
_JSON_TYPE_NAMES: Final = {
    "str": "string",
    "int": "integer",
    "float": "number",
    "bool": "boolean",
    "list": "array",
    "List": "array",
    "tuple": "array",
    "dict": "object",
    "Dict": "object",
}
_TEMPLATE_VAR: Final = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


# --------------------------------------------------------------------------------------
# Faults
# --------------------------------------------------------------------------------------


class _Match(TypedDict, total=False):
    """Matching and firing options shared by the :class:`Fault` constructors."""

    method: str | None
    name: str | None
    times: int | None
    probability: float | None
    seed: int


@dataclass(eq=False)
class Fault:
    """One way for the server to misbehave, and when.

    Matching: ``method`` (JSON-RPC method of the POSTed message; for a batch, the first
    message that has one) and ``name`` (``params.name``, e.g. the tool of a
    ``tools/call``); ``None`` matches anything. A matching fault fires ``times`` times
    (``None``: forever), each time only with ``probability`` (if given) drawn from its own
    ``random.Random(seed)``. When several faults match, the first one that fires wins.
    ``fired`` counts how often it did.

    Effects, applied in this order (``delay`` combines with any other):

    * ``delay``: sleep that many seconds, then go on;
    * ``drop``: close the TCP connection without an answer;
    * ``expire_session``: forget the request's session and answer 404 as if unknown;
    * ``status``: answer with this HTTP status, ``headers`` and ``body`` (default empty;
      ``content_type`` defaults to ``text/plain``);
    * ``body`` without ``status``: answer 200 with this raw body instead of the reply
      (``content_type`` defaults to ``application/json``);
    * ``wrong_id`` / ``invalid_json``: answer normally but change the response ids /
      cut the JSON reply in half (inside the SSE event in SSE mode);
    * ``truncate_sse``: answer with an SSE stream (whatever the reply mode) that ends
      before the response: only a priming event (if ``retry`` is set or the server
      primes, carrying ``retry``) and notifications. The request is still executed.
    * ``end_after`` / ``break_after``: answer with an SSE stream (whatever the reply
      mode) that starts with a priming event (carrying ``retry`` if set) and, once that
      many further events were written, ends cleanly (the server asking the client to
      poll) or breaks the connection mid-body. The request runs on; on a ``resumable``
      server its remaining events, response included, wait for a GET with
      ``Last-Event-ID``.

    On the legacy SSE transport faults match POSTed messages: ``delay``, ``drop``,
    ``expire_session``, ``status`` and ``body`` act on the POST, ``wrong_id`` and
    ``invalid_json`` on the reply event. Over stdio they match lines: ``delay``,
    ``wrong_id`` and ``invalid_json`` apply (the latter cuts the reply line in half).
    """

    method: str | None = None
    name: str | None = None
    times: int | None = None
    probability: float | None = None
    seed: int = 0
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: str | bytes | None = None
    content_type: str | None = None
    delay: float = 0.0
    drop: bool = False
    expire_session: bool = False
    wrong_id: bool = False
    invalid_json: bool = False
    truncate_sse: bool = False
    retry: int | None = None
    end_after: int | None = None
    break_after: int | None = None
    fired: int = field(default=0, init=False)
    _rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.times is not None and self.times < 0:
            raise ValueError("Fault.times must be >= 0 or None")
        if self.probability is not None and not 0.0 <= self.probability <= 1.0:
            raise ValueError("Fault.probability must be between 0 and 1")
        self._rng = random.Random(self.seed)

    @property
    def exhausted(self) -> bool:
        """Whether the fault has fired its ``times`` and will not fire again."""
        return self.times is not None and self.fired >= self.times

    def try_fire(self, method: str | None, name: str | None) -> bool:
        """Return True (and count it) if the fault matches and fires for this message."""
        if (self.method is not None and self.method != method) or (
            self.name is not None and self.name != name
        ):
            return False
        if self.exhausted:
            return False
        if self.probability is not None and self._rng.random() >= self.probability:
            return False
        self.fired += 1
        return True

    @classmethod
    def error(
        cls,
        status: int,
        *,
        retry_after: float | str | None = None,
        headers: Mapping[str, str] | None = None,
        body: str | bytes | None = None,
        content_type: str | None = None,
        **match: Unpack[_Match],
    ) -> Fault:
        """Answer with HTTP ``status`` (plus ``Retry-After`` if given)."""
        all_headers = dict(headers or {})
        if retry_after is not None:
            all_headers["Retry-After"] = _retry_after_text(retry_after)
        return cls(
            status=status, headers=all_headers, body=body, content_type=content_type, **match
        )

    @classmethod
    def rate_limited(
        cls, retry_after: float | str | None = 1, *, status: int = 429, **match: Unpack[_Match]
    ) -> Fault:
        """Answer 429 with ``Retry-After`` and ``X-RateLimit-Remaining: 0``."""
        return cls.error(
            status, retry_after=retry_after, headers={"X-RateLimit-Remaining": "0"}, **match
        )

    @classmethod
    def slow(cls, seconds: float, **match: Unpack[_Match]) -> Fault:
        """Wait ``seconds`` before answering normally."""
        return cls(delay=seconds, **match)

    @classmethod
    def disconnect(cls, **match: Unpack[_Match]) -> Fault:
        """Close the connection without answering."""
        return cls(drop=True, **match)

    @classmethod
    def expired_session(cls, **match: Unpack[_Match]) -> Fault:
        """Forget the request's session and answer 404."""
        return cls(expire_session=True, **match)

    @classmethod
    def garbage(
        cls, body: str | bytes, *, content_type: str | None = None, **match: Unpack[_Match]
    ) -> Fault:
        """Answer 200 with ``body`` instead of the JSON-RPC reply."""
        return cls(body=body, content_type=content_type, **match)

    @classmethod
    def bad_json(cls, **match: Unpack[_Match]) -> Fault:
        """Answer with the reply cut in half (invalid JSON)."""
        return cls(invalid_json=True, **match)

    @classmethod
    def mismatched_id(cls, **match: Unpack[_Match]) -> Fault:
        """Answer with a response whose id is not the request's."""
        return cls(wrong_id=True, **match)

    @classmethod
    def cut_stream(cls, *, retry: int | None = None, **match: Unpack[_Match]) -> Fault:
        """Answer with an SSE stream that ends before the response (priming event if ``retry``)."""
        return cls(truncate_sse=True, retry=retry, **match)

    @classmethod
    def end_stream(
        cls, after: int = 0, *, retry: int | None = None, **match: Unpack[_Match]
    ) -> Fault:
        """End the SSE reply cleanly after the priming event and ``after`` more events."""
        return cls(end_after=after, retry=retry, **match)

    @classmethod
    def break_stream(
        cls, after: int = 0, *, retry: int | None = None, **match: Unpack[_Match]
    ) -> Fault:
        """Break the connection after the priming event and ``after`` more events."""
        return cls(break_after=after, retry=retry, **match)


def _retry_after_text(value: float | str) -> str:
    if isinstance(value, str):
        return value
    return str(int(value)) if float(value).is_integer() else str(value)


class FaultPlan:
    """The ordered faults of a server. Empty by default (the server behaves)."""

    __slots__ = ("_faults",)

    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def add(self, fault: Fault | None = None, /, **options: Any) -> Fault:
        """Add ``fault``, or a ``Fault(**options)``, and return it (to inspect ``fired``)."""
        if fault is None:
            fault = Fault(**options)
        elif options:
            raise TypeError("pass either a Fault or keyword options, not both")
        self._faults.append(fault)
        return fault

    def clear(self) -> None:
        """Remove every fault."""
        self._faults.clear()

    def pick(self, method: str | None, name: str | None) -> Fault | None:
        """The first fault that fires for this message, or None."""
        for fault in self._faults:
            if fault.try_fire(method, name):
                return fault
        return None

    def __len__(self) -> int:
        return len(self._faults)

    def __iter__(self) -> Iterator[Fault]:
        return iter(self._faults)


# --------------------------------------------------------------------------------------
# Statistics
# --------------------------------------------------------------------------------------


def _received_log() -> deque[tuple[str, dict[str, Any]]]:
    return deque(maxlen=10_000)


@dataclass(eq=False)
class ServerStats:
    """What the server saw since start (or the last :meth:`reset`).

    ``requests``: POSTs (stdio: JSON lines read); ``by_method``: messages per
    JSON-RPC method; ``connections``: distinct TCP connections (all HTTP methods);
    ``in_flight`` / ``max_in_flight``: concurrent ``tools/call`` executions now / at
    most; ``sessions_created`` (stdio and legacy SSE sessions included);
    ``deletes``: accepted DELETEs; ``last_headers``: headers of the last POST
    (case-insensitive); ``received``: the last 10,000 ``(method, params)`` pairs;
    ``get_streams``: standalone GET streams opened; ``resumptions``: GETs with
    ``Last-Event-ID`` (``last_event_ids`` lists their values); ``replies``: client
    answers to server requests; ``cancelled``: tool calls stopped by the client's
    ``notifications/cancelled``; ``sse_streams``: legacy SSE streams opened.
    """

    requests: int = 0
    by_method: Counter[str] = field(default_factory=Counter)
    connections: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    sessions_created: int = 0
    deletes: int = 0
    last_headers: Mapping[str, str] | None = None
    received: deque[tuple[str, dict[str, Any]]] = field(default_factory=_received_log)
    get_streams: int = 0
    resumptions: int = 0
    last_event_ids: list[str] = field(default_factory=list)
    replies: int = 0
    cancelled: int = 0
    sse_streams: int = 0
    _transports: weakref.WeakSet[Any] = field(default_factory=weakref.WeakSet, repr=False)

    def reset(self) -> None:
        """Zero every counter (``in_flight`` keeps the current value)."""
        self.requests = self.connections = self.sessions_created = self.deletes = 0
        self.get_streams = self.resumptions = self.replies = self.cancelled = 0
        self.sse_streams = 0
        self.last_event_ids = []
        self.max_in_flight = self.in_flight
        self.by_method.clear()
        self.received.clear()
        self.last_headers = None
        self._transports = weakref.WeakSet()

    def _see_connection(self, request: web.Request) -> None:
        transport = request.transport
        if transport is not None and transport not in self._transports:
            self._transports.add(transport)
            self.connections += 1

    def _record(self, method: str, params: dict[str, Any] | None) -> None:
        self.by_method[method] += 1
        self.received.append((method, params if params is not None else {}))


# --------------------------------------------------------------------------------------
# Tool context
# --------------------------------------------------------------------------------------


class ToolContext:
    """Passed to a tool parameter annotated ``ToolContext`` (or named ``ctx``).

    In SSE reply mode, :meth:`report_progress` and :meth:`log` send notifications on the
    request's stream before its response; in JSON mode they do nothing. :meth:`request`
    (and ``elicit``, ``create_message``, ``list_roots``) asks the client something on the
    request's stream, or in JSON mode on the client's GET stream. Over stdio and legacy
    SSE everything goes on the session's one stream.

    In the 2026-07-28 era (``MCPTestServer(eras=...)``) a request becomes an input round
    (MRTR): the call is answered with an ``InputRequiredResult``, and the client's retry
    runs the tool again from the top, this time with the answer. Logs go out only when
    the request's ``_meta`` asks for them (``logLevel``). In a 2026 task the request waits
    for ``tasks/update`` instead.
    """

    __slots__ = (
        "_emit", "_log_floor", "_requester", "progress_token", "request_id", "session_id"
    )

    def __init__(
        self,
        request_id: str | int,
        progress_token: str | int | None,
        session_id: str | None,
        emit: _Emit | None,
        log_floor: int,
        requester: _Requester | None = None,
    ) -> None:
        self.request_id = request_id
        self.progress_token = progress_token
        self.session_id = session_id
        self._emit = emit
        self._log_floor = log_floor
        self._requester = requester

    async def notify(self, method: str, params: dict[str, Any] | None = None) -> None:
        """Send any notification on the request's stream (SSE mode; nothing in JSON mode)."""
        if self._emit is not None:
            await self._emit(Notification(method, params))

    async def request(
        self, method: str, params: dict[str, Any] | None = None, *, timeout: float = 10.0
    ) -> dict[str, Any]:
        """Send a request to the client and return its result.

        Raises :class:`RequestFailed` for an error answer and ``TimeoutError`` (after
        sending ``notifications/cancelled``) when none comes within ``timeout`` seconds.
        """
        if self._requester is None:
            raise RuntimeError("this tool context cannot reach the client")
        return await self._requester(method, params, self._emit, self.session_id, timeout)

    async def elicit(
        self, message: str, schema: dict[str, Any], *, timeout: float = 10.0
    ) -> dict[str, Any]:
        """Ask for form input (``elicitation/create``); returns the ``ElicitResult``."""
        params = {"mode": "form", "message": message, "requestedSchema": schema}
        return await self.request("elicitation/create", params, timeout=timeout)

    async def create_message(
        self, text: str, *, max_tokens: int = 100, timeout: float = 10.0, **extra: Any
    ) -> dict[str, Any]:
        """Ask the client to sample a reply to ``text`` (``sampling/createMessage``).

        ``extra`` adds wire params such as ``systemPrompt``, ``tools`` or ``toolChoice``.
        """
        params = {
            "messages": [{"role": "user", "content": _text(text)}],
            "maxTokens": max_tokens,
            **extra,
        }
        return await self.request("sampling/createMessage", params, timeout=timeout)

    async def list_roots(self, *, timeout: float = 10.0) -> list[dict[str, Any]]:
        """The client's roots (``roots/list``)."""
        roots: list[dict[str, Any]] = (
            await self.request("roots/list", None, timeout=timeout)
        )["roots"]
        return roots

    async def report_progress(
        self, progress: float, total: float | None = None, message: str | None = None
    ) -> None:
        """Send ``notifications/progress`` if the request asked for it (``_meta.progressToken``)."""
        if self._emit is None or self.progress_token is None:
            return
        params: dict[str, Any] = {"progressToken": self.progress_token, "progress": progress}
        if total is not None:
            params["total"] = total
        if message is not None:
            params["message"] = message
        await self._emit(Notification("notifications/progress", params))

    async def log(self, level: str, data: Any, logger: str | None = None) -> None:
        """Send ``notifications/message`` unless below the level set by ``logging/setLevel``."""
        rank = _LEVEL_RANK.get(level)
        if rank is None:
            raise ValueError(f"unknown log level {level!r}; expected one of {LOG_LEVELS}")
        if self._emit is None or rank < self._log_floor:
            return
        params: dict[str, Any] = {"level": level, "data": data}
        if logger is not None:
            params["logger"] = logger
        await self._emit(Notification("notifications/message", params))


# --------------------------------------------------------------------------------------
# Registrations
# --------------------------------------------------------------------------------------


class RequestFailed(Exception):
    """The client answered a server request with a JSON-RPC error."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(f"client answered with error {code}: {message}")
        self.code = code
        self.message = message
        self.data = data


class _Stream:
    """The events of one SSE stream, kept (with ``resumable``) so a client can resume it.

    Writers :meth:`add` encoded events; :meth:`follow` writes them to an attached HTTP
    response until the stream is finished or :meth:`kick` detaches its followers.
    """

    __slots__ = ("_generation", "_kicked_at", "_wake", "events", "finished")

    def __init__(self) -> None:
        self.events: list[tuple[int, bytes]] = []
        self.finished = False
        self._generation = 0
        self._kicked_at = 0
        self._wake = asyncio.Event()

    def _changed(self) -> None:
        wake, self._wake = self._wake, asyncio.Event()
        wake.set()

    def add(self, event_id: int, data: bytes) -> None:
        self.events.append((event_id, data))
        self._changed()

    def finish(self) -> None:
        self.finished = True
        self._changed()

    def kick(self) -> None:
        self._generation += 1
        self._kicked_at = len(self.events)
        self._changed()

    async def follow(self, after: int | None, response: web.StreamResponse) -> None:
        index = 0
        if after is not None:
            index = next(
                (i + 1 for i, (event_id, _) in enumerate(self.events) if event_id == after), 0
            )
        generation = self._generation
        while True:
            kicked = generation != self._generation
            end = self._kicked_at if kicked else len(self.events)
            batch = self.events[index:end]
            index = max(index, end)
            stop = kicked or self.finished
            wake = self._wake
            for _, data in batch:
                await response.write(data)
            if stop:
                return
            if index == len(self.events):
                await wake.wait()


class _Outbox:
    """Writes the events of one SSE reply, keeps them for resumption, cuts it on cue."""

    __slots__ = ("_break_after", "_end_after", "_request", "_response", "_server", "_stream",
                 "attached", "written")

    def __init__(
        self,
        server: MCPTestServer,
        request: web.Request,
        response: web.StreamResponse,
        stream: _Stream | None,
        fault: Fault | None,
    ) -> None:
        self._server = server
        self._request = request
        self._response = response
        self._stream = stream
        self._end_after = fault.end_after if fault is not None else None
        self._break_after = fault.break_after if fault is not None else None
        self.attached = True
        self.written = 0

    async def write(self, data: str, *, event: str | None = "message", retry: int | None = None,
                    last: bool = False) -> None:
        event_id = next(self._server._event_ids)
        encoded = _encode_event(data, event=event, id=str(event_id), retry=retry)
        if self._stream is not None:
            self._server._keep(event_id, self._stream)
            self._stream.add(event_id, encoded)
        if not self.attached:
            return
        try:
            if last:
                await self._response.write_eof(encoded)
            else:
                await self._response.write(encoded)
        except ConnectionError:  # client gone: let the request finish
            self.attached = False
            return
        self.written += 1
        if self._end_after is not None and self.written > self._end_after:
            self.attached = False
            await self._response.write_eof()
        elif self._break_after is not None and self.written > self._break_after:
            self.attached = False
            transport = self._request.transport
            if transport is not None:
                transport.close()


class _Link:
    """A session on a stream transport (stdio or legacy SSE).

    Everything the server says to the client, replies included, goes out through one
    ``send`` (a line on stdout, an event on the SSE stream). Notifications and answers
    to server requests are acted on as they arrive; each request (or batch) is answered
    in its own task, so a slow tool does not hold up the others.
    """

    __slots__ = ("_send", "_server", "_tasks", "closed", "kind", "session")

    def __init__(
        self, server: MCPTestServer, session: _Session, send: Send, kind: Literal["sse", "stdio"]
    ) -> None:
        self._server = server
        self._send = send
        self._tasks: set[asyncio.Task[None]] = set()
        self.session = session
        self.kind = kind
        self.closed = False
        session.link = self

    async def emit(self, message: Notification | Request) -> None:
        """Send a notification or server request; ConnectionError once closed."""
        if self.closed:
            raise ConnectionResetError("the session's transport is closed")
        await self._send(encode(message))

    def receive(self, body: Any) -> None:
        """Take one JSON value read from a stdio line: a message or a batch."""
        server = self._server
        server.stats.requests += 1
        batch = isinstance(body, list)
        messages = server._parse(body if batch else [body])
        fault = server.faults.pick(*_primary(messages)) if len(server.faults) else None
        self.take(messages, batch, fault, delay=fault.delay if fault is not None else 0.0)

    def take(
        self,
        messages: list[Message | None],
        batch: bool,
        fault: Fault | None,
        *,
        delay: float = 0.0,
    ) -> None:
        """Act on notifications and replies now; answer requests in a task (after ``delay``)."""
        work: list[_Work]
        if batch and not messages:
            work, batch = [ErrorResponse(None, INVALID_REQUEST, "Invalid Request")], False
        else:
            work = self._server._work(messages, batch, self.session)
        if work and not self.closed:
            task = asyncio.create_task(self._answer(work, batch, fault, delay))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _answer(
        self, work: list[_Work], batch: bool, fault: Fault | None, delay: float
    ) -> None:
        if delay:
            await asyncio.sleep(delay)
        data = await self._server._answer_all(work, batch, self.session, self.emit, fault)
        if not self.closed:
            with contextlib.suppress(ConnectionError):
                await self._send(data)

    async def finish(self, grace: float) -> None:
        """The client stopped sending: fail the server requests it can no longer answer,
        give running requests ``grace`` seconds to answer, then :meth:`close`."""
        self._fail_pending("the client closed its input")
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=grace)
        tasks = set(self._tasks)
        self.close()
        if tasks:
            await asyncio.wait(tasks)

    def close(self) -> None:
        """Cancel running requests, fail waiting server requests, forget the session."""
        if self.closed:
            return
        self.closed = True
        for task in self._tasks:
            task.cancel()
        self._fail_pending("the session's transport closed")
        sessions = self._server._sessions
        if sessions.get(self.session.id) is self.session:
            del sessions[self.session.id]

    def _fail_pending(self, reason: str) -> None:
        for request_id in list(self.session.pending):
            future = self._server._waiting.get(request_id)
            if future is not None and not future.done():
                future.set_exception(ConnectionResetError(reason))


class _RPCError(Exception):
    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data


@dataclass(slots=True)
class _Tool:
    fn: Callable[..., Any]
    ctx_param: str | None
    structured: bool
    definition: dict[str, Any]


@dataclass(slots=True)
class _Template:
    pattern: re.Pattern[str]
    fn: Callable[..., Any]
    mime_type: str | None
    definition: dict[str, Any]


@dataclass(slots=True)
class _Prompt:
    fn: Callable[..., Any]
    required: tuple[str, ...]
    definition: dict[str, Any]


@dataclass(slots=True)
class _Session:
    id: str
    protocol_version: str
    initialized: bool = False
    log_level: str | None = None
    subscriptions: set[str] = field(default_factory=set)
    standalone: _Stream | None = None
    #: The stream transport (stdio or legacy SSE) carrying all of this session's messages.
    link: _Link | None = None
    #: Ids of server requests waiting for this session's answer.
    pending: set[str] = field(default_factory=set)


_Requester = Callable[
    [str, dict[str, Any] | None, _Emit | None, str | None, float], Awaitable[dict[str, Any]]
]


def _called_tool(
    tools: Mapping[str, _Tool], params: dict[str, Any]
) -> tuple[_Tool, dict[str, Any]]:
    """The tool a ``tools/call`` names and its arguments, or the JSON-RPC error for them."""
    name = params.get("name")
    tool = tools.get(name) if isinstance(name, str) else None
    if tool is None:
        raise _RPCError(INVALID_PARAMS, f"Unknown tool: {name!r}")
    arguments = params.get("arguments") or {}
    if not isinstance(arguments, dict):
        raise _RPCError(INVALID_PARAMS, "tools/call arguments must be an object")
    return tool, arguments


def _task_support(tool: _Tool) -> str:
    execution = tool.definition.get("execution")
    value = execution.get("taskSupport") if isinstance(execution, dict) else None
    return value if value in ("required", "optional") else "forbidden"


def _type_hints(fn: Callable[..., Any]) -> dict[str, Any]:
    try:
        return typing.get_type_hints(fn)
    except Exception:  # unresolvable string annotations: fall back to the raw ones
        return dict(getattr(fn, "__annotations__", {}))


def _schema_for(annotation: Any) -> dict[str, Any]:
    """A JSON Schema for one parameter annotation (empty when unknown)."""
    if isinstance(annotation, str):
        parts = [p.strip() for p in annotation.split("|") if p.strip() != "None"]
        base = parts[0].split("[", 1)[0].rsplit(".", 1)[-1] if len(parts) == 1 else ""
        name = _JSON_TYPE_NAMES.get(base)
        return {"type": name} if name else {}
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _schema_for(args[0]) if len(args) == 1 else {}
    if origin is Literal:
        return {"enum": list(typing.get_args(annotation))}
    json_type = _JSON_TYPES.get(origin or annotation)
    return {"type": json_type} if json_type else {}


def _is_context(name: str, annotation: Any) -> bool:
    if name == "ctx" or annotation is ToolContext:
        return True
    if isinstance(annotation, str):
        return "ToolContext" in annotation
    return ToolContext in typing.get_args(annotation)


def _plain_params(fn: Callable[..., Any]) -> Iterator[inspect.Parameter]:
    for param in inspect.signature(fn).parameters.values():
        if param.kind not in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            yield param


def _input_schema(fn: Callable[..., Any]) -> tuple[dict[str, Any], str | None]:
    """The tool's input schema from its signature, and the name of its context parameter."""
    hints = _type_hints(fn)
    properties: dict[str, Any] = {}
    required: list[str] = []
    ctx_param = None
    for param in _plain_params(fn):
        annotation = hints.get(param.name, param.annotation)
        if _is_context(param.name, annotation):
            ctx_param = param.name
            continue
        properties[param.name] = (
            {} if annotation is inspect.Parameter.empty else _schema_for(annotation)
        )
        if param.default is inspect.Parameter.empty:
            required.append(param.name)
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema, ctx_param


def _description(fn: Callable[..., Any], given: str | None) -> str | None:
    if given is not None:
        return given
    doc = inspect.getdoc(fn)
    return doc.split("\n\n", 1)[0].strip() if doc else None


def _with_optional(out: dict[str, Any], **optional: Any) -> dict[str, Any]:
    out.update((key, value) for key, value in optional.items() if value is not None)
    return out


def _compile_template(uri_template: str) -> re.Pattern[str]:
    pieces = _TEMPLATE_VAR.split(uri_template)
    regex = []
    for i, piece in enumerate(pieces):
        if i % 2:
            regex.append(f"(?P<{piece}>[^/?#]+)")
        elif "{" in piece or "}" in piece:
            raise ValueError(f"only simple {{var}} templates are supported: {uri_template!r}")
        else:
            regex.append(re.escape(piece))
    return re.compile("".join(regex))


async def _resolve(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


def _text(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text}


def _tool_result(value: Any, structured: bool) -> dict[str, Any]:
    """Map a tool function's return value to a ``CallToolResult``."""
    if isinstance(value, dict) and "content" in value:
        return value
    if isinstance(value, str):
        return {"content": [_text(value)]}
    if isinstance(value, bytes | bytearray):
        data = base64.b64encode(value).decode("ascii")
        return {"content": [{"type": "image", "data": data, "mimeType": "image/png"}]}
    if value is None and not structured:
        return {"content": []}
    if structured or isinstance(value, dict):
        return {"content": [_text(_dumps(value))], "structuredContent": value}
    return {"content": [_text(_dumps(value))]}


def _error_result(exc: Exception) -> dict[str, Any]:
    return {"content": [_text(str(exc) or type(exc).__name__)], "isError": True}


def _prompt_messages(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, str):
        return [{"role": "user", "content": _text(value)}]
    messages = []
    for item in value:
        if isinstance(item, dict):
            messages.append(item)
        else:
            role, text = item
            messages.append({"role": role, "content": _text(text)})
    return messages


def _encode_cursor(kind: str, offset: int) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{offset}".encode()).decode("ascii")


def _decode_cursor(kind: str, cursor: Any, total: int) -> int:
    try:
        decoded = base64.urlsafe_b64decode(cursor.encode("ascii")).decode("ascii")
        got_kind, _, offset_text = decoded.partition(":")
        offset = int(offset_text)
    except (AttributeError, ValueError):
        offset, got_kind = -1, ""
    if got_kind != kind or not 0 <= offset <= total:
        raise _RPCError(INVALID_PARAMS, "Invalid cursor", {"cursor": cursor})
    return offset


@functools.lru_cache(maxsize=64)
def _accepts_both(accept: str) -> bool:
    types_ = {media_type(part) for part in accept.split(",")}
    return JSON_CONTENT_TYPE in types_ and SSE_CONTENT_TYPE in types_


def _negotiate(params: dict[str, Any] | None, versions: Sequence[str]) -> str:
    """The client's ``protocolVersion`` if among ``versions``, else the first of them."""
    requested = (params or {}).get("protocolVersion")
    return requested if isinstance(requested, str) and requested in versions else versions[0]


def _error_reply(
    status: int, code: int, message: str, headers: Mapping[str, str] | None = None
) -> web.Response:
    """An HTTP error whose body is an id-less JSON-RPC error."""
    return web.Response(
        status=status,
        body=encode(ErrorResponse(None, code, message)),
        content_type=JSON_CONTENT_TYPE,
        headers=headers,
    )


def _wrong_id(reply: Response | ErrorResponse) -> Response | ErrorResponse:
    rid = reply.id
    if rid is None:  # an id-less error has no request to mismatch
        return reply
    new_id: str | int = rid + 1_000_000 if isinstance(rid, int) else f"{rid}-wrong"
    if isinstance(reply, Response):
        return Response(new_id, reply.result)
    return ErrorResponse(new_id, reply.code, reply.message, reply.data)


def _encode_one(reply: Response | ErrorResponse) -> bytes:
    try:
        return encode(reply)
    except (TypeError, ValueError) as exc:
        return encode(ErrorResponse(reply.id, INTERNAL_ERROR, f"result is not JSON: {exc}"))


def _primary(messages: Sequence[Message | None]) -> tuple[str | None, str | None]:
    """The method and ``params.name`` faults match against."""
    for message in messages:
        if isinstance(message, Request | Notification):
            name = (message.params or {}).get("name")
            return message.method, name if isinstance(name, str) else None
    return None, None


# --------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------


class MCPTestServer:
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
            known = (*_STATELESS_VERSIONS, *_KNOWN_VERSIONS)
            if isinstance(eras, str) or not eras or any(era not in known for era in eras):
                raise ValueError(f"eras must be a non-empty sequence of {known}")
            stateless = tuple(v for v in _STATELESS_VERSIONS if v in eras)
            handshake = tuple(v for v in _KNOWN_VERSIONS if v in eras)
            if handshake and versions is not None:
                raise ValueError("give the handshake revisions in eras or in versions, not both")
            if stateless and transport == "sse":
                raise ValueError("the legacy HTTP+SSE transport has no stateless era")
            versions = handshake or versions
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
        self._messages_path = messages_path
        # Open legacy SSE streams by session id.
        self._channels: dict[str, SSEChannel] = {}
        #: Faults to inject; empty by default.
        self.faults = FaultPlan()
        #: Counters of what the server saw.
        self.stats = ServerStats()
        self._tools: dict[str, _Tool] = {}
        self._resources: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
        self._templates: list[_Template] = []
        self._prompts: dict[str, _Prompt] = {}
        self._completion: Callable[..., Any] | None = None
        self._sessions: dict[str, _Session] = {}
        self._log_level: str | None = None  # used when stateless
        self._event_ids = itertools.count(1)
        self._request_ids = itertools.count(1)
        self._waiting: dict[str | int, asyncio.Future[Response | ErrorResponse]] = {}
        # Running tools/call handlers by (session id, request id), for notifications/cancelled.
        self._calls: dict[tuple[str | None, Any], asyncio.Task[Any]] = {}
        # Event id -> its stream, for resumption; streams are forgotten oldest first.
        self._event_streams: dict[int, _Stream] = {}
        self._kept: collections.OrderedDict[_Stream, list[int]] = collections.OrderedDict()
        self._runner: web.AppRunner | None = None
        self._url: str | None = None
        self._methods: dict[
            str, Callable[[Request, _Session | None, _Emit | None], Awaitable[dict[str, Any]]]
        ] = {
            "initialize": self._m_initialize,
            "ping": self._m_ping,
            "tools/list": self._m_tools_list,
            "tools/call": self._m_tools_call,
            "resources/list": self._m_resources_list,
            "resources/templates/list": self._m_templates_list,
            "resources/read": self._m_resources_read,
            "resources/subscribe": self._m_subscribe,
            "resources/unsubscribe": self._m_unsubscribe,
            "prompts/list": self._m_prompts_list,
            "prompts/get": self._m_prompts_get,
            "completion/complete": self._m_complete,
            "logging/setLevel": self._m_set_level,
        }
        #: Tasks (2025-11-25) started by ``tools/call`` with ``params.task``.
        self.task_store = TaskStore()
        self._methods.update({
            "tasks/get": self._m_tasks_get,
            "tasks/result": self._m_tasks_result,
            "tasks/cancel": self._m_tasks_cancel,
            "tasks/list": self._m_tasks_list,
        })
        #: The stateless era (``eras`` naming 2026-07-28), else None.
        self.modern: ModernMode | None = None
        if stateless:
            from .modern import ModernMode

            handshake_too = eras is not None and any(v in _KNOWN_VERSIONS for v in eras)
            self.modern = ModernMode(self, stateless, handshake_too)

    # ---- registration -----------------------------------------------------------------

    @overload
    def tool(
        self,
        fn: _F,
        *,
        name: str | None = None,
        description: str | None = None,
        input_schema: dict[str, Any] | None = None,
        output_schema: dict[str, Any] | None = None,
        annotations: dict[str, Any] | None = None,
        title: str | None = None,
        task_support: Literal["required", "optional", "forbidden"] | None = None,
    ) -> _F: ...

    @overload
    def tool(
        self,
        fn: None = None,
        *,
        name: str | None = None,
        description: str | None = None,
        input_schema: dict[str, Any] | None = None,
        output_schema: dict[str, Any] | None = None,
        annotations: dict[str, Any] | None = None,
        title: str | None = None,
        task_support: Literal["required", "optional", "forbidden"] | None = None,
    ) -> Callable[[_F], _F]: ...

    def tool(
        self,
        fn: _F | None = None,
        *,
        name: str | None = None,
        description: str | None = None,
        input_schema: dict[str, Any] | None = None,
        output_schema: dict[str, Any] | None = None,
        annotations: dict[str, Any] | None = None,
        title: str | None = None,
        task_support: Literal["required", "optional", "forbidden"] | None = None,
    ) -> _F | Callable[[_F], _F]:
        """Register a sync or async function as a tool (decorator, with or without arguments).

        ``tools/call`` passes ``arguments`` as keyword arguments. The input schema comes
        from the signature unless given. Return values: ``str`` → a text block; ``dict``
        (any JSON with ``output_schema``) → ``structuredContent`` plus its JSON as text; a
        dict with ``"content"`` → used as the result; ``bytes`` → a PNG image block; other
        JSON → its text; an exception → ``isError`` result with its message.

        ``task_support`` sets ``execution.taskSupport`` (2025-11-25 tasks): the tool may
        (``"optional"``) or must (``"required"``) be called as a task; see
        :mod:`mcp_async.testing.tasks`.
        """

        def register(func: _F) -> _F:
            schema, ctx_param = _input_schema(func)
            tool_name = name or func.__name__
            definition = _with_optional(
                {"name": tool_name},
                title=title,
                description=_description(func, description),
            )
            definition["inputSchema"] = input_schema if input_schema is not None else schema
            _with_optional(definition, outputSchema=output_schema, annotations=annotations)
            if task_support is not None:
                definition["execution"] = {"taskSupport": task_support}
            self._tools[tool_name] = _Tool(func, ctx_param, output_schema is not None, definition)
            return func

        return register(fn) if fn is not None else register

    def resource(
        self,
        uri: str,
        *,
        name: str | None = None,
        text: str | None = None,
        blob: bytes | None = None,
        mime_type: str | None = None,
        description: str | None = None,
    ) -> None:
        """Add a static resource with ``text`` or ``blob`` content (empty text if neither)."""
        if text is not None and blob is not None:
            raise ValueError("a resource has text or blob content, not both")
        content = _with_optional({"uri": uri}, mimeType=mime_type)
        if blob is not None:
            content["blob"] = base64.b64encode(blob).decode("ascii")
        else:
            content["text"] = text or ""
        definition = _with_optional(
            {"uri": uri, "name": name or uri.rstrip("/").rsplit("/", 1)[-1] or uri},
            description=description,
            mimeType=mime_type,
        )
        self._resources[uri] = (definition, content)

    def resource_template(
        self,
        uri_template: str,
        fn: Callable[..., Any],
        *,
        name: str,
        mime_type: str | None = None,
        description: str | None = None,
    ) -> None:
        """Add a template such as ``demo://users/{id}``; ``fn(**vars)`` returns its text.

        Only simple ``{var}`` expressions are supported; a variable matches one path
        segment and is percent-decoded. ``fn`` may be async and may return ``bytes``.
        """
        definition = _with_optional(
            {"uriTemplate": uri_template, "name": name},
            description=description,
            mimeType=mime_type,
        )
        self._templates.append(
            _Template(_compile_template(uri_template), fn, mime_type, definition)
        )

    @overload
    def prompt(self, fn: _F, *, name: str | None = None, description: str | None = None) -> _F: ...

    @overload
    def prompt(
        self, fn: None = None, *, name: str | None = None, description: str | None = None
    ) -> Callable[[_F], _F]: ...

    def prompt(
        self, fn: _F | None = None, *, name: str | None = None, description: str | None = None
    ) -> _F | Callable[[_F], _F]:
        """Register a prompt: ``fn(**arguments)`` returns a str or a list of ``(role, text)``.

        Its arguments come from the signature (required = no default).
        """

        def register(func: _F) -> _F:
            params = list(_plain_params(func))
            required = tuple(p.name for p in params if p.default is inspect.Parameter.empty)
            arguments = [{"name": p.name, "required": p.name in required} for p in params]
            prompt_name = name or func.__name__
            definition = _with_optional(
                {"name": prompt_name}, description=_description(func, description)
            )
            definition["arguments"] = arguments
            self._prompts[prompt_name] = _Prompt(func, required, definition)
            return func

        return register(fn) if fn is not None else register

    def completion(self, fn: _F) -> _F:
        """Register the ``completion/complete`` handler: ``fn(ref, argument, context)`` → values."""
        self._completion = fn
        return fn

    # ---- lifecycle --------------------------------------------------------------------

    async def start(self) -> str:
        """Start listening and return the endpoint URL (idempotent).

        The URL is the Streamable HTTP endpoint, or in legacy SSE mode the URL to GET.
        Not needed for :meth:`serve_stdio`.
        """
        if self._runner is not None:
            return self.url
        app = web.Application(client_max_size=64 * 1024 * 1024)
        if self.transport == "sse":
            app.router.add_route("GET", self._path, self._handle_sse_get)
            app.router.add_route("POST", self._messages_path, self._handle_sse_post)
            # A client leaving cancels its stream's handler, which ends the session.
            runner = web.AppRunner(
                app, access_log=None, shutdown_timeout=1.0, handler_cancellation=True
            )
        else:
            app.router.add_route("POST", self._path, self._handle_post)
            app.router.add_route("GET", self._path, self._handle_get)
            app.router.add_route("DELETE", self._path, self._handle_delete)
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
        for stream in self._kept:
            stream.kick()
        for channel in list(self._channels.values()):
            channel.end()
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
        closed = 0
        for session_id, channel in list(self._channels.items()):
            if abort:
                channel.abort()
            else:
                channel.end()
            session = self._sessions.get(session_id)
            if session is not None and session.link is not None:
                session.link.close()
            closed += 1
        return closed

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

    def _open_link(self, send: Send) -> _Link:
        """A new stdio session writing through ``send``."""
        session = _Session(secrets.token_hex(16), self._versions("stdio")[0])
        self._sessions[session.id] = session
        self.stats.sessions_created += 1
        return _Link(self, session, send, "stdio")

    def _versions(self, transport: str) -> tuple[str, ...]:
        return self.versions if self.versions is not None else _DEFAULT_VERSIONS[transport]

    # ---- HTTP handlers ----------------------------------------------------------------

    async def _handle_get(self, request: web.Request) -> web.StreamResponse:
        """GET opens the standalone SSE stream (``get_stream``) or, with ``Last-Event-ID``,
        resumes a stream (``resumable``); 405 when neither is offered."""
        self.stats._see_connection(request)
        if self.modern is not None and self.modern.claims(request):
            return self.modern.refuse_stream()
        last = request.headers.get(LAST_EVENT_ID_HEADER)
        offered = self.get_stream and self.stateful
        if not (offered or (self.resumable and last is not None)):
            return web.Response(status=405, headers={"Allow": self._allowed()})
        accept = {media_type(part) for part in request.headers.get("Accept", "").split(",")}
        if SSE_CONTENT_TYPE not in accept:
            return _error_reply(406, INVALID_REQUEST, "Not Acceptable: Accept text/event-stream")
        session: _Session | None = None
        if self.stateful:
            session_id = request.headers.get(SESSION_HEADER)
            if session_id is None:
                return _error_reply(400, INVALID_REQUEST, f"Bad Request: missing {SESSION_HEADER}")
            session = self._sessions.get(session_id)
            if session is None:
                return _error_reply(404, SESSION_NOT_FOUND, "Session not found")
        after: int | None = None
        if last is not None:
            self.stats.resumptions += 1
            self.stats.last_event_ids.append(last)
            found = self._event_streams.get(int(last)) if last.isdigit() else None
            if found is None:
                return _error_reply(400, INVALID_REQUEST, f"Bad Request: unknown event id {last!r}")
            stream, after = found, int(last)
        else:
            assert session is not None
            if session.standalone is not None:
                session.standalone.kick()
            stream = session.standalone = _Stream()
            self.stats.get_streams += 1
        headers = {SESSION_HEADER: session.id} if session is not None else {}
        response = web.StreamResponse(headers=headers)
        response.content_type = SSE_CONTENT_TYPE
        response.headers["Cache-Control"] = "no-cache"
        await response.prepare(request)
        if last is None and self.priming:
            self._push(stream, self._event("", event=None))
        with contextlib.suppress(ConnectionError):
            await stream.follow(after, response)
            await response.write_eof()
        return response

    def _keep(self, event_id: int, stream: _Stream) -> None:
        """Remember which stream an event belongs to (bounded: oldest streams go first)."""
        self._event_streams[event_id] = stream
        ids = self._kept.get(stream)
        if ids is None:
            ids = self._kept[stream] = []
            while len(self._kept) > _KEPT_STREAMS:
                _, old = self._kept.popitem(last=False)
                for old_id in old:
                    self._event_streams.pop(old_id, None)
        ids.append(event_id)

    def _push(self, stream: _Stream, event: tuple[int, bytes]) -> None:
        event_id, data = event
        self._keep(event_id, stream)
        stream.add(event_id, data)

    async def _handle_delete(self, request: web.Request) -> web.StreamResponse:
        """DELETE ends a session (stateful mode); 405 when stateless."""
        self.stats._see_connection(request)
        if self.modern is not None and self.modern.claims(request):
            return self.modern.refuse_stream()
        if not self.stateful:
            return web.Response(status=405, headers={"Allow": self._allowed()})
        session_id = request.headers.get(SESSION_HEADER)
        if session_id is None:
            return _error_reply(400, INVALID_REQUEST, f"Bad Request: missing {SESSION_HEADER}")
        ended = self._sessions.pop(session_id, None)
        if ended is None:
            return _error_reply(404, SESSION_NOT_FOUND, "Session not found")
        if ended.standalone is not None:
            ended.standalone.kick()
        self.stats.deletes += 1
        return web.Response(status=200)

    def _allowed(self) -> str:
        if not self.stateful:
            return "POST"
        return "GET, POST, DELETE" if self.get_stream else "POST, DELETE"

    async def _handle_post(self, request: web.Request) -> web.StreamResponse:
        if self.modern is not None and self.modern.claims(request):
            return await self.modern.handle_post(request)
        stats = self.stats
        stats.requests += 1
        stats._see_connection(request)
        stats.last_headers = request.headers
        refusal = self._check_post_headers(request)
        if refusal is not None:
            return refusal
        try:
            body = json.loads(await request.read())
        except ValueError:
            return _error_reply(400, PARSE_ERROR, "Parse error: body is not valid JSON")
        batch = isinstance(body, list)
        messages = self._parse(body if batch else [body])
        if not messages or (not batch and messages[0] is None):
            return _error_reply(400, INVALID_REQUEST, "Invalid Request")
        fault = self.faults.pick(*_primary(messages)) if len(self.faults) else None
        if fault is not None:
            early = await self._fault_reply(fault, request, request.headers.get(SESSION_HEADER))
            if early is not None:
                return early
        session, refusal = self._session_for(request, messages, batch)
        if refusal is not None:
            return refusal
        return await self._reply(request, messages, batch, session, fault)

    def _check_post_headers(self, request: web.Request) -> web.Response | None:
        headers = request.headers
        if not _accepts_both(headers.get("Accept", "")):
            return _error_reply(
                406,
                INVALID_REQUEST,
                "Not Acceptable: Accept must list application/json and text/event-stream",
            )
        if media_type(headers.get("Content-Type")) != JSON_CONTENT_TYPE:
            return _error_reply(
                415,
                INVALID_REQUEST,
                "Unsupported Media Type: Content-Type must be application/json",
            )
        version = headers.get(PROTOCOL_VERSION_HEADER)
        if version is not None and version not in SUPPORTED_VERSIONS:
            return _error_reply(
                400,
                INVALID_REQUEST,
                f"Bad Request: unsupported {PROTOCOL_VERSION_HEADER} {version!r}"
                f" (supported: {', '.join(SUPPORTED_VERSIONS)})",
            )
        return None

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

    def _session_for(
        self, request: web.Request, messages: list[Message | None], batch: bool
    ) -> tuple[_Session | None, web.Response | None]:
        """The request's session (a new one for ``initialize``), or a refusal."""
        if not self.stateful:
            return None, None
        first = messages[0]
        if not batch and isinstance(first, Request) and first.method == "initialize":
            session = _Session(
                secrets.token_hex(16), _negotiate(first.params, self._versions("http"))
            )
            self._sessions[session.id] = session
            self.stats.sessions_created += 1
            return session, None
        session_id = request.headers.get(SESSION_HEADER)
        if session_id is None:
            refusal = _error_reply(400, INVALID_REQUEST, f"Bad Request: missing {SESSION_HEADER}")
            return None, refusal
        found = self._sessions.get(session_id)
        if found is None:
            return None, _error_reply(404, SESSION_NOT_FOUND, "Session not found")
        return found, None

    # ---- legacy HTTP+SSE ---------------------------------------------------------------

    async def _handle_sse_get(self, request: web.Request) -> web.StreamResponse:
        """GET opens a session's event stream; its first event announces the POST endpoint."""
        stats = self.stats
        stats._see_connection(request)
        response = web.StreamResponse(headers={"Cache-Control": "no-cache"})
        response.content_type = SSE_CONTENT_TYPE
        await response.prepare(request)
        channel = SSEChannel(request, response, self.keepalive)
        session = _Session(secrets.token_hex(16), self._versions("sse")[0])
        link = _Link(self, session, channel.send, "sse")
        self._sessions[session.id] = session
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
        base = self.endpoint_override if self.endpoint_override is not None else (
            self._messages_path
        )
        return f"{base}{'&' if '?' in base else '?'}session_id={session_id}"

    async def _handle_sse_post(self, request: web.Request) -> web.StreamResponse:
        """POST hands a message (or batch) to a session: 202, the replies go on its stream."""
        stats = self.stats
        stats.requests += 1
        stats._see_connection(request)
        stats.last_headers = request.headers
        session_id = request.query.get("session_id")
        if session_id is None:
            return _error_reply(400, INVALID_REQUEST, "Bad Request: missing session_id")
        session = self._sessions.get(session_id)
        link = session.link if session is not None else None
        if link is None or link.kind != "sse" or link.closed:
            return _error_reply(404, SESSION_NOT_FOUND, "Session not found")
        try:
            body = json.loads(await request.read())
        except (ValueError, RecursionError):
            return _error_reply(400, PARSE_ERROR, "Parse error: body is not valid JSON")
        batch = isinstance(body, list)
        messages = self._parse(body if batch else [body])
        if not messages or (not batch and messages[0] is None):
            return _error_reply(400, INVALID_REQUEST, "Invalid Request")
        fault = self.faults.pick(*_primary(messages)) if len(self.faults) else None
        if fault is not None:
            early = await self._fault_reply(fault, request, session_id)
            if early is not None:
                return early
        link.take(messages, batch, fault)
        return web.Response(status=202)

    # ---- faults -----------------------------------------------------------------------

    async def _fault_reply(
        self, fault: Fault, request: web.Request, session_id: str | None
    ) -> web.StreamResponse | None:
        """Apply a fault's early effects; return the reply it forces, or None to go on."""
        if fault.delay:
            await asyncio.sleep(fault.delay)
        if fault.drop:
            return self._drop(request)
        if fault.expire_session:
            if session_id is not None:
                self._sessions.pop(session_id, None)
            return _error_reply(404, SESSION_NOT_FOUND, "Session not found")
        if fault.status is not None or fault.body is not None:
            return self._fault_body(fault)
        return None

    @staticmethod
    def _drop(request: web.Request) -> web.StreamResponse:
        transport = request.transport
        if transport is not None:
            transport.abort()
        # aiohttp cannot write this on the aborted transport; the client sees a disconnect.
        return web.Response(status=500)

    @staticmethod
    def _fault_body(fault: Fault) -> web.Response:
        status = 200 if fault.status is None else fault.status
        response = web.Response(status=status, headers=fault.headers)
        if fault.body is not None:
            body = fault.body.encode() if isinstance(fault.body, str) else fault.body
            response.body = body
        if "Content-Type" not in response.headers and (fault.body or fault.content_type):
            default = JSON_CONTENT_TYPE if fault.status is None else "text/plain"
            response.headers["Content-Type"] = fault.content_type or default
        return response

    # ---- replies ----------------------------------------------------------------------

    async def _reply(
        self,
        request: web.Request,
        messages: list[Message | None],
        batch: bool,
        session: _Session | None,
        fault: Fault | None,
    ) -> web.StreamResponse:
        work = self._work(messages, batch, session)
        headers = {SESSION_HEADER: session.id} if session is not None else {}
        if not work:
            return web.Response(status=202, headers=headers)
        if self.reply == "sse" or (
            fault is not None
            and (fault.truncate_sse or fault.end_after is not None or fault.break_after is not None)
        ):
            return await self._reply_sse(request, work, batch, session, fault, headers)
        body = await self._answer_all(work, batch, session, None, fault)
        return web.Response(body=body, content_type=JSON_CONTENT_TYPE, headers=headers)

    def _work(
        self, messages: list[Message | None], batch: bool, session: _Session | None
    ) -> list[_Work]:
        """Requests to answer (and ready-made errors); handles notifications on the way."""
        work: list[_Work] = []
        for message in messages:
            if batch and isinstance(message, Request) and message.method == "initialize":
                error = "initialize must not be part of a JSON-RPC batch"
                work.append(ErrorResponse(message.id, INVALID_REQUEST, error))
                continue
            item = self._take(message, session)
            if item is not None:
                work.append(item)
        return work

    def _take(self, message: Message | None, session: _Session | None) -> _Work | None:
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
        work: list[_Work],
        batch: bool,
        session: _Session | None,
        emit: _Emit | None,
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
            replies = [_wrong_id(reply) for reply in replies]
        if batch:
            body = b"[" + b",".join(_encode_one(reply) for reply in replies) + b"]"
        else:
            body = _encode_one(replies[0])
        if fault is not None and fault.invalid_json:
            body = body[: len(body) // 2]
        return body

    async def _reply_sse(
        self,
        request: web.Request,
        work: list[_Work],
        batch: bool,
        session: _Session | None,
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
        stream = _Stream() if self.resumable else None
        outbox = _Outbox(self, request, response, stream, fault)
        try:
            if self.priming or retry is not None or cuts:
                await outbox.write("", event=None, retry=retry)

            async def emit(message: Notification | Request) -> None:
                await outbox.write(encode(message).decode())

            data = (await self._answer_all(work, batch, session, emit, fault)).decode(
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

    def _event(
        self, data: str, *, event: str | None = "message", retry: int | None = None
    ) -> tuple[int, bytes]:
        event_id = next(self._event_ids)
        return event_id, _encode_event(data, event=event, id=str(event_id), retry=retry)

    # ---- server-initiated messages ------------------------------------------------------

    def _session_named(self, session_id: str | None) -> _Session:
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
                self._push(session.standalone, self._event(encode(Notification(method, params))
                                                            .decode()))
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
                    self._push(stream, self._event("", event=None, retry=retry))
                stream.kick()
                ended += 1
        return ended

    async def _server_request(
        self,
        method: str,
        params: dict[str, Any] | None,
        emit: _Emit | None,
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
            self._push(session.standalone, self._event(encode(message).decode()))

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
        self, item: _Work, session: _Session | None, emit: _Emit | None
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
        except _RPCError as exc:
            return ErrorResponse(item.id, exc.code, exc.message, exc.data)
        except Exception as exc:
            return ErrorResponse(item.id, INTERNAL_ERROR, f"Internal error: {exc}")

    # ---- methods ----------------------------------------------------------------------

    def _capabilities(self, version: str) -> dict[str, Any]:
        capabilities: dict[str, Any] = {"logging": {}}
        if self._tools:
            capabilities["tools"] = {"listChanged": True}
        if self._resources or self._templates:
            capabilities["resources"] = {"subscribe": True, "listChanged": True}
        if self._prompts:
            capabilities["prompts"] = {"listChanged": True}
        if self._completion is not None and version != _LEGACY_VERSION:
            capabilities["completions"] = {}
        if version >= "2025-11-25" and any(
            _task_support(tool) != "forbidden" for tool in self._tools.values()
        ):
            capabilities["tasks"] = TASK_CAPABILITY
        return capabilities

    async def _m_initialize(
        self, req: Request, session: _Session | None, emit: _Emit | None
    ) -> dict[str, Any]:
        if session is not None and session.link is not None:  # the handshake of a stream
            session.protocol_version = _negotiate(req.params, self._versions(session.link.kind))
        version = (
            session.protocol_version if session is not None
            else _negotiate(req.params, self._versions("http"))
        )
        result: dict[str, Any] = {
            "protocolVersion": version,
            "capabilities": self._capabilities(version),
            "serverInfo": {"name": self.name, "version": self.version},
        }
        return _with_optional(result, instructions=self.instructions)

    async def _m_ping(
        self, req: Request, session: _Session | None, emit: _Emit | None
    ) -> dict[str, Any]:
        return {}

    def _page(self, kind: str, key: str, items: Sequence[Any], req: Request) -> dict[str, Any]:
        """One page of ``items`` under ``key``, with ``nextCursor`` when more remain."""
        cursor = (req.params or {}).get("cursor")
        start = 0 if cursor is None else _decode_cursor(kind, cursor, len(items))
        if self.page_size is None:
            return {key: list(items[start:])}
        end = start + self.page_size
        result: dict[str, Any] = {key: list(items[start:end])}
        if end < len(items):
            result["nextCursor"] = _encode_cursor(kind, end)
        return result

    async def _m_tools_list(
        self, req: Request, session: _Session | None, emit: _Emit | None
    ) -> dict[str, Any]:
        definitions = [tool.definition for tool in self._tools.values()]
        return self._page("tools", "tools", definitions, req)

    async def _m_tools_call(
        self, req: Request, session: _Session | None, emit: _Emit | None
    ) -> dict[str, Any]:
        params = req.params or {}
        tool, arguments = _called_tool(self._tools, params)
        support = _task_support(tool)
        if "task" in params or support == "required":
            return await self._start_task(req, tool, arguments, session, support)
        if tool.ctx_param is not None:
            arguments = {**arguments, tool.ctx_param: self._context(req, session, emit)}
        with self._running_call(session, req):
            try:
                return _tool_result(await _resolve(tool.fn(**arguments)), tool.structured)
            except Exception as exc:
                return _error_result(exc)

    @contextlib.contextmanager
    def _running_call(self, session: _Session | None, req: Request) -> Iterator[None]:
        """Count a tool call in flight, and keep its task so a cancellation can reach it."""
        stats = self.stats
        stats.in_flight += 1
        stats.max_in_flight = max(stats.max_in_flight, stats.in_flight)
        key = (session.id if session is not None else None, req.id)
        task = asyncio.current_task()
        if task is not None:
            self._calls[key] = task
        try:
            yield
        finally:
            stats.in_flight -= 1
            if self._calls.get(key) is task:
                del self._calls[key]

    # ---- tasks (2025-11-25) -------------------------------------------------------------

    async def _start_task(
        self, req: Request, tool: _Tool, arguments: dict[str, Any], session: _Session | None,
        support: str,
    ) -> dict[str, Any]:
        params = req.params or {}
        task_params = params.get("task")
        if task_params is None:
            raise _RPCError(METHOD_NOT_FOUND, f"tool {tool.definition['name']!r} must be "
                            "called as a task (execution.taskSupport is 'required')")
        if support == "forbidden":
            raise _RPCError(METHOD_NOT_FOUND, f"tool {tool.definition['name']!r} cannot be "
                            "called as a task")
        if not isinstance(task_params, dict):
            raise _RPCError(INVALID_PARAMS, "params.task must be an object")
        session_id = session.id if session is not None else None
        store = self.task_store
        meta = params.get("_meta")
        token = meta.get("progressToken") if isinstance(meta, dict) else None

        async def run(task: ServerTask) -> dict[str, Any]:
            async def emit(message: Notification | Request) -> None:
                # The creating request is answered already: notifications go on the
                # session's GET stream or its stdio / legacy SSE stream, and a progress
                # message becomes the task's statusMessage.
                note = message.params or {}
                if message.method == "notifications/progress" and "message" in note:
                    task.set("working", str(note["message"]))
                if session_id is not None and isinstance(message, Notification):
                    with contextlib.suppress(LookupError, RuntimeError):
                        await self.notify(message.method, message.params, session_id=session_id)

            args = arguments
            if tool.ctx_param is not None:
                def ask(
                    method: str, p: dict[str, Any] | None, _emit: Any, _sid: Any, timeout: float
                ) -> Awaitable[dict[str, Any]]:
                    return store.ask(task, method, p, timeout)

                level = session.log_level if session is not None else self._log_level
                floor = _LEVEL_RANK[level] if level is not None else 0
                ctx = ToolContext(req.id, token, session_id, emit, floor, ask)
                args = {**arguments, tool.ctx_param: ctx}
            return _tool_result(await _resolve(tool.fn(**args)), tool.structured)

        task = store.start(session_id, task_params.get("ttl"), run)
        return {"task": task.wire()}

    def _task_named(self, req: Request, session: _Session | None) -> ServerTask:
        task_id = (req.params or {}).get("taskId")
        task = self.task_store.find(task_id, session.id if session is not None else None)
        if task is None or task.form != "2025-11-25":
            raise _RPCError(INVALID_PARAMS, f"Failed to retrieve task {task_id!r}: not found")
        return task

    async def _m_tasks_get(
        self, req: Request, session: _Session | None, emit: _Emit | None
    ) -> dict[str, Any]:
        return self._task_named(req, session).wire()

    async def _m_tasks_result(
        self, req: Request, session: _Session | None, emit: _Emit | None
    ) -> dict[str, Any]:
        task = self._task_named(req, session)
        session_id = session.id if session is not None else None

        def deliver(method: str, params: dict[str, Any] | None, out: Any) -> Any:
            return self._server_request(method, params, out, session_id, 30.0)

        try:
            return await self.task_store.result(task, deliver, emit)
        except TaskRPCError as exc:
            raise _RPCError(exc.code, exc.message, exc.data) from None

    async def _m_tasks_cancel(
        self, req: Request, session: _Session | None, emit: _Emit | None
    ) -> dict[str, Any]:
        task = self._task_named(req, session)
        if task.terminal:
            raise _RPCError(INVALID_PARAMS, f"Cannot cancel task in terminal status: {task.status}")
        return self.task_store.cancel(task)

    async def _m_tasks_list(
        self, req: Request, session: _Session | None, emit: _Emit | None
    ) -> dict[str, Any]:
        session_id = session.id if session is not None else None
        tasks = [t.wire() for t in self.task_store.tasks.values() if t.session_id == session_id]
        return self._page("tasks", "tasks", tasks, req)

    def _context(self, req: Request, session: _Session | None, emit: _Emit | None) -> ToolContext:
        meta = (req.params or {}).get("_meta")
        token = meta.get("progressToken") if isinstance(meta, dict) else None
        level = session.log_level if session is not None else self._log_level
        floor = _LEVEL_RANK[level] if level is not None else 0
        session_id = session.id if session is not None else None
        return ToolContext(req.id, token, session_id, emit, floor, self._server_request)

    async def _m_resources_list(
        self, req: Request, session: _Session | None, emit: _Emit | None
    ) -> dict[str, Any]:
        definitions = [definition for definition, _ in self._resources.values()]
        return self._page("resources", "resources", definitions, req)

    async def _m_templates_list(
        self, req: Request, session: _Session | None, emit: _Emit | None
    ) -> dict[str, Any]:
        definitions = [template.definition for template in self._templates]
        return self._page("templates", "resourceTemplates", definitions, req)

    async def _m_resources_read(
        self, req: Request, session: _Session | None, emit: _Emit | None
    ) -> dict[str, Any]:
        uri = _uri_param(req)
        static = self._resources.get(uri)
        if static is not None:
            return {"contents": [static[1]]}
        for template in self._templates:
            match = template.pattern.fullmatch(uri)
            if match is not None:
                values = {key: unquote(value) for key, value in match.groupdict().items()}
                value = await _resolve(template.fn(**values))
                found = _with_optional({"uri": uri}, mimeType=template.mime_type)
                if isinstance(value, bytes | bytearray):
                    found["blob"] = base64.b64encode(value).decode("ascii")
                else:
                    found["text"] = str(value)
                return {"contents": [found]}
        raise _RPCError(RESOURCE_NOT_FOUND, "Resource not found", {"uri": uri})

    async def _m_subscribe(
        self, req: Request, session: _Session | None, emit: _Emit | None
    ) -> dict[str, Any]:
        uri = _uri_param(req)
        if session is not None:
            session.subscriptions.add(uri)
        return {}

    async def _m_unsubscribe(
        self, req: Request, session: _Session | None, emit: _Emit | None
    ) -> dict[str, Any]:
        uri = _uri_param(req)
        if session is not None:
            session.subscriptions.discard(uri)
        return {}

    async def _m_prompts_list(
        self, req: Request, session: _Session | None, emit: _Emit | None
    ) -> dict[str, Any]:
        definitions = [prompt.definition for prompt in self._prompts.values()]
        return self._page("prompts", "prompts", definitions, req)

    async def _m_prompts_get(
        self, req: Request, session: _Session | None, emit: _Emit | None
    ) -> dict[str, Any]:
        params = req.params or {}
        name = params.get("name")
        prompt = self._prompts.get(name) if isinstance(name, str) else None
        if prompt is None:
            raise _RPCError(INVALID_PARAMS, f"Unknown prompt: {name!r}")
        arguments = params.get("arguments") or {}
        if not isinstance(arguments, dict):
            raise _RPCError(INVALID_PARAMS, "prompts/get arguments must be an object")
        missing = [arg for arg in prompt.required if arg not in arguments]
        if missing:
            raise _RPCError(INVALID_PARAMS, f"Missing required arguments: {', '.join(missing)}")
        messages = _prompt_messages(await _resolve(prompt.fn(**arguments)))
        return _with_optional(
            {"messages": messages}, description=prompt.definition.get("description")
        )

    async def _m_complete(
        self, req: Request, session: _Session | None, emit: _Emit | None
    ) -> dict[str, Any]:
        params = req.params or {}
        ref, argument = params.get("ref"), params.get("argument")
        if not isinstance(ref, dict) or not isinstance(argument, dict):
            raise _RPCError(INVALID_PARAMS, "completion/complete needs ref and argument objects")
        values: list[str] = []
        if self._completion is not None:
            context = params.get("context")
            values = list(await _resolve(self._completion(ref, argument, context)))
        completion = {"values": values[:100], "total": len(values), "hasMore": len(values) > 100}
        return {"completion": completion}

    async def _m_set_level(
        self, req: Request, session: _Session | None, emit: _Emit | None
    ) -> dict[str, Any]:
        level = (req.params or {}).get("level")
        if level not in _LEVEL_RANK:
            raise _RPCError(INVALID_PARAMS, f"Invalid log level: {level!r}")
        if session is not None:
            session.log_level = level
        else:
            self._log_level = level
        return {}


def _uri_param(req: Request) -> str:
    uri = (req.params or {}).get("uri")
    if not isinstance(uri, str):
        raise _RPCError(INVALID_PARAMS, "params.uri must be a string")
    return uri


# --------------------------------------------------------------------------------------
# Demo
# --------------------------------------------------------------------------------------

_CONDITIONS: Final = ("sunny", "cloudy", "rainy", "windy", "snowy", "foggy")
_CITIES: Final = ("Amsterdam", "Berlin", "Lisbon", "London", "Madrid", "Paris", "Rome", "Vienna")
_LANGUAGES: Final = ("go", "javascript", "python", "rust", "typescript")


def _demo_weather(city: str) -> dict[str, Any]:
    seed = sum(city.encode())
    return {
        "city": city,
        "temperature_c": seed % 35 - 5,
        "conditions": _CONDITIONS[seed % len(_CONDITIONS)],
        "humidity": 30 + seed % 60,
    }


def _demo_complete(
    ref: dict[str, Any], argument: dict[str, Any], context: dict[str, Any] | None
) -> list[str]:
    choices = {"language": _LANGUAGES, "city": _CITIES}.get(argument.get("name", ""), ())
    prefix = str(argument.get("value", "")).lower()
    return [choice for choice in choices if choice.lower().startswith(prefix)]


def _register_demo_tools(server: MCPTestServer) -> None:
    add_schema = {
        "type": "object",
        "properties": {"result": {"type": "number"}},
        "required": ["result"],
    }

    @server.tool(output_schema=add_schema, annotations={"readOnlyHint": True})
    def add(a: float, b: float) -> dict[str, float]:
        """Add two numbers."""
        return {"result": a + b}

    @server.tool
    def echo(text: str) -> str:
        """Echo the text back."""
        return text

    @server.tool
    async def slow(seconds: float = 1.0, ctx: ToolContext | None = None) -> str:
        """Sleep for the given seconds, reporting progress in four steps."""
        for step in range(1, 5):
            await asyncio.sleep(seconds / 4)
            if ctx is not None:
                await ctx.report_progress(step, 4, f"step {step} of 4")
        return f"slept {seconds} s"

    weather_schema = {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "temperature_c": {"type": "integer"},
            "conditions": {"type": "string"},
            "humidity": {"type": "integer"},
        },
        "required": ["city", "temperature_c", "conditions", "humidity"],
    }
    server.tool(
        _demo_weather,
        name="weather",
        output_schema=weather_schema,
        description="Current (made-up, deterministic) weather for a city.",
    )

    @server.tool
    def fail() -> str:
        """Always fails (returns an isError result)."""
        raise RuntimeError("this tool always fails")


def _register_two_way_tools(server: MCPTestServer) -> None:
    @server.tool
    async def sample(prompt: str, ctx: ToolContext, max_tokens: int = 100) -> str:
        """Ask the client's model (sampling/createMessage) and return the text it sampled."""
        result = await ctx.create_message(prompt, max_tokens=max_tokens)
        content = result.get("content")
        if isinstance(content, dict) and content.get("type") == "text":
            return str(content.get("text", ""))
        return _dumps(result)

    @server.tool
    async def confirm(question: str, ctx: ToolContext) -> dict[str, Any]:
        """Ask the user to confirm (elicitation/create); returns the action and the answer."""
        schema = {
            "type": "object",
            "properties": {"confirm": {"type": "boolean"}},
            "required": ["confirm"],
        }
        result = await ctx.elicit(question, schema)
        return {"action": result.get("action"), "answer": result.get("content")}

    @server.tool
    async def list_roots(ctx: ToolContext) -> dict[str, Any]:
        """The client's roots (roots/list)."""
        return {"roots": await ctx.list_roots()}

    @server.tool
    async def log_message(level: str, text: str, ctx: ToolContext) -> str:
        """Send ``text`` as a log message at ``level`` (subject to logging/setLevel)."""
        await ctx.log(level, text, logger="demo")
        return "logged"


def _register_task_tools(server: MCPTestServer) -> None:
    @server.tool(task_support="required")
    async def research(topic: str, ctx: ToolContext, rounds: int = 3) -> str:
        """A task: works through ``rounds`` stages (progress and status messages)."""
        for step in range(1, rounds + 1):
            await asyncio.sleep(0.06)
            await ctx.report_progress(step, rounds, f"stage {step} of {rounds}")
        return f"report on {topic} after {rounds} stages"

    @server.tool(task_support="required")
    async def clarify(topic: str, ctx: ToolContext) -> str:
        """A task that needs input: asks which meaning of ``topic`` (via tasks/result)."""
        await asyncio.sleep(0.03)
        schema = {
            "type": "object",
            "properties": {"interpretation": {"type": "string", "default": "technical"}},
            "required": ["interpretation"],
        }
        answer = await ctx.elicit(f"Which {topic} do you mean?", schema)
        content = answer.get("content") or {}
        return f"{topic} ({content.get('interpretation', answer.get('action'))})"

    @server.tool(task_support="required")
    async def doomed() -> str:
        """A task that fails (status failed, an isError result)."""
        await asyncio.sleep(0.03)
        raise RuntimeError("the experiment failed")

    @server.tool(task_support="required")
    async def marathon(seconds: float = 30.0) -> str:
        """A task that runs ``seconds``: long enough for a deadline to cancel it."""
        await asyncio.sleep(seconds)
        return f"ran {seconds} s"

    @server.tool(task_support="optional")
    def double(x: float) -> float:
        """Doubles ``x``; may be called as a task or not."""
        return x * 2


def demo_server(*, two_way: bool = False, tasks: bool = False, **kw: Any) -> MCPTestServer:
    """A server with demo tools, a resource, a template, a prompt and a completion.

    Tools: ``add(a, b)`` (output schema), ``echo(text)``, ``slow(seconds)`` (progress),
    ``weather(city)`` (structured), ``fail()``. Resource ``demo://readme``; template
    ``demo://greeting/{name}``; prompt ``review_code(code, language)``; completion of
    ``language`` and ``city`` arguments. Keyword arguments go to :class:`MCPTestServer`.

    ``two_way`` adds tools that talk back to the client: ``sample(prompt, max_tokens=100)``
    (``sampling/createMessage``; returns the sampled text), ``confirm(question)``
    (``elicitation/create``; returns ``{"action", "answer"}``), ``list_roots()``
    (``roots/list``; returns ``{"roots"}``) and ``log_message(level, text)``
    (``notifications/message``).

    ``tasks`` adds tools run as tasks (MCP 2025-11-25): ``research(topic, rounds=3)``
    (a few poll rounds, progress), ``clarify(topic)`` (elicitation through
    ``tasks/result``), ``doomed()`` (fails), ``marathon(seconds=30)`` (for deadlines),
    all ``taskSupport: "required"``, and ``double(x)`` (``"optional"``). With
    ``eras=("2026-07-28", ...)`` they also run in the 2026 extension's form, and the
    two-way tools ask through input rounds (MRTR).
    """
    kw.setdefault("name", "mcp-async-demo")
    kw.setdefault("instructions", "A demo MCP server: try the add, echo and weather tools.")
    server = MCPTestServer(**kw)
    _register_demo_tools(server)
    if two_way:
        _register_two_way_tools(server)
    if tasks:
        _register_task_tools(server)
    server.resource(
        "demo://readme",
        name="readme",
        text="# mcp_async demo\n\nThis server exists to show the client off.\n",
        mime_type="text/markdown",
        description="About this demo server.",
    )
    server.resource_template(
        "demo://greeting/{name}",
        lambda name: f"Hello, {name}!",
        name="greeting",
        mime_type="text/plain",
    )

    @server.prompt
    def review_code(code: str, language: str = "python") -> list[tuple[str, str]]:
        """Ask for a code review."""
        return [
            ("user", f"Please review this {language} code:\n\n{code}"),
            ("assistant", "Sure - here is my review."),
        ]

    server.completion(_demo_complete)
    return server


# --------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------

_BANNER: Final = "mcp-async demo server starting (this line is not JSON-RPC)"


def _count(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = int(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}")
        return value

    return parse


def _eras(text: str) -> tuple[str, ...]:
    eras = tuple(part.strip() for part in text.split(",") if part.strip())
    known = (*_STATELESS_VERSIONS, *_KNOWN_VERSIONS)
    unknown = [era for era in eras if era not in known]
    if not eras or unknown:
        raise argparse.ArgumentTypeError(f"revisions must be among {', '.join(known)}")
    return eras


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m mcp_async.testing",
        description="Run the mcp_async demo MCP server (demo_server) on one transport.",
    )
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--stdio", dest="transport", action="store_const", const="stdio",
                      help="one session on stdin/stdout until end of input")
    mode.add_argument("--sse", dest="transport", action="store_const", const="sse",
                      help="legacy HTTP+SSE on 127.0.0.1; prints the GET URL")
    mode.add_argument("--http", dest="transport", action="store_const", const="http",
                      help="Streamable HTTP on 127.0.0.1; prints the URL")
    parser.add_argument("--port", type=_count(0), default=0, help="TCP port (default: any)")
    parser.add_argument("--reply", choices=("json", "sse"), default="json",
                        help="Streamable HTTP reply mode")
    parser.add_argument("--keepalive", type=float, default=None, metavar="SECONDS",
                        help="legacy SSE: ': ping' comment after this many idle seconds")
    parser.add_argument("--two-way", action="store_true",
                        help="add the sample, confirm, list_roots and log_message tools")
    parser.add_argument("--tasks", action="store_true",
                        help="add the task tools (research, clarify, doomed, marathon, double)")
    parser.add_argument("--eras", type=_eras, default=None, metavar="REV[,REV...]",
                        help="protocol revisions served, e.g. 2026-07-28,2025-11-25 "
                             "(default: the handshake era only)")
    parser.add_argument("--grace", type=float, default=2.0, metavar="SECONDS",
                        help="stdio: time running requests get after end of input")
    faults = parser.add_argument_group("fault injection")
    faults.add_argument("--banner", nargs="?", const=_BANNER, default=None, metavar="TEXT",
                        help="stdio: write a non-JSON line on stdout before serving")
    faults.add_argument("--stderr-lines", type=_count(0), default=0, metavar="N",
                        help="write N lines to stderr at startup")
    faults.add_argument("--ignore-sigterm", action="store_true",
                        help="ignore SIGTERM (only SIGKILL stops the process)")
    faults.add_argument("--exit-after", type=_count(1), default=None, metavar="N",
                        help="stdio: on the Nth request write 'dying' to stderr and exit 3")
    return parser


async def _serve_until_signal(server: MCPTestServer, *, sigterm: bool) -> None:
    url = await server.start()
    try:
        print(url, flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM) if sigterm else (signal.SIGINT,):
            with contextlib.suppress(NotImplementedError):  # no signal handlers on Windows
                loop.add_signal_handler(signum, stop.set)
        await stop.wait()
    finally:
        await server.stop()


def main(argv: Sequence[str] | None = None) -> int:
    """Run :func:`demo_server` from the command line; returns the exit status.

    ``python -m mcp_async.testing --stdio`` serves one session on stdin/stdout and exits
    with 0 at end of input; ``--sse`` (legacy HTTP+SSE) and ``--http`` (Streamable HTTP,
    ``--reply json|sse``) print the URL as the first line of stdout and serve on
    127.0.0.1 (``--port``) until SIGINT or SIGTERM. ``--two-way`` and ``--tasks`` add the
    demo's two-way and task tools (see :func:`demo_server`); ``--eras
    2026-07-28,2025-11-25`` serves those revisions (``eras``; the default is the
    handshake era only); ``--keepalive SECONDS`` pings idle SSE streams;
    ``--grace SECONDS`` is :meth:`MCPTestServer.serve_stdio`'s ``grace``.

    Fault injection: ``--banner [TEXT]`` (stdio) writes a non-JSON line on stdout before
    serving; ``--stderr-lines N`` writes N lines to stderr at startup;
    ``--ignore-sigterm`` ignores SIGTERM; ``--exit-after N`` (stdio) writes ``dying`` to
    stderr and exits with status 3 when the Nth JSON-RPC request arrives, unanswered.
    """
    parser = _parser()
    args = parser.parse_args(argv)
    if args.transport != "stdio" and (args.banner is not None or args.exit_after is not None):
        parser.error("--banner and --exit-after apply to --stdio only")
    if args.transport == "sse" and args.eras is not None and any(
        era in _STATELESS_VERSIONS for era in args.eras
    ):
        parser.error("--sse (legacy HTTP+SSE) has no stateless era")
    if args.ignore_sigterm:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    for line in range(1, args.stderr_lines + 1):
        print(f"mcp-async demo server: stderr line {line} of {args.stderr_lines}",
              file=sys.stderr)
    sys.stderr.flush()
    options: dict[str, Any] = {"two_way": args.two_way, "tasks": args.tasks, "port": args.port,
                               "eras": args.eras}
    if args.transport == "sse":
        options.update(transport="sse", keepalive=args.keepalive)
    elif args.transport == "http":
        options.update(reply=args.reply)
    server = demo_server(**options)
    try:
        if args.transport == "stdio":
            asyncio.run(serve_lines(
                server._open_link, grace=args.grace, banner=args.banner,
                exit_after=args.exit_after,
            ))
        else:
            asyncio.run(_serve_until_signal(server, sigterm=not args.ignore_sigterm))
    except KeyboardInterrupt:
        return 130
    return 0

