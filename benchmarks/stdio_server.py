"""A minimal, fast MCP stdio server: newline-delimited JSON-RPC on stdin/stdout.

Every stdio client in the benchmark spawns this same script as its child process
(``python benchmarks/stdio_server.py``), so the server side costs the same for all of
them. It is a plain blocking loop: ``os.read`` whatever stdin has (one or many
request lines), answer every complete line, and write all the replies with one
``os.write``. It answers ``initialize``, ``ping``, ``logging/setLevel``,
``tools/list`` and ``tools/call`` (``echo``, ``add``, and in MCP 2026-07-28 the
``mrtr`` tool) and ``server/discover`` exactly as the HTTP minimal server does
(``benchmarks.protocol_data.answer``), plus ``benchmark/stats``: how many
``server/discover`` and ``initialize`` requests it has seen. It ignores notifications
and answers to server requests, and exits when
stdin reaches EOF (the MCP stdio shutdown: the client closes our stdin) or stdout
is gone. Nothing goes to stderr unless a line is not JSON.

    python benchmarks/stdio_server.py
"""

from __future__ import annotations

import contextlib
import json
import os
import sys

if __name__ == "__main__" and not __package__:
    # Run as a script: import ``benchmarks`` from the repository, not from this folder.
    _here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _here]
    sys.path.insert(0, os.path.dirname(_here))

from benchmarks.protocol_data import answer

#: The path every stdio client is given (run with ``sys.executable``).
SCRIPT = os.path.abspath(__file__)
SERVER_NAME = "benchmarks-stdio"
_dumps = json.JSONEncoder(separators=(",", ":")).encode
#: Requests seen, by method, for the ones ``benchmark/stats`` reports.
_COUNTED = {"server/discover": 0, "initialize": 0}


def reply_to(line: bytes) -> bytes | None:
    """The reply line (newline included) to one request line, or ``None`` for none."""
    try:
        message = json.loads(line)
    except ValueError:
        print(f"stdio_server: not JSON: {line[:200]!r}", file=sys.stderr, flush=True)
        reply = {"jsonrpc": "2.0", "id": None,
                 "error": {"code": -32700, "message": "parse error"}}
        return _dumps(reply).encode() + b"\n"
    if not isinstance(message, dict) or "id" not in message or "method" not in message:
        return None  # a notification, or an answer to a server request
    method = message["method"]
    if method in _COUNTED:
        _COUNTED[method] += 1
    if method == "benchmark/stats":
        stats = {"discover": _COUNTED["server/discover"], "initialize": _COUNTED["initialize"]}
        reply = {"jsonrpc": "2.0", "id": message["id"],
                 "result": {"resultType": "complete", **stats}}
        return _dumps(reply).encode() + b"\n"
    reply = {"jsonrpc": "2.0", "id": message["id"], **answer(message, SERVER_NAME)}
    return _dumps(reply).encode() + b"\n"


def _write_all(data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(1, view):]


def serve(read_size: int = 1 << 16) -> None:
    """Answer requests until stdin reaches EOF."""
    pending = b""
    while True:
        chunk = os.read(0, read_size)
        if not chunk:
            return
        if b"\n" not in chunk:
            pending += chunk
            continue
        *lines, pending = (pending + chunk).split(b"\n")
        replies = [reply for line in lines if line.strip() and (reply := reply_to(line))]
        if replies:
            _write_all(b"".join(replies))


def main() -> None:
    """Command-line entry point."""
    with contextlib.suppress(BrokenPipeError, ConnectionResetError, KeyboardInterrupt):
        serve()
    # Nothing buffered is left to flush; skip interpreter teardown.
    os._exit(0)


if __name__ == "__main__":
    main()
