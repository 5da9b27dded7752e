"""The decoding helpers every model shares: typed field reads that name the model and the
wire field (with the path into lists and nested objects) when the JSON is not what the spec says.

Only the error paths do any extra work; the success paths are a dict lookup and an isinstance.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from typing import Any, TypeAlias, TypeVar

from mcp_async._exceptions import UnexpectedResponseError

_T = TypeVar("_T")
_Parse: TypeAlias = Callable[[Any], _T]

# Sentinel for "key absent" (distinct from an explicit JSON null).
_MISSING: Any = object()

_JSON_KIND: dict[type, str] = {
    dict: "object",
    list: "array",
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    type(None): "null",
}


def _kind(value: object) -> str:
    return _JSON_KIND.get(type(value), type(value).__name__)


def _wrong(model: str, key: str, expected: str, value: object) -> UnexpectedResponseError:
    return UnexpectedResponseError(f"{model}.{key}: expected {expected}, got {_kind(value)}")


def _missing(model: str, key: str) -> UnexpectedResponseError:
    return UnexpectedResponseError(f"{model}: missing required field {key!r}")


def _obj(data: object, model: str) -> dict[str, Any]:
    """Return ``data`` as a dict (the same object when it already is one)."""
    if isinstance(data, dict):
        return data
    if isinstance(data, Mapping):
        return dict(data)
    raise UnexpectedResponseError(f"{model}: expected an object, got {_kind(data)}")


def _req_str(d: Mapping[str, Any], key: str, model: str) -> str:
    v = d.get(key, _MISSING)
    if isinstance(v, str):
        return v
    if v is _MISSING:
        raise _missing(model, key)
    raise _wrong(model, key, "a string", v)


def _opt_str(d: Mapping[str, Any], key: str, model: str) -> str | None:
    v = d.get(key)
    if v is None or isinstance(v, str):
        return v
    raise _wrong(model, key, "a string", v)


def _opt_bool(d: Mapping[str, Any], key: str, model: str) -> bool | None:
    v = d.get(key)
    if v is None or isinstance(v, bool):
        return v
    raise _wrong(model, key, "a boolean", v)


def _opt_int(d: Mapping[str, Any], key: str, model: str) -> int | None:
    v = d.get(key)
    if v is None:
        return None
    if isinstance(v, int) and not isinstance(v, bool):
        return v
    if isinstance(v, float) and v.is_integer():  # 1024.0 from a JS server
        return int(v)
    raise _wrong(model, key, "an integer", v)


def _number(v: Any, key: str, model: str) -> float:
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    if v is _MISSING:
        raise _missing(model, key)
    raise _wrong(model, key, "a number", v)


def _opt_number(d: Mapping[str, Any], key: str, model: str) -> float | None:
    v = d.get(key)
    return None if v is None else _number(v, key, model)


def _req_dict(d: Mapping[str, Any], key: str, model: str) -> dict[str, Any]:
    v = d.get(key, _MISSING)
    if isinstance(v, dict):
        return v
    if v is _MISSING:
        raise _missing(model, key)
    raise _wrong(model, key, "an object", v)


def _opt_dict(d: Mapping[str, Any], key: str, model: str) -> dict[str, Any] | None:
    v = d.get(key)
    if v is None or isinstance(v, dict):
        return v
    raise _wrong(model, key, "an object", v)


def _meta(d: Mapping[str, Any], model: str) -> dict[str, Any] | None:
    return _opt_dict(d, "_meta", model)


def _sub(d: Mapping[str, Any], key: str, model: str, parse: _Parse[_T]) -> _T:
    """Decode the required nested object ``d[key]`` with ``parse``, naming the path on error."""
    v = d.get(key, _MISSING)
    if v is _MISSING:
        raise _missing(model, key)
    try:
        return parse(v)
    except UnexpectedResponseError as exc:
        raise UnexpectedResponseError(f"{model}.{key}: {exc}") from None


def _opt_sub(d: Mapping[str, Any], key: str, model: str, parse: _Parse[_T]) -> _T | None:
    v = d.get(key)
    if v is None:
        return None
    try:
        return parse(v)
    except UnexpectedResponseError as exc:
        raise UnexpectedResponseError(f"{model}.{key}: {exc}") from None


def _list_of(
    d: Mapping[str, Any], key: str, model: str, parse: _Parse[_T], *, required: bool = False
) -> tuple[_T, ...]:
    """Decode the array ``d[key]`` item by item; absent/null gives ``()`` unless ``required``."""
    v = d.get(key, _MISSING)
    if not isinstance(v, list):
        if v is _MISSING and required:
            raise _missing(model, key)
        if (v is _MISSING or v is None) and not required:
            return ()
        raise _wrong(model, key, "an array", v)
    out: list[_T] = []
    for i, item in enumerate(v):
        try:
            out.append(parse(item))
        except UnexpectedResponseError as exc:
            raise UnexpectedResponseError(f"{model}.{key}[{i}]: {exc}") from None
    return tuple(out)


def _str_tuple(
    d: Mapping[str, Any], key: str, model: str, *, required: bool = False
) -> tuple[str, ...]:
    v = d.get(key, _MISSING)
    if not isinstance(v, list):
        if v is _MISSING and required:
            raise _missing(model, key)
        if (v is _MISSING or v is None) and not required:
            return ()
        raise _wrong(model, key, "an array", v)
    for i, item in enumerate(v):
        if not isinstance(item, str):
            raise _wrong(model, f"{key}[{i}]", "a string", item)
    return tuple(v)


def _cursor(d: Mapping[str, Any], model: str) -> str | None:
    # An empty cursor is treated as "no more pages" so a paginating loop cannot spin forever.
    return _opt_str(d, "nextCursor", model) or None


def _b64decode(data: str, model: str, key: str) -> bytes:
    try:
        if "-" in data or "_" in data:  # tolerate the URL-safe alphabet
            return base64.b64decode(data, altchars=b"-_")
        return base64.b64decode(data)
    except (binascii.Error, ValueError) as exc:
        raise UnexpectedResponseError(f"{model}.{key}: invalid base64 ({exc})") from None
