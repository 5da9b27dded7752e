"""OpenTelemetry spans (mcp_async.policies.tracing) against the official Python SDK server.

Spans go to the SDK's in-memory exporter. A small forwarding proxy in front of the
server records the requests as they went over the wire (trace context in ``_meta`` and
headers) and answers the first POSTs of a method with 503, so retries happen against
the real server.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from servers import RunningServer, StdioCommand
from yarl import URL

from mcp_async import AsyncMCPClient, JSONRPCError, RetryPolicy
from mcp_async.session.handlers import ElicitationRequest, ElicitationResult

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


class FailingProxy:
    """Forwards every request to ``upstream``; the first ``fail_times`` POSTs whose
    JSON-RPC method is ``fail_method`` are answered 503 instead. Records each POST as
    ``(headers, body)``."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.fail_method: str | None = None
        self.fail_times = 0
        self.posts: list[tuple[dict[str, str], Any]] = []
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None
        self.url = ""

    async def __aenter__(self) -> FailingProxy:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}{URL(self.upstream).path}"
        self._http = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._http is not None:
            await self._http.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        if request.method == "POST":
            document = json.loads(body)
            self.posts.append((dict(request.headers), document))
            if (self.fail_times > 0 and isinstance(document, dict)
                    and document.get("method") == self.fail_method):
                self.fail_times -= 1
                return web.Response(status=503, text="try again")
        assert self._http is not None
        url = URL(self.upstream).with_path(request.path)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        async with self._http.request(request.method, url, headers=headers, data=body or None,
                                      allow_redirects=False) as upstream:
            response = web.StreamResponse(status=upstream.status)
            for name, value in upstream.headers.items():
                if name.lower() not in _HOP_BY_HOP:
                    response.headers[name] = value
            await response.prepare(request)
            async for chunk in upstream.content.iter_any():
                await response.write(chunk)
            await response.write_eof()
            return response


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
async def proxy(sdk_server: RunningServer) -> AsyncIterator[FailingProxy]:
    async with FailingProxy(sdk_server.url) as proxy:
        yield proxy


def _named(exporter: InMemorySpanExporter, name: str) -> list[ReadableSpan]:
    return [span for span in exporter.get_finished_spans() if span.name == name]


def _traceparent_of(span: ReadableSpan) -> str:
    return f"00-{span.context.trace_id:032x}-{span.context.span_id:016x}-"


async def test_sdk_spans_attributes_and_propagation(
    sdk_server: RunningServer, proxy: FailingProxy, provider: TracerProvider,
    exporter: InMemorySpanExporter,
) -> None:
    async with AsyncMCPClient(proxy.url, tracer_provider=provider, timeout=30) as client:
        result = await client.call_tool("add", {"a": 2, "b": 3})
        assert not result.is_error
        session_id = client.session_id
        version = client.protocol_version
        await client.list_tools()
    (span,) = _named(exporter, "tools/call add")
    attributes = dict(span.attributes or {})
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    assert attributes["mcp.method.name"] == "tools/call"
    assert attributes["gen_ai.tool.name"] == "add"
    assert attributes["mcp.protocol.version"] == version
    assert attributes["network.transport"] == "tcp"
    assert attributes["server.address"] == "127.0.0.1"
    assert isinstance(attributes["server.port"], int)
    assert attributes.get("mcp.session.id") == session_id  # absent when stateless
    assert "error.type" not in attributes
    assert _named(exporter, "tools/list")
    # What went over the wire to the real server carried this span's context.
    headers, document = next(
        (h, d) for h, d in proxy.posts if isinstance(d, dict) and d.get("method") == "tools/call"
    )
    assert str(document["id"]) == attributes["jsonrpc.request.id"]
    traceparent = document["params"]["_meta"]["traceparent"]
    assert traceparent.startswith(_traceparent_of(span))
    assert headers["traceparent"] == traceparent


async def test_sdk_error_spans(
    sdk_server: RunningServer, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    async with AsyncMCPClient(sdk_server.url, tracer_provider=provider, timeout=30) as client:
        assert (await client.call_tool("fail", {"message": "boom"})).is_error
        assert (await client.call_tool("crash")).is_error
        with pytest.raises(JSONRPCError) as caught:
            await client.get_prompt("no-such-prompt")
    for name in ("tools/call fail", "tools/call crash"):
        (span,) = _named(exporter, name)
        assert span.status.status_code is StatusCode.ERROR
        assert span.attributes["error.type"] == "tool_error"  # type: ignore[index]
    (span,) = _named(exporter, "prompts/get no-such-prompt")
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == str(caught.value.code)  # type: ignore[index]
    assert span.attributes["rpc.response.status_code"] == str(caught.value.code)  # type: ignore[index]


async def test_sdk_retries_are_spans_of_their_own(
    sdk_server: RunningServer, proxy: FailingProxy, provider: TracerProvider,
    exporter: InMemorySpanExporter,
) -> None:
    retry = RetryPolicy(attempts=3, backoff=0.01)
    async with AsyncMCPClient(proxy.url, tracer_provider=provider, retry=retry,
                              timeout=30) as client:
        await client.initialize()
        proxy.fail_method, proxy.fail_times = "tools/call", 2
        assert (await client.call_tool("echo", {"text": "hi"})).text == "hi"
    attempts = _named(exporter, "tools/call echo")
    assert [a.status.status_code for a in attempts] == [
        StatusCode.ERROR, StatusCode.ERROR, StatusCode.UNSET
    ]
    assert {a.attributes["error.type"] for a in attempts[:2]} == {  # type: ignore[index]
        "mcp_async.HTTPStatusError"
    }
    sent = [d for _, d in proxy.posts if isinstance(d, dict) and d.get("method") == "tools/call"]
    assert [str(d["id"]) for d in sent] == [a.attributes["jsonrpc.request.id"]  # type: ignore[index]
                                            for a in attempts]
    for document, attempt in zip(sent, attempts, strict=True):
        assert document["params"]["_meta"]["traceparent"].startswith(_traceparent_of(attempt))


async def test_sdk_stdio_spans(
    sdk_stdio_command: StdioCommand, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    client = AsyncMCPClient.stdio(
        sdk_stdio_command.command, sdk_stdio_command.args, env=sdk_stdio_command.env,
        cwd=sdk_stdio_command.cwd, tracer_provider=provider, timeout=30,
    )
    async with client:
        assert (await client.call_tool("echo", {"text": "x"})).text == "x"
    (span,) = _named(exporter, "tools/call echo")
    attributes = dict(span.attributes or {})
    assert attributes["network.transport"] == "pipe"
    assert "server.address" not in attributes
    assert attributes["mcp.protocol.version"]


async def _elicit(request: ElicitationRequest) -> ElicitationResult:
    return ElicitationResult.accept({"word": "alpha" if "first" in request.message else "beta"})


async def test_sdk_input_rounds_are_spans_of_their_own(
    sdk_server: RunningServer, proxy: FailingProxy, provider: TracerProvider,
    exporter: InMemorySpanExporter,
) -> None:
    """MCP 2026-07-28 input rounds (MRTR): the first request and each round are spans."""
    async with AsyncMCPClient(proxy.url, tracer_provider=provider, timeout=30,
                              elicitation_handler=_elicit) as client:
        assert (await client.call_tool("two_step")).text == "alpha beta"
        version = client.protocol_version
    if version != "2026-07-28":
        pytest.skip(f"the server negotiated {version}, which has no input rounds")
    rounds = _named(exporter, "tools/call two_step")
    assert len(rounds) == 3  # the call, then one round per elicitation
    assert all(span.status.status_code is StatusCode.UNSET for span in rounds)
    assert {span.attributes["mcp.protocol.version"] for span in rounds} == {  # type: ignore[index]
        "2026-07-28"
    }
    sent = [d for _, d in proxy.posts if isinstance(d, dict) and d.get("method") == "tools/call"]
    assert [str(d["id"]) for d in sent] == [span.attributes["jsonrpc.request.id"]  # type: ignore[index]
                                            for span in rounds]
    for document, span in zip(sent, rounds, strict=True):
        meta = document["params"]["_meta"]
        assert meta["traceparent"].startswith(_traceparent_of(span))
        assert "io.modelcontextprotocol/protocolVersion" in meta  # the era's envelope is kept
