"""Answers to trust: "optimal" only when it is, and bad input a clear error naming what is wrong,
before anything is computed or changed."""

import importlib.util
import itertools

import dimod
import networkx as nx
import numpy as np
import pytest
from dwave.samplers import SteepestDescentSolver
from hypothesis import given, settings
from hypothesis import strategies as st

from gnnsolve import DyCOSampler, GNNSampler, HiGHSSampler, WarmStartComposite
from gnnsolve.adapters.graphs import maxcut_bqm
from gnnsolve.cli import main
from gnnsolve.compare import compare
from gnnsolve.errors import InfeasibleModelError, InvalidModelError, ModelTooLargeError
from gnnsolve.samplers._common import MAX_SEED, check_seed, seed_generator

SEED_RANGE = r"seed must be None or an integer in \[0, 2000000000\]"

BAD_SEEDS = ["x", 1.5, -1, True, 2**70, MAX_SEED + 1, np.random.default_rng(0), [1]]


def bqm_samplers() -> list[tuple[str, dimod.Sampler, dict]]:
    found = [
        ("gnn", GNNSampler(), {"max_epochs": 5}),
        ("dyco", DyCOSampler(), {"max_epochs": 5}),
        ("highs", HiGHSSampler(), {}),
        ("warm start", WarmStartComposite(SteepestDescentSolver()), {}),
    ]
    if importlib.util.find_spec("gurobipy") is not None:
        from gnnsolve import GurobiSampler

        found.append(("gurobi", GurobiSampler(), {}))
    return found


@pytest.mark.parametrize("seed", BAD_SEEDS, ids=repr)
def test_check_seed_refuses_what_is_not_a_seed_in_range(seed):
    with pytest.raises(ValueError, match=SEED_RANGE):
        check_seed(seed)
    with pytest.raises(ValueError, match=SEED_RANGE):
        seed_generator(seed)


@pytest.mark.parametrize("seed", [0, np.int64(5), MAX_SEED, None])
def test_check_seed_accepts_integers_in_range(seed):
    assert check_seed(seed) == (None if seed is None else int(seed))


@pytest.mark.parametrize("name, sampler, kwargs", bqm_samplers(), ids=lambda value: value if isinstance(value, str) else "")
@pytest.mark.parametrize("seed", BAD_SEEDS, ids=repr)
def test_every_bqm_sampler_refuses_a_bad_seed_by_name(name, sampler, kwargs, seed):
    bqm = dimod.generators.ran_r(1, 6, seed=0)
    with pytest.raises(ValueError, match=SEED_RANGE):
        sampler.sample(bqm, seed=seed, **kwargs)


@pytest.mark.parametrize("name, sampler, kwargs", bqm_samplers(), ids=lambda value: value if isinstance(value, str) else "")
def test_every_bqm_sampler_takes_the_largest_seed(name, sampler, kwargs):
    bqm = dimod.generators.ran_r(1, 6, seed=0)
    sampleset = sampler.sample(bqm, seed=MAX_SEED, **kwargs)
    assert sampleset.first.energy == pytest.approx(bqm.energy(sampleset.first.sample))


def test_a_bad_seed_leaves_dyco_as_it_was():
    sampler = DyCOSampler()
    bqm = maxcut_bqm(nx.random_regular_graph(3, 20, seed=0))
    with pytest.raises(ValueError, match=SEED_RANGE):
        sampler.sample(bqm, seed=2**70, max_epochs=5)
    first = sampler.sample(bqm, seed=3, max_epochs=20)
    fresh = DyCOSampler().sample(bqm, seed=3, max_epochs=20)
    assert first.info["snapshot"] == 0 and first.info["start"] == fresh.info["start"]
    np.testing.assert_array_equal(first.record.sample, fresh.record.sample)


def test_compare_refuses_a_bad_seed_before_running_anything():
    ran = []
    with pytest.raises(ValueError, match=SEED_RANGE):
        compare(dimod.generators.ran_r(1, 6, seed=0), ["sa", "highs"], seed=99_999_999_999, progress=ran.append)
    assert ran == []


@pytest.mark.parametrize(
    "argv",
    [
        ["compare", "--seed", "99999999999"],
        ["compare", "--seed", "3000000000", "--samplers", "highs"],
        ["compare", "--seed", "-4"],
        ["compare", "--seed", "1.5"],
    ],
)
def test_cli_answers_a_bad_seed_with_usage_and_exit_code_2(argv, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "--seed" in err and f"0 to {MAX_SEED}" in err and "Traceback" not in err


def exact_samplers() -> list[dimod.Sampler]:
    found = [HiGHSSampler()]
    if importlib.util.find_spec("gurobipy") is not None:
        from gnnsolve import GurobiSampler

        found.append(GurobiSampler())
    return found


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 12),
    exponent=st.floats(-9, 9),
    density=st.floats(0.2, 1.0),
    seed=st.integers(0, 2**32 - 1),
    vartype=st.sampled_from([dimod.SPIN, dimod.BINARY]),
    through_cqm=st.booleans(),
)
def test_optimal_means_the_brute_force_optimum_at_every_scale(n, exponent, density, seed, vartype, through_cqm):
    """Small coefficients once met the solvers' absolute gap tolerance (1e-6) at once and came back
    "optimal" above the optimum; the objective is now normalised before solving."""
    scale = 10.0**exponent
    generator = np.random.default_rng(seed)
    bqm = dimod.BQM(
        {i: generator.normal() * scale for i in range(n)},
        {(i, j): generator.normal() * scale for i in range(n) for j in range(i + 1, n) if generator.random() < density},
        0.0,
        vartype,
    )
    optimum = dimod.ExactSolver().sample(bqm).first.energy
    for sampler in exact_samplers():
        sampleset = sampler.sample_cqm(dimod.CQM.from_bqm(bqm)) if through_cqm else sampler.sample(bqm)
        assert sampleset.info["status"] == "optimal" and sampleset.info["gap"] == 0
        energy = bqm.energy(sampleset.first.sample if not through_cqm else {v: sampleset.first.sample[v] for v in bqm.variables})
        assert energy == pytest.approx(optimum, rel=1e-9, abs=1e-9 * scale * n)
        assert sampleset.info["bound"] <= energy


@pytest.mark.parametrize("bias", [float("nan"), float("inf"), -float("inf")])
def test_warm_start_refuses_a_non_finite_bias_by_name(bias):
    bqm = dimod.BQM({"a": 1.0, "b": bias}, {("a", "b"): 1.0}, 0.0, "SPIN")
    with pytest.raises(InvalidModelError, match="variable 'b' has linear bias"):
        WarmStartComposite(SteepestDescentSolver()).sample(bqm)


def test_warm_start_warns_of_unknown_keywords_and_drops_them():
    bqm = dimod.generators.ran_r(1, 6, seed=0)
    with pytest.warns(dimod.exceptions.SamplerUnknownArgWarning, match="no_such_option"):
        sampleset = WarmStartComposite(SteepestDescentSolver()).sample(bqm, no_such_option=1, seed=0)
    assert sampleset.first.energy == pytest.approx(bqm.energy(sampleset.first.sample))


@pytest.mark.parametrize("sampler", exact_samplers(), ids=lambda sampler: type(sampler).__name__)
def test_coefficients_the_backends_cannot_resolve_are_refused_by_name(sampler):
    """A bias of 1e20 beside ones of 1 once came back "optimal" above the optimum."""
    for bqm in (
        dimod.BQM({0: 1e20, 1: -1.0, 2: 0.5}, {(0, 1): 2.0, (1, 2): -1.0}, 0, "BINARY"),
        dimod.BQM({0: 1e300, 1: -1e300, 2: 0.5}, {(0, 1): 2.0}, 0, "SPIN"),
    ):
        with pytest.raises(InvalidModelError, match=r"coefficients span .* a ratio above 1e\+09"):
            sampler.sample(bqm)


@pytest.mark.parametrize("sampler", exact_samplers(), ids=lambda sampler: type(sampler).__name__)
def test_tiny_coefficients_of_one_scale_are_solved_exactly(sampler):
    bqm = dimod.BQM({0: 1e-300, 1: -1e-300, 2: -2e-300}, {(0, 1): 3e-300}, 0, "BINARY")
    sampleset = sampler.sample(bqm)
    assert sampleset.info["status"] == "optimal" and sampleset.first.energy == dimod.ExactSolver().sample(bqm).first.energy


@pytest.mark.parametrize("sampler", exact_samplers(), ids=lambda sampler: type(sampler).__name__)
@pytest.mark.parametrize("constant", [0.0, 1.5, -7e6])
def test_an_objective_of_no_terms_keeps_its_constant_in_energy_and_bound(sampler, constant):
    """A feasibility CQM's energy once read 0 (dimod drops the constant of an objective without
    variables) and HiGHS's bound 0."""
    cqm = dimod.ConstrainedQuadraticModel()
    cqm.set_objective(dimod.QuadraticModel())
    cqm.objective.offset = constant
    a, b = dimod.Binaries("ab")
    cqm.add_constraint(a + b == 1, label="one")
    sampleset = sampler.sample_cqm(cqm)
    assert sampleset.info["status"] == "optimal"
    assert sampleset.first.energy == sampleset.info["bound"] == constant
    assert sampleset.first.is_feasible


@pytest.mark.parametrize("through_cqm", [False, True])
def test_highs_refuses_a_model_it_cannot_hold_before_building_it(monkeypatch, through_cqm):
    """A dense 2,500-variable BQM under a 3 GB cap once ran 29 s into std::bad_alloc."""
    from gnnsolve.samplers import _milp

    monkeypatch.setattr(_milp, "available_memory", lambda: 50e6)
    bqm = dimod.generators.gnp_random_bqm(200, 1.0, "BINARY", random_state=0)  # 19,900 products
    with pytest.raises(ModelTooLargeError, match=r"200 variables, 19900 products .* GurobiSampler .* heuristic"):
        HiGHSSampler().sample_cqm(dimod.CQM.from_bqm(bqm)) if through_cqm else HiGHSSampler().sample(bqm)
    monkeypatch.setattr(_milp, "available_memory", lambda: 1e9)
    assert HiGHSSampler().sample(bqm, time_limit=1).info["status"] in ("optimal", "time_limit")


def test_available_memory_honours_an_address_space_limit():
    import subprocess
    import sys

    script = (
        "import resource; resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30)); "
        "from gnnsolve.samplers._common import available_memory; print(available_memory())"
    )
    limited = float(subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout)
    assert 0 < limited < 2 * 2**30


def knapsack_rows(scale: float, rhs: float, sense: str = "<=") -> dimod.ConstrainedQuadraticModel:
    """max 3a + 2b + 2c subject to scale * (2a + b + c) <sense> rhs."""
    cqm = dimod.ConstrainedQuadraticModel()
    a, b, c = dimod.Binaries("abc")
    cqm.set_objective(-3 * a - 2 * b - 2 * c)
    cqm.add_constraint_from_iterable([("a", 2 * scale), ("b", scale), ("c", scale)], sense, rhs, label="weight")
    return cqm


@pytest.mark.parametrize("sampler", exact_samplers(), ids=lambda sampler: type(sampler).__name__)
@pytest.mark.parametrize("scale", [1e-300, 1e-9, 1.0, 1e25, 1e300])
def test_constraint_rows_of_any_scale_are_solved_as_at_scale_one(sampler, scale):
    """A row of 1e25 met HiGHS's infinity (1e20) and one of 1e300 Gurobi's."""
    sampleset = sampler.sample_cqm(knapsack_rows(scale, 2 * scale))
    assert sampleset.info["status"] == "optimal" and sampleset.first.is_feasible
    assert sampleset.first.energy == -4.0


@pytest.mark.parametrize("sampler", exact_samplers(), ids=lambda sampler: type(sampler).__name__)
def test_a_right_hand_side_beyond_reach_is_open_or_infeasible_by_name(sampler):
    assert sampler.sample_cqm(knapsack_rows(1.0, 1e25)).first.energy == -7.0  # always holds
    with pytest.raises(InfeasibleModelError, match=r"constraint 'weight' can never hold: .* \[0, 4\]"):
        sampler.sample_cqm(knapsack_rows(1.0, 1e25, ">="))


@pytest.mark.parametrize("sampler", exact_samplers(), ids=lambda sampler: type(sampler).__name__)
def test_a_row_whose_coefficients_the_solvers_cannot_resolve_is_refused_by_name(sampler):
    cqm = knapsack_rows(1.0, 2.0)
    cqm.add_constraint_from_iterable([("a", 1e12), ("b", 1.0)], "<=", 1e12, label="wide")
    with pytest.raises(InvalidModelError, match=r"constraint 'wide'.s coefficients span 1 to 1e\+12"):
        sampler.sample_cqm(cqm)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(2, 8), exponent=st.floats(-12, 12), seed=st.integers(0, 2**32 - 1))
def test_optimal_means_the_brute_force_optimum_with_constraint_rows_at_every_scale(n, exponent, seed):
    generator = np.random.default_rng(seed)
    scale = 10.0**exponent
    cqm = dimod.ConstrainedQuadraticModel()
    cqm.set_objective(
        dimod.BQM(
            {i: generator.normal() for i in range(n)},
            {(i, j): generator.normal() for i in range(n) for j in range(i + 1, n)},
            0.0,
            "BINARY",
        )
    )
    weights = generator.integers(1, 10, size=n)
    cqm.add_constraint_from_iterable(
        [(i, w * scale) for i, w in enumerate(weights)], "<=", weights.sum() // 2 * scale, label="capacity"
    )
    cqm.add_constraint_from_iterable([(i, scale) for i in range(n)], ">=", scale, label="some")
    states = np.array(list(itertools.product([0, 1], repeat=n)))
    feasible = states[(states @ weights <= weights.sum() // 2) & (states.sum(axis=1) >= 1)]  # exactly, at scale 1
    optimum = min(cqm.objective.energy(dict(enumerate(row))) for row in feasible)
    for sampler in exact_samplers():
        best = sampler.sample_cqm(cqm).first
        state = np.array([best.sample[i] for i in range(n)])
        assert state @ weights <= weights.sum() // 2 and state.sum() >= 1
        assert best.energy == pytest.approx(optimum, rel=1e-9, abs=1e-9)


LABELS = [0, 7, "a", "Z", ("t", 1), ("t", 2), 3.5, "0"]
"""Labels of mixed types, as a user's model may hold them."""

COEFFICIENT = st.one_of(
    st.builds(
        lambda mantissa, exponent: mantissa * 10.0**exponent,
        st.floats(-4, 4, allow_nan=False).filter(lambda x: x != 0),
        st.integers(-100, 100),
    ),
    st.integers(-3, 3).map(float),
    st.sampled_from([float("nan"), float("inf"), -float("inf")]),
)


@st.composite
def hostile_bqms(draw) -> dimod.BinaryQuadraticModel:
    """Small BQMs over mixed labels whose coefficients may be tiny, huge, NaN or infinite."""
    labels = draw(st.lists(st.sampled_from(LABELS), max_size=5, unique=True))
    bqm = dimod.BQM(draw(st.sampled_from([dimod.SPIN, dimod.BINARY])))
    for v in labels:
        bqm.add_variable(v, draw(COEFFICIENT))
    for i, u in enumerate(labels):
        for v in labels[i + 1 :]:
            if draw(st.booleans()):
                bqm.add_quadratic(u, v, draw(COEFFICIENT))
    return bqm


@pytest.mark.parametrize(("name", "sampler", "kwargs"), bqm_samplers(), ids=lambda item: item if isinstance(item, str) else "")
@settings(max_examples=25, deadline=None)
@given(bqm=hostile_bqms())
def test_every_sampler_refuses_by_name_or_answers_correctly(name, sampler, kwargs, bqm):
    biases = [*bqm.linear.values(), *bqm.quadratic.values()]
    try:
        sampleset = sampler.sample(bqm, seed=0, **kwargs)
    except InvalidModelError as err:
        assert not all(map(np.isfinite, biases)) or "span" in str(err), err
        return
    assert all(map(np.isfinite, biases)), "a NaN or infinite bias was not refused"
    assert set(sampleset.variables) == set(bqm.variables) and sampleset.vartype is bqm.vartype
    roundoff = 1e-12 * sum(map(abs, biases))  # a child's energies (warm start) are its own, in SPIN form
    assert np.allclose(sampleset.record.energy, bqm.energies(sampleset), rtol=1e-9, atol=roundoff)
    if sampleset.info.get("status") == "optimal" and bqm.num_variables:
        assert sampleset.first.energy == pytest.approx(dimod.ExactSolver().sample(bqm).first.energy, rel=1e-9)
