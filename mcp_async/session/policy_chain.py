"""The message-policy chain: metrics, retry, rate limits and tracing around one request.

The session engine runs these policies around each JSON-RPC request, on every transport:
an :class:`Exchange` goes through ``around_message`` of each, outermost first, and the
innermost step sends the message and waits for its reply. So a retried attempt gets a
new id, metrics see JSON-RPC outcomes and the time until the response, and every wait
counts against the call's own timeout. HTTP hooks (auth, headers, the user's hooks) run
below, once per attempt, inside the HTTP transport. The policies themselves are in
:mod:`mcp_async.policies`; this module is the contract the engine and they share.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from ..transports.options import NO_OPTIONS, AttemptRecord, RequestOptions

__all__ = ["Exchange", "MessagePolicy", "NextStep", "build_chain"]


@dataclass(slots=True)
class Exchange:
    """One request on its way through the message-level policies.

    ``method`` is the JSON-RPC method, ``url`` names the server (its URL, or
    ``stdio:<name>``), ``options`` are the caller's (read-only), ``record`` is where the
    policies and the layers below report back (the try number, rate-limit waits).
    ``timeout`` is the call's total timeout in seconds and ``deadline`` the loop time at
    which it ends (``None``: none): waits in the policies count against it.
    """

    method: str
    url: str
    options: RequestOptions = NO_OPTIONS
    idempotent: bool = False
    timeout: float | None = None
    deadline: float | None = None
    record: AttemptRecord = field(default_factory=AttemptRecord)
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
