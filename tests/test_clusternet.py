"""ClusterNet: the network, and the sampler on modularity and k-center (fresh, observed, fitted)."""

from __future__ import annotations

import itertools
import math
import time

import dimod
import networkx as nx
import numpy as np
import pytest
import torch

import gnnsolve
from gnnsolve.adapters.clustering import KCenter, Modularity, greedy_k_center, modularity
from gnnsolve.errors import InvalidModelError, UnsupportedModelError
from gnnsolve.nn.clusternet import ClusterNet
from gnnsolve.registry import get_sampler, sample_kwargs
from gnnsolve.samplers.clusternet import LEARNED, ClusterNetSampler

KARATE = nx.karate_club_graph()  # weighted; the problems here ignore the weights (weight=None)
GRID = nx.grid_2d_graph(5, 5)


def drop_edges(G: nx.Graph, fraction: float, seed: int) -> nx.Graph:
    """``G`` with a random ``fraction`` of its edges removed (all nodes kept)."""
    rng = np.random.default_rng(seed)
    edges = list(G.edges())
    keep = rng.permutation(len(edges))[: round(len(edges) * (1 - fraction))]
    kept = nx.Graph()
    kept.add_nodes_from(G)
    kept.add_edges_from(edges[i] for i in keep)
    return kept


def labels(sampleset: dimod.SampleSet) -> list[dict]:
    return [dict(sample) for sample in sampleset.samples(sorted_by=None)]


def chosen(sample: dict) -> list:
    return [node for node, value in sample.items() if value]


def caveman(cliques: int, size: int, seed: int) -> nx.Graph:
    """Cliques joined in a ring, a few edges rewired: graphs with clear communities."""
    return nx.relaxed_caveman_graph(cliques, size, 0.1, seed=seed)


# ------------------------------------------------------------------ the network


def test_network_clusters_and_warm_starts():
    torch.manual_seed(0)
    edge_index = torch.tensor([[0, 1, 1, 2, 3, 4], [1, 0, 2, 1, 4, 3]])
    net = ClusterNet(in_features=3, k=2, dropout=0.0)
    before = net.centres.clone()
    embeddings, clusters = net(torch.rand(5, 3), edge_index, iterations=2)
    assert embeddings.shape == (5, 50) and clusters.assignments.shape == (5, 2)
    assert torch.allclose(clusters.assignments.sum(dim=1), torch.ones(5))
    assert torch.equal(net.centres, clusters.centres.detach()) and not torch.equal(net.centres, before)
    x = net.facility_weights(embeddings, clusters.centres)
    assert x.shape == (5,) and bool((x >= 0).all() and (x <= 1).all()) and float(x.detach().sum()) <= 2 + 1e-5


def test_network_gradients_reach_the_weights_with_both_backwards():
    edge_index = torch.tensor([[0, 1, 2, 3], [1, 0, 3, 2]])
    for backward in ("one_step", "exact"):
        torch.manual_seed(0)
        net = ClusterNet(None, k=2, num_nodes=4, embedding_dim=6, hidden=5, backward=backward)
        _, clusters = net(None, edge_index, iterations=3)
        clusters.assignments[:, 0].pow(2).sum().backward()
        assert net.conv1.lin.weight.grad is not None and torch.isfinite(net.conv1.lin.weight.grad).all()


def test_network_input_mode_is_checked():
    edge_index = torch.tensor([[0, 1], [1, 0]])
    with pytest.raises(ValueError, match="features=None"):
        ClusterNet(None, k=1, num_nodes=2)(torch.ones(2, 3), edge_index)
    with pytest.raises(ValueError, match=r"shape \(n, 3\)"):
        ClusterNet(3, k=1)(torch.ones(2, 4), edge_index)
    with pytest.raises(ValueError, match="num_nodes"):
        ClusterNet(3, k=1, num_nodes=2)
    with pytest.raises(ValueError, match="dropout"):
        ClusterNet(3, k=1, dropout=1.0)


# ------------------------------------------------------------------ modularity


@pytest.mark.parametrize(("k", "least"), [(2, 0.37), (3, 0.39), (4, 0.40)])
def test_karate_modularity_is_near_the_optimum(k, least):
    # optima over at most k communities: 0.3718, 0.4020, 0.4198; a random partition has Q ~ 0.
    # Measured over seeds 0..13: k=2 always 0.3718, k=3 0.3922 or 0.4020, k=4 always 0.4198.
    sampleset = ClusterNetSampler().sample(KARATE, k=k, objective="modularity", seed=0)
    sample = sampleset.first.sample
    assert sampleset.vartype is dimod.INTEGER
    assert list(sampleset.variables) == list(KARATE.nodes)
    assert set(sample.values()) <= set(range(k))
    assert -sampleset.first.energy >= least
    assert sampleset.first.energy == pytest.approx(-modularity(KARATE, sample), abs=1e-12)
    info = sampleset.info
    assert info["objective"] == "modularity" and info["features"] == LEARNED and info["start"] == "fresh"
    assert info["epochs"] == [1001] and len(info["training_loss"][0]) == 1001
    assert info["best_training_loss"][0] == pytest.approx(sampleset.first.energy, abs=0.02)
    assert set(info["timing"]) == {"preprocessing_ns", "sampling_ns", "postprocessing_ns"}


def test_reads_are_rows_and_the_seed_repeats_them():
    problem = Modularity(KARATE, k=3)
    first = ClusterNetSampler().sample(problem, num_reads=3, seed=5, epochs=60)
    again = ClusterNetSampler().sample(problem, num_reads=3, seed=5, epochs=60)
    other = ClusterNetSampler().sample(problem, num_reads=3, seed=6, epochs=60)
    assert len(first) == 3
    assert np.array_equal(first.record.sample, again.record.sample)
    assert first.info["training_loss"] == again.info["training_loss"]
    assert first.info["training_loss"] != other.info["training_loss"]
    assert len({tuple(curve) for curve in first.info["training_loss"]}) == 3
    for sample, energy in zip(labels(first), first.record.energy):
        assert energy == pytest.approx(-problem.evaluate(sample), abs=1e-12)


def test_features_given_as_array_or_attribute():
    rng = np.random.default_rng(0)
    features = rng.random((34, 5))
    G = KARATE.copy()
    nx.set_node_attributes(G, {node: features[i] for i, node in enumerate(G)}, "x")
    problem = Modularity(G, k=2)
    by_array = ClusterNetSampler().sample(problem, features=features, seed=1, epochs=80)
    by_name = ClusterNetSampler().sample(problem, features="x", seed=1, epochs=80)
    assert by_array.info["features"] == "given"
    assert np.array_equal(by_array.record.sample, by_name.record.sample)
    assert -by_array.first.energy > 0.15  # random features: about 0.3 after 80 epochs


def test_observed_graph_trains_while_energies_score_the_full_graph():
    seen = drop_edges(KARATE, 0.6, seed=3)
    sampleset = ClusterNetSampler().sample(
        KARATE, k=3, objective="modularity", observed=seen, num_reads=3, seed=0, epochs=150
    )  # best of 3: 0.23 to 0.29 over seeds 0..5
    info = sampleset.info
    assert info["observed_edges"] == seen.number_of_edges() == 31
    assert info["observed_fraction"] == pytest.approx(31 / 78)
    for sample, energy in zip(labels(sampleset), sampleset.record.energy):
        assert energy == pytest.approx(-modularity(KARATE, sample), abs=1e-12)
        assert energy != pytest.approx(-modularity(seen, sample), abs=1e-6)
    assert -sampleset.first.energy > 0.2


# ------------------------------------------------------------------ k-center


def test_k_center_selects_exactly_k_and_beats_random_sets():
    problem = KCenter(GRID, k=3)
    sampleset = ClusterNetSampler().sample(problem, num_reads=2, seed=0, epochs=150)
    assert sampleset.vartype is dimod.BINARY and list(sampleset.variables) == list(GRID.nodes)
    assert (sampleset.record.sample.sum(axis=1) == 3).all()
    for sample, energy in zip(labels(sampleset), sampleset.record.energy):
        assert energy == problem.evaluate(chosen(sample))
    rng = np.random.default_rng(0)
    random_sets = [problem.evaluate([problem.nodes[i] for i in rng.choice(25, 3, replace=False)]) for _ in range(300)]
    assert sampleset.record.energy.mean() < np.mean(random_sets)  # about 4.0
    greedy = min(problem.evaluate(greedy_k_center(GRID, 3, seed=s)) for s in range(10))  # 3.0
    assert sampleset.first.energy <= greedy
    assert sampleset.info["objective"] == "kcenter"


def test_k_center_observed_is_scored_on_the_full_graph():
    seen = drop_edges(KARATE, 0.6, seed=1)
    full = KCenter(KARATE, k=4)
    sampleset = ClusterNetSampler().sample(full, observed=seen, seed=2, epochs=60)
    facilities = chosen(sampleset.first.sample)
    assert len(facilities) == 4
    assert sampleset.first.energy == full.evaluate(facilities)
    assert np.isinf(KCenter(seen, 4).evaluate(facilities))  # the observed graph is disconnected


def test_polish_takes_each_decision_to_a_local_optimum_of_the_training_graph():
    problem = Modularity(KARATE, k=4)
    sampleset = ClusterNetSampler().sample(problem, num_reads=2, seed=0, epochs=20, polish=True)
    raw = sampleset.info["raw_energy"]
    for sample, energy, before in zip(labels(sampleset), sampleset.record.energy, raw):
        assert energy == pytest.approx(-modularity(KARATE, sample), abs=1e-12)
        assert energy <= before + 1e-12
        values = [sample[v] for v in problem.nodes]
        for i, c in itertools.product(range(34), range(4)):  # no single move raises Q
            moved = dict(zip(problem.nodes, values))
            moved[problem.nodes[i]] = c
            assert modularity(KARATE, moved) <= -energy + 1e-12
    unpolished = ClusterNetSampler().sample(problem, num_reads=2, seed=0, epochs=20)
    assert "raw_energy" not in unpolished.info
    assert unpolished.record.energy.tolist() == pytest.approx(raw)


def test_polish_of_k_center_swaps_facilities_on_the_observed_graph():
    full = KCenter(GRID, k=3)
    seen = drop_edges(GRID, 0.2, seed=0)
    sampleset = ClusterNetSampler().sample(full, observed=seen, seed=0, epochs=10, polish=True)
    facilities = chosen(sampleset.first.sample)
    assert len(facilities) == 3 and sampleset.first.energy == full.evaluate(facilities)
    training = KCenter(seen, 3)
    raw = ClusterNetSampler().sample(full, observed=seen, seed=0, epochs=10)
    assert training.evaluate(facilities) <= training.evaluate(chosen(raw.first.sample))
    assert sampleset.info["raw_energy"] == [raw.first.energy]


def test_problems_hand_themselves_to_the_sampler():
    solution, sampleset = Modularity(KARATE, k=2).solve(ClusterNetSampler(), seed=0, epochs=50)
    assert sampleset.vartype is dimod.INTEGER and solution.feasible
    assert solution.objective == pytest.approx(-sampleset.first.energy)
    solution, sampleset = KCenter(GRID, k=2).solve(ClusterNetSampler(), seed=0, epochs=50)
    assert len(solution.value) == 2 and solution.objective == sampleset.first.energy


# ------------------------------------------------------------------ fit and transfer


def test_fit_then_apply_to_an_unseen_graph_unchanged_or_fine_tuned():
    rng = np.random.default_rng(0)
    graphs = [caveman(3, 6, seed) for seed in range(3)]
    sampler = ClusterNetSampler().fit(
        graphs, k=3, objective="modularity", features=[rng.random((18, 8)) for _ in graphs], epochs=150, seed=0
    )
    assert sampler.fit_info["graphs"] == 3 and sampler.fit_info["epochs"] == 150
    unseen, features = caveman(3, 7, 10), rng.random((21, 8))
    applied = sampler.sample(unseen, k=3, objective="modularity", features=features, epochs=0, num_reads=2)
    assert applied.info["start"] == "fitted" and applied.info["epochs"] == [0, 0]
    assert applied.first.energy == pytest.approx(-modularity(unseen, applied.first.sample), abs=1e-12)
    tuned = sampler.sample(unseen, k=3, objective="modularity", features=features, epochs=100, seed=0)
    assert tuned.info["start"] == "fine-tuned"
    assert -tuned.first.energy > 0.3
    again = sampler.sample(unseen, k=3, objective="modularity", features=features, epochs=0)
    assert np.array_equal(again.record.sample[0], applied.record.sample[0])  # fine-tuning used a copy


def test_fit_refuses_what_cannot_transfer():
    graphs = [caveman(2, 5, 0), caveman(2, 5, 1)]
    with pytest.raises(ValueError, match="cannot carry over"):
        ClusterNetSampler().fit(graphs, k=2, objective="modularity")
    with pytest.raises(ValueError, match="same width"):
        ClusterNetSampler().fit(graphs, k=2, objective="modularity", features=[np.ones((10, 3)), np.ones((10, 4))])
    with pytest.raises(ValueError, match="one objective and one k"):
        ClusterNetSampler().fit([Modularity(graphs[0], 2), Modularity(graphs[1], 3)], features=[np.ones((10, 3))] * 2)
    fitted = ClusterNetSampler().fit(graphs, k=2, objective="modularity", features=[np.ones((10, 3))] * 2, epochs=5)
    with pytest.raises(ValueError, match="k=2"):
        fitted.sample(graphs[0], k=3, objective="modularity", features=np.ones((10, 3)), epochs=0)
    with pytest.raises(ValueError, match="width 3"):
        fitted.sample(graphs[0], k=2, objective="modularity", epochs=0)
    with pytest.raises(ValueError, match="width 3"):
        fitted.sample(graphs[0], k=2, objective="modularity", features=np.ones((10, 4)), epochs=0)


# ------------------------------------------------------------------ errors, limits, plumbing


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda s: s.sample(nx.path_graph(3), k=4, objective="modularity"), InvalidModelError, "1..3"),
        (lambda s: s.sample(nx.path_graph(3), k=4, objective="kcenter"), InvalidModelError, "1..3"),
        (lambda s: s.sample(nx.empty_graph(4), k=2, objective="modularity"), InvalidModelError, "without edges"),
        (lambda s: s.sample(KARATE, k=2, objective="maxcut"), ValueError, "unknown objective"),
        (lambda s: s.sample(KARATE, k=2), ValueError, "needs k and objective"),
        (lambda s: s.sample(Modularity(KARATE, 2), objective="kcenter"), ValueError, "contradicts"),
        (lambda s: s.sample(dimod.BQM("BINARY")), UnsupportedModelError, "Modularity or KCenter"),
        (lambda s: s.sample(Modularity(KARATE, 2), features=np.ones((33, 2))), ValueError, r"shape \(34, F\)"),
        (lambda s: s.sample(Modularity(KARATE, 2), features=np.full((34, 2), np.nan)), ValueError, "NaN"),
        (lambda s: s.sample(Modularity(KARATE, 2), features="missing"), ValueError, "no attribute 'missing'"),
        (lambda s: s.sample(Modularity(KARATE, 2), observed=nx.path_graph(3)), ValueError, "problem's nodes"),
        (lambda s: s.sample(Modularity(nx.path_graph(4), 2), observed=nx.Graph([(0, 2), (1, 3)])), ValueError, "not an edge"),
        (
            lambda s: s.sample(Modularity(KARATE, 2), observed=nx.empty_graph(34)),
            InvalidModelError,
            "observed graph cannot be trained on",
        ),
        (lambda s: s.sample(Modularity(KARATE, 2), epochs=0), ValueError, "call fit"),
        (lambda s: s.sample(Modularity(KARATE, 2), epochs=-1), ValueError, "epochs"),
        (lambda s: s.sample(Modularity(KARATE, 2), num_reads=0), ValueError, "num_reads"),
        (lambda s: s.sample(Modularity(KARATE, 2), time_limit=0), ValueError, "time_limit"),
        (lambda s: s.sample(Modularity(KARATE, 2), polish="yes"), ValueError, "polish"),
    ],
)
def test_mistakes_get_one_clear_error(call, error, message):
    with pytest.raises(error, match=message):
        call(ClusterNetSampler())


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="backward"):
        ClusterNetSampler(backward="unrolled")
    with pytest.raises(ValueError, match="learning_rate"):
        ClusterNetSampler(learning_rate=0)
    with pytest.raises(ValueError, match="weight_decay"):
        ClusterNetSampler(weight_decay=-1)


def test_time_limit_is_honoured():
    start = time.perf_counter()
    sampleset = ClusterNetSampler().sample(Modularity(KARATE, 2), num_reads=2, epochs=10**6, time_limit=0.6, seed=0)
    assert time.perf_counter() - start < 2.0
    assert sampleset.info["stop_reason"] == ["time_limit", "time_limit"]
    assert sampleset.info["time_limit"] == 0.6
    assert len(sampleset) == 2


def test_default_budget_is_reported_and_scales_with_reads():
    problem = Modularity(KARATE, 2)
    one = ClusterNetSampler().sample(problem, epochs=20, seed=0)
    three = ClusterNetSampler().sample(problem, epochs=20, num_reads=3, seed=0)
    assert one.info["time_limit"] == 20.0  # the least default per read: karate's epochs take far less
    assert three.info["time_limit"] == 60.0
    assert one.info["stop_reason"] == ["epochs"]


def test_no_limit_with_inf():
    sampleset = ClusterNetSampler().sample(Modularity(KARATE, 2), epochs=30, time_limit=math.inf, seed=0)
    assert sampleset.info["time_limit"] == math.inf
    assert sampleset.info["epochs"] == [30] and sampleset.info["stop_reason"] == ["epochs"]


@pytest.mark.parametrize("objective", ["modularity", "kcenter"])
def test_the_deadline_covers_training_and_polish(objective):
    G = caveman(40, 25, seed=0)  # 1,000 nodes: 1001 epochs and a full polish take far longer than the limit
    problem = Modularity(G, 40) if objective == "modularity" else KCenter(G, 10)
    start = time.perf_counter()
    sampleset = ClusterNetSampler().sample(problem, num_reads=2, time_limit=1.0, polish=True, seed=0)
    assert time.perf_counter() - start < 1.0 * 1.5 + 2.0
    assert sampleset.info["stop_reason"] == ["time_limit", "time_limit"]
    for row, energy in zip(labels(sampleset), sampleset.record.energy):
        if objective == "modularity":
            assert set(row.values()) <= set(range(40)) and energy == -problem.evaluate(row)
        else:
            assert len(chosen(row)) == 10 and energy == problem.evaluate(chosen(row))


def test_a_budget_without_room_for_an_epoch_decides_at_random_and_polishes():
    G = caveman(40, 25, seed=1)
    problem = Modularity(G, 40)
    sampleset = ClusterNetSampler().sample(problem, time_limit=1e-3, polish=True, seed=0)
    assert sampleset.info["epochs"] == [0] and sampleset.info["stop_reason"] == ["time_limit"]
    row = dict(sampleset.first.sample)
    assert set(row.values()) <= set(range(40)) and sampleset.first.energy == -problem.evaluate(row)
    assert sampleset.first.energy <= sampleset.info["raw_energy"][0]


def test_threads_are_set_for_the_call_and_restored(monkeypatch):
    import gnnsolve.samplers.clusternet as module

    seen = []
    loss = module._loss
    monkeypatch.setattr(module, "_loss", lambda *args: seen.append(torch.get_num_threads()) or loss(*args))
    before = torch.get_num_threads()
    sampleset = ClusterNetSampler().sample(Modularity(KARATE, 2), epochs=1, threads=2, seed=0)
    assert sampleset.info["threads"] == 2 and set(seen) == {2}
    assert torch.get_num_threads() == before
    assert ClusterNetSampler().sample(Modularity(KARATE, 2), epochs=3, seed=0).info["threads"] == 1
    assert torch.get_num_threads() == before


def test_threads_are_restored_after_an_exception(monkeypatch):
    import gnnsolve.samplers.clusternet as module

    def fail(*args):
        raise RuntimeError("decision failed")

    monkeypatch.setattr(module, "_decide", fail)
    before = torch.get_num_threads()
    with pytest.raises(RuntimeError, match="decision failed"):
        ClusterNetSampler().sample(Modularity(KARATE, 2), epochs=3, threads=before + 1, seed=0)
    assert torch.get_num_threads() == before


@pytest.mark.parametrize("threads", [0, -1, 1.5, True])
def test_bad_threads_are_refused(threads):
    with pytest.raises(ValueError, match="threads"):
        ClusterNetSampler().sample(Modularity(KARATE, 2), epochs=3, threads=threads)


def test_fit_reports_its_budget_and_threads():
    graphs = [nx.connected_caveman_graph(2, 5) for _ in range(2)]
    sampler = ClusterNetSampler().fit(
        graphs, k=2, objective="modularity", features=[np.ones((10, 3))] * 2, epochs=5, seed=0, threads=1
    )
    assert sampler.fit_info["threads"] == 1 and sampler.fit_info["time_limit"] == 20.0
    sampler.fit(graphs, k=2, objective="modularity", features=[np.ones((10, 3))] * 2, epochs=10**6, seed=0, time_limit=0.3)
    assert sampler.fit_info["stop_reason"] == "time_limit" and sampler.fit_info["time_limit"] == 0.3


def test_unknown_keywords_warn():
    with pytest.warns(UserWarning, match="max_epochs"):
        ClusterNetSampler().sample(Modularity(KARATE, 2), epochs=2, max_epochs=3)


def test_registered_and_exported():
    assert isinstance(get_sampler("clusternet"), gnnsolve.ClusterNetSampler)
    assert sample_kwargs("clusternet", time_limit=1.0, num_reads=2, seed=3) == {"num_reads": 2, "seed": 3, "time_limit": 1.0}
