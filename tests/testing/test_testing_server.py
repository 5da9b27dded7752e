"""Tests of ``mcp_async.testing.MCPTestServer``, driven with raw aiohttp requests."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from mcp_async.testing import Fault, FaultPlan, MCPTestServer, ToolContext, demo_server

ACCEPT = "application/json, text/event-stream"
HEADERS = {"Accept": ACCEPT, "Content-Type": "application/json"}
INIT_PARAMS = {
    "protocolVersion": "2025-11-25",
    "capabilities": {},
    "clientInfo": {"name": "tests", "version": "0"},
}


# ---- helpers ---------------------------------------------------------------------------


def parse_sse(text: str) -> list[dict[str, str]]:
    """A minimal SSE parser for these tests: one dict of fields per event block."""
    events = []
    for block in text.split("\n\n"):
        if not block.strip():
            continue
        fields: dict[str, str] = {}
        for line in block.split("\n"):
            key, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            fields[key] = fields[key] + "\n" + value if key in fields else value
        events.append(fields)
    return events


class Peer:
    """A raw HTTP MCP peer: posts JSON-RPC with the right headers, keeps the session id."""

    def __init__(self, http: aiohttp.ClientSession, url: str) -> None:
        self.http = http
        self.url = url
        self.session_id: str | None = None
        self.next_id = 0

    def headers(self, **extra: str) -> dict[str, str]:
        headers = dict(HEADERS)
        if self.session_id is not None:
            headers["Mcp-Session-Id"] = self.session_id
        headers.update(extra)
        return headers

    async def post(self, payload: Any, **extra: str) -> tuple[int, dict[str, str], str]:
        async with self.http.post(
            self.url, data=json.dumps(payload), headers=self.headers(**extra)
        ) as resp:
            return resp.status, dict(resp.headers), await resp.text()

    async def initialize(self, version: str = "2025-11-25") -> dict[str, Any]:
        status, headers, body = await self.post(
            {
                "jsonrpc": "2.0",
                "id": 0,
                "method": "initialize",
                "params": {**INIT_PARAMS, "protocolVersion": version},
            }
        )
        assert status == 200, body
        self.session_id = headers.get("Mcp-Session-Id")
        message: dict[str, Any] = self.decode(headers, body)
        status, _, _ = await self.post({"jsonrpc": "2.0", "method": "notifications/initialized"})
        assert status == 202
        return message

    @staticmethod
    def decode(headers: dict[str, str], body: str) -> Any:
        if headers.get("Content-Type", "").startswith("text/event-stream"):
            return json.loads([e for e in parse_sse(body) if e.get("data")][-1]["data"])
        return json.loads(body)

    async def call(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """Send a request and return the decoded JSON-RPC response (checks HTTP 200 + id)."""
        self.next_id += 1
        request_id = self.next_id
        payload: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
        if params is not None:
            payload["params"] = params
        status, headers, body = await self.post(payload)
        assert status == 200, (status, body)
        message: dict[str, Any] = self.decode(headers, body)
        assert message["id"] == request_id
        return message

    async def result(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        message = await self.call(method, params)
        assert "result" in message, message
        result: dict[str, Any] = message["result"]
        return result

    async def error(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        message = await self.call(method, params)
        assert "error" in message, message
        error: dict[str, Any] = message["error"]
        return error


def build_server(**kw: Any) -> MCPTestServer:
    server = MCPTestServer(instructions="be nice", **kw)

    @server.tool
    def echo(text: str) -> str:
        """Echo text.

        More details that are not part of the description.
        """
        return text

    @server.tool(name="sum", title="Sum", annotations={"readOnlyHint": True})
    async def add(a: int, b: float = 1.5) -> dict[str, float]:
        return {"sum": a + b}

    @server.tool
    def passthrough() -> dict[str, Any]:
        return {"content": [{"type": "text", "text": "raw"}], "isError": False}

    @server.tool
    def picture() -> bytes:
        return b"\x89PNG"

    @server.tool
    def boom() -> str:
        raise ValueError("kaboom")

    @server.tool(output_schema={"type": "object"})
    def structured(flag: bool, items: list[int], opts: dict[str, str] | None = None) -> Any:
        return {"flag": flag, "n": len(items)}

    @server.tool
    async def chatty(ctx: ToolContext, steps: int = 2) -> str:
        for i in range(steps):
            await ctx.report_progress(i + 1, steps, f"step {i + 1}")
        await ctx.log("debug", "a debug line")
        await ctx.log("warning", {"msg": "careful"}, logger="chatty")
        return "done"

    @server.tool
    async def sleepy(seconds: float) -> str:
        await asyncio.sleep(seconds)
        return "awake"

    return server


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def server() -> AsyncIterator[MCPTestServer]:
    async with build_server() as srv:
        yield srv


@pytest.fixture
async def peer(server: MCPTestServer, http: aiohttp.ClientSession) -> Peer:
    p = Peer(http, server.url)
    await p.initialize()
    return p


# ---- lifecycle and handshake -------------------------------------------------------------


async def test_url_requires_start() -> None:
    server = MCPTestServer()
    with pytest.raises(RuntimeError):
        _ = server.url
    url = await server.start()
    try:
        assert url == server.url
        assert url.startswith("http://127.0.0.1:") and url.endswith("/mcp")
        assert await server.start() == url
    finally:
        await server.stop()
    with pytest.raises(RuntimeError):
        _ = server.url


async def test_handshake_and_session_header(server: MCPTestServer, http: Any) -> None:
    peer = Peer(http, server.url)
    init = await peer.initialize()
    result = init["result"]
    assert result["protocolVersion"] == "2025-11-25"
    assert result["serverInfo"] == {"name": "mcp-async-test", "version": "1.0.0"}
    assert result["instructions"] == "be nice"
    assert result["capabilities"] == {"logging": {}, "tools": {"listChanged": True}}
    assert peer.session_id and len(peer.session_id) >= 16
    assert server.session_ids == {peer.session_id}
    assert server.stats.sessions_created == 1
    assert server.stats.by_method["notifications/initialized"] == 1
    assert await peer.result("ping") == {}


@pytest.mark.parametrize(
    ("offered", "answered"),
    [("2025-03-26", "2025-03-26"), ("2025-06-18", "2025-06-18"), ("1999-01-01", "2025-11-25")],
)
async def test_version_negotiation(
    server: MCPTestServer, http: Any, offered: str, answered: str
) -> None:
    peer = Peer(http, server.url)
    assert (await peer.initialize(offered))["result"]["protocolVersion"] == answered


async def test_capabilities_reflect_registrations(http: Any) -> None:
    async with demo_server() as server:
        init = await Peer(http, server.url).initialize()
    caps = init["result"]["capabilities"]
    assert caps["resources"] == {"subscribe": True, "listChanged": True}
    assert caps["prompts"] == {"listChanged": True}
    assert caps["completions"] == {}
    assert caps["tools"] == {"listChanged": True}


async def test_stateless_mode(http: Any) -> None:
    async with build_server(stateful=False) as server:
        peer = Peer(http, server.url)
        await peer.initialize()
        assert peer.session_id is None
        assert (await peer.result("tools/call", {"name": "echo", "arguments": {"text": "x"}}))[
            "content"
        ] == [{"type": "text", "text": "x"}]
        async with http.delete(server.url) as resp:
            assert resp.status == 405
        assert server.stats.sessions_created == 0


# ---- tools -----------------------------------------------------------------------------


async def test_tools_list_schemas(peer: Peer) -> None:
    tools = {t["name"]: t for t in (await peer.result("tools/list"))["tools"]}
    assert tools["echo"]["description"] == "Echo text."
    assert tools["echo"]["inputSchema"] == {
        "type": "object",
        "properties": {"text": {"type": "string"}},
        "required": ["text"],
    }
    assert tools["sum"]["title"] == "Sum"
    assert tools["sum"]["annotations"] == {"readOnlyHint": True}
    assert tools["sum"]["inputSchema"]["properties"] == {
        "a": {"type": "integer"},
        "b": {"type": "number"},
    }
    assert tools["sum"]["inputSchema"]["required"] == ["a"]
    props = tools["structured"]["inputSchema"]["properties"]
    assert props == {
        "flag": {"type": "boolean"},
        "items": {"type": "array"},
        "opts": {"type": "object"},
    }
    assert tools["structured"]["outputSchema"] == {"type": "object"}
    assert "ctx" not in tools["chatty"]["inputSchema"]["properties"]
    assert "required" not in tools["chatty"]["inputSchema"]
    assert "outputSchema" not in tools["echo"]


async def test_tools_call_return_mapping(peer: Peer) -> None:
    async def call(name: str, **arguments: Any) -> dict[str, Any]:
        return await peer.result("tools/call", {"name": name, "arguments": arguments})

    assert await call("echo", text="hi") == {"content": [{"type": "text", "text": "hi"}]}
    result = await call("sum", a=1)
    assert result["structuredContent"] == {"sum": 2.5}
    assert json.loads(result["content"][0]["text"]) == {"sum": 2.5}
    assert await call("passthrough") == {
        "content": [{"type": "text", "text": "raw"}],
        "isError": False,
    }
    assert (await call("picture"))["content"] == [
        {"type": "image", "data": "iVBORw==", "mimeType": "image/png"}
    ]
    assert await call("boom") == {"content": [{"type": "text", "text": "kaboom"}], "isError": True}
    assert (await call("structured", flag=True, items=[1, 2]))["structuredContent"] == {
        "flag": True,
        "n": 2,
    }
    missing = await call("echo")  # bad arguments are a tool execution error
    assert missing["isError"] is True
    # JSON mode drops progress and log notifications but the tool still runs.
    assert (await call("chatty"))["content"][0]["text"] == "done"


async def test_tools_call_unknown_tool(peer: Peer) -> None:
    error = await peer.error("tools/call", {"name": "nope", "arguments": {}})
    assert error["code"] == -32602
    error = await peer.error("tools/call", {"name": "echo", "arguments": [1]})
    assert error["code"] == -32602


async def test_tools_call_sse_with_notifications(http: Any) -> None:
    async with build_server(reply="sse", priming=True) as server:
        peer = Peer(http, server.url)
        await peer.initialize()
        params = {"name": "chatty", "arguments": {"steps": 2}, "_meta": {"progressToken": "tok"}}
        payload = {"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": params}
        status, headers, body = await peer.post(payload)
        assert status == 200
        assert headers["Content-Type"].startswith("text/event-stream")
        assert headers["Mcp-Session-Id"] == peer.session_id
        events = parse_sse(body)
        assert events[0]["data"] == "" and events[0]["id"]  # priming
        messages = [json.loads(e["data"]) for e in events[1:]]
        assert all(e["event"] == "message" and e["id"] for e in events[1:])
        assert [m.get("method") for m in messages] == [
            "notifications/progress",
            "notifications/progress",
            "notifications/message",
            "notifications/message",
            None,
        ]
        assert messages[0]["params"] == {
            "progressToken": "tok",
            "progress": 1,
            "total": 2,
            "message": "step 1",
        }
        assert messages[2]["params"] == {"level": "debug", "data": "a debug line"}
        assert messages[3]["params"]["logger"] == "chatty"
        assert messages[-1] == {
            "jsonrpc": "2.0",
            "id": 7,
            "result": {"content": [{"type": "text", "text": "done"}]},
        }
        ids = [int(e["id"]) for e in events]
        assert ids == sorted(set(ids))

        # Without a progress token: no progress; logging/setLevel filters the debug line.
        assert await peer.result("logging/setLevel", {"level": "info"}) == {}
        payload = {"jsonrpc": "2.0", "id": 8, "method": "tools/call", "params": {"name": "chatty"}}
        _, _, body = await peer.post(payload)
        methods = [json.loads(e["data"]).get("method") for e in parse_sse(body) if e["data"]]
        assert methods == ["notifications/message", None]


async def test_sse_without_priming(http: Any) -> None:
    async with build_server(reply="sse") as server:
        peer = Peer(http, server.url)
        await peer.initialize()
        _, _, body = await peer.post({"jsonrpc": "2.0", "id": 1, "method": "ping"})
        (event,) = parse_sse(body)
        assert event["event"] == "message"
        assert json.loads(event["data"]) == {"jsonrpc": "2.0", "id": 1, "result": {}}


async def test_max_in_flight(peer: Peer, server: MCPTestServer) -> None:
    params = {"name": "sleepy", "arguments": {"seconds": 0.05}}
    await asyncio.gather(*(peer.result("tools/call", params) for _ in range(5)))
    assert server.stats.max_in_flight == 5
    assert server.stats.in_flight == 0


# ---- pagination, resources, prompts, completion -----------------------------------------


async def test_pagination(http: Any) -> None:
    async with build_server(page_size=3) as server:
        peer = Peer(http, server.url)
        await peer.initialize()
        names: list[str] = []
        params: dict[str, Any] = {}
        pages = 0
        while True:
            page = await peer.result("tools/list", params)
            pages += 1
            names += [t["name"] for t in page["tools"]]
            if "nextCursor" not in page:
                break
            assert isinstance(page["nextCursor"], str)
            params = {"cursor": page["nextCursor"]}
        assert pages == 3
        assert names == [
            "echo",
            "sum",
            "passthrough",
            "picture",
            "boom",
            "structured",
            "chatty",
            "sleepy",
        ]
        for bad in ("garbage!", 42, "cHJvbXB0czow"):  # the last is a prompts cursor
            assert (await peer.error("tools/list", {"cursor": bad}))["code"] == -32602


async def test_resources(http: Any) -> None:
    server = MCPTestServer(page_size=1)
    server.resource("mem://a", text="alpha", mime_type="text/plain", description="A")
    server.resource("mem://b.bin", blob=b"\x00\x01", name="bee")
    server.resource_template(
        "mem://users/{user}/posts/{post}",
        lambda user, post: f"{user}:{post}",
        name="posts",
        mime_type="text/plain",
    )
    async with server:
        peer = Peer(http, server.url)
        await peer.initialize()
        first = await peer.result("resources/list")
        assert first["resources"] == [
            {"uri": "mem://a", "name": "a", "description": "A", "mimeType": "text/plain"}
        ]
        second = await peer.result("resources/list", {"cursor": first["nextCursor"]})
        assert second == {"resources": [{"uri": "mem://b.bin", "name": "bee"}]}
        templates = await peer.result("resources/templates/list")
        assert templates == {
            "resourceTemplates": [
                {
                    "uriTemplate": "mem://users/{user}/posts/{post}",
                    "name": "posts",
                    "mimeType": "text/plain",
                }
            ]
        }
        read = await peer.result("resources/read", {"uri": "mem://a"})
        assert read == {"contents": [{"uri": "mem://a", "mimeType": "text/plain", "text": "alpha"}]}
        blob = await peer.result("resources/read", {"uri": "mem://b.bin"})
        assert blob["contents"][0]["blob"] == "AAE="
        uri = "mem://users/ann%20b/posts/7"
        templated = await peer.result("resources/read", {"uri": uri})
        assert templated["contents"] == [{"uri": uri, "mimeType": "text/plain", "text": "ann b:7"}]
        missing = await peer.error("resources/read", {"uri": "mem://nope"})
        assert missing["code"] == -32002
        assert await peer.result("resources/subscribe", {"uri": "mem://a"}) == {}
        assert await peer.result("resources/unsubscribe", {"uri": "mem://a"}) == {}
        assert (await peer.error("resources/subscribe", {}))["code"] == -32602


def test_template_rejects_complex_expressions() -> None:
    with pytest.raises(ValueError):
        MCPTestServer().resource_template("x://{+path}", lambda path: path, name="p")


async def test_prompts_and_completion(http: Any) -> None:
    async with demo_server() as server:
        peer = Peer(http, server.url)
        await peer.initialize()
        (prompt,) = (await peer.result("prompts/list"))["prompts"]
        assert prompt == {
            "name": "review_code",
            "description": "Ask for a code review.",
            "arguments": [
                {"name": "code", "required": True},
                {"name": "language", "required": False},
            ],
        }
        got = await peer.result(
            "prompts/get", {"name": "review_code", "arguments": {"code": "x = 1"}}
        )
        assert got["messages"][0] == {
            "role": "user",
            "content": {"type": "text", "text": "Please review this python code:\n\nx = 1"},
        }
        assert got["messages"][1]["role"] == "assistant"
        assert (await peer.error("prompts/get", {"name": "review_code"}))["code"] == -32602
        assert (await peer.error("prompts/get", {"name": "nope"}))["code"] == -32602
        completion = await peer.result(
            "completion/complete",
            {
                "ref": {"type": "ref/prompt", "name": "review_code"},
                "argument": {"name": "language", "value": "ty"},
            },
        )
        assert completion == {
            "completion": {"values": ["typescript"], "total": 1, "hasMore": False}
        }
        assert (await peer.error("completion/complete", {"ref": {}}))["code"] == -32602


async def test_prompt_returning_string(peer: Peer, server: MCPTestServer) -> None:
    @server.prompt(description="Say hello")
    async def hello(who: str) -> str:
        return f"hello {who}"

    got = await peer.result("prompts/get", {"name": "hello", "arguments": {"who": "bob"}})
    assert got == {
        "description": "Say hello",
        "messages": [{"role": "user", "content": {"type": "text", "text": "hello bob"}}],
    }


async def test_misc_methods(peer: Peer) -> None:
    assert (await peer.error("no/such/method"))["code"] == -32601
    assert (await peer.error("logging/setLevel", {"level": "loud"}))["code"] == -32602
    assert await peer.result("logging/setLevel", {"level": "error"}) == {}
    status, _, body = await peer.post({"jsonrpc": "2.0", "id": 99, "result": {}})
    assert (status, body) == (202, "")  # a client response


async def test_demo_server_tools(http: Any) -> None:
    async with demo_server(reply="sse") as server:
        peer = Peer(http, server.url)
        await peer.initialize()
        tools = {t["name"]: t for t in (await peer.result("tools/list"))["tools"]}
        assert set(tools) == {"add", "echo", "slow", "weather", "fail"}
        assert tools["add"]["outputSchema"]["required"] == ["result"]
        assert tools["weather"]["inputSchema"]["required"] == ["city"]

        async def call(name: str, **arguments: Any) -> dict[str, Any]:
            return await peer.result("tools/call", {"name": name, "arguments": arguments})

        assert (await call("add", a=2, b=3))["structuredContent"] == {"result": 5}
        weather = (await call("weather", city="Paris"))["structuredContent"]
        assert weather == (await call("weather", city="Paris"))["structuredContent"]
        assert set(weather) == {"city", "temperature_c", "conditions", "humidity"}
        assert (await call("fail"))["isError"] is True
        assert (await call("slow", seconds=0.01))["content"][0]["text"] == "slept 0.01 s"
        read = await peer.result("resources/read", {"uri": "demo://greeting/Ada"})
        assert read["contents"][0]["text"] == "Hello, Ada!"
        readme = await peer.result("resources/read", {"uri": "demo://readme"})
        assert readme["contents"][0]["mimeType"] == "text/markdown"


# ---- HTTP rules ------------------------------------------------------------------------


async def test_http_refusals(server: MCPTestServer, peer: Peer, http: Any) -> None:
    ping = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "ping"})
    cases = [
        ({"Accept": "application/json"}, ping, 406, -32600),
        ({"Accept": "text/event-stream"}, ping, 406, -32600),
        ({"Content-Type": "text/plain"}, ping, 415, -32600),
        ({"MCP-Protocol-Version": "2024-01-01"}, ping, 400, -32600),
        ({}, "{not json", 400, -32700),
        ({}, json.dumps({"hello": "world"}), 400, -32600),
        ({}, "[]", 400, -32600),
    ]
    for extra, data, status, code in cases:
        async with http.post(server.url, data=data, headers=peer.headers(**extra)) as resp:
            assert resp.status == status, (extra, data)
            body = await resp.json()
        assert body["id"] is None and body["error"]["code"] == code
    status, _, _ = await peer.post(
        {"jsonrpc": "2.0", "id": 1, "method": "ping"}, **{"MCP-Protocol-Version": "2025-06-18"}
    )
    assert status == 200


async def test_get_is_405(server: MCPTestServer, http: Any) -> None:
    async with http.get(server.url, headers={"Accept": "text/event-stream"}) as resp:
        assert resp.status == 405
        assert "POST" in resp.headers["Allow"]


async def test_session_errors(server: MCPTestServer, peer: Peer, http: Any) -> None:
    ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    async with http.post(server.url, json=ping, headers=HEADERS) as resp:
        assert resp.status == 400
    async with http.post(
        server.url, json=ping, headers={**HEADERS, "Mcp-Session-Id": "bogus"}
    ) as resp:
        assert resp.status == 404
    server.expire_sessions()
    status, _, body = await peer.post(ping)
    assert status == 404
    assert json.loads(body) == {
        "jsonrpc": "2.0",
        "id": None,
        "error": {"code": -32001, "message": "Session not found"},
    }
    await peer.initialize()  # a fresh handshake works again
    assert await peer.result("ping") == {}
    assert server.stats.sessions_created == 2


async def test_delete(server: MCPTestServer, peer: Peer, http: Any) -> None:
    async with http.delete(server.url, headers=peer.headers()) as resp:
        assert resp.status == 200
    assert server.stats.deletes == 1
    assert server.session_ids == frozenset()
    async with http.delete(server.url, headers=peer.headers()) as resp:
        assert resp.status == 404
    async with http.delete(server.url) as resp:
        assert resp.status == 400
    status, _, _ = await peer.post({"jsonrpc": "2.0", "id": 1, "method": "ping"})
    assert status == 404


async def test_batch(peer: Peer) -> None:
    batch = [
        {"jsonrpc": "2.0", "id": 1, "method": "ping"},
        {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 0}},
        {
            "jsonrpc": "2.0",
            "id": "b",
            "method": "tools/call",
            "params": {"name": "echo", "arguments": {"text": "t"}},
        },
        {"jsonrpc": "2.0", "id": 3, "method": "initialize", "params": INIT_PARAMS},
        {"bogus": True},
    ]
    status, _, body = await peer.post(batch)
    assert status == 200
    replies = json.loads(body)
    assert [r["id"] for r in replies] == [1, "b", 3, None]
    assert replies[0]["result"] == {}
    assert replies[1]["result"]["content"][0]["text"] == "t"
    assert replies[2]["error"]["code"] == -32600
    assert replies[3]["error"]["code"] == -32600
    only_notifications = [{"jsonrpc": "2.0", "method": "notifications/initialized"}]
    status, _, body = await peer.post(only_notifications)
    assert (status, body) == (202, "")


async def test_batch_sse(http: Any) -> None:
    async with build_server(reply="sse") as server:
        peer = Peer(http, server.url)
        await peer.initialize()
        batch = [{"jsonrpc": "2.0", "id": i, "method": "ping"} for i in (1, 2)]
        _, _, body = await peer.post(batch)
        (event,) = parse_sse(body)
        assert [r["id"] for r in json.loads(event["data"])] == [1, 2]


# ---- faults ----------------------------------------------------------------------------


async def test_fault_rate_limit(server: MCPTestServer, peer: Peer) -> None:
    fault = server.faults.add(Fault.rate_limited(retry_after=2, method="ping", times=2))
    ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    for _ in range(2):
        status, headers, body = await peer.post(ping)
        assert status == 429
        assert headers["Retry-After"] == "2"
        assert headers["X-RateLimit-Remaining"] == "0"
        assert body == ""
    assert fault.fired == 2 and fault.exhausted
    assert (await peer.post(ping))[0] == 200
    assert await peer.result("tools/call", {"name": "echo", "arguments": {"text": "x"}})


async def test_fault_status_with_html_body(server: MCPTestServer, peer: Peer) -> None:
    page = "<html><body>502 Bad Gateway</body></html>"
    server.faults.add(status=502, body=page, content_type="text/html", times=1)
    status, headers, body = await peer.post({"jsonrpc": "2.0", "id": 1, "method": "ping"})
    assert (status, body) == (502, page)
    assert headers["Content-Type"].startswith("text/html")
    server.faults.add(Fault.error(503, retry_after=1.5, headers={"X-Why": "maintenance"}))
    status, headers, _ = await peer.post({"jsonrpc": "2.0", "id": 1, "method": "ping"})
    assert status == 503 and headers["Retry-After"] == "1.5" and headers["X-Why"] == "maintenance"
    server.faults.clear()
    assert len(server.faults) == 0
    assert await peer.result("ping") == {}


async def test_fault_matches_tool_name(server: MCPTestServer, peer: Peer) -> None:
    server.faults.add(Fault.error(500, method="tools/call", name="boom"))
    assert await peer.result("ping") == {}
    assert await peer.result("tools/call", {"name": "echo", "arguments": {"text": "x"}})
    status, _, _ = await peer.post(
        {"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": {"name": "boom"}}
    )
    assert status == 500


async def test_fault_delay(server: MCPTestServer, peer: Peer) -> None:
    server.faults.add(Fault.slow(0.2, method="ping", times=1))
    started = time.monotonic()
    assert await peer.result("ping") == {}
    assert time.monotonic() - started >= 0.19
    started = time.monotonic()
    assert await peer.result("ping") == {}
    assert time.monotonic() - started < 0.19


async def test_fault_drop(server: MCPTestServer, peer: Peer) -> None:
    server.faults.add(Fault.disconnect(times=1))
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await peer.post({"jsonrpc": "2.0", "id": 1, "method": "ping"})
    assert await peer.result("ping") == {}
    assert server.stats.connections == 2


async def test_fault_expire_session(server: MCPTestServer, peer: Peer) -> None:
    server.faults.add(Fault.expired_session(method="tools/call", times=1))
    status, _, body = await peer.post(
        {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "echo"}}
    )
    assert status == 404 and json.loads(body)["error"]["code"] == -32001
    assert (await peer.post({"jsonrpc": "2.0", "id": 2, "method": "ping"}))[0] == 404


@pytest.mark.parametrize("reply", ["json", "sse"])
async def test_fault_invalid_json_and_wrong_id(http: Any, reply: Any) -> None:
    async with build_server(reply=reply) as server:
        peer = Peer(http, server.url)
        await peer.initialize()
        server.faults.add(Fault.bad_json(method="ping", times=1))
        server.faults.add(Fault.mismatched_id(method="ping", times=1))
        _, headers, body = await peer.post({"jsonrpc": "2.0", "id": 1, "method": "ping"})
        with pytest.raises(json.JSONDecodeError):
            peer.decode(headers, body)
        _, headers, body = await peer.post({"jsonrpc": "2.0", "id": 1, "method": "ping"})
        assert peer.decode(headers, body)["id"] != 1
        _, headers, body = await peer.post({"jsonrpc": "2.0", "id": "s", "method": "ping"})
        assert peer.decode(headers, body) == {"jsonrpc": "2.0", "id": "s", "result": {}}


async def test_fault_garbage_body(server: MCPTestServer, peer: Peer) -> None:
    server.faults.add(Fault.garbage('{"jsonrpc": "2.0", "id": 12345, "result": {}}', times=1))
    status, headers, body = await peer.post({"jsonrpc": "2.0", "id": 1, "method": "ping"})
    assert status == 200 and headers["Content-Type"] == "application/json"
    assert json.loads(body)["id"] == 12345


@pytest.mark.parametrize("reply", ["json", "sse"])
async def test_fault_truncate_sse(http: Any, reply: Any) -> None:
    async with build_server(reply=reply) as server:
        peer = Peer(http, server.url)
        await peer.initialize()
        server.faults.add(Fault.cut_stream(retry=250, method="tools/call", times=1))
        params = {"name": "chatty", "_meta": {"progressToken": 1}}
        status, headers, body = await peer.post(
            {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params}
        )
        assert status == 200
        assert headers["Content-Type"].startswith("text/event-stream")
        events = parse_sse(body)
        assert events[0] == {"id": events[0]["id"], "retry": "250", "data": ""}
        messages = [json.loads(e["data"]) for e in events[1:]]
        assert messages and all("method" in m for m in messages)  # no response
        assert server.stats.by_method["tools/call"] == 1
        server.faults.add(truncate_sse=True, times=1)
        _, _, body = await peer.post({"jsonrpc": "2.0", "id": 2, "method": "ping"})
        assert body == ""


async def test_fault_probability_is_deterministic() -> None:
    def pattern(seed: int) -> list[bool]:
        plan = FaultPlan()
        plan.add(Fault.error(500, probability=0.5, seed=seed))
        return [plan.pick("ping", None) is not None for _ in range(40)]

    assert pattern(1) == pattern(1)
    assert pattern(1) != pattern(2)
    assert 5 < sum(pattern(1)) < 35


def test_fault_validation() -> None:
    with pytest.raises(ValueError):
        Fault(probability=1.5)
    with pytest.raises(ValueError):
        Fault(times=-1)
    with pytest.raises(TypeError):
        FaultPlan().add(Fault(), status=500)


# ---- stats -----------------------------------------------------------------------------


async def test_stats_connections_and_counters(server: MCPTestServer, peer: Peer) -> None:
    for _ in range(10):
        assert await peer.result("ping") == {}
    stats = server.stats
    assert stats.connections == 1
    assert stats.requests == 12  # initialize + initialized + 10 pings
    assert stats.by_method["ping"] == 10
    assert stats.received[-1] == ("ping", {})
    assert stats.received[0][0] == "initialize"
    assert stats.last_headers is not None
    assert stats.last_headers["mcp-session-id"] == peer.session_id
    async with aiohttp.ClientSession() as other:
        second = Peer(other, server.url)
        second.session_id = peer.session_id
        assert await second.result("ping") == {}
    assert stats.connections == 2
    stats.reset()
    assert (stats.requests, stats.connections, len(stats.received)) == (0, 0, 0)
    assert not stats.by_method
    assert await peer.result("ping") == {}
    assert (stats.requests, stats.connections) == (1, 1)


async def test_received_is_bounded(server: MCPTestServer, peer: Peer) -> None:
    note = {"jsonrpc": "2.0", "method": "notifications/progress", "params": {"progress": 1}}
    status, _, _ = await peer.post([note] * 10_005)
    assert status == 202
    assert len(server.stats.received) == 10_000
    assert server.stats.by_method["notifications/progress"] == 10_005
