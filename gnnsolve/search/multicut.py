r"""Multicut heuristics: greedy additive edge contraction (GAEC) and Kernighan–Lin with joins (KLj).

The (signed) multicut problem, or correlation clustering, partitions the nodes of a graph whose
edges carry weights :math:`w_e` of either sign (positive: the ends attract, negative: they repel)
into any number of clusters, minimising the weight of the edges cut between clusters,

.. math::

    \min_{\text{partitions}} \; \sum_{uv \in E,\; c(u) \neq c(v)} w_{uv}.

:func:`gaec` builds a partition from singletons by contracting the most attractive edge while
one is left; :func:`kernighan_lin_joins` improves a partition by moving nodes between
neighbouring clusters, moving nodes out to new clusters and joining clusters. Both follow Keuper
et al. (2015) and work in index form (:class:`SignedGraph`); they are deterministic, and break
ties and schedule their steps as bioimage-cpp's ``GreedyAdditiveMulticut`` and
``KernighanLinMulticut`` (behind python-elf's ``multicut_gaec`` and ``multicut_kernighan_lin``) do,
so that both give the same partitions when handed the edges in the same order. Where numba is
installed (the ``fast`` extra) their loops run as the compiled kernels of
:mod:`gnnsolve.search.multicut_kernels`, which take the same steps in the same order and so
return the same partitions, 4–40× sooner.

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

import gc
import heapq
import math
import numbers
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from typing import Hashable, Literal, Mapping, Sequence, TypeAlias, Union, overload

import networkx as nx
import numpy as np
import scipy.sparse
from numpy.typing import ArrayLike
from scipy.sparse.csgraph import connected_components

from gnnsolve.errors import InvalidModelError
from gnnsolve.search import multicut_kernels

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
            if type(w) is not float and (isinstance(w, bool) or not isinstance(w, numbers.Real)):
                raise _bad_weight(u, v, weight, w)
            rows.append(index[u])
            cols.append(index[v])
            weights.append(w)
        values = np.asarray(weights, dtype=np.float64)
        bad = np.flatnonzero(~np.isfinite(values))
        if len(bad):
            k = int(bad[0])
            raise _bad_weight(nodes[rows[k]], nodes[cols[k]], weight, weights[k])
        return cls.from_arrays(rows, cols, values, nodes)

    @classmethod
    def from_arrays(cls, rows: ArrayLike, cols: ArrayLike, weights: ArrayLike, nodes: int | Sequence[Hashable]) -> SignedGraph:
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
        labels = list(range(nodes)) if isinstance(nodes, (int, numbers.Integral)) else list(nodes)
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
            raise InvalidModelError(f"edge {k} joins nodes {rows[k]} and {cols[k]}; node indices must lie in 0..{n - 1}")
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
        if multicut_kernels.AVAILABLE:
            return multicut_kernels.uncut_components(n, _int64(self.rows), _int64(self.cols), _int64(labels))
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


def _bad_weight(u: Hashable, v: Hashable, weight: str | None, w: object) -> InvalidModelError:
    return InvalidModelError(f"edge ({u!r}, {v!r}) has {weight!r} = {w!r}; multicut weights must be finite numbers")


GraphLike: TypeAlias = Union[nx.Graph, SignedGraph]


def as_signed_graph(G: GraphLike, weight: str | None = "weight") -> SignedGraph:
    """``G`` itself if it is a :class:`SignedGraph`, else :meth:`SignedGraph.from_graph`."""
    return G if isinstance(G, SignedGraph) else SignedGraph.from_graph(G, weight)


def _number_in_order(labels: np.ndarray) -> np.ndarray:
    """Relabel so that labels appear as ``0, 1, 2, ...`` in array order."""
    if multicut_kernels.AVAILABLE and len(labels) and 0 <= labels.min() and labels.max() <= 4 * len(labels):
        return multicut_kernels.number_in_order(_int64(labels))
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first)] = np.arange(len(first))
    return rank[inverse.ravel()]


def multicut_cost(G: GraphLike, labels: Mapping[Hashable, Hashable] | Sequence[Hashable], weight: str | None = "weight") -> float:
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


# ---------------------------------------------------------------- shared helpers

_CLOCK_EVERY = multicut_kernels.CLOCK_EVERY


def _clock(deadline: float | None) -> float:
    """A deadline as the kernels take it: ``math.inf`` for none."""
    return math.inf if deadline is None else float(deadline)


def _int64(array: ArrayLike) -> np.ndarray:
    """``array`` as the kernels take indices and labels: contiguous ``int64`` (no copy when it is)."""
    return np.ascontiguousarray(array, dtype=np.int64)


def _float64(array: ArrayLike) -> np.ndarray:
    """``array`` as the kernels take weights: contiguous ``float64`` (no copy when it is)."""
    return np.ascontiguousarray(array, dtype=np.float64)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for the block (restored after it).

    GAEC and KLj build a list or dict per node, none in a reference cycle; each collection
    the allocations trigger walks every object alive, and beside a large networkx graph that made
    their set-up five to eight times slower (100,000 nodes: 0.65 s against 0.08 s).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class _IndexedMaxHeap:
    """A binary max-heap of the keys ``0..capacity-1`` whose priorities can be changed, or the key removed.

    Equal priorities leave the heap in an order that depends only on the sequence of operations:
    an entry rises past its parent only when strictly larger, and sinks only to a strictly larger
    child, the right one when it is strictly larger than the left, by swaps; a removed entry's
    slot takes the heap's last entry, which then rises and sinks. :meth:`build` is Floyd's
    bottom-up heapify of the keys in index order. Every operation but :meth:`build` (linear) is
    :math:`O(\\log n)`.

    A key pushed while in the heap gets a second entry; the key then stands for the entry whose
    slot was written last (by a push, a swap or a removal's refill), and the other stays in the
    heap until popped. Taking either entry out marks the key absent.
    """

    __slots__ = ("keys", "priorities", "slot")

    def __init__(self, capacity: int) -> None:
        self.keys: list[int] = []
        self.priorities: list[float] = []
        self.slot = [-1] * capacity  # where each key sits in the heap, -1 when absent

    def __len__(self) -> int:
        return len(self.keys)

    def __contains__(self, key: int) -> bool:
        return self.slot[key] >= 0

    def build(self, priorities: list[float]) -> None:
        """Fill the empty heap with the keys ``0..len(priorities)-1``."""
        self.keys = list(range(len(priorities)))
        self.priorities = list(priorities)
        self.slot[: len(priorities)] = self.keys
        for position in range(len(priorities) // 2 - 1, -1, -1):
            self._sink(position)

    def top(self) -> tuple[int, float]:
        return self.keys[0], self.priorities[0]

    def pop(self) -> tuple[int, float]:
        top = self.keys[0], self.priorities[0]
        self._remove_at(0)
        return top

    def push(self, key: int, priority: float) -> None:
        """Insert an entry for ``key`` (see the class documentation if the key is in the heap)."""
        self.slot[key] = len(self.keys)
        self.keys.append(key)
        self.priorities.append(priority)
        self._rise(len(self.keys) - 1)

    def change(self, key: int, priority: float) -> None:
        """Give a key in the heap a new priority."""
        position = self.slot[key]
        larger = self.priorities[position] < priority
        self.priorities[position] = priority
        if larger:
            self._rise(position)
        else:
            self._sink(position)

    def remove(self, key: int) -> None:
        """Take a key out of the heap; nothing happens when it is absent."""
        if self.slot[key] >= 0:
            self._remove_at(self.slot[key])

    def _remove_at(self, position: int) -> None:
        keys, priorities = self.keys, self.priorities
        self.slot[keys[position]] = -1
        last_key, last_priority = keys.pop(), priorities.pop()
        if position < len(keys):
            keys[position], priorities[position] = last_key, last_priority
            self.slot[last_key] = position
            self._rise(position)
            self._sink(position)

    def _rise(self, position: int) -> None:
        keys, priorities, slot = self.keys, self.priorities, self.slot
        while position > 0:
            parent = (position - 1) >> 1
            if not priorities[parent] < priorities[position]:
                break
            keys[parent], keys[position] = keys[position], keys[parent]
            priorities[parent], priorities[position] = priorities[position], priorities[parent]
            slot[keys[parent]], slot[keys[position]] = parent, position
            position = parent

    def _sink(self, position: int) -> None:
        keys, priorities, slot = self.keys, self.priorities, self.slot
        size = len(keys)
        while True:
            child = 2 * position + 1
            if child >= size:
                break
            if child + 1 < size and priorities[child] < priorities[child + 1]:
                child += 1
            if not priorities[position] < priorities[child]:
                break
            keys[position], keys[child] = keys[child], keys[position]
            priorities[position], priorities[child] = priorities[child], priorities[position]
            slot[keys[position]], slot[keys[child]] = position, child
            position = child


def _incidence_arrays(
    n: int, rows: np.ndarray, cols: np.ndarray, values: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per node, its neighbours and the ``values`` of the edges to them, in edge order, flat:
    node ``v``'s lie at ``bounds[v]:bounds[v + 1]`` of ``others`` and ``attached``."""
    if multicut_kernels.AVAILABLE:
        return multicut_kernels.incidence(n, _int64(rows), _int64(cols), np.ascontiguousarray(values))
    ends = np.concatenate([rows, cols])
    order = np.lexsort((np.tile(np.arange(len(rows)), 2), ends))
    bounds = np.searchsorted(ends[order], np.arange(n + 1))
    return bounds, np.concatenate([cols, rows])[order], np.concatenate([values, values])[order]


def _incidence(n: int, rows: np.ndarray, cols: np.ndarray, values: np.ndarray) -> tuple[list[list], list[list]]:
    """:func:`_incidence_arrays` as one list of neighbours and one of values per node."""
    bounds, others, attached = _incidence_arrays(n, rows, cols, values)
    bounds, others, attached = bounds.tolist(), others.tolist(), attached.tolist()
    return (
        [others[start:stop] for start, stop in zip(bounds, bounds[1:])],
        [attached[start:stop] for start, stop in zip(bounds, bounds[1:])],
    )


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The indices ``starts[0]..starts[0]+lengths[0]-1, starts[1]..``, concatenated."""
    offsets = np.cumsum(lengths) - lengths
    return np.repeat(starts - offsets, lengths) + np.arange(int(lengths.sum()))


# ---------------------------------------------------------------- GAEC


def gaec(G: GraphLike, weight: str | None = "weight") -> dict:
    """Greedy additive edge contraction (Keuper et al. 2015).

    Starting from singletons, repeatedly contract the edge of largest positive weight, merging
    the edges the two clusters had to a common neighbour into one edge carrying their sum; stop
    when every remaining edge weighs zero or less. The end with fewer neighbours is merged into
    the other and a heap picks the edges, so it runs in :math:`O(m \\log m)` on ``m`` edges.

    Ties are broken as bioimage-cpp's ``GreedyAdditiveMulticut`` (python-elf's ``multicut_gaec``)
    breaks them, so the two return the same partition for the same edge order (the graph's, zero
    weights left out, as they never change a cost). While the largest weight is unique at every
    step, as with generic real weights, every GAEC contracts the same edges, and a heap that
    skips stale entries finds them. At the first tie the contraction starts again with the
    addressable heap of :class:`_IndexedMaxHeap`, built over every nonzero edge in edge order,
    whose top is contracted: of its ends the one with more neighbours survives, the edge's first
    end on equal counts (a re-attached edge keeps the order of its ends, the survivor taking the
    place of the end it replaces); the other end's edges are visited in its adjacency order (edge order at first;
    an edge re-attached to a node is appended to its list, and a detached one is replaced by the
    list's last), each either re-attached to the survivor or, when the survivor has an edge to the
    same neighbour, taken out of the heap and added to that edge, whose priority changes.

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


def _gaec(graph: SignedGraph, deadline: float | None = None) -> np.ndarray:
    """GAEC on index form: a label (the cluster's surviving node) per node.

    With a ``deadline`` (a :func:`time.perf_counter` reading) the contraction stops when it is
    passed, and the clusters contracted so far are returned: a valid, coarser-than-singletons
    partition whose cost is at most the total weight.
    """
    nonzero = graph.weights != 0
    rows, cols, weights = graph.rows[nonzero], graph.cols[nonzero], graph.weights[nonzero]
    n = graph.num_nodes
    if multicut_kernels.AVAILABLE:
        return _survivors(
            multicut_kernels.contract_in_heap_order(n, _int64(rows), _int64(cols), _float64(weights), _clock(deadline))
        )
    largest = weights.max(initial=0.0)
    with _collector_paused():
        # the untied contractions give up at the first tie for the largest weight: skip them when the first step ties
        if np.count_nonzero(weights == largest) > 1:
            parent = None
        elif _dense_pays(n, len(weights)):
            parent = _contract_dense(_dense_weights(n, rows, cols, weights), deadline, stop_at_tie=True)
        else:
            parent = _contract_while_untied(n, rows, cols, weights, deadline)
        if parent is None:
            parent = _contract_in_heap_order(graph.num_nodes, rows, cols, weights, deadline)
    return _survivors(parent)


def _survivors(parent: Sequence[int] | np.ndarray) -> np.ndarray:
    """Each node's cluster survivor, from each node's parent (``parent[v] == v`` for a survivor)."""
    labels = np.array(parent, dtype=np.int64)
    while True:  # pointer jumping: every node points at its cluster's survivor
        jumped = labels[labels]
        if np.array_equal(jumped, labels):
            return labels
        labels = jumped


def _contract_while_untied(
    n: int, rows: np.ndarray, cols: np.ndarray, weights: np.ndarray, deadline: float | None = None
) -> list[int] | None:
    """GAEC with a lazy heap, or ``None`` as soon as two edges tie for the largest weight.

    While the largest weight is unique, every GAEC contracts the same edges in the same order
    (and adds the same weights in the same order), so this is the partition of
    :func:`_contract_in_heap_order`, found faster: stale heap entries are skipped instead of
    removed. Returns each node's parent (``parent[v] == v`` for a cluster's survivor), as far as
    the contraction got by ``deadline`` (a :func:`time.perf_counter` reading).
    """
    adjacency: list[dict[int, float]] = [{} for _ in range(n)]
    heap = []
    for u, v, w in zip(rows.tolist(), cols.tolist(), weights.tolist()):
        adjacency[u][v] = adjacency[v][u] = w
        if w > 0:
            heap.append((-w, u, v))
    heapq.heapify(heap)
    pop, push = heapq.heappop, heapq.heappush
    parent = list(range(n))
    steps = 0
    while heap:
        steps += 1
        if deadline is not None and not steps % _CLOCK_EVERY and time.perf_counter() >= deadline:
            break
        negative, u, v = pop(heap)
        if adjacency[u].get(v) != -negative:
            continue  # stale: an end was contracted away or the edge's weight changed
        while heap and adjacency[heap[0][1]].get(heap[0][2]) != -heap[0][0]:
            pop(heap)
        if heap and heap[0][0] == negative:
            return None
        if len(adjacency[u]) < len(adjacency[v]):
            u, v = v, u
        parent[v] = u
        kept = adjacency[u]
        del kept[v]
        for t, w in adjacency[v].items():
            if t == u:
                continue
            del adjacency[t][v]
            total = kept.get(t, 0.0) + w
            kept[t] = adjacency[t][u] = total
            if total > 0:
                push(heap, (-total, min(u, t), max(u, t)))
        adjacency[v] = {}
    return parent


_DENSE_MAX_NODES = 4000
"""The largest graph :func:`_contract_dense` takes (a dense matrix of :math:`8 n^2` bytes, 128 MB here)."""
_DENSE_MIN_DEGREE = 32
"""The mean degree from which a dense contraction step (a few vector operations over ``n``) beats the
lazy heap's, which visits the merged node's neighbours one by one in Python."""


def _dense_pays(n: int, edges: int) -> bool:
    """Whether :func:`_contract_dense` is the faster GAEC on ``n`` nodes and ``edges`` nonzero edges."""
    return n <= _DENSE_MAX_NODES and 2 * edges >= _DENSE_MIN_DEGREE * n


def _dense_weights(n: int, rows: np.ndarray, cols: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The symmetric ``n × n`` weight matrix of the edges (zero elsewhere)."""
    dense = np.zeros((n, n))
    dense[rows, cols] = weights
    dense[cols, rows] = weights
    return dense


@overload
def _contract_dense(weights: np.ndarray, deadline: float | None = None, stop_at_tie: Literal[False] = False) -> list[int]: ...
@overload
def _contract_dense(weights: np.ndarray, deadline: float | None = None, *, stop_at_tie: bool) -> list[int] | None: ...
def _contract_dense(weights: np.ndarray, deadline: float | None = None, stop_at_tie: bool = False) -> list[int] | None:
    """GAEC on a dense symmetric weight matrix (changed in place), vectorised over the rows.

    Each row keeps its largest entry and where it is; a step contracts the largest of them, adds
    the merged node's row into the survivor's (the smaller index) and refreshes only the rows whose
    largest entry was in the two merged columns. The weights are summed pairwise as the lazy heap
    sums them, so while the largest weight is unique at every step this is the partition of
    :func:`_contract_while_untied`, bit for bit; ``stop_at_tie`` returns ``None`` at the first tie
    (the largest entry in more than two rows), else ties go to the first row in index order.

    Returns:
        Each node's parent (``parent[v] == v`` for a cluster's survivor), as far as the contraction
        got by ``deadline`` (a :func:`time.perf_counter` reading).
    """
    if multicut_kernels.AVAILABLE and not stop_at_tie:
        return multicut_kernels.contract_dense(weights, _clock(deadline)).tolist()
    n = len(weights)
    parent = list(range(n))
    if n < 2:
        return parent
    np.fill_diagonal(weights, 0.0)
    best = weights.max(axis=1)
    where = weights.argmax(axis=1)
    steps = 0
    while True:
        steps += 1
        if deadline is not None and not steps % _CLOCK_EVERY and time.perf_counter() >= deadline:
            break
        i = int(best.argmax())
        largest = best[i]
        if largest <= 0:
            break
        if stop_at_tie and np.count_nonzero(best == largest) > 2:
            return None
        kept, removed = sorted((i, int(where[i])))
        parent[removed] = kept
        row = weights[kept] + weights[removed]
        row[kept] = row[removed] = 0.0
        weights[kept] = row
        weights[:, kept] = row
        weights[removed] = 0.0
        weights[:, removed] = 0.0
        # a row's largest entry moved only if it was in a merged column and that column's entry fell
        stale = np.flatnonzero((where == removed) | ((where == kept) & (row < best)))
        if len(stale):
            best[stale] = weights[stale].max(axis=1)
            where[stale] = weights[stale].argmax(axis=1)
        higher = row > best
        best[higher] = row[higher]
        where[higher] = kept
        best[removed] = -np.inf
        best[kept], where[kept] = row.max(), row.argmax()
    return parent


def _contract_in_heap_order(
    n: int, rows: np.ndarray, cols: np.ndarray, weights: np.ndarray, deadline: float | None = None
) -> list[int]:
    """GAEC breaking ties as bioimage-cpp does (see :func:`gaec`); returns each node's parent, as
    far as the contraction got by ``deadline`` (a :func:`time.perf_counter` reading)."""
    first, second, totals = rows.tolist(), cols.tolist(), weights.tolist()
    # each node's neighbours, the edges to them (parallel lists) and each neighbour's place in them
    neighbours, edges = _incidence(n, rows, cols, np.arange(len(totals)))
    place = [{t: i for i, t in enumerate(row)} for row in neighbours]

    def detach(node: int, neighbour: int) -> None:
        """Remove ``neighbour`` from ``node``'s lists, the last entry taking its place."""
        i = place[node].pop(neighbour)
        last_neighbour, last_edge = neighbours[node].pop(), edges[node].pop()
        if i < len(neighbours[node]):
            neighbours[node][i], edges[node][i] = last_neighbour, last_edge
            place[node][last_neighbour] = i

    heap = _IndexedMaxHeap(len(totals))
    heap.build(totals)
    parent = list(range(n))
    steps = 0
    while heap:
        steps += 1
        if deadline is not None and not steps % _CLOCK_EVERY and time.perf_counter() >= deadline:
            break
        edge, priority = heap.top()
        if priority <= 0:
            break
        kept, removed = first[edge], second[edge]
        if len(neighbours[kept]) < len(neighbours[removed]):
            kept, removed = removed, kept
        parent[removed] = kept
        detach(kept, removed)
        heap.remove(edge)
        kept_place = place[kept]
        for t, other in zip(neighbours[removed], edges[removed]):
            if t == kept:
                continue
            i = kept_place.get(t)
            if i is None:  # re-attach the edge to the survivor
                kept_place[t] = len(neighbours[kept])
                neighbours[kept].append(t)
                edges[kept].append(other)
                j = place[t].pop(removed)
                place[t][kept] = j
                neighbours[t][j] = kept
                if first[other] == removed:
                    first[other] = kept
                else:
                    second[other] = kept
            else:  # fold it into the survivor's edge to the same neighbour
                detach(t, removed)
                heap.remove(other)
                merged = edges[kept][i]
                totals[merged] += totals[other]
                heap.change(merged, totals[merged])
        neighbours[removed], edges[removed], place[removed] = [], [], {}
    return parent


# ---------------------------------------------------------------- KLj

_KLJ_MAX_ITERATIONS = 100
_VECTOR_CHAIN = 12
"""The mean number of neighbours inside a chain's pair from which its chain runs on vectors: below
it the heap's few operations per neighbour are faster than a step's vector operations."""
_KLJ_EPSILON = 1e-6


def kernighan_lin_joins(
    G: GraphLike,
    labels: Mapping[Hashable, Hashable] | Sequence[Hashable],
    weight: str | None = "weight",
) -> dict:
    """Improve a partition by Kernighan–Lin moves, splits and joins (KLj, Keuper et al. 2015).

    The moves, splits and joins of Keuper et al.'s KLj in the schedule of bioimage-cpp's
    ``KernighanLinMulticut`` (python-elf's ``multicut_kernighan_lin``), whose partitions it
    reproduces for the same edge order (the graph's, zero weights left out). Clusters are numbered
    in order of first appearance among the nodes. Each iteration, at most 100, runs four steps:

    1. *Moves.* For each pair of clusters :math:`A < B` joined by an edge, in lexicographic order,
       a Kernighan–Lin chain: of the unmoved nodes of :math:`A \\cup B` with a neighbour on the
       other side, move the one whose move lowers the cost most (or raises it least) across, until
       none is left, a node becoming movable when it gains a neighbour across and ceasing to be
       when it loses the last; the best prefix is kept if it lowers the cost by more than
       :math:`\\varepsilon`. The nodes enter the chain's heap (:class:`_IndexedMaxHeap`, which
       fixes the order among ties) in the order their clusters list them: the cluster's nodes at
       the start of the iteration in node order, then those that joined it since, in order of
       arrival. A node that left a cluster and came back is listed, and pushed, twice; its
       second entry moves it again, counting its gain twice.
    2. *Splits.* Each cluster is paired with a new, empty one, again and again while it helps,
       with the same chain in which every node of the cluster may move.
    3. *Joins.* Clusters whose edges between them weigh more than :math:`\\varepsilon` in all
       are merged, all such pairs at once (so transitively).
    4. *Single moves.* Each node in turn moves to the neighbouring cluster that pulls it harder
       than its own by the most, if by more than :math:`\\varepsilon` (the first in neighbour
       order among equals).

    From the second iteration on, steps 1 and 2 look only at clusters whose nodes changed in the
    previous iteration or in this one's earlier chains, except in the 100th iteration, which
    looks at all. The search stops after an iteration without change. Here
    :math:`\\varepsilon = 10^{-6} \\max(1, \\max_e |w_e|)`. Joining transitively can raise the
    cost (``A`` and ``B`` attract, ``B`` and ``C`` attract, ``A`` and ``C`` repel strongly), so
    the cheapest partition met, the start included, is returned when the last one is dearer by
    more than :math:`\\varepsilon`. A chain costs :math:`O(s + \\sum_{v} \\deg v \\, \\log s)` for
    :math:`s = |A \\cup B|`.

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


def _kernighan_lin_joins(graph: SignedGraph, labels: np.ndarray, deadline: float | None = None) -> np.ndarray:
    """KLj on index form; returns canonical labels.

    With a ``deadline`` (a :func:`time.perf_counter` reading) the search stops once it is passed,
    after the chain or the single move under way: every step committed so far lowered the cost,
    so the partition then held (or the cheapest met, as at the end of a full run) is returned.
    """
    if graph.num_nodes == 0 or _late(deadline):
        return graph.canonical(labels)
    with _collector_paused():
        return _kernighan_lin_joins_from(graph, _number_in_order(labels), deadline)


def _kernighan_lin_joins_from(graph: SignedGraph, current: np.ndarray, deadline: float | None) -> np.ndarray:
    """The loop of :func:`_kernighan_lin_joins` from labels numbered in order of appearance."""
    search = _KernighanLin(graph)
    best, best_cost = current, graph.cost(current)
    previous = None
    for iteration in range(_KLJ_MAX_ITERATIONS):
        if previous is None or iteration == _KLJ_MAX_ITERATIONS - 1:
            dirty = np.ones(int(current.max()) + 1, dtype=bool)
        else:
            dirty = _changed_clusters(current, previous)
        previous = current
        improved, current = search.iterate(current, dirty, deadline)
        cost = graph.cost(current)
        if cost < best_cost:
            best, best_cost = current, cost
        if not improved or _late(deadline):
            break
    return graph.canonical(current if cost <= best_cost + search.epsilon else best)


def _late(deadline: float | None) -> bool:
    """Whether ``deadline`` (a :func:`time.perf_counter` reading, ``None`` for none) has passed."""
    return deadline is not None and time.perf_counter() >= deadline


def _changed_clusters(labels: np.ndarray, previous: np.ndarray) -> np.ndarray:
    """For each cluster of ``labels``, whether its node set is not a cluster of ``previous``."""
    if multicut_kernels.AVAILABLE:
        return multicut_kernels.changed_clusters(_int64(labels), _int64(previous))
    count = int(labels.max()) + 1
    base = int(previous.max()) + 1
    sources = np.bincount(np.unique(labels * base + previous) // base, minlength=count)
    source = np.zeros(count, dtype=np.int64)
    source[labels] = previous
    return (sources != 1) | (np.bincount(previous, minlength=base)[source] != np.bincount(labels, minlength=count))


def _join(labels: np.ndarray, pairs: np.ndarray, attracted: np.ndarray) -> np.ndarray:
    """Step 3 of KLj: the clusters of each attracted pair merged, transitively (any numbering)."""
    if multicut_kernels.AVAILABLE:
        return multicut_kernels.join(labels, pairs, attracted)
    size = int(labels.max()) + 1
    joined = scipy.sparse.coo_matrix((np.ones(int(attracted.sum())), tuple(pairs[attracted].T)), shape=(size, size))
    return connected_components(joined, directed=False)[1][labels]


class _KernighanLin:
    """The state of :func:`kernighan_lin_joins` on one graph: its nonzero edges and the chains' scratch."""

    def __init__(self, graph: SignedGraph) -> None:
        nonzero = graph.weights != 0
        self.rows, self.cols = _int64(graph.rows[nonzero]), _int64(graph.cols[nonzero])
        self.weights = _float64(graph.weights[nonzero])
        self.n = graph.num_nodes
        self.epsilon = _KLJ_EPSILON * max(1.0, float(np.abs(self.weights).max(initial=0.0)))
        self.bounds, self.others, self.attached = _incidence_arrays(self.n, self.rows, self.cols, self.weights)
        self.inside = np.zeros(self.n, dtype=bool)  # the nodes of the chain's pair (cleared after it)
        self.in_a = np.zeros(self.n, dtype=bool)  # those of its first cluster
        self.heap = _IndexedMaxHeap(self.n)
        self.gain = [0.0] * self.n  # cost decrease of moving each node of the pair across
        self.across = [0] * self.n  # its neighbours on the other side of the pair
        self.labels: list[int] = []
        self.members: list[list[int]] = []

    def iterate(self, labels: np.ndarray, dirty: np.ndarray, deadline: float | None = None) -> tuple[bool, np.ndarray]:
        """One iteration (moves, splits, joins, single moves) from labels numbered in order of appearance.

        Args:
            labels: the partition, clusters ``0..c-1``.
            dirty: per cluster, whether its chains are tried; it grows by the clusters chains change.
            deadline: a :func:`time.perf_counter` reading after which the iteration ends at the
                next chain or single move, the rest of it skipped.

        Returns:
            Whether anything changed, and the new labels, numbered in order of appearance.
        """
        improved, current, late = self._moves_and_splits(labels, dirty, deadline)
        if late:
            return improved, _number_in_order(current)
        pairs, attracted = self._adjacent_clusters(current)
        if attracted.any():
            current, improved = _join(current, pairs, attracted), True
        moved, current = self._single_moves(current, deadline)
        return improved or moved, _number_in_order(current)

    @cached_property
    def _adjacency_lists(self) -> tuple[list[list], list[list]]:
        """Each node's neighbours and the weights of the edges to them, as lists (for the loops
        that run without :mod:`~gnnsolve.search.multicut_kernels`)."""
        return _incidence(self.n, self.rows, self.cols, self.weights)

    def _moves_and_splits(self, labels: np.ndarray, dirty: np.ndarray, deadline: float | None) -> tuple[bool, np.ndarray, bool]:
        """Steps 1 and 2: the chains of adjacent clusters with a dirty one, then splits of the dirty clusters.

        Returns:
            Whether a chain lowered the cost, the labels after them, and whether ``deadline``
            passed (the steps left were skipped).
        """
        pairs = self._adjacent_clusters(labels)[0]
        if multicut_kernels.AVAILABLE:
            current = labels.copy()
            improved, late = multicut_kernels.moves_and_splits(
                current, dirty.copy(), pairs, self.bounds, self.others, self.attached, self.epsilon, _clock(deadline)
            )
            return improved, current, late
        self.labels = labels.tolist()
        count = int(labels.max()) + 1
        # every node ever in each cluster this iteration, in order of arrival; a node listed
        # under a cluster it has left is skipped
        self.members = [[] for _ in range(count)]
        for v, label in enumerate(self.labels):
            self.members[label].append(v)
        flags = dirty.tolist()
        improved = False
        for a, b in pairs.tolist():
            if flags[a] or flags[b]:
                if self._chain(a, b) > self.epsilon:
                    improved = flags[a] = flags[b] = True
                if _late(deadline):
                    return improved, np.array(self.labels, dtype=np.int64), True
        fresh = count
        for cluster in range(count):
            if not flags[cluster]:
                continue
            while True:
                if fresh == len(self.members):
                    self.members.append([])
                if self._chain(cluster, fresh) <= self.epsilon:
                    break
                improved, fresh = True, fresh + 1
            if _late(deadline):
                return improved, np.array(self.labels, dtype=np.int64), True
        return improved, np.array(self.labels, dtype=np.int64), False

    def _adjacent_clusters(self, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The pairs ``(a, b)``, ``a < b``, of clusters joined by an edge, sorted, and whether the
        edges between them weigh more than :attr:`epsilon` in all."""
        if multicut_kernels.AVAILABLE:
            return multicut_kernels.adjacent_clusters(_int64(labels), self.rows, self.cols, self.weights, self.epsilon)
        first, second = labels[self.rows], labels[self.cols]
        cut = first != second
        low, high = np.minimum(first, second)[cut], np.maximum(first, second)[cut]
        size = int(labels.max()) + 1
        keys, inverse = np.unique(low * size + high, return_inverse=True)
        between = np.bincount(inverse.ravel(), self.weights[cut], len(keys))
        return np.stack([keys // size, keys % size], axis=1), between > self.epsilon

    def _chain(self, a: int, b: int) -> float:
        """Run a Kernighan–Lin chain on clusters ``a`` and ``b`` (possibly empty) and keep its best prefix.

        A pair of distinct nodes with at least :data:`_VECTOR_CHAIN` neighbours inside it per
        node runs :meth:`_chain_vectorised`,
        which hands over to :meth:`_chain_in_heap_order` at the first tie for the largest gain;
        a smaller pair, or one listing a node twice, runs the latter at once.

        Returns:
            The cost decrease committed (0 when the best prefix lowers the cost by at most
            :attr:`epsilon`).
        """
        labels = self.labels
        pair = [v for v in self.members[a] if labels[v] == a]
        in_a = len(pair)
        pair += [v for v in self.members[b] if labels[v] == b]
        in_b = len(pair) - in_a
        if len(pair) < 2 or in_a == in_b == 1:
            return 0.0
        incidence = self._pair_incidence(pair, in_a)
        chain = None
        if len(incidence[0]) >= _VECTOR_CHAIN * len(pair) and len(set(pair)) == len(pair):
            chain = self._chain_vectorised(pair, in_a, in_b == 0, incidence)
        if chain is None:
            chain = self._chain_in_heap_order(pair, in_a, in_b == 0, incidence)
        best, moved = chain
        if best <= self.epsilon:
            return 0.0
        for k in moved:
            v, target = pair[k], b if k < in_a else a
            labels[v] = target
            self.members[target].append(v)
        return best

    def _chain_in_heap_order(
        self, pair: list[int], in_a: int, split: bool, incidence: tuple[np.ndarray, ...]
    ) -> tuple[float, list[int]]:
        """The chain with the heap of :class:`_IndexedMaxHeap`, which fixes the order among ties.

        The nodes enter the heap in ``pair`` order. A node listed twice is pushed twice: the heap
        then holds a second entry for it, which is popped in its turn and counted again.

        Returns:
            The best prefix's cost decrease and its moves, as positions in ``pair``.
        """
        heap, gain, across = self.heap, self.gain, self.across
        owner, others, weights, to_a, to_b, count = incidence
        bounds = np.searchsorted(owner, np.arange(len(pair) + 1)).tolist()
        others, weights = others.tolist(), weights.tolist()
        neighbours, costs, position, on_a = {}, {}, {}, {}
        for k, v in enumerate(pair):
            neighbours[v] = others[bounds[k] : bounds[k + 1]]
            costs[v] = weights[bounds[k] : bounds[k + 1]]
            position[v], on_a[v] = k, k < in_a
        for k, v in enumerate(pair):
            gain[v] = to_b[k] - to_a[k] if k < in_a else to_a[k] - to_b[k]
            across[v] = count[k]
            if split or count[k]:  # every node may leave a split; otherwise only those with a neighbour across
                heap.push(v, gain[v])
        moved: list[int] = []
        done: set[int] = set()
        total = best = 0.0
        keep = 0
        while heap:
            v, g = heap.pop()
            side = on_a[v]
            done.add(v)
            moved.append(position[v])
            total += g
            if total > best + self.epsilon:
                best, keep = total, len(moved)
            for t, w in zip(neighbours[v], costs[v]):
                if t in done:
                    continue
                queued = split or across[t] > 0  # in the heap: a node may move while it borders
                same = on_a[t] == side
                gain[t] += 2.0 * w if same else -2.0 * w
                if queued:
                    heap.change(t, gain[t])
                if same:
                    across[t] += 1
                    if not queued:
                        heap.push(t, gain[t])
                else:
                    across[t] = max(across[t] - 1, 0)
                    if queued and not split and across[t] == 0:
                        heap.remove(t)
        return best, moved[:keep]

    def _chain_vectorised(
        self, pair: list[int], in_a: int, split: bool, incidence: tuple[np.ndarray, ...]
    ) -> tuple[float, list[int]] | None:
        """The chain on the pair's dense weight matrix, each step a few vector operations.

        While the largest gain among the movable nodes is unique, every heap pops the same node
        and the gains are updated by the same additions, so this is the chain of
        :meth:`_chain_in_heap_order`, bit for bit; at the first tie it gives up (``None``).
        """
        owner, others, weights, to_a, to_b, count = incidence
        size = len(pair)
        local = np.empty(self.n, dtype=np.int64)
        local[pair] = np.arange(size)
        matrix = np.zeros((size, size))  # a moved node's column is cleared: rows then reach the unmoved only
        matrix[owner, local[others]] = weights
        on_a = np.arange(size) < in_a
        gain = np.where(on_a, to_b - to_a, to_a - to_b)
        across = count.copy()
        movable = np.where(split | (across > 0), gain, -np.inf)  # the gains of the nodes in the heap
        moved: list[int] = []
        total = best = 0.0
        keep = 0
        while True:
            v = int(movable.argmax())
            top = movable[v]
            if top == -np.inf:
                break
            if np.count_nonzero(movable == top) > 1:
                return None
            movable[v] = -np.inf
            matrix[:, v] = 0.0
            moved.append(v)
            total += float(top)
            if total > best + self.epsilon:
                best, keep = total, len(moved)
            row = matrix[v]
            touched = np.flatnonzero(row)
            same = on_a[touched] == on_a[v]
            gain[touched] += np.where(same, 2.0, -2.0) * row[touched]
            across[touched] = np.maximum(across[touched] + np.where(same, 1, -1), 0)
            movable[touched] = gain[touched] if split else np.where(across[touched] > 0, gain[touched], -np.inf)
        return best, moved[:keep]

    def _pair_incidence(self, pair: list[int], in_a: int) -> tuple[np.ndarray, ...]:
        """The edges inside a chain's pair, gathered by numpy, and per entry of ``pair`` (the
        first ``in_a`` on side ``a``) the summed weight to each side and the count of neighbours
        across.

        Returns:
            ``(owner, others, weights, to_a, to_b, count)``: for each edge from a node of the pair
            to another, the owner's position in ``pair``, the other end and the weight, by owner
            and then in the owner's adjacency order; then the three per-entry arrays. The sums run
            in adjacency order, the other side's weights added as zeros, so they equal those of a
            loop over the neighbours bit for bit.
        """
        nodes = np.array(pair, dtype=np.int64)
        self.inside[nodes] = True
        self.in_a[nodes[:in_a]] = True
        lengths = self.bounds[nodes + 1] - self.bounds[nodes]
        flat = _ranges(self.bounds[nodes], lengths)
        others = self.others[flat]
        keep = self.inside[others]
        others, weights = others[keep], self.attached[flat][keep]
        owner = np.repeat(np.arange(len(pair)), lengths)[keep]
        towards_a = self.in_a[others]
        to_a = np.bincount(owner, np.where(towards_a, weights, 0.0), len(pair))
        to_b = np.bincount(owner, np.where(towards_a, 0.0, weights), len(pair))
        count = np.bincount(owner[towards_a != (owner < in_a)], minlength=len(pair))
        self.inside[nodes] = False
        self.in_a[nodes] = False
        return owner, others, weights, to_a, to_b, count

    def _single_moves(self, labels: np.ndarray, deadline: float | None = None) -> tuple[bool, np.ndarray]:
        """Step 4: move each node in turn to the neighbouring cluster that pulls it most, if that
        helps (the nodes not reached by ``deadline`` stay). Returns whether a node moved, and the labels."""
        if multicut_kernels.AVAILABLE:
            current = labels.copy()
            moved = multicut_kernels.single_moves(
                current, self.bounds, self.others, self.attached, self.epsilon, _clock(deadline)
            )
            return moved, current
        current = labels.tolist()
        neighbours, costs = self._adjacency_lists
        changed = False
        for v in range(self.n):
            if deadline is not None and not (v + 1) % _CLOCK_EVERY and time.perf_counter() >= deadline:
                break
            pull: dict[int, float] = {}
            for t, w in zip(neighbours[v], costs[v]):
                pull[current[t]] = pull.get(current[t], 0.0) + w
            own = current[v]
            stay = pull.get(own, 0.0)
            target, best = own, 0.0
            for cluster, weight in pull.items():
                if cluster != own and weight - stay > best + self.epsilon:
                    target, best = cluster, weight - stay
            if target != own:
                current[v] = target
                changed = True
        return changed, np.array(current, dtype=np.int64)
