"""``MCPClientGroup``: many MCP servers used as one.

::

    group = MCPClientGroup.from_config("~/.cursor/mcp.json")
    async with group:                                   # every server connects at once
        for tool in await group.list_tools():           # one catalogue, unique names
            print(tool.name, tool.server)
        result = await group.call_tool("files__read_file", {"path": "README.md"})
        batch = await group.call_tools(calls, concurrency=16, per_server=4)

A server that fails to start or connect, or dies later, is set aside in
:attr:`MCPClientGroup.failed` and reconnects in the background with capped exponential
backoff (:class:`ServerRecovery`); with ``require_all=True`` a failure while opening
fails the opening with :class:`GroupConnectError`.
Names are ``f"{server}{separator}{tool}"`` made to fit ``^[A-Za-z0-9_-]{1,64}$`` (what
LLM tool APIs accept): other characters become ``_``, longer names keep a prefix and a
short blake2s hash of the full name, and a name already taken gets such a hash too.
The configuration format is in :mod:`mcp_async.group.config`.

This module builds, opens and closes the group; its other parts are modules of their own:
:mod:`~mcp_async.group.servers` (lookups, states, health), :mod:`~mcp_async.group.events`,
:mod:`~mcp_async.group.recovery`, :mod:`~mcp_async.group.catalogue`,
:mod:`~mcp_async.group.routing` and :mod:`~mcp_async.group.fanout`, over
:mod:`~mcp_async.group.naming`, :mod:`~mcp_async.group.health`,
:mod:`~mcp_async.group.member` and :mod:`~mcp_async.group.errors`.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
import weakref
from collections.abc import Iterable, Mapping
from typing import Any

from .._exceptions import ClientStateError, ConfigError
from ..client.async_client import AsyncMCPClient
from .catalogue import GroupPrompt, GroupResource, GroupResourceTemplate, GroupTool
from .config import MCPConfig, ServerSpec, load_mcp_config, parse_server
from .errors import (
    GroupConnectError,
    ServerUnavailableError,
    UnknownServerError,
    UnknownToolError,
)
from .events import EventHandler, EventQueue, GroupEvent, GroupEventKind
from .fanout import GroupFanOut
from .health import ServerHealth, ServerRecovery, ServerState
from .member import ClientFactory, GroupMember, call_factory
from .naming import NAME_PATTERN, NamingFn, assign_names, default_name

# The public names of the group's parts are re-exported here, where they used to live.
__all__ = [
    "NAME_PATTERN",
    "ClientFactory",
    "EventHandler",
    "GroupConnectError",
    "GroupEvent",
    "GroupEventKind",
    "GroupPrompt",
    "GroupResource",
    "GroupResourceTemplate",
    "GroupTool",
    "MCPClientGroup",
    "NamingFn",
    "ServerHealth",
    "ServerRecovery",
    "ServerState",
    "ServerUnavailableError",
    "UnknownServerError",
    "UnknownToolError",
    "assign_names",
    "default_name",
]


ServerEntry = AsyncMCPClient | ServerSpec | Mapping[str, Any] | ClientFactory


class MCPClientGroup(GroupFanOut):
    """Several MCP servers (stdio, Streamable HTTP, legacy SSE) used as one.

    Args:
        servers: server name → an unopened :class:`~mcp_async.AsyncMCPClient` (the group
            opens and closes it), a config entry dict (as in an ``mcpServers`` file), a
            :class:`~mcp_async.ServerSpec`, or a factory (a callable returning a new,
            unopened client). Disabled entries are skipped.
        require_all: raise :class:`GroupConnectError` on entering when any server fails,
            instead of recording it in :attr:`failures`.
        connect_timeout: seconds each server gets to start and finish its handshake
            (``None``: no limit); they connect concurrently. Reconnect attempts get the
            same bound.
        separator: between the server's and the tool's name in the default naming
            (letters, digits, ``_`` and ``-`` only).
        naming: ``naming(server, name) -> str`` instead of the default naming.
        recovery: how failed servers reconnect in the background
            (:class:`ServerRecovery`; ``True``: its defaults; ``False`` or ``None``: a
            failed server stays failed).
        on_event: called with each :class:`GroupEvent` (a server failed, recovered, or
            changed its tools); it may be a coroutine function. Errors are logged.
        client_options: :class:`~mcp_async.AsyncMCPClient` arguments for every client the
            group builds from a config entry (``timeout``, ``retry``, handlers, ...).
            Hook objects are shared by those clients (one ``RateLimit`` is one budget for
            the group). See :meth:`ServerSpec.client` for the options that apply to one
            kind of server only.
    """

    def __init__(
        self,
        servers: Mapping[str, ServerEntry],
        *,
        require_all: bool = False,
        connect_timeout: float | None = 30.0,
        separator: str = "__",
        naming: NamingFn | None = None,
        recovery: ServerRecovery | bool | None = True,
        on_event: EventHandler | None = None,
        **client_options: Any,
    ) -> None:
        if not isinstance(servers, Mapping):
            raise ConfigError(
                f"servers must map names to clients or config entries, got {type(servers).__name__}"
            )
        if connect_timeout is not None and (
            isinstance(connect_timeout, bool)
            or not isinstance(connect_timeout, int | float)
            or not connect_timeout > 0
        ):
            raise ConfigError(
                f"connect_timeout must be a positive number of seconds or None, "
                f"got {connect_timeout!r}"
            )
        if not isinstance(separator, str) or re.fullmatch(r"[A-Za-z0-9_-]*", separator) is None:
            raise ConfigError(
                f"separator must use only letters, digits, '_' and '-', got {separator!r}"
            )
        if naming is not None and not callable(naming):
            raise ConfigError(f"naming must be callable, got {type(naming).__name__}")
        if recovery is True:
            recovery = ServerRecovery()
        elif recovery is False:
            recovery = None
        if recovery is not None and not isinstance(recovery, ServerRecovery):
            raise ConfigError(
                f"recovery must be a ServerRecovery, True, False or None, got {recovery!r}"
            )
        if on_event is not None and not callable(on_event):
            raise ConfigError(f"on_event must be callable, got {type(on_event).__name__}")
        self.require_all = require_all
        self.connect_timeout = connect_timeout
        self.separator = separator
        self.naming = naming
        #: How failed servers reconnect (``None``: they do not).
        self.recovery: ServerRecovery | None = recovery
        self._on_event = on_event
        #: The configuration the group was built from (set by :meth:`from_config`).
        self.config: MCPConfig | None = None
        #: Servers whose last ``list_*`` failed (those calls skip them), with the errors.
        self.list_errors: dict[str, Exception] = {}
        #: Errors raised while closing, by server (they are logged, never raised).
        self.close_errors: dict[str, BaseException] = {}
        #: Names of disabled config entries (not started).
        self.disabled: tuple[str, ...] = ()
        self._parent: MCPClientGroup | None = None
        self._servers: dict[str, GroupMember] = {}
        self._specs: dict[str, ServerSpec] = {}
        disabled: list[str] = []
        for name, entry in servers.items():
            built = self._build(name, entry, client_options)
            if built is None:
                disabled.append(name)
                continue
            client, factory = built
            self._servers[name] = GroupMember(name, client, factory)
            self._watch_changes(self._servers[name])
        self.disabled = tuple(disabled)
        self._open = False
        self._closed = False
        self._init_views()

    def _init_views(self) -> None:
        # The group-wide names of the catalogue; a name of a failed server stays routed
        # (to its ServerUnavailableError) while its last tool list is known.
        self._routes: dict[str, tuple[str, str]] | None = None
        self._prompt_routes: dict[str, tuple[str, str]] = {}
        self._resource_servers: dict[str, list[str]] = {}
        self._closed_failures: dict[str, BaseException] | None = None
        self._queues: list[EventQueue] = []
        self._views: weakref.WeakSet[MCPClientGroup] = weakref.WeakSet()
        self._tasks: set[asyncio.Task[Any]] = set()

    def _build(
        self, name: object, entry: object, client_options: Mapping[str, Any]
    ) -> tuple[AsyncMCPClient, ClientFactory | None] | None:
        if not isinstance(name, str) or not name:
            raise ConfigError(f"server names must be non-empty strings, got {name!r}")
        if isinstance(entry, AsyncMCPClient):
            return entry, None
        if isinstance(entry, Mapping):
            spec = parse_server(name, entry)
            if spec is None:
                return None
        elif isinstance(entry, ServerSpec):
            spec = entry
        elif callable(entry):
            client = call_factory(name, entry)
            return client, entry
        else:
            raise ConfigError(
                f"server {name!r}: expected an AsyncMCPClient, a config entry dict, a "
                f"ServerSpec or a client factory, got {type(entry).__name__}"
            )
        self._specs[name] = spec
        options = dict(client_options)
        return spec.client(**options), lambda: spec.client(**options)

    @classmethod
    def from_config(
        cls,
        source: str | os.PathLike[str] | Mapping[str, Any],
        *,
        require_all: bool = False,
        connect_timeout: float | None = 30.0,
        separator: str = "__",
        naming: NamingFn | None = None,
        environ: Mapping[str, str] | None = None,
        recovery: ServerRecovery | bool | None = True,
        on_event: EventHandler | None = None,
        **client_options: Any,
    ) -> MCPClientGroup:
        """A group for the servers of an ``mcpServers`` (or VS Code ``servers``) file or dict.

        ``${VAR}`` / ``${VAR:-default}`` are expanded from ``environ`` (default
        ``os.environ``). Relative paths of a file are taken from its project folder
        (:func:`~mcp_async.group.config.project_folder`; docs/groups.md). The other
        arguments are those of the constructor.
        """
        config = load_mcp_config(source, environ=environ)
        group = cls(
            {spec.name: spec for spec in config.servers},
            require_all=require_all, connect_timeout=connect_timeout, separator=separator,
            naming=naming, recovery=recovery, on_event=on_event, **client_options,
        )
        group.config = config
        group.disabled = config.disabled
        return group

    def __repr__(self) -> str:
        kind = "MCPClientGroup view" if self._parent is not None else "MCPClientGroup"
        return (
            f"<{kind} {len(self._servers)} servers: {len(self.names)} connected, "
            f"{len(self.failed)} failed>"
        )

    def subset(self, names: Iterable[str]) -> MCPClientGroup:
        """A group over some of this group's servers, sharing their clients (nothing is
        opened again).

        The view lists, routes and fans out over its servers only, follows their
        failures and reconnections, and has its own :meth:`events`. Closing it (or
        leaving its ``async with``) closes nothing: the servers belong to the group they
        came from, and the view stops working when that group closes. An unknown or
        disabled name is an :class:`UnknownServerError`.
        """
        if isinstance(names, str):
            raise ConfigError("subset takes a list of server names, not one string")
        chosen: list[str] = []
        for name in names:
            if not isinstance(name, str) or name not in self._servers:
                raise self._unknown(name if isinstance(name, str) else repr(name))
            if name not in chosen:
                chosen.append(name)
        root = self._root()
        view = object.__new__(type(self))
        view.require_all = root.require_all
        view.connect_timeout = root.connect_timeout
        view.separator = root.separator
        view.naming = root.naming
        view.recovery = root.recovery
        view._on_event = None
        view.config = root.config
        view.list_errors = {}
        view.close_errors = {}
        view.disabled = ()
        view._parent = root
        view._servers = {name: self._servers[name] for name in chosen}
        view._specs = {}
        view._open = root._open
        view._closed = False
        view._init_views()
        root._views.add(view)
        return view

    # -- lifecycle -----------------------------------------------------------------------------
    async def __aenter__(self) -> MCPClientGroup:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def open(self) -> None:
        """Connect every server concurrently, each within ``connect_timeout``.

        Failures go to :attr:`failures` (and reconnect in the background, per
        ``recovery``); with ``require_all`` they close the group and raise
        :class:`GroupConnectError`. On a :meth:`subset` view it only checks that the
        group it came from is open.
        """
        if self._closed:
            raise ClientStateError("group is closed; create a new MCPClientGroup")
        if self._parent is not None:
            if not self._parent._open:
                raise ClientStateError("the group this view came from is not open")
            self._open = True
            return
        if self._open:
            raise ClientStateError("group is already open; enter it only once")
        self._open = True
        try:
            await asyncio.gather(*(self._connect(server) for server in self._servers.values()))
        except BaseException:
            await self.aclose()
            raise
        failures = self.failures
        if failures and self.require_all:
            await self.aclose()
            raise GroupConnectError(failures, len(self._servers)) from next(  # type: ignore[arg-type]
                iter(failures.values())
            )
        for server in self._servers.values():
            if server.state == "active":
                self._watch_exit(server)
            elif self.recovery is not None and server.factory is not None:
                self._spawn(self._recover(server, immediate=False))

    async def _connect(self, server: GroupMember) -> None:
        client = server.client
        scope = asyncio.timeout(self.connect_timeout)
        try:
            async with scope:
                await client.open()
                await client.initialize()
        except Exception as exc:
            server.error = self._connect_error(server.name, exc, scope.expired())
            server.state = "failed"
            await self._close_client(server.name, client)
            return
        except BaseException:
            await self._close_client(server.name, client)
            raise
        server.state = "active"
        server.opened_at = time.time()

    async def aclose(self) -> None:
        """Close every server, stdio processes included, even when some fail to close;
        background reconnects stop first.

        Errors are logged and kept in :attr:`close_errors`, never raised. Idempotent.
        On a :meth:`subset` view it closes the view only (the servers stay open).
        """
        if self._closed_failures is None:
            self._closed_failures = self.failed
        was_open, self._open, self._closed = self._open, False, True
        for queue in self._queues:
            queue.close()
        self._queues.clear()
        if self._parent is not None or not was_open:
            return
        for view in list(self._views):
            await view.aclose()
        tasks = [task for task in self._tasks if not task.done()]
        for task in tasks:
            task.cancel()
        for server in self._servers.values():
            if server.tools_task is not None:
                server.tools_task.cancel()
                server.tools_task = None
        try:
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            for server in self._servers.values():
                server.state = "closed"
                server.opened_at = None
            await asyncio.gather(*(
                self._close_client(name, server.client)
                for name, server in self._servers.items()
            ))
