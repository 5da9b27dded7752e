"""The choice of a session's protocol revision: how ``protocol=`` is read, and the
``protocol="auto"`` probe (:func:`negotiate`), which returns a
:class:`~mcp_async.session.revisions.Revision`.

:func:`probe_verdict` says what to do with each probe outcome; the rules (spec
"versioning", transports §"era negotiation") are kept here, in one table:

================================================  =====================================
probe outcome                                     verdict
================================================  =====================================
``DiscoverResult`` sharing a modern version        modern, at the newest mutual version
``DiscoverResult`` offering only older versions    handshake (``initialize``)
``-32022`` naming a mutual modern version          probe once more at that version
``-32022`` naming only modern versions we lack     raise: a real incompatibility
any other JSON-RPC error (also in an HTTP 4xx)     handshake
``NotModernServerError`` from the transport        handshake
a timeout, on stdio or in memory                   handshake (legacy servers may not answer)
anything else (connection refused, 401, 429, ...)  raise: an outage is not a verdict
================================================  =====================================

Which HTTP statuses mean "not a modern server" is the HTTP transport's rule (400, 404 or
405 without a JSON-RPC error body, see ``transports/http/streamable.py``); it reports
them as :class:`~mcp_async.transports.wire.NotModernServerError`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Literal, NamedTuple

from .._exceptions import (
    AuthError,
    ConfigError,
    JSONRPCError,
    MCPClientError,
    RateLimitedError,
    ReadTimeout,
    SessionExpiredError,
    UnexpectedResponseError,
    UnsupportedProtocolVersionError,
)
from ..protocol import mcp, modern
from ..protocol.models import DiscoverResult
from ..transports.wire import NotModernServerError
from . import revisions
from .revisions import ClientFacts, Revision
from .revisions.handshake import LEGACY
from .revisions.stateless_2026 import Envelope

__all__ = [
    "LEGACY", "ProbeMark", "Verdict", "negotiate", "parse_protocol", "probe_request",
    "probe_verdict",
]


def parse_protocol(value: object) -> tuple[Literal["auto", "legacy", "pinned"], str | None]:
    """Read the ``protocol=`` option: ``"auto"``, ``"legacy"`` or a version to use."""
    if value == "auto" or value == LEGACY:
        return value, None
    if isinstance(value, str) and revisions.speaks(value):
        return "pinned", value
    known = ", ".join(("'auto'", "'legacy'", *(repr(v) for versions, _ in revisions.REVISIONS
                                              for v in versions)))
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
    """Marks the probe's request for the message policies (its :meth:`fell_back` is the
    request options' ``era_probe``), so tracing and metrics can tell the expected
    fall-back from a real error."""

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
    if isinstance(error, NotModernServerError):
        return Verdict("handshake")
    if isinstance(error, ReadTimeout) and stream_transport:
        return Verdict("handshake")
    raise error


def probe_request(facts: ClientFacts, version: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The params and headers of a ``server/discover`` probe at ``version`` (the
    envelope of that version, sent before any revision is in use)."""
    params = Envelope(version, facts.client_info, facts.capabilities).stamp(
        "server/discover", None
    )
    return params, {mcp.PROTOCOL_VERSION_HEADER: version, modern.METHOD_HEADER: "server/discover"}


async def negotiate(
    probe: Callable[[str], Awaitable[dict[str, Any]]],
    start: Callable[[Revision], Awaitable[None]],
    facts: ClientFacts,
    *,
    stream_transport: bool,
) -> Revision:
    """``protocol="auto"``: probe with ``server/discover`` (sent by ``probe`` at a
    version), or fall back to the handshake; returns the revision, started by ``start``."""
    version = modern.MODERN_VERSIONS[0]
    for attempt in range(2):
        outcome: dict[str, Any] | BaseException
        try:
            outcome = await probe(version)
        except (MCPClientError, TimeoutError) as exc:
            outcome = exc
        verdict = probe_verdict(outcome, probed=version, stream_transport=stream_transport)
        if verdict.action == "modern":
            assert verdict.version is not None
            revision = revisions.for_version(facts, verdict.version, verdict.discovered)
            await start(revision)
            return revision
        if verdict.action == "retry" and attempt == 0:
            assert verdict.version is not None
            version = verdict.version
            continue
        if verdict.action == "retry" and isinstance(outcome, BaseException):
            raise outcome  # refused again at a version it lists: the retry is spent
        revision = revisions.for_version(facts, mcp.LATEST_VERSION)
        try:
            await start(revision)
        except UnsupportedProtocolVersionError as exc:
            # The server went modern after all (e.g. a probe that timed out here
            # reached it): probe once more at a version it names.
            mutual = modern.mutual_modern(exc.supported)
            if attempt or mutual is None:
                raise
            version = mutual
            continue
        return revision
    raise UnsupportedProtocolVersionError(
        -32022, "no protocol version in common with the server", None
    )
