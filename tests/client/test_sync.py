"""The blocking facade (mcp_async.sync.MCPClient) against the mcp_async.testing server."""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from mcp_async import (
    AsyncMCPClient,
    CallToolResult,
    ClientStateError,
    ConfigError,
    ConnectError,
    SyncInEventLoopError,
    ToolError,
)
from mcp_async.client.blocking import MCPClient
from mcp_async.client.loop_thread import LoopThread, SmallReadLoop, new_loop
from mcp_async.protocol.models import ProgressNotification, Tool
from mcp_async.testing import MCPTestServer, demo_server


class ServerThread:
    """A demo server served by its own event loop in a background thread."""

    def __init__(self, **options: object) -> None:
        self.loop = asyncio.new_event_loop()
        self.server: MCPTestServer = demo_server(**options)
        self.url = self.loop.run_until_complete(self.server.start())
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()

    async def _stop(self) -> None:
        await self.server.stop()
        current = asyncio.current_task()
        tasks = [task for task in asyncio.all_tasks() if task is not current]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


@pytest.fixture
def served() -> Iterator[ServerThread]:
    server = ServerThread()
    yield server
    server.close()


@pytest.fixture
def served_sse() -> Iterator[ServerThread]:
    server = ServerThread(reply="sse")
    yield server
    server.close()


def _sync_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "mcp-async-sync"]


def test_same_methods_and_results_as_the_async_client(served: ServerThread) -> None:
    with MCPClient(served.url) as client:
        info = client.initialize()
        assert info.server_info.name == "mcp-async-demo"
        assert client.server_info.name == "mcp-async-demo"
        assert client.protocol_version == info.protocol_version
        assert client.session_id in served.server.session_ids
        assert client.instructions is not None
        assert client.server_capabilities.raw is not None
        assert client.transport_kind == "streamable-http"
        client.ping()

        tools = client.list_tools()
        assert all(isinstance(tool, Tool) for tool in tools)
        assert "add" in {tool.name for tool in tools}
        assert client.list_tools_page().tools
        assert client.tool_schemas("anthropic")[0]["input_schema"]

        added = client.call_tool("add", {"a": 2, "b": 40}, validate_output=False)
        assert isinstance(added, CallToolResult)
        assert added.structured_content == {"result": 42}
        assert client.call_tool("fail").is_error
        with pytest.raises(ToolError):
            client.call_tool("fail", raise_on_error=True)

        assert client.read_resource("demo://readme").contents
        assert [r.uri for r in client.list_resources()] == ["demo://readme"]
        assert client.list_resource_templates()[0].uri_template == "demo://greeting/{name}"
        assert client.list_prompts()[0].name == "review_code"
        prompt = client.get_prompt("review_code", {"code": "x = 1"})
        assert "x = 1" in str(prompt.raw)
        completion = client.complete({"type": "ref/prompt", "name": "review_code"},
                                     ("language", "py"))
        assert "python" in completion.values
        client.set_logging_level("info")
        assert client.request("ping") == {}

        batch = client.call_tools([("echo", {"text": str(i)}) for i in range(20)],
                                  concurrency=4)
        assert [outcome.unwrap().text for outcome in batch] == [str(i) for i in range(20)]

        seen = []
        with client.stream_calls([("echo", {"text": str(i)}) for i in range(10)]) as stream:
            for index, outcome in stream:
                seen.append((index, outcome.unwrap().text))
        assert sorted(seen) == [(i, str(i)) for i in range(10)]
    assert client.closed


def test_threads_share_one_client_concurrently(served: ServerThread) -> None:
    served.server.stats.reset()
    with MCPClient(served.url) as client:
        client.initialize()

        def work(worker: int) -> list[str]:
            return [
                client.call_tool("echo", {"text": f"{worker}-{i}"}).text for i in range(25)
            ]

        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(work, range(8)))
        for worker, texts in enumerate(results):
            assert texts == [f"{worker}-{i}" for i in range(25)]
        assert len(served.server.session_ids) == 1
        # Concurrent calls overlap in the one loop: a few connections, not one per call.
        assert served.server.stats.connections <= 16


def test_calls_overlap_rather_than_queue(served: ServerThread) -> None:
    with MCPClient(served.url) as client:
        client.initialize()
        start = threading.Event()

        def slow() -> CallToolResult:
            start.wait()
            return client.call_tool("slow", {"seconds": 0.3})

        with ThreadPoolExecutor(4) as pool:
            futures = [pool.submit(slow) for _ in range(4)]
            began = time.perf_counter()
            start.set()
            assert all(not f.result().is_error for f in futures)
            assert time.perf_counter() - began < 1.0  # 4 x 0.3 s would be 1.2 s


def test_progress_callback_runs_in_the_loop_thread(served_sse: ServerThread) -> None:
    threads: set[str] = set()

    def progress(note: ProgressNotification) -> None:
        threads.add(threading.current_thread().name)

    with MCPClient(served_sse.url) as client:
        client.call_tool("slow", {"seconds": 0.05}, progress=progress)
    assert threads == {"mcp-async-sync"}


def test_close_stops_the_loop_and_joins_the_thread(served: ServerThread) -> None:
    before = len(_sync_threads())
    client = MCPClient(served.url).open()
    assert len(_sync_threads()) == before + 1
    client.call_tool("echo", {"text": "x"})
    client.close()
    assert len(_sync_threads()) == before
    client.close()  # idempotent
    with pytest.raises(ClientStateError, match="closed"):
        client.ping()
    with pytest.raises(ClientStateError, match="closed"):
        client.open()


def test_close_cancels_calls_still_running_in_other_threads(served_sse: ServerThread) -> None:
    client = MCPClient(served_sse.url).open()
    client.initialize()
    started = threading.Event()

    def progress(note: ProgressNotification) -> None:
        started.set()

    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(client.call_tool, "slow", {"seconds": 5}, progress=progress)
        assert started.wait(5)
        began = time.perf_counter()
        client.close()
        with pytest.raises(ClientStateError, match="closed while this call"):
            future.result(5)
    assert time.perf_counter() - began < 4


def test_close_while_threads_keep_calling(served: ServerThread) -> None:
    client = MCPClient(served.url).open()
    client.initialize()
    outcomes: list[str] = []
    calls: list[int] = []

    def work() -> None:
        done = 0
        try:
            while True:
                client.ping()
                done += 1
        except BaseException as exc:
            outcomes.append(type(exc).__name__)
        calls.append(done)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    time.sleep(0.2)
    client.close()
    for thread in threads:
        thread.join(5)
    assert not any(thread.is_alive() for thread in threads)
    assert outcomes == ["ClientStateError"] * 8  # nothing else leaks out
    assert sum(calls) > 0


def test_state_errors() -> None:
    client = MCPClient("http://127.0.0.1:1/mcp")
    with pytest.raises(ClientStateError, match="not open"):
        client.list_tools()
    client.close()
    with pytest.raises(ConfigError):
        MCPClient("not a url")


def test_entered_twice(served: ServerThread) -> None:
    with MCPClient(served.url) as client, pytest.raises(ClientStateError, match="already open"):
        client.open()


def test_a_failed_open_leaves_no_thread() -> None:
    before = len(_sync_threads())
    client = MCPClient("http://127.0.0.1:1/mcp", initialize="eager", timeout=2)
    with pytest.raises(ConnectError):
        client.open()
    assert len(_sync_threads()) == before
    assert client.closed


async def test_a_call_inside_a_running_loop_raises_a_clear_error(served: ServerThread) -> None:
    with pytest.raises(SyncInEventLoopError, match="AsyncMCPClient") as caught:
        MCPClient(served.url).open()
    assert isinstance(caught.value, ClientStateError)
    assert "await client.open" in str(caught.value)


def test_a_call_from_a_coroutine_raises_even_when_open(served: ServerThread) -> None:
    with MCPClient(served.url) as client:
        async def misuse() -> None:
            client.list_tools()

        with pytest.raises(SyncInEventLoopError, match=r"await client\.list_tools"):
            asyncio.run(misuse())
        assert client.list_tools()  # the client still works afterwards


def test_a_callback_calling_the_blocking_client_raises_instead_of_deadlocking(
    served_sse: ServerThread,
) -> None:
    errors: list[BaseException] = []

    with MCPClient(served_sse.url) as client:
        def progress(note: ProgressNotification) -> None:
            try:
                client.ping()
            except SyncInEventLoopError as exc:
                errors.append(exc)

        client.call_tool("slow", {"seconds": 0.05}, progress=progress)
    assert errors and all(isinstance(e, SyncInEventLoopError) for e in errors)


def test_stdio_server() -> None:
    with MCPClient.stdio(sys.executable, ["-m", "mcp_async.testing", "--stdio"]) as client:
        assert client.transport_kind == "stdio"
        assert client.call_tool("add", {"a": 1, "b": 2}).structured_content == {"result": 3}
        assert client.url is None


def test_async_client_is_reachable(served: ServerThread) -> None:
    with MCPClient(served.url) as client:
        assert isinstance(client.aclient, AsyncMCPClient)
        assert "open" in repr(client)
    assert "closed" in repr(client)


def test_borrowed_session_is_refused() -> None:
    with pytest.raises(ConfigError, match="session"):
        MCPClient("http://127.0.0.1:1/mcp", session=object())



def test_listen_discover_and_tasks_have_blocking_forms() -> None:
    from mcp_async import EraError
    from mcp_async.features.listen import ToolsListChanged

    served = ServerThread(get_stream=True, tasks=True)
    try:
        with MCPClient(served.url) as client:
            with pytest.raises(EraError):
                client.discover()  # a handshake-era server: initialize said it all
            with client.listen(tools=True) as events:
                asyncio.run_coroutine_threadsafe(
                    served.server.notify("notifications/tools/list_changed"), served.loop
                ).result(5)
                assert next(events) == ToolsListChanged()
            handle = client.start_task("research", {"topic": "x"})
            assert handle.task_id
            assert not handle.wait().is_error
    finally:
        served.close()


def test_a_call_handed_over_as_the_loop_closes_fails_instead_of_hanging() -> None:
    # The call reaches the loop after its last iteration and before close(), so no
    # task will ever run it: its thread must still be woken, with a clear error.
    runner = LoopThread()
    loop = runner.loop
    real_close = loop.close
    outcome: list[BaseException] = []

    def caller() -> None:
        try:
            runner.call(asyncio.sleep(0))
        except BaseException as exc:
            outcome.append(exc)

    late = threading.Thread(target=caller, daemon=True)

    def close_after_a_late_call() -> None:
        late.start()
        began = time.perf_counter()
        while not loop._ready and time.perf_counter() - began < 5:  # type: ignore[attr-defined]
            time.sleep(0.001)
        real_close()

    loop.close = close_after_a_late_call  # type: ignore[method-assign]
    runner.stop()
    late.join(5)
    assert not late.is_alive()
    assert len(outcome) == 1
    assert isinstance(outcome[0], ClientStateError)
    assert "closed" in str(outcome[0])
    with pytest.raises(ClientStateError, match="closed"):
        runner.call(asyncio.sleep(0))


def test_the_loop_thread_reads_64_kib_at_a_time_and_large_replies_arrive_whole(
    served: ServerThread,
) -> None:
    # asyncio's 256 KiB reads cost a thread's malloc arena two page faults each.
    text = "x" * 300_000
    with MCPClient(served.url) as client:
        assert client.call_tool("echo", {"text": text}).text == text
        loop = client._runner.loop  # type: ignore[union-attr]
        assert isinstance(loop, SmallReadLoop)

        async def read_size() -> int:
            host, port = served.url.split("//")[1].split("/")[0].split(":")
            transport, _ = await loop.create_connection(asyncio.Protocol, host, int(port))
            transport.close()
            return transport.max_size  # type: ignore[attr-defined, no-any-return]

        assert client.run(read_size(), what="read_size") == 64 * 1024
    with MCPClient.stdio(sys.executable, ["-m", "mcp_async.testing", "--stdio"]) as client:
        assert client.call_tool("echo", {"text": text}).text == text


def test_an_installed_event_loop_policy_is_kept() -> None:
    class Loop(asyncio.SelectorEventLoop):
        pass

    class Policy(asyncio.DefaultEventLoopPolicy):
        def new_event_loop(self) -> asyncio.AbstractEventLoop:
            return Loop()

    asyncio.set_event_loop_policy(Policy())
    try:
        loop = new_loop()
        try:
            assert type(loop) is Loop
        finally:
            loop.close()
    finally:
        asyncio.set_event_loop_policy(None)
    loop = new_loop()
    loop.close()
    assert isinstance(loop, SmallReadLoop) or sys.platform == "win32"


async def test_opening_inside_a_loop_shows_the_async_form(served: ServerThread) -> None:
    with pytest.raises(SyncInEventLoopError) as caught:
        MCPClient(served.url).open()
    message = str(caught.value)
    assert "async with mcp_async.AsyncMCPClient(...) as client:" in message
    assert "await client.aclose()" in message and "docs/sync.md" in message


def test_a_session_exported_and_resumed_by_blocking_clients(served: ServerThread) -> None:
    with MCPClient(served.url) as client:
        assert client.call_tool("echo", {"text": "one"}).text == "one"
        state = client.export_session()
    assert state.era == "handshake" and state.session_id is not None
    initializes = served.server.stats.by_method["initialize"]
    with MCPClient.resume(served.url, state.to_json()) as resumed:
        assert resumed.call_tool("echo", {"text": "two"}).text == "two"
        assert served.server.stats.last_headers["Mcp-Session-Id"] == state.session_id
    assert served.server.stats.by_method["initialize"] == initializes == 1
    with pytest.raises(ConfigError, match="session"):
        MCPClient.resume(served.url, state, session=object())
