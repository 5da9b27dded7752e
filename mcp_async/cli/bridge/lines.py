"""Newline-delimited JSON-RPC with the host on stdin/stdout (the stdio side of
``mcp-async bridge URL``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys

from ..._exceptions import ProtocolError
from ...protocol import jsonrpc
from ...protocol.jsonrpc import ErrorResponse, Message, Response

__all__ = ["MAX_LINE", "HostLines", "std_streams"]

logger = logging.getLogger("mcp_async.bridge")

#: Longest line accepted from the host or from a stdio server (bytes).
MAX_LINE = 16 * 1024 * 1024


class HostLines:
    """Newline-delimited JSON-RPC on a pair of streams, writes serialised."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self._lock = asyncio.Lock()

    async def read(self) -> list[Message] | None:
        """The messages of the next line; ``None`` at the end of input. A bad line is
        logged and answered with a parse error when it can be."""
        while True:
            try:
                line = await self.reader.readline()
            except ValueError:  # over the limit: the reader dropped it
                logger.error("a message over %d bytes from the host was dropped", MAX_LINE)
                await self.send(ErrorResponse(None, jsonrpc.INVALID_REQUEST,
                                              f"message over {MAX_LINE} bytes"))
                continue
            if not line:
                return None
            if not line.strip():
                continue
            try:
                decoded = jsonrpc.decode(line)
            except ProtocolError as exc:
                logger.warning("the host sent a line that is not JSON-RPC: %s", exc)
                await self.send(ErrorResponse(None, jsonrpc.PARSE_ERROR, str(exc)))
                continue
            return decoded if isinstance(decoded, list) else [decoded]

    async def send(self, message: Message) -> None:
        """Write one message as a line (a result that is not JSON becomes an error)."""
        try:
            data = jsonrpc.encode(message) + b"\n"
        except (TypeError, ValueError) as exc:
            logger.error("a message for the host is not JSON (%s); sent an error instead", exc)
            if isinstance(message, Response):
                data = jsonrpc.encode(ErrorResponse(
                    message.id, jsonrpc.INTERNAL_ERROR, "the result is not JSON")) + b"\n"
            else:
                return
        async with self._lock:
            if self.writer.is_closing():
                return
            self.writer.write(data)
            with contextlib.suppress(ConnectionError):
                await self.writer.drain()


async def std_streams() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Asynchronous streams over this process's stdin and stdout."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=MAX_LINE)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin.buffer)
    transport, protocol = await loop.connect_write_pipe(
        asyncio.streams.FlowControlMixin, sys.stdout.buffer
    )
    writer = asyncio.StreamWriter(transport, protocol, reader, loop)
    return reader, writer
