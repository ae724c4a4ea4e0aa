"""Dynamic instances: sequences of snapshots of a problem that changes a little at a time.

These are the dynamic benchmarks of DyCO-GNN (Liao, Koushanfar and Naghizadeh), built from the
static benchmark data:

- dynamic MaxCut and MIS on a temporal network (:func:`edge_snapshots`): edge events are sorted
  by time, self-loops and repeated pairs dropped, and the resulting list ``E`` of distinct
  undirected edges is revealed in ``num_snapshots`` steps of ``fraction · |E|`` edges each
  (10 steps of 10% for Infectious and UC Social, of 2% for DBLP). For MIS the sequence runs
  backwards (``reverse=True``): edges are deleted rather than added. A KONECT network is
  ``edge_snapshots(read_konect(path))``, the DBLP graph
  ``edge_snapshots(read_dblp_temporal(path), fraction=0.02)``.
- dynamic TSP (:func:`moving_city_snapshots`, :func:`moving_city_tsp_snapshots`): one extra city
  moves along a straight line inside the region of the others and is recorded at
  ``num_positions`` equally spaced positions (5 for burma14, ulysses22 and st70).

Each snapshot is an ordinary static instance: hand it to :class:`~gnnsolve.adapters.graphs.MaxCut`,
:class:`~gnnsolve.adapters.graphs.MaxIndependentSet` or :class:`~gnnsolve.adapters.graphs.TSP`.

Example:
    >>> import numpy as np
    >>> from gnnsolve.adapters.datasets import TemporalEdges
    >>> from gnnsolve.adapters.dynamic import edge_snapshots, moving_city_snapshots
    >>> events = TemporalEdges(
    ...     num_nodes=5,
    ...     sources=np.array([3, 0, 1, 2, 2, 1]),
    ...     targets=np.array([4, 1, 0, 2, 3, 2]),
    ...     weights=np.ones(6),
    ...     times=np.array([5.0, 1.0, 2.0, 3.0, 4.0, 3.0]),
    ...     directed=False,
    ... )
    >>> [sorted(G.edges) for G in edge_snapshots(events, num_snapshots=2, fraction=0.5)]
    [[(0, 1), (1, 2)], [(0, 1), (1, 2), (2, 3), (3, 4)]]
    >>> [G.number_of_edges() for G in edge_snapshots(events, num_snapshots=4, fraction=0.25, reverse=True)]
    [4, 3, 2, 1]
    >>> square = np.array([[0.0, 0.0], [4.0, 0.0], [4.0, 4.0], [0.0, 4.0]])
    >>> snapshots = moving_city_snapshots(square, num_positions=3, seed=0)
    >>> len(snapshots), snapshots[0].shape, bool(np.all(snapshots[1][:4] == square))
    (3, (5, 2), True)
    >>> path = snapshots[0][4], snapshots[1][4], snapshots[2][4]  # the new city, equally spaced
    >>> bool(np.allclose(path[1] - path[0], path[2] - path[1]))
    True

References:
    Y. Liao, F. Koushanfar and P. Naghizadeh, "Learning for Dynamic Combinatorial Optimization
    without Training Data", arXiv:2505.19497 (2025).
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from typing import TYPE_CHECKING

import networkx as nx
import numpy as np
from numpy.typing import ArrayLike
from scipy.spatial import ConvexHull, QhullError

from gnnsolve.adapters.tsplib import TSPLIBInstance, geo_degrees
from gnnsolve.errors import InvalidModelError, UnsupportedModelError

if TYPE_CHECKING:  # datasets re-exports this module, so it is imported for annotations only
    from gnnsolve.adapters.datasets import TemporalEdges

__all__ = ["distinct_edges", "edge_snapshots", "moving_city_snapshots", "moving_city_tsp_snapshots"]

_COORDINATE_TYPES = ("EUC_2D", "CEIL_2D", "ATT", "GEO")


# ---------------------------------------------------------------- temporal networks


def distinct_edges(events: TemporalEdges) -> np.ndarray:
    """The distinct undirected edges of ``events`` in the order they first occur in time.

    Events are sorted by time, stably (events at the same time keep their file order);
    self-loops are dropped; ``(u, v)`` and ``(v, u)`` are the same edge, and only its first
    event counts.

    Returns:
        An ``[m, 2]`` ``int64`` array of edges ``(u, v)`` with ``u < v``.

    Example:
        >>> import numpy as np
        >>> from gnnsolve.adapters.datasets import TemporalEdges
        >>> from gnnsolve.adapters.dynamic import distinct_edges
        >>> events = TemporalEdges(4, np.array([2, 1, 0, 3]), np.array([3, 1, 2, 2]), np.ones(4),
        ...                        np.array([2.0, 0.0, 1.0, 0.5]), directed=True)
        >>> distinct_edges(events).tolist()
        [[2, 3], [0, 2]]
    """
    order = np.argsort(np.asarray(events.times), kind="stable")
    sources = np.asarray(events.sources, dtype=np.int64)[order]
    targets = np.asarray(events.targets, dtype=np.int64)[order]
    keep = sources != targets
    pairs = np.stack([np.minimum(sources, targets)[keep], np.maximum(sources, targets)[keep]], axis=1)
    _, first = np.unique(pairs, axis=0, return_index=True)  # the first occurrence of each pair
    return pairs[np.sort(first)]


def edge_snapshots(
    events: TemporalEdges, num_snapshots: int = 10, fraction: float = 0.1, reverse: bool = False
) -> list[nx.Graph]:
    """Snapshots of a temporal network whose edges arrive in time order, ``fraction`` at a time.

    With ``E`` the :func:`distinct_edges` of ``events`` (``m = |E|``), snapshot ``k`` of
    ``K = num_snapshots`` (``k = 1..K``) holds the first

    .. math:: m - \\operatorname{round}\\big((K - k) \\cdot f \\cdot m\\big)

    edges of ``E`` (``round`` sends halves to the even neighbour, as Python's does): the last
    snapshot is the whole network and each earlier one lacks the ``f · m`` latest edges of the
    next. With the paper's ``f = 0.1`` the snapshots hold 10%, 20%, ..., 100% of the edges; with
    its ``f = 0.02`` for DBLP they hold 82%, 84%, ..., 100%. The paper describes each snapshot as
    adding ``f`` of the final edges; anchoring the sequence at the final graph keeps that reading
    for every ``f`` and always ends on the complete network, whereas anchoring it at the empty
    graph would leave 80% of DBLP unused.

    Every snapshot has the same nodes: those of the edges in ``E``, so a node joins the graph
    isolated before its first edge arrives (harmless for MaxCut and MIS, and it keeps the
    variables of consecutive snapshots the same). Edges have no attributes: every edge counts 1.

    Args:
        events: timestamped edge events, e.g. from :func:`~gnnsolve.adapters.datasets.read_konect`
            or :func:`~gnnsolve.adapters.datasets.read_dblp_temporal`; directions are ignored.
        num_snapshots: how many snapshots, ``K ≥ 1``.
        fraction: the share ``f`` of the edges each snapshot adds, ``0 < f`` and ``K · f ≤ 1``.
        reverse: return the snapshots fullest first, so that edges are deleted from one to the
            next (dynamic MIS).

    Returns:
        ``K`` undirected graphs, each a subgraph of the next (of the previous when ``reverse``).

    Raises:
        ValueError: ``num_snapshots`` is not a positive integer, ``fraction`` is not a positive
            number, or ``num_snapshots · fraction`` exceeds 1.
        InvalidModelError: the events join no two distinct nodes.

    Example:
        >>> import numpy as np
        >>> from gnnsolve.adapters.datasets import TemporalEdges
        >>> from gnnsolve.adapters.dynamic import edge_snapshots
        >>> path = TemporalEdges(6, np.arange(5), np.arange(1, 6), np.ones(5), np.arange(5.0), directed=False)
        >>> [G.number_of_edges() for G in edge_snapshots(path, num_snapshots=3, fraction=0.2)]
        [3, 4, 5]
        >>> [G.number_of_nodes() for G in edge_snapshots(path, num_snapshots=3, fraction=0.2)]
        [6, 6, 6]
    """
    _check_snapshot_arguments(num_snapshots, fraction)
    edges = distinct_edges(events)
    if len(edges) == 0:
        raise InvalidModelError(
            f"the {len(events)} edge events join no two distinct nodes, so there is no graph to take snapshots of"
        )
    nodes = np.unique(edges).tolist()
    listed = edges.tolist()
    snapshots = []
    for size in _snapshot_sizes(len(edges), num_snapshots, fraction):
        graph = nx.Graph()
        graph.add_nodes_from(nodes)
        graph.add_edges_from(listed[:size])
        snapshots.append(graph)
    return snapshots[::-1] if reverse else snapshots


def _check_snapshot_arguments(num_snapshots: int, fraction: float) -> None:
    if isinstance(num_snapshots, bool) or not isinstance(num_snapshots, numbers.Integral) or num_snapshots < 1:
        raise ValueError(f"num_snapshots must be a positive integer, got {num_snapshots!r}")
    if isinstance(fraction, bool) or not isinstance(fraction, numbers.Real) or not 0 < fraction < math.inf:
        raise ValueError(f"fraction must be a positive number, got {fraction!r}")
    if num_snapshots * fraction > 1 + 1e-9:
        raise ValueError(
            f"{num_snapshots} snapshots adding {fraction} of the edges each need {num_snapshots * fraction:g} "
            "of them; lower num_snapshots or fraction so that their product is at most 1"
        )


def _snapshot_sizes(m: int, num_snapshots: int, fraction: float) -> list[int]:
    """How many of the ``m`` edges each snapshot holds: ``m - round((K - k) f m)``, ``k = 1..K``."""
    return [m - round((num_snapshots - k) * fraction * m) for k in range(1, num_snapshots + 1)]


# ---------------------------------------------------------------- dynamic TSP


def moving_city_snapshots(xy: ArrayLike, num_positions: int = 5, seed: int | None = 0) -> list[np.ndarray]:
    """Coordinates of the cities ``xy`` plus one city moving along a straight line among them.

    The line runs between two points drawn uniformly from the convex hull of the cities (with
    ``numpy.random.default_rng(seed)``), so the whole segment lies inside the region the cities
    span, and within their bounding box; the new city is recorded at ``num_positions`` equally
    spaced points of it, both ends included.

    Args:
        xy: ``[n, 2]`` coordinates of at least 3 cities that are not all on one line.
        num_positions: how many positions of the moving city, at least 1 (1: its start only).
        seed: the seed of the line; the same seed gives the same line.

    Returns:
        ``num_positions`` arrays of shape ``[n + 1, 2]``: the cities ``xy`` unchanged, then the
        moving city.

    Raises:
        ValueError: ``num_positions`` is not a positive integer.
        InvalidModelError: ``xy`` is not an ``[n, 2]`` array of finite numbers, or the cities span
            no area (fewer than 3, or all on one line).

    Example:
        >>> import numpy as np
        >>> from gnnsolve.adapters.dynamic import moving_city_snapshots
        >>> triangle = np.array([[0.0, 0.0], [6.0, 0.0], [0.0, 6.0]])
        >>> snapshots = moving_city_snapshots(triangle, num_positions=5, seed=1)
        >>> moving = np.array([snapshot[3] for snapshot in snapshots])
        >>> bool(np.all(moving >= 0) and np.all(moving.sum(axis=1) <= 6))  # inside the triangle
        True
        >>> bool(np.allclose(np.diff(moving, n=2, axis=0), 0))  # equally spaced on a line
        True
    """
    points = _planar_points(xy)
    return [np.vstack([points, position]) for position in _moving_positions(points, num_positions, seed)]


def moving_city_tsp_snapshots(instance: TSPLIBInstance, num_positions: int = 5, seed: int | None = 0) -> list[np.ndarray]:
    """Distance matrices of a TSPLIB instance plus one city moving along a straight line.

    The line is that of :func:`moving_city_snapshots`. Distances follow the instance's own
    TSPLIB rule (``EUC_2D``, ``CEIL_2D``, ``ATT`` or ``GEO``) for the moving city too, so the
    block of the original cities is exactly ``instance.distance_matrix()``. ``GEO`` coordinates
    (latitude and longitude written as degrees.minutes) are turned into decimal degrees, the line
    is drawn there (straight in latitude and longitude, not a great circle), and each position is
    written back as degrees.minutes.

    Args:
        instance: a TSPLIB instance with node coordinates, e.g. from
            :func:`~gnnsolve.adapters.datasets.read_tsplib`.
        num_positions, seed: as for :func:`moving_city_snapshots`.

    Returns:
        ``num_positions`` symmetric ``int64`` matrices of shape ``[n + 1, n + 1]`` with a zero
        diagonal; the moving city is the last, ``n``. ``TSP(matrix)`` numbers the cities
        ``0..n``.

    Raises:
        UnsupportedModelError: the instance has EXPLICIT weights, so a new city has no distances.
        ValueError, InvalidModelError: as for :func:`moving_city_snapshots`.

    Example:
        >>> import pathlib, tempfile
        >>> from gnnsolve.adapters.datasets import read_tsplib
        >>> from gnnsolve.adapters.dynamic import moving_city_tsp_snapshots
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "square.tsp"
        >>> _ = path.write_text(
        ...     "NAME: square\\nTYPE: TSP\\nDIMENSION: 4\\nEDGE_WEIGHT_TYPE: EUC_2D\\n"
        ...     "NODE_COORD_SECTION\\n1 0 0\\n2 10 0\\n3 10 10\\n4 0 10\\nEOF\\n"
        ... )
        >>> matrices = moving_city_tsp_snapshots(read_tsplib(path), num_positions=2, seed=0)
        >>> len(matrices), matrices[0].shape, matrices[0].dtype
        (2, (5, 5), dtype('int64'))
        >>> matrices[0][:4, :4].tolist()
        [[0, 10, 14, 10], [10, 0, 10, 14], [14, 10, 0, 10], [10, 14, 10, 0]]
    """
    if instance.edge_weight_type not in _COORDINATE_TYPES or instance.coordinates is None:
        raise UnsupportedModelError(
            f"instance {instance.name!r} has EDGE_WEIGHT_TYPE {instance.edge_weight_type}; a moving city needs "
            f"distances computed from coordinates ({', '.join(_COORDINATE_TYPES)})"
        )
    cities = np.asarray(instance.coordinates, dtype=float)
    geo = instance.edge_weight_type == "GEO"
    plane = geo_degrees(cities) if geo else cities
    matrices = []
    for position in _moving_positions(_planar_points(plane), num_positions, seed):
        city = _degrees_to_geo(position) if geo else position
        moved = dataclasses.replace(instance, dimension=len(cities) + 1, coordinates=np.vstack([cities, city]))
        matrices.append(moved.distance_matrix().astype(np.int64))
    return matrices


def _planar_points(xy: ArrayLike) -> np.ndarray:
    try:
        points = np.array(xy, dtype=float)
    except (TypeError, ValueError) as err:
        raise InvalidModelError(f"the coordinates must be numbers: {err}") from None
    if points.ndim != 2 or points.shape[1] != 2:
        raise InvalidModelError(f"the coordinates must be an [n, 2] array, got shape {points.shape}")
    if not np.isfinite(points).all():
        raise InvalidModelError("the coordinates must be finite numbers")
    return points


def _moving_positions(points: np.ndarray, num_positions: int, seed: int | None) -> np.ndarray:
    """``[num_positions, 2]`` equally spaced points of a random segment inside the hull of ``points``."""
    if isinstance(num_positions, bool) or not isinstance(num_positions, numbers.Integral) or num_positions < 1:
        raise ValueError(f"num_positions must be a positive integer, got {num_positions!r}")
    try:
        hull = ConvexHull(points)
    except (QhullError, ValueError):
        raise InvalidModelError(
            f"the {len(points)} cities span no area (fewer than 3, or all on one line), "
            "so there is no region for a city to move in"
        ) from None
    # the hull as a fan of triangles from its first corner (Qhull lists 2-D corners in order)
    corners = points[hull.vertices]
    apex, sides = corners[0], np.stack([corners[1:-1] - corners[0], corners[2:] - corners[0]], axis=1)
    first, second = sides[:, 0], sides[:, 1]
    areas = np.abs(first[:, 0] * second[:, 1] - first[:, 1] * second[:, 0])
    rng = np.random.default_rng(seed)
    ends = []
    for _ in range(2):  # a triangle by its area, then a point uniform in it
        triangle = sides[rng.choice(len(areas), p=areas / areas.sum())]
        u, v = rng.random(2)
        if u + v > 1:
            u, v = 1 - u, 1 - v
        ends.append(apex + u * triangle[0] + v * triangle[1])
    steps = np.linspace(0.0, 1.0, num_positions)[:, None]
    return ends[0] + steps * (ends[1] - ends[0])


def _degrees_to_geo(degrees: np.ndarray) -> np.ndarray:
    """Decimal degrees as TSPLIB GEO degrees.minutes: the inverse of :func:`~gnnsolve.adapters.tsplib.geo_degrees`."""
    whole = np.trunc(degrees)
    return whole + 3.0 * (degrees - whole) / 5.0
