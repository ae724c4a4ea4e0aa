"""Pyomo models as dimod models, and samples loaded back into Pyomo models.

:func:`to_cqm` states a Pyomo model as a :class:`dimod.ConstrainedQuadraticModel`: binary,
integer (BINARY, INTEGER) and continuous (REAL) variables, a missing bound becoming dimod's
widest (:data:`MAX_INTEGER`, :data:`MAX_REAL`), one linear or quadratic objective (minimised, or maximised by
negation), linear constraints (``==``, ``<=``, ``>=`` and ranges, a range becoming two
constraints). Indexed components are walked element by element; fixed variables become
constants; deactivated components are skipped; variables that appear in no active component
are left out, and those that appear with a coefficient of 0 are kept (so that they get a value). Variable labels are Pyomo's own names (``x[1]``, ``b.y[2,3]``), so a sample maps
back without ambiguity, and the CQM's objective equals the Pyomo objective for minimisation and
its negation for maximisation, constant included — :func:`objective_value` undoes the sign.

:func:`to_bqm` turns that CQM into a BQM (slack variables for inequalities, binary expansion
of integers: :class:`gnnsolve.penalty_model.PenaltyModel`, which builds the penalty form once
for any penalty), with the penalty given or chosen by :func:`~gnnsolve.penalty_model.auto_penalty`
(both re-exported here). :func:`load_solution` writes a sample into
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
from typing import Any, Callable, Hashable, Literal, Mapping, TypeAlias

import dimod
import numpy as np
import pyomo.environ as pyo
from pyomo.core.base.var import VarData
from pyomo.core.expr.numeric_expr import SumExpression
from pyomo.core.expr.numvalue import polynomial_degree
from pyomo.repn.linear import LinearRepnVisitor
from pyomo.repn.quadratic import QuadraticRepnVisitor
from pyomo.repn.util import OrderedVarRecorder, categorize_valid_components

from gnnsolve.errors import InfeasibleModelError, InvalidModelError, UnsupportedModelError
from gnnsolve.penalty_model import MAX_PENALTY_INTERACTIONS, TERMS_PER_CHECK, PenaltyModel, auto_penalty

__all__ = [
    "to_cqm",
    "to_bqm",
    "PenaltyModel",
    "MAX_PENALTY_INTERACTIONS",
    "auto_penalty",
    "load_solution",
    "objective_value",
    "active_objective",
    "TERMS_PER_CHECK",
    "translate",
    "MAX_INTEGER",
    "MAX_REAL",
    "value_for",
]


def active_objective(model: pyo.Block) -> pyo.Objective:
    """The model's single active objective.

    Raises:
        InvalidModelError: the model has no active objective, or more than one.
    """
    objectives = list(model.component_data_objects(pyo.Objective, active=True, descend_into=True))
    if not objectives:
        raise InvalidModelError(
            f"model {model.name!r} has no active Objective; add one (a constant one states a feasibility problem)"
        )
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
        UnsupportedModelError: a nonlinear or higher-degree objective, a quadratic or nonlinear constraint; the component is named
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
    _check_components(model)
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
    for label, value in translator.pinned.items():
        cqm.add_constraint([(label, 1)], "==", value, label=f"bounds of {label}")
    if not translator.variables:
        raise InvalidModelError(
            f"model {model.name!r} has no free variable in its active objective or constraints; there is nothing to solve"
        )
    return cqm, translator.variables


def objective_value(model: pyo.Block, energy: float) -> float:
    """The Pyomo objective value of a sample whose CQM objective energy is ``energy``."""
    return float(-energy if active_objective(model).sense == pyo.maximize else energy)


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


def load_solution(model: pyo.Block, sample: Mapping[str, float], variables: Mapping[str, VarData] | None = None) -> None:
    """Set the model's variables named in ``sample`` (Pyomo names, as :func:`to_cqm` labels them).

    Integer and binary values are rounded to the nearest integer, continuous ones kept; fixed variables and variables
    not in ``sample`` are left alone. ``variables``, the map :func:`translate` returned, saves
    naming every variable of the model again (0.2 s per 10⁵ variables).

    Raises:
        InvalidModelError: a label names no variable of the model.
    """
    by_name = (
        variables
        if variables is not None
        else {var.name: var for var in model.component_data_objects(pyo.Var, descend_into=True)}
    )
    for label, value in sample.items():
        var = by_name.get(label)
        if var is None:
            raise InvalidModelError(f"the sample names {label!r}, which is not a variable of model {model.name!r}")
        if not var.fixed:
            var.set_value(value_for(var, value), skip_validation=True)


def value_for(var: VarData, value: float) -> float:
    """The value a Pyomo variable gets from a sample: rounded for an integer or binary, kept for a continuous one.

    Example:
        >>> import pyomo.environ as pyo
        >>> m = pyo.ConcreteModel()
        >>> m.k, m.r = pyo.Var(within=pyo.Integers), pyo.Var()
        >>> value_for(m.k, 2.0000001), value_for(m.r, 0.25)
        (2, 0.25)
    """
    return float(value) if var.is_continuous() else int(round(float(value)))


_Domain: TypeAlias = tuple[Literal[dimod.Vartype.BINARY, dimod.Vartype.INTEGER, dimod.Vartype.REAL], float, float]
"""A variable's dimod vartype and bounds."""


def _variable_domain(var: VarData, component: str) -> _Domain:
    """The dimod vartype and bounds of a Pyomo variable; a missing bound is dimod's widest. A
    binary's own bounds are not part of its domain (see :func:`pinned_value`)."""
    lower, upper = var.lb, var.ub
    if lower is not None and upper is not None and upper < lower:
        raise InvalidModelError(f"variable {var.name} (in {component}) has bounds ({lower}, {upper}), an empty range")
    if var.is_binary():
        return dimod.Vartype.BINARY, 0.0, 1.0
    if var.is_integer():
        lower = -MAX_INTEGER if lower is None else max(math.ceil(lower), -MAX_INTEGER)
        upper = MAX_INTEGER if upper is None else min(math.floor(upper), MAX_INTEGER)
        if upper < lower:
            raise InvalidModelError(f"variable {var.name} has bounds ({var.lb}, {var.ub}) with no integer between them")
        return dimod.Vartype.INTEGER, float(lower), float(upper)
    if var.is_continuous():
        return (
            dimod.Vartype.REAL,
            -MAX_REAL if lower is None else max(float(lower), -MAX_REAL),
            MAX_REAL if upper is None else min(float(upper), MAX_REAL),
        )
    raise UnsupportedModelError(
        f"variable {var.name} (in {component}) has domain {var.domain}, which is neither integer nor continuous"
    )


def pinned_value(var: VarData) -> int | None:
    """The one value a binary variable's bounds leave it (``Var(within=Binary, bounds=(1, 1))``,
    ``x.setub(0)``), ``None`` where they leave it both; dimod's BINARY variables have no bounds, so
    the CQM states such a bound as a constraint.

    Raises:
        InfeasibleModelError: the bounds leave it no value.
    """
    lower = 0 if var.lb is None else max(0, math.ceil(var.lb))
    upper = 1 if var.ub is None else min(1, math.floor(var.ub))
    if upper < lower:
        raise InfeasibleModelError(f"binary variable {var.name} has bounds ({var.lb}, {var.ub}), which leave it neither 0 nor 1")
    return lower if lower == upper else None


MAX_INTEGER = 2**53 - 1
"""dimod's widest INTEGER bound: an integer variable without a bound gets this one."""

MAX_REAL = 1e30
"""dimod's widest REAL bound: a continuous variable without a bound gets this one."""


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
        self.pinned: dict[str, int] = {}  # binaries whose bounds leave one value
        self._domains: dict[int, _Domain] = {}
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
                raise UnsupportedModelError(
                    f"{component} is {kind}; gnnsolve takes {limit} expressions here: linearise it or introduce auxiliary variables"
                )
            constant += _finite(repn.constant, component)
            _accumulate(linear, repn.linear)
            _accumulate(quadratic, getattr(repn, "quadratic", None) or {})
        return self._build(constant, linear, quadratic, visitor.var_map, component)

    def _build(
        self,
        constant: float,
        linear: dict[int, Any],
        quadratic: dict[tuple[int, int], Any],
        var_map: Mapping[int, VarData],
        component: str,
    ) -> dimod.QuadraticModel:
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
            elif dimod.Vartype.REAL in (self._domains[u][0], self._domains[v][0]):
                _refuse_real_product(self.labels[u], self.labels[v], component)
            else:
                pairs.append((self.labels[u], self.labels[v], bias))
        _check_finite_biases([bias for _, bias in linear_terms] + [bias for _, _, bias in pairs], component)
        additions: tuple[tuple[Callable[[list[Any]], object], list[Any]], ...] = (
            (lambda part: qm.add_variables_from(dimod.Vartype.BINARY, part), binaries),
            (qm.add_linear_from, linear_terms),
            (qm.add_quadratic_from, pairs),
        )
        for add, items in additions:
            for start in range(0, len(items), TERMS_PER_CHECK):
                if time.perf_counter() >= self.deadline:
                    raise TimeoutError(f"the time limit ran out while translating {component}")
                add(items[start : start + TERMS_PER_CHECK])
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
            if var.is_binary() and (value := pinned_value(var)) is not None:
                self.pinned[label] = value
        return label


_TRANSLATED = {pyo.Block, pyo.Var, pyo.Param, pyo.Set, pyo.RangeSet, pyo.Expression, pyo.Objective, pyo.Constraint, pyo.Suffix}
"""The component types the translation reads or may pass over; any other active one is refused."""

_ADVICE = {
    "SOSConstraint": "SOS constraints have no CQM form here; for Piecewise pass pw_repn='INC', 'DCC' or 'BIGM_BIN'",
    "Disjunction": "apply pyo.TransformationFactory('gdp.bigm') (or 'gdp.hull') to the model first",
    "Disjunct": "apply pyo.TransformationFactory('gdp.bigm') (or 'gdp.hull') to the model first",
    "LogicalConstraint": "apply pyo.TransformationFactory('core.logical_to_linear') (then gdp.bigm) to the model first",
}


def _check_components(model: pyo.Block) -> None:
    """Refuse a model with an active component the translation would otherwise drop in silence."""
    _, unknown = categorize_valid_components(model, active=True, valid=_TRANSLATED)
    if unknown:
        kinds = sorted(unknown, key=lambda ctype: ctype.__name__)
        found = "; ".join(f"{ctype.__name__} {', '.join(c.name for c in unknown[ctype][:3])}" for ctype in kinds)
        advice = "; ".join(dict.fromkeys(_ADVICE[ctype.__name__] for ctype in kinds if ctype.__name__ in _ADVICE))
        raise UnsupportedModelError(
            f"model {model.name!r} has active components gnnsolve cannot translate ({found})"
            + (f": {advice}" if advice else "; deactivate or transform them first")
        )


def _refuse_real_product(u: str, v: str, component: str) -> None:
    """A product with a continuous factor, which a dimod model cannot hold: the error says how to
    state it linearly."""
    term = f"{u} * {v}" if u != v else f"{u} ** 2"
    raise UnsupportedModelError(
        f"{component} has the term {term} with a continuous factor, which a dimod model cannot hold "
        "(its products are of binary and integer variables); for a binary b times a continuous z in [L, U], "
        "add a continuous w with w <= U*b, w >= L*b, w <= z - L*(1 - b), w >= z - U*(1 - b) and use w in its place"
    )


def _slices(expr: Any) -> list[Any]:
    """``expr`` itself, or a long sum cut into sums of at most :data:`TERMS_PER_CHECK` terms."""
    if not isinstance(expr, SumExpression) or expr.nargs() <= TERMS_PER_CHECK:
        return [expr]
    terms = expr.args
    return [SumExpression(list(terms[start : start + TERMS_PER_CHECK])) for start in range(0, len(terms), TERMS_PER_CHECK)]


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
        assert upper is not None, "Pyomo gives an equality constraint both bounds"
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
