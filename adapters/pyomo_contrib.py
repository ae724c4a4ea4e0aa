"""``pyomo.contrib.solver``'s ``SolverFactory("gnnsolve")``: gnnsolve in Pyomo's newer solver interface.

:class:`GnnsolveContribSolver` is a :class:`~pyomo.contrib.solver.common.base.SolverBase`: its
options are a :class:`GnnsolveConfig` (Pyomo's ``BranchAndBoundConfig`` and gnnsolve's own
``sampler``, ``num_reads``, ``penalty``, ``repair`` and ``seed``), set on the solver or passed
to ``solve``, and ``solve`` returns a :class:`~pyomo.contrib.solver.common.results.Results` with a
solution loader (:class:`GnnsolveSolutionLoader`). The solve itself is the legacy plugin's
(:func:`gnnsolve.adapters.pyomo_solver.solve_model`), so both interfaces give the same answers.

Pyomo's options map onto gnnsolve's: ``time_limit`` (seconds for the whole solve), ``rel_gap``
(an exact sampler's ``mip_rel_gap``; other samplers ignore it, with a warning), ``threads`` (0
or ``None``: the sampler's default), ``tee`` (``True`` or streams: the solve's report, HiGHS's
or Gurobi's log and PI-GNN's training progress go to each, and to ``results.solver_log``),
``load_solutions`` and ``raise_exception_on_nonoptimal_result``. ``solver_options`` takes any
option of the legacy plugin by any of its names (``{"mipgap": 0.01}``; see
:mod:`gnnsolve.adapters.pyomo_solver`), an unknown one with a warning; ``abs_gap``,
``working_dir`` and ``symbolic_solver_labels`` have no meaning here.

What the termination condition and the solution status say:

=====================================================  ============================  ==============
outcome                                                termination_condition         solution_status
=====================================================  ============================  ==============
an exact sampler proved optimality, or a feasibility   convergenceCriteriaSatisfied  optimal
model (constant objective) has a feasible answer
a heuristic sampler's best answer is feasible          unknown                       feasible
the time limit ran out, with an exact incumbent        maxTimeLimit                  feasible
the time limit ran out before anything feasible        maxTimeLimit                  noSolution
proven infeasible (exact sampler, or a constraint      provenInfeasible              noSolution
no values within the bounds satisfy)
no heuristic sample was feasible                       locallyInfeasible             noSolution
proven unbounded (exact sampler)                       unbounded                     noSolution
proven to have no optimum, infeasible or unbounded     infeasibleOrUnbounded         noSolution
=====================================================  ============================  ==============

As in Pyomo's own interfaces, a termination other than ``convergenceCriteriaSatisfied`` raises
``NoOptimalSolutionError`` unless ``raise_exception_on_nonoptimal_result=False`` (so a heuristic
sampler needs it); then ``load_solutions=True`` (the default) loads the answer, or raises
``NoFeasibleSolutionError`` where there is none. ``incumbent_objective`` and ``objective_bound``
are the Pyomo objective's (its constant included); without a proven bound, ``objective_bound`` is
``-inf`` for a minimisation and ``inf`` for a maximisation.

Registered by :func:`register` (called when ``pyomo.contrib.solver`` is imported, once gnnsolve's
legacy plugin is registered) as ``"gnnsolve"``, and in Pyomo's legacy factory, through Pyomo's
wrapper, as ``"gnnsolve_v2"``: ``pyo.SolverFactory("gnnsolve")`` stays the legacy plugin.

Example:
    >>> import pyomo.environ as pyo
    >>> from pyomo.contrib.solver.common.factory import SolverFactory
    >>> import gnnsolve  # registers the solvers
    >>> m = pyo.ConcreteModel()
    >>> m.x = pyo.Var([1, 2, 3], domain=pyo.Binary)
    >>> m.value = pyo.Objective(expr=3 * m.x[1] + 2 * m.x[2] + 2 * m.x[3] + 1, sense=pyo.maximize)
    >>> m.weight = pyo.Constraint(expr=2 * m.x[1] + m.x[2] + m.x[3] <= 2)
    >>> opt = SolverFactory("gnnsolve", sampler="highs")
    >>> res = opt.solve(m, time_limit=10)
    >>> res.termination_condition.name, res.incumbent_objective, res.objective_bound, pyo.value(m.value)
    ('convergenceCriteriaSatisfied', 5.0, 5.0, 5)
    >>> sorted((v.name, x) for v, x in res.solution_loader.get_primals().items())
    [('x[1]', 0), ('x[2]', 1), ('x[3]', 1)]
    >>> res = opt.solve(m, sampler="sa", seed=0, raise_exception_on_nonoptimal_result=False, load_solutions=False)
    >>> res.termination_condition.name, res.solution_status.name, res.objective_bound
    ('unknown', 'feasible', inf)
"""

from __future__ import annotations

import datetime
import io
import math
import time
import warnings
from typing import Any, Mapping, Sequence

from pyomo.common.collections import ComponentMap
from pyomo.common.config import Bool, ConfigValue, NonNegativeInt, PositiveInt, document_configdict
from pyomo.common.tee import TeeStream, capture_output
from pyomo.common.timing import HierarchicalTimer
from pyomo.contrib.solver.common.base import Availability, SolverBase
from pyomo.contrib.solver.common.config import BranchAndBoundConfig
from pyomo.contrib.solver.common.factory import SolverFactory
from pyomo.contrib.solver.common.results import Results, SolutionStatus, TerminationCondition
from pyomo.contrib.solver.common.solution_loader import SolutionLoader
from pyomo.contrib.solver.common.util import (
    NoDualsError,
    NoFeasibleSolutionError,
    NoOptimalSolutionError,
    NoSolutionError,
)
from pyomo.core.base.var import VarData
from pyomo.core.staleflag import StaleFlagManager
from pyomo.opt import TerminationCondition as LegacyTerminationCondition

from gnnsolve import __version__
from gnnsolve.adapters.pyomo_solver import Solved, settings, solve_model, streaming

__all__ = ["GnnsolveConfig", "GnnsolveContribSolver", "GnnsolveSolutionLoader", "register", "LEGACY_NAME"]

LEGACY_NAME = "gnnsolve_v2"
"""The name of the newer interface in Pyomo's legacy ``SolverFactory`` (through Pyomo's
``LegacySolverWrapper``), as Pyomo names its own (``ipopt_v2``, ``gurobi_direct_v2``):
``"gnnsolve"`` there is :class:`gnnsolve.adapters.pyomo_solver.GnnsolveSolver`."""


def _penalty(value: Any) -> float | str:
    """``"auto"`` or a positive number (the domain of :attr:`GnnsolveConfig.penalty`)."""
    if isinstance(value, str) and value == "auto":
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < math.inf:
        raise ValueError(f"penalty must be 'auto' or a positive number, got {value!r}")
    return float(value)


@document_configdict()
class GnnsolveConfig(BranchAndBoundConfig):
    """The options of :class:`GnnsolveContribSolver`: Pyomo's ``BranchAndBoundConfig`` and gnnsolve's own."""

    def __init__(
        self,
        description: str | None = None,
        doc: str | None = None,
        implicit: bool = False,
        implicit_domain: Any = None,
        visibility: int = 0,
    ) -> None:
        super().__init__(
            description=description, doc=doc, implicit=implicit, implicit_domain=implicit_domain, visibility=visibility
        )
        self.sampler: str = self.declare(
            "sampler",
            ConfigValue(
                domain=str,
                default="gnn",
                description="The gnnsolve sampler: a name from gnnsolve.registry.sampler_names() ('gnn', 'sa', 'highs', ...).",
            ),
        )
        self.num_reads: int = self.declare(
            "num_reads",
            ConfigValue(
                domain=PositiveInt, default=10, description="Reads asked of a heuristic sampler in each penalty attempt."
            ),
        )
        self.penalty: float | str = self.declare(
            "penalty",
            ConfigValue(
                domain=_penalty,
                default="auto",
                description="The constraints' penalty for samplers of BQMs: 'auto' (rising while nothing is feasible) or a number.",
            ),
        )
        self.repair: bool = self.declare(
            "repair",
            ConfigValue(
                domain=Bool,
                default=True,
                description="Repair each heuristic sample towards feasibility, then descend while feasible.",
            ),
        )
        self.seed: int | None = self.declare(
            "seed", ConfigValue(domain=NonNegativeInt, default=None, description="The sampler's random seed.")
        )


class GnnsolveSolutionLoader(SolutionLoader):
    """The answer of one solve, loaded into the model on request (one solution, or none).

    ``values`` are ``(Pyomo variable, value)`` pairs; ``message`` says why there are none.
    """

    def __init__(self, model: Any, values: Sequence[tuple[VarData, float]], message: str = "") -> None:
        self._pyomo_model = model
        self._values = ComponentMap(values)
        self._found = bool(values)
        self._message = message

    def get_number_of_solutions(self) -> int:
        return 1 if self._found else 0

    def get_vars(self, vars_to_load: Sequence[VarData] | None = None) -> Mapping[VarData, float]:
        """The values of ``vars_to_load`` (default: every variable the solve gave a value).

        Raises:
            NoSolutionError: the solve found no answer.
            ValueError: a variable the solve did not see (in no active component of the model).
        """
        if not self._found:
            raise NoSolutionError(self._message or None)
        if vars_to_load is None:
            return ComponentMap(self._values.items())
        chosen = ComponentMap()
        for var in vars_to_load:
            if var not in self._values:
                raise ValueError(
                    f"variable {var.name} has no value in this solution: it is in no active component of the model solved"
                )
            chosen[var] = self._values[var]
        return chosen

    def get_primals(self, vars_to_load: Sequence[VarData] | None = None) -> Mapping[VarData, float]:
        """:meth:`get_vars` by the name Pyomo's APPSI interfaces give it."""
        return self.get_vars(vars_to_load)

    def get_duals(self, cons_to_load: Sequence[Any] | None = None) -> dict[Any, float]:
        """Raises ``NoDualsError``: samplers of discrete models give no duals."""
        raise NoDualsError("gnnsolve's samplers give no duals")

    def get_reduced_costs(self, vars_to_load: Sequence[VarData] | None = None) -> Mapping[VarData, float]:
        """Raises ``NoDualsError``: samplers of discrete models give no reduced costs."""
        raise NoDualsError("gnnsolve's samplers give no reduced costs")

    def load_import_suffixes(self) -> None:
        """Clear the model's import suffixes (``dual``, ``rc``, ...): there is nothing to import into them."""
        self._collect_and_clear_import_suffixes()

    def load_vars(self, vars_to_load: Sequence[VarData] | None = None) -> None:
        """Set the variables' values (default: every variable the solve gave a value)."""
        for var, value in self.get_vars(vars_to_load).items():
            var.set_value(value, skip_validation=True)
        StaleFlagManager.mark_all_as_stale(delayed=True)


class GnnsolveContribSolver(SolverBase):
    """gnnsolve's samplers behind ``pyomo.contrib.solver``'s ``SolverFactory("gnnsolve")`` (see the module notes).

    Example:
        >>> from gnnsolve.adapters.pyomo_contrib import GnnsolveContribSolver
        >>> opt = GnnsolveContribSolver(sampler="highs", time_limit=5)
        >>> opt.config.sampler, opt.config.time_limit, bool(opt.available())
        ('highs', 5.0, True)
    """

    CONFIG = GnnsolveConfig()

    def __init__(self, **kwds: Any) -> None:
        kwds.setdefault("name", "gnnsolve")
        super().__init__(**kwds)

    def available(self) -> Availability:
        """``FullLicense``: the samplers ship with gnnsolve (Gurobi's licence is checked at solve)."""
        return Availability.FullLicense

    def version(self) -> tuple[int, ...]:
        """gnnsolve's version as a tuple."""
        return tuple(int(part) for part in __version__.split(".")[:3])

    def solve(self, model: Any, **kwds: Any) -> Results:
        """Solve ``model``; keywords are :class:`GnnsolveConfig`'s, for this call.

        Raises:
            NoOptimalSolutionError: not proven optimal, with ``raise_exception_on_nonoptimal_result``.
            NoFeasibleSolutionError: nothing feasible to load, with ``load_solutions``.
            ValueError: a bad option (Pyomo's message for an unknown keyword).
            UnsupportedModelError, InvalidModelError, ModelTooLargeError: see
                :meth:`gnnsolve.adapters.pyomo_solver.GnnsolveSolver.solve`.
        """
        start_timestamp = datetime.datetime.now(datetime.timezone.utc)
        tick = time.perf_counter()
        config = self.config(value=kwds, preserve_implicit=True)
        if config.timer is None:
            config.timer = HierarchicalTimer()
        timer = config.timer
        if config.abs_gap is not None:
            warnings.warn("gnnsolve ignores abs_gap; use rel_gap with an exact sampler", UserWarning, stacklevel=2)
        chosen = settings(_options(config), dict(config.solver_options.value()))
        StaleFlagManager.mark_all_as_stale()
        ostreams = [io.StringIO(), *config.tee] if config.tee else []
        if ostreams:
            with capture_output(TeeStream(*ostreams), capture_fd=True), streaming(True):
                results = self._solve(model, chosen, config, tee=True)
        else:
            results = self._solve(model, chosen, config, tee=False)
        results.solver_log = ostreams[0].getvalue() if ostreams else None
        results.timing_info.start_timestamp = start_timestamp
        results.timing_info.wall_time = time.perf_counter() - tick
        results.timing_info.timer = timer
        return results

    def _solve(self, model: Any, chosen: dict[str, Any], config: GnnsolveConfig, tee: bool) -> Results:
        timer = config.timer
        timer.start("solve")
        try:
            solved = solve_model(model, chosen, tee=tee)
        finally:
            timer.stop("solve")
        results = self._results(solved, config)
        if (
            results.termination_condition != TerminationCondition.convergenceCriteriaSatisfied
            and config.raise_exception_on_nonoptimal_result
        ):
            raise NoOptimalSolutionError(
                f"{results.termination_condition.name} ({solved.outcome.message}); set "
                "raise_exception_on_nonoptimal_result=False to get the results of a heuristic sampler or a limited run"
            )
        if config.load_solutions:
            timer.start("load solution")
            if results.solution_loader.get_number_of_solutions() == 0:
                timer.stop("load solution")
                raise NoFeasibleSolutionError(
                    f"no feasible solution to load ({solved.outcome.message}); set load_solutions=False and check "
                    "results.solution_status"
                )
            results.solution_loader.load_solution()
            timer.stop("load solution")
        if tee:
            print(solved.summary(solved.watch.elapsed()), flush=True)
        return results

    def _results(self, solved: Solved, config: GnnsolveConfig) -> Results:
        outcome = solved.outcome
        termination, status = _status(solved)
        results = Results()
        results.termination_condition = termination
        results.solution_status = status
        results.solution_loader = GnnsolveSolutionLoader(solved.model, solved.values(), outcome.message)
        results.incumbent_objective = solved.objective_value()
        bound = solved.objective_bound()
        if bound is None and outcome.sample is not None:
            bound = math.inf if solved.maximise else -math.inf
        results.objective_bound = bound
        results.solver_name = self.name
        results.solver_version = self.version()
        results.solver_config = config
        results.timing_info.gnnsolve_time = solved.watch.elapsed()
        results.extra_info.sampler = solved.settings["sampler"]
        results.extra_info.message = outcome.message
        if solved.cqm is not None:
            results.extra_info.number_of_variables = solved.cqm.num_variables()
            results.extra_info.number_of_constraints = len(solved.cqm.constraints)
        for key in ("penalties", "stop_reason", "gap", "num_nodes"):
            if key in outcome.info:
                results.extra_info[key] = outcome.info[key]
        return results


def _options(config: GnnsolveConfig) -> dict[str, Any]:
    """The legacy plugin's options from the config's values (``threads=0``: the default)."""
    return {
        "sampler": config.sampler,
        "time_limit": config.time_limit,
        "num_reads": config.num_reads,
        "seed": config.seed,
        "penalty": config.penalty,
        "repair": config.repair,
        "mip_rel_gap": config.rel_gap,
        "threads": config.threads or None,
    }


def _status(solved: Solved) -> tuple[TerminationCondition, SolutionStatus]:
    """The newer interface's termination condition and solution status of a solve (see the module notes)."""
    outcome = solved.outcome
    found = outcome.sample is not None
    if outcome.termination == LegacyTerminationCondition.optimal:
        return TerminationCondition.convergenceCriteriaSatisfied, SolutionStatus.optimal
    if outcome.termination == LegacyTerminationCondition.feasible:
        return TerminationCondition.unknown, SolutionStatus.feasible
    if outcome.termination == LegacyTerminationCondition.maxTimeLimit:
        return TerminationCondition.maxTimeLimit, SolutionStatus.feasible if found else SolutionStatus.noSolution
    if outcome.termination == LegacyTerminationCondition.infeasible:
        proven = TerminationCondition.provenInfeasible if outcome.proven else TerminationCondition.locallyInfeasible
        return proven, SolutionStatus.noSolution
    if outcome.termination == LegacyTerminationCondition.unbounded:
        return TerminationCondition.unbounded, SolutionStatus.noSolution
    if outcome.termination == LegacyTerminationCondition.infeasibleOrUnbounded:
        return TerminationCondition.infeasibleOrUnbounded, SolutionStatus.noSolution
    return TerminationCondition.unknown, SolutionStatus.feasible if found else SolutionStatus.noSolution


def register() -> None:
    """Register :class:`GnnsolveContribSolver` with ``pyomo.contrib.solver``'s factory as
    ``"gnnsolve"`` (and as :data:`LEGACY_NAME` in Pyomo's legacy factory); idempotent."""
    if "gnnsolve" not in SolverFactory:
        SolverFactory.register(
            "gnnsolve", legacy_name=LEGACY_NAME, doc="gnnsolve: learned (PI-GNN) and exact (HiGHS, Gurobi) samplers"
        )(GnnsolveContribSolver)


register()  # where Pyomo's factory was imported by this module's own imports, the hook left it to this line
