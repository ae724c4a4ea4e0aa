"""An ordinary Pyomo model solved by appsi_highs, then by gnnsolve's samplers, side by side.

A project-selection knapsack: pick projects to maximise value within a budget, with at least two
and at most three of the four "core" projects. The model is written the way a Pyomo user writes
it; the only change between solvers is the name given to ``SolverFactory``.

Run: ``python examples/pyomo_knapsack.py``
"""

from __future__ import annotations

import random

import pyomo.environ as pyo

import gnnsolve  # noqa: F401  (registers SolverFactory("gnnsolve"))


def build_model(num_projects: int = 16, seed: int = 0) -> pyo.ConcreteModel:
    rng = random.Random(seed)
    m = pyo.ConcreteModel(name="project selection")
    m.P = pyo.RangeSet(1, num_projects)
    m.value = pyo.Param(m.P, initialize={p: rng.randint(5, 30) for p in m.P})
    m.cost = pyo.Param(m.P, initialize={p: rng.randint(2, 12) for p in m.P})
    m.pick = pyo.Var(m.P, domain=pyo.Binary)
    m.total_value = pyo.Objective(expr=sum(m.value[p] * m.pick[p] for p in m.P), sense=pyo.maximize)
    m.budget = pyo.Constraint(expr=sum(m.cost[p] * m.pick[p] for p in m.P) <= 40)
    m.core = pyo.Constraint(expr=pyo.inequality(2, sum(m.pick[p] for p in range(1, 5)), 3))
    return m


def solve(solver: pyo.SolverFactory) -> tuple[str, float | None, list[int]]:
    model = build_model()
    results = solver.solve(model)
    termination = str(results.solver.termination_condition)
    if any(var.value is None for var in model.pick.values()):
        return termination, None, []
    return termination, pyo.value(model.total_value), [p for p in model.P if model.pick[p].value > 0.5]


def main() -> None:
    solvers = {
        "appsi_highs": pyo.SolverFactory("appsi_highs"),
        "gnnsolve highs": pyo.SolverFactory("gnnsolve", sampler="highs"),
        "gnnsolve sa": pyo.SolverFactory("gnnsolve", sampler="sa", seed=0),
        "gnnsolve tabu": pyo.SolverFactory("gnnsolve", sampler="tabu", seed=0, time_limit=2),
        "gnnsolve gnn": pyo.SolverFactory("gnnsolve", sampler="gnn", seed=0, time_limit=5),
    }
    print(f"{'solver':<16} {'termination':<12} {'value':>6}  picked")
    for name, solver in solvers.items():
        termination, value, picked = solve(solver)
        shown = "-" if value is None else f"{value:g}"
        print(f"{name:<16} {termination:<12} {shown:>6}  {picked}")


if __name__ == "__main__":
    main()
