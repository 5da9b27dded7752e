"""Version, header and content-type rules (pure)."""

from __future__ import annotations

import pytest

from mcp_async import VersionMismatchError
from mcp_async.protocol import mcp
from mcp_async.protocol.headers import parse_retry_after


@pytest.mark.parametrize("version", ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"])
def test_supported_versions_are_accepted(version: str) -> None:
    assert mcp.accept_server_version(version) == version


@pytest.mark.parametrize("version", ["2026-07-28", "2099-01-01", "2024-10-07", None, 20251125])
def test_unsupported_versions_are_refused(version: object) -> None:
    with pytest.raises(VersionMismatchError) as info:
        mcp.accept_server_version(version)
    assert "2025-11-25" in str(info.value)


def test_version_header_rule() -> None:
    assert mcp.sends_version_header("2025-11-25")
    assert mcp.sends_version_header("2025-06-18")
    assert not mcp.sends_version_header("2025-03-26")


def test_request_headers() -> None:
    assert mcp.request_headers(None, None) == {"Accept": mcp.ACCEPT}
    headers = mcp.request_headers("abc", "2025-06-18")
    assert headers["Mcp-Session-Id"] == "abc"
    assert headers["MCP-Protocol-Version"] == "2025-06-18"


@pytest.mark.parametrize(
    ("header", "media"),
    [
        ("application/json; charset=utf-8", "application/json"),
        ("Text/Event-Stream", "text/event-stream"),
        (None, ""),
        ("", ""),
    ],
)
def test_media_type(header: str | None, media: str) -> None:
    assert mcp.media_type(header) == media


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("5", 5.0),
        (" 12 ", 12.0),
        ("1.5", 1.5),
        ("-3", 0.0),
        ("soon", None),
        ("", None),
        (None, None),
        ("Thu, 01 Jan 1970 00:01:40 GMT", 60.0),
    ],
)
def test_parse_retry_after(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value, now=40.0) == seconds
