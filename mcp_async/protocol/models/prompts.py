"""Prompts: what ``prompts/list`` lists and what ``prompts/get`` returns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Self

from .content import ContentBlock, parse_content
from .decoding import cursor, list_of, obj, opt_bool, opt_meta, opt_str, req_str, sub
from .display import Icon, _icons

__all__ = [
    "GetPromptResult",
    "ListPromptsPage",
    "Prompt",
    "PromptArgument",
    "PromptMessage",
]


@dataclass(frozen=True, slots=True)
class PromptArgument:
    """An argument a prompt accepts."""

    name: str
    title: str | None = None
    description: str | None = None
    required: bool = False
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Decode a wire ``PromptArgument`` object."""
        m = "PromptArgument"
        d = obj(data, m)
        return cls(
            name=req_str(d, "name", m),
            title=opt_str(d, "title", m),
            description=opt_str(d, "description", m),
            required=opt_bool(d, "required", m) or False,
            raw=d,
        )


@dataclass(frozen=True, slots=True)
class Prompt:
    """A prompt template from ``prompts/list``."""

    name: str
    title: str | None = None
    description: str | None = None
    arguments: tuple[PromptArgument, ...] = ()
    icons: tuple[Icon, ...] = ()
    meta: dict[str, Any] | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Decode a wire ``Prompt`` object."""
        d = obj(data, "Prompt")
        return cls(
            name=req_str(d, "name", "Prompt"),
            title=opt_str(d, "title", "Prompt"),
            description=opt_str(d, "description", "Prompt"),
            arguments=list_of(d, "arguments", "Prompt", PromptArgument.from_dict),
            icons=_icons(d, "Prompt"),
            meta=opt_meta(d, "Prompt"),
            raw=d,
        )


@dataclass(frozen=True, slots=True)
class PromptMessage:
    """One message of a rendered prompt: ``role`` (``"user"``/``"assistant"``) and a block."""

    role: str
    content: ContentBlock
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Decode a wire ``PromptMessage`` object."""
        d = obj(data, "PromptMessage")
        return cls(
            role=req_str(d, "role", "PromptMessage"),
            content=sub(d, "content", "PromptMessage", parse_content),
            raw=d,
        )


@dataclass(frozen=True, slots=True)
class GetPromptResult:
    """The result of ``prompts/get``."""

    messages: tuple[PromptMessage, ...]
    description: str | None = None
    meta: dict[str, Any] | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Decode a wire ``GetPromptResult``."""
        m = "GetPromptResult"
        d = obj(data, m)
        return cls(
            messages=list_of(d, "messages", m, PromptMessage.from_dict, required=True),
            description=opt_str(d, "description", m),
            meta=opt_meta(d, m),
            raw=d,
        )


@dataclass(frozen=True, slots=True)
class ListPromptsPage:
    """One page of ``prompts/list``; ``next_cursor`` is ``None`` on the last page."""

    prompts: tuple[Prompt, ...]
    next_cursor: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Decode a wire ``ListPromptsResult``."""
        m = "ListPromptsPage"
        d = obj(data, m)
        return cls(
            prompts=list_of(d, "prompts", m, Prompt.from_dict, required=True),
            next_cursor=cursor(d, m),
            raw=d,
        )
