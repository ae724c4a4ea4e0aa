"""Watching a long run: a progress bar, a stopping callback and throttled log lines, in one place.

The learned samplers (:class:`~gnnsolve.samplers.pignn.GNNSampler`,
:class:`~gnnsolve.samplers.dyco.DyCOSampler`, :class:`~gnnsolve.samplers.clusternet.ClusterNetSampler`,
:class:`~gnnsolve.samplers.multicut.MulticutSampler`) take two keywords:

- ``progress=True`` draws a `tqdm <https://tqdm.github.io>`_ bar on ``stderr`` over the epochs
  (the simulations for the tree search), the best energy so far in its postfix; it is closed
  when the call ends, also by an error. Off by default.
- ``callback(state) -> bool | None`` is called about once per epoch (per simulation batch of the
  tree search) with a read-only :class:`TrainingState`; returning ``True`` (any true value) stops the run as a
  time limit would: the best answer so far is returned and ``info["stop_reason"]`` says
  ``"callback"``. An exception raised by the callback is not caught: it ends the call and
  reaches the caller unchanged.

Log lines go to the module loggers under ``"gnnsolve"``, which holds a
:class:`logging.NullHandler` (silent until the application configures logging): one INFO line
per phase, an INFO progress line about every :data:`LOG_SECONDS` of a long loop, and DEBUG detail
per step.

Example:
    >>> from gnnsolve.samplers._progress import TrainingState, Watcher
    >>> seen = []
    >>> watcher = Watcher("demo", callback=lambda state: seen.append(state.epoch) or state.epoch >= 3)
    >>> [watcher.update(step, best_energy=-float(step)) for step in (1, 2, 3)]
    [False, False, True]
    >>> watcher.close(); seen
    [1, 2, 3]
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any, Callable, Optional

__all__ = ["TrainingState", "Callback", "Watcher", "check_callback", "check_progress", "LOG_SECONDS", "STOP_REASON"]

LOG_SECONDS = 2.0
"""Seconds between a long loop's INFO progress lines."""

STOP_REASON = "callback"
"""The ``stop_reason`` of a run that its callback stopped."""


@dataclass(frozen=True)
class TrainingState:
    """What a ``callback`` sees of a running sampler (read-only).

    Attributes:
        epoch: steps done so far in this phase: training epochs (PI-GNN, ClusterNet: within the
            current read) or tree-search simulations (multicut: within the current read).
        elapsed: seconds since the call began.
        best_energy: the best value found so far (lower is better): PI-GNN's best rounded
            energy in BINARY form, ClusterNet's best checkpoint loss (``inf`` before the first),
            the multicut cost of the best complete partition known.
        loss: the last epoch's training loss (mean over replicas), ``None`` where there is none.
        phase: what is running, e.g. ``"training"``, ``"training read 2/3"``, ``"search read 1/1"``.
    """

    epoch: int
    elapsed: float
    best_energy: float
    loss: Optional[float] = None
    phase: str = "training"


Callback = Callable[[TrainingState], Optional[bool]]
"""A ``callback``: returns ``True`` to stop the run, anything else to go on."""


def check_callback(callback: object) -> Callback | None:
    """``callback`` if it is ``None`` or callable; a TypeError otherwise."""
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable (state -> bool | None) or None, got {type(callback).__name__}")
    return callback


def check_progress(progress: object) -> bool:
    """``progress`` as a bool; a TypeError for anything but ``True``, ``False`` (or ``None``)."""
    if progress is None:
        return False
    if not isinstance(progress, bool):
        raise TypeError(f"progress must be True or False, got {progress!r}")
    return progress


class Watcher:
    """The bar, the callback and the throttled log lines of one loop.

    Args:
        name: the prefix of the log lines (``"PI-GNN"``, ``"ClusterNet"``, ...).
        logger: where the lines go (default: this module's logger).
        progress: draw a tqdm bar on ``stderr``.
        callback: called by :meth:`update` (see :class:`TrainingState`).
        total: the bar's length (``None``: unknown).
        unit: the bar's unit (``"epoch"``, ``"sim"``).
        clock: seconds since the call began (default: since the watcher was made).
        step_name: the word for a step in the log lines.
    """

    def __init__(
        self,
        name: str,
        *,
        logger: logging.Logger | None = None,
        progress: bool = False,
        callback: Callback | None = None,
        total: int | None = None,
        unit: str = "epoch",
        clock: Callable[[], float] | None = None,
        step_name: str = "epoch",
    ) -> None:
        self.name, self.logger, self.callback = name, logger or logging.getLogger(__name__), callback
        self.step_name = step_name
        if clock is None:
            began = time.perf_counter()
            clock = lambda: time.perf_counter() - began  # noqa: E731
        self.clock = clock
        self.reported = clock()
        self.bar: Any = None
        self.shown = 0
        if progress:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, unit=unit, desc=name, leave=False, dynamic_ncols=True)
        self.stopped = False

    @property
    def active(self) -> bool:
        """Whether every step needs :meth:`update` (a bar, a callback or DEBUG lines); otherwise
        only :meth:`due` steps do."""
        return self.bar is not None or self.callback is not None or self.logger.isEnabledFor(logging.DEBUG)

    def due(self) -> bool:
        """Whether this step should call :meth:`update`: :attr:`active`, or an INFO line is due."""
        return self.active or (self.logger.isEnabledFor(logging.INFO) and self.clock() - self.reported >= LOG_SECONDS)

    def update(
        self, step: int, best_energy: float, loss: float | None = None, phase: str = "training", advance: int | None = None
    ) -> bool:
        """Report ``step`` (steps done in this phase): move the bar by ``advance`` (default: to
        ``step`` within the phase), log as due, call the callback. Returns whether it asks to stop."""
        elapsed = self.clock()
        if self.bar is not None:
            self.bar.update(step - self.shown if advance is None else advance)
            self.shown = step
            self.bar.set_postfix(best=f"{best_energy:.6g}", refresh=False)
        if self.logger.isEnabledFor(logging.DEBUG):
            self.logger.debug(
                "%s: %s %d (%s) at %.3f s: loss %s, best %.6g",
                self.name,
                self.step_name,
                step,
                phase,
                elapsed,
                "n/a" if loss is None else f"{loss:.6g}",
                best_energy,
            )
        if elapsed - self.reported >= LOG_SECONDS and self.logger.isEnabledFor(logging.INFO):
            self.reported = elapsed
            self.logger.info(
                "%s: %s %d (%s) at %.1f s: best energy %.6g%s",
                self.name,
                self.step_name,
                step,
                phase,
                elapsed,
                best_energy,
                "" if loss is None else f", loss {loss:.6g}",
            )
        if self.callback is not None and self.callback(TrainingState(step, elapsed, best_energy, loss, phase)):
            self.stopped = True
        return self.stopped

    def restart(self) -> None:
        """Begin a new phase (a new read): the next :meth:`update` counts its steps from 0."""
        self.shown = 0

    def close(self) -> None:
        """Close the bar (idempotent)."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def __enter__(self) -> "Watcher":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
