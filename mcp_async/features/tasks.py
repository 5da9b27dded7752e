"""MCP tasks on the client: a tool call that runs in the background and is polled.

Two wire forms, one API:

* **2025-11-25** (experimental tasks, SEP-1686). The server offers
  ``capabilities.tasks.requests.tools.call`` and marks tools with
  ``execution.taskSupport``. The client adds ``params.task = {ttl?}`` to ``tools/call``
  and gets a ``CreateTaskResult`` (``{task: Task}``); it polls ``tasks/get``, and when
  the task needs input (``input_required``) or is done, calls ``tasks/result``, which
  blocks until the task ends and returns the underlying result (or JSON-RPC error).
  Server requests made meanwhile (elicitation, sampling) arrive as ordinary server
  requests and are answered by the client's handlers.
* **2026** (the ``io.modelcontextprotocol/tasks`` extension, SEP-2663). The server
  advertises it under ``capabilities.extensions``; the client declares it in each
  ``tools/call``'s capabilities, and the server may then answer with
  ``resultType: "task"`` (the task's fields inline). ``tasks/get`` returns the task
  with its ``result``, ``error`` or ``inputRequests``; input goes back with
  ``tasks/update {taskId, inputResponses}``, answered by the same handlers.

:class:`TaskHandle` drives either form: :meth:`~TaskHandle.status`,
:meth:`~TaskHandle.wait`, :meth:`~TaskHandle.cancel`, ``async for`` over status
changes, and ``async with`` (cancels the task if the block fails).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Protocol, Self, TypeAlias

from .._config import Timeout, TimeoutLike, to_timeout
from .._exceptions import (
    ConfigError,
    JSONRPCError,
    MCPClientError,
    ReadTimeout,
    TaskCancelledError,
    TaskError,
    TaskFailedError,
    TaskNotSupportedError,
    UnexpectedResponseError,
)
from ..protocol.jsonrpc import ErrorResponse, error_to_exception
from ..protocol.models import CallToolResult, InputRequest
from ..protocol.models.decoding import obj, opt_dict, opt_str, req_str, wrong
from ..protocol.modern import TASKS_EXTENSION
from ..session.dispatch import ProgressCallback
from ..session.input_required import answer_all
from ..transports.options import RequestOptions

if TYPE_CHECKING:
    from ..session.engine import SessionEngine

__all__ = [
    "MAX_POLL_INTERVAL",
    "MIN_POLL_INTERVAL",
    "RELATED_TASK_META",
    "TASKS_EXTENSION",
    "TASK_RESULT_TYPE",
    "TERMINAL_STATUSES",
    "Task",
    "TaskHandle",
]

logger = logging.getLogger("mcp_async")

#: The ``resultType`` of a 2026 ``CreateTaskResult``.
TASK_RESULT_TYPE: Final = "task"
#: ``_meta`` key tying a message to its task (2025-11-25).
RELATED_TASK_META: Final = "io.modelcontextprotocol/related-task"
TERMINAL_STATUSES: Final = frozenset({"completed", "failed", "cancelled"})
#: Bounds on the wait between two ``tasks/get`` (seconds), whatever the server suggests.
MIN_POLL_INTERVAL: Final = 0.02
MAX_POLL_INTERVAL: Final = 30.0
#: Without a suggestion: start here and back off by half up to the cap.
_FIRST_POLL: Final = 0.1
_BACKOFF_CAP: Final = 2.0
#: How long a best-effort ``tasks/cancel`` (after a deadline or an error) may take.
_CANCEL_TIMEOUT: Final = 5.0
#: Polls that fail to reach the server are tried again this many times in a row.
_POLL_RETRIES: Final = 2

_background: set[asyncio.Task[Any]] = set()
#: A ``tasks/result`` request in flight (2025-11-25 form).
_Fetch: TypeAlias = asyncio.Task[dict[str, Any]]


def _opt_int(d: Mapping[str, Any], *keys: str) -> int | None:
    for key in keys:
        value = d.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool) and value == value:
            return max(int(value), 0)
    return None


@dataclass(frozen=True, slots=True)
class Task:
    """A task's state, from ``CreateTaskResult``, ``tasks/get`` or ``tasks/cancel``.

    ``ttl`` and ``poll_interval`` are milliseconds (wire ``ttl``/``pollInterval`` in
    2025-11-25, ``ttlMs``/``pollIntervalMs`` in the 2026 extension); ``ttl`` is ``None``
    for unlimited. In the 2026 form a task also carries ``input_requests`` (status
    ``input_required``), ``result`` (``completed``) or ``error`` (``failed``).
    """

    task_id: str
    status: str
    status_message: str | None = None
    created_at: str | None = None
    last_updated_at: str | None = None
    ttl: int | None = None
    poll_interval: int | None = None
    input_requests: dict[str, InputRequest] = field(default_factory=dict)
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Decode a wire ``Task`` (either form)."""
        m = "Task"
        d = obj(data, m)
        requests: dict[str, InputRequest] = {}
        for key, entry in (opt_dict(d, "inputRequests", m) or {}).items():
            e = obj(entry, f"{m}.inputRequests.{key}")
            params = e.get("params")
            if params is not None and not isinstance(params, dict):
                raise wrong(m, f"inputRequests.{key}.params", "an object", params)
            requests[key] = InputRequest(req_str(e, "method", f"{m}.inputRequests.{key}"),
                                         params or {})
        return cls(
            task_id=req_str(d, "taskId", m),
            status=req_str(d, "status", m),
            status_message=opt_str(d, "statusMessage", m),
            created_at=opt_str(d, "createdAt", m),
            last_updated_at=opt_str(d, "lastUpdatedAt", m),
            ttl=_opt_int(d, "ttlMs", "ttl"),
            poll_interval=_opt_int(d, "pollIntervalMs", "pollInterval"),
            input_requests=requests,
            result=opt_dict(d, "result", m),
            error=opt_dict(d, "error", m),
            raw=d,
        )

    @property
    def terminal(self) -> bool:
        """``completed``, ``failed`` or ``cancelled``: the status will not change again."""
        return self.status in TERMINAL_STATUSES


# -- wire forms --------------------------------------------------------------------------


class TaskForm(Protocol):
    """One wire form of tasks: what :func:`create` and :class:`TaskHandle` ask instead of
    testing which form the server speaks.

    The session's revision names the form (:meth:`Revision.task_form
    <mcp_async.session.revisions.base.Revision.task_form>`); a new form is one class that
    implements this, listed in :data:`_FORMS` under that name.
    """

    @property
    def name(self) -> str:
        """The form's name, as the revision gives it and :attr:`TaskHandle.form` shows it."""

    @property
    def per_tool(self) -> bool:
        """Whether each tool's ``execution.taskSupport`` says if it may (or must) run as a
        task; else the server decides per call."""

    def mark(self, params: dict[str, Any], ttl: int | None) -> None:
        """Make the ``tools/call`` ``params`` ask for a task kept ``ttl`` ms (``None``:
        the server's default)."""

    def created(self, reply: Mapping[str, Any]) -> Mapping[str, Any] | None:
        """The wire task in a ``tools/call`` ``reply``, or ``None`` when the server ran the
        call at once (the reply is then the result)."""

    def cancelled(self, answer: Any) -> Task | None:
        """The task's state as a ``tasks/cancel`` ``answer`` reports it, or ``None``."""

    async def needs_input(
        self, handle: TaskHandle, task: Task, fetch: _Fetch | None
    ) -> _Fetch | None:
        """``task`` is ``input_required``: have the client's handlers answer the server.
        Returns the ``tasks/result`` request in flight (``fetch``), if the form uses one."""

    async def outcome(
        self, handle: TaskHandle, task: Task, fetch: _Fetch | None
    ) -> dict[str, Any]:
        """The raw ``CallToolResult`` of ``task``, which ended other than cancelled.

        A tool that reported failure is a result; a task that failed with a protocol
        error raises :class:`~mcp_async.TaskFailedError`.
        """


class _HandshakeForm:
    """2025-11-25 (SEP-1686): ``params.task`` asks for a task; ``tasks/result`` blocks
    until the task ends, while the server's requests arrive as ordinary ones."""

    name: Final = "2025-11-25"
    per_tool: Final = True

    def mark(self, params: dict[str, Any], ttl: int | None) -> None:
        params["task"] = {} if ttl is None else {"ttl": ttl}

    def created(self, reply: Mapping[str, Any]) -> Mapping[str, Any] | None:
        task = reply.get("task")
        return task if isinstance(task, Mapping) else None

    def cancelled(self, answer: Any) -> Task | None:
        try:
            return Task.from_dict(answer)
        except UnexpectedResponseError:
            return None

    async def needs_input(
        self, handle: TaskHandle, task: Task, fetch: _Fetch | None
    ) -> _Fetch | None:
        # tasks/result carries the server's requests (our handlers answer them) and then
        # the result: one request serves every round of input.
        return fetch if fetch is not None else asyncio.ensure_future(handle._fetch_result())

    async def outcome(
        self, handle: TaskHandle, task: Task, fetch: _Fetch | None
    ) -> dict[str, Any]:
        try:
            if fetch is not None:
                return await fetch
            return await handle._fetch_result()
        except JSONRPCError as exc:
            raise handle._failed(task, exc) from exc
        except (MCPClientError, TimeoutError) as exc:
            if task.status == "failed":
                raise handle._failed(task, None) from exc
            raise


class _ExtensionForm:
    """2026 (the tasks extension, SEP-2663): the server answers any ``tools/call`` with
    ``resultType: "task"`` when it chooses; ``tasks/get`` carries the input requests and
    the outcome, and ``tasks/update`` the answers."""

    name: Final = "2026"
    per_tool: Final = False

    def mark(self, params: dict[str, Any], ttl: int | None) -> None:
        """Nothing: the extension, declared in every call's capabilities, is the ask."""

    def created(self, reply: Mapping[str, Any]) -> Mapping[str, Any] | None:
        return reply if reply.get("resultType") == TASK_RESULT_TYPE else None

    def cancelled(self, answer: Any) -> Task | None:
        """``None``: the answer is not read in this form; the handle records the task as
        cancelled."""
        return None

    async def needs_input(
        self, handle: TaskHandle, task: Task, fetch: _Fetch | None
    ) -> _Fetch | None:
        await handle._answer(task)
        return fetch

    async def outcome(
        self, handle: TaskHandle, task: Task, fetch: _Fetch | None
    ) -> dict[str, Any]:
        if task.result is not None and task.error is None:
            # completed, or failed with a tool result (isError): returned as in the
            # 2025-11-25 form, where call_tool reports tool failures as results
            return task.result
        if task.status == "completed":
            raise UnexpectedResponseError(
                f"tasks/get: completed task {task.task_id} carries no result"
            )
        raise handle._failed(task, _error(task.error))


_EXTENSION: Final = _ExtensionForm()
#: Every task form, by the name a revision gives it.
_FORMS: Final[Mapping[str, TaskForm]] = {
    form.name: form for form in (_HandshakeForm(), _EXTENSION)
}


def _form_named(name: str) -> TaskForm:
    form = _FORMS.get(name)
    if form is None:
        raise ConfigError(f"unknown task form {name!r} (known: {', '.join(_FORMS)})")
    return form


# -- era and gating ---------------------------------------------------------------------


async def task_form(engine: SessionEngine) -> TaskForm | None:
    """The :class:`TaskForm` of the tasks the server offers for tool calls, else ``None``
    (connects first). The session's revision names the form."""
    if not engine.connected:
        await engine.connect()
    result = engine.result
    if result is None:
        return None  # a pinned stateless era with no discover yet: nothing is known
    revision = engine.revision
    assert revision is not None  # (connected)
    name = revision.task_form(result.capabilities)
    return None if name is None else _form_named(name)


def task_support(tool: Any) -> str:
    """A tool's ``execution.taskSupport``: ``"required"``, ``"optional"`` or
    ``"forbidden"`` (also when absent or unknown)."""
    execution = getattr(tool, "execution", None)
    value = execution.get("taskSupport") if isinstance(execution, dict) else None
    return value if value in ("required", "optional") else "forbidden"


def may_require(engine: SessionEngine) -> bool:
    """Whether :func:`required` can be true at all: before connecting, or with a
    handshake-era server that offers task-augmented tool calls (a cheap, synchronous
    check that keeps every other ``call_tool`` free of the coroutine)."""
    if not engine.connected:
        return True
    result = engine.result
    revision = engine.revision
    return (result is not None and revision is not None and not revision.tasks_by_result
            and revision.task_form(result.capabilities) is not None)


async def required(engine: SessionEngine, name: str) -> bool:
    """Whether ``tools/call`` of ``name`` must run as a 2025-11-25 task.

    Only a server that offers task-augmented tool calls costs a look at the tool list
    (the client's shared, once-fetched cache); other calls pay nothing.
    """
    revision = engine.revision
    if engine.connected and revision is not None and revision.tasks_by_result:
        return False  # the server decides, per call (resultType "task")
    form = await task_form(engine)
    if form is None or not form.per_tool:
        return False
    return task_support(await engine.tool(name)) == "required"


# -- creating --------------------------------------------------------------------------


def _call_timeout(engine: SessionEngine, timeout: TimeoutLike) -> Timeout | None:
    return None if timeout is None else to_timeout(timeout, engine.default_timeout)


async def create(
    engine: SessionEngine,
    params: dict[str, Any],
    *,
    ttl: int | None = None,
    timeout: TimeoutLike = None,
    headers: Mapping[str, str] | None = None,
    progress: ProgressCallback | None = None,
    check_tool: bool = True,
) -> TaskHandle:
    """Send ``tools/call`` (``params``) as a task and return its handle."""
    name = params.get("name")
    form = await task_form(engine)
    if form is None:
        raise TaskNotSupportedError(
            f"cannot run tool {name!r} as a task: the server does not offer tasks "
            "(2025-11-25: capabilities.tasks.requests.tools.call; 2026: the "
            f"{TASKS_EXTENSION} extension)", tool=name if isinstance(name, str) else None,
        )
    if form.per_tool and check_tool:
        support = task_support(await engine.tool(str(name)))
        if support == "forbidden":
            raise TaskNotSupportedError(
                f"tool {name!r} does not allow tasks (execution.taskSupport is absent or "
                "'forbidden'); call it with call_tool()", tool=str(name),
            )
    if ttl is not None and (isinstance(ttl, bool) or not isinstance(ttl, int) or ttl < 0):
        raise ConfigError(f"ttl must be milliseconds (an int >= 0), got {ttl!r}")
    params = dict(params)
    token: str | None = None
    if progress is not None:
        await engine.await_push()  # the task's progress comes on the GET stream
        token = f"task-{uuid.uuid4().hex}"
        meta = dict(params.get("_meta") or {})
        meta["progressToken"] = token  # valid for the task's whole life (not one request)
        params["_meta"] = meta
        engine.dispatcher.add_progress(token, progress)
    form.mark(params, ttl)
    try:
        raw = await engine.request(
            "tools/call", params, timeout=_call_timeout(engine, timeout), headers=headers,
            options=RequestOptions(mcp_name=name),
        )
    except BaseException:
        if token is not None:
            engine.dispatcher.remove_progress(token)
        raise
    handle = TaskHandle._from_reply(engine, form, raw, str(name), token)
    return handle


def _deadline(
    engine: SessionEngine, timeout: TimeoutLike, max_total_timeout: float | None
) -> float | None:
    """When a task run by ``call_tool`` must have ended (loop time): the call's
    ``timeout`` total and ``max_total_timeout``, whichever is sooner (``None``: never)."""
    seconds: float | None = None
    if timeout is not None:
        seconds = to_timeout(timeout, engine.default_timeout).total
    if max_total_timeout is not None:
        seconds = max_total_timeout if seconds is None else min(seconds, max_total_timeout)
    return None if seconds is None else asyncio.get_running_loop().time() + seconds


async def follow(
    engine: SessionEngine,
    raw: dict[str, Any],
    name: str,
    *,
    timeout: TimeoutLike,
    max_total_timeout: float | None,
) -> dict[str, Any]:
    """A 2026 ``tools/call`` answered ``resultType: "task"``: poll it to its end and
    return the raw ``CallToolResult``."""
    deadline = _deadline(engine, timeout, max_total_timeout)
    handle = TaskHandle._from_reply(engine, _EXTENSION, raw, name, None)
    return await handle._run_to_end(deadline)


async def run(
    engine: SessionEngine,
    params: dict[str, Any],
    *,
    timeout: TimeoutLike,
    max_total_timeout: float | None,
    headers: Mapping[str, str] | None,
    progress: ProgressCallback | None,
) -> dict[str, Any]:
    """``call_tool`` of a task-required tool: create the task, poll it, return the raw
    final ``CallToolResult``. The call's ``timeout`` (its total) and
    ``max_total_timeout`` bound the whole task; past them the task is cancelled on the
    server and :class:`~mcp_async.ReadTimeout` raised."""
    deadline = _deadline(engine, timeout, max_total_timeout)
    handle = await create(
        engine, params, timeout=timeout, headers=headers, progress=progress,
        check_tool=False,
    )
    return await handle._run_to_end(deadline)


# -- the handle --------------------------------------------------------------------------


class TaskHandle:
    """A running task: poll it, wait for its result, cancel it.

    Get one from :meth:`AsyncMCPClient.start_task <mcp_async.AsyncMCPClient.start_task>`.
    ``async for task in handle`` yields the :class:`Task` each time its status (or
    status message) changes, ending after the terminal one; :meth:`wait` returns the
    final :class:`~mcp_async.models.CallToolResult`. One poller serves every waiter and
    iterator. ``async with handle:`` cancels the task when the block raises.
    """

    def __init__(
        self,
        engine: SessionEngine,
        form: str,
        task: Task,
        tool: str,
        progress_token: str | None = None,
        result: dict[str, Any] | None = None,
    ) -> None:
        self._engine = engine
        #: ``"2025-11-25"`` or ``"2026"``: which wire form this task speaks.
        self.form = form
        self._form = _form_named(form)
        self.tool = tool
        self._last = task
        self._token = progress_token
        self._raw_result = result
        self._subscribers: list[asyncio.Queue[Task | None]] = []
        self._driver: asyncio.Task[dict[str, Any]] | None = None
        self._cancelled: TaskCancelledError | None = None
        self._answered: set[str] = set()
        if result is not None:
            self._release_progress()

    @classmethod
    def _from_reply(
        cls,
        engine: SessionEngine,
        form: TaskForm,
        raw: Mapping[str, Any],
        name: str,
        token: str | None,
    ) -> TaskHandle:
        created = form.created(raw)
        if created is not None:
            return cls(engine, form.name, Task.from_dict(created), name, token)
        # The server ran the call at once (allowed in 2026; tolerated otherwise).
        done = Task(task_id="", status="completed", result=dict(raw))
        return cls(engine, form.name, done, name, token, result=dict(raw))

    # -- public -----------------------------------------------------------------------
    @property
    def task_id(self) -> str:
        """The server's id for the task (``""`` if the server answered at once)."""
        return self._last.task_id

    @property
    def last(self) -> Task:
        """The task's state as last seen (no request)."""
        return self._last

    async def status(self) -> Task:
        """Ask the server for the task's state now (``tasks/get``)."""
        if not self._last.task_id or (self._last.terminal and self._driver is not None):
            return self._last
        task = await self._get()
        self._publish(task)
        return task

    async def wait(self, *, timeout: float | None = None) -> CallToolResult:
        """Poll until the task ends and return its result.

        A tool that reported failure comes back as a result with ``is_error`` (as from
        ``call_tool``). Raises :class:`~mcp_async.TaskFailedError` when the task
        failed with a protocol error, :class:`~mcp_async.TaskCancelledError` when it
        was cancelled. With ``timeout`` (seconds) the task is cancelled on the server
        when it has not ended in time, and :class:`~mcp_async.ReadTimeout` raised.
        """
        deadline = None if timeout is None else asyncio.get_running_loop().time() + timeout
        return CallToolResult.from_dict(await self._run_to_end(deadline))

    async def cancel(self) -> None:
        """Ask the server to cancel the task (``tasks/cancel``) and stop polling.

        Later :meth:`wait` calls raise :class:`~mcp_async.TaskCancelledError`. A task
        that already ended is left as it is: when the server refuses the cancel with
        -32602 because the task ended meanwhile, its final state is fetched and
        :meth:`wait` returns its result. Any other refusal is raised.
        """
        if not self._last.task_id or self._last.terminal:
            return
        answer: dict[str, Any] | None = None
        try:
            answer = await self._request("tasks/cancel")
        except JSONRPCError as exc:
            if exc.code != -32602:  # -32602: already terminal (or gone)
                raise
            logger.debug("tasks/cancel of %s refused: %s", self.task_id, exc)
            ended = await self._ended()
            if ended is not None:  # it ended before the cancel arrived: leave it so
                self._publish(ended)
                return
        self._cancelled = TaskCancelledError(
            f"task {self.task_id} (tool {self.tool!r}) was cancelled", self.task_id, self._last
        )
        state = None if answer is None else self._form.cancelled(answer)
        driver = self._driver
        if driver is not None and not driver.done():
            driver.cancel()
        if state is None or not state.terminal:
            state = Task(self._last.task_id, "cancelled", self._last.status_message,
                         self._last.created_at, self._last.last_updated_at, self._last.ttl,
                         self._last.poll_interval)
        self._publish(state)
        self._cancelled.task = state
        self._release_progress()
        self._end_subscribers()

    def __aiter__(self) -> AsyncIterator[Task]:
        return self._iterate()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc is not None and self._last.task_id and not self._last.terminal:
            await asyncio.shield(self._cancel_quietly())
        driver = self._driver
        if driver is not None and not driver.done():
            driver.cancel()  # stop polling; the task itself goes on if the block succeeded
        self._release_progress()

    def __repr__(self) -> str:
        return f"<TaskHandle {self.task_id!r} tool={self.tool!r} status={self._last.status!r}>"

    # -- driving ------------------------------------------------------------------------
    def _start(self) -> asyncio.Task[dict[str, Any]]:
        driver = self._driver
        if driver is None:
            driver = self._driver = asyncio.ensure_future(self._drive())
            _background.add(driver)
            driver.add_done_callback(self._driver_done)
        return driver

    def _driver_done(self, driver: asyncio.Task[dict[str, Any]]) -> None:
        _background.discard(driver)
        if not driver.cancelled():
            driver.exception()  # retrieved: waiters re-raise it; nobody may be waiting
        self._release_progress()
        self._end_subscribers()

    async def _run_to_end(self, deadline: float | None) -> dict[str, Any]:
        if self._raw_result is not None:
            return self._raw_result
        if self._cancelled is not None:
            raise self._cancelled
        driver = self._start()
        timer = asyncio.timeout_at(deadline)
        try:
            async with timer:
                return await asyncio.shield(driver)
        except asyncio.CancelledError:
            if driver.cancelled() and self._cancelled is not None:
                raise self._cancelled from None
            if not driver.done():  # our caller was cancelled: so is the task
                driver.cancel()
                self._spawn_cancel()
            raise
        except TimeoutError:
            if not timer.expired():
                raise
            driver.cancel()
            await asyncio.shield(self._cancel_quietly())
            raise ReadTimeout(
                f"task {self.task_id} (tool {self.tool!r}) did not end within its deadline; "
                "it was cancelled on the server"
            ) from None
        except TaskError:
            raise
        except BaseException:
            # A handler or the connection failed mid-task: do not leave it running.
            if not self._last.terminal:
                await asyncio.shield(self._cancel_quietly())
            raise

    async def _drive(self) -> dict[str, Any]:
        task = self._last
        fetch: _Fetch | None = None
        pause = _FIRST_POLL
        failures = 0
        try:
            while not task.terminal:
                if task.status == "input_required":
                    fetch = await self._form.needs_input(self, task, fetch)
                delay, pause = _delay(task, pause)
                with self._engine.call_scope(f"polling task {self.task_id}"):
                    if fetch is not None:
                        await asyncio.wait({fetch}, timeout=delay)
                    else:
                        await asyncio.sleep(delay)
                try:
                    task = await self._get()
                    failures = 0
                except (MCPClientError, TimeoutError) as exc:
                    if isinstance(exc, JSONRPCError) or failures >= _POLL_RETRIES:
                        if fetch is not None and fetch.done() and not fetch.cancelled():
                            break  # the result is in; the task may be gone already
                        raise
                    failures += 1
                    continue
                self._publish(task)
                if fetch is not None and fetch.done() and fetch.exception() is not None \
                        and not task.terminal:
                    fetch = None  # tasks/result broke off early: ask again when needed
            return await self._outcome(task, fetch)
        finally:
            if fetch is not None and not fetch.done():
                fetch.cancel()

    async def _outcome(self, task: Task, fetch: _Fetch | None) -> dict[str, Any]:
        if task.status == "cancelled":
            raise TaskCancelledError(
                f"task {task.task_id} (tool {self.tool!r}) was cancelled"
                + (f": {task.status_message}" if task.status_message else ""),
                task.task_id, task,
            )
        return await self._form.outcome(self, task, fetch)

    def _failed(self, task: Task, error: JSONRPCError | None) -> TaskFailedError:
        detail = task.status_message or (error.message if error is not None else "")
        return TaskFailedError(
            f"task {task.task_id} (tool {self.tool!r}) failed" + (f": {detail}" if detail else ""),
            task.task_id, task, error,
        )

    async def _answer(self, task: Task) -> None:
        """2026: answer the input requests not answered yet, with ``tasks/update``."""
        fresh = {k: v for k, v in task.input_requests.items() if k not in self._answered}
        if not fresh:
            return
        responses = await answer_all(self._engine.dispatcher, fresh)
        await self._request("tasks/update", {"inputResponses": responses})
        self._answered.update(fresh)

    # -- wire -----------------------------------------------------------------------------
    def _request(
        self, method: str, extra: Mapping[str, Any] | None = None, *,
        timeout: Timeout | None = None,
    ) -> Any:
        params: dict[str, Any] = {"taskId": self._last.task_id, **(extra or {})}
        return self._engine.request(method, params, timeout=timeout,
                                    idempotent=method == "tasks/get")

    async def _get(self) -> Task:
        raw = await self._request("tasks/get")
        task = Task.from_dict(raw)
        if task.task_id != self._last.task_id:
            raise UnexpectedResponseError(
                f"tasks/get for {self._last.task_id!r} answered task {task.task_id!r}"
            )
        return task

    async def _ended(self) -> Task | None:
        """The task's state if the server reports it terminal, else ``None``."""
        try:
            task = await self._get()
        except (MCPClientError, TimeoutError) as exc:
            logger.debug("tasks/get of %s after a refused cancel failed: %s", self.task_id, exc)
            return None
        return task if task.terminal else None

    async def _fetch_result(self) -> dict[str, Any]:
        """2025-11-25 ``tasks/result``: blocks until the task ends, so no read timeout."""
        base = self._engine.default_timeout
        result: dict[str, Any] = await self._request(
            "tasks/result", timeout=Timeout(total=None, connect=base.connect, read=None)
        )
        return result

    async def _cancel_quietly(self) -> None:
        try:
            async with asyncio.timeout(_CANCEL_TIMEOUT):
                await self.cancel()
        except (MCPClientError, TimeoutError) as exc:
            logger.warning("could not cancel task %s on the server: %s", self.task_id, exc)

    def _spawn_cancel(self) -> None:
        if not self._last.task_id or self._last.terminal:
            return
        job = asyncio.ensure_future(self._cancel_quietly())
        _background.add(job)
        job.add_done_callback(_background.discard)

    # -- status fan-out ---------------------------------------------------------------------
    def _publish(self, task: Task) -> None:
        before = self._last
        self._last = task
        if (task.status, task.status_message) == (before.status, before.status_message):
            return
        for queue in self._subscribers:
            queue.put_nowait(task)

    def _end_subscribers(self) -> None:
        for queue in self._subscribers:
            queue.put_nowait(None)

    async def _iterate(self) -> AsyncIterator[Task]:
        queue: asyncio.Queue[Task | None] = asyncio.Queue()
        self._subscribers.append(queue)
        try:
            current = self._last
            yield current
            if current.terminal or self._cancelled is not None or self._raw_result is not None:
                return
            driver = self._start()
            while True:
                item = await queue.get()
                if item is None:
                    if driver.done() and not driver.cancelled():
                        error = driver.exception()
                        if error is not None and not isinstance(error, TaskError):
                            raise error
                    return
                yield item
                if item.terminal:
                    return
        finally:
            self._subscribers.remove(queue)

    def _release_progress(self) -> None:
        if self._token is not None:
            self._engine.dispatcher.remove_progress(self._token)
            self._token = None


def _delay(task: Task, pause: float) -> tuple[float, float]:
    """Seconds to wait before the next ``tasks/get``, and the next backoff step."""
    if task.poll_interval is not None:
        seconds = task.poll_interval / 1000
        return min(max(seconds, MIN_POLL_INTERVAL), MAX_POLL_INTERVAL), pause
    return pause, min(pause * 1.5, _BACKOFF_CAP)


def _error(error: Mapping[str, Any] | None) -> JSONRPCError | None:
    if not isinstance(error, Mapping):
        return None
    code = error.get("code")
    message = error.get("message")
    if not isinstance(code, int) or isinstance(code, bool):
        return None
    return error_to_exception(
        ErrorResponse(None, code, message if isinstance(message, str) else "", error.get("data"))
    )
