"""Reads and models across workers: a Dask cluster, or any :mod:`concurrent.futures` executor.

Two doors, both built on Dask's distributed scheduler (a laptop's ``LocalCluster``, SLURM
through dask-jobqueue, Kubernetes) and both open to any :class:`concurrent.futures.Executor`:

- :class:`DaskComposite` splits one call's ``num_reads`` into chunks, samples each chunk on a
  worker with its own seed, derived from the caller's through :class:`numpy.random.SeedSequence`,
  and merges the chunks into one :class:`dimod.SampleSet` whose energies are recomputed on the
  caller's model. The same seed and the same chunks give the same SampleSet, wherever they ran.
- :func:`solve_many` solves many models (BQMs, CQMs, and graph problems such as
  :class:`~gnnsolve.adapters.graphs.MaxCut`, :class:`~gnnsolve.adapters.tsp.TSP` or
  :class:`~gnnsolve.adapters.multicut.Multicut`) with one sampler and returns the answers in
  input order; a model that failed is reported in its place as a :class:`TaskFailure`, never
  dropped. Models that take little time go several to a task (``batch_size``, see below).

``client`` is a ``dask.distributed.Client`` (anything with ``scatter`` and ``submit``), a
:class:`concurrent.futures.Executor` (``ProcessPoolExecutor``, ``ThreadPoolExecutor``, another
engine's executor), or ``None`` to run the tasks one after another in this process: the same
tasks, serialised and loaded the same way, so a serial answer is comparable with a cluster's.

What travels. Everything a task carries (the sampler, each model, the keywords) is pickled once,
at the caller, before anything is submitted, so an object that does not pickle (a lambda, a local
class, an open file) is a :class:`TypeError` that names it, not a failure on a worker. dimod's
quadratic and constrained models, which do not pickle, travel in dimod's file format and as their
variables, terms and constraints in order; a module held by an object (GurobiSampler holds
gurobipy) travels by name. With a Dask client each pickled model is shipped once: inside the one
task that reads it (each of :func:`solve_many`'s models), with no scatter to wait for, or
scattered once (``client.scatter``) where several tasks read it (:class:`DaskComposite`'s chunks)
or a task's own models weigh more than :data:`INLINE_BYTES`; a blob that several tasks read and
that is smaller than :data:`SMALL_BYTES` (a sampler, the keywords) goes with each task. An executor
has no such store, so each task carries its own copy. A sampler is copied to the workers: a stateful one
(:class:`~gnnsolve.samplers.dyco.DyCOSampler`, a warm-start composite) advances its copies there,
and the caller's object is left as it was.

Failures. An exception raised by the sampler or the problem is caught on the worker and reported
with its formatted traceback (with a fixed seed it would only repeat, so it is not run again). A
task lost with its worker is first moved by Dask's scheduler itself (up to its
``distributed.scheduler.allowed-failures`` worker deaths, 3 by default); when the scheduler gives
up (:class:`distributed.KilledWorker`) the task is submitted again, up to ``retries`` times, from
the copy the caller still holds. An executor has no retries: a task lost with its process (a
``BrokenProcessPool``) is reported as a :class:`TaskFailure`.

Tasks of a worthwhile length. A task costs the caller's process and the scheduler a few
milliseconds whatever it does (submitting, the scheduler's transitions, fetching the result),
and on a machine whose cores are all workers that time is taken from the workers; and when every
task is submitted at once, the scheduler shares them out by count before any has run, so
workers given the costlier models finish last. :func:`solve_many`'s ``batch_size="auto"``
therefore keeps two tasks a worker thread in flight (one running, the next waiting, so no worker
waits for the caller), hands out the largest models first (size: variables and interactions) but
the smallest second, measures how long the models take on the workers (fitting a fixed part per
model and a part per unit of size, so that the small models handed out last are sized by times
measured on small models; a model larger or smaller than any measured goes alone), and puts into
each new task as many models as fill ``1 / (2 × threads)`` of the work still to hand out (the tasks shrink as the work runs out, so the workers
finish together; loop scheduling calls this guided self-scheduling), at most
:data:`BATCH_SECONDS` and at least :data:`SHORTEST_BATCH_SECONDS`. Models that take longer than that alone go one to a task. A
batch runs its models one after another, each exactly as its own task would (fresh copies of the
sampler and model, its own failure report), and reports each model's answer.

Example:
    >>> from concurrent.futures import ThreadPoolExecutor
    >>> import dimod
    >>> from dwave.samplers import SteepestDescentSolver
    >>> from gnnsolve.distributed import DaskComposite, solve_many
    >>> bqm = dimod.generators.ran_r(1, 30, seed=3)
    >>> with ThreadPoolExecutor(max_workers=2) as pool:
    ...     spread = DaskComposite(SteepestDescentSolver(), pool).sample(bqm, num_reads=8, seed=0)
    ...     answers = solve_many([bqm, -bqm], SteepestDescentSolver(), pool, num_reads=4, seed=0)
    >>> [chunk["num_reads"] for chunk in spread.info["chunks"]]
    [4, 4]
    >>> serial = DaskComposite(SteepestDescentSolver(), None, chunk_size=4).sample(bqm, num_reads=8, seed=0)
    >>> bool((serial.record.sample == spread.record.sample).all())
    True
    >>> [len(answer) for answer in answers]
    [4, 4]
"""

from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import copyreg
import importlib
import io
import itertools
import math
import os
import pickle
import sys
import time
import traceback
import types
from collections.abc import Callable, Generator, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

import dimod
import numpy as np

from gnnsolve.registry import child_keywords
from gnnsolve.samplers._common import (
    MAX_SEED,
    Stopwatch,
    check_positive_int,
    check_seed,
    check_time_limit,
    cqm_sampleset,
)

if TYPE_CHECKING:
    from distributed import Client

__all__ = ["BATCH_SECONDS", "DEFAULT_RETRIES", "DaskComposite", "TaskFailure", "chunk_seeds", "solve_many"]

DEFAULT_RETRIES = 2
"""How many times a task lost with its worker is submitted again (Dask clients only)."""

BATCH_SECONDS = 0.5
"""The longest a task of :func:`solve_many`'s ``batch_size="auto"`` aims to run, by the models' times
measured on the workers. A task's own cost, a few milliseconds of CPU in the caller's process, the
scheduler and the worker (measured in ``docs/benchmarks/distributed.md``), is then about 1 % of
it; longer tasks would gain little and make the results (and the progress bar) come in larger
lumps, and a task lost with its worker costs its whole length again."""

SHORTEST_BATCH_SECONDS = 0.05
"""Where ``batch_size="auto"`` stops shortening its tasks as the work runs out. A task's own cost is
about 5–6 ms of CPU (the caller's process, the scheduler and the worker together, measured on a
``LocalCluster``): a tenth of a task this long; shorter tasks at the end would spend more on
themselves than the imbalance they avoid (at most one such task on one worker)."""

TASKS_IN_FLIGHT = 2
"""Tasks kept submitted per worker thread under ``batch_size="auto"``: one running, the next
already on its worker, so that no worker waits for the caller to hand out more."""

INLINE_BYTES = 4 * 2**20
"""The most bytes of its own blobs (pickled models that no other task reads) a task carries inside
itself rather than scattered first (Dask clients): sent with the task, they save the scatter's
round trip, and the task can start as soon as it is submitted. A task whose own blobs weigh more
has them scattered, which keeps its message well under Dask's
``distributed.admin.large-graph-warning-threshold`` (10 MB)."""

SMALL_BYTES = 16 * 2**10
"""A blob that several tasks read (a pickled sampler, the keywords, a model read by several chunks)
and is smaller than this travels inside each task rather than being scattered once (Dask clients):
scattering it to the workers costs a round trip of some 5–8 ms before the first task can be
submitted, sending it again with each task costs well under a millisecond."""

SLOTS_REFRESH_S = 1.0
"""How often (seconds, at most) ``batch_size="auto"`` asks a Dask scheduler for its worker
threads again, so that workers joining a running cluster get tasks too."""


@dataclass(frozen=True)
class TaskFailure:
    """A task that raised, or was lost with its worker, reported in place of its result.

    Attributes:
        index: the task's place: the model's index in :func:`solve_many`'s input.
        exception: what was raised (on the worker: a copy; an exception that does not pickle
            arrives as a :class:`RuntimeError` with its type and message).
        traceback: the formatted traceback, the worker's where it raised there.
        worker: the Dask worker's address, or ``"pid:N"`` for an executor's process; ``None``
            where the task never reported back.
        attempts: how many times the task was submitted.

    Example:
        >>> from gnnsolve.distributed import TaskFailure
        >>> str(TaskFailure(3, ValueError("no"), "Traceback ...", "pid:42"))
        'task 3 failed on pid:42: ValueError: no'
    """

    index: int
    exception: BaseException
    traceback: str
    worker: str | None = None
    attempts: int = 1

    def __str__(self) -> str:
        where = self.worker or "no worker"
        return f"task {self.index} failed on {where}: {type(self.exception).__name__}: {self.exception}"


def chunk_seeds(seed: int | None, num_chunks: int) -> list[int]:
    """One seed in ``[0, MAX_SEED]`` per chunk, from ``numpy.random.SeedSequence(seed).spawn``.

    Chunk ``i``'s seed depends on ``seed`` and ``i`` only, not on how many chunks there are;
    ``seed=None`` draws fresh entropy.

    Example:
        >>> from gnnsolve.distributed import chunk_seeds
        >>> chunk_seeds(0, 3)[:2] == chunk_seeds(0, 2)
        True
    """
    children = np.random.SeedSequence(check_seed(seed)).spawn(check_positive_int("num_chunks", num_chunks))
    return [int(child.generate_state(1, dtype=np.uint64)[0] % (MAX_SEED + 1)) for child in children]


# --- what travels -----------------------------------------------------------------------------


def _load_cqm(state: tuple) -> dimod.ConstrainedQuadraticModel:
    """The CQM that :func:`_reduce_cqm` took apart: variables, objective and constraints in order."""
    variables, (linear, quadratic, offset), constraints = state
    cqm = dimod.ConstrainedQuadraticModel()
    for v, vartype, lower, upper in variables:
        if vartype in ("INTEGER", "REAL"):
            cqm.add_variable(vartype, v, lower_bound=lower, upper_bound=upper)
        else:
            cqm.add_variable(vartype, v)
    cqm.set_objective(itertools.chain(linear, quadratic))
    cqm.objective.offset = offset
    for label, (linear, quadratic, offset), sense, rhs, weight, penalty, discrete in constraints:
        cqm.add_constraint_from_iterable(
            itertools.chain(linear, quadratic), sense, rhs, label=label, weight=weight, penalty=penalty
        )
        lhs = cqm.constraints[label].lhs
        lhs.offset = offset
        if discrete:
            lhs.mark_discrete(True)
    return cqm


def _load_qm(data: bytes) -> dimod.QuadraticModel:
    return dimod.QuadraticModel.from_file(data)


def _reduce_cqm(cqm: dimod.ConstrainedQuadraticModel) -> tuple[Callable, tuple[tuple]]:
    """A CQM as plain data. Not dimod's file format: ``from_file`` gathers the constraints in a set,
    so their order, which a sampler may follow, would change with the process's string hashing."""
    variables = [(v, cqm.vartype(v).name, cqm.lower_bound(v), cqm.upper_bound(v)) for v in cqm.variables]
    constraints = []
    for label, constraint in cqm.constraints.items():
        lhs = constraint.lhs
        soft = lhs.is_soft()
        constraints.append(
            (
                label,
                _terms(lhs),
                constraint.sense.value,
                constraint.rhs,
                lhs.weight() if soft else None,
                lhs.penalty() if soft else "linear",
                lhs.is_discrete(),
            )
        )
    return _load_cqm, ((variables, _terms(cqm.objective), constraints),)


def _terms(expression: Any) -> tuple[list, list, float]:
    return list(expression.iter_linear()), list(expression.iter_quadratic()), expression.offset


def _reduce_qm(qm: dimod.QuadraticModel) -> tuple[Callable, tuple[bytes]]:
    with qm.to_file() as file:
        return _load_qm, (file.read(),)


def _reduce_module(module: types.ModuleType) -> tuple[Callable, tuple[str]]:
    name = module.__name__
    if name == "__main__" or sys.modules.get(name) is not module:
        raise pickle.PicklingError(f"module {name!r} cannot be imported by name on a worker")
    return importlib.import_module, (name,)


_REDUCERS: dict[type, Callable] = {
    dimod.ConstrainedQuadraticModel: _reduce_cqm,
    dimod.QuadraticModel: _reduce_qm,
    types.ModuleType: _reduce_module,
}


def _dumps(obj: Any, what: str) -> bytes:
    """``obj`` pickled for a worker, or a TypeError that names ``what`` and the fix."""
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = {**copyreg.dispatch_table, **_REDUCERS}
    try:
        pickler.dump(obj)
    except Exception as exc:
        raise TypeError(
            f"{what} cannot be sent to a worker: it does not pickle ({type(exc).__name__}: {exc}). "
            "Everything a task carries must pickle: define functions and classes at module level "
            "(no lambdas or local definitions), or give the class __getstate__/__setstate__"
        ) from exc
    return buffer.getvalue()


def _dumps_keywords(keywords: dict[str, Any]) -> bytes:
    for key, value in keywords.items():
        _dumps(value, f"keyword {key}={type(value).__name__}")
    return _dumps(keywords, "the keywords")


# --- the tasks, as they run on a worker -------------------------------------------------------


@dataclass
class _Report:
    """What a task sends back: its value or its failure, where it ran and for how long."""

    value: Any = None
    error: BaseException | None = None
    traceback: str = ""
    worker: str | None = None
    pid: int | None = None
    load_ns: int = 0
    run_ns: int = 0
    attempts: int = 1
    batch: tuple[int, ...] = ()


def _worker_identity() -> tuple[str, int]:
    pid = os.getpid()
    if "distributed" in sys.modules:  # never import it just to ask
        try:
            return sys.modules["distributed"].get_worker().address, pid
        except (ValueError, AttributeError):
            pass
    return f"pid:{pid}", pid


def _portable(exc: BaseException) -> BaseException:
    """``exc`` if a copy of it survives pickling, else a RuntimeError with its type and message."""
    try:
        pickle.loads(_dumps(exc, "the exception"))
    except Exception:  # noqa: BLE001 - whatever stops the copy
        return RuntimeError(f"{type(exc).__module__}.{type(exc).__qualname__}: {exc}")
    return exc


def _run(call: Callable[[Any, Any, dict], Any], sampler_blob: bytes, model_blob: bytes, keywords_blob: bytes) -> bytes:
    """Load the sampler, model and keywords, run ``call`` on them and report, pickled."""
    worker, pid = _worker_identity()
    start = time.perf_counter_ns()
    report = _Report(worker=worker, pid=pid)
    try:
        sampler, model, keywords = (pickle.loads(blob) for blob in (sampler_blob, model_blob, keywords_blob))
        loaded = time.perf_counter_ns()
        report.load_ns = loaded - start
        report.value = call(sampler, model, keywords)
        report.run_ns = time.perf_counter_ns() - loaded
    except Exception as exc:  # noqa: BLE001 - the sampler's or the problem's failure, reported to the caller
        report.error, report.traceback = _portable(exc), traceback.format_exc()
    try:
        return _dumps(report, "the task's result")
    except TypeError as exc:
        report.value, report.error, report.traceback = None, exc, traceback.format_exc()
        return _dumps(report, "the task's failure")


def _solve(sampler: Any, model: Any, keywords: dict[str, Any]) -> Any:
    if isinstance(model, dimod.BinaryQuadraticModel):
        return sampler.sample(model, **keywords)
    if isinstance(model, dimod.ConstrainedQuadraticModel):
        return sampler.sample_cqm(model, **keywords)
    return model.solve(sampler, **keywords)


def _solve_task(sampler_blob: bytes, model_blob: bytes, keywords_blob: bytes) -> bytes:
    """One model of :func:`solve_many`, as the serial loop would solve it."""
    return _run(_solve, sampler_blob, model_blob, keywords_blob)


def _chunk_task(
    sampler_blob: bytes, model_blob: bytes, keywords_blob: bytes, num_reads: int, seed: int, time_limit: float | None
) -> bytes:
    """One chunk of :class:`DaskComposite`: ``num_reads`` reads from ``seed`` in ``time_limit``."""

    def call(sampler: Any, model: Any, keywords: dict[str, Any]) -> dimod.SampleSet:
        constrained = isinstance(model, dimod.ConstrainedQuadraticModel)
        method = sampler.sample_cqm if constrained else sampler.sample
        translated = child_keywords(
            sampler, time_limit=time_limit, num_reads=num_reads, seed=seed, bqm=None if constrained else model, method=method
        )
        return method(model, **{**translated, **keywords})

    return _run(call, sampler_blob, model_blob, keywords_blob)


# --- where the tasks run ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Call:
    """A call: its function, the blobs it reads (by index) and its further arguments."""

    function: Callable[..., bytes]
    blobs: tuple[int, ...]
    extra: tuple = ()


def _batch_task(layout: tuple[_Call, ...], *blobs: bytes) -> list[bytes]:
    """Several calls in one task, one after another, each reading its blobs (indices into
    ``blobs``, which carry each blob the batch needs once). Every call loads its own copies and
    reports on its own, as it would in a task of its own: one that raises leaves the others of the
    batch to run."""
    return [call.function(*(blobs[i] for i in call.blobs), *call.extra) for call in layout]


def _batch_layout(calls: Sequence[_Call], group: Sequence[int]) -> tuple[tuple[_Call, ...], list[int]]:
    """The calls of ``group`` as one task: their layout and the blobs (indices into the caller's
    blobs) the task carries, each once."""
    needed = list(dict.fromkeys(i for index in group for i in calls[index].blobs))
    where = {blob: k for k, blob in enumerate(needed)}
    layout = tuple(
        _Call(calls[index].function, tuple(where[i] for i in calls[index].blobs), calls[index].extra) for index in group
    )
    return layout, needed


class _CallCost:
    """Seconds a call takes as ``fixed + per_unit × weight``, fitted by least squares to the calls
    measured so far (both parts at least 0), from running sums: O(1) a measurement.

    A call costs a part whatever its size (loading, the sampler's set-up) besides a part that grows
    with it, so the seconds per unit of weight of large models underestimate small ones: 14 ms for
    a model of 2,001 units against 50 ms for 19,977 (dwave-samplers' annealing with its defaults,
    800 variables), nearly 3 times what the large one's rate says. Until two sizes are measured, the
    time is taken in proportion to the weight (``fixed = 0``); with one size only, that is its
    mean time. A straight line also misjudges times that grow faster or slower than the size, and
    most so outside the sizes it was fitted on: the plan prices only models within them
    (:meth:`covers`)."""

    def __init__(self) -> None:
        self.count = 0
        self._sum_w = self._sum_t = self._sum_ww = self._sum_wt = 0.0
        self.fixed = self.per_unit = 0.0
        self.smallest, self.largest = math.inf, -math.inf  # the weights measured

    def covers(self, weight: float) -> bool:
        """Whether ``weight`` lies between the smallest and largest weights measured: its time is
        interpolated, not extrapolated."""
        return self.smallest <= weight <= self.largest

    def add(self, weight: float, seconds: float) -> None:
        self.smallest, self.largest = min(self.smallest, weight), max(self.largest, weight)
        self.count += 1
        self._sum_w += weight
        self._sum_t += seconds
        self._sum_ww += weight * weight
        self._sum_wt += weight * seconds
        n = self.count
        spread = self._sum_ww - self._sum_w * self._sum_w / n
        if spread > 1e-9 * self._sum_ww:
            per_unit = (self._sum_wt - self._sum_w * self._sum_t / n) / spread
            fixed = (self._sum_t - per_unit * self._sum_w) / n
            if per_unit < 0:  # larger was not slower: a constant time
                self.fixed, self.per_unit = self._sum_t / n, 0.0
                return
            if fixed >= 0:
                self.fixed, self.per_unit = fixed, per_unit
                return
        self.fixed, self.per_unit = 0.0, self._sum_wt / self._sum_ww  # in proportion, through 0

    def seconds(self, weight: float, calls: int = 1) -> float:
        """The expected seconds of ``calls`` calls weighing ``weight`` in all."""
        return self.fixed * calls + self.per_unit * weight


class _Plan:
    """Which calls each task runs, handed out as the backend asks for more.

    ``batch_size`` an int: that many calls a task, in input order, all handed out at once (the
    scheduler sees the whole backlog). ``None`` (``"auto"``): the calls go out largest first
    (``weights``, each call's expected cost in any unit; ``None`` where unknown: all alike), but
    for the smallest, which goes second: with the largest, it spans the sizes whose times
    :class:`_CallCost` fits, so the times of the small models handed out last are interpolated
    rather than extrapolated from large ones. A call whose size lies outside the sizes measured
    goes alone (at first, every call: where time grows faster than size, the time per unit of a
    small model prices the largest several times too low); the others go as many a task as fill
    ``1 / (2 × slots)`` of the work still to hand out (see :meth:`next` and :meth:`measured`).
    The backend keeps :data:`TASKS_IN_FLIGHT` tasks a slot submitted (:meth:`window`).
    """

    def __init__(self, count: int, batch_size: int | None, weights: Sequence[float] | None = None) -> None:
        self.batch_size = batch_size
        self._weights = [1.0] * count if weights is None else [float(weight) for weight in weights]
        order = list(range(count))
        if self.adaptive:
            order.sort(key=lambda i: -self._weights[i])
            if count > 2 and self._weights[order[-1]] < self._weights[order[0]]:
                order.insert(1, order.pop())  # the smallest second
        self._queue = collections.deque(order)
        self._left = sum(self._weights)  # of the calls not yet handed out
        self._cost = _CallCost()

    @property
    def adaptive(self) -> bool:
        return self.batch_size is None

    def window(self, slots: int) -> float:
        """How many tasks to keep submitted on ``slots`` worker threads."""
        return TASKS_IN_FLIGHT * slots if self.adaptive else math.inf

    def next(self, slots: int) -> tuple[int, ...] | None:
        """The calls of the next task (``slots``: the worker threads now), or ``None`` when all are out.

        Under ``"auto"`` each task gets at most ``1 / (2 × slots)`` of the work still to hand out,
        at the times fitted so far (guided self-scheduling with a divisor of ``2 × slots``): the
        tasks shrink as the work runs out, down to :data:`SHORTEST_BATCH_SECONDS`, so the workers
        finish together. The share is taken afresh for each task, so a fit that one early
        measurement got wrong misplans a task or two, not a round."""
        queue = self._queue
        if not queue:
            return None
        if self.batch_size is not None:
            return tuple(queue.popleft() for _ in range(min(self.batch_size, len(queue))))
        group = [queue.popleft()]
        cost, weights = self._cost, self._weights
        if cost.covers(weights[group[0]]):  # the work left still counts group[0]
            budget = min(BATCH_SECONDS, max(SHORTEST_BATCH_SECONDS, cost.seconds(self._left, len(queue) + 1) / (2 * slots)))
            spent = cost.seconds(weights[group[0]])
            while queue and cost.covers(weights[queue[0]]) and spent + cost.seconds(weights[queue[0]]) / 2 <= budget:
                group.append(queue.popleft())  # the nearest fill of the budget
                spent += cost.seconds(weights[group[-1]])
        self._left -= sum(weights[i] for i in group)
        return tuple(group)

    def measured(self, index: int, report: _Report) -> None:
        """Call ``index`` reported: its time on the worker (loading and running) joins the fit of
        :class:`_CallCost`. A time that is off (a call slowed by another process) moves the fit
        by its share of all measured so far, not the next task's length alone."""
        if self.adaptive and report.error is None:
            self._cost.add(self._weights[index], (report.load_ns + report.run_ns) / 1e9)


def _decoded(data: bytes, attempts: int, batch: tuple[int, ...]) -> _Report:
    try:
        report = pickle.loads(data)
    except Exception as exc:  # noqa: BLE001 - a result this process cannot load is the task's failure
        return _Report(error=exc, traceback=traceback.format_exc(), attempts=attempts, batch=batch)
    report.attempts, report.batch = attempts, batch
    return report


def _lost(exc: BaseException, tb: Any, attempts: int, batch: tuple[int, ...]) -> _Report:
    text = "".join(traceback.format_exception(type(exc), exc, tb))
    return _Report(error=exc, traceback=text, attempts=attempts, batch=batch)


Reports = Generator[tuple[int, _Report], None, None]
"""What a backend's ``run`` yields: each call's index and report, as they arrive."""


class _Serial:
    """The calls run one after another in this process, as they would on a worker."""

    workers = slots = 1

    def run(self, blobs: Sequence[bytes], calls: Sequence[_Call], retries: int, plan: _Plan) -> Reports:
        """In input order, one call at a time: batching would save nothing here."""
        for index, call in enumerate(calls):
            yield index, _decoded(call.function(*(blobs[i] for i in call.blobs), *call.extra), 1, (index,))


class _OnExecutor:
    """A :class:`concurrent.futures.Executor`: each task carries its blobs; no retries."""

    def __init__(self, executor: concurrent.futures.Executor) -> None:
        self.executor = executor
        self.workers = self.slots = int(getattr(executor, "_max_workers", None) or os.cpu_count() or 1)

    def run(self, blobs: Sequence[bytes], calls: Sequence[_Call], retries: int, plan: _Plan) -> Reports:
        in_flight: dict[concurrent.futures.Future, tuple[int, ...]] = {}

        def top_up() -> None:
            while len(in_flight) < plan.window(self.slots) and (group := plan.next(self.slots)) is not None:
                layout, needed = _batch_layout(calls, group)
                in_flight[self.executor.submit(_batch_task, layout, *(blobs[i] for i in needed))] = group

        try:
            top_up()
            while in_flight:
                done, _ = concurrent.futures.wait(in_flight, return_when=concurrent.futures.FIRST_COMPLETED)
                arrived: list[tuple[int, _Report]] = []
                for future in done:
                    group = in_flight.pop(future)
                    try:
                        reports = [_decoded(data, 1, group) for data in future.result()]
                    except BaseException as exc:  # noqa: BLE001 - the process died (BrokenProcessPool), or the task was cancelled
                        reports = [_lost(exc, exc.__traceback__, 1, group) for _ in group]
                    arrived += zip(group, reports)
                for index, report in arrived:
                    plan.measured(index, report)
                top_up()  # the workers get their next tasks before the caller sees these
                yield from arrived
        finally:
            for future in in_flight:
                future.cancel()


class _OnDask:
    """A Dask client: each blob shipped once (inside its task, or scattered); a task lost with its
    worker submitted again."""

    def __init__(self, client: Client) -> None:
        from distributed import as_completed

        self.client, self.as_completed = client, as_completed
        self._asked = -math.inf
        self.workers = self.slots = 1
        self._threads()

    def _threads(self) -> int:
        """The worker threads, asked of the scheduler at most every :data:`SLOTS_REFRESH_S`."""
        now = time.monotonic()
        if now - self._asked >= SLOTS_REFRESH_S:
            nthreads = self.client.nthreads()
            self.workers = max(1, len(nthreads))
            self.slots = max(1, sum(nthreads.values()))
            self._asked = now
        return self.slots

    def run(self, blobs: Sequence[bytes], calls: Sequence[_Call], retries: int, plan: _Plan) -> Reports:
        """Each blob is shipped once. A blob that one call reads (each model of :func:`solve_many`)
        travels inside that call's task (up to :data:`INLINE_BYTES` a task): a scatter would cost
        a round trip to the workers before the task could be submitted. A blob that several calls
        read (the sampler, the keywords, the model of :class:`DaskComposite`'s chunks) is
        scattered once, to every worker at once, so that no worker's first task waits to fetch it
        from another, unless it is smaller than :data:`SMALL_BYTES`: then it travels inside each
        task that reads it, for less than the scatter's round trip. A task lost with its worker is
        submitted again from the caller's copies: the blobs it carried inside it again, the
        scattered ones scattered again."""
        readers = collections.Counter(i for call in calls for i in call.blobs)
        inline = {i for i, count in readers.items() if count == 1 or len(blobs[i]) <= SMALL_BYTES}
        shipped: dict[int, Any] = {i: blobs[i] for i in inline}
        common = [i for i in readers if i not in inline]
        if common:
            shipped.update(zip(common, self.client.scatter([blobs[i] for i in common], hash=False, broadcast=True)))
        in_flight: dict[Any, tuple[tuple[int, ...], int]] = {}  # future: its calls, its attempt
        pending = self.as_completed()

        def ship(needed: Iterable[int]) -> None:
            missing = list(dict.fromkeys(i for i in needed if i not in shipped))
            if missing:
                shipped.update(zip(missing, self.client.scatter([blobs[i] for i in missing], hash=False)))

        def top_up() -> None:
            slots = self._threads() if plan.adaptive else self.slots
            groups: list[tuple[int, ...]] = []
            while len(in_flight) + len(groups) < plan.window(slots) and (group := plan.next(slots)) is not None:
                own = [i for index in group for i in calls[index].blobs if i in inline and readers[i] == 1]
                if sum(len(blobs[i]) for i in own) > INLINE_BYTES:  # a task of many models: scattered
                    inline.difference_update(own)
                    for i in own:
                        del shipped[i]
                groups.append(group)
            ship(i for group in groups for index in group for i in calls[index].blobs)
            for group in groups:
                future = self._submit(calls, group, shipped)
                in_flight[future] = (group, 1)
                pending.add(future)

        try:
            top_up()
            for future in pending:
                group, attempts = in_flight.pop(future)
                if future.status == "finished":
                    try:
                        reports = [_decoded(data, attempts, group) for data in future.result()]
                    except Exception as exc:  # noqa: BLE001 - the result could not be fetched
                        reports = [_lost(exc, exc.__traceback__, attempts, group) for _ in group]
                elif attempts <= retries:  # lost with its worker: again, from the caller's copies
                    needed = [i for i in dict.fromkeys(i for index in group for i in calls[index].blobs) if i not in inline]
                    again = {i: blobs[i] for i in inline}
                    if needed:
                        again.update(zip(needed, self.client.scatter([blobs[i] for i in needed], hash=False)))
                    resubmitted = self._submit(calls, group, again)
                    in_flight[resubmitted] = (group, attempts + 1)
                    pending.add(resubmitted)
                    continue
                else:
                    reports = [self._failure(future, attempts, group) for _ in group]
                for index, report in zip(group, reports):
                    plan.measured(index, report)
                top_up()  # the workers get their next tasks before the caller sees these
                yield from zip(group, reports)
        finally:
            if in_flight:
                self.client.cancel(list(in_flight))

    def _submit(self, calls: Sequence[_Call], group: Sequence[int], shipped: dict[int, Any]) -> Any:
        layout, needed = _batch_layout(calls, group)
        return self.client.submit(_batch_task, layout, *(shipped[i] for i in needed), pure=False)

    @staticmethod
    def _failure(future: Any, attempts: int, batch: tuple[int, ...]) -> _Report:
        try:
            exc, tb = future.exception(), future.traceback()
        except BaseException as cancelled:  # noqa: BLE001 - a cancelled future has neither
            exc, tb = cancelled, None
        if exc is None:
            exc = concurrent.futures.CancelledError(f"task {future.key} ended as {future.status!r}")
        return _lost(exc, tb, attempts, batch)


def _backend(client: Any) -> _Serial | _OnExecutor | _OnDask:
    if client is None:
        return _Serial()
    if isinstance(client, concurrent.futures.Executor):
        return _OnExecutor(client)
    if callable(getattr(client, "scatter", None)) and callable(getattr(client, "submit", None)):
        return _OnDask(client)
    raise TypeError(
        "client must be a dask.distributed Client, a concurrent.futures.Executor or None (run in "
        f"this process), got {type(client).__name__}"
    )


def _check_retries(retries: int) -> int:
    if isinstance(retries, bool) or not isinstance(retries, (int, np.integer)) or retries < 0:
        raise ValueError(f"retries must be a non-negative integer, got {retries!r}")
    return int(retries)


def _raise(failure: TaskFailure) -> NoReturn:
    """Raise ``failure``'s exception, the worker's traceback attached as a note."""
    exc = failure.exception
    if hasattr(exc, "add_note") and failure.traceback:
        exc.add_note(f"(task {failure.index} on {failure.worker or 'no worker'})\n{failure.traceback}")
    raise exc


def _failure(index: int, report: _Report) -> TaskFailure:
    assert report.error is not None
    return TaskFailure(index, report.error, report.traceback, report.worker, report.attempts)


# --- many reads of one model ------------------------------------------------------------------


class DaskComposite(dimod.ComposedSampler):
    """Split ``num_reads`` into chunks and sample each chunk on a worker.

    Each chunk calls the child with its share of the reads and its own seed (chunk ``i`` gets
    :func:`chunk_seeds`\\ ``(seed, n)[i]``); the answers are merged with :func:`dimod.concatenate`
    in chunk order, and energies (for a CQM: feasibility too) are recomputed on the caller's
    model, in its labels and vartype. The same seed and chunks give the same SampleSet on a
    cluster, an executor or in this process (``client=None``), as long as the child is itself
    reproducible (no ``time_limit`` cutting its work short).

    The reads, seed and ``time_limit`` reach a child that :mod:`gnnsolve.registry` knows through
    :func:`~gnnsolve.registry.sample_kwargs` (dwave-samplers' reference samplers have no
    ``time_limit`` keyword), and any other child where its ``parameters`` (or its ``sample_cqm``
    signature) name them. ``time_limit`` is each chunk's: when there are more chunks than the
    workers run at once (their threads), each gets an equal share of it per round, so the whole
    call ends within ``time_limit`` plus the scheduling overhead that ``info`` reports.

    Args:
        child: any dimod sampler; it must pickle (see the module notes).
        client: a ``dask.distributed.Client``, a :class:`concurrent.futures.Executor`, or
            ``None`` to run the chunks one after another in this process.
        chunk_size: reads per chunk (the last one takes the rest); ``None``: the reads split
            evenly, one chunk per worker (the executor's ``max_workers``; one in this process).
        retries: how many times a chunk lost with its Dask worker is submitted again.

    ``info`` of the answer:

    - ``timing``: ``preprocessing_ns`` (pickling, scattering, submitting), ``sampling_ns``
      (waiting for the chunks), ``postprocessing_ns`` (merging);
    - ``chunks``: per chunk, ``num_reads``, ``seed``, ``worker`` (the Dask worker's address,
      else ``"pid:N"``), ``pid``, ``load_ns`` (loading the sampler and model on the worker),
      ``sampling_ns`` (the child's call), ``attempts`` and ``info`` (the child's own ``info``);
    - ``scheduling_overhead_ns``: the call's wall time minus the slowest chunk's ``sampling_ns``
      (where chunks wait for a free worker, as they all do in this process, their turns count in).

    Raises (from ``sample``):
        TypeError: the child, the model or a keyword does not pickle (named, before anything is
            submitted).
        Exception: the first chunk that raised, with the worker's traceback as a note; the
            other chunks are cancelled.

    Example:
        >>> import dimod
        >>> from dwave.samplers import SimulatedAnnealingSampler
        >>> from gnnsolve.distributed import DaskComposite
        >>> bqm = dimod.generators.ran_r(1, 12, seed=1)
        >>> sampler = DaskComposite(SimulatedAnnealingSampler(), None, chunk_size=3)
        >>> sampleset = sampler.sample(bqm, num_reads=7, seed=5, num_sweeps=100)
        >>> len(sampleset), [chunk["num_reads"] for chunk in sampleset.info["chunks"]]
        (7, [3, 3, 1])
    """

    def __init__(
        self,
        child: dimod.Sampler,
        client: Client | concurrent.futures.Executor | None = None,
        *,
        chunk_size: int | None = None,
        retries: int = DEFAULT_RETRIES,
    ) -> None:
        if not hasattr(child, "sample"):
            raise TypeError(f"child must be a dimod sampler, got {type(child).__name__}")
        _backend(client)  # refuse a wrong client now, not at the first call
        self._child = child
        self.client = client
        self.chunk_size = None if chunk_size is None else check_positive_int("chunk_size", chunk_size)
        self.retries = _check_retries(retries)

    @property
    def children(self) -> list[dimod.Sampler]:
        return [self._child]

    @property
    def parameters(self) -> dict[str, list]:
        return {**self._child.parameters, "num_reads": [], "seed": [], "time_limit": [], "chunk_size": []}

    @property
    def properties(self) -> dict[str, Any]:
        return {"child_properties": dict(self._child.properties)}

    def sample(
        self,
        bqm: dimod.BinaryQuadraticModel,
        *,
        num_reads: int = 1,
        seed: int | None = None,
        time_limit: float | None = None,
        chunk_size: int | None = None,
        **kwargs: Any,
    ) -> dimod.SampleSet:
        """``num_reads`` reads of ``bqm``, in chunks on the workers.

        Args:
            bqm: the model.
            num_reads: reads in all.
            seed: the seed the chunks' seeds derive from; ``None`` for fresh entropy.
            time_limit: seconds for each chunk (see the class notes); ``None`` leaves the child
                its own default, ``math.inf`` asks for no limit.
            chunk_size: overrides the composite's ``chunk_size`` for this call.
            **kwargs: further keywords for the child's ``sample``; they override the translated ones.
        """
        if not isinstance(bqm, dimod.BinaryQuadraticModel):
            raise TypeError(f"expected a dimod.BinaryQuadraticModel, got {type(bqm).__name__}")
        return self._spread(bqm, num_reads, seed, time_limit, chunk_size, kwargs)

    @property
    def sample_cqm(self) -> Callable[..., dimod.SampleSet]:
        """``sample`` for a :class:`dimod.ConstrainedQuadraticModel`, through the child's
        ``sample_cqm`` (same keywords); only where the child has one (``hasattr`` tells)."""
        if not hasattr(self._child, "sample_cqm"):
            raise AttributeError(f"{type(self._child).__name__} has no sample_cqm, so neither has its DaskComposite")
        return self._sample_cqm

    def _sample_cqm(
        self,
        cqm: dimod.ConstrainedQuadraticModel,
        *,
        num_reads: int = 1,
        seed: int | None = None,
        time_limit: float | None = None,
        chunk_size: int | None = None,
        **kwargs: Any,
    ) -> dimod.SampleSet:
        if not isinstance(cqm, dimod.ConstrainedQuadraticModel):
            raise TypeError(f"expected a dimod.ConstrainedQuadraticModel, got {type(cqm).__name__}")
        return self._spread(cqm, num_reads, seed, time_limit, chunk_size, kwargs)

    def chunks(self, num_reads: int, chunk_size: int | None = None, *, workers: int | None = None) -> list[int]:
        """The reads of each chunk for a call of ``num_reads`` on the client as it is now (or on
        ``workers`` workers).

        Example:
            >>> from dwave.samplers import SteepestDescentSolver
            >>> from gnnsolve.distributed import DaskComposite
            >>> DaskComposite(SteepestDescentSolver(), None, chunk_size=4).chunks(10)
            [4, 4, 2]
        """
        size = self.chunk_size if chunk_size is None else check_positive_int("chunk_size", chunk_size)
        return _chunk_sizes(
            check_positive_int("num_reads", num_reads),
            size,
            _backend(self.client).workers if workers is None else check_positive_int("workers", workers),
        )

    def _spread(
        self,
        model: dimod.BinaryQuadraticModel | dimod.ConstrainedQuadraticModel,
        num_reads: int,
        seed: int | None,
        time_limit: float | None,
        chunk_size: int | None,
        kwargs: dict[str, Any],
    ) -> dimod.SampleSet:
        limit = check_time_limit(time_limit)
        watch = Stopwatch(time_limit=math.inf if limit is None else limit)
        kwargs = self.remove_unknown_kwargs(**kwargs)
        with watch.phase("preprocessing"):
            backend = _backend(self.client)
            sizes = self.chunks(num_reads, chunk_size, workers=backend.workers)
            seeds = chunk_seeds(seed, len(sizes))
            blobs = [
                _dumps(self._child, f"the sampler {type(self._child).__name__}"),
                _dumps(model, f"the model ({type(model).__name__})"),
                _dumps_keywords(kwargs),
            ]
            rounds = -(-len(sizes) // backend.slots)
            share = None if limit is None else max(watch.remaining() / rounds, 1e-3)
            calls = [_Call(_chunk_task, (0, 1, 2), (size, chunk_seed, share)) for size, chunk_seed in zip(sizes, seeds)]
        received: dict[int, _Report] = {}
        with (
            watch.phase("sampling"),
            contextlib.closing(backend.run(blobs, calls, self.retries, _Plan(len(calls), 1))) as finished,
        ):
            for index, report in finished:
                if report.error is not None:
                    _raise(_failure(index, report))  # closing cancels the other chunks
                received[index] = report
        with watch.phase("postprocessing"):
            reports = [received[index] for index in range(len(calls))]  # each chunk reports once
            samplesets = [report.value for report in reports]
            merged = _merge(samplesets, model)
        wall = time.perf_counter_ns() - watch.start_ns
        merged.info.update(
            timing=watch.timing(),
            chunks=[
                {
                    "num_reads": size,
                    "seed": chunk_seed,
                    "worker": report.worker,
                    "pid": report.pid,
                    "load_ns": report.load_ns,
                    "sampling_ns": report.run_ns,
                    "attempts": report.attempts,
                    "info": dict(sampleset.info),
                }
                for size, chunk_seed, report, sampleset in zip(sizes, seeds, reports, samplesets)
            ],
            scheduling_overhead_ns=max(0, wall - max(report.run_ns for report in reports)),
        )
        return merged


def _chunk_sizes(num_reads: int, chunk_size: int | None, workers: int) -> list[int]:
    if chunk_size is None:
        count = max(1, min(workers, num_reads))
        base, extra = divmod(num_reads, count)
        return [base + (i < extra) for i in range(count)]
    full, rest = divmod(num_reads, chunk_size)
    return [chunk_size] * full + ([rest] if rest else [])


def _merge(
    samplesets: list[dimod.SampleSet], model: dimod.BinaryQuadraticModel | dimod.ConstrainedQuadraticModel
) -> dimod.SampleSet:
    """The chunks' rows in chunk order, energies recomputed on ``model``; the data vectors that
    every chunk has are kept."""
    if not isinstance(model, dimod.ConstrainedQuadraticModel):
        samplesets = [s if s.vartype is model.vartype else s.change_vartype(model.vartype, inplace=False) for s in samplesets]
    recomputed = {"sample", "energy", "num_occurrences", "is_satisfied", "is_feasible"}
    common = set.intersection(*(set(s.record.dtype.names) for s in samplesets)) - recomputed
    if model.num_variables:
        merged = dimod.concatenate(samplesets)
        samples, variables = merged.record.sample, merged.variables
        vectors = {name: merged.record[name] for name in common}
        vectors["num_occurrences"] = merged.record.num_occurrences
    else:  # dimod.concatenate cannot stack rows of no variables
        samples = np.zeros((sum(len(s) for s in samplesets), 0), dtype=np.int8)
        variables = []
        vectors = {name: np.concatenate([s.record[name] for s in samplesets]) for name in (*common, "num_occurrences")}
    if isinstance(model, dimod.ConstrainedQuadraticModel):
        return cqm_sampleset((samples, variables), model, **vectors)
    return dimod.SampleSet.from_samples_bqm((samples, variables), model, **vectors)


# --- many models ------------------------------------------------------------------------------


def solve_many(
    models: Iterable[Any],
    sampler: Any,
    client: Client | concurrent.futures.Executor | None = None,
    *,
    retries: int = DEFAULT_RETRIES,
    batch_size: int | str = "auto",
    progress: bool = False,
    on_result: Callable[[int, Any], None] | None = None,
    raise_errors: bool = False,
    **sample_kwargs: Any,
) -> list[Any]:
    """Solve every model with ``sampler`` and return the answers in input order.

    A task does what a serial loop would: ``sampler.sample(model, **sample_kwargs)`` for a BQM,
    ``sampler.sample_cqm(model, **sample_kwargs)`` for a CQM, and
    ``model.solve(sampler, **sample_kwargs)`` for a problem object (a
    :class:`~gnnsolve.adapters.problem.GraphProblem` such as MaxCut, TSP, Multicut, Modularity,
    or anything with such a ``solve``). The keywords reach every task as they are (the same
    ``seed`` for each model, as in the loop).

    Args:
        models: BQMs, CQMs and problem objects, in any mix.
        sampler: any dimod sampler (graph problems also take their graph-native samplers; a
            problem object, whatever its ``solve`` takes).
        client: a ``dask.distributed.Client``, a :class:`concurrent.futures.Executor`, or
            ``None`` to solve the models one after another in this process.
        retries: how many times a task lost with its Dask worker is submitted again (executors
            have none); a batch is submitted again whole.
        batch_size: how many models a task solves. ``"auto"`` (the default): as many as fill
            :data:`BATCH_SECONDS` by the times measured on the workers, largest models first,
            with two tasks a worker thread in flight (see the module notes): models of a few
            milliseconds go many to a task, models of seconds one to a task. An int: that many
            models a task, in input order, every task submitted at once (``1``: one task a
            model); a Dask cluster that scales with its backlog (``cluster.adapt()``) sees the
            whole backlog only this way. In this process (``client=None``) the models are
            solved one after another whatever the value.
        progress: show a tqdm bar on ``stderr`` as models finish.
        on_result: called in this process as ``on_result(index, result)`` as each model's answer
            arrives (in the order they arrive; a batch's models together, as it finishes), with
            the answer or its :class:`TaskFailure`; an exception it raises cancels the remaining
            tasks and is raised.
        raise_errors: raise the first failure to arrive (the worker's traceback attached as a
            note) and cancel the remaining tasks, instead of reporting failures in place.
        **sample_kwargs: keywords for every call (``num_reads``, ``seed``, ``time_limit``, ...).

    Returns:
        One entry per model, in input order: a SampleSet (BQMs and CQMs), what the problem's
        ``solve`` returns (a ``(Solution, SampleSet)`` pair for graph problems), or a
        :class:`TaskFailure`. Each SampleSet's ``info["task"]`` says where and how it ran:
        ``worker``, ``pid``, ``load_ns`` (loading the sampler and model), ``run_ns`` (the call)
        ``attempts`` and ``batch`` (the indices of the models its task solved, itself among
        them). A model in a batch gets its own answer or failure, as in a task of its own: a
        model that raises does not stop the others of its batch.

    Raises:
        ValueError, TypeError: ``batch_size`` neither ``"auto"`` nor a positive int, or
            ``retries`` not a non-negative int.
        TypeError: a model that is neither a BQM, a CQM nor an object with ``solve`` (a CQM for a
            sampler without ``sample_cqm``), or a sampler, model or keyword that does not pickle;
            each named, before anything is submitted.

    Example:
        >>> import networkx as nx
        >>> from dwave.samplers import SteepestDescentSolver
        >>> from gnnsolve.adapters.graphs import MaxCut
        >>> from gnnsolve.distributed import solve_many
        >>> problems = [MaxCut(nx.cycle_graph(n)) for n in (4, 6, 8)]
        >>> answers = solve_many(problems, SteepestDescentSolver(), num_reads=8, seed=1)
        >>> [solution.objective for solution, sampleset in answers]
        [4, 6, 8]
    """
    models = list(models)
    retries = _check_retries(retries)
    size = _check_batch_size(batch_size)
    for index, model in enumerate(models):
        _check_model(index, model, sampler)
    if not models:
        return []
    backend = _backend(client)
    blobs = [_dumps(sampler, f"the sampler {type(sampler).__name__}"), _dumps_keywords(sample_kwargs)]
    blobs += [_dumps(model, f"model {index} ({type(model).__name__})") for index, model in enumerate(models)]
    calls = [_Call(_solve_task, (0, 2 + index, 1)) for index in range(len(models))]
    plan = _Plan(len(models), size, _weights(models) if size is None and not isinstance(backend, _Serial) else None)
    results: list[Any] = [None] * len(models)
    bar = _progress_bar(progress, len(models))
    try:
        with contextlib.closing(backend.run(blobs, calls, retries, plan)) as finished:  # closing cancels what is left
            for index, report in finished:
                if report.error is not None:
                    result = results[index] = _failure(index, report)
                    if raise_errors:
                        _raise(result)
                else:
                    result = results[index] = _with_task_info(report)
                if bar is not None:
                    bar.update(1)
                if on_result is not None:
                    on_result(index, result)
    finally:
        if bar is not None:
            bar.close()
    return results


def _check_batch_size(batch_size: Any) -> int | None:
    """``batch_size`` as a positive int, or ``None`` for ``"auto"``."""
    if isinstance(batch_size, str):
        if batch_size == "auto":
            return None
        raise ValueError(f'batch_size must be "auto" or a positive integer, got {batch_size!r}')
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
        raise TypeError(f'batch_size must be "auto" or a positive integer, got {type(batch_size).__name__}')
    return check_positive_int("batch_size", int(batch_size))


def _weights(models: Sequence[Any]) -> list[float] | None:
    """Each model's size, the cost proxy of ``batch_size="auto"``: 1 + its variables + its
    interactions (a CQM's objective and constraints together), or ``None`` when a model is not a
    BQM or CQM (a problem object's cost is not known before it is built): all alike then.

    The measured times turn sizes into seconds; a size need only rank models of one study."""
    sizes: list[float] = []
    for model in models:
        if isinstance(model, dimod.BinaryQuadraticModel):
            sizes.append(1 + model.num_variables + model.num_interactions)
        elif isinstance(model, dimod.ConstrainedQuadraticModel):
            terms = sum(c.lhs.num_variables + c.lhs.num_interactions for c in model.constraints.values())
            sizes.append(1 + len(model.variables) + model.objective.num_interactions + terms)
        else:
            return None
    return sizes


def _check_model(index: int, model: Any, sampler: Any) -> None:
    if isinstance(model, dimod.BinaryQuadraticModel):
        return
    if isinstance(model, dimod.ConstrainedQuadraticModel):
        if not hasattr(sampler, "sample_cqm"):
            raise TypeError(
                f"model {index} is a ConstrainedQuadraticModel and {type(sampler).__name__} has no "
                "sample_cqm; wrap it in gnnsolve.PenaltyComposite"
            )
        return
    if not callable(getattr(model, "solve", None)):
        raise TypeError(
            f"model {index} ({type(model).__name__}) is neither a BinaryQuadraticModel, a "
            "ConstrainedQuadraticModel nor a problem with a solve(sampler, **kwargs) method"
        )


def _with_task_info(report: _Report) -> Any:
    """The task's answer, its SampleSet's ``info["task"]`` saying where and how it ran."""
    value = report.value
    sampleset = value if isinstance(value, dimod.SampleSet) else None
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], dimod.SampleSet):
        sampleset = value[1]
    if sampleset is not None:
        sampleset.info["task"] = {
            "worker": report.worker,
            "pid": report.pid,
            "load_ns": report.load_ns,
            "run_ns": report.run_ns,
            "attempts": report.attempts,
            "batch": report.batch,
        }
    return value


def _progress_bar(progress: bool, total: int) -> Any:
    if not progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="model", desc="solve_many")
