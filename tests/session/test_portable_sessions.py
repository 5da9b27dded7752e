"""Portable sessions: client.export_session() and AsyncMCPClient.resume(), end to end
against the project's test server in both eras (issue 29)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from mcp_async import AsyncMCPClient, ClientStateError, SessionState, SessionStateError
from mcp_async.testing import MCPTestServer, demo_server

REPO = Path(__file__).resolve().parents[2]
STATELESS = ("2026-07-28",)

# Resumes the state read from stdin, calls echo once, prints the result and the session id.
RESUME_SCRIPT = """
import asyncio, json, sys
from mcp_async import AsyncMCPClient

async def main():
    url, state = sys.argv[1], sys.stdin.read()
    async with AsyncMCPClient.resume(url, state, timeout=20) as client:
        result = await client.call_tool("echo", {"text": "from another process"})
        print(json.dumps({"text": result.content[0].text, "session": client.session_id,
                          "server": client.server_info.name,
                          "version": client.protocol_version}))

asyncio.run(main())
"""


def _count(server: MCPTestServer, method: str) -> int:
    return server.stats.by_method.get(method, 0)


async def _resume_elsewhere(url: str, state: str) -> dict[str, Any]:
    """Resume ``state`` in a new Python process; its printed JSON."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", RESUME_SCRIPT, url, stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(state.encode()), 45)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, err.decode()
    return json.loads(out.decode().strip().splitlines()[-1])


# -- the handshake era -------------------------------------------------------------------


async def test_handshake_era_resumes_without_initialize() -> None:
    async with demo_server() as server:
        async with AsyncMCPClient(server.url) as client:
            await client.call_tool("echo", {"text": "one"})
            state = client.export_session()
            session = client.session_id
        assert state.session_id == session is not None
        assert state.era == "handshake"
        assert server.stats.deletes == 0  # exported: closing left the session open
        assert session in server.session_ids
        before = _count(server, "initialize")
        async with AsyncMCPClient.resume(server.url, state.to_json()) as resumed:
            assert resumed.server_info.name == "mcp-async-demo"  # no network needed
            assert resumed.protocol_version == state.protocol_version
            result = await resumed.call_tool("echo", {"text": "two"})
            assert result.content[0].text == "two"  # type: ignore[union-attr]
            assert resumed.session_id == session
            assert server.stats.last_headers["Mcp-Session-Id"] == session
        assert _count(server, "initialize") == before == 1
        assert _count(server, "notifications/initialized") == 1
        assert server.stats.deletes == 0


@pytest.mark.timeout(120)  # a new Python process
async def test_resume_in_another_process_without_handshake() -> None:
    async with demo_server() as server:
        async with AsyncMCPClient(server.url) as client:
            await client.initialize()
            state = client.export_session().to_json()
            session = client.session_id
        seen = await _resume_elsewhere(server.url, state)
        assert seen == {"text": "from another process", "session": session,
                        "server": "mcp-async-demo", "version": "2025-11-25"}
        assert _count(server, "initialize") == 1
        assert _count(server, "tools/call") == 1


async def test_forgotten_session_falls_back_to_initialize() -> None:
    async with demo_server() as server:
        async with AsyncMCPClient(server.url) as client:
            await client.initialize()
            state = client.export_session()
        server.expire_sessions()  # as a restarted server would: the id is unknown (404)
        async with AsyncMCPClient.resume(server.url, state) as resumed:
            result = await resumed.call_tool("echo", {"text": "after 404"})
            assert result.content[0].text == "after 404"  # type: ignore[union-attr]
            assert resumed.session_id not in (None, state.session_id)
        assert _count(server, "initialize") == 2
        # The new session was this client's own: closing ended it.
        assert server.stats.deletes == 1


async def test_keep_open_false_ends_the_session_at_close() -> None:
    async with demo_server() as server:
        async with AsyncMCPClient(server.url) as client:
            await client.initialize()
            state = client.export_session(keep_open=False)
        assert server.stats.deletes == 1
        assert state.session_id not in server.session_ids
        async with AsyncMCPClient.resume(server.url, state, keep_open=False) as resumed:
            await resumed.call_tool("echo", {"text": "x"})  # 404, then a new session
        assert _count(server, "initialize") == 2
        assert server.stats.deletes == 2


async def test_resumed_session_opens_its_get_stream_and_gets_logs() -> None:
    async with demo_server(two_way=True, get_stream=True, reply="sse") as server:
        async with AsyncMCPClient(server.url) as client:
            await client.initialize()
            state = client.export_session()
        assert server.stats.get_streams == 0  # nothing needed server push
        got: list[str] = []
        async with AsyncMCPClient.resume(server.url, state,
                                         logging_handler=lambda n: got.append(n.data)) as resumed:
            await resumed.initialize()
            assert resumed.listening  # the GET stream of the resumed session
            assert server.stats.get_streams == 1
            await resumed.set_logging_level("debug")
            await resumed.call_tool("log_message", {"level": "info", "text": "pushed"})
        assert got == ["pushed"]
        assert _count(server, "initialize") == 1


# -- the 2026-07-28 era ---------------------------------------------------------------------


async def test_stateless_era_resume_skips_the_discover_probe() -> None:
    async with demo_server(eras=STATELESS) as server:
        async with AsyncMCPClient(server.url) as client:
            await client.call_tool("echo", {"text": "one"})
            state = client.export_session()
        assert state.era == "stateless" and state.session_id is None
        assert _count(server, "server/discover") == 1
        async with AsyncMCPClient.resume(server.url, state.to_dict()) as resumed:
            info = await resumed.initialize()  # from the state: nothing sent
            assert info.server_info.name == "mcp-async-demo"
            assert _count(server, "server/discover") == 1
            result = await resumed.call_tool("echo", {"text": "two"})
            assert result.content[0].text == "two"  # type: ignore[union-attr]
            assert resumed.protocol_version == "2026-07-28"
        assert _count(server, "server/discover") == 1
        assert _count(server, "initialize") == 0


@pytest.mark.timeout(120)  # a new Python process
async def test_stateless_era_resume_in_another_process() -> None:
    async with demo_server(eras=STATELESS) as server:
        async with AsyncMCPClient(server.url) as client:
            await client.initialize()
            state = client.export_session().to_json()
        seen = await _resume_elsewhere(server.url, state)
        assert seen["text"] == "from another process" and seen["session"] is None
        assert seen["version"] == "2026-07-28"
        assert _count(server, "server/discover") == 1
        assert _count(server, "initialize") == 0


async def test_pinned_stateless_without_discover_exports_an_empty_description() -> None:
    async with demo_server(eras=STATELESS) as server:
        async with AsyncMCPClient(server.url, protocol="2026-07-28") as client:
            await client.call_tool("echo", {"text": "one"})
            state = client.export_session()
        assert state.server == {}
        async with AsyncMCPClient.resume(server.url, state) as resumed:
            await resumed.call_tool("echo", {"text": "two"})
        assert _count(server, "server/discover") == 0


# -- what a state holds, and what it refuses -------------------------------------------------


async def test_no_secret_in_the_exported_state() -> None:
    async with demo_server() as server:
        url = server.url + "?api_key=query-secret"
        async with AsyncMCPClient(url, auth="token-secret",
                                  headers={"X-Api-Key": "header-secret"}) as client:
            await client.initialize()
            text = client.export_session().to_json()
        for secret in ("query-secret", "token-secret", "header-secret", "api_key"):
            assert secret not in text
        async with AsyncMCPClient.resume(url, text, auth="token-secret") as resumed:
            await resumed.call_tool("echo", {"text": "x"})
            assert server.stats.last_headers["Authorization"] == "Bearer token-secret"


async def test_export_needs_a_session_and_streamable_http() -> None:
    async with demo_server() as server, AsyncMCPClient(server.url) as client:
        with pytest.raises(ClientStateError, match="no session to export yet"):
            client.export_session()
    async with MCPTestServer(transport="sse") as sse, \
            AsyncMCPClient(sse.url, transport="sse") as client:
        await client.initialize()
        with pytest.raises(ClientStateError, match="only Streamable HTTP"):
            client.export_session()
    with pytest.raises(ClientStateError):
        AsyncMCPClient("http://127.0.0.1:1/mcp").export_session()


def _good() -> dict[str, Any]:
    return SessionState(
        endpoint="http://127.0.0.1:9/mcp", protocol_version="2025-11-25",
        session_id="abc123",
        server={"protocolVersion": "2025-11-25", "capabilities": {},
                "serverInfo": {"name": "s", "version": "1"}},
    ).to_dict()


def _with(**changes: Any) -> dict[str, Any]:
    data = _good()
    for key, value in changes.items():
        if value is _DROP:
            del data[key]
        else:
            data[key] = value
    return data


_DROP = object()


@pytest.mark.parametrize(("data", "message"), [
    ("not json", "not valid JSON"),
    ("[1, 2]", "must be a JSON object"),
    ('{"a": ' * 100_000, "not valid JSON"),
    (json.dumps(_with(format="something/else")), "not an mcp_async session state"),
    (json.dumps(_with(version=2)), "format version 2 is not supported"),
    (json.dumps(_with(version=_DROP)), "format version None"),
    (json.dumps(_with(version=True)), "format version True"),
    (json.dumps(_with(token="x")), "unknown fields: token"),
    (json.dumps(_with(session_id=_DROP)), "lacks fields: session_id"),
    (json.dumps(_with(session_id="bad id\u00e9")), "visible ASCII"),
    (json.dumps(_with(session_id=7)), "visible ASCII"),
    (json.dumps(_with(protocol_version="1999-01-01")), "not one this client speaks"),
    (json.dumps(_with(era="stateless")), "belongs to the 'handshake' era"),
    (json.dumps(_with(transport="sse")), "only 'streamable-http'"),
    (json.dumps(_with(endpoint="http://127.0.0.1:9/mcp?k=v")), "no userinfo, query"),
    (json.dumps(_with(endpoint="ftp://x/y")), "http(s) URL"),
    (json.dumps(_with(server={"capabilities": {}})), "not the server's own description"),
    (json.dumps(_with(server={})), "needs the initialize result"),
    (json.dumps(_with(server=[])), "'server' must be an object"),
    (json.dumps(_with(exported_at="yesterday")), "'exported_at' must be a number"),
    (json.dumps(_with(exported_at=True)), "'exported_at' must be a number"),
    (json.dumps(_with(protocol_version="2026-07-28", era="stateless")),
     "has no sessions"),
    ('{"format": "mcp_async/session-state", "version": 1, "endpoint": "http://h/mcp", '
     '"transport": "streamable-http", "protocol_version": "2026-07-28", "era": "stateless",'
     ' "session_id": null, "server": {"supportedVersions": ["2026-07-28"], '
     '"capabilities": {}, "ttlMs": Infinity}, "exported_at": 0}', "not plain JSON"),
])
def test_bad_states_are_typed_errors(data: str, message: str) -> None:
    with pytest.raises(SessionStateError, match=message.replace("(", r"\(").replace(")", r"\)")):
        SessionState.from_json(data)
    with pytest.raises(SessionStateError):
        AsyncMCPClient.resume("http://127.0.0.1:9/mcp", data)


def test_state_round_trips_and_refuses_another_endpoint() -> None:
    state = SessionState.from_dict(_good())
    assert SessionState.from_json(state.to_json()) == state
    assert SessionState.from_json(state.to_json().encode()) == state
    with pytest.raises(SessionStateError, match=r"is for http://127\.0\.0\.1:9/mcp, not for"):
        AsyncMCPClient.resume("http://127.0.0.1:9/other", state)
    with pytest.raises(SessionStateError, match="must be str or bytes"):
        SessionState.from_json(42)  # type: ignore[arg-type]
    # userinfo and query do not count: they are where credentials travel
    AsyncMCPClient.resume("http://user:pw@127.0.0.1:9/mcp?key=1", state)


@pytest.mark.parametrize(("options", "message"), [
    ({"transport": "sse"}, "transport='sse' cannot continue it"),
    ({"protocol": "2025-06-18"}, "protocol='2025-06-18' contradicts it"),
    ({"protocol": "2026-07-28"}, "contradicts it"),
])
def test_options_that_contradict_the_state(options: dict[str, Any], message: str) -> None:
    with pytest.raises(SessionStateError, match=message):
        AsyncMCPClient.resume("http://127.0.0.1:9/mcp", _good(), **options)


def test_matching_options_are_accepted() -> None:
    for options in ({"transport": "streamable-http"}, {"protocol": "legacy"},
                    {"protocol": "2025-11-25"}, {"transport": "auto"}):
        client = AsyncMCPClient.resume("http://127.0.0.1:9/mcp", _good(), **options)
        assert client.transport_kind == "streamable-http"
    with pytest.raises(SessionStateError, match="needs the server's URL"):
        AsyncMCPClient.resume(object(), _good())  # type: ignore[arg-type]
