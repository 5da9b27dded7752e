"""An official-SDK (mcp 2.3.0) server listing tools with invalid ``x-mcp-header``
annotations, for test_features_interop.py.

The SDK refuses such a tool when it is registered, so each tool is registered with a
valid schema and its listed ``inputSchema`` is then replaced by one from ``SCHEMAS``
(a server written against another SDK, or by hand, can list anything). In 2026-07-28 a
client must drop every tool whose annotations break the spec's rules; the test compares
which tools mcp_async keeps with which the official client keeps.

    .venv/bin/python tests/interop/sdk_header_server.py --port 8765
"""

import argparse
import os
import threading
from typing import Any

import uvicorn
from mcp.server.mcpserver import MCPServer
from starlette.requests import Request
from starlette.responses import PlainTextResponse


def _one(prop: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": {"value": prop}}


#: Tool name -> the input schema it lists.
SCHEMAS: dict[str, dict[str, Any]] = {
    "plain": _one({"type": "string"}),
    "valid_string": _one({"type": "string", "x-mcp-header": "Region"}),
    "valid_integer": _one({"type": "integer", "x-mcp-header": "Shard-Id"}),
    "valid_boolean": _one({"type": "boolean", "x-mcp-header": "Dry_Run"}),
    "valid_nested": {"type": "object", "properties": {"outer": {
        "type": "object", "properties": {"inner": {"type": "string", "x-mcp-header": "Inner"}},
    }}},
    "valid_token_chars": _one({"type": "string", "x-mcp-header": "a!#$%&'*+-.^_`|~9"}),
    "bad_space": _one({"type": "string", "x-mcp-header": "Re gion"}),
    "bad_colon": _one({"type": "string", "x-mcp-header": "Region:"}),
    "bad_empty": _one({"type": "string", "x-mcp-header": ""}),
    "bad_not_string": _one({"type": "string", "x-mcp-header": 42}),
    "bad_non_ascii": _one({"type": "string", "x-mcp-header": "Régión"}),
    "bad_number_type": _one({"type": "number", "x-mcp-header": "Ratio"}),
    "bad_object_type": _one({"type": "object", "x-mcp-header": "Blob"}),
    "bad_no_type": _one({"x-mcp-header": "Anything"}),
    "bad_type_list": _one({"type": ["string", "null"], "x-mcp-header": "Maybe"}),
    "bad_duplicate": {"type": "object", "properties": {
        "a": {"type": "string", "x-mcp-header": "Region"},
        "b": {"type": "string", "x-mcp-header": "region"},
    }},
    "bad_root": {"type": "object", "x-mcp-header": "Root", "properties": {}},
    "bad_in_items": _one({"type": "array", "items": {"type": "string", "x-mcp-header": "Item"}}),
    "bad_in_anyof": _one({"anyOf": [{"type": "string", "x-mcp-header": "Either"}]}),
    "bad_in_defs": {"type": "object", "properties": {"value": {"type": "string"}},
                    "$defs": {"x": {"type": "string", "x-mcp-header": "Defined"}}},
}


def build_server() -> MCPServer:
    mcp = MCPServer("mcp-async-header-server", version="1.0.0")
    for name, schema in SCHEMAS.items():
        def tool(value: str = "") -> str:
            return value

        mcp.add_tool(tool, name=name, description=f"Lists the schema {name!r}.")
        mcp._tool_manager.get_tool(name).parameters = schema  # type: ignore[union-attr]

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
    parser.add_argument("--exit-on-stdin-eof", action="store_true")
    args = parser.parse_args()
    if args.exit_on_stdin_eof:
        _exit_when_stdin_closes()
    app = build_server().streamable_http_app(
        streamable_http_path="/mcp", json_response=True, host="127.0.0.1"
    )
    config = uvicorn.Config(
        app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False
    )
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
