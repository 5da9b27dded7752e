"""Each model API's published rules for tool names and schemas, as checks.

Written from the vendors' documentation, independently of mcp_async.features.schema_conversion, so
that a bug there shows up here:

* OpenAI function names: ``^[a-zA-Z0-9_-]{1,64}$``; Anthropic tool names the same.
* Gemini function names: start with a letter or ``_``, then letters, digits, ``_``,
  ``.``, ``:`` or ``-``, at most 64 characters.
* OpenAI strict mode (Structured Outputs "supported schemas"): the root is an object
  and not ``anyOf``; every object has ``additionalProperties: false`` and lists all its
  properties in ``required``; only the supported keywords; at most 10 levels of
  nesting and 5,000 properties; string formats from the supported list.
* Gemini ``parameters`` (its ``Schema`` type): only the Schema fields (no ``$ref``,
  ``$defs``, ``additionalProperties``, ``oneOf``, ``allOf``, ``const``); ``type`` a
  single name (``nullable`` for null); ``enum`` only of strings; arrays have ``items``;
  objects have non-empty ``properties``.
"""

from __future__ import annotations

import re
from typing import Any

OPENAI_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
GEMINI_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_.:-]{0,63}$")

_STRICT_ALLOWED = {
    "type", "description", "title", "properties", "required", "additionalProperties",
    "items", "enum", "const", "anyOf", "pattern", "format", "minimum", "maximum",
    "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "minItems", "maxItems",
    "$defs", "$ref",
}
_STRICT_FORMATS = {"date-time", "time", "date", "duration", "email", "hostname", "ipv4",
                   "ipv6", "uuid"}
_GEMINI_FIELDS = {
    "type", "format", "title", "description", "nullable", "enum", "maxItems", "minItems",
    "properties", "required", "minProperties", "maxProperties", "minLength", "maxLength",
    "pattern", "example", "anyOf", "propertyOrdering", "default", "items", "minimum",
    "maximum",
}
_GEMINI_TYPES = {"string", "number", "integer", "boolean", "array", "object",
                 "STRING", "NUMBER", "INTEGER", "BOOLEAN", "ARRAY", "OBJECT"}


def name_problems(api: str, name: str) -> list[str]:
    pattern = GEMINI_NAME if api == "gemini" else OPENAI_NAME
    return [] if pattern.match(name) else [f"name {name!r} breaks the {api} name rules"]


def openai_strict_problems(schema: Any) -> list[str]:
    problems: list[str] = []
    properties = 0

    def walk(node: Any, path: str, depth: int) -> None:
        nonlocal properties
        if not isinstance(node, dict):
            problems.append(f"{path}: not an object schema")
            return
        if depth > 10:
            problems.append(f"{path}: nested deeper than 10")
        for key in node:
            if key not in _STRICT_ALLOWED:
                problems.append(f"{path}: keyword {key!r} not supported in strict mode")
        if "format" in node and node["format"] not in _STRICT_FORMATS:
            problems.append(f"{path}: format {node['format']!r} not supported")
        types = node.get("type")
        type_list = types if isinstance(types, list) else [types]
        if "object" in type_list:
            props = node.get("properties", {})
            if node.get("additionalProperties") is not False:
                problems.append(f"{path}: object without additionalProperties: false")
            if sorted(node.get("required", [])) != sorted(props):
                problems.append(f"{path}: required {node.get('required')} != properties "
                                f"{list(props)}")
            for name, prop in props.items():
                properties += 1
                walk(prop, f"{path}/properties/{name}", depth + 1)
        if "array" in type_list:
            if "items" not in node:
                problems.append(f"{path}: array without items")
            else:
                walk(node["items"], f"{path}/items", depth + 1)
        if types is None and "anyOf" not in node and "$ref" not in node and "enum" not in node \
                and "const" not in node:
            problems.append(f"{path}: no type")
        for i, branch in enumerate(node.get("anyOf", [])):
            walk(branch, f"{path}/anyOf/{i}", depth + 1)

    if not isinstance(schema, dict) or schema.get("type") != "object":
        return ["the root is not an object schema"]
    if "anyOf" in schema:
        problems.append("the root is anyOf")
    walk(schema, "", 1)
    if properties > 5000:
        problems.append("more than 5000 properties")
    return problems


def gemini_problems(schema: Any) -> list[str]:
    problems: list[str] = []

    def walk(node: Any, path: str) -> None:
        if not isinstance(node, dict):
            problems.append(f"{path}: not an object schema")
            return
        for key in node:
            if key not in _GEMINI_FIELDS:
                problems.append(f"{path}: field {key!r} is not part of Gemini's Schema")
        kind = node.get("type")
        if kind is not None and (not isinstance(kind, str) or kind not in _GEMINI_TYPES):
            problems.append(f"{path}: type {kind!r} is not a single Gemini type")
        if "enum" in node and not all(isinstance(v, str) for v in node["enum"]):
            problems.append(f"{path}: enum of non-strings")
        if kind in ("array", "ARRAY") and "items" not in node:
            problems.append(f"{path}: array without items")
        if kind in ("object", "OBJECT"):
            props = node.get("properties")
            if not props:
                problems.append(f"{path}: object without properties")
            for name, prop in (props or {}).items():
                walk(prop, f"{path}/properties/{name}")
            for name in node.get("required", []):
                if name not in (props or {}):
                    problems.append(f"{path}: required {name!r} is not a property")
        if "items" in node:
            walk(node["items"], f"{path}/items")
        for i, branch in enumerate(node.get("anyOf", [])):
            walk(branch, f"{path}/anyOf/{i}")

    walk(schema, "")
    return problems
