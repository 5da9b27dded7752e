"""The four model APIs this package speaks, and the tool-name rules of each."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from typing import Any, Literal, TypeAlias

from .._exceptions import ConfigError

__all__ = ["API_NAMES", "Api", "check_api", "model_names", "name_pattern", "plain"]

#: ``"openai"`` (Chat Completions), ``"openai-responses"`` (Responses),
#: ``"anthropic"`` (Messages) or ``"gemini"`` (Gemini ``generateContent``).
Api: TypeAlias = Literal["openai", "openai-responses", "anthropic", "gemini"]
API_NAMES: tuple[Api, ...] = ("openai", "openai-responses", "anthropic", "gemini")

# OpenAI (both APIs) and Anthropic: 1 to 64 of [A-Za-z0-9_-]. Gemini: starts with a
# letter or "_", then [A-Za-z0-9_.:-], at most 64 in all.
_OPENAI_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
_GEMINI_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.:-]{0,63}")
_OPENAI_BAD = re.compile(r"[^A-Za-z0-9_-]")
_GEMINI_BAD = re.compile(r"[^A-Za-z0-9_.:-]")
_MAX = 64
_HASH = 8


def check_api(api: object) -> Api:
    """Return ``api`` if it is one of :data:`API_NAMES`, else raise :class:`ConfigError`."""
    for known in API_NAMES:
        if api == known:
            return known
    raise ConfigError(f"api must be one of {', '.join(API_NAMES)}; got {api!r}")


def name_pattern(api: Api) -> re.Pattern[str]:
    """The regular expression a tool name must match in full for ``api``."""
    return _GEMINI_NAME if api == "gemini" else _OPENAI_NAME


def _digest(name: str, salt: int) -> str:
    data = name if not salt else f"{name}\x00{salt}"
    return hashlib.blake2s(data.encode("utf-8", "surrogatepass"), digest_size=4).hexdigest()


def _sanitise(name: str, api: Api) -> str:
    bad = _GEMINI_BAD if api == "gemini" else _OPENAI_BAD
    cleaned = bad.sub("_", name) or "_"
    first = cleaned[0]
    if api == "gemini" and not (first == "_" or (first.isascii() and first.isalpha())):
        cleaned = f"_{cleaned}"
    if len(cleaned) > _MAX:
        cleaned = f"{cleaned[:_MAX - _HASH - 1]}_{_digest(name, 0)}"
    return cleaned


def model_names(names: Iterable[str], api: Api) -> list[str]:
    """One name per MCP (or group) tool name that ``api`` accepts, unique, in order.

    A name that already fits the API's rules is kept. Another has each character the
    API does not allow replaced by ``_`` (Gemini: a leading ``_`` added when it does not
    start with a letter or ``_``); one over 64 characters keeps a prefix plus a hash of
    the full name; a name that would then collide with an earlier one gets a hash too.
    Deterministic: the same names give the same result.
    """
    pattern = name_pattern(api)
    wanted = list(names)
    kept = {name for name in wanted if pattern.fullmatch(name)}
    taken: set[str] = set()
    out: list[str] = []
    for name in wanted:
        candidate = name if name in kept and name not in taken else _sanitise(name, api)
        salt = 0
        while candidate in taken or (candidate != name and candidate in kept):
            salt += 1
            candidate = f"{candidate[:_MAX - _HASH - 1]}_{_digest(name, salt)}"
        taken.add(candidate)
        out.append(candidate)
    return out


def plain(value: Any) -> Any:
    """``value`` as plain JSON-like data: SDK objects through ``model_dump()``,
    mappings as dicts, lists and tuples as lists; anything else unchanged."""
    if isinstance(value, dict):
        return value
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        try:
            dumped = dump(mode="json", exclude_none=True, by_alias=True)
        except TypeError:  # a model_dump() without those options
            dumped = dump()
        return dumped
    if isinstance(value, Mapping):
        return dict(value)
    return value
