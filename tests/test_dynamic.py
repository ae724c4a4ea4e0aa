"""Dynamic instances: edge snapshots of temporal networks and the moving city of dynamic TSP."""

from __future__ import annotations

import dataclasses
import itertools
import time

import networkx as nx
import numpy as np
import pytest
from scipy.spatial import Delaunay

from gnnsolve.adapters.datasets import (
    TemporalEdges,
    TSPLIBInstance,
    read_dblp_temporal,
    read_konect,
    read_tsplib,
    static_graph,
)
from gnnsolve.adapters.dynamic import (
    distinct_edges,
    edge_snapshots,
    moving_city_snapshots,
    moving_city_tsp_snapshots,
)
from gnnsolve.adapters.graphs import TSP, MaxCut, MaxIndependentSet
from gnnsolve.errors import InvalidModelError, UnsupportedModelError
from shared_data import DATA, needs_data


def temporal(events: list[tuple[int, int, float]], num_nodes: int = 8, directed: bool = False) -> TemporalEdges:
    """Events ``(u, v, time)`` in the given (file) order, every weight 1."""
    u, v, t = (np.array(column) for column in zip(*events))
    return TemporalEdges(num_nodes, u.astype(np.int64), v.astype(np.int64), np.ones(len(u)), t.astype(float), directed)


# Out of time order in the file; (2, 2) is a self-loop; (1, 0) and (3, 2) repeat pairs met earlier
# in time; (4, 5) at t=3 shares its time with (0, 1)'s repeat and comes later in the file.
EVENTS = temporal(
    [
        (3, 4, 6.0),
        (1, 0, 3.0),
        (0, 1, 1.0),
        (2, 2, 0.5),
        (4, 5, 3.0),
        (2, 3, 2.0),
        (3, 2, 0.0),
        (6, 5, 7.0),
        (5, 7, 8.0),
        (7, 0, 9.0),
    ],
    directed=True,
)
ORDER = [(2, 3), (0, 1), (4, 5), (3, 4), (5, 6), (5, 7), (0, 7)]
"""The distinct pairs of EVENTS by first occurrence in time."""


# ---------------------------------------------------------------- distinct edges


def test_distinct_edges_sorted_by_time_without_loops_or_repeats() -> None:
    assert [tuple(edge) for edge in distinct_edges(EVENTS).tolist()] == ORDER


def test_a_repeat_counts_at_its_first_event_in_time_not_in_the_file() -> None:
    late_first_in_file = temporal([(1, 0, 5.0), (2, 3, 1.0), (0, 1, 2.0)])
    assert distinct_edges(late_first_in_file).tolist() == [[2, 3], [0, 1]]


def test_events_at_the_same_time_keep_their_file_order() -> None:
    simultaneous = temporal([(4, 5, 1.0), (0, 1, 1.0), (2, 3, 1.0), (1, 0, 1.0)])
    assert distinct_edges(simultaneous).tolist() == [[4, 5], [0, 1], [2, 3]]


# ---------------------------------------------------------------- edge snapshots


def test_snapshot_sizes_follow_the_final_graph() -> None:
    sizes = [G.number_of_edges() for G in edge_snapshots(EVENTS, num_snapshots=3, fraction=0.25)]
    assert sizes == [7 - round(2 * 0.25 * 7), 7 - round(0.25 * 7), 7] == [3, 5, 7]  # 3.5 rounds to 4


def test_each_snapshot_holds_the_earliest_edges() -> None:
    for G in edge_snapshots(EVENTS, num_snapshots=7, fraction=1 / 7):
        assert {frozenset(edge) for edge in G.edges} == {frozenset(edge) for edge in ORDER[: G.number_of_edges()]}


def test_snapshots_are_nested_with_stable_nodes() -> None:
    snapshots = edge_snapshots(EVENTS, num_snapshots=7, fraction=1 / 7)
    assert [G.number_of_edges() for G in snapshots] == [1, 2, 3, 4, 5, 6, 7]
    nodes = {node for edge in ORDER for node in edge}
    for earlier, later in itertools.pairwise(snapshots):
        assert set(earlier.nodes) == set(later.nodes) == nodes
        assert all(later.has_edge(u, v) for u, v in earlier.edges)
    assert not any(nx.number_of_selfloops(G) for G in snapshots)
    assert all(not G.is_directed() for G in snapshots)


def test_nodes_are_those_of_the_edges() -> None:
    # node 6 of 9 appears only in a self-loop and node 8 in no event: neither is in a snapshot
    events = temporal([(0, 1, 0.0), (6, 6, 1.0), (1, 2, 2.0)], num_nodes=9)
    for G in edge_snapshots(events, num_snapshots=2, fraction=0.5):
        assert sorted(G.nodes) == [0, 1, 2]


def test_reverse_deletes_edges_fullest_first() -> None:
    forward = edge_snapshots(EVENTS, num_snapshots=3, fraction=0.25)
    backward = edge_snapshots(EVENTS, num_snapshots=3, fraction=0.25, reverse=True)
    assert [G.number_of_edges() for G in backward] == [7, 5, 3]
    for G, H in zip(backward, reversed(forward)):
        assert nx.utils.edges_equal(G.edges, H.edges) and set(G.nodes) == set(H.nodes)
    for earlier, later in itertools.pairwise(backward):
        assert all(earlier.has_edge(u, v) for u, v in later.edges)


def test_one_snapshot_is_the_whole_graph_when_fraction_covers_it() -> None:
    (G,) = edge_snapshots(EVENTS, num_snapshots=1, fraction=1.0)
    assert G.number_of_edges() == len(ORDER)


def test_snapshots_are_problems_a_solver_takes() -> None:
    for G in edge_snapshots(EVENTS, num_snapshots=2, fraction=0.5):
        assert MaxCut(G).bqm.num_variables == MaxIndependentSet(G).bqm.num_variables == G.number_of_nodes()


@pytest.mark.parametrize(
    ("num_snapshots", "fraction", "message"),
    [
        (0, 0.1, "num_snapshots must be a positive integer"),
        (2.0, 0.1, "num_snapshots must be a positive integer"),
        (True, 0.1, "num_snapshots must be a positive integer"),
        (10, 0.0, "fraction must be a positive number"),
        (10, -0.1, "fraction must be a positive number"),
        (10, float("nan"), "fraction must be a positive number"),
        (10, "0.1", "fraction must be a positive number"),
        (11, 0.1, "product is at most 1"),
        (2, 0.6, "product is at most 1"),
    ],
)
def test_bad_arguments_are_rejected(num_snapshots: object, fraction: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        edge_snapshots(EVENTS, num_snapshots=num_snapshots, fraction=fraction)


def test_a_network_of_self_loops_has_no_snapshots() -> None:
    with pytest.raises(InvalidModelError, match="no two distinct nodes"):
        edge_snapshots(temporal([(1, 1, 0.0), (2, 2, 1.0)]))
    empty = TemporalEdges(3, np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros(0), False)
    with pytest.raises(InvalidModelError):
        edge_snapshots(empty)


# ---------------------------------------------------------------- benchmark networks


@needs_data
@pytest.mark.parametrize(
    ("path", "nodes", "pairs"),
    [
        ("konect_sociopatterns-infectious/out.sociopatterns-infectious", 410, 2765),
        ("konect_opsahl-ucsocial/out.opsahl-ucsocial", 1899, 13838),
    ],
)
def test_konect_networks_grow_by_tenths(path: str, nodes: int, pairs: int) -> None:
    events = read_konect(DATA / path)
    snapshots = edge_snapshots(events)
    assert len(distinct_edges(events)) == pairs
    assert [G.number_of_edges() for G in snapshots] == [pairs - round((10 - k) * 0.1 * pairs) for k in range(1, 11)]
    assert all(abs(G.number_of_edges() - k * pairs / 10) <= 1 for k, G in enumerate(snapshots, start=1))
    assert nx.utils.graphs_equal(snapshots[-1], static_graph(events).subgraph(snapshots[-1].nodes))
    assert {G.number_of_nodes() for G in snapshots} == {nodes}


@needs_data
def test_dblp_snapshots_add_two_percent_up_to_the_whole_graph() -> None:
    start = time.perf_counter()
    events = read_dblp_temporal(DATA / "dblp_temporal" / "dblp.txt")
    snapshots = edge_snapshots(events, fraction=0.02)
    elapsed = time.perf_counter() - start
    pairs = 119_899
    assert [G.number_of_edges() for G in snapshots] == [pairs - round((10 - k) * 0.02 * pairs) for k in range(1, 11)]
    assert snapshots[0].number_of_edges() == round(0.82 * pairs)
    assert elapsed < 30.0, f"DBLP snapshots took {elapsed:.1f} s; about 3 s is usual"  # no quadratic step


# ---------------------------------------------------------------- moving city


CITIES = np.random.default_rng(7).uniform(0, 100, size=(12, 2))


def moving(snapshots: list[np.ndarray]) -> np.ndarray:
    return np.array([snapshot[-1] for snapshot in snapshots])


def test_the_moving_city_goes_last_and_the_others_stay() -> None:
    snapshots = moving_city_snapshots(CITIES, num_positions=5, seed=3)
    assert len(snapshots) == 5
    for snapshot in snapshots:
        assert snapshot.shape == (13, 2)
        np.testing.assert_array_equal(snapshot[:12], CITIES)


def test_positions_are_equally_spaced_on_a_segment() -> None:
    path = moving(moving_city_snapshots(CITIES, num_positions=6, seed=3))
    steps = np.diff(path, axis=0)
    np.testing.assert_allclose(steps, np.broadcast_to(steps[0], steps.shape), atol=1e-9)
    assert np.linalg.norm(steps[0]) > 0


def test_positions_lie_inside_the_cities_region() -> None:
    hull = Delaunay(CITIES)
    for seed in range(20):
        path = moving(moving_city_snapshots(CITIES, num_positions=5, seed=seed))
        assert np.all(path >= CITIES.min(axis=0)) and np.all(path <= CITIES.max(axis=0))
        assert np.all(hull.find_simplex(path) >= 0)


def test_the_seed_fixes_the_line() -> None:
    first = moving(moving_city_snapshots(CITIES, seed=11))
    np.testing.assert_array_equal(first, moving(moving_city_snapshots(CITIES, seed=11)))
    assert not np.allclose(first, moving(moving_city_snapshots(CITIES, seed=12)))


def test_a_single_position_is_the_start() -> None:
    (only,) = moving_city_snapshots(CITIES, num_positions=1, seed=3)
    np.testing.assert_array_equal(only[-1], moving_city_snapshots(CITIES, num_positions=4, seed=3)[0][-1])


@pytest.mark.parametrize("num_positions", [0, -1, 2.5, True])
def test_bad_position_counts_are_rejected(num_positions: object) -> None:
    with pytest.raises(ValueError, match="num_positions"):
        moving_city_snapshots(CITIES, num_positions=num_positions)


@pytest.mark.parametrize(
    "xy",
    [
        [[0, 0], [1, 1], [2, 2]],  # on one line
        [[0, 0], [1, 0]],  # too few
        [[0, 0, 0], [1, 0, 0], [0, 1, 0]],  # not planar
        [[0, 0], [1, 0], [0, float("inf")]],
        [["a", 0], [1, 0], [0, 1]],
    ],
)
def test_cities_that_span_no_region_are_rejected(xy: list) -> None:
    with pytest.raises(InvalidModelError):
        moving_city_snapshots(xy)


# ---------------------------------------------------------------- moving city on TSPLIB


def euclidean_instance(xy: np.ndarray) -> TSPLIBInstance:
    return TSPLIBInstance("cities", "", "TSP", len(xy), "EUC_2D", None, np.asarray(xy, float), None)


def test_tsp_matrices_are_symmetric_integer_and_extend_the_instance() -> None:
    instance = euclidean_instance(CITIES)
    matrices = moving_city_tsp_snapshots(instance, num_positions=5, seed=2)
    path = moving(moving_city_snapshots(CITIES, num_positions=5, seed=2))
    assert len(matrices) == 5
    for matrix, city in zip(matrices, path):
        assert matrix.shape == (13, 13) and matrix.dtype == np.int64
        np.testing.assert_array_equal(matrix, matrix.T)
        np.testing.assert_array_equal(np.diag(matrix), 0)
        np.testing.assert_array_equal(matrix[:12, :12], instance.distance_matrix())
        expected = np.floor(np.linalg.norm(CITIES - city, axis=1) + 0.5)  # TSPLIB's nint
        np.testing.assert_array_equal(matrix[12, :12], expected)
    TSP(matrices[0])  # a valid instance, cities 0..12


def test_explicit_instances_have_no_room_for_a_moving_city() -> None:
    instance = dataclasses.replace(
        euclidean_instance(CITIES[:3]), edge_weight_type="EXPLICIT", edge_weights=np.ones((3, 3)) - np.eye(3)
    )
    with pytest.raises(UnsupportedModelError, match="EXPLICIT"):
        moving_city_tsp_snapshots(instance)


@needs_data
@pytest.mark.parametrize("name", ["burma14", "ulysses22", "st70"])
def test_tsplib_instances_keep_their_distances(name: str) -> None:
    instance = read_tsplib(DATA / "tsplib" / f"{name}.tsp")
    matrices = moving_city_tsp_snapshots(instance, num_positions=5, seed=0)
    n = instance.dimension
    original = instance.distance_matrix()
    assert len(matrices) == 5
    for matrix in matrices:
        assert matrix.shape == (n + 1, n + 1) and matrix.dtype == np.int64
        np.testing.assert_array_equal(matrix, matrix.T)
        np.testing.assert_array_equal(matrix[:n, :n], original)
        assert np.all(matrix[n, :n] > 0)
    assert not np.array_equal(matrices[0][n], matrices[-1][n])


def great_circle_km(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Haversine distance on TSPLIB's sphere (radius 6378.388 km) between decimal-degree points."""
    (lat_a, lon_a), (lat_b, lon_b) = np.radians(a).T, np.radians(b).T
    h = np.sin((lat_b - lat_a) / 2) ** 2 + np.cos(lat_a) * np.cos(lat_b) * np.sin((lon_b - lon_a) / 2) ** 2
    return 2 * 6378.388 * np.arcsin(np.sqrt(h))


@needs_data
@pytest.mark.parametrize("name", ["burma14", "ulysses22"])
def test_geo_moving_city_is_placed_in_degrees_and_measured_by_the_geo_rule(name: str) -> None:
    instance = read_tsplib(DATA / "tsplib" / f"{name}.tsp")
    assert instance.edge_weight_type == "GEO"
    n, coordinates = instance.dimension, instance.coordinates
    whole = np.trunc(coordinates)
    degrees = whole + (coordinates - whole) * 100 / 60  # degrees.minutes -> decimal degrees
    matrices = moving_city_tsp_snapshots(instance, num_positions=5, seed=5)
    path = moving(moving_city_snapshots(degrees, num_positions=5, seed=5))
    for matrix, city in zip(matrices, path):
        # GEO truncates and adds 1 km; PI = 3.141592 changes little more
        assert np.all(np.abs(matrix[n, :n] - great_circle_km(degrees, city[None, :])) <= 2)
