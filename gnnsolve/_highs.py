"""highspy helpers: a ``Highs`` object without the banner, and a run that returns by a deadline.

HiGHS reads its clock only between the steps of a MIP solve, and on large models one step (its
set-up, the feasibility jump heuristic, the root LP relaxation) can last seconds: with
``time_limit=5`` a 100,000-variable sparse model ran 7.3 s. :class:`DeadlineRun` runs HiGHS in a
worker thread and waits for it until the deadline; if HiGHS is still inside such a step then, the
caller goes on with the last improving solution HiGHS reported, and HiGHS ends on its own at its
next clock read (its ``time_limit`` ends a little before the deadline). Runs take turns: a run holds a
process-wide lock until HiGHS returns, so the next one waits for it (HiGHS's thread scheduler is
process-wide), and so does the interpreter's exit.
"""

from __future__ import annotations

import atexit
import math
import os
import sys
import threading
import time

import highspy
import numpy as np

__all__ = ["new_highs", "DeadlineRun"]

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
            self.highs.setOptionValue("time_limit", max(left - min(HEADROOM * left, 1.0), 1e-3))
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

    def _improving(self, event: highspy.cb.HighsCallbackEvent) -> None:
        out = event.data_out
        self.x = np.array(out.mip_solution[: self.num_columns], dtype=np.float64)
        self._progress(event)

    def _interrupt(self, event: highspy.cb.HighsCallbackEvent) -> None:
        self._progress(event)
        if self._stop.is_set():
            event.interrupt()

    def _progress(self, event: highspy.cb.HighsCallbackEvent) -> None:
        self.bound = max(self.bound, float(event.data_out.mip_dual_bound))
        self.num_nodes = int(event.data_out.mip_node_count)


def _timeout(seconds: float) -> float:
    """``seconds`` as a timeout for ``Lock.acquire`` and ``Thread.join`` (``-1`` / ``None`` mean none)."""
    return min(max(seconds, 0.0), threading.TIMEOUT_MAX)


@atexit.register
def _wait_for_highs() -> None:
    """Let a run still finishing (its caller gone on at the deadline) end before the interpreter does."""
    with _RUNNING:
        pass
