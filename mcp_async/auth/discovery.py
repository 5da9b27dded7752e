"""Discovery of protected resource metadata and authorization server metadata.

The I/O half of MCP authorization discovery; URL orders and document validation are
the pure functions of :mod:`mcp_async.protocol.oauth`. Requests go through an
injected transport ``send`` (the client's bare transport: no hooks, redirects never
followed) wrapped in :class:`AuthHTTP`, which turns every failure into an
:class:`~mcp_async.AuthError` naming the step.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from .._config import Timeout
from .._exceptions import AuthError, InvalidJSONError, MCPClientError
from ..protocol.jsonrpc import load_document
from ..protocol.mcp import LATEST_VERSION, PROTOCOL_VERSION_HEADER
from ..protocol.oauth import (
    AuthServerMetadata,
    Challenge,
    ProtectedResourceMetadata,
    as_metadata_urls,
    canonical_resource,
    check_endpoint,
    issuers_match,
    legacy_metadata,
    legacy_metadata_url,
    origin,
    prm_urls,
    resource_allowed,
    same_origin,
)
from ..transports.http.base import Handler, HTTPRequest

__all__ = [
    "AuthHTTP",
    "Discovery",
    "discover",
    "discover_issuer",
    "fetch_authorization_server_metadata",
    "fetch_protected_resource_metadata",
]

logger = logging.getLogger("mcp_async.auth")

_FORM = "application/x-www-form-urlencoded"


class AuthHTTP:
    """JSON and form requests to OAuth endpoints over a bare transport ``send``.

    Every URL is checked first (HTTPS, or HTTP on a loopback address); transport
    failures and unparsable bodies become ``AuthError(step=...)``.
    """

    __slots__ = ("_send", "timeout")

    def __init__(self, send: Handler, *, timeout: Timeout) -> None:
        self._send = send
        self.timeout = timeout

    async def request(
        self,
        method: str,
        url: str,
        *,
        step: str,
        what: str,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        check_url: bool = True,
    ) -> tuple[int, Any]:
        """Send one request; return ``(status, decoded JSON body or None)``.

        ``check_url=False`` skips the HTTPS rule, for documents served by the MCP
        server itself (trusted as much as the server URL the caller chose).
        """
        status, data, _ = await self.exchange(
            method, url, step=step, what=what, headers=headers, body=body, check_url=check_url
        )
        return status, data

    async def exchange(
        self,
        method: str,
        url: str,
        *,
        step: str,
        what: str,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        check_url: bool = True,
    ) -> tuple[int, Any, Mapping[str, str]]:
        """Like :meth:`request`, and also return the response headers (for DPoP nonces)."""
        if check_url:
            check_endpoint(url, what, step=step)
        request = HTTPRequest(
            method,
            url,
            headers={"Accept": "application/json", **(headers or {})},
            body=body,
            timeout=self.timeout,
            idempotent=method == "GET",
        )
        try:
            response = await self._send(request)
            try:
                payload = await response.read()
            finally:
                response.release()
        except AuthError:
            raise
        except MCPClientError as exc:
            raise AuthError(f"{what} request to {url} failed: {exc}", step=step) from exc
        status = response.status
        answer_headers = response.headers
        if not payload.strip():
            return status, None, answer_headers
        try:
            return status, load_document(payload), answer_headers
        except (ValueError, InvalidJSONError) as exc:
            if 200 <= status < 300:
                raise AuthError(f"{what} at {url} did not answer JSON", step=step) from exc
            return status, None, answer_headers

    async def get_json(
        self,
        url: str,
        *,
        step: str,
        what: str,
        protocol_version: str | None = None,
        check_url: bool = True,
    ) -> tuple[int, Any]:
        """``GET`` a metadata document."""
        headers = {PROTOCOL_VERSION_HEADER: protocol_version} if protocol_version else None
        return await self.request(
            "GET", url, step=step, what=what, headers=headers, check_url=check_url
        )

    async def post_form(
        self,
        url: str,
        form: Mapping[str, str],
        *,
        step: str,
        what: str,
        headers: Mapping[str, str] | None = None,
    ) -> tuple[int, Any]:
        """``POST`` an ``application/x-www-form-urlencoded`` body."""
        status, data, _ = await self.send_form(url, form, step=step, what=what, headers=headers)
        return status, data

    async def send_form(
        self,
        url: str,
        form: Mapping[str, str],
        *,
        step: str,
        what: str,
        headers: Mapping[str, str] | None = None,
    ) -> tuple[int, Any, Mapping[str, str]]:
        """Like :meth:`post_form`, and also return the response headers."""
        return await self.exchange(
            "POST",
            url,
            step=step,
            what=what,
            headers={"Content-Type": _FORM, **(headers or {})},
            body=urlencode(form).encode(),
        )

    async def post_json(
        self, url: str, data: Mapping[str, Any], *, step: str, what: str
    ) -> tuple[int, Any]:
        """``POST`` a JSON body."""
        return await self.request(
            "POST",
            url,
            step=step,
            what=what,
            headers={"Content-Type": "application/json"},
            body=json.dumps(data).encode(),
        )


@dataclass(frozen=True, slots=True)
class Discovery:
    """What discovery found for one MCP server.

    ``resource`` is the RFC 8707 value sent in authorization and token requests;
    ``send_resource`` is false only for a 2025-03-26 server without resource metadata.
    """

    server_url: str
    resource: str
    metadata: AuthServerMetadata
    prm: ProtectedResourceMetadata | None = None
    prm_url: str | None = None
    send_resource: bool = True

    @property
    def issuer(self) -> str:
        """The authorization server's issuer identifier."""
        return self.metadata.issuer


def _is_retryable_miss(status: int) -> bool:
    """Statuses that mean "not here, try the next URL" (we never follow redirects)."""
    return 300 <= status < 500 and status != 429


async def fetch_protected_resource_metadata(
    http: AuthHTTP,
    server_url: str,
    header_url: str | None = None,
    *,
    protocol_version: str | None = LATEST_VERSION,
) -> tuple[ProtectedResourceMetadata | None, str | None]:
    """Find the RFC 9728 document in the specification's order.

    Returns ``(None, None)`` when every candidate answers 3xx/4xx (a server without
    resource metadata); a 5xx or 429 is an error, not an absence. A document whose
    ``resource`` does not cover ``server_url`` aborts discovery.
    """
    if header_url is not None:
        _check_metadata_url(header_url, server_url)
    server_resource = canonical_resource(server_url)
    for url in prm_urls(server_url, header_url):
        logger.debug("OAuth discovery: protected resource metadata at %s", url)
        status, data = await http.get_json(
            url, step="discovery", what="protected resource metadata",
            protocol_version=protocol_version, check_url=not same_origin(url, server_url),
        )
        if status == 200:
            prm = ProtectedResourceMetadata.from_dict(data)
            if not resource_allowed(server_resource, prm.resource):
                raise AuthError(
                    f"protected resource metadata at {url} is for {prm.resource!r}, "
                    f"not for {server_resource!r}; refusing to continue",
                    step="discovery",
                )
            return prm, url
        if not _is_retryable_miss(status):
            raise AuthError(
                f"protected resource metadata at {url} answered HTTP {status}",
                step="discovery", status=status,
            )
    return None, None


def _check_metadata_url(url: str, server_url: str) -> None:
    # A resource_metadata URL on the server's own origin is as trustworthy as the
    # server itself, even on plain HTTP; anywhere else it must be a safe endpoint.
    if not same_origin(url, server_url):
        check_endpoint(url, "resource_metadata URL", step="discovery")


async def fetch_authorization_server_metadata(
    http: AuthHTTP, issuer: str, *, protocol_version: str | None = LATEST_VERSION
) -> AuthServerMetadata:
    """Fetch and validate RFC 8414 / OIDC metadata for ``issuer``.

    URLs are tried in the specification's order; 3xx/4xx moves on, 5xx stops. The
    document's ``issuer`` must equal ``issuer`` and every endpoint must be HTTPS or
    loopback HTTP.
    """
    check_endpoint(issuer, "authorization server issuer", step="discovery")
    tried: list[str] = []
    for url in as_metadata_urls(issuer):
        tried.append(url)
        logger.debug("OAuth discovery: authorization server metadata at %s", url)
        status, data = await http.get_json(
            url, step="discovery", what="authorization server metadata",
            protocol_version=protocol_version,
        )
        if status == 200:
            return _validated(AuthServerMetadata.from_dict(data), issuer, url)
        if not _is_retryable_miss(status):
            raise AuthError(
                f"authorization server metadata at {url} answered HTTP {status}",
                step="discovery", status=status,
            )
    raise AuthError(
        f"no authorization server metadata for issuer {issuer} (tried {', '.join(tried)})",
        step="discovery",
    )


def _validated(metadata: AuthServerMetadata, issuer: str, url: str) -> AuthServerMetadata:
    if not issuers_match(metadata.issuer, issuer):
        raise AuthError(
            f"authorization server metadata at {url} names issuer {metadata.issuer!r}, "
            f"expected {issuer!r}; refusing to continue",
            step="discovery",
        )
    for name, endpoint in metadata.endpoints():
        check_endpoint(endpoint, f"{name} of {metadata.issuer}", step="discovery")
    return metadata


async def discover(
    http: AuthHTTP,
    server_url: str,
    challenge: Challenge | None = None,
    *,
    issuer: str | None = None,
    protocol_version: str | None = None,
) -> Discovery:
    """Everything a grant needs: resource metadata, the chosen AS and its metadata.

    ``issuer`` pins the authorization server: it must be one the resource metadata
    lists (the first listed is used otherwise). Without resource metadata the
    2025-03-26 rules apply: metadata at the server's origin, else the default
    ``/authorize``, ``/token`` and ``/register`` endpoints there.
    ``protocol_version`` is the MCP version of the request that triggered discovery
    (sent on metadata requests; the ``resource`` parameter is left out for 2025-03-26).
    """
    version = protocol_version or LATEST_VERSION
    header_url = challenge.resource_metadata if challenge is not None else None
    prm, prm_url = await fetch_protected_resource_metadata(
        http, server_url, header_url, protocol_version=version
    )
    server_resource = canonical_resource(server_url)
    if prm is not None:
        chosen = _choose_issuer(prm, issuer)
        metadata = await fetch_authorization_server_metadata(
            http, chosen, protocol_version=version
        )
        return Discovery(
            server_url=server_url,
            resource=prm.resource if resource_allowed(server_resource, prm.resource)
            else server_resource,
            metadata=metadata,
            prm=prm,
            prm_url=prm_url,
        )
    legacy_issuer = origin(server_url)
    if issuer is not None and not issuers_match(issuer, legacy_issuer):
        raise AuthError(
            f"the server has no resource metadata, so its authorization server is "
            f"{legacy_issuer}, not the configured issuer {issuer}",
            step="discovery",
        )
    url = legacy_metadata_url(server_url)
    check_endpoint(url, "authorization server", step="discovery")
    logger.debug("OAuth discovery: no resource metadata; 2025-03-26 metadata at %s", url)
    status, data = await http.get_json(
        url, step="discovery", what="authorization server metadata", protocol_version=version
    )
    if status == 200:
        metadata = _validated(AuthServerMetadata.from_dict(data), legacy_issuer, url)
    elif _is_retryable_miss(status):
        metadata = legacy_metadata(server_url)
    else:
        raise AuthError(
            f"authorization server metadata at {url} answered HTTP {status}",
            step="discovery", status=status,
        )
    return Discovery(
        server_url=server_url,
        resource=server_resource,
        metadata=metadata,
        send_resource=version != "2025-03-26",
    )


def _choose_issuer(prm: ProtectedResourceMetadata, pinned: str | None) -> str:
    if pinned is None:
        return prm.authorization_servers[0]
    for candidate in prm.authorization_servers:
        if issuers_match(candidate, pinned):
            return candidate
    raise AuthError(
        f"the server's resource metadata does not list the configured issuer {pinned} "
        f"(it lists {', '.join(prm.authorization_servers)})",
        step="discovery",
    )


async def discover_issuer(
    http: AuthHTTP, issuer: str, server_url: str, *, protocol_version: str | None = None
) -> Discovery:
    """Discovery for a configured authorization server (no resource metadata consulted).

    Used where the trust model fixes the AS (enterprise ID-JAG): its token endpoint
    must also be on the issuer's origin so no credential can be steered elsewhere.
    """
    metadata = await fetch_authorization_server_metadata(
        http, issuer, protocol_version=protocol_version or LATEST_VERSION
    )
    if not same_origin(metadata.token_endpoint, issuer):
        raise AuthError(
            f"token endpoint {metadata.token_endpoint} is not on the origin of the configured "
            f"issuer {issuer}",
            step="discovery",
        )
    return Discovery(
        server_url=server_url, resource=canonical_resource(server_url), metadata=metadata
    )
