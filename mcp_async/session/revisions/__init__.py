"""One object per protocol revision: everything that differs between eras.

:class:`Revision` (in :mod:`.base`) is the interface; each era is one module:
:mod:`.handshake` (``initialize``, 2024-11-05 to 2025-11-25) and :mod:`.stateless_2026`
(MCP 2026-07-28). :func:`for_version` picks the revision of a known version; the
``protocol="auto"`` probe (:func:`mcp_async.session.era.negotiate`) returns one.

Adding a revision is adding one module with a ``VERSIONS`` tuple and a class that
implements :class:`Revision`, and listing it in :data:`REVISIONS` (newest first).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from ...protocol.models import DiscoverResult
from . import handshake, stateless_2026
from .base import ClientFacts, Revision, Send

__all__ = ["REVISIONS", "ClientFacts", "Revision", "Send", "for_version", "speaks"]

#: How to make the revision of a version: ``(facts, version, discovered)``.
Make = Callable[[ClientFacts, str, "DiscoverResult | None"], Revision]


def _stateless_2026(facts: ClientFacts, version: str, found: DiscoverResult | None) -> Revision:
    return stateless_2026.Stateless2026(facts, version, found)


def _handshake(facts: ClientFacts, version: str, found: DiscoverResult | None) -> Revision:
    return handshake.Handshake(facts, version)


#: The revisions the client speaks, newest first: their versions and how to make one.
REVISIONS: Final[tuple[tuple[tuple[str, ...], Make], ...]] = (
    (stateless_2026.VERSIONS, _stateless_2026),
    (handshake.VERSIONS, _handshake),
)


def speaks(version: object) -> bool:
    """Whether ``version`` is one the client speaks, in any revision."""
    return any(version in versions for versions, _ in REVISIONS)


def for_version(
    facts: ClientFacts, version: str, discovered: DiscoverResult | None = None
) -> Revision:
    """The revision speaking ``version`` (a handshake version: the one offered)."""
    for versions, make in REVISIONS:
        if version in versions:
            return make(facts, version, discovered)
    raise ValueError(f"no revision speaks MCP {version!r}")
