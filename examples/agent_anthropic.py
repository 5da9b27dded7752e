"""A Claude (Anthropic Messages) agent loop on MCP tools, with an approver.

Run it with ``python examples/agent_anthropic.py``. It needs the ``anthropic`` package.
The MCP server is ``mcp_async.testing.demo_server()`` and the model is the scripted
Messages-API server of tests/agent_layer/llm_server.py, both on 127.0.0.1; it checks that
every ``tool_result`` block the SDK sends back matches its ``tool_use`` block. For a real
model, build ``AsyncAnthropic()`` from your API key instead.
"""

from __future__ import annotations

import asyncio
import importlib
import sys
from pathlib import Path
from typing import Any

from anthropic import AsyncAnthropic

from mcp_async import AsyncMCPClient
from mcp_async.agents import ApprovalRequest, ToolPolicy, run_agent
from mcp_async.testing import demo_server

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "agent_layer"))
llm_server: Any = importlib.import_module("llm_server")
Call = llm_server.Call

SCRIPT = [
    [Call("echo", {"text": "hello from Claude"}), Call("add", {"a": 40, "b": 2})],
    [Call("fail", {})],
    "Done: echoed, added 40 + 2, and the fail tool was refused.",
]


async def approve(request: ApprovalRequest) -> bool | tuple[bool, str]:
    """Asked before every call (needs_approval="all"); a real one would ask a person."""
    if request.name == "fail":
        return False, "the operator does not allow 'fail' today"
    return True


async def main() -> None:
    async with demo_server() as server, AsyncMCPClient(server.url) as client, \
            llm_server.ScriptedLLM(SCRIPT) as model:
        anthropic = AsyncAnthropic(base_url=model.url, api_key="scripted", max_retries=0)

        async def call_model(messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> Any:
            return await anthropic.messages.create(
                model="claude-sonnet-4-5", max_tokens=1024,
                messages=messages, tools=tools)  # type: ignore[arg-type]

        policy = ToolPolicy(approver=approve, needs_approval="all", approval_timeout=30)
        last = await run_agent(client, "anthropic", call_model,
                               [{"role": "user", "content": "Echo, add, then fail."}],
                               policy=policy)
        await anthropic.close()
        for message in last.messages:
            if message["role"] == "user" and isinstance(message["content"], list):
                for block in message["content"]:
                    print(f"tool_result for {block['tool_use_id']}: is_error="
                          f"{block['is_error']}: {block['content']}")
        print("answer:", last.text)
        print("decisions:", dict(sorted(policy.counts.items())))
        print("problems the scripted model found:", model.problems or "none")


if __name__ == "__main__":
    asyncio.run(main())
