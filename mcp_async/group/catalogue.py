"""A group's merged catalogue: every connected server's tools, prompts, resources and
templates under group-wide names (:class:`GroupTool`, ...), each server's tool list kept
until it changes, and the catalogue as schemas for model APIs."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from ..client.async_client import AsyncMCPClient
from ..features.schemas import check_format, export_tools
from ..protocol.models import (
    Prompt,
    Resource,
    ResourceTemplate,
    ServerCapabilities,
    Tool,
)
from .member import LOST_ERRORS, GroupMember
from .naming import assign_names
from .recovery import GroupRecovery

__all__ = [
    "GroupCatalogue",
    "GroupPrompt",
    "GroupResource",
    "GroupResourceTemplate",
    "GroupTool",
]

logger = logging.getLogger("mcp_async")

_T = TypeVar("_T")


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


class GroupCatalogue(GroupRecovery):
    """A group's ``list_*`` methods and :meth:`tool_schemas`; they record the routes from
    group-wide names to servers that routing uses."""

    _prompt_routes: dict[str, tuple[str, str]]
    _resource_servers: dict[str, list[str]]

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
        items, listed = await self._tool_items(strict)
        return [item for item in items if item.server in listed]

    async def _fetch_routes(self) -> dict[str, tuple[str, str]]:
        """The routes of a fresh :meth:`list_tools`. They are kept for later calls unless
        the catalogue changed during the fetch (a server's ``list_changed`` arrived), in
        which case the next call fetches again; this call still routes by what it got."""
        items, _ = await self._tool_items(strict=False)
        return self._routes if self._routes is not None else _routes_of(items)

    async def _tool_items(self, strict: bool) -> tuple[list[GroupTool], set[str]]:
        """Every server's tools under group-wide names (a failed server's last known ones
        included), and the servers whose list this fetch got; records the routes."""
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
            self._routes = _routes_of(items)
        return items, listed

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

    async def _fetch_tools(self, server: GroupMember, generation: int) -> list[Tool]:
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
                if isinstance(result, LOST_ERRORS):
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


def _supports(client: AsyncMCPClient, capability: str) -> bool:
    capabilities: ServerCapabilities = client.server_capabilities
    if capability == "tools":
        return capabilities.supports_tools
    if capability == "prompts":
        return capabilities.supports_prompts
    return capabilities.supports_resources


def _retrieve(task: asyncio.Task[Any]) -> None:
    """Mark a background fetch's error as seen (it is re-raised to whoever awaits it)."""
    if not task.cancelled():
        task.exception()


def _routes_of(items: Iterable[GroupTool]) -> dict[str, tuple[str, str]]:
    """Group-wide tool name -> (server, the server's own tool name)."""
    return {item.name: (item.server, item.tool.name) for item in items}
