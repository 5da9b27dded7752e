"""Fixtures that run real third-party MCP servers for the interop tests.

* ``sdk_server``: the official ``mcp`` Python SDK server (sdk_server.py),
  parametrized over four modes, ids ``json-stateful``, ``sse-stateful``,
  ``json-stateless``, ``sse-stateless``.  Session scoped: one process per mode,
  shared by every test that uses that mode.
* ``everything_server``: ``@modelcontextprotocol/server-everything`` in
  Streamable HTTP mode (session scoped).  Its npm dependencies are installed
  by scripts/install-interop-servers.sh on first use; the fixture skips only
  when Node.js/npm are missing altogether.
* ``start_server``: a function-scoped factory for a private server, for tests
  that must not disturb the shared ones: ``start_server("everything")`` or
  ``start_server("sdk-json-stateful")``.

Both shared fixtures yield a ``servers.RunningServer``: ``.url`` ends in
``/mcp``; ``.restart()`` keeps the port and forgets every session.  A test
that restarts a shared server leaves it running (just without sessions).

Every test in this directory is marked ``interop``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

_HERE = Path(__file__).resolve().parent
if str(_HERE) not in sys.path:
    sys.path.insert(0, str(_HERE))

import servers  # noqa: E402
from servers import SDK_MODES, RunningServer, ServerUnavailable  # noqa: E402


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.path)).resolve().is_relative_to(_HERE):
            item.add_marker(pytest.mark.interop)


@pytest.fixture(scope="session", params=list(SDK_MODES), ids=list(SDK_MODES))
def sdk_server(request: pytest.FixtureRequest) -> Iterator[RunningServer]:
    """The official Python SDK server in one of its four modes."""
    server = servers.start_sdk_server(request.param)
    try:
        yield server
    finally:
        server.stop()
        server.cleanup_logs()


@pytest.fixture(scope="session")
def everything_server() -> Iterator[RunningServer]:
    """@modelcontextprotocol/server-everything (Streamable HTTP, stateful, SSE responses)."""
    try:
        server = servers.start_everything_server()
    except ServerUnavailable as exc:
        pytest.skip(f"server-everything cannot run here: {exc}")
    try:
        yield server
    finally:
        server.stop()
        server.cleanup_logs()


@pytest.fixture
def start_server() -> Iterator[Callable[[str], RunningServer]]:
    """Factory for private servers: "everything" or "sdk-<mode>"; all stopped at teardown."""
    started: list[RunningServer] = []

    def start(kind: str) -> RunningServer:
        if kind == "everything":
            try:
                server = servers.start_everything_server()
            except ServerUnavailable as exc:
                pytest.skip(f"server-everything cannot run here: {exc}")
        elif kind.startswith("sdk-") and kind.removeprefix("sdk-") in SDK_MODES:
            server = servers.start_sdk_server(kind.removeprefix("sdk-"))
        else:
            raise ValueError(f"unknown interop server {kind!r}")
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
        server.cleanup_logs()
