"""GAEC and KLj against python-elf's multicut solvers (bioimage-cpp), partition for partition.

elf is handed the nonzero edges in the graph's order, as ``benchmarks/multicut.py`` hands them;
the tests are skipped where elf is not installed.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from gnnsolve.search.multicut import SignedGraph, gaec, kernighan_lin_joins

elf_multicut = pytest.importorskip("elf.segmentation.multicut")
bioimage_cpp = pytest.importorskip("bioimage_cpp")


def modularity(G: nx.Graph) -> SignedGraph:
    """The CP-Lib matrix of modularity clustering, :math:`w_{ij} = 2m A_{ij} - d_i d_j` on every pair."""
    adjacency = nx.to_numpy_array(G, weight=None)
    degrees = adjacency.sum(axis=1)
    rows, cols = np.triu_indices(len(adjacency), 1)
    weights = adjacency.sum() * adjacency[rows, cols] - degrees[rows] * degrees[cols]
    return SignedGraph.from_arrays(rows, cols, weights, len(adjacency))


def random_signed(kind: str, n: int, seed: int, integer: bool) -> SignedGraph:
    """Erdős–Rényi (p = 0.3) or Barabási–Albert (m = 2) with weights U(-1, 1) or in -3..3 (ties)."""
    G = nx.erdos_renyi_graph(n, 0.3, seed=seed) if kind == "er" else nx.barabasi_albert_graph(n, 2, seed=seed)
    rng = np.random.default_rng(seed)
    edges = np.array(sorted(G.edges()), dtype=np.int64)
    weights = rng.integers(-3, 4, len(edges)).astype(float) if integer else rng.uniform(-1, 1, len(edges))
    return SignedGraph.from_arrays(edges[:, 0], edges[:, 1], weights, n)


INSTANCES = {
    "karate-modularity": modularity(nx.karate_club_graph()),  # integer weights, many ties
    "er-30-integer": random_signed("er", 30, 3, integer=True),
    "er-50-integer": random_signed("er", 50, 4, integer=True),
    "ba-60-integer": random_signed("ba", 60, 5, integer=True),
    "er-60-real": random_signed("er", 60, 6, integer=False),
    "ba-80-real": random_signed("ba", 80, 7, integer=False),
    # mean degree 45: GAEC contracts on the dense matrix, KLj runs its chains on vectors
    "er-150-real": random_signed("er", 150, 9, integer=False),
    "er-150-integer": random_signed("er", 150, 10, integer=True),
}


def elf_objective(graph: SignedGraph):
    """bioimage-cpp's graph of the nonzero edges, in the graph's order, and their costs."""
    nonzero = graph.weights != 0
    uv = np.stack([graph.rows[nonzero], graph.cols[nonzero]], axis=1).astype("uint64")
    elf_graph = bioimage_cpp.graph.UndirectedGraph.from_edges(graph.num_nodes, uv)
    assert np.array_equal(np.asarray(elf_graph.uv_ids(), dtype=np.int64), uv)  # elf keeps the order
    return elf_graph, graph.weights[nonzero]


def as_partition(graph: SignedGraph, labels) -> dict:
    return graph.as_dict(graph.canonical(np.asarray(labels, dtype=np.int64)))


@pytest.mark.parametrize("name", sorted(INSTANCES))
def test_gaec_and_klj_give_elfs_partitions(name: str) -> None:
    graph = INSTANCES[name]
    elf_graph, costs = elf_objective(graph)
    greedy = gaec(graph)
    assert greedy == as_partition(graph, elf_multicut.multicut_gaec(elf_graph, costs))
    assert kernighan_lin_joins(graph, greedy) == as_partition(graph, elf_multicut.multicut_kernighan_lin(elf_graph, costs))


@pytest.mark.parametrize(
    ("kind", "n", "seed", "integer", "clusters"),
    [
        ("er", 30, 1, True, 8),  # nodes come back to clusters they left and are queued twice
        ("er", 40, 8, True, 8),
        ("er", 60, 27, True, 30),  # a node queued twice: heap membership follows the border count
        ("er", 50, 21, False, 25),
        ("ba", 50, 10, False, 25),  # later iterations look only at the clusters that changed
        ("er", 50, 4, True, 2),
    ],
)
def test_klj_from_a_given_partition_gives_elfs(kind: str, n: int, seed: int, integer: bool, clusters: int) -> None:
    graph = random_signed(kind, n, seed, integer)
    elf_graph, costs = elf_objective(graph)
    start = np.random.default_rng(clusters).integers(0, clusters, n)
    objective = bioimage_cpp.graph.multicut.MulticutObjective(elf_graph, costs, start)
    theirs = bioimage_cpp.graph.multicut.KernighanLinMulticut().optimize(objective)
    assert kernighan_lin_joins(graph, start.tolist()) == as_partition(graph, theirs)


def test_gaec_breaks_ties_as_elf() -> None:
    graph = SignedGraph.from_arrays([0, 0, 0, 0, 2, 3], [1, 2, 3, 4, 3, 4], [-1.0, -1.0, 2.0, -2.0, 2.0, 2.0], 5)
    elf_graph, costs = elf_objective(graph)
    assert gaec(graph) == as_partition(graph, elf_multicut.multicut_gaec(elf_graph, costs)) == {0: 0, 1: 1, 2: 2, 3: 2, 4: 2}
