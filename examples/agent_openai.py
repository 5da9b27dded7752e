"""An OpenAI agent loop on MCP tools, with no glue: tools out, calls back, results in.

Run it with ``python examples/agent_openai.py``. It needs the ``openai`` package. Two
servers run inside this process on 127.0.0.1: ``mcp_async.testing.demo_server()`` (a real
MCP server) and a scripted model that speaks the Chat Completions wire format
(tests/agent_layer/llm_server.py) and checks every tool result the SDK sends back. For a
real model, drop the scripted server and build ``AsyncOpenAI()`` from your API key; the
rest of the program stays the same.
"""

from __future__ import annotations

import asyncio
import importlib
import sys
from pathlib import Path
from typing import Any

from openai import AsyncOpenAI

from mcp_async import AsyncMCPClient
from mcp_async.agents import ResultBudget, ToolPolicy, ToolRunner, agent_loop
from mcp_async.testing import demo_server

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "agent_layer"))
llm_server: Any = importlib.import_module("llm_server")
Call = llm_server.Call

#: What the scripted model does: two rounds of tool calls, then an answer.
SCRIPT = [
    [Call("add", {"a": 2, "b": 3}), Call("weather", {"city": "Lisbon"})],
    [Call("echo", {"text": "2 + 3 = 5"}), Call("fail", {})],
    "2 + 3 = 5, and Lisbon's weather is in the tool results.",
]


async def main() -> None:
    async with demo_server() as server, AsyncMCPClient(server.url) as client, \
            llm_server.ScriptedLLM(SCRIPT) as model:
        openai = AsyncOpenAI(base_url=f"{model.url}/v1", api_key="scripted", max_retries=0)

        async def call_model(messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> Any:
            return await openai.chat.completions.create(
                model="gpt-5", messages=messages, tools=tools)  # type: ignore[arg-type]

        # Strict mode: schemas OpenAI's strict function calling accepts; the report
        # lists every change made to them.
        runner = ToolRunner(client, "openai", mode="strict",
                            policy=ToolPolicy(deny=["slow"]),      # never offered, never run
                            budget=ResultBudget(max_chars=4_000))  # per result, head + tail
        tools = await runner.model_tools()
        print("offered:", ", ".join(sorted(tools.entries)))
        print(f"schema changes: {len(tools.report.changes)}; left out:",
              ", ".join(str(s) for s in tools.report.skipped))

        messages = [{"role": "user", "content": "What is 2 + 3, and the weather in Lisbon?"}]
        async for step in agent_loop(runner, "openai", call_model, messages):
            if step.tool_round is None:
                print(f"round {step.round}: the model answered: {step.text}")
                continue
            for execution in step.tool_round.executions:
                print(f"round {step.round}: {execution.call.name}({execution.call.arguments}) "
                      f"-> {execution.status}: {execution.item['content']}")
        await openai.close()
        print("problems the scripted model found:", model.problems or "none")


if __name__ == "__main__":
    asyncio.run(main())
