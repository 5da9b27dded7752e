"""Paginated ``*/list`` requests: one page (through the response cache), or every page."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from .._exceptions import ConfigError, JSONRPCError, UnexpectedResponseError
from ..features.cache import CacheMode, ResponseCache, check_mode
from ..session.api import Session

__all__ = ["PageSource", "fetch_page", "walk_pages"]

_T = TypeVar("_T")
_Page = TypeVar("_Page")


class PageSource(Protocol):
    """What paging needs of a client."""

    max_list_pages: int

    @property
    def cache(self) -> ResponseCache | None: ...

    @property
    def session(self) -> Session: ...

    async def request(
        self, method: str, params: Mapping[str, Any] | None = None, *, idempotent: bool = False
    ) -> dict[str, Any]: ...


async def fetch_page(
    client: PageSource, method: str, cursor: str | None, cache: CacheMode = "use"
) -> dict[str, Any]:
    """The raw result of one ``method`` page after ``cursor`` (``None``: the first)."""
    if cursor is not None and not isinstance(cursor, str):
        raise ConfigError(f"cursor must be a string, got {cursor!r}")
    params = {"cursor": cursor} if cursor else None
    store = client.cache
    if check_mode(cache) == "bypass" or store is None:
        return await client.request(method, params, idempotent=True)
    return await store.fetch(
        client.session, method, params, cache,
        lambda: client.request(method, params, idempotent=True),
    )


async def walk_pages(
    client: PageSource,
    method: str,
    parse: Callable[[Mapping[str, Any]], _Page],
    items: Callable[[_Page], Sequence[_T]],
    next_cursor: Callable[[_Page], str | None],
    max_pages: int | None,
    cache: CacheMode = "use",
) -> list[_T]:
    """The items of every page of ``method``, at most ``max_pages`` of them (default:
    the client's ``max_list_pages``)."""
    store = client.cache
    hits = store.hits if store is not None else 0
    try:
        return await _walk(client, method, parse, items, next_cursor, max_pages, cache)
    except JSONRPCError as exc:
        # A cursor from a cached page the server no longer honours: the pages were
        # dropped (see mcp_async.cache); walk once more from the first page.
        if exc.code != -32602 or store is None or store.hits == hits:
            raise
    return await _walk(client, method, parse, items, next_cursor, max_pages, "refresh")


async def _walk(
    client: PageSource,
    method: str,
    parse: Callable[[Mapping[str, Any]], _Page],
    items: Callable[[_Page], Sequence[_T]],
    next_cursor: Callable[[_Page], str | None],
    max_pages: int | None,
    cache: CacheMode,
) -> list[_T]:
    limit = client.max_list_pages if max_pages is None else max_pages
    out: list[_T] = []
    seen: set[str] = set()
    cursor: str | None = None
    for _ in range(limit):
        page = parse(await fetch_page(client, method, cursor, cache))
        out.extend(items(page))
        cursor = next_cursor(page)
        if cursor is None:
            return out
        if cursor in seen:
            raise UnexpectedResponseError(f"{method} returned the cursor {cursor!r} twice")
        seen.add(cursor)
    raise UnexpectedResponseError(
        f"{method} still had more pages after {limit}; raise max_pages or use the *_page form"
    )
