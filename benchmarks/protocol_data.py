"""What every benchmark server offers and every client sends: one place for the payloads.

The minimal server mirrors what the official SDK server (``benchmarks/sdk_server.py``)
answers for the same tools, so each client does the same parsing work against both.
"""

from __future__ import annotations

from typing import Any

#: The tool every client calls, with these arguments, in the measured part.
TOOL_NAME = "echo"
TOOL_ARGUMENTS: dict[str, Any] = {"text": "hello"}
EXPECTED_TEXT = "hello"

#: Protocol revisions the minimal server accepts (it echoes the client's choice).
KNOWN_VERSIONS = ("2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05")
DEFAULT_VERSION = KNOWN_VERSIONS[0]


def _schema(**properties: str) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {name: {"type": kind} for name, kind in properties.items()},
        "required": list(properties),
    }


TOOLS: list[dict[str, Any]] = [
    {
        "name": "echo",
        "description": "Echo the given text back.",
        "inputSchema": _schema(text="string"),
        "outputSchema": _schema(result="string"),
    },
    {
        "name": "add",
        "description": "Add two integers.",
        "inputSchema": _schema(a="integer", b="integer"),
        "outputSchema": _schema(result="integer"),
    },
]


def call_tool(params: dict[str, Any]) -> dict[str, Any] | None:
    """The ``tools/call`` result for ``params``, or ``None`` for an unknown tool."""
    name = params.get("name")
    arguments = params.get("arguments") or {}
    if name == "echo":
        value: Any = str(arguments.get("text", ""))
    elif name == "add":
        value = int(arguments.get("a", 0)) + int(arguments.get("b", 0))
    else:
        return None
    return {
        "content": [{"type": "text", "text": str(value)}],
        "structuredContent": {"result": value},
        "isError": False,
    }


def answer(message: dict[str, Any], server_name: str) -> dict[str, Any]:
    """The ``result`` or ``error`` member of the reply to JSON-RPC request ``message``.

    Shared by every minimal server (Streamable HTTP, stdio, legacy HTTP+SSE), so each
    transport's clients parse exactly the same replies.
    """
    method = message["method"]
    params = message.get("params") or {}
    if method == "tools/call":
        result = call_tool(params)
        if result is None:
            return {"error": {"code": -32602, "message": "unknown tool"}}
        return {"result": result}
    if method == "tools/list":
        return {"result": {"tools": TOOLS}}
    if method == "initialize":
        asked = params.get("protocolVersion")
        return {"result": {
            "protocolVersion": asked if asked in KNOWN_VERSIONS else DEFAULT_VERSION,
            "capabilities": {"tools": {"listChanged": False}},
            "serverInfo": {"name": server_name, "version": "1.0"},
        }}
    if method in ("ping", "logging/setLevel"):
        return {"result": {}}
    return {"error": {"code": -32601, "message": f"method not found: {method}"}}
