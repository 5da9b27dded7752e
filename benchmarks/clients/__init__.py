"""One adapter module per measured client and transport, imported lazily by name.

Every adapter class takes one ``target`` (the MCP endpoint URL; for stdio, the server
script to run with ``sys.executable``) and has three coroutines: ``start()`` (open the
client or spawn the server, and run the MCP handshake), ``call()`` (one ``tools/call`` of
``echo``; returns the echoed text) and ``stop()``. Nothing here imports a client
library, so a worker process loads only the client it measures.

An adapter whose library lacks the transport raises :class:`Unavailable` from its
constructor or ``start()``; the driver then skips that client on that transport.

``<name>@baseline`` (``--baseline``, ``benchmarks.baseline``) is client ``name`` with
the same adapter, run in a worker that imports mcp_async from another checkout.
"""

from __future__ import annotations

import importlib
from typing import Any

#: Transports measured, in report order: Streamable HTTP, stdio, legacy HTTP+SSE (2024-11-05).
TRANSPORTS = ("http", "stdio", "sse")

#: Client name -> module holding its ``Adapter`` (Streamable HTTP). The order is the table order.
CLIENTS: dict[str, str] = {
    "floor": "benchmarks.clients.floor",
    "mcp_async": "benchmarks.clients.mcp_async_adapter",
    "mcp": "benchmarks.clients.official_adapter",
    "fastmcp": "benchmarks.clients.fastmcp_adapter",
}

#: Transport -> client name -> module. ``floor_orjson`` is the floor with orjson instead of
#: the stdlib ``json`` (measured only when asked for and when orjson is importable);
#: ``floor_protocol`` (stdio only) the floor on a ``SubprocessProtocol``, no reader task.
MODULES: dict[str, dict[str, str]] = {
    "http": {**CLIENTS, "floor_orjson": "benchmarks.clients.floor"},
    "stdio": {
        "floor": "benchmarks.clients.stdio_floor",
        "floor_orjson": "benchmarks.clients.stdio_floor",
        "floor_protocol": "benchmarks.clients.stdio_floor",
        "mcp_async": "benchmarks.clients.mcp_async_adapter",
        "mcp": "benchmarks.clients.official_adapter",
        "fastmcp": "benchmarks.clients.fastmcp_adapter",
    },
    "sse": {
        "floor": "benchmarks.clients.sse_floor",
        "floor_orjson": "benchmarks.clients.sse_floor",
        "mcp_async": "benchmarks.clients.mcp_async_adapter",
        "mcp": "benchmarks.clients.official_adapter",
        "fastmcp": "benchmarks.clients.fastmcp_adapter",
    },
}

#: The MCP 2026-07-28 clients (``benchmarks.modern``), as "module:class" per transport:
#: the floors with the envelope and headers (``floor_modern``) and with the ``mrtr`` tool's
#: input round (``floor_modern_mrtr``); mcp_async pinned (``mcp_async_modern``), probing
#: (``mcp_async_auto``) and calling ``mrtr`` (``mcp_async_mrtr``); ``mcp.Client`` in its
#: default mode (``mcp_modern``).
MODERN_MODULES: dict[str, dict[str, str]] = {
    "http": {
        "floor_modern": "benchmarks.clients.floor:ModernAdapter",
        "floor_modern_mrtr": "benchmarks.clients.floor:ModernMRTRAdapter",
        "mcp_async_modern": "benchmarks.clients.mcp_async_adapter:ModernAdapter",
        "mcp_async_auto": "benchmarks.clients.mcp_async_adapter:AutoAdapter",
        "mcp_async_mrtr": "benchmarks.clients.mcp_async_adapter:MRTRAdapter",
        "mcp_modern": "benchmarks.clients.official_adapter:ModernAdapter",
    },
    "stdio": {
        "floor_modern": "benchmarks.clients.stdio_floor:ModernStdioAdapter",
        "floor_modern_mrtr": "benchmarks.clients.stdio_floor:ModernStdioMRTRAdapter",
        "mcp_async_modern": "benchmarks.clients.mcp_async_adapter:ModernStdioAdapter",
        "mcp_async_auto": "benchmarks.clients.mcp_async_adapter:AutoStdioAdapter",
        "mcp_async_mrtr": "benchmarks.clients.mcp_async_adapter:MRTRStdioAdapter",
        "mcp_modern": "benchmarks.clients.official_adapter:ModernStdioAdapter",
    },
}
for _transport, _modules in MODERN_MODULES.items():
    MODULES[_transport].update(_modules)

#: Every client name known on some transport, in table order.
ALL_CLIENTS = ("floor", "floor_orjson", "floor_protocol", "mcp_async", "mcp", "fastmcp",
               *MODERN_MODULES["http"])

_CLASS = {"http": "Adapter", "stdio": "StdioAdapter", "sse": "SSEAdapter"}

#: Suffix of a client measured with the baseline checkout's mcp_async (``--baseline``).
BASELINE = "@baseline"


def adapter_name(name: str) -> str:
    """The client whose adapter ``name`` runs: ``name`` without ``@baseline``."""
    return name.removesuffix(BASELINE)


class Unavailable(Exception):
    """This client cannot run on this transport (yet): skip it, do not fail the run."""


def available(name: str, transport: str = "http") -> bool:
    """Whether ``name`` has an adapter for ``transport`` (without importing it)."""
    return adapter_name(name) in MODULES.get(transport, {})


def load(name: str, transport: str = "http") -> Any:
    """The adapter class of client ``name`` on ``transport`` (imports its library)."""
    name = adapter_name(name)
    module_name, _, class_name = MODULES[transport][name].partition(":")
    module = importlib.import_module(module_name)
    if class_name:
        return getattr(module, class_name)
    if name == "floor_orjson":
        return module.OrjsonAdapter
    if name == "floor_protocol":
        return module.ProtocolAdapter
    return getattr(module, _CLASS[transport])
