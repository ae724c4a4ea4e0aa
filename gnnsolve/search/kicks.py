r"""Iterated local search: kick each state a few flips away, descend, keep it if not worse.

The last phase of the learned samplers' ``polish="sa"`` finisher, after the anneal, on models
small enough for it (:func:`kick_seconds`). Each round flips one to :data:`MOST_FLIPS` random
variables of every state (the same number for all states in a round), descends every kicked
state to a single-flip local minimum (:class:`gnnsolve.search.descent.Landscape`) and keeps it
where its energy is not higher than the state it came from, so a state drifts along plateaus
and never gets worse (Lourenço, Martin, Stützle, "Iterated local search", Handbook of
Metaheuristics, 2003).

Why it follows the anneal: on a penalty model the anneal cannot cross from one feasible state
to a better one. In a knapsack QUBO from ``dimod.cqm_to_bqm`` every feasible state is a
single-flip local minimum walled in by the penalty (taking an item out must change several
slack bits at once), and at the temperatures where the anneal crosses those walls it cannot
see the values of the items. A kick takes an item in or out and the descent that follows
re-balances the slack bits. Measured on ``random_knapsack`` QUBOs (seed 0, 16 chains, 2-core
machine): after 2 s of annealing from random states the best packings were 0.79-0.81 of the
optimum (60, 100, 200 and 400 items); 0.3 s of kicks from them reached 1.000 (60 items),
0.991 (100), 0.984 (200); 3 s reached 1.000, 1.000, 0.9996 and 0.997 (400). On MaxCut (G14)
and a Chimera spin glass, halving the anneal to make room for kicks changed the cut by under
0.05 %: there the anneal does the work and the kicks neither help nor hurt.

Example:
    >>> import dimod, numpy as np
    >>> from gnnsolve.qubo import CompiledBQM
    >>> from gnnsolve.search.kicks import kick
    >>> bqm, _ = dimod.cqm_to_bqm(dimod.generators.random_knapsack(12, seed=3))
    >>> model = CompiledBQM(bqm)
    >>> start = np.zeros((4, model.num_variables), dtype=np.int8)
    >>> result = kick(model, start, rounds=200, seed=0)
    >>> bool((model.binary_energies(result.states) <= model.binary_energies(start)).all()), result.rounds
    (True, 200)
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from gnnsolve.qubo import CompiledBQM
from gnnsolve.search.descent import Landscape, sequential

__all__ = ["KickResult", "kick", "round_seconds", "rounds_for", "kick_seconds", "MOST_FLIPS", "COVER"]

MOST_FLIPS = 3
"""Most variables a kick flips; each round draws the number from 1 to this, uniformly."""

COVER = 200
"""Kicks per variable, summed over all states, of a search with a fixed number of rounds
(:func:`rounds_for`). On the knapsacks above the 400-item one needed about 100 per chain-state
pair to reach 0.997 of the optimum, the 60-item one about 15."""


@dataclass(frozen=True)
class KickResult:
    """What :func:`kick` returns.

    Attributes:
        states: the best state each search reached, one row per input state (single-flip
            local minima unless the deadline stopped the first descent).
        rounds: rounds of kicks made.
        accepted: kicked states kept (not worse than before), over all states and rounds.
        complete: ``rounds`` were all made (``False`` when the deadline came first).
    """

    states: np.ndarray
    rounds: int
    accepted: int
    complete: bool


def kick(
    model: CompiledBQM,
    states: np.ndarray,
    deadline: float = math.inf,
    *,
    rounds: int | None = None,
    copies: int = 1,
    seed: int | None = None,
) -> KickResult:
    """Iterated local search from each 0/1 state of ``model``, for ``rounds`` or until ``deadline``.

    Args:
        model: the compiled model.
        states: 0/1 starting states, shape ``[reads, n]``; each is descended first.
        deadline: a ``time.perf_counter()`` value after which no round starts.
        rounds: rounds of kicks, or ``None`` to kick until ``deadline`` (which must then be
            finite). With a number the result depends only on ``seed``, unless the deadline
            comes first.
        copies: searches started from each state (their kicks differ); the best state of
            its searches is returned for each.
        seed: seed of the kicks.

    Returns:
        A :class:`KickResult`; its states are never worse than the inputs.
    """
    if rounds is None and deadline == math.inf:
        raise ValueError("kick needs a number of rounds or a finite deadline")
    if rounds is not None and (isinstance(rounds, bool) or not isinstance(rounds, (int, np.integer)) or rounds < 0):
        raise ValueError(f"rounds must be a non-negative integer, got {rounds!r}")
    if isinstance(copies, bool) or not isinstance(copies, (int, np.integer)) or copies < 1:
        raise ValueError(f"copies must be a positive integer, got {copies!r}")
    reads = len(np.atleast_2d(states))
    x = np.tile(np.atleast_2d(np.array(states, dtype=np.int8)), (copies, 1))  # search c of state i: row c * reads + i
    n = model.num_variables
    if n == 0 or reads == 0:
        return KickResult(x[:reads], 0, 0, True)
    landscape = Landscape(model)
    field = landscape.fields(x)
    landscape.descend(x, field, deadline)
    energy = model.binary_energies(x)
    generator = np.random.default_rng(seed)
    chains = np.arange(len(x))
    flips = min(MOST_FLIPS, n)
    made = accepted = 0
    while (rounds is None or made < rounds) and time.perf_counter() < deadline:
        count = int(generator.integers(1, flips + 1))
        chosen = generator.random((len(x), n)).argpartition(count - 1, axis=1)[:, :count]
        trial, trial_field = x.copy(), field.copy()
        landscape.flip(trial, trial_field, np.repeat(chains, count), chosen.reshape(-1))
        if not landscape.descend(trial, trial_field, deadline).complete:
            break  # a kicked state not yet at its local minimum is not compared
        trial_energy = model.binary_energies(trial)
        keep = trial_energy <= energy
        x[keep], field[keep], energy[keep] = trial[keep], trial_field[keep], trial_energy[keep]
        made, accepted = made + 1, accepted + int(keep.sum())
    winner = energy.reshape(copies, reads).argmin(axis=0)
    return KickResult(x[winner * reads + np.arange(reads)], made, accepted, rounds is not None and made >= rounds)


def round_seconds(model: CompiledBQM, chains: int) -> float:
    """Seconds a round of kicks of ``chains`` states usually takes, generously.

    A round is a few descent steps from the kicked states: about 0.3 ms of fixed cost, plus
    10 ns per variable and interaction end of each state (a round of parallel flips touches
    them all) or, on dense models where each step flips one variable per state, 100 ns per
    variable of each state. Measured: 0.5 ms on a 60-item knapsack QUBO, 1 ms at 400 items,
    2 ms on G14, 2.7 ms on a 2,048-spin Chimera spin glass (16 states each).
    """
    if sequential(model):
        return 3e-4 + 1e-7 * chains * model.num_variables
    return 3e-4 + 1e-8 * chains * (model.num_variables + 2 * model.num_interactions)


def rounds_for(model: CompiledBQM, chains: int) -> int:
    """Rounds that kick each variable :data:`COVER` times, summed over ``chains`` states."""
    return math.ceil(COVER * model.num_variables / (chains * (1 + MOST_FLIPS) / 2))


def kick_seconds(model: CompiledBQM, chains: int) -> float:
    """Seconds that :func:`rounds_for`'s rounds usually take, by :func:`round_seconds`."""
    return rounds_for(model, chains) * round_seconds(model, chains)
