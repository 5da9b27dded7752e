"""The ``mcp-async`` command."""

from .main import main

__all__ = ["main"]
