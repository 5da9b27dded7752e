"""Tasks: long tool calls that run in the background and are polled (docs/tasks.md).

Runs against mcp_async.testing's embedded demo server, whose task tools follow the
MCP 2025-11-25 tasks form.
"""

from __future__ import annotations

import asyncio

from mcp_async import AsyncMCPClient, ReadTimeout, TaskCancelledError
from mcp_async.handlers import ElicitationRequest, ElicitationResult
from mcp_async.models import ProgressNotification
from mcp_async.testing import demo_server


async def clarify(request: ElicitationRequest) -> ElicitationResult:
    print("server asks:", request.message)
    return ElicitationResult.accept({"interpretation": "snake"})


def show(note: ProgressNotification) -> None:
    print(f"progress {note.progress}/{note.total}: {note.message}")


async def main() -> None:
    async with demo_server(tasks=True, get_stream=True) as server, AsyncMCPClient(
        server.url, elicitation_handler=clarify
    ) as client:
        # A tool with execution.taskSupport "required": call_tool runs it as a task.
        result = await client.call_tool("research", {"topic": "tides"}, progress=show)
        print("call_tool ->", result.text)

        # Explicit control: a handle to watch, wait for or cancel.
        handle = await client.start_task("clarify", {"topic": "python"})
        async for task in handle:
            print("status:", task.status)
        print("wait ->", (await handle.wait()).text)

        # A deadline cancels the task on the server too.
        try:
            await client.call_tool("marathon", {"seconds": 30}, timeout=0.3)
        except ReadTimeout:
            print("marathon timed out and was cancelled")

        async with await client.start_task("marathon", {"seconds": 30}) as handle:
            await handle.cancel()
            try:
                await handle.wait()
            except TaskCancelledError:
                print("cancelled:", handle.last.status)


if __name__ == "__main__":
    asyncio.run(main())
