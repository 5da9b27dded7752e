"""What one idle MCP 2026-07-28 client on a shared aiohttp session holds (issue 29:
at most 10 KB of RSS per session in a gateway; ``benchmarks/scale.py`` measures RSS).

Measured here with ``tracemalloc``: the Python objects that mcp_async code made and
that stay alive while the clients are open, each opened and called once. The server
runs in this process too, so its own module (``mcp_async/testing/__init__.py``) is left out.
"""

from __future__ import annotations

import gc
import tracemalloc
from pathlib import Path

import aiohttp

import mcp_async
from mcp_async import AsyncMCPClient
from mcp_async.testing import MCPTestServer

PACKAGE = str(Path(mcp_async.__file__).resolve().parent)
SERVER_PACKAGE = str(Path(mcp_async.testing.__file__).resolve().parent)
CLIENTS = 60
#: Bytes of mcp_async objects per idle client (6.6 KB measured; 10.7 KB before
#: the structures rarely used were made on first use and the shared ones shared).
LIMIT = 8_000


def _client_bytes(before: tracemalloc.Snapshot, after: tracemalloc.Snapshot) -> float:
    total = 0
    for stat in after.compare_to(before, "filename"):
        filename = str(Path(stat.traceback[0].filename).resolve())
        if filename.startswith(PACKAGE) and not filename.startswith(SERVER_PACKAGE):
            total += stat.size_diff
    return total / CLIENTS


async def test_an_idle_2026_client_holds_few_objects() -> None:
    async with MCPTestServer(eras=("2026-07-28",)) as server:

        @server.tool
        def echo(text: str) -> str:
            return text

        async with aiohttp.ClientSession() as http:
            clients: list[AsyncMCPClient] = []
            try:
                warm = AsyncMCPClient(server.url, session=http, protocol="2026-07-28")
                async with warm:  # imports, era verdicts and caches: not per client
                    await warm.call_tool("echo", {"text": "hi"})
                gc.collect()
                tracemalloc.start()
                try:
                    before = tracemalloc.take_snapshot()
                    for _ in range(CLIENTS):
                        client = AsyncMCPClient(server.url, session=http, protocol="2026-07-28")
                        clients.append(client)
                        await client.open()
                        assert (await client.call_tool("echo", {"text": "hi"})).text == "hi"
                    gc.collect()
                    after = tracemalloc.take_snapshot()
                finally:
                    tracemalloc.stop()
                per_client = _client_bytes(before, after)
                assert per_client <= LIMIT, f"{per_client:.0f} bytes per idle client"
            finally:
                for client in clients:
                    await client.aclose()
