"""``PenaltyComposite``: ``sample_cqm`` for any BQM sampler, by a rising penalty and repair.

A constrained quadratic model reaches a sampler that takes BQMs (simulated annealing, tabu,
PI-GNN) as its objective plus a penalty times its squared constraint residuals
(:class:`~gnnsolve.penalty_model.PenaltyModel`: slack variables for inequalities, bits for
integers). A penalty too high buries the objective (the landscape becomes a maze of walls that
local samplers cannot cross), one too low lets samples break constraints. The composite
therefore starts low and rises only while nothing comes back feasible:

1. ``penalty="auto"`` starts at :func:`~gnnsolve.penalty_model.auto_penalty` divided by
   :data:`AUTO_PENALTY_START` and is multiplied by 4 after an attempt with no feasible sample
   (after repair), up to :data:`PENALTY_RETRIES` times (a number given as ``penalty`` is tried
   once). Repaired samples of a low penalty can sit short of what a higher one would give (on a
   5 × 5 assignment every sampler settled 4% short of the optimum that the samplers reach
   themselves two penalties higher), but raising the penalty past them was measured worse on
   larger models under load, where later attempts get less time: the medium p-median of
   ``docs/benchmarks/pyomo_models.md`` came back infeasible;
2. each sample, mapped back to the CQM's own variables (slacks dropped, integer bits summed), is
   repaired towards feasibility and then descended while feasible by single moves and pairs of
   moves (:class:`~gnnsolve.search.cqm_repair.CompiledCQM`): moves the slack variables make
   impossible for the sampler itself; the best feasible sample of the attempt is then improved
   by kicks (a move that keeps it feasible, such as opening a facility, followed by the descent)
   for the rest of the attempt's repair time, and the best of all attempts once more with
   whatever time the call has left at the end;
3. once an attempt has a feasible sample, the same penalty model is sampled again from other
   seeds (``seed + 1``, ``seed + 2``, ...) while each attempt lowers the best feasible objective
   and time is left: a sampler that finishes early (simulated annealing's 1000 sweeps take a
   fraction of a second) gets restarts, and a call on an easy model ends as soon as a restart
   finds nothing better;
4. the answer holds every sample of every attempt over the CQM's variables, as
   :meth:`dimod.SampleSet.from_samples_cqm` states them (``energy`` is the objective,
   ``is_satisfied`` per constraint, ``is_feasible``), with a ``penalty`` data vector saying
   which attempt drew it. As with Leap's hybrid CQM solver, take
   ``sampleset.filter(lambda row: row.is_feasible).first`` for the best feasible answer.

``info`` holds ``penalties`` (the value of every attempt, in order), ``repeats`` (attempts
after the first feasible one), ``feasible_as_sampled`` and ``repaired`` (samples feasible before
repair, and those only repair made feasible), ``stop_reason`` (``"converged"``: a repeat found
nothing better; ``"penalties_tried"``: nothing was feasible at any penalty; ``"time_limit"``;
``"interrupted"``: the child reported an interrupt), ``time_limit``, ``timing`` (integer nanoseconds) and
``child_info``, the child's own ``info`` of its last call, and ``problem_label`` where a
``label`` was given.

``time_limit`` covers the whole call: building the penalty model, every attempt and every
repair. Each attempt gets half of what is left (the last one all of it), the child gets the
attempt's time less :data:`REPAIR_SHARE`, and repair stops at the attempt's end with the states
reached. The child's keywords come from :func:`gnnsolve.registry.sample_kwargs` where the child
is one of the registered samplers (dwave-samplers' simulated annealing gets a deadline between
reads, tabu a timeout per read), and otherwise ``time_limit``, ``num_reads`` and ``seed`` are
passed where the child's ``parameters`` name them; a child that takes no time limit runs its
own length, and the composite starts no attempt past the deadline. Without ``time_limit`` the
whole call gets :func:`default_time_limit` of the penalty BQM's size, so the retries never
multiply a sampler's default; ``math.inf`` asks for no limit.

Constraints must be linear and hard, variables BINARY, SPIN or bounded INTEGER: REAL variables
are refused with :class:`~gnnsolve.errors.UnsupportedModelError` (the exact samplers,
``HiGHSSampler`` and ``GurobiSampler``, take them).

Example:
    >>> import dimod
    >>> from dwave.samplers import SimulatedAnnealingSampler
    >>> from gnnsolve.samplers.penalty import PenaltyComposite
    >>> x = [dimod.Binary(f"x{i}") for i in range(4)]
    >>> cqm = dimod.ConstrainedQuadraticModel()
    >>> cqm.set_objective(-3 * x[0] - 2 * x[1] - 2 * x[2] - x[3])
    >>> _ = cqm.add_constraint(2 * x[0] + x[1] + x[2] + x[3] <= 2, label="weight")
    >>> sampleset = PenaltyComposite(SimulatedAnnealingSampler()).sample_cqm(cqm, seed=0, time_limit=5)
    >>> best = sampleset.filter(lambda row: row.is_feasible).first
    >>> [v for v, value in best.sample.items() if value], float(best.energy)
    (['x1', 'x2'], -4.0)
    >>> sampleset.info["stop_reason"], sampleset.info["repeats"]
    ('converged', 1)

Penalty methods for constrained binary optimisation: F. Glover, G. Kochenberger and Y. Du,
"Quantum Bridge Analytics I: a tutorial on formulating and using QUBO models", 4OR 17 (2019).
"""

from __future__ import annotations

import logging
import math
from typing import Any

import dimod
import numpy as np

from gnnsolve.errors import UnsupportedModelError
from gnnsolve.penalty_model import PenaltyModel, auto_penalty
from gnnsolve.registry import check_model_size, child_keywords, spec_of
from gnnsolve.samplers._common import (
    MAX_SEED,
    Stopwatch,
    check_positive_int,
    check_seed,
    check_time_limit,
    cqm_sampleset,
    labelled,
)
from gnnsolve.search.cqm_repair import CompiledCQM

logger = logging.getLogger(__name__)

__all__ = ["PenaltyComposite", "CQMByPenalty", "default_time_limit", "PENALTY_RETRIES", "AUTO_PENALTY_START", "REPAIR_SHARE"]

PENALTY_RETRIES = 4
"""How many times ``penalty="auto"`` is multiplied by 4 when no sample comes back feasible."""

AUTO_PENALTY_START = 32
"""``penalty="auto"`` starts at :func:`~gnnsolve.penalty_model.auto_penalty` divided by this.

Every answer is checked against the constraints, so the penalty can start low, where the
landscape is smooth and samplers find good feasible points (on a 20-item knapsack simulated
annealing finds the optimum at 1/32 of that scale and 25% less at the full scale), and rise only
when no sample is feasible: 1/32, 1/8, 1/2, 2 and 8 times the scale."""

REPAIR_SHARE = 0.2
"""The share of each penalty attempt's time kept for mapping samples back and repairing them."""

_IMPROVEMENT = 1e-9
"""A repeated attempt pays when it lowers the best feasible objective by more than this, relative."""

UNBOUNDED_INTEGER = 2**53 - 1
"""dimod's widest INTEGER bound: an integer at it has no bound a penalty's bits could hold."""


def default_time_limit(num_variables: int, num_interactions: int) -> float:
    """Seconds for a whole ``sample_cqm`` call without ``time_limit``.

    ``min(300, 5 + 2e-4 (n + m))`` for a penalty BQM of ``n`` variables and ``m`` interactions,
    the scale of :func:`gnnsolve.samplers.pignn.default_time_limit` for that BQM, so the first
    attempt gets about half of what PI-GNN would take on it alone: 5 s for a knapsack of 20
    items, 31 s for one of 500 (a constraint over ``k`` items couples ``k²/2`` pairs), 144 s for
    a set cover of 20,000 sets and 80,000 memberships (53,000 variables, 640,000 interactions).

    Example:
        >>> from gnnsolve.samplers.penalty import default_time_limit
        >>> default_time_limit(29, 406), default_time_limit(514, 131841)
        (5.087, 31.471)
    """
    return float(min(300.0, 5.0 + 2e-4 * (num_variables + num_interactions)))


class PenaltyComposite(dimod.ComposedSampler):
    """Give a BQM sampler ``sample_cqm``: rising penalties, repair and feasible descent.

    ``sample`` passes a BQM straight to the child. See the module notes for ``sample_cqm``.

    Args:
        child: any dimod sampler of BQMs.

    Example:
        >>> from dwave.samplers import SteepestDescentSolver
        >>> from gnnsolve.samplers.penalty import PenaltyComposite
        >>> PenaltyComposite(SteepestDescentSolver()).children[0].__class__.__name__
        'SteepestDescentSolver'
    """

    def __init__(self, child: dimod.Sampler) -> None:
        if not hasattr(child, "sample"):
            raise TypeError(f"child must be a dimod sampler, got {type(child).__name__}")
        self._child = child

    @property
    def children(self) -> list[dimod.Sampler]:
        return [self._child]

    @property
    def parameters(self) -> dict[str, list]:
        return {**self._child.parameters, "penalty": [], "repair": []}

    @property
    def properties(self) -> dict[str, Any]:
        return {"child_properties": dict(self._child.properties)}

    def sample(self, bqm: dimod.BinaryQuadraticModel, **kwargs: Any) -> dimod.SampleSet:
        """The child's answer on ``bqm`` (a BQM needs no penalty)."""
        return self._child.sample(bqm, **kwargs)

    def sample_cqm(
        self,
        cqm: dimod.ConstrainedQuadraticModel,
        time_limit: float | None = None,
        *,
        num_reads: int = 10,
        seed: int | None = None,
        penalty: float | str = "auto",
        repair: bool = True,
        label: str | None = None,
        **kwargs: Any,
    ) -> dimod.SampleSet:
        """Sample ``cqm`` through its penalty BQM; every sample mapped back, repaired and checked.

        Args:
            cqm: linear hard constraints; BINARY, SPIN and bounded INTEGER variables.
            time_limit: seconds for the whole call (see the module notes); ``None`` for
                :func:`default_time_limit`, ``math.inf`` for none.
            num_reads: reads asked of the child in each attempt.
            seed: handed to the child in each attempt (the same seed: the models differ).
            penalty: ``"auto"`` for the rising schedule, or one positive number, tried once.
            repair: repair and descend each sample on the CQM's variables (``False``: samples
                as the child drew them, mapped back).
            label: a name for the problem, kept in ``info["problem_label"]`` (as Leap's hybrid
                samplers keep theirs).
            **kwargs: further keywords for the child's ``sample``; they override the composite's.

        Returns:
            Every sample of every attempt, over the CQM's variables, with ``energy``,
            ``is_satisfied``, ``is_feasible`` and ``penalty``.

        Raises:
            TypeError: ``cqm`` is not a ConstrainedQuadraticModel.
            UnsupportedModelError: a REAL variable, a quadratic or soft constraint.
            ModelTooLargeError: the penalties would not fit (see
                :class:`~gnnsolve.penalty_model.PenaltyModel`), or the child refuses the BQM's size.
            ValueError: a bad ``penalty``, ``num_reads``, ``seed``, ``time_limit`` or ``repair``.
        """
        watch = Stopwatch()
        limit = check_time_limit(time_limit)
        check_positive_int("num_reads", num_reads)
        check_seed(seed)
        _check_penalty(penalty)
        if not isinstance(repair, bool):
            raise ValueError(f"repair must be True or False, got {repair!r}")
        if not isinstance(cqm, dimod.ConstrainedQuadraticModel):
            raise TypeError(f"expected a dimod.ConstrainedQuadraticModel, got {type(cqm).__name__}; use sample() for a BQM")
        _check_supported(cqm)
        watch.time_limit = math.inf if limit is None else limit
        with watch.phase("preprocessing"):
            spins = [v for v in cqm.variables if cqm.vartype(v) is dimod.SPIN]
            binary = cqm.spin_to_binary(inplace=False) if spins else cqm  # repair moves 0/1, not ±1
            compiled = CompiledCQM(binary, time_limit=watch.remaining())
            form = PenaltyModel(binary, time_limit=watch.remaining())
        if limit is None:
            watch.time_limit = default_time_limit(form.num_variables, form.num_interactions)
        if penalty == "auto":
            start = auto_penalty(binary, compiled) / AUTO_PENALTY_START
            penalties = [start * 4.0**k for k in range(1 + PENALTY_RETRIES)]
        else:
            penalties = [float(penalty)]
        rows: list[np.ndarray] = []
        used: list[float] = []
        sampled_feasible = repaired = repeats = 0
        child_info: dict[str, Any] = {}
        best, settled = math.inf, None  # the best feasible objective, and the penalty that reached it
        stop_reason = "penalties_tried"
        rising = iter(penalties)
        while True:
            if watch.expired():
                stop_reason = "time_limit"
                break
            if settled is None:
                value = next(rising, None)
                if value is None:
                    break
                attempt_seed, last = seed, len(used) == len(penalties) - 1
            else:  # the same model again, from other seeds, while that pays
                repeats += 1
                value, attempt_seed, last = settled, None if seed is None else (seed + repeats) % (MAX_SEED + 1), False
            end = watch.deadline(1.0 if last else 0.5)
            bqm = form.bqm(value)
            self._check_size(bqm)
            used.append(value)
            seconds = max((end - watch.elapsed()) * (1 - REPAIR_SHARE), 1e-3)
            budget = seconds if math.isfinite(watch.time_limit) else math.inf
            keywords = {
                **child_keywords(self._child, time_limit=budget, num_reads=num_reads, seed=attempt_seed, bqm=bqm),
                **kwargs,
            }
            with watch.phase("sampling"):
                answer = self._child.sample(bqm, **keywords)
            child_info = dict(answer.info)
            with watch.phase("postprocessing"):
                samples = form.invert_samples(answer)
                before = compiled.feasible(samples)
                if repair:
                    samples = _repair(compiled, samples, lambda end=end: end - watch.elapsed())
                after = compiled.feasible(samples)
                if repair and after.any() and end > watch.elapsed():
                    incumbent = int(np.argmin(np.where(after, compiled.objective(samples), np.inf)))
                    samples[incumbent] = compiled.improve_array(samples[incumbent], time_limit=end - watch.elapsed())
            sampled_feasible += int(before.sum())
            repaired += int((after & ~before).sum())
            rows.append(np.column_stack([samples, np.full(len(samples), value)]))
            found = float(np.min(compiled.objective(samples[after]), initial=math.inf))
            logger.info(
                "PenaltyComposite: penalty %.4g (%s) at %.2f s: %d of %d samples feasible as sampled, %d after repair, best objective %.6g",
                value,
                "a restart" if settled is not None else f"attempt {len(used)} of {len(penalties)}",
                watch.elapsed(),
                int(before.sum()),
                len(samples),
                int(after.sum()),
                found,
            )
            if child_info.get("stop_reason") == "interrupted":
                stop_reason = "interrupted"
                break
            if settled is not None and not found < best - _IMPROVEMENT * max(1.0, abs(best)):
                stop_reason = "converged"
                break
            if found < math.inf:
                best, settled = min(best, found), value
        with watch.phase("postprocessing"):
            table = np.concatenate(rows) if rows else np.zeros((0, len(compiled.variables) + 1))
            if repair and not watch.expired():
                _improve_incumbent(compiled, table[:, :-1], watch)
            sampleset = _sampleset(cqm, compiled, table, spins)
        sampleset.info.update(
            penalties=used,
            repeats=repeats,
            feasible_as_sampled=sampled_feasible,
            repaired=repaired,
            stop_reason=stop_reason,
            time_limit=watch.time_limit,
            timing=watch.timing(),
            child_info=child_info,
        )
        return labelled(sampleset, label)

    def _check_size(self, bqm: dimod.BinaryQuadraticModel) -> None:
        """A registered child's size limit (tabu's dense matrix), checked before it is called."""
        spec = spec_of(self._child)
        if spec is not None:
            check_model_size(spec.name, bqm)


class CQMByPenalty:
    """``sample_cqm`` for a BQM sampler class, through :class:`PenaltyComposite` around the instance.

    Mixed into :class:`~gnnsolve.samplers.pignn.GNNSampler` and
    :class:`~gnnsolve.samplers.dyco.DyCOSampler`. For DyCOSampler each penalty attempt is one
    call of ``sample``, so it counts as a snapshot and the next attempt starts from its
    replicas: a warm start across penalties.

    For PI-GNN the flat penalty was measured against training the network on the CQM itself
    (relaxed objective plus per-constraint augmented-Lagrangian terms, no slack variables, the
    same repair) on six Pyomo models and dimod's knapsack: the flat penalty answered all 14
    feasibly idle and loaded, the structured training 12 and 11 of them, with worse objectives on
    three models and a better one on one (``docs/benchmarks/pyomo_models.md``).
    """

    def sample_cqm(self, cqm: dimod.ConstrainedQuadraticModel, time_limit: float | None = None, **kwargs: Any) -> dimod.SampleSet:
        """Sample a constrained model: its penalty BQM, a penalty rising while no sample is
        feasible, every sample repaired on the CQM's own variables (see :class:`PenaltyComposite`).

        Keywords are the composite's (``time_limit`` for the whole call, ``num_reads``,
        ``seed``, ``penalty``, ``repair``, ``label``) and the sampler's own ``sample`` keywords,
        passed to every attempt.

        Returns:
            Every sample over the CQM's variables with ``energy``, ``is_satisfied``,
            ``is_feasible`` and ``penalty``; ``sampleset.filter(lambda row: row.is_feasible).first``
            is the best feasible answer.

        Example:
            >>> import dimod
            >>> from gnnsolve import GNNSampler
            >>> x = [dimod.Binary(i) for i in range(4)]
            >>> cqm = dimod.ConstrainedQuadraticModel()
            >>> cqm.set_objective(-3 * x[0] - 2 * x[1] - 2 * x[2] - x[3])
            >>> _ = cqm.add_constraint(2 * x[0] + x[1] + x[2] + x[3] <= 2, label="weight")
            >>> sampleset = GNNSampler().sample_cqm(cqm, seed=0, time_limit=5)
            >>> float(sampleset.filter(lambda row: row.is_feasible).first.energy)
            -4.0
        """
        return PenaltyComposite(self).sample_cqm(cqm, time_limit, **kwargs)  # type: ignore[arg-type]


def _check_penalty(penalty: float | str) -> None:
    """``"auto"``, or a positive finite number."""
    if penalty == "auto":
        return
    if (
        isinstance(penalty, bool)
        or not isinstance(penalty, (int, float, np.integer, np.floating))
        or not (0 < penalty < math.inf)
    ):
        raise ValueError(f"penalty must be 'auto' or a positive finite number, got {penalty!r}")


def _check_supported(cqm: dimod.ConstrainedQuadraticModel) -> None:
    for v in cqm.variables:
        vartype = cqm.vartype(v)
        if vartype is dimod.REAL:
            raise UnsupportedModelError(
                f"variable {v!r} is REAL (continuous); samplers of BQMs take BINARY, SPIN and bounded INTEGER "
                "variables: solve the model with an exact sampler (HiGHSSampler, GurobiSampler; sampler='highs' or 'gurobi' in Pyomo), or make it an INTEGER"
            )
        if vartype is dimod.INTEGER and max(-cqm.lower_bound(v), cqm.upper_bound(v)) >= UNBOUNDED_INTEGER:
            raise UnsupportedModelError(
                f"variable {v!r} is an INTEGER without a finite bound (dimod's widest, ±{UNBOUNDED_INTEGER}); "
                "samplers of BQMs encode an integer in bits: give it finite bounds (dimod.Integer(name, lower_bound=0, upper_bound=10); in Pyomo, bounds=(0, 10)), "
                "or solve with an exact sampler (HiGHSSampler, GurobiSampler; sampler='highs' or 'gurobi' in Pyomo)"
            )
    for label, constraint in cqm.constraints.items():
        if constraint.lhs.is_soft():
            raise UnsupportedModelError(
                f"constraint {label!r} is soft (weighted); PenaltyComposite takes hard constraints: make it hard, "
                "or add its penalty to the objective"
            )
        if not constraint.lhs.is_linear():
            raise UnsupportedModelError(
                f"constraint {label!r} is quadratic; PenaltyComposite takes linear constraints: restate it linearly "
                "(a product of binaries x*y can become a new binary z with z <= x, z <= y, z >= x + y - 1)"
            )


def _repair(compiled: CompiledCQM, samples: np.ndarray, remaining: Any) -> np.ndarray:
    """Each sample repaired and descended, nearest to feasible first, each within an equal share
    of the ``remaining()`` seconds left to those not yet repaired."""
    fixed = samples.copy()
    order = np.lexsort((compiled.objective(samples), compiled.violation(samples)))
    for position, row in enumerate(order):
        left = remaining()
        if left <= 0:
            break
        fixed[row] = compiled.repair_array(samples[row], time_limit=left / (len(order) - position))
    return fixed


def _improve_incumbent(compiled: CompiledCQM, samples: np.ndarray, watch: Stopwatch) -> None:
    """The best feasible row of ``samples`` improved by kicks in place, with the time left."""
    feasible = compiled.feasible(samples) if len(samples) else np.zeros(0, dtype=bool)
    if not feasible.any():
        return
    best = int(np.argmin(np.where(feasible, compiled.objective(samples), np.inf)))
    samples[best] = compiled.improve_array(samples[best], time_limit=watch.remaining())


def _sampleset(cqm: dimod.ConstrainedQuadraticModel, compiled: CompiledCQM, table: np.ndarray, spins: list) -> dimod.SampleSet:
    """The samples (the last column their penalty) as a SampleSet over the CQM's variables, the
    ``spins`` (solved as 0/1) back to ±1."""
    values = np.rint(table[:, :-1]).astype(np.int64)
    if spins:
        columns = [compiled.variables.index(v) for v in spins]
        values[:, columns] = 2 * values[:, columns] - 1
    return cqm_sampleset((values, compiled.variables), cqm, penalty=table[:, -1])
