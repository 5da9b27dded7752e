"""Start a local MCP server as a child process and talk to it over stdio.

Run it with ``python examples/stdio_server.py``; it needs nothing but ``mcp_async``.
The server is ``python -m mcp_async.testing --stdio`` (the demo server, speaking
newline-delimited JSON-RPC on its stdin and stdout). Any stdio server works the same way,
e.g. ``AsyncMCPClient.stdio("npx", ["-y", "@modelcontextprotocol/server-everything"])``.

Leaving the ``async with`` block shuts the server down as the spec asks (close its stdin,
then SIGTERM, then SIGKILL) and reaps the process.
"""

from __future__ import annotations

import asyncio
import sys

from mcp_async import AsyncMCPClient, ServerExitedError


async def main() -> None:
    # The child gets a minimal environment (PATH, HOME, ...) plus what env= adds, unless
    # inherit_env=True. Its stderr goes to the "mcp_async.stdio" logger.
    async with AsyncMCPClient.stdio(
        sys.executable, ["-m", "mcp_async.testing", "--stdio"], env={"DEMO_SETTING": "1"},
    ) as client:
        await client.initialize()
        assert client.server_info is not None
        print(f"started {client.server_info.name} over {client.transport_kind}")

        tools = await client.list_tools()
        print("tools:", ", ".join(tool.name for tool in tools))

        result = await client.call_tool("weather", {"city": "Lisbon"})
        print("weather ->", result.structured_content)

        # Many calls at once share the one pipe; replies are matched by their ids.
        results = await asyncio.gather(
            *(client.call_tool("add", {"a": i, "b": i}) for i in range(50))
        )
        print("50 concurrent calls, last ->", results[-1].structured_content)

    # If the server dies, calls raise ServerExitedError carrying the tail of its stderr.
    crash = "import sys; print('cannot start: no config', file=sys.stderr); sys.exit(3)"
    try:
        async with AsyncMCPClient.stdio(sys.executable, ["-c", crash]) as broken:
            await broken.list_tools()
    except ServerExitedError as exc:
        print(f"a server that exits at once -> ServerExitedError, exit code {exc.exit_code}, "
              f"stderr {list(exc.stderr_tail)}")


if __name__ == "__main__":
    asyncio.run(main())
