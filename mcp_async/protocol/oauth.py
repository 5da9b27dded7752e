"""Pure OAuth 2.1 rules for MCP authorization: no I/O happens here.

* ``WWW-Authenticate`` parsing (RFC 9110 §11.6.1) and the Bearer challenge fields
  MCP uses (``resource_metadata``, ``scope``, ``error``);
* the discovery URL orders of the MCP specification: protected resource metadata
  (RFC 9728) and authorization server metadata (RFC 8414 and OpenID Connect, with
  path-inserted issuers), plus the 2025-03-26 defaults;
* the canonical resource identifier (RFC 8707) and the resource match rule;
* parsed metadata documents, scope selection and union, and the URL safety rules
  (HTTPS, or plain HTTP on a loopback address only).

Every rejection raises :class:`~mcp_async.AuthError` naming the step.
"""

from __future__ import annotations

import ipaddress
import re
from base64 import b64encode
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final
from urllib.parse import quote

from yarl import URL

from .._exceptions import AuthError

__all__ = [
    "AuthServerMetadata",
    "Challenge",
    "ProtectedResourceMetadata",
    "as_metadata_urls",
    "basic_authorization",
    "bearer_challenge",
    "canonical_resource",
    "check_endpoint",
    "is_loopback_url",
    "issuers_match",
    "legacy_metadata",
    "legacy_metadata_url",
    "origin",
    "parse_www_authenticate",
    "prm_urls",
    "resource_allowed",
    "same_origin",
    "select_scope",
    "union_scopes",
]

PRM_WELL_KNOWN: Final = "/.well-known/oauth-protected-resource"
OAUTH_WELL_KNOWN: Final = "/.well-known/oauth-authorization-server"
OIDC_WELL_KNOWN: Final = "/.well-known/openid-configuration"

_EMPTY: Mapping[str, Any] = MappingProxyType({})

_TCHARS = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_SCHEME_RE = re.compile(rf"\s*({_TCHARS})(?=\s|,|$)\s*")
_PARAM_RE = re.compile(rf'\s*({_TCHARS})\s*=\s*("(?:[^"\\]|\\.)*"|{_TCHARS})\s*')
_TOKEN68_RE = re.compile(r"([A-Za-z0-9._~+/-]+=*)\s*(?=,|$)")
_SEPARATORS_RE = re.compile(r"[\s,]*")
_QUOTED_PAIR_RE = re.compile(r"\\(.)")


@dataclass(frozen=True, slots=True)
class Challenge:
    """One challenge of a ``WWW-Authenticate`` header: a scheme and its parameters.

    Parameter names are lower-cased; values are unquoted. ``token68`` holds the
    single opaque value some schemes use instead of parameters.
    """

    scheme: str
    params: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    token68: str | None = None

    @property
    def error(self) -> str | None:
        """The ``error`` parameter (e.g. ``invalid_token``, ``insufficient_scope``)."""
        return self.params.get("error")

    @property
    def scope(self) -> str | None:
        """The ``scope`` parameter: the scopes the server asks for, space separated."""
        return " ".join(self.params.get("scope", "").split()) or None

    @property
    def resource_metadata(self) -> str | None:
        """The ``resource_metadata`` URL (RFC 9728 §5.1), if the server gave one."""
        return self.params.get("resource_metadata") or None


def parse_www_authenticate(value: str | None) -> tuple[Challenge, ...]:
    """Parse every challenge of a ``WWW-Authenticate`` value.

    Lenient where servers commonly deviate (missing spaces, stray commas); a
    malformed tail is ignored rather than failing the whole header.
    """
    if not value:
        return ()
    challenges: list[Challenge] = []
    pos, end = 0, len(value)
    while True:
        match = _SEPARATORS_RE.match(value, pos)
        pos = match.end() if match else pos
        if pos >= end:
            break
        scheme_match = _SCHEME_RE.match(value, pos)
        if scheme_match is None:
            break
        pos = scheme_match.end()
        params: dict[str, str] = {}
        token68: str | None = None
        param = _PARAM_RE.match(value, pos)
        if param is None:
            token = _TOKEN68_RE.match(value, pos)
            if token is not None:
                token68 = token.group(1)
                pos = token.end()
        while param is not None:
            name, raw = param.groups()
            params.setdefault(name.lower(), _unquote(raw))
            pos = param.end()
            if pos < end and value[pos] == ",":
                pos += 1
                param = _PARAM_RE.match(value, pos)
            else:
                param = None
        challenges.append(Challenge(scheme_match.group(1), MappingProxyType(params), token68))
    return tuple(challenges)


def _unquote(raw: str) -> str:
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        return _QUOTED_PAIR_RE.sub(r"\1", raw[1:-1])
    return raw


def bearer_challenge(value: str | None, *, dpop: bool = False) -> Challenge | None:
    """The ``Bearer`` challenge of a ``WWW-Authenticate`` value, or ``None``.

    With ``dpop=True`` a ``DPoP`` challenge (RFC 9449 §7.1) is preferred: it carries the
    same parameters (``error``, ``scope``, ``resource_metadata``).
    """
    challenges = parse_www_authenticate(value)
    if dpop:
        for challenge in challenges:
            if challenge.scheme.lower() == "dpop":
                return challenge
    for challenge in challenges:
        if challenge.scheme.lower() == "bearer":
            return challenge
    return None


# -- URLs -----------------------------------------------------------------------------
def _absolute(url: str, what: str, step: str) -> URL:
    try:
        parsed = URL(url)
    except (TypeError, ValueError) as exc:
        raise AuthError(f"{what} is not a valid URL: {url!r}", step=step) from exc
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise AuthError(f"{what} must be an absolute http(s) URL, got {url!r}", step=step)
    return parsed


def origin(url: str) -> str:
    """``scheme://host[:port]`` of ``url``, lower-cased, default port omitted."""
    return str(URL(url).origin())


def same_origin(a: str, b: str) -> bool:
    """Whether two URLs share scheme, host and port."""
    try:
        return URL(a).origin() == URL(b).origin()
    except ValueError:
        return False


def is_loopback_url(url: str | URL) -> bool:
    """True for ``localhost`` and loopback IP literals (127.0.0.0/8, ::1)."""
    host = (url if isinstance(url, URL) else URL(url)).host or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_endpoint(url: str, what: str, *, step: str) -> str:
    """Return ``url`` if it may carry OAuth traffic: HTTPS, or HTTP to a loopback host.

    Also refuses fragments (RFC 8414 §2) and userinfo.
    """
    parsed = _absolute(url, what, step)
    if parsed.scheme == "http" and not is_loopback_url(parsed):
        raise AuthError(
            f"{what} {url} uses plain HTTP; only HTTPS (or HTTP on a loopback address) is allowed",
            step=step,
        )
    if parsed.fragment or parsed.user is not None:
        raise AuthError(f"{what} {url} must not have a fragment or user info", step=step)
    return url


def canonical_resource(url: str) -> str:
    """The RFC 8707 resource identifier of an MCP server URL.

    Scheme and host lower-cased, default port and fragment dropped, and the lone
    ``/`` of a root path removed; the path keeps its case and any trailing slash.
    """
    parsed = _absolute(url, "server URL", "discovery").with_fragment(None)
    if parsed.raw_path == "/" and not parsed.raw_query_string:
        return str(parsed.origin())
    return str(parsed)


def resource_allowed(server_resource: str, advertised: str) -> bool:
    """Whether metadata advertising ``advertised`` may speak for ``server_resource``.

    Same origin, and the advertised path equals the server's path or is a parent of
    it at a segment boundary (``/api`` covers ``/api/mcp`` but not ``/api2``).
    """
    try:
        ours, theirs = URL(server_resource), URL(advertised)
    except ValueError:
        return False
    if not theirs.is_absolute() or ours.origin() != theirs.origin():
        return False
    our_path = ours.path if ours.path.endswith("/") else ours.path + "/"
    their_path = theirs.path if theirs.path.endswith("/") else theirs.path + "/"
    return our_path.startswith(their_path)


def prm_urls(server_url: str, header_url: str | None) -> list[str]:
    """Protected resource metadata URLs to try, in the specification's order.

    The challenge's ``resource_metadata`` URL first, then the path-based well-known
    URL (``/.well-known/oauth-protected-resource/<path>``), then the root one.
    """
    parsed = _absolute(server_url, "server URL", "discovery")
    urls: list[str] = []
    if header_url:
        urls.append(header_url)
    path = parsed.path.rstrip("/")
    root = str(parsed.origin().with_path(PRM_WELL_KNOWN))
    if path:
        urls.append(str(parsed.origin().with_path(PRM_WELL_KNOWN + path)))
    urls.append(root)
    return list(dict.fromkeys(urls))


def as_metadata_urls(issuer: str) -> list[str]:
    """Authorization server metadata URLs for ``issuer``, in the specification's order.

    Issuer with a path ``/t1``: RFC 8414 path-inserted, OIDC path-inserted, then OIDC
    path-appended. Issuer without a path: RFC 8414, then OIDC.
    """
    parsed = _absolute(issuer, "issuer", "discovery")
    root = parsed.origin()
    path = parsed.path.rstrip("/")
    if not path:
        return [str(root.with_path(OAUTH_WELL_KNOWN)), str(root.with_path(OIDC_WELL_KNOWN))]
    return [
        str(root.with_path(OAUTH_WELL_KNOWN + path)),
        str(root.with_path(OIDC_WELL_KNOWN + path)),
        str(root.with_path(path + OIDC_WELL_KNOWN)),
    ]


def legacy_metadata_url(server_url: str) -> str:
    """2025-03-26: authorization server metadata at the server's origin (path discarded)."""
    root = _absolute(server_url, "server URL", "discovery").origin()
    return str(root.with_path(OAUTH_WELL_KNOWN))


def issuers_match(a: str, b: str) -> bool:
    """RFC 8414 §3.3 exact comparison, except ``https://as`` and ``https://as/`` are equal."""
    if a == b:
        return True
    shorter, longer = sorted((a, b), key=len)
    return longer == shorter + "/" and "/" not in shorter.partition("://")[2]


# -- metadata documents -------------------------------------------------------------------
def _strings(data: Mapping[str, Any], name: str, what: str) -> tuple[str, ...] | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise AuthError(f"{what}: {name!r} must be a list of strings", step="discovery")
    return tuple(value)


def _opt_url(data: Mapping[str, Any], name: str, what: str) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise AuthError(f"{what}: {name!r} must be a URL string", step="discovery")
    return value


@dataclass(frozen=True, slots=True)
class ProtectedResourceMetadata:
    """RFC 9728 protected resource metadata: which authorization servers protect a resource."""

    resource: str
    authorization_servers: tuple[str, ...]
    scopes_supported: tuple[str, ...] | None = None
    raw: Mapping[str, Any] = field(default_factory=lambda: _EMPTY, compare=False)

    @classmethod
    def from_dict(cls, data: Any) -> ProtectedResourceMetadata:
        """Validate a metadata document; raises ``AuthError(step="discovery")``."""
        what = "protected resource metadata"
        if not isinstance(data, Mapping):
            raise AuthError(f"{what} is not a JSON object", step="discovery")
        resource = data.get("resource")
        if not isinstance(resource, str) or not resource:
            raise AuthError(f"{what} has no 'resource'", step="discovery")
        servers = _strings(data, "authorization_servers", what)
        if not servers:
            raise AuthError(f"{what} lists no 'authorization_servers'", step="discovery")
        return cls(
            resource=resource,
            authorization_servers=servers,
            scopes_supported=_strings(data, "scopes_supported", what),
            raw=MappingProxyType(dict(data)),
        )


@dataclass(frozen=True, slots=True)
class AuthServerMetadata:
    """RFC 8414 / OpenID Connect discovery metadata, reduced to what a client uses.

    ``legacy_defaults`` is true when no document existed and the 2025-03-26 default
    endpoints on the MCP server's origin stand in for one.
    """

    issuer: str
    token_endpoint: str
    authorization_endpoint: str | None = None
    registration_endpoint: str | None = None
    scopes_supported: tuple[str, ...] | None = None
    code_challenge_methods_supported: tuple[str, ...] | None = None
    grant_types_supported: tuple[str, ...] | None = None
    token_endpoint_auth_methods_supported: tuple[str, ...] | None = None
    client_id_metadata_document_supported: bool = False
    authorization_response_iss_parameter_supported: bool = False
    legacy_defaults: bool = False
    raw: Mapping[str, Any] = field(default_factory=lambda: _EMPTY, compare=False)

    @classmethod
    def from_dict(cls, data: Any) -> AuthServerMetadata:
        """Validate a metadata document; raises ``AuthError(step="discovery")``."""
        what = "authorization server metadata"
        if not isinstance(data, Mapping):
            raise AuthError(f"{what} is not a JSON object", step="discovery")
        issuer = data.get("issuer")
        if not isinstance(issuer, str) or not issuer:
            raise AuthError(f"{what} has no 'issuer'", step="discovery")
        token_endpoint = _opt_url(data, "token_endpoint", what)
        if token_endpoint is None:
            raise AuthError(f"{what} has no 'token_endpoint'", step="discovery")
        return cls(
            issuer=issuer,
            token_endpoint=token_endpoint,
            authorization_endpoint=_opt_url(data, "authorization_endpoint", what),
            registration_endpoint=_opt_url(data, "registration_endpoint", what),
            scopes_supported=_strings(data, "scopes_supported", what),
            code_challenge_methods_supported=_strings(
                data, "code_challenge_methods_supported", what
            ),
            grant_types_supported=_strings(data, "grant_types_supported", what),
            token_endpoint_auth_methods_supported=_strings(
                data, "token_endpoint_auth_methods_supported", what
            ),
            client_id_metadata_document_supported=(
                data.get("client_id_metadata_document_supported") is True
            ),
            authorization_response_iss_parameter_supported=(
                data.get("authorization_response_iss_parameter_supported") is True
            ),
            raw=MappingProxyType(dict(data)),
        )

    @property
    def supports_s256(self) -> bool:
        """Whether PKCE ``S256`` is advertised (an absent list counts as no)."""
        return "S256" in (self.code_challenge_methods_supported or ())

    @property
    def supports_refresh(self) -> bool:
        """Whether the refresh_token grant may be used (absent list: RFC 8414 default)."""
        grants = self.grant_types_supported
        return grants is None or "refresh_token" in grants

    def endpoints(self) -> Iterable[tuple[str, str]]:
        """``(name, url)`` of every endpoint the document names."""
        for name in ("token_endpoint", "authorization_endpoint", "registration_endpoint"):
            value = getattr(self, name)
            if value is not None:
                yield name, value


def legacy_metadata(server_url: str) -> AuthServerMetadata:
    """2025-03-26 defaults when the server's origin has no metadata document.

    ``/authorize``, ``/token`` and ``/register`` on the origin; PKCE S256 is assumed
    because that revision makes it mandatory for every client and server.
    """
    root = _absolute(server_url, "server URL", "discovery").origin()
    return AuthServerMetadata(
        issuer=str(root),
        authorization_endpoint=str(root.with_path("/authorize")),
        token_endpoint=str(root.with_path("/token")),
        registration_endpoint=str(root.with_path("/register")),
        code_challenge_methods_supported=("S256",),
        legacy_defaults=True,
    )


# -- scopes ---------------------------------------------------------------------------------
def union_scopes(*scopes: str | None) -> str | None:
    """Space-joined union of scope strings, first-seen order kept; ``None`` if empty."""
    seen: dict[str, None] = {}
    for scope in scopes:
        for item in (scope or "").split():
            seen.setdefault(item, None)
    return " ".join(seen) or None


def select_scope(
    challenge_scope: str | None,
    prm: ProtectedResourceMetadata | None,
    metadata: AuthServerMetadata | None = None,
    *,
    offline_access: bool = False,
) -> str | None:
    """The ``scope`` to request, as the MCP specification chooses it.

    The challenge's ``scope`` when present, else every scope the protected resource
    metadata lists, else nothing. With ``offline_access`` (a grant that can use a
    refresh token), ``offline_access`` is added only if the authorization server
    advertises it.
    """
    if challenge_scope:
        scope: str | None = challenge_scope
    elif prm is not None and prm.scopes_supported:
        scope = " ".join(prm.scopes_supported)
    else:
        scope = None
    if (
        offline_access
        and metadata is not None
        and "offline_access" in (metadata.scopes_supported or ())
        and metadata.supports_refresh
    ):
        scope = union_scopes(scope, "offline_access")
    return scope


# -- client authentication ----------------------------------------------------------------
def basic_authorization(client_id: str, client_secret: str) -> str:
    """``Authorization`` value for ``client_secret_basic`` (RFC 6749 §2.3.1 encoding)."""
    pair = f"{quote(client_id, safe='')}:{quote(client_secret, safe='')}"
    return "Basic " + b64encode(pair.encode()).decode("ascii")
