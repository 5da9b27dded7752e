"""Sign every request with a JWT, retry what is safe to retry, and respect rate limits.

Run it with ``python examples/jwt_retry_ratelimit.py``. The server is
``mcp_async.testing.demo_server()`` on 127.0.0.1, inside this process; its fault injection
makes it answer 503 and 429 so that the retry policy and the rate limiter have work to do.
``JWTAuth`` needs ``pyjwt[crypto]`` (``pip install 'mcp-async[jwt]'``; the dev extra has it).

The pipeline runs ``metrics -> retry -> rate_limit -> auth -> transport`` for every
request, so each retry waits its turn at the rate limiter again and carries a fresh JWT.
"""

from __future__ import annotations

import asyncio
import logging
import time

import jwt  # PyJWT, only to show what the server received

from mcp_async import AsyncMCPClient, HTTPStatusError, JWTAuth, RateLimit, RetryPolicy
from mcp_async.testing import Fault, demo_server

# A shared HMAC secret; HS256 needs at least 32 bytes. Real keys come from a secret store.
SECRET = "an-example-secret-of-at-least-32-bytes!"


async def main() -> None:
    # Show the retry policy's INFO line for each retry.
    logging.basicConfig(level=logging.INFO, format="  log: %(name)s: %(message)s")
    logging.getLogger("aiohttp").setLevel(logging.WARNING)

    async with demo_server() as server:
        auth = JWTAuth(
            SECRET,
            algorithm="HS256",
            issuer="example-agent",
            audience=server.url,
            ttl=300,                     # each token lives 5 minutes; it is re-signed before
            claims={"tenant": "acme"},
        )
        retry = RetryPolicy(attempts=4, backoff=0.05, deadline=10)
        # At most 20 requests per second from this client, 5 back to back.
        limit = RateLimit(rate=20, per=1.0, burst=5)

        async with AsyncMCPClient(server.url, auth=auth, retry=retry, rate_limit=limit) as client:
            # 1. JWT: the server got "Authorization: Bearer <jwt>".
            await client.call_tool("echo", {"text": "hi"})
            assert server.stats.last_headers is not None
            token = server.stats.last_headers["Authorization"].removeprefix("Bearer ")
            claims = jwt.decode(token, SECRET, algorithms=["HS256"], audience=server.url)
            print(f"JWT claims the server received: iss={claims['iss']} "
                  f"tenant={claims['tenant']} ttl={claims['exp'] - claims['iat']}s")

            # 2. Retry: the next two tool calls get 503. "add" is marked idempotent so a
            # dropped reply could be re-sent too; a 503 is retried either way.
            server.faults.add(Fault.error(503, method="tools/call", times=2))
            before = server.stats.by_method["tools/call"]
            result = await client.call_tool("add", {"a": 1, "b": 2}, idempotent=True)
            tries = server.stats.by_method["tools/call"] - before
            print(f"add after two 503s -> {result.structured_content} in {tries} tries")

            # 3. A 429 with Retry-After: the retry waits exactly what the server asked
            # (1 s) and, meanwhile, the limiter holds back other requests to this URL.
            server.faults.add(Fault.rate_limited(retry_after=1, method="tools/call", times=1))
            started = time.monotonic()
            result = await client.call_tool("echo", {"text": "after the 429"})
            print(f"echo after a 429 -> {result.text!r} in {time.monotonic() - started:.1f}s")

            # 4. The token bucket: 25 calls at 20/s with a burst of 5 take about 1 s.
            await asyncio.sleep(0.3)  # let the bucket refill its burst
            started = time.monotonic()
            await asyncio.gather(*(client.call_tool("echo", {"text": str(i)}) for i in range(25)))
            print(f"25 calls through the rate limiter took {time.monotonic() - started:.1f}s")

            # Per call: never retry a call that is not safe to repeat.
            server.faults.add(Fault.error(503, method="tools/call", times=1))
            try:
                await client.call_tool("echo", {"text": "once"}, retry=False)
            except HTTPStatusError as exc:
                print(f"with retry=False the 503 surfaces: HTTPStatusError {exc.status}")


if __name__ == "__main__":
    asyncio.run(main())
