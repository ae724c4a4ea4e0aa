"""HiGHSSampler: dimod's sampler tests, exactness against brute force, status/bound/gap, CQMs, bad input."""

from __future__ import annotations

import itertools
import math
import threading
import time
import unittest

import dimod
import numpy as np
import pytest

from gnnsolve import _highs
from gnnsolve._highs import DeadlineRun, RunResult, run_in_process, run_in_thread
from gnnsolve.errors import InvalidModelError, UnsupportedModelError
from gnnsolve.samplers import _milp, highs
from gnnsolve.samplers._milp import Outcome
from gnnsolve.samplers.highs import HiGHSSampler
from random_models import random_bqm


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
        -sum(v * x for v, x in zip(values, items))
        - 1.5 * filler
        - 2 * items[0] * items[1]
        + 3 * items[2] * items[4]
        + side * items[3]
        + 0.5 * side
        + 7
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


def hard_bqm() -> dimod.BinaryQuadraticModel:
    """A dense 150-spin model that HiGHS does not prove optimal within seconds."""
    return dimod.generators.ran_r(1, 150, seed=1)


def test_time_limit_is_honoured():
    bqm = hard_bqm()
    start = time.perf_counter()
    sampleset = HiGHSSampler().sample(bqm, time_limit=1)
    elapsed = time.perf_counter() - start
    info = sampleset.info
    assert elapsed <= 1.5 * 1 + 2
    assert len(sampleset) == 1
    dimod.testing.assert_sampleset_energies(sampleset, bqm)
    assert info["status"] == "time_limit" and info["time_limit"] == 1.0
    assert info["bound"] <= sampleset.first.energy
    assert info["gap"] > 0


def test_default_budget_is_reported_and_applied(monkeypatch):
    bqm = random_bqm(3)
    sampleset = HiGHSSampler().sample(bqm)
    assert sampleset.info["time_limit"] == _milp.default_time_limit(bqm.num_variables + bqm.num_interactions)
    assert sampleset.info["status"] == sampleset.info["stop_reason"] == "optimal"
    monkeypatch.setattr(_milp, "default_time_limit", lambda size: 0.5)
    start = time.perf_counter()
    stopped = HiGHSSampler().sample(hard_bqm())
    assert time.perf_counter() - start <= 1.5 * 0.5 + 2
    assert stopped.info["time_limit"] == 0.5 and stopped.info["status"] == "time_limit"


def test_default_budget_grows_with_size_up_to_a_minute():
    sizes = [0, 10**4, 10**5, 10**6, 10**8]
    budgets = [_milp.default_time_limit(size) for size in sizes]
    assert budgets == sorted(budgets) and budgets[0] == 10.0 and budgets[-1] == 60.0


def test_infinite_time_limit_means_no_limit():
    bqm = random_bqm(8)
    sampleset = HiGHSSampler().sample(bqm, time_limit=math.inf)
    assert sampleset.info["time_limit"] == math.inf and sampleset.info["status"] == "optimal"
    assert sampleset.first.energy == pytest.approx(dimod.ExactSolver().sample(bqm).first.energy)
    assert HiGHSSampler().sample_cqm(knapsack_cqm(), time_limit=math.inf).info["status"] == "optimal"


@pytest.mark.parametrize("time_limit", [0, -1, math.nan, -math.inf])
def test_time_limit_must_be_positive(time_limit):
    with pytest.raises(ValueError, match="time_limit"):
        HiGHSSampler().sample(random_bqm(2), time_limit=time_limit)
    with pytest.raises(ValueError, match="time_limit"):
        HiGHSSampler().sample_cqm(knapsack_cqm(), time_limit=time_limit)


@pytest.mark.parametrize("time_limit", ["5", True, [1]])
def test_time_limit_must_be_a_number(time_limit):
    with pytest.raises(TypeError, match="time_limit"):
        HiGHSSampler().sample(random_bqm(2), time_limit=time_limit)


def test_model_too_large_for_the_budget_returns_the_start():
    """A budget that cannot pay for building the MILP returns the starting incumbent at once."""
    bqm = dimod.generators.ran_r(1, 300, seed=0)  # 44,850 products: about 0.6 s to build and set up
    start = time.perf_counter()
    sampleset = HiGHSSampler().sample(bqm, time_limit=0.01)
    assert time.perf_counter() - start <= 1.5 * 0.01 + 2
    assert sampleset.info["status"] == "time_limit" and sampleset.info["bound"] == -math.inf
    assert sampleset.info["stop_reason"] == "not_started"
    assert set(sampleset.first.sample.values()) == {-1}  # every spin at its lower value
    dimod.testing.assert_sampleset_energies(sampleset, bqm)
    given = {v: (1 if i % 3 else -1) for i, v in enumerate(bqm.variables)}
    started = HiGHSSampler().sample(bqm, time_limit=0.01, initial_states=given)
    assert started.first.sample == given


def test_cqm_too_large_for_the_budget(monkeypatch):
    monkeypatch.setattr(HiGHSSampler, "_set_up_seconds", lambda self, *sizes: math.inf)
    cqm = knapsack_cqm()
    with pytest.raises(RuntimeError, match="time_limit"):
        HiGHSSampler().sample_cqm(cqm, time_limit=5)
    feasible = HiGHSSampler().sample_cqm(cqm, time_limit=math.inf).first.sample  # inf: no estimate stops it
    stopped = HiGHSSampler().sample_cqm(cqm, time_limit=5, initial_states=feasible)
    assert stopped.first.sample == feasible and stopped.info["status"] == "time_limit"
    assert bool(stopped.first.is_feasible)


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


def test_the_start_reaches_highs_in_its_column_order(monkeypatch):
    """dimod sorts a SampleSet's labels; the MIP start must follow the model's own order."""
    seen = []
    solve = HiGHSSampler._solve

    def spy(self, model, start, *args, **kwargs):
        seen.append(dict(zip(model.variables, start)))
        return solve(self, model, start, *args, **kwargs)

    monkeypatch.setattr(HiGHSSampler, "_solve", spy)
    bqm = dimod.BQM({"c": 1.0, "a": -1.0, "b": 0.5}, {("c", "a"): -2.0}, 0.0, "BINARY")
    HiGHSSampler().sample(bqm, initial_states={"a": 1, "b": 0, "c": 1})
    assert seen[-1] == {"a": 1, "b": 0, "c": 1}
    cqm = dimod.CQM.from_bqm(bqm)
    HiGHSSampler().sample_cqm(cqm, initial_states={"a": 0, "b": 1, "c": 1})
    assert seen[-1] == {"a": 0, "b": 1, "c": 1}


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
    integer_product = dimod.CQM()
    integer_product.set_objective(n * dimod.Integer("m", upper_bound=2))
    unbounded_factor = dimod.CQM()
    unbounded_factor.set_objective(x * dimod.Integer("k"))
    soft = dimod.CQM()
    soft.set_objective(x + y)
    soft.add_constraint(x + y >= 1, label="soft", weight=2.0)
    return {
        "quadratic constraint": (quadratic_constraint, "quadratic"),
        "integer product": (integer_product, r"'n' \* 'm'.*not BINARY.*GurobiSampler"),
        "unbounded factor": (unbounded_factor, r"'x' \* 'k'.*infinite.*GurobiSampler"),
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
    cqm.add_constraint(x + y >= 2, label="both")  # each row alone can hold: the solver proves it
    cqm.add_constraint(x + y <= 1, label="one")
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


class SlowHighs:
    """Stands in for ``highspy.Highs`` in a step that reads no clock for ``seconds``."""

    class Callbacks(list):
        def __iadd__(self, callback):
            self.append(callback)
            return self

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.cbMipImprovingSolution = self.Callbacks()
        self.cbMipInterrupt = self.Callbacks()

    def setOptionValue(self, name, value):
        return highs.highspy.HighsStatus.kOk

    def run(self):
        time.sleep(self.seconds)


def test_deadline_run_returns_at_the_deadline_and_runs_take_turns():
    start = time.perf_counter()
    assert DeadlineRun(SlowHighs(1.0), num_columns=1).run(0.1) is False
    assert time.perf_counter() - start <= 1.5 * 0.1 + 2
    assert DeadlineRun(SlowHighs(0.0), num_columns=1).run(0.01) is False  # the first still runs
    assert DeadlineRun(SlowHighs(0.0), num_columns=1).run(10.0) is True  # once it has ended


def test_highs_past_the_deadline_leaves_the_start(monkeypatch):
    monkeypatch.setattr(
        highs, "run_in_thread", lambda job, seconds, reset_scheduler=False: RunResult(False, None, None, -math.inf, 0)
    )
    bqm = random_bqm(6)
    sampleset = HiGHSSampler().sample(bqm, time_limit=5)
    assert sampleset.info["status"] == "time_limit" and sampleset.info["stop_reason"] == "deadline"
    lower = min(bqm.vartype.value)
    assert set(sampleset.first.sample.values()) == {lower}


def highs_job(bqm: dimod.BinaryQuadraticModel) -> _highs.HighsJob:
    """The HiGHS job of ``bqm``'s linearisation, as HiGHSSampler passes it."""
    model = _milp.IndexModel.from_bqm(_milp.CompiledBQM(bqm))
    milp = highs.linearise(model)
    return _highs.HighsJob(
        model.num_variables,
        milp.cost,
        milp.lower,
        milp.upper,
        milp.integrality,
        milp.row_lower,
        milp.row_upper,
        milp.matrix.indptr,
        milp.matrix.indices,
        milp.matrix.data,
        milp.offset,
        {"output_flag": False, "presolve": "off"},
    )


def test_a_run_in_a_process_gives_what_a_run_in_a_thread_gives():
    job = highs_job(random_bqm(9))
    in_thread, in_process = run_in_thread(job, 30.0), run_in_process(job, 30.0)
    assert in_thread.finished and in_process.finished and in_thread.status == in_process.status == "optimal"
    assert np.array_equal(in_thread.x, in_process.x) and in_thread.bound == pytest.approx(in_process.bound)


def test_a_run_in_a_process_is_killed_at_the_deadline(monkeypatch):
    monkeypatch.setattr(_highs, "_own_time_limit", lambda seconds: 1e9)  # HiGHS would never stop by itself
    start = time.perf_counter()
    result = run_in_process(highs_job(hard_bqm()), 1.0)
    assert time.perf_counter() - start <= 1.5 * 1.0 + 2
    assert not result.finished and result.status is None


def test_a_run_in_a_process_that_fails_is_an_error():
    job = highs_job(random_bqm(4))
    broken = _highs.HighsJob(**{**job.__dict__, "options": {"no_such_option": 1}})  # HiGHS refuses it
    with pytest.raises(RuntimeError, match="no_such_option"):
        run_in_process(broken, 30.0)


def test_large_models_run_in_a_process_and_nothing_runs_on_after_the_call(monkeypatch):
    ran = []
    monkeypatch.setattr(highs, "run_in_process", lambda job, seconds: ran.append(seconds) or run_in_process(job, seconds))
    bqm = hard_bqm()  # 11,175 products: HiGHS's first steps may last seconds
    start = time.perf_counter()
    sampleset = HiGHSSampler().sample(bqm, time_limit=2)
    assert time.perf_counter() - start <= 1.5 * 2 + 2
    assert ran and sampleset.info["status"] == "time_limit"
    dimod.testing.assert_sampleset_energies(sampleset, bqm)
    assert not [thread for thread in threading.enumerate() if thread.name == "highs"]


def test_sample_cqm_keeps_a_label_as_leaps_samplers_do():
    cqm = dimod.ConstrainedQuadraticModel()
    x = dimod.Binary("x")
    cqm.set_objective(-x)
    cqm.add_constraint(x <= 1, label="c")
    sampleset = HiGHSSampler().sample_cqm(cqm, label="Example - one variable")
    assert sampleset.info["problem_label"] == "Example - one variable" and sampleset.first.energy == -1
    assert "problem_label" not in HiGHSSampler().sample_cqm(cqm).info
