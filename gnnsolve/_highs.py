"""highspy helpers: a ``Highs`` object without the banner, and MIP runs that return by a deadline.

HiGHS reads its clock only between the steps of a MIP solve, and on large models one step (its
set-up, the feasibility jump heuristic, the root LP relaxation, a round of cut separation) can
last seconds or, for the cuts of a 100,000-variable model, most of a minute. So a run is given
its deadline in one of two ways (:class:`HighsJob` says what to run):

- :func:`run_in_process` runs HiGHS in a child process (about 0.1 s to start) and kills it at the
  deadline, keeping the last improving solution it reported: nothing runs on after the caller
  returns. Used for models whose steps may outlast a deadline (:data:`PROCESS_STEP_SECONDS`).
- :func:`run_in_thread` runs HiGHS in a worker thread of this process (:class:`DeadlineRun`),
  for small models whose steps last milliseconds: the caller goes on at the deadline with the
  last improving solution, and HiGHS ends on its own at its next clock read. Runs take turns: a
  run holds a process-wide lock until HiGHS returns (HiGHS's thread scheduler is process-wide),
  and so does the interpreter's exit.

A job without integer columns is a linear program: HiGHS solves it by simplex, which reads its
clock as it goes but reports no improving solutions, so a run cut off at the deadline leaves no
solution; one that returns has its objective as its bound.

Example:
    >>> import numpy as np
    >>> from gnnsolve._highs import HighsJob, run_in_process, run_in_thread
    >>> one = np.ones(1)  # minimise -x over a binary x, no rows
    >>> job = HighsJob(1, -one, 0 * one, one, np.ones(1, dtype=np.int32), np.zeros(0), np.zeros(0),
    ...                np.zeros(1, dtype=np.int32), np.zeros(0, dtype=np.int32), np.zeros(0),
    ...                options={"output_flag": False})
    >>> [(r.finished, r.status, r.x.tolist()) for r in (run_in_thread(job, 10.0), run_in_process(job, 10.0))]
    [(True, 'optimal', [1.0]), (True, 'optimal', [1.0])]
"""

from __future__ import annotations

import atexit
import math
import os
import pickle
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

import highspy
import numpy as np

__all__ = [
    "new_highs",
    "DeadlineRun",
    "HighsJob",
    "RunResult",
    "run_in_thread",
    "run_in_process",
    "status_name",
    "PROCESS_STEP_SECONDS",
    "PROCESS_START_SECONDS",
]

#: A run goes to its own process (:func:`run_in_process`) when HiGHS's steps may last longer than
#: this: a late return by so much, or HiGHS running on by minutes, is worse than 0.1 s of start-up.
PROCESS_STEP_SECONDS = 0.2

#: Seconds to start the child process of :func:`run_in_process` and pass it a job, cautiously
#: (about 0.1 s: a Python interpreter importing numpy and highspy).
PROCESS_START_SECONDS = 0.25

#: How often a child process reports HiGHS's bound and node count between incumbents (seconds).
PROGRESS_INTERVAL = 0.25

_STATUS = {
    highspy.HighsModelStatus.kOptimal: "optimal",
    highspy.HighsModelStatus.kTimeLimit: "time_limit",
    highspy.HighsModelStatus.kInfeasible: "infeasible",
    highspy.HighsModelStatus.kUnboundedOrInfeasible: "infeasible_or_unbounded",
    highspy.HighsModelStatus.kUnbounded: "unbounded",
    highspy.HighsModelStatus.kIterationLimit: "iteration_limit",
    highspy.HighsModelStatus.kSolutionLimit: "solution_limit",
    highspy.HighsModelStatus.kInterrupt: "interrupted",
    highspy.HighsModelStatus.kHighsInterrupt: "interrupted",  # type: ignore[attr-defined]  # in highspy, not in its stub
    highspy.HighsModelStatus.kMemoryLimit: "memory_limit",
    highspy.HighsModelStatus.kObjectiveBound: "objective_limit",
    highspy.HighsModelStatus.kObjectiveTarget: "objective_limit",
}

#: HiGHS's own ``time_limit`` falls this share of the time left (at most a second) short of the
#: deadline, so that it usually stops by itself, with its status and bound, before the caller has
#: to go on without them.
HEADROOM = 0.1

#: Held while HiGHS runs, from start to return (possibly after its caller has gone on).
_RUNNING = threading.Lock()


def new_highs(quiet: bool = True) -> highspy.Highs:
    """A fresh ``Highs`` object; with ``quiet``, the banner highspy prints on the first one is dropped.

    highspy (1.16) writes that banner from C++ to file descriptor 1 before any option can be set,
    which would corrupt machine-readable output such as ``gnnsolve compare --json``.
    """
    if not quiet:
        return highspy.Highs()
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            return highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)


class DeadlineRun:
    """``highs.run()`` for a MIP, returning to the caller by a deadline.

    While HiGHS runs, its improving solutions (first ``num_columns`` values), dual bound and node
    count are kept, so a run cut short by the deadline still has HiGHS's incumbent.

    Example:
        >>> import numpy as np
        >>> highs = new_highs()
        >>> status = highs.setOptionValue("output_flag", False)
        >>> status = highs.passModel(1, 0, 0, 1, 1, 0.0, np.array([-1.0]), np.zeros(1), np.ones(1),
        ...                          np.zeros(0), np.zeros(0), np.zeros(1, dtype=np.int32),
        ...                          np.zeros(0, dtype=np.int32), np.zeros(0), np.ones(1, dtype=np.int32))
        >>> run = DeadlineRun(highs, num_columns=1)
        >>> run.run(seconds=10.0), highs.getSolution().col_value
        (True, [1.0])
    """

    def __init__(self, highs: highspy.Highs, num_columns: int) -> None:
        self.highs, self.num_columns = highs, num_columns
        self.x: np.ndarray | None = None
        self.bound = -math.inf
        self.num_nodes = 0
        self._stop = threading.Event()
        highs.cbMipImprovingSolution += self._improving
        highs.cbMipInterrupt += self._interrupt

    def run(self, seconds: float, reset_scheduler: bool = False) -> bool:
        """Run HiGHS for at most ``seconds`` (``math.inf``: until it returns); whether it returned.

        ``reset_scheduler`` restarts HiGHS's process-wide thread scheduler first (after a change of
        its ``threads`` option), once no other run is using it.
        """
        deadline = time.perf_counter() + seconds
        if not _RUNNING.acquire(timeout=_timeout(seconds)):
            return False
        worker = threading.Thread(target=self._work, args=(reset_scheduler,), name="highs", daemon=True)
        try:
            left = deadline - time.perf_counter()
            self.highs.setOptionValue("time_limit", _own_time_limit(left))
            worker.start()
        except BaseException:
            _RUNNING.release()
            raise
        try:
            worker.join(_timeout(deadline - time.perf_counter()))
        finally:  # the deadline, or an exception such as KeyboardInterrupt: HiGHS stops at its next check
            self._stop.set()
        return not worker.is_alive()

    def _work(self, reset_scheduler: bool) -> None:
        try:
            if reset_scheduler:
                highspy.Highs.resetGlobalScheduler(True)
            self.highs.run()
        finally:
            _RUNNING.release()

    def _improving(self, event: highspy.HighsCallbackEvent) -> None:
        out = event.data_out
        self.x = np.array(out.mip_solution[: self.num_columns], dtype=np.float64)
        self._progress(event)

    def _interrupt(self, event: highspy.HighsCallbackEvent) -> None:
        self._progress(event)
        if self._stop.is_set():
            event.interrupt()

    def _progress(self, event: highspy.HighsCallbackEvent) -> None:
        self.bound = max(self.bound, float(event.data_out.mip_dual_bound))
        self.num_nodes = int(event.data_out.mip_node_count)


def status_name(status: highspy.HighsModelStatus, highs: highspy.Highs) -> str:
    """HiGHS's model status as the short name the samplers report (``"optimal"``, ``"time_limit"``, ...)."""
    return _STATUS.get(status, highs.modelStatusToString(status).lower())


@dataclass(frozen=True)
class HighsJob:
    """A MIP (or, without integer columns, an LP) for HiGHS as ``passModel`` takes it (rows in
    CSR), its options and a start; picklable.

    ``num_columns`` is how many leading columns make up the solution reported back (the others,
    such as the products of a linearisation, are HiGHS's business).
    """

    num_columns: int
    cost: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    integrality: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    indptr: np.ndarray
    indices: np.ndarray
    values: np.ndarray
    offset: float = 0.0
    options: dict[str, Any] = field(default_factory=dict)
    start: np.ndarray | None = None

    def load(self, highs: highspy.Highs) -> None:
        """Set the options, pass the model and the start to ``highs``.

        Raises:
            RuntimeError: HiGHS refused one of them.
        """
        for name, value in self.options.items():
            _check(highs.setOptionValue(name, value), f"setting option {name}={value!r}")
        _check(
            highs.passModel(
                len(self.cost),
                len(self.row_lower),
                len(self.values),
                int(highspy.MatrixFormat.kRowwise),
                int(highspy.ObjSense.kMinimize),
                self.offset,
                self.cost,
                self.lower,
                self.upper,
                self.row_lower,
                self.row_upper,
                self.indptr.astype(np.int32),
                self.indices.astype(np.int32),
                self.values,
                self.integrality,
            ),
            "passing the model",
        )
        if self.start is not None:
            _check(
                highs.setSolution(len(self.start), np.arange(len(self.start), dtype=np.int32), self.start), "passing the start"
            )


@dataclass
class RunResult:
    """How a run ended: ``finished`` (HiGHS returned by the deadline) with its ``status`` and
    solution, or cut off at the deadline with its last improving solution (``x``, ``None`` if
    none); the dual bound and node count last reported either way."""

    finished: bool
    status: str | None
    x: np.ndarray | None
    bound: float
    num_nodes: int


def run_in_thread(job: HighsJob, seconds: float, reset_scheduler: bool = False) -> RunResult:
    """``job`` in a worker thread (:class:`DeadlineRun`), returning by ``seconds`` from now."""
    highs = new_highs(quiet=not job.options.get("output_flag", False))
    job.load(highs)
    run = DeadlineRun(highs, job.num_columns)
    if not run.run(seconds, reset_scheduler=reset_scheduler):
        return RunResult(False, None, run.x, run.bound, run.num_nodes)
    return _finished(highs, job)


def run_in_process(job: HighsJob, seconds: float) -> RunResult:
    """``job`` in a child process, killed at ``seconds`` from now if HiGHS has not returned.

    The child reports each improving solution, and its bound every :data:`PROGRESS_INTERVAL`,
    as it goes; HiGHS's own ``time_limit`` falls a little short of the deadline, so it usually
    stops by itself with its status. HiGHS's log (``output_flag``) goes to this process's
    standard output.

    Raises:
        RuntimeError: HiGHS refused the job, or the child ended without a result (it crashed,
            or ran out of memory).
    """
    deadline = time.perf_counter() + seconds
    reading, writing = os.pipe()
    sys.stdout.flush()
    child = subprocess.Popen(
        [sys.executable, "-c", "from gnnsolve._highs import _serve; _serve()", str(writing)],
        stdin=subprocess.PIPE,
        pass_fds=(writing,),
    )
    os.close(writing)
    result = RunResult(False, None, None, -math.inf, 0)
    with Connection(reading, writable=False) as connection:
        try:
            assert child.stdin is not None
            pickle.dump((job, _own_time_limit(deadline - time.perf_counter())), child.stdin, protocol=pickle.HIGHEST_PROTOCOL)
            child.stdin.close()
            while connection.poll(None if deadline == math.inf else _timeout(deadline - time.perf_counter())):
                kind, x, bound, nodes, status = connection.recv()
                result.x = x if x is not None else result.x
                result.bound, result.num_nodes = max(result.bound, bound), nodes
                if kind == "error":
                    raise RuntimeError(status)
                if kind == "done":
                    result.finished, result.status = True, status
                    break
        except (EOFError, BrokenPipeError):
            child.wait()
            raise RuntimeError(f"HiGHS's process ended with exit code {child.returncode} without a result") from None
        finally:
            if child.poll() is None:
                child.kill()
            child.wait()
    return result


def _serve() -> None:
    """The child of :func:`run_in_process`: read the job from standard input, report on the given file descriptor."""
    job, time_limit = pickle.load(sys.stdin.buffer)
    connection = Connection(int(sys.argv[1]), readable=False)
    highs = new_highs(quiet=not job.options.get("output_flag", False))
    try:
        job.load(highs)
    except RuntimeError as err:
        connection.send(("error", None, -math.inf, 0, str(err)))
        return
    highs.setOptionValue("time_limit", time_limit)
    last = [0.0]

    def improving(event: highspy.HighsCallbackEvent) -> None:
        out = event.data_out
        x = np.array(out.mip_solution[: job.num_columns], dtype=np.float64)
        connection.send(("incumbent", x, float(out.mip_dual_bound), int(out.mip_node_count), None))

    def progress(event: highspy.HighsCallbackEvent) -> None:
        now = time.perf_counter()
        if now - last[0] >= PROGRESS_INTERVAL:
            last[0] = now
            out = event.data_out
            connection.send(("progress", None, float(out.mip_dual_bound), int(out.mip_node_count), None))

    highs.cbMipImprovingSolution += improving
    highs.cbMipInterrupt += progress
    highs.run()
    done = _finished(highs, job)
    connection.send(("done", done.x, done.bound, done.num_nodes, done.status))
    connection.close()


def _finished(highs: highspy.Highs, job: HighsJob) -> RunResult:
    """The result of a run that returned: HiGHS's status, solution (if feasible), bound and nodes.

    A job without integer columns is a linear program, which HiGHS solves without its MIP
    search (no MIP bound, a node count of -1): its bound is its objective where it is optimal
    (else ``-inf``), and it explores no nodes.
    """
    info = highs.getInfo()
    status = status_name(highs.getModelStatus(), highs)
    feasible = info.primal_solution_status == highspy.SolutionStatus.kSolutionStatusFeasible
    x = np.asarray(highs.getSolution().col_value[: job.num_columns], dtype=np.float64) if feasible else None
    if not np.any(job.integrality):
        bound = float(info.objective_function_value) if status == "optimal" else -math.inf
        return RunResult(True, status, x, bound, 0)
    return RunResult(True, status, x, float(info.mip_dual_bound), int(info.mip_node_count))


def _own_time_limit(seconds: float) -> float:
    """HiGHS's ``time_limit`` for a run that must end in ``seconds``: :data:`HEADROOM` of it (at most a second) short."""
    return max(seconds - min(HEADROOM * seconds, 1.0), 1e-3)


def _check(status: highspy.HighsStatus, what: str) -> None:
    if status == highspy.HighsStatus.kError:
        raise RuntimeError(f"HiGHS reported an error {what}; run with output=True to see its log")


def _timeout(seconds: float) -> float:
    """``seconds`` as a timeout for ``Lock.acquire`` and ``Thread.join`` (``-1`` / ``None`` mean none)."""
    return min(max(seconds, 0.0), threading.TIMEOUT_MAX)


@atexit.register
def _wait_for_highs() -> None:
    """Let a run still finishing (its caller gone on at the deadline) end before the interpreter does."""
    with _RUNNING:
        pass
