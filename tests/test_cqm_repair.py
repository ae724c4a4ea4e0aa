"""Greedy CQM repair: never worse in violation, feasible answers only improve, bounds kept."""

from __future__ import annotations

import itertools

import dimod
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gnnsolve.search.cqm_repair import CompiledCQM


def total_violation(cqm: dimod.ConstrainedQuadraticModel, sample: dict) -> float:
    return sum(abs(v) for v in cqm.violations(sample, skip_satisfied=True).values())


@st.composite
def small_cqms(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2**31)))
    n = int(rng.integers(2, 7))
    cqm = dimod.ConstrainedQuadraticModel()
    variables = []
    for i in range(n):
        if rng.random() < 0.6:
            variables.append(dimod.Binary(f"b{i}"))
        else:
            low = int(rng.integers(-2, 2))
            variables.append(dimod.Integer(f"n{i}", lower_bound=low, upper_bound=low + int(rng.integers(1, 4))))
    objective = sum(int(rng.integers(-5, 6)) * v for v in variables)
    objective += int(rng.integers(-3, 4)) * variables[0] * variables[1]
    cqm.set_objective(objective)
    for c in range(int(rng.integers(0, 4))):
        lhs = sum(int(rng.integers(-3, 4)) * v for v in variables)
        cqm.add_constraint(lhs, ["<=", ">=", "=="][int(rng.integers(3))], int(rng.integers(-2, 4)), label=f"c{c}")
    start = {v: int(rng.integers(cqm.lower_bound(v), cqm.upper_bound(v) + 1)) for v in cqm.variables}
    return cqm, start


@settings(max_examples=80, deadline=None)
@given(small_cqms())
def test_repair_never_raises_violation_keeps_bounds_and_only_improves_feasible_answers(case):
    cqm, start = case
    repaired = CompiledCQM(cqm).repair(start)
    assert set(repaired) == set(start)
    for v, value in repaired.items():
        assert cqm.lower_bound(v) <= value <= cqm.upper_bound(v)
    assert total_violation(cqm, repaired) <= total_violation(cqm, start) + 1e-9
    if cqm.check_feasible(start):
        assert cqm.check_feasible(repaired)
        assert cqm.objective.energy(repaired) <= cqm.objective.energy(start) + 1e-9


def test_repair_of_an_overfull_knapsack_reaches_its_optimum():
    values, weights = [10, 7, 6, 3], [5, 4, 3, 1]
    x = [dimod.Binary(i) for i in range(4)]
    cqm = dimod.ConstrainedQuadraticModel()
    cqm.set_objective(-sum(v * xi for v, xi in zip(values, x)))
    cqm.add_constraint(sum(w * xi for w, xi in zip(weights, x)) <= 8, label="capacity")
    repaired = CompiledCQM(cqm).repair({i: 1 for i in range(4)})
    assert cqm.check_feasible(repaired)
    assert -cqm.objective.energy(repaired) == 16  # the optimum: items {0, 2} or {1, 2, 3}


def test_real_variables_and_quadratic_constraints_are_refused():
    cqm = dimod.ConstrainedQuadraticModel()
    cqm.set_objective(dimod.Real("r", upper_bound=2))
    with pytest.raises(ValueError, match="REAL"):
        CompiledCQM(cqm)
    cqm = dimod.ConstrainedQuadraticModel()
    a, b = dimod.Binary("a"), dimod.Binary("b")
    cqm.set_objective(a)
    cqm.add_constraint(a * b <= 0)
    with pytest.raises(ValueError, match="linear constraints"):
        CompiledCQM(cqm)


def single_and_pair_moves(cqm: dimod.ConstrainedQuadraticModel, sample: dict):
    """Every sample one ±1 move, or two moves of different variables, away from ``sample`` within the bounds."""
    steps = [(v, s) for v in cqm.variables for s in (1, -1) if cqm.lower_bound(v) <= sample[v] + s <= cqm.upper_bound(v)]
    for v, s in steps:
        yield {**sample, v: sample[v] + s}
    for (v, s), (w, t) in itertools.combinations(steps, 2):
        if v != w:
            yield {**sample, v: sample[v] + s, w: sample[w] + t}


@settings(max_examples=80, deadline=None)
@given(small_cqms())
def test_a_feasible_answer_with_a_linear_objective_has_no_improving_single_or_pair_move(case):
    """With a linear objective two individually harmless moves cannot gain together, so the
    pair search (one move breaks constraints, the other mends them) leaves no improving pair."""
    cqm, start = case
    cqm.set_objective(
        cqm.objective
        - sum(
            bias * dimod.Binary(u) * dimod.Binary(v)
            for u, v, bias in cqm.objective.iter_quadratic()
            if cqm.vartype(u) is dimod.BINARY and cqm.vartype(v) is dimod.BINARY
        )
    )
    if not cqm.objective.is_linear():
        return
    repaired = CompiledCQM(cqm).repair(start)
    if not cqm.check_feasible(repaired):
        return
    energy = cqm.objective.energy(repaired)
    for neighbour in single_and_pair_moves(cqm, repaired):
        if cqm.check_feasible(neighbour):
            assert cqm.objective.energy(neighbour) >= energy - 1e-9, neighbour


def test_a_customer_moves_to_a_cheaper_open_facility_by_a_pair_of_moves():
    """Facility 1 is open (at no cost) and unused; each single move of an ``x`` breaks ``served``
    or ``open``: moving a customer from facility 0 to 1 needs two moves."""
    x = {(f, c): dimod.Binary(f"x{f}{c}") for f in range(2) for c in range(2)}
    y = [dimod.Binary(f"y{f}") for f in range(2)]
    cqm = dimod.ConstrainedQuadraticModel()
    cqm.set_objective(5 * y[0] + 0 * y[1] + 4 * x[0, 0] + 4 * x[0, 1] + 1 * x[1, 0] + 1 * x[1, 1])
    for c in range(2):
        cqm.add_constraint(x[0, c] + x[1, c] == 1, label=f"served{c}")
        for f in range(2):
            cqm.add_constraint(x[f, c] - y[f] <= 0, label=f"open{f}{c}")
    start = {"y0": 1, "y1": 1, "x00": 1, "x01": 1, "x10": 0, "x11": 0}
    repaired = CompiledCQM(cqm).repair(start)
    assert cqm.check_feasible(repaired)
    assert repaired == {"y0": 0, "y1": 1, "x00": 0, "x01": 0, "x10": 1, "x11": 1}  # then y0 closes alone


def test_kicks_open_a_facility_that_no_single_or_pair_move_would():
    """Opening facility 1 costs 3 and each of the three customers saves 2 by moving there: no
    single or pair move from 'facility 0 serves everyone' pays, the kick and its descent do."""
    customers = range(3)
    x = {(f, c): dimod.Binary(f"x{f}{c}") for f in range(2) for c in customers}
    y = [dimod.Binary(f"y{f}") for f in range(2)]
    cqm = dimod.ConstrainedQuadraticModel()
    cqm.set_objective(3 * y[0] + 3 * y[1] + sum(5 * x[0, c] + 3 * x[1, c] for c in customers))
    for c in customers:
        cqm.add_constraint(x[0, c] + x[1, c] == 1, label=f"served{c}")
        for f in range(2):
            cqm.add_constraint(x[f, c] - y[f] <= 0, label=f"open{f}{c}")
    compiled = CompiledCQM(cqm)
    start = compiled.to_array({"y0": 1, "y1": 0, "x00": 1, "x01": 1, "x02": 1, "x10": 0, "x11": 0, "x12": 0})
    assert compiled.objective(compiled.repair_array(start))[0] == 18  # a local optimum of single and pair moves
    improved = compiled.improve_array(start)
    assert compiled.feasible(improved)[0] and compiled.objective(improved)[0] == 12  # all moved to 1, then 0 closed
    assert compiled.to_sample(improved)["y0"] == 0


def test_repair_closes_a_facility_by_a_kick_when_too_many_are_open():
    """p = 2 of 3 facilities, all open, each serving one customer: closing one adds as much
    violation as it removes, and its customer must then move (a pair); single moves alone stall."""
    x = {(f, c): dimod.Binary(f"x{f}{c}") for f in range(3) for c in range(3)}
    y = [dimod.Binary(f"y{f}") for f in range(3)]
    cqm = dimod.ConstrainedQuadraticModel()
    cqm.set_objective(sum((1 + abs(f - c)) * x[f, c] for f in range(3) for c in range(3)))
    cqm.add_constraint(sum(y) == 2, label="p")
    for c in range(3):
        cqm.add_constraint(sum(x[f, c] for f in range(3)) == 1, label=f"served{c}")
        for f in range(3):
            cqm.add_constraint(x[f, c] - y[f] <= 0, label=f"open{f}{c}")
    start = {**{f"y{f}": 1 for f in range(3)}, **{f"x{f}{c}": int(f == c) for f in range(3) for c in range(3)}}
    compiled = CompiledCQM(cqm)
    repaired = compiled.repair(start)
    assert cqm.check_feasible(repaired)
    assert cqm.objective.energy(repaired) == 4  # the optimum: two open, one customer one step away
