"""MCP over stdio and legacy HTTP+SSE against servers nobody here wrote.

The same two servers as test_mcp_interop.py, in their other transports:

* the official ``mcp`` Python SDK server (tests/interop/sdk_server.py) over stdio
  (``MCPServer.run("stdio")``) and legacy HTTP+SSE (``MCPServer.sse_app()``);
* ``@modelcontextprotocol/server-everything`` from npm over stdio and legacy
  HTTP+SSE (``dist/index.js stdio|sse``).

Each feature test runs once per transport (ids ``stdio`` and ``sse``).  On both
transports every message shares one channel (the child's stdout, or the one SSE
stream), so unlike Streamable HTTP there is no JSON-reply or stateless mode that
cannot carry a server request: sampling, elicitation, roots, progress and logs
always arrive.  Only what a server offers is tested: the SDK server has no
``logging/setLevel`` (the call is refused with -32601, its tools log anyway), and
server-everything lists its sampling, elicitation and roots tools only to a client
that declares those capabilities.

The last section checks transport detection from a bare URL (``transport="auto"``)
and the life cycle of a spawned stdio server.
"""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sdk_server import INVENTORY, LANGUAGES, NAMES
from servers import RunningServer, StdioCommand

from mcp_async import (
    AsyncMCPClient,
    JSONRPCError,
    MCPClientError,
    ReadTimeout,
    ServerExitedError,
    ToolError,
    TransportDetectionError,
)
from mcp_async.protocol.models import (
    BlobResourceContents,
    EmbeddedResource,
    ImageContent,
    LoggingMessage,
    ProgressNotification,
    ResourceLink,
    Root,
    TextContent,
    TextResourceContents,
)
from mcp_async.session.elicitation import schema_defaults
from mcp_async.session.handlers import (
    ElicitationRequest,
    ElicitationResult,
    SamplingRequest,
    SamplingResult,
    ToolUseContent,
)

SDK_NAME = "mcp-async-interop-sdk-server"
EVERYTHING_NAME = "mcp-servers/everything"
LATEST = "2025-11-25"
HANDSHAKE_VERSIONS = ("2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05")


# ---------------------------------------------------------------------------- targets
@dataclass(frozen=True)
class Target:
    """One server in one transport, and how to open a client for it."""

    server: str  # "sdk" | "everything"
    transport: str  # "stdio" | "sse"
    open: Callable[..., AsyncMCPClient]  # (**client_options) -> unopened client


def stdio_client(command: StdioCommand, **options: Any) -> AsyncMCPClient:
    # The handshake era's features (server requests mid-call, ping, subscriptions): the
    # SDK server speaks 2026-07-28 too, which test_modern_era_sdk.py covers.
    options.setdefault("protocol", "legacy")
    return AsyncMCPClient.stdio(
        command.command, command.args, env=command.env, cwd=command.cwd, **options
    )


def _target(request: pytest.FixtureRequest, server: str) -> Target:
    transport = request.param
    if transport == "stdio":
        command: StdioCommand = request.getfixturevalue(f"{server}_stdio_command")
        return Target(server, "stdio", lambda **options: stdio_client(command, **options))
    running: RunningServer = request.getfixturevalue(f"{server}_sse_server")
    return Target(
        server, "sse", lambda **options: AsyncMCPClient(running.url, transport="sse", **options)
    )


@pytest.fixture(params=["stdio", "sse"])
def sdk(request: pytest.FixtureRequest) -> Target:
    """The official SDK server over stdio (a process per client) or legacy SSE (shared)."""
    return _target(request, "sdk")


@pytest.fixture(params=["stdio", "sse"])
def everything(request: pytest.FixtureRequest) -> Target:
    """server-everything over stdio (a process per client) or legacy SSE (shared)."""
    return _target(request, "everything")


async def _until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    for _ in range(int(timeout / 0.02)):
        if predicate():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not met in time")


def _check_handshake(client: AsyncMCPClient, target: Target, name: str) -> None:
    assert client.transport_kind == target.transport
    assert client.server_info.name == name
    if target.transport == "stdio":
        assert client.protocol_version == LATEST
    else:  # legacy SSE predates the version header; any handshake version is fine
        assert client.protocol_version in HANDSHAKE_VERSIONS


# ------------------------------------------------------------------ official SDK server


async def test_sdk_handshake_and_tools(sdk: Target) -> None:
    async with sdk.open() as client:
        info = await client.initialize()
        _check_handshake(client, sdk, SDK_NAME)
        assert info.protocol_version == client.protocol_version
        assert info.instructions == client.instructions
        assert client.server_capabilities.supports_tools
        await client.ping()

        tools = {tool.name: tool for tool in await client.list_tools()}
        assert list(tools) == INVENTORY["tools"]
        assert tools["add"].output_schema is not None

        added = await client.call_tool("add", {"a": 20, "b": 22}, validate_output=True)
        assert added.structured_content == {"result": 42}
        verbose = await client.call_tool("add_verbose", {"a": 1, "b": 2}, validate_output=True)
        assert verbose.structured_content == {"a": 1, "b": 2, "sum": 3}
        weather = await client.call_tool("weather", {"city": "Paris"}, validate_output=True)
        assert weather.structured_content == {
            "city": "Paris",
            "temperature_c": 20.0,
            "conditions": "Partly cloudy",
            "humidity": 60,
        }

        # Newlines and non-ASCII inside a message must not break the framing
        # (one JSON text per line on stdio, one `data:` field per event on SSE).
        tricky = 'line one\nline two\r\n\t"quoted" \\ ✓ 🚀 \u2028end'
        assert (await client.call_tool("echo", {"text": tricky})).text == tricky
        # Bigger than a pipe buffer (64 KiB): the read side must reassemble it.
        big = "x" * 100_000
        assert (await client.call_tool("echo", {"text": big})).text == big

        failed = await client.call_tool("fail", {"message": "boom"})
        assert failed.is_error and "boom" in failed.text
        with pytest.raises(ToolError):
            await client.call_tool("fail", {"message": "boom"}, raise_on_error=True)
        crashed = await client.call_tool("crash")
        assert crashed.is_error

        image = await client.call_tool("tiny_image")
        block = image.content[0]
        assert isinstance(block, ImageContent)
        assert block.mime_type == "image/png"
        assert block.decoded().startswith(b"\x89PNG")
        described = await client.call_tool("describe_image")
        assert [type(b) for b in described.content] == [TextContent, ImageContent]

        with pytest.raises(JSONRPCError) as unknown:
            await client.request("no/such/method")
        assert unknown.value.code == -32601

        results = await asyncio.gather(
            *(client.call_tool("add", {"a": i, "b": i}) for i in range(40))
        )
        assert [r.structured_content for r in results] == [{"result": 2 * i} for i in range(40)]


async def test_sdk_resources_templates_prompts_completion(sdk: Target) -> None:
    async with sdk.open() as client:
        resources = {r.uri: r for r in await client.list_resources()}
        assert list(resources) == INVENTORY["resources"]
        assert resources["config://app"].mime_type == "application/json"

        config = (await client.read_resource("config://app")).contents[0]
        assert isinstance(config, TextResourceContents)
        assert json.loads(config.text)["name"] == "interop"
        blob = (await client.read_resource("data://bytes.bin")).contents[0]
        assert isinstance(blob, BlobResourceContents)
        assert blob.decoded() == bytes(range(256))
        note = (await client.read_resource("notes://note/7")).contents[0]
        assert isinstance(note, TextResourceContents) and note.text == "This is note 7."

        templates = [t.uri_template for t in await client.list_resource_templates()]
        assert templates == INVENTORY["resource_templates"]
        greeting = (await client.read_resource("greeting://Ada")).contents[0]
        assert isinstance(greeting, TextResourceContents)
        assert greeting.text == "Hello, Ada!"
        weather = (await client.read_resource("weather://Tokyo/current")).contents[0]
        assert isinstance(weather, TextResourceContents)
        assert json.loads(weather.text)["conditions"] == "Humid"
        with pytest.raises(JSONRPCError):
            await client.read_resource("nothing://here")

        prompts = {p.name: p for p in await client.list_prompts()}
        assert list(prompts) == INVENTORY["prompts"]
        assert [(a.name, a.required) for a in prompts["translate"].arguments] == [
            ("text", True),
            ("language", False),
        ]
        review = await client.get_prompt("review", {"code": "x = 1"})
        assert [m.role for m in review.messages] == ["user", "assistant"]
        first = review.messages[0].content
        assert isinstance(first, TextContent) and "x = 1" in first.text
        translated = await client.get_prompt("translate", {"text": "cat"})
        only = translated.messages[0].content
        assert isinstance(only, TextContent) and only.text == "Translate into French: cat"
        assert (await client.get_prompt("hello")).messages

        languages = await client.complete(
            {"type": "ref/prompt", "name": "translate"}, ("language", "g")
        )
        assert list(languages.values) == ["German", "Greek"]
        everything_else = await client.complete(
            {"type": "ref/prompt", "name": "translate"}, ("language", "")
        )
        assert list(everything_else.values) == LANGUAGES
        names = await client.complete(
            {"type": "ref/resource", "uri": "greeting://{name}"}, {"name": "name", "value": "al"}
        )
        assert list(names.values) == [n for n in NAMES if n.startswith("al")]


async def test_sdk_sampling_plain_and_with_tools(sdk: Target) -> None:
    got: list[SamplingRequest] = []

    async def sample(request: SamplingRequest) -> SamplingResult:
        got.append(request)
        if request.tools:
            word = request.messages[0].text
            return SamplingResult(
                ToolUseContent(id="call-1", name="lookup", input={"word": word}),
                model="fake-llm",
                stop_reason="toolUse",
            )
        return SamplingResult("it is short", model="fake-llm")

    async with sdk.open(sampling_handler=sample, sampling_tools=True) as client:
        assert (await client.call_tool("summarize", {"text": "x"})).text == "summary: it is short"
        result = json.loads((await client.call_tool("sample_with_tools", {"text": "mcp"})).text)
        # Several sampling requests at once, each answered on the same channel.
        many = await asyncio.gather(
            *(client.call_tool("summarize", {"text": str(i)}) for i in range(8))
        )
    assert [r.text for r in many] == ["summary: it is short"] * 8
    assert result["content"] == {
        "type": "tool_use",
        "id": "call-1",
        "name": "lookup",
        "input": {"word": "mcp"},
    }
    assert result["stopReason"] == "toolUse"
    assert got[0].max_tokens == 50 and got[0].messages[0].text == "Summarize: x"
    assert [t.name for t in got[1].tools] == ["lookup"] and got[1].tool_choice == "auto"
    assert sorted(r.messages[0].text for r in got[2:]) == [f"Summarize: {i}" for i in range(8)]


async def test_sdk_sampling_refused_and_rejected(sdk: Target) -> None:
    async def reject(request: SamplingRequest) -> SamplingResult:
        raise JSONRPCError(-1, "the user said no")

    async with sdk.open(sampling_handler=reject) as client:
        # No sampling.tools capability declared: the server refuses to ask.
        with pytest.raises(JSONRPCError):
            await client.call_tool("sample_with_tools", {"text": "mcp"})
        with pytest.raises(JSONRPCError) as failed:
            await client.call_tool("summarize", {"text": "x"})
        assert "the user said no" in failed.value.message
        assert (await client.call_tool("echo", {"text": "up"})).text == "up"


async def test_sdk_elicitation_form_and_url(sdk: Target) -> None:
    seen: list[ElicitationRequest] = []
    answers = [
        ElicitationResult.accept({"name": "Ada"}),
        ElicitationResult.accept({"name": "Ada", "count": 5}),
        ElicitationResult.decline(),
        ElicitationResult.accept(),  # the URL-mode consent
    ]
    completed: list[str] = []

    async def answer(request: ElicitationRequest) -> ElicitationResult:
        seen.append(request)
        return answers[len(seen) - 1]

    async with sdk.open(
        elicitation_handler=answer, elicitation_complete_handler=completed.append
    ) as client:
        assert (await client.call_tool("ask_name")).text == "Hello, Ada!"
        preferences = json.loads((await client.call_tool("ask_preferences")).text)
        assert (await client.call_tool("ask_name")).text == "elicitation decline"
        args = {"url": "https://login.example.com/start", "elicitation_id": "el-42"}
        assert (await client.call_tool("open_url", args)).text == "accept"
        await _until(lambda: completed == ["el-42"])
    assert preferences == {"name": "Ada", "color": "blue", "count": 5, "subscribe": True}
    assert seen[0].message == "What is your name?" and seen[0].required == ("name",)
    assert schema_defaults(seen[1].requested_schema) == {
        "color": "blue",
        "count": 3,
        "subscribe": True,
    }
    url_request = seen[3]
    assert (url_request.mode, url_request.url, url_request.elicitation_id) == (
        "url",
        "https://login.example.com/start",
        "el-42",
    )


async def test_sdk_roots(sdk: Target) -> None:
    roots = [Root("file:///work/a", name="a")]

    async with sdk.open(roots=lambda: roots) as client:
        assert (await client.call_tool("roots")).structured_content == {
            "result": ["file:///work/a"]
        }
        # A roots/list not tied to a call: on stdio and SSE it shares the one channel.
        unrelated = await client.call_tool("roots_via_get_stream", {"timeout": 5})
        assert unrelated.structured_content == {"result": ["file:///work/a"]}
        roots = [Root("file:///work/b"), Root("file:///work/c", name="c")]
        await client.notify_roots_changed()
        assert (await client.call_tool("roots")).structured_content == {
            "result": ["file:///work/b", "file:///work/c"]
        }


async def test_sdk_progress_and_logging(sdk: Target) -> None:
    progress: list[ProgressNotification] = []
    logs: list[LoggingMessage] = []
    async with sdk.open(logging_handler=logs.append) as client:
        await client.initialize()
        result = await client.call_tool(
            "progress",
            {"steps": 4, "delay": 0.1},
            progress=progress.append,
            timeout=0.3,
            reset_timeout_on_progress=True,
        )
        assert result.text == "done 4"
        assert [(p.progress, p.total, p.message) for p in progress] == [
            (1, 4, "step 1/4"),
            (2, 4, "step 2/4"),
            (3, 4, "step 3/4"),
            (4, 4, "step 4/4"),
        ]
        assert [m.data for m in logs] == [f"progress step {i}" for i in range(1, 5)]
        assert {m.level for m in logs} == {"info"}

        logs.clear()
        await client.call_tool("log", {"levels": ["debug", "warning", "error"]})
        assert [(m.level, m.logger, m.data) for m in logs] == [
            ("debug", "interop", "a debug message"),
            ("warning", "interop", "a warning message"),
            ("error", "interop", "a error message"),
        ]
        # The SDK's MCPServer declares no `logging` capability and has no setLevel.
        assert client.server_capabilities.logging is None
        with pytest.raises(JSONRPCError) as refused:
            await client.set_logging_level("debug")
        assert refused.value.code == -32601

        with pytest.raises(ReadTimeout, match="max_total_timeout"):
            await client.call_tool(
                "progress",
                {"steps": 20, "delay": 0.1},
                timeout=0.3,
                reset_timeout_on_progress=True,
                max_total_timeout=0.6,
            )


async def test_sdk_timeout_and_cancellation_leave_the_client_usable(sdk: Target) -> None:
    async with sdk.open() as client:
        await client.initialize()
        with pytest.raises(ReadTimeout):
            await client.call_tool("slow", {"seconds": 5}, timeout=0.3)
        task = asyncio.ensure_future(client.call_tool("slow", {"seconds": 5}))
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        results = await asyncio.gather(
            *(client.call_tool("echo", {"text": str(i)}) for i in range(5))
        )
        assert [r.text for r in results] == ["0", "1", "2", "3", "4"]
        await client.ping()


async def test_sdk_list_changed_and_resource_updates(sdk: Target) -> None:
    seen: list[str] = []
    async with sdk.open(
        tools_list_changed_handler=lambda: seen.append("tools"),
        resources_list_changed_handler=lambda: seen.append("resources"),
        prompts_list_changed_handler=lambda: seen.append("prompts"),
        resource_updated_handler=lambda uri: seen.append(uri),
    ) as client:
        await client.list_tools()
        assert client.server_capabilities.supports_resource_subscribe
        await client.subscribe_resource("docs://readme")
        assert (await client.call_tool("announce")).text == "announced"
        updated = await client.call_tool("touch", {"uri": "docs://readme"})
        assert updated.structured_content == {"result": True}
        await _until(lambda: len(seen) == 4)
        assert seen == ["tools", "resources", "prompts", "docs://readme"]
        await client.unsubscribe_resource("docs://readme")
        untouched = await client.call_tool("touch", {"uri": "docs://readme"})
        assert untouched.structured_content == {"result": False}


# --------------------------------------------------------------------- server-everything


def _raw_result(text: str) -> Any:
    """The JSON the everything server appends to its answers after 'Raw result:'."""
    return json.loads(text.split("Raw result:", 1)[1])


async def test_everything_tools(everything: Target) -> None:
    async with everything.open() as client:
        await client.initialize()
        _check_handshake(client, everything, EVERYTHING_NAME)
        assert client.server_capabilities.supports_tools
        await client.ping()
        tools = {tool.name: tool for tool in await client.list_tools()}
        assert {
            "echo",
            "get-sum",
            "get-env",
            "get-tiny-image",
            "get-structured-content",
            "get-resource-links",
            "get-resource-reference",
            "trigger-long-running-operation",
        } <= set(tools)
        # No sampling/elicitation/roots declared: the server hides the tools needing them.
        assert not {"trigger-sampling-request", "get-roots-list"} & set(tools)

        echoed = await client.call_tool("echo", {"message": "hello\nworld ✓"})
        assert echoed.text == "Echo: hello\nworld ✓"
        total = await client.call_tool("get-sum", {"a": 2, "b": 3})
        assert total.text == "The sum of 2 and 3 is 5."
        image = await client.call_tool("get-tiny-image")
        assert any(isinstance(block, ImageContent) for block in image.content)
        structured = await client.call_tool(
            "get-structured-content", {"location": "Chicago"}, validate_output=True
        )
        assert structured.structured_content == {
            "temperature": 36,
            "conditions": "Light rain / drizzle",
            "humidity": 82,
        }
        links = await client.call_tool("get-resource-links", {"count": 2})
        assert sum(isinstance(block, ResourceLink) for block in links.content) == 2
        reference = await client.call_tool(
            "get-resource-reference", {"resourceType": "Text", "resourceId": 1}
        )
        assert any(isinstance(block, EmbeddedResource) for block in reference.content)
        # The server runs with the environment the fixture gave it.
        env = json.loads((await client.call_tool("get-env")).text)
        assert env["NODE_ENV"] == "test"

        invalid = await client.call_tool("get-sum", {"a": "two"})
        assert invalid.is_error
        results = await asyncio.gather(
            *(client.call_tool("get-sum", {"a": i, "b": 1}) for i in range(20))
        )
        assert [r.text for r in results] == [f"The sum of {i} and 1 is {i + 1}." for i in range(20)]


async def test_everything_resources(everything: Target) -> None:
    async with everything.open() as client:
        resources = await client.list_resources()
        page = await client.list_resources_page()
        walked = list(page.resources)
        cursor = page.next_cursor
        while cursor is not None:
            page = await client.list_resources_page(cursor)
            walked.extend(page.resources)
            cursor = page.next_cursor
        assert [r.uri for r in walked] == [r.uri for r in resources]
        assert len(resources) == 7
        assert all(r.uri.startswith("demo://resource/static/document/") for r in resources)

        first = (await client.read_resource(resources[0].uri)).contents[0]
        assert isinstance(first, TextResourceContents) and first.text

        templates = {t.uri_template for t in await client.list_resource_templates()}
        assert templates == {
            "demo://resource/dynamic/text/{resourceId}",
            "demo://resource/dynamic/blob/{resourceId}",
        }
        text = (await client.read_resource("demo://resource/dynamic/text/1")).contents[0]
        assert isinstance(text, TextResourceContents)
        assert text.text.startswith("Resource 1: This is a plaintext resource")
        blob = (await client.read_resource("demo://resource/dynamic/blob/2")).contents[0]
        assert isinstance(blob, BlobResourceContents)
        assert base64.b64decode(blob.blob) == blob.decoded()
        assert blob.decoded().startswith(b"Resource 2: This is a base64 blob")


async def test_everything_prompts_and_completion(everything: Target) -> None:
    async with everything.open() as client:
        prompts = {p.name: p for p in await client.list_prompts()}
        assert set(prompts) == {
            "simple-prompt",
            "args-prompt",
            "completable-prompt",
            "resource-prompt",
        }
        assert (await client.get_prompt("simple-prompt")).messages
        with_args = await client.get_prompt("args-prompt", {"city": "Lisbon"})
        assert any(
            isinstance(m.content, TextContent) and "Lisbon" in m.content.text
            for m in with_args.messages
        )
        embedded = await client.get_prompt(
            "resource-prompt", {"resourceType": "Text", "resourceId": "3"}
        )
        assert isinstance(embedded.messages[1].content, EmbeddedResource)

        departments = await client.complete(
            {"type": "ref/prompt", "name": "completable-prompt"}, ("department", "S")
        )
        assert list(departments.values) == ["Sales", "Support"]
        names = await client.complete(
            {"type": "ref/prompt", "name": "completable-prompt"},
            ("name", ""),
            context={"department": "Sales"},
        )
        assert list(names.values) == ["David", "Eve", "Frank"]
        ids = await client.complete(
            {"type": "ref/resource", "uri": "demo://resource/dynamic/text/{resourceId}"},
            ("resourceId", "3"),
        )
        assert list(ids.values) == ["3"]


async def test_everything_sampling(everything: Target) -> None:
    got: list[SamplingRequest] = []

    async def sample(request: SamplingRequest) -> SamplingResult:
        got.append(request)
        return SamplingResult(
            f"reply to {request.messages[0].text}", model="fake-llm", stop_reason="endTurn"
        )

    async with everything.open(sampling_handler=sample) as client:
        tools = {tool.name for tool in await client.list_tools()}
        assert "trigger-sampling-request" in tools
        result = await client.call_tool(
            "trigger-sampling-request", {"prompt": "ping?", "maxTokens": 20}
        )
    (request,) = got
    assert request.messages[0].text == "Resource trigger-sampling-request context: ping?"
    assert request.system_prompt == "You are a helpful test server."
    assert request.max_tokens == 20 and request.temperature == 0.7
    sampled = json.loads(result.text.split("\n", 1)[1])
    assert sampled == {
        "role": "assistant",
        "model": "fake-llm",
        "stopReason": "endTurn",
        "content": {"type": "text", "text": f"reply to {request.messages[0].text}"},
    }


async def test_everything_elicitation_form_and_url(everything: Target) -> None:
    asked: list[ElicitationRequest] = []

    async def answer(request: ElicitationRequest) -> ElicitationResult:
        asked.append(request)
        if request.mode == "url":
            return ElicitationResult.accept()
        assert request.mode == "form" and request.required == ("name",)
        return ElicitationResult.accept({"name": "Ada", "check": True, "integer": 7})

    async with everything.open(elicitation_handler=answer) as client:
        form = await client.call_tool("trigger-elicitation-request")
        assert "- Name: Ada" in form.text and "- Favorite Integer: 7" in form.text
        assert _raw_result(form.text) == {
            "action": "accept",
            "content": {
                "name": "Ada",
                "check": True,
                "integer": 7,
                # Filled in by the client from the schema's defaults (SEP-1034):
                "firstLine": "It was a dark and stormy night.",
                "number": 3.14,
                "untitledSingleSelectEnum": "Monica",
                "untitledMultipleSelectEnum": ["Guitar"],
                "titledSingleSelectEnum": "hero-1",
                "titledMultipleSelectEnum": ["fish-1"],
                "legacyTitledEnum": "pet-1",
            },
        }

        url = await client.call_tool(
            "trigger-url-elicitation", {"url": "https://example.com/authorize"}
        )
        assert "User completed the URL elicitation flow" in url.text
        assert asked[1].url == "https://example.com/authorize" and asked[1].elicitation_id

        # The error path: -32042 names the URL elicitations the call needs first.
        with pytest.raises(JSONRPCError) as needed:
            await client.call_tool(
                "trigger-url-elicitation", {"url": "https://example.com/a", "errorPath": True}
            )
        assert needed.value.code == -32042
        (pending,) = needed.value.data["elicitations"]
        assert pending["mode"] == "url" and pending["elicitationId"]


async def test_everything_roots(everything: Target) -> None:
    roots = [Root("file:///srv/one", name="one")]
    logs: list[LoggingMessage] = []

    def saw(count: int) -> bool:
        return any(f"Roots updated: {count} root(s)" in str(m.data) for m in logs)

    async with everything.open(roots=lambda: roots, logging_handler=logs.append) as client:
        await client.initialize()
        # The server asks for roots on its own, ~350 ms after the handshake.
        await _until(lambda: saw(1))
        listed = await client.call_tool("get-roots-list")
        assert "file:///srv/one" in listed.text
        roots = [Root("file:///srv/one"), Root("file:///srv/two", name="two")]
        await client.notify_roots_changed()
        await _until(lambda: saw(2))
        assert "file:///srv/two" in (await client.call_tool("get-roots-list")).text


async def test_everything_long_running_operation_with_progress(everything: Target) -> None:
    seen: list[ProgressNotification] = []
    async with everything.open() as client:
        await client.initialize()
        result = await client.call_tool(
            "trigger-long-running-operation",
            {"duration": 0.6, "steps": 6},
            progress=seen.append,
            timeout=0.35,
            reset_timeout_on_progress=True,
        )
        assert "Steps: 6" in result.text
        assert [(p.progress, p.total) for p in seen] == [(i, 6) for i in range(1, 7)]
        with pytest.raises(ReadTimeout):
            await client.call_tool(
                "trigger-long-running-operation",
                {"duration": 0.6, "steps": 6},
                timeout=0.35,
                max_total_timeout=10,
            )
        assert "5" in (await client.call_tool("get-sum", {"a": 2, "b": 3})).text


async def test_everything_logging(everything: Target) -> None:
    logs: list[LoggingMessage] = []
    async with everything.open(logging_handler=logs.append) as client:
        await client.initialize()
        assert client.server_capabilities.logging == {}
        await client.set_logging_level("debug")
        started = await client.call_tool("toggle-simulated-logging")
        assert "Started simulated" in started.text
        # One message right away (then one every 5 s).
        await _until(lambda: any("evel" in str(m.data) for m in logs))
        stopped = await client.call_tool("toggle-simulated-logging")
        assert "Stopped simulated" in stopped.text
    message = next(m for m in logs if "evel" in str(m.data))
    assert message.level in (
        "debug",
        "info",
        "notice",
        "warning",
        "error",
        "critical",
        "alert",
        "emergency",
    )


async def test_everything_resource_subscription_updates(everything: Target) -> None:
    updates: list[str] = []
    logs: list[LoggingMessage] = []
    async with everything.open(
        resource_updated_handler=updates.append, logging_handler=logs.append
    ) as client:
        uri = (await client.list_resources())[0].uri
        await client.subscribe_resource(uri)
        await _until(
            lambda: any("Received Subscribe Resource request" in str(m.data) for m in logs)
        )
        started = await client.call_tool("toggle-subscriber-updates")
        assert "Started simulated resource updated" in started.text
        await _until(lambda: uri in updates)
        await client.call_tool("toggle-subscriber-updates")
        await client.unsubscribe_resource(uri)
    assert set(updates) == {uri}


# ------------------------------------------------------------------- transport detection


async def test_auto_detects_streamable_http_on_the_sdk_server(sdk_server: RunningServer) -> None:
    async with AsyncMCPClient(sdk_server.url, initialize="eager") as client:
        assert client.transport_kind == "streamable-http"
        assert (await client.call_tool("echo", {"text": "hi"})).text == "hi"
    async with AsyncMCPClient(sdk_server.url) as client:
        await client.initialize()
        assert client.transport_kind == "streamable-http"


async def test_auto_detects_legacy_sse_on_the_sdk_server(sdk_sse_server: RunningServer) -> None:
    async with AsyncMCPClient(sdk_sse_server.url, initialize="eager") as client:
        assert client.transport_kind == "sse"
        assert client.server_info.name == SDK_NAME
        assert (await client.call_tool("echo", {"text": "hi"})).text == "hi"
    async with AsyncMCPClient(sdk_sse_server.url) as client:
        assert [t.name for t in await client.list_tools()] == INVENTORY["tools"]
        assert client.transport_kind == "sse"


async def test_auto_detects_both_transports_of_server_everything(
    everything_server: RunningServer, everything_sse_server: RunningServer
) -> None:
    for server, kind in ((everything_server, "streamable-http"), (everything_sse_server, "sse")):
        async with AsyncMCPClient(server.url, initialize="eager") as client:
            assert client.transport_kind == kind, server
            assert client.server_info.name == EVERYTHING_NAME
            assert "3" in (await client.call_tool("get-sum", {"a": 1, "b": 2})).text


@pytest.mark.parametrize("server_name", ["sdk_sse_server", "everything_sse_server"])
async def test_streamable_http_forced_on_a_legacy_sse_url_fails(
    request: pytest.FixtureRequest, server_name: str
) -> None:
    """POST to /sse is refused (SDK: 405, server-everything: 404); no silent fallback."""
    server: RunningServer = request.getfixturevalue(server_name)
    async with AsyncMCPClient(server.url, transport="streamable-http", timeout=10) as client:
        with pytest.raises(MCPClientError):
            await client.initialize()
        assert client.transport_kind == "streamable-http"


async def test_auto_detection_reports_both_attempts(sdk_sse_server: RunningServer) -> None:
    """/healthz answers POST with 405 and GET with text/plain: neither transport fits."""
    async with AsyncMCPClient(f"{sdk_sse_server.base_url}/healthz", timeout=10) as client:
        with pytest.raises(TransportDetectionError) as failed:
            await client.initialize()
    assert set(failed.value.errors) == {"streamable-http", "sse"}


# ---------------------------------------------------------------- stdio process life cycle


def _processes_with(marker: str) -> list[int]:
    """Live processes (zombies excluded) whose environment carries `marker`."""
    found = []
    needle = f"MCP_INTEROP_MARKER={marker}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if needle in environ.split(b"\0"):
            found.append(int(entry.name))
    return found


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs Linux /proc")
@pytest.mark.parametrize("server", ["sdk", "everything", "everything-ignoring-eof"])
async def test_stdio_client_leaves_no_process_behind(
    request: pytest.FixtureRequest, server: str
) -> None:
    """Closing the client stops the server: at stdin EOF, or by SIGTERM when it ignores EOF."""
    import servers

    if server == "everything-ignoring-eof":
        request.getfixturevalue("everything_stdio_command")  # skips without node
        command = servers.everything_stdio_command(exit_on_stdin_eof=False)
    else:
        command = request.getfixturevalue(f"{server}_stdio_command")
    marker = uuid.uuid4().hex
    env = {**(command.env or {}), "MCP_INTEROP_MARKER": marker}
    async with AsyncMCPClient.stdio(
        command.command, command.args, env=env, cwd=command.cwd
    ) as client:
        await client.initialize()
        assert _processes_with(marker)
        if server.startswith("everything"):
            # A 5 s interval timer: the bare package now outlives a closed stdin.
            await client.call_tool("toggle-simulated-logging")
    assert _processes_with(marker) == []


async def test_stdio_server_that_exits_at_once(sdk_stdio_command: StdioCommand) -> None:
    """The real server refuses its arguments and exits 2; the client says so."""
    client = AsyncMCPClient.stdio(
        sdk_stdio_command.command,
        [*sdk_stdio_command.args, "--no-such-flag"],
        env=sdk_stdio_command.env,
        cwd=sdk_stdio_command.cwd,
        timeout=30,
    )
    async with client:
        with pytest.raises(ServerExitedError) as exited:
            await client.initialize()
        assert client.transport_kind == "stdio"
    assert exited.value.exit_code == 2
    assert "--no-such-flag" in str(exited.value)  # argparse's complaint, from stderr


async def test_stdio_each_client_gets_its_own_server(sdk_stdio_command: StdioCommand) -> None:
    seen: list[str] = []
    one = stdio_client(sdk_stdio_command, resource_updated_handler=seen.append)
    two = stdio_client(sdk_stdio_command, roots=["file:///two", Root("file:///too", name="t")])
    async with one, two:
        await asyncio.gather(one.initialize(), two.initialize())
        await one.subscribe_resource("docs://readme")
        # `two` shares no state with `one`: its process never heard of the subscription.
        missed = await two.call_tool("touch", {"uri": "docs://readme"})
        assert missed.structured_content == {"result": False}
        hit = await one.call_tool("touch", {"uri": "docs://readme"})
        assert hit.structured_content == {"result": True}
        await _until(lambda: seen == ["docs://readme"])
        # Roots given as a plain list (URIs or Root objects).
        assert (await two.call_tool("roots")).structured_content == {
            "result": ["file:///two", "file:///too"]
        }


async def test_sse_sessions_of_one_server_stay_apart(sdk_sse_server: RunningServer) -> None:
    """Each GET /sse is its own MCP session: state and server requests do not cross."""
    one = AsyncMCPClient(sdk_sse_server.url, transport="sse", roots=["file:///one"])
    two = AsyncMCPClient(sdk_sse_server.url, transport="sse", roots=["file:///two"])
    async with one, two:
        await one.subscribe_resource("docs://readme")
        missed = await two.call_tool("touch", {"uri": "docs://readme"})
        assert missed.structured_content == {"result": False}
        hit = await one.call_tool("touch", {"uri": "docs://readme"})
        assert hit.structured_content == {"result": True}
        asked = await asyncio.gather(one.call_tool("roots"), two.call_tool("roots"))
        assert [r.structured_content for r in asked] == [
            {"result": ["file:///one"]},
            {"result": ["file:///two"]},
        ]
        await one.unsubscribe_resource("docs://readme")
