"""Shared state on Redis (issue 29), against a real redis-server started here on loopback.

Four worker processes share one OAuth token (one refresh at the authorization server
under a refresh storm), one response cache (a hit in one serves another; a private
entry never crosses principals) and one exported session (resumed by another worker
without a handshake). Killing Redis mid-run gives typed errors, or in-process
fallbacks that say so.

redis-server comes from Debian's package (scripts/install-redis.sh). Without it these
tests skip, except under ``CI=true``, where a missing redis-server is a failure.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

redis_asyncio = pytest.importorskip("redis.asyncio")

from mcp_async import AsyncMCPClient, SessionState  # noqa: E402
from mcp_async.auth.storage import ClientRegistration, OAuthTokens, TokenStorageError  # noqa: E402
from mcp_async.features.cache import CacheEntry  # noqa: E402
from mcp_async.stores import StoreError  # noqa: E402
from mcp_async.stores.redis import (  # noqa: E402
    RedisCacheStore,
    RedisSessionStore,
    RedisTokenStorage,
)
from mcp_async.testing import demo_server  # noqa: E402
from tests.auth.as_server import env_context, headless_oauth  # noqa: E402
from tests.interop.servers import python_script_argv, reserve_port  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).resolve().parents[1] / "redis_worker.py"
#: What redis_worker.py imports.
WORKER_IMPORTS = ("redis.asyncio", "mcp_async", "mcp_async.auth.callback", "mcp_async.auth.oauth",
                  "mcp_async.stores.redis", "tests.auth.as_server")


# -- a real redis-server on loopback ----------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RedisServer:
    """One redis-server process on 127.0.0.1 (no persistence)."""

    binary: str
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--protected-mode", "yes"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            start_new_session=True,
        )
        deadline = time.monotonic() + 20
        while True:
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode() if self.process.stderr else ""
                raise RuntimeError(f"redis-server exited at start: {err}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("redis-server did not answer PING within 20 s")
            time.sleep(0.02)  # only while waiting for a port to open

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            if process is not None and process.stderr:
                process.stderr.close()
            return
        process.send_signal(signal.SIGKILL)  # no persistence: nothing to flush
        process.wait(10)
        if process.stderr:
            process.stderr.close()


def _redis_binary() -> str:
    found = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if os.path.exists("/usr/bin/redis-server") else None
    )
    if found is None:
        message = ("redis-server is not installed (Debian: apt-get install -y redis-server; "
                   "scripts/install-redis.sh)")
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return found


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    # A reserved port: the tests stop and restart the server on it, and another xdist
    # worker must not take it in between.
    port, lock = reserve_port()
    server = RedisServer(_redis_binary(), port)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        if lock >= 0:
            os.close(lock)


@pytest.fixture
async def redis(redis_server: RedisServer) -> AsyncIterator[Any]:
    client = redis_asyncio.Redis.from_url(redis_server.url, socket_timeout=2,
                                          socket_connect_timeout=2)
    try:
        yield client
    finally:
        await client.aclose()


async def _run_workers(
    redis_url: str, mode: str, *args: str, count: int = 1, go: asyncio.Event | None = None,
    ready: asyncio.Event | None = None,
) -> list[dict[str, Any]]:
    """Run ``count`` worker processes of ``mode``; each prints one JSON line at the end.

    With ``go``: each worker prints ``ready`` first and waits for a line on stdin,
    sent to all of them once ``go`` is set (``ready`` is set when all are ready).
    """
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    # Forked from a process that imported the worker's modules once (tests/interop/
    # forkserver.py), as a gateway's workers often are: separate processes all the same.
    command, *argv = python_script_argv(
        WORKER, mode, redis_url, *args, preload=WORKER_IMPORTS, path=(str(REPO),))
    procs = [
        await asyncio.create_subprocess_exec(
            command, *argv,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, env=env,
        )
        for _ in range(count)
    ]
    try:
        async with asyncio.timeout(90):
            if go is not None:
                for proc in procs:
                    assert proc.stdout is not None
                    line = await proc.stdout.readline()
                    assert line.strip() == b"ready", line + await proc.stderr.read()  # type: ignore[union-attr]
                if ready is not None:
                    ready.set()
                await go.wait()
                for proc in procs:
                    assert proc.stdin is not None
                    proc.stdin.write(b"go\n")
                    await proc.stdin.drain()
            outputs = await asyncio.gather(*(proc.communicate() for proc in procs))
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    results = []
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err.decode()
        results.append(json.loads(out.decode().strip().splitlines()[-1]))
    return results


# -- token storage -----------------------------------------------------------------------------


EXPIRES = time.time() + 600


def _tokens(access: str = "at-1", refresh: str | None = "rt-1") -> OAuthTokens:
    return OAuthTokens(access_token=access, refresh_token=refresh, expires_at=EXPIRES,
                       issuer="https://as.example", resource="https://mcp.example/mcp")


async def test_token_storage_keys_by_principal_with_expiry_and_no_secrets(redis: Any) -> None:
    alice = RedisTokenStorage(redis, principal="alice@example.com")
    bob = RedisTokenStorage(redis, principal="bob@example.com")
    await alice.set_tokens("https://mcp.example/mcp", _tokens())
    await alice.set_tokens("https://other.example/mcp", _tokens("at-2", None))
    await alice.set_client_info("https://as.example", ClientRegistration(
        client_id="c1", client_secret="s3cret", client_secret_expires_at=time.time() + 100))
    # Another process reads it back: a new storage object with an empty local copy.
    again = RedisTokenStorage(redis, principal="alice@example.com")
    assert await again.get_tokens("https://mcp.example/mcp") == _tokens()
    info = await again.get_client_info("https://as.example")
    assert info is not None and info.client_secret == "s3cret"
    assert await bob.get_tokens("https://mcp.example/mcp") is None
    assert await bob.get_client_info("https://as.example") is None
    keys = sorted(k.decode() for k in await redis.keys("*"))
    assert len(keys) == 3 and all(k.startswith("mcp_async:oauth:") for k in keys)
    for secret in ("alice", "example", "at-1", "rt-1", "s3cret", "https"):
        assert all(secret not in k for k in keys)
    ttls = {k: await redis.pttl(k) for k in keys}
    refreshable = again.key_for("tokens", "https://mcp.example/mcp")
    assert ttls[refreshable] > 29 * 86400 * 1000  # kept while it can be refreshed
    assert 0 < ttls[again.key_for("tokens", "https://other.example/mcp")] <= 600_000
    assert 0 < ttls[again.key_for("client", "https://as.example")] <= 100_000
    await again.delete("https://mcp.example/mcp", keep_client_info=True)
    assert await alice.get_tokens("https://mcp.example/mcp") is None
    assert await alice.get_client_info("https://as.example") is not None
    await again.delete("https://as.example")
    assert await alice.get_client_info("https://as.example") is None
    assert "alice" not in repr(alice)


async def test_token_storage_refuses_foreign_values_and_bad_options(redis: Any) -> None:
    store = RedisTokenStorage(redis, principal="p")
    await redis.set(store.key_for("tokens", "k"), b"not json")
    with pytest.raises(TokenStorageError, match="does not hold OAuth tokens"):
        await store.get_tokens("k")
    other = RedisTokenStorage(redis, principal="q")
    await other.set_tokens("k", _tokens())
    await redis.copy(other.key_for("tokens", "k"), store.key_for("tokens", "k"), replace=True)
    with pytest.raises(TokenStorageError, match="of this principal"):
        await store.get_tokens("k")
    from mcp_async import ConfigError
    with pytest.raises(ConfigError, match=r"redis\.asyncio\.Redis"):
        RedisTokenStorage("redis://x")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="principal"):
        RedisTokenStorage(redis, principal="")
    with pytest.raises(ConfigError, match="lock_ttl"):
        RedisTokenStorage(redis, lock_ttl=0)
    with pytest.raises(ConfigError, match="storage key"):
        await store.get_tokens("")


async def test_refresh_lock_of_a_crashed_holder_expires(redis: Any) -> None:
    store = RedisTokenStorage(redis, principal="p", lock_ttl=0.5, lock_wait=10)
    # A holder that crashed: the lock key is there, nobody will release it.
    await redis.set(store.key_for("lock", "k"), "crashed-holder", px=500, nx=True)
    started = time.monotonic()
    async with store.refresh_lock("k"):
        waited = time.monotonic() - started
    assert 0.3 < waited < 5
    # A live holder makes others wait, up to lock_wait, then a typed error.
    impatient = RedisTokenStorage(redis, principal="p", lock_ttl=30, lock_wait=0.3)
    async with store.refresh_lock("k"):
        with pytest.raises(TokenStorageError, match=r"waited 0\.3s for the refresh lock"):
            async with impatient.refresh_lock("k"):
                pass


@pytest.mark.timeout(180)  # worker processes, on a loaded machine
async def test_four_workers_refresh_a_shared_token_once(redis_server: RedisServer,
                                                         redis: Any) -> None:
    async with env_context() as env:
        # Sign in once (a user in a browser); the tokens and registration go to Redis.
        storage = RedisTokenStorage(redis, principal="alice")
        auth = headless_oauth(env, storage=storage)
        async with AsyncMCPClient(env.rs.url, auth=auth) as client:
            await client.call_tool("echo", {"text": "sign in"})
        assert len(env.browser.visits) == 1
        first = auth.tokens
        assert first is not None
        go, ready = asyncio.Event(), asyncio.Event()

        async def storm() -> None:
            await ready.wait()
            env.authorization.revoke_access_tokens()  # every worker's next call gets 401
            go.set()

        storming = asyncio.ensure_future(storm())
        results = await _run_workers(redis_server.url, "refresh", env.rs.url, count=4,
                                     go=go, ready=ready)
        await storming
        assert [r["text"] for r in results] == ["after the storm"] * 4
        assert all(r["before"] == _sha(first.access_token) for r in results)
        assert len({r["after"] for r in results}) == 1  # the one refreshed token
        assert env.authorization.count_grant("refresh_token") == 1
        assert len(env.browser.visits) == 1  # nobody had to sign in again
        stored = await RedisTokenStorage(redis, principal="alice").get_tokens(env.rs.url)
        assert stored is not None and _sha(stored.access_token) == results[0]["after"]


async def test_expired_shared_token_is_refreshed_once_by_separate_hooks(redis: Any) -> None:
    """The expiry path (no 401): hooks with separate in-process single flights, as in
    separate workers, refresh an expired shared token once."""
    async with env_context() as env:
        first_hook = headless_oauth(env, storage=RedisTokenStorage(redis, principal="bob"))
        async with AsyncMCPClient(env.rs.url, auth=first_hook) as client:
            await client.call_tool("echo", {"text": "sign in"})
        env.clock.advance(3600 + 1)  # the shared access token has expired
        hooks = [headless_oauth(env, storage=RedisTokenStorage(redis, principal="bob"))
                 for _ in range(4)]
        clients = [AsyncMCPClient(env.rs.url, auth=hook) for hook in hooks]
        for client in clients:
            await client.open()
        try:
            results = await asyncio.gather(
                *(client.call_tool("echo", {"text": str(i)}) for i, client in enumerate(clients))
            )
        finally:
            for client in clients:
                await client.aclose()
        assert [r.text for r in results] == ["0", "1", "2", "3"]
        assert env.authorization.count_grant("refresh_token") == 1
        assert len({hook.tokens.access_token for hook in hooks}) == 1
        assert len(env.browser.visits) == 1


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# -- the response cache ------------------------------------------------------------------------


@pytest.mark.timeout(180)  # worker processes, on a loaded machine
async def test_cache_is_shared_by_workers_and_private_entries_stay_private(
    redis_server: RedisServer, redis: Any,
) -> None:
    async with demo_server(eras=("2026-07-28",)) as server:
        assert server.modern is not None
        server.modern.ttl_ms = 600_000
        server.modern.cache_scope = "private"
        url = server.url
        (alice1,) = await _run_workers(redis_server.url, "cache", url, "alice-token")
        assert alice1 == {"hits": 0, "misses": 1, "server": "mcp-async-demo"}
        assert server.stats.by_method["server/discover"] == 1
        # Two other workers of the same principal: served from the shared cache.
        alice2, alice3 = await _run_workers(redis_server.url, "cache", url, "alice-token",
                                            count=2)
        assert alice2["hits"] == alice3["hits"] == 1
        assert server.stats.by_method["server/discover"] == 1
        # Another principal never sees alice's private entry.
        (bob,) = await _run_workers(redis_server.url, "cache", url, "bob-token")
        assert bob["hits"] == 0 and bob["misses"] == 1
        assert server.stats.by_method["server/discover"] == 2
    keys = [k.decode() for k in await redis.keys("*")]
    assert keys and all("token" not in k for k in keys)
    for key in keys:
        if key.startswith("mcp_async:cache:entry:"):
            assert b"alice-token" not in await redis.get(key)


async def test_live_workers_see_each_others_writes(redis: Any,
                                                   redis_server: RedisServer) -> None:
    other_client = redis_asyncio.Redis.from_url(redis_server.url)
    try:
        async with RedisCacheStore(redis) as one, RedisCacheStore(other_client) as two:
            entry = CacheEntry('{"tools":[]}', time.time() + 60, "public")
            one.set("k1", entry)
            await _until(lambda: two.get("k1") == entry)
            two.delete("k1")
            await _until(lambda: one.get("k1") is None)
            one.set("k2", entry)
            await _until(lambda: two.get("k2") is not None)
            two.clear()
            await _until(lambda: one.keys() == [])
            assert not await redis.keys("mcp_async:cache:entry:*")
    finally:
        await other_client.aclose()


async def test_an_unopened_cache_store_opens_itself(redis: Any) -> None:
    store = RedisCacheStore(redis)
    try:
        store.set("k", CacheEntry("{}", time.time() + 60, "public"))
        assert store.get("k") is not None  # served locally at once
        await _until(lambda: store.degraded is False and len(store) == 1)
        for _ in range(500):
            if await redis.exists(store.key_for("k")):
                break
            await asyncio.sleep(0.01)
        assert await redis.exists(store.key_for("k"))
    finally:
        await store.aclose()
    with pytest.raises(StoreError, match="closed"):
        await store.open()


async def test_a_redis_that_never_answers_is_a_typed_error_at_open() -> None:
    dead = redis_asyncio.Redis.from_url(f"redis://127.0.0.1:{_free_port()}/0",
                                        socket_connect_timeout=0.3)
    try:
        store = RedisCacheStore(dead, timeout=0.3)
        with pytest.raises(StoreError, match=r"could not be followed: .*connecting"):
            await store.open()
        store.set("k", CacheEntry("{}", time.time() + 60, "public"))
        assert store.get("k") is not None  # the cache works in this process
        await store.aclose()
        with pytest.raises(StoreError, match="Redis load of a session state failed"):
            await RedisSessionStore(dead, timeout=0.3).load("s")
        with pytest.raises(TokenStorageError, match="this process has no copy"):
            await RedisTokenStorage(dead, timeout=0.3).get_tokens("k")
    finally:
        await dead.aclose()


async def _until(condition: Any, within: float = 10.0) -> None:
    """Wait until ``condition()`` holds (polled; fails after ``within`` seconds)."""
    for _ in range(int(within * 100)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"not within {within}s: {condition}")


# -- exported sessions ---------------------------------------------------------------------------


@pytest.mark.timeout(180)  # worker processes, on a loaded machine
async def test_one_exported_session_resumed_by_other_workers(redis_server: RedisServer,
                                                             redis: Any) -> None:
    async with demo_server() as server:
        (exported,) = await _run_workers(redis_server.url, "export", server.url, "alice:demo")
        assert server.stats.by_method["initialize"] == 1
        resumed = await _run_workers(redis_server.url, "resume", server.url, "alice:demo",
                                     count=3)
        assert {r["session"] for r in resumed} == {exported["session"]}
        assert [r["text"] for r in resumed] == ["resumed"] * 3
        assert server.stats.by_method["initialize"] == 1  # no new handshake anywhere
        assert server.stats.by_method["tools/call"] == 4
        assert server.stats.deletes == 0
    store = RedisSessionStore(redis)
    assert await store.load("nobody") is None
    await redis.set(store.key_for("bad"), b'{"name": "bad", "state": {"format": "x"}}')
    from mcp_async import SessionStateError
    with pytest.raises(SessionStateError, match="not an mcp_async session state"):
        await store.load("bad")
    await redis.set(store.key_for("moved"), await redis.get(store.key_for("alice:demo")))
    with pytest.raises(SessionStateError, match="does not hold the session state"):
        await store.load("moved")
    await store.delete("alice:demo")
    assert await store.load("alice:demo") is None


# -- losing Redis mid-run ----------------------------------------------------------------------


@pytest.mark.timeout(180)  # worker processes, on a loaded machine
async def test_losing_redis_gives_typed_errors_and_safe_fallbacks(
    redis_server: RedisServer, redis: Any, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="mcp_async")
    tokens = RedisTokenStorage(redis, principal="alice", timeout=1, lock_wait=1)
    sessions = RedisSessionStore(redis, timeout=1)
    await tokens.set_tokens("known", _tokens())
    state = SessionState.from_dict({
        "format": "mcp_async/session-state", "version": 1, "endpoint": "http://h/mcp",
        "transport": "streamable-http", "protocol_version": "2026-07-28", "era": "stateless",
        "session_id": None, "server": {}, "exported_at": 0,
    })
    await sessions.save("s", state)
    async with demo_server(eras=("2026-07-28",)) as server:
        assert server.modern is not None
        server.modern.ttl_ms = 600_000
        async with RedisCacheStore(redis, timeout=1) as cache, \
                AsyncMCPClient(server.url, cache=cache, protocol="2026-07-28") as client:
            await client.discover()
            await _until(lambda: len(cache) == 1)
            redis_server.stop()  # Redis dies

            # Sessions: nothing safe to fall back on; a typed error.
            with pytest.raises(StoreError, match="Redis load of a session state failed"):
                await sessions.load("s")
            with pytest.raises(StoreError, match="save of a session state"):
                await sessions.save("s", state)
            # Tokens: this process's own copy is served, and the outage is logged.
            assert await tokens.get_tokens("known") == _tokens()
            assert tokens.degraded
            assert "using this process's copy" in caplog.text
            with pytest.raises(TokenStorageError, match="this process has no copy"):
                await tokens.get_tokens("never-seen")
            await tokens.set_tokens("known", _tokens("at-new"))  # kept here, logged
            assert await tokens.get_tokens("known") == _tokens("at-new")
            # No refresh without the shared lock.
            with pytest.raises(TokenStorageError, match="refresh lock on Redis is unavailable"):
                async with tokens.refresh_lock("known"):
                    pass
            # The cache goes on in this process.
            await client.discover()
            assert client.cache is not None and client.cache.hits == 1
            await client.discover(cache="refresh")  # a write that cannot be shared
            await _until(lambda: cache.degraded)
            assert "the response cache works in this process only" in caplog.text

            # Redis comes back (same port): the cache follows again, sharing resumes.
            redis_server.start()
            await _until(lambda: not cache.degraded, within=30)
            cache.set("again", CacheEntry("{}", time.time() + 60, "public"))
            await _until(lambda: len(list(_sync_keys(redis_server))) >= 1, within=10)
    # Redis came back empty (no persistence): what was written meanwhile is written again.
    assert await tokens.get_tokens("known") == _tokens("at-new")
    assert not tokens.degraded
    assert await RedisTokenStorage(redis, principal="alice").get_tokens("known") == \
        _tokens("at-new")


def _sync_keys(server: RedisServer) -> list[bytes]:
    with socket.create_connection(("127.0.0.1", server.port), timeout=2) as conn:
        conn.sendall(b"KEYS mcp_async:cache:entry:*\r\n")
        reply = conn.recv(65536)
    return [line for line in reply.split(b"\r\n") if line.startswith(b"mcp_async")]


def test_missing_redis_server_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", tempfile.gettempdir())
    monkeypatch.setattr(os.path, "exists", lambda path: False)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="redis-server is not installed"):
        _redis_binary()
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception):
        _redis_binary()

