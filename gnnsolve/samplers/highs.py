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

import math
import os
from dataclasses import dataclass
from typing import Any

import highspy
import numpy as np
import scipy.sparse

from gnnsolve._highs import PROCESS_START_SECONDS, PROCESS_STEP_SECONDS, HighsJob, run_in_process, run_in_thread
from gnnsolve.samplers._common import Stopwatch
from gnnsolve.samplers._milp import ExactSampler, IndexModel, Outcome, SolveOptions

__all__ = ["HiGHSSampler"]

#: Seconds per column or nonzero to compile a model, linearise it and pass it to HiGHS.
BUILD_SECONDS_PER_ENTRY = 1e-6
#: Seconds per nonzero of HiGHS's set-up, which reads no clock (0.5 to 1.3 microseconds measured).
SET_UP_SECONDS_PER_NONZERO = 3e-6
#: Seconds per nonzero of HiGHS's feasibility jump heuristic, which reads no clock either (its
#: effort is capped at 1024 per nonzero), on sparse models; it grows with the variables' degree
#: (:func:`mean_degree`), by this much more per :data:`JUMP_DEGREE_SCALE`. Measured on a busy
#: 2-core machine: 10 microseconds per nonzero at degree 3 (100,000 variables), 27 at degree
#: 149 and 77 at degree 999 (dense models of 150 and 1,000 variables).
JUMP_SECONDS_PER_NONZERO = 10e-6
JUMP_DEGREE_SCALE = 200
#: Bytes of memory per nonzero of the MILP that HiGHS needs at least. Its peak on linearised
#: BQMs, measured in its first 5-30 s (presolve off, root node): 1.0-1.2 kB per nonzero on dense
#: models of 300-700 variables, 3 kB at 1,200 and 5 kB on a sparse one of 3,000 (5% density).
MEMORY_BYTES_PER_NONZERO = 1_000


def start_seconds(nonzeros: int, degree: float) -> float:
    """A cautious estimate of the seconds from HiGHS's start to its first incumbent of its own,
    during which it reads no clock: its set-up and the feasibility jump, for a MILP of
    ``nonzeros`` linearising a model of :func:`mean_degree` ``degree``."""
    return nonzeros * (SET_UP_SECONDS_PER_NONZERO + JUMP_SECONDS_PER_NONZERO * (1 + degree / JUMP_DEGREE_SCALE))


def mean_degree(num_variables: int, num_products: int, num_entries: int) -> float:
    """The mean number of terms a variable is in: products (two ends each) and constraint entries."""
    return (2 * num_products + num_entries) / max(num_variables, 1)


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
    bound, offset included), ``gap`` (relative, 0 when optimal), ``num_nodes``, ``time_limit``
    and ``timing``.

    Keywords: ``time_limit``, ``mip_rel_gap`` (default 0: "optimal" means proven optimal;
    HiGHS's own default is 1e-4), ``threads`` (sets HiGHS's process-wide scheduler), ``seed``
    (HiGHS's ``random_seed``), ``output`` (HiGHS's log, off by default), ``initial_states`` (a
    MIP start) and ``num_reads`` (accepted, one row is returned). ``presolve`` chooses HiGHS's
    presolve: the default ``None`` runs it only on models with constraints, since on a
    linearised BQM it seldom removes anything and, on dense ones, it can take seconds.

    ``time_limit`` is the whole call, building included: ``None`` (the default) gives
    :func:`~gnnsolve.samplers._milp.default_time_limit` of the model's size (10 s, plus 1 s per
    10,000 variables and products, at most 60 s), ``math.inf`` runs until optimality is proven.
    ``info["time_limit"]`` reports the budget applied. HiGHS reads its clock only between the
    steps of its search, and on large models a step (its set-up, the feasibility jump, the root
    LP, a round of cuts) lasts seconds, up to a minute. So on models where those steps may last
    longer than :data:`~gnnsolve._highs.PROCESS_STEP_SECONDS` (:func:`start_seconds`: from about
    13 microseconds per nonzero of the MILP on sparse models to 60 on dense ones, cautiously:
    from about 15,000 nonzeros on), HiGHS runs in a child process that is killed at the
    deadline, and the call returns with HiGHS's last improving solution; nothing runs on after
    it. Smaller models run in a thread, and where the budget left cannot pay for building the
    model and HiGHS's steps before its first incumbent, HiGHS is not started. Every BQM has a
    starting incumbent (``initial_states``, or every variable at its lower value), so a row
    always comes back; when HiGHS did not finish, ``info["status"]`` is ``"time_limit"``.

    A model whose MILP needs more memory than the process has left
    (:data:`MEMORY_BYTES_PER_NONZERO` per nonzero, against
    :func:`~gnnsolve.samplers._common.available_memory`) is refused with a
    :class:`~gnnsolve.errors.ModelTooLargeError` before anything is built: a dense BQM of 2,500
    variables linearises to 12.5 million nonzeros, about 12 GiB.

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

    _memory_advice = ("GurobiSampler takes the quadratic model without linearising it; else use a heuristic "
                      "sampler (sa, tabu, gnn)")

    def _memory_bytes(self, num_variables: int, num_products: int, num_entries: int) -> float:
        return MEMORY_BYTES_PER_NONZERO * _nonzeros(num_products, num_entries)

    def _set_up_seconds(self, num_variables: int, num_products: int, num_entries: int) -> float:
        nonzeros = _nonzeros(num_products, num_entries)
        build = BUILD_SECONDS_PER_ENTRY * (num_variables + num_products + nonzeros)
        steps = start_seconds(nonzeros, mean_degree(num_variables, num_products, num_entries))
        return build + (PROCESS_START_SECONDS if _in_process(steps) else steps)

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
            settings: dict[str, Any] = {
                "output_flag": options.output,
                "mip_rel_gap": float(options.mip_rel_gap),
                "mip_abs_gap": model.absolute_gap(),
                "presolve": "on" if (model.num_constraints > 0 if presolve is None else presolve) else "off",
            }
            if options.seed is not None:
                settings["random_seed"] = int(options.seed)
            if options.threads is not None:
                settings["threads"] = int(options.threads)
            matrix = milp.matrix
            job = HighsJob(
                model.num_variables, milp.cost, milp.lower, milp.upper, milp.integrality, milp.row_lower,
                milp.row_upper, matrix.indptr, matrix.indices, matrix.data, milp.offset, settings,
                None if start is None else np.concatenate([start, start[model.rows] * start[model.cols]]),
            )
        # HiGHS reads no clock before its first incumbent of its own: where that may take long, it
        # runs in a process of its own, killed at the deadline; else in a thread, started only if
        # that incumbent can come in time.
        degree = mean_degree(model.num_variables, len(model.quadratic), model.constraints.nnz)
        steps = start_seconds(matrix.nnz, degree)
        in_process = _in_process(steps)
        if (PROCESS_START_SECONDS if in_process else steps) > watch.remaining():
            return Outcome("time_limit", start, -math.inf, 0, "not_started")
        with watch.phase("sampling"):
            if in_process:
                result = run_in_process(job, watch.remaining())
            else:
                result = run_in_thread(job, watch.remaining(), reset_scheduler=options.threads is not None)
        if not result.finished:
            # The deadline came first: HiGHS's last improving solution, or the start.
            return Outcome("time_limit", start if result.x is None else result.x, result.bound, result.num_nodes, "deadline")
        return Outcome(status=result.status or "", x=result.x, bound=result.bound, num_nodes=result.num_nodes)


def _nonzeros(num_products: int, num_entries: int) -> int:
    """The MILP's nonzeros, at most: each product adds at most two rows of two entries."""
    return 4 * num_products + num_entries


def _in_process(step_seconds: float) -> bool:
    """Whether HiGHS runs in a process of its own: its steps may outlast a deadline by too much (POSIX only)."""
    return step_seconds > PROCESS_STEP_SECONDS and os.name == "posix"
