"""Stores for state that outlives one process or is shared by several.

:mod:`mcp_async.stores.redis` keeps OAuth tokens and client registrations, the response
cache and exported session states on Redis (``pip install 'mcp-async[redis]'``), so
that the workers of a gateway share them. See docs/deployment.md.
"""

from .._exceptions import MCPClientError

__all__ = ["StoreError"]


class StoreError(MCPClientError):
    """A shared store (Redis) could not be reached or answered out of turn; the message
    says which operation failed and what the client does instead, if anything."""
