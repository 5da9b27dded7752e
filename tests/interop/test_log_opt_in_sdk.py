"""A logging handler without a log level, against the official Python SDK server.

The ``mcp`` 2.3.0 server speaks both eras and honours the 2026-07-28 rule: log
messages go only to requests whose ``_meta`` asks for a ``logLevel``. A client with a
``logging_handler`` and no ``log_level`` asks for ``"debug"`` there, so the same handler
receives the same messages over ``protocol="legacy"`` and the default ``"auto"``.
"""

from __future__ import annotations

import pytest
from servers import StdioCommand

from mcp_async import AsyncMCPClient
from mcp_async.protocol.models import LoggingMessage

LEVELS = ["debug", "info", "warning", "error"]


@pytest.mark.parametrize("protocol", ["legacy", "auto"])
async def test_one_handler_the_same_logs_in_both_eras(
    sdk_stdio_command: StdioCommand, protocol: str
) -> None:
    logs: list[LoggingMessage] = []
    command = sdk_stdio_command
    async with AsyncMCPClient.stdio(
        command.command, command.args, env=command.env, cwd=command.cwd,
        logging_handler=logs.append, protocol=protocol, timeout=20,
    ) as client:
        result = await client.call_tool("log", {"levels": LEVELS})
        assert result.text == "logged 4"
        modern = client.protocol_version == "2026-07-28"
    assert modern is (protocol == "auto")
    assert [(m.level, m.data) for m in logs] == [(level, f"a {level} message")
                                                for level in LEVELS]
