"""Pyomo models: translation to dimod, solution load-back, and SolverFactory("gnnsolve")."""

from __future__ import annotations

import itertools
import math
import random
import time

import dimod
import numpy as np
import pyomo.environ as pyo
import pytest

import gnnsolve  # noqa: F401  (registers the solver)
from gnnsolve.adapters.pyomo import PenaltyModel, auto_penalty, load_solution, objective_value, to_bqm, to_cqm
from gnnsolve.errors import (
    InfeasibleModelError,
    InvalidModelError,
    ModelTooLargeError,
    UnknownSamplerError,
    UnsupportedModelError,
)
from gnnsolve.search.cqm_repair import CompiledCQM

TC = pyo.TerminationCondition


def knapsack(seed: int, n: int = 12, maximise: bool = True) -> pyo.ConcreteModel:
    """A 0/1 knapsack with a side constraint, written the way a Pyomo user writes it."""
    rng = random.Random(seed)
    m = pyo.ConcreteModel(name=f"knapsack{seed}")
    m.I = pyo.RangeSet(1, n)
    m.value = pyo.Param(m.I, initialize={i: rng.randint(1, 20) for i in range(1, n + 1)})
    m.weight = pyo.Param(m.I, initialize={i: rng.randint(1, 10) for i in range(1, n + 1)})
    m.take = pyo.Var(m.I, domain=pyo.Binary)
    total = sum(m.value[i] * m.take[i] for i in m.I)
    m.profit = pyo.Objective(expr=total if maximise else -total, sense=pyo.maximize if maximise else pyo.minimize)
    m.capacity = pyo.Constraint(expr=sum(m.weight[i] * m.take[i] for i in m.I) <= 3 * n)
    m.some = pyo.Constraint(expr=pyo.inequality(2, sum(m.take[i] for i in range(1, 5)), 3))
    return m


def assignment(seed: int, n: int = 4, quadratic: bool = False) -> pyo.ConcreteModel:
    """An n×n assignment problem (equality constraints), with a quadratic interaction if asked."""
    rng = random.Random(seed)
    m = pyo.ConcreteModel()
    m.R = pyo.RangeSet(n)
    m.x = pyo.Var(m.R, m.R, domain=pyo.Binary)
    cost = {(i, j): rng.randint(1, 9) for i in m.R for j in m.R}
    interaction = 3 * m.x[1, 1] * m.x[2, 2] if quadratic else 0
    m.cost = pyo.Objective(expr=sum(cost[i, j] * m.x[i, j] for i in m.R for j in m.R) + interaction)
    m.row = pyo.Constraint(m.R, rule=lambda m, i: sum(m.x[i, j] for j in m.R) == 1)
    m.col = pyo.Constraint(m.R, rule=lambda m, j: sum(m.x[i, j] for i in m.R) == 1)
    return m


def highs_optimum(model: pyo.ConcreteModel) -> float:
    reference = model.clone()
    results = pyo.SolverFactory("appsi_highs").solve(reference)
    assert results.solver.termination_condition == TC.optimal
    return pyo.value(reference.component_data_objects(pyo.Objective, active=True).__next__())


def objective_of(model: pyo.ConcreteModel) -> float:
    return pyo.value(next(model.component_data_objects(pyo.Objective, active=True)))


def constraints_hold(model: pyo.ConcreteModel) -> bool:
    for constraint in model.component_data_objects(pyo.Constraint, active=True):
        body = pyo.value(constraint.body)
        if constraint.has_lb() and body < pyo.value(constraint.lower) - 1e-9:
            return False
        if constraint.has_ub() and body > pyo.value(constraint.upper) + 1e-9:
            return False
    return True


# ---------------------------------------------------------------- translation


def test_labels_are_pyomo_names_and_energy_matches_the_objective_in_both_senses():
    for maximise in (True, False):
        m = knapsack(1, n=6, maximise=maximise)
        cqm = to_cqm(m)
        assert set(cqm.variables) == {f"take[{i}]" for i in range(1, 7)}
        rng = random.Random(0)
        for _ in range(5):
            sample = {v: rng.randint(0, 1) for v in cqm.variables}
            load_solution(m, sample)
            assert objective_value(m, cqm.objective.energy(sample)) == pytest.approx(objective_of(m))


def test_ranges_become_two_constraints_and_equalities_one():
    m = knapsack(2, n=6)
    cqm = to_cqm(m)
    assert set(cqm.constraints) == {"capacity", "some[lower]", "some[upper]"}
    m2 = assignment(0, n=3)
    labels = set(to_cqm(m2).constraints)
    assert labels == {f"row[{i}]" for i in (1, 2, 3)} | {f"col[{j}]" for j in (1, 2, 3)}
    assert all(c.lhs.num_variables == 3 and c.sense is dimod.sampleset.Sense.Eq for c in to_cqm(m2).constraints.values())


def test_feasibility_agrees_with_pyomo_on_every_assignment():
    m = knapsack(3, n=6)
    cqm = to_cqm(m)
    for bits in itertools.product((0, 1), repeat=6):
        sample = {f"take[{i}]": bit for i, bit in zip(range(1, 7), bits)}
        load_solution(m, sample)
        assert cqm.check_feasible(sample) == constraints_hold(m)


def test_bounded_integers_fixed_variables_blocks_and_deactivated_components():
    m = pyo.ConcreteModel()
    m.n = pyo.Var(domain=pyo.Integers, bounds=(-2, 5))
    m.b = pyo.Block()
    m.b.y = pyo.Var([1, 2], domain=pyo.Binary)
    m.fixed = pyo.Var(domain=pyo.Binary)
    m.fixed.fix(1)
    m.unused = pyo.Var(domain=pyo.Reals)  # continuous but in no active component: ignored
    m.obj = pyo.Objective(expr=2 * m.n + m.b.y[1] * m.b.y[2] + 4 * m.fixed + 1)
    m.off = pyo.Objective(expr=m.unused)
    m.off.deactivate()
    m.c = pyo.Constraint(expr=m.n + m.b.y[1] + m.fixed >= 0)
    m.gone = pyo.Constraint(expr=m.unused <= 1)
    m.gone.deactivate()
    cqm = to_cqm(m)
    assert set(cqm.variables) == {"n", "b.y[1]", "b.y[2]"}
    assert cqm.vartype("n") is dimod.INTEGER and (cqm.lower_bound("n"), cqm.upper_bound("n")) == (-2, 5)
    sample = {"n": -1, "b.y[1]": 1, "b.y[2]": 1}
    load_solution(m, sample)
    assert cqm.objective.energy(sample) == pytest.approx(objective_of(m)) == -2 + 1 + 4 + 1
    assert cqm.check_feasible(sample) and m.fixed.value == 1


def test_to_bqm_energy_equals_the_objective_on_feasible_samples():
    m = knapsack(4, n=6)
    cqm = to_cqm(m)
    bqm, invert, penalty = to_bqm(m)
    assert penalty == auto_penalty(cqm) > 0
    sampleset = dimod.ExactSolver().sample(bqm)
    best = invert(sampleset.first.sample)
    assert cqm.check_feasible(best)
    assert objective_value(m, cqm.objective.energy(best)) == pytest.approx(highs_optimum(m))
    assert sampleset.first.energy == pytest.approx(cqm.objective.energy(best))


def test_load_solution_round_trips_and_rejects_unknown_labels():
    m = assignment(1, n=3)
    cqm = to_cqm(m)
    sample = {v: int(v in ("x[1,2]", "x[2,3]", "x[3,1]")) for v in cqm.variables}
    load_solution(m, sample)
    assert {v.name: v.value for v in m.x.values()} == sample
    with pytest.raises(InvalidModelError, match="'y', which is not a variable"):
        load_solution(m, {"y": 1})


@pytest.mark.parametrize(
    ("build", "error", "words"),
    [
        (
            lambda m: (
                setattr(m, "x", pyo.Var([1, 2, 3], domain=pyo.Binary)),
                setattr(m, "o", pyo.Objective(expr=m.x[1] * m.x[2] * m.x[3])),
            ),
            UnsupportedModelError,
            ["objective o", "degree 3"],
        ),
        (
            lambda m: (setattr(m, "x", pyo.Var(domain=pyo.Binary)), setattr(m, "o", pyo.Objective(expr=pyo.exp(m.x)))),
            UnsupportedModelError,
            ["objective o", "nonlinear"],
        ),
        (
            lambda m: (
                setattr(m, "x", pyo.Var([1, 2], domain=pyo.Binary)),
                setattr(m, "o", pyo.Objective(expr=m.x[1])),
                setattr(m, "q", pyo.Constraint(expr=m.x[1] * m.x[2] <= 0)),
            ),
            UnsupportedModelError,
            ["constraint q", "linear"],
        ),
        (lambda m: None, InvalidModelError, ["no active Objective"]),
        (lambda m: setattr(m, "o", pyo.Objective(expr=3)), InvalidModelError, ["no free variable"]),
        (
            lambda m: (
                setattr(m, "x", pyo.Var(domain=pyo.Binary)),
                m.x.fix(0),
                setattr(m, "o", pyo.Objective(expr=m.x)),
                setattr(m, "c", pyo.Constraint(expr=m.x >= 1)),
            ),
            InfeasibleModelError,
            ["constraint c", "never hold", "reads 0"],
        ),
        (
            lambda m: (
                setattr(m, "x", pyo.Var([1, 2], domain=pyo.Binary)),
                setattr(m, "o", pyo.Objective(expr=m.x[1])),
                setattr(m, "c", pyo.Constraint(expr=m.x[1] + m.x[2] >= 3)),
            ),
            InfeasibleModelError,
            ["constraint c", "never hold", "within [0, 2]"],
        ),
    ],
    ids=["cubic", "nonlinear", "quadratic-constraint", "no-objective", "empty", "fixed-infeasible", "unreachable"],
)
def test_bad_models_get_one_clear_error(build, error, words):
    m = pyo.ConcreteModel()
    build(m)
    with pytest.raises(error) as caught:
        to_cqm(m)
    for word in words:
        assert word in str(caught.value)


# ---------------------------------------------------------------- the solver plugin


def test_plugin_is_registered_and_behaves_as_pyomo_expects():
    opt = pyo.SolverFactory("gnnsolve")
    assert opt.available() and opt.license_is_valid()
    assert opt.version() == tuple(int(part) for part in gnnsolve.__version__.split("."))
    with pyo.SolverFactory("gnnsolve", sampler="highs") as exact:
        assert exact.options["sampler"] == "highs"


@pytest.mark.parametrize("sampler", ["highs", "gurobi"])
@pytest.mark.parametrize("seed", range(3))
def test_exact_samplers_reach_the_appsi_highs_optimum(sampler, seed):
    if sampler == "gurobi":
        pytest.importorskip("gurobipy", reason="gurobipy is not installed")
    for model in (knapsack(seed, n=14), knapsack(seed, n=10, maximise=False), assignment(seed, n=4)):  # ≤ 20 binaries
        optimum = highs_optimum(model)
        results = pyo.SolverFactory("gnnsolve", sampler=sampler).solve(model)
        assert results.solver.termination_condition == TC.optimal
        assert objective_of(model) == pytest.approx(optimum)
        assert constraints_hold(model)


def brute_force_optimum(model: pyo.ConcreteModel) -> float:
    sampleset = dimod.ExactCQMSolver().sample_cqm(to_cqm(model)).filter(lambda row: row.is_feasible)
    return objective_value(model, sampleset.first.energy)


@pytest.mark.parametrize("sampler", ["sa", "tabu", "gnn"])
@pytest.mark.parametrize("family", ["knapsack", "assignment"])
def test_heuristic_samplers_load_feasible_solutions_with_correct_objectives(sampler, family):
    model = knapsack(5, n=10) if family == "knapsack" else assignment(5, n=4, quadratic=True)
    if family == "knapsack":
        model.some.deactivate()  # keep to what the samplers reach alone; see test_repair_rescues_...
    options = {"seed": 0, "num_reads": 8, "time_limit": 2}
    results = pyo.SolverFactory("gnnsolve", sampler=sampler, repair=False, **options).solve(model)
    assert results.solver.termination_condition == TC.feasible
    assert constraints_hold(model)
    value = objective_of(model)
    best = brute_force_optimum(model)
    if results.problem.sense == pyo.maximize:
        assert value <= best + 1e-9
        assert results.problem.lower_bound == pytest.approx(value) and results.problem.upper_bound == math.inf
    else:
        assert value >= best - 1e-9
        assert results.problem.upper_bound == pytest.approx(value) and results.problem.lower_bound == -math.inf


def test_repair_rescues_samples_that_interlocking_constraints_trap():
    """A capacity and a range over the same items: the penalty model's slack variables pin every
    single-variable move, so a sampler that ends in a local descent stays outside the range. Off,
    the plugin reports that instead of loading it; on (the default), the repair on the model's own
    variables finds feasible answers."""
    model = knapsack(5, n=10)
    trapped = pyo.SolverFactory("gnnsolve", sampler="steepest", seed=0, num_reads=4, repair=False).solve(model)
    if trapped.solver.termination_condition == TC.infeasible:
        assert "no sample satisfied" in trapped.solver.message and all(v.value is None for v in model.take.values())
    results = pyo.SolverFactory("gnnsolve", sampler="steepest", seed=0, num_reads=4).solve(model)
    assert results.solver.termination_condition == TC.feasible and constraints_hold(model)
    assert "after repair" in results.solver.message
    with pytest.raises(ValueError, match="repair must be True or False"):
        pyo.SolverFactory("gnnsolve", repair="yes").solve(model)


def test_seed_reproduces_the_answer():
    values = []
    for _ in range(2):
        model = assignment(2, n=4)
        pyo.SolverFactory("gnnsolve", sampler="sa", seed=7, num_reads=4).solve(model)
        values.append({v.name: v.value for v in model.x.values()})
    assert values[0] == values[1]


def test_an_infeasible_heuristic_answer_is_reported_and_not_loaded():
    model = assignment(3, n=4)
    results = pyo.SolverFactory("gnnsolve").solve(model, sampler="steepest", penalty=1e-6, num_reads=2, seed=0, repair=False)
    assert results.solver.termination_condition == TC.infeasible
    assert results.solver.status == pyo.SolverStatus.warning
    assert "row[" in results.solver.message or "col[" in results.solver.message
    assert all(v.value is None for v in model.x.values())


@pytest.mark.parametrize("seed", range(5))
def test_auto_penalty_is_the_largest_single_variable_swing(seed):
    rng = np.random.default_rng(seed)
    cqm = dimod.ConstrainedQuadraticModel()
    x = [dimod.Binary(f"x{i}") for i in range(6)] + [dimod.Integer(f"n{i}", lower_bound=-2, upper_bound=3) for i in range(3)]
    objective = sum(float(rng.normal()) * v for v in x)
    for _ in range(12):
        u, v = rng.choice(len(x), 2)
        objective += float(rng.normal(scale=3)) * x[u] * x[v]  # u == v gives integer squares and binary linear terms
    cqm.set_objective(objective)
    qm = cqm.objective

    def swing(v):
        span = qm.upper_bound(v) - qm.lower_bound(v)
        return (abs(qm.get_linear(v)) + sum(abs(bias) for _, bias in qm.iter_neighborhood(v))) * span

    assert auto_penalty(cqm) == pytest.approx(max(1.0, max(swing(v) for v in qm.variables)))


def test_auto_penalty_retries_until_feasible():
    model = assignment(4, n=4)
    results = pyo.SolverFactory("gnnsolve", sampler="sa", seed=1, num_reads=8).solve(model)
    assert results.solver.termination_condition == TC.feasible and constraints_hold(model)


def test_a_proven_infeasible_model_is_reported_by_exact_samplers():
    m = pyo.ConcreteModel()
    m.x = pyo.Var([1, 2], domain=pyo.Binary)
    m.o = pyo.Objective(expr=m.x[1])
    m.both = pyo.Constraint(expr=m.x[1] + m.x[2] >= 2)  # each constraint alone can hold
    m.one = pyo.Constraint(expr=m.x[1] + m.x[2] <= 1)
    results = pyo.SolverFactory("gnnsolve", sampler="highs").solve(m)
    assert results.solver.termination_condition == TC.infeasible
    assert "infeasible" in results.solver.message and m.x[1].value is None


@pytest.mark.parametrize("sampler", ["highs", "sa", "tabu", "gnn"])
def test_a_constraint_that_can_never_hold_is_infeasible_by_its_pyomo_name(sampler):
    m = pyo.ConcreteModel()
    m.x = pyo.Var([1, 2], domain=pyo.Binary)
    m.o = pyo.Objective(expr=m.x[1] + m.x[2])
    m.cover = pyo.Constraint([7], rule=lambda m, i: m.x[1] + m.x[2] >= 3)
    results = pyo.SolverFactory("gnnsolve", sampler=sampler, seed=0).solve(m)
    assert results.solver.termination_condition == TC.infeasible
    assert "constraint cover[7] can never hold" in results.solver.message
    assert m.x[1].value is None and m.x[2].value is None


@pytest.mark.parametrize("sampler", ["highs", "sa", "tabu", "gnn"])
def test_every_variable_of_the_objective_and_constraints_gets_a_value(sampler):
    m = pyo.ConcreteModel()
    m.x = pyo.Var([1, 2, 3], domain=pyo.Binary)
    m.k = pyo.Var(domain=pyo.Integers, bounds=(2, 5))
    m.o = pyo.Objective(expr=2 * m.x[1] + 0 * m.x[2] - m.x[3])
    m.c = pyo.Constraint(expr=m.x[1] + m.k - m.k <= 1)
    results = pyo.SolverFactory("gnnsolve", sampler=sampler, seed=0, time_limit=5).solve(m)
    assert results.solver.termination_condition in (TC.optimal, TC.feasible)
    assert m.x[2].value in (0, 1) and 2 <= m.k.value <= 5
    assert pyo.value(m.o) == -1


@pytest.mark.parametrize("sampler", ["highs", "sa", "gnn"])
def test_a_constant_objective_keeps_its_constant_and_a_feasible_answer_is_optimal(sampler):
    m = pyo.ConcreteModel()
    m.x = pyo.Var([1, 2], domain=pyo.Binary)
    m.o = pyo.Objective(expr=1.0)
    m.pick = pyo.Constraint(expr=m.x[1] + m.x[2] == 1)
    results = pyo.SolverFactory("gnnsolve", sampler=sampler, seed=0, time_limit=5).solve(m)
    assert results.solver.termination_condition == TC.optimal
    assert results.problem.lower_bound == results.problem.upper_bound == 1.0
    assert m.x[1].value + m.x[2].value == 1


def test_bad_options_and_samplers_are_named():
    model = knapsack(0, n=4)
    with pytest.warns(UserWarning, match="unknown option.*'reads'"):  # warned about, not fatal
        results = pyo.SolverFactory("gnnsolve", sampler="highs", reads=3).solve(model)
    assert results.solver.termination_condition == TC.optimal
    with pytest.raises(ValueError, match="num_reads must be a positive integer"):
        pyo.SolverFactory("gnnsolve", sampler="sa", num_reads=0).solve(model)
    with pytest.raises(UnknownSamplerError, match="annealing"):
        pyo.SolverFactory("gnnsolve", sampler="annealing").solve(model)
    with pytest.raises(UnsupportedModelError, match="'r' is REAL.*HiGHSSampler"):
        model.r = pyo.Var()
        model.extra = pyo.Constraint(expr=model.r <= 1)
        pyo.SolverFactory("gnnsolve", sampler="sa").solve(model)


def test_continuous_and_unbounded_integer_variables_keep_their_domains():
    m = pyo.ConcreteModel()
    m.z = pyo.Var()
    m.w = pyo.Var(bounds=(-2.5, 4))
    m.k = pyo.Var(domain=pyo.NonNegativeIntegers)
    m.j = pyo.Var(domain=pyo.Integers, bounds=(-3.5, 7.2))
    m.o = pyo.Objective(expr=m.z + m.w + m.k + m.j)
    m.c = pyo.Constraint(expr=m.z >= -1)
    cqm = to_cqm(m)
    domains = {v: (cqm.vartype(v), cqm.lower_bound(v), cqm.upper_bound(v)) for v in cqm.variables}
    assert domains == {
        "z": (dimod.REAL, -1e30, 1e30),
        "w": (dimod.REAL, -2.5, 4.0),
        "k": (dimod.INTEGER, 0.0, 2.0**53 - 1),
        "j": (dimod.INTEGER, -3.0, 7.0),
    }
    load_solution(m, {"z": -0.25, "w": 1.5, "k": 2.0000001, "j": -3})
    assert (m.z.value, m.w.value, m.k.value, m.j.value) == (-0.25, 1.5, 2, -3)


def test_heuristic_samplers_refuse_an_integer_without_bounds_by_name():
    m = pyo.ConcreteModel()
    m.k = pyo.Var(domain=pyo.NonNegativeIntegers)
    m.o = pyo.Objective(expr=m.k)
    m.c = pyo.Constraint(expr=m.k >= 1)
    with pytest.raises(UnsupportedModelError, match="'k' is an INTEGER without a finite bound.*bounds="):
        pyo.SolverFactory("gnnsolve", sampler="sa").solve(m)


def test_timelimit_keyword_and_load_solutions_false():
    model = knapsack(6, n=8)
    results = pyo.SolverFactory("gnnsolve", sampler="highs").solve(model, timelimit=10, load_solutions=False)
    assert results.solver.termination_condition == TC.optimal
    assert all(v.value is None for v in model.take.values())


def test_the_example_model_gives_the_same_optimum_through_both_doors():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "examples" / "pyomo_knapsack.py"
    spec = importlib.util.spec_from_file_location("pyomo_knapsack", path)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    reference = example.solve(pyo.SolverFactory("appsi_highs"))
    assert example.solve(pyo.SolverFactory("gnnsolve", sampler="highs")) == reference
    termination, value, picked = example.solve(pyo.SolverFactory("gnnsolve", sampler="sa", seed=0))
    assert termination == "feasible" and value <= reference[1]


@pytest.mark.parametrize("seed", range(4))
def test_bqm_of_shifted_integers_and_ranges_has_the_cqm_optimum(seed):
    """Integers with non-zero, narrow or single-value ranges and integral ranges all survive cqm_to_bqm."""
    rng = random.Random(seed)
    m = pyo.ConcreteModel()
    m.n = pyo.Var(domain=pyo.Integers, bounds=(rng.randint(-3, 0), rng.randint(1, 3)))
    m.k = pyo.Var(domain=pyo.Integers, bounds=(1, 2))
    m.one = pyo.Var(domain=pyo.Integers, bounds=(4, 4))
    m.x = pyo.Var([1, 2], domain=pyo.Binary)
    m.o = pyo.Objective(
        expr=rng.randint(-3, 3) * m.n * m.k + (m.n - 1) ** 2 + m.one * m.x[1] - rng.randint(1, 4) * m.x[2] + 2 * m.k,
        sense=pyo.minimize,
    )
    m.r = pyo.Constraint(expr=pyo.inequality(-1, m.n + m.k + m.x[1], 2))
    m.e = pyo.Constraint(expr=m.x[1] + m.x[2] >= 1)
    cqm = to_cqm(m)
    bqm, invert, _ = to_bqm(cqm, penalty=50)
    ground = dimod.ExactSolver().sample(bqm).first
    best = invert(ground.sample)
    assert cqm.check_feasible(best)
    assert cqm.objective.energy(best) == pytest.approx(brute_force_optimum(m))
    assert ground.energy == pytest.approx(cqm.objective.energy(best))
    load_solution(m, best)
    assert objective_of(m) == pytest.approx(brute_force_optimum(m)) and constraints_hold(m)


# ---------------------------------------------------------------- time limits


class SleepingSampler(dimod.Sampler):
    """Stands in for a heuristic sampler: spends its whole time limit, answers all zeros, records the limits."""

    parameters: dict = {"num_reads": [], "seed": [], "time_limit": []}
    properties: dict = {}

    def __init__(self) -> None:
        self.limits: list[float | None] = []
        self.sleep = True

    def sample(self, bqm, num_reads=1, seed=None, time_limit=None):
        self.limits.append(time_limit)
        if self.sleep and time_limit is not None and math.isfinite(time_limit):
            time.sleep(time_limit)
        return dimod.SampleSet.from_samples_bqm([{v: 0 for v in bqm.variables}] * num_reads, bqm)


@pytest.fixture
def sleeping(monkeypatch):
    """SolverFactory("gnnsolve", sampler="gnn") gets a SleepingSampler; returns it."""
    from gnnsolve import registry

    stand_in = SleepingSampler()
    real = registry.get_sampler
    monkeypatch.setattr(registry, "get_sampler", lambda name: stand_in if name == "gnn" else real(name))
    return stand_in


def never_all_zero() -> pyo.ConcreteModel:
    """All zeros, the stand-in's answer, violates the cover, so every penalty attempt runs."""
    m = pyo.ConcreteModel()
    m.x = pyo.Var([1, 2, 3], domain=pyo.Binary)
    m.o = pyo.Objective(expr=m.x[1] + 2 * m.x[2] + 3 * m.x[3])
    m.cover = pyo.Constraint(expr=m.x[1] + m.x[2] + m.x[3] >= 1)
    return m


def test_time_limit_covers_every_penalty_attempt(sleeping):
    from gnnsolve.samplers.penalty import PENALTY_RETRIES

    start = time.perf_counter()
    results = pyo.SolverFactory("gnnsolve", sampler="gnn", time_limit=2, repair=False).solve(never_all_zero())
    wall = time.perf_counter() - start
    assert len(sleeping.limits) == 1 + PENALTY_RETRIES
    assert sum(sleeping.limits) <= 2
    assert all(later <= earlier for earlier, later in zip(sleeping.limits, sleeping.limits[1:-1]))
    assert results.solver.termination_condition == TC.infeasible and "penalties tried" in results.solver.message
    assert 1.5 <= wall <= 2 * 1.5 + 2
    assert results.solver.wallclock_time <= wall


def test_default_solve_shares_the_default_budget_among_attempts(sleeping, monkeypatch):
    from gnnsolve.samplers import penalty

    budgets = []
    monkeypatch.setattr(penalty, "default_time_limit", lambda n, m: budgets.append((n, m)) or 1.0)
    start = time.perf_counter()
    pyo.SolverFactory("gnnsolve", sampler="gnn", repair=False).solve(never_all_zero())
    form = PenaltyModel(to_cqm(never_all_zero()))
    assert budgets == [(form.num_variables, form.num_interactions)]
    assert len(sleeping.limits) == 5 and sum(sleeping.limits) <= 1.0
    assert time.perf_counter() - start <= 1.0 * 1.5 + 2


def test_infinite_time_limit_reaches_the_sampler(sleeping):
    pyo.SolverFactory("gnnsolve", sampler="gnn", time_limit=math.inf, penalty=1.0).solve(never_all_zero())
    assert sleeping.limits == [math.inf, math.inf]  # feasible after repair, then one repeat that finds nothing better


@pytest.mark.parametrize("sampler", ["gnn", "highs"])
def test_a_default_solve_ends_on_its_own(sampler):
    model = knapsack(7, n=30)
    start = time.perf_counter()
    results = pyo.SolverFactory("gnnsolve", sampler=sampler, seed=0).solve(model)
    assert time.perf_counter() - start <= 30  # the default budget: 5.2 s for gnn, HiGHS's own for highs
    assert results.solver.termination_condition in (TC.feasible, TC.optimal) and constraints_hold(model)


def test_a_translation_cut_short_by_the_time_limit_is_reported_and_nothing_loaded():
    m = pyo.ConcreteModel()
    m.x = pyo.Var(range(400), domain=pyo.Binary)
    m.o = pyo.Objective(expr=sum(m.x.values()))
    m.pairs = pyo.Constraint(range(399), rule=lambda m, i: m.x[i] + m.x[i + 1] >= 1)
    with pytest.raises(TimeoutError, match="time limit ran out while translating objective o"):
        to_cqm(m, time_limit=1e-9)
    results = pyo.SolverFactory("gnnsolve", sampler="sa", time_limit=1e-3).solve(m)
    assert results.solver.termination_condition == TC.maxTimeLimit
    assert results.solver.status == pyo.SolverStatus.warning and "raise time_limit" in results.solver.message
    assert all(v.value is None for v in m.x.values())


def test_a_long_sum_is_translated_in_slices_to_the_same_model(monkeypatch):
    import gnnsolve.adapters.pyomo as adapter

    m = pyo.ConcreteModel()
    m.x = pyo.Var(range(60), domain=pyo.Binary)
    m.n = pyo.Var(domain=pyo.Integers, bounds=(-2, 5))
    m.o = pyo.Objective(
        expr=sum((i % 7 - 3) * m.x[i] * m.x[(3 * i + 1) % 60] + (i % 5) * m.x[i] for i in range(60))
        + m.x[0] * m.x[0]
        - 2 * m.n * m.x[1]
        + m.n * m.n
        + 4,
        sense=pyo.maximize,
    )
    m.c = pyo.Constraint(expr=sum((i % 3 + 1) * m.x[i] for i in range(60)) + m.n <= 40)
    whole = to_cqm(m)
    monkeypatch.setattr(adapter, "TERMS_PER_CHECK", 7)
    sliced = to_cqm(m)
    assert whole.objective.is_equal(sliced.objective) and whole.constraints["c"].lhs.is_equal(sliced.constraints["c"].lhs)
    rng = np.random.default_rng(0)
    for _ in range(20):
        sample = {f"x[{i}]": int(rng.integers(2)) for i in range(60)} | {"n": int(rng.integers(-2, 6))}
        load_solution(m, sample)
        assert sliced.objective.energy(sample) == pytest.approx(-pyo.value(m.o))


def test_a_dense_penalty_model_is_refused_before_it_is_built():
    from gnnsolve.adapters.pyomo import MAX_PENALTY_INTERACTIONS

    n = int((2 * MAX_PENALTY_INTERACTIONS) ** 0.5) + 10
    m = pyo.ConcreteModel(name="big knapsack")
    m.x = pyo.Var(range(n), domain=pyo.Binary)
    m.o = pyo.Objective(expr=sum((i % 7 + 1) * m.x[i] for i in range(n)), sense=pyo.maximize)
    m.capacity = pyo.Constraint(expr=sum((i % 5 + 1) * m.x[i] for i in range(n)) <= n)
    start = time.perf_counter()
    with pytest.raises(ModelTooLargeError, match="constraint capacity.*'highs'"):
        pyo.SolverFactory("gnnsolve", sampler="sa").solve(m)
    assert time.perf_counter() - start < 10


def test_penalty_model_gives_the_bqm_of_any_penalty_without_rebuilding():
    cqm = to_cqm(knapsack(8, n=8))
    form = PenaltyModel(cqm)
    rng = random.Random(0)
    for penalty in (0.5, 3.0, 40.0):
        bqm = form.bqm(penalty)
        reference, _, _ = to_bqm(cqm, penalty)
        assert set(bqm.variables) == set(reference.variables)
        for _ in range(5):
            sample = {v: rng.randint(0, 1) for v in bqm.variables}
            assert bqm.energy(sample) == pytest.approx(form.objective.energy(sample) + penalty * form.penalties.energy(sample))
            assert bqm.energy(sample) == pytest.approx(reference.energy(sample))
    sampleset = dimod.SampleSet.from_samples_bqm([{v: rng.randint(0, 1) for v in bqm.variables} for _ in range(3)], bqm)
    compiled = CompiledCQM(cqm)
    assert [compiled.to_sample(row) for row in form.invert_samples(sampleset)] == [
        form.invert(s) for s in sampleset.samples(sorted_by=None)
    ]
    with pytest.raises(TimeoutError):
        PenaltyModel(cqm, time_limit=1e-9)


def test_repair_stops_at_its_time_limit_with_the_state_reached():
    x = [dimod.Binary(i) for i in range(3000)]
    cqm = dimod.ConstrainedQuadraticModel()
    cqm.set_objective(sum(x))
    for i in range(2999):
        cqm.add_constraint(x[i] + x[i + 1] >= 1, label=i)
    compiled = CompiledCQM(cqm)
    start_state = np.zeros(3000)
    started = time.perf_counter()
    stopped = compiled.repair_array(start_state, time_limit=0.05)
    assert time.perf_counter() - started < 1
    assert compiled.violation(stopped)[0] < compiled.violation(start_state)[0]
    assert not compiled.feasible(stopped)[0]  # 1,500 moves are needed; 50 ms is not enough for them
    assert (compiled.repair_array(start_state, time_limit=0.0) == start_state).all()
