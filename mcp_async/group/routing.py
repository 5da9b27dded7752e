"""Routing one call by its group-wide name to the server that has it: tools, prompts,
and resources (by URI), with a typed error and a hint for a name the group does not
know, and the per-server statistics and failure detection of every routed call."""

from __future__ import annotations

import difflib
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, TypeVar

from .._exceptions import ConfigError, UnknownToolError
from ..client.async_client import AsyncMCPClient
from ..protocol.models import CallToolResult, GetPromptResult, ReadResourceResult
from .catalogue import GroupCatalogue
from .member import LOST_ERRORS
from .naming import default_name

__all__ = ["GroupRouting"]

_T = TypeVar("_T")


class GroupRouting(GroupCatalogue):
    """A group's :meth:`call_tool`, :meth:`get_prompt` and :meth:`read_resource`."""

    async def _resolve(self, name: str) -> tuple[str, str]:
        """``(server, tool)`` for a group-wide tool name, refreshing the catalogue once."""
        if not isinstance(name, str) or not name:
            raise ConfigError(f"tool name must be a non-empty string, got {name!r}")
        routes = self._routes
        if routes is not None:
            found = routes.get(name)
            if found is not None:
                return found
        routes = await self._fetch_routes()
        found = routes.get(name)
        if found is None:
            raise UnknownToolError(name, hint=self._hint(name, routes))
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
            if isinstance(exc, LOST_ERRORS):
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
