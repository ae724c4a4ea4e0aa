"""Greedy repair and descent for samples of a CQM with linear constraints.

A penalty model's samples can sit just outside the feasible region: a tight inequality's slack
variables make every single-variable move break an equality, so samplers that end in a local
descent (PI-GNN's polish, tabu) get stuck there. This works on the CQM's own variables instead,
where no slack exists. One move changes one variable by ±1 within its bounds (a flip for a
binary).

1. Repair: while some constraint is violated, make the move that lowers the total violation
   :math:`\\sum_c \\mathrm{dist}(a_c^\\top x, [l_c, u_c])` most, ties to the smaller objective;
   stop when no move lowers it.
2. Descent: while some move keeps every constraint satisfied and lowers the objective, make the
   one that lowers it most.

All moves of a step are scored at once with the dense constraint matrix, so it suits the small
and medium models a Pyomo user writes (up to :data:`MAX_DENSE_ENTRIES` matrix entries).

Example:
    >>> import dimod
    >>> from gnnsolve.search.cqm_repair import CompiledCQM
    >>> x = [dimod.Binary(f"x{i}") for i in range(3)]
    >>> cqm = dimod.ConstrainedQuadraticModel()
    >>> cqm.set_objective(-3 * x[0] - 2 * x[1] - 2 * x[2])
    >>> _ = cqm.add_constraint(2 * x[0] + x[1] + x[2] <= 2, label="weight")
    >>> compiled = CompiledCQM(cqm)
    >>> compiled.repair({"x0": 1, "x1": 1, "x2": 1})
    {'x0': 0, 'x1': 1, 'x2': 1}
"""

from __future__ import annotations

from typing import Hashable, Mapping

import dimod
import numpy as np

__all__ = ["CompiledCQM", "MAX_DENSE_ENTRIES"]

MAX_DENSE_ENTRIES = 5_000_000
"""Largest constraints × variables (and variables²) handled; :meth:`CompiledCQM.supported` says."""

_TOLERANCE = 1e-9


class CompiledCQM:
    """A CQM with linear constraints in dense index form, for :meth:`repair`.

    Raises:
        ValueError: a constraint is quadratic, or a variable is REAL (no ±1 moves).
    """

    def __init__(self, cqm: dimod.ConstrainedQuadraticModel) -> None:
        self.variables = list(cqm.variables)
        index = {v: i for i, v in enumerate(self.variables)}
        n, m = len(self.variables), len(cqm.constraints)
        self.supported = n * max(m, n) <= MAX_DENSE_ENTRIES
        self.lower = np.array([cqm.lower_bound(v) for v in self.variables], dtype=float)
        self.upper = np.array([cqm.upper_bound(v) for v in self.variables], dtype=float)
        if any(cqm.vartype(v) is dimod.REAL for v in self.variables):
            raise ValueError("REAL variables have no ±1 moves; repair takes BINARY and INTEGER variables")
        if not self.supported:
            return
        self.linear = np.zeros(n)
        self.quadratic = np.zeros((n, n))
        for v, bias in cqm.objective.linear.items():
            self.linear[index[v]] += bias
        for u, v, bias in cqm.objective.iter_quadratic():
            self.quadratic[index[u], index[v]] += bias / 2
            self.quadratic[index[v], index[u]] += bias / 2
        self.matrix = np.zeros((m, n))
        self.row_lower = np.full(m, -np.inf)
        self.row_upper = np.full(m, np.inf)
        for row, constraint in enumerate(cqm.constraints.values()):
            if not constraint.lhs.is_linear():
                raise ValueError("repair takes linear constraints only")
            for v, bias in constraint.lhs.linear.items():
                self.matrix[row, index[v]] += bias
            rhs = float(constraint.rhs) - float(constraint.lhs.offset)
            if constraint.sense is not dimod.sampleset.Sense.Ge:
                self.row_upper[row] = rhs
            if constraint.sense is not dimod.sampleset.Sense.Le:
                self.row_lower[row] = rhs

    def repair(self, sample: Mapping[Hashable, float], max_moves: int | None = None) -> dict[Hashable, float]:
        """Repair ``sample`` towards feasibility, then descend while staying feasible.

        Args:
            sample: values for every variable of the CQM.
            max_moves: the most moves in all; default ``10 × (number of variables)``.

        Returns:
            The new sample (the same values when the model is too large to handle densely).
        """
        if not self.supported:
            return dict(sample)
        x = np.array([float(sample[v]) for v in self.variables])
        budget = 10 * len(x) if max_moves is None else max_moves
        activity = self.matrix @ x
        for _ in range(budget):
            move = self._best_move(x, activity)
            if move is None:
                break
            variable, step = move
            x[variable] += step
            activity += step * self.matrix[:, variable]
        return {v: (int(round(value)) if value.is_integer() else value) for v, value in zip(self.variables, x.tolist())}

    def _best_move(self, x: np.ndarray, activity: np.ndarray) -> tuple[int, float] | None:
        """The next repair move while infeasible, else the next feasible descent move."""
        current = self._violation(activity[:, None])[0]
        gradient = self.linear + 2 * self.quadratic @ x
        best: tuple[tuple[float, float], int, float] | None = None
        for step in (1.0, -1.0):
            allowed = (x + step <= self.upper + _TOLERANCE) & (x + step >= self.lower - _TOLERANCE)
            if not allowed.any():
                continue
            violation = self._violation(activity[:, None] + step * self.matrix)
            change = step * gradient + np.diag(self.quadratic)
            if current > _TOLERANCE:
                useful = allowed & (violation < current - _TOLERANCE)
                keys = np.where(useful, violation, np.inf), np.where(useful, change, np.inf)
            else:
                useful = allowed & (violation <= _TOLERANCE) & (change < -_TOLERANCE)
                keys = np.where(useful, 0.0, np.inf), np.where(useful, change, np.inf)
            if not useful.any():
                continue
            candidate = int(np.lexsort((keys[1], keys[0]))[0])
            key = (float(keys[0][candidate]), float(keys[1][candidate]))
            if best is None or key < best[0]:
                best = (key, candidate, step)
        return None if best is None else (best[1], best[2])

    def _violation(self, activities: np.ndarray) -> np.ndarray:
        """Total distance of each column of row activities to the rows' ranges."""
        below = np.clip(self.row_lower[:, None] - activities, 0, None)
        above = np.clip(activities - self.row_upper[:, None], 0, None)
        return (below + above).sum(axis=0)
