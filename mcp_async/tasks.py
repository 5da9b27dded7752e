"""The public import path of :mod:`mcp_async.features.tasks`."""

from .features.tasks import *  # noqa: F403
from .features.tasks import __all__ as __all__
