"""The tool methods of :class:`~mcp_async.AsyncMCPClient`: listing tools (into the shared
:class:`~.catalogue.ToolCatalogue`), calling one or many, exporting their schemas,
starting a task.

:class:`ToolMethods` is a base of the facade (:mod:`.async_client`), which owns the
session, the settings and the paging these methods use.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from typing import TYPE_CHECKING, Any, Literal, overload

from .._config import TimeoutLike, to_timeout
from .._exceptions import ConfigError
from ..features import tasks as _tasks
from ..features.cache import CacheMode
from ..protocol.models import CallToolResult, InputRequiredResult, ListToolsPage, Tool
from ..session.dispatch import ProgressCallback
from ..transports.options import RequestOptions
from .arguments import check_max_total, check_retry, hints_idempotent, tool_options
from .facade_parts import FacadeParts
from .tool_call import run_tool_call, tool_params

if TYPE_CHECKING:
    from collections.abc import AsyncIterable, Iterable

    from ..features.batch import BatchResult, CallLike, OutcomeStream, ProgressOption
    from ..policies.retry import RetryPolicy
    from .catalogue import ToolCatalogue

__all__ = ["ToolMethods"]


class ToolMethods(FacadeParts):
    """The ``tools/*`` methods of :class:`~mcp_async.AsyncMCPClient`, with tasks and the
    bounded fan-out of tool calls."""

    __slots__ = ()

    if TYPE_CHECKING:
        # What the facade provides besides FacadeParts (mcp_async.client.async_client).
        trust_idempotent_hint: bool
        validate_output: bool
        _catalogue: ToolCatalogue

    async def list_tools_page(
        self, cursor: str | None = None, *, cache: CacheMode = "use"
    ) -> ListToolsPage:
        """One page of ``tools/list``.

        Over HTTP in the 2026-07-28 era, a tool whose ``x-mcp-header`` annotations
        break the spec's rules is left out (with a warning), as the spec requires.
        ``cache``: ``"use"``, ``"refresh"`` or ``"bypass"`` the response cache
        (docs/caching.md), as for every list method, :meth:`read_resource` and
        :meth:`discover`.
        """
        page = self._tools_page(await self._page("tools/list", cursor, cache))
        self._catalogue.remember(page.tools, replace=False)
        return page

    async def list_tools(
        self, *, max_pages: int | None = None, cache: CacheMode = "use"
    ) -> list[Tool]:
        """All tools, walking every page (see :meth:`list_tools_page` on dropped tools)."""
        tools = await self._walk(
            "tools/list", self._tools_page, lambda p: p.tools, lambda p: p.next_cursor,
            max_pages, cache,
        )
        self._catalogue.remember(tools, replace=True)
        return tools

    def _tools_page(self, raw: Mapping[str, Any]) -> ListToolsPage:
        return self._catalogue.page(self._mcp(), raw)

    async def _tools_changed(self, params: dict[str, Any]) -> None:
        # A method of the client, as before the catalogue had its own module: the
        # dispatcher holding it ties the client and its transport into one cycle, which
        # the collector finalizes together (an unclosed stdio client's server is killed
        # when the client is collected, even if a warning record keeps the client).
        await self._catalogue.forget(params)

    async def _tool(self, name: str) -> Tool | None:
        """The tool's definition from the shared catalogue, fetched once for all callers."""
        return await self._catalogue.tool(name, self.list_tools)

    async def tool_schemas(self, format: str = "openai") -> list[dict[str, Any]]:
        """The server's tools as plain dicts for a model API: ``"openai"`` (function
        tools), ``"anthropic"`` (``input_schema``) or ``"mcp"``. No SDK is imported."""
        from ..features.schemas import export_tools

        return export_tools(((tool.name, tool) for tool in await self.list_tools()), format)

    @overload
    async def call_tool(
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
        allow_input_required: Literal[False] = False,
        input_responses: Mapping[str, Any] | None = None,
        request_state: str | None = None,
    ) -> CallToolResult: ...

    @overload
    async def call_tool(
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
        allow_input_required: Literal[True],
        input_responses: Mapping[str, Any] | None = None,
        request_state: str | None = None,
    ) -> CallToolResult | InputRequiredResult: ...

    async def call_tool(
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
        """Call a tool and return its :class:`~mcp_async.models.CallToolResult`.

        A tool-level failure (``isError: true``) is returned, not raised, unless
        ``raise_on_error`` is set (then :class:`~mcp_async.ToolError`). A ``-32602``
        error for a tool the server's tool list does not have raises
        :class:`~mcp_async.UnknownToolError` (a :class:`~mcp_async.JSONRPCError`). With
        ``validate_output`` (default: the client's setting), ``structuredContent`` is
        checked against the tool's ``outputSchema`` from a shared, once-fetched tool list.
        ``idempotent=True`` lets a retry policy re-send the call after a dropped response.
        ``reset_timeout_on_progress``, ``max_total_timeout`` and ``retry`` work as in
        :meth:`request`.

        In the 2026-07-28 era a server that needs input (elicitation, sampling, roots)
        answers with an ``InputRequiredResult``; the call answers it through the
        client's handlers and goes on, round after round (see docs/two-way.md). With
        ``allow_input_required=True`` the interim
        :class:`~mcp_async.models.InputRequiredResult` is returned instead; resume it
        later with ``input_responses=`` and ``request_state=``. Over HTTP, arguments
        annotated ``x-mcp-header`` in the tool's schema (from the last
        :meth:`list_tools`) are also sent as ``Mcp-Param-*`` headers.
        """
        params = tool_params(name, arguments, meta, input_responses, request_state)
        # Arguments are checked before anything connects.
        if max_total_timeout is not None:
            check_max_total(max_total_timeout)
        call_timeout = None if timeout is None else to_timeout(timeout, self.timeout)
        if not self._mcp().connected:  # connecting counts against the call's timeout
            call_timeout, max_total_timeout = await self._mcp().connect_for_call(
                "tools/call", call_timeout, reset_timeout_on_progress, max_total_timeout)
        if not idempotent and self.trust_idempotent_hint:
            idempotent = hints_idempotent(await self._tool(name))
        if retry is None and not allow_input_required:
            options = tool_options(name)  # the common call: one value per tool name
        else:
            options = RequestOptions(
                mcp_name=name, retry=check_retry(retry),
                allow_input_required=allow_input_required,
            )
        return await run_tool_call(
            self._mcp(), self._catalogue, self.list_tools, self._refresh_tools, name, params,
            timeout=call_timeout, headers=headers, progress=progress, idempotent=idempotent,
            reset_timeout_on_progress=reset_timeout_on_progress,
            max_total_timeout=max_total_timeout, options=options,
            allow_input_required=allow_input_required, raise_on_error=raise_on_error,
            validate=validate_output if validate_output is not None else self.validate_output,
        )

    def _refresh_tools(self) -> Awaitable[list[Tool]]:
        return self.list_tools(cache="refresh")

    async def start_task(
        self,
        name: str,
        arguments: Mapping[str, Any] | None = None,
        *,
        ttl: int | None = None,
        timeout: TimeoutLike = None,
        progress: ProgressCallback | None = None,
        meta: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> _tasks.TaskHandle:
        """Start tool ``name`` as a task and return its :class:`~mcp_async.TaskHandle`
        (``status()``, ``wait()``, ``cancel()``, ``async for`` status changes).

        ``ttl`` asks the server to keep the task that many milliseconds (2025-11-25);
        ``timeout`` bounds the creating request only; ``progress`` gets the task's
        progress notifications for its whole life. Raises
        :class:`~mcp_async.TaskNotSupportedError` when the server offers no tasks or
        (2025-11-25) the tool forbids them. See docs/tasks.md.
        """
        if not isinstance(name, str) or not name:
            raise ConfigError("tool name must be a non-empty string")
        if arguments is not None and not isinstance(arguments, Mapping):
            raise ConfigError(f"arguments must be a mapping, got {type(arguments).__name__}")
        params: dict[str, Any] = {"name": name, "arguments": dict(arguments or {})}
        if meta is not None:
            params["_meta"] = dict(meta)
        return await _tasks.create(
            self._mcp(), params, ttl=ttl, timeout=timeout, headers=headers,
            progress=progress,
        )

    # -- bounded fan-out (see mcp_async.features.batch) ----------------------------------
    async def call_tools(
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
        """Call many tools, at most ``concurrency`` at once; one outcome per call, in order.

        ``calls`` holds :class:`~mcp_async.ToolCall` objects, ``(name, arguments)``
        tuples or tool names (any iterable or async iterable, read lazily). Each
        :class:`~mcp_async.Outcome` has the result or the exception; a tool's
        ``isError`` result is a value unless ``raise_on_error``. With ``fail_fast`` the
        first failure cancels the rest and raises :class:`~mcp_async.BatchError` naming
        the item. ``progress`` is a ``progress(done, total)`` function called after
        each call, or ``True`` for a ready progress bar drawn by tqdm or rich, whichever
        is installed (``pip install 'mcp-async[progress]'``; ``"tqdm"`` or ``"rich"``
        picks one; a terminal or a notebook).
        """
        from ..features.batch import gather_bounded, tool_caller

        self._mcp()
        caller = tool_caller(
            self, timeout=timeout, raise_on_error=raise_on_error, idempotent=idempotent,
            retry=retry,
        )
        return await gather_bounded(
            calls, caller, concurrency=concurrency, fail_fast=fail_fast, progress=progress
        )

    def stream_calls(
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
    ) -> OutcomeStream[CallToolResult]:
        """Like :meth:`call_tools`, but ``async for index, outcome in ...`` as calls finish.

        Memory stays proportional to ``concurrency`` however many calls there are. Use
        ``async with client.stream_calls(...) as stream:`` to cancel what is still
        running if the loop is left early.
        """
        from ..features.batch import stream_bounded, tool_caller

        self._mcp()
        caller = tool_caller(
            self, timeout=timeout, raise_on_error=raise_on_error, idempotent=idempotent,
            retry=retry,
        )
        return stream_bounded(
            calls, caller, concurrency=concurrency, fail_fast=fail_fast, progress=progress
        )
