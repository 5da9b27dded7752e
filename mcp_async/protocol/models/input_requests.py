"""Input requests (MCP 2026-07-28, MRTR): the interim result by which a server asks the client
for input before it answers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Self

from mcp_async._exceptions import UnexpectedResponseError

from .decoding import obj, opt_dict, opt_str, req_str, wrong

__all__ = [
    "InputRequest",
    "InputRequiredResult",
]


@dataclass(frozen=True, slots=True)
class InputRequest:
    """One entry of an ``InputRequiredResult``: a request the client must answer."""

    method: str
    params: dict[str, Any]


@dataclass(frozen=True, slots=True)
class InputRequiredResult:
    """An interim result (MCP 2026-07-28, MRTR): the server needs input to go on.

    Answer every entry of ``input_requests`` and send the original request again with
    ``input_responses`` (same keys) and ``request_state`` exactly as given.
    """

    input_requests: dict[str, InputRequest]
    request_state: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Decode a wire ``InputRequiredResult``."""
        m = "InputRequiredResult"
        d = obj(data, m)
        requests: dict[str, InputRequest] = {}
        for key, entry in (opt_dict(d, "inputRequests", m) or {}).items():
            where = f"inputRequests.{key}"
            e = obj(entry, f"{m}.{where}")
            params = e.get("params")
            if params is not None and not isinstance(params, dict):
                raise wrong(m, f"{where}.params", "an object", params)
            requests[key] = InputRequest(req_str(e, "method", f"{m}.{where}"), params or {})
        state = opt_str(d, "requestState", m)
        if not requests and state is None:
            raise UnexpectedResponseError(
                f"{m}: needs inputRequests or requestState, and has neither"
            )
        return cls(input_requests=requests, request_state=state, raw=d)
