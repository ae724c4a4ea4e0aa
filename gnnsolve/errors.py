"""Exceptions raised for a user's mistake: each names the problem and the fix.

They subclass the built-in exception a caller would already catch (``ValueError``,
``ImportError``), so existing handlers keep working.

Example:
    >>> import dimod
    >>> from gnnsolve.errors import InvalidModelError
    >>> from gnnsolve.qubo import CompiledBQM
    >>> bqm = dimod.BQM({"a": float("nan")}, {}, 0.0, "BINARY")
    >>> try:
    ...     CompiledBQM(bqm)
    ... except InvalidModelError as err:
    ...     print("rejected")
    rejected
"""

from __future__ import annotations

__all__ = [
    "InfeasibleModelError",
    "UnboundedModelError",
    "InfeasibleOrUnboundedError",
    "GnnsolveError",
    "InvalidModelError",
    "ModelTooLargeError",
    "UnsupportedModelError",
    "FileFormatError",
    "UnknownSamplerError",
    "MissingDependencyError",
    "NoSolutionError",
]


class GnnsolveError(Exception):
    """Base class of every error gnnsolve raises on purpose."""


class InvalidModelError(GnnsolveError, ValueError):
    """The model itself is malformed, e.g. a NaN or infinite bias."""


class InfeasibleModelError(InvalidModelError):
    """An exact solver proved that no assignment satisfies every constraint."""


class UnboundedModelError(InvalidModelError):
    """An exact solver proved that the objective falls without limit over the feasible assignments."""


class InfeasibleOrUnboundedError(InvalidModelError):
    """An exact solver proved that the model has no optimum, without saying whether nothing is
    feasible or the objective is unbounded (what presolve often leaves)."""


class ModelTooLargeError(GnnsolveError, ValueError):
    """The model exceeds what a backend (or its licence) can take."""


class UnsupportedModelError(GnnsolveError, ValueError):
    """The model uses something the chosen backend cannot express."""


class FileFormatError(GnnsolveError, ValueError):
    """A file could not be read; the message names the file and, where known, the line."""

    def __init__(self, path: object, message: str, line: int | None = None) -> None:
        where = f"{path}" if line is None else f"{path}, line {line}"
        super().__init__(f"{where}: {message}")
        self.path = path
        self.line = line


class UnknownSamplerError(GnnsolveError, ValueError):
    """A sampler name that gnnsolve does not know."""


class MissingDependencyError(GnnsolveError, ImportError):
    """An optional dependency is not installed; the message names the extra to install."""


class NoSolutionError(GnnsolveError, RuntimeError):
    """The solver stopped (e.g. at its time limit) before it found any feasible solution."""
