"""Transports: the layer that moves MCP messages, and the only one that does I/O.

Message transports (:mod:`.message`): :mod:`.streamable_http`, :mod:`.legacy_sse`,
:mod:`.stdio` and :mod:`.memory`, with :mod:`.detect` choosing for a URL. The HTTP ones
send through the hook pipeline down to aiohttp (:mod:`.http`, the only module that
imports it); the request and response types of that pipeline are in :mod:`.base`.
"""

from .http.base import BytesResponse, Handler, HTTPRequest, HTTPResponse, Transport

__all__ = ["BytesResponse", "HTTPRequest", "HTTPResponse", "Handler", "Transport"]
