"""Where OAuth tokens and client registrations live between runs.

:class:`TokenStorage` is the interface the OAuth hooks use; :class:`MemoryTokenStorage`
(the default) forgets everything when the process ends and :class:`FileTokenStorage`
keeps it in a JSON file readable only by its owner. Keys are opaque strings chosen by
the caller of the storage (the OAuth hook keys tokens by the resource they were issued
for and registrations by the authorization server's issuer).

Values are the frozen :class:`OAuthTokens` and :class:`ClientRegistration`; their
``repr`` never shows a token or a secret.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Protocol, TypeVar, runtime_checkable

from .._exceptions import AuthError, ConfigError

__all__ = [
    "ClientRegistration",
    "FileTokenStorage",
    "MemoryTokenStorage",
    "OAuthTokens",
    "TokenStorage",
    "TokenStorageError",
]

_T = TypeVar("_T")
_FILE_FORMAT_VERSION = 1
_EMPTY: Mapping[str, Any] = MappingProxyType({})


class TokenStorageError(AuthError):
    """Stored tokens or registrations could not be read or written (``step == "storage"``).

    ``path`` is the file involved, when there is one.
    """

    def __init__(self, message: str, *, path: str | os.PathLike[str] | None = None) -> None:
        super().__init__(message, step="storage")
        self.path = os.fspath(path) if path is not None else None


def _frozen_copy(data: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(data))


def _opt_str(data: Mapping[str, Any], name: str, what: str) -> str | None:
    value = data.get(name)
    if value is None or isinstance(value, str):
        return value
    raise TokenStorageError(f"{what}: {name!r} must be a string, got {type(value).__name__}")


def _opt_number(data: Mapping[str, Any], name: str, what: str) -> float | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise TokenStorageError(f"{what}: {name!r} must be a finite number, got {value!r}")
    return float(value)


def _expires_in(value: object, step: str) -> float | None:
    """Parse ``expires_in``; some servers send it as a numeric string."""
    if value is None:
        return None
    number: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            number = None
    if number is None or not math.isfinite(number) or number < 0:
        raise AuthError(f"token response has an invalid 'expires_in': {value!r}", step=step)
    return number


@dataclass(frozen=True, slots=True, repr=False)
class OAuthTokens:
    """An access token (and maybe a refresh token) as issued by an authorization server.

    ``expires_at`` is absolute, in epoch seconds of the clock that was passed to
    :meth:`from_token_response` (``None``: the server did not say). ``issuer`` and
    ``resource`` record which authorization server issued the token and for which
    protected resource, so it is never sent anywhere else. ``raw`` is the full token
    response (read-only), e.g. for an ``id_token``.
    """

    access_token: str
    token_type: str = "Bearer"
    expires_at: float | None = None
    refresh_token: str | None = None
    scope: str | None = None
    issuer: str | None = None
    resource: str | None = None
    raw: Mapping[str, Any] = field(default_factory=lambda: _EMPTY, compare=False)

    @classmethod
    def from_token_response(
        cls,
        response: Mapping[str, Any],
        now: float,
        *,
        issuer: str | None = None,
        resource: str | None = None,
        previous: OAuthTokens | None = None,
        step: str = "token",
    ) -> OAuthTokens:
        """Build tokens from a token endpoint's JSON answer received at time ``now``.

        ``previous`` is the token set being refreshed: its refresh token, scope, issuer
        and resource are kept when the new response does not replace them (RFC 6749
        §6 lets a server omit an unchanged refresh token and scope). A malformed
        response raises :class:`~mcp_async.AuthError` with ``step`` (``"token"`` or
        ``"refresh"``).
        """
        if not isinstance(response, Mapping):
            raise AuthError("token response is not a JSON object", step=step)
        access_token = response.get("access_token")
        if not isinstance(access_token, str) or not access_token:
            raise AuthError("token response has no 'access_token' string", step=step)
        token_type = response.get("token_type", "Bearer")
        if not isinstance(token_type, str) or not token_type:
            raise AuthError("token response has an invalid 'token_type'", step=step)
        expires_in = _expires_in(response.get("expires_in"), step)
        refresh_token = response.get("refresh_token")
        if refresh_token is not None and not isinstance(refresh_token, str):
            raise AuthError("token response has a non-string 'refresh_token'", step=step)
        scope = response.get("scope")
        if scope is not None and not isinstance(scope, str):
            raise AuthError("token response has a non-string 'scope'", step=step)
        if previous is not None:
            refresh_token = refresh_token or previous.refresh_token
            scope = scope if scope is not None else previous.scope
            issuer = issuer if issuer is not None else previous.issuer
            resource = resource if resource is not None else previous.resource
        return cls(
            access_token=access_token,
            token_type=token_type,
            expires_at=None if expires_in is None else now + expires_in,
            refresh_token=refresh_token or None,
            scope=scope,
            issuer=issuer,
            resource=resource,
            raw=_frozen_copy(response),
        )

    def is_expired(self, now: float, margin: float = 0.0) -> bool:
        """True when the token expires within ``margin`` seconds of ``now`` (or already has)."""
        return self.expires_at is not None and now >= self.expires_at - margin

    @property
    def scopes(self) -> frozenset[str]:
        """The granted scopes as a set (empty when the server did not say)."""
        return frozenset(self.scope.split()) if self.scope else frozenset()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-compatible dict; :meth:`from_dict` reverses it."""
        data: dict[str, Any] = {"access_token": self.access_token, "token_type": self.token_type}
        for name in ("expires_at", "refresh_token", "scope", "issuer", "resource"):
            value = getattr(self, name)
            if value is not None:
                data[name] = value
        if self.raw:
            data["raw"] = dict(self.raw)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OAuthTokens:
        """Rebuild tokens saved with :meth:`to_dict`; raises :class:`TokenStorageError`."""
        what = "stored tokens"
        if not isinstance(data, Mapping):
            raise TokenStorageError(f"{what} are not a JSON object")
        access_token = data.get("access_token")
        if not isinstance(access_token, str) or not access_token:
            raise TokenStorageError(f"{what} have no 'access_token' string")
        raw = data.get("raw", {})
        if not isinstance(raw, Mapping):
            raise TokenStorageError(f"{what}: 'raw' must be a JSON object")
        return cls(
            access_token=access_token,
            token_type=_opt_str(data, "token_type", what) or "Bearer",
            expires_at=_opt_number(data, "expires_at", what),
            refresh_token=_opt_str(data, "refresh_token", what),
            scope=_opt_str(data, "scope", what),
            issuer=_opt_str(data, "issuer", what),
            resource=_opt_str(data, "resource", what),
            raw=_frozen_copy(raw),
        )

    def __repr__(self) -> str:
        return (
            f"OAuthTokens(access_token=<redacted>, token_type={self.token_type!r}, "
            f"expires_at={self.expires_at!r}, "
            f"refresh_token={'<redacted>' if self.refresh_token else None}, "
            f"scope={self.scope!r}, issuer={self.issuer!r}, resource={self.resource!r})"
        )


@dataclass(frozen=True, slots=True, repr=False)
class ClientRegistration:
    """The client identity at one authorization server (pre-registered, CIMD or RFC 7591).

    ``token_endpoint_auth_method`` is what the registration returned (``None``: the
    server did not say, which RFC 7591 defines as ``client_secret_basic``).
    ``client_secret_expires_at`` is epoch seconds, ``None`` for a secret that never
    expires. ``issuer`` is the authorization server the client is registered with; a
    registration is never reused at another one.
    """

    client_id: str
    client_secret: str | None = None
    token_endpoint_auth_method: str | None = None
    issuer: str | None = None
    client_secret_expires_at: float | None = None
    raw: Mapping[str, Any] = field(default_factory=lambda: _EMPTY, compare=False)

    @classmethod
    def from_registration_response(
        cls, response: Mapping[str, Any], *, issuer: str | None = None
    ) -> ClientRegistration:
        """Build from an RFC 7591 registration answer.

        A malformed answer raises :class:`~mcp_async.AuthError` with ``step="registration"``.
        """
        if not isinstance(response, Mapping):
            raise AuthError("registration response is not a JSON object", step="registration")
        client_id = response.get("client_id")
        if not isinstance(client_id, str) or not client_id:
            raise AuthError("registration response has no 'client_id' string", step="registration")
        secret = response.get("client_secret")
        method = response.get("token_endpoint_auth_method")
        if secret is not None and not isinstance(secret, str):
            raise AuthError(
                "registration response has a non-string 'client_secret'", step="registration"
            )
        if method is not None and not isinstance(method, str):
            raise AuthError(
                "registration response has a non-string 'token_endpoint_auth_method'",
                step="registration",
            )
        expires = response.get("client_secret_expires_at")
        if expires is not None and (
            isinstance(expires, bool) or not isinstance(expires, int | float)
        ):
            raise AuthError(
                "registration response has a non-numeric 'client_secret_expires_at'",
                step="registration",
            )
        return cls(
            client_id=client_id,
            client_secret=secret or None,
            token_endpoint_auth_method=method,
            issuer=issuer,
            # RFC 7591 §3.2.1: 0 means the secret does not expire.
            client_secret_expires_at=float(expires) if expires else None,
            raw=_frozen_copy(response),
        )

    def is_secret_expired(self, now: float) -> bool:
        """True when the client secret has an expiry time and it has passed."""
        return self.client_secret_expires_at is not None and now >= self.client_secret_expires_at

    def to_dict(self) -> dict[str, Any]:
        """A JSON-compatible dict; :meth:`from_dict` reverses it."""
        data: dict[str, Any] = {"client_id": self.client_id}
        for name in (
            "client_secret",
            "token_endpoint_auth_method",
            "issuer",
            "client_secret_expires_at",
        ):
            value = getattr(self, name)
            if value is not None:
                data[name] = value
        if self.raw:
            data["raw"] = dict(self.raw)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ClientRegistration:
        """Rebuild a registration saved with :meth:`to_dict`; raises :class:`TokenStorageError`."""
        what = "stored client registration"
        if not isinstance(data, Mapping):
            raise TokenStorageError(f"{what} is not a JSON object")
        client_id = data.get("client_id")
        if not isinstance(client_id, str) or not client_id:
            raise TokenStorageError(f"{what} has no 'client_id' string")
        raw = data.get("raw", {})
        if not isinstance(raw, Mapping):
            raise TokenStorageError(f"{what}: 'raw' must be a JSON object")
        return cls(
            client_id=client_id,
            client_secret=_opt_str(data, "client_secret", what),
            token_endpoint_auth_method=_opt_str(data, "token_endpoint_auth_method", what),
            issuer=_opt_str(data, "issuer", what),
            client_secret_expires_at=_opt_number(data, "client_secret_expires_at", what),
            raw=_frozen_copy(raw),
        )

    def __repr__(self) -> str:
        secret = "<redacted>" if self.client_secret else None
        return (
            f"ClientRegistration(client_id={self.client_id!r}, client_secret={secret}, "
            f"token_endpoint_auth_method={self.token_endpoint_auth_method!r}, "
            f"issuer={self.issuer!r}, client_secret_expires_at={self.client_secret_expires_at!r})"
        )


@runtime_checkable
class TokenStorage(Protocol):
    """Async key/value storage for tokens and client registrations.

    Implementations must be safe to call from many tasks at once. ``delete`` removes
    both values for ``key`` unless ``keep_client_info`` is true (used when tokens are
    revoked but the registration is still good).
    """

    async def get_tokens(self, key: str) -> OAuthTokens | None:
        """The tokens stored under ``key``, or ``None``."""

    async def set_tokens(self, key: str, tokens: OAuthTokens) -> None:
        """Store ``tokens`` under ``key``, replacing what was there."""

    async def get_client_info(self, key: str) -> ClientRegistration | None:
        """The client registration stored under ``key``, or ``None``."""

    async def set_client_info(self, key: str, info: ClientRegistration) -> None:
        """Store ``info`` under ``key``, replacing what was there."""

    async def delete(self, key: str, *, keep_client_info: bool = False) -> None:
        """Forget the tokens (and, unless ``keep_client_info``, the registration) for ``key``."""


def _check_key(key: object) -> str:
    if not isinstance(key, str) or not key:
        raise ConfigError(f"storage key must be a non-empty string, got {key!r}")
    return key


def _check_value(value: object, kind: type) -> None:
    if not isinstance(value, kind):
        raise ConfigError(f"expected {kind.__name__}, got {type(value).__name__}")


class MemoryTokenStorage:
    """Keeps tokens and registrations in this process only (the default storage)."""

    def __init__(self) -> None:
        self._tokens: dict[str, OAuthTokens] = {}
        self._clients: dict[str, ClientRegistration] = {}

    async def get_tokens(self, key: str) -> OAuthTokens | None:
        """The tokens stored under ``key``, or ``None``."""
        return self._tokens.get(_check_key(key))

    async def set_tokens(self, key: str, tokens: OAuthTokens) -> None:
        """Store ``tokens`` under ``key``."""
        _check_value(tokens, OAuthTokens)
        self._tokens[_check_key(key)] = tokens

    async def get_client_info(self, key: str) -> ClientRegistration | None:
        """The client registration stored under ``key``, or ``None``."""
        return self._clients.get(_check_key(key))

    async def set_client_info(self, key: str, info: ClientRegistration) -> None:
        """Store ``info`` under ``key``."""
        _check_value(info, ClientRegistration)
        self._clients[_check_key(key)] = info

    async def delete(self, key: str, *, keep_client_info: bool = False) -> None:
        """Forget the tokens (and, unless ``keep_client_info``, the registration) for ``key``."""
        self._tokens.pop(_check_key(key), None)
        if not keep_client_info:
            self._clients.pop(key, None)

    def __repr__(self) -> str:
        return f"MemoryTokenStorage(<{len(self._tokens)} token sets, {len(self._clients)} clients>)"


class FileTokenStorage:
    """Keeps tokens and registrations in one JSON file that only its owner can read.

    The file is written atomically (a temporary file in the same directory, then
    ``os.replace``) with mode 0600 whatever the umask; missing parent directories are
    created with mode 0700. Writes from tasks of one process are serialised; separate
    processes sharing the file never see a half-written file, but the last writer
    wins. A missing file reads as empty; an unreadable or malformed one raises
    :class:`TokenStorageError` naming the path.

    Example::

        storage = FileTokenStorage(Path.home() / ".config" / "myapp" / "mcp-tokens.json")
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        try:
            self._path = Path(os.fspath(path)).expanduser()
        except TypeError:
            raise ConfigError(f"path must be a str or os.PathLike, got {path!r}") from None
        if not self._path.name:
            raise ConfigError(f"path must name a file, got {os.fspath(path)!r}")
        self._lock = asyncio.Lock()

    @property
    def path(self) -> Path:
        """The JSON file."""
        return self._path

    async def get_tokens(self, key: str) -> OAuthTokens | None:
        """The tokens stored under ``key``, or ``None``."""
        entry = (await self._load()).get(_check_key(key), {})
        data = entry.get("tokens")
        return None if data is None else self._parse(OAuthTokens.from_dict, data)

    async def set_tokens(self, key: str, tokens: OAuthTokens) -> None:
        """Store ``tokens`` under ``key``."""
        _check_value(tokens, OAuthTokens)
        await self._update(_check_key(key), "tokens", tokens.to_dict())

    async def get_client_info(self, key: str) -> ClientRegistration | None:
        """The client registration stored under ``key``, or ``None``."""
        entry = (await self._load()).get(_check_key(key), {})
        data = entry.get("client_info")
        return None if data is None else self._parse(ClientRegistration.from_dict, data)

    async def set_client_info(self, key: str, info: ClientRegistration) -> None:
        """Store ``info`` under ``key``."""
        _check_value(info, ClientRegistration)
        await self._update(_check_key(key), "client_info", info.to_dict())

    async def delete(self, key: str, *, keep_client_info: bool = False) -> None:
        """Forget the tokens (and, unless ``keep_client_info``, the registration) for ``key``."""
        _check_key(key)
        async with self._lock:
            entries = await asyncio.to_thread(self._read)
            entry = entries.get(key)
            if entry is None:
                return
            entry.pop("tokens", None)
            if not keep_client_info:
                entry.pop("client_info", None)
            if not entry:
                del entries[key]
            await asyncio.to_thread(self._write, entries)

    def __repr__(self) -> str:
        return f"FileTokenStorage({str(self._path)!r})"

    def _parse(self, parse: Callable[[Any], _T], data: Any) -> _T:
        try:
            return parse(data)
        except TokenStorageError as exc:
            raise TokenStorageError(f"{self._path}: {exc}", path=self._path) from None

    async def _load(self) -> dict[str, dict[str, Any]]:
        # Reads wait for an in-flight write of this process so a task sees its own writes.
        async with self._lock:
            return await asyncio.to_thread(self._read)

    async def _update(self, key: str, slot: str, value: dict[str, Any]) -> None:
        async with self._lock:
            entries = await asyncio.to_thread(self._read)
            entries.setdefault(key, {})[slot] = value
            await asyncio.to_thread(self._write, entries)

    def _read(self) -> dict[str, dict[str, Any]]:
        try:
            text = self._path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except (OSError, UnicodeDecodeError) as exc:
            raise TokenStorageError(
                f"cannot read token file {self._path}: {exc}", path=self._path
            ) from exc
        try:
            document = json.loads(text)
        except ValueError as exc:
            raise TokenStorageError(
                f"token file {self._path} is not valid JSON: {exc}", path=self._path
            ) from exc
        if (
            not isinstance(document, dict)
            or document.get("version") != _FILE_FORMAT_VERSION
            or not isinstance(document.get("entries"), dict)
            or not all(isinstance(entry, dict) for entry in document["entries"].values())
        ):
            raise TokenStorageError(
                f"token file {self._path} is not a version {_FILE_FORMAT_VERSION} "
                "mcp_async token file",
                path=self._path,
            )
        entries: dict[str, dict[str, Any]] = document["entries"]
        return entries

    def _make_parents(self) -> None:
        missing: list[Path] = []
        parent = self._path.parent
        while not parent.exists():
            missing.append(parent)
            parent = parent.parent
        for directory in reversed(missing):
            try:
                directory.mkdir(mode=0o700)
            except FileExistsError:
                continue
            # mkdir's mode is filtered by the umask; the directory must be private anyway.
            directory.chmod(0o700)

    def _write(self, entries: dict[str, dict[str, Any]]) -> None:
        document = {"version": _FILE_FORMAT_VERSION, "entries": entries}
        payload = json.dumps(document, indent=2, sort_keys=True, allow_nan=False) + "\n"
        tmp_name: str | None = None
        try:
            self._make_parents()
            fd, tmp_name = tempfile.mkstemp(
                prefix=f".{self._path.name}.", suffix=".tmp", dir=self._path.parent
            )
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                # mkstemp already creates 0600; chmod makes that independent of the platform.
                if hasattr(os, "fchmod"):
                    os.fchmod(handle.fileno(), 0o600)
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp_name, self._path)
            tmp_name = None
        except OSError as exc:
            raise TokenStorageError(
                f"cannot write token file {self._path}: {exc}", path=self._path
            ) from exc
        finally:
            if tmp_name is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp_name)
