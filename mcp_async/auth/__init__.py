"""Authentication hooks: bearer tokens (static or provided), signed JWTs and OAuth 2.1.

pyjwt and cryptography are imported only when a JWT is built or signed; the OAuth names
(which bring the loopback callback server, aiohttp.web) load on first access.
"""

from typing import Any

from .bearer import BearerAuth, TokenProvider
from .jwt import SUPPORTED_ALGORITHMS, JWTAuth
from .storage import (
    ClientRegistration,
    FileTokenStorage,
    MemoryTokenStorage,
    OAuthTokens,
    TokenStorage,
    TokenStorageError,
)

_OAUTH_NAMES = {
    "OAuth": "oauth",
    "ClientCredentials": "oauth",
    "IdentityAssertionAuth": "oauth",
    "IdPTokenExchange": "oauth",
    "AssertionProvider": "oauth",
    "LoopbackCallbackHandler": "callback",
    "FunctionCallbackHandler": "callback",
    "CallbackHandler": "callback",
    "PendingCallback": "callback",
    "AuthorizationResponse": "callback",
    "RedirectHandler": "callback",
    "open_browser": "callback",
    "print_authorization_url": "callback",
    "PKCE": "pkce",
}


def __getattr__(name: str) -> Any:
    module = _OAUTH_NAMES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    *_OAUTH_NAMES,
    "SUPPORTED_ALGORITHMS",
    "BearerAuth",
    "ClientRegistration",
    "FileTokenStorage",
    "JWTAuth",
    "MemoryTokenStorage",
    "OAuthTokens",
    "TokenProvider",
    "TokenStorage",
    "TokenStorageError",
]
