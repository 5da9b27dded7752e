"""ToolRunner end to end on a real (in-process) MCP server: errors as results, order,
bounded concurrency, content mapping per API, result budgets and the ``_meta`` hint."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from mcp_async import AsyncMCPClient, MCPClientGroup
from mcp_async.agents import (
    AgentToolError,
    ModelToolCall,
    ResultBudget,
    ToolRunner,
    agent_loop,
    parse_tool_calls,
    run_agent,
    run_tool_calls,
)
from mcp_async.testing import Fault, MCPTestServer

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 16).decode()
PDF = base64.b64encode(b"%PDF-1.4 tiny").decode()
WAV = base64.b64encode(b"RIFF....WAVE").decode()


def build_server() -> MCPTestServer:
    server = MCPTestServer()

    @server.tool
    def echo(text: str) -> str:
        """Echo."""
        return text

    @server.tool
    def fail() -> str:
        """Always fails."""
        raise RuntimeError("it broke")

    @server.tool
    async def wait(ms: int, tag: str) -> str:
        """Sleeps ``ms`` milliseconds."""
        await asyncio.sleep(ms / 1000)
        return tag

    @server.tool
    def big(size: int) -> str:
        """Returns ``size`` characters: a head, x's, a tail."""
        return "HEAD" + "x" * (size - 8) + "TAIL"

    @server.tool(name="big_hinted")
    def big_hinted(size: int) -> str:
        """Like big; its definition carries a size hint."""
        return "HEAD" + "x" * (size - 8) + "TAIL"

    server._tools["big_hinted"].definition["_meta"] = {"anthropic/maxResultSizeChars": 1000}

    @server.tool
    def mixed() -> dict[str, Any]:
        """Every content type."""
        return {"content": [
            {"type": "text", "text": "intro"},
            {"type": "image", "data": PNG, "mimeType": "image/png"},
            {"type": "audio", "data": WAV, "mimeType": "audio/wav"},
            {"type": "resource", "resource": {"uri": "file:///notes.txt", "text": "note body",
                                              "mimeType": "text/plain"}},
            {"type": "resource", "resource": {"uri": "file:///doc.pdf", "blob": PDF,
                                              "mimeType": "application/pdf"}},
            {"type": "resource_link", "uri": "file:///big.csv", "name": "big.csv",
             "mimeType": "text/csv", "size": 1234},
        ]}

    @server.tool(output_schema={"type": "object", "properties": {"n": {"type": "integer"}}})
    def structured() -> dict[str, Any]:
        """Structured only."""
        return {"content": [], "structuredContent": {"n": 7}}

    return server


@pytest.fixture
async def served() -> AsyncIterator[tuple[MCPTestServer, AsyncMCPClient]]:
    server = build_server()
    async with server, AsyncMCPClient(server.url) as client:
        yield server, client


def chat(*calls: tuple[str, Any]) -> dict[str, Any]:
    """An OpenAI Chat completion with these (name, arguments-or-raw-string) calls."""
    return {"choices": [{"message": {"role": "assistant", "content": None, "tool_calls": [
        {"id": f"c{i}", "type": "function", "function": {
            "name": name, "arguments": args if isinstance(args, str) else json.dumps(args)}}
        for i, (name, args) in enumerate(calls)]}}]}


async def test_errors_go_to_the_model_and_nothing_is_dropped(served: Any) -> None:
    server, client = served
    server.faults.add(Fault.error(500, name="echo", times=1))
    tool_round = await run_tool_calls(client, chat(
        ("echo", {"text": "first"}),        # an HTTP 500 on this one: a transport error
        ("echo", "{not json"),              # malformed JSON: never sent
        ("nope", {}),                       # unknown tool: never sent
        ("fail", {}),                       # isError
        ("echo", "[1, 2]"),                 # JSON, but not an object
        ("echo", {"text": "last"}),
    ), "openai")
    statuses = [e.status for e in tool_round.executions]
    assert statuses == ["error", "invalid_arguments", "unknown_tool", "tool_error",
                        "invalid_arguments", "ok"]
    assert [m["tool_call_id"] for m in tool_round.messages] == [f"c{i}" for i in range(6)]
    texts = [m["content"] for m in tool_round.messages]
    assert all(t.startswith("Error: ") for t in texts[:5]) and texts[5] == "last"
    assert "HTTPStatusError" in texts[0]
    assert "not valid JSON" in texts[1] and "not run" in texts[1]
    assert "no tool named 'nope'" in texts[2]
    assert "it broke" in texts[3]
    assert "must be a JSON object" in texts[4]
    assert tool_round.executions[3].result is not None and tool_round.executions[3].result.is_error
    # the malformed and unknown calls never reached the server
    sent = [params["name"] for method, params in server.stats.received if method == "tools/call"]
    assert "nope" not in sent and len(sent) <= 3


async def test_a_timeout_is_an_error_result(served: Any) -> None:
    _, client = served
    tool_round = await run_tool_calls(client, chat(("wait", {"ms": 2000, "tag": "t"})),
                                      "openai", timeout=0.2)
    [execution] = tool_round.executions
    assert execution.status == "error" and "timed out" in execution.rendered.text


async def test_raise_errors_raises_after_the_round(served: Any) -> None:
    _, client = served
    runner = ToolRunner(client, "anthropic", raise_errors=True)
    response = {"content": [
        {"type": "tool_use", "id": "t1", "name": "echo", "input": {"text": "a"}},
        {"type": "tool_use", "id": "t2", "name": "fail", "input": {}},
    ]}
    with pytest.raises(AgentToolError) as caught:
        await runner.run(response)
    assert caught.value.execution.call.id == "t2"
    assert [e.status for e in caught.value.tool_round.executions] == ["ok", "tool_error"]


async def test_concurrent_bounded_and_in_the_models_order(served: Any) -> None:
    server, client = served
    calls = [("wait", {"ms": 120 - 10 * i, "tag": f"t{i}"}) for i in range(9)]
    runner = ToolRunner(client, "openai", concurrency=3)
    tool_round = await runner.run(chat(*calls))
    assert [m["content"] for m in tool_round.messages] == [f"t{i}" for i in range(9)]
    assert server.stats.max_in_flight == 3


@pytest.mark.parametrize("api", ["openai", "openai-responses", "anthropic", "gemini"])
async def test_content_mapping_per_api(served: Any, api: str) -> None:
    _, client = served
    call = ModelToolCall("id1", "mixed", {}, api)  # type: ignore[arg-type]
    tool_round = await ToolRunner(client, api).run_calls([call])
    [execution] = tool_round.executions
    text = execution.rendered.text
    assert "intro" in text and "note body" in text and "[resource file:///notes.txt]" in text
    assert "[audio audio/wav" in text  # no API takes audio in a tool result
    assert "[resource link: big.csv <file:///big.csv> (text/csv, 1,234 bytes)]" in text
    item = execution.item
    if api == "openai":
        assert "[image image/png" in text and "[resource application/pdf" in text
        assert isinstance(item["content"], str)
    elif api == "openai-responses":
        types = [p["type"] for p in item["output"]]
        assert types == ["input_text", "input_image", "input_file"]
        assert item["output"][1]["image_url"] == f"data:image/png;base64,{PNG}"
        assert item["output"][2]["filename"] == "doc.pdf"
    elif api == "anthropic":
        assert [b["type"] for b in item["content"]] == ["text", "image", "document"]
        assert item["content"][1]["source"] == {"type": "base64", "media_type": "image/png",
                                                "data": PNG}
        assert item["is_error"] is False
    else:
        response = item["functionResponse"]
        assert response["id"] == "id1" and response["name"] == "mixed"
        assert [p["inlineData"]["mimeType"] for p in response["parts"]] == [
            "image/png", "application/pdf"]
        assert "intro" in response["response"]["output"]


async def test_structured_content(served: Any) -> None:
    _, client = served
    gemini = await ToolRunner(client, "gemini").run_calls(
        [ModelToolCall("", "structured", {}, "gemini")])
    part = gemini.messages[0]["parts"][0]["functionResponse"]
    assert part["response"] == {"output": {"n": 7}} and "id" not in part
    chat_round = await ToolRunner(client, "openai").run_calls(
        [ModelToolCall("x", "structured", {}, "openai")])
    assert chat_round.messages[0]["content"] == '{"n":7}'


async def test_budget_keeps_head_and_tail_and_the_full_result(served: Any) -> None:
    _, client = served
    runner = ToolRunner(client, "openai", budget=ResultBudget(max_chars=500))
    tool_round = await runner.run(chat(("big", {"size": 10_000}), ("big", {"size": 300})))
    cut, small = tool_round.executions
    text = tool_round.messages[0]["content"]
    assert len(text) <= 500 and text.startswith("HEAD") and text.endswith("TAIL")
    assert "characters cut by mcp_async's result budget" in text
    assert cut.truncated and cut.rendered.total_chars == 10_000
    assert cut.result is not None and len(cut.result.text) == 10_000  # the program has it all
    assert not small.truncated and len(tool_round.messages[1]["content"]) == 300


async def test_default_budget_and_the_servers_meta_hint(served: Any) -> None:
    _, client = served
    runner = ToolRunner(client, "anthropic")
    response = {"content": [
        {"type": "tool_use", "id": "a", "name": "big", "input": {"size": 30_000}},
        {"type": "tool_use", "id": "b", "name": "big_hinted", "input": {"size": 30_000}},
    ]}
    plain, hinted = (await runner.run(response)).executions
    assert plain.truncated and len(plain.rendered.text) <= 25_000
    assert hinted.truncated and len(hinted.rendered.text) <= 1000
    unhinted = ToolRunner(client, "anthropic", budget=ResultBudget(honour_meta=False))
    assert len((await unhinted.run(response)).executions[1].rendered.text) > 1000


async def test_group_names_and_strict_nulls() -> None:
    alpha, beta = build_server(), build_server()
    async with alpha, beta, MCPClientGroup({
        "alpha": AsyncMCPClient(alpha.url), "beta": AsyncMCPClient(beta.url)}) as group:
        runner = ToolRunner(group, "openai-responses", mode="strict")
        tools = await runner.model_tools()
        assert "alpha__echo" in tools.entries and tools.entries["beta__wait"].server == "beta"
        assert all(t["strict"] is True for t in tools.tools)
        response = {"output": [
            {"type": "function_call", "call_id": "x", "name": "beta__echo",
             "arguments": '{"text": "via beta"}'},
        ]}
        tool_round = await runner.run(response)
        assert tool_round.messages == [{"type": "function_call_output", "call_id": "x",
                                        "output": "via beta"}]
        assert beta.stats.by_method["tools/call"] == 1
        assert alpha.stats.by_method["tools/call"] == 0


async def test_agent_loop_round_limit_reports_pending_calls(served: Any) -> None:
    _, client = served
    calls = 0

    async def model(messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> Any:
        nonlocal calls
        calls += 1
        return chat(("echo", {"text": f"round {calls}"}))

    last = await run_agent(client, "openai", model, [{"role": "user", "content": "go"}],
                           max_rounds=2)
    assert last.stop_reason == "max_rounds" and calls == 3
    assert [c.name for c in last.pending] == ["echo"]
    roles = [m["role"] for m in last.messages]
    assert roles == ["user", "assistant", "tool", "assistant", "tool", "assistant"]


async def test_agent_loop_does_not_change_the_callers_messages(served: Any) -> None:
    _, client = served
    messages = [{"role": "user", "content": "hi"}]

    async def model(messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> Any:
        return {"choices": [{"message": {"role": "assistant", "content": "hello"}}]}

    steps = [s async for s in agent_loop(client, "openai", model, messages)]
    assert messages == [{"role": "user", "content": "hi"}]
    assert steps[-1].text == "hello" and steps[-1].final


def test_parse_tool_calls_from_sdk_objects_and_mappings() -> None:
    from types import MappingProxyType

    class Dumped:
        def model_dump(self, **_: Any) -> dict[str, Any]:
            return {"candidates": [{"content": {"role": "model", "parts": [
                {"function_call": {"name": "echo", "args": {"text": "x"}}}]}}]}

    [call] = parse_tool_calls(Dumped(), "gemini")
    assert (call.name, call.arguments, call.id) == ("echo", {"text": "x"}, "")
    [call] = parse_tool_calls(MappingProxyType({"content": [
        {"type": "tool_use", "id": "t", "name": "echo", "input": {"text": "y"}}]}), "anthropic")
    assert call.arguments == {"text": "y"}
    assert parse_tool_calls({"choices": [{"message": {"content": "no tools"}}]}, "openai") == []


async def test_bad_input_is_a_config_error(served: Any) -> None:
    from mcp_async import ConfigError

    _, client = served
    with pytest.raises(ConfigError, match="api must be one of"):
        ToolRunner(client, "cohere")
    with pytest.raises(ConfigError, match="AsyncMCPClient or an MCPClientGroup"):
        ToolRunner(object(), "openai")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="concurrency"):
        ToolRunner(client, "openai", concurrency=0)
    with pytest.raises(ConfigError, match="may not set 'timeout'"):
        ToolRunner(client, "openai", call_options={"timeout": 3})
    with pytest.raises(ConfigError, match="max_chars"):
        ResultBudget(max_chars=10)
    with pytest.raises(ConfigError, match="no choices"):
        parse_tool_calls({"choices": []}, "openai")
    with pytest.raises(ConfigError, match="must be a list"):
        parse_tool_calls({"output": "nope"}, "openai-responses")
    # a response of another API is refused, not read as "no tool calls"
    openai_shaped = chat(("echo", {"text": "x"}))
    for api in ("openai-responses", "anthropic", "gemini"):
        with pytest.raises(ConfigError, match="not a"):
            parse_tool_calls(openai_shaped, api)
    with pytest.raises(ConfigError, match="not an OpenAI Chat"):
        parse_tool_calls({"candidates": []}, "openai")
    with pytest.raises(ConfigError, match="a openai-responses tool call given to a openai"):
        await ToolRunner(client, "openai").run_calls(
            [ModelToolCall("x", "echo", {}, "openai-responses")])


async def test_call_by_name_for_framework_tool_functions(served: Any) -> None:
    _, client = served
    runner = ToolRunner(client, "openai", budget=ResultBudget(max_chars=300))
    execution = await runner.call("big", {"size": 5000}, call_id="fw-1")
    assert execution.status == "ok" and execution.truncated
    assert execution.item["tool_call_id"] == "fw-1" and len(execution.item["content"]) <= 300
    assert (await runner.call("fail")).status == "tool_error"
    with pytest.raises(AgentToolError):
        await ToolRunner(client, "openai", raise_errors=True).call("nope")


async def test_a_renamed_tool_is_called_by_its_mcp_name() -> None:
    server = MCPTestServer()

    @server.tool(name="weather.get")
    def weather(city: str) -> str:
        """Weather."""
        return f"sunny in {city}"

    async with server, AsyncMCPClient(server.url) as client:
        runner = ToolRunner(client, "anthropic")
        tools = await runner.model_tools()
        assert [t["name"] for t in tools.tools] == ["weather_get"]
        assert "renamed to 'weather_get'" in str(tools.report)
        execution = await runner.call("weather_get", {"city": "Oslo"})
    assert execution.rendered.text == "sunny in Oslo"
    assert [p["name"] for m, p in server.stats.received if m == "tools/call"] == ["weather.get"]


async def test_a_protocol_error_is_an_error_result(served: Any) -> None:
    server, client = served
    server.faults.add(Fault.bad_json(name="echo", times=1))
    tool_round = await run_tool_calls(client, {"candidates": [{"content": {"parts": [
        {"functionCall": {"name": "echo", "args": {"text": "x"}}}]}}]}, "gemini")
    [execution] = tool_round.executions
    assert execution.status == "error" and type(execution.error).__name__ == "InvalidJSONError"
    response = execution.item["functionResponse"]["response"]
    assert "InvalidJSONError" in response["error"]
