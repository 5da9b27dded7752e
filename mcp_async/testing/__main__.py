"""``python -m mcp_async.testing``: run the demo server (see :func:`mcp_async.testing.main`)."""

import sys

from .cli import main

sys.exit(main())
