"""The official ``mcp`` 2.3.0 client: ``mcp.Client(url, mode="legacy")``.

``mode="legacy"`` runs the initialize handshake (the same exchange as every other
client here) instead of first probing ``server/discover``. The URL form builds
``streamable_http_client(url)`` with the SDK's default ``httpx2`` client.
"""

from __future__ import annotations

from typing import Any

from mcp import Client

from benchmarks.protocol_data import TOOL_ARGUMENTS, TOOL_NAME


class Adapter:
    """One ``mcp.Client`` entered for the whole run."""

    def __init__(self, url: str) -> None:
        self.manager = Client(url, mode="legacy")
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
