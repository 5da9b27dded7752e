"""Metrics: the Prometheus hook with custom registries and two clients, and request logging."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Any

import pytest
from prometheus_client import REGISTRY, CollectorRegistry

from mcp_async import (
    AsyncMCPClient,
    BytesResponse,
    ConfigError,
    ConnectError,
    HTTPRequest,
    RateLimitedError,
)
from mcp_async.policies.metrics import MetricsHook, PrometheusMetrics, RequestSample
from mcp_async.policies.ratelimit import RateLimit
from mcp_async.policies.retry import RetryPolicy
from mcp_async.testing import Fault, MCPTestServer
from mcp_async.transports.http.base import HTTPResponse


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(0)
        self.now += seconds


@pytest.fixture
async def server() -> AsyncIterator[MCPTestServer]:
    server = MCPTestServer()
    gate = asyncio.Event()
    gate.set()

    @server.tool
    async def echo(text: str) -> str:
        """Echo text (waits while the gate is closed)."""
        await gate.wait()
        return text

    server.gate = gate  # type: ignore[attr-defined]
    async with server:
        yield server


def value(registry: CollectorRegistry, name: str, **labels: str) -> float:
    found = registry.get_sample_value(name, labels)
    return 0.0 if found is None else found


async def test_two_clients_one_custom_registry(server: MCPTestServer) -> None:
    registry = CollectorRegistry()
    clock = FakeClock()
    a = PrometheusMetrics(registry=registry, client="a")
    b = PrometheusMetrics(registry=registry, client="b")
    server.faults.add(Fault.error(503, method="tools/call", times=2))
    retry = RetryPolicy(backoff=0, sleep=clock.sleep, clock=clock)
    limit = RateLimit(rate=1, burst=1, clock=clock, sleep=clock.sleep)
    async with (
        AsyncMCPClient(server.url, metrics=a, retry=retry) as first,
        AsyncMCPClient(server.url, metrics=b, rate_limit=limit) as second,
    ):
        assert (await first.call_tool("echo", {"text": "x"})).text == "x"
        for _ in range(3):
            await second.call_tool("echo", {"text": "y"})
        await second.list_tools()

    total = "mcp_client_requests_total"
    assert value(registry, total, client="a", method="tools/call", tool="echo", outcome="ok") == 1
    assert value(registry, total, client="b", method="tools/call", tool="echo", outcome="ok") == 3
    assert value(registry, total, client="a", method="initialize", tool="", outcome="ok") == 1
    assert value(registry, total, client="b", method="tools/list", tool="", outcome="ok") == 1
    assert value(registry, "mcp_client_retries_total", client="a", method="tools/call",
                 tool="echo") == 2
    assert value(registry, "mcp_client_retries_total", client="b", method="tools/call",
                 tool="echo") == 0
    count = value(registry, "mcp_client_request_duration_seconds_count", client="b",
                  method="tools/call", tool="echo")
    assert count == 3
    # the rate limiter made b's requests wait (1 per second), a never waited
    waits = value(registry, "mcp_client_rate_limit_waits_total", client="b", method="tools/call")
    assert waits == 3
    assert value(registry, "mcp_client_rate_limit_wait_seconds_total", client="b",
                 method="tools/call") == pytest.approx(3.0)
    assert value(registry, "mcp_client_rate_limit_waits_total", client="a",
                 method="tools/call") == 0
    for client in ("a", "b"):
        assert value(registry, "mcp_client_requests_in_flight", client=client,
                     method="tools/call") == 0


async def test_in_flight_gauge_counts_concurrent_calls(server: MCPTestServer) -> None:
    registry = CollectorRegistry()
    gate: asyncio.Event = server.gate  # type: ignore[attr-defined]
    async with AsyncMCPClient(server.url, metrics=PrometheusMetrics(registry=registry)) as client:
        await client.initialize()
        gate.clear()
        calls = [asyncio.ensure_future(client.call_tool("echo", {"text": str(i)}))
                 for i in range(5)]
        for _ in range(100):
            await asyncio.sleep(0.005)
            if server.stats.in_flight == 5:
                break
        gauge = value(registry, "mcp_client_requests_in_flight", client="default",
                      method="tools/call")
        assert gauge == 5
        gate.set()
        await asyncio.gather(*calls)
    assert value(registry, "mcp_client_requests_in_flight", client="default",
                 method="tools/call") == 0


async def test_error_outcomes_are_labelled(server: MCPTestServer) -> None:
    registry = CollectorRegistry()
    server.faults.add(Fault.rate_limited(5, method="tools/call", times=1))
    server.faults.add(Fault.disconnect(method="tools/call", times=1))
    async with AsyncMCPClient(server.url, metrics=PrometheusMetrics(registry=registry)) as client:
        with pytest.raises(RateLimitedError):
            await client.call_tool("echo", {"text": "a"})
        with pytest.raises(ConnectError, match="connection") as info:
            await client.call_tool("echo", {"text": "b"})
        assert info.value.sent  # the request went out; the server hung up without answering
    labels = {"client": "default", "method": "tools/call", "tool": "echo"}
    assert value(registry, "mcp_client_requests_total", **labels, outcome="http_429") == 1
    assert value(registry, "mcp_client_requests_total", **labels, outcome="ConnectError") == 1


def test_same_registry_twice_and_global_registry_do_not_collide() -> None:
    registry = CollectorRegistry()
    first = PrometheusMetrics(registry=registry, client="x")
    second = PrometheusMetrics(registry=registry, client="y")
    assert first._metrics is second._metrics
    other = PrometheusMetrics(registry=CollectorRegistry())
    assert other._metrics is not first._metrics
    PrometheusMetrics()
    PrometheusMetrics()  # the global registry, twice
    assert PrometheusMetrics().registry is REGISTRY
    ns = PrometheusMetrics(registry=registry, namespace="other_ns")
    assert ns._metrics is not first._metrics


@pytest.mark.parametrize("namespace", ["", "bad-name", "spaces here"])
def test_bad_namespace(namespace: str) -> None:
    with pytest.raises(ConfigError):
        PrometheusMetrics(registry=CollectorRegistry(), namespace=namespace)


async def test_broken_backend_never_fails_the_request(caplog: pytest.LogCaptureFixture) -> None:
    class Broken(MetricsHook):
        def on_finish(self, sample: RequestSample) -> None:
            raise RuntimeError("backend down")

    async def ok(request: HTTPRequest) -> HTTPResponse:
        return BytesResponse(200)

    request = HTTPRequest("POST", "http://h/x", mcp_method="ping")
    with caplog.at_level(logging.ERROR, logger="mcp_async"):
        response = await Broken().around(request, ok)
    assert response.status == 200
    assert "metrics hook failed" in caplog.text


async def test_samples_for_plain_http_and_cancellation() -> None:
    samples: list[RequestSample] = []

    class Recorder(MetricsHook):
        def on_finish(self, sample: RequestSample) -> None:
            samples.append(sample)

    async def ok(request: HTTPRequest) -> HTTPResponse:
        return BytesResponse(404)

    async def hang(request: HTTPRequest) -> HTTPResponse:
        await asyncio.sleep(10)
        raise AssertionError("not reached")

    hook = Recorder()
    await hook.around(HTTPRequest("POST", "http://h/x?key=s3cret"), ok)
    await hook.around(HTTPRequest("DELETE", "http://h/x"), ok)
    task = asyncio.ensure_future(hook.around(HTTPRequest("POST", "http://h/y"), hang))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert [(s.method, s.outcome, s.status) for s in samples] == [
        ("http", "http_404", 404), ("http:DELETE", "http_404", 404), ("http", "cancelled", None),
    ]
    assert samples[0].url == "http://h/x?key=***"
    assert samples[0].attempts == 1 and samples[0].rate_limit_wait == 0.0


async def test_logs_never_contain_tokens_or_authorization(
    server: MCPTestServer, caplog: pytest.LogCaptureFixture
) -> None:
    server.faults.add(Fault.error(503, method="tools/call", times=1))
    server.faults.add(Fault.rate_limited(0, method="tools/call", times=1))
    clock = FakeClock()
    url = server.url + "?access_token=url-secret-123"
    async with AsyncMCPClient(
        url,
        auth="bearer-secret-456",
        headers={"X-Api-Key": "header-secret-789"},
        metrics=MetricsHook(),
        retry=RetryPolicy(backoff=0, sleep=clock.sleep, clock=clock),
        rate_limit=RateLimit(clock=clock, sleep=clock.sleep),
    ) as client:
        with caplog.at_level(logging.DEBUG, logger="mcp_async"):
            await client.call_tool("echo", {"text": "hi"})
    records = [r for r in caplog.records if r.name.startswith("mcp_async")]
    assert any(r.name == "mcp_async.requests" for r in records)
    assert any(r.name == "mcp_async.retry" for r in records)
    structured: dict[str, Any] = next(
        r.mcp_request for r in records
        if hasattr(r, "mcp_request") and r.mcp_request["method"] == "tools/call"
    )
    assert structured["attempts"] == 3 and structured["tool"] == "echo"
    text = caplog.text + " ".join(str(r.__dict__) for r in records)
    for secret in ("url-secret-123", "bearer-secret-456", "header-secret-789", "Authorization"):
        assert secret not in text


def test_import_stays_light() -> None:
    code = (
        "import sys, mcp_async, mcp_async.policies.metrics, mcp_async.policies.retry,"
        " mcp_async.policies.ratelimit;"
        "print(sorted(m for m in ('prometheus_client', 'tenacity') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


async def test_era_probe_fallback_is_counted_apart(server: MCPTestServer) -> None:
    registry = CollectorRegistry()
    async with AsyncMCPClient(server.url, metrics=PrometheusMetrics(registry=registry)) as client:
        await client.list_tools()
    total = "mcp_client_requests_total"
    labels = {"client": "default", "method": "server/discover", "tool": ""}
    assert value(registry, total, **labels, outcome="era_fallback") == 1
    assert value(registry, total, **labels, outcome="jsonrpc_error") == 0
    assert value(registry, total, **labels, outcome="http_400") == 0
