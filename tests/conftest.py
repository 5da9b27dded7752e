"""Shared fixtures: small real aiohttp.web servers on loopback port 0."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer


@dataclass
class EchoServer:
    """A JSON echo server that records what it saw and counts TCP connections."""

    server: TestServer
    transports: set[int] = field(default_factory=set)
    requests: list[dict[str, Any]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return str(self.server.make_url("/api"))

    @property
    def connections(self) -> int:
        return len(self.transports)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def pytest_configure(config: pytest.Config) -> None:
    """Measure the test processes only, not the processes the tests start.

    Under ``coverage run`` with ``patch = ["subprocess"]`` (pyproject.toml) every Python
    process started with this variable set measures itself: that is how the xdist
    workers are measured. A process that runs tests (a worker, or pytest without
    workers) drops it, so servers, examples and benchmarks the tests spawn stay
    unmeasured and unslowed. The xdist controller keeps it for the workers it starts.
    """
    is_worker = hasattr(config, "workerinput")
    if is_worker or config.getoption("dist", "no") == "no":
        os.environ.pop("COVERAGE_PROCESS_CONFIG", None)


@pytest.fixture
async def make_server() -> AsyncIterator[Callable[[dict[str, Handler]], Awaitable[EchoServer]]]:
    """Start an aiohttp.web app whose routes are given as {"/path": handler}."""
    started: list[TestServer] = []

    async def start(routes: dict[str, Handler]) -> EchoServer:
        app = web.Application()
        holder: dict[str, EchoServer] = {}

        @web.middleware
        async def record(request: web.Request, handler: Handler) -> web.StreamResponse:
            info = holder["server"]
            assert request.transport is not None
            info.transports.add(id(request.transport))
            body = await request.read()
            info.requests.append(
                {"path": request.path, "headers": dict(request.headers), "body": body}
            )
            return await handler(request)

        app.middlewares.append(record)
        for path, handler in routes.items():
            app.router.add_route("*", path, handler)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        started.append(server)
        info = holder["server"] = EchoServer(server)
        return info

    yield start
    for server in started:
        await server.close()


async def echo_handler(request: web.Request) -> web.Response:
    """Answer with the JSON body it got, plus the path."""
    data = json.loads(await request.read())
    return web.json_response({"path": request.path, "echo": data})


@pytest.fixture
async def echo_server(
    make_server: Callable[[dict[str, Handler]], Awaitable[EchoServer]],
) -> EchoServer:
    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(float(request.query.get("s", "1")))
        return web.json_response({"slow": True})

    async def text(request: web.Request) -> web.Response:
        return web.Response(text="<html><body>Oops</body></html>", content_type="text/html")

    async def bad_json(request: web.Request) -> web.Response:
        return web.Response(text="{not json", content_type="application/json")

    async def status(request: web.Request) -> web.Response:
        code = int(request.match_info["code"])
        headers = dict(request.query)
        return web.Response(status=code, text=f"status {code}", headers=headers)

    async def headers(request: web.Request) -> web.Response:
        return web.json_response(dict(request.headers))

    async def empty(request: web.Request) -> web.Response:
        return web.Response(status=204)

    return await make_server(
        {
            "/api/echo": echo_handler,
            "/api/nested/path": echo_handler,
            "/api/slow": slow,
            "/api/text": text,
            "/api/bad-json": bad_json,
            "/api/status/{code}": status,
            "/api/headers": headers,
            "/api/empty": empty,
        }
    )
