"""MCP 2026-07-28 against servers nobody here wrote.

The official ``mcp`` 2.3.0 server (tests/interop/sdk_server.py) speaks both eras; with
``protocol="auto"`` the client must negotiate 2026-07-28 with it, over Streamable HTTP
(JSON and SSE replies) and stdio. A recording proxy of ours sits in front of the HTTP
server and keeps every request's headers and body, so the tests can check the
envelope and the routing headers the server actually received.

``@modelcontextprotocol/server-everything`` speaks no 2026-07-28: there ``auto`` must
fall back to the handshake, as against our own ``mcp_async.testing`` server.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from recording_proxy import Recorder, recording_proxy
from servers import RunningServer, StdioCommand

from mcp_async import AsyncMCPClient, EraError, JSONRPCError
from mcp_async.protocol.models import InputRequiredResult, LoggingMessage, ProgressNotification
from mcp_async.session.handlers import (
    ElicitationRequest,
    ElicitationResult,
    SamplingRequest,
    SamplingResult,
)
from mcp_async.testing import demo_server

MODERN = "2026-07-28"
META_VERSION = "io.modelcontextprotocol/protocolVersion"
META_CAPABILITIES = "io.modelcontextprotocol/clientCapabilities"
META_CLIENT = "io.modelcontextprotocol/clientInfo"
META_LOG = "io.modelcontextprotocol/logLevel"


# ------------------------------------------------------------------ recording proxy




# ------------------------------------------------------------------ handlers


async def elicit(request: ElicitationRequest) -> ElicitationResult:
    if "travels" in request.message:
        return ElicitationResult.accept({"name": "Ada"})
    word = "alpha" if "first" in request.message else "beta"
    return ElicitationResult.accept({"word": word})


async def sample(request: SamplingRequest) -> SamplingResult:
    return SamplingResult("fjords and rain", model="test-model")


@dataclass
class Target:
    kind: str  # "http-json" | "http-sse" | "stdio"
    open: Callable[..., AsyncMCPClient]
    recorder: Recorder | None

    @property
    def streams(self) -> bool:
        """Whether a call's notifications (progress, logs) can reach the client."""
        return self.kind != "http-json"


@pytest.fixture(params=["http-json", "http-sse", "stdio"])
async def target(
    request: pytest.FixtureRequest, start_server: Callable[[str], RunningServer],
    sdk_stdio_command: StdioCommand,
) -> AsyncIterator[Target]:
    if request.param == "stdio":
        command = sdk_stdio_command
        yield Target("stdio", lambda **options: AsyncMCPClient.stdio(
            command.command, command.args, env=command.env, cwd=command.cwd, **options
        ), None)
        return
    mode = "sdk-json-stateful" if request.param == "http-json" else "sdk-sse-stateful"
    server = start_server(mode)
    async with recording_proxy(server.url) as (url, recorder):
        yield Target(request.param, lambda **options: AsyncMCPClient(url, **options), recorder)


def client_options(**extra: Any) -> dict[str, Any]:
    return {"elicitation_handler": elicit, "sampling_handler": sample, "timeout": 20, **extra}


# ------------------------------------------------------------------ the modern era


async def test_auto_negotiates_2026_and_the_methods_work(target: Target) -> None:
    logs: list[LoggingMessage] = []
    async with target.open(**client_options(logging_handler=logs.append)) as client:
        info = await client.initialize()
        assert client.protocol_version == info.protocol_version == MODERN
        assert client.server_info.name == "mcp-async-interop-sdk-server"
        assert client.instructions == "Deterministic test server for mcp_async interop tests."
        assert client.server_capabilities.supports_tools
        assert client.session_id is None
        discovered = await client.discover()
        assert MODERN in discovered.supported_versions
        assert discovered.ttl_ms >= 0

        tools = {tool.name: tool for tool in await client.list_tools()}
        assert {"add", "weather", "plan_trip", "two_step", "route"} <= set(tools)
        added = await client.call_tool("add", {"a": 20, "b": 22}, validate_output=True)
        assert added.structured_content == {"result": 42}
        weather = await client.call_tool("weather", {"city": "Oslo"}, validate_output=True)
        assert weather.structured_content is not None
        assert weather.structured_content["city"] == "Oslo"
        failed = await client.call_tool("fail", {"message": "boom"})
        assert failed.is_error and "boom" in failed.text

        resources = {r.uri for r in await client.list_resources()}
        assert "config://app" in resources
        read = await client.read_resource("config://app")
        assert read.contents
        templates = {t.uri_template for t in await client.list_resource_templates()}
        assert "greeting://{name}" in templates
        prompts = {p.name for p in await client.list_prompts()}
        assert {"review", "translate", "hello"} <= prompts
        rendered = await client.get_prompt("translate", {"text": "hi"})
        assert rendered.messages
        languages = await client.complete(
            {"type": "ref/prompt", "name": "translate"}, ("language", "Fr")
        )
        assert "French" in languages.values

        if target.streams:
            notes: list[ProgressNotification] = []
            await client.set_logging_level("info")  # becomes the logLevel of later requests
            done = await client.call_tool("progress", {"steps": 3}, progress=notes.append)
            assert done.text == "done 3"
            assert [n.progress for n in notes] == [1, 2, 3]
            assert [m.data for m in logs] == [f"progress step {i}" for i in (1, 2, 3)]
        with pytest.raises(EraError, match="2026-07-28"):
            await client.subscribe_resource("docs://readme")

    if target.recorder is not None:
        posts = target.recorder.posts()
        assert posts and all(r.headers.get("MCP-Protocol-Version") == MODERN for r in posts)
        assert all(r.headers.get("Mcp-Method") == r.body["method"] for r in posts)
        assert not [r for r in target.recorder.requests if r.method in ("GET", "DELETE")]
        assert all("Mcp-Session-Id" not in r.headers for r in target.recorder.requests)
        assert not target.recorder.posts("initialize")
        for seen in posts:
            meta = seen.body["params"]["_meta"]
            assert meta[META_VERSION] == MODERN
            assert meta[META_CLIENT]["name"] == "mcp-async"
        call = target.recorder.posts("tools/call")[0]
        assert call.headers["Mcp-Name"] == "add"
        # Input capabilities are declared on the requests that may need input.
        assert set(call.body["params"]["_meta"][META_CAPABILITIES]) == {"elicitation", "sampling"}
        listing = target.recorder.posts("tools/list")[0]
        assert listing.body["params"]["_meta"][META_CAPABILITIES] == {}
        read_post = target.recorder.posts("resources/read")[0]
        assert read_post.headers["Mcp-Name"] == "config://app"
        prompt_post = target.recorder.posts("prompts/get")[0]
        assert prompt_post.headers["Mcp-Name"] == "translate"
        if target.streams:
            progress_post = target.recorder.posts("tools/call")[-1]
            assert progress_post.body["params"]["_meta"][META_LOG] == "info"
            assert "progressToken" in progress_post.body["params"]["_meta"]


async def test_input_rounds_are_driven_through_the_handlers(target: Target) -> None:
    async with target.open(**client_options()) as client:
        trip = await client.call_tool("plan_trip", {"city": "Bergen"})
        assert trip.text == "Ada goes to Bergen: fjords and rain"
        assert (await client.call_tool("two_step")).text == "alpha beta"

        # By hand: the interim result comes back (its requestState is sealed by the
        # SDK, so only an exact echo is accepted), and resuming it finishes the call.
        first = await client.call_tool("two_step", allow_input_required=True)
        assert isinstance(first, InputRequiredResult) and first.request_state
        assert first.input_requests["word"].method == "elicitation/create"
        assert first.input_requests["word"].params["message"] == "The first word?"
        second = await client.call_tool(
            "two_step", input_responses={"word": {"action": "accept", "content": {"word": "x"}}},
            request_state=first.request_state, allow_input_required=True,
        )
        assert isinstance(second, InputRequiredResult)
        assert second.input_requests["word"].params["message"] == "The second word?"
        done = await client.call_tool(
            "two_step", input_responses={"word": {"action": "accept", "content": {"word": "y"}}},
            request_state=second.request_state,
        )
        assert done.text == "x y"
    if target.recorder is not None:
        rounds = [r.body for r in target.recorder.posts("tools/call")
                  if r.body["params"]["name"] == "plan_trip"]
        assert len(rounds) == 2
        assert rounds[0]["id"] != rounds[1]["id"]
        retry = rounds[1]["params"]
        assert isinstance(retry["requestState"], str) and retry["requestState"]
        assert retry["arguments"] == {"city": "Bergen"}
        assert set(retry["inputResponses"]) == {"traveller", "blurb"}
        assert retry["inputResponses"]["traveller"] == {"action": "accept",
                                                        "content": {"name": "Ada"}}


async def test_without_handlers_an_input_round_fails_typed(target: Target) -> None:
    from mcp_async import InputRequestError

    async with target.open(timeout=20, sampling_handler=sample) as client:
        with pytest.raises(InputRequestError) as info:
            await client.call_tool("plan_trip", {"city": "Oslo"})
    assert info.value.key == "traveller" and info.value.method == "elicitation/create"


async def test_x_mcp_header_arguments_travel_as_headers(target: Target) -> None:
    async with target.open(**client_options()) as client:
        # Not listed yet: the first call goes without Mcp-Param-Region, the SDK server
        # answers -32020 (over HTTP), and the client re-lists the tools and sends again.
        assert (await client.call_tool("route", {"region": "eu-west", "payload": "a"})).text \
            == "eu-west:a"
        assert (await client.call_tool("route", {"region": "ünï", "payload": "b"})).text \
            == "ünï:b"
    if target.recorder is not None:
        calls = [r for r in target.recorder.posts("tools/call")
                 if r.body["params"]["name"] == "route"]
        assert "Mcp-Param-Region" not in calls[0].headers
        assert target.recorder.posts("tools/list")
        assert calls[1].headers["Mcp-Param-Region"] == "eu-west"
        assert calls[-1].headers["Mcp-Param-Region"] == "=?base64?w7xuw68=?="


async def test_pinned_2026_sends_no_probe(target: Target) -> None:
    async with target.open(protocol=MODERN, **client_options()) as client:
        assert (await client.call_tool("echo", {"text": "hi"})).text == "hi"
        assert client.protocol_version == MODERN
    if target.recorder is not None:
        assert [r.body["method"] for r in target.recorder.posts()] == ["tools/call"]


@pytest.mark.parametrize("sdk_server", ["json-stateful", "sse-stateful"], indirect=True)
async def test_results_equal_the_official_clients(sdk_server: RunningServer) -> None:
    """The official client (mcp 2.3.0, auto mode: 2026-07-28) and ours, side by side."""
    from mcp import Client
    from mcp.shared.exceptions import MCPError

    calls: list[tuple[str, dict[str, Any]]] = [
        ("add", {"a": 2, "b": 3}), ("weather", {"city": "Oslo"}), ("echo", {"text": "ü"}),
        ("fail", {"message": "no"}), ("describe_image", {}), ("crash", {}),
        ("no_such_tool", {}),
    ]
    async with Client(sdk_server.url) as official, AsyncMCPClient(sdk_server.url) as ours:
        for name, arguments in calls:
            theirs = (await official.call_tool(name, arguments)).model_dump(
                mode="json", by_alias=True, exclude_none=True
            )
            mine = await ours.call_tool(name, arguments)
            assert [block.to_dict() if hasattr(block, "to_dict") else block.raw
                    for block in mine.content] == theirs["content"], name
            assert mine.structured_content == theirs.get("structuredContent"), name
            assert mine.is_error == theirs.get("isError", False), name
        with pytest.raises(MCPError) as official_error:
            await official.read_resource("nothing://here")
        with pytest.raises(JSONRPCError) as our_error:
            await ours.read_resource("nothing://here")
        assert our_error.value.code == official_error.value.code
        assert ours.protocol_version == MODERN


# ------------------------------------------------------------------ fallback


async def test_auto_falls_back_to_the_handshake_with_server_everything(
    everything_server: RunningServer, everything_stdio_command: StdioCommand
) -> None:
    async with AsyncMCPClient(everything_server.url, timeout=20) as client:
        assert (await client.call_tool("echo", {"message": "hi"})).text.endswith("hi")
        assert client.protocol_version == "2025-11-25"
        assert client.session_id is not None
    command = everything_stdio_command
    async with AsyncMCPClient.stdio(command.command, command.args, env=command.env,
                                    cwd=command.cwd, timeout=20) as client:
        assert (await client.call_tool("echo", {"message": "hi"})).text.endswith("hi")
        assert client.protocol_version == "2025-11-25"


async def test_auto_falls_back_with_our_legacy_only_server() -> None:
    async with demo_server() as server, AsyncMCPClient(server.url) as client:
        assert (await client.call_tool("echo", {"text": "hi"})).text == "hi"
        assert client.protocol_version == "2025-11-25"
        await client.ping()  # the handshake era still has ping


async def test_the_verdict_is_shared_by_clients_of_one_aiohttp_session(
    sdk_server: RunningServer,
) -> None:
    async with recording_proxy(sdk_server.url) as (url, recorder):
        async with aiohttp.ClientSession() as http:
            for _ in range(3):
                async with AsyncMCPClient(url, session=http) as client:
                    assert (await client.call_tool("echo", {"text": "x"})).text == "x"
                    assert client.protocol_version == MODERN
        assert len(recorder.posts("server/discover")) == 1
        await asyncio.sleep(0)
