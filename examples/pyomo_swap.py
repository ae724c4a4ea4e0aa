"""One Pyomo model, several solvers: the one-word swap from ``appsi_highs`` to gnnsolve's samplers.

An uncapacitated warehouse-location model (6 candidate sites with opening costs, 12 customers,
serving costs by distance) written as Pyomo users write it, with the assignments ``assign[n, c]``
continuous in [0, 1]. It is solved by ``appsi_highs`` and by
``SolverFactory("gnnsolve", sampler="highs")``, which takes the continuous variables as they are
(MILP) and proves the optimum. The learned and heuristic samplers take binary variables only,
so the model's binary form (the same model with ``assign`` binary; it has the same optimum) goes to
``sampler="gnn"`` (PI-GNN through the penalty composite, ``time_limit=4``) and ``sampler="sa"``.

Prints one line per solver: the termination condition (``optimal`` for the exact ones,
``feasible`` for the others), the total cost, whether the loaded solution satisfies every
constraint (``True`` on every line) and the gap to ``appsi_highs``'s optimum: cost 556.0 and gap
0.0% on every line, as a busy 2-core machine prints it (``gnn`` and ``sa`` reach the optimum but
do not prove it, hence ``feasible``). About 9 s.

Run: ``python examples/pyomo_swap.py``
"""

from __future__ import annotations

import math
import random

import pyomo.environ as pyo

import gnnsolve  # noqa: F401  (registers SolverFactory("gnnsolve"))


def warehouse(binary: bool, sites: int = 6, customers: int = 12, seed: int = 0) -> pyo.ConcreteModel:
    rng = random.Random(seed)
    site_at = {n: (rng.uniform(0, 100), rng.uniform(0, 100)) for n in range(1, sites + 1)}
    customer_at = {c: (rng.uniform(0, 100), rng.uniform(0, 100)) for c in range(1, customers + 1)}
    m = pyo.ConcreteModel(name="warehouse location")
    m.SITES = pyo.RangeSet(sites)
    m.CUSTOMERS = pyo.RangeSet(customers)
    m.open_cost = pyo.Param(m.SITES, initialize={n: rng.randint(80, 160) for n in m.SITES})
    m.serve_cost = pyo.Param(
        m.SITES,
        m.CUSTOMERS,
        initialize={(n, c): round(math.dist(site_at[n], customer_at[c])) for n in m.SITES for c in m.CUSTOMERS},
    )
    m.open = pyo.Var(m.SITES, within=pyo.Binary)
    m.assign = pyo.Var(m.SITES, m.CUSTOMERS, within=pyo.Binary if binary else pyo.UnitInterval)

    @m.Objective()
    def total_cost(m):
        opening = pyo.quicksum(m.open_cost[n] * m.open[n] for n in m.SITES)
        return opening + pyo.quicksum(m.serve_cost[key] * m.assign[key] for key in m.serve_cost)

    @m.Constraint(m.CUSTOMERS)
    def each_customer_served(m, c):
        return pyo.quicksum(m.assign[n, c] for n in m.SITES) == 1

    @m.Constraint(m.SITES, m.CUSTOMERS)
    def from_open_sites(m, n, c):
        return m.assign[n, c] <= m.open[n]

    return m


def satisfied(model: pyo.ConcreteModel, tolerance: float = 1e-6) -> bool:
    """Whether the values loaded into ``model`` satisfy every constraint."""
    for constraint in model.component_data_objects(pyo.Constraint, active=True):
        value = pyo.value(constraint.body, exception=False)
        if value is None:
            return False
        if constraint.has_lb() and value < pyo.value(constraint.lower) - tolerance:
            return False
        if constraint.has_ub() and value > pyo.value(constraint.upper) + tolerance:
            return False
    return True


def main() -> None:
    runs = [
        ("appsi_highs", "continuous", pyo.SolverFactory("appsi_highs"), False),
        ('gnnsolve, sampler="highs"', "continuous", pyo.SolverFactory("gnnsolve", sampler="highs"), False),
        ('gnnsolve, sampler="gnn"', "binary", pyo.SolverFactory("gnnsolve", sampler="gnn", seed=0, time_limit=4), True),
        ('gnnsolve, sampler="sa"', "binary", pyo.SolverFactory("gnnsolve", sampler="sa", seed=0), True),
    ]
    optimum = None
    print(f"{'solver':<27} {'model':<11} {'termination':<12} {'cost':>7}  feasible  gap")
    for name, form, solver, binary in runs:
        model = warehouse(binary)
        results = solver.solve(model)
        termination = str(results.solver.termination_condition)
        loaded = all(var.value is not None for var in model.open.values())
        cost = pyo.value(model.total_cost) if loaded else math.nan
        optimum = cost if optimum is None else optimum
        gap = f"{(cost - optimum) / optimum:.1%}" if loaded else "-"
        print(f"{name:<27} {form:<11} {termination:<12} {cost:7.1f}  {str(loaded and satisfied(model)):<8}  {gap}")


if __name__ == "__main__":
    main()
