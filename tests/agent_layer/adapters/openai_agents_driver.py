"""Runs an OpenAI Agents SDK agent, driven by a scripted ``Model``, on an MCP server
through :class:`mcp_async.agents.adapters.openai_agents.MCPAsyncServer`, and prints as
JSON what the model was offered and the tool outputs it read.

Run as a separate process by test_openai_agents.py, so the SDK's process-wide state
(its tracing provider, its default client) stays out of the test process.

    python openai_agents_driver.py URL SCENARIO
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from typing import Any

from agents import Agent, Model, ModelResponse, RunConfig, Runner, Usage, set_tracing_disabled
from openai.types.responses import (
    ResponseFunctionToolCall,
    ResponseOutputMessage,
    ResponseOutputText,
)

from mcp_async import AsyncMCPClient, MCPClientGroup
from mcp_async.agents import ResultBudget, ToolPolicy
from mcp_async.agents.adapters.openai_agents import MCPAsyncServer

Step = list[tuple[str, dict[str, Any]]] | str


class ScriptedModel(Model):  # type: ignore[misc]
    """Answers with each step in turn (tool calls or the final text); keeps the tool
    names it was offered and the function_call_output items it was sent."""

    def __init__(self, steps: list[Step], record: dict[str, Any]) -> None:
        self.steps = list(steps)
        self.record = record
        self.calls = 0

    async def get_response(self, system_instructions: Any, input: Any, model_settings: Any,
                           tools: Any, output_schema: Any, handoffs: Any, tracing: Any,
                           **kwargs: Any) -> ModelResponse:
        self.record.setdefault("offered", sorted(t.name for t in tools))
        items = input if isinstance(input, list) else []
        seen = [item for item in items if isinstance(item, dict)
                and item.get("type") == "function_call_output"]
        self.record["outputs"] = [{"call_id": i["call_id"], "output": i["output"]}
                                  for i in seen]
        step = self.steps.pop(0)
        if isinstance(step, str):
            text = ResponseOutputText(type="output_text", text=step, annotations=[])
            output: list[Any] = [ResponseOutputMessage(
                id="msg_1", type="message", role="assistant", status="completed",
                content=[text])]
        else:
            output = []
            for name, args in step:
                self.calls += 1
                output.append(ResponseFunctionToolCall(
                    type="function_call", call_id=f"call_{self.calls}", name=name,
                    arguments=json.dumps(args), id=f"fc_{self.calls}"))
        return ModelResponse(output=output, usage=Usage(), response_id=None)

    def stream_response(self, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        raise NotImplementedError("the scripted model does not stream")


async def run(agent_server: MCPAsyncServer, steps: list[Step]) -> dict[str, Any]:
    record: dict[str, Any] = {}
    agent = Agent(name="scripted", model=ScriptedModel(steps, record),
                  mcp_servers=[agent_server])
    result = await Runner.run(agent, "go", run_config=RunConfig(tracing_disabled=True))
    record["final"] = result.final_output
    return record


async def main(url: str, scenario: str) -> dict[str, Any]:
    set_tracing_disabled(True)
    out: dict[str, Any] = {}
    if scenario == "group":
        members = {"one": AsyncMCPClient(url), "two": AsyncMCPClient(url)}
        async with MCPClientGroup(members) as group:
            server = MCPAsyncServer(group, policy=ToolPolicy(
                servers={"two": {"deny": ["delete_all"]}}))
            out["run"] = await run(server, [
                [("one__echo", {"text": "1"}), ("two__echo", {"text": "2"})],
                [("one__add", {"a": 1, "b": 1}), ("two__add", {"a": 2, "b": 2})], "ok"])
            out["statuses"] = [e.status for e in server.executions]
        return out
    async with AsyncMCPClient(url) as client:
        if scenario == "ten":
            server = MCPAsyncServer(client, name="test")
            await server.connect()
            out["run1"] = await run(server, [
                [("echo", {"text": f"a{i}"}) for i in range(3)],
                [("add", {"a": i, "b": 10}) for i in range(2)],
                "first done"])
            out["run2"] = await run(server, [
                [("echo", {"text": f"b{i}"}) for i in range(5)], "second done"])
            out["statuses"] = [e.status for e in server.executions]
        elif scenario == "policy":
            async def approver(request: Any) -> tuple[bool, str]:
                return False, "needs a human"

            server = MCPAsyncServer(client, policy=ToolPolicy(deny=["fail"],
                                                              approver=approver))
            out["run"] = await run(server, [[("delete_all", {}), ("echo", {"text": "hi"})],
                                            "ok"])
            out["statuses"] = [e.status for e in server.executions]
        elif scenario == "budget":
            server = MCPAsyncServer(client, budget=ResultBudget(max_chars=1000))
            out["run"] = await run(server, [[("big", {"size": 40_000})], "ok"])
            result = server.executions[-1].result
            assert result is not None
            out["full_chars"] = sum(len(getattr(c, "text", "")) for c in result.content)
        elif scenario == "errors":
            server = MCPAsyncServer(client, timeout=0.3)
            out["run"] = await run(server, [[("fail", {})], [("echo", {"text": "slow"})],
                                            "ok"])
            out["statuses"] = [e.status for e in server.executions]
        elif scenario == "meta":
            server = MCPAsyncServer(client, tool_meta_resolver=lambda ctx: {
                "tenant": "t1", "tool": ctx.tool_name})
            out["run"] = await run(server, [[("echo", {"text": "m"})], "ok"])
        elif scenario == "picture":
            out["run"] = await run(MCPAsyncServer(client), [[("picture", {})], "ok"])
        elif scenario == "prompts":
            server = MCPAsyncServer(client)
            listed = await server.list_prompts()
            out["prompts"] = [p.name for p in listed.prompts]
            got = await server.get_prompt("greet", {"who": "Ada"})
            out["prompt_text"] = got.messages[0].content.text
        else:
            raise SystemExit(f"unknown scenario {scenario!r}")
    return out


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(sys.argv[1], sys.argv[2]))))
