"""``python -m mcp_async`` runs the ``mcp-async`` command."""

import sys

from .cli.main import main

sys.exit(main())
