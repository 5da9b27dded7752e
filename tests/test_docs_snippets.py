"""The Python code blocks of README.md and docs/*.md: every one compiles, marked ones run.

Convention (also in docs/testing.md, "Code blocks in these docs"): a ```python block
is compiled (top-level ``await`` and ``async with`` allowed, as in an asyncio REPL). An
HTML comment on the line just before the fence changes that:

* ``<!-- docs-test: run -->``: the block is also run, in a fresh interpreter. Top-level
  ``await`` works, and every ``async def test_*()`` it defines without parameters is
  awaited afterwards, so a block may show a test and have it checked. A block marked
  ``run`` must be self-contained (its own imports, loopback servers only).
* ``<!-- docs-test: skip (reason) -->``: the block is not even compiled (pseudo-code).

Blocks included from examples/ (``--8<--`` lines, docs/examples.md) are the example
programs themselves, which tests/test_examples.py runs.

The API reference (docs/reference/*.md) is checked too: every public name of the modules
in ``PUBLIC_MODULES`` has a ``::: name`` directive, or is exported by a module that has one.
"""

from __future__ import annotations

import ast
import importlib
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

_BLOCK = re.compile(
    r"(?:^<!--\s*docs-test:\s*(?P<mode>\w+)[^>]*-->\n)?^```python[^\n]*\n(?P<code>.*?)^```",
    re.MULTILINE | re.DOTALL,
)


@dataclass(frozen=True)
class Block:
    page: Path
    line: int
    mode: str  # "compile", "run" or "skip"
    code: str

    @property
    def id(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def _blocks() -> list[Block]:
    blocks = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for match in _BLOCK.finditer(text):
            code = match.group("code")
            if code.lstrip().startswith("--8<--"):
                continue  # an included example program
            line = text.count("\n", 0, match.start("code"))  # the fence's line, 1-based
            blocks.append(Block(page, line, match.group("mode") or "compile", code))
    return blocks


BLOCKS = _blocks()

# Runs a block: top-level await allowed, then awaits its parameterless async test_* functions.
_RUNNER = textwrap.dedent('''
    import ast, asyncio, inspect, sys
    source = sys.stdin.read()
    code = compile(source, sys.argv[1], "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    namespace = {"__name__": "__docs_block__"}

    async def main():
        result = eval(code, namespace)
        if inspect.iscoroutine(result):
            await result
        for name, value in list(namespace.items()):
            if (name.startswith("test_") and inspect.iscoroutinefunction(value)
                    and not inspect.signature(value).parameters):
                await value()
                print("ran", name)

    asyncio.run(main())
''')


def test_the_convention_finds_blocks() -> None:
    modes = {block.mode for block in BLOCKS}
    assert len(BLOCKS) >= 30 and "run" in modes
    assert modes <= {"compile", "run", "skip"}, modes


@pytest.mark.parametrize("block", BLOCKS, ids=lambda block: block.id)
def test_block_compiles(block: Block) -> None:
    if block.mode == "skip":
        pytest.skip("marked docs-test: skip")
    compile(block.code, block.id, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT | ast.PyCF_ONLY_AST)


@pytest.mark.parametrize(
    "block", [b for b in BLOCKS if b.mode == "run"], ids=lambda block: block.id
)
def test_block_runs(block: Block) -> None:
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", _RUNNER, block.id],
        input=block.code, capture_output=True, text=True, timeout=60, cwd=ROOT,
    )
    assert done.returncode == 0, f"{block.id} failed:\n{done.stdout}\n{done.stderr}"


# ---------------------------------------------------------------------------- reference

_DIRECTIVE = re.compile(r"^:::\s*([\w.]+)", re.MULTILINE)
PUBLIC_MODULES = [
    "mcp_async", "mcp_async.auth", "mcp_async.handlers", "mcp_async.testing",
    "mcp_async.sync", "mcp_async.tracing", "mcp_async.pytest_plugin",
]


def _documented() -> set[str]:
    """Dotted paths named by ``:::`` directives in docs/reference/."""
    found = set()
    for page in (ROOT / "docs" / "reference").glob("*.md"):
        found.update(_DIRECTIVE.findall(page.read_text(encoding="utf-8")))
    return found


def _exports(path: str, name: str, value: object) -> bool:
    """Whether ``path`` is a module whose ``__all__`` has ``name`` bound to ``value``."""
    try:
        documented_module = importlib.import_module(path)
    except ImportError:
        return False  # a class or function path, not a module
    return name in getattr(documented_module, "__all__", ()) and (
        getattr(documented_module, name, None) is value
    )


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_reference_covers_every_public_name(module_name: str) -> None:
    documented = _documented()
    module = importlib.import_module(module_name)
    missing = []
    for name in module.__all__:
        if name.startswith("__") or f"{module_name}.{name}" in documented:
            continue
        if module_name in documented:
            continue  # the whole module is documented, its __all__ with it
        value = getattr(module, name)
        if isinstance(value, type(module)) and value.__name__ in documented:
            continue  # a submodule documented as a whole
        if any(path.endswith(f".{name}") for path in documented):
            continue  # documented under another public path
        if not any(_exports(path, name, value) for path in documented):
            missing.append(name)
    assert not missing, f"not in docs/reference/*.md: {missing}"
