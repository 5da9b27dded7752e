"""What the topic bases of :class:`~mcp_async.AsyncMCPClient` (:mod:`.tool_methods`,
:mod:`.resource_methods`, :mod:`.prompt_methods`) use of the facade, declared once.

:class:`FacadeParts` holds no code at run time: it only tells the type checker what the
facade (:mod:`.async_client`) provides, so the bases need not import it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from .._config import Timeout, TimeoutLike
    from ..features.cache import CacheMode
    from ..session.dispatch import ProgressCallback
    from ..session.engine import SessionEngine
    from ..transports.options import RequestOptions

__all__ = ["FacadeParts"]

_T = TypeVar("_T")
_Page = TypeVar("_Page")


class FacadeParts:
    """The facade's settings, session and request paths, as the topic bases see them."""

    __slots__ = ()

    if TYPE_CHECKING:
        timeout: Timeout

        def _mcp(self) -> SessionEngine: ...

        def _page(
            self, method: str, cursor: str | None, cache: CacheMode = "use"
        ) -> Awaitable[dict[str, Any]]: ...

        def _walk(
            self,
            method: str,
            parse: Callable[[Mapping[str, Any]], _Page],
            items: Callable[[_Page], Sequence[_T]],
            next_cursor: Callable[[_Page], str | None],
            max_pages: int | None,
            cache: CacheMode = "use",
        ) -> Awaitable[list[_T]]: ...

        def _call_timeout(self, timeout: TimeoutLike) -> Timeout | None: ...

        def _request(
            self,
            method: str,
            params: Mapping[str, Any] | None,
            *,
            timeout: TimeoutLike,
            headers: Mapping[str, str] | None,
            progress: ProgressCallback | None,
            idempotent: bool,
            reset_timeout_on_progress: bool,
            max_total_timeout: float | None,
            options: RequestOptions,
        ) -> Awaitable[dict[str, Any]]: ...

        async def request(
            self, method: str, params: Mapping[str, Any] | None = None, *,
            idempotent: bool = False,
        ) -> dict[str, Any]: ...
