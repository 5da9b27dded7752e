"""pytest fixtures for code that talks MCP: a running test server and a connected client.

Installed with the package and loaded by pytest through the ``pytest11`` entry point
(name ``mcp_async``), so a test needs no fixture code of its own::

    async def test_add(mcp_server, mcp_client):
        result = await mcp_client.call_tool("add", {"a": 1, "b": 2})
        assert result.structured_content == {"result": 3}
        assert mcp_server.stats.by_method["tools/call"] == 1

The fixtures are async: they need `pytest-asyncio <https://pytest-asyncio.readthedocs.io>`_
(``asyncio_mode = "auto"``, or mark the tests ``@pytest.mark.asyncio``); see
``docs/testing.md``. Fixtures:

``mcp_server``
    A started :func:`mcp_async.testing.demo_server` (an
    :class:`~mcp_async.testing.MCPTestServer` on 127.0.0.1, a free port, Streamable HTTP):
    tools ``add``, ``echo``, ``slow``, ``weather``, ``fail``, a resource, a template, a
    prompt and completions. Register more with ``@mcp_server.tool``, inject faults with
    ``mcp_server.faults.add(...)``, read ``mcp_server.stats``. Configure it with the
    ``mcp_server`` marker, whose keywords go to ``demo_server`` (``reply="sse"``,
    ``transport="sse"`` for legacy HTTP+SSE, ``two_way=True``, ``page_size=2``, ...);
    ``demo=False`` starts an empty :class:`~mcp_async.testing.MCPTestServer` instead.
``mcp_client``
    An :class:`~mcp_async.AsyncMCPClient` entered on ``mcp_server.url`` and closed
    after the test. The ``mcp_client`` marker's keywords go to the client
    (``retry=RetryPolicy(...)``, ``initialize="eager"``, handlers, ...).
``mcp_stdio_command``
    ``[sys.executable, "-m", "mcp_async.testing", "--stdio", ...]``: the demo server as a
    local stdio server (extra flags from the ``mcp_stdio`` marker's arguments, e.g.
    ``@pytest.mark.mcp_stdio("--two-way")``).
``mcp_stdio_client``
    An :class:`~mcp_async.AsyncMCPClient` running ``mcp_stdio_command`` over stdio
    (``mcp_client`` marker keywords apply).
``mcp_sync_client``
    For synchronous tests (no pytest-asyncio needed): a blocking
    :class:`mcp_async.sync.MCPClient` on ``mcp_threaded_server``, the same demo server
    (``mcp_server`` marker keywords apply) served by an event loop in a background
    thread. ``mcp_threaded_server.faults.add(...)`` and ``.stats`` work from the test.
``mcp_any_client``
    Parametrized over ``"streamable-http"``, ``"sse"`` (legacy HTTP+SSE) and
    ``"stdio"``: the test runs once per transport, each time against the demo server.
    ``mcp_any_client.transport_kind`` tells which.
``mcp_asgi_client``
    For your own Python MCP server, in memory: an async factory,
    ``client = await mcp_asgi_client(app)``, that connects an entered
    :class:`~mcp_async.AsyncMCPClient` to an ASGI application (the official SDK's
    ``streamable_http_app()``, FastMCP's ``http_app()``, a Starlette app) through
    :class:`~mcp_async.ASGITransport`, with no socket. The application's lifespan runs
    (startup, and shutdown after the test); keywords: ``url=`` (default
    ``http://localhost:8000/mcp``), ``lifespan=`` (``False``: the app is already
    running) and any client option (``mcp_client`` marker keywords are the defaults).
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import pytest

if TYPE_CHECKING:
    from ..client.async_client import AsyncMCPClient
    from ..client.blocking import MCPClient
    from .server import MCPTestServer

# The package itself is imported by the fixtures, not here: pytest loads this plugin in
# every session of every project that has mcp_async installed.
_pytest_asyncio: Any
try:
    import pytest_asyncio as _pytest_asyncio
except ImportError:  # pragma: no cover - exercised only without pytest-asyncio
    _pytest_asyncio = None

__all__ = [
    "mcp_any_client",
    "mcp_asgi_client",
    "mcp_client",
    "mcp_server",
    "mcp_stdio_client",
    "mcp_stdio_command",
    "mcp_sync_client",
    "mcp_threaded_server",
]

#: The transports ``mcp_any_client`` runs a test over.
ANY_TRANSPORTS = ("streamable-http", "sse", "stdio")

_NEEDS_ASYNCIO = (
    "the mcp_async pytest fixtures are async and need pytest-asyncio: "
    "pip install pytest-asyncio, and set asyncio_mode = \"auto\" (or mark the tests "
    "@pytest.mark.asyncio)"
)


def pytest_configure(config: pytest.Config) -> None:
    """Register the markers that configure the fixtures."""
    config.addinivalue_line(
        "markers",
        "mcp_server(**options): keywords for the mcp_server fixture "
        "(mcp_async.testing.demo_server; demo=False for an empty MCPTestServer)",
    )
    config.addinivalue_line(
        "markers",
        "mcp_client(**options): keywords for the AsyncMCPClient of the mcp_client, "
        "mcp_stdio_client and mcp_any_client fixtures",
    )
    config.addinivalue_line(
        "markers", "mcp_stdio(*flags): extra flags for `python -m mcp_async.testing --stdio`"
    )


def _marker_kwargs(request: pytest.FixtureRequest, name: str) -> dict[str, Any]:
    """Keywords of the closest ``name`` marker (function, then class, then module)."""
    marker = request.node.get_closest_marker(name)
    return dict(marker.kwargs) if marker is not None else {}


def _build_server(options: dict[str, Any]) -> MCPTestServer:
    from .demo import demo_server
    from .server import MCPTestServer

    options.setdefault("host", "127.0.0.1")
    if options.pop("demo", True):
        return demo_server(**options)
    return MCPTestServer(**options)


_F = TypeVar("_F", bound=Callable[..., Any])


def _async_fixture(**kwargs: Any) -> Callable[[_F], _F]:
    """``pytest_asyncio.fixture`` (works in strict and auto mode), or a stand-in that
    fails with instructions when pytest-asyncio is missing."""
    if _pytest_asyncio is not None:
        decorator: Callable[[_F], _F] = _pytest_asyncio.fixture(**kwargs)
        return decorator

    def missing(func: _F) -> _F:
        def fixture(request: pytest.FixtureRequest) -> None:
            pytest.fail(_NEEDS_ASYNCIO, pytrace=False)

        fixture.__name__ = func.__name__
        fixture.__doc__ = func.__doc__
        replaced: _F = pytest.fixture(**kwargs)(fixture)
        return replaced

    return missing


@_async_fixture()
async def mcp_server(request: pytest.FixtureRequest) -> AsyncIterator[MCPTestServer]:
    """A started demo MCP server on loopback (see :mod:`mcp_async.testing.pytest_plugin`)."""
    server = _build_server(_marker_kwargs(request, "mcp_server"))
    async with server:
        yield server


@_async_fixture()
async def mcp_client(
    request: pytest.FixtureRequest, mcp_server: MCPTestServer
) -> AsyncIterator[AsyncMCPClient]:
    """An entered :class:`~mcp_async.AsyncMCPClient` on ``mcp_server``."""
    from ..client.async_client import AsyncMCPClient

    options = _marker_kwargs(request, "mcp_client")
    async with AsyncMCPClient(mcp_server.url, **options) as client:
        yield client


@pytest.fixture
def mcp_stdio_command(request: pytest.FixtureRequest) -> list[str]:
    """The command of the demo server over stdio, ``mcp_stdio`` marker flags appended."""
    marker = request.node.get_closest_marker("mcp_stdio")
    flags = [str(flag) for flag in marker.args] if marker is not None else []
    return [sys.executable, "-m", "mcp_async.testing", "--stdio", *flags]


@_async_fixture()
async def mcp_stdio_client(
    request: pytest.FixtureRequest, mcp_stdio_command: list[str]
) -> AsyncIterator[AsyncMCPClient]:
    """An entered :class:`~mcp_async.AsyncMCPClient` on the demo server over stdio."""
    from ..client.async_client import AsyncMCPClient

    options = _marker_kwargs(request, "mcp_client")
    command, *args = mcp_stdio_command
    async with AsyncMCPClient.stdio(command, args, **options) as client:
        yield client


@_async_fixture(params=ANY_TRANSPORTS)
async def mcp_any_client(
    request: pytest.FixtureRequest, mcp_stdio_command: list[str]
) -> AsyncIterator[AsyncMCPClient]:
    """A client of the demo server over each transport in turn (a parametrized fixture)."""
    from ..client.async_client import AsyncMCPClient

    transport: str = request.param
    options = _marker_kwargs(request, "mcp_client")
    if transport == "stdio":
        command, *args = mcp_stdio_command
        async with AsyncMCPClient.stdio(command, args, **options) as client:
            yield client
        return
    server_options = _marker_kwargs(request, "mcp_server")
    if transport == "sse":
        server_options["transport"] = "sse"
    async with _build_server(server_options) as server:
        options.setdefault("transport", transport)
        async with AsyncMCPClient(server.url, **options) as client:
            yield client


@_async_fixture()
async def mcp_asgi_client(
    request: pytest.FixtureRequest,
) -> AsyncIterator[Callable[..., Awaitable[AsyncMCPClient]]]:
    """A factory of entered clients of ASGI applications in this process; every client
    (and so each application's lifespan) is closed after the test."""
    from ..client.async_client import AsyncMCPClient
    from ..transports.http.asgi import ASGI_URL, ASGITransport

    defaults = _marker_kwargs(request, "mcp_client")
    async with contextlib.AsyncExitStack() as stack:

        async def connect(
            app: Any,
            *,
            url: str = ASGI_URL,
            lifespan: bool | Literal["auto"] = "auto",
            **options: Any,
        ) -> AsyncMCPClient:
            transport = ASGITransport(app, lifespan=lifespan)
            client = AsyncMCPClient(url, http_transport=transport, **{**defaults, **options})
            return await stack.enter_async_context(client)

        yield connect


async def _stop_and_drain(server: MCPTestServer) -> None:
    """Stop ``server`` and cancel what still runs on its loop (handlers of cut requests)."""
    await server.stop()
    current = asyncio.current_task()
    tasks = [task for task in asyncio.all_tasks() if task is not current]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


@pytest.fixture
def mcp_threaded_server(request: pytest.FixtureRequest) -> Iterator[MCPTestServer]:
    """The ``mcp_server`` demo server, served by an event loop in a background thread
    (for synchronous tests)."""
    server = _build_server(_marker_kwargs(request, "mcp_server"))
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="mcp-test-server", daemon=True)
    thread.start()
    try:
        asyncio.run_coroutine_threadsafe(server.start(), loop).result(30)
        yield server
    finally:
        try:
            asyncio.run_coroutine_threadsafe(_stop_and_drain(server), loop).result(30)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(30)
            loop.close()


@pytest.fixture
def mcp_sync_client(
    request: pytest.FixtureRequest, mcp_threaded_server: MCPTestServer
) -> Iterator[MCPClient]:
    """A blocking :class:`mcp_async.sync.MCPClient` on ``mcp_threaded_server``."""
    from ..client.blocking import MCPClient

    with MCPClient(mcp_threaded_server.url, **_marker_kwargs(request, "mcp_client")) as client:
        yield client
