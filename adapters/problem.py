"""What every graph problem shares: build a dimod model, decode samples, repair, evaluate, solve.

A problem object states one combinatorial problem on a user's graph. Its :attr:`~GraphProblem.bqm`
is the dimod model any sampler can take; :meth:`~GraphProblem.decode` turns one sample of that
model into a :class:`Solution` of the problem's own kind (two node sets, an independent set, a
tour), repairing whatever the penalty form left infeasible, and scores it exactly on the graph,
never through the energy. :meth:`~GraphProblem.solve` samples, decodes every row and returns the
best solution with the SampleSet, so a learned, an exact and a plain dimod sampler are used the
same way. A ``time_limit`` given to :meth:`~GraphProblem.solve` covers the whole call: building
the model, sampling and decoding (the sampler gets all but :attr:`~GraphProblem.decode_share`
of it, and decoding stops at the deadline, lowest-energy rows first).

Subclasses set :attr:`~GraphProblem.sense` and :attr:`~GraphProblem.objective_name` and implement
``_build_bqm``, ``decode``, ``evaluate`` and ``is_feasible``.

Example:
    >>> import networkx as nx
    >>> from dwave.samplers import SteepestDescentSolver
    >>> from gnnsolve.adapters.graphs import MaxCut
    >>> problem = MaxCut(nx.cycle_graph(6))
    >>> solution, sampleset = problem.solve(SteepestDescentSolver(), num_reads=8, seed=1)
    >>> solution.objective, solution.feasible
    (6, True)
"""

from __future__ import annotations

import math
import numbers
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Generic, Hashable, Iterable, Literal, Mapping, TypeVar

import dimod
import networkx as nx

from gnnsolve.errors import InvalidModelError
from gnnsolve.samplers._common import check_time_limit

__all__ = ["Solution", "GraphProblem", "edge_weights"]

T = TypeVar("T")


@dataclass(frozen=True)
class Solution(Generic[T]):
    """One decoded answer to a graph problem.

    Attributes:
        value: the answer in the problem's own terms (see each problem's ``decode``).
        objective: its exact objective on the graph (cut weight, set size, tour length).
        feasible: whether ``value`` satisfies every constraint of the problem.
        repaired: whether decoding had to change the sample to make it feasible or better
            (removed conflicts, extended a set, completed or improved a tour).
        energy: the energy of the sample it was decoded from, on the problem's model.
    """

    value: T
    objective: float
    feasible: bool
    repaired: bool
    energy: float


class GraphProblem(ABC, Generic[T]):
    """A combinatorial problem on a graph, stated as a dimod model."""

    sense: ClassVar[Literal["max", "min"]]
    """Whether the objective is maximised (cut, set size) or minimised (tour length)."""

    objective_name: ClassVar[str]
    """The objective's name in tables (``"cut value"``, ``"set size"``, ``"tour length"``)."""

    prefers_cqm: ClassVar[bool] = False
    """Whether :meth:`solve` gives a sampler with ``sample_cqm`` the problem's ``cqm`` rather than
    :attr:`bqm` (problems whose constraints a penalty states poorly, or not at all)."""

    decode_share: ClassVar[float] = 0.1
    """The share of a finite ``time_limit`` kept for decoding (:meth:`sampling_time_limit`).

    Decoding one row costs milliseconds (measured: MaxCut on G1 2 ms, MIS on a 1,000-node
    3-regular graph 5 ms and on a 10,000-node one 0.1 s, TSP on st70 with 2-opt and Or-opt
    50 ms), and :meth:`best_solution` stops at the deadline after the row it is on."""

    if TYPE_CHECKING:  # declared for the type checker only: problems that prefer it define it, the others have none

        @property
        def cqm(self) -> dimod.ConstrainedQuadraticModel:
            """The problem as a constrained model (problems that :attr:`prefers_cqm`)."""

    @cached_property
    def bqm(self) -> dimod.BinaryQuadraticModel:
        """The problem's dimod model, built on first use; minimising its energy solves the problem."""
        return self._build_bqm()

    @abstractmethod
    def _build_bqm(self) -> dimod.BinaryQuadraticModel:
        """Build the model behind :attr:`bqm`."""

    @abstractmethod
    def decode(self, sample: Mapping[Hashable, int]) -> Solution[T]:
        """Turn one sample of :attr:`bqm` into a repaired, exactly scored solution."""

    @abstractmethod
    def evaluate(self, value: T) -> float:
        """The exact objective of an answer given in the problem's own terms."""

    @abstractmethod
    def is_feasible(self, value: T) -> bool:
        """Whether an answer given in the problem's own terms satisfies every constraint."""

    def decode_sampleset(self, sampleset: dimod.SampleSet) -> list[Solution[T]]:
        """Decode every row of ``sampleset``, in its order.

        Raises:
            InvalidModelError: the SampleSet's variables are not those of :attr:`bqm`.
        """
        if set(sampleset.variables) != set(self.bqm.variables):
            missing = set(self.bqm.variables) - set(sampleset.variables)
            extra = set(sampleset.variables) - set(self.bqm.variables)
            raise InvalidModelError(
                "the SampleSet is not over this problem's variables"
                + (f"; missing {sorted(map(repr, missing))[:5]}" if missing else "")
                + (f"; unexpected {sorted(map(repr, extra))[:5]}" if extra else "")
            )
        return [self.decode(sample) for sample in sampleset.samples()]

    def best(self, solutions: Iterable[Solution[T]]) -> Solution[T]:
        """The best feasible solution (ties to the earliest), else the best infeasible one.

        Raises:
            ValueError: ``solutions`` is empty.
        """
        ranked = list(solutions)
        if not ranked:
            raise ValueError("no solutions to choose from")
        sign = 1 if self.sense == "min" else -1
        return min(ranked, key=lambda solution: (not solution.feasible, sign * solution.objective))

    def best_solution(self, sampleset: dimod.SampleSet, time_limit: float | None = None) -> Solution[T]:
        """The best of :meth:`decode_sampleset`.

        With a finite ``time_limit`` (seconds), rows are decoded one at a time, lowest energy
        first, until it is spent; at least one row is decoded.

        Raises:
            ValueError: ``sampleset`` is empty.
        """
        if time_limit is None or math.isinf(time_limit):
            return self.best(self.decode_sampleset(sampleset))
        deadline = time.perf_counter() + time_limit
        solutions: list[Solution[T]] = []
        for row in range(len(sampleset)):
            solutions.extend(self.decode_sampleset(sampleset.slice(row, row + 1)))
            if time.perf_counter() >= deadline:
                break
        return self.best(solutions)

    def sampling_time_limit(self, time_limit: float | None, elapsed: float = 0.0) -> float | None:
        """The sampler's part of a call's ``time_limit`` once ``elapsed`` seconds of it are spent.

        ``None`` (the sampler's default) and ``math.inf`` (no limit) pass as they are; a number
        leaves :attr:`decode_share` of what is left for decoding (the sampler gets at least 1 ms).

        Example:
            >>> import networkx as nx
            >>> from gnnsolve.adapters.graphs import MaxCut
            >>> MaxCut(nx.path_graph(3)).sampling_time_limit(10.0, elapsed=2.0)
            7.2
        """
        time_limit = check_time_limit(time_limit)
        if time_limit is None or math.isinf(time_limit):
            return time_limit
        return max((time_limit - elapsed) * (1 - self.decode_share), 1e-3)

    def sample_defaults(self, sampler: dimod.Sampler) -> dict[str, Any]:
        """Keywords this problem passes to ``sampler`` unless the caller sets them."""
        return {}

    def solve(self, sampler: dimod.Sampler, **sample_kwargs: Any) -> tuple[Solution[T], dimod.SampleSet]:
        """Sample the problem with ``sampler`` and return the best decoded solution and the SampleSet.

        A graph-native sampler that lists the problem's class (:meth:`samples_natively`) gets the
        problem itself; a problem that :attr:`prefers_cqm` gives its ``cqm`` to a sampler with
        ``sample_cqm``; any other sampler gets :attr:`bqm`.

        A ``time_limit`` is seconds for the whole call: building the model (on first use), the
        sampler's call, which gets :meth:`sampling_time_limit` of it, and decoding, which stops
        at the deadline (:meth:`best_solution`).

        Args:
            sampler: any dimod sampler: GNNSampler, HiGHSSampler, GurobiSampler,
                SimulatedAnnealingSampler, a composite; or a graph-native sampler that lists
                this problem's class (:meth:`samples_natively`).
            **sample_kwargs: passed to ``sampler.sample`` (``num_reads``, ``seed``, ``time_limit``…).
        """
        start = time.perf_counter()
        keywords = {**self.sample_defaults(sampler), **sample_kwargs}
        time_limit = check_time_limit(keywords.get("time_limit"))
        model, sample = self.model_for(sampler)
        if time_limit is not None:
            keywords["time_limit"] = self.sampling_time_limit(time_limit, time.perf_counter() - start)
        sampleset = sample(model, **keywords)
        decoding = None if time_limit is None else max(time_limit - (time.perf_counter() - start), 0.0)
        return self.best_solution(sampleset, decoding), sampleset

    def model_for(self, sampler: dimod.Sampler) -> tuple[Any, Callable[..., dimod.SampleSet]]:
        """What :meth:`solve` gives ``sampler`` and the method it calls: the problem itself to a
        graph-native sampler, :attr:`cqm` to one with ``sample_cqm`` where the problem
        :attr:`prefers_cqm`, else :attr:`bqm` (built here on first use)."""
        if self.samples_natively(sampler):
            return self, sampler.sample
        if self.prefers_cqm and hasattr(sampler, "sample_cqm"):
            return self.cqm, sampler.sample_cqm
        return self.bqm, sampler.sample

    def samples_natively(self, sampler: dimod.Sampler) -> bool:
        """Whether ``sampler`` takes this problem object itself rather than a dimod model.

        Graph-native samplers (ClusterNet, multicut) list the problem classes they solve in
        ``sampler.properties["problems"]``; :meth:`solve` hands them the problem, and they
        answer with one value per node, which :meth:`decode_sampleset` reads too.
        """
        natives = (getattr(sampler, "properties", None) or {}).get("problems", ())
        return isinstance(self, tuple(natives))

    def _solution(self, value: T, sample: Mapping[Hashable, int], repaired: bool) -> Solution[T]:
        return Solution(
            value=value,
            objective=self.evaluate(value),
            feasible=self.is_feasible(value),
            repaired=repaired,
            energy=float(self.bqm.energy(sample)),
        )


def edge_weights(G: nx.Graph, weight: str | None) -> list[tuple[Hashable, Hashable, float]]:
    """The edges of ``G`` as ``(u, v, w)``, self-loops left out; parallel edges of a multigraph add up.

    ``w`` is the ``weight`` attribute (1 where absent, or everywhere when ``weight`` is ``None``).

    Raises:
        InvalidModelError: a weight is not a finite real number; the edge is named.
    """
    totals: dict[tuple[Hashable, Hashable], float] = {}
    for u, v, w in G.edges(data=weight, default=1) if weight is not None else ((u, v, 1) for u, v in G.edges()):
        if isinstance(w, bool) or not isinstance(w, numbers.Real) or not math.isfinite(w):
            raise InvalidModelError(f"edge ({u!r}, {v!r}) has {weight!r} = {w!r}; weights must be finite numbers")
        if u == v:
            continue
        key = (u, v) if (v, u) not in totals else (v, u)
        # typeshed types arithmetic on numbers.Real as returning a protocol, not a number; every Real adds like a float
        totals[key] = totals.get(key, 0) + w  # type: ignore[assignment]
    return [(u, v, w) for (u, v), w in totals.items()]
