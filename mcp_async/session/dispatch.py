"""Routing of messages the server sends to the client: notifications and requests.

Notifications are handled in the reader of the stream that carried them, in order: none
is queued, so a server that floods notifications is slowed down (its stream is not read
while a callback runs), and memory stays flat.

Server requests run as tasks, so a slow handler never holds up a stream; each gets
exactly one answer: its result, a JSON-RPC "method not found" error for a method without
a handler, or an error response when the handler raises. The work is bounded per
session by ``max_concurrent_handlers`` (N):

* at most N handlers run at once, and at most N more requests wait for a slot; a request
  beyond that is refused at once with ``-32603`` "client is busy" (and counted);
* at most N answers (results, errors, refusals, ``ping`` replies) are being sent at once,
  and at most ``MAX_QUEUED_ANSWERS`` more wait their turn; when that queue is full, the
  reader that took the request waits for room, so a server that floods requests is
  slowed down (its stream is not read) instead of filling the client's memory.

``notifications/cancelled`` from the server cancels the matching task (and no answer is
sent, as the spec asks).
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import types
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from .._exceptions import ConfigError, JSONRPCError, UnexpectedResponseError
from ..protocol import jsonrpc
from ..protocol.jsonrpc import ErrorResponse, Notification, Request, RequestId, Response
from ..protocol.models import LoggingMessage, ProgressNotification, Root

if TYPE_CHECKING:
    from .handlers import (
        ElicitationCompleteHandler,
        ElicitationHandler,
        ElicitationRequest,
        ListChangedHandler,
        ResourceUpdatedHandler,
        RootsProvider,
        SamplingHandler,
        SamplingRequest,
        SamplingResult,
    )

__all__ = [
    "Dispatcher",
    "LoggingHandler",
    "NotificationHandler",
    "ProgressCallback",
    "Reply",
    "RequestHandler",
]

logger = logging.getLogger("mcp_async")

#: ``callback(progress)``, sync or async, receives :class:`~mcp_async.models.ProgressNotification`.
ProgressCallback = Callable[[ProgressNotification], Awaitable[None] | None]
#: ``handler(message)`` for ``notifications/message``.
LoggingHandler = Callable[[LoggingMessage], Awaitable[None] | None]
#: ``handler(method, params)`` for any notification.
NotificationHandler = Callable[[str, dict[str, Any]], Awaitable[None] | None]
#: ``handler(params) -> result dict`` answering one server request method.
RequestHandler = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]
#: Sends the answer to a server request back to the server.
Reply = Callable[[Response | ErrorResponse], Awaitable[None]]

_Coroutine = types.CoroutineType
_InternalHandler = Callable[[dict[str, Any]], Awaitable[None]]

#: Most answers to server requests waiting to be sent (beyond the ``max_concurrent_handlers``
#: being sent); a reader that would queue one more waits for room.
MAX_QUEUED_ANSWERS = 1024

#: How many accepted URL-mode elicitations are remembered for their completion notice.
_ELICITATIONS_KEPT = 1024


async def _call(fn: Callable[..., Any], *args: Any) -> Any:
    result = fn(*args)
    if type(result) is _Coroutine or inspect.isawaitable(result):  # (a coroutine, mostly)
        return await result
    return result


def _check_callable(name: str, value: object) -> None:
    if value is not None and not callable(value):
        raise ConfigError(f"{name} must be callable, got {type(value).__name__}")


def _root(item: Any) -> Root:
    if isinstance(item, Root):
        root = item
    elif isinstance(item, str):
        root = Root(uri=item)
    elif isinstance(item, Mapping):
        root = Root.from_dict(item)
    else:
        raise ConfigError(f"a root must be a Root, a file:// URI or a dict, got {item!r}")
    if not root.uri.startswith("file://"):
        raise ConfigError(f"root URIs must start with file://, got {root.uri!r}")
    return root


def _roots(items: Any) -> list[Root]:
    if isinstance(items, str) or not isinstance(items, list | tuple):
        raise ConfigError(f"roots must be a list of roots, got {type(items).__name__}")
    return [_root(item) for item in items]


#: The outbox of a dispatcher that never queued an answer (shared, always empty).
_NO_ANSWERS: deque[Any] = deque(maxlen=0)


class Dispatcher:
    """Routes incoming notifications to callbacks and server requests to handlers.

    The client builds one from its constructor arguments; :meth:`capabilities` tells
    which client capabilities those handlers let it declare.
    """

    def __init__(
        self,
        *,
        logging_handler: LoggingHandler | None = None,
        on_notification: NotificationHandler | None = None,
        sampling_handler: SamplingHandler | None = None,
        sampling_tools: bool = False,
        elicitation_handler: ElicitationHandler | None = None,
        elicitation_complete_handler: ElicitationCompleteHandler | None = None,
        roots: RootsProvider | None = None,
        tools_list_changed_handler: ListChangedHandler | None = None,
        resources_list_changed_handler: ListChangedHandler | None = None,
        prompts_list_changed_handler: ListChangedHandler | None = None,
        resource_updated_handler: ResourceUpdatedHandler | None = None,
        max_concurrent_handlers: int = 16,
    ) -> None:
        for name, value in (
            ("logging_handler", logging_handler),
            ("on_notification", on_notification),
            ("sampling_handler", sampling_handler),
            ("elicitation_handler", elicitation_handler),
            ("elicitation_complete_handler", elicitation_complete_handler),
            ("tools_list_changed_handler", tools_list_changed_handler),
            ("resources_list_changed_handler", resources_list_changed_handler),
            ("prompts_list_changed_handler", prompts_list_changed_handler),
            ("resource_updated_handler", resource_updated_handler),
        ):
            _check_callable(name, value)
        if (
            isinstance(max_concurrent_handlers, bool)
            or not isinstance(max_concurrent_handlers, int)
            or max_concurrent_handlers < 1
        ):
            raise ConfigError(
                f"max_concurrent_handlers must be an int >= 1, got {max_concurrent_handlers!r}"
            )
        if roots is not None and not callable(roots):
            roots = _roots(roots)
        self.logging_handler = logging_handler
        self.on_notification = on_notification
        self._sampling = sampling_handler
        self._sampling_tools = sampling_tools
        self._elicitation = elicitation_handler
        self._elicitation_complete = elicitation_complete_handler
        self._roots = roots
        self._progress: dict[RequestId, ProgressCallback] = {}
        # (Tuples: most methods have one handler, and a one-element tuple is half a list.)
        self._notification_handlers: dict[str, tuple[_InternalHandler, ...]] = {}
        self.request_handlers: dict[str, RequestHandler] = {"ping": _answer_ping}
        self._limit = max_concurrent_handlers
        # (Made on first use, like the answer queue below: most servers never ask.)
        self._slots: asyncio.Semaphore | None = None
        self._running: dict[RequestId, asyncio.Task[None]] = {}
        # Answers waiting to be sent, and the tasks sending them (at most N).
        # (Both made on first use: an empty deque holds a 64-slot block, and a gateway
        # holds thousands of clients whose servers may never ask anything.)
        self._outbox: deque[tuple[Reply, Response | ErrorResponse]] = _NO_ANSWERS
        self._senders: set[asyncio.Task[None]] | None = None
        # (Counted in the senders themselves: a finished task leaves the set only when
        # its done-callbacks run, later, and an answer queued meanwhile needs a sender.)
        self._sending = 0
        self._room: asyncio.Event | None = None
        self._warned = False
        self._closed = False
        #: Server requests refused because ``2 * max_concurrent_handlers`` were in progress.
        self.refused = 0
        self._accepted_urls: dict[str, None] = {}  # in the order accepted
        if sampling_handler is not None:
            self.request_handlers["sampling/createMessage"] = self._answer_sampling
        if elicitation_handler is not None:
            self.request_handlers["elicitation/create"] = self._answer_elicitation
        if roots is not None:
            self.request_handlers["roots/list"] = self._answer_roots
        for method, callback in (
            ("notifications/tools/list_changed", tools_list_changed_handler),
            ("notifications/resources/list_changed", resources_list_changed_handler),
            ("notifications/prompts/list_changed", prompts_list_changed_handler),
        ):
            if callback is not None:
                self.on(method, _no_args(callback))
        if resource_updated_handler is not None:
            self.on("notifications/resources/updated", _with_uri(resource_updated_handler))

    # -- capabilities ---------------------------------------------------------------------
    def capabilities(self) -> dict[str, Any]:
        """The client capabilities the configured handlers support."""
        capabilities: dict[str, Any] = {}
        if self._sampling is not None:
            capabilities["sampling"] = {"tools": {}} if self._sampling_tools else {}
        if self._elicitation is not None:
            capabilities["elicitation"] = {"form": {}, "url": {}}
        if self._roots is not None:
            capabilities["roots"] = {"listChanged": True}
        return capabilities

    @property
    def has_roots(self) -> bool:
        """Whether the client answers ``roots/list``."""
        return self._roots is not None

    # -- progress -------------------------------------------------------------------------
    def add_progress(self, token: RequestId, callback: ProgressCallback) -> None:
        """Deliver ``notifications/progress`` carrying ``token`` to ``callback``."""
        self._progress[token] = callback

    def remove_progress(self, token: RequestId) -> None:
        """Stop delivering progress for ``token``."""
        self._progress.pop(token, None)

    def on(self, method: str, handler: _InternalHandler) -> None:
        """Register an internal handler for one notification method (run in order added)."""
        handlers = self._notification_handlers
        handlers[method] = (*handlers.get(method, ()), handler)

    # -- notifications ------------------------------------------------------------------------
    async def notification(self, message: Notification) -> None:
        """Handle one notification; callback errors are logged, never raised."""
        params = message.params or {}
        try:
            if message.method == "notifications/progress":
                await self._progress_notification(params)
            elif message.method == "notifications/message" and self.logging_handler is not None:
                await _call(self.logging_handler, LoggingMessage.from_dict(params))
            # (The dispatcher's own handlers run first, named here rather than registered:
            # two bound methods and table entries fewer for each of thousands of clients.)
            elif message.method == "notifications/cancelled":
                await self._cancelled(params)
            elif message.method == "notifications/elicitation/complete":
                await self._elicitation_completed(params)
            for internal in self._notification_handlers.get(message.method, ()):
                await internal(params)
            if self.on_notification is not None:
                await _call(self.on_notification, message.method, params)
        except Exception:
            logger.exception("notification handler for %s failed", message.method)

    async def _progress_notification(self, params: dict[str, Any]) -> None:
        token = params.get("progressToken")
        callback = self._progress.get(token) if isinstance(token, str | int) else None
        if callback is not None:
            await _call(callback, ProgressNotification.from_dict(params))

    async def _cancelled(self, params: dict[str, Any]) -> None:
        request_id = params.get("requestId")
        task = self._running.get(request_id) if isinstance(request_id, str | int) else None
        if task is not None:
            logger.debug("server cancelled its request %r: %s", request_id, params.get("reason"))
            task.cancel()

    async def _elicitation_completed(self, params: dict[str, Any]) -> None:
        elicitation_id = params.get("elicitationId")
        # Unknown or already finished ids must be ignored (spec).
        if not isinstance(elicitation_id, str) or elicitation_id not in self._accepted_urls:
            return
        del self._accepted_urls[elicitation_id]
        if self._elicitation_complete is not None:
            await _call(self._elicitation_complete, elicitation_id)

    # -- server requests ----------------------------------------------------------------------
    @property
    def max_concurrent_handlers(self) -> int:
        """Most handlers run at once (and most answers sent at once)."""
        return self._limit

    async def submit(self, message: Request, reply: Reply) -> None:
        """Take one server request from a stream's reader; its answer goes to ``reply``.

        A request that needs no handler (``ping``, a method without a handler, an id
        already in progress, or one over the limit of ``2 * max_concurrent_handlers``
        in progress) is answered at once; any other is answered by its handler in a
        task. Returns when the request is taken: at once, unless ``MAX_QUEUED_ANSWERS``
        answers wait to be sent, in which case it waits for room.
        """
        request_id = message.id
        handler = self.request_handlers.get(message.method)
        if handler is _answer_ping:
            await self._answer_now(reply, Response(request_id, {}))
        elif handler is None:
            await self._answer_now(reply, ErrorResponse(
                request_id, jsonrpc.METHOD_NOT_FOUND, f"method not found: {message.method}"
            ))
        elif request_id in self._running:
            await self._answer_now(reply, ErrorResponse(
                request_id, jsonrpc.INVALID_REQUEST,
                f"request id {request_id!r} is already in use by a request in progress",
            ))
        elif len(self._running) >= 2 * self._limit:
            self.refused += 1
            if not self._warned:  # once per burst: a flood must not flood the log too
                self._warned = True
                logger.warning(
                    "refusing server requests: %d are in progress (max_concurrent_handlers"
                    " is %d, as many again may wait)", len(self._running), self._limit,
                )
            await self._answer_now(reply, ErrorResponse(
                request_id, jsonrpc.INTERNAL_ERROR,
                f"client is busy: {len(self._running)} server requests in progress",
            ))
        else:
            self._warned = False
            task = asyncio.ensure_future(self._run(message, reply))
            self._running[request_id] = task
            task.add_done_callback(lambda done: self._forget(request_id, done))

    async def _answer_now(self, reply: Reply, answer: Response | ErrorResponse) -> None:
        """Queue an answer; the reader waits while ``MAX_QUEUED_ANSWERS`` are queued."""
        while len(self._outbox) >= MAX_QUEUED_ANSWERS:
            room = self._room = self._room or asyncio.Event()
            room.clear()
            await room.wait()
        self._queue_answer(reply, answer)

    def _queue_answer(self, reply: Reply, answer: Response | ErrorResponse) -> None:
        if self._closed:  # the session is ending: nothing more is sent
            return
        if self._outbox is _NO_ANSWERS:
            self._outbox = deque()
        self._outbox.append((reply, answer))
        if self._sending < self._limit:
            self._sending += 1
            task = asyncio.ensure_future(self._send_queued())
            if self._senders is None:
                self._senders = set()
            self._senders.add(task)
            task.add_done_callback(self._senders.discard)

    async def _send_queued(self) -> None:
        """Send queued answers, one at a time, until none is left."""
        outbox = self._outbox
        try:
            while outbox:
                reply, answer = outbox.popleft()
                if self._room is not None:
                    self._room.set()
                try:
                    await reply(answer)
                except Exception:  # e.g. a handler's result that is not JSON
                    logger.exception("could not send the answer to server request %r",
                                     answer.id)
        finally:
            self._sending -= 1

    def _forget(self, request_id: RequestId, task: asyncio.Task[None]) -> None:
        if self._running.get(request_id) is task:
            del self._running[request_id]
        if not task.cancelled() and task.exception() is not None:
            logger.error("answering server request %r failed", request_id,
                         exc_info=task.exception())

    async def _run(self, message: Request, reply: Reply) -> None:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self._limit)
        async with self._slots:
            answer = await self.request(message)
        # (Never waits for room: at most 2 * max_concurrent_handlers handlers may add
        # one answer each beyond MAX_QUEUED_ANSWERS.)
        self._queue_answer(reply, answer)

    @property
    def handlers_running(self) -> int:
        """How many server requests are being answered (running or waiting for a slot)."""
        return len(self._running)

    async def cancel_all(self) -> None:
        """Cancel every server request in progress and wait for the tasks to end."""
        self._closed = True
        self._outbox.clear()
        if self._room is not None:
            self._room.set()
        tasks = [*self._running.values(), *(self._senders or ())]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)

    async def request(self, message: Request) -> Response | ErrorResponse:
        """Answer one server request; never raises (except cancellation)."""
        handler = self.request_handlers.get(message.method)
        if handler is None:
            return ErrorResponse(
                message.id, jsonrpc.METHOD_NOT_FOUND, f"method not found: {message.method}"
            )
        try:
            result = await handler(message.params or {})
        except JSONRPCError as exc:
            return ErrorResponse(message.id, exc.code, exc.message, exc.data)
        except UnexpectedResponseError as exc:
            return ErrorResponse(message.id, jsonrpc.INVALID_PARAMS, f"invalid params: {exc}")
        except Exception as exc:
            logger.exception("handler for server request %s failed", message.method)
            return ErrorResponse(
                message.id, jsonrpc.INTERNAL_ERROR, str(exc) or type(exc).__name__
            )
        return Response(message.id, result)

    async def _answer_sampling(self, params: dict[str, Any]) -> dict[str, Any]:
        assert self._sampling is not None
        SamplingRequest, SamplingResult = _sampling_types()
        request = SamplingRequest.from_dict(params)
        if (request.tools or request.tool_choice is not None) and not self._sampling_tools:
            # The spec requires an error here: the client did not declare sampling.tools.
            raise JSONRPCError(
                jsonrpc.INVALID_PARAMS,
                "tool use in sampling needs the sampling.tools capability (sampling_tools=True)",
            )
        result = await _call(self._sampling, request)
        if isinstance(result, SamplingResult):
            return result.to_dict()
        if isinstance(result, Mapping):
            return dict(result)
        raise TypeError(
            "a sampling handler must return a SamplingResult or a dict, "
            f"got {type(result).__name__}"
        )

    async def _answer_elicitation(self, params: dict[str, Any]) -> dict[str, Any]:
        assert self._elicitation is not None
        ElicitationRequest, build_result = _elicitation_types()
        request = ElicitationRequest.from_dict(params)
        result = build_result(request, await _call(self._elicitation, request))
        if (
            request.mode == "url"
            and request.elicitation_id is not None
            and result.get("action") == "accept"
        ):
            self._accepted_urls[request.elicitation_id] = None
            while len(self._accepted_urls) > _ELICITATIONS_KEPT:
                del self._accepted_urls[next(iter(self._accepted_urls))]
        return result

    async def _answer_roots(self, params: dict[str, Any]) -> dict[str, Any]:
        provider = self._roots
        items = await _call(provider) if callable(provider) else provider
        return {"roots": [root.to_dict() for root in _roots(items)]}


# The handler types load with the first server request, not with the package (and then
# once: an import statement run on every request costs more than the lookup).
@functools.cache
def _sampling_types() -> tuple[type[SamplingRequest], type[SamplingResult]]:
    from .handlers import SamplingRequest, SamplingResult

    return SamplingRequest, SamplingResult


@functools.cache
def _elicitation_types() -> tuple[
    type[ElicitationRequest], Callable[[ElicitationRequest, Any], dict[str, Any]]
]:
    from .elicitation import build_result
    from .handlers import ElicitationRequest

    return ElicitationRequest, build_result


def _no_args(callback: ListChangedHandler) -> _InternalHandler:
    async def handler(params: dict[str, Any]) -> None:
        await _call(callback)

    return handler


def _with_uri(callback: ResourceUpdatedHandler) -> _InternalHandler:
    async def handler(params: dict[str, Any]) -> None:
        uri = params.get("uri")
        if not isinstance(uri, str):
            raise UnexpectedResponseError("notifications/resources/updated without a string uri")
        await _call(callback, uri)

    return handler


async def _answer_ping(params: dict[str, Any]) -> dict[str, Any]:
    return {}
