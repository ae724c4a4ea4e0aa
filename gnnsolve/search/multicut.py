r"""Multicut heuristics: greedy additive edge contraction (GAEC) and Kernighan–Lin with joins (KLj).

The (signed) multicut problem, or correlation clustering, partitions the nodes of a graph whose
edges carry weights :math:`w_e` of either sign (positive: the ends attract, negative: they repel)
into any number of clusters, minimising the weight of the edges cut between clusters,

.. math::

    \min_{\text{partitions}} \; \sum_{uv \in E,\; c(u) \neq c(v)} w_{uv}.

:func:`gaec` builds a partition from singletons by contracting the most attractive edge while
one is left; :func:`kernighan_lin_joins` improves a partition by moving nodes between
neighbouring clusters, moving nodes out to new clusters and joining clusters. Both follow Keuper
et al. (2015) and work in index form (:class:`SignedGraph`); they are deterministic.

Partitions are returned as ``{node: label}`` with the labels ``0..c-1`` numbered in node order
(the first node is in cluster 0, the next node outside it opens cluster 1, ...), and every
cluster connected through uncut edges: the multicut a labelling induces. Splitting a cluster
whose parts share no edge never changes the cost.

Example:
    >>> import networkx as nx
    >>> from gnnsolve.search.multicut import gaec, kernighan_lin_joins, multicut_cost
    >>> G = nx.Graph()
    >>> G.add_weighted_edges_from([(0, 1, 2), (1, 2, 2), (0, 2, 2), (3, 4, 2), (4, 5, 2), (3, 5, 2), (2, 3, -1)])
    >>> labels = gaec(G)
    >>> labels
    {0: 0, 1: 0, 2: 0, 3: 1, 4: 1, 5: 1}
    >>> kernighan_lin_joins(G, labels) == labels, multicut_cost(G, labels)
    (True, -1.0)

References:
    M. Keuper, E. Levinkov, N. Bonneel, G. Lavoué, T. Brox and B. Andres, "Efficient
    Decomposition of Image and Mesh Graphs by Lifted Multicuts", ICCV 2015.

    B. W. Kernighan and S. Lin, "An efficient heuristic procedure for partitioning graphs",
    The Bell System Technical Journal 49 (1970).
"""

from __future__ import annotations

import heapq
import math
import numbers
from dataclasses import dataclass
from functools import cached_property
from typing import Hashable, Mapping, Sequence, Union

import networkx as nx
import numpy as np
import scipy.sparse
from numpy.typing import ArrayLike
from scipy.sparse.csgraph import connected_components

from gnnsolve.errors import InvalidModelError

__all__ = ["SignedGraph", "GraphLike", "as_signed_graph", "gaec", "kernighan_lin_joins", "multicut_cost"]


@dataclass(frozen=True, eq=False)
class SignedGraph:
    """An undirected signed graph in index form: each edge once, ``rows < cols``, no self-loops.

    Attributes:
        nodes: the user's node labels; node ``i`` is ``nodes[i]``.
        rows, cols: the ends of each edge as indices (``int64``).
        weights: the edge weights (``float64``, finite, possibly zero).
    """

    nodes: list
    rows: np.ndarray
    cols: np.ndarray
    weights: np.ndarray

    @classmethod
    def from_graph(cls, G: nx.Graph, weight: str | None = "weight") -> SignedGraph:
        """Index form of a networkx graph.

        Args:
            G: an undirected graph; parallel edges of a multigraph add up; self-loops are
                ignored (a node is never separated from itself).
            weight: the edge attribute holding the weight; edges without it weigh 1, and so does
                every edge when ``weight`` is ``None``.

        Raises:
            InvalidModelError: ``G`` is directed, or a weight is not a finite real number (the
                edge is named).
        """
        if G.is_directed():
            raise InvalidModelError("a multicut needs an undirected graph; pass G.to_undirected()")
        nodes = list(G.nodes)
        index = {node: i for i, node in enumerate(nodes)}
        edges = G.edges(data=weight, default=1) if weight is not None else ((u, v, 1) for u, v in G.edges())
        rows, cols, weights = [], [], []
        for u, v, w in edges:
            if isinstance(w, bool) or not isinstance(w, numbers.Real) or not math.isfinite(w):
                raise InvalidModelError(
                    f"edge ({u!r}, {v!r}) has {weight!r} = {w!r}; multicut weights must be finite numbers"
                )
            rows.append(index[u])
            cols.append(index[v])
            weights.append(float(w))
        return cls.from_arrays(rows, cols, weights, nodes)

    @classmethod
    def from_arrays(
        cls, rows: ArrayLike, cols: ArrayLike, weights: ArrayLike, nodes: int | Sequence[Hashable]
    ) -> SignedGraph:
        """Index form of edge arrays: edge ``k`` joins ``rows[k]`` and ``cols[k]`` with ``weights[k]``.

        Either orientation is accepted; repeated pairs add up; self-loops are dropped.

        Args:
            rows, cols: node indices in ``0..n-1``.
            weights: finite real weights.
            nodes: the number of nodes ``n`` (labelled ``0..n-1``) or their labels.

        Raises:
            InvalidModelError: the arrays differ in length, an index is out of range, or a
                weight is not finite (its position is named).
        """
        labels = list(range(nodes)) if isinstance(nodes, numbers.Integral) else list(nodes)
        rows, cols = np.asarray(rows, dtype=np.int64).ravel(), np.asarray(cols, dtype=np.int64).ravel()
        weights = np.asarray(weights, dtype=np.float64).ravel()
        if not len(rows) == len(cols) == len(weights):
            raise InvalidModelError(
                f"rows, cols and weights must have one entry per edge; got {len(rows)}, {len(cols)}, {len(weights)}"
            )
        bad = np.flatnonzero(~np.isfinite(weights))
        if len(bad):
            raise InvalidModelError(f"weights[{bad[0]}] = {weights[bad[0]]}; multicut weights must be finite numbers")
        n = len(labels)
        outside = np.flatnonzero((np.minimum(rows, cols) < 0) | (np.maximum(rows, cols) >= n))
        if len(outside):
            k = outside[0]
            raise InvalidModelError(
                f"edge {k} joins nodes {rows[k]} and {cols[k]}; node indices must lie in 0..{n - 1}"
            )
        keep = rows != cols
        low, high, weights = np.minimum(rows, cols)[keep], np.maximum(rows, cols)[keep], weights[keep]
        pairs, inverse = np.unique(low * max(n, 1) + high, return_inverse=True)
        return cls(labels, pairs // max(n, 1), pairs % max(n, 1), np.bincount(inverse, weights, len(pairs)))

    @property
    def num_nodes(self) -> int:
        return len(self.nodes)

    @cached_property
    def adjacency(self) -> scipy.sparse.csr_matrix:
        """The symmetric weighted adjacency matrix (both directions of each edge)."""
        n = self.num_nodes
        return scipy.sparse.csr_matrix(
            (
                np.concatenate([self.weights, self.weights]),
                (np.concatenate([self.rows, self.cols]), np.concatenate([self.cols, self.rows])),
            ),
            shape=(n, n),
        )

    def cost(self, labels: np.ndarray) -> float:
        """The weight of the edges whose ends have different labels (one label per node index)."""
        return float(self.weights[labels[self.rows] != labels[self.cols]].sum())

    def canonical(self, labels: np.ndarray) -> np.ndarray:
        """The connected components of the uncut edges, numbered ``0..c-1`` in node order."""
        n = self.num_nodes
        uncut = labels[self.rows] == labels[self.cols]
        graph = scipy.sparse.csr_matrix((np.ones(int(uncut.sum())), (self.rows[uncut], self.cols[uncut])), shape=(n, n))
        _, components = connected_components(graph, directed=False)
        return _number_in_order(components)

    def label_array(self, labels: Mapping[Hashable, Hashable] | Sequence[Hashable] | np.ndarray) -> np.ndarray:
        """Integer labels in node-index order from ``{node: label}`` or one label per node in order.

        Raises:
            InvalidModelError: a node has no label, or a sequence has the wrong length.
        """
        if isinstance(labels, Mapping):
            missing = [node for node in self.nodes if node not in labels]
            if missing:
                raise InvalidModelError(f"the labels give no cluster for node {missing[0]!r}")
            values = [labels[node] for node in self.nodes]
        else:
            values = list(labels)
            if len(values) != self.num_nodes:
                raise InvalidModelError(f"expected one label per node ({self.num_nodes}), got {len(values)}")
        numbering: dict[Hashable, int] = {}
        return np.array([numbering.setdefault(value, len(numbering)) for value in values], dtype=np.int64)

    def as_dict(self, labels: np.ndarray) -> dict:
        """``{node: label}`` for labels in node-index order."""
        return {node: int(label) for node, label in zip(self.nodes, labels)}


GraphLike = Union[nx.Graph, SignedGraph]


def as_signed_graph(G: GraphLike, weight: str | None = "weight") -> SignedGraph:
    """``G`` itself if it is a :class:`SignedGraph`, else :meth:`SignedGraph.from_graph`."""
    return G if isinstance(G, SignedGraph) else SignedGraph.from_graph(G, weight)


def _number_in_order(labels: np.ndarray) -> np.ndarray:
    """Relabel so that labels appear as ``0, 1, 2, ...`` in array order."""
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first)] = np.arange(len(first))
    return rank[inverse.ravel()]


def multicut_cost(
    G: GraphLike, labels: Mapping[Hashable, Hashable] | Sequence[Hashable], weight: str | None = "weight"
) -> float:
    """The total weight of the edges of ``G`` whose ends carry different labels.

    Example:
        >>> import networkx as nx
        >>> from gnnsolve.search.multicut import multicut_cost
        >>> G = nx.Graph([(0, 1, {"weight": 3}), (1, 2, {"weight": -2})])
        >>> multicut_cost(G, {0: "a", 1: "a", 2: "b"})
        -2.0
    """
    graph = as_signed_graph(G, weight)
    return graph.cost(graph.label_array(labels))


# ---------------------------------------------------------------- GAEC


def gaec(G: GraphLike, weight: str | None = "weight") -> dict:
    """Greedy additive edge contraction (Keuper et al. 2015).

    Starting from singletons, repeatedly contract the edge of largest positive weight, merging
    the edges the two clusters had to a common neighbour into one edge carrying their sum; stop
    when every remaining edge weighs zero or less. A heap with lazy deletion picks the edges and
    the smaller adjacency is merged into the larger, so it runs in :math:`O(m \\log m)` on ``m``
    edges. Ties go to the pair of lower node indices.

    Args:
        G: a networkx graph (see :meth:`SignedGraph.from_graph`) or a :class:`SignedGraph`.
        weight: the edge attribute holding the weight, for a networkx graph.

    Returns:
        ``{node: cluster}`` with clusters numbered in node order.

    Raises:
        InvalidModelError: as :meth:`SignedGraph.from_graph`.

    Example:
        >>> import networkx as nx
        >>> from gnnsolve.search.multicut import gaec
        >>> frustrated = nx.Graph([(0, 1, {"weight": 5}), (1, 2, {"weight": 2}), (0, 2, {"weight": -1})])
        >>> gaec(frustrated)
        {0: 0, 1: 0, 2: 0}
    """
    graph = as_signed_graph(G, weight)
    return graph.as_dict(graph.canonical(_gaec(graph)))


def _gaec(graph: SignedGraph) -> np.ndarray:
    """GAEC on index form: a label (the cluster's surviving node) per node."""
    n = graph.num_nodes
    adjacency: list[dict[int, float]] = [{} for _ in range(n)]
    heap = []
    for u, v, w in zip(graph.rows.tolist(), graph.cols.tolist(), graph.weights.tolist()):
        adjacency[u][v] = adjacency[v][u] = w
        if w > 0:
            heap.append((-w, u, v))
    heapq.heapify(heap)
    parent = list(range(n))
    while heap:
        negative, u, v = heapq.heappop(heap)
        if adjacency[u].get(v) != -negative:
            continue  # stale: an end was contracted away or the edge's weight changed
        if len(adjacency[u]) < len(adjacency[v]):
            u, v = v, u
        parent[v] = u
        del adjacency[u][v]
        for t, w in adjacency[v].items():
            if t == u:
                continue
            del adjacency[t][v]
            total = adjacency[u].get(t, 0.0) + w
            adjacency[u][t] = adjacency[t][u] = total
            if total > 0:
                heapq.heappush(heap, (-total, min(u, t), max(u, t)))
        adjacency[v] = {}
    labels = np.array(parent, dtype=np.int64)
    while True:  # pointer jumping: every node points at its cluster's survivor
        jumped = labels[labels]
        if np.array_equal(jumped, labels):
            return labels
        labels = jumped


# ---------------------------------------------------------------- KLj


def kernighan_lin_joins(
    G: GraphLike,
    labels: Mapping[Hashable, Hashable] | Sequence[Hashable],
    weight: str | None = "weight",
) -> dict:
    """Improve a partition by Kernighan–Lin moves and joins (KLj, Keuper et al. 2015).

    Each iteration visits every pair of neighbouring clusters :math:`(A, B)` (joined by at least
    one edge) of which one changed in the previous iteration, and every changed cluster paired
    with a new, empty one. For a pair it builds a Kernighan–Lin sequence: move the node of
    :math:`A \\cup B` whose move to the other side lowers the cost most (or raises it least),
    never moving a node twice, until all have moved, and keep the best prefix. If joining
    :math:`A` and :math:`B` lowers the cost more (by the total weight between them), they are
    joined instead. A change is made only when it lowers the cost, so the cost never rises; the
    search stops after an iteration without change.

    A pair costs :math:`O(s^2 + \\sum_{v} \\deg v)` for :math:`s = |A \\cup B|`.

    Args:
        G: a networkx graph (see :meth:`SignedGraph.from_graph`) or a :class:`SignedGraph`.
        labels: the starting partition, ``{node: label}`` or one label per node in node order
            (any hashable labels), for example :func:`gaec`'s.
        weight: the edge attribute holding the weight, for a networkx graph.

    Returns:
        ``{node: cluster}`` with clusters numbered in node order; its cost is at most that of
        ``labels``.

    Raises:
        InvalidModelError: as :meth:`SignedGraph.from_graph`, or a node has no label.

    Example:
        >>> import networkx as nx
        >>> from gnnsolve.search.multicut import kernighan_lin_joins
        >>> G = nx.Graph([(0, 1, {"weight": 4}), (1, 2, {"weight": -3}), (2, 3, {"weight": 4})])
        >>> kernighan_lin_joins(G, {0: 0, 1: 0, 2: 0, 3: 0})
        {0: 0, 1: 0, 2: 1, 3: 1}
    """
    graph = as_signed_graph(G, weight)
    return graph.as_dict(_kernighan_lin_joins(graph, graph.label_array(labels)))


def _kernighan_lin_joins(graph: SignedGraph, labels: np.ndarray) -> np.ndarray:
    """KLj on index form; returns canonical labels."""
    labels = graph.canonical(labels)
    if graph.num_nodes == 0:
        return labels
    adjacency = graph.adjacency
    tolerance = 1e-9 * max(1.0, float(np.abs(graph.weights).max(initial=0.0)))
    changed = set(range(int(labels.max()) + 1))
    while changed:
        members = {int(c): np.flatnonzero(labels == c) for c in np.unique(labels)}
        cut = labels[graph.rows] != labels[graph.cols]
        ends = np.sort(np.stack([labels[graph.rows[cut]], labels[graph.cols[cut]]], axis=1), axis=1)
        pairs = [(a, b) for a, b in np.unique(ends, axis=0).tolist() if a in changed or b in changed]
        pairs += [(a, None) for a in sorted(changed) if a in members]
        next_label = int(labels.max()) + 1
        now_changed: set[int] = set()
        for a, b in pairs:
            first = members[a]
            second = members[b] if b is not None else np.empty(0, dtype=np.int64)
            if len(first) == 0 or (b is not None and len(second) == 0):
                continue  # joined away earlier in this iteration
            if b is None:
                b, next_label = next_label, next_label + 1
            moved_to_b, moved_to_a = _update_pair(adjacency, first, second, tolerance)
            if moved_to_b is None:
                continue
            labels[moved_to_b], labels[moved_to_a] = b, a
            members[a] = np.flatnonzero(labels == a)
            members[b] = np.flatnonzero(labels == b)
            now_changed |= {a, b}
        changed = now_changed
    return graph.canonical(labels)


def _update_pair(
    adjacency: scipy.sparse.csr_matrix, first: np.ndarray, second: np.ndarray, tolerance: float
) -> tuple[np.ndarray, np.ndarray] | tuple[None, None]:
    """The best Kernighan–Lin prefix or join for clusters ``first`` and ``second`` (possibly empty).

    Returns the nodes to move from ``first`` to ``second`` and back, or ``(None, None)`` when
    nothing lowers the cost by more than ``tolerance``.
    """
    nodes = np.concatenate([first, second])
    side = np.concatenate([np.zeros(len(first), dtype=bool), np.ones(len(second), dtype=bool)])
    block = adjacency[nodes][:, nodes].tocsr()
    to_second = block @ side.astype(np.float64)
    to_first = np.asarray(block.sum(axis=1)).ravel() - to_second
    candidate = np.where(side, to_first - to_second, to_second - to_first)  # cost decrease of moving each node
    join = float(to_second[~side].sum())
    total, best, best_length = 0.0, 0.0, 0
    order = np.empty(len(nodes), dtype=np.int64)
    for step in range(len(nodes)):
        i = int(np.argmax(candidate))
        total += candidate[i]
        order[step] = i
        candidate[i] = -np.inf
        side[i] = ~side[i]
        start, stop = block.indptr[i], block.indptr[i + 1]
        neighbours, weights = block.indices[start:stop], block.data[start:stop]
        # a neighbour now on i's side gains less by leaving it, one on the other side gains more
        candidate[neighbours] += np.where(side[neighbours] == side[i], -2.0, 2.0) * weights
        if total > best:
            best, best_length = total, step + 1
    if max(best, join) <= tolerance:
        return None, None
    if join > best:
        return first, np.empty(0, dtype=np.int64)
    moved = order[:best_length]
    from_first = moved[moved < len(first)]
    from_second = moved[moved >= len(first)]
    return nodes[from_first], nodes[from_second]
