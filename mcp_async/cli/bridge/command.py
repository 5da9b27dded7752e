"""``mcp-async bridge``: a remote MCP server as a local stdio server, and the reverse.

Serve a remote server (Streamable HTTP or legacy HTTP+SSE, either protocol era,
OAuth included) on stdin/stdout, for a host that can only start stdio servers:

    mcp-async bridge https://mcp.example.com/mcp
    mcp-async bridge https://mcp.example.com/mcp --oauth
    mcp-async bridge https://mcp.example.com/mcp --client-id svc-1   (secret in
                                                    $MCP_ASYNC_CLIENT_SECRET)

Every message passes both ways: the host's requests and notifications go to the remote
server; the remote server's notifications and requests (sampling, elicitation, roots)
come back to the host. The host's own ``initialize`` opens the remote session with the
host's capabilities and client info, so the remote server sees the host as it is.
Progress and cancellation pass through; expired sessions, retries of idempotent
requests and token refreshes are handled on the remote side, unseen by the host.

The reverse: a local stdio server as a Streamable HTTP endpoint on loopback, one
process per HTTP session:

    mcp-async bridge --http 127.0.0.1:8808 -- npx -y @modelcontextprotocol/server-everything

It refuses addresses other than loopback unless --allow-non-loopback is given, and
requests whose Origin or Host is not a loopback name (DNS rebinding) get 403.
See docs/bridge.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..._exceptions import ConfigError
from ..text import plain
from .http_bridge import MAX_SESSIONS, HTTPBridge
from .lines import HostLines, std_streams
from .stdio_bridge import StdioBridge

if TYPE_CHECKING:
    from ...client.async_client import AsyncMCPClient
    from ...transports.http.hooks import Hook

__all__ = ["SECRET_ENV", "add_bridge_parser"]

logger = logging.getLogger("mcp_async.bridge")

#: Environment variable holding the client secret for --client-id.
SECRET_ENV = "MCP_ASYNC_CLIENT_SECRET"


def _default_token_file() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(Path.home(), ".config")
    return Path(base) / "mcp-async" / "tokens.json"


_EPILOG = """\
examples:
  mcp-async bridge https://mcp.example.com/mcp
  mcp-async bridge https://mcp.example.com/mcp --oauth
  MCP_ASYNC_CLIENT_SECRET=... mcp-async bridge https://mcp.example.com/mcp --client-id svc-1
  mcp-async bridge http://127.0.0.1:9000/sse --transport sse
  mcp-async bridge --http 127.0.0.1:8808 -- npx -y @modelcontextprotocol/server-everything

Log lines go to stderr; stdout carries only MCP messages. See docs/bridge.md for host
configuration (Claude Desktop, Cursor, VS Code)."""


def add_bridge_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``bridge`` subcommand to an ``argparse`` subparsers object."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "bridge",
        help="serve a remote MCP server over stdio, or a stdio server over HTTP",
        description=plain(__doc__ or ""),
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        usage="%(prog)s [options] URL\n       %(prog)s --http HOST:PORT [options] -- COMMAND "
              "[ARG ...]",
    )
    parser.add_argument("url", nargs="?", metavar="URL", help="the remote server's MCP URL")
    remote = parser.add_argument_group("to a remote server (URL)")
    remote.add_argument("--transport", choices=("auto", "streamable-http", "sse"),
                        default="auto", help="the remote transport (default: detect)")
    remote.add_argument("--protocol", default="auto",
                        help="the protocol era with the remote server: auto (default), "
                             "legacy, or a version")
    remote.add_argument("--header", "-H", action="append", default=[],
                        metavar="'NAME: VALUE'", help="an HTTP header for every request")
    remote.add_argument("--token", help="a bearer token; better: --token-env VAR")
    remote.add_argument("--token-env", metavar="VAR",
                        help="read the bearer token from this environment variable")
    remote.add_argument("--oauth", action="store_true",
                        help="sign in with OAuth through the browser (authorization code + "
                             "PKCE); tokens are kept in --token-file")
    remote.add_argument("--client-id", help="a pre-registered OAuth client id; with a secret "
                        f"in ${SECRET_ENV} it uses the client_credentials grant")
    remote.add_argument("--scope", help="OAuth scopes to ask for (client credentials)")
    remote.add_argument("--issuer", help="the authorization server to accept (its issuer)")
    remote.add_argument("--token-file", default=None, metavar="PATH",
                        help="where OAuth tokens are kept (default: "
                             "$XDG_CONFIG_HOME/mcp-async/tokens.json)")
    remote.add_argument("--callback-port", type=int, default=0, metavar="PORT",
                        help="loopback port of the OAuth redirect (default: a free one)")
    remote.add_argument("--timeout", type=float, default=600.0, metavar="SECONDS",
                        help="bound of each request, restarted by progress (default 600; "
                             "0: only the host's own)")
    remote.add_argument("--connect-timeout", type=float, default=120.0, metavar="SECONDS",
                        help="bound of opening the remote session, sign-in included "
                             "(default 120)")
    remote.add_argument("--retries", type=int, default=3, metavar="N",
                        help="attempts of an idempotent request (default 3; 1: no retry)")
    local = parser.add_argument_group("from a local stdio server (--http ... -- COMMAND)")
    local.add_argument("--http", metavar="HOST:PORT",
                       help="serve the command after -- as Streamable HTTP here")
    local.add_argument("--path", default="/mcp", help="the endpoint path (default /mcp)")
    local.add_argument("--max-sessions", type=int, default=MAX_SESSIONS, metavar="N",
                       help=f"most sessions (processes) at once (default {MAX_SESSIONS})")
    local.add_argument("--allow-origin", action="append", default=[], metavar="ORIGIN",
                       help="also accept requests from this Origin (repeatable)")
    local.add_argument("--allow-non-loopback", action="store_true",
                       help="allow listening on a non-loopback address (dangerous)")
    parser.add_argument("--verbose", "-v", action="store_true", help="log more on stderr")
    parser.set_defaults(run=_run)
    return parser


async def _run(args: argparse.Namespace) -> int:
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, stream=sys.stderr,
        format="mcp-async bridge: %(levelname)s %(message)s",
    )
    command = getattr(args, "server_command", None)
    if args.http is not None:
        if args.url is not None:
            raise ConfigError("--http serves a command after --, not a URL")
        return await _serve_http(args, command or [])
    if command:
        raise ConfigError("a command after -- needs --http HOST:PORT")
    if args.url is None:
        raise ConfigError("give the remote server's URL (or --http HOST:PORT -- COMMAND)")
    return await _serve_stdio(args)


def _headers(pairs: list[str]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition(":")
        if not sep or not name.strip():
            raise ConfigError(f"--header: expected 'Name: value', got {pair!r}")
        headers[name.strip()] = value.strip()
    return headers


def _auth(args: argparse.Namespace) -> str | Hook | None:
    token: str | None = args.token
    if args.token_env is not None:
        token = os.environ.get(args.token_env)
        if not token:
            raise ConfigError(f"--token-env: the environment variable {args.token_env} is empty")
    secret = os.environ.get(SECRET_ENV) or None
    oauth = args.oauth or args.client_id is not None
    if token is not None and oauth:
        raise ConfigError("use either a bearer token or OAuth (--oauth/--client-id)")
    if not oauth:
        return token
    from ...auth.storage import FileTokenStorage

    storage = FileTokenStorage(args.token_file or _default_token_file())
    if args.client_id is not None and secret is not None:
        from ...auth.oauth import ClientCredentials

        return ClientCredentials(args.client_id, secret, scope=args.scope, issuer=args.issuer,
                                 storage=storage)
    from ...auth.callback import LoopbackCallbackHandler, open_browser
    from ...auth.oauth import OAuth

    return OAuth(client_id=args.client_id, issuer=args.issuer, storage=storage,
                 redirect_handler=open_browser, client_name="mcp-async bridge",
                 callback_handler=LoopbackCallbackHandler(port=args.callback_port))


async def _serve_stdio(args: argparse.Namespace) -> int:
    from ...client.async_client import DEFAULT_LOG_LEVEL, AsyncMCPClient
    from ...policies.retry import RetryPolicy

    if args.retries < 1:
        raise ConfigError("--retries must be at least 1")
    if args.timeout < 0 or args.connect_timeout <= 0:
        raise ConfigError("--timeout must be >= 0 and --connect-timeout > 0")
    auth = _auth(args)
    headers = _headers(args.header)

    def make(capabilities: dict[str, Any], info: dict[str, Any]) -> AsyncMCPClient:
        return AsyncMCPClient(
            args.url, transport=args.transport, headers=headers or None, auth=auth,
            retry=RetryPolicy(attempts=args.retries) if args.retries > 1 else None,
            capabilities=capabilities, client_info=info, protocol=args.protocol,
            cache=False, log_level=DEFAULT_LOG_LEVEL,
        )

    make({}, {"name": "mcp-async bridge", "version": "0"})  # bad options fail now, not later
    reader, writer = await std_streams()
    bridge = StdioBridge(make, HostLines(reader, writer),
                         timeout=args.timeout or None, connect_timeout=args.connect_timeout)
    loop = asyncio.get_running_loop()
    main = asyncio.current_task()
    assert main is not None
    with contextlib.suppress(NotImplementedError):
        loop.add_signal_handler(signal.SIGTERM, main.cancel)
    try:
        return await bridge.run()
    except asyncio.CancelledError:
        return 0
    finally:
        with contextlib.suppress(NotImplementedError):
            loop.remove_signal_handler(signal.SIGTERM)
        writer.close()


async def _serve_http(args: argparse.Namespace, command: list[str]) -> int:
    host, _, port_text = args.http.rpartition(":")
    if not host or not port_text.isdigit():
        raise ConfigError(f"--http must be HOST:PORT, got {args.http!r}")
    bridge = HTTPBridge(
        command, host=host.strip("[]") if host.startswith("[") else host, port=int(port_text),
        path=args.path, max_sessions=args.max_sessions,
        allow_non_loopback=args.allow_non_loopback, allowed_origins=tuple(args.allow_origin),
    )
    url = await bridge.start()
    logger.info("serving %s at %s", " ".join(command), url)
    print(f"listening on {url}", file=sys.stderr, flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await bridge.aclose()
    return 0
