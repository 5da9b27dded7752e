"""Authentication hooks: bearer tokens (static or provided), signed JWTs and OAuth 2.1.

pyjwt and cryptography are imported only when a JWT is built or signed.
"""

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

__all__ = [
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
