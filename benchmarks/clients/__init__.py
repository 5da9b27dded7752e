"""One adapter module per measured client, imported lazily by name.

Every module defines ``Adapter(url)`` with three coroutines: ``start()`` (open the
HTTP client and run the MCP handshake), ``call()`` (one ``tools/call`` of
``echo``; returns the echoed text) and ``stop()``. Nothing here imports a client
library, so a worker process loads only the client it measures.
"""

from __future__ import annotations

import importlib
from typing import Any

#: Client name -> module holding its ``Adapter``. The order is the table order.
CLIENTS: dict[str, str] = {
    "floor": "benchmarks.clients.floor",
    "mcp_async": "benchmarks.clients.mcp_async_adapter",
    "mcp": "benchmarks.clients.official_adapter",
    "fastmcp": "benchmarks.clients.fastmcp_adapter",
}


def load(name: str) -> Any:
    """The ``Adapter`` class of client ``name`` (imports its library)."""
    return importlib.import_module(CLIENTS[name]).Adapter
