"""Pyomo models of the kinds users write, built with fixed seeds: knapsack, sudoku, set cover,
graph colouring, uncapacitated warehouse location and p-median.

Each builder writes its model the way the textbook formulation states it (indexed sets,
parameters, rule-based constraints). Where the usual formulation has continuous variables
(warehouse assignment fractions, p-median allocations, the colouring's colour count), the
builder takes ``binary=True`` for the form heuristic samplers can take: the same model with
those variables binary or bounded integer, which has the same optimum.
"""

from __future__ import annotations

import random
from typing import Callable

import networkx as nx
import pyomo.environ as pyo


def knapsack(seed: int = 0, n: int = 30) -> pyo.ConcreteModel:
    """0/1 knapsack: take items of the largest total value within a weight capacity."""
    rng = random.Random(seed)
    m = pyo.ConcreteModel(name="knapsack")
    m.ITEMS = pyo.RangeSet(n)
    m.value = pyo.Param(m.ITEMS, initialize={i: rng.randint(10, 60) for i in range(1, n + 1)})
    m.weight = pyo.Param(m.ITEMS, initialize={i: rng.randint(5, 30) for i in range(1, n + 1)})
    m.capacity = pyo.Param(initialize=int(0.4 * sum(m.weight[i] for i in m.ITEMS)))
    m.take = pyo.Var(m.ITEMS, within=pyo.Binary)
    m.total_value = pyo.Objective(expr=sum(m.value[i] * m.take[i] for i in m.ITEMS), sense=pyo.maximize)
    m.weight_limit = pyo.Constraint(expr=sum(m.weight[i] * m.take[i] for i in m.ITEMS) <= m.capacity)
    return m


def solved_grid(rng: random.Random) -> list[list[int]]:
    """A complete sudoku grid: the canonical pattern with bands, stacks, rows, columns and digits shuffled."""

    def shuffled_groups() -> list[int]:
        groups = rng.sample(range(3), 3)
        return [3 * group + inner for group in groups for inner in rng.sample(range(3), 3)]

    rows, cols, digits = shuffled_groups(), shuffled_groups(), rng.sample(range(1, 10), 9)
    return [[digits[(3 * (r % 3) + r // 3 + c) % 9] for c in cols] for r in rows]


def sudoku(seed: int = 0, clues: int = 30) -> pyo.ConcreteModel:
    """Sudoku as a feasibility model: ``x[r, c, v] = 1`` when cell (r, c) holds v; ``clues``
    cells of a complete grid given (fixed), and a constant objective."""
    rng = random.Random(seed)
    grid = solved_grid(rng)
    given = rng.sample([(r, c) for r in range(9) for c in range(9)], clues)
    m = pyo.ConcreteModel(name="sudoku")
    m.ROWS, m.COLS, m.VALUES = pyo.RangeSet(9), pyo.RangeSet(9), pyo.RangeSet(9)
    m.x = pyo.Var(m.ROWS, m.COLS, m.VALUES, within=pyo.Binary)
    for r, c in given:
        m.x[r + 1, c + 1, grid[r][c]].fix(1)
    m.feasible = pyo.Objective(expr=0)
    m.one_value = pyo.Constraint(m.ROWS, m.COLS, rule=lambda m, r, c: sum(m.x[r, c, v] for v in m.VALUES) == 1)
    m.row_once = pyo.Constraint(m.ROWS, m.VALUES, rule=lambda m, r, v: sum(m.x[r, c, v] for c in m.COLS) == 1)
    m.col_once = pyo.Constraint(m.COLS, m.VALUES, rule=lambda m, c, v: sum(m.x[r, c, v] for r in m.ROWS) == 1)
    m.box_once = pyo.Constraint(
        range(3),
        range(3),
        m.VALUES,
        rule=lambda m, i, j, v: sum(m.x[3 * i + a, 3 * j + b, v] for a in range(1, 4) for b in range(1, 4)) == 1,
    )
    return m


def set_cover(seed: int = 0, elements: int = 60, sets: int = 40) -> pyo.ConcreteModel:
    """Weighted set cover: the cheapest sets that cover every element at least once."""
    rng = random.Random(seed)
    members = {s: set(rng.sample(range(1, elements + 1), rng.randint(3, 8))) for s in range(1, sets + 1)}
    for e in range(1, elements + 1):  # every element is in some set
        if not any(e in covered for covered in members.values()):
            members[rng.randint(1, sets)].add(e)
    m = pyo.ConcreteModel(name="set_cover")
    m.ELEMENTS = pyo.RangeSet(elements)
    m.SETS = pyo.RangeSet(sets)
    m.cost = pyo.Param(m.SETS, initialize={s: rng.randint(1, 10) for s in range(1, sets + 1)})
    m.pick = pyo.Var(m.SETS, within=pyo.Binary)
    m.total_cost = pyo.Objective(expr=sum(m.cost[s] * m.pick[s] for s in m.SETS))
    m.covered = pyo.Constraint(m.ELEMENTS, rule=lambda m, e: sum(m.pick[s] for s in m.SETS if e in members[s]) >= 1)
    return m


def graph_colouring(seed: int = 0, nodes: int = 14, p: float = 0.3, binary: bool = False) -> pyo.ConcreteModel:
    """Minimum colouring: ``x[v, c]`` colours node v with colour c, adjacent nodes differ, and the
    colour count ``y`` is at least every colour used (``y >= c x[v, c]``); ``y`` is continuous
    as usually written, a bounded integer with ``binary=True``."""
    G = nx.gnp_random_graph(nodes, p, seed=seed)
    colours = max(dict(G.degree).values()) + 1
    m = pyo.ConcreteModel(name="graph_colouring")
    m.NODES = pyo.Set(initialize=sorted(G))
    m.EDGES = pyo.Set(initialize=sorted(G.edges), dimen=2)
    m.COLOURS = pyo.RangeSet(colours)
    m.x = pyo.Var(m.NODES, m.COLOURS, within=pyo.Binary)
    m.y = pyo.Var(within=pyo.Integers, bounds=(0, colours)) if binary else pyo.Var(within=pyo.NonNegativeReals)
    m.colours_used = pyo.Objective(expr=m.y)
    m.one_colour = pyo.Constraint(m.NODES, rule=lambda m, v: sum(m.x[v, c] for c in m.COLOURS) == 1)
    m.differ = pyo.Constraint(m.EDGES, m.COLOURS, rule=lambda m, u, v, c: m.x[u, c] + m.x[v, c] <= 1)
    m.count = pyo.Constraint(m.NODES, m.COLOURS, rule=lambda m, v, c: m.y >= c * m.x[v, c])
    return m


def _sites_and_customers(rng: random.Random, sites: int, customers: int) -> dict[tuple[int, int], int]:
    """Rounded Euclidean distances between random sites and customers on a 100 × 100 square."""
    place = lambda: (rng.uniform(0, 100), rng.uniform(0, 100))  # noqa: E731
    site_at = {n: place() for n in range(1, sites + 1)}
    customer_at = {c: place() for c in range(1, customers + 1)}
    return {
        (n, c): round(((site_at[n][0] - customer_at[c][0]) ** 2 + (site_at[n][1] - customer_at[c][1]) ** 2) ** 0.5)
        for n in site_at
        for c in customer_at
    }


def warehouse(seed: int = 0, sites: int = 8, customers: int = 20, binary: bool = False) -> pyo.ConcreteModel:
    """Uncapacitated warehouse location: open warehouses (a fixed cost each) and serve every
    customer's demand from open ones; ``x[n, c]`` is the share of customer c served by n,
    continuous in [0, 1] as usually written, binary with ``binary=True``."""
    rng = random.Random(seed)
    distance = _sites_and_customers(rng, sites, customers)
    m = pyo.ConcreteModel(name="warehouse")
    m.SITES = pyo.RangeSet(sites)
    m.CUSTOMERS = pyo.RangeSet(customers)
    m.open_cost = pyo.Param(m.SITES, initialize={n: rng.randint(80, 160) for n in range(1, sites + 1)})
    m.serve_cost = pyo.Param(m.SITES, m.CUSTOMERS, initialize=distance)
    m.y = pyo.Var(m.SITES, within=pyo.Binary)
    m.x = pyo.Var(m.SITES, m.CUSTOMERS, within=pyo.Binary) if binary else pyo.Var(m.SITES, m.CUSTOMERS, bounds=(0, 1))
    m.total_cost = pyo.Objective(
        expr=sum(m.open_cost[n] * m.y[n] for n in m.SITES)
        + sum(m.serve_cost[n, c] * m.x[n, c] for n in m.SITES for c in m.CUSTOMERS)
    )
    m.served = pyo.Constraint(m.CUSTOMERS, rule=lambda m, c: sum(m.x[n, c] for n in m.SITES) == 1)
    m.only_open = pyo.Constraint(m.SITES, m.CUSTOMERS, rule=lambda m, n, c: m.x[n, c] <= m.y[n])
    return m


def p_median(seed: int = 0, sites: int = 10, customers: int = 25, p: int = 3, binary: bool = False) -> pyo.ConcreteModel:
    """p-median: choose ``p`` sites and allocate each customer's demand to chosen ones at the
    least demand-weighted distance; allocations ``x`` continuous in [0, 1] as usually written,
    binary with ``binary=True``."""
    rng = random.Random(seed)
    distance = _sites_and_customers(rng, sites, customers)
    m = pyo.ConcreteModel(name="p_median")
    m.SITES = pyo.RangeSet(sites)
    m.CUSTOMERS = pyo.RangeSet(customers)
    m.p = pyo.Param(initialize=p)
    m.demand = pyo.Param(m.CUSTOMERS, initialize={c: rng.randint(1, 5) for c in range(1, customers + 1)})
    m.distance = pyo.Param(m.SITES, m.CUSTOMERS, initialize=distance)
    m.x = pyo.Var(m.SITES, m.CUSTOMERS, within=pyo.Binary) if binary else pyo.Var(m.SITES, m.CUSTOMERS, bounds=(0.0, 1.0))
    m.y = pyo.Var(m.SITES, within=pyo.Binary)
    m.cost = pyo.Objective(expr=sum(m.demand[c] * m.distance[n, c] * m.x[n, c] for n in m.SITES for c in m.CUSTOMERS))
    m.single_x = pyo.Constraint(m.CUSTOMERS, rule=lambda m, c: sum(m.x[n, c] for n in m.SITES) == 1.0)
    m.bound_y = pyo.Constraint(m.SITES, m.CUSTOMERS, rule=lambda m, n, c: m.x[n, c] <= m.y[n])
    m.num_facilities = pyo.Constraint(expr=sum(m.y[n] for n in m.SITES) == m.p)
    return m


MODELS: dict[str, Callable[..., pyo.ConcreteModel]] = {
    "knapsack": knapsack,
    "sudoku": sudoku,
    "set_cover": set_cover,
    "graph_colouring": graph_colouring,
    "warehouse": warehouse,
    "p_median": p_median,
}
"""Every builder by name, each as written (continuous variables where the formulation has them)."""

BINARY_FORMS = ("graph_colouring", "warehouse", "p_median")
"""The builders that take ``binary=True``."""


def build(name: str, binary: bool = False, seed: int = 0) -> pyo.ConcreteModel:
    """The model called ``name``, in its binary form where asked and one exists."""
    return MODELS[name](seed=seed, binary=True) if binary and name in BINARY_FORMS else MODELS[name](seed=seed)


def constraints_hold(model: pyo.ConcreteModel, tolerance: float = 1e-6) -> bool:
    """Whether every active constraint holds at the model's current values (every variable set)."""
    for constraint in model.component_data_objects(pyo.Constraint, active=True):
        body = pyo.value(constraint.body, exception=False)
        if body is None:
            return False
        if constraint.lower is not None and body < pyo.value(constraint.lower) - tolerance:
            return False
        if constraint.upper is not None and body > pyo.value(constraint.upper) + tolerance:
            return False
    return True


def appsi_highs_optimum(model: pyo.ConcreteModel) -> float:
    """The model's optimum by Pyomo's own HiGHS interface, on a copy."""
    reference = model.clone()
    results = pyo.SolverFactory("appsi_highs").solve(reference)
    assert results.solver.termination_condition == pyo.TerminationCondition.optimal
    return float(pyo.value(next(reference.component_data_objects(pyo.Objective, active=True))))
