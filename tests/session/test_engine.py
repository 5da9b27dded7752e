"""The session engine on the in-memory transport: no sockets, no processes.

A small scripted server task answers on the :class:`MemoryPeer`; each test checks one
duty of the engine: the reply table, dispatch, progress, cancellation, deadlines, the
handshake and recovery after a lost connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from mcp_async import (
    AsyncMCPClient,
    ClientStateError,
    ConnectionLostError,
    JSONRPCError,
    ReadTimeout,
)
from mcp_async.protocol.jsonrpc import (
    ErrorResponse,
    Message,
    Notification,
    Request,
    Response,
)
from mcp_async.protocol.models import LoggingMessage, ProgressNotification
from mcp_async.transports.memory import MemoryPeer, MemoryTransport, memory_pair

Answer = Callable[[Request, MemoryPeer], Awaitable[None]]


def init_result(version: str = "2025-11-25") -> dict[str, Any]:
    return {"protocolVersion": version, "capabilities": {"tools": {}},
            "serverInfo": {"name": "memory", "version": "1"}}


class Scripted:
    """A server on the peer: answers initialize, then hands requests to ``answer``."""

    def __init__(self, peer: MemoryPeer, answer: Answer) -> None:
        self.peer = peer
        self.answer = answer
        self.seen: list[Message] = []
        self.tasks: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        while True:
            message = await self.peer.receive()
            self.seen.append(message)
            if isinstance(message, Request):
                if message.method == "initialize":
                    await self.peer.send(Response(message.id, init_result()))
                else:
                    task = asyncio.ensure_future(self.answer(message, self.peer))
                    self.tasks.add(task)
                    task.add_done_callback(self.tasks.discard)

    def methods(self) -> list[str]:
        return [m.method for m in self.seen if isinstance(m, Request | Notification)]


@contextlib.asynccontextmanager
async def session(answer: Answer, **options: Any) -> AsyncIterator[tuple[AsyncMCPClient, Scripted]]:
    transport, peer = memory_pair()
    server = Scripted(peer, answer)
    runner = asyncio.ensure_future(server.run())
    # These tests are about the handshake era; tests/session/test_era.py covers the probe.
    options.setdefault("protocol", "legacy")
    try:
        async with AsyncMCPClient(transport, **options) as client:
            yield client, server
    finally:
        runner.cancel()
        for task in list(server.tasks):
            task.cancel()
        await asyncio.gather(runner, *server.tasks, return_exceptions=True)


async def echo(request: Request, peer: MemoryPeer) -> None:
    await peer.send(Response(request.id, {"echo": request.params}))


async def test_handshake_then_requests() -> None:
    async with session(echo) as (client, server):
        assert client.transport_kind == "memory"
        assert await client.request("x/echo", {"a": 1}) == {"echo": {"a": 1}}
        assert client.protocol_version == "2025-11-25"
        assert server.methods()[:3] == ["initialize", "notifications/initialized", "x/echo"]


async def test_replies_out_of_order_reach_their_own_callers() -> None:
    async def slow_first(request: Request, peer: MemoryPeer) -> None:
        assert request.params is not None
        await asyncio.sleep(0.05 * (5 - request.params["n"]))
        await peer.send(Response(request.id, {"n": request.params["n"]}))

    async with session(slow_first) as (client, _):
        results = await asyncio.gather(*(client.request("x/n", {"n": n}) for n in range(5)))
        assert [r["n"] for r in results] == list(range(5))


async def test_error_replies_raise_jsonrpc_errors() -> None:
    async def refuse(request: Request, peer: MemoryPeer) -> None:
        await peer.send(ErrorResponse(request.id, -32601, "nope"))

    async with session(refuse) as (client, _):
        with pytest.raises(JSONRPCError) as info:
            await client.request("x/missing")
        assert info.value.code == -32601
        with pytest.raises(JSONRPCError):
            await client.request("x/missing")  # the session is still fine


async def test_a_response_nobody_waits_for_is_logged_and_dropped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def twice(request: Request, peer: MemoryPeer) -> None:
        await peer.send(Response(999_999, {}))
        await peer.send(Response(request.id, {"ok": True}))

    async with session(twice) as (client, _):
        assert await client.request("x/y") == {"ok": True}
    assert any("nobody waits" in r.getMessage() for r in caplog.records)


async def test_server_requests_are_dispatched_and_answered() -> None:
    answers: list[Message] = []

    async def ask_then_reply(request: Request, peer: MemoryPeer) -> None:
        await peer.send(Request("srv-1", "roots/list", None))
        await peer.send(Request("srv-2", "no/such/method", None))
        await asyncio.sleep(0.05)
        await peer.send(Response(request.id, {}))

    async with session(ask_then_reply, roots=["file:///tmp/work"]) as (client, server):
        await client.request("x/go")
        await asyncio.sleep(0.05)
        answers = [m for m in server.seen if isinstance(m, Response | ErrorResponse)]
    by_id = {m.id: m for m in answers}
    roots = by_id["srv-1"]
    assert isinstance(roots, Response)
    assert roots.result == {"roots": [{"uri": "file:///tmp/work"}]}
    missing = by_id["srv-2"]
    assert isinstance(missing, ErrorResponse) and missing.code == -32601


async def test_notifications_reach_handlers_in_order() -> None:
    logged: list[str] = []

    async def log_then_reply(request: Request, peer: MemoryPeer) -> None:
        for i in range(3):
            await peer.send(Notification("notifications/message",
                                         {"level": "info", "data": f"line {i}"}))
        await peer.send(Response(request.id, {}))

    def on_log(message: LoggingMessage) -> None:
        logged.append(message.data)

    async with session(log_then_reply, logging_handler=on_log) as (client, _):
        await client.request("x/log")
    assert logged == ["line 0", "line 1", "line 2"]


async def test_progress_goes_to_the_callback_of_its_request() -> None:
    seen: list[float] = []

    async def with_progress(request: Request, peer: MemoryPeer) -> None:
        assert request.params is not None
        token = request.params["_meta"]["progressToken"]
        for value in (1, 2):
            await peer.send(Notification("notifications/progress",
                                         {"progressToken": token, "progress": value}))
        await peer.send(Notification("notifications/progress",
                                     {"progressToken": "someone-else", "progress": 99}))
        await peer.send(Response(request.id, {}))

    def on_progress(note: ProgressNotification) -> None:
        seen.append(note.progress)

    async with session(with_progress) as (client, _):
        await client.request("x/long", progress=on_progress)
    assert seen == [1, 2]


async def never(request: Request, peer: MemoryPeer) -> None:
    await asyncio.sleep(3600)


async def test_a_timeout_raises_and_cancels_on_the_server() -> None:
    async with session(never) as (client, server):
        with pytest.raises(ReadTimeout):
            await client.request("x/slow", timeout=0.05)
        await asyncio.sleep(0.02)
        cancels = [m for m in server.seen
                   if isinstance(m, Notification) and m.method == "notifications/cancelled"]
        assert len(cancels) == 1
        assert cancels[0].params is not None


async def test_cancelling_the_caller_cancels_on_the_server() -> None:
    async with session(never) as (client, server):
        call = asyncio.ensure_future(client.request("x/slow"))
        await asyncio.sleep(0.02)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        await asyncio.sleep(0.02)
        assert "notifications/cancelled" in server.methods()


async def test_progress_pushes_the_deadline_back() -> None:
    async def keeps_reporting(request: Request, peer: MemoryPeer) -> None:
        assert request.params is not None
        token = request.params["_meta"]["progressToken"]
        for value in range(6):
            await asyncio.sleep(0.05)
            await peer.send(Notification("notifications/progress",
                                         {"progressToken": token, "progress": value}))
        await peer.send(Response(request.id, {"done": True}))

    async with session(keeps_reporting) as (client, _):
        result = await client.request("x/long", timeout=0.15, progress=lambda note: None,
                                      reset_timeout_on_progress=True)
        assert result == {"done": True}
        with pytest.raises(ReadTimeout, match="max_total_timeout"):
            await client.request("x/long", timeout=0.15, progress=lambda note: None,
                                 reset_timeout_on_progress=True, max_total_timeout=0.2)


async def test_a_lost_connection_fails_waiting_requests_then_reconnects() -> None:
    async def drop_first(request: Request, peer: MemoryPeer) -> None:
        if request.method == "x/drop":
            peer.disconnect()
            return
        await peer.send(Response(request.id, {"ok": request.method}))

    transport, peer = memory_pair()
    server = Scripted(peer, drop_first)
    runner = asyncio.ensure_future(server.run())
    try:
        async with AsyncMCPClient(transport) as client:
            await client.ping()
            # A request in flight when the connection drops fails, typed...
            with pytest.raises(ConnectionLostError):
                await client.request("x/drop")
            # ...and the next call reconnects and runs a new handshake.
            assert await client.request("x/after") == {"ok": "x/after"}
            assert transport.connections == 2
            assert server.methods().count("initialize") == 2
    finally:
        runner.cancel()
        await asyncio.gather(runner, *server.tasks, return_exceptions=True)


async def test_an_idempotent_request_is_sent_again_after_a_drop() -> None:
    attempts: list[str] = []

    async def drop_once(request: Request, peer: MemoryPeer) -> None:
        attempts.append(request.method)
        if len(attempts) == 1:
            peer.disconnect()
            return
        await peer.send(Response(request.id, {"tools": []}))

    async with session(drop_once) as (client, server):
        assert await client.list_tools() == []
        assert attempts == ["tools/list", "tools/list"]
        assert server.methods().count("initialize") == 2


async def test_closing_fails_what_is_still_waiting() -> None:
    transport = MemoryTransport()
    server = Scripted(transport.peer, never)
    runner = asyncio.ensure_future(server.run())
    # Handshake era, as in session(): Scripted never answers the server/discover probe.
    client = AsyncMCPClient(transport, protocol="legacy")
    await client.open()
    await client.initialize()
    call = asyncio.ensure_future(client.request("x/slow"))
    await asyncio.sleep(0.02)
    await client.aclose()
    with pytest.raises(ClientStateError, match="closed"):
        await call
    for task in (runner, *server.tasks):
        task.cancel()
    await asyncio.gather(runner, *server.tasks, return_exceptions=True)


async def test_a_bad_handler_never_breaks_the_reader(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR)

    async def note_then_reply(request: Request, peer: MemoryPeer) -> None:
        await peer.send(Notification("notifications/message", {"level": "info", "data": 1}))
        await peer.send(Response(request.id, {"fine": True}))

    def broken(message: LoggingMessage) -> None:
        raise RuntimeError("handler bug")

    async with session(note_then_reply, logging_handler=broken) as (client, _):
        assert await client.request("x/y") == {"fine": True}
    assert any("handler" in r.getMessage() for r in caplog.records)
