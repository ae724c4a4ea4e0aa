"""Run a function once a module has been imported, without importing it.

``import gnnsolve`` registers ``SolverFactory("gnnsolve")`` with Pyomo, but importing Pyomo for
that would cost every gnnsolve user Pyomo's own import hooks: once ``pyomo.common.dependencies``
is loaded, any later ``import scipy`` also loads ``scipy.stats``, ``scipy.integrate`` and
``scipy.spatial`` (about a second). :func:`when_imported` lets the registration wait for the
user's own ``import pyomo.environ`` (or ``pyomo.opt``) instead.

Example:
    >>> import sys
    >>> from gnnsolve._import_hooks import when_imported
    >>> seen = []
    >>> when_imported("json", lambda module: seen.append(module.__name__))  # already loaded: runs now
    >>> seen
    ['json']
"""

from __future__ import annotations

import importlib.abc
import sys
from types import ModuleType
from typing import Any, Callable

__all__ = ["when_imported"]

Callback = Callable[[ModuleType], None]


def when_imported(name: str, callback: Callback) -> None:
    """Call ``callback(module)`` once the module ``name`` has been executed; now if it already has."""
    module = sys.modules.get(name)
    if module is not None:
        callback(module)
        return
    _FINDER.callbacks.setdefault(name, []).append(callback)
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)


class _Finder(importlib.abc.MetaPathFinder):
    """Finds nothing itself: it hands a watched module's spec, from the finders after it, a loader
    that runs the callbacks after the module's code."""

    def __init__(self) -> None:
        self.callbacks: dict[str, list[Callback]] = {}

    def find_spec(self, fullname: str, path: Any, target: ModuleType | None = None) -> Any:
        if fullname not in self.callbacks:
            return None
        for finder in sys.meta_path[sys.meta_path.index(self) + 1 :]:
            find_spec = getattr(finder, "find_spec", None)
            spec = find_spec(fullname, path, target) if find_spec is not None else None
            if spec is not None:
                if spec.loader is not None:
                    # The callbacks stay registered until the module has run: a spec looked up
                    # and never loaded (importlib.util.find_spec, as documentation tools probe
                    # modules) must not take them along.
                    spec.loader = _ThenLoader(spec.loader, self, fullname)
                return spec
        return None


class _ThenLoader(importlib.abc.Loader):
    """``loader``, then the callbacks ``finder`` holds for ``name`` once the module's code has run."""

    def __init__(self, loader: Any, finder: _Finder, name: str) -> None:
        self._loader, self._finder, self._name = loader, finder, name

    def create_module(self, spec: Any) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self._loader.exec_module(module)
        for callback in self._finder.callbacks.pop(self._name, []):
            callback(module)

    def __getattr__(self, name: str) -> Any:  # get_source, get_filename, ... for inspect and doctest
        return getattr(self._loader, name)


_FINDER = _Finder()
