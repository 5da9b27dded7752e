"""Message-level policies: metrics, retry and rate limiting around one JSON-RPC request.

The session engine runs these policies around each JSON-RPC request message: an
:class:`Exchange` goes through ``around_message`` of each, outermost first, and the
innermost step sends the message and waits for its reply. Metrics and retry run here on
every transport (so a retried attempt gets a new id, and metrics see JSON-RPC outcomes
and the time until the response); rate limiting runs here on transports without HTTP.
On HTTP the same objects are also hooks of the HTTP pipeline, for plain HTTP requests
(``send_request``, the GET stream, DELETE, notifications) and, for the rate limiter, to
read statuses and headers; a request message already handled here is marked
``extensions["message_policies"]`` and passed through by them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

__all__ = ["Exchange", "MessagePolicy", "NextStep", "build_chain"]


@dataclass(slots=True)
class Exchange:
    """One request on its way through the message-level policies.

    ``method`` is the JSON-RPC method, ``url`` names the server (its URL, or
    ``stdio:<name>``),
    and ``extensions`` carries the same per-request facts as on HTTP:
    ``"idempotent"``, ``"mcp_method"``, ``"mcp_name"``, ``"retry"``, ``"attempt"`` and
    ``"rate_limit_wait"``.
    """

    method: str
    url: str
    extensions: dict[str, Any] = field(default_factory=dict)
    #: What the innermost step sends; opaque to policies.
    payload: Any = None
    #: The JSON-RPC reply (``Response`` or ``ErrorResponse``) once it arrived.
    reply: Any = None


NextStep = Callable[[Exchange], Awaitable[None]]


@runtime_checkable
class MessagePolicy(Protocol):
    """A policy that can wrap a request message (see the module docstring)."""

    async def around_message(self, exchange: Exchange, call_next: NextStep) -> None:
        """Run ``call_next`` (the rest of the chain) zero or more times."""


def build_chain(policies: Iterable[MessagePolicy], send: NextStep) -> NextStep:
    """Compose ``policies`` (first = outermost) around ``send``."""
    step = send
    for policy in reversed(list(policies)):
        step = _wrap(policy, step)
    return step


def _wrap(policy: MessagePolicy, inner: NextStep) -> NextStep:
    around = policy.around_message

    def step(exchange: Exchange) -> Awaitable[None]:
        return around(exchange, inner)

    return step
