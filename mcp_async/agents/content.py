"""MCP content → what each model API can carry in a tool result.

================  ==================  ====================  ==================  ==================
MCP content       OpenAI Chat         OpenAI Responses      Anthropic           Gemini
================  ==================  ====================  ==================  ==================
text              text                ``input_text``        ``text`` block      ``response.output``
structured        JSON text (when no  JSON text (when no    JSON text (when no  ``response.output``
                  text block)         text block)           text block)         (the JSON object)
image             text stand-in       ``input_image``       ``image`` block     ``inlineData`` part
                                      (data URL)            (base64)            (png, jpeg, webp)
audio             text stand-in       text stand-in         text stand-in       text stand-in
resource (text)   text, with its URI  text, with its URI    text, with its URI  text, with its URI
resource (blob)   text stand-in       image: ``input_image``; image: ``image``; image or PDF:
                                      PDF: ``input_file``   PDF: ``document``   ``inlineData``
resource link     text line           text line             text line           text line
unknown type      text stand-in       text stand-in         text stand-in       text stand-in
================  ==================  ====================  ==================  ==================

A stand-in is a short bracketed line naming the type, MIME type and size, so the model
knows something was there. All text (stand-ins included) is joined in content order and
cut to the result budget (:mod:`mcp_async.agents.budget`); binary parts follow it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..protocol.models import (
    AudioContent,
    BlobResourceContents,
    CallToolResult,
    EmbeddedResource,
    ImageContent,
    ResourceLink,
    TextContent,
    TextResourceContents,
)
from ._apis import Api
from .budget import ResultBudget, truncate

__all__ = ["RenderedResult", "render_result"]

_IMAGES = {
    "openai": frozenset(),
    "openai-responses": frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"}),
    "anthropic": frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"}),
    "gemini": frozenset({"image/png", "image/jpeg", "image/webp"}),
}
_PDF = "application/pdf"
_PDFS = {"openai": False, "openai-responses": True, "anthropic": True, "gemini": True}


@dataclass(slots=True)
class RenderedResult:
    """One tool result as the model will read it.

    ``text``: all text, in content order, cut to the budget; ``parts``: binary parts in
    the target API's own block shape (``input_image``/``input_file`` items, ``image``/
    ``document`` blocks, or Gemini ``inlineData`` parts); ``structured``: the result's
    ``structuredContent`` when the API takes it as JSON (Gemini) and it fits the budget;
    ``cut``: characters the budget cut (0: nothing); ``total_chars``: the text's full
    length.
    """

    text: str
    parts: list[dict[str, Any]] = field(default_factory=list)
    structured: Any | None = None
    cut: int = 0
    total_chars: int = 0


def _size(data: str) -> str:
    size = len(data) * 3 // 4
    return f"{size:,} bytes"


def _binary(api: Api, mime: str, data: str, name: str | None) -> dict[str, Any] | None:
    """The API's block for base64 ``data`` of ``mime``, or ``None`` if it cannot carry it."""
    if mime in _IMAGES[api]:
        if api == "openai-responses":
            return {"type": "input_image", "image_url": f"data:{mime};base64,{data}"}
        if api == "anthropic":
            return {"type": "image",
                    "source": {"type": "base64", "media_type": mime, "data": data}}
        return {"inlineData": {"mimeType": mime, "data": data}}
    if mime == _PDF and _PDFS[api]:
        if api == "openai-responses":
            return {"type": "input_file", "filename": name or "document.pdf",
                    "file_data": f"data:{mime};base64,{data}"}
        if api == "anthropic":
            return {"type": "document",
                    "source": {"type": "base64", "media_type": mime, "data": data}}
        return {"inlineData": {"mimeType": mime, "data": data}}
    return None


def render_result(
    result: CallToolResult,
    api: Api,
    budget: ResultBudget,
    limit: int | None,
) -> RenderedResult:
    """Map ``result``'s content for ``api`` (see the module's table) within ``limit``
    characters of text (``budget`` gives the head share and the binary size cap)."""
    texts: list[str] = []
    parts: list[dict[str, Any]] = []

    def binary(kind: str, mime: str, data: str, name: str | None) -> None:
        if len(data) > budget.max_binary_chars:
            texts.append(f"[{kind} {mime}, {_size(data)}: too large for the model "
                         "(result budget), not sent]")
            return
        block = _binary(api, mime, data, name)
        if block is None:
            texts.append(f"[{kind} {mime}, {_size(data)}: this model API cannot take "
                         "it in a tool result, not sent]")
        else:
            parts.append(block)

    has_text = False
    for block in result.content:
        if isinstance(block, TextContent):
            texts.append(block.text)
            has_text = True
        elif isinstance(block, ImageContent):
            binary("image", block.mime_type, block.data, None)
        elif isinstance(block, AudioContent):
            texts.append(f"[audio {block.mime_type}, {_size(block.data)}: this model API "
                         "cannot take audio in a tool result, not sent]")
        elif isinstance(block, EmbeddedResource):
            resource = block.resource
            if isinstance(resource, TextResourceContents):
                texts.append(f"[resource {resource.uri}]\n{resource.text}")
                has_text = True
            elif isinstance(resource, BlobResourceContents):
                mime = resource.mime_type or "application/octet-stream"
                name = resource.uri.rsplit("/", 1)[-1] or None
                texts.append(f"[resource {resource.uri}]")
                binary("resource", mime, resource.blob, name)
        elif isinstance(block, ResourceLink):
            details = ", ".join(x for x in (
                block.mime_type, f"{block.size:,} bytes" if block.size is not None else None,
            ) if x)
            label = block.title or block.name
            line = f"[resource link: {label} <{block.uri}>"
            if details:
                line += f" ({details})"
            if block.description:
                line += f": {block.description}"
            texts.append(line + "]")
        else:
            kind = getattr(block, "type", "unknown")
            texts.append(f"[{kind} content: not understood by mcp_async, not sent]")
    structured = result.structured_content
    if structured is not None and not has_text:
        texts.insert(0, json.dumps(structured, ensure_ascii=False, separators=(",", ":")))
    text = "\n".join(texts)
    total = len(text)
    kept_structured = None
    if api == "gemini" and structured is not None:
        encoded = json.dumps(structured, ensure_ascii=False, separators=(",", ":"))
        if limit is None or len(encoded) <= limit:
            kept_structured = structured
    cut_text, cut = truncate(text, limit, budget.head)
    return RenderedResult(cut_text, parts, kept_structured, cut, total)

