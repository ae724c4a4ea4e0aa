r"""Simulated annealing from given states, paced by the clock to end at a deadline.

The ``polish="sa"`` finisher of the learned samplers: the states a network learned are the
starting points of dwave-samplers' simulated annealing (the kernel of its
``SimulatedAnnealingSampler``, called with initial states and a schedule of inverse
temperatures, without the sampler's per-call SampleSet: at 50,000 variables that costs 0.1 s a
call, a hundred sweeps). Two things differ from a plain call of that sampler:

- **A warm start.** The schedule is geometric in :math:`\beta` like the sampler's default, over
  the sampler's own default range :math:`[\beta_h, \beta_c]` (:func:`default_beta_range`), but it
  starts a share :data:`START` of the way (in :math:`\log\beta`) from hot to cold: hot enough
  to leave the start's local minimum, cold enough to keep much of its structure. Measured on
  G14, G22, a 3,000-spin toroidal spin glass and a 2,048-spin Chimera spin glass at 10 s,
  starting at 0 or 0.25 of the way gave the same energies as annealing from random states
  (within 0.2 %), starting at 0.75 lost 0.5-1.5 %.
- **Paced by the clock.** The anneal runs as a sequence of short calls, each continuing from
  the states where the last one ended, over the next stretch of the schedule. Where it is on
  the schedule is the share of the time spent, so the anneal reaches its cold end at the
  deadline whatever the speed of the machine, and a slower stretch (another process taking the
  core) only shortens the ones after it. A call lasts at most :data:`LONGEST_CALL` seconds or a
  tenth of the time, so the deadline is overrun by no more than a fraction of one call. With a
  number of sweeps instead, the calls split the schedule by sweeps, and the result depends
  only on the seed, unless the deadline would come first.

The best state each chain has visited is kept (the last one, at the cold end, nearly always).
Several chains may start from each state (``copies``): on a knapsack QUBO with its penalty, 16
chains for a second found a 28 % better packing than one chain for the same second, while
on G14 and the Chimera spin glass the count made no difference. On large models chains
compete for sweeps, so an anneal paced by the clock runs fewer of them where each would make
fewer than :data:`MIN_SWEEPS`.

Example:
    >>> import time, dimod, numpy as np
    >>> from gnnsolve.qubo import CompiledBQM
    >>> from gnnsolve.search.anneal import anneal
    >>> bqm = dimod.generators.ran_r(1, 40, seed=2)
    >>> model = CompiledBQM(bqm)
    >>> start = np.random.default_rng(0).integers(0, 2, size=(2, 40), dtype=np.int8)
    >>> result = anneal(model, start, time.perf_counter() + 0.2, seed=1)
    >>> bool((model.binary_energies(result.states) <= model.binary_energies(start)).all()), result.sweeps > 0
    (True, True)
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from gnnsolve.qubo import CompiledBQM

__all__ = [
    "AnnealResult",
    "anneal",
    "anneal_seconds",
    "default_beta_range",
    "START",
    "LONGEST_CALL",
    "FIRST_SWEEPS",
    "MIN_SWEEPS",
    "CALL_UPDATES",
]

START = 0.25
"""Where on the default schedule (0 hot, 1 cold, in log β) the anneal from learned states starts."""

LONGEST_CALL = 0.5
"""Longest stretch of the schedule, in seconds, run by one call of the annealer."""

FIRST_SWEEPS = 16
"""Sweeps of the first call of an anneal paced by the clock, which times a sweep for the calls after it."""

MIN_SWEEPS = 20_000
"""Sweeps per chain below which an anneal paced by the clock runs fewer, longer chains. At a
fixed 4 s on random 3-regular MaxCut, one chain beat 16 by 0.3 % at 10,000 nodes (40,000
sweeps against 2,500 each) and by 1.9 % at 100,000 (2,800 against 140); at 800 nodes, where
16 chains still make 50,000 sweeps a second, their number made no difference."""

CALL_UPDATES = 20_000_000
"""Most spin updates (reads × sweeps × (variables + 2 × interactions)) of one call of the
annealer when the number of sweeps is fixed: about 0.02-0.05 s, so that the clock is read often
while the calls' fixed cost stays small."""


@dataclass(frozen=True)
class AnnealResult:
    """What :func:`anneal` returns.

    Attributes:
        states: the best 0/1 state the chains of each input state visited, one row per input state.
        sweeps: sweeps made by each chain.
        calls: calls of the annealer (stretches of the schedule).
        beta_range: the inverse temperatures the schedule ran from and to (``None`` if no
            sweep was made).
        copies: chains per state at the end.
    """

    states: np.ndarray
    sweeps: int
    calls: int
    beta_range: tuple[float, float] | None
    copies: int


def anneal(
    model: CompiledBQM,
    states: np.ndarray,
    deadline: float = math.inf,
    *,
    sweeps: int | None = None,
    copies: int = 1,
    start: float = START,
    seed: int | None = None,
) -> AnnealResult:
    """Anneal each 0/1 state of ``model`` from ``start`` of the way along the default schedule.

    Args:
        model: the compiled model.
        states: 0/1 starting states, shape ``[reads, n]``.
        deadline: a ``time.perf_counter()`` value by which the anneal ends.
        sweeps: sweeps per read, or ``None`` to anneal until ``deadline`` (which must then be
            finite). With a number the result is reproducible from ``seed`` unless the deadline
            comes first: once the sweeps left would outlast it, the rest of the schedule is
            paced by the clock.
        copies: independent chains annealed from each state; the best state of its chains is
            returned for each. Paced by the clock, an anneal keeps only as many as can each
            make :data:`MIN_SWEEPS` sweeps by the deadline (at least one per state), judged
            after its first call.
        start: where the schedule starts, from 0 (the sampler's hot end) to 1 (its cold end).
        seed: seed of the first call; the later ones take the seeds that follow.

    Returns:
        An :class:`AnnealResult`; its states are never worse than the inputs.
    """
    if not 0.0 <= start <= 1.0:
        raise ValueError(f"start must be between 0 and 1, got {start!r}")
    if sweeps is None and deadline == math.inf:
        raise ValueError("anneal needs a number of sweeps or a finite deadline")
    if isinstance(copies, bool) or not isinstance(copies, (int, np.integer)) or copies < 1:
        raise ValueError(f"copies must be a positive integer, got {copies!r}")
    best = np.atleast_2d(np.array(states, dtype=np.int8, copy=True))
    begin = time.perf_counter()
    total = deadline - begin
    if model.num_variables == 0 or len(best) == 0 or not total > 0 or sweeps == 0:
        return AnnealResult(best, 0, 0, None, copies)
    from dwave.samplers.sa.simulated_annealing import simulated_annealing

    field, starts, ends, couplings = _ising_terms(model)
    hot, cold = default_beta_range(field, starts, ends, couplings)
    low = math.log(hot) + start * (math.log(cold) - math.log(hot))

    def beta(progress: float) -> float:
        return math.exp(low + min(progress, 1.0) * (math.log(cold) - low))

    reads = len(best)
    best = np.tile(best, (copies, 1))  # chain c of state i is row c * reads + i
    best_energy = model.binary_energies(best)
    current = best.copy()
    seeds = np.random.SeedSequence(seed).generate_state(1 << 10, dtype=np.uint32) >> 1  # below 2**31
    per_call = max(1, int(CALL_UPDATES / (len(best) * (model.num_variables + 2 * model.num_interactions))))
    stretch = min(LONGEST_CALL, total / 10)
    per_sweep = math.nan  # seconds, measured by each call for the next
    done = calls = 0
    progress = 0.0  # how far along the schedule the states are
    while progress < 1.0:
        now = time.perf_counter()
        left = deadline - now
        if calls and left < per_sweep:
            break
        if sweeps is not None and calls and (sweeps - done) * per_sweep > left:
            sweeps = None  # the deadline binds: paced by the clock from here
        if sweeps is not None:
            count = min(per_call, sweeps - done)
            reach = (done + count) / sweeps
        elif not calls:
            count, reach = min(per_call, FIRST_SWEEPS), progress
        elif left <= 1.5 * stretch:
            count, reach = max(1, int(left / per_sweep)), 1.0
        else:
            count = max(1, int(stretch / per_sweep))
            reach = progress + (1.0 - progress) * count * per_sweep / left
        schedule = np.geomspace(beta(progress), beta(reach), count) if count > 1 else np.array([beta(reach)])
        spins, _ = simulated_annealing(
            len(current),
            field,
            starts,
            ends,
            couplings,
            1,
            schedule,
            int(seeds[calls % len(seeds)]),
            np.ascontiguousarray(2 * current - 1, np.int8),
        )
        per_sweep = max((time.perf_counter() - now) / count, 1e-9)
        current = (np.asarray(spins) > 0).astype(np.int8)
        energy = model.binary_energies(current)
        better = energy < best_energy
        best[better], best_energy[better] = current[better], energy[better]
        done, calls, progress = done + count, calls + 1, reach
        if sweeps is None and calls == 1 and copies > 1:
            affordable = int((deadline - time.perf_counter()) * copies / (per_sweep * MIN_SWEEPS))
            if affordable < copies:  # fewer, longer chains: keep each state's lowest ones
                kept = max(1, affordable)
                rows = (
                    np.argsort(best_energy.reshape(copies, reads), axis=0, kind="stable")[:kept] * reads + np.arange(reads)
                ).reshape(-1)
                best, best_energy, current = best[rows], best_energy[rows], current[rows]
                per_sweep, copies = per_sweep * kept / copies, kept
    winner = best_energy.reshape(copies, reads).argmin(axis=0)
    chosen = best[winner * reads + np.arange(reads)]
    return AnnealResult(chosen, done, calls, (beta(0.0), beta(progress)), copies)


def _ising_terms(model: CompiledBQM) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    r"""The model's spin form for the annealer, from :math:`x = (s + 1) / 2`: fields
    :math:`h_i / 2 + \sum_j J_{ij} / 4` and couplings :math:`J_{ij} / 4` on the same pairs
    (computed on arrays: through a dimod BQM it took 0.24 s on a complete graph of 2,000 variables)."""
    n = model.num_variables
    ends_sum = np.bincount(model.rows, model.quadratic, n) + np.bincount(model.cols, model.quadratic, n)
    field = np.asarray(model.linear, dtype=np.float64) / 2 + ends_sum / 4
    return (field, model.rows.astype(np.int32), model.cols.astype(np.int32), np.asarray(model.quadratic, dtype=np.float64) / 4)


def anneal_seconds(model: CompiledBQM, chains: int, sweeps: int | None) -> float:
    """Seconds that ``sweeps`` sweeps of ``chains`` chains usually take, generously: 1-3 ns per
    spin update (5 ns allowed) plus 1 ms per call of the annealer; 0 for ``sweeps=None`` (an
    anneal paced by the clock takes whatever time it is given)."""
    if sweeps is None:
        return 0.0
    updates = chains * sweeps * (model.num_variables + 2 * model.num_interactions)
    return 5e-9 * updates + 1e-3 * math.ceil(updates / CALL_UPDATES)


def default_beta_range(field: np.ndarray, starts: np.ndarray, ends: np.ndarray, couplings: np.ndarray) -> tuple[float, float]:
    r"""dwave-samplers' default inverse temperatures of an Ising model, computed on arrays.

    The same rule as ``dwave.samplers.sa.sampler.default_beta_range`` (whose loop over the
    interactions takes seconds on a dense model): hot, every spin flips with probability at
    least one half, :math:`\beta_h = \ln 2 / (2 \max_i F_i)` with :math:`F_i = |h_i| + \sum_j |J_{ij}|`;
    cold, an excitation on the last sweep has probability about 0.01,
    :math:`\beta_c = \ln(100\,k) / (2 f)`, where :math:`f` is the smallest non-zero bias (h or J)
    of any spin and :math:`k` the number of spins whose smallest is :math:`f`.

    Example:
        >>> import numpy as np
        >>> from gnnsolve.search.anneal import default_beta_range
        >>> hot, cold = default_beta_range(np.zeros(3), np.array([0, 1]), np.array([1, 2]), np.array([1.0, -1.0]))
        >>> round(hot, 4), round(cold, 4)
        (0.1733, 2.8519)
    """
    n = len(field)
    size = np.abs(np.asarray(couplings, dtype=np.float64))
    total = np.abs(field) + np.bincount(starts, size, n) + np.bincount(ends, size, n)
    smallest = np.where(field != 0, np.abs(field), np.inf)
    nonzero = size > 0
    for ends_ in (starts, ends):
        np.minimum.at(smallest, ends_[nonzero], size[nonzero])
    if not np.isfinite(smallest).any():
        return 0.1, 1.0  # no bias at all: dwave-samplers' arbitrary range
    peak = float(total.max())
    hot = math.log(2) / (2 * peak) if peak > 0 else 1.0
    least = float(smallest.min())
    return hot, math.log(np.count_nonzero(smallest == least) / 0.01) / (2 * least)
