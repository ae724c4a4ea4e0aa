"""The Pyomo plugin follows Pyomo's conventions: load_solutions=False with load_from, options by
other solvers' names, tee, bounds with the objective's constant, and pyomo.contrib.solver's factory."""

from __future__ import annotations

import logging
import math
import random
import subprocess
import sys

import dimod
import pyomo.environ as pyo
import pytest
from pyomo.contrib.solver.common.factory import SolverFactory as ContribFactory
from pyomo.contrib.solver.common.results import SolutionStatus, TerminationCondition
from pyomo.contrib.solver.common.util import NoFeasibleSolutionError, NoOptimalSolutionError, NoSolutionError

import gnnsolve  # noqa: F401  (registers the solvers)
from gnnsolve import registry
from gnnsolve.adapters.pyomo_contrib import GnnsolveContribSolver
from gnnsolve.adapters.pyomo_solver import GnnsolveSolver

TC = pyo.TerminationCondition


def knapsack(seed: int = 0, n: int = 10, constant: float = 0.0, maximise: bool = True) -> pyo.ConcreteModel:
    rng = random.Random(seed)
    m = pyo.ConcreteModel(name=f"knapsack{seed}")
    m.I = pyo.RangeSet(1, n)
    value = {i: rng.randint(1, 20) for i in m.I}
    weight = {i: rng.randint(1, 10) for i in m.I}
    m.take = pyo.Var(m.I, domain=pyo.Binary)
    m.extra = pyo.Var(domain=pyo.Integers, bounds=(0, 3))
    total = sum(value[i] * m.take[i] for i in m.I) + 2 * m.extra
    m.profit = pyo.Objective(expr=(total if maximise else -total) + constant, sense=pyo.maximize if maximise else pyo.minimize)
    m.capacity = pyo.Constraint(expr=sum(weight[i] * m.take[i] for i in m.I) + 3 * m.extra <= 3 * n)
    return m


def values_of(model: pyo.ConcreteModel) -> dict[str, float | None]:
    return {var.name: var.value for var in model.component_data_objects(pyo.Var)}


def feasible(model: pyo.ConcreteModel) -> bool:
    return all(
        (not c.has_lb() or pyo.value(c.body) >= pyo.value(c.lower) - 1e-9)
        and (not c.has_ub() or pyo.value(c.body) <= pyo.value(c.upper) + 1e-9)
        for c in model.component_data_objects(pyo.Constraint, active=True)
    )


class Recording:
    """Wraps a sampler; records the keywords of each ``sample_cqm`` and ``sample`` call."""

    def __init__(self, inner: dimod.Sampler) -> None:
        self.inner, self.calls = inner, []

    @property
    def parameters(self) -> dict:
        return self.inner.parameters

    @property
    def properties(self) -> dict:
        return self.inner.properties

    def sample_cqm(self, cqm, **kwargs):
        self.calls.append(kwargs)
        return self.inner.sample_cqm(cqm, **kwargs)

    def sample(self, bqm, **kwargs):
        self.calls.append(kwargs)
        return self.inner.sample(bqm, **kwargs)


class Learned(dimod.Sampler):
    """Stands in for a learned sampler (it takes ``threads``): answers all ones, records keywords."""

    parameters: dict = {"num_reads": [], "seed": [], "time_limit": [], "threads": []}
    properties: dict = {}

    def __init__(self) -> None:
        self.calls: list[dict] = []

    def sample(self, bqm, num_reads=1, seed=None, time_limit=None, threads=None):
        self.calls.append({"num_reads": num_reads, "seed": seed, "time_limit": time_limit, "threads": threads})
        return dimod.SampleSet.from_samples_bqm([{v: 0 for v in bqm.variables}] * num_reads, bqm)


@pytest.fixture
def recorded(monkeypatch):
    """``recorded(name)``: the sampler the plugin gets for ``name`` from now on, recording its calls."""
    real = registry.get_sampler
    made: dict[str, object] = {}

    def record(name: str):
        if name not in made:
            made[name] = Learned() if name == "gnn" else Recording(real(name))
            monkeypatch.setattr(registry, "get_sampler", lambda asked: made.get(asked) or real(asked))
        return made[name]

    return record


# ---------------------------------------------------------------- load_solutions=False


@pytest.mark.parametrize("sampler", ["highs", "sa"])
def test_load_solutions_false_keeps_the_answer_for_load_from(sampler):
    options = {"sampler": sampler, "seed": 0, "num_reads": 4}
    loaded = knapsack()
    direct = pyo.SolverFactory("gnnsolve", **options).solve(loaded)
    assert len(direct.solution) == 0  # loaded at once: nothing kept, as before
    kept_model = knapsack()
    kept = pyo.SolverFactory("gnnsolve", **options).solve(kept_model, load_solutions=False)
    assert all(value is None for value in values_of(kept_model).values())
    assert len(kept.solution) == 1
    assert str(kept.solution(0).status) == ("optimal" if sampler == "highs" else "feasible")
    kept_model.solutions.load_from(kept)
    assert feasible(kept_model)
    assert isinstance(kept_model.extra.value, int)
    assert pyo.value(kept_model.profit) == pytest.approx(
        kept.problem.upper_bound if sampler == "highs" else kept.problem.lower_bound
    )
    stored = {name: entry["Value"] for name, entry in kept.solution(0).variable.items()}
    assert stored == values_of(kept_model)
    if sampler == "highs":  # the same model, the same answer either way
        assert values_of(kept_model) == values_of(loaded)
        # keyed by the variables' names, so a results object without its symbol map loads too
        again = knapsack()
        results = pyo.SolverFactory("gnnsolve", **options).solve(again, load_solutions=False)
        results._smap = None
        again.solutions.load_from(results)
        assert values_of(again) == values_of(loaded)


def test_load_solutions_false_without_an_answer_keeps_no_solution():
    m = pyo.ConcreteModel()
    m.x = pyo.Var([1, 2], domain=pyo.Binary)
    m.o = pyo.Objective(expr=m.x[1])
    m.never = pyo.Constraint(expr=m.x[1] + m.x[2] >= 3)
    results = pyo.SolverFactory("gnnsolve", sampler="highs").solve(m, load_solutions=False)
    assert results.solver.termination_condition == TC.infeasible and len(results.solution) == 0


# ---------------------------------------------------------------- options and their other names

EXACT_NAMES = [
    ("time_limit", "time_limit", 7.0),
    ("timelimit", "time_limit", 7.0),
    ("TimeLimit", "time_limit", 7.0),
    ("time_limit_s", "time_limit", 7.0),
    ("mip_rel_gap", "mip_rel_gap", 0.05),
    ("mipgap", "mip_rel_gap", 0.05),
    ("MIPGap", "mip_rel_gap", 0.05),
    ("rel_gap", "mip_rel_gap", 0.05),
    ("threads", "threads", 1),
    ("Threads", "threads", 1),
    ("seed", "seed", 5),
    ("Seed", "seed", 5),
    ("random_seed", "seed", 5),
]


def solve_with(model, given: dict, where: str, sampler: str = "highs"):
    """Solve with ``given`` options placed where a user may put them."""
    if where == "factory":
        return pyo.SolverFactory("gnnsolve", sampler=sampler, **given).solve(model)
    if where == "opt.options":
        opt = pyo.SolverFactory("gnnsolve", sampler=sampler)
        opt.options.update(given)
        return opt.solve(model)
    if where == "set_options":
        opt = pyo.SolverFactory("gnnsolve", sampler=sampler)
        opt.set_options(" ".join(f"{key}={value}" for key, value in given.items()))
        return opt.solve(model)
    if where == "options=":
        return pyo.SolverFactory("gnnsolve").solve(model, options={"sampler": sampler, **given})
    return pyo.SolverFactory("gnnsolve").solve(model, sampler=sampler, **given)


@pytest.mark.parametrize("where", ["factory", "opt.options", "set_options", "options=", "solve"])
@pytest.mark.parametrize(("name", "option", "value"), EXACT_NAMES, ids=[name for name, _, _ in EXACT_NAMES])
def test_every_name_of_an_option_reaches_the_exact_sampler(recorded, name, option, value, where):
    highs = recorded("highs")
    results = solve_with(knapsack(n=6), {name: value}, where)
    assert results.solver.termination_condition == TC.optimal
    (call,) = highs.calls
    if option == "time_limit":
        assert value - 1 < call["time_limit"] <= value  # the time left after translating
    else:
        assert call[option] == value
    assert call.get("output", False) is False


def test_later_places_override_earlier_ones_and_defaults_stay_the_samplers(recorded):
    highs = recorded("highs")
    opt = pyo.SolverFactory("gnnsolve", sampler="highs", timelimit=50, Seed=1)
    opt.options["seed"] = 2
    opt.solve(knapsack(n=6), TimeLimit=7)
    assert highs.calls[-1]["seed"] == 2 and highs.calls[-1]["time_limit"] <= 7
    opt.solve(knapsack(n=6), options={"random_seed": 3}, mipgap=0.1)
    assert highs.calls[-1]["seed"] == 3 and highs.calls[-1]["mip_rel_gap"] == 0.1
    pyo.SolverFactory("gnnsolve", sampler="highs").solve(knapsack(n=6))
    assert "mip_rel_gap" not in highs.calls[-1] and "threads" not in highs.calls[-1]
    assert highs.calls[-1]["time_limit"] is None


def test_heuristic_samplers_ignore_the_gap_with_a_warning_and_learned_ones_take_threads(recorded):
    stand_in = recorded("gnn")
    with pytest.warns(UserWarning, match="'gnn' ignores mip_rel_gap"):
        pyo.SolverFactory("gnnsolve", sampler="gnn", penalty=1.0, repair=False, time_limit=1).solve(
            knapsack(n=4), Threads=2, MIPGap=0.01
        )
    assert stand_in.calls and all(call["threads"] == 2 for call in stand_in.calls)
    sa = recorded("sa")
    with pytest.warns(UserWarning) as caught:
        results = pyo.SolverFactory("gnnsolve", sampler="sa", seed=0, num_reads=2, threads=2, rel_gap=0.1).solve(knapsack(n=4))
    messages = [str(w.message) for w in caught]
    assert any("'sa' ignores threads" in text for text in messages)
    assert any("'sa' ignores mip_rel_gap" in text for text in messages)
    assert results.solver.termination_condition == TC.feasible
    assert all("threads" not in call and "mip_rel_gap" not in call for call in sa.calls)


def test_an_unknown_option_is_warned_about_and_the_solve_goes_on():
    model = knapsack(n=6)
    with pytest.warns(UserWarning) as caught:
        results = pyo.SolverFactory("gnnsolve", sampler="highs", presolve_level=2).solve(model, Heuristics=0.5)
    (warning,) = [w for w in caught if "unknown option" in str(w.message)]
    text = str(warning.message)
    assert "'presolve_level'" in text and "'Heuristics'" in text
    assert all(name in text for name in ("time_limit", "mip_rel_gap", "threads", "seed", "MIPGap", "num_reads"))
    assert warning.filename == __file__  # points at the caller's solve
    assert results.solver.termination_condition == TC.optimal and feasible(model)


@pytest.mark.parametrize(
    ("given", "words"),
    [
        ({"TimeLimit": "soon"}, "time_limit must be a number"),
        ({"time_limit": -1}, "time_limit must be a positive number"),
        ({"mipgap": -0.1}, "mip_rel_gap must be a non-negative number"),
        ({"Threads": 0}, "threads must be a positive integer"),
        ({"Seed": 1.5}, "seed must be an integer"),
        ({"num_reads": "many"}, "num_reads must be an integer"),
        ({"penalty": 0}, "penalty must be 'auto' or a positive number"),
        ({"repair": "yes"}, "repair must be True or False"),
    ],
)
def test_a_bad_value_of_a_known_option_raises(given, words):
    with pytest.raises(ValueError, match=words):
        pyo.SolverFactory("gnnsolve", sampler="highs", **given).solve(knapsack(n=4))


# ---------------------------------------------------------------- tee


@pytest.mark.parametrize("in_process", [False, True], ids=["thread", "process"])
def test_tee_streams_the_highs_log(capfd, monkeypatch, in_process):
    """HiGHS writes its log from C to file descriptor 1 (from a child process for large models),
    so capfd, not capsys, sees it."""
    from gnnsolve.samplers import highs

    monkeypatch.setattr(highs, "_in_process", lambda seconds: in_process)
    results = pyo.SolverFactory("gnnsolve", sampler="highs").solve(knapsack(n=8), tee=True, time_limit=20)
    assert results.solver.termination_condition == TC.optimal
    out = capfd.readouterr().out
    lines = out.splitlines()
    assert lines[0].startswith("gnnsolve[highs]: model knapsack0 as a CQM of 9 variables and 1 constraints")
    assert "Solving report" in out and "Primal bound" in out
    assert lines[-1].startswith("gnnsolve[highs]: optimal in ")
    pyo.SolverFactory("gnnsolve", sampler="highs").solve(knapsack(n=8))
    assert capfd.readouterr().out == ""  # silent without tee


def test_tee_shows_each_penalty_attempt_of_a_heuristic_sampler(capsys):
    results = pyo.SolverFactory("gnnsolve", sampler="sa", seed=0, num_reads=4).solve(knapsack(n=8), tee=True)
    out = capsys.readouterr().out
    assert "gnnsolve[sa]: model knapsack0 as a CQM of 9 variables" in out
    assert "gnnsolve[sa]: penalty " in out and " samples, " in out and " feasible" in out
    assert "gnnsolve[sa]: stopped (" in out and "after repair" in out
    assert (
        out.rstrip().splitlines()[-1] == f"gnnsolve[sa]: feasible in {results.solver.wallclock_time:.2f} s; "
        f"{results.solver.message}"
    )


def test_tee_streams_pignn_training_and_leaves_the_logger_as_it_was(capsys, monkeypatch):
    from gnnsolve.samplers import _progress

    monkeypatch.setattr(_progress, "LOG_SECONDS", 0.1)  # the first attempt trains for about half a second
    logger = logging.getLogger("gnnsolve")
    level, handlers, propagate = logger.level, list(logger.handlers), logger.propagate
    results = pyo.SolverFactory("gnnsolve", sampler="gnn", seed=0, num_reads=2, time_limit=3).solve(knapsack(n=8), tee=True)
    assert results.solver.termination_condition == TC.feasible
    out = capsys.readouterr().out
    for words in (
        "gnnsolve[gnn]: model knapsack0",
        "PI-GNN: training 2 reads on",
        "PI-GNN: epoch ",
        "PI-GNN: training stopped after",
        "PI-GNN: polish (sa) finished",
        "gnnsolve[gnn]: penalty",
        "gnnsolve[gnn]: feasible in",
    ):
        assert words in out, words
    assert (logger.level, logger.handlers, logger.propagate) == (level, handlers, propagate)
    logging.getLogger("gnnsolve.samplers.pignn").info("PI-GNN: not shown")  # silent without tee
    assert "not shown" not in capsys.readouterr().out


# ---------------------------------------------------------------- the objective's constant in the bounds


def constant_objective(expr: str, sense) -> pyo.ConcreteModel:
    m = pyo.ConcreteModel()
    m.x = pyo.Var([1, 2, 3], domain=pyo.Binary)
    m.o = pyo.Objective(expr=5 if expr == "5" else 0 * m.x[1] + 5, sense=sense)
    m.one = pyo.Constraint(expr=m.x[1] + m.x[2] + m.x[3] == 1)
    return m


@pytest.mark.parametrize("sampler", ["highs", "sa"])
@pytest.mark.parametrize("sense", [pyo.minimize, pyo.maximize], ids=["min", "max"])
@pytest.mark.parametrize("expr", ["5", "0*x+5"])
def test_a_constant_objective_is_its_own_bound(sampler, sense, expr):
    m = constant_objective(expr, sense)
    results = pyo.SolverFactory("gnnsolve", sampler=sampler, seed=0).solve(m)
    assert results.solver.termination_condition == TC.optimal
    assert results.problem.lower_bound == results.problem.upper_bound == 5.0
    res = ContribFactory("gnnsolve").solve(constant_objective(expr, sense), sampler=sampler, seed=0)
    assert res.incumbent_objective == res.objective_bound == 5.0


@pytest.mark.parametrize("sampler", ["highs", "sa"])
@pytest.mark.parametrize("maximise", [False, True], ids=["min", "max"])
def test_bounds_include_the_objective_constant(sampler, maximise):
    m = knapsack(n=8, constant=-100.5, maximise=maximise)
    results = pyo.SolverFactory("gnnsolve", sampler=sampler, seed=0, num_reads=4).solve(m)
    value = pyo.value(m.profit)
    reference = knapsack(n=8, constant=-100.5, maximise=maximise)
    pyo.SolverFactory("appsi_highs").solve(reference)
    if sampler == "highs":
        assert results.problem.lower_bound == pytest.approx(value) == pytest.approx(results.problem.upper_bound)
        assert value == pytest.approx(pyo.value(reference.profit))
    elif maximise:
        assert results.problem.lower_bound == pytest.approx(value) and results.problem.upper_bound == math.inf
    else:
        assert results.problem.upper_bound == pytest.approx(value) and results.problem.lower_bound == -math.inf


# ---------------------------------------------------------------- pyomo.contrib.solver's factory


def test_contrib_factory_solves_to_optimality_and_loads():
    model = knapsack(n=8, constant=3)
    reference = knapsack(n=8, constant=3)
    pyo.SolverFactory("appsi_highs").solve(reference)
    opt = ContribFactory("gnnsolve")
    assert isinstance(opt, GnnsolveContribSolver) and opt.available() and opt.name == "gnnsolve"
    res = opt.solve(model, sampler="highs")
    assert res.termination_condition == TerminationCondition.convergenceCriteriaSatisfied
    assert res.solution_status == SolutionStatus.optimal
    assert res.incumbent_objective == pytest.approx(pyo.value(reference.profit)) == pytest.approx(pyo.value(model.profit))
    assert res.objective_bound == pytest.approx(res.incumbent_objective)
    assert res.solver_name == "gnnsolve" and res.solver_version == opt.version()
    assert res.timing_info.wall_time > 0 and res.timing_info.start_timestamp is not None
    primals = res.solution_loader.get_primals()
    assert {var.name: value for var, value in primals.items()} == values_of(model)
    assert res.solution_loader.get_vars([model.extra])[model.extra] == model.extra.value
    assert res.extra_info.sampler == "highs" and res.extra_info.number_of_variables == 9


def test_contrib_load_solutions_false_and_the_loader():
    model = knapsack(n=8)
    res = ContribFactory("gnnsolve").solve(model, sampler="highs", load_solutions=False)
    assert all(value is None for value in values_of(model).values())
    res.solution_loader.load_vars([model.take[1]])
    assert model.take[1].value is not None and model.take[2].value is None
    res.solution_loader.load_vars()
    assert feasible(model) and pyo.value(model.profit) == pytest.approx(res.incumbent_objective)


def test_contrib_options_map_onto_the_samplers(recorded):
    highs = recorded("highs")
    ContribFactory("gnnsolve").solve(knapsack(n=6), sampler="highs", time_limit=9, rel_gap=0.02, threads=1, seed=4)
    call = highs.calls[-1]
    assert call["mip_rel_gap"] == 0.02 and call["threads"] == 1 and call["seed"] == 4 and call["time_limit"] <= 9
    ContribFactory("gnnsolve", sampler="highs", threads=0).solve(knapsack(n=6), solver_options={"MIPGap": 0.03, "Seed": 8})
    call = highs.calls[-1]
    assert call["mip_rel_gap"] == 0.03 and call["seed"] == 8 and "threads" not in call
    with pytest.warns(UserWarning, match="unknown option.*'Cuts'"):
        ContribFactory("gnnsolve").solve(knapsack(n=6), sampler="highs", solver_options={"Cuts": 2})
    with pytest.raises(ValueError):
        ContribFactory("gnnsolve").solve(knapsack(n=6), sampler="highs", reads=3)  # Pyomo's config refuses it
    with pytest.raises(ValueError, match="penalty must be"):
        ContribFactory("gnnsolve").solve(knapsack(n=6), sampler="sa", penalty=-1)


def test_contrib_heuristic_answers_are_not_optimal():
    opt = ContribFactory("gnnsolve", sampler="sa", seed=0, num_reads=4)
    model = knapsack(n=8, constant=2)
    with pytest.raises(NoOptimalSolutionError):
        opt.solve(model)
    assert all(value is None for value in values_of(model).values())
    res = opt.solve(model, raise_exception_on_nonoptimal_result=False)
    assert res.termination_condition == TerminationCondition.unknown
    assert res.solution_status == SolutionStatus.feasible
    assert res.incumbent_objective == pytest.approx(pyo.value(model.profit)) and feasible(model)
    assert res.objective_bound == math.inf  # a maximisation without a proven bound
    assert res.extra_info.penalties and res.extra_info.stop_reason in ("feasible", "converged", "time_limit")


def test_contrib_infeasible_models():
    def never():
        m = pyo.ConcreteModel()
        m.x = pyo.Var([1, 2], domain=pyo.Binary)
        m.o = pyo.Objective(expr=m.x[1])
        m.both = pyo.Constraint(expr=m.x[1] + m.x[2] >= 2)
        m.one = pyo.Constraint(expr=m.x[1] + m.x[2] <= 1)
        return m

    opt = ContribFactory("gnnsolve", sampler="highs")
    with pytest.raises(NoOptimalSolutionError):
        opt.solve(never())
    with pytest.raises(NoFeasibleSolutionError):
        opt.solve(never(), raise_exception_on_nonoptimal_result=False)
    res = opt.solve(never(), raise_exception_on_nonoptimal_result=False, load_solutions=False)
    assert res.termination_condition == TerminationCondition.provenInfeasible
    assert res.solution_status == SolutionStatus.noSolution and res.incumbent_objective is None
    with pytest.raises(NoSolutionError):
        res.solution_loader.get_primals()
    res = opt.solve(
        never(),
        sampler="steepest",
        seed=0,
        num_reads=2,
        penalty=1e-6,
        repair=False,
        raise_exception_on_nonoptimal_result=False,
        load_solutions=False,
    )
    assert res.termination_condition == TerminationCondition.locallyInfeasible


def test_contrib_tee_goes_to_the_given_streams_and_the_log():
    import io

    stream = io.StringIO()
    res = ContribFactory("gnnsolve").solve(knapsack(n=6), sampler="highs", tee=[stream])
    out = stream.getvalue()
    assert "gnnsolve[highs]: model knapsack0" in out and "Solving report" in out and "gnnsolve[highs]: optimal" in out
    assert res.solver_log == out


def test_both_factories_are_registered_side_by_side():
    assert isinstance(pyo.SolverFactory("gnnsolve"), GnnsolveSolver)
    assert ContribFactory.get_class("gnnsolve") is GnnsolveContribSolver
    wrapped = pyo.SolverFactory("gnnsolve_v2", options={"sampler": "highs"})
    model = knapsack(n=6)
    results = wrapped.solve(model)
    assert results.solver.termination_condition == TC.optimal and feasible(model)
    model = knapsack(n=6)
    results = pyo.SolverFactory("gnnsolve", sampler="highs").solve(model)
    assert results.solver.termination_condition == TC.optimal and results.solver.name == "gnnsolve[highs]"


@pytest.mark.parametrize(
    "imports",
    [
        "import gnnsolve\nimport pyomo.environ",
        "import pyomo.environ\nimport gnnsolve",
        "from pyomo.opt import SolverFactory\nimport gnnsolve\nimport pyomo.contrib.solver.common.factory",
        "import gnnsolve\nimport gnnsolve.adapters.pyomo_contrib\nimport pyomo.environ",  # the module first
    ],
)
def test_the_contrib_registration_follows_the_legacy_one(imports):
    code = (
        f"{imports}\nfrom pyomo.contrib.solver.common.factory import SolverFactory\n"
        "from pyomo.opt import SolverFactory as Legacy\n"
        "from gnnsolve.adapters.pyomo_solver import GnnsolveSolver\n"
        "assert 'gnnsolve' in SolverFactory and Legacy.get_class('gnnsolve') is GnnsolveSolver\n"
        "print('ok')"
    )
    result = subprocess.run(
        [sys.executable, "-W", "error::RuntimeWarning", "-c", code], capture_output=True, text=True, check=False
    )
    assert result.stdout.strip() == "ok", result.stderr
    alone = subprocess.run(
        [sys.executable, "-c", "import sys, gnnsolve\nprint('pyomo' in sys.modules)"], capture_output=True, text=True, check=True
    )
    assert alone.stdout.strip() == "False"


# --- what other people's models hold --------------------------------------------------------


@pytest.mark.parametrize("sampler", ["highs", "sa"])
@pytest.mark.parametrize("bound", ["setub(0)", "bounds=(1, 1)"])
def test_a_binarys_own_bounds_hold(sampler, bound):
    m = pyo.ConcreteModel()
    m.x = pyo.Var([1, 2], within=pyo.Binary, bounds=(1, 1) if bound == "bounds=(1, 1)" else None)
    if bound == "setub(0)":
        m.x[1].setub(0)
    m.obj = pyo.Objective(expr=m.x[1] + m.x[2], sense=pyo.minimize if bound == "bounds=(1, 1)" else pyo.maximize)
    results = pyo.SolverFactory("gnnsolve", sampler=sampler, time_limit=5, seed=0).solve(m)
    assert results.solver.termination_condition in (TC.optimal, TC.feasible)
    assert [pyo.value(m.x[i]) for i in (1, 2)] == ([1, 1] if bound == "bounds=(1, 1)" else [0, 1])


def test_a_binary_whose_bounds_leave_no_value_is_infeasible():
    m = pyo.ConcreteModel()
    m.x = pyo.Var(within=pyo.Binary, bounds=(0.2, 0.8))
    m.obj = pyo.Objective(expr=m.x)
    results = pyo.SolverFactory("gnnsolve", sampler="highs").solve(m)
    assert results.solver.termination_condition == TC.infeasible and "neither 0 nor 1" in results.solver.message


def test_components_the_translation_cannot_hold_are_refused_by_name():
    from pyomo.gdp import Disjunction

    sos = pyo.ConcreteModel()
    sos.x = pyo.Var([1, 2, 3], bounds=(0, 1))
    sos.pick = pyo.SOSConstraint(var=sos.x, sos=1)
    sos.obj = pyo.Objective(expr=sum(sos.x.values()), sense=pyo.maximize)
    with pytest.raises(gnnsolve.UnsupportedModelError, match="SOSConstraint pick.*pw_repn"):
        pyo.SolverFactory("gnnsolve", sampler="highs").solve(sos)
    gdp = pyo.ConcreteModel()
    gdp.x = pyo.Var([1, 2], within=pyo.Binary)
    gdp.either = Disjunction(expr=[[gdp.x[1] + gdp.x[2] >= 2], [gdp.x[1] - gdp.x[2] >= 1]])
    gdp.obj = pyo.Objective(expr=gdp.x[1] + gdp.x[2])
    with pytest.raises(gnnsolve.UnsupportedModelError, match="Disjunction either.*gdp.bigm"):
        pyo.SolverFactory("gnnsolve", sampler="highs").solve(gdp)
    pyo.TransformationFactory("gdp.bigm").apply_to(gdp)
    pyo.SolverFactory("gnnsolve", sampler="highs").solve(gdp)
    assert pyo.value(gdp.obj) == 1


def _unbounded(integer: bool) -> pyo.ConcreteModel:
    m = pyo.ConcreteModel()
    m.x = pyo.Var(within=pyo.NonNegativeIntegers if integer else pyo.NonNegativeReals)
    m.c = pyo.Constraint(expr=m.x >= 1)
    m.obj = pyo.Objective(expr=-m.x)
    return m


@pytest.mark.parametrize("integer", [False, True], ids=["LP", "MILP"])
def test_an_unbounded_model_says_so(integer):
    results = pyo.SolverFactory("gnnsolve", sampler="highs").solve(_unbounded(integer))
    assert results.solver.termination_condition in (TC.unbounded, TC.infeasibleOrUnbounded)
    contrib = ContribFactory("gnnsolve").solve(
        _unbounded(integer), sampler="highs", raise_exception_on_nonoptimal_result=False, load_solutions=False
    )
    assert contrib.termination_condition in (TerminationCondition.unbounded, TerminationCondition.infeasibleOrUnbounded)


def test_a_product_with_a_continuous_factor_is_refused_with_its_linear_form():
    m = pyo.ConcreteModel()
    m.z, m.b = pyo.Var(bounds=(0, 4)), pyo.Var(within=pyo.Binary)
    m.obj = pyo.Objective(expr=m.z * m.b - 2 * m.b + m.z)
    with pytest.raises(gnnsolve.UnsupportedModelError, match=r"z \* b with a continuous factor.*w <= U\*b"):
        pyo.SolverFactory("gnnsolve", sampler="highs").solve(m)


def test_options_string_is_read_as_pyomo_solvers_read_it():
    m = knapsack()
    results = pyo.SolverFactory("gnnsolve").solve(m, options_string="sampler=highs time_limit=5")
    assert results.solver.name == "gnnsolve[highs]" and results.solver.termination_condition == TC.optimal


def test_an_import_suffix_is_warned_about_not_left_empty_in_silence():
    m = knapsack()
    m.dual = pyo.Suffix(direction=pyo.Suffix.IMPORT)
    with pytest.warns(UserWarning, match="no 'dual' values"):
        pyo.SolverFactory("gnnsolve", sampler="highs").solve(m)
