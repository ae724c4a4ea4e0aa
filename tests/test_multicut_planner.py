"""Multicut planning by edge contraction: environment, network, MCTS, sampler, checkpoint, registry."""

from __future__ import annotations

import time

import dimod
import networkx as nx
import numpy as np
import pytest
import torch

import gnnsolve
from gnnsolve.adapters.multicut import Multicut
from gnnsolve.errors import FileFormatError, InvalidModelError, UnsupportedModelError
from gnnsolve.nn.multicut import ContractionPolicy, encode_state, load_policy, save_policy
from gnnsolve.registry import get_sampler, sample_kwargs
from gnnsolve.samplers.multicut import METHODS, MulticutSampler
from gnnsolve.search.contraction import ContractionEnv
from gnnsolve.search.mcts import greedy_policy, plan
from gnnsolve.search.multicut import gaec, kernighan_lin_joins, multicut_cost
from gnnsolve.search.multicut_ilp import solve_multicut_ilp
from gnnsolve.train_multicut import random_signed_graph


@pytest.fixture(scope="module")
def sampler() -> MulticutSampler:
    return MulticutSampler()


def signed(kind: str, n: int, seed: int) -> nx.Graph:
    return random_signed_graph(kind, n, np.random.default_rng(seed))


def two_triangles() -> nx.Graph:
    G = nx.Graph()
    G.add_weighted_edges_from([(0, 1, 2), (1, 2, 2), (0, 2, 2), (3, 4, 2), (4, 5, 2), (3, 5, 2), (2, 3, -1)])
    return G


def by_weight(env: ContractionEnv):
    """A prior without a network: heavier pairs are likelier (greedy on it is GAEC's choice)."""
    pairs = env.contractible_edges()
    return pairs, 3.0 * env.weights[pairs[:, 0], pairs[:, 1]], 0.0


def against_weight(env: ContractionEnv):
    """A misleading prior: the lightest positive pair first."""
    pairs, logits, value = by_weight(env)
    return pairs, -logits, value


# ---------------------------------------------------------------- environment


def recomputed(G: nx.Graph, env: ContractionEnv) -> np.ndarray:
    """S^T C S without its diagonal, clusters in env.clusters() order, from scratch."""
    nodes = list(G.nodes)
    C = nx.to_numpy_array(G, nodelist=nodes, weight="weight")
    S = np.zeros((len(nodes), env.num_clusters))
    position = {c: k for k, c in enumerate(env.clusters().tolist())}
    S[np.arange(len(nodes)), [position[c] for c in env.assignment.tolist()]] = 1.0
    W = S.T @ C @ S
    np.fill_diagonal(W, 0.0)
    return W


@pytest.mark.parametrize("seed", range(4))
def test_incremental_weights_equal_recomputation_along_random_contractions(seed):
    G = signed("er" if seed % 2 else "ba", 25, seed)
    G.add_edge(0, 24, weight=0.0)  # a zero weight: adjacent but never contractible by itself
    rng = np.random.default_rng(seed)
    env = ContractionEnv.from_graph(G)
    assert env.cost == pytest.approx(sum(w for _, _, w in G.edges(data="weight")))
    while True:
        np.testing.assert_allclose(env.cluster_weights(), recomputed(G, env), atol=1e-9)
        labels = env.labels()
        assert env.cost == pytest.approx(multicut_cost(G, labels.tolist()))
        assert sorted(np.bincount(labels).tolist()) == sorted(env.sizes[env.active].tolist())
        pairs = env.contractible_edges(positive=False)
        if len(pairs) == 0:
            break
        a, b = pairs[rng.integers(len(pairs))]
        before = env.cost
        reward = env.contract(a, b)
        assert env.cost == pytest.approx(before - reward)
    assert env.num_clusters == nx.number_connected_components(G)


def test_contractible_edges_are_the_positive_adjacent_pairs_and_done_when_none():
    env = ContractionEnv.from_graph(two_triangles())
    assert env.contractible_edges().tolist() == [[0, 1], [0, 2], [1, 2], [3, 4], [3, 5], [4, 5]]
    assert [2, 3] in env.contractible_edges(positive=False).tolist()
    for a, b in [(0, 1), (0, 2), (3, 4), (3, 5)]:
        assert not env.done
        env.contract(a, b)
    assert env.done and env.cost == -1.0 and env.labels().tolist() == [0, 0, 0, 1, 1, 1]


def test_copy_is_independent():
    env = ContractionEnv.from_graph(two_triangles())
    other = env.copy()
    other.contract(0, 1)
    assert env.num_clusters == 6 and other.num_clusters == 5
    assert env.weights[0, 2] == 2.0 and other.weights[0, 2] == 4.0


def test_contract_refuses_bad_pairs():
    env = ContractionEnv.from_graph(two_triangles())
    with pytest.raises(ValueError, match="no edge"):
        env.contract(0, 4)
    with pytest.raises(ValueError, match="distinct clusters"):
        env.contract(1, 1)
    env.contract(0, 1)
    with pytest.raises(ValueError, match="distinct clusters"):
        env.contract(1, 2)


def test_gaec_rollout_from_singletons_is_gaec():
    G = signed("er", 30, 7)
    labels, cost = ContractionEnv.from_graph(G).gaec_rollout()
    assert cost == pytest.approx(multicut_cost(G, gaec(G)))
    assert cost == pytest.approx(multicut_cost(G, labels.tolist()))


# ---------------------------------------------------------------- network


def test_network_size_and_outputs():
    net = ContractionPolicy()
    assert 40_000 <= sum(p.numel() for p in net.parameters()) <= 60_000
    env = ContractionEnv.from_graph(signed("ba", 30, 1))
    state = encode_state(env)
    logits, value = net.forward_state(state)
    assert logits.shape == (len(env.contractible_edges()),)
    assert state.pairs.tolist() == env.contractible_edges().tolist()
    assert 0.0 < float(value) < 1.0


def test_features_do_not_depend_on_the_weight_scale():
    G = signed("er", 20, 2)
    scaled = G.copy()
    for u, v in scaled.edges:
        scaled.edges[u, v]["weight"] *= 7.5
    one, other = encode_state(ContractionEnv.from_graph(G)), encode_state(ContractionEnv.from_graph(scaled))
    torch.testing.assert_close(one.x, other.x)
    torch.testing.assert_close(one.pair_attr, other.pair_attr)
    torch.testing.assert_close(one.attraction, other.attraction)


# ---------------------------------------------------------------- MCTS


@pytest.mark.parametrize("prior", [by_weight, against_weight], ids=["by-weight", "against-weight"])
@pytest.mark.parametrize("seed", range(3))
def test_mcts_is_never_worse_than_its_gaec_rollout(prior, seed):
    G = signed("er" if seed % 2 else "ba", 30, 100 + seed)
    env = ContractionEnv.from_graph(G)
    result = plan(env, prior, simulations=4, top_k=3)
    assert result.rollout_cost == pytest.approx(multicut_cost(G, gaec(G)))
    assert result.cost <= result.rollout_cost + 1e-9
    assert result.cost == pytest.approx(multicut_cost(G, result.labels.tolist()))
    assert result.cost <= result.episode_cost + 1e-9
    assert env.num_clusters == G.number_of_nodes()  # the start state is untouched


def test_mcts_returns_every_distinct_partition_it_saw_cheapest_first():
    G = signed("er", 30, 21)
    result = plan(ContractionEnv.from_graph(G), by_weight, simulations=8, top_k=4)
    costs = [multicut_cost(G, labels.tolist()) for labels in result.candidates]
    assert len(result.candidates) > 1
    assert (result.candidates[0] == result.labels).all() and costs[0] == pytest.approx(result.cost)
    assert costs == sorted(costs)
    assert len({labels.tobytes() for labels in result.candidates}) == len(result.candidates)
    assert greedy_policy(ContractionEnv.from_graph(G), by_weight).candidates == []


def test_mcts_with_the_trained_network_beats_or_matches_gaec():
    G = signed("er", 40, 11)
    net, _ = load_policy()
    result = plan(ContractionEnv.from_graph(G), net.evaluate, simulations=8)
    assert result.cost <= multicut_cost(G, gaec(G)) + 1e-9


def test_mcts_time_limit_returns_the_best_complete_partition_so_far():
    G = signed("er", 80, 3)
    started = time.perf_counter()
    result = plan(ContractionEnv.from_graph(G), by_weight, simulations=64, time_limit=0.05)
    assert time.perf_counter() - started < 2.0
    assert result.stop_reason == "time_limit"
    assert result.cost <= result.rollout_cost + 1e-9


def test_greedy_policy_on_weights_is_gaec():
    G = signed("ba", 30, 5)
    result = greedy_policy(ContractionEnv.from_graph(G), by_weight)
    assert result.cost == pytest.approx(multicut_cost(G, gaec(G)))


def test_plan_checks_its_settings():
    env = ContractionEnv.from_graph(two_triangles())
    with pytest.raises(ValueError, match="simulations"):
        plan(env, by_weight, simulations=0)
    with pytest.raises(ValueError, match="rng"):
        plan(env, by_weight, temperature=1.0)


# ---------------------------------------------------------------- sampler


HAND_MADE = {  # name: (graph, optimal cost, GAEC's cost)
    "two-triangles": (two_triangles(), -1.0, -1.0),
    "frustrated-triangle": (nx.Graph([(0, 1, {"weight": 5}), (1, 2, {"weight": 2}), (0, 2, {"weight": -3})]), -1.0, -1.0),
    "path": (nx.Graph([(0, 1, {"weight": 4}), (1, 2, {"weight": -3}), (2, 3, {"weight": 4})]), -3.0, -3.0),
    "square-with-chord": (  # GAEC contracts the chord's square whole; KLj splits node 0 off
        nx.Graph(
            [(0, 1, {"weight": 3}), (1, 2, {"weight": 3}), (2, 3, {"weight": 3}), (3, 0, {"weight": -4}), (1, 3, {"weight": 1})]
        ),
        -1.0,
        0.0,
    ),
}


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("name", sorted(HAND_MADE))
def test_methods_on_hand_made_graphs_with_known_optima(sampler, method, name):
    G, optimum, greedy = HAND_MADE[name]
    assert solve_multicut_ilp(G).cost == pytest.approx(optimum)
    assert multicut_cost(G, gaec(G)) == pytest.approx(greedy)
    sampleset = sampler.sample(G, method=method, seed=0, simulations=8)
    if method == "greedy-policy":  # the network alone: no guarantee beyond a valid partition
        assert optimum - 1e-9 <= sampleset.first.energy <= greedy + 1e-9
    else:
        assert sampleset.first.energy == pytest.approx(greedy if method == "gaec" else optimum)
    assert sampleset.vartype is dimod.INTEGER
    assert sampleset.info["method"] == method


@pytest.mark.parametrize("seed", range(4))
def test_mcts_matches_the_ilp_optimum_on_small_random_graphs(sampler, seed):
    G = signed("er", 8, 200 + seed)
    optimum = solve_multicut_ilp(G).cost
    sampleset = sampler.sample(Multicut(G), seed=0, simulations=16)
    assert sampleset.first.energy == pytest.approx(optimum)


@pytest.mark.parametrize("kind", ["er", "ba"])
def test_mcts_is_never_worse_than_gaec_kl_or_the_greedy_policy(sampler, kind):
    G = signed(kind, 40, 300)
    problem = Multicut(G)
    sampleset = sampler.sample(problem, num_reads=2, seed=1, simulations=4, value_weight=0.5)
    reference = multicut_cost(G, kernighan_lin_joins(G, gaec(G)))
    assert sampleset.info["reference_cost"] == pytest.approx(reference)
    greedy = sampler.sample(problem, method="greedy-policy").first.energy
    assert sampleset.info["policy_cost"] == pytest.approx(greedy)
    for row in sampleset.data(["sample", "energy"]):
        assert row.energy == problem.evaluate(row.sample)
        assert row.energy <= min(reference, greedy) + 1e-9
        assert sorted(set(row.sample.values())) == list(range(len(set(row.sample.values()))))
    assert len(sampleset.info["rollout_cost"]) == 2
    assert set(sampleset.info["timing"]) == {"preprocessing_ns", "sampling_ns", "postprocessing_ns"}
    assert all(isinstance(v, int) for v in sampleset.info["timing"].values())


def test_refining_more_candidates_is_never_worse(sampler):
    G = signed("er", 50, 8)
    costs = []
    for refine in (1, 8, 64):
        sampleset = sampler.sample(G, seed=0, simulations=8, refine=refine)
        assert 1 <= sampleset.info["refined"][0] <= refine
        costs.append(sampleset.first.energy)
    assert costs[0] >= costs[1] >= costs[2]
    with pytest.raises(ValueError, match="refine"):
        sampler.sample(G, refine=0)


@pytest.mark.parametrize("method", ["mcts", "greedy-policy"])
def test_the_same_seed_gives_the_same_samples(method):
    G = signed("ba", 30, 9)
    first = MulticutSampler().sample(G, method=method, num_reads=3, seed=5, simulations=4)
    second = MulticutSampler().sample(G, method=method, num_reads=3, seed=5, simulations=4)
    assert (first.record.sample == second.record.sample).all()
    assert list(first.variables) == list(G.nodes)


def test_time_limit_is_honoured(sampler):
    G = signed("er", 100, 4)
    started = time.perf_counter()
    sampleset = sampler.sample(G, time_limit=0.3, simulations=64)
    assert time.perf_counter() - started < 3.0
    assert sampleset.info["stop_reason"] == ["time_limit"]
    assert sampleset.first.energy <= sampleset.info["reference_cost"] + 1e-9


@pytest.mark.parametrize("method", METHODS)
def test_degenerate_graphs(sampler, method):
    positive = nx.Graph([(0, 1, {"weight": 1}), (1, 2, {"weight": 2}), (3, 4, {"weight": 0.5})])
    positive.add_node(5)
    labels = sampler.sample(positive, method=method, simulations=2).first.sample
    assert labels == {0: 0, 1: 0, 2: 0, 3: 1, 4: 1, 5: 2}  # one cluster per component

    negative = nx.Graph([(0, 1, {"weight": -1}), (1, 2, {"weight": -2}), (0, 2, {"weight": -0.5})])
    sampleset = sampler.sample(negative, method=method, simulations=2)
    assert sampleset.first.sample == {0: 0, 1: 1, 2: 2} and sampleset.first.energy == -3.5

    zero = nx.Graph([(0, 1, {"weight": 0}), (1, 2, {"weight": 0})])
    assert sampler.sample(zero, method=method, simulations=2).first.energy == 0.0

    lonely = nx.Graph()
    lonely.add_node("a")
    assert sampler.sample(lonely, method=method).first.sample == {"a": 0}


def test_bad_input_is_refused_clearly(sampler):
    with pytest.raises(InvalidModelError, match="finite"):
        sampler.sample(nx.Graph([(0, 1, {"weight": float("nan")})]))
    with pytest.raises(InvalidModelError, match="undirected"):
        sampler.sample(nx.DiGraph([(0, 1, {"weight": 1.0})]))
    with pytest.raises(UnsupportedModelError, match="Multicut"):
        sampler.sample(dimod.BQM({"a": 1.0}, {}, 0.0, "BINARY"))
    with pytest.raises(ValueError, match="unknown method"):
        sampler.sample(two_triangles(), method="louvain")
    with pytest.raises(ValueError, match="num_reads"):
        sampler.sample(two_triangles(), num_reads=0)
    with pytest.raises(ValueError, match="value_weight"):
        sampler.sample(two_triangles(), value_weight=2.0)
    with pytest.warns(UserWarning, match="beta"):
        sampler.sample(two_triangles(), method="gaec", beta=1.0)


# ---------------------------------------------------------------- checkpoint


def test_the_shipped_checkpoint_loads_and_records_its_training():
    net, record = load_policy()
    assert isinstance(net, ContractionPolicy) and not net.training
    assert record["seed"] == 0 and record["held_out"]["top1_accuracy"] > 0.5


def test_missing_checkpoint_is_a_file_not_found_error(sampler, tmp_path):
    missing = tmp_path / "nowhere.pt"
    with pytest.raises(FileNotFoundError, match="nowhere.pt"):
        sampler.sample(two_triangles(), checkpoint=missing)


def test_corrupt_or_incompatible_checkpoints_are_refused(tmp_path):
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a checkpoint")
    with pytest.raises(FileFormatError, match="garbage.pt"):
        load_policy(garbage)
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": [1, 2]}, foreign)
    with pytest.raises(FileFormatError, match="not a multicut policy checkpoint"):
        load_policy(foreign)
    mismatched = tmp_path / "mismatched.pt"
    save_policy(ContractionPolicy(hidden=8), mismatched)
    checkpoint = torch.load(mismatched, weights_only=True)
    checkpoint["config"]["hidden"] = 16
    torch.save(checkpoint, mismatched)
    with pytest.raises(FileFormatError, match="does not fit"):
        load_policy(mismatched)


def test_a_saved_checkpoint_round_trips(tmp_path):
    torch.manual_seed(0)
    net = ContractionPolicy(hidden=16, layers=2)
    path = tmp_path / "small.pt"
    save_policy(net, path, {"note": "test"})
    loaded, record = load_policy(path)
    assert record == {"note": "test"} and loaded.config() == {"hidden": 16, "layers": 2}
    state = encode_state(ContractionEnv.from_graph(signed("ba", 12, 0)))
    torch.testing.assert_close(loaded.forward_state(state), net.eval().forward_state(state))
    sampleset = MulticutSampler().sample(two_triangles(), checkpoint=path, simulations=4)
    assert sampleset.first.energy == -1.0


# ---------------------------------------------------------------- registry


def test_registry_and_lazy_export():
    assert isinstance(get_sampler("multicut"), gnnsolve.MulticutSampler)
    keywords = sample_kwargs("multicut", time_limit=1.0, num_reads=2, seed=3)
    assert keywords == {"num_reads": 2, "seed": 3, "time_limit": 1.0}
    sampleset = get_sampler("multicut").sample(two_triangles(), **keywords, simulations=4)
    assert len(sampleset) == 2 and sampleset.first.energy == -1.0
