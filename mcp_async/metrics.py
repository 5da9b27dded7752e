"""The public import path of :mod:`mcp_async.policies.metrics`."""

from .policies.metrics import *  # noqa: F403
from .policies.metrics import __all__ as __all__
