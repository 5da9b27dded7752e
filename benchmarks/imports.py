"""Import time of each client package, in fresh interpreters, relative to ``import aiohttp``.

Each sample is one new ``python -c`` process that times its own import statement
with ``time.perf_counter`` (interpreter start-up excluded). Packages alternate
within each repetition; one unrecorded pass first fills the bytecode caches.

Every package is timed from bytecode, as after a ``pip install`` (which compiles the
installed ``.py`` files): the child processes may write ``__pycache__`` even when the
calling shell sets ``PYTHONDONTWRITEBYTECODE``, otherwise an editable checkout would be
recompiled from source on every sample while site-packages would not.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys

from .servers import REPO_ROOT

#: Package label -> the statement a user of that client would write.
IMPORTS: dict[str, str] = {
    "aiohttp": "import aiohttp",
    "mcp_async": "import mcp_async",
    "mcp": "from mcp import Client",
    "fastmcp": "from fastmcp import Client",
}

_PROGRAM = "import time\nt = time.perf_counter()\n{stmt}\nprint(time.perf_counter() - t)\n"


def import_seconds(statement: str) -> float:
    """Seconds one fresh interpreter spends on ``statement``."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    out = subprocess.run(
        [sys.executable, "-c", _PROGRAM.format(stmt=statement)],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=True, timeout=120,
    )
    return float(out.stdout.strip().splitlines()[-1])


def measure(repetitions: int, packages: list[str] | None = None) -> dict[str, dict[str, float]]:
    """Median import time (ms) of each package and its ratio to aiohttp's."""
    names = [name for name in IMPORTS if packages is None or name in packages or name == "aiohttp"]
    for name in names:
        import_seconds(IMPORTS[name])
    samples: dict[str, list[float]] = {name: [] for name in names}
    for rep in range(repetitions):
        order = names[rep % len(names):] + names[:rep % len(names)]
        for name in order:
            samples[name].append(import_seconds(IMPORTS[name]) * 1000)
    base = statistics.median(samples["aiohttp"])
    return {
        name: {"ms": statistics.median(values), "x_aiohttp": statistics.median(values) / base}
        for name, values in samples.items()
    }
