"""``ClusterNetSampler``: community detection and k-center by decision-focused learning.

Implements Wilder, Ewing, Dilkina and Tambe, "End to End Learning and Optimization on Graphs",
NeurIPS 2019. The network (:class:`gnnsolve.nn.clusternet.ClusterNet`) embeds the nodes with a
GCN and clusters the embeddings with a differentiable soft k-means; its loss is the problem's
own relaxed objective, evaluated on the soft clustering:

- modularity: minus the soft modularity of the assignments
  (:meth:`~gnnsolve.adapters.clustering.Modularity.soft_objective`); each node then joins its
  most likely cluster;
- pairwise clustering, the k-way assignment form of a CQM such as ``Modularity(G, k).cqm``
  (:class:`~gnnsolve.adapters.pairwise.PairwiseClustering`, what
  :meth:`ClusterNetSampler.sample_cqm` reads): the CQM's objective on the soft assignments
  (:meth:`~gnnsolve.adapters.pairwise.PairwiseClustering.soft_objective`), the network seeing
  the pairs of positive weight as edges; each node then joins its most likely cluster;
- k-center: the expected distance of the soft facility selections
  (:meth:`~gnnsolve.nn.clusternet.ClusterNet.facility_weights`), averaged over nodes
  (:meth:`~gnnsolve.adapters.kcenter.KCenter.soft_objective` with ``beta=0``); the selections
  are then rounded to exactly ``k`` facilities 50 times by pipage rounding and the rounding with
  the smallest largest distance on the training graph is kept.

Training follows the paper: Adam (learning rate 0.01, weight decay 5e-4) for 1001 epochs; the
k-means runs one warm-started update per epoch (five from epoch 500 on) before the
differentiable one; every 100 epochs (and at the last) the network is evaluated without dropout
and the soft solution with the lowest training loss so far is kept for the decision.

The network sees the graph's structure unweighted; the loss and the energies use the problem's
edge weights (``Modularity(G, k, weight=...)``, ``KCenter(G, k, weight=...)``). In the partially
observed setting (``observed``) the network sees, and its loss scores, only the
observed edges, while every returned energy is the exact objective on the full graph. With
:meth:`ClusterNetSampler.fit` one network learns from several graphs and is then applied, as
it is or fine-tuned, to graphs it has never seen.

Example:
    >>> import networkx as nx
    >>> from gnnsolve.adapters.clustering import Modularity
    >>> from gnnsolve.samplers.clusternet import ClusterNetSampler
    >>> problem = Modularity(nx.karate_club_graph(), k=2)
    >>> sampleset = ClusterNetSampler().sample(problem, seed=0, epochs=200)
    >>> sampleset.vartype.name, bool(sampleset.first.energy < -0.3)
    ('INTEGER', True)
    >>> bool(sampleset.first.energy == -problem.evaluate(sampleset.first.sample))
    True

The same problem in its dimod form, answered over the CQM's variables:

    >>> sampleset = ClusterNetSampler().sample_cqm(problem.cqm, seed=0, epochs=200)
    >>> row = sampleset.first.sample
    >>> problem.cqm.check_feasible(row), bool(sampleset.first.energy == problem.cqm.objective.energy(row))
    (True, True)
"""

from __future__ import annotations

import copy
import math
from collections.abc import Hashable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from numbers import Integral, Real
from typing import Any

import dimod
import networkx as nx
import numpy as np
import scipy.sparse
import torch

from gnnsolve.adapters.clustering import Modularity
from gnnsolve.adapters.kcenter import KCenter, lift_to_k
from gnnsolve.adapters.pairwise import PairwiseClustering
from gnnsolve.adapters.problem import edge_weights
from gnnsolve.errors import InvalidModelError, UnsupportedModelError
from gnnsolve.nn.clusternet import ClusterNet, ClusterNetOutput, check_settings
from gnnsolve.nn.kmeans import BACKWARDS
from gnnsolve.samplers._common import Stopwatch, check_positive_int, check_time_limit, seed_generator
from gnnsolve.samplers._torch import resolve_device
from gnnsolve.search.clustering import k_center_swaps, modularity_moves, partition_moves

__all__ = ["ClusterNetSampler", "OBJECTIVES"]

OBJECTIVES = ("modularity", "kcenter")
CHECKPOINT_EVERY = 100
"""Epochs between evaluations of the network for the best-so-far solution."""
MORE_ITERATIONS_FROM = 500
"""The epoch from which the k-means runs five warm-started updates instead of one."""
FACILITY_TEMPERATURE = 100.0
"""Inverse temperature of the softmax over nodes in the k-center selections."""
ROUNDINGS = 50
"""Pipage roundings of the k-center selections; the best on the training graph is kept."""
INFERENCE_ITERATIONS = 100
"""Most k-means updates when a fitted network is applied without training."""

ClusteringProblem = Modularity | KCenter | PairwiseClustering
LEARNED = "learned embeddings (no node features)"


@dataclass
class _Task:
    """One graph in index form: the network's input, and the problem its loss scores."""

    features: torch.Tensor | None
    edge_index: torch.Tensor
    training: ClusteringProblem
    centres: torch.Tensor | None = None


@dataclass
class _Training:
    """The outcome of training on some tasks: the curve and the best checkpoint."""

    curve: list[float] = field(default_factory=list)
    best_loss: float = math.inf
    best_relaxed: list[torch.Tensor] = field(default_factory=list)
    best_state: dict[str, torch.Tensor] | None = None
    stop_reason: str = "epochs"


@dataclass(frozen=True)
class _Fitted:
    """The network :meth:`ClusterNetSampler.fit` trained, and the problems it suits."""

    net: ClusterNet
    objective: str
    k: int
    in_features: int


class ClusterNetSampler(dimod.Sampler):
    """ClusterNet: a GCN with a differentiable k-means layer, trained on the problem's objective.

    Samples :class:`~gnnsolve.adapters.clustering.Modularity`,
    :class:`~gnnsolve.adapters.kcenter.KCenter` and
    :class:`~gnnsolve.adapters.pairwise.PairwiseClustering` problems (or a networkx graph with
    ``k`` and ``objective``), and with :meth:`sample_cqm` the k-way assignment form of a CQM, so
    that it stands in for an exact CQM sampler. The settings are the paper's defaults.

    Args:
        hidden: width of the first graph convolution.
        embedding_dim: width of the node embeddings.
        dropout: dropout between the convolutions.
        beta: inverse temperature of the soft k-means.
        learning_rate: Adam's step size.
        weight_decay: Adam's weight decay.
        backward: gradient of the k-means layer, ``"one_step"`` (the paper's) or ``"exact"``.
        device: ``"cpu"`` or ``"cuda"``.

    Example:
        >>> import networkx as nx
        >>> from gnnsolve.adapters.kcenter import KCenter
        >>> from gnnsolve.samplers.clusternet import ClusterNetSampler
        >>> problem = KCenter(nx.grid_2d_graph(4, 4), k=2)
        >>> sampleset = ClusterNetSampler().sample(problem, seed=1, epochs=100)
        >>> facilities = [v for v, chosen in sampleset.first.sample.items() if chosen]
        >>> len(facilities), bool(sampleset.first.energy == problem.evaluate(facilities))
        (2, True)
    """

    parameters: dict[str, list] = {}
    properties: dict[str, Any] = {}

    def __init__(self, hidden: int = 50, embedding_dim: int = 50, dropout: float = 0.5, beta: float = 30.0,
                 learning_rate: float = 0.01, weight_decay: float = 5e-4, backward: str = "one_step",
                 device: str | torch.device = "cpu") -> None:
        check_settings(hidden, embedding_dim, dropout, beta, backward)
        if not _is_finite_number(learning_rate) or learning_rate <= 0:
            raise ValueError(f"learning_rate must be a finite positive number, got {learning_rate!r}")
        if not _is_finite_number(weight_decay) or weight_decay < 0:
            raise ValueError(f"weight_decay must be a finite non-negative number, got {weight_decay!r}")
        self.hidden, self.embedding_dim, self.dropout, self.beta = hidden, embedding_dim, float(dropout), float(beta)
        self.learning_rate, self.weight_decay, self.backward = float(learning_rate), float(weight_decay), backward
        self.device = resolve_device(device)
        self._fitted: _Fitted | None = None
        self.fit_info: dict[str, Any] = {}
        """What the last :meth:`fit` reported: ``timing``, ``epochs``, ``training_loss``,
        ``best_training_loss``, ``objective``, ``graphs``."""
        self.parameters = {key: [] for key in (
            "k", "objective", "features", "observed", "num_reads", "seed", "epochs", "time_limit", "polish")}
        self.properties = {
            "problems": (Modularity, KCenter, PairwiseClustering),
            "objectives": OBJECTIVES,
            "backwards": BACKWARDS,
            "paper": "Wilder, Ewing, Dilkina, Tambe, End to End Learning and Optimization on Graphs, NeurIPS 2019",
        }

    def sample(
        self,
        problem: ClusteringProblem | nx.Graph,
        *,
        k: int | None = None,
        objective: str | None = None,
        features: np.ndarray | str | None = None,
        observed: nx.Graph | None = None,
        num_reads: int = 1,
        seed: int | None = None,
        epochs: int = 1001,
        time_limit: float | None = None,
        polish: bool = False,
        **kwargs: Any,
    ) -> dimod.SampleSet:
        """Train ClusterNet on ``problem`` (or apply the fitted network) and decide.

        Args:
            problem: a ``Modularity``, ``KCenter`` or ``PairwiseClustering`` problem, or an
                undirected networkx graph together with ``k`` and ``objective``. A CQM goes to
                :meth:`sample_cqm`.
            k: number of clusters (modularity) or facilities (k-center), for a graph.
            objective: ``"modularity"`` or ``"kcenter"``, for a graph.
            features: node features, an ``n × F`` array in the problem's node order (``problem.nodes``)
                or the name of a node attribute holding one vector per node; ``None`` learns one
                embedding per node instead.
            observed: a graph on the same nodes holding a subset of the edges; the network sees
                it and its loss scores it, while energies are computed on the full graph
                (modularity and k-center only).
            num_reads: independent restarts, one row each.
            seed: seed of the restarts; the same seed gives the same samples on the CPU.
            epochs: training epochs; ``0`` applies a fitted network (see :meth:`fit`) unchanged
                (its reads then differ only in the k-center roundings), more fine-tunes a copy.
            time_limit: seconds for the whole call, shared evenly by the reads.
            polish: take each decision to a local optimum of the objective on the graph the
                network trained on (the observed one if given): single-node moves among the
                ``k`` communities and merges of communities
                (:func:`~gnnsolve.search.clustering.modularity_moves`,
                :func:`~gnnsolve.search.clustering.partition_moves`) or facility swaps
                (:func:`~gnnsolve.search.clustering.k_center_swaps`). Off by default, the
                paper's decision.

        Returns:
            A SampleSet over the nodes: for modularity INTEGER community labels ``0..k-1`` with
            energy :math:`-Q`; for pairwise clustering INTEGER labels ``0..k-1`` with energy
            :meth:`PairwiseClustering.evaluate`; for k-center BINARY selections of exactly ``k``
            facilities with energy the largest distance to the nearest facility (``inf`` if
            some node cannot reach one). ``info`` holds ``timing`` (ns) and, one entry per read in row order,
            ``epochs``, ``stop_reason`` (``"epochs"`` or ``"time_limit"``), ``training_loss``
            (the curve) and ``best_training_loss``; also ``objective``, ``features``
            (``"given"`` or ``"learned embeddings (no node features)"``), ``start``
            (``"fresh"``, ``"fitted"`` or ``"fine-tuned"``), ``observed_edges`` and
            ``observed_fraction``; with ``polish``, ``raw_energy`` per row (before polishing).

        Raises:
            InvalidModelError: ``k`` is not in ``1..n``, the graph is directed or has no edges
                (modularity), or the observed graph has none.
            UnsupportedModelError: ``problem`` is not a clustering problem or graph (a dimod
                model, for instance: the message points to :meth:`sample_cqm`).
            ValueError: an unknown objective, features of the wrong shape or not finite, an
                observed graph on other nodes or with edges the graph lacks, a problem that does
                not match the fitted network, ``observed`` with a pairwise problem, or bad
                ``epochs``, ``num_reads`` or ``time_limit``.
        """
        self.remove_unknown_kwargs(**kwargs)
        watch = Stopwatch()
        with watch.phase("preprocessing"):
            problem = _resolve_problem(problem, k, objective)
        rows, energies, info = self._run(problem, watch, features, observed, num_reads, seed, epochs, time_limit,
                                         polish)
        info["timing"] = watch.timing()
        vartype = dimod.BINARY if isinstance(problem, KCenter) else dimod.INTEGER
        return dimod.SampleSet.from_samples((rows, problem.nodes), vartype, energy=energies, info=info,
                                           sort_labels=False)

    def sample_cqm(
        self,
        cqm: dimod.ConstrainedQuadraticModel,
        *,
        features: np.ndarray | str | None = None,
        num_reads: int = 1,
        seed: int | None = None,
        epochs: int = 1001,
        time_limit: float | None = None,
        polish: bool = False,
        **kwargs: Any,
    ) -> dimod.SampleSet:
        r"""Train ClusterNet on the k-way assignment form of a CQM; one row per read, over the CQM's variables.

        The form (:meth:`PairwiseClustering.from_cqm
        <gnnsolve.adapters.pairwise.PairwiseClustering.from_cqm>`): BINARY variables
        ``(v, c)`` for ``c`` in ``0..k-1``, one discrete constraint :math:`\sum_c x_{v,c} = 1`
        per node and no other, and an objective whose linear biases on ``(v, c)`` and quadratic
        biases between ``(u, c)`` and ``(v, c)`` do not depend on ``c`` (nor join different
        ``c``). Minimising it maximises :math:`\sum_c \sum_{u<v} W_{uv} x_{u,c} x_{v,c}` with
        :math:`W` minus the quadratic biases; :attr:`Modularity.cqm
        <gnnsolve.adapters.clustering.Modularity.cqm>` is such a form. ClusterNet trains on the
        objective evaluated on its soft assignments, its GCN seeing an edge wherever
        :math:`W_{uv} > 0`; ``ClusterNetSampler().sample_cqm(cqm)`` thus replaces
        ``HiGHSSampler().sample_cqm(cqm)``.

        Args:
            cqm: the assignment form.
            features: node features as in :meth:`sample`, rows in the order of the nodes'
                first appearance among ``cqm.variables``.
            num_reads, seed, epochs, time_limit, polish: as in :meth:`sample` (``polish`` runs
                :func:`~gnnsolve.search.clustering.partition_moves` on :math:`W`).

        Returns:
            A BINARY SampleSet over ``cqm.variables`` in their order, one-hot per node; energy
            ``cqm.objective.energy`` of each row. The rows carry ``is_satisfied`` and
            ``is_feasible`` (all true) and ``info["constraint_labels"]``; the rest of ``info``
            is that of :meth:`sample`, with ``objective`` ``"pairwise"``.

        Raises:
            UnsupportedModelError: ``cqm`` is not the assignment form; the variable, term or
                constraint is named. The k-center MILP (``KCenter(G, k).cqm``) is refused: pass
                ``KCenter(G, k)`` to :meth:`sample`.
            InvalidModelError: a bias is not finite, or ``k`` exceeds the number of nodes.
            ValueError: ``k``, ``objective`` or ``observed`` given (the CQM fixes the first two),
                or any error of :meth:`sample`'s settings.

        Example:
            >>> import dimod
            >>> from gnnsolve.samplers.clusternet import ClusterNetSampler
            >>> similar = {(0, 1): 2.0, (1, 2): 1.0, (2, 3): -3.0, (3, 4): 2.0, (0, 4): -1.0}
            >>> objective = dimod.BQM({}, {((u, c), (v, c)): -w for (u, v), w in similar.items() for c in range(2)},
            ...                       0.0, "BINARY")
            >>> cqm = dimod.ConstrainedQuadraticModel.from_bqm(objective)
            >>> for v in range(5):
            ...     _ = cqm.add_discrete([(v, c) for c in range(2)])
            >>> sampleset = ClusterNetSampler().sample_cqm(cqm, seed=0, epochs=50, polish=True)
            >>> float(sampleset.first.energy), cqm.check_feasible(sampleset.first.sample)
            (-5.0, True)
        """
        graph_only = sorted(set(kwargs) & {"k", "objective", "observed"})
        if graph_only:
            raise ValueError(f"sample_cqm reads k and the objective from the CQM and takes no observed graph; "
                             f"drop {', '.join(graph_only)}")
        self.remove_unknown_kwargs(**kwargs)
        watch = Stopwatch()
        with watch.phase("preprocessing"):
            problem = PairwiseClustering.from_cqm(cqm)
        rows, _, info = self._run(problem, watch, features, None, num_reads, seed, epochs, time_limit, polish)
        with watch.phase("postprocessing"):
            samples = problem.encode(rows, cqm.variables)
            energies = cqm.objective.energies(samples)
        info.update(constraint_labels=list(cqm.constraints), timing=watch.timing())
        return dimod.SampleSet.from_samples(
            samples, dimod.BINARY, energy=energies, info=info, sort_labels=False,
            is_satisfied=np.ones((len(rows), len(cqm.constraints)), dtype=bool),
            is_feasible=np.ones(len(rows), dtype=bool),
        )

    def _run(self, problem: ClusteringProblem, watch: Stopwatch, features: np.ndarray | str | None,
             observed: nx.Graph | None, num_reads: int, seed: int | None, epochs: int, time_limit: float | None,
             polish: bool) -> tuple[np.ndarray, list[float], dict[str, Any]]:
        """Train (or apply) one network per read on ``problem`` and decide: the rows (one value per
        node), their energies on ``problem``, and :meth:`sample`'s ``info`` but its ``timing``."""
        num_reads = check_positive_int("num_reads", num_reads)
        epochs = _check_epochs(epochs)
        time_limit = check_time_limit(time_limit)
        if not isinstance(polish, (bool, np.bool_)):
            raise ValueError(f"polish must be True or False, got {polish!r}")
        read_seeds = [int(s) for s in seed_generator(seed).integers(2**62, size=num_reads)]

        with watch.phase("preprocessing"):
            name = _objective_name(problem)
            node_features = _node_features(problem, features)
            start = self._start(problem, node_features, epochs)
            training, seen = _observed_problem(problem, observed)
            task = _Task(self._tensor(node_features), _edge_index(seen, problem.nodes).to(self.device), training)

        reads = []
        with watch.phase("sampling"):
            for position, read_seed in enumerate(read_seeds):
                deadline = None
                if time_limit is not None:
                    deadline = watch.elapsed() + (time_limit - watch.elapsed()) / (num_reads - position)
                with _seeded(read_seed, self.device):
                    net = self._network(problem, node_features, self._fitted)
                    task.centres = None
                    if epochs:
                        reads.append(self._train(net, [task], epochs, deadline, watch))
                    else:
                        reads.append(_apply(net, [task], INFERENCE_ITERATIONS))

        with watch.phase("postprocessing"):
            rows, energies, raw_energies = [], [], []
            for read, read_seed in zip(reads, read_seeds):
                row = _decide(training, read.best_relaxed[0], np.random.default_rng(read_seed))
                if polish:
                    raw_energies.append(_energy(problem, row))
                    row = _polish(training, row)
                rows.append(row)
                energies.append(_energy(problem, row))
        info = {
            "epochs": [len(read.curve) for read in reads],
            "stop_reason": [read.stop_reason for read in reads],
            "training_loss": [read.curve for read in reads],
            "best_training_loss": [read.best_loss for read in reads],
            "objective": name,
            "features": LEARNED if node_features is None else "given",
            "start": start,
            "observed_edges": seen.number_of_edges(),
            "observed_fraction": seen.number_of_edges() / max(1, problem.graph.number_of_edges()),
        }
        if polish:
            info["raw_energy"] = raw_energies
        return np.array(rows), energies, info

    def fit(
        self,
        problems: Sequence[ClusteringProblem | nx.Graph],
        *,
        k: int | None = None,
        objective: str | None = None,
        features: Sequence[np.ndarray] | str | None = None,
        epochs: int = 1001,
        seed: int | None = None,
        time_limit: float | None = None,
    ) -> ClusterNetSampler:
        """Train one network on several graphs, for :meth:`sample` to apply to new ones.

        Each epoch takes one Adam step on the mean loss over the graphs; the weights at the
        checkpoint with the lowest mean training loss are kept. Node features are required:
        they are what carries over to graphs with other nodes.

        Args:
            problems: problems of one objective and one ``k`` (or graphs, with ``k`` and ``objective``).
            features: one ``n_i × F`` array per problem, all of the same width ``F``, or the
                name of a node attribute that every graph has.
            epochs, seed, time_limit: as for :meth:`sample` (one run).

        Returns:
            The sampler itself; :attr:`fit_info` describes the training.

        Raises:
            ValueError: no problems, no features, problems of different objectives or ``k``,
                features of different widths, or any error of :meth:`sample`.

        Example:
            >>> import networkx as nx, numpy as np
            >>> from gnnsolve.samplers.clusternet import ClusterNetSampler
            >>> rng = np.random.default_rng(0)
            >>> graphs = [nx.connected_caveman_graph(3, 5) for _ in range(2)]
            >>> sampler = ClusterNetSampler().fit(graphs, k=3, objective="modularity",
            ...                                   features=[rng.random((15, 4)) for _ in graphs], epochs=50, seed=0)
            >>> sampler.sample(nx.connected_caveman_graph(3, 6), k=3, objective="modularity",
            ...                features=rng.random((18, 4)), epochs=0).info["start"]
            'fitted'
        """
        epochs = check_positive_int("epochs", epochs)
        time_limit = check_time_limit(time_limit)
        read_seed = int(seed_generator(seed).integers(2**62))
        if features is None:
            raise ValueError("fit needs node features: learned embeddings belong to the nodes of one graph and "
                             "cannot carry over to new graphs; pass one feature array per problem or an attribute name")
        watch = Stopwatch()
        with watch.phase("preprocessing"):
            resolved = [_resolve_problem(problem, k, objective) for problem in problems]
            if not resolved:
                raise ValueError("fit needs at least one problem")
            kinds = {(_objective_name(problem), problem.k) for problem in resolved}
            if len(kinds) > 1:
                raise ValueError(f"fit needs problems of one objective and one k, got {sorted(kinds)}")
            given = [features] * len(resolved) if isinstance(features, str) else list(features)
            if len(given) != len(resolved):
                raise ValueError(f"fit got {len(given)} feature arrays for {len(resolved)} problems; give one each")
            arrays = [_node_features(problem, array) for problem, array in zip(resolved, given)]
            widths = {array.shape[1] for array in arrays}
            if len(widths) > 1:
                raise ValueError(f"the feature arrays must all have the same width, got widths {sorted(widths)}")
            tasks = [_Task(self._tensor(array), _edge_index(problem.graph, problem.nodes).to(self.device), problem)
                     for problem, array in zip(resolved, arrays)]
        with watch.phase("sampling"), _seeded(read_seed, self.device):
            net = self._network(resolved[0], arrays[0], fitted=None)
            training = self._train(net, tasks, epochs, time_limit, watch)
            net.load_state_dict(training.best_state)
        name, k = kinds.pop()
        self._fitted = _Fitted(net, name, k, arrays[0].shape[1])
        self.fit_info = {
            "timing": watch.timing(),
            "epochs": len(training.curve),
            "stop_reason": training.stop_reason,
            "training_loss": training.curve,
            "best_training_loss": training.best_loss,
            "objective": name,
            "graphs": len(tasks),
        }
        return self

    def _start(self, problem: ClusteringProblem, features: np.ndarray | None, epochs: int) -> str:
        """``"fresh"``, ``"fitted"`` or ``"fine-tuned"``, once ``problem`` and ``features`` suit the
        fitted network."""
        fitted = self._fitted
        if fitted is None:
            if epochs == 0:
                raise ValueError("epochs=0 applies a fitted network; call fit(...) first or train with epochs >= 1")
            return "fresh"
        if (_objective_name(problem), problem.k) != (fitted.objective, fitted.k):
            raise ValueError(f"the fitted network solves {fitted.objective} with k={fitted.k}; this problem is "
                             f"{_objective_name(problem)} with k={problem.k}")
        if features is None or features.shape[1] != fitted.in_features:
            given = "none" if features is None else f"width {features.shape[1]}"
            raise ValueError(f"the fitted network reads node features of width {fitted.in_features}; got {given}")
        return "fitted" if epochs == 0 else "fine-tuned"

    def _network(self, problem: ClusteringProblem, features: np.ndarray | None, fitted: _Fitted | None) -> ClusterNet:
        """A copy of the fitted network, or a new one (drawn from torch's current random state)."""
        if fitted is not None:
            return copy.deepcopy(fitted.net)
        in_features = None if features is None else features.shape[1]
        num_nodes = len(problem.nodes) if features is None else None
        return ClusterNet(in_features, problem.k, self.hidden, self.embedding_dim, self.dropout, self.beta,
                          self.backward, num_nodes).to(self.device)

    def _tensor(self, array: np.ndarray | None) -> torch.Tensor | None:
        return None if array is None else torch.as_tensor(array, dtype=torch.float32, device=self.device)

    def _train(self, net: ClusterNet, tasks: list[_Task], epochs: int, deadline: float | None,
               watch: Stopwatch) -> _Training:
        """Adam on the mean training loss over ``tasks``, keeping the best checkpoint."""
        optimizer = torch.optim.Adam(net.parameters(), lr=self.learning_rate, weight_decay=self.weight_decay)
        result = _Training()
        began = watch.elapsed()
        for epoch in range(epochs):
            iterations = 1 if epoch < MORE_ITERATIONS_FROM else 5
            net.train()
            loss = sum(_loss(task.training, _relaxed(net, task, iterations)) for task in tasks) / len(tasks)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            result.curve.append(loss.item())
            per_epoch = (watch.elapsed() - began) / (epoch + 1)
            out_of_time = deadline is not None and watch.elapsed() + 2 * per_epoch >= deadline
            last = epoch + 1 == epochs or out_of_time
            if epoch % CHECKPOINT_EVERY == 0 or last:
                checkpoint = _apply(net, tasks, iterations)
                if not result.best_relaxed or checkpoint.best_loss < result.best_loss:
                    result.best_loss, result.best_relaxed = checkpoint.best_loss, checkpoint.best_relaxed
                    result.best_state = copy.deepcopy(net.state_dict())
            if last:
                result.stop_reason = "time_limit" if out_of_time and epoch + 1 < epochs else "epochs"
                break
        return result


def _is_finite_number(value: object) -> bool:
    return not isinstance(value, bool) and isinstance(value, Real) and math.isfinite(value)


def _check_epochs(epochs: int) -> int:
    if isinstance(epochs, bool) or not isinstance(epochs, Integral) or epochs < 0:
        raise ValueError(f"epochs must be a non-negative integer, got {epochs!r}")
    return int(epochs)


def _objective_name(problem: ClusteringProblem) -> str:
    if isinstance(problem, PairwiseClustering):
        return "pairwise"
    return "modularity" if isinstance(problem, Modularity) else "kcenter"


def _resolve_problem(problem: object, k: int | None, objective: str | None) -> ClusteringProblem:
    """The clustering problem the caller means, with every mismatch named."""
    if objective is not None and objective not in OBJECTIVES:
        raise ValueError(f"unknown objective {objective!r}; ClusterNet solves {' or '.join(map(repr, OBJECTIVES))}")
    if isinstance(problem, (Modularity, KCenter, PairwiseClustering)):
        own = _objective_name(problem)
        if objective is not None and objective != own:
            raise ValueError(f"objective={objective!r} contradicts the {type(problem).__name__} problem given")
        if k is not None and k != problem.k:
            raise ValueError(f"k={k!r} contradicts the problem's k={problem.k}")
        return problem
    if isinstance(problem, nx.Graph):
        if objective is None or k is None:
            raise ValueError("a graph needs k and objective ('modularity' or 'kcenter'); or pass Modularity(G, k) "
                             "or KCenter(G, k)")
        return Modularity(problem, k) if objective == "modularity" else KCenter(problem, k)
    raise UnsupportedModelError(
        f"ClusterNetSampler takes a Modularity or KCenter problem, a PairwiseClustering, or a networkx graph "
        f"with k and objective; got {type(problem).__name__}. A CQM in the k-way assignment form (such as "
        "Modularity(G, k).cqm) goes to ClusterNetSampler().sample_cqm; a BQM is not read back into a clustering"
    )


def _node_features(problem: ClusteringProblem, features: object) -> np.ndarray | None:
    """The features as an ``n × F`` float array in ``problem.nodes`` order, checked."""
    if features is None:
        return None
    n = len(problem.nodes)
    if isinstance(features, str):
        data = problem.graph.nodes
        missing = [node for node in problem.nodes if features not in data[node]]
        if missing:
            raise ValueError(f"node {missing[0]!r} has no attribute {features!r}; every node needs a feature vector")
        rows = [np.ravel(np.asarray(data[node][features], dtype=np.float64)) for node in problem.nodes]
        if len({row.shape for row in rows}) > 1:
            raise ValueError(f"the {features!r} attributes have different lengths; every node needs one of width F")
        array = np.stack(rows)
    else:
        if scipy.sparse.issparse(features):
            features = features.toarray()
        try:
            array = np.asarray(features, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"features must be a numeric array of shape ({n}, F)") from None
    if array.ndim != 2 or array.shape[0] != n or array.shape[1] == 0:
        raise ValueError(f"features must have shape ({n}, F) with F >= 1, one row per node in problem.nodes order; "
                         f"got shape {array.shape}")
    if not np.isfinite(array).all():
        row = int(np.flatnonzero(~np.isfinite(array).all(axis=1))[0])
        raise ValueError(f"features of node {problem.nodes[row]!r} hold NaN or infinite values")
    return array


def _observed_problem(problem: ClusteringProblem, observed: nx.Graph | None) -> tuple[ClusteringProblem, nx.Graph]:
    """The problem the loss scores and the graph the network sees: those of ``observed`` if given."""
    if observed is None:
        return problem, problem.graph
    if isinstance(problem, PairwiseClustering):
        raise ValueError("observed applies to Modularity and KCenter, whose graph the network sees; a "
                         "PairwiseClustering has no graph of observed edges")
    if not isinstance(observed, nx.Graph) or observed.is_directed():
        raise ValueError(f"observed must be an undirected networkx graph, got {type(observed).__name__}")
    if set(observed.nodes) != set(problem.nodes):
        differ = set(observed.nodes) ^ set(problem.nodes)
        raise ValueError(f"observed must have exactly the problem's nodes; node {next(iter(differ))!r} is in one "
                         f"graph only")
    unknown = [(u, v) for u, v in observed.edges() if not problem.graph.has_edge(u, v)]
    if unknown:
        raise ValueError(f"observed edge {unknown[0]!r} is not an edge of the problem's graph; observed holds a "
                         "subset of the edges")
    seen = observed.__class__()
    seen.add_nodes_from(problem.nodes)
    seen.add_edges_from(observed.edges(data=True))
    try:
        return type(problem)(seen, problem.k, problem.weight), seen
    except InvalidModelError as err:
        raise InvalidModelError(f"the observed graph cannot be trained on: {err}") from None


def _edge_index(G: nx.Graph, nodes: list[Hashable]) -> torch.Tensor:
    """Both directions of every edge (self-loops left out; the convolution adds its own)."""
    index = {node: i for i, node in enumerate(nodes)}
    pairs = torch.tensor([(index[u], index[v]) for u, v, _ in edge_weights(G, None)], dtype=torch.int64)
    pairs = pairs.reshape(-1, 2).T
    return torch.cat([pairs, pairs.flip(0)], dim=1)


@contextmanager
def _seeded(seed: int, device: torch.device) -> Iterator[None]:
    """Seed torch for the block and restore its random state afterwards."""
    devices = [device.index if device.index is not None else torch.cuda.current_device()] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


def _relaxed(net: ClusterNet, task: _Task, iterations: int) -> torch.Tensor:
    """The soft solution: assignments (modularity, pairwise) or facility selections (k-center)."""
    if task.centres is not None:
        net.centres = task.centres
    output: ClusterNetOutput = net(task.features, task.edge_index, iterations)
    task.centres = net.centres
    if isinstance(task.training, KCenter):
        return net.facility_weights(output.embeddings, output.clusters.centres, FACILITY_TEMPERATURE)
    return output.clusters.assignments


def _loss(training: ClusteringProblem, relaxed: torch.Tensor) -> torch.Tensor:
    if isinstance(training, Modularity):
        return -training.soft_objective(relaxed)
    if isinstance(training, KCenter):
        return training.soft_objective(relaxed, beta=0.0)
    return training.soft_objective(relaxed)


def _apply(net: ClusterNet, tasks: list[_Task], iterations: int) -> _Training:
    """The network without dropout or gradient: its soft solutions and mean training loss."""
    net.eval()
    with torch.no_grad():
        relaxed = [_relaxed(net, task, iterations) for task in tasks]
        loss = sum(float(_loss(task.training, r)) for task, r in zip(tasks, relaxed)) / len(tasks)
    return _Training(best_loss=loss, best_relaxed=relaxed)


def _decide(training: ClusteringProblem, relaxed: torch.Tensor, rng: np.random.Generator) -> np.ndarray:
    """One value per node: the most likely cluster, or the best of the facility roundings."""
    soft = relaxed.detach().cpu().double().numpy()
    if not isinstance(training, KCenter):
        return soft.argmax(axis=1)
    y = lift_to_k(soft, training.k)
    capped = training.capped_distances
    index = {node: i for i, node in enumerate(training.nodes)}

    def radius(chosen: frozenset) -> float:
        return float(capped[:, [index[node] for node in chosen]].min(axis=1).max())

    best = min((training.round_selection(y, "pipage", rng) for _ in range(ROUNDINGS)), key=radius)
    chosen = training.decode({node: int(node in best) for node in training.nodes}).value
    return np.array([int(node in chosen) for node in training.nodes], dtype=np.int8)


def _polish(training: ClusteringProblem, row: np.ndarray) -> np.ndarray:
    """The decision taken to a local optimum of the training problem's exact objective."""
    if isinstance(training, Modularity):
        return modularity_moves(training.adjacency, row, training.k)
    if isinstance(training, PairwiseClustering):
        return partition_moves(training.weights, row, training.k)
    chosen = k_center_swaps(training.capped_distances, np.flatnonzero(row))
    polished = np.zeros_like(row)
    polished[chosen] = 1
    return polished


def _energy(problem: ClusteringProblem, row: np.ndarray) -> float:
    """The exact objective to minimise on the full graph: ``-Q``, the pairwise objective or the largest distance."""
    if isinstance(problem, Modularity):
        return -problem.evaluate(dict(zip(problem.nodes, row.tolist())))
    if isinstance(problem, PairwiseClustering):
        return problem.evaluate(dict(zip(problem.nodes, row.tolist())))
    return problem.evaluate([node for node, chosen in zip(problem.nodes, row) if chosen])
