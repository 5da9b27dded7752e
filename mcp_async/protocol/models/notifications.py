"""The params of the notifications a server sends: log messages and progress."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Self

from .decoding import MISSING, missing, number, obj, opt_number, opt_str, req_str, wrong

__all__ = [
    "LoggingMessage",
    "ProgressNotification",
]


@dataclass(frozen=True, slots=True)
class LoggingMessage:
    """``notifications/message`` params: ``level``, optional ``logger``, any JSON ``data``."""

    level: str
    data: Any
    logger: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Decode the notification's ``params``."""
        d = obj(data, "LoggingMessage")
        if "data" not in d:
            raise missing("LoggingMessage", "data")
        return cls(
            level=req_str(d, "level", "LoggingMessage"),
            data=d["data"],
            logger=opt_str(d, "logger", "LoggingMessage"),
            raw=d,
        )


@dataclass(frozen=True, slots=True)
class ProgressNotification:
    """``notifications/progress`` params. ``progress_token`` is the request's token."""

    progress_token: str | int
    progress: float
    total: float | None = None
    message: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Decode the notification's ``params``."""
        m = "ProgressNotification"
        d = obj(data, m)
        token = d.get("progressToken", MISSING)
        if not isinstance(token, (str, int)) or isinstance(token, bool):
            if token is MISSING:
                raise missing(m, "progressToken")
            raise wrong(m, "progressToken", "a string or integer", token)
        return cls(
            progress_token=token,
            progress=number(d.get("progress", MISSING), "progress", m),
            total=opt_number(d, "total", m),
            message=opt_str(d, "message", m),
            raw=d,
        )
