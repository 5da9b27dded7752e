"""Task paths the other task tests never ran (found by mutation testing, issue 24).

* a poll (``tasks/get``) that fails to reach the server is tried again, a bounded
  number of times in a row;
* a 2026 task reported ``completed`` without a ``result`` is a typed protocol error;
* a ``tasks/cancel`` the server refuses with -32602 (the task already ended) leaves the
  task as it ended; any other refusal is raised.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from mcp_async import (
    AsyncMCPClient,
    ConnectError,
    JSONRPCError,
    MCPClientError,
    TaskHandle,
    UnexpectedResponseError,
)
from mcp_async.features.tasks import _POLL_RETRIES
from mcp_async.testing import Fault, MCPTestServer, demo_server
from mcp_async.testing.tasks import ServerTask, TaskRPCError

V = "2026-07-28"


@pytest.fixture
async def legacy_server() -> AsyncIterator[MCPTestServer]:
    async with demo_server(tasks=True) as srv:
        yield srv


@pytest.fixture
async def modern_server() -> AsyncIterator[MCPTestServer]:
    async with demo_server(tasks=True, eras=(V, "2025-11-25")) as srv:
        yield srv


def count(server: MCPTestServer, method: str) -> int:
    return sum(1 for m, _ in server.stats.received if m == method)


async def server_task(server: MCPTestServer, handle: TaskHandle, status: str) -> ServerTask:
    """The server's side of ``handle`` once it reached ``status``."""
    for _ in range(500):
        task = server.task_store.tasks.get(handle.task_id)
        if task is not None and task.status == status:
            return task
        await asyncio.sleep(0.01)
    raise AssertionError(f"task {handle.task_id} never became {status}")


# -- polls retried after a transient failure ------------------------------------------------


async def test_a_dropped_poll_is_tried_again(legacy_server: MCPTestServer) -> None:
    drop = legacy_server.faults.add(Fault.disconnect(method="tasks/get", times=_POLL_RETRIES))
    async with AsyncMCPClient(legacy_server.url, protocol="legacy") as client:
        result = await client.call_tool("research", {"topic": "tides", "rounds": 2})
    assert result.text == "report on tides after 2 stages"
    # Every dropped poll was followed by another; the last one reached the tool.
    assert drop.fired == _POLL_RETRIES
    assert count(legacy_server, "tasks/get") >= 1
    assert count(legacy_server, "tasks/cancel") == 0


async def test_a_dropped_poll_is_tried_again_in_the_2026_form(
    modern_server: MCPTestServer,
) -> None:
    drop = modern_server.faults.add(Fault.disconnect(method="tasks/get", times=1))
    async with AsyncMCPClient(modern_server.url) as client:
        handle = await client.start_task("research", {"topic": "tides", "rounds": 2})
        result = await handle.wait()
    assert result.text == "report on tides after 2 stages"
    assert drop.fired == 1


async def test_polls_failing_in_a_row_end_the_wait_and_cancel_the_task(
    legacy_server: MCPTestServer,
) -> None:
    drop = legacy_server.faults.add(Fault.disconnect(method="tasks/get"))
    async with AsyncMCPClient(legacy_server.url, protocol="legacy") as client:
        handle = await client.start_task("marathon", {"seconds": 30})
        with pytest.raises(ConnectError):
            await handle.wait()
    assert drop.fired == _POLL_RETRIES + 1  # the first try and the retries, no more
    (task,) = legacy_server.task_store.tasks.values()
    assert task.status == "cancelled"  # not left running on the server


async def test_a_poll_refused_by_the_server_is_not_retried(
    legacy_server: MCPTestServer,
) -> None:
    async def refuse(*_: Any) -> dict[str, Any]:
        raise TaskRPCError(-32603, "the task store is down")

    legacy_server._methods["tasks/get"] = refuse
    async with AsyncMCPClient(legacy_server.url, protocol="legacy") as client:
        handle = await client.start_task("marathon", {"seconds": 30})
        with pytest.raises(JSONRPCError, match="task store is down"):
            await handle.wait()
    assert count(legacy_server, "tasks/get") == 1


# -- a completed 2026 task without its result -------------------------------------------------


async def test_a_completed_2026_task_without_a_result_is_a_protocol_error(
    modern_server: MCPTestServer,
) -> None:
    async with AsyncMCPClient(modern_server.url) as client:
        handle = await client.start_task("research", {"topic": "tides", "rounds": 1})
        assert handle.form == "2026"
        task = await server_task(modern_server, handle, "completed")
        task.result = None  # the server forgets to say what the task produced
        with pytest.raises(UnexpectedResponseError, match="carries no result"):
            await handle.wait()
        assert handle.last.status == "completed"


# -- tasks/cancel refused -------------------------------------------------------------------


@pytest.mark.parametrize("era", ["2025-11-25", V])
async def test_cancel_refused_because_the_task_ended_keeps_its_result(
    legacy_server: MCPTestServer, modern_server: MCPTestServer, era: str
) -> None:
    server = legacy_server if era == "2025-11-25" else modern_server
    protocol = "legacy" if era == "2025-11-25" else "auto"
    async with AsyncMCPClient(server.url, protocol=protocol) as client:
        handle = await client.start_task("research", {"topic": "tides", "rounds": 1})
        await server_task(server, handle, "completed")
        assert handle.last.status == "working"  # the client has not polled since
        await handle.cancel()  # refused by the server with -32602: nothing to cancel
        assert count(server, "tasks/cancel") == 1
        assert handle.last.status == "completed"
        result = await handle.wait()
        assert result.text == "report on tides after 1 stages"
        await handle.cancel()  # known to be over: nothing sent
        assert count(server, "tasks/cancel") == 1


async def test_cancel_refused_for_another_reason_is_raised(
    legacy_server: MCPTestServer,
) -> None:
    async def refuse(*_: Any) -> dict[str, Any]:
        raise TaskRPCError(-32603, "cancellation is broken")

    legacy_server._methods["tasks/cancel"] = refuse
    async with AsyncMCPClient(legacy_server.url, protocol="legacy") as client:
        handle = await client.start_task("marathon", {"seconds": 30})
        with pytest.raises(JSONRPCError, match="cancellation is broken") as info:
            await handle.cancel()
        assert info.value.code == -32603
        assert handle.last.status == "working"  # not pretended cancelled
        assert isinstance(info.value, MCPClientError)
        (task,) = legacy_server.task_store.tasks.values()
        legacy_server.task_store.cancel(task)  # end it for the server's shutdown
