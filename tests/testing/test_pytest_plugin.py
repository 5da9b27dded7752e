"""The pytest plugin (mcp_async.testing.pytest_plugin), loaded through its pytest11 entry point.

Each test writes a small test project with ``pytester`` and runs pytest on it in a
subprocess, as a user's project would run (the plugin comes from the installed
package's entry point, not from this suite).
"""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

AUTO_INI = """
[pytest]
asyncio_mode = auto
asyncio_default_fixture_loop_scope = function
filterwarnings = error
"""

STRICT_INI = """
[pytest]
asyncio_mode = strict
asyncio_default_fixture_loop_scope = function
filterwarnings = error
"""


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args, timeout=120)


def test_server_and_client_fixtures_in_auto_mode(pytester: pytest.Pytester) -> None:
    pytester.makeini(AUTO_INI)
    pytester.makepyfile(
        test_user="""
        import pytest
        from mcp_async import AsyncMCPClient, HTTPStatusError, RetryPolicy
        from mcp_async.testing import Fault, MCPTestServer

        async def test_x(mcp_server, mcp_client):
            assert isinstance(mcp_server, MCPTestServer)
            assert isinstance(mcp_client, AsyncMCPClient)
            assert mcp_server.url.startswith("http://127.0.0.1:")
            result = await mcp_client.call_tool("add", {"a": 1, "b": 2})
            assert result.structured_content == {"result": 3}
            assert mcp_server.stats.by_method["tools/call"] == 1

        async def test_own_tools_and_faults(mcp_server, mcp_client):
            @mcp_server.tool
            def shout(text: str) -> str:
                return text.upper()

            assert (await mcp_client.call_tool("shout", {"text": "hi"})).text == "HI"
            mcp_server.faults.add(Fault.error(503, times=1))
            with pytest.raises(HTTPStatusError):
                await mcp_client.call_tool("echo", {"text": "x"})

        @pytest.mark.mcp_server(reply="sse", page_size=2)
        @pytest.mark.mcp_client(retry=RetryPolicy(attempts=3, backoff=0.01))
        async def test_markers(mcp_server, mcp_client):
            assert mcp_server.reply == "sse" and mcp_server.page_size == 2
            mcp_server.faults.add(Fault.error(503, times=2))
            assert (await mcp_client.call_tool("echo", {"text": "ok"})).text == "ok"
            assert len(await mcp_client.list_tools()) == 5

        @pytest.mark.mcp_server(transport="sse")
        async def test_legacy_sse(mcp_server, mcp_client):
            await mcp_client.list_tools()
            assert mcp_client.transport_kind == "sse"

        @pytest.mark.mcp_server(demo=False, name="empty")
        async def test_empty_server(mcp_server, mcp_client):
            assert (await mcp_client.initialize()).server_info.name == "empty"
            assert await mcp_client.list_tools() == []

        @pytest.mark.mcp_stdio("--two-way")
        async def test_stdio(mcp_stdio_command, mcp_stdio_client):
            assert mcp_stdio_command[-1] == "--two-way"
            assert mcp_stdio_client.transport_kind == "stdio"
            names = {tool.name for tool in await mcp_stdio_client.list_tools()}
            assert "confirm" in names

        async def test_every_transport(mcp_any_client):
            assert (await mcp_any_client.call_tool("echo", {"text": "x"})).text == "x"
            assert mcp_any_client.transport_kind in ("streamable-http", "sse", "stdio")
        """
    )
    result = _run(pytester, "-v")
    result.assert_outcomes(passed=9)
    result.stdout.fnmatch_lines([
        "*test_every_transport?streamable-http? PASSED*",
        "*test_every_transport?sse? PASSED*",
        "*test_every_transport?stdio? PASSED*",
    ])


def test_strict_mode_with_asyncio_marks(pytester: pytest.Pytester) -> None:
    pytester.makeini(STRICT_INI)
    pytester.makepyfile(
        test_user="""
        import pytest

        @pytest.mark.asyncio
        async def test_x(mcp_server, mcp_client):
            assert (await mcp_client.call_tool("echo", {"text": "s"})).text == "s"
        """
    )
    _run(pytester).assert_outcomes(passed=1)


def test_sync_client_for_synchronous_tests(pytester: pytest.Pytester) -> None:
    pytester.makeini(STRICT_INI)
    pytester.makepyfile(
        test_user="""
        import pytest
        from mcp_async import HTTPStatusError
        from mcp_async.client.blocking import MCPClient
        from mcp_async.testing import Fault

        def test_sync(mcp_threaded_server, mcp_sync_client):
            assert isinstance(mcp_sync_client, MCPClient)
            assert mcp_sync_client.call_tool("echo", {"text": "s"}).text == "s"
            mcp_threaded_server.faults.add(Fault.error(500, times=1))
            with pytest.raises(HTTPStatusError):
                mcp_sync_client.ping()
            assert mcp_threaded_server.stats.by_method["tools/call"] == 1

        @pytest.mark.mcp_server(transport="sse")
        def test_sync_legacy_sse(mcp_sync_client):
            assert mcp_sync_client.list_tools()
            assert mcp_sync_client.transport_kind == "sse"
        """
    )
    _run(pytester).assert_outcomes(passed=2)


def test_plugin_is_registered_with_markers(pytester: pytest.Pytester) -> None:
    pytester.makeini(AUTO_INI)
    result = _run(pytester, "--markers")
    result.stdout.fnmatch_lines([
        "@pytest.mark.mcp_server(**options)*",
        "@pytest.mark.mcp_client(**options)*",
        "@pytest.mark.mcp_stdio(*flags)*",
    ])
    fixtures = _run(pytester, "--fixtures")
    fixtures.stdout.fnmatch_lines(["*fixtures defined from mcp_async.testing.pytest_plugin*"])


def test_asgi_client_fixture_for_your_own_server(pytester: pytest.Pytester) -> None:
    pytester.makeini(AUTO_INI)
    pytester.makepyfile(
        test_user="""
        import pytest
        from mcp.server.mcpserver import MCPServer
        from mcp_async import AsyncMCPClient, RetryPolicy

        EVENTS = []

        def build_app():
            mcp = MCPServer("mine")

            @mcp.tool()
            def double(n: int) -> int:
                EVENTS.append("called")
                return 2 * n

            return mcp.streamable_http_app()

        async def test_my_server(mcp_asgi_client):
            client = await mcp_asgi_client(build_app())
            assert isinstance(client, AsyncMCPClient)
            assert (await client.call_tool("double", {"n": 21})).structured_content == {
                "result": 42
            }
            assert client.transport_kind == "streamable-http"

        @pytest.mark.mcp_client(protocol="2025-11-25")
        async def test_marker_defaults_and_two_apps(mcp_asgi_client):
            first = await mcp_asgi_client(build_app())
            second = await mcp_asgi_client(build_app(), protocol="2026-07-28")
            await first.initialize()
            await second.initialize()
            assert first.protocol_version == "2025-11-25"
            assert second.protocol_version == "2026-07-28"

        async def test_an_app_that_is_already_running(mcp_asgi_client):
            app = build_app()
            async with app.router.lifespan_context(app):
                client = await mcp_asgi_client(app, lifespan=False)
                await client.call_tool("double", {"n": 1})
                await client.aclose()

        def test_the_tool_ran():
            assert EVENTS == ["called", "called"]
        """
    )
    _run(pytester).assert_outcomes(passed=4)
