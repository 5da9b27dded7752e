"""Test your own MCP-using code against a real server: ``mcp_async.testing``.

Run it with ``python examples/testing_your_code.py`` (it runs its tests with pytest) or
``pytest examples/testing_your_code.py``. It needs ``pytest`` and ``pytest-asyncio``
(the dev extra has both).

``city_report`` below stands for your application code. The tests start an
``MCPTestServer`` on 127.0.0.1 with the tools your code expects, inject failures with
``Fault``, and check what the server saw with ``server.stats``. Nothing is mocked: the
client speaks real MCP over real HTTP, so the tests also catch protocol mistakes.

The fixtures use ``@pytest_asyncio.fixture`` and the tests ``@pytest.mark.asyncio``, so
they work whatever ``asyncio_mode`` your project sets (see docs/testing.md).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from mcp_async import AsyncMCPClient, RetryPolicy
from mcp_async.testing import Fault, MCPTestServer

# -- the code under test -------------------------------------------------------------


async def city_report(client: AsyncMCPClient, cities: list[str]) -> list[str]:
    """One line per city, from the server's ``forecast`` tool; failures are reported."""
    lines = []
    for city in cities:
        result = await client.call_tool("forecast", {"city": city})
        if result.is_error:
            lines.append(f"{city}: unavailable ({result.text})")
        else:
            data = result.structured_content or {}
            lines.append(f"{city}: {data['high']} C")
    return lines


# -- the tests -----------------------------------------------------------------------


@pytest_asyncio.fixture
async def server() -> AsyncIterator[MCPTestServer]:
    """A fresh server per test, with a ``forecast`` tool, on a free port of 127.0.0.1."""
    server = MCPTestServer()

    @server.tool
    def forecast(city: str) -> dict[str, object]:
        """Tomorrow's high for a city (a dict return becomes structured content)."""
        if city == "Atlantis":
            raise LookupError("no such city")  # becomes an isError result
        return {"city": city, "high": len(city) * 3}

    async with server:
        yield server


@pytest_asyncio.fixture
async def client(server: MCPTestServer) -> AsyncIterator[AsyncMCPClient]:
    # A fast retry policy: tests should not wait for real backoffs.
    async with AsyncMCPClient(server.url, retry=RetryPolicy(attempts=3, backoff=0.01)) as client:
        yield client


@pytest.mark.asyncio
async def test_report_has_a_line_per_city(client: AsyncMCPClient, server: MCPTestServer) -> None:
    assert await city_report(client, ["Oslo", "Lima"]) == ["Oslo: 12 C", "Lima: 12 C"]
    assert server.stats.by_method["tools/call"] == 2
    assert server.stats.connections == 1  # one pooled connection for both calls


@pytest.mark.asyncio
async def test_a_tool_error_is_reported(client: AsyncMCPClient) -> None:
    [line] = await city_report(client, ["Atlantis"])
    assert line.startswith("Atlantis: unavailable") and "no such city" in line


@pytest.mark.asyncio
async def test_report_survives_an_overloaded_server(
    client: AsyncMCPClient, server: MCPTestServer
) -> None:
    # The first two calls to forecast get HTTP 503; the retry policy absorbs them.
    fault = server.faults.add(Fault.error(503, method="tools/call", name="forecast", times=2))
    assert await city_report(client, ["Rome"]) == ["Rome: 12 C"]
    assert fault.fired == 2


if __name__ == "__main__":
    # Run pytest on this file in a fresh interpreter (pytest must import the test module
    # itself). -p no:cacheprovider leaves no .pytest_cache behind.
    pytest_command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", __file__]
    sys.exit(subprocess.call(pytest_command))
