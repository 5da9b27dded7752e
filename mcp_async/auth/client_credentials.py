"""The client credentials grant: machine-to-machine tokens, without a user.

:class:`ClientCredentials` authenticates with a client secret (``client_secret_basic`` or
``client_secret_post``) or with an RFC 7523 ``private_key_jwt`` assertion signed with
pyjwt, which is imported only when a key is given.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any

from .._config import TimeoutLike
from .._exceptions import AuthError, ConfigError
from ..protocol.oauth import select_scope, union_scopes
from ..transports.http.base import Handler, HTTPRequest
from .discovery import Discovery
from .dpop import DPoPKey
from .oauth_hook import _OAuthHook
from .storage import ClientRegistration, OAuthTokens, TokenStorage
from .token_endpoint import _SECRET_METHODS, Clock

__all__ = ["ClientCredentials"]


def _load_jwt() -> Any:
    try:
        import jwt
    except ImportError as exc:  # pragma: no cover - pyjwt is a dependency
        raise ConfigError("private_key_jwt needs pyjwt: pip install 'mcp-async[jwt]'") from exc
    return jwt


_ASYMMETRIC_PREFIXES = ("RS", "PS", "ES")


class ClientCredentials(_OAuthHook):
    """OAuth ``client_credentials`` for machine-to-machine access to MCP servers.

    The client authenticates with a secret (``client_secret_basic`` by default, or
    ``client_secret_post``) or, given ``private_key``, with an RFC 7523 assertion
    (``private_key_jwt``: ``iss`` = ``sub`` = client id, ``aud`` = the authorization
    server's issuer, a fresh ``jti``, signed with pyjwt). Tokens are fetched on the
    first 401 and replaced before they expire, without a user.

    Set ``issuer`` so the secret can only ever reach the authorization server you
    expect (otherwise the first one the MCP server advertises is used). ``dpop=True``
    asks for DPoP-bound tokens, as with :class:`OAuth`.

    Example::

        auth = ClientCredentials("svc-1", private_key=pem, key_id="k1",
                                 issuer="https://login.example.com", scope="mcp:tools")
    """

    _silent = True

    def __init__(
        self,
        client_id: str,
        client_secret: str | None = None,
        *,
        private_key: Any = None,
        algorithm: str = "RS256",
        key_id: str | None = None,
        token_endpoint_auth_method: str | None = None,
        scope: str | None = None,
        issuer: str | None = None,
        assertion_lifetime: float = 60.0,
        server_url: str | None = None,
        storage: TokenStorage | None = None,
        refresh_margin: float = 60.0,
        max_step_up: int = 2,
        timeout: TimeoutLike = None,
        clock: Clock = time.time,
        send: Handler | None = None,
        dpop: bool | DPoPKey = False,
    ) -> None:
        super().__init__(
            server_url=server_url, storage=storage, clock=clock, refresh_margin=refresh_margin,
            max_step_up=max_step_up, timeout=timeout, send=send, dpop=dpop,
        )
        if not isinstance(client_id, str) or not client_id:
            raise ConfigError("client_id must be a non-empty string")
        method = token_endpoint_auth_method or (
            "private_key_jwt" if private_key is not None else "client_secret_basic"
        )
        if method == "private_key_jwt":
            if private_key is None:
                raise ConfigError("private_key_jwt needs private_key")
            if algorithm != "EdDSA" and not algorithm.startswith(_ASYMMETRIC_PREFIXES):
                raise ConfigError(
                    f"private_key_jwt needs an asymmetric algorithm (RS*, PS*, ES*, EdDSA), "
                    f"got {algorithm!r}"
                )
            try:
                _load_jwt().encode({"probe": True}, private_key, algorithm=algorithm)
            except ConfigError:
                raise
            except Exception as exc:
                raise ConfigError(
                    f"private_key cannot sign with {algorithm}: {type(exc).__name__}"
                ) from None
        elif method in _SECRET_METHODS:
            if not client_secret:
                raise ConfigError(f"{method} needs client_secret")
        else:
            raise ConfigError(
                "token_endpoint_auth_method must be client_secret_basic, client_secret_post "
                f"or private_key_jwt, got {method!r}"
            )
        if isinstance(assertion_lifetime, bool) or not assertion_lifetime > 0:
            raise ConfigError("assertion_lifetime must be a positive number of seconds")
        self._client = ClientRegistration(
            client_id=client_id,
            client_secret=client_secret,
            token_endpoint_auth_method=method,
            issuer=issuer,
        )
        self._private_key = private_key
        self._algorithm = algorithm
        self._key_id = key_id
        self._assertion_lifetime = float(assertion_lifetime)
        self._scope = " ".join(scope.split()) if scope else None
        self._issuer = issuer

    def _pinned_issuer(self) -> str | None:
        return self._issuer

    def _scope_for(self, context: Discovery, challenge_scope: str | None) -> str | None:
        scope = union_scopes(self._requested_scope, challenge_scope, self._scope)
        return scope or select_scope(None, context.prm)

    async def _refresh_client(self, context: Discovery) -> ClientRegistration | None:
        return self._client

    def _assertion_for(self, context: Discovery) -> Callable[[], str] | None:
        if self._client.token_endpoint_auth_method != "private_key_jwt":
            return None
        return lambda: self.client_assertion(context.issuer)

    def client_assertion(self, audience: str) -> str:
        """A fresh RFC 7523 client assertion for ``audience`` (the AS issuer)."""
        jwt = _load_jwt()
        now = int(self._clock())
        claims = {
            "iss": self._client.client_id,
            "sub": self._client.client_id,
            "aud": audience,
            "iat": now,
            "exp": now + int(self._assertion_lifetime),
            "jti": secrets.token_urlsafe(16),
        }
        headers = {"kid": self._key_id} if self._key_id else None
        try:
            token: str = jwt.encode(
                claims, self._private_key, algorithm=self._algorithm, headers=headers
            )
        except Exception as exc:
            raise AuthError(
                f"cannot sign the client assertion: {type(exc).__name__}", step="token"
            ) from exc
        return token

    async def _grant(
        self, context: Discovery, scope: str | None, request: HTTPRequest
    ) -> OAuthTokens:
        form = {"grant_type": "client_credentials"}
        if scope:
            form["scope"] = scope
        return await self._token_request(context, self._client, form, step="token")

    def __repr__(self) -> str:
        return (
            f"ClientCredentials(client_id={self._client.client_id!r}, "
            f"auth_method={self._client.token_endpoint_auth_method!r}, issuer={self._issuer!r})"
        )
