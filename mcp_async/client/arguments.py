"""Checks of per-call arguments, and the typed request options they come to."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .._exceptions import ConfigError
from ..protocol.models import Tool
from ..transports.options import NO_OPTIONS, RequestOptions

if TYPE_CHECKING:
    from ..policies.retry import RetryPolicy

__all__ = [
    "add_input", "check_listen", "check_max_total", "check_retry", "completion_params",
    "hints_idempotent", "input_options", "prompt_params", "require_str", "retry_options",
    "tool_options",
]


def check_retry(retry: object) -> RetryPolicy | bool | None:
    """A per-call ``retry=`` option, checked (``ConfigError`` for anything else)."""
    if retry is None:
        return None
    from ..policies.retry import check_retry_option

    return check_retry_option(retry)


def retry_options(retry: object) -> RequestOptions:
    """The options of a request with the per-call ``retry=`` option ``retry``."""
    return NO_OPTIONS if retry is None else RequestOptions(retry=check_retry(retry))


def add_input(
    params: dict[str, Any], responses: Mapping[str, Any] | None, state: str | None
) -> None:
    """Add a resumed input round's answers and state to a request's params."""
    if responses is not None:
        if not isinstance(responses, Mapping):
            raise ConfigError(f"input_responses must be a mapping, got {type(responses).__name__}")
        params["inputResponses"] = dict(responses)
    if state is not None:
        if not isinstance(state, str):
            raise ConfigError(f"request_state must be the string the server sent, got {state!r}")
        params["requestState"] = state


def check_max_total(value: object) -> None:
    """Check a ``max_total_timeout=`` argument (positive seconds)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ConfigError(f"max_total_timeout must be a positive number of seconds, got {value!r}")


@functools.lru_cache(maxsize=256)
def tool_options(name: str) -> RequestOptions:
    """The options of a plain call of tool ``name`` (values are frozen: shared)."""
    return RequestOptions(mcp_name=name)


_INPUT_ALLOWED = RequestOptions(allow_input_required=True)


def input_options(allow_input_required: bool) -> RequestOptions:
    """The options of a request that may (or may not) return an input round."""
    return _INPUT_ALLOWED if allow_input_required else NO_OPTIONS


def hints_idempotent(tool: Tool | None) -> bool:
    """Whether the tool is annotated ``idempotentHint`` or ``readOnlyHint``."""
    hints = tool.annotations if tool is not None else None
    return hints is not None and bool(hints.idempotent_hint or hints.read_only_hint)


def require_str(what: str, value: object) -> None:
    """``ConfigError`` unless ``value`` is a non-empty string."""
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{what} must be a non-empty string, got {value!r}")


def prompt_params(name: str, arguments: Mapping[str, str] | None) -> dict[str, Any]:
    """The params of ``prompts/get`` (argument values must be strings)."""
    require_str("prompt name", name)
    params: dict[str, Any] = {"name": name}
    if arguments is not None:
        for key, value in arguments.items():
            if not isinstance(value, str):
                raise ConfigError(f"prompt argument {key!r} must be a string, got {value!r}")
        params["arguments"] = dict(arguments)
    return params


def completion_params(
    ref: Mapping[str, Any],
    argument: Mapping[str, str] | tuple[str, str],
    context: Mapping[str, str] | None,
) -> dict[str, Any]:
    """The params of ``completion/complete``."""
    ref = dict(ref)
    if ref.get("type") not in ("ref/prompt", "ref/resource"):
        raise ConfigError("ref type must be 'ref/prompt' or 'ref/resource'")
    if isinstance(argument, tuple):
        argument = {"name": argument[0], "value": argument[1]}
    argument = dict(argument)
    if not isinstance(argument.get("name"), str) or not isinstance(argument.get("value"), str):
        raise ConfigError("argument needs string 'name' and 'value'")
    params: dict[str, Any] = {"ref": ref, "argument": argument}
    if context is not None:
        params["context"] = {"arguments": dict(context)}
    return params


def check_listen(resource_uris: Sequence[str], wants_any: bool, max_buffered: object) -> None:
    """Check the arguments of ``client.listen`` (``wants_any``: something is chosen)."""
    if isinstance(resource_uris, str) or not all(
        isinstance(uri, str) and uri for uri in resource_uris
    ):
        raise ConfigError("resource_uris must be a sequence of non-empty URI strings")
    if not wants_any:
        raise ConfigError("listen to something: tools, prompts, resources or resource_uris")
    if isinstance(max_buffered, bool) or not isinstance(max_buffered, int) or (
        max_buffered < 1
    ):
        raise ConfigError(f"max_buffered must be an int >= 1, got {max_buffered!r}")
