"""The FastMCP 4.1.2 client: ``fastmcp.Client(..., mode="legacy")`` and ``call_tool``.

Streamable HTTP takes the URL; stdio uses ``StdioTransport(sys.executable, [script],
keep_alive=False)`` (so leaving the client stops and reaps the server); legacy
HTTP+SSE uses ``SSETransport(url)``.
"""

from __future__ import annotations

import sys
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


class StdioAdapter(Adapter):
    """``fastmcp.Client(StdioTransport(sys.executable, [script], keep_alive=False))``."""

    def __init__(self, target: str) -> None:
        from fastmcp.client.transports import StdioTransport

        transport = StdioTransport(sys.executable, [target], keep_alive=False)
        self.manager = Client(transport, mode="legacy")
        self.client = None


class SSEAdapter(Adapter):
    """``fastmcp.Client(SSETransport(url))``: the legacy HTTP+SSE transport."""

    def __init__(self, url: str) -> None:
        from fastmcp.client.transports import SSETransport

        self.manager = Client(SSETransport(url), mode="legacy")
        self.client = None
