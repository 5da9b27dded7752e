"""``python -m mcp_async.testing``: run the demo server (see :func:`mcp_async.testing.main`)."""

import sys

from .server import main

sys.exit(main())
