"""``MCPClientGroup``: many MCP servers used as one.

::

    group = MCPClientGroup.from_config("~/.cursor/mcp.json")
    async with group:                                   # every server connects at once
        for tool in await group.list_tools():           # one catalogue, unique names
            print(tool.name, tool.server)
        result = await group.call_tool("files__read_file", {"path": "README.md"})
        batch = await group.call_tools(calls, concurrency=16, per_server=4)

A server that fails to start or connect is set aside in :attr:`MCPClientGroup.failures`
(or, with ``require_all=True``, fails the opening with :class:`GroupConnectError`).
Names are ``f"{server}{separator}{tool}"`` made to fit ``^[A-Za-z0-9_-]{1,64}$`` (what
LLM tool APIs accept): other characters become ``_``, longer names keep a prefix and a
short blake2s hash of the full name, and a name already taken gets such a hash too.
The configuration format is in :mod:`mcp_async._mcp_config`.
"""

from __future__ import annotations

import asyncio
import difflib
import hashlib
import logging
import os
import re
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from ._batch import (
    BatchResult,
    CallLike,
    OutcomeStream,
    ProgressOption,
    ToolCall,
    gather_bounded,
    stream_bounded,
)
from ._client import AsyncMCPClient
from ._config import TimeoutLike
from ._exceptions import (
    ClientStateError,
    ConfigError,
    ConnectError,
    ConnectTimeout,
    MCPClientError,
    UnknownToolError,
)
from ._mcp_config import MCPConfig, ServerSpec, load_mcp_config, parse_server
from ._schemas import check_format, export_tools
from .models import (
    CallToolResult,
    GetPromptResult,
    Prompt,
    ReadResourceResult,
    Resource,
    ResourceTemplate,
    ServerCapabilities,
    Tool,
)

if TYPE_CHECKING:
    from .retry import RetryPolicy

__all__ = [
    "NAME_PATTERN",
    "GroupConnectError",
    "GroupPrompt",
    "GroupResource",
    "GroupResourceTemplate",
    "GroupTool",
    "MCPClientGroup",
    "NamingFn",
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


# -- the group --------------------------------------------------------------------------------

ServerEntry = AsyncMCPClient | ServerSpec | Mapping[str, Any]


class MCPClientGroup:
    """Several MCP servers (stdio, Streamable HTTP, legacy SSE) used as one.

    Args:
        servers: server name → an unopened :class:`~mcp_async.AsyncMCPClient` (the group
            opens and closes it), a config entry dict (as in an ``mcpServers`` file) or a
            :class:`~mcp_async.ServerSpec`. Disabled entries are skipped.
        require_all: raise :class:`GroupConnectError` on entering when any server fails,
            instead of recording it in :attr:`failures`.
        connect_timeout: seconds each server gets to start and finish its handshake
            (``None``: no limit); they connect concurrently.
        separator: between the server's and the tool's name in the default naming
            (letters, digits, ``_`` and ``-`` only).
        naming: ``naming(server, name) -> str`` instead of the default naming.
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
        self.require_all = require_all
        self.connect_timeout = connect_timeout
        self.separator = separator
        self.naming = naming
        #: The configuration the group was built from (set by :meth:`from_config`).
        self.config: MCPConfig | None = None
        #: Servers that failed to start or connect, with their (typed) errors.
        self.failures: dict[str, MCPClientError] = {}
        #: Servers whose last ``list_*`` failed (those calls skip them), with the errors.
        self.list_errors: dict[str, Exception] = {}
        #: Errors raised while closing, by server (they are logged, never raised).
        self.close_errors: dict[str, BaseException] = {}
        #: Names of disabled config entries (not started).
        self.disabled: tuple[str, ...] = ()
        self._clients: dict[str, AsyncMCPClient] = {}
        self._specs: dict[str, ServerSpec] = {}
        disabled: list[str] = []
        for name, entry in servers.items():
            client = self._build(name, entry, client_options)
            if client is None:
                disabled.append(name)
                continue
            self._clients[name] = client
            client.add_notification_handler(
                "notifications/tools/list_changed", self._change_handler(name)
            )
        self.disabled = tuple(disabled)
        self._open = False
        self._closed = False
        self._connected: set[str] = set()
        # The tool catalogue: each server's list, fetched once (single flight), dropped
        # when the server says it changed; routes map group names to (server, tool).
        self._tools: dict[str, list[Tool]] = {}
        self._tool_tasks: dict[str, asyncio.Task[list[Tool]]] = {}
        self._changes = 0
        self._routes: dict[str, tuple[str, str]] | None = None
        self._prompt_routes: dict[str, tuple[str, str]] = {}
        self._resource_servers: dict[str, list[str]] = {}

    def _build(
        self, name: object, entry: object, client_options: Mapping[str, Any]
    ) -> AsyncMCPClient | None:
        if not isinstance(name, str) or not name:
            raise ConfigError(f"server names must be non-empty strings, got {name!r}")
        if isinstance(entry, AsyncMCPClient):
            return entry
        if isinstance(entry, Mapping):
            spec = parse_server(name, entry)
            if spec is None:
                return None
        elif isinstance(entry, ServerSpec):
            spec = entry
        else:
            raise ConfigError(
                f"server {name!r}: expected an AsyncMCPClient, a config entry dict or a "
                f"ServerSpec, got {type(entry).__name__}"
            )
        self._specs[name] = spec
        return spec.client(**client_options)

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
        **client_options: Any,
    ) -> MCPClientGroup:
        """A group for the servers of an ``mcpServers`` (or VS Code ``servers``) file or dict.

        ``${VAR}`` / ``${VAR:-default}`` are expanded from ``environ`` (default
        ``os.environ``). Relative paths of a file are taken from its project folder
        (:func:`~mcp_async._mcp_config.project_folder`; docs/groups.md). The other
        arguments are those of the constructor.
        """
        config = load_mcp_config(source, environ=environ)
        group = cls(
            {spec.name: spec for spec in config.servers},
            require_all=require_all, connect_timeout=connect_timeout, separator=separator,
            naming=naming, **client_options,
        )
        group.config = config
        group.disabled = config.disabled
        return group

    # -- servers -------------------------------------------------------------------------------
    @property
    def names(self) -> list[str]:
        """The connected servers' names, in configuration order."""
        return [name for name in self._clients if name in self._connected]

    @property
    def servers(self) -> list[str]:
        """Every enabled server's name (connected or not), in configuration order."""
        return list(self._clients)

    def spec(self, name: str) -> ServerSpec | None:
        """The config entry a server was built from (``None`` for a client given as such)."""
        return self._specs.get(name)

    def __getitem__(self, name: str) -> AsyncMCPClient:
        """The connected server's client; :class:`UnknownServerError` otherwise."""
        if name in self._connected:
            return self._clients[name]
        failure = self.failures.get(name)
        if failure is not None:
            raise UnknownServerError(
                name,
                f"server {name!r} is not connected: it failed with "
                f"{type(failure).__name__}: {failure}",
            ) from failure
        if name in self.disabled:
            raise UnknownServerError(name, f"server {name!r} is disabled in the configuration")
        if name in self._clients:
            raise UnknownServerError(
                name, f"server {name!r} is not connected; use 'async with group'"
            )
        known = ", ".join(repr(n) for n in self._clients) or "none"
        raise UnknownServerError(name, f"no server named {name!r} (servers: {known})")

    def __contains__(self, name: object) -> bool:
        return name in self._connected

    def __repr__(self) -> str:
        return (
            f"<MCPClientGroup {len(self._clients)} servers: {len(self._connected)} connected, "
            f"{len(self.failures)} failed>"
        )

    # -- lifecycle -----------------------------------------------------------------------------
    async def __aenter__(self) -> MCPClientGroup:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def open(self) -> None:
        """Connect every server concurrently, each within ``connect_timeout``.

        Failures go to :attr:`failures`; with ``require_all`` they close the group and
        raise :class:`GroupConnectError`.
        """
        if self._open:
            raise ClientStateError("group is already open; enter it only once")
        if self._closed:
            raise ClientStateError("group is closed; create a new MCPClientGroup")
        self._open = True
        try:
            await asyncio.gather(*(self._connect(name) for name in self._clients))
        except BaseException:
            await self.aclose()
            raise
        self.failures = {name: self.failures[name] for name in self._clients
                         if name in self.failures}
        if self.failures and self.require_all:
            await self.aclose()
            raise GroupConnectError(self.failures, len(self._clients)) from next(
                iter(self.failures.values())
            )

    async def _connect(self, name: str) -> None:
        client = self._clients[name]
        scope = asyncio.timeout(self.connect_timeout)
        try:
            async with scope:
                await client.open()
                await client.initialize()
        except Exception as exc:
            self.failures[name] = self._connect_error(name, exc, scope.expired())
            await self._close_client(name, client)
            return
        except BaseException:
            await self._close_client(name, client)
            raise
        self._connected.add(name)

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
            self.close_errors[name] = exc
            logger.warning("closing MCP server %r failed: %s: %s", name, type(exc).__name__, exc,
                           exc_info=exc)

    async def aclose(self) -> None:
        """Close every server, stdio processes included, even when some fail to close.

        Errors are logged and kept in :attr:`close_errors`, never raised. Idempotent.
        """
        was_open, self._open, self._closed = self._open, False, True
        if not was_open:
            return
        for task in self._tool_tasks.values():
            task.cancel()
        self._tool_tasks.clear()
        self._connected.clear()
        await asyncio.gather(
            *(self._close_client(name, client) for name, client in self._clients.items())
        )

    def _require_open(self) -> None:
        if not self._open:
            raise ClientStateError(
                "group is closed" if self._closed
                else "group is not open; use 'async with MCPClientGroup(...) as group'"
            )

    # -- the catalogue -------------------------------------------------------------------------
    def _change_handler(self, name: str) -> Callable[[dict[str, Any]], None]:
        def changed(params: dict[str, Any]) -> None:
            self._tools.pop(name, None)
            self._tool_tasks.pop(name, None)
            self._changes += 1
            self._routes = None

        return changed

    async def list_tools(self, *, strict: bool = False) -> list[GroupTool]:
        """Every connected server's tools under group-wide names, in configuration order.

        Each server's list is fetched once and kept until the server sends
        ``notifications/tools/list_changed``. A server whose list fails is left out,
        logged and recorded in :attr:`list_errors`; ``strict=True`` raises its error.
        """
        self._require_open()
        changes = self._changes
        per_server = await self._collect("tools", self._server_tools, strict)
        entries: list[tuple[str, Tool]] = []
        for server in self._clients:
            seen: set[str] = set()
            for tool in per_server.get(server, ()):
                if tool.name not in seen:  # a server listing a tool twice: keep the first
                    seen.add(tool.name)
                    entries.append((server, tool))
        names = self._names((server, tool.name) for server, tool in entries)
        items = [GroupTool(name, server, tool)
                 for name, (server, tool) in zip(names, entries, strict=True)]
        if changes == self._changes:
            self._routes = {item.name: (item.server, item.tool.name) for item in items}
        return items

    def _names(self, entries: Iterable[tuple[str, str]]) -> list[str]:
        return assign_names(entries, separator=self.separator, naming=self.naming)

    async def _server_tools(self, name: str) -> list[Tool]:
        cached = self._tools.get(name)
        if cached is not None:
            return cached
        task = self._tool_tasks.get(name)
        if task is None or task.done():
            task = asyncio.ensure_future(self._fetch_tools(name, self._changes))
            task.add_done_callback(_retrieve)
            self._tool_tasks[name] = task
        return await asyncio.shield(task)

    async def _fetch_tools(self, name: str, changes: int) -> list[Tool]:
        client = self._clients[name]
        tools = await client.list_tools() if _supports(client, "tools") else []
        if changes == self._changes:
            self._tools[name] = tools
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
        entries = [(s, p) for s in self._clients for p in per_server.get(s, ())]
        names = self._names((server, prompt.name) for server, prompt in entries)
        self._prompt_routes = {n: (s, p.name) for n, (s, p) in zip(names, entries, strict=True)}
        return [GroupPrompt(name, s, p) for name, (s, p) in zip(names, entries, strict=True)]

    async def list_resources(self, *, strict: bool = False) -> list[GroupResource]:
        """Every connected server's resources; ``name`` is group-wide, ``uri`` unchanged."""
        self._require_open()
        per_server = await self._collect("resources", self._lister("resources"), strict)
        entries = [(s, r) for s in self._clients for r in per_server.get(s, ())]
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
        entries = [(s, t) for s in self._clients for t in per_server.get(s, ())]
        names = self._names((server, template.name) for server, template in entries)
        return [
            GroupResourceTemplate(name, s, t) for name, (s, t) in zip(names, entries, strict=True)
        ]

    def _lister(self, what: str) -> Callable[[str], Awaitable[list[Any]]]:
        async def fetch(name: str) -> list[Any]:
            client = self._clients[name]
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
        ``"mcp"`` (see :func:`mcp_async._schemas.export_tools`), under group-wide names."""
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

    async def call_tool(
        self, name: str, arguments: Mapping[str, Any] | None = None, **options: Any
    ) -> CallToolResult:
        """Call a tool by its group-wide name on the server that has it.

        ``options`` are those of :meth:`AsyncMCPClient.call_tool` (``timeout``,
        ``progress``, ``raise_on_error``, ...). An unknown name raises
        :class:`UnknownToolError` (after refreshing the catalogue once).
        """
        self._require_open()
        server, tool = await self._resolve(name)
        result: CallToolResult = await self._clients[server].call_tool(tool, arguments, **options)
        return result

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
        return await self._clients[server].get_prompt(prompt, arguments)

    async def read_resource(self, uri: str, *, server: str | None = None) -> ReadResourceResult:
        """Read a resource from ``server``, or from the one server that lists ``uri``."""
        self._require_open()
        if server is not None:
            return await self[server].read_resource(uri)
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
        return await self._clients[holders[0]].read_resource(uri)

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
        clients = self._clients

        async def call(item: CallLike) -> CallToolResult:
            tool_call = ToolCall.coerce(item)
            routes = self._routes
            found = routes.get(tool_call.name) if routes is not None else None
            server, tool = found if found is not None else await self._resolve(tool_call.name)
            if bound is None:
                return await send(clients[server], tool, tool_call)
            semaphore = semaphores.get(server)
            if semaphore is None:
                semaphore = semaphores[server] = asyncio.Semaphore(bound)
            await semaphore.acquire()  # not ``async with``: one coroutine less per call
            try:
                return await send(clients[server], tool, tool_call)
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

