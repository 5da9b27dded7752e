"""Tasks in the 2026 form (the ``io.modelcontextprotocol/tasks`` extension), against
mcp_async.testing's server in its 2026-07-28 mode (``eras=``)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from typing import Any

import pytest

from mcp_async import (
    AsyncMCPClient,
    InputRequestError,
    JSONRPCError,
    MissingClientCapabilityError,
    ReadTimeout,
    TaskCancelledError,
    TaskFailedError,
    TaskHandle,
)
from mcp_async.session.handlers import ElicitationRequest, ElicitationResult
from mcp_async.testing import MCPTestServer, demo_server
from mcp_async.testing.tasks import TaskRPCError

V = "2026-07-28"
EXTENSION = "io.modelcontextprotocol/tasks"


@pytest.fixture
async def server() -> AsyncIterator[MCPTestServer]:
    srv = demo_server(tasks=True, eras=(V, "2025-11-25"))

    @srv.tool(task_support="required")
    async def broken() -> str:
        """A task that fails with a JSON-RPC error."""
        await asyncio.sleep(0.02)
        raise TaskRPCError(-32603, "the lab burned down", {"lab": 7})

    async with srv:
        yield srv


async def choose(request: ElicitationRequest) -> ElicitationResult:
    return ElicitationResult.accept({"interpretation": "snake"})


def methods(server: MCPTestServer) -> list[str]:
    return [method for method, _ in server.stats.received]


def calls(server: MCPTestServer, method: str) -> list[dict[str, Any]]:
    return [params for m, params in server.stats.received if m == method]


async def test_call_tool_follows_a_required_task(server: MCPTestServer) -> None:
    async with AsyncMCPClient(server.url) as client:
        result = await client.call_tool("research", {"topic": "tides", "rounds": 3})
        assert client.protocol_version == V
        assert result.text == "report on tides after 3 stages" and not result.is_error
    (call,) = calls(server, "tools/call")
    assert "task" not in call  # the 2025-11-25 request form is not used
    caps = call["_meta"]["io.modelcontextprotocol/clientCapabilities"]
    assert caps["extensions"] == {EXTENSION: {}}
    seen = methods(server)
    assert "tasks/get" in seen and "tasks/result" not in seen
    (task,) = server.task_store.tasks.values()
    assert (task.form, task.status) == ("2026", "completed")


async def test_raw_request_returns_the_task_handle(server: MCPTestServer) -> None:
    async with AsyncMCPClient(server.url) as client:
        raw = await client.request("tools/call", {"name": "marathon",
                                                  "arguments": {"seconds": 5}})
        assert raw["resultType"] == "task"
        assert raw["status"] == "working" and raw["pollIntervalMs"] == 50
        assert {"taskId", "createdAt", "lastUpdatedAt", "ttlMs"} <= raw.keys()
        got = await client.request("tasks/get", {"taskId": raw["taskId"]})
        assert got["taskId"] == raw["taskId"] and got["resultType"] == "complete"
        await client.request("tasks/cancel", {"taskId": raw["taskId"]})
        got = await client.request("tasks/get", {"taskId": raw["taskId"]})
        assert got["status"] == "cancelled"


async def test_start_task_iterate_and_wait(server: MCPTestServer) -> None:
    async with AsyncMCPClient(server.url) as client:
        handle = await client.start_task("research", {"topic": "moons", "rounds": 3})
        assert isinstance(handle, TaskHandle)
        assert handle.form == "2026" and handle.task_id
        assert handle.last.status == "working"
        seen = [(task.status, task.status_message) async for task in handle]
        assert seen[0] == ("working", None)
        assert seen[-1][0] == "completed"
        assert ("working", "stage 2 of 3") in seen
        result = await handle.wait()
        assert result.text == "report on moons after 3 stages"
        status = await handle.status()
        assert status.terminal and status.result is not None


async def test_concurrent_waiters_share_one_poller(server: MCPTestServer) -> None:
    async with AsyncMCPClient(server.url) as client:
        handle = await client.start_task("research", {"topic": "x", "rounds": 2})
        first, second = await asyncio.gather(handle.wait(), handle.wait())
        assert first.text == second.text == "report on x after 2 stages"


async def test_optional_tool_is_answered_at_once(server: MCPTestServer) -> None:
    async with AsyncMCPClient(server.url) as client:
        handle = await client.start_task("double", {"x": 4})
        assert handle.task_id == "" and handle.last.status == "completed"
        assert float((await handle.wait()).text) == 8


async def test_cancel(server: MCPTestServer) -> None:
    async with AsyncMCPClient(server.url) as client:
        handle = await client.start_task("marathon", {"seconds": 30})
        await handle.cancel()
        with pytest.raises(TaskCancelledError):
            await handle.wait()
        assert handle.last.status == "cancelled"
        await handle.cancel()  # ended already: nothing to do
    (task,) = server.task_store.tasks.values()
    assert task.status == "cancelled"
    assert len(calls(server, "tasks/cancel")) == 1


async def test_input_goes_back_with_tasks_update(server: MCPTestServer) -> None:
    asked: list[str] = []

    async def answer(request: ElicitationRequest) -> ElicitationResult:
        asked.append(request.message)
        return await choose(request)

    async with AsyncMCPClient(server.url, elicitation_handler=answer) as client:
        result = await client.call_tool("clarify", {"topic": "python"})
        assert result.text == "python (snake)"
    assert asked == ["Which python do you mean?"]
    (update,) = calls(server, "tasks/update")
    assert update["inputResponses"] == {
        "elicitation-1": {"action": "accept", "content": {"interpretation": "snake"}}
    }
    gets = calls(server, "tasks/get")
    assert all(get["taskId"] == update["taskId"] for get in gets)


async def test_input_required_status_is_seen(server: MCPTestServer) -> None:
    async with AsyncMCPClient(server.url, elicitation_handler=choose) as client:
        handle = await client.start_task("clarify", {"topic": "java"})
        statuses = [task async for task in handle]
        waiting = [task for task in statuses if task.status == "input_required"]
        assert waiting and waiting[0].input_requests["elicitation-1"].method == (
            "elicitation/create")
        assert statuses[-1].status == "completed"
        assert (await handle.wait()).text == "java (snake)"


async def test_failing_handler_cancels_the_task(server: MCPTestServer) -> None:
    async def refuse(request: ElicitationRequest) -> ElicitationResult:
        raise RuntimeError("no user here")

    async with AsyncMCPClient(server.url, elicitation_handler=refuse) as client:
        with pytest.raises(InputRequestError):
            await client.call_tool("clarify", {"topic": "rust"})
    (task,) = server.task_store.tasks.values()
    assert task.status == "cancelled"


async def test_failed_task_returns_its_error_result(server: MCPTestServer) -> None:
    async with AsyncMCPClient(server.url) as client:
        result = await client.call_tool("doomed")
        assert result.is_error and result.text == "the experiment failed"
        handle = await client.start_task("doomed")
        assert (await handle.wait()).is_error
        assert handle.last.status == "failed"


async def test_failed_task_with_an_error_raises(server: MCPTestServer) -> None:
    async with AsyncMCPClient(server.url) as client:
        with pytest.raises(TaskFailedError) as info:
            await client.call_tool("broken")
        assert info.value.error is not None
        assert info.value.error.code == -32603
        assert info.value.task is not None and info.value.task.status == "failed"
        assert info.value.task.error == {"code": -32603, "message": "the lab burned down",
                                         "data": {"lab": 7}}


async def test_deadline_cancels_the_task_on_the_server(server: MCPTestServer) -> None:
    async with AsyncMCPClient(server.url) as client:
        with pytest.raises(ReadTimeout, match="cancelled on the server"):
            await client.call_tool("marathon", {"seconds": 30}, timeout=0.4)
    (task,) = server.task_store.tasks.values()
    assert task.status == "cancelled"
    assert calls(server, "tasks/cancel")


async def test_wait_timeout_cancels(server: MCPTestServer) -> None:
    async with AsyncMCPClient(server.url) as client:
        handle = await client.start_task("marathon", {"seconds": 30})
        with pytest.raises(ReadTimeout):
            await handle.wait(timeout=0.2)
        assert handle.last.status == "cancelled"


async def test_tasks_update_and_cancel_refusals(server: MCPTestServer) -> None:
    async with AsyncMCPClient(server.url) as client:
        raw = await client.request("tools/call", {"name": "doomed"})
        task_id = raw["taskId"]
        with pytest.raises(JSONRPCError, match="no input request waits") as info:
            await client.request("tasks/update", {"taskId": task_id,
                                                  "inputResponses": {"x-1": {}}})
        assert info.value.code == -32602
        for _ in range(200):
            got = await client.request("tasks/get", {"taskId": task_id})
            if got["status"] == "failed":
                break
            await asyncio.sleep(0.02)
        assert got["result"]["isError"] is True and "error" not in got
        with pytest.raises(JSONRPCError, match="terminal") as info:
            await client.request("tasks/cancel", {"taskId": task_id})
        assert info.value.code == -32602
        with pytest.raises(JSONRPCError, match="not found"):
            await client.request("tasks/get", {"taskId": "nope"})


async def test_without_the_extension_a_required_tool_is_refused(
    server: MCPTestServer,
) -> None:
    async with AsyncMCPClient(server.url, protocol=V) as client:  # no probe, no discover
        with pytest.raises(MissingClientCapabilityError, match=EXTENSION) as info:
            await client.call_tool("research", {"topic": "x"})
        assert info.value.code == -32021
        await client.discover()  # now the client knows, and declares, the extension
        assert (await client.call_tool("research", {"topic": "x", "rounds": 1})).text == (
            "report on x after 1 stages")


async def test_handshake_clients_keep_the_2025_form() -> None:
    async with demo_server(tasks=True, eras=(V, "2025-11-25"), get_stream=True) as server, \
            AsyncMCPClient(server.url, protocol="legacy", elicitation_handler=choose) as client:
        assert (await client.call_tool("clarify", {"topic": "go"})).text == "go (snake)"
        assert "tasks/result" in methods(server)
        (task,) = server.task_store.tasks.values()
        assert task.form == "2025-11-25"
        raw = await client.request("tasks/get", {"taskId": task.id})
        assert "ttl" in raw and "ttlMs" not in raw


async def test_over_stdio() -> None:
    async with AsyncMCPClient.stdio(
        sys.executable, ["-m", "mcp_async.testing", "--stdio", "--tasks", "--eras", V],
        elicitation_handler=choose,
    ) as client:
        assert (await client.call_tool("research", {"topic": "x", "rounds": 2})).text == (
            "report on x after 2 stages")
        assert client.protocol_version == V
        assert (await client.call_tool("clarify", {"topic": "rust"})).text == "rust (snake)"
        handle = await client.start_task("marathon", {"seconds": 30})
        await handle.cancel()
        assert handle.last.status == "cancelled"
