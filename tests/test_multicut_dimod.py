"""MulticutSampler on the dimod form of a multicut (the edge-form CQM), and Multicut.solve with it."""

from __future__ import annotations

import itertools

import dimod
import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gnnsolve import HiGHSSampler
from gnnsolve.adapters.multicut import Multicut
from gnnsolve.errors import InvalidModelError, ModelTooLargeError, UnsupportedModelError
from gnnsolve.samplers.multicut import METHODS, MulticutSampler
from gnnsolve.train_multicut import random_signed_graph

SAMPLER = MulticutSampler()  # one network load for the whole file


def two_triangles() -> nx.Graph:
    G = nx.Graph()
    G.add_weighted_edges_from([(0, 1, 2), (1, 2, 2), (0, 2, 2), (3, 4, 2), (4, 5, 2), (3, 5, 2), (2, 3, -1)])
    return G


def square_with_chord() -> nx.Graph:
    """GAEC contracts the whole square (cost 0); the optimum splits node 0 off (cost -1)."""
    return nx.Graph(
        [(0, 1, {"weight": 3}), (1, 2, {"weight": 3}), (2, 3, {"weight": 3}), (3, 0, {"weight": -4}), (1, 3, {"weight": 1})]
    )


@st.composite
def signed_graphs(draw: st.DrawFn) -> nx.Graph:
    """2 to 7 nodes; each pair is absent or an edge of integer weight in [-4, 4] (zero included)."""
    n = draw(st.integers(2, 7))
    G = nx.Graph()
    G.add_nodes_from(range(n))
    for u, v in itertools.combinations(range(n), 2):
        w = draw(st.one_of(st.none(), st.integers(-4, 4)))
        if w is not None:
            G.add_edge(u, v, weight=w)
    return G


def assert_multicut_rows(problem: Multicut, cqm: dimod.ConstrainedQuadraticModel, sampleset: dimod.SampleSet) -> None:
    """Every row is feasible, scored by the objective, and the cut of the partition it decodes to."""
    assert sampleset.vartype is dimod.BINARY
    assert list(sampleset.variables) == list(cqm.variables)
    assert sampleset.record.is_feasible.all() and sampleset.record.is_satisfied.all()
    assert sampleset.info["constraint_labels"] == list(cqm.constraints)
    solutions = problem.decode_sampleset(sampleset)
    for row, solution in zip(sampleset.data(["sample", "energy", "clusters"]), solutions):
        assert cqm.check_feasible(row.sample)
        assert row.energy == pytest.approx(cqm.objective.energy(row.sample))
        assert row.energy == pytest.approx(solution.objective)
        assert not solution.repaired
        clusters = dict(zip(sampleset.info["nodes"], row.clusters.tolist()))
        assert problem.evaluate(clusters) == pytest.approx(row.energy)
        for tag, u, v in cqm.variables:
            assert row.sample[tag, u, v] == (clusters[u] != clusters[v])


@settings(max_examples=30, deadline=None)
@given(G=signed_graphs(), method=st.sampled_from(METHODS), seed=st.integers(0, 2**16))
def test_every_method_returns_feasible_multicuts_no_better_than_the_highs_optimum(G, method, seed):
    problem = Multicut(G)
    cqm = problem.cqm
    sampleset = SAMPLER.sample_cqm(cqm, method=method, num_reads=2, seed=seed, simulations=2)
    assert len(sampleset) == 2 and sampleset.info["method"] == method
    assert_multicut_rows(problem, cqm, sampleset)
    optimum = HiGHSSampler().sample_cqm(cqm).first.energy
    assert sampleset.record.energy.min() >= optimum - 1e-9


@pytest.mark.parametrize(
    "name, G",
    [
        ("two-triangles", two_triangles()),
        ("square-with-chord", square_with_chord()),
        ("random-7", random_signed_graph("er", 7, np.random.default_rng(11))),
    ],
)
def test_mcts_reaches_the_highs_optimum_on_tiny_instances(name, G):
    cqm = Multicut(G).cqm
    optimum = HiGHSSampler().sample_cqm(cqm).first.energy
    sampleset = SAMPLER.sample_cqm(cqm, seed=0, simulations=8)
    assert sampleset.first.energy == pytest.approx(optimum)
    assert set(sampleset.info) >= {"method", "reference_cost", "policy_cost", "timing", "nodes"}
    assert all(isinstance(ns, int) for ns in sampleset.info["timing"].values())


def test_a_cqm_on_the_graphs_own_edges_with_longer_cycle_inequalities_and_an_offset():
    """A 4-cycle stated on its edges only (not completed), with its cycle inequalities and an offset."""
    cycle = [(0, 1, 2.0), (1, 2, 3.0), (2, 3, 1.0), (0, 3, -5.0)]
    cqm = dimod.ConstrainedQuadraticModel()
    x = {(u, v): dimod.Binary(("cut", u, v)) for u, v, _ in cycle}
    cqm.set_objective(sum(w * x[u, v] for u, v, w in cycle) + 10)
    for e, cut in x.items():
        cqm.add_constraint(cut - sum(x[f] for f in x if f != e) <= 0, label=f"cycle_{e}")
    exact = HiGHSSampler().sample_cqm(cqm).first.energy
    assert exact == 10 - 4  # cut 0-3 and 2-3
    sampleset = SAMPLER.sample_cqm(cqm, seed=0, simulations=4)
    assert sampleset.first.energy == pytest.approx(exact)
    assert cqm.check_feasible(sampleset.first.sample)
    assert sampleset.info["nodes"] == [0, 1, 2, 3]


def test_nodes_of_zero_bias_pairs_are_nodes_but_those_pairs_are_not_edges():
    cqm = dimod.ConstrainedQuadraticModel()
    cqm.add_variables(dimod.BINARY, [("cut", "a", "b"), ("cut", "b", "c"), ("cut", "a", "c")])
    cqm.set_objective([(("cut", "a", "b"), -1.0)])
    sampleset = SAMPLER.sample_cqm(cqm, method="gaec")
    assert sampleset.info["nodes"] == ["a", "b", "c"]
    assert sampleset.first.sample == {("cut", "a", "b"): 1, ("cut", "b", "c"): 1, ("cut", "a", "c"): 1}
    assert sampleset.first.energy == -1.0


def test_an_empty_cqm_gives_empty_rows():
    sampleset = SAMPLER.sample_cqm(dimod.ConstrainedQuadraticModel(), num_reads=2, simulations=2)
    assert len(sampleset) == 2 and not sampleset.variables and list(sampleset.record.energy) == [0.0, 0.0]


def test_the_same_seed_gives_the_same_samples():
    cqm = Multicut(random_signed_graph("ba", 9, np.random.default_rng(3))).cqm
    first, second = (SAMPLER.sample_cqm(cqm, num_reads=3, seed=7, simulations=2) for _ in range(2))
    assert (first.record.sample == second.record.sample).all()


def test_keywords_it_does_not_take_warn():
    cqm = Multicut(two_triangles()).cqm
    with pytest.warns(UserWarning, match="mip_rel_gap"):
        SAMPLER.sample_cqm(cqm, method="gaec", mip_rel_gap=0.0)
    with pytest.warns(UserWarning, match="weight"):
        SAMPLER.sample_cqm(cqm, method="gaec", weight="w")


# ---------------------------------------------------------------- refused forms


def triangle_cqm() -> dimod.ConstrainedQuadraticModel:
    G = nx.Graph([(0, 1, {"weight": 5}), (1, 2, {"weight": 2}), (0, 2, {"weight": -3})])
    return Multicut(G).cqm  # a new problem, a new model


def with_constraint(make) -> dimod.ConstrainedQuadraticModel:
    cqm = triangle_cqm()
    x = {v[1:]: dimod.Binary(v) for v in cqm.variables}
    cqm.add_constraint(make(x), label="extra")
    return cqm


def relabelled(mapping: dict) -> dimod.ConstrainedQuadraticModel:
    cqm = triangle_cqm()
    cqm.relabel_variables(mapping)
    return cqm


def retyped(vartype: dimod.Vartype) -> dimod.ConstrainedQuadraticModel:
    cqm = dimod.ConstrainedQuadraticModel()
    cqm.add_variable(vartype, ("cut", 0, 1), **({"upper_bound": 3} if vartype is dimod.INTEGER else {}))
    cqm.set_objective([(("cut", 0, 1), 1.0)])
    return cqm


def quadratic_objective() -> dimod.ConstrainedQuadraticModel:
    cqm = triangle_cqm()
    cqm.objective.add_quadratic(("cut", 0, 1), ("cut", 1, 2), 2.0)
    return cqm


REFUSED = {  # name: (model, what the message must say)
    "spin variable": (retyped(dimod.SPIN), r"\('cut', 0, 1\) is SPIN, not BINARY"),
    "integer variable": (retyped(dimod.INTEGER), r"\('cut', 0, 1\) is INTEGER, not BINARY"),
    "plain label": (relabelled({("cut", 0, 1): "x01"}), r"variable 'x01' is not labelled \('cut', u, v\)"),
    "other tag": (relabelled({("cut", 0, 1): ("edge", 0, 1)}), r"variable \('edge', 0, 1\) is not labelled"),
    "self pair": (relabelled({("cut", 0, 1): ("cut", 0, 0)}), r"variable \('cut', 0, 0\) is not labelled"),
    "quadratic objective": (quadratic_objective(), r"quadratic term 2 \* \('cut', [01], [12]\) \* \('cut', [01], [12]\)"),
    "must-link": (with_constraint(lambda x: x[0, 1] <= 0), r"'extra'.*do not join the ends of \('cut', 0, 1\)"),
    "unrelated pair": (with_constraint(lambda x: x[0, 1] - x[1, 2] <= 0), r"'extra'.*do not join the ends"),
    "cannot-link": (with_constraint(lambda x: x[0, 2] >= 1), r"'extra'.*its sense is '>='"),
    "equality": (with_constraint(lambda x: x[0, 1] + x[0, 2] == 1), r"'extra'.*its sense is '=='"),
    "right-hand side": (with_constraint(lambda x: x[0, 1] - x[0, 2] - x[1, 2] <= 1), r"'extra'.*right-hand side is 1, not 0"),
    "scaled": (with_constraint(lambda x: 2 * x[0, 1] - x[0, 2] - x[1, 2] <= 0), r"'extra'.*coefficients are not"),
    "two positive": (with_constraint(lambda x: x[0, 1] + x[0, 2] - x[1, 2] <= 0), r"'extra'.*coefficients are not"),
    "quadratic constraint": (with_constraint(lambda x: x[0, 1] * x[0, 2] - x[1, 2] <= 0), r"'extra'.*quadratic terms"),
    "a bqm": (dimod.BQM({("cut", 0, 1): 1.0}, {}, 0.0, "BINARY"), r"got a BinaryQuadraticModel.*MulticutSampler.sample"),
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_what_is_not_a_multicut_edge_form_is_refused_with_the_reason_and_the_fix(name):
    model, reason = REFUSED[name]
    with pytest.raises(UnsupportedModelError, match=reason) as raised:
        SAMPLER.sample_cqm(model, method="gaec")
    assert any(fix in str(raised.value) for fix in ("HiGHSSampler", "Multicut(G)", "relabel"))


def test_a_non_finite_bias_is_named():
    cqm = triangle_cqm()
    cqm.objective.set_linear(("cut", 1, 2), float("nan"))
    with pytest.raises(InvalidModelError, match=r"bias on \('cut', 1, 2\) is nan"):
        SAMPLER.sample_cqm(cqm)


@pytest.mark.parametrize("model", [Multicut(two_triangles()).bqm, Multicut(two_triangles()).cqm], ids=["bqm", "cqm"])
def test_sample_refuses_dimod_models_and_points_to_sample_cqm_or_the_problem(model):
    with pytest.raises(UnsupportedModelError, match=r"Multicut\(G\).*sample_cqm\(cqm\)"):
        SAMPLER.sample(model)


# ---------------------------------------------------------------- Multicut.solve


def test_multicut_sampler_takes_the_problem_itself():
    problem = Multicut(square_with_chord())
    assert problem.samples_natively(SAMPLER) and not problem.samples_natively(HiGHSSampler())
    best, sampleset = problem.solve(SAMPLER, seed=0, simulations=4)
    assert list(sampleset.variables) == problem.nodes and sampleset.vartype is dimod.INTEGER
    exact, _ = problem.solve(HiGHSSampler())
    assert best.feasible and best.objective == problem.evaluate(best.value) == exact.objective == -1.0


def test_multicut_solve_works_above_the_cqm_size_limit():
    problem = Multicut(random_signed_graph("er", 60, np.random.default_rng(5)))
    with pytest.raises(ModelTooLargeError):
        _ = problem.cqm
    best, sampleset = problem.solve(SAMPLER, num_reads=2, seed=0, simulations=2)
    assert len(sampleset) == 2 and best.feasible and not best.repaired
    assert best.objective == pytest.approx(problem.evaluate(best.value))
    assert best.objective == pytest.approx(sampleset.first.energy)
    assert best.objective <= sampleset.info["reference_cost"] + 1e-9
