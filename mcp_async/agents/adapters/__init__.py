"""Framework adapters: the tools of one :class:`~mcp_async.AsyncMCPClient` or
:class:`~mcp_async.MCPClientGroup` for an agent framework, every call on that client's
one MCP session, through one :class:`~mcp_async.agents.ToolRunner` (so a
:class:`~mcp_async.agents.ToolPolicy` and a :class:`~mcp_async.agents.ResultBudget`
apply). Each module imports its framework, and raises :class:`~mcp_async.ConfigError`
naming the extra to install when it is missing; this package imports none of them.

* :mod:`mcp_async.agents.adapters.pydantic_ai`: ``MCPAsyncToolset``, a PydanticAI
  toolset (``pip install 'mcp-async[pydantic-ai]'``).
* :mod:`mcp_async.agents.adapters.langchain`: ``langchain_tools()``, ``langchain-core``
  tools (``pip install 'mcp-async[langchain]'``).
* :mod:`mcp_async.agents.adapters.openai_agents`: ``MCPAsyncServer``, an OpenAI Agents
  SDK MCP server for ``Agent(mcp_servers=[...])``
  (``pip install 'mcp-async[openai-agents]'``).

The adapters never open or close the client: its owner does, around as many runs as it
likes. See docs/agents.md, "Framework adapters", for how each framework sees errors.
"""
