"""A constrained quadratic model as a BQM: its objective plus a penalty times its squared residuals.

:class:`PenaltyModel` states a CQM over BINARY, SPIN and bounded INTEGER variables with linear
constraints as a BINARY quadratic model once, for any penalty: the CQM's binaries keep their
labels, an integer becomes its bits (dimod's ``binary_encoding``), an inequality gets dimod's
slack expansion (``add_linear_inequality_constraint``), and :meth:`PenaltyModel.bqm` scales the
penalties for one penalty value. :func:`auto_penalty` sizes the penalty from the objective.
What differs from :func:`dimod.cqm_to_bqm`: the form is built once and rescaled for every
penalty tried (a copy, not a rebuild), integral range pairs share one slack (see the class), and
building checks a clock, so a time limit bounds it.

Example:
    >>> import dimod
    >>> from gnnsolve.penalty_model import PenaltyModel, auto_penalty
    >>> x = [dimod.Binary(f"x{i}") for i in range(3)]
    >>> cqm = dimod.ConstrainedQuadraticModel()
    >>> cqm.set_objective(-3 * x[0] - 2 * x[1] - 2 * x[2])
    >>> _ = cqm.add_constraint(2 * x[0] + x[1] + x[2] <= 2, label="weight")
    >>> form = PenaltyModel(cqm)
    >>> ground = dimod.ExactSolver().sample(form.bqm(auto_penalty(cqm))).first
    >>> form.invert(ground.sample), float(ground.energy)
    ({'x0': 0, 'x1': 1, 'x2': 1}, -4.0)
"""

from __future__ import annotations

import math
import time
import warnings
from typing import Any, Hashable, Mapping

import dimod
import numpy as np
from scipy import sparse

from gnnsolve.errors import InfeasibleModelError, InvalidModelError, ModelTooLargeError, UnsupportedModelError
from gnnsolve.search.cqm_repair import CompiledCQM

__all__ = ["PenaltyModel", "auto_penalty", "MAX_PENALTY_INTERACTIONS", "TERMS_PER_CHECK"]

TERMS_PER_CHECK = 10_000
"""How many terms a long translation handles between looks at its clock (about 50 ms)."""


def auto_penalty(cqm: dimod.ConstrainedQuadraticModel, compiled: CompiledCQM | None = None) -> float:
    """A penalty larger than any change one variable can make to the objective.

    For each variable, the objective's largest swing when that variable alone moves across its
    range (its linear bias plus the absolute biases it shares, times its range); the penalty is
    the largest swing, at least 1. A sample that breaks a constraint by one unit then pays more
    than any single move could gain — callers (:class:`~gnnsolve.samplers.penalty.PenaltyComposite`) raise it if samples still come back
    infeasible. ``compiled``, the CQM's :class:`~gnnsolve.search.cqm_repair.CompiledCQM` where
    the caller has one, saves compiling it again.

    Raises:
        ValueError: a quadratic constraint or a REAL variable (see ``CompiledCQM``).

    Example:
        >>> import dimod
        >>> from gnnsolve.penalty_model import auto_penalty
        >>> cqm = dimod.ConstrainedQuadraticModel()
        >>> x, y = dimod.Binary("x"), dimod.Binary("y")
        >>> cqm.set_objective(-3 * x + 2 * x * y - y)
        >>> auto_penalty(cqm)
        5.0
    """
    return max(1.0, (compiled if compiled is not None else CompiledCQM(cqm)).largest_swing())


MAX_PENALTY_INTERACTIONS = 5_000_000
"""Most interactions :class:`PenaltyModel`'s penalties may have (about 0.4 GB and 2 s to build; a
constraint over :math:`k` binaries alone couples :math:`k^2/2` pairs: a knapsack of about 3,000 items)."""


class PenaltyModel:
    """A CQM's BQM as ``objective + penalty × penalties``, built once, for any penalty.

    The BINARY variables are the CQM's binaries (same labels), the bits of its integers (an
    integer in ``[l, u]`` is ``l`` plus dimod's ``binary_encoding`` of ``u - l``: the integer
    itself when ``u - l == 1``, nothing when ``u == l``) and one slack expansion per inequality
    (``slack_<constraint>_<j>``). ``penalties`` holds every constraint's squared residual: an
    equality's :math:`(a^\\top x - b)^2`, an inequality's :math:`(a^\\top x + s - b)^2` with its
    slack :math:`s`; an integral range pair ``c[lower]``, ``c[upper]`` (as :func:`to_cqm`
    writes ``l <= e <= u``) takes one slack in ``[0, u - l]``, since two penalised inequalities
    need two slacks that pull against each other, so a sample one unit above ``u`` could only
    become feasible by moving two variables at once, a trap for local samplers. A feasible
    sample with zero slack residual has energy equal to the CQM's objective, offset included.

    Building checks its clock between constraints, so a ``time_limit`` bounds it; :meth:`bqm` for
    another penalty costs a copy and a scaling, not a rebuild.

    Args:
        cqm: linear constraints; BINARY, SPIN and INTEGER variables.
        time_limit: seconds for building (``None``: no limit).

    Raises:
        ModelTooLargeError: the penalties would have more than :data:`MAX_PENALTY_INTERACTIONS`
            interactions (the largest constraint is named).
        UnsupportedModelError: a quadratic constraint or a REAL variable.
        InvalidModelError: a variable's label clashes with a slack's.
        InfeasibleModelError: an inequality no values within its variables' bounds satisfy.
        TimeoutError: ``time_limit`` ran out before every constraint was stated.

    Example:
        >>> import dimod
        >>> from gnnsolve.penalty_model import PenaltyModel
        >>> x, n = dimod.Binary("x"), dimod.Integer("n", lower_bound=1, upper_bound=4)
        >>> cqm = dimod.ConstrainedQuadraticModel()
        >>> cqm.set_objective(-2 * x - n)
        >>> _ = cqm.add_constraint(x + n <= 3, label="cap")
        >>> form = PenaltyModel(cqm)
        >>> ground = dimod.ExactSolver().sample(form.bqm(10.0)).first
        >>> form.invert(ground.sample), float(ground.energy)
        ({'x': 1, 'n': 2}, -4.0)
    """

    def __init__(self, cqm: dimod.ConstrainedQuadraticModel, time_limit: float | None = None) -> None:
        deadline = time.perf_counter() + (math.inf if time_limit is None else time_limit)
        self.variables = list(cqm.variables)
        self._encoding: dict[Hashable, Encoding] = {}
        for count, v in enumerate(self.variables):
            if count % TERMS_PER_CHECK == 0 and time.perf_counter() >= deadline:
                raise TimeoutError(
                    f"the time limit ran out after encoding {count:,} of {len(self.variables):,} variables in bits"
                )
            self._encoding[v] = _encode(cqm, v)
        self.objective = dimod.BinaryQuadraticModel(dimod.BINARY)
        self.objective.add_variables_from((bit, 0.0) for bits, _ in self._encoding.values() for bit, _ in bits)
        self._add_objective(cqm.objective, deadline)
        groups = _constraint_groups(cqm, self._encoding, deadline)
        self._check_size(groups)
        self.penalties = dimod.BinaryQuadraticModel(dimod.BINARY)
        self.penalties.add_variables_from((v, 0.0) for v in self.objective.variables)
        for position, (name, lhs, lower, upper) in enumerate(groups):
            if time.perf_counter() >= deadline:
                raise TimeoutError(f"the time limit ran out after stating {position} of {len(groups)} constraints as penalties")
            self._add_penalty(name, lhs, lower, upper)

    @property
    def num_variables(self) -> int:
        """Variables of :meth:`bqm`: the CQM's binaries, integer bits and slacks."""
        return self.penalties.num_variables

    @property
    def num_interactions(self) -> int:
        """Interactions of :meth:`bqm`, at most (those of the objective and the penalties, shared ones counted twice)."""
        return self.objective.num_interactions + self.penalties.num_interactions

    def bqm(self, penalty: float) -> dimod.BinaryQuadraticModel:
        """``objective + penalty × penalties`` (copies the larger part once and adds the smaller)."""
        if self.penalties.num_interactions >= self.objective.num_interactions:
            bqm = self.penalties.copy()
            bqm.scale(penalty)
            bqm.update(self.objective)
            return bqm
        bqm, scaled = self.objective.copy(), self.penalties.copy()
        scaled.scale(penalty)
        bqm.update(scaled)
        return bqm

    def invert(self, sample: Mapping[Hashable, int]) -> dict[Hashable, float]:
        """The CQM sample a BQM sample stands for (slacks dropped, integer bits summed)."""
        values = {
            v: shift + sum(coefficient * float(sample[bit]) for bit, coefficient in bits)
            for v, (bits, shift) in self._encoding.items()
        }
        return {v: int(value) if value.is_integer() else value for v, value in values.items()}

    def invert_samples(self, sampleset: dimod.SampleSet) -> np.ndarray:
        """Every row of ``sampleset`` (over the BQM's variables) as CQM values, one row per sample,
        columns in :attr:`variables` order."""
        if sampleset.vartype is dimod.SPIN:
            sampleset = sampleset.change_vartype(dimod.BINARY, inplace=False)
        samples = sampleset.record.sample
        columns, owners, coefficients = [], [], []
        for owner, v in enumerate(self.variables):
            for bit, coefficient in self._encoding[v][0]:
                columns.append(sampleset.variables.index(bit))
                owners.append(owner)
                coefficients.append(coefficient)
        expand = sparse.csr_matrix((coefficients, (np.arange(len(columns)), owners)), shape=(len(columns), len(self.variables)))
        shifts = np.array([self._encoding[v][1] for v in self.variables])
        return shifts + np.asarray(samples[:, columns].astype(float) @ expand)

    def _add_objective(self, objective: Any, deadline: float) -> None:
        """The objective over bits, gathered in plain containers and added to :attr:`objective` in two bulk calls."""
        linear: dict[Hashable, float] = {}
        quadratic: list[tuple[Hashable, Hashable, float]] = []
        offset = objective.offset
        for count, (v, bias) in enumerate(objective.linear.items()):
            if count % TERMS_PER_CHECK == 0 and time.perf_counter() >= deadline:
                raise TimeoutError(f"the time limit ran out after stating {count:,} of the objective's linear terms over bits")
            bits, shift = self._encoding[v]
            offset += bias * shift
            for bit, coefficient in bits:
                linear[bit] = linear.get(bit, 0.0) + bias * coefficient
        for count, (u, v, bias) in enumerate(objective.iter_quadratic()):
            if count % TERMS_PER_CHECK == 0 and time.perf_counter() >= deadline:
                raise TimeoutError(f"the time limit ran out after stating {count:,} of the objective's interactions over bits")
            (bits_u, shift_u), (bits_v, shift_v) = self._encoding[u], self._encoding[v]
            offset += bias * shift_u * shift_v
            for bit, coefficient in bits_u:
                linear[bit] = linear.get(bit, 0.0) + bias * shift_v * coefficient
            for bit, coefficient in bits_v:
                linear[bit] = linear.get(bit, 0.0) + bias * shift_u * coefficient
            for p, c in bits_u:
                for q, d in bits_v:
                    if p == q:
                        linear[p] = linear.get(p, 0.0) + bias * c * d
                    else:
                        quadratic.append((p, q, bias * c * d))
        self.objective.add_linear_from(linear)
        self.objective.add_quadratic_from(quadratic)
        self.objective.offset += offset

    def _check_size(self, groups: list[_Group]) -> None:
        sizes = [len(lhs) for _, lhs, _, _ in groups]
        interactions = sum(k * (k - 1) // 2 for k in sizes)
        if interactions > MAX_PENALTY_INTERACTIONS:
            name, lhs, _, _ = groups[max(range(len(groups)), key=sizes.__getitem__)]
            raise ModelTooLargeError(
                f"the constraints' penalties would have about {interactions:,} interactions (constraint {name} alone couples "
                f"{len(lhs):,} binaries, every pair of them); samplers that take a BQM cannot hold it: "
                "solve with an exact sampler ('highs', 'gurobi'), which takes the constraints as they are"
            )

    def _add_penalty(self, name: Hashable, terms: dict[Hashable, float], lower: float, upper: float) -> None:
        if lower == upper:
            self.penalties.add_linear_equality_constraint(terms.items(), 1.0, -lower)
            return
        lb = lower if math.isfinite(lower) else _INT64.min
        ub = upper if math.isfinite(upper) else _INT64.max
        with warnings.catch_warnings():
            # dimod's notes on a constraint no value breaks (nothing to add) and on fractional
            # coefficients (slacks that state the residual only approximately: every sample is
            # checked on the CQM itself, so neither concerns the caller)
            warnings.filterwarnings("ignore", message="Did not add constraint", category=UserWarning)
            warnings.filterwarnings("ignore", message="For constraints with fractional coefficients", category=UserWarning)
            try:
                # dimod annotates the coefficients and bounds as int but takes floats
                slacks = self.penalties.add_linear_inequality_constraint(list(terms.items()), 1.0, str(name), lb=lb, ub=ub)  # type: ignore[arg-type]
            except ValueError as err:
                if "infeasible" not in str(err):
                    raise
                raise InfeasibleModelError(
                    f"constraint {name} can never hold: no values of its variables within their bounds satisfy it; "
                    "check its sense and right-hand side"
                ) from None
        for slack, _ in slacks:
            if slack in self._encoding:
                raise InvalidModelError(f"variable {slack!r} has the name of constraint {name}'s slack variable; rename it")


_INT64 = np.iinfo(np.int64)

Encoding = tuple[list[tuple[Hashable, float]], float]
"""How :class:`PenaltyModel` states one CQM variable: its ``(bit, coefficient)`` terms and a constant shift."""

_Group = tuple[Hashable, dict[Hashable, float], float, float]
"""One penalised constraint: its name, its terms over bits, and the range they must lie in."""


def _encode(cqm: dimod.ConstrainedQuadraticModel, v: Hashable) -> Encoding:
    vartype = cqm.vartype(v)
    if vartype is dimod.BINARY:
        return [(v, 1.0)], 0.0
    if vartype is dimod.SPIN:
        return [(v, 2.0)], -1.0
    if vartype is dimod.INTEGER:
        lower, width = cqm.lower_bound(v), int(cqm.upper_bound(v) - cqm.lower_bound(v))
        if width <= 1:
            return ([(v, 1.0)] if width == 1 else []), float(lower)
        return list(dimod.generators.binary_encoding(v, width).linear.items()), float(lower)
    raise UnsupportedModelError(f"variable {v!r} is {vartype.name}; a BQM takes binary, spin and bounded integer variables")


def _constraint_groups(
    cqm: dimod.ConstrainedQuadraticModel, encoding: dict[Hashable, Encoding], deadline: float = math.inf
) -> list[_Group]:
    """Every constraint as terms over bits and a range (constants moved into it); integral range pairs merged."""
    stated: dict[Hashable, tuple[dict[Hashable, float], float, float]] = {}
    for label, constraint in cqm.constraints.items():
        if time.perf_counter() >= deadline:
            raise TimeoutError(f"the time limit ran out after reading {len(stated)} of {len(cqm.constraints)} constraints")
        if not constraint.lhs.is_linear():
            raise UnsupportedModelError(f"constraint {label} is quadratic; a BQM's penalties take linear constraints")
        terms, constant = _expand(constraint.lhs, encoding)
        rhs = float(constraint.rhs) - constant
        lower = -math.inf if constraint.sense is dimod.sampleset.Sense.Le else rhs
        upper = math.inf if constraint.sense is dimod.sampleset.Sense.Ge else rhs
        stated[label] = (terms, lower, upper)
    ranges: dict[str, tuple[float, float]] = {}
    for label, (terms, lower, _) in stated.items():
        if isinstance(label, str) and label.endswith("[lower]"):
            name = label.removesuffix("[lower]")
            pair = stated.get(f"{name}[upper]")
            if pair is not None and pair[0] == terms and _integral(terms, lower, pair[2]):
                ranges[name] = (lower, pair[2])
    groups: list[_Group] = []
    for label, (terms, lower, upper) in stated.items():
        name, _, side = label.rpartition("[") if isinstance(label, str) else ("", "", "")
        if name in ranges and side == "lower]":
            groups.append((name, terms, *ranges[name]))
        elif not (name in ranges and side == "upper]"):
            groups.append((label, terms, lower, upper))
    return groups


def _expand(lhs: Any, encoding: dict[Hashable, Encoding]) -> tuple[dict[Hashable, float], float]:
    """A linear expression over CQM variables as terms over bits, and its constant."""
    terms: dict[Hashable, float] = {}
    constant = float(lhs.offset)
    for v, bias in lhs.linear.items():
        bits, shift = encoding[v]
        constant += bias * shift
        for bit, coefficient in bits:
            terms[bit] = terms.get(bit, 0.0) + bias * coefficient
    return terms, constant


def _integral(terms: dict[Hashable, float], lower: float, upper: float) -> bool:
    """Whether ``lower <= terms <= upper`` involves integers only."""
    return all(float(number).is_integer() for number in (lower, upper, *terms.values()))
