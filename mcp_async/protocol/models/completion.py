"""Completion: the suggestions ``completion/complete`` returns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Self

from .decoding import obj, opt_bool, opt_int, str_tuple, sub

__all__ = [
    "Completion",
]


@dataclass(frozen=True, slots=True)
class Completion:
    """Suggestions from ``completion/complete`` (the result's ``completion`` object)."""

    values: tuple[str, ...]
    total: int | None = None
    has_more: bool | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Decode the ``completion`` object itself."""
        d = obj(data, "Completion")
        return cls(
            values=str_tuple(d, "values", "Completion", required=True),
            total=opt_int(d, "total", "Completion"),
            has_more=opt_bool(d, "hasMore", "Completion"),
            raw=d,
        )

    @classmethod
    def from_result(cls, data: Mapping[str, Any]) -> Self:
        """Decode a whole ``CompleteResult`` (``{"completion": {...}}``)."""
        d = obj(data, "CompleteResult")
        return sub(d, "completion", "CompleteResult", cls.from_dict)
