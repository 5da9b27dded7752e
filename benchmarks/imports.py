"""Import time of each client package, in fresh interpreters, relative to ``import aiohttp``.

Each sample is one new ``python -c`` process that times its own import statement
with ``time.perf_counter`` (interpreter start-up excluded). Packages alternate
within each repetition; one unrecorded pass first fills the bytecode caches.

Every package is timed from bytecode, as after a ``pip install`` (which compiles the
installed ``.py`` files): the child processes may write ``__pycache__`` even when the
calling shell sets ``PYTHONDONTWRITEBYTECODE``, otherwise an editable checkout would be
recompiled from source on every sample while site-packages would not.

``mcp_async`` is timed as ``from mcp_async import AsyncMCPClient``, like the peers'
``from mcp import Client``: a bare ``import mcp_async`` loads only the errors and
``Timeout`` (the client loads on first access), which would not be comparable.

With a baseline checkout (``--baseline``) ``mcp_async@baseline`` is the same statement
with mcp_async from there: the child puts the checkout first on ``sys.path`` before the timer starts
and fails if the module it imported came from anywhere else.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from pathlib import Path

from .clients import BASELINE
from .servers import REPO_ROOT

#: Package label -> the statement a user of that client would write.
IMPORTS: dict[str, str] = {
    "aiohttp": "import aiohttp",
    "mcp_async": "from mcp_async import AsyncMCPClient",
    "mcp": "from mcp import Client",
    "fastmcp": "from fastmcp import Client",
}

_PROGRAM = ("{prelude}import time\nt = time.perf_counter()\n{stmt}\n"
            "t = time.perf_counter() - t\n{check}print(t)\n")
_BASELINE_PRELUDE = "import sys\nsys.path.insert(0, {path!r})\n"
_BASELINE_CHECK = ("import mcp_async, pathlib\n"
                   "assert pathlib.Path(mcp_async.__file__).resolve().is_relative_to({path!r}), "
                   "mcp_async.__file__\n")


def import_seconds(statement: str, library: Path | None = None) -> float:
    """Seconds one fresh interpreter spends on ``statement`` (mcp_async from ``library``)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    path = str(library) if library is not None else ""
    program = _PROGRAM.format(
        stmt=statement,
        prelude=_BASELINE_PRELUDE.format(path=path) if library is not None else "",
        check=_BASELINE_CHECK.format(path=path) if library is not None else "",
    )
    out = subprocess.run(
        [sys.executable, "-c", program],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=True, timeout=120,
    )
    return float(out.stdout.strip().splitlines()[-1])


def measure(
    repetitions: int, packages: list[str] | None = None, baseline: Path | None = None
) -> dict[str, dict[str, float]]:
    """Median import time (ms) of each package and its ratio to aiohttp's.

    ``baseline``: also ``mcp_async@baseline``, mcp_async imported from that checkout.
    """
    names = [name for name in IMPORTS if packages is None or name in packages or name == "aiohttp"]
    if baseline is not None and "mcp_async" in names:
        names.insert(names.index("mcp_async") + 1, "mcp_async" + BASELINE)

    def sample(name: str) -> float:
        library = baseline if name.endswith(BASELINE) else None
        return import_seconds(IMPORTS[name.removesuffix(BASELINE)], library)

    for name in names:
        sample(name)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for rep in range(repetitions):
        order = names[rep % len(names):] + names[:rep % len(names)]
        for name in order:
            samples[name].append(sample(name) * 1000)
    base = statistics.median(samples["aiohttp"])
    return {
        name: {"ms": statistics.median(values), "x_aiohttp": statistics.median(values) / base}
        for name, values in samples.items()
    }
