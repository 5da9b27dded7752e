"""Display hints several families share: :class:`Icon` and :class:`Annotations`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Self

from .decoding import list_of, obj, opt_number, opt_str, opt_sub, req_str, str_tuple

__all__ = [
    "Annotations",
    "Icon",
]


@dataclass(frozen=True, slots=True)
class Icon:
    """An icon for display (2025-11-25+): ``{src, mimeType?, sizes?, theme?}``.

    ``src`` is an ``https:`` or ``data:`` URI supplied by the server: fetch it only with the
    usual precautions (no credentials, beware of SVG scripts).
    """

    src: str
    mime_type: str | None = None
    sizes: tuple[str, ...] = ()
    theme: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Decode a wire ``Icon`` object."""
        d = obj(data, "Icon")
        sizes_raw = d.get("sizes")
        # An early 2025-11-25 draft had ``sizes`` as one space-separated string.
        sizes = (
            tuple(sizes_raw.split())
            if isinstance(sizes_raw, str)
            else str_tuple(d, "sizes", "Icon")
        )
        return cls(
            src=req_str(d, "src", "Icon"),
            mime_type=opt_str(d, "mimeType", "Icon"),
            sizes=sizes,
            theme=opt_str(d, "theme", "Icon"),
            raw=d,
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the wire form."""
        out: dict[str, Any] = {"src": self.src}
        if self.mime_type is not None:
            out["mimeType"] = self.mime_type
        if self.sizes:
            out["sizes"] = list(self.sizes)
        if self.theme is not None:
            out["theme"] = self.theme
        return out


def _icons(d: Mapping[str, Any], model: str) -> tuple[Icon, ...]:
    return list_of(d, "icons", model, Icon.from_dict)


@dataclass(frozen=True, slots=True)
class Annotations:
    """Display hints on content blocks and resources: ``{audience?, priority?, lastModified?}``."""

    audience: tuple[str, ...] = ()
    priority: float | None = None
    last_modified: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Decode a wire ``Annotations`` object."""
        d = obj(data, "Annotations")
        return cls(
            audience=str_tuple(d, "audience", "Annotations"),
            priority=opt_number(d, "priority", "Annotations"),
            last_modified=opt_str(d, "lastModified", "Annotations"),
            raw=d,
        )


def _annotations(d: Mapping[str, Any], model: str) -> Annotations | None:
    return opt_sub(d, "annotations", model, Annotations.from_dict)
