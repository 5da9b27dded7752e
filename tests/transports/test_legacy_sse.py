"""The legacy HTTP+SSE transport (MCP 2024-11-05) against small aiohttp.web servers."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

import pytest

from mcp_async import (
    AsyncMCPClient,
    ConnectionLostError,
    ContentTypeError,
    HTTPRequest,
    HTTPStatusError,
    ReadTimeout,
    Timeout,
    UnexpectedResponseError,
    request_hook,
)
from mcp_async.protocol.models import LoggingMessage
from mcp_async.session.handlers import SamplingRequest, SamplingResult
from tests.transports.legacy_apps import (
    TOOLS,
    LegacyApp,
    Start,
    free_port,
    wait_until,
)

TIMEOUT = Timeout(total=5, connect=1)
TOOL_NAMES = [tool["name"] for tool in TOOLS]


def sse_client(app: LegacyApp, **options: Any) -> AsyncMCPClient:
    options.setdefault("timeout", TIMEOUT)
    return AsyncMCPClient(app.url, transport="sse", **options)


# -- 1. a whole session ---------------------------------------------------------------------


async def test_full_session_over_legacy_sse(start: Start) -> None:
    app = await start()
    async with sse_client(app) as client:
        assert client.transport_kind == "sse"
        result = await client.initialize()
        assert result.protocol_version == "2024-11-05"
        assert client.protocol_version == "2024-11-05"
        assert client.server_info.name == "legacy-test"
        assert client.server_capabilities.supports_tools
        assert [tool.name for tool in await client.list_tools()] == TOOL_NAMES
        assert (await client.call_tool("add", {"a": 2, "b": 3})).text == "5"
        # Replies come back out of order (the delays differ); each caller gets its own.
        results = await asyncio.gather(*(
            client.call_tool("echo", {"text": f"n{i}", "delay": (200 - i) % 7 * 0.002})
            for i in range(200)
        ))
        assert [r.text for r in results] == [f"n{i}" for i in range(200)]
        assert client.transport_kind == "sse"
        assert client.listening
    assert app.gets == 1
    assert app.probes == 0
    assert app.initializes == 1
    assert app.posts["notifications/initialized"] == 1
    assert app.posts["tools/list"] == 1
    assert app.posts["tools/call"] == 201
    assert all(path.startswith("/messages?session_id=") for path in app.post_paths)
    assert app.get_headers[0]["Accept"] == "text/event-stream"
    # 2024-11-05 has neither a protocol version header nor an Mcp-Session-Id.
    for headers in app.post_headers:
        assert headers["Content-Type"] == "application/json"
        assert "MCP-Protocol-Version" not in headers
        assert "Mcp-Session-Id" not in headers


# -- 2. where the endpoint points -----------------------------------------------------------


@pytest.mark.parametrize(
    ("sse_path", "endpoint", "posted_to"),
    [
        ("/sse", "/messages?session_id={sid}", "/messages?session_id="),
        ("/deep/sse", "messages?session_id={sid}&x=1", "/deep/messages?session_id="),
        ("/a/b/sse", "../up?session_id={sid}", "/a/up?session_id="),
        ("/sse", "{origin}/abs/messages?session_id={sid}", "/abs/messages?session_id="),
    ],
    ids=["absolute-path", "path-relative", "dot-dot", "absolute-same-origin"],
)
async def test_endpoint_is_resolved_against_the_stream_url(
    start: Start, sse_path: str, endpoint: str, posted_to: str
) -> None:
    app = await start(sse_path=sse_path, endpoint=endpoint)
    async with sse_client(app) as client:
        assert (await client.call_tool("echo", {"text": "hi"})).text == "hi"
    assert app.post_paths
    assert all(path.startswith(posted_to) for path in app.post_paths), app.post_paths
    assert app.initializes == 1


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://localhost:{port}/messages?session_id={sid}",  # same server, another host name
        "https://127.0.0.1:{port}/messages?session_id={sid}",  # another scheme
        f"http://127.0.0.1:{free_port()}/messages?session_id={{sid}}",  # another port
        "//example.invalid/messages?session_id={sid}",  # scheme-relative, another host
    ],
    ids=["host", "scheme", "port", "scheme-relative"],
)
async def test_endpoint_on_another_origin_is_refused(start: Start, endpoint: str) -> None:
    app = await start(endpoint=endpoint)
    async with sse_client(app) as client:
        with pytest.raises(UnexpectedResponseError, match="another origin"):
            await client.list_tools()
        assert not client._mcp().transport.listening
        await wait_until(lambda: app.disconnects == 1)  # the stream was closed
    assert app.message_posts == 0
    assert app.authorizations == [("GET", None)]  # nothing but the one GET reached it


@pytest.mark.parametrize(
    ("endpoint", "problem"),
    [
        ("javascript:alert(1)", "not an http"),
        ("file:///etc/passwd", "not an http"),
        ("data:,hello", "not an http"),
        ("mailto:ops@example.invalid", "not an http"),
        ("ftp://127.0.0.1:{port}/messages", "not an http"),
        ("http://127.0.0.1:{port}:99/messages", "unusable endpoint"),
        ("http://[::1/messages", "unusable endpoint"),
        ("", "not an http"),
        ("   ", "not an http"),
    ],
    ids=["javascript", "file", "data", "mailto", "ftp", "two-ports", "broken-ipv6", "empty",
         "blank"],
)
async def test_an_endpoint_that_is_not_an_http_url_is_refused(
    start: Start, endpoint: str, problem: str
) -> None:
    # Issue 24: these raised yarl's ValueError ("URL should be absolute") from the origin
    # check; every one is a typed error now, and nothing is POSTed anywhere.
    app = await start(endpoint=endpoint)
    async with sse_client(app) as client:
        with pytest.raises(UnexpectedResponseError, match=problem):
            await client.list_tools()
        assert not client._mcp().transport.listening
        await wait_until(lambda: app.disconnects == 1)  # the stream was closed
        with pytest.raises(UnexpectedResponseError, match=problem):  # and again, typed
            await client.call_tool("echo", {"text": "x"})
    assert app.message_posts == 0
    assert [method for method, _ in app.authorizations] == ["GET", "GET"]


# -- 3. noise on the stream -------------------------------------------------------------------


async def test_keepalive_comments_and_empty_events_are_ignored(
    start: Start, caplog: pytest.LogCaptureFixture
) -> None:
    app = await start(chatter=True)
    with caplog.at_level(logging.DEBUG, logger="mcp_async"):
        async with sse_client(app) as client:
            await client.initialize()
            results = await asyncio.gather(
                *(client.call_tool("echo", {"text": str(i)}) for i in range(20))
            )
            assert [r.text for r in results] == [str(i) for i in range(20)]
            assert [tool.name for tool in await client.list_tools()] == TOOL_NAMES
    assert app.gets == 1
    assert app.initializes == 1
    # Silently: keep-alives are not bad messages.
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.records


# -- 4. no endpoint -----------------------------------------------------------------------------


async def test_missing_endpoint_event_is_a_read_timeout_not_a_hang(start: Start) -> None:
    app = await start(send_endpoint=False)
    loop = asyncio.get_running_loop()
    async with sse_client(app, timeout=Timeout(total=5, connect=0.5)) as client:
        began = loop.time()
        with pytest.raises(ReadTimeout, match="endpoint"):
            async with asyncio.timeout(3):
                await client.list_tools()
        assert 0.4 <= loop.time() - began < 2.0
        await wait_until(lambda: app.disconnects == 1)  # the useless stream was closed
    assert app.message_posts == 0


async def test_stream_url_answering_an_error_status(start: Start) -> None:
    app = await start(get_status=404)
    async with sse_client(app) as client:
        with pytest.raises(HTTPStatusError) as info:
            await client.list_tools()
    assert info.value.status == 404
    assert app.message_posts == 0


async def test_stream_url_answering_html(start: Start) -> None:
    app = await start(get_content_type="text/html")
    async with sse_client(app) as client:
        with pytest.raises(ContentTypeError, match="text/html"):
            await client.list_tools()
    assert app.message_posts == 0


# -- 5. the stream drops --------------------------------------------------------------------------


async def test_stream_drop_fails_plain_calls_and_resends_idempotent_ones(start: Start) -> None:
    app = await start()
    async with sse_client(app) as client:
        await client.initialize()
        app.hold["tools/call:echo"] = 2  # the two first echo calls get no reply ...
        app.hold["tools/list"] = 1  # ... nor does the first tools/list
        plain = asyncio.ensure_future(client.call_tool("echo", {"text": "plain"}))
        again = asyncio.ensure_future(
            client.call_tool("echo", {"text": "again"}, idempotent=True)
        )
        listing = asyncio.ensure_future(client.list_tools())
        await wait_until(lambda: len(app.held_ids) == 3)
        app.drop_streams()  # ... and then the stream ends, with the session
        async with asyncio.timeout(3):
            with pytest.raises(ConnectionLostError):
                await plain
            assert (await again).text == "again"
            assert [tool.name for tool in await listing] == TOOL_NAMES
        assert client.transport_kind == "sse"
    assert app.gets == 2
    assert app.initializes == 2
    assert app.posts["tools/call"] == 3  # the plain call once, the idempotent one twice
    assert app.posts["tools/list"] == 2


async def test_next_call_after_a_drop_reconnects_and_reinitializes(start: Start) -> None:
    app = await start()
    async with sse_client(app) as client:
        assert (await client.call_tool("echo", {"text": "a"})).text == "a"
        app.drop_streams()
        await wait_until(lambda: not client.listening)
        async with asyncio.timeout(3):
            assert (await client.call_tool("echo", {"text": "b"})).text == "b"
        assert client.listening
    assert app.gets == 2
    assert app.initializes == 2


async def test_idempotent_call_after_a_drop_reconnects_and_reinitializes(start: Start) -> None:
    app = await start()
    async with sse_client(app) as client:
        await client.ping()
        app.drop_streams()
        await wait_until(lambda: not client.listening)
        async with asyncio.timeout(3):
            assert [tool.name for tool in await client.list_tools()] == TOOL_NAMES
        assert client.listening
    assert app.gets == 2
    assert app.initializes == 2
    assert app.posts["notifications/initialized"] == 2


# -- 6. the server forgot the session (POST answered 404) ------------------------------------------


async def test_post_404_on_an_idempotent_request_reconnects_and_resends(start: Start) -> None:
    app = await start()
    async with sse_client(app) as client:
        await client.ping()
        app.reject_posts = 1
        async with asyncio.timeout(3):
            assert [tool.name for tool in await client.list_tools()] == TOOL_NAMES
        await wait_until(lambda: app.disconnects == 1)  # the old stream was closed
    assert app.gets == 2
    assert app.initializes == 2
    assert app.posts["tools/list"] == 2


async def test_a_late_404_from_the_old_session_spares_the_new_stream(start: Start) -> None:
    app = await start()
    async with sse_client(app) as client:
        await client.ping()
        # Both requests went to the old session; the second 404 arrives only after the
        # first one's re-handshake opened a new stream.
        app.reject_posts = 2
        app.reject_delays = [0.0, 0.3]
        async with asyncio.timeout(3):
            first, second = await asyncio.gather(client.list_tools(), client.ping())
        assert [tool.name for tool in first] == TOOL_NAMES
        assert second is None
        assert client.listening
    assert app.gets == 2
    assert app.initializes == 2


async def test_post_404_then_the_next_call_reconnects_and_reinitializes(start: Start) -> None:
    app = await start()
    async with sse_client(app) as client:
        await client.ping()
        app.reject_posts = 1
        with pytest.raises(ConnectionLostError, match="404"):
            await client.call_tool("echo", {"text": "lost"})
        async with asyncio.timeout(3):
            assert (await client.call_tool("echo", {"text": "next"})).text == "next"
    assert app.gets == 2
    assert app.initializes == 2


async def test_post_404_fails_the_requests_waiting_on_the_closed_stream(start: Start) -> None:
    app = await start()
    async with sse_client(app) as client:
        await client.ping()
        app.hold["tools/call:echo"] = 1
        waiting = asyncio.ensure_future(client.call_tool("echo", {"text": "held"}))
        await wait_until(lambda: len(app.held_ids) == 1)
        app.reject_posts = 1
        with pytest.raises(ConnectionLostError):
            await client.call_tool("add", {"a": 1, "b": 1})
        try:
            async with asyncio.timeout(1):  # well before the 5 s request timeout
                with pytest.raises(ConnectionLostError):
                    await waiting
        finally:
            waiting.cancel()
            with contextlib.suppress(BaseException):
                await waiting


# -- 7. closing -----------------------------------------------------------------------------------


async def test_closing_the_client_closes_the_stream_and_leaves_no_task(start: Start) -> None:
    app = await start()
    before = asyncio.all_tasks()
    client = sse_client(app)
    async with client:
        await client.list_tools()
        assert app.sessions  # the stream is open
        assert len(asyncio.all_tasks() - before) >= 1  # the stream reader runs
    await wait_until(lambda: app.disconnects == 1)
    assert not app.sessions

    def leftovers() -> set[asyncio.Task[Any]]:
        return asyncio.all_tasks() - before - {asyncio.current_task()}

    with contextlib.suppress(TimeoutError):
        await wait_until(lambda: not leftovers(), timeout=1)
    assert not leftovers(), leftovers()


async def test_close_during_connect_leaves_no_task(start: Start) -> None:
    app = await start(send_endpoint=False)
    before = asyncio.all_tasks()
    client = sse_client(app)
    async with client:
        connecting = asyncio.ensure_future(client.list_tools())
        await wait_until(lambda: app.gets == 1)
    with pytest.raises(BaseException):  # noqa: B017 - closed under it: any failure will do
        await connecting
    await wait_until(lambda: app.disconnects == 1)
    with contextlib.suppress(TimeoutError):
        await wait_until(lambda: not (asyncio.all_tasks() - before - {asyncio.current_task()}))
    assert not (asyncio.all_tasks() - before - {asyncio.current_task()})


# -- 8. HTTP hooks ------------------------------------------------------------------------------


async def test_auth_and_user_hooks_apply_to_the_get_and_every_post(start: Start) -> None:
    app = await start()
    seen: list[tuple[str, str | None]] = []

    @request_hook
    async def record(request: HTTPRequest) -> None:
        seen.append((request.method, request.mcp_method))

    async with sse_client(app, auth="tok", hooks=[record]) as client:
        await client.list_tools()
        await client.call_tool("echo", {"text": "x"})
        await client.notify("notifications/roots/list_changed")
    assert app.gets == 1
    assert len(app.authorizations) == 1 + app.message_posts
    assert app.message_posts >= 5  # initialize, initialized, list, call, notification
    assert all(value == "Bearer tok" for _, value in app.authorizations), app.authorizations
    assert seen[0] == ("GET", None)
    posts = [method for verb, method in seen if verb == "POST"]
    assert posts == [
        "initialize", "notifications/initialized", "tools/list", "tools/call",
        "notifications/roots/list_changed",
    ]


# -- 9. server requests ----------------------------------------------------------------------------


async def test_server_requests_on_the_stream_are_answered_by_post(start: Start) -> None:
    app = await start()
    asked: list[SamplingRequest] = []

    async def sample(request: SamplingRequest) -> SamplingResult:
        asked.append(request)
        return SamplingResult("forty-two", model="test-model")

    async with sse_client(app, sampling_handler=sample) as client:
        assert (await client.call_tool("ask_ping")).text == "pong {}"
        assert (await client.call_tool("ask_sample")).text == "sampled forty-two"
    assert len(asked) == 1
    assert asked[0].max_tokens == 10
    assert [answer["id"] for answer in app.answers] == ["srv-1", "srv-2"]
    assert app.answers[0]["result"] == {}
    assert app.answers[1]["result"]["model"] == "test-model"
    assert app.posts["<answer>"] == 2
    assert all(path.startswith("/messages?session_id=") for path in app.post_paths)


# -- 10. bad JSON on the stream --------------------------------------------------------------------


async def test_a_message_that_is_not_json_is_skipped(
    start: Start, caplog: pytest.LogCaptureFixture
) -> None:
    app = await start(garbage=True)
    with caplog.at_level(logging.WARNING, logger="mcp_async"):
        async with sse_client(app) as client:
            results = await asyncio.gather(
                *(client.call_tool("echo", {"text": str(i)}) for i in range(10))
            )
            assert [r.text for r in results] == [str(i) for i in range(10)]
            assert client.listening
    assert app.gets == 1  # the session survived every bad event
    assert app.initializes == 1
    assert any("bad message" in record.getMessage() for record in caplog.records)


async def test_stray_members_of_a_batch_are_skipped_and_the_rest_delivered(
    start: Start, caplog: pytest.LogCaptureFixture
) -> None:
    # Issue 24: the stream shares the reply streams' routing, member by member: a batch
    # holding a notification with string params, one with params [1] and a response
    # nobody asked for still delivers the awaited response in it (it used to be dropped
    # whole, and the call waited out its timeout).
    app = await start()
    app.hold["tools/call:echo"] = 1
    with caplog.at_level(logging.WARNING, logger="mcp_async"):
        async with sse_client(app) as client:
            call = asyncio.ensure_future(client.call_tool("echo", {"text": "x"}, timeout=3))
            await wait_until(lambda: len(app.held_ids) == 1)
            batch = [
                {"jsonrpc": "2.0", "method": "notifications/message", "params": "oops"},
                {"jsonrpc": "2.0", "method": "notifications/tools/list_changed", "params": [1]},
                {"jsonrpc": "2.0", "id": 424242, "result": {}},
                {"jsonrpc": "2.0", "id": app.held_ids[0],
                 "result": {"content": [{"type": "text", "text": "from the batch"}]}},
            ]
            session = next(iter(app.sessions.values()))
            session.queue.put_nowait(f"event: message\ndata: {json.dumps(batch)}\n\n".encode())
            assert (await call).text == "from the batch"
            assert client.listening
    assert app.gets == 1
    assert "skipping a bad message" in caplog.text


# -- 11. server notifications ----------------------------------------------------------------------


async def test_server_notifications_reach_the_logging_handler(start: Start) -> None:
    app = await start()
    logged: list[LoggingMessage] = []

    async with sse_client(app, logging_handler=logged.append) as client:
        assert (await client.call_tool("log", {"text": "hello"})).text == "logged"
        await wait_until(lambda: len(logged) == 1)
    assert logged[0].level == "warning"
    assert logged[0].logger == "legacy"
    assert logged[0].data == "hello"
