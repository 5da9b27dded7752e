"""mcp_async with its defaults: ``AsyncMCPClient(url)`` and ``call_tool``.

stdio: ``AsyncMCPClient.stdio(sys.executable, [script])``; legacy HTTP+SSE:
``AsyncMCPClient(url, transport="sse")``. Both are entered with ``async with``
(``__aenter__`` / ``__aexit__``). Where this checkout's mcp_async lacks a transport
the adapter raises ``Unavailable`` and the driver skips it.
"""

from __future__ import annotations

import sys
from typing import Any

from benchmarks.clients import Unavailable
from benchmarks.protocol_data import TOOL_ARGUMENTS, TOOL_NAME
from mcp_async import AsyncMCPClient


class Adapter:
    """One shared ``AsyncMCPClient``."""

    def __init__(self, url: str) -> None:
        self.client = AsyncMCPClient(url)

    async def start(self) -> None:
        """Open the client and run the handshake."""
        await self.client.open()
        await self.client.initialize()

    async def call(self) -> str:
        """One ``call_tool``; returns the first text block."""
        result = await self.client.call_tool(TOOL_NAME, TOOL_ARGUMENTS)
        return result.content[0].text  # type: ignore[union-attr]

    async def stop(self) -> None:
        """DELETE the session and close the client."""
        await self.client.aclose()


class _Entered:
    """A client used as ``async with <manager> as client`` for the whole run."""

    manager: Any

    async def start(self) -> None:
        """Enter the manager (spawn or connect), then run the handshake.

        ``initialize()`` is explicit, as in :class:`Adapter`: the client's default lazy
        handshake would otherwise move into the first call and out of ``connect_ms``.
        """
        self.client = await self.manager.__aenter__()
        await self.client.initialize()

    async def call(self) -> str:
        """One ``call_tool``; returns the first text block."""
        result = await self.client.call_tool(TOOL_NAME, TOOL_ARGUMENTS)
        return result.content[0].text  # type: ignore[no-any-return]

    async def stop(self) -> None:
        """Leave the manager (closes the transport; for stdio, stops and reaps the server)."""
        await self.manager.__aexit__(None, None, None)


class StdioAdapter(_Entered):
    """``AsyncMCPClient.stdio(sys.executable, [script])``."""

    def __init__(self, target: str) -> None:
        stdio = getattr(AsyncMCPClient, "stdio", None)
        if stdio is None:
            raise Unavailable("AsyncMCPClient.stdio does not exist in this checkout yet")
        self.manager = stdio(sys.executable, [target])


class SSEAdapter(_Entered):
    """``AsyncMCPClient(url, transport="sse")``."""

    def __init__(self, url: str) -> None:
        try:
            self.manager = AsyncMCPClient(url, transport="sse")
        except (TypeError, ValueError) as exc:
            if isinstance(exc, ValueError) and "transport" not in str(exc):
                raise
            message = f"AsyncMCPClient(url, transport='sse') is not supported yet: {exc}"
            raise Unavailable(message) from exc
