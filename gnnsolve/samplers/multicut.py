"""``MulticutSampler``: signed graph partitioning by GNN-guided edge contraction with MCTS.

Implements the planner of "Universal Spatial GNN-RL Planning for Active Edge Contraction Graph
Partitioning": a multicut is built from singletons by contracting adjacent clusters
(:class:`~gnnsolve.search.contraction.ContractionEnv`), each contraction earning the decrease
of the cut cost; a graph neural network (:class:`~gnnsolve.nn.multicut.ContractionPolicy`)
proposes contractions and a Monte Carlo tree search with GAEC rollouts
(:func:`~gnnsolve.search.mcts.plan`) chooses among them; Kernighan–Lin with joins
(:func:`~gnnsolve.search.multicut.kernighan_lin_joins`) refines the result.

Methods (``method=``):

- ``"mcts"``: the tree search, then KLj from each of the ``refine`` cheapest distinct partitions
  the search saw (its rollouts are complete partitions); GAEC followed by KLj and the network's
  greedy episode followed by KLj are computed too and the cheapest of all is returned, so
  ``"mcts"`` is never worse than ``"gaec+kl"`` or ``"greedy-policy"`` on the same graph;
- ``"greedy-policy"``: the network alone, its most likely contraction at each step (further
  reads draw contractions from its softmax); no refinement;
- ``"gaec"`` and ``"gaec+kl"``: the classical references (Keuper et al. 2015), deterministic.

The sampler takes the graph (:meth:`MulticutSampler.sample`) or the edge form of the problem, the
CQM with one BINARY ``("cut", u, v)`` per pair that :attr:`Multicut.cqm
<gnnsolve.adapters.multicut.Multicut.cqm>` builds (:meth:`MulticutSampler.sample_cqm`), so that
it replaces an exact CQM sampler by one word.

The network shipped in ``gnnsolve/data/multicut_policy.pt`` was trained by
:mod:`gnnsolve.train_multicut` on random signed graphs (Erdős–Rényi and Barabási–Albert, 20–100
nodes, exact targets up to 40); ``checkpoint=`` loads another.

Example:
    >>> import networkx as nx
    >>> from gnnsolve.adapters.multicut import Multicut
    >>> from gnnsolve.samplers.multicut import MulticutSampler
    >>> G = nx.Graph()
    >>> G.add_weighted_edges_from([(0, 1, 2), (1, 2, 2), (0, 2, 2), (3, 4, 2), (4, 5, 2), (3, 5, 2), (2, 3, -1)])
    >>> sampleset = MulticutSampler().sample(Multicut(G), seed=0, simulations=8)
    >>> {v: int(c) for v, c in sampleset.first.sample.items()}, float(sampleset.first.energy)
    ({0: 0, 1: 0, 2: 0, 3: 1, 4: 1, 5: 1}, -1.0)
    >>> sampleset.vartype.name, sampleset.info["method"], float(sampleset.info["reference_cost"])
    ('INTEGER', 'mcts', -1.0)
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import dimod
import networkx as nx
import numpy as np
import torch

from gnnsolve.adapters.multicut import Multicut
from gnnsolve.errors import InvalidModelError, UnsupportedModelError
from gnnsolve.nn.multicut import ContractionPolicy, load_policy
from gnnsolve.samplers._common import Stopwatch, check_positive_int, check_time_limit, seed_generator
from gnnsolve.samplers._torch import resolve_device
from gnnsolve.search.contraction import ContractionEnv
from gnnsolve.search.mcts import greedy_policy, plan
from gnnsolve.search.multicut import SignedGraph, _gaec, _kernighan_lin_joins

__all__ = ["MulticutSampler", "METHODS"]

METHODS = ("mcts", "greedy-policy", "gaec", "gaec+kl")


class MulticutSampler(dimod.Sampler):
    """Multicut by GNN-guided edge contraction with MCTS (see the module docstring).

    Args:
        device: where the network runs, ``"cpu"`` or ``"cuda"``. It evaluates one small state
            at a time, for which the CPU is usually the faster.

    Example:
        >>> import networkx as nx
        >>> from gnnsolve.samplers.multicut import MulticutSampler
        >>> G = nx.Graph([(0, 1, {"weight": 4}), (1, 2, {"weight": -3}), (2, 3, {"weight": 4})])
        >>> sampleset = MulticutSampler().sample(G, method="gaec+kl")
        >>> {v: int(c) for v, c in sampleset.first.sample.items()}, float(sampleset.first.energy)
        ({0: 0, 1: 0, 2: 1, 3: 1}, -3.0)
    """

    parameters: dict[str, list] = {}
    properties: dict[str, Any] = {}

    def __init__(self, device: str | torch.device = "cpu") -> None:
        self.device = resolve_device(device)
        self._networks: dict[str | None, tuple[ContractionPolicy, dict]] = {}
        self.parameters = {key: [] for key in (
            "method", "num_reads", "seed", "time_limit", "simulations", "top_k", "refine", "value_weight", "checkpoint",
            "weight")}
        self.properties = {
            "methods": METHODS,
            "problems": (Multicut,),
            "paper": "Universal Spatial GNN-RL Planning for Active Edge Contraction Graph Partitioning",
        }

    def network(self, checkpoint: str | os.PathLike | None = None) -> tuple[ContractionPolicy, dict]:
        """The policy network of ``checkpoint`` (``None``: the shipped one) and its training record,
        loaded once per sampler.

        Raises:
            FileNotFoundError: ``checkpoint`` does not exist.
            FileFormatError: it is not a checkpoint of the policy network.
        """
        key = None if checkpoint is None else os.fspath(checkpoint)
        if key not in self._networks:
            net, record = load_policy(checkpoint)
            self._networks[key] = (net.to(self.device), record)
        return self._networks[key]

    def sample(
        self,
        problem: Multicut | nx.Graph,
        *,
        method: str = "mcts",
        num_reads: int = 1,
        seed: int | None = None,
        time_limit: float | None = None,
        simulations: int = 32,
        top_k: int = 8,
        refine: int = 128,
        value_weight: float = 0.0,
        checkpoint: str | os.PathLike | None = None,
        weight: str | None = "weight",
        **kwargs: Any,
    ) -> dimod.SampleSet:
        """Partition the graph; one row per read.

        Args:
            problem: a :class:`~gnnsolve.adapters.multicut.Multicut`, or an undirected networkx
                graph whose edges carry ``weight`` (positive: attract, negative: repel). The
                edge form, a CQM, goes to :meth:`sample_cqm`.
            method: ``"mcts"``, ``"greedy-policy"``, ``"gaec"`` or ``"gaec+kl"``.
            num_reads: reads; the first of ``"mcts"`` commits the most visited contraction at
                each step and the first of ``"greedy-policy"`` the most likely one, further reads
                draw them (by visits, by the softmax) from ``seed``. The GAEC methods are
                deterministic and repeat their one answer.
            seed: seed of those draws; the same seed gives the same samples.
            time_limit: seconds for ``"mcts"``, shared evenly by the reads, half of a read's
                share for the search and the rest for refining: when the search's half runs out
                it returns the partitions it has seen (at worst GAEC's), and refinement stops
                when the share is spent (after the best candidate at least). The other methods
                take milliseconds and do not check it.
            simulations: MCTS simulations per committed contraction.
            top_k: MCTS children kept per state, the most likely under the network.
            refine: ``"mcts"`` refines, with KLj, the ``refine`` cheapest distinct partitions its
                search saw (rollouts included) and keeps the best.
            value_weight: share of the network's value head in the value of an MCTS leaf, the
                rest being the reward of a GAEC rollout from it (in ``[0, 1]``).
            checkpoint: a checkpoint file of the network; ``None`` for the shipped one.
            weight: the edge attribute holding the weight, for a networkx graph.

        Returns:
            A SampleSet over the nodes with INTEGER cluster labels numbered ``0..c-1`` in node
            order and energy the exact cut cost (:meth:`Multicut.evaluate`). ``info`` holds
            ``timing`` (ns), ``method``, and for ``"mcts"``: ``reference_cost`` (GAEC + KLj),
            ``policy_cost`` (the greedy episode of the network, before KLj), and per read
            ``rollout_cost`` (GAEC), ``search_cost`` (best partition the search saw, before KLj),
            ``simulations``, ``refined`` (partitions refined by KLj) and ``stop_reason``
            (``"done"`` or ``"time_limit"``).

        Raises:
            InvalidModelError: as :class:`~gnnsolve.adapters.multicut.Multicut` (a NaN or
                infinite weight, a directed or empty graph).
            UnsupportedModelError: ``problem`` is neither a multicut nor a graph (a dimod model,
                for instance: the message says to call :meth:`sample_cqm` or to pass ``Multicut(G)``).
            FileNotFoundError, FileFormatError: a ``checkpoint`` that is missing or not the network's.
            ValueError: an unknown method, or bad ``num_reads``, ``seed``, ``time_limit``,
                ``simulations``, ``top_k`` or ``value_weight``.
        """
        self.remove_unknown_kwargs(**kwargs)
        search = _check_search(method, num_reads, seed, time_limit, simulations, top_k, refine, value_weight, checkpoint)
        watch = Stopwatch()
        with watch.phase("preprocessing"):
            problem = _resolve_problem(problem, weight)
        labels, info = self._partition(problem.signed_graph, search, watch)
        with watch.phase("postprocessing"):
            energies = [problem.evaluate(problem.signed_graph.as_dict(row)) for row in labels]
        info["timing"] = watch.timing()
        return dimod.SampleSet.from_samples(
            (labels, problem.nodes), dimod.INTEGER, energy=energies, info=info, sort_labels=False,
        )

    def sample_cqm(
        self,
        cqm: dimod.ConstrainedQuadraticModel,
        *,
        method: str = "mcts",
        num_reads: int = 1,
        seed: int | None = None,
        time_limit: float | None = None,
        simulations: int = 32,
        top_k: int = 8,
        refine: int = 128,
        value_weight: float = 0.0,
        checkpoint: str | os.PathLike | None = None,
        **kwargs: Any,
    ) -> dimod.SampleSet:
        r"""Partition the signed graph of a multicut edge form; one row per read, over the CQM's variables.

        The edge form is the CQM of :attr:`Multicut.cqm
        <gnnsolve.adapters.multicut.Multicut.cqm>`: one BINARY :math:`x_{uv}` labelled
        ``("cut", u, v)`` per pair (1 when ``u`` and ``v`` are cut apart), the linear objective
        :math:`\sum w_{uv} x_{uv}` (plus any offset) and cycle inequalities
        :math:`x_e - \sum_{f \in P} x_f \le 0`, where the pairs :math:`P` join the ends of
        :math:`e`. The graph is read from the objective: its nodes are those named by the labels,
        its edges the pairs with a nonzero bias, weighing that bias. The constraints are checked
        to be such inequalities but not otherwise read: every returned sample is the cut of a
        partition, which satisfies them all. ``MulticutSampler().sample_cqm(cqm)`` thus stands in
        for ``HiGHSSampler().sample_cqm(cqm)``.

        Args:
            cqm: the edge form.
            method, num_reads, seed, time_limit, simulations, top_k, refine, value_weight, checkpoint:
                as in :meth:`sample`. Other keywords (an exact sampler's ``mip_rel_gap``, for
                instance) are ignored with a warning.

        Returns:
            A BINARY SampleSet over ``cqm.variables`` in their order: :math:`x_{uv} = 1` exactly
            when ``u`` and ``v`` lie in different clusters; energy ``cqm.objective.energy``, which
            is the cut cost plus the objective's offset. As from
            :meth:`dimod.SampleSet.from_samples_cqm`, the rows carry ``is_feasible`` and
            ``is_satisfied`` (all true) and ``info["constraint_labels"]``; they also carry
            ``clusters``, the partition as cluster labels numbered ``0..c-1`` in the order of
            ``info["nodes"]`` (the nodes in order of first appearance among the labels). The
            rest of ``info`` is that of :meth:`sample`.

        Raises:
            UnsupportedModelError: ``cqm`` is not a multicut edge form: a variable that is not
                BINARY or not labelled ``("cut", u, v)`` with ``u != v``, a quadratic objective
                term, or a constraint other than a cycle inequality (a must-link
                :math:`x_{uv} \le 0`, an equality, a cardinality bound...); the message names it.
                Such a CQM is for an exact sampler, e.g. :class:`~gnnsolve.HiGHSSampler`.
            InvalidModelError: an objective bias is NaN or infinite.
            FileNotFoundError, FileFormatError, ValueError: as :meth:`sample`.

        Example:
            >>> import networkx as nx
            >>> from gnnsolve.adapters.multicut import Multicut
            >>> from gnnsolve.samplers.multicut import MulticutSampler
            >>> problem = Multicut(nx.Graph([(0, 1, {"weight": 5}), (1, 2, {"weight": 2}), (0, 2, {"weight": -3})]))
            >>> sampleset = MulticutSampler().sample_cqm(problem.cqm, method="gaec+kl")
            >>> {v: int(x) for v, x in sampleset.first.sample.items()}, float(sampleset.first.energy)
            ({('cut', 0, 1): 0, ('cut', 0, 2): 1, ('cut', 1, 2): 1}, -1.0)
            >>> problem.cqm.check_feasible(sampleset.first.sample), problem.decode(sampleset.first.sample).value
            (True, {0: 0, 1: 0, 2: 1})
            >>> dict(zip(sampleset.info["nodes"], sampleset.first.clusters.tolist()))
            {0: 0, 1: 0, 2: 1}
        """
        if "weight" in self.remove_unknown_kwargs(**kwargs):
            warnings.warn(
                "sample_cqm ignores weight=: the weights are the biases of the CQM's objective", UserWarning,
                stacklevel=2,
            )
        search = _check_search(method, num_reads, seed, time_limit, simulations, top_k, refine, value_weight, checkpoint)
        watch = Stopwatch()
        with watch.phase("preprocessing"):
            graph, ends = _read_edge_form(cqm)
        labels, info = self._partition(graph, search, watch)
        with watch.phase("postprocessing"):
            samples = ((labels[:, ends[:, 0]] != labels[:, ends[:, 1]]).astype(np.int8), cqm.variables)
            info.update(nodes=graph.nodes, constraint_labels=list(cqm.constraints))
            sampleset = dimod.SampleSet.from_samples(
                samples, dimod.BINARY, energy=cqm.objective.energies(samples), info=info, sort_labels=False,
                is_satisfied=np.ones((len(labels), len(cqm.constraints)), dtype=bool),
                is_feasible=np.ones(len(labels), dtype=bool), clusters=labels,
            )
        sampleset.info["timing"] = watch.timing()
        return sampleset

    def _partition(self, graph: SignedGraph, search: _Search, watch: Stopwatch) -> tuple[np.ndarray, dict[str, Any]]:
        """Run ``search`` on ``graph``: canonical labels, one row per read, and the search's ``info``."""
        method, num_reads, rng, time_limit = search.method, search.num_reads, search.rng, search.time_limit
        info: dict[str, Any] = {"method": method}
        with watch.phase("preprocessing"):
            net = self.network(search.checkpoint)[0] if method in ("mcts", "greedy-policy") else None
            env = ContractionEnv(graph)

        rows = []
        with watch.phase("sampling"):
            if method in ("gaec", "gaec+kl"):
                labels = _gaec(graph)
                if method == "gaec+kl":
                    labels = _kernighan_lin_joins(graph, labels)
                rows = [labels] * num_reads
            elif method == "greedy-policy":
                rows = [greedy_policy(env, net.evaluate, rng=rng if read else None).labels for read in range(num_reads)]
            else:
                reference = _kernighan_lin_joins(graph, _gaec(graph))
                info["reference_cost"] = graph.cost(reference)
                policy = greedy_policy(env, net.evaluate)
                info["policy_cost"] = policy.cost
                fallback = min(reference, _kernighan_lin_joins(graph, policy.labels), key=graph.cost)
                results, refined = [], []
                for read in range(num_reads):
                    share = deadline = None
                    if time_limit is not None:
                        share = max((time_limit - watch.elapsed()) / (num_reads - read), 1e-3)
                        deadline = watch.elapsed() + share
                    result = plan(
                        env, net.evaluate, simulations=search.simulations, top_k=search.top_k,
                        value_weight=search.value_weight, temperature=1.0 if read else 0.0, rng=rng,
                        time_limit=None if share is None else share / 2,
                    )
                    best, count = _refine_candidates(graph, result.candidates[:search.refine], watch, deadline)
                    rows.append(best if graph.cost(best) <= graph.cost(fallback) else fallback)
                    results.append(result)
                    refined.append(count)
                info.update(
                    refined=refined,
                    rollout_cost=[result.rollout_cost for result in results],
                    search_cost=[result.cost for result in results],
                    simulations=[result.simulations for result in results],
                    stop_reason=[result.stop_reason for result in results],
                )

        with watch.phase("postprocessing"):
            labels = np.array([graph.canonical(row) for row in rows], dtype=np.int64)
        return labels.reshape(num_reads, graph.num_nodes), info


def _refine_candidates(
    graph: SignedGraph, candidates: list[np.ndarray], watch: Stopwatch, deadline: float | None
) -> tuple[np.ndarray, int]:
    """KLj from each candidate in turn (until ``deadline``, after the first): the cheapest result
    (the earliest among ties) and how many were refined."""
    best, best_cost, count = None, np.inf, 0
    for labels in candidates:
        if count and deadline is not None and watch.elapsed() >= deadline:
            break
        refined = _kernighan_lin_joins(graph, labels)
        count += 1
        cost = graph.cost(refined)
        if cost < best_cost:
            best, best_cost = refined, cost
    return best, count


@dataclass(frozen=True)
class _Search:
    """The checked settings of one call of :meth:`MulticutSampler.sample` or :meth:`~MulticutSampler.sample_cqm`."""

    method: str
    num_reads: int
    rng: np.random.Generator
    time_limit: float | None
    simulations: int
    top_k: int
    refine: int
    value_weight: float
    checkpoint: str | os.PathLike | None


def _check_search(
    method: str,
    num_reads: int,
    seed: int | None,
    time_limit: float | None,
    simulations: int,
    top_k: int,
    refine: int,
    value_weight: float,
    checkpoint: str | os.PathLike | None,
) -> _Search:
    """The settings of :meth:`MulticutSampler.sample`, checked; a ValueError names a bad one."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    if isinstance(value_weight, bool) or not isinstance(value_weight, (int, float)) or not 0 <= value_weight <= 1:
        raise ValueError(f"value_weight must be a number in [0, 1], got {value_weight!r}")
    return _Search(
        method=method,
        num_reads=check_positive_int("num_reads", num_reads),
        rng=seed_generator(seed),
        time_limit=check_time_limit(time_limit),
        simulations=check_positive_int("simulations", simulations),
        top_k=check_positive_int("top_k", top_k),
        refine=check_positive_int("refine", refine),
        value_weight=float(value_weight),
        checkpoint=checkpoint,
    )


def _resolve_problem(problem: Multicut | nx.Graph, weight: str | None) -> Multicut:
    if isinstance(problem, Multicut):
        return problem
    if isinstance(problem, nx.Graph):
        return Multicut(problem, weight)
    raise UnsupportedModelError(
        f"MulticutSampler.sample takes a gnnsolve.adapters.multicut.Multicut or a signed networkx graph, "
        f"got {type(problem).__name__}: for a graph G pass Multicut(G); for the edge form (a CQM with one "
        "BINARY ('cut', u, v) per pair, as Multicut(G).cqm) call MulticutSampler().sample_cqm(cqm). A BQM, "
        "Multicut.bqm included, is not read back into a graph"
    )


_EDGE_FORM = (
    "MulticutSampler.sample_cqm reads the multicut edge form (as Multicut(G).cqm): one BINARY ('cut', u, v) "
    "per pair, a linear objective and cycle inequalities only"
)


def _read_edge_form(cqm: dimod.ConstrainedQuadraticModel) -> tuple[SignedGraph, np.ndarray]:
    """The signed graph of a multicut edge form and, per variable of ``cqm``, the indices of its two nodes.

    Raises:
        UnsupportedModelError: ``cqm`` is not an edge form; the variable, term or constraint is named.
        InvalidModelError: an objective bias is not finite.
    """
    if not isinstance(cqm, dimod.ConstrainedQuadraticModel):
        raise UnsupportedModelError(
            f"{_EDGE_FORM}; got a {type(cqm).__name__}. Pass a graph G or Multicut(G) to MulticutSampler.sample"
        )
    index: dict[Hashable, int] = {}
    ends = np.empty((len(cqm.variables), 2), dtype=np.int64)
    for k, label in enumerate(cqm.variables):
        if not (isinstance(label, tuple) and len(label) == 3 and label[0] == "cut" and label[1] != label[2]):
            raise UnsupportedModelError(
                f"variable {label!r} is not labelled ('cut', u, v) with u != v. {_EDGE_FORM}; relabel the "
                "variables, or solve this CQM with an exact sampler such as HiGHSSampler().sample_cqm"
            )
        if cqm.vartype(label) is not dimod.BINARY:
            raise UnsupportedModelError(
                f"variable {label!r} is {cqm.vartype(label).name}, not BINARY (1 when u and v are cut apart). "
                f"{_EDGE_FORM}"
            )
        ends[k] = index.setdefault(label[1], len(index)), index.setdefault(label[2], len(index))
    quadratic = next(cqm.objective.iter_quadratic(), None)
    if quadratic is not None:
        u, v, bias = quadratic
        raise UnsupportedModelError(
            f"the objective has the quadratic term {bias:g} * {u!r} * {v!r}; the cost of a multicut is linear "
            f"in the cut variables, sum of w_uv * x_uv. {_EDGE_FORM}; solve this CQM with an exact sampler "
            "such as HiGHSSampler().sample_cqm"
        )
    weights = np.array([cqm.objective.get_linear(label) for label in cqm.variables], dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(weights))
    if len(bad):
        raise InvalidModelError(
            f"the objective's bias on {cqm.variables[bad[0]]!r} is {weights[bad[0]]}; multicut weights must be "
            "finite numbers"
        )
    for label, comparison in cqm.constraints.items():
        _check_cycle_inequality(label, comparison, cqm.variables, ends)
    edges = weights != 0
    return SignedGraph.from_arrays(ends[edges, 0], ends[edges, 1], weights[edges], list(index)), ends


def _check_cycle_inequality(
    label: Hashable, comparison: dimod.sym.Comparison, variables: dimod.variables.Variables, ends: np.ndarray
) -> None:
    r"""Refuse a constraint unless it reads :math:`x_e - \sum_{f \in P} x_f \le 0` with the pairs ``P``
    joining the ends of ``e``: the inequalities that every multicut satisfies."""
    lhs = comparison.lhs
    terms = list(lhs.iter_linear())
    plus = [variables.index(v) for v, bias in terms if bias == 1]
    minus = [variables.index(v) for v, bias in terms if bias == -1]
    if comparison.sense is not dimod.sym.Sense.Le:
        problem = f"its sense is {comparison.sense.value!r}"
    elif comparison.rhs - lhs.offset != 0:
        problem = f"its right-hand side is {comparison.rhs - lhs.offset:g}, not 0"
    elif lhs.num_interactions:
        problem = "it has quadratic terms"
    elif len(plus) != 1 or len(plus) + len(minus) != len(terms):
        problem = "its coefficients are not +1 on one variable and -1 on the others"
    elif not _joins(ends[minus], *ends[plus[0]].tolist()):
        problem = (
            f"the pairs with coefficient -1 do not join the ends of {variables[plus[0]]!r} "
            "(a must-link constraint x_uv <= 0, for instance)"
        )
    else:
        return
    raise UnsupportedModelError(
        f"constraint {label!r} is not a cycle inequality x_e - sum of x_f <= 0 over pairs f joining the ends of e: "
        f"{problem}. MulticutSampler.sample_cqm returns multicuts, which satisfy every cycle inequality but may "
        "break this constraint; drop it, or solve this CQM with an exact sampler such as HiGHSSampler().sample_cqm"
    )


def _joins(pairs: np.ndarray, u: int, v: int) -> bool:
    """Whether the node pairs (rows of ``pairs``) hold a path from ``u`` to ``v``."""
    reached = {u}
    grown = True
    while grown and v not in reached:
        grown = False
        for a, b in pairs.tolist():
            if (a in reached) != (b in reached):
                reached.update((a, b))
                grown = True
    return v in reached
