"""Start and stop the benchmark servers as child processes of the driver.

Each server binds a free port itself and prints ``READY <port>``; its stdin is a pipe
we hold, and it exits when that pipe closes, so an interrupted run leaves no orphans.
"""

from __future__ import annotations

import select
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
#: The stdio server every stdio client spawns itself (``sys.executable STDIO_SCRIPT``).
STDIO_SCRIPT = REPO_ROOT / "benchmarks" / "stdio_server.py"
START_TIMEOUT = 30.0


@dataclass
class ServerProcess:
    """A running server: its base URL (``http://127.0.0.1:<port>``) and process."""

    name: str
    base_url: str
    process: subprocess.Popen[str] = field(repr=False)

    @property
    def pid(self) -> int:
        """The server's process id."""
        return self.process.pid

    def stop(self) -> None:
        """Close its stdin (it exits), then terminate/kill it if it lingers."""
        proc = self.process
        if proc.poll() is None:
            if proc.stdin is not None:
                proc.stdin.close()
            try:
                proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                proc.terminate()
                try:
                    proc.wait(timeout=3)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def start(name: str, module: str, *args: str) -> ServerProcess:
    """Run ``python -m <module> <args>`` and wait for its ``READY <port>`` line."""
    proc = subprocess.Popen(
        [sys.executable, "-m", module, "--exit-on-stdin-eof", *args],
        cwd=REPO_ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        left = deadline - time.monotonic()
        ready, _, _ = select.select([proc.stdout], [], [], max(left, 0))
        line = proc.stdout.readline() if ready else ""
        if line.startswith("READY "):
            port = int(line.split()[1])
            return ServerProcess(name, f"http://127.0.0.1:{port}", proc)
        if not ready or proc.poll() is not None or left <= 0:
            ServerProcess(name, "", proc).stop()
            raise RuntimeError(f"{name} server did not start (exit code {proc.poll()})")


def start_minimal() -> ServerProcess:
    """The minimal asyncio server (serves ``/json/mcp`` and ``/sse/mcp``)."""
    return start("minimal", "benchmarks.minimal_server")


def start_sdk(json_response: bool) -> ServerProcess:
    """The official SDK server on uvicorn, answering with JSON or SSE."""
    args = ("--json-response",) if json_response else ()
    return start("sdk-json" if json_response else "sdk-sse", "benchmarks.sdk_server", *args)


def start_legacy_sse() -> ServerProcess:
    """The legacy HTTP+SSE (2024-11-05) minimal server (``GET /sse``, ``POST /messages``)."""
    return start("legacy-sse", "benchmarks.legacy_sse_server")
