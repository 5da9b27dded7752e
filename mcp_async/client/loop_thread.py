"""The blocking client's event loop: one loop running in a daemon thread, and the
hand-over of a coroutine from a calling thread to it (see :mod:`.blocking`)."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from .._exceptions import ClientStateError, SyncInEventLoopError

__all__ = [
    "IN_LOOP_MESSAGE", "LoopThread", "SmallReadLoop", "check_no_running_loop", "new_loop",
]

_T = TypeVar("_T")

IN_LOOP_MESSAGE = (
    "mcp_async.sync.MCPClient.{what} was called while an event loop is running in this "
    "thread; blocking here would freeze the loop. In async code use "
    "mcp_async.AsyncMCPClient and 'await client.{what}(...)' instead"
)
# Opening has a form of its own in async code (docs/sync.md shows both clients).
_IN_LOOP_OPEN_MESSAGE = (
    "mcp_async.sync.MCPClient was opened while an event loop is running in this thread; "
    "blocking here would freeze the loop. In async code use 'async with "
    "mcp_async.AsyncMCPClient(...) as client:' (or 'await client.open()' and, when done, "
    "'await client.aclose()'; see docs/sync.md) instead"
)


def check_no_running_loop(what: str) -> None:
    """Raise :class:`~mcp_async.SyncInEventLoopError` if an event loop runs in this
    thread (blocking there would freeze it); ``what`` names the call."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    if what == "open":
        raise SyncInEventLoopError(_IN_LOOP_OPEN_MESSAGE)
    raise SyncInEventLoopError(IN_LOOP_MESSAGE.format(what=what))


#: Bytes a socket or pipe read of the loop thread asks for (asyncio's default: 256 KiB).
_READ_SIZE = 64 * 1024


class SmallReadLoop(asyncio.SelectorEventLoop):
    """The default POSIX event loop, whose sockets and pipes read 64 KiB at a time.

    asyncio reads into a new bytes object of 256 KiB and shrinks it to what came. Made
    in a thread other than the main one, that buffer comes from the thread's own malloc
    arena, which hands the freed tail back to the kernel, so the next read faults it in
    again: 50-160 µs of CPU per blocking call on the benchmark machine
    (``benchmarks/sync_facade.py``, ``docs/performance.md``). A 64 KiB buffer stays
    under malloc's trim threshold; a larger reply takes more reads.
    """

    def _make_socket_transport(self, *args: Any, **kwargs: Any) -> Any:
        make: Any = super()._make_socket_transport  # type: ignore[misc]
        return _small_reads(make(*args, **kwargs))

    def _make_read_pipe_transport(self, *args: Any, **kwargs: Any) -> Any:
        make: Any = super()._make_read_pipe_transport  # type: ignore[misc]
        return _small_reads(make(*args, **kwargs))


def _small_reads(transport: Any) -> Any:
    transport.max_size = _READ_SIZE
    return transport


def new_loop() -> asyncio.AbstractEventLoop:
    """A loop for the client's thread: asyncio's default one reading 64 KiB at a time,
    or the loop of the policy the application installed (uvloop, Windows)."""
    loop = asyncio.new_event_loop()
    if sys.platform == "win32" or type(loop) is not asyncio.SelectorEventLoop:
        return loop
    loop.close()
    return SmallReadLoop()


class LoopThread:
    """One event loop running forever in a daemon thread until :meth:`stop`."""

    def __init__(self) -> None:
        self.loop = new_loop()
        #: Set in the loop thread once the client closes: late calls are refused.
        self.stopping = False
        #: The tasks of calls running now (to cancel them on close).
        self.calls: set[asyncio.Task[Any]] = set()
        #: Calls whose threads wait for them, and whether the loop is closed (``guard``).
        self.waiting: set[_Call] = set()
        self.closed = False
        self.guard = threading.Lock()
        ready = threading.Event()
        self.thread = threading.Thread(
            target=self._run, args=(ready,), name="mcp-async-sync", daemon=True
        )
        self.thread.start()
        ready.wait()

    def _run(self, ready: threading.Event) -> None:
        loop = self.loop
        asyncio.set_event_loop(loop)
        loop.call_soon(ready.set)
        try:
            loop.run_forever()
            self.stopping = True
            # Whatever is still running (a call abandoned by its thread) is cancelled.
            tasks = asyncio.all_tasks(loop)
            for task in tasks:
                task.cancel()
            if tasks:
                loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
        finally:
            asyncio.set_event_loop(None)
            loop.close()
            self._release_stranded()

    def _release_stranded(self) -> None:
        """Fail the calls handed over too late to run: the loop closed before it could
        start them, so nothing else would ever wake their threads."""
        with self.guard:
            self.closed = True
            stranded = [c for c in self.waiting if c.task is None and c.error is None]
        for call in stranded:
            call.coro.close()
            call.error = ClientStateError("client is closed")
            call.done.release()

    def call(self, coro: Coroutine[Any, Any, _T]) -> _T:
        """Run ``coro`` as a task of the loop and block until it is done.

        A latch (one lock) and one ``call_soon_threadsafe`` per call: cheaper than
        ``asyncio.run_coroutine_threadsafe`` and its ``concurrent.futures.Future``.
        """
        call = _Call(self, coro)
        with self.guard:
            if self.closed:
                coro.close()
                raise ClientStateError("client is closed")
            self.waiting.add(call)
        try:
            try:
                self.loop.call_soon_threadsafe(call.start)
            except RuntimeError:  # the loop closed since the check
                coro.close()
                raise ClientStateError("client is closed") from None
            # (No timeout: on this machine a timed wait costs 8 µs more per call, and
            # every call is released, by its task or by _release_stranded.)
            call.done.acquire()
        except BaseException as exc:
            # KeyboardInterrupt in the waiting thread: cancel the call in the loop,
            # which tells the server (notifications/cancelled).
            if not isinstance(exc, ClientStateError):
                with contextlib.suppress(RuntimeError):
                    self.loop.call_soon_threadsafe(call.cancel)
            raise
        finally:
            with self.guard:
                self.waiting.discard(call)
        result: _T = call.result()
        return result

    def stop(self, join: bool = True) -> None:
        """Stop the loop (its calls still running are cancelled); with ``join``, wait
        for the thread to end (unless called from it)."""
        if not self.loop.is_closed():
            # The loop may have closed between the check and the call.
            with contextlib.suppress(RuntimeError):
                self.loop.call_soon_threadsafe(self.loop.stop)
        if join and threading.current_thread() is not self.thread:
            self.thread.join()


class _Call:
    """One coroutine handed to the loop thread, and the latch its caller waits on."""

    __slots__ = ("coro", "done", "error", "runner", "task")

    def __init__(self, runner: LoopThread, coro: Coroutine[Any, Any, Any]) -> None:
        self.runner = runner
        self.coro = coro
        self.done = threading.Lock()
        self.done.acquire()
        self.task: asyncio.Task[Any] | None = None
        self.error: BaseException | None = None

    def start(self) -> None:  # in the loop thread
        if self.runner.stopping or self.error is not None:
            self.coro.close()
            if self.error is None:
                self.error = ClientStateError("client is closed")
            self.done.release()
            return
        self.task = self.runner.loop.create_task(self.coro)
        self.runner.calls.add(self.task)
        self.task.add_done_callback(self._finish)

    def _finish(self, task: asyncio.Task[Any]) -> None:
        self.runner.calls.discard(task)
        self.done.release()

    def cancel(self) -> None:  # in the loop thread
        if self.task is not None:
            self.task.cancel()
        else:
            self.error = asyncio.CancelledError()

    def result(self) -> Any:
        if self.error is not None:
            raise self.error
        assert self.task is not None
        if self.task.cancelled() and self.runner.stopping:
            raise ClientStateError("the client was closed while this call was running")
        return self.task.result()
