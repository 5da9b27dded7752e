"""The public import path of :mod:`mcp_async.session.elicitation`."""

from .session.elicitation import *  # noqa: F403
from .session.elicitation import __all__ as __all__
