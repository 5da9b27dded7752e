"""The PydanticAI toolset, driven by PydanticAI's own agent loop and a scripted
``FunctionModel``: one MCP session for every call, the policy and the budget applied,
errors as ModelRetry / ToolFailed."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from mcp_async import AsyncMCPClient, ConfigError, MCPClientGroup
from mcp_async.agents import ResultBudget, ToolPolicy
from mcp_async.testing import Fault, MCPTestServer

from .conftest import PNG, build_server, tool_calls

pytest.importorskip("pydantic_ai")

from pydantic_ai import Agent
from pydantic_ai.messages import BinaryContent, ModelMessage, ModelResponse, TextPart, ToolCallPart
from pydantic_ai.models.function import AgentInfo, FunctionModel

from mcp_async.agents.adapters.pydantic_ai import MCPAsyncToolset

Step = list[tuple[str, dict[str, Any]]] | str


class Script:
    """A scripted model: answers with each step in turn (a list of tool calls, or the
    final text) and keeps what it was shown."""

    def __init__(self, steps: list[Step]) -> None:
        self.steps = list(steps)
        self.offered: list[list[str]] = []
        self.seen: list[str] = []
        self.calls = 0
        self.binaries: list[tuple[str, bytes]] = []

    def __call__(self, messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        self.offered.append(sorted(t.name for t in info.function_tools))
        last = messages[-1]
        for part in getattr(last, "parts", []):
            content = getattr(part, "content", None)
            for item in content if isinstance(content, list) else [content]:
                if isinstance(item, BinaryContent):
                    self.binaries.append((item.media_type, item.data))
            if part.part_kind in ("tool-return", "retry-prompt"):
                self.seen.append(f"{part.part_kind}:{part.tool_name}:"
                                 f"{getattr(part, 'outcome', '-')}:{part.model_response_str()}")
        step = self.steps.pop(0)
        if isinstance(step, str):
            return ModelResponse(parts=[TextPart(step)])
        parts = []
        for name, args in step:
            self.calls += 1
            parts.append(ToolCallPart(name, args, tool_call_id=f"call_{self.calls}"))
        return ModelResponse(parts=parts)


def agent(script: Script, toolset: MCPAsyncToolset) -> Agent[None, str]:
    return Agent(FunctionModel(script), toolsets=[toolset])


async def test_ten_calls_in_two_runs_use_one_session(server: MCPTestServer,
                                                     client: AsyncMCPClient) -> None:
    toolset = MCPAsyncToolset(client)
    for run in range(2):
        script = Script([
            [("echo", {"text": f"r{run}-{i}"}) for i in range(2)],
            [("add", {"a": run, "b": i}) for i in range(3)],
            "done",
        ])
        result = await agent(script, toolset).run("go")
        assert result.output == "done"
        assert script.offered[0] == ["add", "big", "delete_all", "echo", "fail", "picture"]
        assert f"tool-return:echo:success:r{run}-1" in script.seen
        assert any(s.startswith("tool-return:add:success:") and f'"sum":{run + 2}' in s
                   for s in script.seen)
    assert len(tool_calls(server)) == 10
    assert server.stats.sessions_created == 1
    assert server.stats.by_method["initialize"] == 1
    assert server.stats.by_method["tools/list"] == 1
    assert len(toolset.executions) == 10
    assert all(e.status == "ok" for e in toolset.executions)


async def test_denied_tool_is_not_offered_and_never_sent(server: MCPTestServer,
                                                         client: AsyncMCPClient) -> None:
    policy = ToolPolicy(deny=["delete_*"])
    script = Script([[("delete_all", {})], "ok"])
    await agent(script, MCPAsyncToolset(client, policy=policy)).run("go")
    assert "delete_all" not in script.offered[0]
    assert "delete_all" not in tool_calls(server)
    # PydanticAI itself answers a call to a tool it was not given
    assert script.seen[0].startswith("tool-return:delete_all:retried:")
    assert "Unknown tool name" in script.seen[0]


async def test_unapproved_call_is_refused_and_the_model_is_told(
        server: MCPTestServer, client: AsyncMCPClient) -> None:
    asked: list[str] = []

    async def approver(request: Any) -> tuple[bool, str]:
        asked.append(request.name)
        return False, "not on a Monday"

    toolset = MCPAsyncToolset(client, policy=ToolPolicy(approver=approver))
    script = Script([[("delete_all", {}), ("echo", {"text": "hi"})], "ok"])
    await agent(script, toolset).run("go")
    assert asked == ["delete_all"]
    assert tool_calls(server) == ["echo"]
    refused = [s for s in script.seen if ":delete_all:" in s]
    assert len(refused) == 1 and refused[0].startswith("tool-return:delete_all:failed:")
    assert "the call to 'delete_all' was refused and not run: not on a Monday." in refused[0]
    assert [e.status for e in toolset.executions] == ["refused", "ok"]


async def test_big_result_is_truncated_for_the_model(server: MCPTestServer,
                                                     client: AsyncMCPClient) -> None:
    toolset = MCPAsyncToolset(client, budget=ResultBudget(max_chars=1000))
    script = Script([[("big", {"size": 50_000})], "ok"])
    await agent(script, toolset).run("go")
    [seen] = script.seen
    text = seen.split(":", 3)[3]
    assert text.startswith("HEAD") and text.endswith("TAIL")
    assert "characters cut by mcp_async's result budget" in text
    assert len(text) <= 1000
    full = toolset.executions[-1].result
    assert full is not None and len(full.content[0].text) == 50_000  # type: ignore[union-attr]


async def test_tool_error_is_model_retry_and_failed_option(server: MCPTestServer,
                                                          client: AsyncMCPClient) -> None:
    script = Script([[("fail", {})], "ok"])
    await agent(script, MCPAsyncToolset(client)).run("go")
    assert len(script.seen) == 1
    assert script.seen[0].startswith("tool-return:fail:retried:")
    assert "this tool always fails" in script.seen[0]

    script = Script([[("fail", {})], "ok"])
    await agent(script, MCPAsyncToolset(client, tool_error="failed")).run("go")
    assert script.seen[0].startswith("tool-return:fail:failed:")
    assert "this tool always fails" in script.seen[0]


async def test_timeout_is_tool_failed_not_an_exception(server: MCPTestServer,
                                                       client: AsyncMCPClient) -> None:
    server.faults.add(Fault.slow(5.0, method="tools/call"))
    toolset = MCPAsyncToolset(client, timeout=0.3)
    script = Script([[("echo", {"text": "late"})], "ok"])
    result = await agent(script, toolset).run("go")
    assert result.output == "ok"
    assert script.seen[0].startswith("tool-return:echo:failed:")
    assert "timed out" in script.seen[0]
    assert toolset.executions[-1].status == "error"


async def test_group_names_and_one_session_per_server() -> None:
    async with build_server() as one, build_server() as two, MCPClientGroup(
            {"one": AsyncMCPClient(one.url), "two": AsyncMCPClient(two.url)}) as group:
        toolset = MCPAsyncToolset(group, policy=ToolPolicy(
            servers={"two": {"deny": ["delete_all"]}}))
        script = Script([[("one__echo", {"text": "a"})] * 5,
                         [("two__echo", {"text": "b"})] * 5, "ok"])
        await agent(script, toolset).run("go")
        assert "one__delete_all" in script.offered[0]
        assert "two__delete_all" not in script.offered[0]
    for server in (one, two):
        assert tool_calls(server) == ["echo"] * 5
        assert server.stats.sessions_created == 1


def test_bad_options_are_config_errors(client: AsyncMCPClient) -> None:
    with pytest.raises(ConfigError, match="tool_error"):
        MCPAsyncToolset(client, tool_error="raise")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="AsyncMCPClient or an MCPClientGroup"):
        MCPAsyncToolset("http://example")  # type: ignore[arg-type]


def test_missing_framework_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pydantic_ai.toolsets", None)
    monkeypatch.delitem(sys.modules, "mcp_async.agents.adapters.pydantic_ai")
    with pytest.raises(ConfigError, match=r"pip install 'mcp-async\[pydantic-ai\]'"):
        import mcp_async.agents.adapters.pydantic_ai  # noqa: F401


async def test_images_and_pdfs_reach_the_model_as_binary_content(
        server: MCPTestServer, client: AsyncMCPClient) -> None:
    script = Script([[("picture", {})], "ok"])
    await agent(script, MCPAsyncToolset(client)).run("go")
    assert ("image/png", PNG) in script.binaries
    assert ("application/pdf", b"%PDF-1.4 tiny") in script.binaries
    assert any("a tiny picture" in seen for seen in script.seen)
