"""Pure parsing of the rate-limit headers servers send with their responses.

Three families are understood, most specific first:

* the IETF ``RateLimit`` / ``RateLimit-Policy`` structured fields of
  draft-ietf-httpapi-ratelimit-headers-08 and later::

      RateLimit-Policy: "default";q=100;w=60
      RateLimit: "default";r=12;t=40

* the dictionary form of drafts 06/07 (``RateLimit: limit=100, remaining=12, reset=40``)
  and the separate ``RateLimit-Limit`` / ``-Remaining`` / ``-Reset`` fields of drafts 01-05;
* the widespread ``X-RateLimit-Limit`` / ``X-RateLimit-Remaining`` / ``X-RateLimit-Reset``,
  whose reset is either seconds from now or a Unix time (seconds or milliseconds).

Everything here is a function of the header values and an explicit ``now``; nothing
performs I/O. ``Retry-After`` lives in :func:`mcp_async.protocol.headers.parse_retry_after`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

__all__ = ["RateLimitInfo", "parse_rate_limit", "parse_reset"]

#: A reset value above this many seconds is taken to be a Unix time, not a delay.
_EPOCH_THRESHOLD = 1_000_000_000.0
#: Above this it is a Unix time in milliseconds.
_EPOCH_MS_THRESHOLD = 100_000_000_000.0

_NAMES = (
    "ratelimit",
    "ratelimit-policy",
    "ratelimit-limit",
    "ratelimit-remaining",
    "ratelimit-reset",
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
)


@dataclass(frozen=True, slots=True)
class RateLimitInfo:
    """What a response said about the client's remaining request budget.

    ``limit``: requests allowed per window (``None`` if not said); ``remaining``: requests
    left in the current window; ``reset``: seconds from the response until the window
    resets; ``window``: the window length in seconds; ``policy``: the IETF policy name.
    """

    limit: int | None = None
    remaining: int | None = None
    reset: float | None = None
    window: float | None = None
    policy: str | None = None


def parse_rate_limit(
    headers: Mapping[str, str], *, now: float | None = None
) -> RateLimitInfo | None:
    """Read the rate-limit budget from response ``headers`` (any case of the names).

    Returns ``None`` when no family gives a usable ``remaining`` value. ``now`` (Unix
    seconds, default the current time) turns an absolute ``X-RateLimit-Reset`` into a delay.
    """
    found = _relevant(headers)
    if not found:
        return None
    for parse in (_ietf_structured, _ietf_dictionary, _ietf_separate):
        info = parse(found)
        if info is not None:
            return info
    return _x_ratelimit(found, time.time() if now is None else now)


def parse_reset(value: str | None, *, now: float) -> float | None:
    """Seconds until the reset named by ``value``: a delay, a Unix time or a Unix time in ms.

    Returns ``None`` for a missing or unusable value, and never a negative number.
    """
    number = _number(value)
    if number is None:
        return None
    if number >= _EPOCH_MS_THRESHOLD:
        number = number / 1000.0 - now
    elif number >= _EPOCH_THRESHOLD:
        number -= now
    return max(number, 0.0)


# -- families ---------------------------------------------------------------------------


def _ietf_structured(found: Mapping[str, str]) -> RateLimitInfo | None:
    """Draft 08+: ``RateLimit: "name";r=..;t=..`` and ``RateLimit-Policy: "name";q=..;w=..``."""
    value = found.get("ratelimit")
    if value is None:
        return None
    best: RateLimitInfo | None = None
    policies = {
        name: params for name, params in _sf_list(found.get("ratelimit-policy", ""))
    }
    for name, params in _sf_list(value):
        if name is None:
            continue  # a bare dictionary member: the older dictionary syntax
        remaining = _int(params.get("r"))
        if remaining is None:
            continue
        policy = policies.get(name, {})
        info = RateLimitInfo(
            limit=_int(policy.get("q")),
            remaining=remaining,
            reset=_nonnegative(_number(params.get("t"))),
            window=_nonnegative(_number(policy.get("w"))),
            policy=name,
        )
        best = _tighter(best, info)
    return best


def _ietf_dictionary(found: Mapping[str, str]) -> RateLimitInfo | None:
    """Drafts 06/07: ``RateLimit: limit=100, remaining=50, reset=30``."""
    value = found.get("ratelimit")
    if value is None:
        return None
    members: dict[str, str] = {}
    for name, params in _sf_list(value):
        if name is None:
            members.update(params)
    remaining = _int(members.get("remaining"))
    if remaining is None:
        return None
    window = None
    for _, params in _sf_list(found.get("ratelimit-policy", "")):
        window = _nonnegative(_number(params.get("w")))
        break
    return RateLimitInfo(
        limit=_int(members.get("limit")),
        remaining=remaining,
        reset=_nonnegative(_number(members.get("reset"))),
        window=window,
    )


def _ietf_separate(found: Mapping[str, str]) -> RateLimitInfo | None:
    """Drafts 01-05: ``RateLimit-Limit``, ``RateLimit-Remaining``, ``RateLimit-Reset``."""
    remaining = _int(_first_member(found.get("ratelimit-remaining")))
    if remaining is None:
        return None
    return RateLimitInfo(
        limit=_int(_first_member(found.get("ratelimit-limit"))),
        remaining=remaining,
        reset=_nonnegative(_number(found.get("ratelimit-reset"))),
    )


def _x_ratelimit(found: Mapping[str, str], now: float) -> RateLimitInfo | None:
    remaining = _int(_first_member(found.get("x-ratelimit-remaining")))
    if remaining is None:
        return None
    return RateLimitInfo(
        limit=_int(_first_member(found.get("x-ratelimit-limit"))),
        remaining=remaining,
        reset=parse_reset(found.get("x-ratelimit-reset"), now=now),
    )


# -- helpers ----------------------------------------------------------------------------


def _relevant(headers: Mapping[str, str]) -> dict[str, str]:
    """The rate-limit headers by lower-case name (repeated fields joined with commas)."""
    out: dict[str, str] = {}
    items = headers.items()
    for key, value in items:
        name = key.lower()
        if name in _NAMES:
            out[name] = f"{out[name]}, {value}" if name in out else value
    return out


def _tighter(a: RateLimitInfo | None, b: RateLimitInfo) -> RateLimitInfo:
    """Of two concurrent policies, the one that runs out first (fewest left, latest reset)."""
    if a is None:
        return b
    a_left = a.remaining if a.remaining is not None else math.inf
    b_left = b.remaining if b.remaining is not None else math.inf
    if b_left != a_left:
        return b if b_left < a_left else a
    return b if (b.reset or 0.0) > (a.reset or 0.0) else a


def _split(text: str, sep: str) -> Iterator[str]:
    """Split on ``sep`` outside double-quoted strings."""
    start = 0
    quoted = False
    escaped = False
    for i, char in enumerate(text):
        if escaped:
            escaped = False
        elif char == "\\" and quoted:
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == sep and not quoted:
            yield text[start:i]
            start = i + 1
    yield text[start:]


def _unquote(token: str) -> str:
    token = token.strip()
    if len(token) >= 2 and token[0] == token[-1] == '"':
        return token[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return token


def _sf_list(value: str) -> Iterator[tuple[str | None, dict[str, str]]]:
    """A lenient reading of a structured-field list or dictionary.

    Yields ``(name, params)`` per member: ``name`` is the item (the IETF draft 08+
    policy name), or ``None`` for a ``key=value`` dictionary member, whose key and value
    are then added to ``params`` next to the member's own parameters.
    """
    for member in _split(value, ","):
        parts = [part.strip() for part in _split(member, ";")]
        if not parts or not parts[0]:
            continue
        params: dict[str, str] = {}
        for part in parts[1:]:
            key, _, raw = part.partition("=")
            if key:
                params[key.strip().lower()] = _unquote(raw) if raw else "?1"
        head = parts[0]
        key, sep, raw = head.partition("=")
        if head.startswith('"') or not sep:
            yield _unquote(head), params  # a policy name, quoted (the spec) or bare (lenient)
            continue
        params[key.strip().lower()] = _unquote(raw)
        yield None, params


def _first_member(value: str | None) -> str | None:
    """``"100, 100;w=60"`` → ``"100"``: the leading number of a (possibly listed) field."""
    if value is None:
        return None
    return next(_split(value, ","), "").partition(";")[0].strip()


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value.strip())
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _int(value: str | None) -> int | None:
    number = _number(value)
    if number is None or number < 0:
        return None
    return int(number)


def _nonnegative(value: float | None) -> float | None:
    return None if value is None else max(value, 0.0)
