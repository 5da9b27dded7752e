"""Shared state on Redis for the workers of a gateway (``pip install 'mcp-async[redis]'``).

* :class:`RedisTokenStorage`: OAuth tokens and client registrations (a
  :class:`~mcp_async.auth.storage.TokenStorage`), keyed by principal and by the
  resource or issuer the OAuth hook names, with expiry; its ``refresh_lock`` makes
  one refresh per token whatever the number of workers.
* :class:`RedisCacheStore`: the response cache (a :class:`~mcp_async.cache.CacheStore`)
  shared by every worker: each keeps a bounded local mirror that other workers'
  writes reach through a Redis channel.
* :class:`RedisSessionStore`: exported session states
  (:class:`~mcp_async.SessionState`), so any worker can resume a session.

Each takes a ``redis.asyncio.Redis`` client (one can serve all three) and a key
prefix. Keys (docs/deployment.md has the full layout) hold hashes, never a token,
a principal's name or a URL. Losing Redis mid-run: token storage serves and keeps
this process's own copy (and logs it), the refresh lock raises
:class:`~mcp_async.auth.storage.TokenStorageError` (two refreshes of a single-use
refresh token would lose the session), the cache goes on in this process alone (and
logs it), the session store raises :class:`~mcp_async.stores.StoreError`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import json
import logging
import math
import time
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, Final, TypeVar

try:
    import redis.asyncio as aioredis
    from redis.exceptions import LockError, RedisError
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "mcp_async.stores.redis needs the 'redis' package: pip install 'mcp-async[redis]'"
    ) from exc

from .._exceptions import ConfigError
from ..auth.storage import ClientRegistration, OAuthTokens, TokenStorageError
from ..features.cache import DEFAULT_MAX_ENTRIES, CacheEntry
from ..session.portable import SessionState, SessionStateError
from . import StoreError

__all__ = [
    "DEFAULT_PREFIX",
    "RedisCacheStore",
    "RedisSessionStore",
    "RedisTokenStorage",
]

logger = logging.getLogger("mcp_async")

#: The first part of every key.
DEFAULT_PREFIX: Final = "mcp_async"
#: How long tokens with a refresh token, registrations and sessions are kept by default.
_DEFAULT_KEEP: Final = 30 * 86400.0
_T = TypeVar("_T")
#: How often a cache store's follower looks up from waiting for events.
_POLL: Final = 0.5
_REDIS_FAILURES = (RedisError, OSError)


def _digest(*parts: str) -> str:
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:32]


def _positive(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not (
        math.isfinite(value) and value > 0
    ):
        raise ConfigError(f"{name} must be a positive number of seconds, got {value!r}")
    return float(value)


class _RedisStore:
    """The client, the key prefix, and Redis calls bounded in time with typed errors."""

    def __init__(self, client: aioredis.Redis, prefix: str, timeout: float) -> None:
        if not isinstance(client, aioredis.Redis):
            raise ConfigError(
                f"client must be a redis.asyncio.Redis, got {type(client).__name__}"
            )
        if not isinstance(prefix, str) or not prefix or any(c.isspace() for c in prefix):
            raise ConfigError(f"prefix must be a non-empty string without spaces: {prefix!r}")
        self._client = client
        self._prefix = prefix
        self._timeout = _positive("timeout", timeout)
        #: Whether Redis is unreachable now and this store works on in-process state.
        self.degraded = False

    async def _run(self, what: str, operation: Callable[[], Awaitable[_T]]) -> _T:
        try:
            async with asyncio.timeout(self._timeout):
                return await operation()
        except _REDIS_FAILURES as exc:
            raise StoreError(f"Redis {what} failed: {exc}") from exc
        except TimeoutError:
            raise StoreError(f"Redis {what} timed out after {self._timeout}s") from None

    def _degrade(self, error: BaseException, fallback: str) -> None:
        if not self.degraded:
            self.degraded = True
            logger.warning("%s: Redis is unreachable (%s); %s", type(self).__name__, error,
                           fallback)

    def _recovered(self) -> None:
        if self.degraded:
            self.degraded = False
            logger.warning("%s: Redis is reachable again; sharing state again",
                           type(self).__name__)


# -- OAuth tokens and registrations ----------------------------------------------------------


class RedisTokenStorage(_RedisStore):
    """OAuth tokens and client registrations on Redis, for one principal.

    Pass it as ``storage=`` to an OAuth hook; give each end user (principal) of a
    gateway their own instance, every worker the same principal names. Tokens with a
    refresh token (and registrations) are kept for ``keep`` seconds after each write,
    tokens without one until they expire, a registration with an expiring secret
    until the secret expires.

    :meth:`refresh_lock` is taken by the OAuth hook around a refresh: a Redis lock
    that expires after ``lock_ttl`` seconds (a crashed holder never blocks the others
    for longer), waited for at most ``lock_wait`` seconds (default: ``lock_ttl`` + 5).
    Under it, the hook reuses tokens another worker has just refreshed.

    When Redis cannot be reached, reads serve this process's copy of the value (and
    raise :class:`~mcp_async.auth.storage.TokenStorageError` if it has none), writes
    keep it in this process, both log a warning once per outage (``degraded`` is true
    meanwhile); the refresh lock raises ``TokenStorageError`` instead of refreshing
    unguarded.
    """

    def __init__(
        self,
        client: aioredis.Redis,
        *,
        principal: str = "default",
        prefix: str = DEFAULT_PREFIX,
        timeout: float = 2.0,
        lock_ttl: float = 30.0,
        lock_wait: float | None = None,
        keep: float = _DEFAULT_KEEP,
    ) -> None:
        super().__init__(client, prefix, timeout)
        if not isinstance(principal, str) or not principal:
            raise ConfigError(f"principal must be a non-empty string, got {principal!r}")
        self._principal = principal
        self._lock_ttl = _positive("lock_ttl", lock_ttl)
        self._lock_wait = _positive("lock_wait", self._lock_ttl + 5 if lock_wait is None
                                    else lock_wait)
        self._keep = _positive("keep", keep)
        self._tokens: dict[str, OAuthTokens] = {}
        self._clients: dict[str, ClientRegistration] = {}
        #: Writes Redis missed during an outage, written again when it is back.
        self._unsynced: dict[tuple[str, str], tuple[dict[str, Any], float]] = {}

    def key_for(self, kind: str, key: str) -> str:
        """The Redis key of ``kind`` (``tokens``, ``client`` or ``lock``) for ``key``."""
        return f"{self._prefix}:oauth:{kind}:{_digest(self._principal, key)}"

    # TokenStorage
    async def get_tokens(self, key: str) -> OAuthTokens | None:
        """The tokens stored under ``key``, or ``None``."""
        data = await self._read("tokens", _check_key(key), self._tokens)
        if data is None or isinstance(data, OAuthTokens):
            return data
        tokens = OAuthTokens.from_dict(data)
        self._tokens[key] = tokens
        return tokens

    async def set_tokens(self, key: str, tokens: OAuthTokens) -> None:
        """Store ``tokens`` under ``key`` (with expiry)."""
        if not isinstance(tokens, OAuthTokens):
            raise ConfigError(f"expected OAuthTokens, got {type(tokens).__name__}")
        self._tokens[_check_key(key)] = tokens
        ttl = self._keep
        if tokens.refresh_token is None and tokens.expires_at is not None:
            ttl = min(ttl, max(tokens.expires_at - time.time(), 1.0))
        await self._write("tokens", key, tokens.to_dict(), ttl)

    async def get_client_info(self, key: str) -> ClientRegistration | None:
        """The client registration stored under ``key``, or ``None``."""
        data = await self._read("client", _check_key(key), self._clients)
        if data is None or isinstance(data, ClientRegistration):
            return data
        info = ClientRegistration.from_dict(data)
        self._clients[key] = info
        return info

    async def set_client_info(self, key: str, info: ClientRegistration) -> None:
        """Store ``info`` under ``key`` (until its secret expires, at most ``keep``)."""
        if not isinstance(info, ClientRegistration):
            raise ConfigError(f"expected ClientRegistration, got {type(info).__name__}")
        self._clients[_check_key(key)] = info
        ttl = self._keep
        if info.client_secret_expires_at:
            ttl = min(ttl, max(info.client_secret_expires_at - time.time(), 1.0))
        await self._write("client", key, info.to_dict(), ttl)

    async def delete(self, key: str, *, keep_client_info: bool = False) -> None:
        """Forget the tokens (and, unless ``keep_client_info``, the registration)."""
        self._tokens.pop(_check_key(key), None)
        self._unsynced.pop(("tokens", key), None)
        names = [self.key_for("tokens", key)]
        if not keep_client_info:
            self._clients.pop(key, None)
            self._unsynced.pop(("client", key), None)
            names.append(self.key_for("client", key))
        try:
            await self._run("delete of OAuth state", lambda: self._client.delete(*names))
        except StoreError as exc:
            self._degrade(exc, "the deletion holds in this process only")
            return
        self._recovered()

    @contextlib.asynccontextmanager
    async def refresh_lock(self, key: str) -> AsyncIterator[None]:
        """Hold the shared lock for refreshing the tokens under ``key`` (all workers)."""
        lock = self._client.lock(
            self.key_for("lock", _check_key(key)), timeout=self._lock_ttl, sleep=0.05,
            blocking_timeout=self._lock_wait, thread_local=False,
        )
        try:
            async with asyncio.timeout(self._lock_wait + self._timeout):
                acquired = await lock.acquire()
        except (*_REDIS_FAILURES, TimeoutError) as exc:
            raise TokenStorageError(
                f"the refresh lock on Redis is unavailable ({exc or type(exc).__name__}); "
                "not refreshing without it: another worker may refresh the same token, and "
                "a single-use refresh token refreshed twice loses the session"
            ) from exc
        if not acquired:
            raise TokenStorageError(
                f"waited {self._lock_wait}s for the refresh lock another worker holds"
            )
        try:
            yield
        finally:
            try:
                async with asyncio.timeout(self._timeout):
                    await lock.release()
            except LockError:
                logger.warning("an OAuth refresh outlasted its %ss lock on Redis",
                               self._lock_ttl)
            except (*_REDIS_FAILURES, TimeoutError) as exc:
                logger.warning("could not release the refresh lock on Redis (%s); it "
                               "expires within %ss", exc, self._lock_ttl)

    # plumbing
    async def _read(
        self, kind: str, key: str, local: Mapping[str, _T]
    ) -> dict[str, Any] | _T | None:
        missed = self._unsynced.get((kind, key))
        if missed is not None and key in local:
            # Written here while Redis was away: this copy is newer than Redis's.
            await self._write(kind, key, *missed)
            return local[key]
        name = self.key_for(kind, key)
        try:
            raw = await self._run(f"read of OAuth {kind}", lambda: self._client.get(name))
        except StoreError as exc:
            if key not in local:
                raise TokenStorageError(f"{exc}; this process has no copy") from exc
            self._degrade(exc, "using this process's copy of the OAuth state")
            return local[key]
        self._recovered()
        if raw is None:
            return None
        try:
            document = json.loads(raw)
        except ValueError:
            document = None
        if (
            not isinstance(document, dict)
            or document.get("principal") != self._principal
            or document.get("key") != key
            or not isinstance(document.get("value"), dict)
        ):
            raise TokenStorageError(f"Redis key {name} does not hold OAuth {kind} of this "
                                    "principal and key")
        value: dict[str, Any] = document["value"]
        return value

    async def _write(self, kind: str, key: str, value: dict[str, Any], ttl: float) -> None:
        name = self.key_for(kind, key)
        body = json.dumps({"principal": self._principal, "key": key, "value": value})
        try:
            await self._run(f"write of OAuth {kind}",
                            lambda: self._client.set(name, body, px=max(int(ttl * 1000), 1)))
        except StoreError as exc:
            self._unsynced[kind, key] = (value, ttl)
            self._degrade(exc, "keeping new OAuth state in this process until Redis is back "
                          "(other workers do not see it meanwhile)")
            return
        self._unsynced.pop((kind, key), None)
        self._recovered()

    def __repr__(self) -> str:
        return f"RedisTokenStorage(prefix={self._prefix!r}, <principal hidden>)"


def _check_key(key: object) -> str:
    if not isinstance(key, str) or not key:
        raise ConfigError(f"storage key must be a non-empty string, got {key!r}")
    return key


# -- the response cache ------------------------------------------------------------------------


class RedisCacheStore(_RedisStore):
    """The response cache's store, shared by every worker through Redis.

    A :class:`~mcp_async.cache.CacheStore` is called from the event loop and must not
    block, so each worker serves lookups from a local mirror (least recently used
    dropped beyond ``max_entries``); its writes go to Redis in the background (at most
    ``max_pending`` waiting; beyond that they stay local, counted in
    ``dropped_writes``), and other workers' writes, deletions and clears reach the
    mirror through a Redis channel. :meth:`open` (or ``async with``) loads what Redis
    holds and starts following; a store used unopened opens itself in the background.

    Keys are hashes of the cache's own keys, which hold a hash of the authorization
    context for private entries (never a token), so a private entry never crosses
    principals. When Redis is lost, the cache goes on in this process alone (logged
    once, ``degraded`` true) and reconnects with a capped backoff.
    """

    def __init__(
        self,
        client: aioredis.Redis,
        *,
        prefix: str = DEFAULT_PREFIX,
        timeout: float = 2.0,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        max_pending: int = 1000,
    ) -> None:
        super().__init__(client, prefix, timeout)
        for name, value in (("max_entries", max_entries), ("max_pending", max_pending)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name} must be a positive integer, got {value!r}")
        self.max_entries = max_entries
        self._max_pending = max_pending
        self._entries: OrderedDict[str, CacheEntry] = OrderedDict()
        self._me = uuid.uuid4().hex
        self._channel = f"{prefix}:cache:events"
        self._queue: asyncio.Queue[tuple[str, str, CacheEntry | None]] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._followed = asyncio.Event()
        self._closed = False
        #: Writes not shared because too many were waiting (they stay in this process).
        self.dropped_writes = 0

    def key_for(self, key: str) -> str:
        """The Redis key of the cache entry under ``key``."""
        return f"{self._prefix}:cache:entry:{_digest(key)}"

    async def open(self) -> None:
        """Load the entries Redis holds and follow other workers' changes; raises
        :class:`~mcp_async.stores.StoreError` if Redis cannot be reached."""
        if self._closed:
            raise StoreError("the cache store is closed")
        self._launch()
        if self._followed.is_set():
            return
        waiter = asyncio.ensure_future(self._followed.wait())
        try:
            await asyncio.wait([waiter, self._tasks[1]], timeout=self._timeout * 3,
                               return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
        if not self._followed.is_set():
            raise StoreError(f"Redis cache channel {self._channel} could not be followed"
                             + (f": {self._last_error}" if self._last_error else ""))

    _last_error: str | None = None

    async def aclose(self) -> None:
        """Stop following and finish (or give up) pending writes. Idempotent."""
        self._closed = True
        queue = self._queue
        if queue is not None and self._tasks:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._timeout):
                    await queue.join()
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=self._timeout + 2 * _POLL)
        self._tasks = []

    async def __aenter__(self) -> RedisCacheStore:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # CacheStore
    def get(self, key: str) -> CacheEntry | None:
        """The entry under ``key`` in this worker's mirror, or ``None``."""
        self._start()
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
        return entry

    def set(self, key: str, entry: CacheEntry) -> None:
        """Store ``entry`` here and, in the background, for every worker."""
        self._remember(key, entry)
        self._share("set", key, entry)

    def delete(self, key: str) -> None:
        """Drop ``key`` here and for every worker."""
        if self._entries.pop(key, None) is not None:
            self._share("del", key, None)

    def keys(self) -> list[str]:
        """The keys in this worker's mirror."""
        return list(self._entries)

    def clear(self) -> None:
        """Drop every entry, here and for every worker."""
        self._entries.clear()
        self._share("clear", "", None)

    def __len__(self) -> int:
        return len(self._entries)

    # plumbing
    def _remember(self, key: str, entry: CacheEntry) -> None:
        entries = self._entries
        entries[key] = entry
        entries.move_to_end(key)
        while len(entries) > self.max_entries:
            entries.popitem(last=False)

    def _start(self) -> None:
        """Open in the background if used unopened (from the event loop)."""
        if self._queue is not None or self._closed:
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return
        self._launch()

    def _launch(self) -> None:
        """Start the writer and the follower (once); the follower loads, then follows,
        and on failure logs and retries with a capped backoff."""
        if self._queue is None:
            self._queue = asyncio.Queue(self._max_pending)
            self._tasks = [asyncio.ensure_future(self._write_loop()),
                           asyncio.ensure_future(self._follow_loop())]

    def _share(self, op: str, key: str, entry: CacheEntry | None) -> None:
        self._start()
        queue = self._queue
        if queue is None:
            return  # not open (and no loop to open it in): this process only
        try:
            queue.put_nowait((op, key, entry))
        except asyncio.QueueFull:
            self.dropped_writes += 1
            logger.debug("RedisCacheStore: %d writes waiting; %s stays local",
                         self._max_pending, op)

    def _event(self, op: str, key: str, entry: CacheEntry | None) -> str:
        event: dict[str, Any] = {"src": self._me, "op": op, "k": key}
        if entry is not None:
            event.update(b=entry.body, e=entry.expires_at, s=entry.scope)
        return json.dumps(event)

    async def _write_loop(self) -> None:
        queue = self._queue
        assert queue is not None
        while True:
            op, key, entry = await queue.get()
            try:
                await self._run(f"cache {op}", functools.partial(self._apply, op, key, entry))
            except StoreError as exc:
                self._degrade(exc, "the response cache works in this process only")
            else:
                self._recovered()
            finally:
                queue.task_done()

    async def _apply(self, op: str, key: str, entry: CacheEntry | None) -> None:
        pipe = self._client.pipeline(transaction=False)
        if op == "set":
            assert entry is not None
            ttl_ms = int((entry.expires_at - time.time()) * 1000)
            if ttl_ms <= 0:
                return
            pipe.set(self.key_for(key), self._event(op, key, entry), px=ttl_ms)
        elif op == "del":
            pipe.delete(self.key_for(key))
        else:
            names = [name async for name in self._client.scan_iter(
                match=f"{self._prefix}:cache:entry:*", count=500)]
            if names:
                pipe.delete(*names)
        pipe.publish(self._channel, self._event(op, key, entry))
        await pipe.execute()

    async def _follow_loop(self) -> None:
        delay = 0.2
        while not self._closed:
            pubsub = self._client.pubsub(ignore_subscribe_messages=True)
            try:
                async with asyncio.timeout(self._timeout):
                    await pubsub.subscribe(self._channel)
                    await self._load()
                self._followed.set()
                self._last_error = None
                self._recovered()
                delay = 0.2
                while not self._closed:
                    # Polled: redis-py may swallow the cancellation of a read that
                    # waits without a timeout, and closing must not hang on it.
                    message = await pubsub.get_message(timeout=_POLL)
                    if message is not None and message.get("type") == "message":
                        self._receive(message.get("data"))
            except asyncio.CancelledError:
                raise
            except (*_REDIS_FAILURES, TimeoutError) as exc:
                self._last_error = str(exc) or type(exc).__name__
                self._degrade(exc, "the response cache works in this process only")
            finally:
                # Bounded: a close that waits on a connection its cancelled read left
                # busy must not keep aclose() waiting for ever.
                with contextlib.suppress(Exception):
                    async with asyncio.timeout(self._timeout):
                        await pubsub.aclose()
            if self._closed:
                return
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)

    async def _load(self) -> None:
        """Fill the mirror with what Redis holds (at most ``max_entries``)."""
        names: list[Any] = []
        async for name in self._client.scan_iter(match=f"{self._prefix}:cache:entry:*",
                                                 count=500):
            names.append(name)
            if len(names) >= self.max_entries:
                break
        for start in range(0, len(names), 500):
            for raw in await self._client.mget(names[start:start + 500]):
                if raw is not None:
                    self._receive(raw, loading=True)

    def _receive(self, raw: object, *, loading: bool = False) -> None:
        try:
            event = json.loads(raw)  # type: ignore[arg-type]
            if not loading and event["src"] == self._me:
                return
            op, key = event["op"], event["k"]
            if op == "set":
                entry = CacheEntry(str(event["b"]), float(event["e"]), str(event["s"]))
                if isinstance(key, str) and entry.expires_at > time.time():
                    self._remember(key, entry)
            elif op == "del":
                self._entries.pop(key, None)
            elif op == "clear":
                self._entries.clear()
        except (ValueError, TypeError, KeyError) as exc:
            logger.debug("RedisCacheStore: ignored a malformed event: %s", exc)


# -- exported sessions ----------------------------------------------------------------------


class RedisSessionStore(_RedisStore):
    """Exported session states (:class:`~mcp_async.SessionState`) on Redis, by name,
    so any worker can resume a session another one opened.

    Names are yours (e.g. ``f"{user}:{server}"``); they are hashed into keys. States
    are kept ``ttl`` seconds after each save (default one day; a server forgets
    sessions too, and a resumed one it forgot starts afresh). Without Redis, every
    operation raises :class:`~mcp_async.stores.StoreError`: a state only this process
    could see helps no other worker.
    """

    def __init__(
        self,
        client: aioredis.Redis,
        *,
        prefix: str = DEFAULT_PREFIX,
        timeout: float = 2.0,
        ttl: float = 86400.0,
    ) -> None:
        super().__init__(client, prefix, timeout)
        self._ttl = _positive("ttl", ttl)

    def key_for(self, name: str) -> str:
        """The Redis key of the session state ``name``."""
        return f"{self._prefix}:session:{_digest(_check_key(name))}"

    async def save(self, name: str, state: SessionState) -> None:
        """Store ``state`` under ``name`` (replacing what was there)."""
        if not isinstance(state, SessionState):
            raise ConfigError(f"expected a SessionState, got {type(state).__name__}")
        body = json.dumps({"name": name, "state": state.to_dict()})
        key = self.key_for(name)
        await self._run("save of a session state",
                        lambda: self._client.set(key, body, px=int(self._ttl * 1000)))

    async def load(self, name: str) -> SessionState | None:
        """The state saved under ``name``, or ``None``; a malformed or foreign one
        raises :class:`~mcp_async.SessionStateError`."""
        key = self.key_for(name)
        raw = await self._run("load of a session state", lambda: self._client.get(key))
        if raw is None:
            return None
        try:
            document = json.loads(raw)
        except ValueError:
            document = None
        if not isinstance(document, dict) or document.get("name") != name:
            raise SessionStateError(f"Redis key {key} does not hold the session state {name!r}")
        return SessionState.from_dict(document.get("state"))

    async def delete(self, name: str) -> None:
        """Forget the state saved under ``name``."""
        key = self.key_for(name)
        await self._run("delete of a session state", lambda: self._client.delete(key))
