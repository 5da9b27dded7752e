"""Many servers as one: :class:`~mcp_async.MCPClientGroup`, ``mcpServers`` configuration
files and the :class:`~mcp_async.ClientPool` for gateways."""
