"""The public import path of :mod:`mcp_async.features.skills`."""

from .features.skills import *  # noqa: F403
from .features.skills import __all__ as __all__
