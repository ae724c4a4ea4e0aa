"""``MulticutSampler``: signed graph partitioning by GNN-guided edge contraction with MCTS.

Implements the planner of "Universal Spatial GNN-RL Planning for Active Edge Contraction Graph
Partitioning": a multicut is built from singletons by contracting adjacent clusters
(:class:`~gnnsolve.search.contraction.ContractionEnv`), each contraction earning the decrease
of the cut cost; a graph neural network (:class:`~gnnsolve.nn.multicut.ContractionPolicy`)
proposes contractions and a Monte Carlo tree search with GAEC rollouts
(:func:`~gnnsolve.search.mcts.plan`) chooses among them; Kernighan–Lin with joins
(:func:`~gnnsolve.search.multicut.kernighan_lin_joins`) refines the result.

Methods (``method=``):

- ``"mcts"``: the tree search, then KLj; GAEC followed by KLj and the network's greedy episode
  followed by KLj are computed too and the cheapest of the three is returned, so ``"mcts"`` is
  never worse than ``"gaec+kl"`` or ``"greedy-policy"`` on the same graph;
- ``"greedy-policy"``: the network alone, its most likely contraction at each step (further
  reads draw contractions from its softmax); no refinement;
- ``"gaec"`` and ``"gaec+kl"``: the classical references (Keuper et al. 2015), deterministic.

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
from typing import Any

import dimod
import networkx as nx
import numpy as np
import torch

from gnnsolve.adapters.multicut import Multicut
from gnnsolve.errors import UnsupportedModelError
from gnnsolve.nn.multicut import ContractionPolicy, load_policy
from gnnsolve.samplers._common import Stopwatch, check_positive_int, check_time_limit, resolve_device, seed_generator
from gnnsolve.search.contraction import ContractionEnv
from gnnsolve.search.mcts import greedy_policy, plan
from gnnsolve.search.multicut import _gaec, _kernighan_lin_joins

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
            "method", "num_reads", "seed", "time_limit", "simulations", "top_k", "value_weight", "checkpoint",
            "weight")}
        self.properties = {
            "methods": METHODS,
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
        value_weight: float = 0.0,
        checkpoint: str | os.PathLike | None = None,
        weight: str | None = "weight",
        **kwargs: Any,
    ) -> dimod.SampleSet:
        """Partition the graph; one row per read.

        Args:
            problem: a :class:`~gnnsolve.adapters.multicut.Multicut`, or an undirected networkx
                graph whose edges carry ``weight`` (positive: attract, negative: repel).
            method: ``"mcts"``, ``"greedy-policy"``, ``"gaec"`` or ``"gaec+kl"``.
            num_reads: reads; the first of ``"mcts"`` commits the most visited contraction at
                each step and the first of ``"greedy-policy"`` the most likely one, further reads
                draw them (by visits, by the softmax) from ``seed``. The GAEC methods are
                deterministic and repeat their one answer.
            seed: seed of those draws; the same seed gives the same samples.
            time_limit: seconds for the search of ``"mcts"``, shared evenly by the reads; when
                a read's share runs out it returns the best complete partition it has seen
                (at worst GAEC's), then refines it. The other methods take milliseconds and
                do not check it.
            simulations: MCTS simulations per committed contraction.
            top_k: MCTS children kept per state, the most likely under the network.
            value_weight: share of the network's value head in the value of an MCTS leaf, the
                rest being the reward of a GAEC rollout from it (in ``[0, 1]``).
            checkpoint: a checkpoint file of the network; ``None`` for the shipped one.
            weight: the edge attribute holding the weight, for a networkx graph.

        Returns:
            A SampleSet over the nodes with INTEGER cluster labels numbered ``0..c-1`` in node
            order and energy the exact cut cost (:meth:`Multicut.evaluate`). ``info`` holds
            ``timing`` (ns), ``method``, and for ``"mcts"``: ``reference_cost`` (GAEC + KLj),
            ``policy_cost`` (the greedy episode of the network, before KLj), and per read ``rollout_cost`` (GAEC), ``search_cost`` (best partition the search
            saw, before KLj), ``simulations`` and ``stop_reason`` (``"done"`` or ``"time_limit"``).

        Raises:
            InvalidModelError: as :class:`~gnnsolve.adapters.multicut.Multicut` (a NaN or
                infinite weight, a directed or empty graph).
            UnsupportedModelError: ``problem`` is neither a multicut nor a graph.
            FileNotFoundError, FileFormatError: a ``checkpoint`` that is missing or not the network's.
            ValueError: an unknown method, or bad ``num_reads``, ``seed``, ``time_limit``,
                ``simulations``, ``top_k`` or ``value_weight``.
        """
        self.remove_unknown_kwargs(**kwargs)
        if method not in METHODS:
            raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
        num_reads = check_positive_int("num_reads", num_reads)
        simulations = check_positive_int("simulations", simulations)
        top_k = check_positive_int("top_k", top_k)
        time_limit = check_time_limit(time_limit)
        if isinstance(value_weight, bool) or not isinstance(value_weight, (int, float)) or not 0 <= value_weight <= 1:
            raise ValueError(f"value_weight must be a number in [0, 1], got {value_weight!r}")
        rng = seed_generator(seed)

        watch = Stopwatch()
        info: dict[str, Any] = {"method": method}
        with watch.phase("preprocessing"):
            problem = _resolve_problem(problem, weight)
            graph = problem.signed_graph
            net = self.network(checkpoint)[0] if method in ("mcts", "greedy-policy") else None
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
                results = []
                for read in range(num_reads):
                    share = None
                    if time_limit is not None:
                        share = max((time_limit - watch.elapsed()) / (num_reads - read), 1e-3)
                    results.append(plan(
                        env, net.evaluate, simulations=simulations, top_k=top_k, value_weight=float(value_weight),
                        temperature=1.0 if read else 0.0, rng=rng, time_limit=share,
                    ))
                for result in results:
                    refined = _kernighan_lin_joins(graph, result.labels)
                    rows.append(refined if graph.cost(refined) <= graph.cost(fallback) else fallback)
                info.update(
                    rollout_cost=[result.rollout_cost for result in results],
                    search_cost=[result.cost for result in results],
                    simulations=[result.simulations for result in results],
                    stop_reason=[result.stop_reason for result in results],
                )

        with watch.phase("postprocessing"):
            rows = [graph.canonical(labels) for labels in rows]
            energies = [problem.evaluate(graph.as_dict(labels)) for labels in rows]
        info["timing"] = watch.timing()
        return dimod.SampleSet.from_samples(
            (np.array(rows, dtype=np.int64).reshape(num_reads, graph.num_nodes), problem.nodes),
            dimod.INTEGER, energy=energies, info=info, sort_labels=False,
        )


def _resolve_problem(problem: Multicut | nx.Graph, weight: str | None) -> Multicut:
    if isinstance(problem, Multicut):
        return problem
    if isinstance(problem, nx.Graph):
        return Multicut(problem, weight)
    raise UnsupportedModelError(
        f"MulticutSampler samples a gnnsolve.adapters.multicut.Multicut or a signed networkx graph, "
        f"got {type(problem).__name__}"
    )
