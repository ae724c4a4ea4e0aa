"""DyCOSampler: label matching across snapshots, shrink and perturb, modes, seeds, reset, fallbacks."""

from __future__ import annotations

import unittest

import dimod
import networkx as nx
import numpy as np
import pytest
import torch

from gnnsolve import HiGHSSampler
from gnnsolve.adapters.graphs import MaxCut, maxcut_bqm
from gnnsolve.nn.pignn import PIGNN
from gnnsolve.samplers.dyco import DyCOSampler, _shrink_and_perturb
from gnnsolve.samplers.pignn import default_time_limit

FROZEN = 1e-30
"""A learning rate so small that training leaves every parameter as it was (to inspect carry-over)."""


class _QuickDyCO(DyCOSampler):
    """DyCOSampler with a short default budget, for dimod's conformance suite (run as one long sequence)."""

    def sample(self, bqm, **kwargs):
        kwargs.setdefault("max_epochs", 40)
        return super().sample(bqm, **kwargs)


@dimod.testing.load_sampler_bqm_tests(_QuickDyCO)
class TestDimodConformance(unittest.TestCase):
    pass


def ring(labels, weight=1.0):
    return dimod.BinaryQuadraticModel(
        {}, {(labels[i], labels[(i + 1) % len(labels)]): weight for i in range(len(labels))}, 0.0, "SPIN"
    )


def embedding_rows(sampler: DyCOSampler) -> dict:
    return {label: sampler._net.embedding[:, row].detach().clone() for row, label in enumerate(sampler._labels)}


def convolution_weights(sampler: DyCOSampler) -> dict:
    return {name: p.detach().clone() for name, p in sampler._net.named_parameters() if name != "embedding"}


# ---------------------------------------------------------------- carrying parameters over


def test_warm_mode_matches_rows_by_label_for_added_removed_and_reordered_variables():
    sampler = DyCOSampler(mode="warm", learning_rate=FROZEN)
    sampler.sample(ring(["a", "b", "c", "d"]), num_reads=3, seed=0, max_epochs=1, polish=False)
    before, weights = embedding_rows(sampler), convolution_weights(sampler)
    result = sampler.sample(ring(["d", "x", "b", "a"]), num_reads=3, max_epochs=1, polish=False)
    assert result.info["start"] == "warm"
    assert (result.info["carried"], result.info["new"], result.info["dropped"]) == (3, 1, 1)
    after = embedding_rows(sampler)
    for label in ("a", "b", "d"):
        torch.testing.assert_close(after[label], before[label])
    assert not any(torch.equal(after["x"], row) for row in before.values())
    for name, value in convolution_weights(sampler).items():
        torch.testing.assert_close(value, weights[name])


@pytest.mark.parametrize(
    ("mode", "embedding_kept", "gnn_kept"), [("embedding", False, True), ("gnn", True, False), ("full", False, False)]
)
def test_modes_shrink_and_perturb_only_their_parameters(mode, embedding_kept, gnn_kept):
    sampler = DyCOSampler(mode=mode, learning_rate=FROZEN)
    bqm = ring(list(range(6)))
    sampler.sample(bqm, num_reads=2, seed=1, max_epochs=1, polish=False)
    rows, weights = embedding_rows(sampler), convolution_weights(sampler)
    assert sampler.sample(bqm, num_reads=2, max_epochs=1, polish=False).info["start"] == "shrink_perturb"
    same_rows = all(torch.allclose(embedding_rows(sampler)[k], rows[k]) for k in rows)
    same_weights = all(torch.allclose(v, weights[k]) for k, v in convolution_weights(sampler).items() if v.abs().sum() > 0)
    assert same_rows == embedding_kept and same_weights == gnn_kept


def test_shrink_and_perturb_arithmetic():
    generator = torch.Generator().manual_seed(0)
    net = PIGNN(5, 2, 4, 2, "sage", generator=generator)
    fresh = PIGNN(5, 2, 4, 2, "sage", generator=generator)
    old = {k: v.detach().clone() for k, v in net.named_parameters()}
    _shrink_and_perturb(net, fresh, ["embedding", "conv2.weight_root"], shrink=0.4, perturb=0.1)
    noise = dict(fresh.named_parameters())
    for name, value in net.named_parameters():
        expected = 0.4 * old[name] + 0.1 * noise[name] if name in ("embedding", "conv2.weight_root") else old[name]
        torch.testing.assert_close(value, expected)


def test_static_mode_starts_fresh_every_snapshot():
    sampler = DyCOSampler(mode="static")
    results = sampler.sample_sequence([ring(list(range(5)))] * 3, seed=0, max_epochs=20)
    assert [r.info["start"] for r in results] == ["fresh"] * 3
    assert [r.info["snapshot"] for r in results] == [0, 1, 2]


# ---------------------------------------------------------------- seeds, reset, fallbacks


def snapshots() -> list[dimod.BinaryQuadraticModel]:
    G = nx.random_regular_graph(3, 24, seed=2)
    sequence = []
    for extra in range(3):
        H = G.copy()
        H.add_edges_from([(i, i + 12) for i in range(extra * 2)])
        sequence.append(maxcut_bqm(H))
    return sequence


def test_a_seed_reproduces_the_whole_sequence():
    runs = [DyCOSampler().sample_sequence(snapshots(), num_reads=2, seed=5, max_epochs=60) for _ in range(2)]
    for first, second in zip(*runs):
        assert np.array_equal(first.record.sample, second.record.sample)
        assert first.info["relaxed_loss"] == second.info["relaxed_loss"]


def test_reset_forgets_the_replicas():
    sampler = DyCOSampler()
    sampler.sample_sequence(snapshots()[:2], seed=0, max_epochs=20)
    sampler.reset()
    result = sampler.sample(snapshots()[2], seed=0, max_epochs=20)
    assert (result.info["snapshot"], result.info["start"]) == (0, "fresh")


def test_fallbacks_are_fresh_starts_that_say_why():
    sampler = DyCOSampler()
    sampler.sample(ring(["a", "b", "c"]), num_reads=2, seed=0, max_epochs=10)
    disjoint = sampler.sample(ring(["x", "y", "z"]), num_reads=2, max_epochs=10)
    assert (disjoint.info["start"], disjoint.info["fallback"]) == ("fresh", "no shared variables")
    more_reads = sampler.sample(ring(["x", "y", "z"]), num_reads=3, max_epochs=10)
    assert more_reads.info["start"] == "fresh" and "num_reads changed from 2 to 3" in more_reads.info["fallback"]


def test_an_empty_snapshot_changes_nothing_and_vartype_may_change():
    sampler = DyCOSampler()
    sampler.sample(ring(["a", "b", "c"]), seed=0, max_epochs=10)
    empty = sampler.sample(dimod.BinaryQuadraticModel("SPIN"), max_epochs=10)
    assert len(empty.variables) == 0 and empty.info["fallback"] == "empty model"
    binary = ring(["a", "b", "c"]).change_vartype("BINARY", inplace=False)
    result = sampler.sample(binary, max_epochs=10)
    assert result.info["start"] == "shrink_perturb" and result.info["snapshot"] == 1
    assert result.vartype is dimod.BINARY
    assert all(e == pytest.approx(binary.energy(s)) for s, e in result.data(["sample", "energy"]))


@pytest.mark.parametrize(
    ("keywords", "words"),
    [
        ({"mode": "hot"}, "mode must be one of"),
        ({"shrink": -1}, "shrink"),
        ({"perturb": float("nan")}, "perturb"),
        ({"conv": "gat"}, "conv must be one of"),
        ({"learning_rate": 0}, "learning_rate"),
    ],
)
def test_bad_settings_are_named(keywords, words):
    with pytest.raises(ValueError, match=words):
        DyCOSampler(**keywords)


def test_dynamic_maxcut_stays_near_the_optimum():
    sequence = []
    G = nx.random_regular_graph(3, 40, seed=0)
    for step in range(3):
        H = G.copy()
        H.add_edges_from((i, (i + 7 + step) % 40) for i in range(0, 40, 5))
        sequence.append(H)
    results = DyCOSampler().sample_sequence([maxcut_bqm(H) for H in sequence], num_reads=4, seed=0, max_epochs=400)
    for H, result in zip(sequence, results):
        optimum = MaxCut(H).solve(HiGHSSampler(), time_limit=30)[0].objective
        assert -result.first.energy >= 0.95 * optimum


def test_dynamic_tsp_with_graphsage_gives_tours_for_every_snapshot():
    from gnnsolve.adapters.tsp import TSP

    rng = np.random.default_rng(0)
    cities = rng.random((7, 2)) * 100
    sampler = DyCOSampler(conv="sage")
    for position in np.linspace([10, 10], [90, 90], 3):
        problem = TSP.from_coordinates(np.vstack([cities, position]))
        assert problem.sample_defaults(sampler) == {"polish": False, "max_epochs": 100}
        solution, sampleset = problem.solve(sampler, num_reads=2, seed=0)
        assert solution.feasible and sorted(solution.value) == list(range(8))
    assert sampleset.info["snapshot"] == 2 and sampleset.info["start"] == "shrink_perturb"


def test_budget_and_threads_are_reported_and_restored():
    before = torch.get_num_threads()
    sampler = DyCOSampler()
    first = sampler.sample(maxcut_bqm(nx.random_regular_graph(3, 30, seed=0)), seed=0)
    assert first.info["threads"] == 1 and torch.get_num_threads() == before
    assert first.info["time_limit"] == default_time_limit(30, 45)
    second = sampler.sample(maxcut_bqm(nx.random_regular_graph(3, 30, seed=1)), seed=0, threads=2)
    assert second.info["threads"] == 2 and torch.get_num_threads() == before


def test_a_budget_too_short_to_train_keeps_the_replicas_and_still_polishes():
    """A limit that leaves no room to train: the snapshot gets polished random states, and the next
    snapshot still warm-starts from the replicas trained before."""
    small = maxcut_bqm(nx.random_regular_graph(3, 40, seed=0))
    huge = maxcut_bqm(nx.random_regular_graph(3, 40_000, seed=0))
    sampler = DyCOSampler(mode="warm")
    sampler.sample(small, seed=0, max_epochs=20)
    skipped = sampler.sample(huge, time_limit=0.05)
    assert skipped.info["start"] == "skipped" and skipped.info["epochs"] == 0
    assert skipped.first.energy < 0
    assert sampler.sample(small, max_epochs=20).info["start"] == "warm"


def test_the_annealing_finisher_is_available_and_reproducible():
    runs = [DyCOSampler().sample_sequence(snapshots(), num_reads=2, seed=5, max_epochs=60, polish="sa") for _ in range(2)]
    for first, second in zip(*runs):
        assert first.info["polish"]["method"] == "sa" and first.info["polish"]["chains"] == 16
        assert np.array_equal(first.record.sample, second.record.sample)
        assert (first.record.energy <= first.record.raw_energy + 1e-9).all()
    with pytest.raises(ValueError, match="polish"):
        DyCOSampler().sample(snapshots()[0], polish="annealing")
