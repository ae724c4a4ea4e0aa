"""The one table that maps sampler names to dimod samplers.

Every name a user can type (on the command line, in :func:`gnnsolve.compare.compare`, in the
Pyomo plugin) is looked up here. Each entry says where the sampler class lives (imported only
when asked for, so an optional backend costs nothing until used), what it is, which optional
packages it needs, and how the common keywords ``time_limit``, ``num_reads`` and ``seed``
translate onto its own ``sample`` keywords.

``time_limit`` follows the samplers' convention: ``None`` leaves the sampler its own default
budget (no keyword is passed), ``math.inf`` asks for no limit, a number is seconds for the whole
call. gnnsolve's samplers take it as it is. dwave-samplers' reference samplers have no such
keyword, so a finite limit is translated:

- ``sa``: an ``interrupt_function`` that ends the run between reads when the next read would
  end past the deadline (the reads done so far are returned; at least one), and, given the
  model, fewer than the default 1000 sweeps when ``num_reads`` reads of 1000 sweeps would not
  fit in what its set-up (:data:`SA_SETUP_SECONDS`) leaves. The set-up itself cannot be cut
  short: about 2.4 s at 10⁵ variables. Without a limit, or with ``math.inf``, its default 1000
  sweeps per read.
- ``tabu``: ``timeout`` per read (reads run one after another), each an equal share of the time
  left after the dense set-ups, one per call and one per read, estimated at
  :data:`TABU_SECONDS_PER_ENTRY` per matrix entry (measured 0.3 s at 2,000 variables and 4
  reads, 3.3 s at 5,000); fewer reads than asked when their set-ups would not fit (at least one); at least
  1 ms per read. Without a limit, or with ``math.inf``, its default 20 ms per read.
- ``steepest``: each read descends to a local minimum, which cannot be cut short (15 ms per
  read at 10⁴ variables, about 0.6 s at 10⁵): given the model, fewer reads than asked when
  they would not fit, at :data:`STEEPEST_SECONDS_PER_VARIABLE` (at least one). Given a model of
  :data:`STEEPEST_SPARSE_FROM` variables or more it runs with ``large_sparse_opt`` (1.7–2.2
  times faster there).

Example:
    >>> import dimod
    >>> from gnnsolve.registry import get_sampler, sample_kwargs, sampler_names
    >>> sampler_names()[:9]
    ['gnn', 'dyco', 'clusternet', 'multicut', 'sa', 'tabu', 'steepest', 'highs', 'gurobi']
    >>> sample_kwargs("tabu", time_limit=1.0, num_reads=4, seed=0)
    {'num_reads': 4, 'seed': 0, 'timeout': 250}
    >>> sample_kwargs("gnn", time_limit=float("inf"), seed=0)
    {'num_reads': 1, 'seed': 0, 'time_limit': inf}
    >>> bqm = dimod.BQM({"a": -1.0}, {("a", "b"): 2.0}, 0.0, "SPIN")
    >>> sampleset = get_sampler("steepest").sample(bqm, **sample_kwargs("steepest", num_reads=2, seed=0))
    >>> float(sampleset.first.energy)
    -3.0
"""

from __future__ import annotations

import difflib
import importlib
import importlib.util
import inspect
import math
import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from gnnsolve.errors import MissingDependencyError, ModelTooLargeError, UnknownSamplerError

if TYPE_CHECKING:
    import dimod

__all__ = [
    "SamplerSpec",
    "TABU_MAX_VARIABLES",
    "TABU_SECONDS_PER_ENTRY",
    "SA_SETUP_SECONDS",
    "STEEPEST_SPARSE_FROM",
    "STEEPEST_SECONDS_PER_VARIABLE",
    "sampler_names",
    "sampler_spec",
    "spec_of",
    "get_sampler",
    "is_available",
    "sample_kwargs",
    "child_keywords",
    "check_model_size",
]

TABU_MAX_VARIABLES = 5_000
"""Largest model handed to ``tabu``. TabuSampler builds a dense ``n x n`` float64 matrix and
copies it for every read: 0.2 GB and about 0.6 s per read at 5,000 variables, 0.8 GB and 5–7 s
at 10⁴ (where ten reads took 72 s and cut 7,663 of a 3-regular graph's edges against simulated
annealing's 13,480 in 1 s)."""

TABU_SECONDS_PER_ENTRY = 5e-8
"""TabuSampler's set-up per dense matrix entry, once per call and once per read, on the safe side
(measured on a 2-core machine: 1.4–2.8e-8 s from 2,000 to 5,000 variables when idle, up to 7e-8
under load; so at 5,000 variables one read alone takes 1–4 s, more than a short limit)."""

SA_SETUP_SECONDS = 8e-6
"""SimulatedAnnealingSampler's set-up per variable and interaction, before any sweep: its default
temperature range and the SampleSet are built in Python (measured 1 µs at 500 variables and
1.3·10⁵ interactions, 7 µs at 5·10⁴ and 6.4·10⁵: 4.8 s, 8–13 µs at 10⁵ and 1.5·10⁵: 2–3 s)."""

STEEPEST_SECONDS_PER_VARIABLE = 6e-6
"""SteepestDescentSolver's time per read and variable, set-up included, on the safe side (measured
on a 2-core machine: 1.5 µs at 800 and 10⁴ variables, 6 µs at 10⁵ with ``large_sparse_opt``,
up to 14 µs there under load)."""

STEEPEST_SPARSE_FROM = 5_000
"""Models this large run SteepestDescentSolver with ``large_sparse_opt`` (slower below 10³ variables)."""

_SA_DEFAULT_SWEEPS = 1000

KeywordTranslation = Callable[[float | None, int, int | None, "dimod.BinaryQuadraticModel | None"], dict[str, Any]]


def _reads_seed_and_time(
    time_limit: float | None, num_reads: int, seed: int | None, bqm: dimod.BinaryQuadraticModel | None
) -> dict[str, Any]:
    """gnnsolve's samplers: every keyword as it is."""
    return {"num_reads": num_reads, "seed": seed, "time_limit": time_limit}


def _simulated_annealing(
    time_limit: float | None, num_reads: int, seed: int | None, bqm: dimod.BinaryQuadraticModel | None
) -> dict[str, Any]:
    """Stopped between reads before a read that would not fit; fewer sweeps when the reads would not fit."""
    keywords: dict[str, Any] = {"num_reads": num_reads, "seed": seed}
    if time_limit is None or math.isinf(time_limit):
        return keywords
    keywords["interrupt_function"] = _ReadDeadline(time.perf_counter() + time_limit)
    if bqm is not None:
        setup = SA_SETUP_SECONDS * (bqm.num_variables + bqm.num_interactions)
        fitting = int(max(time_limit - setup, 0.0) / (num_reads * _sa_sweep_seconds(bqm)))
        if fitting < _SA_DEFAULT_SWEEPS:
            keywords["num_sweeps"] = max(1, fitting)
    return keywords


def _sa_sweep_seconds(bqm: dimod.BinaryQuadraticModel) -> float:
    """SimulatedAnnealingSampler's time per sweep, on the safe side: 50 ns per variable and 6 ns
    per coupling in each direction (measured on a busy 2-core machine from 100 to 10⁵ variables:
    up to 1.5 times more on large sparse models, 3.6 times less on dense ones, whose rows are
    read in order)."""
    return 50e-9 * max(bqm.num_variables, 1) + 6e-9 * 2 * bqm.num_interactions


class _ReadDeadline:
    """SimulatedAnnealingSampler's ``interrupt_function``: called after each read, it stops the
    run when the next read, taking as long as the last one, would end past the deadline."""

    def __init__(self, deadline: float) -> None:
        self.deadline, self.last = deadline, time.perf_counter()

    def __call__(self) -> bool:
        now = time.perf_counter()
        read, self.last = now - self.last, now
        return now + read > self.deadline


def _tabu(time_limit: float | None, num_reads: int, seed: int | None, bqm: dimod.BinaryQuadraticModel | None) -> dict[str, Any]:
    """Reads run one after another, each after its own dense set-up: as many reads as fit (at least
    one), each with an equal share of what the set-ups leave, at least 1 ms."""
    keywords: dict[str, Any] = {"num_reads": num_reads, "seed": seed}
    if time_limit is not None and math.isfinite(time_limit):
        setup = 0.0 if bqm is None else TABU_SECONDS_PER_ENTRY * bqm.num_variables**2
        reads = max(1, min(num_reads, int((time_limit - setup) / (setup + 1e-3))))
        keywords["num_reads"] = reads
        keywords["timeout"] = max(1, int((time_limit - setup * (1 + reads)) * 1000 / reads))
    return keywords


def _steepest(
    time_limit: float | None, num_reads: int, seed: int | None, bqm: dimod.BinaryQuadraticModel | None
) -> dict[str, Any]:
    """Each read ends at a local minimum: as many reads as fit the time (at least one); large
    models use the priority-queue search."""
    keywords: dict[str, Any] = {"num_reads": num_reads, "seed": seed}
    if bqm is None:
        return keywords
    if bqm.num_variables >= STEEPEST_SPARSE_FROM:
        keywords["large_sparse_opt"] = True
    if time_limit is not None and math.isfinite(time_limit):
        read = STEEPEST_SECONDS_PER_VARIABLE * max(bqm.num_variables, 1)
        keywords["num_reads"] = max(1, min(num_reads, int(time_limit / read) - 1))  # one read's worth of set-up
    return keywords


def _exact(time_limit: float | None, num_reads: int, seed: int | None, bqm: dimod.BinaryQuadraticModel | None) -> dict[str, Any]:
    """Exact solvers return one optimal (or best found) sample: reads do not apply."""
    return {"time_limit": time_limit, "seed": seed}


@dataclass(frozen=True)
class SamplerSpec:
    """One row of the table.

    Attributes:
        name: what the user types.
        target: ``"module:ClassName"`` of a :class:`dimod.Sampler`, imported on demand.
        description: one line for listings and help texts.
        translate: maps ``(time_limit, num_reads, seed, bqm)`` onto the sampler's own keywords
            (``bqm``, the model about to be sampled or ``None``, sizes some of them).
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
    SamplerSpec(
        "gnn",
        "gnnsolve.samplers.pignn:GNNSampler",
        "PI-GNN: a graph neural network trained on the model's relaxed energy",
        _reads_seed_and_time,
    ),
    SamplerSpec(
        "dyco",
        "gnnsolve.samplers.dyco:DyCOSampler",
        "DyCO-GNN: PI-GNN warm-started across calls with shrink and perturb (stateful)",
        _reads_seed_and_time,
    ),
    SamplerSpec(
        "clusternet",
        "gnnsolve.samplers.clusternet:ClusterNetSampler",
        "ClusterNet: GCN and differentiable k-means for modularity and k-center (graphs, not BQMs)",
        _reads_seed_and_time,
    ),
    SamplerSpec(
        "multicut",
        "gnnsolve.samplers.multicut:MulticutSampler",
        "multicut by GNN-guided edge contraction with MCTS and GAEC/KLj (signed graphs, not BQMs)",
        _reads_seed_and_time,
    ),
    SamplerSpec(
        "sa",
        "dwave.samplers:SimulatedAnnealingSampler",
        "simulated annealing (dwave-samplers), 1000 sweeps per read",
        _simulated_annealing,
    ),
    SamplerSpec(
        "tabu",
        "dwave.samplers:TabuSampler",
        "multistart tabu search (dwave-samplers), dense matrix",
        _tabu,
        max_variables=TABU_MAX_VARIABLES,
    ),
    SamplerSpec(
        "steepest", "dwave.samplers:SteepestDescentSolver", "steepest descent from random states (dwave-samplers)", _steepest
    ),
    SamplerSpec(
        "highs",
        "gnnsolve.samplers.highs:HiGHSSampler",
        "exact MILP (linearised) with HiGHS; reports a bound and gap",
        _exact,
        exact=True,
    ),
    SamplerSpec(
        "gurobi",
        "gnnsolve.samplers.gurobi:GurobiSampler",
        "exact MIQP with Gurobi; reports a bound and gap",
        _exact,
        exact=True,
        requires=("gurobipy",),
        extra="gurobi",
    ),
    SamplerSpec(
        "louvain",
        "gnnsolve.samplers.references:LouvainSampler",
        "Louvain method (networkx) for modularity, merged down to k (graphs, not BQMs)",
        _reads_seed_and_time,
    ),
    SamplerSpec(
        "leiden",
        "gnnsolve.samplers.references:LeidenSampler",
        "Leiden algorithm (leidenalg) for modularity, merged down to k (graphs, not BQMs)",
        _reads_seed_and_time,
        requires=("leidenalg", "igraph"),
        extra="leiden",
    ),
    SamplerSpec(
        "gonzalez",
        "gnnsolve.samplers.references:GonzalezSampler",
        "farthest-first traversal for k-center, a 2-approximation (graphs, not BQMs)",
        _reads_seed_and_time,
    ),
    SamplerSpec(
        "elf",
        "gnnsolve.samplers.references:ElfMulticutSampler",
        "GAEC and Kernighan-Lin with joins (python-elf) for multicut (signed graphs, not BQMs)",
        _reads_seed_and_time,
        requires=("elf", "bioimage_cpp"),
        extra="elf",
    ),
    SamplerSpec(
        "lkh",
        "gnnsolve.samplers.lkh:LKHSampler",
        "LKH-3 (elkai), the travelling salesperson reference (TSP problems, not BQMs)",
        _reads_seed_and_time,
        requires=("elkai",),
        extra="lkh",
    ),
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
    raise UnknownSamplerError(f"unknown sampler {name!r}; {hint}valid names: {', '.join(_REGISTRY)}")


def spec_of(sampler: object) -> SamplerSpec | None:
    """The table entry whose class ``sampler`` is an instance of (``None`` for any other sampler).

    Only modules already imported are looked at, so asking imports nothing.

    Example:
        >>> from dwave.samplers import TabuSampler
        >>> from gnnsolve.registry import spec_of
        >>> spec_of(TabuSampler()).name, spec_of(object())
        ('tabu', None)
    """
    for spec in _SPECS:
        module_name, _, class_name = spec.target.partition(":")
        module = sys.modules.get(module_name)
        cls = getattr(module, class_name, None) if module is not None else None
        if cls is not None and type(sampler) is cls:
            return spec
    return None


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
                f"sampler {spec.name!r} needs {', '.join(missing)}, which is not installed; install it with `{fix}`"
            )
        raise MissingDependencyError(
            f"sampler {spec.name!r} is not part of this installation ({spec.target} cannot be imported); reinstall gnnsolve"
        )
    module, _, class_name = spec.target.partition(":")
    return getattr(importlib.import_module(module), class_name)()


def sample_kwargs(
    name: str,
    *,
    time_limit: float | None = None,
    num_reads: int = 1,
    seed: int | None = None,
    bqm: dimod.BinaryQuadraticModel | None = None,
) -> dict[str, Any]:
    """The sampler's own ``sample`` keywords for a common time limit, number of reads and seed.

    ``time_limit`` is in seconds for the whole call, ``math.inf`` for none, ``None`` for the
    sampler's default (see the module notes for the samplers without a ``time_limit`` keyword);
    give ``bqm``, the model about to be sampled, so that those translations fit it. Call this
    right before sampling: ``sa``'s deadline starts here. Keywords whose value would be ``None``
    are left out, so the sampler's default applies.

    Raises:
        ValueError: ``time_limit`` is not positive.
    """
    from gnnsolve.samplers._common import check_time_limit

    keywords = sampler_spec(name).translate(check_time_limit(time_limit), num_reads, seed, bqm)
    return {key: value for key, value in keywords.items() if value is not None}


def child_keywords(
    sampler: object,
    *,
    time_limit: float | None,
    num_reads: int,
    seed: int | None,
    bqm: dimod.BinaryQuadraticModel | None = None,
    method: Callable | None = None,
) -> dict[str, Any]:
    """Reads, seed and budget in any sampler's own keywords, for composites that call a child.

    A sampler of the table gets :func:`sample_kwargs` (simulated annealing a deadline between
    reads, tabu a timeout per read); any other gets those of ``num_reads``, ``seed`` and
    ``time_limit`` that its ``parameters`` or the signature of ``method`` (default its
    ``sample``) name, with ``None`` values left out.

    Example:
        >>> from dwave.samplers import SteepestDescentSolver
        >>> from gnnsolve.registry import child_keywords
        >>> child_keywords(SteepestDescentSolver(), time_limit=None, num_reads=3, seed=1)
        {'num_reads': 3, 'seed': 1}
    """
    spec = spec_of(sampler)
    if spec is not None:
        return sample_kwargs(spec.name, time_limit=time_limit, num_reads=num_reads, seed=seed, bqm=bqm)
    accepted = set(getattr(sampler, "parameters", {})) | _named_keywords(method or getattr(sampler, "sample", None))
    keywords = {"num_reads": num_reads, "seed": seed, "time_limit": time_limit}
    return {key: value for key, value in keywords.items() if key in accepted and value is not None}


def _named_keywords(method: Callable | None) -> set[str]:
    """The names ``method`` takes as keywords (none where it has no signature)."""
    try:
        parameters = inspect.signature(method).parameters.values()  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return set()
    return {p.name for p in parameters if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)}


def check_model_size(name: str, bqm: dimod.BinaryQuadraticModel) -> None:
    """Raise :class:`ModelTooLargeError` if ``bqm`` has more variables than the sampler takes."""
    spec = sampler_spec(name)
    if spec.max_variables is not None and bqm.num_variables > spec.max_variables:
        raise ModelTooLargeError(
            f"sampler {spec.name!r} accepts at most {spec.max_variables} variables and the model "
            f"has {bqm.num_variables}; choose a sparse sampler such as 'sa' or 'gnn'"
        )
