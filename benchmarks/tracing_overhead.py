"""CPU per call of OpenTelemetry tracing (``mcp_async.tracing``): off, no-op, and recording.

    .venv/bin/python -m benchmarks.tracing_overhead            # 5 rounds of 3,000 calls
    .venv/bin/python -m benchmarks.tracing_overhead --quick    # smoke-sized

Sequential ``tools/call echo`` calls against the minimal server (a child process, JSON
replies) from clients that differ only in tracing, all open side by side; chunks of
250 calls rotate between them so they share the machine's load:

* ``off``: ``tracing=False`` (the baseline);
* ``default``: no option, and no tracer provider set by the application (so tracing
  stays off by itself: this must cost nothing);
* ``no-op provider``: ``tracer_provider=NoOpTracerProvider()``: the policy runs, spans
  are non-recording, nothing is propagated;
* ``sdk, not exported``: the SDK's ``TracerProvider`` with no span processor: real
  spans with attributes and ``traceparent`` propagation, nothing exported
  (needs ``opentelemetry-sdk``; skipped without it).

CPU is this process's user + system time (``getrusage``). The table gives the median
per-call CPU over the rounds and the median paired difference to ``off``; end to end,
on a busy machine, that difference is within the noise, so the last column times the
tracing policy alone around one ``tools/call`` message (no I/O), 20,000 times.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
from typing import Any

from mcp_async import AsyncMCPClient

from . import sequential
from .protocol_data import TOOL_ARGUMENTS, TOOL_NAME
from .servers import start_minimal
from .worker import cpu_seconds


def _variants() -> dict[str, dict[str, Any]]:
    from opentelemetry.trace import NoOpTracerProvider

    variants: dict[str, dict[str, Any]] = {
        "off": {"tracing": False},
        "default": {},
        "no-op provider": {"tracer_provider": NoOpTracerProvider()},
    }
    try:
        from opentelemetry.sdk.trace import TracerProvider
    except ImportError:
        return variants
    variants["sdk, not exported"] = {"tracer_provider": TracerProvider()}
    return variants


async def _policy_alone_us(provider: Any, calls: int = 20000) -> float:
    """CPU µs of the tracing policy alone around one ``tools/call`` message (its span,
    attributes and propagation), with an innermost step that answers at once."""
    from mcp_async.policies.base import Exchange
    from mcp_async.policies.tracing import TracingPolicy
    from mcp_async.protocol.jsonrpc import Request, Response
    from mcp_async.transports.message import Call

    policy = TracingPolicy(provider, facts=lambda: ("0123456789abcdef", "2025-11-25"))

    async def answer(exchange: Exchange) -> None:
        exchange.reply = Response(exchange.payload[0].id, {"content": []})

    def exchange() -> Exchange:
        request = Request(1, "tools/call", {"name": TOOL_NAME, "arguments": TOOL_ARGUMENTS})
        call = Call(None)  # type: ignore[arg-type]
        return Exchange("tools/call", "http://127.0.0.1:8000/mcp", payload=(request, call, False))

    cpu = cpu_seconds()
    for _ in range(calls):
        await answer(exchange())
    bare = cpu_seconds() - cpu
    cpu = cpu_seconds()
    for _ in range(calls):
        await policy.around_message(exchange(), answer)
    return (cpu_seconds() - cpu - bare) / calls * 1e6


async def _run(
    url: str, rounds: int, calls: int, warmup: int, chunk: int, policy_calls: int
) -> dict[str, Any]:
    variants = _variants()
    clients = {
        name: AsyncMCPClient(url, transport="streamable-http", **options)
        for name, options in variants.items()
    }
    for client in clients.values():
        await client.open()
    try:
        for client in clients.values():
            await sequential.timed_calls(client, warmup)
        names = list(clients)
        samples: dict[str, list[float]] = {name: [] for name in names}
        for _ in range(rounds):
            totals = dict.fromkeys(names, 0.0)
            chunks = max(1, calls // chunk)
            for index in range(chunks):
                order = names[index % len(names):] + names[:index % len(names)]
                for name in order:
                    totals[name] += (await sequential.timed_calls(clients[name], chunk))[0]
            for name in names:
                samples[name].append(totals[name] / (chunks * chunk) * 1e6)
    finally:
        for client in clients.values():
            await client.aclose()
    out: dict[str, Any] = {"rounds": rounds, "calls": calls, "variants": {}}
    for name in names:
        provider = variants[name].get("tracer_provider")
        out["variants"][name] = {
            "cpu_us_per_call": statistics.median(samples[name]),
            "overhead_cpu_us": statistics.median(
                s - b for s, b in zip(samples[name], samples["off"], strict=True)
            ),
            "policy_alone_us": None if provider is None else statistics.median(
                [await _policy_alone_us(provider, policy_calls) for _ in range(3)]
            ),
        }
    return out


def run(
    rounds: int, calls: int, warmup: int, chunk: int = 250, policy_calls: int = 20000
) -> dict[str, Any]:
    """Measure every variant against one minimal server; the policy alone is the median
    of three samples of ``policy_calls`` messages."""
    server = start_minimal()
    try:
        return asyncio.run(_run(server.base_url + "/json/mcp", rounds, calls, warmup, chunk,
                                policy_calls))
    finally:
        server.stop()


def report(figures: dict[str, Any]) -> str:
    """The figures as a Markdown table."""
    lines = [
        f"### tracing overhead ({figures['rounds']} rounds x {figures['calls']} sequential "
        "`tools/call`, minimal server, JSON replies)",
        "",
        "| tracing | CPU µs/call | vs off (paired median) | policy alone, µs |",
        "|---|---:|---:|---:|",
    ]
    for name, row in figures["variants"].items():
        alone = row["policy_alone_us"]
        lines.append(
            f"| {name} | {row['cpu_us_per_call']:.1f} | {row['overhead_cpu_us']:+.1f} | "
            f"{'-' if alone is None else f'{alone:.1f}'} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """The command line (see the module docstring)."""
    return sequential.main(__doc__, run, report, 250, argv)


if __name__ == "__main__":
    sys.exit(main())
