"""Six Pyomo models of the kinds users write, through SolverFactory("gnnsolve") with every kind of sampler.

Exact samplers solve each model as written (continuous variables included) to the optimum
Pyomo's own ``appsi_highs`` proves; heuristic samplers, through the penalty composite, return a
feasible answer on the binary forms, or say ``infeasible`` (or ``maxTimeLimit`` where the budget
ended the search first) and name the violated constraints.
"""

from __future__ import annotations

import importlib.util

import pyomo.environ as pyo
import pytest

import gnnsolve  # noqa: F401  (registers the solver)
from gnnsolve.errors import UnsupportedModelError
from pyomo_models import BINARY_FORMS, MODELS, appsi_highs_optimum, build, constraints_hold

TC = pyo.TerminationCondition
HAS_GUROBI = importlib.util.find_spec("gurobipy") is not None


def objective_of(model: pyo.ConcreteModel) -> float:
    return float(pyo.value(next(model.component_data_objects(pyo.Objective, active=True))))


@pytest.mark.parametrize("name", list(MODELS))
@pytest.mark.parametrize(
    "sampler", ["highs", pytest.param("gurobi", marks=pytest.mark.skipif(not HAS_GUROBI, reason="gurobipy is not installed"))]
)
def test_exact_samplers_match_appsi_highs_on_the_model_as_written(name, sampler):
    model = build(name)
    optimum = appsi_highs_optimum(model)
    results = pyo.SolverFactory("gnnsolve", sampler=sampler).solve(model)
    assert results.solver.termination_condition == TC.optimal
    assert objective_of(model) == pytest.approx(optimum, abs=1e-6)
    assert constraints_hold(model)


@pytest.mark.parametrize("name", BINARY_FORMS)
def test_the_binary_forms_have_the_same_optimum(name):
    assert appsi_highs_optimum(build(name, binary=True)) == pytest.approx(appsi_highs_optimum(build(name)))


FEASIBLE_TARGETS = ("knapsack", "set_cover", "graph_colouring", "warehouse")
"""The models on which ``sa`` and ``gnn`` must be feasible (tested below); the others are checked here."""


@pytest.mark.parametrize(
    ("name", "sampler"),
    [(name, "tabu") for name in MODELS]
    + [(name, sampler) for name in MODELS if name not in FEASIBLE_TARGETS for sampler in ("sa", "gnn")],
)
def test_heuristic_samplers_answer_feasibly_or_name_what_they_violate(name, sampler):
    model = build(name, binary=True)
    results = pyo.SolverFactory("gnnsolve", sampler=sampler, seed=0).solve(model)
    condition = results.solver.termination_condition
    if condition in (TC.feasible, TC.optimal):
        assert constraints_hold(model)
        assert (
            objective_of(model) * (-1 if name == "knapsack" else 1)
            >= appsi_highs_optimum(model) * (-1 if name == "knapsack" else 1) - 1e-6
        )
    else:
        assert condition in (TC.infeasible, TC.maxTimeLimit), results.solver.message
        assert "the closest violates" in results.solver.message
        assert all(v.value is None for v in model.component_data_objects(pyo.Var) if not v.fixed)


@pytest.mark.parametrize("name", FEASIBLE_TARGETS)
@pytest.mark.parametrize("sampler", ["sa", "gnn"])
def test_sa_and_gnn_are_feasible_on_the_binary_forms_of_these_models(name, sampler):
    model = build(name, binary=True)
    results = pyo.SolverFactory("gnnsolve", sampler=sampler, seed=1).solve(model)
    assert results.solver.termination_condition == TC.feasible, results.solver.message
    assert constraints_hold(model)


@pytest.mark.parametrize("name", BINARY_FORMS)
def test_heuristic_samplers_refuse_the_continuous_form_by_name(name):
    with pytest.raises(UnsupportedModelError, match="is REAL.*HiGHSSampler"):
        pyo.SolverFactory("gnnsolve", sampler="sa").solve(build(name))
