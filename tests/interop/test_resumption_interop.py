"""Resumption and cancellation against servers nobody here wrote.

* The official SDK's ``streamable_http_app(event_store=..., retry_interval=...)``
  (tests/interop/sdk_resumable_server.py, an in-memory ``EventStore``), which also
  records server-side what it replayed and which calls were cancelled.
* ``@modelcontextprotocol/server-everything`` in ``streamableHttp`` mode, whose
  in-memory event store replays after ``Last-Event-ID``.

A recording proxy (tests/interop/cutting_proxy.py) cuts a tool call's SSE reply in the
middle; the client must come back with a GET carrying the last event id it saw and get
the rest of the reply (progress and response) from the server's event store, exactly
once.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import aiohttp
import pytest
from cutting_proxy import CuttingProxy
from servers import INTEROP_DIR, RunningServer, ServerSpec, python_script_argv

from mcp_async import AsyncMCPClient, ReadTimeout
from mcp_async.protocol.models import ProgressNotification
from mcp_async.transports.http.sse_streams import ReconnectPolicy

RESUMABLE_SCRIPT = INTEROP_DIR / "sdk_resumable_server.py"
# SSE resumption (event ids, Last-Event-ID) belongs to the handshake era (2025-11-25 and
# before); both servers would otherwise agree on 2026-07-28, whose replies are not resumable.
HANDSHAKE_ERA = "legacy"
FAST = ReconnectPolicy(max_attempts=3, initial_delay=0.01, max_delay=0.05, max_server_delay=0.1)


def resumable_spec() -> ServerSpec:
    def argv(port: int) -> list[str]:
        return python_script_argv(RESUMABLE_SCRIPT, "--port", str(port), "--retry-ms", "20",
                                  "--exit-on-stdin-eof")

    return ServerSpec(
        name="sdk-resumable",
        argv=argv,
        env=lambda port: {**os.environ, "PYTHONUNBUFFERED": "1",
                          "PYTHONDONTWRITEBYTECODE": "1"},
        health_path="/healthz",
        stateful=True,
        json_response=False,
    )


@pytest.fixture(scope="module")
def resumable_server() -> Iterator[RunningServer]:
    server = RunningServer(resumable_spec()).start()
    try:
        yield server
    finally:
        server.stop()
        server.cleanup_logs()


@pytest.fixture
async def proxy_for() -> AsyncIterator[Callable[[RunningServer], Any]]:
    proxies: list[CuttingProxy] = []

    async def start(server: RunningServer, *, drain: bool = False) -> CuttingProxy:
        proxy = await CuttingProxy(server.url, drain=drain).__aenter__()
        proxies.append(proxy)
        return proxy

    yield start
    for proxy in proxies:
        await proxy.__aexit__(None, None, None)


async def server_record(server: RunningServer) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http, http.get(f"{server.base_url}/record") as r:
        record: dict[str, Any] = await r.json()
        return record


async def until_recorded(
    server: RunningServer, predicate: Callable[[dict[str, Any]], bool], timeout: float = 10.0
) -> dict[str, Any]:
    async with asyncio.timeout(timeout):
        while True:
            record = await server_record(server)
            if predicate(record):
                return record
            await asyncio.sleep(0.02)


def check_replayed(proxy: CuttingProxy, request_id: Any, resumes: int) -> None:
    """The cut POST, then ``resumes`` GETs, each after the last id the client had seen,
    the last of which carried the response."""
    post = proxy.posted("tools/call")[0]
    assert post.cut and post.status == 200
    assert request_id in post.rpc_ids
    assert not any(m.get("id") == request_id for m in post.messages() if "result" in m)
    got = proxy.resumes()
    assert len(got) == resumes, [(e.last_event_id, e.events) for e in got]
    previous = post
    for resume in got:
        seen_ids = [event_id for event_id, _ in previous.events if event_id]
        assert resume.last_event_id == seen_ids[-1]
        previous = resume
    final = got[-1].messages()
    assert any(m.get("id") == request_id and "result" in m for m in final), final


def check_replay_is_the_lost_reply(proxy: CuttingProxy) -> list[Any]:
    """With a draining proxy: the resumed stream starts with exactly the messages the
    server had sent on the cut stream after the cut (same ids, same order)."""
    post = proxy.posted("tools/call")[0]
    lost = [data for _, data in post.unforwarded if data is not None]
    assert lost, "the cut lost nothing: cut later or make the tool slower"
    (resume,) = proxy.resumes()
    assert resume.messages()[: len(lost)] == lost
    replayed_ids = [event_id for event_id, data in resume.events if data is not None]
    lost_ids = [event_id for event_id, data in post.unforwarded if data is not None]
    assert replayed_ids[: len(lost_ids)] == lost_ids  # the server's own event ids
    return lost


def tool_call_id(proxy: CuttingProxy) -> Any:
    """The JSON-RPC id of the first tool call."""
    (request_id,) = proxy.posted("tools/call")[0].rpc_ids
    return request_id


# ---- the official SDK with an event store ----------------------------------------------------


async def test_sdk_reply_replayed_after_last_event_id(
    resumable_server: RunningServer, proxy_for: Callable[[RunningServer], Any]
) -> None:
    proxy: CuttingProxy = await proxy_for(resumable_server, drain=True)
    proxy.cut("tools/call", after=2)  # the priming event and the first progress, then cut
    seen: list[float] = []

    def on_progress(p: ProgressNotification) -> None:
        seen.append(p.progress)

    async with AsyncMCPClient(proxy.url, reconnect=FAST, protocol=HANDSHAKE_ERA) as client:
        result = await client.call_tool(
            "steps", {"steps": 3, "delay": 0.05}, progress=on_progress, timeout=15
        )
        assert result.text == "done 3"
        assert (await client.call_tool("echo", {"text": "after"})).text == "after"
    assert seen == [1, 2, 3]  # nothing lost, nothing twice
    request_id = tool_call_id(proxy)
    check_replayed(proxy, request_id, resumes=1)
    lost = check_replay_is_the_lost_reply(proxy)
    assert [m.get("params", {}).get("progress") for m in lost[:-1]] == [2, 3]
    # The server's side: its event store replayed, after exactly that id, the rest of the
    # reply, response included.
    record = await server_record(resumable_server)
    (resume,) = proxy.resumes()
    replay = next(r for r in record["replays"] if r["last_event_id"] == resume.last_event_id)
    assert replay["sent"][-1] == {"id": request_id}
    assert [m.get("method") for m in replay["sent"][:-1]] == ["notifications/progress"] * 2


async def test_sdk_several_resumptions_in_one_call(
    resumable_server: RunningServer, proxy_for: Callable[[RunningServer], Any]
) -> None:
    """The reply is cut, the first resumed stream is cut again after one event: two
    resumptions, each after the last id seen, and every progress step exactly once."""
    proxy: CuttingProxy = await proxy_for(resumable_server)
    proxy.cut("tools/call", after=2)
    proxy.cut("resume", after=1)
    seen: list[float] = []

    def on_progress(p: ProgressNotification) -> None:
        seen.append(p.progress)

    async with AsyncMCPClient(proxy.url, reconnect=FAST, protocol=HANDSHAKE_ERA) as client:
        result = await client.call_tool(
            "steps", {"steps": 4, "delay": 0.06}, progress=on_progress, timeout=15
        )
    assert result.text == "done 4"
    assert seen == [1, 2, 3, 4]
    check_replayed(proxy, tool_call_id(proxy), resumes=2)
    assert proxy.resumes()[0].cut


async def test_sdk_receives_cancelled_on_timeout(
    resumable_server: RunningServer, proxy_for: Callable[[RunningServer], Any]
) -> None:
    """A call that times out is cancelled on the server: the SDK receives
    notifications/cancelled for it and cancels the running tool (recorded server-side)."""
    proxy: CuttingProxy = await proxy_for(resumable_server)
    async with AsyncMCPClient(proxy.url, protocol=HANDSHAKE_ERA) as client:
        with pytest.raises(ReadTimeout):
            await client.call_tool("wait", {"seconds": 30}, timeout=0.5)
        request_id = tool_call_id(proxy)
        record = await until_recorded(
            resumable_server, lambda r: str(request_id) in map(str, r["cancelled"])
        )
        assert str(request_id) in map(str, record["cancelled"])
        (cancel,) = proxy.posted("notifications/cancelled")
        assert cancel.status in (200, 202)
        assert (await client.call_tool("echo", {"text": "still here"})).text == "still here"


async def test_sdk_receives_cancelled_when_the_task_is_cancelled(
    resumable_server: RunningServer, proxy_for: Callable[[RunningServer], Any]
) -> None:
    proxy: CuttingProxy = await proxy_for(resumable_server)
    async with AsyncMCPClient(proxy.url, protocol=HANDSHAKE_ERA) as client:
        await client.initialize()
        call = asyncio.ensure_future(client.call_tool("wait", {"seconds": 30}))
        async with asyncio.timeout(10):
            while not proxy.posted("tools/call"):  # noqa: ASYNC110 - the proxy saw the POST
                await asyncio.sleep(0.01)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        request_id = tool_call_id(proxy)
        await until_recorded(
            resumable_server, lambda r: str(request_id) in map(str, r["cancelled"])
        )
        assert (await client.call_tool("echo", {"text": "ok"})).text == "ok"


# ---- server-everything -----------------------------------------------------------------------


async def test_everything_reply_replayed_after_last_event_id(
    everything_server: RunningServer, proxy_for: Callable[[RunningServer], Any]
) -> None:
    # Draining: server-everything's store answers a replay with an event id where the SDK
    # expects a stream id, so events sent after the resume never reach the resumed stream;
    # the proxy therefore resumes only once the server has sent (and stored) the reply.
    proxy: CuttingProxy = await proxy_for(everything_server, drain=True)
    proxy.cut("tools/call", after=1)  # right after the priming event
    seen: list[float] = []

    def on_progress(p: ProgressNotification) -> None:
        seen.append(p.progress)

    async with AsyncMCPClient(proxy.url, reconnect=FAST, protocol=HANDSHAKE_ERA) as client:
        result = await client.call_tool(
            "trigger-long-running-operation", {"duration": 0.3, "steps": 3},
            progress=on_progress, timeout=15,
        )
        assert "completed" in result.text
    assert seen == [1, 2, 3]
    check_replayed(proxy, tool_call_id(proxy), resumes=1)
    lost = check_replay_is_the_lost_reply(proxy)
    assert [m.get("params", {}).get("progress") for m in lost[:-1]] == [1, 2, 3]
    assert lost[-1]["id"] == tool_call_id(proxy)
