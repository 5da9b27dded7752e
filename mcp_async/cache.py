"""The public import path of :mod:`mcp_async.features.cache`."""

from .features.cache import *  # noqa: F403
from .features.cache import __all__ as __all__
