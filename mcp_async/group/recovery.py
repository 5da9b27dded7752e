"""How a group notices that a server died and brings it back: watching stdio processes,
taking a lost server's tools out, and reconnecting it in the background with the
:class:`~mcp_async.ServerRecovery` backoff (in place when its client can restart, else
with a new client from its factory)."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from ..client.async_client import AsyncMCPClient
from .events import GroupEvent, GroupEvents
from .member import (
    GroupMember,
    call_factory,
    check_alive,
    exit_error,
    exit_watch,
    restartable,
    settle_attempt,
)

__all__ = ["GroupRecovery"]

logger = logging.getLogger("mcp_async")


class GroupRecovery(GroupEvents):
    """A group's failure handling: a server found dead leaves the catalogue and reconnects
    in the background; calls to it wait for a restart in place, or fail at once."""

    def _watch_exit(self, server: GroupMember) -> None:
        """Notice at once when a stdio server's process ends (not at the next call)."""
        done = exit_watch(server.client)
        if done is None:
            return
        client = server.client
        root = self._root()

        async def watch() -> None:
            await asyncio.wait({done})
            if root._open and server.client is client and server.state == "active":
                root._lost(server, client, exit_error(client, server.name))

        root._spawn(watch())

    def _lost(self, server: GroupMember, client: AsyncMCPClient, error: BaseException) -> None:
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
        if root.recovery is not None and restartable(client):
            # The restart in place is due shortly: calls wait for it (as they would
            # have restarted the server themselves) instead of failing.
            server.state = "reconnecting"
            server.attempt = asyncio.get_running_loop().create_future()
        root._emit(GroupEvent("failed", server.name, error))
        if root.recovery is not None:
            root._spawn(root._recover(server, immediate=True))

    async def _recover(self, server: GroupMember, *, immediate: bool) -> None:
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
                if not restartable(server.client) and server.factory is None:
                    return  # nothing can bring it back
                if await self._attempt(server):
                    return
        finally:
            settle_attempt(server)
            if server.state == "reconnecting":
                server.state = "failed"

    async def _attempt(self, server: GroupMember) -> bool:
        """One reconnect attempt: restart the client in place when it can, else build a
        new one; True when the server is back."""
        old = server.client
        in_place = restartable(old)
        try:
            client = old if in_place else call_factory(server.name, server.factory)
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
                    await check_alive(client)
            adopted = True
        except Exception as exc:
            server.error = self._connect_error(server.name, exc, scope.expired())
            server.state = "failed"
            logger.debug("reconnecting MCP server %r failed: %s", server.name, server.error)
            if in_place and scope.expired() and server.factory is not None:
                await self._close_client(server.name, old)  # stuck: the next is a new one
            return False
        finally:
            settle_attempt(server)
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

    async def _client_for(self, server: GroupMember) -> AsyncMCPClient:
        """The server's client for a call: at once when active; after the attempt under
        way when it is restarted in place; else :class:`ServerUnavailableError`."""
        attempt = server.attempt
        if server.state == "reconnecting" and attempt is not None:
            await asyncio.shield(attempt)  # bounded by connect_timeout
        if server.state == "active":
            return server.client
        raise self._unavailable(server) from server.error

    def _watch_changes(self, server: GroupMember, client: AsyncMCPClient | None = None) -> None:
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
