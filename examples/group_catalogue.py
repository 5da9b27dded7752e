"""Many MCP servers as one: load an ``mcpServers`` config, print the catalogue, call each.

Run it with ``python examples/group_catalogue.py``; it needs nothing but ``mcp_async``.
It starts three demo servers: two local processes spoken to over stdio
(``python -m mcp_async.testing --stdio``) and one Streamable HTTP server inside this
process (``mcp_async.testing.demo_server()`` on 127.0.0.1). See docs/groups.md.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from pathlib import Path

from mcp_async import MCPClientGroup
from mcp_async.testing import demo_server


async def main() -> None:
    # The HTTP server listens on a free port of 127.0.0.1 until the block ends.
    async with demo_server() as http_server:
        # The format Claude Desktop and Cursor use. "${GREETING:-hello}" is expanded
        # from the environment when the file is loaded ("hello" when it is not set).
        stdio = {"command": sys.executable, "args": ["-m", "mcp_async.testing", "--stdio"],
                 "env": {"GREETING": "${GREETING:-hello}"}}
        config = {"mcpServers": {
            "alpha": stdio,
            "beta": stdio,
            "web": {"url": http_server.url, "type": "http"},
        }}
        with tempfile.TemporaryDirectory(prefix="mcp-group-") as directory:
            path = Path(directory) / "mcp.json"
            path.write_text(json.dumps(config, indent=2))
            await show(path)


async def show(path: Path) -> None:
    """Open every server of the config file, print the catalogue, call each server once."""
    # require_all: stop if any server fails to start (by default it would be reported
    # in group.failures and the others would still be usable).
    async with MCPClientGroup.from_config(path, require_all=True) as group:
        print(f"connected to {', '.join(group.names)} (all at once)\n")

        # One catalogue: every tool under a name unique across the group.
        tools = await group.list_tools()
        print(f"{len(tools)} tools:")
        for tool in tools:
            print(f"  {tool.name:16} from {tool.server:6} {tool.tool.description or ''}")

        # One call per server, routed by the namespaced name.
        print()
        for server in group.names:
            name = next(t.name for t in tools if t.server == server and t.tool.name == "echo")
            result = await group.call_tool(name, {"text": f"hello from {server}"})
            print(f"{name}(text=...) -> {result.text}")

        # The same catalogue as tool definitions for a model API (no SDK needed).
        schemas = await group.tool_schemas(format="openai")
        first = schemas[0]["function"]["name"]
        print(f"\n{len(schemas)} OpenAI tool definitions, the first is {first!r}")


if __name__ == "__main__":
    asyncio.run(main())
