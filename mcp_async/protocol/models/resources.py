"""Resources: what ``resources/list`` and ``resources/templates/list`` list and what
``resources/read`` returns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Self

from .content import ResourceContents, parse_resource_contents
from .decoding import cursor, list_of, obj, opt_int, opt_meta, opt_str, req_str
from .display import Annotations, Icon, _annotations, _icons

__all__ = [
    "ListResourceTemplatesPage",
    "ListResourcesPage",
    "ReadResourceResult",
    "Resource",
    "ResourceTemplate",
]


@dataclass(frozen=True, slots=True)
class Resource:
    """A resource from ``resources/list``."""

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
        """Decode a wire ``Resource`` object."""
        d = obj(data, "Resource")
        return cls(
            uri=req_str(d, "uri", "Resource"),
            name=req_str(d, "name", "Resource"),
            title=opt_str(d, "title", "Resource"),
            description=opt_str(d, "description", "Resource"),
            mime_type=opt_str(d, "mimeType", "Resource"),
            size=opt_int(d, "size", "Resource"),
            annotations=_annotations(d, "Resource"),
            icons=_icons(d, "Resource"),
            meta=opt_meta(d, "Resource"),
            raw=d,
        )


@dataclass(frozen=True, slots=True)
class ResourceTemplate:
    """A parameterised resource from ``resources/templates/list`` (RFC 6570 ``uri_template``)."""

    uri_template: str
    name: str
    title: str | None = None
    description: str | None = None
    mime_type: str | None = None
    annotations: Annotations | None = None
    icons: tuple[Icon, ...] = ()
    meta: dict[str, Any] | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Decode a wire ``ResourceTemplate`` object."""
        m = "ResourceTemplate"
        d = obj(data, m)
        return cls(
            uri_template=req_str(d, "uriTemplate", m),
            name=req_str(d, "name", m),
            title=opt_str(d, "title", m),
            description=opt_str(d, "description", m),
            mime_type=opt_str(d, "mimeType", m),
            annotations=_annotations(d, m),
            icons=_icons(d, m),
            meta=opt_meta(d, m),
            raw=d,
        )


@dataclass(frozen=True, slots=True)
class ReadResourceResult:
    """The result of ``resources/read``."""

    contents: tuple[ResourceContents, ...]
    meta: dict[str, Any] | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Decode a wire ``ReadResourceResult``."""
        m = "ReadResourceResult"
        d = obj(data, m)
        return cls(
            contents=list_of(d, "contents", m, parse_resource_contents, required=True),
            meta=opt_meta(d, m),
            raw=d,
        )


@dataclass(frozen=True, slots=True)
class ListResourcesPage:
    """One page of ``resources/list``; ``next_cursor`` is ``None`` on the last page."""

    resources: tuple[Resource, ...]
    next_cursor: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Decode a wire ``ListResourcesResult``."""
        m = "ListResourcesPage"
        d = obj(data, m)
        return cls(
            resources=list_of(d, "resources", m, Resource.from_dict, required=True),
            next_cursor=cursor(d, m),
            raw=d,
        )


@dataclass(frozen=True, slots=True)
class ListResourceTemplatesPage:
    """One page of ``resources/templates/list``; ``next_cursor`` is ``None`` on the last page."""

    resource_templates: tuple[ResourceTemplate, ...]
    next_cursor: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Decode a wire ``ListResourceTemplatesResult``."""
        m = "ListResourceTemplatesPage"
        d = obj(data, m)
        return cls(
            resource_templates=list_of(
                d, "resourceTemplates", m, ResourceTemplate.from_dict, required=True
            ),
            next_cursor=cursor(d, m),
            raw=d,
        )
