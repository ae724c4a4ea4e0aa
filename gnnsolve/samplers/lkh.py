"""``LKHSampler``: the travelling salesperson problem solved by LKH-3 (through elkai), as a reference.

LKH is Helsgaun's implementation of the Lin–Kernighan heuristic: k-opt moves (5-opt by default)
restricted to candidate edges chosen by their alpha-nearness in 1-trees, improved by subgradient
optimisation; each *run* starts from a new initial tour and the best tour over the runs is kept.
It is optimal or within a fraction of a percent on TSPLIB instances of hundreds of cities in
seconds, which makes it the yardstick for every QUBO route to a tour.

The sampler is graph-native: it takes a :class:`~gnnsolve.adapters.tsp.TSP` (which lists it,
through ``properties["problems"]``, so that ``TSP(...).solve(LKHSampler())`` hands it the problem
rather than the QUBO) and answers over the TSP's QUBO variables ``(city, position)``, each row a
tour as a permutation matrix, with its energy on that QUBO (a tour's energy is its length); the
QUBO itself is never built. A dimod model is refused with a TypeError: recovering distances from
a BQM would be guesswork.

Distances. LKH works on integers. A matrix of integers up to :data:`MAX_EXACT_DISTANCE` (TSPLIB's)
is passed as it is; any other is scaled so that its largest distance becomes
:data:`MAX_EXACT_DISTANCE` and rounded, so each distance is off by at most
:math:`5 \\cdot 10^{-7}` of the largest, and a tour by at most :math:`n` times that. Lengths and
energies are computed from the true distances.

Budget. elkai has no time limit, only a number of runs per call, and every call repeats LKH's
set-up (the subgradient ascent, about as long as a run). Without a limit (``time_limit=None`` or
``math.inf``) each read makes elkai's default :data:`DEFAULT_RUNS` runs. With one, the first read
first makes one run and measures it, set-up included; each read then makes as many runs as that
cost fits in its equal share of what is left (at least one run, so a limit shorter than one run
is overshot by it; the measured cost includes the set-up, so calls usually end early). Measured
on a 2-core machine, one run with its set-up takes 0.01 s at 52 cities, 0.2–0.3 s at 150 and
280, 1.8 s at 500. ``runs=`` sets the runs per read instead.

Seeds. elkai always runs LKH with its fixed seed, so the seed permutes the order in which the
cities are handed to LKH, one permutation per read: reads differ, and the same seed gives the same
samples.

Example:
    >>> import numpy as np
    >>> from gnnsolve.adapters.tsp import TSP
    >>> from gnnsolve.samplers.lkh import LKHSampler
    >>> angles = np.linspace(0, 2 * np.pi, 12, endpoint=False)
    >>> clock = TSP.from_coordinates(np.c_[np.cos(angles), np.sin(angles)])
    >>> solution, sampleset = clock.solve(LKHSampler(), seed=0)
    >>> solution.value, round(solution.objective, 4), round(float(sampleset.first.energy), 4)
    ((0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11), 6.2117, 6.2117)

References:
    K. Helsgaun, "An effective implementation of the Lin–Kernighan traveling salesman heuristic",
    European Journal of Operational Research 126(1), 106–130 (2000).

    K. Helsgaun, "An extension of the Lin-Kernighan-Helsgaun TSP solver for constrained traveling
    salesman and vehicle routing problems", Technical report, Roskilde University (2017) (LKH-3).

    F. Dimitrovski, elkai: LKH-3 for Python, https://github.com/fikisipi/elkai.
"""

from __future__ import annotations

import math
import time
from types import ModuleType
from typing import Any

import dimod
import numpy as np

from gnnsolve.adapters.tsp import TSP
from gnnsolve.errors import MissingDependencyError
from gnnsolve.samplers._common import (
    Stopwatch,
    check_positive_int,
    check_seed,
    check_time_limit,
    seed_generator,
)

__all__ = ["LKHSampler", "DEFAULT_RUNS", "MAX_EXACT_DISTANCE", "integer_distances"]

DEFAULT_RUNS = 10
"""Runs per read without a time limit: elkai's own default."""

MAX_EXACT_DISTANCE = 1_000_000
"""The largest integer distance passed to LKH unscaled. LKH multiplies distances by its
``PRECISION`` (100) into C ints, so they must stay well below :math:`2^{31} / 100`."""


class LKHSampler(dimod.Sampler):
    """The TSP by LKH-3 through elkai (see the module docstring); install with ``pip install 'gnnsolve[lkh]'``.

    Example:
        >>> from gnnsolve.adapters.tsp import TSP
        >>> from gnnsolve.samplers.lkh import LKHSampler
        >>> problem = TSP([[0, 2, 9, 10], [2, 0, 6, 4], [9, 6, 0, 3], [10, 4, 3, 0]])
        >>> sampleset = LKHSampler().sample(problem, num_reads=2, seed=1)
        >>> [float(energy) for energy in sampleset.record.energy], sampleset.info["tour_length"]
        ([18.0, 18.0], [18.0, 18.0])
    """

    parameters: dict[str, list] = {}
    properties: dict[str, Any] = {}

    def __init__(self) -> None:
        self.parameters = {key: [] for key in ("num_reads", "seed", "time_limit", "runs")}
        self.properties = {
            "problems": (TSP,),
            "paper": "Helsgaun, An effective implementation of the Lin-Kernighan traveling salesman heuristic (2000)",
        }

    def sample(
        self,
        problem: TSP,
        *,
        num_reads: int = 1,
        seed: int | None = None,
        time_limit: float | None = None,
        runs: int | None = None,
        **kwargs: Any,
    ) -> dimod.SampleSet:
        """Tours of ``problem`` by LKH, one row per read.

        Args:
            problem: a :class:`~gnnsolve.adapters.tsp.TSP`.
            num_reads: independent LKH calls, each on its own permutation of the cities.
            seed: seed of those permutations; the same seed gives the same samples.
            time_limit: seconds for the whole call (``None`` or ``math.inf``: :data:`DEFAULT_RUNS`
                runs per read); runs are sized to it as the module docstring says, and no read
                starts once it is spent (the first always runs).
            runs: LKH runs per read, instead of sizing them to ``time_limit``.

        Returns:
            A BINARY SampleSet over ``problem.bqm_variables``: each row a tour starting at the
            first city, as the permutation matrix ``x[city, position]``, its energy the tour's
            length. ``info`` holds ``timing`` (ns), per read ``tour_length``, ``runs`` and
            ``seconds``, and ``scale`` (what the distances were multiplied by before rounding;
            1 when they were passed as they are) and ``time_limit`` (seconds, ``inf`` for none).

        Raises:
            TypeError: ``problem`` is not a TSP (a dimod model, for instance).
            MissingDependencyError: elkai is not installed.
            ValueError: bad ``num_reads``, ``seed``, ``time_limit`` or ``runs``.
        """
        watch = Stopwatch()
        self.remove_unknown_kwargs(**kwargs)
        if not isinstance(problem, TSP):
            raise TypeError(
                f"LKHSampler solves TSP problems, not {type(problem).__name__}; call "
                "TSP(distances).solve(LKHSampler()) (or TSP.from_coordinates / from_tsplib / from_graph)"
            )
        num_reads = check_positive_int("num_reads", num_reads)
        runs = None if runs is None else check_positive_int("runs", runs)
        limit = check_time_limit(time_limit)
        watch.time_limit = math.inf if limit is None else limit
        elkai = _import_elkai()
        with watch.phase("preprocessing"):
            weights, scale = integer_distances(problem.distances)
            rng = seed_generator(check_seed(seed))
        tours: list[np.ndarray] = []
        info: dict[str, Any] = {"tour_length": [], "runs": [], "seconds": []}
        per_call = None  # seconds of one call of one run, set-up included
        with watch.phase("sampling"):
            for read in range(num_reads):
                if read and watch.expired():
                    break
                order = rng.permutation(problem.num_cities)
                solve = _Solver(elkai, weights, order, problem.distances)
                if runs is not None or math.isinf(watch.time_limit):
                    solve(runs or DEFAULT_RUNS)
                elif per_call is None:
                    share = watch.remaining() / (num_reads - read)
                    per_call = solve(1)
                    if share >= 2 * per_call:
                        solve(int(share / per_call) - 1)
                else:
                    solve(max(1, int(watch.remaining() / (num_reads - read) / per_call)))
                assert solve.best is not None  # each read calls LKH, and a tour of finite distances is shorter than inf
                tours.append(solve.best)
                for key, value in (("tour_length", solve.length), ("runs", solve.runs), ("seconds", solve.seconds)):
                    info[key].append(value)
        with watch.phase("postprocessing"):
            n = problem.num_cities
            samples = np.zeros((len(tours), n, n), dtype=np.int8)
            for row, tour in enumerate(tours):
                samples[row, tour, np.arange(n)] = 1
            energies = problem.energies(samples)
        info.update(scale=scale, time_limit=watch.time_limit, timing=watch.timing())
        return dimod.SampleSet.from_samples(
            (samples.reshape(len(tours), -1), problem.bqm_variables),
            dimod.BINARY,
            energy=energies,
            info=info,
        )


class _Solver:
    """LKH calls on one permutation of the cities, keeping the best tour (from city 0) and the runs and time spent."""

    def __init__(self, elkai: ModuleType, weights: np.ndarray, order: np.ndarray, distances: np.ndarray) -> None:
        self.matrix = elkai.DistanceMatrix(weights[np.ix_(order, order)].tolist())
        self.order, self.distances = order, distances
        self.best: np.ndarray | None = None
        self.length, self.runs, self.seconds = math.inf, 0, 0.0

    def __call__(self, runs: int) -> float:
        """One call of ``runs`` runs; returns its seconds."""
        start = time.perf_counter()
        tour = self.order[self.matrix.solve_tsp(runs=runs)[:-1]]
        seconds = time.perf_counter() - start
        tour = np.roll(tour, -int(np.flatnonzero(tour == 0)[0]))
        length = float(self.distances[tour, np.roll(tour, -1)].sum())
        if length < self.length:
            self.best, self.length = tour, length
        self.runs += runs
        self.seconds += seconds
        return seconds


def integer_distances(D: np.ndarray) -> tuple[np.ndarray, float]:
    """``D`` as integers for LKH, and the factor it was scaled by (see the module docstring).

    Example:
        >>> import numpy as np
        >>> from gnnsolve.samplers.lkh import integer_distances
        >>> weights, scale = integer_distances(np.array([[0, 0.5], [0.5, 0]]))
        >>> weights.tolist(), scale, integer_distances(np.array([[0, 7], [7, 0]]))[1]
        ([[0, 1000000], [1000000, 0]], 2000000.0, 1.0)
    """
    largest = float(np.max(D, initial=0.0))
    if largest <= MAX_EXACT_DISTANCE and np.array_equal(D, np.rint(D)):
        return D.astype(np.int64), 1.0
    scale = MAX_EXACT_DISTANCE / largest
    return np.rint(D * scale).astype(np.int64), scale


def _import_elkai() -> ModuleType:
    try:
        import elkai
    except ImportError:
        raise MissingDependencyError(
            "LKHSampler needs elkai (LKH-3 for Python), which is not installed; install it with "
            "`pip install 'gnnsolve[lkh]'` or `pip install elkai`"
        ) from None
    return elkai
