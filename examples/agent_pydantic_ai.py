"""A PydanticAI agent on MCP tools: one toolset, one MCP session for every call.

Run it with ``python examples/agent_pydantic_ai.py``. It needs ``pydantic-ai-slim`` and
``openai`` (``pip install 'mcp-async[pydantic-ai]' openai``). Two servers run inside this
process on 127.0.0.1: ``mcp_async.testing.demo_server()`` (a real MCP server) and a
scripted model that speaks the Chat Completions wire format (tests/agent_layer/llm_server.py)
and checks every tool result PydanticAI sends back. For a real model, drop the scripted
server and write ``Agent("openai:gpt-5", toolsets=[toolset])``; the rest stays the same.
"""

from __future__ import annotations

import asyncio
import importlib
import sys
from pathlib import Path
from typing import Any

from pydantic_ai import Agent
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.providers.openai import OpenAIProvider

from mcp_async import AsyncMCPClient
from mcp_async.agents import ApprovalRequest, ResultBudget, ToolPolicy
from mcp_async.agents.adapters.pydantic_ai import MCPAsyncToolset
from mcp_async.testing import demo_server

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "agent_layer"))
llm_server: Any = importlib.import_module("llm_server")
Call = llm_server.Call

#: What the scripted model does, in two runs of the same agent.
FIRST_RUN = [
    [Call("add", {"a": 2, "b": 3}), Call("weather", {"city": "Lisbon"})],
    [Call("echo", {"text": "2 + 3 = 5"}), Call("fail", {})],
    "2 + 3 = 5, and Lisbon's weather is in the tool results.",
]
SECOND_RUN = [[Call("add", {"a": i, "b": 1}) for i in range(6)], "Counted to 6."]


async def approve(request: ApprovalRequest) -> tuple[bool, str]:
    """The approver: asked before the tools the policy picks (here: every call)."""
    if request.name == "fail":
        return False, "the operator does not allow 'fail' today"
    return True, "approved"


async def main() -> None:
    async with demo_server() as server, AsyncMCPClient(server.url) as client, \
            llm_server.ScriptedLLM(FIRST_RUN + SECOND_RUN) as llm:
        toolset = MCPAsyncToolset(
            client,
            policy=ToolPolicy(deny=["slow"],                  # never offered, never run
                              approver=approve, needs_approval="all"),
            budget=ResultBudget(max_chars=4_000),              # per result, head + tail
        )
        model = OpenAIChatModel(
            "gpt-4.1", provider=OpenAIProvider(base_url=f"{llm.url}/v1", api_key="scripted"))
        agent = Agent(model, toolsets=[toolset])

        first = await agent.run("What is 2 + 3, and the weather in Lisbon?")
        print("first run answered:", first.output)
        second = await agent.run("Count to six with add.")
        print("second run answered:", second.output)

        for execution in toolset.executions:
            print(f"{execution.call.name}({execution.call.arguments}) -> {execution.status}: "
                  f"{execution.rendered.text[:70]}")
        for seen in (r for rounds in llm.results for r in rounds if r.name == "fail"):
            print(f"the model read for fail: {seen.text}")
        print(f"tool calls: {server.stats.by_method['tools/call']}, "
              f"MCP sessions: {server.stats.sessions_created}")
        print("problems the scripted model found:", llm.problems or "none")


if __name__ == "__main__":
    asyncio.run(main())
