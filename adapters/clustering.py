r"""Community detection by modularity, and the overview of the clustering problems ClusterNet solves.

ClusterNet (Wilder, Ewing, Dilkina and Tambe 2019) embeds the nodes with a GCN, clusters the
embeddings with a differentiable k-means layer (:mod:`gnnsolve.nn.kmeans`) and trains through a
differentiable surrogate of the downstream objective. Each problem gives that surrogate
(``soft_objective``, a torch function), the exact objective (``evaluate``), a dimod model for the
exact samplers (``cqm``), and ``decode``, which turns both a sample of that model and a
graph-native sample (one value per node) into a scored :class:`~gnnsolve.adapters.problem.Solution`.
The problems, each importable from here:

- :class:`Modularity` (this module): a partition into at most :math:`k` communities of largest
  modularity, with :func:`modularity` to score any partition;
- :class:`~gnnsolve.adapters.pairwise.PairwiseClustering`: the k-way assignment form of a CQM
  (k-way correlation clustering), which :attr:`Modularity.cqm` is;
- :class:`~gnnsolve.adapters.kcenter.KCenter`: :math:`k` facilities of smallest largest distance,
  with :func:`~gnnsolve.adapters.kcenter.greedy_k_center` and
  :func:`~gnnsolve.adapters.kcenter.lift_to_k`.

:func:`observe_edges` draws the partially observed graph ClusterNet trains on.

**Modularity** of a partition of an undirected graph with adjacency :math:`A`, degrees :math:`d`
and total edge weight :math:`m` (Newman 2006):

.. math::

    Q(c) = \frac{1}{2m} \sum_{i,j} \Big(A_{ij} - \frac{d_i d_j}{2m}\Big) \delta(c_i, c_j)
         = \frac{1}{2m} \operatorname{tr}(R^\top B R), \qquad B = A - \frac{d d^\top}{2m},

where :math:`R` is the one-hot ``n × k`` assignment matrix. ClusterNet's surrogate is the same
trace with the soft assignments :math:`r` of the clustering layer in place of :math:`R`. A self-loop
of weight :math:`w` counts as :math:`A_{ii} = 2w`, as in networkx.

Example:
    >>> import networkx as nx
    >>> from gnnsolve.adapters.clustering import KCenter, Modularity, PairwiseClustering, observe_edges
    >>> G = nx.karate_club_graph()
    >>> clubs = {v: int(G.nodes[v]["club"] == "Officer") for v in G}
    >>> round(Modularity(G, k=2).evaluate(clubs), 4)
    0.3582
    >>> round(PairwiseClustering.from_cqm(Modularity(G, k=2).cqm).evaluate(clubs), 4)
    -0.3582
    >>> KCenter(G, k=2).evaluate({0, 33})
    2.0
    >>> round(Modularity(observe_edges(G, 0.4, seed=0), k=2).evaluate(clubs), 4)
    0.3704

References:
    B. Wilder, E. Ewing, B. Dilkina and M. Tambe, "End to End Learning and Optimization on
    Graphs", NeurIPS 2019.

    M. E. J. Newman, "Modularity and community structure in networks", PNAS 103 (2006).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, Hashable, Mapping

import dimod
import networkx as nx
import numpy as np
import scipy.sparse

from gnnsolve.adapters._assignment import (
    assignment_bqm,
    assignment_operator,
    check_assignments,
    community_index,
    integer_label,
    is_assignment,
    one_hot_cqm,
    place,
)
from gnnsolve.adapters._clustering_common import MAX_MODEL_TERMS, check_graph, check_k, check_size, decode_rows
from gnnsolve.adapters.kcenter import KCenter, greedy_k_center, lift_to_k
from gnnsolve.adapters.pairwise import PairwiseClustering
from gnnsolve.adapters.problem import GraphProblem, Solution, edge_weights
from gnnsolve.errors import InvalidModelError

if TYPE_CHECKING:
    import torch

    from gnnsolve.nn.sparse import SparseOperator

__all__ = [
    "Modularity",
    "PairwiseClustering",
    "KCenter",
    "modularity",
    "greedy_k_center",
    "lift_to_k",
    "observe_edges",
    "MAX_MODEL_TERMS",
]


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
        for u, _, w in (
            nx.selfloop_edges(G, data=weight, default=1) if weight is not None else ((u, u, 1) for u, _ in nx.selfloop_edges(G))
        ):
            loops[u] = loops.get(u, 0) + w
        edges += [(u, u, w) for u, w in loops.items()]
        for u, v, w in edges:
            if w < 0:
                raise InvalidModelError(f"edge ({u!r}, {v!r}) has {weight!r} = {w!r}; modularity needs non-negative weights")
        rows = np.array([index[u] for u, _, _ in edges], dtype=np.int64)
        cols = np.array([index[v] for _, v, _ in edges], dtype=np.int64)
        weights = np.array([w for _, _, w in edges], dtype=np.float64)
        degree = np.bincount(rows, weights, len(nodes)) + np.bincount(cols, weights, len(nodes))
        two_m = float(degree.sum())
        if two_m <= 0:
            raise InvalidModelError(
                "modularity is undefined on a graph without edges (or of total weight 0): every partition divides by 2m = 0"
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
    check_graph(G, "modularity")
    graph = _WeightedGraph.from_graph(G, weight)
    return graph.modularity(community_index(graph.nodes, labels))


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
        check_graph(G, "Modularity")
        self._graph = _WeightedGraph.from_graph(G, weight)
        self.k = check_k(k, G.number_of_nodes(), "Modularity")
        self.graph: nx.Graph = G
        self.weight = weight
        self._operators: dict[tuple[Any, Any], SparseOperator] = {}

    @property
    def nodes(self) -> list:
        """The nodes in the order of the rows of ``soft_objective``'s assignments."""
        return self._graph.nodes

    @property
    def adjacency(self) -> scipy.sparse.csr_matrix:
        """The weighted adjacency matrix :math:`A` in :attr:`nodes` order (a self-loop of weight
        :math:`w` as :math:`A_{ii} = 2w`)."""
        return self._graph.adjacency

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
        check_size(k * n * (n - 1) // 2, "the modularity model")
        degree = self._graph.degree
        B = self._graph.adjacency.toarray() - np.outer(degree, degree) / two_m
        rows, cols = np.triu_indices(n, 1)
        bias = -2.0 * B[rows, cols] / two_m
        keep = bias != 0
        return assignment_bqm(self.nodes, k, -np.diag(B) / two_m, rows[keep], cols[keep], bias[keep], 0.0)

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
        return one_hot_cqm(self._objective_bqm(), self.nodes, self.k)

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
            return self._scored({node: integer_label(sample[node], node) for node in self.nodes}, repaired=False)
        missing = [label for label in self.variables if label not in present]
        if missing:
            raise InvalidModelError(
                f"the sample has no value for {missing[0]!r}: give one label per node or a sample "
                "over the (node, community) variables"
            )
        given = [[c for c in range(self.k) if sample[(node, c)] > 0] for node in self.nodes]
        graph = self._graph
        communities = place(graph.adjacency, given, self.k, graph.degree, graph.two_m)
        labels = {node: int(c) for node, c in zip(self.nodes, communities)}
        return self._scored(labels, repaired=any(len(chosen) != 1 for chosen in given))

    def _scored(self, labels: dict, repaired: bool) -> Solution[dict]:
        objective = self.evaluate(labels)
        return Solution(labels, objective, self.is_feasible(labels), repaired, energy=-objective)

    def decode_sampleset(self, sampleset: dimod.SampleSet) -> list[Solution[dict]]:
        """Decode every row; the variables are the nodes (labels) or the ``(v, c)`` pairs.

        Raises:
            InvalidModelError: the SampleSet is over other variables.
        """
        return decode_rows(self, sampleset, {"the nodes": self.nodes, "the (node, community) pairs": self.variables})

    def evaluate(self, value: Mapping[Hashable, Hashable]) -> float:
        """The exact modularity of the partition node → label (any hashable labels)."""
        return self._graph.modularity(community_index(self.nodes, value))

    def is_feasible(self, value: Mapping[Hashable, Any]) -> bool:
        """Whether every node, and nothing else, has a label in ``0..k-1``."""
        return is_assignment(value, self.nodes, self.k)

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

        check_assignments(r, len(self.nodes), self.k)
        adjacency = assignment_operator(self._operators, self._graph.adjacency, r)
        degree = torch.as_tensor(self._graph.degree, dtype=r.dtype, device=r.device)
        two_m = self._graph.two_m
        totals = degree @ r
        return ((r * adjacency.matmul(r)).sum() - (totals @ totals) / two_m) / two_m


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
        raise ValueError(f"fraction must be a number with 0 < fraction <= 1 (the share of edges kept), got {fraction!r}")
    edges = list(G.edges(keys=True, data=True)) if G.is_multigraph() else list(G.edges(data=True))
    keep = math.floor(float(fraction) * len(edges) + 0.5)
    picked = np.sort(np.random.default_rng(seed).choice(len(edges), size=keep, replace=False))
    H = G.__class__()
    H.graph.update(G.graph)
    H.add_nodes_from(G.nodes(data=True))
    H.add_edges_from(edges[i] for i in picked)
    return H
