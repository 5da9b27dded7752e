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
import os
import threading
import weakref
from collections.abc import AsyncIterable, Coroutine, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from .._config import Timeout, TimeoutLike
from .._exceptions import ClientStateError, ConfigError, SyncInEventLoopError
from ..protocol.models import CallToolResult, Implementation, ServerCapabilities
from ..session.portable import SessionState
from .async_client import AsyncMCPClient
from .blocking_methods import BlockingMethods
from .loop_thread import IN_LOOP_MESSAGE, LoopThread, check_no_running_loop
from .sync_handles import SyncListening, SyncOutcomeStream, SyncResponseCache, SyncTaskHandle

if TYPE_CHECKING:
    from ..features.batch import CallLike, OutcomeStream, ProgressOption
    from ..policies.retry import RetryPolicy
    from ..session.dispatch import ProgressCallback
    from ..transports.message import MessageTransport
    from ..transports.stdio import StderrTarget

__all__ = ["MCPClient", "SyncInEventLoopError", "SyncOutcomeStream", "SyncResponseCache"]

_T = TypeVar("_T")


class MCPClient(BlockingMethods):
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
        self._runner: LoopThread | None = None
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
        check_no_running_loop("open")
        with self._lock:
            if self._closed:
                raise ClientStateError("client is closed; create a new MCPClient")
            if self._runner is not None:
                raise ClientStateError("client is already open; enter it only once")
            runner = LoopThread()
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
        check_no_running_loop("close")
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

    async def _shutdown(self, runner: LoopThread) -> None:
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
        raise SyncInEventLoopError(IN_LOOP_MESSAGE.format(what=what))

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


    # -- the methods that return a blocking handle ------------------------------------
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

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open" if self._runner is not None else "new"
        target = self._aclient.url or self._aclient.transport_kind
        return f"<MCPClient {target} {state}>"
