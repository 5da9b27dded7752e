"""Rewrite a tool's input schema so that a strict model API accepts it, and say how.

Two modes, each a pure function of a JSON Schema:

* :func:`strict_schema`: what OpenAI's strict function calling (Structured Outputs)
  accepts: the root an object; every object's properties all listed in ``required``
  (the ones that were optional made nullable) and ``additionalProperties: false``;
  only the keywords strict mode supports; at most 10 levels of nesting, 5,000
  properties and 1,000 enum values.
* :func:`portable_schema`: what Gemini function declarations accept (the OpenAPI 3.0
  subset of its ``Schema``): local ``$ref`` inlined, ``null`` in a type list turned
  into ``nullable``, ``oneOf`` into ``anyOf``, ``allOf`` merged, ``const`` into a
  one-value ``enum``, enums of strings only, and every keyword it does not know
  removed. A schema within this subset is also accepted by OpenAI (non-strict) and
  Anthropic, hence "portable".

Each returns the new schema (a new object; the input is never changed) and the list of
:class:`SchemaChange` made. A schema that cannot be converted without changing what the
tool accepts in a way the model could not work around (a recursive ``$ref``, a
required free-form object, an ``allOf`` that does not merge, limits exceeded) raises
:class:`SchemaConversionError`; callers report the tool as not converted.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

from .._exceptions import ConfigError

__all__ = [
    "SchemaChange",
    "SchemaConversionError",
    "SchemaMode",
    "SkippedTool",
    "drop_strict_nulls",
    "portable_schema",
    "strict_schema",
]

#: ``"as_is"`` (the server's schema, only made an object), ``"strict"`` (OpenAI strict
#: mode) or ``"portable"`` (Gemini's subset, accepted by every API).
SchemaMode: TypeAlias = Literal["as_is", "strict", "portable"]

#: Keywords OpenAI strict mode accepts (its Structured Outputs "supported schemas").
STRICT_KEYWORDS = frozenset({
    "type", "description", "title", "properties", "required", "additionalProperties",
    "items", "enum", "const", "anyOf", "pattern", "format", "minimum", "maximum",
    "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "minItems", "maxItems",
})
#: String formats OpenAI strict mode accepts.
STRICT_FORMATS = frozenset({
    "date-time", "time", "date", "duration", "email", "hostname", "ipv4", "ipv6", "uuid",
})
STRICT_MAX_DEPTH = 10
STRICT_MAX_PROPERTIES = 5000
STRICT_MAX_ENUM_VALUES = 1000

#: Keywords of Gemini's ``Schema`` (camelCase, as on the wire).
PORTABLE_KEYWORDS = frozenset({
    "type", "format", "title", "description", "nullable", "enum", "maxItems", "minItems",
    "properties", "required", "minProperties", "maxProperties", "minLength", "maxLength",
    "pattern", "example", "anyOf", "propertyOrdering", "default", "items", "minimum",
    "maximum",
})
#: Formats Gemini accepts, by type.
PORTABLE_FORMATS = {
    "string": frozenset({"enum", "date-time"}),
    "number": frozenset({"float", "double"}),
    "integer": frozenset({"int32", "int64"}),
}
_SCALARS = ["string", "number", "integer", "boolean"]


@dataclass(frozen=True, slots=True)
class SchemaChange:
    """One change made to a tool's schema: ``path`` is a JSON Pointer-like location in
    the input schema (``""`` for the root), ``change`` says what was done and why."""

    tool: str
    path: str
    change: str

    def __str__(self) -> str:
        return f"{self.tool}: {self.path or '(root)'}: {self.change}"


@dataclass(frozen=True, slots=True)
class SkippedTool:
    """A tool left out of the model's tool list, and why (a schema that cannot be
    converted, a name the API cannot take, or a policy that denies it)."""

    tool: str
    reason: str

    def __str__(self) -> str:
        return f"{self.tool}: {self.reason}"


class SchemaConversionError(ConfigError):
    """A schema cannot be converted for the requested mode; ``path`` says where."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path or '(root)'}: {reason}")
        self.path = path
        self.reason = reason


class _Converter:
    def __init__(self, root: Any, mode: Literal["strict", "portable"]) -> None:
        self.root = root
        self.mode = mode
        self.changes: list[tuple[str, str]] = []
        self.properties = 0
        self.enum_values = 0

    def note(self, path: str, change: str) -> None:
        self.changes.append((path, change))

    # -- $ref -------------------------------------------------------------------------------
    def resolve(self, ref: object, path: str, seen: tuple[str, ...]) -> Any:
        if not isinstance(ref, str) or not ref.startswith("#"):
            raise SchemaConversionError(path, f"$ref {ref!r} is not a local reference")
        if ref in seen:
            raise SchemaConversionError(path, f"$ref {ref!r} is recursive")
        node: Any = self.root
        pointer = ref[1:]
        if pointer:
            if not pointer.startswith("/"):
                raise SchemaConversionError(path, f"$ref {ref!r} is not a JSON Pointer")
            for raw in pointer[1:].split("/"):
                part = raw.replace("~1", "/").replace("~0", "~")
                if isinstance(node, dict) and part in node:
                    node = node[part]
                elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                    node = node[int(part)]
                else:
                    raise SchemaConversionError(path, f"$ref {ref!r} points nowhere")
        return node

    # -- one node ---------------------------------------------------------------------------
    def node(self, schema: Any, path: str, depth: int, seen: tuple[str, ...]) -> dict[str, Any]:
        if schema is True or schema == {}:
            return self.any_value(path)
        if schema is False:
            raise SchemaConversionError(path, "the schema 'false' accepts no value")
        if not isinstance(schema, dict):
            raise SchemaConversionError(path, f"a schema must be an object, got {schema!r}")
        if depth > STRICT_MAX_DEPTH and self.mode == "strict":
            raise SchemaConversionError(
                path, f"nested deeper than {STRICT_MAX_DEPTH} levels (OpenAI strict limit)"
            )
        if "$ref" in schema:
            ref = schema["$ref"]
            target = self.resolve(ref, path, seen)
            rest = {k: v for k, v in schema.items() if k != "$ref"}
            self.note(path, f"$ref {ref!r} inlined")
            merged = dict(target) if isinstance(target, dict) else target
            if isinstance(merged, dict):
                merged.update({k: v for k, v in rest.items() if k in ("description", "title")})
            return self.node(merged, path, depth, (*seen, ref))
        out = dict(schema)
        for key in ("$defs", "definitions", "$schema", "$id", "$comment"):
            if key in out:
                del out[key]
                if key in ("$defs", "definitions"):
                    self.note(path, f"{key} removed (its references are inlined)")
                else:
                    self.note(path, f"{key} removed")
        if "allOf" in out:
            out = self.merge_all_of(out, path, seen)
        if "oneOf" in out:
            branches = out.pop("oneOf")
            out.setdefault("anyOf", branches)
            self.note(path, "oneOf turned into anyOf")
        if "const" in out and self.mode == "portable":
            value = out.pop("const")
            if isinstance(value, str):
                out["enum"] = [value]
                self.note(path, "const turned into a one-value enum")
            else:
                self.describe(out, f"must be {json.dumps(value)}")
                self.note(path, f"const {value!r} removed (Gemini takes string enums only); "
                                "noted in the description")
        if "anyOf" in out:
            out = self.any_of(out, path, depth, seen)
            if "anyOf" not in out:
                return self.node(out, path, depth, seen)
        out = self.types(out, path)
        self.keywords(out, path)
        kind = out.get("type")
        if "enum" in out:
            self.enum(out, path)
        if kind == "object" or (kind is None and "properties" in out):
            self.object(out, path, depth, seen)
        elif kind == "array" or (isinstance(kind, list) and "array" in kind):
            self.array(out, path, depth, seen)
        elif "anyOf" in out:
            out["anyOf"] = [
                self.node(branch, f"{path}/anyOf/{i}", depth + 1, seen)
                for i, branch in enumerate(out["anyOf"])
            ]
        return out

    def any_value(self, path: str) -> dict[str, Any]:
        if self.mode == "strict":
            self.note(path, "any value narrowed to string, number, boolean or null "
                            "(strict mode needs a type)")
            return {"type": ["string", "number", "boolean", "null"]}
        self.note(path, "any value narrowed to a string (Gemini needs a type)")
        return {"type": "string"}

    def describe(self, out: dict[str, Any], text: str) -> None:
        description = out.get("description")
        out["description"] = f"{description} ({text})" if isinstance(description, str) \
            and description else f"({text})"

    def merge_all_of(self, out: dict[str, Any], path: str, seen: tuple[str, ...]) -> dict[str, Any]:
        branches = out.pop("allOf")
        if not isinstance(branches, list):
            raise SchemaConversionError(path, "allOf must be a list")
        merged = dict(out)
        for i, branch in enumerate(branches):
            if isinstance(branch, dict) and "$ref" in branch:
                branch = self.resolve(branch["$ref"], f"{path}/allOf/{i}", seen)
            if not isinstance(branch, dict):
                raise SchemaConversionError(f"{path}/allOf/{i}", "allOf branch is not an object")
            for key, value in branch.items():
                if key == "properties" and isinstance(value, dict):
                    props = dict(merged.get("properties") or {})
                    for name, prop in value.items():
                        if name in props and props[name] != prop:
                            raise SchemaConversionError(
                                f"{path}/allOf/{i}", f"allOf branches disagree on {name!r}"
                            )
                        props[name] = prop
                    merged["properties"] = props
                elif key == "required" and isinstance(value, list):
                    merged["required"] = list(dict.fromkeys([*merged.get("required", []),
                                                             *value]))
                elif key in merged and merged[key] != value:
                    raise SchemaConversionError(
                        f"{path}/allOf/{i}", f"allOf branches disagree on {key!r}"
                    )
                else:
                    merged[key] = value
        self.note(path, f"allOf of {len(branches)} schemas merged into one")
        return merged

    def any_of(self, out: dict[str, Any], path: str, depth: int,
               seen: tuple[str, ...]) -> dict[str, Any]:
        branches = out["anyOf"]
        if not isinstance(branches, list) or not branches:
            raise SchemaConversionError(path, "anyOf must be a non-empty list")
        if self.mode == "strict":
            if path == "":
                raise SchemaConversionError(path, "the root may not be anyOf in strict mode")
            return out
        nulls = [b for b in branches if isinstance(b, dict) and b.get("type") == "null"
                 and len(b) == 1]
        rest = [b for b in branches if b not in nulls]
        if nulls:
            out["nullable"] = True
            self.note(path, "null branch of anyOf turned into nullable")
        if len(rest) == 1:
            del out["anyOf"]
            branch = rest[0]
            if isinstance(branch, dict) and "$ref" in branch:
                branch = self.resolve(branch["$ref"], f"{path}/anyOf", seen)
                self.note(path, f"$ref {rest[0]['$ref']!r} inlined")
            if isinstance(branch, dict):
                for key, value in branch.items():
                    out.setdefault(key, value)
            return out
        out["anyOf"] = rest
        return out

    def types(self, out: dict[str, Any], path: str) -> dict[str, Any]:
        kind = out.get("type")
        if not isinstance(kind, list):
            return out
        if self.mode == "strict":
            return out
        names = [t for t in kind if t != "null"]
        if len(names) != len(kind):
            out["nullable"] = True
            self.note(path, "null in the type list turned into nullable")
        if len(names) == 1:
            out["type"] = names[0]
        elif not names:
            raise SchemaConversionError(path, "the type list has only null")
        else:
            del out["type"]
            out["anyOf"] = [{"type": t} for t in names]
            self.note(path, f"type list {names} turned into anyOf")
        return out

    def keywords(self, out: dict[str, Any], path: str) -> None:
        allowed = STRICT_KEYWORDS if self.mode == "strict" else PORTABLE_KEYWORDS
        for key in [k for k in out if k not in allowed]:
            value = out.pop(key)
            if key == "default":
                self.describe(out, f"default: {json.dumps(value)}")
                self.note(path, "default removed (strict mode does not take it); "
                                "noted in the description")
            elif key == "additionalProperties" and self.mode == "portable":
                self.note(path, "additionalProperties removed (Gemini does not take it)")
            else:
                self.note(path, f"{key} removed (not supported in {self.mode} mode)")
        fmt = out.get("format")
        if fmt is not None:
            kind = out.get("type")
            known = STRICT_FORMATS if self.mode == "strict" else \
                PORTABLE_FORMATS.get(kind if isinstance(kind, str) else "", frozenset())
            if fmt not in known:
                del out["format"]
                self.note(path, f"format {fmt!r} removed (not supported in {self.mode} mode)")

    def enum(self, out: dict[str, Any], path: str) -> None:
        values = out["enum"]
        if not isinstance(values, list) or not values:
            raise SchemaConversionError(path, "enum must be a non-empty list")
        self.enum_values += len(values)
        if self.mode == "strict" and self.enum_values > STRICT_MAX_ENUM_VALUES:
            raise SchemaConversionError(
                path, f"more than {STRICT_MAX_ENUM_VALUES} enum values (OpenAI strict limit)"
            )
        if self.mode == "portable" and not all(isinstance(v, str) for v in values):
            del out["enum"]
            self.describe(out, "one of: " + ", ".join(json.dumps(v) for v in values))
            self.note(path, "enum of non-strings removed (Gemini takes string enums only); "
                            "its values are noted in the description")

    def object(self, out: dict[str, Any], path: str, depth: int, seen: tuple[str, ...]) -> None:
        out["type"] = out.get("type") or "object"
        props = out.get("properties")
        if props is None:
            props = {}
        if not isinstance(props, dict):
            raise SchemaConversionError(path, "properties must be an object")
        required = out.get("required") or []
        if not isinstance(required, list):
            raise SchemaConversionError(path, "required must be a list")
        converted: dict[str, Any] = {}
        for name, prop in props.items():
            where = f"{path}/properties/{name}"
            self.properties += 1
            if self.mode == "strict" and self.properties > STRICT_MAX_PROPERTIES:
                raise SchemaConversionError(
                    where, f"more than {STRICT_MAX_PROPERTIES} properties (OpenAI strict limit)"
                )
            try:
                value = self.node(prop, where, depth + 1, seen)
            except _FreeForm as free:
                if name in required:
                    raise SchemaConversionError(where, free.reason) from None
                self.note(where, f"optional property removed: {free.reason}")
                continue
            converted[name] = value
        if path and not converted:
            raise _FreeForm("a free-form object (no properties) cannot be expressed "
                            f"in {self.mode} mode")
        out["properties"] = converted
        missing = [r for r in required if r not in converted]
        if missing:
            self.note(path, f"required names without a property dropped: {missing}")
        kept_required = [r for r in required if r in converted]
        if self.mode == "strict":
            for name in converted:
                if name not in kept_required:
                    converted[name] = self.nullable(converted[name], f"{path}/properties/{name}")
            if list(converted) != kept_required:
                added = [n for n in converted if n not in kept_required]
                if added:
                    self.note(path, f"optional properties {added} made required and nullable")
            out["required"] = list(converted)
            if out.get("additionalProperties") is not False:
                if "additionalProperties" in out:
                    self.note(path, "additionalProperties set to false (was "
                                    f"{json.dumps(out['additionalProperties'])})")
                else:
                    self.note(path, "additionalProperties: false added")
                out["additionalProperties"] = False
        else:
            if kept_required:
                out["required"] = kept_required
            else:
                out.pop("required", None)
            if not converted and not path:
                out["properties"] = {}

    def nullable(self, schema: dict[str, Any], path: str) -> dict[str, Any]:
        kind = schema.get("type")
        if isinstance(kind, str):
            if kind != "null":
                schema["type"] = [kind, "null"]
                if "enum" in schema and None not in schema["enum"]:
                    schema["enum"] = [*schema["enum"], None]
            return schema
        if isinstance(kind, list):
            if "null" not in kind:
                schema["type"] = [*kind, "null"]
                if "enum" in schema and None not in schema["enum"]:
                    schema["enum"] = [*schema["enum"], None]
            return schema
        if "anyOf" in schema:
            if not any(b.get("type") == "null" for b in schema["anyOf"] if isinstance(b, dict)):
                schema["anyOf"] = [*schema["anyOf"], {"type": "null"}]
            return schema
        return {"anyOf": [schema, {"type": "null"}]}

    def array(self, out: dict[str, Any], path: str, depth: int, seen: tuple[str, ...]) -> None:
        items = out.get("items")
        if items is None or isinstance(items, list):
            if isinstance(items, list):
                self.note(path, "tuple items removed (not supported)")
            out["items"] = self.any_value(f"{path}/items")
            return
        try:
            out["items"] = self.node(items, f"{path}/items", depth + 1, seen)
        except _FreeForm as free:
            raise SchemaConversionError(f"{path}/items", free.reason) from None


class _FreeForm(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _convert(
    schema: Any, mode: Literal["strict", "portable"]
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    root = copy.deepcopy(schema) if schema is not None else {}
    if not isinstance(root, dict):
        raise SchemaConversionError("", f"an input schema must be an object, got {root!r}")
    converter = _Converter(root, mode)
    if root.get("type", "object") != "object" and "anyOf" not in root:
        raise SchemaConversionError("", f"the root must be an object schema, got "
                                        f"type {root.get('type')!r}")
    if "type" not in root and "anyOf" not in root and "allOf" not in root and "$ref" not in root:
        root["type"] = "object"
    try:
        out = converter.node(root, "", 1, ())
    except _FreeForm as free:  # pragma: no cover - the root keeps an empty object
        raise SchemaConversionError("", free.reason) from None
    except RecursionError:
        raise SchemaConversionError("", "the schema is nested too deeply") from None
    if out.get("type") != "object":
        raise SchemaConversionError("", "the root must be an object schema")
    return out, converter.changes


def strict_schema(schema: Any) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """``schema`` rewritten for OpenAI strict mode, and the ``(path, change)`` list.

    Raises :class:`SchemaConversionError` when it cannot be expressed (see the module).
    """
    return _convert(schema, "strict")


def portable_schema(schema: Any) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """``schema`` rewritten for Gemini's function declarations (and so for every API),
    and the ``(path, change)`` list. Raises :class:`SchemaConversionError` when it
    cannot be expressed (see the module)."""
    return _convert(schema, "portable")


def drop_strict_nulls(schema: Any, arguments: dict[str, Any]) -> dict[str, Any]:
    """``arguments`` without the ``null`` values that strict mode made the model send
    for properties that were optional (and not nullable) in the server's ``schema``.

    Strict mode lists every property in ``required`` and makes the optional ones
    nullable, so a model that means "not given" sends ``null``; the server's own schema
    would reject it. Nested objects and array items are cleaned too; local ``$ref`` are
    followed. Returns a new dict when something was dropped, else ``arguments``.
    """
    root = schema if isinstance(schema, dict) else {}

    def resolve(node: Any, depth: int = 0) -> Any:
        while isinstance(node, dict) and isinstance(node.get("$ref"), str) and depth < 32:
            ref: str = node["$ref"]
            target: Any = root
            for raw in ref[2:].split("/") if ref.startswith("#/") else []:
                part = raw.replace("~1", "/").replace("~0", "~")
                target = target.get(part) if isinstance(target, dict) else None
            if not ref.startswith("#") or target is None:
                return node
            node, depth = target, depth + 1
        return node

    def allows_null(node: Any) -> bool:
        node = resolve(node)
        if not isinstance(node, dict) or node == {}:
            return True
        kind = node.get("type")
        if kind == "null" or (isinstance(kind, list) and "null" in kind) or node.get("nullable"):
            return True
        return any(allows_null(b) for key in ("anyOf", "oneOf")
                   for b in node.get(key) or [] if isinstance(b, dict | bool))

    def clean(node: Any, value: Any, depth: int) -> Any:
        node = resolve(node)
        if depth > 64 or not isinstance(node, dict):
            return value
        if isinstance(value, dict) and isinstance(node.get("properties"), dict):
            props = node["properties"]
            required = node.get("required") or []
            out: dict[str, Any] = {}
            changed = False
            for key, item in value.items():
                prop = props.get(key)
                if item is None and key not in required and prop is not None \
                        and not allows_null(prop):
                    changed = True
                    continue
                cleaned = clean(prop, item, depth + 1) if prop is not None else item
                changed = changed or cleaned is not item
                out[key] = cleaned
            return out if changed else value
        if isinstance(value, list) and isinstance(node.get("items"), dict):
            items = [clean(node["items"], v, depth + 1) for v in value]
            return items if any(a is not b for a, b in zip(items, value, strict=True)) else value
        return value

    result = clean(root, arguments, 0)
    return result if isinstance(result, dict) else arguments
