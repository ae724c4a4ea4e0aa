"""Multicut: the problem and its dimod models, GAEC, Kernighan–Lin joins and the cutting-plane ILP,
checked against brute force over every partition."""

from __future__ import annotations

import math

import dimod
import networkx as nx
import numpy as np
import pytest
from dwave.samplers import SimulatedAnnealingSampler, SteepestDescentSolver
from hypothesis import given, settings
from hypothesis import strategies as st

from gnnsolve import HiGHSSampler
from gnnsolve.adapters.datasets import cplib_catalogue
from gnnsolve.adapters.graphs import Multicut
from gnnsolve.adapters.multicut import MAX_BQM_TERMS, MAX_CQM_CONSTRAINTS
from gnnsolve.errors import InvalidModelError, ModelTooLargeError
from gnnsolve.search import multicut
from gnnsolve.search.multicut import SignedGraph, gaec, kernighan_lin_joins, multicut_cost
from gnnsolve.search.multicut_ilp import solve_multicut_ilp
from shared_data import DATA, needs_data


def set_partitions(n: int) -> np.ndarray:
    """Every partition of ``n`` nodes as a restricted growth string (Bell(n) rows)."""
    rows: list[list[int]] = [[]]
    for _ in range(n):
        rows = [row + [c] for row in rows for c in range(max(row, default=-1) + 2)]
    return np.array(rows, dtype=np.int64).reshape(-1, n)


def brute_force(G: nx.Graph) -> float:
    graph = SignedGraph.from_graph(G)
    partitions = set_partitions(graph.num_nodes)
    return float(((partitions[:, graph.rows] != partitions[:, graph.cols]) @ graph.weights).min())


def signed_graph(n: int, p: float, seed: int, integer: bool = False) -> nx.Graph:
    """Erdős–Rényi graph with weights uniform in (-1, 1), or in -3..3 (ties and zeros) when ``integer``."""
    G = nx.gnp_random_graph(n, p, seed=seed)
    rng = np.random.default_rng(seed)
    for u, v in G.edges:
        G[u][v]["weight"] = int(rng.integers(-3, 4)) if integer else float(rng.uniform(-1, 1))
    return G


def weighted(edges: list[tuple[int, int, float]], nodes: int | None = None) -> nx.Graph:
    G = nx.Graph()
    G.add_nodes_from(range(nodes or 0))
    G.add_weighted_edges_from(edges)
    return G


def two_triangles() -> nx.Graph:
    return weighted([(0, 1, 2), (1, 2, 2), (0, 2, 2), (3, 4, 2), (4, 5, 2), (3, 5, 2), (2, 3, -1)])


def complete(n: int, w: float) -> nx.Graph:
    G = nx.complete_graph(n)
    nx.set_edge_attributes(G, w, "weight")
    return G


RANDOM_GRAPHS = [signed_graph(5 + seed % 4, 0.6, seed, integer=seed % 2 == 1) for seed in range(20)]

# ---------------------------------------------------------------- hand-made graphs with known optima

KNOWN = {
    "two positive triangles joined by a negative edge": (two_triangles(), {0: 0, 1: 0, 2: 0, 3: 1, 4: 1, 5: 1}, -1.0),
    # (+1, +2, -3): the negative edge can only be cut with a positive one; the cheaper goes
    "frustrated triangle": (weighted([(0, 1, 1), (1, 2, 2), (0, 2, -3)]), {0: 0, 1: 1, 2: 1}, -2.0),
    "all positive, two components and an isolated node": (
        weighted([(0, 1, 1), (1, 2, 3), (3, 4, 2)], nodes=6),
        {0: 0, 1: 0, 2: 0, 3: 1, 4: 1, 5: 2},
        0.0,
    ),
    "all negative": (complete(4, -1.5), {0: 0, 1: 1, 2: 2, 3: 3}, -9.0),
    "zero weights do not matter": (weighted([(0, 1, 1), (1, 2, 0), (2, 3, 1)]), None, 0.0),
}


@pytest.mark.parametrize("name", list(KNOWN))
def test_heuristics_and_ilp_find_known_optima(name: str) -> None:
    G, labels, cost = KNOWN[name]
    greedy = gaec(G)
    improved = kernighan_lin_joins(G, greedy)
    exact = solve_multicut_ilp(G)
    for found in (improved, exact.labels):
        assert multicut_cost(G, found) == cost
        if labels is not None:
            assert found == labels
    assert exact.status == "optimal" and exact.cost == exact.bound == cost and exact.gap == 0.0
    assert brute_force(G) == cost


def test_gaec_contracts_the_heaviest_edge_first_and_sums_parallel_edges() -> None:
    # 0-1 (5) goes first; then {0,1}-2 carries 2 + (-3) = -1 and GAEC stops, though 1-2 alone is +2
    G = weighted([(0, 1, 5), (1, 2, 2), (0, 2, -3)])
    assert gaec(G) == {0: 0, 1: 0, 2: 1}
    assert multicut_cost(G, gaec(G)) == -1.0


def test_gaec_breaks_ties_in_heap_order() -> None:
    # three edges of weight 2: the heap, built bottom-up over the edges in order, has (2, 3) on top,
    # and (3, 4) follows; contracting (0, 3) first, the smallest pair, would end at cost -1
    G = weighted([(0, 1, -1), (0, 2, -1), (0, 3, 2), (0, 4, -2), (2, 3, 2), (3, 4, 2)])
    assert gaec(G) == {0: 0, 1: 1, 2: 2, 3: 2, 4: 2}
    assert multicut_cost(G, gaec(G)) == -2.0


def test_gaec_takes_the_lazy_heap_unless_the_largest_weight_ties() -> None:
    def partition(graph: SignedGraph, parent: list[int]) -> np.ndarray:
        labels = np.array(parent)
        while not np.array_equal(labels[labels], labels):
            labels = labels[labels]
        return graph.canonical(labels)

    for seed in range(10):
        graph = SignedGraph.from_graph(signed_graph(25, 0.4, seed))  # real weights: no ties
        arrays = (graph.num_nodes, graph.rows, graph.cols, graph.weights)
        untied = multicut._contract_while_untied(*arrays)
        assert untied is not None
        assert np.array_equal(partition(graph, untied), partition(graph, multicut._contract_in_heap_order(*arrays)))
    tied = SignedGraph.from_graph(weighted([(0, 1, 1), (1, 2, 1), (0, 2, -1.5)]))
    assert multicut._contract_while_untied(tied.num_nodes, tied.rows, tied.cols, tied.weights) is None
    assert gaec(tied) == {0: 0, 1: 0, 2: 1}  # (0, 1) is on top of the heap


def test_kernighan_lin_joins_moves_joins_and_splits() -> None:
    positive = weighted([(0, 1, 1), (1, 2, 1), (2, 3, 1)])
    assert kernighan_lin_joins(positive, {v: v for v in positive}) == {0: 0, 1: 0, 2: 0, 3: 0}
    assert kernighan_lin_joins(complete(4, -1.5), {v: 0 for v in range(4)}) == {0: 0, 1: 1, 2: 2, 3: 3}
    # a node on the wrong side moves over
    G = two_triangles()
    assert (
        kernighan_lin_joins(G, {0: "a", 1: "a", 2: "b", 3: "b", 4: "b", 5: "b"})
        == KNOWN["two positive triangles joined by a negative edge"][1]
    )


def test_kernighan_lin_joins_improves_gaec_and_never_worsens_it() -> None:
    strictly_better = 0
    for seed in range(40):
        G = signed_graph(30, 0.3, seed, integer=seed % 2 == 1)
        start = gaec(G)
        improved = kernighan_lin_joins(G, start)
        assert multicut_cost(G, improved) <= multicut_cost(G, start)
        strictly_better += multicut_cost(G, improved) < multicut_cost(G, start) - 1e-9
    assert strictly_better > 0


def test_kernighan_lin_joins_returns_the_cheapest_partition_met(monkeypatch: pytest.MonkeyPatch) -> None:
    # the joins of an iteration merge all attracting pairs of clusters at once, which can raise the
    # cost (0-1 and 1-2 attract, 0-2 repels); an iteration that does so is not taken
    G = weighted([(0, 1, 5), (1, 2, 5), (0, 2, -100)])

    def join_everything(self, labels: np.ndarray, dirty: np.ndarray, deadline: float | None) -> tuple[bool, np.ndarray]:
        return False, np.zeros_like(labels)

    monkeypatch.setattr(multicut._KernighanLin, "iterate", join_everything)
    assert kernighan_lin_joins(G, {0: 0, 1: 1, 2: 2}) == {0: 0, 1: 1, 2: 2}


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 12),
    p=st.floats(0.1, 1.0),
    seed=st.integers(0, 10_000),
    data=st.data(),
)
def test_kernighan_lin_joins_never_increases_the_cost(n: int, p: float, seed: int, data: st.DataObject) -> None:
    G = signed_graph(n, p, seed, integer=seed % 2 == 0)
    start = data.draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
    improved = kernighan_lin_joins(G, start)
    assert multicut_cost(G, improved) <= multicut_cost(G, start) + 1e-12
    assert set(improved) == set(G.nodes)


def test_heuristics_are_deterministic_and_take_index_form() -> None:
    G = signed_graph(25, 0.4, 7)
    graph = SignedGraph.from_graph(G)
    assert gaec(G) == gaec(G) == gaec(graph)
    assert kernighan_lin_joins(G, gaec(G)) == kernighan_lin_joins(graph, list(gaec(G).values()))
    arrays = SignedGraph.from_arrays(graph.cols, graph.rows, graph.weights, graph.num_nodes)  # reversed ends
    assert gaec(arrays) == gaec(G)


# ---------------------------------------------------------------- exact solver


@pytest.mark.parametrize("lp_first", [True, False])
def test_ilp_equals_brute_force(lp_first: bool) -> None:
    added = []
    for G in RANDOM_GRAPHS:
        result = solve_multicut_ilp(G, lp_first=lp_first)
        optimum = brute_force(G)
        assert result.status == "optimal" and result.gap == 0.0
        assert math.isclose(result.cost, optimum, abs_tol=1e-9) and result.bound == result.cost
        assert math.isclose(multicut_cost(G, result.labels), optimum, abs_tol=1e-9)
        assert result.rounds >= 1 and result.seconds >= 0
        added.append(result.constraints)
    assert sum(count > 0 for count in added) >= 10  # the cutting planes were needed


def test_ilp_takes_problems_and_index_form() -> None:
    G = RANDOM_GRAPHS[3]
    expected = solve_multicut_ilp(G)
    assert solve_multicut_ilp(Multicut(G)).cost == expected.cost
    assert solve_multicut_ilp(SignedGraph.from_graph(G)).cost == expected.cost
    single = solve_multicut_ilp(nx.empty_graph(3))
    assert single.status == "optimal" and single.labels == {0: 0, 1: 1, 2: 2} and single.cost == 0.0


def test_ilp_time_limit_returns_incumbent_bound_and_gap() -> None:
    G = signed_graph(40, 0.3, 0)  # takes HiGHS several seconds to prove
    result = solve_multicut_ilp(G, time_limit=0.3)
    assert result.status == "time_limit"
    assert result.seconds < 3.0
    assert result.bound <= result.cost and result.gap > 0
    assert math.isclose(multicut_cost(G, result.labels), result.cost)
    with pytest.raises(ValueError, match="time_limit"):
        solve_multicut_ilp(G, time_limit=0)


# ---------------------------------------------------------------- problem object and dimod models


@pytest.mark.parametrize("G", RANDOM_GRAPHS[:8], ids=range(8))
def test_cqm_solved_by_highs_equals_brute_force(G: nx.Graph) -> None:
    problem = Multicut(G)
    sampleset = HiGHSSampler().sample_cqm(problem.cqm)
    solution = problem.decode(sampleset.first.sample)
    assert sampleset.info["status"] == "optimal"
    assert math.isclose(solution.objective, brute_force(G), abs_tol=1e-9)
    assert not solution.repaired and solution.feasible
    assert math.isclose(solution.energy, solution.objective, abs_tol=1e-9)
    best, _ = problem.solve(HiGHSSampler())
    assert math.isclose(best.objective, solution.objective, abs_tol=1e-9)


def test_bqm_ground_state_is_the_optimum() -> None:
    G = weighted([(0, 1, 1), (1, 2, 2), (0, 2, -3)])
    problem = Multicut(G)
    ground = dimod.ExactSolver().sample(problem.bqm).first
    assert ground.energy == brute_force(G) == problem.decode(ground.sample).objective
    best, _ = Multicut(two_triangles()).solve(SimulatedAnnealingSampler(), num_reads=20, seed=0)
    assert best.objective == -1.0 and not best.repaired


def test_bqm_local_minima_are_one_hot() -> None:
    problem = Multicut(signed_graph(5, 0.8, 4))
    sampleset = SteepestDescentSolver().sample(problem.bqm, num_reads=100, seed=1)
    for solution in problem.decode_sampleset(sampleset):
        assert not solution.repaired
        assert math.isclose(solution.energy, solution.objective, abs_tol=1e-9)


def test_decode_repairs_inconsistent_samples_and_canonicalises_labels() -> None:
    problem = Multicut(weighted([(0, 1, 1), (1, 2, 1), (0, 2, -1)]))
    broken = problem.decode({("cut", 0, 1): 0, ("cut", 1, 2): 0, ("cut", 0, 2): 1})  # one cycle edge cut
    assert broken.repaired and broken.value == {0: 0, 1: 0, 2: 0} and broken.objective == 0.0
    assert broken.energy == -1.0
    one_hot = {(v, c): 0 for v in range(3) for c in range(3)}
    one_hot.update({(0, 2): 1, (1, 2): 1, (1, 0): 1})  # node 1 in two clusters, node 2 in none
    repaired = problem.decode(one_hot)
    assert repaired.repaired and repaired.value == {0: 0, 1: 0, 2: 1}
    labelled = problem.decode({0: "b", 1: "b", 2: "a"})
    assert labelled.value == {0: 0, 1: 0, 2: 1} and not labelled.repaired
    # one label on nodes no uncut edge joins is split; the cost stays
    apart = Multicut(weighted([(0, 1, -1), (1, 2, -1)]))
    assert apart.decode({0: 7, 1: 3, 2: 7}).value == {0: 0, 1: 1, 2: 2}
    with pytest.raises(InvalidModelError, match="not over this problem's variables"):
        problem.decode({"x": 1})


def test_scores_disagreement_and_inside_weight_identities() -> None:
    rng = np.random.default_rng(0)
    for G in RANDOM_GRAPHS:
        problem = Multicut(G)
        negative_total = -sum(w for _, _, w in problem.edges if w < 0)
        total = sum(w for _, _, w in problem.edges)
        for _ in range(5):
            labels = {v: int(rng.integers(3)) for v in G}
            cost = problem.evaluate(labels)
            assert math.isclose(problem.disagreement(labels), cost + negative_total, abs_tol=1e-9)
            assert math.isclose(problem.inside_weight(labels), total - cost, abs_tol=1e-9)
            assert problem.is_feasible(labels)
    assert not problem.is_feasible({0: 0})


def test_bad_input_is_rejected_with_the_edge_named() -> None:
    for bad in (float("nan"), float("inf"), "heavy", None, True):
        G = nx.Graph()
        G.add_edge("a", "b", weight=bad)
        with pytest.raises(InvalidModelError, match="edge \\('a', 'b'\\)"):
            Multicut(G)
        with pytest.raises(InvalidModelError, match="edge \\('a', 'b'\\)"):
            gaec(G)
    with pytest.raises(InvalidModelError, match="undirected"):
        Multicut(nx.DiGraph([(0, 1)]))
    with pytest.raises(InvalidModelError, match="at least one node"):
        Multicut(nx.Graph())
    with pytest.raises(InvalidModelError, match="weights\\[1\\]"):
        SignedGraph.from_arrays([0, 1], [1, 2], [1.0, np.nan], 3)
    with pytest.raises(InvalidModelError, match="0..2"):
        SignedGraph.from_arrays([0], [3], [1.0], 3)
    with pytest.raises(InvalidModelError, match="no cluster for node 2"):
        Multicut(nx.path_graph(3)).evaluate({0: 0, 1: 0})


def test_self_loops_ignored_parallel_edges_summed_missing_weights_one() -> None:
    G = nx.MultiGraph()
    G.add_edge(0, 1, weight=2)
    G.add_edge(0, 1, weight=-5)
    G.add_edge(1, 1, weight=-100)
    G.add_edge(1, 2)
    problem = Multicut(G)
    assert problem.edges == [(0, 1, -3.0), (1, 2, 1.0)]
    assert problem.edge_variables == [("cut", 0, 1), ("cut", 1, 2)]
    assert solve_multicut_ilp(problem).labels == gaec(G) == {0: 0, 1: 1, 2: 1}


def test_models_too_large_are_refused_with_their_size() -> None:
    n = 51
    assert 3 * math.comb(n, 3) > MAX_CQM_CONSTRAINTS
    with pytest.raises(ModelTooLargeError, match="51 nodes would have 62,475 triangle"):
        _ = Multicut(nx.path_graph(n)).cqm
    with pytest.raises(ModelTooLargeError, match="MAX_BQM_TERMS"):
        _ = Multicut(nx.path_graph(130)).bqm
    assert 130 * 129 * 130 // 2 > MAX_BQM_TERMS


# ---------------------------------------------------------------- CP-Lib


def test_from_cplib_matrix_checks() -> None:
    problem = Multicut.from_cplib(np.array([[0, 3, 0], [3, 0, -2], [0, -2, 0]]))
    assert problem.nodes == [0, 1, 2] and problem.edges == [(0, 1, 3.0), (1, 2, -2.0)]
    with pytest.raises(InvalidModelError, match="differ"):
        Multicut.from_cplib([[0, 1], [2, 0]])
    with pytest.raises(InvalidModelError, match="finite"):
        Multicut.from_cplib([[0, np.nan], [np.nan, 0]])
    with pytest.raises(InvalidModelError, match="square"):
        Multicut.from_cplib([[0, 1, 2]])


@needs_data
def test_cplib_cars_optimum_is_proved() -> None:
    instance = cplib_catalogue()["cars"]
    problem = Multicut.from_cplib(DATA / "cplib" / instance.file)
    result = solve_multicut_ilp(problem, time_limit=60)
    assert result.status == "optimal"
    assert problem.inside_weight(result.labels) == instance.optimal_value == 1501
