"""Text for people in the ``mcp-async`` command: help made from reST, aligned tool tables.

:func:`plain` turns a module docstring (reST, written for the API reference) into the
text ``--help`` shows; :func:`print_tools` prints a name/description table that stays
aligned whatever the length of the names.
"""

from __future__ import annotations

import re
import shutil
import sys
from collections.abc import Iterable
from typing import IO

__all__ = ["plain", "print_tools"]

# :class:`~mcp_async.testing.Fault` -> Fault; :mod:`mcp_async.testing` -> mcp_async.testing
_ROLE = re.compile(r":[a-z]+:`(~?)([^`<]+?)(?:\s*<[^>]*>)?`")
_LITERAL = re.compile(r"``([^`]+)``")
_STRONG = re.compile(r"\*\*([^*]+)\*\*")
_TABLE_RULE = re.compile(r"^[ =]+$")

#: Names longer than this get a line of their own in :func:`print_tools`.
NAME_COLUMN_MAX = 40


def _role(match: re.Match[str]) -> str:
    target = match.group(2).strip()
    return target.rsplit(".", 1)[-1] if match.group(1) else target


def plain(text: str) -> str:
    """``text`` (reST) as plain text for a terminal: roles and literals without their
    markup, ``::`` as ``:``, table rules dropped; lines and indentation are kept, so an
    ``argparse.RawDescriptionHelpFormatter`` shows examples as the indented blocks they
    are."""
    lines = []
    for line in text.strip("\n").splitlines():
        if line and _TABLE_RULE.match(line) and "=" in line:
            continue
        line = _ROLE.sub(_role, line)
        line = _LITERAL.sub(r"\1", line)
        line = _STRONG.sub(r"\1", line)
        if line.rstrip().endswith("::"):
            stripped = line.rstrip()[:-2].rstrip()
            line = f"{stripped}:" if stripped else ""
        lines.append(line)
    return "\n".join(lines)


def print_tools(rows: Iterable[tuple[str, str | None]], out: IO[str] | None = None) -> None:
    """Print ``(name, description)`` rows as two aligned columns: the first line of each
    description after its name. A name longer than :data:`NAME_COLUMN_MAX` is printed on
    its own line, its description on the next one in the description column."""
    stream = sys.stdout if out is None else out
    listed = [(name, _first_line(description)) for name, description in rows]
    width = max((len(name) for name, _ in listed if len(name) <= NAME_COLUMN_MAX), default=0)
    room = max(shutil.get_terminal_size().columns - width - 2, 20)
    for name, description in listed:
        if description and len(description) > room and stream.isatty():
            description = description[: room - 1] + "…"
        if len(name) > width:
            print(name, file=stream)
            if description:
                print(f"{'':{width}}  {description}", file=stream)
        else:
            print(f"{name:{width}}  {description}".rstrip(), file=stream)


def _first_line(text: str | None) -> str:
    lines = (text or "").strip().splitlines()
    return lines[0].strip() if lines else ""
