"""OpenTelemetry tracing (mcp_async.policies.tracing) against the mcp_async.testing server.

Spans go to the SDK's in-memory exporter. The official SDK server is in
tests/interop/test_tracing_interop.py; here: retries, trace-context propagation (the
server records what it received), switching on and off, and stdio.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import NoOpTracerProvider, SpanKind, StatusCode

from mcp_async import AsyncMCPClient, ConfigError, HTTPStatusError, JSONRPCError, RetryPolicy
from mcp_async.policies.tracing import TracingPolicy, configured_tracer_provider
from mcp_async.testing import Fault, MCPTestServer, demo_server


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def provider(exporter: InMemorySpanExporter) -> Iterator[TracerProvider]:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield provider
    provider.shutdown()


@pytest.fixture
async def server() -> AsyncIterator[MCPTestServer]:
    async with demo_server() as server:
        yield server


def _spans(exporter: InMemorySpanExporter) -> list[ReadableSpan]:
    return list(exporter.get_finished_spans())


def _by_name(exporter: InMemorySpanExporter, name: str) -> list[ReadableSpan]:
    return [span for span in _spans(exporter) if span.name == name]


async def test_one_client_span_per_request(
    server: MCPTestServer, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    async with AsyncMCPClient(server.url, tracer_provider=provider) as client:
        await client.call_tool("add", {"a": 1, "b": 2})
        session_id = client.session_id
        version = client.protocol_version
        await client.get_prompt("review_code", {"code": "x"})
        await client.read_resource("demo://readme")
    names = [span.name for span in _spans(exporter)]
    assert "initialize" in names  # after the server/discover probe, where there is one
    assert "tools/call add" in names and "prompts/get review_code" in names
    assert "resources/read" in names  # no URI in the name (high cardinality)
    (call,) = _by_name(exporter, "tools/call add")
    assert call.kind is SpanKind.CLIENT
    assert call.status.status_code is StatusCode.UNSET
    port = int(server.url.split(":")[2].split("/")[0])
    assert dict(call.attributes or {}) == {
        "mcp.method.name": "tools/call",
        "gen_ai.tool.name": "add",
        "gen_ai.operation.name": "execute_tool",
        "mcp.session.id": session_id,
        "mcp.protocol.version": version,
        "network.transport": "tcp",
        "network.protocol.name": "http",
        "server.address": "127.0.0.1",
        "server.port": port,
        "jsonrpc.request.id": call.attributes["jsonrpc.request.id"],  # type: ignore[index]
    }
    (read,) = _by_name(exporter, "resources/read")
    assert read.attributes["mcp.resource.uri"] == "demo://readme"  # type: ignore[index]
    (prompt,) = _by_name(exporter, "prompts/get review_code")
    assert prompt.attributes["gen_ai.prompt.name"] == "review_code"  # type: ignore[index]


async def test_spans_are_children_of_the_callers_span(
    server: MCPTestServer, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    tracer = provider.get_tracer("test")
    async with AsyncMCPClient(server.url, tracer_provider=provider) as client:
        with tracer.start_as_current_span("handle request") as parent:
            await client.call_tool("echo", {"text": "x"})
    (call,) = _by_name(exporter, "tools/call echo")
    assert call.parent is not None
    assert call.parent.span_id == parent.get_span_context().span_id
    assert call.context.trace_id == parent.get_span_context().trace_id


async def test_trace_context_goes_into_meta_and_headers(
    server: MCPTestServer, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    async with AsyncMCPClient(server.url, tracer_provider=provider) as client:
        await client.call_tool("echo", {"text": "x"}, meta={"mine": 1})
    (call,) = _by_name(exporter, "tools/call echo")
    context = call.context
    traceparent = f"00-{context.trace_id:032x}-{context.span_id:016x}-"
    method, params = server.stats.received[-1]
    assert method == "tools/call"
    assert set(params["_meta"]) == {"mine", "traceparent"}
    assert params["_meta"]["traceparent"].startswith(traceparent)
    assert server.stats.last_headers is not None
    assert server.stats.last_headers["traceparent"] == params["_meta"]["traceparent"]


async def test_a_policy_with_options(
    server: MCPTestServer, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    policy = TracingPolicy(provider, propagate=False, uri_in_span_name=True)
    async with AsyncMCPClient(server.url, tracing=policy) as client:
        await client.read_resource("demo://readme")
        await client.call_tool("echo", {"text": "x"})
        session_id = client.session_id
    assert "_meta" not in server.stats.received[-1][1]
    (read,) = _by_name(exporter, "resources/read demo://readme")
    assert read.attributes["mcp.session.id"] == session_id  # type: ignore[index]


async def test_jsonrpc_error_span(
    server: MCPTestServer, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    async with AsyncMCPClient(server.url, tracer_provider=provider) as client:
        with pytest.raises(JSONRPCError) as caught:
            await client.get_prompt("no-such-prompt")
    (span,) = _by_name(exporter, "prompts/get no-such-prompt")
    assert span.status.status_code is StatusCode.ERROR
    code = str(caught.value.code)
    assert span.attributes["error.type"] == code  # type: ignore[index]
    assert span.attributes["rpc.response.status_code"] == code  # type: ignore[index]


async def test_tool_error_span(
    server: MCPTestServer, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    async with AsyncMCPClient(server.url, tracer_provider=provider) as client:
        assert (await client.call_tool("fail")).is_error
    (span,) = _by_name(exporter, "tools/call fail")
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == "tool_error"  # type: ignore[index]


async def test_each_retry_attempt_is_a_span(
    server: MCPTestServer, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    server.faults.add(Fault.error(503, times=2, method="tools/call"))
    retry = RetryPolicy(attempts=3, backoff=0.01)
    async with AsyncMCPClient(server.url, tracer_provider=provider, retry=retry) as client:
        assert (await client.call_tool("echo", {"text": "x"}, idempotent=True)).text == "x"
    attempts = _by_name(exporter, "tools/call echo")
    assert len(attempts) == 3
    assert [a.status.status_code for a in attempts] == [
        StatusCode.ERROR, StatusCode.ERROR, StatusCode.UNSET
    ]
    assert attempts[0].attributes["error.type"] == "mcp_async.HTTPStatusError"  # type: ignore[index]
    assert attempts[0].events and attempts[0].events[0].name == "exception"
    ids = {a.attributes["jsonrpc.request.id"] for a in attempts}  # type: ignore[index]
    assert len(ids) == 3  # every attempt goes out under its own id
    # Each attempt carried its own span's context.
    sent = [params["_meta"]["traceparent"][:-3] for method, params in server.stats.received
            if method == "tools/call"]
    assert sent == [f"00-{a.context.trace_id:032x}-{a.context.span_id:016x}"
                    for a in attempts]


async def test_transport_error_span(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    async with demo_server() as server:
        url = server.url
        server.faults.add(Fault.error(500))
        async with AsyncMCPClient(url, tracer_provider=provider) as client:
            with pytest.raises(HTTPStatusError):
                await client.initialize()
    (span,) = _by_name(exporter, "initialize")
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description is not None and "500" in span.status.description


async def test_stdio_spans_say_pipe(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    async with AsyncMCPClient.stdio(
        sys.executable, ["-m", "mcp_async.testing", "--stdio"], tracer_provider=provider
    ) as client:
        await client.call_tool("echo", {"text": "x"})
    (span,) = _by_name(exporter, "tools/call echo")
    attributes = dict(span.attributes or {})
    assert attributes["network.transport"] == "pipe"
    assert "server.address" not in attributes and "mcp.session.id" not in attributes
    assert attributes["mcp.protocol.version"]


async def test_off_without_a_configured_provider(
    server: MCPTestServer, exporter: InMemorySpanExporter
) -> None:
    assert configured_tracer_provider() is None  # the API's default proxy provider
    async with AsyncMCPClient(server.url) as client:
        await client.call_tool("echo", {"text": "x"})
    assert "traceparent" not in server.stats.received[-1][1].get("_meta", {})
    assert server.stats.last_headers is not None
    assert "traceparent" not in server.stats.last_headers


async def test_on_by_itself_when_the_application_set_a_provider(
    server: MCPTestServer, provider: TracerProvider, exporter: InMemorySpanExporter,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: provider)
    assert configured_tracer_provider() is provider
    async with AsyncMCPClient(server.url) as client:
        await client.call_tool("echo", {"text": "x"})
    assert _by_name(exporter, "tools/call echo")
    exporter.clear()
    async with AsyncMCPClient(server.url, tracing=False) as client:
        await client.call_tool("echo", {"text": "x"})
    assert _spans(exporter) == []


async def test_no_op_provider_sends_no_context(server: MCPTestServer) -> None:
    async with AsyncMCPClient(server.url, tracer_provider=NoOpTracerProvider()) as client:
        assert (await client.call_tool("echo", {"text": "x"})).text == "x"
    assert "_meta" not in server.stats.received[-1][1]


async def test_bad_tracing_option(server: MCPTestServer) -> None:
    client = AsyncMCPClient(server.url, tracing="yes")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="tracing must be"):
        await client.open()
    await client.aclose()


async def test_era_probe_fallback_is_no_error_span(
    server: MCPTestServer, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    # A handshake-era server refuses server/discover (-32600 over HTTP); the client falls
    # back to initialize, as the spec expects: an event on the span, not an ERROR.
    async with AsyncMCPClient(server.url, tracer_provider=provider) as client:
        await client.call_tool("echo", {"text": "x"})
    port = int(server.url.split(":")[2].split("/")[0])
    for name in ("server/discover", "initialize"):
        (span,) = _by_name(exporter, name)
        assert span.status.status_code is StatusCode.UNSET, name
        attributes = dict(span.attributes or {})
        assert attributes["server.address"] == "127.0.0.1", name
        assert attributes["server.port"] == port and attributes["network.transport"] == "tcp"
    (probe,) = _by_name(exporter, "server/discover")
    assert probe.attributes["mcp.era.fallback"] == "initialize"  # type: ignore[index]
    assert "error.type" not in (probe.attributes or {})
    (event,) = probe.events
    assert event.name == "mcp.era.fallback"
    assert event.attributes["mcp.era.fallback.reason"] == "-32600"  # type: ignore[index]


async def test_era_probe_fallback_over_stdio(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    async with AsyncMCPClient.stdio(
        sys.executable, ["-m", "mcp_async.testing", "--stdio"], tracer_provider=provider
    ) as client:
        await client.list_tools()
    (probe,) = _by_name(exporter, "server/discover")
    assert probe.status.status_code is StatusCode.UNSET
    assert probe.attributes["network.transport"] == "pipe"  # type: ignore[index]
    assert probe.events[0].attributes["mcp.era.fallback.reason"] == "-32601"  # type: ignore[index]


async def test_modern_server_probe_has_no_fallback(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    async with demo_server(eras=("2026-07-28",)) as server, AsyncMCPClient(
        server.url, tracer_provider=provider
    ) as client:
        await client.list_tools()
    (probe,) = _by_name(exporter, "server/discover")
    assert probe.status.status_code is StatusCode.UNSET
    assert "mcp.era.fallback" not in (probe.attributes or {}) and not probe.events


async def test_an_outage_during_the_probe_stays_an_error(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    async with demo_server(eras=("2026-07-28",)) as server, AsyncMCPClient(
        server.url, tracer_provider=provider
    ) as client:
        server.faults.add(Fault.error(500, method="server/discover"))
        with pytest.raises(HTTPStatusError):
            await client.list_tools()
    (probe,) = _by_name(exporter, "server/discover")
    assert probe.status.status_code is StatusCode.ERROR
    assert "mcp.era.fallback" not in (probe.attributes or {})
