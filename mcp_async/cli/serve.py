"""``mcp-async serve``: the :mod:`mcp_async.testing` demo server on its own.

Try the CLI, another client or your own code against a real MCP server that misbehaves
on demand::

    mcp-async serve                          # Streamable HTTP on 127.0.0.1, a free port
    mcp-async serve --port 8000 --reply sse  # SSE replies on a fixed port
    mcp-async serve --sse                    # legacy HTTP+SSE (2024-11-05)
    mcp-async serve --stdio                  # one session on stdin/stdout
    mcp-async serve --fault error:503,times=2 --fault slow:0.5,name=echo

With HTTP (``--http``, the default) or ``--sse`` the first line on stdout is the URL to
give a client; the server runs until Ctrl-C or SIGTERM. The server is
:func:`~mcp_async.testing.demo_server`: tools ``add``, ``echo``, ``slow``, ``weather``,
``fail`` (``--two-way`` adds ``sample``, ``confirm``, ``list_roots``, ``log_message``),
a resource, a template, a prompt and completions. It listens on loopback only unless
``--host`` says otherwise.

**Faults** (``--fault SPEC``, repeatable; also ``--faults SPEC SPEC ...``) each add one
:class:`~mcp_async.testing.Fault`. A spec is ``KIND[:VALUE][,key=value,...]``:

=====================  ==============================================================
``error:STATUS``       answer with that HTTP status (``retry_after=S`` adds the header)
``rate_limited[:S]``   429 with ``Retry-After: S`` (default 1)
``slow:SECONDS``       wait, then answer normally
``disconnect``         close the connection without an answer
``expired_session``    forget the session and answer 404
``bad_json``           cut the JSON reply in half
``mismatched_id``      answer with the wrong response id
``cut_stream``         an SSE reply that ends before the response
``end_stream[:N]``     end the SSE reply cleanly after the priming event and N events
``break_stream[:N]``   break the connection after the priming event and N events
``garbage:TEXT``       answer 200 with TEXT instead of the reply
=====================  ==============================================================

The ``key=value`` options choose when it fires: ``method=tools/call``, ``name=echo``
(the tool), ``times=N`` (default: forever), ``probability=P`` with ``seed=N``; and
``retry=MS`` for the stream faults. A JSON object works too:
``--fault '{"status": 500, "times": 1}'`` (the :class:`~mcp_async.testing.Fault`
fields). Over stdio only ``slow``, ``bad_json`` and ``mismatched_id`` apply; the stdio
process faults of ``python -m mcp_async.testing`` (``--banner``, ``--exit-after N``,
``--stderr-lines N``, ``--ignore-sigterm``) are here as well.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .text import plain

if TYPE_CHECKING:
    from ..testing import Fault, MCPTestServer

__all__ = ["FAULT_KINDS", "add_serve_parser", "parse_fault"]

#: Fault kinds of a ``--fault`` spec and whether they take a value after ``:``.
FAULT_KINDS: dict[str, str] = {
    "error": "required",
    "rate_limited": "optional",
    "slow": "required",
    "disconnect": "none",
    "expired_session": "none",
    "bad_json": "none",
    "mismatched_id": "none",
    "cut_stream": "none",
    "end_stream": "optional",
    "break_stream": "optional",
    "garbage": "required",
}

_INT_OPTIONS = ("times", "seed", "retry", "status")
_FLOAT_OPTIONS = ("probability", "retry_after", "delay")
_STR_OPTIONS = ("method", "name", "body", "content_type")
_BANNER = "mcp-async demo server starting (this line is not JSON-RPC)"


def _option(key: str, raw: str) -> Any:
    if key in _INT_OPTIONS:
        return int(raw)
    if key in _FLOAT_OPTIONS:
        return float(raw)
    if key in _STR_OPTIONS:
        return raw
    known = ", ".join(_INT_OPTIONS + _FLOAT_OPTIONS + _STR_OPTIONS)
    raise ValueError(f"unknown option {key!r} (known: {known})")


def parse_fault(spec: str) -> Fault:
    """A :class:`~mcp_async.testing.Fault` from a ``--fault`` spec (see the module docs)."""
    from ..testing import Fault

    text = spec.strip()
    try:
        if text.startswith("{"):
            fields = json.loads(text)
            if not isinstance(fields, dict):
                raise ValueError("a JSON fault must be an object")
            return Fault(**fields)
        head, *pairs = text.split(",")
        kind, sep, value = head.partition(":")
        kind = kind.strip().replace("-", "_")
        takes = FAULT_KINDS.get(kind)
        if takes is None:
            raise ValueError(f"unknown fault {kind!r} (known: {', '.join(FAULT_KINDS)})")
        if takes == "required" and not value:
            raise ValueError(f"{kind} needs a value: {kind}:VALUE")
        if takes == "none" and sep:
            raise ValueError(f"{kind} takes no value")
        options: dict[str, Any] = {}
        for pair in pairs:
            key, eq, raw = pair.partition("=")
            if not eq:
                raise ValueError(f"expected key=value, got {pair!r}")
            options[key.strip()] = _option(key.strip(), raw.strip())
        return _build(Fault, kind, value, options)
    except (TypeError, ValueError) as exc:
        raise argparse.ArgumentTypeError(f"bad fault {spec!r}: {exc}") from exc


def _build(fault: type[Fault], kind: str, value: str, options: dict[str, Any]) -> Fault:
    factories: dict[str, Callable[..., Fault]] = {
        "error": lambda: fault.error(int(value), **options),
        "rate_limited": lambda: fault.rate_limited(float(value) if value else 1, **options),
        "slow": lambda: fault.slow(float(value), **options),
        "disconnect": lambda: fault.disconnect(**options),
        "expired_session": lambda: fault.expired_session(**options),
        "bad_json": lambda: fault.bad_json(**options),
        "mismatched_id": lambda: fault.mismatched_id(**options),
        "cut_stream": lambda: fault.cut_stream(**options),
        "end_stream": lambda: fault.end_stream(int(value or 0), **options),
        "break_stream": lambda: fault.break_stream(int(value or 0), **options),
        "garbage": lambda: fault.garbage(value, **options),
    }
    return factories[kind]()


def _non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be >= 0")
    return value


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be >= 1")
    return value


def add_serve_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``serve`` subcommand to an ``argparse`` subparsers object."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "serve",
        help="run the mcp_async.testing demo server (HTTP, legacy SSE or stdio)",
        description=plain(__doc__ or ""),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--http", dest="transport", action="store_const", const="http",
                      help="Streamable HTTP (the default)")
    mode.add_argument("--sse", dest="transport", action="store_const", const="sse",
                      help="legacy HTTP+SSE (2024-11-05)")
    mode.add_argument("--stdio", dest="transport", action="store_const", const="stdio",
                      help="one session on stdin/stdout, until end of input")
    parser.set_defaults(transport="http")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=_non_negative, default=0,
                        help="TCP port (default: a free one)")
    parser.add_argument("--reply", choices=("json", "sse"), default="json",
                        help="Streamable HTTP: answer with JSON bodies or SSE streams")
    parser.add_argument("--stateless", action="store_true",
                        help="Streamable HTTP: no Mcp-Session-Id")
    parser.add_argument("--page-size", type=_positive, default=None, metavar="N",
                        help="paginate every list method N items at a time")
    parser.add_argument("--two-way", action="store_true",
                        help="add the sample, confirm, list_roots and log_message tools")
    parser.add_argument("--keepalive", type=float, default=None, metavar="SECONDS",
                        help="legacy SSE: ': ping' comment after this many idle seconds")
    parser.add_argument("--grace", type=float, default=2.0, metavar="SECONDS",
                        help="stdio: time running requests get after end of input")
    faults = parser.add_argument_group("fault injection")
    faults.add_argument("--fault", "--faults", dest="faults", nargs="+", action="extend",
                        type=parse_fault, default=[], metavar="SPEC",
                        help="add a fault: KIND[:VALUE][,key=value...] or a JSON object")
    faults.add_argument("--banner", nargs="?", const=_BANNER, default=None, metavar="TEXT",
                        help="stdio: write a non-JSON line on stdout before serving")
    faults.add_argument("--exit-after", type=_positive, default=None, metavar="N",
                        help="stdio: on the Nth request write 'dying' to stderr and exit 3")
    faults.add_argument("--stderr-lines", type=_non_negative, default=0, metavar="N",
                        help="write N lines to stderr at startup")
    faults.add_argument("--ignore-sigterm", action="store_true",
                        help="ignore SIGTERM (only SIGKILL stops the process)")
    parser.set_defaults(run=_serve)
    return parser


def _server(args: argparse.Namespace) -> MCPTestServer:
    from ..testing import demo_server

    options: dict[str, Any] = {
        "two_way": args.two_way, "host": args.host, "port": args.port,
        "page_size": args.page_size,
    }
    if args.transport == "sse":
        options.update(transport="sse", keepalive=args.keepalive)
    elif args.transport == "http":
        options.update(reply=args.reply, stateful=not args.stateless)
    server = demo_server(**options)
    for fault in args.faults:
        server.faults.add(fault)
    return server


async def _serve(args: argparse.Namespace) -> int:
    from ..testing.stdio import serve_lines

    if args.transport != "stdio" and (args.banner is not None or args.exit_after is not None):
        print("error: --banner and --exit-after apply to --stdio only", file=sys.stderr)
        return 2
    if args.ignore_sigterm:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    for line in range(1, args.stderr_lines + 1):
        print(f"mcp-async demo server: stderr line {line} of {args.stderr_lines}",
              file=sys.stderr)
    sys.stderr.flush()
    server = _server(args)
    if args.transport == "stdio":
        await serve_lines(server._open_link, grace=args.grace, banner=args.banner,
                          exit_after=args.exit_after)
        return 0
    url = await server.start()
    try:
        print(url, flush=True)
        kind = "legacy HTTP+SSE" if args.transport == "sse" else (
            f"Streamable HTTP, {args.reply} replies")
        faults = f", {len(args.faults)} fault(s)" if args.faults else ""
        print(f"mcp-async demo server ({kind}{faults}) at {url}; stop with Ctrl-C.\n"
              f"Try: mcp-async tools {url}", file=sys.stderr, flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        signals = (signal.SIGINT,) if args.ignore_sigterm else (signal.SIGINT, signal.SIGTERM)
        for signum in signals:
            with contextlib.suppress(NotImplementedError):  # no signal handlers on Windows
                loop.add_signal_handler(signum, stop.set)
        await stop.wait()
    finally:
        await server.stop()
    return 0
