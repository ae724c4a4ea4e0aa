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

The search holds one state, walked down each selected path by undoable contractions and back
(:meth:`~gnnsolve.search.contraction.ContractionEnv.undo`); a searched node keeps only its
children's statistics. With ``batch_size > 1`` a simulation gathers several leaves, each descent
leaving a virtual visit (no return) on its path so that the next turns elsewhere, and evaluates
their prior in one call of a :class:`BatchedPrior`; batches of one are the plain sequential search.

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
from typing import Any, Protocol, runtime_checkable

import numpy as np

from gnnsolve.search.contraction import ContractionEnv
from gnnsolve.search.multicut import _number_in_order

__all__ = ["PriorFunction", "BatchedPrior", "PlanResult", "plan", "greedy_policy"]

PriorFunction = Callable[[ContractionEnv], tuple[np.ndarray, np.ndarray, float]]
"""``env → (pairs, logits, value)``: the contractible pairs (representatives, ``m × 2``, any
order), one logit each, and an estimate of the reward still to earn from ``env`` (graph units).
:meth:`gnnsolve.nn.multicut.ContractionPolicy.evaluate` is one."""


@runtime_checkable
class BatchedPrior(Protocol):
    """A prior evaluated a batch of states at a time: :meth:`encode` reads a state while the search
    holds it (the state changes afterwards), :meth:`evaluate_batch` answers for several at once,
    each as a :data:`PriorFunction` would. :class:`gnnsolve.nn.multicut.ContractionPolicy` is one."""

    def encode(self, env: ContractionEnv) -> Any:
        """What :meth:`evaluate_batch` needs of ``env``, copied out of it."""

    def evaluate_batch(self, encoded: list[Any]) -> list[tuple[np.ndarray, np.ndarray, float]]:
        """``(pairs, logits, value)`` per encoded state, in order."""


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
    """A searched state: its children's statistics live in arrays on the parent. The state itself is
    not stored: the search reaches it by contracting the pairs on the path from the root."""

    __slots__ = ("pairs", "priors", "children", "counts", "returns", "visits", "total", "evaluated")

    def __init__(self) -> None:
        self.pairs = np.empty((0, 2), dtype=np.int64)
        self.children: list[_Node | None] = []
        self.visits = 0
        self.total = 0.0
        self.evaluated = False

    @property
    def terminal(self) -> bool:
        return len(self.pairs) == 0

    def expand(self, pairs: np.ndarray, logits: np.ndarray, top_k: int) -> None:
        keep = np.argsort(-logits, kind="stable")[:top_k]
        self.pairs = np.asarray(pairs, dtype=np.int64)[keep]
        kept = logits[keep] - logits[keep].max()
        self.priors = np.exp(kept) / np.exp(kept).sum()
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


@dataclass
class _Leaf:
    """A state reached by one descent: the path to it, as (parent, child index, normalised reward)."""

    node: _Node
    path: list[tuple[_Node, int, float]]
    rollout: float = 0.0  # the normalised reward of the GAEC rollout from it
    encoded: object = None  # the prior's input, until the batch is evaluated


class _Search:
    """One planning run: the prior, the settings and the best complete partition seen."""

    def __init__(
        self, prior: BatchedPrior, top_k: int, c_puct: float, value_weight: float, scale: float, batch_size: int
    ) -> None:
        self.prior, self.top_k, self.c_puct, self.value_weight, self.scale = prior, top_k, c_puct, value_weight, scale
        self.batch_size = batch_size
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

    def simulate(self, root: _Node, env: ContractionEnv) -> None:
        """One batch: up to ``batch_size`` descents from ``root`` (whose state ``env`` holds), each
        to a state not evaluated yet, a done state or one already claimed by this batch (the batch
        then ends); the new states' rollouts are run on the way, their prior is evaluated in one
        call, and the values are backed up. While a batch is gathered, each descent leaves a
        virtual visit (with no return) on its path, so that the next one turns elsewhere."""
        leaves: list[_Leaf] = []
        while len(leaves) < self.batch_size:
            leaf = self._descend(root, env)
            if leaf is None:
                break
            leaves.append(leaf)
            if self.batch_size > 1:
                for parent, i, _ in leaf.path:
                    parent.counts[i] += 1
                    parent.visits += 1
            if leaf.node is root:
                break
        if self.batch_size > 1:
            for leaf in leaves:
                for parent, i, _ in leaf.path:
                    parent.counts[i] -= 1
                    parent.visits -= 1
        waiting = [leaf for leaf in leaves if leaf.encoded is not None]
        answers = self.prior.evaluate_batch([leaf.encoded for leaf in waiting]) if waiting else []
        for leaf, (pairs, logits, estimate) in zip(waiting, answers):
            leaf.node.expand(pairs, np.asarray(logits, dtype=np.float64), self.top_k)
            if leaf.node.terminal:  # the prior offered no pair although the state is not done
                raise ValueError("the prior function returned no contractible pair for a state that is not done")
            leaf.rollout = (1.0 - self.value_weight) * leaf.rollout + self.value_weight * estimate / self.scale
        for leaf in leaves:
            self.simulations += 1
            self._backup(root, leaf)

    def _descend(self, root: _Node, env: ContractionEnv) -> _Leaf | None:
        """Walk from ``root`` to a leaf, evaluate it unless evaluated (done, or a rollout and the
        prior's input), and walk ``env`` back; ``None`` when the leaf is claimed by this batch."""
        path: list[tuple[_Node, int, float]] = []
        node = root
        try:
            while node.evaluated and not node.terminal:
                i = node.select(self.c_puct)
                a, b = node.pairs[i]
                path.append((node, i, env.contract(a, b, undoable=True) / self.scale))
                child = node.children[i]
                if child is None:
                    child = node.children[i] = _Node()
                elif not child.evaluated:  # claimed by an earlier descent of this batch
                    return None
                node = child
            leaf = _Leaf(node, path)
            if not node.evaluated:
                node.evaluated = True
                if env.done:
                    self.offer(env.assignment.copy(), env.cost)
                else:
                    assignment, cost = env.gaec_rollout()
                    if math.isnan(self.rollout_cost):
                        self.rollout_cost = cost
                    self.offer(assignment, cost)
                    leaf.rollout = (env.cost - cost) / self.scale
                    leaf.encoded = self.prior.encode(env)
            return leaf
        finally:
            for _ in path:
                env.undo()

    @staticmethod
    def _backup(root: _Node, leaf: _Leaf) -> None:
        value = leaf.rollout
        if not leaf.path:
            root.visits, root.total = root.visits + 1, root.total + value
            return
        if leaf.node.visits == 0:  # a new state counts its own evaluation
            leaf.node.visits, leaf.node.total = 1, value
        for parent, i, reward in reversed(leaf.path):
            value = reward + value
            parent.counts[i] += 1
            parent.returns[i] += value
            parent.visits += 1
            parent.total += value


class _FunctionPrior:
    """A :data:`PriorFunction` as a :class:`BatchedPrior`: evaluated as each state is encoded."""

    def __init__(self, prior: PriorFunction) -> None:
        self.prior = prior

    def encode(self, env: ContractionEnv) -> tuple[np.ndarray, np.ndarray, float]:
        return self.prior(env)

    def evaluate_batch(self, encoded: list) -> list[tuple[np.ndarray, np.ndarray, float]]:
        return encoded


def plan(
    env: ContractionEnv,
    prior: PriorFunction | BatchedPrior,
    *,
    simulations: int = 32,
    top_k: int = 8,
    c_puct: float = 1.25,
    value_weight: float = 0.0,
    temperature: float = 0.0,
    rng: np.random.Generator | None = None,
    time_limit: float | None = None,
    batch_size: int = 1,
) -> PlanResult:
    """Plan the contractions of ``env`` by MCTS (see the module docstring); ``env`` is not changed.

    Args:
        env: the start state, usually singletons.
        prior: the prior function, e.g. :meth:`gnnsolve.nn.multicut.ContractionPolicy.evaluate`,
            or a :class:`BatchedPrior` (the network itself), which evaluates a batch at once.
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
        time_limit: seconds; the search stops when its longest batch so far would overrun
            them (at the latest after the first), and the best complete partition so far is
            returned.
        batch_size: leaves gathered per batch under virtual visits, their prior evaluated in one
            call; 1 is the plain sequential search.

    A ``KeyboardInterrupt`` during the search stops it and returns the best complete partition
    so far with ``stop_reason="interrupted"``: ``env``'s own partition if it came before the
    first rollout ended (``rollout_cost`` is then ``nan``).

    Returns:
        A :class:`PlanResult`; its cost is at most ``rollout_cost``, GAEC's from ``env``.

    Raises:
        ValueError: a setting is out of range.
    """
    for name, value in (("simulations", simulations), ("top_k", top_k), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if not (math.isfinite(c_puct) and c_puct >= 0):
        raise ValueError(f"c_puct must be a finite non-negative number, got {c_puct!r}")
    if not 0.0 <= value_weight <= 1.0:
        raise ValueError(f"value_weight must lie in [0, 1], got {value_weight!r}")
    if not (math.isfinite(temperature) and temperature >= 0):
        raise ValueError(f"temperature must be a finite non-negative number, got {temperature!r}")
    if temperature > 0 and rng is None:
        raise ValueError("temperature > 0 draws the contractions: pass rng")
    clock = _Clock(time_limit)
    batched = prior if isinstance(prior, BatchedPrior) else _FunctionPrior(prior)
    search = _Search(batched, int(top_k), float(c_puct), float(value_weight), max(env.positive_weight, 1e-12), int(batch_size))
    state = env.copy()
    root = _Node()
    actions: list[tuple[int, int]] = []
    stop_reason = "done"
    try:
        search.simulate(root, state)
        clock.lap()
        while not root.terminal:
            if clock.out_of_time():
                stop_reason = "time_limit"
                break
            budget = simulations if len(root.pairs) > 1 else 1
            while root.visits < budget + 1:
                search.simulate(root, state)
                clock.lap()
                if clock.out_of_time():
                    break
            i = _commit(root, temperature, rng)
            actions.append((int(root.pairs[i][0]), int(root.pairs[i][1])))
            state.contract(*root.pairs[i])
            child = root.children[i]
            assert child is not None  # visited at least once, so created and evaluated
            root = child
            if root.terminal:
                search.offer(state.assignment.copy(), state.cost)
    except KeyboardInterrupt:
        stop_reason = "interrupted"
        if not search.seen:
            search.offer(env.assignment.copy(), env.cost)
    rollout_cost = env.cost if env.done else search.rollout_cost
    episode_cost = state.cost if state.done else math.nan
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
        assert rng is not None  # the caller checks that draws have a generator
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
            return PlanResult(
                labels=_number_in_order(assignment), cost=cost, actions=actions, episode_cost=cost, stop_reason="time_limit"
            )
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
