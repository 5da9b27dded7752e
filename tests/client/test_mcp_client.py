"""MCP over Streamable HTTP against the project's own loopback server (mcp_async.testing)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from mcp_async import (
    AsyncMCPClient,
    BodyTooLargeError,
    ClientStateError,
    ConfigError,
    ContentTypeError,
    HTTPStatusError,
    InvalidJSONError,
    JSONRPCError,
    OutputValidationError,
    ToolError,
    UnexpectedResponseError,
    VersionMismatchError,
)
from mcp_async.protocol.models import ImageContent, TextContent
from mcp_async.testing import Fault, MCPTestServer, demo_server


@pytest.fixture(params=["json", "sse"])
async def server(request: pytest.FixtureRequest) -> AsyncIterator[MCPTestServer]:
    async with demo_server(reply=request.param, page_size=2) as srv:

        @srv.tool(
            output_schema={
                "type": "object",
                "properties": {"n": {"type": "integer"}},
                "required": ["n"],
            }
        )
        def liar() -> dict[str, Any]:
            """Claims an integer but returns a string."""
            return {"n": "not a number"}

        @srv.tool
        def picture() -> bytes:
            """Returns a PNG."""
            return b"\x89PNG fake"

        for i in range(5):
            srv.resource(f"notes://{i}", name=f"note-{i}", text=f"note {i}")
        yield srv


async def test_handshake_is_lazy_single_flight_and_exposes_server_facts(
    server: MCPTestServer,
) -> None:
    async with AsyncMCPClient(server.url, client_info={"name": "t", "version": "9"}) as client:
        with pytest.raises(ClientStateError, match="handshake"):
            _ = client.server_info
        results = await asyncio.gather(
            *(client.call_tool("echo", {"text": "x"}) for _ in range(20))
        )
        assert all(r.text == "x" for r in results)
        assert server.stats.by_method["initialize"] == 1
        assert server.stats.by_method["notifications/initialized"] == 1
        assert client.server_info.name == "mcp-async-demo"
        assert client.protocol_version == "2025-11-25"
        assert client.server_capabilities.supports_tools
        assert client.session_id in server.session_ids
        assert (await client.initialize()).protocol_version == "2025-11-25"  # idempotent
    initialize = next(p for m, p in server.stats.received if m == "initialize")
    assert initialize["clientInfo"] == {"name": "t", "version": "9"}


async def test_headers_on_every_post(server: MCPTestServer) -> None:
    async with AsyncMCPClient(server.url) as client:
        await client.ping()
        headers = server.stats.last_headers
        assert headers is not None
        assert "application/json" in headers["Accept"]
        assert "text/event-stream" in headers["Accept"]
        assert headers["Mcp-Session-Id"] == client.session_id
        assert headers["MCP-Protocol-Version"] == "2025-11-25"


async def test_eager_initialize_runs_on_enter(server: MCPTestServer) -> None:
    async with AsyncMCPClient(server.url, initialize="eager") as client:
        assert client.server_info.version == "1.0.0"
        assert server.stats.by_method["initialize"] == 1


async def test_connections_are_reused_for_json_and_sse_replies(server: MCPTestServer) -> None:
    async with AsyncMCPClient(server.url) as client:
        for i in range(30):
            assert (await client.call_tool("echo", {"text": str(i)})).text == str(i)
    assert server.stats.connections == 1


async def test_close_sends_delete(server: MCPTestServer) -> None:
    async with AsyncMCPClient(server.url) as client:
        await client.ping()
        session = client.session_id
    assert server.stats.deletes == 1
    assert session not in server.session_ids


async def test_expired_session_is_recovered_transparently(server: MCPTestServer) -> None:
    async with AsyncMCPClient(server.url) as client:
        await client.ping()
        first = client.session_id
        server.expire_sessions()
        results = await asyncio.gather(
            *(client.call_tool("echo", {"text": "y"}) for _ in range(10))
        )
        assert all(r.text == "y" for r in results)
        assert client.session_id != first
        assert server.stats.by_method["initialize"] == 2


async def test_pagination_walks_every_page(server: MCPTestServer) -> None:
    async with AsyncMCPClient(server.url) as client:
        tools = await client.list_tools()
        assert {"add", "echo", "slow", "weather", "fail", "liar", "picture"} <= {
            t.name for t in tools
        }
        resources = await client.list_resources()
        assert [r.uri for r in resources if r.uri.startswith("notes://")] == [
            f"notes://{i}" for i in range(5)
        ]
        page = await client.list_resources_page()
        assert len(page.resources) == 2 and page.next_cursor is not None
        second = await client.list_resources_page(page.next_cursor)
        assert second.resources[0].uri != page.resources[0].uri
        with pytest.raises(UnexpectedResponseError, match="more pages"):
            await client.list_resources(max_pages=1)
        with pytest.raises(JSONRPCError) as info:
            await client.list_tools_page("not-a-cursor")
        assert info.value.code == -32602


async def test_tools_results_errors_and_validation(server: MCPTestServer) -> None:
    async with AsyncMCPClient(server.url) as client:
        added = await client.call_tool("add", {"a": 2, "b": 3}, validate_output=True)
        assert added.structured_content == {"result": 5}
        failed = await client.call_tool("fail")
        assert failed.is_error and "fails" in failed.text
        with pytest.raises(ToolError) as tool_error:
            await client.call_tool("fail", raise_on_error=True)
        assert tool_error.value.result.is_error
        with pytest.raises(JSONRPCError) as unknown:
            await client.call_tool("no-such-tool")
        assert unknown.value.code == -32602
        with pytest.raises(OutputValidationError, match="outputSchema"):
            await client.call_tool("liar", validate_output=True)
        picture = await client.call_tool("picture")
        assert isinstance(picture.content[0], ImageContent)
        assert picture.content[0].decoded() == b"\x89PNG fake"


async def test_output_validation_fetches_tools_once_for_concurrent_calls(
    server: MCPTestServer,
) -> None:
    async with AsyncMCPClient(server.url, validate_output=True) as client:
        results = await asyncio.gather(
            *(client.call_tool("add", {"a": i, "b": 1}) for i in range(50))
        )
        assert [r.structured_content for r in results] == [{"result": i + 1} for i in range(50)]
    pages = server.stats.by_method["tools/list"]
    assert 1 <= pages <= 4  # one walk of the (paginated) list, not one per call


async def test_resources_prompts_completion_logging(server: MCPTestServer) -> None:
    async with AsyncMCPClient(server.url) as client:
        read = await client.read_resource("notes://3")
        assert read.contents[0].text == "note 3"  # type: ignore[union-attr]
        templates = await client.list_resource_templates()
        assert templates
        with pytest.raises(JSONRPCError) as missing:
            await client.read_resource("notes://nope")
        assert missing.value.code == -32002
        prompts = await client.list_prompts()
        prompt = prompts[0]
        rendered = await client.get_prompt(prompt.name, {"code": "print(1)"})
        assert rendered.messages and isinstance(rendered.messages[0].content, TextContent)
        completion = await client.complete(
            {"type": "ref/prompt", "name": prompt.name}, ("language", "py")
        )
        assert isinstance(completion.values, tuple)
        await client.subscribe_resource("notes://1")
        await client.unsubscribe_resource("notes://1")
        await client.set_logging_level("warning")
        with pytest.raises(ConfigError):
            await client.set_logging_level("loud")
        with pytest.raises(ConfigError):
            await client.get_prompt(prompt.name, {"code": 1})  # type: ignore[dict-item]
        with pytest.raises(ConfigError):
            await client.complete({"type": "ref/tool"}, ("a", "b"))


async def test_escape_hatches(server: MCPTestServer) -> None:
    async with AsyncMCPClient(server.url) as client:
        raw = await client.request("tools/list")
        assert "tools" in raw
        await client.notify("notifications/roots/list_changed")
        with pytest.raises(JSONRPCError) as info:
            await client.request("no/such/method")
        assert info.value.code == -32601


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (lambda: Fault.bad_json(method="tools/call", times=1), InvalidJSONError),
        # The stray response is skipped (issue 24); the reply then lacks its response: a
        # JSON reply is refused, an SSE reply is resumed, which this server refuses (405).
        (
            lambda: Fault.mismatched_id(method="tools/call", times=1),
            (UnexpectedResponseError, HTTPStatusError),
        ),
        (
            lambda: Fault.garbage(
                "<html>502 Bad Gateway</html>",
                content_type="text/html",
                method="tools/call",
                times=1,
            ),
            ContentTypeError,
        ),
        (lambda: Fault.cut_stream(method="tools/call", times=1), UnexpectedResponseError),
    ],
    ids=["invalid-json", "wrong-id", "html-page", "sse-ends-early"],
)
async def test_hostile_replies_raise_typed_errors_and_client_survives(
    server: MCPTestServer, fault: Any, error: type[Exception] | tuple[type[Exception], ...]
) -> None:
    async with AsyncMCPClient(server.url) as client:
        await client.ping()
        server.faults.add(fault())
        with pytest.raises(error):
            await client.call_tool("echo", {"text": "a"})
        assert (await client.call_tool("echo", {"text": "b"})).text == "b"


async def test_oversized_sse_event(server: MCPTestServer) -> None:
    if server.reply != "sse":
        pytest.skip("SSE only")
    async with AsyncMCPClient(server.url, max_event_size=2000) as client:
        await client.ping()
        with pytest.raises(BodyTooLargeError):
            await client.call_tool("echo", {"text": "z" * 5000})
        assert (await client.call_tool("echo", {"text": "ok"})).text == "ok"


async def test_concurrent_calls_never_see_each_others_results(server: MCPTestServer) -> None:
    async with AsyncMCPClient(server.url) as client:
        texts = [f"t{i}" for i in range(300)]
        results = await asyncio.gather(*(client.call_tool("echo", {"text": t}) for t in texts))
        assert [r.text for r in results] == texts


async def test_stateless_server_has_no_session() -> None:
    async with demo_server(stateful=False) as srv, AsyncMCPClient(srv.url) as client:
        await client.ping()
        assert client.session_id is None
    assert srv.stats.deletes == 0


async def _scripted(handler: Any) -> TestServer:
    app = web.Application()
    app.router.add_post("/mcp", handler)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    return server


async def test_unsupported_server_version_fails_clearly() -> None:
    async def handler(request: web.Request) -> web.Response:
        body = await request.json()
        return web.json_response(
            {
                "jsonrpc": "2.0",
                "id": body["id"],
                "result": {
                    "protocolVersion": "2024-10-07",
                    "capabilities": {},
                    "serverInfo": {"name": "old", "version": "0"},
                },
            }
        )

    server = await _scripted(handler)
    try:
        async with AsyncMCPClient(str(server.make_url("/mcp"))) as client:
            with pytest.raises(VersionMismatchError, match="2024-10-07"):
                await client.initialize()
    finally:
        await server.close()


async def test_counter_offered_supported_version_is_accepted() -> None:
    seen: list[dict[str, str]] = []

    async def handler(request: web.Request) -> web.Response:
        body = await request.json()
        seen.append(dict(request.headers))
        if body.get("method") == "initialize":
            return web.json_response(
                {
                    "jsonrpc": "2.0",
                    "id": body["id"],
                    "result": {
                        "protocolVersion": "2025-06-18",
                        "capabilities": {},
                        "serverInfo": {"name": "mid", "version": "1"},
                    },
                }
            )
        if "id" not in body:
            return web.Response(status=202)
        return web.json_response({"jsonrpc": "2.0", "id": body["id"], "result": {}})

    server = await _scripted(handler)
    try:
        # protocol="legacy": the first POST is the initialize, not the era probe.
        async with AsyncMCPClient(str(server.make_url("/mcp")), protocol="legacy") as client:
            await client.ping()
            assert client.protocol_version == "2025-06-18"
            assert client.session_id is None
    finally:
        await server.close()
    assert "MCP-Protocol-Version" not in seen[0]
    assert seen[-1]["MCP-Protocol-Version"] == "2025-06-18"


async def test_duplicate_cursor_is_refused() -> None:
    async def handler(request: web.Request) -> web.Response:
        body = await request.json()
        if "id" not in body:
            return web.Response(status=202)
        result: dict[str, Any] = {"tools": [], "nextCursor": "same"}
        if body["method"] == "initialize":
            result = {
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "serverInfo": {"name": "loop", "version": "1"},
            }
        return web.json_response({"jsonrpc": "2.0", "id": body["id"], "result": result})

    server = await _scripted(handler)
    try:
        async with AsyncMCPClient(str(server.make_url("/mcp"))) as client:
            with pytest.raises(UnexpectedResponseError, match="twice"):
                await client.list_tools()
    finally:
        await server.close()


async def test_bad_arguments_are_config_errors(server: MCPTestServer) -> None:
    async with AsyncMCPClient(server.url) as client:
        with pytest.raises(ConfigError):
            await client.call_tool("")
        with pytest.raises(ConfigError):
            await client.call_tool("echo", ["not", "a", "mapping"])  # type: ignore[arg-type]
        with pytest.raises(ConfigError):
            await client.read_resource("")
        with pytest.raises(ConfigError):
            await client.request("")
    assert server.stats.by_method["tools/call"] == 0
