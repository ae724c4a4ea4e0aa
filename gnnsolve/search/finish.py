r"""The learned samplers' ``polish="sa"`` finisher: anneal, kick where it pays, descend.

From given 0/1 states (a network's rounded outputs, or random ones for comparison):

1. simulated annealing from each state, :data:`CHAINS` chains in all
   (:func:`gnnsolve.search.anneal.anneal`), for a number of sweeps or paced by the clock;
2. on models small enough (:func:`kick_rounds`), iterated local search from the annealed
   states (:func:`gnnsolve.search.kicks.kick`), :data:`CHAINS` searches in all, in the last
   :data:`KICK_SHARE` of the time or for a fixed number of rounds. This is what makes penalty
   models work: on a 60-item knapsack QUBO (``dimod.cqm_to_bqm``) the anneal alone packed
   0.79 of the optimum in 10 s, the anneal and kicks the optimum;
3. a descent to single-flip local minima (:func:`gnnsolve.search.descent.descend`).

Example:
    >>> import time, dimod, numpy as np
    >>> from gnnsolve.qubo import CompiledBQM
    >>> from gnnsolve.search.finish import finish_states
    >>> bqm, _ = dimod.cqm_to_bqm(dimod.generators.random_knapsack(12, seed=3))
    >>> model = CompiledBQM(bqm)
    >>> start = np.zeros((1, model.num_variables), dtype=np.int8)
    >>> states, done = finish_states(model, start, time.perf_counter() + 5, sweeps=100, seed=0)
    >>> sorted(done), done["kick_rounds"] > 0
    (['beta_range', 'chains', 'complete', 'flips', 'kick_rounds', 'kicks_kept', 'rounds', 'sweeps'], True)
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from gnnsolve.qubo import CompiledBQM
from gnnsolve.search.anneal import anneal, anneal_seconds
from gnnsolve.search.descent import descend
from gnnsolve.search.kicks import kick, kick_seconds, rounds_for

__all__ = ["finish_states", "finish_seconds", "kick_rounds", "chains_per_state", "CHAINS", "KICK_SHARE"]

CHAINS = 16
"""Annealing chains (and kick searches) in all: each state starts ``ceil(CHAINS / states)`` of
them and keeps the best (fewer annealing chains where a time limit would give each too few
sweeps, :data:`gnnsolve.search.anneal.MIN_SWEEPS`)."""

KICK_SHARE = 0.5
"""The share of the finisher's time, paced by the clock, that goes to kicks after the anneal,
on models where they fit (:func:`kick_rounds`)."""


def chains_per_state(states: int) -> int:
    """Chains started from each of ``states`` states: :data:`CHAINS` shared out, at least one."""
    return -(-CHAINS // states)


def kick_rounds(model: CompiledBQM, chains: int, sweeps: int | None, budget: float) -> int | None:
    """Rounds of kicks after the anneal: 0 where they do not pay, ``None`` for kicks until the
    deadline, in the last :data:`KICK_SHARE` of the finisher's time.

    Kicks run where :func:`~gnnsolve.search.kicks.kick_seconds` (the time of
    :func:`~gnnsolve.search.kicks.rounds_for`'s rounds, by estimate) is at most
    :data:`KICK_SHARE` of ``budget``: paced by the clock (``sweeps=None``), ``budget`` is the
    finisher's time and a quarter of those rounds must fit (the kicks then run to the deadline);
    with a number of sweeps it is the call's whole budget and all of them must fit, so the
    choice depends on the model's size only and the result stays reproducible. On a 2-core
    machine at 10 s this takes in knapsack QUBOs of hundreds of items and G-set graphs of 800
    nodes, and leaves out models of 2,000 variables or more.
    """
    if sweeps is None:
        return None if kick_seconds(model, chains) <= 4 * KICK_SHARE * budget else 0
    return rounds_for(model, chains) if kick_seconds(model, chains) <= KICK_SHARE * budget else 0


def finish_seconds(model: CompiledBQM, states: int, sweeps: int | None, budget: float) -> float:
    """Seconds the anneal and kicks of :func:`finish_states` usually take from ``states`` states
    with a number of ``sweeps`` (by estimate; ``budget`` as for :func:`kick_rounds`), 0 when
    they are paced by the clock and take whatever time is left."""
    if sweeps is None:
        return 0.0
    chains = chains_per_state(states) * states
    seconds = anneal_seconds(model, chains, sweeps)
    return seconds + (kick_seconds(model, chains) if kick_rounds(model, chains, sweeps, budget) else 0.0)


def finish_states(
    model: CompiledBQM,
    states: np.ndarray,
    deadline: float,
    *,
    sweeps: int | None = None,
    budget: float | None = None,
    seed: int | None = None,
    after: float = 0.0,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Anneal, kick (where :func:`kick_rounds` says so) and descend each 0/1 state of ``model``.

    Args:
        model: the compiled model.
        states: 0/1 starting states, shape ``[reads, n]``.
        deadline: a ``time.perf_counter()`` value by which everything ends.
        sweeps: sweeps per annealing chain, or ``None`` to anneal and kick until the deadline
            (which must then be finite).
        budget: with ``sweeps``, the seconds of the whole call that :func:`kick_rounds`
            judges the kicks by (default: until ``deadline``).
        seed: seed of the anneal; the kicks take the next one.
        after: seconds before ``deadline`` by which the anneal and kicks end, kept for the
            descent (and whatever the caller does after).

    Returns:
        The finished states, one per input state and never worse than it, and what was done:
        ``chains``, ``sweeps`` and ``beta_range`` of the anneal, ``kick_rounds`` and
        ``kicks_kept`` where kicks ran, and the descent's ``rounds``, ``flips`` and ``complete``.
    """
    copies = chains_per_state(len(states))
    end = deadline - after
    window = end - time.perf_counter()
    rounds = kick_rounds(model, copies * len(states), sweeps, window if budget is None or sweeps is None else budget)
    anneal_end = end if rounds == 0 or sweeps is not None else end - KICK_SHARE * window
    result = anneal(model, states, anneal_end, sweeps=sweeps, copies=copies, seed=seed)
    done: dict[str, Any] = {"chains": result.copies * len(states), "sweeps": result.sweeps, "beta_range": result.beta_range}
    finished = result.states
    if rounds != 0:
        kicked = kick(model, finished, end, rounds=rounds, copies=copies, seed=None if seed is None else seed + 1)
        finished = kicked.states
        done.update(kick_rounds=kicked.rounds, kicks_kept=kicked.accepted)
    descended = descend(model, finished, deadline)
    done.update(rounds=descended.rounds, flips=descended.flips, complete=descended.complete)
    return descended.states, done
