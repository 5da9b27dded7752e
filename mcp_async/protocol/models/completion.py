"""Completion: the suggestions ``completion/complete`` returns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Self

from ._decode import _obj, _opt_bool, _opt_int, _str_tuple, _sub

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
        d = _obj(data, "Completion")
        return cls(
            values=_str_tuple(d, "values", "Completion", required=True),
            total=_opt_int(d, "total", "Completion"),
            has_more=_opt_bool(d, "hasMore", "Completion"),
            raw=d,
        )

    @classmethod
    def from_result(cls, data: Mapping[str, Any]) -> Self:
        """Decode a whole ``CompleteResult`` (``{"completion": {...}}``)."""
        d = _obj(data, "CompleteResult")
        return _sub(d, "completion", "CompleteResult", cls.from_dict)
