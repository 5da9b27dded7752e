"""DPoP (RFC 9449): sender-constrained OAuth tokens for MCP (SEP-1932).

A :class:`DPoPKey` holds one asymmetric key pair for the life of a client. Every token
request and every request to the MCP server carries a fresh proof JWT signed with it
(``typ: dpop+jwt``, the public key as ``jwk``; claims ``jti``, ``htm``, ``htu``, ``iat``,
and ``ath`` when it accompanies an access token). A server that wants a nonce answers
``use_dpop_nonce`` with a ``DPoP-Nonce`` header; :class:`DPoPNonces` remembers the last
nonce per origin, and the OAuth hooks retry once with it.

pyjwt with ``cryptography`` (the ``jwt`` extra) signs the proofs. The private key never
appears in a ``repr``, a log line or an error message.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections.abc import Callable, Mapping
from typing import Any

from yarl import URL

from .._exceptions import AuthError, ConfigError

__all__ = ["DPOP_ALGORITHMS", "DPoPKey", "DPoPNonces", "access_token_hash", "proof_url"]

#: Algorithms :meth:`DPoPKey.generate` can create keys for (RFC 9449 §4.2: asymmetric only).
DPOP_ALGORITHMS: tuple[str, ...] = ("ES256", "ES384", "ES512", "EdDSA")

_CURVES = {"ES256": "SECP256R1", "ES384": "SECP384R1", "ES512": "SECP521R1"}
#: The members of a public JWK that its RFC 7638 thumbprint hashes, by key type.
_THUMBPRINT_MEMBERS = {
    "EC": ("crv", "kty", "x", "y"),
    "RSA": ("e", "kty", "n"),
    "OKP": ("crv", "kty", "x"),
}
#: The ``DPoP-Nonce`` header (RFC 9449 §8, §9).
NONCE_HEADER = "DPoP-Nonce"


def _crypto() -> tuple[Any, Any]:
    try:
        import jwt
        from jwt.algorithms import get_default_algorithms

        if "ES256" not in get_default_algorithms():
            raise ImportError("cryptography is missing")
    except ImportError as exc:
        raise ConfigError(
            "DPoP needs pyjwt with cryptography: pip install 'mcp-async[jwt]'"
        ) from exc
    return jwt, get_default_algorithms()


def access_token_hash(access_token: str) -> str:
    """The ``ath`` claim: base64url (unpadded) SHA-256 of the access token (RFC 9449 §4.2)."""
    digest = hashlib.sha256(access_token.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def proof_url(url: str) -> str:
    """The ``htu`` claim: the request URL without query and fragment (RFC 9449 §4.2)."""
    try:
        return str(URL(url).with_query(None).with_fragment(None))
    except (TypeError, ValueError) as exc:
        raise AuthError(f"cannot make a DPoP proof for {url!r}: not a URL", step="token") from exc


class DPoPKey:
    """One DPoP key pair and the proofs it signs.

    Make one with :meth:`generate` (ES256 by default), or wrap a key you keep elsewhere
    (a ``cryptography`` private key object or a PEM string) with its algorithm.

    Example::

        auth = OAuth(dpop=True)                       # a fresh ES256 key per client
        auth = OAuth(dpop=DPoPKey.generate("ES384"))  # or a key of your choice
    """

    __slots__ = ("_clock", "_jwk", "_jwt", "_key", "algorithm")

    def __init__(
        self, private_key: Any, algorithm: str = "ES256", *, clock: Callable[[], float] = time.time
    ) -> None:
        if algorithm not in DPOP_ALGORITHMS and not algorithm.startswith(("RS", "PS")):
            raise ConfigError(
                f"DPoP needs an asymmetric algorithm ({', '.join(DPOP_ALGORITHMS)}, RS*, PS*), "
                f"got {algorithm!r}"
            )
        jwt, algorithms = _crypto()
        implementation = algorithms.get(algorithm)
        if implementation is None:
            raise ConfigError(f"pyjwt does not support {algorithm!r} here")
        try:
            key = implementation.prepare_key(private_key)
            public = key.public_key()
            jwk = implementation.to_jwk(public, as_dict=True)
        except Exception as exc:
            raise ConfigError(
                f"the DPoP key cannot sign with {algorithm}: {type(exc).__name__}"
            ) from None
        self._key = key
        self._jwt = jwt
        self._jwk: dict[str, Any] = {
            name: value for name, value in jwk.items() if name in ("kty", "crv", "x", "y", "n", "e")
        }
        self._clock = clock
        #: The JWS algorithm of every proof.
        self.algorithm = algorithm

    @classmethod
    def generate(
        cls, algorithm: str = "ES256", *, clock: Callable[[], float] = time.time
    ) -> DPoPKey:
        """A new key pair for ``algorithm`` (ES256, ES384, ES512 or EdDSA)."""
        if algorithm not in DPOP_ALGORITHMS:
            raise ConfigError(
                f"DPoPKey.generate supports {', '.join(DPOP_ALGORITHMS)}, got {algorithm!r}"
            )
        _crypto()
        if algorithm == "EdDSA":
            from cryptography.hazmat.primitives.asymmetric import ed25519

            private: Any = ed25519.Ed25519PrivateKey.generate()
        else:
            from cryptography.hazmat.primitives.asymmetric import ec

            private = ec.generate_private_key(getattr(ec, _CURVES[algorithm])())
        return cls(private, algorithm, clock=clock)

    @property
    def public_jwk(self) -> Mapping[str, Any]:
        """The public key as a JWK (what every proof carries in its header)."""
        return dict(self._jwk)

    def thumbprint(self) -> str:
        """The RFC 7638 SHA-256 thumbprint of the public key (a bound token's ``cnf.jkt``)."""
        required = _THUMBPRINT_MEMBERS.get(str(self._jwk.get("kty")), tuple(sorted(self._jwk)))
        canonical = "{" + ",".join(f'"{name}":"{self._jwk[name]}"' for name in required) + "}"
        digest = hashlib.sha256(canonical.encode()).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")

    def proof(
        self,
        method: str,
        url: str,
        *,
        access_token: str | None = None,
        nonce: str | None = None,
    ) -> str:
        """A fresh proof JWT for one HTTP request (a new ``jti`` every time)."""
        claims: dict[str, Any] = {
            "jti": secrets.token_urlsafe(24),
            "htm": method.upper(),
            "htu": proof_url(url),
            "iat": int(self._clock()),
        }
        if access_token is not None:
            claims["ath"] = access_token_hash(access_token)
        if nonce is not None:
            claims["nonce"] = nonce
        headers = {"typ": "dpop+jwt", "jwk": self._jwk}
        try:
            token: str = self._jwt.encode(
                claims, self._key, algorithm=self.algorithm, headers=headers
            )
        except Exception as exc:
            raise AuthError(
                f"cannot sign a DPoP proof: {type(exc).__name__}", step="token"
            ) from None
        return token

    def __repr__(self) -> str:
        return f"DPoPKey(algorithm={self.algorithm!r}, thumbprint={self.thumbprint()!r})"


class DPoPNonces:
    """The last ``DPoP-Nonce`` each server (by origin) asked for."""

    __slots__ = ("_by_origin",)

    def __init__(self) -> None:
        self._by_origin: dict[str, str] = {}

    @staticmethod
    def _origin(url: str) -> str:
        try:
            return str(URL(url).origin())
        except (TypeError, ValueError):
            return url

    def get(self, url: str) -> str | None:
        """The nonce to put in the next proof for ``url``'s server, if it gave one."""
        return self._by_origin.get(self._origin(url))

    def update(self, url: str, headers: Mapping[str, str]) -> bool:
        """Remember a ``DPoP-Nonce`` from a response; True if it is new."""
        nonce = next(
            (value for name, value in headers.items() if name.lower() == NONCE_HEADER.lower()),
            None,
        )
        if not nonce or not nonce.isascii() or len(nonce) > 1024:
            return False
        origin = self._origin(url)
        if self._by_origin.get(origin) == nonce:
            return False
        self._by_origin[origin] = nonce
        return True
