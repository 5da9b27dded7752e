"""The base of :class:`~mcp_async.MCPClientGroup`: the state its parts share and its
servers (which exist, which are connected, their states and health, the typed errors for
a server that is unknown or not connected), the group's background tasks, and connecting
and closing one server's client."""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, Self

from .._exceptions import ClientStateError, ConnectError, ConnectTimeout, MCPClientError
from ..client.async_client import AsyncMCPClient
from .errors import ServerUnavailableError, UnknownServerError
from .health import ServerHealth, ServerRecovery, ServerState
from .member import GroupMember, restartable

if TYPE_CHECKING:
    from .config import MCPConfig, ServerSpec
    from .naming import NamingFn

__all__ = ["GroupServers"]

logger = logging.getLogger("mcp_async")


class GroupServers:
    """The servers of a group and the state every part of the group shares.

    :class:`~mcp_async.MCPClientGroup` sets these attributes up; the parts built on this
    class (events, recovery, the catalogue, routing, fan-out) read and change them.
    """

    require_all: bool
    connect_timeout: float | None
    separator: str
    naming: NamingFn | None
    recovery: ServerRecovery | None
    config: MCPConfig | None
    list_errors: dict[str, Exception]
    close_errors: dict[str, BaseException]
    disabled: tuple[str, ...]
    _parent: Self | None
    _servers: dict[str, GroupMember]
    _specs: dict[str, ServerSpec]
    _open: bool
    _closed: bool
    _routes: dict[str, tuple[str, str]] | None
    _closed_failures: dict[str, BaseException] | None
    _views: weakref.WeakSet[Self]
    _tasks: set[asyncio.Task[Any]]

    @property
    def _clients(self) -> dict[str, AsyncMCPClient]:
        return {name: server.client for name, server in self._servers.items()}

    @property
    def names(self) -> list[str]:
        """The connected (active) servers' names, in configuration order."""
        return [name for name, server in self._servers.items() if server.state == "active"]

    @property
    def active(self) -> list[str]:
        """The servers connected now, in configuration order (the same as :attr:`names`)."""
        return self.names

    @property
    def failed(self) -> dict[str, BaseException]:
        """The servers not connected now (failed to connect, or died), with their last
        errors, in configuration order. A server leaves it when it reconnects; after
        the group closed, the servers that were not connected then."""
        if self._closed_failures is not None:
            return dict(self._closed_failures)
        return {
            name: server.error
            for name, server in self._servers.items()
            if server.state in ("failed", "reconnecting") and server.error is not None
        }

    @property
    def failures(self) -> dict[str, BaseException]:
        """The same as :attr:`failed` (the servers not connected now, with their errors)."""
        return self.failed

    @property
    def servers(self) -> list[str]:
        """Every enabled server's name (connected or not), in configuration order."""
        return list(self._servers)

    def spec(self, name: str) -> ServerSpec | None:
        """The config entry a server was built from (``None`` for a client given as such)."""
        root = self._root()
        return root._specs.get(name) if name in self._servers else None

    def state(self, name: str) -> ServerState:
        """The server's state (``"active"``, ``"failed"``, ...); see :data:`ServerState`."""
        return self._server(name).state

    def health(self) -> dict[str, ServerHealth]:
        """Each server's :class:`ServerHealth` (state, last error, since when it is
        connected, calls, failures, reconnects), in configuration order."""
        return {
            name: ServerHealth(
                name=name, state=server.state, last_error=server.error,
                opened_at=server.opened_at, calls=server.calls, failures=server.failures,
                reconnects=server.reconnects,
            )
            for name, server in self._servers.items()
        }

    def _server(self, name: str) -> GroupMember:
        server = self._servers.get(name)
        if server is None:
            raise self._unknown(name)
        return server

    def _unknown(self, name: str) -> UnknownServerError:
        if name in self._root().disabled:
            return UnknownServerError(name, f"server {name!r} is disabled in the configuration")
        known = ", ".join(repr(n) for n in self._servers) or "none"
        return UnknownServerError(name, f"no server named {name!r} (servers: {known})")

    def __getitem__(self, name: str) -> AsyncMCPClient:
        """The server's client while it is connected, or being restarted in place after it
        died; :class:`ServerUnavailableError` for a server without a client now,
        :class:`UnknownServerError` for an unknown or disabled name."""
        server = self._servers.get(name)
        if server is None:
            raise self._unknown(name)
        if server.state == "active" or (
            server.state in ("failed", "reconnecting") and restartable(server.client)
        ):
            return server.client
        if server.error is not None:
            raise self._unavailable(server) from server.error
        raise UnknownServerError(
            name, f"server {name!r} is not connected; use 'async with group'"
        )

    def _unavailable(self, server: GroupMember) -> ServerUnavailableError:
        error = server.error
        detail = f": {type(error).__name__}: {error}" if error is not None else ""
        if server.state == "reconnecting":
            what = "it is reconnecting"
        elif self._root().recovery is not None and server.state == "failed" and (
            server.factory is not None or restartable(server.client)
        ):
            what = "it will be retried in the background"
        else:
            what = "it is not retried"
        return ServerUnavailableError(
            server.name,
            f"server {server.name!r} is not connected ({what}); it failed with{detail}"
            if error is not None else f"server {server.name!r} is not connected",
            error,
        )

    def __contains__(self, name: object) -> bool:
        server = self._servers.get(name) if isinstance(name, str) else None
        return server is not None and server.state == "active"

    def _root(self) -> Self:
        return self._parent if self._parent is not None else self

    def _require_open(self) -> None:
        parent = self._parent
        if not self._open or (parent is not None and not parent._open):
            raise ClientStateError(
                "group is closed" if self._closed or (parent is not None and parent._closed)
                else "group is not open; use 'async with MCPClientGroup(...) as group'"
            )

    def _connect_error(self, name: str, exc: Exception, expired: bool) -> MCPClientError:
        if expired:
            error: MCPClientError = ConnectTimeout(
                f"server {name!r} did not connect within {self.connect_timeout:g} s"
            )
        elif isinstance(exc, MCPClientError):
            return exc
        else:
            error = ConnectError(f"server {name!r} failed to start: {type(exc).__name__}: {exc}")
        error.__cause__ = exc
        return error

    async def _close_client(self, name: str, client: AsyncMCPClient) -> None:
        try:
            await client.aclose()
        except Exception as exc:
            self._root().close_errors[name] = exc
            logger.warning("closing MCP server %r failed: %s: %s", name, type(exc).__name__, exc,
                           exc_info=exc)

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("a background task of an MCP client group failed",
                         exc_info=task.exception())
