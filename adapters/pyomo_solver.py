"""``SolverFactory("gnnsolve")``: any gnnsolve sampler as a Pyomo solver.

After ``import gnnsolve`` a Pyomo user swaps ``SolverFactory("appsi_highs")`` for
``SolverFactory("gnnsolve", sampler="gnn")`` and solves the same model. The model goes through
:func:`gnnsolve.adapters.pyomo.to_cqm`; exact samplers (``highs``, ``gurobi``) solve that CQM
directly, every other sampler gets its BQM (:class:`~gnnsolve.adapters.pyomo.PenaltyModel`), and
each sample is mapped back to the model's variables and checked against every constraint.

The termination condition says what is known, no more:

- ``optimal``: an exact sampler proved it, or the objective is a constant (a feasibility model)
  and a sample satisfies every constraint;
- ``maxTimeLimit``: the time limit ran out, with a feasible incumbent of an exact sampler
  (loaded), or before anything feasible was found (the message says in which step; nothing is
  loaded);
- ``feasible``: a heuristic sampler's best sample satisfies every constraint;
- ``infeasible``: a constraint cannot hold for any values within its variables' bounds (it is
  named), an exact sampler proved that nothing is feasible, or no heuristic sample was
  feasible, even after raising the penalty (``penalty="auto"`` starts low and multiplies it by
  4, up to :data:`PENALTY_RETRIES` times; see :data:`AUTO_PENALTY_START`). The violated constraints are listed in
  ``results.solver.message`` and nothing is loaded into the model.

Options (given to ``SolverFactory``, set in ``opt.options`` or passed to ``solve``):
``sampler`` (a name from :func:`gnnsolve.registry.sampler_names`, default ``"gnn"``),
``time_limit`` (``timelimit`` is accepted too), ``num_reads``, ``seed``, ``penalty``
(``"auto"`` or a number) and ``repair`` (default ``True``). The last two concern samplers that
need the BQM: with ``repair`` each sample, mapped back to the model's variables, is repaired
towards feasibility and then descended while feasible by single-variable moves
(:mod:`gnnsolve.search.cqm_repair`), which the slack variables of the BQM make impossible for
the sampler itself; the message says how many answers the repair made feasible.

``time_limit`` is in seconds for the whole solve, from entering ``solve`` to returning: the
translation to a CQM and to the penalty BQM, every sampler call, the repair and the load-back
(only importing the sampler's module on its first use in a process, seconds for torch, comes
before the clock starts).
Each penalty attempt gets half of what is left (the last one all of it); within an attempt the
sampler gets the attempt's time less :data:`REPAIR_SHARE`, kept for mapping its samples back
and repairing them, which stops at the attempt's end with the states reached. Without
``time_limit``, an exact sampler runs its own default budget (its one call is the whole solve)
and the others share :func:`default_time_limit` of the penalty BQM's size in the same way, so
the retries never multiply a sampler's default; ``math.inf`` asks for no limit at all.

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
    import numpy as np

    from gnnsolve.samplers._common import Stopwatch

__all__ = [
    "GnnsolveSolver", "register", "default_time_limit", "PENALTY_RETRIES", "AUTO_PENALTY_START", "REPAIR_SHARE", "OPTIONS",
]

PENALTY_RETRIES = 4
"""How many times ``penalty="auto"`` is multiplied by 4 when no sample comes back feasible."""

AUTO_PENALTY_START = 32
"""``penalty="auto"`` starts at :func:`~gnnsolve.adapters.pyomo.auto_penalty` divided by this.

Every answer is checked against the constraints, so the penalty can start low, where the
landscape is smooth and samplers find good feasible points (on the knapsack example simulated
annealing finds the optimum at 1/32 of that scale and 25% less at the full scale), and rise only
when no sample is feasible: 1/32, 1/8, 1/2, 2 and 8 times the scale."""

REPAIR_SHARE = 0.2
"""The share of each penalty attempt's time kept for mapping samples back and repairing them."""

OPTIONS = ("sampler", "time_limit", "num_reads", "seed", "penalty", "repair")
"""The options the solver understands."""

_DEFAULTS: dict[str, Any] = {
    "sampler": "gnn", "time_limit": None, "num_reads": 10, "seed": None, "penalty": "auto", "repair": True,
}


def default_time_limit(num_variables: int, num_interactions: int) -> float:
    """Seconds for a whole solve without ``time_limit`` by a sampler that takes the BQM.

    ``min(300, 5 + 2e-4 (n + m))`` for a penalty BQM of ``n`` variables and ``m`` interactions,
    the scale of :func:`gnnsolve.samplers.pignn.default_time_limit` for that BQM, so the first
    attempt gets about half of what PI-GNN would take on it alone: 5 s for a knapsack of 20
    items, 31 s for one of 500 (a constraint over ``k`` items couples ``k²/2`` pairs), 144 s for
    a set cover of 20,000 sets and 80,000 memberships (53,000 variables, 640,000 interactions;
    translating it takes about 5 s of that).

    Example:
        >>> from gnnsolve.adapters.pyomo_solver import default_time_limit
        >>> default_time_limit(29, 406), default_time_limit(514, 131841)
        (5.087, 31.471)
    """
    return float(min(300.0, 5.0 + 2e-4 * (num_variables + num_interactions)))


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
    return _sample_bqm(sampler, name, cqm, settings, watch)


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


def _sample_bqm(sampler: Any, name: str, cqm: dimod.ConstrainedQuadraticModel, settings: dict[str, Any],
                watch: Stopwatch) -> _Outcome:
    """Penalty attempts until a sample is feasible, the penalties are tried or the time is spent."""
    import numpy as np

    from gnnsolve.adapters.pyomo import PenaltyModel, auto_penalty
    from gnnsolve.registry import check_model_size, sample_kwargs
    from gnnsolve.search.cqm_repair import CompiledCQM

    if watch.expired():
        return _stopped("the time limit ran out while translating the model; raise time_limit")
    try:
        compiled = CompiledCQM(cqm, time_limit=watch.remaining())
        form = PenaltyModel(cqm, time_limit=watch.remaining())
    except TimeoutError as err:
        return _stopped(f"{err}; raise time_limit")
    if settings["time_limit"] is None:
        watch.time_limit = default_time_limit(form.num_variables, form.num_interactions)
    penalty, tries = settings["penalty"], 1
    if penalty == "auto":
        penalty, tries = auto_penalty(cqm, compiled) / AUTO_PENALTY_START, 1 + PENALTY_RETRIES
    penalties: list[float] = []
    closest: tuple[float, np.ndarray] | None = None
    for attempt in range(tries):
        if watch.expired():
            break
        end = watch.deadline(1.0 if attempt == tries - 1 else 0.5)
        bqm = form.bqm(penalty)
        penalties.append(penalty)
        check_model_size(name, bqm)
        sampling = max((end - watch.elapsed()) * (1 - REPAIR_SHARE), 1e-3)
        keywords = sample_kwargs(name, time_limit=sampling, num_reads=settings["num_reads"], seed=settings["seed"], bqm=bqm)
        samples = form.invert_samples(sampler.sample(bqm, **keywords))
        sampled_feasible = int(compiled.feasible(samples).sum())
        if settings["repair"]:
            samples = _repair(compiled, samples, lambda: end - watch.elapsed())
        feasible = compiled.feasible(samples)
        if feasible.any():
            energies = np.where(feasible, compiled.objective(samples), np.inf)
            best = int(np.argmin(energies))
            message = f"best of {int(feasible.sum())} feasible answers from {len(samples)} samples, penalty {penalty:g}"
            if settings["repair"]:
                message += f"; {sampled_feasible} were feasible as sampled, the rest after repair"
            if cqm.objective.num_variables == 0:  # a feasibility model: every feasible answer is optimal
                return _Outcome(TerminationCondition.optimal, compiled.to_sample(samples[best]), float(energies[best]),
                                message, bound=float(energies[best]))
            return _Outcome(TerminationCondition.feasible, compiled.to_sample(samples[best]), float(energies[best]), message)
        violations = compiled.violation(samples)
        nearest = int(np.argmin(violations))
        if closest is None or violations[nearest] < closest[0]:
            closest = (float(violations[nearest]), samples[nearest])
        penalty *= 4
    tried = f"penalties tried: {', '.join(f'{p:g}' for p in penalties)}"
    if closest is None:
        return _stopped("the time limit ran out before sampling; raise time_limit")
    violated = cqm.violations(compiled.to_sample(closest[1]), skip_satisfied=True)
    listed = ", ".join(f"{label} (by {abs(amount):g})" for label, amount in list(violated.items())[:10])
    if len(penalties) < tries:
        return _stopped(f"the time limit ran out before any sample satisfied every constraint ({tried}); "
                        f"the closest violates {listed}")
    return _Outcome(TerminationCondition.infeasible, None, None,
                    f"no sample satisfied every constraint ({tried}); the closest violates {listed}", status=SolverStatus.warning)


def _stopped(message: str) -> _Outcome:
    """The time limit ran out before anything feasible was found: nothing to load."""
    return _Outcome(TerminationCondition.maxTimeLimit, None, None, message, status=SolverStatus.warning)


def _repair(compiled: Any, samples: np.ndarray, remaining: Any) -> np.ndarray:
    """Each sample repaired and descended, nearest to feasible first, while ``remaining()`` seconds are left."""
    import numpy as np

    repaired = samples.copy()
    order = np.lexsort((compiled.objective(samples), compiled.violation(samples)))
    for row in order:
        left = remaining()
        if left <= 0:
            break
        repaired[row] = compiled.repair_array(samples[row], time_limit=left)
    return repaired


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
