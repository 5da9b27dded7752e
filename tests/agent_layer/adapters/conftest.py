"""An in-process MCP server and one open client on it, for the framework adapters' tests.

The server counts what it sees (:class:`mcp_async.testing.ServerStats`), so a test can
check on the server side how many sessions and ``initialize`` requests ten tool calls
took, and that a refused call never arrived."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import pytest

from mcp_async import AsyncMCPClient
from mcp_async.testing import MCPTestServer

#: The bytes of the image the ``picture`` tool returns.
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


def build_server() -> MCPTestServer:
    """The adapters' test server: echo, add, big, fail, picture, a destructive
    delete_all and a prompt, greet."""
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

    @server.tool
    def picture() -> dict[str, Any]:
        """A caption, a PNG image and a PDF."""
        return {"content": [
            {"type": "text", "text": "a tiny picture"},
            {"type": "image", "data": base64.b64encode(PNG).decode(), "mimeType": "image/png"},
            {"type": "resource", "resource": {
                "uri": "file:///doc.pdf", "mimeType": "application/pdf",
                "blob": base64.b64encode(b"%PDF-1.4 tiny").decode()}},
        ]}

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
