# Methods derived with @_blocking have a docstring for a body (see _blocking).
# mypy: disable-error-code="empty-body"
"""A blocking MCP client for scripts and synchronous web frameworks (docs/sync.md).

:class:`MCPClient` has the methods, results and errors of
:class:`~mcp_async.AsyncMCPClient`, without ``await``::

    from mcp_async.sync import MCPClient

    with MCPClient("http://127.0.0.1:8000/mcp") as client:
        print([tool.name for tool in client.list_tools()])
        print(client.call_tool("add", {"a": 1, "b": 2}).structured_content)

Each client runs one private event loop in a background thread (started on
:meth:`~MCPClient.open` or ``with``, stopped and joined by :meth:`~MCPClient.close`);
every call is handed to that loop and the calling thread waits for its result. The client
is thread-safe: any number of threads may share one client, and their calls run
concurrently over one connection pool and one MCP session, as tasks of an
:class:`~mcp_async.AsyncMCPClient` do.

Callbacks given to the client (``progress=``, ``sampling_handler=``,
``logging_handler=``, ...) run in the client's loop thread: they must not block for
long, and must not call the blocking client themselves (that raises
:class:`~mcp_async.SyncInEventLoopError`, as does any call made while an event loop
runs in the calling thread: in ``async`` code, use :class:`~mcp_async.AsyncMCPClient`).

Pressing Ctrl-C (or any exception raised in the waiting thread) cancels the call in
flight, which sends the server ``notifications/cancelled`` as on the async client.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import sys
import threading
import weakref
from collections.abc import (
    AsyncIterable,
    Awaitable,
    Callable,
    Coroutine,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast, overload

from .._config import Timeout, TimeoutLike
from .._exceptions import ClientStateError, ConfigError, SyncInEventLoopError
from ..protocol.models import (
    CallToolResult,
    Completion,
    DiscoverResult,
    GetPromptResult,
    Implementation,
    InitializeResult,
    InputRequiredResult,
    ListPromptsPage,
    ListResourcesPage,
    ListResourceTemplatesPage,
    ListToolsPage,
    Prompt,
    ReadResourceResult,
    Resource,
    ResourceTemplate,
    ServerCapabilities,
    Tool,
)
from ..session.portable import SessionState
from .async_client import AsyncMCPClient

if TYPE_CHECKING:
    from ..features.batch import (
        BatchResult,
        CallLike,
        Failure,
        OutcomeStream,
        ProgressOption,
        Success,
    )
    from ..features.cache import CacheMode, ResponseCache
    from ..features.listen import ListenEvent, ListenFilter, Listening
    from ..features.tasks import Task, TaskHandle
    from ..policies.retry import RetryPolicy
    from ..session.dispatch import ProgressCallback
    from ..transports.message import MessageTransport
    from ..transports.stdio import StderrTarget

__all__ = ["MCPClient", "SyncInEventLoopError", "SyncOutcomeStream", "SyncResponseCache"]

_T = TypeVar("_T")
_F = TypeVar("_F", bound=Callable[..., Any])

_IN_LOOP_MESSAGE = (
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


def _check_no_running_loop(what: str) -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    if what == "open":
        raise SyncInEventLoopError(_IN_LOOP_OPEN_MESSAGE)
    raise SyncInEventLoopError(_IN_LOOP_MESSAGE.format(what=what))


#: Bytes a socket or pipe read of the loop thread asks for (asyncio's default: 256 KiB).
_READ_SIZE = 64 * 1024


class _SmallReadLoop(asyncio.SelectorEventLoop):
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


def _new_loop() -> asyncio.AbstractEventLoop:
    """A loop for the client's thread: asyncio's default one reading 64 KiB at a time,
    or the loop of the policy the application installed (uvloop, Windows)."""
    loop = asyncio.new_event_loop()
    if sys.platform == "win32" or type(loop) is not asyncio.SelectorEventLoop:
        return loop
    loop.close()
    return _SmallReadLoop()


class _LoopThread:
    """One event loop running forever in a daemon thread until :meth:`stop`."""

    def __init__(self) -> None:
        self.loop = _new_loop()
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
        if not self.loop.is_closed():
            # The loop may have closed between the check and the call.
            with contextlib.suppress(RuntimeError):
                self.loop.call_soon_threadsafe(self.loop.stop)
        if join and threading.current_thread() is not self.thread:
            self.thread.join()


class _Call:
    """One coroutine handed to the loop thread, and the latch its caller waits on."""

    __slots__ = ("coro", "done", "error", "runner", "task")

    def __init__(self, runner: _LoopThread, coro: Coroutine[Any, Any, Any]) -> None:
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


def _blocking(stub: _F) -> _F:
    """The blocking form of the :class:`~mcp_async.AsyncMCPClient` coroutine method of
    the same name: ``stub`` gives the signature and the docstring (its body is not run),
    and every call runs the async method with the same arguments on the client's loop.
    Deriving the body means no argument can be accepted here and then not passed on."""
    name = stub.__name__

    @functools.wraps(stub)
    def call(self: MCPClient, /, *args: Any, **kwargs: Any) -> Any:
        return self.run(getattr(self._aclient, name)(*args, **kwargs), what=name)

    return cast(_F, call)


class MCPClient:
    """A thread-safe, blocking MCP client (see the module docstring).

    ``MCPClient(url, **options)`` takes the arguments of
    :class:`~mcp_async.AsyncMCPClient` (except ``session=``: an aiohttp session belongs
    to its own event loop), or an :class:`~mcp_async.AsyncMCPClient` not opened yet
    (made without ``session=``) to wrap; :meth:`stdio` starts a local server. Use it as a
    context manager, or call :meth:`open` and :meth:`close`::

        client = MCPClient(url).open()
        try:
            client.call_tool("echo", {"text": "hi"})
        finally:
            client.close()

    :attr:`aclient` is the underlying :class:`~mcp_async.AsyncMCPClient`; it lives in
    the client's loop thread.
    """

    def __init__(
        self, url: str | MessageTransport | AsyncMCPClient, **options: Any
    ) -> None:
        if options.get("session") is not None:
            raise ConfigError(
                "session= is not supported by the blocking client: an aiohttp session "
                "belongs to the event loop that created it"
            )
        if isinstance(url, AsyncMCPClient):
            if options:
                raise ConfigError("options apply to a URL or transport, not to a client")
            aclient = url
        else:
            aclient = AsyncMCPClient(url, **options)
        self._aclient = aclient
        self._runner: _LoopThread | None = None
        self._lock = threading.Lock()
        self._closed = False
        self._finalizer: weakref.finalize[Any, Any] | None = None

    @classmethod
    def stdio(
        cls,
        command: str,
        args: Sequence[str] = (),
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        inherit_env: bool = False,
        stderr: StderrTarget = None,
        restart: bool = False,
        shutdown_grace: float = 2.0,
        **client_options: Any,
    ) -> MCPClient:
        """A blocking client for a local stdio server; see :meth:`AsyncMCPClient.stdio`."""
        aclient = AsyncMCPClient.stdio(
            command, args, env=env, cwd=cwd, inherit_env=inherit_env, stderr=stderr,
            restart=restart, shutdown_grace=shutdown_grace, **client_options,
        )
        return cls(aclient)

    @classmethod
    def resume(
        cls,
        url: str,
        state: SessionState | Mapping[str, Any] | str | bytes,
        *,
        keep_open: bool = True,
        **options: Any,
    ) -> MCPClient:
        """A blocking client that continues an exported session without a new handshake;
        see :meth:`AsyncMCPClient.resume`."""
        if options.get("session") is not None:
            raise ConfigError(
                "session= is not supported by the blocking client: an aiohttp session "
                "belongs to the event loop that created it"
            )
        return cls(AsyncMCPClient.resume(url, state, keep_open=keep_open, **options))

    def export_session(self, *, keep_open: bool = True) -> SessionState:
        """The session as plain JSON-ready data; see :meth:`AsyncMCPClient.export_session`."""

        async def export() -> SessionState:
            return self._aclient.export_session(keep_open=keep_open)

        result: SessionState = self.run(export(), what="export_session")
        return result

    # -- lifecycle ---------------------------------------------------------------------
    @property
    def aclient(self) -> AsyncMCPClient:
        """The :class:`~mcp_async.AsyncMCPClient` behind this client (it lives in the
        client's loop thread: use it only from coroutines run there)."""
        return self._aclient

    def open(self) -> MCPClient:
        """Start the loop thread and open the client (handshake too if ``initialize="eager"``).

        Returns the client, so ``client = MCPClient(url).open()`` works.
        """
        _check_no_running_loop("open")
        with self._lock:
            if self._closed:
                raise ClientStateError("client is closed; create a new MCPClient")
            if self._runner is not None:
                raise ClientStateError("client is already open; enter it only once")
            runner = _LoopThread()
            try:
                runner.call(self._aclient.open())
            except BaseException:
                self._closed = True
                try:
                    runner.call(self._aclient.aclose())
                finally:
                    runner.stop()
                raise
            self._runner = runner
            # A client dropped without close() must not leave its thread running.
            self._finalizer = weakref.finalize(self, runner.stop, False)
        return self

    def close(self) -> None:
        """Close the client (end the MCP session), stop its loop and join its thread.

        Idempotent. Calls still running in other threads are cancelled: they raise
        :class:`~mcp_async.ClientStateError`.
        """
        _check_no_running_loop("close")
        with self._lock:
            runner, self._runner = self._runner, None
            self._closed = True
            if self._finalizer is not None:
                self._finalizer.detach()
        if runner is None:
            return
        try:
            runner.call(self._shutdown(runner))
        finally:
            runner.stop()

    def __enter__(self) -> MCPClient:
        return self.open()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    async def _shutdown(self, runner: _LoopThread) -> None:
        """In the loop: refuse new calls, cancel those still running, close the client."""
        runner.stopping = True
        current = asyncio.current_task()
        running = [task for task in runner.calls if task is not current]
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        await self._aclient.aclose()

    @property
    def closed(self) -> bool:
        """True once :meth:`close` ran."""
        return self._closed

    def run(self, coro: Coroutine[Any, Any, _T], *, what: str = "run") -> _T:
        """Run ``coro`` on the client's loop thread and wait for its result: for what
        the blocking client does not wrap, such as the session API
        (``client.run(session_coroutine())`` with ``client.aclient.session`` used inside
        the coroutine). ``what`` names the call in errors.

        Raises :class:`~mcp_async.ClientStateError` unless the client is open, and
        :class:`~mcp_async.SyncInEventLoopError` when called from a running event loop
        (``coro`` is closed, not run, then)."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            runner = self._runner
            if runner is not None:
                return runner.call(coro)
            coro.close()
            raise ClientStateError(
                "client is closed" if self._closed
                else "client is not open; use 'with MCPClient(...) as client' or .open()"
            ) from None
        coro.close()
        raise SyncInEventLoopError(_IN_LOOP_MESSAGE.format(what=what))

    def _get(self, name: str) -> Any:
        async def read() -> Any:
            return getattr(self._aclient, name)

        return self.run(read(), what=name)

    # -- facts about the server and the session -----------------------------------------
    @property
    def url(self) -> str | None:
        """The server's URL (``None`` for a transport object such as stdio)."""
        return self._aclient.url

    @property
    def transport_kind(self) -> str:
        """The transport in use; see :attr:`AsyncMCPClient.transport_kind`."""
        return self._aclient.transport_kind

    @property
    def message_transport(self) -> MessageTransport | None:
        """The transport object given instead of a URL; see
        :attr:`AsyncMCPClient.message_transport`."""
        return self._aclient.message_transport

    @property
    def is_open(self) -> bool:
        """True between a successful :meth:`open` and :meth:`close`."""
        return self._runner is not None and not self._closed

    @property
    def server_info(self) -> Implementation:
        """The server's ``serverInfo`` (after the handshake)."""
        result: Implementation = self._get("server_info")
        return result

    @property
    def server_capabilities(self) -> ServerCapabilities:
        """The server's capabilities (after the handshake)."""
        result: ServerCapabilities = self._get("server_capabilities")
        return result

    @property
    def protocol_version(self) -> str:
        """The negotiated protocol version (after the handshake)."""
        result: str = self._get("protocol_version")
        return result

    @property
    def stateless_version(self) -> str | None:
        """The stateless (2026-07-28 or later) version in use; ``None`` in the handshake
        era and before the first exchange."""
        result: str | None = self._get("stateless_version")
        return result

    @property
    def instructions(self) -> str | None:
        """The server's ``instructions`` (after the handshake; may be ``None``)."""
        result: str | None = self._get("instructions")
        return result

    @property
    def listening(self) -> bool:
        """Whether the standalone GET stream for server-initiated messages is open now."""
        result: bool = self._get("listening")
        return result

    @property
    def session_id(self) -> str | None:
        """The ``Mcp-Session-Id`` in use (``None`` if stateless or before the handshake)."""
        result: str | None = self._get("session_id")
        return result

    @property
    def cache(self) -> SyncResponseCache | None:
        """The response cache (``None`` with ``cache=False``), whose methods run in the
        client's loop thread; see :attr:`AsyncMCPClient.cache` and docs/caching.md."""
        cache = self._aclient.cache
        return None if cache is None else SyncResponseCache(self, cache)

    # -- settings the async client keeps as attributes ----------------------------------
    # (Plain reads and writes of one attribute: safe from any thread, as on the async
    # client; the loop thread sees a change from its next use of the setting.)
    @property
    def timeout(self) -> Timeout:
        """The default :class:`~mcp_async.Timeout` of every request (settable)."""
        return self._aclient.timeout

    @timeout.setter
    def timeout(self, value: Timeout) -> None:
        self._aclient.timeout = value

    @property
    def validate_output(self) -> bool:
        """Whether ``structuredContent`` is checked against tools' ``outputSchema``
        (settable; see :class:`~mcp_async.AsyncMCPClient`)."""
        return self._aclient.validate_output

    @validate_output.setter
    def validate_output(self, value: bool) -> None:
        self._aclient.validate_output = value

    @property
    def trust_idempotent_hint(self) -> bool:
        """Whether tools' ``idempotentHint``/``readOnlyHint`` let the retry policy re-send
        a call (settable; see :class:`~mcp_async.AsyncMCPClient`)."""
        return self._aclient.trust_idempotent_hint

    @trust_idempotent_hint.setter
    def trust_idempotent_hint(self, value: bool) -> None:
        self._aclient.trust_idempotent_hint = value

    @property
    def max_list_pages(self) -> int:
        """Most pages a ``list_*`` call walks before raising (settable)."""
        return self._aclient.max_list_pages

    @max_list_pages.setter
    def max_list_pages(self, value: int) -> None:
        self._aclient.max_list_pages = value

    # The methods marked @_blocking are derived: the body is the async method of the same
    # name, called with the same arguments on the client's loop. Only the signature and
    # the docstring are written here (tests/test_sync_parity.py checks that they match
    # AsyncMCPClient's).

    # -- MCP: handshake and escape hatches ----------------------------------------------
    @_blocking
    def initialize(self) -> InitializeResult:
        """Run the MCP handshake (once) and return its result."""

    @_blocking
    def discover(self, *, cache: CacheMode = "use") -> DiscoverResult:
        """``server/discover`` (MCP 2026-07-28); see :meth:`AsyncMCPClient.discover`."""

    @_blocking
    def ping(self, *, timeout: TimeoutLike = None) -> None:
        """Check the server is alive (``ping``)."""

    @_blocking
    def request(
        self,
        method: str,
        params: Mapping[str, Any] | None = None,
        *,
        timeout: TimeoutLike = None,
        headers: Mapping[str, str] | None = None,
        progress: ProgressCallback | None = None,
        idempotent: bool = False,
        reset_timeout_on_progress: bool = False,
        max_total_timeout: float | None = None,
        retry: RetryPolicy | bool | None = None,
    ) -> dict[str, Any]:
        """Send any JSON-RPC request and return its raw ``result``; see
        :meth:`AsyncMCPClient.request`."""

    @_blocking
    def notify(self, method: str, params: Mapping[str, Any] | None = None) -> None:
        """Send any JSON-RPC notification (after the handshake)."""

    def add_notification_handler(
        self, method: str, handler: Callable[[dict[str, Any]], Awaitable[None] | None]
    ) -> None:
        """Also call ``handler(params)`` for every server notification ``method``; it runs
        in the client's loop thread (see :meth:`AsyncMCPClient.add_notification_handler`)."""
        self._aclient.add_notification_handler(method, handler)

    @_blocking
    def notify_roots_changed(self) -> None:
        """Tell the server the roots changed (``notifications/roots/list_changed``)."""

    @_blocking
    def send_request(
        self,
        endpoint: str,
        data: Any,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: TimeoutLike = None,
        retry: RetryPolicy | bool | None = None,
    ) -> Any:
        """POST ``data`` as JSON to ``{url}/{endpoint}``; see
        :meth:`AsyncMCPClient.send_request`."""

    # -- tools -------------------------------------------------------------------------
    @_blocking
    def list_tools_page(
        self, cursor: str | None = None, *, cache: CacheMode = "use"
    ) -> ListToolsPage:
        """One page of ``tools/list``."""

    @_blocking
    def list_tools(
        self, *, max_pages: int | None = None, cache: CacheMode = "use"
    ) -> list[Tool]:
        """All tools, walking every page."""

    @_blocking
    def tool_schemas(self, format: str = "openai") -> list[dict[str, Any]]:
        """The server's tools as plain dicts for a model API; see
        :meth:`AsyncMCPClient.tool_schemas`."""

    @overload
    def call_tool(
        self, name: str, arguments: Mapping[str, Any] | None = None, *,
        timeout: TimeoutLike = None, progress: ProgressCallback | None = None,
        meta: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None,
        raise_on_error: bool = False, validate_output: bool | None = None,
        idempotent: bool = False, reset_timeout_on_progress: bool = False,
        max_total_timeout: float | None = None, retry: RetryPolicy | bool | None = None,
        allow_input_required: Literal[False] = False,
        input_responses: Mapping[str, Any] | None = None, request_state: str | None = None,
    ) -> CallToolResult: ...

    @overload
    def call_tool(
        self, name: str, arguments: Mapping[str, Any] | None = None, *,
        timeout: TimeoutLike = None, progress: ProgressCallback | None = None,
        meta: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None,
        raise_on_error: bool = False, validate_output: bool | None = None,
        idempotent: bool = False, reset_timeout_on_progress: bool = False,
        max_total_timeout: float | None = None, retry: RetryPolicy | bool | None = None,
        allow_input_required: Literal[True],
        input_responses: Mapping[str, Any] | None = None, request_state: str | None = None,
    ) -> CallToolResult | InputRequiredResult: ...

    @_blocking
    def call_tool(
        self,
        name: str,
        arguments: Mapping[str, Any] | None = None,
        *,
        timeout: TimeoutLike = None,
        progress: ProgressCallback | None = None,
        meta: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        raise_on_error: bool = False,
        validate_output: bool | None = None,
        idempotent: bool = False,
        reset_timeout_on_progress: bool = False,
        max_total_timeout: float | None = None,
        retry: RetryPolicy | bool | None = None,
        allow_input_required: bool = False,
        input_responses: Mapping[str, Any] | None = None,
        request_state: str | None = None,
    ) -> CallToolResult | InputRequiredResult:
        """Call a tool and return its result; see :meth:`AsyncMCPClient.call_tool`."""

    def start_task(
        self,
        name: str,
        arguments: Mapping[str, Any] | None = None,
        *,
        ttl: int | None = None,
        timeout: TimeoutLike = None,
        progress: ProgressCallback | None = None,
        meta: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> SyncTaskHandle:
        """Start tool ``name`` as a task; see :meth:`AsyncMCPClient.start_task`."""
        handle = self.run(self._aclient.start_task(
            name, arguments, ttl=ttl, timeout=timeout, progress=progress, meta=meta,
            headers=headers,
        ), what="start_task")
        return SyncTaskHandle(self, handle)

    def listen(
        self,
        *,
        tools: bool = False,
        prompts: bool = False,
        resources: bool = False,
        resource_uris: Sequence[str] = (),
        reconnect: bool = False,
        max_buffered: int = 256,
        ack_timeout: float | None = None,
    ) -> SyncListening:
        """Follow changes on the server: ``with client.listen(tools=True) as events:
        for event in events: ...``; see :meth:`AsyncMCPClient.listen`."""
        listening = self._aclient.listen(
            tools=tools, prompts=prompts, resources=resources, resource_uris=resource_uris,
            reconnect=reconnect, max_buffered=max_buffered, ack_timeout=ack_timeout,
        )
        return SyncListening(self, listening)

    # -- resources ---------------------------------------------------------------------
    @_blocking
    def list_resources_page(
        self, cursor: str | None = None, *, cache: CacheMode = "use"
    ) -> ListResourcesPage:
        """One page of ``resources/list``."""

    @_blocking
    def list_resources(
        self, *, max_pages: int | None = None, cache: CacheMode = "use"
    ) -> list[Resource]:
        """All resources, walking every page."""

    @_blocking
    def list_resource_templates_page(
        self, cursor: str | None = None, *, cache: CacheMode = "use"
    ) -> ListResourceTemplatesPage:
        """One page of ``resources/templates/list``."""

    @_blocking
    def list_resource_templates(
        self, *, max_pages: int | None = None, cache: CacheMode = "use"
    ) -> list[ResourceTemplate]:
        """All resource templates, walking every page."""

    @overload
    def read_resource(
        self, uri: str, *, timeout: TimeoutLike = None,
        allow_input_required: Literal[False] = False,
        input_responses: Mapping[str, Any] | None = None, request_state: str | None = None,
        cache: CacheMode = "use",
    ) -> ReadResourceResult: ...

    @overload
    def read_resource(
        self, uri: str, *, timeout: TimeoutLike = None,
        allow_input_required: Literal[True],
        input_responses: Mapping[str, Any] | None = None, request_state: str | None = None,
        cache: CacheMode = "use",
    ) -> ReadResourceResult | InputRequiredResult: ...

    @_blocking
    def read_resource(
        self,
        uri: str,
        *,
        timeout: TimeoutLike = None,
        allow_input_required: bool = False,
        input_responses: Mapping[str, Any] | None = None,
        request_state: str | None = None,
        cache: CacheMode = "use",
    ) -> ReadResourceResult | InputRequiredResult:
        """Read a resource by URI; input rounds and ``cache`` as in
        :meth:`AsyncMCPClient.read_resource`."""

    @_blocking
    def subscribe_resource(self, uri: str) -> None:
        """Ask for ``notifications/resources/updated`` about ``uri``."""

    @_blocking
    def unsubscribe_resource(self, uri: str) -> None:
        """Stop updates about ``uri``."""

    # -- prompts, completion, logging ---------------------------------------------------
    @_blocking
    def list_prompts_page(
        self, cursor: str | None = None, *, cache: CacheMode = "use"
    ) -> ListPromptsPage:
        """One page of ``prompts/list``."""

    @_blocking
    def list_prompts(
        self, *, max_pages: int | None = None, cache: CacheMode = "use"
    ) -> list[Prompt]:
        """All prompts, walking every page."""

    @overload
    def get_prompt(
        self, name: str, arguments: Mapping[str, str] | None = None, *,
        timeout: TimeoutLike = None, allow_input_required: Literal[False] = False,
        input_responses: Mapping[str, Any] | None = None, request_state: str | None = None,
    ) -> GetPromptResult: ...

    @overload
    def get_prompt(
        self, name: str, arguments: Mapping[str, str] | None = None, *,
        timeout: TimeoutLike = None, allow_input_required: Literal[True],
        input_responses: Mapping[str, Any] | None = None, request_state: str | None = None,
    ) -> GetPromptResult | InputRequiredResult: ...

    @_blocking
    def get_prompt(
        self,
        name: str,
        arguments: Mapping[str, str] | None = None,
        *,
        timeout: TimeoutLike = None,
        allow_input_required: bool = False,
        input_responses: Mapping[str, Any] | None = None,
        request_state: str | None = None,
    ) -> GetPromptResult | InputRequiredResult:
        """Render a prompt; argument values must be strings (input rounds as in
        :meth:`AsyncMCPClient.get_prompt`)."""

    @_blocking
    def complete(
        self,
        ref: Mapping[str, Any],
        argument: Mapping[str, str] | tuple[str, str],
        context: Mapping[str, str] | None = None,
    ) -> Completion:
        """Ask for completions; see :meth:`AsyncMCPClient.complete`."""

    @_blocking
    def set_logging_level(self, level: str) -> None:
        """Ask the server to send log messages at ``level`` and above."""

    # -- bounded fan-out ---------------------------------------------------------------
    @_blocking
    def call_tools(
        self,
        calls: Iterable[CallLike] | AsyncIterable[CallLike],
        *,
        concurrency: int = 16,
        fail_fast: bool = False,
        progress: ProgressOption = None,
        timeout: TimeoutLike = None,
        raise_on_error: bool = False,
        idempotent: bool = False,
        retry: RetryPolicy | bool | None = None,
    ) -> BatchResult[CallToolResult]:
        """Call many tools, at most ``concurrency`` at once, on the client's loop; one
        outcome per call, in order (see :meth:`AsyncMCPClient.call_tools`). ``calls`` is
        read in the loop thread, and ``progress(done, total)`` runs there."""

    def stream_calls(
        self,
        calls: Iterable[CallLike] | AsyncIterable[CallLike],
        *,
        concurrency: int = 16,
        fail_fast: bool = False,
        progress: ProgressOption = None,
        timeout: TimeoutLike = None,
        raise_on_error: bool = False,
        idempotent: bool = False,
        retry: RetryPolicy | bool | None = None,
    ) -> SyncOutcomeStream[CallToolResult]:
        """Like :meth:`call_tools`, but ``for index, outcome in ...`` as calls finish.

        Use ``with client.stream_calls(...) as stream:`` to cancel what still runs when
        the loop is left early.
        """
        aclient = self._aclient

        async def make() -> OutcomeStream[CallToolResult]:
            return aclient.stream_calls(
                calls, concurrency=concurrency, fail_fast=fail_fast, progress=progress,
                timeout=timeout, raise_on_error=raise_on_error, idempotent=idempotent,
                retry=retry,
            )

        return SyncOutcomeStream(self, self.run(make(), what="stream_calls"))

    @_blocking
    def send_requests(
        self,
        requests: Iterable[tuple[str, Any]] | AsyncIterable[tuple[str, Any]],
        *,
        concurrency: int = 16,
        fail_fast: bool = False,
        progress: ProgressOption = None,
        timeout: TimeoutLike = None,
        headers: Mapping[str, str] | None = None,
        retry: RetryPolicy | bool | None = None,
    ) -> BatchResult[Any]:
        """:meth:`send_request` for many ``(endpoint, data)`` pairs, ``concurrency`` at once."""

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open" if self._runner is not None else "new"
        target = self._aclient.url or self._aclient.transport_kind
        return f"<MCPClient {target} {state}>"


class SyncOutcomeStream(Iterator[tuple[int, "Success[_T] | Failure[_T]"]]):
    """``for index, outcome in stream``: the blocking face of
    :class:`~mcp_async.OutcomeStream`, outcomes in the order calls finish."""

    def __init__(self, client: MCPClient, stream: OutcomeStream[_T]) -> None:
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

    def __init__(self, client: MCPClient, listening: Listening) -> None:
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

    def __init__(self, client: MCPClient, cache: ResponseCache) -> None:
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

    def __init__(self, client: MCPClient, handle: TaskHandle) -> None:
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
