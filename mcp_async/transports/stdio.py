"""The stdio transport: a local server process spoken to over its stdin and stdout.

The server is started with :meth:`asyncio.loop.subprocess_exec` (never a shell), in a
process group of its own so that everything it starts (``npx`` children) can be
signalled together. Messages are newline-delimited JSON-RPC.

* stdout carries only MCP messages. A response is completed in the pipe callback
  itself; server requests and notifications are handed on in order by one task, and
  reading pauses while too many wait for it. A line that is not JSON-RPC (a banner, a stray
  print) is logged and skipped, and a line above ``max_line_size`` fails the request it
  answers with :class:`~mcp_async.BodyTooLargeError` without being held in memory.
* stderr belongs to the server: it is read continuously (so the pipe never fills and
  blocks the child) and forwarded line by line to a logger, callable or file; the
  last lines are kept for :class:`~mcp_async.ServerExitedError`.
* The process itself is watched, not only its pipes: a child it started may keep
  stdout open after the server exited, so the exit (once what the server wrote before it
  is read) fails the waiting requests with :class:`~mcp_async.ServerExitedError`.
* Shutdown follows the spec: close stdin, wait, SIGTERM to the group, wait, SIGKILL;
  then whatever is left of the group (children holding the pipes) gets SIGTERM, a wait
  and SIGKILL too, and our ends of the pipes are closed. Every wait is bounded by
  ``shutdown_grace``. It finishes even when the caller is cancelled, and a transport
  garbage-collected while its process runs kills it (with a :class:`ResourceWarning`).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import signal
import struct
import termios
import warnings
import weakref
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from typing import IO, Any

from .._exceptions import (
    BodyTooLargeError,
    ConfigError,
    ProtocolError,
    RequestTimeoutError,
    ServerExitedError,
    ServerSpawnError,
)
from ..protocol import jsonrpc
from ..protocol.jsonrpc import ErrorResponse, Message, Notification, Request, Response
from ..protocol.ndjson import LineDecoder, OversizedLine, guess_id
from .message import Call, MessageTransport, TransportCapabilities
from .wire import WireRules

__all__ = ["SAFE_ENV_VARS", "StderrTarget", "StdioTransport"]

logger = logging.getLogger("mcp_async")

#: The variables a server inherits by default (the spec's safe minimal set).
SAFE_ENV_VARS = ("HOME", "LOGNAME", "PATH", "SHELL", "TERM", "USER")
#: Where the server's stderr goes: a callable taking one line, a logger or a text file.
StderrTarget = Callable[[str], object] | logging.Logger | IO[str] | None

_READ_CHUNK = 1 << 16
# Server messages queued for the engine: reading stdout pauses at the high mark and
# resumes at the low one, so a flood of notifications cannot grow memory without bound.
_BACKLOG_HIGH = 256
_BACKLOG_LOW = 64
_STDERR_LINE_LIMIT = 1 << 16
_GRACE = 2.0  # the default shutdown_grace
_GROUP_POLL = 0.01
# Requests queued for a full stdin are pruned of ended calls once this many (or twice
# the number left after the last pruning) wait.
_PRUNE_FROM = 16  # how often a group's end is checked (a group cannot be waited for)


class StdioTransport(MessageTransport):
    """Starts ``command args...`` and exchanges MCP messages over its stdin and stdout.

    Args:
        command: the program (looked up on ``PATH``, as a shell would).
        args: its arguments.
        env: extra environment variables for the server.
        cwd: the server's working directory.
        inherit_env: pass the whole environment (default: only :data:`SAFE_ENV_VARS`).
        stderr: where stderr lines go (default: the logger ``mcp_async.server.<name>``).
        restart: after the server died, the next call starts a new process (and
            handshake); otherwise it raises :class:`~mcp_async.ServerExitedError`.
        max_line_size: the longest line accepted from the server, in bytes.
        name: the server's name in logs and errors (default: the command's base name).
        stderr_lines_kept: how many stderr lines a ServerExitedError carries.
        shutdown_grace: the bound, in seconds, of each wait while stopping the server:
            after closing stdin (flushing it included), after SIGTERM, after SIGKILL, and
            for the rest of its process group; also how long output still unread when
            the server exits may take to arrive, and how long a notification waits for
            room in stdin while the server does not read it (then it is not sent, and
            its sender gets a typed timeout).
    """

    kind = "stdio"
    #: The server writes to stdout whenever it likes; one process is one session.
    capabilities = TransportCapabilities(server_push=True, probe_timeout_is_legacy=True)

    def __init__(
        self,
        command: str,
        args: Sequence[str] = (),
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        inherit_env: bool = False,
        stderr: StderrTarget = None,
        restart: bool = False,
        max_line_size: int | None = 16 * 1024 * 1024,
        name: str | None = None,
        stderr_lines_kept: int = 20,
        shutdown_grace: float = _GRACE,
    ) -> None:
        if not isinstance(command, str) or not command:
            raise ConfigError(f"command must be a non-empty string, got {command!r}")
        if isinstance(args, str) or not all(isinstance(arg, str) for arg in args):
            raise ConfigError(f"args must be a sequence of strings, got {args!r}")
        if env is not None and not all(
            isinstance(key, str) and isinstance(value, str) for key, value in env.items()
        ):
            raise ConfigError("env must map strings to strings")
        if max_line_size is not None and max_line_size < 1:
            raise ConfigError("max_line_size must be at least 1 (or None)")
        if (not isinstance(shutdown_grace, int | float) or isinstance(shutdown_grace, bool)
                or not 0 < shutdown_grace < float("inf")):
            raise ConfigError(
                f"shutdown_grace must be a positive number of seconds, got {shutdown_grace!r}"
            )
        self.shutdown_grace = float(shutdown_grace)
        self.command = command
        self.args = tuple(args)
        self.cwd = cwd
        self._env = dict(env or {})
        self._inherit_env = inherit_env
        self.name = name or os.path.basename(command)
        self._stderr = _stderr_sink(stderr, self.name)
        self.restart = restart
        self._max_line = max_line_size
        self._tail: deque[str] = deque(maxlen=stderr_lines_kept)
        self._process: asyncio.subprocess.Process | None = None
        self._pipes: _Pipes | None = None
        self._readers: list[asyncio.Task[None]] = []
        self._exited: ServerExitedError | None = None
        # Whether the era was settled with the running process: until then an exit is
        # reported to the caller that is connecting, and only logged at DEBUG.
        self._settled = False
        self._closing = False
        #: stdin's pipe while the server runs (the fast path writes to it directly).
        self._pipe: asyncio.WriteTransport | None = None
        # Requests waiting for room in a full stdin, written in order by one task; one
        # whose call ended meanwhile (timeout, cancellation, close) is never written.
        self._queued: deque[tuple[bytes, asyncio.Future[Any]]] = deque()
        self._prune_at = _PRUNE_FROM
        self._flusher: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        return f"<StdioTransport {' '.join((self.command, *self.args))!r}>"

    @property
    def pid(self) -> int | None:
        """The server's process id while it runs."""
        process = self._process
        return process.pid if process is not None and process.returncode is None else None

    @property
    def exit_error(self) -> ServerExitedError | None:
        """How the last server process ended, once its exit has been seen (``None``
        while it runs and before it starts)."""
        return self._exited

    def exit_watch(self) -> asyncio.Future[None] | None:
        """Done once the running server's output has been read to its end, that is when
        it exited (then :attr:`exit_error` says how); ``None`` when no server runs."""
        readers = self._readers
        return readers[0] if readers and not readers[0].done() else None

    def environment(self) -> dict[str, str]:
        """The environment the server is started with."""
        base = dict(os.environ) if self._inherit_env else {
            key: os.environ[key] for key in SAFE_ENV_VARS if key in os.environ
        }
        base.update(self._env)
        return base

    # -- starting ------------------------------------------------------------------------
    async def prepare(self) -> None:
        """Start the server, unless it runs (or raise how it died, without ``restart``)."""
        if self._process is not None and self._exited is None:
            return
        if self._exited is not None and not self.restart:
            raise self._exited
        await self._stop_process()
        self._exited = None
        self._settled = False
        self._tail.clear()
        self._closing = False
        loop = asyncio.get_running_loop()
        # The readers hold the transport weakly, so that a client dropped without being
        # closed can be collected, and its process killed (see __del__).
        owner = weakref.ref(self)
        try:
            pipes, protocol = await loop.subprocess_exec(
                lambda: _Pipes(owner, self._max_line, self.shutdown_grace, loop),
                self.command, *self.args,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=self.environment(),
                cwd=self.cwd,
                start_new_session=True,
            )
        except FileNotFoundError as exc:
            where = f" (in {os.fspath(self.cwd)!r})" if self.cwd is not None else ""
            raise ServerSpawnError(
                f"cannot start MCP server {self.command!r}{where}: {exc.strerror}: "
                f"{exc.filename or self.command!r}", command=self.command,
            ) from exc
        except PermissionError as exc:
            raise ServerSpawnError(
                f"cannot start MCP server {self.command!r}: not executable ({exc.strerror})",
                command=self.command,
            ) from exc
        except OSError as exc:
            raise ServerSpawnError(
                f"cannot start MCP server {self.command!r}: {exc}", command=self.command
            ) from exc
        process = asyncio.subprocess.Process(pipes, protocol, loop)
        protocol.read_directly()
        self._process = process
        self._pipes = protocol
        stdin = pipes.get_pipe_transport(0)
        assert isinstance(stdin, asyncio.WriteTransport)
        self._pipe = stdin
        self._readers = [asyncio.ensure_future(protocol.drain_backlog(process))]

    # -- reading -------------------------------------------------------------------------
    def _messages(self, line: bytes | OversizedLine) -> tuple[Message, ...] | list[Message]:
        """The messages of one line of stdout; a bad line is logged and gives none."""
        if isinstance(line, OversizedLine):
            self._oversized(line)
            return ()
        try:
            decoded = jsonrpc.decode(line)
        except ProtocolError as exc:
            logger.warning("MCP server %s wrote a line that is not JSON-RPC (skipped): %s: %r",
                           self.name, exc, line[:200])
            return ()
        if type(decoded) is Response:
            return (decoded,)
        kept: list[Message] = []
        for message in decoded if isinstance(decoded, list) else (decoded,):
            if isinstance(message, ErrorResponse) and message.id is None:
                logger.warning("MCP server %s sent an error without id: %s", self.name, message)
            else:
                kept.append(message)
        return kept

    def _oversized(self, line: OversizedLine) -> None:
        request_id = guess_id(line)
        error = BodyTooLargeError(self._max_line or 0, f"line from MCP server {self.name!r}")
        if request_id is None:
            logger.error("MCP server %s wrote a %d-byte line, over the %s-byte limit; dropped",
                         self.name, line.size, self._max_line)
            return
        self.receiver.fail(request_id, error)

    def _stderr_line(self, raw: bytes | OversizedLine) -> None:
        if isinstance(raw, OversizedLine):
            raw = raw.head + b"..."
        line = raw.decode("utf-8", "replace")
        self._tail.append(line)
        try:
            self._stderr(line)
        except Exception:
            logger.exception("the stderr handler of %s failed", self.name)

    async def _server_gone(self, process: asyncio.subprocess.Process, pipes: _Pipes) -> None:
        """The server exited, or ended its stdout; fail what waits, saying how it ended."""
        if self._closing:
            return
        grace = self.shutdown_grace
        if not await pipes.exited_within(grace):  # stdout closed, the process runs on
            await _terminate(process, pipes, grace)
        if self._closing:
            return
        self._pipe = None
        self._exited = ServerExitedError(
            f"MCP server {self.name!r} exited with code {process.returncode}",
            exit_code=process.returncode, stderr_tail=tuple(self._tail),
        )
        logger.log(logging.WARNING if self._settled else logging.DEBUG, "%s", self._exited)
        self.receiver.connection_lost(self._exited)

    def negotiated(self, wire: WireRules) -> None:
        """The era is settled: from now on an exit of the server is logged as a warning."""
        self._settled = True

    # -- writing -------------------------------------------------------------------------
    def send_now(self, request: Request, call: Call) -> bool:
        """Write ``request`` when the pipe is empty (then it cannot need flow control)."""
        pipe = self._pipe
        if pipe is None or pipe.get_write_buffer_size() or pipe.is_closing():
            return False
        pipe.write(jsonrpc.encode_request(request.id, request.method, request.params) + b"\n")
        return True

    async def request(self, request: Request, call: Call) -> None:
        """Write ``request``, or queue it while stdin is full; its response comes on stdout.

        It never waits for room itself, so the call's own timeout (which runs once this
        returns) bounds the wait for a server that stops reading.
        """
        stdin = self._stdin
        if stdin is None or stdin.transport.is_closing():
            await self._write_failed(None)
            return
        body = jsonrpc.encode_request(request.id, request.method, request.params) + b"\n"
        pipe = stdin.transport
        if not self._queued and pipe.get_write_buffer_size() <= pipe.get_write_buffer_limits()[1]:
            stdin.write(body)
            return
        queued = self._queued
        if len(queued) >= self._prune_at:  # forget the calls that ended while queued
            self._queued = queued = deque(item for item in queued if not item[1].done())
            self._prune_at = max(_PRUNE_FROM, 2 * len(queued))
        queued.append((body, call.waiter))
        if self._flusher is None:
            self._flusher = asyncio.ensure_future(self._flush(stdin))

    async def _flush(self, stdin: asyncio.StreamWriter) -> None:
        """Write the queued requests as stdin has room, skipping those whose call ended."""
        try:
            while queued := self._queued:
                try:
                    await stdin.drain()  # (at once while below the high-water mark)
                except (ConnectionError, OSError, RuntimeError):
                    break  # the server is gone: its exit fails the waiting calls
                if stdin.transport.is_closing() or self._stdin is not stdin:
                    break
                body, waiter = queued.popleft()
                if not waiter.done():
                    stdin.write(body)
        finally:
            self._flusher = None
            if self._stdin is not stdin:
                self._queued.clear()

    async def send(self, message: Notification | Response | ErrorResponse) -> None:
        """Write a notification or an answer.

        A notification waits at most ``shutdown_grace`` for room in the pipe (then it is
        not sent, and a typed timeout says so): the engine sends them in the background,
        and one must not hold up closing. An answer waits as long as it takes: that
        slows down a server that floods requests, and closing cancels it.
        """
        wait = self.shutdown_grace if isinstance(message, Notification) else None
        await self._write(jsonrpc.encode(message), wait)

    async def _write(self, body: bytes, wait: float | None = None) -> None:
        """Write ``body`` once the pipe is below its high-water mark.

        Waiting *before* writing bounds what is buffered for a server that stopped
        reading: a request whose call times out while it waits was never buffered.
        """
        stdin = self._stdin
        if stdin is None or stdin.transport.is_closing():
            await self._write_failed(None)
            return
        if stdin.transport.get_write_buffer_size():
            if wait is None:  # a request: its caller's timeout bounds the wait
                await self._drain(stdin)
            else:
                try:
                    await asyncio.wait_for(self._drain(stdin), wait)
                except TimeoutError:
                    raise RequestTimeoutError(
                        f"MCP server {self.name!r} has not read its stdin for {wait}s; "
                        "a notification to it was not sent"
                    ) from None
            stdin = self._stdin
            if stdin is None or stdin.transport.is_closing():
                await self._write_failed(None)
                return
        stdin.write(body + b"\n")

    @property
    def _stdin(self) -> asyncio.StreamWriter | None:
        process = self._process
        if process is None or self._exited is not None:
            return None
        return process.stdin

    async def _drain(self, stdin: asyncio.StreamWriter) -> None:
        """Flow control: wait while the pipe is above its high-water mark."""
        try:
            await stdin.drain()
        except (ConnectionError, OSError, RuntimeError) as exc:
            await self._write_failed(exc)

    async def _write_failed(self, exc: BaseException | None) -> None:
        """Raise how the server ended (waiting briefly for its reader to find out)."""
        if self._exited is None and self._readers:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    asyncio.shield(self._readers[0]), self.shutdown_grace * 2
                )
        if self._exited is not None:
            raise self._exited from exc
        process = self._process
        if process is None:
            raise ServerExitedError(f"MCP server {self.name!r} is not running", exit_code=None)
        raise ServerExitedError(
            f"cannot write to MCP server {self.name!r}" + (f": {exc}" if exc else ""),
            exit_code=process.returncode, stderr_tail=tuple(self._tail),
        ) from exc

    # -- shutdown ------------------------------------------------------------------------
    async def close(self) -> None:
        """Stop the server as the spec says; never leaves a process behind."""
        self._closing = True
        await self._stop_process()

    async def _stop_process(self) -> None:
        process, self._process = self._process, None
        pipes, self._pipes = self._pipes, None
        self._pipe = None
        self._queued.clear()
        flusher, self._flusher = self._flusher, None
        readers, self._readers = self._readers, []
        if flusher is not None:
            readers.append(flusher)
        if process is None or pipes is None:
            return
        stopping = asyncio.ensure_future(
            _shut_down(process, pipes, readers, self.shutdown_grace)
        )
        try:
            await asyncio.shield(stopping)
        except asyncio.CancelledError:
            # The caller cannot wait: kill now; the child watcher reaps the process.
            _signal_group(process, signal.SIGKILL)
            pipes.close_pipes()
            for reader in readers:
                reader.cancel()
            raise

    def __del__(self, _warn: Callable[..., None] = warnings.warn) -> None:
        process = getattr(self, "_process", None)
        if process is not None and process.returncode is None:
            _warn(f"{self!r} was not closed; killing its server process {process.pid}",
                  ResourceWarning, source=self, stacklevel=1)
            _signal_group(process, signal.SIGKILL)
            pipes = getattr(process, "_transport", None)  # closes the pipes quietly
            if pipes is not None:
                with contextlib.suppress(Exception):
                    pipes.close()


class _Pipes(asyncio.subprocess.SubprocessStreamProtocol):
    """The child's pipes, with stdout and stderr handled as they arrive.

    A response whose line arrives while nothing is queued completes its request in the
    read callback itself (see :meth:`read_directly`), where a task reading a stream would
    take two more rounds of the event loop. Everything else (server requests,
    notifications, and any response behind them, so that the order the server wrote is
    kept) is queued for :meth:`drain_backlog`, and reading pauses while that queue is long.
    stderr lines go to the transport's sink in the read callback, so nothing is buffered.

    The process's exit is watched too (:meth:`process_exited`): asyncio only reports it
    once every pipe is closed, which a child of the server holding them can prevent.
    """

    def __init__(
        self,
        owner: weakref.ref[StdioTransport],
        max_line_size: int | None,
        grace: float,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        super().__init__(limit=_READ_CHUNK, loop=loop)
        self._owner = owner
        self._grace = grace
        self._decoder = LineDecoder(max_line_size)
        self._stderr_decoder = LineDecoder(_STDERR_LINE_LIMIT)
        self._backlog: deque[Message] = deque()
        self._wakeup: asyncio.Future[None] | None = None
        self._eof = False
        self._paused = False
        self._gone = False  # the server is reported gone: later stdout is not read
        self._stdout_pipe: asyncio.ReadTransport | None = None
        self._stderr_pipe: asyncio.ReadTransport | None = None
        self._subprocess: asyncio.SubprocessTransport | None = None
        #: The exit status, once the process exited (pipes open or not).
        self.exited: asyncio.Future[int] = loop.create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        assert isinstance(transport, asyncio.SubprocessTransport)
        self._subprocess = transport
        pipe = transport.get_pipe_transport(1)
        if isinstance(pipe, asyncio.ReadTransport):
            self._stdout_pipe = pipe
        pipe = transport.get_pipe_transport(2)
        if isinstance(pipe, asyncio.ReadTransport):
            self._stderr_pipe = pipe

    def pipe_data_received(self, fd: int, data: bytes | str) -> None:
        assert isinstance(data, bytes)
        if fd == 1:
            self.stdout_received(data)
        elif fd == 2:
            self.stderr_received(data)
        else:
            super().pipe_data_received(fd, data)

    def process_exited(self) -> None:
        transport = self._subprocess
        code = transport.get_returncode() if transport is not None else None
        super().process_exited()
        if not self.exited.done():
            self.exited.set_result(code if code is not None else -1)
        self._wake()

    def stdout_received(self, data: bytes) -> None:
        """Complete the requests answered in ``data``; queue the other messages."""
        transport = self._owner()
        if transport is None or self._gone:
            return
        backlog = self._backlog
        resolve = transport.receiver.resolve
        for line in self._decoder.feed(data):
            for message in transport._messages(line):
                if not backlog and (type(message) is Response or type(message) is ErrorResponse):
                    resolve(message)
                else:
                    backlog.append(message)
        if backlog:
            self._wake()
            if len(backlog) >= _BACKLOG_HIGH and not self._paused:
                self._pause(True)
        elif self.exited.done():
            self._wake()  # the server is gone: drain_backlog waits for its last output

    def stderr_received(self, data: bytes) -> None:
        """Forward the complete lines of ``data`` to the transport's stderr sink."""
        transport = self._owner()
        if transport is None:
            return
        for raw in self._stderr_decoder.feed(data):
            transport._stderr_line(raw)
        if self.exited.done():
            self._wake()

    def read_directly(self) -> None:
        """Take stdout's and stderr's reads straight from their pipes.

        asyncio's subprocess transport hands a pipe's data to its protocol through
        ``call_soon``, one round of the loop later; a protocol of our own on the pipe
        gets it as it is read (so that, once a pipe has nothing unread, everything it
        carried has been handled). Closing still goes through asyncio's bookkeeping.
        """
        for pipe, received in ((self._stdout_pipe, self.stdout_received),
                               (self._stderr_pipe, self.stderr_received)):
            if pipe is not None:
                # A pipe holds 64 KiB: asyncio's 256 KiB reads only make each read's
                # buffer big enough for malloc to map and unmap it, every time.
                if hasattr(pipe, "max_size"):
                    pipe.max_size = _READ_CHUNK
                pipe.set_protocol(_Direct(pipe.get_protocol(), received))

    def pipe_connection_lost(self, fd: int, exc: Exception | None) -> None:
        if fd == 1:
            if exc is not None:
                logger.debug("reading the stdout of a server failed: %s", exc)
            self._eof = True
            self._wake()
        super().pipe_connection_lost(fd, exc)

    def _wake(self) -> None:
        wakeup = self._wakeup
        if wakeup is not None and not wakeup.done():
            wakeup.set_result(None)

    def _pause(self, pause: bool) -> None:
        pipe = self._stdout_pipe
        if pipe is not None and not pipe.is_closing():
            if pause:
                pipe.pause_reading()
            else:
                pipe.resume_reading()
        self._paused = pause

    def _all_read(self) -> bool:
        """Whether nothing the server wrote is left unread in stdout and stderr."""
        return not self._backlog and not any(
            _unread(pipe) for pipe in (self._stdout_pipe, self._stderr_pipe)
        )

    async def exited_within(self, seconds: float) -> bool:
        """Wait at most ``seconds`` for the process to exit; whether it has."""
        if not self.exited.done():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self.exited), seconds)
        return self.exited.done()

    def close_pipes(self) -> None:
        """Close our ends of the pipes now (stdin's unwritten data is dropped)."""
        transport = self._subprocess
        if transport is None:
            return
        stdin = transport.get_pipe_transport(0)
        if isinstance(stdin, asyncio.WriteTransport):
            _drop_unwritten(stdin)
        transport.close()

    async def drain_backlog(self, process: asyncio.subprocess.Process) -> None:
        """Hand the queued messages to the engine in order; when stdout ends, or the
        process exits and what it wrote before is read, report how the server ended."""
        backlog = self._backlog
        loop = asyncio.get_running_loop()
        deadline: float | None = None
        while True:
            while backlog:
                message = backlog.popleft()
                if self._paused and len(backlog) <= _BACKLOG_LOW:
                    self._pause(False)
                transport = self._owner()
                if transport is None:
                    return
                if type(message) is Response or type(message) is ErrorResponse:
                    transport.receiver.resolve(message)
                else:
                    await transport.receiver.receive(message)
                del transport
            if self._eof:
                break
            wait: float | None = None
            if self.exited.done():
                if self._all_read():
                    break
                # Output is still coming (a child of the server may hold the pipes and
                # go on writing): it gets the grace period, not forever.
                deadline = deadline if deadline is not None else loop.time() + self._grace
                wait = deadline - loop.time()
                if wait <= 0:
                    break
            self._wakeup = loop.create_future()
            if wait is None:
                await self._wakeup
            else:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wakeup, wait)
            self._wakeup = None
        self._gone = True
        backlog.clear()
        if self._paused:
            self._pause(False)
        transport = self._owner()
        if transport is not None:
            await transport._server_gone(process, self)


class _Direct(asyncio.Protocol):
    """A read pipe's protocol: reads go straight to ``received``; the end of the pipe
    goes to asyncio's own pipe protocol, which tells the subprocess transport."""

    def __init__(self, original: asyncio.BaseProtocol, received: Callable[[bytes], None]) -> None:
        self._original = original
        self._received = received

    def data_received(self, data: bytes) -> None:
        self._received(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self._original.connection_lost(exc)


def _drop_unwritten(pipe: asyncio.WriteTransport) -> None:
    """Close ``pipe`` now, dropping what is buffered (only a pipe with a buffer is still
    open: one without closes as soon as it is asked to)."""
    if pipe.get_write_buffer_size():
        pipe.abort()


def _unread(pipe: asyncio.ReadTransport | None) -> int:
    """How many bytes wait in ``pipe`` to be read (0 once it is closed)."""
    if pipe is None or pipe.is_closing():
        return 0
    file = pipe.get_extra_info("pipe")
    try:
        raw = fcntl.ioctl(file.fileno(), termios.FIONREAD, b"\0\0\0\0")
    except (AttributeError, OSError, ValueError):
        return 0
    return int(struct.unpack("i", raw)[0])


async def _shut_down(
    process: asyncio.subprocess.Process,
    pipes: _Pipes,
    readers: list[asyncio.Task[None]],
    grace: float,
) -> None:
    """The spec's sequence, every wait bounded by ``grace``; then the group and pipes."""
    loop = asyncio.get_running_loop()
    stdin = process.stdin
    if not pipes.exited.done() and stdin is not None:
        deadline = loop.time() + grace
        stdin.close()  # the server sees EOF once what is buffered for it is written
        try:
            await asyncio.wait_for(asyncio.shield(stdin.wait_closed()), grace)
        except TimeoutError:
            # A server that stopped reading never takes the rest: drop it, so the pipe
            # closes and the server sees EOF.
            _drop_unwritten(stdin.transport)
        except (ConnectionError, OSError):
            pass
        if not await pipes.exited_within(max(deadline - loop.time(), 0.0)):
            await _terminate(process, pipes, grace)
    # Whatever the server started in its group goes with it (a child that kept the pipes
    # open included); a child that left the group (setsid) is out of reach.
    await _end_group(process.pid, grace)
    pipes.close_pipes()
    for reader in readers:
        if not reader.done():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(reader), grace)
            reader.cancel()
    if readers:
        await asyncio.wait(readers)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(process.wait(), grace)  # asyncio's own bookkeeping


async def _terminate(process: asyncio.subprocess.Process, pipes: _Pipes, grace: float) -> None:
    _signal_group(process, signal.SIGTERM)
    if not await pipes.exited_within(grace):
        _signal_group(process, signal.SIGKILL)
        if not await pipes.exited_within(grace):
            logger.error("MCP server process %d survived SIGKILL for %.1f s; giving up on it",
                         process.pid, grace)


async def _end_group(pgid: int, grace: float) -> None:
    """SIGTERM what is left of process group ``pgid``, wait for it to go, then SIGKILL."""
    if not _group_alive(pgid):
        return
    _killpg(pgid, signal.SIGTERM)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + grace
    while _group_alive(pgid):
        if loop.time() >= deadline:
            _killpg(pgid, signal.SIGKILL)
            return
        await asyncio.sleep(_GROUP_POLL)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # a member we may not signal: nothing to do about it
        return False
    return True


def _killpg(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def _signal_group(process: asyncio.subprocess.Process, signum: int) -> None:
    _killpg(process.pid, signum)


def _stderr_sink(target: StderrTarget, name: str) -> Callable[[str], object]:
    if target is None:
        server_logger = logging.getLogger(f"mcp_async.server.{name}")
        return lambda line: server_logger.info("%s", line)
    if isinstance(target, logging.Logger):
        chosen = target
        return lambda line: chosen.info("%s", line)
    if callable(target):
        return target
    write = getattr(target, "write", None)
    if callable(write):
        return lambda line: write(line + "\n")
    raise ConfigError(
        f"stderr must be a callable, a logging.Logger or a text file, got {target!r}"
    )

