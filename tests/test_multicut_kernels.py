"""The compiled multicut kernels give the partitions of the numpy and Python loops, bit for bit.

Both paths must agree on every graph, ties included: the kernels are only a faster way to run
the same steps (and the loops are what runs where numba is not installed).
"""

from __future__ import annotations

import math
import time

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gnnsolve.search import multicut, multicut_kernels
from gnnsolve.search.multicut import SignedGraph, _gaec, _kernighan_lin_joins

pytestmark = pytest.mark.skipif(not multicut_kernels.AVAILABLE, reason="numba is not installed (the `fast` extra)")


def signed_graph(n: int, p: float, seed: int, integer: bool, family: str) -> SignedGraph:
    """ER or BA with weights U(-1, 1), or in -3..3 (many ties, zeros included)."""
    G = nx.gnp_random_graph(n, p, seed=seed) if family == "er" else nx.barabasi_albert_graph(max(n, 3), 2, seed=seed)
    rng = np.random.default_rng(seed)
    edges = np.array(sorted(G.edges()), dtype=np.int64).reshape(-1, 2)
    weights = rng.integers(-3, 4, len(edges)).astype(float) if integer else rng.uniform(-1, 1, len(edges))
    return SignedGraph.from_arrays(edges[:, 0], edges[:, 1], weights, G.number_of_nodes())


def both_ways(compute):
    """``compute()`` with the kernels, then with the loops."""
    with pytest.MonkeyPatch.context() as patch:
        compiled = compute()
        patch.setattr(multicut_kernels, "AVAILABLE", False)
        return compiled, compute()


def same(compiled, loops) -> bool:
    """Whether two answers (an array, or a tuple of arrays) are equal, element for element."""

    def as_tuple(answer):
        return answer if isinstance(answer, tuple) else (answer,)

    return all(np.array_equal(a, b) for a, b in zip(as_tuple(compiled), as_tuple(loops), strict=True))


graphs = st.builds(
    signed_graph,
    n=st.integers(1, 80),
    p=st.floats(0.02, 1.0),
    seed=st.integers(0, 10**6),
    integer=st.booleans(),
    family=st.sampled_from(["er", "ba"]),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graph=graphs, clusters=st.integers(1, 8), seed=st.integers(0, 10**6))
def test_gaec_and_klj_give_the_loops_partitions(graph, clusters, seed):
    start = np.random.default_rng(seed).integers(0, clusters, graph.num_nodes)
    for compute in (
        lambda: graph.canonical(_gaec(graph)),
        lambda: _kernighan_lin_joins(graph, start),
        lambda: _kernighan_lin_joins(graph, np.arange(graph.num_nodes)),
        lambda: _kernighan_lin_joins(graph, _gaec(graph)),
    ):
        compiled, loops = both_ways(compute)
        assert np.array_equal(compiled, loops)


@settings(max_examples=40, deadline=None)
@given(graph=graphs)
def test_the_dense_contraction_gives_the_loops_parents(graph):
    weights = multicut._dense_weights(graph.num_nodes, graph.rows, graph.cols, graph.weights)
    compiled, loops = both_ways(lambda: multicut._contract_dense(weights.copy()))
    assert compiled == loops


@settings(max_examples=40, deadline=None)
@given(graph=graphs, clusters=st.integers(1, 5), seed=st.integers(0, 10**6))
def test_the_structure_kernels_give_numpys_arrays(graph, clusters, seed):
    labels = np.random.default_rng(seed).integers(0, clusters, graph.num_nodes)
    compiled, loops = both_ways(lambda: graph.canonical(labels))
    assert np.array_equal(compiled, loops)
    assert same(*both_ways(lambda: multicut._incidence_arrays(graph.num_nodes, graph.rows, graph.cols, graph.weights)))
    numbered = multicut._number_in_order(labels)
    moved = np.where(np.arange(graph.num_nodes) % 3 == 0, 0, numbered)
    for compute in (
        lambda: multicut._number_in_order(labels),
        lambda: multicut._changed_clusters(multicut._number_in_order(moved), numbered),
        lambda: multicut._KernighanLin(graph)._adjacent_clusters(numbered),
    ):
        assert same(*both_ways(compute))


def test_a_survivor_grows_its_neighbour_list_past_its_first_segment():
    # a path contracted from one end (weights falling along it), with repelling chords: the
    # survivor, of degree 2 at first, takes over every absorbed node's chords
    n = 300
    path = np.arange(n - 1)
    chords = np.arange(n - 7)
    rows = np.concatenate([path, chords])
    cols = np.concatenate([path + 1, chords + 7])
    weights = np.concatenate([np.linspace(10.0, 5.0, n - 1), np.full(n - 7, -0.1)])
    graph = SignedGraph.from_arrays(rows, cols, weights, n)
    compiled, loops = both_ways(lambda: graph.canonical(_gaec(graph)))
    assert np.array_equal(compiled, loops) and compiled.max() == 0


def test_a_passed_deadline_stops_the_kernels_with_valid_partitions():
    graph = signed_graph(400, 0.2, 3, False, "er")
    singletons = np.arange(graph.num_nodes)
    now = time.perf_counter()
    parent = multicut_kernels.contract_in_heap_order(graph.num_nodes, graph.rows, graph.cols, graph.weights, now)
    assert graph.cost(multicut._survivors(parent)) <= graph.cost(singletons)
    labels = singletons.copy()
    dirty = np.ones(graph.num_nodes, dtype=bool)
    pairs = np.stack([graph.rows, graph.cols], axis=1)
    bounds, others, attached = multicut._incidence_arrays(graph.num_nodes, graph.rows, graph.cols, graph.weights)
    improved, late = multicut_kernels.moves_and_splits(labels, dirty, pairs, bounds, others, attached, 1e-6, now)
    assert late and graph.cost(labels) <= graph.cost(singletons)
    full = singletons.copy()
    assert not multicut_kernels.moves_and_splits(full, dirty.copy(), pairs, bounds, others, attached, 1e-6, math.inf)[1]
