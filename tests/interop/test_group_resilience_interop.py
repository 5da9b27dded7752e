"""A group that survives failed servers nobody here wrote (issue 29).

``@modelcontextprotocol/server-everything`` over stdio is killed and comes back by
itself (restarted in the background); the official SDK server over Streamable HTTP is
stopped (calls then fail at once with ``ServerUnavailableError``) and started again on
the same port, after which the group reconnects it. Tools leave the catalogue and come
back, with ``failed``/``recovered`` events. Every process is reaped.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from servers import RunningServer, StdioCommand

from mcp_async import (
    ConnectError,
    GroupEvent,
    MCPClientGroup,
    ServerRecovery,
    ServerUnavailableError,
    StdioTransport,
)

FAST = ServerRecovery(initial=0.2, maximum=1.0)


def _children() -> set[int]:
    me = os.getpid()
    found: set[int] = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_bytes()
        except OSError:
            continue
        if int(stat.rsplit(b")", 1)[1].split()[1]) == me:
            found.add(int(entry))
    return found


@pytest.fixture
def reaped() -> Iterator[None]:
    before = _children()
    yield
    deadline = time.monotonic() + 10.0
    while _children() - before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _children() - before, "processes left behind (or not reaped)"


async def _next(events: AsyncIterator[GroupEvent], timeout: float = 60.0) -> GroupEvent:
    """The next failed/recovered event (server-everything also says its tools changed)."""
    async def wait() -> GroupEvent:
        async for event in events:
            if event.kind != "tools_changed":
                return event
        raise AssertionError("the events ended")

    return await asyncio.wait_for(wait(), timeout)


async def test_everything_and_the_sdk_server_fail_and_come_back(
    reaped: None,  # first: checked after start_server stopped its server
    everything_stdio_command: StdioCommand,
    start_server: Callable[[str], RunningServer],
) -> None:
    sdk = start_server("sdk-sse-stateful")
    everything: dict[str, Any] = {
        "command": everything_stdio_command.command,
        "args": list(everything_stdio_command.args),
    }
    if everything_stdio_command.env is not None:
        everything["env"] = dict(everything_stdio_command.env)
    if everything_stdio_command.cwd is not None:
        everything["cwd"] = everything_stdio_command.cwd
    config = {"mcpServers": {"everything": everything,
                             "sdk": {"url": sdk.url, "type": "http"}}}
    async with MCPClientGroup.from_config(config, recovery=FAST, timeout=30) as group:
        assert group.active == ["everything", "sdk"]
        events = group.events()
        servers = {tool.server for tool in await group.list_tools()}
        assert servers == {"everything", "sdk"}
        echo = (await group.call_tool("everything__echo", {"message": "hi"})).text
        assert "hi" in echo

        # server-everything dies: noticed at once, restarted in the background.
        transport = group["everything"]._given_transport
        assert isinstance(transport, StdioTransport) and transport.pid is not None
        old_pid = transport.pid
        os.killpg(old_pid, signal.SIGKILL)
        event = await _next(events)
        assert (event.kind, event.server) == ("failed", "everything")
        event = await _next(events)
        assert (event.kind, event.server) == ("recovered", "everything")
        assert transport.pid not in (None, old_pid)
        assert "back" in (await group.call_tool("everything__echo", {"message": "back"})).text
        assert {t.server for t in await group.list_tools()} == {"everything", "sdk"}

        # The SDK server stops: the call that finds it gone fails, the next fail fast.
        sdk.stop()
        with pytest.raises(ConnectError):
            await group.call_tool("sdk__echo", {"text": "x"})
        event = await _next(events)
        assert (event.kind, event.server) == ("failed", "sdk")
        assert {t.server for t in await group.list_tools()} == {"everything"}
        with pytest.raises(ServerUnavailableError, match="'sdk'"):
            await group.call_tool("sdk__echo", {"text": "x"})

        sdk.start()  # the same port: the group finds it again
        event = await _next(events)
        assert (event.kind, event.server) == ("recovered", "sdk")
        assert "sdk" in {t.server for t in await group.list_tools()}
        health = group.health()
        assert health["everything"].reconnects == 1 and health["sdk"].reconnects == 1
        assert health["sdk"].state == "active"
