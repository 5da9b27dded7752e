"""The demo server: :func:`demo_server` (what ``make demo`` and ``python -m mcp_async.testing``
run), with tools, a resource, a template, a prompt and a completion."""

from __future__ import annotations

import asyncio
from typing import Any, Final

from .context import ToolContext
from .server import MCPTestServer
from .wire import dumps

__all__ = ["demo_server"]

_CONDITIONS: Final = ("sunny", "cloudy", "rainy", "windy", "snowy", "foggy")
_CITIES: Final = ("Amsterdam", "Berlin", "Lisbon", "London", "Madrid", "Paris", "Rome", "Vienna")
_LANGUAGES: Final = ("go", "javascript", "python", "rust", "typescript")


def _demo_weather(city: str) -> dict[str, Any]:
    seed = sum(city.encode())
    return {
        "city": city,
        "temperature_c": seed % 35 - 5,
        "conditions": _CONDITIONS[seed % len(_CONDITIONS)],
        "humidity": 30 + seed % 60,
    }


def _demo_complete(
    ref: dict[str, Any], argument: dict[str, Any], context: dict[str, Any] | None
) -> list[str]:
    choices = {"language": _LANGUAGES, "city": _CITIES}.get(argument.get("name", ""), ())
    prefix = str(argument.get("value", "")).lower()
    return [choice for choice in choices if choice.lower().startswith(prefix)]


def _register_demo_tools(server: MCPTestServer) -> None:
    add_schema = {
        "type": "object",
        "properties": {"result": {"type": "number"}},
        "required": ["result"],
    }

    @server.tool(output_schema=add_schema, annotations={"readOnlyHint": True})
    def add(a: float, b: float) -> dict[str, float]:
        """Add two numbers."""
        return {"result": a + b}

    @server.tool
    def echo(text: str) -> str:
        """Echo the text back."""
        return text

    @server.tool
    async def slow(seconds: float = 1.0, ctx: ToolContext | None = None) -> str:
        """Sleep for the given seconds, reporting progress in four steps."""
        for step in range(1, 5):
            await asyncio.sleep(seconds / 4)
            if ctx is not None:
                await ctx.report_progress(step, 4, f"step {step} of 4")
        return f"slept {seconds} s"

    weather_schema = {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "temperature_c": {"type": "integer"},
            "conditions": {"type": "string"},
            "humidity": {"type": "integer"},
        },
        "required": ["city", "temperature_c", "conditions", "humidity"],
    }
    server.tool(
        _demo_weather,
        name="weather",
        output_schema=weather_schema,
        description="Current (made-up, deterministic) weather for a city.",
    )

    @server.tool
    def fail() -> str:
        """Always fails (returns an isError result)."""
        raise RuntimeError("this tool always fails")


def _register_two_way_tools(server: MCPTestServer) -> None:
    @server.tool
    async def sample(prompt: str, ctx: ToolContext, max_tokens: int = 100) -> str:
        """Ask the client's model (sampling/createMessage) and return the text it sampled."""
        result = await ctx.create_message(prompt, max_tokens=max_tokens)
        content = result.get("content")
        if isinstance(content, dict) and content.get("type") == "text":
            return str(content.get("text", ""))
        return dumps(result)

    @server.tool
    async def confirm(question: str, ctx: ToolContext) -> dict[str, Any]:
        """Ask the user to confirm (elicitation/create); returns the action and the answer."""
        schema = {
            "type": "object",
            "properties": {"confirm": {"type": "boolean"}},
            "required": ["confirm"],
        }
        result = await ctx.elicit(question, schema)
        return {"action": result.get("action"), "answer": result.get("content")}

    @server.tool
    async def list_roots(ctx: ToolContext) -> dict[str, Any]:
        """The client's roots (roots/list)."""
        return {"roots": await ctx.list_roots()}

    @server.tool
    async def log_message(level: str, text: str, ctx: ToolContext) -> str:
        """Send ``text`` as a log message at ``level`` (subject to logging/setLevel)."""
        await ctx.log(level, text, logger="demo")
        return "logged"


def _register_task_tools(server: MCPTestServer) -> None:
    @server.tool(task_support="required")
    async def research(topic: str, ctx: ToolContext, rounds: int = 3) -> str:
        """A task: works through ``rounds`` stages (progress and status messages)."""
        for step in range(1, rounds + 1):
            await asyncio.sleep(0.06)
            await ctx.report_progress(step, rounds, f"stage {step} of {rounds}")
        return f"report on {topic} after {rounds} stages"

    @server.tool(task_support="required")
    async def clarify(topic: str, ctx: ToolContext) -> str:
        """A task that needs input: asks which meaning of ``topic`` (via tasks/result)."""
        await asyncio.sleep(0.03)
        schema = {
            "type": "object",
            "properties": {"interpretation": {"type": "string", "default": "technical"}},
            "required": ["interpretation"],
        }
        answer = await ctx.elicit(f"Which {topic} do you mean?", schema)
        content = answer.get("content") or {}
        return f"{topic} ({content.get('interpretation', answer.get('action'))})"

    @server.tool(task_support="required")
    async def doomed() -> str:
        """A task that fails (status failed, an isError result)."""
        await asyncio.sleep(0.03)
        raise RuntimeError("the experiment failed")

    @server.tool(task_support="required")
    async def marathon(seconds: float = 30.0) -> str:
        """A task that runs ``seconds``: long enough for a deadline to cancel it."""
        await asyncio.sleep(seconds)
        return f"ran {seconds} s"

    @server.tool(task_support="optional")
    def double(x: float) -> float:
        """Doubles ``x``; may be called as a task or not."""
        return x * 2


def demo_server(*, two_way: bool = False, tasks: bool = False, **kw: Any) -> MCPTestServer:
    """A server with demo tools, a resource, a template, a prompt and a completion.

    Tools: ``add(a, b)`` (output schema), ``echo(text)``, ``slow(seconds)`` (progress),
    ``weather(city)`` (structured), ``fail()``. Resource ``demo://readme``; template
    ``demo://greeting/{name}``; prompt ``review_code(code, language)``; completion of
    ``language`` and ``city`` arguments. Keyword arguments go to :class:`MCPTestServer`.

    ``two_way`` adds tools that talk back to the client: ``sample(prompt, max_tokens=100)``
    (``sampling/createMessage``; returns the sampled text), ``confirm(question)``
    (``elicitation/create``; returns ``{"action", "answer"}``), ``list_roots()``
    (``roots/list``; returns ``{"roots"}``) and ``log_message(level, text)``
    (``notifications/message``).

    ``tasks`` adds tools run as tasks (MCP 2025-11-25): ``research(topic, rounds=3)``
    (a few poll rounds, progress), ``clarify(topic)`` (elicitation through
    ``tasks/result``), ``doomed()`` (fails), ``marathon(seconds=30)`` (for deadlines),
    all ``taskSupport: "required"``, and ``double(x)`` (``"optional"``). With
    ``eras=("2026-07-28", ...)`` they also run in the 2026 extension's form, and the
    two-way tools ask through input rounds (MRTR).
    """
    kw.setdefault("name", "mcp-async-demo")
    kw.setdefault("instructions", "A demo MCP server: try the add, echo and weather tools.")
    server = MCPTestServer(**kw)
    _register_demo_tools(server)
    if two_way:
        _register_two_way_tools(server)
    if tasks:
        _register_task_tools(server)
    server.resource(
        "demo://readme",
        name="readme",
        text="# mcp_async demo\n\nThis server exists to show the client off.\n",
        mime_type="text/markdown",
        description="About this demo server.",
    )
    server.resource_template(
        "demo://greeting/{name}",
        lambda name: f"Hello, {name}!",
        name="greeting",
        mime_type="text/plain",
    )

    @server.prompt
    def review_code(code: str, language: str = "python") -> list[tuple[str, str]]:
        """Ask for a code review."""
        return [
            ("user", f"Please review this {language} code:\n\n{code}"),
            ("assistant", "Sure - here is my review."),
        ]

    server.completion(_demo_complete)
    return server
