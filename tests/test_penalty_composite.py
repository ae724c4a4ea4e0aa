"""PenaltyComposite: ``sample_cqm`` for any BQM sampler, and the learned samplers' ``sample_cqm``."""

from __future__ import annotations

import itertools
import math
import time
import unittest

import dimod
import dimod.testing
import numpy as np
import pytest
from dwave.samplers import SimulatedAnnealingSampler, SteepestDescentSolver, TabuSampler
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gnnsolve import DyCOSampler, GNNSampler
from gnnsolve.errors import InfeasibleModelError, ModelTooLargeError, UnsupportedModelError
from gnnsolve.samplers.penalty import PENALTY_RETRIES, PenaltyComposite


class SteepestPenalty(PenaltyComposite):
    """The composite around a steepest-descent child, constructible without arguments for dimod's tests."""

    def __init__(self) -> None:
        super().__init__(SteepestDescentSolver())


@dimod.testing.load_sampler_bqm_tests(SteepestPenalty)
class TestDimodConventions(unittest.TestCase):
    """dimod's BQM sampler tests, run on the composite's ``sample``."""


def knapsack(values, weights, capacity) -> dimod.ConstrainedQuadraticModel:
    cqm = dimod.ConstrainedQuadraticModel()
    x = [dimod.Binary(f"item_{i}") for i in range(len(values))]
    cqm.set_objective(-sum(v * xi for v, xi in zip(values, x)))
    cqm.add_constraint(sum(w * xi for w, xi in zip(weights, x)) <= capacity, label="capacity")
    return cqm


def brute_force(cqm: dimod.ConstrainedQuadraticModel) -> float:
    """The least objective over feasible assignments (BINARY, SPIN and small INTEGER variables)."""
    variables = list(cqm.variables)
    ranges = []
    for v in variables:
        if cqm.vartype(v) is dimod.SPIN:
            ranges.append((-1, 1))
        else:
            ranges.append(range(int(cqm.lower_bound(v)), int(cqm.upper_bound(v)) + 1))
    best = math.inf
    for values in itertools.product(*ranges):
        sample = dict(zip(variables, values))
        if cqm.check_feasible(sample):
            best = min(best, cqm.objective.energy(sample))
    return best


def best_feasible(sampleset: dimod.SampleSet):
    return sampleset.filter(lambda row: row.is_feasible).first


def test_answers_are_over_the_cqms_variables_with_leaps_data_vectors():
    cqm = knapsack([4, 3, 5, 2, 6], [3, 2, 4, 1, 5], 7)
    sampleset = PenaltyComposite(SimulatedAnnealingSampler()).sample_cqm(cqm, seed=1, time_limit=10)
    assert set(sampleset.variables) == set(cqm.variables)
    assert {"energy", "is_satisfied", "is_feasible", "penalty", "num_occurrences"} <= set(sampleset.record.dtype.names)
    for datum in sampleset.data(["sample", "energy", "is_feasible"]):
        assert datum.energy == pytest.approx(cqm.objective.energy(datum.sample))
        assert datum.is_feasible == cqm.check_feasible(datum.sample)
    assert best_feasible(sampleset).energy == pytest.approx(brute_force(cqm))
    info = sampleset.info
    assert info["stop_reason"] in ("converged", "time_limit") and len(info["penalties"]) >= 1
    assert info["feasible_as_sampled"] + info["repaired"] >= 1
    assert set(info["timing"]) == {"preprocessing_ns", "sampling_ns", "postprocessing_ns"}


def test_integer_and_spin_variables_come_back_in_their_own_domains():
    cqm = dimod.ConstrainedQuadraticModel()
    n = dimod.Integer("n", lower_bound=-2, upper_bound=5)
    s, t = dimod.Spin("s"), dimod.Spin("t")
    x = dimod.Binary("x")
    cqm.set_objective(-n + 2 * s * t - x + s)
    cqm.add_constraint(n + 3 * x <= 4, label="cap")
    cqm.add_constraint(s + t == 0, label="opposite")
    sampleset = PenaltyComposite(SimulatedAnnealingSampler()).sample_cqm(cqm, seed=3, time_limit=10, num_reads=20)
    best = best_feasible(sampleset)
    assert best.sample["s"] in (-1, 1) and best.sample["t"] in (-1, 1)
    assert -2 <= best.sample["n"] <= 5
    assert best.energy == pytest.approx(brute_force(cqm))


class ZeroSampler(dimod.Sampler):
    """Answers all zeros and records the keywords of each call."""

    parameters = {"num_reads": [], "seed": [], "time_limit": []}
    properties: dict = {}

    def __init__(self, sleep: bool = False) -> None:
        self.calls: list[dict] = []
        self.sleep = sleep

    def sample(self, bqm, **kwargs):
        self.calls.append(kwargs)
        limit = kwargs.get("time_limit")
        if self.sleep and limit is not None and math.isfinite(limit):
            time.sleep(limit)
        return dimod.SampleSet.from_samples_bqm([{v: 0 for v in bqm.variables}] * kwargs.get("num_reads", 1), bqm)


def cover() -> dimod.ConstrainedQuadraticModel:
    """All zeros violate the cover, so every penalty attempt runs when repair is off."""
    x = [dimod.Binary(i) for i in range(3)]
    cqm = dimod.ConstrainedQuadraticModel()
    cqm.set_objective(x[0] + 2 * x[1] + 3 * x[2])
    cqm.add_constraint(x[0] + x[1] + x[2] >= 1, label="cover")
    return cqm


def test_the_penalty_rises_while_nothing_is_feasible_and_the_answer_says_so():
    child = ZeroSampler()
    sampleset = PenaltyComposite(child).sample_cqm(cover(), repair=False, time_limit=5, num_reads=3)
    penalties = sampleset.info["penalties"]
    assert len(penalties) == 1 + PENALTY_RETRIES == len(child.calls)
    assert all(b == pytest.approx(4 * a) for a, b in zip(penalties, penalties[1:]))
    assert sampleset.info["stop_reason"] == "penalties_tried" and not sampleset.record.is_feasible.any()
    assert len(sampleset) == 3 * len(penalties) and sorted(set(sampleset.record.penalty)) == sorted(penalties)
    assert not sampleset.record.is_satisfied.any()


def test_repair_makes_infeasible_samples_feasible_and_counts_them():
    sampleset = PenaltyComposite(ZeroSampler()).sample_cqm(cover(), time_limit=5, num_reads=2)
    info = sampleset.info
    assert info["stop_reason"] == "converged" and info["repeats"] == 1  # the repeat found nothing better
    assert len(info["penalties"]) == 2 and info["penalties"][0] == info["penalties"][1]
    assert info["feasible_as_sampled"] == 0 and info["repaired"] == 4
    assert best_feasible(sampleset).energy == 1.0


class ImprovingSampler(dimod.Sampler):
    """Answers a feasible cover that gets cheaper on each of the first ``better`` calls; records the seeds."""

    parameters = {"num_reads": [], "seed": [], "time_limit": []}
    properties: dict = {}

    def __init__(self, better: int) -> None:
        self.seeds: list = []
        self.better = better

    def sample(self, bqm, num_reads=1, seed=None, time_limit=None):
        self.seeds.append(seed)
        chosen = max(0, 2 - min(len(self.seeds) - 1, self.better))  # x2, then x1, then x0 (the cheapest)
        sample = {v: int(v == chosen) for v in bqm.variables}
        return dimod.SampleSet.from_samples_bqm([sample] * num_reads, bqm)


def test_the_settled_penalty_is_sampled_again_from_other_seeds_while_that_pays():
    child = ImprovingSampler(better=2)
    sampleset = PenaltyComposite(child).sample_cqm(cover(), seed=7, time_limit=10, repair=False)
    info = sampleset.info
    assert child.seeds == [7, 8, 9, 10] and info["repeats"] == 3 and info["stop_reason"] == "converged"
    assert best_feasible(sampleset).energy == 1.0 and len(set(info["penalties"])) == 1


def test_a_given_penalty_is_tried_once():
    child = ZeroSampler()
    sampleset = PenaltyComposite(child).sample_cqm(cover(), penalty=7.5, repair=False, time_limit=5)
    assert sampleset.info["penalties"] == [7.5] and len(child.calls) == 1


def test_time_limit_covers_every_attempt():
    child = ZeroSampler(sleep=True)
    start = time.perf_counter()
    sampleset = PenaltyComposite(child).sample_cqm(cover(), repair=False, time_limit=2)
    wall = time.perf_counter() - start
    limits = [call["time_limit"] for call in child.calls]
    assert sum(limits) <= 2 and wall <= 2 * 1.5 + 1
    assert sampleset.info["time_limit"] == 2


def test_without_time_limit_the_default_budget_is_shared(monkeypatch):
    from gnnsolve.samplers import penalty

    monkeypatch.setattr(penalty, "default_time_limit", lambda n, m: 1.0)
    child = ZeroSampler(sleep=True)
    sampleset = PenaltyComposite(child).sample_cqm(cover(), repair=False)
    assert sum(call["time_limit"] for call in child.calls) <= 1.0 and sampleset.info["time_limit"] == 1.0


def test_registered_children_get_their_own_keywords():
    """Tabu takes a timeout per read, not time_limit; simulated annealing an interrupt function."""
    cqm = knapsack([4, 3, 5], [3, 2, 4], 5)
    sampleset = PenaltyComposite(TabuSampler()).sample_cqm(cqm, seed=0, time_limit=3)
    assert best_feasible(sampleset).energy == pytest.approx(brute_force(cqm))


def test_a_child_without_those_keywords_gets_none_of_them():
    class Bare(dimod.Sampler):
        parameters: dict = {}
        properties: dict = {}

        def sample(self, bqm):
            return dimod.ExactSolver().sample(bqm).truncate(1)

    cqm = knapsack([4, 3, 5], [3, 2, 4], 5)
    assert best_feasible(PenaltyComposite(Bare()).sample_cqm(cqm, time_limit=5)).energy == brute_force(cqm)


def test_the_same_seed_gives_the_same_samples():
    cqm = knapsack([4, 3, 5, 2, 6, 1, 7], [3, 2, 4, 1, 5, 1, 6], 9)
    a, b = (PenaltyComposite(SimulatedAnnealingSampler()).sample_cqm(cqm, seed=11, penalty=3.0) for _ in range(2))
    assert np.array_equal(a.record.sample, b.record.sample)


def test_label_is_kept_like_leaps():
    sampleset = PenaltyComposite(ZeroSampler()).sample_cqm(cover(), label="Example - Cover", time_limit=2)
    assert sampleset.info["problem_label"] == "Example - Cover"


def test_bqms_pass_straight_to_the_child():
    bqm = dimod.BQM({"a": -1.0}, {("a", "b"): 1.0}, 0.0, "SPIN")
    ours = PenaltyComposite(SteepestDescentSolver()).sample(bqm, num_reads=5, seed=4)
    assert np.array_equal(ours.record, SteepestDescentSolver().sample(bqm, num_reads=5, seed=4).record)


@pytest.mark.parametrize(
    ("build", "error", "match"),
    [
        (lambda cqm: cqm.add_variable("REAL", "r"), UnsupportedModelError, "REAL"),
        (
            lambda cqm: cqm.add_constraint(dimod.Binary(0) + dimod.Binary(1) <= 1, weight=2.0, label="soft"),
            UnsupportedModelError,
            "soft",
        ),
        (lambda cqm: cqm.add_constraint(dimod.Binary(0) * dimod.Binary(1) <= 0, label="q"), UnsupportedModelError, "quadratic"),
    ],
)
def test_models_a_penalty_cannot_state_are_refused_by_name(build, error, match):
    cqm = cover()
    build(cqm)
    with pytest.raises(error, match=match):
        PenaltyComposite(SteepestDescentSolver()).sample_cqm(cqm, time_limit=1)


@pytest.mark.parametrize(
    ("keywords", "match"),
    [
        ({"penalty": -1.0}, "penalty"),
        ({"penalty": "high"}, "penalty"),
        ({"num_reads": 0}, "num_reads"),
        ({"time_limit": -1}, "time_limit"),
        ({"repair": "yes"}, "repair"),
        ({"seed": -3}, "seed"),
    ],
)
def test_bad_keywords_are_clear_errors(keywords, match):
    with pytest.raises(ValueError, match=match):
        PenaltyComposite(SteepestDescentSolver()).sample_cqm(cover(), **keywords)


def test_a_bqm_given_to_sample_cqm_is_a_type_error():
    with pytest.raises(TypeError, match="ConstrainedQuadraticModel"):
        PenaltyComposite(SteepestDescentSolver()).sample_cqm(dimod.BQM("BINARY"))


def test_a_registered_childs_size_limit_is_checked(monkeypatch):
    from gnnsolve import registry

    monkeypatch.setattr(registry, "TABU_MAX_VARIABLES", 2)
    spec = registry.sampler_spec("tabu")
    monkeypatch.setitem(registry._REGISTRY, "tabu", type(spec)(**{**spec.__dict__, "max_variables": 2}))
    monkeypatch.setattr(registry, "_SPECS", tuple(registry._REGISTRY.values()))
    with pytest.raises(ModelTooLargeError, match="at most 2 variables"):
        PenaltyComposite(TabuSampler()).sample_cqm(cover(), time_limit=1)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    values=st.lists(st.integers(1, 9), min_size=2, max_size=7),
    seed=st.integers(0, 1000),
)
def test_property_feasibility_flags_and_energies_are_the_cqms(values, seed):
    rng = np.random.default_rng(seed)
    weights = rng.integers(1, 6, size=len(values)).tolist()
    cqm = knapsack(values, weights, max(1, sum(weights) // 2))
    x = [dimod.Binary(f"item_{i}") for i in range(len(values))]
    cqm.add_constraint(x[0] + x[1] >= 1, label="one_of_first_two")
    sampleset = PenaltyComposite(SteepestDescentSolver()).sample_cqm(cqm, seed=seed, num_reads=8, time_limit=5)
    for datum in sampleset.data(["sample", "energy", "is_feasible"]):
        assert datum.is_feasible == cqm.check_feasible(datum.sample)
        assert datum.energy == pytest.approx(cqm.objective.energy(datum.sample))
    optimum = brute_force(cqm)
    assert sampleset.record.is_feasible.any() and best_feasible(sampleset).energy >= optimum - 1e-9


# ------------------------------------------------ the learned samplers' own sample_cqm


def test_gnn_sampler_drops_into_the_cqm_knapsack_example():
    """The knapsack example of Ocean's CQM workflow, with GNNSampler on the sampler line."""
    costs, weights, capacity = [35, 85, 30, 65, 55, 20, 45, 70], [5, 12, 4, 10, 9, 3, 8, 11], 30
    cqm = dimod.ConstrainedQuadraticModel()
    obj = dimod.BinaryQuadraticModel(vartype="BINARY")
    constraint = dimod.QuadraticModel()
    for i in range(len(costs)):
        obj.add_variable(i)
        obj.set_linear(i, -costs[i])
        constraint.add_variable("BINARY", i)
        constraint.set_linear(i, weights[i])
    cqm.set_objective(obj)
    cqm.add_constraint(constraint, sense="<=", rhs=capacity, label="capacity")

    sampler = GNNSampler()
    sampleset = sampler.sample_cqm(cqm, label="Example - Knapsack", seed=0)

    feasible = sampleset.filter(lambda row: row.is_feasible)
    assert len(feasible)
    best = feasible.first
    selected = [key for key, val in best.sample.items() if val == 1.0]
    assert sum(weights[i] for i in selected) <= capacity
    assert -best.energy == sum(costs[i] for i in selected)
    assert best.energy <= 0.95 * brute_force(cqm)  # within 5% of the optimum
    assert sampleset.info["problem_label"] == "Example - Knapsack"


def test_dyco_sampler_samples_a_cqm():
    cqm = knapsack([4, 3, 5, 2, 6], [3, 2, 4, 1, 5], 7)
    sampler = DyCOSampler()
    sampleset = sampler.sample_cqm(cqm, seed=0, time_limit=10)
    assert best_feasible(sampleset).energy == pytest.approx(brute_force(cqm))
    assert sampleset.info["child_info"]["snapshot"] == len(sampleset.info["penalties"]) - 1


def test_a_constraint_that_can_never_hold_is_an_infeasible_model():
    cqm = dimod.ConstrainedQuadraticModel()
    x, y = dimod.Binary("x"), dimod.Binary("y")
    cqm.set_objective(x + y)
    cqm.add_constraint(x + y >= 3, label="too many")
    with pytest.raises(InfeasibleModelError, match="too many"):
        PenaltyComposite(SimulatedAnnealingSampler()).sample_cqm(cqm, seed=0)


def test_dimods_notes_on_the_slacks_stay_inside(recwarn):
    cqm = dimod.ConstrainedQuadraticModel()
    x, y = dimod.Binary("x"), dimod.Binary("y")
    cqm.set_objective(-x - y)
    cqm.add_constraint(0.5 * x + 0.5 * y <= 0.7, label="fractional")
    cqm.add_constraint(x + y <= 3, label="always holds")
    sampleset = PenaltyComposite(SimulatedAnnealingSampler()).sample_cqm(cqm, seed=0)
    assert best_feasible(sampleset).energy == -1.0
    assert not [w for w in recwarn if "constraint" in str(w.message)]


def test_leaps_call_forms_work_time_limit_positional_and_a_label():
    # LeapHybridCQMSampler.sample_cqm(cqm, time_limit, label=...), LeapHybridSampler.sample(bqm, time_limit, label=...)
    from gnnsolve import HiGHSSampler

    cqm = cover()
    for sampler in (GNNSampler(), HiGHSSampler(), PenaltyComposite(SimulatedAnnealingSampler())):
        sampleset = sampler.sample_cqm(cqm, 3, label="cover")
        assert sampleset.info["time_limit"] == 3 and sampleset.info["problem_label"] == "cover"
    bqm = dimod.generators.ran_r(1, 8, seed=0)
    for sampler in (GNNSampler(), HiGHSSampler()):
        sampleset = sampler.sample(bqm, 2, label="spin glass")
        assert sampleset.info["time_limit"] == 2 and sampleset.info["problem_label"] == "spin glass"
