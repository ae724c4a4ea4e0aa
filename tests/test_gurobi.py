"""GurobiSampler: dimod's sampler tests, exactness, status/bound/gap, CQMs, licence limits, missing gurobipy."""

from __future__ import annotations

import importlib
import itertools
import math
import sys
import time
import types
import unittest

import dimod
import numpy as np
import pytest

import gnnsolve.samplers.gurobi
from gnnsolve.errors import InvalidModelError, MissingDependencyError, ModelTooLargeError, UnsupportedModelError
from gnnsolve.samplers._milp import default_time_limit
from gnnsolve.samplers.gurobi import GurobiSampler
from gnnsolve.samplers.highs import HiGHSSampler
from random_models import random_bqm

try:
    import gurobipy

    HAS_GUROBI = True
except ImportError:
    HAS_GUROBI = False
needs_gurobi = pytest.mark.skipif(not HAS_GUROBI, reason="gurobipy is not installed")


def with_dimod_tests(cls: type) -> type:
    """dimod's sampler tests for GurobiSampler, or a skip (they construct samplers when loaded)."""
    if not HAS_GUROBI:
        return unittest.skip("gurobipy is not installed")(cls)
    return dimod.testing.load_sampler_bqm_tests(GurobiSampler)(cls)


@with_dimod_tests
class TestGurobiDimod(unittest.TestCase):
    pass


def assignment_cqm() -> dimod.ConstrainedQuadraticModel:
    """Three tasks onto two machines (one-hot), conflicts, an integer overtime and a capacity."""
    x = {(t, m): dimod.Binary(("x", t, m)) for t in range(3) for m in range(2)}
    overtime = dimod.Integer("overtime", lower_bound=0, upper_bound=3)
    cost = {(0, 0): 2, (0, 1): 4, (1, 0): 3, (1, 1): 1, (2, 0): 5, (2, 1): 2}
    cqm = dimod.CQM()
    cqm.set_objective(sum(c * x[k] for k, c in cost.items()) + 2 * overtime + 4 * x[0, 1] * x[1, 1] + 3 * x[1, 0] * x[2, 0] - 1)
    for t in range(3):
        cqm.add_constraint(x[t, 0] + x[t, 1] == 1, label=f"task {t}")
    cqm.add_constraint(2 * x[0, 1] + 3 * x[1, 1] + 2 * x[2, 1] - overtime <= 3, label="machine 1")
    return cqm


def brute_force_cqm(cqm: dimod.ConstrainedQuadraticModel) -> float:
    """The least objective over every feasible assignment of a small CQM."""
    domains = [range(int(cqm.lower_bound(v)), int(cqm.upper_bound(v)) + 1) for v in cqm.variables]
    samples = np.array(list(itertools.product(*domains)))
    sampleset = dimod.SampleSet.from_samples_cqm((samples, list(cqm.variables)), cqm)
    return float(sampleset.record.energy[sampleset.record.is_feasible].min())


@needs_gurobi
@pytest.mark.parametrize("seed", range(30))
def test_ground_energy_matches_exact_solver(seed):
    bqm = random_bqm(seed)
    sampleset = GurobiSampler().sample(bqm)
    ground = dimod.ExactSolver().sample(bqm).first.energy
    assert len(sampleset) == 1
    assert sampleset.vartype is bqm.vartype
    assert set(sampleset.variables) == set(bqm.variables)
    dimod.testing.assert_sampleset_energies(sampleset, bqm)
    assert sampleset.first.energy == pytest.approx(ground, abs=1e-6)
    assert sampleset.info["status"] == "optimal"
    assert sampleset.info["gap"] == 0.0
    assert sampleset.info["bound"] == pytest.approx(ground, abs=1e-6)
    assert set(sampleset.info["timing"]) == {"preprocessing_ns", "sampling_ns", "postprocessing_ns"}


@needs_gurobi
def test_empty_model_and_keywords():
    empty = GurobiSampler().sample(dimod.BQM({}, {}, -2.0, "SPIN"))
    assert len(empty) == 1 and len(empty.variables) == 0 and empty.first.energy == -2.0
    bqm = random_bqm(5)
    ground = dimod.ExactSolver().sample(bqm).first
    sampleset = GurobiSampler().sample(bqm, seed=3, threads=1, mip_rel_gap=1e-9, num_reads=3, initial_states=ground.sample)
    assert len(sampleset) == 1 and sampleset.first.energy == pytest.approx(ground.energy)


@needs_gurobi
def test_time_limit_is_honoured():
    bqm = dimod.generators.ran_r(1, 150, seed=1)
    start = time.perf_counter()
    sampleset = GurobiSampler().sample(bqm, time_limit=1)
    elapsed = time.perf_counter() - start
    info = sampleset.info
    assert elapsed <= 1.5 * 1 + 2
    assert info["status"] == "time_limit" and info["time_limit"] == 1.0
    assert info["bound"] <= sampleset.first.energy
    assert info["gap"] > 0
    dimod.testing.assert_sampleset_energies(sampleset, bqm)


@needs_gurobi
def test_default_budget_and_no_limit():
    bqm = random_bqm(4)
    default = GurobiSampler().sample(bqm)
    assert default.info["time_limit"] == default_time_limit(bqm.num_variables + bqm.num_interactions)
    unlimited = GurobiSampler().sample(bqm, time_limit=math.inf)
    assert unlimited.info["time_limit"] == math.inf and unlimited.info["status"] == "optimal"
    assert unlimited.first.energy == pytest.approx(default.first.energy)


@needs_gurobi
def test_gurobi_gets_what_is_left_after_building(monkeypatch):
    """Building counts against time_limit: Gurobi's TimeLimit is the rest of the budget."""
    seen = []

    class Recording(gurobipy.Model):
        def optimize(self, *args):
            seen.append(self.Params.TimeLimit)
            return super().optimize(*args)

    build = gnnsolve.samplers.gurobi._build

    def slow_build(*args):
        time.sleep(0.3)
        return build(*args)

    monkeypatch.setattr(gnnsolve.samplers.gurobi, "_build", slow_build)
    sampler = GurobiSampler()
    sampler._gurobipy = types.SimpleNamespace(**{**vars(gurobipy), "Model": Recording})
    sampler.sample(random_bqm(6), time_limit=5)
    assert len(seen) == 1 and 0 < seen[0] <= 5 - 0.3


@needs_gurobi
def test_sample_cqm_matches_brute_force_and_highs():
    cqm = assignment_cqm()
    sampleset = GurobiSampler().sample_cqm(cqm)
    best = sampleset.first
    assert best.is_feasible
    assert best.energy == pytest.approx(brute_force_cqm(cqm))
    assert best.energy == pytest.approx(HiGHSSampler().sample_cqm(cqm).first.energy)
    assert sampleset.info["status"] == "optimal" and sampleset.info["gap"] == 0.0


@needs_gurobi
def test_unsupported_and_infeasible_cqms():
    x, y = dimod.Binaries(["x", "y"])
    quadratic_constraint = dimod.CQM()
    quadratic_constraint.set_objective(x + y)
    quadratic_constraint.add_constraint(x * y <= 0, label="quad")
    soft = dimod.CQM()
    soft.set_objective(x + y)
    soft.add_constraint(x + y >= 1, label="soft", weight=2.0)
    for cqm, word in [(quadratic_constraint, "quadratic"), (soft, "soft")]:
        with pytest.raises(UnsupportedModelError, match=word):
            GurobiSampler().sample_cqm(cqm)
    infeasible = dimod.CQM()
    infeasible.set_objective(x - y)
    infeasible.add_constraint(x + y >= 2, label="both")  # each row alone can hold: the solver proves it
    infeasible.add_constraint(x + y <= 1, label="one")
    with pytest.raises(InvalidModelError, match="infeasible"):
        GurobiSampler().sample_cqm(infeasible)


@needs_gurobi
def test_bad_input():
    with pytest.raises(InvalidModelError):
        GurobiSampler().sample(dimod.BQM({"a": 1.0}, {("a", "b"): math.nan}, 0.0, "BINARY"))
    with pytest.warns(dimod.exceptions.SamplerUnknownArgWarning):
        GurobiSampler().sample(random_bqm(1), not_a_keyword=3)
    for bad in (0, -1.0, math.nan):
        with pytest.raises(ValueError, match="time_limit"):
            GurobiSampler().sample(random_bqm(1), time_limit=bad)
    with pytest.raises(TypeError, match="time_limit"):
        GurobiSampler().sample(random_bqm(1), time_limit="1")


@needs_gurobi
def test_over_licence_model_is_too_large():
    bqm = dimod.generators.ran_r(1, 250, seed=0)
    try:
        GurobiSampler().sample(bqm, time_limit=5)
    except ModelTooLargeError as err:
        assert "200 variables" in str(err) and "2000" in str(err)
    else:
        pytest.skip("the installed Gurobi licence is not size-limited")


def test_missing_gurobipy_raises(monkeypatch):
    monkeypatch.setitem(sys.modules, "gurobipy", None)
    module = importlib.reload(gnnsolve.samplers.gurobi)
    with pytest.raises(MissingDependencyError, match=r'pip install "gnnsolve\[gurobi\]"'):
        module.GurobiSampler()
    with pytest.raises(ImportError):
        GurobiSampler()
    monkeypatch.undo()
    importlib.reload(gnnsolve.samplers.gurobi)
