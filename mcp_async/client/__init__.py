"""The client facades: :class:`~mcp_async.AsyncMCPClient` and the blocking
:class:`~mcp_async.sync.MCPClient`."""
