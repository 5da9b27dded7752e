"""What ``python -m mcp_async.testing --stdio`` imports: none of the HTTP stack.

Most client tests spawn that server, so what it imports is paid once per test. A whole
session (handshake era, and the 2026-07-28 era over stdio) is served under ``-X importtime``
and the modules it loaded are checked: no aiohttp (nor yarl, multidict, which come with
it), no HTTP front end of the test server, no client.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import mcp_async.testing as testing

#: The checkout whose ``mcp_async`` these tests import; the child uses the same one.
ROOT = Path(os.path.abspath(testing.__file__)).parents[2]
#: Modules (and their submodules) the stdio server must not import.
HTTP_ONLY = (
    "aiohttp", "yarl", "multidict", "mcp_async.client", "mcp_async.transports.http.asgi",
    "mcp_async.testing.streamable_http", "mcp_async.testing.legacy_sse",
    "mcp_async.testing.http_replies", "mcp_async.testing.sse",
)
V = "2026-07-28"
ENVELOPE = {
    "io.modelcontextprotocol/protocolVersion": V,
    "io.modelcontextprotocol/clientCapabilities": {},
    "io.modelcontextprotocol/clientInfo": {"name": "raw", "version": "0"},
}


def request(request_id: int, method: str, params: dict[str, Any]) -> str:
    return json.dumps({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})


HANDSHAKE = [
    request(1, "initialize", {"protocolVersion": "2025-11-25", "capabilities": {},
                              "clientInfo": {"name": "raw", "version": "0"}}),
    json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    request(2, "tools/call", {"name": "echo", "arguments": {"text": "hi"}}),
]
STATELESS = [
    request(1, "server/discover", {"_meta": ENVELOPE}),
    request(2, "tools/call", {"name": "echo", "arguments": {"text": "hi"}, "_meta": ENVELOPE}),
]


def imported_by(flags: list[str], lines: list[str]) -> tuple[set[str], list[dict[str, Any]]]:
    """Serve ``lines`` with ``python -X importtime -m mcp_async.testing --stdio *flags``;
    return the modules it imported and the replies it wrote."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "mcp_async.testing", "--stdio", *flags],
        input="".join(line + "\n" for line in lines), capture_output=True, text=True,
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=30, check=True,
    )
    modules = {
        line.rpartition("|")[2].strip()
        for line in done.stderr.splitlines() if line.startswith("import time:")
    }
    return modules, [json.loads(line) for line in done.stdout.splitlines()]


@pytest.mark.parametrize(("flags", "lines"), [([], HANDSHAKE), (["--eras", V], STATELESS)],
                         ids=["handshake", "2026"])
def test_the_stdio_server_imports_no_http_stack(flags: list[str], lines: list[str]) -> None:
    modules, replies = imported_by(flags, lines)
    assert "mcp_async.testing.server" in modules  # the report is read right
    assert [reply["id"] for reply in replies] == [1, 2]
    assert replies[1]["result"]["content"] == [{"type": "text", "text": "hi"}]
    loaded = sorted(
        name for name in modules
        if any(name == banned or name.startswith(banned + ".") for banned in HTTP_ONLY)
    )
    assert loaded == []
