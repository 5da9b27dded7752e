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
"""

from __future__ import annotations

import asyncio
import difflib
import hashlib
import inspect
import logging
import os
import random
import re
import time
import weakref
from collections import deque
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Coroutine,
    Iterable,
    Mapping,
)
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from .._config import TimeoutLike
from .._exceptions import (
    ClientStateError,
    ConfigError,
    ConnectError,
    ConnectionLostError,
    ConnectTimeout,
    EraError,
    MCPClientError,
    ServerExitedError,
    UnknownToolError,
)
from ..client.async_client import AsyncMCPClient
from ..features.batch import (
    BatchResult,
    CallLike,
    OutcomeStream,
    ProgressOption,
    ToolCall,
    gather_bounded,
    stream_bounded,
)
from ..features.schemas import check_format, export_tools
from ..protocol.models import (
    CallToolResult,
    GetPromptResult,
    Prompt,
    ReadResourceResult,
    Resource,
    ResourceTemplate,
    ServerCapabilities,
    Tool,
)
from .config import MCPConfig, ServerSpec, load_mcp_config, parse_server

if TYPE_CHECKING:
    from ..policies.retry import RetryPolicy

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

logger = logging.getLogger("mcp_async")

_T = TypeVar("_T")

#: What a namespaced name must match (the tool-name rule of the OpenAI and Anthropic APIs).
NAME_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")
_MAX_NAME = 64
_HASH_CHARS = 8  # blake2s, 4 bytes, in hex
_NOT_ALLOWED = re.compile(r"[^A-Za-z0-9_-]")

#: ``naming(server, name) -> str``: a custom namespaced name for a server's tool (or
#: prompt, resource, template). The result must match :data:`NAME_PATTERN`.
NamingFn = Callable[[str, str], str]


# -- errors -----------------------------------------------------------------------------------


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


# -- catalogue items --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GroupTool:
    """A tool of one server, under its group-wide ``name``; ``tool.name`` is the server's."""

    name: str
    server: str
    tool: Tool


@dataclass(frozen=True, slots=True)
class GroupPrompt:
    """A prompt of one server, under its group-wide ``name``."""

    name: str
    server: str
    prompt: Prompt


@dataclass(frozen=True, slots=True)
class GroupResource:
    """A resource of one server, under a group-wide ``name`` (its ``uri`` is unchanged)."""

    name: str
    server: str
    resource: Resource


@dataclass(frozen=True, slots=True)
class GroupResourceTemplate:
    """A resource template of one server, under a group-wide ``name``."""

    name: str
    server: str
    template: ResourceTemplate


# -- naming -----------------------------------------------------------------------------------


def _digest(server: str, name: str, salt: int = 0) -> str:
    data = f"{server}\x00{name}" + (f"\x00{salt}" if salt else "")
    digest = hashlib.blake2s(data.encode("utf-8", "surrogatepass"), digest_size=4)
    return digest.hexdigest()


def default_name(server: str, name: str, separator: str = "__") -> str:
    """``server + separator + name`` with characters outside ``[A-Za-z0-9_-]`` replaced
    by ``_``; over 64 characters, a prefix plus ``_`` and a hash of the full name."""
    joined = _NOT_ALLOWED.sub("_", f"{server}{separator}{name}")
    if len(joined) > _MAX_NAME:
        joined = f"{joined[:_MAX_NAME - _HASH_CHARS - 1]}_{_digest(server, name)}"
    return joined


def assign_names(
    entries: Iterable[tuple[str, str]],
    *,
    separator: str = "__",
    naming: NamingFn | None = None,
) -> list[str]:
    """One unique name per ``(server, name)`` entry, in order; deterministic.

    With the default naming, the first entry keeps :func:`default_name` and a later one
    that would collide gets a prefix plus a hash of its own ``(server, name)`` instead.
    A ``naming`` function's results are checked: a result that does not match
    :data:`NAME_PATTERN`, or that two entries share, raises :class:`ConfigError`.
    """
    taken: dict[str, tuple[str, str]] = {}
    names: list[str] = []
    for server, item in entries:
        if naming is not None:
            name = naming(server, item)
            if not isinstance(name, str) or NAME_PATTERN.fullmatch(name) is None:
                raise ConfigError(
                    f"naming({server!r}, {item!r}) returned {name!r}; names must match "
                    f"{NAME_PATTERN.pattern} (1 to 64 letters, digits, '_' or '-')"
                )
            if name in taken:
                raise ConfigError(
                    f"naming gave the name {name!r} to both {taken[name]} and {(server, item)}"
                )
        else:
            name = default_name(server, item, separator)
            salt = 0
            while name in taken:
                base = name[:_MAX_NAME - _HASH_CHARS - 1]
                name = f"{base}_{_digest(server, item, salt)}"
                salt += 1
        taken[name] = (server, item)
        names.append(name)
    return names


# -- resilience: states, health, events, recovery -----------------------------------------------

#: A server's state in a group: ``"connecting"`` while the group opens, ``"active"``
#: (connected, its tools in the catalogue), ``"failed"`` (waiting for its next reconnect
#: attempt, or for none), ``"reconnecting"`` (an attempt is under way) and ``"closed"``.
ServerState = Literal["connecting", "active", "failed", "reconnecting", "closed"]

#: What a :class:`GroupEvent` reports: a server ``"failed"`` (its tools left the
#: catalogue), ``"recovered"`` (reconnected, its tools are back), or its
#: ``"tools_changed"`` (it sent ``notifications/tools/list_changed``).
GroupEventKind = Literal["failed", "recovered", "tools_changed"]

#: ``factory() -> AsyncMCPClient``: builds a new, unopened client for a server; the group
#: calls it again to reconnect a server whose client it had to close.
ClientFactory = Callable[[], AsyncMCPClient]

# Errors of a call that mean the server itself is gone (not a slow or refusing server).
_LOST = (ServerExitedError, ConnectError, ConnectionLostError)


class ServerUnavailableError(UnknownServerError):
    """A call (or ``group[name]``) reached a server that is not connected now: it failed
    to connect or it died, and is waiting for a reconnect attempt (or for none).

    Raised at once, without waiting for the server. ``server`` names it, ``error`` is its
    last error (also the ``__cause__``). A subclass of :class:`UnknownServerError`.
    """

    def __init__(self, server: str, message: str, error: BaseException | None) -> None:
        super().__init__(server, message)
        self.error = error


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


@dataclass(frozen=True, slots=True)
class GroupEvent:
    """A change of a group's catalogue (see :meth:`MCPClientGroup.events`).

    After any event, :meth:`MCPClientGroup.list_tools` gives the new catalogue.
    ``error`` is set for ``"failed"``. ``missed`` counts the events an
    :meth:`~MCPClientGroup.events` reader lost before this one by falling behind.
    """

    kind: GroupEventKind
    server: str
    error: BaseException | None = None
    missed: int = 0


#: ``on_event(event)``: called for each :class:`GroupEvent`; may return an awaitable.
EventHandler = Callable[[GroupEvent], Awaitable[None] | None]

_EVENT_BACKLOG = 256  # events kept per events() reader that falls behind


class _EventQueue:
    """The events of one :meth:`MCPClientGroup.events` reader: bounded; the oldest are
    dropped (and counted in the next event's ``missed``) when the reader falls behind."""

    def __init__(self) -> None:
        self.items: deque[GroupEvent] = deque()
        self.missed = 0
        self.closed = False
        self._wakeup: asyncio.Event = asyncio.Event()

    def put(self, event: GroupEvent) -> None:
        if len(self.items) >= _EVENT_BACKLOG:
            self.items.popleft()
            self.missed += 1
        self.items.append(event)
        self._wakeup.set()

    def close(self) -> None:
        self.closed = True
        self._wakeup.set()

    async def get(self) -> GroupEvent | None:
        while not self.items:
            if self.closed:
                return None
            self._wakeup.clear()
            await self._wakeup.wait()
        event = self.items.popleft()
        if self.missed:
            event, self.missed = replace(event, missed=self.missed), 0
        return event


class _Server:
    """One server of a group: its current client, state, statistics and tool list.

    Shared by a group and its :meth:`~MCPClientGroup.subset` views, so that a view sees
    the client a reconnect put in place."""

    __slots__ = (
        "attempt", "calls", "client", "error", "factory", "failures", "generation",
        "name", "opened_at", "reconnects", "state", "tools", "tools_task",
    )

    def __init__(self, name: str, client: AsyncMCPClient, factory: ClientFactory | None):
        self.name = name
        self.client = client
        self.factory = factory
        self.state: ServerState = "connecting"
        self.error: BaseException | None = None
        self.opened_at: float | None = None
        self.calls = 0
        self.failures = 0
        self.reconnects = 0
        # Bumped whenever the server's tools may have changed (list_changed, failure,
        # recovery): a list fetched under an older generation is not kept.
        self.generation = 0
        self.tools: list[Tool] | None = None
        self.tools_task: asyncio.Task[list[Tool]] | None = None
        #: Set while a reconnect attempt runs in place (calls may wait for it).
        self.attempt: asyncio.Future[None] | None = None


# -- the group --------------------------------------------------------------------------------

ServerEntry = AsyncMCPClient | ServerSpec | Mapping[str, Any] | ClientFactory


class MCPClientGroup:
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
        self._servers: dict[str, _Server] = {}
        self._specs: dict[str, ServerSpec] = {}
        disabled: list[str] = []
        for name, entry in servers.items():
            built = self._build(name, entry, client_options)
            if built is None:
                disabled.append(name)
                continue
            client, factory = built
            self._servers[name] = _Server(name, client, factory)
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
        self._queues: list[_EventQueue] = []
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
            client = _call_factory(name, entry)
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

    # -- servers -------------------------------------------------------------------------------
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

    def _server(self, name: str) -> _Server:
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
            server.state in ("failed", "reconnecting") and _restartable(server.client)
        ):
            return server.client
        if server.error is not None:
            raise self._unavailable(server) from server.error
        raise UnknownServerError(
            name, f"server {name!r} is not connected; use 'async with group'"
        )

    def _unavailable(self, server: _Server) -> ServerUnavailableError:
        error = server.error
        detail = f": {type(error).__name__}: {error}" if error is not None else ""
        if server.state == "reconnecting":
            what = "it is reconnecting"
        elif self._root().recovery is not None and server.state == "failed" and (
            server.factory is not None or _restartable(server.client)
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

    def __repr__(self) -> str:
        kind = "MCPClientGroup view" if self._parent is not None else "MCPClientGroup"
        return (
            f"<{kind} {len(self._servers)} servers: {len(self.names)} connected, "
            f"{len(self.failed)} failed>"
        )

    # -- views ---------------------------------------------------------------------------------
    def _root(self) -> MCPClientGroup:
        return self._parent if self._parent is not None else self

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

    async def _connect(self, server: _Server) -> None:
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

    def _require_open(self) -> None:
        parent = self._parent
        if not self._open or (parent is not None and not parent._open):
            raise ClientStateError(
                "group is closed" if self._closed or (parent is not None and parent._closed)
                else "group is not open; use 'async with MCPClientGroup(...) as group'"
            )

    # -- failures and recovery ------------------------------------------------------------------
    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("a background task of an MCP client group failed",
                         exc_info=task.exception())

    def _watch_exit(self, server: _Server) -> None:
        """Notice at once when a stdio server's process ends (not at the next call)."""
        done = _exit_watch(server.client)
        if done is None:
            return
        client = server.client
        root = self._root()

        async def watch() -> None:
            await asyncio.wait({done})
            if root._open and server.client is client and server.state == "active":
                root._lost(server, client, _exit_error(client, server.name))

        root._spawn(watch())

    def _lost(self, server: _Server, client: AsyncMCPClient, error: BaseException) -> None:
        """``client`` of ``server`` was found dead: take its tools out, say so, and
        reconnect it in the background (a first attempt at once)."""
        root = self._root()
        if not root._open or server.client is not client or server.state != "active":
            return
        server.state = "failed"
        server.error = error
        server.opened_at = None
        server.generation += 1
        logger.info("MCP server %r failed (%s: %s)%s", server.name, type(error).__name__,
                    error, "; reconnecting" if root.recovery is not None else "")
        if root.recovery is not None and _restartable(client):
            # The restart in place is due shortly: calls wait for it (as they would
            # have restarted the server themselves) instead of failing.
            server.state = "reconnecting"
            server.attempt = asyncio.get_running_loop().create_future()
        root._emit(GroupEvent("failed", server.name, error))
        if root.recovery is not None:
            root._spawn(root._recover(server, immediate=True))

    async def _recover(self, server: _Server, *, immediate: bool) -> None:
        """Reconnect ``server`` with backoff until it is back, the attempts run out, or
        the group closes (which cancels this task)."""
        policy = self.recovery
        assert policy is not None
        attempt = 0
        try:
            while True:
                attempt += 1
                if policy.max_attempts is not None and attempt > policy.max_attempts:
                    logger.info("MCP server %r: no reconnect attempt left", server.name)
                    return
                wait = policy.restart_delay if immediate and attempt == 1 else policy.delay(
                    attempt - 1 if immediate else attempt
                )
                if wait:
                    await asyncio.sleep(wait)
                if not _restartable(server.client) and server.factory is None:
                    return  # nothing can bring it back
                if await self._attempt(server):
                    return
        finally:
            _settle(server)
            if server.state == "reconnecting":
                server.state = "failed"

    async def _attempt(self, server: _Server) -> bool:
        """One reconnect attempt: restart the client in place when it can, else build a
        new one; True when the server is back."""
        old = server.client
        in_place = _restartable(old)
        try:
            client = old if in_place else _call_factory(server.name, server.factory)
        except Exception as exc:  # a factory that fails: this attempt failed, not the task
            server.error = self._connect_error(server.name, exc, False)
            logger.warning("the client factory of MCP server %r failed: %s: %s",
                           server.name, type(exc).__name__, exc)
            return False
        if not in_place:
            self._watch_changes(server, client)
        server.state = "reconnecting"
        if in_place and server.attempt is None:
            server.attempt = asyncio.get_running_loop().create_future()
        scope = asyncio.timeout(self.connect_timeout)
        adopted = False
        try:
            async with scope:
                if not in_place:
                    await client.open()
                await client.initialize()
                if in_place:
                    await _alive(client)
            adopted = True
        except Exception as exc:
            server.error = self._connect_error(server.name, exc, scope.expired())
            server.state = "failed"
            logger.debug("reconnecting MCP server %r failed: %s", server.name, server.error)
            if in_place and scope.expired() and server.factory is not None:
                await self._close_client(server.name, old)  # stuck: the next is a new one
            return False
        finally:
            _settle(server)
            if not adopted and not in_place:
                await self._close_client(server.name, client)
        if client is not old:
            server.client = client
            if not old.closed:
                await self._close_client(server.name, old)
        server.state = "active"
        server.opened_at = time.time()
        server.reconnects += 1
        server.generation += 1
        server.tools = None
        logger.info("MCP server %r reconnected", server.name)
        self._emit(GroupEvent("recovered", server.name))
        self._watch_exit(server)
        return True

    async def _client_for(self, server: _Server) -> AsyncMCPClient:
        """The server's client for a call: at once when active; after the attempt under
        way when it is restarted in place; else :class:`ServerUnavailableError`."""
        attempt = server.attempt
        if server.state == "reconnecting" and attempt is not None:
            await asyncio.shield(attempt)  # bounded by connect_timeout
        if server.state == "active":
            return server.client
        raise self._unavailable(server) from server.error

    def _watch_changes(self, server: _Server, client: AsyncMCPClient | None = None) -> None:
        client = client if client is not None else server.client

        def changed(params: dict[str, Any]) -> None:
            if server.client is not client:
                return
            if server.tools_task is not None:
                server.tools_task = None
            server.tools = None
            server.generation += 1
            self._root()._emit(GroupEvent("tools_changed", server.name))

        client.add_notification_handler("notifications/tools/list_changed", changed)

    # -- events --------------------------------------------------------------------------------
    def events(self) -> AsyncIterator[GroupEvent]:
        """``async for event in group.events()``: each :class:`GroupEvent` from now on
        (a server failed, recovered, or changed its tools), until the group closes.

        Each reader has its own queue; one that falls behind by more than 256 events
        loses the oldest and is told how many in the next event's ``missed``.
        """
        self._require_open()
        queue = _EventQueue()
        self._queues.append(queue)
        return self._read_events(queue)

    async def _read_events(self, queue: _EventQueue) -> AsyncIterator[GroupEvent]:
        try:
            while True:
                event = await queue.get()
                if event is None:
                    return
                yield event
        finally:
            queue.close()
            if queue in self._queues:
                self._queues.remove(queue)

    def _emit(self, event: GroupEvent) -> None:
        for group in (self, *self._views):
            if event.server not in group._servers:
                continue
            if event.kind != "failed":  # a failed server's names stay routed (to its error)
                group._routes = None
            for queue in group._queues:
                queue.put(event)
        handler = self._on_event
        if handler is None:
            return
        try:
            outcome = handler(event)
        except Exception:
            logger.exception("the on_event handler of an MCP client group failed")
            return
        if outcome is not None and inspect.isawaitable(outcome):
            self._spawn(_quietly(outcome))

    # -- the catalogue -------------------------------------------------------------------------
    def _generation(self) -> int:
        return sum(server.generation for server in self._servers.values())

    async def list_tools(self, *, strict: bool = False) -> list[GroupTool]:
        """Every connected server's tools under group-wide names, in configuration order.

        Each server's list is fetched once and kept until the server sends
        ``notifications/tools/list_changed`` (or fails and comes back). A server whose
        list fails is left out, logged and recorded in :attr:`list_errors`;
        ``strict=True`` raises its error. The tools of a failed server leave the list
        and come back when it reconnects.
        """
        self._require_open()
        generation = self._generation()
        per_server = await self._collect("tools", self._server_tools, strict)
        entries: list[tuple[str, Tool]] = []
        listed: set[str] = set()
        for name, server in self._servers.items():
            tools = per_server.get(name)
            if tools is None and server.state in ("failed", "reconnecting"):
                tools = server.tools  # last known: its names stay taken, and routed
            else:
                listed.add(name)
            seen: set[str] = set()
            for tool in tools or ():
                if tool.name not in seen:  # a server listing a tool twice: keep the first
                    seen.add(tool.name)
                    entries.append((name, tool))
        names = self._names((server, tool.name) for server, tool in entries)
        items = [GroupTool(name, server, tool)
                 for name, (server, tool) in zip(names, entries, strict=True)]
        if generation == self._generation():
            self._routes = {item.name: (item.server, item.tool.name) for item in items}
        return [item for item in items if item.server in listed]

    def _names(self, entries: Iterable[tuple[str, str]]) -> list[str]:
        return assign_names(entries, separator=self.separator, naming=self.naming)

    async def _server_tools(self, name: str) -> list[Tool]:
        server = self._servers[name]
        cached = server.tools
        if cached is not None:
            return cached
        task = server.tools_task
        if task is None or task.done():
            task = asyncio.ensure_future(self._fetch_tools(server, server.generation))
            task.add_done_callback(_retrieve)
            server.tools_task = task
        return await asyncio.shield(task)

    async def _fetch_tools(self, server: _Server, generation: int) -> list[Tool]:
        client = server.client
        tools = await client.list_tools() if _supports(client, "tools") else []
        if generation == server.generation:
            server.tools = tools
        return tools

    async def _collect(
        self,
        what: str,
        fetch: Callable[[str], Awaitable[list[_T]]],
        strict: bool,
    ) -> dict[str, list[_T]]:
        """``fetch(server)`` for every connected server at once; failures per ``strict``."""
        names = self.names
        results = await asyncio.gather(*(fetch(name) for name in names), return_exceptions=True)
        out: dict[str, list[_T]] = {}
        for name, result in zip(names, results, strict=True):
            if isinstance(result, Exception):
                server = self._servers[name]
                if isinstance(result, _LOST):
                    self._lost(server, server.client, result)
                if strict:
                    result.add_note(f"(listing the {what} of MCP server {name!r})")
                    raise result
                self.list_errors[name] = result
                logger.warning("listing the %s of MCP server %r failed: %s: %s",
                               what, name, type(result).__name__, result)
            elif isinstance(result, BaseException):
                raise result
            else:
                self.list_errors.pop(name, None)
                out[name] = result
        return out

    async def list_prompts(self, *, strict: bool = False) -> list[GroupPrompt]:
        """Every connected server's prompts under group-wide names (see :meth:`list_tools`)."""
        self._require_open()
        per_server = await self._collect("prompts", self._lister("prompts"), strict)
        entries = [(s, p) for s in self._servers for p in per_server.get(s, ())]
        names = self._names((server, prompt.name) for server, prompt in entries)
        self._prompt_routes = {n: (s, p.name) for n, (s, p) in zip(names, entries, strict=True)}
        return [GroupPrompt(name, s, p) for name, (s, p) in zip(names, entries, strict=True)]

    async def list_resources(self, *, strict: bool = False) -> list[GroupResource]:
        """Every connected server's resources; ``name`` is group-wide, ``uri`` unchanged."""
        self._require_open()
        per_server = await self._collect("resources", self._lister("resources"), strict)
        entries = [(s, r) for s in self._servers for r in per_server.get(s, ())]
        names = self._names((server, resource.name) for server, resource in entries)
        servers: dict[str, list[str]] = {}
        for server, resource in entries:
            holders = servers.setdefault(resource.uri, [])
            if server not in holders:
                holders.append(server)
        self._resource_servers = servers
        return [GroupResource(name, s, r) for name, (s, r) in zip(names, entries, strict=True)]

    async def list_resource_templates(
        self, *, strict: bool = False
    ) -> list[GroupResourceTemplate]:
        """Every connected server's resource templates under group-wide names."""
        self._require_open()
        per_server = await self._collect("templates", self._lister("templates"), strict)
        entries = [(s, t) for s in self._servers for t in per_server.get(s, ())]
        names = self._names((server, template.name) for server, template in entries)
        return [
            GroupResourceTemplate(name, s, t) for name, (s, t) in zip(names, entries, strict=True)
        ]

    def _lister(self, what: str) -> Callable[[str], Awaitable[list[Any]]]:
        async def fetch(name: str) -> list[Any]:
            client = self._servers[name].client
            capability = "prompts" if what == "prompts" else "resources"
            if not _supports(client, capability):
                return []
            if what == "prompts":
                return await client.list_prompts()
            if what == "resources":
                return await client.list_resources()
            return await client.list_resource_templates()

        return fetch

    async def tool_schemas(self, format: str = "openai") -> list[dict[str, Any]]:
        """The catalogue as plain dicts for a model API: ``"openai"``, ``"anthropic"`` or
        ``"mcp"`` (see :func:`mcp_async.features.schemas.export_tools`), under group-wide names."""
        check_format(format)
        return export_tools(((tool.name, tool.tool) for tool in await self.list_tools()), format)

    # -- routing -------------------------------------------------------------------------------
    async def _resolve(self, name: str) -> tuple[str, str]:
        """``(server, tool)`` for a group-wide tool name, refreshing the catalogue once."""
        if not isinstance(name, str) or not name:
            raise ConfigError(f"tool name must be a non-empty string, got {name!r}")
        routes = self._routes
        if routes is not None:
            found = routes.get(name)
            if found is not None:
                return found
        await self.list_tools()
        found = (self._routes or {}).get(name)
        if found is None:
            raise UnknownToolError(name, hint=self._hint(name, self._routes or {}))
        return found

    def _hint(self, name: str, known: Iterable[str]) -> str:
        for server, error in self.failures.items():
            if self.naming is None and name.startswith(
                default_name(server, "", self.separator)
            ):
                return (f"; its server {server!r} failed to connect: "
                        f"{type(error).__name__}: {error}")
        close = difflib.get_close_matches(name, list(known), n=3)
        return f"; did you mean {', '.join(map(repr, close))}?" if close else ""

    async def _routed(
        self, server_name: str, call: Callable[[AsyncMCPClient], Awaitable[_T]]
    ) -> _T:
        """Run ``call(client)`` on a server, counting it; a failed server is
        :class:`ServerUnavailableError` at once, and a call that finds the server gone
        marks it failed."""
        server = self._servers[server_name]
        client = server.client if server.state == "active" else await self._client_for(server)
        server.calls += 1
        try:
            return await call(client)
        except Exception as exc:
            server.failures += 1
            if isinstance(exc, _LOST):
                self._lost(server, client, exc)
            raise

    async def call_tool(
        self, name: str, arguments: Mapping[str, Any] | None = None, **options: Any
    ) -> CallToolResult:
        """Call a tool by its group-wide name on the server that has it.

        ``options`` are those of :meth:`AsyncMCPClient.call_tool` (``timeout``,
        ``progress``, ``raise_on_error``, ...). An unknown name raises
        :class:`UnknownToolError` (after refreshing the catalogue once); a tool of a
        server that is not connected now raises :class:`ServerUnavailableError` at once.
        """
        self._require_open()
        server, tool = await self._resolve(name)
        return await self._routed(
            server, lambda client: client.call_tool(tool, arguments, **options)
        )

    async def get_prompt(
        self, name: str, arguments: Mapping[str, str] | None = None
    ) -> GetPromptResult:
        """Render a prompt by its group-wide name (as listed by :meth:`list_prompts`)."""
        self._require_open()
        found = self._prompt_routes.get(name)
        if found is None:
            await self.list_prompts()
            found = self._prompt_routes.get(name)
            if found is None:
                raise UnknownToolError(
                    name, kind="prompt", hint=self._hint(name, self._prompt_routes)
                )
        server, prompt = found
        return await self._routed(server, lambda client: client.get_prompt(prompt, arguments))

    async def read_resource(self, uri: str, *, server: str | None = None) -> ReadResourceResult:
        """Read a resource from ``server``, or from the one server that lists ``uri``."""
        self._require_open()
        if server is not None:
            self[server]  # raises the typed error for a bad name
            return await self._routed(server, lambda client: client.read_resource(uri))
        holders = self._resource_servers.get(uri)
        if holders is None:
            await self.list_resources()
            holders = self._resource_servers.get(uri)
        if not holders:
            raise UnknownToolError(uri, kind="resource", hint="; pass server= to read it anyway")
        if len(holders) > 1:
            raise ConfigError(
                f"resource {uri!r} is listed by several servers ({', '.join(holders)}); "
                "pass server= to choose one"
            )
        return await self._routed(holders[0], lambda client: client.read_resource(uri))

    # -- fan-out -------------------------------------------------------------------------------
    def bounded_caller(
        self,
        *,
        per_server: int | None = 4,
        timeout: TimeoutLike = None,
        raise_on_error: bool = False,
        idempotent: bool = False,
        retry: RetryPolicy | bool | None = None,
    ) -> Callable[[CallLike], Awaitable[CallToolResult]]:
        """``call(item)``: route one batch item and call it, at most ``per_server`` at once
        per server (across every use of this caller). The building block of
        :meth:`call_tools`, for use with :func:`~mcp_async.gather_bounded` or
        :func:`~mcp_async.stream_bounded` over items of your own."""
        bound = _check_per_server(per_server)
        semaphores: dict[str, asyncio.Semaphore] = {}

        async def call(item: CallLike) -> CallToolResult:
            tool_call = ToolCall.coerce(item)
            routes = self._routes
            found = routes.get(tool_call.name) if routes is not None else None
            server, tool = found if found is not None else await self._resolve(tool_call.name)
            if bound is None:
                return await self._routed(server, lambda client: send(client, tool, tool_call))
            semaphore = semaphores.get(server)
            if semaphore is None:
                semaphore = semaphores[server] = asyncio.Semaphore(bound)
            await semaphore.acquire()  # not ``async with``: one coroutine less per call
            try:
                return await self._routed(server, lambda client: send(client, tool, tool_call))
            finally:
                semaphore.release()

        def send(client: AsyncMCPClient, tool: str, call: ToolCall) -> Awaitable[CallToolResult]:
            return client.call_tool(
                tool, call.arguments,
                timeout=call.timeout if call.timeout is not None else timeout,
                meta=call.meta,
                raise_on_error=raise_on_error,
                idempotent=call.idempotent if call.idempotent is not None else idempotent,
                retry=retry,
            )

        return call

    async def call_tools(
        self,
        calls: Iterable[CallLike] | AsyncIterable[CallLike],
        *,
        concurrency: int = 16,
        per_server: int | None = 4,
        fail_fast: bool = False,
        progress: ProgressOption = None,
        timeout: TimeoutLike = None,
        raise_on_error: bool = False,
        idempotent: bool = False,
        retry: RetryPolicy | bool | None = None,
    ) -> BatchResult[CallToolResult]:
        """Call many tools across the group: one :class:`~mcp_async.Outcome` per call, in
        input order, with at most ``concurrency`` calls in flight and at most
        ``per_server`` on any one server (``None``: no per-server bound).

        ``calls`` are ``(group_name, arguments)`` tuples, :class:`~mcp_async.ToolCall`
        objects or names. An unknown name is that item's :class:`UnknownToolError`.
        The other options are those of :meth:`AsyncMCPClient.call_tools`.
        """
        self._require_open()
        caller = self.bounded_caller(
            per_server=per_server, timeout=timeout, raise_on_error=raise_on_error,
            idempotent=idempotent, retry=retry,
        )
        return await gather_bounded(
            calls, caller, concurrency=concurrency, fail_fast=fail_fast, progress=progress
        )

    def stream_calls(
        self,
        calls: Iterable[CallLike] | AsyncIterable[CallLike],
        *,
        concurrency: int = 16,
        per_server: int | None = 4,
        fail_fast: bool = False,
        progress: ProgressOption = None,
        timeout: TimeoutLike = None,
        raise_on_error: bool = False,
        idempotent: bool = False,
        retry: RetryPolicy | bool | None = None,
    ) -> OutcomeStream[CallToolResult]:
        """Like :meth:`call_tools`, but ``async for index, outcome in ...`` as calls
        finish; the input is read lazily and memory stays O(``concurrency``)."""
        self._require_open()
        caller = self.bounded_caller(
            per_server=per_server, timeout=timeout, raise_on_error=raise_on_error,
            idempotent=idempotent, retry=retry,
        )
        return stream_bounded(
            calls, caller, concurrency=concurrency, fail_fast=fail_fast, progress=progress
        )


def _supports(client: AsyncMCPClient, capability: str) -> bool:
    capabilities: ServerCapabilities = client.server_capabilities
    if capability == "tools":
        return capabilities.supports_tools
    if capability == "prompts":
        return capabilities.supports_prompts
    return capabilities.supports_resources


def _check_per_server(per_server: object) -> int | None:
    if per_server is None:
        return None
    if isinstance(per_server, bool) or not isinstance(per_server, int) or per_server < 1:
        raise ConfigError(f"per_server must be an integer >= 1 or None, got {per_server!r}")
    return per_server


def _retrieve(task: asyncio.Task[Any]) -> None:
    """Mark a background fetch's error as seen (it is re-raised to whoever awaits it)."""
    if not task.cancelled():
        task.exception()



def _call_factory(name: str, factory: Callable[[], Any] | None) -> AsyncMCPClient:
    if factory is None:
        raise ClientStateError(f"server {name!r} has no client factory")
    client = factory()
    if not isinstance(client, AsyncMCPClient):
        raise ConfigError(
            f"server {name!r}: the client factory returned {type(client).__name__}, "
            "not an AsyncMCPClient"
        )
    if client.closed:
        raise ConfigError(f"server {name!r}: the client factory returned a closed client")
    return client


def _restartable(client: AsyncMCPClient) -> bool:
    """Whether a reconnect can reuse ``client`` (open, and over HTTP or a stdio transport
    that starts its server again)."""
    from ..transports.stdio import StdioTransport

    if not client.is_open:
        return False
    transport = client.message_transport
    if transport is None:
        return True
    return isinstance(transport, StdioTransport) and transport.restart


def _exit_watch(client: AsyncMCPClient) -> asyncio.Future[Any] | None:
    """For a stdio client: what ends when its transport has noticed the server's exit
    (the reader of the running process); ``None`` for other transports."""
    from ..transports.stdio import StdioTransport

    transport = client.message_transport
    if not isinstance(transport, StdioTransport):
        return None
    return transport.exit_watch()


def _settle(server: _Server) -> None:
    """End the attempt calls may be waiting for (they then see the server's state)."""
    attempt, server.attempt = server.attempt, None
    if attempt is not None and not attempt.done():
        attempt.set_result(None)


def _exit_error(client: AsyncMCPClient, name: str) -> BaseException:
    from ..transports.stdio import StdioTransport

    transport = client.message_transport
    exited = transport.exit_error if isinstance(transport, StdioTransport) else None
    if exited is not None:
        return exited
    return ServerExitedError(f"MCP server {name!r} exited", exit_code=None)


async def _alive(client: AsyncMCPClient) -> None:
    """Check that a reused client's server answers: ``ping``, or ``server/discover`` in
    the 2026-07-28 era (which has no ping)."""
    try:
        await client.ping()
    except EraError:
        await client.discover(cache="bypass")


async def _quietly(outcome: Awaitable[Any]) -> None:
    try:
        await outcome
    except Exception:
        logger.exception("the on_event handler of an MCP client group failed")
