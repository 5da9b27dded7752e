"""The FastMCP 4.1.2 client: ``fastmcp.Client(url, mode="legacy")`` and ``call_tool``."""

from __future__ import annotations

from typing import Any

from fastmcp import Client

from benchmarks.protocol_data import TOOL_ARGUMENTS, TOOL_NAME


class Adapter:
    """One ``fastmcp.Client`` entered for the whole run."""

    def __init__(self, url: str) -> None:
        self.manager: Any = Client(url, mode="legacy")
        self.client: Any = None

    async def start(self) -> None:
        """Enter the client (connect + handshake)."""
        self.client = await self.manager.__aenter__()

    async def call(self) -> str:
        """One ``call_tool``; returns the first text block."""
        result = await self.client.call_tool(TOOL_NAME, TOOL_ARGUMENTS)
        return result.content[0].text  # type: ignore[no-any-return]

    async def stop(self) -> None:
        """Leave the client (DELETE + close)."""
        await self.manager.__aexit__(None, None, None)
