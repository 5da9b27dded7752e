"""Tool definitions as plain dicts for model APIs: OpenAI, Anthropic, or MCP itself.

::

    from mcp_async._schemas import export_tools

    tools = await client.list_tools()
    openai_tools = export_tools(((tool.name, tool) for tool in tools), "openai")
    # [{"type": "function", "function": {"name", "description", "parameters"}}, ...]

No SDK is imported: the dicts are what those APIs accept as JSON. Every dict is a deep
copy, so a caller may change it without touching the client's cached tools.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import Any, Literal, TypeAlias

from ._exceptions import ConfigError
from .models import Tool

__all__ = ["SCHEMA_FORMATS", "SchemaFormat", "check_format", "export_tools"]

#: The names :func:`export_tools` accepts for ``format``.
SchemaFormat: TypeAlias = Literal["openai", "anthropic", "mcp"]
SCHEMA_FORMATS: tuple[SchemaFormat, ...] = ("openai", "anthropic", "mcp")


def check_format(format: str) -> SchemaFormat:
    """Return ``format`` if :func:`export_tools` knows it, else raise :class:`ConfigError`."""
    for known in SCHEMA_FORMATS:
        if format == known:
            return known
    raise ConfigError(
        f"format must be one of {', '.join(SCHEMA_FORMATS)}; got {format!r}"
    )


def export_tools(items: Iterable[tuple[str, Tool]], format: str) -> list[dict[str, Any]]:
    """Turn ``(name, tool)`` pairs into tool definitions for a model API.

    ``name`` is the name the model will see (a group's namespaced name, or the tool's
    own). Formats:

    * ``"openai"``: ``{"type": "function", "function": {"name", "description",
      "parameters"}}`` (Chat Completions function tools);
    * ``"anthropic"``: ``{"name", "description", "input_schema"}`` (Messages API tools);
    * ``"mcp"``: the tool's MCP definition (``name``, ``description``, ``inputSchema``,
      ``outputSchema``, ``annotations``, ...) under ``name``.

    The input schema is passed on as the server declared it, with ``"type": "object"``
    and ``"properties"`` added when missing (both APIs require an object schema). A
    missing description becomes ``""``.
    """
    build = _BUILDERS[check_format(format)]
    out: list[dict[str, Any]] = []
    for item in items:
        if not (isinstance(item, tuple) and len(item) == 2):
            raise ConfigError(f"export_tools takes (name, Tool) pairs, got {item!r}")
        name, tool = item
        if not isinstance(name, str) or not name:
            raise ConfigError(f"a tool name must be a non-empty string, got {name!r}")
        if not isinstance(tool, Tool):
            raise ConfigError(f"expected a mcp_async.models.Tool, got {type(tool).__name__}")
        out.append(build(name, tool))
    return out


def _object_schema(tool: Tool) -> dict[str, Any]:
    schema = copy.deepcopy(tool.input_schema) if isinstance(tool.input_schema, dict) else {}
    schema.setdefault("type", "object")
    if schema["type"] == "object":
        schema.setdefault("properties", {})
    return schema


def _openai(name: str, tool: Tool) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": tool.description or "",
            "parameters": _object_schema(tool),
        },
    }


def _anthropic(name: str, tool: Tool) -> dict[str, Any]:
    return {
        "name": name,
        "description": tool.description or "",
        "input_schema": _object_schema(tool),
    }


def _mcp(name: str, tool: Tool) -> dict[str, Any]:
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


_BUILDERS: dict[SchemaFormat, Callable[[str, Tool], dict[str, Any]]] = {
    "openai": _openai,
    "anthropic": _anthropic,
    "mcp": _mcp,
}
