r"""Community detection by modularity, pairwise clustering and the k-center problem: the problems ClusterNet solves.

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

**Pairwise clustering** (:class:`PairwiseClustering`) is the k-way assignment form of a CQM:
BINARY :math:`x_{v,c}` labelled ``(v, c)`` for :math:`c = 0..k-1`, one discrete constraint
:math:`\sum_c x_{v,c} = 1` per node, and an objective whose biases do not depend on :math:`c`,

.. math::

    E(x) = e_0 + \sum_{v,c} b_v\, x_{v,c} - \sum_c \sum_{u<v} W_{uv}\, x_{u,c}\, x_{v,c}.

On a feasible :math:`x` the linear part is the constant :math:`\sum_v b_v`, so minimising
:math:`E` maximises the within-cluster weight :math:`\sum_c \sum_{u<v} W_{uv} x_{u,c} x_{v,c}`
for signed similarities :math:`W`: k-way correlation clustering. :attr:`Modularity.cqm` is one,
with :math:`W_{uv} = 2B_{uv}/2m` (dense). The surrogate is :math:`E` with the soft assignments.

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
    >>> from gnnsolve.adapters.clustering import KCenter, Modularity, PairwiseClustering
    >>> G = nx.karate_club_graph()
    >>> clubs = {v: int(G.nodes[v]["club"] == "Officer") for v in G}
    >>> round(Modularity(G, k=2).evaluate(clubs), 4)
    0.3582
    >>> pairwise = PairwiseClustering.from_cqm(Modularity(G, k=2).cqm)
    >>> round(pairwise.evaluate(clubs), 4)
    -0.3582
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

__all__ = [
    "Modularity", "PairwiseClustering", "KCenter", "modularity", "greedy_k_center", "lift_to_k", "observe_edges",
    "MAX_MODEL_TERMS",
]

MAX_MODEL_TERMS = 1_000_000
"""The most terms a dimod model of these problems may have: quadratic biases of
:attr:`Modularity.cqm` (:math:`k\\,n(n-1)/2`) and :attr:`PairwiseClustering.cqm`, variables plus
constraints of :attr:`KCenter.cqm` (about :math:`2n^2`). Larger graphs are for the graph-native
ClusterNet sampler."""

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


def _solve_with_cqm(
    problem: GraphProblem, sampler: dimod.Sampler, sample_kwargs: dict[str, Any], what: str
) -> tuple[Solution, dimod.SampleSet]:
    """Hand ``problem`` to a graph-native sampler, else sample its ``cqm`` with ``sampler.sample_cqm``."""
    keywords = {**problem.sample_defaults(sampler), **sample_kwargs}
    if problem.samples_natively(sampler):
        sampleset = sampler.sample(problem, **keywords)
        return problem.best_solution(sampleset), sampleset
    if not hasattr(sampler, "sample_cqm"):
        raise UnsupportedModelError(
            f"{type(sampler).__name__} takes no CQM; {what} needs a CQM sampler such as HiGHSSampler"
        )
    sampleset = sampler.sample_cqm(problem.cqm, **keywords)
    return problem.best_solution(sampleset), sampleset


# ---------------------------------------------------------------- cluster assignments


def _community_index(nodes: Sequence[Hashable], labels: Mapping[Hashable, Hashable]) -> np.ndarray:
    """Each node's community as an integer ``0..c-1`` (the labels' order of first appearance)."""
    missing = [node for node in nodes if node not in labels]
    if missing:
        raise InvalidModelError(f"the labels give no community for node {missing[0]!r}")
    numbering: dict[Hashable, int] = {}
    return np.array([numbering.setdefault(labels[node], len(numbering)) for node in nodes], dtype=np.int64)


def _is_assignment(value: Mapping[Hashable, Any], nodes: Sequence[Hashable], k: int) -> bool:
    """Whether every node, and nothing else, has a label in ``0..k-1``."""
    return set(value) == set(nodes) and all(
        isinstance(label, numbers.Integral) and 0 <= label < k for label in value.values()
    )


def _assignment_bqm(
    nodes: Sequence[Hashable], k: int, linear: np.ndarray, rows: np.ndarray, cols: np.ndarray, bias: np.ndarray,
    offset: float,
) -> dimod.BinaryQuadraticModel:
    """The objective over BINARY ``(v, c)``: ``linear[i]`` on every ``(nodes[i], c)`` and ``bias[t]`` between
    ``(nodes[rows[t]], c)`` and ``(nodes[cols[t]], c)`` for every ``c``."""
    communities = np.arange(k)
    return dimod.BinaryQuadraticModel.from_numpy_vectors(
        np.repeat(linear, k),
        (
            (rows[:, None] * k + communities).ravel(),
            (cols[:, None] * k + communities).ravel(),
            np.repeat(bias, k),
        ),
        offset,
        dimod.BINARY,
        variable_order=[(node, c) for node in nodes for c in range(k)],
    )


def _one_hot_cqm(
    objective: dimod.BinaryQuadraticModel, nodes: Sequence[Hashable], k: int
) -> dimod.ConstrainedQuadraticModel:
    """``objective`` with one discrete constraint per node over its ``(v, c)``."""
    cqm = dimod.ConstrainedQuadraticModel.from_bqm(objective)
    for i, node in enumerate(nodes):
        cqm.add_discrete([(node, c) for c in range(k)], label=f"one_community_{i}")
    return cqm


def _place(
    weights: scipy.sparse.csr_matrix, given: list[list[int]], k: int, degree: np.ndarray | None = None,
    two_m: float = 1.0,
) -> np.ndarray:
    """Communities from the ones each node was given: a node given exactly one keeps it; the others
    are placed in node order, each in the community (among those it was given, else among all
    ``k``) whose weight to the nodes already placed, less :math:`d_i D_c / 2m`, is largest."""
    communities = np.array([chosen[0] if len(chosen) == 1 else -1 for chosen in given], dtype=np.int64)
    degree = np.zeros(len(given)) if degree is None else degree
    placed = communities >= 0
    totals = np.bincount(communities[placed], degree[placed], minlength=k)
    for i in np.flatnonzero(~placed):
        start, stop = weights.indptr[i], weights.indptr[i + 1]
        neighbours, values = weights.indices[start:stop], weights.data[start:stop]
        known = (communities[neighbours] >= 0) & (neighbours != i)
        links = np.bincount(communities[neighbours[known]], values[known], minlength=k)
        gain = links - degree[i] * totals / two_m
        best = max(given[i] or range(k), key=lambda c: gain[c])
        communities[i] = best
        totals[best] += degree[i]
    return communities


def _assignment_operator(
    cache: dict[tuple[Any, Any], SparseOperator], matrix: scipy.sparse.spmatrix, like: torch.Tensor
) -> SparseOperator:
    """The symmetric ``matrix`` as a torch operator of ``like``'s dtype and device, built once per pair."""
    import torch

    from gnnsolve.nn.sparse import SparseOperator

    key = (like.dtype, like.device)
    if key not in cache:
        coo = matrix.tocoo()
        cache[key] = SparseOperator.from_coo(
            torch.as_tensor(coo.row, dtype=torch.int64),
            torch.as_tensor(coo.col, dtype=torch.int64),
            torch.as_tensor(coo.data, dtype=like.dtype),
            matrix.shape[0],
            symmetric=True,
        ).to(like.device)
    return cache[key]


def _check_assignments(r: torch.Tensor, n: int, k: int) -> None:
    if tuple(r.shape) != (n, k):
        raise ValueError(f"r must have shape ({n}, {k}), got {tuple(r.shape)}")


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
    return graph.modularity(_community_index(graph.nodes, labels))


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
        _check_size(k * n * (n - 1) // 2, "the modularity model")
        degree = self._graph.degree
        B = self._graph.adjacency.toarray() - np.outer(degree, degree) / two_m
        rows, cols = np.triu_indices(n, 1)
        bias = -2.0 * B[rows, cols] / two_m
        keep = bias != 0
        return _assignment_bqm(self.nodes, k, -np.diag(B) / two_m, rows[keep], cols[keep], bias[keep], 0.0)

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
        return _one_hot_cqm(self._objective_bqm(), self.nodes, self.k)

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
        graph = self._graph
        communities = _place(graph.adjacency, given, self.k, graph.degree, graph.two_m)
        labels = {node: int(c) for node, c in zip(self.nodes, communities)}
        return self._solution(labels, repaired=any(len(chosen) != 1 for chosen in given))

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
        return self._graph.modularity(_community_index(self.nodes, value))

    def is_feasible(self, value: Mapping[Hashable, Any]) -> bool:
        """Whether every node, and nothing else, has a label in ``0..k-1``."""
        return _is_assignment(value, self.nodes, self.k)

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

        _check_assignments(r, len(self.nodes), self.k)
        adjacency = _assignment_operator(self._operators, self._graph.adjacency, r)
        degree = torch.as_tensor(self._graph.degree, dtype=r.dtype, device=r.device)
        two_m = self._graph.two_m
        totals = degree @ r
        return ((r * adjacency.matmul(r)).sum() - (totals @ totals) / two_m) / two_m


def _integer_label(value: Any, node: Hashable) -> int:
    if isinstance(value, numbers.Real) and not isinstance(value, bool) and float(value).is_integer():
        return int(value)
    raise InvalidModelError(f"node {node!r} has community label {value!r}; labels must be integers")


# ---------------------------------------------------------------- pairwise clustering

_ASSIGNMENT_FORM = (
    "ClusterNet reads the k-way assignment form of Modularity(G, k).cqm: BINARY variables (v, c) for "
    "c = 0..k-1, one discrete (one-hot) constraint per node and nothing else, and an objective whose "
    "biases do not depend on c"
)


class PairwiseClustering(GraphProblem[dict]):
    r"""Partition the nodes into at most ``k`` clusters of largest within-cluster weight.

    The k-way correlation-clustering objective over signed similarities :math:`W` (positive:
    attract, negative: repel), stated as the energy to minimise

    .. math::

        E(c) = e_0 - \sum_{u<v} W_{uv}\, \delta(c_u, c_v),

    with a constant :math:`e_0`. A solution is a dict node → cluster in ``0..k-1`` (clusters may be
    empty); its objective and its energy are :math:`E`.

    Usually read from the k-way assignment form of a CQM with :meth:`from_cqm`, which
    :attr:`Modularity.cqm` is (:math:`E = -Q`): the problem ``ClusterNetSampler.sample_cqm``
    solves. :attr:`cqm` is that form again, over BINARY ``(v, c)`` with one discrete constraint
    per node; :meth:`encode` turns cluster labels into its samples and :meth:`decode` reads them
    back. :attr:`graph` holds the nodes and an edge wherever :math:`W_{uv} > 0`, weighing
    :math:`W_{uv}`: the attractive pairs a graph network sees.

    Args:
        weights: the symmetric ``n × n`` matrix :math:`W` (sparse or dense) with a zero diagonal.
        k: the largest number of clusters, ``1 ≤ k ≤ n``.
        nodes: the node labels in the order of the rows of ``weights``; default ``0..n-1``.
        constant: :math:`e_0`.

    Raises:
        InvalidModelError: ``weights`` is not square, symmetric and finite with a zero diagonal,
            ``nodes`` are not ``n`` distinct labels, ``constant`` is not finite or ``k`` is not
            an integer in ``1..n``.

    Example:
        >>> import numpy as np
        >>> from gnnsolve import HiGHSSampler
        >>> from gnnsolve.adapters.clustering import PairwiseClustering
        >>> W = np.array([[0, 3, -1, 0], [3, 0, -2, 1], [-1, -2, 0, 2], [0, 1, 2, 0]])
        >>> problem = PairwiseClustering(W, k=2, nodes="abcd")
        >>> problem.evaluate({"a": 0, "b": 0, "c": 1, "d": 1}), sorted(problem.graph.edges)
        (-5.0, [('a', 'b'), ('b', 'd'), ('c', 'd')])
        >>> best = problem.decode(HiGHSSampler().sample_cqm(problem.cqm).first.sample)
        >>> best.value["a"] == best.value["b"] != best.value["c"] == best.value["d"], best.objective
        (True, -5.0)
    """

    sense = "min"
    objective_name = "pairwise objective"

    def __init__(
        self,
        weights: scipy.sparse.spmatrix | scipy.sparse.sparray | ArrayLike,
        k: int,
        nodes: Iterable[Hashable] | None = None,
        constant: float = 0.0,
    ) -> None:
        W = scipy.sparse.csr_matrix(weights, dtype=np.float64, copy=True)
        n = W.shape[0]
        if W.shape != (n, n) or n == 0:
            raise InvalidModelError(f"weights must be a non-empty square matrix, got shape {W.shape}")
        if not np.isfinite(W.data).all() or (W != W.T).nnz or W.diagonal().any():
            raise InvalidModelError(
                "weights must be finite and symmetric with a zero diagonal (a node is always in its own cluster)"
            )
        self.nodes: list = list(range(n)) if nodes is None else list(nodes)
        """The nodes in the order of the rows of ``weights`` and of ``soft_objective``'s assignments."""
        if len(self.nodes) != n or len(set(self.nodes)) != n:
            raise InvalidModelError(f"nodes must be {n} distinct labels, one per row of weights")
        if isinstance(constant, bool) or not isinstance(constant, numbers.Real) or not math.isfinite(constant):
            raise InvalidModelError(f"constant must be a finite number, got {constant!r}")
        self.k = _check_k(k, n, "PairwiseClustering")
        W.eliminate_zeros()
        self.weights: scipy.sparse.csr_matrix = W
        """:math:`W` in :attr:`nodes` order (CSR, symmetric)."""
        self.constant = float(constant)
        upper = scipy.sparse.triu(W, k=1).tocoo()
        self._rows, self._cols, self._values = upper.row.astype(np.int64), upper.col.astype(np.int64), upper.data
        self.graph = nx.Graph()
        self.graph.add_nodes_from(self.nodes)
        attract = self._values > 0
        self.graph.add_weighted_edges_from(
            (self.nodes[i], self.nodes[j], w)
            for i, j, w in zip(self._rows[attract], self._cols[attract], self._values[attract])
        )
        self._operators: dict[tuple[Any, Any], SparseOperator] = {}

    @classmethod
    def from_cqm(cls, cqm: dimod.ConstrainedQuadraticModel) -> PairwiseClustering:
        """Read the k-way assignment form of a CQM.

        The form: BINARY variables labelled ``(v, c)`` for ``c`` in ``0..k-1``, the same ``k`` for
        every node ``v``; one constraint per node, :math:`\\sum_c x_{v,c} = 1` (a discrete
        constraint) and no other; an objective with an offset, a linear bias on ``(v, c)`` that
        does not depend on ``c``, and quadratic biases only between ``(u, c)`` and ``(v, c)``
        whose value does not depend on ``c``. Then :math:`W_{uv}` is minus that quadratic bias and
        :math:`e_0` the offset plus the linear biases of one ``(v, c)`` per node. The nodes keep
        the order of the CQM's variables.

        Raises:
            UnsupportedModelError: ``cqm`` is not that form; the variable, term or constraint is
                named. The k-center MILP (:attr:`KCenter.cqm`) is refused with a pointer to
                ``KCenter(G, k)``.
            InvalidModelError: a bias or the offset is not finite, or ``k`` exceeds the number of nodes.

        Example:
            >>> import networkx as nx
            >>> from gnnsolve.adapters.clustering import Modularity, PairwiseClustering
            >>> modularity = Modularity(nx.barbell_graph(3, 0), k=2)
            >>> problem = PairwiseClustering.from_cqm(modularity.cqm)
            >>> problem.k, problem.nodes == modularity.nodes, problem.graph.number_of_edges()
            (2, True, 7)
            >>> split = {v: int(v >= 3) for v in problem.nodes}
            >>> bool(abs(problem.evaluate(split) + modularity.evaluate(split)) < 1e-12)
            True
        """
        if not isinstance(cqm, dimod.ConstrainedQuadraticModel):
            raise UnsupportedModelError(f"expected a dimod.ConstrainedQuadraticModel, got {type(cqm).__name__}. "
                                        f"{_ASSIGNMENT_FORM}")
        if "radius" in cqm.variables and "k_facilities" in cqm.constraints:
            raise UnsupportedModelError(
                "this is the k-center MILP of KCenter(G, k).cqm, which ClusterNet does not read: pass the "
                "problem KCenter(G, k) itself, as ClusterNetSampler().sample(KCenter(G, k))"
            )
        nodes, k = _assignment_variables(cqm)
        index = {node: i for i, node in enumerate(nodes)}
        _check_one_hot_constraints(cqm, nodes, k)
        weights, constant = _assignment_objective(cqm.objective, index, k)
        return cls(weights, k, nodes, constant)

    @property
    def variables(self) -> list[tuple[Hashable, int]]:
        """The labels ``(v, c)`` of :attr:`cqm`'s variables, node by node."""
        return [(node, c) for node in self.nodes for c in range(self.k)]

    @cached_property
    def cqm(self) -> dimod.ConstrainedQuadraticModel:
        """Minimise :math:`E` over BINARY ``(v, c)`` with one discrete constraint per node.

        Raises:
            ModelTooLargeError: the objective would have more than :data:`MAX_MODEL_TERMS` biases.
        """
        _check_size(self.k * len(self._values), "the pairwise clustering model")
        objective = _assignment_bqm(
            self.nodes, self.k, np.zeros(len(self.nodes)), self._rows, self._cols, -self._values, self.constant
        )
        return _one_hot_cqm(objective, self.nodes, self.k)

    def _build_bqm(self) -> dimod.BinaryQuadraticModel:
        raise UnsupportedModelError(
            "pairwise clustering has no BQM form here: sample problem.cqm with a CQM sampler "
            "(ClusterNetSampler().sample_cqm, HiGHSSampler().sample_cqm) or use problem.solve"
        )

    def solve(self, sampler: dimod.Sampler, **sample_kwargs: Any) -> tuple[Solution[dict], dimod.SampleSet]:
        """Hand the problem to a graph-native sampler (:meth:`samples_natively`), else sample
        :attr:`cqm` with ``sampler.sample_cqm``; return the best decoded solution and the SampleSet.

        Raises:
            UnsupportedModelError: the sampler takes neither this problem nor a CQM.
        """
        return _solve_with_cqm(self, sampler, sample_kwargs, "pairwise clustering")

    def encode(
        self, labels: ArrayLike, variables: Iterable[tuple[Hashable, int]] | None = None
    ) -> tuple[np.ndarray, list]:
        """Cluster labels as samples over the ``(v, c)`` variables, one-hot per node.

        Args:
            labels: one cluster in ``0..k-1`` per node in :attr:`nodes` order, or rows of them.
            variables: the ``(v, c)`` labels in the order wanted (a CQM's ``variables``); default
                :attr:`variables`.

        Returns:
            ``(samples, variables)``, a dimod samples-like: ``samples[r, j]`` is 1 exactly when
            row ``r`` puts the node of ``variables[j]`` in its cluster. Every row satisfies
            :attr:`cqm`'s constraints.

        Raises:
            ValueError: ``labels`` has the wrong shape or a label outside ``0..k-1``, or
                ``variables`` are not those of :attr:`cqm`.

        Example:
            >>> import numpy as np
            >>> from gnnsolve.adapters.clustering import PairwiseClustering
            >>> problem = PairwiseClustering(np.array([[0, 1], [1, 0]]), k=2)
            >>> samples, variables = problem.encode([[0, 0], [1, 0]])
            >>> samples.tolist(), variables
            ([[1, 0, 1, 0], [0, 1, 1, 0]], [(0, 0), (0, 1), (1, 0), (1, 1)])
        """
        rows = np.asarray(labels)
        rows = rows.reshape(1, -1) if rows.ndim == 1 else rows
        n, k = len(self.nodes), self.k
        if rows.ndim != 2 or rows.shape[1] != n or (rows.size and (rows.min() < 0 or rows.max() >= k)):
            raise ValueError(f"labels must hold one cluster in 0..{k - 1} for each of the {n} nodes (per row)")
        variables = self.variables if variables is None else list(variables)
        if len(variables) != n * k or set(variables) != set(self.variables):
            raise ValueError("variables must be the (node, cluster) labels of this problem's cqm, each once")
        index = {node: i for i, node in enumerate(self.nodes)}
        node = np.array([index[v] for v, _ in variables], dtype=np.int64)
        cluster = np.array([c for _, c in variables], dtype=np.int64)
        return (rows[:, node] == cluster).astype(np.int8), variables

    def decode(self, sample: Mapping[Hashable, Any]) -> Solution[dict]:
        """The clustering of a sample, scored exactly.

        Accepts one integer label per node, or a sample of :attr:`cqm` (of the CQM it was read
        from) over the ``(v, c)`` variables. A node of the latter with no cluster, or several, is
        repaired: such nodes are placed in node order, each in the cluster (among those it was
        given, else among all ``k``) with the largest weight to the nodes already placed.

        Raises:
            InvalidModelError: the sample is neither form, or a label is not an integer.
        """
        present = set(sample)
        if present.issuperset(self.nodes):
            labels = {node: _integer_label(sample[node], node) for node in self.nodes}
            return self._solution(labels, repaired=False)
        missing = [label for label in self.variables if label not in present]
        if missing:
            raise InvalidModelError(
                f"the sample has no value for {missing[0]!r}: give one label per node or a sample "
                "over the (node, cluster) variables"
            )
        given = [[c for c in range(self.k) if sample[(node, c)] > 0] for node in self.nodes]
        clusters = _place(self.weights, given, self.k)
        labels = {node: int(c) for node, c in zip(self.nodes, clusters)}
        return self._solution(labels, repaired=any(len(chosen) != 1 for chosen in given))

    def _solution(self, labels: dict, repaired: bool) -> Solution[dict]:
        objective = self.evaluate(labels)
        return Solution(labels, objective, self.is_feasible(labels), repaired, energy=objective)

    def decode_sampleset(self, sampleset: dimod.SampleSet) -> list[Solution[dict]]:
        """Decode every row; the variables are the nodes (labels) or the ``(v, c)`` pairs.

        Raises:
            InvalidModelError: the SampleSet is over other variables.
        """
        return _decode_rows(self, sampleset, {"the nodes": self.nodes, "the (node, cluster) pairs": self.variables})

    def evaluate(self, value: Mapping[Hashable, Hashable]) -> float:
        """:math:`E` of the clustering node → label (any hashable labels): the CQM's objective."""
        clusters = _community_index(self.nodes, value)
        inside = clusters[self._rows] == clusters[self._cols]
        return self.constant - float(self._values[inside].sum())

    def is_feasible(self, value: Mapping[Hashable, Any]) -> bool:
        """Whether every node, and nothing else, has a label in ``0..k-1``."""
        return _is_assignment(value, self.nodes, self.k)

    def soft_objective(self, r: torch.Tensor) -> torch.Tensor:
        """ClusterNet's relaxed objective :math:`e_0 - \\tfrac12 \\sum (r \\odot W r)`, to minimise.

        With ``W`` sparse it costs :math:`O((|W| + n) k)`; on one-hot ``r`` it equals
        :meth:`evaluate`, the constant included.

        Args:
            r: ``n × k`` soft assignments (rows summing to 1), rows in :attr:`nodes` order;
                differentiable.

        Raises:
            ValueError: ``r`` is not ``n × k``.
        """
        _check_assignments(r, len(self.nodes), self.k)
        weights = _assignment_operator(self._operators, self.weights, r)
        return self.constant - 0.5 * (r * weights.matmul(r)).sum()


def _assignment_variables(cqm: dimod.ConstrainedQuadraticModel) -> tuple[list, int]:
    """The nodes (in order of first appearance) and ``k`` of a CQM over BINARY ``(v, c)``, ``c`` in ``0..k-1``."""
    clusters: dict[Hashable, list[int]] = {}
    for label in cqm.variables:
        vartype = cqm.vartype(label)
        if vartype is not dimod.BINARY:
            raise UnsupportedModelError(f"variable {label!r} is {vartype.name}, not BINARY. {_ASSIGNMENT_FORM}")
        if not (
            isinstance(label, tuple) and len(label) == 2 and isinstance(label[1], numbers.Integral)
            and not isinstance(label[1], bool)
        ):
            raise UnsupportedModelError(
                f"variable {label!r} is not labelled (node, c) with an integer cluster c. {_ASSIGNMENT_FORM}"
            )
        clusters.setdefault(label[0], []).append(int(label[1]))
    if not clusters:
        raise UnsupportedModelError(f"the CQM has no variables. {_ASSIGNMENT_FORM}")
    nodes = list(clusters)
    k = len(clusters[nodes[0]])
    for node in nodes:
        if sorted(clusters[node]) != list(range(k)):
            raise UnsupportedModelError(
                f"node {node!r} has the clusters {sorted(clusters[node])}; every node needs the variables "
                f"(v, 0), ..., (v, k - 1) for one k (node {nodes[0]!r} has {k}). {_ASSIGNMENT_FORM}"
            )
    return nodes, k


def _check_one_hot_constraints(cqm: dimod.ConstrainedQuadraticModel, nodes: list, k: int) -> None:
    """Refuse unless the constraints are exactly one :math:`\\sum_c x_{v,c} = 1` per node."""
    owner: dict[Hashable, Hashable] = {}
    for label, comparison in cqm.constraints.items():
        lhs = comparison.lhs
        terms = dict(lhs.iter_linear())
        covered = {node for node, _ in terms}
        node = next(iter(covered)) if len(covered) == 1 else None
        if lhs.is_soft():
            problem = "it is soft (weighted)"
        elif comparison.sense is not dimod.sym.Sense.Eq:
            problem = f"its sense is {comparison.sense.value!r}"
        elif not lhs.is_linear():
            problem = "it has quadratic terms"
        elif node is None:
            problem = f"it covers the variables of {len(covered)} nodes"
        elif len(terms) != k:
            problem = f"it covers {len(terms)} of the {k} variables of node {node!r}"
        elif any(bias != 1 for bias in terms.values()) or comparison.rhs - lhs.offset != 1:
            problem = "it is not a sum with coefficients 1 equal to 1"
        elif node in owner:
            problem = f"constraint {owner[node]!r} already makes node {node!r} one-hot"
        else:
            owner[node] = label
            continue
        raise UnsupportedModelError(
            f"constraint {label!r} is not the one-hot constraint of a node (the sum of its k variables == 1): "
            f"{problem}. {_ASSIGNMENT_FORM}"
        )
    for node in nodes:
        if node not in owner:
            raise UnsupportedModelError(
                f"node {node!r} has no one-hot constraint; add cqm.add_discrete([(v, c) for c in range(k)]) "
                f"for v = {node!r}. {_ASSIGNMENT_FORM}"
            )


def _assignment_objective(
    objective: dimod.QuadraticModel, index: Mapping[Hashable, int], k: int
) -> tuple[scipy.sparse.csr_matrix, float]:
    """:math:`W` and :math:`e_0` of an objective whose biases do not depend on the cluster."""
    n = len(index)
    nodes = list(index)
    if not math.isfinite(objective.offset):
        raise InvalidModelError(f"the objective's offset is {objective.offset}; it must be finite")
    linear = np.zeros((n, k))
    for (node, c), bias in objective.iter_linear():
        linear[index[node], c] = bias
    bad = np.argwhere(~np.isfinite(linear))
    if len(bad):
        i, c = bad[0]
        raise InvalidModelError(f"the objective's bias on {(nodes[i], int(c))!r} is {linear[i, c]}; it must be finite")
    varies = np.argwhere(linear != linear[:, :1])
    if len(varies):
        i, c = varies[0]
        raise UnsupportedModelError(
            f"the objective's linear bias on {(nodes[i], int(c))!r} is {linear[i, c]:g} but on {(nodes[i], 0)!r} "
            f"it is {linear[i, 0]:g}: it depends on the cluster. {_ASSIGNMENT_FORM}"
        )
    terms = [(u, v, bias) for u, v, bias in objective.iter_quadratic() if bias != 0]
    for u, v, bias in terms:
        if not math.isfinite(bias):
            raise InvalidModelError(f"the objective's bias on ({u!r}, {v!r}) is {bias}; it must be finite")
        if u[1] != v[1]:
            raise UnsupportedModelError(
                f"the objective's term {bias:g} * {u!r} * {v!r} joins two different clusters; only terms between "
                f"(u, c) and (v, c) are allowed. {_ASSIGNMENT_FORM}"
            )
    first = np.array([index[u[0]] for u, _, _ in terms], dtype=np.int64)
    second = np.array([index[v[0]] for _, v, _ in terms], dtype=np.int64)
    pairs = np.minimum(first, second) * n + np.maximum(first, second)
    biases = np.array([bias for _, _, bias in terms], dtype=np.float64)
    order = np.argsort(pairs, kind="stable")
    keys, starts, counts = np.unique(pairs[order], return_index=True, return_counts=True)
    ordered = biases[order]
    uneven = np.flatnonzero(
        (counts != k) | (np.minimum.reduceat(ordered, starts) != np.maximum.reduceat(ordered, starts))
    )
    if len(uneven):
        t = uneven[0]
        u, v = nodes[keys[t] // n], nodes[keys[t] % n]
        given = {terms[j][0][1]: terms[j][2] for j in order[starts[t]:starts[t] + counts[t]]}
        by_cluster = ", ".join(f"c={c}: {given.get(c, 0.0):g}" for c in range(k))
        raise UnsupportedModelError(
            f"the objective's bias between ({u!r}, c) and ({v!r}, c) depends on the cluster ({by_cluster}); "
            f"it must be the same for every c. {_ASSIGNMENT_FORM}"
        )
    rows, cols, values = keys // n, keys % n, -ordered[starts]
    weights = scipy.sparse.csr_matrix(
        (np.concatenate([values, values]), (np.concatenate([rows, cols]), np.concatenate([cols, rows]))), shape=(n, n)
    )
    return weights, float(objective.offset) + float(linear[:, 0].sum())


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
    def capped_distances(self) -> np.ndarray:
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
        distances = self.capped_distances
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
        """Hand the problem to a graph-native sampler (:meth:`samples_natively`), else sample
        :attr:`cqm` with ``sampler.sample_cqm``; return the best decoded solution and the SampleSet.

        Raises:
            UnsupportedModelError: the sampler takes neither this problem nor a CQM.
        """
        return _solve_with_cqm(self, sampler, sample_kwargs, "k-center")

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
            order = np.argsort(self.capped_distances, axis=1, kind="stable")
            ranked = np.take_along_axis(self.capped_distances, order, axis=1)
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
