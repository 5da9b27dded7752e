"""What one request carries through the layers, and what the layers report back.

:class:`RequestOptions` is made once per request by the facade or a feature (or not at
all: :data:`NO_OPTIONS`) and only read below it: the session engine reads the request-id
observer and the input-round settings, the message policies the ``retry`` override and
the tool name, HTTP hooks whatever they like. It is frozen, so no layer can change what
another layer decided.

:class:`AttemptRecord` goes the other way: the facts a lower layer learns while sending
(which try this is, how long the rate limiter held the request) are written into it, and
metrics and tracing read them. It is never part of the options.

Both sit in the transports layer because they cross into the transports (an HTTP request
carries them to the hooks); every layer above may import them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

from ..protocol.jsonrpc import RequestId

__all__ = ["NO_OPTIONS", "AttemptRecord", "RequestOptions", "RetryOverride", "StreamKind"]

#: An HTTP request that opens an event stream: ``"standalone"`` (the GET stream of a
#: session, the legacy SSE stream: it stays open) or ``"resumed"`` (the stream of one
#: request, resumed with ``Last-Event-ID``: it ends with that request).
StreamKind = Literal["standalone", "resumed"]


class RetryOverride(Protocol):
    """A per-call retry policy (a :class:`~mcp_async.RetryPolicy`), as the options carry
    it: opaque below the policies, which know how to run it."""

    @property
    def attempts(self) -> int:
        """Total tries, the first included."""


@dataclass(frozen=True, slots=True)
class RequestOptions:
    """Per-request options, beyond the message itself and its timeout, headers, progress
    callback and idempotency (which the engine's ``request`` takes as arguments).

    Attributes:
        mcp_name: the name the request is about (a tool's, for a ``tools/call``): the
            ``tool`` label of metrics and the tool attribute of traces.
        retry: the per-call ``retry=`` option: ``None`` (the client's policy),
            ``False`` (no retry), ``True`` (the client's policy, or a default one) or a
            policy that replaces the client's.
        on_request_id: called with the request's JSON-RPC id, again with the new id of
            each retried attempt (a listen demultiplexes its stream by it).
        allow_input_required: a 2026-07-28 ``input_required`` result is returned to the
            caller instead of being driven through the client's handlers.
        on_input_round: called with the method each time the engine drives input rounds
            for the request (the response cache never keeps such a result).
        era_probe: set on the ``server/discover`` era probe only: whether an error it
            ended with is the expected fall-back to the handshake (metrics and tracing
            count it apart from real errors).
    """

    mcp_name: str | None = None
    retry: bool | RetryOverride | None = None
    on_request_id: Callable[[RequestId], object] | None = None
    allow_input_required: bool = False
    on_input_round: Callable[[str], object] | None = None
    era_probe: Callable[[BaseException], bool] | None = None


#: The options of a request that has none (shared: the value is frozen).
NO_OPTIONS = RequestOptions()


@dataclass(slots=True)
class AttemptRecord:
    """What the layers below report about one request while it is sent.

    Attributes:
        attempt: the try being made, 1 for the first (set by the retry policy).
        rate_limit_wait: seconds the rate limiter held the request, all tries so far.
    """

    attempt: int = 1
    rate_limit_wait: float = 0.0
