"""mcp_async with its defaults: ``AsyncMCPClient(url)`` and ``call_tool``."""

from __future__ import annotations

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
