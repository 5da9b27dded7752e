"""Incremental decoder (and a small encoder) for ``text/event-stream`` bodies.

Parsing follows the WHATWG HTML "event stream interpretation" rules, with one
deliberate difference for MCP: a block is dispatched even when its data is
empty, as long as it carried an ``id``, ``retry``, ``event`` or ``data`` field
that took effect. MCP servers send such "priming events" (an id and no data) so
the client can resume a stream; browsers would silently drop them.

The decoder is pure: it turns bytes into :class:`ServerSentEvent` objects and
does no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

from mcp_async._exceptions import BodyTooLargeError

__all__ = ["SSEDecoder", "ServerSentEvent", "encode_event"]

_BOM = b"\xef\xbb\xbf"
_COLON = 0x3A  # b":"[0]
_LF = 0x0A  # b"\n"[0]


@dataclass(frozen=True, slots=True)
class ServerSentEvent:
    """One dispatched server-sent event.

    ``event`` is ``"message"`` when the block had no (or an empty) ``event``
    field. ``data`` is the block's data lines joined with ``"\\n"``. ``id`` is
    the last event id in force when the event was dispatched (it persists from
    earlier events; ``None`` if no id was ever set). ``retry`` is the
    reconnection time in milliseconds given in this very block, else ``None``.
    """

    event: str = "message"
    data: str = ""
    id: str | None = None
    retry: int | None = None


class SSEDecoder:
    """Turn an event-stream body, fed in arbitrary chunks, into events.

    Call :meth:`feed` with each chunk as it arrives; it returns the events
    completed by that chunk. Chunks may split lines, ``CRLF`` pairs and
    multi-byte UTF-8 characters anywhere. Call :meth:`flush` at the end of
    the stream.

    ``max_event_size`` bounds the memory one event can take: if the
    non-comment lines of the current block (field names and values, without
    line terminators, counting a still-unterminated line) exceed it, or any
    single comment line does, :class:`~mcp_async._exceptions.BodyTooLargeError`
    is raised. The count restarts at every blank line, so a long stream of
    small events never trips it. ``None`` disables the limit. After an error
    the decoder's state is unspecified; discard it.
    """

    __slots__ = (
        "_at_start",
        "_block_retry",
        "_data",
        "_event",
        "_has_field",
        "_id_buf",
        "_last_event_id",
        "_max",
        "_partial",
        "_partial_len",
        "_retry",
        "_size",
        "_skip_lf",
    )

    def __init__(self, max_event_size: int | None = 1_048_576) -> None:
        if max_event_size is not None and max_event_size <= 0:
            raise ValueError("max_event_size must be a positive number of bytes or None")
        self._max = max_event_size
        self._last_event_id: str | None = None
        self._retry: int | None = None
        # Unterminated bytes of the current line, kept as pieces so that a long
        # line arriving in many chunks is joined once, not once per chunk.
        self._partial: list[bytes] = []
        self._partial_len = 0
        self._skip_lf = False
        self._at_start = True
        self._data: list[bytes] = []
        self._event: str | None = None
        self._block_retry: int | None = None
        self._has_field = False
        self._size = 0
        # WHATWG's "last event ID buffer": becomes last_event_id at dispatch,
        # so an event cut off mid-block never moves the resume point.
        self._id_buf: str | None = None

    @property
    def last_event_id(self) -> str | None:
        """The id of the last dispatched block that set one (``None`` if never set).

        This is the value to send as ``Last-Event-ID`` when resuming. An
        empty ``id`` field resets it to ``""``; an id containing NUL is ignored.
        """
        return self._last_event_id

    @property
    def retry(self) -> int | None:
        """The last valid ``retry`` value seen, in milliseconds (``None`` if none)."""
        return self._retry

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Consume the next chunk of the body and return the events it completes."""
        if not chunk:
            return []
        if self._skip_lf:
            # The previous chunk ended in CR: an LF starting this one is the
            # second half of a CRLF, not an extra blank line.
            self._skip_lf = False
            if chunk[0] == _LF:
                chunk = chunk[1:]
                if not chunk:
                    return []
        if self._at_start:
            if self._partial:
                chunk = b"".join(self._partial) + chunk
                self._partial.clear()
                self._partial_len = 0
            if len(chunk) < len(_BOM) and _BOM.startswith(chunk):
                # Possibly a BOM split across chunks: wait for more bytes.
                self._partial.append(chunk)
                self._partial_len = len(chunk)
                return []
            self._at_start = False
            if chunk.startswith(_BOM):
                chunk = chunk[len(_BOM) :]
                if not chunk:
                    return []

        has_cr = b"\r" in chunk
        if not has_cr and b"\n" not in chunk:
            self._partial.append(chunk)
            self._partial_len += len(chunk)
            self._check_partial(self._partial[0])
            return []

        if self._partial:
            self._partial.append(chunk)
            buf = b"".join(self._partial)
            self._partial.clear()
            self._partial_len = 0
        else:
            buf = chunk
        if has_cr:
            if buf[-1] == 0x0D:
                self._skip_lf = True
            buf = buf.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        lines = buf.split(b"\n")
        tail = lines.pop()

        limit = self._max
        size = self._size
        data = self._data
        events: list[ServerSentEvent] = []
        for line in lines:
            if not line:
                if self._has_field:
                    self._last_event_id = self._id_buf
                    events.append(
                        ServerSentEvent(
                            self._event or "message",
                            b"\n".join(data).decode("utf-8", "replace"),
                            self._id_buf,
                            self._block_retry,
                        )
                    )
                    self._has_field = False
                    self._event = None
                    self._block_retry = None
                if data:
                    data = self._data = []
                size = 0
                continue
            if line[0] == _COLON:
                if limit is not None and len(line) > limit:
                    raise BodyTooLargeError(limit, "SSE event")
                continue
            size += len(line)
            if limit is not None and size > limit:
                raise BodyTooLargeError(limit, "SSE event")
            name, _, value = line.partition(b":")
            if value.startswith(b" "):
                value = value[1:]
            if name == b"data":
                data.append(value)
                self._has_field = True
            elif name == b"event":
                self._event = value.decode("utf-8", "replace")
                self._has_field = True
            elif name == b"id":
                if b"\0" not in value:
                    self._id_buf = value.decode("utf-8", "replace")
                    self._has_field = True
            elif name == b"retry" and value.isdigit():
                try:
                    retry = int(value)
                except ValueError:  # more digits than int() accepts
                    continue
                self._retry = self._block_retry = retry
                self._has_field = True
        self._size = size

        if tail:
            self._partial.append(tail)
            self._partial_len = len(tail)
            self._check_partial(tail)
        return events

    def flush(self) -> list[ServerSentEvent]:
        """Signal the end of the stream; always returns ``[]``.

        Per WHATWG, a block not closed by a blank line is discarded, not
        dispatched. A final line without a terminator is still parsed first,
        so only its side effects that apply immediately survive (a ``retry``
        field updates :attr:`retry`); its ``id`` does not become
        :attr:`last_event_id`. Afterwards the decoder is ready for a new
        stream (for example after reconnecting), keeping :attr:`last_event_id`
        and :attr:`retry`.
        """
        if self._partial and not self._at_start:
            self.feed(b"\n")
        self._partial.clear()
        self._partial_len = 0
        self._skip_lf = False
        self._at_start = True
        self._data = []
        self._event = None
        self._block_retry = None
        self._has_field = False
        self._size = 0
        self._id_buf = self._last_event_id
        return []

    def _check_partial(self, first_piece: bytes) -> None:
        # Same rule as for complete lines, applied early so an endless line
        # cannot grow the buffer without bound.
        limit = self._max
        if limit is None:
            return
        if first_piece[0] == _COLON:
            over = self._partial_len > limit
        else:
            over = self._size + self._partial_len > limit
        if over:
            raise BodyTooLargeError(limit, "SSE event")


def encode_event(
    data: str,
    *,
    event: str | None = None,
    id: str | None = None,
    retry: int | None = None,
) -> bytes:
    """Serialise one event as UTF-8 ``text/event-stream`` bytes ending with a blank line.

    Each line of ``data`` becomes its own ``data:`` line. An event stream
    cannot carry a bare CR, so ``"\\r\\n"`` and ``"\\r"`` in ``data`` come
    back from a decoder as ``"\\n"``. Raises :class:`ValueError` if ``event``
    or ``id`` contains a line break, ``id`` contains NUL, or ``retry`` is
    negative, since those could not be decoded as given.
    """
    lines: list[str] = []
    if event is not None:
        if "\r" in event or "\n" in event:
            raise ValueError("SSE event name must not contain a line break")
        lines.append(f"event: {event}")
    if id is not None:
        if "\r" in id or "\n" in id or "\0" in id:
            raise ValueError("SSE id must not contain a line break or NUL")
        lines.append(f"id: {id}")
    if retry is not None:
        if retry < 0:
            raise ValueError("SSE retry must be a non-negative number of milliseconds")
        lines.append(f"retry: {retry}")
    for part in data.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        lines.append(f"data: {part}")
    lines.append("\n")
    return "\n".join(lines).encode("utf-8")
