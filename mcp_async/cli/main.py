"""The ``mcp-async`` command (also ``python -m mcp_async``).

Subcommands: ``demo`` (embedded local server, end to end), ``tools URL``,
``call URL TOOL --arg k=v ...``, ``batch`` (bounded fan-out from a JSONL file),
``servers`` (the servers of a config file and their status) and ``serve`` (the
:mod:`mcp_async.testing` demo server on its own, with fault injection; see
:mod:`mcp_async.cli.serve`).

``call`` takes the tool's arguments as ``--args '{"json": "object"}'`` (or
``--args @file.json``, ``--args @-`` for stdin), as ``-a key=value`` pairs, or both
(``-a`` wins for a key given twice). An ``-a`` value is read as JSON when it parses as
JSON, else kept as the string: ``-a n=3`` is the number 3, ``-a flag=true`` the boolean,
``-a 'tags=["x"]'`` a list, ``-a name=Ada`` the string ``"Ada"``; quote a JSON string to
force a string: ``-a 'n="3"'``.

Output is for people by default: tool names and descriptions, a tool's text, its
structured content as JSON (indented when stdout is a terminal, one line otherwise).
``--json`` prints the raw JSON instead (``tools``: the tool definitions; ``call``: the
whole ``tools/call`` result), for scripts. ``call`` exits with 1 when the tool returned
``isError``, 2 on a client error.
Instead of a URL, every command that talks to a server takes the command of a local
stdio server after ``--``::

    mcp-async tools -- npx -y @modelcontextprotocol/server-everything
    mcp-async call echo -a message=hi -- npx -y @modelcontextprotocol/server-everything

With ``--config FILE`` (an ``mcpServers`` file), ``tools``, ``call`` and ``batch`` use
all its servers as one group (see :mod:`mcp_async.cli.group`)::

    mcp-async --config ~/.cursor/mcp.json tools
    mcp-async --config ~/.cursor/mcp.json call files.read_file -a path=README.md
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import sys
import time
from collections.abc import Sequence
from typing import Any

from .._exceptions import ConfigError, MCPClientError
from ..client.async_client import AsyncMCPClient
from .batch import add_batch_parser
from .bridge import add_bridge_parser
from .common import client_from_args, print_result
from .group import add_group_cli, group_runner
from .serve import add_serve_parser
from .text import print_tools

__all__ = ["load_arguments", "main", "parse_arg"]

_RAW = argparse.RawDescriptionHelpFormatter

_DESCRIPTION = """\
An MCP client on the command line: list a server's tools, call one, call one for
every line of a JSONL file, check the servers of a config file, or run a demo.

A server is named by its URL, by the command of a local stdio server after --, or
by a config file (--config FILE: an mcpServers file of Claude Desktop or Cursor, or
a VS Code mcp.json), whose servers are used as one group."""

_EPILOG = """\
examples:
  mcp-async demo
  mcp-async tools http://127.0.0.1:8000/mcp
  mcp-async call http://127.0.0.1:8000/mcp add -a a=2 -a b=40
  mcp-async tools -- npx -y @modelcontextprotocol/server-everything
  mcp-async call echo -a message=hi -- npx -y @modelcontextprotocol/server-everything
  mcp-async --config ~/.cursor/mcp.json tools
  mcp-async servers
  mcp-async serve --port 8000

'mcp-async COMMAND --help' shows a command's options and examples.
Exit status: 0 done; 1 the tool returned isError (call), some lines failed (batch)
or some servers failed (servers); 2 a client error (the message names it)."""

_SERVER_USAGE = """\
%(prog)s [options] URL{rest}
       %(prog)s [options]{rest} -- COMMAND [ARG ...]
       %(prog)s --config FILE [options]{group}"""

_TOOLS_DESCRIPTION = """\
List a server's tools: each name with the first line of its description.
--json prints the tool definitions; --format the definitions for a model API."""

_TOOLS_EPILOG = """\
examples:
  mcp-async tools http://127.0.0.1:8000/mcp
  mcp-async tools -- npx -y @modelcontextprotocol/server-everything
  mcp-async tools http://127.0.0.1:8000/mcp --format anthropic
  mcp-async --config .vscode/mcp.json tools

Without a URL, a command after -- or --config, the first host config file found is
used: ./.vscode/mcp.json, ./.cursor/mcp.json, ~/.cursor/mcp.json, then Claude
Desktop's claude_desktop_config.json."""

_CALL_DESCRIPTION = """\
Call one tool and print what it returned: its text, or its structured content as
JSON (--json: the whole tools/call result). Exit status 1 when the tool returned
isError, 2 on a client error (an unknown tool is UnknownToolError).

Arguments: -a key=value pairs, --args with one JSON object, or both (-a wins for a
key given twice). An -a value is read as JSON when it parses, else kept as a
string: -a n=3 is the number 3, -a flag=true the boolean, -a 'tags=["x"]' a list,
-a name=Ada the string "Ada"; quote a JSON string to force a string: -a 'n="3"'."""

_CALL_EPILOG = """\
examples:
  mcp-async call http://127.0.0.1:8000/mcp add -a a=2 -a b=40
  mcp-async call http://127.0.0.1:8000/mcp weather --args '{"city": "Lisbon"}'
  mcp-async call http://127.0.0.1:8000/mcp add --args @args.json
  mcp-async call echo -a message=hi -- npx -y @modelcontextprotocol/server-everything
  mcp-async --config ~/.cursor/mcp.json call files.read_file -a path=README.md"""

_DEMO_DESCRIPTION = """\
Start the demo MCP server inside this process (on 127.0.0.1, a free port), connect
to it and show the client at work: the handshake, the tool list, a few calls (one
that fails with isError), and a bounded fan-out of --calls echo calls, timed.
Needs nothing but the package."""


def parse_arg(text: str) -> tuple[str, Any]:
    """Parse ``key=value``; the value is read as JSON when it parses, else kept as a string."""
    key, sep, raw = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected key=value, got {text!r}")
    try:
        value: Any = json.loads(raw)
    except ValueError:
        value = raw
    return key, value


def load_arguments(text: str) -> dict[str, Any]:
    """The ``--args`` value: a JSON object, or ``@FILE`` (``@-``: stdin) holding one."""
    source = "--args"
    if text.startswith("@"):
        path = text[1:]
        source = f"--args {text}"
        try:
            if path == "-":
                text = sys.stdin.read()
            else:
                with open(path, encoding="utf-8") as file:
                    text = file.read()
        except OSError as exc:
            raise ConfigError(f"{source}: cannot read {path!r}: {exc.strerror or exc}") from exc
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise ConfigError(f"{source} is not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise ConfigError(f"{source} must be a JSON object, got {type(value).__name__}")
    return value


async def _tools(args: argparse.Namespace) -> int:
    async with client_from_args(args) as client:
        tools = await client.list_tools()
    if args.json:
        print(json.dumps([tool.raw for tool in tools], indent=2, ensure_ascii=False))
    else:
        print_tools((tool.name, tool.description) for tool in tools)
    return 0


async def _call(args: argparse.Namespace) -> int:
    if args.tool is None:
        raise ConfigError("name the tool to call")
    arguments = dict(args.arg)
    async with client_from_args(args) as client:
        result = await client.call_tool(args.tool, arguments)
    print_result(result, args.json)
    return 1 if result.is_error else 0


def _installed(module: str) -> bool:
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


async def _demo(args: argparse.Namespace) -> int:
    from ..testing import demo_server

    async with demo_server(reply=args.reply) as server:
        print(f"Embedded MCP server listening on {server.url} ({args.reply} replies)\n")
        async with AsyncMCPClient(server.url) as client:
            info = await client.initialize()
            print(f"Connected to {info.server_info.name} {info.server_info.version}, "
                  f"protocol {client.protocol_version}, session {client.session_id}")
            tools = await client.list_tools()
            print(f"\nTools ({len(tools)}):")
            for tool in tools:
                print(f"  - {tool.name}: {tool.description or ''}")

            # Checked against the tool's outputSchema when jsonschema is installed (the
            # 'validation' extra); the demo itself needs nothing but the package.
            validate = _installed("jsonschema")
            added = await client.call_tool("add", {"a": 2, "b": 40}, validate_output=validate)
            checked = " (checked against its outputSchema)" if validate else ""
            print(f"\nadd(2, 40) -> {added.structured_content}{checked}")
            weather = await client.call_tool("weather", {"city": "Lisbon"})
            print(f"weather('Lisbon') -> {weather.structured_content}")
            failed = await client.call_tool("fail")
            print(f"fail() -> is_error={failed.is_error}: {failed.text}")

            count = args.calls
            server.stats.reset()
            start = time.perf_counter()
            batch = await client.call_tools(
                [("echo", {"text": f"call {i}"}) for i in range(count)], concurrency=16
            )
            elapsed = time.perf_counter() - start
            ok = sum(o.ok and o.unwrap().text == f"call {i}" for i, o in enumerate(batch))
            print(f"\nBounded fan-out: {count} echo calls at concurrency 16 in {elapsed:.3f} s "
                  f"({count / elapsed:,.0f} calls/s): {ok} correct, in order, over "
                  f"{server.stats.connections} TCP connection(s)")
    print("\nDone.")
    return 0


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mcp-async", description=_DESCRIPTION, epilog=_EPILOG, formatter_class=_RAW,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser(
        "demo", help="run an embedded MCP server and talk to it",
        description=_DEMO_DESCRIPTION, epilog="example:\n  mcp-async demo --calls 1000",
        formatter_class=_RAW,
    )
    demo.add_argument("--reply", choices=("json", "sse"), default="json",
                      help="how the embedded server answers: one JSON body per request "
                           "(json, the default) or an SSE stream (sse)")
    demo.add_argument("--calls", type=int, default=200,
                      help="size of the concurrent fan-out (default 200)")
    demo.set_defaults(run=_demo)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("url", nargs="?", metavar="URL",
                       help="the server's MCP endpoint URL (or a local server's command "
                            "after --, or --config FILE)")
        p.add_argument("--transport", choices=("auto", "streamable-http", "sse"),
                       default="auto", help="the transport for a URL (default: detect)")
        p.add_argument("--json", action="store_true", help="print raw JSON")
        p.add_argument("--header", "-H", action="append", default=[], metavar="'NAME: VALUE'",
                       help="an HTTP header for every request (repeatable)")
        p.add_argument("--token", help="a bearer token (sent as Authorization: Bearer ...)")
        p.add_argument("--timeout", type=float, default=60.0, help="seconds per request")

    tools = sub.add_parser(
        "tools", help="list a server's tools", description=_TOOLS_DESCRIPTION,
        epilog=_TOOLS_EPILOG, formatter_class=_RAW,
        usage=_SERVER_USAGE.format(rest="", group=""),
    )
    common(tools)
    tools.set_defaults(run=_tools)

    call = sub.add_parser(
        "call", help="call one tool", description=_CALL_DESCRIPTION, epilog=_CALL_EPILOG,
        formatter_class=_RAW,
        usage=_SERVER_USAGE.format(rest=" TOOL", group=" SERVER.TOOL"),
    )
    common(call)
    call.add_argument("tool", nargs="?", metavar="TOOL",
                      help="the tool to call (with --config: SERVER.TOOL, or its name from "
                           "'tools')")
    call.add_argument("--arg", "-a", action="append", type=parse_arg, default=[],
                      help="tool argument key=value; the value is read as JSON if it "
                           "parses (3, true, null, [1], {...}), else kept as a string")
    call.add_argument("--args", dest="args_json", metavar="JSON|@FILE", default=None,
                      help="tool arguments as one JSON object, or @file.json (@- for stdin); "
                           "-a pairs are added on top")
    call.set_defaults(run=_call)

    batch = add_batch_parser(sub)
    add_serve_parser(sub)
    add_bridge_parser(sub)
    add_group_cli(parser, sub, {"tools": tools, "call": call, "batch": batch})
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    command: list[str] | None = None
    if "--" in argv:
        split = argv.index("--")
        argv, command = argv[:split], argv[split + 1:]
        if not command:
            print("error: give the server command after --", file=sys.stderr)
            return 2
    parser = _build_parser()
    args = parser.parse_args(argv)
    args.server_command = command
    if getattr(args, "args_json", None) is not None:
        try:
            merged = {**load_arguments(args.args_json), **dict(args.arg)}
        except ConfigError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        args.arg = list(merged.items())
    if command and getattr(args, "tool", "") is None and getattr(args, "url", None):
        args.url, args.tool = None, args.url  # 'call TOOL -- command'
    args.run = group_runner(args) or args.run  # --config, servers, or no server named
    try:
        result: int = asyncio.run(args.run(args))
    except MCPClientError as exc:
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return result
