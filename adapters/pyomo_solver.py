"""``SolverFactory("gnnsolve")``: any gnnsolve sampler as a Pyomo solver.

After ``import gnnsolve`` a Pyomo user swaps ``SolverFactory("appsi_highs")`` for
``SolverFactory("gnnsolve", sampler="gnn")`` and solves the same model. The model goes through
:func:`gnnsolve.adapters.pyomo.to_cqm`; exact samplers (``highs``, ``gurobi``) solve that CQM
directly, every other sampler samples it through
:class:`~gnnsolve.samplers.penalty.PenaltyComposite` (a penalty BQM, rising while nothing is
feasible, and repair on the model's own variables), and each sample is checked against every
constraint.

Two factories reach the same solve (:func:`solve_model`):

- ``pyomo.environ.SolverFactory("gnnsolve")``, Pyomo's legacy interface (:class:`GnnsolveSolver`),
  answering with a ``SolverResults``;
- ``pyomo.contrib.solver.common.factory.SolverFactory("gnnsolve")``, Pyomo's newer interface
  (:class:`gnnsolve.adapters.pyomo_contrib.GnnsolveContribSolver`), answering with a
  ``Results`` and its solution loader. It is registered once ``pyomo.contrib.solver`` is
  imported (``import pyomo.environ`` does), and Pyomo's legacy factory gets it as
  ``"gnnsolve_v2"``, as Pyomo names its own newer interfaces; ``"gnnsolve"`` stays the legacy
  plugin.

The legacy termination condition says what is known, no more:

- ``optimal``: an exact sampler proved it, or the objective is a constant (a feasibility model)
  and a sample satisfies every constraint;
- ``maxTimeLimit``: the time limit ran out, with a feasible incumbent of an exact sampler
  (loaded), or before anything feasible was found (the message says in which step; nothing is
  loaded);
- ``feasible``: a heuristic sampler's best sample satisfies every constraint;
- ``infeasible``: a constraint cannot hold for any values within its variables' bounds (it is
  named), an exact sampler proved that nothing is feasible, or no heuristic sample was
  feasible, even after raising the penalty (the composite's schedule). The violated constraints are listed in
  ``results.solver.message`` and nothing is loaded into the model;
- ``unbounded``: an exact sampler proved that the objective improves without limit, and
  ``infeasibleOrUnbounded`` where it proved only that there is no optimum (nothing loaded).

``results.problem`` holds the objective's value and bound (its constant included): for a
minimisation the upper bound is the incumbent and the lower bound the proven one (``-inf`` from
a heuristic sampler), the other way round for a maximisation.

Options, given to ``SolverFactory``, set in ``opt.options``, passed to ``solve`` as
``options_string="key=value ..."`` or ``options={...}``, or as keywords of ``solve`` (each later
one overriding the earlier):

- ``sampler``: a name from :func:`gnnsolve.registry.sampler_names` (default ``"gnn"``);
- ``time_limit`` (also ``timelimit``, ``TimeLimit``, ``time_limit_s``): seconds for the whole
  solve (see below);
- ``mip_rel_gap`` (also ``mipgap``, ``MIPGap``, ``rel_gap``): the relative gap at which an exact
  sampler stops (default 0: optimality proven); other samplers ignore it, with a warning;
- ``threads`` (also ``Threads``): the solver's threads for exact samplers, torch's for the
  learned ones (``gnn``, ``dyco``); others ignore it, with a warning;
- ``seed`` (also ``Seed``, ``random_seed``), ``num_reads`` (default 10);
- ``penalty`` (``"auto"`` or a number) and ``repair`` (default ``True``), for samplers that
  need the BQM: with ``repair`` each sample, mapped back to the model's variables, is repaired
  towards feasibility and then descended while feasible by single-variable moves
  (:mod:`gnnsolve.search.cqm_repair`); the message says how many answers the repair made feasible.

Values may be strings (``opt.set_options("time_limit=5 seed=3")``). An unknown option is
reported by a ``UserWarning`` naming it and the known ones, and the solve goes on; a bad value of
a known option raises ``ValueError``.

``time_limit`` is in seconds for the whole solve, from entering ``solve`` to returning: the
translation to a CQM and to the penalty BQM, every sampler call, the repair and the load-back
(only importing the sampler's module on its first use in a process, seconds for torch, comes
before the clock starts).
What is left after translating goes to the sampler's call (the composite shares it among its
penalty attempts). Without ``time_limit``, an exact sampler runs its own default budget and the
others the composite's (:func:`gnnsolve.samplers.penalty.default_time_limit` of the penalty
BQM's size); ``math.inf`` asks for no limit at all.

``solve`` keywords besides the options: ``load_solutions`` (default ``True``) and ``tee``
(default ``False``). With ``load_solutions=False`` nothing is written into the model: the
answer stays in ``results.solution`` (variables by their Pyomo names, as Pyomo's own solvers
leave it), and ``model.solutions.load_from(results)`` loads it later. With ``tee=True`` the solve
reports as it runs, on standard output: the translation's size, the backend's own log (HiGHS's
or Gurobi's, written by the solver library itself to file descriptor 1; PI-GNN's training
progress, from the ``gnnsolve`` logger at level INFO, which is otherwise silent), each penalty
attempt, and a summary line. Pyomo's other generic keywords (``symbolic_solver_labels``,
``keepfiles``, ...) are accepted and ignored.

Example:
    >>> import pyomo.environ as pyo
    >>> import gnnsolve  # registers the solver
    >>> m = pyo.ConcreteModel()
    >>> m.x = pyo.Var([1, 2, 3], domain=pyo.Binary)
    >>> m.value = pyo.Objective(expr=3 * m.x[1] + 2 * m.x[2] + 2 * m.x[3] + 1, sense=pyo.maximize)
    >>> m.weight = pyo.Constraint(expr=2 * m.x[1] + m.x[2] + m.x[3] <= 2)
    >>> results = pyo.SolverFactory("gnnsolve", sampler="highs").solve(m)
    >>> str(results.solver.termination_condition), pyo.value(m.value), results.problem.upper_bound
    ('optimal', 5, 5.0)
    >>> results = pyo.SolverFactory("gnnsolve", sampler="sa", seed=0, time_limit=5).solve(m)
    >>> str(results.solver.termination_condition), pyo.value(m.value)
    ('feasible', 5)
    >>> results.solver.wallclock_time < 5
    True

    Options by other names, an answer kept in the results and loaded later, and the run shown
    (HiGHS's own log, written to file descriptor 1, is not part of what doctest compares):

    >>> opt = pyo.SolverFactory("gnnsolve", sampler="highs")
    >>> opt.options["TimeLimit"] = 10
    >>> m.x.set_values({1: None, 2: None, 3: None})
    >>> results = opt.solve(m, mipgap=0.0, load_solutions=False, tee=True)  # doctest: +ELLIPSIS
    gnnsolve[highs]: model unknown as a CQM of 3 variables and 1 constraints (... s)
    gnnsolve[highs]: optimal in ... s; optimal, gap 0.0
    >>> m.x[1].value is None, len(results.solution)
    (True, 1)
    >>> m.solutions.load_from(results)
    >>> pyo.value(m.value)
    5

    The same solve through Pyomo's newer interface:

    >>> from pyomo.contrib.solver.common.factory import SolverFactory
    >>> res = SolverFactory("gnnsolve").solve(m, sampler="highs", time_limit=10)
    >>> res.termination_condition.name, res.solution_status.name, res.incumbent_objective
    ('convergenceCriteriaSatisfied', 'optimal', 5.0)
"""

from __future__ import annotations

import logging
import math
import sys
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterator, Mapping

from pyomo.opt import (
    ProblemSense,
    SolutionStatus,
    SolverFactory,
    SolverResults,
    SolverStatus,
    TerminationCondition,
)

from gnnsolve import __version__
from gnnsolve.errors import InfeasibleModelError, InfeasibleOrUnboundedError, NoSolutionError, UnboundedModelError

if TYPE_CHECKING:
    import dimod

    from gnnsolve.samplers._common import Stopwatch

__all__ = [
    "GnnsolveSolver",
    "register",
    "OPTIONS",
    "ALIASES",
    "DEFAULTS",
    "Outcome",
    "Solved",
    "solve_model",
    "settings",
    "streaming",
]

OPTIONS = ("sampler", "time_limit", "num_reads", "seed", "penalty", "repair", "mip_rel_gap", "threads")
"""The options the solver understands."""

ALIASES: dict[str, str] = {
    "timelimit": "time_limit",
    "TimeLimit": "time_limit",
    "time_limit_s": "time_limit",
    "mipgap": "mip_rel_gap",
    "MIPGap": "mip_rel_gap",
    "rel_gap": "mip_rel_gap",
    "Threads": "threads",
    "Seed": "seed",
    "random_seed": "seed",
}
"""Other names of the options (other solvers' spellings): each maps to one of :data:`OPTIONS`."""

DEFAULTS: dict[str, Any] = {
    "sampler": "gnn",
    "time_limit": None,
    "num_reads": 10,
    "seed": None,
    "penalty": "auto",
    "repair": True,
    "mip_rel_gap": None,
    "threads": None,
}
"""Each option's value when it is not given (``None``: the sampler's own default)."""

_IGNORED = ("symbolic_solver_labels", "keepfiles", "logfile", "report_timing", "warmstart")
"""Pyomo's generic ``solve`` keywords that have no meaning here."""


@dataclass
class Outcome:
    """What sampling found: the best sample in the CQM's variables, and how to report it.

    ``energy`` and ``bound`` are the CQM's (the objective, negated for a maximisation);
    ``proven`` says that the termination is proven (optimality, or that nothing is feasible);
    ``info`` is the sampler's (or the penalty composite's) ``SampleSet.info``.
    """

    termination: TerminationCondition
    sample: dict[str, float] | None
    energy: float | None
    message: str
    bound: float | None = None
    status: SolverStatus = SolverStatus.ok
    proven: bool = False
    info: dict[str, Any] = field(default_factory=dict)


@dataclass
class Solved:
    """One solve of a Pyomo model by :func:`solve_model`: the outcome and what it refers to.

    ``variables`` maps each of the CQM's labels to its Pyomo variable (empty where the
    translation did not finish); ``watch`` runs from the start of the solve.
    """

    model: Any
    settings: dict[str, Any]
    outcome: Outcome
    cqm: dimod.ConstrainedQuadraticModel | None
    variables: dict[str, Any]
    maximise: bool
    watch: Stopwatch

    @property
    def sign(self) -> float:
        """The factor from the CQM's energies to the Pyomo objective: -1 for a maximisation."""
        return -1.0 if self.maximise else 1.0

    def objective_value(self) -> float | None:
        """The Pyomo objective's value at the answer, its constant included; ``None`` without one."""
        return None if self.outcome.energy is None else self.sign * self.outcome.energy

    def objective_bound(self) -> float | None:
        """The proven bound on the Pyomo objective (its constant included), or ``None`` where
        none is known."""
        return None if self.outcome.bound is None else self.sign * self.outcome.bound

    def values(self) -> list[tuple[Any, float]]:
        """The answer as ``(Pyomo variable, value)`` pairs, as
        :func:`gnnsolve.adapters.pyomo.load_solution` sets them (integer and binary values rounded,
        continuous ones kept); empty without an answer."""
        if self.outcome.sample is None:
            return []
        from gnnsolve.adapters.pyomo import value_for

        return [(self.variables[label], value_for(self.variables[label], value)) for label, value in self.outcome.sample.items()]

    def load(self) -> None:
        """Write the answer into the model's variables (nothing without one)."""
        from gnnsolve.adapters.pyomo import load_solution

        if self.outcome.sample is not None:
            load_solution(self.model, self.outcome.sample, self.variables)

    def summary(self, seconds: float) -> str:
        """The one line ``tee`` ends with."""
        return f"gnnsolve[{self.settings['sampler']}]: {self.outcome.termination} in {seconds:.2f} s; {self.outcome.message}"


class GnnsolveSolver:
    """The Pyomo solver plugin (legacy ``pyomo.opt`` interface) behind ``SolverFactory("gnnsolve")``.

    Keyword arguments become :attr:`options`; an unknown one is reported when :meth:`solve` runs
    (Pyomo's factory would otherwise hide a constructor error behind an "unknown solver").
    """

    name = "gnnsolve"

    def __init__(self, **kwds: Any) -> None:
        kwds.pop("solver", None)
        kwds.pop("solver_io", None)
        self.options: dict[str, Any] = dict(kwds.pop("options", None) or {})
        self.options.update(kwds)
        self._version = tuple(int(part) for part in __version__.split(".")[:3])

    def available(self, exception_flag: bool = True) -> bool:
        """Always ``True``: the samplers ship with gnnsolve (Gurobi's availability is checked at solve)."""
        return True

    def license_is_valid(self) -> bool:
        """Always ``True``: gnnsolve needs no licence (GurobiSampler brings gurobipy's own)."""
        return True

    def version(self) -> tuple[int, ...]:
        """gnnsolve's version as a tuple, as Pyomo expects."""
        return self._version

    def warm_start_capable(self) -> bool:
        return False

    def set_options(self, text: str) -> None:
        """Pyomo's ``"key=value key2=value2"`` form of setting options."""
        self.options.update(_parse_options(text))

    def __enter__(self) -> GnnsolveSolver:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def solve(self, model: Any, **kwds: Any) -> SolverResults:
        """Solve ``model`` with the chosen sampler; load the answer unless none is feasible.

        Keywords: the options above, ``options`` (a dict of them), ``options_string``
        (``"key=value ..."``, as Pyomo's solvers take it), ``load_solutions`` (default
        ``True``; ``False`` keeps the answer in ``results.solution`` for
        ``model.solutions.load_from``), ``tee`` (report on standard output as the solve runs);
        Pyomo's other generic keywords (``symbolic_solver_labels``, ``keepfiles``, ...) are
        accepted and ignored.

        Raises:
            ValueError: a bad value of an option.
            UnsupportedModelError, InvalidModelError: the model cannot be stated for a sampler
                (see :func:`gnnsolve.adapters.pyomo.to_cqm`); the component is named.
            ModelTooLargeError: the model's BQM is too large for the sampler (see
                :class:`~gnnsolve.adapters.pyomo.PenaltyModel`).
        """
        load = kwds.pop("load_solutions", True)
        tee = bool(kwds.pop("tee", False))
        for ignored in _IGNORED:
            kwds.pop(ignored, None)
        given = _parse_options(kwds.pop("options_string", None) or "")
        chosen = settings({**self.options, **given}, kwds.pop("options", None), kwds)
        _warn_of_import_suffixes(model)
        with streaming(tee):
            solved = solve_model(model, chosen, tee=tee)
            if load:
                solved.load()
            seconds = solved.watch.elapsed()
            results = _results(solved, seconds, keep_solution=not load)
            if tee:
                print(solved.summary(seconds), flush=True)
        return results


def _parse_options(text: str) -> dict[str, str]:
    """``"key=value key2=value2"`` as a dict (values stay strings; :func:`settings` reads them)."""
    options = {}
    for token in text.split():
        key, _, value = token.partition("=")
        options[key] = value
    return options


def _warn_of_import_suffixes(model: Any) -> None:
    """A warning for each active import suffix (``dual``, ``rc``, ...): no sampler returns them."""
    from pyomo.core import Suffix

    for suffix in model.component_objects(Suffix, active=True, descend_into=True):
        if suffix.import_enabled():
            warnings.warn(
                f"gnnsolve returns no {suffix.local_name!r} values (no sampler reports duals or reduced costs), "
                f"so suffix {suffix.name} stays empty; solve the LP with appsi_highs or gurobi for them",
                UserWarning,
                stacklevel=3,
            )


def register() -> None:
    """Register :class:`GnnsolveSolver` as ``"gnnsolve"`` with Pyomo's ``SolverFactory`` (idempotent),
    and the newer interface with ``pyomo.contrib.solver``'s factory once that is imported
    (:func:`gnnsolve.adapters.pyomo_contrib.register`)."""
    from gnnsolve._import_hooks import when_imported

    if "gnnsolve" not in SolverFactory:
        SolverFactory.register("gnnsolve", doc="gnnsolve: learned (PI-GNN) and exact (HiGHS, Gurobi) samplers")(GnnsolveSolver)
    when_imported("pyomo.contrib.solver.common.factory", _register_contrib)


def _register_contrib(factory_module: Any) -> None:
    """Register the newer interface; a failure is a warning, never an error in the import that called it.

    Where :mod:`gnnsolve.adapters.pyomo_contrib` is itself being imported (its import brings in
    Pyomo's factory, which calls this), it registers itself once its body has run."""
    contrib = sys.modules.get("gnnsolve.adapters.pyomo_contrib")
    if contrib is not None and not hasattr(contrib, "register"):
        return
    try:
        from gnnsolve.adapters.pyomo_contrib import register as register_contrib

        register_contrib()
    except Exception as err:  # noqa: BLE001 - this runs inside the user's import of pyomo.contrib.solver
        warnings.warn(
            f"gnnsolve could not register with pyomo.contrib.solver's SolverFactory: {err!r}", RuntimeWarning, stacklevel=2
        )


def settings(*sources: Mapping[str, Any] | None, stacklevel: int = 3) -> dict[str, Any]:
    """Every option's value, checked: ``sources`` in order (a later one overrides an earlier one,
    and within one source a later name overrides an earlier alias), then :data:`DEFAULTS`.

    A ``None`` value means the default. An unknown name is reported by one ``UserWarning``
    (``stacklevel`` as for :func:`warnings.warn`) and left out.

    Example:
        >>> from gnnsolve.adapters.pyomo_solver import settings
        >>> chosen = settings({"TimeLimit": "5", "sampler": "highs"}, {"mipgap": 0.01, "Seed": 3})
        >>> chosen["time_limit"], chosen["mip_rel_gap"], chosen["seed"], chosen["num_reads"]
        (5.0, 0.01, 3, 10)

    Raises:
        ValueError: a bad value of a known option (``UnknownSamplerError`` for a sampler name).
    """
    from gnnsolve.registry import sampler_spec
    from gnnsolve.samplers._common import check_positive_int, check_seed, check_time_limit

    given: dict[str, Any] = {}
    unknown: list[str] = []
    for source in sources:
        for name, value in (source or {}).items():
            key = ALIASES.get(name, name)
            if key in OPTIONS:
                given[key] = value
            elif name not in unknown:
                unknown.append(name)
    if unknown:
        known = ", ".join([*OPTIONS, *ALIASES])
        warnings.warn(
            f"gnnsolve ignores the unknown option(s) {', '.join(map(repr, unknown))}; known options: {known}",
            UserWarning,
            stacklevel=stacklevel,
        )
    chosen = {**DEFAULTS, **{key: value for key, value in given.items() if value is not None}}
    chosen["sampler"] = sampler_spec(str(chosen["sampler"])).name
    chosen["num_reads"] = check_positive_int("num_reads", _integer("num_reads", chosen["num_reads"]))
    if chosen["time_limit"] is not None:
        chosen["time_limit"] = check_time_limit(_number("time_limit", chosen["time_limit"]))
    if chosen["seed"] is not None:
        chosen["seed"] = check_seed(_integer("seed", chosen["seed"]))
    if chosen["threads"] is not None:
        chosen["threads"] = check_positive_int("threads", _integer("threads", chosen["threads"]))
    if chosen["mip_rel_gap"] is not None:
        gap = _number("mip_rel_gap", chosen["mip_rel_gap"])
        if not 0 <= gap < math.inf:
            raise ValueError(f"mip_rel_gap must be a non-negative number, got {chosen['mip_rel_gap']!r}")
        chosen["mip_rel_gap"] = gap
    if not (isinstance(chosen["penalty"], str) and chosen["penalty"] == "auto"):
        penalty = _number("penalty", chosen["penalty"], "'auto' or a positive number")
        if not 0 < penalty < math.inf:
            raise ValueError(f"penalty must be 'auto' or a positive number, got {chosen['penalty']!r}")
        chosen["penalty"] = penalty
    repair = chosen["repair"]
    if isinstance(repair, str) and repair.lower() in ("true", "false"):
        repair = repair.lower() == "true"
    if not isinstance(repair, bool):
        raise ValueError(f"repair must be True or False, got {chosen['repair']!r}")
    chosen["repair"] = repair
    return chosen


def _number(name: str, value: Any, expected: str = "a number") -> float:
    """``value`` (a number or its text) as a float, or a ValueError naming the option."""
    import numpy as np

    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    elif not isinstance(value, bool) and isinstance(value, (int, float, np.integer, np.floating)):
        return float(value)
    raise ValueError(f"{name} must be {expected}, got {value!r}")


def _integer(name: str, value: Any) -> int:
    """``value`` (an integer, an integral float or its text) as an int, or a ValueError naming the option."""
    number = _number(name, value, "an integer")
    if not number.is_integer():
        raise ValueError(f"{name} must be an integer, got {value!r}")
    return int(number)


@contextmanager
def streaming(tee: bool, stream: Any = None) -> Iterator[None]:
    """While the block runs, the ``gnnsolve`` logger's INFO lines (PI-GNN's training progress) go
    to ``stream`` (default: ``sys.stdout`` as it is on entry); nothing changes without ``tee``.

    Where the logger would not pass INFO lines on its own, it is set to INFO for the block and
    keeps them from its parents' handlers; its level and propagation are restored after.

    Example:
        >>> import logging, io
        >>> from gnnsolve.adapters.pyomo_solver import streaming
        >>> out = io.StringIO()
        >>> with streaming(True, out):
        ...     logging.getLogger("gnnsolve.samplers.pignn").info("epoch 1")
        >>> logging.getLogger("gnnsolve.samplers.pignn").info("not shown")
        >>> out.getvalue()
        'epoch 1\\n'
    """
    if not tee:
        yield
        return
    logger = logging.getLogger("gnnsolve")
    handler = logging.StreamHandler(sys.stdout if stream is None else stream)
    handler.setFormatter(logging.Formatter("%(message)s"))
    level, propagate = logger.level, logger.propagate
    if not logger.isEnabledFor(logging.INFO):
        logger.setLevel(logging.INFO)
        logger.propagate = False
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate
        handler.flush()


def solve_model(model: Any, chosen: dict[str, Any], *, tee: bool = False) -> Solved:
    """Translate ``model``, sample it with ``chosen["sampler"]`` and return what was found.

    The one solve behind both Pyomo interfaces; loading the answer is the caller's
    (:meth:`Solved.load`). ``chosen`` comes from :func:`settings`. With ``tee`` the translation's
    size, the exact samplers' own log (``output=True``) and each penalty attempt are printed.
    A ``mip_rel_gap`` or ``threads`` the sampler cannot take is reported by a ``UserWarning``.

    Raises:
        UnsupportedModelError, InvalidModelError, ModelTooLargeError: see :meth:`GnnsolveSolver.solve`.
    """
    import pyomo.environ as pyo

    from gnnsolve.adapters.pyomo import active_objective, translate
    from gnnsolve.registry import get_sampler, sampler_spec
    from gnnsolve.samplers._common import Stopwatch

    name = chosen["sampler"]
    sampler = get_sampler(name)
    keywords = _sampler_keywords(sampler, chosen, sampler_spec(name).exact)
    watch = Stopwatch(time_limit=math.inf if chosen["time_limit"] is None else chosen["time_limit"])
    maximise = active_objective(model).sense == pyo.maximize
    cqm = None
    variables: dict[str, Any] = {}
    try:
        cqm, variables = translate(model, time_limit=watch.remaining())
    except TimeoutError as err:
        outcome = _stopped(f"{err}; raise time_limit")
    except InfeasibleModelError as err:
        outcome = Outcome(TerminationCondition.infeasible, None, None, str(err), proven=True)
    else:
        if tee:
            print(
                f"gnnsolve[{name}]: model {model.name} as a CQM of {cqm.num_variables()} variables and "
                f"{len(cqm.constraints)} constraints ({watch.elapsed():.2f} s)",
                flush=True,
            )
        if sampler_spec(name).exact:
            outcome = _sample_exact(sampler, cqm, chosen, keywords, watch, tee)
        else:
            outcome = _sample_bqm(sampler, cqm, chosen, keywords, watch)
            if tee:
                _print_attempts(name, outcome.info, -1.0 if maximise else 1.0)
    return Solved(model, chosen, outcome, cqm, variables, maximise, watch)


def _sampler_keywords(sampler: Any, chosen: dict[str, Any], exact: bool) -> dict[str, Any]:
    """The sampler's own keywords for ``mip_rel_gap`` and ``threads``; a warning for those it cannot take."""
    keywords: dict[str, Any] = {}
    name = chosen["sampler"]
    if chosen["mip_rel_gap"] is not None:
        if exact:
            keywords["mip_rel_gap"] = chosen["mip_rel_gap"]
        else:
            warnings.warn(
                f"sampler {name!r} ignores mip_rel_gap, which applies to exact samplers (highs, gurobi)",
                UserWarning,
                stacklevel=4,
            )
    if chosen["threads"] is not None:
        if "threads" in getattr(sampler, "parameters", {}):
            keywords["threads"] = chosen["threads"]
        else:
            warnings.warn(
                f"sampler {name!r} ignores threads; exact samplers (highs, gurobi) and learned ones (gnn, dyco) take it",
                UserWarning,
                stacklevel=4,
            )
    return keywords


def _sample_exact(
    sampler: Any,
    cqm: dimod.ConstrainedQuadraticModel,
    chosen: dict[str, Any],
    keywords: dict[str, Any],
    watch: Stopwatch,
    tee: bool,
) -> Outcome:
    time_limit = None if chosen["time_limit"] is None else watch.remaining()
    if time_limit == 0:
        return _stopped("the time limit ran out while translating the model; raise time_limit")
    if tee:
        keywords = {**keywords, "output": True}
        sys.stdout.flush()
    try:
        sampleset = sampler.sample_cqm(cqm, time_limit=time_limit, seed=chosen["seed"], **keywords)
    except InfeasibleModelError as err:
        return Outcome(TerminationCondition.infeasible, None, None, str(err), proven=True)
    except UnboundedModelError as err:
        return Outcome(TerminationCondition.unbounded, None, None, str(err), proven=True)
    except InfeasibleOrUnboundedError as err:
        return Outcome(TerminationCondition.infeasibleOrUnbounded, None, None, str(err), proven=True)
    except NoSolutionError as err:
        return _stopped(str(err))
    best = sampleset.first
    status = sampleset.info.get("status")
    optimal = status == "optimal"
    bound = sampleset.info.get("bound")
    return Outcome(
        TerminationCondition.optimal if optimal else TerminationCondition.maxTimeLimit,
        dict(best.sample),
        float(best.energy),
        f"{status}, gap {sampleset.info.get('gap')}",
        bound=None if bound is None or not math.isfinite(bound) else float(bound),
        proven=optimal,
        info=dict(sampleset.info),
    )


def _sample_bqm(
    sampler: Any, cqm: dimod.ConstrainedQuadraticModel, chosen: dict[str, Any], keywords: dict[str, Any], watch: Stopwatch
) -> Outcome:
    """The model's CQM through :class:`~gnnsolve.samplers.penalty.PenaltyComposite`; its best feasible sample."""
    import numpy as np

    from gnnsolve.samplers.penalty import PenaltyComposite

    if watch.expired():
        return _stopped("the time limit ran out while translating the model; raise time_limit")
    try:
        sampleset = PenaltyComposite(sampler).sample_cqm(
            cqm,
            time_limit=None if chosen["time_limit"] is None else watch.remaining(),
            num_reads=chosen["num_reads"],
            seed=chosen["seed"],
            penalty=chosen["penalty"],
            repair=chosen["repair"],
            **keywords,
        )
    except TimeoutError as err:
        return _stopped(f"{err}; raise time_limit")
    info = dict(sampleset.info)
    info["attempts"] = _attempts(sampleset)
    tried = f"penalties tried: {', '.join(f'{p:g}' for p in info['penalties'])}"
    if not len(sampleset):
        return _stopped("the time limit ran out before sampling; raise time_limit", info)
    record = sampleset.record
    if record.is_feasible.any():
        energies = np.where(record.is_feasible, record.energy, np.inf)
        best = int(np.argmin(energies))
        penalty = float(record.penalty[best])
        drawn = int((record.penalty == penalty).sum())
        message = f"best of {int(record.is_feasible.sum())} feasible answers from {drawn} samples, penalty {penalty:g}"
        if chosen["repair"]:
            message += f"; {info['feasible_as_sampled']} were feasible as sampled, {info['repaired']} after repair"
        sample = _plain(sampleset, best)
        energy = float(energies[best])
        if cqm.objective.num_variables == 0:  # a feasibility model: every feasible answer is optimal
            return Outcome(TerminationCondition.optimal, sample, energy, message, bound=energy, proven=True, info=info)
        return Outcome(TerminationCondition.feasible, sample, energy, message, info=info)
    closest = min(range(len(sampleset)), key=lambda row: _total_violation(cqm, _plain(sampleset, row)))
    # dimod's sample type, Mapping[Hashable, ...], is invariant in its key: it refuses a str-keyed dict, which dimod reads fine
    violated = cqm.violations(_plain(sampleset, closest), skip_satisfied=True)  # type: ignore[arg-type]
    listed = ", ".join(f"{label} (by {abs(amount):g})" for label, amount in list(violated.items())[:10])
    if info["stop_reason"] in ("time_limit", "interrupted"):
        return _stopped(
            f"the time limit ran out before any sample satisfied every constraint ({tried}); the closest violates {listed}", info
        )
    return Outcome(
        TerminationCondition.infeasible,
        None,
        None,
        f"no sample satisfied every constraint ({tried}); the closest violates {listed}",
        status=SolverStatus.warning,
        info=info,
    )


def _attempts(sampleset: dimod.SampleSet) -> list[dict[str, Any]]:
    """Per penalty tried, in order: its attempts (the composite may sample one penalty model again),
    their samples, how many are feasible, and the best feasible energy."""
    record = sampleset.record
    tried = sampleset.info["penalties"]
    attempts = []
    for penalty in dict.fromkeys(tried):
        rows = record.penalty == penalty
        feasible = rows & record.is_feasible
        best = float(record.energy[feasible].min()) if feasible.any() else None
        attempts.append(
            {
                "penalty": float(penalty),
                "attempts": tried.count(penalty),
                "samples": int(rows.sum()),
                "feasible": int(feasible.sum()),
                "best_energy": best,
            }
        )
    return attempts


def _print_attempts(name: str, info: dict[str, Any], sign: float) -> None:
    """``tee``'s lines for the penalty composite's attempts (read from its ``info``)."""
    for attempt in info.get("attempts", []):
        best = "" if attempt["best_energy"] is None else f", best objective {sign * attempt['best_energy']:g}"
        times = "" if attempt["attempts"] == 1 else f" ({attempt['attempts']} attempts)"
        print(
            f"gnnsolve[{name}]: penalty {attempt['penalty']:g}{times}: {attempt['samples']} samples, "
            f"{attempt['feasible']} feasible{best}",
            flush=True,
        )
    if "stop_reason" in info:
        print(
            f"gnnsolve[{name}]: stopped ({info['stop_reason']}): {info['feasible_as_sampled']} samples feasible as "
            f"sampled, {info['repaired']} after repair",
            flush=True,
        )


def _plain(sampleset: dimod.SampleSet, row: int) -> dict[str, float]:
    """Row ``row`` of ``sampleset`` as a dict of Python numbers."""
    values = sampleset.record.sample[row]
    return {v: values[i].item() for i, v in enumerate(sampleset.variables)}


def _total_violation(cqm: dimod.ConstrainedQuadraticModel, sample: dict[str, float]) -> float:
    # dimod's sample type, Mapping[Hashable, ...], is invariant in its key: it refuses a str-keyed dict, which dimod reads fine
    violations = cqm.violations(sample, skip_satisfied=True)  # type: ignore[arg-type]
    return float(sum(abs(amount) for amount in violations.values()))


def _stopped(message: str, info: dict[str, Any] | None = None) -> Outcome:
    """The time limit ran out before anything feasible was found: nothing to load."""
    return Outcome(TerminationCondition.maxTimeLimit, None, None, message, status=SolverStatus.warning, info=info or {})


def _results(solved: Solved, seconds: float, keep_solution: bool) -> SolverResults:
    """Pyomo's legacy results; with ``keep_solution`` the answer goes into ``results.solution``,
    keyed by the variables' names, with the symbol map ``model.solutions.load_from`` reads."""
    outcome = solved.outcome
    results = SolverResults()
    results.solver.name = f"gnnsolve[{solved.settings['sampler']}]"
    results.solver.termination_condition = outcome.termination
    results.solver.status = outcome.status
    results.solver.message = outcome.message
    results.solver.wallclock_time = seconds
    results.problem.name = solved.model.name
    if solved.cqm is not None:
        results.problem.number_of_variables = solved.cqm.num_variables()
        results.problem.number_of_constraints = len(solved.cqm.constraints)
    results.problem.sense = ProblemSense.maximize if solved.maximise else ProblemSense.minimize
    value, bound = solved.objective_value(), solved.objective_bound()
    if value is not None:
        if solved.maximise:
            results.problem.lower_bound, results.problem.upper_bound = value, math.inf if bound is None else bound
        else:
            results.problem.lower_bound, results.problem.upper_bound = -math.inf if bound is None else bound, value
    if keep_solution and outcome.sample is not None:
        _keep_solution(results, solved, value)
    return results


def _keep_solution(results: SolverResults, solved: Solved, value: float | None) -> None:
    from pyomo.core.expr.symbol_map import SymbolMap

    from gnnsolve.adapters.pyomo import active_objective

    outcome = solved.outcome
    assert outcome.sample is not None, "_results keeps a solution only where there is a sample"
    solution = results.solution.add()
    solution._cuid = False  # keyed by names (as ModelSolutions.store_to marks it), should the symbol map be gone
    if outcome.termination == TerminationCondition.optimal:
        solution.status = SolutionStatus.optimal
    elif outcome.termination == TerminationCondition.feasible:
        solution.status = SolutionStatus.feasible
    else:
        solution.status = SolutionStatus.stoppedByLimit
    solution.message = outcome.message
    if outcome.info.get("gap") is not None:
        solution.gap = float(outcome.info["gap"])
    symbols = SymbolMap()
    objective = active_objective(solved.model)
    solution.objective[objective.name] = {"Value": value}
    symbols.addSymbol(objective, objective.name)
    pairs = solved.values()  # in the order of the sample's labels, the variables' names
    for label, (var, number) in zip(outcome.sample, pairs):
        solution.variable[label] = {"Value": number}
        symbols.addSymbol(var, label)
    results._smap = symbols
