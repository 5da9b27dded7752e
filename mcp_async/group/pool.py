"""``ClientPool``: clients for a gateway, one per (server, principal).

A gateway holds one MCP session per end user per remote server. The pool hands those
clients out by key, opens each once and only when first used, shares one aiohttp
connection pool among all its HTTP clients, closes clients that stay idle, bounds how many
are open, and closes everything on exit::

    async def auth_for(server: str, principal: str) -> str:
        return await tokens.get(principal, server)          # each user's own token

    async with ClientPool({"github": "https://mcp.example.com/mcp"}, auth=auth_for) as pool:
        async with pool.client("github", "user-42") as client:
            await client.call_tool("search", {"q": "mcp"})

A lease (``async with pool.client(...)``) keeps its client open: the pool never closes,
evicts or expires a client while a lease on it is held. See docs/pool.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import inspect
import logging
import os
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Union

from .._exceptions import ClientStateError, ConfigError, MCPClientError
from ..client.async_client import AsyncMCPClient
from ..transports.http.aiohttp_transport import check_session, make_session
from ..transports.http.hooks import Hook
from .config import ServerSpec, parse_server

if TYPE_CHECKING:
    import aiohttp

    from .client_group import MCPClientGroup

__all__ = [
    "ClientPool",
    "Lease",
    "PoolClosedError",
    "PoolExhaustedError",
    "PoolStats",
    "PrincipalAuth",
]

logger = logging.getLogger("mcp_async")

#: What the ``auth`` callable returns for one (server, principal): a bearer token, an
#: auth hook (a token provider, OAuth with the principal's storage, ...), environment
#: variables for a stdio server's process, or ``None`` (no credentials).
PrincipalAuth = Union[str, Hook, Mapping[str, str], None]  # noqa: UP007 - a runtime alias
AuthFor = Callable[[str, str], "PrincipalAuth | Awaitable[PrincipalAuth]"]

#: File descriptors a new client may take: a GET stream for HTTP; a stdio process's pipes.
_FDS_HTTP = 1
_FDS_STDIO = 4


class PoolClosedError(ClientStateError):
    """The pool is closed (or not entered yet): it hands out no more clients."""


class PoolExhaustedError(MCPClientError):
    """No client could be opened in time: every open client is leased (``max_open`` or
    ``max_processes`` reached), or the process is near its file descriptor limit
    (``RLIMIT_NOFILE``), and no lease was returned within ``acquire_timeout``."""


@dataclass(frozen=True, slots=True)
class PoolStats:
    """A snapshot of a pool: clients open now (``open``; ``processes`` of them stdio
    processes, group members included), ``in_use`` (leased), and running totals."""

    open: int
    in_use: int
    processes: int
    opened: int
    evicted: int
    expired: int
    failed: int


class _Entry:
    """One open (or opening) client and its leases."""

    __slots__ = ("client", "fds", "key", "last_used", "leases", "opening", "processes")

    def __init__(self, key: tuple[str, str], processes: int, fds: int) -> None:
        self.key = key
        self.client: AsyncMCPClient | MCPClientGroup | None = None
        self.opening: asyncio.Future[None] | None = None
        self.leases = 0
        self.last_used = time.monotonic()
        self.processes = processes
        self.fds = fds

    @property
    def idle(self) -> bool:
        return self.leases == 0 and self.opening is not None and self.opening.done()


class _Server:
    """A configured server: one spec, or a group of member specs."""

    __slots__ = ("members", "name", "spec")

    def __init__(
        self, name: str, spec: ServerSpec | None, members: dict[str, ServerSpec] | None
    ) -> None:
        self.name = name
        self.spec = spec
        self.members = members

    @property
    def processes(self) -> int:
        if self.members is not None:
            return sum(1 for spec in self.members.values() if spec.is_stdio)
        assert self.spec is not None
        return 1 if self.spec.is_stdio else 0

    @property
    def fds(self) -> int:
        specs = list(self.members.values()) if self.members is not None else [self.spec]
        return sum(_FDS_STDIO if spec is not None and spec.is_stdio else _FDS_HTTP
                   for spec in specs)


class Lease:
    """A client handed out by :meth:`ClientPool.client`; the pool keeps it open until the
    lease is released (``async with`` does that, or :meth:`release`)."""

    __slots__ = ("_entry", "_pool", "_released")

    def __init__(self, pool: ClientPool, entry: _Entry) -> None:
        self._pool = pool
        self._entry = entry
        self._released = False

    @property
    def client(self) -> Any:
        """The leased client: an :class:`~mcp_async.AsyncMCPClient`, or an
        :class:`~mcp_async.MCPClientGroup` for a group server."""
        return self._entry.client

    async def release(self) -> None:
        """Hand the client back (idempotent); it stays open for the next lease."""
        if not self._released:
            self._released = True
            await self._pool._release(self._entry)


class _Leasing:
    """``async with pool.client(server, principal) as client``."""

    __slots__ = ("_lease", "_pool", "_principal", "_server")

    def __init__(self, pool: ClientPool, server: str, principal: str) -> None:
        self._pool = pool
        self._server = server
        self._principal = principal
        self._lease: Lease | None = None

    async def __aenter__(self) -> Any:
        self._lease = await self._pool.acquire(self._server, self._principal)
        return self._lease.client

    async def __aexit__(self, *exc_info: object) -> None:
        lease, self._lease = self._lease, None
        if lease is not None:
            await lease.release()


def _fd_limit() -> int | None:
    """The soft ``RLIMIT_NOFILE`` (``None``: unknown or unlimited)."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not on Windows
        return None
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return None if soft == resource.RLIM_INFINITY else int(soft)


def _open_fds() -> int | None:
    """How many file descriptors the process has open (``None``: cannot tell)."""
    for path in ("/proc/self/fd", "/dev/fd"):
        try:
            return len(os.listdir(path))
        except OSError:
            continue
    return None  # pragma: no cover


class ClientPool:
    """Clients keyed by (server, principal) for gateways and multi-user hosts.

    Args:
        servers: server name → a URL, an entry as in an ``mcpServers`` file (``{"url":
            ...}``, ``{"command": ..., "args": [...]}``), a :class:`~mcp_async.ServerSpec`,
            or ``{"mcpServers": {...}}``: a group, handed out as an
            :class:`~mcp_async.MCPClientGroup` per principal.
        auth: ``auth(server, principal)`` (sync or async), called once when a key's client
            opens: a bearer token, an auth :class:`~mcp_async.Hook` (e.g.
            :class:`~mcp_async.auth.BearerAuth` with a token provider, or OAuth with the
            principal's own storage), for a stdio server a mapping of environment
            variables for its process, or ``None``. For a group member ``server`` is
            ``"group/member"``. Without ``auth`` no key has credentials.
        max_open: most clients open at once (a group counts as one); beyond it the least
            recently used idle client is closed, and when every one is leased
            :meth:`acquire` waits for a lease to come back.
        max_processes: most stdio server processes at once (group members included).
        idle_ttl: seconds a client may stay unused before it is closed (``None``: never).
        acquire_timeout: seconds :meth:`acquire` waits for room before
            :class:`PoolExhaustedError` (``None``: no limit).
        session: an ``aiohttp.ClientSession`` for every HTTP client (borrowed, never
            closed); else the pool owns one with ``connection_limit`` connections.
        connection_limit: the owned session's connection limit (0: unlimited).
        fd_reserve: file descriptors kept free below ``RLIMIT_NOFILE``: a client that
            would eat into them is opened only after idle clients were closed, else the
            pool raises :class:`PoolExhaustedError` (after ``acquire_timeout``).
        client_options: :class:`~mcp_async.AsyncMCPClient` arguments for every client
            (``timeout``, ``retry``, handlers, ``protocol``, ``cache``...); ``auth`` and
            ``session`` are the pool's own arguments above.
    """

    def __init__(
        self,
        servers: Mapping[str, str | ServerSpec | Mapping[str, Any]],
        *,
        auth: AuthFor | None = None,
        max_open: int = 1000,
        max_processes: int = 32,
        idle_ttl: float | None = 300.0,
        acquire_timeout: float | None = 30.0,
        session: aiohttp.ClientSession | None = None,
        connection_limit: int = 100,
        fd_reserve: int = 128,
        **client_options: Any,
    ) -> None:
        if not isinstance(servers, Mapping) or not servers:
            raise ConfigError("servers must map at least one name to a server")
        if auth is not None and not callable(auth):
            raise ConfigError(f"auth must be a callable auth(server, principal), got {auth!r}")
        for name, value, low in (
            ("max_open", max_open, 1), ("max_processes", max_processes, 0),
            ("connection_limit", connection_limit, 0), ("fd_reserve", fd_reserve, 0),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ConfigError(f"{name} must be an int >= {low}, got {value!r}")
        for name, seconds in (("idle_ttl", idle_ttl), ("acquire_timeout", acquire_timeout)):
            if seconds is not None and (
                isinstance(seconds, bool) or not isinstance(seconds, int | float)
                or not seconds > 0
            ):
                raise ConfigError(f"{name} must be a positive number or None, got {seconds!r}")
        check_session(session)
        self._servers = {name: self._parse(name, entry) for name, entry in servers.items()}
        self._auth = auth
        self.max_open = max_open
        self.max_processes = max_processes
        self.idle_ttl = idle_ttl
        self.acquire_timeout = acquire_timeout
        self.fd_reserve = fd_reserve
        self._client_options = client_options
        # A client built now catches bad options before any key is used.
        self._check_options()
        self._borrowed = session
        self._connection_limit = connection_limit
        self._http: aiohttp.ClientSession | None = None
        self._entries: OrderedDict[tuple[str, str], _Entry] = OrderedDict()
        self._state: Literal["new", "open", "closed"] = "new"
        self._room: asyncio.Condition | None = None
        self._reaper: asyncio.Task[None] | None = None
        self._closing: set[asyncio.Task[None]] = set()
        self._fd_limit = _fd_limit()
        self._fds_counted = 0
        self._fds_added = 0
        self._opened = self._evicted = self._expired = self._failed = 0

    # -- configuration ---------------------------------------------------------------------
    @staticmethod
    def _parse(name: object, entry: object) -> _Server:
        if not isinstance(name, str) or not name or "/" in name:
            raise ConfigError(f"server names must be non-empty strings without '/', got {name!r}")
        if isinstance(entry, str):
            entry = {"url": entry}
        if isinstance(entry, ServerSpec):
            return _Server(name, entry, None)
        if isinstance(entry, Mapping) and "mcpServers" in entry:
            members = entry["mcpServers"]
            if not isinstance(members, Mapping) or not members:
                raise ConfigError(f"group {name!r}: mcpServers must map names to servers")
            specs: dict[str, ServerSpec] = {}
            for member, value in members.items():
                spec = value if isinstance(value, ServerSpec) else parse_server(member, value)
                if spec is not None:
                    specs[member] = spec
            if not specs:
                raise ConfigError(f"group {name!r} has no enabled server")
            return _Server(name, None, specs)
        if isinstance(entry, Mapping):
            spec = parse_server(name, entry)
            if spec is None:
                raise ConfigError(f"server {name!r} is disabled")
            return _Server(name, spec, None)
        raise ConfigError(
            f"server {name!r}: expected a URL, a config entry or a ServerSpec, "
            f"got {type(entry).__name__}"
        )

    def _check_options(self) -> None:
        for server in self._servers.values():
            specs = server.members.values() if server.members else [server.spec]
            for spec in specs:
                assert spec is not None
                spec.client(**self._client_options)  # raises ConfigError for bad options

    # -- life ------------------------------------------------------------------------------
    async def __aenter__(self) -> ClientPool:
        if self._state == "open":
            raise ClientStateError("the pool is already open; enter it only once")
        if self._state == "closed":
            raise PoolClosedError("the pool is closed; create a new ClientPool")
        if self._borrowed is not None:
            if self._borrowed.closed:
                raise ClientStateError("the borrowed aiohttp session is closed")
            self._http = self._borrowed
        else:
            self._http = make_session(limit=self._connection_limit)
        self._room = asyncio.Condition()
        if self._fd_limit is not None:
            self._fds_counted, self._fds_added = _open_fds() or 0, 0
        self._state = "open"
        if self.idle_ttl is not None:
            self._reaper = asyncio.ensure_future(self._reap(self.idle_ttl))
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close every client (leased ones too: their calls fail with
        :class:`~mcp_async.ClientStateError`) and the owned session. Idempotent."""
        if self._state == "closed":
            return
        self._state = "closed"
        reaper, self._reaper = self._reaper, None
        if reaper is not None:
            reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reaper
        entries = list(self._entries.values())
        self._entries.clear()
        for entry in entries:
            if entry.opening is not None and not entry.opening.done():
                entry.opening.cancel()
        await asyncio.gather(*(self._close(entry) for entry in entries))
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)
        if self._room is not None:
            async with self._room:
                self._room.notify_all()
        if self._http is not None and self._borrowed is None:
            await self._http.close()

    @property
    def closed(self) -> bool:
        """True once :meth:`aclose` ran."""
        return self._state == "closed"

    def stats(self) -> PoolStats:
        """What the pool holds now, and what it did so far."""
        entries = self._entries.values()
        return PoolStats(
            open=len(self._entries),
            in_use=sum(1 for entry in entries if entry.leases),
            processes=sum(entry.processes for entry in entries),
            opened=self._opened, evicted=self._evicted, expired=self._expired,
            failed=self._failed,
        )

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    # -- leases ----------------------------------------------------------------------------
    def client(self, server: str, principal: str) -> _Leasing:
        """``async with pool.client(server, principal) as client``: the key's client,
        opened on first use; the pool keeps it open (never evicts or expires it) until
        the block ends. Raises :class:`~mcp_async.UnknownServerError`,
        :class:`PoolClosedError`, :class:`PoolExhaustedError`, or the client's own
        error when it cannot be opened (the next use tries again)."""
        return _Leasing(self, server, principal)

    async def acquire(self, server: str, principal: str) -> Lease:
        """A :class:`Lease` on the key's client; :meth:`Lease.release` it when done
        (prefer :meth:`client`)."""
        spec = self._lookup(server, principal)
        room = self._room
        if self._state != "open" or room is None:
            raise PoolClosedError(
                "the pool is closed" if self._state == "closed"
                else "the pool is not open; use 'async with ClientPool(...) as pool'"
            )
        key = (server, principal)
        deadline = (
            None if self.acquire_timeout is None
            else asyncio.get_running_loop().time() + self.acquire_timeout
        )
        while True:
            entry = self._entries.get(key)
            if entry is not None and _usable(entry):
                self._entries.move_to_end(key)
                return await self._lease(entry)
            if entry is not None:  # its client was closed under it: open a new one
                self._drop(entry)
            if await self._make_room(spec, deadline):
                break
        entry = _Entry(key, spec.processes, spec.fds)
        self._entries[key] = entry
        self._fds_added += entry.fds
        entry.opening = asyncio.ensure_future(self._open(entry, spec, principal))
        return await self._lease(entry)

    async def _lease(self, entry: _Entry) -> Lease:
        """Wait for ``entry``'s client to be open (shared by its first users), lease it."""
        opening = entry.opening
        assert opening is not None
        entry.leases += 1
        try:
            await asyncio.shield(opening)
        except asyncio.CancelledError:
            entry.leases -= 1
            task = asyncio.current_task()
            if opening.cancelled() and task is not None and not task.cancelling():
                # Not this caller's cancellation: the pool closed while the client opened.
                raise PoolClosedError("the pool was closed while the client opened") from None
            raise
        except BaseException:
            entry.leases -= 1
            raise
        if self._state != "open":
            entry.leases -= 1
            raise PoolClosedError("the pool was closed while the client opened")
        return Lease(self, entry)

    def _lookup(self, server: str, principal: str) -> _Server:
        if not isinstance(principal, str) or not principal:
            raise ConfigError(f"principal must be a non-empty string, got {principal!r}")
        spec = self._servers.get(server) if isinstance(server, str) else None
        if spec is None:
            from .client_group import UnknownServerError

            raise UnknownServerError(
                str(server), f"no server {server!r} in the pool; it has: "
                + ", ".join(sorted(self._servers))
            )
        if spec.processes > self.max_processes:
            raise ConfigError(
                f"server {server!r} starts {spec.processes} processes, more than "
                f"max_processes={self.max_processes}"
            )
        return spec

    async def _release(self, entry: _Entry) -> None:
        entry.leases -= 1
        entry.last_used = time.monotonic()
        room = self._room
        if room is not None:
            async with room:
                room.notify_all()

    # -- opening and room --------------------------------------------------------------------
    async def _open(self, entry: _Entry, server: _Server, principal: str) -> None:
        try:
            if server.members is not None:
                from .client_group import MCPClientGroup

                clients = {
                    member: await self._build(f"{server.name}/{member}", spec, principal)
                    for member, spec in server.members.items()
                }
                group = MCPClientGroup(clients)
                entry.client = group
                await group.__aenter__()
            else:
                assert server.spec is not None
                client = await self._build(server.name, server.spec, principal)
                entry.client = client
                await client.open()
        except BaseException as exc:
            self._failed += 1
            if self._entries.get(entry.key) is entry:
                del self._entries[entry.key]
            await self._close(entry)
            if isinstance(exc, MCPClientError | asyncio.CancelledError):
                raise
            if isinstance(exc, Exception):
                raise ClientStateError(
                    f"could not open the client of {entry.key[0]!r} for principal "
                    f"{entry.key[1]!r}: {type(exc).__name__}: {exc}"
                ) from exc
            raise
        self._opened += 1

    async def _build(self, name: str, spec: ServerSpec, principal: str) -> AsyncMCPClient:
        credentials: Any = None
        if self._auth is not None:
            credentials = self._auth(name, principal)
            if inspect.isawaitable(credentials):
                credentials = await credentials
        options = dict(self._client_options)
        if spec.is_stdio:
            if credentials is not None:
                if not isinstance(credentials, Mapping):
                    raise ConfigError(
                        f"auth({name!r}, {principal!r}) must give a stdio server a mapping "
                        f"of environment variables (or None), got {type(credentials).__name__}"
                    )
                spec = dataclasses.replace(spec, env={**spec.env, **credentials})
            return spec.client(**options)
        if credentials is not None and not isinstance(credentials, str | Hook):
            raise ConfigError(
                f"auth({name!r}, {principal!r}) must give an HTTP server a token, an auth "
                f"Hook or None, got {type(credentials).__name__}"
            )
        return spec.client(session=self._http, auth=credentials, **options)

    async def _make_room(self, server: _Server, deadline: float | None) -> bool:
        """Close idle clients until a new one fits; wait for a lease to come back when
        none is idle. True when there is room now; False to look up the key again."""
        room = self._room
        assert room is not None
        while True:
            if self._state != "open":
                raise PoolClosedError("the pool was closed")
            why = self._full(server)
            if why is None:
                return True
            # Least recently used first; for a process bound, only what frees a process.
            victim = next((
                entry for entry in self._entries.values()
                if entry.idle and (why != "max_processes" or entry.processes)
            ), None)
            if victim is not None:
                self._evicted += 1
                self._drop(victim)
                if why in ("fds", "max_processes"):
                    await self._close(victim)  # its process and descriptors go first
                else:
                    self._close_later(victim)
                continue
            loop = asyncio.get_running_loop()
            left = None if deadline is None else deadline - loop.time()
            if left is not None and left <= 0:
                raise PoolExhaustedError(self._exhausted(why))
            async with room:
                try:
                    await asyncio.wait_for(room.wait(), left)
                except TimeoutError:
                    raise PoolExhaustedError(self._exhausted(why)) from None
            return False  # another task may have opened the key meanwhile

    def _full(self, server: _Server) -> str | None:
        """Why a new client for ``server`` does not fit now (``None``: it fits)."""
        if len(self._entries) >= self.max_open:
            return "max_open"
        if server.processes and (
            sum(entry.processes for entry in self._entries.values()) + server.processes
            > self.max_processes
        ):
            return "max_processes"
        limit = self._fd_limit
        if limit is not None:
            needed = server.fds + self.fd_reserve
            if self._fds_counted + self._fds_added + needed > limit:
                # The estimate says it may be near: count for real (cheap enough when
                # rare), and trust the count until the estimate nears the limit again.
                counted = _open_fds()
                if counted is not None:
                    self._fds_counted, self._fds_added = counted, 0
                    if counted + needed > limit:
                        return "fds"
        return None

    def _exhausted(self, why: str) -> str:
        if why == "fds":
            return (
                f"the process is near its file descriptor limit (RLIMIT_NOFILE "
                f"{self._fd_limit}, {self.fd_reserve} kept free) and every open client "
                "is leased; raise the limit (ulimit -n) or lower max_open"
            )
        limit = self.max_open if why == "max_open" else self.max_processes
        return (
            f"all {limit} clients allowed by {why} are leased and none came back within "
            f"{self.acquire_timeout}s"
        )

    # -- closing ---------------------------------------------------------------------------
    def _drop(self, entry: _Entry) -> None:
        if self._entries.get(entry.key) is entry:
            del self._entries[entry.key]

    def _close_later(self, entry: _Entry) -> None:
        task = asyncio.ensure_future(self._close(entry))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def _close(self, entry: _Entry) -> None:
        client, entry.client = entry.client, None
        if client is None:
            return
        try:
            await client.aclose()
        except Exception as exc:  # closing is best effort; the key reopens cleanly
            logger.warning("closing the pooled client of %r for %r failed: %s",
                           entry.key[0], entry.key[1], exc)

    async def _reap(self, ttl: float) -> None:
        """Close clients idle for ``ttl`` seconds, checking every quarter of it."""
        interval = min(max(ttl / 4, 0.01), 30.0)
        while True:
            await asyncio.sleep(interval)
            now = time.monotonic()
            expired = [
                entry for entry in self._entries.values()
                if entry.idle and now - entry.last_used >= ttl
            ]
            for entry in expired:
                self._expired += 1
                self._drop(entry)
                self._close_later(entry)
            if expired and self._room is not None:
                async with self._room:
                    self._room.notify_all()


def _usable(entry: _Entry) -> bool:
    """Whether an entry's client can still be handed out (opening, or open)."""
    client = entry.client
    if client is None:
        return entry.opening is not None and not entry.opening.done()
    return not getattr(client, "closed", False)
