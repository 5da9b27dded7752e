"""Result budgets: how much of one tool result the model gets to read.

A tool can return megabytes; a model's context cannot take them. A
:class:`ResultBudget` caps the text of each result sent to the model at
``max_chars`` characters (default :data:`DEFAULT_MAX_CHARS`), keeping its head and
its tail and putting a marker where the middle was cut::

    first 60% of the budget ...
    [... 48,213 of 60,000 characters cut by mcp_async's result budget ...]
    ... last 40% of the budget

The program keeps the full :class:`~mcp_async.models.CallToolResult` (see
:attr:`mcp_async.agents.ToolExecution.result`); only the message to the model is cut.

A server may ask for a larger (or smaller) budget for one tool with
``_meta["anthropic/maxResultSizeChars"]`` on the tool's definition (the key that Claude
Code honours); the hint is used, capped at ``max_hint_chars`` (default 500,000).
Binary parts (images, audio, PDFs) whose base64 text is over ``max_binary_chars``
are replaced by a short text stand-in.
"""

from __future__ import annotations

from dataclasses import dataclass

from .._exceptions import ConfigError
from ..protocol.models import Tool

__all__ = ["DEFAULT_MAX_CHARS", "META_SIZE_HINT", "ResultBudget", "truncate"]

#: Characters of one result's text the model gets by default (about 6,000 tokens).
DEFAULT_MAX_CHARS = 25_000
#: The ``_meta`` key of a tool definition that asks for a budget for that tool.
META_SIZE_HINT = "anthropic/maxResultSizeChars"


@dataclass(frozen=True, slots=True)
class ResultBudget:
    """A per-result size limit for what the model reads.

    ``max_chars``: characters of text per result (``None``: no limit).
    ``head``: the share of the kept text taken from the start (the rest is the end).
    ``honour_meta``: use a tool's ``_meta["anthropic/maxResultSizeChars"]`` hint,
    capped at ``max_hint_chars``. ``max_binary_chars``: a binary part (base64) longer
    than this is replaced by a text stand-in.
    """

    max_chars: int | None = DEFAULT_MAX_CHARS
    head: float = 0.6
    honour_meta: bool = True
    max_hint_chars: int = 500_000
    max_binary_chars: int = 5_000_000

    def __post_init__(self) -> None:
        if self.max_chars is not None and (
            isinstance(self.max_chars, bool) or not isinstance(self.max_chars, int)
            or self.max_chars < 200
        ):
            raise ConfigError(f"max_chars must be an integer >= 200 or None, "
                              f"got {self.max_chars!r}")
        if not isinstance(self.head, int | float) or not 0.0 <= self.head <= 1.0:
            raise ConfigError(f"head must be a number from 0 to 1, got {self.head!r}")
        for name in ("max_hint_chars", "max_binary_chars"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name} must be a positive integer, got {value!r}")

    def limit_for(self, tool: Tool | None) -> int | None:
        """The character limit for one result of ``tool`` (its ``_meta`` hint honoured)."""
        if self.honour_meta and tool is not None and tool.meta:
            hint = tool.meta.get(META_SIZE_HINT)
            if isinstance(hint, int) and not isinstance(hint, bool) and hint >= 200:
                return min(hint, self.max_hint_chars)
        return self.max_chars


def truncate(text: str, limit: int | None, head: float = 0.6) -> tuple[str, int]:
    """``text`` cut to about ``limit`` characters, keeping its head and tail, and the
    number of characters cut (0 when it fits). The marker names both counts."""
    if limit is None or len(text) <= limit:
        return text, 0
    total = len(text)
    marker_room = 140  # the marker with two 13-digit counts fits
    keep = max(limit - marker_room, 0)
    first = int(keep * head)
    last = keep - first
    cut = total - first - last
    marker = (f"\n[... {cut:,} of {total:,} characters cut by mcp_async's result budget; "
              "the program has the full result ...]\n")
    return f"{text[:first]}{marker}{text[total - last:] if last else ''}", cut
