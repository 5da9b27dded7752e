# Methods derived with @_blocking have a docstring for a body (see _blocking).
# mypy: disable-error-code="empty-body"
"""The MCP methods of the blocking client, derived from :class:`~mcp_async.AsyncMCPClient`'s.

:class:`BlockingMethods` is the part of :class:`~mcp_async.client.blocking.MCPClient`
that mirrors the async client's MCP methods; the client itself (:mod:`.blocking`) owns
the loop thread, opening and closing, and the facts and settings it reads through.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterable, Awaitable, Callable, Coroutine, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast, overload

from .._config import TimeoutLike
from ..protocol.models import (
    CallToolResult,
    Completion,
    DiscoverResult,
    GetPromptResult,
    InitializeResult,
    InputRequiredResult,
    ListPromptsPage,
    ListResourcesPage,
    ListResourceTemplatesPage,
    ListToolsPage,
    Prompt,
    ReadResourceResult,
    Resource,
    ResourceTemplate,
    Tool,
)
from .async_client import AsyncMCPClient

if TYPE_CHECKING:
    from ..features.batch import BatchResult, CallLike, ProgressOption
    from ..features.cache import CacheMode
    from ..policies.retry import RetryPolicy
    from ..session.dispatch import ProgressCallback

__all__ = ["BlockingMethods"]

_T = TypeVar("_T")
_F = TypeVar("_F", bound=Callable[..., Any])


def _blocking(stub: _F) -> _F:
    """The blocking form of the :class:`~mcp_async.AsyncMCPClient` coroutine method of
    the same name: ``stub`` gives the signature and the docstring (its body is not run),
    and every call runs the async method with the same arguments on the client's loop.
    Deriving the body means no argument can be accepted here and then not passed on."""
    name = stub.__name__

    @functools.wraps(stub)
    def call(self: BlockingMethods, /, *args: Any, **kwargs: Any) -> Any:
        return self.run(getattr(self._aclient, name)(*args, **kwargs), what=name)

    return cast(_F, call)


class BlockingMethods:
    """The blocking forms of the async client's MCP methods (the base of
    :class:`~mcp_async.client.blocking.MCPClient`, which sets ``_aclient``)."""

    _aclient: AsyncMCPClient

    if TYPE_CHECKING:
        # MCPClient.run: runs a coroutine on the client's loop thread.
        def run(self, coro: Coroutine[Any, Any, _T], *, what: str = "run") -> _T: ...

    # The methods marked @_blocking are derived: the body is the async method of the same
    # name, called with the same arguments on the client's loop. Only the signature and
    # the docstring are written here (tests/client/test_sync_parity.py checks that they match
    # AsyncMCPClient's).

    # -- MCP: handshake and escape hatches ----------------------------------------------
    @_blocking
    def initialize(self) -> InitializeResult:
        """Run the MCP handshake (once) and return its result."""

    @_blocking
    def discover(self, *, cache: CacheMode = "use") -> DiscoverResult:
        """``server/discover`` (MCP 2026-07-28); see :meth:`AsyncMCPClient.discover`."""

    @_blocking
    def ping(self, *, timeout: TimeoutLike = None) -> None:
        """Check the server is alive (``ping``)."""

    @_blocking
    def request(
        self,
        method: str,
        params: Mapping[str, Any] | None = None,
        *,
        timeout: TimeoutLike = None,
        headers: Mapping[str, str] | None = None,
        progress: ProgressCallback | None = None,
        idempotent: bool = False,
        reset_timeout_on_progress: bool = False,
        max_total_timeout: float | None = None,
        retry: RetryPolicy | bool | None = None,
    ) -> dict[str, Any]:
        """Send any JSON-RPC request and return its raw ``result``; see
        :meth:`AsyncMCPClient.request`."""

    @_blocking
    def notify(self, method: str, params: Mapping[str, Any] | None = None) -> None:
        """Send any JSON-RPC notification (after the handshake)."""

    def add_notification_handler(
        self, method: str, handler: Callable[[dict[str, Any]], Awaitable[None] | None]
    ) -> None:
        """Also call ``handler(params)`` for every server notification ``method``; it runs
        in the client's loop thread (see :meth:`AsyncMCPClient.add_notification_handler`)."""
        self._aclient.add_notification_handler(method, handler)

    @_blocking
    def notify_roots_changed(self) -> None:
        """Tell the server the roots changed (``notifications/roots/list_changed``)."""

    @_blocking
    def send_request(
        self,
        endpoint: str,
        data: Any,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: TimeoutLike = None,
        retry: RetryPolicy | bool | None = None,
    ) -> Any:
        """POST ``data`` as JSON to ``{url}/{endpoint}``; see
        :meth:`AsyncMCPClient.send_request`."""

    # -- tools -------------------------------------------------------------------------
    @_blocking
    def list_tools_page(
        self, cursor: str | None = None, *, cache: CacheMode = "use"
    ) -> ListToolsPage:
        """One page of ``tools/list``."""

    @_blocking
    def list_tools(
        self, *, max_pages: int | None = None, cache: CacheMode = "use"
    ) -> list[Tool]:
        """All tools, walking every page."""

    @_blocking
    def tool_schemas(self, format: str = "openai") -> list[dict[str, Any]]:
        """The server's tools as plain dicts for a model API; see
        :meth:`AsyncMCPClient.tool_schemas`."""

    @overload
    def call_tool(
        self, name: str, arguments: Mapping[str, Any] | None = None, *,
        timeout: TimeoutLike = None, progress: ProgressCallback | None = None,
        meta: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None,
        raise_on_error: bool = False, validate_output: bool | None = None,
        idempotent: bool = False, reset_timeout_on_progress: bool = False,
        max_total_timeout: float | None = None, retry: RetryPolicy | bool | None = None,
        allow_input_required: Literal[False] = False,
        input_responses: Mapping[str, Any] | None = None, request_state: str | None = None,
    ) -> CallToolResult: ...

    @overload
    def call_tool(
        self, name: str, arguments: Mapping[str, Any] | None = None, *,
        timeout: TimeoutLike = None, progress: ProgressCallback | None = None,
        meta: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None,
        raise_on_error: bool = False, validate_output: bool | None = None,
        idempotent: bool = False, reset_timeout_on_progress: bool = False,
        max_total_timeout: float | None = None, retry: RetryPolicy | bool | None = None,
        allow_input_required: Literal[True],
        input_responses: Mapping[str, Any] | None = None, request_state: str | None = None,
    ) -> CallToolResult | InputRequiredResult: ...

    @_blocking
    def call_tool(
        self,
        name: str,
        arguments: Mapping[str, Any] | None = None,
        *,
        timeout: TimeoutLike = None,
        progress: ProgressCallback | None = None,
        meta: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        raise_on_error: bool = False,
        validate_output: bool | None = None,
        idempotent: bool = False,
        reset_timeout_on_progress: bool = False,
        max_total_timeout: float | None = None,
        retry: RetryPolicy | bool | None = None,
        allow_input_required: bool = False,
        input_responses: Mapping[str, Any] | None = None,
        request_state: str | None = None,
    ) -> CallToolResult | InputRequiredResult:
        """Call a tool and return its result; see :meth:`AsyncMCPClient.call_tool`."""

    # -- resources ---------------------------------------------------------------------
    @_blocking
    def list_resources_page(
        self, cursor: str | None = None, *, cache: CacheMode = "use"
    ) -> ListResourcesPage:
        """One page of ``resources/list``."""

    @_blocking
    def list_resources(
        self, *, max_pages: int | None = None, cache: CacheMode = "use"
    ) -> list[Resource]:
        """All resources, walking every page."""

    @_blocking
    def list_resource_templates_page(
        self, cursor: str | None = None, *, cache: CacheMode = "use"
    ) -> ListResourceTemplatesPage:
        """One page of ``resources/templates/list``."""

    @_blocking
    def list_resource_templates(
        self, *, max_pages: int | None = None, cache: CacheMode = "use"
    ) -> list[ResourceTemplate]:
        """All resource templates, walking every page."""

    @overload
    def read_resource(
        self, uri: str, *, timeout: TimeoutLike = None,
        allow_input_required: Literal[False] = False,
        input_responses: Mapping[str, Any] | None = None, request_state: str | None = None,
        cache: CacheMode = "use",
    ) -> ReadResourceResult: ...

    @overload
    def read_resource(
        self, uri: str, *, timeout: TimeoutLike = None,
        allow_input_required: Literal[True],
        input_responses: Mapping[str, Any] | None = None, request_state: str | None = None,
        cache: CacheMode = "use",
    ) -> ReadResourceResult | InputRequiredResult: ...

    @_blocking
    def read_resource(
        self,
        uri: str,
        *,
        timeout: TimeoutLike = None,
        allow_input_required: bool = False,
        input_responses: Mapping[str, Any] | None = None,
        request_state: str | None = None,
        cache: CacheMode = "use",
    ) -> ReadResourceResult | InputRequiredResult:
        """Read a resource by URI; input rounds and ``cache`` as in
        :meth:`AsyncMCPClient.read_resource`."""

    @_blocking
    def subscribe_resource(self, uri: str) -> None:
        """Ask for ``notifications/resources/updated`` about ``uri``."""

    @_blocking
    def unsubscribe_resource(self, uri: str) -> None:
        """Stop updates about ``uri``."""

    # -- prompts, completion, logging ---------------------------------------------------
    @_blocking
    def list_prompts_page(
        self, cursor: str | None = None, *, cache: CacheMode = "use"
    ) -> ListPromptsPage:
        """One page of ``prompts/list``."""

    @_blocking
    def list_prompts(
        self, *, max_pages: int | None = None, cache: CacheMode = "use"
    ) -> list[Prompt]:
        """All prompts, walking every page."""

    @overload
    def get_prompt(
        self, name: str, arguments: Mapping[str, str] | None = None, *,
        timeout: TimeoutLike = None, allow_input_required: Literal[False] = False,
        input_responses: Mapping[str, Any] | None = None, request_state: str | None = None,
    ) -> GetPromptResult: ...

    @overload
    def get_prompt(
        self, name: str, arguments: Mapping[str, str] | None = None, *,
        timeout: TimeoutLike = None, allow_input_required: Literal[True],
        input_responses: Mapping[str, Any] | None = None, request_state: str | None = None,
    ) -> GetPromptResult | InputRequiredResult: ...

    @_blocking
    def get_prompt(
        self,
        name: str,
        arguments: Mapping[str, str] | None = None,
        *,
        timeout: TimeoutLike = None,
        allow_input_required: bool = False,
        input_responses: Mapping[str, Any] | None = None,
        request_state: str | None = None,
    ) -> GetPromptResult | InputRequiredResult:
        """Render a prompt; argument values must be strings (input rounds as in
        :meth:`AsyncMCPClient.get_prompt`)."""

    @_blocking
    def complete(
        self,
        ref: Mapping[str, Any],
        argument: Mapping[str, str] | tuple[str, str],
        context: Mapping[str, str] | None = None,
    ) -> Completion:
        """Ask for completions; see :meth:`AsyncMCPClient.complete`."""

    @_blocking
    def set_logging_level(self, level: str) -> None:
        """Ask the server to send log messages at ``level`` and above."""

    # -- bounded fan-out ---------------------------------------------------------------
    @_blocking
    def call_tools(
        self,
        calls: Iterable[CallLike] | AsyncIterable[CallLike],
        *,
        concurrency: int = 16,
        fail_fast: bool = False,
        progress: ProgressOption = None,
        timeout: TimeoutLike = None,
        raise_on_error: bool = False,
        idempotent: bool = False,
        retry: RetryPolicy | bool | None = None,
    ) -> BatchResult[CallToolResult]:
        """Call many tools, at most ``concurrency`` at once, on the client's loop; one
        outcome per call, in order (see :meth:`AsyncMCPClient.call_tools`). ``calls`` is
        read in the loop thread, and ``progress(done, total)`` runs there."""

    @_blocking
    def send_requests(
        self,
        requests: Iterable[tuple[str, Any]] | AsyncIterable[tuple[str, Any]],
        *,
        concurrency: int = 16,
        fail_fast: bool = False,
        progress: ProgressOption = None,
        timeout: TimeoutLike = None,
        headers: Mapping[str, str] | None = None,
        retry: RetryPolicy | bool | None = None,
    ) -> BatchResult[Any]:
        """:meth:`send_request` for many ``(endpoint, data)`` pairs, ``concurrency`` at once."""
