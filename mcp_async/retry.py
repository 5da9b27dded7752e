"""The public import path of :mod:`mcp_async.policies.retry`."""

from .policies.retry import *  # noqa: F403
from .policies.retry import __all__ as __all__
