"""MulticutSampler's budget and threads: the default time limit, no limit, the whole call within
its time limit, GAEC and KLj cut at a deadline, and torch's thread count set for the call only."""

from __future__ import annotations

import math
import time

import networkx as nx
import numpy as np
import pytest
import torch

from gnnsolve.adapters.multicut import Multicut
from gnnsolve.errors import ModelTooLargeError
from gnnsolve.samplers.multicut import MAX_SEARCH_NODES, METHODS, MulticutSampler, default_time_limit
from gnnsolve.search.contraction import ContractionEnv
from gnnsolve.search.mcts import greedy_policy
from gnnsolve.search.multicut import SignedGraph, _gaec, _kernighan_lin_joins, gaec, kernighan_lin_joins


@pytest.fixture(scope="module")
def sampler() -> MulticutSampler:
    return MulticutSampler()


def signed(G: nx.Graph, seed: int) -> nx.Graph:
    """``G`` with weights uniform in [-1, 1]."""
    weights = np.random.default_rng(seed).uniform(-1.0, 1.0, G.number_of_edges())
    nx.set_edge_attributes(G, {edge: float(w) for edge, w in zip(G.edges(), weights)}, "weight")
    return G


def by_weight(env: ContractionEnv):
    pairs = env.contractible_edges()
    return pairs, env.weights[pairs[:, 0], pairs[:, 1]], 0.0


# ---------------------------------------------------------------- the budget


def test_the_default_budget_grows_with_the_graph_and_the_reads_within_bounds():
    sizes = [1, 20, 50, 100, 150, 200, 500, 10**5]
    budgets = [default_time_limit(n) for n in sizes]
    assert budgets == sorted(budgets)
    assert budgets[0] == 2.0 and budgets[-1] == 30.0 and default_time_limit(100) == 5.0
    assert default_time_limit(50, num_reads=2) == 2 * default_time_limit(50)


@pytest.mark.parametrize("method", METHODS)
def test_a_call_without_time_limit_reports_the_default_budget(sampler, method):
    G = signed(nx.gnp_random_graph(15, 0.3, seed=1), seed=1)
    sampleset = sampler.sample(G, method=method, num_reads=2, seed=0, simulations=2)
    assert sampleset.info["time_limit"] == default_time_limit(15, num_reads=2)
    assert sampleset.info["stop_reason"] == ["done", "done"]  # far within the default
    cqm_sampleset = sampler.sample_cqm(Multicut(G).cqm, method=method, simulations=2)
    assert cqm_sampleset.info["time_limit"] == default_time_limit(15)


def test_math_inf_means_no_limit(sampler):
    G = signed(nx.gnp_random_graph(20, 0.3, seed=2), seed=2)
    unlimited = sampler.sample(G, time_limit=math.inf, seed=0, simulations=4)
    assert unlimited.info["time_limit"] == math.inf and unlimited.info["stop_reason"] == ["done"]
    default = sampler.sample(G, seed=0, simulations=4)  # the default does not bind here: the same search
    assert (unlimited.record.sample == default.record.sample).all()
    assert unlimited.info["simulations"] == default.info["simulations"]


@pytest.mark.parametrize("time_limit", [0, -1.0, float("nan"), "1"])
def test_a_bad_time_limit_is_refused(sampler, time_limit):
    with pytest.raises((ValueError, TypeError), match="time_limit"):
        sampler.sample(nx.path_graph(3), time_limit=time_limit)


@pytest.mark.parametrize("method", ["mcts", "greedy-policy"])
def test_the_whole_call_ends_near_its_time_limit_on_a_dense_300_node_graph(sampler, method):
    # without a budget on the search set-up: GAEC + KLj, the greedy episode and its KLj took 9.5 s
    G = signed(nx.gnp_random_graph(300, 0.3, seed=3), seed=3)
    problem = Multicut(G)
    started = time.perf_counter()
    sampleset = sampler.sample(problem, method=method, time_limit=0.5, seed=0)
    assert time.perf_counter() - started < 0.5 * 1.5 + 2.0  # generous: a gross overrun only
    assert sampleset.info["stop_reason"] == ["time_limit"]
    assert sampleset.first.energy == problem.evaluate(sampleset.first.sample)
    if method == "mcts":
        assert sampleset.first.energy <= sampleset.info["reference_cost"] + 1e-9


def test_gaec_and_kl_stop_at_the_time_limit_on_a_20000_node_graph(sampler):
    G = signed(nx.random_regular_graph(3, 20_000, seed=4), seed=4)  # GAEC + KLj: 0.3 s compiled, 6 s in Python
    started = time.perf_counter()
    sampleset = sampler.sample(G, method="gaec+kl", time_limit=0.05)
    assert time.perf_counter() - started < 0.05 * 1.5 + 2.0
    assert sampleset.info["stop_reason"] == ["time_limit"]


def test_mcts_above_the_search_size_answers_with_gaec_and_kl(sampler):
    G = signed(nx.path_graph(MAX_SEARCH_NODES + 1), seed=5)
    sampleset = sampler.sample(G, seed=0)
    assert sampleset.info["stop_reason"] == ["too_large"] and sampleset.info["simulations"] == [0]
    assert sampleset.first.energy == pytest.approx(Multicut(G).evaluate(kernighan_lin_joins(G, gaec(G))))
    with pytest.raises(ModelTooLargeError, match="gaec"):
        sampler.sample(G, method="greedy-policy")


def test_gaec_and_kl_cut_at_a_deadline_return_valid_partitions_no_dearer_than_their_start():
    graph = SignedGraph.from_graph(signed(nx.random_regular_graph(3, 2000, seed=6), seed=6))
    singletons = np.arange(graph.num_nodes)
    now = time.perf_counter()
    cut_short = _gaec(graph, deadline=now)
    assert graph.cost(cut_short) <= graph.cost(singletons)
    full = _gaec(graph)
    assert graph.cost(full) <= graph.cost(cut_short)
    assert np.array_equal(_kernighan_lin_joins(graph, full, deadline=now), graph.canonical(full))
    partly = _kernighan_lin_joins(graph, singletons, deadline=time.perf_counter() + 0.01)
    assert graph.cost(partly) <= graph.cost(singletons)


def test_a_greedy_episode_cut_by_its_time_limit_is_finished_by_gaec():
    G = signed(nx.gnp_random_graph(40, 0.3, seed=7), seed=7)
    env = ContractionEnv.from_graph(G)
    result = greedy_policy(env, by_weight, time_limit=0.0)  # no step fits: GAEC from the start (unfinished)
    assert result.stop_reason == "time_limit" and result.actions == []
    assert result.cost <= env.cost
    assert greedy_policy(env, by_weight, time_limit=60.0).stop_reason == "done"


# ---------------------------------------------------------------- threads


def test_one_thread_by_default_and_the_callers_count_restored(sampler):
    G = signed(nx.gnp_random_graph(20, 0.3, seed=8), seed=8)
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        for method in METHODS:
            assert sampler.sample(G, method=method, simulations=2).info["threads"] == 1
            assert torch.get_num_threads() == 2
        assert sampler.sample(G, simulations=2, threads=2).info["threads"] == 2
        assert sampler.sample_cqm(Multicut(G).cqm, simulations=2, threads=1).info["threads"] == 1
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_the_callers_thread_count_is_restored_after_an_error(sampler, tmp_path):
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        with pytest.raises(FileNotFoundError):  # raised while the call's thread count is set
            sampler.sample(nx.path_graph(3), threads=1, checkpoint=tmp_path / "missing.pt")
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


@pytest.mark.parametrize("threads", [0, -1, 1.5, True])
def test_a_bad_thread_count_is_refused(sampler, threads):
    with pytest.raises(ValueError, match="threads"):
        sampler.sample(nx.path_graph(3), threads=threads)
