"""Benchmarks: mcp_async side by side with the official ``mcp`` client, FastMCP and a raw floor.

Run everything with ``python -m benchmarks.run`` (``--quick`` for a smoke-sized run);
see ``docs/performance.md`` for the method and the latest measured table.

This package must stay import-light: the measured worker processes import it, and
their peak RSS must not include anything but the client under test.
"""
