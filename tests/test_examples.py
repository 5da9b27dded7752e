"""Every program in examples/ runs to completion (exit status 0) within 60 seconds."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").glob("*.py"))

#: Text an example must print, beyond exiting with status 0.
EXPECTED = {
    "caching.py": ["3 x list_tools -> 1 tools/list request",
                   "after tools/list_changed -> 2 requests",
                   "read twice -> demo://clock True, 1 resources/read request",
                   "cache='refresh' -> 2 resources/read requests",
                   "cache='bypass' -> 3 tools/list requests", "hits: 3, misses: 3"],
    "connect_and_call.py": ["connected to mcp-async-demo over streamable-http",
                            "add(2, 3) -> {'result': 5}", "echo -> hello",
                            "fail -> is_error: True", "fail raised ToolError"],
    "fan_out_progress.py": ["199 succeeded, 1 failed", "call #199 failed: ToolError",
                            "first result: slept 0.02 s", "at most 16 calls at once"],
    "group_catalogue.py": ["alpha__echo(text=...) -> hello from alpha",
                           "web__echo(text=...) -> hello from web"],
    "jwt_retry_ratelimit.py": ["JWT claims the server received: iss=example-agent tenant=acme",
                               "add after two 503s -> {'result': 3} in 3 tries",
                               "echo after a 429 -> 'after the 429'",
                               "25 calls through the rate limiter took",
                               "with retry=False the 503 surfaces: HTTPStatusError 503"],
    "listen.py": ["tools changed: 5 tools now", "updated: demo://readme TextResourceContents"],
    "oauth_local.py": ["[browser] redirected back to the client: HTTP 200",
                       "echo -> signed in", "registered clients: 1 | tokens issued: 1",
                       "add with the stored token -> {'result': 42}",
                       "tokens issued in all: 1"],
    "prometheus_metrics.py": [
        'mcp_client_requests_total{client="example",method="tools/call",outcome="ok",'
        'tool="add"} 5.0',
        'outcome="tool_error",tool="fail"} 1.0',
        'mcp_client_retries_total{client="example",method="tools/call",tool="echo"} 1.0',
    ],
    "sampling_elicitation.py": ["sample tool returned: HELLO THERE",
                                "confirm tool returned: {'action': 'accept', "
                                "'answer': {'confirm': True}}"],
    "send_request_tutorial.py": ["search lamp -> ['lamp-1', 'lamp-2'] (tenant acme, app tutorial, "
                                 "request id set: True)",
                                 "15 searches: 15 ok, 0 failed",
                                 "1 retried"],
    "stdio_server.py": ["started mcp-async-demo over stdio", "weather -> {'city': 'Lisbon'",
                        "50 concurrent calls, last -> {'result': 98}",
                        "ServerExitedError, exit code 3, stderr ['cannot start: no config']"],
    "tasks.py": ["progress 3.0/3.0: stage 3 of 3", "call_tool -> report on tides after 3 stages",
                 "status: input_required", "server asks: Which python do you mean?",
                 "wait -> python (snake)", "marathon timed out and was cancelled",
                 "cancelled: cancelled"],
    "testing_your_code.py": ["3 passed"],
}


def test_there_are_examples() -> None:
    # Every expectation names an example that exists.
    assert set(EXPECTED) <= {path.name for path in EXAMPLES}


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.name)
def test_example_runs(path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(path)], capture_output=True, text=True, timeout=60,
        cwd=path.parent.parent,
    )
    assert done.returncode == 0, f"{path.name} failed:\n{done.stdout}\n{done.stderr}"
    for text in EXPECTED.get(path.name, []):
        assert text in done.stdout
