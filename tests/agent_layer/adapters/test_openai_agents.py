"""The OpenAI Agents SDK server adapter, driven by the SDK's own ``Runner.run`` and a
scripted ``Model`` (in openai_agents_driver.py, run as a child process: under pytest the
name ``agents`` is this test package, not the SDK). The MCP server runs here, so the
session count is read on the server side."""

from __future__ import annotations

import asyncio
import base64
import importlib.metadata
import json
import os
from pathlib import Path
from typing import Any

import pytest

from mcp_async.testing import Fault, MCPTestServer

from ..conftest import servers
from .conftest import PNG, tool_calls

ROOT = Path(__file__).resolve().parents[3]
DRIVER = Path(__file__).with_name("openai_agents_driver.py")
#: What the driver imports (see openai_agents_driver.py).
PRELOAD = ("agents", "openai.types.responses", "mcp_async.agents.adapters.openai_agents")


async def drive(server: MCPTestServer, scenario: str) -> dict[str, Any]:
    """Run the driver against ``server`` (served by this event loop meanwhile)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    # Started by fork from a process that imported the SDK once (tests/interop/servers.py):
    # importing it takes seconds of CPU, and every test drives a fresh process.
    command, *args = servers.python_script_argv(
        DRIVER, server.url, scenario, preload=PRELOAD, path=(str(ROOT),))
    process = await asyncio.create_subprocess_exec(
        command, *args, cwd=str(ROOT), env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        async with asyncio.timeout(50):
            out, err = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, f"driver failed:\n{out.decode()}\n{err.decode()}"
    result: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    return result


@pytest.fixture(autouse=True)
def _needs_sdk() -> None:
    # Ask for the distribution: the import name "agents" is too generic to trust.
    try:
        importlib.metadata.version("openai-agents")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("the OpenAI Agents SDK (openai-agents) is not installed")


def text_of(output: Any) -> str:
    """A function_call_output's text, however the SDK shaped it."""
    if isinstance(output, str):
        return output
    if isinstance(output, dict):
        return str(output.get("text", ""))
    return "".join(text_of(part) for part in output)


async def test_ten_calls_in_two_runs_use_one_session(server: MCPTestServer) -> None:
    result = await drive(server, "ten")
    assert result["run1"]["offered"] == ["add", "big", "delete_all", "echo", "fail", "picture"]
    assert result["run1"]["final"] == "first done"
    assert result["run2"]["final"] == "second done"
    assert [text_of(o["output"]) for o in result["run2"]["outputs"]] == [
        f"b{i}" for i in range(5)]
    assert '"sum":11' in text_of(result["run1"]["outputs"][-1]["output"])
    assert result["statuses"] == ["ok"] * 10
    assert len(tool_calls(server)) == 10
    assert server.stats.sessions_created == 1
    assert server.stats.by_method["initialize"] == 1


async def test_policy_refusal_reaches_the_model_and_not_the_server(
        server: MCPTestServer) -> None:
    result = await drive(server, "policy")
    assert "fail" not in result["run"]["offered"]
    refused, echoed = result["run"]["outputs"]
    assert text_of(refused["output"]) == ("Error: the call to 'delete_all' was refused and "
                                          "not run: needs a human.")
    assert text_of(echoed["output"]) == "hi"
    assert result["statuses"] == ["refused", "ok"]
    assert tool_calls(server) == ["echo"]


async def test_big_result_is_truncated(server: MCPTestServer) -> None:
    result = await drive(server, "budget")
    [output] = result["run"]["outputs"]
    text = text_of(output["output"])
    assert text.startswith("HEAD") and text.endswith("TAIL") and len(text) <= 1000
    assert "characters cut by mcp_async's result budget" in text
    assert result["full_chars"] == 40_000


async def test_tool_error_and_timeout_reach_the_model(server: MCPTestServer) -> None:
    server.faults.add(Fault.slow(5.0, method="tools/call", name="echo"))
    result = await drive(server, "errors")
    assert result["statuses"] == ["tool_error", "error"]
    outputs = [text_of(o["output"]) for o in result["run"]["outputs"]]
    assert outputs[0] == "Error: this tool always fails"
    assert outputs[1].startswith("Error: calling tool 'echo' timed out")
    assert "It may or may not have run." in outputs[1]
    assert result["run"]["final"] == "ok"


async def test_prompts(server: MCPTestServer) -> None:
    result = await drive(server, "prompts")
    assert result["prompts"] == ["greet"]
    assert result["prompt_text"] == "Hello, Ada!"


async def test_meta_from_the_sdk_goes_out_on_the_call(server: MCPTestServer) -> None:
    result = await drive(server, "meta")
    assert text_of(result["run"]["outputs"][0]["output"]) == "m"
    [params] = [p for method, p in server.stats.received if method == "tools/call"]
    assert params["_meta"]["tenant"] == "t1"
    assert params["_meta"]["tool"] == "echo"


async def test_group_namespaced_names_one_session_per_member(server: MCPTestServer) -> None:
    result = await drive(server, "group")
    offered = result["run"]["offered"]
    assert "one__delete_all" in offered and "two__delete_all" not in offered
    assert "one__echo" in offered and "two__echo" in offered
    assert result["statuses"] == ["ok"] * 4
    texts = [text_of(o["output"]) for o in result["run"]["outputs"]]
    assert texts[:2] == ["1", "2"]
    assert '"sum":2' in texts[2] and '"sum":4' in texts[3]
    assert tool_calls(server) == ["echo", "echo", "add", "add"]
    assert server.stats.sessions_created == 2  # one per member, for six requests each way


async def test_images_reach_the_model(server: MCPTestServer) -> None:
    result = await drive(server, "picture")
    [output] = result["run"]["outputs"]
    parts = output["output"]
    assert isinstance(parts, list), parts
    images = [p for p in parts if "image" in str(p.get("type"))]
    assert len(images) == 1
    assert images[0]["image_url"] == "data:image/png;base64," + base64.b64encode(PNG).decode()
    assert "a tiny picture" in text_of(parts)
    assert "[document application/pdf, 13 bytes: the Agents SDK takes only text and " \
        "images from an MCP tool, not sent]" in text_of(parts)
