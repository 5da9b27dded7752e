"""MCP 2026-07-28 rules that need no I/O: the request envelope, routing headers,
``x-mcp-header`` annotations, ``resultType`` and the era verdict of a probe.

In this revision there is no handshake: every request carries its own ``_meta``
envelope, and over HTTP routing headers that repeat what the body says.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

from .mcp import SUPPORTED_VERSIONS

__all__ = [
    "CAPABILITIES_META",
    "CLIENT_INFO_META",
    "HEADER_MISMATCH",
    "INPUT_METHODS",
    "LOG_LEVEL_META",
    "MISSING_CAPABILITY",
    "MODERN_VERSIONS",
    "NAME_HEADER",
    "METHOD_HEADER",
    "PARAM_HEADER_PREFIX",
    "UNSUPPORTED_VERSION",
    "SERVER_INFO_META",
    "TASKS_EXTENSION",
    "VERSION_META",
    "encode_header_value",
    "header_annotations",
    "is_modern",
    "modern_capabilities",
    "mutual_modern",
    "param_headers",
    "routing_headers",
    "routing_name",
    "speaks_handshake",
    "tool_header_problem",
]

#: Stateless revisions this client speaks, newest first.
MODERN_VERSIONS: Final = ("2026-07-28",)

VERSION_META: Final = "io.modelcontextprotocol/protocolVersion"
CAPABILITIES_META: Final = "io.modelcontextprotocol/clientCapabilities"
CLIENT_INFO_META: Final = "io.modelcontextprotocol/clientInfo"
LOG_LEVEL_META: Final = "io.modelcontextprotocol/logLevel"
SERVER_INFO_META: Final = "io.modelcontextprotocol/serverInfo"

METHOD_HEADER: Final = "Mcp-Method"
NAME_HEADER: Final = "Mcp-Name"
PARAM_HEADER_PREFIX: Final = "Mcp-Param-"

HEADER_MISMATCH: Final = -32020
MISSING_CAPABILITY: Final = -32021
UNSUPPORTED_VERSION: Final = -32022

#: The 2026 tasks extension (``server/discover`` offers it under ``extensions``).
TASKS_EXTENSION: Final = "io.modelcontextprotocol/tasks"

#: The requests whose result may be an ``InputRequiredResult`` (MRTR).
INPUT_METHODS: Final = frozenset({"tools/call", "prompts/get", "resources/read"})

_SENTINEL = re.compile(r"=\?base64\?.*\?=", re.DOTALL)
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
#: Schema keywords a header-annotated property must not be reached through: those
#: holding one subschema, a list of them, or a map of names to them.
_ONE_SCHEMA = frozenset({"items", "additionalProperties", "not", "if", "then", "else",
                         "contains", "unevaluatedItems", "unevaluatedProperties",
                         "propertyNames", "contentSchema", "additionalItems"})
_SCHEMA_LIST = frozenset({"prefixItems", "anyOf", "oneOf", "allOf"})
_SCHEMA_MAP = frozenset({"$defs", "definitions", "patternProperties", "dependentSchemas"})


def is_modern(version: str | None) -> bool:
    """Whether ``version`` is a stateless (2026-07-28 or later) revision we speak."""
    return version in MODERN_VERSIONS


def mutual_modern(versions: Iterable[Any]) -> str | None:
    """The newest modern version in ``versions`` that this client speaks, if any."""
    offered = set(v for v in versions if isinstance(v, str))
    return next((v for v in MODERN_VERSIONS if v in offered), None)


def speaks_handshake(versions: Iterable[Any]) -> bool:
    """Whether any of ``versions`` is a handshake-era revision we speak."""
    return any(v in SUPPORTED_VERSIONS for v in versions if isinstance(v, str))


def modern_capabilities(capabilities: Mapping[str, Any]) -> dict[str, Any]:
    """Handshake-era client capabilities in their 2026 form (``roots`` has no
    ``listChanged`` any more; ``tasks`` moved to an extension)."""
    out = {key: value for key, value in capabilities.items() if key != "tasks"}
    if "roots" in out:
        out["roots"] = {}
    return out


def encode_header_value(value: str) -> str:
    """A header value as the spec sends it: plain when it is visible ASCII (or space)
    without edge whitespace and does not look like the sentinel, otherwise
    ``=?base64?<base64 of the UTF-8 bytes>?=``."""
    if (
        value.isascii() and value.isprintable()  # visible ASCII and space only
        and value[:1] != " " and value[-1:] != " "
        and not (value.startswith("=?base64?") and _SENTINEL.fullmatch(value))
    ):
        return value
    return "=?base64?" + base64.b64encode(value.encode("utf-8")).decode("ascii") + "?="


def routing_name(method: str, params: Mapping[str, Any] | None) -> str | None:
    """The ``Mcp-Name`` of a request: the tool or prompt name, or the resource URI."""
    if params is None:
        return None
    if method == "tools/call" or method == "prompts/get":
        name = params.get("name")
    elif method == "resources/read":
        name = params.get("uri")
    else:
        return None
    return name if isinstance(name, str) else None


def routing_headers(method: str, params: Mapping[str, Any] | None) -> dict[str, str]:
    """The routing headers of a request over HTTP: ``Mcp-Method``, and ``Mcp-Name`` when
    the request names a tool, a prompt or a resource."""
    headers = {METHOD_HEADER: method}
    name = routing_name(method, params)
    if name is not None:
        headers[NAME_HEADER] = encode_header_value(name)
    return headers


def _header_scalar(value: Any) -> str | None:
    """A tool argument as a header value; ``None`` for null (no header is sent)."""
    if value is None:
        return None
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return value
    return None  # the schema rules keep other types out of annotated properties


def header_annotations(schema: Mapping[str, Any]) -> dict[tuple[str, ...], str]:
    """The ``x-mcp-header`` annotations of an input schema: property path → header name.

    Only properties reached by a chain of ``properties`` keys count; the rules of
    :func:`tool_header_problem` decide whether a tool may be used at all.
    """
    found: dict[tuple[str, ...], str] = {}

    def walk(node: Mapping[str, Any], path: tuple[str, ...]) -> None:
        properties = node.get("properties")
        if not isinstance(properties, Mapping):
            return
        for key, child in properties.items():
            if not isinstance(child, Mapping):
                continue
            name = child.get("x-mcp-header")
            if name is not None:
                found[(*path, key)] = name
            walk(child, (*path, key))

    walk(schema, ())
    return found


def tool_header_problem(schema: Any) -> str | None:
    """Why a tool's ``x-mcp-header`` annotations break the spec's rules, or ``None``.

    A tool with such a problem must not be used over HTTP: the client drops it from
    ``tools/list``.
    """
    if not isinstance(schema, Mapping):
        return None
    seen: set[str] = set()
    problems: list[str] = []

    def check_property(node: Mapping[str, Any], where: str) -> None:
        name = node["x-mcp-header"]
        if not isinstance(name, str) or not name:
            problems.append(f"{where}: x-mcp-header must be a non-empty string")
            return
        if not _TOKEN.fullmatch(name):
            problems.append(f"{where}: x-mcp-header {name!r} is not an HTTP token")
            return
        if name.lower() in seen:
            problems.append(f"{where}: x-mcp-header {name!r} is used twice")
        seen.add(name.lower())
        kind = node.get("type")
        if kind not in ("string", "integer", "boolean"):
            problems.append(
                f"{where}: x-mcp-header needs type string, integer or boolean, not {kind!r}"
            )
            return

    def walk(node: Any, where: str, reachable: bool) -> None:
        """``reachable``: ``node`` is a property reached by a pure ``properties`` chain."""
        if isinstance(node, list):
            for index, item in enumerate(node):
                walk(item, f"{where}[{index}]", False)
            return
        if not isinstance(node, Mapping):
            return
        if "x-mcp-header" in node:
            if reachable:
                check_property(node, where)
            else:
                problems.append(f"{where or '(root)'}: x-mcp-header is only allowed on a "
                                "property reached through 'properties'")
        for key, child in node.items():
            if key == "properties" and isinstance(child, Mapping):
                for name, sub in child.items():
                    walk(sub, f"{where}.{name}" if where else name, reachable or not where)
            elif key in _ONE_SCHEMA or key in _SCHEMA_LIST:
                walk(child, f"{where}/{key}", False)
            elif key in _SCHEMA_MAP and isinstance(child, Mapping):
                for name, sub in child.items():
                    walk(sub, f"{where}/{key}/{name}", False)

    walk(schema, "", False)
    return problems[0] if problems else None


def param_headers(
    annotations: Mapping[tuple[str, ...], str], arguments: Mapping[str, Any] | None
) -> dict[str, str]:
    """The ``Mcp-Param-*`` headers for a ``tools/call`` with ``arguments``."""
    headers: dict[str, str] = {}
    if not arguments:
        return headers
    for path, name in annotations.items():
        value: Any = arguments
        for key in path:
            if not isinstance(value, Mapping) or key not in value:
                value = None
                break
            value = value[key]
        text = _header_scalar(value)
        if text is not None:
            headers[PARAM_HEADER_PREFIX + name] = encode_header_value(text)
    return headers
