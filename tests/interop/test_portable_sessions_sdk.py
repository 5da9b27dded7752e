"""Portable sessions against the official SDK server: a session exported here is resumed
in another process without a handshake, and a forgotten one falls back to a new
``initialize`` (issue 29)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Callable
from typing import Any

import pytest
from servers import REPO_ROOT, RunningServer

from mcp_async import AsyncMCPClient, Hook, HTTPRequest

# The methods a resumed client sends, counted by a hook, printed with the echo result.
RESUME_SCRIPT = """
import asyncio, json, sys
from mcp_async import AsyncMCPClient, Hook

class Count(Hook):
    def __init__(self):
        self.methods = {}
    async def on_request(self, request):
        method = request.mcp_method
        self.methods[method] = self.methods.get(method, 0) + 1

async def main():
    count = Count()
    async with AsyncMCPClient.resume(sys.argv[1], sys.stdin.read(), hooks=[count],
                                     timeout=20) as client:
        result = await client.call_tool("echo", {"text": "resumed elsewhere"})
        print(json.dumps({"text": result.content[0].text, "session": client.session_id,
                          "methods": count.methods}))

asyncio.run(main())
"""


class Count(Hook):
    """Counts the MCP methods this client sends over HTTP."""

    def __init__(self) -> None:
        self.methods: dict[str | None, int] = {}

    async def on_request(self, request: HTTPRequest) -> None:
        method = request.mcp_method
        self.methods[method] = self.methods.get(method, 0) + 1


async def _in_another_process(url: str, state: str) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", RESUME_SCRIPT, url, stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(state.encode()), 60)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, err.decode()
    return json.loads(out.decode().strip().splitlines()[-1])


@pytest.mark.timeout(120)  # a new Python process
@pytest.mark.parametrize("protocol", ["auto", "legacy"])
async def test_sdk_session_resumed_in_another_process(
    sdk_server: RunningServer, protocol: str
) -> None:
    async with AsyncMCPClient(sdk_server.url, timeout=20, protocol=protocol) as client:
        await client.call_tool("echo", {"text": "first"})
        state = client.export_session()
        session = client.session_id
    # The SDK server speaks 2026-07-28 (no session); "legacy" forces the handshake era.
    assert state.era == ("stateless" if protocol == "auto" else "handshake")
    if protocol == "legacy" and sdk_server.name.endswith("-stateful"):
        assert session is not None
    seen = await _in_another_process(sdk_server.url, state.to_json())
    assert seen["text"] == "resumed elsewhere"
    assert seen["session"] == session  # None on the stateless SDK modes
    # No handshake and no era probe: straight to the call.
    assert seen["methods"] == {"tools/call": 1}


async def test_sdk_forgotten_session_falls_back_to_initialize(
    start_server: Callable[[str], RunningServer],
) -> None:
    server = start_server("sdk-json-stateful")
    async with AsyncMCPClient(server.url, timeout=20, protocol="legacy") as client:
        await client.initialize()
        state = client.export_session()
    assert state.session_id is not None and state.era == "handshake"
    server.restart()  # same port, every session forgotten: the old id gets 404
    count = Count()
    async with AsyncMCPClient.resume(server.url, state, hooks=[count], timeout=20) as resumed:
        result = await resumed.call_tool("echo", {"text": "after restart"})
        assert result.content[0].text == "after restart"  # type: ignore[union-attr]
        assert resumed.session_id not in (None, state.session_id)
    assert count.methods.get("initialize") == 1
    assert count.methods.get("tools/call") == 2  # the 404, then the same call again
