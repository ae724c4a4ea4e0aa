"""ClusterNet on the dimod form: PairwiseClustering read from a CQM, and ClusterNetSampler.sample_cqm."""

from __future__ import annotations

import itertools
import time

import dimod
import networkx as nx
import numpy as np
import pytest
import torch

from gnnsolve import HiGHSSampler
from gnnsolve.adapters.clustering import KCenter, Modularity, PairwiseClustering
from gnnsolve.errors import InvalidModelError, UnsupportedModelError
from gnnsolve.samplers.clusternet import ClusterNetSampler

KARATE = nx.karate_club_graph()

SIGNED = {
    ("a", "b"): 3.0,
    ("a", "c"): 1.5,
    ("b", "c"): 2.0,
    ("c", "d"): -2.5,
    ("d", "e"): 4.0,
    ("e", "f"): 1.0,
    ("d", "f"): 0.5,
    ("a", "f"): -1.0,
    ("b", "e"): -0.5,
}


def signed_cqm(k: int = 3, linear: float = 0.25, offset: float = 2.0) -> dimod.ConstrainedQuadraticModel:
    """A correlation-clustering CQM written by hand: string nodes, a linear bias and an offset."""
    nodes = sorted({v for pair in SIGNED for v in pair})
    cqm = dimod.ConstrainedQuadraticModel()
    cqm.add_variables("BINARY", [(v, c) for v in nodes for c in range(k)])
    objective = dimod.QuadraticModel()
    objective.add_variables_from("BINARY", [(v, c) for v in nodes for c in range(k)])
    objective.offset = offset
    for v in nodes:
        for c in range(k):
            objective.add_linear((v, c), linear)
    for (u, v), w in SIGNED.items():
        for c in range(k):
            objective.add_quadratic((u, c), (v, c), -w)
    cqm.set_objective(objective)
    for v in nodes:
        cqm.add_discrete([(v, c) for c in range(k)], label=f"one_hot_{v}")
    return cqm


def brute_force_optimum(problem: PairwiseClustering) -> float:
    return min(
        problem.evaluate(dict(zip(problem.nodes, labels)))
        for labels in itertools.product(range(problem.k), repeat=len(problem.nodes))
    )


def check_rows(sampleset: dimod.SampleSet, cqm: dimod.ConstrainedQuadraticModel) -> None:
    assert sampleset.vartype is dimod.BINARY
    assert list(sampleset.variables) == list(cqm.variables)
    for datum in sampleset.data(["sample", "energy", "is_feasible"]):
        assert cqm.check_feasible(datum.sample) and datum.is_feasible
        assert datum.energy == cqm.objective.energy(datum.sample)


# ------------------------------------------------------------------ reading the form


def test_modularity_cqm_reads_as_the_dense_signed_weights_of_the_modularity_matrix():
    modularity = Modularity(nx.barbell_graph(4, 1), 3)
    problem = PairwiseClustering.from_cqm(modularity.cqm)
    A, degree = modularity.adjacency.toarray(), modularity.adjacency.toarray().sum(axis=1)
    two_m = degree.sum()
    expected = 2 * (A - np.outer(degree, degree) / two_m) / two_m
    np.fill_diagonal(expected, 0)
    assert problem.nodes == modularity.nodes and problem.k == 3
    np.testing.assert_allclose(problem.weights.toarray(), expected, atol=1e-15)
    index = {v: i for i, v in enumerate(modularity.nodes)}
    attractive = {frozenset(e) for e in modularity.graph.edges if expected[index[e[0]], index[e[1]]] > 0}
    assert {frozenset(e) for e in problem.graph.edges} == attractive
    rng = np.random.default_rng(0)
    for _ in range(20):
        labels = dict(zip(problem.nodes, rng.integers(3, size=len(problem.nodes)).tolist()))
        samples, variables = problem.encode([labels[v] for v in problem.nodes])
        sample = dict(zip(variables, samples[0].tolist()))
        assert problem.evaluate(labels) == pytest.approx(-modularity.evaluate(labels), abs=1e-12)
        assert problem.evaluate(labels) == pytest.approx(modularity.cqm.objective.energy(sample), abs=1e-12)


def test_the_hand_written_form_keeps_its_constant_in_every_objective():
    cqm = signed_cqm()
    problem = PairwiseClustering.from_cqm(cqm)
    assert problem.k == 3 and problem.constant == pytest.approx(2.0 + 6 * 0.25)
    rng = np.random.default_rng(1)
    for _ in range(20):
        row = rng.integers(3, size=6)
        samples, variables = problem.encode(row, cqm.variables)
        sample = dict(zip(variables, samples[0].tolist()))
        assert cqm.check_feasible(sample)
        energy = cqm.objective.energy(sample)
        assert problem.evaluate(dict(zip(problem.nodes, row.tolist()))) == pytest.approx(energy, abs=1e-12)
        assert problem.cqm.objective.energy(sample) == pytest.approx(energy, abs=1e-12)
        one_hot = torch.nn.functional.one_hot(torch.as_tensor(row), 3).double()
        assert float(problem.soft_objective(one_hot)) == pytest.approx(energy, abs=1e-12)
        assert problem.decode(sample).value == dict(zip(problem.nodes, row.tolist()))


def test_soft_objective_is_the_relaxation_the_network_minimises():
    problem = PairwiseClustering.from_cqm(signed_cqm(k=2))
    r = torch.softmax(torch.randn(6, 2, dtype=torch.float64), dim=1).requires_grad_()
    W = torch.as_tensor(problem.weights.toarray())
    value = problem.soft_objective(r)
    assert value.item() == pytest.approx(problem.constant - 0.5 * (r * (W @ r)).sum().item())
    value.backward()
    assert r.grad.shape == (6, 2)
    with pytest.raises(ValueError, match=r"shape \(6, 2\)"):
        problem.soft_objective(torch.ones(6, 3))


def test_decode_repairs_nodes_without_exactly_one_cluster_and_reads_node_labels():
    problem = PairwiseClustering(np.array([[0, 2, -1], [2, 0, -1], [-1, -1, 0]]), k=2)
    solution = problem.decode({(0, 0): 1, (0, 1): 0, (1, 0): 1, (1, 1): 1, (2, 0): 0, (2, 1): 0})
    assert solution.repaired and solution.feasible and solution.value[1] == 0
    assert solution.objective == solution.energy == -2.0
    assert problem.decode({0: 1, 1: 1, 2: 0.0}).value == {0: 1, 1: 1, 2: 0}
    with pytest.raises(InvalidModelError, match="no value for"):
        problem.decode({(0, 0): 1})


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ((np.ones((2, 3)), 2), "square"),
        ((np.array([[0, 1], [2, 0]]), 2), "symmetric"),
        ((np.array([[1, 1], [1, 0]]), 2), "zero diagonal"),
        ((np.array([[0, np.nan], [np.nan, 0]]), 2), "finite"),
        ((np.zeros((2, 2)), 3), "1..2"),
        ((np.zeros((2, 2)), 2, ["a", "a"]), "distinct"),
    ],
)
def test_bad_weights_are_refused(arguments, message):
    with pytest.raises(InvalidModelError, match=message):
        PairwiseClustering(*arguments)


def test_encode_refuses_labels_and_variables_of_another_problem():
    problem = PairwiseClustering(np.zeros((2, 2)), 2)
    with pytest.raises(ValueError, match="0..1"):
        problem.encode([0, 2])
    with pytest.raises(ValueError, match="variables"):
        problem.encode([0, 1], [(0, 0), (0, 1), (1, 0)])


def with_objective(cqm: dimod.ConstrainedQuadraticModel, change) -> dimod.ConstrainedQuadraticModel:
    objective = dimod.QuadraticModel()
    objective.update(cqm.objective)
    change(objective)
    cqm.set_objective(objective)
    return cqm


def integer_variable() -> dimod.ConstrainedQuadraticModel:
    cqm = dimod.ConstrainedQuadraticModel()
    cqm.add_variable("INTEGER", ("a", 0), upper_bound=3)
    return cqm


def without_constraint(label: str) -> dimod.ConstrainedQuadraticModel:
    cqm = signed_cqm()
    cqm.remove_constraint(label)
    return cqm


def with_constraint(add) -> dimod.ConstrainedQuadraticModel:
    cqm = signed_cqm()
    add(cqm)
    return cqm


def at_most_one(cqm: dimod.ConstrainedQuadraticModel) -> None:
    cqm.remove_constraint("one_hot_a")
    cqm.add_constraint_from_iterable([(("a", c), 1) for c in range(3)], "<=", 1, label="at_most_one_a")


@pytest.mark.parametrize(
    ("cqm", "message"),
    [
        (
            with_objective(signed_cqm(), lambda qm: qm.add_quadratic(("a", 0), ("b", 1), 1.0)),
            r"term 1 \* \('[ab]', [01]\) \* \('[ab]', [01]\) joins two different clusters",
        ),
        (
            with_objective(signed_cqm(), lambda qm: qm.add_quadratic(("a", 2), ("b", 2), 0.5)),
            r"bias between \('a', c\) and \('b', c\) depends on the cluster \(c=0: -3, c=1: -3, c=2: -2.5\)",
        ),
        (
            with_objective(signed_cqm(), lambda qm: qm.add_quadratic(("a", 1), ("d", 1), 0.5)),
            r"bias between \('a', c\) and \('d', c\) depends on the cluster \(c=0: 0, c=1: 0.5, c=2: 0\)",
        ),
        (
            with_objective(signed_cqm(), lambda qm: qm.add_linear(("c", 2), 1.0)),
            r"linear bias on \('c', 2\) is 1.25 but on \('c', 0\) it is 0.25",
        ),
        (
            with_constraint(
                lambda cqm: cqm.add_constraint_from_iterable([(("a", 0), 1), (("b", 0), 1)], "<=", 1, label="exclusive")
            ),
            r"constraint 'exclusive' is not the one-hot constraint of a node.*sense is '<='",
        ),
        (with_constraint(at_most_one), r"constraint 'at_most_one_a'.*sense is '<='"),
        (
            with_constraint(
                lambda cqm: cqm.add_constraint_from_iterable([(("a", c), 1) for c in range(3)], "==", 1, label="again")
            ),
            r"constraint 'again'.*'one_hot_a' already makes node 'a' one-hot",
        ),
        (
            with_constraint(
                lambda cqm: cqm.add_constraint_from_iterable([(("a", 0), 1), (("a", 1), 1)], "==", 1, label="two_of_three")
            ),
            r"constraint 'two_of_three'.*covers 2 of the 3 variables of node 'a'",
        ),
        (without_constraint("one_hot_d"), r"node 'd' has no one-hot constraint"),
        (integer_variable(), r"variable \('a', 0\) is INTEGER, not BINARY"),
        (dimod.CQM.from_bqm(dimod.BQM({"x": 1.0}, {}, 0.0, "BINARY")), r"variable 'x' is not labelled \(node, c\)"),
        (dimod.CQM.from_bqm(dimod.BQM({("a", 0): 1.0, ("a", 2): 1.0}, {}, 0.0, "BINARY")), r"node 'a' has the clusters \[0, 2\]"),
    ],
)
def test_every_other_form_is_refused_with_the_term_named(cqm, message):
    with pytest.raises(UnsupportedModelError, match=message):
        PairwiseClustering.from_cqm(cqm)
    with pytest.raises(UnsupportedModelError, match="k-way assignment form"):
        ClusterNetSampler().sample_cqm(cqm, epochs=1)


def test_the_k_center_milp_is_refused_with_a_pointer_to_the_problem():
    cqm = KCenter(nx.path_graph(5), 2).cqm
    with pytest.raises(UnsupportedModelError, match=r"k-center MILP.*pass the problem KCenter\(G, k\) itself"):
        ClusterNetSampler().sample_cqm(cqm, epochs=1)


def test_dimod_models_given_to_sample_are_pointed_to_sample_cqm():
    for model in (dimod.BQM({"x": 1.0}, {}, 0.0, "BINARY"), Modularity(KARATE, 2).bqm, Modularity(KARATE, 2).cqm):
        with pytest.raises(UnsupportedModelError, match="sample_cqm"):
            ClusterNetSampler().sample(model)


def test_graph_keywords_are_refused_by_sample_cqm():
    cqm = signed_cqm()
    for keywords in ({"k": 3}, {"objective": "modularity"}, {"observed": nx.empty_graph(6)}):
        with pytest.raises(ValueError, match="reads k and the objective from the CQM"):
            ClusterNetSampler().sample_cqm(cqm, epochs=1, **keywords)
    problem = PairwiseClustering.from_cqm(cqm)
    with pytest.raises(ValueError, match="observed applies to Modularity and KCenter"):
        ClusterNetSampler().sample(problem, epochs=1, observed=problem.graph)
    with pytest.raises(ValueError, match="contradicts"):
        ClusterNetSampler().sample(problem, epochs=1, objective="modularity")


# ------------------------------------------------------------------ sampling the form


def test_karate_modularity_cqm_is_sampled_feasibly_and_scored_as_modularity():
    problem = Modularity(KARATE, 2)
    cqm = problem.cqm
    sampleset = ClusterNetSampler().sample_cqm(cqm, num_reads=2, seed=0, epochs=100, polish=True)
    assert len(sampleset) == 2
    check_rows(sampleset, cqm)
    decoded = problem.decode_sampleset(sampleset)
    for solution, energy in zip(decoded, sampleset.record.energy):
        assert solution.feasible and not solution.repaired
        assert energy == pytest.approx(-solution.objective, abs=1e-12)
    assert -sampleset.first.energy > 0.35
    info = sampleset.info
    assert info["objective"] == "pairwise" and info["epochs"] == [100, 100] and len(info["raw_energy"]) == 2
    assert all(polished <= raw + 1e-12 for polished, raw in zip(sampleset.record.energy, info["raw_energy"]))
    assert info["constraint_labels"] == list(cqm.constraints)
    assert set(info["timing"]) == {"preprocessing_ns", "sampling_ns", "postprocessing_ns"}


@pytest.mark.parametrize(
    "G",
    [
        nx.path_graph(5),
        nx.cycle_graph(6),
        nx.barbell_graph(3, 0),
        nx.star_graph(4),
        nx.Graph([(0, 1), (1, 2), (0, 2), (2, 3), (3, 4), (4, 5), (3, 5), (0, 5)]),
    ],
    ids=["path5", "cycle6", "barbell3", "star4", "two-triangles-ring"],
)
def test_polished_answers_on_tiny_graphs_reach_the_proven_optimum(G):
    cqm = Modularity(G, 2).cqm
    exact = HiGHSSampler().sample_cqm(cqm, time_limit=20)
    learned = ClusterNetSampler().sample_cqm(cqm, seed=0, epochs=40, polish=True)
    check_rows(learned, cqm)
    assert learned.first.energy == pytest.approx(exact.first.energy, abs=1e-9)


def test_a_hand_written_correlation_clustering_cqm_is_solved_and_scored():
    cqm = signed_cqm()
    problem = PairwiseClustering.from_cqm(cqm)
    sampleset = ClusterNetSampler().sample_cqm(cqm, num_reads=2, seed=3, epochs=60, polish=True)
    check_rows(sampleset, cqm)
    solutions = problem.decode_sampleset(sampleset)
    for solution, energy in zip(solutions, sampleset.record.energy):
        assert solution.feasible and solution.objective == pytest.approx(energy, abs=1e-12)
    assert sampleset.first.energy == pytest.approx(brute_force_optimum(problem))
    native = ClusterNetSampler().sample(problem, seed=3, epochs=60, polish=True)
    assert native.vartype is dimod.INTEGER and list(native.variables) == problem.nodes
    assert native.first.energy == pytest.approx(problem.evaluate(native.first.sample))
    best, _ = problem.solve(HiGHSSampler(), time_limit=20)
    assert best.objective == pytest.approx(brute_force_optimum(problem))


def test_only_repelling_pairs_leave_the_network_a_graph_without_edges():
    cqm = dimod.CQM.from_bqm(dimod.BQM({}, {((u, c), (v, c)): 1.0 for u, v in [(0, 1), (1, 2)] for c in range(2)}, 0.0, "BINARY"))
    for v in range(3):
        cqm.add_discrete([(v, c) for c in range(2)])
    sampleset = ClusterNetSampler().sample_cqm(cqm, seed=0, epochs=20, polish=True)
    check_rows(sampleset, cqm)
    assert sampleset.first.energy == 0.0


def test_the_same_seed_gives_the_same_rows():
    cqm = signed_cqm(k=2)
    first, second = (ClusterNetSampler().sample_cqm(cqm, num_reads=2, seed=7, epochs=30) for _ in range(2))
    np.testing.assert_array_equal(first.record.sample, second.record.sample)
    np.testing.assert_array_equal(first.record.energy, second.record.energy)


def test_listed_as_a_native_problem():
    sampler = ClusterNetSampler()
    problem = PairwiseClustering.from_cqm(signed_cqm(k=2))
    assert PairwiseClustering in sampler.properties["problems"] and problem.samples_natively(sampler)
    solution, sampleset = problem.solve(sampler, seed=0, epochs=20)
    assert solution.objective == pytest.approx(sampleset.first.energy)


def test_the_budget_and_threads_are_reported_and_the_limit_holds():
    cqm = Modularity(KARATE, 2).cqm
    before = torch.get_num_threads()
    default = ClusterNetSampler().sample_cqm(cqm, epochs=5, seed=0)
    assert default.info["time_limit"] == 20.0 and default.info["threads"] == 1
    start = time.perf_counter()
    limited = ClusterNetSampler().sample_cqm(cqm, epochs=10**6, num_reads=2, time_limit=0.5, polish=True, seed=0)
    assert time.perf_counter() - start < 0.5 * 1.5 + 2.0
    assert limited.info["stop_reason"] == ["time_limit", "time_limit"] and limited.info["time_limit"] == 0.5
    assert all(cqm.check_feasible(sample) for sample in limited.samples())
    assert torch.get_num_threads() == before
