"""The Python code blocks of README.md and docs/*.md: each one runs or is type-checked.

Convention (also in README.md, "Code blocks in these docs"). An HTML comment on the line
just before a ```python fence says what is done with the block:

* ``<!-- docs-test: run -->``: run in a fresh interpreter. Top-level ``await`` works,
  and every ``async def test_*()`` it defines without parameters is awaited afterwards,
  so a block may show a test and have it checked. It must be self-contained (its own
  imports, loopback servers only).
* ``<!-- docs-test: server -->``: run in a fresh interpreter against the embedded demo
  server (``mcp_async.testing.demo_server(tasks=True, two_way=True)`` on loopback).
  ``url`` is its URL, and so is every ``http://127.0.0.1:8000/mcp`` in the block; a block
  with top-level ``await`` also gets ``client``, an open ``AsyncMCPClient(url)``. Like a
  checked block it may use ``asyncio``, ``os``, ``time`` and ``mcp_async``'s names.
* no comment: type-checked with mypy (``check_untyped_defs``; top-level ``await`` and
  ``async with`` allowed). The block may use, without defining them, what every page
  assumes the reader has: ``asyncio``, ``os``, ``time``, the names of ``mcp_async``'s
  ``__all__``, ``url`` (a ``str``), ``client`` (an ``AsyncMCPClient``), ``group`` (an
  ``MCPClientGroup``) and the stand-ins for the reader's own values in
  ``READER_NAMES`` (typed ``Any``). Any other unknown name, attribute or keyword fails.
* ``<!-- docs-test: skip (reason) -->``: neither run nor checked; the reason is
  required (pseudo-code, or a fragment no check can make sense of).

Blocks included from examples/ (``--8<--`` lines, docs/examples.md) are the example
programs themselves, which tests/test_examples.py runs.

The API reference (docs/reference/*.md) is checked too: every public name of the modules
in ``PUBLIC_MODULES`` has a ``::: name`` directive, or is exported by a module that has one.
"""

from __future__ import annotations

import ast
import fcntl
import functools
import importlib
import inspect
import re
import subprocess
import sys
import textwrap
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
MODES = ("check", "run", "server", "skip")

_BLOCK = re.compile(
    r"(?:^[ \t]*<!--\s*docs-test:\s*(?P<mode>\w+)(?P<note>[^>]*)-->\n)?"
    r"^(?P<indent>[ \t]*)```python[^\n]*\n(?P<code>.*?)^(?P=indent)```",
    re.MULTILINE | re.DOTALL,
)


@dataclass(frozen=True)
class Block:
    page: Path
    line: int
    mode: str  # one of MODES
    code: str
    note: str = ""

    @property
    def id(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"

    @property
    def awaits(self) -> bool:
        """Whether the block awaits at top level (``await``, ``async with``/``for``)."""
        code = compile(self.code, self.id, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
        return bool(code.co_flags & inspect.CO_COROUTINE)


def _blocks() -> list[Block]:
    blocks = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for match in _BLOCK.finditer(text):
            code = textwrap.dedent(match.group("code"))  # a block may sit in a list item
            if code.lstrip().startswith("--8<--"):
                continue  # an included example program
            line = text.count("\n", 0, match.start("code"))  # the fence's line, 1-based
            blocks.append(Block(page, line, match.group("mode") or "check", code,
                                (match.group("note") or "").strip()))
    return blocks


BLOCKS = _blocks()

# Runs a block: top-level await allowed, then awaits its parameterless async test_* functions.
# With "server" as its second argument, the demo server runs in a thread of its own first.
_RUNNER = textwrap.dedent('''
    import ast, asyncio, inspect, sys, threading
    source = sys.stdin.read()
    namespace = {"__name__": "__docs_block__"}
    stop = None
    if sys.argv[2] == "server":
        from mcp_async.testing import demo_server
        ready = threading.Event()
        state = {}

        async def serve():
            global stop
            stop = asyncio.Event()
            state["loop"] = asyncio.get_running_loop()
            async with demo_server(tasks=True, two_way=True) as server:
                state["url"] = server.url
                ready.set()
                await stop.wait()

        thread = threading.Thread(target=asyncio.run, args=(serve(),), daemon=True)
        thread.start()
        if not ready.wait(30):
            sys.exit("the demo server did not start")
        # What a fragment may assume (as in the type check): these modules, mcp_async's names.
        exec("import asyncio, os, time", namespace)
        exec("from mcp_async import *", namespace)
        namespace["url"] = state["url"]
        source = source.replace("http://127.0.0.1:8000/mcp", state["url"])
    code = compile(source, sys.argv[1], "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)

    async def tests():
        for name, value in list(namespace.items()):
            if (name.startswith("test_") and inspect.iscoroutinefunction(value)
                    and not inspect.signature(value).parameters):
                await value()
                print("ran", name)

    async def main():
        if sys.argv[2] == "server":
            from mcp_async import AsyncMCPClient
            async with AsyncMCPClient(namespace["url"]) as client:
                namespace["client"] = client
                await eval(code, namespace)
        else:
            await eval(code, namespace)
        await tests()

    if code.co_flags & inspect.CO_COROUTINE:
        asyncio.run(main())
    else:
        exec(code, namespace)  # may call asyncio.run() itself
        asyncio.run(tests())
    if stop is not None:
        state["loop"].call_soon_threadsafe(stop.set)
        thread.join(10)
''')


def test_the_convention_finds_blocks() -> None:
    modes = {block.mode for block in BLOCKS}
    assert len(BLOCKS) >= 30 and {"run", "server", "check"} <= modes
    assert modes <= set(MODES), modes


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.mode == "skip"],
                         ids=lambda block: block.id)
def test_a_skipped_block_says_why(block: Block) -> None:
    reason = block.note.strip("() ")
    assert len(reason) >= 10, f"{block.id}: docs-test: skip needs a reason in parentheses"
    compile(block.code, block.id, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT | ast.PyCF_ONLY_AST)


@pytest.mark.parametrize(
    "block", [b for b in BLOCKS if b.mode in ("run", "server")], ids=lambda block: block.id
)
def test_block_runs(block: Block) -> None:
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", _RUNNER, block.id, block.mode],
        input=block.code, capture_output=True, text=True, timeout=120, cwd=ROOT,
    )
    assert done.returncode == 0, f"{block.id} failed:\n{done.stdout}\n{done.stderr}"


# ------------------------------------------------------------------------------ type check

#: Stand-ins for the reader's own values and functions that blocks use without defining.
READER_NAMES = (
    "answer", "ask_user", "async_provider", "calls", "client_options", "command",
    "current_id_token", "data", "get_token", "huge_iterator", "idp_secret", "my_llm",
    "new_id", "paths", "pem", "q", "record", "sample", "save", "secret", "show",
    "show_form", "vault",
)
_ASSUMED = {"url": "str", "client": "AsyncMCPClient", "group": "MCPClientGroup",
            **dict.fromkeys(READER_NAMES, "Any")}


def _bound(code: str) -> set[str]:
    """Names the block binds itself (assigned, imported, defined, ``as`` targets)."""
    tree = ast.parse(code)
    names = {node.id for node in ast.walk(tree)
             if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
    return names


def _prelude(code: str) -> str:
    own = _bound(code)
    return "\n".join([
        "# mypy: disable-error-code=empty-body",
        "import asyncio, os, time",
        "from typing import Any",
        "from mcp_async import *",
        *(f"{name}: {kind}" for name, kind in _ASSUMED.items() if name not in own),
        "",
    ])
_MYPY_CONFIG = """\
[mypy]
python_version = 3.11
check_untyped_defs = True
follow_imports = silent
ignore_missing_imports = True
warn_unused_ignores = False
"""
_ERROR = re.compile(r"^(?P<file>[^:]+\.py):(?P<line>\d+): error: (?P<message>.*)$")


def _checkable(block: Block) -> tuple[str, int]:
    """The module mypy checks for ``block``, and the line the block's code starts on."""
    prelude = _prelude(block.code)
    if block.awaits:  # top-level await: the body of a coroutine function instead
        body = textwrap.indent(block.code, "    ")
        return f"{prelude}async def _docs_block() -> None:\n{body}", prelude.count("\n") + 2
    return prelude + block.code, prelude.count("\n") + 1


#: Checked with the blocks; it must fail (see the last test).
_CANARY = Block(ROOT / "canary.md", 1, "check", textwrap.dedent("""\
    result = await client.call_tol("add", {"a": 1})
    AsyncMCPClient(url, retries=3)
    print(undefined_thing)
"""))


@pytest.fixture(scope="module")
def mypy_errors(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """mypy's errors per checked block (one mypy run for all of them)."""
    folder = tmp_path_factory.mktemp("docs_blocks")
    config = folder / "mypy.ini"
    config.write_text(_MYPY_CONFIG)
    files: dict[str, tuple[Block, int]] = {}
    for number, block in enumerate([*(b for b in BLOCKS if b.mode == "check"), _CANARY]):
        source, first = _checkable(block)
        path = folder / f"block_{number}.py"
        path.write_text(source)
        files[path.name] = (block, first)
    # A cache kept across runs and shared by the xdist workers, one mypy process at a time
    # (a lock file): on a warm clone mypy then re-reads only the blocks, not the package
    # and its dependencies (28 s cold), whichever worker runs this.
    cache = ROOT / ".mypy_cache" / "docs-blocks"
    cache.parent.mkdir(exist_ok=True)
    with open(cache.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = subprocess.run(
            [sys.executable, "-m", "mypy", "--config-file", str(config),
             "--cache-dir", str(cache), "--no-error-summary", "--show-error-codes",
             *(str(folder / name) for name in files)],
            capture_output=True, text=True, timeout=600, cwd=folder,
        )
    errors: dict[str, list[str]] = defaultdict(list)
    for line in done.stdout.splitlines():
        match = _ERROR.match(line)
        if match is None:
            continue
        block, first = files[Path(match["file"]).name]
        at = block.line + int(match["line"]) - first + 1
        errors[block.id].append(f"{block.page.name}:{at}: {match['message']}")
    unmatched = [line for line in done.stdout.splitlines()
                 if ": error:" in line and not _ERROR.match(line)]
    assert not unmatched, unmatched
    assert done.returncode == 1 and errors, done.stdout + done.stderr  # 2: mypy failed
    return errors


# The first test to use mypy_errors runs mypy: on a fresh clone (no cache yet) that is
# 30 s of CPU, more than the 60 s pytest-timeout allows on a loaded 2-core machine.
MYPY_TIMEOUT = pytest.mark.timeout(600)


@MYPY_TIMEOUT
@pytest.mark.parametrize(
    "block", [b for b in BLOCKS if b.mode == "check"], ids=lambda block: block.id
)
def test_block_type_checks(block: Block, mypy_errors: dict[str, list[str]]) -> None:
    assert not mypy_errors.get(block.id), "\n".join(mypy_errors[block.id])


@MYPY_TIMEOUT
def test_the_type_check_catches_a_wrong_name(mypy_errors: dict[str, list[str]]) -> None:
    """The check has teeth: a misspelt method, keyword or name fails (a canary block)."""
    found = "\n".join(mypy_errors[_CANARY.id])
    assert '"AsyncMCPClient" has no attribute "call_tol"' in found
    assert 'Unexpected keyword argument "retries"' in found
    assert 'Name "undefined_thing" is not defined' in found



# ---------------------------------------------------------------------------- reference

_DIRECTIVE = re.compile(r"^:::\s*([\w.]+)", re.MULTILINE)
PUBLIC_MODULES = [
    "mcp_async", "mcp_async.auth", "mcp_async.session.handlers", "mcp_async.testing",
    "mcp_async.client.blocking", "mcp_async.policies.tracing", "mcp_async.testing.pytest_plugin",
]


def _documented() -> set[str]:
    """Dotted paths named by ``:::`` directives in docs/reference/."""
    found = set()
    for page in (ROOT / "docs" / "reference").glob("*.md"):
        found.update(_DIRECTIVE.findall(page.read_text(encoding="utf-8")))
    return found


@functools.cache
def _module(path: str) -> ModuleType | None:
    """The module at ``path``, or ``None`` for a class or function path.

    Cached: Python does not remember a failed import (it searches again each time), and a
    name may be looked up in every documented path.
    """
    try:
        return importlib.import_module(path)
    except ImportError:
        return None


def _exports(path: str, name: str, value: object) -> bool:
    """Whether ``path`` is a module whose ``__all__`` has ``name`` bound to ``value``."""
    documented_module = _module(path)
    if documented_module is None:
        return False  # a class or function path, not a module
    return name in getattr(documented_module, "__all__", ()) and (
        getattr(documented_module, name, None) is value
    )


def _shared_parts(a: str, b: str) -> int:
    """How many leading dotted parts two module paths share."""
    shared = 0
    for x, y in zip(a.split("."), b.split("."), strict=False):
        if x != y:
            break
        shared += 1
    return shared


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
        # any() stops at the first module that exports the name, so the likely ones go
        # first: those already imported, then those nearest to where the value is defined.
        # The documented modules that import whole agent frameworks (seconds each) are then
        # imported only for a name that no nearer module exports.
        home = getattr(value, "__module__", None) or ""
        if home.partition(".")[0] != "mcp_async":  # an alias, e.g. of a collections.abc type
            home = module_name
        candidates = sorted(documented, key=lambda path: (
            path not in sys.modules, -_shared_parts(path, home), path))
        if not any(_exports(path, name, value) for path in candidates):
            missing.append(name)
    assert not missing, f"not in docs/reference/*.md: {missing}"
