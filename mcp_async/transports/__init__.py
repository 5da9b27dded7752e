"""Transports: the only layer that touches the network (aiohttp)."""

from .base import BytesResponse, Handler, HTTPRequest, HTTPResponse, Transport

__all__ = ["BytesResponse", "HTTPRequest", "HTTPResponse", "Handler", "Transport"]
