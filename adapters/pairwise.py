r"""Pairwise clustering: the k-way assignment form of a CQM, the form ClusterNet reads.

:class:`PairwiseClustering` is the k-way assignment form of a CQM: BINARY :math:`x_{v,c}` labelled
``(v, c)`` for :math:`c = 0..k-1`, one discrete constraint :math:`\sum_c x_{v,c} = 1` per node,
and an objective whose biases do not depend on :math:`c`,

.. math::

    E(x) = e_0 + \sum_{v,c} b_v\, x_{v,c} - \sum_c \sum_{u<v} W_{uv}\, x_{u,c}\, x_{v,c}.

On a feasible :math:`x` the linear part is the constant :math:`\sum_v b_v`, so minimising
:math:`E` maximises the within-cluster weight :math:`\sum_c \sum_{u<v} W_{uv} x_{u,c} x_{v,c}`
for signed similarities :math:`W`: k-way correlation clustering.
:attr:`~gnnsolve.adapters.clustering.Modularity.cqm` is one, with :math:`W_{uv} = 2B_{uv}/2m`
(dense). ClusterNet's surrogate (:meth:`PairwiseClustering.soft_objective`) is :math:`E` with the
soft assignments of its clustering layer.

Example:
    >>> import networkx as nx
    >>> import torch
    >>> from gnnsolve.adapters.clustering import Modularity
    >>> from gnnsolve.adapters.pairwise import PairwiseClustering
    >>> G = nx.karate_club_graph()
    >>> clubs = {v: int(G.nodes[v]["club"] == "Officer") for v in G}
    >>> pairwise = PairwiseClustering.from_cqm(Modularity(G, k=2).cqm)
    >>> round(pairwise.evaluate(clubs), 4)
    -0.3582
    >>> one_hot = torch.nn.functional.one_hot(torch.tensor([clubs[v] for v in pairwise.nodes]), 2).double()
    >>> round(float(pairwise.soft_objective(one_hot)), 4)
    -0.3582

References:
    B. Wilder, E. Ewing, B. Dilkina and M. Tambe, "End to End Learning and Optimization on
    Graphs", NeurIPS 2019.
"""

from __future__ import annotations

import math
import numbers
from functools import cached_property
from typing import TYPE_CHECKING, Any, Hashable, Iterable, Mapping, cast

import dimod
import networkx as nx
import numpy as np
import scipy.sparse
from numpy.typing import ArrayLike

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
from gnnsolve.adapters._clustering_common import check_k, check_size, decode_rows
from gnnsolve.adapters.problem import GraphProblem, Solution
from gnnsolve.errors import InvalidModelError, UnsupportedModelError

if TYPE_CHECKING:
    import torch

    from gnnsolve.nn.sparse import SparseOperator

__all__ = ["PairwiseClustering"]

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
    :attr:`~gnnsolve.adapters.clustering.Modularity.cqm` is (:math:`E = -Q`): the problem
    ``ClusterNetSampler.sample_cqm`` solves. :attr:`cqm` is that form again, over BINARY
    ``(v, c)`` with one discrete constraint per node; :meth:`encode` turns cluster labels into its
    samples and :meth:`decode` reads them back. :attr:`graph` holds the nodes and an edge wherever
    :math:`W_{uv} > 0`, weighing :math:`W_{uv}`: the attractive pairs a graph network sees.

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
        >>> from gnnsolve.adapters.pairwise import PairwiseClustering
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
    prefers_cqm = True

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
        self.k: int = check_k(k, n, "PairwiseClustering")
        W.eliminate_zeros()
        self.weights: scipy.sparse.csr_matrix = W
        """:math:`W` in :attr:`nodes` order (CSR, symmetric)."""
        self.constant: float = float(constant)
        upper = scipy.sparse.triu(W, k=1).tocoo()
        self._rows: np.ndarray = upper.row.astype(np.int64)
        self._cols: np.ndarray = upper.col.astype(np.int64)
        self._values: np.ndarray = upper.data
        self.graph: nx.Graph = nx.Graph()
        self.graph.add_nodes_from(self.nodes)
        attract = self._values > 0
        self.graph.add_weighted_edges_from(
            (self.nodes[i], self.nodes[j], w) for i, j, w in zip(self._rows[attract], self._cols[attract], self._values[attract])
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
                named. The k-center MILP (:attr:`~gnnsolve.adapters.kcenter.KCenter.cqm`) is refused with a pointer to
                ``KCenter(G, k)``.
            InvalidModelError: a bias or the offset is not finite, or ``k`` exceeds the number of nodes.

        Example:
            >>> import networkx as nx
            >>> from gnnsolve.adapters.clustering import Modularity
            >>> from gnnsolve.adapters.pairwise import PairwiseClustering
            >>> modularity = Modularity(nx.barbell_graph(3, 0), k=2)
            >>> problem = PairwiseClustering.from_cqm(modularity.cqm)
            >>> problem.k, problem.nodes == modularity.nodes, problem.graph.number_of_edges()
            (2, True, 7)
            >>> split = {v: int(v >= 3) for v in problem.nodes}
            >>> bool(abs(problem.evaluate(split) + modularity.evaluate(split)) < 1e-12)
            True
        """
        if not isinstance(cqm, dimod.ConstrainedQuadraticModel):
            raise UnsupportedModelError(
                f"expected a dimod.ConstrainedQuadraticModel, got {type(cqm).__name__}. {_ASSIGNMENT_FORM}"
            )
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
            ModelTooLargeError: the objective would have more than
                :data:`~gnnsolve.adapters.clustering.MAX_MODEL_TERMS` biases.
        """
        check_size(self.k * len(self._values), "the pairwise clustering model")
        objective = assignment_bqm(
            self.nodes, self.k, np.zeros(len(self.nodes)), self._rows, self._cols, -self._values, self.constant
        )
        return one_hot_cqm(objective, self.nodes, self.k)

    def _build_bqm(self) -> dimod.BinaryQuadraticModel:
        raise UnsupportedModelError(
            "pairwise clustering has no BQM form here: solve it with a CQM sampler "
            "(ClusterNetSampler().sample_cqm(problem.cqm), HiGHSSampler().sample_cqm) or ClusterNetSampler"
        )

    def encode(self, labels: ArrayLike, variables: Iterable[tuple[Hashable, int]] | None = None) -> tuple[np.ndarray, list]:
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
            >>> from gnnsolve.adapters.pairwise import PairwiseClustering
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
            labels = {node: integer_label(sample[node], node) for node in self.nodes}
            return self._scored(labels, repaired=False)
        missing = [label for label in self.variables if label not in present]
        if missing:
            raise InvalidModelError(
                f"the sample has no value for {missing[0]!r}: give one label per node or a sample "
                "over the (node, cluster) variables"
            )
        given = [[c for c in range(self.k) if sample[(node, c)] > 0] for node in self.nodes]
        clusters = place(self.weights, given, self.k)
        labels = {node: int(c) for node, c in zip(self.nodes, clusters)}
        return self._scored(labels, repaired=any(len(chosen) != 1 for chosen in given))

    def _scored(self, labels: dict, repaired: bool) -> Solution[dict]:
        objective = self.evaluate(labels)
        return Solution(labels, objective, self.is_feasible(labels), repaired, energy=objective)

    def decode_sampleset(self, sampleset: dimod.SampleSet) -> list[Solution[dict]]:
        """Decode every row; the variables are the nodes (labels) or the ``(v, c)`` pairs.

        Raises:
            InvalidModelError: the SampleSet is over other variables.
        """
        return decode_rows(self, sampleset, {"the nodes": self.nodes, "the (node, cluster) pairs": self.variables})

    def evaluate(self, value: Mapping[Hashable, Hashable]) -> float:
        """:math:`E` of the clustering node → label (any hashable labels): the CQM's objective."""
        clusters = community_index(self.nodes, value)
        inside = clusters[self._rows] == clusters[self._cols]
        return self.constant - float(self._values[inside].sum())

    def is_feasible(self, value: Mapping[Hashable, Any]) -> bool:
        """Whether every node, and nothing else, has a label in ``0..k-1``."""
        return is_assignment(value, self.nodes, self.k)

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
        check_assignments(r, len(self.nodes), self.k)
        weights = assignment_operator(self._operators, self.weights, r)
        return self.constant - 0.5 * (r * weights.matmul(r)).sum()


def _assignment_variables(cqm: dimod.ConstrainedQuadraticModel) -> tuple[list, int]:
    """The nodes (in order of first appearance) and ``k`` of a CQM over BINARY ``(v, c)``, ``c`` in ``0..k-1``."""
    clusters: dict[Hashable, list[int]] = {}
    for label in cqm.variables:
        vartype = cqm.vartype(label)
        if vartype is not dimod.BINARY:
            raise UnsupportedModelError(f"variable {label!r} is {vartype.name}, not BINARY. {_ASSIGNMENT_FORM}")
        if not (
            isinstance(label, tuple)
            and len(label) == 2
            and isinstance(label[1], numbers.Integral)
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
    for label, bias in objective.iter_linear():
        node, c = cast("tuple[Hashable, int]", label)  # every label is (v, c): _assignment_variables checked them
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
    uneven = np.flatnonzero((counts != k) | (np.minimum.reduceat(ordered, starts) != np.maximum.reduceat(ordered, starts)))
    if len(uneven):
        t = uneven[0]
        u, v = nodes[keys[t] // n], nodes[keys[t] % n]
        given = {terms[j][0][1]: terms[j][2] for j in order[starts[t] : starts[t] + counts[t]]}
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
