"""Authentication hooks: bearer tokens (static or provided), signed JWTs and OAuth 2.1."""

from .bearer import BearerAuth, TokenProvider

__all__ = ["BearerAuth", "TokenProvider"]
