"""``ClusterNetSampler``: community detection and k-center by decision-focused learning.

Implements Wilder, Ewing, Dilkina and Tambe, "End to End Learning and Optimization on Graphs",
NeurIPS 2019. The network (:class:`gnnsolve.nn.clusternet.ClusterNet`) embeds the nodes with a
GCN and clusters the embeddings with a differentiable soft k-means; its loss is the problem's
own relaxed objective, evaluated on the soft clustering:

- modularity: minus the soft modularity of the assignments
  (:meth:`~gnnsolve.adapters.clustering.Modularity.soft_objective`); each node then joins its
  most likely cluster (the paper's decision, whose energy ``info["argmax_energy"]`` keeps), and
  whole clusters are merged while modularity rises (greedily, as Clauset, Newman and Moore do;
  :func:`~gnnsolve.search.clustering.modularity_moves` with ``moves=False``): the soft k-means
  keeps every one of its ``k`` clusters, and ``k`` is only the most communities allowed;
- pairwise clustering, the k-way assignment form of a CQM such as ``Modularity(G, k).cqm``
  (:class:`~gnnsolve.adapters.pairwise.PairwiseClustering`, what
  :meth:`ClusterNetSampler.sample_cqm` reads): the CQM's objective on the soft assignments
  (:meth:`~gnnsolve.adapters.pairwise.PairwiseClustering.soft_objective`), the network seeing
  the pairs of positive weight as edges; each node then joins its most likely cluster, and
  clusters are merged as for modularity;
- k-center: the expected distance of the soft facility selections
  (:meth:`~gnnsolve.nn.clusternet.ClusterNet.facility_weights`), averaged over nodes
  (:meth:`~gnnsolve.adapters.kcenter.KCenter.soft_objective` with ``beta=0``); the selections
  are then rounded to exactly ``k`` facilities 50 times by pipage rounding and the rounding with
  the smallest largest distance on the training graph is kept.

A fresh network starts from the graph rather than at random
(:meth:`~gnnsolve.nn.clusternet.ClusterNet.start_from`): without node features its embedding
table is a spectral embedding of the graph, and the k-means centres are k-means++ picks among the
first embeddings. From the paper's random start, the k-means merged all 20,000 nodes of a planted
partition into one cluster (modularity 0 after 1001 epochs); from the graph's, the first
decision already holds 0.994 of the planted modularity. The GCN's products are sparse
(:func:`~gnnsolve.nn.clusternet.normalized_adjacency` built once per call), so an epoch costs
:math:`O(|E|(h + d) + nkd)`.

Training follows the paper: Adam (learning rate 0.01, weight decay 5e-4) for 1001 epochs; the
k-means runs one warm-started update per epoch (five from epoch 500 on) before the
differentiable one; every 100 epochs (and at the last) the network is evaluated without dropout
and the soft solution with the lowest training loss so far is kept for the decision. The epochs
are not cut short when the loss levels off: the training loss keeps falling in steps late in
the run (when the k-means moves to five updates, for instance), and stopping at a plateau lost
modularity on a third of the restarts tried on the community graphs.

The budget (``time_limit``) is the whole call: building the index form, training every read,
the decision, polishing and the energies. Each read gets an even share of what is left; its
training stops once the next epoch and a last evaluation would not fit before its share, less
what the decision and polishing are expected to take, and polishing and the k-center roundings
stop at the read's end. A read whose share cannot hold one epoch decides at random (uniform
labels, or ``k`` uniform facilities), which ``polish`` then improves; ``info["epochs"]`` is then
0 and ``info["stop_reason"]`` ``"time_limit"``. torch runs with :func:`~gnnsolve.samplers._torch.torch_threads`
for the call (one thread unless an epoch's work is large and the cores are idle).

A ``KeyboardInterrupt`` (Ctrl-C) during a read's training stops it as its budget would, but
at once: the read decides from its best checkpoint so far (at random before the first, which
follows epoch 0) by the argmax alone, skips the merges and ``polish``, and its ``stop_reason`` is
``"interrupted"``; no further read runs, so the SampleSet holds the reads up to that one. In
:meth:`ClusterNetSampler.fit` it keeps the best checkpoint so far. An interrupt anywhere else is
raised to the caller, and the sampler (its fitted network and ``fit_info``) is left as it was.

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
import itertools
import logging
import math
import time
from collections.abc import Iterator, Sequence
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
from gnnsolve.adapters.kcenter import KCenter, check_pair_memory, lift_to_k
from gnnsolve.adapters.pairwise import PairwiseClustering
from gnnsolve.errors import InvalidModelError, UnsupportedModelError
from gnnsolve.nn.clusternet import (
    ClusterNet,
    ClusterNetOutput,
    Features,
    SparseFeatures,
    check_settings,
    normalized_adjacency,
    sparse_features,
)
from gnnsolve.nn.kmeans import BACKWARDS
from gnnsolve.nn.sparse import SparseOperator
from gnnsolve.samplers._common import (
    Stopwatch,
    check_positive_int,
    check_time_limit,
    resolve_time_limit,
    seed_generator,
)
from gnnsolve.samplers._progress import STOP_REASON, Callback, Watcher, check_callback, check_progress
from gnnsolve.samplers._torch import check_threads, resolve_device, torch_threads
from gnnsolve.search.clustering import k_center_swaps, modularity_moves, partition_moves

__all__ = ["ClusterNetSampler", "OBJECTIVES"]

logger = logging.getLogger(__name__)

OBJECTIVES = ("modularity", "kcenter")
CHECKPOINT_EVERY = 100
"""Epochs between evaluations of the network for the best-so-far solution."""
MORE_ITERATIONS_FROM = 500
"""The epoch from which the k-means runs :data:`KMEANS_UPDATES` warm-started updates instead of one."""
KMEANS_UPDATES = 5
"""Warm-started k-means updates per epoch from :data:`MORE_ITERATIONS_FROM` on."""
FACILITY_TEMPERATURE = 100.0
"""Inverse temperature of the softmax over nodes in the k-center selections."""
ROUNDINGS = 50
"""Pipage roundings of the k-center selections; the best on the training graph is kept."""
INFERENCE_ITERATIONS = 100
"""Most k-means updates when a fitted network is applied without training."""
EPOCH_OVERHEAD = 0.003
"""Seconds of an epoch spent in Python and autograd bookkeeping, whatever the graph."""
NODE_EPOCH_SECONDS = 1.5e-6
"""Seconds of an epoch per node at widths 50 and 50 (element-wise work, dropout, fused Adam's update),
scaled with the widths."""
PRODUCT_RATE = 6e10
"""Multiply-adds per second of an epoch's dense matrix products, counted once for forward and backward."""
MESSAGE_EPOCH_SECONDS = 1e-8
"""Seconds of an epoch per stored entry of the normalised adjacency (a sparse product each way) at
widths 50, 50 and 0 clusters, scaled with the widths plus the clusters (the loss's product)."""
SPARSE_FEATURES = 0.1
"""Largest share of nonzero feature values for which the features are kept in sparse form."""
PAIR_EPOCH_SECONDS = 1.8e-8
"""Seconds of an epoch per pair of nodes in the k-center loss."""
PAIR_TRAINING_BYTES = 56
"""Bytes per pair of nodes that training on k-center adds to the problem's distances: the sorted
order and steps of the loss's index form and an epoch's ``n × n`` temporaries and saved tensors (53
measured at 3,000 nodes). Above what :func:`~gnnsolve.samplers._common.available_memory` reports,
a k-center call is refused before training (about 17,000 nodes per 16 GB)."""
PAIR_SORT_SECONDS = 1e-7
"""Seconds per pair of nodes to sort the distances once, the k-center loss's index form."""
EDGE_BUILD_SECONDS = 2e-7
"""Seconds per stored entry to build the sparse operator of the modularity and pairwise losses once."""
PACE_WINDOW = 0.02
"""Seconds of set-up from which the share of a core the call gets is measured (else a whole core is assumed)."""
READ_SECONDS = (20.0, 60.0)
"""The least and the most seconds per read of the default budget."""
POLISH_SHARE = 0.25
"""The largest share of a read's budget kept for polishing."""
POLISH_PASSES = 10
"""Passes of node moves (or facility swaps) polishing is expected to need, when its time is kept."""
NODE_SECONDS = 2e-5
"""Seconds one pass of node moves spends on a node (the Python loop of the descent)."""
SWAP_SECONDS = 2e-9
"""Seconds one step of facility swaps spends per distance entry and facility."""
ROUNDING_SECONDS = 3e-6
"""Seconds one pipage rounding and its radius cost per node."""
FINISH_SECONDS = (0.02, 2e-6)
"""Seconds kept, per read, for its energies: a constant and a cost per node."""

ClusteringProblem = Modularity | KCenter | PairwiseClustering
LEARNED = "learned embeddings (no node features)"


@dataclass
class _Task:
    """One graph in index form: the network's input, and the problem its loss scores."""

    features: Features | None
    graph: SparseOperator
    training: ClusteringProblem
    centres: torch.Tensor | None = None
    loss_built: bool = False


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


@dataclass(frozen=True)
class _EpochCost:
    """One training epoch: its multiply-adds (what the thread count is chosen from), its expected
    seconds on a core of its own, and those of building the loss's index form before the first."""

    work: float
    seconds: float
    build: float

    def default_budget(self, epochs: int, reads: int) -> float:
        """The default ``time_limit``: per read, twice the expected time of ``epochs`` epochs, within
        :data:`READ_SECONDS`."""
        low, high = READ_SECONDS
        return reads * min(high, max(low, 2 * epochs * self.seconds))


@dataclass(frozen=True)
class _Settings:
    """The checked keywords of one :meth:`ClusterNetSampler.sample` call."""

    read_seeds: list[int]
    epochs: int
    time_limit: float | None
    polish: bool
    threads: int | None

    @classmethod
    def check(
        cls, num_reads: int, seed: int | None, epochs: int, time_limit: float | None, polish: bool, threads: int | None
    ) -> _Settings:
        num_reads = check_positive_int("num_reads", num_reads)
        epochs = _check_epochs(epochs)
        time_limit = check_time_limit(time_limit)
        if not isinstance(polish, (bool, np.bool_)):
            raise ValueError(f"polish must be True or False, got {polish!r}")
        threads = check_threads(threads)
        read_seeds = [int(s) for s in seed_generator(seed).integers(2**62, size=num_reads)]
        return cls(read_seeds, epochs, time_limit, bool(polish), threads)


@dataclass(frozen=True)
class _Reserve:
    """Seconds of a read's share kept after its training: for the decision, polishing and the energies."""

    decision: float
    polish: float
    finish: float

    @property
    def total(self) -> float:
        return self.decision + self.polish + self.finish

    @classmethod
    def after_training(cls, training: ClusteringProblem, polish: bool, share: float) -> _Reserve:
        """The reserve of a read with ``share`` seconds: the expected cost of each step, polishing's
        capped at :data:`POLISH_SHARE` of the share."""
        n = len(training.nodes)
        kcenter = isinstance(training, KCenter)
        decision = ROUNDINGS * ROUNDING_SECONDS * n if kcenter else 0.0
        finish = FINISH_SECONDS[0] + FINISH_SECONDS[1] * n * (1 + polish)
        polishing = 0.0
        if polish:
            per_pass = SWAP_SECONDS * n * n * training.k if kcenter else NODE_SECONDS * n
            polishing = min(POLISH_SHARE * share, POLISH_PASSES * per_pass)
        return cls(decision, polishing, finish)


class ClusterNetSampler(dimod.Sampler):
    r"""ClusterNet: a GCN with a differentiable k-means layer, trained on the problem's objective.

    Samples :class:`~gnnsolve.adapters.clustering.Modularity`,
    :class:`~gnnsolve.adapters.kcenter.KCenter` and
    :class:`~gnnsolve.adapters.pairwise.PairwiseClustering` problems (or a networkx graph with
    ``k`` and ``objective``), and with :meth:`sample_cqm` the k-way assignment form of a CQM, so
    that it stands in for an exact CQM sampler. The settings are the paper's defaults.

    **Default budget** (``time_limit=None``): per read, twice the expected time of the epochs
    asked on a core of its own, at least 20 s and at most 60 s (:data:`READ_SECONDS`):

    .. math::

        T = \text{reads} \times \min\big(60, \max(20,\ 2\, \text{epochs}\, t)\big) \text{ s}, \qquad
        t = 0.003 + 1.5 \cdot 10^{-6}\, n\, \tfrac{h + d}{100}
            + \frac{3 (P h + n h d + 14 n k d)}{6 \cdot 10^{10}} + 10^{-8}\, s\, \tfrac{h + d + k}{100}
            \;[+\ 1.8 \cdot 10^{-8} n^2]

    seconds per epoch for :math:`n` nodes, :math:`s = 2|E| + n` stored entries of the normalised
    adjacency, :math:`P` the nonzero features (:math:`n F` for dense ones of width :math:`F`,
    :math:`n d` for learned embeddings), widths :math:`h` and :math:`d` and :math:`k` clusters; the
    bracket is the k-center loss. Measured on one core: cora (:math:`k = 103`) 15 ms an epoch,
    citeseer (:math:`k = 471`) 54 ms, a 20,000-node planted partition (:math:`k = 20`, 200,000
    edges) 50 to 100 ms. On the small community graphs the 1001 epochs take a few seconds and end
    well inside the 20 s; from a few thousand nodes on, the default is 60 s per read.
    ``info["time_limit"]`` reports the budget applied; ``time_limit=math.inf`` removes the limit.

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

    def __init__(
        self,
        hidden: int = 50,
        embedding_dim: int = 50,
        dropout: float = 0.5,
        beta: float = 30.0,
        learning_rate: float = 0.01,
        weight_decay: float = 5e-4,
        backward: str = "one_step",
        device: str | torch.device = "cpu",
    ) -> None:
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
        """What the last :meth:`fit` reported: ``timing``, ``time_limit``, ``threads``, ``epochs``,
        ``stop_reason``, ``training_loss``, ``best_training_loss``, ``objective``, ``graphs``."""
        self.parameters = {
            key: []
            for key in (
                "k",
                "objective",
                "features",
                "observed",
                "num_reads",
                "seed",
                "epochs",
                "time_limit",
                "polish",
                "threads",
                "progress",
                "callback",
            )
        }
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
        threads: int | None = None,
        progress: bool = False,
        callback: Callback | None = None,
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
            time_limit: seconds for the whole call (set-up, training, decision, polishing and
                energies), shared evenly by the reads; ``None`` for the default budget (see the
                class), ``math.inf`` for none.
            polish: take each decision to a local optimum of the objective on the graph the
                network trained on (the observed one if given): single-node moves among the
                ``k`` communities, merges of communities, and Leiden's refinement and
                aggregation (:func:`~gnnsolve.search.clustering.modularity_moves`,
                :func:`~gnnsolve.search.clustering.partition_moves`) or facility swaps
                (:func:`~gnnsolve.search.clustering.k_center_swaps`). Off by default, the
                paper's decision.
            threads: torch's intra-op threads for the call; ``None`` chooses from an epoch's work
                (:func:`~gnnsolve.samplers._torch.default_threads`). The caller's setting is
                restored afterwards.
            progress: draw a tqdm bar on ``stderr`` over the epochs of all reads (the best
                checkpoint loss in its postfix), closed when the call ends. Off by default; it
                does not change the result.
            callback: ``callback(state) -> bool | None``, called after every epoch with a
                read-only :class:`~gnnsolve.samplers._progress.TrainingState` (``epoch`` within
                the read, ``elapsed``, ``best_energy``: the best checkpoint's training loss, ``inf``
                before the first,
                ``loss``: the epoch's, ``phase``: ``"training read i/r"``). Returning ``True``
                stops the read as its time limit would (a last checkpoint, then the decision,
                merges and ``polish``) with ``stop_reason`` ``"callback"``, and no further read
                runs. An exception it raises ends the call and reaches the caller unchanged.

        Returns:
            A SampleSet over the nodes: for modularity INTEGER community labels ``0..k-1`` with
            energy :math:`-Q`; for pairwise clustering INTEGER labels ``0..k-1`` with energy
            :meth:`PairwiseClustering.evaluate`; for k-center BINARY selections of exactly ``k``
            facilities with energy the largest distance to the nearest facility (``inf`` if
            some node cannot reach one). ``info`` holds ``timing`` (ns), ``time_limit`` (the
            budget applied, seconds; ``inf`` for none), ``threads`` and, one entry per read in row
            order, ``epochs``, ``stop_reason`` (``"epochs"``, ``"time_limit"``, ``"callback"`` (the
            callback stopped that read, the last row) or ``"interrupted"``:
            Ctrl-C stopped that read's training, it is the last row and was not polished; see the
            module docstring), ``training_loss`` (the curve) and ``best_training_loss``; also ``objective``, ``features``
            (``"given"`` or ``"learned embeddings (no node features)"``), ``start``
            (``"fresh"``, ``"fitted"`` or ``"fine-tuned"``), ``observed_edges`` and
            ``observed_fraction``; with ``polish``, ``raw_energy`` per row (before polishing); for
            partitions, ``argmax_energy`` per row (each node in its most likely cluster, before
            the merges).

        Raises:
            InvalidModelError: ``k`` is not in ``1..n``, the graph is directed or has no edges
                (modularity), or the observed graph has none.
            ModelTooLargeError: k-center training's ``n × n`` tensors (:data:`PAIR_TRAINING_BYTES`
                a pair, beside the problem's distances) would not fit in the memory available;
                refused before training.
            UnsupportedModelError: ``problem`` is not a clustering problem or graph (a dimod
                model, for instance: the message points to :meth:`sample_cqm`).
            ValueError: an unknown objective, features of the wrong shape or not finite, an
                observed graph on other nodes or with edges the graph lacks, a problem that does
                not match the fitted network, ``observed`` with a pairwise problem, or bad
                ``epochs``, ``num_reads``, ``time_limit`` or ``threads``.
        """
        watch = Stopwatch()
        self.remove_unknown_kwargs(**kwargs)
        settings = _Settings.check(num_reads, seed, epochs, time_limit, polish, threads)
        watching = check_progress(progress), check_callback(callback)
        with watch.phase("preprocessing"):
            problem = _resolve_problem(problem, k, objective)
        rows, energies, info = self._run(problem, watch, features, observed, settings, *watching)
        with watch.phase("postprocessing"):
            vartype = dimod.BINARY if isinstance(problem, KCenter) else dimod.INTEGER
            sampleset = dimod.SampleSet.from_samples(
                (rows, problem.nodes), vartype, energy=energies, info=info, sort_labels=False
            )
        sampleset.info["timing"] = watch.timing()
        return sampleset

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
        threads: int | None = None,
        progress: bool = False,
        callback: Callback | None = None,
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
            num_reads, seed, epochs, time_limit, polish, threads, progress, callback: as in :meth:`sample` (``polish``
                runs :func:`~gnnsolve.search.clustering.partition_moves` on :math:`W`; the budget
                includes reading the CQM).

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
            raise ValueError(
                f"sample_cqm reads k and the objective from the CQM and takes no observed graph; drop {', '.join(graph_only)}"
            )
        watch = Stopwatch()
        self.remove_unknown_kwargs(**kwargs)
        settings = _Settings.check(num_reads, seed, epochs, time_limit, polish, threads)
        watching = check_progress(progress), check_callback(callback)
        with watch.phase("preprocessing"):
            problem = PairwiseClustering.from_cqm(cqm)
        rows, _, info = self._run(problem, watch, features, None, settings, *watching)
        with watch.phase("postprocessing"):
            samples = problem.encode(rows, cqm.variables)
            energies = cqm.objective.energies(samples)
            info["constraint_labels"] = list(cqm.constraints)
            sampleset = dimod.SampleSet.from_samples(
                samples,
                dimod.BINARY,
                energy=energies,
                info=info,
                sort_labels=False,
                is_satisfied=np.ones((len(rows), len(cqm.constraints)), dtype=bool),
                is_feasible=np.ones(len(rows), dtype=bool),
            )
        sampleset.info["timing"] = watch.timing()
        return sampleset

    def _run(
        self,
        problem: ClusteringProblem,
        watch: Stopwatch,
        features: np.ndarray | str | None,
        observed: nx.Graph | None,
        settings: _Settings,
        progress: bool = False,
        callback: Callback | None = None,
    ) -> tuple[np.ndarray, list[float], dict[str, Any]]:
        """Train (or apply) one network per read on ``problem``, decide and polish, within the budget:
        the rows (one value per node), their energies on ``problem``, and :meth:`sample`'s ``info``
        but its ``timing``. ``progress`` and ``callback`` as :meth:`sample` takes them."""
        cpu_start, wall_start = time.process_time(), watch.elapsed()
        with watch.phase("preprocessing"):
            name = _objective_name(problem)
            node_features = _node_features(problem, features)
            start = self._start(problem, node_features, settings.epochs)
            training, seen = _observed_problem(problem, observed)
            _check_memory(training)
            edge_index, observed_edges = _edge_index(seen)
            edges = observed_edges if seen is problem.graph else problem.graph.number_of_edges()
            task = _Task(self._tensor(node_features), self._adjacency(edge_index, len(problem.nodes)), training)
            cost = self._epoch_cost(task)
            watch.time_limit = resolve_time_limit(
                settings.time_limit, cost.default_budget(settings.epochs, len(settings.read_seeds))
            )
        pace = _core_share(cpu_start, wall_start, watch)
        num_reads = len(settings.read_seeds)
        if logger.isEnabledFor(logging.INFO):
            logger.info(
                "ClusterNet: built the %s problem at %.2f s: %d nodes, %d observed edges; %d reads of %d epochs "
                "(%s start) within %.3g s",
                name,
                watch.elapsed(),
                len(problem.nodes),
                observed_edges,
                num_reads,
                settings.epochs,
                start,
                watch.time_limit,
            )

        reads: list[_Training] = []
        rows, energies, raw_energies, argmax_energies = [], [], [], []
        watcher = Watcher(
            "ClusterNet",
            logger=logger,
            progress=progress and settings.epochs > 0,
            callback=callback,
            total=settings.epochs * num_reads,
            clock=watch.elapsed,
        )
        with torch_threads(settings.threads, cost.work) as threads, watcher:
            for position, read_seed in enumerate(settings.read_seeds):
                end = watch.deadline(1 / (len(settings.read_seeds) - position))
                kept = _Reserve.after_training(training, settings.polish, end - watch.elapsed())
                with watch.phase("sampling"), _seeded(read_seed, self.device):
                    net = self._network(problem, node_features, self._fitted)
                    task.centres = None if self._fitted else _start(net, task)
                    if settings.epochs:
                        phase = f"training read {position + 1}/{num_reads}"
                        if logger.isEnabledFor(logging.INFO):
                            logger.info("ClusterNet: %s: up to %d epochs, until %.3g s", phase, settings.epochs, end - kept.total)
                        watcher.restart()
                        read = self._train(net, [task], settings.epochs, end - kept.total, watch, cost, pace, watcher, phase)
                        if logger.isEnabledFor(logging.INFO):
                            logger.info(
                                "ClusterNet: %s stopped after %d epochs (%s) at %.2f s: best loss %.6g",
                                phase,
                                len(read.curve),
                                read.stop_reason,
                                watch.elapsed(),
                                read.best_loss,
                            )
                    else:
                        _build_loss(task, self.device)
                        read = _apply(net, [task], INFERENCE_ITERATIONS)
                reads.append(read)
                with watch.phase("postprocessing"):
                    relaxed = read.best_relaxed[0] if read.best_relaxed else None
                    rng = np.random.default_rng(read_seed)
                    decided_by = _clock(watch, end - kept.polish - kept.finish)
                    row = _decide(training, relaxed, rng, decided_by)
                    interrupted = read.stop_reason == "interrupted"
                    if not isinstance(training, KCenter):
                        argmax_energies.append(_energy(problem, row))
                        if not interrupted:
                            row = _merge(training, row, decided_by)
                    if settings.polish:
                        raw_energies.append(_energy(problem, row))
                        if not interrupted:
                            row = _polish(training, row, _clock(watch, end - kept.finish))
                    rows.append(row)
                    energies.append(_energy(problem, row))
                if logger.isEnabledFor(logging.INFO):
                    logger.info(
                        "ClusterNet: read %d/%d decided%s at %.2f s: energy %.6g",
                        position + 1,
                        num_reads,
                        " and polished" if settings.polish and not interrupted else "",
                        watch.elapsed(),
                        energies[-1],
                    )
                if interrupted or read.stop_reason == STOP_REASON:
                    break
        info = {
            "time_limit": watch.time_limit,
            "threads": threads,
            "epochs": [len(read.curve) for read in reads],
            "stop_reason": [read.stop_reason for read in reads],
            "training_loss": [read.curve for read in reads],
            "best_training_loss": [read.best_loss for read in reads],
            "objective": name,
            "features": LEARNED if node_features is None else "given",
            "start": start,
            "observed_edges": observed_edges,
            "observed_fraction": observed_edges / max(1, edges),
        }
        if settings.polish:
            info["raw_energy"] = raw_energies
        if argmax_energies:
            info["argmax_energy"] = argmax_energies
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
        threads: int | None = None,
        progress: bool = False,
        callback: Callback | None = None,
    ) -> ClusterNetSampler:
        """Train one network on several graphs, for :meth:`sample` to apply to new ones.

        Each epoch takes one Adam step on the mean loss over the graphs; the weights at the
        checkpoint with the lowest mean training loss are kept. Node features are required:
        they are what carries over to graphs with other nodes.

        Args:
            problems: problems of one objective and one ``k`` (or graphs, with ``k`` and ``objective``).
            features: one ``n_i × F`` array per problem, all of the same width ``F``, or the
                name of a node attribute that every graph has.
            epochs, seed, time_limit, threads: as for :meth:`sample` (one run; the default budget
                counts the work of all the graphs). Should the budget not hold one epoch, the
                network stays as initialised (``fit_info["epochs"]`` is 0). Ctrl-C during training
                keeps the best checkpoint so far (``fit_info["stop_reason"]`` is ``"interrupted"``);
                elsewhere it is raised, and the sampler keeps what it had fitted before.
            progress: draw a tqdm bar on ``stderr`` over the epochs (the best checkpoint's mean
                loss in its postfix).
            callback: ``callback(state) -> bool | None``, called after every epoch with a
                read-only :class:`~gnnsolve.samplers._progress.TrainingState` (phase
                ``"fitting"``, the best checkpoint's mean loss as ``best_energy``); a true answer
                ends the training after a last checkpoint, keeps the best weights so far and sets
                ``fit_info["stop_reason"]`` to ``"callback"``.

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
        watch = Stopwatch()
        cpu_start = time.process_time()
        epochs = check_positive_int("epochs", epochs)
        time_limit = check_time_limit(time_limit)
        threads = check_threads(threads)
        progress, callback = check_progress(progress), check_callback(callback)
        read_seed = int(seed_generator(seed).integers(2**62))
        if features is None:
            raise ValueError(
                "fit needs node features: learned embeddings belong to the nodes of one graph and "
                "cannot carry over to new graphs; pass one feature array per problem or an attribute name"
            )
        with watch.phase("preprocessing"):
            resolved = [_resolve_problem(problem, k, objective) for problem in problems]
            if not resolved:
                raise ValueError("fit needs at least one problem")
            for problem in resolved:
                _check_memory(problem)
            kinds = {(_objective_name(problem), problem.k) for problem in resolved}
            if len(kinds) > 1:
                raise ValueError(f"fit needs problems of one objective and one k, got {sorted(kinds)}")
            given = [features] * len(resolved) if isinstance(features, str) else list(features)
            if len(given) != len(resolved):
                raise ValueError(f"fit got {len(given)} feature arrays for {len(resolved)} problems; give one each")
            arrays = [_required_features(problem, array) for problem, array in zip(resolved, given)]
            widths = {array.shape[1] for array in arrays}
            if len(widths) > 1:
                raise ValueError(f"the feature arrays must all have the same width, got widths {sorted(widths)}")
            tasks = [
                _Task(self._tensor(array), self._adjacency(_edge_index(problem.graph)[0], len(problem.nodes)), problem)
                for problem, array in zip(resolved, arrays)
            ]
            costs = [self._epoch_cost(task) for task in tasks]
            cost = _EpochCost(*(sum(values) for values in zip(*((c.work, c.seconds, c.build) for c in costs))))
            watch.time_limit = resolve_time_limit(time_limit, cost.default_budget(epochs, 1))
        pace = _core_share(cpu_start, 0.0, watch)
        watcher = Watcher("ClusterNet", logger=logger, progress=progress, callback=callback, total=epochs, clock=watch.elapsed)
        with watch.phase("sampling"), torch_threads(threads, cost.work) as used, _seeded(read_seed, self.device), watcher:
            net = self._network(resolved[0], arrays[0], fitted=None)
            for task in tasks:
                task.centres = _start(net, task)
            deadline = watch.time_limit - FINISH_SECONDS[0]
            training = self._train(net, tasks, epochs, deadline, watch, cost, pace, watcher, phase="fitting")
            if training.best_state is not None:
                net.load_state_dict(training.best_state)
        name, k = kinds.pop()
        fit_info = {
            "timing": watch.timing(),
            "time_limit": watch.time_limit,
            "threads": used,
            "epochs": len(training.curve),
            "stop_reason": training.stop_reason,
            "training_loss": training.curve,
            "best_training_loss": training.best_loss,
            "objective": name,
            "graphs": len(tasks),
        }
        self._fitted, self.fit_info = _Fitted(net, name, k, arrays[0].shape[1]), fit_info
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
            raise ValueError(
                f"the fitted network solves {fitted.objective} with k={fitted.k}; this problem is "
                f"{_objective_name(problem)} with k={problem.k}"
            )
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
        return ClusterNet(
            in_features, problem.k, self.hidden, self.embedding_dim, self.dropout, self.beta, self.backward, num_nodes
        ).to(self.device)

    def _tensor(self, array: np.ndarray | None) -> Features | None:
        """The features on the device, in sparse form when at most :data:`SPARSE_FEATURES` of them are nonzero."""
        if array is None:
            return None
        tensor = torch.as_tensor(array, dtype=torch.float32, device=self.device)
        return sparse_features(tensor) if np.count_nonzero(array) <= SPARSE_FEATURES * array.size else tensor

    def _adjacency(self, edge_index: torch.Tensor, n: int) -> SparseOperator:
        return normalized_adjacency(edge_index.to(self.device), n)

    def _epoch_cost(self, task: _Task) -> _EpochCost:
        """The multiply-adds of one training epoch on ``task`` (three forward passes: forward and
        backward) and its expected seconds on a core of its own (see the class docstring)."""
        n, k = len(task.training.nodes), task.training.k
        h, d = self.hidden, self.embedding_dim
        messages = int(task.graph.matrix.values().numel())  # both directions of each edge, and the self-loops
        features = task.features
        if features is None:
            projection = n * d * h
        elif isinstance(features, SparseFeatures):
            projection = int(features.matrix.values().numel()) * h
        else:
            projection = n * features.shape[1] * h
        products = projection + n * h * d + 2 * (KMEANS_UPDATES + 2) * n * k * d
        kcenter = isinstance(task.training, KCenter)
        work = 3.0 * (products + messages * (h + d) + (6 * n * n if kcenter else messages * k))
        seconds = (
            EPOCH_OVERHEAD
            + NODE_EPOCH_SECONDS * n * (h + d) / 100
            + 3.0 * products / PRODUCT_RATE
            + MESSAGE_EPOCH_SECONDS * messages * (h + d + k) / 100
        )
        if kcenter:
            return _EpochCost(work, seconds + PAIR_EPOCH_SECONDS * n * n, PAIR_SORT_SECONDS * n * n)
        return _EpochCost(work, seconds, EDGE_BUILD_SECONDS * messages)

    def _train(
        self,
        net: ClusterNet,
        tasks: list[_Task],
        epochs: int,
        deadline: float,
        watch: Stopwatch,
        cost: _EpochCost,
        pace: float,
        watcher: Watcher | None = None,
        phase: str = "training",
    ) -> _Training:
        """Adam on the mean training loss over ``tasks``, keeping the best checkpoint.

        Stops after ``epochs``, or once another epoch and a last checkpoint would end after
        ``deadline`` (on ``watch``'s clock). Until an epoch is timed, one is expected to take
        ``cost.seconds / pace`` (``pace``: the share of a core the call gets), the first also
        building the loss's index form; then the larger of the mean and the last. A checkpoint (a
        forward pass) is expected to take half an epoch until one is timed. No epoch starts that
        cannot end in time; without one, the result holds no solution. A ``KeyboardInterrupt``
        during the epochs stops them with ``stop_reason="interrupted"`` and the best checkpoint so
        far (none before the first). ``watcher`` sees every epoch (as ``phase``); its callback's true
        answer stops them after a last checkpoint with ``stop_reason="callback"``. The watcher
        sees the best checkpoint before this epoch's (``inf`` at the first epoch).
        """
        if watcher is None:
            watcher = Watcher("ClusterNet", logger=logger, clock=watch.elapsed)
        optimizer = torch.optim.Adam(net.parameters(), lr=self.learning_rate, weight_decay=self.weight_decay, fused=True)
        result = _Training()
        epoch_cost = cost.seconds / pace
        check_cost = epoch_cost / 2
        building = sum(not task.loss_built for task in tasks) * cost.build / len(tasks) / pace
        fits = watch.elapsed() + building + epoch_cost + check_cost <= deadline
        if fits:
            for task in tasks:
                _build_loss(task, self.device)
            fits = watch.elapsed() + epoch_cost + check_cost <= deadline
        if not fits:
            result.stop_reason = "time_limit"
            return result
        training_time = 0.0
        try:
            for epoch in range(epochs):
                began = watch.elapsed()
                iterations = 1 if epoch < MORE_ITERATIONS_FROM else KMEANS_UPDATES
                net.train()
                loss = torch.stack([_loss(task.training, _relaxed(net, task, iterations)) for task in tasks]).sum() / len(tasks)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                result.curve.append(loss.item())
                took = watch.elapsed() - began
                training_time += took
                epoch_cost = max(training_time / (epoch + 1), took)
                checkpoint = epoch % CHECKPOINT_EVERY == 0
                out_of_time = watch.elapsed() + checkpoint * check_cost + epoch_cost + check_cost > deadline
                last = epoch + 1 == epochs or out_of_time
                stop = watcher.due() and watcher.update(epoch + 1, result.best_loss, result.curve[-1], phase) and not last
                if checkpoint or last or stop:
                    began = watch.elapsed()
                    applied = _apply(net, tasks, iterations)
                    if not result.best_relaxed or applied.best_loss < result.best_loss:
                        state = copy.deepcopy(net.state_dict())
                        result.best_loss, result.best_relaxed, result.best_state = (
                            applied.best_loss,
                            applied.best_relaxed,
                            state,
                        )
                    check_cost = watch.elapsed() - began
                if last or stop:
                    result.stop_reason = STOP_REASON if stop else "time_limit" if epoch + 1 < epochs else "epochs"
                    break
        except KeyboardInterrupt:
            result.stop_reason = "interrupted"
        return result


def _clock(watch: Stopwatch, at: float) -> float:
    """The :func:`time.perf_counter` value at which ``watch`` reads ``at`` (``inf`` stays ``inf``)."""
    return time.perf_counter() + (at - watch.elapsed())


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
            raise ValueError(
                "a graph needs k and objective ('modularity' or 'kcenter'); or pass Modularity(G, k) or KCenter(G, k)"
            )
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
        if isinstance(features, scipy.sparse.sparray | scipy.sparse.spmatrix):
            features = features.toarray()
        try:
            array = np.asarray(features, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"features must be a numeric array of shape ({n}, F)") from None
    if array.ndim != 2 or array.shape[0] != n or array.shape[1] == 0:
        raise ValueError(
            f"features must have shape ({n}, F) with F >= 1, one row per node in problem.nodes order; got shape {array.shape}"
        )
    if not np.isfinite(array).all():
        row = int(np.flatnonzero(~np.isfinite(array).all(axis=1))[0])
        raise ValueError(f"features of node {problem.nodes[row]!r} hold NaN or infinite values")
    return array


def _required_features(problem: ClusteringProblem, features: object) -> np.ndarray:
    """:func:`_node_features`, refusing ``None`` (what :meth:`ClusterNetSampler.fit` needs)."""
    array = _node_features(problem, features)
    if array is None:
        raise ValueError("fit needs a feature array for every problem; got None for one")
    return array


def _observed_problem(problem: ClusteringProblem, observed: nx.Graph | None) -> tuple[ClusteringProblem, nx.Graph]:
    """The problem the loss scores and the graph the network sees: those of ``observed`` if given."""
    if observed is None:
        return problem, problem.graph
    if isinstance(problem, PairwiseClustering):
        raise ValueError(
            "observed applies to Modularity and KCenter, whose graph the network sees; a "
            "PairwiseClustering has no graph of observed edges"
        )
    if not isinstance(observed, nx.Graph) or observed.is_directed():
        raise ValueError(f"observed must be an undirected networkx graph, got {type(observed).__name__}")
    if set(observed.nodes) != set(problem.nodes):
        differ = set(observed.nodes) ^ set(problem.nodes)
        raise ValueError(f"observed must have exactly the problem's nodes; node {next(iter(differ))!r} is in one graph only")
    unknown = [(u, v) for u, v in observed.edges() if not problem.graph.has_edge(u, v)]
    if unknown:
        raise ValueError(
            f"observed edge {unknown[0]!r} is not an edge of the problem's graph; observed holds a subset of the edges"
        )
    seen = observed.__class__()
    seen.add_nodes_from(problem.nodes)
    seen.add_edges_from(observed.edges(data=True))
    try:
        return type(problem)(seen, problem.k, problem.weight), seen
    except InvalidModelError as err:
        raise InvalidModelError(f"the observed graph cannot be trained on: {err}") from None


def _edge_index(G: nx.Graph) -> tuple[torch.Tensor, int]:
    """Both directions of every edge, nodes numbered in ``G``'s order (that of ``problem.nodes``),
    each edge in the order and orientation ``G.edges()`` lists it first (self-loops left out, as
    the convolution adds its own; parallel edges once); and ``G.number_of_edges()``, counted on
    the way (networkx sums the degrees for it).

    Read from ``G``'s adjacency in bulk: ``G.edges()`` lists ``(u, v)`` where ``v`` comes after
    ``u`` in the node order, which is what the mask keeps. Nodes labelled ``0..n-1`` in order
    need no look-up.
    """
    n = G.number_of_nodes()
    degrees = np.fromiter((len(nbrs) for _, nbrs in G.adjacency()), dtype=np.int64, count=n)
    neighbours: Iterator[Any] = itertools.chain.from_iterable(nbrs for _, nbrs in G.adjacency())
    if list(G) != list(range(n)):
        position = {node: i for i, node in enumerate(G)}
        neighbours = map(position.__getitem__, neighbours)
    tails = np.fromiter(neighbours, dtype=np.int64, count=int(degrees.sum()))
    heads = np.repeat(np.arange(n), degrees)
    later = tails > heads
    forward = torch.from_numpy(np.stack([heads[later], tails[later]]))
    edges = G.number_of_edges() if G.is_multigraph() else int(later.sum() + (tails == heads).sum())
    return torch.cat([forward, forward.flip(0)], dim=1), edges


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
    output: ClusterNetOutput = net(task.features, task.graph, iterations)
    task.centres = net.centres
    if isinstance(task.training, KCenter):
        return net.facility_weights(output.embeddings, output.clusters.centres, FACILITY_TEMPERATURE)
    return output.clusters.assignments


def _check_memory(training: ClusteringProblem) -> None:
    """Refuse k-center training whose ``n × n`` tensors (:data:`PAIR_TRAINING_BYTES`) would not fit in memory."""
    if isinstance(training, KCenter):
        check_pair_memory(len(training.nodes), PAIR_TRAINING_BYTES, "ClusterNet's k-center training tensors")


def _start(net: ClusterNet, task: _Task) -> torch.Tensor:
    """The centres a fresh ``net`` starts from on ``task`` (:meth:`~gnnsolve.nn.clusternet.ClusterNet.start_from`,
    which also sets its embedding table from the graph); a fitted network keeps its own."""
    net.start_from(task.features, task.graph)
    return net.centres


def _loss(training: ClusteringProblem, relaxed: torch.Tensor) -> torch.Tensor:
    if isinstance(training, Modularity):
        return -training.soft_objective(relaxed)
    if isinstance(training, KCenter):
        return training.soft_objective(relaxed, beta=0.0)
    return training.soft_objective(relaxed)


def _build_loss(task: _Task, device: torch.device) -> None:
    """Evaluate the loss once on a uniform soft solution, so that the problem builds its torch
    index form (sparse operator, sorted distances) before the epochs are timed."""
    if task.loss_built:
        return
    training = task.training
    n, k = len(training.nodes), training.k
    shape = (n,) if isinstance(training, KCenter) else (n, k)
    fill = k / n if isinstance(training, KCenter) else 1 / k
    with torch.no_grad():
        _loss(training, torch.full(shape, fill, dtype=torch.float32, device=device))
    task.loss_built = True


def _core_share(cpu_start: float, wall_start: float, watch: Stopwatch) -> float:
    """The share of a core this process got since ``cpu_start`` (:func:`time.process_time`) and
    ``wall_start`` (on ``watch``'s clock), between 0.05 and 1; 1 over less than :data:`PACE_WINDOW`."""
    wall = watch.elapsed() - wall_start
    if wall < PACE_WINDOW:
        return 1.0
    return min(1.0, max(0.05, (time.process_time() - cpu_start) / wall))


def _apply(net: ClusterNet, tasks: list[_Task], iterations: int) -> _Training:
    """The network without dropout or gradient: its soft solutions and mean training loss."""
    net.eval()
    with torch.no_grad():
        relaxed = [_relaxed(net, task, iterations) for task in tasks]
        loss = sum(float(_loss(task.training, r)) for task, r in zip(tasks, relaxed)) / len(tasks)
    return _Training(best_loss=loss, best_relaxed=relaxed)


def _decide(training: ClusteringProblem, relaxed: torch.Tensor | None, rng: np.random.Generator, deadline: float) -> np.ndarray:
    """One value per node: the most likely cluster, or the best of the facility roundings made
    before ``deadline`` (a :func:`time.perf_counter` value; one at least). Without a soft solution
    (no epoch fitted the budget), uniformly random labels or ``k`` uniformly random facilities."""
    n, k = len(training.nodes), training.k
    if relaxed is None:
        if not isinstance(training, KCenter):
            return rng.integers(k, size=n)
        row = np.zeros(n, dtype=np.int8)
        row[rng.choice(n, size=k, replace=False)] = 1
        return row
    soft = relaxed.detach().cpu().double().numpy()
    if not isinstance(training, KCenter):
        return soft.argmax(axis=1)
    y = lift_to_k(soft, k)
    capped = training.capped_distances
    index = {node: i for i, node in enumerate(training.nodes)}
    best: frozenset = frozenset()
    best_radius = math.inf
    for rounding in range(ROUNDINGS):
        if rounding and time.perf_counter() >= deadline:
            break
        candidate = training.round_selection(y, "pipage", rng)
        radius = float(capped[:, [index[node] for node in candidate]].min(axis=1).max())
        if not best or radius < best_radius:
            best, best_radius = candidate, radius
    chosen = training.decode({node: int(node in best) for node in training.nodes}).value
    return np.array([int(node in chosen) for node in training.nodes], dtype=np.int8)


def _merge(training: Modularity | PairwiseClustering, row: np.ndarray, deadline: float) -> np.ndarray:
    """The decided partition with whole clusters merged while the objective rises (greedy, as Clauset,
    Newman and Moore merge), until ``deadline``: the k-means never empties a cluster, however many
    the objective wants."""
    if isinstance(training, Modularity):
        return modularity_moves(training.adjacency, row, training.k, deadline=deadline, moves=False)
    return partition_moves(training.weights, row, training.k, deadline=deadline, moves=False)


def _polish(training: ClusteringProblem, row: np.ndarray, deadline: float) -> np.ndarray:
    """The decision taken towards a local optimum of the training problem's exact objective, until
    ``deadline`` (a :func:`time.perf_counter` value)."""
    if isinstance(training, Modularity):
        return modularity_moves(training.adjacency, row, training.k, deadline=deadline)
    if isinstance(training, PairwiseClustering):
        return partition_moves(training.weights, row, training.k, deadline=deadline)
    chosen = k_center_swaps(training.capped_distances, np.flatnonzero(row), deadline=deadline)
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
