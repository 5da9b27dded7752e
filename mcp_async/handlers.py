"""The public import path of :mod:`mcp_async.session.handlers`."""

from .session.handlers import *  # noqa: F403
from .session.handlers import __all__ as __all__
