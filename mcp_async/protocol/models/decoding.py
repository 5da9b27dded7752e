"""The decoding helpers every model shares: typed field reads that name the model and the
wire field (with the path into lists and nested objects) when the JSON is not what the spec says.

Each read takes the decoded JSON object ``d``, the wire ``key`` and the ``model`` name used
in error messages, and raises :class:`~mcp_async._exceptions.UnexpectedResponseError` when
the value is missing (for a required field) or of the wrong JSON type. The models of this
package use them, and so does any module that decodes wire objects of its own (the server
requests of :mod:`mcp_async.session.handlers`, the tasks of :mod:`mcp_async.features.tasks`).

Only the error paths do any extra work; the success paths are a dict lookup and an isinstance.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from typing import Any, TypeAlias, TypeVar

from mcp_async._exceptions import UnexpectedResponseError

__all__ = [
    "MISSING",
    "b64decode",
    "cursor",
    "list_of",
    "missing",
    "number",
    "obj",
    "opt_bool",
    "opt_dict",
    "opt_int",
    "opt_meta",
    "opt_number",
    "opt_str",
    "opt_sub",
    "req_dict",
    "req_str",
    "str_tuple",
    "sub",
    "wrong",
]

_T = TypeVar("_T")
_Parse: TypeAlias = Callable[[Any], _T]

#: Sentinel for "key absent" (distinct from an explicit JSON null): ``d.get(key, MISSING)``.
MISSING: Any = object()

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


def wrong(model: str, key: str, expected: str, value: object) -> UnexpectedResponseError:
    """The error for ``model.key`` holding ``value`` where ``expected`` (e.g. ``"a string"``)
    was due; the message names the JSON type found."""
    return UnexpectedResponseError(f"{model}.{key}: expected {expected}, got {_kind(value)}")


def missing(model: str, key: str) -> UnexpectedResponseError:
    """The error for the required field ``key`` absent from ``model``."""
    return UnexpectedResponseError(f"{model}: missing required field {key!r}")


def obj(data: object, model: str) -> dict[str, Any]:
    """Return ``data`` as a dict (the same object when it already is one)."""
    if isinstance(data, dict):
        return data
    if isinstance(data, Mapping):
        return dict(data)
    raise UnexpectedResponseError(f"{model}: expected an object, got {_kind(data)}")


def req_str(d: Mapping[str, Any], key: str, model: str) -> str:
    """The required string ``d[key]``."""
    v = d.get(key, MISSING)
    if isinstance(v, str):
        return v
    if v is MISSING:
        raise missing(model, key)
    raise wrong(model, key, "a string", v)


def opt_str(d: Mapping[str, Any], key: str, model: str) -> str | None:
    """The optional string ``d[key]`` (``None`` when absent or null)."""
    v = d.get(key)
    if v is None or isinstance(v, str):
        return v
    raise wrong(model, key, "a string", v)


def opt_bool(d: Mapping[str, Any], key: str, model: str) -> bool | None:
    """The optional boolean ``d[key]`` (``None`` when absent or null)."""
    v = d.get(key)
    if v is None or isinstance(v, bool):
        return v
    raise wrong(model, key, "a boolean", v)


def opt_int(d: Mapping[str, Any], key: str, model: str) -> int | None:
    """The optional integer ``d[key]`` (``None`` when absent or null); a float with no
    fractional part counts as an integer, a boolean does not."""
    v = d.get(key)
    if v is None:
        return None
    if isinstance(v, int) and not isinstance(v, bool):
        return v
    if isinstance(v, float) and v.is_integer():  # 1024.0 from a JS server
        return int(v)
    raise wrong(model, key, "an integer", v)


def number(v: Any, key: str, model: str) -> float:
    """``v``, the value read at ``key`` (:data:`MISSING` when absent), as a required number."""
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    if v is MISSING:
        raise missing(model, key)
    raise wrong(model, key, "a number", v)


def opt_number(d: Mapping[str, Any], key: str, model: str) -> float | None:
    """The optional number ``d[key]`` (``None`` when absent or null)."""
    v = d.get(key)
    return None if v is None else number(v, key, model)


def req_dict(d: Mapping[str, Any], key: str, model: str) -> dict[str, Any]:
    """The required object ``d[key]``."""
    v = d.get(key, MISSING)
    if isinstance(v, dict):
        return v
    if v is MISSING:
        raise missing(model, key)
    raise wrong(model, key, "an object", v)


def opt_dict(d: Mapping[str, Any], key: str, model: str) -> dict[str, Any] | None:
    """The optional object ``d[key]`` (``None`` when absent or null)."""
    v = d.get(key)
    if v is None or isinstance(v, dict):
        return v
    raise wrong(model, key, "an object", v)


def opt_meta(d: Mapping[str, Any], model: str) -> dict[str, Any] | None:
    """The optional ``_meta`` object of ``d``."""
    return opt_dict(d, "_meta", model)


def sub(d: Mapping[str, Any], key: str, model: str, parse: _Parse[_T]) -> _T:
    """Decode the required nested object ``d[key]`` with ``parse``, naming the path on error."""
    v = d.get(key, MISSING)
    if v is MISSING:
        raise missing(model, key)
    try:
        return parse(v)
    except UnexpectedResponseError as exc:
        raise UnexpectedResponseError(f"{model}.{key}: {exc}") from None


def opt_sub(d: Mapping[str, Any], key: str, model: str, parse: _Parse[_T]) -> _T | None:
    """Decode the optional nested object ``d[key]`` with ``parse`` (``None`` when absent or
    null), naming the path on error."""
    v = d.get(key)
    if v is None:
        return None
    try:
        return parse(v)
    except UnexpectedResponseError as exc:
        raise UnexpectedResponseError(f"{model}.{key}: {exc}") from None


def list_of(
    d: Mapping[str, Any], key: str, model: str, parse: _Parse[_T], *, required: bool = False
) -> tuple[_T, ...]:
    """Decode the array ``d[key]`` item by item; absent/null gives ``()`` unless ``required``."""
    v = d.get(key, MISSING)
    if not isinstance(v, list):
        if v is MISSING and required:
            raise missing(model, key)
        if (v is MISSING or v is None) and not required:
            return ()
        raise wrong(model, key, "an array", v)
    out: list[_T] = []
    for i, item in enumerate(v):
        try:
            out.append(parse(item))
        except UnexpectedResponseError as exc:
            raise UnexpectedResponseError(f"{model}.{key}[{i}]: {exc}") from None
    return tuple(out)


def str_tuple(
    d: Mapping[str, Any], key: str, model: str, *, required: bool = False
) -> tuple[str, ...]:
    """The array of strings ``d[key]`` as a tuple; absent/null gives ``()`` unless
    ``required``."""
    v = d.get(key, MISSING)
    if not isinstance(v, list):
        if v is MISSING and required:
            raise missing(model, key)
        if (v is MISSING or v is None) and not required:
            return ()
        raise wrong(model, key, "an array", v)
    for i, item in enumerate(v):
        if not isinstance(item, str):
            raise wrong(model, f"{key}[{i}]", "a string", item)
    return tuple(v)


def cursor(d: Mapping[str, Any], model: str) -> str | None:
    """The ``nextCursor`` of a page, ``None`` when there are no more pages."""
    # An empty cursor is treated as "no more pages" so a paginating loop cannot spin forever.
    return opt_str(d, "nextCursor", model) or None


def b64decode(data: str, model: str, key: str) -> bytes:
    """The bytes of the base64 text ``data`` read at ``model.key`` (standard or URL-safe
    alphabet)."""
    try:
        if "-" in data or "_" in data:  # tolerate the URL-safe alphabet
            return base64.b64decode(data, altchars=b"-_")
        return base64.b64decode(data)
    except (binascii.Error, ValueError) as exc:
        raise UnexpectedResponseError(f"{model}.{key}: invalid base64 ({exc})") from None
