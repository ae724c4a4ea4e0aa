r"""Monte Carlo tree search over edge contractions, guided by a learned prior and GAEC rollouts.

The planner plays the episode of :class:`~gnnsolve.search.contraction.ContractionEnv`: from
singletons, contract adjacent clusters of positive weight until none is left; the return of an
episode is the total reward, the decrease of the multicut cost. At each step it runs
``simulations`` PUCT simulations (Silver et al. 2017) from the current state and commits the
most visited contraction; the subtree below it is kept for the next step.

- **Selection.** At a node with ``N`` visits, the child maximising
  :math:`\bar Q(a) + c_{\mathrm{puct}}\, P(a) \sqrt{N} / (1 + N(a))`, where :math:`Q(a)` is the
  mean return after contraction ``a`` (its reward plus the value below), min-max normalised over
  the node's children (unvisited children take the node's own mean return), and :math:`P` is
  the prior.
- **Expansion.** A new state is evaluated once: the prior function gives the logits of its
  contractible pairs; only the ``top_k`` most likely become children (softmax over them).
- **Evaluation.** The value of a leaf is the reward of finishing it greedily with GAEC
  (:meth:`~gnnsolve.search.contraction.ContractionEnv.gaec_rollout`), mixed with the prior
  function's value estimate by ``value_weight``. A state with nothing left to contract (done)
  is worth 0 and is never expanded.

Every rollout is a complete partition: the search keeps the cheapest one it has seen, the root's
own GAEC rollout (plain GAEC on the graph) included, and the committed episode's final state.
So :func:`plan` never returns a partition worse than GAEC, and a ``time_limit`` only shortens
the search: the best complete partition so far is returned; a ``KeyboardInterrupt`` (Ctrl-C)
stops it the same way, at once (``stop_reason="interrupted"``). It also returns every distinct
complete partition it saw, cheapest first (:attr:`PlanResult.candidates`): local search from
several of them finds more than from the best alone.

:func:`greedy_policy` plays the episode by the prior alone (the most likely contraction each step).

References:
    "Universal Spatial GNN-RL Planning for Active Edge Contraction Graph Partitioning".

    D. Silver et al., "Mastering the game of Go without human knowledge", Nature 550 (2017) (PUCT).

    M. Keuper, E. Levinkov, N. Bonneel, G. Lavoué, T. Brox and B. Andres, "Efficient
    Decomposition of Image and Mesh Graphs by Lifted Multicuts", ICCV 2015 (GAEC).

Example:
    >>> import networkx as nx
    >>> import numpy as np
    >>> from gnnsolve.search.contraction import ContractionEnv
    >>> from gnnsolve.search.mcts import plan
    >>> def by_weight(env):  # a prior without a network: the heavier the pair, the likelier
    ...     pairs = env.contractible_edges()
    ...     return pairs, env.weights[pairs[:, 0], pairs[:, 1]], 0.0
    >>> G = nx.Graph()
    >>> G.add_weighted_edges_from([(0, 1, 2), (1, 2, 2), (0, 2, 2), (3, 4, 2), (4, 5, 2), (3, 5, 2), (2, 3, -1)])
    >>> result = plan(ContractionEnv.from_graph(G), by_weight, simulations=8)
    >>> result.labels.tolist(), result.cost, result.rollout_cost
    ([0, 0, 0, 1, 1, 1], -1.0, -1.0)
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from gnnsolve.search.contraction import ContractionEnv
from gnnsolve.search.multicut import _number_in_order

__all__ = ["PriorFunction", "PlanResult", "plan", "greedy_policy"]

PriorFunction = Callable[[ContractionEnv], tuple[np.ndarray, np.ndarray, float]]
"""``env → (pairs, logits, value)``: the contractible pairs (representatives, ``m × 2``, any
order), one logit each, and an estimate of the reward still to earn from ``env`` (graph units).
:meth:`gnnsolve.nn.multicut.ContractionPolicy.evaluate` is one."""


@dataclass
class PlanResult:
    """What :func:`plan` or :func:`greedy_policy` found.

    Attributes:
        labels: the best complete partition, each node's cluster numbered ``0..c-1`` in node order.
        cost: its multicut cost.
        actions: the contractions committed by the episode, as representative pairs (the
            returned partition may instead be a rollout that branched off it).
        rollout_cost: the cost of GAEC from the start state (``nan`` for :func:`greedy_policy`).
        episode_cost: the cost of the committed episode's final state.
        simulations: simulations run in all.
        stop_reason: ``"done"``, ``"time_limit"`` or, for :func:`plan`, ``"interrupted"``.
        candidates: every distinct complete partition the search saw (rollouts and the episode's
            end), cheapest first (ties in the order seen), numbered as ``labels``; the first is
            ``labels``. Empty for :func:`greedy_policy`.
    """

    labels: np.ndarray
    cost: float
    actions: list[tuple[int, int]] = field(default_factory=list)
    rollout_cost: float = math.nan
    episode_cost: float = math.nan
    simulations: int = 0
    stop_reason: str = "done"
    candidates: list[np.ndarray] = field(default_factory=list)


class _Node:
    """A searched state: its children's statistics live in arrays on the parent."""

    __slots__ = ("env", "pairs", "priors", "rewards", "children", "counts", "returns", "visits", "total")

    def __init__(self, env: ContractionEnv) -> None:
        self.env = env
        self.pairs = np.empty((0, 2), dtype=np.int64)
        self.children: list[_Node | None] = []
        self.visits = 0
        self.total = 0.0

    @property
    def terminal(self) -> bool:
        return len(self.pairs) == 0

    def expand(self, pairs: np.ndarray, logits: np.ndarray, top_k: int, scale: float) -> None:
        keep = np.argsort(-logits, kind="stable")[:top_k]
        self.pairs = np.asarray(pairs, dtype=np.int64)[keep]
        kept = logits[keep] - logits[keep].max()
        self.priors = np.exp(kept) / np.exp(kept).sum()
        self.rewards = self.env.weights[self.pairs[:, 0], self.pairs[:, 1]] / scale
        self.children = [None] * len(keep)
        self.counts = np.zeros(len(keep))
        self.returns = np.zeros(len(keep))

    def select(self, c_puct: float) -> int:
        visited = self.counts > 0
        mean = self.total / self.visits if self.visits else 0.0
        q = np.where(visited, self.returns / np.maximum(self.counts, 1), mean)
        low, high = q.min(), q.max()
        q = (q - low) / (high - low) if high > low else np.zeros_like(q)
        return int(np.argmax(q + c_puct * self.priors * math.sqrt(max(self.visits, 1)) / (1 + self.counts)))


class _Search:
    """One planning run: the prior, the settings and the best complete partition seen."""

    def __init__(self, prior: PriorFunction, top_k: int, c_puct: float, value_weight: float, scale: float) -> None:
        self.prior, self.top_k, self.c_puct, self.value_weight, self.scale = prior, top_k, c_puct, value_weight, scale
        self.seen: dict[bytes, tuple[float, np.ndarray]] = {}
        self.rollout_cost = math.nan
        self.simulations = 0

    def offer(self, assignment: np.ndarray, cost: float) -> None:
        labels = _number_in_order(assignment)
        self.seen.setdefault(labels.tobytes(), (cost, labels))

    def ranked(self) -> list[tuple[float, np.ndarray]]:
        """The distinct partitions seen with their costs, cheapest first (a stable sort keeps the
        order seen among ties)."""
        return sorted(self.seen.values(), key=lambda entry: entry[0])

    def evaluate(self, node: _Node) -> float:
        """Expand ``node`` and return its value (normalised reward still to earn)."""
        env = node.env
        if env.done:
            self.offer(env.assignment.copy(), env.cost)
            return 0.0
        assignment, cost = env.gaec_rollout()
        if math.isnan(self.rollout_cost):
            self.rollout_cost = cost
        self.offer(assignment, cost)
        value = (env.cost - cost) / self.scale
        pairs, logits, estimate = self.prior(env)
        node.expand(pairs, np.asarray(logits, dtype=np.float64), self.top_k, self.scale)
        if node.terminal:  # the prior offered no pair although the state is not done
            raise ValueError("the prior function returned no contractible pair for a state that is not done")
        return (1.0 - self.value_weight) * value + self.value_weight * estimate / self.scale

    def simulate(self, root: _Node) -> None:
        self.simulations += 1
        path: list[tuple[_Node, int]] = []
        node = root
        while True:
            if node.visits == 0 and not path:
                value = self.evaluate(node)
                break
            if node.terminal:
                value = 0.0
                break
            i = node.select(self.c_puct)
            path.append((node, i))
            child = node.children[i]
            if child is None:
                env = node.env.copy()
                env.contract(*node.pairs[i])
                child = node.children[i] = _Node(env)
                value = self.evaluate(child)
                child.visits, child.total = 1, value
                break
            node = child
        if not path:
            root.visits, root.total = root.visits + 1, root.total + value
        for parent, i in reversed(path):
            value = parent.rewards[i] + value
            parent.counts[i] += 1
            parent.returns[i] += value
            parent.visits += 1
            parent.total += value


def plan(
    env: ContractionEnv,
    prior: PriorFunction,
    *,
    simulations: int = 32,
    top_k: int = 8,
    c_puct: float = 1.25,
    value_weight: float = 0.0,
    temperature: float = 0.0,
    rng: np.random.Generator | None = None,
    time_limit: float | None = None,
) -> PlanResult:
    """Plan the contractions of ``env`` by MCTS (see the module docstring); ``env`` is not changed.

    Args:
        env: the start state, usually singletons.
        prior: the prior function, e.g. :meth:`gnnsolve.nn.multicut.ContractionPolicy.evaluate`.
        simulations: visits of the current state before each commitment (those inherited from the
            previous step's search count); each new visit expands one state, one prior call and
            one GAEC rollout. A state with a single contractible pair is committed at once.
        top_k: children kept per state, the most likely under the prior.
        c_puct: weight of the prior against the normalised returns.
        value_weight: share of the prior function's value estimate in a leaf's value (the rest is
            the GAEC rollout's reward).
        temperature: 0 commits the most visited contraction; above 0 draws it with probability
            proportional to ``visits ** (1 / temperature)`` from ``rng``.
        rng: the generator of those draws (needed when ``temperature > 0``).
        time_limit: seconds; the search stops when its longest simulation so far would overrun
            them (at the latest after the first), and the best complete partition so far is
            returned.

    A ``KeyboardInterrupt`` during the search stops it and returns the best complete partition
    so far with ``stop_reason="interrupted"``: ``env``'s own partition if it came before the
    first rollout ended (``rollout_cost`` is then ``nan``).

    Returns:
        A :class:`PlanResult`; its cost is at most ``rollout_cost``, GAEC's from ``env``.

    Raises:
        ValueError: a setting is out of range.
    """
    if isinstance(simulations, bool) or not isinstance(simulations, (int, np.integer)) or simulations < 1:
        raise ValueError(f"simulations must be a positive integer, got {simulations!r}")
    if isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer)) or top_k < 1:
        raise ValueError(f"top_k must be a positive integer, got {top_k!r}")
    if not (math.isfinite(c_puct) and c_puct >= 0):
        raise ValueError(f"c_puct must be a finite non-negative number, got {c_puct!r}")
    if not 0.0 <= value_weight <= 1.0:
        raise ValueError(f"value_weight must lie in [0, 1], got {value_weight!r}")
    if not (math.isfinite(temperature) and temperature >= 0):
        raise ValueError(f"temperature must be a finite non-negative number, got {temperature!r}")
    if temperature > 0 and rng is None:
        raise ValueError("temperature > 0 draws the contractions: pass rng")
    clock = _Clock(time_limit)
    search = _Search(prior, int(top_k), float(c_puct), float(value_weight), max(env.positive_weight, 1e-12))
    root = _Node(env.copy())
    actions: list[tuple[int, int]] = []
    stop_reason = "done"
    try:
        search.simulate(root)
        clock.lap()
        while not root.terminal:
            if clock.out_of_time():
                stop_reason = "time_limit"
                break
            budget = simulations if len(root.pairs) > 1 else 1
            while root.visits < budget + 1:
                search.simulate(root)
                clock.lap()
                if clock.out_of_time():
                    break
            i = _commit(root, temperature, rng)
            actions.append((int(root.pairs[i][0]), int(root.pairs[i][1])))
            root = root.children[i]  # visited at least once, so expanded
            if root.terminal:
                search.offer(root.env.assignment.copy(), root.env.cost)
    except KeyboardInterrupt:
        stop_reason = "interrupted"
        if not search.seen:
            search.offer(env.assignment.copy(), env.cost)
    rollout_cost = env.cost if env.done else search.rollout_cost
    episode_cost = root.env.cost if root.env.done else math.nan
    ranked = search.ranked()
    return PlanResult(
        labels=ranked[0][1],
        cost=ranked[0][0],
        actions=actions,
        rollout_cost=rollout_cost,
        episode_cost=episode_cost,
        simulations=search.simulations,
        stop_reason=stop_reason,
        candidates=[labels for _, labels in ranked],
    )


class _Clock:
    """The deadline of a run, counted as passed as soon as the longest step so far would overrun it."""

    def __init__(self, time_limit: float | None) -> None:
        self.mark = time.perf_counter()
        self.deadline = None if time_limit is None else self.mark + time_limit
        self.longest = 0.0

    def lap(self) -> None:
        """End a step (begun at the previous lap, or at the start)."""
        now = time.perf_counter()
        self.longest = max(self.longest, now - self.mark)
        self.mark = now

    def out_of_time(self) -> bool:
        return self.deadline is not None and time.perf_counter() + self.longest >= self.deadline


def _commit(root: _Node, temperature: float, rng: np.random.Generator | None) -> int:
    """The child to commit: the most visited (ties: the higher mean return), or drawn by visits;
    either way one visited at least once."""
    if temperature > 0:
        weights = root.counts ** (1.0 / temperature)
        return int(rng.choice(len(weights), p=weights / weights.sum()))
    mean = root.returns / np.maximum(root.counts, 1)
    return int(np.lexsort((-mean, -root.counts))[0])


def greedy_policy(
    env: ContractionEnv,
    prior: PriorFunction,
    *,
    rng: np.random.Generator | None = None,
    time_limit: float | None = None,
) -> PlanResult:
    """Play the episode by the prior alone: the most likely contraction each step, or, with
    ``rng``, one drawn from the softmax of the logits. ``env`` is not changed.

    With ``time_limit`` (seconds), an episode whose next step would take it past three quarters
    of ``time_limit`` (judged by its longest step so far) is finished by GAEC instead, in the
    rest (:meth:`~gnnsolve.search.contraction.ContractionEnv.gaec_rollout`, on the graph
    contracted so far, as far as it gets by the deadline), with ``stop_reason="time_limit"``.

    Example:
        >>> import networkx as nx
        >>> from gnnsolve.search.contraction import ContractionEnv
        >>> from gnnsolve.search.mcts import greedy_policy
        >>> def by_weight(env):
        ...     pairs = env.contractible_edges()
        ...     return pairs, env.weights[pairs[:, 0], pairs[:, 1]], 0.0
        >>> G = nx.Graph([(0, 1, {"weight": 3.0}), (1, 2, {"weight": 1.0}), (0, 2, {"weight": -2.0})])
        >>> result = greedy_policy(ContractionEnv.from_graph(G), by_weight)
        >>> result.labels.tolist(), result.cost, result.actions
        ([0, 0, 1], -1.0, [(0, 1)])
    """
    clock = _Clock(None if time_limit is None else 0.75 * time_limit)
    deadline = None if time_limit is None else clock.mark + time_limit
    env = env.copy()
    actions: list[tuple[int, int]] = []
    while not env.done:
        if clock.out_of_time():
            assignment, cost = env.gaec_rollout(deadline)
            return PlanResult(labels=_number_in_order(assignment), cost=cost, actions=actions, episode_cost=cost,
                              stop_reason="time_limit")
        pairs, logits, _ = prior(env)
        logits = np.asarray(logits, dtype=np.float64)
        if len(pairs) == 0:
            raise ValueError("the prior function returned no contractible pair for a state that is not done")
        if rng is None:
            i = int(np.argmax(logits))
        else:
            p = np.exp(logits - logits.max())
            i = int(rng.choice(len(p), p=p / p.sum()))
        a, b = int(pairs[i][0]), int(pairs[i][1])
        env.contract(a, b)
        actions.append((a, b))
        clock.lap()
    return PlanResult(labels=_number_in_order(env.assignment), cost=env.cost, actions=actions, episode_cost=env.cost)
