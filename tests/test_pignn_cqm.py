"""PI-GNN on a CQM's own structure (``GNNSampler.sample_cqm(cqm_method="lagrangian")``)."""

from __future__ import annotations

import math

import dimod
import numpy as np
import pytest
import torch

from gnnsolve import GNNSampler
from gnnsolve.errors import UnsupportedModelError
from gnnsolve.samplers.penalty import default_time_limit
from gnnsolve.samplers.pignn_cqm import RelaxedCQM, sample_cqm_lagrangian
from gnnsolve.search.cqm_repair import CompiledCQM
from test_penalty_composite import best_feasible, brute_force, knapsack


def assignment(n: int = 4, seed: int = 0) -> dimod.ConstrainedQuadraticModel:
    """An ``n × n`` assignment: one-hot rows and columns, random costs."""
    rng = np.random.default_rng(seed)
    x = {(i, j): dimod.Binary(f"x_{i}_{j}") for i in range(n) for j in range(n)}
    cqm = dimod.ConstrainedQuadraticModel()
    cqm.set_objective(sum(int(rng.integers(1, 20)) * x[i, j] for i in range(n) for j in range(n)))
    for i in range(n):
        cqm.add_constraint(sum(x[i, j] for j in range(n)) == 1, label=f"row_{i}")
        cqm.add_constraint(sum(x[j, i] for j in range(n)) == 1, label=f"col_{i}")
    return cqm


def test_the_exact_optimum_of_a_small_knapsack():
    cqm = knapsack([4, 3, 5, 2, 6], [3, 2, 4, 1, 5], 7)
    sampleset = GNNSampler().sample_cqm(cqm, seed=0, time_limit=10, cqm_method="lagrangian")
    assert best_feasible(sampleset).energy == pytest.approx(brute_force(cqm))
    assert sampleset.info["method"] == "lagrangian"


def test_answers_are_checked_and_their_energies_are_the_cqms():
    cqm = assignment()
    sampleset = sample_cqm_lagrangian(cqm, seed=1, time_limit=10)
    assert set(sampleset.variables) == set(cqm.variables)
    for row in sampleset.data(["sample", "energy", "is_feasible", "is_satisfied"]):
        assert row.energy == pytest.approx(cqm.objective.energy(row.sample))
        assert bool(row.is_feasible) == cqm.check_feasible(row.sample)
        assert list(row.is_satisfied) == [s.violation <= 1e-6 for s in cqm.iter_constraint_data(row.sample)]
    best = best_feasible(sampleset)
    assert cqm.check_feasible(best.sample)
    assert best.energy == pytest.approx(brute_force(cqm))
    assert set(sampleset.record.training_round) <= set(range(sampleset.info["rounds"]))


def test_integer_and_spin_variables_come_back_in_their_own_domains():
    cqm = dimod.ConstrainedQuadraticModel()
    k, s, b = dimod.Integer("k", lower_bound=-2, upper_bound=3), dimod.Spin("s"), dimod.Binary("b")
    cqm.set_objective(-k + 2 * s - b)
    cqm.add_constraint(k + b <= 2, label="cap")
    sampleset = sample_cqm_lagrangian(cqm, seed=0, time_limit=10)
    best = best_feasible(sampleset)
    assert best.energy == pytest.approx(brute_force(cqm))
    assert set(np.unique(sampleset.record.sample[:, sampleset.variables.index("s")])) <= {-1, 1}
    assert all(-2 <= v <= 3 for v in sampleset.record.sample[:, sampleset.variables.index("k")])


def test_the_same_seed_gives_the_same_samples():
    cqm = assignment(5, seed=2)
    first = sample_cqm_lagrangian(cqm, seed=3, time_limit=math.inf, max_epochs=150)
    second = sample_cqm_lagrangian(cqm, seed=3, time_limit=math.inf, max_epochs=150)
    assert np.array_equal(first.record.sample, second.record.sample)
    assert first.info["epochs"] == second.info["epochs"]


def test_without_time_limit_the_call_has_the_composites_budget_for_the_same_cqm():
    cqm = knapsack([4, 3, 5, 2, 6], [3, 2, 4, 1, 5], 7)
    sampleset = sample_cqm_lagrangian(cqm, seed=0)
    # 5 variables and 1 constraint; the constraint couples 10 pairs
    assert sampleset.info["time_limit"] == default_time_limit(6, 10)
    assert sampleset.info["stop_reason"] == "converged"


def test_the_default_stays_the_flat_penalty():
    cqm = knapsack([4, 3, 5, 2, 6], [3, 2, 4, 1, 5], 7)
    sampleset = GNNSampler().sample_cqm(cqm, seed=0, time_limit=5)
    assert "penalties" in sampleset.info and "method" not in sampleset.info


def test_relaxed_terms_are_the_scaled_objective_and_distances():
    cqm = knapsack([4, 3], [3, 2], 4)
    relaxed = RelaxedCQM(CompiledCQM(cqm), torch.device("cpu"))
    values = torch.tensor([[1.0, 1.0], [0.5, 0.0]])
    assert relaxed.objective(values).tolist() == pytest.approx([-7 / 4, -0.5])
    assert relaxed.violations(values).ravel().tolist() == pytest.approx([1 / 3, 0.0])


@pytest.mark.parametrize(
    "keywords, error, match",
    [
        ({"cqm_method": "slack"}, ValueError, "cqm_method must be one of"),
        ({"cqm_method": "lagrangian", "conv": "signed"}, ValueError, "conv must be 'gcn' or 'sage'"),
        ({"cqm_method": "lagrangian", "num_reads": 0}, ValueError, "num_reads"),
        ({"cqm_method": "lagrangian", "learning_rate": 0}, ValueError, "learning_rate must be positive"),
        ({"cqm_method": "lagrangian", "repair": "yes"}, ValueError, "repair must be True or False"),
        ({"cqm_method": "lagrangian", "penalty": 3.0}, TypeError, "penalty"),
    ],
)
def test_bad_keywords_are_clear_errors(keywords, error, match):
    with pytest.raises(error, match=match):
        GNNSampler().sample_cqm(knapsack([4, 3], [3, 2], 4), **keywords)


def test_real_variables_and_bqms_are_refused_by_name():
    cqm = dimod.ConstrainedQuadraticModel()
    cqm.set_objective(dimod.Real("r", upper_bound=2) + dimod.Binary("b"))
    with pytest.raises(UnsupportedModelError, match="'r' is REAL"):
        GNNSampler().sample_cqm(cqm, cqm_method="lagrangian")
    with pytest.raises(TypeError, match="ConstrainedQuadraticModel"):
        sample_cqm_lagrangian(dimod.BQM({"a": 1}, {}, 0, "BINARY"))  # type: ignore[arg-type]
