"""The vendors' own SDKs (openai, anthropic, google-genai) against the scripted model
server, with tools from MCP servers nobody here wrote: a full two-round loop per API.

The scripted server checks, on every request after a tool-call turn, that the SDK sent
the model's turn and one tool result per call in the shape that API requires, and
checks the tool list against the API's published name and schema rules; it answers
HTTP 400 otherwise, which the SDK raises.
"""

from __future__ import annotations

import contextlib
import importlib.util
from collections.abc import AsyncIterator
from typing import Any

import pytest

from mcp_async import AsyncMCPClient
from mcp_async.agents import ToolRunner, agent_loop

from .llm_server import Call, ScriptedLLM

# Installed or skipped; imported by the tests that use them (vendor_caller), not at
# collection: importing the three SDKs takes seconds, in every pytest-xdist worker.
for _sdk in ("openai", "anthropic", "google.genai"):
    if importlib.util.find_spec(_sdk) is None:
        pytest.skip(f"could not import {_sdk!r}: not installed", allow_module_level=True)

# google-genai subclasses aiohttp's ClientSession, which aiohttp deprecates.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Inheritance class AiohttpClientSession:DeprecationWarning"
)

APIS = ["openai", "openai-responses", "anthropic", "gemini"]
#: The schema mode each API's loop uses: strict where the API has it, Gemini's subset.
MODES = {"openai": "strict", "openai-responses": "strict", "anthropic": "as_is",
         "gemini": "portable"}


@contextlib.asynccontextmanager
async def vendor_caller(api: str, url: str) -> AsyncIterator[Any]:
    """``call_model(messages, tools)`` through the vendor's own SDK at ``url``; the SDK's
    client is closed afterwards."""
    if api in ("openai", "openai-responses"):
        from openai import AsyncOpenAI

        openai = AsyncOpenAI(base_url=f"{url}/v1", api_key="test-key", max_retries=0)

        async def call(messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> Any:
            if api == "openai":
                return await openai.chat.completions.create(
                    model="gpt-test", messages=messages, tools=tools)  # type: ignore[arg-type]
            return await openai.responses.create(
                model="gpt-test", input=messages, tools=tools)  # type: ignore[arg-type]
        try:
            yield call
        finally:
            await openai.close()
    elif api == "anthropic":
        from anthropic import AsyncAnthropic

        anthropic = AsyncAnthropic(base_url=url, api_key="test-key", max_retries=0)

        async def call_anthropic(messages: list[dict[str, Any]],
                                 tools: list[dict[str, Any]]) -> Any:
            return await anthropic.messages.create(
                model="claude-test", max_tokens=512, messages=messages,  # type: ignore[arg-type]
                tools=tools)  # type: ignore[arg-type]
        try:
            yield call_anthropic
        finally:
            await anthropic.close()
    else:
        from google import genai
        from google.genai import types

        gemini = genai.Client(api_key="test-key", http_options=types.HttpOptions(base_url=url))

        async def call_gemini(messages: list[dict[str, Any]],
                              tools: list[dict[str, Any]]) -> Any:
            return await gemini.aio.models.generate_content(
                model="gemini-test", contents=messages,  # type: ignore[arg-type]
                config=types.GenerateContentConfig(tools=tools),  # type: ignore[arg-type]
            )
        try:
            yield call_gemini
        finally:
            await gemini.aio.aclose()


def first_message(api: str, text: str) -> dict[str, Any]:
    if api == "gemini":
        return {"role": "user", "parts": [{"text": text}]}
    return {"role": "user", "content": text}


def script_for(server: str) -> list[Any]:
    if server == "everything":
        return [
            [Call("echo", {"message": "hello"}), Call("get-sum", {"a": 2, "b": 3})],
            [Call("get-tiny-image"), Call("get-resource-links", {"count": 2})],
            "done",
        ]
    return [
        [Call("add", {"a": 2, "b": 3}), Call("echo", {"text": "hello"})],
        [Call("tiny_image"), Call("fail", {"message": "boom"})],
        "done",
    ]


def server_kind(client: AsyncMCPClient) -> str:
    info = client.server_info
    return "everything" if "everything" in (info.name if info else "").lower() else "sdk"


@pytest.mark.parametrize("api", APIS)
async def test_two_round_loop_through_the_vendor_sdk(api: str, mcp_client: AsyncMCPClient) -> None:
    await mcp_client.initialize()
    kind = server_kind(mcp_client)
    async with ScriptedLLM(script_for(kind)) as llm, vendor_caller(api, llm.url) as call:
        runner = ToolRunner(mcp_client, api, mode=MODES[api])  # type: ignore[arg-type]
        steps = [step async for step in agent_loop(
            runner, api, call, [first_message(api, "Use the tools, then say done.")],
        )]
    assert llm.problems == []
    assert [s.stop_reason for s in steps] == [None, None, "answered"]
    assert steps[-1].text == "done"
    assert len(llm.results) == 2 and [len(r) for r in llm.results] == [2, 2]
    first, second = llm.results
    assert "hello" in first[1].text if kind == "sdk" else "hello" in first[0].text
    assert "5" in (first[0].text if kind == "sdk" else first[1].text)
    assert not any(r.is_error for r in first)
    image = second[0]
    if api == "openai":
        assert "[image image/png" in image.text  # a stand-in: Chat tool results are text
    elif api == "openai-responses":
        assert "input_image" in image.part_types
    elif api == "anthropic":
        assert "image" in image.part_types
    else:
        assert "image/png" in image.part_types
    if kind == "sdk":
        assert second[1].is_error and "boom" in second[1].text
    else:
        assert "resource link" in second[1].text and not second[1].is_error
    # every execution the program sees has the full result
    executions = [e for s in steps if s.tool_round for e in s.tool_round.executions]
    assert [e.status for e in executions][:3] == ["ok", "ok", "ok"]
    assert all(e.result is not None for e in executions)
