"""Fixtures that run real third-party MCP servers for the interop tests.

* ``sdk_server``: the official ``mcp`` Python SDK server (sdk_server.py),
  parametrized over four modes, ids ``json-stateful``, ``sse-stateful``,
  ``json-stateless``, ``sse-stateless``.  Session scoped: one process per mode,
  shared by every test that uses that mode.
* ``everything_server``: ``@modelcontextprotocol/server-everything`` in
  Streamable HTTP mode (session scoped).  Its npm dependencies are installed
  by scripts/install-interop-servers.sh on first use; the fixture skips only
  when Node.js/npm are missing altogether.
* ``sdk_sse_server`` / ``everything_sse_server``: the same two servers over
  legacy HTTP+SSE (session scoped; ``.url`` ends in ``/sse``, the GET endpoint
  whose first event names the POST endpoint).  Every GET opens its own MCP
  session, so tests share the process safely.
* ``sdk_stdio_command`` / ``everything_stdio_command``: a ``servers.StdioCommand``
  (``command``, ``args``, ``env``, ``cwd``) for a client that spawns the server
  itself; each spawn is a fresh process that exits when its stdin closes.
  ``servers.open_stdio(command)`` spawns one for raw access and always reaps it.
* ``start_server``: a function-scoped factory for a private server, for tests
  that must not disturb the shared ones: ``start_server("everything")``,
  ``start_server("sdk-json-stateful")``, ``start_server("sdk-sse")`` or
  ``start_server("everything-sse")``.

The shared HTTP fixtures yield a ``servers.RunningServer``: ``.url`` is the MCP
endpoint (``/mcp``, or ``/sse`` for legacy SSE; ``.transport`` says which);
``.restart()`` keeps the port and forgets every session.  A test that restarts
a shared server leaves it running (just without sessions).

Every test in this directory is marked ``interop``.

Where a server cannot run on this machine at all (no Node.js >= 20, no npm, no
installed server-everything) its tests are skipped, except under ``CI=true``
(what CI sets): there a missing interop server fails the test, naming what is
missing, so a broken install cannot turn interop into a green run of skips.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NoReturn

import pytest

_HERE = Path(__file__).resolve().parent
if str(_HERE) not in sys.path:
    sys.path.insert(0, str(_HERE))

import servers  # noqa: E402
from servers import SDK_MODES, RunningServer, ServerUnavailable, StdioCommand  # noqa: E402


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.path)).resolve().is_relative_to(_HERE):
            item.add_marker(pytest.mark.interop)


def on_ci() -> bool:
    """Whether this is a CI run (``CI`` set to true, as CI services do)."""
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def unavailable(what: str, exc: ServerUnavailable) -> NoReturn:
    """Skip a test whose server cannot run here; under ``CI=true`` fail it instead."""
    message = f"{what} cannot run here: {exc}"
    if on_ci():
        pytest.fail(
            f"{message}\nCI={os.environ['CI']}: a missing interop server is a failure, not a "
            "skip. Install Node.js >= 20 with npm, then run scripts/install-interop-servers.sh.",
            pytrace=False,
        )
    pytest.skip(message)


def _running(start: Callable[[], RunningServer], what: str) -> Iterator[RunningServer]:
    """Start a server for a fixture and stop it after; see ``unavailable()`` if it cannot run."""
    try:
        server = start()
    except ServerUnavailable as exc:
        unavailable(what, exc)
    try:
        yield server
    finally:
        server.stop()
        server.cleanup_logs()


@pytest.fixture(scope="session", params=list(SDK_MODES), ids=list(SDK_MODES))
def sdk_server(request: pytest.FixtureRequest) -> Iterator[RunningServer]:
    """The official Python SDK server in one of its four modes."""
    yield from _running(lambda: servers.start_sdk_server(request.param), "the SDK server")


@pytest.fixture(scope="session")
def everything_server() -> Iterator[RunningServer]:
    """@modelcontextprotocol/server-everything (Streamable HTTP, stateful, SSE responses)."""
    yield from _running(servers.start_everything_server, "server-everything")


@pytest.fixture(scope="session")
def sdk_sse_server() -> Iterator[RunningServer]:
    """The official Python SDK server over legacy HTTP+SSE (``.url`` ends in ``/sse``)."""
    yield from _running(servers.start_sdk_sse_server, "the SDK server (legacy SSE)")


@pytest.fixture(scope="session")
def everything_sse_server() -> Iterator[RunningServer]:
    """server-everything over legacy HTTP+SSE (``.url`` ends in ``/sse``)."""
    yield from _running(servers.start_everything_sse_server, "server-everything (legacy SSE)")


@pytest.fixture(scope="session")
def sdk_stdio_command() -> StdioCommand:
    """How to spawn the official Python SDK server over stdio."""
    return servers.sdk_stdio_command()


@pytest.fixture(scope="session")
def everything_stdio_command() -> StdioCommand:
    """How to spawn server-everything over stdio (installs its npm package if needed)."""
    try:
        return servers.everything_stdio_command()
    except ServerUnavailable as exc:
        unavailable("server-everything (stdio)", exc)


@pytest.fixture
def start_server() -> Iterator[Callable[[str], RunningServer]]:
    """Factory for private servers (see servers.HTTP_SERVER_KINDS); all stopped at teardown."""
    started: list[RunningServer] = []

    def start(kind: str) -> RunningServer:
        try:
            server = servers.start_server(kind)
        except ServerUnavailable as exc:
            unavailable(kind, exc)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
        server.cleanup_logs()
