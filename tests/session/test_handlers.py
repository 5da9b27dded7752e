"""Payload models of server requests, elicitation defaults, the dispatcher and the
reconnection policy, without a network."""

from __future__ import annotations

import asyncio
from types import MappingProxyType
from typing import Any

import pytest

from mcp_async import (
    AuthError,
    ConfigError,
    ContentTypeError,
    HTTPStatusError,
    RateLimitedError,
    ReadError,
    UnexpectedResponseError,
)
from mcp_async.protocol.jsonrpc import ErrorResponse, Notification, Request, Response
from mcp_async.protocol.models import ImageContent, Root, TextContent
from mcp_async.session.dispatch import Dispatcher
from mcp_async.session.elicitation import (
    accept_with_defaults,
    build_result,
    fill_defaults,
    schema_defaults,
)
from mcp_async.session.handlers import (
    ElicitationRequest,
    ElicitationResult,
    SamplingMessage,
    SamplingRequest,
    SamplingResult,
    ToolResultContent,
    ToolUseContent,
)
from mcp_async.transports.http.sse_streams import ReconnectPolicy, gives_up

SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "age": {"type": "integer", "default": 30},
        "pets": {"type": "array", "items": {"type": "string"}, "default": ["cat"]},
        "odd": "not a schema",
    },
    "required": ["name", 7],
}


# ---- sampling -------------------------------------------------------------------------------


def test_sampling_request_decodes_every_field() -> None:
    request = SamplingRequest.from_dict({
        "messages": [
            {"role": "user", "content": {"type": "text", "text": "look this up"}},
            {"role": "assistant", "content": [
                {"type": "tool_use", "id": "u1", "name": "lookup", "input": {"q": "x"}},
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "toolUseId": "u1",
                 "content": [{"type": "text", "text": "found"}], "isError": False},
                {"type": "image", "data": "AAAA", "mimeType": "image/png"},
            ]},
        ],
        "maxTokens": 64,
        "systemPrompt": "be kind",
        "modelPreferences": {"hints": [{"name": "claude"}, {}], "costPriority": 0.2,
                             "speedPriority": 1, "intelligencePriority": 0.9},
        "includeContext": "thisServer",
        "temperature": 0.5,
        "stopSequences": ["END"],
        "metadata": {"k": "v"},
        "tools": [{"name": "lookup", "inputSchema": {"type": "object"}}],
        "toolChoice": {"mode": "required"},
        "_meta": {"trace": 1},
    })
    first, second, third = request.messages
    assert first.text == "look this up" and first.role == "user"
    (use,) = second.content
    assert isinstance(use, ToolUseContent) and use.input == {"q": "x"} and use.name == "lookup"
    result, image = third.content
    assert isinstance(result, ToolResultContent) and result.tool_use_id == "u1"
    assert isinstance(result.content[0], TextContent) and not result.is_error
    assert isinstance(image, ImageContent)
    assert third.text == ""
    assert request.max_tokens == 64 and request.system_prompt == "be kind"
    assert request.model_preferences is not None
    assert request.model_preferences.hints == ("claude",)
    assert request.model_preferences.speed_priority == 1.0
    assert request.include_context == "thisServer" and request.temperature == 0.5
    assert request.stop_sequences == ("END",) and request.metadata == {"k": "v"}
    assert [t.name for t in request.tools] == ["lookup"] and request.tool_choice == "required"
    assert request.meta == {"trace": 1}


@pytest.mark.parametrize(
    ("params", "problem"),
    [
        ({"messages": []}, "maxTokens"),
        ({"maxTokens": 1}, "messages"),
        ({"maxTokens": 1, "messages": [{"role": "user"}]}, "content"),
        ({"maxTokens": 1, "messages": [{"role": "user", "content": 3}]}, "SamplingMessage.content"),
        ({"maxTokens": "many", "messages": []}, "maxTokens"),
    ],
)
def test_sampling_request_errors_name_the_field(params: dict[str, Any], problem: str) -> None:
    with pytest.raises(UnexpectedResponseError, match=problem):
        SamplingRequest.from_dict(params)


def test_sampling_result_wire_forms() -> None:
    assert SamplingResult("hi", model="m").to_dict() == {
        "role": "assistant", "content": {"type": "text", "text": "hi"}, "model": "m",
    }
    use = ToolUseContent(id="u", name="n", input={}, meta={"x": 1})
    assert SamplingResult(use, model="m", stop_reason="toolUse", meta={"a": 1}).to_dict() == {
        "role": "assistant", "model": "m", "stopReason": "toolUse", "_meta": {"a": 1},
        "content": {"type": "tool_use", "id": "u", "name": "n", "input": {}, "_meta": {"x": 1}},
    }
    two = SamplingResult(["thinking", use], model="m").to_dict()["content"]
    assert two == [{"type": "text", "text": "thinking"}, use.to_dict()]
    one = SamplingResult([TextContent("only")], model="m").to_dict()["content"]
    assert one == {"type": "text", "text": "only"}
    parsed = TextContent.from_dict({"type": "text", "text": "raw", "annotations": {}})
    assert SamplingResult([parsed], model="m").to_dict()["content"] == parsed.raw
    with pytest.raises(TypeError, match="int"):
        SamplingResult([3], model="m").to_dict()


def test_sampling_message_single_block() -> None:
    message = SamplingMessage.from_dict({"role": "user", "content": {"type": "text", "text": "a"}})
    assert message.text == "a" and len(message.content) == 1


# ---- elicitation ------------------------------------------------------------------------------


def test_elicitation_request_modes() -> None:
    form = ElicitationRequest.from_dict({"message": "m", "requestedSchema": SCHEMA})
    assert form.mode == "form" and form.required == ("name",)
    assert set(form.properties) == {"name", "age", "pets"}
    url = ElicitationRequest.from_dict(
        {"mode": "url", "message": "go", "url": "https://x.example", "elicitationId": "e"}
    )
    assert (url.url, url.elicitation_id, url.properties, url.required) == (
        "https://x.example", "e", {}, ()
    )
    with pytest.raises(UnexpectedResponseError, match="requestedSchema"):
        ElicitationRequest.from_dict({"message": "m"})
    with pytest.raises(UnexpectedResponseError, match="url"):
        ElicitationRequest.from_dict({"mode": "url", "message": "m"})
    with pytest.raises(ValueError, match="action"):
        ElicitationResult("maybe")  # type: ignore[arg-type]


@pytest.mark.parametrize("params", [
    {"message": "m", "requestedSchema": SCHEMA},
    {"message": "m", "requestedSchema": SCHEMA, "mode": "form", "_meta": {"k": 1}},
    {"message": "m", "requestedSchema": SCHEMA, "mode": None},
    {"message": "m", "requestedSchema": SCHEMA, "mode": ""},
    {"message": "m", "requestedSchema": SCHEMA, "url": "https://x.example"},
])
def test_elicitation_form_request_reads_the_same_on_both_paths(params: dict[str, Any]) -> None:
    # A well-formed dict takes the fast path; a mapping that is not a dict takes the
    # general one. Both must give the same request.
    fast = ElicitationRequest.from_dict(params)
    general = ElicitationRequest.from_dict(MappingProxyType(params))
    assert fast == general and fast.raw == params
    assert (fast.mode, fast.url, fast.elicitation_id) == ("form", None, None)


@pytest.mark.parametrize("params", [
    {"message": 1, "requestedSchema": SCHEMA},
    {"message": "m", "requestedSchema": []},
    {"message": "m", "requestedSchema": SCHEMA, "_meta": "x"},
])
def test_a_malformed_form_request_is_named(params: dict[str, Any]) -> None:
    with pytest.raises(UnexpectedResponseError, match="ElicitationRequest"):
        ElicitationRequest.from_dict(params)


def test_schema_defaults_and_filling() -> None:
    assert schema_defaults(SCHEMA) == {"age": 30, "pets": ["cat"]}
    assert schema_defaults(None) == {} and schema_defaults({"properties": []}) == {}
    read_only = MappingProxyType({"a": MappingProxyType({"default": 1}), "b": 2})
    assert schema_defaults({"properties": read_only}) == {"a": 1}
    assert fill_defaults(SCHEMA, {"name": "x", "age": None}) == {"name": "x", "pets": ["cat"]}
    assert fill_defaults(SCHEMA) == {"age": 30, "pets": ["cat"]}


async def test_accept_with_defaults_helper() -> None:
    optional = {"type": "object", "properties": {"n": {"type": "integer", "default": 1}}}
    request = ElicitationRequest("m", requested_schema=optional)
    assert await accept_with_defaults(request) == ElicitationResult.accept({"n": 1})
    assert (await accept_with_defaults(ElicitationRequest("m", requested_schema=SCHEMA))).action \
        == "decline"
    url = ElicitationRequest("m", mode="url", url="https://x.example")
    assert (await accept_with_defaults(url)).action == "decline"


def test_build_result() -> None:
    form = ElicitationRequest("m", requested_schema=SCHEMA)
    assert build_result(form, ElicitationResult.accept({"name": "Ann", "pets": ("a", "b")})) == {
        "action": "accept", "content": {"name": "Ann", "age": 30, "pets": ["a", "b"]},
    }
    assert build_result(form, ElicitationResult("accept", {"name": "Ann"}, fill_defaults=False)) \
        == {"action": "accept", "content": {"name": "Ann"}}
    assert build_result(form, ElicitationResult.decline()) == {"action": "decline"}
    url = ElicitationRequest("m", mode="url", url="https://x.example")
    assert build_result(url, ElicitationResult.accept({"ignored": 1})) == {"action": "accept"}
    assert build_result(form, {"action": "cancel"}) == {"action": "cancel"}
    with pytest.raises(ValueError, match="action"):
        build_result(form, {"content": {}})
    with pytest.raises(ValueError, match="'name'"):
        build_result(form, ElicitationResult.accept({"name": {"first": "A"}}))


# ---- dispatcher ---------------------------------------------------------------------------------


async def test_dispatcher_answers_without_a_network() -> None:
    async def roots_later() -> list[Any]:
        return ["file:///a", {"uri": "file:///b", "name": "b"}, Root("file:///c")]

    dispatcher = Dispatcher(roots=roots_later)
    answer = await dispatcher.request(Request(1, "roots/list"))
    assert answer == Response(1, {"roots": [
        {"uri": "file:///a"}, {"uri": "file:///b", "name": "b"}, {"uri": "file:///c"},
    ]})
    assert await dispatcher.request(Request(2, "ping")) == Response(2, {})
    missing = await dispatcher.request(Request(3, "sampling/createMessage"))
    assert isinstance(missing, ErrorResponse) and missing.code == -32601

    broken = Dispatcher(roots=lambda: ["relative/path"])
    failed = await broken.request(Request(4, "roots/list"))
    assert isinstance(failed, ErrorResponse) and failed.code == -32603
    assert "file://" in failed.message
    assert Dispatcher().capabilities() == {}
    with pytest.raises(ConfigError, match="list"):
        Dispatcher(roots="file:///a")


async def test_dispatcher_notification_errors_are_contained() -> None:
    calls: list[str] = []

    def bad_updated(uri: str) -> None:
        raise RuntimeError("callback bug")

    dispatcher = Dispatcher(resource_updated_handler=bad_updated,
                            on_notification=lambda method, params: calls.append(method))
    await dispatcher.notification(Notification("notifications/resources/updated", {"uri": "a"}))
    await dispatcher.notification(Notification("notifications/other", None))
    assert calls == ["notifications/other"]


async def test_dispatcher_sync_and_async_sampling_handlers() -> None:
    params = {"messages": [], "maxTokens": 1}

    def sync_sample(request: SamplingRequest) -> dict[str, Any]:
        return {"role": "assistant", "content": {"type": "text", "text": "s"}, "model": "m"}

    answer = await Dispatcher(sampling_handler=sync_sample).request(  # type: ignore[arg-type]
        Request(1, "sampling/createMessage", params)
    )
    assert isinstance(answer, Response) and answer.result["model"] == "m"

    async def wrong(request: SamplingRequest) -> Any:
        return 42

    answer = await Dispatcher(sampling_handler=wrong).request(
        Request(2, "sampling/createMessage", params)
    )
    assert isinstance(answer, ErrorResponse) and "SamplingResult" in answer.message


async def test_dispatcher_start_replies_in_a_task() -> None:
    replies: list[Any] = []
    done = asyncio.Event()

    async def reply(answer: Any) -> None:
        replies.append(answer)
        done.set()

    dispatcher = Dispatcher()
    await dispatcher.submit(Request("x", "nope"), reply)
    await asyncio.wait_for(done.wait(), 1)
    (answer,) = replies
    assert isinstance(answer, ErrorResponse) and answer.id == "x" and answer.code == -32601
    await asyncio.sleep(0)
    assert dispatcher.handlers_running == 0


# ---- reconnection -------------------------------------------------------------------------------


def test_reconnect_policy_delays() -> None:
    policy = ReconnectPolicy(max_attempts=3, initial_delay=0.5, max_delay=3)
    assert [policy.delay(n, None) for n in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert policy.delay(4, 250) == 0.25  # the server's retry always wins
    with pytest.raises(ConfigError, match="initial_delay"):
        ReconnectPolicy(initial_delay=-1)
    with pytest.raises(ConfigError, match="max_attempts"):
        ReconnectPolicy(max_attempts=True)


def test_which_stream_failures_end_reconnection() -> None:
    assert gives_up(HTTPStatusError(405))
    assert gives_up(HTTPStatusError(400))
    assert not gives_up(HTTPStatusError(503))
    assert not gives_up(HTTPStatusError(408))
    assert not gives_up(RateLimitedError(429, retry_after=1))
    assert gives_up(AuthError("no"))
    assert gives_up(ContentTypeError("text/html"))
    assert not gives_up(ReadError("reset"))
