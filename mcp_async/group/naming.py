"""Group-wide names for the tools (prompts, resources, templates) of many servers:
``f"{server}{separator}{tool}"`` made to fit ``^[A-Za-z0-9_-]{1,64}$`` (what LLM tool
APIs accept), unique and deterministic."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable

from .._exceptions import ConfigError

__all__ = ["NAME_PATTERN", "NamingFn", "assign_names", "default_name"]

#: What a namespaced name must match (the tool-name rule of the OpenAI and Anthropic APIs).
NAME_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")
_MAX_NAME = 64
_HASH_CHARS = 8  # blake2s, 4 bytes, in hex
_NOT_ALLOWED = re.compile(r"[^A-Za-z0-9_-]")

#: ``naming(server, name) -> str``: a custom namespaced name for a server's tool (or
#: prompt, resource, template). The result must match :data:`NAME_PATTERN`.
NamingFn = Callable[[str, str], str]


def _digest(server: str, name: str, salt: int = 0) -> str:
    data = f"{server}\x00{name}" + (f"\x00{salt}" if salt else "")
    digest = hashlib.blake2s(data.encode("utf-8", "surrogatepass"), digest_size=4)
    return digest.hexdigest()


def default_name(server: str, name: str, separator: str = "__") -> str:
    """``server + separator + name`` with characters outside ``[A-Za-z0-9_-]`` replaced
    by ``_``; over 64 characters, a prefix plus ``_`` and a hash of the full name."""
    joined = _NOT_ALLOWED.sub("_", f"{server}{separator}{name}")
    if len(joined) > _MAX_NAME:
        joined = f"{joined[:_MAX_NAME - _HASH_CHARS - 1]}_{_digest(server, name)}"
    return joined


def assign_names(
    entries: Iterable[tuple[str, str]],
    *,
    separator: str = "__",
    naming: NamingFn | None = None,
) -> list[str]:
    """One unique name per ``(server, name)`` entry, in order; deterministic.

    With the default naming, the first entry keeps :func:`default_name` and a later one
    that would collide gets a prefix plus a hash of its own ``(server, name)`` instead.
    A ``naming`` function's results are checked: a result that does not match
    :data:`NAME_PATTERN`, or that two entries share, raises :class:`ConfigError`.
    """
    taken: dict[str, tuple[str, str]] = {}
    names: list[str] = []
    for server, item in entries:
        if naming is not None:
            name = naming(server, item)
            if not isinstance(name, str) or NAME_PATTERN.fullmatch(name) is None:
                raise ConfigError(
                    f"naming({server!r}, {item!r}) returned {name!r}; names must match "
                    f"{NAME_PATTERN.pattern} (1 to 64 letters, digits, '_' or '-')"
                )
            if name in taken:
                raise ConfigError(
                    f"naming gave the name {name!r} to both {taken[name]} and {(server, item)}"
                )
        else:
            name = default_name(server, item, separator)
            salt = 0
            while name in taken:
                base = name[:_MAX_NAME - _HASH_CHARS - 1]
                name = f"{base}_{_digest(server, item, salt)}"
                salt += 1
        taken[name] = (server, item)
        names.append(name)
    return names
