"""benchmarks/scale.py runs: a few sessions of each mcp_async configuration against the
test server, in this process (the real runs use a worker process per measurement)."""

from __future__ import annotations

import pytest

from benchmarks.scale import measure
from mcp_async.testing import MCPTestServer


@pytest.mark.parametrize("config", ["own", "shared", "pool", "modern", "floor"])
async def test_scale_measures_each_configuration(config: str) -> None:
    eras = ("2025-11-25", "2026-07-28")
    async with MCPTestServer(eras=eras) as server:

        @server.tool
        def echo(text: str) -> str:
            return text

        report = await measure(config, server.url, 12, 4, steady=config != "floor", calls=24)
    assert report["config"] == config and report["sessions"] == 12
    assert report["open_and_call_s"] >= 0 and report["close_s"] >= 0
    if config != "floor":
        assert report["cpu_per_call_one_session_us"] > 0
    if config in ("shared", "pool", "modern", "floor"):
        assert report["sockets"] <= 100  # one connection pool, whatever the sessions
