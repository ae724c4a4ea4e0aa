"""``DyCOSampler``: PI-GNN over a sequence of evolving models, warm-started with shrink and perturb.

Implements DyCO-GNN: Y. Liao, F. Koushanfar and P. Naghizadeh, "Learning for Dynamic
Combinatorial Optimization without Training Data" (2025). A dynamic problem is a sequence of
snapshots — models whose variables and interactions change a little from one to the next. The
sampler keeps the PI-GNN replicas it trained on the last snapshot and, before training on the
next, matches its parameters to the new model *by variable label*: a variable present in both
keeps its embedding row, a new variable gets a freshly initialised row, a removed one is
dropped; the graph convolutions' weights do not depend on the variables and carry over whole.

Plain warm starting tends to stay in the old optimum's basin, so the carried parameters are
*shrunk and perturbed* first (Ash and Adams, "On warm-starting neural network training",
NeurIPS 2020): :math:`\\theta \\leftarrow \\lambda\\theta + \\sigma\\varepsilon`, with
:math:`\\varepsilon` a fresh initialisation of the same parameter. ``mode`` says which
parameters are treated: ``"full"`` (all), ``"embedding"`` (the node embeddings only) or
``"gnn"`` (the convolutions only); the paper's baselines are ``"warm"`` (carry everything
unchanged) and ``"static"`` (a fresh start on every snapshot, i.e. :class:`GNNSampler`). The
rule applies to a whole parameter, so a new variable's fresh embedding row :math:`\\varepsilon_0`
becomes :math:`\\lambda\\varepsilon_0 + \\sigma\\varepsilon` in the modes that treat embeddings.

Each call is one snapshot with its own budget (``max_epochs`` and/or ``time_limit``);
:meth:`DyCOSampler.sample_sequence` runs a whole sequence. The network works on the binary form
of each model, so a snapshot may change vartype; it may not change ``num_reads`` (the replicas)
without a fresh start, which ``info`` reports.

A call is all or nothing: the sampler's state (the replicas, their labels, the random generator,
the widths and the snapshot count) changes only when the call returns a SampleSet. A
``KeyboardInterrupt`` (Ctrl-C) during training returns, as :class:`GNNSampler
<gnnsolve.samplers.pignn.GNNSampler>` does, the replicas' best rounded states so far with
``info["stop_reason"] == "interrupted"``; that snapshot counts, and its partly trained replicas
carry over to the next. An interrupt anywhere else is raised and leaves the sampler as it was
before the call, so the next call gives what it would have given without the interrupted one.

Example:
    >>> import networkx as nx
    >>> from gnnsolve.adapters.graphs import maxcut_bqm
    >>> from gnnsolve.samplers.dyco import DyCOSampler
    >>> G = nx.random_regular_graph(3, 30, seed=0)
    >>> grown = G.copy(); grown.add_edges_from([(0, 15), (3, 22)])
    >>> sampler = DyCOSampler(mode="full")
    >>> first, second = sampler.sample_sequence([maxcut_bqm(G), maxcut_bqm(grown)], num_reads=2, seed=0, max_epochs=200)
    >>> second.info["snapshot"], second.info["start"], second.info["carried"]
    (1, 'shrink_perturb', 30)
"""

from __future__ import annotations

import copy
import logging
import math
from typing import Any, Hashable, Iterable, Literal

import dimod
import numpy as np
import torch

from gnnsolve.nn.pignn import CONVOLUTIONS, PIGNN, GraphOperators
from gnnsolve.qubo import CompiledBQM
from gnnsolve.samplers._common import Stopwatch, check_positive_int, check_seed, resolve_time_limit
from gnnsolve.samplers._progress import Callback, check_callback, check_progress
from gnnsolve.samplers._torch import check_threads, resolve_device, seeded_generator, torch_threads
from gnnsolve.samplers.penalty import CQMByPenalty
from gnnsolve.samplers.pignn import (
    check_polish,
    default_time_limit,
    default_widths,
    epoch_work,
    finish,
    train_and_polish,
    training_watcher,
)

logger = logging.getLogger(__name__)

__all__ = ["DyCOSampler", "MODES"]

Mode = Literal["full", "embedding", "gnn", "warm", "static"]
MODES: tuple[str, ...] = ("full", "embedding", "gnn", "warm", "static")


class DyCOSampler(CQMByPenalty, dimod.Sampler):
    """A stateful PI-GNN sampler for sequences of related models (DyCO-GNN).

    Args:
        mode: ``"full"``, ``"embedding"`` or ``"gnn"`` (which parameters are shrunk and
            perturbed), ``"warm"`` (plain warm start) or ``"static"`` (fresh every snapshot).
        shrink: :math:`\\lambda`, the factor on the carried parameters (paper: 0.4).
        perturb: :math:`\\sigma`, the weight of the fresh initialisation added (paper: 0.1).
        conv: ``"gcn"``, ``"sage"`` (GraphSAGE; use it for TSP) or ``"signed"`` (the couplings
            with their signs; see :func:`~gnnsolve.samplers.pignn.choose_conv`).
        embedding_dim, hidden_dim: widths, fixed by the first snapshot when ``None``.
        dropout, learning_rate: as for :class:`~gnnsolve.samplers.pignn.GNNSampler`.
        device: ``"cpu"`` or ``"cuda"``.

    Example:
        >>> import dimod
        >>> from gnnsolve.samplers.dyco import DyCOSampler
        >>> sampler = DyCOSampler()
        >>> bqm = dimod.generators.ran_r(1, 20, seed=1)
        >>> sampler.sample(bqm, seed=0, max_epochs=100).info["start"]
        'fresh'
        >>> sampler.sample(bqm, seed=0, max_epochs=100).info["start"]
        'shrink_perturb'
    """

    parameters: dict[str, list] = {}
    properties: dict[str, Any] = {}

    def __init__(
        self,
        mode: Mode = "full",
        *,
        shrink: float = 0.4,
        perturb: float = 0.1,
        conv: str = "gcn",
        embedding_dim: int | None = None,
        hidden_dim: int | None = None,
        dropout: float = 0.0,
        learning_rate: float = 0.005,
        device: str | torch.device = "cpu",
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        if conv not in CONVOLUTIONS:
            raise ValueError(f"conv must be one of {CONVOLUTIONS}, got {conv!r}")
        for name, value in (("shrink", shrink), ("perturb", perturb)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a non-negative number, got {value!r}")
        if not (isinstance(learning_rate, (int, float)) and learning_rate > 0 and math.isfinite(learning_rate)):
            raise ValueError(f"learning_rate must be positive, got {learning_rate!r}")
        self.mode, self.shrink, self.perturb, self.conv = mode, float(shrink), float(perturb), conv
        self.embedding_dim, self.hidden_dim = embedding_dim, hidden_dim
        self.dropout, self.learning_rate = float(dropout), float(learning_rate)
        self.device = resolve_device(device)
        self.parameters = {
            key: []
            for key in (
                "num_reads",
                "seed",
                "time_limit",
                "max_epochs",
                "tol",
                "patience",
                "polish",
                "threads",
                "progress",
                "callback",
            )
        }
        self.properties = {
            "mode": mode,
            "shrink": self.shrink,
            "perturb": self.perturb,
            "conv": conv,
            "paper": "Liao, Koushanfar, Naghizadeh, Learning for Dynamic Combinatorial Optimization without Training Data (2025)",
        }
        self.reset()

    def reset(self) -> None:
        """Forget the trained replicas: the next snapshot starts fresh (and counts as snapshot 0)."""
        self._net: PIGNN | None = None
        self._labels: list[Hashable] = []
        self._generator: torch.Generator | None = None
        self._snapshot = 0
        self._widths: tuple[int, int] | None = None  # fixed by the first snapshot, unless given

    def sample(
        self,
        bqm: dimod.BinaryQuadraticModel,
        time_limit: float | None = None,
        *,
        num_reads: int = 1,
        seed: int | None = None,
        max_epochs: int = 1000,
        tol: float = 1e-3,
        patience: int = 100,
        polish: bool | str = True,
        threads: int | None = None,
        progress: bool = False,
        callback: Callback | None = None,
        **kwargs: Any,
    ) -> dimod.SampleSet:
        """Train on the next snapshot, starting from the last one's replicas as ``mode`` says.

        Args:
            bqm: the snapshot.
            num_reads: replicas; keep it the same along a sequence to carry them over.
            seed: seeds the first snapshot's initialisation and every later fresh draw (new
                rows, perturbations); the same seed reproduces the whole sequence on the CPU.
                Ignored after the first snapshot until :meth:`reset`.
            time_limit, max_epochs: this snapshot's budget; ``time_limit`` covers the whole call
                (``None``: :func:`~gnnsolve.samplers.pignn.default_time_limit` of the
                snapshot's size; ``math.inf``: none).
            tol, patience, polish, threads: as for :class:`~gnnsolve.samplers.pignn.GNNSampler`,
                except that ``polish`` defaults to ``True`` (descent only): what a warm start
                saves along a sequence is training time, which an anneal filling the time
                limit would hide; ``polish="sa"`` finishes as GNNSampler does (anneal, kicks
                on small models, descent).
            progress, callback: as for :class:`~gnnsolve.samplers.pignn.GNNSampler`: a tqdm bar
                over this snapshot's epochs, and ``callback(state)`` after each epoch, whose
                ``True`` stops training with ``stop_reason == "callback"`` (the snapshot counts,
                as one the time limit stopped does; an exception it raises changes nothing and
                reaches the caller).

        Returns:
            A SampleSet as GNNSampler's (``stop_reason`` ``"callback"`` when the callback stopped
            training, ``"interrupted"`` when Ctrl-C stopped it: the snapshot then counts, see the module docstring), with ``info`` adding
            ``snapshot`` (0, 1, ...),
            ``start`` (``"fresh"``, ``"warm"``, ``"shrink_perturb"``, or ``"skipped"`` when the
            time limit left no room to train), ``fallback`` (why a fresh start replaced a warm
            one, else ``None``), ``carried``, ``new`` and ``dropped`` (variables matched by
            label) and ``budget`` (``epochs`` and ``seconds`` used), besides GNNSampler's
            ``time_limit``, ``threads`` and ``polish``. An empty snapshot returns an empty
            SampleSet and changes nothing. A call that raises (a ``KeyboardInterrupt`` outside
            training included) changes nothing either.
        """
        self.remove_unknown_kwargs(**kwargs)
        watch = Stopwatch()
        num_reads = check_positive_int("num_reads", num_reads)
        max_epochs = check_positive_int("max_epochs", max_epochs)
        patience = check_positive_int("patience", patience)
        threads = check_threads(threads)
        seed = check_seed(seed)
        finisher = check_polish(polish, None, time_limit)
        progress = check_progress(progress)
        callback = check_callback(callback)
        with watch.phase("preprocessing"):
            model = CompiledBQM(bqm)
            watch.time_limit = resolve_time_limit(time_limit, default_time_limit(model.num_variables, model.num_interactions))
        if model.num_variables == 0:
            info = {
                "snapshot": self._snapshot,
                "start": None,
                "fallback": "empty model",
                "carried": 0,
                "new": 0,
                "dropped": len(self._labels),
                "timing": watch.timing(),
                "time_limit": watch.time_limit,
                "threads": 0,
                "budget": {"epochs": 0, "seconds": 0.0},
            }
            return model.sampleset(bqm, np.zeros((num_reads, 0), np.int8), info=info)

        widths = self._widths or default_widths(model.num_variables, self.embedding_dim, self.hidden_dim)
        work = epoch_work(model, num_reads, *widths)
        if self._generator is None:
            generator = seeded_generator(seed)
        else:  # a copy, committed only when the call returns
            generator = torch.Generator()
            generator.set_state(self._generator.get_state())
        fallback: str | None  # why the replicas did not start warm, if they did not
        start, fallback, counts = "skipped", "the time limit left no room to train", self._counts(model)

        def build() -> tuple[PIGNN, GraphOperators]:
            nonlocal start, fallback, counts
            net, start, fallback, counts = self._next_network(model, num_reads, widths, generator)
            if logger.isEnabledFor(logging.INFO):
                logger.info(
                    "DyCO: snapshot %d: %s start%s; %d variables carried, %d new, %d dropped",
                    self._snapshot,
                    start,
                    f" ({fallback})" if fallback else "",
                    counts["carried"],
                    counts["new"],
                    counts["dropped"],
                )
            graph = GraphOperators.build(model.edge_index(), model.num_variables, self.conv, model.edge_weights()).to(self.device)
            model.torch_terms(self.device, torch.float32)
            return net, graph

        with torch_threads(threads, work) as used, training_watcher(watch, max_epochs, progress, callback) as watcher:
            raw, info, net = train_and_polish(
                model,
                build,
                watch,
                num_reads=num_reads,
                generator=generator,
                learning_rate=self.learning_rate,
                max_epochs=max_epochs,
                tol=tol,
                patience=patience,
                polish=finisher,
                work=work,
                watcher=watcher,
            )
            if start == "skipped":
                logger.info("DyCO: snapshot %d: skipped (the time limit left no room to train)", self._snapshot)
        info.update(snapshot=self._snapshot, start=start, fallback=fallback, threads=used, **counts)
        sampleset = finish(bqm, model, raw, info, watch)
        sampleset.info["budget"] = {"epochs": info["epochs"], "seconds": watch.elapsed()}
        if net is not None:  # the call returns: commit its state together
            self._net, self._labels = net, list(model.variables)
            self._widths = widths
        self._generator, self._snapshot = generator, self._snapshot + 1
        return sampleset

    def sample_sequence(self, models: Iterable[dimod.BinaryQuadraticModel], **kwargs: Any) -> list[dimod.SampleSet]:
        """:meth:`sample` each snapshot in order with the same keywords; one SampleSet per snapshot."""
        return [self.sample(bqm, **kwargs) for bqm in models]

    def _next_network(
        self, model: CompiledBQM, num_reads: int, widths: tuple[int, int], generator: torch.Generator
    ) -> tuple[PIGNN, str, str | None, dict[str, int]]:
        """The replicas for this snapshot (of ``widths``, fresh draws from ``generator``), how they
        started, why not warm (if so), and label counts."""
        labels = list(model.variables)
        previous = {label: row for row, label in enumerate(self._labels)}
        shared = [label for label in labels if label in previous]
        counts = self._counts(model)
        fresh = PIGNN(model.num_variables, num_reads, *widths, self.conv, self.dropout, generator).to(self.device)
        if self._net is None or self.mode == "static":
            return fresh, "fresh", None, {**counts, "carried": 0, "new": len(labels)}
        if not shared:
            return fresh, "fresh", "no shared variables", counts
        if self._net.embedding.shape[0] != num_reads:
            return fresh, "fresh", f"num_reads changed from {self._net.embedding.shape[0]} to {num_reads}", counts
        carried = self._carry_over(fresh, model, previous)
        if self.mode == "warm":
            return carried, "warm", None, counts
        _shrink_and_perturb(carried, fresh, self._treated(carried), self.shrink, self.perturb)
        return carried, "shrink_perturb", None, counts

    def _counts(self, model: CompiledBQM) -> dict[str, int]:
        """Variables carried over from the last snapshot, new and dropped, matched by label."""
        previous = set(self._labels)
        carried = sum(label in previous for label in model.variables)
        return {"carried": carried, "new": model.num_variables - carried, "dropped": len(self._labels) - carried}

    def _carry_over(self, fresh: PIGNN, model: CompiledBQM, previous: dict[Hashable, int]) -> PIGNN:
        """A copy of ``fresh`` holding the previous convolutions and, for shared labels, embedding rows."""
        assert self._net is not None
        carried = copy.deepcopy(fresh)
        old = dict(self._net.named_parameters())
        rows = [(index, previous[label]) for index, label in enumerate(model.variables) if label in previous]
        with torch.no_grad():
            for name, parameter in carried.named_parameters():
                if name != "embedding":
                    parameter.copy_(old[name])
            new_rows = torch.tensor([row for row, _ in rows], device=self.device)
            old_rows = torch.tensor([row for _, row in rows], device=self.device)
            carried.embedding[:, new_rows] = self._net.embedding[:, old_rows]
        return carried

    def _treated(self, net: PIGNN) -> list[str]:
        names = [name for name, _ in net.named_parameters()]
        if self.mode == "embedding":
            return ["embedding"]
        if self.mode == "gnn":
            return [name for name in names if name != "embedding"]
        return names


def _shrink_and_perturb(net: PIGNN, fresh: PIGNN, names: list[str], shrink: float, perturb: float) -> None:
    """``θ ← shrink·θ + perturb·ε`` for the named parameters, ``ε`` taken from a fresh initialisation."""
    noise = dict(fresh.named_parameters())
    with torch.no_grad():
        for name, parameter in net.named_parameters():
            if name in names:
                parameter.mul_(shrink).add_(noise[name], alpha=perturb)
