"""Pyomo models as dimod models, and samples loaded back into Pyomo models.

:func:`to_cqm` states a Pyomo model as a :class:`dimod.ConstrainedQuadraticModel`: binary and
bounded integer variables, one linear or quadratic objective (minimised, or maximised by
negation), linear constraints (``==``, ``<=``, ``>=`` and ranges, a range becoming two
constraints). Indexed components are walked element by element; fixed variables become
constants; deactivated components are skipped; variables that appear in no active component
are left out, and those that appear with a coefficient of 0 are kept (so that they get a value). Variable labels are Pyomo's own names (``x[1]``, ``b.y[2,3]``), so a sample maps
back without ambiguity, and the CQM's objective equals the Pyomo objective for minimisation and
its negation for maximisation, constant included — :func:`objective_value` undoes the sign.

:func:`to_bqm` turns that CQM into a BQM (slack variables for inequalities, binary expansion
of integers: :class:`PenaltyModel`, which builds the penalty form once for any penalty), with
the penalty given or chosen by :func:`auto_penalty`. :func:`load_solution` writes a sample into
the model's variables.

Example:
    >>> import pyomo.environ as pyo
    >>> from gnnsolve.adapters.pyomo import load_solution, objective_value, to_cqm
    >>> m = pyo.ConcreteModel()
    >>> m.x = pyo.Var([1, 2, 3], domain=pyo.Binary)
    >>> m.value = pyo.Objective(expr=3 * m.x[1] + 2 * m.x[2] + 2 * m.x[3], sense=pyo.maximize)
    >>> m.weight = pyo.Constraint(expr=2 * m.x[1] + m.x[2] + m.x[3] <= 2)
    >>> cqm = to_cqm(m)
    >>> sorted(cqm.variables), len(cqm.constraints)
    (['x[1]', 'x[2]', 'x[3]'], 1)
    >>> best = {"x[1]": 0, "x[2]": 1, "x[3]": 1}
    >>> energy = cqm.objective.energy(best)
    >>> load_solution(m, best)
    >>> pyo.value(m.value), objective_value(m, energy)
    (4, 4.0)
"""

from __future__ import annotations

import math
import time
from typing import Any, Callable, Hashable, Mapping

import dimod
import numpy as np
import pyomo.environ as pyo
from pyomo.core.base.var import VarData
from pyomo.core.expr.numvalue import polynomial_degree
from pyomo.core.expr.numeric_expr import SumExpression
from pyomo.repn.linear import LinearRepnVisitor
from pyomo.repn.quadratic import QuadraticRepnVisitor
from pyomo.repn.util import OrderedVarRecorder
from scipy import sparse

from gnnsolve.errors import InfeasibleModelError, InvalidModelError, ModelTooLargeError, UnsupportedModelError
from gnnsolve.search.cqm_repair import CompiledCQM

__all__ = [
    "to_cqm", "to_bqm", "PenaltyModel", "MAX_PENALTY_INTERACTIONS", "auto_penalty", "load_solution", "objective_value",
    "active_objective", "TERMS_PER_CHECK", "translate",
]


def active_objective(model: pyo.Block) -> pyo.Objective:
    """The model's single active objective.

    Raises:
        InvalidModelError: the model has no active objective, or more than one.
    """
    objectives = list(model.component_data_objects(pyo.Objective, active=True, descend_into=True))
    if not objectives:
        raise InvalidModelError(f"model {model.name!r} has no active Objective; add one (a constant one states a feasibility problem)")
    if len(objectives) > 1:
        names = ", ".join(objective.name for objective in objectives[:5])
        raise InvalidModelError(f"model {model.name!r} has {len(objectives)} active objectives ({names}); deactivate all but one")
    return objectives[0]


def to_cqm(model: pyo.Block, time_limit: float | None = None) -> dimod.ConstrainedQuadraticModel:
    """The CQM of a Pyomo model (see the module notes for what is supported).

    ``time_limit`` (seconds, ``None`` for none) is checked between constraints and every
    :data:`TERMS_PER_CHECK` terms of a long sum: Pyomo's expression walk costs about 5 µs per
    term, a second or more for an objective of 10⁵ terms.

    Raises:
        TimeoutError: ``time_limit`` ran out before the model was translated.
        InfeasibleModelError: a constraint no values within its variables' bounds satisfy
            (fixed variables substituted); the constraint is named.
        InvalidModelError: no or several active objectives, no free variable, or a NaN or
            infinite coefficient; the component is named.
        UnsupportedModelError: a continuous or unbounded integer variable, a nonlinear or
            higher-degree objective, a quadratic or nonlinear constraint; the component is named
            with what to change.
    """
    return translate(model, time_limit)[0]


def translate(model: pyo.Block, time_limit: float | None = None) -> tuple[dimod.ConstrainedQuadraticModel, dict[str, VarData]]:
    """:func:`to_cqm`, and the Pyomo variable behind each of the CQM's labels (for :func:`load_solution`).

    Example:
        >>> import pyomo.environ as pyo
        >>> from gnnsolve.adapters.pyomo import translate
        >>> m = pyo.ConcreteModel()
        >>> m.x = pyo.Var([1, 2], domain=pyo.Binary)
        >>> m.o = pyo.Objective(expr=m.x[1] - m.x[2])
        >>> cqm, variables = translate(m)
        >>> variables["x[2]"] is m.x[2]
        True
    """
    translator = _Translator(time.perf_counter() + (math.inf if time_limit is None else time_limit))
    objective = active_objective(model)
    cqm = dimod.ConstrainedQuadraticModel()
    goal = translator.quadratic_model(objective.expr, f"objective {objective.name}", allow_quadratic=True)
    if objective.sense == pyo.maximize:
        goal.scale(-1)
    cqm.set_objective(goal)
    for count, constraint in enumerate(model.component_data_objects(pyo.Constraint, active=True, descend_into=True)):
        if time.perf_counter() >= translator.deadline:
            raise TimeoutError(f"the time limit ran out after translating {count} constraints of model {model.name!r}")
        _add_constraint(cqm, constraint, translator)
    translator.add_unweighted(cqm)
    if not translator.variables:
        raise InvalidModelError(f"model {model.name!r} has no free variable in its active objective or constraints; there is nothing to solve")
    return cqm, translator.variables


def objective_value(model: pyo.Block, energy: float) -> float:
    """The Pyomo objective value of a sample whose CQM objective energy is ``energy``."""
    return float(-energy if active_objective(model).sense == pyo.maximize else energy)


def auto_penalty(cqm: dimod.ConstrainedQuadraticModel, compiled: CompiledCQM | None = None) -> float:
    """A penalty larger than any change one variable can make to the objective.

    For each variable, the objective's largest swing when that variable alone moves across its
    range (its linear bias plus the absolute biases it shares, times its range); the penalty is
    the largest swing, at least 1. A sample that breaks a constraint by one unit then pays more
    than any single move could gain — :func:`to_bqm` callers raise it if samples still come back
    infeasible. ``compiled``, the CQM's :class:`~gnnsolve.search.cqm_repair.CompiledCQM` where
    the caller has one, saves compiling it again.

    Raises:
        ValueError: a quadratic constraint or a REAL variable (see ``CompiledCQM``).

    Example:
        >>> import dimod
        >>> from gnnsolve.adapters.pyomo import auto_penalty
        >>> cqm = dimod.ConstrainedQuadraticModel()
        >>> x, y = dimod.Binary("x"), dimod.Binary("y")
        >>> cqm.set_objective(-3 * x + 2 * x * y - y)
        >>> auto_penalty(cqm)
        5.0
    """
    return max(1.0, (compiled if compiled is not None else CompiledCQM(cqm)).largest_swing())


def to_bqm(
    model: pyo.Block | dimod.ConstrainedQuadraticModel, penalty: float | str = "auto"
) -> tuple[dimod.BinaryQuadraticModel, Callable[[Mapping[Hashable, int]], dict[Hashable, float]], float]:
    """The BQM of a Pyomo model (or of its CQM): :class:`PenaltyModel` at one penalty.

    Args:
        model: a Pyomo model, or the CQM :func:`to_cqm` made of it.
        penalty: the Lagrange multiplier on every constraint, or ``"auto"`` for
            :func:`auto_penalty`.

    Returns:
        The BQM, the function that maps one of its samples back to the CQM's variables (dropping
        slacks, summing integer bits), and the penalty used.

    Raises:
        ValueError: ``penalty`` is neither ``"auto"`` nor a positive finite number.
        ModelTooLargeError: see :class:`PenaltyModel`.
    """
    cqm = model if isinstance(model, dimod.ConstrainedQuadraticModel) else to_cqm(model)
    if penalty != "auto" and not (
        isinstance(penalty, (int, float)) and not isinstance(penalty, bool) and penalty > 0 and math.isfinite(penalty)
    ):
        raise ValueError(f"penalty must be 'auto' or a positive number, got {penalty!r}")
    form = PenaltyModel(cqm)
    value = auto_penalty(cqm) if penalty == "auto" else float(penalty)
    return form.bqm(value), form.invert, value


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
        TimeoutError: ``time_limit`` ran out before every constraint was stated.

    Example:
        >>> import dimod
        >>> from gnnsolve.adapters.pyomo import PenaltyModel
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
                raise TimeoutError(f"the time limit ran out after encoding {count:,} of {len(self.variables):,} variables in bits")
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
        expand = sparse.csr_matrix(
            (coefficients, (np.arange(len(columns)), owners)), shape=(len(columns), len(self.variables))
        )
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
        bounds = {"lb": lower if math.isfinite(lower) else _INT64.min, "ub": upper if math.isfinite(upper) else _INT64.max}
        for slack, _ in self.penalties.add_linear_inequality_constraint(list(terms.items()), 1.0, str(name), **bounds):
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


def load_solution(model: pyo.Block, sample: Mapping[str, float], variables: Mapping[str, VarData] | None = None) -> None:
    """Set the model's variables named in ``sample`` (Pyomo names, as :func:`to_cqm` labels them).

    Integer and binary values are rounded to the nearest integer; fixed variables and variables
    not in ``sample`` are left alone. ``variables``, the map :func:`translate` returned, saves
    naming every variable of the model again (0.2 s per 10⁵ variables).

    Raises:
        InvalidModelError: a label names no variable of the model.
    """
    by_name = variables if variables is not None else {
        var.name: var for var in model.component_data_objects(pyo.Var, descend_into=True)
    }
    for label, value in sample.items():
        var = by_name.get(label)
        if var is None:
            raise InvalidModelError(f"the sample names {label!r}, which is not a variable of model {model.name!r}")
        if not var.fixed:
            var.set_value(int(round(float(value))), skip_validation=True)


def _variable_domain(var: VarData, component: str) -> tuple[dimod.Vartype, float, float]:
    """The dimod vartype and bounds of a Pyomo variable, or why it has none."""
    if var.is_binary():
        return dimod.BINARY, 0.0, 1.0
    if var.is_integer():
        lower, upper = var.lb, var.ub
        if lower is None or upper is None:
            raise UnsupportedModelError(
                f"variable {var.name} (in {component}) is an integer without "
                f"{'a lower' if lower is None else 'an upper'} bound; give it finite bounds, e.g. bounds=(0, 10)"
            )
        if upper < lower:
            raise InvalidModelError(f"variable {var.name} has bounds ({lower}, {upper}) with no integer between them")
        return dimod.INTEGER, float(lower), float(upper)
    raise UnsupportedModelError(
        f"variable {var.name} (in {component}) is continuous; gnnsolve samplers take binary and bounded integer "
        "variables: declare it within=pyo.Binary or pyo.Integers with bounds, or solve with a MILP solver such as appsi_highs"
    )


TERMS_PER_CHECK = 10_000
"""How many terms of a long sum :func:`to_cqm` translates between looks at its clock (about 50 ms)."""


class _Translator:
    """Pyomo expressions as dimod quadratic models; each variable's label and domain looked up once.

    Pyomo's quadratic and linear representation visitors do the algebra (fixed variables become
    constants, like terms are merged); a sum of more than :data:`TERMS_PER_CHECK` terms is walked
    in slices so that the clock is checked as it goes.
    """

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.labels: dict[int, str] = {}
        self.variables: dict[str, VarData] = {}
        self._domains: dict[int, tuple[dimod.Vartype, float, float]] = {}
        self._seen: dict[int, VarData] = {}  # every variable the walks met, a coefficient of 0 included
        recorder = OrderedVarRecorder(self._seen, {}, None)
        self._quadratic = QuadraticRepnVisitor(subexpression_cache={}, var_recorder=recorder)
        self._linear = LinearRepnVisitor(subexpression_cache={}, var_recorder=recorder)

    def quadratic_model(self, expr: Any, component: str, *, allow_quadratic: bool) -> dimod.QuadraticModel:
        """``expr`` as a QuadraticModel over the labels of its free variables.

        Raises:
            TimeoutError: the deadline passed while walking a long sum.
            UnsupportedModelError: ``expr`` is nonlinear, or quadratic where ``allow_quadratic`` is false.
            InvalidModelError: a NaN or infinite coefficient, or a variable without a finite domain.
        """
        visitor = self._quadratic if allow_quadratic else self._linear
        constant: float = 0.0
        linear: dict[int, Any] = {}
        quadratic: dict[tuple[int, int], Any] = {}
        for part in _slices(expr):
            if time.perf_counter() >= self.deadline:
                raise TimeoutError(f"the time limit ran out while translating {component}")
            repn = visitor.walk_expression(part)
            if repn.nonlinear is not None:
                degree = polynomial_degree(expr)
                kind = "nonlinear" if degree is None else f"of degree {degree}"
                limit = "linear or quadratic" if allow_quadratic else "linear"
                raise UnsupportedModelError(f"{component} is {kind}; gnnsolve takes {limit} expressions here: linearise it or introduce auxiliary variables")
            constant += _finite(repn.constant, component)
            _accumulate(linear, repn.linear)
            _accumulate(quadratic, getattr(repn, "quadratic", None) or {})
        return self._build(constant, linear, quadratic, visitor.var_map, component)

    def _build(self, constant: float, linear: dict[int, Any], quadratic: dict[tuple[int, int], Any],
               var_map: Mapping[int, VarData], component: str) -> dimod.QuadraticModel:
        qm = dimod.QuadraticModel()
        binaries = []
        for count, vid in enumerate(dict.fromkeys([*linear, *(vid for pair in quadratic for vid in pair)])):
            if count % TERMS_PER_CHECK == 0 and time.perf_counter() >= self.deadline:
                raise TimeoutError(f"the time limit ran out while translating {component}")
            label = self._label(var_map[vid], component)
            vartype, lower, upper = self._domains[vid]
            if vartype is dimod.BINARY:
                binaries.append(label)
            else:
                qm.add_variable(vartype, label, lower_bound=lower, upper_bound=upper)
        linear_terms = [(self.labels[vid], bias) for vid, bias in linear.items()]
        pairs = []
        for (u, v), bias in quadratic.items():
            if u == v and self._domains[u][0] is dimod.BINARY:
                linear_terms.append((self.labels[u], bias))
            else:
                pairs.append((self.labels[u], self.labels[v], bias))
        _check_finite_biases([bias for _, bias in linear_terms] + [bias for _, _, bias in pairs], component)
        for add, items in ((lambda part: qm.add_variables_from(dimod.BINARY, part), binaries),
                           (qm.add_linear_from, linear_terms), (qm.add_quadratic_from, pairs)):
            for start in range(0, len(items), TERMS_PER_CHECK):
                if time.perf_counter() >= self.deadline:
                    raise TimeoutError(f"the time limit ran out while translating {component}")
                add(items[start:start + TERMS_PER_CHECK])
        qm.offset += constant
        return qm

    def add_unweighted(self, cqm: dimod.ConstrainedQuadraticModel) -> None:
        """Add the free variables the walks met that no term kept (``0 * x``, ``x - x``), so that
        every variable of the model's active components gets a value."""
        for vid, var in self._seen.items():
            if vid not in self.labels and not var.fixed:
                label = self._label(var, "an active component, with coefficient 0")
                vartype, lower, upper = self._domains[vid]
                cqm.add_variable(vartype, label, lower_bound=lower, upper_bound=upper)

    def _label(self, var: VarData, component: str) -> str:
        vid = id(var)
        label = self.labels.get(vid)
        if label is None:
            self._domains[vid] = _variable_domain(var, component)
            label = self.labels[vid] = var.name
            self.variables[label] = var
        return label


def _slices(expr: Any) -> list[Any]:
    """``expr`` itself, or a long sum cut into sums of at most :data:`TERMS_PER_CHECK` terms."""
    if not isinstance(expr, SumExpression) or expr.nargs() <= TERMS_PER_CHECK:
        return [expr]
    terms = expr.args
    return [SumExpression(list(terms[start:start + TERMS_PER_CHECK])) for start in range(0, len(terms), TERMS_PER_CHECK)]


def _accumulate(total: dict[Any, Any], part: Mapping[Any, Any]) -> None:
    for key, value in part.items():
        total[key] = total.get(key, 0) + value


def _check_finite_biases(biases: list[Any], component: str) -> None:
    values = np.asarray(biases, dtype=float)
    if values.size and not np.isfinite(values).all():
        _finite(values[~np.isfinite(values)][0], component)


def _add_constraint(cqm: dimod.ConstrainedQuadraticModel, constraint: Any, translator: _Translator) -> None:
    name = constraint.name
    lhs = translator.quadratic_model(constraint.body, f"constraint {name}", allow_quadratic=False)
    lower = None if constraint.lower is None else _finite(pyo.value(constraint.lower), f"constraint {name}")
    upper = None if constraint.upper is None else _finite(pyo.value(constraint.upper), f"constraint {name}")
    _check_reachable(name, lhs, lower, upper)
    if lhs.num_variables == 0:
        return
    if constraint.equality or (lower is not None and lower == upper):
        cqm.add_constraint_from_model(lhs, "==", upper, label=name)
        return
    if lower is not None and upper is not None:
        cqm.add_constraint_from_model(lhs, ">=", lower, label=f"{name}[lower]")
        cqm.add_constraint_from_model(lhs, "<=", upper, label=f"{name}[upper]")
    elif lower is not None:
        cqm.add_constraint_from_model(lhs, ">=", lower, label=name)
    elif upper is not None:
        cqm.add_constraint_from_model(lhs, "<=", upper, label=name)


def _check_reachable(name: str, lhs: dimod.QuadraticModel, lower: float | None, upper: float | None) -> None:
    """Refuse a constraint no values of its variables satisfy: its left side's range over their
    bounds (one value once every variable is fixed) misses ``[lower, upper]``."""
    low = high = lhs.offset
    for v, bias in lhs.iter_linear():
        ends = (bias * lhs.lower_bound(v), bias * lhs.upper_bound(v))
        low, high = low + min(ends), high + max(ends)
    slack = 1e-9 * max(1.0, abs(low), abs(high))
    if (lower is not None and high < lower - slack) or (upper is not None and low > upper + slack):
        reads = f"reads {low:g}" if low == high else f"lies within [{low:g}, {high:g}] for every value of its variables"
        raise InfeasibleModelError(
            f"constraint {name} can never hold: its left side {reads}, and it must lie within [{lower}, {upper}]; "
            "check its sense and right-hand side (or unfix a variable)"
        )


def _finite(value: Any, component: str) -> float:
    number = float(value)
    if not math.isfinite(number):
        raise InvalidModelError(f"{component} has a coefficient or bound {number}; it must be finite")
    return number
