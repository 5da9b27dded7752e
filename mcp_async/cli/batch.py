"""The ``mcp-async batch`` command: call one tool for every line of a JSONL file.

::

    mcp-async batch http://127.0.0.1:8000/mcp add --input calls.jsonl \\
        --output results.jsonl --concurrency 16

Each input line is the JSON object of the tool's arguments. Each output line answers
the input line with the same number, in the same order, errors included::

    {"line": 1, "ok": true, "result": {...CallToolResult...}}
    {"line": 2, "ok": false, "error": {"type": "ReadTimeout", "message": "..."}}
    {"line": 3, "ok": false, "result": {..., "isError": true}}

The exit status is 0 when every line succeeded, 1 when some failed, 2 when the
command could not run (unreadable input, bad option).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import IO, Any

from ..client.async_client import AsyncMCPClient
from ..features.batch import Outcome
from ..protocol.models import CallToolResult
from .common import (
    URLTransport,
    count_lines,
    line_arguments,
    make_client,
    open_output,
)

__all__ = ["add_batch_parser", "run_batch"]

_DESCRIPTION = """\
Call TOOL once for every line of the input: each line is the JSON object of the
tool's arguments. Writes one JSON line per input line, in input order, errors
included: {"line": N, "ok": true|false, "result": {...}} or
{"line": N, "ok": false, "error": {"type": ..., "message": ...}}.
Exit status: 0 all succeeded, 1 some failed, 2 could not run."""

_EPILOG = """\
examples:
  mcp-async batch http://127.0.0.1:8000/mcp add -i calls.jsonl -o results.jsonl -c 16
  seq 100 | sed 's/.*/{"text": "&"}/' | mcp-async batch http://127.0.0.1:8000/mcp echo
  mcp-async batch echo -i calls.jsonl -- npx -y @modelcontextprotocol/server-everything
  mcp-async --config mcp.json batch -i calls.jsonl
      (each line {"tool": "SERVER.TOOL", "arguments": {...}})"""

_USAGE = """\
%(prog)s [options] URL TOOL
       %(prog)s [options] TOOL -- COMMAND [ARG ...]
       %(prog)s --config FILE [options] [TOOL]"""

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _lines(path: str) -> Iterator[str]:
    if path == "-":
        yield from (line.rstrip("\r\n") for line in sys.stdin)
        return
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            yield line.rstrip("\r\n")


def _record(index: int, outcome: Outcome[CallToolResult]) -> dict[str, Any]:
    record: dict[str, Any] = {"line": index + 1}
    if outcome.error is not None:
        error = outcome.error
        record["ok"] = False
        record["error"] = {"type": type(error).__name__, "message": str(error)}
        status = getattr(error, "status", None)
        if status is not None:
            record["error"]["status"] = status
        return record
    result = outcome.value
    assert result is not None
    record["ok"] = not result.is_error
    record["result"] = result.raw
    return record


class _ProgressBar:
    """A one-line progress bar on a terminal (nothing when ``stream`` is not a TTY)."""

    def __init__(self, stream: IO[str], enabled: bool, width: int = 30) -> None:
        self.stream = stream
        self.enabled = enabled
        self.width = width
        self.failed = 0
        self._start = time.monotonic()
        self._last = 0.0

    def update(self, done: int, total: int | None, *, final: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not final and now - self._last < 0.1:
            return
        self._last = now
        rate = done / max(now - self._start, 1e-9)
        if total:
            filled = int(self.width * done / total)
            bar = "#" * filled + "-" * (self.width - filled)
            text = f"\r[{bar}] {done}/{total}"
        else:
            text = f"\r{done} done"
        text += f"  {self.failed} failed  {rate:,.0f}/s"
        self.stream.write(text)
        if final:
            self.stream.write("\n")
        self.stream.flush()


async def run_batch(
    url: str | None,
    tool: str,
    input_path: str,
    output_path: str,
    concurrency: int,
    *,
    headers: dict[str, str] | None = None,
    token: str | None = None,
    timeout: float | None = 60.0,
    retries: int = 3,
    rate: float | None = None,
    idempotent: bool = False,
    progress: bool | None = None,
    client: AsyncMCPClient | None = None,
    command: Sequence[str] | None = None,
    transport: URLTransport = "auto",
) -> int:
    """Call ``tool`` once per line of ``input_path``; write one result line per input line.

    ``"-"`` means stdin / stdout. ``retries`` extra tries go to failures that are safe to
    retry (``idempotent`` also allows re-sending after a dropped response); ``rate``
    caps requests per second. ``progress`` draws a bar on stderr (default: when stderr
    is a terminal). ``command`` starts a stdio server instead of connecting to ``url``.
    An open ``client`` may be passed instead of the connection options.
    Returns the exit status: 0 all succeeded, 1 some failed, 2 could not run.
    """
    try:
        total = count_lines(input_path)
        output = open_output(output_path)
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        if client is not None:
            return await _run(client, tool, input_path, output, concurrency, total,
                              idempotent, progress)
        from ..policies.ratelimit import RateLimit
        from ..policies.retry import RetryPolicy

        async with make_client(
            url,
            command,
            transport=transport,
            headers=headers,
            token=token,
            timeout=timeout,
            retry=RetryPolicy(attempts=retries + 1) if retries > 0 else None,
            rate_limit=RateLimit(rate=rate) if rate is not None else None,
        ) as owned:
            return await _run(owned, tool, input_path, output, concurrency, total,
                              idempotent, progress)
    finally:
        if output is not sys.stdout:
            output.close()


async def _run(
    client: AsyncMCPClient,
    tool: str,
    input_path: str,
    output: IO[str],
    concurrency: int,
    total: int | None,
    idempotent: bool,
    progress: bool | None,
) -> int:
    async def call(line: str) -> CallToolResult:
        return await client.call_tool(tool, line_arguments(line), idempotent=idempotent)

    return await write_batch(call, input_path, output, concurrency, total, progress)


async def write_batch(
    call: Callable[[str], Awaitable[CallToolResult]],
    input_path: str,
    output: IO[str],
    concurrency: int,
    total: int | None,
    progress: bool | None,
) -> int:
    """Run ``call`` for every line of ``input_path``, ``concurrency`` at once, and write one
    result line per input line, in input order; return the exit status (0, 1 or 2)."""
    from ..features.batch import stream_bounded

    bar = _ProgressBar(sys.stderr, sys.stderr.isatty() if progress is None else progress)
    waiting: dict[int, Outcome[CallToolResult]] = {}
    next_line = 0
    failed = 0
    try:
        async with stream_bounded(_lines(input_path), call, concurrency=concurrency) as stream:
            async for index, outcome in stream:
                waiting[index] = outcome
                # Write in input order: hold results that overtook a slower earlier line.
                while next_line in waiting:
                    record = _record(next_line, waiting.pop(next_line))
                    if not record["ok"]:
                        failed += 1
                    output.write(_dumps(record) + "\n")
                    next_line += 1
                bar.failed = failed
                bar.update(next_line, total)
    except OSError as exc:
        print(f"\nerror: {exc}", file=sys.stderr)
        return 2
    bar.update(next_line, total, final=True)
    output.flush()
    return 1 if failed else 0


def add_batch_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``batch`` subcommand to an ``argparse`` subparsers object.

    The parsed namespace gets ``run``: an ``async def run(args) -> int``.
    """
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "batch",
        help="call a tool for every line of a JSONL file, N at a time",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        usage=_USAGE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("url", nargs="?", metavar="URL",
                        help="the server's MCP endpoint URL (or a local server's command "
                             "after --, or --config FILE)")
    parser.add_argument("tool", nargs="?", metavar="TOOL",
                        help="the tool to call for each line (with --config: SERVER.TOOL or "
                             "its name from 'tools'; or name it on each line)")
    parser.add_argument("--input", "-i", default="-",
                        help="JSONL file of argument objects ('-': stdin, the default)")
    parser.add_argument("--output", "-o", default="-",
                        help="JSONL file for results ('-': stdout, the default)")
    parser.add_argument("--concurrency", "-c", type=_positive_int, default=16,
                        help="calls in flight at once (default 16)")
    parser.add_argument("--retries", type=_non_negative_int, default=3,
                        help="extra tries for failures safe to retry (default 3; 0: off)")
    parser.add_argument("--idempotent", action="store_true",
                        help="the tool is idempotent: re-send calls after dropped responses")
    parser.add_argument("--rate", type=float, default=None,
                        help="most requests per second (default: unlimited)")
    parser.add_argument("--header", "-H", action="append", default=[], metavar="'NAME: VALUE'",
                        help="an HTTP header for every request (repeatable)")
    parser.add_argument("--token", help="a bearer token (sent as Authorization: Bearer ...)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per request")
    parser.add_argument("--transport", choices=("auto", "streamable-http", "sse"),
                        default="auto", help="the transport for a URL (default: detect)")
    bar = parser.add_mutually_exclusive_group()
    bar.add_argument("--progress", dest="progress", action="store_true", default=None,
                     help="always draw the progress bar on stderr")
    bar.add_argument("--no-progress", dest="progress", action="store_false",
                     help="never draw the progress bar")
    parser.set_defaults(run=_run_from_args)
    return parser


async def _run_from_args(args: argparse.Namespace) -> int:
    headers: dict[str, str] = {}
    for pair in args.header:
        name, sep, value = pair.partition(":")
        if not sep or not name.strip():
            print(f"error: expected 'Name: value', got {pair!r}", file=sys.stderr)
            return 2
        headers[name.strip()] = value.strip()
    if args.tool is None:
        print("error: name the tool to call", file=sys.stderr)
        return 2
    return await run_batch(
        args.url, args.tool, args.input, args.output, args.concurrency,
        headers=headers, token=args.token, timeout=args.timeout, retries=args.retries,
        rate=args.rate, idempotent=args.idempotent, progress=args.progress,
        command=getattr(args, "server_command", None), transport=args.transport,
    )


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value
