"""Roots: what the client exposes to the server in answer to ``roots/list``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Self

from .decoding import obj, opt_meta, opt_str, req_str

__all__ = [
    "Root",
]


@dataclass(frozen=True, slots=True)
class Root:
    """A root the client exposes to the server (answer to ``roots/list``); ``uri`` is ``file://``."""

    uri: str
    name: str | None = None
    meta: dict[str, Any] | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Decode a wire ``Root`` object."""
        d = obj(data, "Root")
        return cls(
            uri=req_str(d, "uri", "Root"),
            name=opt_str(d, "name", "Root"),
            meta=opt_meta(d, "Root"),
            raw=d,
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the wire form; unset optional fields are omitted."""
        out: dict[str, Any] = {"uri": self.uri}
        if self.name is not None:
            out["name"] = self.name
        if self.meta is not None:
            out["_meta"] = self.meta
        return out
