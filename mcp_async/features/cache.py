"""The response cache: MCP 2026-07-28 ``ttlMs`` / ``cacheScope`` hints (SEP-2549).

What is cached: the results of ``server/discover``, ``tools/list``, ``prompts/list``,
``resources/list``, ``resources/templates/list`` and ``resources/read`` whose
``resultType`` is ``"complete"`` (or absent). A result is fresh for ``ttlMs``
milliseconds after it arrived (absent, negative or not a number: 0, i.e. not kept),
clamped to :data:`MAX_TTL_MS` (24 h). Only stateless-era (2026-07-28) results are
kept and served; in the handshake era the cache is never consulted.

Keys (:meth:`ResponseCache.key`): the server (its URL without userinfo, or the
transport's identity for stdio and in-memory transports, hashed), the method, the
``uri`` and ``cursor`` params (each page is its own entry), the negotiated version,
and for ``cacheScope: "private"`` (or no scope) a hash of the authorization context:
the ``Authorization`` value the client sends (its auth hook's current token) and its
static headers. A different token never sees another's private entries; when the
context cannot be known (e.g. a custom hook in ``hooks=``), private results are not
kept at all.

Never cached: MRTR interim results (``resultType: "input_required"``), requests that
carry ``inputResponses`` or ``requestState``, and any params beyond ``uri``/``cursor``.

Invalidation: ``notifications/tools/list_changed`` drops every ``tools/list`` page,
``prompts/list_changed`` the ``prompts/list`` pages, ``resources/list_changed`` the
``resources/list`` and ``resources/templates/list`` pages, ``resources/updated {uri}``
the ``resources/read`` entry of that URI; a ``-32602`` answering a request with a
cursor drops every page of that method. A result that was in flight while its method
was invalidated is not stored.

Storage is a :class:`CacheStore`; the default is :class:`MemoryCacheStore`, an LRU of
:data:`DEFAULT_MAX_ENTRIES` entries. See docs/caching.md.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import math
import time
import weakref
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal, Protocol, runtime_checkable

from yarl import URL

from .._exceptions import ConfigError, JSONRPCError

if TYPE_CHECKING:
    from ..session.api import Session
    from ..session.dispatch import Dispatcher
    from ..transports.http.hooks import Hook
    from ..transports.message import MessageTransport

__all__ = [
    "CACHEABLE_METHODS",
    "DEFAULT_MAX_ENTRIES",
    "MAX_TTL_MS",
    "CacheEntry",
    "CacheMode",
    "CacheStore",
    "MemoryCacheStore",
    "ResponseCache",
]

#: The methods whose results may be cached.
CACHEABLE_METHODS: Final = frozenset({
    "server/discover", "tools/list", "prompts/list", "resources/list",
    "resources/templates/list", "resources/read",
})
#: The longest a result is kept, whatever its ``ttlMs`` says: 24 hours.
MAX_TTL_MS: Final = 24 * 60 * 60 * 1000
#: Entries the default in-memory store holds before it drops the least recently used.
DEFAULT_MAX_ENTRIES: Final = 1024

#: Per call: ``"use"`` serves a fresh entry (else fetches and stores), ``"refresh"``
#: always fetches and stores the answer, ``"bypass"`` neither reads nor writes.
CacheMode = Literal["use", "refresh", "bypass"]
_MODES: Final = ("use", "refresh", "bypass")

#: Notification -> the methods whose entries it drops.
INVALIDATED_BY: Final[Mapping[str, tuple[str, ...]]] = {
    "notifications/tools/list_changed": ("tools/list",),
    "notifications/prompts/list_changed": ("prompts/list",),
    "notifications/resources/list_changed": ("resources/list", "resources/templates/list"),
    "notifications/resources/updated": ("resources/read",),
}

_DUMPS = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode
_INVALID_PARAMS: Final = -32602


@dataclass(frozen=True, slots=True)
class CacheEntry:
    """One stored result.

    ``body`` is the result as compact JSON (``""`` for the marker that says a private
    entry exists), ``expires_at`` the ``time.time()`` at which it goes stale, and
    ``scope`` ``"public"`` or ``"private"``.
    """

    body: str
    expires_at: float
    scope: str


@runtime_checkable
class CacheStore(Protocol):
    """Where a :class:`ResponseCache` keeps its entries (``cache=`` on the client).

    Keys are opaque strings (JSON arrays of hashes and plain fields; no URL, token or
    header value appears in them). The methods are called from the event loop and
    must not block: a store backed by a network service should keep a local mirror.
    A store may drop entries whenever it likes (size caps, its own expiry).
    """

    def get(self, key: str) -> CacheEntry | None:
        """The entry stored under ``key``, or ``None``."""

    def set(self, key: str, entry: CacheEntry) -> None:
        """Store ``entry`` under ``key``, replacing any entry there."""

    def delete(self, key: str) -> None:
        """Drop the entry under ``key``, if any."""

    def keys(self) -> Iterable[str]:
        """Every key stored (used by invalidation, which drops keys by prefix)."""

    def clear(self) -> None:
        """Drop every entry."""


class MemoryCacheStore:
    """The default :class:`CacheStore`: in memory, least recently used dropped first."""

    def __init__(self, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        if isinstance(max_entries, bool) or not isinstance(max_entries, int) or max_entries < 1:
            raise ConfigError(f"max_entries must be an int >= 1, got {max_entries!r}")
        self.max_entries = max_entries
        self._entries: OrderedDict[str, CacheEntry] = OrderedDict()

    def get(self, key: str) -> CacheEntry | None:
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
        return entry

    def set(self, key: str, entry: CacheEntry) -> None:
        self._entries[key] = entry
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def delete(self, key: str) -> None:
        self._entries.pop(key, None)

    def keys(self) -> list[str]:
        return list(self._entries)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


def check_mode(mode: object) -> CacheMode:
    """``mode`` if it is a valid per-call cache mode, else :class:`ConfigError`."""
    if mode not in _MODES:
        raise ConfigError(f"cache must be one of {', '.join(_MODES)}; got {mode!r}")
    return mode


def ttl_ms(value: object) -> float:
    """A result's ``ttlMs`` as milliseconds, clamped to ``[0, MAX_TTL_MS]``."""
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        return 0
    return min(max(value, 0), MAX_TTL_MS)


def _digest(*parts: object) -> str:
    return hashlib.sha256(_DUMPS(parts).encode()).hexdigest()[:32]


#: The static-headers part of the authorization context of clients without headers.
_NO_HEADERS: Final = _digest([])


@functools.lru_cache(maxsize=1024)
def _url_identity(url: str) -> str:
    # (Cached: the clients of one server, thousands in a gateway, share one string.)
    return _digest("url", str(URL(url).with_user(None).with_fragment(None)))


#: Identities of transports that have no address (in-memory, custom): one per object.
_IDENTITIES: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()
_NEXT_IDENTITY = [0]


def server_identity(target: str | MessageTransport) -> str:
    """The hashed identity of a server: its URL without userinfo or fragment, or for a
    stdio server its command, arguments, directory and environment (where its
    credentials come from), or for other transports the transport object itself."""
    if isinstance(target, str):
        return _url_identity(target)
    if getattr(target, "kind", None) == "stdio":
        environment = getattr(target, "environment", None)
        env = sorted(environment().items()) if callable(environment) else []
        return _digest("stdio", getattr(target, "command", ""), list(getattr(target, "args", ())),
                       str(getattr(target, "cwd", None)), env)
    try:
        identity = _IDENTITIES.get(target)
        if identity is None:
            _NEXT_IDENTITY[0] += 1
            identity = _IDENTITIES[target] = f"{id(target)}.{_NEXT_IDENTITY[0]}"
    except TypeError:  # not weakly referenceable
        identity = str(id(target))
    return _digest(getattr(target, "kind", "transport"), identity)


class AuthContext:
    """The authorization context a private entry belongs to, as a hash (or ``None``
    when it cannot be known, and then private results are not cached).

    Over HTTP it covers the client's static headers and the token its auth hook sends
    now: a token string, :class:`~mcp_async.auth.BearerAuth`,
    :class:`~mcp_async.auth.JWTAuth` or an OAuth hook. Any other hook (in ``auth=``
    or ``hooks=``) makes it unknown, unless the hook has a ``cache_partition()``
    method returning a string that names its authorization context (or ``None``
    when it does not know). Over stdio and other message transports the context is
    the transport's identity, already part of every key.
    """

    __slots__ = ("_auth", "_hooks", "_http", "_static")

    def __init__(
        self,
        *,
        http: bool,
        auth: str | Hook | None = None,
        hooks: Sequence[Hook] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self._http = http
        self._auth = auth
        self._hooks = tuple(hooks)
        self._static = (
            _digest(sorted((k.lower(), v) for k, v in headers.items())) if headers
            else _NO_HEADERS
        )

    async def current(self) -> str | None:
        """The hash of the context now, or ``None`` if unknown."""
        if not self._http:
            return "transport"
        parts: list[str] = [self._static]
        for hook in (self._auth, *self._hooks):
            if hook is None:
                continue
            token = await _hook_context(hook)
            if token is None:
                return None
            parts.append(token)
        return _digest(*parts)


async def _hook_context(hook: str | Hook) -> str | None:
    if isinstance(hook, str):
        return "bearer:" + hook
    partition = getattr(hook, "cache_partition", None)
    try:
        if callable(partition):
            value = partition()
            if inspect.isawaitable(value):
                value = await value
            return None if value is None else "hook:" + str(value)
        from ..auth.bearer import BearerAuth
        from ..auth.jwt import JWTAuth
        from ..auth.storage import OAuthTokens

        if isinstance(hook, BearerAuth):
            return "bearer:" + await hook.token()
        if isinstance(hook, JWTAuth):
            return "bearer:" + hook.token()
        # The OAuth hooks (OAuth, ClientCredentials, WorkloadIdentity, ...) show the
        # tokens in use as ``tokens``: ``None`` before the first grant.
        tokens = getattr(hook, "tokens", None)
        if isinstance(tokens, OAuthTokens):
            return "bearer:" + tokens.access_token
    except Exception:  # a failing token source: the context is unknown
        return None
    return None


class ResponseCache:
    """Serves and stores cacheable results for one client (``client.cache``).

    ``hits`` and ``misses`` count lookups; :meth:`clear` drops everything this store
    holds; :meth:`invalidate` applies a notification by hand (the client does it for
    the notifications it receives).
    """

    # (Slots: a gateway holds thousands of clients, each with its cache; ``__dict__``
    # keeps any other attribute.)
    __slots__ = ("__dict__", "_auth", "_epochs", "_server", "clock", "hits", "misses", "store")

    def __init__(
        self,
        store: CacheStore,
        *,
        server: str,
        auth: AuthContext,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.clock = clock
        self.hits = 0
        self.misses = 0
        self._server = server
        self._auth = auth
        #: Invalidations per method, so that a result in flight meanwhile is not stored.
        self._epochs: dict[str, int] = {}

    @classmethod
    def build(
        cls,
        option: object,
        *,
        target: str | MessageTransport,
        auth: str | Hook | None,
        hooks: Sequence[Hook],
        headers: Mapping[str, str] | None,
    ) -> ResponseCache | None:
        """The client's cache from its ``cache=`` option (``None``: off)."""
        if option is False or option is None:
            return None
        if option is True:
            store: CacheStore = MemoryCacheStore()
        elif isinstance(option, CacheStore):
            store = option
        else:
            raise ConfigError(
                "cache must be True, False or a mcp_async.cache.CacheStore, "
                f"got {type(option).__name__}"
            )
        context = AuthContext(http=isinstance(target, str), auth=auth, hooks=hooks,
                              headers=headers)
        return cls(store, server=server_identity(target), auth=context)

    # -- keys --------------------------------------------------------------------------
    def key(
        self, method: str, version: str, *, uri: str | None = None, cursor: str | None = None,
        partition: str | None = None,
    ) -> str:
        """The store key of one result (``partition``: the private context's hash)."""
        return _DUMPS([self._server, method, uri, cursor, version, partition])

    def _prefix(self, method: str, *uri: str) -> str:
        return _DUMPS([self._server, method, *uri])[:-1] + ","

    # -- serving -----------------------------------------------------------------------
    async def fetch(
        self,
        session: Session,
        method: str,
        params: Mapping[str, Any] | None,
        mode: str,
        send: Callable[[], Awaitable[dict[str, Any]]],
        *,
        keep: Callable[[], bool] | None = None,
    ) -> dict[str, Any]:
        """``send()``'s result, or a fresh cached copy of it (per ``mode``); ``keep()``
        (after the send) says whether the result may be stored."""
        if mode == "bypass":
            return await self._send(method, params, send)
        if not session.connected:
            await session.connect()
        version = session.stateless_version
        where = _cacheable(method, params)
        if version is None or where is None:  # the handshake era, or not cacheable
            return await self._send(method, params, send)
        uri, cursor = where
        if mode == "use":
            hit = await self._lookup(method, version, uri, cursor)
            if hit is not None:
                self.hits += 1
                return hit
            self.misses += 1
        epoch = self._epochs.get(method, 0)
        result = await self._send(method, params, send)
        if self._epochs.get(method, 0) == epoch and (keep is None or keep()):
            await self._put(method, version, uri, cursor, result)
        return result

    async def _send(
        self, method: str, params: Mapping[str, Any] | None,
        send: Callable[[], Awaitable[dict[str, Any]]],
    ) -> dict[str, Any]:
        try:
            return await send()
        except JSONRPCError as exc:
            if exc.code == _INVALID_PARAMS and params and params.get("cursor") is not None:
                self.evict(method)  # the cursor came from pages that are stale now
            raise

    async def _lookup(
        self, method: str, version: str, uri: str | None, cursor: str | None
    ) -> dict[str, Any] | None:
        now = self.clock()
        key = self.key(method, version, uri=uri, cursor=cursor)
        entry = self._fresh(key, now)
        if entry is None:
            return None
        if entry.scope != "public":  # a marker: a private entry may exist
            partition = await self._auth.current()
            if partition is None:
                return None
            key = self.key(method, version, uri=uri, cursor=cursor, partition=partition)
            entry = self._fresh(key, now)
            if entry is None:
                return None
        try:
            value = json.loads(entry.body)
        except ValueError:
            self.store.delete(key)
            return None
        return value if isinstance(value, dict) else None

    def _fresh(self, key: str, now: float) -> CacheEntry | None:
        entry = self.store.get(key)
        if entry is None:
            return None
        if not entry.expires_at > now:
            self.store.delete(key)
            return None
        return entry

    async def _put(
        self, method: str, version: str, uri: str | None, cursor: str | None,
        result: Mapping[str, Any],
    ) -> None:
        if result.get("resultType", "complete") != "complete":
            return
        ttl = ttl_ms(result.get("ttlMs"))
        if ttl <= 0:
            return
        expires = self.clock() + ttl / 1000
        public = self.key(method, version, uri=uri, cursor=cursor)
        if result.get("cacheScope") == "public":
            self.store.set(public, CacheEntry(_DUMPS(result), expires, "public"))
            return
        partition = await self._auth.current()
        if partition is None:  # unknown context: never keep a private result
            self.store.delete(public)
            return
        private = self.key(method, version, uri=uri, cursor=cursor, partition=partition)
        self.store.set(private, CacheEntry(_DUMPS(result), expires, "private"))
        marker = self.store.get(public)
        if marker is None or marker.scope == "public" or marker.expires_at < expires:
            self.store.set(public, CacheEntry("", expires, "private"))

    # -- invalidation ------------------------------------------------------------------
    def evict(self, method: str, uri: str | None = None) -> None:
        """Drop every entry of ``method`` (for ``resources/read``: of ``uri`` if given)."""
        self._epochs[method] = self._epochs.get(method, 0) + 1
        prefix = self._prefix(method) if uri is None else self._prefix(method, uri)
        for key in list(self.store.keys()):
            if key.startswith(prefix):
                self.store.delete(key)

    def invalidate(self, notification: str, params: Mapping[str, Any] | None = None) -> None:
        """Apply a server notification (list changed, resource updated)."""
        methods = INVALIDATED_BY.get(notification)
        if methods is None:
            return
        if notification == "notifications/resources/updated":
            uri = (params or {}).get("uri")
            if isinstance(uri, str):
                self.evict("resources/read", uri)
            return
        for method in methods:
            self.evict(method)

    def attach(self, dispatcher: Dispatcher) -> None:
        """Invalidate on the notifications ``dispatcher`` receives."""
        for notification in INVALIDATED_BY:
            dispatcher.on(notification, _Invalidation(self, notification))

    def clear(self) -> None:
        """Drop every entry of the store."""
        for method in CACHEABLE_METHODS:
            self._epochs[method] = self._epochs.get(method, 0) + 1
        self.store.clear()


class _Invalidation:
    """The handler applying one notification to a cache (a small object rather than a
    closure: a gateway holds thousands of clients, each with one per notification)."""

    __slots__ = ("cache", "notification")

    def __init__(self, cache: ResponseCache, notification: str) -> None:
        self.cache = cache
        self.notification = notification

    async def __call__(self, params: dict[str, Any]) -> None:
        self.cache.invalidate(self.notification, params)


def _cacheable(
    method: str, params: Mapping[str, Any] | None
) -> tuple[str | None, str | None] | None:
    """``(uri, cursor)`` of a cacheable request, or ``None`` if it must not be cached."""
    if method not in CACHEABLE_METHODS:
        return None
    uri = cursor = None
    for name, value in (params or {}).items():
        if name == "uri" and method == "resources/read" and isinstance(value, str):
            uri = value
        elif name == "cursor" and method != "resources/read" and isinstance(value, str):
            cursor = value
        else:  # inputResponses, requestState, _meta or anything else: never cached
            return None
    if method == "resources/read" and uri is None:
        return None
    return uri, cursor
