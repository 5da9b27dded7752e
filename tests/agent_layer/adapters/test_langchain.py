"""The LangChain tools, driven by LangChain's agent loop (``create_agent``) and its
tool-calling loop (a chat model with tools bound, ``tool.ainvoke(tool_call)`` giving
``ToolMessage`` objects), with a scripted fake chat model: one MCP session for every
call, the policy and the budget applied, failures as error ``ToolMessage`` objects."""

from __future__ import annotations

import base64
import sys
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from mcp_async import AsyncMCPClient, ConfigError
from mcp_async.agents import ResultBudget, ToolExecution, ToolPolicy
from mcp_async.testing import Fault, MCPTestServer

from .conftest import PNG, tool_calls

pytest.importorskip("langchain_core")

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import Field

from mcp_async.agents.adapters.langchain import langchain_tools

Step = list[tuple[str, dict[str, Any]]] | str


def scripted(steps: list[Step]) -> Iterator[AIMessage]:
    n = 0
    for step in steps:
        if isinstance(step, str):
            yield AIMessage(content=step)
            continue
        calls = []
        for name, args in step:
            n += 1
            calls.append({"name": name, "args": args, "id": f"call_{n}", "type": "tool_call"})
        yield AIMessage(content="", tool_calls=calls)


class ScriptedChatModel(GenericFakeChatModel):
    """GenericFakeChatModel that accepts ``bind_tools`` and records what it was offered."""

    offered: list[str] = Field(default_factory=list)

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> ScriptedChatModel:
        self.offered = sorted(convert_to_openai_tool(t)["function"]["name"] for t in tools)
        return self


async def run_loop(model: Any, tools: list[Any], prompt: str = "go",
                   max_rounds: int = 10) -> list[BaseMessage]:
    """LangChain's tool-calling loop: call the model, run its tool calls, repeat."""
    bound = model.bind_tools(tools)
    by_name = {tool.name: tool for tool in tools}
    messages: list[BaseMessage] = [HumanMessage(prompt)]
    for _ in range(max_rounds):
        reply = await bound.ainvoke(messages)
        messages.append(reply)
        if not reply.tool_calls:
            break
        for call in reply.tool_calls:
            messages.append(await by_name[call["name"]].ainvoke(call))
    return messages


def results(messages: list[BaseMessage]) -> list[ToolMessage]:
    return [m for m in messages if isinstance(m, ToolMessage)]


async def test_ten_calls_use_one_session(server: MCPTestServer,
                                         client: AsyncMCPClient) -> None:
    tools = await langchain_tools(client)
    model = ScriptedChatModel(messages=scripted([
        [("echo", {"text": f"m{i}"}) for i in range(4)],
        [("add", {"a": i, "b": 1}) for i in range(6)],
        "done",
    ]))
    messages = await run_loop(model, tools)
    assert model.offered == ["add", "big", "delete_all", "echo", "fail", "picture"]
    assert messages[-1].content == "done"
    answers = results(messages)
    assert [m.tool_call_id for m in answers] == [f"call_{i}" for i in range(1, 11)]
    assert [m.status for m in answers] == ["success"] * 10
    assert answers[0].content == "m0"
    assert '"sum":6' in str(answers[-1].content)
    assert isinstance(answers[0].artifact, ToolExecution)
    assert len(tool_calls(server)) == 10
    assert server.stats.sessions_created == 1
    assert server.stats.by_method["initialize"] == 1


async def test_policy_deny_and_refusal(server: MCPTestServer, client: AsyncMCPClient) -> None:
    denied = await langchain_tools(client, policy=ToolPolicy(deny=["fail"]))
    assert "fail" not in {t.name for t in denied}

    async def approver(request: Any) -> bool:
        return False

    tools = await langchain_tools(client, policy=ToolPolicy(approver=approver))
    model = ScriptedChatModel(messages=scripted([[("delete_all", {})], "ok"]))
    messages = await run_loop(model, tools)
    [refusal] = results(messages)
    assert refusal.status == "error"
    assert "the call to 'delete_all' was refused and not run: the approver said no" in str(
        refusal.content)
    assert tool_calls(server) == []


async def test_big_result_is_truncated(server: MCPTestServer, client: AsyncMCPClient) -> None:
    tools = await langchain_tools(client, budget=ResultBudget(max_chars=1000))
    model = ScriptedChatModel(messages=scripted([[("big", {"size": 40_000})], "ok"]))
    [answer] = results(await run_loop(model, tools))
    text = str(answer.content)
    assert text.startswith("HEAD") and text.endswith("TAIL") and len(text) <= 1000
    assert "characters cut by mcp_async's result budget" in text
    assert answer.artifact.result.content[0].text.endswith("x" * 100 + "TAIL")
    assert len(answer.artifact.result.content[0].text) == 40_000


async def test_tool_error_and_timeout_are_error_tool_messages(
        server: MCPTestServer, client: AsyncMCPClient) -> None:
    tools = await langchain_tools(client, timeout=0.3)
    server.faults.add(Fault.slow(5.0, method="tools/call", name="echo"))
    model = ScriptedChatModel(messages=scripted([[("fail", {}), ("echo", {"text": "x"})],
                                                 "ok"]))
    messages = await run_loop(model, tools)
    failed, late = results(messages)
    assert failed.status == "error" and "this tool always fails" in str(failed.content)
    assert late.status == "error" and "timed out" in str(late.content)
    assert messages[-1].content == "ok"


async def test_sync_invoke_is_a_config_error(client: AsyncMCPClient) -> None:
    [echo] = [t for t in await langchain_tools(client) if t.name == "echo"]
    with pytest.raises(ConfigError, match="ainvoke"):
        echo.invoke({"text": "x"})


def test_missing_framework_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "langchain_core.tools", None)
    monkeypatch.delitem(sys.modules, "mcp_async.agents.adapters.langchain", raising=False)
    with pytest.raises(ConfigError, match=r"pip install 'mcp-async\[langchain\]'"):
        import mcp_async.agents.adapters.langchain  # noqa: F401


async def test_images_are_standard_content_blocks(server: MCPTestServer,
                                                  client: AsyncMCPClient) -> None:
    tools = await langchain_tools(client)
    model = ScriptedChatModel(messages=scripted([[("picture", {})], "ok"]))
    [answer] = results(await run_loop(model, tools))
    assert answer.status == "success"
    text, image = answer.content
    assert text["type"] == "text" and text["text"].startswith("a tiny picture")
    assert "[document application/pdf, 13 bytes: LangChain tool messages carry images " \
        "only, not sent]" in text["text"]
    assert image == {"type": "image", "base64": base64.b64encode(PNG).decode(),
                     "mime_type": "image/png"}


async def test_create_agent_ten_calls_one_session_policy_and_budget(
        server: MCPTestServer, client: AsyncMCPClient) -> None:
    """LangChain's own agent loop (``create_agent``, on langgraph) over several turns: the
    ten calls that reach the server share one MCP session; the approver's refusal and
    the budget's truncation are what the model reads."""
    agents = pytest.importorskip("langchain.agents")

    async def approver(request: Any) -> bool:
        return False

    tools = await langchain_tools(client, policy=ToolPolicy(deny=["fail"], approver=approver),
                                  budget=ResultBudget(max_chars=1000))
    model = ScriptedChatModel(messages=scripted([
        [("echo", {"text": f"m{i}"}) for i in range(4)],
        [("add", {"a": i, "b": 1}) for i in range(3)] + [("delete_all", {})],
        [("big", {"size": 40_000}), ("echo", {"text": "last"})],
        [("add", {"a": 10, "b": 20})],
        "done",
    ]))
    agent = agents.create_agent(model=model, tools=tools)
    state = await agent.ainvoke({"messages": [HumanMessage("go")]})
    messages: list[BaseMessage] = state["messages"]

    assert model.offered == ["add", "big", "delete_all", "echo", "picture"]
    assert messages[-1].content == "done"
    by_id = {m.tool_call_id: m for m in results(messages)}
    assert sorted(by_id) == sorted(f"call_{i}" for i in range(1, 12))
    refusal = by_id["call_8"]
    assert refusal.name == "delete_all" and refusal.status == "error"
    assert "the call to 'delete_all' was refused and not run: the approver said no" in str(
        refusal.content)
    big = str(by_id["call_9"].content)
    assert big.startswith("HEAD") and big.endswith("TAIL") and len(big) <= 1000
    assert "characters cut by mcp_async's result budget" in big
    assert [by_id[f"call_{i}"].status for i in (1, 2, 3, 4, 5, 6, 7, 9, 10, 11)] == \
        ["success"] * 10
    assert by_id["call_10"].content == "last"
    assert '"sum":30' in str(by_id["call_11"].content)

    sent = tool_calls(server)
    assert sorted(sent) == sorted(["echo"] * 5 + ["add"] * 4 + ["big"])
    assert "delete_all" not in sent
    assert server.stats.sessions_created == 1
    assert server.stats.by_method["initialize"] == 1
