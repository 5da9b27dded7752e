"""``ClientPool``: clients by (server, principal) on one connection pool, opened once, closed
when idle, bounded (LRU, never a leased client), isolated per principal; stdio and groups."""

from __future__ import annotations

import asyncio
import json
import secrets
import sys
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

import mcp_async.group.pool as pool_module
from mcp_async import (
    AsyncMCPClient,
    BearerAuth,
    ClientPool,
    ClientStateError,
    ConfigError,
    MCPClientGroup,
    PoolClosedError,
    PoolExhaustedError,
    ServerSpawnError,
    UnknownServerError,
)
from mcp_async.features.cache import MemoryCacheStore
from mcp_async.testing import MCPTestServer
from mcp_async.transports.stdio import StdioTransport

STDIO: dict[str, Any] = {"command": sys.executable, "args": ["-m", "mcp_async.testing", "--stdio"]}


async def until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():  # noqa: ASYNC110 - the state lives in other objects
            await asyncio.sleep(0.01)


@pytest.fixture
async def server() -> AsyncIterator[MCPTestServer]:
    async with MCPTestServer(reply="json") as srv:

        @srv.tool
        def echo(text: str) -> str:
            return text

        yield srv


class Recorder:
    """A handshake-era server that records which ``Authorization`` each session saw."""

    def __init__(self) -> None:
        self.seen: dict[str, set[str | None]] = defaultdict(set)
        self.initializes = 0
        self.deleted: list[str] = []
        self.probes: set[str | None] = set()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        auth = request.headers.get("Authorization")
        if request.method == "DELETE":
            self.deleted.append(request.headers.get("Mcp-Session-Id", ""))
            return web.Response(status=200)
        if request.method == "GET":
            return web.Response(status=405)
        body = json.loads(await request.read())
        session = request.headers.get("Mcp-Session-Id")
        if body.get("method") == "server/discover":  # the era probe: not this era
            self.probes.add(auth)
            error = {"code": -32601, "message": "Method not found"}
            return web.json_response({"jsonrpc": "2.0", "id": body["id"], "error": error})
        if body.get("method") == "initialize":
            self.initializes += 1
            session = secrets.token_hex(8)
            result: dict[str, Any] = {
                "protocolVersion": "2025-11-25", "capabilities": {"tools": {}},
                "serverInfo": {"name": "recorder", "version": "1"},
            }
        else:
            result = {"content": [{"type": "text", "text": f"{session}:{auth}"}]}
        assert session is not None
        self.seen[session].add(auth)
        if "id" not in body:
            return web.Response(status=202)
        return web.json_response({"jsonrpc": "2.0", "id": body["id"], "result": result},
                                 headers={"Mcp-Session-Id": session})


@pytest.fixture
async def recorder() -> AsyncIterator[tuple[Recorder, str]]:
    rec = Recorder()
    app = web.Application()
    app.router.add_route("*", "/mcp", rec.handle)
    async with TestServer(app, host="127.0.0.1") as srv:
        yield rec, str(srv.make_url("/mcp"))


# -- opening: lazily, once ----------------------------------------------------------------------


async def test_one_client_per_key_opened_once_under_concurrent_first_use(
    server: MCPTestServer,
) -> None:
    async with ClientPool({"s": server.url}) as pool:
        assert len(pool) == 0  # nothing opened before first use

        async def use(index: int) -> tuple[AsyncMCPClient, str]:
            async with pool.client("s", "alice") as client:
                return client, (await client.call_tool("echo", {"text": str(index)})).text

        results = await asyncio.gather(*(use(index) for index in range(20)))
        assert len({id(client) for client, _ in results}) == 1
        assert [text for _, text in results] == [str(index) for index in range(20)]
        assert server.stats.by_method["initialize"] == 1
        assert pool.stats().opened == 1 and len(pool) == 1
    assert server.stats.deletes == 1  # closed on exit


async def test_http_clients_share_one_connection_pool(server: MCPTestServer) -> None:
    async with (
        ClientPool({"s": server.url}) as pool,
        pool.client("s", "a") as a,
        pool.client("s", "b") as b,
    ):
        assert a is not b
        assert a._transport.session is b._transport.session
        await a.call_tool("echo", {"text": "x"})
        await b.call_tool("echo", {"text": "y"})
    async with aiohttp.ClientSession() as http:
        async with (
            ClientPool({"s": server.url}, session=http) as pool,
            pool.client("s", "a") as a,
        ):
            assert a._transport.session is http
        assert not http.closed  # borrowed: never closed by the pool


# -- principals never share -------------------------------------------------------------------


async def test_each_principal_has_its_own_token_and_session(
    recorder: tuple[Recorder, str],
) -> None:
    rec, url = recorder
    tokens = {"alice": "token-a", "bob": "token-b", "carol": "token-c"}

    async def auth(server: str, principal: str) -> Any:
        assert server == "rec"
        if principal == "carol":  # a token provider, asked on every request
            return BearerAuth(lambda force: tokens["carol"])
        return tokens[principal]

    async with ClientPool({"rec": url}, auth=auth) as pool:

        async def call(principal: str) -> str:
            async with pool.client("rec", principal) as client:
                return (await client.call_tool("x")).text

        answers = await asyncio.gather(*(call(p) for p in ["alice", "bob", "carol"] * 5))
    sessions = {p: {a.split(":")[0] for a in answers[i::3]} for i, p in enumerate(tokens)}
    assert all(len(ids) == 1 for ids in sessions.values())  # one session per principal
    assert len(set().union(*sessions.values())) == 3
    for principal, (session,) in sessions.items():
        # Every request of that session, the handshake included, carried only its token.
        assert rec.seen[session] == {f"Bearer {tokens[principal]}"}
    assert rec.initializes == 3
    assert rec.probes <= {f"Bearer {token}" for token in tokens.values()}
    assert sorted(rec.deleted) == sorted(set().union(*sessions.values()))


async def test_cache_entries_never_cross_principals() -> None:
    """One shared cache store: a private result is served again to its own principal
    from the cache, and never to another."""
    async with MCPTestServer(eras=("2026-07-28",)) as srv:
        assert srv.modern is not None
        srv.modern.ttl_ms = 60_000
        srv.modern.cache_scope = "private"
        store = MemoryCacheStore()
        tokens = {"alice": "secret-alice", "bob": "secret-bob"}
        async with ClientPool(
            {"m": srv.url}, auth=lambda server, who: tokens[who], cache=store,
            protocol="2026-07-28",
        ) as pool:
            async with pool.client("m", "alice") as alice:
                await alice.discover()
                await alice.discover()  # from the cache
            discovers = srv.stats.by_method["server/discover"]
            async with pool.client("m", "bob") as bob:
                assert bob.cache is not None and alice.cache is not None
                await bob.discover()  # not alice's entry
            assert srv.stats.by_method["server/discover"] == discovers + 1
            async with pool.client("m", "alice") as alice:
                await alice.discover()
            assert srv.stats.by_method["server/discover"] == discovers + 1
            keys = list(store._entries)
            results = [key for key, entry in store._entries.items() if entry.body]
            assert len(results) == 2  # one private result per principal (and a marker)
            assert not any(token in key for key in keys for token in tokens.values())


# -- idle clients, bounds, leases ---------------------------------------------------------------


async def test_idle_clients_close_after_the_ttl_but_never_while_leased(
    server: MCPTestServer,
) -> None:
    async with ClientPool({"s": server.url}, idle_ttl=0.2) as pool:
        async with pool.client("s", "held") as held:
            async with pool.client("s", "idle") as idle:
                await idle.call_tool("echo", {"text": "x"})
            await held.call_tool("echo", {"text": "x"})
            await until(lambda: ("s", "idle") not in pool)
            await until(lambda: idle.closed and server.stats.deletes == 1)
            await asyncio.sleep(0.4)
            assert ("s", "held") in pool and not held.closed
            assert (await held.call_tool("echo", {"text": "still"})).text == "still"
        await until(lambda: ("s", "held") not in pool)
        assert pool.stats().expired == 2
        # An expired key opens a new client on its next use.
        async with pool.client("s", "idle") as again:
            assert again is not idle
            assert (await again.call_tool("echo", {"text": "back"})).text == "back"


async def test_lru_eviction_skips_leased_clients_and_waits_for_a_lease(
    server: MCPTestServer,
) -> None:
    async with ClientPool({"s": server.url}, max_open=2, acquire_timeout=0.3) as pool:
        async with pool.client("s", "a") as a:
            await a.call_tool("echo", {"text": "a"})
        async with pool.client("s", "b") as b:
            await b.call_tool("echo", {"text": "b"})
        async with pool.client("s", "a"):  # a is now the most recently used
            pass
        async with pool.client("s", "c") as c:
            await c.call_tool("echo", {"text": "c"})
            assert ("s", "b") not in pool and ("s", "a") in pool  # b was the LRU
            await until(lambda: b.closed)
            # a and c are leased: a third key waits, then fails with a typed error.
            lease_a = await pool.acquire("s", "a")
            with pytest.raises(PoolExhaustedError, match="max_open"):
                await pool.client("s", "d").__aenter__()
            assert not c.closed and not lease_a.client.closed
            # A lease that comes back makes room for a waiting key.
            waiting = asyncio.ensure_future(pool.acquire("s", "d"))
            await asyncio.sleep(0.05)
            assert not waiting.done()
            await lease_a.release()
            lease_d = await asyncio.wait_for(waiting, 5)
            assert ("s", "a") not in pool and not c.closed
            assert (await lease_d.client.call_tool("echo", {"text": "d"})).text == "d"
            await lease_d.release()
            await lease_d.release()  # idempotent
        assert pool.stats().evicted == 2


async def test_a_failed_open_is_not_kept_and_the_next_use_tries_again(
    server: MCPTestServer,
) -> None:
    calls = 0

    def flaky_auth(name: str, principal: str) -> str:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("the vault is down")
        return "token"

    async with ClientPool({"s": server.url}, auth=flaky_auth) as pool:
        # Concurrent first uses share the one failed attempt and its typed error.
        outcomes = await asyncio.gather(
            *(pool.acquire("s", "a") for _ in range(3)), return_exceptions=True
        )
        assert all(isinstance(outcome, ClientStateError) for outcome in outcomes)
        assert "the vault is down" in str(outcomes[0])
        assert len(pool) == 0 and pool.stats().failed == 1 and calls == 1
        async with pool.client("s", "a") as client:
            assert (await client.call_tool("echo", {"text": "ok"})).text == "ok"
        assert calls == 2


async def test_a_stdio_server_that_cannot_start_fails_its_calls_with_a_typed_error() -> None:
    async with ClientPool({"gone": {"command": "no-such-mcp-server-xyz"}}) as pool:
        for _ in range(2):
            async with pool.client("gone", "a") as client:
                with pytest.raises(ServerSpawnError, match="no-such-mcp-server-xyz"):
                    await client.list_tools()


async def test_near_the_file_descriptor_limit_idle_clients_go_first_then_a_typed_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    count = pool_module._open_fds()
    assert count is not None
    # Room for the reserve and one stdio process (its pipes), no more.
    monkeypatch.setattr(pool_module, "_fd_limit", lambda: count + 8 + pool_module._FDS_STDIO + 1)
    async with ClientPool({"local": STDIO}, fd_reserve=8, acquire_timeout=0.2) as pool:
        async with pool.client("local", "a") as a:
            await a.call_tool("echo", {"text": "a"})
        # The first process's pipes are open: "b" fits only once idle "a" is closed.
        async with pool.client("local", "b") as b:
            await b.call_tool("echo", {"text": "b"})
            assert a.closed and ("local", "a") not in pool
            # "b" is leased: nothing can be closed, so a third key gets a typed error.
            with pytest.raises(PoolExhaustedError, match="RLIMIT_NOFILE"):
                await pool.acquire("local", "c")


# -- stdio and groups ---------------------------------------------------------------------------


async def test_stdio_one_process_per_key_bounded_and_reaped() -> None:
    seen: list[tuple[str, str]] = []

    def auth(server: str, principal: str) -> dict[str, str]:
        seen.append((server, principal))
        return {"PRINCIPAL": principal}

    async with ClientPool({"local": STDIO}, auth=auth, max_processes=1) as pool:
        async with pool.client("local", "a") as a:
            assert (await a.call_tool("echo", {"text": "a"})).text == "a"
            transport = a._given_transport
            assert isinstance(transport, StdioTransport) and transport.pid is not None
            pid_a = transport.pid
        async with pool.client("local", "b") as b:
            assert (await b.call_tool("echo", {"text": "b"})).text == "b"
            assert a.closed and pool.stats().processes == 1
            other = b._given_transport
            assert isinstance(other, StdioTransport) and other.pid not in (None, pid_a)
    assert seen == [("local", "a"), ("local", "b")]


async def test_the_process_bound_closes_an_idle_process_not_an_http_client(
    server: MCPTestServer,
) -> None:
    async with ClientPool({"web": server.url, "local": STDIO}, max_processes=1) as pool:
        async with pool.client("web", "a") as web:
            await web.call_tool("echo", {"text": "w"})
        async with pool.client("local", "a") as first:
            await first.call_tool("echo", {"text": "1"})
        async with pool.client("local", "b") as second:
            await second.call_tool("echo", {"text": "2"})
        # The HTTP client was the least recently used, but closing it frees no process.
        assert ("web", "a") in pool and not web.closed
        assert ("local", "a") not in pool and first.closed
        assert pool.stats().processes == 1


async def test_a_group_per_principal(server: MCPTestServer) -> None:
    asked: list[tuple[str, str]] = []

    def auth(name: str, principal: str) -> str | None:
        asked.append((name, principal))
        return None if name == "team/local" else f"t-{principal}"

    servers = {"team": {"mcpServers": {"web": {"url": server.url}, "local": STDIO}}}
    async with ClientPool(servers, auth=auth) as pool:
        async with pool.client("team", "alice") as group:
            assert isinstance(group, MCPClientGroup)
            names = sorted(tool.name for tool in await group.list_tools())
            assert "web__echo" in names and "local__echo" in names
            assert (await group.call_tool("local__echo", {"text": "hi"})).text == "hi"
            assert pool.stats().processes == 1
        async with pool.client("team", "alice") as again:
            assert again is group
    assert sorted(asked) == [("team/local", "alice"), ("team/web", "alice")]


# -- misuse -------------------------------------------------------------------------------------


async def test_misuse_raises_typed_errors(server: MCPTestServer) -> None:
    with pytest.raises(ConfigError, match="auth must be a callable"):
        ClientPool({"s": server.url}, auth="token")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="session must be"):
        ClientPool({"s": server.url}, session="shared")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="max_open"):
        ClientPool({"s": server.url}, max_open=0)
    with pytest.raises(ConfigError, match="idle_ttl"):
        ClientPool({"s": server.url}, idle_ttl=-1)
    with pytest.raises(ConfigError, match="servers"):
        ClientPool({})
    with pytest.raises(ConfigError, match="expected a URL"):
        ClientPool({"s": 42})  # type: ignore[dict-item]
    with pytest.raises(ConfigError):
        ClientPool({"s": "not a url"})
    with pytest.raises(ConfigError, match="timeout"):
        ClientPool({"s": server.url}, timeout="soon")
    pool = ClientPool({"s": server.url})
    with pytest.raises(PoolClosedError, match="not open"):
        await pool.acquire("s", "a")
    async with pool:
        with pytest.raises(UnknownServerError, match="no server 'x'"):
            await pool.acquire("x", "a")
        with pytest.raises(ConfigError, match="principal"):
            await pool.acquire("s", "")
        with pytest.raises(ClientStateError, match="already open"):
            await pool.__aenter__()
        leased = (await pool.acquire("s", "a")).client
    assert pool.closed and leased.closed
    with pytest.raises(PoolClosedError, match="closed"):
        await pool.acquire("s", "a")
    with pytest.raises(PoolClosedError):
        async with pool:
            pass
    async with ClientPool({"local": STDIO}, max_processes=0) as none:
        with pytest.raises(ConfigError, match="max_processes=0"):
            await none.acquire("local", "a")
    async with ClientPool({"s": server.url}, auth=lambda s, p: 42) as bad:  # type: ignore[arg-type,return-value]
        with pytest.raises(ConfigError, match="token, an auth Hook or None"):
            await bad.acquire("s", "a")
        assert len(bad) == 0


async def test_closing_the_pool_while_a_client_opens_gives_a_typed_error(
    server: MCPTestServer,
) -> None:
    started = asyncio.Event()

    async def slow_auth(name: str, principal: str) -> str:
        started.set()
        await asyncio.sleep(30)
        return "token"

    pool = ClientPool({"s": server.url}, auth=slow_auth)
    async with pool:
        waiting = [asyncio.ensure_future(pool.acquire("s", "a")) for _ in range(2)]
        await started.wait()
    outcomes = await asyncio.gather(*waiting, return_exceptions=True)
    assert all(isinstance(outcome, PoolClosedError) for outcome in outcomes), outcomes
    assert len(pool) == 0
