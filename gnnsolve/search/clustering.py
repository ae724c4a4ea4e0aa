r"""Local search that polishes a clustering decision: node moves and merges for modularity and
pairwise (correlation) clustering, facility swaps for k-center.

A learned clustering (ClusterNet's argmax assignment, its rounded facility selection) is usually
a few moves away from a local optimum of the exact objective; these descents take it there, the
way steepest descent polishes a PI-GNN state.

:func:`partition_moves` maximises, over partitions into at most ``k`` clusters with one-hot
columns :math:`x_c`, the objective

.. math::

    F = \sum_c \Big[x_c^\top W x_c - \frac{(d^\top x_c)^2}{2m}\Big], \qquad 2m = \sum_i d_i,

for a signed symmetric weight matrix :math:`W` and optional degrees :math:`d`. With the
adjacency :math:`W = A` and its degrees, :math:`F` is :math:`2m` times the modularity
(:func:`modularity_moves`); without degrees it is the k-way correlation-clustering objective
:math:`2 \sum_c \sum_{u<v} W_{uv} x_{uc} x_{vc}` (the pairwise form
:class:`~gnnsolve.adapters.pairwise.PairwiseClustering` reads from a CQM).

It alternates three descents until none improves. The first is the first phase of the Louvain
method (Blondel, Guillaume, Lambiotte and Lefebvre 2008) with the number of clusters capped at
``k``: nodes are visited in turn and each moves to the cluster (among the ``k``, empty ones
included) that raises :math:`F` most, until a full pass moves nobody. With cluster degree
totals :math:`D_c` and the weight :math:`k_{i,c}` from node :math:`i` to cluster :math:`c`
(itself left out), moving :math:`i` from :math:`a` to :math:`b` changes :math:`F` by

.. math::

    \Delta F = 2\Big[k_{i,b} - k_{i,a} - \frac{d_i\,(D_b - D_a + d_i)}{2m}\Big].

The second merges clusters greedily, as Clauset, Newman and Moore (2004) do: merging
:math:`a` and :math:`b`, joined by weight :math:`e_{ab}`, changes :math:`F` by
:math:`2(e_{ab} - D_a D_b / 2m)`, a quantity that adds up when clusters merge, so the best merge
is made while one gains. Node moves cannot empty a cluster that is one too many (each node alone
would lose by leaving it); merges can. The third is the refinement and aggregation of the Leiden
algorithm (Traag, Waltman and van Eck 2019), which moves groups of nodes where single nodes are
stuck: within each cluster, nodes visited in turn leave their singleton for the sub-cluster (of
that cluster, among their neighbours') that raises :math:`F` most, if any does; the sub-clusters
then become the nodes of the aggregate graph (:math:`W' = S^\top W S`, :math:`d' = S^\top d`
for the membership :math:`S`), each starting in its cluster, where node moves and merges run
again, whole sub-clusters now moving between the ``k`` clusters. Without it, the polish of
ClusterNet's decisions stopped at 0.983 and 0.985 of Leiden's modularity on football and cora.

:func:`k_center_swaps` is vertex substitution (Teitz and Bart 1968) for the k-center objective:
each step makes the swap of one facility for one other node that most lowers the largest
distance to the nearest facility, ties broken by how few nodes sit at that distance, so the
descent can walk along the plateaus the maximum leaves; it stops when no swap improves.

Each descent takes a ``deadline`` (a :func:`time.perf_counter` value): the clock is read between
node visits, merges and candidate blocks, and a descent stopped there returns its state as it
is, a valid partition (or ``k`` distinct facilities) never worse than where it started.

Example:
    >>> import networkx as nx, numpy as np
    >>> from gnnsolve.search.clustering import k_center_swaps, modularity_moves, partition_moves
    >>> G = nx.barbell_graph(5, 0)
    >>> A = nx.to_scipy_sparse_array(G, format="csr")
    >>> modularity_moves(A, np.array([0, 0, 0, 1, 1, 1, 1, 1, 1, 1]), k=2).tolist()
    [0, 0, 0, 0, 0, 1, 1, 1, 1, 1]
    >>> signed = A.toarray() - 0.5  # attract along edges, repel elsewhere
    >>> np.fill_diagonal(signed, 0)
    >>> partition_moves(signed, np.zeros(10, dtype=int), k=3).tolist()
    [1, 1, 1, 1, 1, 0, 0, 0, 0, 0]
    >>> distances = nx.floyd_warshall_numpy(nx.path_graph(7))
    >>> chosen = k_center_swaps(distances, [0, 1])
    >>> chosen, float(distances[:, chosen].min(axis=1).max())
    ([1, 4], 2.0)

References:
    V. D. Blondel, J.-L. Guillaume, R. Lambiotte and E. Lefebvre, "Fast unfolding of communities
    in large networks", Journal of Statistical Mechanics (2008).

    A. Clauset, M. E. J. Newman and C. Moore, "Finding community structure in very large
    networks", Physical Review E 70 (2004).

    V. A. Traag, L. Waltman and N. J. van Eck, "From Louvain to Leiden: guaranteeing well-connected
    communities", Scientific Reports 9 (2019).

    M. B. Teitz and P. Bart, "Heuristic methods for estimating the generalized vertex median of a
    weighted graph", Operations Research 16 (1968).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

import numpy as np
import scipy.sparse

__all__ = ["partition_moves", "modularity_moves", "k_center_swaps"]

GAIN_TOLERANCE = 1e-13
"""Smallest gain, relative to the total absolute weight, that counts as an improvement; guards against
float cycling."""
SWAP_BLOCK = 1 << 24
"""Most distance entries one block of candidate swaps holds in memory."""
CLOCK_EVERY = 64
"""Node visits between two readings of the clock in the node moves."""


def partition_moves(
    weights: scipy.sparse.spmatrix | scipy.sparse.sparray | np.ndarray,
    labels: np.ndarray,
    k: int,
    degree: np.ndarray | None = None,
    max_passes: int = 100,
    deadline: float = math.inf,
    moves: bool = True,
) -> np.ndarray:
    r"""Move single nodes and groups of nodes between at most ``k`` clusters, and merge clusters, while
    the objective rises (see the module docstring).

    Maximises, over one-hot assignments :math:`x_c` (one column per cluster),

    .. math::

        F(x) = \sum_c \Big[x_c^\top W x_c - \frac{(d^\top x_c)^2}{\sum_i d_i}\Big],

    with :math:`W` symmetric and signed; the degree term is left out when ``degree`` is None.
    With :math:`W = A` and :math:`d = A\mathbf{1}` this is :math:`2m` times the modularity
    (:func:`modularity_moves`); without it, the k-way correlation-clustering objective
    :math:`2\sum_c\sum_{u<v} W_{uv}\, x_{uc} x_{vc}`. The diagonal of :math:`W` adds a constant
    and is ignored.

    Args:
        weights: the symmetric ``n × n`` weight matrix, sparse or dense.
        labels: each node's cluster, integers in ``0..k-1``.
        k: the number of clusters available.
        degree: the ``n`` non-negative weights :math:`d` of the degree term, with a positive sum;
            None for no degree term.
        max_passes: most passes over the nodes in each round of node moves.
        deadline: a :func:`time.perf_counter` value after which no further move or merge is made.
        moves: ``False`` makes the merges only (whole clusters; no node or group of nodes
            changes cluster alone).

    Returns:
        The improved labels (a new array) in ``0..k-1``; :math:`F` is never lower than that of
        ``labels``, and, unless the deadline stopped the descent, no merge of two clusters
        raises it, nor (with ``moves``) any single node move or move of a refined sub-cluster.

    Raises:
        ValueError: labels outside ``0..k-1`` or of the wrong length, ``weights`` not square and
            symmetric or not finite, or ``degree`` of the wrong length or without a positive sum.

    Example:
        >>> import numpy as np
        >>> from gnnsolve.search.clustering import partition_moves
        >>> W = np.array([[0, 2, -1, 0], [2, 0, -1, 0], [-1, -1, 0, 3], [0, 0, 3, 0]])
        >>> partition_moves(W, np.array([0, 1, 1, 0]), k=2).tolist()
        [1, 1, 0, 0]
    """
    W = scipy.sparse.csr_matrix(weights, dtype=np.float64)
    n = W.shape[0]
    if W.shape != (n, n) or not np.isfinite(W.data).all() or (W != W.T).nnz:
        raise ValueError(f"weights must be a finite symmetric square matrix, got shape {W.shape}")
    labels = np.array(labels, dtype=np.int64).ravel()
    if labels.shape != (n,) or (n and (labels.min() < 0 or labels.max() >= k)):
        raise ValueError(f"labels must hold one community in 0..{k - 1} per node of the {n}-node graph")
    if degree is None:
        degree, total = np.zeros(n), 1.0
    else:
        degree = np.asarray(degree, dtype=np.float64).ravel()
        total = float(degree.sum())
        if degree.shape != (n,) or not total > 0:
            raise ValueError(f"degree must hold {n} non-negative weights with a positive sum")
    tolerance = GAIN_TOLERANCE * float(abs(W).sum())
    if not moves:
        if time.perf_counter() < deadline:
            _merge_clusters(W, labels, k, degree, total, tolerance, deadline)
        return labels
    while True:
        _node_moves(W, labels, k, degree, total, tolerance, max_passes, deadline)
        if time.perf_counter() >= deadline:
            return labels
        merged = _merge_clusters(W, labels, k, degree, total, tolerance, deadline)
        if not merged and not _refine_and_aggregate(W, labels, k, degree, total, tolerance, max_passes, deadline):
            return labels


def modularity_moves(
    adjacency: scipy.sparse.spmatrix | scipy.sparse.sparray | np.ndarray,
    labels: np.ndarray,
    k: int,
    max_passes: int = 100,
    deadline: float = math.inf,
    moves: bool = True,
) -> np.ndarray:
    """Move single nodes between at most ``k`` communities, and merge communities, while the modularity rises.

    :func:`partition_moves` with :math:`W = A` and the degrees :math:`d = A\\mathbf{1}`.

    Args:
        adjacency: the symmetric weighted adjacency matrix (a self-loop of weight ``w`` as ``2w``
            on the diagonal, as networkx counts it).
        labels: each node's community, integers in ``0..k-1``.
        k: the number of communities available.
        max_passes: most passes over the nodes in each round of node moves.
        deadline: a :func:`time.perf_counter` value after which no further move or merge is made.
        moves: ``False`` makes the merges only (whole communities).

    Returns:
        The improved labels (a new array) in ``0..k-1``; its modularity is never lower than that
        of ``labels``, and, unless the deadline stopped the descent, no merge of two communities
        raises it, nor (with ``moves``) any single node move.

    Raises:
        ValueError: labels outside ``0..k-1`` or of the wrong length, or a graph without edges.
    """
    A = scipy.sparse.csr_matrix(adjacency, dtype=np.float64)
    degree = np.asarray(A.sum(axis=1)).ravel()
    if not degree.sum() > 0:
        raise ValueError("modularity is undefined on a graph without edges")
    return partition_moves(A, labels, k, degree, max_passes, deadline, moves)


def _node_moves(
    W: scipy.sparse.csr_matrix,
    labels: np.ndarray,
    k: int,
    degree: np.ndarray,
    total: float,
    tolerance: float,
    max_passes: int,
    deadline: float,
) -> None:
    """Louvain's first phase on ``labels``, in place, until a pass moves nobody or the deadline;
    ``gain`` is half the change of :math:`F`."""
    totals = np.bincount(labels, degree, minlength=k)
    indptr, indices, data = W.indptr, W.indices, W.data
    for _ in range(max_passes):
        moved = 0
        for i in range(W.shape[0]):
            if i % CLOCK_EVERY == 0 and time.perf_counter() >= deadline:
                return
            start, stop = indptr[i], indptr[i + 1]
            neighbours, weights = indices[start:stop], data[start:stop]
            outside = neighbours != i
            links = np.bincount(labels[neighbours[outside]], weights[outside], minlength=k)
            own = labels[i]
            gain = links - links[own] - degree[i] * (totals - totals[own] + degree[i]) / total
            gain[own] = 0.0
            best = int(gain.argmax())
            if gain[best] > tolerance:
                totals[own] -= degree[i]
                totals[best] += degree[i]
                labels[i] = best
                moved += 1
        if not moved:
            return


def _refine_and_aggregate(
    W: scipy.sparse.csr_matrix,
    labels: np.ndarray,
    k: int,
    degree: np.ndarray,
    total: float,
    tolerance: float,
    max_passes: int,
    deadline: float,
) -> bool:
    """Leiden's refinement of ``labels`` into sub-clusters, then node moves and merges of the
    sub-clusters on the aggregate graph, in place; whether the objective rose."""
    sub = _refine(W, labels, degree, total, deadline)
    count = int(sub.max()) + 1
    membership = scipy.sparse.csr_matrix((np.ones(len(labels)), (np.arange(len(labels)), sub)), shape=(len(labels), count))
    aggregate = (membership.T @ W @ membership).tocsr()
    group_degree = np.bincount(sub, degree, minlength=count)
    group_labels = np.zeros(count, dtype=np.int64)
    group_labels[sub] = labels
    before = _objective(aggregate, group_labels, k, group_degree, total)
    _node_moves(aggregate, group_labels, k, group_degree, total, tolerance, max_passes, deadline)
    _merge_clusters(aggregate, group_labels, k, group_degree, total, tolerance, deadline)
    if _objective(aggregate, group_labels, k, group_degree, total) <= before + tolerance:
        return False
    labels[:] = group_labels[sub]
    return True


def _refine(W: scipy.sparse.csr_matrix, labels: np.ndarray, degree: np.ndarray, total: float, deadline: float) -> np.ndarray:
    """Sub-clusters of ``labels``, numbered ``0..s-1``: nodes visited in turn, each still alone joins the
    sub-cluster of its own cluster, among its neighbours', that raises the objective most, if any does."""
    n = len(labels)
    sub = np.arange(n)
    sub_degree = degree.astype(np.float64).copy()
    alone = np.ones(n, dtype=bool)
    indptr, indices, data = W.indptr, W.indices, W.data
    for i in range(n):
        if i % CLOCK_EVERY == 0 and time.perf_counter() >= deadline:
            break
        if not alone[i]:
            continue
        neighbours, weights = indices[indptr[i] : indptr[i + 1]], data[indptr[i] : indptr[i + 1]]
        keep = (neighbours != i) & (labels[neighbours] == labels[i])
        if not keep.any():
            continue
        groups, position = np.unique(sub[neighbours[keep]], return_inverse=True)
        links = np.bincount(position, weights[keep])
        gain = links - degree[i] * sub_degree[groups] / total
        best = int(gain.argmax())
        if gain[best] > 0:
            target = groups[best]
            sub[i] = target
            sub_degree[target] += degree[i]
            sub_degree[i] = 0.0
            alone[target] = False
            alone[i] = False
    return np.unique(sub, return_inverse=True)[1]


def _objective(W: scipy.sparse.csr_matrix, labels: np.ndarray, k: int, degree: np.ndarray, total: float) -> float:
    """:math:`F` of ``labels`` (with the diagonal of ``W``, a constant under every move)."""
    membership = scipy.sparse.csr_matrix((np.ones(len(labels)), (np.arange(len(labels)), labels)), shape=(len(labels), k))
    totals = np.bincount(labels, degree, minlength=k)
    return float((membership.T @ W @ membership).diagonal().sum() - totals @ totals / total)


def _merge_clusters(
    W: scipy.sparse.csr_matrix, labels: np.ndarray, k: int, degree: np.ndarray, total: float, tolerance: float, deadline: float
) -> bool:
    """Greedy merges of whole clusters while one raises :math:`F` and the deadline is not past (each
    merge costs :math:`O(k^2)`), in place; whether any did.

    ``gain[a, b]`` is half the change of :math:`F` when ``a`` and ``b`` merge; a merge adds
    ``b``'s row and column into ``a``'s.
    """
    membership = scipy.sparse.csr_matrix((np.ones(len(labels)), (np.arange(len(labels)), labels)), shape=(len(labels), k))
    totals = np.bincount(labels, degree, minlength=k)
    gain = (membership.T @ W @ membership).toarray() - np.outer(totals, totals) / total
    empty = np.bincount(labels, minlength=k) == 0
    np.fill_diagonal(gain, -np.inf)
    gain[empty, :] = -np.inf
    gain[:, empty] = -np.inf
    parent = np.arange(k)
    merged = False
    while time.perf_counter() < deadline:
        a, b = np.unravel_index(int(gain.argmax()), gain.shape)
        if gain[a, b] <= tolerance:
            break
        gain[a, :] += gain[b, :]
        gain[:, a] += gain[:, b]
        gain[a, a] = -np.inf
        gain[b, :] = gain[:, b] = -np.inf
        parent[b] = a
        merged = True
    if merged:
        while not np.array_equal(parent, parent[parent]):
            parent = parent[parent]
        labels[:] = parent[labels]
    return merged


def k_center_swaps(
    distances: np.ndarray, chosen: Sequence[int] | np.ndarray, max_swaps: int | None = None, deadline: float = math.inf
) -> list[int]:
    """Swap facilities for other nodes while the largest distance to the nearest facility falls.

    Args:
        distances: the ``n × n`` matrix of finite distances (cap unreachable pairs first).
        chosen: the indices of the current facilities.
        max_swaps: most swaps (default ``4 n``).
        deadline: a :func:`time.perf_counter` value after which no further candidate block is
            scored; the best improving swap found by then is still made.

    Returns:
        The improved facilities, sorted; their radius is never larger than that of ``chosen``.

    Raises:
        ValueError: ``distances`` is not a finite square matrix, or ``chosen`` is empty or holds
            an index twice or out of range.
    """
    D = np.asarray(distances, dtype=np.float64)
    n = D.shape[0]
    if D.ndim != 2 or D.shape != (n, n) or not np.isfinite(D).all():
        raise ValueError("distances must be a finite square matrix; cap unreachable distances first")
    facilities = [int(f) for f in chosen]
    if not facilities or len(set(facilities)) != len(facilities) or min(facilities) < 0 or max(facilities) >= n:
        raise ValueError(f"chosen must hold distinct node indices in 0..{n - 1}, got {list(chosen)!r}")
    if len(facilities) == n:
        return sorted(facilities)
    current = _score(D[:, facilities].min(axis=1))
    for _ in range(4 * n if max_swaps is None else max_swaps):
        swap = _best_swap(D, facilities, current, deadline)
        if swap is None:
            break
        (position, node), current = swap
        facilities[position] = node
    return sorted(facilities)


def _score(nearest: np.ndarray) -> tuple[float, int]:
    """(radius, number of nodes at the radius): the order in which swaps are compared."""
    radius = float(nearest.max())
    return radius, int(np.count_nonzero(nearest >= radius))


def _best_swap(
    D: np.ndarray, facilities: list[int], current: tuple[float, int], deadline: float
) -> tuple[tuple[int, int], tuple[float, int]] | None:
    """The swap (position in ``facilities``, new node) with the best score below ``current``, if any,
    among the candidates scored before ``deadline``."""
    n = D.shape[0]
    to_facilities = D[:, facilities]
    order = np.argsort(to_facilities, axis=1, kind="stable")
    nearest_position = order[:, 0]
    first = np.take_along_axis(to_facilities, order[:, :1], axis=1).ravel()
    second = np.take_along_axis(to_facilities, order[:, 1:2], axis=1).ravel() if len(facilities) > 1 else np.full(n, np.inf)
    candidates = np.setdiff1d(np.arange(n), facilities)
    block = max(1, SWAP_BLOCK // n)
    best, best_score = None, current
    for position in range(len(facilities)):
        without = np.where(nearest_position == position, second, first)
        for start in range(0, len(candidates), block):
            if time.perf_counter() >= deadline:
                return None if best is None else (best, best_score)
            nodes = candidates[start : start + block]
            nearest = np.minimum(D[:, nodes], without[:, None])
            radius = nearest.max(axis=0)
            lowest = radius.min()
            if lowest > best_score[0]:
                continue
            ties = np.flatnonzero(radius == lowest)
            counts = np.count_nonzero(nearest[:, ties] >= lowest, axis=0)
            pick = int(counts.argmin())
            score = (float(lowest), int(counts[pick]))
            if score < best_score:
                best, best_score = (position, int(nodes[ties[pick]])), score
    return None if best is None else (best, best_score)
