"""Bounded fan-out: run many calls with at most N in flight, one outcome per item.

The one primitive, :func:`stream_bounded`, keeps a window of at most ``concurrency``
tasks: it pulls the next item only when a slot frees up, so an input of 100,000 items
never creates 100,000 tasks, and an iterator or async iterator is consumed lazily.
:func:`gather_bounded` collects its outcomes back into input order.
:meth:`AsyncMCPClient.call_tools`, :meth:`~AsyncMCPClient.stream_calls` and
:meth:`~AsyncMCPClient.send_requests` are thin layers over the two.

Every item gets an :class:`Outcome` (its value or its exception); a failing item never
disturbs the others. With ``fail_fast=True`` the first failure cancels everything still
running and raises :class:`BatchError` naming the item.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
    Sized,
)
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Literal, NoReturn, TypeAlias, TypeVar, overload

from ._config import TimeoutLike
from ._exceptions import BatchError, ConfigError

if TYPE_CHECKING:
    from ._client import AsyncMCPClient
    from .models import CallToolResult
    from .retry import RetryPolicy

__all__ = [
    "AnyOutcome",
    "BatchError",
    "BatchResult",
    "CallLike",
    "Failure",
    "Outcome",
    "OutcomeStream",
    "ProgressFn",
    "Success",
    "ToolCall",
    "gather_bounded",
    "send_requests",
    "stream_bounded",
    "tool_caller",
]

T = TypeVar("T")
R = TypeVar("R")

#: ``progress(done, total)``, called after each item finishes: ``done`` counts the
#: finished items (1, 2, ...); ``total`` is ``len(items)`` when the input has a length
#: (a list, a tuple, a range, ...) and ``None`` when it has none (a generator, an async
#: iterable, any iterator read lazily), so a progress bar must handle both. May be a
#: plain function or a coroutine function (awaited before the next outcome is handed on).
ProgressFn: TypeAlias = Callable[[int, int | None], object]

#: Default number of calls in flight at once.
DEFAULT_CONCURRENCY = 16


@dataclass(frozen=True, slots=True)
class ToolCall:
    """One tool call of a batch, with optional per-call settings.

    ``idempotent`` and ``timeout`` left at ``None`` take the batch's values.
    A plain ``(name, arguments)`` tuple or a bare tool name works as well.
    """

    name: str
    arguments: Mapping[str, Any] | None = None
    idempotent: bool | None = None
    timeout: TimeoutLike = None
    meta: Mapping[str, Any] | None = None

    @classmethod
    def coerce(cls, item: CallLike) -> ToolCall:
        """Turn a :data:`CallLike` into a :class:`ToolCall`, or raise :class:`ConfigError`."""
        if isinstance(item, ToolCall):
            return item
        if isinstance(item, str):
            return cls(item)
        if isinstance(item, tuple) and len(item) in (1, 2) and isinstance(item[0], str):
            arguments = item[1] if len(item) == 2 else None
            if arguments is not None and not isinstance(arguments, Mapping):
                raise ConfigError(
                    f"tool call arguments must be a mapping, got {type(arguments).__name__}"
                )
            return cls(item[0], arguments)
        raise ConfigError(
            "a tool call must be a ToolCall, a (name, arguments) tuple or a tool name; "
            f"got {item!r}"
        )


#: What :meth:`AsyncMCPClient.call_tools` accepts per item.
CallLike: TypeAlias = "ToolCall | tuple[str, Mapping[str, Any] | None] | tuple[str] | str"


@dataclass(frozen=True, slots=True)
class Outcome(Generic[R]):
    """The result of one item: ``value`` if it succeeded, else ``error``.

    Every outcome is a :class:`Success` or a :class:`Failure` (``Outcome(index,
    value=...)`` and ``Outcome(index, error=...)`` build one of them), and the batch
    APIs are typed ``Success[R] | Failure[R]``, so a type checker narrows on ``.ok``::

        for outcome in await client.call_tools(calls):
            if outcome.ok:
                print(outcome.value.text)   # CallToolResult, not CallToolResult | None
            else:
                print(outcome.error)        # BaseException, not BaseException | None

    ``isinstance(outcome, Success)`` and ``match outcome: case Success(value=v): ...``
    narrow the same way, also for a variable annotated ``Outcome[R]``.
    """

    index: int
    value: R | None = None
    error: BaseException | None = None

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        if cls is Outcome:
            error = kwargs.get("error", args[2] if len(args) > 2 else None)
            cls = Failure if error is not None else Success
        return object.__new__(cls)

    @property
    def ok(self) -> bool:
        """True when the item succeeded."""
        return self.error is None

    def unwrap(self) -> R:
        """The value, or raise the item's error."""
        if self.error is not None:
            raise self.error
        return self.value  # type: ignore[return-value]


@dataclass(frozen=True, slots=True)
class Success(Outcome[R]):
    """An item that succeeded: ``value`` is its result (``error`` is ``None``)."""

    value: R = None  # type: ignore[assignment]  # Outcome(index) has always meant None
    error: None = None

    @property
    def ok(self) -> Literal[True]:
        """Always True."""
        return True

    def unwrap(self) -> R:
        """The value."""
        return self.value


@dataclass(frozen=True, slots=True)
class Failure(Outcome[R]):
    """An item that failed: ``error`` is its exception (``value`` is ``None``)."""

    value: None = None
    error: BaseException = None  # type: ignore[assignment]  # required: checked below

    def __post_init__(self) -> None:
        if not isinstance(self.error, BaseException):
            raise TypeError("Failure needs error=<an exception>")

    @property
    def ok(self) -> Literal[False]:
        """Always False."""
        return False

    def unwrap(self) -> NoReturn:
        """Raise the item's error."""
        raise self.error


#: What the batch APIs yield per item: a :class:`Success` or a :class:`Failure`
#: (``AnyOutcome[CallToolResult]`` in an annotation).
AnyOutcome: TypeAlias = Success[R] | Failure[R]


@dataclass(frozen=True, slots=True)
class BatchResult(Sequence["Success[R] | Failure[R]"]):
    """The outcomes of a batch, one per input item, in input order."""

    outcomes: tuple[Success[R] | Failure[R], ...]

    @overload
    def __getitem__(self, index: int) -> Success[R] | Failure[R]: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Success[R] | Failure[R]]: ...
    def __getitem__(
        self, index: int | slice
    ) -> Success[R] | Failure[R] | Sequence[Success[R] | Failure[R]]:
        return self.outcomes[index]

    def __len__(self) -> int:
        return len(self.outcomes)

    def __iter__(self) -> Iterator[Success[R] | Failure[R]]:
        return iter(self.outcomes)

    @property
    def ok(self) -> bool:
        """True when every item succeeded."""
        return all(outcome.error is None for outcome in self.outcomes)

    @property
    def failed(self) -> list[Failure[R]]:
        """The outcomes that are errors, in input order."""
        return [outcome for outcome in self.outcomes if isinstance(outcome, Failure)]

    @property
    def succeeded(self) -> list[Success[R]]:
        """The outcomes that are values, in input order."""
        return [outcome for outcome in self.outcomes if isinstance(outcome, Success)]

    def values(self) -> list[R]:
        """Every value in input order; raises :class:`BatchError` for the first failure."""
        values: list[R] = []
        for outcome in self.outcomes:
            if isinstance(outcome, Failure):
                raise BatchError(outcome.index, outcome.error, done=len(self.outcomes)) from (
                    outcome.error
                )
            values.append(outcome.value)
        return values

    def __repr__(self) -> str:
        failed = sum(1 for outcome in self.outcomes if outcome.error is not None)
        return f"<BatchResult {len(self.outcomes)} items, {failed} failed>"


# -- the primitive ------------------------------------------------------------------------


def _check_concurrency(concurrency: object) -> int:
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ConfigError(f"concurrency must be an integer >= 1, got {concurrency!r}")
    return concurrency


def _total(items: object) -> int | None:
    return len(items) if isinstance(items, Sized) else None


def _outcome(index: int, task: asyncio.Task[R]) -> Success[R] | Failure[R]:
    if task.cancelled():
        return Failure(index, error=asyncio.CancelledError(f"batch item {index} was cancelled"))
    error = task.exception()
    if error is not None:
        return Failure(index, error=error)
    return Success(index, task.result())


async def _window(
    items: Iterable[T] | AsyncIterable[T],
    func: Callable[[T], Awaitable[R]],
    concurrency: int,
) -> AsyncGenerator[Success[R] | Failure[R], None]:
    """Yield one outcome per item as they finish, with at most ``concurrency`` running."""
    finished: asyncio.Queue[asyncio.Task[R]] = asyncio.Queue()
    running: dict[asyncio.Task[R], int] = {}
    aiter_: AsyncIterator[T] | None = None
    iter_: Iterator[T] | None = None
    if isinstance(items, AsyncIterable):
        aiter_ = aiter(items)
    else:
        iter_ = iter(items)
    index = 0
    exhausted = False

    async def run(item: T) -> R:
        return await func(item)

    try:
        while True:
            while not exhausted and len(running) < concurrency:
                try:
                    item = await anext(aiter_) if aiter_ is not None else _next(iter_)
                except (StopIteration, StopAsyncIteration):
                    exhausted = True
                    break
                task = asyncio.ensure_future(run(item))
                running[task] = index
                task.add_done_callback(finished.put_nowait)
                index += 1
            if not running:
                return
            task = await finished.get()
            yield _outcome(running.pop(task), task)
    finally:
        if running:
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)


def _next(iterator: Iterator[T] | None) -> T:
    assert iterator is not None
    return next(iterator)


async def _report(progress: ProgressFn | None, done: int, total: int | None) -> None:
    if progress is None:
        return
    result = progress(done, total)
    if inspect.isawaitable(result):
        await result


class OutcomeStream(AsyncIterator[tuple[int, "Success[R] | Failure[R]"]]):
    """``async for index, outcome in stream``: outcomes in the order calls finish.

    At most ``concurrency`` calls run at once and the input is read lazily, so memory
    stays proportional to the concurrency. Leaving the loop early leaves calls running
    until the stream is closed: use ``async with`` (or :meth:`aclose`) to cancel them
    at once::

        async with client.stream_calls(calls, concurrency=32) as stream:
            async for index, outcome in stream:
                print(index, outcome.ok)
    """

    def __init__(
        self,
        items: Iterable[Any] | AsyncIterable[Any],
        func: Callable[[Any], Awaitable[R]],
        *,
        concurrency: int,
        fail_fast: bool = False,
        progress: ProgressFn | None = None,
    ) -> None:
        self._gen = _window(items, func, _check_concurrency(concurrency))
        self._fail_fast = fail_fast
        self._progress = progress
        self._total = _total(items)
        self._done = 0

    def __aiter__(self) -> OutcomeStream[R]:
        return self

    async def __anext__(self) -> tuple[int, Success[R] | Failure[R]]:
        try:
            outcome = await anext(self._gen)
        except StopAsyncIteration:
            raise
        except BaseException:
            await self._gen.aclose()
            raise
        self._done += 1
        if self._fail_fast and outcome.error is not None:
            await self._gen.aclose()
            raise BatchError(outcome.index, outcome.error, done=self._done) from outcome.error
        await _report(self._progress, self._done, self._total)
        return outcome.index, outcome

    async def aclose(self) -> None:
        """Cancel the calls still running and stop."""
        await self._gen.aclose()

    async def __aenter__(self) -> OutcomeStream[R]:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


def stream_bounded(
    items: Iterable[T] | AsyncIterable[T],
    func: Callable[[T], Awaitable[R]],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    fail_fast: bool = False,
    progress: ProgressFn | None = None,
) -> OutcomeStream[R]:
    """Run ``func(item)`` for every item, ``concurrency`` at a time, yielding as they finish."""
    return OutcomeStream(
        items, func, concurrency=concurrency, fail_fast=fail_fast, progress=progress
    )


async def gather_bounded(
    items: Iterable[T] | AsyncIterable[T],
    func: Callable[[T], Awaitable[R]],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    fail_fast: bool = False,
    progress: ProgressFn | None = None,
) -> BatchResult[R]:
    """Run ``func(item)`` for every item, ``concurrency`` at a time; outcomes in input order."""
    outcomes: dict[int, Success[R] | Failure[R]] = {}
    stream = stream_bounded(
        items, func, concurrency=concurrency, fail_fast=fail_fast, progress=progress
    )
    async with stream:
        async for index, outcome in stream:
            outcomes[index] = outcome
    return BatchResult(tuple(outcomes[i] for i in range(len(outcomes))))


# -- the client layers --------------------------------------------------------------------


def tool_caller(
    client: AsyncMCPClient,
    *,
    timeout: TimeoutLike,
    raise_on_error: bool,
    idempotent: bool,
    retry: RetryPolicy | bool | None,
) -> Callable[[CallLike], Awaitable[CallToolResult]]:
    """``call(item)`` making one :meth:`AsyncMCPClient.call_tool` of a batch item."""

    async def call(item: CallLike) -> CallToolResult:
        tool_call = ToolCall.coerce(item)
        return await client.call_tool(
            tool_call.name,
            tool_call.arguments,
            timeout=tool_call.timeout if tool_call.timeout is not None else timeout,
            meta=tool_call.meta,
            raise_on_error=raise_on_error,
            idempotent=tool_call.idempotent if tool_call.idempotent is not None else idempotent,
            retry=retry,
        )

    return call


async def send_requests(
    client: AsyncMCPClient,
    requests: Iterable[tuple[str, Any]] | AsyncIterable[tuple[str, Any]],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    fail_fast: bool = False,
    progress: ProgressFn | None = None,
    timeout: TimeoutLike = None,
    headers: Mapping[str, str] | None = None,
    retry: RetryPolicy | bool | None = None,
) -> BatchResult[Any]:
    """POST many ``(endpoint, data)`` pairs; see :meth:`AsyncMCPClient.send_requests`."""

    async def send(item: tuple[str, Any]) -> Any:
        if not isinstance(item, tuple) or len(item) != 2:
            raise ConfigError(f"a request must be an (endpoint, data) pair, got {item!r}")
        endpoint, data = item
        return await client.send_request(
            endpoint, data, headers=headers, timeout=timeout, retry=retry
        )

    return await gather_bounded(
        requests, send, concurrency=concurrency, fail_fast=fail_fast, progress=progress
    )
