"""The public import path of :mod:`mcp_async.client.blocking`."""

from .client.blocking import *  # noqa: F403
from .client.blocking import __all__ as __all__
