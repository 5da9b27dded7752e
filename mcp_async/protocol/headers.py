"""Pure parsing of HTTP headers the client acts on (Retry-After, ...)."""

from __future__ import annotations

import time
from email.utils import parsedate_to_datetime

__all__ = ["MAX_SERVER_WAIT", "parse_retry_after"]

#: The longest wait a server may impose that the client honours, in seconds: the cap on
#: ``Retry-After`` for the retry policy and on pauses for the rate limiter (both default
#: to it). A server asking for more makes the call fail at once instead.
MAX_SERVER_WAIT = 120.0


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta-seconds or an HTTP-date).

    Returns ``None`` for a missing or unparsable value and never a negative number.
    """
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(seconds, 0.0) if seconds == seconds else None  # NaN check
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    current = time.time() if now is None else now
    return max(when.timestamp() - current, 0.0)
