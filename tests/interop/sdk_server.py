"""A deterministic MCP server built with the official `mcp` Python SDK (2.3.0).

It exists so that mcp_async's interop tests talk to a server nobody here wrote.
Everything below is ordinary use of the SDK's high-level API
(`mcp.server.mcpserver.MCPServer`).  The same server speaks all three transports
the SDK offers:

* Streamable HTTP (default): `MCPServer.streamable_http_app()` served by uvicorn
  on 127.0.0.1 only; the MCP endpoint is http://127.0.0.1:<port>/mcp;
* legacy HTTP+SSE (`--transport sse`): `MCPServer.sse_app()` served by uvicorn on
  127.0.0.1 only; the client GETs http://127.0.0.1:<port>/sse, whose first event
  (`endpoint`) names the URL to POST to (/messages/?session_id=...);
* stdio (`--transport stdio`): `MCPServer.run("stdio")`, newline-delimited
  JSON-RPC on stdin/stdout; it exits when stdin reaches EOF.

Run it by hand:

    .venv/bin/python tests/interop/sdk_server.py --port 8765                  # SSE, stateful
    .venv/bin/python tests/interop/sdk_server.py --port 8765 --json-response  # JSON bodies
    .venv/bin/python tests/interop/sdk_server.py --port 8765 --stateless      # no sessions
    .venv/bin/python tests/interop/sdk_server.py --port 8765 --transport sse  # legacy SSE
    .venv/bin/python tests/interop/sdk_server.py --transport stdio            # stdio

On both HTTP transports `GET /healthz` answers `ok` once the app is running.

The full inventory of tools/resources/prompts lives in INVENTORY below and is
what the interop tests assert against; keep the two in sync.
"""

import argparse
import asyncio
import base64
import json
import os
import struct
import threading
import warnings
import zlib
from typing import Annotated, Any, TypedDict

import uvicorn
from mcp.server.context import ServerRequestContext
from mcp.server.mcpserver import AssistantMessage, Context, Image, MCPServer, UserMessage
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.resources.types import BinaryResource, TextResource
from mcp.shared.exceptions import MCPDeprecationWarning
from mcp.shared.message import ServerMessageMetadata
from mcp_types import (
    Completion,
    CreateMessageRequest,
    CreateMessageRequestParams,
    ElicitRequest,
    ElicitRequestFormParams,
    EmptyResult,
    InputRequiredResult,
    ListRootsRequest,
    ListRootsResult,
    PromptReference,
    ResourceTemplateReference,
    SamplingMessage,
    SubscribeRequestParams,
    TextContent,
    ToolChoice,
    UnsubscribeRequestParams,
)
from mcp_types import Tool as ToolDefinition
from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import PlainTextResponse

SERVER_NAME = "mcp-async-interop-sdk-server"
SERVER_VERSION = "1.0.0"
INSTRUCTIONS = "Deterministic test server for mcp_async interop tests."


def _tiny_png(width: int = 2, height: int = 2, rgb: tuple[int, int, int] = (255, 0, 0)) -> bytes:
    """Build a small solid-colour PNG (deterministic bytes, no image library)."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        body = kind + payload
        return (
            struct.pack(">I", len(payload))
            + body
            + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    raw = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


TINY_PNG = _tiny_png()
TINY_PNG_B64 = base64.b64encode(TINY_PNG).decode()
BLOB_BYTES = bytes(range(256))

CONFIG_JSON = json.dumps(
    {"name": "interop", "debug": False, "features": ["tools", "resources"]}, sort_keys=True
)
README_MD = "# Interop server\n\nServed by the official MCP Python SDK.\n"
NOTE_COUNT = 10

NAMES = ["alice", "alicia", "bob", "carol", "dave"]
LANGUAGES = ["English", "French", "German", "Greek", "Italian", "Spanish"]
CITIES = ["Berlin", "Boston", "London", "Paris", "Tokyo"]

_WEATHER_TABLE = {
    "Berlin": (18.5, "Cloudy", 71),
    "Boston": (21.0, "Sunny", 55),
    "London": (15.0, "Rain", 88),
    "Paris": (20.0, "Partly cloudy", 60),
    "Tokyo": (26.5, "Humid", 80),
}


class Weather(BaseModel):
    """Structured weather report (the tool's outputSchema)."""

    city: str
    temperature_c: float = Field(description="Temperature in degrees Celsius")
    conditions: str
    humidity: int = Field(description="Relative humidity in percent")


class UserInfo(BaseModel):
    """Schema sent with the `ask_name` elicitation."""

    name: str = Field(description="Your name")


class Preferences(BaseModel):
    """Schema sent with the `ask_preferences` elicitation: every field but one has a default."""

    name: str = Field(description="Your name")
    color: str = Field(default="blue", description="Favourite colour")
    count: int = Field(default=3, description="How many")
    subscribe: bool = Field(default=True, description="Subscribe to the newsletter")


def _weather_for(city: str) -> Weather:
    temperature, conditions, humidity = _WEATHER_TABLE.get(city, (10.0 + len(city), "Unknown", 50))
    return Weather(city=city, temperature_c=temperature, conditions=conditions, humidity=humidity)


class Sum(TypedDict):
    a: int
    b: int
    sum: int


def _plain(answer: Any) -> dict[str, Any]:
    """An input response as plain JSON (the SDK hands it over parsed)."""
    if isinstance(answer, BaseModel):
        return answer.model_dump(mode="json", by_alias=True, exclude_none=True)
    return dict(answer)


def _ask_word(which: str, state: str) -> InputRequiredResult:
    return InputRequiredResult(
        input_requests={"word": ElicitRequest(params=ElicitRequestFormParams(
            message=f"The {which} word?",
            requested_schema={"type": "object", "properties": {"word": {"type": "string"}},
                              "required": ["word"]},
        ))},
        request_state=state,
    )


def build_server(*, per_connection_subscriptions: bool = False) -> MCPServer:
    """The server, transport-agnostic.

    Resource subscriptions are kept per ``Mcp-Session-Id`` header (Streamable HTTP;
    stateless requests all share the key ``None``).  With
    ``per_connection_subscriptions`` (stdio, legacy SSE: no such header) they are
    kept per SDK connection instead, so two SSE clients of one server stay apart.
    """
    mcp = MCPServer(
        SERVER_NAME,
        title="mcp_async interop server",
        version=SERVER_VERSION,
        instructions=INSTRUCTIONS,
        log_level="WARNING",
    )

    # ------------------------------------------------------------------ tools
    @mcp.tool(description="Add two integers.", structured_output=True)
    def add(a: int, b: int) -> int:
        return a + b

    @mcp.tool(description="Add two integers; returns an object (TypedDict output schema).")
    def add_verbose(a: int, b: int) -> Sum:
        return Sum(a=a, b=b, sum=a + b)

    @mcp.tool(description="Echo the given text back.")
    def echo(text: str) -> str:
        return text

    @mcp.tool(description="Always fails: the result has isError=true and carries the message.")
    def fail(message: str) -> str:
        raise ToolError(message)

    @mcp.tool(description="Crashes with an unexpected exception (server hides the details).")
    def crash() -> str:
        raise RuntimeError("secret internal detail")

    @mcp.tool(description="Sleep for `seconds` seconds, then return.")
    async def slow(seconds: float) -> str:
        await asyncio.sleep(seconds)
        return f"slept {seconds}"

    @mcp.tool(description="Weather report for a city (structured output object).")
    def weather(city: str) -> Weather:
        return _weather_for(city)

    @mcp.tool(description="Return a 2x2 red PNG as an image content block.")
    def tiny_image() -> Image:
        return Image(data=TINY_PNG, format="png")

    @mcp.tool(description="Return a text block followed by an image block.")
    def describe_image() -> list[str | Image]:
        return ["A 2x2 red square:", Image(data=TINY_PNG, format="png")]

    @mcp.tool(description="Report `steps` progress notifications and log lines, then return.")
    async def progress(ctx: Context, steps: int = 3, delay: float = 0.01) -> str:
        for i in range(1, steps + 1):
            await ctx.report_progress(i, steps, f"step {i}/{steps}")
            await ctx.info(f"progress step {i}")
            await asyncio.sleep(delay)
        return f"done {steps}"

    @mcp.tool(description="Ask the client for a name (elicitation/create); needs elicitation.")
    async def ask_name(ctx: Context) -> str:
        result = await ctx.elicit("What is your name?", UserInfo)
        if result.action == "accept":
            return f"Hello, {result.data.name}!"
        return f"elicitation {result.action}"

    @mcp.tool(description="Ask the client to sample (sampling/createMessage); needs sampling.")
    async def summarize(ctx: Context, text: str) -> str:
        result = await ctx.session.create_message(
            [
                SamplingMessage(
                    role="user", content=TextContent(type="text", text=f"Summarize: {text}")
                )
            ],
            max_tokens=50,
            related_request_id=ctx.request_id,
        )
        content = result.content
        reply = content.text if isinstance(content, TextContent) else str(content)
        return f"summary: {reply}"

    @mcp.tool(description="Ask the client for its roots (roots/list) on this call's stream.")
    async def roots(ctx: Context) -> list[str]:
        result = await ctx.session.send_request(
            ListRootsRequest(),
            ListRootsResult,
            request_read_timeout_seconds=10,
            metadata=ServerMessageMetadata(related_request_id=ctx.request_id),
        )
        return [str(root.uri) for root in result.roots]

    @mcp.tool(
        description="roots/list sent unrelated to this call, i.e. on the GET stream; "
        "fails after `timeout` seconds if no GET stream delivers it."
    )
    async def roots_via_get_stream(ctx: Context, timeout: float = 5.0) -> list[str]:
        result = await ctx.session.send_request(
            ListRootsRequest(), ListRootsResult, request_read_timeout_seconds=timeout
        )
        return [str(root.uri) for root in result.roots]

    @mcp.tool(
        description="Send tools/resources/prompts list_changed notifications on the GET stream."
    )
    async def announce(ctx: Context) -> str:
        await ctx.session.send_tool_list_changed()
        await ctx.session.send_resource_list_changed()
        await ctx.session.send_prompt_list_changed()
        return "announced"

    # ------------------------------------------- two-way traffic (mcp_async issue 4)
    @mcp.tool(description="Ask for preferences whose schema carries defaults (SEP-1034).")
    async def ask_preferences(ctx: Context) -> str:
        result = await ctx.elicit("Your preferences?", Preferences)
        if result.action == "accept":
            return result.data.model_dump_json()
        return f"elicitation {result.action}"

    @mcp.tool(description="URL-mode elicitation, then notifications/elicitation/complete.")
    async def open_url(ctx: Context, url: str, elicitation_id: str) -> str:
        result = await ctx.elicit_url("Please log in", url, elicitation_id)
        if result.action == "accept":
            await ctx.session.send_elicit_complete(elicitation_id, ctx.request_id)
        return result.action

    @mcp.tool(description="Sampling with a tool the model may call (needs sampling.tools).")
    async def sample_with_tools(ctx: Context, text: str) -> str:
        lookup = ToolDefinition(
            name="lookup",
            description="Look a word up.",
            input_schema={"type": "object", "properties": {"word": {"type": "string"}}},
        )
        result = await ctx.session.create_message(
            [SamplingMessage(role="user", content=TextContent(type="text", text=text))],
            max_tokens=50,
            tools=[lookup],
            tool_choice=ToolChoice(mode="auto"),
            related_request_id=ctx.request_id,
        )
        return result.model_dump_json(by_alias=True, exclude_none=True)

    # ------------------------------------- MCP 2026-07-28 (mcp_async issue 13)
    @mcp.tool(
        description="MRTR: one round asking for a traveller (elicitation) and a blurb "
        "(sampling) at once; then the answer. Needs 2026-07-28.",
        structured_output=False,
    )
    async def plan_trip(ctx: Context, city: str) -> str | InputRequiredResult:
        state = f"trip:{city}"
        answers = ctx.input_responses or {}
        if ctx.request_state != state or not {"traveller", "blurb"} <= set(answers):
            return InputRequiredResult(
                input_requests={
                    "traveller": ElicitRequest(params=ElicitRequestFormParams(
                        message=f"Who travels to {city}?",
                        requested_schema={"type": "object",
                                          "properties": {"name": {"type": "string"}},
                                          "required": ["name"]},
                    )),
                    "blurb": CreateMessageRequest(params=CreateMessageRequestParams(
                        messages=[SamplingMessage(
                            role="user", content=TextContent(type="text", text=f"Describe {city}")
                        )],
                        max_tokens=50,
                    )),
                },
                request_state=state,
            )
        traveller = _plain(answers["traveller"])
        blurb = _plain(answers["blurb"])
        if traveller.get("action") != "accept":
            return f"no trip: {traveller.get('action')}"
        return f"{traveller['content']['name']} goes to {city}: {blurb['content']['text']}"

    @mcp.tool(
        description="MRTR over two rounds: asks for a first word, then (with the state "
        "of round one) for a second; returns both. Needs 2026-07-28.",
        structured_output=False,
    )
    async def two_step(ctx: Context) -> str | InputRequiredResult:
        answers = ctx.input_responses or {}
        state = ctx.request_state
        if state is None or "word" not in answers:
            return _ask_word("first", "step:1")
        word = _plain(answers["word"])["content"]["word"]
        if state == "step:1":
            return _ask_word("second", f"step:2:{word}")
        first = state.removeprefix("step:2:")
        return f"{first} {word}"

    @mcp.tool(
        description="Echo `payload`, routed by `region` (an x-mcp-header: Mcp-Param-Region).",
    )
    def route(
        region: Annotated[str, Field(json_schema_extra={"x-mcp-header": "Region"})],
        payload: str,
    ) -> str:
        return f"{region}:{payload}"

    @mcp.tool(
        description="Register a new tool `name` (echoing its text) and tell listeners the "
        "tool list changed (2026-07-28: subscriptions/listen; before: the session).",
    )
    async def grow(ctx: Context, name: str) -> str:
        mcp.add_tool(lambda text: text, name=name, description="Added at run time.")
        if ctx.protocol_version == "2026-07-28":
            await ctx.notify_tools_changed()
        else:
            await ctx.session.send_tool_list_changed()
        return f"added {name}"

    @mcp.tool(description="Tell 2026-07-28 listeners that `uri` was updated.")
    async def publish_update(ctx: Context, uri: str) -> str:
        await ctx.notify_resource_updated(uri)
        return f"updated {uri}"

    @mcp.tool(description="Send one log message per level in `levels` (logger 'interop').")
    async def log(ctx: Context, levels: list[str]) -> str:
        for level in levels:
            await ctx.log(level, f"a {level} message", logger_name="interop")  # type: ignore[arg-type]
        return f"logged {len(levels)}"

    # Subscribed URIs per MCP session id (or per connection, see build_server).
    subscribed: dict[object, set[str]] = {}

    def session_of(ctx: ServerRequestContext) -> object:
        if per_connection_subscriptions:
            # ctx.session is made per request; the connection behind it is not.
            return id(getattr(ctx.session, "_connection", None))
        request = ctx.request
        headers = getattr(request, "headers", None)
        return headers.get("mcp-session-id") if headers is not None else None

    async def subscribe(ctx: ServerRequestContext, params: SubscribeRequestParams) -> EmptyResult:
        subscribed.setdefault(session_of(ctx), set()).add(str(params.uri))
        return EmptyResult()

    async def unsubscribe(
        ctx: ServerRequestContext, params: UnsubscribeRequestParams
    ) -> EmptyResult:
        subscribed.get(session_of(ctx), set()).discard(str(params.uri))
        return EmptyResult()

    # The high-level server has no decorator for the legacy resources/subscribe pair.
    lowlevel = mcp._lowlevel_server
    lowlevel.add_request_handler("resources/subscribe", SubscribeRequestParams, subscribe)
    lowlevel.add_request_handler("resources/unsubscribe", UnsubscribeRequestParams, unsubscribe)

    @mcp.tool(description="Report `uri` as updated (GET stream) if this session subscribed to it.")
    async def touch(ctx: Context, uri: str) -> bool:
        if uri not in subscribed.get(session_of(ctx.request_context), set()):
            return False
        await ctx.session.send_resource_updated(uri)
        return True

    # ------------------------------------------- client groups (mcp_async issue 14)
    # Calls of inflight_probe running right now, and the most seen at once, per `key`
    # (a test picks a fresh key, so other tests sharing this process never mix in).
    inflight: dict[str, int] = {}
    peak: dict[str, int] = {}
    seen: dict[str, int] = {}

    @mcp.tool(
        description="Sleep `seconds` while counted in flight under `key`; report the most "
        "calls under `key` this server process has seen in flight at once, and how many "
        "it has received."
    )
    async def inflight_probe(key: str, seconds: float = 0.01) -> dict[str, int]:
        inflight[key] = inflight.get(key, 0) + 1
        seen[key] = seen.get(key, 0) + 1
        peak[key] = max(peak.get(key, 0), inflight[key])
        try:
            await asyncio.sleep(seconds)
        finally:
            inflight[key] -= 1
        return {"peak": peak[key], "calls": seen[key], "pid": _process_id()}

    # -------------------------------------------------------------- resources
    mcp.add_resource(
        TextResource(
            uri="config://app",
            name="app-config",
            title="Application config",
            description="Static JSON configuration",
            mime_type="application/json",
            text=CONFIG_JSON,
        )
    )
    mcp.add_resource(
        BinaryResource(
            uri="data://logo.png",
            name="logo",
            description="2x2 red PNG (blob)",
            mime_type="image/png",
            data=TINY_PNG,
        )
    )
    mcp.add_resource(
        BinaryResource(
            uri="data://bytes.bin",
            name="bytes",
            description="The 256 byte values 0x00..0xff (blob)",
            mime_type="application/octet-stream",
            data=BLOB_BYTES,
        )
    )
    mcp.add_resource(
        TextResource(
            uri="docs://readme",
            name="readme",
            description="Markdown readme",
            mime_type="text/markdown",
            text=README_MD,
        )
    )
    for i in range(1, NOTE_COUNT + 1):
        mcp.add_resource(
            TextResource(
                uri=f"notes://note/{i}",
                name=f"note-{i}",
                description=f"Note number {i}",
                mime_type="text/plain",
                text=f"This is note {i}.",
            )
        )

    @mcp.resource(
        "greeting://{name}",
        name="greeting",
        description="Personalised greeting",
        mime_type="text/plain",
    )
    def greeting(name: str) -> str:
        return f"Hello, {name}!"

    @mcp.resource(
        "weather://{city}/current",
        name="city-weather",
        description="Current weather for a city as JSON",
        mime_type="application/json",
    )
    def city_weather(city: str) -> str:
        return _weather_for(city).model_dump_json()

    # ---------------------------------------------------------------- prompts
    @mcp.prompt(description="Ask for a code review.")
    def review(code: str) -> list[UserMessage | AssistantMessage]:
        return [
            UserMessage(f"Please review this code:\n\n{code}"),
            AssistantMessage("I'll review it. What should I focus on?"),
        ]

    @mcp.prompt(description="Translate text; `language` is optional (default French).")
    def translate(text: str, language: str = "French") -> str:
        return f"Translate into {language}: {text}"

    @mcp.prompt(description="A prompt without arguments.")
    def hello() -> str:
        return "Say hello."

    # ------------------------------------------------------------- completion
    @mcp.completion()
    async def complete(ref, argument, context):  # type: ignore[no-untyped-def]
        prefix = argument.value.lower()
        candidates: list[str] = []
        if isinstance(ref, ResourceTemplateReference):
            if ref.uri == "greeting://{name}" and argument.name == "name":
                candidates = NAMES
            elif ref.uri == "weather://{city}/current" and argument.name == "city":
                candidates = CITIES
        elif (
            isinstance(ref, PromptReference)
            and ref.name == "translate"
            and argument.name == "language"
        ):
            candidates = LANGUAGES
        if not candidates:
            return None
        values = [c for c in candidates if c.lower().startswith(prefix)]
        return Completion(values=values, total=len(values), has_more=False)

    @mcp.custom_route("/healthz", methods=["GET"])
    async def healthz(request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    return mcp


# What the server offers; the interop tests assert against this.
INVENTORY = {
    "tools": [
        "add",
        "add_verbose",
        "echo",
        "fail",
        "crash",
        "slow",
        "weather",
        "tiny_image",
        "describe_image",
        "progress",
        "ask_name",
        "summarize",
        "roots",
        "roots_via_get_stream",
        "announce",
        "ask_preferences",
        "open_url",
        "sample_with_tools",
        "plan_trip",
        "two_step",
        "route",
        "grow",
        "publish_update",
        "log",
        "touch",
        "inflight_probe",
    ],
    "resources": [
        "config://app",
        "data://logo.png",
        "data://bytes.bin",
        "docs://readme",
        *(f"notes://note/{i}" for i in range(1, NOTE_COUNT + 1)),
    ],
    "resource_templates": ["greeting://{name}", "weather://{city}/current"],
    "prompts": ["review", "translate", "hello"],
}


def _process_id() -> int:
    """The pid of the process that was started to run this server.

    That is this process, unless the test launcher had a preloaded fork server start it
    (tests/interop/forkserver.py): then it is the launcher, which stands for this process
    (same stdin, stdout, exit status and signals) and whose pid the starter knows.
    """
    return int(os.environ.get("MCP_INTEROP_PID") or os.getpid())


def _exit_when_stdin_closes() -> None:
    """Die with the parent: the launcher keeps our stdin open as a pipe."""

    def watch() -> None:
        try:
            while os.read(0, 4096):  # raw fd read: no buffered-reader lock at shutdown
                pass
        except OSError:
            pass
        os._exit(0)

    threading.Thread(target=watch, name="stdin-watchdog", daemon=True).start()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--transport",
        choices=["streamable-http", "sse", "stdio"],
        default="streamable-http",
        help="streamable-http (default), legacy HTTP+SSE, or stdio",
    )
    parser.add_argument("--port", type=int, help="TCP port on 127.0.0.1 (HTTP transports)")
    parser.add_argument(
        "--json-response", action="store_true", help="answer POSTs with JSON, not SSE"
    )
    parser.add_argument("--stateless", action="store_true", help="no sessions (no Mcp-Session-Id)")
    parser.add_argument(
        "--exit-on-stdin-eof",
        action="store_true",
        help="exit when stdin reaches EOF (used by the test launcher so no orphan survives it)",
    )
    args = parser.parse_args(argv)
    if args.transport != "stdio" and args.port is None:
        parser.error(f"--port is required with --transport {args.transport}")
    if args.transport != "streamable-http" and (args.json_response or args.stateless):
        parser.error("--json-response and --stateless apply to streamable-http only")

    # Logging/sampling/roots helpers are flagged deprecated for the 2026-07-28
    # protocol revision; they are still what 2025-11-25 clients speak.
    warnings.filterwarnings("ignore", category=MCPDeprecationWarning)

    if args.transport == "stdio":
        # stdin carries the protocol, and the SDK's stdio server returns at EOF
        # anyway, so --exit-on-stdin-eof needs no watchdog here (one would steal
        # the client's messages).
        build_server(per_connection_subscriptions=True).run("stdio")
        return

    if args.exit_on_stdin_eof:
        _exit_when_stdin_closes()

    if args.transport == "sse":
        app = build_server(per_connection_subscriptions=True).sse_app(
            sse_path="/sse", message_path="/messages/", host="127.0.0.1"
        )
    else:
        app = build_server().streamable_http_app(
            streamable_http_path="/mcp",
            json_response=args.json_response,
            stateless_http=args.stateless,
            host="127.0.0.1",
        )
    config = uvicorn.Config(
        app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False
    )
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
