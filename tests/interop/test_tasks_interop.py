"""Tasks (MCP 2025-11-25) against ``@modelcontextprotocol/server-everything``.

Its ``simulate-research-query`` tool has ``execution.taskSupport: "required"``: it runs
four one-second stages (``pollInterval`` 1000 ms) and, with ``ambiguous: true`` and a
client that can elicit, asks for a clarification through ``tasks/result``.
"""

from __future__ import annotations

import asyncio

import pytest
from servers import RunningServer, StdioCommand

from mcp_async import AsyncMCPClient, TaskCancelledError, TaskNotSupportedError
from mcp_async.session.handlers import ElicitationRequest, ElicitationResult

TOOL = "simulate-research-query"


async def snake(request: ElicitationRequest) -> ElicitationResult:
    assert "python" in request.message
    return ElicitationResult.accept({"interpretation": "snake"})


async def test_call_tool_runs_the_required_task(everything_server: RunningServer) -> None:
    async with AsyncMCPClient(everything_server.url) as client:
        tool = next(t for t in await client.list_tools() if t.name == TOOL)
        assert tool.execution == {"taskSupport": "required"}
        assert client.server_capabilities.supports_task_tool_calls
        result = await client.call_tool(TOOL, {"topic": "tides"}, timeout=60)
        assert not result.is_error
        assert "# Research Report: tides" in result.text
        assert "Stage 4: Generating report" in result.text


async def test_start_task_with_input_required(everything_server: RunningServer) -> None:
    async with AsyncMCPClient(everything_server.url, elicitation_handler=snake) as client:
        handle = await client.start_task(TOOL, {"topic": "python", "ambiguous": True},
                                         ttl=120_000)
        assert handle.last.poll_interval == 1000
        statuses = []
        async for task in handle:
            statuses.append((task.status, task.status_message))
        kinds = [status for status, _ in statuses]
        assert "input_required" in kinds and kinds[-1] == "completed"
        result = await asyncio.wait_for(handle.wait(), 30)
        assert "Clarification**: snake" in result.text


async def test_start_task_cancel(everything_server: RunningServer) -> None:
    async with AsyncMCPClient(everything_server.url) as client:
        handle = await client.start_task(TOOL, {"topic": "moss"})
        assert (await handle.status()).status == "working"
        await handle.cancel()
        with pytest.raises(TaskCancelledError):
            await handle.wait()
        remote = await client.request("tasks/get", {"taskId": handle.task_id})
        assert remote["status"] == "cancelled"
        with pytest.raises(TaskNotSupportedError, match="'echo'"):
            await client.start_task("echo", {"message": "hi"})


async def test_over_stdio(everything_stdio_command: StdioCommand) -> None:
    command = everything_stdio_command
    async with AsyncMCPClient.stdio(
        command.command, command.args, env=command.env, cwd=command.cwd,
        elicitation_handler=snake,
    ) as client:
        result = await client.call_tool(TOOL, {"topic": "python", "ambiguous": True},
                                        timeout=60)
        assert "Clarification**: snake" in result.text
