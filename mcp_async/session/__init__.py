"""The session engine: one MCP session over any message transport."""
