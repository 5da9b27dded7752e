"""The blocking faces of what the async client hands back: an outcome stream, a listen,
the response cache and a task handle, each running its async counterpart's coroutines
on the blocking client's loop thread (see :mod:`.blocking`)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Coroutine, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from .._exceptions import ClientStateError
from ..protocol.models import CallToolResult

if TYPE_CHECKING:
    from ..features.batch import Failure, OutcomeStream, Success
    from ..features.cache import ResponseCache
    from ..features.listen import ListenEvent, ListenFilter, Listening
    from ..features.tasks import Task, TaskHandle

__all__ = [
    "BlockingRunner", "SyncListening", "SyncOutcomeStream", "SyncResponseCache", "SyncTaskHandle",
]

_T = TypeVar("_T")
_R = TypeVar("_R")


class BlockingRunner(Protocol):
    """What a blocking face needs of its client (:class:`~mcp_async.sync.MCPClient`)."""

    @property
    def closed(self) -> bool:
        """Whether the client was closed."""

    def run(self, coro: Coroutine[Any, Any, _R], *, what: str = "run") -> _R:
        """Run ``coro`` on the client's loop thread and wait for its result."""


class SyncOutcomeStream(Iterator[tuple[int, "Success[_T] | Failure[_T]"]]):
    """``for index, outcome in stream``: the blocking face of
    :class:`~mcp_async.OutcomeStream`, outcomes in the order calls finish."""

    def __init__(self, client: BlockingRunner, stream: OutcomeStream[_T]) -> None:
        self._client = client
        self._stream = stream

    def __iter__(self) -> SyncOutcomeStream[_T]:
        return self

    def __next__(self) -> tuple[int, Success[_T] | Failure[_T]]:
        async def step() -> tuple[int, Success[_T] | Failure[_T]] | None:
            try:
                return await anext(self._stream)
            except StopAsyncIteration:
                return None

        item = self._client.run(step(), what="stream_calls")
        if item is None:
            raise StopIteration
        return item

    def close(self) -> None:
        """Cancel the calls still running and stop."""
        if not self._client.closed:
            self._client.run(self._stream.aclose(), what="stream_calls")

    def __enter__(self) -> SyncOutcomeStream[_T]:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class SyncListening(Iterator["ListenEvent"]):
    """``with client.listen(...) as events: for event in events``: the blocking face of
    :class:`~mcp_async.listen.Listening`."""

    def __init__(self, client: BlockingRunner, listening: Listening) -> None:
        self._client = client
        self._listening = listening

    @property
    def acknowledged(self) -> ListenFilter | None:
        """What the server honours (see :attr:`Listening.acknowledged`)."""
        return self._listening.acknowledged

    def __enter__(self) -> SyncListening:
        self._client.run(self._listening.__aenter__(), what="listen")
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """End the listen."""
        if not self._client.closed:
            self._client.run(self._listening.aclose(), what="listen")

    def __iter__(self) -> SyncListening:
        return self

    def __next__(self) -> ListenEvent:
        listening = self._listening

        async def step() -> ListenEvent | None:
            try:
                return await anext(listening)
            except StopAsyncIteration:
                return None

        event = self._client.run(step(), what="listen")
        if event is None:
            raise StopIteration
        return event


class SyncResponseCache:
    """The blocking face of :class:`~mcp_async.cache.ResponseCache` (``client.cache``).

    The store is used by the client's loop thread (its methods "are called from the
    event loop"), so :meth:`clear`, :meth:`evict` and :meth:`invalidate` run there.
    """

    def __init__(self, client: BlockingRunner, cache: ResponseCache) -> None:
        self._client = client
        self._cache = cache

    @property
    def hits(self) -> int:
        """Lookups answered from the cache."""
        return self._cache.hits

    @property
    def misses(self) -> int:
        """Lookups that found nothing fresh."""
        return self._cache.misses

    def _in_loop(self, what: str, change: Callable[[], None]) -> None:
        async def run() -> None:
            change()

        self._client.run(run(), what=what)

    def clear(self) -> None:
        """Drop every entry of the store."""
        self._in_loop("cache.clear", self._cache.clear)

    def evict(self, method: str, uri: str | None = None) -> None:
        """Drop every entry of ``method`` (for ``resources/read``: of ``uri`` if given)."""
        self._in_loop("cache.evict", lambda: self._cache.evict(method, uri))

    def invalidate(self, notification: str, params: Mapping[str, Any] | None = None) -> None:
        """Apply a server notification (list changed, resource updated)."""
        self._in_loop("cache.invalidate", lambda: self._cache.invalidate(notification, params))


class SyncTaskHandle:
    """The blocking face of :class:`~mcp_async.TaskHandle`."""

    def __init__(self, client: BlockingRunner, handle: TaskHandle) -> None:
        self._client = client
        self._handle = handle

    @property
    def task_id(self) -> str:
        """The server's id of the task."""
        return self._handle.task_id

    @property
    def last(self) -> Task:
        """The task's state as last seen (no request)."""
        return self._handle.last

    def status(self) -> Task:
        """Ask the server for the task's current state."""
        return self._client.run(self._handle.status(), what="task status")

    def wait(self, *, timeout: float | None = None) -> CallToolResult:
        """Wait for the task's result (see :meth:`TaskHandle.wait`)."""
        return self._client.run(self._handle.wait(timeout=timeout), what="task wait")

    def cancel(self) -> None:
        """Cancel the task on the server."""
        self._client.run(self._handle.cancel(), what="task cancel")

    def __iter__(self) -> Iterator[Task]:
        """``for task in handle``: the :class:`~mcp_async.tasks.Task` on each change of
        status or status message, ending after the terminal one (see
        :class:`~mcp_async.TaskHandle`)."""
        client = self._client
        states = self._handle.__aiter__()

        async def step() -> Task | None:
            try:
                return await anext(states)
            except StopAsyncIteration:
                return None

        try:
            while (state := client.run(step(), what="task iterate")) is not None:
                yield state
        finally:
            close = getattr(states, "aclose", None)
            if close is not None and not client.closed:
                # Left early: stop following (the task itself goes on).
                with contextlib.suppress(ClientStateError):
                    client.run(close(), what="task iterate")

    def __enter__(self) -> SyncTaskHandle:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        """As ``async with handle``: cancel the task on the server if the block raised,
        stop polling either way."""
        self._client.run(self._handle.__aexit__(exc_type, exc, tb), what="task exit")
