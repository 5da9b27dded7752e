"""Call a tool 200 times, at most 16 calls at once, with a progress bar.

Run it with ``python examples/fan_out_progress.py``. The server is
``mcp_async.testing.demo_server()`` on 127.0.0.1, inside this process.

``client.call_tools`` keeps at most ``concurrency`` calls in flight over one client (one
connection pool, one MCP session) and returns one outcome per input, in input order. A
failing call never disturbs the others: its outcome holds the exception instead.

``progress=True`` draws a ready progress bar with tqdm or rich, whichever is installed
(``pip install 'mcp-async[progress]'`` installs tqdm); it works in a terminal and in a
Jupyter notebook (tqdm's notebook widget). Without either, this example passes its own
``progress(done, total)`` function instead, which is also how to feed any other display.
"""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from collections.abc import Callable

from mcp_async import AsyncMCPClient, ToolCall
from mcp_async.testing import demo_server

WIDTH = 40


def show_progress(done: int, total: int | None) -> None:
    """Redraw a text progress bar on stderr after each call.

    ``total`` is None when the number of calls is not known in advance (a generator or
    an async iterable as input); then only the count is shown.
    """
    if total is None:
        line = f"{done} done"
    else:
        filled = WIDTH * done // total
        line = f"[{'#' * filled}{'.' * (WIDTH - filled)}] {done}/{total}"
    # "\r" goes back to the start of the line, so the bar is redrawn in place.
    sys.stderr.write("\r" + line)
    sys.stderr.flush()


def progress_option() -> bool | Callable[[int, int | None], None]:
    """``True`` (a tqdm or rich bar) when one of them is installed, else our own bar."""
    if any(importlib.util.find_spec(name) for name in ("tqdm", "rich")):
        return True
    return show_progress


async def main() -> None:
    async with demo_server() as server, AsyncMCPClient(server.url) as client:
        # A tuple (name, arguments) is the short form; ToolCall carries per-call settings.
        # "slow" sleeps on the server (20 ms here), so calls really overlap.
        calls: list[ToolCall | tuple[str, dict[str, object]]] = [
            ("slow", {"seconds": 0.02}) for _ in range(199)
        ]
        calls.append(ToolCall("fail"))  # one call that fails, to show it stays isolated

        progress = progress_option()
        batch = await client.call_tools(
            calls,
            concurrency=16,          # calls in flight at once
            progress=progress,       # a bar, or a function called after each call
            raise_on_error=True,     # a tool's isError result becomes a ToolError outcome
        )
        if progress is show_progress:
            sys.stderr.write("\n")

        # Outcomes come back in input order, one per call.
        print(f"{len(batch.succeeded)} succeeded, {len(batch.failed)} failed")
        for outcome in batch.failed:
            print(f"  call #{outcome.index} failed: {type(outcome.error).__name__}")
        print("first result:", batch[0].unwrap().text)
        print(f"the server saw at most {server.stats.max_in_flight} calls at once "
              f"over {server.stats.connections} connections")


if __name__ == "__main__":
    asyncio.run(main())
