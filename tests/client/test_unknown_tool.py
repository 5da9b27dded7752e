"""One unknown-tool error: a single client and a group both raise UnknownToolError.

A single client raises it when the server answers ``tools/call`` with ``-32602`` and the
server's tool list agrees that the tool does not exist; a ``-32602`` for a listed tool
(refused arguments) stays a plain JSONRPCError, and an ``isError`` result stays a result.
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from mcp_async import JSONRPCError, MCPClientError, MCPClientGroup, UnknownToolError
from mcp_async.cli.main import main
from mcp_async.protocol.jsonrpc import ErrorResponse, Request, Response
from mcp_async.testing import demo_server
from tests.scripted import ScriptedServer, scripted_session

ECHO = {"name": "echo", "inputSchema": {"type": "object"}}


class Server(ScriptedServer):
    """A handshake-era server with one tool, ``echo``, that refuses every call: an unknown
    tool with -32602 (or with an isError result when ``is_error``), ``echo`` with -32602
    "Invalid arguments". ``tools/list`` fails with -32603 when ``no_list``."""

    def __init__(self, peer: Any, *, is_error: bool = False, no_list: bool = False) -> None:
        super().__init__(peer)
        self.is_error = is_error
        self.no_list = no_list

    async def answer(self, request: Request) -> None:
        params = request.params or {}
        if request.method == "server/discover":
            await self.peer.send(ErrorResponse(request.id, -32601, "Method not found"))
        elif request.method == "initialize":
            await self.peer.send(Response(request.id, {
                "protocolVersion": params["protocolVersion"], "capabilities": {"tools": {}},
                "serverInfo": {"name": "scripted", "version": "1"},
            }))
        elif request.method == "tools/list":
            if self.no_list:
                await self.peer.send(ErrorResponse(request.id, -32603, "listing failed"))
            else:
                await self.peer.send(Response(request.id, {"tools": [ECHO]}))
        elif request.method == "tools/call" and params.get("name") == "echo":
            await self.peer.send(ErrorResponse(request.id, -32602, "Invalid arguments"))
        elif request.method == "tools/call" and self.is_error:
            await self.peer.send(Response(request.id, {
                "content": [{"type": "text", "text": "Unknown tool"}], "isError": True,
            }))
        else:
            name = params.get("name")
            await self.peer.send(
                ErrorResponse(request.id, -32602, f"Unknown tool: {name!r}", {"tool": name})
            )


async def test_server_and_catalogue_agree_unknown_tool() -> None:
    async with scripted_session(Server) as (client, server):
        with pytest.raises(UnknownToolError) as caught:
            await client.call_tool("ech")
    error = caught.value
    assert isinstance(error, JSONRPCError) and isinstance(error, LookupError)
    assert (error.name, error.kind, error.code) == ("ech", "tool", -32602)
    assert error.message == "Unknown tool: 'ech'" and error.data == {"tool": "ech"}
    assert isinstance(error.server_error, JSONRPCError)
    assert str(error.server_error) == "JSON-RPC error -32602: Unknown tool: 'ech'"
    assert "did you mean 'echo'?" in str(error) and "Unknown tool: 'ech'" in str(error)
    assert error.__cause__ is error.server_error
    assert len(server.requests("tools/list")) == 1  # the catalogue, fetched once


async def test_refused_arguments_of_a_listed_tool_stay_a_jsonrpc_error() -> None:
    async with scripted_session(Server) as (client, _):
        await client.list_tools()
        with pytest.raises(JSONRPCError) as caught:
            await client.call_tool("echo", {"x": 1})
        assert type(caught.value) is JSONRPCError
        assert caught.value.message == "Invalid arguments"


async def test_no_catalogue_no_verdict() -> None:
    # The tool list cannot be had: the server's error is raised as it came.
    async with scripted_session(lambda peer: Server(peer, no_list=True)) as (client, _):
        with pytest.raises(JSONRPCError) as caught:
            await client.call_tool("nope")
        assert type(caught.value) is JSONRPCError


async def test_an_is_error_result_stays_a_result() -> None:
    async with scripted_session(lambda peer: Server(peer, is_error=True)) as (client, _):
        result = await client.call_tool("nope")
        assert result.is_error and result.text == "Unknown tool"


async def test_single_client_and_group_raise_the_same_error() -> None:
    async with demo_server() as server, MCPClientGroup({"demo": {"url": server.url}}) as group:
        with pytest.raises(UnknownToolError) as from_group:
            await group.call_tool("demo__nope")
        # The server of a group is a single client too.
        with pytest.raises(UnknownToolError) as from_client:
            await group["demo"].call_tool("nope")
    assert from_group.value.server_error is None and from_group.value.code == -32602
    assert isinstance(from_group.value, JSONRPCError)
    assert from_client.value.server_error is not None
    assert "Unknown tool: 'nope'" in str(from_client.value)


@pytest.fixture
def server_url() -> Iterator[str]:
    loop = asyncio.new_event_loop()
    server = demo_server()
    url = loop.run_until_complete(server.start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield url
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    loop.run_until_complete(server.stop())
    loop.close()


def test_cli_reports_it_with_exit_2(
    server_url: str, tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["call", server_url, "nope"]) == 2
    single = capsys.readouterr().err
    assert single.startswith("error: UnknownToolError: the server has no tool 'nope'")
    config = tmp_path / "mcp.json"
    config.write_text(json.dumps({"mcpServers": {"demo": {"url": server_url}}}))
    assert main(["--config", str(config), "call", "demo__nope"]) == 2
    assert "error: UnknownToolError: no server of the group has the tool" in (
        capsys.readouterr().err
    )


def test_still_caught_as_before() -> None:
    error = UnknownToolError("x")
    for kind in (MCPClientError, JSONRPCError, LookupError):
        assert isinstance(error, kind)
    assert str(error) == "no server of the group has the tool 'x'"
    assert sys.modules["mcp_async._exceptions"].UnknownToolError is UnknownToolError
