"""Start the SDK's Python servers by fork from one preloaded process (no pytest here).

Every start of tests/interop/sdk_server.py as a fresh interpreter spends 1-2 s of CPU
importing the official SDK (pydantic builds its models at import).  A test run starts
it well over a hundred times (each stdio client spawns its own), so instead one
*fork server* per test process imports the SDK once and forks a child per start.

Nothing changes for whoever starts a server: it still spawns a command, here
``python -I -S forkserver.py launch SOCKET script.py ARGS...``, a *launcher* that
imports nothing but the standard library.  The launcher hands its stdin, stdout and
stderr (file descriptors, over a Unix socket), its argv, environment and working
directory to the fork server, whose child runs ``script.py ARGS...`` as ``__main__`` on
those very descriptors.  So the server reads the client's stdin and writes its stdout
directly, and:

* the launcher exits with the server's exit status (or dies of the same signal);
* a signal sent to the launcher (SIGTERM, SIGINT, SIGHUP, ...) is passed on to the
  server; if the launcher dies unannounced (SIGKILL), the server kills itself;
* the launcher gives up its own copies of the three descriptors once they are handed
  over, so end of file on them belongs to the server alone;
* ``MCP_INTEROP_PID`` in the server's environment is the launcher's pid, the process
  its starter knows: a server that reports "its pid" (sdk_server.py's
  ``inflight_probe``) reports that one.

The fork server itself (``forkserver.py serve SOCKET MODULE...``) preloads the given
modules, detaches (its starter does not have to reap it) and exits, killing its
children, as soon as its stdin reaches end of file: its starter holds that pipe, so
the fork server never outlives the test process.

A test process gets the argv to spawn from ``script_argv(script, *args, preload=...)``,
which starts one fork server per ``preload`` (and process) on first use.  Where a Unix
socket cannot pass file descriptors, or with ``MCP_INTEROP_FORKSERVER=0``, that argv
runs the script in a fresh interpreter instead.

Only the standard library is imported at the top: the launcher starts in milliseconds.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
import socket
import struct
import sys
import threading

HEADER = struct.Struct("!I")  # length of the JSON request that follows
#: Signals a launcher passes on to its server.
RELAYED = (
    signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1,
    signal.SIGUSR2,
)


SCRIPT = os.path.abspath(__file__)
START_DEADLINE = 60.0  # seconds for a fork server to import its modules, even under load


# ------------------------------------------------------------------- starter
def enabled() -> bool:
    """Whether ``script_argv`` uses fork servers (see the module docstring)."""
    wanted = os.environ.get("MCP_INTEROP_FORKSERVER", "1").strip().lower() not in ("0", "no")
    return wanted and hasattr(socket, "send_fds") and hasattr(os, "fork")


def script_argv(
    script: str | os.PathLike[str],
    *args: str,
    preload: tuple[str, ...],
    path: tuple[str, ...] = (),
    fork: bool = True,
) -> list[str]:
    """argv that runs the Python program ``script args...`` as ``__main__``.

    With ``fork`` (and ``enabled()``) that is a launcher whose fork server has imported
    ``preload`` already, with ``path`` in front of ``PYTHONPATH`` (as the script's own
    process would have it: the modules must come from where the script would import
    them); else a fresh interpreter.
    """
    if not (fork and enabled()):
        return [sys.executable, os.fspath(script), *args]
    with _servers_lock:
        server = _servers.setdefault((preload, path), ForkServer(preload, path))
    launcher = [sys.executable, "-I", "-S", SCRIPT, "launch"]
    return [*launcher, server.socket_path(), os.fspath(script), *args]


class ForkServer:
    """A fork server preloading ``preload``: started on first use, one per process."""

    def __init__(self, preload: tuple[str, ...], path: tuple[str, ...] = ()) -> None:
        self.preload = preload
        self.path = path
        self._lock = threading.Lock()
        self._owner = 0  # the pid that started it: a forked test process needs its own
        self._path = ""

    def socket_path(self) -> str:
        """Where its launchers connect (it is started first if need be)."""
        with self._lock:
            if self._owner != os.getpid():
                self._start()
            return self._path

    def _env(self) -> dict[str, str]:
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        paths = [*self.path, *filter(None, [env.get("PYTHONPATH")])]
        if paths:
            env["PYTHONPATH"] = os.pathsep.join(paths)
        return env

    def _start(self) -> None:
        import atexit
        import select
        import subprocess
        import tempfile

        workdir = tempfile.mkdtemp(prefix="mcp-forkserver-")
        path = os.path.join(workdir, "sock")
        log = os.path.join(workdir, "stderr.log")
        with open(log, "wb") as err:
            proc = subprocess.Popen(
                [sys.executable, "-u", SCRIPT, "serve", path, *self.preload],
                cwd=os.path.dirname(SCRIPT),
                env=self._env(),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
                start_new_session=True,
                close_fds=True,
            )
        assert proc.stdin is not None and proc.stdout is not None
        readable, _, _ = select.select([proc.stdout], [], [], START_DEADLINE)
        ready = proc.stdout.readline() if readable else b""
        proc.stdout.close()
        if ready != b"ready\n":
            proc.kill()
            proc.wait()
            with open(log, errors="replace") as text:
                tail = "".join(text.readlines()[-40:])
            raise RuntimeError(f"the fork server for {self.preload} did not start:\n{tail}")
        proc.wait()  # it detached: what answered is a child this process need not reap
        stdin = os.dup(proc.stdin.fileno())  # kept open: it exits when this closes
        proc.stdin.close()
        os.set_inheritable(stdin, False)
        self._owner, self._path = os.getpid(), path
        atexit.register(_stop, stdin, workdir)


def _stop(stdin: int, workdir: str) -> None:
    import shutil

    os.close(stdin)  # end of file: the fork server kills its children and exits
    shutil.rmtree(workdir, ignore_errors=True)


_servers: dict[tuple[tuple[str, ...], tuple[str, ...]], ForkServer] = {}
_servers_lock = threading.Lock()


# ------------------------------------------------------------------ launcher
def launch(path: str, argv: list[str]) -> int:
    """Run ``argv`` (script and arguments) in a child of the fork server at ``path``."""
    request = json.dumps(
        {"argv": argv, "cwd": os.getcwd(), "env": dict(os.environ), "pid": os.getpid()}
    ).encode()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
        socket.send_fds(sock, [HEADER.pack(len(request)) + request], [0, 1, 2])
    except OSError as exc:
        print(f"forkserver launch: cannot reach the fork server at {path}: {exc}", file=sys.stderr)
        return 1
    # The server has its own copies now; ours must not keep its stdout or stderr open
    # (the reader would wait for our end of file too) nor hold its stdin.
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)

    def relay(signum: int, frame: object) -> None:
        with contextlib.suppress(OSError):
            sock.send(bytes([signum]))

    for signum in RELAYED:
        signal.signal(signum, relay)
    status = b""
    while True:
        try:
            chunk = sock.recv(64)
        except InterruptedError:
            continue
        if not chunk:
            break
        status += chunk
    kind, _, number = status.decode().partition(" ")
    if kind == "signal":
        signum = int(number)
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
        return 128 + signum
    return int(number) if kind == "exit" else 1


# --------------------------------------------------------------- fork server
def _receive(conn: socket.socket) -> tuple[dict[str, object], list[int]]:
    data, fds, _flags, _addr = socket.recv_fds(conn, 1 << 16, 3)
    while len(data) < HEADER.size:
        more = conn.recv(1 << 16)
        if not more:
            raise EOFError("the launcher went away")
        data += more
    (size,) = HEADER.unpack_from(data)
    body = data[HEADER.size :]
    while len(body) < size:
        more = conn.recv(size - len(body))
        if not more:
            raise EOFError("the launcher went away")
        body += more
    return json.loads(body), fds


def _run_child(conn: socket.socket, request: dict[str, object], fds: list[int]) -> None:
    """In the forked child: become the server the launcher asked for; never returns."""
    code = 1
    try:
        for signum in (signal.SIGCHLD, *RELAYED):
            signal.signal(signum, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.set_wakeup_fd(-1)
        os.setsid()
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            if fd > 2:
                os.close(fd)
        argv = [str(arg) for arg in request["argv"]]  # type: ignore[attr-defined]
        env = request["env"]
        assert isinstance(env, dict)
        os.chdir(str(request["cwd"]))
        os.environ.clear()
        os.environ.update({str(k): str(v) for k, v in env.items()})
        os.environ["MCP_INTEROP_PID"] = str(request["pid"])

        def watch() -> None:
            # Signal numbers from the launcher; end of file means the launcher died.
            while True:
                try:
                    chunk = conn.recv(64)
                except OSError:
                    chunk = b""
                if not chunk:
                    os.kill(os.getpid(), signal.SIGKILL)
                for signum in chunk:
                    os.kill(os.getpid(), signum)

        threading.Thread(target=watch, name="launcher-watch", daemon=True).start()
        script = os.path.abspath(argv[0])
        sys.argv = [script, *argv[1:]]
        sys.path[0] = os.path.dirname(script)
        import runpy

        try:
            runpy.run_path(script, run_name="__main__")
            code = 0
        except SystemExit as exc:
            if exc.code is None:
                code = 0
            elif isinstance(exc.code, int):
                code = exc.code
            else:
                print(exc.code, file=sys.stderr)
                code = 1
        except KeyboardInterrupt:
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGINT)
    except BaseException:
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(code)


def serve(path: str, preload: list[str]) -> None:
    """Preload ``preload``, detach, then fork a server per launcher until stdin closes."""
    import importlib

    for name in preload:
        importlib.import_module(name)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(64)
    if os.fork():  # the starter reaps this parent at once; the child carries on
        os._exit(0)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda signum, frame: None)
    os.write(1, b"ready\n")
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.close(null)

    children: dict[int, socket.socket] = {}
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ, "accept")
    selector.register(0, selectors.EVENT_READ, "stdin")
    selector.register(wake_r, selectors.EVENT_READ, "child")
    try:
        while True:
            for key, _ in selector.select():
                if key.data == "stdin" and not os.read(0, 4096):
                    return
                if key.data == "child":
                    os.read(wake_r, 4096)
                    _reap(children)
                if key.data == "accept":
                    conn, _ = listener.accept()
                    try:
                        request, fds = _receive(conn)
                    except (OSError, EOFError, ValueError):
                        conn.close()
                        continue
                    pid = os.fork()
                    if pid == 0:
                        listener.close()
                        selector.close()
                        os.close(wake_r)
                        os.close(wake_w)
                        _run_child(conn, request, fds)
                    for fd in fds:
                        os.close(fd)
                    children[pid] = conn
            _reap(children)
    finally:
        for pid in children:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            os.unlink(path)


def _reap(children: dict[int, socket.socket]) -> None:
    while children:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        conn = children.pop(pid, None)
        if conn is None:
            continue
        if os.WIFSIGNALED(status):
            report = f"signal {os.WTERMSIG(status)}"
        else:
            report = f"exit {os.waitstatus_to_exitcode(status)}"
        with contextlib.suppress(OSError):
            conn.sendall(report.encode())
        conn.close()


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "launch":
        sys.exit(launch(sys.argv[2], sys.argv[3:]))
    if len(sys.argv) >= 3 and sys.argv[1] == "serve":
        serve(sys.argv[2], sys.argv[3:])
        sys.exit(0)
    sys.exit("usage: forkserver.py launch SOCKET SCRIPT [ARG...] | serve SOCKET [MODULE...]")
