"""Tool results as each API's tool-result message, ready to append to the conversation.

* OpenAI Chat: one ``{"role": "tool", "tool_call_id", "content"}`` message per call.
* OpenAI Responses: one ``{"type": "function_call_output", "call_id", "output"}`` input
  item per call (``output`` a string, or a list of ``input_text`` / ``input_image`` /
  ``input_file`` parts when there are binary parts).
* Anthropic: one ``{"role": "user", "content": [...]}`` message holding a
  ``{"type": "tool_result", "tool_use_id", "content", "is_error"}`` block per call.
* Gemini: one ``{"role": "user", "parts": [...]}`` content holding a
  ``{"functionResponse": {"id", "name", "response", "parts"}}`` part per call, with
  ``response`` ``{"output": ...}`` or, for an error, ``{"error": ...}``.

OpenAI's tool results have no error flag, so an error result's text starts with
``"Error: "`` there (Anthropic gets ``is_error: true``, Gemini the ``error`` key).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ._apis import Api
from .calls import ModelToolCall
from .content import RenderedResult

__all__ = ["result_item", "round_messages"]

_EMPTY = "(the tool returned no content)"


def result_item(api: Api, call: ModelToolCall, rendered: RenderedResult,
                is_error: bool) -> dict[str, Any]:
    """The result of one call in ``api``'s shape: a Chat tool message, a Responses
    ``function_call_output`` item, an Anthropic ``tool_result`` block or a Gemini
    ``functionResponse`` part."""
    text = rendered.text or ("" if rendered.parts else _EMPTY)
    if api == "openai":
        return {"role": "tool", "tool_call_id": call.id,
                "content": f"Error: {text}" if is_error else text}
    if api == "openai-responses":
        shown = f"Error: {text}" if is_error else text
        output: Any = shown
        if rendered.parts:
            output = ([{"type": "input_text", "text": shown}] if shown else []) + rendered.parts
        return {"type": "function_call_output", "call_id": call.id, "output": output}
    if api == "anthropic":
        content: Any = text
        if rendered.parts:
            content = ([{"type": "text", "text": text}] if text else []) + rendered.parts
        return {"type": "tool_result", "tool_use_id": call.id, "content": content,
                "is_error": is_error}
    response: dict[str, Any]
    if is_error:
        response = {"error": text}
    elif rendered.structured is not None:
        response = {"output": rendered.structured}
    else:
        response = {"output": text}
    function_response: dict[str, Any] = {"name": call.name, "response": response}
    if call.id:
        function_response["id"] = call.id
    if rendered.parts:
        function_response["parts"] = rendered.parts
    return {"functionResponse": function_response}


def round_messages(api: Api, items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The messages that carry one round's result ``items`` (from :func:`result_item`),
    in order, to append after the model's turn."""
    if not items:
        return []
    if api in ("openai", "openai-responses"):
        return list(items)
    if api == "anthropic":
        return [{"role": "user", "content": list(items)}]
    return [{"role": "user", "parts": list(items)}]
