"""The blocking client cannot drift from the async one.

Every public method and property of :class:`~mcp_async.AsyncMCPClient` must exist on
:class:`~mcp_async.client.blocking.MCPClient` with the same parameters (names, kinds, defaults,
annotations), the same overloads and the same result type, an awaitable becoming its
result. The differences that are meant are listed, each with its reason, in the
allow-lists below; a new method, parameter or default on either side fails here until
it is mirrored or listed. The same holds for the handles the clients return
(:class:`~mcp_async.TaskHandle`, :class:`~mcp_async.features.listen.Listening`,
:class:`~mcp_async.OutcomeStream`) and their blocking faces.

``MCPClientGroup`` has no blocking counterpart (nor ``ClientPool``): there is nothing to
compare until one exists.

The second half runs what the comparison found, end to end: ``get_prompt(timeout=)`` on
both clients, and the input-round arguments of the blocking ``read_resource`` and
``get_prompt``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import threading
import time
import typing
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from mcp_async import (
    AsyncMCPClient,
    ClientStateError,
    OutcomeStream,
    ReadTimeout,
    TaskHandle,
)
from mcp_async.client.blocking import (
    MCPClient,
    SyncListening,
    SyncOutcomeStream,
    SyncResponseCache,
    SyncTaskHandle,
)
from mcp_async.features.cache import MemoryCacheStore, ResponseCache
from mcp_async.features.listen import Listening
from mcp_async.protocol.jsonrpc import Message, Notification, Request, Response
from mcp_async.protocol.models import GetPromptResult, InputRequiredResult, ReadResourceResult
from mcp_async.transports.memory import MemoryPeer, memory_pair
from tests.client.test_sync import ServerThread
from tests.scripted import ScriptedServer, scripted_session

# -- the comparison ------------------------------------------------------------------------

#: What an async member is called in blocking form: ``async with`` becomes ``with``,
#: ``async for`` becomes ``for``, ``aclose()`` becomes ``close()`` (on the client it also
#: stops and joins the loop thread). Each side must have the member the other implies.
ASYNC_TO_SYNC = {
    "__aenter__": "__enter__",
    "__aexit__": "__exit__",
    "__aiter__": "__iter__",
    "__anext__": "__next__",
    "aclose": "close",
}

#: Members of AsyncMCPClient the blocking client does not have, and why.
CLIENT_ASYNC_ONLY: dict[str, str] = {
    # The session API features are built on: coroutines of the loop thread (blocking
    # code reaches it as client.aclient.session, inside client.run(...)).
    "session": "the async session API of the loop thread",
}

#: Members only the blocking client has, and why.
CLIENT_SYNC_ONLY = {
    "aclient": "the AsyncMCPClient behind the blocking one",
    "run": "runs a coroutine of the AsyncMCPClient in the blocking client's loop thread",
}

#: Methods whose signatures differ on purpose: the blocking side is compared only for
#: existence and for the parameters it lists explicitly.
CLIENT_SIGNATURE_DIFFERS = {
    # MCPClient(url, **options) forwards every option to AsyncMCPClient and refuses
    # session= (an aiohttp session belongs to the loop that made it); the options are
    # AsyncMCPClient's by construction, so they cannot drift.
    "__init__",
}

#: Plain attributes of the async client that the blocking one only reads, and why.
CLIENT_READ_ONLY = {
    # Where the client connects is fixed when it is made (the cache key and the
    # transport are built from it); the async attribute is not meant to be set either.
    "url": "fixed at construction",
}

#: Result types that change between the clients: (async, blocking).
CLIENT_RESULTS = {
    "open": ("None", "MCPClient"),  # so that ``client = MCPClient(url).open()`` works
    "stdio": ("AsyncMCPClient", "MCPClient"),
    "resume": ("AsyncMCPClient", "MCPClient"),
    "listen": ("Listening", "SyncListening"),
    "start_task": ("_tasks.TaskHandle", "SyncTaskHandle"),
    "stream_calls": ("OutcomeStream[CallToolResult]", "SyncOutcomeStream[CallToolResult]"),
    "cache": ("ResponseCache | None", "SyncResponseCache | None"),
}

#: The handles the clients return, and their blocking faces: (async, blocking,
#: async-only members with why, blocking-only members with why, result types).
HANDLES: list[tuple[type, type, dict[str, str], dict[str, str], dict[str, tuple[str, str]]]] = [
    (TaskHandle, SyncTaskHandle, {}, {}, {}),
    (Listening, SyncListening, {
        # Called by the client's listen router in the loop thread, not by users.
        "acknowledge": "router plumbing",
        "deliver": "router plumbing",
        "ended_by_server": "router plumbing",
        "wants": "router plumbing",
    }, {
        # An instance attribute of Listening (so not on its class); a property here.
        "acknowledged": "instance attribute of Listening",
    }, {}),
    (OutcomeStream, SyncOutcomeStream, {}, {}, {}),
    (ResponseCache, SyncResponseCache, {
        # The client's own plumbing: building the cache, serving and storing results.
        "attach": "client plumbing",
        "build": "client plumbing",
        "fetch": "client plumbing",
        "key": "client plumbing",
        # Used by the client's loop thread only: the blocking face changes the store
        # through clear/evict/invalidate, run in that thread.
        "store": "the loop thread's store",
        "clock": "client plumbing (tests inject a clock)",
    }, {}, {}),
]

#: Attributes of the handles that the blocking faces only read.
HANDLE_READ_ONLY = {
    "hits": "a counter the cache keeps; read it",
    "misses": "a counter the cache keeps; read it",
}

#: Dunders that are part of a class's public face (others are Python's own).
_PUBLIC_DUNDERS = {
    "__init__", "__aenter__", "__aexit__", "__enter__", "__exit__",
    "__aiter__", "__anext__", "__iter__", "__next__",
}


def _public(cls: type) -> set[str]:
    names = set()
    for name in dir(cls):
        if name.startswith("_") and name not in _PUBLIC_DUNDERS:
            continue
        if name in _PUBLIC_DUNDERS and inspect.getattr_static(cls, name) is getattr(
            object, name, None
        ):
            continue  # inherited from object
        owner = next(k for k in cls.__mro__ if name in vars(k))
        if owner.__module__ in ("typing", "collections.abc", "builtins", "abc"):
            continue  # e.g. Iterator.__iter__ from the ABC
        names.add(name)
    return names


def _is_data(member: object) -> bool:
    return isinstance(member, property) or type(member).__name__ == "member_descriptor"


def _params(function: Callable[..., Any]) -> list[tuple[str, Any, Any, Any]]:
    signature = inspect.signature(function)
    return [(p.name, p.kind, p.default, p.annotation) for p in signature.parameters.values()]


def _returns(function: Callable[..., Any]) -> Any:
    return inspect.signature(function).return_annotation


def _unwrap(member: object) -> Callable[..., Any]:
    if isinstance(member, classmethod | staticmethod):
        return member.__func__  # type: ignore[no-any-return]
    assert callable(member)
    return member


def _compare(
    async_cls: type,
    sync_cls: type,
    async_only: dict[str, str],
    sync_only: dict[str, str],
    results: dict[str, tuple[str, str]],
    signature_differs: set[str] = frozenset(),  # type: ignore[assignment]
    read_only: dict[str, str] | None = None,
) -> list[str]:
    """Every difference between the two classes that no allow-list explains."""
    drift: list[str] = []
    async_names, sync_names = _public(async_cls), _public(sync_cls)
    translated = {ASYNC_TO_SYNC.get(name, name) for name in async_names}
    for name in sorted(async_names - set(async_only)):
        if ASYNC_TO_SYNC.get(name, name) not in sync_names:
            drift.append(f"{sync_cls.__name__} lacks {ASYNC_TO_SYNC.get(name, name)}")
    for name in sorted(sync_names - translated - set(sync_only)):
        drift.append(f"{sync_cls.__name__}.{name} has no counterpart on {async_cls.__name__}")
    for name in sorted(set(async_only) & sync_names):
        drift.append(f"{name} is listed as async-only but {sync_cls.__name__} has it")
    # aclose() and close() are compared like any method; the protocol dunders are not
    # (their forms differ by nature: __aiter__ may be an async generator, __next__ not).
    if "aclose" in async_names and "close" in sync_names:
        fa, fs = inspect.getattr_static(async_cls, "aclose"), inspect.getattr_static(
            sync_cls, "close")
        if _params(fa) != _params(fs) or _returns(fa) != _returns(fs):
            drift.append(f"{sync_cls.__name__}.close{inspect.signature(fs)} differs from "
                         f"aclose{inspect.signature(fa)}")
    protocol = set(ASYNC_TO_SYNC) | set(ASYNC_TO_SYNC.values())
    for name in sorted((async_names & sync_names) - signature_differs - protocol):
        a = inspect.getattr_static(async_cls, name)
        s = inspect.getattr_static(sync_cls, name)
        where = f"{sync_cls.__name__}.{name}"
        if _is_data(a):
            if not isinstance(s, property):
                drift.append(f"{where} should be a property")
            elif isinstance(a, property):
                types = (_returns(a.fget), _returns(s.fget))  # type: ignore[arg-type]
                if types != results.get(name, (types[0], types[0])):
                    drift.append(f"{where}: type {types[1]!r}, async {types[0]!r}")
                if (a.fset is None) != (s.fset is None):
                    drift.append(f"{where}: settable on one client only")
            elif s.fset is None and name not in (read_only or {}):
                # a plain attribute of the async client can be set
                drift.append(f"{where}: the async client's attribute is settable, this is not")
            continue
        if isinstance(s, property):
            drift.append(f"{where} is a property, the async one a method")
            continue
        if type(a) is not type(s):  # classmethod / staticmethod / function
            drift.append(f"{where}: {type(s).__name__}, async {type(a).__name__}")
            continue
        fa, fs = _unwrap(a), _unwrap(s)
        if inspect.iscoroutinefunction(fs) or inspect.isasyncgenfunction(fs):
            drift.append(f"{where} must not be a coroutine function")
        if _params(fa) != _params(fs):
            drift.append(f"{where}{inspect.signature(fs)} differs from "
                         f"{async_cls.__name__}.{name}{inspect.signature(fa)}")
        expected = results.get(name, (_returns(fa), _returns(fa)))
        if (_returns(fa), _returns(fs)) != expected:
            drift.append(f"{where} returns {_returns(fs)!r}, async {_returns(fa)!r}")
        overloads_a = typing.get_overloads(fa)
        overloads_s = typing.get_overloads(fs)
        if [(_params(o), _returns(o)) for o in overloads_a] != [
            (_params(o), _returns(o)) for o in overloads_s
        ]:
            drift.append(f"{where}: its overloads differ from the async client's")
    return drift


def test_the_blocking_client_mirrors_every_public_member_of_the_async_client() -> None:
    drift = _compare(AsyncMCPClient, MCPClient, CLIENT_ASYNC_ONLY, CLIENT_SYNC_ONLY,
                     CLIENT_RESULTS, CLIENT_SIGNATURE_DIFFERS, CLIENT_READ_ONLY)
    assert drift == []


@pytest.mark.parametrize(
    ("async_cls", "sync_cls", "async_only", "sync_only", "results"),
    HANDLES, ids=[sync.__name__ for _, sync, *_ in HANDLES],
)
def test_the_blocking_handles_mirror_the_async_ones(
    async_cls: type, sync_cls: type, async_only: dict[str, str],
    sync_only: dict[str, str], results: dict[str, tuple[str, str]],
) -> None:
    assert _compare(async_cls, sync_cls, async_only, sync_only, results,
                    {"__init__"}, HANDLE_READ_ONLY) == []


def test_the_comparison_catches_drift() -> None:
    """The checker itself: each kind of drift it must see, on made-up classes."""

    class Async:
        def __init__(self) -> None:
            self.flag = True

        @property
        def name(self) -> str:
            return ""

        async def fetch(self, uri: str, *, timeout: float | None = None) -> int:
            return 0

        async def gone(self) -> None:
            pass

    class Sync:
        def __init__(self) -> None:
            pass

        @property
        def name(self) -> bytes:
            return b""

        def fetch(self, uri: str, *, timeout: float | None = 1.0) -> str:
            return ""

        def extra(self) -> None:
            pass

    drift = _compare(Async, Sync, {}, {}, {}, {"__init__"})
    assert drift == [
        "Sync lacks gone",
        "Sync.extra has no counterpart on Async",
        "Sync.fetch(self, uri: 'str', *, timeout: 'float | None' = 1.0) -> 'str' differs "
        "from Async.fetch(self, uri: 'str', *, timeout: 'float | None' = None) -> 'int'",
        "Sync.fetch returns 'str', async 'int'",
        "Sync.name: type 'bytes', async 'str'",
    ]


def test_the_blocking_forms_of_async_protocols_are_required() -> None:
    class Async:
        async def __aenter__(self) -> None:
            pass

        async def aclose(self) -> None:
            pass

    class Sync:
        def __iter__(self) -> None:
            pass

        def close(self, force: bool = False) -> None:
            pass

    assert _compare(Async, Sync, {}, {}, {}) == [
        "Sync lacks __enter__",
        "Sync.__iter__ has no counterpart on Async",
        "Sync.close(self, force: 'bool' = False) -> 'None' differs from aclose(self) -> 'None'",
    ]


def test_every_allow_listed_name_still_exists() -> None:
    """An allow-list entry for a member that is gone hides nothing; remove it."""
    for name in CLIENT_ASYNC_ONLY:
        assert name in _public(AsyncMCPClient), name
    for name in CLIENT_SYNC_ONLY:
        assert name in _public(MCPClient), name
    for name in CLIENT_RESULTS:
        assert name in _public(AsyncMCPClient) & _public(MCPClient), name
    for async_cls, sync_cls, async_only, sync_only, _ in HANDLES:
        for name in async_only:
            assert name in _public(async_cls), (async_cls, name)
        for name in sync_only:
            assert name in _public(sync_cls), (sync_cls, name)


def test_the_settings_read_and_write_through_to_the_async_client() -> None:
    client = MCPClient("http://127.0.0.1:9/mcp", timeout=7, max_list_pages=3)
    assert client.timeout is client.aclient.timeout and client.timeout.total == 7
    assert client.max_list_pages == 3
    client.validate_output = True
    client.trust_idempotent_hint = True
    client.max_list_pages = 5
    assert client.aclient.validate_output and client.aclient.trust_idempotent_hint
    assert client.aclient.max_list_pages == 5
    client.close()


def test_the_blocking_task_handle_iterates_and_cancels_like_the_async_one() -> None:
    served = ServerThread(tasks=True)
    try:
        with MCPClient(served.url) as client:
            handle = client.start_task("research", {"topic": "tides", "rounds": 2})
            states = list(handle)  # for task in handle: each change, ending at the last
            assert states[-1].status == "completed" and states[-1].terminal
            assert all(not state.terminal for state in states[:-1])
            assert handle.last.status == "completed"
            assert not handle.wait().is_error

            # with handle: a block that raises cancels the task, as async with does.
            slow = client.start_task("research", {"topic": "slow", "rounds": 500})
            with pytest.raises(LookupError), slow:
                for state in slow:
                    assert not state.terminal
                    raise LookupError("the caller gave up")
            assert slow.status().status == "cancelled"
    finally:
        served.close()


# -- what the comparison found, end to end --------------------------------------------------

#: The answer a 2026-07-28 server gives when it needs the client's input first.
ELICIT = {"method": "elicitation/create", "params": {
    "mode": "form", "message": "Your name?",
    "requestedSchema": {"type": "object", "properties": {"name": {"type": "string"}}},
}}
INTERIM = {"resultType": "input_required", "inputRequests": {"ask": ELICIT},
           "requestState": "s1"}
ANSWER = {"action": "accept", "content": {"name": "Ada"}}
PROMPT = {"resultType": "complete",
          "messages": [{"role": "user", "content": {"type": "text", "text": "hi Ada"}}]}
RESOURCE = {"resultType": "complete",
            "contents": [{"uri": "file:///r", "mimeType": "text/plain", "text": "r"}]}
TOOLS = {"resultType": "complete", "ttlMs": 60_000, "cacheScope": "public",
         "tools": [{"name": "t", "inputSchema": {"type": "object"}}]}
DISCOVER = {
    "resultType": "complete", "supportedVersions": ["2026-07-28"],
    "capabilities": {"prompts": {}, "resources": {}},
    "serverInfo": {"name": "scripted", "version": "1"},
}


CANCELLED = "notifications/cancelled"


class Server(ScriptedServer):
    """A 2026-07-28 server: ``prompts/get`` and ``resources/read`` first ask for input
    (answered from the request's ``inputResponses``), a prompt named ``"slow"`` is never
    answered."""

    def __init__(self, peer: MemoryPeer) -> None:
        super().__init__(peer)
        self.never = asyncio.Event()
        self._cancelled = asyncio.Event()
        receive = peer.receive

        async def receive_and_note() -> Message:
            message = await receive()
            if isinstance(message, Notification) and message.method == CANCELLED:
                self._cancelled.set()
            return message

        peer.receive = receive_and_note  # type: ignore[method-assign]

    async def answer(self, request: Request) -> None:
        params = request.params or {}
        if request.method == "server/discover":
            result: dict[str, Any] = DISCOVER
        elif request.method == "prompts/get" and params.get("name") == "slow":
            await self.never.wait()
            return
        elif request.method in ("prompts/get", "resources/read"):
            done = params.get("inputResponses") == {"ask": ANSWER} and (
                params.get("requestState") == "s1"
            )
            result = (PROMPT if request.method == "prompts/get" else RESOURCE) if done else (
                INTERIM
            )
        elif request.method == "tools/list":
            result = TOOLS
        else:
            result = {"resultType": "complete"}
        await self.peer.send(Response(request.id, result))

    async def cancelled(self) -> list[Any]:
        """The params of the ``notifications/cancelled`` received, once one came."""
        await asyncio.wait_for(self._cancelled.wait(), 10)
        return [m.params for m in self.seen
                if isinstance(m, Notification) and m.method == CANCELLED]


class ThreadNotingStore(MemoryCacheStore):
    """The default store, noting the threads that change it."""

    def __init__(self) -> None:
        super().__init__()
        self.threads: set[str] = set()

    def delete(self, key: str) -> None:
        self.threads.add(threading.current_thread().name)
        super().delete(key)

    def clear(self) -> None:
        self.threads.add(threading.current_thread().name)
        super().clear()


@pytest.fixture
def blocking() -> Iterator[tuple[MCPClient, Server]]:
    """A blocking client on a scripted server that runs in the client's own loop."""
    transport, peer = memory_pair()
    server = Server(peer)
    client = MCPClient(transport, protocol="2026-07-28", timeout=30,
                       cache=ThreadNotingStore()).open()
    runner = client._runner
    assert runner is not None
    serving = asyncio.run_coroutine_threadsafe(server.run(), runner.loop)
    try:
        yield client, server
    finally:
        serving.cancel()
        client.close()
        with pytest.raises(concurrent.futures.CancelledError):
            serving.result(10)


@pytest.fixture
async def modern() -> AsyncIterator[tuple[AsyncMCPClient, Server]]:
    async with scripted_session(Server, protocol="2026-07-28", timeout=30) as pair:
        yield pair


async def test_get_prompt_takes_a_timeout(modern: tuple[AsyncMCPClient, Server]) -> None:
    client, server = modern
    started = time.monotonic()
    with pytest.raises(ReadTimeout):
        await client.get_prompt("slow", timeout=0.3)
    assert time.monotonic() - started < 10  # the call's timeout, not the client's 30 s
    # Cut off like any other request: the server hears that it was cancelled.
    (slow,) = server.requests("prompts/get")
    assert [note["requestId"] for note in await server.cancelled()] == [slow.id]
    # Without timeout= the client's applies, and a prompt that answers is unaffected.
    done = await client.get_prompt("p", input_responses={"ask": ANSWER}, request_state="s1")
    assert isinstance(done, GetPromptResult)
    assert done.raw["messages"][0]["content"]["text"] == "hi Ada"


def test_blocking_get_prompt_takes_a_timeout(blocking: tuple[MCPClient, Server]) -> None:
    client, server = blocking
    started = time.monotonic()
    with pytest.raises(ReadTimeout):
        client.get_prompt("slow", timeout=0.3)
    assert time.monotonic() - started < 10
    assert client._runner is not None
    noted = asyncio.run_coroutine_threadsafe(server.cancelled(), client._runner.loop)
    (slow,) = server.requests("prompts/get")
    assert [note["requestId"] for note in noted.result(15)] == [slow.id]


def test_blocking_get_prompt_and_read_resource_take_the_input_round_arguments(
    blocking: tuple[MCPClient, Server],
) -> None:
    client, server = blocking
    interim = client.get_prompt("p", {"x": "1"}, allow_input_required=True)
    assert isinstance(interim, InputRequiredResult) and interim.request_state == "s1"
    prompt = client.get_prompt("p", {"x": "1"}, input_responses={"ask": ANSWER},
                               request_state=interim.request_state)
    assert isinstance(prompt, GetPromptResult)
    assert prompt.raw["messages"][0]["content"]["text"] == "hi Ada"

    interim = client.read_resource("file:///r", allow_input_required=True)
    assert isinstance(interim, InputRequiredResult) and set(interim.input_requests) == {"ask"}
    read = client.read_resource("file:///r", input_responses={"ask": ANSWER},
                                request_state="s1", timeout=5)
    assert isinstance(read, ReadResourceResult) and read.raw["contents"][0]["text"] == "r"
    # What went over the wire: the resumed requests carry the answers and the state.
    for method in ("prompts/get", "resources/read"):
        first, resumed = server.requests(method)
        assert first.params is not None and "inputResponses" not in first.params
        assert resumed.params is not None
        assert resumed.params["inputResponses"] == {"ask": ANSWER}
        assert resumed.params["requestState"] == "s1"


def test_derived_methods_keep_the_blocking_client_errors() -> None:
    """A derived method refuses like the hand-written ones did: not open, or closed."""
    client = MCPClient("http://127.0.0.1:9/mcp")
    with pytest.raises(ClientStateError, match="not open"):
        client.get_prompt("p", timeout=1)
    client.close()
    with pytest.raises(ClientStateError, match="closed"):
        client.read_resource("file:///r", allow_input_required=True)


def test_the_blocking_cache_counts_and_changes_in_the_loop_thread(
    blocking: tuple[MCPClient, Server],
) -> None:
    client, server = blocking
    cache = client.cache
    assert cache is not None
    client.list_tools()
    client.list_tools()  # fresh for 60 s: served from the cache
    assert (cache.hits, len(server.requests("tools/list"))) == (1, 1)
    cache.evict("tools/list")
    client.list_tools()
    assert len(server.requests("tools/list")) == 2
    cache.invalidate("notifications/tools/list_changed")
    client.list_tools()
    assert len(server.requests("tools/list")) == 3
    cache.clear()
    client.list_tools()
    assert len(server.requests("tools/list")) == 4
    assert cache.hits == 1 and cache.misses == 4
    # The store was changed only by the loop thread, where the client uses it.
    store = client.aclient.cache.store  # type: ignore[union-attr]
    assert isinstance(store, ThreadNotingStore) and store.threads == {"mcp-async-sync"}
    assert MCPClient("http://127.0.0.1:9/mcp", cache=False).cache is None
