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

``progress=`` takes a ``progress(done, total)`` function, or ``True`` for a ready progress
bar (:class:`ProgressBar`): ``tqdm`` (its ``tqdm.auto`` form, a widget in a notebook and
text in a terminal) or ``rich``, whichever is installed
(``pip install 'mcp-async[progress]'`` installs tqdm); ``"tqdm"`` or ``"rich"`` picks one.
"""

from __future__ import annotations

import asyncio
import importlib.util
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
from typing import (
    TYPE_CHECKING,
    Any,
    Generic,
    Literal,
    NoReturn,
    Protocol,
    TypeAlias,
    TypeVar,
    overload,
)

from .._config import TimeoutLike
from .._exceptions import BatchError, ConfigError

if TYPE_CHECKING:
    from ..policies.retry import RetryPolicy
    from ..protocol.models import CallToolResult

__all__ = [
    "AnyOutcome",
    "BatchError",
    "BatchResult",
    "CallLike",
    "Failure",
    "Outcome",
    "OutcomeStream",
    "ProgressBar",
    "ProgressFn",
    "ProgressOption",
    "RequestSending",
    "Success",
    "ToolCall",
    "ToolCalling",
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

#: What ``progress=`` accepts: a :data:`ProgressFn`; ``True`` for a :class:`ProgressBar`
#: drawn by tqdm or rich, whichever is installed (tqdm first); ``"tqdm"`` or ``"rich"``
#: for that one; ``None`` or ``False`` for none.
ProgressOption: TypeAlias = ProgressFn | bool | Literal["tqdm", "rich"] | None

_BAR_KINDS = ("tqdm", "rich")

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


class ProgressBar:
    """A ready progress bar for a batch (``progress=True``): one step per finished call,
    the failures so far beside it, closed when the batch ends (also when it fails or is
    left early with ``async with``).

    ``kind`` is ``"tqdm"`` (``tqdm.auto``: a widget in a Jupyter notebook, text on
    stderr in a terminal) or ``"rich"`` (a live display, in a terminal or a notebook).
    ``total`` is ``None`` for an input without a length (the bar counts without an end).
    Made by the batch methods; :meth:`resolve` turns a ``progress=`` option into one.
    """

    def __init__(self, kind: str, total: int | None, label: str = "calls") -> None:
        self.kind = kind
        self.total = total
        self._failed = 0
        if kind == "tqdm":
            from tqdm.auto import tqdm

            self._bar: Any = tqdm(total=total, desc=label, unit="call", dynamic_ncols=True)
        else:
            from rich.progress import MofNCompleteColumn, Progress

            self._bar = Progress(*Progress.get_default_columns(), MofNCompleteColumn())
            self._task = self._bar.add_task(label, total=total)
            self._label = label
            self._bar.start()
        self._closed = False

    @staticmethod
    def check(kind: object) -> str:
        """The bar library to use for ``progress=kind`` (``True``, ``"tqdm"`` or
        ``"rich"``); :class:`ConfigError` naming what to install when it is missing."""
        wanted = _BAR_KINDS if kind is True else (str(kind),)
        if kind is not True and kind not in _BAR_KINDS:
            raise ConfigError(
                f"progress must be a progress(done, total) function, True, 'tqdm', "
                f"'rich' or None, got {kind!r}"
            )
        for name in wanted:
            if importlib.util.find_spec(name) is not None:
                return name
        needed = "tqdm or rich" if kind is True else str(kind)
        raise ConfigError(
            f"progress={kind!r} draws a progress bar with {needed}, which is not installed: "
            f"pip install 'mcp-async[progress]' (tqdm) or pip install rich"
        )

    def update(self, done: int, failed: int) -> None:
        """Show ``done`` finished calls, ``failed`` of them failures."""
        if self._closed:
            return
        if self.kind == "tqdm":
            if failed != self._failed:
                self._bar.set_postfix(failed=failed, refresh=False)
            self._bar.update(done - self._bar.n)
        else:
            description = f"{self._label} ({failed} failed)" if failed else self._label
            self._bar.update(self._task, completed=done, description=description)
        self._failed = failed

    def close(self) -> None:
        """End the display (idempotent)."""
        if self._closed:
            return
        self._closed = True
        if self.kind == "tqdm":
            self._bar.close()
        else:
            self._bar.stop()


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
        progress: ProgressOption = None,
    ) -> None:
        self._bar_kind: str | None = None
        self._progress: ProgressFn | None = None
        if progress is True or isinstance(progress, str):
            self._bar_kind = ProgressBar.check(progress)
        elif progress is not None and progress is not False:
            if not callable(progress):
                ProgressBar.check(progress)  # raises, naming what is accepted
            self._progress = progress
        self._gen = _window(items, func, _check_concurrency(concurrency))
        self._fail_fast = fail_fast
        self._total = _total(items)
        self._done = 0
        self._failed = 0
        #: The progress bar of ``progress=True``, from the first outcome on.
        self.bar: ProgressBar | None = None

    def __aiter__(self) -> OutcomeStream[R]:
        return self

    async def __anext__(self) -> tuple[int, Success[R] | Failure[R]]:
        if self._bar_kind is not None and self.bar is None:
            self.bar = ProgressBar(self._bar_kind, self._total)
        try:
            outcome = await anext(self._gen)
        except StopAsyncIteration:
            self._close_bar()
            raise
        except BaseException:
            await self.aclose()
            raise
        self._done += 1
        if outcome.error is not None:
            self._failed += 1
        if self.bar is not None:
            self.bar.update(self._done, self._failed)
        if self._fail_fast and outcome.error is not None:
            await self.aclose()
            raise BatchError(outcome.index, outcome.error, done=self._done) from outcome.error
        await _report(self._progress, self._done, self._total)
        return outcome.index, outcome

    async def aclose(self) -> None:
        """Cancel the calls still running and stop (and close the progress bar)."""
        try:
            await self._gen.aclose()
        finally:
            self._close_bar()

    def _close_bar(self) -> None:
        if self.bar is not None:
            self.bar.close()

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
    progress: ProgressOption = None,
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
    progress: ProgressOption = None,
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


class ToolCalling(Protocol):
    """What :func:`tool_caller` needs of a client (an :class:`~mcp_async.AsyncMCPClient`)."""

    async def call_tool(
        self,
        name: str,
        arguments: Mapping[str, Any] | None = None,
        *,
        timeout: TimeoutLike = None,
        meta: Mapping[str, Any] | None = None,
        raise_on_error: bool = False,
        idempotent: bool = False,
        retry: RetryPolicy | bool | None = None,
    ) -> CallToolResult:
        """Call one tool (see :meth:`AsyncMCPClient.call_tool
        <mcp_async.AsyncMCPClient.call_tool>`)."""


class RequestSending(Protocol):
    """What :func:`send_requests` needs of a client (an :class:`~mcp_async.AsyncMCPClient`)."""

    async def send_request(
        self,
        endpoint: str,
        data: Any,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: TimeoutLike = None,
        retry: RetryPolicy | bool | None = None,
    ) -> Any:
        """POST one JSON body (see :meth:`AsyncMCPClient.send_request
        <mcp_async.AsyncMCPClient.send_request>`)."""


def tool_caller(
    client: ToolCalling,
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
    client: RequestSending,
    requests: Iterable[tuple[str, Any]] | AsyncIterable[tuple[str, Any]],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    fail_fast: bool = False,
    progress: ProgressOption = None,
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
