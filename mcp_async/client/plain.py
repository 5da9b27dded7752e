"""Plain JSON requests beside MCP (``send_request``): POST a JSON body through the
client's hook pipeline and decode the JSON reply."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .._config import Timeout, TimeoutLike, to_timeout
from .._exceptions import ConfigError, ContentTypeError, InvalidJSONError
from ..protocol.jsonrpc import load_document
from ..transports.http.base import HTTPRequest
from ..transports.http.status import raise_for_status
from .arguments import check_retry
from .pipeline import HTTPPipeline

__all__ = ["post_json"]

_JSON_DUMPS = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode


async def post_json(
    pipeline: HTTPPipeline,
    base: str,
    endpoint: str,
    data: Any,
    *,
    default_headers: Mapping[str, str],
    headers: Mapping[str, str] | None,
    timeout: TimeoutLike,
    default_timeout: Timeout,
    retry: object,
) -> Any:
    """POST ``data`` as JSON to ``{base}/{endpoint}``; the decoded JSON reply (``None``
    for 204). ``timeout`` and ``retry`` are the call's options."""
    url = _join(base, endpoint)
    body = _JSON_DUMPS(data).encode()
    request_headers = {**default_headers, "Content-Type": "application/json",
                       "Accept": "application/json"}
    if headers:
        request_headers.update(headers)
    request = HTTPRequest(
        "POST", url, headers=request_headers, body=body,
        timeout=None if timeout is None else to_timeout(timeout, default_timeout),
    )
    response = await pipeline.send_plain(request, check_retry(retry))
    try:
        await raise_for_status(request, response)
        if response.status == 204:
            return None
        payload = await response.read()
        if not _is_json_type(response.content_type):
            raise ContentTypeError(response.content_type, payload, url=url)
        try:
            return load_document(payload)
        except ValueError as exc:
            raise InvalidJSONError(f"reply from {url} is not valid JSON: {exc}") from exc
    finally:
        response.release()


def _join(base: str, endpoint: str) -> str:
    if not isinstance(endpoint, str):
        raise ConfigError(f"endpoint must be a string, got {type(endpoint).__name__}")
    if "://" in endpoint:
        raise ConfigError(
            f"endpoint must be a path relative to the client URL, got {endpoint!r}"
        )
    if not endpoint:
        return base
    return base.rstrip("/") + "/" + endpoint.lstrip("/")


def _is_json_type(media_type: str) -> bool:
    return media_type == "application/json" or media_type.endswith("+json")
