"""A resumable MCP server built with the official `mcp` Python SDK (2.3.0).

`MCPServer.streamable_http_app(event_store=..., retry_interval=...)` on uvicorn, bound
to 127.0.0.1, with an in-memory event store written here against the SDK's
`EventStore` interface. Every SSE event the SDK sends is stored under an id, and a GET
with `Last-Event-ID` replays what came after it: the SDK's own resumption.

What the server saw is recorded and served as JSON at `GET /record`, so that tests
can assert on the server's side of the conversation:

* `replays`: one entry per `Last-Event-ID` replay (the id, and the JSON-RPC messages
  replayed after it: ids of responses, methods of notifications);
* `cancelled`: the request ids of tool calls that the SDK cancelled because a
  `notifications/cancelled` arrived for them;
* `stored`: how many events the store holds.

Run it by hand:

    .venv/bin/python tests/interop/sdk_resumable_server.py --port 8766 [--retry-ms 50]

`GET /healthz` answers `ok` once the app is running. With `--exit-on-stdin-eof` the
process exits when its stdin closes (the test launcher holds it open).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import threading
import warnings
from dataclasses import dataclass
from typing import Any

import anyio
import uvicorn
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.streamable_http import EventCallback, EventId, EventMessage, EventStore, StreamId
from mcp.shared.exceptions import MCPDeprecationWarning
from mcp_types import JSONRPCMessage
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse

SERVER_NAME = "mcp-async-interop-resumable-sdk-server"


@dataclass
class _Stored:
    stream_id: StreamId
    message: JSONRPCMessage | None  # None: a priming event (an id and no data)


class MemoryEventStore(EventStore):
    """Events in arrival order, ids "1", "2", ...; a replay sends the events of the same
    stream that came after the given id, priming events left out."""

    def __init__(self) -> None:
        self._events: list[tuple[EventId, _Stored]] = []
        self._index: dict[EventId, int] = {}
        self.replays: list[dict[str, Any]] = []

    async def store_event(self, stream_id: StreamId, message: JSONRPCMessage | None) -> EventId:
        event_id = str(len(self._events) + 1)
        self._index[event_id] = len(self._events)
        self._events.append((event_id, _Stored(stream_id, message)))
        return event_id

    async def replay_events_after(
        self, last_event_id: EventId, send_callback: EventCallback
    ) -> StreamId | None:
        position = self._index.get(last_event_id)
        record: dict[str, Any] = {"last_event_id": last_event_id, "sent": []}
        self.replays.append(record)
        if position is None:
            return None
        stream_id = self._events[position][1].stream_id
        for event_id, stored in self._events[position + 1 :]:
            if stored.stream_id != stream_id or stored.message is None:
                continue
            await send_callback(EventMessage(stored.message, event_id))
            record["sent"].append(_describe(stored.message))
        return stream_id

    @property
    def stored(self) -> int:
        # Not __len__: the SDK tests the store for truth, and an empty one would be falsy.
        return len(self._events)


def _describe(message: JSONRPCMessage) -> dict[str, Any]:
    raw = message.model_dump(by_alias=True, exclude_none=True)
    return {key: raw[key] for key in ("id", "method") if key in raw}


def build_server(store: MemoryEventStore) -> MCPServer:
    mcp = MCPServer(SERVER_NAME, version="1.0.0", log_level="WARNING")
    cancelled: list[Any] = []

    @mcp.tool(description="Report `steps` progress notifications `delay` s apart, then return.")
    async def steps(ctx: Context, steps: int = 3, delay: float = 0.05) -> str:
        for i in range(1, steps + 1):
            await ctx.report_progress(i, steps, f"step {i}/{steps}")
            await asyncio.sleep(delay)
        return f"done {steps}"

    @mcp.tool(description="Wait up to `seconds`; records it if the client cancels it.")
    async def wait(ctx: Context, seconds: float = 30.0) -> str:
        try:
            await asyncio.sleep(seconds)
        except (asyncio.CancelledError, anyio.get_cancelled_exc_class()):
            cancelled.append(ctx.request_id)
            raise
        return f"waited {seconds}"

    @mcp.tool(description="Echo the given text back.")
    def echo(text: str) -> str:
        return text

    @mcp.custom_route("/healthz", methods=["GET"])
    async def healthz(request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    @mcp.custom_route("/record", methods=["GET"])
    async def record(request: Request) -> JSONResponse:
        return JSONResponse(
            {"replays": store.replays, "cancelled": cancelled, "stored": store.stored}
        )

    return mcp


def _exit_when_stdin_closes() -> None:
    def watch() -> None:
        try:
            while os.read(0, 4096):
                pass
        except OSError:
            pass
        os._exit(0)

    threading.Thread(target=watch, name="stdin-watchdog", daemon=True).start()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True, help="TCP port on 127.0.0.1")
    parser.add_argument("--retry-ms", type=int, default=50, help="SSE retry sent to clients")
    parser.add_argument("--exit-on-stdin-eof", action="store_true")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", category=MCPDeprecationWarning)
    if args.exit_on_stdin_eof:
        _exit_when_stdin_closes()
    store = MemoryEventStore()
    app = build_server(store).streamable_http_app(
        streamable_http_path="/mcp",
        event_store=store,
        retry_interval=args.retry_ms,
        host="127.0.0.1",
    )
    config = uvicorn.Config(
        app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False
    )
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
