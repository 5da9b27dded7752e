"""The errors of a group: a server name it does not know, servers that failed to connect,
and a server that is not connected now. (:class:`UnknownToolError`, for a tool, prompt or
resource name it does not know, is shared with the single client.)"""

from __future__ import annotations

from collections.abc import Mapping

from .._exceptions import MCPClientError, UnknownToolError

__all__ = [
    "GroupConnectError",
    "ServerUnavailableError",
    "UnknownServerError",
    "UnknownToolError",
]


class UnknownServerError(MCPClientError, KeyError):
    """``group[name]`` named a server that is not connected (unknown, failed or disabled)."""

    def __init__(self, server: str, message: str) -> None:
        super().__init__(message)
        self.server = server

    def __str__(self) -> str:
        return str(self.args[0])


class GroupConnectError(MCPClientError):
    """``require_all=True`` and some servers failed to connect.

    ``failures`` maps each failed server to its error; the first is also the
    ``__cause__``. The servers that did connect were closed again.
    """

    def __init__(self, failures: Mapping[str, MCPClientError], total: int) -> None:
        detail = "; ".join(
            f"{name}: {type(error).__name__}: {error}" for name, error in failures.items()
        )
        super().__init__(
            f"{len(failures)} of {total} MCP servers failed to connect: {detail}"
        )
        self.failures = dict(failures)


class ServerUnavailableError(UnknownServerError):
    """A call (or ``group[name]``) reached a server that is not connected now: it failed
    to connect or it died, and is waiting for a reconnect attempt (or for none).

    Raised at once, without waiting for the server. ``server`` names it, ``error`` is its
    last error (also the ``__cause__``). A subclass of :class:`UnknownServerError`.
    """

    def __init__(self, server: str, message: str, error: BaseException | None) -> None:
        super().__init__(server, message)
        self.error = error
