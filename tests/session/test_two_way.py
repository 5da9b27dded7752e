"""Two-way MCP against the project's loopback server: server requests, notifications,
the GET stream, stream resumption, progress-aware timeouts and cancellation."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from mcp_async import (
    AsyncMCPClient,
    ClientStateError,
    ConfigError,
    HTTPStatusError,
    JSONRPCError,
    ReadTimeout,
    UnexpectedResponseError,
)
from mcp_async.protocol.models import ProgressNotification, Root
from mcp_async.protocol.sse import encode_event
from mcp_async.session.elicitation import accept_with_defaults
from mcp_async.session.handlers import (
    ElicitationRequest,
    ElicitationResult,
    SamplingRequest,
    SamplingResult,
    ToolUseContent,
)
from mcp_async.testing import Fault, MCPTestServer, RequestFailed, ToolContext, demo_server
from mcp_async.transports.http.sse_streams import ReconnectPolicy

FAST = ReconnectPolicy(max_attempts=2, initial_delay=0.01, max_delay=0.05)

FORM = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "color": {"type": "string", "enum": ["red", "blue"], "default": "blue"},
        "count": {"type": "integer", "default": 3},
        "tags": {"type": "array", "items": {"type": "string"}, "default": ["a"]},
    },
    "required": ["name"],
}


def _server(**kw: Any) -> MCPTestServer:
    server = demo_server(**kw)

    @server.tool
    async def sample(text: str, ctx: ToolContext) -> str:
        """Ask the client's LLM."""
        result = await ctx.create_message(
            text,
            systemPrompt="be brief",
            tools=[{"name": "lookup", "inputSchema": {"type": "object"}}],
            toolChoice={"mode": "auto"},
        )
        return json.dumps(result)

    @server.tool
    async def ask(ctx: ToolContext) -> str:
        """Ask the user to fill in a form."""
        return json.dumps(await ctx.elicit("Who are you?", FORM))

    @server.tool
    async def visit(ctx: ToolContext) -> str:
        """Send the user to a URL, then report it done."""
        params = {"mode": "url", "message": "Log in", "url": "https://example.com/login",
                  "elicitationId": "e-1"}
        result = await ctx.request("elicitation/create", params)
        await ctx.notify("notifications/elicitation/complete", {"elicitationId": "unknown"})
        await ctx.notify("notifications/elicitation/complete", {"elicitationId": "e-1"})
        await ctx.notify("notifications/elicitation/complete", {"elicitationId": "e-1"})
        return str(result["action"])

    @server.tool
    async def roots(ctx: ToolContext) -> str:
        """List the client's roots."""
        return json.dumps([root["uri"] for root in await ctx.list_roots()])

    @server.tool
    async def raw(method: str, ctx: ToolContext) -> str:
        """Send any request to the client; report the answer or the error code."""
        try:
            return json.dumps(await ctx.request(method, {}))
        except RequestFailed as exc:
            return f"error {exc.code}: {exc.message}"

    @server.tool
    async def ticking(ticks: int, every: float, ctx: ToolContext) -> str:
        """Report progress ``ticks`` times, ``every`` seconds apart."""
        for i in range(ticks):
            await asyncio.sleep(every)
            await ctx.report_progress(i + 1, ticks)
        return "ticked"

    return server


@pytest.fixture
async def sse_server() -> AsyncIterator[MCPTestServer]:
    async with _server(reply="sse", get_stream=True, resumable=True) as server:
        yield server


@pytest.fixture
async def json_server() -> AsyncIterator[MCPTestServer]:
    async with _server(reply="json", get_stream=True) as server:
        yield server


async def _until(predicate: Any, timeout: float = 2.0) -> None:
    for _ in range(int(timeout / 0.005)):
        if predicate():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("condition not met in time")


def _initialize_params(server: MCPTestServer) -> dict[str, Any]:
    return next(p for m, p in server.stats.received if m == "initialize")


def _sent(server: MCPTestServer, method: str) -> list[dict[str, Any]]:
    return [p for m, p in server.stats.received if m == method]


# ---- capabilities --------------------------------------------------------------------------


async def test_capabilities_are_declared_only_for_handlers_given(
    json_server: MCPTestServer,
) -> None:
    async with AsyncMCPClient(json_server.url) as client:
        await client.initialize()
    assert _initialize_params(json_server)["capabilities"] == {}

    json_server.stats.reset()

    async def sample(request: SamplingRequest) -> SamplingResult:
        return SamplingResult("x", model="m")

    async with AsyncMCPClient(
        json_server.url, sampling_handler=sample, sampling_tools=True,
        elicitation_handler=accept_with_defaults, roots=["file:///tmp"],
        capabilities={"experimental": {"x": {}}},
    ) as client:
        await client.initialize()
    assert _initialize_params(json_server)["capabilities"] == {
        "sampling": {"tools": {}},
        "elicitation": {"form": {}, "url": {}},
        "roots": {"listChanged": True},
        "experimental": {"x": {}},
    }


async def test_bad_configuration_is_refused() -> None:
    url = "http://127.0.0.1:9/mcp"
    with pytest.raises(ConfigError, match="file://"):
        AsyncMCPClient(url, roots=["/tmp"])
    with pytest.raises(ConfigError, match="sampling_handler"):
        AsyncMCPClient(url, sampling_handler="nope")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="max_concurrent_handlers"):
        AsyncMCPClient(url, max_concurrent_handlers=0)
    with pytest.raises(ConfigError, match="max_attempts"):
        ReconnectPolicy(max_attempts=-1)
    with pytest.raises(ConfigError, match="reconnect"):
        AsyncMCPClient(url, reconnect=3)  # type: ignore[arg-type]
    async with AsyncMCPClient(url) as client:
        with pytest.raises(ConfigError, match="max_total_timeout"):
            await client.call_tool("x", max_total_timeout=-1)
        with pytest.raises(ClientStateError, match="roots"):
            await client.notify_roots_changed()


# ---- the GET stream --------------------------------------------------------------------------


async def test_get_stream_opens_after_handshake_and_closes_with_client(
    json_server: MCPTestServer,
) -> None:
    async with AsyncMCPClient(json_server.url, listen=True) as client:
        await client.initialize()
        assert json_server.stats.get_streams == 1
        assert client.listening
    await _until(lambda: not json_server.session_ids)


async def test_405_means_no_get_stream_and_no_retries() -> None:
    async with demo_server(reply="json") as server:
        async with AsyncMCPClient(server.url, reconnect=FAST) as client:
            await client.initialize()
            await asyncio.sleep(0.1)
            assert not client.listening
            assert (await client.call_tool("echo", {"text": "hi"})).text == "hi"
        assert server.stats.get_streams == 0
        assert server.stats.connections == 1  # the 405 came back before the first call


async def test_no_get_stream_without_a_session() -> None:
    async with (
        demo_server(reply="json", stateful=False, get_stream=True) as server,
        AsyncMCPClient(server.url, listen=True) as client,
    ):
        await client.initialize()
        assert not client.listening
    async with demo_server(reply="json", get_stream=True) as server:
        async with AsyncMCPClient(server.url, listen=False) as client:
            await client.initialize()
        assert server.stats.get_streams == 0


async def test_server_requests_and_notifications_on_the_get_stream(
    json_server: MCPTestServer,
) -> None:
    seen: list[Any] = []

    async def sample(request: SamplingRequest) -> SamplingResult:
        return SamplingResult(f"echo: {request.messages[0].text}", model="m")

    async with AsyncMCPClient(
        json_server.url,
        sampling_handler=sample,
        tools_list_changed_handler=lambda: seen.append("tools"),
        resources_list_changed_handler=lambda: seen.append("resources"),
        prompts_list_changed_handler=lambda: seen.append("prompts"),
        resource_updated_handler=lambda uri: seen.append(uri),
        on_notification=lambda method, params: seen.append(method),
    ) as client:
        await client.list_tools()
        assert client._catalogue.tools is not None
        params = {"messages": [{"role": "user", "content": {"type": "text", "text": "hi"}}],
                  "maxTokens": 5}
        result = await json_server.request("sampling/createMessage", params)
        assert result == {"role": "assistant", "content": {"type": "text", "text": "echo: hi"},
                          "model": "m"}
        assert await json_server.request("ping") == {}
        for kind in ("tools", "resources", "prompts"):
            assert await json_server.notify(f"notifications/{kind}/list_changed") == 1
        await json_server.notify("notifications/resources/updated", {"uri": "demo://readme"})
        await _until(lambda: "demo://readme" in seen)
        assert client._catalogue.tools is None  # the shared tool cache was dropped
    assert seen == [
        "tools", "notifications/tools/list_changed",
        "resources", "notifications/resources/list_changed",
        "prompts", "notifications/prompts/list_changed",
        "demo://readme", "notifications/resources/updated",
    ]


async def test_get_stream_resumes_after_the_server_ends_it(json_server: MCPTestServer) -> None:
    updates: list[str] = []
    async with AsyncMCPClient(
        json_server.url, resource_updated_handler=updates.append, reconnect=FAST
    ) as client:
        await client.initialize()
        await json_server.notify("notifications/resources/updated", {"uri": "a://1"})
        await _until(lambda: updates == ["a://1"])
        assert json_server.end_get_streams(retry=20) == 1
        # Sent while the client is away: kept on the stream, replayed on reconnection.
        await json_server.notify("notifications/resources/updated", {"uri": "a://2"})
        await _until(lambda: updates == ["a://1", "a://2"])
        assert json_server.stats.resumptions == 1
        assert json_server.stats.get_streams == 1
        await _until(lambda: client.listening)


async def test_get_stream_gives_up_after_bounded_failures() -> None:
    gets = 0

    async def handle(request: web.Request) -> web.StreamResponse:
        nonlocal gets
        if request.method == "GET":
            gets += 1
            return web.Response(status=503)
        body = json.loads(await request.read())
        if "id" not in body:
            return web.Response(status=202)
        result = {"protocolVersion": "2025-11-25", "capabilities": {},
                  "serverInfo": {"name": "s", "version": "1"}}
        return web.json_response({"jsonrpc": "2.0", "id": body["id"], "result": result},
                                 headers={"Mcp-Session-Id": "abc"})

    app = web.Application()
    app.router.add_route("*", "/mcp", handle)
    async with TestServer(app, host="127.0.0.1") as server:
        url = str(server.make_url("/mcp"))
        async with AsyncMCPClient(url, reconnect=FAST, listen=True) as client:
            await client.initialize()
            await _until(lambda: gets == FAST.max_attempts + 1)
            await asyncio.sleep(0.2)
            assert gets == FAST.max_attempts + 1


# ---- server requests on a reply stream ------------------------------------------------------


async def test_sampling_with_tools_on_the_reply_stream(sse_server: MCPTestServer) -> None:
    got: list[SamplingRequest] = []

    async def sample(request: SamplingRequest) -> SamplingResult:
        got.append(request)
        return SamplingResult(
            [ToolUseContent(id="t1", name="lookup", input={"q": request.messages[0].text})],
            model="m", stop_reason="toolUse",
        )

    async with AsyncMCPClient(sse_server.url, sampling_handler=sample, sampling_tools=True) as c:
        result = json.loads((await c.call_tool("sample", {"text": "hello"})).text)
    assert result == {
        "role": "assistant", "model": "m", "stopReason": "toolUse",
        "content": {"type": "tool_use", "id": "t1", "name": "lookup", "input": {"q": "hello"}},
    }
    (request,) = got
    assert request.system_prompt == "be brief" and request.max_tokens == 100
    assert [tool.name for tool in request.tools] == ["lookup"]
    assert request.tool_choice == "auto"


async def test_sampling_tools_without_the_capability_are_refused(
    sse_server: MCPTestServer,
) -> None:
    called = False

    async def sample(request: SamplingRequest) -> SamplingResult:
        nonlocal called
        called = True
        return SamplingResult("x", model="m")

    async with AsyncMCPClient(sse_server.url, sampling_handler=sample) as client:
        result = await client.call_tool("sample", {"text": "hello"})
    assert result.is_error and "sampling.tools" in result.text
    assert not called


@pytest.mark.parametrize("reply", ["json", "sse"])
async def test_elicitation_form_fills_omitted_fields_from_defaults(reply: Any) -> None:
    async def ask(request: ElicitationRequest) -> ElicitationResult:
        assert request.mode == "form" and request.required == ("name",)
        return ElicitationResult.accept({"name": "Ada", "count": 7, "tags": None})

    async with _server(reply=reply, get_stream=True) as server:
        async with AsyncMCPClient(server.url, elicitation_handler=ask) as client:
            answer = json.loads((await client.call_tool("ask")).text)
            assert answer == {"action": "accept",
                              "content": {"name": "Ada", "color": "blue", "count": 7}}
        async with AsyncMCPClient(server.url, elicitation_handler=accept_with_defaults) as client:
            # "name" is required and has no default: the helper declines.
            assert json.loads((await client.call_tool("ask")).text) == {"action": "decline"}


async def test_url_elicitation_and_its_completion(sse_server: MCPTestServer) -> None:
    completed: list[str] = []

    async def consent(request: ElicitationRequest) -> ElicitationResult:
        assert request.mode == "url" and request.url == "https://example.com/login"
        return ElicitationResult.accept()

    async with AsyncMCPClient(
        sse_server.url, elicitation_handler=consent, elicitation_complete_handler=completed.append
    ) as client:
        assert (await client.call_tool("visit")).text == "accept"
    assert completed == ["e-1"]  # the unknown id and the repeat are ignored


async def test_roots_list_callable_and_list_changed(sse_server: MCPTestServer) -> None:
    current = [Root("file:///a", name="a")]
    async with AsyncMCPClient(sse_server.url, roots=lambda: current) as client:
        assert json.loads((await client.call_tool("roots")).text) == ["file:///a"]
        current = [Root("file:///b")]
        await client.notify_roots_changed()
        assert json.loads((await client.call_tool("roots")).text) == ["file:///b"]
    assert sse_server.stats.by_method["notifications/roots/list_changed"] == 1


async def test_ping_unknown_methods_and_failing_handlers(sse_server: MCPTestServer) -> None:
    async def sample(request: SamplingRequest) -> SamplingResult:
        raise JSONRPCError(-1, "user rejected sampling")

    async def broken(request: ElicitationRequest) -> ElicitationResult:
        raise RuntimeError("handler bug")

    async with AsyncMCPClient(
        sse_server.url, sampling_handler=sample, elicitation_handler=broken
    ) as client:
        assert (await client.call_tool("raw", {"method": "ping"})).text == "{}"
        assert (await client.call_tool("raw", {"method": "roots/list"})).text.startswith(
            "error -32601"
        )
        text = (await client.call_tool("raw", {"method": "sampling/createMessage"})).text
        assert text.startswith("error -32602")  # params lack messages/maxTokens
        params = {"messages": [], "maxTokens": 1}
        with pytest.raises(RequestFailed) as failed:
            await sse_server.request("sampling/createMessage", params)
        assert (failed.value.code, failed.value.message) == (-1, "user rejected sampling")
        with pytest.raises(RequestFailed) as failed:
            await sse_server.request("elicitation/create", {"message": "m", "requestedSchema": {}})
        assert failed.value.code == -32603 and "handler bug" in failed.value.message
        assert (await client.call_tool("echo", {"text": "still up"})).text == "still up"


# ---- concurrency and cancellation of handlers -------------------------------------------------


async def test_slow_handler_does_not_block_other_calls(sse_server: MCPTestServer) -> None:
    release = asyncio.Event()

    async def sample(request: SamplingRequest) -> SamplingResult:
        await release.wait()
        return SamplingResult("late", model="m")

    async with AsyncMCPClient(
        sse_server.url, sampling_handler=sample, sampling_tools=True
    ) as client:
        slow = asyncio.ensure_future(client.call_tool("sample", {"text": "x"}))
        await _until(lambda: client._dispatcher.handlers_running == 1)
        for i in range(5):
            assert (await client.call_tool("echo", {"text": str(i)})).text == str(i)
        assert not slow.done()
        release.set()
        assert "late" in (await slow).text


async def test_handlers_are_bounded_and_excess_is_refused(json_server: MCPTestServer) -> None:
    running = peak = 0
    gate = asyncio.Event()

    async def sample(request: SamplingRequest) -> SamplingResult:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await gate.wait()
        running -= 1
        return SamplingResult("ok", model="m")

    params = {"messages": [], "maxTokens": 1}
    async with AsyncMCPClient(
        json_server.url, sampling_handler=sample, max_concurrent_handlers=2
    ) as client:
        await client.initialize()
        calls = [asyncio.ensure_future(json_server.request("sampling/createMessage", params))
                 for _ in range(4)]
        await _until(lambda: client._dispatcher.handlers_running == 4)
        with pytest.raises(RequestFailed, match="busy"):
            await json_server.request("sampling/createMessage", params)
        assert peak == 2
        gate.set()
        results = await asyncio.gather(*calls)
        assert [r["content"]["text"] for r in results] == ["ok"] * 4
        assert peak == 2


async def test_server_cancellation_cancels_the_handler(json_server: MCPTestServer) -> None:
    started = asyncio.Event()
    cancelled = asyncio.Event()

    async def sample(request: SamplingRequest) -> SamplingResult:
        started.set()
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return SamplingResult("never", model="m")

    async with AsyncMCPClient(json_server.url, sampling_handler=sample) as client:
        await client.initialize()
        with pytest.raises(TimeoutError):
            await json_server.request("sampling/createMessage", {"messages": [], "maxTokens": 1},
                                      timeout=0.2)
        await asyncio.wait_for(cancelled.wait(), 2)
        assert started.is_set()
        # No fixed sleep: wait until the handler is gone (a reply would be sent before that),
        # then for a round trip the server answers, which it counts after any earlier POST.
        await _until(lambda: client._dispatcher.handlers_running == 0)
        requests = json_server.stats.requests
        await client.ping()
        await _until(lambda: json_server.stats.requests >= requests + 1)
        assert json_server.stats.replies == 0  # a cancelled request gets no answer


async def test_close_cancels_running_handlers(json_server: MCPTestServer) -> None:
    async def sample(request: SamplingRequest) -> SamplingResult:
        await asyncio.sleep(30)
        return SamplingResult("never", model="m")

    client = AsyncMCPClient(json_server.url, sampling_handler=sample)
    await client.open()
    await client.initialize()
    pending = asyncio.ensure_future(
        json_server.request("sampling/createMessage", {"messages": [], "maxTokens": 1})
    )
    await _until(lambda: client._dispatcher.handlers_running == 1)
    async with asyncio.timeout(2):
        await client.aclose()
    pending.cancel()
    assert client._dispatcher.handlers_running == 0


# ---- progress, timeouts, cancellation ---------------------------------------------------------


async def test_timeout_resets_on_progress(sse_server: MCPTestServer) -> None:
    seen: list[ProgressNotification] = []
    async with AsyncMCPClient(sse_server.url) as client:
        # Gaps of 0.05 s against a 0.3 s timeout leave room for a busy machine.
        result = await client.call_tool(
            "ticking", {"ticks": 8, "every": 0.05}, timeout=0.3,
            reset_timeout_on_progress=True, progress=seen.append,
        )
        assert result.text == "ticked"
        assert [p.progress for p in seen] == [1, 2, 3, 4, 5, 6, 7, 8]
        # Without the reset the same kind of job runs past the timeout.
        with pytest.raises(ReadTimeout, match="nothing was heard"):
            await client.call_tool("ticking", {"ticks": 12, "every": 0.05}, timeout=0.3,
                                   max_total_timeout=5)
        with pytest.raises(ReadTimeout, match="max_total_timeout"):
            await client.call_tool("ticking", {"ticks": 20, "every": 0.05}, timeout=0.3,
                                   reset_timeout_on_progress=True, max_total_timeout=0.5)
        await _until(lambda: sse_server.stats.cancelled == 2)
        assert len(_sent(sse_server, "notifications/cancelled")) == 2
        assert (await client.call_tool("echo", {"text": "ok"})).text == "ok"


async def test_task_cancellation_sends_cancelled_and_spares_others(
    sse_server: MCPTestServer,
) -> None:
    async with AsyncMCPClient(sse_server.url) as client:
        await client.initialize()
        victim = asyncio.ensure_future(client.call_tool("slow", {"seconds": 5}))
        other = asyncio.ensure_future(client.call_tool("slow", {"seconds": 0.2}))
        await _until(lambda: sse_server.stats.in_flight == 2)
        victim.cancel()
        with pytest.raises(asyncio.CancelledError):
            await victim
        assert (await other).text == "slept 0.2 s"
        await _until(lambda: bool(_sent(sse_server, "notifications/cancelled")))
        (cancel,) = _sent(sse_server, "notifications/cancelled")
        assert isinstance(cancel["requestId"], int)
        await _until(lambda: sse_server.stats.cancelled == 1)
        assert sse_server.stats.in_flight == 0


# ---- resumption -------------------------------------------------------------------------------


@pytest.mark.parametrize("cut", [Fault.break_stream, Fault.end_stream], ids=["break", "end"])
@pytest.mark.parametrize("retry", [30, None], ids=["retry", "backoff"])
async def test_reply_stream_cut_then_resumed(
    sse_server: MCPTestServer, cut: Any, retry: int | None
) -> None:
    seen: list[float] = []
    sse_server.faults.add(cut(1, retry=retry, method="tools/call", times=1))
    async with AsyncMCPClient(sse_server.url, reconnect=FAST) as client:
        result = await client.call_tool(
            "ticking", {"ticks": 4, "every": 0.02}, progress=lambda p: seen.append(p.progress)
        )
        assert result.text == "ticked"
    assert seen == [1, 2, 3, 4]  # nothing lost, nothing twice
    assert sse_server.stats.resumptions >= 1
    assert sse_server.stats.by_method["tools/call"] == 1


async def test_priming_event_alone_is_enough_to_resume(sse_server: MCPTestServer) -> None:
    sse_server.faults.add(Fault.break_stream(0, retry=10, method="tools/call", times=1))
    async with AsyncMCPClient(sse_server.url, reconnect=FAST) as client:
        assert (await client.call_tool("echo", {"text": "back"})).text == "back"
    (last_id,) = sse_server.stats.last_event_ids
    assert last_id.isdigit()


async def test_cut_without_event_id_cannot_resume() -> None:
    async with demo_server(reply="sse") as server:
        server.faults.add(Fault.cut_stream(method="tools/call", times=1))
        async with AsyncMCPClient(server.url, reconnect=FAST) as client:
            with pytest.raises(UnexpectedResponseError, match="no event id"):
                await client.call_tool("echo", {"text": "x"})
        assert server.stats.resumptions == 0


async def test_server_without_resumption_fails_fast() -> None:
    async with demo_server(reply="sse") as server:
        server.faults.add(Fault.end_stream(0, retry=10, method="tools/call", times=1))
        async with AsyncMCPClient(server.url, reconnect=FAST) as client:
            with pytest.raises(HTTPStatusError) as failed:
                await client.call_tool("echo", {"text": "x"})
            assert failed.value.status == 405
            await _until(lambda: server.stats.by_method["notifications/cancelled"] == 1)
            assert (await client.call_tool("echo", {"text": "y"})).text == "y"


async def test_resumed_request_times_out_and_is_cancelled(sse_server: MCPTestServer) -> None:
    sse_server.faults.add(Fault.end_stream(0, retry=10, method="tools/call", times=1))
    async with AsyncMCPClient(sse_server.url, reconnect=FAST) as client:
        with pytest.raises(ReadTimeout, match="resumed"):
            await client.call_tool("slow", {"seconds": 2}, timeout=0.3)
        await _until(lambda: sse_server.stats.cancelled == 1)


@pytest.mark.parametrize("when", ["before-break", "after-failed-resume"])
async def test_response_on_the_get_stream_completes_a_broken_request(when: str) -> None:
    """The reply stream breaks, resuming is refused (503), and the response comes on the
    standalone GET stream instead: before the client noticed the break, or while it
    waits to retry."""
    get_stream: asyncio.Queue[bytes] = asyncio.Queue()
    resumes = 0
    reply: dict[str, Any] = {}

    def send_reply() -> None:
        get_stream.put_nowait(encode_event(json.dumps(reply), event="message"))

    async def handle(request: web.Request) -> web.StreamResponse:
        nonlocal resumes
        headers = {"Mcp-Session-Id": "s1"}
        if request.method == "DELETE":
            return web.Response(status=200)
        if request.method == "GET":
            if "Last-Event-ID" in request.headers:
                resumes += 1
                if when == "after-failed-resume":
                    send_reply()
                return web.Response(status=503)
            response = web.StreamResponse(headers=headers)
            response.content_type = "text/event-stream"
            await response.prepare(request)
            while True:
                await response.write(await get_stream.get())
        body = json.loads(await request.read())
        if "id" not in body:
            return web.Response(status=202)
        if body["method"] == "initialize":
            result = {"protocolVersion": "2025-11-25", "capabilities": {},
                      "serverInfo": {"name": "s", "version": "1"}}
            return web.json_response({"jsonrpc": "2.0", "id": body["id"], "result": result},
                                     headers=headers)
        response = web.StreamResponse(headers=headers)
        response.content_type = "text/event-stream"
        await response.prepare(request)
        await response.write(encode_event("", id="p1", retry=300))
        reply.update({"jsonrpc": "2.0", "id": body["id"], "result": {"content": [
            {"type": "text", "text": "via GET"}]}})
        if when == "before-break":
            send_reply()
            await asyncio.sleep(0.1)
        assert request.transport is not None
        request.transport.close()
        return response

    app = web.Application()
    app.router.add_route("*", "/mcp", handle)
    async with TestServer(app, host="127.0.0.1") as server:
        url = str(server.make_url("/mcp"))
        # A handshake-era server (resumption and the GET stream are gone in 2026-07-28).
        async with AsyncMCPClient(url, reconnect=FAST, protocol="legacy", listen=True) as client:
            assert (await client.call_tool("anything")).text == "via GET"
        assert resumes == (0 if when == "before-break" else 1)


async def test_call_tool_checks_its_arguments_before_connecting() -> None:
    async with AsyncMCPClient("http://127.0.0.1:9/mcp") as client:  # nothing listens there
        with pytest.raises(ConfigError, match="timeout"):
            await client.call_tool("x", timeout="soon")  # type: ignore[arg-type]
        with pytest.raises(ConfigError, match="arguments"):
            await client.call_tool("x", [1])  # type: ignore[arg-type]
        with pytest.raises(ConfigError, match="request_state"):
            await client.call_tool("x", request_state=5)  # type: ignore[arg-type]
