"""The public import path of :mod:`mcp_async.policies.ratelimit`."""

from .policies.ratelimit import *  # noqa: F403
from .policies.ratelimit import __all__ as __all__
