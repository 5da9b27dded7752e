"""Smoke tests for the interop servers themselves, spoken to with raw aiohttp.

These deliberately do not use mcp_async: they prove the fixtures start real
servers that behave as documented, so client interop tests can rely on them.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sdk_server import INVENTORY, TINY_PNG_B64
from servers import RunningServer

PROTOCOL_VERSION = "2025-11-25"
ACCEPT_BOTH = "application/json, text/event-stream"
TIMEOUT = aiohttp.ClientTimeout(total=15)

SDK_SESSION_NOT_FOUND = {
    "jsonrpc": "2.0",
    "id": None,
    "error": {"code": -32600, "message": "Session not found"},
}
EVERYTHING_BAD_SESSION = {
    "jsonrpc": "2.0",
    "error": {"code": -32000, "message": "Bad Request: No valid session ID provided"},
}

EVERYTHING_BASE_TOOLS = {
    "echo",
    "get-annotated-message",
    "get-env",
    "get-resource-links",
    "get-resource-reference",
    "get-structured-content",
    "get-sum",
    "get-tiny-image",
    "gzip-file-as-resource",
    "toggle-simulated-logging",
    "toggle-subscriber-updates",
    "trigger-long-running-operation",
    "simulate-research-query",
}
EVERYTHING_CAPABILITY_TOOLS = {
    "get-roots-list",  # roots
    "trigger-elicitation-request",  # elicitation
    "trigger-url-elicitation",  # elicitation.url
    "trigger-sampling-request",  # sampling
    "trigger-sampling-request-async",  # sampling + tasks.requests.sampling.createMessage
    "trigger-elicitation-request-async",  # elicitation + tasks.requests.elicitation.create
}
EVERYTHING_PROMPTS = {
    "simple-prompt": [],
    "args-prompt": [("city", True), ("state", False)],
    "completable-prompt": [("department", True), ("name", True)],
    "resource-prompt": [("resourceType", True), ("resourceId", True)],
}
EVERYTHING_TEMPLATES = {
    "demo://resource/dynamic/text/{resourceId}",
    "demo://resource/dynamic/blob/{resourceId}",
}


# ---------------------------------------------------------------- raw client
@dataclass
class Reply:
    status: int
    headers: Any
    content_type: str
    raw: str
    messages: list[dict[str, Any]] = field(default_factory=list)  # JSON-RPC messages
    events: list[dict[str, str]] = field(default_factory=list)  # SSE events (incl. priming)

    def message(self, request_id: int) -> dict[str, Any]:
        for message in self.messages:
            if message.get("id") == request_id and ("result" in message or "error" in message):
                return message
        raise AssertionError(f"no response to id {request_id} in {self.raw!r}")

    def result(self, request_id: int) -> dict[str, Any]:
        message = self.message(request_id)
        assert "result" in message, message
        return message["result"]  # type: ignore[no-any-return]


def parse_sse(text: str) -> list[dict[str, str]]:
    """Split an SSE body into events: {"event"?, "id"?, "retry"?, "data"}."""
    events = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        event: dict[str, str] = {}
        data: list[str] = []
        for line in block.split("\n"):
            if not line or line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "data":
                data.append(value)
            elif name in ("event", "id", "retry"):
                event[name] = value
        if data or event:
            event["data"] = "\n".join(data)
            events.append(event)
    return events


class RawMcp:
    """Just enough MCP-over-HTTP to poke a server."""

    def __init__(self, http: aiohttp.ClientSession, url: str) -> None:
        self.http = http
        self.url = url
        self.session_id: str | None = None
        self.protocol_version: str | None = None
        self.next_id = 0

    def headers(self) -> dict[str, str]:
        headers = {"Accept": ACCEPT_BOTH, "Content-Type": "application/json"}
        if self.session_id is not None:
            headers["Mcp-Session-Id"] = self.session_id
        if self.protocol_version is not None:
            headers["MCP-Protocol-Version"] = self.protocol_version
        return headers

    async def post(self, message: dict[str, Any], headers: dict[str, str] | None = None) -> Reply:
        async with self.http.post(
            self.url, json=message, headers=headers or self.headers()
        ) as response:
            raw = await response.text()
            content_type = response.headers.get("Content-Type", "")
            reply = Reply(response.status, response.headers, content_type, raw)
        if content_type.startswith("text/event-stream"):
            reply.events = parse_sse(raw)
            reply.messages = [json.loads(e["data"]) for e in reply.events if e["data"].strip()]
        elif content_type.startswith("application/json") and raw:
            body = json.loads(raw)
            reply.messages = body if isinstance(body, list) else [body]
        return reply

    async def request(self, method: str, params: dict[str, Any] | None = None) -> tuple[int, Reply]:
        self.next_id += 1
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": self.next_id, "method": method}
        if params is not None:
            message["params"] = params
        return self.next_id, await self.post(message)

    async def call(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        request_id, reply = await self.request(method, params)
        assert reply.status == 200, (reply.status, reply.raw)
        return reply.result(request_id)

    async def initialize(self, capabilities: dict[str, Any] | None = None) -> Reply:
        request_id, reply = await self.request(
            "initialize",
            {
                "protocolVersion": PROTOCOL_VERSION,
                "capabilities": capabilities or {},
                "clientInfo": {"name": "mcp-async-smoke", "version": "0"},
            },
        )
        assert reply.status == 200, (reply.status, reply.raw)
        result = reply.result(request_id)
        self.protocol_version = result["protocolVersion"]
        self.session_id = reply.headers.get("Mcp-Session-Id")
        notified = await self.post({"jsonrpc": "2.0", "method": "notifications/initialized"})
        assert notified.status == 202, (notified.status, notified.raw)
        assert notified.raw == ""
        return reply


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
        yield session


# ------------------------------------------------------------ official SDK
async def test_sdk_handshake_and_tools_list(
    sdk_server: RunningServer, http: aiohttp.ClientSession
) -> None:
    assert sdk_server.url.startswith("http://127.0.0.1:") and sdk_server.url.endswith("/mcp")
    mcp = RawMcp(http, sdk_server.url)
    reply = await mcp.initialize()

    expected_type = "application/json" if sdk_server.json_response else "text/event-stream"
    assert reply.content_type.startswith(expected_type)
    result = reply.result(1)
    assert result["protocolVersion"] == PROTOCOL_VERSION
    assert result["serverInfo"]["name"] == "mcp-async-interop-sdk-server"
    assert set(result["capabilities"]) >= {"tools", "resources", "prompts", "completions"}
    if sdk_server.stateful:
        assert mcp.session_id and len(mcp.session_id) >= 16
    else:
        assert mcp.session_id is None

    tools = (await mcp.call("tools/list"))["tools"]
    assert [t["name"] for t in tools] == INVENTORY["tools"]
    add = next(t for t in tools if t["name"] == "add")
    assert add["outputSchema"]["properties"]["result"]["type"] == "integer"
    assert await mcp.call("ping") == {}


async def test_sdk_features(sdk_server: RunningServer, http: aiohttp.ClientSession) -> None:
    mcp = RawMcp(http, sdk_server.url)
    await mcp.initialize()

    added = await mcp.call("tools/call", {"name": "add", "arguments": {"a": 2, "b": 3}})
    assert added == {
        "content": [{"type": "text", "text": "5"}],
        "isError": False,
        "structuredContent": {"result": 5},
    }

    weather = await mcp.call("tools/call", {"name": "weather", "arguments": {"city": "Paris"}})
    assert weather["structuredContent"] == {
        "city": "Paris",
        "temperature_c": 20.0,
        "conditions": "Partly cloudy",
        "humidity": 60,
    }

    failed = await mcp.call("tools/call", {"name": "fail", "arguments": {"message": "boom"}})
    assert failed["isError"] is True
    assert failed["content"] == [{"type": "text", "text": "Error executing tool fail: boom"}]

    image = await mcp.call("tools/call", {"name": "tiny_image", "arguments": {}})
    assert image["content"] == [{"type": "image", "data": TINY_PNG_B64, "mimeType": "image/png"}]

    resources = (await mcp.call("resources/list"))["resources"]
    assert [r["uri"] for r in resources] == INVENTORY["resources"]
    blob = (await mcp.call("resources/read", {"uri": "data://bytes.bin"}))["contents"][0]
    assert base64.b64decode(blob["blob"]) == bytes(range(256))

    templates = (await mcp.call("resources/templates/list"))["resourceTemplates"]
    assert [t["uriTemplate"] for t in templates] == INVENTORY["resource_templates"]
    greeting = (await mcp.call("resources/read", {"uri": "greeting://bob"}))["contents"][0]
    assert greeting == {"uri": "greeting://bob", "mimeType": "text/plain", "text": "Hello, bob!"}

    prompts = (await mcp.call("prompts/list"))["prompts"]
    assert [p["name"] for p in prompts] == INVENTORY["prompts"]
    review = await mcp.call("prompts/get", {"name": "review", "arguments": {"code": "x = 1"}})
    assert [m["role"] for m in review["messages"]] == ["user", "assistant"]

    completion = await mcp.call(
        "completion/complete",
        {
            "ref": {"type": "ref/resource", "uri": "greeting://{name}"},
            "argument": {"name": "name", "value": "al"},
        },
    )
    assert completion["completion"]["values"] == ["alice", "alicia"]
    completion = await mcp.call(
        "completion/complete",
        {
            "ref": {"type": "ref/prompt", "name": "translate"},
            "argument": {"name": "language", "value": "g"},
        },
    )
    assert completion["completion"]["values"] == ["German", "Greek"]


async def test_sdk_progress_notifications_arrive_on_the_post_stream(
    sdk_server: RunningServer, http: aiohttp.ClientSession
) -> None:
    mcp = RawMcp(http, sdk_server.url)
    await mcp.initialize()
    request_id, reply = await mcp.request(
        "tools/call",
        {"name": "progress", "arguments": {"steps": 2}, "_meta": {"progressToken": "tok"}},
    )
    assert reply.status == 200
    assert reply.result(request_id)["structuredContent"] == {"result": "done 2"}
    methods = [m.get("method") for m in reply.messages if "method" in m]
    if sdk_server.json_response:
        assert methods == []  # JSON mode has nowhere to put notifications
    else:
        assert methods == [
            "notifications/progress",
            "notifications/message",
            "notifications/progress",
            "notifications/message",
        ]


async def test_sdk_old_session_after_restart(
    sdk_server: RunningServer, http: aiohttp.ClientSession
) -> None:
    mcp = RawMcp(http, sdk_server.url)
    await mcp.initialize()
    old_port = sdk_server.port
    await sdk_server.arestart()
    assert sdk_server.port == old_port

    request_id, reply = await mcp.request("tools/list")
    if sdk_server.stateful:
        assert reply.status == 404
        assert reply.content_type.startswith("application/json")
        assert json.loads(reply.raw) == SDK_SESSION_NOT_FOUND
        # A fresh initialize on the same URL works.
        fresh = RawMcp(http, sdk_server.url)
        await fresh.initialize()
        assert fresh.session_id != mcp.session_id
    else:
        # Stateless: nothing to forget, the request simply works.
        assert reply.status == 200
        assert reply.result(request_id)["tools"]


async def test_sdk_unrelated_notifications_use_the_get_stream(
    sdk_server: RunningServer, http: aiohttp.ClientSession
) -> None:
    mcp = RawMcp(http, sdk_server.url)
    await mcp.initialize()
    headers = {"Accept": "text/event-stream", "MCP-Protocol-Version": PROTOCOL_VERSION}
    if mcp.session_id:
        headers["Mcp-Session-Id"] = mcp.session_id
    async with http.get(sdk_server.url, headers=headers) as stream:
        assert stream.status == 200
        result = await mcp.call("tools/call", {"name": "announce", "arguments": {}})
        assert result["structuredContent"] == {"result": "announced"}
        if not sdk_server.stateful:
            return  # the GET stream opens, but a stateless server never writes to it
        buffer = ""
        methods: list[str] = []
        async with asyncio.timeout(5):
            while len(methods) < 3:
                buffer += (await stream.content.readany()).decode()
                *blocks, buffer = buffer.replace("\r\n", "\n").split("\n\n")
                for event in parse_sse("\n\n".join(blocks)):
                    if event["data"]:
                        methods.append(json.loads(event["data"])["method"])
    assert methods == [
        "notifications/tools/list_changed",
        "notifications/resources/list_changed",
        "notifications/prompts/list_changed",
    ]


# ---------------------------------------------------------- server-everything
async def test_everything_handshake_and_listings(
    everything_server: RunningServer, http: aiohttp.ClientSession
) -> None:
    mcp = RawMcp(http, everything_server.url)
    reply = await mcp.initialize()

    assert reply.content_type.startswith("text/event-stream")
    # 2025-11-25 streams open with a priming event: an id and empty data.
    assert reply.events[0]["data"] == "" and reply.events[0].get("id")
    result = reply.result(1)
    assert result["protocolVersion"] == PROTOCOL_VERSION
    assert result["serverInfo"] == {
        "name": "mcp-servers/everything",
        "title": "Everything Reference Server",
        "version": "2.0.0",
    }
    assert set(result["capabilities"]) == {
        "tools",
        "prompts",
        "resources",
        "logging",
        "tasks",
        "completions",
    }
    assert mcp.session_id

    tools = (await mcp.call("tools/list"))["tools"]
    assert {t["name"] for t in tools} == EVERYTHING_BASE_TOOLS

    listed = await mcp.call("resources/list")
    assert "nextCursor" not in listed
    uris = [r["uri"] for r in listed["resources"]]
    assert len(uris) == 7
    assert all(u.startswith("demo://resource/static/document/") for u in uris)

    templates = (await mcp.call("resources/templates/list"))["resourceTemplates"]
    assert {t["uriTemplate"] for t in templates} == EVERYTHING_TEMPLATES
    text = (await mcp.call("resources/read", {"uri": "demo://resource/dynamic/text/1"}))[
        "contents"
    ][0]
    assert text["text"].startswith("Resource 1: This is a plaintext resource")
    blob = (await mcp.call("resources/read", {"uri": "demo://resource/dynamic/blob/2"}))[
        "contents"
    ][0]
    assert base64.b64decode(blob["blob"]).startswith(b"Resource 2: This is a base64 blob")

    prompts = (await mcp.call("prompts/list"))["prompts"]
    assert {
        p["name"]: [(a["name"], a.get("required", False)) for a in p.get("arguments", [])]
        for p in prompts
    } == EVERYTHING_PROMPTS

    completion = await mcp.call(
        "completion/complete",
        {
            "ref": {"type": "ref/prompt", "name": "completable-prompt"},
            "argument": {"name": "name", "value": ""},
            "context": {"arguments": {"department": "Sales"}},
        },
    )
    assert completion["completion"]["values"] == ["David", "Eve", "Frank"]

    summed = await mcp.call("tools/call", {"name": "get-sum", "arguments": {"a": 1, "b": 2}})
    assert summed["content"] == [{"type": "text", "text": "The sum of 1 and 2 is 3."}]
    assert await mcp.call("ping") == {}


async def test_everything_client_capabilities_unlock_tools(
    everything_server: RunningServer, http: aiohttp.ClientSession
) -> None:
    mcp = RawMcp(http, everything_server.url)
    await mcp.initialize(
        {
            "roots": {"listChanged": True},
            "sampling": {},
            "elicitation": {"form": {}, "url": {}},
            "tasks": {
                "requests": {"sampling": {"createMessage": {}}, "elicitation": {"create": {}}}
            },
        }
    )
    tools = (await mcp.call("tools/list"))["tools"]
    assert {t["name"] for t in tools} == EVERYTHING_BASE_TOOLS | EVERYTHING_CAPABILITY_TOOLS


async def test_everything_old_session_after_restart(
    everything_server: RunningServer, http: aiohttp.ClientSession
) -> None:
    mcp = RawMcp(http, everything_server.url)
    await mcp.initialize()
    await everything_server.arestart()

    _, reply = await mcp.request("tools/list")
    # Not 404: server-everything answers an unknown Mcp-Session-Id with 400.
    assert reply.status == 400
    assert reply.content_type.startswith("application/json")
    assert json.loads(reply.raw) == EVERYTHING_BAD_SESSION

    fresh = RawMcp(http, everything_server.url)
    await fresh.initialize()
    assert fresh.session_id != mcp.session_id


async def test_everything_get_stream(
    everything_server: RunningServer, http: aiohttp.ClientSession
) -> None:
    mcp = RawMcp(http, everything_server.url)
    await mcp.initialize()
    headers = {
        "Accept": "text/event-stream",
        "Mcp-Session-Id": mcp.session_id or "",
        "MCP-Protocol-Version": PROTOCOL_VERSION,
    }
    async with http.get(everything_server.url, headers=headers) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/event-stream")


def test_everything_listens_on_loopback_only(everything_server: RunningServer) -> None:
    tables = [Path("/proc/net/tcp"), Path("/proc/net/tcp6")]
    if not tables[0].exists():
        pytest.skip("needs Linux /proc/net")
    listeners = []
    for table in tables:
        for row in table.read_text().splitlines()[1:]:
            fields = row.split()
            address, _, port = fields[1].partition(":")
            if fields[3] == "0A" and int(port, 16) == everything_server.port:
                listeners.append(address)
    assert listeners == ["0100007F"]  # 127.0.0.1, and nothing on :: or 0.0.0.0
