"""CPU that ``mcp_async.agents`` adds per tool call (parse, dispatch, convert).

    .venv/bin/python -m benchmarks.agents            # 5 rounds of 3,000 calls per variant
    .venv/bin/python -m benchmarks.agents --quick    # smoke-sized

Sequential model tool calls, one per response, against the minimal server (a child
process, JSON replies), all on one open client; chunks of 250 calls rotate between the
variants so they share the machine's load:

* ``plain``: the hand-written glue the layer replaces, for an OpenAI Chat response:
  take the call, ``json.loads`` its arguments, ``client.call_tool(...)``, build the
  ``{"role": "tool", ...}`` message from ``result.text`` (the baseline);
* ``openai``, ``openai-responses``, ``anthropic``, ``gemini``: ``ToolRunner.run(response)``
  for that API's response shape: parse the call, map its name, run it, map the content
  through the result budget, build the API's result message.

CPU is this process's user + system time (``getrusage``); the table gives the median
per-call CPU over the rounds, its ratio to ``plain`` (the aim: under 1.2x) and the
median paired difference. On a shared machine those end-to-end figures move by tens of
µs between runs, so the last column times the layer alone: ``ToolRunner.run`` (parse,
dispatch, convert, build the message) around a call that answers at once with a
ready-made result, 20,000 times; ``plain``'s own share of it (``json.loads`` and the
message) is about 2 µs.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
from typing import Any

from mcp_async import AsyncMCPClient
from mcp_async.agents import ToolRunner
from mcp_async.protocol.models import CallToolResult

from . import sequential
from .protocol_data import TOOL_ARGUMENTS, TOOL_NAME
from .servers import start_minimal
from .worker import cpu_seconds

APIS = ("openai", "openai-responses", "anthropic", "gemini")


def response_for(api: str) -> dict[str, Any]:
    """A model response with one call of the benchmark tool, in ``api``'s shape."""
    arguments = json.dumps(TOOL_ARGUMENTS)
    if api == "openai":
        return {"choices": [{"message": {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function",
             "function": {"name": TOOL_NAME, "arguments": arguments}}]}}]}
    if api == "openai-responses":
        return {"output": [{"type": "function_call", "call_id": "call_1", "name": TOOL_NAME,
                            "arguments": arguments}]}
    if api == "anthropic":
        return {"content": [{"type": "tool_use", "id": "toolu_1", "name": TOOL_NAME,
                             "input": dict(TOOL_ARGUMENTS)}]}
    return {"candidates": [{"content": {"role": "model", "parts": [
        {"functionCall": {"id": "g1", "name": TOOL_NAME, "args": dict(TOOL_ARGUMENTS)}}]}}]}


async def plain_calls(client: AsyncMCPClient, calls: int) -> float:
    """CPU seconds of ``calls`` hand-glued OpenAI Chat tool calls."""
    response = response_for("openai")
    cpu = cpu_seconds()
    for _ in range(calls):
        call = response["choices"][0]["message"]["tool_calls"][0]
        arguments = json.loads(call["function"]["arguments"])
        result = await client.call_tool(call["function"]["name"], arguments)
        message = {"role": "tool", "tool_call_id": call["id"], "content": result.text}
    cpu = cpu_seconds() - cpu
    assert message["content"]
    return cpu


async def runner_calls(runner: ToolRunner, response: dict[str, Any], calls: int) -> float:
    """CPU seconds of ``calls`` ``runner.run(response)`` rounds of one call each."""
    cpu = cpu_seconds()
    for _ in range(calls):
        tool_round = await runner.run(response)
    cpu = cpu_seconds() - cpu
    assert tool_round.executions[0].status == "ok"
    return cpu


class _Answered(AsyncMCPClient):
    """A client that answers every call at once with a ready result (no I/O), with the
    tool list of a real one: ``ToolRunner.run`` over it is the layer alone."""

    def __init__(self, tools: list[Any]) -> None:
        super().__init__("http://127.0.0.1:9/mcp")
        self._listed = tools
        self._result = CallToolResult.from_dict({"content": [{"type": "text", "text": "hello"}]})

    async def list_tools(self, *args: Any, **kwargs: Any) -> Any:
        return list(self._listed)

    async def call_tool(self, *args: Any, **kwargs: Any) -> Any:
        return self._result


async def _layer_alone_us(tools: list[Any], api: str, calls: int = 20000) -> float:
    """CPU µs of ``ToolRunner.run`` (parse, dispatch, convert, build the message) around
    a call that answers at once."""
    runner = ToolRunner(_Answered(tools), api)
    response = response_for(api)
    await runner.run(response)
    cpu = cpu_seconds()
    for _ in range(calls):
        await runner.run(response)
    return (cpu_seconds() - cpu) / calls * 1e6


async def _run(url: str, rounds: int, calls: int, warmup: int, chunk: int) -> dict[str, Any]:
    client = AsyncMCPClient(url, transport="streamable-http", tracing=False)
    await client.open()
    try:
        runners = {api: ToolRunner(client, api) for api in APIS}
        responses = {api: response_for(api) for api in APIS}

        async def timed(name: str, count: int) -> float:
            if name == "plain":
                return await plain_calls(client, count)
            return await runner_calls(runners[name], responses[name], count)

        names = ["plain", *APIS]
        for name in names:
            await timed(name, warmup)
        samples: dict[str, list[float]] = {name: [] for name in names}
        for _ in range(rounds):
            totals = dict.fromkeys(names, 0.0)
            chunks = max(1, calls // chunk)
            for index in range(chunks):
                order = names[index % len(names):] + names[:index % len(names)]
                for name in order:
                    totals[name] += await timed(name, chunk)
            for name in names:
                samples[name].append(totals[name] / (chunks * chunk) * 1e6)
        listed = await client.list_tools()
        alone = {api: statistics.median([await _layer_alone_us(listed, api)
                                         for _ in range(3)]) for api in APIS}
    finally:
        await client.aclose()
    base = statistics.median(samples["plain"])
    out: dict[str, Any] = {"rounds": rounds, "calls": calls, "variants": {}}
    for name in names:
        per_call = statistics.median(samples[name])
        out["variants"][name] = {
            "cpu_us_per_call": per_call,
            "ratio_to_plain": per_call / base,
            "paired_overhead_us": statistics.median(
                s - b for s, b in zip(samples[name], samples["plain"], strict=True)),
            "layer_alone_us": alone.get(name),
        }
    return out


def run(rounds: int, calls: int, warmup: int, chunk: int = 250) -> dict[str, Any]:
    """Measure every variant against one minimal server."""
    server = start_minimal()
    try:
        return asyncio.run(_run(server.base_url + "/json/mcp", rounds, calls, warmup, chunk))
    finally:
        server.stop()


def report(figures: dict[str, Any]) -> str:
    """The figures as a Markdown table."""
    lines = [
        f"### agents layer ({figures['rounds']} rounds x {figures['calls']} sequential "
        "model tool calls per variant, minimal server, JSON replies)",
        "",
        "| variant | CPU µs/call | vs plain | paired overhead µs | layer alone, µs |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, row in figures["variants"].items():
        alone = row["layer_alone_us"]
        lines.append(
            f"| {name} | {row['cpu_us_per_call']:.1f} | {row['ratio_to_plain']:.2f}x | "
            f"{row['paired_overhead_us']:+.1f} | {'-' if alone is None else f'{alone:.1f}'} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """The command line (see the module docstring)."""
    return sequential.main(__doc__, run, report, 250, argv)


if __name__ == "__main__":
    sys.exit(main())
