"""What the ``mcp-async`` subcommands share: the client their common options name, and a
tool's result printed for people or as JSON."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from ..client.async_client import AsyncMCPClient
from ..protocol.models import CallToolResult
from .batch import make_client

__all__ = ["client_from_args", "print_result"]


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
