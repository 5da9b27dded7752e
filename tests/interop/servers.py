"""Start and stop third-party MCP servers for the interop tests (no pytest here).

Two servers nobody on this project wrote, each in every transport it offers:

* the official ``mcp`` Python SDK (tests/interop/sdk_server.py):
  - Streamable HTTP on uvicorn, in four modes: JSON or SSE responses x stateful
    or stateless (``start_sdk_server(mode)``, endpoint ``/mcp``);
  - legacy HTTP+SSE, its ``sse_app()`` on uvicorn (``start_sdk_sse_server()``,
    endpoint ``/sse``; messages are POSTed to ``/messages/?session_id=...``);
  - stdio (``sdk_stdio_command()``);
* ``@modelcontextprotocol/server-everything`` (npm, pinned in
  tests/interop/package.json):
  - Streamable HTTP (``start_everything_server()``, endpoint ``/mcp``);
  - legacy HTTP+SSE (``start_everything_sse_server()``, endpoint ``/sse``;
    messages are POSTed to ``/message?sessionId=...``);
  - stdio (``everything_stdio_command()``).

The HTTP servers listen on 127.0.0.1 only, on a port reserved here
(``reserve_port()``: below the kernel's ephemeral range, held with a lock file, so
parallel test workers and other test runs on the machine never pick the same one,
and a restart finds its port still free).  Each runs in its own process group
and is stopped with SIGTERM, then SIGKILL after a grace period.  Its stdin is a
pipe we hold open: every server exits when it closes, so a killed test run leaves
no orphans behind.

    server = start_sdk_server("json-stateful")
    try:
        ...  # talk to server.url
        server.restart()  # same port, all sessions forgotten
    finally:
        server.stop()

A stdio server is not started here: ``*_stdio_command()`` returns a
``StdioCommand`` (command, args, env, cwd) for a client that spawns the process
itself.  Both stdio servers exit as soon as their stdin reaches EOF, so the
server dies with its client even if the client is killed.  For raw access
(smoke tests) ``open_stdio(command)`` spawns one in its own process group and
always reaps it.

The SDK's Python servers (HTTP and stdio alike) start by fork from a per-process fork
server that has imported the SDK once (forkserver.py), not as fresh interpreters: the
command is a small launcher that stands for the server (its stdin, stdout, stderr, exit
status and signals are the server's).  ``MCP_INTEROP_FORKSERVER=0`` turns that off.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import fcntl
import os
import random
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import weakref
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

# forkserver.py sits beside this file, which is also imported as tests.interop.servers.
if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.append(str(Path(__file__).resolve().parent))

import forkserver

INTEROP_DIR = Path(__file__).resolve().parent
REPO_ROOT = INTEROP_DIR.parent.parent
INSTALL_SCRIPT = REPO_ROOT / "scripts" / "install-interop-servers.sh"
SDK_SERVER_SCRIPT = INTEROP_DIR / "sdk_server.py"
LOOPBACK_PRELOAD = INTEROP_DIR / "loopback_only.mjs"
NODE_MODULES = INTEROP_DIR / "node_modules"
EVERYTHING_PACKAGE = NODE_MODULES / "@modelcontextprotocol" / "server-everything"
EVERYTHING_ENTRY = EVERYTHING_PACKAGE / "dist" / "index.js"
EVERYTHING_VERSION = "2026.8.31"

STDIO_EOF_PRELOAD = INTEROP_DIR / "exit_on_stdin_end.mjs"

HOST = "127.0.0.1"
MCP_PATH = "/mcp"
SSE_PATH = "/sse"  # legacy HTTP+SSE: GET here; the `endpoint` event names the POST URL
START_DEADLINE = 20.0  # seconds for a server to start answering
POLL_TIMEOUT = 0.5  # seconds per readiness probe
STOP_GRACE = 5.0  # seconds between SIGTERM and SIGKILL

# mode id -> (json_response, stateless)
SDK_MODES: dict[str, tuple[bool, bool]] = {
    "json-stateful": (True, False),
    "sse-stateful": (False, False),
    "json-stateless": (True, True),
    "sse-stateless": (False, True),
}


class ServerUnavailable(RuntimeError):
    """The server cannot run on this machine at all (e.g. no node); callers may skip."""


class ServerStartError(RuntimeError):
    """The server process was launched but never started answering."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


PORT_LOCK_DIR = Path(tempfile.gettempdir()) / "mcp-async-interop-ports"
RESERVED_PORTS = 8000  # how many ports below the ephemeral range reserve_port() uses


def _reservable_ports() -> range:
    """Ports the kernel never hands out by itself: those just below its ephemeral range.

    A port from ``free_port()`` is released before the server binds it, and every
    outgoing connection and ``bind(0)`` on the machine draws from the ephemeral range,
    so under parallel tests it can be taken in between (or while a server restarts).
    """
    low = 32768  # Linux's default when /proc does not say
    with contextlib.suppress(OSError, ValueError, IndexError):
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    return range(max(1024, low - RESERVED_PORTS), low)


def _can_bind(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def reserve_port() -> tuple[int, int]:
    """A free loopback port no other user of this function holds: ``(port, lock_fd)``.

    The port stays reserved (an exclusive ``flock`` on a file named after it) until
    ``lock_fd`` is closed, or the process ends.  Each pytest-xdist worker, and each
    test run on the machine, so gets ports of its own, and the port survives restarts.
    """
    ports = _reservable_ports()
    if len(ports) < 100:  # an unusual ephemeral range: fall back to the kernel's choice
        return free_port(), -1
    PORT_LOCK_DIR.mkdir(parents=True, exist_ok=True)
    first = random.randrange(len(ports))
    for i in range(len(ports)):
        port = ports[(first + i) % len(ports)]
        fd = os.open(PORT_LOCK_DIR / f"{port}.lock", os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        if _can_bind(port):
            return port, fd
        os.close(fd)  # someone outside this scheme listens there
    raise RuntimeError(f"no free port in {ports.start}-{ports.stop - 1} on {HOST}")


@dataclass(frozen=True)
class ServerSpec:
    """How to launch one server: everything but the port."""

    name: str
    argv: Callable[[int], list[str]]
    env: Callable[[int], dict[str, str]]
    health_path: str  # any HTTP answer on this path means "up"
    stateful: bool
    json_response: bool
    cwd: Path = INTEROP_DIR
    endpoint_path: str = MCP_PATH  # what `url` points at: /mcp, or /sse (legacy SSE)
    transport: str = "streamable-http"  # or "sse"
    info: Mapping[str, object] = field(default_factory=dict)


_live: set[RunningServer] = set()
_live_lock = threading.Lock()


class RunningServer:
    """One server subprocess on a fixed loopback port.

    ``url`` is the MCP endpoint: ``http://127.0.0.1:<port>/mcp`` for Streamable
    HTTP, ``http://127.0.0.1:<port>/sse`` for legacy HTTP+SSE.  ``restart()``
    stops the process and starts a fresh one on the same port, so every
    session the old process knew is gone.
    """

    def __init__(self, spec: ServerSpec, port: int | None = None) -> None:
        self.spec = spec
        if port is None:
            port, lock_fd = reserve_port()
            if lock_fd >= 0:  # held as long as this object lives, across restarts
                weakref.finalize(self, os.close, lock_fd)
        self.port = port
        self.proc: subprocess.Popen[bytes] | None = None
        self.startup_seconds: float | None = None  # duration of the last start()
        self.starts = 0
        self._logdir = Path(tempfile.mkdtemp(prefix=f"mcp-interop-{spec.name}-"))
        self._stdout_path = self._logdir / "stdout.log"
        self._stderr_path = self._logdir / "stderr.log"
        self._stderr_mark = 0
        self._launches = 0

    # ----------------------------------------------------------- properties
    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.base_url}{self.spec.endpoint_path}"

    @property
    def transport(self) -> str:
        """``"streamable-http"`` or ``"sse"`` (legacy HTTP+SSE)."""
        return self.spec.transport

    @property
    def stateful(self) -> bool:
        return self.spec.stateful

    @property
    def json_response(self) -> bool:
        return self.spec.json_response

    @property
    def pid(self) -> int | None:
        return None if self.proc is None else self.proc.pid

    def is_running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def __repr__(self) -> str:
        return f"<RunningServer {self.name} {self.url} pid={self.pid}>"

    # ------------------------------------------------------------ lifecycle
    def start(self, deadline: float = START_DEADLINE) -> RunningServer:
        if self.is_running():
            raise RuntimeError(f"{self!r} is already running")
        began = time.monotonic()
        end = began + deadline
        while True:
            self._spawn()
            outcome = self._wait_until_ready(end)
            if outcome == "ready":
                break
            # The process died.  On a restart the old socket may still be
            # draining; retry on the same port until the deadline.
            exit_code = self.proc.returncode if self.proc else None
            self._reap()
            if outcome != "exited" or time.monotonic() >= end:
                what = f"did not answer within {deadline:.0f}s"
                if outcome == "exited":
                    what += f" (exited with code {exit_code})"
                raise ServerStartError(self._failure_message(what))
            latest = self.stderr_text()[self._stderr_mark :]
            if "EADDRINUSE" not in latest and "address already in use" not in latest.lower():
                raise ServerStartError(self._failure_message(f"exited with code {exit_code}"))
            time.sleep(0.1)
        self.startup_seconds = time.monotonic() - began
        self.starts += 1
        try:
            _assert_loopback_only(self.port)
        except Exception:
            self.stop()
            raise
        with _live_lock:
            _live.add(self)
        return self

    def stop(self) -> None:
        """Terminate the whole process group; SIGKILL after STOP_GRACE seconds."""
        with _live_lock:
            _live.discard(self)
        self._reap()

    def restart(self, deadline: float = START_DEADLINE) -> RunningServer:
        """Stop, then start again on the SAME port (all sessions are forgotten)."""
        self.stop()
        return self.start(deadline)

    async def arestart(self, deadline: float = START_DEADLINE) -> RunningServer:
        """`restart()` in a worker thread, so the caller's event loop keeps running.

        Prefer this inside async tests: while the loop runs it notices that the
        old process closed its keep-alive connections, so a pooled connection
        to the dead server is not handed out afterwards.
        """
        return await asyncio.to_thread(self.restart, deadline)

    async def astop(self) -> None:
        await asyncio.to_thread(self.stop)

    def __enter__(self) -> RunningServer:
        if not self.is_running():
            self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # ----------------------------------------------------------------- logs
    def stdout_text(self) -> str:
        return _read(self._stdout_path)

    def stderr_text(self) -> str:
        return _read(self._stderr_path)

    def cleanup_logs(self) -> None:
        shutil.rmtree(self._logdir, ignore_errors=True)

    # ------------------------------------------------------------ internals
    def _spawn(self) -> None:
        argv = self.spec.argv(self.port)
        env = self.spec.env(self.port)
        self._stderr_mark = len(self.stderr_text())
        self._launches += 1
        with open(self._stdout_path, "ab") as out, open(self._stderr_path, "ab") as err:
            for stream in (out, err):
                stream.write(f"--- launch #{self._launches}: {' '.join(argv)}\n".encode())
                stream.flush()
            self.proc = subprocess.Popen(
                argv,
                cwd=self.spec.cwd,
                env=env,
                stdin=subprocess.PIPE,  # held open; the child exits on EOF
                stdout=out,
                stderr=err,
                start_new_session=True,  # own process group: killpg() gets everything
                close_fds=True,
            )

    def _wait_until_ready(self, end: float) -> str:
        assert self.proc is not None
        probe = f"{self.base_url}{self.spec.health_path}"
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                return "exited"
            if _answers_http(probe):
                return "ready"
            time.sleep(0.05)
        return "timeout"

    def _reap(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.stdin is not None:
            with contextlib.suppress(OSError):
                proc.stdin.close()  # both servers exit at once on stdin EOF
        if proc.poll() is None:
            _killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(STOP_GRACE)
            except subprocess.TimeoutExpired:
                _killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        # Anything the server forked into its group goes too.
        _killpg(proc.pid, signal.SIGKILL)

    def _failure_message(self, what: str) -> str:
        return (
            f"{self.name} server on {self.url} {what}.\n"
            f"argv: {' '.join(self.spec.argv(self.port))}\n"
            f"----- stderr -----\n{_tail(self.stderr_text())}\n"
            f"----- stdout -----\n{_tail(self.stdout_text())}"
        )


def _killpg(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _answers_http(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=POLL_TIMEOUT) as response:
            response.read()
        return True
    except urllib.error.HTTPError as exc:  # 4xx/5xx: it answered
        exc.close()
        return True
    except (OSError, urllib.error.URLError):
        return False


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except FileNotFoundError:
        return ""


def _tail(text: str, lines: int = 60) -> str:
    return "\n".join(text.splitlines()[-lines:]) or "<empty>"


def _assert_loopback_only(port: int) -> None:
    """Fail loudly if anything listens on `port` on a non-loopback address (Linux only)."""
    allowed = {"0100007F", "00000000000000000000000001000000", "0000000000000000FFFF00000100007F"}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            local, state = fields[1], fields[3]
            address, _, port_hex = local.partition(":")
            if state == "0A" and int(port_hex, 16) == port and address.upper() not in allowed:
                raise RuntimeError(
                    f"a server listens on port {port} at non-loopback address {address} ({table})"
                )


def stop_all() -> None:
    with _live_lock:
        servers = list(_live)
        groups = list(_live_stdio_groups)
    for server in servers:
        server.stop()
    for pgid in groups:  # stdio servers whose `open_stdio` block never finished
        _killpg(pgid, signal.SIGKILL)


atexit.register(stop_all)


# ------------------------------------------------------- SDK server launches
#: Modules the fork server imports once: the SDK servers' scripts (and so the SDK).
FORK_PRELOAD = ("sdk_server", "sdk_resumable_server", "sdk_cache_server", "sdk_header_server")


def use_fork_server() -> bool:
    """Whether Python test programs start by fork from a preloaded process (forkserver.py)."""
    return forkserver.enabled()


def python_script_argv(
    script: Path,
    *args: str,
    fork: bool = True,
    preload: tuple[str, ...] = FORK_PRELOAD,
    path: tuple[str, ...] = (),
) -> list[str]:
    """argv that runs the Python program ``script args...`` as ``__main__``.

    By default a launcher that has a fork server run it (see forkserver.py): the same
    program on the same stdin/stdout/stderr, without importing the modules in
    ``preload`` (by default the SDK's server scripts, and so the SDK) again; ``path``
    goes in front of the fork server's ``PYTHONPATH``.  ``fork=False`` (or
    ``MCP_INTEROP_FORKSERVER=0``): a fresh interpreter.
    """
    return forkserver.script_argv(script, *args, preload=preload, path=path, fork=fork)


# ---------------------------------------------------------------- SDK server
def sdk_server_spec(mode: str) -> ServerSpec:
    json_response, stateless = SDK_MODES[mode]

    def argv(port: int) -> list[str]:
        args = ["--port", str(port), "--exit-on-stdin-eof"]
        if json_response:
            args.append("--json-response")
        if stateless:
            args.append("--stateless")
        return python_script_argv(SDK_SERVER_SCRIPT, *args)

    def env(port: int) -> dict[str, str]:
        return {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1"}

    return ServerSpec(
        name=f"sdk-{mode}",
        argv=argv,
        env=env,
        health_path="/healthz",
        stateful=not stateless,
        json_response=json_response,
        info={"mode": mode},
    )


def start_sdk_server(mode: str, port: int | None = None) -> RunningServer:
    return RunningServer(sdk_server_spec(mode), port).start()


def _sdk_env() -> dict[str, str]:
    return {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1"}


def sdk_sse_server_spec() -> ServerSpec:
    """The SDK server's legacy HTTP+SSE app (``MCPServer.sse_app()`` on uvicorn)."""

    def argv(port: int) -> list[str]:
        return python_script_argv(
            SDK_SERVER_SCRIPT, "--transport", "sse", "--port", str(port), "--exit-on-stdin-eof"
        )

    return ServerSpec(
        name="sdk-sse",
        argv=argv,
        env=lambda port: _sdk_env(),
        health_path="/healthz",
        stateful=True,  # one MCP session per GET /sse stream
        json_response=False,
        endpoint_path=SSE_PATH,
        transport="sse",
        info={"mode": "legacy-sse"},
    )


def start_sdk_sse_server(port: int | None = None) -> RunningServer:
    """Official SDK server over legacy HTTP+SSE; ``.url`` is ``http://127.0.0.1:<port>/sse``."""
    return RunningServer(sdk_sse_server_spec(), port).start()


# -------------------------------------------------------- server-everything
def node_executable() -> str:
    node = shutil.which("node")
    if node is None:
        raise ServerUnavailable("node is not installed (server-everything needs Node.js >= 20)")
    version = subprocess.run(
        [node, "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    try:
        major = int(version.lstrip("v").split(".")[0])
    except ValueError:
        major = 0
    if major < 20:
        raise ServerUnavailable(
            f"server-everything needs Node.js >= 20, found {version or 'unknown'}"
        )
    return node


def everything_installed() -> bool:
    stamp = NODE_MODULES / ".interop-installed"
    lock = INTEROP_DIR / "package-lock.json"
    return (
        EVERYTHING_ENTRY.is_file()
        and stamp.is_file()
        and stamp.stat().st_mtime >= lock.stat().st_mtime
    )


def ensure_everything_installed() -> None:
    """Run scripts/install-interop-servers.sh unless node_modules is already current."""
    node_executable()
    if everything_installed():
        return
    if shutil.which("npm") is None:
        raise ServerUnavailable("npm is not installed, so server-everything cannot be installed")
    result = subprocess.run(
        ["bash", str(INSTALL_SCRIPT)], cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )
    if result.returncode != 0 or not EVERYTHING_ENTRY.is_file():
        raise RuntimeError(
            f"{INSTALL_SCRIPT.relative_to(REPO_ROOT)} failed (exit {result.returncode}):\n"
            f"{result.stdout}\n{result.stderr}"
        )


def _everything_env() -> dict[str, str]:
    # A small, deterministic environment (the get-env tool returns it verbatim).
    names = ("PATH", "HOME", "LANG", "TMPDIR", "SYSTEMROOT")
    keep = {k: os.environ[k] for k in names if k in os.environ}
    return {
        **keep,
        "NODE_ENV": "test",
        "NO_COLOR": "1",
        # gzip-file-as-resource would fetch from github.com by default;
        # keep it offline (data: URIs still work).
        "GZIP_ALLOWED_DOMAINS": "localhost",
    }


def _everything_http_env(port: int) -> dict[str, str]:
    return {**_everything_env(), "PORT": str(port), "MCP_INTEROP_EXIT_ON_STDIN_EOF": "1"}


def _everything_http_argv(node: str, mode: str) -> list[str]:
    # `--import` preloads our shim that pins listen() to 127.0.0.1: the
    # package itself always listens on all interfaces and has no HOST knob.
    return [node, "--import", LOOPBACK_PRELOAD.as_uri(), str(EVERYTHING_ENTRY), mode]


def everything_server_spec() -> ServerSpec:
    node = node_executable()

    return ServerSpec(
        name="everything",
        argv=lambda port: _everything_http_argv(node, "streamableHttp"),
        env=_everything_http_env,
        health_path=MCP_PATH,  # GET /mcp without a session answers 400 at once
        stateful=True,
        json_response=False,
        cwd=EVERYTHING_PACKAGE,
        info={"version": EVERYTHING_VERSION},
    )


def _require_everything(install: bool) -> None:
    if install:
        ensure_everything_installed()
    elif not EVERYTHING_ENTRY.is_file():
        raise ServerUnavailable(f"{EVERYTHING_ENTRY} is missing; run {INSTALL_SCRIPT}")


def start_everything_server(port: int | None = None, *, install: bool = True) -> RunningServer:
    _require_everything(install)
    return RunningServer(everything_server_spec(), port).start()


def everything_sse_server_spec() -> ServerSpec:
    """server-everything's legacy HTTP+SSE mode (``dist/index.js sse``, express, PORT env).

    GET /sse opens a stream (and creates a fresh MCP server for it); its first event
    names ``/message?sessionId=<uuid>``.  A POST for an unknown sessionId is never
    answered, so the probe uses ``/healthz`` (express answers 404 at once).
    """
    node = node_executable()
    return ServerSpec(
        name="everything-sse",
        argv=lambda port: _everything_http_argv(node, "sse"),
        env=_everything_http_env,
        health_path="/healthz",
        stateful=True,
        json_response=False,
        cwd=EVERYTHING_PACKAGE,
        endpoint_path=SSE_PATH,
        transport="sse",
        info={"version": EVERYTHING_VERSION},
    )


def start_everything_sse_server(port: int | None = None, *, install: bool = True) -> RunningServer:
    """server-everything over legacy HTTP+SSE; ``.url`` is ``http://127.0.0.1:<port>/sse``."""
    _require_everything(install)
    return RunningServer(everything_sse_server_spec(), port).start()


# ------------------------------------------------------------------- stdio
@dataclass(frozen=True)
class StdioCommand:
    """How a client spawns a stdio MCP server: ``command *args`` in ``cwd`` with ``env``.

    ``env`` holds every variable the server needs (a small, deterministic set);
    ``open_stdio`` uses it as the whole environment, a client may add its own
    minimal set (HOME, PATH, ...) to it.  ``None``: inherit ours.

        async with AsyncMCPClient.stdio(cmd.command, cmd.args, env=cmd.env, cwd=cmd.cwd):
            ...
    """

    command: str
    args: list[str]
    env: dict[str, str] | None = None
    cwd: str | None = None
    name: str = "stdio"

    @property
    def argv(self) -> list[str]:
        return [self.command, *self.args]

    def __str__(self) -> str:
        return shlex.join(self.argv)


def sdk_stdio_command(*, fork: bool = True) -> StdioCommand:
    """The official SDK server over stdio (``MCPServer.run("stdio")``); exits on stdin EOF.

    ``fork=False``: a fresh interpreter per spawn, not a child of the fork server (it
    then takes 1-2 s of CPU to start, as a user's SDK server would).
    """
    env = {
        k: os.environ[k]
        for k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")
        if k in os.environ
    }
    env.update(PYTHONUNBUFFERED="1", PYTHONDONTWRITEBYTECODE="1")
    command, *args = python_script_argv(SDK_SERVER_SCRIPT, "--transport", "stdio", fork=fork)
    return StdioCommand(
        command=command,
        args=args,
        env=env,
        cwd=str(INTEROP_DIR),
        name="sdk-stdio",
    )


def everything_stdio_command(
    *, install: bool = True, exit_on_stdin_eof: bool = True
) -> StdioCommand:
    """server-everything over stdio (``node dist/index.js stdio``).

    On its own the server outlives its stdin while any timer is pending (an unanswered
    ``roots/list`` waits 60 s; simulated logging repeats forever), so by default a
    preload (exit_on_stdin_end.mjs) makes it exit at stdin EOF, as the SDK server
    does.  ``exit_on_stdin_eof=False`` gives the bare package, e.g. to test a
    client's SIGTERM escalation.  stdio mode opens no socket.
    """
    node = node_executable()
    _require_everything(install)
    preload = ["--import", STDIO_EOF_PRELOAD.as_uri()] if exit_on_stdin_eof else []
    return StdioCommand(
        command=node,
        args=[*preload, str(EVERYTHING_ENTRY), "stdio"],
        env=_everything_env(),
        cwd=str(EVERYTHING_PACKAGE),
        name="everything-stdio",
    )


_live_stdio_groups: set[int] = set()


@contextlib.asynccontextmanager
async def open_stdio(
    command: StdioCommand, *, stop_grace: float = STOP_GRACE
) -> AsyncIterator[asyncio.subprocess.Process]:
    """Spawn a stdio server (own process group, pipes for stdin/stdout) and always reap it.

    On exit: close stdin, wait up to ``stop_grace`` seconds, then SIGTERM and SIGKILL
    the whole group.  stderr goes to a temporary file; on failure read it with
    ``stdio_stderr(process)``.
    """
    stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed in finally
    process = await asyncio.create_subprocess_exec(
        command.command,
        *command.args,
        env=command.env,
        cwd=command.cwd,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=stderr,
        start_new_session=True,
        limit=16 * 1024 * 1024,  # one JSON-RPC message per line; tools/list is long
    )
    process._mcp_interop_stderr = stderr  # type: ignore[attr-defined]
    with _live_lock:
        _live_stdio_groups.add(process.pid)
    try:
        yield process
    finally:
        try:
            await _astop_process(process, stop_grace)
        finally:
            # Leftovers in the group, or the leader itself if the wait was cancelled.
            _killpg(process.pid, signal.SIGKILL)
            with _live_lock:
                _live_stdio_groups.discard(process.pid)
            stderr.close()


def stdio_stderr(process: asyncio.subprocess.Process) -> str:
    """What a process spawned by ``open_stdio`` wrote to stderr so far."""
    stderr = getattr(process, "_mcp_interop_stderr", None)
    if stderr is None or stderr.closed:
        return ""
    stderr.seek(0)
    return bytes(stderr.read()).decode(errors="replace")


async def _astop_process(process: asyncio.subprocess.Process, grace: float) -> None:
    if process.stdin is not None and not process.stdin.is_closing():
        process.stdin.close()  # both stdio servers exit on EOF
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(process.wait(), grace)
        return
    _killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(process.wait(), grace)
        return
    _killpg(process.pid, signal.SIGKILL)
    await process.wait()


def start_server(kind: str) -> RunningServer:
    """Start an HTTP server by name: everything, everything-sse, sdk-sse or sdk-<mode>."""
    if kind == "everything":
        return start_everything_server()
    if kind == "everything-sse":
        return start_everything_sse_server()
    if kind == "sdk-sse":
        return start_sdk_sse_server()
    if kind.startswith("sdk-") and kind.removeprefix("sdk-") in SDK_MODES:
        return start_sdk_server(kind.removeprefix("sdk-"))
    raise ValueError(f"unknown interop server {kind!r}")


HTTP_SERVER_KINDS = (
    "everything",
    "everything-sse",
    "sdk-sse",
    *(f"sdk-{m}" for m in SDK_MODES),
)


def main(argv: list[str] | None = None) -> int:
    """`python tests/interop/servers.py [KIND]...`: start them, print stdio commands, wait."""
    names = (argv if argv is not None else sys.argv[1:]) or list(HTTP_SERVER_KINDS)
    servers = []
    try:
        for command in (sdk_stdio_command(), everything_stdio_command()):
            print(f"{command.name:20} {command}  (cwd {command.cwd})", flush=True)
        for name in names:
            server = start_server(name)
            servers.append(server)
            took = server.startup_seconds or 0.0
            print(
                f"{server.name:20} {server.url}  (pid {server.pid}, up in {took:.2f}s)", flush=True
            )
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        for server in servers:
            server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
