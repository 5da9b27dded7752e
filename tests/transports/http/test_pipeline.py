"""Hook order, request mutation and function hooks, with an in-memory transport."""

from __future__ import annotations

from mcp_async import BytesResponse, Hook, HTTPRequest, HTTPResponse, middleware, response_hook
from mcp_async.transports.http.base import Handler
from mcp_async.transports.http.hooks import build_pipeline


class Recorder(Hook):
    def __init__(self, name: str, log: list[str]) -> None:
        self.name = name
        self.log = log

    async def on_request(self, request: HTTPRequest) -> None:
        self.log.append(f"{self.name}.request")
        request.headers[self.name] = "1"

    async def around(self, request: HTTPRequest, call_next: Handler) -> HTTPResponse:
        self.log.append(f"{self.name}.before")
        response = await call_next(request)
        self.log.append(f"{self.name}.after")
        return response

    async def on_response(self, request: HTTPRequest, response: HTTPResponse) -> None:
        self.log.append(f"{self.name}.response:{response.status}")


async def test_first_hook_is_outermost_and_phases_are_ordered() -> None:
    log: list[str] = []
    seen: list[dict[str, str]] = []

    async def transport(request: HTTPRequest) -> HTTPResponse:
        log.append("transport")
        seen.append(dict(request.headers))
        return BytesResponse(200, b"{}")

    send = build_pipeline([Recorder("a", log), Recorder("b", log)], transport)
    response = await send(HTTPRequest("POST", "http://x"))
    assert response.status == 200
    assert log == [
        "a.request", "a.before",
        "b.request", "b.before",
        "transport",
        "b.after", "b.response:200",
        "a.after", "a.response:200",
    ]
    assert seen == [{"a": "1", "b": "1"}]


async def test_plain_hook_adds_no_layer() -> None:
    async def transport(request: HTTPRequest) -> HTTPResponse:
        return BytesResponse(204)

    assert build_pipeline([Hook(), Hook()], transport) is transport


async def test_middleware_can_resend_and_response_hook_observes() -> None:
    calls: list[int] = []
    statuses: list[int] = []

    async def transport(request: HTTPRequest) -> HTTPResponse:
        calls.append(1)
        return BytesResponse(503 if len(calls) == 1 else 200)

    @middleware
    async def once_more(request: HTTPRequest, call_next: Handler) -> HTTPResponse:
        response = await call_next(request)
        if response.status == 503:
            response.release()
            response = await call_next(request)
        return response

    async def observe(request: HTTPRequest, response: HTTPResponse) -> None:
        statuses.append(response.status)

    send = build_pipeline([once_more, response_hook(observe)], transport)
    assert (await send(HTTPRequest("GET", "http://x"))).status == 200
    assert statuses == [503, 200]
    assert "middleware" in repr(once_more)
