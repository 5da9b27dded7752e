"""Helpers shared by the benchmark server processes (no third-party imports)."""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sys
import threading
from collections.abc import Callable

HOST = "127.0.0.1"


def bind_socket(port: int = 0) -> socket.socket:
    """A listening TCP socket on 127.0.0.1 (port 0: any free port).

    ``proto`` must say TCP: asyncio sets ``TCP_NODELAY`` on accepted connections only
    when it does, and without it uvicorn's separate header/body writes meet the
    client's delayed ACK (40 ms per reply on a keep-alive connection).
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, port))
    sock.listen(1024)
    sock.setblocking(False)
    return sock


def announce(sock: socket.socket) -> None:
    """Tell the launcher which port we listen on (one ``READY <port>`` line on stdout)."""
    print(f"READY {sock.getsockname()[1]}", flush=True)


def exit_when_stdin_closes() -> None:
    """Exit as soon as stdin reaches EOF: the launcher holds it open, so no orphan survives it."""

    def watch() -> None:
        try:
            while sys.stdin.buffer.read(1024):
                pass
        except (OSError, ValueError):
            pass
        os._exit(0)

    threading.Thread(target=watch, name="stdin-watch", daemon=True).start()


def run_protocol_server(make_protocol: Callable[[], asyncio.Protocol], description: str,
                        argv: list[str] | None = None) -> None:
    """Command line of a benchmark server: ``--port`` and ``--exit-on-stdin-eof``; listen
    on 127.0.0.1, announce the port, and serve ``make_protocol()`` connections forever."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--exit-on-stdin-eof", action="store_true")
    args = parser.parse_args(argv)
    if args.exit_on_stdin_eof:
        exit_when_stdin_closes()

    async def serve() -> None:
        sock = bind_socket(args.port)
        server = await asyncio.get_running_loop().create_server(make_protocol, sock=sock)
        announce(sock)
        async with server:
            await server.serve_forever()

    asyncio.run(serve())
