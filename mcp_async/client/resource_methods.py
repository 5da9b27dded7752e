"""The resource methods of :class:`~mcp_async.AsyncMCPClient`: listing resources and
templates, reading one, subscribing to updates, and :meth:`ResourceMethods.listen` for
changes on the server in either protocol era.

:class:`ResourceMethods` is a base of the facade (:mod:`.async_client`), which owns the
session, the settings and the paging these methods use.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, overload

from .._config import TimeoutLike
from ..features.cache import CacheMode, check_mode
from ..protocol.models import (
    InputRequiredResult,
    ListResourcesPage,
    ListResourceTemplatesPage,
    ReadResourceResult,
    Resource,
    ResourceTemplate,
)
from ..transports.options import RequestOptions
from .arguments import add_input, check_listen, require_str
from .facade_parts import FacadeParts

if TYPE_CHECKING:
    from ..features.listen import Listening
    from .options import ClientConfig

__all__ = ["ResourceMethods"]


class ResourceMethods(FacadeParts):
    """The ``resources/*`` methods of :class:`~mcp_async.AsyncMCPClient` and
    :meth:`listen`."""

    __slots__ = ()

    if TYPE_CHECKING:
        # What the facade provides besides FacadeParts (mcp_async.client.async_client).
        _config: ClientConfig

        # The facade's slot, declared as a property: mypy refuses a plain attribute
        # assignment in a class whose own __slots__ lack the name.
        @property
        def _push(self) -> bool: ...

        @_push.setter
        def _push(self, value: bool) -> None: ...

        async def _await_push(self) -> None: ...

        async def _require_method(self, method: str) -> None: ...

    async def list_resources_page(
        self, cursor: str | None = None, *, cache: CacheMode = "use"
    ) -> ListResourcesPage:
        """One page of ``resources/list``."""
        return ListResourcesPage.from_dict(await self._page("resources/list", cursor, cache))

    async def list_resources(
        self, *, max_pages: int | None = None, cache: CacheMode = "use"
    ) -> list[Resource]:
        """All resources, walking every page."""
        return await self._walk(
            "resources/list", ListResourcesPage.from_dict, lambda p: p.resources,
            lambda p: p.next_cursor, max_pages, cache,
        )

    async def list_resource_templates_page(
        self, cursor: str | None = None, *, cache: CacheMode = "use"
    ) -> ListResourceTemplatesPage:
        """One page of ``resources/templates/list``."""
        return ListResourceTemplatesPage.from_dict(
            await self._page("resources/templates/list", cursor, cache)
        )

    async def list_resource_templates(
        self, *, max_pages: int | None = None, cache: CacheMode = "use"
    ) -> list[ResourceTemplate]:
        """All resource templates, walking every page."""
        return await self._walk(
            "resources/templates/list", ListResourceTemplatesPage.from_dict,
            lambda p: p.resource_templates, lambda p: p.next_cursor, max_pages, cache,
        )

    @overload
    async def read_resource(
        self, uri: str, *, timeout: TimeoutLike = None,
        allow_input_required: Literal[False] = False,
        input_responses: Mapping[str, Any] | None = None, request_state: str | None = None,
        cache: CacheMode = "use",
    ) -> ReadResourceResult: ...

    @overload
    async def read_resource(
        self, uri: str, *, timeout: TimeoutLike = None,
        allow_input_required: Literal[True],
        input_responses: Mapping[str, Any] | None = None, request_state: str | None = None,
        cache: CacheMode = "use",
    ) -> ReadResourceResult | InputRequiredResult: ...

    async def read_resource(
        self,
        uri: str,
        *,
        timeout: TimeoutLike = None,
        allow_input_required: bool = False,
        input_responses: Mapping[str, Any] | None = None,
        request_state: str | None = None,
        cache: CacheMode = "use",
    ) -> ReadResourceResult | InputRequiredResult:
        """Read a resource by URI (input rounds as in :meth:`call_tool`; ``cache`` as in
        :meth:`list_tools_page`: results of input rounds are never cached)."""
        require_str("uri", uri)
        params: dict[str, Any] = {"uri": uri}
        if input_responses is not None or request_state is not None:
            add_input(params, input_responses, request_state)
        # Connecting counts against the call's timeout.
        timeout = await self._mcp().connect_within("resources/read", self._call_timeout(timeout))

        rounds: list[str] = []  # the engine notes here any input rounds it drove

        def read() -> Awaitable[dict[str, Any]]:
            return self._request(
                "resources/read", params, timeout=timeout, headers=None, progress=None,
                idempotent=True, reset_timeout_on_progress=False, max_total_timeout=None,
                options=RequestOptions(
                    allow_input_required=allow_input_required, on_input_round=rounds.append
                ),
            )

        store = self._config.cache
        if check_mode(cache) == "bypass" or store is None or len(params) > 1:
            raw = await read()
        else:  # results of input rounds are never cached
            raw = await store.fetch(
                self._mcp(), "resources/read", params, cache, read, keep=lambda: not rounds
            )
        if allow_input_required and raw.get("resultType") == "input_required":
            return InputRequiredResult.from_dict(raw)
        return ReadResourceResult.from_dict(raw)

    async def subscribe_resource(self, uri: str) -> None:
        """Ask for ``notifications/resources/updated`` about ``uri`` (handshake era;
        MCP 2026-07-28 has no ``resources/subscribe``: :class:`~mcp_async.EraError`)."""
        require_str("uri", uri)
        await self._no_subscribe("resources/subscribe")
        await self._await_push()  # the updates come on the GET stream
        await self.request("resources/subscribe", {"uri": uri}, idempotent=True)

    async def unsubscribe_resource(self, uri: str) -> None:
        """Stop updates about ``uri`` (handshake era only, as :meth:`subscribe_resource`)."""
        require_str("uri", uri)
        await self._no_subscribe("resources/unsubscribe")
        await self.request("resources/unsubscribe", {"uri": uri}, idempotent=True)

    def listen(
        self,
        *,
        tools: bool = False,
        prompts: bool = False,
        resources: bool = False,
        resource_uris: Sequence[str] = (),
        reconnect: bool = False,
        max_buffered: int = 256,
        ack_timeout: float | None = None,
    ) -> Listening:
        """Follow changes on the server, in either protocol era::

            async with client.listen(tools=True, resource_uris=["docs://readme"]) as events:
                async for event in events:
                    ...  # ToolsListChanged(), ResourceUpdated(uri=...), ...

        In MCP 2026-07-28 this is a ``subscriptions/listen`` request; before, the
        session's notifications plus ``resources/subscribe`` for ``resource_uris`` (undone
        on exit). ``events.acknowledged`` says what the server honours. A graceful end by
        the server ends the iteration; a dropped stream raises
        :class:`~mcp_async.SubscriptionLostError`, or with ``reconnect=True`` listens again and
        yields :class:`~mcp_async.listen.Resynced`. More than ``max_buffered`` unread
        events also raise ``SubscriptionLostError``. The acknowledgement must arrive within
        ``ack_timeout`` seconds (default: the client's total timeout). See docs/listen.md.
        """
        from ..features.listen import ListenFilter, Listening

        check_listen(resource_uris, bool(tools or prompts or resources or resource_uris),
                     max_buffered)
        wanted = ListenFilter(tools, prompts, resources, tuple(resource_uris))
        self._push = True  # handshake era: the notifications come on the GET stream
        if ack_timeout is None and self.timeout is not None:
            ack_timeout = self.timeout.total
        return Listening(self._mcp, wanted, reconnect=reconnect, max_buffered=max_buffered,
                         ack_timeout=ack_timeout)

    async def _no_subscribe(self, method: str) -> None:
        await self._require_method(method)
