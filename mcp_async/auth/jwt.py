"""Self-signed JWT bearer tokens (``JWTAuth``), signed with PyJWT.

PyJWT and cryptography are imported when a :class:`JWTAuth` is constructed, never
when :mod:`mcp_async` or :mod:`mcp_async.auth` is imported.
"""

from __future__ import annotations

import json
import logging
import math
import secrets
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .._exceptions import AuthError, ConfigError
from ..transports.http.base import Handler, HTTPRequest, HTTPResponse
from ..transports.http.hooks import Hook

__all__ = ["JWTAuth", "SUPPORTED_ALGORITHMS"]

logger = logging.getLogger("mcp_async.auth")

_HMAC = ("HS256", "HS384", "HS512")
_RSA = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")
_EC = ("ES256", "ES256K", "ES384", "ES512")
_OKP = ("EdDSA",)

#: The ``alg`` values :class:`JWTAuth` signs with (``none`` is never accepted).
SUPPORTED_ALGORITHMS: tuple[str, ...] = _HMAC + _RSA + _EC + _OKP

_MANAGED_CLAIMS = frozenset({"iat", "exp", "nbf", "jti"})
_DEFAULT_REFRESH_MARGIN = 30.0


def _family_needs(algorithm: str) -> str:
    if algorithm in _HMAC:
        return "a non-empty shared secret (str or bytes)"
    if algorithm in _RSA:
        return "an RSA private key (PEM string/bytes or a cryptography key object)"
    if algorithm in _EC:
        curve = {"ES256": "P-256", "ES256K": "secp256k1", "ES384": "P-384", "ES512": "P-521"}
        return f"an EC private key on {curve[algorithm]} (PEM or a cryptography key object)"
    return "an Ed25519 or Ed448 private key (PEM or a cryptography key object)"


def _positive_seconds(name: str, value: object, *, allow_zero: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigError(f"{name} must be a number of seconds, got {value!r}")
    if value < 0 or (value == 0 and not allow_zero):
        raise ConfigError(f"{name} must be {'>= 0' if allow_zero else '> 0'}, got {value!r}")
    return float(value)


def _json_object(name: str, value: Mapping[str, Any] | None) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise ConfigError(f"{name} must be a mapping with string keys")
    data = dict(value)
    try:
        json.dumps(data, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{name} must be JSON-serialisable: {exc}") from None
    return data


def _load_key(algorithm: str, key: object) -> Any:
    """Parse and check ``key`` for ``algorithm``; returns what PyJWT signs with."""
    try:
        import jwt
        from jwt.exceptions import InvalidKeyError
    except ImportError:
        raise ConfigError("JWTAuth needs PyJWT: pip install 'pyjwt[crypto]'") from None
    needs = _family_needs(algorithm)
    try:
        alg_obj = jwt.PyJWS().get_algorithm_by_name(algorithm)
    except NotImplementedError:
        raise ConfigError(
            f"algorithm {algorithm} needs the 'cryptography' package: pip install 'pyjwt[crypto]'"
        ) from None
    if algorithm in _HMAC:
        if not isinstance(key, str | bytes):
            raise ConfigError(f"{algorithm} needs {needs}, got {type(key).__name__}")
        if not key:
            raise ConfigError(f"{algorithm} needs {needs}; the secret is empty")
    try:
        prepared = alg_obj.prepare_key(key)
    except Exception as exc:
        # Never echo the key; PyJWT's HMAC messages describe the problem without it.
        if algorithm in _HMAC and isinstance(exc, InvalidKeyError):
            what = str(exc)
        elif isinstance(key, str | bytes):
            what = _describe_pem(key)
        else:
            what = f"got {_describe_key(key)}"
        raise ConfigError(f"{algorithm} needs {needs}; {what}") from None
    if algorithm not in _HMAC:
        _check_private(algorithm, prepared, needs)
    weak = alg_obj.check_key_length(prepared)
    if weak:
        # RFC 7518 §3.2/§3.3 make these minimums a MUST; PyJWT would only warn per token.
        raise ConfigError(f"{algorithm} key is too short: {weak}")
    return prepared


def _describe_key(key: object) -> str:
    curve = getattr(getattr(key, "curve", None), "name", None)
    return type(key).__name__ + (f" on curve {curve}" if curve else "")


def _describe_pem(key: str | bytes) -> str:
    """Say what a PEM the algorithm rejected holds, without echoing any of it."""
    from cryptography.hazmat.primitives import serialization

    data = key.encode() if isinstance(key, str) else key
    try:
        return f"the PEM holds {_describe_key(serialization.load_pem_private_key(data, None))}"
    except TypeError:
        return "the PEM key is encrypted: load it with cryptography and pass the key object"
    except Exception:
        pass
    try:
        return f"the PEM holds {_describe_key(serialization.load_pem_public_key(data))}"
    except Exception:
        return "the key given is not a PEM-encoded private key"


def _check_private(algorithm: str, prepared: object, needs: str) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

    private: tuple[type, ...]
    if algorithm in _RSA:
        private = (rsa.RSAPrivateKey,)
    elif algorithm in _EC:
        private = (ec.EllipticCurvePrivateKey,)
    else:
        private = (ed25519.Ed25519PrivateKey, ed448.Ed448PrivateKey)
    if not isinstance(prepared, private):
        raise ConfigError(
            f"{algorithm} needs {needs}; got {type(prepared).__name__} (a public key cannot sign)"
        )


class JWTAuth(Hook):
    """Sign a short-lived JWT and send it as ``Authorization: Bearer <jwt>``.

    Args:
        key: the signing key. HS256/384/512: a shared secret (``str``/``bytes``, at
            least as long as the hash, RFC 7518 §3.2). RS*/PS*: an RSA private key of
            2048 bits or more; ES256/ES256K/ES384/ES512: an EC private key on the
            matching curve; EdDSA: an Ed25519/Ed448 private key — each as an
            unencrypted PEM string/bytes or a ``cryptography`` key object (load
            encrypted PEM files yourself and pass the object).
        algorithm: the JWS ``alg``; one of :data:`SUPPORTED_ALGORITHMS`. ``none`` is
            refused.
        issuer: the ``iss`` claim.
        subject: the ``sub`` claim.
        audience: the ``aud`` claim, a string or a list of strings.
        ttl: lifetime of each token in seconds (``exp`` = now + ttl).
        claims: extra claims. ``iat``, ``exp``, ``nbf`` and ``jti`` are set by the hook
            and may not be given; ``iss``/``sub``/``aud`` may be, when the matching
            argument is not.
        headers: extra JOSE header fields such as ``kid`` (``alg`` is not allowed).
        refresh_margin: a cached token is replaced this many seconds before it expires
            (default: 30, or half the ``ttl`` when that is shorter).
        leeway: ``iat`` and ``nbf`` are set this many seconds in the past, for servers
            whose clock runs behind ours.
        clock: returns the current epoch time in seconds (inject one in tests).

    Each token gets ``iat``, ``nbf``, ``exp`` and a random ``jti``. It is reused until
    ``refresh_margin`` before expiry, then a new one is signed. When the server answers
    401 the hook signs a fresh token and re-sends the request once.

    Every problem with the arguments — an unknown algorithm, a key of the wrong type,
    curve or size, a public key where a private one is needed — raises
    :class:`~mcp_async.ConfigError` here, not on the first request.

    Example::

        auth = JWTAuth(Path("key.pem").read_text(), algorithm="RS256",
                       issuer="my-agent", audience="https://mcp.example.com/mcp")
        async with AsyncMCPClient("https://mcp.example.com/mcp", auth=auth) as client:
            print(await client.list_tools())
    """

    def __init__(
        self,
        key: Any,
        *,
        algorithm: str = "HS256",
        issuer: str | None = None,
        subject: str | None = None,
        audience: str | Sequence[str] | None = None,
        ttl: float = 300,
        claims: Mapping[str, Any] | None = None,
        headers: Mapping[str, Any] | None = None,
        refresh_margin: float | None = None,
        leeway: float = 0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not isinstance(algorithm, str) or algorithm.lower() == "none":
            raise ConfigError(
                f"JWT algorithm {algorithm!r} is refused: unsigned tokens are never sent"
            )
        if algorithm not in SUPPORTED_ALGORITHMS:
            raise ConfigError(
                f"unknown JWT algorithm {algorithm!r}; use one of {', '.join(SUPPORTED_ALGORITHMS)}"
            )
        self._ttl = _positive_seconds("ttl", ttl)
        if refresh_margin is None:
            self._margin = min(_DEFAULT_REFRESH_MARGIN, self._ttl / 2)
        else:
            self._margin = _positive_seconds("refresh_margin", refresh_margin, allow_zero=True)
            if self._margin >= self._ttl:
                raise ConfigError(
                    f"refresh_margin ({refresh_margin}) must be shorter than ttl ({ttl})"
                )
        self._leeway = _positive_seconds("leeway", leeway, allow_zero=True)
        if not callable(clock):
            raise ConfigError("clock must be a callable returning epoch seconds")
        self._clock = clock

        base = _json_object("claims", claims)
        managed = sorted(_MANAGED_CLAIMS.intersection(base))
        if managed:
            raise ConfigError(f"claims may not set {', '.join(managed)}: JWTAuth sets them")
        for claim, value in (("iss", issuer), ("sub", subject)):
            if value is None:
                continue
            if not isinstance(value, str) or not value:
                raise ConfigError(f"the {claim!r} claim must be a non-empty string")
            if claim in base:
                raise ConfigError(f"{claim!r} is given both as an argument and in claims")
            base[claim] = value
        if audience is not None:
            if "aud" in base:
                raise ConfigError("'aud' is given both as audience= and in claims")
            if isinstance(audience, str):
                if not audience:
                    raise ConfigError("audience must be a non-empty string or list of strings")
                base["aud"] = audience
            elif (
                isinstance(audience, Sequence)
                and audience
                and all(isinstance(a, str) and a for a in audience)
            ):
                base["aud"] = list(audience)
            else:
                raise ConfigError("audience must be a non-empty string or list of strings")
        self._claims = base

        self._headers = _json_object("headers", headers)
        if "alg" in self._headers:
            raise ConfigError("headers may not set 'alg'; pass algorithm= instead")

        self.algorithm = algorithm
        self._key = _load_key(algorithm, key)
        import jwt

        self._encode: Callable[..., str] = jwt.encode
        self._lock = threading.Lock()
        self._token: str | None = None
        self._refresh_at = -math.inf

    @property
    def claims(self) -> Mapping[str, Any]:
        """The fixed claims (``iss``, ``sub``, ``aud`` and extras) put in every token."""
        return dict(self._claims)

    def token(self) -> str:
        """The JWT to send now: the cached one, or a newly signed one near expiry."""
        return self._current(replacing=None)

    def _current(self, *, replacing: str | None) -> str:
        with self._lock:
            now = self._clock()
            token = self._token
            # A token another task already replaced after the same 401 is reused.
            if token is not None and token != replacing and now < self._refresh_at:
                return token
            token, expires = self._sign(now)
            self._token = token
            self._refresh_at = expires - self._margin
            return token

    def _sign(self, now: float) -> tuple[str, float]:
        try:
            now = float(now)
        except (TypeError, ValueError):
            raise ConfigError(f"clock returned {now!r}, not epoch seconds") from None
        issued = math.floor(now - self._leeway)
        expires = math.floor(now + self._ttl)
        payload = {
            **self._claims,
            "iat": issued,
            "nbf": issued,
            "exp": expires,
            "jti": secrets.token_urlsafe(16),
        }
        try:
            token = self._encode(
                payload, self._key, algorithm=self.algorithm, headers=self._headers or None
            )
        except Exception as exc:
            raise AuthError(
                f"signing the {self.algorithm} JWT failed ({type(exc).__name__})", step="jwt"
            ) from exc
        logger.debug("signed a new %s JWT expiring at %d", self.algorithm, expires)
        return token, float(expires)

    async def around(self, request: HTTPRequest, call_next: Handler) -> HTTPResponse:
        """Attach the current JWT; on 401 sign a fresh one and re-send once."""
        token = self._current(replacing=None)
        request.headers["Authorization"] = f"Bearer {token}"
        response = await call_next(request)
        if response.status != 401:
            return response
        response.release()
        fresh = self._current(replacing=token)
        request.headers["Authorization"] = f"Bearer {fresh}"
        return await call_next(request)

    def __repr__(self) -> str:
        parts = [f"algorithm={self.algorithm!r}", "key=<redacted>"]
        for claim in ("iss", "sub", "aud"):
            if claim in self._claims:
                parts.append(f"{claim}={self._claims[claim]!r}")
        parts.append(f"ttl={self._ttl:g}")
        return f"JWTAuth({', '.join(parts)})"
