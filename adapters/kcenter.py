r"""The k-center problem: choose ``k`` facility nodes, minimising the largest distance to the nearest one.

:class:`KCenter` chooses :math:`k` nodes (facilities) minimising the largest shortest-path
distance from a node to its nearest facility, :math:`\max_v \min_{f \in S} d(v, f)`. ClusterNet's
surrogate (:meth:`KCenter.soft_objective`) takes the probability :math:`x_j` that node :math:`j`
is a facility, each chosen independently, and computes every node's expected distance to its
nearest facility exactly; a softmax over nodes (or the plain maximum) replaces the outer maximum.
Soft selections become exactly :math:`k` facilities by pipage rounding
(:meth:`KCenter.round_selection`, after :func:`lift_to_k`); :func:`greedy_k_center` is the
farthest-first 2-approximation of Gonzalez (1985).

Example:
    >>> import networkx as nx
    >>> from gnnsolve import HiGHSSampler
    >>> from gnnsolve.adapters.kcenter import KCenter
    >>> path = KCenter(nx.path_graph(7), k=2)
    >>> path.evaluate({1, 5}), path.is_feasible({1, 5})
    (2.0, True)
    >>> best, _ = KCenter(nx.path_graph(6), k=2).solve(HiGHSSampler())
    >>> sorted(best.value), best.objective
    ([1, 4], 1.0)

References:
    B. Wilder, E. Ewing, B. Dilkina and M. Tambe, "End to End Learning and Optimization on
    Graphs", NeurIPS 2019.

    T. F. Gonzalez, "Clustering to minimize the maximum intercluster distance", Theoretical
    Computer Science 38 (1985).

    A. A. Ageev and M. I. Sviridenko, "Pipage rounding: a new method of constructing algorithms
    with proven performance guarantee", Journal of Combinatorial Optimization 8 (2004).
"""

from __future__ import annotations

import math
import numbers
from functools import cached_property
from typing import TYPE_CHECKING, Any, Hashable, Iterable, Literal, Mapping, Sequence

import dimod
import networkx as nx
import numpy as np
import scipy.sparse
from numpy.typing import ArrayLike
from scipy.sparse.csgraph import shortest_path

from gnnsolve.adapters._clustering_common import check_graph, check_k, check_size, decode_rows
from gnnsolve.adapters.problem import GraphProblem, Solution
from gnnsolve.errors import InvalidModelError, ModelTooLargeError, UnsupportedModelError
from gnnsolve.samplers._common import available_memory

if TYPE_CHECKING:
    import torch

__all__ = ["KCenter", "greedy_k_center", "lift_to_k", "check_pair_memory", "DISTANCE_BYTES_PER_PAIR"]

DISTANCE_BYTES_PER_PAIR = 24
"""Peak bytes per pair of nodes while :class:`KCenter` holds its distances: the shortest-path matrix,
scipy's working copy and the capped matrix, 8 bytes each (17 measured at 3,000 nodes before the
capped one). 20,000 nodes thus take about 9.6 GB."""

Rounding = Literal["pipage", "sample", "topk"]


def _shortest_paths(G: nx.Graph, index: Mapping[Hashable, int], weight: str | None) -> np.ndarray:
    """All-pairs shortest-path lengths (hops when ``weight`` is None), ``inf`` between components."""
    n = len(index)
    lengths: dict[tuple[int, int], float] = {}
    for u, v, w in G.edges(data=weight, default=1) if weight is not None else ((u, v, 1) for u, v in G.edges()):
        if isinstance(w, bool) or not isinstance(w, numbers.Real) or not math.isfinite(w) or w < 0:
            raise InvalidModelError(f"edge ({u!r}, {v!r}) has {weight!r} = {w!r}; distances need finite non-negative weights")
        if u != v:
            key = (min(index[u], index[v]), max(index[u], index[v]))
            lengths[key] = min(lengths.get(key, math.inf), float(w))
    pairs = np.array(list(lengths), dtype=np.int64).reshape(-1, 2)
    matrix = scipy.sparse.csr_matrix((list(lengths.values()), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    return shortest_path(matrix, directed=False, unweighted=weight is None)


def check_pair_memory(n: int, bytes_per_pair: float, what: str) -> None:
    """Raise :class:`~gnnsolve.errors.ModelTooLargeError` if ``what``, taking ``bytes_per_pair`` for
    each of the ``n²`` pairs of nodes, needs more memory than
    :func:`~gnnsolve.samplers._common.available_memory` reports; the error names both and the most
    nodes that would fit.

    Example:
        >>> from gnnsolve.adapters.kcenter import check_pair_memory
        >>> check_pair_memory(100, 24, "the distances")  # 240 kB
        >>> check_pair_memory(10**9, 24, "the distances")
        Traceback (most recent call last):
        ...
        gnnsolve.errors.ModelTooLargeError: k-center on 1,000,000,000 nodes: the distances take about ...
    """
    needed, available = bytes_per_pair * float(n) ** 2, available_memory()
    if needed > available:
        fits = int(math.sqrt(available / bytes_per_pair))
        raise ModelTooLargeError(
            f"k-center on {n:,} nodes: {what} take about {needed / 1e9:,.1f} GB (n² pairs, {bytes_per_pair:g} "
            f"bytes each) and {available / 1e9:,.1f} GB are available, enough for about {fits:,} nodes; solve "
            "k-center on a smaller graph (a component, or a sample of the nodes)"
        )


def _farthest_first(distances: np.ndarray, chosen: Sequence[int], k: int) -> list[int]:
    """Extend ``chosen`` to ``k`` indices, each time adding the node farthest from the chosen ones
    (the first such node on ties; unreachable nodes count as farthest)."""
    chosen = list(chosen)
    nearest = distances[:, chosen].min(axis=1) if chosen else np.full(len(distances), math.inf)
    nearest[chosen] = -math.inf
    while len(chosen) < k:
        far = int(np.argmax(nearest))
        chosen.append(far)
        nearest = np.minimum(nearest, distances[:, far])
        nearest[far] = -math.inf
    return chosen


class KCenter(GraphProblem[frozenset]):
    """Choose ``k`` facility nodes minimising the largest distance from a node to its nearest one.

    A solution is a frozenset of ``k`` nodes; its objective (and energy) is
    :math:`\\max_v \\min_{f \\in S} d(v, f)` with :math:`d` the shortest-path length: hops when
    ``weight`` is None, else the sum of edge weights.

    **Disconnected graphs** are allowed. Nodes in different components are at distance
    ``inf`` in :attr:`distance_matrix`, so :meth:`evaluate` returns ``math.inf`` when some
    component has no facility (always the case when ``k`` is below the number of components).
    The models and the surrogate need finite numbers: they use :attr:`unreachable_distance`, the
    largest finite distance plus 1, for such pairs. As it exceeds every finite distance, a
    minimum of :attr:`cqm` puts a facility in every component whenever ``k`` allows it.

    **No BQM.** The min-max objective has no compact penalty form: :attr:`bqm` raises
    :class:`~gnnsolve.errors.UnsupportedModelError`, and :meth:`solve` samples :attr:`cqm` with
    the sampler's ``sample_cqm``.

    Args:
        G: an undirected graph; self-loops are ignored; the shortest of parallel edges counts.
        k: the number of facilities, ``1 ≤ k ≤ n``.
        weight: the edge attribute holding the length (edges without it have length 1);
            ``None`` measures hops.

    Raises:
        InvalidModelError: the graph is directed or empty, a length is not a finite non-negative
            number (the edge is named), or ``k`` is not an integer in ``1..n``.
        ModelTooLargeError: the all-pairs distances (:data:`DISTANCE_BYTES_PER_PAIR` bytes a pair)
            would not fit in the memory available (:func:`check_pair_memory`); refused before
            anything is built.

    Example:
        >>> import networkx as nx
        >>> from gnnsolve.adapters.kcenter import KCenter
        >>> problem = KCenter(nx.cycle_graph(8), k=2)
        >>> problem.evaluate({0, 4}), problem.evaluate({0, 1})
        (2.0, 3.0)
        >>> problem.decode({v: int(v in (0, 1, 2)) for v in range(8)}).repaired
        True
    """

    sense = "min"
    objective_name = "largest distance"
    prefers_cqm = True

    def __init__(self, G: nx.Graph, k: int, weight: str | None = None) -> None:
        check_graph(G, "KCenter")
        self.k = check_k(k, G.number_of_nodes(), "KCenter")
        check_pair_memory(G.number_of_nodes(), DISTANCE_BYTES_PER_PAIR, "the all-pairs distances")
        self.graph: nx.Graph = G
        self.weight = weight
        self.nodes = list(G.nodes)
        self._index = {node: i for i, node in enumerate(self.nodes)}
        self.distance_matrix: np.ndarray = _shortest_paths(G, self._index, weight)
        """Shortest-path lengths between the nodes in :attr:`nodes` order; ``inf`` between components."""
        self.distance_matrix.setflags(write=False)
        reachable = np.isfinite(self.distance_matrix)
        self.unreachable_distance = float(self.distance_matrix[reachable].max()) + 1.0
        """The finite stand-in for ``inf`` in :attr:`cqm` and :meth:`soft_objective`."""
        self._sorted: dict[tuple[Any, Any], tuple[torch.Tensor, torch.Tensor]] = {}

    @cached_property
    def capped_distances(self) -> np.ndarray:
        """:attr:`distance_matrix` with ``inf`` replaced by :attr:`unreachable_distance`."""
        return np.where(np.isfinite(self.distance_matrix), self.distance_matrix, self.unreachable_distance)

    def _build_bqm(self) -> dimod.BinaryQuadraticModel:
        raise UnsupportedModelError(
            "k-center has no BQM form here: its min-max objective needs constraints; solve it with a "
            "CQM sampler (HiGHSSampler().sample_cqm(problem.cqm)) or ClusterNetSampler"
        )

    @cached_property
    def cqm(self) -> dimod.ConstrainedQuadraticModel:
        """The facility-location MILP of k-center.

        BINARY :math:`y_j` (``j`` is a facility, labelled by the node itself), BINARY
        :math:`x_{ij}` (``i`` is served by ``j``, labelled ``("serve", i, j)``) and the radius
        :math:`z` (``"radius"``, in ``[0, unreachable_distance]``):

        .. math::

            \\min z \\quad \\text{s.t.} \\quad \\sum_j x_{ij} = 1, \\quad x_{ij} \\le y_j, \\quad
            \\sum_j y_j = k, \\quad z \\ge \\sum_j d_{ij} x_{ij}.

        :math:`z` is INTEGER when every distance is an integer (always for hop distances), else
        REAL; the exact samplers take both.

        Raises:
            ModelTooLargeError: about :math:`2n^2` terms exceed :data:`~gnnsolve.adapters.clustering.MAX_MODEL_TERMS`.
            InvalidModelError: a node is labelled ``"radius"`` or ``("serve", u, v)``.
        """
        n = len(self.nodes)
        check_size(2 * n * n, "the k-center model")
        clashes = [node for node in self.nodes if node == "radius" or (isinstance(node, tuple) and node[:1] == ("serve",))]
        if clashes:
            raise InvalidModelError(f"node {clashes[0]!r} clashes with a label of the k-center model; relabel it")
        distances = self.capped_distances
        integral = bool(np.array_equal(distances, np.round(distances)))
        cqm = dimod.ConstrainedQuadraticModel()
        cqm.add_variables(dimod.BINARY, self.nodes)
        serve = [[("serve", u, v) for v in self.nodes] for u in self.nodes]
        cqm.add_variables(dimod.BINARY, [label for row in serve for label in row])
        cqm.add_variable(
            dimod.Vartype.INTEGER if integral else dimod.Vartype.REAL,
            "radius",
            lower_bound=0,
            upper_bound=self.unreachable_distance,
        )
        cqm.set_objective([("radius", 1.0)])
        cqm.add_constraint_from_iterable([(node, 1.0) for node in self.nodes], "==", self.k, label="k_facilities")
        for i, row in enumerate(serve):
            cqm.add_constraint_from_iterable([(label, 1.0) for label in row], "==", 1, label=f"served_{i}")
            cqm.add_constraint_from_iterable(
                [("radius", 1.0)] + [(label, -d) for label, d in zip(row, distances[i]) if d],
                ">=",
                0,
                label=f"radius_{i}",
            )
            for j, label in enumerate(row):
                cqm.add_constraint_from_iterable([(label, 1.0), (self.nodes[j], -1.0)], "<=", 0, label=f"open_{i}_{j}")
        return cqm

    def decode(self, sample: Mapping[Hashable, Any]) -> Solution[frozenset]:
        """The facilities of a sample: the nodes with a positive value, repaired to exactly ``k``.

        Accepts one 0/1 value per node (what the ClusterNet sampler returns) or a sample of
        :attr:`cqm` (its node variables are the :math:`y_j`; the rest is recomputed). Too many
        facilities are dropped one at a time, each time the one whose removal raises the
        objective least; too few are completed farthest-first.

        Raises:
            InvalidModelError: a node has no value in the sample.
        """
        present = set(sample)
        missing = [node for node in self.nodes if node not in present]
        if missing:
            raise InvalidModelError(f"the sample has no value for node {missing[0]!r}; give one 0/1 value per node")
        chosen = [i for i, node in enumerate(self.nodes) if sample[node] > 0]
        value = frozenset(self.nodes[i] for i in self._repair(chosen))
        objective = self.evaluate(value)
        return Solution(value, objective, self.is_feasible(value), len(chosen) != self.k, energy=objective)

    def _repair(self, chosen: list[int]) -> list[int]:
        chosen = list(chosen)
        while len(chosen) > self.k:
            radii = [self._radius(chosen[:t] + chosen[t + 1 :]) for t in range(len(chosen))]
            del chosen[int(np.argmin(radii))]
        return _farthest_first(self.distance_matrix, chosen, self.k)

    def _radius(self, chosen: Sequence[int]) -> float:
        return float(self.distance_matrix[:, list(chosen)].min(axis=1).max()) if len(chosen) else math.inf

    def decode_sampleset(self, sampleset: dimod.SampleSet) -> list[Solution[frozenset]]:
        """Decode every row; the variables are the nodes or those of :attr:`cqm`.

        Raises:
            InvalidModelError: the SampleSet is over other variables.
        """
        forms = {"the nodes": self.nodes}
        if set(sampleset.variables) != set(self.nodes):
            serve = (("serve", u, v) for u in self.nodes for v in self.nodes)
            forms["the variables of cqm"] = [*self.nodes, *serve, "radius"]
        return decode_rows(self, sampleset, forms)

    def evaluate(self, value: Iterable[Hashable]) -> float:
        """:math:`\\max_v \\min_{f} d(v, f)` over the facilities ``value``; ``inf`` if some node
        cannot reach any of them (or there are none).

        Raises:
            InvalidModelError: a facility is not a node of the graph.
        """
        unknown = [node for node in value if node not in self._index]
        if unknown:
            raise InvalidModelError(f"facility {unknown[0]!r} is not a node of the graph")
        return self._radius([self._index[node] for node in value])

    def is_feasible(self, value: Iterable[Hashable]) -> bool:
        """Whether ``value`` holds exactly ``k`` distinct nodes of the graph."""
        chosen = list(value)
        return len(chosen) == self.k and len(set(chosen)) == self.k and all(node in self._index for node in chosen)

    def soft_objective(self, x: torch.Tensor, beta: float | None = None) -> torch.Tensor:
        """ClusterNet's differentiable k-center objective for facility probabilities ``x``.

        Each node :math:`j` is a facility independently with probability :math:`x_j`. For node
        :math:`i`, sort the distances :math:`d_{i(1)} \\le \\dots \\le d_{i(n)}` (unreachable ones
        are :attr:`unreachable_distance` :math:`= D`) and let :math:`d_{i(n+1)} = D`, the
        distance when no facility is chosen. Its expected distance to the nearest facility is

        .. math::

            e_i = D + \\sum_{l=1}^{n} \\big(d_{i(l)} - d_{i(l+1)}\\big)
                  \\Big(1 - \\prod_{l' \\le l} \\big(1 - x_{(l')}\\big)\\Big),

        exact (on 0/1 ``x`` it is the distance to the nearest chosen node). The maximum over
        nodes becomes :math:`\\sum_i \\operatorname{softmax}(\\beta e)_i\\, e_i` for an inverse
        temperature ``beta`` (``0`` gives the mean), or stays :math:`\\max_i e_i` when ``beta`` is
        None. Costs :math:`O(n^2)` time and memory.

        Args:
            x: ``n`` probabilities in ``[0, 1]`` in :attr:`nodes` order (they need not sum to
                ``k``); differentiable.
            beta: the softmax's inverse temperature, or None for the hard maximum.

        Raises:
            ValueError: ``x`` does not have shape ``(n,)``.
        """
        import torch

        if tuple(x.shape) != (len(self.nodes),):
            raise ValueError(f"x must have shape ({len(self.nodes)},), got {tuple(x.shape)}")
        key = (x.dtype, x.device)
        if key not in self._sorted:
            nearest_first = np.argsort(self.capped_distances, axis=1, kind="stable")
            ranked = np.take_along_axis(self.capped_distances, nearest_first, axis=1)
            steps = ranked - np.hstack([ranked[:, 1:], np.full((len(ranked), 1), self.unreachable_distance)])
            self._sorted[key] = (
                torch.as_tensor(nearest_first, device=x.device),
                torch.as_tensor(steps, dtype=x.dtype, device=x.device),
            )
        order, steps = self._sorted[key]
        reached = 1 - torch.cumprod(1 - x[order], dim=1)
        expected = self.unreachable_distance + (steps * reached).sum(dim=1)
        if beta is None:
            return expected.max()
        return torch.softmax(beta * expected, dim=0) @ expected

    def round_selection(
        self, y: ArrayLike | torch.Tensor, method: Rounding = "pipage", seed: int | np.random.Generator | None = None
    ) -> frozenset:
        """Exactly ``k`` facilities from soft selection weights ``y`` (one per node, in :attr:`nodes` order).

        Methods:
            ``"pipage"``: pipage rounding on the cardinality constraint (Ageev and Sviridenko
                2004): ``y`` must lie in ``[0, 1]`` and sum to ``k``; each node is chosen with
                probability ``y_j`` exactly.
            ``"sample"``: ``k`` draws without replacement, each proportional to ``y`` among the
                nodes not yet drawn; needs at least ``k`` positive weights.
            ``"topk"``: the ``k`` largest weights (the first node on ties); ignores ``seed``.

        Args:
            y: non-negative weights, a numpy array, sequence or torch tensor.
            method: one of the above.
            seed: an integer or ``numpy.random.Generator``; the same seed gives the same nodes.

        Raises:
            ValueError: ``y`` has the wrong shape, a negative or non-finite entry, does not meet
                the method's condition, or ``method`` is unknown.
        """
        if hasattr(y, "detach"):
            y = y.detach().cpu().numpy()
        y = np.asarray(y, dtype=np.float64)
        n, k = len(self.nodes), self.k
        if y.shape != (n,) or not np.all(np.isfinite(y)) or np.any(y < 0):
            raise ValueError(f"y must hold {n} finite non-negative weights, got shape {y.shape}")
        rng = np.random.default_rng(seed)
        if method == "pipage":
            if y.max() > 1 + 1e-9 or abs(y.sum() - k) > 1e-6:
                raise ValueError(
                    f"pipage rounding keeps each y_j as a probability: y must lie in [0, 1] and sum to "
                    f"k={k} (it sums to {y.sum():.6g}); rescale it or use method='sample'"
                )
            picked = np.flatnonzero(_pipage(np.clip(y, 0.0, 1.0), rng))
        elif method == "sample":
            if np.count_nonzero(y) < k:
                raise ValueError(f"method='sample' needs at least k={k} positive weights, got {np.count_nonzero(y)}")
            picked = rng.choice(n, size=k, replace=False, p=y / y.sum())
        elif method == "topk":
            picked = np.argsort(-y, kind="stable")[:k]
        else:
            raise ValueError(f"unknown rounding method {method!r}; use 'pipage', 'sample' or 'topk'")
        return frozenset(self.nodes[i] for i in picked)


def lift_to_k(x: np.ndarray, k: int) -> np.ndarray:
    """Selections in ``[0, 1]`` summing to exactly ``k``, as :meth:`KCenter.round_selection` with
    pipage rounding needs: a sum above ``k`` is scaled down, one below is raised in proportion to
    each entry's room below 1.

    Example:
        >>> lift_to_k(np.array([0.5, 0.5, 0.0]), 2).tolist()
        [0.75, 0.75, 0.5]
    """
    x = np.clip(np.asarray(x, dtype=np.float64), 0.0, 1.0)
    total = x.sum()
    if total > k:
        return x * (k / total)
    room = 1.0 - x
    return x + (k - total) * room / room.sum()


def _pipage(x: np.ndarray, rng: np.random.Generator, tol: float = 1e-9) -> np.ndarray:
    """Round ``x`` (entries in [0, 1], integral sum) to 0/1 with the same sum and expectation.

    Two fractional entries move mass between them, up by one step or down by the other, with
    probabilities that keep both expectations, until one of them is integral.
    """
    x = x.copy()
    current = None
    for j in np.flatnonzero((x > tol) & (x < 1 - tol)):
        if current is None:
            current = j
            continue
        i = current
        up, down = min(1 - x[i], x[j]), min(x[i], 1 - x[j])
        step = up if rng.random() * (up + down) < down else -down
        x[i] += step
        x[j] -= step
        current = next((t for t in (i, j) if tol < x[t] < 1 - tol), None)
    return x > 0.5


def greedy_k_center(G: nx.Graph, k: int, seed: int | np.random.Generator | None = None, weight: str | None = None) -> frozenset:
    """Gonzalez's farthest-first traversal: a 2-approximation of k-center.

    Starts from a node drawn with ``seed``, then repeatedly adds the node farthest from the
    chosen ones (the first in ``G.nodes`` on ties). On a disconnected graph an unreachable node
    counts as farthest, so every component gets a facility while ``k`` lasts.

    Raises:
        InvalidModelError: as :class:`KCenter`.

    Example:
        >>> import networkx as nx
        >>> from gnnsolve.adapters.kcenter import KCenter, greedy_k_center
        >>> G = nx.path_graph(9)
        >>> centres = greedy_k_center(G, 3, seed=0)
        >>> len(centres), KCenter(G, 3).evaluate(centres) <= 2 * 1
        (3, True)
    """
    problem = KCenter(G, k, weight)
    start = int(np.random.default_rng(seed).integers(len(problem.nodes)))
    return frozenset(problem.nodes[i] for i in _farthest_first(problem.distance_matrix, [start], k))
