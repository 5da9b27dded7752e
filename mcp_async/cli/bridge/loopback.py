"""Loopback only: the addresses the HTTP side of ``mcp-async bridge`` may listen on, and
the ``Host``/``Origin`` names it accepts (against DNS rebinding)."""

from __future__ import annotations

import ipaddress

from ..._exceptions import ConfigError

__all__ = ["check_loopback_bind", "is_loopback_name"]

_LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})


def check_loopback_bind(host: str, *, allow_non_loopback: bool = False) -> None:
    """Refuse to listen on anything but loopback, unless explicitly allowed."""
    if host == "localhost":
        return
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        raise ConfigError(f"--http needs an IP address or localhost, got {host!r}") from None
    if not address.is_loopback and not allow_non_loopback:
        raise ConfigError(
            f"refusing to listen on {host}: a bridge on a non-loopback address lets other "
            "machines use the server; pass --allow-non-loopback to do it anyway"
        )


def is_loopback_name(host: str | None) -> bool:
    """Whether a ``Host`` or ``Origin`` host name is loopback (a name or an address)."""
    if host is None:
        return False
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
