"""Pyomo models as dimod models, and samples loaded back into Pyomo models.

:func:`to_cqm` states a Pyomo model as a :class:`dimod.ConstrainedQuadraticModel`: binary and
bounded integer variables, one linear or quadratic objective (minimised, or maximised by
negation), linear constraints (``==``, ``<=``, ``>=`` and ranges, a range becoming two
constraints). Indexed components are walked element by element; fixed variables become
constants; deactivated components are skipped; variables that appear in no active component
are left out. Variable labels are Pyomo's own names (``x[1]``, ``b.y[2,3]``), so a sample maps
back without ambiguity, and the CQM's objective equals the Pyomo objective for minimisation and
its negation for maximisation, constant included — :func:`objective_value` undoes the sign.

:func:`to_bqm` turns that CQM into a BQM with dimod's ``cqm_to_bqm`` (slack variables for
inequalities, binary expansion of integers), with the penalty given or chosen by
:func:`auto_penalty`. :func:`load_solution` writes a sample into the model's variables.

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
from typing import Any, Callable, Hashable, Mapping

import dimod
import pyomo.environ as pyo
from pyomo.core.base.var import VarData
from pyomo.core.expr.numvalue import polynomial_degree
from pyomo.repn import generate_standard_repn

from gnnsolve.errors import InvalidModelError, UnsupportedModelError

__all__ = ["to_cqm", "to_bqm", "auto_penalty", "load_solution", "objective_value", "active_objective"]


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


def to_cqm(model: pyo.Block) -> dimod.ConstrainedQuadraticModel:
    """The CQM of a Pyomo model (see the module notes for what is supported).

    Raises:
        InvalidModelError: no or several active objectives, no free variable, a constraint that
            can never hold once fixed variables are substituted, or a NaN or infinite
            coefficient; the component is named.
        UnsupportedModelError: a continuous or unbounded integer variable, a nonlinear or
            higher-degree objective, a quadratic or nonlinear constraint; the component is named
            with what to change.
    """
    objective = active_objective(model)
    cqm = dimod.ConstrainedQuadraticModel()
    variables: dict[str, dimod.typing.Variable] = {}

    def declare(var: VarData, component: str) -> str:
        label = var.name
        if label not in variables:
            vartype, lower, upper = _variable_domain(var, component)
            if vartype is dimod.BINARY:
                cqm.add_variable(vartype, label)
            else:
                cqm.add_variable(vartype, label, lower_bound=lower, upper_bound=upper)
            variables[label] = var
        return label

    goal = _quadratic_model(objective.expr, f"objective {objective.name}", declare, allow_quadratic=True)
    if objective.sense == pyo.maximize:
        goal.scale(-1)
    cqm.set_objective(goal)
    for constraint in model.component_data_objects(pyo.Constraint, active=True, descend_into=True):
        _add_constraint(cqm, constraint, declare)
    if not variables:
        raise InvalidModelError(f"model {model.name!r} has no free variable in its active objective or constraints; there is nothing to solve")
    return cqm


def objective_value(model: pyo.Block, energy: float) -> float:
    """The Pyomo objective value of a sample whose CQM objective energy is ``energy``."""
    return float(-energy if active_objective(model).sense == pyo.maximize else energy)


def auto_penalty(cqm: dimod.ConstrainedQuadraticModel) -> float:
    """A penalty larger than any change one variable can make to the objective.

    For each variable, the objective's largest swing when that variable alone moves across its
    range (its linear bias plus the absolute biases it shares, times its range); the penalty is
    the largest swing, at least 1. A sample that breaks a constraint by one unit then pays more
    than any single move could gain — :func:`to_bqm` callers raise it if samples still come back
    infeasible.

    Example:
        >>> import dimod
        >>> from gnnsolve.adapters.pyomo import auto_penalty
        >>> cqm = dimod.ConstrainedQuadraticModel()
        >>> x, y = dimod.Binary("x"), dimod.Binary("y")
        >>> cqm.set_objective(-3 * x + 2 * x * y - y)
        >>> auto_penalty(cqm)
        5.0
    """
    objective = cqm.objective
    swing = 1.0
    for v in objective.variables:
        span = objective.upper_bound(v) - objective.lower_bound(v) if objective.vartype(v) is dimod.INTEGER else 1.0
        coupled = sum(abs(bias) for _, bias in objective.iter_neighborhood(v))
        swing = max(swing, (abs(objective.get_linear(v)) + coupled) * span)
    return float(swing)


def to_bqm(
    model: pyo.Block | dimod.ConstrainedQuadraticModel, penalty: float | str = "auto"
) -> tuple[dimod.BinaryQuadraticModel, Callable[[Mapping[Hashable, int]], dict[Hashable, int]], float]:
    """The BQM of a Pyomo model (or of its CQM), by dimod's ``cqm_to_bqm``.

    Args:
        model: a Pyomo model, or the CQM :func:`to_cqm` made of it.
        penalty: the Lagrange multiplier on every constraint, or ``"auto"`` for
            :func:`auto_penalty`.

    Returns:
        The BQM, the function that maps one of its samples back to the CQM's variables (dropping
        slacks, summing integer bits), and the penalty used.

    Raises:
        ValueError: ``penalty`` is neither ``"auto"`` nor a positive finite number.
    """
    cqm = model if isinstance(model, dimod.ConstrainedQuadraticModel) else to_cqm(model)
    if penalty == "auto":
        value = auto_penalty(cqm)
    elif isinstance(penalty, (int, float)) and not isinstance(penalty, bool) and penalty > 0 and math.isfinite(penalty):
        value = float(penalty)
    else:
        raise ValueError(f"penalty must be 'auto' or a positive number, got {penalty!r}")
    prepared, restore = _bqm_ready(cqm)
    bqm, invert_prepared = dimod.cqm_to_bqm(prepared, lagrange_multiplier=value)

    def invert(sample: Mapping[Hashable, int]) -> dict[Hashable, int]:
        return restore(invert_prepared(sample))

    return bqm, invert, value


Shift = tuple[dimod.Vartype | None, float]
"""How :func:`_bqm_ready` restates a variable: its new vartype (``None``: a constant) and the shift added back."""


def _bqm_ready(
    cqm: dimod.ConstrainedQuadraticModel,
) -> tuple[dimod.ConstrainedQuadraticModel, Callable[[Mapping[Hashable, float]], dict[Hashable, float]]]:
    """Restate ``cqm`` in the form dimod's ``cqm_to_bqm`` takes, and the map back to ``cqm``'s variables.

    - An integer in ``[l, u]`` becomes ``l + v'`` with ``v'`` in ``[0, u - l]`` (binary when
      ``u - l == 1``, a constant when ``u == l``): ``cqm_to_bqm`` expands only integers from 0
      to at least 2.
    - An integral range pair ``c[lower]``, ``c[upper]`` (as :func:`to_cqm` writes
      ``l <= e <= u``) becomes the equality ``e - s == l`` with one slack ``s`` in ``[0, u - l]``.
      Two penalised inequalities need two slacks that pull against each other, so a sample one
      unit above ``u`` can only become feasible by moving two variables at once, a trap for
      local samplers.
    """
    shifts: dict[Hashable, Shift] = {}
    for v in cqm.variables:
        if cqm.vartype(v) is dimod.INTEGER:
            lower, width = cqm.lower_bound(v), cqm.upper_bound(v) - cqm.lower_bound(v)
            shifts[v] = (None if width == 0 else dimod.BINARY if width == 1 else dimod.INTEGER, lower)
        else:
            shifts[v] = (cqm.vartype(v), 0.0)
    ranges = {
        label.removesuffix("[lower]"): (constraint, cqm.constraints[label.removesuffix("[lower]") + "[upper]"])
        for label, constraint in cqm.constraints.items()
        if isinstance(label, str) and label.endswith("[lower]") and label.removesuffix("[lower]") + "[upper]" in cqm.constraints
    }
    ranges = {name: pair for name, pair in ranges.items() if _integral(pair[0].lhs, pair[0].rhs, pair[1].rhs, shifts)}
    merged = {f"{name}[{side}]" for name in ranges for side in ("lower", "upper")}

    prepared = dimod.ConstrainedQuadraticModel()
    prepared.set_objective(_shifted(cqm.objective, shifts))
    for label, constraint in cqm.constraints.items():
        if label not in merged:
            prepared.add_constraint_from_model(_shifted(constraint.lhs, shifts), constraint.sense, constraint.rhs, label=label)
    for name, (lower, upper) in ranges.items():
        lhs = _shifted(lower.lhs, shifts)
        width = float(upper.rhs) - float(lower.rhs)
        if width == 1:
            lhs.add_variable(dimod.BINARY, f"{name}[slack]")
        elif width > 1:
            lhs.add_variable(dimod.INTEGER, f"{name}[slack]", lower_bound=0, upper_bound=width)
        if width >= 1:
            lhs.add_linear(f"{name}[slack]", -1)
        prepared.add_constraint_from_model(lhs, "==", lower.rhs, label=name)

    def restore(sample: Mapping[Hashable, float]) -> dict[Hashable, float]:
        return {v: shift + (sample[v] if vartype is not None else 0) for v, (vartype, shift) in shifts.items()}

    return prepared, restore


def _shifted(expression: Any, shifts: dict[Hashable, Shift]) -> dimod.QuadraticModel:
    """``expression`` (an objective or constraint view) with each variable ``v`` replaced by ``shift + v'``."""
    qm = dimod.QuadraticModel()
    qm.offset = float(expression.offset)

    def term(v: Hashable) -> tuple[Hashable | None, float]:
        vartype, shift = shifts[v]
        if vartype is not None and v not in qm.variables:
            if vartype is dimod.INTEGER:
                qm.add_variable(vartype, v, lower_bound=0, upper_bound=expression.upper_bound(v) - shift)
            else:
                qm.add_variable(vartype, v)
        return (v if vartype is not None else None), shift

    for v, bias in expression.linear.items():
        label, shift = term(v)
        qm.offset += bias * shift
        if label is not None:
            qm.add_linear(label, bias)
    for u, v, bias in expression.iter_quadratic():
        (first, shift_u), (second, shift_v) = term(u), term(v)
        qm.offset += bias * shift_u * shift_v
        if first is not None:
            qm.add_linear(first, bias * shift_v)
        if second is not None:
            qm.add_linear(second, bias * shift_u)
        if first is not None and second is not None:
            if first == second and shifts[u][0] is dimod.BINARY:
                qm.add_linear(first, bias)
            else:
                qm.add_quadratic(first, second, bias)
    return qm


def _integral(lhs: Any, lower: float, upper: float, shifts: dict[Hashable, Shift]) -> bool:
    """Whether ``lower <= lhs <= upper`` involves integers only: coefficients, shifts, offset and bounds."""
    numbers = [lhs.offset, lower, upper, *lhs.linear.values(), *(shifts[v][1] for v in lhs.variables)]
    return all(float(number).is_integer() for number in numbers)


def load_solution(model: pyo.Block, sample: Mapping[str, float]) -> None:
    """Set the model's variables named in ``sample`` (Pyomo names, as :func:`to_cqm` labels them).

    Integer and binary values are rounded to the nearest integer; fixed variables and variables
    not in ``sample`` are left alone.

    Raises:
        InvalidModelError: a label names no variable of the model.
    """
    by_name = {var.name: var for var in model.component_data_objects(pyo.Var, descend_into=True)}
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


def _quadratic_model(
    expr: Any, component: str, declare: Callable[[VarData, str], str], *, allow_quadratic: bool
) -> dimod.QuadraticModel:
    repn = generate_standard_repn(expr, quadratic=allow_quadratic, compute_values=True)
    if repn.nonlinear_expr is not None or (not allow_quadratic and repn.quadratic_vars):
        degree = polynomial_degree(expr)
        kind = "nonlinear" if degree is None else f"of degree {degree}"
        limit = "linear or quadratic" if allow_quadratic else "linear"
        raise UnsupportedModelError(f"{component} is {kind}; gnnsolve takes {limit} expressions here: linearise it or introduce auxiliary variables")
    qm = dimod.QuadraticModel()
    constant = _finite(repn.constant, component)
    for var, bias in zip(repn.linear_vars, repn.linear_coefs):
        label = declare(var, component)
        _add_variable_like(qm, var, label)
        qm.add_linear(label, _finite(bias, component))
    for (u, v), bias in zip(repn.quadratic_vars, repn.quadratic_coefs):
        first, second = declare(u, component), declare(v, component)
        _add_variable_like(qm, u, first)
        _add_variable_like(qm, v, second)
        if first == second and u.is_binary():
            qm.add_linear(first, _finite(bias, component))
        else:
            qm.add_quadratic(first, second, _finite(bias, component))
    qm.offset += constant
    return qm


def _add_variable_like(qm: dimod.QuadraticModel, var: VarData, label: str) -> None:
    if label not in qm.variables:
        vartype, lower, upper = _variable_domain(var, label)
        if vartype is dimod.BINARY:
            qm.add_variable(vartype, label)
        else:
            qm.add_variable(vartype, label, lower_bound=lower, upper_bound=upper)


def _add_constraint(cqm: dimod.ConstrainedQuadraticModel, constraint: Any, declare: Callable[[VarData, str], str]) -> None:
    name = constraint.name
    lhs = _quadratic_model(constraint.body, f"constraint {name}", declare, allow_quadratic=False)
    lower = None if constraint.lower is None else _finite(pyo.value(constraint.lower), f"constraint {name}")
    upper = None if constraint.upper is None else _finite(pyo.value(constraint.upper), f"constraint {name}")
    if lhs.num_variables == 0:
        _check_constant_constraint(name, lhs.offset, lower, upper)
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


def _check_constant_constraint(name: str, value: float, lower: float | None, upper: float | None) -> None:
    """A constraint left without free variables (all fixed) is either always true or never."""
    if (lower is not None and value < lower - 1e-9) or (upper is not None and value > upper + 1e-9):
        raise InvalidModelError(
            f"constraint {name} reads {value:g} within [{lower}, {upper}] once its fixed variables are substituted, "
            "which never holds: unfix a variable or relax the bound"
        )


def _finite(value: Any, component: str) -> float:
    number = float(value)
    if not math.isfinite(number):
        raise InvalidModelError(f"{component} has a coefficient or bound {number}; it must be finite")
    return number
