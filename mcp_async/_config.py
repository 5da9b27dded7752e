"""Small frozen configuration values shared by the client, transports and policies."""

from __future__ import annotations

from dataclasses import dataclass

from ._exceptions import ConfigError

__all__ = ["DEFAULT_TIMEOUT", "Timeout", "TimeoutLike", "to_timeout"]


@dataclass(frozen=True, slots=True)
class Timeout:
    """Timeouts in seconds; ``None`` disables one.

    ``total`` bounds a whole HTTP exchange including reading the reply; ``connect``
    bounds getting a connection (from the pool or a new one); ``read`` bounds each
    wait for more bytes, so a slow but steady SSE stream is not cut off.
    """

    total: float | None = 60.0
    connect: float | None = 10.0
    read: float | None = None

    def __post_init__(self) -> None:
        for name in ("total", "connect", "read"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not value > 0):
                raise ConfigError(
                    f"Timeout.{name} must be a positive number or None, got {value!r}"
                )


DEFAULT_TIMEOUT = Timeout()

TimeoutLike = Timeout | float | int | None


def to_timeout(value: TimeoutLike, default: Timeout = DEFAULT_TIMEOUT) -> Timeout:
    """Accept a :class:`Timeout`, seconds (the total; connect kept) or ``None`` (the default)."""
    if value is None:
        return default
    if isinstance(value, Timeout):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"timeout must be a Timeout or a number of seconds, got {value!r}")
    return Timeout(total=float(value), connect=default.connect, read=default.read)
