"""``SolverFactory("gnnsolve")``: any gnnsolve sampler as a Pyomo solver.

After ``import gnnsolve`` a Pyomo user swaps ``SolverFactory("appsi_highs")`` for
``SolverFactory("gnnsolve", sampler="gnn")`` and solves the same model. The model goes through
:func:`gnnsolve.adapters.pyomo.to_cqm`; exact samplers (``highs``, ``gurobi``) solve that CQM
directly, every other sampler gets its BQM (:func:`~gnnsolve.adapters.pyomo.to_bqm`), and each
sample is mapped back to the model's variables and checked against every constraint.

The termination condition says what is known, no more:

- ``optimal``: an exact sampler proved it;
- ``maxTimeLimit``: an exact sampler stopped at its time limit with a feasible incumbent;
- ``feasible``: a heuristic sampler's best sample satisfies every constraint;
- ``infeasible``: an exact sampler proved that nothing is feasible, or no heuristic sample was
  feasible, even after raising the penalty (``penalty="auto"`` starts low and multiplies it by
  4, up to :data:`PENALTY_RETRIES` times; see :data:`AUTO_PENALTY_START`). The violated constraints are listed in
  ``results.solver.message`` and nothing is loaded into the model.

Options (given to ``SolverFactory``, set in ``opt.options`` or passed to ``solve``):
``sampler`` (a name from :func:`gnnsolve.registry.sampler_names`, default ``"gnn"``),
``time_limit`` (seconds for the whole solve: each penalty retry gets half of what is left, the
last one all of it; ``timelimit`` is accepted too), ``num_reads``, ``seed``, ``penalty``
(``"auto"`` or a number) and ``repair`` (default ``True``). The last two concern samplers that
need the BQM: with ``repair`` each sample, mapped back to the model's variables, is repaired
towards feasibility and then descended while feasible by single-variable moves
(:mod:`gnnsolve.search.cqm_repair`), which the slack variables of the BQM make impossible for
the sampler itself; the message says how many answers the repair made feasible.

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
    >>> results = pyo.SolverFactory("gnnsolve", sampler="sa", seed=0).solve(m)
    >>> str(results.solver.termination_condition), pyo.value(m.value)
    ('feasible', 4)
"""

from __future__ import annotations

import math
import time
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

__all__ = ["GnnsolveSolver", "register", "PENALTY_RETRIES", "AUTO_PENALTY_START", "OPTIONS"]

PENALTY_RETRIES = 4
"""How many times ``penalty="auto"`` is multiplied by 4 when no sample comes back feasible."""

AUTO_PENALTY_START = 32
"""``penalty="auto"`` starts at :func:`~gnnsolve.adapters.pyomo.auto_penalty` divided by this.

Every answer is checked against the constraints, so the penalty can start low, where the
landscape is smooth and samplers find good feasible points (on the knapsack example simulated
annealing finds the optimum at 1/32 of that scale and 25% less at the full scale), and rise only
when no sample is feasible: 1/32, 1/8, 1/2, 2 and 8 times the scale."""

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
        """Solve ``model`` with the chosen sampler; load the answer unless it is infeasible.

        Keywords: the options above, ``options`` (a dict of them), ``load_solutions`` (default
        ``True``), ``tee`` (print one summary line), ``timelimit``; Pyomo's other generic
        keywords (``symbolic_solver_labels``, ``keepfiles``, ...) are accepted and ignored.

        Raises:
            ValueError: an unknown option or a bad value.
            UnsupportedModelError, InvalidModelError: the model cannot be stated for a sampler
                (see :func:`gnnsolve.adapters.pyomo.to_cqm`); the component is named.
        """
        import pyomo.environ as pyo

        from gnnsolve.adapters.pyomo import active_objective, load_solution, to_cqm

        load = kwds.pop("load_solutions", True)
        tee = kwds.pop("tee", False)
        for ignored in ("symbolic_solver_labels", "keepfiles", "logfile", "report_timing", "warmstart"):
            kwds.pop(ignored, None)
        settings = _settings({**self.options, **dict(kwds.pop("options", None) or {}), **kwds})
        start = time.perf_counter()
        cqm = to_cqm(model)
        outcome = _sample(cqm, settings)
        seconds = time.perf_counter() - start
        maximise = active_objective(model).sense == pyo.maximize
        results = _results(model, cqm, settings, outcome, seconds, maximise)
        if load and outcome.sample is not None and outcome.termination is not TerminationCondition.infeasible:
            load_solution(model, outcome.sample)
        if tee:
            print(f"gnnsolve[{settings['sampler']}]: {outcome.termination} in {seconds:.2f} s; {outcome.message}")
        return results


def register() -> None:
    """Register :class:`GnnsolveSolver` as ``"gnnsolve"`` with Pyomo's ``SolverFactory`` (idempotent)."""
    if "gnnsolve" not in SolverFactory:
        SolverFactory.register("gnnsolve", doc="gnnsolve: learned (PI-GNN) and exact (HiGHS, Gurobi) samplers")(GnnsolveSolver)


def _settings(given: dict[str, Any]) -> dict[str, Any]:
    from gnnsolve.registry import sampler_spec

    if "timelimit" in given:
        given["time_limit"] = given.pop("timelimit")
    unknown = sorted(set(given) - set(OPTIONS))
    if unknown:
        raise ValueError(f"unknown gnnsolve option(s) {unknown}; valid options: {', '.join(OPTIONS)}")
    settings = {**_DEFAULTS, **{key: value for key, value in given.items() if value is not None}}
    settings["sampler"] = sampler_spec(str(settings["sampler"])).name
    settings["num_reads"] = int(settings["num_reads"])
    if settings["time_limit"] is not None:
        settings["time_limit"] = float(settings["time_limit"])
    if settings["penalty"] != "auto":
        settings["penalty"] = float(settings["penalty"])
    if not isinstance(settings["repair"], bool):
        raise ValueError(f"repair must be True or False, got {settings['repair']!r}")
    return settings


def _sample(cqm: dimod.ConstrainedQuadraticModel, settings: dict[str, Any]) -> _Outcome:
    from gnnsolve.registry import get_sampler, sampler_spec

    name = settings["sampler"]
    sampler = get_sampler(name)
    if sampler_spec(name).exact:
        return _sample_exact(sampler, cqm, settings)
    return _sample_bqm(sampler, name, cqm, settings)


def _sample_exact(sampler: Any, cqm: dimod.ConstrainedQuadraticModel, settings: dict[str, Any]) -> _Outcome:
    try:
        sampleset = sampler.sample_cqm(cqm, time_limit=settings["time_limit"], seed=settings["seed"])
    except InfeasibleModelError as err:
        return _Outcome(TerminationCondition.infeasible, None, None, str(err))
    except NoSolutionError as err:
        return _Outcome(TerminationCondition.maxTimeLimit, None, None, str(err))
    best = sampleset.first
    status = sampleset.info.get("status")
    termination = TerminationCondition.optimal if status == "optimal" else TerminationCondition.maxTimeLimit
    bound = sampleset.info.get("bound")
    return _Outcome(termination, dict(best.sample), float(best.energy), f"{status}, gap {sampleset.info.get('gap')}",
                    bound=None if bound is None or not math.isfinite(bound) else float(bound))


def _sample_bqm(sampler: Any, name: str, cqm: dimod.ConstrainedQuadraticModel, settings: dict[str, Any]) -> _Outcome:
    from gnnsolve.adapters.pyomo import auto_penalty, to_bqm
    from gnnsolve.registry import check_model_size, sample_kwargs
    from gnnsolve.search.cqm_repair import CompiledCQM

    repairer = CompiledCQM(cqm) if settings["repair"] else None

    penalty = settings["penalty"]
    tries = 1
    if penalty == "auto":
        penalty, tries = auto_penalty(cqm) / AUTO_PENALTY_START, 1 + PENALTY_RETRIES
    deadline = None if settings["time_limit"] is None else time.perf_counter() + settings["time_limit"]
    penalties: list[float] = []
    closest: tuple[float, dict[str, float]] | None = None
    for attempt in range(tries):
        bqm, invert, used = to_bqm(cqm, penalty)
        penalties.append(used)
        check_model_size(name, bqm)
        remaining = None if deadline is None else deadline - time.perf_counter()
        share = None if remaining is None else max(0.01, remaining if attempt == tries - 1 else remaining / 2)
        keywords = sample_kwargs(name, time_limit=share, num_reads=settings["num_reads"], seed=settings["seed"])
        sampleset = sampler.sample(bqm, **keywords)
        decoded = [invert(sample) for sample in sampleset.samples()]
        sampled_feasible = sum(1 for sample in decoded if cqm.check_feasible(sample))
        if repairer is not None:
            decoded = [repairer.repair(sample) for sample in decoded]
        feasible = [sample for sample in decoded if cqm.check_feasible(sample)]
        if feasible:
            energies = [float(cqm.objective.energy(sample)) for sample in feasible]
            best = min(range(len(feasible)), key=energies.__getitem__)
            message = f"best of {len(feasible)} feasible answers from {len(decoded)} samples, penalty {used:g}"
            if repairer is not None:
                message += f"; {sampled_feasible} were feasible as sampled, the rest after repair"
            return _Outcome(TerminationCondition.feasible, feasible[best], energies[best], message)
        for sample in decoded:
            violation = sum(abs(v) for v in cqm.violations(sample, skip_satisfied=True).values())
            if closest is None or violation < closest[0]:
                closest = (violation, sample)
        penalty = used * 4
    assert closest is not None
    violated = cqm.violations(closest[1], skip_satisfied=True)
    listed = ", ".join(f"{label} (by {abs(amount):g})" for label, amount in list(violated.items())[:10])
    message = (
        f"no sample satisfied every constraint (penalties tried: {', '.join(f'{p:g}' for p in penalties)}); "
        f"the closest violates {listed}"
    )
    return _Outcome(TerminationCondition.infeasible, closest[1], None, message)


def _results(model: Any, cqm: dimod.ConstrainedQuadraticModel, settings: dict[str, Any], outcome: _Outcome,
             seconds: float, maximise: bool) -> SolverResults:
    """Pyomo results; the CQM's energies are the objective negated when ``maximise``."""
    sign = -1.0 if maximise else 1.0
    results = SolverResults()
    results.solver.name = f"gnnsolve[{settings['sampler']}]"
    results.solver.termination_condition = outcome.termination
    heuristic_failure = outcome.termination is TerminationCondition.infeasible and outcome.sample is not None
    results.solver.status = SolverStatus.warning if heuristic_failure else SolverStatus.ok
    results.solver.message = outcome.message
    results.solver.wallclock_time = seconds
    results.problem.name = model.name
    results.problem.number_of_variables = cqm.num_variables
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
