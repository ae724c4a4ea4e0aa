"""GurobiSampler: BQMs and CQMs solved exactly as mixed-integer quadratic programs by Gurobi.

Gurobi takes the quadratic objective as it is, :math:`\\min\\, c + h^\\top x + x^\\top J x` over
binary and, for CQMs, integer and continuous (REAL) :math:`x`, bounded or not, with the CQM's
linear constraints: any product, of binaries, of a binary with an integer or of two integers.
Gurobi (11 on) handles a non-convex objective itself (its ``NonConvex`` default); the model is
built in bulk from numpy arrays and a SciPy sparse :math:`J` (``addMVar``, ``x @ J @ x``,
``addMConstr``). A model without integer variables or products is a linear program.

gurobipy is optional (``pip install "gnnsolve[gurobi]"``) and imported only when a
:class:`GurobiSampler` is made, so this module always imports. The pip package's size-limited
licence takes 2000 variables and 2000 linear constraints, but only 200 variables once the
objective is quadratic; beyond that the sampler raises :class:`ModelTooLargeError` (a full licence
lifts the limit). Gurobi's banner and log are silenced unless ``output=True``.

Example:
    >>> import dimod
    >>> from gnnsolve.samplers.gurobi import GurobiSampler
    >>> bqm = dimod.BQM({"a": -1.0, "b": -1.0, "c": 0.5}, {("a", "b"): 2.0, ("b", "c"): -1.0}, 0.0, "BINARY")
    >>> sampleset = GurobiSampler().sample(bqm, time_limit=10)
    >>> print(sampleset.first.energy, sampleset.info["status"], sampleset.info["gap"])
    -1.5 optimal 0.0

Reference:
    Gurobi Optimization, LLC, "Gurobi Optimizer Reference Manual". https://www.gurobi.com
"""

from __future__ import annotations

import contextlib
import math
from types import ModuleType
from typing import Any

import numpy as np
import scipy.sparse

from gnnsolve.errors import MissingDependencyError, ModelTooLargeError
from gnnsolve.samplers._common import Stopwatch
from gnnsolve.samplers._milp import CONTINUOUS_TOLERANCE, ExactSampler, IndexModel, Outcome, SolveOptions

__all__ = ["GurobiSampler"]

#: gurobipy's error number for "Model too large for size-limited license".
SIZE_LIMIT_EXCEEDED = 10010

_STATUS = {
    2: "optimal",
    3: "infeasible",
    4: "infeasible_or_unbounded",
    5: "unbounded",
    6: "objective_limit",
    7: "iteration_limit",
    8: "node_limit",
    9: "time_limit",
    10: "solution_limit",
    11: "interrupted",
    12: "numeric_error",
    13: "suboptimal",
    15: "objective_limit",
    16: "work_limit",
    17: "memory_limit",
}


def import_gurobipy() -> ModuleType:
    """gurobipy, or :class:`MissingDependencyError` naming the extra that installs it."""
    try:
        import gurobipy
    except ImportError as err:
        raise MissingDependencyError(
            'GurobiSampler needs gurobipy: pip install "gnnsolve[gurobi]" (or use HiGHSSampler, which needs no licence)'
        ) from err
    return gurobipy


class GurobiSampler(ExactSampler):
    """Exact sampler: BQMs and CQMs solved as MIQPs by Gurobi (optional dependency).

    ``sample(bqm, ...)`` and ``sample_cqm(cqm, ...)`` return one row, the incumbent, with
    ``info`` keys ``status`` (``"optimal"``, ``"time_limit"``, ...), ``bound`` (Gurobi's
    ``ObjBound``, offset included), ``gap`` (relative, 0 when optimal), ``num_nodes`` and
    ``timing``. CQMs may hold BINARY, SPIN, INTEGER and REAL variables, bounded or not, and any
    product in the objective (those :class:`~gnnsolve.samplers.highs.HiGHSSampler` refuses too);
    REAL values come back unrounded.

    Keywords: ``time_limit``, ``mip_rel_gap`` (Gurobi's ``MIPGap``; default 0, so "optimal"
    means proven optimal, where Gurobi's own default is 1e-4), ``threads``, ``seed`` (Gurobi's
    ``Threads`` and ``Seed``), ``output`` (Gurobi's log, off by default), ``initial_states`` (a
    MIP start) and ``num_reads`` (accepted, one row is returned).

    ``time_limit`` is the whole call: ``None`` (the default) gives
    :func:`~gnnsolve.samplers._milp.default_time_limit` of the model's size (10 s, plus 1 s per
    10,000 variables and products, at most 60 s), ``math.inf`` runs until optimality is proven,
    and Gurobi's ``TimeLimit`` is what is left once the model is built. ``info["time_limit"]``
    reports the budget applied.

    Raises:
        MissingDependencyError: gurobipy is not installed (on construction).
        ModelTooLargeError: the model exceeds the installed licence's size limit.

    Example:
        >>> import dimod
        >>> from gnnsolve.samplers.gurobi import GurobiSampler
        >>> bqm = dimod.generators.ran_r(1, 10, seed=0)
        >>> sampleset = GurobiSampler().sample(bqm)
        >>> print(sampleset.first.energy == dimod.ExactSolver().sample(bqm).first.energy)
        True
    """

    solver_name = "Gurobi"

    def __init__(self) -> None:
        self._gurobipy = import_gurobipy()
        super().__init__()
        self.properties = {
            "solver": "gurobi",
            "solver_version": ".".join(map(str, self._gurobipy.gurobi.version())),
        }

    def _solve(self, model: IndexModel, start: np.ndarray | None, options: SolveOptions, watch: Stopwatch) -> Outcome:
        gp = self._gurobipy
        with contextlib.ExitStack() as stack:
            with watch.phase("preprocessing"):
                env = stack.enter_context(gp.Env(empty=True))
                env.setParam("OutputFlag", int(options.output))
                env.start()
                miqp = stack.enter_context(gp.Model(env=env))
                x = _build(gp, miqp, model, start)
                miqp.Params.MIPGap = float(options.mip_rel_gap)
                miqp.Params.MIPGapAbs = model.absolute_gap()
                if model.continuous.any():
                    miqp.Params.IntFeasTol = CONTINUOUS_TOLERANCE
                    miqp.Params.FeasibilityTol = CONTINUOUS_TOLERANCE
                if options.threads is not None:
                    miqp.Params.Threads = int(options.threads)
                if options.seed is not None:
                    miqp.Params.Seed = int(options.seed)
            with watch.phase("sampling"):
                # What is left after building; Gurobi reads its clock from the start of optimize().
                miqp.Params.TimeLimit = min(max(watch.remaining(), 1e-3), gp.GRB.INFINITY)
                try:
                    miqp.optimize()
                except gp.GurobiError as err:
                    if err.errno == SIZE_LIMIT_EXCEEDED:
                        raise ModelTooLargeError(_too_large(model)) from err
                    raise
            status = _STATUS.get(miqp.Status, f"gurobi_status_{miqp.Status}")
            has_solution = miqp.SolCount > 0
            if miqp.IsMIP:
                bound = float(miqp.ObjBound) if has_solution else -math.inf
            else:  # a linear or convex quadratic program: no branching, its optimum is its bound
                bound = float(miqp.ObjVal) if has_solution and status == "optimal" else -math.inf
            return Outcome(
                status=status,
                x=np.asarray(x.X) if has_solution else None,
                bound=-math.inf if bound <= -gp.GRB.INFINITY else bound,
                num_nodes=int(miqp.NodeCount) if miqp.IsMIP else 0,
            )


def _build(gp: ModuleType, miqp: Any, model: IndexModel, start: np.ndarray | None) -> Any:
    """Variables, objective, constraints and start of ``model`` on the Gurobi model ``miqp``."""
    GRB = gp.GRB
    n = model.num_variables
    vtype = np.array([GRB.BINARY, GRB.INTEGER, GRB.CONTINUOUS])[model.kind]
    x = miqp.addMVar(n, lb=_bound(GRB, model.lower), ub=_bound(GRB, model.upper), vtype=vtype)
    objective = model.linear @ x + model.offset
    if len(model.quadratic):
        coupling = scipy.sparse.csr_matrix((model.quadratic, (model.rows, model.cols)), shape=(n, n))
        objective = x @ coupling @ x + objective
    miqp.setObjective(objective, GRB.MINIMIZE)
    lower, upper = model.row_lower, model.row_upper
    equal = lower == upper
    for rows, sense, rhs in (
        (equal, GRB.EQUAL, lower),
        (~equal & np.isfinite(upper), GRB.LESS_EQUAL, upper),
        (~equal & np.isfinite(lower), GRB.GREATER_EQUAL, lower),
    ):
        if rows.any():
            miqp.addMConstr(model.constraints[rows], x, sense, rhs[rows])
    if start is not None:
        x.Start = start
    return x


def _bound(GRB: Any, values: np.ndarray) -> np.ndarray:
    """Bounds with ``±inf`` as Gurobi's ``±GRB.INFINITY``."""
    return np.clip(values, -GRB.INFINITY, GRB.INFINITY)


def _too_large(model: IndexModel) -> str:
    quadratic = len(model.quadratic) > 0
    return (
        f"the model has {model.num_variables} variables and {model.num_constraints} linear "
        f"constraints{' with a quadratic objective' if quadratic else ''}, too large for the installed "
        "Gurobi licence (the size-limited pip licence takes 2000 variables and 2000 linear "
        "constraints, and only 200 variables once the objective is quadratic); install a full "
        "Gurobi licence, or use HiGHSSampler (for products with a BINARY factor and a bounded other)"
    )
