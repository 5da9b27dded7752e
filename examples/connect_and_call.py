"""Connect to an MCP server, look around, and call a few tools.

Run it with ``python examples/connect_and_call.py``; it needs nothing but ``mcp_async``.
The server is ``mcp_async.testing.demo_server()``, a real Streamable HTTP MCP server that
runs inside this process on a free port of 127.0.0.1. Point ``AsyncMCPClient`` at your own
server's URL instead and the rest of the program stays the same.
"""

from __future__ import annotations

import asyncio

from mcp_async import AsyncMCPClient, ToolError
from mcp_async.testing import demo_server


async def main() -> None:
    async with demo_server() as server, AsyncMCPClient(server.url) as client:
        # The handshake runs lazily on the first call; initialize() runs it now so the
        # server's name and version are known before anything else.
        await client.initialize()
        assert client.server_info is not None
        print(f"connected to {client.server_info.name} over {client.transport_kind}, "
              f"protocol {client.protocol_version}")

        # list_tools() follows every page of tools/list for you.
        for tool in await client.list_tools():
            print(f"  tool {tool.name}: {tool.description}")

        # A tool with an output schema answers with structured content...
        result = await client.call_tool("add", {"a": 2, "b": 3})
        print("add(2, 3) ->", result.structured_content)

        # ...and every result also has its content blocks; .text joins the text ones.
        result = await client.call_tool("echo", {"text": "hello"})
        print("echo ->", result.text)

        # A tool that fails returns a result with is_error set; it is an answer, not an
        # exception. raise_on_error=True turns it into a ToolError.
        result = await client.call_tool("fail", {})
        print("fail -> is_error:", result.is_error)
        try:
            await client.call_tool("fail", {}, raise_on_error=True)
        except ToolError as exc:
            print("fail raised ToolError:", exc)

        # Resources and prompts work the same way.
        readme = await client.read_resource("demo://readme")
        print("resource:", readme.contents[0].uri)
        prompt = await client.get_prompt("review_code", {"code": "print(1)"})
        print("prompt messages:", len(prompt.messages))


if __name__ == "__main__":
    asyncio.run(main())
