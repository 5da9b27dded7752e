"""The official ``mcp`` 2.3.0 client: ``mcp.Client(..., mode="legacy")`` on each transport.

``mode="legacy"`` runs the initialize handshake (the same exchange as every other
client here) instead of first probing ``server/discover``.

* Streamable HTTP: the URL form builds ``streamable_http_client(url)`` with the SDK's
  default ``httpx2`` client.
* stdio: ``mcp.client.stdio.stdio_client(StdioServerParameters(...))`` (anyio
  subprocess, pipe tasks) under the ``ClientSession`` that ``mcp.Client`` wraps.
* legacy HTTP+SSE: ``mcp.client.sse.sse_client(url)`` under the same ``ClientSession``.

``ModernAdapter`` / ``ModernStdioAdapter`` (client ``mcp_modern``) are ``mcp.Client`` with
its default ``mode="auto"``: it probes with ``server/discover`` when entered and, against
the benchmark servers (which answer it), speaks MCP 2026-07-28.
"""

from __future__ import annotations

import sys
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


class ModernAdapter(Adapter):
    """``mcp.Client(url)``: the default ``mode="auto"`` (probe, then 2026-07-28)."""

    def __init__(self, url: str) -> None:
        self.manager = Client(url)
        self.client = None


class StdioAdapter(Adapter):
    """``mcp.Client(stdio_client(StdioServerParameters(sys.executable, [script])))``."""

    def __init__(self, target: str) -> None:
        from mcp.client.stdio import StdioServerParameters, stdio_client

        params = StdioServerParameters(command=sys.executable, args=[target])
        self.manager = Client(stdio_client(params), mode="legacy")
        self.client = None


class SSEAdapter(Adapter):
    """``mcp.Client(sse_client(url))``: the legacy HTTP+SSE transport."""

    def __init__(self, url: str) -> None:
        from mcp.client.sse import sse_client

        self.manager = Client(sse_client(url), mode="legacy")
        self.client = None


class ModernStdioAdapter(Adapter):
    """``mcp.Client(stdio_client(...))`` with the default ``mode="auto"``."""

    def __init__(self, target: str) -> None:
        from mcp.client.stdio import StdioServerParameters, stdio_client

        params = StdioServerParameters(command=sys.executable, args=[target])
        self.manager = Client(stdio_client(params))
        self.client = None
