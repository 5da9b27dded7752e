"""MCP over HTTP: the request pipeline (hooks, then aiohttp or an ASGI app), Streamable
HTTP, legacy HTTP+SSE, SSE streams and the detection of which one a URL speaks."""
