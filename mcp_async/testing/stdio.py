"""The stdio transport of ``mcp_async.testing``: newline-delimited JSON-RPC on stdin/stdout.

:func:`serve_lines` reads one JSON value per line and hands it to a :class:`Link` (a
session of :class:`~mcp_async.testing.MCPTestServer`, which answers requests concurrently
and writes replies, notifications and its own requests through the :data:`Send` it was
opened with). :class:`LineWriter` writes one message per line, serialised and
flow-controlled. Without explicit streams the process's stdin and stdout are used
(asyncio pipes when they are pipes or sockets, a thread otherwise), and ``sys.stdout`` is
redirected to stderr while serving so stray prints cannot corrupt the protocol stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import stat
import sys
import threading
from collections.abc import Awaitable, Callable
from typing import Any, Final, Protocol

from ..protocol.jsonrpc import PARSE_ERROR, ErrorResponse, encode

__all__ = ["EXIT_AFTER_CODE", "LINE_LIMIT", "Link", "LineWriter", "OpenLink", "Send",
           "serve_lines"]

#: Longest line accepted on stdin, in bytes.
LINE_LIMIT: Final = 64 * 1024 * 1024
#: Exit status of a process stopped by ``exit_after``.
EXIT_AFTER_CODE: Final = 3
_CHUNK: Final = 64 * 1024

#: Writes one encoded JSON-RPC message (without its newline) to the client.
Send = Callable[[bytes], Awaitable[None]]


class Link(Protocol):
    """A server session as a stream transport drives it."""

    def receive(self, body: Any) -> None:
        """Take one JSON value (a message or a batch) read from the client."""

    async def finish(self, grace: float) -> None:
        """The client stopped sending: let running requests end (at most ``grace`` s), close."""

    def close(self) -> None:
        """Close at once: cancel running requests, forget the session."""


#: Opens a session that writes through the given :data:`Send`.
OpenLink = Callable[[Send], Link]


class LineWriter:
    """Writes messages one per line: serialised (lines never interleave) and flow-controlled.

    Wraps an :class:`asyncio.StreamWriter` (each line waits for ``drain``) or, for a file
    descriptor that asyncio cannot watch (a regular file, a terminal), writes from a
    worker thread and waits for it. Raises :class:`ConnectionError` once the reader is gone.
    """

    __slots__ = ("_fd", "_lock", "_owned", "_writer")

    def __init__(
        self, writer: asyncio.StreamWriter | None = None, *, fd: int | None = None,
        owned: bool = False,
    ) -> None:
        if (writer is None) == (fd is None):
            raise ValueError("give a StreamWriter or a file descriptor")
        self._writer = writer
        self._fd = fd
        self._owned = owned
        self._lock = asyncio.Lock()

    async def send(self, message: bytes) -> None:
        """Write ``message`` and a newline; ``message`` must not contain a newline."""
        await self.write_line(message)

    async def write_line(self, line: bytes) -> None:
        """Write one raw line (a newline is added) and wait until it is flow-controlled."""
        data = line + b"\n"
        async with self._lock:
            if self._writer is not None:
                if self._writer.is_closing():
                    raise ConnectionResetError("stdout is closed")
                self._writer.write(data)
                await self._writer.drain()
            else:
                assert self._fd is not None
                await asyncio.to_thread(_write_all, self._fd, data)

    async def flush(self, timeout: float) -> None:
        """Wait (at most ``timeout`` s) until everything written has left the process."""
        with contextlib.suppress(TimeoutError, ConnectionError):
            async with asyncio.timeout(timeout), self._lock:
                if self._writer is not None and not self._writer.is_closing():
                    transport = self._writer.transport
                    low, high = transport.get_write_buffer_limits()
                    # With a zero high-water mark drain() waits for an empty buffer.
                    transport.set_write_buffer_limits(0)
                    try:
                        await self._writer.drain()
                    finally:
                        if not transport.is_closing():
                            transport.set_write_buffer_limits(high, low)

    async def close(self, timeout: float = 2.0) -> None:
        """Flush, then close what this writer opened itself (a caller's writer stays open)."""
        await self.flush(timeout)
        if not self._owned:
            return
        if self._writer is not None:
            self._writer.close()
            try:
                async with asyncio.timeout(timeout):
                    await self._writer.wait_closed()
            except (TimeoutError, ConnectionError):
                self._writer.transport.abort()
        elif self._fd is not None:
            os.close(self._fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            written = os.write(fd, view)
        except BrokenPipeError as exc:
            raise ConnectionResetError("stdout is closed") from exc
        view = view[written:]


def _pollable(fd: int) -> bool:
    """Whether asyncio can watch ``fd`` (a pipe or socket that is not a terminal)."""
    mode = os.fstat(fd).st_mode
    return (stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)) and not os.isatty(fd)


async def _open_stdin() -> tuple[asyncio.StreamReader, list[int]]:
    """The process's stdin as a stream (on a duplicate descriptor), and fds to restore."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=LINE_LIMIT)
    fd = os.dup(sys.stdin.fileno())
    if _pollable(fd):
        pipe = os.fdopen(fd, "rb", buffering=0)
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), pipe)
        return reader, [sys.stdin.fileno()]
    threading.Thread(
        target=_feed, args=(fd, reader, loop), name="mcp-stdio-reader", daemon=True
    ).start()
    return reader, []


async def _open_stdout() -> tuple[LineWriter, list[int]]:
    """The process's stdout as a :class:`LineWriter` (on a duplicate descriptor)."""
    loop = asyncio.get_running_loop()
    sys.stdout.flush()
    fd = os.dup(sys.stdout.fileno())
    if _pollable(fd):
        pipe = os.fdopen(fd, "wb", buffering=0)
        # A StreamReaderProtocol (with an unused reader) gives drain() and wait_closed().
        protocol = asyncio.StreamReaderProtocol(asyncio.StreamReader())
        transport, _ = await loop.connect_write_pipe(lambda: protocol, pipe)
        writer = asyncio.StreamWriter(transport, protocol, None, loop)
        return LineWriter(writer, owned=True), [sys.stdout.fileno()]
    return LineWriter(fd=fd, owned=True), []


def _restore_blocking(fds: list[int]) -> None:
    """asyncio made these descriptors non-blocking (for the whole pipe): undo it."""
    for fd in fds:
        with contextlib.suppress(OSError):
            os.set_blocking(fd, True)


def _feed(fd: int, reader: asyncio.StreamReader, loop: asyncio.AbstractEventLoop) -> None:
    """Thread body: copy ``fd`` into ``reader`` until end of file."""
    try:
        while chunk := os.read(fd, _CHUNK):
            loop.call_soon_threadsafe(reader.feed_data, chunk)
    except OSError:
        pass
    finally:
        os.close(fd)
        with contextlib.suppress(RuntimeError):  # the loop is gone
            loop.call_soon_threadsafe(reader.feed_eof)


def _count_requests(body: Any) -> int:
    items = body if isinstance(body, list) else [body]
    return sum(1 for item in items if isinstance(item, dict) and "method" in item and "id" in item)


async def _die(out: LineWriter) -> None:
    """``exit_after``: say so on stderr, let earlier replies out, exit with status 3."""
    sys.stderr.write("dying\n")
    sys.stderr.flush()
    await out.flush(1.0)
    os._exit(EXIT_AFTER_CODE)


async def _read_loop(
    reader: asyncio.StreamReader, out: LineWriter, link: Link, exit_after: int | None
) -> None:
    requests = 0
    while True:
        try:
            line = await reader.readline()
        except ValueError:  # longer than the limit: the rest of it is dropped
            error = ErrorResponse(None, PARSE_ERROR, f"Parse error: line over {LINE_LIMIT} bytes")
            with contextlib.suppress(ConnectionError):
                await out.send(encode(error))
            continue
        if not line:
            return
        if not line.strip():
            continue
        try:
            body = json.loads(line)
        except (ValueError, RecursionError):
            error = ErrorResponse(None, PARSE_ERROR, "Parse error: line is not valid JSON")
            with contextlib.suppress(ConnectionError):
                await out.send(encode(error))
            continue
        if exit_after is not None:
            requests += _count_requests(body)
            if requests >= exit_after:
                await _die(out)
        link.receive(body)


async def serve_lines(
    open_link: OpenLink,
    reader: asyncio.StreamReader | None = None,
    writer: asyncio.StreamWriter | None = None,
    *,
    grace: float = 2.0,
    banner: str | None = None,
    exit_after: int | None = None,
) -> None:
    """Serve one session over newline-delimited JSON-RPC until ``reader`` ends.

    ``reader``/``writer`` default to the process's stdin/stdout. At end of input, running
    requests get ``grace`` seconds to answer, then are cancelled. Fault injection:
    ``banner`` is written as a first (non-JSON) line; with ``exit_after`` the process
    writes ``dying`` to stderr and exits with status 3 when that many requests arrived,
    without answering the last.
    """
    if grace < 0:
        raise ValueError("grace must be >= 0")
    if exit_after is not None and exit_after < 1:
        raise ValueError("exit_after must be >= 1")
    restore: list[int] = []
    out: LineWriter | None = None
    try:
        if reader is None:
            reader, fds = await _open_stdin()
            restore += fds
        if writer is None:
            out, fds = await _open_stdout()
            restore += fds
        else:
            out = LineWriter(writer)
        redirect = contextlib.redirect_stdout(sys.stderr) if writer is None else None
        with redirect or contextlib.nullcontext():
            if banner is not None:
                await out.write_line(banner.encode("utf-8"))
            link = open_link(out.send)
            try:
                await _read_loop(reader, out, link, exit_after)
            except BaseException:
                link.close()
                raise
            await link.finish(grace)
    finally:
        if out is not None:
            await out.close()
        _restore_blocking(restore)
