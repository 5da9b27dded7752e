"""Tasks (MCP 2025-11-25 form) against mcp_async.testing's server, and the Task model."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from mcp_async import (
    AsyncMCPClient,
    ReadTimeout,
    Task,
    TaskCancelledError,
    TaskHandle,
    TaskNotSupportedError,
    ToolError,
)
from mcp_async.features.tasks import _delay
from mcp_async.protocol.models import ProgressNotification
from mcp_async.session.handlers import ElicitationRequest, ElicitationResult
from mcp_async.testing import MCPTestServer, demo_server


@pytest.fixture
async def server() -> AsyncIterator[MCPTestServer]:
    async with demo_server(tasks=True, get_stream=True) as srv:
        yield srv


async def choose(request: ElicitationRequest) -> ElicitationResult:
    return ElicitationResult.accept({"interpretation": "snake"})


def methods(server: MCPTestServer) -> list[str]:
    return [method for method, _ in server.stats.received]


async def test_server_advertises_tasks_and_tool_support(server: MCPTestServer) -> None:
    async with AsyncMCPClient(server.url, protocol="legacy") as client:
        await client.initialize()
        assert client.server_capabilities.supports_task_tool_calls
        tools = {tool.name: tool for tool in await client.list_tools()}
        assert tools["research"].execution == {"taskSupport": "required"}
        assert tools["double"].execution == {"taskSupport": "optional"}
        assert tools["echo"].execution is None


async def test_call_tool_runs_a_required_task_transparently(server: MCPTestServer) -> None:
    notes: list[ProgressNotification] = []
    async with AsyncMCPClient(server.url, protocol="legacy") as client:
        result = await client.call_tool(
            "research", {"topic": "tides", "rounds": 3}, progress=notes.append
        )
        assert result.text == "report on tides after 3 stages"
        assert not result.is_error
        seen = methods(server)
        assert seen.count("tools/call") == 1
        assert "tasks/get" in seen and "tasks/result" in seen
        call = next(params for method, params in server.stats.received
                    if method == "tools/call")
        assert call["task"] == {}
        assert [note.progress for note in notes] == [1, 2, 3]


async def test_plain_calls_pay_nothing_without_the_capability() -> None:
    async with demo_server(tasks=False) as server, AsyncMCPClient(
        server.url, protocol="legacy"
    ) as client:
        assert (await client.call_tool("echo", {"text": "hi"})).text == "hi"
        assert "tools/list" not in methods(server)


async def test_forbidden_tool_is_never_a_task(server: MCPTestServer) -> None:
    async with AsyncMCPClient(server.url, protocol="legacy") as client:
        assert (await client.call_tool("echo", {"text": "hi"})).text == "hi"
        assert "task" not in next(p for m, p in server.stats.received if m == "tools/call")
        with pytest.raises(TaskNotSupportedError, match="'echo'") as info:
            await client.start_task("echo", {"text": "hi"})
        assert info.value.tool == "echo"
        # an optional tool is a plain call unless asked for
        assert (await client.call_tool("double", {"x": 2})).text == "4"
        handle = await client.start_task("double", {"x": 2}, ttl=60_000)
        assert (await handle.wait()).text == "4"


async def test_start_task_without_server_support() -> None:
    async with demo_server() as server, AsyncMCPClient(server.url, protocol="legacy") as client:
        with pytest.raises(TaskNotSupportedError, match="does not offer tasks"):
            await client.start_task("echo", {"text": "hi"})


async def test_handle_status_iteration_and_wait(server: MCPTestServer) -> None:
    async with AsyncMCPClient(server.url, protocol="legacy") as client:
        notes: list[ProgressNotification] = []
        handle = await client.start_task(
            "research", {"topic": "moss", "rounds": 3}, progress=notes.append
        )
        assert isinstance(handle, TaskHandle)
        assert handle.task_id and handle.last.status == "working"
        assert handle.last.poll_interval == 50 and handle.last.created_at
        first = await handle.status()
        assert first.task_id == handle.task_id
        seen: list[Task] = [task async for task in handle]
        assert seen[-1].status == "completed" and seen[-1].terminal
        assert any(task.status_message == "stage 2 of 3" for task in seen)
        assert (await handle.wait()).text == "report on moss after 3 stages"
        assert (await handle.wait()).text == "report on moss after 3 stages"  # kept
        assert [note.message for note in notes][-1] == "stage 3 of 3"


async def test_concurrent_waiters_share_one_poller(server: MCPTestServer) -> None:
    async with AsyncMCPClient(server.url, protocol="legacy") as client:
        handle = await client.start_task("research", {"topic": "a", "rounds": 2})
        one, two = await asyncio.gather(handle.wait(), handle.wait())
        assert one.text == two.text == "report on a after 2 stages"
        assert methods(server).count("tasks/result") == 1


async def test_input_required_goes_through_the_elicitation_handler(
    server: MCPTestServer,
) -> None:
    async with AsyncMCPClient(
        server.url, protocol="legacy", elicitation_handler=choose
    ) as client:
        result = await client.call_tool("clarify", {"topic": "python"})
        assert result.text == "python (snake)"
        handle = await client.start_task("clarify", {"topic": "java"})
        statuses = [task.status async for task in handle]
        assert "input_required" in statuses and statuses[-1] == "completed"
        assert (await handle.wait()).text == "java (snake)"


async def test_failed_task_returns_its_error_result(server: MCPTestServer) -> None:
    async with AsyncMCPClient(server.url, protocol="legacy") as client:
        result = await client.call_tool("doomed")
        assert result.is_error and "the experiment failed" in result.text
        with pytest.raises(ToolError):
            await client.call_tool("doomed", raise_on_error=True)
        handle = await client.start_task("doomed")
        assert (await handle.wait()).is_error
        assert handle.last.status == "failed"


async def test_deadline_cancels_the_task_on_the_server(server: MCPTestServer) -> None:
    async with AsyncMCPClient(server.url, protocol="legacy") as client:
        started = time.monotonic()
        with pytest.raises(ReadTimeout, match="cancelled on the server"):
            await client.call_tool("marathon", {"seconds": 30}, timeout=0.3)
        assert time.monotonic() - started < 5
        assert "tasks/cancel" in methods(server)
        (task,) = server.task_store.tasks.values()
        assert task.status == "cancelled"
        assert task.runner is not None and task.runner.done()


async def test_cancel_and_wait(server: MCPTestServer) -> None:
    async with AsyncMCPClient(server.url, protocol="legacy") as client:
        handle = await client.start_task("marathon", {"seconds": 30})
        waiter = asyncio.ensure_future(handle.wait())
        await asyncio.sleep(0.1)
        await handle.cancel()
        with pytest.raises(TaskCancelledError):
            await waiter
        assert handle.last.status == "cancelled"
        with pytest.raises(TaskCancelledError):
            await handle.wait()
        await handle.cancel()  # already over: nothing sent
        assert methods(server).count("tasks/cancel") == 1


async def test_wait_timeout_cancels(server: MCPTestServer) -> None:
    async with AsyncMCPClient(server.url, protocol="legacy") as client:
        handle = await client.start_task("marathon", {"seconds": 30})
        with pytest.raises(ReadTimeout):
            await handle.wait(timeout=0.2)
        assert handle.last.status == "cancelled"


async def test_async_with_cancels_on_error(server: MCPTestServer) -> None:
    async with AsyncMCPClient(server.url, protocol="legacy") as client:
        with pytest.raises(RuntimeError, match="boom"):
            async with await client.start_task("marathon", {"seconds": 30}) as handle:
                await handle.status()
                raise RuntimeError("boom")
        assert handle.last.status == "cancelled"
        (task,) = server.task_store.tasks.values()
        assert task.status == "cancelled"


async def test_caller_cancellation_cancels_the_task(server: MCPTestServer) -> None:
    async with AsyncMCPClient(server.url, protocol="legacy") as client:
        call = asyncio.ensure_future(client.call_tool("marathon", {"seconds": 30}))
        # Cancel once the server holds the task (a fixed sleep raced the handshake on a
        # loaded CI machine).
        for _ in range(200):
            if server.task_store.tasks:
                break
            await asyncio.sleep(0.01)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        for _ in range(50):
            if "tasks/cancel" in methods(server):
                break
            await asyncio.sleep(0.05)
        (task,) = server.task_store.tasks.values()
        assert task.status == "cancelled"


async def test_over_stdio_with_progress(tmp_path: Any) -> None:
    import sys

    notes: list[ProgressNotification] = []
    command = [sys.executable, "-c",
               "import asyncio\nfrom mcp_async.testing import demo_server\n"
               "asyncio.run(demo_server(tasks=True).serve_stdio())"]
    async with AsyncMCPClient.stdio(command[0], command[1:], protocol="legacy",
                                    elicitation_handler=choose) as client:
        result = await client.call_tool("research", {"topic": "x", "rounds": 2},
                                        progress=notes.append)
        assert result.text == "report on x after 2 stages"
        assert [note.progress for note in notes] == [1, 2]
        assert (await client.call_tool("clarify", {"topic": "rust"})).text == "rust (snake)"


def test_task_model_reads_both_forms() -> None:
    old = Task.from_dict({"taskId": "t", "status": "working", "createdAt": "c",
                          "lastUpdatedAt": "u", "ttl": 60000, "pollInterval": 500})
    assert (old.ttl, old.poll_interval, old.terminal) == (60000, 500, False)
    new = Task.from_dict({
        "resultType": "complete", "taskId": "t", "status": "input_required",
        "createdAt": "c", "lastUpdatedAt": "u", "ttlMs": None, "pollIntervalMs": 5000,
        "inputRequests": {"name": {"method": "elicitation/create", "params": {"message": "?"}}},
    })
    assert new.ttl is None and new.poll_interval == 5000
    assert new.input_requests["name"].method == "elicitation/create"
    done = Task.from_dict({"taskId": "t", "status": "completed",
                           "result": {"content": []}})
    assert done.terminal and done.result == {"content": []}


def test_poll_delay_is_bounded() -> None:
    def task(ms: int | None) -> Task:
        return Task("t", "working", poll_interval=ms)

    assert _delay(task(0), 0.1)[0] == 0.02
    assert _delay(task(10 * 60 * 1000), 0.1)[0] == 30.0
    assert _delay(task(1000), 0.1)[0] == 1.0
    assert _delay(task(None), 0.1) == (0.1, pytest.approx(0.15))
    assert _delay(task(None), 2.0) == (2.0, 2.0)
