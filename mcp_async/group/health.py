"""How a group's servers are doing: each one's state and health, and how a failed one is
reconnected (the backoff policy)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

from .._exceptions import ConfigError

__all__ = ["ServerHealth", "ServerRecovery", "ServerState"]

#: A server's state in a group: ``"connecting"`` while the group opens, ``"active"``
#: (connected, its tools in the catalogue), ``"failed"`` (waiting for its next reconnect
#: attempt, or for none), ``"reconnecting"`` (an attempt is under way) and ``"closed"``.
ServerState = Literal["connecting", "active", "failed", "reconnecting", "closed"]


@dataclass(frozen=True, slots=True)
class ServerRecovery:
    """How a group reconnects a failed server in the background: capped exponential
    backoff with jitter.

    Attempt ``n`` (from 1) waits ``min(maximum, initial * multiplier ** (n - 1))``
    seconds, less a random part of up to ``jitter`` (a fraction, 0 to 1) of it, so that
    servers that failed together do not all retry together. A server that died after it
    was connected gets a first attempt after ``restart_delay`` seconds (calls to it wait
    for that attempt when it restarts in place). ``max_attempts`` bounds the attempts
    (``None``: until the group closes).
    """

    initial: float = 1.0
    maximum: float = 60.0
    multiplier: float = 2.0
    jitter: float = 0.5
    max_attempts: int | None = None
    restart_delay: float = 0.1

    def __post_init__(self) -> None:
        for field in ("initial", "maximum", "multiplier"):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, int | float) or not (
                0 < value < float("inf")
            ):
                raise ConfigError(
                    f"ServerRecovery.{field} must be a positive number, got {value!r}"
                )
        if isinstance(self.restart_delay, bool) or not isinstance(
            self.restart_delay, int | float
        ) or not 0 <= self.restart_delay < float("inf"):
            raise ConfigError(
                f"ServerRecovery.restart_delay must be >= 0 seconds, got {self.restart_delay!r}"
            )
        if self.multiplier < 1:
            raise ConfigError(f"ServerRecovery.multiplier must be >= 1, got {self.multiplier!r}")
        if self.maximum < self.initial:
            raise ConfigError("ServerRecovery.maximum must be at least initial")
        if isinstance(self.jitter, bool) or not isinstance(self.jitter, int | float) or not (
            0 <= self.jitter <= 1
        ):
            raise ConfigError(f"ServerRecovery.jitter must be between 0 and 1, got {self.jitter!r}")
        if self.max_attempts is not None and (
            isinstance(self.max_attempts, bool) or not isinstance(self.max_attempts, int)
            or self.max_attempts < 1
        ):
            raise ConfigError(
                "ServerRecovery.max_attempts must be an int >= 1 or None, "
                f"got {self.max_attempts!r}"
            )

    def delay(self, attempt: int) -> float:
        """Seconds to wait before attempt ``attempt`` (1 for the first)."""
        exponent = min(max(attempt - 1, 0), 1024)  # no OverflowError for a long outage
        try:
            base = min(self.maximum, self.initial * self.multiplier ** exponent)
        except OverflowError:
            base = self.maximum
        return base * (1.0 - self.jitter * random.random())


@dataclass(frozen=True, slots=True)
class ServerHealth:
    """One server's health in a group (see :meth:`MCPClientGroup.health`).

    ``opened_at`` is when its current connection was made (``time.time()``; ``None``
    when not connected); ``calls`` counts the calls the group routed to it, ``failures``
    those that raised; ``reconnects`` the times it came back; ``last_error`` is the
    error of its last failure (kept after it recovered).
    """

    name: str
    state: ServerState
    last_error: BaseException | None
    opened_at: float | None
    calls: int
    failures: int
    reconnects: int
