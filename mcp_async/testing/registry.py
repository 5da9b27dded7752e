"""The test server's registry: tools, resources, templates, prompts and the completion
handler, registered from Python functions (schemas from signatures), and the mapping of
their return values to MCP results."""

from __future__ import annotations

import base64
import inspect
import re
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal, TypeVar, overload

from ..protocol.jsonrpc import INVALID_PARAMS
from .context import ToolContext
from .wire import RPCError, dumps, text_block

__all__ = [
    "Prompt",
    "ServerRegistry",
    "Template",
    "Tool",
    "called_tool",
    "error_result",
    "prompt_messages",
    "resolve",
    "task_support",
    "tool_result",
    "with_optional",
]

_F = TypeVar("_F", bound=Callable[..., Any])
_JSON_TYPES: Final[dict[Any, str]] = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    list: "array",
    tuple: "array",
    dict: "object",
}
_JSON_TYPE_NAMES: Final = {
    "str": "string",
    "int": "integer",
    "float": "number",
    "bool": "boolean",
    "list": "array",
    "List": "array",
    "tuple": "array",
    "dict": "object",
    "Dict": "object",
}
_TEMPLATE_VAR: Final = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")



@dataclass(slots=True)
class Tool:
    """A registered tool: its function, context parameter and ``Tool`` definition."""

    fn: Callable[..., Any]
    ctx_param: str | None
    structured: bool
    definition: dict[str, Any]


@dataclass(slots=True)
class Template:
    """A registered URI template: its pattern, function and definition."""

    pattern: re.Pattern[str]
    fn: Callable[..., Any]
    mime_type: str | None
    definition: dict[str, Any]


@dataclass(slots=True)
class Prompt:
    """A registered prompt: its function, required arguments and definition."""

    fn: Callable[..., Any]
    required: tuple[str, ...]
    definition: dict[str, Any]




def called_tool(
    tools: Mapping[str, Tool], params: dict[str, Any]
) -> tuple[Tool, dict[str, Any]]:
    """The tool a ``tools/call`` names and its arguments, or the JSON-RPC error for them."""
    name = params.get("name")
    tool = tools.get(name) if isinstance(name, str) else None
    if tool is None:
        raise RPCError(INVALID_PARAMS, f"Unknown tool: {name!r}")
    arguments = params.get("arguments") or {}
    if not isinstance(arguments, dict):
        raise RPCError(INVALID_PARAMS, "tools/call arguments must be an object")
    return tool, arguments


def task_support(tool: Tool) -> str:
    execution = tool.definition.get("execution")
    value = execution.get("taskSupport") if isinstance(execution, dict) else None
    return value if value in ("required", "optional") else "forbidden"


def _type_hints(fn: Callable[..., Any]) -> dict[str, Any]:
    try:
        return typing.get_type_hints(fn)
    except Exception:  # unresolvable string annotations: fall back to the raw ones
        return dict(getattr(fn, "__annotations__", {}))


def _schema_for(annotation: Any) -> dict[str, Any]:
    """A JSON Schema for one parameter annotation (empty when unknown)."""
    if isinstance(annotation, str):
        parts = [p.strip() for p in annotation.split("|") if p.strip() != "None"]
        base = parts[0].split("[", 1)[0].rsplit(".", 1)[-1] if len(parts) == 1 else ""
        name = _JSON_TYPE_NAMES.get(base)
        return {"type": name} if name else {}
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _schema_for(args[0]) if len(args) == 1 else {}
    if origin is Literal:
        return {"enum": list(typing.get_args(annotation))}
    json_type = _JSON_TYPES.get(origin or annotation)
    return {"type": json_type} if json_type else {}


def _is_context(name: str, annotation: Any) -> bool:
    if name == "ctx" or annotation is ToolContext:
        return True
    if isinstance(annotation, str):
        return "ToolContext" in annotation
    return ToolContext in typing.get_args(annotation)


def _plain_params(fn: Callable[..., Any]) -> Iterator[inspect.Parameter]:
    for param in inspect.signature(fn).parameters.values():
        if param.kind not in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            yield param


def _input_schema(fn: Callable[..., Any]) -> tuple[dict[str, Any], str | None]:
    """The tool's input schema from its signature, and the name of its context parameter."""
    hints = _type_hints(fn)
    properties: dict[str, Any] = {}
    required: list[str] = []
    ctx_param = None
    for param in _plain_params(fn):
        annotation = hints.get(param.name, param.annotation)
        if _is_context(param.name, annotation):
            ctx_param = param.name
            continue
        properties[param.name] = (
            {} if annotation is inspect.Parameter.empty else _schema_for(annotation)
        )
        if param.default is inspect.Parameter.empty:
            required.append(param.name)
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema, ctx_param


def _description_of(fn: Callable[..., Any], given: str | None) -> str | None:
    if given is not None:
        return given
    doc = inspect.getdoc(fn)
    return doc.split("\n\n", 1)[0].strip() if doc else None


def with_optional(out: dict[str, Any], **optional: Any) -> dict[str, Any]:
    out.update((key, value) for key, value in optional.items() if value is not None)
    return out


def _compile_template(uri_template: str) -> re.Pattern[str]:
    pieces = _TEMPLATE_VAR.split(uri_template)
    regex = []
    for i, piece in enumerate(pieces):
        if i % 2:
            regex.append(f"(?P<{piece}>[^/?#]+)")
        elif "{" in piece or "}" in piece:
            raise ValueError(f"only simple {{var}} templates are supported: {uri_template!r}")
        else:
            regex.append(re.escape(piece))
    return re.compile("".join(regex))


async def resolve(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


def tool_result(value: Any, structured: bool) -> dict[str, Any]:
    """Map a tool function's return value to a ``CallToolResult``."""
    if isinstance(value, dict) and "content" in value:
        return value
    if isinstance(value, str):
        return {"content": [text_block(value)]}
    if isinstance(value, bytes | bytearray):
        data = base64.b64encode(value).decode("ascii")
        return {"content": [{"type": "image", "data": data, "mimeType": "image/png"}]}
    if value is None and not structured:
        return {"content": []}
    if structured or isinstance(value, dict):
        return {"content": [text_block(dumps(value))], "structuredContent": value}
    return {"content": [text_block(dumps(value))]}


def error_result(exc: Exception) -> dict[str, Any]:
    return {"content": [text_block(str(exc) or type(exc).__name__)], "isError": True}


def prompt_messages(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, str):
        return [{"role": "user", "content": text_block(value)}]
    messages = []
    for item in value:
        if isinstance(item, dict):
            messages.append(item)
        else:
            role, text = item
            messages.append({"role": role, "content": text_block(text)})
    return messages


class ServerRegistry:
    """What a server offers: tools, static resources, URI templates, prompts and a
    completion handler, each registered from a Python function."""

    def __init__(self) -> None:
        self._tools: dict[str, Tool] = {}
        self._resources: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
        self._templates: list[Template] = []
        self._prompts: dict[str, Prompt] = {}
        self._completion: Callable[..., Any] | None = None

    @overload
    def tool(
        self,
        fn: _F,
        *,
        name: str | None = None,
        description: str | None = None,
        input_schema: dict[str, Any] | None = None,
        output_schema: dict[str, Any] | None = None,
        annotations: dict[str, Any] | None = None,
        title: str | None = None,
        task_support: Literal["required", "optional", "forbidden"] | None = None,
    ) -> _F: ...

    @overload
    def tool(
        self,
        fn: None = None,
        *,
        name: str | None = None,
        description: str | None = None,
        input_schema: dict[str, Any] | None = None,
        output_schema: dict[str, Any] | None = None,
        annotations: dict[str, Any] | None = None,
        title: str | None = None,
        task_support: Literal["required", "optional", "forbidden"] | None = None,
    ) -> Callable[[_F], _F]: ...

    def tool(
        self,
        fn: _F | None = None,
        *,
        name: str | None = None,
        description: str | None = None,
        input_schema: dict[str, Any] | None = None,
        output_schema: dict[str, Any] | None = None,
        annotations: dict[str, Any] | None = None,
        title: str | None = None,
        task_support: Literal["required", "optional", "forbidden"] | None = None,
    ) -> _F | Callable[[_F], _F]:
        """Register a sync or async function as a tool (decorator, with or without arguments).

        ``tools/call`` passes ``arguments`` as keyword arguments. The input schema comes
        from the signature unless given. Return values: ``str`` → a text block; ``dict``
        (any JSON with ``output_schema``) → ``structuredContent`` plus its JSON as text; a
        dict with ``"content"`` → used as the result; ``bytes`` → a PNG image block; other
        JSON → its text; an exception → ``isError`` result with its message.

        ``task_support`` sets ``execution.taskSupport`` (2025-11-25 tasks): the tool may
        (``"optional"``) or must (``"required"``) be called as a task; see
        :mod:`mcp_async.testing.tasks`.
        """

        def register(func: _F) -> _F:
            schema, ctx_param = _input_schema(func)
            tool_name = name or func.__name__
            definition = with_optional(
                {"name": tool_name},
                title=title,
                description=_description_of(func, description),
            )
            definition["inputSchema"] = input_schema if input_schema is not None else schema
            with_optional(definition, outputSchema=output_schema, annotations=annotations)
            if task_support is not None:
                definition["execution"] = {"taskSupport": task_support}
            self._tools[tool_name] = Tool(func, ctx_param, output_schema is not None, definition)
            return func

        return register(fn) if fn is not None else register

    def resource(
        self,
        uri: str,
        *,
        name: str | None = None,
        text: str | None = None,
        blob: bytes | None = None,
        mime_type: str | None = None,
        description: str | None = None,
    ) -> None:
        """Add a static resource with ``text`` or ``blob`` content (empty text if neither)."""
        if text is not None and blob is not None:
            raise ValueError("a resource has text or blob content, not both")
        content = with_optional({"uri": uri}, mimeType=mime_type)
        if blob is not None:
            content["blob"] = base64.b64encode(blob).decode("ascii")
        else:
            content["text"] = text or ""
        definition = with_optional(
            {"uri": uri, "name": name or uri.rstrip("/").rsplit("/", 1)[-1] or uri},
            description=description,
            mimeType=mime_type,
        )
        self._resources[uri] = (definition, content)

    def resource_template(
        self,
        uri_template: str,
        fn: Callable[..., Any],
        *,
        name: str,
        mime_type: str | None = None,
        description: str | None = None,
    ) -> None:
        """Add a template such as ``demo://users/{id}``; ``fn(**vars)`` returns its text.

        Only simple ``{var}`` expressions are supported; a variable matches one path
        segment and is percent-decoded. ``fn`` may be async and may return ``bytes``.
        """
        definition = with_optional(
            {"uriTemplate": uri_template, "name": name},
            description=description,
            mimeType=mime_type,
        )
        self._templates.append(
            Template(_compile_template(uri_template), fn, mime_type, definition)
        )

    @overload
    def prompt(self, fn: _F, *, name: str | None = None, description: str | None = None) -> _F: ...

    @overload
    def prompt(
        self, fn: None = None, *, name: str | None = None, description: str | None = None
    ) -> Callable[[_F], _F]: ...

    def prompt(
        self, fn: _F | None = None, *, name: str | None = None, description: str | None = None
    ) -> _F | Callable[[_F], _F]:
        """Register a prompt: ``fn(**arguments)`` returns a str or a list of ``(role, text)``.

        Its arguments come from the signature (required = no default).
        """

        def register(func: _F) -> _F:
            params = list(_plain_params(func))
            required = tuple(p.name for p in params if p.default is inspect.Parameter.empty)
            arguments = [{"name": p.name, "required": p.name in required} for p in params]
            prompt_name = name or func.__name__
            definition = with_optional(
                {"name": prompt_name}, description=_description_of(func, description)
            )
            definition["arguments"] = arguments
            self._prompts[prompt_name] = Prompt(func, required, definition)
            return func

        return register(fn) if fn is not None else register

    def completion(self, fn: _F) -> _F:
        """Register the ``completion/complete`` handler: ``fn(ref, argument, context)`` → values."""
        self._completion = fn
        return fn
