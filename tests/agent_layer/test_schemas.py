"""Strict and portable schemas against each API's published rules (tests/agent_layer/rules.py,
written from the vendors' docs) and, for Gemini, google-genai's own Schema model."""

from __future__ import annotations

from typing import Any

import pytest

from mcp_async import AsyncMCPClient
from mcp_async.agents import (
    SchemaConversionError,
    build_model_tools,
    drop_strict_nulls,
    model_names,
    model_tools,
    portable_schema,
    strict_schema,
)
from mcp_async.protocol.models import Tool

from . import rules

TRICKY: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "$defs": {"point": {"type": "object", "properties": {"x": {"type": "number"},
                                                        "y": {"type": "number"}},
                        "required": ["x"]}},
    "properties": {
        "where": {"$ref": "#/$defs/point"},
        "mode": {"type": ["string", "null"], "enum": ["fast", "slow", None]},
        "level": {"type": "integer", "enum": [1, 2, 3], "default": 2},
        "tags": {"type": "array", "items": {"type": "string", "format": "uri"}},
        "either": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
        "maybe": {"anyOf": [{"type": "string", "minLength": 1}, {"type": "null"}]},
        "both": {"allOf": [{"type": "object", "properties": {"a": {"type": "string"}}},
                           {"properties": {"b": {"type": "integer"}}, "required": ["b"]}]},
        "kind": {"const": "v1"},
        "extra": {"type": "object", "additionalProperties": {"type": "string"}},
        "anything": {},
    },
    "required": ["where"],
    "additionalProperties": True,
}


def test_strict_meets_openais_rules_and_reports_every_change() -> None:
    schema, changes = strict_schema(TRICKY)
    assert rules.openai_strict_problems(schema) == []
    assert sorted(schema["required"]) == sorted(schema["properties"])
    assert "extra" not in schema["properties"]  # optional free-form map: removed, reported
    where: dict[str, str] = {}
    for path, change in changes:
        where[path] = f"{where.get(path, '')}; {change}"
    assert "optional property removed" in where["/properties/extra"]
    assert "inlined" in where["/properties/where"]
    assert any("default" in c for c in where.values())
    assert schema["properties"]["level"]["description"] == "(default: 2)"
    assert TRICKY["properties"]["level"]["default"] == 2  # the input is not changed


def test_portable_meets_geminis_rules_and_its_sdk_model() -> None:
    from google.genai import types

    schema, changes = portable_schema(TRICKY)
    assert rules.gemini_problems(schema) == []
    types.Schema.model_validate(schema)  # google-genai's own model of Gemini's Schema
    props = schema["properties"]
    assert props["mode"] == {"type": "string", "enum": ["fast", "slow", None],
                             "nullable": True} or props["mode"]["nullable"] is True
    assert "enum" not in props["level"] and "one of: 1, 2, 3" in props["level"]["description"]
    assert props["either"]["anyOf"] == [{"type": "string"}, {"type": "integer"}]
    assert props["maybe"]["nullable"] is True and props["maybe"]["type"] == "string"
    assert props["both"]["required"] == ["b"]
    assert props["kind"]["enum"] == ["v1"]
    assert len(changes) >= 8


@pytest.mark.parametrize(("schema", "reason"), [
    ({"type": "object", "properties": {"n": {"$ref": "#"}}, "required": ["n"]}, "recursive"),
    ({"type": "object", "properties": {"m": {"type": "object"}}, "required": ["m"]},
     "free-form"),
    ({"type": "object", "properties": {"r": {"$ref": "https://x/s.json"}}}, "not a local"),
    ({"type": "array"}, "root must be an object"),
])
def test_what_cannot_be_converted_raises_and_is_reported(schema: Any, reason: str) -> None:
    for convert in (strict_schema, portable_schema):
        with pytest.raises(SchemaConversionError, match=reason):
            convert(schema)
    tools = build_model_tools([("bad", None, Tool("bad", schema)),
                               ("good", None, Tool("good", {"type": "object"}))],
                              "openai", mode="strict")
    assert [t["function"]["name"] for t in tools.tools] == ["good"]
    assert [s.tool for s in tools.report.skipped] == ["bad"] and reason in str(tools.report)


def test_gemini_as_is_uses_parameters_json_schema() -> None:
    from google.genai import types

    tools = build_model_tools([("t", None, Tool("t", TRICKY))], "gemini", mode="as_is")
    [declaration] = tools.tools
    assert "parameters" not in declaration
    assert declaration["parametersJsonSchema"]["$defs"] == TRICKY["$defs"]
    types.FunctionDeclaration.model_validate(declaration)
    assert tools.request_tools == [{"functionDeclarations": tools.tools}]


def test_names_follow_each_apis_rules() -> None:
    names = ["get.weather", "a/b", "9lives", "x" * 80, "ok_name", "a_b"]
    for api in ("openai", "anthropic", "gemini"):
        out = model_names(names, api)  # type: ignore[arg-type]
        assert len(set(out)) == len(out)
        assert all(rules.name_problems(api, n) == [] for n in out), out
    assert model_names(["get.weather"], "gemini") == ["get.weather"]
    assert model_names(["get.weather"], "openai") == ["get_weather"]
    assert model_names(["9lives"], "gemini") == ["_9lives"]


def test_strict_nulls_are_dropped_for_optional_properties() -> None:
    schema = {"type": "object", "properties": {
        "q": {"type": "string"}, "limit": {"type": "integer"},
        "note": {"type": ["string", "null"]},
        "inner": {"type": "object", "properties": {"x": {"type": "integer"}}}},
        "required": ["q"]}
    args = {"q": "a", "limit": None, "note": None, "inner": {"x": None}}
    assert drop_strict_nulls(schema, args) == {"q": "a", "note": None, "inner": {}}
    assert drop_strict_nulls(schema, {"q": "a"}) == {"q": "a"}


@pytest.mark.interop
async def test_every_tool_of_third_party_servers_converts_or_is_reported(
    mcp_client: AsyncMCPClient,
) -> None:
    from google.genai import types

    listed = await mcp_client.list_tools()
    for api, mode in (("openai", "strict"), ("openai-responses", "strict"),
                      ("anthropic", "strict"), ("gemini", "portable")):
        tools = await model_tools(mcp_client, api, mode=mode)  # type: ignore[arg-type]
        assert len(tools.tools) + len(tools.report.skipped) == len(listed)
        for definition in tools.tools:
            function = definition.get("function", definition)
            assert rules.name_problems(api, function["name"]) == []
            if api == "gemini":
                if "parameters" in function:
                    assert rules.gemini_problems(function["parameters"]) == []
                types.FunctionDeclaration.model_validate(function)
            else:
                schema = function.get("parameters", function.get("input_schema"))
                assert rules.openai_strict_problems(schema) == [], function["name"]
