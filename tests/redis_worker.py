"""One worker process of a gateway, for tests/stores/test_redis_stores.py (not a test module).

``python tests/redis_worker.py MODE REDIS_URL ARGS...``; prints one JSON line at the end.

* ``refresh RS_URL``: OAuth with the tokens on Redis (principal ``alice``; it can never
  sign in by itself); one call, prints ``ready``, waits for a line on stdin, one more
  call, prints the text and hashes of the access tokens before and after;
* ``cache URL TOKEN``: ``server/discover`` through a Redis-backed response cache;
  prints the cache's hits and misses;
* ``export URL NAME``: opens a session, exports it to Redis under NAME;
* ``resume URL NAME``: resumes the session saved under NAME and calls ``echo``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sys
from typing import Any

import redis.asyncio as redis_asyncio

from mcp_async import AsyncMCPClient
from mcp_async.auth.callback import FunctionCallbackHandler
from mcp_async.auth.oauth import OAuth
from mcp_async.stores.redis import RedisCacheStore, RedisSessionStore, RedisTokenStorage
from tests.auth.as_server import REDIRECT_URI


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


async def _never(*_: Any) -> Any:
    raise AssertionError("a worker must never need a user to sign in")


async def refresh(client: Any, url: str) -> dict[str, Any]:
    auth = OAuth(
        redirect_handler=_never,
        callback_handler=FunctionCallbackHandler(_never, redirect_uri=REDIRECT_URI),
        storage=RedisTokenStorage(client, principal="alice"),
    )
    async with AsyncMCPClient(url, auth=auth, timeout=30) as mcp:
        await mcp.call_tool("echo", {"text": "warm up"})
        assert auth.tokens is not None
        before = _sha(auth.tokens.access_token)
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        result = await mcp.call_tool("echo", {"text": "after the storm"})
        assert auth.tokens is not None
        return {"text": result.text, "before": before, "after": _sha(auth.tokens.access_token)}


async def cache(client: Any, url: str, token: str) -> dict[str, Any]:
    async with RedisCacheStore(client) as store, AsyncMCPClient(
        url, auth=token, cache=store, protocol="2026-07-28", timeout=30
    ) as mcp:
        found = await mcp.discover()
        assert mcp.cache is not None and found.server_info is not None
        return {"hits": mcp.cache.hits, "misses": mcp.cache.misses,
                "server": found.server_info.name}


async def export(client: Any, url: str, name: str) -> dict[str, Any]:
    async with AsyncMCPClient(url, timeout=30) as mcp:
        await mcp.call_tool("echo", {"text": "first"})
        await RedisSessionStore(client).save(name, mcp.export_session())
        return {"session": mcp.session_id}


async def resume(client: Any, url: str, name: str) -> dict[str, Any]:
    state = await RedisSessionStore(client).load(name)
    assert state is not None
    async with AsyncMCPClient.resume(url, state, timeout=30) as mcp:
        result = await mcp.call_tool("echo", {"text": "resumed"})
        return {"text": result.text, "session": mcp.session_id}


async def main() -> None:
    mode, redis_url, *args = sys.argv[1:]
    client = redis_asyncio.Redis.from_url(redis_url)
    try:
        run = {"refresh": refresh, "cache": cache, "export": export, "resume": resume}[mode]
        print(json.dumps(await run(client, *args)), flush=True)
    finally:
        await client.aclose()


if __name__ == "__main__":
    asyncio.run(main())
