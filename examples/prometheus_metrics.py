"""Count and time every MCP request with Prometheus metrics.

Run it with ``python examples/prometheus_metrics.py``; it needs ``prometheus-client``
(``pip install 'mcp-async[prometheus]'``; the dev extra has it). The server is
``mcp_async.testing.demo_server()`` on 127.0.0.1, inside this process.

The program makes a few calls, one of which fails and one of which is retried, then prints
the metrics in the text format a Prometheus server scrapes. In a service you would expose
them instead, e.g. with ``prometheus_client.start_http_server(9100, addr="127.0.0.1")``.
"""

from __future__ import annotations

import asyncio

from prometheus_client import CollectorRegistry, generate_latest

from mcp_async import AsyncMCPClient, PrometheusMetrics, RetryPolicy
from mcp_async.testing import Fault, demo_server


async def main() -> None:
    # A registry of our own keeps the output short; by default the global REGISTRY is used.
    registry = CollectorRegistry()
    metrics = PrometheusMetrics(registry=registry, client="example")

    async with demo_server() as server, AsyncMCPClient(
        server.url, metrics=metrics, retry=RetryPolicy(attempts=3, backoff=0.01),
    ) as client:
        for i in range(5):
            await client.call_tool("add", {"a": i, "b": 1})
        await client.call_tool("fail", {})  # an isError result: outcome "tool_error"
        server.faults.add(Fault.error(503, method="tools/call", times=1))
        await client.call_tool("echo", {"text": "retried once"})  # counted in retries_total

    # Print the tools/call counters; the handshake, the session's DELETE on close and the
    # histogram buckets are measured too but left out to keep the output short.
    for line in generate_latest(registry).decode().splitlines():
        if 'method="tools/call"' in line and line.startswith(
            ("mcp_client_requests_total", "mcp_client_retries_total")
        ):
            print(line)


if __name__ == "__main__":
    asyncio.run(main())
