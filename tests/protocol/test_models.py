"""Decoding tests for mcp_async.protocol.models, driven by realistic wire payloads."""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

import pytest

from mcp_async._exceptions import ProtocolError, UnexpectedResponseError
from mcp_async.protocol.models import (
    Annotations,
    AudioContent,
    BlobResourceContents,
    CallToolResult,
    Completion,
    EmbeddedResource,
    GetPromptResult,
    Icon,
    ImageContent,
    Implementation,
    InitializeResult,
    ListPromptsPage,
    ListResourcesPage,
    ListResourceTemplatesPage,
    ListToolsPage,
    LoggingMessage,
    ProgressNotification,
    Prompt,
    PromptArgument,
    PromptMessage,
    ReadResourceResult,
    Resource,
    ResourceLink,
    ResourceTemplate,
    Root,
    ServerCapabilities,
    TextContent,
    TextResourceContents,
    Tool,
    ToolAnnotations,
    UnknownContent,
    parse_content,
    parse_resource_contents,
)

PNG_BYTES = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
PNG_B64 = base64.b64encode(PNG_BYTES).decode()
WAV_BYTES = b"RIFF$\x00\x00\x00WAVEfmt "
WAV_B64 = base64.b64encode(WAV_BYTES).decode()

# --------------------------------------------------------------------------- payloads

INITIALIZE_RESULT: dict[str, Any] = {
    "protocolVersion": "2025-11-25",
    "capabilities": {
        "experimental": {"vendor.feature": {}},
        "logging": {},
        "prompts": {"listChanged": False},
        "resources": {"subscribe": True, "listChanged": True},
        "tools": {"listChanged": True},
        "completions": {},
        "tasks": {"list": {}, "cancel": {}, "requests": {"tools": {"call": {}}}},
        "someFutureCapability": {"x": 1},
    },
    "serverInfo": {
        "name": "everything-server",
        "title": "Everything",
        "version": "2.0.1",
        "description": "Exercises every feature",
        "websiteUrl": "https://example.com",
        "icons": [
            {"src": "https://example.com/icon.png", "mimeType": "image/png", "sizes": ["48x48"]}
        ],
    },
    "instructions": "Call `echo` first.",
    "_meta": {"trace": "abc"},
}

TOOLS_PAGE: dict[str, Any] = {
    "tools": [
        {
            "name": "get_weather",
            "title": "Weather",
            "description": "Get current weather for a location",
            "inputSchema": {
                "type": "object",
                "properties": {"location": {"type": "string"}},
                "required": ["location"],
            },
            "outputSchema": {
                "type": "object",
                "properties": {"temperature": {"type": "number"}},
                "required": ["temperature"],
            },
            "annotations": {
                "title": "Weather lookup",
                "readOnlyHint": True,
                "destructiveHint": False,
                "idempotentHint": True,
                "openWorldHint": True,
            },
            "execution": {"taskSupport": "optional"},
            "icons": [{"src": "data:image/svg+xml;base64,PHN2Zz4=", "theme": "dark"}],
            "_meta": {"vendor/x": 1},
        },
        {"name": "echo", "inputSchema": {"type": "object"}},
    ],
    "nextCursor": "eyJwYWdlIjogMn0=",
}

CALL_TOOL_RESULT: dict[str, Any] = {
    "content": [
        {"type": "text", "text": "first", "annotations": {"audience": ["user"], "priority": 0.5}},
        {"type": "image", "data": PNG_B64, "mimeType": "image/png"},
        {"type": "audio", "data": WAV_B64, "mimeType": "audio/wav"},
        {
            "type": "resource_link",
            "uri": "file:///project/README.md",
            "name": "README.md",
            "title": "Read me",
            "description": "Project readme",
            "mimeType": "text/markdown",
            "size": 1024,
        },
        {
            "type": "resource",
            "resource": {"uri": "test://static/1", "mimeType": "text/plain", "text": "embedded"},
        },
        {
            "type": "resource",
            "resource": {"uri": "test://static/2", "mimeType": "image/png", "blob": PNG_B64},
        },
        {"type": "text", "text": "second"},
    ],
    "structuredContent": {"temperature": 22.5},
    "isError": False,
}

# --------------------------------------------------------------------------- lifecycle


def test_initialize_result_full() -> None:
    r = InitializeResult.from_dict(INITIALIZE_RESULT)
    assert r.protocol_version == "2025-11-25"
    assert r.instructions == "Call `echo` first."
    info = r.server_info
    assert (info.name, info.version, info.title) == ("everything-server", "2.0.1", "Everything")
    assert info.description == "Exercises every feature"
    assert info.website_url == "https://example.com"
    assert info.icons == (
        Icon(src="https://example.com/icon.png", mime_type="image/png", sizes=("48x48",)),
    )
    caps = r.capabilities
    assert caps.supports_tools and caps.tools_list_changed
    assert caps.supports_resources and caps.supports_resource_subscribe
    assert caps.resources_list_changed
    assert caps.supports_prompts and not caps.prompts_list_changed
    assert caps.supports_logging and caps.supports_completions
    assert caps.supports_tasks and caps.supports_task_tool_calls
    assert caps.experimental == {"vendor.feature": {}}
    assert caps.raw["someFutureCapability"] == {"x": 1}
    assert r.raw is INITIALIZE_RESULT


def test_initialize_result_minimal_2025_03_26() -> None:
    r = InitializeResult.from_dict(
        {
            "protocolVersion": "2025-03-26",
            "capabilities": {},
            "serverInfo": {"name": "s", "version": "1"},
        }
    )
    assert r.instructions is None
    caps = r.capabilities
    flags = [
        caps.supports_tools,
        caps.supports_resources,
        caps.supports_resource_subscribe,
        caps.supports_prompts,
        caps.supports_logging,
        caps.supports_completions,
        caps.supports_tasks,
        caps.supports_task_tool_calls,
        caps.tools_list_changed,
        caps.resources_list_changed,
        caps.prompts_list_changed,
    ]
    assert not any(flags)
    assert r.server_info == Implementation(name="s", version="1")


def test_capability_flags_need_literal_true() -> None:
    caps = ServerCapabilities.from_dict(
        {"resources": {"subscribe": "yes"}, "tools": {}, "tasks": {}}
    )
    assert caps.supports_resources and not caps.supports_resource_subscribe
    assert caps.supports_tools and not caps.tools_list_changed
    assert caps.supports_tasks and not caps.supports_task_tool_calls


def test_implementation_to_dict_roundtrip() -> None:
    impl = Implementation(
        name="mcp-async",
        version="0.1.0",
        title="MCP Async",
        website_url="https://example.org",
        icons=(Icon(src="https://example.org/i.png", sizes=("16x16", "32x32")),),
    )
    wire = impl.to_dict()
    assert wire == {
        "name": "mcp-async",
        "version": "0.1.0",
        "title": "MCP Async",
        "websiteUrl": "https://example.org",
        "icons": [{"src": "https://example.org/i.png", "sizes": ["16x16", "32x32"]}],
    }
    assert Implementation.from_dict(wire) == impl
    assert Implementation(name="c", version="1").to_dict() == {"name": "c", "version": "1"}


def test_icon_sizes_tolerates_legacy_string() -> None:
    assert Icon.from_dict({"src": "https://x/i.png", "sizes": "48x48 96x96"}).sizes == (
        "48x48",
        "96x96",
    )


# --------------------------------------------------------------------------- tools


def test_list_tools_page() -> None:
    page = ListToolsPage.from_dict(TOOLS_PAGE)
    assert page.next_cursor == "eyJwYWdlIjogMn0="
    weather, echo = page.tools
    assert weather.name == "get_weather"
    assert weather.title == "Weather" and weather.display_name == "Weather"
    assert weather.description == "Get current weather for a location"
    assert weather.input_schema["required"] == ["location"]
    assert (
        weather.output_schema is not None and "temperature" in weather.output_schema["properties"]
    )
    assert weather.annotations == ToolAnnotations(
        title="Weather lookup",
        read_only_hint=True,
        destructive_hint=False,
        idempotent_hint=True,
        open_world_hint=True,
    )
    assert weather.execution == {"taskSupport": "optional"}
    assert weather.icons[0].theme == "dark"
    assert weather.meta == {"vendor/x": 1}
    assert weather.raw is TOOLS_PAGE["tools"][0]

    assert echo == Tool(name="echo", input_schema={"type": "object"})
    assert (echo.description, echo.output_schema, echo.annotations, echo.execution) == (None,) * 4
    assert echo.icons == () and echo.display_name == "echo"


def test_tool_display_name_falls_back_to_annotation_title() -> None:
    tool = Tool.from_dict({"name": "t", "inputSchema": {}, "annotations": {"title": "Pretty"}})
    assert tool.display_name == "Pretty"
    assert tool.annotations is not None and tool.annotations.read_only_hint is None


@pytest.mark.parametrize(
    ("payload", "cursor"),
    [
        ({"tools": []}, None),
        ({"tools": [], "nextCursor": None}, None),
        ({"tools": [], "nextCursor": ""}, None),
        ({"tools": [], "nextCursor": "abc"}, "abc"),
    ],
)
def test_next_cursor(payload: dict[str, Any], cursor: str | None) -> None:
    assert ListToolsPage.from_dict(payload).next_cursor == cursor


# --------------------------------------------------------------------------- content


@pytest.mark.parametrize(
    ("block", "cls", "attrs"),
    [
        ({"type": "text", "text": "hello"}, TextContent, {"text": "hello", "type": "text"}),
        (
            {"type": "image", "data": PNG_B64, "mimeType": "image/png"},
            ImageContent,
            {"data": PNG_B64, "mime_type": "image/png", "type": "image"},
        ),
        (
            {"type": "audio", "data": WAV_B64, "mimeType": "audio/wav"},
            AudioContent,
            {"data": WAV_B64, "mime_type": "audio/wav", "type": "audio"},
        ),
        (
            {"type": "resource_link", "uri": "file:///a.txt", "name": "a.txt", "size": 12},
            ResourceLink,
            {"uri": "file:///a.txt", "name": "a.txt", "size": 12, "type": "resource_link"},
        ),
        (
            {"type": "resource", "resource": {"uri": "u://1", "text": "t"}},
            EmbeddedResource,
            {"resource": TextResourceContents(uri="u://1", text="t"), "type": "resource"},
        ),
        (
            {
                "type": "resource",
                "resource": {"uri": "u://2", "blob": PNG_B64, "mimeType": "image/png"},
            },
            EmbeddedResource,
            {
                "resource": BlobResourceContents(uri="u://2", blob=PNG_B64, mime_type="image/png"),
                "type": "resource",
            },
        ),
        (
            {"type": "tool_use", "id": "1", "name": "x", "input": {}},
            UnknownContent,
            {"type": "tool_use"},
        ),
        ({"type": "hologram", "frames": 3}, UnknownContent, {"type": "hologram"}),
    ],
    ids=[
        "text",
        "image",
        "audio",
        "resource_link",
        "embedded-text",
        "embedded-blob",
        "tool_use",
        "future",
    ],
)
def test_parse_content(block: dict[str, Any], cls: type, attrs: dict[str, Any]) -> None:
    parsed = parse_content(block)
    assert type(parsed) is cls
    for name, value in attrs.items():
        assert getattr(parsed, name) == value
    assert parsed.raw is block


def test_content_annotations_and_meta() -> None:
    block = parse_content(
        {
            "type": "text",
            "text": "x",
            "annotations": {
                "audience": ["user", "assistant"],
                "priority": 1,
                "lastModified": "2025-01-12T15:00:58Z",
            },
            "_meta": {"k": "v"},
        }
    )
    assert isinstance(block, TextContent)
    assert block.annotations == Annotations(
        audience=("user", "assistant"), priority=1.0, last_modified="2025-01-12T15:00:58Z"
    )
    assert block.meta == {"k": "v"}


def test_decoded_bytes() -> None:
    result = CallToolResult.from_dict(CALL_TOOL_RESULT)
    image, audio = result.content[1], result.content[2]
    assert isinstance(image, ImageContent) and image.decoded() == PNG_BYTES
    assert isinstance(audio, AudioContent) and audio.decoded() == WAV_BYTES
    blob = result.content[5]
    assert isinstance(blob, EmbeddedResource) and isinstance(blob.resource, BlobResourceContents)
    assert blob.resource.decoded() == PNG_BYTES
    urlsafe = base64.urlsafe_b64encode(b"\xfb\xff\xfe").decode()
    assert "-" in urlsafe or "_" in urlsafe
    assert ImageContent(data=urlsafe, mime_type="image/png").decoded() == b"\xfb\xff\xfe"


def test_decoded_invalid_base64_is_protocol_error() -> None:
    with pytest.raises(ProtocolError, match=r"ImageContent\.data: invalid base64"):
        ImageContent(data="abc", mime_type="image/png").decoded()


def test_call_tool_result() -> None:
    r = CallToolResult.from_dict(CALL_TOOL_RESULT)
    assert [b.type for b in r.content] == [
        "text",
        "image",
        "audio",
        "resource_link",
        "resource",
        "resource",
        "text",
    ]
    assert r.text == "first\nsecond"
    assert r.structured_content == {"temperature": 22.5}
    assert r.is_error is False
    assert r.meta is None
    assert r.raw is CALL_TOOL_RESULT
    embedded = r.content[4]
    assert isinstance(embedded, EmbeddedResource)
    assert isinstance(embedded.resource, TextResourceContents)
    assert embedded.resource.text == "embedded"
    link = r.content[3]
    assert isinstance(link, ResourceLink)
    assert (link.title, link.description, link.mime_type) == (
        "Read me",
        "Project readme",
        "text/markdown",
    )


@pytest.mark.parametrize(
    ("payload", "is_error", "text"),
    [
        ({"content": []}, False, ""),
        ({"content": [{"type": "text", "text": "boom"}], "isError": True}, True, "boom"),
        ({"content": [{"type": "text", "text": "ok"}], "isError": None}, False, "ok"),
        ({"content": [{"type": "image", "data": PNG_B64, "mimeType": "image/png"}]}, False, ""),
    ],
)
def test_call_tool_result_defaults(payload: dict[str, Any], is_error: bool, text: str) -> None:
    r = CallToolResult.from_dict(payload)
    assert r.is_error is is_error
    assert r.text == text
    assert r.structured_content is None


def test_call_tool_result_structured_content_any_json() -> None:
    assert CallToolResult.from_dict(
        {"content": [], "structuredContent": [1, 2]}
    ).structured_content == [1, 2]


# --------------------------------------------------------------------------- resources


def test_list_resources_page() -> None:
    payload = {
        "resources": [
            {
                "uri": "file:///project/src/main.rs",
                "name": "main.rs",
                "title": "Rust Software Application Main File",
                "description": "Primary application entry point",
                "mimeType": "text/x-rust",
                "size": 2048,
                "annotations": {"audience": ["assistant"], "priority": 0.8},
                "icons": [{"src": "https://example.com/rs.png"}],
                "_meta": {"m": 1},
            },
            {"uri": "test://static/resource/1", "name": "Resource 1"},
        ],
        "nextCursor": "2",
    }
    page = ListResourcesPage.from_dict(payload)
    assert page.next_cursor == "2"
    main, other = page.resources
    assert main.uri == "file:///project/src/main.rs" and main.size == 2048
    assert main.mime_type == "text/x-rust" and main.title is not None
    assert main.annotations is not None and main.annotations.priority == 0.8
    assert main.icons == (Icon(src="https://example.com/rs.png"),)
    assert main.meta == {"m": 1}
    assert other == Resource(uri="test://static/resource/1", name="Resource 1")


def test_list_resource_templates_page() -> None:
    payload = {
        "resourceTemplates": [
            {
                "uriTemplate": "file:///{path}",
                "name": "Project Files",
                "title": "Files",
                "description": "Access files in the project directory",
                "mimeType": "application/octet-stream",
            }
        ]
    }
    page = ListResourceTemplatesPage.from_dict(payload)
    assert page.next_cursor is None
    assert page.resource_templates == (
        ResourceTemplate(
            uri_template="file:///{path}",
            name="Project Files",
            title="Files",
            description="Access files in the project directory",
            mime_type="application/octet-stream",
        ),
    )


def test_read_resource_result() -> None:
    payload = {
        "contents": [
            {"uri": "file:///a.txt", "mimeType": "text/plain", "text": "hello", "_meta": {"x": 1}},
            {"uri": "file:///b.png", "mimeType": "image/png", "blob": PNG_B64},
            {"uri": "file:///empty.txt", "text": ""},
        ]
    }
    r = ReadResourceResult.from_dict(payload)
    text, blob, empty = r.contents
    assert text == TextResourceContents(
        uri="file:///a.txt", text="hello", mime_type="text/plain", meta={"x": 1}
    )
    assert isinstance(blob, BlobResourceContents) and blob.decoded() == PNG_BYTES
    assert isinstance(empty, TextResourceContents) and empty.text == "" and empty.mime_type is None


def test_parse_resource_contents_needs_text_or_blob() -> None:
    with pytest.raises(UnexpectedResponseError, match="'text' or 'blob'"):
        parse_resource_contents({"uri": "file:///x"})


# --------------------------------------------------------------------------- prompts


def test_list_prompts_page() -> None:
    payload = {
        "prompts": [
            {
                "name": "code_review",
                "title": "Request Code Review",
                "description": "Asks the LLM to analyze code quality",
                "arguments": [
                    {"name": "code", "description": "The code to review", "required": True},
                    {"name": "style", "title": "Style"},
                ],
                "icons": [{"src": "https://example.com/p.png"}],
            },
            {"name": "simple_prompt"},
        ],
        "nextCursor": "next",
    }
    page = ListPromptsPage.from_dict(payload)
    assert page.next_cursor == "next"
    review, simple = page.prompts
    assert review.title == "Request Code Review"
    assert review.arguments == (
        PromptArgument(name="code", description="The code to review", required=True),
        PromptArgument(name="style", title="Style"),
    )
    assert review.arguments[1].required is False
    assert len(review.icons) == 1
    assert simple == Prompt(name="simple_prompt")
    assert simple.arguments == ()


def test_get_prompt_result() -> None:
    payload = {
        "description": "Code review prompt",
        "messages": [
            {"role": "user", "content": {"type": "text", "text": "Please review this code"}},
            {
                "role": "assistant",
                "content": {
                    "type": "resource",
                    "resource": {"uri": "file:///x.py", "text": "print(1)"},
                },
            },
            {
                "role": "user",
                "content": {"type": "image", "data": PNG_B64, "mimeType": "image/png"},
            },
        ],
    }
    r = GetPromptResult.from_dict(payload)
    assert r.description == "Code review prompt"
    assert [m.role for m in r.messages] == ["user", "assistant", "user"]
    first = r.messages[0]
    assert first == PromptMessage(role="user", content=TextContent(text="Please review this code"))
    assert isinstance(r.messages[1].content, EmbeddedResource)
    assert isinstance(r.messages[2].content, ImageContent)
    assert GetPromptResult.from_dict({"messages": []}).description is None


# --------------------------------------------------------------------------- completion


@pytest.mark.parametrize(
    ("payload", "values", "total", "has_more"),
    [
        (
            {
                "completion": {
                    "values": ["python", "pytorch", "pyside"],
                    "total": 10,
                    "hasMore": True,
                }
            },
            ("python", "pytorch", "pyside"),
            10,
            True,
        ),
        ({"completion": {"values": []}}, (), None, None),
    ],
)
def test_completion(
    payload: dict[str, Any], values: tuple[str, ...], total: int | None, has_more: bool | None
) -> None:
    c = Completion.from_result(payload)
    assert (c.values, c.total, c.has_more) == (values, total, has_more)
    assert c.raw is payload["completion"]
    assert Completion.from_dict(payload["completion"]) == c


# --------------------------------------------------------------------------- notifications


def test_logging_message() -> None:
    params = {"level": "error", "logger": "database", "data": {"error": "Connection failed"}}
    m = LoggingMessage.from_dict(params)
    assert (m.level, m.logger, m.data) == ("error", "database", {"error": "Connection failed"})
    bare = LoggingMessage.from_dict({"level": "info", "data": None})
    assert bare.logger is None and bare.data is None


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        (
            {"progressToken": "abc123", "progress": 50, "total": 100, "message": "Reticulating..."},
            ("abc123", 50.0, 100.0, "Reticulating..."),
        ),
        ({"progressToken": 7, "progress": 0.25}, (7, 0.25, None, None)),
    ],
)
def test_progress_notification(params: dict[str, Any], expected: tuple[Any, ...]) -> None:
    p = ProgressNotification.from_dict(params)
    assert (p.progress_token, p.progress, p.total, p.message) == expected
    assert isinstance(p.progress, float)


# --------------------------------------------------------------------------- roots


def test_root() -> None:
    assert Root("file:///home/user/project", "Project").to_dict() == {
        "uri": "file:///home/user/project",
        "name": "Project",
    }
    assert Root("file:///tmp").to_dict() == {"uri": "file:///tmp"}
    wire = {"uri": "file:///x", "name": "x", "_meta": {"a": 1}}
    assert Root.from_dict(wire).to_dict() == wire


# --------------------------------------------------------------------------- tolerance


def test_unknown_fields_are_ignored_and_kept_in_raw() -> None:
    payload = {
        "tools": [{"name": "t", "inputSchema": {"type": "object"}, "futureField": [1, 2]}],
        "ttlMs": 5000,
        "cacheScope": "public",
        "resultType": "complete",
    }
    page = ListToolsPage.from_dict(payload)
    assert page.tools[0].raw["futureField"] == [1, 2]
    assert page.raw["ttlMs"] == 5000


def test_null_optional_fields_take_defaults() -> None:
    tool = Tool.from_dict(
        {
            "name": "t",
            "inputSchema": {},
            "description": None,
            "title": None,
            "annotations": None,
            "icons": None,
            "_meta": None,
        }
    )
    assert tool == Tool(name="t", input_schema={})


def test_any_mapping_is_accepted() -> None:
    ro: Mapping[str, Any] = MappingProxyType({"type": "text", "text": "x"})
    block = parse_content(ro)
    assert block == TextContent(text="x")
    assert block.raw == {"type": "text", "text": "x"} and isinstance(block.raw, dict)


def test_integral_float_size_is_accepted() -> None:
    assert Resource.from_dict({"uri": "u://x", "name": "x", "size": 1024.0}).size == 1024


# --------------------------------------------------------------------------- errors

ERROR_CASES: list[tuple[str, Callable[[Any], Any], Any, str]] = [
    (
        "initialize-no-version",
        InitializeResult.from_dict,
        {"capabilities": {}, "serverInfo": {"name": "s", "version": "1"}},
        r"InitializeResult: missing required field 'protocolVersion'",
    ),
    (
        "initialize-no-serverinfo-version",
        InitializeResult.from_dict,
        {"protocolVersion": "2025-06-18", "capabilities": {}, "serverInfo": {"name": "s"}},
        r"InitializeResult\.serverInfo: Implementation: missing required field 'version'",
    ),
    (
        "initialize-caps-not-object",
        InitializeResult.from_dict,
        {
            "protocolVersion": "2025-06-18",
            "capabilities": [],
            "serverInfo": {"name": "s", "version": "1"},
        },
        r"InitializeResult\.capabilities: ServerCapabilities: expected an object, got array",
    ),
    (
        "capability-not-object",
        ServerCapabilities.from_dict,
        {"tools": True},
        r"ServerCapabilities\.tools: expected an object, got boolean",
    ),
    (
        "tools-missing",
        ListToolsPage.from_dict,
        {"nextCursor": "x"},
        r"ListToolsPage: missing required field 'tools'",
    ),
    (
        "tools-not-list",
        ListToolsPage.from_dict,
        {"tools": {"name": "t"}},
        r"ListToolsPage\.tools: expected an array, got object",
    ),
    (
        "tools-null",
        ListToolsPage.from_dict,
        {"tools": None},
        r"ListToolsPage\.tools: expected an array, got null",
    ),
    (
        "tool-name-not-string",
        ListToolsPage.from_dict,
        {"tools": [{"name": 5, "inputSchema": {}}]},
        r"ListToolsPage\.tools\[0\]: Tool\.name: expected a string, got integer",
    ),
    (
        "tool-no-schema",
        ListToolsPage.from_dict,
        {"tools": [{"name": "a", "inputSchema": {}}, {"name": "b"}]},
        r"ListToolsPage\.tools\[1\]: Tool: missing required field 'inputSchema'",
    ),
    (
        "tool-not-object",
        ListToolsPage.from_dict,
        {"tools": ["echo"]},
        r"ListToolsPage\.tools\[0\]: Tool: expected an object, got string",
    ),
    (
        "tool-bad-hint",
        Tool.from_dict,
        {"name": "t", "inputSchema": {}, "annotations": {"readOnlyHint": "yes"}},
        r"Tool\.annotations: ToolAnnotations\.readOnlyHint: expected a boolean, got string",
    ),
    (
        "cursor-not-string",
        ListPromptsPage.from_dict,
        {"prompts": [], "nextCursor": 2},
        r"ListPromptsPage\.nextCursor: expected a string, got integer",
    ),
    (
        "content-missing",
        CallToolResult.from_dict,
        {"isError": False},
        r"CallToolResult: missing required field 'content'",
    ),
    (
        "content-no-type",
        CallToolResult.from_dict,
        {"content": [{"text": "x"}]},
        r"CallToolResult\.content\[0\]: ContentBlock: missing required field 'type'",
    ),
    (
        "text-no-text",
        parse_content,
        {"type": "text"},
        r"TextContent: missing required field 'text'",
    ),
    (
        "image-no-mime",
        parse_content,
        {"type": "image", "data": PNG_B64},
        r"ImageContent: missing required field 'mimeType'",
    ),
    (
        "audio-data-not-string",
        parse_content,
        {"type": "audio", "data": [1], "mimeType": "audio/wav"},
        r"AudioContent\.data: expected a string, got array",
    ),
    (
        "link-no-name",
        parse_content,
        {"type": "resource_link", "uri": "u://x"},
        r"ResourceLink: missing required field 'name'",
    ),
    (
        "embedded-no-resource",
        parse_content,
        {"type": "resource"},
        r"EmbeddedResource: missing required field 'resource'",
    ),
    (
        "embedded-no-uri",
        parse_content,
        {"type": "resource", "resource": {"text": "x"}},
        r"EmbeddedResource\.resource: TextResourceContents: missing required field 'uri'",
    ),
    (
        "is-error-not-bool",
        CallToolResult.from_dict,
        {"content": [], "isError": "true"},
        r"CallToolResult\.isError: expected a boolean, got string",
    ),
    (
        "annotation-priority",
        parse_content,
        {"type": "text", "text": "x", "annotations": {"priority": "high"}},
        r"TextContent\.annotations: Annotations\.priority: expected a number, got string",
    ),
    (
        "resource-size",
        Resource.from_dict,
        {"uri": "u://x", "name": "x", "size": 1.5},
        r"Resource\.size: expected an integer, got number",
    ),
    (
        "template-missing-uri",
        ListResourceTemplatesPage.from_dict,
        {"resourceTemplates": [{"name": "t"}]},
        r"ListResourceTemplatesPage\.resourceTemplates\[0\]: "
        r"ResourceTemplate: missing required field 'uriTemplate'",
    ),
    (
        "read-contents-missing",
        ReadResourceResult.from_dict,
        {},
        r"ReadResourceResult: missing required field 'contents'",
    ),
    (
        "blob-not-string",
        ReadResourceResult.from_dict,
        {"contents": [{"uri": "u://x", "blob": 1}]},
        r"ReadResourceResult\.contents\[0\]: "
        r"BlobResourceContents\.blob: expected a string, got integer",
    ),
    (
        "prompt-arg-no-name",
        ListPromptsPage.from_dict,
        {"prompts": [{"name": "p", "arguments": [{}]}]},
        r"ListPromptsPage\.prompts\[0\]: Prompt\.arguments\[0\]: "
        r"PromptArgument: missing required field 'name'",
    ),
    (
        "prompt-message-no-content",
        GetPromptResult.from_dict,
        {"messages": [{"role": "user"}]},
        r"GetPromptResult\.messages\[0\]: PromptMessage: missing required field 'content'",
    ),
    (
        "completion-missing",
        Completion.from_result,
        {},
        r"CompleteResult: missing required field 'completion'",
    ),
    (
        "completion-value-not-string",
        Completion.from_result,
        {"completion": {"values": ["a", 1]}},
        r"CompleteResult\.completion: Completion\.values\[1\]: expected a string, got integer",
    ),
    (
        "logging-no-data",
        LoggingMessage.from_dict,
        {"level": "info"},
        r"LoggingMessage: missing required field 'data'",
    ),
    (
        "progress-no-token",
        ProgressNotification.from_dict,
        {"progress": 1},
        r"ProgressNotification: missing required field 'progressToken'",
    ),
    (
        "progress-bool-token",
        ProgressNotification.from_dict,
        {"progressToken": True, "progress": 1},
        r"ProgressNotification\.progressToken: expected a string or integer, got boolean",
    ),
    (
        "progress-no-progress",
        ProgressNotification.from_dict,
        {"progressToken": "t"},
        r"ProgressNotification: missing required field 'progress'",
    ),
    (
        "progress-not-number",
        ProgressNotification.from_dict,
        {"progressToken": "t", "progress": "50%"},
        r"ProgressNotification\.progress: expected a number, got string",
    ),
    (
        "icon-no-src",
        Implementation.from_dict,
        {"name": "s", "version": "1", "icons": [{}]},
        r"Implementation\.icons\[0\]: Icon: missing required field 'src'",
    ),
    (
        "not-an-object",
        CallToolResult.from_dict,
        [1, 2],
        r"CallToolResult: expected an object, got array",
    ),
]


@pytest.mark.parametrize(
    ("decode", "payload", "message"),
    [case[1:] for case in ERROR_CASES],
    ids=[case[0] for case in ERROR_CASES],
)
def test_invalid_payloads_raise_protocol_error(
    decode: Callable[[Any], Any], payload: Any, message: str
) -> None:
    with pytest.raises(UnexpectedResponseError, match=f"^{message}$") as info:
        decode(payload)
    assert isinstance(info.value, ProtocolError)


# --------------------------------------------------------------------------- immutability


@pytest.mark.parametrize(
    ("obj", "attr"),
    [
        (TextContent(text="x"), "text"),
        (Tool(name="t", input_schema={}), "name"),
        (CallToolResult(content=()), "is_error"),
        (ListToolsPage(tools=()), "next_cursor"),
        (InitializeResult.from_dict(INITIALIZE_RESULT), "protocol_version"),
        (UnknownContent(type="x"), "type"),
        (Root("file:///x"), "name"),
    ],
)
def test_models_are_frozen(obj: Any, attr: str) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(obj, attr, "changed")
    with pytest.raises((AttributeError, TypeError)):
        obj.not_a_field = 1  # slotted: no __dict__


def test_sequences_are_tuples() -> None:
    r = CallToolResult.from_dict(CALL_TOOL_RESULT)
    assert isinstance(r.content, tuple)
    page = ListToolsPage.from_dict(TOOLS_PAGE)
    assert isinstance(page.tools, tuple) and isinstance(page.tools[0].icons, tuple)


def test_raw_excluded_from_equality_and_repr() -> None:
    a = TextContent.from_dict({"type": "text", "text": "x", "extra": 1})
    b = TextContent.from_dict({"type": "text", "text": "x"})
    assert a == b
    assert "extra" not in repr(a)
    assert hash(a) == hash(b)
