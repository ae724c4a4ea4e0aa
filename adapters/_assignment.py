"""The k-way assignment form that modularity and pairwise clustering share.

A partition of the nodes into at most ``k`` communities is one BINARY variable ``(v, c)`` per
node ``v`` and community ``c`` in ``0..k-1``, one-hot per node. This module builds that form's
objective and CQM, reads partitions back (labels to community indices, repairing nodes with no
community or several), checks them, and gives the sparse torch operator the soft objectives
multiply the ``n × k`` soft assignments with. Used by
:class:`~gnnsolve.adapters.clustering.Modularity` and
:class:`~gnnsolve.adapters.pairwise.PairwiseClustering`.

Example:
    >>> import numpy as np
    >>> from gnnsolve.adapters._assignment import assignment_bqm, community_index, one_hot_cqm
    >>> community_index(["a", "b", "c"], {"a": "x", "b": "y", "c": "x"}).tolist()
    [0, 1, 0]
    >>> one_edge = assignment_bqm(["a", "b"], 2, np.zeros(2), np.array([0]), np.array([1]), np.array([-1.0]), 0.0)
    >>> cqm = one_hot_cqm(one_edge, ["a", "b"], 2)
    >>> len(cqm.variables), len(cqm.constraints), float(cqm.objective.get_quadratic(("a", 1), ("b", 1)))
    (4, 2, -1.0)
"""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING, Any, Hashable, Mapping, Sequence

import dimod
import numpy as np
import scipy.sparse

from gnnsolve.errors import InvalidModelError

if TYPE_CHECKING:
    import torch

    from gnnsolve.nn.sparse import SparseOperator

__all__ = [
    "community_index",
    "is_assignment",
    "assignment_bqm",
    "one_hot_cqm",
    "place",
    "assignment_operator",
    "check_assignments",
    "integer_label",
]


def community_index(nodes: Sequence[Hashable], labels: Mapping[Hashable, Hashable]) -> np.ndarray:
    """Each node's community as an integer ``0..c-1`` (the labels' order of first appearance)."""
    missing = [node for node in nodes if node not in labels]
    if missing:
        raise InvalidModelError(f"the labels give no community for node {missing[0]!r}")
    numbering: dict[Hashable, int] = {}
    return np.array([numbering.setdefault(labels[node], len(numbering)) for node in nodes], dtype=np.int64)


def is_assignment(value: Mapping[Hashable, Any], nodes: Sequence[Hashable], k: int) -> bool:
    """Whether every node, and nothing else, has a label in ``0..k-1``."""
    return set(value) == set(nodes) and all(
        isinstance(label, numbers.Integral) and 0 <= int(label) < k for label in value.values()
    )


def assignment_bqm(
    nodes: Sequence[Hashable],
    k: int,
    linear: np.ndarray,
    rows: np.ndarray,
    cols: np.ndarray,
    bias: np.ndarray,
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


def one_hot_cqm(objective: dimod.BinaryQuadraticModel, nodes: Sequence[Hashable], k: int) -> dimod.ConstrainedQuadraticModel:
    """``objective`` with one discrete constraint per node over its ``(v, c)``."""
    cqm = dimod.ConstrainedQuadraticModel.from_bqm(objective)
    for i, node in enumerate(nodes):
        cqm.add_discrete([(node, c) for c in range(k)], label=f"one_community_{i}")
    return cqm


def place(
    weights: scipy.sparse.csr_matrix,
    given: list[list[int]],
    k: int,
    degree: np.ndarray | None = None,
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


def assignment_operator(
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


def check_assignments(r: torch.Tensor, n: int, k: int) -> None:
    """Refuse soft assignments ``r`` that are not ``n × k``."""
    if tuple(r.shape) != (n, k):
        raise ValueError(f"r must have shape ({n}, {k}), got {tuple(r.shape)}")


def integer_label(value: Any, node: Hashable) -> int:
    """``node``'s community label as an int (``2`` or ``2.0``), else an InvalidModelError."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool) and float(value).is_integer():
        return int(value)  # type: ignore[call-overload]  # typeshed's numbers.Real lacks __int__, which every real type has
    raise InvalidModelError(f"node {node!r} has community label {value!r}; labels must be integers")
