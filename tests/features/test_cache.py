"""The response cache (mcp_async.features.cache): keys, scopes, TTL edges, LRU eviction,
invalidation, per-call modes and user stores; then the client on the in-memory
transport against a scripted 2026-07-28 server, counting the requests that reach it."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from types import SimpleNamespace
from typing import Any

import pytest

from mcp_async import AsyncMCPClient, ConfigError, Hook, JSONRPCError
from mcp_async.auth import BearerAuth
from mcp_async.features.cache import (
    MAX_TTL_MS,
    AuthContext,
    CacheEntry,
    CacheStore,
    MemoryCacheStore,
    ResponseCache,
    server_identity,
    ttl_ms,
)
from mcp_async.protocol.jsonrpc import ErrorResponse, Notification, Request, Response
from mcp_async.session.elicitation import accept_with_defaults
from mcp_async.transports.http.base import Handler, HTTPRequest, HTTPResponse
from mcp_async.transports.memory import MemoryPeer, memory_pair
from mcp_async.transports.stdio import StdioTransport
from tests.scripted import ScriptedServer, scripted_session

MODERN = "2026-07-28"
URL = "http://127.0.0.1:9/mcp"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def engine(modern: bool = True, version: str = MODERN) -> Any:
    """A stand-in for the cache's :class:`~mcp_async.session.api.Session`."""

    async def connect() -> None:
        return None

    return SimpleNamespace(
        connected=True, connect=connect, stateless_version=version if modern else None,
    )


def make_cache(
    store: CacheStore | None = None, *, auth: str | Hook | None = "A",
    hooks: tuple[Hook, ...] = (), target: str = URL, clock: Clock | None = None,
) -> ResponseCache:
    cache = ResponseCache.build(store if store is not None else True, target=target,
                                auth=auth, hooks=hooks, headers=None)
    assert cache is not None
    if clock is not None:
        cache.clock = clock
    return cache


class Origin:
    """A send() that counts calls and answers with a result."""

    def __init__(self, result: dict[str, Any] | None = None) -> None:
        self.calls = 0
        self.result = result if result is not None else {"tools": [], "ttlMs": 60000,
                                                         "cacheScope": "public"}

    async def __call__(self) -> dict[str, Any]:
        self.calls += 1
        return {**self.result, "n": self.calls}


async def get(cache: ResponseCache, origin: Origin, method: str = "tools/list",
              params: dict[str, Any] | None = None, mode: str = "use", eng: Any = None
              ) -> dict[str, Any]:
    return await cache.fetch(eng or engine(), method, params, mode, origin)


# -- keys ----------------------------------------------------------------------------


def test_keys_name_method_params_version_and_server() -> None:
    cache = make_cache()
    base = cache.key("tools/list", MODERN)
    assert base != cache.key("prompts/list", MODERN)
    assert base != cache.key("tools/list", MODERN, cursor="c2")
    assert base != cache.key("tools/list", "2027-01-01")
    assert base != cache.key("tools/list", MODERN, partition="p")
    read = cache.key("resources/read", MODERN, uri="file:///a")
    assert read != cache.key("resources/read", MODERN, uri="file:///b")
    other = make_cache(target="http://127.0.0.1:9/other")
    assert other.key("tools/list", MODERN) != base
    # no URL or token in a key
    assert "127.0.0.1" not in base and "A" not in json.loads(base)


def test_server_identity_strips_userinfo_and_fragment() -> None:
    plain = server_identity("http://example.test/mcp")
    assert server_identity("http://user:secret@example.test/mcp") == plain
    assert server_identity("http://example.test/mcp#x") == plain
    assert server_identity("http://example.test/mcp?tenant=2") != plain
    assert server_identity("https://example.test/mcp") != plain


def test_stdio_identity_covers_command_and_environment() -> None:
    a = StdioTransport("server", ["--x"], env={"TOKEN": "a"})
    assert server_identity(a) == server_identity(StdioTransport("server", ["--x"],
                                                                env={"TOKEN": "a"}))
    assert server_identity(a) != server_identity(StdioTransport("server", ["--x"],
                                                                env={"TOKEN": "b"}))
    assert server_identity(a) != server_identity(StdioTransport("server", ["--y"],
                                                                env={"TOKEN": "a"}))
    memory_a, _ = memory_pair()
    memory_b, _ = memory_pair()
    assert server_identity(memory_a) == server_identity(memory_a)
    assert server_identity(memory_a) != server_identity(memory_b)


# -- scopes --------------------------------------------------------------------------


async def test_private_entries_belong_to_their_token() -> None:
    store = MemoryCacheStore()
    alice, bob = make_cache(store, auth="alice-token"), make_cache(store, auth="bob-token")
    origin = Origin({"tools": [], "ttlMs": 60000, "cacheScope": "private"})
    assert (await get(alice, origin))["n"] == 1
    assert (await get(alice, origin))["n"] == 1  # served
    assert (await get(bob, origin))["n"] == 2  # another token never sees alice's entry
    assert (await get(bob, origin))["n"] == 2
    assert (await get(alice, origin))["n"] == 1
    keys = store.keys()
    assert len(keys) == 3  # alice's entry, bob's, and the marker under the public key
    assert not any("token" in key for key in keys)


async def test_public_entries_are_shared_across_tokens() -> None:
    store = MemoryCacheStore()
    alice, bob = make_cache(store, auth="alice-token"), make_cache(store, auth="bob-token")
    origin = Origin()
    await get(alice, origin)
    assert (await get(bob, origin))["n"] == 1
    assert origin.calls == 1


async def test_no_scope_means_private() -> None:
    store = MemoryCacheStore()
    alice, bob = make_cache(store, auth="alice-token"), make_cache(store, auth="bob-token")
    origin = Origin({"tools": [], "ttlMs": 60000})
    await get(alice, origin)
    await get(bob, origin)
    assert origin.calls == 2


class CustomHook(Hook):
    async def around(self, request: HTTPRequest, call_next: Handler) -> HTTPResponse:
        return await call_next(request)


class PartitionedHook(CustomHook):
    def __init__(self, partition: str | None) -> None:
        self.partition = partition

    def cache_partition(self) -> str | None:
        return self.partition


async def test_unknown_authorization_context_never_caches_private_results() -> None:
    cache = make_cache(auth=None, hooks=(CustomHook(),))
    private = Origin({"tools": [], "ttlMs": 60000, "cacheScope": "private"})
    await get(cache, private)
    await get(cache, private)
    assert private.calls == 2
    assert not list(cache.store.keys())
    public = Origin()
    await get(cache, public)
    await get(cache, public)
    assert public.calls == 1  # public results need no context


async def test_a_hook_may_name_its_context() -> None:
    store = MemoryCacheStore()
    one = make_cache(store, auth=PartitionedHook("tenant-1"))
    two = make_cache(store, auth=PartitionedHook("tenant-2"))
    unknown = make_cache(store, auth=PartitionedHook(None))
    origin = Origin({"tools": [], "ttlMs": 60000, "cacheScope": "private"})
    await get(one, origin)
    await get(one, origin)
    await get(two, origin)
    await get(unknown, origin)
    assert origin.calls == 3


async def test_auth_contexts_of_the_known_hooks() -> None:
    assert await AuthContext(http=True, auth="t").current() == await AuthContext(
        http=True, auth=BearerAuth("t")).current()
    assert await AuthContext(http=True, auth="t").current() != await AuthContext(
        http=True, auth="u").current()
    tokens = iter(["first", "second"])
    provider = BearerAuth(lambda: next(tokens))
    context = AuthContext(http=True, auth=provider)
    assert await context.current() != await context.current()  # the token changed
    assert await AuthContext(http=True, headers={"X-Api-Key": "1"}).current() != await (
        AuthContext(http=True, headers={"X-Api-Key": "2"}).current())

    def broken() -> str:
        raise RuntimeError("vault down")

    assert await AuthContext(http=True, auth=BearerAuth(broken)).current() is None
    assert await AuthContext(http=False).current() is not None  # stdio: the transport


# -- TTL -----------------------------------------------------------------------------


@pytest.mark.parametrize("ttl", [0, -1, -5000, None, "60000", True, float("nan")])
async def test_a_result_without_a_positive_ttl_is_not_kept(ttl: Any) -> None:
    result: dict[str, Any] = {"tools": [], "cacheScope": "public"}
    if ttl is not None:
        result["ttlMs"] = ttl
    cache = make_cache()
    origin = Origin(result)
    await get(cache, origin)
    await get(cache, origin)
    assert origin.calls == 2


def test_ttl_parsing() -> None:
    assert ttl_ms(1500) == 1500
    assert ttl_ms(1.5) == 1.5
    assert ttl_ms(-1) == 0
    assert ttl_ms(None) == 0
    assert ttl_ms(10**15) == MAX_TTL_MS == 24 * 3600 * 1000
    assert ttl_ms(float("inf")) == MAX_TTL_MS


async def test_fresh_while_the_ttl_lasts() -> None:
    clock = Clock()
    cache = make_cache(clock=clock)
    origin = Origin({"tools": [], "ttlMs": 2000, "cacheScope": "public"})
    await get(cache, origin)
    clock.now += 1.999
    await get(cache, origin)
    assert origin.calls == 1
    clock.now += 0.001  # received + ttlMs: stale
    await get(cache, origin)
    assert origin.calls == 2


async def test_ttls_are_clamped_to_a_day() -> None:
    clock = Clock()
    cache = make_cache(clock=clock)
    origin = Origin({"tools": [], "ttlMs": 10**12, "cacheScope": "public"})
    await get(cache, origin)
    clock.now += 24 * 3600 - 1
    await get(cache, origin)
    assert origin.calls == 1
    clock.now += 1
    await get(cache, origin)
    assert origin.calls == 2


# -- the store -----------------------------------------------------------------------


def test_the_memory_store_drops_the_least_recently_used() -> None:
    store = MemoryCacheStore(max_entries=2)
    entry = CacheEntry("{}", 1.0, "public")
    store.set("a", entry)
    store.set("b", entry)
    assert store.get("a") is entry  # a is now the most recently used
    store.set("c", entry)
    assert store.get("b") is None
    assert set(store.keys()) == {"a", "c"} and len(store) == 2
    store.delete("a")
    store.clear()
    assert len(store) == 0
    with pytest.raises(ConfigError):
        MemoryCacheStore(max_entries=0)


async def test_lru_cap_applies_to_pages() -> None:
    cache = make_cache(MemoryCacheStore(max_entries=2))
    origin = Origin()
    for cursor in ("a", "b", "c"):
        await get(cache, origin, params={"cursor": cursor})
    await get(cache, origin, params={"cursor": "a"})  # dropped: fetched again
    assert origin.calls == 4


class DictStore:
    """A user store: a plain dict, counting calls."""

    def __init__(self) -> None:
        self.data: dict[str, CacheEntry] = {}
        self.sets = 0

    def get(self, key: str) -> CacheEntry | None:
        return self.data.get(key)

    def set(self, key: str, entry: CacheEntry) -> None:
        self.sets += 1
        self.data[key] = entry

    def delete(self, key: str) -> None:
        self.data.pop(key, None)

    def keys(self) -> Iterable[str]:
        return list(self.data)

    def clear(self) -> None:
        self.data.clear()


async def test_a_user_store_is_used() -> None:
    store = DictStore()
    assert isinstance(store, CacheStore)
    cache = make_cache(store)
    origin = Origin()
    await get(cache, origin)
    await get(cache, origin)
    assert origin.calls == 1 and store.sets == 1
    entry = next(iter(store.data.values()))
    assert json.loads(entry.body)["tools"] == [] and entry.scope == "public"
    cache.clear()
    assert not store.data


def test_the_cache_option_is_checked() -> None:
    with pytest.raises(ConfigError, match="cache must be"):
        ResponseCache.build("yes", target=URL, auth=None, hooks=(), headers=None)
    assert ResponseCache.build(False, target=URL, auth=None, hooks=(), headers=None) is None


# -- what is (never) cached ------------------------------------------------------------


async def test_the_handshake_era_is_never_served() -> None:
    cache = make_cache()
    origin = Origin()
    await get(cache, origin, eng=engine(modern=False))
    await get(cache, origin, eng=engine(modern=False))
    assert origin.calls == 2 and not list(cache.store.keys())
    cache.invalidate("notifications/tools/list_changed")  # harmless


async def test_interim_results_and_input_retries_are_never_cached() -> None:
    cache = make_cache()
    interim = Origin({"resultType": "input_required", "requestState": "s", "ttlMs": 60000,
                      "cacheScope": "public"})
    params = {"uri": "file:///a"}
    await get(cache, interim, "resources/read", params)
    await get(cache, interim, "resources/read", params)
    assert interim.calls == 2
    done = Origin({"contents": [], "ttlMs": 60000, "cacheScope": "public"})
    retry = {"uri": "file:///a", "inputResponses": {"a": {}}, "requestState": "s"}
    await get(cache, done, "resources/read", retry)
    await get(cache, done, "resources/read", retry)
    await get(cache, done, "resources/read", {"uri": "file:///a", "_meta": {"x": 1}})
    assert done.calls == 3
    await get(cache, done, "tools/call", {"name": "t"})
    assert done.calls == 4 and not list(cache.store.keys())


async def test_a_read_is_cached_per_uri() -> None:
    cache = make_cache()
    origin = Origin({"contents": [], "ttlMs": 60000, "cacheScope": "public"})
    for uri in ("file:///a", "file:///b", "file:///a"):
        await get(cache, origin, "resources/read", {"uri": uri})
    assert origin.calls == 2


async def test_each_page_is_its_own_entry() -> None:
    cache = make_cache()
    origin = Origin()
    for cursor in (None, "2", None, "2"):
        await get(cache, origin, params={"cursor": cursor} if cursor else None)
    assert origin.calls == 2


# -- invalidation ----------------------------------------------------------------------


@pytest.mark.parametrize(("notification", "dropped"), [
    ("notifications/tools/list_changed", {"tools/list"}),
    ("notifications/prompts/list_changed", {"prompts/list"}),
    ("notifications/resources/list_changed", {"resources/list", "resources/templates/list"}),
])
async def test_list_changed_drops_its_lists(notification: str, dropped: set[str]) -> None:
    cache = make_cache()
    methods = ["tools/list", "prompts/list", "resources/list", "resources/templates/list",
               "server/discover"]
    origins = {method: Origin() for method in methods}
    for method in methods:
        for params in (None, {"cursor": "p2"}):
            await get(cache, origins[method], method, params)
    cache.invalidate(notification, {})
    for method in methods:
        for params in (None, {"cursor": "p2"}):
            await get(cache, origins[method], method, params)
        assert origins[method].calls == (4 if method in dropped else 2), method


async def test_resource_updated_drops_that_uri_only() -> None:
    cache = make_cache()
    origin = Origin({"contents": [], "ttlMs": 60000, "cacheScope": "private"})
    for uri in ("file:///a", "file:///ab", "file:///b"):
        await get(cache, origin, "resources/read", {"uri": uri})
    cache.invalidate("notifications/resources/updated", {"uri": "file:///a"})
    for uri in ("file:///a", "file:///ab", "file:///b"):
        await get(cache, origin, "resources/read", {"uri": uri})
    assert origin.calls == 4
    cache.invalidate("notifications/resources/updated", {})  # no uri: ignored
    cache.invalidate("notifications/message", {"uri": "file:///b"})


async def test_invalid_cursor_drops_every_page_of_the_method() -> None:
    cache = make_cache()
    tools, prompts = Origin(), Origin()
    for params in (None, {"cursor": "2"}):
        await get(cache, tools, "tools/list", params)
        await get(cache, prompts, "prompts/list", params)

    async def refuse() -> dict[str, Any]:
        raise JSONRPCError(-32602, "invalid cursor")

    with pytest.raises(JSONRPCError):
        await cache.fetch(engine(), "tools/list", {"cursor": "3"}, "use", refuse)
    await get(cache, tools, "tools/list")
    await get(cache, prompts, "prompts/list")
    assert tools.calls == 3 and prompts.calls == 2
    with pytest.raises(JSONRPCError):  # no cursor: nothing dropped
        await cache.fetch(engine(), "tools/list", None, "refresh", refuse)
    await get(cache, tools, "tools/list")
    assert tools.calls == 3


async def test_a_result_in_flight_during_invalidation_is_not_stored() -> None:
    cache = make_cache()
    gate = asyncio.Event()

    async def slow() -> dict[str, Any]:
        await gate.wait()
        return {"tools": [], "ttlMs": 60000, "cacheScope": "public"}

    task = asyncio.ensure_future(cache.fetch(engine(), "tools/list", None, "use", slow))
    await asyncio.sleep(0)
    cache.invalidate("notifications/tools/list_changed")
    gate.set()
    await task
    assert not list(cache.store.keys())


# -- modes -----------------------------------------------------------------------------


async def test_per_call_modes() -> None:
    cache = make_cache()
    origin = Origin()
    assert (await get(cache, origin))["n"] == 1
    assert (await get(cache, origin, mode="bypass"))["n"] == 2  # not read ...
    assert (await get(cache, origin))["n"] == 1  # ... nor written
    assert (await get(cache, origin, mode="refresh"))["n"] == 3  # fetched and stored
    assert (await get(cache, origin))["n"] == 3
    assert (cache.hits, cache.misses) == (2, 1)


# -- the client on the memory transport -----------------------------------------------


Reply = Callable[[Request, "Server"], Awaitable[None]]
TOOLS = [
    {"name": "add", "inputSchema": {"type": "object"},
     "outputSchema": {"type": "object", "properties": {"sum": {"type": "integer"}},
                      "required": ["sum"]}},
]
HINTS = {"ttlMs": 60000, "cacheScope": "public"}


class Server(ScriptedServer):
    """A scripted server: ``modern`` answers discover; otherwise it runs the handshake.
    Every result carries ``hints``; ``handlers`` override single methods."""

    def __init__(self, peer: MemoryPeer, modern: bool, hints: dict[str, Any],
                 handlers: dict[str, Reply]) -> None:
        super().__init__(peer)
        self.modern = modern
        self.hints = hints
        self.handlers = handlers

    async def answer(self, request: Request) -> None:
        handler = self.handlers.get(request.method)
        if handler is not None:
            await handler(request, self)
        elif request.method == "server/discover":
            if not self.modern:
                await self.peer.send(ErrorResponse(request.id, -32601, "no"))
                return
            await self.reply(request, {"supportedVersions": [MODERN],
                                       "capabilities": {"tools": {}}})
        elif request.method == "initialize":
            assert request.params is not None
            await self.peer.send(Response(request.id, {
                "protocolVersion": request.params["protocolVersion"],
                "capabilities": {"tools": {}}, "serverInfo": {"name": "s", "version": "1"},
            }))
        elif request.method == "tools/list":
            await self.reply(request, {"tools": TOOLS})
        elif request.method == "tools/call":
            await self.reply(request, {"content": [], "structuredContent": {"sum": 3}})
        elif request.method == "resources/read":
            assert request.params is not None
            uri = request.params["uri"]
            await self.reply(request, {"contents": [{"uri": uri, "text": str(self.count())}]})
        else:
            await self.reply(request, {"prompts": [], "resources": [],
                                       "resourceTemplates": []})

    def count(self) -> int:
        return len(self.seen)

    async def reply(self, request: Request, result: dict[str, Any]) -> None:
        await self.peer.send(Response(request.id, {**self.hints, **result}))

    async def notify(self, method: str, params: dict[str, Any] | None = None) -> None:
        await self.peer.send(Notification(method, params))


@contextlib.asynccontextmanager
async def session(
    modern: bool = True, hints: dict[str, Any] | None = None,
    handlers: dict[str, Reply] | None = None, **options: Any,
) -> AsyncIterator[tuple[AsyncMCPClient, Server]]:
    def make(peer: MemoryPeer) -> Server:
        return Server(peer, modern, HINTS if hints is None else hints, dict(handlers or {}))

    async with scripted_session(make, **options) as pair:
        yield pair


async def test_a_second_list_is_served_from_the_cache() -> None:
    async with session() as (client, server):
        first = await client.list_tools()
        second = await client.list_tools()
        assert [t.name for t in first] == [t.name for t in second] == ["add"]
        await client.list_tools_page()
        await client.list_prompts()
        await client.list_prompts()
        await client.list_resources()
        await client.list_resources()
        await client.list_resource_templates()
        await client.list_resource_templates_page()
        assert client.cache is not None and client.cache.hits == 5
    assert len(server.requests("tools/list")) == 1
    assert len(server.requests("prompts/list")) == 1
    assert len(server.requests("resources/list")) == 1
    assert len(server.requests("resources/templates/list")) == 1


async def test_the_cached_tool_list_feeds_output_validation() -> None:
    async with session(validate_output=True) as (client, server):
        await client.list_tools()
        result = await client.call_tool("add", {"a": 1, "b": 2})
        assert result.structured_content == {"sum": 3}
        await client.list_tools()  # a hit, and it still refreshes the tool table
        await client.call_tool("add", {"a": 1, "b": 2})
    assert len(server.requests("tools/list")) == 1


async def test_list_changed_evicts_and_the_next_list_asks_again() -> None:
    async with session(validate_output=True) as (client, server):
        await client.list_tools()
        await client.list_prompts()
        await server.notify("notifications/tools/list_changed")
        await client.call_tool("add", {"a": 1, "b": 2})  # validation re-lists once
        await client.list_tools()  # served: the re-list was stored
        await client.list_prompts()
        await server.notify("notifications/prompts/list_changed")
        await client.list_prompts()
        await server.notify("notifications/resources/list_changed")
    assert len(server.requests("tools/list")) == 2
    assert len(server.requests("prompts/list")) == 2


async def test_reads_are_cached_per_uri_and_updates_evict() -> None:
    async with session() as (client, server):
        a1 = await client.read_resource("file:///a")
        a2 = await client.read_resource("file:///a")
        assert a1 == a2
        await client.read_resource("file:///b")
        await server.notify("notifications/resources/updated", {"uri": "file:///a"})
        a3 = await client.read_resource("file:///a")
        assert a3 != a1
        await client.read_resource("file:///b")
        await client.read_resource("file:///b", cache="bypass")
        await client.read_resource("file:///b", cache="refresh")
        await client.read_resource("file:///b")
    assert [r.params["uri"] for r in server.requests("resources/read")  # type: ignore[index]
            ] == ["file:///a", "file:///b", "file:///a", "file:///b", "file:///b"]


async def test_a_read_with_input_rounds_is_not_cached() -> None:
    async def needs_input(request: Request, server: Server) -> None:
        assert request.params is not None
        if "inputResponses" not in request.params:
            await server.reply(request, {"resultType": "input_required", "inputRequests": {
                "a": {"method": "elicitation/create", "params": {
                    "mode": "form", "message": "ok?",
                    "requestedSchema": {"type": "object", "properties": {}}}}}})
        else:
            await server.reply(request, {"contents": [{"uri": "file:///a", "text": "x"}]})

    async with session(handlers={"resources/read": needs_input},
                       elicitation_handler=accept_with_defaults) as (client, server):
        for _ in range(2):
            read = await client.read_resource("file:///a")
            assert read.contents[0].text == "x"  # type: ignore[union-attr]
        interim = await client.read_resource("file:///a", allow_input_required=True)
        assert interim.__class__.__name__ == "InputRequiredResult"
    assert len(server.requests("resources/read")) == 5  # (ask, answer) twice, then ask


async def test_discover_is_cached() -> None:
    async with session(protocol=MODERN) as (client, server):
        first = await client.discover()
        second = await client.discover()
        assert first == second and first.ttl_ms == 60000
        await client.discover(cache="refresh")
        assert client.server_capabilities.supports_tools
    assert len(server.requests("server/discover")) == 2


async def test_cache_false_turns_it_off() -> None:
    async with session(cache=False) as (client, server):
        assert client.cache is None
        await client.list_tools()
        await client.list_tools(cache="use")
        await client.read_resource("file:///a")
        await client.read_resource("file:///a")
        with pytest.raises(ConfigError):
            await client.list_tools(cache="sometimes")  # type: ignore[arg-type]
    assert len(server.requests("tools/list")) == 2
    assert len(server.requests("resources/read")) == 2


async def test_the_handshake_era_ignores_the_hints() -> None:
    async with session(modern=False) as (client, server):
        await client.list_tools()
        await client.list_tools()
        await client.read_resource("file:///a")
        await client.read_resource("file:///a")
        await server.notify("notifications/tools/list_changed")  # evicts nothing, harmlessly
        assert client.protocol_version != MODERN
    assert len(server.requests("tools/list")) == 2
    assert len(server.requests("resources/read")) == 2


async def test_private_results_are_cached_on_a_message_transport() -> None:
    async with session(hints={"ttlMs": 60000, "cacheScope": "private"}) as (client, server):
        await client.list_tools()
        await client.list_tools()
    assert len(server.requests("tools/list")) == 1


async def test_a_zero_ttl_is_never_served() -> None:
    async with session(hints={"ttlMs": 0, "cacheScope": "public"}) as (client, server):
        await client.list_tools()
        await client.list_tools()
    assert len(server.requests("tools/list")) == 2


async def test_a_user_store_serves_a_second_client() -> None:
    store = DictStore()
    async with session(cache=store) as (client, server):
        await client.list_tools()
        await client.list_tools()
    assert len(server.requests("tools/list")) == 1 and store.data


def paged(pages: dict[str | None, tuple[list[str], str | None]]) -> Reply:
    async def handler(request: Request, server: Server) -> None:
        cursor = (request.params or {}).get("cursor")
        if cursor not in pages:
            await server.peer.send(ErrorResponse(request.id, -32602, "invalid cursor"))
            return
        names, following = pages[cursor]
        result: dict[str, Any] = {"tools": [{"name": n, "inputSchema": {"type": "object"}}
                                            for n in names]}
        if following is not None:
            result["nextCursor"] = following
        await server.reply(request, result)

    return handler


async def test_pages_are_cached_and_a_stale_cursor_restarts_the_walk() -> None:
    pages: dict[str | None, tuple[list[str], str | None]] = {
        None: (["a"], "c1"), "c1": (["b"], None),
    }
    async with session(handlers={"tools/list": paged(pages)}) as (client, server):
        assert [t.name for t in await client.list_tools()] == ["a", "b"]
        assert [t.name for t in await client.list_tools()] == ["a", "b"]
        assert len(server.requests("tools/list")) == 2
        # The server re-paginates; page one stays cached with its old cursor, page two
        # was dropped (e.g. by the LRU): the old cursor is refused.
        assert client.cache is not None
        for key in list(client.cache.store.keys()):
            if '"c1"' in key:
                client.cache.store.delete(key)
        pages.clear()
        pages.update({None: (["a"], "d1"), "d1": (["b", "c"], None)})
        assert [t.name for t in await client.list_tools()] == ["a", "b", "c"]
        # refused c1, then page one and d1 again
        assert [(r.params or {}).get("cursor") for r in server.requests("tools/list")
                ][2:] == ["c1", None, "d1"]
