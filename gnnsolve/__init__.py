"""gnnsolve: learned and exact samplers behind one dimod door.

Example:
    >>> import dimod
    >>> from gnnsolve import GNNSampler, HiGHSSampler
    >>> bqm = dimod.generators.ran_r(1, 20, seed=3)
    >>> learned = GNNSampler().sample(bqm, num_reads=4, seed=0, max_epochs=300)
    >>> exact = HiGHSSampler().sample(bqm, time_limit=30)
    >>> exact.info["status"], bool(exact.first.energy <= learned.first.energy)
    ('optimal', True)

Samplers are imported on first use, so ``import gnnsolve`` does not load torch until a
learned sampler is asked for (the exact samplers never load it). Importing gnnsolve registers
``SolverFactory("gnnsolve")`` with Pyomo (see :mod:`gnnsolve.adapters.pyomo_solver`): at once
if Pyomo is loaded, otherwise as soon as it is, so gnnsolve alone does not import Pyomo.
"""

import logging
from importlib import import_module
from types import ModuleType
from typing import Any

from gnnsolve._import_hooks import when_imported
from gnnsolve.errors import (
    FileFormatError,
    InfeasibleModelError,
    InfeasibleOrUnboundedError,
    InvalidModelError,
    MissingDependencyError,
    ModelTooLargeError,
    NoSolutionError,
    UnboundedModelError,
    UnknownSamplerError,
    UnsupportedModelError,
)

logging.getLogger("gnnsolve").addHandler(logging.NullHandler())

__version__ = "0.1.0"

_LAZY = {
    "CompiledBQM": "gnnsolve.qubo",
    "GNNSampler": "gnnsolve.samplers.pignn",
    "ClusterNetSampler": "gnnsolve.samplers.clusternet",
    "MulticutSampler": "gnnsolve.samplers.multicut",
    "LKHSampler": "gnnsolve.samplers.lkh",
    "DyCOSampler": "gnnsolve.samplers.dyco",
    "HiGHSSampler": "gnnsolve.samplers.highs",
    "GurobiSampler": "gnnsolve.samplers.gurobi",
    "WarmStartComposite": "gnnsolve.samplers.warm_start",
    "PenaltyComposite": "gnnsolve.samplers.penalty",
    "DaskComposite": "gnnsolve.distributed",
    "TaskFailure": "gnnsolve.distributed",
    "solve_many": "gnnsolve.distributed",
}

__all__ = [
    "ClusterNetSampler",
    "CompiledBQM",
    "DaskComposite",
    "DyCOSampler",
    "FileFormatError",
    "GNNSampler",
    "GurobiSampler",
    "HiGHSSampler",
    "InfeasibleModelError",
    "InfeasibleOrUnboundedError",
    "InvalidModelError",
    "LKHSampler",
    "MissingDependencyError",
    "ModelTooLargeError",
    "MulticutSampler",
    "NoSolutionError",
    "PenaltyComposite",
    "TaskFailure",
    "UnboundedModelError",
    "UnknownSamplerError",
    "UnsupportedModelError",
    "WarmStartComposite",
    "__version__",
    "solve_many",
]


def _load_pyomo_solver(pyomo_opt: ModuleType) -> None:
    import_module("gnnsolve.adapters.pyomo_solver")


def _register_pyomo_solver(pyomo_solver: ModuleType) -> None:
    pyomo_solver.register()


# Whichever is imported first (pyomo.opt, or the plugin itself, which imports pyomo.opt), the
# plugin registers once its module has run.
when_imported("gnnsolve.adapters.pyomo_solver", _register_pyomo_solver)
when_imported("pyomo.opt", _load_pyomo_solver)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'gnnsolve' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
