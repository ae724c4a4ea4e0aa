r"""The edge-contraction environment of multicut planning: clusters merged one adjacent pair at a time.

A state is a partition of the nodes of a signed graph into clusters, each connected. With the
assignment matrix :math:`S \in \{0, 1\}^{n \times c}` (:math:`S_{vk} = 1` when node ``v`` is in
cluster ``k``) and the symmetric weighted adjacency :math:`C`, the clusters are joined by the
inter-cluster weights

.. math::

    W' = S^\top C S \quad (\text{diagonal dropped}), \qquad
    \mathrm{cost} = \sum_{k < l} W'_{kl},

the multicut cost of the partition. The episode starts from singletons (:math:`W' = C`,
the cost is the total weight); an action contracts two adjacent clusters :math:`a, b` and
earns the reward :math:`W'_{ab}`, the decrease of the cost. Merging updates :math:`W'` in
place, :math:`O(n)`: row and column ``b`` are added into ``a``, then ``b`` is removed. It is
never recomputed. An episode is :attr:`~ContractionEnv.done` when no pair of clusters has
positive weight left: any further contraction would raise the cost.

Only contractions of positive weight are offered as actions (:meth:`ContractionEnv.contractible_edges`).
That loses nothing: in an optimal partition no two clusters have positive weight between them
(joining them would lower the cost), and inside an optimal cluster every split has a
non-negative weight across it (else splitting would lower the cost), so from singletons an
optimal partition is reached by contractions of non-negative weight; positive ones suffice
unless the weights tie at zero.

The state is stored densely, an :math:`n \times n` ``float64`` matrix indexed by node (a
cluster is named by one of its nodes, its *representative*; removed rows and columns are zero).
A contraction made with ``undoable=True`` saves the two rows it overwrites, and :meth:`ContractionEnv.undo`
restores them exactly, :math:`O(n)` either way: tree search walks one state down a path and back
instead of copying it (a copy is :math:`9 n^2` bytes, 2.3 MB at :math:`n = 500`). The dense form
suits graphs of up to a few thousand nodes; :func:`~gnnsolve.search.multicut.gaec` handles
larger ones.

This is the environment of the planner of

    "Universal Spatial GNN-RL Planning for Active Edge Contraction Graph Partitioning"
    (signed graph partitioning by GNN-guided edge contraction with Monte Carlo tree search),

which :mod:`gnnsolve.search.mcts` searches and :class:`gnnsolve.samplers.multicut.MulticutSampler`
exposes.

Example:
    >>> import networkx as nx
    >>> from gnnsolve.search.contraction import ContractionEnv
    >>> G = nx.Graph([(0, 1, {"weight": 3.0}), (1, 2, {"weight": 1.0}), (0, 2, {"weight": -2.0})])
    >>> env = ContractionEnv.from_graph(G)
    >>> env.cost, env.contractible_edges().tolist()
    (2.0, [[0, 1], [1, 2]])
    >>> env.contract(0, 1), env.cost, env.done
    (3.0, -1.0, True)
    >>> env.labels().tolist()
    [0, 0, 1]
    >>> env.contract(0, 2, undoable=True), env.labels().tolist()
    (-1.0, [0, 0, 0])
    >>> env.undo(), env.labels().tolist(), env.cost
    ((0, 2), [0, 0, 1], -1.0)
"""

from __future__ import annotations

import numpy as np

from gnnsolve.search.multicut import (
    GraphLike,
    SignedGraph,
    _contract_dense,
    _dense_pays,
    _gaec,
    _number_in_order,
    _survivors,
    as_signed_graph,
)

__all__ = ["ContractionEnv"]


class ContractionEnv:
    """Clusters of a signed graph, contracted pair by pair (see the module docstring).

    Attributes:
        graph: the graph in index form.
        weights: the :math:`n \\times n` inter-cluster weights :math:`W'`, indexed by
            representative; zero outside the active rows and columns and on the diagonal.
        adjacent: ``adjacent[a, b]`` when an edge of the graph joins clusters ``a`` and ``b``
            (their weight may still be zero).
        sizes: nodes per cluster, by representative (0 for removed ones).
        active: which representatives are clusters.
        assignment: each node's representative.
        cost: the multicut cost of the partition.
    """

    def __init__(self, graph: SignedGraph) -> None:
        n = graph.num_nodes
        self.graph = graph
        self.weights = np.zeros((n, n))
        self.weights[graph.rows, graph.cols] = graph.weights
        self.weights[graph.cols, graph.rows] = graph.weights
        self.adjacent = np.zeros((n, n), dtype=bool)
        self.adjacent[graph.rows, graph.cols] = True
        self.adjacent[graph.cols, graph.rows] = True
        self.sizes = np.ones(n, dtype=np.int64)
        self.active = np.ones(n, dtype=bool)
        self.assignment = np.arange(n, dtype=np.int64)
        self.cost = float(graph.weights.sum())
        self.dense_rollouts = _dense_pays(n, len(graph.weights))
        self._undo: list[tuple] = []

    @classmethod
    def from_graph(cls, G: GraphLike, weight: str | None = "weight") -> ContractionEnv:
        """The singleton partition of a networkx graph or :class:`~gnnsolve.search.multicut.SignedGraph`.

        Raises:
            InvalidModelError: as :meth:`~gnnsolve.search.multicut.SignedGraph.from_graph`.
        """
        return cls(as_signed_graph(G, weight))

    def copy(self) -> ContractionEnv:
        """An independent copy (the graph is shared, it is never modified), with nothing to undo."""
        other = object.__new__(ContractionEnv)
        other.graph = self.graph
        other.weights = self.weights.copy()
        other.adjacent = self.adjacent.copy()
        other.sizes = self.sizes.copy()
        other.active = self.active.copy()
        other.assignment = self.assignment.copy()
        other.cost = self.cost
        other.dense_rollouts = self.dense_rollouts
        other._undo = []
        return other

    @property
    def num_clusters(self) -> int:
        return int(self.active.sum())

    @property
    def positive_weight(self) -> float:
        """The total positive weight between clusters: an upper bound on the reward still to earn."""
        return float(self.weights[self.weights > 0].sum()) / 2.0

    @property
    def done(self) -> bool:
        """Whether no two clusters have positive weight between them."""
        return not bool((self.weights > 0).any())

    def contractible_edges(self, positive: bool = True) -> np.ndarray:
        """The pairs ``[a, b]``, ``a < b``, of adjacent clusters, by representative, in row-major order.

        Args:
            positive: only those of positive weight, the actions of the episode.

        Returns:
            An ``m × 2`` ``int64`` array.
        """
        mask = self.weights > 0 if positive else self.adjacent
        first, second = np.nonzero(np.triu(mask, 1))
        return np.stack([first, second], axis=1)

    def contract(self, a: int, b: int, undoable: bool = False) -> float:
        """Merge clusters ``a`` and ``b`` (representatives) into ``min(a, b)``; return the reward :math:`W'_{ab}`.

        Args:
            a, b: the clusters.
            undoable: save what :meth:`undo` needs to take the contraction back (two rows, :math:`O(n)`).

        Raises:
            ValueError: ``a`` or ``b`` is not a cluster, they are the same, or not adjacent.
        """
        a, b = int(a), int(b)
        n = len(self.active)
        if not (0 <= a < n and 0 <= b < n and self.active[a] and self.active[b]) or a == b:
            raise ValueError(f"cannot contract ({a}, {b}): both must be distinct clusters (active representatives)")
        if not self.adjacent[a, b]:
            raise ValueError(f"cannot contract ({a}, {b}): no edge joins the two clusters")
        a, b = min(a, b), max(a, b)
        reward = float(self.weights[a, b])
        weights, adjacent = self.weights, self.adjacent
        moved = np.flatnonzero(self.assignment == b)
        if undoable:
            self._undo.append(
                (a, b, weights[a].copy(), weights[b].copy(), adjacent[a].copy(), adjacent[b].copy(), moved, self.cost)
            )
        weights[a] += weights[b]
        weights[:, a] = weights[a]
        weights[a, a] = 0.0
        weights[b] = 0.0
        weights[:, b] = 0.0
        adjacent[a] |= adjacent[b]
        adjacent[:, a] = adjacent[a]
        adjacent[a, a] = False
        adjacent[b] = False
        adjacent[:, b] = False
        self.sizes[a] += self.sizes[b]
        self.sizes[b] = 0
        self.active[b] = False
        self.assignment[moved] = a
        self.cost -= reward
        return reward

    def undo(self) -> tuple[int, int]:
        """Take back the last contraction made with ``undoable=True``, exactly; return its pair ``(a, b)``, ``a < b``.

        Raises:
            IndexError: there is none left to undo.
        """
        if not self._undo:
            raise IndexError("no undoable contraction to take back")
        a, b, row_a, row_b, adjacent_a, adjacent_b, moved, cost = self._undo.pop()
        for node, row, adjacent in ((a, row_a, adjacent_a), (b, row_b, adjacent_b)):
            self.weights[node] = row
            self.weights[:, node] = row
            self.adjacent[node] = adjacent
            self.adjacent[:, node] = adjacent
        self.sizes[a] -= len(moved)
        self.sizes[b] = len(moved)
        self.active[b] = True
        self.assignment[moved] = b
        self.cost = cost
        return a, b

    def clusters(self) -> np.ndarray:
        """The representatives of the clusters, ascending."""
        return np.flatnonzero(self.active)

    def cluster_weights(self) -> np.ndarray:
        """:math:`W'` restricted to the clusters, in :meth:`clusters` order (``c × c``)."""
        clusters = self.clusters()
        return self.weights[np.ix_(clusters, clusters)]

    def labels(self) -> np.ndarray:
        """Each node's cluster, numbered ``0..c-1`` in node order."""
        return _number_in_order(self.assignment)

    def contracted_graph(self) -> SignedGraph:
        """The graph of the clusters (in :meth:`clusters` order) and their adjacencies."""
        clusters = self.clusters()
        rows, cols = np.nonzero(np.triu(self.adjacent[np.ix_(clusters, clusters)], 1))
        weights = self.weights[clusters[rows], clusters[cols]]
        return SignedGraph(list(range(len(clusters))), rows, cols, weights)

    def gaec_rollout(self, deadline: float | None = None) -> tuple[np.ndarray, float]:
        """Finish the episode greedily (GAEC on :meth:`contracted_graph`) without changing the state.

        On a dense start graph (:func:`~gnnsolve.search.multicut._dense_pays`) GAEC runs on the
        clusters' block of :attr:`weights` itself, vectorised, ties going to the first pair in
        row order; otherwise on :meth:`contracted_graph`, ties broken as
        :func:`~gnnsolve.search.multicut.gaec` breaks them.

        Args:
            deadline: a :func:`time.perf_counter` reading at which GAEC stops, the partition
                then only partly finished.

        Returns:
            The node labels of the finished partition (one representative per cluster) and its cost.
        """
        clusters = self.clusters()
        if self.dense_rollouts:
            block = self.cluster_weights()
            finished = _survivors(_contract_dense(block.copy(), deadline))
            inside = float(block[finished[:, None] == finished[None, :]].sum()) / 2.0
        else:
            graph = self.contracted_graph()
            finished = _gaec(graph, deadline)
            inside = float(graph.weights[finished[graph.rows] == finished[graph.cols]].sum())
        position = np.empty(len(self.active), dtype=np.int64)
        position[clusters] = np.arange(len(clusters))
        return clusters[finished[position[self.assignment]]], self.cost - inside
