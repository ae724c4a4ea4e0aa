"""MaxCut and maximum independent set: models, decoding, repair, exact optima, bad input."""

from __future__ import annotations

import itertools

import dimod
import networkx as nx
import pytest
from dwave.samplers import SimulatedAnnealingSampler, SteepestDescentSolver
from hypothesis import given, settings
from hypothesis import strategies as st

from gnnsolve import HiGHSSampler
from gnnsolve.adapters.datasets import (
    pignn_dregular_catalogue,
    read_edgelist,
)
from gnnsolve.adapters.graphs import MaxCut, MaxIndependentSet, greedy_independent_set
from gnnsolve.errors import InvalidModelError
from gnnsolve.search.mis import two_improvement
from shared_data import DATA, needs_data


@st.composite
def graphs(draw, max_nodes: int = 12) -> nx.Graph:
    """Random simple graphs, isolated nodes and several components included."""
    n = draw(st.integers(1, max_nodes))
    pairs = list(itertools.combinations(range(n), 2))
    chosen = draw(st.lists(st.sampled_from(pairs), unique=True)) if pairs else []
    G = nx.Graph()
    G.add_nodes_from(range(n))
    G.add_edges_from(chosen)
    return G


def brute_force_maxcut(G: nx.Graph) -> float:
    nodes = list(G.nodes)
    best = 0.0
    for bits in itertools.product((0, 1), repeat=len(nodes) - 1):
        side = {node for node, bit in zip(nodes[1:], bits) if bit}
        best = max(best, sum(w for u, v, w in G.edges(data="weight", default=1) if (u in side) != (v in side)))
    return best


def brute_force_mis(G: nx.Graph) -> int:
    complement = nx.complement(G)
    return max(len(clique) for clique in nx.find_cliques(complement)) if G.number_of_nodes() else 0


# ---------------------------------------------------------------- MaxCut


@settings(max_examples=40, deadline=None)
@given(graphs(), st.data())
def test_maxcut_energy_is_minus_the_decoded_cut(G, data):
    problem = MaxCut(G)
    spins = {node: data.draw(st.sampled_from((-1, 1))) for node in G.nodes}
    solution = problem.decode(spins)
    side, other = solution.value
    assert solution.feasible and not solution.repaired
    assert side | other == set(G.nodes) and not side & other
    assert solution.objective == pytest.approx(-solution.energy)
    assert solution.objective == sum(1 for u, v in G.edges if spins[u] != spins[v])


def test_maxcut_decodes_binary_samples_too():
    problem = MaxCut(nx.path_graph(3))
    assert problem.decode({0: 0, 1: 1, 2: 0}).objective == 2


@pytest.mark.parametrize("seed", range(3))
def test_maxcut_optimum_through_highs_equals_brute_force(seed):
    G = nx.gnp_random_graph(9, 0.5, seed=seed)
    for u, v in G.edges:
        G[u][v]["weight"] = (u * 7 + v * 3 + seed) % 5 - 1  # signed weights, some zero
    solution, sampleset = MaxCut(G).solve(HiGHSSampler(), time_limit=30)
    assert sampleset.info["status"] == "optimal"
    assert solution.objective == pytest.approx(brute_force_maxcut(G))


def test_maxcut_weight_attribute_and_multigraph_sum():
    G = nx.MultiGraph([(0, 1), (0, 1), (1, 2)])
    assert MaxCut(G).evaluate((frozenset({0}), frozenset({1, 2}))) == 2
    H = nx.Graph()
    H.add_edge("a", "b", capacity=3.5)
    assert MaxCut(H, weight="capacity").evaluate((frozenset({"a"}), frozenset({"b"}))) == 3.5


def test_maxcut_ignores_self_loops_and_keeps_isolated_nodes():
    G = nx.Graph([(0, 0), (0, 1)])
    G.add_node(2)
    problem = MaxCut(G)
    assert set(problem.bqm.variables) == {0, 1, 2}
    solution, _ = problem.solve(HiGHSSampler())
    assert solution.objective == 1 and solution.feasible


@pytest.mark.parametrize("bad", ["heavy", None, float("nan"), float("inf"), True])
def test_maxcut_rejects_non_numeric_weights(bad):
    G = nx.Graph()
    G.add_edge("u", "v", weight=bad)
    with pytest.raises(InvalidModelError, match=r"edge \('u', 'v'\)"):
        MaxCut(G)


def test_empty_graph_is_rejected():
    with pytest.raises(InvalidModelError, match="at least one node"):
        MaxCut(nx.Graph())
    with pytest.raises(InvalidModelError, match="at least one node"):
        MaxIndependentSet(nx.Graph())


def test_maxcut_on_a_disconnected_graph_adds_the_components():
    G = nx.disjoint_union(nx.cycle_graph(4), nx.complete_graph(3))
    solution, _ = MaxCut(G).solve(HiGHSSampler())
    assert solution.objective == 4 + 2


# ---------------------------------------------------------------- maximum independent set


@settings(max_examples=60, deadline=None)
@given(graphs(), st.data())
def test_mis_decoding_is_always_a_maximal_independent_set(G, data):
    problem = MaxIndependentSet(G, local_search=data.draw(st.booleans()))
    sample = {node: data.draw(st.sampled_from((0, 1))) for node in G.nodes}
    solution = problem.decode(sample)
    chosen = set(solution.value)
    assert solution.feasible
    assert not any(u in chosen and v in chosen for u, v in G.edges)
    assert all(any(v in chosen for v in G[u]) for u in set(G.nodes) - chosen), "the set is not maximal"
    assert solution.objective == len(chosen)
    assert solution.repaired == (chosen != {node for node, bit in sample.items() if bit})
    assert solution.energy == pytest.approx(problem.bqm.energy(sample))


def test_mis_repair_removes_the_node_with_most_conflicts():
    star = nx.star_graph(4)  # centre 0 conflicts with every leaf
    solution = MaxIndependentSet(star, local_search=False).decode({node: 1 for node in star.nodes})
    assert solution.value == frozenset({1, 2, 3, 4}) and solution.repaired


def test_mis_keeps_an_independent_maximal_sample_unchanged():
    path = nx.path_graph(5)
    solution = MaxIndependentSet(path).decode({0: 1, 1: 0, 2: 1, 3: 0, 4: 1})
    assert solution.value == frozenset({0, 2, 4}) and not solution.repaired


def test_mis_energy_of_an_independent_set_is_minus_its_size():
    problem = MaxIndependentSet(nx.cycle_graph(6))
    assert problem.bqm.energy({i: int(i % 2 == 0) for i in range(6)}) == -3
    assert problem.bqm.vartype is dimod.BINARY


@pytest.mark.parametrize("seed", range(4))
def test_mis_optimum_through_highs_equals_brute_force(seed):
    G = nx.gnp_random_graph(12, 0.3, seed=seed)
    solution, _ = MaxIndependentSet(G).solve(HiGHSSampler(), time_limit=30)
    assert solution.objective == brute_force_mis(G)


def test_greedy_minimum_degree_picks_leaves_first():
    assert greedy_independent_set(nx.star_graph(5)) == frozenset(range(1, 6))
    assert greedy_independent_set(nx.path_graph(4), start=[1]) == frozenset({1, 3})
    with pytest.raises(InvalidModelError, match="not independent"):
        greedy_independent_set(nx.path_graph(3), start=[0, 1])


def test_mis_isolated_nodes_are_always_chosen():
    G = nx.Graph([(0, 1)])
    G.add_nodes_from([5, 6])
    solution, _ = MaxIndependentSet(G).solve(SteepestDescentSolver(), num_reads=1, seed=0)
    assert {5, 6} <= solution.value and solution.objective == 3


def test_mis_rejects_self_loops_and_small_penalties():
    with pytest.raises(InvalidModelError, match="node 3 has a self-loop"):
        MaxIndependentSet(nx.Graph([(1, 2), (3, 3)]))
    for penalty in (1, 0.5, -2, float("inf"), "2"):
        with pytest.raises(InvalidModelError, match="penalty"):
            MaxIndependentSet(nx.path_graph(3), penalty=penalty)


def test_solve_with_a_plain_dimod_sampler_and_a_mismatched_sampleset():
    G = nx.petersen_graph()
    solution, sampleset = MaxIndependentSet(G).solve(SimulatedAnnealingSampler(), num_reads=5, seed=1)
    assert solution.objective == 4 and len(sampleset) == 5
    other = dimod.SampleSet.from_samples({"x": 1}, dimod.BINARY, energy=0)
    with pytest.raises(InvalidModelError, match="not over this problem's variables"):
        MaxIndependentSet(G).decode_sampleset(other)


# ---------------------------------------------------------------- d-regular optima


REGULAR = [f"reg_n100_d{d}_seed{seed}" for d in (3, 5) for seed in range(5)]


@needs_data
@pytest.mark.parametrize("name", REGULAR)
def test_highs_reaches_the_proven_mis_on_dregular_graphs(name):
    entry = pignn_dregular_catalogue()[name]
    G = read_edgelist(DATA / "pignn_dregular" / entry.file)
    solution, sampleset = MaxIndependentSet(G).solve(HiGHSSampler(), time_limit=60)
    assert solution.objective == entry.mis and solution.feasible, sampleset.info["status"]


@needs_data
@pytest.mark.parametrize("name", [pytest.param(name, marks=pytest.mark.slow) if "_d5_" in name else name for name in REGULAR])
def test_highs_reaches_the_proven_maxcut_on_dregular_graphs(name):
    entry = pignn_dregular_catalogue()[name]
    G = read_edgelist(DATA / "pignn_dregular" / entry.file)
    solution, sampleset = MaxCut(G).solve(HiGHSSampler(), time_limit=120)
    assert solution.objective == entry.maxcut, sampleset.info["status"]


# ---------------------------------------------------------------- (1,2)-swap local search


def has_one_two_swap(G: nx.Graph, chosen: frozenset) -> bool:
    for x in chosen:
        one_tight = [u for u in G[x] if u not in chosen and sum(1 for w in G[u] if w in chosen) == 1]
        if any(v not in G[u] for u, v in itertools.combinations(one_tight, 2)):
            return True
    return False


@settings(max_examples=60, deadline=None)
@given(graphs(), st.data())
def test_two_improvement_returns_a_larger_two_maximal_independent_set(G, data):
    start = data.draw(st.sampled_from(sorted(nx.find_cliques(nx.complement(G)), key=sorted))) if G else []
    improved = two_improvement(G, start)
    assert not any(u in improved and v in improved for u, v in G.edges)
    assert len(improved) >= len(start)
    assert all(any(v in improved for v in G[u]) for u in set(G.nodes) - improved)
    assert not has_one_two_swap(G, improved)


def test_two_improvement_rejects_a_dependent_start():
    with pytest.raises(ValueError, match="not independent"):
        two_improvement(nx.path_graph(3), {0, 1})


def test_mis_local_search_can_be_switched_off():
    star = nx.star_graph(3)
    centre_only = {0: 1, 1: 0, 2: 0, 3: 0}
    assert MaxIndependentSet(star, local_search=False).decode(centre_only).value == frozenset({0})
    assert MaxIndependentSet(star).decode(centre_only).value == frozenset({1, 2, 3})


# ---------------------------------------------------------------- every kind of sampler


def _gurobi_sampler():
    pytest.importorskip("gurobipy", reason="gurobipy is not installed")
    from gnnsolve import GurobiSampler

    return GurobiSampler()


@pytest.mark.parametrize("kind", ["highs", "gurobi", "gnn", "sa"])
def test_graph_problems_solve_with_every_kind_of_sampler(kind):
    from gnnsolve import GNNSampler

    G = nx.petersen_graph()
    samplers = {
        "highs": lambda: (HiGHSSampler(), {"time_limit": 30}),
        "gurobi": lambda: (_gurobi_sampler(), {"time_limit": 30}),
        "gnn": lambda: (GNNSampler(), {"num_reads": 4, "seed": 0, "max_epochs": 300}),
        "sa": lambda: (SimulatedAnnealingSampler(), {"num_reads": 10, "seed": 0}),
    }
    sampler, keywords = samplers[kind]()
    cut, _ = MaxCut(G).solve(sampler, **keywords)
    independent, _ = MaxIndependentSet(G).solve(sampler, **keywords)
    assert cut.feasible and independent.feasible
    assert cut.objective <= 12 and independent.objective <= 4  # the optima
    if kind in ("highs", "gurobi"):
        assert (cut.objective, independent.objective) == (12, 4)
