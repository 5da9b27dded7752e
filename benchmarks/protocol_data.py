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

#: The stateless revision (MCP 2026-07-28): no handshake, a ``_meta`` envelope on every
#: request, ``resultType`` on every result, ``server/discover`` instead of ``initialize``.
MODERN_VERSION = "2026-07-28"
VERSION_META = "io.modelcontextprotocol/protocolVersion"
CAPABILITIES_META = "io.modelcontextprotocol/clientCapabilities"
CLIENT_INFO_META = "io.modelcontextprotocol/clientInfo"
SERVER_INFO_META = "io.modelcontextprotocol/serverInfo"

#: The MRTR tool: its first answer asks for one elicitation (an ``InputRequiredResult``);
#: the retried call, carrying ``inputResponses`` and ``requestState``, completes with the
#: name the client gave (``MRTR_ANSWER`` from every benchmark client).
MRTR_TOOL = "mrtr"
MRTR_STATE = "s1"
MRTR_ANSWER = EXPECTED_TEXT
MRTR_ELICITATION: dict[str, Any] = {
    "method": "elicitation/create",
    "params": {
        "mode": "form",
        "message": "Name?",
        "requestedSchema": {"type": "object", "properties": {"name": {"type": "string"}}},
    },
}


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


#: What ``tools/list`` offers in the 2026-07-28 era: the same tools plus ``mrtr``.
MODERN_TOOLS: list[dict[str, Any]] = [*TOOLS, {
    "name": MRTR_TOOL,
    "description": "Ask for a name (one MCP 2026-07-28 input round), then echo it.",
    "inputSchema": _schema(),
}]


def _mrtr(params: dict[str, Any]) -> dict[str, Any]:
    """The ``mrtr`` tool: an input round first, then a complete text result."""
    responses = params.get("inputResponses")
    if not responses or params.get("requestState") != MRTR_STATE:
        return {"resultType": "input_required", "inputRequests": {"name": MRTR_ELICITATION},
                "requestState": MRTR_STATE}
    answer = responses.get("name") or {}
    content = (answer.get("content") or {}) if answer.get("action") == "accept" else {}
    text = str(content.get("name", ""))
    return {"resultType": "complete", "content": [{"type": "text", "text": text}],
            "isError": False}


def call_tool(params: dict[str, Any]) -> dict[str, Any] | None:
    """The ``tools/call`` result for ``params``, or ``None`` for an unknown tool."""
    name = params.get("name")
    arguments = params.get("arguments") or {}
    if name == "echo":
        value: Any = str(arguments.get("text", ""))
    elif name == "add":
        value = int(arguments.get("a", 0)) + int(arguments.get("b", 0))
    elif name == MRTR_TOOL:
        return _mrtr(params)
    else:
        return None
    return {
        "content": [{"type": "text", "text": str(value)}],
        "structuredContent": {"result": value},
        "isError": False,
    }


def modern_version(params: dict[str, Any]) -> str | None:
    """The 2026-07-28 envelope's protocol version in ``params``, if the request has one."""
    meta = params.get("_meta")
    return meta.get(VERSION_META) if isinstance(meta, dict) else None


def discover_result(server_name: str) -> dict[str, Any]:
    """The ``server/discover`` result (MCP 2026-07-28)."""
    return {
        "resultType": "complete",
        "supportedVersions": [MODERN_VERSION],
        "capabilities": {"tools": {}},
        "ttlMs": 0,
        "cacheScope": "public",
        "_meta": {SERVER_INFO_META: {"name": server_name, "version": "1.0"}},
    }


def answer(message: dict[str, Any], server_name: str) -> dict[str, Any]:
    """The ``result`` or ``error`` member of the reply to JSON-RPC request ``message``.

    Shared by every minimal server (Streamable HTTP, stdio, legacy HTTP+SSE), so each
    transport's clients parse exactly the same replies. A request whose ``_meta`` names
    MCP 2026-07-28 gets that era's answers: ``resultType`` on every result, and the
    ``mrtr`` tool's input round; ``server/discover`` is answered in either case.
    """
    method = message["method"]
    params = message.get("params") or {}
    if method == "tools/call":
        result = call_tool(params)
        if result is None:
            return {"error": {"code": -32602, "message": "unknown tool"}}
        if modern_version(params) is None:
            if result.get("resultType") == "input_required":
                return {"error": {"code": -32602, "message": "mrtr needs MCP 2026-07-28"}}
            result.pop("resultType", None)
        elif "resultType" not in result:
            result["resultType"] = "complete"
        return {"result": result}
    if method == "server/discover":
        asked = modern_version(params)
        if asked is not None and asked != MODERN_VERSION:
            return {"error": {"code": -32022, "message": "unsupported protocol version",
                              "data": {"supported": [MODERN_VERSION], "requested": asked}}}
        return {"result": discover_result(server_name)}
    if method == "tools/list" and modern_version(params) is not None:
        return {"result": {"resultType": "complete", "tools": MODERN_TOOLS, "ttlMs": 0,
                           "cacheScope": "public"}}
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
