"""Tours of the travelling salesperson problem: length, nearest-neighbour construction, 2-opt, Or-opt.

A tour is an integer array holding a permutation of the cities ``0..n-1``; it is closed, so its
length counts the edge from the last city back to the first. ``D`` is an ``n × n`` symmetric
distance matrix. Each function takes a tour and returns a new one (the input is never changed).

* :func:`two_opt` (Croes 1958) removes two edges ``(a, b)``, ``(c, d)`` and reconnects the tour
  as ``(a, c)``, ``(b, d)`` — a reversal of the path from ``b`` to ``c`` — whenever that is
  shorter. For each first edge the gains of every second edge are computed at once with numpy,
  and the best of them is applied (first improvement over ``i``, best over ``j``).
* :func:`or_opt` (Or 1976) moves a segment of 1 to 3 consecutive cities, as it is or reversed,
  to the best place between two other neighbouring cities. It finds the improvements 2-opt
  cannot make cheaply (one city misplaced far from its neighbours).
* :func:`local_search` alternates the two until neither improves the tour: a tour it returns
  is both 2-opt and Or-opt locally optimal.

Example:
    >>> import numpy as np
    >>> from gnnsolve.search.tsp import local_search, nearest_neighbour_tour, tour_length, two_opt
    >>> angles = np.linspace(0, 2 * np.pi, 8, endpoint=False)
    >>> xy = np.c_[np.cos(angles), np.sin(angles)]
    >>> D = np.linalg.norm(xy[:, None] - xy[None, :], axis=-1)
    >>> crossed = np.array([0, 4, 1, 5, 2, 6, 3, 7])
    >>> round(tour_length(D, two_opt(D, crossed)), 4)  # the regular octagon's perimeter
    6.1229
    >>> tour_length(D, nearest_neighbour_tour(D)) == tour_length(D, local_search(D, crossed))
    True

References:
    G. A. Croes, "A method for solving traveling-salesman problems", Operations Research 6(6),
    791–812 (1958).

    I. Or, "Traveling salesman-type combinatorial problems and their relation to the logistics
    of regional blood banking", PhD thesis, Northwestern University (1976).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["tour_length", "nearest_neighbour_tour", "two_opt", "or_opt", "local_search"]

SEGMENT_LENGTHS = (1, 2, 3)
"""Lengths of the segments :func:`or_opt` moves."""


def tour_length(D: np.ndarray, tour: ArrayLike) -> float:
    """The length of the closed tour: the sum of ``D`` along it, the last city back to the first included.

    Example:
        >>> import numpy as np
        >>> from gnnsolve.search.tsp import tour_length
        >>> D = np.array([[0, 1, 2], [1, 0, 3], [2, 3, 0]])
        >>> tour_length(D, [0, 1, 2])
        6.0
    """
    order = np.asarray(tour, dtype=np.intp)
    return float(D[order, np.roll(order, -1)].sum())


def nearest_neighbour_tour(D: np.ndarray, start: int = 0) -> np.ndarray:
    """The tour that starts at ``start`` and always goes on to the nearest unvisited city.

    Ties go to the lowest index.

    Example:
        >>> import numpy as np
        >>> from gnnsolve.search.tsp import nearest_neighbour_tour
        >>> D = np.array([[0, 5, 1, 9], [5, 0, 2, 1], [1, 2, 0, 8], [9, 1, 8, 0]])
        >>> nearest_neighbour_tour(D).tolist()
        [0, 2, 1, 3]
    """
    n = len(D)
    tour = np.empty(n, dtype=np.intp)
    visited = np.zeros(n, dtype=bool)
    current = int(start)
    for position in range(n):
        tour[position] = current
        visited[current] = True
        if position < n - 1:
            current = int(np.argmin(np.where(visited, np.inf, D[current])))
    return tour


def two_opt(D: np.ndarray, tour: ArrayLike, max_rounds: int | None = None) -> np.ndarray:
    """Improve ``tour`` by 2-opt moves until none shortens it (or ``max_rounds`` sweeps are done).

    A sweep visits each first edge ``(tour[i], tour[i+1])`` in turn, computes the gain of
    reconnecting it with every later edge in one vectorised step, and applies the best move if it
    shortens the tour. The first city never moves, so the tour keeps its start.

    Args:
        D: symmetric ``n × n`` distances.
        tour: a permutation of ``0..n-1``.
        max_rounds: the most sweeps to make; ``None`` sweeps until a sweep improves nothing.

    Returns:
        The improved tour, never longer than ``tour``.

    Example:
        >>> import numpy as np
        >>> from gnnsolve.search.tsp import tour_length, two_opt
        >>> xy = np.array([[0, 0], [1, 1], [1, 0], [0, 1]])
        >>> D = np.linalg.norm(xy[:, None] - xy[None, :], axis=-1)
        >>> two_opt(D, [0, 1, 2, 3]).tolist(), tour_length(D, [0, 2, 1, 3])
        ([0, 2, 1, 3], 4.0)
    """
    tour = np.array(tour, dtype=np.intp)
    n = len(tour)
    tolerance = _tolerance(D)
    rounds = 0
    improved = True
    while improved and (max_rounds is None or rounds < max_rounds):
        improved = False
        rounds += 1
        for i in range(n - 2):
            a, b = tour[i], tour[i + 1]
            later = tour[i + 2 :]
            after = np.append(tour[i + 3 :], tour[0])
            gains = D[a, b] + D[later, after] - D[a, later] - D[b, after]
            j = int(np.argmax(gains))
            if gains[j] > tolerance:
                tour[i + 1 : i + j + 3] = tour[i + 1 : i + j + 3][::-1]
                improved = True
    return tour


def or_opt(D: np.ndarray, tour: ArrayLike, max_rounds: int | None = None) -> np.ndarray:
    """Improve ``tour`` by Or-opt moves until none shortens it (or ``max_rounds`` sweeps are done).

    A move takes a segment of 1, 2 or 3 consecutive cities out of the tour, joins its two former
    neighbours, and puts the segment back — as it was or reversed — between the two neighbouring
    cities where that costs least. A sweep tries every segment start and length once, computing
    all insertion places in one vectorised step, and applies the best move for a segment if it
    shortens the tour. The result is rotated to start at the same city as ``tour``.

    Args:
        D: symmetric ``n × n`` distances.
        tour: a permutation of ``0..n-1``.
        max_rounds: the most sweeps to make; ``None`` sweeps until a sweep improves nothing.

    Returns:
        The improved tour, never longer than ``tour``.

    Example:
        >>> import numpy as np
        >>> from gnnsolve.search.tsp import or_opt
        >>> xy = np.array([[0, 0], [1, 0], [2, 0], [3, 0], [3, 1], [2, 1], [1, 1], [0, 1]])
        >>> D = np.linalg.norm(xy[:, None] - xy[None, :], axis=-1)
        >>> or_opt(D, [0, 1, 5, 2, 3, 4, 6, 7]).tolist()  # city 5 moved back between 6 and 4
        [0, 1, 2, 3, 4, 5, 6, 7]
    """
    tour = np.array(tour, dtype=np.intp)
    n = len(tour)
    if n == 0:
        return tour
    start = tour[0]
    tolerance = _tolerance(D)
    rounds = 0
    improved = True
    while improved and (max_rounds is None or rounds < max_rounds):
        improved = False
        rounds += 1
        for offset in range(n):
            for length in SEGMENT_LENGTHS:
                if n - length < 3:
                    continue
                moved = _best_segment_move(D, np.roll(tour, -offset), length, tolerance)
                if moved is not None:
                    tour = moved
                    improved = True
    return np.roll(tour, -int(np.flatnonzero(tour == start)[0]))


def local_search(D: np.ndarray, tour: ArrayLike) -> np.ndarray:
    """Alternate :func:`two_opt` and :func:`or_opt` until neither shortens the tour.

    The result keeps the first city of ``tour`` and is locally optimal for both moves.

    Example:
        >>> import numpy as np
        >>> from gnnsolve.search.tsp import local_search, tour_length
        >>> rng = np.random.default_rng(0)
        >>> xy = rng.random((30, 2))
        >>> D = np.linalg.norm(xy[:, None] - xy[None, :], axis=-1)
        >>> start = rng.permutation(30)
        >>> bool(tour_length(D, local_search(D, start)) < tour_length(D, start) / 2)
        True
    """
    tour = two_opt(D, tour)
    while True:
        shifted = or_opt(D, tour)
        if np.array_equal(shifted, tour):
            return tour
        tour = two_opt(D, shifted)
        if np.array_equal(tour, shifted):
            return tour


def _best_segment_move(D: np.ndarray, tour: np.ndarray, length: int, tolerance: float) -> np.ndarray | None:
    """The tour with its first ``length`` cities moved to their best other place, if that is shorter."""
    segment, rest = tour[:length], tour[length:]
    first, last = segment[0], segment[-1]
    before, after = rest[-1], rest[0]
    removal_gain = D[before, first] + D[last, after] - D[before, after]
    left, right = rest[:-1], rest[1:]
    forward = D[left, first] + D[last, right] - D[left, right]
    backward = D[left, last] + D[first, right] - D[left, right]
    costs = np.minimum(forward, backward)
    k = int(np.argmin(costs))
    if removal_gain - costs[k] <= tolerance:
        return None
    inserted = segment if forward[k] <= backward[k] else segment[::-1]
    return np.concatenate([rest[: k + 1], inserted, rest[k + 1 :]])


def _tolerance(D: np.ndarray) -> float:
    """The smallest gain counted as an improvement: far above rounding error, far below any real move."""
    return 1e-9 * max(float(np.max(D, initial=0.0)), 1.0)
