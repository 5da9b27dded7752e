"""The public import path of :mod:`mcp_async.features.listen`."""

from .features.listen import *  # noqa: F403
from .features.listen import __all__ as __all__
