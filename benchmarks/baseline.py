"""Measure an older mcp_async (another checkout) in the same run as this one.

    .venv/bin/python -m benchmarks.run --baseline /tmp/base --clients floor,mcp_async
    .venv/bin/python -m benchmarks.baseline /tmp/base      # the pre-flight check alone

``--baseline PATH`` names another checkout of this repository (e.g. a ``git worktree``
of an older commit). Every ``mcp_async*`` client of the run gets a twin
``<client>@baseline``: the same adapter (``benchmarks/clients``, this checkout's) in a
worker that imports ``mcp_async`` from PATH. The worker puts PATH first on
``sys.path`` itself (:func:`use`): ``PYTHONPATH`` would not do, since ``python -m``
puts the working directory, this repository, ahead of it. The report then pairs each
client with its twin per round and cell (``benchmarks.report.baseline_section``).

This module stays import-light: the measured workers import it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .clients import BASELINE

#: Exit status of a worker whose mcp_async is not the baseline's: the driver stops the run.
WRONG_LIBRARY = 3


class BaselineError(Exception):
    """The baseline checkout is unusable, or its mcp_async was not the one imported."""


def validate(path: str | Path) -> Path:
    """``path`` resolved, if it is a checkout holding ``mcp_async/__init__.py``."""
    root = Path(path).expanduser().resolve()
    if not (root / "mcp_async" / "__init__.py").is_file():
        raise BaselineError(f"--baseline {path}: no mcp_async/__init__.py there; give the root "
                            "of another checkout of this repository (e.g. a git worktree)")
    return root


def with_baselines(clients: list[str]) -> list[str]:
    """``clients`` with ``<name>@baseline`` right after every ``mcp_async*`` client.

    Adjacent twins run back to back in every round (the order rotates as a whole), so
    the machine's drift hits both alike.
    """
    out: list[str] = []
    for client in clients:
        if client.endswith(BASELINE):
            continue
        out.append(client)
        if client.startswith("mcp_async"):
            out.append(client + BASELINE)
    return out


def use(path: str | Path) -> str:
    """Import ``mcp_async`` from the checkout ``path``; returns its ``__file__``.

    Must run before anything imports mcp_async. Raises :class:`BaselineError` if the
    module imported is not the one under ``path`` (a measurement of the wrong library
    must never pass for the baseline).
    """
    root = validate(path)
    if "mcp_async" in sys.modules:
        raise BaselineError("mcp_async was imported before the baseline path was set")
    sys.path.insert(0, str(root))
    import mcp_async

    where = Path(mcp_async.__file__ or "").resolve()
    if not where.is_relative_to(root):
        raise BaselineError(f"mcp_async@baseline imported {where}, not the one under {root}")
    return str(where)


def describe(path: Path) -> str:
    """``path`` and, if it is a git checkout, its commit (for the report's heading)."""
    import subprocess

    try:
        done = subprocess.run(["git", "-C", str(path), "log", "-1", "--format=%h, %cs"],
                              capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return f"`{path}`"
    commit = done.stdout.strip() if done.returncode == 0 else ""
    return f"`{path}` ({commit})" if commit else f"`{path}`"


def check(path: Path, repo_root: Path) -> dict[str, str]:
    """Run :func:`main` in a fresh interpreter; raise :class:`BaselineError` if it fails.

    Fails early and loudly where every baseline worker would fail later (the adapters
    need names the old checkout lacks, or the import path is wrong).
    """
    import os
    import subprocess

    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    done = subprocess.run([sys.executable, "-m", "benchmarks.baseline", str(path)],
                          cwd=repo_root, env=env, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-5:])
        raise BaselineError(f"the baseline {path} cannot be measured:\n{tail}")
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main(argv: list[str] | None = None) -> None:
    """Import mcp_async and the adapter from the baseline; byte-compile both checkouts.

    The workers run without writing bytecode when the shell says so; compiling both
    libraries here, as a ``pip install`` would, keeps the twins' start-up and peak RSS
    comparable (neither recompiles its sources in every worker).
    """
    import compileall

    path = Path((argv if argv is not None else sys.argv[1:])[0])
    try:
        where = use(path)
    except BaselineError as exc:
        raise SystemExit(f"benchmarks.baseline: {exc}") from exc
    import mcp_async
    from benchmarks.clients import mcp_async_adapter  # noqa: F401  (fails if incompatible)

    current = Path(__file__).resolve().parent.parent / "mcp_async"
    for library in (Path(where).parent, current):
        compileall.compile_dir(library, quiet=1)
    print(json.dumps({"mcp_async": where,
                      "version": str(getattr(mcp_async, "__version__", "?"))}))


if __name__ == "__main__":
    main()
