"""Greedy repair and descent for samples of a CQM with linear constraints.

A penalty model's samples can sit just outside the feasible region: a tight inequality's slack
variables make every single-variable move break an equality, so samplers that end in a local
descent (PI-GNN's polish, tabu) get stuck there. This works on the CQM's own variables instead,
where no slack exists. One move changes one variable by ±1 within its bounds (a flip for a
binary).

1. Repair: while some constraint is violated, make the move that lowers the total violation
   :math:`\\sum_c \\mathrm{dist}(a_c^\\top x, [l_c, u_c])` most, ties to the smaller objective;
   where none does, the pair of moves that does, and where none does either, a kick (below) on
   the violation; stop when nothing lowers it.
2. Descent: while some move keeps every constraint satisfied and lowers the objective, make the
   one that lowers it most; where none does, make the pair of moves that does (the first breaks
   some constraints, the second moves a variable of each of them and mends them: a customer
   moved to another facility, a one-hot choice changed, one item swapped for another under a
   capacity), then go on with single moves.
3. Kicks (:meth:`CompiledCQM.improve_array`, for the best answer): a move that keeps the sample
   feasible without lowering the objective, then the descent; kept where the descent ends lower.

The constraint matrix and the objective's quadratic part are kept sparse, and the row
activities, the objective's gradient and each move's change of violation are updated move by
move for the variables that share a constraint with the one moved, so a move costs a few
passes over the variables plus the entries of those constraints, not the whole matrix. A
``time_limit`` stops the moves and returns the state reached so far, which is never further
from feasibility than the start.

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
    >>> compiled.violation(compiled.to_array({"x0": 1, "x1": 1, "x2": 1}))
    array([2.])
"""

from __future__ import annotations

import copy
import math
import time
from typing import Hashable, Mapping

import dimod
import numpy as np
from scipy import sparse

__all__ = ["CompiledCQM", "FEASIBILITY_TOLERANCE"]

FEASIBILITY_TOLERANCE = 1e-6
"""Total violation up to which a sample counts as feasible (dimod's ``check_feasible`` default)."""

_TOLERANCE = 1e-9


class CompiledCQM:
    """A CQM with linear constraints in sparse index form: repair, violations and objectives of samples.

    Samples as arrays hold one value per variable in :attr:`variables` order (one row per
    sample for the vectorised methods).

    Args:
        cqm: linear constraints; BINARY and INTEGER variables.
        time_limit: seconds for compiling, checked between constraints (``None``: no limit).

    Raises:
        ValueError: a constraint is quadratic, or a variable is REAL (no ±1 moves).
        TimeoutError: ``time_limit`` ran out before every constraint was compiled.
    """

    def __init__(self, cqm: dimod.ConstrainedQuadraticModel, time_limit: float | None = None) -> None:
        deadline = time.perf_counter() + (math.inf if time_limit is None else time_limit)
        self.variables = list(cqm.variables)
        index = {v: i for i, v in enumerate(self.variables)}
        n, m = len(self.variables), len(cqm.constraints)
        if any(cqm.vartype(v) is dimod.REAL for v in self.variables):
            raise ValueError("REAL variables have no ±1 moves; repair takes BINARY and INTEGER variables")
        self.lower = np.array([cqm.lower_bound(v) for v in self.variables], dtype=float)
        self.upper = np.array([cqm.upper_bound(v) for v in self.variables], dtype=float)
        self.offset = float(cqm.objective.offset)
        self.linear = np.zeros(n)
        for v, bias in cqm.objective.linear.items():
            self.linear[index[v]] += bias
        pairs = [(index[u], index[v], bias / 2) for u, v, bias in cqm.objective.iter_quadratic()]
        rows, cols, values = (np.array(column) for column in zip(*pairs)) if pairs else (np.zeros(0),) * 3
        rows, cols = rows.astype(int), cols.astype(int)
        quadratic = sparse.csc_matrix(
            (np.concatenate([values, values]), (np.concatenate([rows, cols]), np.concatenate([cols, rows]))), shape=(n, n)
        )
        self._quadratic = quadratic
        self._quadratic_diagonal = quadratic.diagonal()
        if time.perf_counter() >= deadline:
            raise TimeoutError("the time limit ran out after compiling the objective, before the constraints")
        entries: list[tuple[int, int, float]] = []
        self.row_lower = np.full(m, -np.inf)
        self.row_upper = np.full(m, np.inf)
        for row, constraint in enumerate(cqm.constraints.values()):
            if time.perf_counter() >= deadline:
                raise TimeoutError(f"the time limit ran out after compiling {row} of {m} constraints")
            if not constraint.lhs.is_linear():
                raise ValueError("repair takes linear constraints only")
            entries.extend((row, index[v], bias) for v, bias in constraint.lhs.linear.items())
            rhs = float(constraint.rhs) - float(constraint.lhs.offset)
            if constraint.sense is not dimod.sampleset.Sense.Ge:
                self.row_upper[row] = rhs
            if constraint.sense is not dimod.sampleset.Sense.Le:
                self.row_lower[row] = rhs
        rows, cols, values = (np.array(column) for column in zip(*entries)) if entries else (np.zeros(0),) * 3
        self._matrix = sparse.csc_matrix((values, (rows.astype(int), cols.astype(int))), shape=(m, n))
        self._matrix.sum_duplicates()
        self._column_lengths = np.diff(self._matrix.indptr)
        self._by_row = self._matrix.tocsr()

    def largest_swing(self) -> float:
        """The objective's largest change when one variable alone moves across its whole range:
        per variable, its range times the sum of its linear bias's and its interactions' magnitudes
        (0 for a model without variables)."""
        magnitude = abs(self._quadratic)
        coupled = 2 * np.asarray(magnitude.sum(axis=1)).ravel() - np.abs(self._quadratic_diagonal)
        return float(np.max((np.abs(self.linear) + coupled) * (self.upper - self.lower), initial=0.0))

    def to_array(self, sample: Mapping[Hashable, float]) -> np.ndarray:
        """``sample`` as a vector in :attr:`variables` order."""
        return np.array([float(sample[v]) for v in self.variables])

    def to_sample(self, x: np.ndarray) -> dict[Hashable, float]:
        """A vector in :attr:`variables` order as a sample (integral values as ints)."""
        return {v: (int(round(value)) if value.is_integer() else value) for v, value in zip(self.variables, x.tolist())}

    def violation(self, x: np.ndarray) -> np.ndarray:
        """Total violation of each row of ``x`` (one sample per row, or one vector)."""
        activities = np.atleast_2d(x) @ self._matrix.T
        return _distance(np.asarray(activities), self.row_lower, self.row_upper).sum(axis=1)

    def feasible(self, x: np.ndarray) -> np.ndarray:
        """Whether each row of ``x`` satisfies every constraint (within :data:`FEASIBILITY_TOLERANCE`)."""
        return self.violation(x) <= FEASIBILITY_TOLERANCE

    def objective(self, x: np.ndarray) -> np.ndarray:
        """The objective of each row of ``x``, offset included."""
        samples = np.atleast_2d(x)
        quadratic = np.einsum("ij,ij->i", samples, np.asarray((self._quadratic @ samples.T).T))
        return self.offset + samples @ self.linear + quadratic

    def repair(
        self, sample: Mapping[Hashable, float], max_moves: int | None = None, time_limit: float | None = None
    ) -> dict[Hashable, float]:
        """Repair ``sample`` towards feasibility, then descend while staying feasible.

        Args:
            sample: values for every variable of the CQM.
            max_moves: the most moves in all; default ``10 × (number of variables)``.
            time_limit: seconds; the moves stop when they are spent (``None``: no limit).

        Returns:
            The new sample.
        """
        return self.to_sample(self.repair_array(self.to_array(sample), max_moves, time_limit))

    def repair_array(self, x: np.ndarray, max_moves: int | None = None, time_limit: float | None = None) -> np.ndarray:
        """:meth:`repair` on a vector in :attr:`variables` order; returns a new vector.

        Where single and pair moves cannot lower the violation, kicks are tried as in
        :meth:`improve_array`, on the violation: a move that does not lower it (closing a
        facility that serves one customer when too many are open), then the descent.
        """
        deadline = time.perf_counter() + (math.inf if time_limit is None else time_limit)
        state = _State(self, x)
        budget = 10 * len(state.x) if max_moves is None else max_moves
        self._descend(state, deadline, budget)
        return self._kick_while_paying(state, deadline, budget, feasible=False).x

    def improve_array(self, x: np.ndarray, time_limit: float | None = None) -> np.ndarray:
        """A vector repaired, then improved by kicks while feasible: each move that keeps it
        feasible but does not lower the objective (opening a facility, adding a set to a cover,
        dropping an item), least costly first, followed by the descent of :meth:`repair_array`
        with the kicked variable held where the kick put it; the first kick whose descent ends
        lower is kept, and the kicks start again from there, until none pays or the time is spent.
        """
        deadline = time.perf_counter() + (math.inf if time_limit is None else time_limit)
        state = _State(self, x)
        budget = 10 * len(state.x)
        self._descend(state, deadline, budget)
        state = self._kick_while_paying(state, deadline, budget, feasible=False)
        return self._kick_while_paying(state, deadline, budget, feasible=True).x

    def _kick_while_paying(self, state: "_State", deadline: float, budget: int, feasible: bool) -> "_State":
        """Kicks while one pays: on the objective of a feasible ``state`` where ``feasible``, else
        on the violation of an infeasible one (a state of the other kind is returned as it is)."""
        while (state.distance.sum() <= _TOLERANCE) == feasible and time.perf_counter() < deadline:
            better = self._kicked(state, deadline, budget)
            if better is None:
                break
            state = better
        return state

    def _descend(self, state: "_State", deadline: float, budget: int) -> None:
        """Single moves, then pairs of moves, lowering the violation while there is one and the
        objective after, up to ``budget`` moves."""
        moves = 0
        while moves < budget and time.perf_counter() < deadline:
            move = self._best_move(float(state.distance.sum()), state.deltas, state.changes, state.allowed)
            if move is not None:
                state.apply(*move)
                moves += 1
                continue
            if moves + 2 > budget:
                return
            pair = self._improving_pair(state, deadline)
            if pair is None:
                return
            for variable, step in pair:
                state.apply(variable, step)
            moves += 2

    def _kicked(self, state: "_State", deadline: float, budget: int) -> "_State | None":
        """The first kick of ``state`` whose descent ends better, or ``None``.

        For a feasible state a kick keeps it feasible, least objective cost first, and pays where
        the objective ends lower; for an infeasible one a kick is any move, least added violation
        first, and pays where the violation ends lower.
        """
        current = float(state.distance.sum())
        feasible = current <= _TOLERANCE
        kicks = []
        for step in _STEPS:
            movable = state.allowed[step] & (state.deltas[step] <= _TOLERANCE) if feasible else state.allowed[step]
            for candidate in np.flatnonzero(movable):
                cost = state.changes[step][candidate] if feasible else state.deltas[step][candidate]
                kicks.append((float(cost), float(state.changes[step][candidate]), int(candidate), step))
        for *_, variable, step in sorted(kicks):
            if time.perf_counter() >= deadline:
                return None
            trial = state.copy()
            trial.apply(variable, step)
            trial.allowed[-step][variable] = False  # the descent may not simply undo the kick
            self._descend(trial, deadline, budget)
            trial.allowed[-step][variable] = self._allowed(trial.x[variable : variable + 1], -step, variable)[0]
            violation = float(trial.distance.sum())
            if feasible and violation <= _TOLERANCE and trial.value < state.value - _TOLERANCE * max(1.0, abs(state.value)):
                return trial
            if not feasible and violation < current - _TOLERANCE:
                return trial
        return None

    def _improving_pair(self, state: "_State", deadline: float) -> tuple[tuple[int, float], tuple[int, float]] | None:
        """The best pair of moves where no single move helps, if any: one that lowers the violation
        most (then the objective) while the state is infeasible, one that keeps a feasible state
        feasible and lowers the objective most otherwise.

        The first move makes some constraints worse and the second, a move of a variable in every
        one of them, mends them (a customer moved from one facility to another, a one-hot choice
        changed, an item swapped for another under a capacity). Ties go to the lowest indices.
        """
        current = float(state.distance.sum())
        feasible = current <= _TOLERANCE
        best: tuple[tuple[float, float], tuple[int, float], tuple[int, float]] | None = None
        for first_step in _STEPS:
            movable = (
                state.allowed[first_step] & (state.deltas[first_step] > _TOLERANCE) if feasible else state.allowed[first_step]
            )
            for first in np.flatnonzero(movable):
                if time.perf_counter() >= deadline:
                    return None if best is None else (best[1], best[2])
                rows, values = _column(self._matrix, int(first))
                activity = state.activity[rows] + first_step * values
                moved = _distance(activity, self.row_lower[rows], self.row_upper[rows])
                partners = self._shared_columns(rows[moved > state.distance[rows] + _TOLERANCE], int(first))
                if len(partners) == 0:
                    continue
                saved_activity, saved_distance = state.activity[rows].copy(), state.distance[rows].copy()
                state.activity[rows], state.distance[rows] = activity, moved
                neighbours, couplings = _column(self._quadratic, int(first))
                coupling = np.zeros(len(state.x))
                coupling[neighbours] = couplings
                for second_step in _STEPS:
                    violation = state.distance.sum() + self._violation_deltas(
                        state.activity, state.distance, second_step, partners
                    )
                    change = (
                        state.changes[first_step][first]
                        + state.changes[second_step][partners]
                        + 2 * first_step * second_step * coupling[partners]
                    )
                    allowed = state.allowed[second_step][partners]
                    if feasible:
                        good, key = allowed & (violation <= _TOLERANCE) & (change < -_TOLERANCE), np.zeros(len(partners))
                    else:
                        good, key = allowed & (violation < current - _TOLERANCE), violation
                    if good.any():
                        k = int(np.lexsort((np.where(good, change, np.inf), np.where(good, key, np.inf)))[0])
                        score = (float(key[k]), float(change[k]))
                        if best is None or score < best[0]:
                            best = (score, (int(first), first_step), (int(partners[k]), second_step))
                state.activity[rows], state.distance[rows] = saved_activity, saved_distance
        return None if best is None else (best[1], best[2])

    def _shared_columns(self, rows: np.ndarray, exclude: int) -> np.ndarray:
        """The variables that appear in every one of ``rows`` (none if ``rows`` is empty), ``exclude`` left out."""
        if len(rows) == 0:
            return np.zeros(0, dtype=int)
        columns, counts = np.unique(self._by_row.indices[_entries(self._by_row, rows)], return_counts=True)
        shared = columns[counts == len(rows)]
        return shared[shared != exclude]

    def _allowed(self, x: np.ndarray, step: float, start: int = 0) -> np.ndarray:
        """Whether ``x`` (the variables from ``start`` on) may move by ``step`` within their bounds."""
        end = start + len(x)
        return (x + step <= self.upper[start:end] + _TOLERANCE) & (x + step >= self.lower[start:end] - _TOLERANCE)

    def _violation_deltas(self, activity: np.ndarray, distance: np.ndarray, step: float, columns: np.ndarray) -> np.ndarray:
        """How much moving each of ``columns`` by ``step`` changes the total violation."""
        matrix = self._matrix
        entries = _entries(matrix, columns)
        rows = matrix.indices[entries]
        moved = _distance(activity[rows] + step * matrix.data[entries], self.row_lower[rows], self.row_upper[rows])
        owners = np.repeat(np.arange(len(columns)), self._column_lengths[columns])
        return np.bincount(owners, moved - distance[rows], minlength=len(columns))

    @staticmethod
    def _best_move(
        current: float, deltas: dict[float, np.ndarray], changes: dict[float, np.ndarray], allowed: dict[float, np.ndarray]
    ) -> tuple[int, float] | None:
        """The next repair move while infeasible, else the next feasible descent move (ties: lowest index, then +1)."""
        best: tuple[tuple[float, float], int, float] | None = None
        for step, delta in deltas.items():
            violation, change = current + delta, changes[step]
            if current > _TOLERANCE:
                useful = allowed[step] & (violation < current - _TOLERANCE)
                first = np.where(useful, violation, np.inf)
            else:
                useful = allowed[step] & (violation <= _TOLERANCE) & (change < -_TOLERANCE)
                first = np.where(useful, 0.0, np.inf)
            lowest = first.min()
            if lowest == np.inf:
                continue
            candidate = int(np.argmin(np.where(first == lowest, change, np.inf)))
            key = (float(lowest), float(change[candidate]))
            if best is None or key < best[0]:
                best = (key, candidate, step)
        return None if best is None else (best[1], best[2])


_STEPS = (1.0, -1.0)


class _State:
    """A sample under repair: its values, the constraints' activities and distances to their
    ranges, the objective's gradient, and for each step (+1, -1) every variable's change of total
    violation and of objective and whether the step stays within its bounds."""

    def __init__(self, compiled: CompiledCQM, x: np.ndarray) -> None:
        self.compiled = compiled
        self.x = np.array(x, dtype=float)
        self.activity = np.asarray(compiled._matrix @ self.x).ravel()
        self.distance = _distance(self.activity, compiled.row_lower, compiled.row_upper)
        self.gradient = compiled.linear + 2 * np.asarray(compiled._quadratic @ self.x).ravel()
        everything = np.arange(len(self.x))
        self.deltas = {step: compiled._violation_deltas(self.activity, self.distance, step, everything) for step in _STEPS}
        self.changes = {step: step * self.gradient + compiled._quadratic_diagonal for step in _STEPS}
        self.allowed = {step: compiled._allowed(self.x, step) for step in _STEPS}
        self.value = float(compiled.objective(self.x)[0])

    def copy(self) -> "_State":
        twin = copy.copy(self)
        for name in ("x", "activity", "distance", "gradient"):
            setattr(twin, name, getattr(self, name).copy())
        for name in ("deltas", "changes", "allowed"):
            setattr(twin, name, {step: values.copy() for step, values in getattr(self, name).items()})
        return twin

    def apply(self, variable: int, step: float) -> None:
        """Move ``variable`` by ``step`` and update what depends on it."""
        compiled = self.compiled
        self.value += float(self.changes[step][variable])
        self.x[variable] += step
        rows, values = _column(compiled._matrix, variable)
        self.activity[rows] += step * values
        self.distance[rows] = _distance(self.activity[rows], compiled.row_lower[rows], compiled.row_upper[rows])
        neighbours, values = _column(compiled._quadratic, variable)
        self.gradient[neighbours] += 2 * step * values
        touched = np.unique(compiled._by_row.indices[_entries(compiled._by_row, rows)])
        for sign in _STEPS:
            self.deltas[sign][touched] = compiled._violation_deltas(self.activity, self.distance, sign, touched)
            self.changes[sign][neighbours] = sign * self.gradient[neighbours] + compiled._quadratic_diagonal[neighbours]
            self.allowed[sign][variable] = compiled._allowed(self.x[variable : variable + 1], sign, variable)[0]


def _column(matrix: sparse.csc_matrix, j: int) -> tuple[np.ndarray, np.ndarray]:
    start, end = matrix.indptr[j], matrix.indptr[j + 1]
    return matrix.indices[start:end], matrix.data[start:end]


def _entries(matrix: sparse.csc_matrix | sparse.csr_matrix, lines: np.ndarray) -> np.ndarray:
    """Positions of the stored entries of ``lines`` (columns of a CSC, rows of a CSR matrix), in order."""
    starts = matrix.indptr[lines]
    lengths = matrix.indptr[lines + 1] - starts
    return np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(lengths.sum())


def _distance(activity: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Distance of each activity to its row's range ``[lower, upper]``."""
    return np.clip(lower - activity, 0, None) + np.clip(activity - upper, 0, None)
