"""Hooks and the pipeline that runs them around every HTTP request.

A :class:`Hook` may override any of three awaitable methods:

* ``on_request(request)`` — change the outgoing request (headers, timeout, ...);
* ``around(request, call_next)`` — wrap the rest of the chain (retry, rate limiting,
  re-authentication): call ``await call_next(request)`` zero or more times;
* ``on_response(request, response)`` — observe or act on the response (its body unread).

For one hook they run in that order: ``on_request``, then ``around``, then
``on_response``. Hooks run outermost first, in this fixed order::

    metrics (plain HTTP) → rate_limit → auth → hooks=(h1, h2, ...) → transport

They run once per HTTP request, for what needs HTTP. Retry is no hook: it runs in the
message policies above the transports (:mod:`mcp_async.session.policy_chain`), so a
retried request passes through the rate limiter, auth and user hooks again on every
attempt, while metrics see one logical request. The chain is built once, when the
client opens; methods a hook does not override cost nothing per request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from .base import Handler, HTTPRequest, HTTPResponse

__all__ = ["Hook", "build_pipeline", "middleware", "request_hook", "response_hook"]


class Hook:
    """Base class for pipeline hooks; override only what you need.

    Example::

        class TraceHeader(Hook):
            async def on_request(self, request: HTTPRequest) -> None:
                request.headers["X-Trace"] = new_trace_id()
    """

    def attach(self, send: Handler) -> None:
        """Called once when a client opens, with its bare transport ``send`` (no hooks).

        Hooks that make HTTP requests of their own (an OAuth hook talking to an
        authorization server) keep it; the default ignores it.
        """
        return None

    async def on_request(self, request: HTTPRequest) -> None:
        """Called before the request goes further down the chain."""
        return None

    async def around(self, request: HTTPRequest, call_next: Handler) -> HTTPResponse:
        """Wrap the rest of the chain. The default just calls it once."""
        return await call_next(request)

    async def on_response(self, request: HTTPRequest, response: HTTPResponse) -> None:
        """Called with the response (any status) before it goes back up the chain."""
        return None


class _FunctionHook(Hook):
    __slots__ = ("_fn", "_kind")

    def __init__(self, kind: str, fn: Callable[..., Awaitable[object]]) -> None:
        self._kind = kind
        self._fn = fn

    def __repr__(self) -> str:
        return f"<{self._kind} {getattr(self._fn, '__qualname__', self._fn)!r}>"


def request_hook(fn: Callable[[HTTPRequest], Awaitable[None]]) -> Hook:
    """Make a :class:`Hook` from ``async def fn(request)`` run before sending."""
    hook = _FunctionHook("request_hook", fn)

    async def on_request(request: HTTPRequest) -> None:
        await fn(request)

    hook.on_request = on_request  # type: ignore[method-assign]
    return hook


def response_hook(fn: Callable[[HTTPRequest, HTTPResponse], Awaitable[None]]) -> Hook:
    """Make a :class:`Hook` from ``async def fn(request, response)`` run on every response."""
    hook = _FunctionHook("response_hook", fn)

    async def on_response(request: HTTPRequest, response: HTTPResponse) -> None:
        await fn(request, response)

    hook.on_response = on_response  # type: ignore[method-assign]
    return hook


def middleware(fn: Callable[[HTTPRequest, Handler], Awaitable[HTTPResponse]]) -> Hook:
    """Make a :class:`Hook` from ``async def fn(request, call_next) -> response``."""
    hook = _FunctionHook("middleware", fn)

    async def around(request: HTTPRequest, call_next: Handler) -> HTTPResponse:
        return await fn(request, call_next)

    hook.around = around  # type: ignore[method-assign]
    return hook


def _overrides(hook: Hook, name: str) -> bool:
    method = getattr(hook, name)
    return getattr(method, "__func__", None) is not getattr(Hook, name)


def _wrap(hook: Hook, inner: Handler) -> Handler:
    pre = hook.on_request if _overrides(hook, "on_request") else None
    post = hook.on_response if _overrides(hook, "on_response") else None
    around = hook.around if _overrides(hook, "around") else None
    if pre is None and post is None and around is None:
        return inner

    async def layer(request: HTTPRequest) -> HTTPResponse:
        if pre is not None:
            await pre(request)
        response = await (around(request, inner) if around is not None else inner(request))
        if post is not None:
            try:
                await post(request, response)
            except BaseException:
                response.close()
                raise
        return response

    return layer


def build_pipeline(hooks: Iterable[Hook], send: Handler) -> Handler:
    """Compose ``hooks`` (first = outermost) around ``send`` into one handler."""
    handler = send
    for hook in reversed(list(hooks)):
        handler = _wrap(hook, handler)
    return handler
