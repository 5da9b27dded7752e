"""The protocol era on the in-memory transport: the ``server/discover`` probe and its
fallbacks, the 2026-07-28 request envelope, and the input-round (MRTR) driver.

A scripted server on the :class:`MemoryPeer` acts modern-only, dual-era, legacy or
silent-legacy (ignores ``server/discover``) and records every message it receives;
tests override single methods with handlers of their own.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from mcp_async import (
    AsyncMCPClient,
    ClientStateError,
    ConnectionLostError,
    EraError,
    HeaderMismatchError,
    InputRequestError,
    InputRoundsExceededError,
    MissingClientCapabilityError,
    ReadTimeout,
    UnexpectedResponseError,
    UnknownResultTypeError,
    UnsupportedProtocolVersionError,
)
from mcp_async.protocol import modern
from mcp_async.protocol.jsonrpc import ErrorResponse, Notification, Request, Response
from mcp_async.protocol.models import (
    CallToolResult,
    DiscoverResult,
    GetPromptResult,
    InputRequiredResult,
    ProgressNotification,
    ReadResourceResult,
)
from mcp_async.session.handlers import (
    ElicitationRequest,
    ElicitationResult,
    SamplingRequest,
    SamplingResult,
)
from mcp_async.transports.memory import MemoryPeer, memory_pair
from tests.scripted import ScriptedServer, scripted_session

MODERN = "2026-07-28"
HANDSHAKE = "2025-11-25"
VERSION = "io.modelcontextprotocol/protocolVersion"
CAPS = "io.modelcontextprotocol/clientCapabilities"
INFO = "io.modelcontextprotocol/clientInfo"
LOG_LEVEL = "io.modelcontextprotocol/logLevel"
SERVER_INFO = "io.modelcontextprotocol/serverInfo"

Handler = Callable[[Request, "Server"], Awaitable[None]]

TOOL = {"name": "t", "inputSchema": {"type": "object"}}
RESULTS: dict[str, dict[str, Any]] = {
    "tools/list": {"tools": [TOOL]},
    "tools/call": {"content": [{"type": "text", "text": "done"}]},
    "prompts/get": {"messages": [{"role": "user", "content": {"type": "text", "text": "p"}}]},
    "resources/read": {"contents": [{"uri": "file:///r", "text": "r"}]},
    "resources/list": {"resources": []},
    "prompts/list": {"prompts": []},
}


def discover_result(versions: list[str]) -> dict[str, Any]:
    return {
        "resultType": "complete",
        "supportedVersions": versions,
        "capabilities": {"tools": {"listChanged": True}, "logging": {}},
        "instructions": "use the tools wisely",
        "ttlMs": 60000,
        "cacheScope": "public",
        "_meta": {SERVER_INFO: {"name": "modern-server", "version": "9.9"}},
    }


class Server(ScriptedServer):
    """A scripted MCP server on the memory peer.

    ``era``: ``"modern"`` (answers discover; refuses initialize with -32022),
    ``"dual"`` (answers both), ``"legacy"`` (-32601 to discover) or ``"silent"`` (a
    legacy server that never answers discover). ``handlers`` override single methods.
    """

    def __init__(self, peer: MemoryPeer, era: str, handlers: dict[str, Handler]) -> None:
        super().__init__(peer)
        self.era = era
        self.handlers = handlers

    async def answer(self, request: Request) -> None:
        handler = self.handlers.get(request.method)
        if handler is not None:
            await handler(request, self)
        elif request.method == "server/discover":
            if self.era == "modern":
                await self.reply(request, discover_result([MODERN]))
            elif self.era == "dual":
                await self.reply(request, discover_result([MODERN, HANDSHAKE]))
            elif self.era == "legacy":
                await self.error(request, -32601, "Method not found: server/discover")
            # "silent": a legacy server that ignores what it does not know
        elif request.method == "initialize":
            if self.era == "modern":
                await self.error(request, -32022, "unsupported protocol version",
                                 {"supported": [MODERN], "requested": HANDSHAKE})
            else:
                assert request.params is not None
                await self.reply(request, {
                    "protocolVersion": request.params["protocolVersion"],
                    "capabilities": {"tools": {}},
                    "serverInfo": {"name": "legacy-server", "version": "1"},
                    "instructions": "legacy instructions",
                })
        else:
            await self.reply(request, RESULTS.get(request.method, {}))

    async def reply(self, request: Request, result: dict[str, Any]) -> None:
        await self.peer.send(Response(request.id, result))

    async def error(self, request: Request, code: int, message: str, data: Any = None) -> None:
        await self.peer.send(ErrorResponse(request.id, code, message, data))

    async def progress(self, request: Request, value: float) -> None:
        token = meta(request)["progressToken"]
        await self.peer.send(Notification("notifications/progress",
                                          {"progressToken": token, "progress": value}))

    def methods(self) -> list[str]:
        return [m.method for m in self.seen if isinstance(m, Request | Notification)]

    def notifications(self, method: str) -> list[Notification]:
        return [m for m in self.seen if isinstance(m, Notification) and m.method == method]


def meta(request: Request) -> dict[str, Any]:
    assert request.params is not None
    found = request.params.get("_meta")
    assert isinstance(found, dict)
    return found


@contextlib.asynccontextmanager
async def session(
    era: str = "modern", handlers: dict[str, Handler] | None = None, **options: Any
) -> AsyncIterator[tuple[AsyncMCPClient, Server]]:
    def make(peer: MemoryPeer) -> Server:
        return Server(peer, era, dict(handlers or {}))

    async with scripted_session(make, **options) as pair:
        yield pair


def input_required(requests: dict[str, Any] | None = None, state: str | None = None
                   ) -> dict[str, Any]:
    out: dict[str, Any] = {"resultType": "input_required"}
    if requests is not None:
        out["inputRequests"] = requests
    if state is not None:
        out["requestState"] = state
    return out


ELICIT = {"method": "elicitation/create", "params": {
    "mode": "form", "message": "Your name?",
    "requestedSchema": {"type": "object", "properties": {"name": {"type": "string"}}},
}}
SAMPLE = {"method": "sampling/createMessage", "params": {
    "messages": [{"role": "user", "content": {"type": "text", "text": "hi"}}], "maxTokens": 10,
}}
ROOTS = {"method": "roots/list", "params": {}}
ELICIT_ANSWER = {"action": "accept", "content": {"name": "Ada"}}


async def elicit_ada(request: ElicitationRequest) -> ElicitationResult:
    return ElicitationResult.accept({"name": "Ada"})


async def sample_hello(request: SamplingRequest) -> SamplingResult:
    return SamplingResult(content="hello", model="test-model")


def rounds_tool(*interims: dict[str, Any], final: dict[str, Any] | None = None) -> Handler:
    """A handler answering its n-th request with ``interims[n]``, then ``final``."""
    count = 0

    async def handler(request: Request, server: Server) -> None:
        nonlocal count
        count += 1
        if count <= len(interims):
            await server.reply(request, interims[count - 1])
        else:
            await server.reply(request, final if final is not None else RESULTS[request.method])

    return handler


# -- the probe and the era verdict -------------------------------------------------------


@pytest.mark.parametrize("era", ["modern", "dual"])
async def test_auto_adopts_2026_against_a_modern_server_without_initialize(era: str) -> None:
    async with session(era) as (client, server):
        result = await client.call_tool("t", {"a": 1})
        assert result.text == "done"
        assert server.methods() == ["server/discover", "tools/call"]
        assert "initialize" not in server.methods()
        assert "notifications/initialized" not in server.methods()
        assert client.protocol_version == MODERN
        assert client.server_info.name == "modern-server"
        assert client.server_info.version == "9.9"
        assert client.server_capabilities.tools == {"listChanged": True}
        assert client.server_capabilities.logging == {}
        assert client.instructions == "use the tools wisely"
        init = await client.initialize()  # the discover result, in the handshake's shape
        assert init.protocol_version == MODERN
        assert init.server_info.name == "modern-server"
        assert server.methods().count("server/discover") == 1


@pytest.mark.parametrize(("era", "expected"), [("modern", MODERN), ("dual", MODERN),
                                               ("legacy", None)])
async def test_stateless_version_names_the_stateless_revision_in_use(
    era: str, expected: str | None,
) -> None:
    async with session(era) as (client, _server):
        assert client.stateless_version is None  # nothing negotiated yet
        await client.list_tools()
        assert client.stateless_version == expected


async def test_the_probe_carries_the_envelope_and_bare_capabilities() -> None:
    async with session("modern", elicitation_handler=elicit_ada, log_level="info",
                       client_info={"name": "tester", "version": "0.1"}) as (client, server):
        await client.list_tools()
    (probe,) = server.requests("server/discover")
    assert probe.params == {"_meta": {
        VERSION: MODERN, CAPS: {}, INFO: {"name": "tester", "version": "0.1"},
    }}


async def test_every_request_carries_the_envelope() -> None:
    roots = ["file:///work"]
    async with session("modern", elicitation_handler=elicit_ada, sampling_handler=sample_hello,
                       roots=roots, client_info={"name": "tester", "version": "0.1"}
                       ) as (client, server):
        await client.list_tools()
        await client.call_tool("t", {"a": 1})
        await client.get_prompt("p", {"x": "1"})
        await client.read_resource("file:///r")
        await client.list_resources()
        await client.list_prompts()
        await client.request("x/custom", {"k": "v"})
    full = {"sampling": {}, "elicitation": {"form": {}, "url": {}}, "roots": {}}
    info = {"name": "tester", "version": "0.1"}
    requests = server.requests()
    assert [r.method for r in requests] == [
        "server/discover", "tools/list", "tools/call", "prompts/get", "resources/read",
        "resources/list", "prompts/list", "x/custom",
    ]
    for request in requests:
        expected = full if request.method in ("tools/call", "prompts/get",
                                              "resources/read") else {}
        assert meta(request) == {VERSION: MODERN, CAPS: expected, INFO: info}, request.method
    by_method = {r.method: r.params for r in requests}
    assert by_method["tools/call"] is not None
    assert by_method["tools/call"]["arguments"] == {"a": 1}
    assert by_method["x/custom"] is not None and by_method["x/custom"]["k"] == "v"


async def test_capabilities_follow_the_handlers_given() -> None:
    async with session("modern", sampling_handler=sample_hello) as (client, server):
        await client.call_tool("t")
    assert meta(server.requests("tools/call")[0])[CAPS] == {"sampling": {}}
    async with session("modern") as (client, server):
        await client.call_tool("t")
    assert meta(server.requests("tools/call")[0])[CAPS] == {}
    async with session("modern", roots=lambda: ["file:///a"]) as (client, server):
        await client.read_resource("file:///r")
    assert meta(server.requests("resources/read")[0])[CAPS] == {"roots": {}}


async def test_the_default_client_info_is_sent() -> None:
    async with session("modern") as (client, server):
        await client.list_tools()
    info = meta(server.requests("tools/list")[0])[INFO]
    assert info["name"] == "mcp-async"
    assert isinstance(info["version"], str) and info["version"]


async def test_progress_token_goes_in_the_meta_next_to_the_envelope() -> None:
    seen: list[float] = []

    async def with_progress(request: Request, server: Server) -> None:
        await server.progress(request, 0.5)
        await server.reply(request, RESULTS["tools/call"])

    def on_progress(note: ProgressNotification) -> None:
        seen.append(note.progress)

    async with session("modern", {"tools/call": with_progress}) as (client, server):
        await client.call_tool("t", progress=on_progress, meta={"vendor/x": 1})
    (call,) = server.requests("tools/call")
    envelope = meta(call)
    assert envelope["progressToken"] == call.id
    assert envelope["vendor/x"] == 1
    assert envelope[VERSION] == MODERN
    assert CAPS in envelope and INFO in envelope
    assert seen == [0.5]


async def test_auto_falls_back_to_initialize_when_discover_is_unknown() -> None:
    async with session("legacy") as (client, server):
        tools = await client.list_tools()
        assert [t.name for t in tools] == ["t"]
        assert client.protocol_version == HANDSHAKE
        assert client.server_info.name == "legacy-server"
        assert client.instructions == "legacy instructions"
        with pytest.raises(EraError):
            await client.discover()
    assert server.methods() == [
        "server/discover", "initialize", "notifications/initialized", "tools/list",
    ]
    (initialize,) = server.requests("initialize")
    assert initialize.params is not None
    assert initialize.params["protocolVersion"] == HANDSHAKE
    (listing,) = server.requests("tools/list")
    assert not (listing.params or {}).get("_meta")  # no envelope in the handshake era


async def test_a_discover_result_with_only_handshake_versions_means_initialize() -> None:
    async def old_versions(request: Request, server: Server) -> None:
        await server.reply(request, discover_result([HANDSHAKE, "2025-06-18"]))

    async with session("dual", {"server/discover": old_versions}) as (client, server):
        await client.list_tools()
        assert client.protocol_version == HANDSHAKE
    assert server.methods()[:3] == ["server/discover", "initialize", "notifications/initialized"]


async def test_a_silent_legacy_server_is_handshaken_after_the_probe_times_out() -> None:
    loop = asyncio.get_running_loop()
    async with session("silent", timeout=0.2) as (client, server):
        start = loop.time()
        await client.list_tools()
        elapsed = loop.time() - start
        assert client.protocol_version == HANDSHAKE
        await asyncio.sleep(0.02)
    # The probe waits half the call's timeout; the handshake fits in the other half.
    assert 0.09 <= elapsed < 0.2 + 0.1
    assert server.methods() == [
        "server/discover", "initialize", "notifications/initialized", "tools/list",
    ]
    # The probe is never cancelled (it is part of settling the era).
    assert not server.notifications("notifications/cancelled")


async def test_unsupported_version_naming_a_mutual_version_reprobes_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A client that also speaks a (hypothetical) newer revision probes with it first.
    monkeypatch.setattr(modern, "MODERN_VERSIONS", ("2099-01-01", MODERN))

    async def discover(request: Request, server: Server) -> None:
        if meta(request)[VERSION] != MODERN:
            await server.error(request, -32022, "unsupported protocol version",
                               {"supported": [MODERN], "requested": meta(request)[VERSION]})
        else:
            await server.reply(request, discover_result([MODERN]))

    async with session("modern", {"server/discover": discover}) as (client, server):
        await client.list_tools()
        assert client.protocol_version == MODERN
        assert client.server_info.name == "modern-server"
    probes = server.requests("server/discover")
    assert [meta(p)[VERSION] for p in probes] == ["2099-01-01", MODERN]
    assert probes[0].id != probes[1].id
    assert "initialize" not in server.methods()
    assert meta(server.requests("tools/list")[0])[VERSION] == MODERN


async def test_unsupported_version_with_no_mutual_version_is_raised() -> None:
    async def discover(request: Request, server: Server) -> None:
        await server.error(request, -32022, "unsupported protocol version",
                           {"supported": ["2099-01-01"], "requested": MODERN})

    async with session("modern", {"server/discover": discover}) as (client, server):
        with pytest.raises(UnsupportedProtocolVersionError) as info:
            await client.list_tools()
        assert info.value.supported == ["2099-01-01"]
    assert server.methods() == ["server/discover"]


async def test_initialize_refused_with_unsupported_version_reprobes() -> None:
    # The first probe times out on the client (a slow server start), the fallback
    # initialize reaches a server that is modern after all, and names 2026-07-28.
    probes = 0

    async def slow_then_fine(request: Request, server: Server) -> None:
        nonlocal probes
        probes += 1
        if probes > 1:
            await server.reply(request, discover_result([MODERN]))

    async with session("modern", {"server/discover": slow_then_fine}, timeout=0.15
                       ) as (client, server):
        await client.list_tools()
        assert client.protocol_version == MODERN
        assert client.server_info.name == "modern-server"
    assert server.methods() == ["server/discover", "initialize", "server/discover", "tools/list"]


async def test_initialize_refused_after_a_refused_probe_reprobes() -> None:
    probes = 0

    async def refuse_then_fine(request: Request, server: Server) -> None:
        nonlocal probes
        probes += 1
        if probes == 1:
            await server.error(request, -32601, "method not found")
        else:
            await server.reply(request, discover_result([MODERN]))

    async with session("modern", {"server/discover": refuse_then_fine}) as (client, server):
        await client.list_tools()
        assert client.protocol_version == MODERN
    assert server.methods() == ["server/discover", "initialize", "server/discover", "tools/list"]


async def test_pinned_2026_sends_no_probe() -> None:
    async with session("modern", protocol=MODERN) as (client, server):
        await client.list_tools()
        assert server.methods() == ["tools/list"]
        assert meta(server.requests("tools/list")[0])[VERSION] == MODERN
        assert client.protocol_version == MODERN
        with pytest.raises(ClientStateError, match="discover"):
            _ = client.server_info
        with pytest.raises(ClientStateError, match="discover"):
            _ = client.server_capabilities
        with pytest.raises(ClientStateError, match="discover"):
            _ = client.instructions
        discovered = await client.discover()
        assert isinstance(discovered, DiscoverResult)
        assert discovered.supported_versions == (MODERN,)
        assert discovered.ttl_ms == 60000
        assert discovered.cache_scope == "public"
        assert client.server_info.name == "modern-server"
        assert client.instructions == "use the tools wisely"
        assert server.methods() == ["tools/list", "server/discover"]
        assert meta(server.requests("server/discover")[0])[CAPS] == {}


async def test_pinned_2026_initialize_discovers() -> None:
    async with session("modern", protocol=MODERN) as (client, server):
        result = await client.initialize()
        assert result.protocol_version == MODERN
        assert result.server_info.name == "modern-server"
        assert server.methods() == ["server/discover"]


async def test_legacy_never_probes() -> None:
    async with session("dual", protocol="legacy") as (client, server):
        await client.list_tools()
        await client.call_tool("t")
        assert client.protocol_version == HANDSHAKE
    assert "server/discover" not in server.methods()
    assert server.methods()[:2] == ["initialize", "notifications/initialized"]


async def test_a_pinned_handshake_version_is_offered_without_a_probe() -> None:
    async with session("dual", protocol="2025-06-18") as (client, server):
        await client.list_tools()
        assert client.protocol_version == "2025-06-18"
    assert "server/discover" not in server.methods()
    (initialize,) = server.requests("initialize")
    assert initialize.params is not None
    assert initialize.params["protocolVersion"] == "2025-06-18"


async def test_the_verdict_is_made_once_per_client() -> None:
    async with session("modern") as (client, server):
        await client.list_tools()
        await client.call_tool("t")
        await asyncio.gather(*(client.call_tool("t") for _ in range(5)))
    assert server.methods().count("server/discover") == 1

    async with session("modern") as (client, server):
        await asyncio.gather(*(client.list_tools() for _ in range(5)))
    assert server.methods().count("server/discover") == 1

    async with session("legacy") as (client, server):
        await client.list_tools()
        await client.list_tools()
    assert server.methods().count("server/discover") == 1
    assert server.methods().count("initialize") == 1


# -- results -----------------------------------------------------------------------------


@pytest.mark.parametrize("result_type", [None, "complete"])
async def test_a_missing_result_type_means_complete(result_type: str | None) -> None:
    result = {"content": [{"type": "text", "text": "fine"}]}
    if result_type is not None:
        result["resultType"] = result_type

    async def tool(request: Request, server: Server) -> None:
        await server.reply(request, result)

    async with session("modern", {"tools/call": tool}) as (client, server):
        assert (await client.call_tool("t")).text == "fine"
    assert server.methods().count("tools/call") == 1


async def test_an_unknown_result_type_raises_naming_it() -> None:
    async def task_result(request: Request, server: Server) -> None:
        await server.reply(request, {"resultType": "x-unheard-of", "handle": "42"})

    async with session("modern", {"tools/call": task_result}) as (client, server):
        with pytest.raises(UnknownResultTypeError) as info:
            await client.call_tool("t")
        assert info.value.result_type == "x-unheard-of"
        assert info.value.method == "tools/call"
        assert "'x-unheard-of'" in str(info.value)
        with pytest.raises(UnknownResultTypeError):
            await client.request("tools/call", {"name": "t"})
    assert server.methods().count("tools/call") == 2  # never retried


async def test_a_result_type_claimed_by_the_client_is_returned_raw() -> None:
    raw = {"resultType": "task", "task": {"taskId": "42"}}

    async def task_result(request: Request, server: Server) -> None:
        await server.reply(request, raw)

    async with session("modern", {"tools/call": task_result}, result_types=("task",)
                       ) as (client, _):
        assert await client.request("tools/call", {"name": "t"}) == raw


async def test_input_required_is_unknown_outside_the_input_methods() -> None:
    async def listing(request: Request, server: Server) -> None:
        await server.reply(request, input_required({"k": ELICIT}, "s"))

    async with session("modern", {"tools/list": listing},
                       elicitation_handler=elicit_ada) as (client, server):
        with pytest.raises(UnknownResultTypeError) as info:
            await client.request("tools/list")
        assert info.value.result_type == "input_required"
        assert info.value.method == "tools/list"
    assert server.methods().count("tools/list") == 1


async def test_result_type_is_not_interpreted_in_the_handshake_era() -> None:
    async def odd(request: Request, server: Server) -> None:
        await server.reply(request, {"resultType": "whatever", "x": 1})

    async with session("legacy", {"x/odd": odd}) as (client, _):
        assert await client.request("x/odd") == {"resultType": "whatever", "x": 1}


async def test_missing_client_capability_is_typed() -> None:
    async def refuse(request: Request, server: Server) -> None:
        await server.error(request, -32021, "missing capability",
                           {"requiredCapabilities": {"sampling": {}}})

    async with session("modern", {"tools/call": refuse}) as (client, _):
        with pytest.raises(MissingClientCapabilityError) as info:
            await client.call_tool("t")
        assert info.value.required_capabilities == {"sampling": {}}


async def test_header_mismatch_relists_tools_and_retries_once() -> None:
    calls = 0

    async def mismatch_once(request: Request, server: Server) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            await server.error(request, -32020, "header mismatch")
        else:
            await server.reply(request, RESULTS["tools/call"])

    async with session("modern", {"tools/call": mismatch_once}) as (client, server):
        assert (await client.call_tool("t", {"a": 1})).text == "done"
    assert server.methods() == ["server/discover", "tools/call", "tools/list", "tools/call"]
    first, second = server.requests("tools/call")
    assert first.id != second.id
    assert second.params is not None and second.params["arguments"] == {"a": 1}


async def test_header_mismatch_twice_is_raised() -> None:
    async def mismatch(request: Request, server: Server) -> None:
        await server.error(request, -32020, "header mismatch")

    async with session("modern", {"tools/call": mismatch}) as (client, server):
        with pytest.raises(HeaderMismatchError):
            await client.call_tool("t")
    assert server.methods().count("tools/call") == 2


async def test_tools_with_bad_header_annotations_are_kept_off_http() -> None:
    bad = {"name": "bad", "inputSchema": {"type": "object", "properties": {
        "x": {"type": "number", "x-mcp-header": "X"}}}}

    async def listing(request: Request, server: Server) -> None:
        await server.reply(request, {"tools": [TOOL, bad]})

    async with session("modern", {"tools/list": listing}) as (client, _):
        assert [t.name for t in await client.list_tools()] == ["t", "bad"]


# -- methods the stateless era does not have ---------------------------------------------


@pytest.mark.parametrize("pinned", [False, True])
async def test_ping_and_subscriptions_raise_era_errors(pinned: bool) -> None:
    options = {"protocol": MODERN} if pinned else {}
    async with session("modern", **options) as (client, server):
        with pytest.raises(EraError) as info:
            await client.ping()
        assert info.value.method == "ping"
        assert info.value.era == MODERN
        assert MODERN in str(info.value)
        with pytest.raises(EraError) as info:
            await client.subscribe_resource("file:///r")
        assert info.value.method == "resources/subscribe"
        assert info.value.era == MODERN
        with pytest.raises(EraError) as info:
            await client.unsubscribe_resource("file:///r")
        assert info.value.method == "resources/unsubscribe"
        assert info.value.era == MODERN
    assert server.methods() == ([] if pinned else ["server/discover"])


async def test_set_logging_level_in_the_modern_era_rides_on_later_requests() -> None:
    async with session("modern") as (client, server):
        await client.list_tools()
        await client.set_logging_level("warning")
        await client.list_tools()
        await client.call_tool("t")
    assert "logging/setLevel" not in server.methods()
    first, second = server.requests("tools/list")
    assert LOG_LEVEL not in meta(first)
    assert meta(second)[LOG_LEVEL] == "warning"
    assert meta(server.requests("tools/call")[0])[LOG_LEVEL] == "warning"


async def test_set_logging_level_before_the_first_request() -> None:
    async with session("modern") as (client, server):
        await client.set_logging_level("error")
        await client.call_tool("t")
    assert server.methods() == ["server/discover", "tools/call"]
    assert meta(server.requests("tools/call")[0])[LOG_LEVEL] == "error"


async def test_log_level_option_rides_on_every_request() -> None:
    async with session("modern", log_level="debug") as (client, server):
        await client.list_tools()
        await client.read_resource("file:///r")
    assert meta(server.requests("tools/list")[0])[LOG_LEVEL] == "debug"
    assert meta(server.requests("resources/read")[0])[LOG_LEVEL] == "debug"


async def test_set_logging_level_in_the_handshake_era_still_sends_set_level() -> None:
    async with session("legacy") as (client, server):
        await client.set_logging_level("info")
    assert "logging/setLevel" in server.methods()


# -- cancellation ------------------------------------------------------------------------


async def never(request: Request, server: Server) -> None:
    await asyncio.sleep(3600)


async def test_a_timeout_sends_cancelled_with_the_request_id() -> None:
    async with session("modern", {"x/slow": never}) as (client, server):
        with pytest.raises(ReadTimeout):
            await client.request("x/slow", timeout=0.05)
        await asyncio.sleep(0.02)
        (slow,) = server.requests("x/slow")
        (cancel,) = server.notifications("notifications/cancelled")
        assert cancel.params is not None
        assert cancel.params["requestId"] == slow.id


async def test_cancelling_the_caller_sends_cancelled_with_the_request_id() -> None:
    async with session("modern", {"tools/call": never}) as (client, server):
        await client.list_tools()  # settle the era first
        call = asyncio.ensure_future(client.call_tool("t"))
        await asyncio.sleep(0.02)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        await asyncio.sleep(0.02)
        (tool_call,) = server.requests("tools/call")
        (cancel,) = server.notifications("notifications/cancelled")
        assert cancel.params is not None
        assert cancel.params["requestId"] == tool_call.id


# -- the input-round driver (MRTR) ---------------------------------------------------------

STATE = ' opaque "state" é/+= {"not": "json to parse"} \n'


async def test_all_input_requests_are_answered_concurrently_then_retried() -> None:
    started = {"e": asyncio.Event(), "s": asyncio.Event(), "r": asyncio.Event()}

    async def wait_for_others(mine: str) -> None:
        started[mine].set()
        for key, event in started.items():
            if key != mine:
                await asyncio.wait_for(event.wait(), 2)

    async def elicit(request: ElicitationRequest) -> ElicitationResult:
        assert request.message == "Your name?"
        await wait_for_others("e")
        return ElicitationResult.accept({"name": "Ada"})

    async def sample(request: SamplingRequest) -> SamplingResult:
        assert request.max_tokens == 10
        await wait_for_others("s")
        return SamplingResult(content="hello", model="test-model")

    async def roots() -> list[str]:
        await wait_for_others("r")
        return ["file:///work"]

    tool = rounds_tool(input_required({"e": ELICIT, "s": SAMPLE, "r": ROOTS}, STATE))
    async with session("modern", {"tools/call": tool}, elicitation_handler=elicit,
                       sampling_handler=sample, roots=roots) as (client, server):
        result = await client.call_tool("t", {"city": "Paris", "n": 2})
        assert isinstance(result, CallToolResult)
        assert result.text == "done"
    first, retry = server.requests("tools/call")
    assert retry.id != first.id
    assert first.params is not None and retry.params is not None
    assert retry.params["name"] == "t"
    assert retry.params["arguments"] == {"city": "Paris", "n": 2}
    assert retry.params["requestState"] == STATE
    responses = retry.params["inputResponses"]
    assert set(responses) == {"e", "s", "r"}
    assert responses["e"] == ELICIT_ANSWER
    assert responses["s"] == {"role": "assistant", "model": "test-model",
                              "content": {"type": "text", "text": "hello"}}
    assert responses["r"] == {"roots": [{"uri": "file:///work"}]}
    assert meta(retry)[VERSION] == MODERN
    assert meta(retry)[CAPS] == {"sampling": {}, "elicitation": {"form": {}, "url": {}},
                                 "roots": {}}
    assert "inputResponses" not in first.params and "requestState" not in first.params


async def test_two_rounds_each_carry_only_their_own_answers() -> None:
    async def second_question(request: ElicitationRequest) -> ElicitationResult:
        return ElicitationResult.accept({"name": request.message})

    ask = {"method": "elicitation/create", "params": {
        "message": "again", "requestedSchema": {"type": "object",
                                                "properties": {"name": {"type": "string"}}}}}
    tool = rounds_tool(input_required({"a": ELICIT}, "state-1"),
                       input_required({"b": ask}, "state-2"))
    async with session("modern", {"tools/call": tool},
                       elicitation_handler=second_question) as (client, server):
        assert (await client.call_tool("t", {"q": 1})).text == "done"
    calls = server.requests("tools/call")
    assert len(calls) == 3
    assert len({c.id for c in calls}) == 3
    params = [c.params or {} for c in calls]
    assert params[1]["inputResponses"] == {"a": {"action": "accept",
                                                 "content": {"name": "Your name?"}}}
    assert params[1]["requestState"] == "state-1"
    assert params[2]["inputResponses"] == {"b": {"action": "accept",
                                                 "content": {"name": "again"}}}
    assert params[2]["requestState"] == "state-2"
    assert all(p["arguments"] == {"q": 1} for p in params)


async def test_a_round_without_state_sends_no_request_state() -> None:
    tool = rounds_tool(input_required({"a": ELICIT}))
    async with session("modern", {"tools/call": tool}, elicitation_handler=elicit_ada
                       ) as (client, server):
        await client.call_tool("t")
    retry = server.requests("tools/call")[1]
    assert retry.params is not None
    assert retry.params["inputResponses"] == {"a": ELICIT_ANSWER}
    assert "requestState" not in retry.params


async def test_a_state_only_round_is_retried_after_a_short_backoff() -> None:
    loop = asyncio.get_running_loop()
    arrivals: list[float] = []
    inner = rounds_tool(input_required(state="poll-1"))

    async def tool(request: Request, server: Server) -> None:
        arrivals.append(loop.time())
        await inner(request, server)

    async with session("modern", {"tools/call": tool}) as (client, server):
        assert (await client.call_tool("t")).text == "done"
    first, retry = server.requests("tools/call")
    assert retry.id != first.id
    assert retry.params is not None
    assert retry.params["requestState"] == "poll-1"
    assert "inputResponses" not in retry.params
    assert 0.045 <= arrivals[1] - arrivals[0] < 1.0


async def test_the_round_cap_raises() -> None:
    async def forever(request: Request, server: Server) -> None:
        await server.reply(request, input_required({"a": ELICIT}, "again"))

    async with session("modern", {"tools/call": forever}, elicitation_handler=elicit_ada,
                       max_input_rounds=3) as (client, server):
        with pytest.raises(InputRoundsExceededError) as info:
            await client.call_tool("t")
        assert info.value.rounds == 3
        assert info.value.method == "tools/call"
    assert server.methods().count("tools/call") == 4  # the call and three rounds


async def test_a_handler_that_raises_names_the_key_and_method() -> None:
    cancelled = asyncio.Event()

    async def broken(request: ElicitationRequest) -> ElicitationResult:
        raise RuntimeError("the user closed the dialog")

    async def slow(request: SamplingRequest) -> SamplingResult:
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        raise AssertionError("not reached")

    tool = rounds_tool(input_required({"ask-name": ELICIT, "llm": SAMPLE}, "s"))
    async with session("modern", {"tools/call": tool}, elicitation_handler=broken,
                       sampling_handler=slow) as (client, server):
        with pytest.raises(InputRequestError) as info:
            await client.call_tool("t")
        assert info.value.key == "ask-name"
        assert info.value.method == "elicitation/create"
        assert "'ask-name'" in str(info.value)
        assert "elicitation/create" in str(info.value)
        assert "the user closed the dialog" in str(info.value)
        assert isinstance(info.value.__cause__, RuntimeError)
        await asyncio.wait_for(cancelled.wait(), 1)  # the first failure cancels the rest
    assert server.methods().count("tools/call") == 1


async def test_a_single_handler_that_raises() -> None:
    async def broken(request: SamplingRequest) -> SamplingResult:
        raise ValueError("no model")

    tool = rounds_tool(input_required({"llm": SAMPLE}))
    async with session("modern", {"tools/call": tool}, sampling_handler=broken
                       ) as (client, _):
        with pytest.raises(InputRequestError) as info:
            await client.call_tool("t")
        assert info.value.key == "llm"
        assert info.value.method == "sampling/createMessage"
        assert isinstance(info.value.__cause__, ValueError)


@pytest.mark.parametrize(
    ("entry", "method", "hint"),
    [(SAMPLE, "sampling/createMessage", "sampling_handler="),
     (ELICIT, "elicitation/create", "elicitation_handler="),
     (ROOTS, "roots/list", "roots=")],
)
async def test_no_handler_for_a_kind_raises(entry: dict[str, Any], method: str, hint: str
                                            ) -> None:
    tool = rounds_tool(input_required({"need": entry}, "s"))
    async with session("modern", {"tools/call": tool}) as (client, server):
        with pytest.raises(InputRequestError) as info:
            await client.call_tool("t")
        assert info.value.key == "need"
        assert info.value.method == method
        assert hint in str(info.value)
    assert server.methods().count("tools/call") == 1


async def test_a_request_a_server_may_not_embed_raises() -> None:
    tool = rounds_tool(input_required({"odd": {"method": "ping", "params": {}}}, "s"))
    async with session("modern", {"tools/call": tool}) as (client, _):
        with pytest.raises(InputRequestError) as info:
            await client.call_tool("t")
        assert info.value.key == "odd"
        assert info.value.method == "ping"


async def test_allow_input_required_returns_the_interim_result_to_resume_later() -> None:
    asked: list[str] = []

    async def elicit(request: ElicitationRequest) -> ElicitationResult:
        asked.append(request.message)
        return ElicitationResult.accept({"name": "never used"})

    tool = rounds_tool(input_required({"ask": ELICIT}, STATE))
    async with session("modern", {"tools/call": tool}, elicitation_handler=elicit
                       ) as (client, server):
        interim = await client.call_tool("t", {"a": 1}, allow_input_required=True)
        assert isinstance(interim, InputRequiredResult)
        assert interim.request_state == STATE
        assert set(interim.input_requests) == {"ask"}
        assert interim.input_requests["ask"].method == "elicitation/create"
        assert interim.input_requests["ask"].params == ELICIT["params"]
        assert asked == []  # nothing was answered for the caller
        assert server.methods().count("tools/call") == 1

        done = await client.call_tool("t", {"a": 1}, input_responses={"ask": ELICIT_ANSWER},
                                      request_state=interim.request_state)
        assert isinstance(done, CallToolResult)
        assert done.text == "done"
    first, resumed = server.requests("tools/call")
    assert resumed.id != first.id
    assert resumed.params is not None
    assert resumed.params["inputResponses"] == {"ask": ELICIT_ANSWER}
    assert resumed.params["requestState"] == STATE
    assert resumed.params["arguments"] == {"a": 1}
    assert asked == []


async def test_allow_input_required_on_prompts_and_resources() -> None:
    interim = input_required({"ask": ELICIT}, "p-state")
    handlers = {"prompts/get": rounds_tool(interim), "resources/read": rounds_tool(interim)}
    async with session("modern", handlers) as (client, server):
        prompt = await client.get_prompt("p", allow_input_required=True)
        assert isinstance(prompt, InputRequiredResult) and prompt.request_state == "p-state"
        resource = await client.read_resource("file:///r", allow_input_required=True)
        assert isinstance(resource, InputRequiredResult)
        done = await client.get_prompt("p", input_responses={"ask": ELICIT_ANSWER},
                                       request_state="p-state")
        assert isinstance(done, GetPromptResult)
        read = await client.read_resource("file:///r", input_responses={"ask": ELICIT_ANSWER},
                                          request_state="p-state")
        assert isinstance(read, ReadResourceResult)
    for method in ("prompts/get", "resources/read"):
        resumed = server.requests(method)[1]
        assert resumed.params is not None
        assert resumed.params["requestState"] == "p-state"
        assert resumed.params["inputResponses"] == {"ask": ELICIT_ANSWER}


async def test_progress_reaches_the_callback_from_every_round() -> None:
    rounds = 0

    async def tool(request: Request, server: Server) -> None:
        nonlocal rounds
        rounds += 1
        await server.progress(request, rounds)
        if rounds < 3:
            await server.reply(request, input_required({"a": ELICIT}, f"s{rounds}"))
        else:
            await server.reply(request, RESULTS["tools/call"])

    seen: list[float] = []

    def on_progress(note: ProgressNotification) -> None:
        seen.append(note.progress)

    async with session("modern", {"tools/call": tool}, elicitation_handler=elicit_ada
                       ) as (client, server):
        assert (await client.call_tool("t", progress=on_progress)).text == "done"
    assert seen == [1, 2, 3]
    calls = server.requests("tools/call")
    assert [meta(c)["progressToken"] for c in calls] == [c.id for c in calls]


async def test_the_timeout_spans_all_rounds() -> None:
    loop = asyncio.get_running_loop()

    async def slow_rounds(request: Request, server: Server) -> None:
        await asyncio.sleep(0.1)  # each round alone fits in the timeout
        await server.reply(request, input_required({"a": ELICIT}, "s"))

    async with session("modern", {"tools/call": slow_rounds}, elicitation_handler=elicit_ada
                       ) as (client, server):
        await client.list_tools()
        start = loop.time()
        with pytest.raises(ReadTimeout):
            await client.call_tool("t", timeout=0.35)
        elapsed = loop.time() - start
        await asyncio.sleep(0.02)
        calls = server.requests("tools/call")
        cancels = server.notifications("notifications/cancelled")
    assert 0.33 <= elapsed < 1.0
    assert len(calls) >= 3
    # The round in flight when the time ran out is the one cancelled.
    assert [c.params for c in cancels] == [
        {"requestId": calls[-1].id, "reason": "request timed out or was cancelled"}
    ]


async def test_the_timeout_covers_the_handlers_too() -> None:
    loop = asyncio.get_running_loop()

    async def slow_user(request: ElicitationRequest) -> ElicitationResult:
        await asyncio.sleep(5)
        return ElicitationResult.accept({"name": "late"})

    tool = rounds_tool(input_required({"a": ELICIT}, "s"))
    async with session("modern", {"tools/call": tool}, elicitation_handler=slow_user
                       ) as (client, server):
        await client.list_tools()
        start = loop.time()
        with pytest.raises(ReadTimeout, match="input requests"):
            await client.call_tool("t", timeout=0.2)
        elapsed = loop.time() - start
        await asyncio.sleep(0.02)
    assert 0.18 <= elapsed < 0.8
    assert server.methods().count("tools/call") == 1
    assert not server.notifications("notifications/cancelled")  # nothing was in flight


async def test_a_malformed_input_required_result_is_a_protocol_error() -> None:
    tool = rounds_tool(input_required())  # neither inputRequests nor requestState
    async with session("modern", {"tools/call": tool}) as (client, server):
        with pytest.raises(UnexpectedResponseError, match="InputRequiredResult"):
            await client.call_tool("t")
    assert server.methods().count("tools/call") == 1


async def test_an_unknown_result_type_in_a_later_round_raises() -> None:
    tool = rounds_tool(input_required(state="s"), final={"resultType": "x-unheard-of"})
    async with session("modern", {"tools/call": tool}) as (client, _):
        with pytest.raises(UnknownResultTypeError) as info:
            await client.call_tool("t")
        assert info.value.result_type == "x-unheard-of"


@pytest.mark.parametrize("method", ["prompts/get", "resources/read"])
async def test_prompts_and_resources_drive_rounds_too(method: str) -> None:
    handler = rounds_tool(input_required({"a": ELICIT}, "st"))
    async with session("modern", {method: handler}, elicitation_handler=elicit_ada
                       ) as (client, server):
        if method == "prompts/get":
            prompt = await client.get_prompt("p", {"x": "1"})
            assert isinstance(prompt, GetPromptResult)
            assert prompt.messages[0].role == "user"
        else:
            read = await client.read_resource("file:///r")
            assert isinstance(read, ReadResourceResult)
            assert len(read.contents) == 1
    first, retry = server.requests(method)
    assert retry.id != first.id
    assert retry.params is not None
    assert retry.params["inputResponses"] == {"a": ELICIT_ANSWER}
    assert retry.params["requestState"] == "st"
    if method == "prompts/get":
        assert retry.params["name"] == "p" and retry.params["arguments"] == {"x": "1"}
    else:
        assert retry.params["uri"] == "file:///r"
    assert meta(retry)[CAPS] == {"elicitation": {"form": {}, "url": {}}}


# -- a broken connection ---------------------------------------------------------------------


async def test_an_idempotent_request_is_resent_with_a_new_id_after_a_drop() -> None:
    attempts = 0

    async def drop_once(request: Request, server: Server) -> None:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            server.peer.disconnect()
            return
        await server.reply(request, RESULTS["tools/list"])

    transport, peer = memory_pair()
    server = Server(peer, "modern", {"tools/list": drop_once})
    runner = asyncio.ensure_future(server.run())
    try:
        async with AsyncMCPClient(transport) as client:
            await client.set_logging_level("notice")
            tools = await client.list_tools()
            assert [t.name for t in tools] == ["t"]
            assert client.protocol_version == MODERN
            assert transport.connections == 2
    finally:
        runner.cancel()
        await asyncio.gather(runner, *server.tasks, return_exceptions=True)
    first, again = server.requests("tools/list")
    assert again.id != first.id
    assert meta(again)[VERSION] == MODERN
    assert meta(again)[LOG_LEVEL] == "notice"  # kept across the reconnect
    assert "progressToken" not in meta(again)
    # The era is a property of the server: no new probe, no handshake.
    assert server.methods() == ["server/discover", "tools/list", "tools/list"]


async def test_a_non_idempotent_request_fails_after_a_drop() -> None:
    async def drop(request: Request, server: Server) -> None:
        server.peer.disconnect()

    async with session("modern", {"tools/call": drop}) as (client, server):
        with pytest.raises(ConnectionLostError):
            await client.call_tool("t")
        assert server.methods().count("tools/call") == 1
        await client.list_tools()  # the next call reconnects, without a new probe
    assert server.methods().count("server/discover") == 1


async def test_a_drop_during_an_input_round_resends_an_idempotent_round() -> None:
    calls = 0

    async def read(request: Request, server: Server) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            await server.reply(request, input_required({"a": ELICIT}, "st"))
        elif calls == 2:
            server.peer.disconnect()
        else:
            await server.reply(request, RESULTS["resources/read"])

    async with session("modern", {"resources/read": read}, elicitation_handler=elicit_ada
                       ) as (client, server):
        result = await client.read_resource("file:///r")
        assert isinstance(result, ReadResourceResult)
    reads = server.requests("resources/read")
    assert len(reads) == 3
    assert len({r.id for r in reads}) == 3
    for retry in reads[1:]:
        assert retry.params is not None
        assert retry.params["requestState"] == "st"
        assert retry.params["inputResponses"] == {"a": ELICIT_ANSWER}
