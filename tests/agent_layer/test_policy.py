"""Tool policies end to end: lists (per server in a group), approval, failing closed,
metrics and span events; a refused call never reaches the server."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from mcp_async import AsyncMCPClient, ConfigError, MCPClientGroup
from mcp_async.agents import (
    POLICY_EVENT,
    ApprovalRequest,
    PrometheusPolicyMetrics,
    ServerRules,
    ToolPolicy,
    ToolRunner,
)
from mcp_async.testing import MCPTestServer


def build_server() -> MCPTestServer:
    server = MCPTestServer()

    @server.tool(annotations={"readOnlyHint": True})
    def read(key: str) -> str:
        """Reads."""
        return f"value of {key}"

    @server.tool(annotations={"destructiveHint": True})
    def delete_all() -> str:
        """Deletes everything."""
        return "deleted"

    @server.tool(annotations={"openWorldHint": True})
    def fetch(url: str) -> str:
        """Fetches a URL."""
        return f"fetched {url}"

    return server


def chat(*calls: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    return {"choices": [{"message": {"role": "assistant", "tool_calls": [
        {"id": f"c{i}", "type": "function",
         "function": {"name": name, "arguments": json.dumps(args)}}
        for i, (name, args) in enumerate(calls)]}}]}


def sent(server: MCPTestServer) -> list[str]:
    return [p["name"] for m, p in server.stats.received if m == "tools/call"]


async def test_deny_and_allow_lists_hide_and_refuse() -> None:
    server = build_server()
    policy = ToolPolicy(deny=["delete_*"])
    async with server, AsyncMCPClient(server.url) as client:
        runner = ToolRunner(client, "openai", policy=policy)
        tools = await runner.model_tools()
        assert "delete_all" not in tools.entries
        assert [s.tool for s in tools.report.skipped] == ["delete_all"]
        tool_round = await runner.run(chat(("read", {"key": "k"}), ("delete_all", {})))
    # the model was not offered it; if it calls it anyway, it is unknown and never sent
    assert [e.status for e in tool_round.executions] == ["ok", "unknown_tool"]
    assert sent(server) == ["read"]


async def test_per_server_rules_in_a_group() -> None:
    alpha, beta = build_server(), build_server()
    policy = ToolPolicy(servers={"beta": ServerRules(allow=["read"]),
                                 "alpha": {"deny": ["fetch"]}})
    async with alpha, beta, MCPClientGroup({"alpha": AsyncMCPClient(alpha.url),
                                            "beta": AsyncMCPClient(beta.url)}) as group:
        runner = ToolRunner(group, "anthropic", policy=policy)
        offered = sorted((await runner.model_tools()).entries)
        assert offered == ["alpha__delete_all", "alpha__read", "beta__read"]
        # decide() refuses too (a tool list built elsewhere cannot get around it)
        decision = await policy.decide(ApprovalRequest("beta__fetch", "beta", None, {}, "x"),
                                       server_name="fetch")
        assert not decision.allowed and "beta" in decision.reason
        assert policy.counts["denied"] == 1


async def test_approver_is_asked_for_risky_tools_and_a_no_is_never_sent() -> None:
    server = build_server()
    asked: list[str] = []

    async def approver(request: ApprovalRequest) -> bool | tuple[bool, str]:
        asked.append(request.name)
        return (False, "not on a Friday") if request.name == "delete_all" else True

    policy = ToolPolicy(approver=approver)
    async with server, AsyncMCPClient(server.url) as client:
        tool_round = await ToolRunner(client, "openai", policy=policy).run(chat(
            ("read", {"key": "k"}), ("delete_all", {}), ("fetch", {"url": "https://x"})))
    assert sorted(asked) == ["delete_all", "fetch"]  # read-only "read" is not asked about
    assert [e.status for e in tool_round.executions] == ["ok", "refused", "ok"]
    assert "not on a Friday" in tool_round.messages[1]["content"]
    assert tool_round.messages[1]["content"].startswith("Error: ")
    assert sorted(sent(server)) == ["fetch", "read"]
    assert policy.counts == {"allowed": 1, "rejected": 1, "approved": 1}


@pytest.mark.parametrize("failure", ["raises", "times out", "answers nonsense"])
async def test_the_approver_fails_closed(failure: str) -> None:
    server = build_server()

    async def approver(request: ApprovalRequest) -> Any:
        if failure == "raises":
            raise RuntimeError("approval service down")
        if failure == "times out":
            await asyncio.Event().wait()
        return "sure"

    policy = ToolPolicy(approver=approver, needs_approval="all", approval_timeout=0.2)
    async with server, AsyncMCPClient(server.url) as client:
        tool_round = await ToolRunner(client, "gemini", policy=policy).run(
            {"candidates": [{"content": {"parts": [
                {"functionCall": {"id": "g1", "name": "read", "args": {"key": "k"}}}]}}]})
    [execution] = tool_round.executions
    assert execution.status == "refused"
    assert execution.decision is not None and execution.decision.verdict == "approver_failed"
    assert "error" in execution.item["functionResponse"]["response"]
    assert sent(server) == []


async def test_decisions_are_metrics_and_span_events() -> None:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from prometheus_client import CollectorRegistry

    from mcp_async import PrometheusMetrics

    registry = CollectorRegistry()
    metrics = PrometheusPolicyMetrics.like(PrometheusMetrics(registry=registry))
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    server = build_server()

    async def approver(request: ApprovalRequest) -> bool:
        return False

    policy = ToolPolicy(approver=approver, on_decision=[metrics])
    async with server, AsyncMCPClient(server.url, tracing=False) as client:
        runner = ToolRunner(client, "openai", policy=policy)
        with tracer.start_as_current_span("agent turn"):
            await runner.run(chat(("read", {"key": "k"}), ("delete_all", {})))
    value = registry.get_sample_value(
        "mcp_client_tool_policy_decisions_total",
        {"server": "", "tool": "delete_all", "verdict": "rejected", "allowed": "false"})
    assert value == 1.0
    [span] = exporter.get_finished_spans()
    events = [(e.name, e.attributes["gen_ai.tool.name"], e.attributes["mcp.tool.policy.verdict"])
              for e in span.events]
    assert sorted(events) == [(POLICY_EVENT, "delete_all", "rejected"),
                              (POLICY_EVENT, "read", "allowed")]


def test_bad_policy_options_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="approval_timeout"):
        ToolPolicy(approval_timeout=0)
    with pytest.raises(ConfigError, match="servers"):
        ToolPolicy(servers={"a": ["read"]})  # type: ignore[dict-item]
    with pytest.raises(ConfigError, match="patterns"):
        ToolPolicy(deny=[""])
    with pytest.raises(ConfigError, match="namespace"):
        PrometheusPolicyMetrics(namespace="bad-name")


async def test_with_a_tracer_provider_each_call_gets_an_execute_tool_span(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    import mcp_async.agents.runner as runner_module

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(runner_module, "configured_tracer_provider", lambda: provider)
    server = build_server()
    policy = ToolPolicy(deny=["fetch"])
    async with server, AsyncMCPClient(server.url, tracer_provider=provider) as client:
        runner = ToolRunner(client, "openai", policy=policy)
        await runner.model_tools()
        await policy.decide(ApprovalRequest("read", None, None, {}, "x"))  # outside a span
        await runner.run(chat(("read", {"key": "k"})))
    spans = {span.name: span for span in exporter.get_finished_spans()}
    execute = spans["execute_tool read"]
    assert execute.attributes is not None
    assert execute.attributes["gen_ai.tool.call.id"] == "c0"
    assert [e.name for e in execute.events] == [POLICY_EVENT]
    # the MCP request's own span is a child of the execute_tool span
    request = spans["tools/call read"]
    assert request.parent is not None and request.parent.span_id == execute.context.span_id
