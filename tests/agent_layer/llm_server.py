"""A scripted model server on 127.0.0.1 that speaks four model APIs' wire formats.

Point a vendor SDK at it (``base_url``) and it plays a script: each request gets the
next turn, either tool calls (in that API's wire format) or a final text answer. On
every request after a tool-call turn it checks that the conversation carries the model's
turn and one tool result per call in the shape that API requires (ids matched, roles,
content block types), and answers HTTP 400 (an API-shaped error, which the SDK raises)
when it does not. It also checks the request's tool list against the API's published
name and schema rules (see ``rules.py``).

Endpoints: ``POST /v1/chat/completions`` (OpenAI Chat), ``POST /v1/responses``
(OpenAI Responses), ``POST /v1/messages`` (Anthropic), ``POST
/{version}/models/{model}:generateContent`` (Gemini).

::

    async with ScriptedLLM([[Call("add", {"a": 1, "b": 2})], "the sum is 3"]) as llm:
        openai = AsyncOpenAI(base_url=llm.url + "/v1", api_key="test")
        ...
    assert llm.problems == []
"""

from __future__ import annotations

import base64
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

try:
    from . import rules
except ImportError:  # run from examples/ with tests/agent_layer on sys.path
    import rules  # type: ignore[no-redef]

__all__ = ["Call", "ScriptedLLM", "ToolResultSeen", "Turn"]


def _is_base64(data: str) -> bool:
    """Base64 as proto3 JSON takes it for bytes: the standard or the URL-safe alphabet."""
    try:
        base64.b64decode(data.replace("-", "+").replace("_", "/"), validate=True)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class Call:
    """One tool call the scripted model makes: ``raw`` (a JSON string) replaces the
    encoded ``arguments`` on the APIs whose arguments are strings (OpenAI's)."""

    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    raw: str | None = None


#: A turn: the tool calls of one response, or the final answer's text.
Turn = list[Call] | str


@dataclass
class ToolResultSeen:
    """One tool result the server received: the call's id and name, its text (all text
    parts joined), whether it was flagged an error, and its content part types."""

    call_id: str
    name: str
    text: str
    is_error: bool
    part_types: list[str]
    raw: Any


class ScriptedLLM:
    """The server (an async context manager); ``url`` is ``http://127.0.0.1:PORT``.

    ``turns``: the script; ``gemini_ids``: give Gemini function calls ids (newer models
    do); ``check_strict``: require strict-mode schemas for OpenAI tools marked strict.
    After use: ``requests`` (each request's JSON, by API), ``results`` (one list of
    :class:`ToolResultSeen` per round), ``problems`` (every shape violation found),
    ``tools_seen`` (each request's tool list).
    """

    def __init__(self, turns: list[Turn], *, gemini_ids: bool = True) -> None:
        self.turns = list(turns)
        self.gemini_ids = gemini_ids
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.results: list[list[ToolResultSeen]] = []
        self.problems: list[str] = []
        self.tools_seen: list[Any] = []
        self._issued: list[tuple[str, str]] = []
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.url = ""

    # -- lifecycle ---------------------------------------------------------------------------
    async def __aenter__(self) -> ScriptedLLM:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_post("/v1/responses", self._responses)
        app.router.add_post("/v1/messages", self._anthropic)
        app.router.add_post("/{version}/models/{call}", self._gemini)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # -- the script ---------------------------------------------------------------------------
    def _next_turn(self) -> Turn:
        if not self.turns:
            raise web.HTTPBadRequest(text="the script has no more turns")
        return self.turns.pop(0)

    def _fail(self, api: str, problems: list[str]) -> web.Response:
        self.problems.extend(f"{api}: {p}" for p in problems)
        message = "; ".join(problems)
        if api == "anthropic":
            body: dict[str, Any] = {"type": "error",
                                    "error": {"type": "invalid_request_error", "message": message}}
        elif api == "gemini":
            body = {"error": {"code": 400, "message": message, "status": "INVALID_ARGUMENT"}}
        else:
            body = {"error": {"message": message, "type": "invalid_request_error",
                              "param": None, "code": None}}
        return web.json_response(body, status=400)

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):04d}"

    # -- OpenAI Chat Completions -------------------------------------------------------------
    async def _chat(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append(("openai", body))
        problems = self._check_tools("openai", body.get("tools") or [])
        if self._issued:
            problems += self._check_chat(body.get("messages") or [])
        if problems:
            return self._fail("openai", problems)
        turn = self._next_turn()
        message: dict[str, Any] = {"role": "assistant", "content": None}
        finish = "tool_calls"
        if isinstance(turn, str):
            message["content"] = turn
            finish = "stop"
        else:
            calls = []
            for call in turn:
                call_id = self._new_id("call_")
                self._issued.append((call_id, call.name))
                calls.append({"id": call_id, "type": "function", "function": {
                    "name": call.name,
                    "arguments": call.raw if call.raw is not None else json.dumps(call.arguments),
                }})
            message["tool_calls"] = calls
        return web.json_response({
            "id": self._new_id("chatcmpl-"), "object": "chat.completion", "created": 0,
            "model": body.get("model", "scripted"),
            "choices": [{"index": 0, "message": message, "finish_reason": finish,
                         "logprobs": None}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        })

    def _check_chat(self, messages: list[dict[str, Any]]) -> list[str]:
        issued, self._issued = self._issued, []
        ids = [i for i, _ in issued]
        for index in range(len(messages) - 1, -1, -1):
            message = messages[index]
            if message.get("role") == "assistant" and message.get("tool_calls"):
                break
        else:
            return ["no assistant message with tool_calls before the tool results"]
        sent = [c.get("id") for c in message["tool_calls"]]
        problems = [] if sent == ids else [f"assistant tool_calls ids {sent} != issued {ids}"]
        after = messages[index + 1:]
        if [m.get("role") for m in after] != ["tool"] * len(ids):
            problems.append(f"expected {len(ids)} role 'tool' messages after the assistant "
                            f"turn, got roles {[m.get('role') for m in after]}")
        seen: list[ToolResultSeen] = []
        for (call_id, name), message in zip(issued, after, strict=False):
            if message.get("tool_call_id") != call_id:
                problems.append(f"tool_call_id {message.get('tool_call_id')!r} != {call_id!r}")
            content = message.get("content")
            if isinstance(content, str):
                text, types = content, ["string"]
            elif isinstance(content, list) and all(
                isinstance(p, dict) and p.get("type") == "text" and isinstance(p.get("text"), str)
                for p in content
            ):
                text, types = "".join(p["text"] for p in content), ["text"] * len(content)
            else:
                problems.append(f"tool message content must be a string or text parts, "
                                f"got {content!r:.200}")
                continue
            seen.append(ToolResultSeen(call_id, name, text, text.startswith("Error:"),
                                       types, message))
        self.results.append(seen)
        return problems

    # -- OpenAI Responses --------------------------------------------------------------------
    async def _responses(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append(("openai-responses", body))
        problems = self._check_tools("openai-responses", body.get("tools") or [])
        if self._issued:
            items = body.get("input")
            problems += self._check_responses(items if isinstance(items, list) else [])
        if problems:
            return self._fail("openai-responses", problems)
        turn = self._next_turn()
        if isinstance(turn, str):
            output: list[dict[str, Any]] = [{
                "type": "message", "id": self._new_id("msg_"), "role": "assistant",
                "status": "completed",
                "content": [{"type": "output_text", "text": turn, "annotations": []}],
            }]
        else:
            output = []
            for call in turn:
                call_id = self._new_id("call_")
                self._issued.append((call_id, call.name))
                output.append({
                    "type": "function_call", "id": self._new_id("fc_"), "call_id": call_id,
                    "name": call.name, "status": "completed",
                    "arguments": call.raw if call.raw is not None else json.dumps(call.arguments),
                })
        return web.json_response({
            "id": self._new_id("resp_"), "object": "response", "created_at": 0,
            "status": "completed", "model": body.get("model", "scripted"), "output": output,
            "parallel_tool_calls": True, "tool_choice": "auto", "tools": [],
            "usage": {"input_tokens": 1, "output_tokens": 1, "total_tokens": 2,
                      "input_tokens_details": {"cached_tokens": 0},
                      "output_tokens_details": {"reasoning_tokens": 0}},
        })

    def _check_responses(self, items: list[dict[str, Any]]) -> list[str]:
        issued, self._issued = self._issued, []
        problems: list[str] = []
        calls = [i.get("call_id") for i in items if i.get("type") == "function_call"]
        outputs = [i for i in items if i.get("type") == "function_call_output"]
        for call_id, _ in issued:
            if call_id not in calls:
                problems.append(f"the function_call item {call_id!r} was not sent back")
        by_id = {o.get("call_id"): o for o in outputs}
        seen: list[ToolResultSeen] = []
        for call_id, name in issued:
            item = by_id.get(call_id)
            if item is None:
                problems.append(f"no function_call_output for call_id {call_id!r}")
                continue
            output = item.get("output")
            if isinstance(output, str):
                text, types = output, ["string"]
            elif isinstance(output, list):
                types = [p.get("type") for p in output if isinstance(p, dict)]
                bad = [t for t in types if t not in ("input_text", "input_image", "input_file")]
                if bad or len(types) != len(output):
                    problems.append(f"function_call_output parts of types {types}")
                for part in output:
                    if part.get("type") == "input_image" and not str(
                            part.get("image_url", "")).startswith("data:image/"):
                        problems.append("input_image without a data: URL")
                text = "".join(p.get("text", "") for p in output if p.get("type") == "input_text")
            else:
                problems.append(f"function_call_output output {output!r:.100}")
                continue
            seen.append(ToolResultSeen(call_id, name, text, text.startswith("Error:"),
                                       types, item))
        self.results.append(seen)
        return problems

    # -- Anthropic Messages -----------------------------------------------------------------
    async def _anthropic(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append(("anthropic", body))
        problems = self._check_tools("anthropic", body.get("tools") or [])
        if self._issued:
            problems += self._check_anthropic(body.get("messages") or [])
        if problems:
            return self._fail("anthropic", problems)
        turn = self._next_turn()
        if isinstance(turn, str):
            content: list[dict[str, Any]] = [{"type": "text", "text": turn}]
            stop = "end_turn"
        else:
            content = [{"type": "text", "text": "Let me use the tools."}]
            for call in turn:
                call_id = self._new_id("toolu_")
                self._issued.append((call_id, call.name))
                content.append({"type": "tool_use", "id": call_id, "name": call.name,
                                "input": call.arguments})
            stop = "tool_use"
        return web.json_response({
            "id": self._new_id("msg_"), "type": "message", "role": "assistant",
            "model": body.get("model", "scripted"), "content": content,
            "stop_reason": stop, "stop_sequence": None,
            "usage": {"input_tokens": 1, "output_tokens": 1},
        })

    def _check_anthropic(self, messages: list[dict[str, Any]]) -> list[str]:
        issued, self._issued = self._issued, []
        ids = [i for i, _ in issued]
        if len(messages) < 2:
            return ["the tool results need the assistant turn and a user turn"]
        assistant, user = messages[-2], messages[-1]
        problems: list[str] = []
        used = [b.get("id") for b in assistant.get("content", [])
                if isinstance(b, dict) and b.get("type") == "tool_use"]
        if assistant.get("role") != "assistant" or used != ids:
            problems.append(f"the assistant turn before the results has tool_use ids {used}, "
                            f"expected {ids}")
        blocks = user.get("content")
        if user.get("role") != "user" or not isinstance(blocks, list):
            return [*problems, "the tool results must be a user message with a block list"]
        results = [b for b in blocks if b.get("type") == "tool_result"]
        if blocks[:len(results)] != results:
            problems.append("tool_result blocks must come first in the user message")
        if [b.get("tool_use_id") for b in results] != ids:
            problems.append(f"tool_use_ids {[b.get('tool_use_id') for b in results]} != {ids}")
        seen: list[ToolResultSeen] = []
        for (call_id, name), block in zip(issued, results, strict=False):
            is_error = block.get("is_error", False)
            if not isinstance(is_error, bool):
                problems.append(f"is_error must be a boolean, got {is_error!r}")
            content = block.get("content", "")
            if isinstance(content, str):
                text, types = content, ["string"]
            else:
                types = [p.get("type") for p in content]
                bad = [t for t in types if t not in ("text", "image", "document",
                                                     "search_result")]
                if bad:
                    problems.append(f"tool_result content types {types}")
                for part in content:
                    if part.get("type") == "text" and not part.get("text"):
                        problems.append("an empty text block in a tool_result")
                    if part.get("type") in ("image", "document"):
                        source = part.get("source", {})
                        if source.get("type") != "base64" or not source.get("media_type"):
                            problems.append(f"{part.get('type')} block source {source!r:.80}")
                text = "".join(p.get("text", "") for p in content if p.get("type") == "text")
            seen.append(ToolResultSeen(call_id, name, text, bool(is_error), types, block))
        self.results.append(seen)
        return problems

    # -- Gemini ------------------------------------------------------------------------------
    async def _gemini(self, request: web.Request) -> web.Response:
        call_path = request.match_info["call"]
        if not call_path.endswith(":generateContent"):
            raise web.HTTPNotFound(text=f"only generateContent is scripted, not {call_path}")
        body = await request.json()
        self.requests.append(("gemini", body))
        problems = self._check_tools("gemini", body.get("tools") or [])
        if self._issued:
            problems += self._check_gemini(body.get("contents") or [])
        if problems:
            return self._fail("gemini", problems)
        turn = self._next_turn()
        if isinstance(turn, str):
            parts: list[dict[str, Any]] = [{"text": turn}]
        else:
            parts = []
            for call in turn:
                call_id = self._new_id("gc_") if self.gemini_ids else ""
                self._issued.append((call_id, call.name))
                function_call: dict[str, Any] = {"name": call.name, "args": call.arguments}
                if call_id:
                    function_call["id"] = call_id
                parts.append({"functionCall": function_call})
        return web.json_response({
            "candidates": [{"content": {"role": "model", "parts": parts},
                            "finishReason": "STOP", "index": 0}],
            "usageMetadata": {"promptTokenCount": 1, "candidatesTokenCount": 1,
                              "totalTokenCount": 2},
            "modelVersion": "scripted",
        })

    def _check_gemini(self, contents: list[dict[str, Any]]) -> list[str]:
        issued, self._issued = self._issued, []
        if len(contents) < 2:
            return ["the function responses need the model turn and a user turn"]
        model, user = contents[-2], contents[-1]
        problems: list[str] = []
        called = [p.get("functionCall", {}).get("name") for p in model.get("parts", [])
                  if "functionCall" in p]
        if model.get("role") != "model" or called != [n for _, n in issued]:
            problems.append(f"the model turn before the responses calls {called}")
        responses = [p.get("functionResponse") for p in user.get("parts", [])]
        if user.get("role") != "user" or any(r is None for r in responses):
            return [*problems, "the function responses must be a user content of "
                               "functionResponse parts only"]
        if len(responses) != len(issued):
            problems.append(f"{len(responses)} function responses for {len(issued)} calls")
        seen: list[ToolResultSeen] = []
        for (call_id, name), response in zip(issued, responses, strict=False):
            assert response is not None
            if response.get("name") != name:
                problems.append(f"functionResponse name {response.get('name')!r} != {name!r}")
            if call_id and response.get("id") != call_id:
                problems.append(f"functionResponse id {response.get('id')!r} != {call_id!r}")
            payload = response.get("response")
            if not isinstance(payload, dict) or not ({"output", "error"} & set(payload)):
                problems.append(f"functionResponse.response {payload!r:.100} has no output/error")
                continue
            types = ["response"]
            for part in response.get("parts") or []:
                # proto3 JSON: the API takes lowerCamel or the proto's snake_case names
                blob = part.get("inlineData") or part.get("inline_data") or {}
                mime = blob.get("mimeType") or blob.get("mime_type")
                data = blob.get("data")
                if not mime or not isinstance(data, str) or not _is_base64(data):
                    problems.append(f"functionResponse part {part!r:.80}")
                types.append(mime or "?")
            value = payload.get("error", payload.get("output"))
            text = value if isinstance(value, str) else json.dumps(value)
            seen.append(ToolResultSeen(call_id, name, text, "error" in payload, types, response))
        self.results.append(seen)
        return problems

    # -- the tool list ------------------------------------------------------------------------
    def _check_tools(self, api: str, tools: list[dict[str, Any]]) -> list[str]:
        self.tools_seen.append(tools)
        problems: list[str] = []
        if api == "gemini":
            for group in tools:
                for declaration in group.get("functionDeclarations", []):
                    problems += rules.name_problems(api, declaration["name"])
                    if "parameters" in declaration:
                        problems += [f"{declaration['name']}: {p}" for p in
                                     rules.gemini_problems(declaration["parameters"])]
            return problems
        for tool in tools:
            function = tool.get("function", tool)
            name = function.get("name", "")
            problems += rules.name_problems(api, name)
            schema = function.get("parameters", function.get("input_schema"))
            if function.get("strict") is True:
                problems += [f"{name}: {p}" for p in rules.openai_strict_problems(schema)]
        return problems
