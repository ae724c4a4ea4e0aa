"""The fast paths of multicut search: undoable contractions against a full rebuild, the batched
tree search against the sequential one, and the vectorised GAEC and KLj against the heap-ordered
ones they replace where the largest weight or gain is unique."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gnnsolve.nn.multicut import load_policy
from gnnsolve.search import multicut, multicut_kernels
from gnnsolve.search.contraction import ContractionEnv
from gnnsolve.search.mcts import plan
from gnnsolve.search.multicut import SignedGraph, _gaec, _kernighan_lin_joins, gaec
from test_multicut_planner import against_weight, by_weight, signed  # tests/test_multicut_planner.py


def dense_graph(n: int, p: float, seed: int, integer: bool = False) -> SignedGraph:
    """Erdős–Rényi with weights U(-1, 1), or in -3..3 (many ties)."""
    G = nx.gnp_random_graph(n, p, seed=seed)
    rng = np.random.default_rng(seed)
    edges = np.array(sorted(G.edges()), dtype=np.int64).reshape(-1, 2)
    weights = rng.integers(-3, 4, len(edges)).astype(float) if integer else rng.uniform(-1, 1, len(edges))
    return SignedGraph.from_arrays(edges[:, 0], edges[:, 1], weights, n)


def snapshot(env: ContractionEnv) -> tuple:
    return (env.weights.copy(), env.adjacent.copy(), env.sizes.copy(), env.active.copy(), env.assignment.copy(), env.cost)


def rebuilt(env: ContractionEnv) -> tuple[np.ndarray, np.ndarray, float]:
    """The state's inter-cluster weights, adjacency and cost from scratch: S^T C S off the
    diagonal, clusters in ``env.clusters()`` order."""
    graph = env.graph
    n = graph.num_nodes
    weights = np.zeros((n, n))
    weights[graph.rows, graph.cols] = weights[graph.cols, graph.rows] = graph.weights
    S = (env.assignment[:, None] == env.clusters()[None, :]).astype(float)
    W = S.T @ weights @ S
    A = S.T @ (weights != 0).astype(float) @ S
    off = ~np.eye(len(W), dtype=bool)
    return W * off, (A > 0) & off, graph.cost(env.assignment)


# ---------------------------------------------------------------- the environment


@settings(max_examples=40, deadline=None)
@given(n=st.integers(2, 30), p=st.floats(0.1, 0.9), seed=st.integers(0, 10**6), data=st.data())
def test_undoable_contractions_equal_a_full_rebuild_and_undo_restores_each_state_exactly(n, p, seed, data):
    env = ContractionEnv(dense_graph(n, p, seed))
    states = [snapshot(env)]
    while True:
        pairs = env.contractible_edges(positive=False)
        if len(pairs) == 0 or not data.draw(st.booleans(), label="go on"):
            break
        a, b = pairs[data.draw(st.integers(0, len(pairs) - 1), label="pair")]
        env.contract(a, b, undoable=True)
        states.append(snapshot(env))
        weights, adjacent, cost = rebuilt(env)
        np.testing.assert_allclose(env.cluster_weights(), weights, atol=1e-9)
        assert (env.adjacent[np.ix_(env.clusters(), env.clusters())] == adjacent).all()
        assert env.cost == pytest.approx(cost)
    states.pop()
    while states:
        env.undo()
        expected = states.pop()
        for got, want in zip(snapshot(env), expected):
            assert np.array_equal(got, want)  # bit for bit
    with pytest.raises(IndexError):
        env.undo()


def test_only_undoable_contractions_are_undone_and_copies_start_with_none():
    env = ContractionEnv.from_graph(signed("er", 12, 1))
    a, b = env.contractible_edges()[0]
    env.contract(a, b)
    before = snapshot(env)
    c, d = env.contractible_edges()[0]
    env.contract(c, d, undoable=True)
    other = env.copy()
    assert env.undo() == (min(c, d), max(c, d))
    assert all(np.array_equal(x, y) for x, y in zip(snapshot(env), before))
    with pytest.raises(IndexError):
        env.undo()
    with pytest.raises(IndexError):
        other.undo()


@pytest.mark.parametrize("seed", range(3))
def test_the_dense_rollout_is_gaec_from_any_state(seed):
    graph = dense_graph(80, 0.6, seed)  # mean degree 47: rollouts run on the dense block
    env = ContractionEnv(graph)
    assert env.dense_rollouts
    rng = np.random.default_rng(seed)
    for _ in range(10):
        pairs = env.contractible_edges()
        env.contract(*pairs[rng.integers(len(pairs))])
    labels, cost = env.gaec_rollout()
    contracted = env.contracted_graph()
    expected = contracted.cost(_gaec(contracted)) + env.cost - float(contracted.weights.sum())
    assert cost == pytest.approx(expected) == pytest.approx(graph.cost(labels))


# ---------------------------------------------------------------- the tree search

# the sequential search before leaves could be batched: (cost, simulations, candidates, first actions)
SEQUENTIAL = {
    ("er", 40, 11, "by"): (-46.16946143350033, 125, 9, [(10, 27), (10, 18), (3, 38), (3, 20)]),
    ("er", 40, 11, "against"): (-46.16946143350033, 142, 66, [(27, 31), (1, 18), (36, 37), (0, 32)]),
    ("ba", 60, 12, "by"): (-22.07823094324627, 163, 1, [(7, 8), (7, 50), (0, 1), (0, 7)]),
    ("ba", 60, 12, "against"): (-22.07823094324627, 183, 46, [(24, 52), (18, 43), (0, 16), (4, 33)]),
    ("er", 70, 13, "by"): (-76.56149341087445, 209, 12, [(13, 35), (8, 13), (30, 64), (21, 39)]),
    ("er", 70, 13, "against"): (-79.67499268315392, 256, 177, [(15, 37), (4, 39), (16, 30), (54, 62)]),
}


@pytest.mark.parametrize("key", sorted(SEQUENTIAL))
def test_batches_of_one_are_the_sequential_search(key):
    kind, n, seed, prior = key
    env = ContractionEnv.from_graph(signed(kind, n, seed))
    result = plan(env, by_weight if prior == "by" else against_weight, simulations=6, top_k=3, batch_size=1)
    cost, simulations, candidates, actions = SEQUENTIAL[key]
    assert (result.cost, result.simulations, len(result.candidates), result.actions[:4]) == (
        cost,
        simulations,
        candidates,
        actions,
    )


@settings(max_examples=25, deadline=None)
@given(
    kind=st.sampled_from(["er", "ba"]),
    n=st.integers(3, 40),
    seed=st.integers(0, 10**6),
    batch_size=st.integers(1, 8),
    simulations=st.integers(1, 12),
    misleading=st.booleans(),
)
def test_a_batched_search_returns_its_partition_at_its_recomputed_cost_never_worse_than_gaec(
    kind, n, seed, batch_size, simulations, misleading
):
    G = signed(kind, n, seed)
    env = ContractionEnv.from_graph(G)
    before = snapshot(env)
    result = plan(env, against_weight if misleading else by_weight, simulations=simulations, top_k=3, batch_size=batch_size)
    graph = env.graph
    assert result.cost == pytest.approx(graph.cost(result.labels))
    assert result.cost <= graph.cost(_gaec(graph)) + 1e-9
    assert result.cost <= result.episode_cost + 1e-9
    costs = [graph.cost(labels) for labels in result.candidates]
    assert costs == sorted(costs) and (result.candidates[0] == result.labels).all()
    assert all(np.array_equal(x, y) for x, y in zip(snapshot(env), before))  # the start state is untouched


def test_the_network_answers_a_batch_as_it_answers_each_state():
    torch.set_num_threads(1)
    net, _ = load_policy()
    env = ContractionEnv.from_graph(signed("er", 50, 3))
    rng = np.random.default_rng(0)
    encoded = []
    for _ in range(5):  # states of different sizes, padded in the batch
        encoded.append(net.encode(env))
        pairs = env.contractible_edges()
        env.contract(*pairs[rng.integers(len(pairs))])
    for (pairs, logits, value), state in zip(net.evaluate_batch(encoded), encoded):
        one_pairs, one_logits, one_value = net.evaluate_batch([state])[0]
        assert (pairs == one_pairs).all()
        np.testing.assert_allclose(logits, one_logits, atol=1e-4)
        assert value == pytest.approx(one_value, rel=1e-4)
    batched = plan(ContractionEnv.from_graph(signed("er", 30, 4)), net, simulations=8, batch_size=4)
    assert batched.cost <= batched.rollout_cost + 1e-9


# ---------------------------------------------------------------- vectorised GAEC and KLj


def survivors_partition(graph: SignedGraph, parent: list[int]) -> np.ndarray:
    return graph.canonical(multicut._survivors(parent))


@settings(max_examples=40, deadline=None)
@given(n=st.integers(2, 60), p=st.floats(0.2, 1.0), seed=st.integers(0, 10**6), integer=st.booleans())
def test_dense_gaec_gives_the_heaps_partition_unless_it_hands_over_at_a_tie(n, p, seed, integer):
    graph = dense_graph(n, p, seed, integer)
    nonzero = graph.weights != 0  # as GAEC hands them on: zero weights never change a cost
    arrays = (graph.num_nodes, graph.rows[nonzero], graph.cols[nonzero], graph.weights[nonzero])
    heap_order = survivors_partition(graph, multicut._contract_in_heap_order(*arrays))
    for untied in (
        multicut._contract_dense(multicut._dense_weights(*arrays), stop_at_tie=True),
        multicut._contract_while_untied(*arrays),
    ):
        if untied is not None:  # no tie met (the lazy heap also stops at equal stale entries)
            assert np.array_equal(survivors_partition(graph, untied), heap_order)
    assert np.array_equal(graph.canonical(_gaec(graph)), heap_order)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(2, 70), p=st.floats(0.2, 1.0), seed=st.integers(0, 10**6), integer=st.booleans(), clusters=st.integers(1, 6))
def test_vectorised_klj_chains_give_the_heaps_partition(n, p, seed, integer, clusters):
    graph = dense_graph(n, p, seed, integer)
    start = np.random.default_rng(seed).integers(0, clusters, n)
    with pytest.MonkeyPatch.context() as patch:  # the numpy and Python loops, not the compiled kernels
        patch.setattr(multicut_kernels, "AVAILABLE", False)
        vectorised = _kernighan_lin_joins(graph, start)
        patch.setattr(multicut, "_VECTOR_CHAIN", 10**9)  # every chain in heap order
        in_heap_order = _kernighan_lin_joins(graph, start)
    assert np.array_equal(vectorised, in_heap_order)
    assert graph.cost(vectorised) <= graph.cost(start) + 1e-9


def test_the_vectorised_paths_run_on_dense_graphs():
    graph = dense_graph(120, 0.5, 7)
    assert multicut._dense_pays(graph.num_nodes, len(graph.weights))
    calls = {"dense": 0, "chains": 0}
    contract_dense, chain = multicut._contract_dense, multicut._KernighanLin._chain_vectorised

    def counting_dense(*args, **kwargs):
        calls["dense"] += 1
        return contract_dense(*args, **kwargs)

    def counting_chain(self, *args):
        calls["chains"] += 1
        return chain(self, *args)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(multicut_kernels, "AVAILABLE", False)
        patch.setattr(multicut, "_contract_dense", counting_dense)
        patch.setattr(multicut._KernighanLin, "_chain_vectorised", counting_chain)
        labels = _gaec(graph)
        _kernighan_lin_joins(graph, np.zeros(graph.num_nodes, dtype=np.int64))
    assert calls["dense"] == 1 and calls["chains"] > 0
    assert graph.canonical(labels).tolist() == list(gaec(graph).values())
