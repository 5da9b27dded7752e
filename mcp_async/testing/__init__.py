"""Testing tools: a real MCP server on loopback, with fault injection, and the pytest plugin.

:class:`MCPTestServer` (in :mod:`mcp_async.testing.server`) speaks Streamable HTTP, legacy
HTTP+SSE and stdio, in the handshake era and in 2026-07-28; :func:`demo_server` (in
:mod:`mcp_async.testing.demo`) is the server ``make demo`` and ``python -m
mcp_async.testing`` run (:mod:`mcp_async.testing.cli`). The pytest fixtures are in
:mod:`mcp_async.testing.pytest_plugin`.

Inside the package, one module per job: :mod:`~mcp_async.testing.faults`,
:mod:`~mcp_async.testing.stats`, :mod:`~mcp_async.testing.context` (what a tool sees),
:mod:`~mcp_async.testing.registry` (tools, resources, prompts),
:mod:`~mcp_async.testing.core` (state, intake, server-initiated messages),
:mod:`~mcp_async.testing.methods` (the MCP methods), the front ends
:mod:`~mcp_async.testing.streamable_http`, :mod:`~mcp_async.testing.legacy_sse` and
:mod:`~mcp_async.testing.link` (stdio and legacy SSE sessions), and
:mod:`~mcp_async.testing.modern` (2026-07-28). ``aiohttp.web``, the HTTP front ends and
:mod:`~mcp_async.testing.http_replies` load when an HTTP server starts: the stdio server
(``python -m mcp_async.testing --stdio``) never imports them.
"""

from .cli import main
from .context import RequestFailed, ToolContext
from .demo import demo_server
from .faults import Fault, FaultPlan
from .server import MCPTestServer
from .stats import ServerStats
from .wire import SESSION_NOT_FOUND

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
