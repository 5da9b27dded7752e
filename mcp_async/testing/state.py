"""Session state of the test server: what it remembers about one client session."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

from ..protocol.jsonrpc import ErrorResponse, Notification, Request
from .streams import EventStream

__all__ = ["Session", "SessionLink", "Work"]

#: A request to answer, or an answer made while parsing.
Work = Request | ErrorResponse


class SessionLink(Protocol):
    """The stream transport (stdio or legacy SSE) a session runs on."""

    kind: Literal["sse", "stdio"]
    closed: bool

    async def emit(self, message: Notification | Request) -> None:
        """Send a notification or server request; ConnectionError once closed."""

    def close(self) -> None:
        """Cancel running requests, fail waiting server requests, forget the session."""


@dataclass(slots=True)
class Session:
    """One client session: its revision, log level, subscriptions and streams."""

    id: str
    protocol_version: str
    initialized: bool = False
    log_level: str | None = None
    subscriptions: set[str] = field(default_factory=set)
    standalone: EventStream | None = None
    #: The stream transport (stdio or legacy SSE) carrying all of this session's messages.
    link: SessionLink | None = None
    #: Ids of server requests waiting for this session's answer.
    pending: set[str] = field(default_factory=set)

