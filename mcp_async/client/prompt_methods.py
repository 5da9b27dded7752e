"""The prompt and completion methods of :class:`~mcp_async.AsyncMCPClient`: listing
prompts, rendering one, and ``completion/complete``.

:class:`PromptMethods` is a base of the facade (:mod:`.async_client`), which owns the
session, the settings and the paging these methods use.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, overload

from .._config import TimeoutLike
from ..features.cache import CacheMode
from ..protocol.models import (
    Completion,
    GetPromptResult,
    InputRequiredResult,
    ListPromptsPage,
    Prompt,
)
from .arguments import add_input, completion_params, input_options, prompt_params
from .facade_parts import FacadeParts

__all__ = ["PromptMethods"]


class PromptMethods(FacadeParts):
    """The ``prompts/*`` and ``completion/complete`` methods of
    :class:`~mcp_async.AsyncMCPClient`."""

    __slots__ = ()

    async def list_prompts_page(
        self, cursor: str | None = None, *, cache: CacheMode = "use"
    ) -> ListPromptsPage:
        """One page of ``prompts/list``."""
        return ListPromptsPage.from_dict(await self._page("prompts/list", cursor, cache))

    async def list_prompts(
        self, *, max_pages: int | None = None, cache: CacheMode = "use"
    ) -> list[Prompt]:
        """All prompts, walking every page."""
        return await self._walk(
            "prompts/list", ListPromptsPage.from_dict, lambda p: p.prompts,
            lambda p: p.next_cursor, max_pages, cache,
        )

    @overload
    async def get_prompt(
        self, name: str, arguments: Mapping[str, str] | None = None, *,
        timeout: TimeoutLike = None, allow_input_required: Literal[False] = False,
        input_responses: Mapping[str, Any] | None = None, request_state: str | None = None,
    ) -> GetPromptResult: ...

    @overload
    async def get_prompt(
        self, name: str, arguments: Mapping[str, str] | None = None, *,
        timeout: TimeoutLike = None, allow_input_required: Literal[True],
        input_responses: Mapping[str, Any] | None = None, request_state: str | None = None,
    ) -> GetPromptResult | InputRequiredResult: ...

    async def get_prompt(
        self,
        name: str,
        arguments: Mapping[str, str] | None = None,
        *,
        timeout: TimeoutLike = None,
        allow_input_required: bool = False,
        input_responses: Mapping[str, Any] | None = None,
        request_state: str | None = None,
    ) -> GetPromptResult | InputRequiredResult:
        """Render a prompt; argument values must be strings (``timeout`` and input
        rounds as in :meth:`call_tool`)."""
        params = prompt_params(name, arguments)
        if input_responses is not None or request_state is not None:
            add_input(params, input_responses, request_state)
        # Connecting counts against the call's timeout.
        timeout = await self._mcp().connect_within("prompts/get", self._call_timeout(timeout))
        raw = await self._request(
            "prompts/get", params, timeout=timeout, headers=None, progress=None,
            idempotent=True, reset_timeout_on_progress=False, max_total_timeout=None,
            options=input_options(allow_input_required),
        )
        if allow_input_required and raw.get("resultType") == "input_required":
            return InputRequiredResult.from_dict(raw)
        return GetPromptResult.from_dict(raw)

    async def complete(
        self,
        ref: Mapping[str, Any],
        argument: Mapping[str, str] | tuple[str, str],
        context: Mapping[str, str] | None = None,
    ) -> Completion:
        """Ask for completions of ``argument`` for a prompt or resource-template ``ref``.

        ``ref`` is ``{"type": "ref/prompt", "name": ...}`` or
        ``{"type": "ref/resource", "uri": ...}``; ``argument`` is ``{"name", "value"}`` or
        a ``(name, value)`` pair; ``context`` maps already-chosen argument names to values.
        """
        params = completion_params(ref, argument, context)
        return Completion.from_result(
            await self.request("completion/complete", params, idempotent=True)
        )
