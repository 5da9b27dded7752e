"""Lazy package attributes (PEP 562): optional parts load on first use, not on import."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any


def lazy_attributes(package: str, modules: Mapping[str, str]) -> Callable[[str], Any]:
    """Return a module ``__getattr__`` that imports ``name`` from ``modules[name]`` when first read.

    ``modules`` maps each lazy attribute to the module (relative to ``package``) that
    defines it; as in ``from module import name``, ``name`` may be a submodule of it
    (``"."``: a submodule of the package itself). The value is cached in the package, so
    the hook runs once per name.
    """

    def __getattr__(name: str) -> Any:
        module = modules.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        home = import_module(module, package)
        # A submodule nothing has imported yet is no attribute of its parent. (The package
        # itself is not asked: it lacks the name, or this hook would not run.)
        if home.__name__ == package or not hasattr(home, name):
            value = import_module(f"{home.__name__}.{name}")
        else:
            value = getattr(home, name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
