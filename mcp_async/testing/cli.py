"""``python -m mcp_async.testing``: run :func:`~mcp_async.testing.demo_server` on one
transport, with fault-injection flags for client tests."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Callable, Sequence
from typing import Any, Final

from .demo import demo_server
from .server import MCPTestServer
from .stdio import serve_lines
from .wire import HANDSHAKE_VERSIONS, STATELESS_VERSIONS

__all__ = ["main"]

_BANNER: Final = "mcp-async demo server starting (this line is not JSON-RPC)"


def _count(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = int(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}")
        return value

    return parse


def _eras(text: str) -> tuple[str, ...]:
    eras = tuple(part.strip() for part in text.split(",") if part.strip())
    known = (*STATELESS_VERSIONS, *HANDSHAKE_VERSIONS)
    unknown = [era for era in eras if era not in known]
    if not eras or unknown:
        raise argparse.ArgumentTypeError(f"revisions must be among {', '.join(known)}")
    return eras


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m mcp_async.testing",
        description="Run the mcp_async demo MCP server (demo_server) on one transport.",
    )
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--stdio", dest="transport", action="store_const", const="stdio",
                      help="one session on stdin/stdout until end of input")
    mode.add_argument("--sse", dest="transport", action="store_const", const="sse",
                      help="legacy HTTP+SSE on 127.0.0.1; prints the GET URL")
    mode.add_argument("--http", dest="transport", action="store_const", const="http",
                      help="Streamable HTTP on 127.0.0.1; prints the URL")
    parser.add_argument("--port", type=_count(0), default=0, help="TCP port (default: any)")
    parser.add_argument("--reply", choices=("json", "sse"), default="json",
                        help="Streamable HTTP reply mode")
    parser.add_argument("--keepalive", type=float, default=None, metavar="SECONDS",
                        help="legacy SSE: ': ping' comment after this many idle seconds")
    parser.add_argument("--two-way", action="store_true",
                        help="add the sample, confirm, list_roots and log_message tools")
    parser.add_argument("--tasks", action="store_true",
                        help="add the task tools (research, clarify, doomed, marathon, double)")
    parser.add_argument("--eras", type=_eras, default=None, metavar="REV[,REV...]",
                        help="protocol revisions served, e.g. 2026-07-28,2025-11-25 "
                             "(default: the handshake era only)")
    parser.add_argument("--grace", type=float, default=2.0, metavar="SECONDS",
                        help="stdio: time running requests get after end of input")
    faults = parser.add_argument_group("fault injection")
    faults.add_argument("--banner", nargs="?", const=_BANNER, default=None, metavar="TEXT",
                        help="stdio: write a non-JSON line on stdout before serving")
    faults.add_argument("--stderr-lines", type=_count(0), default=0, metavar="N",
                        help="write N lines to stderr at startup")
    faults.add_argument("--ignore-sigterm", action="store_true",
                        help="ignore SIGTERM (only SIGKILL stops the process)")
    faults.add_argument("--exit-after", type=_count(1), default=None, metavar="N",
                        help="stdio: on the Nth request write 'dying' to stderr and exit 3")
    return parser


async def _serve_until_signal(server: MCPTestServer, *, sigterm: bool) -> None:
    url = await server.start()
    try:
        print(url, flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM) if sigterm else (signal.SIGINT,):
            with contextlib.suppress(NotImplementedError):  # no signal handlers on Windows
                loop.add_signal_handler(signum, stop.set)
        await stop.wait()
    finally:
        await server.stop()


def main(argv: Sequence[str] | None = None) -> int:
    """Run :func:`demo_server` from the command line; returns the exit status.

    ``python -m mcp_async.testing --stdio`` serves one session on stdin/stdout and exits
    with 0 at end of input; ``--sse`` (legacy HTTP+SSE) and ``--http`` (Streamable HTTP,
    ``--reply json|sse``) print the URL as the first line of stdout and serve on
    127.0.0.1 (``--port``) until SIGINT or SIGTERM. ``--two-way`` and ``--tasks`` add the
    demo's two-way and task tools (see :func:`demo_server`); ``--eras
    2026-07-28,2025-11-25`` serves those revisions (``eras``; the default is the
    handshake era only); ``--keepalive SECONDS`` pings idle SSE streams;
    ``--grace SECONDS`` is :meth:`MCPTestServer.serve_stdio`'s ``grace``.

    Fault injection: ``--banner [TEXT]`` (stdio) writes a non-JSON line on stdout before
    serving; ``--stderr-lines N`` writes N lines to stderr at startup;
    ``--ignore-sigterm`` ignores SIGTERM; ``--exit-after N`` (stdio) writes ``dying`` to
    stderr and exits with status 3 when the Nth JSON-RPC request arrives, unanswered.
    """
    parser = _parser()
    args = parser.parse_args(argv)
    if args.transport != "stdio" and (args.banner is not None or args.exit_after is not None):
        parser.error("--banner and --exit-after apply to --stdio only")
    if args.transport == "sse" and args.eras is not None and any(
        era in STATELESS_VERSIONS for era in args.eras
    ):
        parser.error("--sse (legacy HTTP+SSE) has no stateless era")
    if args.ignore_sigterm:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    for line in range(1, args.stderr_lines + 1):
        print(f"mcp-async demo server: stderr line {line} of {args.stderr_lines}",
              file=sys.stderr)
    sys.stderr.flush()
    options: dict[str, Any] = {"two_way": args.two_way, "tasks": args.tasks, "port": args.port,
                               "eras": args.eras}
    if args.transport == "sse":
        options.update(transport="sse", keepalive=args.keepalive)
    elif args.transport == "http":
        options.update(reply=args.reply)
    server = demo_server(**options)
    try:
        if args.transport == "stdio":
            asyncio.run(serve_lines(
                server._open_link, grace=args.grace, banner=args.banner,
                exit_after=args.exit_after,
            ))
        else:
            asyncio.run(_serve_until_signal(server, sigterm=not args.ignore_sigterm))
    except KeyboardInterrupt:
        return 130
    return 0

