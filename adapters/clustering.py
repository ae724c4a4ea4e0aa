r"""Community detection by modularity and the k-center problem: the two problems ClusterNet solves.

ClusterNet (Wilder, Ewing, Dilkina and Tambe 2019) embeds the nodes with a GCN, clusters the
embeddings with a differentiable k-means layer (:mod:`gnnsolve.nn.kmeans`) and trains through a
differentiable surrogate of the downstream objective. Each problem here gives that surrogate
(``soft_objective``, a torch function), the exact objective (``evaluate``), a dimod model for the
exact samplers (``cqm``), and ``decode``, which turns both a sample of that model and a
graph-native sample (one value per node) into a scored :class:`~gnnsolve.adapters.problem.Solution`.

**Modularity** of a partition of an undirected graph with adjacency :math:`A`, degrees :math:`d`
and total edge weight :math:`m` (Newman 2006):

.. math::

    Q(c) = \frac{1}{2m} \sum_{i,j} \Big(A_{ij} - \frac{d_i d_j}{2m}\Big) \delta(c_i, c_j)
         = \frac{1}{2m} \operatorname{tr}(R^\top B R), \qquad B = A - \frac{d d^\top}{2m},

where :math:`R` is the one-hot ``n × k`` assignment matrix. ClusterNet's surrogate is the same
trace with the soft assignments :math:`r` of the clustering layer in place of :math:`R`. A self-loop
of weight :math:`w` counts as :math:`A_{ii} = 2w`, as in networkx.

**k-center**: choose :math:`k` nodes (facilities) minimising the largest shortest-path distance
from a node to its nearest facility, :math:`\max_v \min_{f \in S} d(v, f)`. ClusterNet's surrogate
(:meth:`KCenter.soft_objective`) takes the probability :math:`x_j` that node :math:`j` is a facility,
each chosen independently, and computes every node's expected distance to its nearest facility
exactly; a softmax over nodes (or the plain maximum) replaces the outer maximum. Soft selections
become exactly :math:`k` facilities by pipage rounding (:meth:`KCenter.round_selection`);
:func:`greedy_k_center` is the farthest-first 2-approximation of Gonzalez (1985).

Example:
    >>> import networkx as nx
    >>> from gnnsolve import HiGHSSampler
    >>> from gnnsolve.adapters.clustering import KCenter, Modularity
    >>> G = nx.karate_club_graph()
    >>> clubs = {v: int(G.nodes[v]["club"] == "Officer") for v in G}
    >>> round(Modularity(G, k=2).evaluate(clubs), 4)
    0.3582
    >>> path = KCenter(nx.path_graph(7), k=2)
    >>> path.evaluate({1, 5}), path.is_feasible({1, 5})
    (2.0, True)
    >>> best, _ = KCenter(nx.path_graph(6), k=2).solve(HiGHSSampler())
    >>> sorted(best.value), best.objective
    ([1, 4], 1.0)

References:
    B. Wilder, E. Ewing, B. Dilkina and M. Tambe, "End to End Learning and Optimization on
    Graphs", NeurIPS 2019.

    M. E. J. Newman, "Modularity and community structure in networks", PNAS 103 (2006).

    T. F. Gonzalez, "Clustering to minimize the maximum intercluster distance", Theoretical
    Computer Science 38 (1985).

    A. A. Ageev and M. I. Sviridenko, "Pipage rounding: a new method of constructing algorithms
    with proven performance guarantee", Journal of Combinatorial Optimization 8 (2004).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, Hashable, Iterable, Literal, Mapping, Sequence

import dimod
import networkx as nx
import numpy as np
import scipy.sparse
from numpy.typing import ArrayLike
from scipy.sparse.csgraph import shortest_path

from gnnsolve.adapters.problem import GraphProblem, Solution, edge_weights
from gnnsolve.errors import InvalidModelError, ModelTooLargeError, UnsupportedModelError

if TYPE_CHECKING:
    import torch

    from gnnsolve.nn.sparse import SparseOperator

__all__ = ["Modularity", "KCenter", "modularity", "greedy_k_center", "lift_to_k", "observe_edges", "MAX_MODEL_TERMS"]

MAX_MODEL_TERMS = 1_000_000
"""The most terms a dimod model of these problems may have: quadratic biases of
:attr:`Modularity.cqm` (:math:`k\\,n(n-1)/2`), variables plus constraints of :attr:`KCenter.cqm`
(about :math:`2n^2`). Larger graphs are for the graph-native ClusterNet sampler."""

Rounding = Literal["pipage", "sample", "topk"]


def _check_graph(G: nx.Graph, problem: str) -> None:
    if G.is_directed():
        raise InvalidModelError(f"{problem} needs an undirected graph; pass G.to_undirected()")
    if G.number_of_nodes() == 0:
        raise InvalidModelError(f"{problem} needs a graph with at least one node; this one is empty")


def _check_k(k: int, n: int, problem: str) -> int:
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or not 1 <= k <= n:
        raise InvalidModelError(f"{problem} needs an integer k in 1..{n} (the number of nodes), got {k!r}")
    return int(k)


def _check_size(terms: int, what: str) -> None:
    if terms > MAX_MODEL_TERMS:
        raise ModelTooLargeError(
            f"{what} would have {terms:,} terms, above MAX_MODEL_TERMS = {MAX_MODEL_TERMS:,}; "
            "solve the graph with the ClusterNet sampler, which needs no dimod model"
        )


def _decode_rows(problem: GraphProblem, sampleset: dimod.SampleSet, forms: dict[str, Iterable]) -> list[Solution]:
    """Decode every row, once the SampleSet's variables are those of one of ``forms``."""
    variables = set(sampleset.variables)
    if not any(variables == set(labels) for labels in forms.values()):
        raise InvalidModelError(
            f"the SampleSet's variables are not those of this problem; expected {' or '.join(forms)}"
        )
    return [problem.decode(sample) for sample in sampleset.samples()]


# ---------------------------------------------------------------- modularity


@dataclass(frozen=True, eq=False)
class _WeightedGraph:
    """An undirected graph in index form: each edge once (self-loops with ``rows == cols``)."""

    nodes: list
    index: dict
    rows: np.ndarray
    cols: np.ndarray
    weights: np.ndarray
    degree: np.ndarray
    two_m: float

    @classmethod
    def from_graph(cls, G: nx.Graph, weight: str | None) -> _WeightedGraph:
        nodes = list(G.nodes)
        index = {node: i for i, node in enumerate(nodes)}
        edges = edge_weights(G, weight)
        loops: dict[Hashable, float] = {}
        for u, _, w in nx.selfloop_edges(G, data=weight, default=1) if weight is not None else (
            (u, u, 1) for u, _ in nx.selfloop_edges(G)
        ):
            loops[u] = loops.get(u, 0) + w
        edges += [(u, u, w) for u, w in loops.items()]
        for u, v, w in edges:
            if w < 0:
                raise InvalidModelError(
                    f"edge ({u!r}, {v!r}) has {weight!r} = {w!r}; modularity needs non-negative weights"
                )
        rows = np.array([index[u] for u, _, _ in edges], dtype=np.int64)
        cols = np.array([index[v] for _, v, _ in edges], dtype=np.int64)
        weights = np.array([w for _, _, w in edges], dtype=np.float64)
        degree = np.bincount(rows, weights, len(nodes)) + np.bincount(cols, weights, len(nodes))
        two_m = float(degree.sum())
        if two_m <= 0:
            raise InvalidModelError(
                "modularity is undefined on a graph without edges (or of total weight 0): "
                "every partition divides by 2m = 0"
            )
        return cls(nodes, index, rows, cols, weights, degree, two_m)

    @cached_property
    def adjacency(self) -> scipy.sparse.csr_matrix:
        """:math:`A` with both directions of each edge and :math:`A_{ii} = 2w` for a loop."""
        n = len(self.nodes)
        off = self.rows != self.cols
        rows = np.concatenate([self.rows, self.cols[off]])
        cols = np.concatenate([self.cols, self.rows[off]])
        values = np.concatenate([np.where(off, 1.0, 2.0) * self.weights, self.weights[off]])
        return scipy.sparse.csr_matrix((values, (rows, cols)), shape=(n, n))

    def community_index(self, labels: Mapping[Hashable, Hashable]) -> np.ndarray:
        """Each node's community as an integer ``0..c-1`` (the labels' order of first appearance)."""
        missing = [node for node in self.nodes if node not in labels]
        if missing:
            raise InvalidModelError(f"the labels give no community for node {missing[0]!r}")
        numbering: dict[Hashable, int] = {}
        return np.array([numbering.setdefault(labels[node], len(numbering)) for node in self.nodes], dtype=np.int64)

    def modularity(self, communities: np.ndarray) -> float:
        inside = 2.0 * self.weights[communities[self.rows] == communities[self.cols]].sum()
        totals = np.bincount(communities, self.degree)
        return float(inside / self.two_m - (totals @ totals) / self.two_m**2)


def modularity(G: nx.Graph, labels: Mapping[Hashable, Hashable], weight: str | None = None) -> float:
    """The modularity :math:`Q` of the partition that ``labels`` (node → community) gives ``G``.

    Equals ``networkx.community.modularity(G, communities, weight=weight)``; communities may
    carry any hashable labels.

    Raises:
        InvalidModelError: a node has no label, the graph is directed or has no edges, or a
            weight is not a finite non-negative number.

    Example:
        >>> import networkx as nx
        >>> from gnnsolve.adapters.clustering import modularity
        >>> two_triangles = nx.Graph([(0, 1), (1, 2), (0, 2), (3, 4), (4, 5), (3, 5)])
        >>> modularity(two_triangles, {v: "ab"[v // 3] for v in two_triangles})
        0.5
    """
    _check_graph(G, "modularity")
    graph = _WeightedGraph.from_graph(G, weight)
    return graph.modularity(graph.community_index(labels))


class Modularity(GraphProblem[dict]):
    """Partition the nodes into at most ``k`` communities of maximum modularity.

    A solution is a dict node → community label in ``0..k-1``; communities may be empty, so the
    optimum over at most ``k`` communities is never below the optimum over fewer. Its energy is
    :math:`-Q`.

    The dimod forms use one BINARY variable :math:`x_{v,c}`, labelled ``(v, c)``, per node and
    community, with objective :math:`-Q` (quadratic, exact on one-hot samples):

    - :attr:`cqm` adds one discrete (one-hot) constraint per node: the exact samplers take it
      with ``sample_cqm``;
    - :attr:`bqm` adds the penalty :math:`P \\sum_v (1 - \\sum_c x_{v,c})^2` with
      :math:`P = 4 \\max_v d_v / m` (:attr:`penalty`): one variable changes :math:`Q` by at most
      :math:`2 d_v / m`, so every local minimum of the BQM is one-hot and its energy is :math:`-Q`.

    :meth:`decode` takes a sample of either form, or one integer label per node (what the
    ClusterNet sampler returns). Relabelling the communities leaves :math:`Q` unchanged; the
    models keep that symmetry.

    Args:
        G: an undirected graph; parallel edges of a multigraph add up; a self-loop of weight
            :math:`w` adds :math:`2w` to its node's degree (as in networkx).
        k: the largest number of communities, ``1 ≤ k ≤ n``.
        weight: the edge attribute holding the weight (edges without it weigh 1); ``None``
            weighs every edge 1.

    Raises:
        InvalidModelError: the graph is directed, empty or has no edges (modularity divides by
            the total weight), a weight is not a finite non-negative number (the edge is named),
            or ``k`` is not an integer in ``1..n``.

    Example:
        >>> import networkx as nx
        >>> from gnnsolve import HiGHSSampler
        >>> from gnnsolve.adapters.clustering import Modularity
        >>> problem = Modularity(nx.barbell_graph(3, 0), k=2)
        >>> best = problem.decode(HiGHSSampler().sample_cqm(problem.cqm).first.sample)
        >>> round(best.objective, 4), best.feasible
        (0.3571, True)
    """

    sense = "max"
    objective_name = "modularity"

    def __init__(self, G: nx.Graph, k: int, weight: str | None = None) -> None:
        _check_graph(G, "Modularity")
        self._graph = _WeightedGraph.from_graph(G, weight)
        self.k = _check_k(k, G.number_of_nodes(), "Modularity")
        self.graph = G
        self.weight = weight
        self._operators: dict[tuple[Any, Any], SparseOperator] = {}

    @property
    def nodes(self) -> list:
        """The nodes in the order of the rows of ``soft_objective``'s assignments."""
        return self._graph.nodes

    @property
    def penalty(self) -> float:
        """The weight of the one-hot penalty in :attr:`bqm`: :math:`4 \\max_v d_v / m`."""
        return 8.0 * float(self._graph.degree.max()) / self._graph.two_m

    @property
    def variables(self) -> list[tuple[Hashable, int]]:
        """The labels ``(v, c)`` of the dimod models' variables, node by node."""
        return [(node, c) for node in self.nodes for c in range(self.k)]

    def _objective_bqm(self) -> dimod.BinaryQuadraticModel:
        """:math:`-Q` over the BINARY :math:`x_{v,c}`: :math:`-\\frac{1}{2m}\\sum_c x_c^\\top B x_c`."""
        n, k, two_m = len(self.nodes), self.k, self._graph.two_m
        _check_size(k * n * (n - 1) // 2, "the modularity model")
        degree = self._graph.degree
        B = self._graph.adjacency.toarray() - np.outer(degree, degree) / two_m
        rows, cols = np.triu_indices(n, 1)
        bias = -2.0 * B[rows, cols] / two_m
        keep = bias != 0
        rows, cols, bias = rows[keep], cols[keep], bias[keep]
        communities = np.arange(k)
        return dimod.BinaryQuadraticModel.from_numpy_vectors(
            np.repeat(-np.diag(B) / two_m, k),
            (
                (rows[:, None] * k + communities).ravel(),
                (cols[:, None] * k + communities).ravel(),
                np.repeat(bias, k),
            ),
            0.0,
            dimod.BINARY,
            variable_order=self.variables,
        )

    def _build_bqm(self) -> dimod.BinaryQuadraticModel:
        bqm = self._objective_bqm()
        for node in self.nodes:
            bqm.add_linear_equality_constraint(
                [((node, c), 1.0) for c in range(self.k)], lagrange_multiplier=self.penalty, constant=-1.0
            )
        return bqm

    @cached_property
    def cqm(self) -> dimod.ConstrainedQuadraticModel:
        """Minimise :math:`-Q` over BINARY ``(v, c)`` with one discrete constraint per node.

        Raises:
            ModelTooLargeError: the objective would have more than :data:`MAX_MODEL_TERMS` biases.
        """
        cqm = dimod.ConstrainedQuadraticModel.from_bqm(self._objective_bqm())
        for i, node in enumerate(self.nodes):
            cqm.add_discrete([(node, c) for c in range(self.k)], label=f"one_community_{i}")
        return cqm

    def decode(self, sample: Mapping[Hashable, Any]) -> Solution[dict]:
        """The partition of a sample, scored exactly.

        Accepts one integer label per node (values such as ``2`` or ``2.0``), or a sample of
        :attr:`cqm` / :attr:`bqm` over the ``(v, c)`` variables. A node of the latter with no
        community, or several, is repaired: nodes are placed in node order, each in the
        community (among those it was given, else among all ``k``) that raises :math:`Q` most,
        given the nodes already placed.

        Raises:
            InvalidModelError: the sample is neither form, or a label is not an integer.
        """
        present = set(sample)
        if present.issuperset(self.nodes):
            return self._solution({node: _integer_label(sample[node], node) for node in self.nodes}, repaired=False)
        missing = [label for label in self.variables if label not in present]
        if missing:
            raise InvalidModelError(
                f"the sample has no value for {missing[0]!r}: give one label per node or a sample "
                "over the (node, community) variables"
            )
        given = [[c for c in range(self.k) if sample[(node, c)] > 0] for node in self.nodes]
        communities = self._repair(given)
        labels = {node: int(c) for node, c in zip(self.nodes, communities)}
        return self._solution(labels, repaired=any(len(chosen) != 1 for chosen in given))

    def _repair(self, given: list[list[int]]) -> np.ndarray:
        graph, adjacency = self._graph, self._graph.adjacency
        communities = np.array([chosen[0] if len(chosen) == 1 else -1 for chosen in given], dtype=np.int64)
        placed = communities >= 0
        totals = np.bincount(communities[placed], graph.degree[placed], minlength=self.k)
        for i in np.flatnonzero(~placed):
            start, stop = adjacency.indptr[i], adjacency.indptr[i + 1]
            neighbours, weights = adjacency.indices[start:stop], adjacency.data[start:stop]
            known = (communities[neighbours] >= 0) & (neighbours != i)
            links = np.bincount(communities[neighbours[known]], weights[known], minlength=self.k)
            gain = links - graph.degree[i] * totals / graph.two_m
            best = max(given[i] or range(self.k), key=lambda c: gain[c])
            communities[i] = best
            totals[best] += graph.degree[i]
        return communities

    def _solution(self, labels: dict, repaired: bool) -> Solution[dict]:
        objective = self.evaluate(labels)
        return Solution(labels, objective, self.is_feasible(labels), repaired, energy=-objective)

    def decode_sampleset(self, sampleset: dimod.SampleSet) -> list[Solution[dict]]:
        """Decode every row; the variables are the nodes (labels) or the ``(v, c)`` pairs.

        Raises:
            InvalidModelError: the SampleSet is over other variables.
        """
        return _decode_rows(self, sampleset, {"the nodes": self.nodes, "the (node, community) pairs": self.variables})

    def evaluate(self, value: Mapping[Hashable, Hashable]) -> float:
        """The exact modularity of the partition node → label (any hashable labels)."""
        return self._graph.modularity(self._graph.community_index(value))

    def is_feasible(self, value: Mapping[Hashable, Any]) -> bool:
        """Whether every node, and nothing else, has a label in ``0..k-1``."""
        return set(value) == set(self.nodes) and all(
            isinstance(label, numbers.Integral) and 0 <= label < self.k for label in value.values()
        )

    def soft_objective(self, r: torch.Tensor) -> torch.Tensor:
        """ClusterNet's relaxed modularity :math:`\\frac{1}{2m}\\operatorname{tr}(r^\\top B r)`.

        Computed without forming :math:`B`: :math:`\\frac{1}{2m}\\big(\\sum (r \\odot A r) -
        \\lVert d^\\top r \\rVert^2 / 2m\\big)` with :math:`A` sparse, so it costs
        :math:`O((|E| + n) k)`. On one-hot ``r`` it equals :meth:`evaluate`.

        Args:
            r: ``n × k`` soft assignments (rows summing to 1), rows in :attr:`nodes` order;
                differentiable.

        Raises:
            ValueError: ``r`` is not ``n × k``.
        """
        import torch

        from gnnsolve.nn.sparse import SparseOperator

        if tuple(r.shape) != (len(self.nodes), self.k):
            raise ValueError(f"r must have shape ({len(self.nodes)}, {self.k}), got {tuple(r.shape)}")
        key = (r.dtype, r.device)
        if key not in self._operators:
            adjacency = self._graph.adjacency.tocoo()
            self._operators[key] = SparseOperator.from_coo(
                torch.as_tensor(adjacency.row, dtype=torch.int64),
                torch.as_tensor(adjacency.col, dtype=torch.int64),
                torch.as_tensor(adjacency.data, dtype=r.dtype),
                len(self.nodes),
                symmetric=True,
            ).to(r.device)
        degree = torch.as_tensor(self._graph.degree, dtype=r.dtype, device=r.device)
        two_m = self._graph.two_m
        totals = degree @ r
        return ((r * self._operators[key].matmul(r)).sum() - (totals @ totals) / two_m) / two_m


def _integer_label(value: Any, node: Hashable) -> int:
    if isinstance(value, numbers.Real) and not isinstance(value, bool) and float(value).is_integer():
        return int(value)
    raise InvalidModelError(f"node {node!r} has community label {value!r}; labels must be integers")


# ---------------------------------------------------------------- k-center


def _shortest_paths(G: nx.Graph, index: Mapping[Hashable, int], weight: str | None) -> np.ndarray:
    """All-pairs shortest-path lengths (hops when ``weight`` is None), ``inf`` between components."""
    n = len(index)
    lengths: dict[tuple[int, int], float] = {}
    for u, v, w in G.edges(data=weight, default=1) if weight is not None else ((u, v, 1) for u, v in G.edges()):
        if isinstance(w, bool) or not isinstance(w, numbers.Real) or not math.isfinite(w) or w < 0:
            raise InvalidModelError(
                f"edge ({u!r}, {v!r}) has {weight!r} = {w!r}; distances need finite non-negative weights"
            )
        if u != v:
            key = (min(index[u], index[v]), max(index[u], index[v]))
            lengths[key] = min(lengths.get(key, math.inf), float(w))
    pairs = np.array(list(lengths), dtype=np.int64).reshape(-1, 2)
    matrix = scipy.sparse.csr_matrix((list(lengths.values()), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    return shortest_path(matrix, directed=False, unweighted=weight is None)


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

    Example:
        >>> import networkx as nx
        >>> from gnnsolve.adapters.clustering import KCenter
        >>> problem = KCenter(nx.cycle_graph(8), k=2)
        >>> problem.evaluate({0, 4}), problem.evaluate({0, 1})
        (2.0, 3.0)
        >>> problem.decode({v: int(v in (0, 1, 2)) for v in range(8)}).repaired
        True
    """

    sense = "min"
    objective_name = "largest distance"

    def __init__(self, G: nx.Graph, k: int, weight: str | None = None) -> None:
        _check_graph(G, "KCenter")
        self.k = _check_k(k, G.number_of_nodes(), "KCenter")
        self.graph = G
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
    def _capped(self) -> np.ndarray:
        """:attr:`distance_matrix` with ``inf`` replaced by :attr:`unreachable_distance`."""
        return np.where(np.isfinite(self.distance_matrix), self.distance_matrix, self.unreachable_distance)

    def _build_bqm(self) -> dimod.BinaryQuadraticModel:
        raise UnsupportedModelError(
            "k-center has no BQM form here: its min-max objective needs constraints; sample "
            "problem.cqm with a CQM sampler (HiGHSSampler().sample_cqm) or use problem.solve"
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
        REAL; the exact samplers take only the former (scale fractional lengths to integers).

        Raises:
            ModelTooLargeError: about :math:`2n^2` terms exceed :data:`MAX_MODEL_TERMS`.
            InvalidModelError: a node is labelled ``"radius"`` or ``("serve", u, v)``.
        """
        n = len(self.nodes)
        _check_size(2 * n * n, "the k-center model")
        clashes = [
            node for node in self.nodes if node == "radius" or (isinstance(node, tuple) and node[:1] == ("serve",))
        ]
        if clashes:
            raise InvalidModelError(f"node {clashes[0]!r} clashes with a label of the k-center model; relabel it")
        distances = self._capped
        integral = bool(np.array_equal(distances, np.round(distances)))
        cqm = dimod.ConstrainedQuadraticModel()
        cqm.add_variables(dimod.BINARY, self.nodes)
        serve = [[("serve", u, v) for v in self.nodes] for u in self.nodes]
        cqm.add_variables(dimod.BINARY, [label for row in serve for label in row])
        cqm.add_variable(
            dimod.INTEGER if integral else dimod.REAL, "radius", lower_bound=0, upper_bound=self.unreachable_distance
        )
        cqm.set_objective([("radius", 1.0)])
        cqm.add_constraint_from_iterable([(node, 1.0) for node in self.nodes], "==", self.k, label="k_facilities")
        for i, row in enumerate(serve):
            cqm.add_constraint_from_iterable([(label, 1.0) for label in row], "==", 1, label=f"served_{i}")
            cqm.add_constraint_from_iterable(
                [("radius", 1.0)] + [(label, -d) for label, d in zip(row, distances[i]) if d], ">=", 0,
                label=f"radius_{i}",
            )
            for j, label in enumerate(row):
                cqm.add_constraint_from_iterable([(label, 1.0), (self.nodes[j], -1.0)], "<=", 0, label=f"open_{i}_{j}")
        return cqm

    def solve(self, sampler: dimod.Sampler, **sample_kwargs: Any) -> tuple[Solution[frozenset], dimod.SampleSet]:
        """Sample :attr:`cqm` with ``sampler.sample_cqm`` and return the best decoded solution.

        Raises:
            UnsupportedModelError: the sampler has no ``sample_cqm``.
        """
        if not hasattr(sampler, "sample_cqm"):
            raise UnsupportedModelError(
                f"{type(sampler).__name__} takes no CQM; k-center needs a CQM sampler such as HiGHSSampler"
            )
        sampleset = sampler.sample_cqm(self.cqm, **{**self.sample_defaults(sampler), **sample_kwargs})
        return self.best_solution(sampleset), sampleset

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
        return _decode_rows(self, sampleset, forms)

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
            order = np.argsort(self._capped, axis=1, kind="stable")
            ranked = np.take_along_axis(self._capped, order, axis=1)
            steps = ranked - np.hstack([ranked[:, 1:], np.full((len(ranked), 1), self.unreachable_distance)])
            self._sorted[key] = (
                torch.as_tensor(order, device=x.device),
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


def greedy_k_center(
    G: nx.Graph, k: int, seed: int | np.random.Generator | None = None, weight: str | None = None
) -> frozenset:
    """Gonzalez's farthest-first traversal: a 2-approximation of k-center.

    Starts from a node drawn with ``seed``, then repeatedly adds the node farthest from the
    chosen ones (the first in ``G.nodes`` on ties). On a disconnected graph an unreachable node
    counts as farthest, so every component gets a facility while ``k`` lasts.

    Raises:
        InvalidModelError: as :class:`KCenter`.

    Example:
        >>> import networkx as nx
        >>> from gnnsolve.adapters.clustering import KCenter, greedy_k_center
        >>> G = nx.path_graph(9)
        >>> centres = greedy_k_center(G, 3, seed=0)
        >>> len(centres), KCenter(G, 3).evaluate(centres) <= 2 * 1
        (3, True)
    """
    problem = KCenter(G, k, weight)
    start = int(np.random.default_rng(seed).integers(len(problem.nodes)))
    return frozenset(problem.nodes[i] for i in _farthest_first(problem.distance_matrix, [start], k))


# ---------------------------------------------------------------- partial observation


def observe_edges(G: nx.Graph, fraction: float = 0.4, seed: int | np.random.Generator | None = None) -> nx.Graph:
    """The partially observed graph of ClusterNet's experiments: every node, a random share of the edges.

    Wilder et al. (2019) train on a graph that shows only a fraction of the edges (40% in the
    paper) and score decisions on the full graph. This returns a new graph of ``G``'s type with
    all of ``G``'s nodes (and their data, and the graph's attributes) and
    ``round(fraction * |E|)`` of its edges (halves round up), drawn uniformly without replacement;
    each kept edge keeps its data (and its key in a multigraph). ``G`` is not changed.

    Args:
        G: any networkx graph.
        fraction: the share of edges to keep, ``0 < fraction ≤ 1``.
        seed: an integer or ``numpy.random.Generator``; the same seed keeps the same edges.

    Raises:
        ValueError: ``fraction`` is not a number in ``(0, 1]``.

    Example:
        >>> import networkx as nx
        >>> from gnnsolve.adapters.clustering import observe_edges
        >>> G = nx.karate_club_graph()
        >>> H = observe_edges(G, 0.4, seed=0)
        >>> H.number_of_nodes(), H.number_of_edges(), round(0.4 * G.number_of_edges())
        (34, 31, 31)
        >>> all(G.has_edge(u, v) for u, v in H.edges), sorted(H.edges) == sorted(observe_edges(G, 0.4, seed=0).edges)
        (True, True)
    """
    if (
        isinstance(fraction, bool)
        or not isinstance(fraction, numbers.Real)
        or not math.isfinite(fraction)
        or not 0 < fraction <= 1
    ):
        raise ValueError(
            f"fraction must be a number with 0 < fraction <= 1 (the share of edges kept), got {fraction!r}"
        )
    edges = list(G.edges(keys=True, data=True)) if G.is_multigraph() else list(G.edges(data=True))
    keep = math.floor(float(fraction) * len(edges) + 0.5)
    picked = np.sort(np.random.default_rng(seed).choice(len(edges), size=keep, replace=False))
    H = G.__class__()
    H.graph.update(G.graph)
    H.add_nodes_from(G.nodes(data=True))
    H.add_edges_from(edges[i] for i in picked)
    return H
