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

The runs go one after another in this process, or, given a ``client`` (a Dask client, or any
:class:`concurrent.futures.Executor`), each sampler's whole run is one task on a worker
(:func:`gnnsolve.distributed.solve_many`) and its time is measured there: the same table.

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
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol, Sequence

import dimod
import numpy as np

from gnnsolve.errors import InvalidModelError, MissingDependencyError, ModelTooLargeError, UnsupportedModelError
from gnnsolve.qubo import check_finite
from gnnsolve.registry import check_model_size, get_sampler, sample_kwargs, sampler_names, sampler_spec
from gnnsolve.samplers._common import check_seed, check_time_limit

__all__ = [
    "DEFAULT_SAMPLERS",
    "PROBLEM_SAMPLERS",
    "SamplerRun",
    "ComparisonResult",
    "compare",
    "default_samplers",
    "relative_gap",
]

DEFAULT_SAMPLERS = ("gnn", "sa", "tabu", "steepest", "highs", "gurobi")
"""The samplers compared on a BQM, and on MaxCut and MIS, when none are named: unusable ones are
skipped with a note."""

PROBLEM_SAMPLERS: dict[str, tuple[str, ...]] = {
    "TSP": (*DEFAULT_SAMPLERS, "lkh"),
    "Modularity": ("clusternet", "louvain", "leiden"),
    "KCenter": ("clusternet", "gonzalez", "highs", "gurobi"),
    "Multicut": ("multicut", "elf", "highs", "gurobi"),
}
"""The samplers compared on a problem of each class when none are named: the learned sampler for
it and the classical tools a user would pick instead (LKH for TSP, Louvain and Leiden for
modularity, farthest-first for k-center, elf's GAEC and Kernighan–Lin for multicut), with the
exact samplers where the problem's CQM suits them; :data:`DEFAULT_SAMPLERS` for the others."""


class Decoded(Protocol):
    """A decoded solution: its exact objective and whether it is feasible."""

    @property
    def objective(self) -> float: ...

    @property
    def feasible(self) -> bool: ...


class Problem(Protocol):
    """What :func:`compare` needs of a problem: the model a sampler takes, decoding a SampleSet of
    it within a time limit (a :class:`~gnnsolve.adapters.problem.GraphProblem`)."""

    @property
    def objective_name(self) -> str: ...

    @property
    def sense(self) -> str: ...

    @property
    def prefers_cqm(self) -> bool: ...

    def model_for(self, sampler: dimod.Sampler) -> tuple[Any, Callable[..., dimod.SampleSet]]:
        """What ``sampler`` is given and the method to call."""

    def samples_natively(self, sampler: dimod.Sampler) -> bool:
        """Whether ``sampler`` takes the problem itself."""

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
    num_variables: int | None
    num_interactions: int | None
    settings: dict[str, Any]
    best_energy: float | None
    bound: float | None = None
    objective_name: str | None = None
    optimum: float | None = None
    ratio_to: str | None = None
    """What ``ratio`` divides by: ``"optimum"``, ``"best row"`` (the best feasible objective found)
    or ``None`` (no ratio)."""
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
            "ratio_to": self.ratio_to,
            "runs": [run.to_dict() for run in self.runs],
            "notes": list(self.notes),
        }

    def table(self) -> str:
        """A plain-text table, one row per sampler, followed by the notes."""
        header = ["sampler", "best energy", "mean energy", "time (s)", "gap to best", "gap to bound"]
        if self.objective_name:
            header.extend([self.objective_name, "feasible"])
        if self.ratio_to is not None:
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
            if self.ratio_to is not None:
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
        lines.append(
            f"time limit per sampler: {budget} (time: each sampler's whole run{', decoding included' if self.objective_name else ''})"
        )
        lines.append(f"best energy found: {_number(self.best_energy)}")
        if self.objective_name:
            lines.append(
                f"energies: the sampler's model at its samples as drawn; {self.objective_name}: the best "
                "decoded answer, after repair, so the two can differ"
            )
        if self.bound is not None:
            statuses = ", ".join(f"{run.name} {run.status}" for run in self.runs if run.bound is not None)
            lines.append(f"exact lower bound: {_number(self.bound)} ({statuses})")
        if self.ratio_to == "optimum":
            lines.append(f"reference optimum: {_number(self.optimum)} (ratio = value / optimum)")
        elif self.ratio_to == "best row":
            lines.append(f"ratio = value / the best feasible {self.objective_name} found (no proven optimum given)")
        lines.extend(f"note: {note}" for note in self.notes)
        return "\n".join(lines)


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.10g}"


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.2%}"


def compare(
    bqm: dimod.BinaryQuadraticModel | None,
    samplers: Sequence[str] | None = None,
    *,
    time_limit: float | None = None,
    num_reads: int = 1,
    seed: int | None = None,
    problem: Problem | None = None,
    optimum: float | None = None,
    progress: Callable[[str], None] | bool | None = None,
    client: Any = None,
) -> ComparisonResult:
    """Run each sampler on ``bqm`` (or on ``problem``) and gather the results: in this process,
    or each sampler's run as a task on ``client``'s workers.

    Args:
        bqm: the model; ``None`` with a ``problem`` whose samplers take the problem itself or its
            CQM (modularity, k-center, multicut), so that a BQM is built only where a sampler
            needs it.
        samplers: names from :func:`gnnsolve.registry.sampler_names`; ``None`` for
            :func:`default_samplers` of the problem, skipping (with a note) those not installed
            or unable to take the model.
        time_limit: seconds per sampler for its whole run, decoding included (the registry's
            notes say how ``sa``, ``tabu`` and ``steepest`` take it); ``None`` leaves each
            sampler its own default budget, ``math.inf`` asks for no limit.
        num_reads: reads per sampler (exact samplers return their single best sample).
        seed: the seed given to every sampler, ``None`` or 0 to
            :data:`~gnnsolve.samplers._common.MAX_SEED` (the largest every backend takes).
        problem: the problem ``bqm`` states (its ``bqm`` attribute, usually); each sampler gets
            what :meth:`~gnnsolve.adapters.problem.GraphProblem.model_for` says (the problem
            itself for a graph-native sampler, its CQM where it prefers one, else ``bqm``), and
            each run's SampleSet is decoded with it into an objective and a feasibility flag.
        optimum: a known optimum, in the problem's objective if ``problem`` is given and in
            energy otherwise; each run's ``ratio`` is its value divided by it (none if it is 0).
            Without it, given a problem, the ratio is to the best feasible row's objective.
        progress: called with one line when each sampler starts, finishes or is skipped (on a
            client: when the runs are submitted and as each finishes); or ``True`` for tqdm bars on
            ``stderr``: one over the samplers, those lines written above it, and beneath it the
            epochs (simulations) of each learned sampler that runs in this process (a sampler
            whose ``parameters`` name ``progress``).
        client: ``None`` (default) runs the samplers one after another in this process; a
            ``dask.distributed.Client`` or a :class:`concurrent.futures.Executor` runs each
            sampler's whole run (its call and the decoding) as one task on a worker, through
            :func:`gnnsolve.distributed.solve_many`: the model and the problem are shipped once
            (scattered to a Dask cluster's workers), each run's time is measured on its worker
            around the sampler's call and decoding (not the scheduling), and its SampleSet's
            ``info["task"]`` says where it ran. The checks above still run here, before
            anything is submitted; a run that raises on a worker is raised here with the
            worker's traceback attached as a note.

    Raises:
        UnknownSamplerError: a name is not in the registry (before anything runs).
        MissingDependencyError: a named sampler needs a package that is not installed.
        ModelTooLargeError: the model is too large for a named sampler.
        UnsupportedModelError: a named sampler cannot take the model (a graph-native sampler
            given another problem, a BQM sampler given a problem without a BQM).
        InvalidModelError: a bias is NaN or infinite, or the model has no variables.
        ValueError: ``seed`` or ``time_limit`` is out of range, or neither ``bqm`` nor
            ``problem`` is given.
    """
    time_limit = check_time_limit(time_limit)
    seed = check_seed(seed)
    if bqm is None and problem is None:
        raise ValueError("give a model (bqm) or a problem to compare samplers on")
    if bqm is not None:
        check_finite(bqm)
        if bqm.num_variables == 0:
            raise InvalidModelError("the model has no variables; there is nothing to compare")
    explicit = samplers is not None
    asked = samplers if samplers is not None else default_samplers(problem)
    names = list(dict.fromkeys(sampler_spec(name).name for name in asked))
    if not names:
        raise ValueError("no samplers to compare; name at least one")
    with _Progress(progress, len(names)) as report:
        return _compare(bqm, names, explicit, time_limit, num_reads, seed, problem, optimum, report, client)


def _compare(
    bqm: dimod.BinaryQuadraticModel | None,
    names: list[str],
    explicit: bool,
    time_limit: float | None,
    num_reads: int,
    seed: int | None,
    problem: Problem | None,
    optimum: float | None,
    report: _Progress,
    client: Any,
) -> ComparisonResult:
    """:func:`compare` once its arguments are checked."""
    notes: list[str] = []

    def skip_or_raise(name: str, err: Exception, prefix: str = "") -> None:
        if explicit:
            raise err
        notes.append(f"{name} skipped: {err}")
        report(f"{prefix}{name}: skipped ({err})", finished=True)

    prepared = []
    for name in names:
        try:
            sampler = get_sampler(name)
            model, sample = _model_for(name, sampler, bqm, problem)
            if isinstance(model, dimod.BinaryQuadraticModel):
                check_model_size(name, model)
            prepared.append((name, sampler, model, sample))
        except (MissingDependencyError, ModelTooLargeError, UnsupportedModelError) as err:
            skip_or_raise(name, err)

    settings: dict[str, Any] = {"time_limit": time_limit, "num_reads": num_reads, "seed": seed}
    if client is not None:
        runs = _runs_on_workers(client, prepared, _Instance(bqm, problem, settings), explicit, skip_or_raise, report)
    else:
        runs = []
        for position, (name, sampler, model, sample) in enumerate(prepared, start=1):
            prefix = f"[{position}/{len(prepared)}] "
            report(f"{prefix}{name}: running", running=name)
            bar = report.bars and "progress" in getattr(sampler, "parameters", {})
            try:
                sampleset, seconds, decoded = _timed_run(name, model, sample, problem, **settings, progress=bar)
            except (MissingDependencyError, ModelTooLargeError) as err:  # limits only known when running
                skip_or_raise(name, err, prefix)
                continue
            run = _summarise(name, sampleset, seconds, decoded)
            runs.append(run)
            report(f"{prefix}{name}: done in {run.seconds:.2f} s, best energy {_number(run.best_energy)}", finished=True)

    if not explicit:
        others = [name for name in sampler_names() if name not in names]
        notes.append(
            f"not in the default list for this model: {', '.join(others)}; name any with samplers "
            "(--samplers); the graph-native ones take their own problems (--problem)"
        )
    best_energy = min((run.best_energy for run in runs), default=None)
    bound = max((run.bound for run in runs if run.bound is not None), default=None)
    reference = optimum if optimum is not None else _best_objective(runs, problem)
    for run in runs:
        run.gap_to_best = None if best_energy is None else relative_gap(run.best_energy, best_energy)
        run.gap_to_bound = None if bound is None else relative_gap(run.best_energy, bound)
        value = run.objective if problem is not None else run.best_energy
        if reference and value is not None:
            run.ratio = value / reference
    return ComparisonResult(
        runs=runs,
        num_variables=None if bqm is None else bqm.num_variables,
        num_interactions=None if bqm is None else bqm.num_interactions,
        settings=settings,
        best_energy=best_energy,
        bound=bound,
        objective_name=problem.objective_name if problem is not None else None,
        optimum=optimum,
        ratio_to=None if not reference else "optimum" if optimum is not None else "best row",
        notes=notes,
    )


def _timed_run(
    name: str,
    model: Any,
    sample: Callable[..., dimod.SampleSet],
    problem: Problem | None,
    *,
    time_limit: float | None,
    num_reads: int,
    seed: int | None,
    progress: bool = False,
) -> tuple[dimod.SampleSet, float, Decoded | None]:
    """One sampler's whole run: its call with the common settings translated for it, and decoding
    the answer given a problem, within ``time_limit``; its SampleSet, seconds and decoded solution.
    ``progress`` asks the sampler for its own bar."""
    start = time.perf_counter()
    sampling = time_limit if problem is None else problem.sampling_time_limit(time_limit)
    as_bqm = model if isinstance(model, dimod.BinaryQuadraticModel) else None
    keywords = sample_kwargs(name, time_limit=sampling, num_reads=num_reads, seed=seed, bqm=as_bqm)
    if progress:
        keywords["progress"] = True
    sampleset = sample(model, **keywords)
    decoding = None if time_limit is None else max(time_limit - (time.perf_counter() - start), 0.0)
    decoded = None if problem is None else problem.best_solution(sampleset, decoding)
    return sampleset, time.perf_counter() - start, decoded


@dataclass(frozen=True)
class _Objective:
    """A decoded solution reduced to what the table shows, to travel back from a worker."""

    objective: float
    feasible: bool


@dataclass(frozen=True)
class _Instance:
    """What every run on a worker shares, shipped once: the model, the problem and the settings."""

    bqm: dimod.BinaryQuadraticModel | None
    problem: Problem | None
    settings: dict[str, Any]


@dataclass(frozen=True)
class _Cell:
    """One sampler's run as a task: :func:`~gnnsolve.distributed.solve_many` calls
    ``cell.solve(instance)`` on a worker, the :class:`_Instance` standing where a sampler would."""

    name: str
    sampler: dimod.Sampler

    def solve(self, instance: _Instance) -> tuple[tuple[float, _Objective | None], dimod.SampleSet]:
        model, sample = _model_for(self.name, self.sampler, instance.bqm, instance.problem)
        sampleset, seconds, decoded = _timed_run(self.name, model, sample, instance.problem, **instance.settings)
        objective = None if decoded is None else _Objective(float(decoded.objective), bool(decoded.feasible))
        return (seconds, objective), sampleset


def _runs_on_workers(
    client: Any,
    prepared: Sequence[tuple[str, dimod.Sampler, Any, Callable]],
    instance: _Instance,
    explicit: bool,
    skip_or_raise: Callable[..., None],
    report: _Progress,
) -> list[SamplerRun]:
    """The prepared runs as tasks on ``client``, summarised in the order asked for. A run that
    raised is raised here (the first to arrive, the others cancelled), except a size limit or a
    missing package found while running, which skips a sampler of the default list."""
    from gnnsolve.distributed import TaskFailure, _raise, solve_many

    cells = [_Cell(name, sampler) for name, sampler, _, _ in prepared]
    skippable = (MissingDependencyError, ModelTooLargeError)
    finished = 0

    def arrived(index: int, result: Any) -> None:
        nonlocal finished
        finished += 1
        name = cells[index].name
        if isinstance(result, TaskFailure):
            if explicit or not isinstance(result.exception, skippable):
                _raise(result)
            return
        (seconds, _), sampleset = result
        task = sampleset.info.get("task", {})
        report(
            f"[{finished}/{len(cells)}] {name}: done in {seconds:.2f} s on {task.get('worker')}, "
            f"best energy {_number(float(sampleset.first.energy))}",
            finished=True,
        )

    if not cells:
        return []
    report(f"running {len(cells)} samplers as tasks on {_describe(client)}")
    results = solve_many(cells, instance, client, on_result=arrived)
    runs = []
    for cell, result in zip(cells, results):
        if isinstance(result, TaskFailure):
            skip_or_raise(cell.name, result.exception)
            continue
        (seconds, decoded), sampleset = result
        runs.append(_summarise(cell.name, sampleset, seconds, decoded))
    return runs


class _Progress:
    """Where :func:`compare` reports: the caller's ``progress`` function, nothing, or (``True``) a
    tqdm bar over the samplers with the lines written above it; a context manager that closes the
    bar. Call it with a line; ``running`` names the sampler starting, ``finished`` counts one done
    or skipped."""

    def __init__(self, progress: Callable[[str], None] | bool | None, total: int) -> None:
        if progress is not None and not isinstance(progress, bool) and not callable(progress):
            raise TypeError(f"progress must be a function of one line, True, False or None, got {type(progress).__name__}")
        self.lines = progress if callable(progress) else None
        self.bar: Any = None
        if progress is True:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, unit="sampler", desc="compare", leave=False, dynamic_ncols=True, file=sys.stderr)

    @property
    def bars(self) -> bool:
        """Whether bars are drawn (so the samplers may draw theirs)."""
        return self.bar is not None

    def __call__(self, line: str, running: str | None = None, finished: bool = False) -> None:
        if self.lines is not None:
            self.lines(line)
        if self.bar is not None:
            self.bar.write(line, file=sys.stderr)
            if running is not None:
                self.bar.set_postfix_str(running)
            if finished:
                self.bar.update(1)

    def __enter__(self) -> _Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()


def _describe(client: Any) -> str:
    """Where tasks run, in words: a Dask client's scheduler and workers, or an executor's class."""
    scheduler = getattr(getattr(client, "scheduler", None), "address", None)
    if scheduler is not None:
        return f"{len(client.nthreads())} Dask workers ({scheduler})"
    return type(client).__name__


def default_samplers(problem: Problem | None) -> tuple[str, ...]:
    """The samplers compared when none are named: :data:`DEFAULT_SAMPLERS`, or the ones
    :data:`PROBLEM_SAMPLERS` lists for the problem's class."""
    return PROBLEM_SAMPLERS.get(type(problem).__name__, DEFAULT_SAMPLERS)


def _model_for(
    name: str, sampler: dimod.Sampler, bqm: dimod.BinaryQuadraticModel | None, problem: Problem | None
) -> tuple[Any, Callable[..., dimod.SampleSet]]:
    """What ``sampler`` is given, and its method: the problem's choice where there is a problem
    (its BQM replaced by ``bqm`` when given), else ``bqm``.

    Raises:
        UnsupportedModelError: a graph-native sampler for other problems, or a problem the
            sampler cannot take in any form.
    """
    natives = (getattr(sampler, "properties", None) or {}).get("problems", ())
    if natives and (problem is None or not problem.samples_natively(sampler)):
        taken = "a BQM" if problem is None else type(problem).__name__
        raise UnsupportedModelError(f"{name} takes {_names(natives)} problems, not {taken}")
    if problem is None or (bqm is not None and not natives and not (problem.prefers_cqm and hasattr(sampler, "sample_cqm"))):
        return bqm, sampler.sample
    return problem.model_for(sampler)


def _names(classes: Sequence[type]) -> str:
    return " and ".join(cls.__name__ for cls in classes)


def _best_objective(runs: Sequence[SamplerRun], problem: Problem | None) -> float | None:
    """The best feasible objective among the runs (``None`` without a problem or a feasible run)."""
    feasible = [run.objective for run in runs if problem is not None and run.feasible and run.objective is not None]
    if not feasible:
        return None
    return max(feasible) if getattr(problem, "sense", "min") == "max" else min(feasible)


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
