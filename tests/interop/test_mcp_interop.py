"""MCP over Streamable HTTP against servers nobody here wrote.

* the official ``mcp`` Python SDK server (tests/interop/sdk_server.py, uvicorn) in its four
  modes: JSON and SSE replies, stateful and stateless;
* ``@modelcontextprotocol/server-everything`` from npm (Streamable HTTP, SSE replies).
"""

from __future__ import annotations

import asyncio
import base64

import pytest
from servers import RunningServer

from mcp_async import AsyncMCPClient, EraError, JSONRPCError, ToolError
from mcp_async.protocol.models import (
    BlobResourceContents,
    EmbeddedResource,
    ImageContent,
    ResourceLink,
    TextContent,
    TextResourceContents,
)

# --------------------------------------------------------------------- official SDK server


@pytest.mark.parametrize("protocol", ["legacy", "auto"])
async def test_sdk_handshake_and_tools(sdk_server: RunningServer, protocol: str) -> None:
    async with AsyncMCPClient(sdk_server.url, protocol=protocol) as client:
        info = await client.initialize()
        assert info.server_info.name == "mcp-async-interop-sdk-server"
        assert client.server_capabilities.supports_tools
        if protocol == "legacy":
            assert info.protocol_version == "2025-11-25"
            assert (client.session_id is not None) == sdk_server.stateful
            await client.ping()
        else:  # the SDK server speaks 2026-07-28: auto negotiates it
            assert info.protocol_version == client.protocol_version == "2026-07-28"
            assert client.session_id is None
            with pytest.raises(EraError, match="2026-07-28"):
                await client.ping()

        tools = {tool.name: tool for tool in await client.list_tools()}
        assert {"add", "add_verbose", "echo", "fail", "weather", "tiny_image"} <= set(tools)
        assert tools["add"].output_schema is not None

        added = await client.call_tool("add", {"a": 20, "b": 22}, validate_output=True)
        assert added.structured_content == {"result": 42}
        verbose = await client.call_tool("add_verbose", {"a": 1, "b": 2}, validate_output=True)
        assert isinstance(verbose.structured_content, dict)
        weather = await client.call_tool("weather", {"city": "Oslo"}, validate_output=True)
        assert weather.structured_content is not None
        assert weather.structured_content["city"] == "Oslo"

        failed = await client.call_tool("fail", {"message": "boom"})
        assert failed.is_error and "boom" in failed.text
        with pytest.raises(ToolError):
            await client.call_tool("fail", {"message": "boom"}, raise_on_error=True)

        image = await client.call_tool("tiny_image")
        block = image.content[0]
        assert isinstance(block, ImageContent)
        assert block.mime_type == "image/png"
        assert block.decoded().startswith(b"\x89PNG")

        with pytest.raises(JSONRPCError):
            await client.request("no/such/method")


async def test_sdk_concurrent_calls_share_one_session(sdk_server: RunningServer) -> None:
    async with AsyncMCPClient(sdk_server.url, validate_output=True) as client:
        results = await asyncio.gather(
            *(client.call_tool("add", {"a": i, "b": i}) for i in range(40))
        )
    assert [r.structured_content for r in results] == [{"result": 2 * i} for i in range(40)]


async def test_sdk_resources_templates_prompts_completion(sdk_server: RunningServer) -> None:
    async with AsyncMCPClient(sdk_server.url) as client:
        resources = {r.uri: r for r in await client.list_resources()}
        assert {"config://app", "data://logo.png", "data://bytes.bin"} <= set(resources)

        config = (await client.read_resource("config://app")).contents[0]
        assert isinstance(config, TextResourceContents)
        assert config.mime_type == "application/json"
        blob = (await client.read_resource("data://bytes.bin")).contents[0]
        assert isinstance(blob, BlobResourceContents)
        assert blob.decoded() == bytes(range(256))

        templates = {t.uri_template for t in await client.list_resource_templates()}
        assert "greeting://{name}" in templates
        greeting = (await client.read_resource("greeting://Ada")).contents[0]
        assert isinstance(greeting, TextResourceContents)
        assert greeting.text == "Hello, Ada!"

        prompts = {p.name: p for p in await client.list_prompts()}
        assert {"review", "translate", "hello"} <= set(prompts)
        assert [(a.name, a.required) for a in prompts["translate"].arguments] == [
            ("text", True),
            ("language", False),
        ]
        review = await client.get_prompt("review", {"code": "x = 1"})
        assert [m.role for m in review.messages] == ["user", "assistant"]
        first = review.messages[0].content
        assert isinstance(first, TextContent) and "x = 1" in first.text

        languages = await client.complete(
            {"type": "ref/prompt", "name": "translate"}, ("language", "Fr")
        )
        assert "French" in languages.values
        names = await client.complete(
            {"type": "ref/resource", "uri": "greeting://{name}"}, {"name": "name", "value": ""}
        )
        assert names.values


async def test_sdk_session_expiry_is_recovered(start_server: object) -> None:
    """Restart the server: it forgets the session; the client re-initializes and goes on."""
    server: RunningServer = start_server("sdk-json-stateful")  # type: ignore[operator]
    async with AsyncMCPClient(server.url, protocol="legacy") as client:
        assert (await client.call_tool("echo", {"text": "before"})).text == "before"
        old = client.session_id
        await server.arestart()
        assert (await client.call_tool("echo", {"text": "after"})).text == "after"
        assert client.session_id not in (None, old)


# ------------------------------------------------------------------------ server-everything


async def test_everything_tools(everything_server: RunningServer) -> None:
    async with AsyncMCPClient(everything_server.url) as client:
        info = await client.initialize()
        assert info.server_info.name == "mcp-servers/everything"
        tools = {tool.name for tool in await client.list_tools()}
        assert {"echo", "get-sum", "get-tiny-image", "get-structured-content"} <= tools

        echoed = await client.call_tool("echo", {"message": "hello"})
        assert "hello" in echoed.text
        total = await client.call_tool("get-sum", {"a": 2, "b": 3})
        assert "5" in total.text
        image = await client.call_tool("get-tiny-image")
        assert any(isinstance(block, ImageContent) for block in image.content)
        structured = await client.call_tool(
            "get-structured-content", {"location": "New York"}, validate_output=True
        )
        assert isinstance(structured.structured_content, dict)
        links = await client.call_tool("get-resource-links", {"count": 2})
        assert sum(isinstance(block, ResourceLink) for block in links.content) == 2
        reference = await client.call_tool(
            "get-resource-reference", {"resourceType": "Text", "resourceId": 1}
        )
        assert any(isinstance(block, EmbeddedResource) for block in reference.content)

        results = await asyncio.gather(
            *(client.call_tool("get-sum", {"a": i, "b": 1}) for i in range(20))
        )
        assert [str(i + 1) in r.text for i, r in enumerate(results)] == [True] * 20


async def test_everything_resources(everything_server: RunningServer) -> None:
    async with AsyncMCPClient(everything_server.url) as client:
        resources = await client.list_resources()
        page = await client.list_resources_page()
        walked = list(page.resources)
        cursor = page.next_cursor
        while cursor is not None:
            page = await client.list_resources_page(cursor)
            walked.extend(page.resources)
            cursor = page.next_cursor
        assert [r.uri for r in walked] == [r.uri for r in resources]
        assert resources

        first = (await client.read_resource(resources[0].uri)).contents[0]
        assert isinstance(first, TextResourceContents) and first.text

        templates = {t.uri_template for t in await client.list_resource_templates()}
        assert "demo://resource/dynamic/blob/{resourceId}" in templates
        text = (await client.read_resource("demo://resource/dynamic/text/1")).contents[0]
        assert isinstance(text, TextResourceContents)
        blob = (await client.read_resource("demo://resource/dynamic/blob/1")).contents[0]
        assert isinstance(blob, BlobResourceContents)
        assert base64.b64decode(blob.blob) == blob.decoded()


async def test_everything_prompts_and_completion(everything_server: RunningServer) -> None:
    async with AsyncMCPClient(everything_server.url) as client:
        prompts = {p.name: p for p in await client.list_prompts()}
        assert {"simple-prompt", "args-prompt", "completable-prompt"} <= set(prompts)
        simple = await client.get_prompt("simple-prompt")
        assert simple.messages
        with_args = await client.get_prompt("args-prompt", {"city": "Lisbon"})
        assert any(
            isinstance(m.content, TextContent) and "Lisbon" in m.content.text
            for m in with_args.messages
        )
        completion = await client.complete(
            {"type": "ref/prompt", "name": "completable-prompt"}, ("department", "")
        )
        assert completion.values
        await client.set_logging_level("error")


async def test_everything_session_expiry_is_recovered(start_server: object) -> None:
    server: RunningServer = start_server("everything")  # type: ignore[operator]
    async with AsyncMCPClient(server.url) as client:
        assert "one" in (await client.call_tool("echo", {"message": "one"})).text
        old = client.session_id
        await server.arestart()
        assert "two" in (await client.call_tool("echo", {"message": "two"})).text
        assert client.session_id not in (None, old)
