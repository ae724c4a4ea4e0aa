"""Modularity and k-center problems, the Planetoid reader: exact values, surrogates, models, rounding, bad input."""

from __future__ import annotations

import itertools
import math
import pickle

import dimod
import networkx as nx
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gnnsolve import HiGHSSampler
from gnnsolve.adapters.clustering import MAX_MODEL_TERMS, KCenter, Modularity, greedy_k_center, modularity
from gnnsolve.adapters.datasets import read_gml, read_planetoid
from gnnsolve.errors import FileFormatError, InvalidModelError, ModelTooLargeError, UnsupportedModelError
from shared_data import DATA, needs_data


def nx_modularity(G: nx.Graph, labels: dict, weight: str | None = None) -> float:
    communities: dict = {}
    for node, label in labels.items():
        communities.setdefault(label, set()).add(node)
    return nx.community.modularity(G, list(communities.values()), weight=weight)


def brute_force_modularity(G: nx.Graph, k: int) -> float:
    nodes = list(G.nodes)
    return max(
        modularity(G, dict(zip(nodes, labels)), weight="weight") for labels in itertools.product(range(k), repeat=len(nodes))
    )


def brute_force_k_center(problem: KCenter) -> float:
    return min(problem.evaluate(chosen) for chosen in itertools.combinations(problem.nodes, problem.k))


def one_hot(labels: list[int], k: int) -> torch.Tensor:
    return torch.nn.functional.one_hot(torch.tensor(labels), k).double()


def two_triangles() -> nx.Graph:
    return nx.Graph([(0, 1), (1, 2), (0, 2), (3, 4), (4, 5), (3, 5), (2, 3)])


def small_graphs() -> list[nx.Graph]:
    weighted = nx.Graph()
    weighted.add_weighted_edges_from([(0, 1, 3), (1, 2, 1), (2, 3, 2), (3, 4, 1), (4, 0, 1), (1, 4, 2)])
    return [
        two_triangles(),
        nx.path_graph(5),
        nx.star_graph(4),
        nx.gnp_random_graph(6, 0.5, seed=3),
        weighted,
    ]


# ---------------------------------------------------------------- modularity: exact value


def test_modularity_matches_networkx_on_karate_clubs_weighted_and_not():
    G = nx.karate_club_graph()
    clubs = {v: int(G.nodes[v]["club"] == "Officer") for v in G}
    assert Modularity(G, 2).evaluate(clubs) == pytest.approx(nx_modularity(G, clubs, weight=None), abs=1e-12)
    weighted = Modularity(G, 2, weight="weight").evaluate(clubs)
    assert weighted == pytest.approx(nx_modularity(G, clubs, weight="weight"), abs=1e-12)


@needs_data
def test_modularity_matches_networkx_on_karate_ground_truth():
    G = read_gml(DATA / "community" / "karate.gml")
    truth = {v: G.nodes[v]["gt"] for v in G}
    assert len(set(truth.values())) == 2
    assert modularity(G, truth) == pytest.approx(nx_modularity(G, truth), abs=1e-12)
    assert modularity(G, truth) < 0.419790  # the proven optimum over any number of communities


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(0, 4), min_size=34, max_size=34), st.booleans())
def test_modularity_matches_networkx_on_random_partitions(labels, weighted):
    G = nx.karate_club_graph()
    weight = "weight" if weighted else None
    partition = dict(zip(G.nodes, labels))
    assert Modularity(G, 5, weight=weight).evaluate(partition) == pytest.approx(
        nx_modularity(G, partition, weight=weight), abs=1e-12
    )


@settings(max_examples=30, deadline=None)
@given(st.data())
def test_modularity_matches_networkx_with_self_loops_and_multigraph_edges(data):
    n = data.draw(st.integers(2, 8))
    edges = data.draw(
        st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1), st.integers(1, 4)), min_size=1, max_size=15)
    )
    G = nx.MultiGraph()
    G.add_nodes_from(range(n))
    G.add_weighted_edges_from(edges)
    labels = {v: data.draw(st.integers(0, 2)) for v in G}
    assert modularity(G, labels, weight="weight") == pytest.approx(nx_modularity(G, labels, weight="weight"), abs=1e-12)


# ---------------------------------------------------------------- modularity: surrogate


def test_soft_modularity_on_one_hot_equals_exact_and_is_differentiable():
    G = nx.karate_club_graph()
    problem = Modularity(G, 3, weight="weight")
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, size=34).tolist()
    exact = problem.evaluate(dict(zip(problem.nodes, labels)))
    assert problem.soft_objective(one_hot(labels, 3)).item() == pytest.approx(exact, abs=1e-12)

    logits = torch.randn(34, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0), requires_grad=True)
    r = torch.softmax(logits, dim=1)
    value = problem.soft_objective(r)
    B = nx.modularity_matrix(G, weight="weight")
    dense = np.trace(r.detach().numpy().T @ B @ r.detach().numpy()) / (2 * G.size(weight="weight"))
    assert value.item() == pytest.approx(dense, abs=1e-12)
    value.backward()
    assert logits.grad is not None and torch.isfinite(logits.grad).all()
    assert problem.soft_objective(r.detach().float()).dtype == torch.float32


def test_soft_modularity_rejects_a_wrong_shape():
    with pytest.raises(ValueError, match=r"shape \(6, 2\)"):
        Modularity(two_triangles(), 2).soft_objective(torch.ones(6, 3))


# ---------------------------------------------------------------- modularity: models and decoding


def test_modularity_decodes_integer_labels_and_checks_them():
    problem = Modularity(two_triangles(), 2)
    solution = problem.decode({v: np.int64(v // 3) for v in range(6)})
    assert solution.value == {0: 0, 1: 0, 2: 0, 3: 1, 4: 1, 5: 1}
    assert solution.feasible and not solution.repaired
    assert solution.objective == pytest.approx(5 / 14) and solution.energy == -solution.objective
    assert problem.decode({v: float(v % 2) for v in range(6)}).feasible
    assert not problem.decode({v: v for v in range(6)}).feasible  # labels beyond k - 1
    with pytest.raises(InvalidModelError, match="node 0 has community label 0.5"):
        problem.decode({v: 0.5 for v in range(6)})


def test_modularity_models_score_one_hot_samples_as_minus_q():
    problem = Modularity(two_triangles(), 2)
    labels = {0: 0, 1: 0, 2: 1, 3: 1, 4: 1, 5: 0}
    sample = {(v, c): int(labels[v] == c) for v in range(6) for c in range(2)}
    q = problem.evaluate(labels)
    assert problem.bqm.energy(sample) == pytest.approx(-q)
    assert problem.cqm.objective.energy(sample) == pytest.approx(-q)
    assert problem.cqm.check_feasible(sample)
    decoded = problem.decode(sample)
    assert decoded.value == labels and not decoded.repaired


def test_modularity_decode_repairs_nodes_without_exactly_one_community():
    problem = Modularity(two_triangles(), 2)
    sample = {(v, c): int(c == v // 3) for v in range(6) for c in range(2)}
    sample[(0, 0)] = 0  # node 0 in no community: it joins its triangle
    sample[(5, 0)] = 1  # node 5 in both: it stays with its triangle
    solution = problem.decode(sample)
    assert solution.repaired and solution.feasible
    assert solution.value == {0: 0, 1: 0, 2: 0, 3: 1, 4: 1, 5: 1}


def test_modularity_bqm_penalty_makes_every_single_flip_from_infeasible_improving():
    problem = Modularity(nx.star_graph(3), 2)
    bqm = problem.bqm
    for bits in itertools.product((0, 1), repeat=len(bqm.variables)):
        sample = dict(zip(bqm.variables, bits))
        if not problem.cqm.check_feasible(sample):
            energy = bqm.energy(sample)
            assert any(bqm.energy({**sample, v: 1 - sample[v]}) < energy for v in bqm.variables)


@pytest.mark.parametrize("G", small_graphs(), ids=["two_triangles", "path", "star", "gnp", "weighted"])
def test_modularity_models_solved_by_highs_match_brute_force(G):
    problem = Modularity(G, 2, weight="weight")
    optimum = brute_force_modularity(G, 2)
    from_cqm = problem.best_solution(HiGHSSampler().sample_cqm(problem.cqm, time_limit=20))
    from_bqm, _ = problem.solve(HiGHSSampler(), time_limit=20)
    for solution in (from_cqm, from_bqm):
        assert solution.feasible and not solution.repaired
        assert solution.objective == pytest.approx(optimum, abs=1e-9)


def test_modularity_decode_sampleset_takes_both_forms_and_rejects_others():
    problem = Modularity(two_triangles(), 2)
    labels = dimod.SampleSet.from_samples([{v: v // 3 for v in range(6)}], "INTEGER", energy=[0])
    assert problem.best_solution(labels).objective == pytest.approx(5 / 14)
    with pytest.raises(InvalidModelError, match="variables are not those"):
        problem.decode_sampleset(dimod.SampleSet.from_samples([{0: 1, 1: 0}], "BINARY", energy=[0]))


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: Modularity(nx.empty_graph(3), 2), "without edges"),
        (lambda: Modularity(nx.Graph(), 1), "empty"),
        (lambda: Modularity(two_triangles(), 0), "k in 1..6"),
        (lambda: Modularity(two_triangles(), 7), "k in 1..6"),
        (lambda: Modularity(two_triangles(), True), "k in 1..6"),
        (lambda: Modularity(nx.DiGraph([(0, 1)]), 1), "undirected"),
        (lambda: Modularity(nx.Graph([(0, 1, {"w": float("nan")})]), 1, weight="w"), r"edge \(0, 1\)"),
        (lambda: Modularity(nx.Graph([(0, 1, {"w": "heavy"})]), 1, weight="w"), r"edge \(0, 1\)"),
        (lambda: Modularity(nx.Graph([(0, 1, {"w": -1})]), 1, weight="w"), r"edge \(0, 1\).*non-negative"),
        (lambda: modularity(two_triangles(), {0: 0}), "no community for node 1"),
    ],
)
def test_modularity_rejects_bad_input(make, match):
    with pytest.raises(InvalidModelError, match=match):
        make()


def test_modularity_model_size_is_capped():
    n = int(math.sqrt(2 * MAX_MODEL_TERMS)) + 2
    problem = Modularity(nx.path_graph(n), 1)
    with pytest.raises(ModelTooLargeError, match="ClusterNet"):
        _ = problem.cqm


# ---------------------------------------------------------------- k-center: exact value


def test_k_center_on_paths():
    seven = KCenter(nx.path_graph(7), 2)
    assert seven.evaluate({1, 5}) == 2.0  # node 3 is two hops from both facilities
    assert brute_force_k_center(seven) == 2.0  # two balls of radius 1 cover only 6 nodes
    six = KCenter(nx.path_graph(6), 2)
    assert six.evaluate({1, 4}) == 1.0 and brute_force_k_center(six) == 1.0
    assert six.distance_matrix[0, 5] == 5.0


def test_k_center_weighted_distances_use_shortest_paths():
    G = nx.Graph()
    G.add_weighted_edges_from([(0, 1, 1.0), (1, 2, 1.0), (0, 2, 5.0), (2, 3, 0.0)])
    problem = KCenter(G, 1, weight="weight")
    assert problem.distance_matrix[0, 2] == 2.0 and problem.distance_matrix[2, 3] == 0.0
    assert problem.evaluate({1}) == 1.0
    assert KCenter(G, 1).evaluate({1}) == 2.0  # hops


def test_k_center_on_a_disconnected_graph():
    G = nx.disjoint_union(nx.path_graph(3), nx.path_graph(2))
    one = KCenter(G, 1)
    assert np.isinf(one.distance_matrix[0, 3])
    assert one.unreachable_distance == 3.0  # the largest finite distance, 2, plus 1
    assert one.evaluate({1}) == math.inf and one.is_feasible({1})
    two = KCenter(G, 2)
    assert two.evaluate({1, 3}) == 1.0 and two.evaluate({0, 1}) == math.inf
    assert all(two.evaluate(greedy_k_center(G, 2, seed=seed)) <= 2.0 for seed in range(5))  # one per component
    exact, _ = two.solve(HiGHSSampler(), time_limit=20)
    assert exact.objective == 1.0
    stuck = HiGHSSampler().sample_cqm(one.cqm, time_limit=20).first
    assert stuck.energy == one.unreachable_distance and one.decode(stuck.sample).objective == math.inf
    assert one.soft_objective(torch.zeros(5, dtype=torch.float64)).item() == 3.0


# ---------------------------------------------------------------- k-center: models and decoding


@pytest.mark.parametrize("G", small_graphs(), ids=["two_triangles", "path", "star", "gnp", "weighted"])
def test_k_center_cqm_solved_by_highs_matches_brute_force(G):
    problem = KCenter(G, 2, weight="weight")
    solution, sampleset = problem.solve(HiGHSSampler(), time_limit=20)
    assert solution.feasible and not solution.repaired
    assert solution.objective == brute_force_k_center(problem) == sampleset.first.energy
    assert problem.cqm.vartype("radius") is dimod.INTEGER


def test_k_center_cqm_with_fractional_lengths_has_a_real_radius_that_highs_solves():
    G = nx.Graph()
    G.add_weighted_edges_from([(0, 1, 0.5), (1, 2, 1.5)])
    problem = KCenter(G, 1, weight="weight")
    assert problem.cqm.vartype("radius") is dimod.REAL
    sampleset = HiGHSSampler().sample_cqm(problem.cqm)
    best = sampleset.first
    assert best.is_feasible and best.energy == pytest.approx(1.5) and best.sample[1] == 1  # the centre 1, radius 1.5
    assert sampleset.info["status"] == "optimal"


def test_k_center_decodes_and_repairs_selections():
    problem = KCenter(nx.path_graph(7), 2)
    exact = problem.decode({v: int(v in (1, 5)) for v in range(7)})
    assert exact.value == {1, 5} and exact.feasible and not exact.repaired and exact.energy == exact.objective == 2.0
    too_many = problem.decode({v: int(v in (0, 1, 4, 5)) for v in range(7)})
    assert too_many.repaired and too_many.feasible and too_many.objective == 2.0
    too_few = problem.decode({v: int(v == 0) for v in range(7)})
    assert too_few.value == {0, 6} and too_few.repaired and too_few.objective == 3.0
    with pytest.raises(InvalidModelError, match="no value for node 0"):
        problem.decode({})
    with pytest.raises(InvalidModelError, match="variables are not those"):
        problem.decode_sampleset(dimod.SampleSet.from_samples([{"a": 1}], "BINARY", energy=[0]))
    with pytest.raises(UnsupportedModelError, match="no BQM"):
        _ = problem.bqm
    with pytest.raises(UnsupportedModelError, match="no BQM form.*CQM sampler"):
        problem.solve(dimod.ExactSolver())  # a sampler without sample_cqm


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: KCenter(nx.Graph(), 1), "empty"),
        (lambda: KCenter(nx.path_graph(3), 0), r"k in 1\.\.3"),
        (lambda: KCenter(nx.path_graph(3), 4), r"k in 1\.\.3"),
        (lambda: KCenter(nx.path_graph(3), 1.5), r"k in 1\.\.3"),
        (lambda: KCenter(nx.DiGraph([(0, 1)]), 1), "undirected"),
        (lambda: KCenter(nx.Graph([(0, 1, {"w": float("nan")})]), 1, weight="w"), r"edge \(0, 1\)"),
        (lambda: KCenter(nx.Graph([(0, 1, {"w": -2})]), 1, weight="w"), r"edge \(0, 1\).*non-negative"),
        (lambda: KCenter(nx.path_graph(3), 1).evaluate({7}), "facility 7 is not a node"),
        (lambda: KCenter(nx.Graph([("radius", 1)]), 1).cqm, "'radius' clashes"),
    ],
)
def test_k_center_rejects_bad_input(make, match):
    with pytest.raises(InvalidModelError, match=match):
        make()


def test_k_center_feasibility():
    problem = KCenter(nx.path_graph(4), 2)
    assert problem.is_feasible({0, 3}) and problem.is_feasible((0, 3))
    assert not problem.is_feasible({0}) and not problem.is_feasible((0, 0)) and not problem.is_feasible({0, 9})


# ---------------------------------------------------------------- k-center: surrogate, rounding, greedy


def test_soft_k_center_on_selections_equals_the_exact_objective():
    G = nx.gnp_random_graph(12, 0.3, seed=1)
    problem = KCenter(G, 3)
    for chosen in [(0, 1, 2), (3, 7, 11), (4, 5, 9)]:
        x = torch.zeros(12, dtype=torch.float64)
        x[list(chosen)] = 1.0
        assert problem.soft_objective(x).item() == pytest.approx(problem.evaluate(chosen))


def test_soft_k_center_is_the_expected_nearest_distance_and_differentiable():
    problem = KCenter(nx.path_graph(3), 1)
    x = torch.tensor([0.5, 0.2, 0.0], dtype=torch.float64, requires_grad=True)
    # node 2: nearest chosen is 1 (p = 0.2), else 0 (0.8 * 0.5), else none (0.4, distance 3)
    node_2 = 0.2 * 1 + 0.8 * 0.5 * 2 + 0.8 * 0.5 * 3
    assert problem.soft_objective(x).item() == pytest.approx(node_2)
    soft = problem.soft_objective(x, beta=2.0)
    assert soft.item() < node_2
    mean = problem.soft_objective(x, beta=0.0).item()
    node_0 = 0.5 * 0 + 0.5 * 0.2 * 1 + 0.5 * 0.8 * 3
    node_1 = 0.2 * 0 + 0.8 * 0.5 * 1 + 0.8 * 0.5 * 3
    assert mean == pytest.approx((node_0 + node_1 + node_2) / 3)
    soft.backward()
    assert torch.all(x.grad[:2] < 0)  # more probability on a facility never lengthens the distance
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        problem.soft_objective(torch.zeros(4))


@pytest.mark.parametrize("method", ["pipage", "sample", "topk"])
def test_rounding_gives_k_distinct_nodes_reproducibly(method):
    problem = KCenter(nx.cycle_graph(10), 3)
    y = np.random.default_rng(0).random(10)
    y = 3 * y / y.sum()
    rounds = [problem.round_selection(y, method=method, seed=seed) for seed in range(20)]
    assert all(len(chosen) == 3 and chosen <= set(range(10)) for chosen in rounds)
    assert rounds == [problem.round_selection(torch.tensor(y), method=method, seed=seed) for seed in range(20)]
    if method == "topk":
        assert rounds[0] == set(np.argsort(-y)[:3].tolist())
    else:
        assert len(set(rounds)) > 1


def test_pipage_rounding_keeps_the_marginals():
    problem = KCenter(nx.path_graph(6), 2)
    y = np.array([0.9, 0.1, 0.4, 0.3, 0.25, 0.05])
    rng = np.random.default_rng(1)
    counts = np.zeros(6)
    for _ in range(4000):
        counts[list(problem.round_selection(y, seed=rng))] += 1
    assert np.abs(counts / 4000 - y).max() < 0.03
    assert problem.round_selection([1, 0, 1, 0, 0, 0]) == {0, 2}


@pytest.mark.parametrize(
    ("y", "method", "match"),
    [
        ([0.5] * 6, "pipage", "sum to k=2"),
        ([2.0, 0, 0, 0, 0, 0], "pipage", r"lie in \[0, 1\]"),
        ([1.0, 0, 0, 0, 0, 0], "sample", "at least k=2 positive"),
        ([1.0, -1, 0, 0, 0, 0], "topk", "non-negative"),
        ([1.0, 1, 0, 0, 0, 0], "best", "unknown rounding method"),
    ],
)
def test_rounding_rejects_bad_weights(y, method, match):
    with pytest.raises(ValueError, match=match):
        KCenter(nx.path_graph(6), 2).round_selection(y, method=method)


def test_greedy_k_center_is_a_reproducible_two_approximation():
    for seed in range(5):
        G = nx.connected_watts_strogatz_graph(9, 4, 0.3, seed=seed)
        problem = KCenter(G, 3)
        chosen = greedy_k_center(G, 3, seed=seed)
        assert problem.is_feasible(chosen)
        assert problem.evaluate(chosen) <= 2 * brute_force_k_center(problem)
        assert chosen == greedy_k_center(G, 3, seed=seed)


# ---------------------------------------------------------------- Planetoid


@needs_data
@pytest.mark.parametrize(
    ("name", "nodes", "edges", "width", "classes", "unlabelled"),
    [("cora", 2708, 5278, 1433, 7, 0), ("citeseer", 3327, 4552, 3703, 6, 15)],
)
def test_read_planetoid(name, nodes, edges, width, classes, unlabelled):
    data = read_planetoid(DATA / "planetoid", name)
    G = data.graph
    assert sorted(G.nodes) == list(range(nodes)) and G.number_of_edges() == edges
    assert nx.number_of_selfloops(G) == 0
    assert data.features.shape == (nodes, width) and data.features.dtype == np.float32
    assert data.labels.shape == (nodes,) and set(np.unique(data.labels)) - {-1} == set(range(classes))
    assert (data.labels == -1).sum() == unlabelled
    assert not data.features[data.labels == -1].any()
    torch_labels = np.where(data.labels >= 0, data.labels, classes)
    problem = Modularity(G, classes + 1)
    exact = problem.evaluate(dict(enumerate(torch_labels.tolist())))
    assert problem.soft_objective(one_hot(torch_labels.tolist(), classes + 1)).item() == pytest.approx(exact, abs=1e-9)


def write_planetoid(folder, name="toy", **changes):
    import scipy.sparse

    parts = {
        "allx": scipy.sparse.csr_matrix(np.eye(2, 3, dtype=np.float32)),
        "ally": np.eye(2, dtype=np.int32),
        "tx": scipy.sparse.csr_matrix(np.ones((1, 3), dtype=np.float32)),
        "ty": np.array([[0, 1]], dtype=np.int32),
        "graph": {0: [1, 1, 0], 1: [0], 2: [3]},
    }
    parts.update(changes)
    for part, value in parts.items():
        path = folder / f"ind.{name}.{part}"
        if isinstance(value, bytes):
            path.write_bytes(value)
        elif value is not None:
            path.write_bytes(pickle.dumps(value, protocol=2))
    (folder / f"ind.{name}.test.index").write_text("3\n")
    return folder


def test_read_planetoid_fills_missing_nodes_and_drops_loops(tmp_path):
    data = read_planetoid(write_planetoid(tmp_path), "toy")
    assert sorted(data.graph.edges) == [(0, 1), (2, 3)]
    assert data.features.tolist() == [[1, 0, 0], [0, 1, 0], [0, 0, 0], [1, 1, 1]]
    assert data.labels.tolist() == [0, 1, -1, 1]


class Shell:
    def __reduce__(self):
        return (print, ("never run",))


@pytest.mark.parametrize(
    ("changes", "culprit", "match"),
    [
        ({"tx": None}, "ind.toy.tx", "missing"),
        ({"allx": b"\x80\x02garbage"}, "ind.toy.allx", "not a readable Planetoid pickle"),
        ({"graph": Shell()}, "ind.toy.graph", "refusing to load"),
        ({"graph": {0: [9]}}, "ind.toy.graph", r"node 9 is not an index in 0\.\.3"),
        ({"graph": [1, 2]}, "ind.toy.graph", "dict of adjacency lists"),
        ({"ty": np.array([[0, 1], [1, 0]])}, "ind.toy.ty", "2 label rows"),
        ({"ally": np.array([[1, 1], [0, 1]])}, "ind.toy.ally", "one-hot"),
    ],
)
def test_read_planetoid_rejects_bad_files(tmp_path, changes, culprit, match):
    write_planetoid(tmp_path, **changes)
    with pytest.raises(FileFormatError, match=match) as caught:
        read_planetoid(tmp_path, "toy")
    assert culprit in str(caught.value)
