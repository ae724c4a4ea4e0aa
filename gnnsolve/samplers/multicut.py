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
  ``"mcts"`` is never worse than ``"gaec+kl"`` or ``"greedy-policy"`` on the same graph (unless
  the budget cuts them short);
- ``"greedy-policy"``: the network alone, its most likely contraction at each step (further
  reads draw contractions from its softmax); no refinement;
- ``"gaec"`` and ``"gaec+kl"``: the classical references (Keuper et al. 2015), deterministic.

Budget. ``time_limit`` is the whole call, set-up and refinement included; every phase stops at
its share of it and hands on the best complete partition so far (GAEC stops between
contractions, KLj between chains, the episodes between steps), so the answer is never worse
than the part of GAEC that fitted. Only reading a networkx graph into index form and the
per-node lists GAEC and KLj start from are not cut (about 0.7 s and 0.3 s at 100,000 nodes
and 150,000 edges). ``time_limit=None`` gives :func:`default_time_limit`, and ``math.inf`` no
limit. The tree search walks one dense state of :math:`9 N^2` bytes
(:class:`~gnnsolve.search.contraction.ContractionEnv`) down each path and back, a searched node
keeping only its children's statistics, and each simulation costs :math:`O(N^2)` (the state's
encoding, the network, the GAEC rollout), so it runs on graphs of up to
:data:`MAX_SEARCH_NODES` nodes; on larger ones ``"mcts"`` answers with GAEC + KLj.

A ``KeyboardInterrupt`` (Ctrl-C) during a read's tree search ends the call at once with the best
partition so far: the read keeps the cheaper of the search's best partition and the GAEC + KLj
(or greedy episode) answer computed before, without refinement; its ``stop_reason`` is
``"interrupted"`` and no further read runs, so the SampleSet holds the reads up to that one. An
interrupt anywhere else (GAEC, KLj, the greedy episode, loading the network) is raised to the
caller; the sampler caches loaded networks only once loaded whole.

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

import logging
import math
import os
import time
import warnings
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import dimod
import networkx as nx
import numpy as np
import torch

from gnnsolve.adapters.multicut import Multicut
from gnnsolve.errors import InvalidModelError, ModelTooLargeError, UnsupportedModelError
from gnnsolve.nn.multicut import ContractionPolicy, load_policy
from gnnsolve.samplers._common import (
    Stopwatch,
    check_positive_int,
    check_time_limit,
    resolve_time_limit,
    seed_generator,
)
from gnnsolve.samplers._progress import STOP_REASON, Callback, Watcher, check_callback, check_progress
from gnnsolve.samplers._torch import check_threads, resolve_device, torch_threads
from gnnsolve.search.contraction import ContractionEnv
from gnnsolve.search.mcts import PlanResult, PriorFunction, greedy_policy, plan
from gnnsolve.search.multicut import SignedGraph, _gaec, _kernighan_lin_joins, _late

__all__ = ["MulticutSampler", "METHODS", "MAX_SEARCH_NODES", "default_time_limit"]

logger = logging.getLogger(__name__)

METHODS = ("mcts", "greedy-policy", "gaec", "gaec+kl")

MAX_SEARCH_NODES = 2000
"""The largest graph the tree search and the greedy episode take: a state is :math:`9 N^2` bytes
(36 MB here), and a simulation costs about a second."""


def default_time_limit(num_nodes: int, num_reads: int = 1) -> float:
    r"""The budget of a call without ``time_limit``, in seconds: :math:`\min(\max(2,\ 0.05\, r\, N),\ 30)`
    for ``N`` nodes and ``r`` reads, 5 seconds per hundred nodes and read, at most half a minute.

    Why: the call is anytime (every phase hands on the best complete partition so far), so the
    budget is what it costs, and it grows linearly with the graph. A complete tree search (32
    simulations per contraction, one thread, an idle 2-core machine, Erdős–Rényi with edge
    probability 0.3, compiled GAEC and KLj) takes 1.5–1.8 s at ``N = 100`` (2.4–2.7 s under
    load) and 7 s at ``N = 200``, growing about as :math:`N^2` (a state costs :math:`N^2`, an
    episode :math:`N` steps); the budget lets it finish on the sizes the network was trained on
    (up to 100 nodes), and the call then ends when the search does. On larger graphs the search
    is cut at half of its read's share and the rest refines its partitions with KLj: at
    ``N = 500`` (25 s) and ``N = 1000`` (30 s) this beats GAEC + KLj on every seed measured, also
    under load (``docs/benchmarks/multicut.md``). The ceiling is where more time stops paying
    much: at ``N = 1000`` 50 s instead of 30 s lowered the cost by 0–0.5%; pass ``time_limit``
    for it. The floor keeps small graphs clear of timing noise. The other methods usually end
    long before their default budget.

    Example:
        >>> from gnnsolve.samplers.multicut import default_time_limit
        >>> default_time_limit(20), default_time_limit(100), default_time_limit(500), default_time_limit(5000)
        (2.0, 5.0, 25.0, 30.0)
    """
    return min(max(2.0, 0.05 * num_reads * num_nodes), 30.0)


class MulticutSampler(dimod.Sampler):
    """Multicut by GNN-guided edge contraction with MCTS (see the module docstring).

    Args:
        device: where the network runs, ``"cpu"`` or ``"cuda"``. It evaluates one small state
            at a time, for which the CPU is usually the faster (and one thread, the default of
            ``threads=``, the fastest on a busy machine).

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
        self.parameters = {
            key: []
            for key in (
                "method",
                "num_reads",
                "seed",
                "time_limit",
                "simulations",
                "top_k",
                "refine",
                "value_weight",
                "checkpoint",
                "threads",
                "batch_size",
                "weight",
                "progress",
                "callback",
            )
        }
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
        threads: int | None = None,
        batch_size: int = 1,
        weight: str | None = "weight",
        progress: bool = False,
        callback: Callback | None = None,
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
            time_limit: seconds for the whole call, from entering it to returning (``None``:
                :func:`default_time_limit` of the graph's size and ``num_reads``;
                ``math.inf``: no limit). Each method stops at it with the best complete
                partition so far. ``"mcts"`` runs GAEC + KLj first (they may use it all), then
                the network's greedy episode and its KLj within half of what is left (the
                episode is not played when that half is shorter than GAEC took plus the
                episode's estimate, its contractions times a third of the network's time on the
                whole graph; KLj does not follow an episode the budget cut), then the reads,
                sharing the rest evenly, half of a read's share for the search and the rest for
                refining: when the search's half runs out it returns the partitions it
                has seen (at worst GAEC's), and refinement stops when the share is spent. A
                read whose half share is shorter than one GAEC plus one network evaluation of
                the whole graph (measured on the way) is not searched.
            simulations: MCTS simulations per committed contraction.
            top_k: MCTS children kept per state, the most likely under the network.
            refine: ``"mcts"`` refines, with KLj, the ``refine`` cheapest distinct partitions its
                search saw (rollouts included) and keeps the best.
            value_weight: share of the network's value head in the value of an MCTS leaf, the
                rest being the reward of a GAEC rollout from it (in ``[0, 1]``).
            checkpoint: a checkpoint file of the network; ``None`` for the shipped one.
            threads: torch's intra-op threads while the call runs (the caller's setting is
                restored after it, also after an error); ``None`` chooses one: the network
                evaluates one small state at a time, between single-threaded search steps.
            batch_size: MCTS leaves gathered under virtual visits and evaluated by the network in
                one forward pass (:func:`~gnnsolve.search.mcts.plan`); 1, the default, searches one
                leaf at a time. On the CPU a batch is no faster than its states one by one (a
                state's cost is its :math:`c^2` matrix products and per-pair head, which batching
                does not share; 8 states of 500 clusters: 64 ms one by one, 190 ms padded into one
                batch), so batches serve a GPU (``device="cuda"``).
            weight: the edge attribute holding the weight, for a networkx graph.
            progress: draw a tqdm bar on ``stderr`` over the tree search's simulations (``"mcts"``
                only; the cost of the best partition known before the search in its postfix),
                closed when the call ends. Off by default; it does not change the result.
            callback: ``callback(state) -> bool | None``, called after every simulation batch of
                the tree search with a read-only :class:`~gnnsolve.samplers._progress.TrainingState`
                (``epoch``: simulations of the read so far, ``elapsed``, ``best_energy``: the cost
                of the best partition known before the search, GAEC + KLj or the greedy episode,
                ``loss`` ``None``, ``phase`` ``"search read i/r"``). Returning ``True`` stops the
                search as Ctrl-C does: the read keeps the cheaper of the search's best partition
                and that one, unrefined, with ``stop_reason`` ``"callback"``, and no further read
                runs. An exception it raises ends the call and reaches the caller unchanged.

        Returns:
            A SampleSet over the nodes with INTEGER cluster labels numbered ``0..c-1`` in node
            order and energy the exact cut cost (:meth:`Multicut.evaluate`). ``info`` holds
            ``timing`` (ns), ``method``, ``time_limit`` (the budget applied, seconds; ``inf``
            for none), ``threads`` and per read ``stop_reason``: ``"done"``, ``"time_limit"``
            (a phase was cut short by the budget) or, for ``"mcts"``, ``"too_large"`` on a graph
            of more than :data:`MAX_SEARCH_NODES` nodes (the answer is GAEC + KLj) and
            ``"interrupted"`` (Ctrl-C stopped the read's search: it is the last row, unrefined;
            see the module docstring) or ``"callback"`` (the callback stopped it, likewise). For ``"mcts"`` also: ``reference_cost`` (GAEC + KLj),
            ``policy_cost`` (the greedy
            episode of the network, finished by GAEC if the budget cut it, before KLj;
            ``nan`` when not played), and per read ``rollout_cost`` (GAEC), ``search_cost``
            (best partition the search saw, before KLj), ``simulations`` and ``refined``
            (partitions refined by KLj); ``nan`` and 0 for a read not searched.

        Raises:
            InvalidModelError: as :class:`~gnnsolve.adapters.multicut.Multicut` (a NaN or
                infinite weight, a directed or empty graph).
            UnsupportedModelError: ``problem`` is neither a multicut nor a graph (a dimod model,
                for instance: the message says to call :meth:`sample_cqm` or to pass ``Multicut(G)``).
            FileNotFoundError, FileFormatError: a ``checkpoint`` that is missing or not the network's.
            ModelTooLargeError: ``"greedy-policy"`` on more than :data:`MAX_SEARCH_NODES` nodes.
            ValueError: an unknown method, or bad ``num_reads``, ``seed``, ``time_limit``,
                ``simulations``, ``top_k``, ``value_weight`` or ``threads``.
        """
        watch = Stopwatch()
        self.remove_unknown_kwargs(**kwargs)
        search = _check_search(
            method,
            num_reads,
            seed,
            time_limit,
            simulations,
            top_k,
            refine,
            value_weight,
            checkpoint,
            threads,
            batch_size,
        )
        watching = check_progress(progress), check_callback(callback)
        with watch.phase("preprocessing"):
            problem = _resolve_problem(problem, weight)
        labels, info = self._partition(problem.signed_graph, search, watch, *watching)
        with watch.phase("postprocessing"):
            energies = [problem.signed_graph.cost(row) for row in labels]  # Multicut.evaluate of each row
        info["timing"] = watch.timing()
        return dimod.SampleSet.from_samples(
            (labels, problem.nodes),
            dimod.INTEGER,
            energy=energies,
            info=info,
            sort_labels=False,
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
        threads: int | None = None,
        batch_size: int = 1,
        progress: bool = False,
        callback: Callback | None = None,
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
            method, num_reads, seed, time_limit, simulations, top_k, refine: as in :meth:`sample`.
            value_weight, checkpoint, threads, batch_size, progress, callback: as in :meth:`sample`.
                Other keywords (an exact sampler's ``mip_rel_gap``, for instance) are ignored with a
                warning.

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
        watch = Stopwatch()
        if "weight" in self.remove_unknown_kwargs(**kwargs):
            warnings.warn(
                "sample_cqm ignores weight=: the weights are the biases of the CQM's objective",
                UserWarning,
                stacklevel=2,
            )
        search = _check_search(
            method,
            num_reads,
            seed,
            time_limit,
            simulations,
            top_k,
            refine,
            value_weight,
            checkpoint,
            threads,
            batch_size,
        )
        watching = check_progress(progress), check_callback(callback)
        with watch.phase("preprocessing"):
            graph, ends = _read_edge_form(cqm)
        labels, info = self._partition(graph, search, watch, *watching)
        with watch.phase("postprocessing"):
            samples = ((labels[:, ends[:, 0]] != labels[:, ends[:, 1]]).astype(np.int8), cqm.variables)
            info.update(nodes=graph.nodes, constraint_labels=list(cqm.constraints))
            sampleset = dimod.SampleSet.from_samples(
                samples,
                dimod.BINARY,
                energy=cqm.objective.energies(samples),
                info=info,
                sort_labels=False,
                is_satisfied=np.ones((len(labels), len(cqm.constraints)), dtype=bool),
                is_feasible=np.ones(len(labels), dtype=bool),
                clusters=labels,
            )
        sampleset.info["timing"] = watch.timing()
        return sampleset

    def _partition(
        self, graph: SignedGraph, search: _Search, watch: Stopwatch, progress: bool = False, callback: Callback | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Run ``search`` on ``graph`` within the budget: canonical labels, one row per read, and
        the search's ``info``. ``progress`` and ``callback`` watch the tree search."""
        method, num_reads, n = search.method, search.num_reads, graph.num_nodes
        watch.time_limit = resolve_time_limit(search.time_limit, default_time_limit(n, num_reads))
        if method == "greedy-policy" and n > MAX_SEARCH_NODES:
            raise ModelTooLargeError(
                f"method='greedy-policy' plays the network on dense states of {n} x {n} clusters; it takes graphs "
                f"of up to {MAX_SEARCH_NODES} nodes. Use method='gaec+kl' (or 'mcts', which answers with GAEC + "
                "KLj at this size)"
            )
        # postprocessing (canonical labels, costs, the SampleSet) gets a few microseconds per label
        end = _clock_deadline(watch, reserve=min(0.05 * watch.time_limit, 2e-6 * n * num_reads))
        info: dict[str, Any] = {"method": method, "time_limit": watch.time_limit}
        if logger.isEnabledFor(logging.INFO):
            logger.info(
                "multicut: %s on %d nodes and %d edges, %d reads, within %.3g s",
                method,
                n,
                len(graph.weights),
                num_reads,
                watch.time_limit,
            )
        watcher = Watcher(
            "multicut",
            logger=logger,
            progress=progress and method == "mcts",
            callback=callback,
            unit="sim",
            clock=watch.elapsed,
            step_name="simulation",
        )
        with torch_threads(search.threads) as threads, watcher:
            info["threads"] = threads
            with watch.phase("preprocessing"):
                net = env = None
                if method in ("mcts", "greedy-policy") and n <= MAX_SEARCH_NODES:
                    net = self.network(search.checkpoint)[0]
                    env = ContractionEnv(graph)
            with watch.phase("sampling"):
                if method in ("gaec", "gaec+kl"):
                    labels = _gaec(graph, end)
                    if method == "gaec+kl":
                        labels = _kernighan_lin_joins(graph, labels, end)
                    rows = [labels] * num_reads
                    info["stop_reason"] = ["time_limit" if _late(end) else "done"] * num_reads
                    logger.info("multicut: %s finished at %.2f s: cost %.6g", method.upper(), watch.elapsed(), graph.cost(labels))
                elif method == "greedy-policy":
                    assert env is not None and net is not None  # built above: larger graphs were refused
                    results = [
                        greedy_policy(
                            env, net.evaluate, rng=search.rng if read else None, time_limit=_share(end, num_reads - read)
                        )
                        for read in range(num_reads)
                    ]
                    rows = [result.labels for result in results]
                    info["stop_reason"] = [result.stop_reason for result in results]
                    if logger.isEnabledFor(logging.INFO):
                        logger.info(
                            "multicut: greedy episodes finished at %.2f s: best cost %.6g",
                            watch.elapsed(),
                            min(result.cost for result in results),
                        )
                else:
                    rows = _tree_search(graph, env, net, search, end, info, watcher)
        if logger.isEnabledFor(logging.INFO):
            logger.info(
                "multicut: stopped at %.2f s (%s): best cost %.6g",
                watch.elapsed(),
                ", ".join(sorted(set(info["stop_reason"]))),
                min(graph.cost(row) for row in rows),
            )
        with watch.phase("postprocessing"):
            labels = np.array([graph.canonical(row) for row in rows], dtype=np.int64)
        return labels.reshape(len(rows), n), info


def _tree_search(
    graph: SignedGraph,
    env: ContractionEnv | None,
    net: ContractionPolicy | None,
    search: _Search,
    end: float | None,
    info: dict[str, Any],
    watcher: Watcher | None = None,
) -> list[np.ndarray]:
    """Method ``"mcts"`` until ``end`` (a :func:`time.perf_counter` reading; ``None``: no limit):
    GAEC + KLj, the greedy episode + KLj, then per read a search and KLj from its candidates;
    the cheapest of each read's partitions and those two. Fills ``info``; returns one row per read
    run: a search stopped by a ``KeyboardInterrupt`` or by ``watcher``'s callback is not refined
    and is the last."""
    if watcher is None:
        watcher = Watcher("multicut", logger=logger, step_name="simulation")
    num_reads, n = search.num_reads, graph.num_nodes
    started = time.perf_counter()
    reference = _gaec(graph, end)
    gaec_seconds = time.perf_counter() - started
    reference = _kernighan_lin_joins(graph, reference, end)
    info["reference_cost"] = graph.cost(reference)
    if logger.isEnabledFor(logging.INFO):
        logger.info("multicut: GAEC + KLj reference at %.2f s: cost %.6g", watcher.clock(), info["reference_cost"])
    if env is None:  # too large to search
        info.update(
            policy_cost=math.nan,
            refined=[0] * num_reads,
            rollout_cost=[math.nan] * num_reads,
            search_cost=[math.nan] * num_reads,
            simulations=[0] * num_reads,
            stop_reason=["time_limit" if _late(end) else "too_large"] * num_reads,
        )
        return [reference] * num_reads
    assert net is not None  # built with env
    prior = _TimedPrior(net.evaluate)
    if not env.done:  # the whole graph, the longest evaluation: the episode and the reads are planned by it
        prior(env)
    # the episode's steps are about GAEC's contractions, its states shrinking (a state costs ~ c^2)
    episode_seconds = gaec_seconds + (n - len(np.unique(reference))) * prior.longest / 3
    policy_seconds = _share(end, 2)
    fallback, policy = reference, None
    if policy_seconds is None or policy_seconds > episode_seconds:
        policy_end = None if policy_seconds is None else time.perf_counter() + policy_seconds
        policy = greedy_policy(env, prior, time_limit=policy_seconds)
        # an episode the budget cut is finished by GAEC; KLj from it would take the search's time
        finished = policy.labels if policy.stop_reason == "time_limit" else _kernighan_lin_joins(graph, policy.labels, policy_end)
        fallback = min(reference, finished, key=graph.cost)
    info["policy_cost"] = math.nan if policy is None else policy.cost
    if logger.isEnabledFor(logging.INFO):
        logger.info(
            "multicut: greedy episode %s at %.2f s: cost %.6g, best so far %.6g",
            "skipped" if policy is None else f"({policy.stop_reason})",
            watcher.clock(),
            info["policy_cost"],
            graph.cost(fallback),
        )
    root_seconds = gaec_seconds + prior.longest  # one simulation from the whole graph
    rows, results, refined = [], [], []
    for read in range(num_reads):
        share = _share(end, num_reads - read)
        if share is not None and share / 2 < root_seconds:
            result, best, count = None, fallback, 0
        else:
            read_end = None if share is None else time.perf_counter() + share
            phase = f"search read {read + 1}/{num_reads}"
            if logger.isEnabledFor(logging.INFO):
                logger.info(
                    "multicut: %s: %d simulations a step, %s",
                    phase,
                    search.simulations,
                    "no limit" if share is None else f"{share / 2:.3g} s",
                )
            watcher.restart()
            read_prior = (
                net
                if not watcher.active and not logger.isEnabledFor(logging.INFO)
                else _WatchedPrior(net, watcher, phase, graph.cost(fallback))
            )
            result = plan(
                env,
                read_prior,
                simulations=search.simulations,
                top_k=search.top_k,
                value_weight=search.value_weight,
                temperature=1.0 if read else 0.0,
                rng=search.rng,
                time_limit=None if share is None else share / 2,
                batch_size=search.batch_size,
            )
            if result.stop_reason == "interrupted" and watcher.stopped:
                result.stop_reason = STOP_REASON
            if result.stop_reason in ("interrupted", STOP_REASON):
                best, count = result.labels, 0
            else:
                best, count = _refine_candidates(graph, result.candidates[: search.refine], read_end)
            if logger.isEnabledFor(logging.INFO):
                logger.info(
                    "multicut: %s: %d simulations (%s), search cost %.6g; refinement of %d partitions at %.2f s: cost %.6g",
                    phase,
                    result.simulations,
                    result.stop_reason,
                    result.cost,
                    count,
                    watcher.clock(),
                    graph.cost(best),
                )
        rows.append(best if graph.cost(best) <= graph.cost(fallback) else fallback)
        results.append(result)
        refined.append(count)
        if result is not None and result.stop_reason in ("interrupted", STOP_REASON):
            break
    info.update(
        refined=refined,
        rollout_cost=[math.nan if result is None else result.rollout_cost for result in results],
        search_cost=[math.nan if result is None else result.cost for result in results],
        simulations=[0 if result is None else result.simulations for result in results],
        stop_reason=[_read_stop_reason(result, policy, end) for result in results],
    )
    return rows


def _read_stop_reason(result: PlanResult | None, policy: PlanResult | None, end: float | None) -> str:
    """``"interrupted"`` when Ctrl-C stopped the read's search, ``"time_limit"`` when the budget cut
    any phase a read's answer went through, else ``"done"``."""
    if result is not None and result.stop_reason in ("interrupted", STOP_REASON):
        return result.stop_reason
    skipped_or_cut = any(phase is None or phase.stop_reason == "time_limit" for phase in (result, policy))
    return "time_limit" if skipped_or_cut or _late(end) else "done"


class _CallbackStop(KeyboardInterrupt):
    """Raised inside :func:`~gnnsolve.search.mcts.plan` when the callback asks to stop: the search
    stops as it does on Ctrl-C, with its best partition so far."""


class _WatchedPrior:
    """The network as :func:`~gnnsolve.search.mcts.plan`'s batched prior, reporting each batch of
    simulations to a :class:`~gnnsolve.samplers._progress.Watcher`."""

    def __init__(self, net: ContractionPolicy, watcher: Watcher, phase: str, best_cost: float) -> None:
        self.net, self.watcher, self.phase, self.best_cost = net, watcher, phase, float(best_cost)
        self.simulations = 0

    def encode(self, env: ContractionEnv) -> Any:
        return self.net.encode(env)

    def evaluate_batch(self, encoded: list[Any]) -> list[tuple[np.ndarray, np.ndarray, float]]:
        answers = self.net.evaluate_batch(encoded)
        self.simulations += len(encoded)
        if self.watcher.due() and self.watcher.update(self.simulations, self.best_cost, phase=self.phase):
            raise _CallbackStop
        return answers


class _TimedPrior:
    """A prior function that records its longest call (that of the largest state, the first)."""

    def __init__(self, prior: PriorFunction) -> None:
        self.prior, self.longest = prior, 0.0

    def __call__(self, env: ContractionEnv) -> tuple[np.ndarray, np.ndarray, float]:
        started = time.perf_counter()
        answer = self.prior(env)
        self.longest = max(self.longest, time.perf_counter() - started)
        return answer


def _clock_deadline(watch: Stopwatch, reserve: float = 0.0) -> float | None:
    """The end of ``watch``'s budget less ``reserve`` seconds, as a :func:`time.perf_counter`
    reading; ``None`` without a budget."""
    if math.isinf(watch.time_limit):
        return None
    return time.perf_counter() + watch.remaining() - reserve


def _share(end: float | None, parts: int) -> float | None:
    """Seconds until ``end`` divided into ``parts`` (never negative); ``None`` without ``end``."""
    return None if end is None else max(end - time.perf_counter(), 0.0) / parts


def _refine_candidates(graph: SignedGraph, candidates: list[np.ndarray], end: float | None) -> tuple[np.ndarray, int]:
    """KLj from each candidate in turn, stopping at ``end`` (a :func:`time.perf_counter` reading;
    the first is always started): the cheapest result (the earliest among ties) and how many
    were refined."""
    best, best_cost, count = None, np.inf, 0
    for labels in candidates:
        if count and _late(end):
            break
        refined = _kernighan_lin_joins(graph, labels, end)
        count += 1
        cost = graph.cost(refined)
        if cost < best_cost:
            best, best_cost = refined, cost
    assert best is not None  # the first candidate is refined, and its cost is finite
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
    threads: int | None
    batch_size: int


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
    threads: int | None,
    batch_size: int,
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
        threads=check_threads(threads),
        batch_size=check_positive_int("batch_size", batch_size),
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
                f"variable {label!r} is {cqm.vartype(label).name}, not BINARY (1 when u and v are cut apart). {_EDGE_FORM}"
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
            f"the objective's bias on {cqm.variables[bad[0]]!r} is {weights[bad[0]]}; multicut weights must be finite numbers"
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
