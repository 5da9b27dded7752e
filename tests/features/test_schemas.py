"""export_tools: (name, Tool) pairs as OpenAI, Anthropic and MCP tool definitions."""

from __future__ import annotations

from typing import Any

import pytest

from mcp_async import ConfigError, export_tools
from mcp_async.protocol.models import Tool, ToolAnnotations

WIRE: dict[str, Any] = {
    "name": "add",
    "title": "Add",
    "description": "Add two numbers.",
    "inputSchema": {
        "type": "object",
        "properties": {"a": {"type": "number"}, "b": {"type": "number"}},
        "required": ["a", "b"],
    },
    "outputSchema": {"type": "object", "properties": {"result": {"type": "number"}}},
    "annotations": {"readOnlyHint": True},
}


def add_tool() -> Tool:
    return Tool.from_dict(WIRE)


def test_openai_function_tools() -> None:
    [out] = export_tools([("calc__add", add_tool())], "openai")
    assert out == {
        "type": "function",
        "function": {
            "name": "calc__add",
            "description": "Add two numbers.",
            "parameters": WIRE["inputSchema"],
        },
    }


def test_anthropic_tools() -> None:
    [out] = export_tools([("calc__add", add_tool())], "anthropic")
    assert out == {
        "name": "calc__add",
        "description": "Add two numbers.",
        "input_schema": WIRE["inputSchema"],
    }


def test_mcp_definition_keeps_every_field_under_the_new_name() -> None:
    [out] = export_tools([("calc__add", add_tool())], "mcp")
    assert out == {**WIRE, "name": "calc__add"}


def test_a_minimal_schema_becomes_an_object_schema_and_description_a_string() -> None:
    bare = Tool.from_dict({"name": "ping", "inputSchema": {"type": "object"}})
    [openai] = export_tools([("ping", bare)], "openai")
    assert openai["function"]["parameters"] == {"type": "object", "properties": {}}
    assert openai["function"]["description"] == ""
    [anthropic] = export_tools([("ping", bare)], "anthropic")
    assert anthropic["input_schema"] == {"type": "object", "properties": {}}


def test_outputs_are_copies() -> None:
    tool = add_tool()
    [out] = export_tools([("x", tool)], "openai")
    out["function"]["parameters"]["properties"]["a"]["type"] = "string"
    [mcp] = export_tools([("x", tool)], "mcp")
    mcp["inputSchema"]["required"].append("c")
    assert tool.input_schema == WIRE["inputSchema"]
    assert tool.raw["inputSchema"]["required"] == ["a", "b"]


def test_a_tool_built_in_code_exports_its_fields() -> None:
    tool = Tool(
        name="local",
        input_schema={"type": "object", "properties": {"q": {"type": "string"}}},
        description="Search.",
        output_schema={"type": "object"},
        annotations=ToolAnnotations(read_only_hint=True),
    )
    [out] = export_tools([("srv__local", tool)], "mcp")
    assert out == {
        "name": "srv__local",
        "description": "Search.",
        "inputSchema": {"type": "object", "properties": {"q": {"type": "string"}}},
        "outputSchema": {"type": "object"},
        "annotations": {"readOnlyHint": True},
    }


def test_order_is_kept() -> None:
    tools = [("b", add_tool()), ("a", add_tool())]
    assert [t["name"] for t in export_tools(tools, "anthropic")] == ["b", "a"]


@pytest.mark.parametrize(
    ("items", "fmt", "match"),
    [
        ([], "cohere", "format must be one of openai, openai-responses, anthropic, gemini, mcp"),
        ([("x",)], "openai", r"\(name, Tool\) pairs"),
        ([("", add_tool())], "openai", "non-empty string"),
        ([("x", WIRE)], "openai", "mcp_async.models.Tool"),
    ],
)
def test_bad_input_is_a_config_error(items: list[Any], fmt: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        export_tools(items, fmt)
