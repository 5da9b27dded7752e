"""The MCP methods of the test server (handshake era): initialize, tools, resources,
prompts, completion, logging and the 2025-11-25 tasks, answered from the registry."""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections.abc import Awaitable, Iterator, Sequence
from typing import Any
from urllib.parse import unquote

from ..protocol.jsonrpc import (
    INVALID_PARAMS,
    METHOD_NOT_FOUND,
    RESOURCE_NOT_FOUND,
    Notification,
    Request,
)
from .context import LEVEL_RANK, Emit, ToolContext
from .core import ServerCore
from .registry import (
    Tool,
    called_tool,
    error_result,
    prompt_messages,
    resolve,
    task_support,
    tool_result,
    with_optional,
)
from .state import Session
from .tasks import TASK_CAPABILITY, ServerTask, TaskRPCError
from .wire import LEGACY_VERSION, RPCError, decode_cursor, encode_cursor, negotiate

__all__ = ["ServerMethods"]


class ServerMethods(ServerCore):
    """A :class:`~mcp_async.testing.core.ServerCore` that answers the MCP methods."""

    def __init__(self) -> None:
        super().__init__()
        self._methods.update({
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
            "tasks/get": self._m_tasks_get,
            "tasks/result": self._m_tasks_result,
            "tasks/cancel": self._m_tasks_cancel,
            "tasks/list": self._m_tasks_list,
        })

    def _capabilities(self, version: str) -> dict[str, Any]:
        capabilities: dict[str, Any] = {"logging": {}}
        if self._tools:
            capabilities["tools"] = {"listChanged": True}
        if self._resources or self._templates:
            capabilities["resources"] = {"subscribe": True, "listChanged": True}
        if self._prompts:
            capabilities["prompts"] = {"listChanged": True}
        if self._completion is not None and version != LEGACY_VERSION:
            capabilities["completions"] = {}
        if version >= "2025-11-25" and any(
            task_support(tool) != "forbidden" for tool in self._tools.values()
        ):
            capabilities["tasks"] = TASK_CAPABILITY
        return capabilities

    async def _m_initialize(
        self, req: Request, session: Session | None, emit: Emit | None
    ) -> dict[str, Any]:
        if session is not None and session.link is not None:  # the handshake of a stream
            session.protocol_version = negotiate(req.params, self._versions(session.link.kind))
        version = (
            session.protocol_version if session is not None
            else negotiate(req.params, self._versions("http"))
        )
        result: dict[str, Any] = {
            "protocolVersion": version,
            "capabilities": self._capabilities(version),
            "serverInfo": {"name": self.name, "version": self.version},
        }
        return with_optional(result, instructions=self.instructions)

    async def _m_ping(
        self, req: Request, session: Session | None, emit: Emit | None
    ) -> dict[str, Any]:
        return {}

    def _page(self, kind: str, key: str, items: Sequence[Any], req: Request) -> dict[str, Any]:
        """One page of ``items`` under ``key``, with ``nextCursor`` when more remain."""
        cursor = (req.params or {}).get("cursor")
        start = 0 if cursor is None else decode_cursor(kind, cursor, len(items))
        if self.page_size is None:
            return {key: list(items[start:])}
        end = start + self.page_size
        result: dict[str, Any] = {key: list(items[start:end])}
        if end < len(items):
            result["nextCursor"] = encode_cursor(kind, end)
        return result

    async def _m_tools_list(
        self, req: Request, session: Session | None, emit: Emit | None
    ) -> dict[str, Any]:
        definitions = [tool.definition for tool in self._tools.values()]
        return self._page("tools", "tools", definitions, req)

    async def _m_tools_call(
        self, req: Request, session: Session | None, emit: Emit | None
    ) -> dict[str, Any]:
        params = req.params or {}
        tool, arguments = called_tool(self._tools, params)
        support = task_support(tool)
        if "task" in params or support == "required":
            return await self._start_task(req, tool, arguments, session, support)
        if tool.ctx_param is not None:
            arguments = {**arguments, tool.ctx_param: self._context(req, session, emit)}
        with self._running_call(session, req):
            try:
                return tool_result(await resolve(tool.fn(**arguments)), tool.structured)
            except Exception as exc:
                return error_result(exc)

    @contextlib.contextmanager
    def _running_call(self, session: Session | None, req: Request) -> Iterator[None]:
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
        self, req: Request, tool: Tool, arguments: dict[str, Any], session: Session | None,
        support: str,
    ) -> dict[str, Any]:
        params = req.params or {}
        task_params = params.get("task")
        if task_params is None:
            raise RPCError(METHOD_NOT_FOUND, f"tool {tool.definition['name']!r} must be "
                            "called as a task (execution.taskSupport is 'required')")
        if support == "forbidden":
            raise RPCError(METHOD_NOT_FOUND, f"tool {tool.definition['name']!r} cannot be "
                            "called as a task")
        if not isinstance(task_params, dict):
            raise RPCError(INVALID_PARAMS, "params.task must be an object")
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
                floor = LEVEL_RANK[level] if level is not None else 0
                ctx = ToolContext(req.id, token, session_id, emit, floor, ask)
                args = {**arguments, tool.ctx_param: ctx}
            return tool_result(await resolve(tool.fn(**args)), tool.structured)

        task = store.start(session_id, task_params.get("ttl"), run)
        return {"task": task.wire()}

    def _task_named(self, req: Request, session: Session | None) -> ServerTask:
        task_id = (req.params or {}).get("taskId")
        task = self.task_store.find(task_id, session.id if session is not None else None)
        if task is None or task.form != "2025-11-25":
            raise RPCError(INVALID_PARAMS, f"Failed to retrieve task {task_id!r}: not found")
        return task

    async def _m_tasks_get(
        self, req: Request, session: Session | None, emit: Emit | None
    ) -> dict[str, Any]:
        return self._task_named(req, session).wire()

    async def _m_tasks_result(
        self, req: Request, session: Session | None, emit: Emit | None
    ) -> dict[str, Any]:
        task = self._task_named(req, session)
        session_id = session.id if session is not None else None

        def deliver(method: str, params: dict[str, Any] | None, out: Any) -> Any:
            return self._server_request(method, params, out, session_id, 30.0)

        try:
            return await self.task_store.result(task, deliver, emit)
        except TaskRPCError as exc:
            raise RPCError(exc.code, exc.message, exc.data) from None

    async def _m_tasks_cancel(
        self, req: Request, session: Session | None, emit: Emit | None
    ) -> dict[str, Any]:
        task = self._task_named(req, session)
        if task.terminal:
            raise RPCError(INVALID_PARAMS, f"Cannot cancel task in terminal status: {task.status}")
        return self.task_store.cancel(task)

    async def _m_tasks_list(
        self, req: Request, session: Session | None, emit: Emit | None
    ) -> dict[str, Any]:
        session_id = session.id if session is not None else None
        tasks = [t.wire() for t in self.task_store.tasks.values() if t.session_id == session_id]
        return self._page("tasks", "tasks", tasks, req)

    def _context(self, req: Request, session: Session | None, emit: Emit | None) -> ToolContext:
        meta = (req.params or {}).get("_meta")
        token = meta.get("progressToken") if isinstance(meta, dict) else None
        level = session.log_level if session is not None else self._log_level
        floor = LEVEL_RANK[level] if level is not None else 0
        session_id = session.id if session is not None else None
        return ToolContext(req.id, token, session_id, emit, floor, self._server_request)

    async def _m_resources_list(
        self, req: Request, session: Session | None, emit: Emit | None
    ) -> dict[str, Any]:
        definitions = [definition for definition, _ in self._resources.values()]
        return self._page("resources", "resources", definitions, req)

    async def _m_templates_list(
        self, req: Request, session: Session | None, emit: Emit | None
    ) -> dict[str, Any]:
        definitions = [template.definition for template in self._templates]
        return self._page("templates", "resourceTemplates", definitions, req)

    async def _m_resources_read(
        self, req: Request, session: Session | None, emit: Emit | None
    ) -> dict[str, Any]:
        uri = _uri_param(req)
        static = self._resources.get(uri)
        if static is not None:
            return {"contents": [static[1]]}
        for template in self._templates:
            match = template.pattern.fullmatch(uri)
            if match is not None:
                values = {key: unquote(value) for key, value in match.groupdict().items()}
                value = await resolve(template.fn(**values))
                found = with_optional({"uri": uri}, mimeType=template.mime_type)
                if isinstance(value, bytes | bytearray):
                    found["blob"] = base64.b64encode(value).decode("ascii")
                else:
                    found["text"] = str(value)
                return {"contents": [found]}
        raise RPCError(RESOURCE_NOT_FOUND, "Resource not found", {"uri": uri})

    async def _m_subscribe(
        self, req: Request, session: Session | None, emit: Emit | None
    ) -> dict[str, Any]:
        uri = _uri_param(req)
        if session is not None:
            session.subscriptions.add(uri)
        return {}

    async def _m_unsubscribe(
        self, req: Request, session: Session | None, emit: Emit | None
    ) -> dict[str, Any]:
        uri = _uri_param(req)
        if session is not None:
            session.subscriptions.discard(uri)
        return {}

    async def _m_prompts_list(
        self, req: Request, session: Session | None, emit: Emit | None
    ) -> dict[str, Any]:
        definitions = [prompt.definition for prompt in self._prompts.values()]
        return self._page("prompts", "prompts", definitions, req)

    async def _m_prompts_get(
        self, req: Request, session: Session | None, emit: Emit | None
    ) -> dict[str, Any]:
        params = req.params or {}
        name = params.get("name")
        prompt = self._prompts.get(name) if isinstance(name, str) else None
        if prompt is None:
            raise RPCError(INVALID_PARAMS, f"Unknown prompt: {name!r}")
        arguments = params.get("arguments") or {}
        if not isinstance(arguments, dict):
            raise RPCError(INVALID_PARAMS, "prompts/get arguments must be an object")
        missing = [arg for arg in prompt.required if arg not in arguments]
        if missing:
            raise RPCError(INVALID_PARAMS, f"Missing required arguments: {', '.join(missing)}")
        messages = prompt_messages(await resolve(prompt.fn(**arguments)))
        return with_optional(
            {"messages": messages}, description=prompt.definition.get("description")
        )

    async def _m_complete(
        self, req: Request, session: Session | None, emit: Emit | None
    ) -> dict[str, Any]:
        params = req.params or {}
        ref, argument = params.get("ref"), params.get("argument")
        if not isinstance(ref, dict) or not isinstance(argument, dict):
            raise RPCError(INVALID_PARAMS, "completion/complete needs ref and argument objects")
        values: list[str] = []
        if self._completion is not None:
            context = params.get("context")
            values = list(await resolve(self._completion(ref, argument, context)))
        completion = {"values": values[:100], "total": len(values), "hasMore": len(values) > 100}
        return {"completion": completion}

    async def _m_set_level(
        self, req: Request, session: Session | None, emit: Emit | None
    ) -> dict[str, Any]:
        level = (req.params or {}).get("level")
        if level not in LEVEL_RANK:
            raise RPCError(INVALID_PARAMS, f"Invalid log level: {level!r}")
        if session is not None:
            session.log_level = level
        else:
            self._log_level = level
        return {}


def _uri_param(req: Request) -> str:
    uri = (req.params or {}).get("uri")
    if not isinstance(uri, str):
        raise RPCError(INVALID_PARAMS, "params.uri must be a string")
    return uri

