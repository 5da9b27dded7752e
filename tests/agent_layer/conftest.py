"""Fixtures for the agents tests: MCP servers nobody here wrote, and the vendor SDKs.

The servers come from tests/interop/servers.py (the same code the interop fixtures
use): server-everything and the official Python SDK server, each over stdio and over
Streamable HTTP. Tests that use them are marked ``interop``.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest

from mcp_async import AsyncMCPClient

_INTEROP = Path(__file__).resolve().parent.parent / "interop"
if str(_INTEROP) not in sys.path:
    sys.path.insert(0, str(_INTEROP))

import servers  # noqa: E402

#: The MCP servers of the SDK loop tests: (server, transport).
MCP_SERVERS = [("everything", "stdio"), ("everything", "http"), ("sdk", "stdio"),
               ("sdk", "http")]


@pytest.fixture(scope="session")
def everything_http() -> Iterator[Any]:
    try:
        server = servers.start_everything_server()
    except servers.ServerUnavailable as exc:
        pytest.skip(f"server-everything cannot run here: {exc}")
    try:
        yield server
    finally:
        server.stop()
        server.cleanup_logs()


@pytest.fixture(scope="session")
def sdk_http() -> Iterator[Any]:
    try:
        server = servers.start_sdk_server("json-stateful")
    except servers.ServerUnavailable as exc:
        pytest.skip(f"the SDK server cannot run here: {exc}")
    try:
        yield server
    finally:
        server.stop()
        server.cleanup_logs()


@pytest.fixture(params=MCP_SERVERS, ids=[f"{s}-{t}" for s, t in MCP_SERVERS])
async def mcp_client(request: pytest.FixtureRequest) -> AsyncIterator[AsyncMCPClient]:
    """An open client on one of the four third-party servers (see MCP_SERVERS)."""
    kind, transport = request.param
    async with AsyncExitStack() as stack:
        if transport == "stdio":
            try:
                command = (servers.everything_stdio_command() if kind == "everything"
                           else servers.sdk_stdio_command())
            except servers.ServerUnavailable as exc:
                pytest.skip(f"{kind} cannot run here: {exc}")
            client = AsyncMCPClient.stdio(command.command, command.args, env=command.env,
                                          cwd=command.cwd)
        else:
            running = request.getfixturevalue("everything_http" if kind == "everything"
                                              else "sdk_http")
            client = AsyncMCPClient(running.url)
        yield await stack.enter_async_context(client)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "mcp_client" in getattr(item, "fixturenames", ()) and Path(str(item.path)).resolve(
        ).is_relative_to(Path(__file__).resolve().parent):
            item.add_marker(pytest.mark.interop)
