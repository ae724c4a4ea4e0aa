"""The travelling salesperson problem as a position QUBO: build, decode into a tour, improve, evaluate.

A tour of :math:`n` cities is encoded by :math:`n^2` binary variables :math:`x_{c,t}` ("city
:math:`c` is visited at position :math:`t`"), labelled ``(city, position)``. Following Lucas
(2014), §7.1, the model is

.. math::

    E(x) = \\lambda \\sum_c \\Big(1 - \\sum_t x_{c,t}\\Big)^2
         + \\lambda \\sum_t \\Big(1 - \\sum_c x_{c,t}\\Big)^2
         + \\sum_{c \\ne c'} d_{c c'} \\sum_t x_{c,t}\\, x_{c',t+1},

positions taken modulo :math:`n`. The two penalties vanish exactly on permutation matrices, so a
valid tour's energy *is* its length, and any other assignment pays :math:`\\lambda` per broken
row or column; the constant :math:`2n\\lambda` is in the offset. The model equals what dimod's
``traveling_salesperson`` generator builds (plus that offset), but is built from numpy arrays
(:func:`position_qubo_coo`): 0.7–0.9 s at 150 cities instead of 11 s. Building it takes about
:data:`BUILD_BYTES_PER_INTERACTION` bytes per interaction, checked against the memory available
before anything is allocated (:func:`check_model_memory`). Decoding and scoring samples never
build it: :meth:`TSP.energies` evaluates :math:`E` on assignment matrices directly, so a sampler
that answers with tours (:class:`~gnnsolve.samplers.lkh.LKHSampler`) is used at any size. The
penalty defaults to twice the largest distance, as in DyCO-GNN: then no single bit flip can
shorten a valid tour.

A sample rarely is a permutation matrix. :meth:`TSP.decode` builds a tour position by position,
minimising the tour length plus :math:`\\lambda` for every (city, position) choice the sample
did not make — greedily or by beam search — so it follows the sample wherever the sample is a
valid assignment and fills the gaps by distance. The tour is then improved by 2-opt and Or-opt
(:mod:`gnnsolve.search.tsp`) unless switched off.

Example:
    >>> import numpy as np
    >>> from dwave.samplers import SimulatedAnnealingSampler
    >>> from gnnsolve.adapters.tsp import TSP
    >>> rectangle = TSP.from_coordinates([[0, 0], [0, 3], [4, 3], [4, 0]])
    >>> rectangle.bqm.num_variables
    16
    >>> crossed = (0, 2, 1, 3)
    >>> float(rectangle.bqm.energy(rectangle.encode(crossed))), rectangle.evaluate(crossed)
    (18.0, 18.0)
    >>> solution, _ = rectangle.solve(SimulatedAnnealingSampler(), num_reads=4, seed=0)
    >>> solution.objective, solution.feasible
    (14.0, True)

References:
    A. Lucas, "Ising formulations of many NP problems", Frontiers in Physics 2, 5 (2014).

    Y. Liao, F. Koushanfar and P. Naghizadeh, "Learning for Dynamic Combinatorial Optimization
    without Training Data" (DyCO-GNN), arXiv:2505.19497 (2025): the penalty of twice the largest
    distance, and GraphSAGE rather than GCN convolutions for TSP.
"""

from __future__ import annotations

import numbers
import sys
from typing import Any, Hashable, Literal, Mapping, Sequence

import dimod
import networkx as nx
import numpy as np
from numpy.typing import ArrayLike

from gnnsolve.adapters.problem import GraphProblem, Solution, edge_weights
from gnnsolve.errors import InvalidModelError, ModelTooLargeError
from gnnsolve.samplers._common import available_memory
from gnnsolve.search import tsp as search

__all__ = [
    "TSP",
    "DEFAULT_MAX_CITIES",
    "GNN_DEFAULTS",
    "BUILD_BYTES_PER_INTERACTION",
    "position_qubo_coo",
    "model_bytes",
    "check_model_memory",
]

DEFAULT_MAX_CITIES = 300
"""Largest instance :class:`TSP` takes unless told otherwise, set by time rather than memory (which
:func:`check_model_memory` checks when the model is built): at 300 cities the QUBO has 90,000
variables and 53.8 million interactions, takes about 4.3 GB and 10–15 s to build (measured 0.7–0.9 s
at 150 cities, 2.1 s at 200, 10 s at 280 on a busy 2-core machine; dimod's own insertion
dominates from 200 on), and a GNNSampler epoch on it costs minutes. Beyond it the QUBO is no
route to a tour: LKH (:class:`~gnnsolve.samplers.lkh.LKHSampler`) solves such instances in seconds."""

BUILD_BYTES_PER_INTERACTION = 80
"""Peak memory per interaction while the QUBO is built: the COO arrays (16 bytes) and dimod's
adjacency, which holds each interaction twice. Measured as the rise of the process's peak RSS:
59–68 bytes from 150 to 280 cities; rounded up."""

GNN_DEFAULTS: dict[str, Any] = {"conv": "sage", "polish": False, "max_epochs": 100}
"""What :meth:`TSP.sample_defaults` passes to a GNNSampler unless the caller says otherwise.

* ``conv="sage"``: GCN's averaging over neighbours fails on this QUBO (DyCO-GNN); GraphSAGE
  keeps a node's own features apart from its neighbours'.
* ``polish=False``: a replica's best rounded state is a sparse partial assignment (5–18 cities
  placed on the TSPLIB instances burma14 to st70). Steepest descent on the QUBO completes it into
  some valid tour; :meth:`TSP.decode` completes it by distance, which measured far better (st70:
  best of 16 raw decodes 1.29 × optimum without polish, 3.07 with it).
* ``max_epochs=100``: on those instances the best rounded states stopped changing by epoch 30
  while the relaxed loss kept creeping down, so the loss-based stop would not end training.
"""

Decoder = Literal["greedy", "beam"]


class TSP(GraphProblem[tuple]):
    """The symmetric travelling salesperson problem on ``n`` cities as an ``n²``-variable QUBO.

    Args:
        distances: ``n × n`` symmetric, finite, non-negative distances (the diagonal is
            ignored); ``n ≥ 3``.
        labels: the cities' names, ``n`` distinct hashables; default ``0..n-1``.
        penalty: the constraint weight :math:`\\lambda`; default twice the largest distance
            (1 if every distance is 0).
        decoder: ``"beam"`` (beam search of width ``beam_width``, never worse than greedy) or
            ``"greedy"`` (width 1).
        beam_width: how many partial tours the beam keeps.
        two_opt: improve each decoded tour by 2-opt (Croes 1958).
        or_opt: improve each decoded tour by Or-opt (Or 1976), alternating with 2-opt when both
            are on. With both off, :meth:`decode` returns the raw decode.
        max_cities: the largest ``n`` accepted (:data:`DEFAULT_MAX_CITIES`); the model grows as
            ``n²`` variables and ``2n²(n-1)`` interactions.

    Raises:
        InvalidModelError: fewer than 3 cities; a distance that is negative, NaN, infinite or not
            a number; an asymmetric matrix; labels that are not ``n`` distinct names.
        ModelTooLargeError: more than ``max_cities`` cities; and, from :attr:`bqm`, a model
            that would not fit in the memory available (:func:`check_model_memory`).

    Example:
        >>> from gnnsolve.adapters.tsp import TSP
        >>> problem = TSP([[0, 2, 9], [2, 0, 6], [9, 6, 0]], labels="abc")
        >>> problem.num_cities, problem.penalty, problem.evaluate(("a", "b", "c"))
        (3, 18.0, 17.0)
    """

    sense = "min"
    objective_name = "tour length"

    def __init__(
        self,
        distances: ArrayLike,
        labels: Sequence[Hashable] | None = None,
        *,
        penalty: float | None = None,
        decoder: Decoder = "beam",
        beam_width: int = 8,
        two_opt: bool = True,
        or_opt: bool = True,
        max_cities: int = DEFAULT_MAX_CITIES,
    ) -> None:
        matrix = _square_matrix(distances)
        self._labels = _check_labels(labels, len(matrix))
        self._distances = _check_distances(matrix, self._labels, max_cities)
        self._index = {label: i for i, label in enumerate(self._labels)}
        self._penalty = _check_penalty(penalty, self._distances)
        if decoder not in ("greedy", "beam"):
            raise ValueError(f"decoder must be 'greedy' or 'beam', got {decoder!r}")
        if isinstance(beam_width, bool) or not isinstance(beam_width, int) or beam_width < 1:
            raise ValueError(f"beam_width must be a positive integer, got {beam_width!r}")
        self._beam_width = 1 if decoder == "greedy" else beam_width
        self._two_opt = bool(two_opt)
        self._or_opt = bool(or_opt)

    @classmethod
    def from_coordinates(cls, xy: ArrayLike, labels: Sequence[Hashable] | None = None, **options: Any) -> "TSP":
        """The TSP whose distances are the Euclidean distances between points (not rounded).

        Args:
            xy: ``[n, d]`` coordinates, usually ``d = 2``.
            labels: as for :class:`TSP`.
            **options: as for :class:`TSP`.

        Example:
            >>> from gnnsolve.adapters.tsp import TSP
            >>> TSP.from_coordinates([[0, 0], [3, 0], [3, 4]]).evaluate((0, 1, 2))
            12.0
        """
        points = _numeric_array(xy, "coordinates")
        if points.ndim != 2:
            raise InvalidModelError(f"coordinates must be an [n, d] array, got shape {points.shape}")
        if not np.isfinite(points).all():
            row = int(np.flatnonzero(~np.isfinite(points).all(axis=1))[0])
            raise InvalidModelError(f"the coordinates of city {row} are {points[row].tolist()}; they must be finite")
        distances = np.linalg.norm(points[:, None, :] - points[None, :, :], axis=-1)
        return cls(distances, labels, **options)

    @classmethod
    def from_graph(cls, G: nx.Graph, weight: str = "weight", **options: Any) -> "TSP":
        """The TSP on a complete weighted graph; cities are its nodes, in ``G``'s order.

        Args:
            G: an undirected simple graph with an edge between every two nodes; self-loops are
                ignored.
            weight: the edge attribute holding the distance (edges without it count 1).
            **options: as for :class:`TSP`.

        Raises:
            InvalidModelError: ``G`` is directed or a multigraph, a pair of nodes has no edge
                (the pair is named), or a weight is not a finite number (the edge is named).

        Example:
            >>> import networkx as nx
            >>> from gnnsolve.adapters.tsp import TSP
            >>> G = nx.complete_graph(["x", "y", "z"])
            >>> nx.set_edge_attributes(G, {("x", "y"): 1, ("y", "z"): 2, ("x", "z"): 4}, "km")
            >>> TSP.from_graph(G, weight="km").evaluate(("x", "y", "z"))
            7.0
        """
        if G.is_directed() or G.is_multigraph():
            raise InvalidModelError("TSP takes an undirected simple graph (nx.Graph); convert it with nx.Graph(G)")
        labels = list(G.nodes)
        index = {label: i for i, label in enumerate(labels)}
        distances = np.full((len(labels), len(labels)), np.nan)
        np.fill_diagonal(distances, 0.0)
        for u, v, w in edge_weights(G, weight):
            distances[index[u], index[v]] = distances[index[v], index[u]] = w
        missing = np.argwhere(np.isnan(distances))
        if len(missing):
            u, v = (labels[i] for i in missing[0])
            raise InvalidModelError(
                f"the graph has no edge between {u!r} and {v!r}; TSP needs a complete graph "
                f"({len(missing) // 2} pairs are missing)"
            )
        return cls(distances, labels, **options)

    @classmethod
    def from_tsplib(cls, instance: Any, **options: Any) -> "TSP":
        """The TSP of a TSPLIB instance, with TSPLIB's own (integer) distances; cities are ``0..n-1``.

        Args:
            instance: anything with a ``distance_matrix()`` method, e.g. what
                :func:`gnnsolve.adapters.datasets.read_tsplib` returns.
            **options: as for :class:`TSP`.
        """
        return cls(instance.distance_matrix(), **options)

    @property
    def distances(self) -> np.ndarray:
        """The ``n × n`` distance matrix (read-only), rows and columns in :attr:`labels` order."""
        return self._distances

    @property
    def labels(self) -> tuple:
        """The cities, in the order of :attr:`distances`."""
        return self._labels

    @property
    def num_cities(self) -> int:
        return len(self._labels)

    @property
    def penalty(self) -> float:
        """The constraint weight :math:`\\lambda` of the model and of the decoder."""
        return self._penalty

    def _build_bqm(self) -> dimod.BinaryQuadraticModel:
        n = self.num_cities
        check_model_memory(n)
        rows, cols, biases = position_qubo_coo(self._distances, self._penalty)
        return dimod.BinaryQuadraticModel.from_numpy_vectors(
            np.full(n * n, -2 * self._penalty),
            (rows, cols, biases),
            2 * n * self._penalty,
            dimod.BINARY,
            variable_order=self.bqm_variables,
        )

    @property
    def bqm_variables(self) -> list[tuple[Hashable, int]]:
        """The variables of :attr:`bqm` in its order, ``(city, position)`` city by city, known without building it."""
        return [(city, t) for city in self._labels for t in range(self.num_cities)]

    def encode(self, tour: Sequence[Hashable]) -> dict[tuple[Hashable, int], int]:
        """The sample of :attr:`bqm` that visits ``tour``'s cities in its order.

        Example:
            >>> from gnnsolve.adapters.tsp import TSP
            >>> sample = TSP.from_coordinates([[0, 0], [0, 1], [1, 0]]).encode((2, 0, 1))
            >>> sorted(key for key, value in sample.items() if value)
            [(0, 1), (1, 2), (2, 0)]
        """
        position = {city: t for t, city in enumerate(tour)}
        return {(city, t): int(position.get(city) == t) for city in self._labels for t in range(self.num_cities)}

    def decode(self, sample: Mapping[Hashable, int]) -> Solution[tuple]:
        """The tour a sample of :attr:`bqm` stands for, repaired into a valid tour and improved.

        The decoder places one city per position, from position 0 on, minimising the tour length
        plus :attr:`penalty` for every (city, position) it chooses that the sample does not set
        to 1; a sample that is a valid tour therefore decodes to that tour. The tour is then
        improved by 2-opt and Or-opt, as far as ``two_opt`` and ``or_opt`` allow.

        Returns:
            A :class:`Solution` whose ``value`` is the tour as a tuple of cities, starting at the
            city placed at position 0; ``repaired`` is true when the tour differs from the
            sample's assignment.
        """
        return self._decode_values(self._sample_values(sample))

    def decode_sampleset(self, sampleset: dimod.SampleSet) -> list[Solution[tuple]]:
        """Decode every row of ``sampleset``, in its order, without building :attr:`bqm`.

        Raises:
            InvalidModelError: the SampleSet's variables are not those of :attr:`bqm`.
        """
        variables = self.bqm_variables
        if len(sampleset.variables) != len(variables) or set(sampleset.variables) != set(variables):
            raise InvalidModelError(
                f"the SampleSet is not over this problem's {len(variables)} variables (city, position); "
                f"it has {len(sampleset.variables)} others"
            )
        columns = [sampleset.variables.index(v) for v in variables]
        n = self.num_cities
        return [self._decode_values(row[columns].reshape(n, n)) for row in sampleset.record.sample]

    def energies(self, assignments: ArrayLike) -> np.ndarray:
        """The energies on :attr:`bqm` of samples given as ``n × n`` matrices ``x[city, position]``
        (one, or ``[k, n, n]``), from the formula, without building the model.

        Example:
            >>> import numpy as np
            >>> from gnnsolve.adapters.tsp import TSP
            >>> problem = TSP.from_coordinates([[0, 0], [0, 3], [4, 3], [4, 0]])
            >>> problem.energies(np.eye(4)).tolist(), problem.energies(np.zeros((4, 4))).tolist()
            ([14.0], [80.0])
        """
        x = np.asarray(assignments, dtype=float).reshape(-1, self.num_cities, self.num_cities)
        n, penalty = self.num_cities, self._penalty
        squares = (x**2).sum(axis=(1, 2))
        penalties = (x.sum(axis=2) ** 2).sum(axis=1) + (x.sum(axis=1) ** 2).sum(axis=1) - 2 * squares
        lengths = np.einsum("kct,cd,kdt->k", x, self._distances, np.roll(x, -1, axis=2))
        return 2 * n * penalty - 2 * penalty * x.sum(axis=(1, 2)) + penalty * penalties + lengths

    def evaluate(self, tour: Sequence[Hashable]) -> float:
        """The length of the closed tour through ``tour``'s cities, back to the first."""
        return search.tour_length(self._distances, [self._city_index(city) for city in tour])

    def is_feasible(self, tour: Sequence[Hashable]) -> bool:
        """Whether ``tour`` visits every city exactly once."""
        return len(tour) == self.num_cities and set(tour) == set(self._labels)

    def sample_defaults(self, sampler: dimod.Sampler) -> dict[str, Any]:
        """:data:`GNN_DEFAULTS` for a GNNSampler (for a DyCOSampler all but ``conv``, which is
        chosen when it is built: use ``DyCOSampler(conv="sage")``), nothing for any other sampler.

        Example:
            >>> from gnnsolve import GNNSampler
            >>> from gnnsolve.adapters.tsp import TSP
            >>> TSP([[0, 1, 1], [1, 0, 1], [1, 1, 0]]).sample_defaults(GNNSampler())
            {'conv': 'sage', 'polish': False, 'max_epochs': 100}
        """
        pignn = sys.modules.get("gnnsolve.samplers.pignn")  # loaded if ``sampler`` is a GNNSampler
        if pignn is not None and isinstance(sampler, pignn.GNNSampler):
            return dict(GNN_DEFAULTS)
        dyco = sys.modules.get("gnnsolve.samplers.dyco")
        if dyco is not None and isinstance(sampler, dyco.DyCOSampler):
            return {key: value for key, value in GNN_DEFAULTS.items() if key != "conv"}  # conv is fixed at construction
        return {}

    def _improve(self, tour: np.ndarray) -> np.ndarray:
        if self._two_opt and self._or_opt:
            return search.local_search(self._distances, tour)
        if self._two_opt:
            return search.two_opt(self._distances, tour)
        if self._or_opt:
            return search.or_opt(self._distances, tour)
        return tour

    def _sample_values(self, sample: Mapping[Hashable, int]) -> np.ndarray:
        """The sample's values as an ``n × n`` matrix ``x[city, position]``."""
        n = self.num_cities
        return np.array([[sample[(city, t)] for t in range(n)] for city in self._labels], dtype=float)

    def _decode_values(self, values: np.ndarray) -> Solution[tuple]:
        assignment = values > 0
        decoded = _decode_assignment(self._distances, assignment, self._penalty, self._beam_width)
        tour = self._improve(decoded)
        follows_sample = np.array_equal(assignment, _permutation_matrix(decoded))
        value = tuple(self._labels[i] for i in tour)
        return Solution(
            value=value,
            objective=self.evaluate(value),
            feasible=self.is_feasible(value),
            repaired=not follows_sample or not np.array_equal(tour, decoded),
            energy=float(self.energies(values)[0]),
        )

    def _city_index(self, city: Hashable) -> int:
        try:
            return self._index[city]
        except (KeyError, TypeError):
            raise InvalidModelError(f"{city!r} is not a city of this TSP") from None


def _decode_assignment(D: np.ndarray, assignment: np.ndarray, penalty: float, beam_width: int) -> np.ndarray:
    """The tour that minimises length + ``penalty`` × (choices not in ``assignment``), by beam search.

    A beam wider than 1 is compared with the greedy decode and the better is kept, so widening
    the beam never makes the decode worse.
    """
    mismatch = penalty * (~assignment)
    tours = [_beam_search(D, mismatch, width) for width in sorted({1, beam_width})]
    return min(tours, key=lambda tour: _decode_cost(D, mismatch, tour))


def _beam_search(D: np.ndarray, mismatch: np.ndarray, width: int) -> np.ndarray:
    """Place cities at positions 0..n-1, keeping the ``width`` cheapest partial tours at each step.

    ``mismatch[c, t]`` is the cost of placing city ``c`` at position ``t``; each step also pays
    the distance from the previous city, and the last one the distance back to the first.
    Ties go to the earlier partial tour, then the lower city index.
    """
    n = len(D)
    paths = np.zeros((1, 0), dtype=np.intp)
    visited = np.zeros((1, n), dtype=bool)
    cost = np.zeros(1)
    for t in range(n):
        step = np.broadcast_to(mismatch[:, t], (len(paths), n))
        if t > 0:
            step = step + D[paths[:, -1]]
        if t == n - 1:
            step = step + D[paths[:, 0]]
        totals = np.where(visited, np.inf, cost[:, None] + step).ravel()
        chosen = np.argsort(totals, kind="stable")[:width]
        chosen = chosen[np.isfinite(totals[chosen])]
        parent, city = np.divmod(chosen, n)
        paths = np.column_stack([paths[parent], city])
        visited = visited[parent]
        visited[np.arange(len(city)), city] = True
        cost = totals[chosen]
    return paths[0]


def _decode_cost(D: np.ndarray, mismatch: np.ndarray, tour: np.ndarray) -> float:
    return search.tour_length(D, tour) + float(mismatch[tour, np.arange(len(tour))].sum())


def _permutation_matrix(tour: np.ndarray) -> np.ndarray:
    matrix = np.zeros((len(tour), len(tour)), dtype=bool)
    matrix[tour, np.arange(len(tour))] = True
    return matrix


def _square_matrix(distances: ArrayLike) -> np.ndarray:
    D = _numeric_array(distances, "distances")
    if D.ndim != 2 or D.shape[0] != D.shape[1]:
        raise InvalidModelError(f"distances must be a square n × n matrix, got shape {D.shape}")
    return D


def _numeric_array(values: ArrayLike, what: str) -> np.ndarray:
    try:
        return np.array(values, dtype=float)
    except (TypeError, ValueError) as err:
        raise InvalidModelError(f"the {what} must be numbers: {err}") from None


def _check_labels(labels: Sequence[Hashable] | None, n: int) -> tuple:
    if labels is None:
        return tuple(range(n))
    labels = tuple(labels)
    if len(labels) != n or len(set(labels)) != n:
        raise InvalidModelError(f"labels must be {n} distinct city names, got {len(set(labels))} distinct of {len(labels)}")
    return labels


def _check_distances(D: np.ndarray, labels: tuple, max_cities: int) -> np.ndarray:
    """``D`` checked, its diagonal zeroed, symmetrised (within rounding) and made read-only."""
    n = len(labels)
    if n < 3:
        raise InvalidModelError(f"a tour needs at least 3 cities, got {n}")
    if n > max_cities:
        raise ModelTooLargeError(_too_large_message(n, max_cities))
    np.fill_diagonal(D, 0.0)
    _name_first(~np.isfinite(D), D, labels, "must be finite")
    _name_first(D < 0, D, labels, "must not be negative")
    asymmetric = ~np.isclose(D, D.T, rtol=1e-9, atol=0.0)
    if asymmetric.any():
        i, j = np.argwhere(asymmetric)[0]
        raise InvalidModelError(
            f"the distance from {labels[i]!r} to {labels[j]!r} is {D[i, j]} but back is {D[j, i]}; TSP takes symmetric distances"
        )
    D = (D + D.T) / 2
    D.setflags(write=False)
    return D


def _name_first(bad: np.ndarray, D: np.ndarray, labels: tuple, rule: str) -> None:
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise InvalidModelError(f"the distance between {labels[i]!r} and {labels[j]!r} is {D[i, j]}; distances {rule}")


def _check_penalty(penalty: float | None, D: np.ndarray) -> float:
    if penalty is None:
        largest = float(D.max())
        return 2 * largest if largest > 0 else 1.0
    if isinstance(penalty, bool) or not isinstance(penalty, numbers.Real) or not (np.isfinite(penalty) and penalty > 0):
        raise ValueError(f"penalty must be a positive finite number, got {penalty!r}")
    return float(penalty)


def position_qubo_coo(D: np.ndarray, penalty: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The interactions of the position QUBO as COO arrays ``(rows, cols, biases)``, built city by
    city with numpy, never looping over interactions in Python.

    Variable ``(c, t)`` has index ``c·n + t``. Every interaction appears once with ``row < col``,
    sorted by row and then column: in that order dimod appends each neighbour at the end of its
    variable's list instead of inserting it (measured 0.9 s instead of 1.6 s at 150 cities). The
    neighbours of ``(c, t)`` above it are the later positions of city ``c`` (bias :math:`2\\lambda`),
    then, for each later city ``c'``, the positions ``t - 1``, ``t``, ``t + 1`` modulo ``n`` in
    increasing order (bias :math:`d_{cc'}` at ``t ± 1``, :math:`2\\lambda` at ``t``).

    Example:
        >>> import numpy as np
        >>> from gnnsolve.adapters.tsp import position_qubo_coo
        >>> rows, cols, biases = position_qubo_coo(np.array([[0, 1, 2], [1, 0, 3], [2, 3, 0]]), 10.0)
        >>> len(rows), rows[:4].tolist(), cols[:4].tolist(), biases[:4].tolist()
        (36, [0, 0, 0, 0], [1, 2, 3, 4], [20.0, 20.0, 20.0, 1.0])
    """
    n = len(D)
    t = np.arange(n)
    positions = np.sort(np.stack([(t - 1) % n, t, (t + 1) % n], axis=1), axis=1)  # [t, k]
    at_t = positions == t[:, None]
    later = np.triu(np.ones((n, n), dtype=bool), 1)  # [t, t2]: t2 comes after t
    rows = np.empty(_interactions(n), dtype=np.int32)  # dimod's own index type
    cols = np.empty_like(rows)
    biases = np.empty(len(rows))
    end = 0
    for c in range(n):
        others = np.arange(c + 1, n)
        keep = np.concatenate([later, np.ones((n, 3 * len(others)), dtype=bool)], axis=1)
        to = np.concatenate(
            [
                np.broadcast_to(c * n + t, (n, n)),
                (others[None, :, None] * n + positions[:, None, :]).reshape(n, -1),
            ],
            axis=1,
        )
        bias = np.concatenate(
            [
                np.full((n, n), 2 * penalty),
                np.where(at_t[:, None, :], 2 * penalty, D[c, others][None, :, None]).reshape(n, -1),
            ],
            axis=1,
        )
        start, end = end, end + int(keep.sum())
        rows[start:end] = np.repeat(c * n + t, keep.sum(axis=1))
        cols[start:end] = to[keep]
        biases[start:end] = bias[keep]
    return rows, cols, biases


def model_bytes(n: int) -> float:
    """The memory building the ``n``-city position QUBO takes at its peak, in bytes (see
    :data:`BUILD_BYTES_PER_INTERACTION`).

    Example:
        >>> from gnnsolve.adapters.tsp import model_bytes
        >>> round(model_bytes(150) / 1e9, 2)
        0.54
    """
    return _interactions(n) * BUILD_BYTES_PER_INTERACTION


def check_model_memory(n: int) -> None:
    """Raise :class:`ModelTooLargeError` if building the ``n``-city QUBO would take more memory than
    :func:`~gnnsolve.samplers._common.available_memory` reports."""
    needed, available = model_bytes(n), available_memory()
    if needed > available:
        raise ModelTooLargeError(
            f"{n} cities make a position QUBO of n² = {n * n:,} variables and 2n²(n-1) = {_interactions(n):,} "
            f"interactions; building it takes about {needed / 1e9:.1f} GB and {available / 1e9:.1f} GB are "
            f"available. {_WITHOUT_THE_QUBO}"
        )


_WITHOUT_THE_QUBO = (
    "Solve it without the QUBO: TSP(...).solve(LKHSampler()) runs LKH on the distances "
    "(pip install 'gnnsolve[lkh]'), and gnnsolve.search.tsp's 2-opt and Or-opt need only the distance matrix"
)


def _interactions(n: int) -> int:
    return 2 * n * n * (n - 1)


def _too_large_message(n: int, max_cities: int) -> str:
    return (
        f"{n} cities make a position QUBO of n² = {n * n:,} variables and 2n²(n-1) = {_interactions(n):,} "
        f"interactions (about {model_bytes(n) / 1e9:.1f} GB to build, several times that in a sampler), "
        f"above max_cities={max_cities}; pass a larger max_cities to build it anyway. {_WITHOUT_THE_QUBO}"
    )
