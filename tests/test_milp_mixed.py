"""The exact samplers on models with REAL and INTEGER variables: LPs, MILPs, MIQPs.

References are computed apart from the samplers: brute force over the discrete variables with
``scipy.optimize.linprog`` for the REAL ones, ``scipy.optimize.milp``, and Pyomo's ``appsi_highs``.
"""

from __future__ import annotations

import itertools
import math
import warnings
from dataclasses import replace

import dimod
import numpy as np
import pyomo.environ as pyo
import pytest
import scipy.optimize
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from gnnsolve.errors import (
    InfeasibleModelError,
    InfeasibleOrUnboundedError,
    InvalidModelError,
    ModelTooLargeError,
    UnboundedModelError,
    UnsupportedModelError,
)
from gnnsolve.samplers._common import Stopwatch
from gnnsolve.samplers._milp import IndexModel, Kind, SolveOptions, default_time_limit
from gnnsolve.samplers.highs import HiGHSSampler, linearise


def _gurobi_works() -> bool:
    """Whether gurobipy is installed and its licence starts an environment."""
    try:
        import gurobipy
    except ImportError:
        return False
    try:
        with gurobipy.Env(empty=True) as env:
            env.setParam("OutputFlag", 0)
            env.start()
    except gurobipy.GurobiError:
        return False
    return True


HAS_GUROBI = _gurobi_works()
needs_gurobi = pytest.mark.skipif(not HAS_GUROBI, reason="gurobipy or its licence is missing")


def gurobi_sampler():
    from gnnsolve.samplers.gurobi import GurobiSampler

    return GurobiSampler()


SAMPLERS = [
    pytest.param(HiGHSSampler, id="highs"),
    pytest.param(gurobi_sampler, id="gurobi", marks=needs_gurobi),
]


# ---------------------------------------------------------------- references


def brute_force(cqm: dimod.ConstrainedQuadraticModel) -> tuple[float, dict]:
    """The least objective of a small CQM: every assignment of its discrete variables, and for
    each the linear program over its REAL ones (``scipy.optimize.linprog``)."""
    variables = list(cqm.variables)
    discrete = [v for v in variables if cqm.vartype(v) is not dimod.REAL]
    real = [v for v in variables if cqm.vartype(v) is dimod.REAL]
    domains = []
    for v in discrete:
        if cqm.vartype(v) is dimod.SPIN:
            domains.append([-1, 1])
        else:
            domains.append(range(int(cqm.lower_bound(v)), int(cqm.upper_bound(v)) + 1))
    column = {v: k for k, v in enumerate(real)}
    bounds = [(cqm.lower_bound(v), None if cqm.upper_bound(v) >= 1e30 else cqm.upper_bound(v)) for v in real]
    best, best_sample = math.inf, None
    for values in itertools.product(*domains):
        fixed = dict(zip(discrete, values))
        cost, constant = _fixed_linear(cqm.objective, fixed, column)
        a_ub, b_ub, a_eq, b_eq = [], [], [], []
        feasible = True
        for comparison in cqm.constraints.values():
            row, left = _fixed_linear(comparison.lhs, fixed, column)
            rhs = comparison.rhs - left
            if not real or not row.any():
                ok = {"<=": -rhs <= 1e-9, ">=": -rhs >= -1e-9, "==": abs(rhs) <= 1e-9}[comparison.sense.value]
                feasible &= bool(ok)
                continue
            if comparison.sense is dimod.sym.Sense.Eq:
                a_eq.append(row), b_eq.append(rhs)
            else:
                sign = 1.0 if comparison.sense is dimod.sym.Sense.Le else -1.0
                a_ub.append(sign * row), b_ub.append(sign * rhs)
        if not feasible:
            continue
        if real:
            solution = scipy.optimize.linprog(
                cost,
                A_ub=np.array(a_ub) if a_ub else None,
                b_ub=b_ub or None,
                A_eq=np.array(a_eq) if a_eq else None,
                b_eq=b_eq or None,
                bounds=bounds,
                method="highs",
            )
            if solution.status != 0:
                continue
            energy, reals = solution.fun + constant, dict(zip(real, solution.x))
        else:
            energy, reals = constant, {}
        if energy < best:
            best, best_sample = energy, {**fixed, **reals}
    return best, best_sample


def _fixed_linear(qm, fixed: dict, column: dict) -> tuple[np.ndarray, float]:
    """``qm`` with the discrete variables fixed, as a linear function of the REAL ones."""
    cost, constant = np.zeros(len(column)), float(qm.offset)
    for v, bias in qm.iter_linear():
        if v in column:
            cost[column[v]] += bias
        else:
            constant += bias * fixed[v]
    for u, v, bias in qm.iter_quadratic():
        if u in column or v in column:
            raise AssertionError("dimod allows no products with a REAL variable")
        constant += bias * fixed[u] * fixed[v]
    return cost, constant


def check_row(sampleset: dimod.SampleSet, cqm: dimod.ConstrainedQuadraticModel) -> dimod.SampleSet:
    """The one row is feasible, its energy recomputed on the CQM, BINARY/INTEGER values integral
    and SPIN values ±1, and every value within its variable's bounds."""
    assert len(sampleset) == 1
    best = sampleset.first
    assert best.is_feasible and all(best.is_satisfied)
    assert cqm.check_feasible(best.sample)
    assert best.energy == pytest.approx(cqm.objective.energy(best.sample), rel=1e-12, abs=1e-12)
    for v, value in best.sample.items():
        vartype = cqm.vartype(v)
        if vartype is dimod.SPIN:
            assert value in (-1, 1)
        else:
            assert cqm.lower_bound(v) <= value <= cqm.upper_bound(v)
            if vartype is not dimod.REAL:
                assert value == round(value)
    return sampleset


# ---------------------------------------------------------------- models


def small_lp() -> dimod.ConstrainedQuadraticModel:
    """min -x - y s.t. x + 2y <= 5, 3x + y <= 6 over REAL x, y >= 0: the optimum is at (1.4, 1.8), -3.2."""
    x, y = dimod.Real("x", upper_bound=10), dimod.Real("y")
    cqm = dimod.CQM()
    cqm.set_objective(-x - y)
    cqm.add_constraint(x + 2 * y <= 5, label="a")
    cqm.add_constraint(3 * x + y <= 6, label="b")
    return cqm


def facility_location(seed: int, num_sites: int = 3, num_customers: int = 5) -> dimod.ConstrainedQuadraticModel:
    """Capacitated facility location: BINARY ``open`` per site, REAL fractions ``x`` in [0, 1]."""
    rng = np.random.default_rng(seed)
    fixed = rng.integers(5, 20, num_sites)
    cost = rng.uniform(1, 10, (num_customers, num_sites)).round(3)
    demand = rng.integers(1, 5, num_customers)
    capacity = rng.integers(6, 15, num_sites)
    capacity[0] = demand.sum()  # one site can serve everyone: always feasible
    is_open = [dimod.Binary(("open", j)) for j in range(num_sites)]
    x = {(i, j): dimod.Real(("x", i, j), upper_bound=1) for i in range(num_customers) for j in range(num_sites)}
    cqm = dimod.CQM()
    cqm.set_objective(
        dimod.quicksum(int(fixed[j]) * is_open[j] for j in range(num_sites))
        + dimod.quicksum(float(cost[i, j] * demand[i]) * x[i, j] for (i, j) in x)
    )
    for i in range(num_customers):
        cqm.add_constraint(dimod.quicksum(x[i, j] for j in range(num_sites)) == 1, label=("serve", i))
        for j in range(num_sites):
            cqm.add_constraint(x[i, j] - is_open[j] <= 0, label=("only open", i, j))
    for j in range(num_sites):
        load = dimod.quicksum(int(demand[i]) * x[i, j] for i in range(num_customers))
        cqm.add_constraint(load - int(capacity[j]) * is_open[j] <= 0, label=("capacity", j))
    return cqm


def product_cqm() -> dimod.ConstrainedQuadraticModel:
    """BINARY x INTEGER products of both signs, an INTEGER with a negative lower bound, a SPIN, a REAL."""
    a, b = dimod.Binaries(["a", "b"])
    m = dimod.Integer("m", lower_bound=-2, upper_bound=3)
    k = dimod.Integer("k", lower_bound=1, upper_bound=4)
    s = dimod.Spin("s")
    r = dimod.Real("r", upper_bound=3.5)
    cqm = dimod.CQM()
    cqm.set_objective(2 * a * m - 3 * b * k + 1.5 * a * k - b * m + s * m - 0.5 * s - r + a + b + 0.25 * k)
    cqm.add_constraint(a + b + r <= 4, label="shared")
    cqm.add_constraint(m + k - 2 * r >= -3, label="link")
    return cqm


# ---------------------------------------------------------------- LPs and MILPs


@pytest.mark.parametrize("make", SAMPLERS)
def test_a_pure_lp_is_solved_with_unrounded_values(make):
    cqm = small_lp()
    sampleset = check_row(make().sample_cqm(cqm), cqm)
    best = sampleset.first
    assert best.sample["x"] == pytest.approx(1.4) and best.sample["y"] == pytest.approx(1.8)
    assert best.energy == pytest.approx(-3.2)
    info = sampleset.info
    assert info["status"] == "optimal" and info["gap"] == 0.0 and info["num_nodes"] == 0
    assert info["bound"] == pytest.approx(-3.2)
    assert sampleset.record.sample.dtype == np.float64


@pytest.mark.parametrize("make", SAMPLERS)
def test_a_real_optimum_at_two_and_a_half_is_not_rounded(make):
    cqm = dimod.CQM()
    r, n = dimod.Real("r", lower_bound=-10, upper_bound=10), dimod.Integer("n", upper_bound=5)
    cqm.set_objective(-r - 2 * n)
    cqm.add_constraint(2 * r + 2 * n <= 9, label="cap")
    cqm.add_constraint(n <= 2, label="n")
    best = check_row(make().sample_cqm(cqm), cqm).first
    assert best.sample == {"r": 2.5, "n": 2} and best.energy == -6.5


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("make", SAMPLERS)
def test_facility_location_matches_brute_force(make, seed):
    cqm = facility_location(seed)
    sampleset = check_row(make().sample_cqm(cqm), cqm)
    expected, _ = brute_force(cqm)
    assert sampleset.first.energy == pytest.approx(expected, rel=1e-9)
    assert sampleset.info["status"] == "optimal" and sampleset.info["gap"] == 0.0


@pytest.mark.parametrize("make", SAMPLERS)
def test_an_unbounded_real_bounded_by_its_constraints(make):
    cqm = dimod.CQM()
    r, n = dimod.Real("r"), dimod.Integer("n", upper_bound=3)  # r in [0, 1e30]: no upper bound
    cqm.set_objective(-2 * r + n)
    cqm.add_constraint(4 * r - 3 * n <= 1.5, label="r follows n")
    assert IndexModel.from_cqm(cqm).upper.tolist() == [math.inf, 3.0]
    best = check_row(make().sample_cqm(cqm), cqm).first
    # r = (1.5 + 3n) / 4: -2r + n = -0.75 - 0.5 n, least at n = 3
    assert best.sample == {"r": 2.625, "n": 3} and best.energy == pytest.approx(-2.25)


@pytest.mark.parametrize("make", SAMPLERS)
def test_an_unbounded_model_is_refused(make):
    cqm = dimod.CQM()
    r, x = dimod.Real("r"), dimod.Binary("x")
    cqm.set_objective(-r + x)
    cqm.add_constraint(r - x >= 0, label="r above x")
    with pytest.raises((UnboundedModelError, InfeasibleOrUnboundedError), match="unbounded"):
        make().sample_cqm(cqm)


@pytest.mark.parametrize("make", SAMPLERS)
def test_integers_of_a_large_range_and_without_bounds(make):
    cqm = dimod.CQM()
    n = dimod.Integer("n", lower_bound=-(10**12), upper_bound=10**12)
    k = dimod.Integer("k")  # dimod's default [0, 2**53 - 1]: no upper bound
    cqm.set_objective(n - k)
    cqm.add_constraint(3 * n >= -2 * 10**12 + 1, label="n floor")
    cqm.add_constraint(2 * k <= 10**13 + 1, label="k cap")
    model = IndexModel.from_cqm(cqm)
    assert model.upper.tolist() == [1e12, math.inf] and model.kinds == [Kind.INTEGER, Kind.INTEGER]
    sampleset = check_row(make().sample_cqm(cqm), cqm)
    assert sampleset.first.sample == {"n": -666_666_666_666, "k": 5 * 10**12}
    assert sampleset.record.sample.dtype == np.int64


# ---------------------------------------------------------------- products


@pytest.mark.parametrize("make", SAMPLERS)
def test_binary_times_integer_products_match_brute_force(make):
    cqm = product_cqm()
    sampleset = check_row(make().sample_cqm(cqm), cqm)
    expected, _ = brute_force(cqm)
    assert sampleset.first.energy == pytest.approx(expected)
    assert sampleset.info["status"] == "optimal" and sampleset.info["gap"] == 0.0


def continuous_factor_model() -> IndexModel:
    """min 3 b y - 2 c y + 0.5 c - b - y over BINARY b, c and CONTINUOUS y in [-1.5, 2.5], with
    b + c >= 1 (dimod allows no product with a REAL, so the INTEGER y is made CONTINUOUS here)."""
    b, c = dimod.Binaries(["b", "c"])
    y = dimod.Integer("y", lower_bound=-1, upper_bound=2)
    cqm = dimod.CQM()
    cqm.set_objective(3 * b * y - 2 * c * y + 0.5 * c - b - y)
    cqm.add_constraint(b + c >= 1, label="one")
    model = IndexModel.from_cqm(cqm)
    return replace(
        model,
        kind=np.where(model.integer, Kind.CONTINUOUS, model.kind).astype(np.int8),
        lower=np.where(model.integer, -1.5, model.lower),
        upper=np.where(model.integer, 2.5, model.upper),
    )


def test_mccormick_rows_with_a_continuous_factor_are_exact():
    """HiGHS's linearisation of b * y for CONTINUOUS y in [-1.5, 2.5]: the optimum over y at each
    (b, c) is at a bound of y, so the brute force is over b, c and y's bounds."""
    model = continuous_factor_model()
    rows = linearise(model)
    assert rows.integrality.tolist()[: model.num_variables] == [1 if kind != Kind.CONTINUOUS else 0 for kind in model.kind]
    outcome = HiGHSSampler()._run(model, None, SolveOptions(), Stopwatch(time_limit=30), {})
    index = {v: i for i, v in enumerate(model.variables)}
    expected = min(
        3 * b * y - 2 * c * y + 0.5 * c - b - y for b, c, y in itertools.product((0, 1), (0, 1), (-1.5, 2.5)) if b + c >= 1
    )
    x = outcome.x
    value = (
        3 * x[index["b"]] * x[index["y"]]
        - 2 * x[index["c"]] * x[index["y"]]
        + 0.5 * x[index["c"]]
        - x[index["b"]]
        - x[index["y"]]
    )
    assert outcome.status == "optimal" and value == pytest.approx(expected) and outcome.bound == pytest.approx(expected)
    if HAS_GUROBI:
        native = gurobi_sampler()._run(model, None, SolveOptions(), Stopwatch(time_limit=30), {})
        assert native.bound == pytest.approx(expected, abs=1e-6)


def test_highs_refuses_a_product_of_two_non_binaries_and_gurobi_solves_it():
    cqm = dimod.CQM()
    n, m = dimod.Integer("n", upper_bound=3), dimod.Integer("m", upper_bound=3)
    cqm.set_objective(-n * m + n)
    cqm.add_constraint(n + m <= 5, label="sum")
    with pytest.raises(UnsupportedModelError, match=r"'n' \* 'm'.*INTEGER and INTEGER.*use GurobiSampler"):
        HiGHSSampler().sample_cqm(cqm)
    if not HAS_GUROBI:
        pytest.skip("gurobipy or its licence is missing")
    best = check_row(gurobi_sampler().sample_cqm(cqm), cqm).first
    assert best.energy == pytest.approx(brute_force(cqm)[0]) == -4.0


def test_a_product_of_two_continuous_variables():
    """dimod refuses products of REALs, so the model is built in index form: HiGHS refuses it by
    name, Gurobi solves min -x y s.t. x + y <= 4.5 over x, y in [0, 3] (at 2.25, 2.25)."""
    cqm = dimod.CQM()
    x, y = dimod.Integer("x", upper_bound=3), dimod.Integer("y", upper_bound=3)
    cqm.set_objective(-x * y)
    cqm.add_constraint(x + y <= 4.5, label="sum")
    model = IndexModel.from_cqm(cqm)
    model = replace(model, kind=np.full(2, Kind.CONTINUOUS, dtype=np.int8))
    with pytest.raises(UnsupportedModelError, match=r"'x' \* 'y'.*CONTINUOUS and CONTINUOUS.*GurobiSampler"):
        HiGHSSampler()._run(model, None, SolveOptions(), Stopwatch(time_limit=30), {})
    if not HAS_GUROBI:
        pytest.skip("gurobipy or its licence is missing")
    outcome = gurobi_sampler()._run(model, None, SolveOptions(), Stopwatch(time_limit=30), {})
    assert outcome.status == "optimal" and outcome.x == pytest.approx([2.25, 2.25], abs=1e-5)
    assert outcome.bound == pytest.approx(-5.0625, abs=1e-5)


@pytest.mark.parametrize("make", SAMPLERS)
def test_the_square_of_an_integer(make):
    cqm = dimod.CQM()
    n = dimod.Integer("n", lower_bound=-3, upper_bound=5)
    cqm.set_objective(n * n - 5 * n)
    if make is HiGHSSampler:
        with pytest.raises(UnsupportedModelError, match=r"'n' \*\* 2.*GurobiSampler"):
            make().sample_cqm(cqm)
        return
    best = check_row(make().sample_cqm(cqm), cqm).first
    assert best.sample["n"] in (2, 3) and best.energy == -6


def test_highs_refuses_a_product_with_an_unbounded_factor_by_name():
    cqm = dimod.CQM()
    x, k = dimod.Binary("x"), dimod.Integer("k", lower_bound=-5)
    cqm.set_objective(-x * k)
    cqm.add_constraint(k <= 4, label="cap")
    with pytest.raises(UnsupportedModelError, match=r"'x' \* 'k'.*\[-5, inf\].*infinite.*GurobiSampler"):
        HiGHSSampler().sample_cqm(cqm)
    if HAS_GUROBI:
        assert check_row(gurobi_sampler().sample_cqm(cqm), cqm).first.energy == -4


@pytest.mark.parametrize("make", SAMPLERS)
def test_spin_stays_plus_or_minus_one_beside_integers_and_reals(make):
    cqm = dimod.CQM()
    s, t = dimod.Spin("s"), dimod.Spin("t")
    n, r = dimod.Integer("n", lower_bound=-2, upper_bound=2), dimod.Real("r", lower_bound=-1, upper_bound=1)
    cqm.set_objective(s * n + 0.5 * s * t - t + 0.3 * r)
    cqm.add_constraint(n - r >= -1.5, label="floor")
    sampleset = check_row(make().sample_cqm(cqm), cqm)
    assert sampleset.first.energy == pytest.approx(brute_force(cqm)[0])
    assert sampleset.first.sample["r"] == pytest.approx(-1.0)


# ---------------------------------------------------------------- front door


@pytest.mark.parametrize("make", SAMPLERS)
def test_default_budget_memory_check_and_start(make, monkeypatch):
    cqm = facility_location(7)
    size = cqm.num_variables() + cqm.objective.num_interactions + sum(c.lhs.num_variables for c in cqm.constraints.values())
    sampler = make()
    sampleset = sampler.sample_cqm(cqm)
    assert sampleset.info["time_limit"] == default_time_limit(size)
    started = sampler.sample_cqm(cqm, initial_states=sampleset.first.sample)
    assert started.first.energy == pytest.approx(sampleset.first.energy)
    monkeypatch.setattr(type(sampler), "_memory_bytes", lambda self, *sizes: math.inf)
    with pytest.raises(ModelTooLargeError, match="memory"):
        sampler.sample_cqm(cqm)


def test_nan_bounds_are_refused():
    cqm = dimod.CQM()
    cqm.set_objective(dimod.Real("q", upper_bound=math.nan))
    with pytest.raises(InvalidModelError, match="NaN"):
        HiGHSSampler().sample_cqm(cqm)


def test_rows_with_an_infinite_reach_keep_their_bounds_and_infeasibility_is_still_seen():
    cqm = dimod.CQM()
    r, n = dimod.Real("r"), dimod.Integer("n", upper_bound=3)
    cqm.set_objective(r + n)
    cqm.add_constraint(r + n >= 2, label="reach up to inf")
    cqm.add_constraint(r - n <= 10, label="reach down to -3, up to inf")
    model = IndexModel.from_cqm(cqm)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        conditioned = model.conditioned_rows()
    assert conditioned.row_lower.tolist() == [2.0, -math.inf] and conditioned.row_upper.tolist() == [math.inf, 10.0]
    cqm.add_constraint(-r - n >= 1, label="never")  # reaches [-inf, 0]: the finite side rules it out
    with pytest.raises(InfeasibleModelError, match="'never'"):
        IndexModel.from_cqm(cqm).conditioned_rows()


def test_an_answer_off_by_the_solvers_tolerance_is_polished_feasible():
    """A solver's values within its own tolerance (1e-7 here) fail dimod's 1e-8: the REAL values
    are solved again for the rounded others, never the flags faked."""
    cqm = facility_location(3)
    best = HiGHSSampler().sample_cqm(cqm).first

    class Sloppy(HiGHSSampler):
        def _solve(self, model, start, options, watch, **extra):
            outcome = super()._solve(model, start, options, watch, **extra)
            nudge = np.where(model.continuous, 1e-7, -1e-7)  # every value 1e-7 off
            return replace(outcome, x=outcome.x + nudge)

    model = IndexModel.from_cqm(cqm)
    exact = np.array([best.sample[v] for v in model.variables], dtype=float)
    off = exact + np.where(model.continuous, 1e-7, 4e-7)
    unpolished = dimod.SampleSet.from_samples_cqm((model.to_user(off)[None, :], model.variables), cqm)
    assert not unpolished.first.is_feasible
    sampleset = check_row(Sloppy().sample_cqm(cqm), cqm)
    assert sampleset.first.energy == pytest.approx(best.energy, rel=1e-9)
    polished = dict(zip(model.variables, model.to_user(model.polish(off))))
    assert cqm.check_feasible(polished) and cqm.objective.energy(polished) == pytest.approx(best.energy, rel=1e-9)


# ---------------------------------------------------------------- a property over random MILPs


@st.composite
def random_milps(draw):
    """Small MILPs over BINARY, INTEGER and REAL variables, with BINARY x INTEGER products and
    rows made feasible by a drawn point; as numpy data."""
    num_binary, num_integer, num_real = draw(st.integers(0, 3)), draw(st.integers(0, 2)), draw(st.integers(1, 3))
    n = num_binary + num_integer + num_real
    kinds = ["BINARY"] * num_binary + ["INTEGER"] * num_integer + ["REAL"] * num_real
    lower, upper = [0.0] * num_binary, [1.0] * num_binary
    for _ in range(num_integer):
        low = draw(st.integers(-2, 2))
        lower.append(float(low)), upper.append(float(low + draw(st.integers(0, 3))))
    for _ in range(num_real):
        lower.append(draw(st.sampled_from([0.0, -1.5])))
        upper.append(draw(st.sampled_from([2.5, 4.0, 1e30])))
    halves = st.integers(-8, 8).map(lambda k: k / 2)
    cost = np.array([draw(halves) for _ in range(n)])
    products = {}
    for i in range(num_binary):
        for j in range(i + 1, num_binary + num_integer):
            if draw(st.booleans()):
                products[i, j] = draw(halves)
    num_rows = draw(st.integers(1, 3))
    matrix = np.array([[draw(st.integers(-3, 3)) for _ in range(n)] for _ in range(num_rows)], dtype=float)
    point = np.array(
        [draw(st.integers(int(lower[i]), int(upper[i]))) for i in range(num_binary + num_integer)]
        + [draw(st.floats(lower[i], min(upper[i], 3.0))) for i in range(num_binary + num_integer, n)]
    )
    senses = [draw(st.sampled_from(["<=", ">=", "=="])) for _ in range(num_rows)]
    slack = np.array([0.0 if sense == "==" else draw(st.integers(0, 3)) for sense in senses])
    rhs = matrix @ point + np.where(np.array(senses) == ">=", -slack, slack)
    return kinds, np.array(lower), np.array(upper), cost, products, matrix, senses, rhs


def milp_cqm(kinds, lower, upper, cost, products, matrix, senses, rhs) -> dimod.ConstrainedQuadraticModel:
    cqm = dimod.CQM()
    for i, kind in enumerate(kinds):
        if kind == "BINARY":
            cqm.add_variable(kind, i)
        else:
            cqm.add_variable(kind, i, lower_bound=lower[i], upper_bound=upper[i])
    objective = dimod.QM()
    for i, kind in enumerate(kinds):
        objective.add_variable(kind, i, **({} if kind == "BINARY" else {"lower_bound": lower[i], "upper_bound": upper[i]}))
        objective.set_linear(i, cost[i])
    for (i, j), bias in products.items():
        objective.add_quadratic(i, j, bias)
    cqm.set_objective(objective)
    real = [i for i, kind in enumerate(kinds) if kind == "REAL"]
    cqm.add_constraint_from_iterable([(i, 1.0) for i in real], "<=", rhs=10.0, label="reals")
    for r, (sense, bound) in enumerate(zip(senses, rhs)):
        terms = [(i, float(c)) for i, c in enumerate(matrix[r]) if c]
        if terms:
            cqm.add_constraint_from_iterable(terms, sense, rhs=float(bound), label=r)
    return cqm


def milp_reference(kinds, lower, upper, cost, products, matrix, senses, rhs) -> float | None:
    """The optimum by ``scipy.optimize.milp``: each product is linear once its BINARY is fixed,
    so each assignment of the binaries that carry a product is one MILP. Presolve is off: in
    scipy 1.17.1 it never returned on one such MILP, time limit or not. ``None`` where scipy
    stops at its time limit."""
    carriers = sorted({i for i, _ in products})
    real = np.array([kind == "REAL" for kind in kinds])
    rows = np.vstack([matrix, real.astype(float)])
    row_lower = np.array([-np.inf if s == "<=" else b for s, b in zip(senses, rhs)] + [-np.inf])
    row_upper = np.array([np.inf if s == ">=" else b for s, b in zip(senses, rhs)] + [10.0])
    best = math.inf
    for values in itertools.product((0, 1), repeat=len(carriers)):
        low, up = lower.copy(), np.where(upper >= 1e30, np.inf, upper)
        low[carriers], up[carriers] = values, values
        c = cost.copy()
        for (i, j), bias in products.items():
            c[j] += bias * values[carriers.index(i)]
        solution = scipy.optimize.milp(
            c,
            integrality=(~real).astype(int),
            bounds=scipy.optimize.Bounds(low, up),
            constraints=scipy.optimize.LinearConstraint(rows, row_lower, row_upper),
            options={"time_limit": 5.0, "presolve": False},
        )
        if solution.status == 0:
            best = min(best, solution.fun)
        elif solution.status != 2:  # not proven infeasible either
            return None
    return best


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_milps())
def test_random_milps_with_real_variables_match_scipy(data):
    cqm = milp_cqm(*data)
    expected = milp_reference(*data)
    assume(expected is not None)
    assert math.isfinite(expected)
    samplers = [HiGHSSampler()] + ([gurobi_sampler()] if HAS_GUROBI else [])
    for sampler in samplers:
        sampleset = check_row(sampler.sample_cqm(cqm), cqm)
        # scipy's HiGHS meets rows within 1e-6, so its optimum may lie that far below the true one.
        assert sampleset.first.energy == pytest.approx(expected, rel=1e-6, abs=1e-5), type(sampler).__name__
        assert sampleset.info["status"] == "optimal" and sampleset.info["gap"] == 0.0


# ---------------------------------------------------------------- against Pyomo's appsi_highs


def appsi_highs(model) -> float:
    solver = pyo.SolverFactory("appsi_highs")
    if not solver.available():
        pytest.skip("Pyomo's appsi_highs is not available")
    result = solver.solve(model)
    assert str(result.solver.termination_condition) == "optimal"
    return pyo.value(model.objective)


def warehouse_data(seed: int):
    rng = np.random.default_rng(seed)
    sites, customers = range(3), range(5)
    fixed = {j: float(rng.integers(8, 20)) for j in sites}
    cost = {(i, j): float(rng.integers(1, 12)) for i in customers for j in sites}
    return sites, customers, fixed, cost


@pytest.mark.parametrize("make", SAMPLERS)
def test_warehouse_location_matches_appsi_highs(make):
    """Warehouse location with continuous assignment fractions and at most 2 warehouses."""
    sites, customers, fixed, cost = warehouse_data(11)
    model = pyo.ConcreteModel()
    model.y = pyo.Var(sites, within=pyo.Binary)
    model.x = pyo.Var(customers, sites, bounds=(0, 1))
    model.objective = pyo.Objective(
        expr=sum(fixed[j] * model.y[j] for j in sites) + sum(cost[i, j] * model.x[i, j] for i in customers for j in sites)
    )
    model.serve = pyo.Constraint(customers, rule=lambda m, i: sum(m.x[i, j] for j in sites) == 1)
    model.open = pyo.Constraint(customers, sites, rule=lambda m, i, j: m.x[i, j] <= m.y[j])
    model.count = pyo.Constraint(expr=sum(model.y[j] for j in sites) <= 2)
    expected = appsi_highs(model)

    y = {j: dimod.Binary(f"y[{j}]") for j in sites}
    x = {(i, j): dimod.Real(f"x[{i},{j}]", upper_bound=1) for i in customers for j in sites}
    cqm = dimod.CQM()
    cqm.set_objective(dimod.quicksum(fixed[j] * y[j] for j in sites) + dimod.quicksum(cost[k] * x[k] for k in x))
    for i in customers:
        cqm.add_constraint(dimod.quicksum(x[i, j] for j in sites) == 1, label=f"serve[{i}]")
        for j in sites:
            cqm.add_constraint(x[i, j] - y[j] <= 0, label=f"open[{i},{j}]")
    cqm.add_constraint(dimod.quicksum(y.values()) <= 2, label="count")
    best = check_row(make().sample_cqm(cqm), cqm).first
    assert best.energy == pytest.approx(expected)


@pytest.mark.parametrize("make", SAMPLERS)
def test_p_median_matches_appsi_highs(make):
    rng = np.random.default_rng(5)
    points = rng.uniform(0, 10, (6, 2))
    distance = {(i, j): float(np.linalg.norm(points[i] - points[j]).round(3)) for i in range(6) for j in range(6)}
    nodes, p = range(6), 2
    model = pyo.ConcreteModel()
    model.y = pyo.Var(nodes, within=pyo.Binary)
    model.x = pyo.Var(nodes, nodes, bounds=(0, 1))
    model.objective = pyo.Objective(expr=sum(distance[k] * model.x[k] for k in distance))
    model.assign = pyo.Constraint(nodes, rule=lambda m, i: sum(m.x[i, j] for j in nodes) == 1)
    model.median = pyo.Constraint(nodes, nodes, rule=lambda m, i, j: m.x[i, j] <= m.y[j])
    model.count = pyo.Constraint(expr=sum(model.y[j] for j in nodes) == p)
    expected = appsi_highs(model)

    y = {j: dimod.Binary(("y", j)) for j in nodes}
    x = {k: dimod.Real(("x", *k), upper_bound=1) for k in distance}
    cqm = dimod.CQM()
    cqm.set_objective(dimod.quicksum(distance[k] * x[k] for k in x))
    for i in nodes:
        cqm.add_constraint(dimod.quicksum(x[i, j] for j in nodes) == 1, label=("assign", i))
        for j in nodes:
            cqm.add_constraint(x[i, j] - y[j] <= 0, label=("median", i, j))
    cqm.add_constraint(dimod.quicksum(y.values()) == p, label="count")
    best = check_row(make().sample_cqm(cqm), cqm).first
    assert best.energy == pytest.approx(expected)
    assert sum(best.sample[("y", j)] for j in nodes) == p


@pytest.mark.parametrize("make", SAMPLERS)
def test_colouring_with_a_continuous_colour_count_matches_appsi_highs(make):
    """A 5-cycle with a chord needs 3 colours; the colour count y is a REAL without upper bound."""
    edges = [(0, 1), (1, 2), (2, 3), (3, 4), (4, 0), (0, 2)]
    nodes, colours = range(5), range(4)
    model = pyo.ConcreteModel()
    model.x = pyo.Var(nodes, colours, within=pyo.Binary)
    model.y = pyo.Var(within=pyo.NonNegativeReals)
    model.objective = pyo.Objective(expr=model.y)
    model.one = pyo.Constraint(nodes, rule=lambda m, v: sum(m.x[v, c] for c in colours) == 1)
    model.apart = pyo.Constraint(edges, colours, rule=lambda m, u, v, c: m.x[u, c] + m.x[v, c] <= 1)
    model.count = pyo.Constraint(nodes, colours, rule=lambda m, v, c: m.y >= (c + 1) * m.x[v, c])
    expected = appsi_highs(model)

    x = {(v, c): dimod.Binary(("x", v, c)) for v in nodes for c in colours}
    y = dimod.Real("y")
    cqm = dimod.CQM()
    cqm.set_objective(y)
    for v in nodes:
        cqm.add_constraint(dimod.quicksum(x[v, c] for c in colours) == 1, label=("one", v))
        for c in colours:
            cqm.add_constraint(y - (c + 1) * x[v, c] >= 0, label=("count", v, c))
    for u, v in edges:
        for c in colours:
            cqm.add_constraint(x[u, c] + x[v, c] <= 1, label=("apart", u, v, c))
    best = check_row(make().sample_cqm(cqm), cqm).first
    assert best.energy == pytest.approx(expected) == 3.0
    assert best.sample["y"] == pytest.approx(3.0)
