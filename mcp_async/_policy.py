"""Message-level policies: metrics, retry and rate limiting around one JSON-RPC request.

On HTTP transports these policies are hooks of the HTTP pipeline, where they also see
statuses and headers (``Retry-After``, rate-limit headers). On transports without HTTP
(stdio, memory) the same policy objects run here instead, around each request message:
an :class:`Exchange` goes through ``around_message`` of each, outermost first, and the
innermost step sends the message and waits for its reply.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

__all__ = ["Exchange", "MessagePolicy", "NextStep", "build_chain"]


@dataclass(slots=True)
class Exchange:
    """One request on its way through the message-level policies.

    ``method`` is the JSON-RPC method, ``url`` names the server (``stdio:<name>``),
    and ``extensions`` carries the same per-request facts as on HTTP:
    ``"idempotent"``, ``"mcp_method"``, ``"mcp_name"``, ``"retry"``, ``"attempt"`` and
    ``"rate_limit_wait"``.
    """

    method: str
    url: str
    extensions: dict[str, Any] = field(default_factory=dict)
    #: What the innermost step sends; opaque to policies.
    payload: Any = None


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
