r"""The multicut problem (correlation clustering) on a signed graph, with its dimod models.

Edges carry weights :math:`w_{uv}` of either sign: positive when ``u`` and ``v`` belong together,
negative when they belong apart. A partition of the nodes into any number of clusters (the
number is not given) costs the weight of the edges it cuts, which is minimised:

.. math::

    \mathrm{cost}(c) = \sum_{uv \in E,\; c_u \neq c_v} w_{uv}.

Two other scores have the same minimisers:

- the *disagreement* of correlation clustering, attractive edges cut plus repulsive edges kept,
  :math:`\sum_{w_{uv} > 0,\, c_u \ne c_v} w_{uv} + \sum_{w_{uv} < 0,\, c_u = c_v} |w_{uv}|
  = \mathrm{cost}(c) + \sum_{w_{uv} < 0} |w_{uv}|` (a repulsive edge kept instead of cut adds
  :math:`|w|` to the disagreement and to the cost alike);
- the *same-cluster weight* that CP-Lib's clique partitioning maximises,
  :math:`\sum_{c_u = c_v} w_{uv} = \sum_{E} w_{uv} - \mathrm{cost}(c)`
  (:meth:`Multicut.inside_weight`).

An answer is a dict node → cluster label. Decoding numbers the clusters ``0..c-1`` in node order
and splits a cluster whose parts no uncut edge joins (the multicut the labels induce; the cost
does not change), so equal partitions get equal dicts.

**Edge form.** One binary :math:`x_e` per edge, 1 when ``e`` is cut: minimise
:math:`\sum_e w_e x_e` subject to the cycle inequalities :math:`x_e \le \sum_{f \in C \setminus e} x_f`
for every cycle :math:`C \ni e` (Chopra and Rao 1993): no cycle is cut exactly once.
:attr:`Multicut.edge_variables` names these variables; there are exponentially many
inequalities, so :func:`gnnsolve.search.multicut_ilp.solve_multicut_ilp` adds them as cutting
planes. :attr:`Multicut.cqm` states the same model on the completed graph (zero-weight pairs
added), where the triangle inequalities suffice, for small graphs.

**Node form.** :attr:`Multicut.bqm` uses one BINARY :math:`x_{v,c}` per node and cluster
:math:`c = 0..n-1` (enough for every partition), with energy
:math:`\sum_{uv} w_{uv}\big(1 - \sum_c x_{u,c} x_{v,c}\big) + P \sum_v \big(1 - \sum_c x_{v,c}\big)^2`.
On one-hot samples it is the cost. With :math:`P` above every node's total absolute weight
:math:`D_v = \sum_u |w_{uv}|`, dropping a second cluster from a node, or giving a clusterless node
one, changes the cost by at most :math:`D_v` and the penalty by at least :math:`-P`, so every
local minimum under single flips is one-hot and the ground states are the optimal partitions.

Example:
    >>> import networkx as nx
    >>> from gnnsolve import HiGHSSampler
    >>> from gnnsolve.adapters.multicut import Multicut
    >>> G = nx.Graph()
    >>> G.add_weighted_edges_from([(0, 1, 2), (1, 2, 2), (0, 2, 2), (3, 4, 2), (4, 5, 2), (3, 5, 2), (2, 3, -1)])
    >>> problem = Multicut(G)
    >>> best, _ = problem.solve(HiGHSSampler())
    >>> best.value, best.objective, problem.disagreement(best.value), problem.inside_weight(best.value)
    ({0: 0, 1: 0, 2: 0, 3: 1, 4: 1, 5: 1}, -1.0, 0.0, 12.0)

References:
    S. Chopra and M. R. Rao, "The partition problem", Mathematical Programming 59 (1993).

    N. Bansal, A. Blum and S. Chawla, "Correlation clustering", Machine Learning 56 (2004).

    M. M. Sørensen and A. N. Letchford, "CP-Lib: Benchmark instances of the clique partitioning
    problem", Mathematical Programming Computation 16 (2024).
"""

from __future__ import annotations

import itertools
import os
from functools import cached_property
from typing import Any, Hashable, Mapping

import dimod
import networkx as nx
import numpy as np
from numpy.typing import ArrayLike

from gnnsolve.adapters.datasets import read_cplib
from gnnsolve.adapters.problem import GraphProblem, Solution
from gnnsolve.errors import InvalidModelError, ModelTooLargeError
from gnnsolve.search.multicut import SignedGraph

__all__ = ["Multicut", "MAX_CQM_CONSTRAINTS", "MAX_BQM_TERMS"]

MAX_CQM_CONSTRAINTS = 60_000
"""The most triangle inequalities :attr:`Multicut.cqm` may have: :math:`3\\binom{n}{3}`, so up to
50 nodes. Larger graphs are for :func:`~gnnsolve.search.multicut_ilp.solve_multicut_ilp`."""

MAX_BQM_TERMS = 1_000_000
"""The most quadratic biases :attr:`Multicut.bqm` may have: :math:`n |E| + n^2 (n - 1) / 2`."""


class Multicut(GraphProblem[dict]):
    """Partition a signed graph into clusters cutting the least total weight (see the module docstring).

    Args:
        G: an undirected graph; parallel edges of a multigraph add up; self-loops are ignored
            (a node is never cut from itself); zero weights are allowed and never matter;
            disconnected graphs and isolated nodes are fine.
        weight: the edge attribute holding the weight; edges without it weigh 1, and so does
            every edge when ``weight`` is ``None``.

    Raises:
        InvalidModelError: the graph is directed or has no nodes, or a weight is NaN, infinite or
            not a number (the edge is named).

    Example:
        >>> import networkx as nx
        >>> from gnnsolve.adapters.multicut import Multicut
        >>> problem = Multicut(nx.Graph([(0, 1, {"weight": 5}), (1, 2, {"weight": 2}), (0, 2, {"weight": -3})]))
        >>> problem.evaluate({0: "a", 1: "a", 2: "b"}), problem.evaluate({0: 0, 1: 0, 2: 0})
        (-1.0, 0.0)

    :meth:`solve` gives :class:`~gnnsolve.MulticutSampler` the problem itself, at any size; a
    sampler with ``sample_cqm`` gets :attr:`cqm` (up to 50 nodes), and any other :attr:`bqm`:

        >>> from gnnsolve import MulticutSampler
        >>> best, sampleset = problem.solve(MulticutSampler(), method="gaec+kl")
        >>> best.value, best.objective, list(sampleset.variables)
        ({0: 0, 1: 0, 2: 1}, -1.0, [0, 1, 2])
    """

    sense = "min"
    objective_name = "cut cost"
    prefers_cqm = True

    def __init__(self, G: nx.Graph, weight: str | None = "weight") -> None:
        self.signed_graph = SignedGraph.from_graph(G, weight)
        if self.signed_graph.num_nodes == 0:
            raise InvalidModelError("Multicut needs a graph with at least one node; this one is empty")
        self.graph = G
        self.weight = weight

    @classmethod
    def from_cplib(cls, source: str | os.PathLike | ArrayLike) -> Multicut:
        """The multicut of a CP-Lib clique-partitioning instance: a file or its weight matrix.

        Nodes are ``0..n-1``; each nonzero :math:`w_{ij}`, :math:`i < j`, is an edge. CP-Lib's
        optimal values are maxima of :meth:`inside_weight`.

        Raises:
            FileFormatError: as :func:`~gnnsolve.adapters.datasets.read_cplib`.
            InvalidModelError: the matrix is not square and symmetric with finite entries.

        Example:
            >>> from gnnsolve.adapters.multicut import Multicut
            >>> problem = Multicut.from_cplib([[0, 3, -1], [3, 0, 0], [-1, 0, 0]])
            >>> problem.edges
            [(0, 1, 3.0), (0, 2, -1.0)]
        """
        matrix = read_cplib(source) if isinstance(source, (str, os.PathLike)) else np.asarray(source)
        if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1] or not np.issubdtype(matrix.dtype, np.number):
            raise InvalidModelError(f"a CP-Lib weight matrix must be square and numeric, got shape {matrix.shape}")
        bad = np.argwhere(~np.isfinite(matrix))
        if len(bad):
            i, j = bad[0]
            raise InvalidModelError(f"weight ({i}, {j}) is {matrix[i, j]}; weights must be finite numbers")
        asymmetric = np.argwhere(matrix != matrix.T)
        if len(asymmetric):
            i, j = asymmetric[0]
            raise InvalidModelError(f"weights ({i}, {j}) = {matrix[i, j]} and ({j}, {i}) = {matrix[j, i]} differ")
        G = nx.Graph()
        G.add_nodes_from(range(len(matrix)))
        rows, cols = np.nonzero(np.triu(matrix, 1))
        G.add_weighted_edges_from(zip(rows.tolist(), cols.tolist(), matrix[rows, cols].tolist()))
        return cls(G)

    @property
    def nodes(self) -> list:
        """The nodes in index order."""
        return self.signed_graph.nodes

    @property
    def edges(self) -> list[tuple[Hashable, Hashable, float]]:
        """``(u, v, w)`` per edge, ``u`` before ``v`` in node order, parallel edges summed."""
        graph = self.signed_graph
        return [
            (graph.nodes[u], graph.nodes[v], w)
            for u, v, w in zip(graph.rows.tolist(), graph.cols.tolist(), graph.weights.tolist())
        ]

    @property
    def edge_variables(self) -> list[tuple[str, Hashable, Hashable]]:
        """The labels ``("cut", u, v)`` of the edge form's binaries (1 when ``uv`` is cut), in :attr:`edges` order.

        The edge form minimises :math:`\\sum_e w_e x_e` subject to the cycle inequalities; these
        are also the first variables of :attr:`cqm`.
        """
        return [("cut", u, v) for u, v, _ in self.edges]

    # ---------------------------------------------------------------- dimod models

    @cached_property
    def cqm(self) -> dimod.ConstrainedQuadraticModel:
        """The edge form on the completed graph: one BINARY ``("cut", u, v)`` per pair, three triangle
        inequalities per triple :math:`x_{uv} \\le x_{uw} + x_{vw}`.

        Raises:
            ModelTooLargeError: more than :data:`MAX_CQM_CONSTRAINTS` inequalities (above 50 nodes).
        """
        n = len(self.nodes)
        count = 3 * (n * (n - 1) * (n - 2) // 6)
        if count > MAX_CQM_CONSTRAINTS:
            raise ModelTooLargeError(
                f"the multicut CQM of {n} nodes would have {count:,} triangle inequalities, above "
                f"MAX_CQM_CONSTRAINTS = {MAX_CQM_CONSTRAINTS:,}; solve it with "
                "gnnsolve.search.multicut_ilp.solve_multicut_ilp (cutting planes) or gnnsolve.search.multicut.gaec"
            )
        pair = {(i, j): ("cut", self.nodes[i], self.nodes[j]) for i, j in itertools.combinations(range(n), 2)}
        cqm = dimod.ConstrainedQuadraticModel()
        cqm.add_variables(dimod.BINARY, self.edge_variables)
        cqm.add_variables(dimod.BINARY, [label for label in pair.values() if label not in cqm.variables])
        cqm.set_objective((label, w) for label, (_, _, w) in zip(self.edge_variables, self.edges) if w)
        for i, j, k in itertools.combinations(range(n), 3):
            sides = (pair[i, j], pair[i, k], pair[j, k])
            for t, side in enumerate(sides):
                others = [(label, -1.0) for label in sides if label != side]
                cqm.add_constraint_from_iterable([(side, 1.0), *others], "<=", 0, label=f"triangle_{i}_{j}_{k}_{t}")
        return cqm

    @property
    def penalty(self) -> float:
        """The one-hot penalty :math:`P` of :attr:`bqm`: twice the largest :math:`D_v` (1 without weight)."""
        graph = self.signed_graph
        strength = np.bincount(graph.rows, np.abs(graph.weights), graph.num_nodes)
        strength += np.bincount(graph.cols, np.abs(graph.weights), graph.num_nodes)
        largest = float(strength.max())
        return 2.0 * largest if largest > 0 else 1.0

    def _build_bqm(self) -> dimod.BinaryQuadraticModel:
        graph = self.signed_graph
        n = k = graph.num_nodes
        nonzero = graph.weights != 0
        rows, cols, weights = graph.rows[nonzero], graph.cols[nonzero], graph.weights[nonzero]
        terms = k * len(weights) + n * k * (k - 1) // 2
        if terms > MAX_BQM_TERMS:
            raise ModelTooLargeError(
                f"the multicut BQM of {n} nodes and {len(weights):,} nonzero edges would have {terms:,} "
                f"quadratic biases, above MAX_BQM_TERMS = {MAX_BQM_TERMS:,}; use the CQM (exact samplers) "
                "or gnnsolve.search.multicut.gaec / kernighan_lin_joins"
            )
        clusters = np.arange(k)
        first, second = np.triu_indices(k, 1)
        nodes = np.arange(n)
        penalty = self.penalty
        return dimod.BinaryQuadraticModel.from_numpy_vectors(
            np.full(n * k, -penalty),
            (
                np.concatenate([(rows[:, None] * k + clusters).ravel(), (nodes[:, None] * k + first).ravel()]),
                np.concatenate([(cols[:, None] * k + clusters).ravel(), (nodes[:, None] * k + second).ravel()]),
                np.concatenate([np.repeat(-weights, k), np.full(n * len(first), 2.0 * penalty)]),
            ),
            float(weights.sum()) + n * penalty,
            dimod.BINARY,
            variable_order=self.bqm_variables,
        )

    @property
    def bqm_variables(self) -> list[tuple[Hashable, int]]:
        """The labels ``(v, c)`` of :attr:`bqm`'s variables, node by node."""
        return [(node, c) for node in self.nodes for c in range(len(self.nodes))]

    # ---------------------------------------------------------------- decoding

    def decode(self, sample: Mapping[Hashable, Any]) -> Solution[dict]:
        """The partition of a sample, in canonical labels and scored exactly.

        Accepts:

        - one cluster label per node (any hashable labels), e.g. a graph-native sampler's;
        - a sample of :attr:`cqm`: the clusters are the components of the uncut pairs; a sample
          breaking a triangle inequality (a cut pair inside a component) is ``repaired`` so;
        - a sample of :attr:`bqm`: a node with one cluster keeps it; a node with several takes
          the one holding the most weight of its already placed neighbours; a node with none is
          a singleton (both ``repaired``).

        Raises:
            InvalidModelError: the sample is none of these.
        """
        graph = self.signed_graph
        keys = set(sample)
        n = graph.num_nodes
        if keys.issuperset(self.nodes):
            labels = graph.label_array({node: sample[node] for node in self.nodes})
            return self._scored(labels, repaired=False, energy=graph.cost(labels))
        if len(keys) == n * (n - 1) // 2 and keys == set(self.cqm.variables):
            return self._decode_pairs(sample)
        if len(keys) == n * n and keys == set(self.bqm_variables):
            return self._decode_one_hot(sample)
        raise InvalidModelError(
            "the sample is not over this problem's variables: give one cluster label per node, or a "
            "sample of Multicut.cqm (('cut', u, v) pairs) or Multicut.bqm ((node, cluster) pairs)"
        )

    def _decode_pairs(self, sample: Mapping[Hashable, Any]) -> Solution[dict]:
        index = {node: i for i, node in enumerate(self.nodes)}
        pairs = np.array(
            [(index[u], index[v], sample[(tag, u, v)] > 0.5) for tag, u, v in self.cqm.variables], dtype=np.int64
        ).reshape(-1, 3)
        cut = pairs[:, 2].astype(bool)
        uncut = SignedGraph.from_arrays(pairs[~cut, 0], pairs[~cut, 1], np.ones(int((~cut).sum())), len(index))
        labels = uncut.canonical(np.zeros(len(index), dtype=np.int64))  # the components of the uncut pairs
        broken = bool(np.any(labels[pairs[cut, 0]] == labels[pairs[cut, 1]]))
        energy = float(self.cqm.objective.energy(sample))
        return self._scored(labels, repaired=broken, energy=energy)

    def _decode_one_hot(self, sample: Mapping[Hashable, Any]) -> Solution[dict]:
        graph = self.signed_graph
        n = graph.num_nodes
        given = [[c for c in range(n) if sample[(node, c)] > 0.5] for node in self.nodes]
        labels = np.array([chosen[0] if len(chosen) == 1 else -1 for chosen in given], dtype=np.int64)
        adjacency = graph.adjacency
        for i in np.flatnonzero(labels < 0).tolist():
            if not given[i]:
                labels[i] = n + i
                continue
            start, stop = adjacency.indptr[i], adjacency.indptr[i + 1]
            neighbours, weights = adjacency.indices[start:stop], adjacency.data[start:stop]
            placed = labels[neighbours] >= 0
            held = {c: weights[placed & (labels[neighbours] == c)].sum() for c in given[i]}
            labels[i] = max(given[i], key=lambda c: held[c])
        repaired = any(len(chosen) != 1 for chosen in given)
        return self._scored(labels, repaired=repaired, energy=float(self.bqm.energy(sample)))

    def _scored(self, labels: np.ndarray, repaired: bool, energy: float) -> Solution[dict]:
        canonical = self.signed_graph.canonical(labels)
        return Solution(
            value=self.signed_graph.as_dict(canonical),
            objective=self.signed_graph.cost(canonical),
            feasible=True,
            repaired=repaired,
            energy=energy,
        )

    def decode_sampleset(self, sampleset: dimod.SampleSet) -> list[Solution[dict]]:
        """Decode every row (see :meth:`decode` for the accepted variables).

        Raises:
            InvalidModelError: the SampleSet is over other variables.
        """
        return [self.decode(sample) for sample in sampleset.samples()]

    # ---------------------------------------------------------------- scores

    def evaluate(self, value: Mapping[Hashable, Hashable]) -> float:
        """The cut cost of the partition node → label (any hashable labels).

        Raises:
            InvalidModelError: a node has no label.
        """
        return self.signed_graph.cost(self.signed_graph.label_array(value))

    def disagreement(self, value: Mapping[Hashable, Hashable]) -> float:
        """Attractive weight cut plus repulsive weight kept: :meth:`evaluate` plus :math:`\\sum_{w < 0} |w|`."""
        graph = self.signed_graph
        labels = graph.label_array(value)
        cut = labels[graph.rows] != labels[graph.cols]
        w = graph.weights
        return float(w[cut & (w > 0)].sum() - w[~cut & (w < 0)].sum())

    def inside_weight(self, value: Mapping[Hashable, Hashable]) -> float:
        """The weight of the edges inside clusters, CP-Lib's objective (maximised): the total weight
        minus :meth:`evaluate`."""
        graph = self.signed_graph
        labels = graph.label_array(value)
        return float(graph.weights[labels[graph.rows] == labels[graph.cols]].sum())

    def is_feasible(self, value: Mapping[Hashable, Hashable]) -> bool:
        """Whether ``value`` labels every node and nothing else (every labelling is a partition)."""
        return set(value) == set(self.nodes)
