"""Typed, immutable models of the MCP results and notifications a client receives.

Covers the handshake-era revisions 2025-03-26 … 2025-11-25 (and decodes 2024-11-05 payloads,
which are a subset). Every model is a frozen, slotted dataclass with snake_case attributes and a
``from_dict`` classmethod that decodes the wire (camelCase) form.

Decoding rules, shared by every model:

* Unknown fields are ignored; they stay reachable through ``.raw``, the decoded JSON object
  itself (not a copy when a ``dict`` was given: treat it as read-only).
* Optional fields that are absent *or* ``null`` take their default.
* A missing required field, or a field of the wrong JSON type, raises
  :class:`~mcp_async._exceptions.UnexpectedResponseError` (a ``ProtocolError``) whose message
  names the model and the wire field, with the path into lists and nested objects, e.g.
  ``ListToolsPage.tools[2]: Tool.inputSchema: expected an object, got array``.
* Content blocks of a type this client does not know become :class:`UnknownContent` instead of
  failing, so servers speaking a newer revision keep working.

Sequences are tuples. JSON objects that are free-form by design (schemas, capability objects,
``_meta``) are kept as plain dicts.

One module per family: :mod:`.display` (icons, annotations), :mod:`.lifecycle` (initialize,
discover, capabilities), :mod:`.input_requests`, :mod:`.content` (content blocks, resource
contents), :mod:`.tools`, :mod:`.resources`, :mod:`.prompts`, :mod:`.completion`,
:mod:`.notifications` and :mod:`.roots`. Every public name is importable from here.
The typed field reads they share are in :mod:`.decoding`, for any module that decodes wire
objects of its own.
"""

from .completion import Completion
from .content import (
    AudioContent,
    BlobResourceContents,
    ContentBlock,
    EmbeddedResource,
    ImageContent,
    ResourceContents,
    ResourceLink,
    TextContent,
    TextResourceContents,
    UnknownContent,
    parse_content,
    parse_resource_contents,
)
from .display import Annotations, Icon
from .input_requests import InputRequest, InputRequiredResult
from .lifecycle import DiscoverResult, Implementation, InitializeResult, ServerCapabilities
from .notifications import LoggingMessage, ProgressNotification
from .prompts import GetPromptResult, ListPromptsPage, Prompt, PromptArgument, PromptMessage
from .resources import (
    ListResourcesPage,
    ListResourceTemplatesPage,
    ReadResourceResult,
    Resource,
    ResourceTemplate,
)
from .roots import Root
from .tools import CallToolResult, ListToolsPage, Tool, ToolAnnotations

__all__ = [
    "Annotations",
    "AudioContent",
    "BlobResourceContents",
    "CallToolResult",
    "Completion",
    "ContentBlock",
    "DiscoverResult",
    "EmbeddedResource",
    "GetPromptResult",
    "Icon",
    "ImageContent",
    "Implementation",
    "InitializeResult",
    "InputRequest",
    "InputRequiredResult",
    "ListPromptsPage",
    "ListResourceTemplatesPage",
    "ListResourcesPage",
    "ListToolsPage",
    "LoggingMessage",
    "ProgressNotification",
    "Prompt",
    "PromptArgument",
    "PromptMessage",
    "ReadResourceResult",
    "Resource",
    "ResourceContents",
    "ResourceLink",
    "ResourceTemplate",
    "Root",
    "ServerCapabilities",
    "TextContent",
    "TextResourceContents",
    "Tool",
    "ToolAnnotations",
    "UnknownContent",
    "parse_content",
    "parse_resource_contents",
]
