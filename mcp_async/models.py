"""The public import path of :mod:`mcp_async.protocol.models`."""

from .protocol.models import *  # noqa: F403
from .protocol.models import __all__ as __all__
