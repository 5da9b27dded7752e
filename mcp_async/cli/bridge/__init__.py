"""``mcp-async bridge``: a remote MCP server as a local stdio server
(:class:`StdioBridge`), and a local stdio server as a Streamable HTTP endpoint on loopback
(:class:`HTTPBridge`). The command line is in :mod:`mcp_async.cli.bridge.command`;
see docs/bridge.md."""

from __future__ import annotations

from .command import add_bridge_parser
from .http_bridge import HTTPBridge
from .loopback import check_loopback_bind
from .stdio_bridge import StdioBridge

__all__ = ["HTTPBridge", "StdioBridge", "add_bridge_parser", "check_loopback_bind"]
