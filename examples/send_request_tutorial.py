"""The tutorial's ``send_request`` flow, rewritten the right way.

Run it with ``python examples/send_request_tutorial.py``; it needs ``pyjwt[crypto]``
(``pip install 'mcp-async[jwt]'``; the dev extra has it). The server is a small JSON API
inside this process on 127.0.0.1 that checks a JWT, sends rate-limit headers, refuses
requests over its limit with 429, and answers its first request with a 503.

The tutorial built every request by hand: custom headers, a JWT it signed itself, a loop
that slept on rate-limit headers, a retry loop, and timing code around each call. Each of
those is now one argument of the client, built once and shared by every task:

* custom headers   -> ``headers=`` (defaults) and a ``request_hook`` (per request);
* JWT              -> ``auth=JWTAuth(...)``, cached and re-signed before it expires;
* rate-limit headers -> ``rate_limit=RateLimit()``, which reads ``X-RateLimit-*`` and
  ``RateLimit`` headers and paces requests before the server has to refuse them;
* retry            -> ``retry=RetryPolicy(...)``, only for failures that are safe to retry;
* monitoring       -> ``metrics=`` a ``MetricsHook`` subclass (or ``PrometheusMetrics``).

See docs/send_request.md and docs/resilience.md.
"""

from __future__ import annotations

import asyncio
import math
import statistics
import time
import uuid
from collections import Counter

import jwt
from aiohttp import web

from mcp_async import (
    AsyncMCPClient,
    HTTPRequest,
    JWTAuth,
    MetricsHook,
    RateLimit,
    RequestSample,
    RetryPolicy,
    request_hook,
)

SECRET = "an-example-secret-of-at-least-32-bytes!"
LIMIT = 10  # requests per one-second window, enforced by the server


class JSONAPI:
    """The server: ``POST /api/items/search`` behind JWT auth and a rate limit."""

    def __init__(self) -> None:
        self.window_start = time.monotonic()
        self.used = 0
        self.seen = Counter[str]()  # status codes answered
        app = web.Application()
        app.router.add_post("/api/items/search", self.search)
        self.runner = web.AppRunner(app, access_log=None)
        self.url = ""

    async def __aenter__(self) -> JSONAPI:
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self.runner.addresses[0][1]}/api"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.runner.cleanup()

    def answer(self, status: int, data: object, headers: dict[str, str]) -> web.Response:
        self.seen[str(status)] += 1
        return web.json_response(data, status=status, headers=headers)

    async def search(self, request: web.Request) -> web.Response:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        try:
            claims = jwt.decode(token, SECRET, algorithms=["HS256"], audience=self.url)
        except jwt.InvalidTokenError:
            return self.answer(401, {"error": "bad token"}, {})
        if sum(self.seen.values()) == 0:  # a hiccup on the very first request
            return self.answer(503, {"error": "warming up"}, {"Retry-After": "0"})

        now = time.monotonic()
        if now - self.window_start >= 1.0:
            self.window_start, self.used = now, 0
        reset = max(1, math.ceil(self.window_start + 1.0 - now))
        headers = {"X-RateLimit-Limit": str(LIMIT), "X-RateLimit-Reset": str(reset)}
        if self.used >= LIMIT:
            return self.answer(429, {"error": "slow down"},
                               {**headers, "X-RateLimit-Remaining": "0", "Retry-After": str(reset)})
        self.used += 1
        headers["X-RateLimit-Remaining"] = str(LIMIT - self.used)
        query = (await request.json())["q"]
        return self.answer(200, {"q": query, "results": [f"{query}-1", f"{query}-2"],
                                 "tenant": claims["tenant"],
                                 "app": request.headers.get("X-App", "?"),
                                 "request_id": request.headers.get("X-Request-Id")}, headers)


class Monitor(MetricsHook):
    """Monitoring: keep every finished request; the base class also logs it at DEBUG."""

    def __init__(self) -> None:
        super().__init__()
        self.samples: list[RequestSample] = []

    def on_finish(self, sample: RequestSample) -> None:
        super().on_finish(sample)
        self.samples.append(sample)

    def report(self) -> str:
        outcomes = Counter(sample.outcome for sample in self.samples)
        durations = [sample.duration * 1000 for sample in self.samples]
        retried = sum(1 for sample in self.samples if sample.attempts > 1)
        return (f"{len(self.samples)} requests, outcomes {dict(outcomes)}, {retried} retried, "
                f"median {statistics.median(durations):.1f} ms")


@request_hook
async def add_request_id(request: HTTPRequest) -> None:
    """A header that differs per request (the same on each retry of one request)."""
    request.headers.setdefault("X-Request-Id", uuid.uuid4().hex)


async def main() -> None:
    async with JSONAPI() as api:
        monitor = Monitor()
        async with AsyncMCPClient(
            api.url,
            headers={"X-App": "tutorial"},           # sent with every request
            hooks=[add_request_id],
            auth=JWTAuth(SECRET, issuer="tutorial", audience=api.url,
                         claims={"tenant": "acme"}),
            rate_limit=RateLimit(),                  # follow the server's rate-limit headers
            retry=RetryPolicy(attempts=4, backoff=0.1),
            metrics=monitor,
            timeout=10,
        ) as client:
            # One request: the 503 is retried, the reply is the decoded JSON.
            reply = await client.send_request("items/search", {"q": "lamp"})
            print(f"search lamp -> {reply['results']} (tenant {reply['tenant']}, "
                  f"app {reply['app']}, request id set: {bool(reply['request_id'])})")

            # Many requests at once: the limiter paces them to the server's budget.
            started = time.monotonic()
            batch = await client.send_requests(
                [("items/search", {"q": f"item{i}"}) for i in range(15)], concurrency=8,
            )
            elapsed = time.monotonic() - started
            print(f"15 searches: {len(batch.succeeded)} ok, {len(batch.failed)} failed, "
                  f"in {elapsed:.1f}s")

        print("monitor:", monitor.report())
        print("server answered:", dict(sorted(api.seen.items())))


if __name__ == "__main__":
    asyncio.run(main())
