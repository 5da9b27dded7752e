"""The public import path of :mod:`mcp_async.group.pool`."""

from .group.pool import *  # noqa: F403
from .group.pool import __all__ as __all__
