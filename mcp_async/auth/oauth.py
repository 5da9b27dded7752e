"""OAuth 2.1 hooks for MCP servers, without serializing traffic.

* :class:`OAuth`: authorization code with PKCE S256 for a user, with discovery
  (RFC 9728 → RFC 8414/OIDC), client identity (pre-registered → client ID metadata
  document → RFC 7591 registration), refresh, and step-up on ``insufficient_scope``;
* :class:`ClientCredentials`: machine-to-machine tokens with ``client_secret_basic``,
  ``client_secret_post`` or ``private_key_jwt`` (RFC 7523);
* :class:`IdentityAssertionAuth`: enterprise cross-app access, an ID-JAG from the
  enterprise IdP (RFC 8693) presented with the jwt-bearer grant (RFC 7523).

Concurrency: no lock is held across a request. Tokens are read without waiting;
anything that replaces them (refresh, a new grant, a step-up) runs as one shared
task ("single flight") that every request needing new tokens awaits. A token that
is about to expire is refreshed in the background while requests keep using it.

Security: tokens go only to the origin of the MCP server they were issued for and
refresh tokens only to the authorization server that issued them; authorization
servers must use HTTPS (plain HTTP only on loopback); redirects are never followed;
nothing secret is logged or shown in a ``repr``. Every failure is an
:class:`~mcp_async.AuthError` whose ``step`` is ``discovery``, ``registration``,
``authorization``, ``token`` or ``refresh`` (``storage`` for the token storage).

One module per job: :mod:`~mcp_async.auth.oauth_hook` (the HTTP hook and the life of the
tokens, shared by every grant), :mod:`~mcp_async.auth.token_endpoint` (client
authentication and token requests), and one module per grant:
:mod:`~mcp_async.auth.authorization_code`, :mod:`~mcp_async.auth.client_credentials` and
:mod:`~mcp_async.auth.identity_assertion`. This module is their public import path.
"""

from .authorization_code import OAuth
from .client_credentials import ClientCredentials
from .identity_assertion import AssertionProvider, IdentityAssertionAuth, IdPTokenExchange

# The grant and token-type constants and the clock type stay importable from here, as before.
from .token_endpoint import (  # noqa: F401
    CLIENT_ASSERTION_TYPE,
    ID_JAG_TOKEN_TYPE,
    ID_TOKEN_TYPE,
    JWT_BEARER_GRANT,
    TOKEN_EXCHANGE_GRANT,
    Clock,
)

__all__ = [
    "AssertionProvider",
    "ClientCredentials",
    "IdPTokenExchange",
    "IdentityAssertionAuth",
    "OAuth",
]
