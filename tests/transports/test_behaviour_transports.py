"""One behaviour suite, every transport: the same tests against ``mcp_async.testing``'s
demo server over Streamable HTTP (JSON and SSE replies), legacy HTTP+SSE, stdio, the
memory transport (``MCPTestServer.serve_memory``) and the in-process ASGI HTTP layer
(``ASGITransport`` over an ASGI proxy to the demo server: tests/transports/asgi_proxy.py).
Every transport that has both eras runs in both: a ``-2026`` kind serves MCP 2026-07-28
(with a handshake revision beside it, as servers do), which ``protocol="auto"`` picks.

Each test gets a ``connect(**options)`` factory for an open client on one transport; what
it asserts must hold on all of them. Transport-specific failure modes live in
tests/transports/.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from mcp_async import (
    ASGITransport,
    AsyncMCPClient,
    JSONRPCError,
    ReadTimeout,
    ToolError,
)
from mcp_async.protocol.models import LoggingMessage, ProgressNotification
from mcp_async.session.handlers import ElicitationRequest, SamplingRequest, SamplingResult
from mcp_async.testing import MCPTestServer, demo_server
from mcp_async.transports.memory import memory_pair
from tests.transports.asgi_proxy import AiohttpProxy

Connect = Callable[..., AsyncMCPClient]

TRANSPORTS = ["streamable-http-json", "streamable-http-sse", "sse", "stdio", "memory",
              "asgi-handshake", "streamable-http-json-2026", "streamable-http-sse-2026",
              "stdio-2026", "memory-2026", "asgi-2026"]
EXPECTED_KIND = {
    "streamable-http-json": "streamable-http",
    "streamable-http-sse": "streamable-http",
    "sse": "sse",
    "stdio": "stdio",
    "memory": "memory",
    "asgi-handshake": "streamable-http",
    "asgi": "streamable-http",
}
#: The revisions a ``-2026`` kind's server serves.
BOTH_ERAS = ("2026-07-28", "2025-11-25")


def era_of(kind: str) -> str:
    return "2026" if kind.endswith("-2026") else "handshake"


def transport_of(kind: str) -> str:
    return kind.removesuffix("-2026")


@pytest.fixture(params=TRANSPORTS)
async def connect(request: pytest.FixtureRequest) -> AsyncIterator[Connect]:
    kind: str = request.param
    transport = transport_of(kind)
    eras = BOTH_ERAS if era_of(kind) == "2026" else None
    server: MCPTestServer | None = None
    serving: list[asyncio.Task[None]] = []
    if transport == "stdio":
        era_args = ["--eras", ",".join(eras)] if eras else []

        def factory(**options: Any) -> AsyncMCPClient:
            return AsyncMCPClient.stdio(
                sys.executable, ["-m", "mcp_async.testing", "--stdio", "--two-way", *era_args],
                inherit_env=True, **options,
            )
    elif transport == "memory":
        server = demo_server(two_way=True, eras=eras)

        def factory(**options: Any) -> AsyncMCPClient:
            client_end, server_end = memory_pair()
            serving.append(asyncio.create_task(server.serve_memory(server_end)))
            return AsyncMCPClient(client_end, **options)
    elif transport.startswith("asgi"):
        # The ASGI layer in both eras, its proxy app forwarding to the demo server.
        server = demo_server(two_way=True, reply="sse", get_stream=True, eras=eras)
        await server.start()
        asgi_url = server.url
        proxies: list[AiohttpProxy] = []

        def factory(**options: Any) -> AsyncMCPClient:
            proxies.append(AiohttpProxy())
            layer = ASGITransport(proxies[-1], lifespan=True)
            return AsyncMCPClient(asgi_url, http_transport=layer, **options)
    else:
        if transport == "sse":
            server = demo_server(two_way=True, transport="sse")
        else:
            server = demo_server(two_way=True, reply=transport.rsplit("-", 1)[1],
                                 get_stream=True, eras=eras)  # type: ignore[arg-type]
        await server.start()
        url = server.url

        def factory(**options: Any) -> AsyncMCPClient:
            return AsyncMCPClient(url, **options)  # the transport is detected

    factory.kind = kind  # type: ignore[attr-defined]
    try:
        yield factory
    finally:
        for task in serving:
            task.cancel()
        await asyncio.gather(*serving, return_exceptions=True)
        if server is not None:
            await server.stop()
    if transport.startswith("asgi"):  # every client that sent ran and ended its app's lifespan
        assert all(proxy.lifespan in ([], ["startup", "shutdown"]) for proxy in proxies)
        assert any(proxy.lifespan for proxy in proxies)


async def alive(client: AsyncMCPClient) -> None:
    """``ping``, or in MCP 2026-07-28 (which has none) ``server/discover``."""
    await client.initialize()
    if client.protocol_version == "2026-07-28":
        await client.discover()
    else:
        await client.ping()


async def test_handshake_and_transport(connect: Connect) -> None:
    async with connect() as client:
        info = await client.initialize()
        assert info.server_info.name == "mcp-async-demo"
        kind: str = connect.kind  # type: ignore[attr-defined]
        if era_of(kind) == "2026":
            assert client.protocol_version == "2026-07-28"
        else:
            assert client.protocol_version in ("2025-11-25", "2024-11-05")
        assert client.instructions is not None
        assert client.transport_kind == EXPECTED_KIND[transport_of(kind)]
        await alive(client)


async def test_tools(connect: Connect) -> None:
    async with connect(validate_output=True) as client:
        names = {tool.name for tool in await client.list_tools()}
        assert {"add", "echo", "slow", "weather", "fail", "sample", "confirm"} <= names
        added = await client.call_tool("add", {"a": 2, "b": 40})
        assert added.structured_content == {"result": 42}
        assert (await client.call_tool("echo", {"text": "héllo\nworld"})).text == "héllo\nworld"
        failed = await client.call_tool("fail")
        assert failed.is_error
        with pytest.raises(ToolError):
            await client.call_tool("fail", raise_on_error=True)
        with pytest.raises(JSONRPCError):
            await client.call_tool("no-such-tool")


async def test_concurrent_calls_each_get_their_own_result(connect: Connect) -> None:
    async with connect() as client:
        texts = [f"call {i}" for i in range(200)]
        results = await asyncio.gather(*(client.call_tool("echo", {"text": t}) for t in texts))
        assert [r.text for r in results] == texts


async def test_resources_prompts_completion_logging(connect: Connect) -> None:
    async with connect() as client:
        resources = await client.list_resources()
        assert any(r.uri == "demo://readme" for r in resources)
        readme = await client.read_resource("demo://readme")
        assert "mcp_async demo" in readme.contents[0].text  # type: ignore[union-attr]
        templates = await client.list_resource_templates()
        assert templates[0].uri_template == "demo://greeting/{name}"
        greeting = await client.read_resource("demo://greeting/Ada")
        assert greeting.contents[0].text == "Hello, Ada!"  # type: ignore[union-attr]
        prompts = await client.list_prompts()
        assert any(p.name == "review_code" for p in prompts)
        rendered = await client.get_prompt("review_code", {"code": "x = 1"})
        assert rendered.messages
        completion = await client.complete(
            {"type": "ref/prompt", "name": "review_code"}, ("language", "py")
        )
        assert "python" in completion.values
        await client.set_logging_level("info")


def needs_server_messages(connect: Connect) -> None:
    if transport_of(connect.kind) == "streamable-http-json":  # type: ignore[attr-defined]
        pytest.skip("a JSON reply carries only the response: no messages from a tool call")


async def test_notifications_reach_the_logging_handler(connect: Connect) -> None:
    needs_server_messages(connect)
    logged: list[LoggingMessage] = []
    async with connect(logging_handler=logged.append) as client:
        await client.set_logging_level("debug")
        await client.call_tool("log_message", {"level": "warning", "text": "careful"})
        for _ in range(50):
            if logged:
                break
            await asyncio.sleep(0.01)
    assert [m.data for m in logged] == ["careful"]
    assert logged[0].level == "warning"


async def test_progress(connect: Connect) -> None:
    needs_server_messages(connect)
    seen: list[ProgressNotification] = []
    async with connect() as client:
        result = await client.call_tool("slow", {"seconds": 0.2}, progress=seen.append)
    assert result.text == "slept 0.2 s"
    assert [p.progress for p in seen] == [1, 2, 3, 4]


async def test_server_requests_sampling_elicitation_roots(connect: Connect) -> None:
    needs_server_messages(connect)

    async def sampler(request: SamplingRequest) -> SamplingResult:
        return SamplingResult(role="assistant", content={"type": "text", "text": "sampled!"},
                              model="m")

    def elicit(request: ElicitationRequest) -> dict[str, Any]:
        return {"action": "accept", "content": {"confirm": True}}

    async with connect(sampling_handler=sampler, elicitation_handler=elicit,
                       roots=["file:///work/project"]) as client:
        assert (await client.call_tool("sample", {"prompt": "hi"})).text == "sampled!"
        confirmed = await client.call_tool("confirm", {"question": "sure?"})
        assert confirmed.structured_content == {"action": "accept", "answer": {"confirm": True}}
        roots = await client.call_tool("list_roots")
        assert roots.structured_content == {"roots": [{"uri": "file:///work/project"}]}


async def test_timeout_then_the_client_still_works(connect: Connect) -> None:
    async with connect() as client:
        with pytest.raises(ReadTimeout):
            await client.call_tool("slow", {"seconds": 5}, timeout=0.2)
        assert (await client.call_tool("echo", {"text": "ok"})).text == "ok"


async def test_cancelling_a_call_leaves_the_client_usable(connect: Connect) -> None:
    async with connect() as client:
        await alive(client)
        call = asyncio.ensure_future(client.call_tool("slow", {"seconds": 5}))
        await asyncio.sleep(0.1)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        assert (await client.call_tool("echo", {"text": "after"})).text == "after"


async def test_reset_timeout_on_progress(connect: Connect) -> None:
    needs_server_messages(connect)
    async with connect() as client:
        result = await client.call_tool(
            "slow", {"seconds": 0.6}, timeout=0.3, progress=lambda note: None,
            reset_timeout_on_progress=True,
        )
        assert result.text == "slept 0.6 s"


async def test_tool_schemas_for_model_apis(connect: Connect) -> None:
    async with connect() as client:
        openai = await client.tool_schemas("openai")
        anthropic = await client.tool_schemas("anthropic")
    add = next(t for t in openai if t["function"]["name"] == "add")
    assert add["type"] == "function"
    assert add["function"]["parameters"]["properties"].keys() == {"a", "b"}
    assert {t["name"] for t in anthropic} >= {"add", "echo"}
    assert all("input_schema" in t for t in anthropic)
