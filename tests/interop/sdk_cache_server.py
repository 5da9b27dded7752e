"""An official-SDK (mcp 2.3.0) server that sends caching hints, for test_cache_interop.py.

The shared interop server (sdk_server.py) sets no ``cache_hints``, so the SDK sends
``ttlMs: 0`` and ``cacheScope: "private"`` on every cacheable result: nothing may be
served from a cache. This one is the same SDK with ``MCPServer(cache_hints=...)``:
a minute of freshness for the lists and ``server/discover`` (public) and for
``resources/read`` (private). ``add_tool`` adds a tool and publishes a tools
list-changed event to ``subscriptions/listen`` streams; ``touch`` publishes a
resource-updated event.

    .venv/bin/python tests/interop/sdk_cache_server.py --port 8765
"""

import argparse
import os
import threading

import uvicorn
from mcp.server.caching import CacheHint
from mcp.server.mcpserver import Context, MCPServer
from starlette.requests import Request
from starlette.responses import PlainTextResponse

PUBLIC = CacheHint(ttl_ms=60_000, scope="public")


def build_server() -> MCPServer:
    mcp = MCPServer(
        "mcp-async-cache-server",
        version="1.0.0",
        cache_hints={
            "server/discover": PUBLIC,
            "tools/list": PUBLIC,
            "prompts/list": PUBLIC,
            "resources/list": PUBLIC,
            "resources/templates/list": PUBLIC,
            "resources/read": CacheHint(ttl_ms=60_000, scope="private"),
        },
    )
    reads = {"count": 0}

    @mcp.tool(description="Echo the text back.")
    def echo(text: str) -> str:
        return text

    @mcp.tool(description="Add a tool named `name` and announce the change.")
    async def add_tool(name: str, ctx: Context) -> str:
        def added() -> str:
            return name

        mcp.add_tool(added, name=name, description=f"Added at run time: {name}")
        await ctx.notify_tools_changed()
        return "added"

    @mcp.tool(description="Announce that `uri` changed.")
    async def touch(uri: str, ctx: Context) -> str:
        await ctx.notify_resource_updated(uri)
        return "touched"

    @mcp.resource("counter://reads", description="How many times it was read.")
    def counter() -> str:
        reads["count"] += 1
        return str(reads["count"])

    @mcp.custom_route("/healthz", methods=["GET"])
    async def healthz(request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    return mcp


def _exit_when_stdin_closes() -> None:
    def watch() -> None:
        try:
            while os.read(0, 4096):
                pass
        except OSError:
            pass
        os._exit(0)

    threading.Thread(target=watch, name="stdin-watchdog", daemon=True).start()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--json-response", action="store_true")
    parser.add_argument("--exit-on-stdin-eof", action="store_true")
    args = parser.parse_args()
    if args.exit_on_stdin_eof:
        _exit_when_stdin_closes()
    app = build_server().streamable_http_app(
        streamable_http_path="/mcp", json_response=args.json_response, host="127.0.0.1"
    )
    config = uvicorn.Config(
        app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False
    )
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
