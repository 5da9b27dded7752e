"""PKCE (RFC 7636, ``S256`` only) and the ``state`` value of an authorization request."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from base64 import urlsafe_b64encode
from dataclasses import dataclass

from .._exceptions import ConfigError

__all__ = ["PKCE", "make_state", "s256_challenge", "state_matches"]

_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def s256_challenge(verifier: str) -> str:
    """``BASE64URL(SHA256(verifier))`` without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass(frozen=True, slots=True, repr=False)
class PKCE:
    """A code verifier and its ``S256`` challenge; the ``repr`` hides the verifier."""

    verifier: str
    challenge: str
    method: str = "S256"

    @classmethod
    def generate(cls, length: int = 64) -> PKCE:
        """A fresh verifier of ``length`` characters (43 to 128) from a CSPRNG."""
        if not 43 <= length <= 128:
            raise ConfigError("a PKCE code verifier must have 43 to 128 characters")
        verifier = secrets.token_urlsafe(length)[:length]
        return cls(verifier=verifier, challenge=s256_challenge(verifier))

    @classmethod
    def from_verifier(cls, verifier: str) -> PKCE:
        """Rebuild from a known verifier (checks RFC 7636 §4.1 length and alphabet)."""
        if not 43 <= len(verifier) <= 128 or not set(verifier) <= _UNRESERVED:
            raise ConfigError("invalid PKCE code verifier")
        return cls(verifier=verifier, challenge=s256_challenge(verifier))

    def __repr__(self) -> str:
        return f"PKCE(verifier=<redacted>, challenge={self.challenge!r}, method={self.method!r})"


def make_state() -> str:
    """An unguessable ``state`` value (32 random bytes, URL-safe)."""
    return secrets.token_urlsafe(32)


def state_matches(expected: str, received: str | None) -> bool:
    """Constant-time comparison of the ``state`` sent and the one received."""
    if received is None:
        return False
    return hmac.compare_digest(expected.encode(), received.encode())
