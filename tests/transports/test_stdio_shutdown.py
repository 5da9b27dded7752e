"""stdio shutdown as docs/transports.md describes it: close stdin first, so that a server
that exits at EOF ends on its own, with no signal; SIGTERM only after the grace period.

The server here writes down how it ended (``eof`` or ``sigterm``) in a file, so the test
waits for what the server reports rather than guessing from timings alone.
"""

from __future__ import annotations

import sys
import textwrap
import time
from pathlib import Path

from mcp_async import AsyncMCPClient

SERVER = textwrap.dedent(
    """
    import json, signal, sys

    record = sys.argv[1]

    def write(what):
        with open(record, "a") as f:
            f.write(what + "\\n")

    def on_term(signum, frame):
        write("sigterm")
        sys.exit(0)

    signal.signal(signal.SIGTERM, on_term)
    write("started")
    for line in sys.stdin:
        message = json.loads(line)
        if "id" not in message:
            continue
        if message["method"] == "initialize":
            result = {"protocolVersion": "2025-11-25", "capabilities": {"tools": {}},
                      "serverInfo": {"name": "shutdown", "version": "1"}}
            reply = {"jsonrpc": "2.0", "id": message["id"], "result": result}
        elif message["method"] == "tools/call":
            text = message["params"]["arguments"]["text"]
            reply = {"jsonrpc": "2.0", "id": message["id"],
                     "result": {"content": [{"type": "text", "text": text}]}}
        else:
            reply = {"jsonrpc": "2.0", "id": message["id"],
                     "error": {"code": -32601, "message": "method not found"}}
        sys.stdout.write(json.dumps(reply) + "\\n")
        sys.stdout.flush()
    write("eof")
    """
)


async def test_close_ends_the_server_through_stdin_eof_without_a_signal(tmp_path: Path) -> None:
    script = tmp_path / "server.py"
    script.write_text(SERVER)
    record = tmp_path / "record.txt"
    async with AsyncMCPClient.stdio(sys.executable, [str(script), str(record)]) as client:
        assert (await client.call_tool("echo", {"text": "hi"})).text == "hi"
        began = time.monotonic()
    took = time.monotonic() - began
    assert record.read_text().split() == ["started", "eof"]  # no SIGTERM was needed
    assert took < 1.5  # well within the 2 s grace before SIGTERM
