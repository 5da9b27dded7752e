"""The official ``mcp`` SDK server (``MCPServer``) on uvicorn, with ``echo`` and ``add`` tools.

Stateful (``Mcp-Session-Id``); ``--json-response`` makes it answer POSTs with
``application/json`` instead of a ``text/event-stream``. The endpoint is ``/mcp``.

    python -m benchmarks.sdk_server [--json-response] [--port 0]   # prints "READY <port>"
"""

from __future__ import annotations

import argparse
import asyncio

from .serving import HOST, announce, bind_socket, exit_when_stdin_closes


def build_app(json_response: bool):  # type: ignore[no-untyped-def]
    """The Starlette app of a two-tool ``MCPServer``."""
    from mcp.server.mcpserver import MCPServer

    server = MCPServer("benchmarks-sdk", version="1.0", log_level="WARNING")

    @server.tool(description="Echo the given text back.")
    def echo(text: str) -> str:
        return text

    @server.tool(description="Add two integers.")
    def add(a: int, b: int) -> int:
        return a + b

    return server.streamable_http_app(
        streamable_http_path="/mcp", json_response=json_response, host=HOST
    )


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description="official SDK server for the benchmarks")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--json-response", action="store_true")
    parser.add_argument("--exit-on-stdin-eof", action="store_true")
    args = parser.parse_args(argv)
    if args.exit_on_stdin_eof:
        exit_when_stdin_closes()

    import uvicorn

    sock = bind_socket(args.port)
    config = uvicorn.Config(
        build_app(args.json_response), log_level="warning", access_log=False, lifespan="on"
    )
    server = uvicorn.Server(config)

    async def run() -> None:
        announce(sock)
        await server.serve(sockets=[sock])

    asyncio.run(run())


if __name__ == "__main__":
    main()
