"""An in-process MCP server and one open client on it, for the framework adapters' tests.

The server counts what it sees (:class:`mcp_async.testing.ServerStats`), so a test can
check on the server side how many sessions and ``initialize`` requests ten tool calls
took, and that a refused call never arrived."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from mcp_async import AsyncMCPClient
from mcp_async.testing import MCPTestServer


def build_server() -> MCPTestServer:
    """The adapters' test server: echo, add, big, fail, and a destructive delete_all."""
    server = MCPTestServer()

    @server.tool
    def echo(text: str) -> str:
        """Echo the text back."""
        return text

    @server.tool
    def add(a: int, b: int) -> dict[str, Any]:
        """Add two integers."""
        return {"sum": a + b}

    @server.tool
    def big(size: int) -> str:
        """Return ``size`` characters: HEAD, x's, TAIL."""
        return "HEAD" + "x" * (size - 8) + "TAIL"

    @server.tool
    def fail() -> str:
        """Always fails."""
        raise RuntimeError("this tool always fails")

    @server.tool(annotations={"destructiveHint": True})
    def delete_all() -> str:
        """Delete everything (destructive)."""
        return "deleted"

    @server.prompt
    def greet(who: str) -> str:
        """Greet someone."""
        return f"Hello, {who}!"

    return server


def tool_calls(server: MCPTestServer) -> list[str]:
    """The names of the tools the server was asked to call, in order."""
    return [str(params.get("name")) for method, params in server.stats.received
            if method == "tools/call"]


@pytest.fixture
async def server() -> AsyncIterator[MCPTestServer]:
    async with build_server() as started:
        yield started


@pytest.fixture
async def client(server: MCPTestServer) -> AsyncIterator[AsyncMCPClient]:
    async with AsyncMCPClient(server.url) as opened:
        yield opened
