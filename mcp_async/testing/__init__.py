"""Testing tools: a real MCP server on loopback, with fault injection, and the pytest plugin.

:class:`MCPTestServer` (in :mod:`mcp_async.testing.server`) speaks Streamable HTTP, legacy
HTTP+SSE and stdio, in the handshake era and in 2026-07-28; :func:`demo_server` is the
server ``make demo`` and ``python -m mcp_async.testing`` run. The pytest fixtures are in
:mod:`mcp_async.testing.pytest_plugin`.
"""

from .server import (
    SESSION_NOT_FOUND,
    Fault,
    FaultPlan,
    MCPTestServer,
    RequestFailed,
    ServerStats,
    ToolContext,
    demo_server,
    main,
)

__all__ = [
    "SESSION_NOT_FOUND",
    "Fault",
    "FaultPlan",
    "MCPTestServer",
    "RequestFailed",
    "ServerStats",
    "ToolContext",
    "demo_server",
    "main",
]
