"""A logging handler receives the same log messages in both protocol eras.

In MCP 2026-07-28 a server sends ``notifications/message`` only to requests whose
``_meta`` asks for a ``logLevel``; in the handshake era it sends every level until the
client sets one. A client with a ``logging_handler`` and no ``log_level`` therefore asks
for ``DEFAULT_LOG_LEVEL`` ("debug") in the 2026 era. (The official SDK server: in
tests/interop/test_log_opt_in_sdk.py.)
"""

from __future__ import annotations

import pytest

from mcp_async import AsyncMCPClient
from mcp_async.client.async_client import DEFAULT_LOG_LEVEL
from mcp_async.protocol.models import LoggingMessage
from mcp_async.protocol.modern import LOG_LEVEL_META
from mcp_async.testing import demo_server

LEVELS = ("debug", "info", "warning", "error")


async def _logged(eras: tuple[str, ...] | None, **options: object) -> tuple[str, list[str]]:
    logs: list[LoggingMessage] = []
    kw = {} if eras is None else {"eras": eras}
    async with demo_server(two_way=True, reply="sse", **kw) as server, AsyncMCPClient(
        server.url, logging_handler=logs.append, **options  # type: ignore[arg-type]
    ) as client:
        for level in LEVELS:
            assert (await client.call_tool("log_message", {"level": level, "text": level})
                    ).text == "logged"
        version = client.protocol_version
        sent = [params.get("_meta", {}).get(LOG_LEVEL_META) for method, params
                in server.stats.received if method == "tools/call"]
    assert version is not None
    if eras is not None:
        assert sent == [options.get("log_level", DEFAULT_LOG_LEVEL)] * len(LEVELS)
    return version, [str(message.data) for message in logs]


async def test_one_handler_gets_the_same_logs_in_both_eras() -> None:
    assert DEFAULT_LOG_LEVEL == "debug"
    legacy_version, legacy = await _logged(None)
    modern_version, modern = await _logged(("2026-07-28",))
    assert legacy_version != "2026-07-28" and modern_version == "2026-07-28"
    assert legacy == modern == list(LEVELS)


async def test_an_explicit_level_still_wins() -> None:
    _, modern = await _logged(("2026-07-28",), log_level="warning")
    assert modern == ["warning", "error"]


async def test_no_handler_no_opt_in() -> None:
    async with demo_server(two_way=True, eras=("2026-07-28",)) as server, AsyncMCPClient(
        server.url
    ) as client:
        await client.call_tool("log_message", {"level": "error", "text": "x"})
        (params,) = [p for m, p in server.stats.received if m == "tools/call"]
    assert LOG_LEVEL_META not in params["_meta"]


@pytest.mark.parametrize("level", [None, "info"])
def test_the_sync_client_opts_in_too(level: str | None) -> None:
    from mcp_async.client.blocking import MCPClient

    client = MCPClient("http://127.0.0.1:1/mcp", logging_handler=print, log_level=level)
    assert client._aclient._log_level == (level or DEFAULT_LOG_LEVEL)
