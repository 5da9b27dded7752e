"""The public import path of :mod:`mcp_async.policies.tracing`."""

from .policies.tracing import *  # noqa: F403
from .policies.tracing import __all__ as __all__
