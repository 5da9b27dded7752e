"""Two-way MCP against the official ``mcp`` Python SDK server (tests/interop/sdk_server.py).

Each test runs in the server's four modes. What a mode can carry differs, and the tests
say so: a server request tied to a call (``ctx.elicit``, ``create_message``) needs an
SSE reply to travel on, so JSON-reply and stateless servers refuse it with -32600; a
request or notification not tied to a call travels on the GET stream, which only
stateful servers have.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from servers import RunningServer

from mcp_async import AsyncMCPClient as _Client
from mcp_async import JSONRPCError, ReadTimeout
from mcp_async.protocol.models import LoggingMessage, ProgressNotification, Root
from mcp_async.session.elicitation import schema_defaults
from mcp_async.session.handlers import (
    ElicitationRequest,
    ElicitationResult,
    SamplingRequest,
    SamplingResult,
    ToolUseContent,
)


def AsyncMCPClient(url: str, **options: Any) -> _Client:
    """These are the handshake era's server requests (elicitation, sampling, roots sent
    by the server mid-call): pin that era. The 2026-07-28 forms of the same features
    are in test_modern_era_sdk.py."""
    options.setdefault("protocol", "legacy")
    return _Client(url, **options)


def _on_reply_stream(server: RunningServer) -> bool:
    """Whether server requests tied to a call can reach the client."""
    return server.stateful and not server.json_response


async def _until(predicate: Any, timeout: float = 5.0) -> None:
    for _ in range(int(timeout / 0.01)):
        if predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not met in time")


async def test_sdk_elicitation_form_with_defaults(sdk_server: RunningServer) -> None:
    seen: list[ElicitationRequest] = []

    async def fill_in(request: ElicitationRequest) -> ElicitationResult:
        seen.append(request)
        return ElicitationResult.accept({"name": "Ada", "count": 5})

    async with AsyncMCPClient(sdk_server.url, elicitation_handler=fill_in) as client:
        if not _on_reply_stream(sdk_server):
            with pytest.raises(JSONRPCError) as refused:
                await client.call_tool("ask_name")
            assert refused.value.code == -32600
            return
        assert (await client.call_tool("ask_name")).text == "Hello, Ada!"
        answer = json.loads((await client.call_tool("ask_preferences")).text)
    assert answer == {"name": "Ada", "color": "blue", "count": 5, "subscribe": True}
    assert seen[0].message == "What is your name?" and seen[0].required == ("name",)
    assert schema_defaults(seen[1].requested_schema) == {
        "color": "blue", "count": 3, "subscribe": True,
    }


async def test_sdk_url_elicitation_and_completion(sdk_server: RunningServer) -> None:
    completed: list[str] = []
    asked: list[ElicitationRequest] = []

    async def consent(request: ElicitationRequest) -> ElicitationResult:
        asked.append(request)
        return ElicitationResult.accept()

    async with AsyncMCPClient(
        sdk_server.url, elicitation_handler=consent, elicitation_complete_handler=completed.append
    ) as client:
        args = {"url": "https://login.example.com/start", "elicitation_id": "el-42"}
        if not _on_reply_stream(sdk_server):
            with pytest.raises(JSONRPCError):
                await client.call_tool("open_url", args)
            return
        assert (await client.call_tool("open_url", args)).text == "accept"
        await _until(lambda: completed == ["el-42"])
    (request,) = asked
    assert (request.mode, request.url, request.elicitation_id) == (
        "url", "https://login.example.com/start", "el-42",
    )


async def test_sdk_sampling_plain_and_with_tools(sdk_server: RunningServer) -> None:
    got: list[SamplingRequest] = []

    async def sample(request: SamplingRequest) -> SamplingResult:
        got.append(request)
        if request.tools:
            word = request.messages[0].text
            return SamplingResult(
                ToolUseContent(id="call-1", name="lookup", input={"word": word}),
                model="fake-llm", stop_reason="toolUse",
            )
        return SamplingResult("it is short", model="fake-llm")

    async with AsyncMCPClient(
        sdk_server.url, sampling_handler=sample, sampling_tools=True
    ) as client:
        if not _on_reply_stream(sdk_server):
            with pytest.raises(JSONRPCError):
                await client.call_tool("summarize", {"text": "a long text"})
            return
        assert (await client.call_tool("summarize", {"text": "x"})).text == "summary: it is short"
        result = json.loads((await client.call_tool("sample_with_tools", {"text": "mcp"})).text)
    assert result["content"] == {"type": "tool_use", "id": "call-1", "name": "lookup",
                                 "input": {"word": "mcp"}}
    assert result["stopReason"] == "toolUse"
    assert got[0].max_tokens == 50 and got[0].messages[0].text == "Summarize: x"
    assert [t.name for t in got[1].tools] == ["lookup"] and got[1].tool_choice == "auto"


async def test_sdk_sampling_tools_need_the_capability(sdk_server: RunningServer) -> None:
    async def sample(request: SamplingRequest) -> SamplingResult:
        return SamplingResult("x", model="m")

    async with AsyncMCPClient(sdk_server.url, sampling_handler=sample) as client:
        with pytest.raises(JSONRPCError) as refused:
            await client.call_tool("sample_with_tools", {"text": "mcp"})
    if sdk_server.stateful:
        assert refused.value.code in (-32600, -32602)
    else:
        assert "sampling tools" in refused.value.message


async def test_sdk_rejected_sampling_becomes_an_error(sdk_server: RunningServer) -> None:
    async def reject(request: SamplingRequest) -> SamplingResult:
        raise JSONRPCError(-1, "the user said no")

    async with AsyncMCPClient(sdk_server.url, sampling_handler=reject) as client:
        with pytest.raises(JSONRPCError) as failed:
            await client.call_tool("summarize", {"text": "x"})
        if _on_reply_stream(sdk_server):
            assert "the user said no" in failed.value.message
        assert (await client.call_tool("echo", {"text": "up"})).text == "up"


async def test_sdk_roots_on_both_streams(sdk_server: RunningServer) -> None:
    roots = [Root("file:///work/a", name="a")]

    async with AsyncMCPClient(sdk_server.url, roots=lambda: roots) as client:
        if sdk_server.stateful:
            # Not tied to the call: travels on the GET stream, in JSON mode too.
            via_get = await client.call_tool("roots_via_get_stream", {"timeout": 5})
            assert via_get.structured_content == {"result": ["file:///work/a"]}
        if not _on_reply_stream(sdk_server):
            with pytest.raises(JSONRPCError):
                await client.call_tool("roots")
            return
        assert (await client.call_tool("roots")).structured_content == {
            "result": ["file:///work/a"]
        }
        roots = [Root("file:///work/b")]
        await client.notify_roots_changed()
        assert (await client.call_tool("roots")).structured_content == {
            "result": ["file:///work/b"]
        }


async def test_sdk_progress_logging_and_timeouts(sdk_server: RunningServer) -> None:
    progress: list[ProgressNotification] = []
    logs: list[LoggingMessage] = []
    async with AsyncMCPClient(sdk_server.url, logging_handler=logs.append) as client:
        result = await client.call_tool(
            "progress", {"steps": 4, "delay": 0.1}, progress=progress.append,
            timeout=0.3 if not sdk_server.json_response else 5,
            reset_timeout_on_progress=True,
        )
        assert result.text == "done 4"
        await client.call_tool("log", {"levels": ["debug", "warning", "error"]})
        if sdk_server.json_response:
            # A JSON reply carries no notifications.
            assert progress == [] and logs == []
            return
        assert [(p.progress, p.total, p.message) for p in progress] == [
            (1, 4, "step 1/4"), (2, 4, "step 2/4"), (3, 4, "step 3/4"), (4, 4, "step 4/4"),
        ]
        assert [m.data for m in logs][:4] == [f"progress step {i}" for i in range(1, 5)]
        assert [(m.level, m.logger) for m in logs[4:]] == [
            ("debug", "interop"), ("warning", "interop"), ("error", "interop"),
        ]
        with pytest.raises(ReadTimeout):
            await client.call_tool("progress", {"steps": 4, "delay": 0.1}, timeout=0.25,
                                   max_total_timeout=10)
        with pytest.raises(ReadTimeout, match="max_total_timeout"):
            await client.call_tool("progress", {"steps": 20, "delay": 0.1}, timeout=0.3,
                                   reset_timeout_on_progress=True, max_total_timeout=0.6)


async def test_sdk_cancelled_call_leaves_the_client_usable(sdk_server: RunningServer) -> None:
    async with AsyncMCPClient(sdk_server.url) as client:
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


async def test_sdk_list_changed_and_resource_updates(sdk_server: RunningServer) -> None:
    seen: list[str] = []
    async with AsyncMCPClient(
        sdk_server.url,
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
        if not sdk_server.stateful:
            # No session, so no GET stream: the server has nowhere to send them.
            await asyncio.sleep(0.3)
            assert seen == []
            return
        await _until(lambda: len(seen) == 4)
        assert seen == ["tools", "resources", "prompts", "docs://readme"]
        assert client._catalogue.tools is None  # the shared tool cache was dropped
        await client.unsubscribe_resource("docs://readme")
        assert (await client.call_tool("touch", {"uri": "docs://readme"})).structured_content == {
            "result": False
        }
