"""Local search that polishes clustering decisions: node moves for modularity, facility swaps for k-center."""

from __future__ import annotations

import itertools
import time

import networkx as nx
import numpy as np
import pytest
import scipy.sparse
from hypothesis import given, settings
from hypothesis import strategies as st

from gnnsolve.adapters.clustering import KCenter, Modularity
from gnnsolve.search.clustering import k_center_swaps, modularity_moves, partition_moves


def random_graph(n: int, p: float, seed: int) -> nx.Graph:
    G = nx.gnp_random_graph(n, p, seed=seed)
    if G.number_of_edges() == 0:
        G.add_edge(0, 1)
    return G


def q(problem: Modularity, labels: np.ndarray) -> float:
    return problem.evaluate(dict(zip(problem.nodes, labels.tolist())))


def radius(distances: np.ndarray, chosen) -> float:
    return float(distances[:, list(chosen)].min(axis=1).max())


@settings(max_examples=40, deadline=None)
@given(n=st.integers(2, 14), p=st.floats(0.1, 0.9), k=st.integers(1, 5), seed=st.integers(0, 10**6))
def test_node_moves_reach_a_local_optimum_without_losing_modularity(n, p, k, seed):
    G = random_graph(n, p, seed)
    problem = Modularity(G, min(k, n))
    k = problem.k
    start = np.random.default_rng(seed).integers(k, size=n)
    moved = modularity_moves(problem.adjacency, start, k)
    assert moved.min() >= 0 and moved.max() < k
    assert q(problem, moved) >= q(problem, start) - 1e-12
    best_single_move = max(q(problem, np.where(np.arange(n) == i, c, moved)) for i in range(n) for c in range(k))
    assert best_single_move <= q(problem, moved) + 1e-9
    best_merge = max(
        (q(problem, np.where(moved == b, a, moved)) for a, b in itertools.combinations(set(moved.tolist()), 2)),
        default=-1.0,
    )
    assert best_merge <= q(problem, moved) + 1e-9


def test_merges_join_communities_that_node_moves_cannot():
    G = nx.barbell_graph(6, 0)
    split = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2, 2, 2, 2])  # one clique cut in half
    problem = Modularity(G, 3)
    moved = modularity_moves(problem.adjacency, split, 3)
    assert len(set(moved.tolist())) == 2
    assert q(problem, moved) == pytest.approx(max(q(problem, np.array(c)) for c in itertools.product(range(2), repeat=12)))


def test_node_moves_count_self_loops_and_weights_as_networkx():
    G = nx.Graph()
    G.add_weighted_edges_from([(0, 1, 3.0), (1, 2, 0.5), (2, 3, 3.0), (3, 3, 2.0), (0, 0, 1.0), (1, 4, 0.2)])
    problem = Modularity(G, 3, weight="weight")
    for start in itertools.product(range(3), repeat=5):
        moved = modularity_moves(problem.adjacency, np.array(start), 3)
        assert q(problem, moved) >= q(problem, np.array(start)) - 1e-12
        neighbours = [np.where(np.arange(5) == i, c, moved) for i in range(5) for c in range(3)]
        assert max(q(problem, labels) for labels in neighbours) <= q(problem, moved) + 1e-12


def test_node_moves_refuse_bad_labels():
    A = Modularity(nx.path_graph(4), 2).adjacency
    with pytest.raises(ValueError, match="0..1"):
        modularity_moves(A, np.array([0, 1, 2, 0]), 2)
    with pytest.raises(ValueError, match="one community"):
        modularity_moves(A, np.array([0, 1]), 2)
    with pytest.raises(ValueError, match="without edges"):
        modularity_moves(np.zeros((3, 3)), np.zeros(3, dtype=int), 2)


def signed_weights(n: int, density: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    W = np.triu(rng.normal(size=(n, n)) * (rng.random((n, n)) < density), 1)
    return W + W.T


def within(W: np.ndarray, labels: np.ndarray) -> float:
    """The pairwise objective: the total weight of the pairs in one cluster."""
    return float(np.triu(W * (labels[:, None] == labels[None, :]), 1).sum())


@settings(max_examples=60, deadline=None)
@given(n=st.integers(2, 10), density=st.floats(0.2, 1.0), k=st.integers(1, 4), seed=st.integers(0, 10**6), sparse=st.booleans())
def test_pairwise_moves_reach_a_local_optimum_without_losing_weight(n, density, k, seed, sparse):
    W = signed_weights(n, density, seed)
    start = np.random.default_rng(seed + 1).integers(k, size=n)
    moved = partition_moves(scipy.sparse.csr_matrix(W) if sparse else W, start, k)
    assert moved.min() >= 0 and moved.max() < k
    assert within(W, moved) >= within(W, start) - 1e-12
    best_single_move = max(within(W, np.where(np.arange(n) == i, c, moved)) for i in range(n) for c in range(k))
    assert best_single_move <= within(W, moved) + 1e-9
    best_merge = max(
        (within(W, np.where(moved == b, a, moved)) for a, b in itertools.combinations(set(moved.tolist()), 2)),
        default=-np.inf,
    )
    assert best_merge <= within(W, moved) + 1e-9


def test_pairwise_moves_split_what_repels_and_join_what_attracts():
    W = np.array([[0, 2, -3, -3], [2, 0, -3, -3], [-3, -3, 0, 3], [-3, -3, 3, 0]], dtype=float)
    for start in itertools.product(range(3), repeat=4):
        moved = partition_moves(W, np.array(start), 3)
        assert within(W, moved) == 5.0
        assert moved[0] == moved[1] != moved[2] == moved[3]
    assert partition_moves(-np.abs(W), np.zeros(4, dtype=int), 4).tolist() in (list(p) for p in itertools.permutations(range(4)))


def test_partition_moves_with_degrees_is_modularity():
    problem = Modularity(nx.barbell_graph(5, 2), 3)
    start = np.random.default_rng(0).integers(3, size=len(problem.nodes))
    A = problem.adjacency
    assert partition_moves(A, start, 3, np.asarray(A.sum(axis=1)).ravel()).tolist() == modularity_moves(A, start, 3).tolist()


def test_partition_moves_refuse_bad_input():
    W = signed_weights(4, 1.0, 0)
    with pytest.raises(ValueError, match="symmetric"):
        partition_moves(np.triu(W), np.zeros(4, dtype=int), 2)
    with pytest.raises(ValueError, match="symmetric"):
        partition_moves(np.where(W > 0, np.inf, W), np.zeros(4, dtype=int), 2)
    with pytest.raises(ValueError, match="0..1"):
        partition_moves(W, np.array([0, 1, 2, 0]), 2)
    with pytest.raises(ValueError, match="positive sum"):
        partition_moves(W, np.zeros(4, dtype=int), 2, degree=np.zeros(4))
    with pytest.raises(ValueError, match="positive sum"):
        partition_moves(W, np.zeros(4, dtype=int), 2, degree=np.ones(3))


@settings(max_examples=40, deadline=None)
@given(n=st.integers(3, 12), p=st.floats(0.15, 0.8), k=st.integers(1, 4), seed=st.integers(0, 10**6))
def test_facility_swaps_never_raise_the_radius_and_end_at_a_swap_optimum(n, p, k, seed):
    problem = KCenter(random_graph(n, p, seed), min(k, n))
    D = problem.capped_distances
    start = np.random.default_rng(seed).choice(n, problem.k, replace=False).tolist()
    swapped = k_center_swaps(D, start)
    assert len(set(swapped)) == problem.k
    assert radius(D, swapped) <= radius(D, start)
    best_swap = (
        min(radius(D, [v if f == out else f for f in swapped]) for out in swapped for v in range(n) if v not in swapped)
        if problem.k < n
        else radius(D, swapped)
    )
    assert best_swap >= radius(D, swapped)


def test_facility_swaps_find_the_optimum_of_a_grid():
    problem = KCenter(nx.grid_2d_graph(5, 5), 1)
    assert radius(problem.capped_distances, k_center_swaps(problem.capped_distances, [0])) == 4.0  # the centre
    cycle = KCenter(nx.cycle_graph(12), 3)
    assert radius(cycle.capped_distances, k_center_swaps(cycle.capped_distances, [0, 1, 2])) == 2.0


def test_facility_swaps_refuse_bad_input():
    D = KCenter(nx.path_graph(4), 2).capped_distances
    with pytest.raises(ValueError, match="distinct"):
        k_center_swaps(D, [1, 1])
    with pytest.raises(ValueError, match="distinct"):
        k_center_swaps(D, [])
    with pytest.raises(ValueError, match="cap unreachable"):
        k_center_swaps(np.array([[0.0, np.inf], [np.inf, 0.0]]), [0])
    assert k_center_swaps(D, [3, 2, 1, 0]) == [0, 1, 2, 3]


def test_a_passed_deadline_leaves_the_state_as_it_is():
    problem = Modularity(random_graph(30, 0.2, 0), 3)
    start = np.random.default_rng(0).integers(3, size=30)
    assert modularity_moves(problem.adjacency, start, 3, deadline=time.perf_counter()).tolist() == start.tolist()
    D = KCenter(nx.cycle_graph(12), 3).capped_distances
    assert k_center_swaps(D, [2, 1, 0], deadline=time.perf_counter()) == [0, 1, 2]


def test_node_moves_stop_at_the_deadline_with_a_better_partition():
    problem = Modularity(nx.random_regular_graph(3, 20_000, seed=0), 10)  # one pass takes far longer than 0.05 s
    start = np.random.default_rng(0).integers(10, size=20_000)
    began = time.perf_counter()
    moved = modularity_moves(problem.adjacency, start, 10, deadline=began + 0.05)
    assert time.perf_counter() - began < 0.05 * 1.5 + 1.0
    assert moved.min() >= 0 and moved.max() < 10
    assert q(problem, start) < q(problem, moved)
