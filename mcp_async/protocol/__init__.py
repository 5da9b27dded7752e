"""The sans-I/O core: JSON-RPC messages, the SSE decoder and MCP's version and header rules.

Nothing in this package performs I/O or imports aiohttp or asyncio.
"""

from . import headers, jsonrpc, mcp, sse

__all__ = ["headers", "jsonrpc", "mcp", "sse"]  # also: protocol.oauth, protocol.ratelimit_headers
