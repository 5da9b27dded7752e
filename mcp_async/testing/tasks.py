"""Tasks for :class:`mcp_async.testing.MCPTestServer` (the 2025-11-25 experimental form;
the 2026 extension's wire form is in :mod:`mcp_async.testing.modern`, on the same store).

A ``tools/call`` carrying ``params.task`` on a tool whose ``execution.taskSupport`` is
``"required"`` or ``"optional"`` starts the tool in the background and answers a
``CreateTaskResult`` at once. ``tasks/get`` reports its state, ``tasks/result`` blocks
until it ends (delivering the tool's requests to the client on its own stream, as the
spec's ``input_required`` flow says), ``tasks/cancel`` stops it and ``tasks/list`` lists
the session's tasks. A tool that raises ends ``failed`` with an ``isError`` result (the
2025-11-25 rule for tool calls); one that raises :class:`TaskRPCError` ends ``failed``
with that JSON-RPC error.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

__all__ = ["TASK_CAPABILITY", "ServerTask", "TaskRPCError", "TaskStore"]

#: What the server advertises (2025-11-25) when any tool allows tasks.
TASK_CAPABILITY: Final[dict[str, Any]] = {
    "list": {}, "cancel": {}, "requests": {"tools": {"call": {}}},
}
_RELATED: Final = "io.modelcontextprotocol/related-task"
_TERMINAL: Final = frozenset({"completed", "failed", "cancelled"})

#: Sends one request to the client on a given stream: (method, params, emit) -> result.
Deliver = Callable[[str, dict[str, Any] | None, Any], Awaitable[dict[str, Any]]]


class TaskRPCError(Exception):
    """Raise from a task tool to make its task fail with this JSON-RPC error."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(eq=False)
class ServerTask:
    """One task the server runs."""

    id: str
    session_id: str | None
    ttl: int | None
    poll_interval: int
    status: str = "working"
    message: str | None = None
    created: str = field(default_factory=_now)
    updated: str = field(default_factory=_now)
    result: dict[str, Any] | None = None
    error: tuple[int, str, Any] | None = None
    runner: asyncio.Task[None] | None = None
    #: The tool's requests waiting to go out through ``tasks/result``.
    outbox: deque[tuple[str, dict[str, Any] | None, asyncio.Future[dict[str, Any]]]] = field(
        default_factory=deque
    )
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    #: ``"2025-11-25"`` or ``"2026"`` (the ``io.modelcontextprotocol/tasks`` extension).
    form: str = "2025-11-25"
    #: 2026: the tool's requests waiting for ``tasks/update``, by key.
    inputs: dict[str, tuple[str, dict[str, Any], asyncio.Future[dict[str, Any]]]] = field(
        default_factory=dict
    )
    #: 2026: how many requests the tool made (numbers their keys).
    asks: int = 0

    @property
    def terminal(self) -> bool:
        return self.status in _TERMINAL

    def set(self, status: str, message: str | None = None) -> None:
        if self.terminal:
            return  # terminal states never change
        self.status = status
        self.message = message
        self.updated = _now()
        self.changed.set()

    def wire(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "taskId": self.id, "status": self.status, "createdAt": self.created,
            "lastUpdatedAt": self.updated, "ttl": self.ttl, "pollInterval": self.poll_interval,
        }
        if self.message is not None:
            out["statusMessage"] = self.message
        return out


class TaskStore:
    """The tasks of one test server."""

    def __init__(self, poll_interval: int = 50) -> None:
        #: ``pollInterval`` (ms) suggested to clients.
        self.poll_interval = poll_interval
        self.tasks: dict[str, ServerTask] = {}

    def start(
        self,
        session_id: str | None,
        ttl: Any,
        run: Callable[[ServerTask], Awaitable[dict[str, Any]]],
        *,
        form: str = "2025-11-25",
    ) -> ServerTask:
        """Create a task and run ``run(task)`` (the tool) in the background."""
        task = ServerTask(
            id=secrets.token_hex(8), session_id=session_id,
            ttl=ttl if isinstance(ttl, int) and not isinstance(ttl, bool) else None,
            poll_interval=self.poll_interval, form=form,
        )
        self.tasks[task.id] = task
        task.runner = asyncio.ensure_future(self._run(task, run))
        return task

    async def _run(
        self, task: ServerTask, run: Callable[[ServerTask], Awaitable[dict[str, Any]]]
    ) -> None:
        try:
            result = await run(task)
        except asyncio.CancelledError:
            task.set("cancelled", "The task was cancelled by request.")
            return
        except TaskRPCError as exc:
            task.error = (exc.code, exc.message, exc.data)
            task.set("failed", exc.message)
            return
        except Exception as exc:  # a tool failure: an isError result
            task.result = {"content": [{"type": "text", "text": str(exc) or type(exc).__name__}],
                           "isError": True}
            task.set("failed", str(exc) or type(exc).__name__)
            return
        task.result = result
        task.set("failed" if result.get("isError") else "completed")

    def ask(
        self, task: ServerTask, method: str, params: dict[str, Any] | None, timeout: float
    ) -> Awaitable[dict[str, Any]]:
        """A tool's request to the client: queued for ``tasks/result``, status
        ``input_required`` until answered."""
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        meta = {_RELATED: {"taskId": task.id}}
        params = {**(params or {}), "_meta": {**((params or {}).get("_meta") or {}), **meta}}
        task.outbox.append((method, params, future))
        task.set("input_required", f"waiting for the client to answer {method}")

        async def wait() -> dict[str, Any]:
            try:
                async with asyncio.timeout(timeout):
                    return await future
            finally:
                if not task.terminal:
                    task.set("working")

        return wait()

    def find(self, task_id: Any, session_id: str | None) -> ServerTask | None:
        task = self.tasks.get(task_id) if isinstance(task_id, str) else None
        if task is None or task.session_id != session_id:
            return None
        return task

    async def result(self, task: ServerTask, deliver: Deliver, emit: Any) -> dict[str, Any]:
        """``tasks/result``: deliver queued requests, block until the task ends."""
        while True:
            while task.outbox:
                method, params, future = task.outbox.popleft()
                if future.done():
                    continue
                try:
                    answer = await deliver(method, params, emit)
                except Exception as exc:
                    if not future.done():
                        future.set_exception(exc)
                else:
                    if not future.done():
                        future.set_result(answer)
            if task.terminal:
                break
            task.changed.clear()
            await task.changed.wait()
        if task.error is not None:
            raise TaskRPCError(*task.error)
        if task.status == "cancelled" or task.result is None:
            raise TaskRPCError(-32603, f"task {task.id} was {task.status}")
        meta = {**(task.result.get("_meta") or {}), _RELATED: {"taskId": task.id}}
        return {**task.result, "_meta": meta}

    def cancel(self, task: ServerTask) -> dict[str, Any]:
        task.set("cancelled", "The task was cancelled by request.")
        if task.runner is not None and not task.runner.done():
            task.runner.cancel()
        for _, _, future in task.outbox:
            if not future.done():
                future.cancel()
        task.outbox.clear()
        for _, _, waiting in task.inputs.values():
            if not waiting.done():
                waiting.cancel()
        task.inputs.clear()
        return task.wire()

    async def close(self) -> None:
        runners = [t.runner for t in self.tasks.values() if t.runner and not t.runner.done()]
        for runner in runners:
            runner.cancel()
        for runner in runners:
            with contextlib.suppress(BaseException):
                await runner
