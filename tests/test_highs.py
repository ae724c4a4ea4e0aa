"""HiGHSSampler: dimod's sampler tests, exactness against brute force, status/bound/gap, CQMs, bad input."""

from __future__ import annotations

import itertools
import math
import time
import unittest

import dimod
import numpy as np
import pytest
from random_models import random_bqm

from gnnsolve.errors import InvalidModelError, UnsupportedModelError
from gnnsolve.samplers import highs
from gnnsolve.samplers._milp import Outcome
from gnnsolve.samplers.highs import HiGHSSampler


@dimod.testing.load_sampler_bqm_tests(HiGHSSampler)
class TestHiGHSDimod(unittest.TestCase):
    pass


def brute_force_cqm(cqm: dimod.ConstrainedQuadraticModel) -> float:
    """The least objective over every feasible assignment of a small CQM."""
    domains = []
    for v in cqm.variables:
        vartype = cqm.vartype(v)
        if vartype is dimod.SPIN:
            domains.append([-1, 1])
        else:
            domains.append(range(int(cqm.lower_bound(v)), int(cqm.upper_bound(v)) + 1))
    samples = np.array(list(itertools.product(*domains)))
    sampleset = dimod.SampleSet.from_samples_cqm((samples, list(cqm.variables)), cqm)
    return float(sampleset.record.energy[sampleset.record.is_feasible].min())


def knapsack_cqm() -> dimod.ConstrainedQuadraticModel:
    """Binary items with pair bonuses, an integer filler, a capacity, a choose-one and a spin."""
    items = list(dimod.Binaries([f"x{i}" for i in range(6)]))
    filler = dimod.Integer("n", lower_bound=0, upper_bound=4)
    side = dimod.Spin("s")
    values, weights = [4, 3, 5, 2, 6, 1], [3, 2, 4, 1, 5, 1]
    cqm = dimod.CQM()
    cqm.set_objective(
        -sum(v * x for v, x in zip(values, items)) - 1.5 * filler
        - 2 * items[0] * items[1] + 3 * items[2] * items[4] + side * items[3] + 0.5 * side + 7
    )
    cqm.add_constraint(sum(w * x for w, x in zip(weights, items)) + 2 * filler <= 11, label="capacity")
    cqm.add_constraint(items[0] + items[2] + items[5] == 1, label="choose one")
    cqm.add_constraint(filler - items[3] >= 1, label="filler needs room")
    return cqm


@pytest.mark.parametrize("seed", range(36))
def test_ground_energy_matches_exact_solver(seed):
    bqm = random_bqm(seed)
    sampleset = HiGHSSampler().sample(bqm)
    ground = dimod.ExactSolver().sample(bqm).first.energy
    assert len(sampleset) == 1
    assert sampleset.vartype is bqm.vartype
    assert set(sampleset.variables) == set(bqm.variables)
    dimod.testing.assert_sampleset_energies(sampleset, bqm)
    assert sampleset.first.energy == pytest.approx(ground, abs=1e-6)
    assert sampleset.info["status"] == "optimal"
    assert sampleset.info["gap"] == 0.0
    assert sampleset.info["bound"] == pytest.approx(ground, abs=1e-6)


def test_info_timing_and_nodes():
    sampleset = HiGHSSampler().sample(random_bqm(3), seed=5, threads=1, num_reads=4)
    timing = sampleset.info["timing"]
    assert set(timing) == {"preprocessing_ns", "sampling_ns", "postprocessing_ns"}
    assert all(isinstance(t, int) and t >= 0 for t in timing.values())
    assert isinstance(sampleset.info["num_nodes"], int)
    assert len(sampleset) == 1


def test_isolated_variables_and_empty_model():
    bqm = dimod.BQM({"a": 2.0, "b": -1.0, "c": 0.0}, {}, 0.5, "SPIN")
    assert HiGHSSampler().sample(bqm).first.energy == pytest.approx(-2.5)
    empty = HiGHSSampler().sample(dimod.BQM({}, {}, 1.5, "BINARY"))
    assert len(empty) == 1 and len(empty.variables) == 0 and empty.first.energy == 1.5


def test_time_limit_is_honoured():
    bqm = dimod.generators.ran_r(1, 150, seed=1)
    start = time.perf_counter()
    sampleset = HiGHSSampler().sample(bqm, time_limit=1)
    elapsed = time.perf_counter() - start
    info = sampleset.info
    assert elapsed < 1.5
    assert info["status"] == "time_limit"
    assert info["bound"] <= sampleset.first.energy
    assert info["gap"] > 0


def test_initial_states_are_a_start():
    bqm = random_bqm(7)
    best = dimod.ExactSolver().sample(bqm).first
    sampleset = HiGHSSampler().sample(bqm, initial_states=best.sample)
    assert sampleset.first.energy == pytest.approx(best.energy)
    with pytest.raises(ValueError, match="exactly the model's variables"):
        HiGHSSampler().sample(bqm, initial_states={"nope": 1})
    wrong = {v: 0 for v in bqm.variables}  # 0 is not a SPIN value
    with pytest.raises(ValueError, match="SPIN values"):
        HiGHSSampler().sample(bqm, initial_states=wrong)


def test_sample_cqm_matches_brute_force():
    cqm = knapsack_cqm()
    sampleset = HiGHSSampler().sample_cqm(cqm, time_limit=30)
    best = sampleset.first
    assert best.is_feasible
    assert best.energy == pytest.approx(brute_force_cqm(cqm))
    assert best.sample["s"] in (-1, 1)
    assert sampleset.info["status"] == "optimal" and sampleset.info["gap"] == 0.0
    feasible_start = dict(best.sample)
    assert HiGHSSampler().sample_cqm(cqm, initial_states=feasible_start).first.energy == pytest.approx(best.energy)


def test_sample_cqm_default_integer_bounds():
    cqm = dimod.CQM()
    n = dimod.Integer("n")
    cqm.set_objective(-n)
    cqm.add_constraint(n <= 7, label="cap")
    assert HiGHSSampler().sample_cqm(cqm).first.sample["n"] == 7


def unsupported_cqms():
    x, y = dimod.Binaries(["x", "y"])
    n = dimod.Integer("n", upper_bound=3)
    quadratic_constraint = dimod.CQM()
    quadratic_constraint.set_objective(x + y)
    quadratic_constraint.add_constraint(x * y <= 0, label="quad")
    real = dimod.CQM()
    real.set_objective(x + dimod.Real("r", upper_bound=2))
    integer_product = dimod.CQM()
    integer_product.set_objective(n * x)
    soft = dimod.CQM()
    soft.set_objective(x + y)
    soft.add_constraint(x + y >= 1, label="soft", weight=2.0)
    return {
        "quadratic constraint": (quadratic_constraint, "quadratic"),
        "real variable": (real, "REAL"),
        "integer product": (integer_product, "INTEGER"),
        "soft constraint": (soft, "soft"),
    }


@pytest.mark.parametrize("case", sorted(unsupported_cqms()))
def test_unsupported_cqm_raises(case):
    cqm, word = unsupported_cqms()[case]
    with pytest.raises(UnsupportedModelError, match=word):
        HiGHSSampler().sample_cqm(cqm)


def test_infeasible_cqm_raises():
    cqm = dimod.CQM()
    x, y = dimod.Binaries(["x", "y"])
    cqm.set_objective(x - y)
    cqm.add_constraint(x + y >= 3, label="impossible")
    with pytest.raises(InvalidModelError, match="infeasible"):
        HiGHSSampler().sample_cqm(cqm)


def test_no_solution_before_the_limit_raises():
    class Stopped(HiGHSSampler):
        def _solve(self, model, start, options, watch, **extra):
            return Outcome("time_limit", None, -math.inf, 0)

    cqm = knapsack_cqm()
    with pytest.raises(RuntimeError, match="time_limit"):
        Stopped().sample_cqm(cqm, time_limit=1)


def test_nan_is_rejected_before_highs(monkeypatch):
    def refuse():
        raise AssertionError("HiGHS must not be reached")

    monkeypatch.setattr(highs.highspy, "Highs", refuse)
    with pytest.raises(InvalidModelError):
        HiGHSSampler().sample(dimod.BQM({"a": math.nan, "b": 1.0}, {("a", "b"): 1.0}, 0.0, "SPIN"))
    cqm = knapsack_cqm()
    cqm.objective.set_linear("x0", math.inf)
    with pytest.raises(InvalidModelError, match="finite"):
        HiGHSSampler().sample_cqm(cqm)


def test_unknown_keyword_warns():
    bqm = random_bqm(1)
    with pytest.warns(dimod.exceptions.SamplerUnknownArgWarning):
        HiGHSSampler().sample(bqm, not_a_keyword=3)
    with pytest.warns(dimod.exceptions.SamplerUnknownArgWarning):
        HiGHSSampler().sample_cqm(knapsack_cqm(), not_a_keyword=3)


@pytest.mark.parametrize(
    "keywords",
    [{"time_limit": -1}, {"mip_rel_gap": -0.1}, {"seed": -1}, {"threads": 0}, {"num_reads": 0}, {"output": "yes"}],
)
def test_bad_keywords_raise(keywords):
    with pytest.raises((ValueError, TypeError)):
        HiGHSSampler().sample(random_bqm(2), **keywords)


@pytest.mark.parametrize("presolve", [True, False])
def test_presolve_keyword(presolve):
    bqm = random_bqm(4)
    ground = dimod.ExactSolver().sample(bqm).first.energy
    assert HiGHSSampler().sample(bqm, presolve=presolve).first.energy == pytest.approx(ground)
    with pytest.raises(TypeError):
        HiGHSSampler().sample(bqm, presolve="sometimes")
