"""The classical references for the graph-native problems: Louvain, Leiden, farthest-first, elf."""

from __future__ import annotations

import importlib
import importlib.util
import itertools

import dimod
import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gnnsolve import MulticutSampler
from gnnsolve.adapters.clustering import Modularity
from gnnsolve.adapters.kcenter import KCenter
from gnnsolve.adapters.multicut import Multicut
from gnnsolve.errors import MissingDependencyError
from gnnsolve.instances import builtin_signed_graph
from gnnsolve.samplers.references import ElfMulticutSampler, GonzalezSampler, LeidenSampler, LouvainSampler

KARATE_OPTIMUM_K4 = 0.4197896120973044
"""The maximum modularity of Zachary's karate club, reached with four communities."""

COMMUNITY_SAMPLERS = [LouvainSampler]
if importlib.util.find_spec("leidenalg") is not None:
    COMMUNITY_SAMPLERS.append(LeidenSampler)


@pytest.mark.parametrize("sampler_class", COMMUNITY_SAMPLERS)
def test_community_references_reach_the_karate_optimum_and_score_rows_as_the_problem(sampler_class):
    problem = Modularity(nx.karate_club_graph(), k=4)
    sampleset = sampler_class().sample(problem, num_reads=3, seed=0)
    assert len(sampleset) == 3 and list(sampleset.variables) == problem.nodes
    for sample, energy in sampleset.data(["sample", "energy"]):
        assert energy == pytest.approx(-problem.evaluate(sample))
    assert -sampleset.first.energy == pytest.approx(KARATE_OPTIMUM_K4)


@pytest.mark.parametrize("sampler_class", COMMUNITY_SAMPLERS)
@pytest.mark.parametrize("k", [1, 2, 3])
def test_more_communities_than_k_are_merged_down_to_k(sampler_class, k):
    best, _ = Modularity(nx.karate_club_graph(), k=k).solve(sampler_class(), seed=1)
    assert best.feasible and len(set(best.value.values())) <= k


@pytest.mark.parametrize("sampler_class", COMMUNITY_SAMPLERS)
def test_a_multigraph_with_self_loops_is_scored_as_the_problem_scores_it(sampler_class):
    G = nx.MultiGraph([(0, 1), (0, 1), (1, 2), (2, 0), (3, 4), (4, 5), (5, 3), (2, 3), (5, 5)])
    problem = Modularity(G, k=2)
    best, sampleset = problem.solve(sampler_class(), seed=0)
    assert sampleset.first.energy == pytest.approx(-problem.evaluate(best.value))
    assert best.value[0] == best.value[1] == best.value[2] != best.value[3] == best.value[4] == best.value[5]


def test_seeds_reproduce_and_reads_differ_by_seed():
    problem = Modularity(nx.les_miserables_graph(), k=6, weight="weight")
    first, again = (LouvainSampler().sample(problem, num_reads=4, seed=3) for _ in range(2))
    assert np.array_equal(first.record.sample, again.record.sample)


def test_a_time_limit_stops_between_reads_after_at_least_one():
    sampleset = LouvainSampler().sample(Modularity(nx.karate_club_graph(), k=4), num_reads=1000, time_limit=1e-6)
    assert len(sampleset) == 1 and sampleset.info["reads"] == 1


@pytest.mark.parametrize(
    ("sampler", "problem"),
    [
        (LouvainSampler(), KCenter(nx.path_graph(4), k=1)),
        (GonzalezSampler(), Modularity(nx.path_graph(4), k=2)),
        (GonzalezSampler(), dimod.BQM({0: 1.0}, {}, 0.0, "BINARY")),
    ],
)
def test_a_reference_given_another_problem_says_which_it_solves(sampler, problem):
    with pytest.raises(TypeError, match="solves .* problems"):
        sampler.sample(problem)


def test_leiden_without_leidenalg_names_the_package(monkeypatch):
    real = importlib.import_module
    monkeypatch.setattr(
        importlib,
        "import_module",
        lambda name, *args: (_ for _ in ()).throw(ImportError(name)) if name == "leidenalg" else real(name, *args),
    )
    with pytest.raises(MissingDependencyError, match="pip install leidenalg"):
        LeidenSampler()


@settings(max_examples=25, deadline=None)
@given(n=st.integers(3, 9), k=st.integers(1, 3), seed=st.integers(0, 1000))
def test_farthest_first_is_within_twice_the_optimum(n, k, seed):
    """Gonzalez's bound, on connected random graphs small enough to enumerate every set of k."""
    graph = nx.connected_watts_strogatz_graph(n, 2, 0.5, seed=seed)
    problem = KCenter(graph, k=min(k, n))
    optimum = min(problem.evaluate(set(chosen)) for chosen in itertools.combinations(problem.nodes, problem.k))
    best, sampleset = problem.solve(GonzalezSampler(), num_reads=2, seed=seed)
    assert best.feasible and best.objective <= 2 * optimum
    assert sampleset.first.energy == problem.evaluate(best.value)


@pytest.mark.parametrize("seed", range(3))
def test_elf_gives_the_cost_of_our_gaec_and_kernighan_lin(seed):
    pytest.importorskip("elf", reason="python-elf is not installed")
    graph = nx.gnp_random_graph(40, 0.3, seed=seed)
    weights = np.random.default_rng(seed).uniform(-1, 1, graph.number_of_edges())
    nx.set_edge_attributes(graph, dict(zip(graph.edges, weights.tolist())), "weight")
    problem = Multicut(graph, weight="weight")
    elf, sampleset = problem.solve(ElfMulticutSampler(), num_reads=5)
    ours, _ = problem.solve(MulticutSampler(), method="gaec+kl")
    assert len(sampleset) == 1 and elf.objective == pytest.approx(ours.objective)
    assert sampleset.first.energy == pytest.approx(problem.evaluate(elf.value))


def test_the_builtin_signed_graph_is_fixed():
    graph = builtin_signed_graph()
    assert graph.number_of_nodes() == 100 and all(-1 <= w <= 1 for _, _, w in graph.edges(data="weight"))
    assert nx.utils.graphs_equal(graph, builtin_signed_graph())
