"""``python -m mcp_async`` runs the ``mcp-async`` command."""

import sys

from .cli import main

sys.exit(main())
