"""The protocol era of a session: how ``protocol=`` is read, what a ``server/discover``
probe's outcome means, and the ``_meta`` envelope every 2026-07-28 request carries.

The engine asks :func:`probe_verdict` what to do with each probe outcome; the rules
(spec "versioning", transports §"era negotiation") are kept here, in one table:

================================================  =====================================
probe outcome                                     verdict
================================================  =====================================
``DiscoverResult`` sharing a modern version        modern, at the newest mutual version
``DiscoverResult`` offering only older versions    handshake (``initialize``)
``-32022`` naming a mutual modern version          probe once more at that version
``-32022`` naming only modern versions we lack     raise: a real incompatibility
any other JSON-RPC error (also in an HTTP 4xx)     handshake
HTTP 400/404/405 without a JSON-RPC error body     handshake
a timeout, on stdio or in memory                   handshake (legacy servers may not answer)
anything else (connection refused, 401, 429, ...)  raise: an outage is not a verdict
================================================  =====================================
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, Literal, NamedTuple

from .._exceptions import (
    AuthError,
    ConfigError,
    HTTPStatusError,
    JSONRPCError,
    RateLimitedError,
    ReadTimeout,
    SessionExpiredError,
    UnexpectedResponseError,
    UnsupportedProtocolVersionError,
)
from ..protocol import modern
from ..protocol.mcp import SUPPORTED_VERSIONS
from ..protocol.models import DiscoverResult

__all__ = ["LEGACY", "Envelope", "ProbeMark", "Verdict", "parse_protocol", "probe_verdict"]

#: What a verdict cache stores for a server that speaks only the handshake era.
LEGACY: Final = "legacy"

#: Statuses with which a server that does not know 2026-07-28 refuses the probe.
_LEGACY_STATUSES: Final = frozenset({400, 404, 405})


def parse_protocol(value: object) -> tuple[Literal["auto", "legacy", "pinned"], str | None]:
    """Read the ``protocol=`` option: ``"auto"``, ``"legacy"`` or a version to use."""
    if value == "auto" or value == LEGACY:
        return value, None
    if isinstance(value, str) and (modern.is_modern(value) or value in SUPPORTED_VERSIONS):
        return "pinned", value
    known = ", ".join(("'auto'", "'legacy'", *(repr(v) for v in
                                              (*modern.MODERN_VERSIONS, *SUPPORTED_VERSIONS))))
    raise ConfigError(f"protocol must be one of {known}; got {value!r}")


class Verdict(NamedTuple):
    """What to do after one probe: ``"modern"`` (adopt ``version``), ``"retry"`` (probe
    again at ``version``) or ``"handshake"`` (run ``initialize``)."""

    action: Literal["modern", "retry", "handshake"]
    version: str | None = None
    discovered: DiscoverResult | None = None


def probe_verdict(
    outcome: Mapping[str, Any] | BaseException, *, probed: str, stream_transport: bool
) -> Verdict:
    """The verdict for a probe at version ``probed`` that gave ``outcome`` (a result
    object or the exception); re-raises ``outcome`` when it is no era verdict."""
    if isinstance(outcome, BaseException):
        return _verdict_for_error(outcome, probed, stream_transport)
    try:
        discovered = DiscoverResult.from_dict(outcome)
    except UnexpectedResponseError:
        return Verdict("handshake")  # not a DiscoverResult: no modern evidence
    version = modern.mutual_modern(discovered.supported_versions)
    if version is None:
        return Verdict("handshake")
    return Verdict("modern", version, discovered)


class ProbeMark(NamedTuple):
    """Marks the probe's request for the message policies (``extensions["era_probe"]``),
    so tracing and metrics can tell the expected fall-back from a real error."""

    version: str
    stream_transport: bool

    def fell_back(self, error: BaseException) -> bool:
        """Whether the probe failing with ``error`` is the era fall-back (the table's
        ``handshake`` or ``retry``), not an outage or an incompatibility."""
        try:
            verdict = probe_verdict(
                error, probed=self.version, stream_transport=self.stream_transport
            )
        except BaseException:  # probe_verdict re-raises what is no era verdict
            return False
        return verdict.action != "modern"


def _verdict_for_error(error: BaseException, probed: str, stream_transport: bool) -> Verdict:
    if isinstance(error, UnsupportedProtocolVersionError):
        supported = error.supported
        mutual = modern.mutual_modern(supported)
        if mutual is not None:
            # Also when it names the very version probed (a transient refusal): the
            # engine probes once more, never in a loop.
            return Verdict("retry", mutual)
        if supported and not modern.speaks_handshake(supported):
            raise error  # a modern-only server with no version in common
        return Verdict("handshake")
    if isinstance(error, JSONRPCError):
        return Verdict("handshake")
    if isinstance(error, RateLimitedError | SessionExpiredError | AuthError):
        raise error
    if isinstance(error, HTTPStatusError) and error.status in _LEGACY_STATUSES:
        return Verdict("handshake")
    if isinstance(error, ReadTimeout) and stream_transport:
        return Verdict("handshake")
    raise error


class Envelope:
    """The ``_meta`` keys every request carries in the stateless era.

    Requests that may come back asking for input (``tools/call``, ``prompts/get``,
    ``resources/read``) declare the client's input capabilities; the others declare
    none, as no server need ask them anything.
    """

    __slots__ = ("_bare", "_full", "log_level", "version")

    def __init__(
        self,
        version: str,
        client_info: Mapping[str, Any],
        capabilities: Mapping[str, Any],
        log_level: str | None = None,
    ) -> None:
        self.version = version
        self.log_level = log_level
        info = dict(client_info)
        self._full = {
            modern.VERSION_META: version,
            modern.CAPABILITIES_META: modern.modern_capabilities(capabilities),
            modern.CLIENT_INFO_META: info,
        }
        self._bare = {
            modern.VERSION_META: version,
            modern.CAPABILITIES_META: {},
            modern.CLIENT_INFO_META: info,
        }
        if log_level is not None:
            self.set_log_level(log_level)

    def set_log_level(self, level: str) -> None:
        """Ask for ``notifications/message`` at ``level`` and above on later requests."""
        self.log_level = level
        self._full[modern.LOG_LEVEL_META] = level
        self._bare[modern.LOG_LEVEL_META] = level

    def stamp(self, method: str, params: Mapping[str, Any] | None) -> dict[str, Any]:
        """``params`` with the envelope merged into ``_meta`` (a new dict; the caller's
        own ``_meta`` keys are kept, the envelope's protocol version wins)."""
        base = self._full if method in modern.INPUT_METHODS else self._bare
        if params is None:
            return {"_meta": base.copy()}
        stamped = dict(params)
        given = params.get("_meta")
        if given:
            meta = {**base, **given}
            meta[modern.VERSION_META] = self.version
            stamped["_meta"] = meta
        else:
            stamped["_meta"] = base.copy()
        return stamped
