"""Two-way MCP against ``@modelcontextprotocol/server-everything`` (npm, Streamable HTTP).

Sampling, form and URL elicitation, roots (requested on the GET stream shortly after the
handshake), a long-running operation with progress, simulated logging and resource
subscription updates (both sent on the GET stream).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from servers import RunningServer

from mcp_async import AsyncMCPClient, JSONRPCError, ReadTimeout
from mcp_async.protocol.models import LoggingMessage, ProgressNotification, Root
from mcp_async.session.handlers import (
    ElicitationRequest,
    ElicitationResult,
    SamplingRequest,
    SamplingResult,
)


async def _until(predicate: Any, timeout: float = 10.0) -> None:
    for _ in range(int(timeout / 0.02)):
        if predicate():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not met in time")


def _raw_result(text: str) -> Any:
    """The JSON the everything server appends to its answers after 'Raw result:'."""
    return json.loads(text.split("Raw result:", 1)[1])


async def test_everything_sampling(everything_server: RunningServer) -> None:
    got: list[SamplingRequest] = []

    async def sample(request: SamplingRequest) -> SamplingResult:
        got.append(request)
        return SamplingResult(f"reply to {request.messages[0].text}", model="fake-llm",
                              stop_reason="endTurn")

    async with AsyncMCPClient(everything_server.url, sampling_handler=sample) as client:
        tools = {tool.name for tool in await client.list_tools()}
        assert "trigger-sampling-request" in tools
        result = await client.call_tool("trigger-sampling-request",
                                        {"prompt": "ping?", "maxTokens": 20})
    (request,) = got
    assert request.system_prompt == "You are a helpful test server."
    assert request.max_tokens == 20 and request.temperature == 0.7
    sampled = json.loads(result.text.split("\n", 1)[1])
    assert sampled == {
        "role": "assistant", "model": "fake-llm", "stopReason": "endTurn",
        "content": {"type": "text", "text": f"reply to {request.messages[0].text}"},
    }


async def test_everything_form_elicitation_gets_schema_defaults(
    everything_server: RunningServer,
) -> None:
    async def fill_in(request: ElicitationRequest) -> ElicitationResult:
        assert request.mode == "form" and request.required == ("name",)
        return ElicitationResult.accept({"name": "Ada", "check": True, "integer": 7})

    async with AsyncMCPClient(everything_server.url, elicitation_handler=fill_in) as client:
        result = await client.call_tool("trigger-elicitation-request")
    assert "- Name: Ada" in result.text and "- Favorite Integer: 7" in result.text
    assert _raw_result(result.text) == {
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


async def test_everything_url_elicitation(everything_server: RunningServer) -> None:
    asked: list[ElicitationRequest] = []

    async def consent(request: ElicitationRequest) -> ElicitationResult:
        asked.append(request)
        return ElicitationResult.accept() if request.mode == "url" else ElicitationResult.cancel()

    async with AsyncMCPClient(everything_server.url, elicitation_handler=consent) as client:
        result = await client.call_tool("trigger-url-elicitation",
                                        {"url": "https://example.com/authorize"})
        assert "User completed the URL elicitation flow" in result.text
        (request,) = asked
        assert request.url == "https://example.com/authorize" and request.elicitation_id
        # The error path: -32042 names the URL elicitations the call needs first.
        with pytest.raises(JSONRPCError) as needed:
            await client.call_tool("trigger-url-elicitation",
                                   {"url": "https://example.com/a", "errorPath": True})
        assert needed.value.code == -32042
        (pending,) = needed.value.data["elicitations"]
        assert pending["mode"] == "url" and pending["elicitationId"]


async def test_everything_roots_on_the_get_stream(everything_server: RunningServer) -> None:
    roots = [Root("file:///srv/one", name="one")]
    logs: list[LoggingMessage] = []

    def saw(count: int) -> bool:
        return any(f"Roots updated: {count} root(s)" in str(m.data) for m in logs)

    async with AsyncMCPClient(
        everything_server.url, roots=lambda: roots, logging_handler=logs.append
    ) as client:
        await client.initialize()
        assert client.listening
        # The server asks for roots on its own, on the GET stream, after the handshake.
        await _until(lambda: saw(1))
        listed = await client.call_tool("get-roots-list")
        assert "file:///srv/one" in listed.text
        roots = [Root("file:///srv/one"), Root("file:///srv/two", name="two")]
        await client.notify_roots_changed()
        await _until(lambda: saw(2))
        assert "file:///srv/two" in (await client.call_tool("get-roots-list")).text


async def test_everything_long_running_operation_with_progress(
    everything_server: RunningServer,
) -> None:
    seen: list[ProgressNotification] = []
    async with AsyncMCPClient(everything_server.url) as client:
        result = await client.call_tool(
            "trigger-long-running-operation", {"duration": 0.6, "steps": 6},
            progress=seen.append, timeout=0.35, reset_timeout_on_progress=True,
        )
        assert "Steps: 6" in result.text
        assert [(p.progress, p.total) for p in seen] == [(i, 6) for i in range(1, 7)]
        with pytest.raises(ReadTimeout):
            await client.call_tool("trigger-long-running-operation",
                                   {"duration": 0.6, "steps": 6}, timeout=0.35,
                                   max_total_timeout=10)
        with pytest.raises(ReadTimeout, match="max_total_timeout"):
            await client.call_tool("trigger-long-running-operation",
                                   {"duration": 3, "steps": 30}, timeout=0.35,
                                   reset_timeout_on_progress=True, max_total_timeout=0.5)
        assert "5" in (await client.call_tool("get-sum", {"a": 2, "b": 3})).text


async def test_everything_simulated_logging(everything_server: RunningServer) -> None:
    logs: list[LoggingMessage] = []
    async with AsyncMCPClient(everything_server.url, logging_handler=logs.append) as client:
        await client.set_logging_level("debug")
        started = await client.call_tool("toggle-simulated-logging")
        assert "Started simulated" in started.text
        # One message right away (then one every 5 s), on the GET stream.
        await _until(lambda: any("-level message" in str(m.data) or "level-message"
                                 in str(m.data) for m in logs))
        stopped = await client.call_tool("toggle-simulated-logging")
        assert "Stopped simulated" in stopped.text
    message = next(m for m in logs if "message" in str(m.data))
    assert message.level in ("debug", "info", "notice", "warning", "error", "critical",
                             "alert", "emergency")


async def test_everything_resource_subscription_updates(everything_server: RunningServer) -> None:
    updates: list[str] = []
    logs: list[LoggingMessage] = []
    async with AsyncMCPClient(
        everything_server.url, resource_updated_handler=updates.append,
        logging_handler=logs.append,
    ) as client:
        uri = (await client.list_resources())[0].uri
        await client.subscribe_resource(uri)
        await _until(lambda: any("Received Subscribe Resource request" in str(m.data)
                                 for m in logs))
        started = await client.call_tool("toggle-subscriber-updates")
        assert "Started simulated resource updated" in started.text
        await _until(lambda: uri in updates)
        await client.call_tool("toggle-subscriber-updates")
        await client.unsubscribe_resource(uri)
    assert set(updates) == {uri}
