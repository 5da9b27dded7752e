"""``MCPTestServer(eras=...)``: the test server's MCP 2026-07-28 (stateless) mode.

Raw HTTP (aiohttp) and raw stdio lines check the server itself; the mcp_async client
then negotiates with it (``protocol="auto"``) and runs input rounds (MRTR) against it.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

import mcp_async.testing as testing
from mcp_async import AsyncMCPClient
from mcp_async.protocol.models import InputRequiredResult
from mcp_async.session.handlers import ElicitationRequest, ElicitationResult
from mcp_async.testing import MCPTestServer, ToolContext, demo_server

ROOT = Path(os.path.abspath(testing.__file__)).parents[2]
V = "2026-07-28"
ERAS = (V, "2025-11-25")
ENVELOPE = {
    "io.modelcontextprotocol/protocolVersion": V,
    "io.modelcontextprotocol/clientCapabilities": {"elicitation": {"form": {}}},
    "io.modelcontextprotocol/clientInfo": {"name": "raw", "version": "0"},
}
SERVER_INFO = "io.modelcontextprotocol/serverInfo"


def body(method: str, params: dict[str, Any] | None = None, *, meta: Any = ENVELOPE,
         request_id: int = 1) -> dict[str, Any]:
    params = dict(params or {})
    if meta is not None:
        params["_meta"] = meta
    return {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}


def headers(method: str, *, version: str | None = V, name: str | None = None,
            **extra: str) -> dict[str, str]:
    out = {"Accept": "application/json, text/event-stream",
           "Content-Type": "application/json", "Mcp-Method": method, **extra}
    if version is not None:
        out["MCP-Protocol-Version"] = version
    if name is not None:
        out["Mcp-Name"] = name
    return out


async def post(
    http: aiohttp.ClientSession, url: str, message: dict[str, Any], hdrs: dict[str, str]
) -> tuple[int, dict[str, Any], Any]:
    async with http.post(url, data=json.dumps(message), headers=hdrs) as response:
        text = await response.text()
        return response.status, dict(response.headers), json.loads(text) if text else None


@pytest.fixture
async def server() -> AsyncIterator[MCPTestServer]:
    async with demo_server(two_way=True, tasks=True, eras=ERAS) as srv:
        yield srv


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def accept(request: ElicitationRequest) -> ElicitationResult:
    return ElicitationResult.accept({"confirm": True, "name": "Ada"})


# ---- options --------------------------------------------------------------------------


def test_eras_option_validation() -> None:
    assert MCPTestServer().modern is None  # the default stays handshake-only
    assert MCPTestServer(eras=("2025-11-25",)).modern is None
    both = MCPTestServer(eras=ERAS)
    assert both.modern is not None and both.modern.handshake
    assert both.versions == ("2025-11-25",)
    only = MCPTestServer(eras=(V,))
    assert only.modern is not None and not only.modern.handshake
    with pytest.raises(ValueError, match="eras"):
        MCPTestServer(eras=("2099-01-01",))
    with pytest.raises(ValueError, match="eras"):
        MCPTestServer(eras=V)
    with pytest.raises(ValueError, match="not both"):
        MCPTestServer(eras=ERAS, versions=("2025-06-18",))
    with pytest.raises(ValueError, match="stateless"):
        MCPTestServer(eras=ERAS, transport="sse")


# ---- HTTP, raw ------------------------------------------------------------------------------


async def test_discover(server: MCPTestServer, http: aiohttp.ClientSession) -> None:
    status, hdrs, reply = await post(http, server.url, body("server/discover"),
                                     headers("server/discover"))
    assert status == 200
    assert "Mcp-Session-Id" not in hdrs
    result = reply["result"]
    assert result["resultType"] == "complete"
    assert result["supportedVersions"] == [V, "2025-11-25"]
    assert result["capabilities"]["extensions"] == {"io.modelcontextprotocol/tasks": {}}
    assert "tasks" not in result["capabilities"]
    assert result["instructions"].startswith("A demo MCP server")
    assert result["ttlMs"] == 0 and result["cacheScope"] == "public"
    assert result["_meta"][SERVER_INFO] == {"name": "mcp-async-demo", "version": "1.0.0"}
    assert server.session_ids == frozenset()


async def test_no_tasks_extension_without_task_tools(http: aiohttp.ClientSession) -> None:
    async with demo_server(eras=ERAS) as server:
        _, _, reply = await post(http, server.url, body("server/discover"),
                                 headers("server/discover"))
        assert "extensions" not in reply["result"]["capabilities"]
        status, _, reply = await post(http, server.url, body("tasks/get", {"taskId": "x"}),
                                      headers("tasks/get"))
        assert (status, reply["error"]["code"]) == (404, -32601)


async def test_stateless_calls_and_result_type(
    server: MCPTestServer, http: aiohttp.ClientSession
) -> None:
    for request_id in (1, 2):  # no session: each POST stands alone
        status, hdrs, reply = await post(
            http, server.url,
            body("tools/call", {"name": "echo", "arguments": {"text": "hi"}},
                 request_id=request_id),
            headers("tools/call", name="echo", **{"Mcp-Session-Id": "ignored"}),
        )
        assert status == 200 and "Mcp-Session-Id" not in hdrs
        assert reply["result"]["content"] == [{"type": "text", "text": "hi"}]
        assert reply["result"]["resultType"] == "complete"
        assert SERVER_INFO in reply["result"]["_meta"]
    status, _, reply = await post(http, server.url, body("tools/list"), headers("tools/list"))
    assert status == 200 and reply["result"]["resultType"] == "complete"
    assert server.session_ids == frozenset()


async def test_get_and_delete_are_405(server: MCPTestServer, http: aiohttp.ClientSession) -> None:
    for method in ("GET", "DELETE"):
        async with http.request(method, server.url, headers=headers("x")) as response:
            assert response.status == 405
            assert response.headers["Allow"] == "POST"


async def test_envelope_checks(server: MCPTestServer, http: aiohttp.ClientSession) -> None:
    status, _, reply = await post(http, server.url, body("tools/list", meta=None),
                                  headers("tools/list"))
    assert (status, reply["error"]["code"], reply["id"]) == (400, -32602, 1)
    no_version = {k: v for k, v in ENVELOPE.items() if not k.endswith("protocolVersion")}
    status, _, reply = await post(http, server.url, body("tools/list", meta=no_version),
                                  headers("tools/list"))
    assert (status, reply["error"]["code"]) == (400, -32602)
    assert "protocolVersion" in reply["error"]["message"]
    no_caps = {k: v for k, v in ENVELOPE.items() if not k.endswith("clientCapabilities")}
    status, _, reply = await post(http, server.url, body("tools/list", meta=no_caps),
                                  headers("tools/list"))
    assert (status, reply["error"]["code"]) == (400, -32602)


async def test_header_mismatches(server: MCPTestServer, http: aiohttp.ClientSession) -> None:
    other = {**ENVELOPE, "io.modelcontextprotocol/protocolVersion": "2027-01-01"}
    status, _, reply = await post(http, server.url, body("tools/list", meta=other),
                                  headers("tools/list"))
    assert (status, reply["error"]["code"]) == (400, -32020)
    status, _, reply = await post(http, server.url, body("tools/list"), headers("prompts/list"))
    assert (status, reply["error"]["code"]) == (400, -32020)
    assert "Mcp-Method" in reply["error"]["message"]
    call = body("tools/call", {"name": "echo", "arguments": {"text": "x"}})
    status, _, reply = await post(http, server.url, call, headers("tools/call", name="add"))
    assert (status, reply["error"]["code"]) == (400, -32020)
    status, _, reply = await post(http, server.url, call, headers("tools/call"))
    assert (status, reply["error"]["code"]) == (400, -32020)
    wrapped = "=?base64?" + base64.b64encode(b"echo").decode() + "?="
    status, _, reply = await post(http, server.url, call, headers("tools/call", name=wrapped))
    assert status == 200 and reply["result"]["content"][0]["text"] == "x"


async def test_unsupported_version(server: MCPTestServer, http: aiohttp.ClientSession) -> None:
    later = {**ENVELOPE, "io.modelcontextprotocol/protocolVersion": "2027-01-01"}
    status, _, reply = await post(http, server.url, body("tools/list", meta=later),
                                  headers("tools/list", version="2027-01-01"))
    assert (status, reply["error"]["code"]) == (400, -32022)
    assert reply["error"]["data"] == {"supported": [V, "2025-11-25"], "requested": "2027-01-01"}


async def test_removed_and_unknown_methods(
    server: MCPTestServer, http: aiohttp.ClientSession
) -> None:
    for method, extra in (("ping", {}), ("logging/setLevel", {"level": "info"}),
                          ("resources/subscribe", {"uri": "demo://readme"}),
                          ("tasks/result", {"taskId": "x"}), ("no/such", {})):
        status, _, reply = await post(http, server.url, body(method, extra), headers(method))
        assert (status, reply["error"]["code"]) == (404, -32601), method


async def test_resource_not_found_is_invalid_params(
    server: MCPTestServer, http: aiohttp.ClientSession
) -> None:
    status, _, reply = await post(http, server.url,
                                  body("resources/read", {"uri": "demo://nope"}),
                                  headers("resources/read", name="demo://nope"))
    assert (status, reply["error"]["code"]) == (400, -32602)


async def test_handshake_era_still_served(server: MCPTestServer) -> None:
    async with AsyncMCPClient(server.url, protocol="legacy") as client:
        await client.initialize()
        assert client.protocol_version == "2025-11-25"
        assert (await client.call_tool("echo", {"text": "old"})).text == "old"
    assert len(server.session_ids) <= 1 and server.stats.sessions_created == 1


async def test_modern_only_server_refuses_initialize(http: aiohttp.ClientSession) -> None:
    async with demo_server(eras=(V,)) as server:
        init = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": {"name": "x", "version": "0"}}}
        status, _, reply = await post(http, server.url, init, headers("initialize", version=None))
        assert (status, reply["error"]["code"]) == (400, -32022)
        assert reply["error"]["data"]["supported"] == [V]
        async with AsyncMCPClient(server.url) as client:
            await client.initialize()
            assert client.protocol_version == V


async def test_sse_reply_mode_carries_progress(http: aiohttp.ClientSession) -> None:
    async with demo_server(eras=ERAS, reply="sse") as server:
        meta = {**ENVELOPE, "progressToken": "p1"}
        message = body("tools/call", {"name": "slow", "arguments": {"seconds": 0.04}}, meta=meta)
        async with http.post(server.url, data=json.dumps(message),
                             headers=headers("tools/call", name="slow")) as response:
            assert response.content_type == "text/event-stream"
            text = await response.text()
        events = [json.loads(line[5:]) for line in text.splitlines() if line.startswith("data:")]
        assert [e["method"] for e in events[:-1]] == ["notifications/progress"] * 4
        assert events[-1]["result"]["resultType"] == "complete"


# ---- MRTR ---------------------------------------------------------------------------------


async def test_mrtr_rounds_raw(server: MCPTestServer, http: aiohttp.ClientSession) -> None:
    call = {"name": "confirm", "arguments": {"question": "Go?"}}
    status, _, reply = await post(http, server.url, body("tools/call", call),
                                  headers("tools/call", name="confirm"))
    interim = reply["result"]
    assert status == 200 and interim["resultType"] == "input_required"
    (key,) = interim["inputRequests"]
    assert key == "elicitation-1"
    assert interim["inputRequests"][key]["method"] == "elicitation/create"
    assert interim["inputRequests"][key]["params"]["message"] == "Go?"
    retry = {**call, "inputResponses": {key: {"action": "accept", "content": {"confirm": True}}},
             "requestState": interim["requestState"]}
    status, _, reply = await post(http, server.url, body("tools/call", retry, request_id=2),
                                  headers("tools/call", name="confirm"))
    assert reply["result"]["resultType"] == "complete"
    assert reply["result"]["structuredContent"] == {"action": "accept",
                                                    "answer": {"confirm": True}}
    bad = {**call, "requestState": "not-ours"}
    status, _, reply = await post(http, server.url, body("tools/call", bad, request_id=3),
                                  headers("tools/call", name="confirm"))
    assert (status, reply["error"]["code"]) == (400, -32602)


async def test_mrtr_needs_the_capability(
    server: MCPTestServer, http: aiohttp.ClientSession
) -> None:
    bare = {**ENVELOPE, "io.modelcontextprotocol/clientCapabilities": {}}
    status, _, reply = await post(
        http, server.url,
        body("tools/call", {"name": "confirm", "arguments": {"question": "?"}}, meta=bare),
        headers("tools/call", name="confirm"),
    )
    assert (status, reply["error"]["code"]) == (400, -32021)
    assert reply["error"]["data"] == {"requiredCapabilities": {"elicitation": {}}}


def _two_questions(server: MCPTestServer) -> list[int]:
    runs: list[int] = []

    @server.tool
    async def onboard(ctx: ToolContext) -> str:
        """Asks two questions, one per round."""
        runs.append(1)
        schema = {"type": "object", "properties": {"name": {"type": "string"}}}
        first = await ctx.elicit("Name?", schema)
        second = await ctx.elicit("Really?", {"type": "object", "properties": {
            "confirm": {"type": "boolean"}}})
        return f"{first['content']['name']} {second['content']['confirm']}"

    return runs


async def test_client_drives_mrtr_rounds(server: MCPTestServer) -> None:
    runs = _two_questions(server)
    asked: list[str] = []

    async def answer(request: ElicitationRequest) -> ElicitationResult:
        asked.append(request.message)
        return await accept(request)

    async with AsyncMCPClient(server.url, elicitation_handler=answer) as client:
        result = await client.call_tool("onboard")
        assert result.text == "Ada True"
        assert asked == ["Name?", "Really?"]
        assert len(runs) == 3  # the tool runs again on each retry
        interim = await client.call_tool("confirm", {"question": "Go?"},
                                         allow_input_required=True)
        assert isinstance(interim, InputRequiredResult)
        assert list(interim.input_requests) == ["elicitation-1"]
        done = await client.call_tool(
            "confirm", {"question": "Go?"},
            input_responses={"elicitation-1": {"action": "decline"}},
            request_state=interim.request_state,
        )
        assert done.structured_content == {"action": "decline", "answer": None}
    calls = [p for m, p in server.stats.received if m == "tools/call"]
    assert calls[1]["inputResponses"] == {"elicitation-1": {"action": "accept",
                                                            "content": {"confirm": True,
                                                                        "name": "Ada"}}}


# ---- the client's era negotiation -------------------------------------------------------


async def test_client_auto_mode_speaks_2026(server: MCPTestServer) -> None:
    async with AsyncMCPClient(server.url) as client:
        await client.initialize()
        assert client.protocol_version == V
        assert client.server_info.name == "mcp-async-demo"
        assert (await client.call_tool("add", {"a": 1, "b": 2})).structured_content == {
            "result": 3}
        assert [t.name for t in await client.list_tools()][:2] == ["add", "echo"]
        read = await client.read_resource("demo://greeting/Bo")
        assert read.contents[0].text == "Hello, Bo!"  # type: ignore[union-attr]
    assert "initialize" not in server.stats.by_method
    assert server.stats.last_headers is not None
    assert server.stats.last_headers["MCP-Protocol-Version"] == V


async def test_client_falls_back_when_eras_exclude_2026() -> None:
    async with demo_server(eras=("2025-11-25",)) as server, AsyncMCPClient(server.url) as client:
        await client.initialize()
        assert client.protocol_version == "2025-11-25"
        # the probe was refused at the door (400, an unknown MCP-Protocol-Version)
        assert "server/discover" not in server.stats.by_method
        assert server.stats.by_method["initialize"] == 1
        assert server.stats.requests == 3  # the probe, initialize, initialized


async def test_client_pinned_2026(server: MCPTestServer) -> None:
    async with AsyncMCPClient(server.url, protocol=V) as client:
        assert (await client.call_tool("echo", {"text": "x"})).text == "x"
        discovered = await client.discover()
        assert discovered.supported_versions == (V, "2025-11-25")
    assert "server/discover" in server.stats.by_method


# ---- stdio -------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def spawn(*flags: str) -> AsyncIterator[asyncio.subprocess.Process]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "mcp_async.testing", "--stdio", *flags,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, cwd=ROOT, env=env,
    )
    try:
        yield proc
    finally:
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
        await proc.communicate()


async def roundtrip(proc: asyncio.subprocess.Process, message: dict[str, Any]) -> Any:
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(json.dumps(message).encode() + b"\n")
    await proc.stdin.drain()
    return json.loads(await asyncio.wait_for(proc.stdout.readline(), 10))


async def test_stdio_cli_eras_per_request() -> None:
    async with spawn("--eras", f"{V},2025-11-25", "--tasks") as proc:
        reply = await roundtrip(proc, body("server/discover"))
        assert reply["result"]["supportedVersions"] == [V, "2025-11-25"]
        assert "io.modelcontextprotocol/tasks" in reply["result"]["capabilities"]["extensions"]
        reply = await roundtrip(proc, body("ping", request_id=2))
        assert reply["error"]["code"] == -32601
        reply = await roundtrip(proc, body("tools/list", meta=None, request_id=3))
        assert reply["result"]["tools"]  # no envelope: the handshake era answers
        assert "resultType" not in reply["result"]
        reply = await roundtrip(proc, body("tools/list", request_id=4))
        assert reply["result"]["resultType"] == "complete"
        reply = await roundtrip(proc, body("ping", meta=None, request_id=5))
        assert reply["result"] == {}
        assert proc.stdin is not None
        proc.stdin.close()
        assert await asyncio.wait_for(proc.wait(), 10) == 0


async def test_stdio_cli_default_is_handshake_only() -> None:
    async with spawn() as proc:
        reply = await roundtrip(proc, body("server/discover"))
        assert reply["error"]["code"] == -32601


async def test_stdio_cli_rejects_stateless_sse() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "mcp_async.testing", "--sse", "--eras", V,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=ROOT,
    )
    _, err = await asyncio.wait_for(proc.communicate(), 10)
    assert proc.returncode == 2 and b"no stateless era" in err


async def test_client_over_stdio_auto_mode_and_mrtr() -> None:
    async with AsyncMCPClient.stdio(
        sys.executable, ["-m", "mcp_async.testing", "--stdio", "--two-way", "--eras",
                         f"{V},2025-11-25"],
        cwd=str(ROOT), elicitation_handler=accept,
    ) as client:
        await client.initialize()
        assert client.protocol_version == V
        result = await client.call_tool("confirm", {"question": "Go?"})
        assert result.structured_content == {"action": "accept",
                                             "answer": {"confirm": True, "name": "Ada"}}
