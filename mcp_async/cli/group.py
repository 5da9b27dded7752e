"""Group mode of the ``mcp-async`` command: the servers of a configuration file as one.

::

    mcp-async servers [--config FILE]                  # each server: connected / failed / tools
    mcp-async --config FILE tools [--format openai]    # the catalogue, group-wide names
    mcp-async --config FILE call SERVER.TOOL -a k=v    # or: call SERVER__TOOL -a k=v
    mcp-async --config FILE batch TOOL -i args.jsonl   # one tool, one argument object a line
    mcp-async --config FILE batch -i calls.jsonl       # {"tool": NAME, "arguments": {...}} a line

``FILE`` is an ``mcpServers`` file (Claude Desktop, Cursor) or a VS Code ``mcp.json``.
Without ``--config``, ``servers``, ``tools`` (without a URL), ``call NAME`` and
``batch [NAME]`` (without a URL or a command after ``--``) read the first host file
found: ``./.vscode/mcp.json``, ``./.cursor/mcp.json``, ``~/.cursor/mcp.json``, then
Claude Desktop's ``claude_desktop_config.json``. They say on stderr which file they
read, and never write to it.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Awaitable, Callable, Mapping
from typing import IO, TYPE_CHECKING, Any

from .._exceptions import ConfigError
from .common import (
    client_from_args,
    count_lines,
    line_arguments,
    open_output,
    print_result,
)
from .text import print_tools

if TYPE_CHECKING:
    from ..features.batch import ToolCall
    from ..group.client_group import MCPClientGroup
    from ..protocol.models import CallToolResult

__all__ = ["add_group_cli", "call_by_name", "group_runner"]

#: ``async def run(args) -> int``, as the ``run`` default of every subcommand.
Runner = Callable[[argparse.Namespace], Awaitable[int]]

_FORMATS = ("openai", "anthropic", "mcp")

_HOST_FILES = """\
./.vscode/mcp.json, ./.cursor/mcp.json, ~/.cursor/mcp.json, then Claude Desktop's
claude_desktop_config.json"""

_SERVERS_DESCRIPTION = f"""\
Start and connect every server of a config file (an mcpServers file of Claude
Desktop or Cursor, or a VS Code mcp.json), all at once, and print one line per
server: connected (its name, version and tool count), failed (and why) or disabled.
Exit status 1 when any server failed.

Without --config, the first of these files that exists is read (stderr says which):
{_HOST_FILES}.
Relative paths in a file are taken from its project folder (see docs/groups.md)."""

_SERVERS_EPILOG = """\
examples:
  mcp-async servers
  mcp-async servers --config ~/.cursor/mcp.json --json"""


def add_group_cli(
    parser: argparse.ArgumentParser,
    subparsers: Any,
    commands: Mapping[str, argparse.ArgumentParser],
) -> None:
    """Add ``--config`` (to ``parser`` and to ``commands``), the group options of
    ``tools``/``call``/``batch`` and the ``servers`` subcommand."""
    config_help = ("an mcpServers file (Claude Desktop, Cursor) or VS Code mcp.json: "
                   "use its servers as one group")
    parser.add_argument("--config", metavar="FILE", default=None, help=config_help)
    servers = subparsers.add_parser(
        "servers", help="list the servers of a config file with their status",
        usage="%(prog)s [--config FILE] [options]",
        description=_SERVERS_DESCRIPTION, epilog=_SERVERS_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    servers.add_argument("--json", action="store_true", help="print JSON")
    servers.add_argument("--timeout", type=float, default=60.0, help="seconds per request")
    servers.set_defaults(run=_servers)
    for command in (*commands.values(), servers):
        # SUPPRESS: without it, the subcommand's default would hide a --config given first.
        command.add_argument("--config", metavar="FILE", default=argparse.SUPPRESS,
                             help=config_help)
        command.add_argument("--connect-timeout", type=float, default=30.0, metavar="SECONDS",
                             help="with a config: seconds each server gets to connect")
    if "tools" in commands:
        commands["tools"].add_argument(
            "--format", choices=_FORMATS, default=None,
            help="print the tool definitions for that model API as JSON",
        )
    if "batch" in commands:
        commands["batch"].add_argument(
            "--per-server", type=_positive_int, default=4, metavar="N",
            help="with a config: calls in flight at once per server (default 4)",
        )


def group_runner(args: argparse.Namespace) -> Runner | None:
    """The group-mode ``run`` for a parsed command line, or ``None`` to keep its own.

    Group mode is chosen by ``--config``, by the ``servers`` command, or when a
    ``tools``/``call``/``batch`` command names no server (no URL, no command after
    ``--``): then the host files are looked up.
    """
    command = getattr(args, "command", None)
    if command == "servers":
        return _servers
    runners: dict[str, Runner] = {"tools": _tools, "call": _call, "batch": _batch}
    runner = runners.get(command or "")
    if runner is None:
        return None
    if getattr(args, "config", None) is not None:
        return runner
    url = getattr(args, "url", None)
    single = bool(getattr(args, "server_command", None)) or (url is not None and "://" in url)
    if command == "tools":
        if url is None and not single:
            return runner
        return _tools_with_format if getattr(args, "format", None) else None
    if not single and getattr(args, "tool", None) is None:
        return runner
    return None


# -- shared --------------------------------------------------------------------------------------


def _config_path(args: argparse.Namespace) -> str:
    config: str | None = getattr(args, "config", None)
    if config is not None:
        return config
    from ..group.config import find_host_configs, host_config_files

    found = find_host_configs()
    if not found:
        looked = ", ".join(str(candidate.path) for candidate in host_config_files())
        command = getattr(args, "command", None)
        if command == "servers":
            raise ConfigError(
                f"give --config FILE: no MCP host configuration was found (looked for "
                f"{looked})"
            )
        raise ConfigError(
            f"name a server: a URL (mcp-async {command} URL ...), a local server's "
            f"command after -- (mcp-async {command} ... -- COMMAND [ARG ...]) or a "
            f"config file (--config FILE); no MCP host configuration was found either "
            f"(looked for {looked})"
        )
    chosen = found[0]
    print(f"reading the {chosen.host} configuration {chosen.path}", file=sys.stderr)
    for other in found[1:]:
        print(f"  (also found {other.host}: {other.path}; choose one with --config)",
              file=sys.stderr)
    return str(chosen.path)


def _group(args: argparse.Namespace, **options: Any) -> MCPClientGroup:
    from ..group.client_group import MCPClientGroup

    if getattr(args, "server_command", None):
        raise ConfigError("give --config or a server command after --, not both")
    if getattr(args, "header", None) or getattr(args, "token", None):
        raise ConfigError(
            "--header and --token apply to one server; with a config file, put headers "
            "in the server's entry"
        )
    return MCPClientGroup.from_config(
        _config_path(args), connect_timeout=args.connect_timeout, timeout=args.timeout,
        **options,
    )


def _warn_failures(group: MCPClientGroup) -> None:
    for name, error in group.failures.items():
        print(f"warning: server {name!r} failed: {type(error).__name__}: {_first_line(error)}",
              file=sys.stderr)


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else ""


def _one_name(args: argparse.Namespace) -> str | None:
    """The tool named on the command line (the first positional, or the second)."""
    url, tool = getattr(args, "url", None), getattr(args, "tool", None)
    if url is not None and tool is not None:
        raise ConfigError(
            f"with a config file, name only the tool (SERVER.TOOL or a group name), "
            f"not {url!r} and {tool!r}"
        )
    return tool if tool is not None else url


async def call_by_name(
    group: MCPClientGroup, name: str, arguments: Mapping[str, Any] | None, **options: Any
) -> CallToolResult:
    """Call ``SERVER.TOOL`` (split after the first server name) or a group-wide name."""
    servers = {*group.servers, *group.failures, *group.disabled}
    for index, char in enumerate(name):
        if char == "." and name[:index] in servers:
            result: CallToolResult = await group[name[:index]].call_tool(
                name[index + 1:], arguments, **options
            )
            return result
    return await group.call_tool(name, arguments, **options)


# -- tools ---------------------------------------------------------------------------------------


async def _tools(args: argparse.Namespace) -> int:
    if getattr(args, "url", None) is not None:
        raise ConfigError("with a config file, 'tools' takes no URL")
    async with _group(args) as group:
        _warn_failures(group)
        if args.format:
            print(json.dumps(await group.tool_schemas(args.format), indent=2,
                             ensure_ascii=False))
            return 0
        tools = await group.list_tools()
    if args.json:
        listing = [{"name": t.name, "server": t.server, "tool": t.tool.raw} for t in tools]
        print(json.dumps(listing, indent=2, ensure_ascii=False))
        return 0
    print_tools((tool.name, tool.tool.description) for tool in tools)
    return 0


async def _tools_with_format(args: argparse.Namespace) -> int:
    """``tools URL --format F`` (one server): its tools under their own names."""
    from ..features.schemas import export_tools

    async with client_from_args(args) as client:
        tools = await client.list_tools()
    print(json.dumps(export_tools(((tool.name, tool) for tool in tools), args.format),
                     indent=2, ensure_ascii=False))
    return 0


# -- call ----------------------------------------------------------------------------------------


async def _call(args: argparse.Namespace) -> int:
    name = _one_name(args)
    if name is None:
        raise ConfigError("name the tool to call: SERVER.TOOL, or its name from 'tools'")
    async with _group(args) as group:
        _warn_failures(group)
        result = await call_by_name(group, name, dict(args.arg))
    print_result(result, args.json)
    return 1 if result.is_error else 0


# -- batch ---------------------------------------------------------------------------------------


async def _batch(args: argparse.Namespace) -> int:
    from ..policies.ratelimit import RateLimit
    from ..policies.retry import RetryPolicy

    tool = _one_name(args)
    options: dict[str, Any] = {}
    if args.retries > 0:
        options["retry"] = RetryPolicy(attempts=args.retries + 1)
    if args.rate is not None:
        options["rate_limit"] = RateLimit(rate=args.rate)
    group = _group(args, **options)
    try:
        total = count_lines(args.input)
        output = open_output(args.output)
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        async with group:
            _warn_failures(group)
            return await _run_batch(group, tool, args, output, total)
    finally:
        if output is not sys.stdout:
            output.close()


async def _run_batch(
    group: MCPClientGroup,
    tool: str | None,
    args: argparse.Namespace,
    output: IO[str],
    total: int | None,
) -> int:
    from .batch import write_batch

    resolve = await _resolver(group)
    fixed = resolve(tool) if tool is not None else None
    call = group.bounded_caller(per_server=args.per_server, idempotent=args.idempotent)

    async def run(line: str) -> CallToolResult:
        return await call(_line_call(line, fixed, resolve))

    return await write_batch(run, args.input, output, args.concurrency, total, args.progress)


async def _resolver(group: MCPClientGroup) -> Callable[[str], str]:
    """Map ``SERVER.TOOL`` to the tool's group-wide name (other names pass unchanged)."""
    tools = await group.list_tools()
    by_pair = {(tool.server, tool.tool.name): tool.name for tool in tools}
    servers = {*group.servers, *group.failures, *group.disabled}

    def resolve(name: str) -> str:
        for index, char in enumerate(name):
            if char == "." and name[:index] in servers:
                return by_pair.get((name[:index], name[index + 1:]), name)
        return name

    return resolve


def _line_call(line: str, tool: str | None, resolve: Callable[[str], str]) -> ToolCall:
    from ..features.batch import ToolCall

    value = line_arguments(line)
    if tool is not None:
        return ToolCall(tool, value)
    name = value.get("tool")
    if not isinstance(name, str) or not name:
        raise ConfigError(
            'each line needs "tool" (SERVER.TOOL or a group name) and "arguments", '
            "unless TOOL is given on the command line"
        )
    arguments = value.get("arguments", {})
    if not isinstance(arguments, dict):
        raise ConfigError(f'"arguments" must be a JSON object, got {arguments!r}')
    return ToolCall(resolve(name), arguments)


# -- servers -------------------------------------------------------------------------------------


async def _servers(args: argparse.Namespace) -> int:
    group = _group(args)
    rows: list[dict[str, Any]] = []
    async with group:
        tools = await group.list_tools()
        counts = {name: 0 for name in group.names}
        for tool in tools:
            counts[tool.server] += 1
        for name in group.servers:
            spec = group.spec(name)
            row: dict[str, Any] = {
                "name": name,
                "target": spec.describe() if spec is not None else "",
            }
            failure = group.failures.get(name)
            if failure is not None:
                row.update(status="failed", error=f"{type(failure).__name__}: "
                                                  f"{_first_line(failure)}")
            else:
                info = group[name].server_info
                row.update(status="connected", server=f"{info.name} {info.version}".strip())
                listing = group.list_errors.get(name)
                if listing is None:
                    row["tools"] = counts[name]
                else:
                    row["error"] = f"tools/list: {type(listing).__name__}: {_first_line(listing)}"
            rows.append(row)
    rows.extend({"name": name, "status": "disabled"} for name in group.disabled)
    source = group.config.source if group.config is not None else None
    if args.json:
        print(json.dumps({"config": source, "servers": rows}, indent=2, ensure_ascii=False))
    else:
        _print_servers(source, rows)
    return 1 if group.failures else 0


def _print_servers(source: str | None, rows: list[dict[str, Any]]) -> None:
    print(f"MCP servers in {source}:" if source else "MCP servers:")
    if not rows:
        print("  (none)")
    width = max((len(row["name"]) for row in rows), default=0)
    for row in rows:
        status = row["status"]
        if status == "connected":
            tools = row.get("tools")
            detail = f"{tools} tools" if tools is not None else row["error"]
            detail += f"  {row['server']}  ({row['target']})"
        elif status == "failed":
            detail = f"{row['error']}  ({row['target']})"
        else:
            detail = "not started"
        print(f"  {row['name']:{width}}  {status:9}  {detail}")


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value
