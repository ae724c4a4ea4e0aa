"""The one table that maps sampler names to dimod samplers.

Every name a user can type (on the command line, in :func:`gnnsolve.compare.compare`, in the
Pyomo plugin) is looked up here. Each entry says where the sampler class lives (imported only
when asked for, so an optional backend costs nothing until used), what it is, which optional
packages it needs, and how the common keywords ``time_limit`` (seconds for the call),
``num_reads`` and ``seed`` translate onto its own ``sample`` keywords.

Example:
    >>> import dimod
    >>> from gnnsolve.registry import get_sampler, sample_kwargs, sampler_names
    >>> sampler_names()
    ['gnn', 'dyco', 'clusternet', 'multicut', 'sa', 'tabu', 'steepest', 'highs', 'gurobi']
    >>> sample_kwargs("tabu", time_limit=1.0, num_reads=4, seed=0)
    {'num_reads': 4, 'seed': 0, 'timeout': 250}
    >>> bqm = dimod.BQM({"a": -1.0}, {("a", "b"): 2.0}, 0.0, "SPIN")
    >>> sampleset = get_sampler("steepest").sample(bqm, **sample_kwargs("steepest", num_reads=2, seed=0))
    >>> float(sampleset.first.energy)
    -3.0
"""

from __future__ import annotations

import difflib
import importlib
import importlib.util
from dataclasses import dataclass
from typing import Any, Callable

import dimod

from gnnsolve.errors import MissingDependencyError, ModelTooLargeError, UnknownSamplerError

__all__ = [
    "SamplerSpec",
    "TABU_MAX_VARIABLES",
    "sampler_names",
    "sampler_spec",
    "get_sampler",
    "is_available",
    "sample_kwargs",
    "check_model_size",
]

TABU_MAX_VARIABLES = 10_000
"""Largest model handed to ``tabu``. TabuSampler builds a dense ``n x n`` float64 matrix and
copies it several times (0.8 GB per copy at 10⁴ variables), and at that size it is near-random
within its default time per read anyway."""

KeywordTranslation = Callable[[float | None, int, int | None], dict[str, Any]]


def _reads_and_seed(time_limit: float | None, num_reads: int, seed: int | None) -> dict[str, Any]:
    """Samplers without a time limit (SA keeps its default 1000 sweeps per read)."""
    return {"num_reads": num_reads, "seed": seed}


def _reads_seed_and_time(time_limit: float | None, num_reads: int, seed: int | None) -> dict[str, Any]:
    return {"num_reads": num_reads, "seed": seed, "time_limit": time_limit}


def _tabu(time_limit: float | None, num_reads: int, seed: int | None) -> dict[str, Any]:
    """Reads run one after another, so each gets an equal share of the time, at least 1 ms."""
    keywords: dict[str, Any] = {"num_reads": num_reads, "seed": seed}
    if time_limit is not None:
        keywords["timeout"] = max(1, int(time_limit * 1000 / num_reads))
    return keywords


def _exact(time_limit: float | None, num_reads: int, seed: int | None) -> dict[str, Any]:
    """Exact solvers return one optimal (or best found) sample: reads do not apply."""
    return {"time_limit": time_limit, "seed": seed}


@dataclass(frozen=True)
class SamplerSpec:
    """One row of the table.

    Attributes:
        name: what the user types.
        target: ``"module:ClassName"`` of a :class:`dimod.Sampler`, imported on demand.
        description: one line for listings and help texts.
        translate: maps ``(time_limit, num_reads, seed)`` onto the sampler's own keywords.
        exact: the sampler proves bounds and reports ``info["bound"]``.
        requires: third-party modules that must be importable.
        extra: the pip extra that installs ``requires``.
        max_variables: the largest model the sampler accepts, or ``None``.
    """

    name: str
    target: str
    description: str
    translate: KeywordTranslation
    exact: bool = False
    requires: tuple[str, ...] = ()
    extra: str | None = None
    max_variables: int | None = None


_SPECS = (
    SamplerSpec("gnn", "gnnsolve.samplers.pignn:GNNSampler",
                "PI-GNN: a graph neural network trained on the model's relaxed energy",
                _reads_seed_and_time),
    SamplerSpec("dyco", "gnnsolve.samplers.dyco:DyCOSampler",
                "DyCO-GNN: PI-GNN warm-started across calls with shrink and perturb (stateful)",
                _reads_seed_and_time),
    SamplerSpec("clusternet", "gnnsolve.samplers.clusternet:ClusterNetSampler",
                "ClusterNet: GCN and differentiable k-means for modularity and k-center (graphs, not BQMs)",
                _reads_seed_and_time),
    SamplerSpec("multicut", "gnnsolve.samplers.multicut:MulticutSampler",
                "multicut by GNN-guided edge contraction with MCTS and GAEC/KLj (signed graphs, not BQMs)",
                _reads_seed_and_time),
    SamplerSpec("sa", "dwave.samplers:SimulatedAnnealingSampler",
                "simulated annealing (dwave-samplers), 1000 sweeps per read",
                _reads_and_seed),
    SamplerSpec("tabu", "dwave.samplers:TabuSampler",
                "multistart tabu search (dwave-samplers), dense matrix",
                _tabu, max_variables=TABU_MAX_VARIABLES),
    SamplerSpec("steepest", "dwave.samplers:SteepestDescentSolver",
                "steepest descent from random states (dwave-samplers)",
                _reads_and_seed),
    SamplerSpec("highs", "gnnsolve.samplers.highs:HiGHSSampler",
                "exact MILP (linearised) with HiGHS; reports a bound and gap",
                _exact, exact=True),
    SamplerSpec("gurobi", "gnnsolve.samplers.gurobi:GurobiSampler",
                "exact MIQP with Gurobi; reports a bound and gap",
                _exact, exact=True, requires=("gurobipy",), extra="gurobi"),
)

_REGISTRY: dict[str, SamplerSpec] = {spec.name: spec for spec in _SPECS}


def sampler_names() -> list[str]:
    """Every sampler name, in the order of the table."""
    return list(_REGISTRY)


def sampler_spec(name: str) -> SamplerSpec:
    """The table entry for ``name`` (case-insensitive).

    Raises:
        UnknownSamplerError: ``name`` is not in the table; the message suggests the closest name
            and lists the valid ones.
    """
    key = name.strip().lower() if isinstance(name, str) else name
    if key in _REGISTRY:
        return _REGISTRY[key]
    close = difflib.get_close_matches(str(key), _REGISTRY, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise UnknownSamplerError(
        f"unknown sampler {name!r}; {hint}valid names: {', '.join(_REGISTRY)}"
    )


def is_available(name: str) -> bool:
    """Whether the sampler and the optional packages it needs can be imported here."""
    spec = sampler_spec(name)
    module = spec.target.partition(":")[0]
    needed = (*spec.requires, module)
    return all(importlib.util.find_spec(package) is not None for package in needed)


def get_sampler(name: str) -> dimod.Sampler:
    """A new instance of the sampler called ``name``.

    Raises:
        UnknownSamplerError: ``name`` is not in the table.
        MissingDependencyError: the sampler needs a package that is not installed.
    """
    spec = sampler_spec(name)
    if not is_available(spec.name):
        missing = [m for m in spec.requires if importlib.util.find_spec(m) is None]
        if missing:
            fix = f"pip install 'gnnsolve[{spec.extra}]'" if spec.extra else f"pip install {' '.join(missing)}"
            raise MissingDependencyError(
                f"sampler {spec.name!r} needs {', '.join(missing)}, which is not installed; "
                f"install it with `{fix}`"
            )
        raise MissingDependencyError(
            f"sampler {spec.name!r} is not part of this installation ({spec.target} cannot be "
            "imported); reinstall gnnsolve"
        )
    module, _, class_name = spec.target.partition(":")
    return getattr(importlib.import_module(module), class_name)()


def sample_kwargs(
    name: str, *, time_limit: float | None = None, num_reads: int = 1, seed: int | None = None
) -> dict[str, Any]:
    """The sampler's own ``sample`` keywords for a common time limit, number of reads and seed.

    ``time_limit`` is in seconds for the whole call; samplers without a time limit (``sa``,
    ``steepest``) ignore it. Keywords whose value would be ``None`` are left out, so the
    sampler's default applies.
    """
    keywords = sampler_spec(name).translate(time_limit, num_reads, seed)
    return {key: value for key, value in keywords.items() if value is not None}


def check_model_size(name: str, bqm: dimod.BinaryQuadraticModel) -> None:
    """Raise :class:`ModelTooLargeError` if ``bqm`` has more variables than the sampler takes."""
    spec = sampler_spec(name)
    if spec.max_variables is not None and bqm.num_variables > spec.max_variables:
        raise ModelTooLargeError(
            f"sampler {spec.name!r} accepts at most {spec.max_variables} variables and the model "
            f"has {bqm.num_variables}; choose a sparse sampler such as 'sa' or 'gnn'"
        )
