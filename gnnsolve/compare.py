"""Run several samplers on one model and tabulate energies, times and gaps.

Every sampler gets the same model and the same common settings (``time_limit``, ``num_reads``,
``seed``, translated for each by :func:`gnnsolve.registry.sample_kwargs`). ``time_limit`` is per
sampler and covers its whole run: the sampler's call and, given a problem, decoding its rows;
without it every sampler runs its own default budget. For each one the
result keeps its SampleSet, its best and mean energy, its wall-clock seconds, the relative gap of
its best energy to the best found by any sampler, :math:`(E - E_{best}) / |E_{best}|`, and, when
an exact sampler reported a lower bound :math:`L` (``info["bound"]``), the gap
:math:`(E - L) / |L|`. Given the problem the model states (a
:class:`~gnnsolve.adapters.problem.GraphProblem` such as ``MaxCut``, ``MaxIndependentSet`` or
``TSP``), every row is decoded and repaired, and each run also reports the best decoded
objective (a cut value, a set size, a tour length) and whether that solution is feasible.

Everything that can be checked is checked before any sampler runs: the model's biases, the
sampler names, optional packages and size limits. Samplers the caller named explicitly must be
usable, else the error is raised; from the default list the unusable ones are skipped with a
note.

Example:
    >>> import dimod
    >>> from gnnsolve.compare import compare
    >>> bqm = dimod.generators.ran_r(1, 12, seed=0)
    >>> result = compare(bqm, ["sa", "steepest"], num_reads=4, seed=0)
    >>> [run.name for run in result.runs]
    ['sa', 'steepest']
    >>> result.runs[0].best_energy <= result.runs[0].mean_energy
    True
    >>> print(result.table().splitlines()[0])
    sampler   best energy  mean energy  time (s)  gap to best  gap to bound
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol, Sequence

import dimod
import numpy as np

from gnnsolve.errors import InvalidModelError, MissingDependencyError, ModelTooLargeError
from gnnsolve.qubo import check_finite
from gnnsolve.registry import check_model_size, get_sampler, sample_kwargs, sampler_spec
from gnnsolve.samplers._common import check_seed, check_time_limit

__all__ = ["DEFAULT_SAMPLERS", "SamplerRun", "ComparisonResult", "compare", "relative_gap"]

DEFAULT_SAMPLERS = ("gnn", "sa", "tabu", "steepest", "highs", "gurobi")
"""The samplers compared when none are named: unusable ones are skipped with a note."""


class Decoded(Protocol):
    """A decoded solution: its exact objective and whether it is feasible."""

    objective: float
    feasible: bool


class Problem(Protocol):
    """What :func:`compare` needs of a problem: decoding a SampleSet of its model within a time limit."""

    objective_name: str

    def best_solution(self, sampleset: dimod.SampleSet, time_limit: float | None = None) -> Decoded:
        """The best feasible decoded row of ``sampleset``, decoding rows until ``time_limit`` is spent."""

    def sampling_time_limit(self, time_limit: float | None, elapsed: float = 0.0) -> float | None:
        """The sampler's part of ``time_limit`` once ``elapsed`` seconds are spent; the rest is for decoding."""


def relative_gap(value: float, reference: float) -> float | None:
    """``(value - reference) / |reference|``; ``None`` when ``reference`` is 0 and ``value`` is not."""
    if reference == 0:
        return 0.0 if value == 0 else None
    return (value - reference) / abs(reference)


@dataclass
class SamplerRun:
    """What one sampler did on the model."""

    name: str
    sampleset: dimod.SampleSet
    seconds: float
    best_energy: float
    mean_energy: float
    bound: float | None = None
    status: str | None = None
    objective: float | None = None
    feasible: bool | None = None
    gap_to_best: float | None = None
    gap_to_bound: float | None = None
    ratio: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """The run without its SampleSet, JSON-able."""
        return {
            "sampler": self.name,
            "best_energy": self.best_energy,
            "mean_energy": self.mean_energy,
            "seconds": self.seconds,
            "gap_to_best": self.gap_to_best,
            "gap_to_bound": self.gap_to_bound,
            "objective": self.objective,
            "feasible": self.feasible,
            "ratio": self.ratio,
            "bound": self.bound,
            "status": self.status,
            "num_rows": len(self.sampleset),
        }


@dataclass
class ComparisonResult:
    """The runs of one comparison, in the order asked for, and what was skipped."""

    runs: list[SamplerRun]
    num_variables: int
    num_interactions: int
    settings: dict[str, Any]
    best_energy: float | None
    bound: float | None = None
    objective_name: str | None = None
    optimum: float | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Everything but the SampleSets, JSON-able (no NaN or infinity: no time limit is ``"inf"``)."""
        return {
            "num_variables": self.num_variables,
            "num_interactions": self.num_interactions,
            "settings": {key: ("inf" if value == math.inf else value) for key, value in self.settings.items()},
            "best_energy": self.best_energy,
            "bound": self.bound,
            "objective_name": self.objective_name,
            "optimum": self.optimum,
            "runs": [run.to_dict() for run in self.runs],
            "notes": list(self.notes),
        }

    def table(self) -> str:
        """A plain-text table, one row per sampler, followed by the notes."""
        header = ["sampler", "best energy", "mean energy", "time (s)", "gap to best", "gap to bound"]
        if self.objective_name:
            header.extend([self.objective_name, "feasible"])
        if self.optimum is not None:
            header.append("ratio")
        rows = []
        for run in self.runs:
            row = [
                run.name,
                _number(run.best_energy),
                _number(run.mean_energy),
                f"{run.seconds:.2f}",
                _percent(run.gap_to_best),
                _percent(run.gap_to_bound),
            ]
            if self.objective_name:
                row.extend([_number(run.objective), "-" if run.feasible is None else ("yes" if run.feasible else "NO")])
            if self.optimum is not None:
                row.append("-" if run.ratio is None else f"{run.ratio:.4f}")
            rows.append(row)
        widths = [max(len(line[k]) for line in [header, *rows]) for k in range(len(header))]
        lines = [
            "  ".join(cell.ljust(w) if k == 0 else cell.rjust(w) for k, (cell, w) in enumerate(zip(line, widths)))
            for line in [header, *rows]
        ]
        limit = self.settings.get("time_limit")
        budget = "each sampler's default" if limit is None else "none" if limit == math.inf else f"{limit:g} s"
        lines.append("")
        lines.append(f"time limit per sampler: {budget} (time: each sampler's whole run{', decoding included' if self.objective_name else ''})")
        lines.append(f"best energy found: {_number(self.best_energy)}")
        if self.bound is not None:
            statuses = ", ".join(f"{run.name} {run.status}" for run in self.runs if run.bound is not None)
            lines.append(f"exact lower bound: {_number(self.bound)} ({statuses})")
        if self.optimum is not None:
            lines.append(f"reference optimum: {_number(self.optimum)} (ratio = value / optimum)")
        lines.extend(f"note: {note}" for note in self.notes)
        return "\n".join(lines)


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.10g}"


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.2%}"


def compare(
    bqm: dimod.BinaryQuadraticModel,
    samplers: Sequence[str] | None = None,
    *,
    time_limit: float | None = None,
    num_reads: int = 1,
    seed: int | None = None,
    problem: Problem | None = None,
    optimum: float | None = None,
    progress: Callable[[str], None] | None = None,
) -> ComparisonResult:
    """Run each sampler on ``bqm`` in this process and gather the results.

    Args:
        bqm: the model.
        samplers: names from :func:`gnnsolve.registry.sampler_names`; ``None`` for
            :data:`DEFAULT_SAMPLERS`, skipping (with a note) those not installed or unable to
            take the model.
        time_limit: seconds per sampler for its whole run, decoding included (the registry's
            notes say how ``sa``, ``tabu`` and ``steepest`` take it); ``None`` leaves each
            sampler its own default budget, ``math.inf`` asks for no limit.
        num_reads: reads per sampler (exact samplers return their single best sample).
        seed: the seed given to every sampler, ``None`` or 0 to
            :data:`~gnnsolve.samplers._common.MAX_SEED` (the largest every backend takes).
        problem: the problem ``bqm`` states (its ``bqm`` attribute, usually); each run's
            SampleSet is decoded with it into an objective and a feasibility flag.
        optimum: a known optimum, in the problem's objective if ``problem`` is given and in
            energy otherwise; each run's ``ratio`` is its value divided by it (none if it is 0).
        progress: called with one line when each sampler starts, finishes or is skipped.

    Raises:
        UnknownSamplerError: a name is not in the registry (before anything runs).
        MissingDependencyError: a named sampler needs a package that is not installed.
        ModelTooLargeError: the model is too large for a named sampler.
        InvalidModelError: a bias is NaN or infinite, or the model has no variables.
        ValueError: ``seed`` or ``time_limit`` is out of range.
    """
    check_finite(bqm)
    time_limit = check_time_limit(time_limit)
    seed = check_seed(seed)
    if bqm.num_variables == 0:
        raise InvalidModelError("the model has no variables; there is nothing to compare")
    explicit = samplers is not None
    names = list(dict.fromkeys(sampler_spec(name).name for name in (samplers if explicit else DEFAULT_SAMPLERS)))
    if not names:
        raise ValueError("no samplers to compare; name at least one")
    report = progress or (lambda line: None)
    notes: list[str] = []

    def skip_or_raise(name: str, err: Exception, prefix: str = "") -> None:
        if explicit:
            raise err
        notes.append(f"{name} skipped: {err}")
        report(f"{prefix}{name}: skipped ({err})")

    prepared = []
    for name in names:
        try:
            check_model_size(name, bqm)
            prepared.append((name, get_sampler(name)))
        except (MissingDependencyError, ModelTooLargeError) as err:
            skip_or_raise(name, err)

    runs = []
    for position, (name, sampler) in enumerate(prepared, start=1):
        prefix = f"[{position}/{len(prepared)}] "
        report(f"{prefix}{name}: running")
        start = time.perf_counter()
        sampling = time_limit if problem is None else problem.sampling_time_limit(time_limit)
        keywords = sample_kwargs(name, time_limit=sampling, num_reads=num_reads, seed=seed, bqm=bqm)
        try:
            sampleset = sampler.sample(bqm, **keywords)
        except (MissingDependencyError, ModelTooLargeError) as err:  # limits only known when running
            skip_or_raise(name, err, prefix)
            continue
        decoding = None if time_limit is None else max(time_limit - (time.perf_counter() - start), 0.0)
        decoded = None if problem is None else problem.best_solution(sampleset, decoding)
        run = _summarise(name, sampleset, time.perf_counter() - start, decoded)
        runs.append(run)
        report(f"{prefix}{name}: done in {run.seconds:.2f} s, best energy {_number(run.best_energy)}")

    best_energy = min((run.best_energy for run in runs), default=None)
    bound = max((run.bound for run in runs if run.bound is not None), default=None)
    for run in runs:
        run.gap_to_best = relative_gap(run.best_energy, best_energy)
        run.gap_to_bound = None if bound is None else relative_gap(run.best_energy, bound)
        if optimum:
            run.ratio = (run.objective if problem is not None else run.best_energy) / optimum
    return ComparisonResult(
        runs=runs,
        num_variables=bqm.num_variables,
        num_interactions=bqm.num_interactions,
        settings={"time_limit": time_limit, "num_reads": num_reads, "seed": seed},
        best_energy=best_energy,
        bound=bound,
        objective_name=problem.objective_name if problem is not None else None,
        optimum=optimum,
        notes=notes,
    )


def _summarise(name: str, sampleset: dimod.SampleSet, seconds: float, decoded: Decoded | None) -> SamplerRun:
    record = sampleset.record
    bound = sampleset.info.get("bound") if sampler_spec(name).exact else None
    status = sampleset.info.get("status")
    return SamplerRun(
        name=name,
        sampleset=sampleset,
        seconds=seconds,
        best_energy=float(sampleset.first.energy),
        mean_energy=float(np.average(record.energy, weights=record.num_occurrences)),
        bound=float(bound) if bound is not None and math.isfinite(bound) else None,
        status=None if status is None else str(status),
        objective=None if decoded is None else float(decoded.objective),
        feasible=None if decoded is None else bool(decoded.feasible),
    )
