"""What the exact samplers share: a BQM or CQM in index form, and the door in front of a solver.

:class:`IndexModel` states a model as

.. math::

    \\min_x \\; c + h^\\top x + \\sum_{(i,j)} J_{ij} x_i x_j
    \\quad \\text{s.t.} \\quad r^{lo} \\le A x \\le r^{up}, \\quad l \\le x \\le u,

where every :math:`x_i` is of one :class:`Kind`: BINARY, INTEGER or CONTINUOUS (a dimod REAL).
Bounds may be infinite: a REAL bound of magnitude ``1e30`` or more (dimod's default upper bound
is ``1e30``) and an INTEGER bound of magnitude ``2**53 - 1`` or more (dimod's default) mean none.
A BQM becomes one with no rows (SPIN models through :class:`CompiledBQM`); a CQM becomes one after
its SPIN variables are rewritten :math:`s = 2x - 1`. The objective may multiply any two variables
(dimod itself allows no product with a REAL one); which products a backend takes is its own
business: Gurobi takes them all, HiGHS those with a BINARY factor and a bounded other. What cannot
be stated this way (quadratic or soft constraints, NaN bounds) is rejected with
:class:`UnsupportedModelError` or :class:`InvalidModelError` before any solver runs.

:class:`ExactSampler` is the ``sample`` / ``sample_cqm`` front door of the MILP and MIQP
backends: it checks the keywords, compiles the model, hands it to the backend's ``_solve`` and
returns a one-row SampleSet whose ``info`` holds ``status``, ``bound``, ``gap``, ``num_nodes``
and ``timing``. Values come back rounded for BINARY and INTEGER variables (``±1`` for SPIN) and
as the solver gives them, clipped to their bounds, for REAL ones.

Example:
    >>> import dimod
    >>> from gnnsolve.samplers._milp import IndexModel
    >>> cqm = dimod.CQM()
    >>> x, y = dimod.Binaries(["x", "y"])
    >>> n = dimod.Integer("n", upper_bound=5)
    >>> r = dimod.Real("r")  # dimod's bounds [0, 1e30]: no upper bound
    >>> cqm.set_objective(-x * y - n * x + r)
    >>> label = cqm.add_constraint(x + y + n - r <= 4, label="capacity")
    >>> model = IndexModel.from_cqm(cqm)
    >>> model.variables, [kind.name for kind in model.kinds], model.upper.tolist()
    (['x', 'y', 'n', 'r'], ['BINARY', 'BINARY', 'INTEGER', 'CONTINUOUS'], [1.0, 1.0, 5.0, inf])
    >>> model.constraints.toarray().tolist()
    [[1.0, 1.0, 1.0, -1.0]]
"""

from __future__ import annotations

import abc
import enum
import math
from dataclasses import dataclass, replace
from typing import Any, Hashable

import dimod
import numpy as np
import scipy.optimize
import scipy.sparse

from gnnsolve.errors import (
    InfeasibleModelError,
    InfeasibleOrUnboundedError,
    InvalidModelError,
    ModelTooLargeError,
    NoSolutionError,
    UnboundedModelError,
    UnsupportedModelError,
)
from gnnsolve.qubo import CompiledBQM
from gnnsolve.samplers._common import (
    Stopwatch,
    available_memory,
    check_positive_int,
    check_seed,
    cqm_sampleset,
    labelled,
    resolve_time_limit,
)

__all__ = [
    "Kind",
    "IndexModel",
    "SolveOptions",
    "Outcome",
    "ExactSampler",
    "mip_gap",
    "default_time_limit",
    "CONTINUOUS_TOLERANCE",
]

#: Objective differences below this (relative to ``max(1, |energy|)``) count as a zero gap:
#: the scale of both solvers' own optimality tolerances.
GAP_TOLERANCE = 1e-6

#: The widest ratio of the objective's largest to smallest non-zero coefficient that the exact
#: samplers accept: beyond it the backends' tolerances (about 1e-9 relative) hide the smallest
#: terms, and a bias of 1e20 beside ones of 1 came back "optimal" 1.5 above the optimum.
MAX_RANGE = 1e9

#: The feasibility tolerance, in the constraints' own units, of :meth:`IndexModel.polish`
#: (HiGHS's least): below dimod's 1e-8 for a satisfied constraint.
POLISH_TOLERANCE = 1e-10

#: The feasibility and integrality tolerance the backends get on models with CONTINUOUS
#: variables (their defaults are 1e-7 to 1e-5). With an INTEGER value 1e-6 off, the continuous
#: values follow it, and the solver's objective and bound fell 6e-6 below the optimum of the
#: rounded values, reporting a gap on an optimal answer; rounding moved rows by as much too.
CONTINUOUS_TOLERANCE = 1e-9

#: A REAL bound of this magnitude or more is no bound (dimod's default upper bound for REAL).
REAL_INFINITY = 1e30

#: An INTEGER bound of this magnitude or more is no bound (dimod's default upper bound for INTEGER).
INTEGER_INFINITY = float(2**53 - 1)


class Kind(enum.IntEnum):
    """What values a column of an :class:`IndexModel` takes."""

    BINARY = 0
    INTEGER = 1
    CONTINUOUS = 2


@dataclass(frozen=True)
class IndexModel:
    """A BQM or CQM over BINARY, INTEGER and CONTINUOUS (REAL) variables, in index form.

    Attributes:
        variables: the user's labels in index order.
        kind: each variable's :class:`Kind`, as ``int8`` codes (SPIN variables are BINARY here).
        lower, upper: variable bounds, ``-inf`` / ``inf`` where there is none.
        linear: linear objective coefficients :math:`h`.
        rows, cols, quadratic: objective products :math:`J_{ij} x_i x_j` as COO arrays, ``rows < cols``
            (``rows == cols`` for the square of an INTEGER variable).
        offset: objective constant :math:`c`.
        constraints: the linear constraint matrix :math:`A` (CSR, one row per constraint).
        row_lower, row_upper: the constraints' bounds (``-inf`` / ``inf`` where open).
        spin: ``True`` where the user's variable is SPIN and ``x`` stands for :math:`(s + 1) / 2`.
        row_labels: the constraints' labels, one per row of :attr:`constraints`.
    """

    variables: list[Hashable]
    kind: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    linear: np.ndarray
    rows: np.ndarray
    cols: np.ndarray
    quadratic: np.ndarray
    offset: float
    constraints: scipy.sparse.csr_matrix
    row_lower: np.ndarray
    row_upper: np.ndarray
    spin: np.ndarray
    row_labels: tuple[Hashable, ...] = ()

    @property
    def num_variables(self) -> int:
        return len(self.variables)

    @property
    def num_constraints(self) -> int:
        return self.constraints.shape[0]

    @property
    def kinds(self) -> list[Kind]:
        """Each variable's :class:`Kind`, in index order."""
        return [Kind(code) for code in self.kind]

    @property
    def binary(self) -> np.ndarray:
        """``True`` where a variable is BINARY (or SPIN, solved as BINARY)."""
        return self.kind == Kind.BINARY

    @property
    def integer(self) -> np.ndarray:
        """``True`` where a variable is INTEGER."""
        return self.kind == Kind.INTEGER

    @property
    def continuous(self) -> np.ndarray:
        """``True`` where a variable is CONTINUOUS (a dimod REAL)."""
        return self.kind == Kind.CONTINUOUS

    @property
    def scale(self) -> float:
        """The objective's largest coefficient in magnitude (1 where it has none)."""
        largest = max(float(np.abs(self.linear).max(initial=0.0)), float(np.abs(self.quadratic).max(initial=0.0)))
        return largest if largest > 0 else 1.0

    def normalised(self) -> "IndexModel":
        """The same model with its objective divided by :attr:`scale` and its constant left out
        (constraints unchanged): what the backends solve. The caller adds the constant to the
        bound; HiGHS reports a bound of 0 for an objective of no terms whatever its constant."""
        scale = self.scale
        return replace(self, linear=self.linear / scale, quadratic=self.quadratic / scale, offset=0.0)

    def conditioned_rows(self) -> "IndexModel":
        """The same model with each constraint row divided by its largest coefficient, and each
        bound that no values within the variables' bounds can pass opened (``±inf``).

        A row with a variable of infinite bound reaches ``±inf`` on that side: its bound there
        is kept, and it is never called infeasible on that side.

        Rows so scaled mean the same to the backends' absolute feasibility tolerances (about
        1e-7) at every scale, coefficients of 1e-300 and 1e300 included, and a right-hand side
        of 1e25 that the variables can never reach no longer meets HiGHS's infinity (1e20).

        Raises:
            InfeasibleModelError: a constraint no values within the variables' bounds satisfy
                (its label, its reach and its bounds are named).
            InvalidModelError: a constraint whose coefficients span more than :data:`MAX_RANGE`.
        """
        if self.num_constraints == 0:
            return self
        matrix = self.constraints.copy()
        matrix.eliminate_zeros()
        positive, negative = matrix.maximum(0), matrix.minimum(0)
        with np.errstate(over="ignore", invalid="ignore"):  # a reach beyond floats is infinite: no bound is cut
            low = positive @ self.lower + negative @ self.upper
            high = positive @ self.upper + negative @ self.lower
        # Each side's own slack: an infinite reach on one side must not excuse the other.
        for r in np.flatnonzero((high < self.row_lower - _slack(high)) | (low > self.row_upper + _slack(low))):
            raise InfeasibleModelError(
                f"constraint {self.row_labels[r]!r} can never hold: its left side lies within [{low[r]:g}, {high[r]:g}] "
                f"for every value of its variables, and it must lie within [{self.row_lower[r]:g}, {self.row_upper[r]:g}]"
            )
        sizes = abs(matrix)
        largest = sizes.max(axis=1).toarray().ravel()
        sizes.data = 1.0 / sizes.data
        smallest = np.divide(1.0, sizes.max(axis=1).toarray().ravel(), out=np.zeros_like(largest), where=largest > 0)
        with np.errstate(over="ignore"):  # a span of 1e300 / 1e-300 is inf, as refused as any above the limit
            span = np.divide(largest, smallest, out=np.ones_like(largest), where=smallest > 0)
        for r in np.flatnonzero(span > MAX_RANGE):
            raise InvalidModelError(
                f"constraint {self.row_labels[r]!r}'s coefficients span {smallest[r]:g} to {largest[r]:g}, a ratio "
                f"above {MAX_RANGE:g}, more than the solvers' tolerances resolve; rescale it or drop the smallest terms"
            )
        row_lower = np.where(self.row_lower <= low, -np.inf, self.row_lower)
        row_upper = np.where(self.row_upper >= high, np.inf, self.row_upper)
        scale = np.where(largest > 0, largest, 1.0)
        return replace(
            self, constraints=scipy.sparse.diags(1.0 / scale) @ matrix, row_lower=row_lower / scale, row_upper=row_upper / scale
        )

    @property
    def resolution(self) -> float:
        """The objective's smallest non-zero coefficient in magnitude (1 where it has none): the
        energy step below which the backends' absolute gap (:func:`absolute_gap`) is set."""
        sizes = np.abs(np.concatenate([self.linear, self.quadratic]))
        sizes = sizes[sizes > 0]
        return float(sizes.min()) if len(sizes) else 1.0

    def absolute_gap(self) -> float:
        """The backends' absolute optimality gap: :data:`GAP_TOLERANCE` times :attr:`resolution`.

        Both backends' defaults are absolute (HiGHS's ``mip_abs_gap`` 1e-6): with coefficients of
        1e-7, HiGHS stopped at once and called a state "optimal" whose energy was 25 times the
        optimum's. Tied to the smallest coefficient, the gap means the same at every scale and
        still separates the states of a penalty model whose coefficients span 1 to 1e7.
        """
        return GAP_TOLERANCE * self.resolution

    @classmethod
    def from_bqm(cls, compiled: CompiledBQM) -> "IndexModel":
        """The BINARY form of a compiled BQM: no constraints, every variable in ``[0, 1]``."""
        n = compiled.num_variables
        return cls(
            variables=compiled.variables,
            kind=np.full(n, Kind.BINARY, dtype=np.int8),
            lower=np.zeros(n),
            upper=np.ones(n),
            linear=compiled.linear,
            rows=compiled.rows,
            cols=compiled.cols,
            quadratic=compiled.quadratic,
            offset=compiled.offset,
            constraints=scipy.sparse.csr_matrix((0, n), dtype=np.float64),
            row_lower=np.zeros(0),
            row_upper=np.zeros(0),
            spin=np.zeros(n, dtype=bool),
        )

    @classmethod
    def from_cqm(cls, cqm: dimod.ConstrainedQuadraticModel) -> "IndexModel":
        """A CQM with a quadratic objective and linear hard constraints.

        BINARY and SPIN variables become BINARY columns, INTEGER ones INTEGER columns and REAL
        ones CONTINUOUS columns; a REAL bound of magnitude :data:`REAL_INFINITY` or more and an
        INTEGER bound of magnitude :data:`INTEGER_INFINITY` or more become infinite.

        Raises:
            UnsupportedModelError: a quadratic constraint or a soft constraint (named).
            InvalidModelError: a NaN or infinite bias, offset or right-hand side, or a NaN bound.
            TypeError: ``cqm`` is not a constrained quadratic model.
        """
        _check_cqm(cqm)
        variables = list(cqm.variables)
        vartypes = [cqm.vartype(v) for v in variables]
        spin = np.array([vartype is dimod.SPIN for vartype in vartypes], dtype=bool)
        if spin.any():
            cqm = cqm.spin_to_binary(inplace=False)
        kind = np.array([_KINDS[vartype] for vartype in vartypes], dtype=np.int8)
        lower = np.array([cqm.lower_bound(v) for v in variables], dtype=np.float64)
        upper = np.array([cqm.upper_bound(v) for v in variables], dtype=np.float64)
        for v, lo, up in zip(variables, lower, upper):
            if math.isnan(lo) or math.isnan(up):
                raise InvalidModelError(f"variable {v!r} has bounds [{lo}, {up}]; bounds must be numbers, not NaN")
        infinity = np.select([kind == Kind.CONTINUOUS, kind == Kind.INTEGER], [REAL_INFINITY, INTEGER_INFINITY], np.inf)
        lower = np.where(lower <= -infinity, -np.inf, lower)
        upper = np.where(upper >= infinity, np.inf, upper)
        index = {v: i for i, v in enumerate(variables)}

        objective = cqm.objective
        _check_finite(objective.offset, "the objective's offset")
        linear = np.zeros(len(variables))
        for v, bias in objective.iter_linear():
            _check_finite(bias, f"the objective's linear bias on {v!r}")
            linear[index[v]] += bias
        rows, cols, quadratic = [], [], []
        for u, v, bias in objective.iter_quadratic():
            _check_finite(bias, f"the objective's quadratic bias on ({u!r}, {v!r})")
            i, j = sorted((index[u], index[v]))
            rows.append(i)
            cols.append(j)
            quadratic.append(bias)

        entries: tuple[list[int], list[int], list[float]] = ([], [], [])
        row_lower, row_upper = [], []
        for r, (label, comparison) in enumerate(cqm.constraints.items()):
            lhs = comparison.lhs
            if lhs.is_soft():
                raise UnsupportedModelError(
                    f"constraint {label!r} is soft (weighted); the exact samplers take hard "
                    "constraints only: make it hard, or add its penalty to the objective"
                )
            if not lhs.is_linear():
                raise UnsupportedModelError(
                    f"constraint {label!r} is quadratic; the exact samplers take linear constraints "
                    "only: restate it linearly (a product of binaries x*y can become a new binary z "
                    "with z <= x, z <= y, z >= x + y - 1)"
                )
            for v, bias in lhs.iter_linear():
                _check_finite(bias, f"constraint {label!r}'s bias on {v!r}")
                entries[0].append(r)
                entries[1].append(index[v])
                entries[2].append(bias)
            _check_finite(lhs.offset, f"constraint {label!r}'s offset")
            _check_finite(comparison.rhs, f"constraint {label!r}'s right-hand side")
            bound = float(comparison.rhs) - float(lhs.offset)
            sense = comparison.sense
            row_lower.append(-math.inf if sense is dimod.sym.Sense.Le else bound)
            row_upper.append(math.inf if sense is dimod.sym.Sense.Ge else bound)
        constraints = scipy.sparse.csr_matrix(
            (np.asarray(entries[2], dtype=np.float64), (entries[0], entries[1])),
            shape=(len(row_lower), len(variables)),
        )
        return cls(
            variables=variables,
            kind=kind,
            lower=lower,
            upper=upper,
            linear=linear,
            rows=np.asarray(rows, dtype=np.int64),
            cols=np.asarray(cols, dtype=np.int64),
            quadratic=np.asarray(quadratic, dtype=np.float64),
            offset=float(objective.offset),
            constraints=constraints,
            row_lower=np.asarray(row_lower, dtype=np.float64),
            row_upper=np.asarray(row_upper, dtype=np.float64),
            spin=spin,
            row_labels=tuple(cqm.constraints),
        )

    def to_user(self, x: np.ndarray) -> np.ndarray:
        """Solver values as the user's values: BINARY and INTEGER rounded (SPIN as ``±1``),
        CONTINUOUS clipped to their bounds (solvers may pass a bound by their tolerance)."""
        x = np.asarray(x, dtype=np.float64)
        values = np.where(self.continuous, np.clip(x, self.lower, self.upper), np.rint(x) + 0.0)  # no -0.0
        return np.where(self.spin, 2 * values - 1, values)

    def from_user(self, values: np.ndarray) -> np.ndarray:
        """The user's values as solver values: SPIN ``±1`` as ``0/1``."""
        values = np.asarray(values, dtype=np.float64)
        return np.where(self.spin, (values + 1) / 2, values)

    def polish(self, x: np.ndarray, seconds: float = math.inf) -> np.ndarray | None:
        """``x`` with its BINARY and INTEGER values rounded and its CONTINUOUS values solved
        again for them: the linear program over the CONTINUOUS variables alone, with a feasibility
        tolerance of :data:`POLISH_TOLERANCE` in the constraints' own units.

        A solver's continuous values meet its rows within its tolerance (of the rows as it scales
        them), and rounding the other values can move a row by as much; dimod counts a
        constraint satisfied within 1e-8 (plus 1e-6 of its right-hand side). The values this
        returns are the least objective for the rounded ones, so they are never worse than
        ``x``'s beyond the solver's tolerance.

        Returns:
            The polished solver values, or ``None`` where there is nothing to polish (no
            CONTINUOUS variable, or a product of two) or the linear program has no solution
            within ``seconds``.
        """
        free = self.continuous
        both = free[self.rows] & free[self.cols] & (self.quadratic != 0)
        if not free.any() or both.any():
            return None
        fixed = np.where(free, 0.0, np.rint(np.asarray(x, dtype=np.float64)))
        cost = self.linear.copy()
        for ends in ((self.rows, self.cols), (self.cols, self.rows)):  # J x_i x_j with x_j fixed: linear in x_i
            one = free[ends[0]] & ~free[ends[1]]
            np.add.at(cost, ends[0][one], self.quadratic[one] * fixed[ends[1][one]])
        matrix = self.constraints.tocsc()
        shift = matrix @ fixed
        matrix = matrix[:, np.flatnonzero(free)].tocsr()
        lower, upper = self.row_lower - shift, self.row_upper - shift
        equal = lower == upper
        above, below = ~equal & np.isfinite(upper), ~equal & np.isfinite(lower)
        solution = scipy.optimize.linprog(
            cost[free],
            A_ub=scipy.sparse.vstack([matrix[above], -matrix[below]]) if (above | below).any() else None,
            b_ub=np.concatenate([upper[above], -lower[below]]) if (above | below).any() else None,
            A_eq=matrix[equal] if equal.any() else None,
            b_eq=upper[equal] if equal.any() else None,
            bounds=np.stack([self.lower[free], self.upper[free]], axis=1),
            method="highs",
            options={"primal_feasibility_tolerance": POLISH_TOLERANCE, "time_limit": max(seconds, 0.1)},
        )
        if solution.status != 0:
            return None
        fixed[free] = solution.x
        return fixed


#: The column kind of each dimod vartype (SPIN is solved as BINARY).
_KINDS = {dimod.BINARY: Kind.BINARY, dimod.SPIN: Kind.BINARY, dimod.INTEGER: Kind.INTEGER, dimod.REAL: Kind.CONTINUOUS}


def _slack(reach: np.ndarray) -> np.ndarray:
    """How far a row's bound may lie beyond its reach before the row is called infeasible: 1e-9
    of the reach (at least of 1); ``inf`` where the reach is infinite."""
    return 1e-9 * np.maximum(1.0, np.abs(reach))


def _check_cqm(cqm: dimod.ConstrainedQuadraticModel) -> None:
    if not isinstance(cqm, dimod.ConstrainedQuadraticModel):
        raise TypeError(f"expected a dimod.ConstrainedQuadraticModel, got {type(cqm).__name__}; use sample() for a BQM")


def _check_finite(value: float, what: str) -> None:
    if not math.isfinite(value):
        raise InvalidModelError(f"{what} is {value}; every bias, offset and bound must be finite")


def mip_gap(energy: float, bound: float, absolute: float = GAP_TOLERANCE) -> float:
    """``(energy - bound) / |energy|``, 0 within ``absolute`` (the model's
    :meth:`IndexModel.absolute_gap`), ``inf`` when unbounded."""
    difference = energy - bound
    if difference <= absolute:
        return 0.0
    return difference / abs(energy) if energy != 0 else math.inf


def default_time_limit(size: int) -> float:
    """The budget of an exact sampler's call without ``time_limit``: ``min(60, 10 + size / 10_000)`` seconds.

    ``size`` counts the model's variables, products and constraint coefficients. Models that a
    solver can prove optimal in a moment (a 100-variable BQM takes HiGHS well under a second)
    return as soon as they are proven, so the default matters only for hard ones: 10 seconds
    leaves room to prove mid-size models, the budget grows by a second per 10,000 terms as the
    solver's set-up and first LP relaxation grow with the model, and it stops at a minute, so a
    model too large to prove still returns its incumbent within a time a caller would wait.

    Example:
        >>> default_time_limit(100), default_time_limit(250_000), default_time_limit(10**7)
        (10.01, 35.0, 60.0)
    """
    return min(60.0, 10.0 + size / 10_000)


@dataclass(frozen=True)
class SolveOptions:
    """The keywords every exact backend takes, checked (the budget is the call's :class:`Stopwatch`)."""

    mip_rel_gap: float = 0.0
    threads: int | None = None
    seed: int | None = None
    output: bool = False

    def __post_init__(self) -> None:
        gap = self.mip_rel_gap
        if isinstance(gap, bool) or not isinstance(gap, (int, float)) or not 0 <= gap < math.inf:
            raise ValueError(f"mip_rel_gap must be a non-negative number, got {gap!r}")
        if self.threads is not None:
            check_positive_int("threads", self.threads)
        check_seed(self.seed)
        if not isinstance(self.output, bool):
            raise TypeError(f"output must be True or False, got {self.output!r}")


@dataclass(frozen=True)
class Outcome:
    """What a backend reports: its status, incumbent (``None`` if none), dual bound and nodes,
    and why it stopped where that is not its status."""

    status: str
    x: np.ndarray | None
    bound: float
    num_nodes: int
    stop_reason: str = ""


#: The outcome of a call whose budget cannot pay for starting the solver: the start stands.
NOT_STARTED = Outcome("time_limit", None, -math.inf, 0, "not_started")


class ExactSampler(dimod.Sampler):
    """The front door of the exact backends; subclasses implement :meth:`_solve`.

    ``sample`` and ``sample_cqm`` return one row: the solver's incumbent, with ``info`` keys

    - ``status``: ``"optimal"`` (the gap is within ``mip_rel_gap``) or ``"time_limit"``; other
      stops read ``"interrupted"``, ``"memory_limit"``, ``"solution_limit"`` and the like;
    - ``bound``: the solver's dual (lower) bound in the user's energy units, offset included,
      never above the energy (``-inf`` when the solver proved nothing);
    - ``gap``: ``(energy - bound) / |energy|``, 0 when the bound meets the energy;
    - ``num_nodes``: branch-and-bound nodes explored;
    - ``time_limit``: the budget applied, in seconds (``inf`` for none);
    - ``stop_reason``: the status, or ``"not_started"`` where the budget could not pay for
      building the model and starting the solver, or ``"deadline"`` where the call went on
      at the deadline without waiting for the solver;
    - ``timing``: integer nanoseconds (``preprocessing_ns`` builds the model, ``sampling_ns``
      runs the solver, ``postprocessing_ns`` builds the SampleSet).

    ``time_limit`` covers the whole call. Where the budget cannot pay for compiling the model and
    the solver's set-up (which solvers do not interrupt), the call does not start them: it returns
    the starting incumbent with status ``"time_limit"``.
    """

    #: Name used in messages.
    solver_name = "the solver"

    parameters: dict[str, list] = None  # type: ignore[assignment]
    properties: dict[str, Any] = None  # type: ignore[assignment]

    def __init__(self) -> None:
        self.parameters = {
            "time_limit": [],
            "mip_rel_gap": [],
            "threads": [],
            "seed": [],
            "output": [],
            "num_reads": [],
            "initial_states": [],
            "label": [],
        }
        self.properties = {}

    @abc.abstractmethod
    def _solve(
        self,
        model: IndexModel,
        start: np.ndarray | None,
        options: SolveOptions,
        watch: Stopwatch,
    ) -> Outcome:
        """Build (``preprocessing`` phase) and run (``sampling`` phase) the backend on ``model``.

        The backend stops by ``watch``'s deadline; where it stops before it has a solution of its
        own, it returns ``start`` as the incumbent. A backend may add keyword arguments of its own,
        with defaults and named in :attr:`parameters`; :meth:`_run` passes on those the caller gives.
        """

    def _memory_bytes(self, num_variables: int, num_products: int, num_entries: int) -> float:
        """The least memory, in bytes, the backend needs to solve a model of this size; 0 unless a
        backend knows better."""
        return 0.0

    def _check_memory(self, num_variables: int, num_products: int, num_entries: int) -> None:
        """Refuse, before anything is built, a model the backend cannot hold in the memory left.

        Raises:
            ModelTooLargeError: :meth:`_memory_bytes` exceeds :func:`available_memory`.
        """
        needed, left = self._memory_bytes(num_variables, num_products, num_entries), available_memory()
        if needed > left:
            raise ModelTooLargeError(
                f"a model of {num_variables} variables, {num_products} products and {num_entries} constraint "
                f"coefficients needs about {needed / 2**30:.1f} GiB in {self.solver_name}, more than the "
                f"{left / 2**30:.1f} GiB of memory available; {self._memory_advice}"
            )

    _memory_advice = "use a heuristic sampler (sa, tabu, gnn)"

    def _set_up_seconds(self, num_variables: int, num_products: int, num_entries: int) -> float:
        """A cautious estimate of the seconds from compiling a model of this size to the moment the
        backend first reads its clock (the part of a call no deadline can stop); 0 unless a backend
        knows better. ``num_entries`` counts the constraints' coefficients."""
        return 0.0

    def sample(
        self,
        bqm: dimod.BinaryQuadraticModel,
        time_limit: float | None = None,
        *,
        mip_rel_gap: float = 0.0,
        threads: int | None = None,
        seed: int | None = None,
        output: bool = False,
        num_reads: int = 1,
        initial_states: dimod.typing.SamplesLike | None = None,
        label: str | None = None,
        **kwargs: Any,
    ) -> dimod.SampleSet:
        """Solve a BQM to optimality, or to ``time_limit``; return the incumbent as one row.

        Args:
            bqm: A binary quadratic model, SPIN or BINARY, with any labels.
            time_limit: Seconds for the whole call; ``None`` for the default budget
                (:func:`default_time_limit` of the model's variables and interactions),
                ``math.inf`` to run until the solver proves optimality.
            mip_rel_gap: Stop once ``(incumbent - bound) / |incumbent|`` is at most this; the
                default 0 proves optimality.
            threads: Solver threads; ``None`` keeps the solver's default.
            seed: The solver's random seed, in ``[0, 2e9]``.
            output: Print the solver's log.
            num_reads: Accepted for compatibility; an exact solver returns one incumbent.
            initial_states: Samples in the model's labels and vartype; the lowest-energy one is
                given to the solver as a starting incumbent (otherwise every variable at its
                lower value: 0, or -1 for SPIN).
            label: A name for the problem, kept in ``info["problem_label"]`` (as Leap's hybrid
                samplers keep theirs).

        Returns:
            One row in the user's labels and vartype, energy recomputed on ``bqm``: the solver's
            incumbent, or the starting one where the budget ends first.

        Raises:
            ModelTooLargeError: the backend cannot hold the model in the memory available.
            InvalidModelError: a NaN or infinite bias, or coefficients spanning more than
                :data:`MAX_RANGE`.
        """
        watch = Stopwatch()
        extra = self.remove_unknown_kwargs(**kwargs)
        options = SolveOptions(mip_rel_gap, threads, seed, output)
        check_positive_int("num_reads", num_reads)
        if not isinstance(bqm, dimod.BinaryQuadraticModel):
            raise TypeError(f"expected a dimod.BinaryQuadraticModel, got {type(bqm).__name__}; use sample_cqm() for a CQM")
        watch.time_limit = resolve_time_limit(time_limit, default_time_limit(bqm.num_variables + bqm.num_interactions))
        self._check_memory(bqm.num_variables, bqm.num_interactions, 0)
        with watch.phase("preprocessing"):
            start = _bqm_start(bqm, list(bqm.variables), initial_states)
            # A start of non-finite energy means a non-finite bias, which compiling names.
            finite = math.isfinite(start.first.energy)
            started = not finite or self._affordable(watch, bqm.num_variables, bqm.num_interactions, 0)
            if started:
                compiled = CompiledBQM(bqm)
                model = IndexModel.from_bqm(compiled)
                solver_start = compiled.to_binary(_first_row(start, compiled.variables))[0].astype(np.float64)
        if not started:
            return labelled(self._finish(start, NOT_STARTED, watch), label)
        outcome = self._run(model, solver_start, options, watch, extra)
        assert outcome.x is not None  # _run raises where the backend has no solution
        with watch.phase("postprocessing"):
            sampleset = compiled.sampleset(bqm, np.rint(outcome.x)[None, :])
        return labelled(self._finish(sampleset, outcome, watch, model.absolute_gap()), label)

    def sample_cqm(
        self,
        cqm: dimod.ConstrainedQuadraticModel,
        time_limit: float | None = None,
        *,
        mip_rel_gap: float = 0.0,
        threads: int | None = None,
        seed: int | None = None,
        output: bool = False,
        num_reads: int = 1,
        initial_states: dimod.typing.SamplesLike | None = None,
        label: str | None = None,
        **kwargs: Any,
    ) -> dimod.SampleSet:
        """Solve a CQM to optimality, or to ``time_limit``; return the incumbent as one row.

        Variables may be BINARY, SPIN, INTEGER or REAL, bounded or not (a REAL bound of
        magnitude ``1e30`` or more, an INTEGER one of ``2**53 - 1`` or more, means none); the
        objective may hold the products the backend takes (Gurobi any, HiGHS those with a BINARY
        factor and a bounded other); constraints must be linear (``==``, ``<=``, ``>=``) and
        hard. SPIN variables are solved as ``s = 2x - 1`` and returned as ``±1``, BINARY and
        INTEGER values rounded, REAL values as the solver gives them, clipped to their bounds.
        The backends meet rows within :data:`CONTINUOUS_TOLERANCE` of the rows as they scale
        them, dimod within 1e-8 of the rows as written (plus 1e-6 of the right-hand side): where
        the values fail one of dimod's checks, the REAL values are solved again for the others
        (:meth:`IndexModel.polish`). The keywords are those of
        :meth:`sample` (the default budget counts the constraints' coefficients too);
        ``initial_states`` gives the lowest-energy feasible sample (or the lowest-energy one) as a
        starting incumbent; ``label`` names the problem in ``info["problem_label"]``, as Leap's
        hybrid samplers keep theirs.

        Returns:
            One row from :meth:`dimod.SampleSet.from_samples_cqm` (energy, ``is_satisfied``,
            ``is_feasible``), of floats where the model has REAL variables, else of integers.

        Raises:
            UnsupportedModelError: quadratic or soft constraints, or an objective product the
                backend cannot take.
            InvalidModelError: a NaN or infinite value, or a NaN bound; its subclasses for a CQM
                proven to have no optimum: :class:`~gnnsolve.errors.InfeasibleModelError`,
                :class:`~gnnsolve.errors.UnboundedModelError` or, where the solver cannot tell
                which, :class:`~gnnsolve.errors.InfeasibleOrUnboundedError`.
            ModelTooLargeError: the backend cannot hold the model in the memory available.
            NoSolutionError: the solver stopped (e.g. at ``time_limit``) before finding a feasible
                point, and no ``initial_states`` were given.
        """
        watch = Stopwatch()
        extra = self.remove_unknown_kwargs(**kwargs)
        options = SolveOptions(mip_rel_gap, threads, seed, output)
        check_positive_int("num_reads", num_reads)
        _check_cqm(cqm)
        num_products = cqm.objective.num_interactions
        num_entries = sum(comparison.lhs.num_variables for comparison in cqm.constraints.values())
        size = cqm.num_variables() + num_products + num_entries
        watch.time_limit = resolve_time_limit(time_limit, default_time_limit(size))
        self._check_memory(cqm.num_variables(), num_products, num_entries)
        with watch.phase("preprocessing"):
            variables = list(cqm.variables)
            start = None if initial_states is None else _cqm_start(cqm, variables, initial_states)
            started = self._affordable(watch, cqm.num_variables(), num_products, num_entries)
            if started:
                model = IndexModel.from_cqm(cqm)
                solver_start = None if start is None else model.from_user(_first_row(start, model.variables))
        if not started:
            if start is None:
                raise self._error(NOT_STARTED)
            return labelled(self._finish(start, NOT_STARTED, watch), label)
        outcome = self._run(model, solver_start, options, watch, extra)
        assert outcome.x is not None  # _run raises where the backend has no solution
        with watch.phase("postprocessing"):
            sampleset = _solution_sampleset(cqm, model, outcome.x)
            if model.continuous.any() and not sampleset.first.is_feasible:
                polished = model.polish(outcome.x, watch.remaining())
                if polished is not None:
                    again = _solution_sampleset(cqm, model, polished)
                    sampleset = again if again.first.is_feasible else sampleset
        return labelled(self._finish(sampleset, outcome, watch, model.absolute_gap()), label)

    def _affordable(self, watch: Stopwatch, num_variables: int, num_products: int, num_entries: int) -> bool:
        """Whether the budget left pays for compiling the model and the solver's set-up."""
        return self._set_up_seconds(num_variables, num_products, num_entries) <= watch.remaining()

    def _run(
        self,
        model: IndexModel,
        start: np.ndarray | None,
        options: SolveOptions,
        watch: Stopwatch,
        extra: dict[str, Any],
    ) -> Outcome:
        """The backend's outcome, or a clear error where it has no solution to give.

        The backend solves the model with its objective normalised (largest coefficient 1, no
        constant), so that its own absolute tolerances (optimality, feasibility: 1e-9 to 1e-6)
        mean the same at every scale; its absolute gap is the model's
        :meth:`IndexModel.absolute_gap` in those units, and the bound is scaled back and the
        constant added.

        Raises:
            InvalidModelError: the objective's coefficients span more than :data:`MAX_RANGE`,
                more than the backends resolve.
        """
        if model.num_variables == 0:
            outcome = _constant_outcome(model)
        else:
            scale, resolution = model.scale, model.resolution
            if scale > MAX_RANGE * resolution:
                raise InvalidModelError(
                    f"the objective's coefficients span {resolution:g} to {scale:g}, a ratio above "
                    f"{MAX_RANGE:g}: {self.solver_name} cannot resolve the smallest beside the largest "
                    "(its tolerances are about 1e-9 of the largest), so no answer would be proven; "
                    "rescale the model or drop the smallest terms"
                )
            outcome = self._solve(model.conditioned_rows().normalised(), start, options, watch, **extra)
            outcome = replace(outcome, bound=outcome.bound * scale + model.offset)
        if outcome.x is None or outcome.status == "unbounded":
            raise self._error(outcome)
        return outcome

    def _error(self, outcome: Outcome) -> Exception:
        """The error for an outcome without a solution, or an unbounded one."""
        if outcome.status == "infeasible":
            return InfeasibleModelError(
                f"the model is infeasible: {self.solver_name} proved that no assignment within the "
                "variables' bounds satisfies every constraint; check the constraints' senses, "
                "right-hand sides and the variables' bounds"
            )
        if outcome.status == "infeasible_or_unbounded":
            return InfeasibleOrUnboundedError(
                f"the model is infeasible or unbounded: {self.solver_name} proved that it has no optimum "
                "(no assignment within the variables' bounds satisfies every constraint, or the objective "
                "falls without limit); check the constraints' senses, right-hand sides and the variables' "
                "bounds, and give the INTEGER and REAL variables finite bounds"
            )
        if outcome.status == "unbounded":
            return UnboundedModelError(
                f"the model is unbounded: {self.solver_name} can lower the objective without limit; "
                "give the INTEGER and REAL variables finite bounds, or constraints that bound them"
            )
        return NoSolutionError(
            f"{self.solver_name} stopped with status {outcome.status!r} before finding a feasible "
            "solution; raise time_limit or pass a feasible initial_states"
        )

    @staticmethod
    def _finish(
        sampleset: dimod.SampleSet, outcome: Outcome, watch: Stopwatch, absolute_gap: float = GAP_TOLERANCE
    ) -> dimod.SampleSet:
        energy = float(sampleset.record.energy[0])
        bound = min(outcome.bound, energy)
        sampleset.info.update(
            status=outcome.status,
            bound=bound,
            gap=mip_gap(energy, bound, absolute_gap),
            num_nodes=outcome.num_nodes,
            time_limit=watch.time_limit,
            stop_reason=outcome.stop_reason or outcome.status,
            timing=watch.timing(),
        )
        return sampleset


def _as_samples(initial_states: dimod.typing.SamplesLike, variables: list[Hashable]) -> np.ndarray:
    """``initial_states`` as an array whose columns follow ``variables``, checked to name exactly them."""
    samples, labels = dimod.as_samples(initial_states)
    if len(samples) == 0:
        raise ValueError("initial_states holds no samples; pass at least one or leave it None")
    missing = set(variables).difference(labels)
    extra = set(labels).difference(variables)
    if missing or extra:
        raise ValueError(
            "initial_states must assign exactly the model's variables; "
            f"missing {sorted(map(repr, missing))}, unknown {sorted(map(repr, extra))}"
        )
    column = {v: i for i, v in enumerate(labels)}
    return samples[:, [column[v] for v in variables]]


def _bqm_start(
    bqm: dimod.BinaryQuadraticModel, variables: list[Hashable], initial_states: dimod.typing.SamplesLike | None
) -> dimod.SampleSet:
    """The starting incumbent as a one-row SampleSet over ``variables``: the lowest-energy of
    ``initial_states``, or every variable at its lower value (0, or -1 for SPIN)."""
    if initial_states is None:
        samples = np.full((1, len(variables)), min(bqm.vartype.value), dtype=np.int8)
    else:
        samples = _as_samples(initial_states, variables)
        if not np.isin(samples, list(bqm.vartype.value)).all():
            raise ValueError(f"initial_states must hold {bqm.vartype.name} values {sorted(bqm.vartype.value)}")
    return dimod.SampleSet.from_samples_bqm((samples, variables), bqm).truncate(1)


def _solution_sampleset(cqm: dimod.ConstrainedQuadraticModel, model: IndexModel, x: np.ndarray) -> dimod.SampleSet:
    """Solver values ``x`` of ``model`` as a one-row SampleSet of ``cqm``: floats where the model
    has CONTINUOUS variables, else integers."""
    values = model.to_user(x)[None, :]
    if not model.continuous.any():
        values = values.astype(np.int64)
    return cqm_sampleset((values, model.variables), cqm)


def _cqm_start(
    cqm: dimod.ConstrainedQuadraticModel, variables: list[Hashable], initial_states: dimod.typing.SamplesLike
) -> dimod.SampleSet:
    """The lowest-energy feasible sample of ``initial_states`` (or the lowest-energy one) as one row."""
    given = cqm_sampleset((_as_samples(initial_states, variables), variables), cqm)
    feasible = given.filter(lambda datum: datum.is_feasible)
    return (feasible if len(feasible) else given).truncate(1)


def _first_row(sampleset: dimod.SampleSet, variables: list[Hashable]) -> np.ndarray:
    """The first row of ``sampleset`` with its values in the order of ``variables`` (dimod sorts its labels)."""
    return sampleset.record.sample[0, [sampleset.variables.index(v) for v in variables]]


def _constant_outcome(model: IndexModel) -> Outcome:
    """The outcome for a model without variables: its offset, if its constant rows hold."""
    feasible = np.all(model.row_lower <= GAP_TOLERANCE) and np.all(model.row_upper >= -GAP_TOLERANCE)
    if not feasible:
        return Outcome("infeasible", None, math.inf, 0)
    return Outcome("optimal", np.zeros(0), model.offset, 0)
