"""``SolverFactory("gnnsolve")``: any gnnsolve sampler as a Pyomo solver.

After ``import gnnsolve`` a Pyomo user swaps ``SolverFactory("appsi_highs")`` for
``SolverFactory("gnnsolve", sampler="gnn")`` and solves the same model. The model goes through
:func:`gnnsolve.adapters.pyomo.to_cqm`; exact samplers (``highs``, ``gurobi``) solve that CQM
directly, every other sampler samples it through
:class:`~gnnsolve.samplers.penalty.PenaltyComposite` (a penalty BQM, rising while nothing is
feasible, and repair on the model's own variables), and each sample is checked against every
constraint.

The termination condition says what is known, no more:

- ``optimal``: an exact sampler proved it, or the objective is a constant (a feasibility model)
  and a sample satisfies every constraint;
- ``maxTimeLimit``: the time limit ran out, with a feasible incumbent of an exact sampler
  (loaded), or before anything feasible was found (the message says in which step; nothing is
  loaded);
- ``feasible``: a heuristic sampler's best sample satisfies every constraint;
- ``infeasible``: a constraint cannot hold for any values within its variables' bounds (it is
  named), an exact sampler proved that nothing is feasible, or no heuristic sample was
  feasible, even after raising the penalty (the composite's schedule). The violated constraints are listed in
  ``results.solver.message`` and nothing is loaded into the model.

Options (given to ``SolverFactory``, set in ``opt.options`` or passed to ``solve``):
``sampler`` (a name from :func:`gnnsolve.registry.sampler_names`, default ``"gnn"``),
``time_limit`` (``timelimit`` is accepted too), ``num_reads``, ``seed``, ``penalty``
(``"auto"`` or a number) and ``repair`` (default ``True``). The last two concern samplers that
need the BQM: with ``repair`` each sample, mapped back to the model's variables, is repaired
towards feasibility and then descended while feasible by single-variable moves
(:mod:`gnnsolve.search.cqm_repair`); the message says how many answers the repair made feasible.

``time_limit`` is in seconds for the whole solve, from entering ``solve`` to returning: the
translation to a CQM and to the penalty BQM, every sampler call, the repair and the load-back
(only importing the sampler's module on its first use in a process, seconds for torch, comes
before the clock starts).
What is left after translating goes to the sampler's call (the composite shares it among its
penalty attempts). Without ``time_limit``, an exact sampler runs its own default budget and the
others the composite's (:func:`gnnsolve.samplers.penalty.default_time_limit` of the penalty
BQM's size); ``math.inf`` asks for no limit at all.

Example:
    >>> import pyomo.environ as pyo
    >>> import gnnsolve  # registers the solver
    >>> m = pyo.ConcreteModel()
    >>> m.x = pyo.Var([1, 2, 3], domain=pyo.Binary)
    >>> m.value = pyo.Objective(expr=3 * m.x[1] + 2 * m.x[2] + 2 * m.x[3], sense=pyo.maximize)
    >>> m.weight = pyo.Constraint(expr=2 * m.x[1] + m.x[2] + m.x[3] <= 2)
    >>> results = pyo.SolverFactory("gnnsolve", sampler="highs").solve(m)
    >>> str(results.solver.termination_condition), pyo.value(m.value)
    ('optimal', 4)
    >>> results = pyo.SolverFactory("gnnsolve", sampler="sa", seed=0, time_limit=5).solve(m)
    >>> str(results.solver.termination_condition), pyo.value(m.value)
    ('feasible', 4)
    >>> results.solver.wallclock_time < 5
    True
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pyomo.opt import (
    ProblemSense,
    SolverFactory,
    SolverResults,
    SolverStatus,
    TerminationCondition,
)

from gnnsolve import __version__
from gnnsolve.errors import InfeasibleModelError, NoSolutionError

if TYPE_CHECKING:
    import dimod

    from gnnsolve.samplers._common import Stopwatch

__all__ = [
    "GnnsolveSolver", "register", "OPTIONS",
]

OPTIONS = ("sampler", "time_limit", "num_reads", "seed", "penalty", "repair")
"""The options the solver understands."""

_DEFAULTS: dict[str, Any] = {
    "sampler": "gnn", "time_limit": None, "num_reads": 10, "seed": None, "penalty": "auto", "repair": True,
}


@dataclass
class _Outcome:
    """What sampling found: the best sample in the CQM's variables, and how to report it."""

    termination: TerminationCondition
    sample: dict[str, float] | None
    energy: float | None
    message: str
    bound: float | None = None
    status: SolverStatus = SolverStatus.ok


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
        for token in text.split():
            key, _, value = token.partition("=")
            self.options[key] = value

    def __enter__(self) -> GnnsolveSolver:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def solve(self, model: Any, **kwds: Any) -> SolverResults:
        """Solve ``model`` with the chosen sampler; load the answer unless none is feasible.

        Keywords: the options above, ``options`` (a dict of them), ``load_solutions`` (default
        ``True``), ``tee`` (print one summary line), ``timelimit``; Pyomo's other generic
        keywords (``symbolic_solver_labels``, ``keepfiles``, ...) are accepted and ignored.

        Raises:
            ValueError: an unknown option or a bad value.
            UnsupportedModelError, InvalidModelError: the model cannot be stated for a sampler
                (see :func:`gnnsolve.adapters.pyomo.to_cqm`); the component is named.
            ModelTooLargeError: the model's BQM is too large for the sampler (see
                :class:`~gnnsolve.adapters.pyomo.PenaltyModel`).
        """
        import pyomo.environ as pyo

        from gnnsolve.adapters.pyomo import active_objective, load_solution, translate
        from gnnsolve.registry import get_sampler
        from gnnsolve.samplers._common import Stopwatch

        load = kwds.pop("load_solutions", True)
        tee = kwds.pop("tee", False)
        for ignored in ("symbolic_solver_labels", "keepfiles", "logfile", "report_timing", "warmstart"):
            kwds.pop(ignored, None)
        settings = _settings({**self.options, **dict(kwds.pop("options", None) or {}), **kwds})
        sampler = get_sampler(settings["sampler"])
        watch = Stopwatch(time_limit=math.inf if settings["time_limit"] is None else settings["time_limit"])
        cqm = variables = None
        try:
            cqm, variables = translate(model, time_limit=watch.remaining())
        except TimeoutError as err:
            outcome = _stopped(f"{err}; raise time_limit")
        except InfeasibleModelError as err:
            outcome = _Outcome(TerminationCondition.infeasible, None, None, str(err))
        else:
            outcome = _sample(sampler, cqm, settings, watch)
        maximise = active_objective(model).sense == pyo.maximize
        if load and outcome.sample is not None:
            load_solution(model, outcome.sample, variables)
        seconds = watch.elapsed()
        results = _results(model, cqm, settings, outcome, seconds, maximise)
        if tee:
            print(f"gnnsolve[{settings['sampler']}]: {outcome.termination} in {seconds:.2f} s; {outcome.message}")
        return results


def register() -> None:
    """Register :class:`GnnsolveSolver` as ``"gnnsolve"`` with Pyomo's ``SolverFactory`` (idempotent)."""
    if "gnnsolve" not in SolverFactory:
        SolverFactory.register("gnnsolve", doc="gnnsolve: learned (PI-GNN) and exact (HiGHS, Gurobi) samplers")(GnnsolveSolver)


def _settings(given: dict[str, Any]) -> dict[str, Any]:
    from gnnsolve.registry import sampler_spec
    from gnnsolve.samplers._common import check_time_limit

    if "timelimit" in given:
        given["time_limit"] = given.pop("timelimit")
    unknown = sorted(set(given) - set(OPTIONS))
    if unknown:
        raise ValueError(f"unknown gnnsolve option(s) {unknown}; valid options: {', '.join(OPTIONS)}")
    settings = {**_DEFAULTS, **{key: value for key, value in given.items() if value is not None}}
    settings["sampler"] = sampler_spec(str(settings["sampler"])).name
    settings["num_reads"] = int(settings["num_reads"])
    if isinstance(settings["time_limit"], str):
        settings["time_limit"] = float(settings["time_limit"])
    settings["time_limit"] = check_time_limit(settings["time_limit"])
    if settings["penalty"] != "auto":
        settings["penalty"] = float(settings["penalty"])
    if not isinstance(settings["repair"], bool):
        raise ValueError(f"repair must be True or False, got {settings['repair']!r}")
    return settings


def _sample(sampler: Any, cqm: dimod.ConstrainedQuadraticModel, settings: dict[str, Any], watch: Stopwatch) -> _Outcome:
    from gnnsolve.registry import sampler_spec

    name = settings["sampler"]
    if sampler_spec(name).exact:
        return _sample_exact(sampler, cqm, settings, watch)
    return _sample_bqm(sampler, cqm, settings, watch)


def _sample_exact(sampler: Any, cqm: dimod.ConstrainedQuadraticModel, settings: dict[str, Any], watch: Stopwatch) -> _Outcome:
    time_limit = None if settings["time_limit"] is None else watch.remaining()
    if time_limit == 0:
        return _stopped("the time limit ran out while translating the model; raise time_limit")
    try:
        sampleset = sampler.sample_cqm(cqm, time_limit=time_limit, seed=settings["seed"])
    except InfeasibleModelError as err:
        return _Outcome(TerminationCondition.infeasible, None, None, str(err))
    except NoSolutionError as err:
        return _stopped(str(err))
    best = sampleset.first
    status = sampleset.info.get("status")
    termination = TerminationCondition.optimal if status == "optimal" else TerminationCondition.maxTimeLimit
    bound = sampleset.info.get("bound")
    return _Outcome(termination, dict(best.sample), float(best.energy), f"{status}, gap {sampleset.info.get('gap')}",
                    bound=None if bound is None or not math.isfinite(bound) else float(bound))


def _sample_bqm(sampler: Any, cqm: dimod.ConstrainedQuadraticModel, settings: dict[str, Any], watch: Stopwatch) -> _Outcome:
    """The model's CQM through :class:`~gnnsolve.samplers.penalty.PenaltyComposite`; its best feasible sample."""
    import numpy as np

    from gnnsolve.samplers.penalty import PenaltyComposite

    if watch.expired():
        return _stopped("the time limit ran out while translating the model; raise time_limit")
    try:
        sampleset = PenaltyComposite(sampler).sample_cqm(
            cqm, time_limit=None if settings["time_limit"] is None else watch.remaining(),
            num_reads=settings["num_reads"], seed=settings["seed"], penalty=settings["penalty"], repair=settings["repair"],
        )
    except TimeoutError as err:
        return _stopped(f"{err}; raise time_limit")
    info = sampleset.info
    tried = f"penalties tried: {', '.join(f'{p:g}' for p in info['penalties'])}"
    if not len(sampleset):
        return _stopped("the time limit ran out before sampling; raise time_limit")
    record = sampleset.record
    if record.is_feasible.any():
        energies = np.where(record.is_feasible, record.energy, np.inf)
        best = int(np.argmin(energies))
        penalty = float(record.penalty[best])
        drawn = int((record.penalty == penalty).sum())
        message = f"best of {int(record.is_feasible.sum())} feasible answers from {drawn} samples, penalty {penalty:g}"
        if settings["repair"]:
            message += f"; {info['feasible_as_sampled']} were feasible as sampled, {info['repaired']} after repair"
        sample = _plain(sampleset, best)
        if cqm.objective.num_variables == 0:  # a feasibility model: every feasible answer is optimal
            return _Outcome(TerminationCondition.optimal, sample, float(energies[best]), message, bound=float(energies[best]))
        return _Outcome(TerminationCondition.feasible, sample, float(energies[best]), message)
    closest = min(range(len(sampleset)), key=lambda row: _total_violation(cqm, _plain(sampleset, row)))
    violated = cqm.violations(_plain(sampleset, closest), skip_satisfied=True)
    listed = ", ".join(f"{label} (by {abs(amount):g})" for label, amount in list(violated.items())[:10])
    if info["stop_reason"] in ("time_limit", "interrupted"):
        return _stopped(f"the time limit ran out before any sample satisfied every constraint ({tried}); "
                        f"the closest violates {listed}")
    return _Outcome(TerminationCondition.infeasible, None, None,
                    f"no sample satisfied every constraint ({tried}); the closest violates {listed}", status=SolverStatus.warning)


def _plain(sampleset: dimod.SampleSet, row: int) -> dict[str, float]:
    """Row ``row`` of ``sampleset`` as a dict of Python numbers."""
    values = sampleset.record.sample[row]
    return {v: values[i].item() for i, v in enumerate(sampleset.variables)}


def _total_violation(cqm: dimod.ConstrainedQuadraticModel, sample: dict[str, float]) -> float:
    return float(sum(abs(amount) for amount in cqm.violations(sample, skip_satisfied=True).values()))


def _stopped(message: str) -> _Outcome:
    """The time limit ran out before anything feasible was found: nothing to load."""
    return _Outcome(TerminationCondition.maxTimeLimit, None, None, message, status=SolverStatus.warning)


def _results(model: Any, cqm: dimod.ConstrainedQuadraticModel | None, settings: dict[str, Any], outcome: _Outcome,
             seconds: float, maximise: bool) -> SolverResults:
    """Pyomo results; the CQM's energies are the objective negated when ``maximise``."""
    sign = -1.0 if maximise else 1.0
    results = SolverResults()
    results.solver.name = f"gnnsolve[{settings['sampler']}]"
    results.solver.termination_condition = outcome.termination
    results.solver.status = outcome.status
    results.solver.message = outcome.message
    results.solver.wallclock_time = seconds
    results.problem.name = model.name
    if cqm is not None:
        results.problem.number_of_variables = cqm.num_variables()
        results.problem.number_of_constraints = len(cqm.constraints)
    results.problem.sense = ProblemSense.maximize if maximise else ProblemSense.minimize
    if outcome.energy is not None:
        value = sign * outcome.energy
        bound = None if outcome.bound is None else sign * outcome.bound
        if maximise:
            results.problem.lower_bound, results.problem.upper_bound = value, bound if bound is not None else math.inf
        else:
            results.problem.lower_bound, results.problem.upper_bound = bound if bound is not None else -math.inf, value
    return results
