"""Authentication hooks: bearer tokens (static or provided), signed JWTs and OAuth 2.1.

Only :class:`BearerAuth` loads with the package. The JWT, token-storage and OAuth names
load on first access (OAuth brings the loopback callback server, aiohttp.web), and
pyjwt/cryptography are imported only when a JWT is built or signed.
"""

from typing import TYPE_CHECKING

from .._lazy import lazy_attributes
from .bearer import BearerAuth, TokenProvider

if TYPE_CHECKING:
    from .authorization_code import OAuth
    from .callback import (
        AuthorizationResponse,
        CallbackHandler,
        FunctionCallbackHandler,
        LoopbackCallbackHandler,
        PendingCallback,
        RedirectHandler,
        open_browser,
        print_authorization_url,
    )
    from .client_credentials import ClientCredentials
    from .dpop import DPoPKey
    from .identity_assertion import AssertionProvider, IdentityAssertionAuth, IdPTokenExchange
    from .jwt import SUPPORTED_ALGORITHMS, JWTAuth
    from .pkce import PKCE
    from .storage import (
        ClientRegistration,
        FileTokenStorage,
        MemoryTokenStorage,
        OAuthTokens,
        TokenStorage,
        TokenStorageError,
    )
    from .workload import IdentityTokenSource, WorkloadIdentity

_LAZY = {
    "JWTAuth": ".jwt",
    "SUPPORTED_ALGORITHMS": ".jwt",
    "ClientRegistration": ".storage",
    "FileTokenStorage": ".storage",
    "MemoryTokenStorage": ".storage",
    "OAuthTokens": ".storage",
    "TokenStorage": ".storage",
    "TokenStorageError": ".storage",
    "OAuth": ".authorization_code",
    "ClientCredentials": ".client_credentials",
    "IdentityAssertionAuth": ".identity_assertion",
    "IdPTokenExchange": ".identity_assertion",
    "AssertionProvider": ".identity_assertion",
    "LoopbackCallbackHandler": ".callback",
    "FunctionCallbackHandler": ".callback",
    "CallbackHandler": ".callback",
    "PendingCallback": ".callback",
    "AuthorizationResponse": ".callback",
    "RedirectHandler": ".callback",
    "open_browser": ".callback",
    "print_authorization_url": ".callback",
    "PKCE": ".pkce",
    "DPoPKey": ".dpop",
    "WorkloadIdentity": ".workload",
    "IdentityTokenSource": ".workload",
}

__getattr__ = lazy_attributes(__name__, _LAZY)

__all__ = [
    "PKCE",
    "SUPPORTED_ALGORITHMS",
    "AssertionProvider",
    "AuthorizationResponse",
    "BearerAuth",
    "CallbackHandler",
    "ClientCredentials",
    "ClientRegistration",
    "DPoPKey",
    "FileTokenStorage",
    "FunctionCallbackHandler",
    "IdPTokenExchange",
    "IdentityAssertionAuth",
    "IdentityTokenSource",
    "JWTAuth",
    "LoopbackCallbackHandler",
    "MemoryTokenStorage",
    "OAuth",
    "OAuthTokens",
    "PendingCallback",
    "RedirectHandler",
    "TokenProvider",
    "TokenStorage",
    "TokenStorageError",
    "WorkloadIdentity",
    "open_browser",
    "print_authorization_url",
]
