"""HiGHSSampler: BQMs and CQMs solved exactly as mixed-integer linear programs by HiGHS.

HiGHS solves linear, not quadratic, programs, so every product of the objective, :math:`J\\, b\\, y`
with :math:`b` BINARY and :math:`y` a BINARY, INTEGER or REAL variable in :math:`[l, u]`, is
replaced by a continuous :math:`z` held to :math:`b y` by McCormick's inequalities, which are exact
where one factor is binary. Only those that the sign of :math:`J` needs are written: minimising
pushes :math:`z` down when :math:`J > 0` and up when :math:`J < 0`, so

.. math::

    J > 0:\\; z \\ge y - u (1 - b),\\; z \\ge l b, \\qquad
    J < 0:\\; z \\le y - l (1 - b),\\; z \\le u b,

with :math:`z \\in [\\min(l, 0), \\max(u, 0)]`, which makes :math:`z \\ge l b` redundant where
:math:`l \\ge 0` and :math:`z \\le u b` where :math:`u \\le 0`. For two binaries (:math:`l = 0`,
:math:`u = 1`) these are Fortet's :math:`z \\ge x_i + x_j - 1` and :math:`z \\le x_i,\\; z \\le x_j`.
The MILP :math:`\\min\\, c + h^\\top x + J^\\top z` has the model's optimum. A model with
:math:`n` variables and :math:`m` products becomes :math:`n + m` columns and at most :math:`2m`
rows (plus a CQM's own linear constraints), built in bulk from numpy arrays. A product of two
variables that are not BINARY, or with a factor that is unbounded (or bounded beyond
:data:`~gnnsolve.samplers._milp.MAX_RANGE`), has no exact linear form and is refused with
:class:`~gnnsolve.errors.UnsupportedModelError`: GurobiSampler takes it. REAL variables are
continuous columns: a CQM without BINARY or INTEGER variables is a linear program.

Example:
    >>> import dimod
    >>> from gnnsolve.samplers.highs import HiGHSSampler
    >>> bqm = dimod.BQM({"a": -1.0, "b": -1.0, "c": 0.5}, {("a", "b"): 2.0, ("b", "c"): -1.0}, 0.0, "BINARY")
    >>> sampleset = HiGHSSampler().sample(bqm, time_limit=10)
    >>> print(sampleset.first.energy, sampleset.info["status"], sampleset.info["gap"])
    -1.5 optimal 0.0

References:
    G. P. McCormick, "Computability of global solutions to factorable nonconvex programs: Part I —
    Convex underestimating problems", Mathematical Programming 10 (1976).
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
from gnnsolve.errors import UnsupportedModelError
from gnnsolve.samplers._common import Stopwatch
from gnnsolve.samplers._milp import CONTINUOUS_TOLERANCE, MAX_RANGE, ExactSampler, IndexModel, Outcome, SolveOptions

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
    """The MILP of an :class:`IndexModel`: columns ``x`` then one ``z`` per product, rows CSR."""

    cost: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    integrality: np.ndarray
    matrix: scipy.sparse.csr_matrix
    row_lower: np.ndarray
    row_upper: np.ndarray
    offset: float


def linearise(model: IndexModel) -> LinearisedModel:
    """Replace each product :math:`J\\, b\\, y` (``b`` BINARY, ``y`` in ``[l, u]``) by :math:`J z` and
    the McCormick rows its sign needs.

    Raises:
        UnsupportedModelError: a product without a BINARY factor, or whose other factor is
            unbounded or has a bound beyond :data:`~gnnsolve.samplers._milp.MAX_RANGE`.
    """
    n, k = model.num_variables, len(model.quadratic)
    _check_products(model)
    # The BINARY factor b and the other y of each product (of two binaries: either, the first).
    first_binary = model.binary[model.rows]
    b = np.where(first_binary, model.rows, model.cols)
    y = np.where(first_binary, model.cols, model.rows)
    low, up = model.lower[y], model.upper[y]
    z = n + np.arange(k)
    ones, zeros = np.ones(k), np.zeros(k)
    positive, negative = model.quadratic > 0, model.quadratic < 0
    # The rows of the products with J > 0 first, then of those with J < 0, each product's
    # together: one row each, and a second where the other factor's bound 0 does not do its work.
    order = np.concatenate([np.flatnonzero(positive), np.flatnonzero(negative)])
    second = np.where(positive, low < 0, up > 0)
    count = np.zeros(k, dtype=np.int64)
    count[order] = 1 + second[order]
    first = np.zeros(k, dtype=np.int64)
    first[order] = np.cumsum(count[order]) - count[order]
    # Each row type: (its products, their rows, [(column, coefficient), ...], right-hand side); all "<=".
    types = [
        (positive, first, [(y, ones), (b, up), (z, -ones)], up),  # z >= y - u (1 - b)
        (positive & (low < 0), first + 1, [(b, low), (z, -ones)], zeros),  # z >= l b
        (negative & (up > 0), first, [(z, ones), (b, -up)], zeros),  # z <= u b
        (negative, first + (up > 0), [(z, ones), (y, -ones), (b, -low)], -low),  # z <= y - l (1 - b)
    ]
    num_rows = int(count.sum())
    row_index, col_index, values = [], [], []
    right = np.zeros(num_rows)
    for mask, row, terms, rhs in types:
        which = np.flatnonzero(mask)
        for column, value in terms:
            row_index.append(row[which])
            col_index.append(column[which])
            values.append(value[which])
        right[row[which]] = rhs[which]
    products = scipy.sparse.csr_matrix(
        (np.concatenate(values), (np.concatenate(row_index), np.concatenate(col_index))), shape=(num_rows, n + k)
    )
    products.eliminate_zeros()  # l = 0 leaves z <= y - l (1 - b) without its b, u = 0 z >= y - u (1 - b)
    padding = scipy.sparse.csr_matrix((model.num_constraints, k))
    constraints = scipy.sparse.hstack([model.constraints, padding])
    return LinearisedModel(
        cost=np.concatenate([model.linear, model.quadratic]),
        lower=np.concatenate([model.lower, np.minimum(low, 0.0)]),
        upper=np.concatenate([model.upper, np.maximum(up, 0.0)]),
        integrality=np.concatenate([(~model.continuous).astype(np.int32), np.zeros(k, dtype=np.int32)]),
        matrix=scipy.sparse.vstack([constraints, products], format="csr"),
        row_lower=np.concatenate([model.row_lower, np.full(num_rows, -np.inf)]),
        row_upper=np.concatenate([model.row_upper, right]),
        offset=model.offset,
    )


def _check_products(model: IndexModel) -> None:
    """Refuse a product McCormick's rows cannot state exactly and soundly: one without a BINARY
    factor, or whose other factor is unbounded or spans more than ``MAX_RANGE``."""
    binary = model.binary
    neither = ~(binary[model.rows] | binary[model.cols])
    other = np.where(binary[model.rows], model.cols, model.rows)
    wide = np.maximum(np.abs(model.lower[other]), np.abs(model.upper[other])) > MAX_RANGE
    for p in np.flatnonzero(neither | wide)[:1]:
        i, j = model.rows[p], model.cols[p]
        u, v = model.variables[i], model.variables[j]
        term = f"{u!r} * {v!r}" if i != j else f"{u!r} ** 2"
        if neither[p]:
            kinds = model.kinds
            raise UnsupportedModelError(
                f"the objective term {term} multiplies two variables that are not BINARY ({kinds[i].name} and "
                f"{kinds[j].name}); HiGHS solves linear programs and linearises only products with a BINARY "
                "factor: use GurobiSampler, which takes any product"
            )
        label, low, up = model.variables[other[p]], model.lower[other[p]], model.upper[other[p]]
        how = "infinite" if math.isinf(max(abs(low), abs(up))) else f"wider than {MAX_RANGE:g}"
        raise UnsupportedModelError(
            f"the objective term {term} multiplies a BINARY by {label!r}, whose bounds [{low:g}, {up:g}] are "
            f"{how}; HiGHS linearises a product b * y exactly only where y has finite, moderate bounds: give "
            f"{label!r} such bounds, or use GurobiSampler, which takes any product"
        )


class HiGHSSampler(ExactSampler):
    """Exact sampler: BQMs and CQMs linearised (McCormick) and solved by HiGHS's MILP solver.

    ``sample(bqm, ...)`` and ``sample_cqm(cqm, ...)`` return one row, the incumbent, with
    ``info`` keys ``status`` (``"optimal"``, ``"time_limit"``, ...), ``bound`` (HiGHS's dual
    bound, offset included; a linear program's optimum), ``gap`` (relative, 0 when optimal),
    ``num_nodes``, ``time_limit`` and ``timing``.

    CQMs may hold BINARY, SPIN, INTEGER and REAL variables, bounded or not, and products in the
    objective of a BINARY (or SPIN) variable with a bounded one; REAL values come back unrounded.

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

        A REAL variable, limited by a binary, and a product of a binary with a bounded integer:

        >>> cqm = dimod.CQM()
        >>> build, r = dimod.Binary("build"), dimod.Real("r")  # r in [0, 1e30]: unbounded above
        >>> m = dimod.Integer("m", lower_bound=1, upper_bound=4)
        >>> cqm.set_objective(3 * build - 2 * r + m - 2 * build * m)
        >>> label = cqm.add_constraint(r - 2.5 * build <= 0, label="r needs build")
        >>> best = HiGHSSampler().sample_cqm(cqm).first
        >>> best.sample == {"build": 1, "m": 4, "r": 2.5}, float(best.energy), bool(best.is_feasible)
        (True, -6.0, True)
    """

    solver_name = "HiGHS"

    def __init__(self) -> None:
        super().__init__()
        self.parameters["presolve"] = []
        self.properties = {
            "solver": "highs",
            "solver_version": (f"{highspy.HIGHS_VERSION_MAJOR}.{highspy.HIGHS_VERSION_MINOR}.{highspy.HIGHS_VERSION_PATCH}"),
        }

    _memory_advice = (
        "GurobiSampler takes the quadratic model without linearising it; else use a heuristic sampler (sa, tabu, gnn)"
    )

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
            if model.continuous.any():
                settings["mip_feasibility_tolerance"] = CONTINUOUS_TOLERANCE
                settings["primal_feasibility_tolerance"] = CONTINUOUS_TOLERANCE
            if options.seed is not None:
                settings["random_seed"] = int(options.seed)
            if options.threads is not None:
                settings["threads"] = int(options.threads)
            matrix = milp.matrix
            job = HighsJob(
                model.num_variables,
                milp.cost,
                milp.lower,
                milp.upper,
                milp.integrality,
                milp.row_lower,
                milp.row_upper,
                matrix.indptr,
                matrix.indices,
                matrix.data,
                milp.offset,
                settings,
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
    """The MILP's nonzeros, about: a product's rows hold four at most (three for J > 0, two and
    two for J < 0), five where its non-binary factor's lower bound is not 0."""
    return 4 * num_products + num_entries


def _in_process(step_seconds: float) -> bool:
    """Whether HiGHS runs in a process of its own: its steps may outlast a deadline by too much (POSIX only)."""
    return step_seconds > PROCESS_STEP_SECONDS and os.name == "posix"
