"""Fault injection for the test server: what a :class:`Fault` does and when it fires (the
early effects it has on an HTTP request are in :mod:`~mcp_async.testing.http_replies`)."""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypedDict, Unpack

__all__ = ["Fault", "FaultPlan"]


class _Match(TypedDict, total=False):
    """Matching and firing options shared by the :class:`Fault` constructors."""

    method: str | None
    name: str | None
    times: int | None
    probability: float | None
    seed: int


@dataclass(eq=False)
class Fault:
    """One way for the server to misbehave, and when.

    Matching: ``method`` (JSON-RPC method of the POSTed message; for a batch, the first
    message that has one) and ``name`` (``params.name``, e.g. the tool of a
    ``tools/call``); ``None`` matches anything. A matching fault fires ``times`` times
    (``None``: forever), each time only with ``probability`` (if given) drawn from its own
    ``random.Random(seed)``. When several faults match, the first one that fires wins.
    ``fired`` counts how often it did.

    Effects, applied in this order (``delay`` combines with any other):

    * ``delay``: sleep that many seconds, then go on;
    * ``drop``: close the TCP connection without an answer;
    * ``expire_session``: forget the request's session and answer 404 as if unknown;
    * ``status``: answer with this HTTP status, ``headers`` and ``body`` (default empty;
      ``content_type`` defaults to ``text/plain``);
    * ``body`` without ``status``: answer 200 with this raw body instead of the reply
      (``content_type`` defaults to ``application/json``);
    * ``wrong_id`` / ``invalid_json``: answer normally but change the response ids /
      cut the JSON reply in half (inside the SSE event in SSE mode);
    * ``truncate_sse``: answer with an SSE stream (whatever the reply mode) that ends
      before the response: only a priming event (if ``retry`` is set or the server
      primes, carrying ``retry``) and notifications. The request is still executed.
    * ``end_after`` / ``break_after``: answer with an SSE stream (whatever the reply
      mode) that starts with a priming event (carrying ``retry`` if set) and, once that
      many further events were written, ends cleanly (the server asking the client to
      poll) or breaks the connection mid-body. The request runs on; on a ``resumable``
      server its remaining events, response included, wait for a GET with
      ``Last-Event-ID``.

    On the legacy SSE transport faults match POSTed messages: ``delay``, ``drop``,
    ``expire_session``, ``status`` and ``body`` act on the POST, ``wrong_id`` and
    ``invalid_json`` on the reply event. Over stdio they match lines: ``delay``,
    ``wrong_id`` and ``invalid_json`` apply (the latter cuts the reply line in half).
    """

    method: str | None = None
    name: str | None = None
    times: int | None = None
    probability: float | None = None
    seed: int = 0
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: str | bytes | None = None
    content_type: str | None = None
    delay: float = 0.0
    drop: bool = False
    expire_session: bool = False
    wrong_id: bool = False
    invalid_json: bool = False
    truncate_sse: bool = False
    retry: int | None = None
    end_after: int | None = None
    break_after: int | None = None
    fired: int = field(default=0, init=False)
    _rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.times is not None and self.times < 0:
            raise ValueError("Fault.times must be >= 0 or None")
        if self.probability is not None and not 0.0 <= self.probability <= 1.0:
            raise ValueError("Fault.probability must be between 0 and 1")
        self._rng = random.Random(self.seed)

    @property
    def exhausted(self) -> bool:
        """Whether the fault has fired its ``times`` and will not fire again."""
        return self.times is not None and self.fired >= self.times

    def try_fire(self, method: str | None, name: str | None) -> bool:
        """Return True (and count it) if the fault matches and fires for this message."""
        if (self.method is not None and self.method != method) or (
            self.name is not None and self.name != name
        ):
            return False
        if self.exhausted:
            return False
        if self.probability is not None and self._rng.random() >= self.probability:
            return False
        self.fired += 1
        return True

    @classmethod
    def error(
        cls,
        status: int,
        *,
        retry_after: float | str | None = None,
        headers: Mapping[str, str] | None = None,
        body: str | bytes | None = None,
        content_type: str | None = None,
        **match: Unpack[_Match],
    ) -> Fault:
        """Answer with HTTP ``status`` (plus ``Retry-After`` if given)."""
        all_headers = dict(headers or {})
        if retry_after is not None:
            all_headers["Retry-After"] = _retry_after_text(retry_after)
        return cls(
            status=status, headers=all_headers, body=body, content_type=content_type, **match
        )

    @classmethod
    def rate_limited(
        cls, retry_after: float | str | None = 1, *, status: int = 429, **match: Unpack[_Match]
    ) -> Fault:
        """Answer 429 with ``Retry-After`` and ``X-RateLimit-Remaining: 0``."""
        return cls.error(
            status, retry_after=retry_after, headers={"X-RateLimit-Remaining": "0"}, **match
        )

    @classmethod
    def slow(cls, seconds: float, **match: Unpack[_Match]) -> Fault:
        """Wait ``seconds`` before answering normally."""
        return cls(delay=seconds, **match)

    @classmethod
    def disconnect(cls, **match: Unpack[_Match]) -> Fault:
        """Close the connection without answering."""
        return cls(drop=True, **match)

    @classmethod
    def expired_session(cls, **match: Unpack[_Match]) -> Fault:
        """Forget the request's session and answer 404."""
        return cls(expire_session=True, **match)

    @classmethod
    def garbage(
        cls, body: str | bytes, *, content_type: str | None = None, **match: Unpack[_Match]
    ) -> Fault:
        """Answer 200 with ``body`` instead of the JSON-RPC reply."""
        return cls(body=body, content_type=content_type, **match)

    @classmethod
    def bad_json(cls, **match: Unpack[_Match]) -> Fault:
        """Answer with the reply cut in half (invalid JSON)."""
        return cls(invalid_json=True, **match)

    @classmethod
    def mismatched_id(cls, **match: Unpack[_Match]) -> Fault:
        """Answer with a response whose id is not the request's."""
        return cls(wrong_id=True, **match)

    @classmethod
    def cut_stream(cls, *, retry: int | None = None, **match: Unpack[_Match]) -> Fault:
        """Answer with an SSE stream that ends before the response (priming event if ``retry``)."""
        return cls(truncate_sse=True, retry=retry, **match)

    @classmethod
    def end_stream(
        cls, after: int = 0, *, retry: int | None = None, **match: Unpack[_Match]
    ) -> Fault:
        """End the SSE reply cleanly after the priming event and ``after`` more events."""
        return cls(end_after=after, retry=retry, **match)

    @classmethod
    def break_stream(
        cls, after: int = 0, *, retry: int | None = None, **match: Unpack[_Match]
    ) -> Fault:
        """Break the connection after the priming event and ``after`` more events."""
        return cls(break_after=after, retry=retry, **match)


def _retry_after_text(value: float | str) -> str:
    if isinstance(value, str):
        return value
    return str(int(value)) if float(value).is_integer() else str(value)


class FaultPlan:
    """The ordered faults of a server. Empty by default (the server behaves)."""

    __slots__ = ("_faults",)

    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def add(self, fault: Fault | None = None, /, **options: Any) -> Fault:
        """Add ``fault``, or a ``Fault(**options)``, and return it (to inspect ``fired``)."""
        if fault is None:
            fault = Fault(**options)
        elif options:
            raise TypeError("pass either a Fault or keyword options, not both")
        self._faults.append(fault)
        return fault

    def clear(self) -> None:
        """Remove every fault."""
        self._faults.clear()

    def pick(self, method: str | None, name: str | None) -> Fault | None:
        """The first fault that fires for this message, or None."""
        for fault in self._faults:
            if fault.try_fire(method, name):
                return fault
        return None

    def __len__(self) -> int:
        return len(self._faults)

    def __iter__(self) -> Iterator[Fault]:
        return iter(self._faults)
