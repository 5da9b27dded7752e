"""Requests to an authorization server's token endpoint, shared by every OAuth grant.

Client authentication (``client_secret_basic``, ``client_secret_post``, ``none`` and the
RFC 7523 ``private_key_jwt`` assertion), the OAuth error answer (RFC 6749 §5.2) as a typed
:class:`~mcp_async.AuthError`, and the token request itself, with a DPoP proof and one retry
for a fresh DPoP nonce (RFC 9449 §8).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .._exceptions import AuthError, body_snippet
from ..protocol.oauth import basic_authorization
from .discovery import AuthHTTP, Discovery
from .dpop import DPoPKey, DPoPNonces
from .storage import ClientRegistration, OAuthTokens

#: Seconds since the epoch, like :func:`time.time` (injected in tests).
Clock = Callable[[], float]

JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"
ID_JAG_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id-jag"
ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token"
CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

_SECRET_METHODS = frozenset({"client_secret_basic", "client_secret_post"})
_REGISTRATION_METHODS = _SECRET_METHODS | {"none"}


class _EndpointError(AuthError):
    """An OAuth error answer (RFC 6749 §5.2); ``error`` is its code, if it sent one."""

    def __init__(self, message: str, *, step: str, status: int, error: str | None) -> None:
        super().__init__(message, step=step, status=status)
        self.error = error


def _endpoint_error(what: str, status: int, data: Any, step: str) -> _EndpointError:
    error = description = None
    if isinstance(data, Mapping):
        raw_error, raw_description = data.get("error"), data.get("error_description")
        error = raw_error if isinstance(raw_error, str) else None
        description = raw_description if isinstance(raw_description, str) else None
    message = f"{what} refused the request (HTTP {status}"
    if error:
        message += f", {error}"
    message += ")"
    if description:
        message += f": {body_snippet(description)}"
    return _EndpointError(message, step=step, status=status, error=error)


def _client_auth(
    client: ClientRegistration,
    form: dict[str, str],
    headers: dict[str, str],
    *,
    step: str,
    assertion: Callable[[], str] | None = None,
) -> None:
    """Add client authentication for ``client`` to a token request."""
    method = client.token_endpoint_auth_method or (
        "client_secret_basic" if client.client_secret else "none"
    )
    if method in _SECRET_METHODS:
        if not client.client_secret:
            raise AuthError(f"client authentication {method} needs a client secret", step=step)
        if method == "client_secret_basic":
            headers["Authorization"] = basic_authorization(client.client_id, client.client_secret)
        else:
            form["client_id"] = client.client_id
            form["client_secret"] = client.client_secret
    elif method == "none":
        form["client_id"] = client.client_id
    elif method == "private_key_jwt" and assertion is not None:
        form["client_id"] = client.client_id
        form["client_assertion_type"] = CLIENT_ASSERTION_TYPE
        form["client_assertion"] = assertion()
    else:
        raise AuthError(f"unsupported token endpoint auth method {method!r}", step=step)


async def request_tokens(
    http: Callable[[], AuthHTTP],
    context: Discovery,
    client: ClientRegistration,
    form: Mapping[str, str],
    *,
    step: str,
    clock: Clock,
    dpop: DPoPKey | None,
    nonces: DPoPNonces,
    assertion: Callable[[], str] | None = None,
    previous: OAuthTokens | None = None,
) -> OAuthTokens:
    """POST ``form`` to ``context``'s token endpoint as ``client``; the tokens it issues.

    ``http`` gives the authorization-server HTTP client when the request is sent;
    ``assertion`` makes the ``private_key_jwt`` client assertion. With ``dpop``, each
    attempt carries a proof, and a ``use_dpop_nonce`` answer is retried once with the nonce.
    """
    body = dict(form)
    headers: dict[str, str] = {}
    _client_auth(client, body, headers, step=step, assertion=assertion)
    if context.send_resource:
        body["resource"] = context.resource
    endpoint = context.metadata.token_endpoint
    if dpop is not None:
        _check_dpop_algorithm(dpop, context, step)
    for attempt in (1, 2):
        if dpop is not None:
            headers["DPoP"] = dpop.proof("POST", endpoint, nonce=nonces.get(endpoint))
        status, data, answer_headers = await http().send_form(
            endpoint, body, headers=headers, step=step, what="token endpoint"
        )
        if dpop is None:
            break
        fresh_nonce = nonces.update(endpoint, answer_headers)
        if not (
            attempt == 1
            and status == 400
            and fresh_nonce
            and isinstance(data, Mapping)
            and data.get("error") == "use_dpop_nonce"
        ):
            break
        # RFC 9449 §8: the authorization server wants a nonce; one retry with it.
    if status != 200:
        raise _endpoint_error("token endpoint", status, data, step)
    tokens = OAuthTokens.from_token_response(
        data, clock(), issuer=context.issuer, resource=context.resource,
        previous=previous, step=step,
    )
    token_type = tokens.token_type.lower()
    if token_type == "dpop" and dpop is None:
        raise AuthError(
            "token endpoint issued a DPoP-bound token, but DPoP is not enabled "
            "(pass dpop=True)",
            step=step,
        )
    if token_type not in ("bearer", "dpop"):
        raise AuthError(
            f"token endpoint issued a {tokens.token_type!r} token; only Bearer and DPoP "
            "are supported",
            step=step,
        )
    return tokens


def _check_dpop_algorithm(dpop: DPoPKey, context: Discovery, step: str) -> None:
    """Refuse early when the authorization server lists DPoP algorithms without ours."""
    supported = context.metadata.raw.get("dpop_signing_alg_values_supported")
    if isinstance(supported, list) and supported and dpop.algorithm not in supported:
        raise AuthError(
            f"{context.issuer} accepts DPoP proofs signed with {', '.join(map(str, supported))}, "
            f"not {dpop.algorithm}; give dpop=DPoPKey.generate(...) one of those",
            step=step,
        )
