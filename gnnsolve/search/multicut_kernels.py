r"""Compiled kernels of GAEC and Kernighan–Lin with joins (numba), for :mod:`gnnsolve.search.multicut`.

The KLj chains are sequential: each move changes the gains of the next, so numpy can shorten a
move only to a few vector calls (about 10 µs), where a compiled loop needs tens of nanoseconds;
:mod:`~gnnsolve.search.multicut` measured its numpy KLj at 8–75× bioimage-cpp's time
(python-elf's ``multicut_kernighan_lin``). These kernels are the same algorithms, step for step:
the same heap (:class:`~gnnsolve.search.multicut._IndexedMaxHeap`'s operations on arrays), the
same schedule and the same floating-point additions in the same order, so they return the
partitions of the Python code bit for bit, ties included (``tests/test_multicut_kernels.py``
checks it on random graphs). :mod:`~gnnsolve.search.multicut` calls them when numba is installed
(the ``fast`` extra; :data:`AVAILABLE`) and otherwise runs its own numpy and Python loops.

The kernels are compiled when this module is first imported on an installation (about 15 s,
once) and cached on disk (numba's ``cache=True``); later imports load the machine code, so no
call ever spends its ``time_limit`` compiling. A deadline is read with :func:`time.perf_counter`
through numba's object mode, once per chain or per :data:`CLOCK_EVERY` steps, and only when one
is set (``math.inf`` means none).

Example:
    >>> import numpy as np
    >>> from gnnsolve.search import multicut_kernels
    >>> if multicut_kernels.AVAILABLE:  # two triangles held together, joined by a repelling edge
    ...     rows, cols = np.array([0, 1, 0, 3, 4, 3, 2]), np.array([1, 2, 2, 4, 5, 5, 3])
    ...     weights = np.array([2.0, 2.0, 2.0, 2.0, 2.0, 2.0, -1.0])
    ...     parent = multicut_kernels.contract_in_heap_order(6, rows, cols, weights, np.inf)
    ...     assert len({int(p) for p in parent if p == parent[p]}) == 2

References:
    M. Keuper, E. Levinkov, N. Bonneel, G. Lavoué, T. Brox and B. Andres, "Efficient
    Decomposition of Image and Mesh Graphs by Lifted Multicuts", ICCV 2015.
"""

from __future__ import annotations

import math
import os
import time
from typing import Any, Callable

import numpy as np

__all__ = [
    "AVAILABLE",
    "CLOCK_EVERY",
    "adjacent_clusters",
    "changed_clusters",
    "contract_dense",
    "contract_in_heap_order",
    "incidence",
    "join",
    "moves_and_splits",
    "number_in_order",
    "single_moves",
    "uncut_components",
]

CLOCK_EVERY = 64
"""Steps (contractions, single moves) between two readings of the clock when a deadline is set."""

try:
    import numba
except ImportError:  # pragma: no cover - the extra is installed in the test environment
    numba = None  # type: ignore[assignment]  # the kernels then stay plain functions, never called

AVAILABLE = numba is not None and os.environ.get("GNNSOLVE_NO_JIT", "") in ("", "0")
"""Whether the kernels run: numba is importable and ``GNNSOLVE_NO_JIT`` is unset (or ``0``)."""


def _jit(function: Callable[..., Any]) -> Callable[..., Any]:
    """``numba.njit(cache=True)`` where numba is installed (compiled for the types of its first
    call); the function itself otherwise (never called then)."""
    return _compile(function, None)


def _kernel(*signatures: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A kernel the package calls, compiled at import for the argument types of ``signatures``
    (other types are a ``TypeError``: the callers pass contiguous ``int64``/``float64`` arrays).

    Compiling eagerly keeps the compiler out of the calls: a first call that compiled lazily
    would spend seconds of its ``time_limit`` there. numba's cache makes every import after the
    first one on an installation load the machine code instead (about 0.2 s for all of them).
    """

    def decorate(function: Callable[..., Any]) -> Callable[..., Any]:
        return _compile(function, list(signatures))

    return decorate


def _compile(function: Callable[..., Any], signatures: list[str] | None) -> Callable[..., Any]:
    if numba is None:
        return function
    try:
        return (numba.njit(cache=True) if signatures is None else numba.njit(signatures, cache=True))(function)
    except RuntimeError:  # numba's "no locator available": nowhere to write the cache
        return (numba.njit() if signatures is None else numba.njit(signatures))(function)


@_jit
def _now() -> float:
    with numba.objmode(now="float64"):
        now = time.perf_counter()
    return now


# ---------------------------------------------------------------- graph structure


@_kernel("(int64, int64[::1], int64[::1], float64[::1])", "(int64, int64[::1], int64[::1], int64[::1])")
def incidence(n: int, rows: np.ndarray, cols: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`gnnsolve.search.multicut._incidence_arrays` by a counting sort: each node's
    neighbours and the ``values`` of the edges to them, in edge order, at ``bounds[v]:bounds[v+1]``."""
    bounds = np.zeros(n + 1, dtype=np.int64)
    for e in range(len(rows)):
        bounds[rows[e] + 1] += 1
        bounds[cols[e] + 1] += 1
    for v in range(n):
        bounds[v + 1] += bounds[v]
    fill = bounds[:-1].copy()
    others = np.empty(bounds[n], dtype=np.int64)
    attached = np.empty(bounds[n], dtype=values.dtype)
    for e in range(len(rows)):
        for end, other in ((rows[e], cols[e]), (cols[e], rows[e])):
            others[fill[end]], attached[fill[end]] = other, values[e]
            fill[end] += 1
    return bounds, others, attached


@_jit
def _root(parent: np.ndarray, v: int) -> int:
    while parent[v] != v:
        parent[v] = parent[parent[v]]
        v = parent[v]
    return v


@_kernel("(int64, int64[::1], int64[::1], int64[::1])")
def uncut_components(n: int, rows: np.ndarray, cols: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """:meth:`gnnsolve.search.multicut.SignedGraph.canonical`: the connected components of the
    uncut edges (ends with equal labels), numbered ``0..c-1`` in node order, by union–find."""
    parent = np.arange(n)
    for e in range(len(rows)):
        if labels[rows[e]] == labels[cols[e]]:
            a, b = _root(parent, rows[e]), _root(parent, cols[e])
            if a != b:
                parent[max(a, b)] = min(a, b)
    number = np.full(n, -1, dtype=np.int64)
    components = np.empty(n, dtype=np.int64)
    count = 0
    for v in range(n):
        root = _root(parent, v)
        if number[root] < 0:
            number[root] = count
            count += 1
        components[v] = number[root]
    return components


@_kernel("(int64[::1],)")
def number_in_order(labels: np.ndarray) -> np.ndarray:
    """:func:`gnnsolve.search.multicut._number_in_order`: labels relabelled ``0, 1, 2, ...`` in array order
    (non-negative labels)."""
    number = np.full(labels.max() + 1 if len(labels) else 0, -1, dtype=np.int64)
    numbered = np.empty(len(labels), dtype=np.int64)
    count = 0
    for v in range(len(labels)):
        if number[labels[v]] < 0:
            number[labels[v]] = count
            count += 1
        numbered[v] = number[labels[v]]
    return numbered


@_kernel("(int64[::1], int64[::1])")
def changed_clusters(labels: np.ndarray, previous: np.ndarray) -> np.ndarray:
    """:func:`gnnsolve.search.multicut._changed_clusters`: for each cluster of ``labels``, whether its
    node set is not a cluster of ``previous``."""
    count, base = labels.max() + 1, previous.max() + 1
    source = np.full(count, -1, dtype=np.int64)
    changed = np.zeros(count, dtype=np.bool_)
    size = np.zeros(count, dtype=np.int64)
    previous_size = np.zeros(base, dtype=np.int64)
    for v in range(len(labels)):
        c = labels[v]
        size[c] += 1
        previous_size[previous[v]] += 1
        if source[c] < 0:
            source[c] = previous[v]
        elif source[c] != previous[v]:
            changed[c] = True
    for c in range(count):
        if source[c] < 0 or previous_size[source[c]] != size[c]:
            changed[c] = True
    return changed


@_kernel("(int64[::1], int64[::1], int64[::1], float64[::1], float64)")
def adjacent_clusters(
    labels: np.ndarray, rows: np.ndarray, cols: np.ndarray, weights: np.ndarray, epsilon: float
) -> tuple[np.ndarray, np.ndarray]:
    """:meth:`gnnsolve.search.multicut._KernighanLin._adjacent_clusters`: the pairs ``(a, b)``,
    ``a < b``, of clusters joined by an edge, sorted, and whether the edges between them weigh
    more than ``epsilon`` in all (summed in edge order, as ``np.bincount`` sums)."""
    size = labels.max() + 1 if len(labels) else 1
    keys = np.empty(len(rows), dtype=np.int64)
    cut = np.empty(len(rows), dtype=np.int64)
    count = 0
    for e in range(len(rows)):
        a, b = labels[rows[e]], labels[cols[e]]
        if a != b:
            keys[count] = min(a, b) * size + max(a, b)
            cut[count] = e
            count += 1
    keys = keys[:count]
    order = np.argsort(keys, kind="mergesort")  # stable: each pair's edges stay in edge order
    pairs = np.empty((count, 2), dtype=np.int64)
    between = np.zeros(count, dtype=np.float64)
    found = -1
    for i in range(count):
        key = keys[order[i]]
        if found < 0 or key != pairs[found, 0] * size + pairs[found, 1]:
            found += 1
            pairs[found, 0], pairs[found, 1] = key // size, key % size
        between[found] += weights[cut[order[i]]]
    return pairs[: found + 1], between[: found + 1] > epsilon


@_kernel("(int64[::1], int64[:, :], boolean[::1])")
def join(labels: np.ndarray, pairs: np.ndarray, attracted: np.ndarray) -> np.ndarray:
    """Step 3 of a KLj iteration: the clusters of each attracted pair merged (transitively), by
    union–find; a label per node, numbered in order of appearance."""
    parent = np.arange(labels.max() + 1)
    for i in range(len(pairs)):
        if attracted[i]:
            a, b = _root(parent, pairs[i, 0]), _root(parent, pairs[i, 1])
            if a != b:
                parent[max(a, b)] = min(a, b)
    joined = np.empty(len(labels), dtype=np.int64)
    for v in range(len(labels)):
        joined[v] = _root(parent, labels[v])
    return number_in_order(joined)


# ---------------------------------------------------------------- the indexed max-heap


@_jit
def _swap(keys: np.ndarray, priorities: np.ndarray, slot: np.ndarray, i: int, j: int) -> None:
    keys[i], keys[j] = keys[j], keys[i]
    priorities[i], priorities[j] = priorities[j], priorities[i]
    slot[keys[i]] = i
    slot[keys[j]] = j


@_jit
def _rise(keys: np.ndarray, priorities: np.ndarray, slot: np.ndarray, position: int) -> None:
    while position > 0:
        parent = (position - 1) >> 1
        if not priorities[parent] < priorities[position]:
            break
        _swap(keys, priorities, slot, parent, position)
        position = parent


@_jit
def _sink(keys: np.ndarray, priorities: np.ndarray, slot: np.ndarray, position: int, size: int) -> None:
    while True:
        child = 2 * position + 1
        if child >= size:
            break
        if child + 1 < size and priorities[child] < priorities[child + 1]:
            child += 1
        if not priorities[position] < priorities[child]:
            break
        _swap(keys, priorities, slot, position, child)
        position = child


@_jit
def _remove_at(keys: np.ndarray, priorities: np.ndarray, slot: np.ndarray, position: int, size: int) -> int:
    """Take the entry at ``position`` out; returns the new size."""
    slot[keys[position]] = -1
    size -= 1
    if position < size:
        keys[position], priorities[position] = keys[size], priorities[size]
        slot[keys[position]] = position
        _rise(keys, priorities, slot, position)
        _sink(keys, priorities, slot, position, size)
    return size


@_jit
def _push(keys: np.ndarray, priorities: np.ndarray, slot: np.ndarray, key: int, priority: float, size: int) -> int:
    """Append an entry (the caller makes room); returns the new size."""
    slot[key] = size
    keys[size], priorities[size] = key, priority
    _rise(keys, priorities, slot, size)
    return size + 1


@_jit
def _change(keys: np.ndarray, priorities: np.ndarray, slot: np.ndarray, key: int, priority: float, size: int) -> None:
    position = slot[key]
    larger = priorities[position] < priority
    priorities[position] = priority
    if larger:
        _rise(keys, priorities, slot, position)
    else:
        _sink(keys, priorities, slot, position, size)


@_jit
def _build(keys: np.ndarray, priorities: np.ndarray, slot: np.ndarray, values: np.ndarray) -> int:
    """Floyd's heapify of the keys ``0..len(values)-1`` in index order; returns the size."""
    size = len(values)
    for key in range(size):
        keys[key], priorities[key], slot[key] = key, values[key], key
    for position in range(size // 2 - 1, -1, -1):
        _sink(keys, priorities, slot, position, size)
    return size


# ---------------------------------------------------------------- GAEC


@_jit
def _grow(array: np.ndarray, needed: int) -> np.ndarray:
    """``array`` with room for ``needed`` entries (doubled until it fits; the head copied)."""
    if needed <= len(array):
        return array
    size = max(len(array), 1)
    while size < needed:
        size *= 2
    grown = np.empty(size, dtype=array.dtype)
    grown[: len(array)] = array
    return grown


@_jit
def _hash(key: int, mask: int) -> int:
    return ((key * 2654435761) >> 16) & mask


@_jit
def _find(table_keys: np.ndarray, key: int, mask: int) -> int:
    """The slot of ``key`` in the open-addressing table, or of the empty slot where it would go."""
    i = _hash(key, mask)
    while table_keys[i] != -1 and table_keys[i] != key:
        i = (i + 1) & mask
    return i


@_jit
def _erase(table_keys: np.ndarray, table_values: np.ndarray, i: int, mask: int) -> None:
    """Empty slot ``i`` of a linear-probing table, shifting later entries of its run back."""
    j = i
    while True:
        j = (j + 1) & mask
        if table_keys[j] == -1:
            break
        home = _hash(table_keys[j], mask)
        # the entry at j may fill i when its home is not cyclically within (i, j]
        if (i <= j and (home <= i or home > j)) or (i > j and home <= i and home > j):
            table_keys[i], table_values[i] = table_keys[j], table_values[j]
            i = j
    table_keys[i] = -1


@_jit
def _detach(
    node: int,
    neighbour: int,
    n: int,
    neighbours: np.ndarray,
    edges: np.ndarray,
    start: np.ndarray,
    length: np.ndarray,
    table_keys: np.ndarray,
    table_values: np.ndarray,
    mask: int,
) -> None:
    """Remove ``neighbour`` from ``node``'s list, the list's last entry taking its place."""
    found = _find(table_keys, node * n + neighbour, mask)
    i = table_values[found]
    _erase(table_keys, table_values, found, mask)
    last = length[node] - 1
    length[node] = last
    if i < last:
        neighbours[start[node] + i] = neighbours[start[node] + last]
        edges[start[node] + i] = edges[start[node] + last]
        table_values[_find(table_keys, node * n + neighbours[start[node] + i], mask)] = i


@_kernel("(int64, int64[::1], int64[::1], float64[::1], float64)")
def contract_in_heap_order(n: int, rows: np.ndarray, cols: np.ndarray, weights: np.ndarray, deadline: float) -> np.ndarray:
    """GAEC breaking ties as bioimage-cpp does: :func:`gnnsolve.search.multicut._contract_in_heap_order`.

    Each node's neighbour list lives in a segment of one pool (moved to the pool's end, twice as
    long, when it fills); a hash table maps ``node * n + neighbour`` to the neighbour's place in
    the node's list, where the Python code keeps a dict per node. Returns each node's parent.
    """
    m = len(rows)
    first, second, totals = rows.copy(), cols.copy(), weights.copy()
    degree = np.zeros(n, dtype=np.int64)
    for e in range(m):
        degree[first[e]] += 1
        degree[second[e]] += 1
    start = np.zeros(n, dtype=np.int64)
    capacity = np.maximum(degree, 1)
    for v in range(1, n):
        start[v] = start[v - 1] + capacity[v - 1]
    pool_size = start[n - 1] + capacity[n - 1] if n else 0
    neighbours = np.empty(pool_size, dtype=np.int64)
    edges = np.empty(pool_size, dtype=np.int64)
    length = np.zeros(n, dtype=np.int64)
    table_size = 4
    while table_size < 4 * m + 4:
        table_size *= 2
    mask = table_size - 1
    table_keys = np.full(table_size, -1, dtype=np.int64)
    table_values = np.empty(table_size, dtype=np.int64)
    for e in range(m):  # each node's edges in edge order, as :func:`_incidence` lists them
        for node, other in ((first[e], second[e]), (second[e], first[e])):
            i = length[node]
            neighbours[start[node] + i], edges[start[node] + i] = other, e
            length[node] = i + 1
            slot = _find(table_keys, node * n + other, mask)
            table_keys[slot], table_values[slot] = node * n + other, i
    keys = np.empty(max(m, 1), dtype=np.int64)
    priorities = np.empty(max(m, 1), dtype=np.float64)
    heap_slot = np.full(max(m, 1), -1, dtype=np.int64)
    size = _build(keys, priorities, heap_slot, totals)
    parent = np.arange(n)
    steps = 0
    while size > 0:
        steps += 1
        if deadline < math.inf and steps % CLOCK_EVERY == 0 and _now() >= deadline:
            break
        edge, priority = keys[0], priorities[0]
        if priority <= 0:
            break
        kept, removed = first[edge], second[edge]
        if length[kept] < length[removed]:
            kept, removed = removed, kept
        parent[removed] = kept
        _detach(kept, removed, n, neighbours, edges, start, length, table_keys, table_values, mask)
        if heap_slot[edge] >= 0:
            size = _remove_at(keys, priorities, heap_slot, heap_slot[edge], size)
        for r in range(length[removed]):
            t, other = neighbours[start[removed] + r], edges[start[removed] + r]
            if t == kept:
                continue
            found = _find(table_keys, kept * n + t, mask)
            if table_keys[found] == -1:  # re-attach the edge to the survivor
                if length[kept] == capacity[kept]:
                    new_capacity = 2 * capacity[kept]
                    neighbours = _grow(neighbours, pool_size + new_capacity)
                    edges = _grow(edges, pool_size + new_capacity)
                    neighbours[pool_size : pool_size + length[kept]] = neighbours[start[kept] : start[kept] + length[kept]]
                    edges[pool_size : pool_size + length[kept]] = edges[start[kept] : start[kept] + length[kept]]
                    start[kept], capacity[kept] = pool_size, new_capacity
                    pool_size += new_capacity
                i = length[kept]
                neighbours[start[kept] + i], edges[start[kept] + i] = t, other
                length[kept] = i + 1
                table_keys[found], table_values[found] = kept * n + t, i
                back = _find(table_keys, t * n + removed, mask)
                j = table_values[back]
                _erase(table_keys, table_values, back, mask)
                slot = _find(table_keys, t * n + kept, mask)
                table_keys[slot], table_values[slot] = t * n + kept, j
                neighbours[start[t] + j] = kept
                if first[other] == removed:
                    first[other] = kept
                else:
                    second[other] = kept
            else:  # fold it into the survivor's edge to the same neighbour
                merged = edges[start[kept] + table_values[found]]
                _detach(t, removed, n, neighbours, edges, start, length, table_keys, table_values, mask)
                if heap_slot[other] >= 0:
                    size = _remove_at(keys, priorities, heap_slot, heap_slot[other], size)
                totals[merged] += totals[other]
                _change(keys, priorities, heap_slot, merged, totals[merged], size)
        for r in range(length[removed]):  # the removed node's places, all still in the table
            _erase(table_keys, table_values, _find(table_keys, removed * n + neighbours[start[removed] + r], mask), mask)
        length[removed] = 0
    return parent


@_jit
def _row_max(weights: np.ndarray, i: int) -> tuple[float, int]:
    """The largest entry of row ``i`` and its first column."""
    top, at = weights[i, 0], 0
    for j in range(1, weights.shape[1]):
        if weights[i, j] > top:
            top, at = weights[i, j], j
    return top, at


@_kernel("(float64[:, ::1], float64)")
def contract_dense(weights: np.ndarray, deadline: float) -> np.ndarray:
    """GAEC on a dense symmetric weight matrix, changed in place:
    :func:`gnnsolve.search.multicut._contract_dense` without ``stop_at_tie`` (ties go to the first
    row in index order), the same entries compared and summed. Returns each node's parent."""
    n = len(weights)
    parent = np.arange(n)
    if n < 2:
        return parent
    best = np.empty(n, dtype=np.float64)
    where = np.empty(n, dtype=np.int64)
    for i in range(n):
        weights[i, i] = 0.0
    for i in range(n):
        best[i], where[i] = _row_max(weights, i)
    row = np.empty(n, dtype=np.float64)
    steps = 0
    while True:
        steps += 1
        if deadline < math.inf and steps % CLOCK_EVERY == 0 and _now() >= deadline:
            break
        i = int(np.argmax(best))
        if best[i] <= 0:
            break
        kept, removed = min(i, where[i]), max(i, where[i])
        parent[removed] = kept
        for j in range(n):
            row[j] = weights[kept, j] + weights[removed, j]
        row[kept] = 0.0
        row[removed] = 0.0
        for j in range(n):
            weights[kept, j] = row[j]
            weights[j, kept] = row[j]
            weights[removed, j] = 0.0
            weights[j, removed] = 0.0
        # a row's largest entry moved only if it was in a merged column and that column's entry fell
        for j in range(n):
            if where[j] == removed or (where[j] == kept and row[j] < best[j]):
                best[j], where[j] = _row_max(weights, j)
        for j in range(n):
            if row[j] > best[j]:
                best[j], where[j] = row[j], kept
        best[removed] = -math.inf
        best[kept], where[kept] = row.max(), np.argmax(row)
    return parent


# ---------------------------------------------------------------- KLj


@_jit
def _chain(
    a: int,
    b: int,
    split: bool,
    pair: np.ndarray,
    in_a: int,
    size_pair: int,
    bounds: np.ndarray,
    others: np.ndarray,
    attached: np.ndarray,
    epsilon: float,
    inside: np.ndarray,
    on_a: np.ndarray,
    done: np.ndarray,
    position: np.ndarray,
    gain: np.ndarray,
    across: np.ndarray,
    keys: np.ndarray,
    priorities: np.ndarray,
    slot: np.ndarray,
    moved: np.ndarray,
) -> tuple[float, int]:
    """A Kernighan–Lin chain on the pair ``pair[:size_pair]`` (its first ``in_a`` on side ``a``):
    :meth:`gnnsolve.search.multicut._KernighanLin._chain_in_heap_order`. Returns the best
    prefix's cost decrease and its length; the moves are ``moved[:length]``, positions in ``pair``."""
    for k in range(size_pair):
        v = pair[k]
        inside[v] = True
        on_a[v] = k < in_a
        position[v] = k
    size = 0
    for k in range(size_pair):
        v = pair[k]
        to_a = 0.0
        to_b = 0.0
        count = 0
        for i in range(bounds[v], bounds[v + 1]):
            t = others[i]
            if inside[t]:
                if on_a[t]:
                    to_a += attached[i]
                else:
                    to_b += attached[i]
                if on_a[t] != (k < in_a):
                    count += 1
        gain[v] = to_b - to_a if k < in_a else to_a - to_b
        across[v] = count
        if split or count:
            size = _push(keys, priorities, slot, v, gain[v], size)
    total = 0.0
    best = 0.0
    keep = 0
    popped = 0
    while size > 0:
        v, g = keys[0], priorities[0]
        size = _remove_at(keys, priorities, slot, 0, size)
        side = on_a[v]
        done[v] = True
        moved[popped] = position[v]
        popped += 1
        total += g
        if total > best + epsilon:
            best, keep = total, popped
        for i in range(bounds[v], bounds[v + 1]):
            t = others[i]
            if not inside[t] or done[t]:
                continue
            w = attached[i]
            queued = split or across[t] > 0
            same = on_a[t] == side
            if same:
                gain[t] += 2.0 * w
            else:
                gain[t] += -2.0 * w
            if queued:
                _change(keys, priorities, slot, t, gain[t], size)
            if same:
                across[t] += 1
                if not queued:
                    size = _push(keys, priorities, slot, t, gain[t], size)
            else:
                across[t] = max(across[t] - 1, 0)
                if queued and not split and across[t] == 0 and slot[t] >= 0:
                    size = _remove_at(keys, priorities, slot, slot[t], size)
    for k in range(size_pair):
        v = pair[k]
        inside[v] = False
        on_a[v] = False
        done[v] = False
    return best, keep


@_jit
def _listed(
    c: int, head: np.ndarray, entry_node: np.ndarray, entry_next: np.ndarray, labels: np.ndarray, pair: np.ndarray, size: int
) -> tuple[np.ndarray, int]:
    """Append to ``pair[:size]`` the nodes cluster ``c`` lists and still holds; returns the pair and its new size."""
    e = head[c]
    while e >= 0:
        v = entry_node[e]
        if labels[v] == c:
            if size == len(pair):
                pair = _grow(pair, size + 1)
            pair[size] = v
            size += 1
        e = entry_next[e]
    return pair, size


@_kernel("(int64[::1], boolean[::1], int64[:, :], int64[::1], int64[::1], float64[::1], float64, float64)")
def moves_and_splits(
    labels: np.ndarray,
    dirty: np.ndarray,
    pairs: np.ndarray,
    bounds: np.ndarray,
    others: np.ndarray,
    attached: np.ndarray,
    epsilon: float,
    deadline: float,
) -> tuple[bool, bool]:
    """Steps 1 and 2 of a KLj iteration (:meth:`gnnsolve.search.multicut._KernighanLin.iterate`):
    a chain for each pair of adjacent clusters with a dirty one, then splits of the dirty clusters.

    ``labels`` (clusters ``0..c-1`` numbered in order of appearance) and ``dirty`` (one flag per
    cluster) are changed in place; split clusters take the labels ``c, c+1, ...``. Each cluster
    lists every node ever in it this iteration, in order of arrival, as a linked list of entries.

    Returns:
        Whether a chain lowered the cost, and whether ``deadline`` passed (the rest skipped).
    """
    n = len(labels)
    count = len(dirty)
    head = np.full(count + 1, -1, dtype=np.int64)
    tail = np.full(count + 1, -1, dtype=np.int64)
    entry_node = np.empty(2 * n + 1, dtype=np.int64)
    entry_next = np.empty(2 * n + 1, dtype=np.int64)
    entries = 0
    for v in range(n):
        c = labels[v]
        entry_node[entries], entry_next[entries] = v, -1
        if tail[c] >= 0:
            entry_next[tail[c]] = entries
        else:
            head[c] = entries
        tail[c] = entries
        entries += 1
    inside = np.zeros(n, dtype=np.bool_)
    on_a = np.zeros(n, dtype=np.bool_)
    done = np.zeros(n, dtype=np.bool_)
    position = np.zeros(n, dtype=np.int64)
    gain = np.zeros(n, dtype=np.float64)
    across = np.zeros(n, dtype=np.int64)
    slot = np.full(n, -1, dtype=np.int64)
    pair = np.empty(2 * n + 1, dtype=np.int64)
    keys = np.empty(4 * n + 2, dtype=np.int64)
    priorities = np.empty(4 * n + 2, dtype=np.float64)
    moved = np.empty(4 * n + 2, dtype=np.int64)
    flags = np.zeros(count, dtype=np.bool_)
    flags[:] = dirty
    improved = False
    fresh = count
    step = 0
    total_steps = len(pairs) + count
    while step < total_steps:
        if step < len(pairs):
            a, b = pairs[step, 0], pairs[step, 1]
            if not (flags[a] or flags[b]):
                step += 1
                continue
        else:
            a = step - len(pairs)
            if not flags[a]:
                step += 1
                continue
            b = fresh
            if fresh + 1 >= len(head):
                head = _grow(head, fresh + 2)
                tail = _grow(tail, fresh + 2)
                head[fresh:] = -1
                tail[fresh:] = -1
        # the pair: the nodes each cluster lists and still holds, a's first
        pair, in_a = _listed(a, head, entry_node, entry_next, labels, pair, 0)
        pair, size_pair = _listed(b, head, entry_node, entry_next, labels, pair, in_a)
        in_b = size_pair - in_a
        decrease = 0.0
        if size_pair >= 2 and not (in_a == 1 and in_b == 1):
            needed = 2 * size_pair + 2
            if len(keys) < needed:
                keys, priorities, moved = _grow(keys, needed), _grow(priorities, needed), _grow(moved, needed)
            best, keep = _chain(
                a, b, in_b == 0, pair, in_a, size_pair, bounds, others, attached, epsilon,
                inside, on_a, done, position, gain, across, keys, priorities, slot, moved,
            )  # fmt: skip
            if best > epsilon:
                decrease = best
                if entries + keep > len(entry_node):
                    entry_node, entry_next = _grow(entry_node, entries + keep), _grow(entry_next, entries + keep)
                for i in range(keep):
                    k = moved[i]
                    v = pair[k]
                    target = b if k < in_a else a
                    labels[v] = target
                    entry_node[entries], entry_next[entries] = v, -1
                    if tail[target] >= 0:
                        entry_next[tail[target]] = entries
                    else:
                        head[target] = entries
                    tail[target] = entries
                    entries += 1
        if step < len(pairs):
            if decrease > epsilon:
                improved = True
                flags[a] = flags[b] = True
            step += 1
            if deadline < math.inf and _now() >= deadline:
                dirty[:] = flags
                return improved, True
        elif decrease > epsilon:  # the same cluster is split again, into the next fresh one
            improved = True
            fresh += 1
        else:
            step += 1
            if deadline < math.inf and _now() >= deadline:
                dirty[:] = flags
                return improved, True
    dirty[:] = flags
    return improved, False


@_kernel("(int64[::1], int64[::1], int64[::1], float64[::1], float64, float64)")
def single_moves(
    labels: np.ndarray, bounds: np.ndarray, others: np.ndarray, attached: np.ndarray, epsilon: float, deadline: float
) -> bool:
    """Step 4 of a KLj iteration (:meth:`gnnsolve.search.multicut._KernighanLin._single_moves`):
    each node in turn to the neighbouring cluster that pulls it most, if that helps; ``labels``
    changed in place. Returns whether a node moved."""
    n = len(labels)
    clusters = labels.max() + 1 if n else 0
    pull = np.zeros(clusters, dtype=np.float64)
    seen = np.zeros(clusters, dtype=np.bool_)
    touched = np.empty(max(int(np.max(np.diff(bounds))) if n else 0, 1), dtype=np.int64)
    changed = False
    for v in range(n):
        if deadline < math.inf and (v + 1) % CLOCK_EVERY == 0 and _now() >= deadline:
            break
        reached = 0
        for i in range(bounds[v], bounds[v + 1]):
            c = labels[others[i]]
            if not seen[c]:
                seen[c] = True
                touched[reached] = c
                reached += 1
            pull[c] += attached[i]
        own = labels[v]
        stay = pull[own]
        target, best = own, 0.0
        for r in range(reached):
            c = touched[r]
            if c != own and pull[c] - stay > best + epsilon:
                target, best = c, pull[c] - stay
        for r in range(reached):
            c = touched[r]
            pull[c] = 0.0
            seen[c] = False
        if target != own:
            labels[v] = target
            changed = True
    return changed
