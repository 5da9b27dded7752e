"""Elicitation helpers: schema defaults (SEP-1034) and a ready-made handler.

A 2025-11-25 form may give any field a ``default``. The client fills fields an accepted
answer leaves out from those defaults, so a handler only returns what the user changed::

    async def ask(request: ElicitationRequest) -> ElicitationResult:
        if request.mode == "url":
            return ElicitationResult.decline()
        answers = await show_form(request.message, request.properties, schema_defaults(
            request.requested_schema))
        return ElicitationResult.accept(answers)  # omitted fields get their defaults

:func:`accept_with_defaults` is a complete handler that accepts every form as its defaults,
for unattended clients and tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .handlers import ElicitationRequest, ElicitationResult

__all__ = ["accept_with_defaults", "build_result", "fill_defaults", "schema_defaults"]


def schema_defaults(schema: Mapping[str, Any] | None) -> dict[str, Any]:
    """The ``default`` of every property of a form schema that has one."""
    if not schema:
        return {}
    properties = schema.get("properties")
    # (type() first: an isinstance check against the Mapping ABC is ten times slower.)
    if type(properties) is not dict and not isinstance(properties, Mapping):
        return {}
    return {
        name: prop["default"]
        for name, prop in properties.items()
        if (type(prop) is dict or isinstance(prop, Mapping)) and "default" in prop
    }


def fill_defaults(
    schema: Mapping[str, Any] | None, content: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """``content`` plus the schema's default for every field it leaves out.

    A field given as ``None`` means "left empty": it is dropped, not filled.
    """
    filled = schema_defaults(schema)
    if content:
        filled.update(content)
    return {k: v for k, v in filled.items() if v is not None}


async def accept_with_defaults(request: ElicitationRequest) -> ElicitationResult:
    """An elicitation handler that accepts every form with its default values.

    It declines URL-mode requests (there is nobody to open the URL) and forms with a
    required field that has no default.
    """
    if request.mode != "form":
        return ElicitationResult.decline()
    defaults = schema_defaults(request.requested_schema)
    if any(name not in defaults for name in request.required):
        return ElicitationResult.decline()
    return ElicitationResult.accept(defaults)


def _check_value(name: str, value: Any) -> None:
    if isinstance(value, str | bool | int | float):
        return
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return
    raise ValueError(
        f"elicitation field {name!r} must be a string, number, boolean or list of strings, "
        f"got {type(value).__name__}"
    )


def build_result(
    request: ElicitationRequest, result: ElicitationResult | Mapping[str, Any]
) -> dict[str, Any]:
    """The wire ``ElicitResult`` for a handler's answer to ``request``.

    An accepted form gets its omitted fields from the schema defaults (unless
    ``result.fill_defaults`` is false); a dict is sent as it is. Raises ``ValueError``
    for content that a form cannot hold.
    """
    if not isinstance(result, ElicitationResult):
        if not isinstance(result, Mapping) or result.get("action") not in (
            "accept", "decline", "cancel"
        ):
            raise ValueError(
                "an elicitation handler must return an ElicitationResult or a dict with an "
                f"'action' of accept, decline or cancel; got {result!r}"
            )
        return dict(result)
    out: dict[str, Any] = {"action": result.action}
    if result.action != "accept" or request.mode != "form":
        return out
    content = (
        fill_defaults(request.requested_schema, result.content)
        if result.fill_defaults
        else dict(result.content or {})
    )
    for name, value in content.items():
        _check_value(name, value)
    out["content"] = {k: list(v) if isinstance(v, tuple) else v for k, v in content.items()}
    return out
