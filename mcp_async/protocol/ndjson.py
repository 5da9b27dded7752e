"""Newline-delimited JSON framing for the stdio transport (sans I/O).

:class:`LineDecoder` turns chunks of a byte stream into complete lines. A line longer
than the limit is not kept in memory: the decoder drops it as it streams past, keeping
only its first and last bytes (:class:`OversizedLine`), from which the caller can often
still tell which request it answered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["LineDecoder", "OversizedLine", "guess_id"]

#: How much of the start and end of an oversized line is kept.
_KEPT = 512

_ID = rb'(-?\d+|"(?:[^"\\]|\\.)*")'
_ID_AT_START = re.compile(rb'^\s*\{\s*(?:"jsonrpc"\s*:\s*"2\.0"\s*,\s*)?"id"\s*:\s*' + _ID)
_ID_AT_END = re.compile(rb'"id"\s*:\s*' + _ID + rb"\s*\}\s*$")


@dataclass(frozen=True, slots=True)
class OversizedLine:
    """A line that exceeded the limit: its ``size`` and first and last bytes."""

    size: int
    head: bytes
    tail: bytes


class LineDecoder:
    """Split a byte stream into lines of at most ``max_line_size`` bytes (``None``: any).

    Blank lines are skipped and a trailing ``\\r`` is removed.
    """

    __slots__ = ("_buffer", "_dropping", "_head", "_limit", "_tail")

    def __init__(self, max_line_size: int | None) -> None:
        self._limit = max_line_size
        self._buffer = b""
        self._dropping: int | None = None  # bytes dropped of the current oversized line
        self._head = b""
        self._tail = b""

    def feed(self, chunk: bytes) -> list[bytes | OversizedLine]:
        """Consume ``chunk``; return the lines it completes."""
        out: list[bytes | OversizedLine] = []
        if not chunk:
            return out
        parts = chunk.split(b"\n")
        rest = parts.pop()
        limit = self._limit
        for index, part in enumerate(parts):
            if index == 0:
                if self._dropping is not None:
                    out.append(self._finish_dropped(part))
                    continue
                if self._buffer:
                    part = self._buffer + part
                    self._buffer = b""
            if limit is not None and len(part) > limit:
                out.append(OversizedLine(len(part), part[:_KEPT], part[-_KEPT:]))
                continue
            part = part.rstrip(b"\r")
            if part and not part.isspace():  # (strip() would copy every line)
                out.append(part)
        if rest:
            if self._dropping is not None:  # no newline yet: still inside the long line
                self._dropping += len(rest)
                self._tail = (self._tail + rest)[-_KEPT:]
            else:
                buffered = self._buffer + rest
                if limit is not None and len(buffered) > limit:
                    self._dropping = len(buffered)
                    self._head = buffered[:_KEPT]
                    self._tail = buffered[-_KEPT:]
                    self._buffer = b""
                else:
                    self._buffer = buffered
        return out

    def _finish_dropped(self, part: bytes) -> OversizedLine:
        assert self._dropping is not None
        line = OversizedLine(
            self._dropping + len(part), self._head, (self._tail + part)[-_KEPT:]
        )
        self._dropping = None
        self._head = self._tail = b""
        return line

    @property
    def pending(self) -> int:
        """Bytes of an unfinished line held in memory."""
        return len(self._buffer)


def guess_id(line: OversizedLine) -> str | int | None:
    """The JSON-RPC id of an oversized message, when its start or end shows it."""
    import json

    for pattern, text in ((_ID_AT_START, line.head), (_ID_AT_END, line.tail)):
        match = pattern.search(text)
        if match:
            value = json.loads(match.group(1))
            if isinstance(value, str | int):
                return value
    return None
