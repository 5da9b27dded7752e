"""The client's policies, assembled: the HTTP hook pipeline and the message-policy chains.

A client's ``metrics``, ``retry``, ``rate_limit``, ``auth`` and ``hooks=`` arguments make
one :class:`HookPlan`. Over HTTP the hooks form an HTTP pipeline (:class:`HTTPPipeline`),
while metrics and a :class:`~mcp_async.RetryPolicy` also wrap each MCP request message;
over a message transport (stdio, memory) every policy acts on messages.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._exceptions import ConfigError
from ..policies.base import MessagePolicy
from ..transports.http.base import Handler, HTTPRequest, HTTPResponse, HTTPTransport
from ..transports.http.hooks import Hook, build_pipeline

if TYPE_CHECKING:
    from ..policies.retry import RetryPolicy

__all__ = ["HTTPPipeline", "HookPlan"]


@dataclass(frozen=True, slots=True)
class HookPlan:
    """The client's policies in their order: metrics, retry, rate limit, auth, then
    ``hooks=`` (first = outermost)."""

    #: Every policy, outermost first.
    hooks: tuple[Hook, ...]
    #: The client's retry: its own, or the stand-in that honours per-call ``retry=``.
    retry: Hook
    #: The stand-in, when the client has no retry policy of its own.
    retry_stand_in: Hook | None
    #: The policies that also wrap each MCP request message over HTTP (metrics, retry).
    message_level: tuple[MessagePolicy, ...]

    @classmethod
    def build(
        cls,
        *,
        metrics: Hook | None,
        retry: Hook | None,
        rate_limit: Hook | None,
        auth: str | Hook | None,
        hooks: Sequence[Hook],
    ) -> HookPlan:
        """Check the policy arguments (``ConfigError``) and order them; a string
        ``auth`` is a bearer token."""
        # Without a policy of its own the client still honours per-call ``retry=``
        # options, through a stand-in in a second message chain used only by such calls.
        stand_in: Hook | None = None
        if retry is None:
            from ..policies.retry import per_call_retry

            retry = stand_in = per_call_retry()
        if isinstance(auth, str):
            from ..auth.bearer import BearerAuth

            auth = BearerAuth(auth)
        chain: list[Hook] = []
        for name, hook in (
            ("metrics", metrics), ("retry", retry), ("rate_limit", rate_limit), ("auth", auth),
        ):
            if hook is None:
                continue
            if not isinstance(hook, Hook):
                raise ConfigError(f"{name} must be a mcp_async.Hook, got {type(hook).__name__}")
            chain.append(hook)
        for hook in hooks:
            if not isinstance(hook, Hook):
                raise ConfigError(f"hooks must be mcp_async.Hook objects, got {hook!r}")
            chain.append(hook)
        # On HTTP too, metrics and retry wrap each MCP request message (when they can):
        # they then see JSON-RPC outcomes, time until the response, and give every
        # retried attempt a new id. Retry runs only there; metrics keeps its HTTP form
        # for plain HTTP requests (send_request, DELETE, notifications).
        message_level: list[MessagePolicy] = []
        for hook in (metrics, retry):
            if isinstance(hook, MessagePolicy):
                message_level.append(hook)
        return cls(tuple(chain), retry, stand_in, tuple(message_level))

    def retries_messages(self) -> bool:
        """Whether the client's retry is a :class:`~mcp_async.RetryPolicy` (or the
        stand-in for per-call options), which runs in the message chain only; a retry
        hook of your own stays in the HTTP pipeline."""
        from ..policies.retry import RetryPolicy

        retry = self.retry
        return retry is self.retry_stand_in or isinstance(retry, RetryPolicy)

    def message_chains(
        self, kind: str | None, tracer: MessagePolicy | None
    ) -> tuple[list[MessagePolicy], list[MessagePolicy] | None]:
        """The engine's message chain, and the chain for calls with a ``retry=`` option
        when the client has no retry policy (else ``None``).

        ``kind`` is the message transport's kind when the client was given one (every
        policy then acts on messages: an HTTP-only hook is a ``ConfigError``), ``None``
        over HTTP. ``tracer`` runs innermost: one span per attempt.
        """
        if kind is not None:
            # Without HTTP, metrics, retry and rate limiting act on each request message.
            for hook in self.hooks:
                if not isinstance(hook, MessagePolicy):
                    raise ConfigError(
                        f"{hook!r} is an HTTP hook; over {kind} only policies with "
                        "around_message (metrics, retry, rate limits) apply"
                    )
            chain: list[Any] = list(self.hooks)
        else:
            chain = list(self.message_level)
        policies = [hook for hook in chain if hook is not self.retry_stand_in]
        retry_option_policies = chain if self.retry_stand_in is not None else None
        if tracer is not None:
            policies = [*policies, tracer]
            if retry_option_policies is not None:
                retry_option_policies = [*retry_option_policies, tracer]
        return policies, retry_option_policies


class HTTPPipeline:
    """The hook pipeline of one open client, down to the HTTP layer."""

    __slots__ = ("_plain_retry", "_plan", "send")

    def __init__(self, plan: HookPlan, http: HTTPTransport, bottom: Handler | None = None) -> None:
        """Attach the hooks to ``http`` and compose them down to ``bottom``
        (``http.send`` unless given)."""
        self._plan = plan
        if bottom is None:
            bottom = http.send
        hooks: Sequence[Hook] = plan.hooks
        for hook in hooks:
            hook.attach(http.send)
        #: The bottom of the pipeline when send_request runs under a retry policy (its
        #: pipeline is built per retried call: few clients ever make one).
        self._plain_retry: Handler | None = None
        if plan.retries_messages():
            # The retry policy is no HTTP hook: it runs in the message chain, and around
            # the hooks below its place for send_request (see send_plain).
            self._plain_retry = bottom
            hooks = [hook for hook in hooks if hook is not plan.retry]
        #: Send one HTTP request through every hook.
        self.send: Handler = build_pipeline(hooks, bottom)

    def send_plain(
        self, request: HTTPRequest, option: RetryPolicy | bool | None
    ) -> Awaitable[HTTPResponse]:
        """Send a plain HTTP request (send_request) through the pipeline, under the
        retry policy that applies to it, at the retry's place in the hook order."""
        bottom = self._plain_retry
        if bottom is None:
            return self.send(request)
        from ..policies.retry import resolve

        plan = self._plan
        policy = resolve(plan.retry, option)
        if policy is None:
            return self.send(request)
        hooks = plan.hooks
        at = hooks.index(plan.retry)
        inner = build_pipeline(hooks[at + 1:], bottom)

        def retrying(request: HTTPRequest) -> Awaitable[HTTPResponse]:
            return policy.run(request, inner)

        return build_pipeline(hooks[:at], retrying)(request)
