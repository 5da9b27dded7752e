"""Transports: the layer that moves MCP messages, and the only one that does I/O.

Message transports implement the contract in :mod:`.message`: :mod:`.stdio`, :mod:`.memory`
and the HTTP ones in :mod:`.http` (Streamable HTTP, legacy HTTP+SSE, and the detection that
chooses between them for a URL). The HTTP ones send through the hook pipeline down to an
HTTP layer: aiohttp by default, or an ASGI application in the same process.
"""

from .http.base import BytesResponse, Handler, HTTPRequest, HTTPResponse, Transport

__all__ = ["BytesResponse", "HTTPRequest", "HTTPResponse", "Handler", "Transport"]
