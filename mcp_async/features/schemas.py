"""Tool definitions as plain dicts for model APIs: OpenAI, Anthropic, Gemini, or MCP itself.

::

    from mcp_async.features.schemas import export_tools

    tools = await client.list_tools()
    openai_tools = export_tools(((tool.name, tool) for tool in tools), "openai")
    # [{"type": "function", "function": {"name", "description", "parameters"}}, ...]

No SDK is imported: the dicts are what those APIs accept as JSON. Every dict is a deep
copy, so a caller may change it without touching the client's cached tools.

``mode="strict"`` or ``mode="portable"`` rewrites each input schema for OpenAI's strict
mode or for Gemini (see :mod:`mcp_async.features.schema_conversion`); pass a list as ``report`` to
learn every change made and every tool left out. :func:`mcp_async.agents.model_tools`
builds on this for clients and groups, with names each API accepts.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import Any, Literal, TypeAlias

from .._exceptions import ConfigError
from ..protocol.models import Tool

__all__ = ["SCHEMA_FORMATS", "SCHEMA_MODES", "SchemaFormat", "check_format", "export_tools"]

#: The names :func:`export_tools` accepts for ``format``.
SchemaFormat: TypeAlias = Literal["openai", "openai-responses", "anthropic", "gemini", "mcp"]
SCHEMA_FORMATS: tuple[SchemaFormat, ...] = (
    "openai", "openai-responses", "anthropic", "gemini", "mcp",
)
#: The names :func:`export_tools` accepts for ``mode``.
SCHEMA_MODES = ("as_is", "strict", "portable")


def check_format(format: str) -> SchemaFormat:
    """Return ``format`` if :func:`export_tools` knows it, else raise :class:`ConfigError`."""
    for known in SCHEMA_FORMATS:
        if format == known:
            return known
    raise ConfigError(
        f"format must be one of {', '.join(SCHEMA_FORMATS)}; got {format!r}"
    )


def export_tools(
    items: Iterable[tuple[str, Tool]],
    format: str,
    *,
    mode: str = "as_is",
    report: list[Any] | None = None,
) -> list[dict[str, Any]]:
    """Turn ``(name, tool)`` pairs into tool definitions for a model API.

    ``name`` is the name the model will see (a group's namespaced name, or the tool's
    own). Formats:

    * ``"openai"``: ``{"type": "function", "function": {"name", "description",
      "parameters"}}`` (Chat Completions function tools; with ``"strict": true`` in
      strict mode);
    * ``"openai-responses"``: ``{"type": "function", "name", "description",
      "parameters", "strict"}`` (Responses API function tools);
    * ``"anthropic"``: ``{"name", "description", "input_schema"}`` (Messages API tools);
    * ``"gemini"``: ``{"name", "description", "parameters"}`` (a Gemini function
      declaration; put the list under ``{"functionDeclarations": [...]}``). ``parameters``
      is Gemini's OpenAPI-style schema, so use ``mode="portable"``; with ``"as_is"`` the
      JSON Schema goes under ``parametersJsonSchema`` instead (newer Gemini models);
    * ``"mcp"``: the tool's MCP definition (``name``, ``description``, ``inputSchema``,
      ``outputSchema``, ``annotations``, ...) under ``name``.

    ``mode``: ``"as_is"`` passes the input schema on as the server declared it, with
    ``"type": "object"`` and ``"properties"`` added when missing (the APIs require an
    object schema); ``"strict"`` and ``"portable"`` rewrite it (see
    :mod:`mcp_async.features.schema_conversion`). A tool whose schema cannot be rewritten is left
    out. ``report``, when given, receives one
    :class:`~mcp_async.features.schema_conversion.SchemaChange` per change and one
    :class:`~mcp_async.features.schema_conversion.SkippedTool` per tool left out; without it, a
    tool that cannot be converted raises
    :class:`~mcp_async.features.schema_conversion.SchemaConversionError` (nothing is dropped
    silently). A missing description becomes ``""``.
    """
    checked = check_format(format)
    if mode not in SCHEMA_MODES:
        raise ConfigError(f"mode must be one of {', '.join(SCHEMA_MODES)}; got {mode!r}")
    build = _BUILDERS[checked]
    out: list[dict[str, Any]] = []
    for item in items:
        if not (isinstance(item, tuple) and len(item) == 2):
            raise ConfigError(f"export_tools takes (name, Tool) pairs, got {item!r}")
        name, tool = item
        if not isinstance(name, str) or not name:
            raise ConfigError(f"a tool name must be a non-empty string, got {name!r}")
        if not isinstance(tool, Tool):
            raise ConfigError(f"expected a mcp_async.models.Tool, got {type(tool).__name__}")
        if mode == "as_is" or checked == "mcp":
            out.append(build(name, tool, _object_schema(tool), "as_is"))
            continue
        from . import schema_conversion as convert

        try:
            schema, changes = (convert.strict_schema if mode == "strict"
                               else convert.portable_schema)(tool.input_schema)
        except convert.SchemaConversionError as exc:
            if report is None:
                raise convert.SchemaConversionError(
                    exc.path, f"tool {name!r}: {exc.reason}"
                ) from None
            report.append(convert.SkippedTool(name, f"schema not converted: {exc}"))
            continue
        if report is not None:
            report.extend(convert.SchemaChange(name, path, change) for path, change in changes)
        out.append(build(name, tool, schema, mode))
    return out


def _object_schema(tool: Tool) -> dict[str, Any]:
    schema = copy.deepcopy(tool.input_schema) if isinstance(tool.input_schema, dict) else {}
    schema.setdefault("type", "object")
    if schema["type"] == "object":
        schema.setdefault("properties", {})
    return schema


def _openai(name: str, tool: Tool, schema: dict[str, Any], mode: str) -> dict[str, Any]:
    function: dict[str, Any] = {
        "name": name,
        "description": tool.description or "",
        "parameters": schema,
    }
    if mode == "strict":
        function["strict"] = True
    return {"type": "function", "function": function}


def _responses(name: str, tool: Tool, schema: dict[str, Any], mode: str) -> dict[str, Any]:
    return {
        "type": "function",
        "name": name,
        "description": tool.description or "",
        "parameters": schema,
        "strict": mode == "strict",
    }


def _anthropic(name: str, tool: Tool, schema: dict[str, Any], mode: str) -> dict[str, Any]:
    definition: dict[str, Any] = {
        "name": name,
        "description": tool.description or "",
        "input_schema": schema,
    }
    if mode == "strict":
        definition["strict"] = True
    return definition


def _gemini(name: str, tool: Tool, schema: dict[str, Any], mode: str) -> dict[str, Any]:
    declaration: dict[str, Any] = {"name": name, "description": tool.description or ""}
    if mode == "as_is":
        declaration["parametersJsonSchema"] = schema
    elif schema.get("properties"):  # Gemini rejects an OBJECT with no properties
        declaration["parameters"] = schema
    return declaration


def _mcp(name: str, tool: Tool, schema: dict[str, Any], mode: str) -> dict[str, Any]:
    if tool.raw:
        definition = copy.deepcopy(tool.raw)
    else:  # a Tool built in code: rebuild the wire form from its fields
        definition = {"inputSchema": copy.deepcopy(tool.input_schema)}
        if tool.title is not None:
            definition["title"] = tool.title
        if tool.output_schema is not None:
            definition["outputSchema"] = copy.deepcopy(tool.output_schema)
        if tool.annotations is not None:
            definition["annotations"] = copy.deepcopy(tool.annotations.raw) or {
                key: value for key, value in (
                    ("title", tool.annotations.title),
                    ("readOnlyHint", tool.annotations.read_only_hint),
                    ("destructiveHint", tool.annotations.destructive_hint),
                    ("idempotentHint", tool.annotations.idempotent_hint),
                    ("openWorldHint", tool.annotations.open_world_hint),
                ) if value is not None
            }
        if tool.meta is not None:
            definition["_meta"] = copy.deepcopy(tool.meta)
    definition["name"] = name
    definition["description"] = tool.description or ""
    definition.setdefault("inputSchema", {"type": "object", "properties": {}})
    return definition


_BUILDERS: dict[SchemaFormat, Callable[[str, Tool, dict[str, Any], str], dict[str, Any]]] = {
    "openai": _openai,
    "openai-responses": _responses,
    "anthropic": _anthropic,
    "gemini": _gemini,
    "mcp": _mcp,
}
