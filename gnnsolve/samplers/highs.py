"""HiGHSSampler: BQMs and CQMs solved exactly as mixed-integer linear programs by HiGHS.

HiGHS solves linear, not quadratic, programs, so every product of binaries is replaced by a
continuous :math:`y_{ij} \\in [0, 1]` held to :math:`x_i x_j` by only the inequalities that the
sign of its coefficient needs (Fortet's linearisation). Minimising pushes :math:`y_{ij}` down when
:math:`J_{ij} > 0` and up when :math:`J_{ij} < 0`, so

.. math::

    J_{ij} > 0:\\; y_{ij} \\ge x_i + x_j - 1, \\qquad
    J_{ij} < 0:\\; y_{ij} \\le x_i,\\; y_{ij} \\le x_j,

and the MILP :math:`\\min\\, c + h^\\top x + J^\\top y` has the BQM's optimum. A model with
:math:`n` variables and :math:`m` interactions becomes :math:`n + m` columns and at most
:math:`2m` rows (plus a CQM's own linear constraints), built in bulk from numpy arrays.

Example:
    >>> import dimod
    >>> from gnnsolve.samplers.highs import HiGHSSampler
    >>> bqm = dimod.BQM({"a": -1.0, "b": -1.0, "c": 0.5}, {("a", "b"): 2.0, ("b", "c"): -1.0}, 0.0, "BINARY")
    >>> sampleset = HiGHSSampler().sample(bqm, time_limit=10)
    >>> print(sampleset.first.energy, sampleset.info["status"], sampleset.info["gap"])
    -1.5 optimal 0.0

References:
    R. Fortet, "Applications de l'algèbre de Boole en recherche opérationnelle",
    Revue française de recherche opérationnelle 4 (1960).
    Q. Huangfu and J. A. J. Hall, "Parallelizing the dual revised simplex method",
    Mathematical Programming Computation 10 (2018). https://highs.dev
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import highspy
import numpy as np
import scipy.sparse

from gnnsolve._highs import new_highs
from gnnsolve.samplers._common import Stopwatch
from gnnsolve.samplers._milp import ExactSampler, IndexModel, Outcome, SolveOptions

__all__ = ["HiGHSSampler"]

_STATUS = {
    highspy.HighsModelStatus.kOptimal: "optimal",
    highspy.HighsModelStatus.kTimeLimit: "time_limit",
    highspy.HighsModelStatus.kInfeasible: "infeasible",
    highspy.HighsModelStatus.kUnboundedOrInfeasible: "infeasible_or_unbounded",
    highspy.HighsModelStatus.kUnbounded: "unbounded",
    highspy.HighsModelStatus.kIterationLimit: "iteration_limit",
    highspy.HighsModelStatus.kSolutionLimit: "solution_limit",
    highspy.HighsModelStatus.kInterrupt: "interrupted",
    highspy.HighsModelStatus.kHighsInterrupt: "interrupted",
    highspy.HighsModelStatus.kMemoryLimit: "memory_limit",
    highspy.HighsModelStatus.kObjectiveBound: "objective_limit",
    highspy.HighsModelStatus.kObjectiveTarget: "objective_limit",
}


@dataclass(frozen=True)
class LinearisedModel:
    """The MILP of an :class:`IndexModel`: columns ``x`` then one ``y`` per product, rows CSR."""

    cost: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    integrality: np.ndarray
    matrix: scipy.sparse.csr_matrix
    row_lower: np.ndarray
    row_upper: np.ndarray
    offset: float


def linearise(model: IndexModel) -> LinearisedModel:
    """Replace each product :math:`J_{ij} x_i x_j` by :math:`J_{ij} y_{ij}` and the rows its sign needs."""
    n, k = model.num_variables, len(model.quadratic)
    y = n + np.arange(k)
    pos = np.flatnonzero(model.quadratic > 0)
    neg = np.flatnonzero(model.quadratic < 0)
    # J > 0:  x_i + x_j - y <= 1          J < 0:  y - x_i <= 0,  y - x_j <= 0
    num_rows = len(pos) + 2 * len(neg)
    row_index = np.concatenate([
        np.repeat(np.arange(len(pos)), 3),
        len(pos) + np.repeat(np.arange(2 * len(neg)), 2),
    ])
    col_index = np.concatenate([
        np.stack([model.rows[pos], model.cols[pos], y[pos]], axis=1).ravel(),
        np.stack([y[neg], model.rows[neg], y[neg], model.cols[neg]], axis=1).ravel(),
    ])
    values = np.concatenate([np.tile([1.0, 1.0, -1.0], len(pos)), np.tile([1.0, -1.0], 2 * len(neg))])
    products = scipy.sparse.csr_matrix((values, (row_index, col_index)), shape=(num_rows, n + k))
    padding = scipy.sparse.csr_matrix((model.num_constraints, k))
    constraints = scipy.sparse.hstack([model.constraints, padding])
    return LinearisedModel(
        cost=np.concatenate([model.linear, model.quadratic]),
        lower=np.concatenate([model.lower, np.zeros(k)]),
        upper=np.concatenate([model.upper, np.ones(k)]),
        integrality=np.concatenate([np.ones(n, dtype=np.int32), np.zeros(k, dtype=np.int32)]),
        matrix=scipy.sparse.vstack([constraints, products], format="csr"),
        row_lower=np.concatenate([model.row_lower, np.full(num_rows, -np.inf)]),
        row_upper=np.concatenate([model.row_upper, np.ones(len(pos)), np.zeros(2 * len(neg))]),
        offset=model.offset,
    )


class HiGHSSampler(ExactSampler):
    """Exact sampler: BQMs and CQMs linearised (Fortet) and solved by HiGHS's MILP solver.

    ``sample(bqm, ...)`` and ``sample_cqm(cqm, ...)`` return one row, the incumbent, with
    ``info`` keys ``status`` (``"optimal"``, ``"time_limit"``, ...), ``bound`` (HiGHS's dual
    bound, offset included), ``gap`` (relative, 0 when optimal), ``num_nodes`` and ``timing``.

    Keywords: ``time_limit`` (seconds for the whole call, ``None`` for none), ``mip_rel_gap``
    (default 0: "optimal" means proven optimal; HiGHS's own default is 1e-4), ``threads`` (sets
    HiGHS's process-wide scheduler), ``seed`` (HiGHS's ``random_seed``), ``output`` (HiGHS's log,
    off by default), ``initial_states`` (a MIP start) and ``num_reads`` (accepted, one row is
    returned). ``presolve`` chooses HiGHS's presolve: the default ``None`` runs it only on models
    with constraints, since on a linearised BQM it seldom removes anything and, on dense ones, it
    can overrun ``time_limit`` by a second or more. (HiGHS reads its clock between steps, so on
    large models a fraction of a second's overrun remains.)

    Every BQM gets a starting incumbent (``initial_states`` or all zeros), so a row is returned
    even when the time limit stops HiGHS early.

    Example:
        >>> import dimod
        >>> from gnnsolve.samplers.highs import HiGHSSampler
        >>> cqm = dimod.CQM()
        >>> x, y = dimod.Binaries(["x", "y"])
        >>> n = dimod.Integer("n", upper_bound=3)
        >>> cqm.set_objective(-2 * x - 3 * y - n + 4 * x * y)
        >>> label = cqm.add_constraint(x + y + n <= 3, label="capacity")
        >>> best = HiGHSSampler().sample_cqm(cqm).first
        >>> best.sample == {"n": 2, "x": 0, "y": 1}, float(best.energy), bool(best.is_feasible)
        (True, -5.0, True)
    """

    solver_name = "HiGHS"

    def __init__(self) -> None:
        super().__init__()
        self.parameters["presolve"] = []
        self.properties = {
            "solver": "highs",
            "solver_version": (
                f"{highspy.HIGHS_VERSION_MAJOR}.{highspy.HIGHS_VERSION_MINOR}.{highspy.HIGHS_VERSION_PATCH}"
            ),
        }

    def _solve(
        self,
        model: IndexModel,
        start: np.ndarray | None,
        options: SolveOptions,
        watch: Stopwatch,
        presolve: bool | None = None,
    ) -> Outcome:
        if presolve is not None and not isinstance(presolve, bool):
            raise TypeError(f"presolve must be True, False or None, got {presolve!r}")
        with watch.phase("preprocessing"):
            milp = linearise(model)
            highs = new_highs(quiet=not options.output)
            settings: dict[str, Any] = {
                "output_flag": options.output,
                "mip_rel_gap": float(options.mip_rel_gap),
                "presolve": "on" if (model.num_constraints > 0 if presolve is None else presolve) else "off",
            }
            if options.seed is not None:
                settings["random_seed"] = int(options.seed)
            if options.threads is not None:
                settings["threads"] = int(options.threads)
                highspy.Highs.resetGlobalScheduler(True)
            for name, value in settings.items():
                _check(highs.setOptionValue(name, value), f"setting option {name}={value!r}")
            matrix = milp.matrix
            _check(
                highs.passModel(
                    len(milp.cost), matrix.shape[0], matrix.nnz,
                    int(highspy.MatrixFormat.kRowwise), int(highspy.ObjSense.kMinimize), milp.offset,
                    milp.cost, milp.lower, milp.upper, milp.row_lower, milp.row_upper,
                    matrix.indptr.astype(np.int32), matrix.indices.astype(np.int32), matrix.data,
                    milp.integrality,
                ),
                "passing the model",
            )
            if start is not None:
                columns = np.concatenate([start, start[model.rows] * start[model.cols]])
                _check(
                    highs.setSolution(len(columns), np.arange(len(columns), dtype=np.int32), columns),
                    "passing initial_states",
                )
        with watch.phase("sampling"):
            remaining = options.remaining(watch)
            if remaining is not None:
                _check(highs.setOptionValue("time_limit", remaining), "setting time_limit")
            _check(highs.run(), "solving")
            status = highs.getModelStatus()
            info = highs.getInfo()
        has_solution = info.primal_solution_status == highspy.SolutionStatus.kSolutionStatusFeasible
        return Outcome(
            status=_STATUS.get(status, highs.modelStatusToString(status).lower()),
            x=np.asarray(highs.getSolution().col_value[: model.num_variables]) if has_solution else None,
            bound=float(info.mip_dual_bound),
            num_nodes=int(info.mip_node_count),
        )


def _check(status: highspy.HighsStatus, what: str) -> None:
    if status == highspy.HighsStatus.kError:
        raise RuntimeError(f"HiGHS reported an error {what}; run with output=True to see its log")


