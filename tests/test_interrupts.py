"""Ctrl-C in the learned samplers: an interrupted training or search returns its best so far
(``stop_reason="interrupted"``); an interrupt anywhere else is raised and leaves a stateful
sampler as it was. The interrupt is injected deterministically: a function called inside the
loop raises ``KeyboardInterrupt`` on its k-th call."""

from __future__ import annotations

import math
from typing import Any

import dimod
import networkx as nx
import numpy as np
import pytest
import torch

import gnnsolve.samplers.clusternet as clusternet_module
import gnnsolve.samplers.multicut as multicut_module
import gnnsolve.samplers.pignn as pignn_module
from gnnsolve import GNNSampler
from gnnsolve.adapters.clustering import Modularity
from gnnsolve.adapters.graphs import maxcut_bqm
from gnnsolve.adapters.multicut import Multicut
from gnnsolve.nn.pignn import GraphOperators
from gnnsolve.samplers.clusternet import ClusterNetSampler
from gnnsolve.samplers.dyco import DyCOSampler
from gnnsolve.samplers.multicut import MulticutSampler
from gnnsolve.search.contraction import ContractionEnv
from gnnsolve.search.mcts import _Search, plan
from gnnsolve.train_multicut import random_signed_graph
from test_multicut_planner import by_weight, two_triangles

QUICK = {"num_reads": 2, "max_epochs": 30, "time_limit": math.inf, "threads": 1}
"""A short DyCO snapshot that no clock decides, so that runs compare exactly."""


def interrupt_on(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str, call: int) -> list[None]:
    """Make ``owner.name`` raise ``KeyboardInterrupt`` on its ``call``-th call (from 1) and pass
    every other call through; the list returned grows by one per call."""
    original = getattr(owner, name)
    calls: list[None] = []

    def interrupting(*args: Any, **kwargs: Any) -> Any:
        calls.append(None)
        if len(calls) == call:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, interrupting)
    return calls


def regular(n: int, seed: int) -> dimod.BinaryQuadraticModel:
    return maxcut_bqm(nx.random_regular_graph(3, n, seed=seed))


def assert_same(got: dimod.SampleSet, want: dimod.SampleSet) -> None:
    assert np.array_equal(got.record.sample, want.record.sample)
    assert np.array_equal(got.record.energy, want.record.energy)
    for key in ("snapshot", "start", "fallback", "epochs", "stop_reason", "relaxed_loss"):
        assert got.info[key] == want.info[key], key


# ---------------------------------------------------------------- PI-GNN


def test_gnn_sampler_interrupted_at_epoch_3_returns_its_best_rounded_states(monkeypatch):
    bqm = dimod.generators.ran_r(1, 30, seed=3)
    calls = interrupt_on(monkeypatch, torch.optim.Adam, "step", 3)
    threads = torch.get_num_threads()
    sampleset = GNNSampler().sample(bqm, num_reads=4, seed=0, max_epochs=1000, time_limit=math.inf, threads=1)
    assert len(calls) == 3 and torch.get_num_threads() == threads
    info = sampleset.info
    assert info["stop_reason"] == "interrupted" and info["epochs"] == 3
    assert len(sampleset) == 4 and sampleset.vartype is bqm.vartype
    assert np.array_equal(sampleset.record.energy, bqm.energies(sampleset))
    assert info["polish"] == {"method": None}  # the finisher does not run after an interrupt
    assert np.array_equal(sampleset.record.raw_energy, sampleset.record.energy)


def test_gnn_sampler_interrupted_in_the_finisher_raises(monkeypatch):
    interrupt_on(monkeypatch, pignn_module, "finish_states", 1)
    threads = torch.get_num_threads()
    with pytest.raises(KeyboardInterrupt):
        GNNSampler().sample(regular(20, 0), seed=0, max_epochs=20, time_limit=math.inf, threads=1)
    assert torch.get_num_threads() == threads


# ---------------------------------------------------------------- DyCO


def test_dyco_interrupted_in_training_returns_and_counts_as_a_snapshot(monkeypatch):
    bqm = regular(20, 0)
    sampler = DyCOSampler()
    with monkeypatch.context() as patch:
        interrupt_on(patch, torch.optim.Adam, "step", 5)
        first = sampler.sample(bqm, seed=0, **QUICK)
    assert (first.info["stop_reason"], first.info["epochs"]) == ("interrupted", 5)
    assert (first.info["snapshot"], first.info["start"]) == (0, "fresh")
    assert np.array_equal(first.record.energy, bqm.energies(first))
    second = sampler.sample(bqm, **QUICK)
    assert (second.info["snapshot"], second.info["start"]) == (1, "shrink_perturb")
    assert second.info["stop_reason"] != "interrupted"


def interrupt_outside_training(patch: pytest.MonkeyPatch, where: str) -> None:
    """Interrupt DyCO while it builds the graph operators (after choosing the replicas and widths)
    or in the finisher's descent (after training)."""
    if where == "build":
        interrupt_on(patch, GraphOperators, "build", 1)
    else:
        interrupt_on(patch, pignn_module, "descend", 1)


@pytest.mark.parametrize("where", ["build", "finisher"])
def test_dyco_interrupted_outside_training_raises_and_changes_nothing(monkeypatch, where):
    big, small = regular(144, 1), regular(16, 2)  # embedding widths 12 and 8
    sampler = DyCOSampler()
    with monkeypatch.context() as patch:
        interrupt_outside_training(patch, where)
        with pytest.raises(KeyboardInterrupt):
            sampler.sample(big, seed=0, **QUICK)
    after = sampler.sample(small, seed=0, **QUICK)
    fresh = DyCOSampler().sample(small, seed=0, **QUICK)
    assert (after.info["snapshot"], after.info["start"]) == (0, "fresh")
    assert_same(after, fresh)


@pytest.mark.parametrize("where", ["build", "finisher"])
def test_dyco_interrupted_mid_sequence_stays_at_the_previous_snapshot(monkeypatch, where):
    sequence = [regular(24, 3)]
    for extra in (1, 2):
        grown = sequence[0].copy()
        grown.add_interactions_from({(i, i + 12): 1.0 for i in range(2 * extra)})
        sequence.append(grown)
    reference = DyCOSampler().sample_sequence(sequence, seed=0, **QUICK)
    sampler = DyCOSampler()
    sampler.sample(sequence[0], seed=0, **QUICK)
    with monkeypatch.context() as patch:
        interrupt_outside_training(patch, where)
        with pytest.raises(KeyboardInterrupt):
            sampler.sample(sequence[1], **QUICK)
    resumed = [sampler.sample(bqm, **QUICK) for bqm in sequence[1:]]
    assert [result.info["snapshot"] for result in resumed] == [1, 2]
    for got, want in zip(resumed, reference[1:]):
        assert_same(got, want)


# ---------------------------------------------------------------- ClusterNet


def test_clusternet_interrupted_in_training_returns_the_best_checkpoint_and_stops_the_reads(monkeypatch):
    problem = Modularity(nx.karate_club_graph(), 2)
    calls = interrupt_on(monkeypatch, torch.optim.Adam, "step", 30 + 5)  # the second read's fifth epoch
    sampleset = ClusterNetSampler().sample(problem, num_reads=3, seed=0, epochs=30, polish=True, time_limit=math.inf, threads=1)
    assert len(calls) == 35
    info = sampleset.info
    assert len(sampleset) == 2 and info["stop_reason"] == ["epochs", "interrupted"]
    assert info["epochs"] == [30, 4]
    rows = [dict(sample) for sample in sampleset.samples(sorted_by=None)]
    for row, energy in zip(rows, sampleset.record.energy):
        assert set(row.values()) <= {0, 1} and energy == -problem.evaluate(row)
    assert info["raw_energy"][1] == sampleset.record.energy[1]  # the interrupted read is not polished


def test_clusternet_fit_interrupted_in_training_keeps_its_best_checkpoint(monkeypatch):
    rng = np.random.default_rng(0)
    graphs = [nx.connected_caveman_graph(3, 5) for _ in range(2)]
    features = [rng.random((15, 4)) for _ in graphs]
    sampler = ClusterNetSampler()
    with monkeypatch.context() as patch:
        interrupt_on(patch, torch.optim.Adam, "step", 3)
        sampler.fit(graphs, k=3, objective="modularity", features=features, epochs=50, seed=0, threads=1)
    assert sampler.fit_info["stop_reason"] == "interrupted" and sampler.fit_info["epochs"] == 2
    fitted, fit_info = sampler._fitted, sampler.fit_info
    with monkeypatch.context() as patch:
        interrupt_on(patch, clusternet_module, "_edge_index", 1)
        with pytest.raises(KeyboardInterrupt):
            sampler.fit(graphs, k=3, objective="modularity", features=features, epochs=50, seed=1, threads=1)
    assert sampler._fitted is fitted and sampler.fit_info is fit_info


# ---------------------------------------------------------------- multicut


def test_plan_interrupted_returns_its_best_partition(monkeypatch):
    env = ContractionEnv.from_graph(two_triangles())
    with monkeypatch.context() as patch:
        interrupt_on(patch, _Search, "simulate", 1)  # before any rollout: the start state is all there is
        result = plan(env, by_weight, simulations=8)
    assert result.stop_reason == "interrupted" and math.isnan(result.rollout_cost)
    assert result.labels.tolist() == list(range(6)) and result.cost == env.cost
    with monkeypatch.context() as patch:
        interrupt_on(patch, _Search, "simulate", 3)
        result = plan(env, by_weight, simulations=8)
    assert result.stop_reason == "interrupted" and result.cost <= result.rollout_cost == -1.0


def test_multicut_interrupted_in_the_search_returns_the_best_so_far(monkeypatch):
    problem = Multicut(random_signed_graph("er", 20, np.random.default_rng(4)))
    calls = interrupt_on(monkeypatch, _Search, "simulate", 6)
    sampleset = MulticutSampler().sample(problem, num_reads=2, seed=0, simulations=4, time_limit=math.inf, threads=1)
    assert len(calls) == 6
    info = sampleset.info
    assert len(sampleset) == 1 and info["stop_reason"] == ["interrupted"] and info["refined"] == [0]
    row = dict(sampleset.first.sample)
    assert sampleset.first.energy == problem.evaluate(row) <= info["reference_cost"]


def test_multicut_interrupted_outside_the_search_raises(monkeypatch):
    problem = Multicut(two_triangles())
    sampler = MulticutSampler()
    threads = torch.get_num_threads()
    with monkeypatch.context() as patch:
        interrupt_on(patch, multicut_module, "_kernighan_lin_joins", 1)
        with pytest.raises(KeyboardInterrupt):
            sampler.sample(problem, seed=0, simulations=4, time_limit=math.inf, threads=1)
    assert torch.get_num_threads() == threads
    sampleset = sampler.sample(problem, seed=0, simulations=4, time_limit=math.inf, threads=1)
    assert sampleset.info["stop_reason"] == ["done"] and float(sampleset.first.energy) == -1.0


def test_warm_start_interrupted_in_its_child_is_left_as_it_was(monkeypatch):
    """The child returns the initial states it is given, so the fill of new variables shows."""
    from gnnsolve import WarmStartComposite

    first, second = maxcut_bqm(nx.cycle_graph(6)), maxcut_bqm(nx.cycle_graph(30))

    def run(interrupted: bool) -> dimod.SampleSet:
        sampler = WarmStartComposite(dimod.IdentitySampler(), seed=0)
        sampler.sample(first, initial_states=([[1] * 6], range(6)))
        if interrupted:
            with monkeypatch.context() as patch:
                interrupt_on(patch, dimod.IdentitySampler, "sample", 1)
                with pytest.raises(KeyboardInterrupt):
                    sampler.sample(second, num_reads=3)
        return sampler.sample(second, num_reads=3)

    after, uninterrupted = run(True), run(False)
    assert after.info["warm_start"] == uninterrupted.info["warm_start"]
    assert np.array_equal(after.record.sample, uninterrupted.record.sample)


def test_dyco_reset_forgets_the_widths_of_the_last_sequence():
    big, small = maxcut_bqm(nx.random_regular_graph(3, 400, seed=0)), maxcut_bqm(nx.cycle_graph(12))
    sampler = DyCOSampler()
    sampler.sample(big, seed=0, max_epochs=2, num_reads=1, threads=1)
    sampler.reset()
    assert np.array_equal(
        sampler.sample(small, seed=0, **QUICK).record.sample, DyCOSampler().sample(small, seed=0, **QUICK).record.sample
    )


@pytest.mark.parametrize("sampler", [GNNSampler(), DyCOSampler()], ids=["gnn", "dyco"])
def test_an_unseeded_call_leaves_torch_global_generator_alone(sampler):
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    sampler.sample(maxcut_bqm(nx.cycle_graph(6)), max_epochs=3, threads=1)
    assert torch.equal(torch.rand(3), expected)
