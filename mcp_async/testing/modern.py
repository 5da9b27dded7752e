"""MCP 2026-07-28 (the stateless era) for :class:`mcp_async.testing.MCPTestServer`.

Enabled with ``MCPTestServer(eras=("2026-07-28", ...))``. Requests of that era carry
their own ``_meta`` envelope and, over HTTP, ``MCP-Protocol-Version: 2026-07-28`` and no
session: the server answers ``server/discover``, checks the envelope and the routing
headers (``Mcp-Method``, ``Mcp-Name``), stamps ``resultType`` and ``serverInfo`` on
every result and refuses the methods the revision removed (``ping``,
``logging/setLevel``, ``resources/subscribe``, ...) with ``-32601``.

Input (MRTR, SEP-2322): a tool's :class:`~mcp_async.testing.ToolContext` requests
(``elicit``, ``create_message``, ``list_roots``) become an ``InputRequiredResult``. The
server keeps nothing: ``requestState`` carries the answers given so far, and each
retry runs the tool again from the top, its ``n``-th request answered from the retry's
``inputResponses`` (key ``"<capability>-<n>"``, e.g. ``"elicitation-1"``).

Tasks (the ``io.modelcontextprotocol/tasks`` extension, SEP-2663): offered under
``capabilities.extensions`` when a tool allows tasks. A ``tools/call`` of a tool whose
``taskSupport`` is ``"required"`` (from a client declaring the extension) is answered
``{"resultType": "task", taskId, status, createdAt, lastUpdatedAt, ttlMs,
pollIntervalMs}``; ``tasks/get`` returns the task with ``inputRequests``
(``input_required``), ``result`` (ended with a tool result, ``isError`` ones included)
or ``error`` (ended with a JSON-RPC error); ``tasks/update {taskId, inputResponses}``
answers its input requests; ``tasks/cancel`` stops it. ``"optional"`` tools run at
once.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
from collections.abc import Awaitable, Mapping
from typing import TYPE_CHECKING, Any, Final

from ..protocol.jsonrpc import (
    INTERNAL_ERROR,
    INVALID_PARAMS,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    PARSE_ERROR,
    RESOURCE_NOT_FOUND,
    ErrorResponse,
    Notification,
    Request,
    Response,
    encode,
)
from ..protocol.mcp import JSON_CONTENT_TYPE, PROTOCOL_VERSION_HEADER, SSE_CONTENT_TYPE, media_type
from ..protocol.modern import (
    CAPABILITIES_META,
    HEADER_MISMATCH,
    LOG_LEVEL_META,
    METHOD_HEADER,
    MISSING_CAPABILITY,
    NAME_HEADER,
    SERVER_INFO_META,
    UNSUPPORTED_VERSION,
    VERSION_META,
    routing_name,
)
from ..protocol.sse import encode_event
from .context import LEVEL_RANK, LOG_LEVELS, Emit, ToolContext
from .core import Handler
from .methods import ServerMethods
from .registry import Tool, called_tool, error_result, resolve, task_support, tool_result
from .state import Session
from .tasks import ServerTask
from .wire import HANDSHAKE_VERSIONS, RPCError, accepts_both

if TYPE_CHECKING:
    from aiohttp import web

__all__ = ["MODERN_VERSIONS", "TASKS_EXTENSION", "ModernMode"]

#: The stateless revisions the test server can speak, newest first.
MODERN_VERSIONS: Final = ("2026-07-28",)
#: The 2026 tasks extension's identifier.
TASKS_EXTENSION: Final = "io.modelcontextprotocol/tasks"

#: HTTP status of a JSON-RPC error in the stateless era (others: 200).
_STATUS: Final = {
    PARSE_ERROR: 400, INVALID_REQUEST: 400, INVALID_PARAMS: 400, HEADER_MISMATCH: 400,
    MISSING_CAPABILITY: 400, UNSUPPORTED_VERSION: 400, METHOD_NOT_FOUND: 404,
}
#: The client capability each embeddable input request needs.
_CAPABILITY: Final = {
    "elicitation/create": "elicitation",
    "sampling/createMessage": "sampling",
    "roots/list": "roots",
}
#: No ``logLevel`` in the envelope: no log notifications at all.
_NO_LOGS: Final = len(LOG_LEVELS)



class _InputNeeded(Exception):
    """Raised inside a tool (through its ToolContext) when an answer is missing."""

    def __init__(self, requests: dict[str, Any]) -> None:
        super().__init__("input required")
        self.requests = requests


class _Rounds:
    """A ToolContext requester for one MRTR round: answers from earlier rounds, or
    :class:`_InputNeeded` for the first request that has none."""

    def __init__(self, answers: dict[str, Any], capabilities: Mapping[str, Any]) -> None:
        self.answers = answers
        self.capabilities = capabilities
        self.count = 0

    async def __call__(
        self, method: str, params: dict[str, Any] | None, _emit: Any, _session: Any,
        _timeout: float,
    ) -> dict[str, Any]:
        self.count += 1
        kind = _CAPABILITY.get(method)
        if kind is None:
            raise RuntimeError(f"{method} cannot be asked of a 2026-07-28 client")
        key = f"{kind}-{self.count}"
        if key in self.answers:
            answer: dict[str, Any] = self.answers[key]
            return answer
        if kind not in self.capabilities:
            raise RPCError(
                MISSING_CAPABILITY, f"this request needs the client's {kind} capability",
                {"requiredCapabilities": {kind: {}}},
            )
        raise _InputNeeded({key: {"method": method, "params": params or {}}})


def _encode_state(answers: Mapping[str, Any]) -> str:
    raw = json.dumps({"answers": answers}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(raw.encode()).decode("ascii")


def _decode_state(state: Any) -> dict[str, Any]:
    try:
        decoded = json.loads(base64.urlsafe_b64decode(state.encode("ascii")))
        answers = decoded["answers"]
    except (AttributeError, KeyError, TypeError, ValueError, binascii.Error):
        answers = None
    if not isinstance(answers, dict):
        raise RPCError(INVALID_PARAMS, "requestState is not one this server issued")
    return answers


def _decode_header(value: str | None) -> str | None:
    """An ``Mcp-Name`` value, unwrapping ``=?base64?...?=``."""
    if value is not None and value.startswith("=?base64?") and value.endswith("?="):
        try:
            return base64.b64decode(value[9:-2], validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
    return value


def _reply(reply: Response | ErrorResponse, body: bytes | None = None) -> web.Response:
    from aiohttp import web  # loaded by the HTTP front end; a stdio server never needs it

    status = _STATUS.get(reply.code, 200) if isinstance(reply, ErrorResponse) else 200
    return web.Response(status=status, body=body if body is not None else encode(reply),
                        content_type=JSON_CONTENT_TYPE)


def wire_task(task: ServerTask) -> dict[str, Any]:
    """A task in the 2026 extension's shape."""
    out: dict[str, Any] = {
        "taskId": task.id, "status": task.status, "createdAt": task.created,
        "lastUpdatedAt": task.updated, "ttlMs": task.ttl, "pollIntervalMs": task.poll_interval,
    }
    if task.message is not None:
        out["statusMessage"] = task.message
    if task.status == "input_required" and task.inputs:
        out["inputRequests"] = {
            key: {"method": method, "params": params}
            for key, (method, params, _) in task.inputs.items()
        }
    if task.terminal:
        if task.error is not None:
            code, message, data = task.error
            error: dict[str, Any] = {"code": code, "message": message}
            if data is not None:
                error["data"] = data
            out["error"] = error
        elif task.result is not None:
            out["result"] = task.result
    return out


class ModernMode:
    """The stateless era of one test server (see the module docstring)."""

    def __init__(self, server: ServerMethods, modern: tuple[str, ...], handshake: bool) -> None:
        self.server = server
        #: Stateless revisions served, newest first.
        self.versions = modern
        #: Whether handshake-era requests are served too.
        self.handshake = handshake
        #: ``ttlMs`` and ``cacheScope`` of the ``DiscoverResult``.
        self.ttl_ms = 0
        self.cache_scope = "public"
        self._methods: dict[str, Handler] = {
            "server/discover": self._discover,
            "tools/list": server._m_tools_list,
            "tools/call": self._tools_call,
            "resources/list": server._m_resources_list,
            "resources/templates/list": server._m_templates_list,
            "resources/read": server._m_resources_read,
            "prompts/list": server._m_prompts_list,
            "prompts/get": server._m_prompts_get,
            "completion/complete": server._m_complete,
            "tasks/get": self._tasks_get,
            "tasks/update": self._tasks_update,
            "tasks/cancel": self._tasks_cancel,
        }

    # ---- routing ----------------------------------------------------------------------

    def supported(self) -> list[str]:
        """Every revision the server speaks, stateless ones first."""
        return [*self.versions, *(self.server._versions("http") if self.handshake else ())]

    def claims(self, request: web.Request) -> bool:
        """Whether an HTTP request belongs to the stateless era: its
        ``MCP-Protocol-Version`` names no handshake revision (or there is no handshake)."""
        if not self.handshake:
            return True
        version = request.headers.get(PROTOCOL_VERSION_HEADER)
        return version is not None and version not in HANDSHAKE_VERSIONS

    def claims_message(self, req: Request) -> bool:
        """Whether a request on a stream transport belongs to the stateless era (by its
        ``_meta`` protocolVersion; ``server/discover`` always does)."""
        if not self.handshake or req.method == "server/discover":
            return True
        meta = (req.params or {}).get("_meta")
        version = meta.get(VERSION_META) if isinstance(meta, dict) else None
        return isinstance(version, str) and version not in HANDSHAKE_VERSIONS

    @property
    def tasks_on(self) -> bool:
        return any(task_support(tool) != "forbidden" for tool in self.server._tools.values())

    # ---- HTTP ---------------------------------------------------------------------------

    async def handle_post(self, request: web.Request) -> web.StreamResponse:
        # aiohttp.web is imported here, not with the module: a stdio server never needs it.
        from aiohttp import web

        from .http_replies import fault_reply

        server = self.server
        stats = server.stats
        stats.requests += 1
        stats._see_connection(request)
        stats.last_headers = request.headers
        headers = request.headers
        if not accepts_both(headers.get("Accept", "")):
            return _reply(ErrorResponse(None, INVALID_REQUEST, "Not Acceptable: Accept must "
                                        "list application/json and text/event-stream"))
        if media_type(headers.get("Content-Type")) != JSON_CONTENT_TYPE:
            return web.Response(status=415, body=encode(ErrorResponse(
                None, INVALID_REQUEST, "Content-Type must be application/json")),
                content_type=JSON_CONTENT_TYPE)
        try:
            body = json.loads(await request.read())
        except ValueError:
            return _reply(ErrorResponse(None, PARSE_ERROR, "Parse error: body is not valid JSON"))
        if isinstance(body, list):
            return _reply(ErrorResponse(None, INVALID_REQUEST, "batches are not allowed"))
        (message,) = server._parse([body])
        if isinstance(message, Notification):
            return web.Response(status=202)
        if not isinstance(message, Request):
            return _reply(ErrorResponse(None, INVALID_REQUEST, "Invalid Request: a client "
                                        "sends only requests and notifications"))
        name = (message.params or {}).get("name")
        fault = server.faults.pick(message.method, name if isinstance(name, str) else None) \
            if len(server.faults) else None
        if fault is not None:
            early = await fault_reply(fault, request, None, server._sessions)
            if early is not None:
                return early
        refusal = self.check(message, headers)
        if refusal is not None:
            return _reply(refusal)
        if message.method not in self._methods and message.method != "initialize":
            return _reply(self._not_found(message))
        if server.reply == "sse":
            return await self._reply_sse(request, message)
        reply = await self.answer(message, None, None)
        body_bytes = server._encode_replies([reply], False, fault) if fault is not None else None
        return _reply(reply, body_bytes)

    async def _reply_sse(self, request: web.Request, message: Request) -> web.StreamResponse:
        from aiohttp import web  # see handle_post

        response = web.StreamResponse()
        response.content_type = SSE_CONTENT_TYPE
        response.headers["Cache-Control"] = "no-cache"
        await response.prepare(request)

        async def emit(note: Notification | Request) -> None:
            await response.write(encode_event(encode(note).decode(), event="message"))

        with contextlib.suppress(ConnectionError):
            reply = await self.answer(message, None, emit)
            await response.write(encode_event(encode(reply).decode(), event="message"))
            await response.write_eof()
        return response

    @staticmethod
    def refuse_stream() -> web.Response:
        """GET and DELETE in the stateless era: no streams, no sessions."""
        from aiohttp import web  # see handle_post

        return web.Response(status=405, headers={"Allow": "POST"})

    def check(self, req: Request, headers: Mapping[str, str]) -> ErrorResponse | None:
        """The envelope, then the routing headers against the body."""
        problem = self._envelope_error(req, check_version=False)
        if problem is not None:
            return problem
        meta = (req.params or {})["_meta"]
        version = meta[VERSION_META]
        if headers.get(PROTOCOL_VERSION_HEADER) != version:
            return ErrorResponse(req.id, HEADER_MISMATCH, f"Header mismatch: "
                                 f"{PROTOCOL_VERSION_HEADER} is not {version!r} as in _meta")
        if headers.get(METHOD_HEADER) != req.method:
            return ErrorResponse(req.id, HEADER_MISMATCH,
                                 f"Header mismatch: {METHOD_HEADER} is not {req.method!r}")
        name = routing_name(req.method, req.params)
        if name is not None and _decode_header(headers.get(NAME_HEADER)) != name:
            return ErrorResponse(req.id, HEADER_MISMATCH,
                                 f"Header mismatch: {NAME_HEADER} is not {name!r}")
        return self._envelope_error(req)

    # ---- answering (every transport) ---------------------------------------------------

    def _envelope_error(self, req: Request, *, check_version: bool = True) -> ErrorResponse | None:
        if req.method == "initialize":  # no handshake here: name the versions we speak
            return self._unsupported(req, (req.params or {}).get("protocolVersion"))
        meta = (req.params or {}).get("_meta")
        if not isinstance(meta, dict):
            return ErrorResponse(req.id, INVALID_PARAMS,
                                 "Invalid params: the _meta envelope is missing")
        version = meta.get(VERSION_META)
        if not isinstance(version, str):
            return ErrorResponse(req.id, INVALID_PARAMS,
                                 f"Invalid params: _meta lacks {VERSION_META}")
        if not isinstance(meta.get(CAPABILITIES_META), dict):
            return ErrorResponse(req.id, INVALID_PARAMS,
                                 f"Invalid params: _meta lacks {CAPABILITIES_META}")
        if check_version and version not in self.versions:
            return self._unsupported(req, version)
        return None

    def _unsupported(self, req: Request, requested: Any) -> ErrorResponse:
        return ErrorResponse(req.id, UNSUPPORTED_VERSION,
                             f"Unsupported protocol version: {requested!r}",
                             {"supported": self.supported(), "requested": requested})

    def _not_found(self, req: Request) -> ErrorResponse:
        return ErrorResponse(req.id, METHOD_NOT_FOUND, f"Method not found: {req.method}")

    async def answer(
        self, req: Request, session: Session | None, emit: Emit | None
    ) -> Response | ErrorResponse:
        """Answer one stateless-era request (``session``: the stdio link's, for
        cancellation only)."""
        problem = self._envelope_error(req)
        if problem is not None:
            return problem
        handler = self._methods.get(req.method)
        if handler is None or (req.method.startswith("tasks/") and not self.tasks_on):
            return self._not_found(req)
        try:
            result = await handler(req, session, emit)
        except RPCError as exc:
            code = INVALID_PARAMS if exc.code == RESOURCE_NOT_FOUND else exc.code
            return ErrorResponse(req.id, code, exc.message, exc.data)
        except Exception as exc:
            return ErrorResponse(req.id, INTERNAL_ERROR, f"Internal error: {exc}")
        return Response(req.id, self._stamp(result))

    def _stamp(self, result: dict[str, Any]) -> dict[str, Any]:
        out = dict(result)
        out.setdefault("resultType", "complete")
        info = {"name": self.server.name, "version": self.server.version}
        out["_meta"] = {**(out.get("_meta") or {}), SERVER_INFO_META: info}
        return out

    # ---- methods ------------------------------------------------------------------------

    async def _discover(
        self, req: Request, session: Session | None, emit: Emit | None
    ) -> dict[str, Any]:
        server = self.server
        capabilities = server._capabilities(self.versions[0])
        capabilities.pop("tasks", None)  # an extension now
        for kind in ("tools", "resources", "prompts"):  # no subscriptions/listen here
            if kind in capabilities:
                capabilities[kind] = {}
        if self.tasks_on:
            capabilities["extensions"] = {TASKS_EXTENSION: {}}
        result: dict[str, Any] = {
            "supportedVersions": self.supported(),
            "capabilities": capabilities,
            "ttlMs": self.ttl_ms,
            "cacheScope": self.cache_scope,
        }
        if server.instructions is not None:
            result["instructions"] = server.instructions
        return result

    async def _tools_call(
        self, req: Request, session: Session | None, emit: Emit | None
    ) -> dict[str, Any]:
        server = self.server
        params = req.params or {}
        tool, arguments = called_tool(server._tools, params)
        name = params["name"]
        meta = params["_meta"]
        capabilities = meta[CAPABILITIES_META]
        if task_support(tool) == "required":
            extensions = capabilities.get("extensions")
            if not isinstance(extensions, dict) or TASKS_EXTENSION not in extensions:
                raise RPCError(
                    MISSING_CAPABILITY,
                    f"tool {name!r} runs only as a task: declare the {TASKS_EXTENSION} "
                    "extension", {"requiredCapabilities": {"extensions": {TASKS_EXTENSION: {}}}},
                )
            return self._start_task(req, tool, arguments)
        answers = _decode_state(params["requestState"]) if "requestState" in params else {}
        responses = params.get("inputResponses")
        if responses is not None:
            if not isinstance(responses, dict):
                raise RPCError(INVALID_PARAMS, "inputResponses must be an object")
            answers = {**answers, **responses}
        rounds = _Rounds(answers, capabilities)
        if tool.ctx_param is not None:
            level = meta.get(LOG_LEVEL_META)
            floor = LEVEL_RANK.get(level, _NO_LOGS) if isinstance(level, str) else _NO_LOGS
            ctx = ToolContext(req.id, meta.get("progressToken"), None, emit, floor, rounds)
            arguments = {**arguments, tool.ctx_param: ctx}
        with server._running_call(session, req):
            try:
                return tool_result(await resolve(tool.fn(**arguments)), tool.structured)
            except _InputNeeded as need:
                return {"resultType": "input_required", "inputRequests": need.requests,
                        "requestState": _encode_state(answers)}
            except RPCError:
                raise
            except Exception as exc:
                return error_result(exc)

    # ---- tasks (the 2026 extension) ---------------------------------------------------------

    def _start_task(self, req: Request, tool: Tool, arguments: dict[str, Any]) -> dict[str, Any]:
        store = self.server.task_store

        async def run(task: ServerTask) -> dict[str, Any]:
            async def emit(message: Notification | Request) -> None:
                # No stream outlives the creating request: progress becomes the
                # task's status message.
                note = message.params or {}
                if message.method == "notifications/progress" and "message" in note:
                    task.set("working", str(note["message"]))

            args = arguments
            if tool.ctx_param is not None:
                def ask(
                    method: str, p: dict[str, Any] | None, _emit: Any, _sid: Any, timeout: float
                ) -> Awaitable[dict[str, Any]]:
                    return self._ask(task, method, p, timeout)

                ctx = ToolContext(req.id, f"task-{task.id}", None, emit, _NO_LOGS, ask)
                args = {**arguments, tool.ctx_param: ctx}
            return tool_result(await resolve(tool.fn(**args)), tool.structured)

        task = store.start(None, None, run, form="2026")
        return {**wire_task(task), "resultType": "task"}

    def _ask(
        self, task: ServerTask, method: str, params: dict[str, Any] | None, timeout: float
    ) -> Awaitable[dict[str, Any]]:
        kind = _CAPABILITY.get(method)
        if kind is None:
            raise RuntimeError(f"{method} cannot be asked of a 2026-07-28 client")
        task.asks += 1
        key = f"{kind}-{task.asks}"
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        task.inputs[key] = (method, params or {}, future)
        task.set("input_required", f"waiting for the client to answer {method}")

        async def wait() -> dict[str, Any]:
            try:
                async with asyncio.timeout(timeout):
                    return await future
            finally:
                task.inputs.pop(key, None)
                if not task.terminal and task.status == "input_required" and not task.inputs:
                    task.set("working")

        return wait()

    def _task_named(self, req: Request) -> ServerTask:
        task_id = (req.params or {}).get("taskId")
        task = self.server.task_store.find(task_id, None)
        if task is None or task.form != "2026":
            raise RPCError(INVALID_PARAMS, f"Failed to retrieve task {task_id!r}: not found")
        return task

    async def _tasks_get(
        self, req: Request, session: Session | None, emit: Emit | None
    ) -> dict[str, Any]:
        return wire_task(self._task_named(req))

    async def _tasks_update(
        self, req: Request, session: Session | None, emit: Emit | None
    ) -> dict[str, Any]:
        task = self._task_named(req)
        if task.terminal:
            raise RPCError(INVALID_PARAMS, f"Cannot update task in terminal status: "
                            f"{task.status}")
        responses = (req.params or {}).get("inputResponses")
        if not isinstance(responses, dict) or not all(
            isinstance(value, dict) for value in responses.values()
        ):
            raise RPCError(INVALID_PARAMS, "inputResponses must map keys to result objects")
        unknown = sorted(key for key in responses if key not in task.inputs)
        if unknown:
            raise RPCError(INVALID_PARAMS, f"no input request waits under {unknown}")
        self.server.stats.replies += len(responses)
        for key, value in responses.items():
            _, _, future = task.inputs.pop(key)
            if not future.done():
                future.set_result(value)
        if not task.inputs and task.status == "input_required":
            task.set("working")
        return {}

    async def _tasks_cancel(
        self, req: Request, session: Session | None, emit: Emit | None
    ) -> dict[str, Any]:
        task = self._task_named(req)
        if task.terminal:
            raise RPCError(INVALID_PARAMS, f"Cannot cancel task in terminal status: {task.status}")
        self.server.task_store.cancel(task)
        return wire_task(task)
