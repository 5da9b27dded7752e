"""The model's tool calls, read from a response in any of the four API shapes.

A response may be a plain dict (the JSON the API returned), any mapping, or an SDK
object with ``model_dump()`` (``openai``, ``anthropic``, ``google-genai``); nothing
here imports an SDK.

* OpenAI Chat Completions: a completion (``choices[0].message``), a choice, or the
  message itself; ``tool_calls[*]`` with ``id`` and ``function.name`` /
  ``function.arguments`` (a JSON *string*).
* OpenAI Responses: a response (``output``) or a list of output items; items of type
  ``function_call`` with ``call_id``, ``name`` and ``arguments`` (a JSON string).
* Anthropic Messages: a message (``content``) or a list of blocks; ``tool_use``
  blocks with ``id``, ``name`` and ``input`` (an object).
* Gemini: a ``generateContent`` response (``candidates[0].content``), a content or a
  list of parts; parts with ``functionCall`` (or ``function_call``): ``name``,
  ``args`` and, from newer models, ``id``.

Arguments that are not a JSON object do not raise: the call carries an ``error`` that
the runner sends back to the model as an error result, so the model can try again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .._exceptions import ConfigError
from ._apis import Api, check_api, plain

__all__ = ["ModelToolCall", "assistant_turn", "parse_tool_calls", "response_text"]


@dataclass(frozen=True, slots=True)
class ModelToolCall:
    """One tool call the model asked for.

    ``id``: the API's call id (``tool_call_id``, ``call_id``, ``tool_use`` id, Gemini's
    ``functionCall.id``; ``""`` when a Gemini model gave none). ``name``: the tool name
    the model used (a model-side name; see :class:`~mcp_async.agents.ModelTools`).
    ``arguments``: the parsed arguments, or ``None`` when they could not be read, and
    then ``error`` says why. ``raw_arguments``: the arguments as the model sent them.
    """

    id: str
    name: str
    arguments: dict[str, Any] | None
    api: Api
    raw_arguments: Any = None
    error: str | None = None


def _get(obj: Any, *keys: str) -> Any:
    """The first of ``keys`` present in mapping ``obj`` (``None`` if none is)."""
    if isinstance(obj, Mapping):
        for key in keys:
            if key in obj:
                return obj[key]
    return None


def _list(value: Any, what: str) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    raise ConfigError(f"{what} must be a list, got {type(value).__name__}")


def _json_arguments(raw: Any) -> tuple[dict[str, Any] | None, str | None]:
    if isinstance(raw, Mapping):
        return dict(raw), None
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return {}, None
    if not isinstance(raw, str):
        return None, f"arguments must be a JSON object string, got {type(raw).__name__}"
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        return None, f"arguments are not valid JSON ({exc}); got {raw[:200]!r}"
    if not isinstance(value, dict):
        return None, f"arguments must be a JSON object, got {type(value).__name__}"
    return value, None


def _object_arguments(raw: Any) -> tuple[dict[str, Any] | None, str | None]:
    if raw is None:
        return {}, None
    raw = plain(raw)
    if isinstance(raw, Mapping):
        return dict(raw), None
    return None, f"arguments must be an object, got {type(raw).__name__}"


def _chat_message(response: Any) -> dict[str, Any]:
    data = plain(response)
    if not isinstance(data, Mapping):
        raise ConfigError(f"an OpenAI Chat response must be an object, got "
                          f"{type(response).__name__}")
    if "choices" in data:
        choices = _list(data["choices"], "choices")
        if not choices:
            raise ConfigError("the OpenAI Chat response has no choices")
        data = choices[0]
    if "message" in data:
        data = plain(data["message"])
    if not isinstance(data, Mapping):
        raise ConfigError("the OpenAI Chat choice has no message object")
    if not {"role", "content", "tool_calls"} & set(data):
        raise ConfigError(f"not an OpenAI Chat completion, choice or message: keys {sorted(data)}")
    return dict(data)


def _responses_items(response: Any) -> list[dict[str, Any]]:
    data = response if isinstance(response, list | tuple) else plain(response)
    if isinstance(data, Mapping):
        if "output" not in data:
            raise ConfigError(f"not an OpenAI Responses response (no 'output'): "
                              f"keys {sorted(data)}")
        data = data["output"]
    return [dict(item) for item in _list(data, "the Responses output")
            if isinstance(item, Mapping)]


def _anthropic_blocks(response: Any) -> list[dict[str, Any]]:
    data = response if isinstance(response, list | tuple) else plain(response)
    if isinstance(data, Mapping):
        if "content" not in data:
            raise ConfigError(f"not an Anthropic message (no 'content'): keys {sorted(data)}")
        data = data["content"]
    if isinstance(data, str):
        return [{"type": "text", "text": data}]
    return [dict(b) for b in _list(data, "the Anthropic message content")
            if isinstance(b, Mapping)]


def _gemini_content(response: Any) -> dict[str, Any]:
    data = response if isinstance(response, list | tuple) else plain(response)
    if isinstance(data, list | tuple):
        return {"role": "model", "parts": _list(data, "parts")}
    if not isinstance(data, Mapping):
        raise ConfigError(f"a Gemini response must be an object, got {type(response).__name__}")
    if "candidates" in data:
        candidates = _list(data["candidates"], "candidates")
        if not candidates:
            return {"role": "model", "parts": []}
        data = plain(candidates[0].get("content")) or {}
    elif "parts" not in data and "promptFeedback" not in data \
            and "prompt_feedback" not in data:
        raise ConfigError(f"not a Gemini response or content (no 'candidates' or 'parts'): "
                          f"keys {sorted(data)}")
    return {"role": data.get("role") or "model", "parts": _list(data.get("parts"), "parts")}


def parse_tool_calls(response: Any, api: str) -> list[ModelToolCall]:
    """The tool calls in ``response``, in the order the model gave them.

    ``api`` is ``"openai"``, ``"openai-responses"``, ``"anthropic"`` or ``"gemini"``.
    A response that is not of that API's shape raises
    :class:`~mcp_async.ConfigError`; a call with unreadable arguments is returned with
    ``error`` set.
    """
    checked = check_api(api)
    calls: list[ModelToolCall] = []
    if checked == "openai":
        for item in _list(_chat_message(response).get("tool_calls"), "tool_calls"):
            function = plain(item.get("function")) or {}
            kind = item.get("type", "function")
            raw = _get(function, "arguments")
            arguments, error = _json_arguments(raw)
            if kind != "function":
                arguments, error = None, f"tool call type {kind!r} is not a function call"
            calls.append(ModelToolCall(
                str(item.get("id") or ""), str(_get(function, "name") or item.get("name") or ""),
                arguments, checked, raw, error,
            ))
    elif checked == "openai-responses":
        for item in _responses_items(response):
            if item.get("type") != "function_call":
                continue
            raw = item.get("arguments")
            arguments, error = _json_arguments(raw)
            calls.append(ModelToolCall(
                str(item.get("call_id") or item.get("id") or ""), str(item.get("name") or ""),
                arguments, checked, raw, error,
            ))
    elif checked == "anthropic":
        for block in _anthropic_blocks(response):
            if block.get("type") != "tool_use":
                continue
            raw = block.get("input")
            arguments, error = _object_arguments(raw)
            calls.append(ModelToolCall(
                str(block.get("id") or ""), str(block.get("name") or ""),
                arguments, checked, raw, error,
            ))
    else:
        for part in _gemini_content(response)["parts"]:
            call = plain(_get(part, "functionCall", "function_call"))
            if not isinstance(call, Mapping):
                continue
            raw = call.get("args")
            arguments, error = _object_arguments(raw)
            calls.append(ModelToolCall(
                str(call.get("id") or ""), str(call.get("name") or ""),
                arguments, checked, raw, error,
            ))
    for call in calls:
        if not call.name:
            raise ConfigError(f"a {checked} tool call has no name: {call!r}")
    return calls


def assistant_turn(response: Any, api: str) -> list[dict[str, Any]]:
    """The model's turn from ``response``, as plain dicts to append to the conversation
    before the tool results (an assistant message; the Responses output items; a
    Gemini ``model`` content)."""
    checked = check_api(api)
    if checked == "openai":
        message = _chat_message(response)
        turn: dict[str, Any] = {"role": "assistant", "content": message.get("content")}
        tool_calls = _list(message.get("tool_calls"), "tool_calls")
        if tool_calls:
            turn["tool_calls"] = [
                {"id": c.get("id"), "type": c.get("type", "function"),
                 "function": {"name": _get(plain(c.get("function")), "name"),
                              "arguments": _get(plain(c.get("function")), "arguments")}}
                for c in tool_calls
            ]
        return [turn]
    if checked == "openai-responses":
        return _responses_items(response)
    if checked == "anthropic":
        return [{"role": "assistant", "content": _anthropic_blocks(response)}]
    return [_gemini_content(response)]


def response_text(response: Any, api: str) -> str:
    """The text of the model's answer in ``response`` (text parts joined; ``""`` if none)."""
    checked = check_api(api)
    texts: Sequence[Any]
    if checked == "openai":
        content = _chat_message(response).get("content")
        if isinstance(content, list):
            return "".join(str(p.get("text", "")) for p in map(plain, content)
                           if isinstance(p, Mapping))
        return content if isinstance(content, str) else ""
    if checked == "openai-responses":
        texts = [
            part.get("text", "")
            for item in _responses_items(response) if item.get("type") == "message"
            for part in _list(item.get("content"), "message content")
            if isinstance(part, Mapping) and part.get("type") == "output_text"
        ]
    elif checked == "anthropic":
        texts = [b.get("text", "") for b in _anthropic_blocks(response) if b.get("type") == "text"]
    else:
        texts = [p.get("text", "") for p in _gemini_content(response)["parts"]
                 if isinstance(p, Mapping) and isinstance(p.get("text"), str)
                 and not p.get("thought")]
    return "".join(str(t) for t in texts)
