"""What the ``mcp-async`` subcommands share: the client their common options name, a
tool's result printed for people or as JSON, JSONL input and output files, and argument
types."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import IO, Any, Literal

from .._exceptions import ConfigError
from ..client.async_client import AsyncMCPClient
from ..protocol.models import CallToolResult

__all__ = [
    "URLTransport",
    "client_from_args",
    "count_lines",
    "line_arguments",
    "make_client",
    "open_output",
    "print_result",
]

#: What ``--transport`` accepts.
URLTransport = Literal["auto", "streamable-http", "sse"]


def _headers(pairs: Sequence[str]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition(":")
        if not sep or not name.strip():
            raise argparse.ArgumentTypeError(f"expected 'Name: value', got {pair!r}")
        headers[name.strip()] = value.strip()
    return headers


def client_from_args(args: argparse.Namespace) -> AsyncMCPClient:
    """The client for ``URL`` or ``-- COMMAND``, with ``--transport``, ``--header``,
    ``--token`` and ``--timeout``."""
    return make_client(
        args.url, args.server_command, transport=args.transport,
        headers=_headers(args.header), token=args.token, timeout=args.timeout,
    )


def print_result(result: CallToolResult, as_json: bool) -> None:
    """Print a ``tools/call`` result: its structured content or text (``as_json``: the raw
    result)."""
    if as_json:
        print(json.dumps(result.raw, indent=2, ensure_ascii=False))
        return
    if result.structured_content is not None:
        indent = 2 if sys.stdout.isatty() else None
        print(json.dumps(result.structured_content, ensure_ascii=False, indent=indent))
    elif result.text:
        print(result.text)
    for block in result.content:
        if block.type != "text":
            print(f"[{block.type} content]")


def make_client(
    url: str | None,
    command: Sequence[str] | None,
    *,
    transport: URLTransport = "auto",
    headers: dict[str, str] | None = None,
    token: str | None = None,
    **options: Any,
) -> AsyncMCPClient:
    """The client for a URL, or for a stdio server ``command`` (program and arguments)."""
    if command:
        if url is not None:
            raise ConfigError("give either a URL or a command after --, not both")
        if headers or token:
            raise ConfigError("--header and --token apply to HTTP servers, not to a command")
        return AsyncMCPClient.stdio(command[0], command[1:], **options)
    if url is None:
        raise ConfigError("give the server's URL, or a command to start after --")
    return AsyncMCPClient(url, transport=transport, headers=headers, auth=token, **options)


def count_lines(path: str) -> int | None:
    """How many lines ``path`` has (for a progress bar); ``None`` for ``"-"`` (stdin)."""
    if path == "-":
        return None
    with open(path, "rb") as handle:
        return sum(1 for _ in handle)


def open_output(path: str) -> IO[str]:
    """``path`` opened to write text (UTF-8); stdout for ``"-"``."""
    if path == "-":
        return sys.stdout
    return open(path, "w", encoding="utf-8")


def line_arguments(line: str) -> dict[str, Any]:
    """One JSONL input line as a JSON object (a tool's arguments); :class:`ConfigError`
    for a line that is not JSON or not an object."""
    try:
        value = json.loads(line)
    except ValueError as exc:
        raise ConfigError(f"line is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ConfigError(f"line must be a JSON object of tool arguments, got {line[:60]!r}")
    return value
