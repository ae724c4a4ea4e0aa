r"""Single-flip descent of many BINARY states at once, stoppable at a deadline.

The polish of the learned samplers: each state descends until no single flip lowers its energy
(a single-flip local minimum, as dwave-samplers' ``SteepestDescentSolver`` reaches). It differs
from that solver in two ways that matter inside a time budget:

- **Parallel moves.** A round computes, for every variable of every state, the energy change of
  flipping it,

  .. math::

      \Delta_i = (1 - 2x_i)\,\bigl(h_i + \textstyle\sum_j Q_{ij} x_j\bigr),

  and flips every variable whose :math:`\Delta_i < 0` is the steepest among its improving
  neighbours in the interaction graph (ties to the lower index). No two flipped variables
  interact, so the changes add up exactly and the energy falls by :math:`\sum \Delta_i` each
  round. A round is a few sparse-matrix products over all states together, so a
  100,000-variable model descends in well under a second instead of one sequential flip after
  another. On a dense model nearly every pair of variables interacts, so a round would flip
  one variable per state at the cost of all the interactions; there (mean degree above
  :data:`SEQUENTIAL_DEGREE`) each step flips the steepest variable of every state instead, at
  the cost of one row of couplings per state.
- **A deadline.** The clock is read between rounds; a state stopped there is partially
  descended, still a valid state, and never worse than where it started.

Example:
    >>> import dimod, numpy as np
    >>> from gnnsolve.qubo import CompiledBQM
    >>> from gnnsolve.search.descent import descend
    >>> bqm = dimod.generators.ran_r(1, 30, seed=2)
    >>> model = CompiledBQM(bqm)
    >>> start = np.random.default_rng(0).integers(0, 2, size=(4, 30), dtype=np.int8)
    >>> result = descend(model, start)
    >>> bool((model.binary_energies(result.states) <= model.binary_energies(start)).all()), result.complete
    (True, True)
    >>> deltas = [model.binary_energies(np.where(np.eye(30, dtype=bool), 1 - row, row)) - model.binary_energies(row[None])
    ...           for row in result.states]
    >>> bool(min(float(d.min()) for d in deltas) >= 0)   # no single flip improves any state
    True
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse

from gnnsolve.qubo import CompiledBQM

__all__ = ["DescentResult", "Landscape", "descend", "sequential", "SEQUENTIAL_DEGREE"]

SEQUENTIAL_DEGREE = 64
"""Mean number of interactions per variable above which states descend one flip per step."""


@dataclass(frozen=True)
class DescentResult:
    """What :func:`descend` returns.

    Attributes:
        states: the descended 0/1 states, one row per input state.
        rounds: rounds of parallel flips made.
        flips: variables flipped in all.
        complete: every state is a single-flip local minimum (``False`` when the deadline
            stopped the descent first).
    """

    states: np.ndarray
    rounds: int
    flips: int
    complete: bool


def descend(model: CompiledBQM, states: np.ndarray, deadline: float = math.inf) -> DescentResult:
    """Descend each 0/1 state of ``model`` to a single-flip local minimum, or until ``deadline``.

    Args:
        model: the compiled model (its BINARY form is used).
        states: 0/1 states, shape ``[reads, n]``.
        deadline: a ``time.perf_counter()`` value after which no further round starts.

    Returns:
        A :class:`DescentResult`; its states are never worse than the inputs.
    """
    x = np.array(states, dtype=np.int8, copy=True).reshape(-1, model.num_variables)
    if model.num_variables == 0 or len(x) == 0:
        return DescentResult(x, 0, 0, True)
    landscape = Landscape(model)
    return landscape.descend(x, landscape.fields(x), deadline)


def sequential(model: CompiledBQM) -> bool:
    """Whether ``model`` is dense enough (:data:`SEQUENTIAL_DEGREE`) to descend one flip per state per step."""
    return 2 * model.num_interactions > SEQUENTIAL_DEGREE * model.num_variables


class Landscape:
    r"""A model's couplings prepared for flipping and descending many states in place.

    :func:`descend` uses it once; a search that descends again and again (the kicks of
    :mod:`gnnsolve.search.kicks`) keeps it, with each state's local fields
    :math:`h_i + \sum_j Q_{ij} x_j`, between descents.
    """

    def __init__(self, model: CompiledBQM) -> None:
        n = model.num_variables
        upper = scipy.sparse.csr_matrix((model.quadratic, (model.rows, model.cols)), shape=(n, n))
        self.coupling = (upper + upper.T).tocsr()
        self.linear = model.linear
        self.heads, self.tails = model.rows, model.cols
        scale = max(float(np.abs(model.linear).max(initial=0.0)), float(np.abs(model.quadratic).max(initial=0.0)))
        self.tolerance = 1e-12 * max(scale, 1e-300)
        self.sequential = sequential(model)

    def fields(self, x: np.ndarray) -> np.ndarray:
        """The local fields of the 0/1 states ``x``, shape ``[reads, n]``."""
        return np.asarray(self.coupling @ x.T.astype(np.float64)).T + self.linear

    def descend(self, x: np.ndarray, field: np.ndarray, deadline: float = math.inf) -> DescentResult:
        """Descend ``x`` in place (``field`` kept in step) to single-flip local minima or ``deadline``."""
        if self.sequential:
            return self._steepest_steps(x, field, deadline)
        return self._parallel_rounds(x, field, deadline)

    def flip(self, x: np.ndarray, field: np.ndarray, reads: np.ndarray, variables: np.ndarray) -> None:
        """Flip ``x[reads, variables]`` (distinct pairs) in place and update the local fields."""
        step = np.where(x[reads, variables] == 1, -1.0, 1.0)
        x[reads, variables] ^= 1
        change = scipy.sparse.csr_matrix((step, (reads, variables)), shape=x.shape)
        field += (change @ self.coupling).toarray()

    def _parallel_rounds(self, x: np.ndarray, field: np.ndarray, deadline: float) -> DescentResult:
        """Rounds that flip every improving variable steeper than its improving neighbours."""
        heads, tails = self.heads, self.tails
        rounds = flips = 0
        while True:
            delta = np.where(x == 1, -field, field)
            improving = delta < -self.tolerance
            if not improving.any():
                return DescentResult(x, rounds, flips, True)
            if time.perf_counter() >= deadline:
                return DescentResult(x, rounds, flips, False)
            flip = improving.copy()
            both = improving[:, heads] & improving[:, tails]
            if both.any():
                head_loses = delta[:, heads] > delta[:, tails]
                head_loses |= (delta[:, heads] == delta[:, tails]) & (heads > tails)
                reads, edges = np.nonzero(both)
                losers = np.where(head_loses[reads, edges], heads[edges], tails[edges])
                flip[reads, losers] = False
            reads, variables = np.nonzero(flip)
            self.flip(x, field, reads, variables)
            rounds += 1
            flips += len(reads)

    def _steepest_steps(self, x: np.ndarray, field: np.ndarray, deadline: float) -> DescentResult:
        """Steps that flip the steepest improving variable of each state."""
        rounds = flips = 0
        every = np.arange(len(x))
        while True:
            delta = np.where(x == 1, -field, field)
            steepest = delta.argmin(axis=1)
            active = delta[every, steepest] < -self.tolerance
            if not active.any():
                return DescentResult(x, rounds, flips, True)
            if time.perf_counter() >= deadline:
                return DescentResult(x, rounds, flips, False)
            self.flip(x, field, every[active], steepest[active])
            rounds += 1
            flips += int(active.sum())
