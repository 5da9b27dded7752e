"""Content: the blocks of tool results and prompt messages, and the contents of a resource.

Content blocks of a type this client does not know become :class:`UnknownContent` instead of
failing, so servers speaking a newer revision keep working.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Self, TypeAlias

from mcp_async._exceptions import UnexpectedResponseError

from .decoding import b64decode, obj, opt_int, opt_meta, opt_str, req_str, sub
from .display import Annotations, Icon, _annotations, _icons

__all__ = [
    "AudioContent",
    "BlobResourceContents",
    "ContentBlock",
    "EmbeddedResource",
    "ImageContent",
    "ResourceContents",
    "ResourceLink",
    "TextContent",
    "TextResourceContents",
    "UnknownContent",
    "parse_content",
    "parse_resource_contents",
]


@dataclass(frozen=True, slots=True)
class TextResourceContents:
    """Text contents of a resource: ``{uri, mimeType?, text}``."""

    uri: str
    text: str
    mime_type: str | None = None
    meta: dict[str, Any] | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Decode a wire ``TextResourceContents`` object."""
        m = "TextResourceContents"
        d = obj(data, m)
        return cls(
            uri=req_str(d, "uri", m),
            text=req_str(d, "text", m),
            mime_type=opt_str(d, "mimeType", m),
            meta=opt_meta(d, m),
            raw=d,
        )


@dataclass(frozen=True, slots=True)
class BlobResourceContents:
    """Binary contents of a resource: ``{uri, mimeType?, blob}`` with ``blob`` in base64."""

    uri: str
    blob: str
    mime_type: str | None = None
    meta: dict[str, Any] | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Decode a wire ``BlobResourceContents`` object."""
        m = "BlobResourceContents"
        d = obj(data, m)
        return cls(
            uri=req_str(d, "uri", m),
            blob=req_str(d, "blob", m),
            mime_type=opt_str(d, "mimeType", m),
            meta=opt_meta(d, m),
            raw=d,
        )

    def decoded(self) -> bytes:
        """The base64-decoded ``blob``; raises ``UnexpectedResponseError`` if it is not base64."""
        return b64decode(self.blob, "BlobResourceContents", "blob")


ResourceContents: TypeAlias = TextResourceContents | BlobResourceContents


def parse_resource_contents(data: Mapping[str, Any]) -> ResourceContents:
    """Decode resource contents, choosing text or blob by which of the two fields is present."""
    d = obj(data, "ResourceContents")
    if "text" in d:
        return TextResourceContents.from_dict(d)
    if "blob" in d:
        return BlobResourceContents.from_dict(d)
    raise UnexpectedResponseError("ResourceContents: missing required field 'text' or 'blob'")


@dataclass(frozen=True, slots=True)
class TextContent:
    """A text content block: ``{"type": "text", "text": ...}``."""

    type: ClassVar[Literal["text"]] = "text"
    text: str
    annotations: Annotations | None = None
    meta: dict[str, Any] | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Decode a wire ``text`` block."""
        d = obj(data, "TextContent")
        return cls(
            text=req_str(d, "text", "TextContent"),
            annotations=_annotations(d, "TextContent"),
            meta=opt_meta(d, "TextContent"),
            raw=d,
        )


@dataclass(frozen=True, slots=True)
class ImageContent:
    """An image content block: base64 ``data`` plus ``mime_type``."""

    type: ClassVar[Literal["image"]] = "image"
    data: str
    mime_type: str
    annotations: Annotations | None = None
    meta: dict[str, Any] | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Decode a wire ``image`` block."""
        d = obj(data, "ImageContent")
        return cls(
            data=req_str(d, "data", "ImageContent"),
            mime_type=req_str(d, "mimeType", "ImageContent"),
            annotations=_annotations(d, "ImageContent"),
            meta=opt_meta(d, "ImageContent"),
            raw=d,
        )

    def decoded(self) -> bytes:
        """The image bytes; raises ``UnexpectedResponseError`` if ``data`` is not base64."""
        return b64decode(self.data, "ImageContent", "data")


@dataclass(frozen=True, slots=True)
class AudioContent:
    """An audio content block (2025-03-26+): base64 ``data`` plus ``mime_type``."""

    type: ClassVar[Literal["audio"]] = "audio"
    data: str
    mime_type: str
    annotations: Annotations | None = None
    meta: dict[str, Any] | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Decode a wire ``audio`` block."""
        d = obj(data, "AudioContent")
        return cls(
            data=req_str(d, "data", "AudioContent"),
            mime_type=req_str(d, "mimeType", "AudioContent"),
            annotations=_annotations(d, "AudioContent"),
            meta=opt_meta(d, "AudioContent"),
            raw=d,
        )

    def decoded(self) -> bytes:
        """The audio bytes; raises ``UnexpectedResponseError`` if ``data`` is not base64."""
        return b64decode(self.data, "AudioContent", "data")


@dataclass(frozen=True, slots=True)
class ResourceLink:
    """A link to a resource (2025-06-18+); it need not appear in ``resources/list``."""

    type: ClassVar[Literal["resource_link"]] = "resource_link"
    uri: str
    name: str
    title: str | None = None
    description: str | None = None
    mime_type: str | None = None
    size: int | None = None
    annotations: Annotations | None = None
    icons: tuple[Icon, ...] = ()
    meta: dict[str, Any] | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Decode a wire ``resource_link`` block."""
        m = "ResourceLink"
        d = obj(data, m)
        return cls(
            uri=req_str(d, "uri", m),
            name=req_str(d, "name", m),
            title=opt_str(d, "title", m),
            description=opt_str(d, "description", m),
            mime_type=opt_str(d, "mimeType", m),
            size=opt_int(d, "size", m),
            annotations=_annotations(d, m),
            icons=_icons(d, m),
            meta=opt_meta(d, m),
            raw=d,
        )


@dataclass(frozen=True, slots=True)
class EmbeddedResource:
    """A resource embedded in a content block: ``{"type": "resource", "resource": {...}}``."""

    type: ClassVar[Literal["resource"]] = "resource"
    resource: ResourceContents
    annotations: Annotations | None = None
    meta: dict[str, Any] | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Decode a wire ``resource`` block."""
        m = "EmbeddedResource"
        d = obj(data, m)
        return cls(
            resource=sub(d, "resource", m, parse_resource_contents),
            annotations=_annotations(d, m),
            meta=opt_meta(d, m),
            raw=d,
        )


@dataclass(frozen=True, slots=True)
class UnknownContent:
    """A content block of a type this client does not know (e.g. from a newer revision)."""

    type: str
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


def _text_block(
    text: str,
    raw: dict[str, Any],
    _new: Callable[[type[TextContent]], TextContent] = object.__new__,
    _set: tuple[Any, ...] = (TextContent.__dict__["text"].__set__,
                             TextContent.__dict__["annotations"].__set__,
                             TextContent.__dict__["meta"].__set__,
                             TextContent.__dict__["raw"].__set__),
) -> TextContent:
    # A plain text block, built by filling its slots directly: a frozen dataclass's
    # __init__ pays an object.__setattr__ per field, twice this on the hot path.
    block = _new(TextContent)
    _set[0](block, text)
    _set[1](block, None)
    _set[2](block, None)
    _set[3](block, raw)
    return block


ContentBlock: TypeAlias = (
    TextContent | ImageContent | AudioContent | ResourceLink | EmbeddedResource | UnknownContent
)

_CONTENT_PARSERS: dict[str, Callable[[dict[str, Any]], ContentBlock]] = {
    "text": TextContent.from_dict,
    "image": ImageContent.from_dict,
    "audio": AudioContent.from_dict,
    "resource_link": ResourceLink.from_dict,
    "resource": EmbeddedResource.from_dict,
}


def parse_content(block: Mapping[str, Any]) -> ContentBlock:
    """Decode one content block by its ``type``; unknown types give :class:`UnknownContent`."""
    if type(block) is dict and len(block) == 2 and block.get("type") == "text":
        text = block.get("text")
        if type(text) is str:  # the common plain text block, without the general checks
            return _text_block(text, block)
    d = obj(block, "ContentBlock")
    kind = req_str(d, "type", "ContentBlock")
    parser = _CONTENT_PARSERS.get(kind)
    if parser is None:
        return UnknownContent(type=kind, raw=d)
    return parser(d)
