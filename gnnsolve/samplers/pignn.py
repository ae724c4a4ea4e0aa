"""``GNNSampler``: PI-GNN for any binary quadratic model.

Implements Schuetz, Brubaker and Katzgraber, "Combinatorial optimization with physics-inspired
graph neural networks", Nature Machine Intelligence 4, 367–377 (2022). The network
(:class:`gnnsolve.nn.pignn.PIGNN`) runs on the model's interaction graph, so any BQM works, not
only graphs built for MaxCut. Its loss is the model's energy in BINARY form evaluated at the
sigmoid outputs (the relaxed QUBO energy), minimised with Adam until the loss stops changing
(relative to the energy's scale, see :func:`converged`), the time limit or ``max_epochs``. Each
read is an independent replica; all replicas train in one batched forward pass. A replica's
rounded answer is its outputs rounded at 0.5 — the best rounded state it visited — or, where
lower, the best of states drawn from its final probabilities (:func:`sample_rounding`). The finisher
(``polish``) then improves it: by default (``"sa"``, :func:`gnnsolve.search.finish.finish_states`)
simulated annealing starts from the rounded states a quarter of the way along dwave-samplers'
default schedule (:func:`gnnsolve.search.anneal.anneal`), 16 chains in all, for
:data:`DEFAULT_SWEEPS` sweeps, or with an explicit ``time_limit`` until the deadline; on models
small enough, iterated local search follows (:mod:`gnnsolve.search.kicks`: random kicks of one
to three flips, each followed by a descent), which is what finds good feasible states of
penalty models such as knapsack QUBOs; ``"descent"`` only descends to a single-flip local
minimum (:func:`gnnsolve.search.descent.descend`, also the end of ``"sa"``); ``False`` returns
the rounded states. What the finisher adds is visible in every SampleSet: ``raw_energy`` holds
the rounded states' energies. At equal wall time, the annealed learned states are as good as
annealing from random states on the G-set, toroidal and Chimera spin glasses measured
(``docs/benchmarks/learned_quality.md``), and far better than the descended ones.

Budget. ``time_limit`` covers the whole call. Without one, a call gets
:func:`default_time_limit` of the model's size — half a second plus 0.275 ms per variable
and interaction, at most 300 s (6 s for an 800-node G-set graph, about a minute at 100,000
variables) — and often ends before it, when training has converged. Training stops early enough to leave
the polish its share (:data:`POLISH_SHARE`, more where the model is large), and the polish
stops at the deadline with whatever it has reached. ``info`` says how the time went:
``timing`` (ns per phase), ``time_limit`` (the budget), ``stop_reason`` and ``polish``
(rounds, flips, whether every state reached a local minimum).

Interrupts. A ``KeyboardInterrupt`` (Ctrl-C) during training ends the call the way an
interrupted MILP solver does: training stops and the call returns a normal SampleSet of each
replica's best rounded state so far, with ``info["stop_reason"] == "interrupted"``. Those states
are returned as they are: neither the sampling-based rounding nor the finisher runs
(``info["polish"]["method"]`` is ``None`` and ``raw_energy`` equals the energy), and the energies
are computed on the user's model as always. An interrupt anywhere else (checking and compiling
the model, building the network, the rounding and the finisher after training that ended on its
own, building the SampleSet) is raised to the caller.

Example:
    >>> import dimod
    >>> from gnnsolve import GNNSampler
    >>> bqm = dimod.generators.ran_r(1, 30, seed=3)
    >>> sampleset = GNNSampler().sample(bqm, num_reads=4, seed=0, max_epochs=200)
    >>> len(sampleset), sampleset.info["epochs"] <= 200
    (4, True)
    >>> bool(sampleset.first.energy == bqm.energy(sampleset.first.sample))
    True
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Any, Callable

import dimod
import numpy as np
import torch

from gnnsolve.nn.pignn import CONVOLUTIONS, PIGNN, GraphOperators
from gnnsolve.qubo import CompiledBQM
from gnnsolve.samplers._common import Stopwatch, check_positive_int, check_seed, labelled, resolve_time_limit
from gnnsolve.samplers._progress import STOP_REASON, Callback, Watcher, check_callback, check_progress
from gnnsolve.samplers._torch import check_threads, resolve_device, seeded_generator, torch_threads
from gnnsolve.samplers.penalty import CQMByPenalty
from gnnsolve.search.descent import descend
from gnnsolve.search.finish import finish_seconds, finish_states

logger = logging.getLogger(__name__)

__all__ = [
    "GNNSampler",
    "Polish",
    "check_polish",
    "default_time_limit",
    "default_widths",
    "converged",
    "choose_conv",
    "annealing_term",
    "POLISH_SHARE",
    "FINISH_SHARE",
    "DEFAULT_SWEEPS",
    "ANNEAL_SHARE",
    "DENSE",
    "DENSE_DEGREE",
    "sample_rounding",
    "ROUNDING_SAMPLES",
    "ROUNDING_WORK",
]

POLISH_SHARE = 0.1
"""The least share of a call's budget kept for polishing and building the SampleSet."""

WIDTH_WORK = 1e8
"""Most multiply-adds of the dense transform ``n × embedding × hidden`` that the default widths allow."""

FINISH_SHARE = 0.5
"""The least share of an explicit time limit kept for ``polish="sa"``, which anneals until the deadline."""

DEFAULT_SWEEPS = 1000
"""Sweeps per chain of ``polish="sa"`` in a call without ``time_limit`` (dwave-samplers' default
length; 16 chains take about 0.3 s on an 800-node G-set graph)."""

DENSE = 0.25
"""Share of the other variables each variable interacts with, on average, from which ``conv="auto"``
takes GraphSAGE (:func:`choose_conv`), if it also has :data:`DENSE_DEGREE` interactions or more."""

DENSE_DEGREE = 16
"""Mean interactions per variable below which a model is never dense for :func:`choose_conv`:
a GCN layer still gives a node's own features a weight of 1/17 or more."""

POLISH_METHODS = ("descent", "sa", None)
"""What ``polish`` may name: :class:`Polish`'s methods."""

ANNEAL_SHARE = 0.8
"""The share of the training time by which an annealing schedule (``anneal > 0``) ends at the latest."""

ROUNDING_SAMPLES = 1024
"""States drawn from each replica's probabilities at the end of training (:func:`sample_rounding`)."""

ROUNDING_WORK = 2e7
"""Most spin-and-interaction terms evaluated by :func:`sample_rounding` in all: fewer draws on
large models, 50 per replica at 100,000 variables and 150,000 interactions (about 0.1 s)."""

EPOCH_RATE = 1e9
"""Multiply-adds per second assumed before the first epoch is timed (deliberately low)."""


@dataclass(frozen=True)
class Polish:
    """How a learned sampler finishes its rounded states.

    ``method`` is ``"descent"`` (steepest descent to a single-flip local minimum), ``"sa"``
    (simulated annealing from the states, :func:`gnnsolve.search.anneal.anneal`, then the
    descent) or ``None`` (the raw states). ``sweeps`` is the anneal's length per chain;
    ``None`` anneals until the deadline.
    """

    method: str | None = "descent"
    sweeps: int | None = None


def check_polish(polish: bool | str, sweeps: int | None, time_limit: float | None) -> Polish:
    """The :class:`Polish` of a call's ``polish`` and ``polish_sweeps``, or a clear error.

    ``True`` is ``"descent"``, ``False`` no polish. With ``"sa"``, ``sweeps=None`` anneals until
    the deadline when the caller gave a finite ``time_limit``, else :data:`DEFAULT_SWEEPS`.

    Example:
        >>> from gnnsolve.samplers.pignn import check_polish
        >>> check_polish("sa", None, None), check_polish("sa", None, 10.0), check_polish(True, None, None)
        (Polish(method='sa', sweeps=1000), Polish(method='sa', sweeps=None), Polish(method='descent', sweeps=None))
    """
    method = ("descent" if polish else None) if isinstance(polish, bool) else polish
    if method not in POLISH_METHODS:
        raise ValueError(f"polish must be True, False, 'descent' or 'sa', got {polish!r}")
    if sweeps is not None:
        sweeps = check_positive_int("polish_sweeps", sweeps)
        if method != "sa":
            raise ValueError(f"polish_sweeps is the length of polish='sa', but polish is {polish!r}")
    elif method == "sa" and (time_limit is None or not math.isfinite(time_limit)):
        sweeps = DEFAULT_SWEEPS
    return Polish(method, sweeps)


class GNNSampler(CQMByPenalty, dimod.Sampler):
    """PI-GNN sampler: a graph network trained on the model's own relaxed energy.

    Example:
        >>> import dimod
        >>> from gnnsolve import GNNSampler
        >>> bqm = dimod.BQM.from_ising({}, {(0, 1): 1, (1, 2): 1, (0, 2): 1})
        >>> sampleset = GNNSampler().sample(bqm, seed=1)
        >>> float(sampleset.first.energy), sampleset.info["stop_reason"], sampleset.info["threads"]
        (-1.0, 'converged', 1)
    """

    parameters: dict[str, list] = {}
    properties: dict[str, Any] = {}

    def __init__(self) -> None:
        self.parameters = {
            "num_reads": [],
            "seed": [],
            "time_limit": [],
            "max_epochs": [],
            "learning_rate": [],
            "embedding_dim": [],
            "hidden_dim": [],
            "conv": [],
            "dropout": [],
            "tol": [],
            "patience": [],
            "polish": [],
            "polish_sweeps": [],
            "device": [],
            "threads": [],
            "anneal": [],
            "anneal_epochs": [],
            "progress": [],
            "callback": [],
            "label": [],
        }
        self.properties = {
            "convolutions": CONVOLUTIONS,
            "paper": "Schuetz, Brubaker, Katzgraber, Nat. Mach. Intell. 4, 367 (2022)",
        }

    def sample(
        self,
        bqm: dimod.BinaryQuadraticModel,
        time_limit: float | None = None,
        *,
        num_reads: int = 1,
        seed: int | None = None,
        max_epochs: int = 10_000,
        learning_rate: float = 0.005,
        embedding_dim: int | None = None,
        hidden_dim: int | None = None,
        conv: str = "auto",
        dropout: float = 0.0,
        tol: float = 1e-3,
        patience: int = 100,
        polish: bool | str = "sa",
        polish_sweeps: int | None = None,
        device: str | torch.device = "cpu",
        threads: int | None = None,
        anneal: float = 0.0,
        anneal_epochs: int = 1000,
        progress: bool = False,
        callback: Callback | None = None,
        label: str | None = None,
        **kwargs: Any,
    ) -> dimod.SampleSet:
        """Train ``num_reads`` PI-GNN replicas on ``bqm`` and return one sample per replica.

        Args:
            bqm: Any binary quadratic model (SPIN or BINARY, any labels).
            num_reads: Independent replicas, trained together in one batched pass (an epoch
                costs in proportion, so at a fixed time more reads mean fewer epochs each).
            seed: Seed of the initialisation; the same seed gives the same samples on the CPU
                when no clock stops the call: training ends by convergence or ``max_epochs``
                (``info["stop_reason"]`` says which; ``"time_limit"`` means the clock, which
                the default budget can be on large or dense models) and the finisher runs
                its fixed sweeps. ``time_limit=math.inf`` with ``max_epochs`` reproduces a run
                bit for bit on any machine.
            time_limit: Seconds for the whole call; ``None`` for :func:`default_time_limit` of
                the model's size, ``math.inf`` for none.
            max_epochs: Upper bound on training epochs.
            learning_rate: Adam's step size.
            embedding_dim: Node-embedding width; default :func:`default_widths`.
            hidden_dim: Width after the first convolution; default half the embedding width.
            conv: ``"gcn"``, ``"sage"`` (GraphSAGE, mean aggregation), ``"signed"`` (a GCN on
                the couplings with their signs and sizes) or ``"auto"`` (default:
                :func:`choose_conv`: ``"signed"`` where the couplings have both signs, else
                ``"sage"`` on dense models and ``"gcn"`` on sparse ones).
            dropout: Dropout between the two convolutions.
            tol, patience: Stop once, for ``patience`` epochs, no replica has found a better
                rounded state, and each has either lowered its loss by at most ``tol`` times
                the energy's scale or kept its rounded state (:func:`converged`).
            polish: The finisher: ``"sa"`` (default) anneals from the rounded states, then
                on small models kicks them (iterated local search), then descends
                (:func:`gnnsolve.search.finish.finish_states`); ``"descent"`` (or ``True``) only
                descends each state to a single-flip local minimum; ``False`` returns the
                rounded states.
            polish_sweeps: Sweeps per chain of ``polish="sa"``; ``None`` (default) is
                :data:`DEFAULT_SWEEPS` without ``time_limit`` (the result is then reproducible
                from ``seed``) and until the deadline with one (training then stops by
                :data:`FINISH_SHARE` of the time at the latest, leaving the rest to the anneal).
            device: ``"cpu"`` or ``"cuda"``.
            threads: torch's intra-op threads on the CPU for this call (restored after);
                ``None`` lets the library choose (one, unless an epoch is large and cores idle).
            anneal: Strength of continuous relaxation annealing (:func:`annealing_term`), in
                units of the energy's scale per variable; 0 (default) turns it off. Its weight
                rises from ``-anneal`` to ``+anneal`` over ``anneal_epochs`` epochs (or
                :data:`ANNEAL_SHARE` of the training time, if that comes first). With the
                signed convolution and 3,000 epochs it lowers the energy of the two spin
                glasses above by a further 2-3 %; on MaxCut (G14) it costs 1 %, hence off by default.
            anneal_epochs: Length of the annealing schedule in epochs.
            progress: Draw a tqdm bar over the epochs on ``stderr`` (best rounded energy in its
                postfix), closed when the call ends. Off by default; it does not change the result.
            callback: ``callback(state) -> bool | None``, called after every epoch with a
                read-only :class:`~gnnsolve.samplers._progress.TrainingState` (``epoch``,
                ``elapsed``, ``best_energy``: the best rounded energy in BINARY form, ``loss``:
                the mean relaxed loss, ``phase``). Returning ``True`` stops training as the time
                limit does: rounding and polish still run on the best states so far and
                ``stop_reason`` is ``"callback"``. An exception it raises ends the call and
                reaches the caller unchanged.
            label: A name for the problem, kept in ``info["problem_label"]`` (as Leap's hybrid
                samplers keep theirs).

        Returns:
            A SampleSet with ``num_reads`` rows in the user's labels and vartype, energies
            recomputed on ``bqm``, and the data vector ``raw_energy`` (the energy of the rounded
            or drawn state, before polishing).
            ``info`` holds ``timing`` (ns), ``time_limit`` (seconds), ``threads``, ``conv`` (the
            convolution used), ``epochs``,
            ``stop_reason`` (``"converged"``, ``"max_epochs"``, ``"time_limit"``, ``"callback"``
            (the callback asked to stop) or ``"interrupted"``: a ``KeyboardInterrupt`` stopped training, and the rows are the
            replicas' best rounded states, unpolished; see the module docstring),
            ``relaxed_loss`` (final loss per read) and ``polish`` (``method``; for ``"sa"``,
            ``chains``, ``sweeps`` per chain and ``beta_range``, ``kick_rounds`` and ``kicks_kept``
            where kicks ran; the descent's ``rounds``, ``flips``, ``complete``).
        """
        kwargs = self.remove_unknown_kwargs(**kwargs)
        watch = Stopwatch()
        num_reads = check_positive_int("num_reads", num_reads)
        max_epochs = check_positive_int("max_epochs", max_epochs)
        patience = check_positive_int("patience", patience)
        anneal_epochs = check_positive_int("anneal_epochs", anneal_epochs)
        threads = check_threads(threads)
        seed = check_seed(seed)
        finisher = check_polish(polish, polish_sweeps, time_limit)
        progress = check_progress(progress)
        callback = check_callback(callback)
        if conv not in (*CONVOLUTIONS, "auto"):
            raise ValueError(f"conv must be one of {(*CONVOLUTIONS, 'auto')}, got {conv!r}")
        for name, value in (("learning_rate", learning_rate), ("anneal", anneal), ("tol", tol)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not (value >= 0 and math.isfinite(value)):
                raise ValueError(f"{name} must be a finite non-negative number, got {value!r}")
        if learning_rate == 0:
            raise ValueError("learning_rate must be positive, got 0")
        torch_device = resolve_device(device)

        with watch.phase("preprocessing"):
            model = CompiledBQM(bqm)
            n = model.num_variables
            watch.time_limit = resolve_time_limit(time_limit, default_time_limit(n, model.num_interactions))
        if n == 0:
            info = {
                "timing": watch.timing(),
                "time_limit": watch.time_limit,
                "threads": 0,
                "epochs": 0,
                "stop_reason": "empty",
                "relaxed_loss": [model.offset] * num_reads,
            }
            return labelled(model.sampleset(bqm, np.zeros((num_reads, 0), np.int8), info=info), label)

        embedding_dim, hidden_dim = default_widths(n, embedding_dim, hidden_dim)
        conv = choose_conv(model) if conv == "auto" else conv
        work = epoch_work(model, num_reads, embedding_dim, hidden_dim)
        generator = seeded_generator(seed)

        def build() -> tuple[PIGNN, GraphOperators]:
            graph = GraphOperators.build(model.edge_index(), n, conv, model.edge_weights()).to(torch_device)
            net = PIGNN(n, num_reads, embedding_dim, hidden_dim, conv, dropout, generator).to(torch_device)
            model.torch_terms(torch_device, torch.float32)
            return net, graph

        with torch_threads(threads, work) as used, training_watcher(watch, max_epochs, progress, callback) as watcher:
            raw, info, _ = train_and_polish(
                model,
                build,
                watch,
                num_reads=num_reads,
                generator=generator,
                learning_rate=learning_rate,
                max_epochs=max_epochs,
                tol=tol,
                patience=patience,
                polish=finisher,
                work=work,
                anneal=anneal,
                anneal_epochs=anneal_epochs,
                watcher=watcher,
            )
        info.update(threads=used, conv=conv)
        return labelled(finish(bqm, model, raw, info, watch), label)


def training_watcher(watch: Stopwatch, max_epochs: int, progress: bool, callback: Callback | None) -> Watcher:
    """The :class:`~gnnsolve.samplers._progress.Watcher` of PI-GNN's training loop (a context
    manager that closes its bar)."""
    return Watcher("PI-GNN", logger=logger, progress=progress, callback=callback, total=max_epochs, clock=watch.elapsed)


def choose_conv(model: CompiledBQM) -> str:
    """The convolution of ``conv="auto"``, from the signs and the density of the couplings.

    - ``"signed"`` where the BINARY couplings have both signs (spin glasses: frustration the
      unsigned graph cannot show). On a toroidal ±1 spin glass of 3,000 spins and a Chimera
      spin glass of 2,048, the signed network ends within 10 % of simulated annealing's energy
      where the GCN ends 25-30 % away; on a complete ±1 model of 300 spins its rounded states
      are 27 % lower than GraphSAGE's.
    - ``"sage"`` where they have one sign and the model is dense (:data:`DENSE`: each variable
      interacts with a quarter of the others or more, and with :data:`DENSE_DEGREE` at
      least, as in penalty models from
      ``cqm_to_bqm`` and dense random QUBOs). A GCN layer weighs a node's own features by
      :math:`1/(d+1)` against its :math:`d` neighbours', whose mean on a dense model is nearly
      the same for every node, so all outputs come out alike; GraphSAGE keeps a separate
      weight for the node itself. On a 60-item knapsack QUBO the GCN's rounded state pays a
      penalty of 10⁸ and GraphSAGE's none; on ``gnp_random_bqm(500, 0.5)`` the rounded energy
      goes from +203 to -2,318.
    - ``"gcn"`` otherwise (MaxCut and other sparse single-sign models, where PI-GNN's GCN
      does best: 1-3 % larger cuts than GraphSAGE on G1, G14, G22).

    Example:
        >>> import dimod
        >>> from gnnsolve.qubo import CompiledBQM
        >>> from gnnsolve.samplers.pignn import choose_conv
        >>> ring = {(i, (i + 1) % 40): 1 for i in range(40)}
        >>> choose_conv(CompiledBQM(dimod.BQM.from_ising({}, {**ring, (0, 4): -1}))), choose_conv(
        ...     CompiledBQM(dimod.BQM.from_ising({}, ring))), choose_conv(CompiledBQM(
        ...     dimod.generators.gnp_random_bqm(60, 0.5, "BINARY", random_state=0)))
        ('signed', 'gcn', 'sage')
    """
    couplings = model.quadratic
    if (couplings > 0).any() and (couplings < 0).any():
        return "signed"
    n, degree = model.num_variables, 2 * model.num_interactions / max(model.num_variables, 1)
    return "sage" if degree >= DENSE_DEGREE and degree >= DENSE * (n - 1) else "gcn"


def default_time_limit(num_variables: int, num_interactions: int) -> float:
    """The budget of a call without ``time_limit``: ``min(300, 0.5 + 2.75e-4 (n + m))`` seconds.

    Like the minimum time of Leap's hybrid samplers, it grows with the model's size: half a
    second for a few variables, whatever ``num_reads`` (a hundred replicas of a 5-variable
    model converge in 600-1300 epochs of about a millisecond, and every one of them has its
    optimum long before), 6 s at 800 variables and 19,000 interactions (G-set's G1, whose
    training converges in 1,300-2,200 epochs, 2.5-4.5 s on a free core of a 2-core machine),
    69 s at 100,000 variables and 150,000 interactions.

    Example:
        >>> from gnnsolve.samplers.pignn import default_time_limit
        >>> default_time_limit(5, 5), default_time_limit(800, 19176), default_time_limit(10**6, 10**7)
        (0.50275, 5.9934, 300.0)
    """
    return float(min(300.0, 0.5 + 2.75e-4 * (num_variables + num_interactions)))


def default_widths(num_variables: int, embedding_dim: int | None, hidden_dim: int | None) -> tuple[int, int]:
    """PI-GNN's widths: embedding ``round(sqrt(n))`` clipped to [8, 128], hidden half of it; given values win.

    On large models the embedding is narrowed further so that the dense transform of an
    epoch, ``n × embedding × hidden``, stays within :data:`WIDTH_WORK` multiply-adds (from about
    20,000 variables on: 44 at 100,000): an epoch's cost then grows linearly with the model,
    not with its square, and the budget buys epochs rather than width.

    Example:
        >>> from gnnsolve.samplers.pignn import default_widths
        >>> default_widths(800, None, None), default_widths(100_000, None, None), default_widths(50, 16, None)
        ((28, 14), (44, 22), (16, 8))
    """
    widest = max(8, int(math.sqrt(2 * WIDTH_WORK / num_variables)))
    embedding = embedding_dim or int(min(128, widest, max(8, round(math.sqrt(num_variables)))))
    return embedding, hidden_dim or max(1, embedding // 2)


def epoch_work(model: CompiledBQM, num_reads: int, embedding_dim: int, hidden_dim: int) -> float:
    """Multiply-adds of one training epoch (forward and backward), the basis of the thread count."""
    edges = 2 * model.num_interactions + model.num_variables
    forward = edges * (embedding_dim + hidden_dim) + model.num_variables * embedding_dim * hidden_dim
    return 3.0 * num_reads * (forward + 2 * model.num_interactions)


def annealing_term(probs: torch.Tensor) -> torch.Tensor:
    """:math:`\\sum_i 1 - (2p_i - 1)^2` per replica: largest at :math:`p = 1/2`, zero at 0/1 points.

    The continuous relaxation annealing of Ichikawa, "Controlling continuous relaxation for
    combinatorial optimization", NeurIPS 2024, adds it to the relaxed energy with a weight that
    rises from negative (a smoothed landscape with one minimum near the centre, leaving the
    saddle at :math:`p = 1/2` gently) to positive (which pushes every output to 0 or 1).

    Example:
        >>> import torch
        >>> from gnnsolve.samplers.pignn import annealing_term
        >>> annealing_term(torch.tensor([[0.5, 1.0, 0.0], [0.75, 0.25, 1.0]])).tolist()
        [1.0, 1.5]
    """
    return (1 - (2 * probs - 1) ** 2).sum(dim=1)


def converged(loss_drop: torch.Tensor, improved: torch.Tensor, settled: torch.Tensor, scale: float, tol: float) -> torch.Tensor:
    """Which replicas have converged over the last window of epochs.

    A replica has converged when its best rounded energy did not improve during the window
    and either its loss fell by at most ``tol * scale`` or its rounded state kept the best
    energy throughout (``settled``: the network sits on its answer, and further epochs only
    sharpen the outputs or move among states of that energy). ``scale`` is
    the energy's scale: the larger of the model's mean absolute coefficient per variable and
    the magnitude of the best loss, so the test reads the same on a 5-variable model with unit
    biases and on a G-set graph whose energies run to thousands.

    Example:
        >>> import torch
        >>> from gnnsolve.samplers.pignn import converged
        >>> drop, improved = torch.tensor([0.5, 20.0, 20.0]), torch.tensor([False, False, False])
        >>> converged(drop, improved, torch.tensor([False, False, True]), scale=1000.0, tol=1e-3).tolist()
        [True, False, True]
    """
    return ((loss_drop <= tol * scale) | settled) & ~improved


def train_and_polish(
    model: CompiledBQM,
    build: Callable[[], tuple[PIGNN, GraphOperators]],
    watch: Stopwatch,
    *,
    num_reads: int,
    generator: torch.Generator,
    learning_rate: float,
    max_epochs: int,
    tol: float,
    patience: int,
    polish: Polish,
    work: float,
    anneal: float = 0.0,
    anneal_epochs: int = 0,
    watcher: Watcher | None = None,
) -> tuple[np.ndarray, dict[str, Any], PIGNN | None]:
    """Train within the budget on ``watch``, keeping the polish's share, then polish to the deadline.

    ``build`` makes the replicas and the graph operators; it is not called when the budget
    cannot fit it and a few epochs (a huge model under a short limit), and the replicas then
    start from random states drawn from ``generator``, which the polish descends.

    Training stopped by a ``KeyboardInterrupt`` (``stop_reason == "interrupted"``) skips the
    sampling-based rounding and the polish: the states are the replicas' best rounded ones.
    ``watcher`` (:func:`training_watcher`) draws the bar, calls the callback after each epoch
    (a true answer stops training with ``stop_reason == "callback"``) and logs progress.

    Returns the raw (rounded) states, the ``info`` entries of training and polishing (the
    polished states in ``info["states"]``, which :func:`finish` takes out) and the trained
    network (``None`` if none was built).
    """
    finish_cost = _finish_estimate(model, num_reads) + _rounding_estimate(model, num_reads)
    descent_cost = _polish_estimate(model, num_reads) if polish.method else 0.0
    anneal_cost = 0.0
    if polish.method == "sa":
        anneal_cost = finish_seconds(model, num_reads, polish.sweeps, _kick_budget(model, watch))
    left = watch.remaining()
    share = FINISH_SHARE if polish.method == "sa" and polish.sweeps is None else POLISH_SHARE
    reserve = max(share * left, anneal_cost + descent_cost + finish_cost)
    train_until = watch.elapsed() + left - reserve if left < math.inf else math.inf
    if logger.isEnabledFor(logging.INFO):
        logger.info(
            "PI-GNN: training %d reads on %d variables and %d interactions; %.3g s to train, %.3g s for the call",
            num_reads,
            model.num_variables,
            model.num_interactions,
            train_until - watch.elapsed(),
            watch.time_limit,
        )
    net = None
    if watch.elapsed() + 4 * work / EPOCH_RATE < train_until:
        with watch.phase("preprocessing"):
            net, graph = build()
        with watch.phase("sampling"):
            raw, losses, epochs, stop_reason = _train(
                model,
                net,
                graph,
                learning_rate,
                max_epochs,
                tol,
                patience,
                train_until,
                watch,
                anneal,
                anneal_epochs,
                watcher,
            )
            if stop_reason == "interrupted":
                polish = Polish(method=None)
            else:
                with torch.no_grad():
                    probs = net(graph).cpu().numpy().astype(np.float64)
                raw = sample_rounding(model, probs, raw, int(torch.randint(0, 2**31 - 1, (1,), generator=generator)))
    else:
        shape = (num_reads, model.num_variables)
        raw = torch.randint(0, 2, shape, generator=generator, dtype=torch.int8).numpy()
        losses, epochs, stop_reason = np.full(num_reads, np.nan), 0, "time_limit"
        logger.info("PI-GNN: no time to train; polishing random states")
    with watch.phase("postprocessing"):
        info: dict[str, Any] = {"epochs": epochs, "stop_reason": stop_reason, "relaxed_loss": losses.tolist()}
        info["states"], info["polish"] = _polish(model, raw, polish, watch, generator, descent_cost)
        if logger.isEnabledFor(logging.INFO):
            logger.info(
                "PI-GNN: polish (%s) finished at %.2f s: best energy %.6g",
                info["polish"]["method"],
                watch.elapsed(),
                float(model.binary_energies(info["states"]).min()),
            )
    return raw, info, net


def _polish(
    model: CompiledBQM, raw: np.ndarray, polish: Polish, watch: Stopwatch, generator: torch.Generator, descent_cost: float
) -> tuple[np.ndarray, dict[str, Any]]:
    """The finished states and ``info["polish"]``, by the deadline less the SampleSet's time;
    the anneal and kicks of ``polish="sa"`` leave ``descent_cost`` seconds for the descent."""
    deadline = time.perf_counter() + watch.remaining() - _finish_estimate(model, len(raw))
    if polish.method is None:
        return raw, {"method": None}
    if polish.method == "descent":
        result = descend(model, raw, deadline)
        return result.states, {"method": "descent", "rounds": result.rounds, "flips": result.flips, "complete": result.complete}
    seed = int(torch.randint(0, 2**31 - 1, (1,), generator=generator))
    states, done = finish_states(
        model, raw, deadline, sweeps=polish.sweeps, budget=_kick_budget(model, watch), seed=seed, after=descent_cost
    )
    return states, {"method": "sa", **done}


def _kick_budget(model: CompiledBQM, watch: Stopwatch) -> float:
    """The call's budget by which a finisher of fixed length judges its kicks: the time limit,
    or :func:`default_time_limit` where there is none."""
    return min(watch.time_limit, default_time_limit(model.num_variables, model.num_interactions))


def finish(
    bqm: dimod.BinaryQuadraticModel, model: CompiledBQM, raw: np.ndarray, info: dict[str, Any], watch: Stopwatch
) -> dimod.SampleSet:
    """The SampleSet of the polished states in ``info["states"]``, with ``raw_energy`` and timing."""
    with watch.phase("postprocessing"):
        states = info.pop("states")
        raw_energy = model.binary_energies(raw)
        sampleset = model.sampleset(bqm, states, info=info, raw_energy=raw_energy)
    sampleset.info.update(timing=watch.timing(), time_limit=watch.time_limit)
    return sampleset


def _finish_estimate(model: CompiledBQM, replicas: int) -> float:
    """Seconds to build the SampleSet, generously: dimod's labelling costs about 1.5 µs per
    variable (3 µs allowed), the energies about 20 ns per variable and interaction of each read
    (0.1 µs allowed), plus 20 ms."""
    return 3e-6 * model.num_variables + 1e-7 * replicas * (model.num_variables + model.num_interactions) + 0.02


def _rounding_estimate(model: CompiledBQM, replicas: int) -> float:
    """Seconds :func:`sample_rounding` may take: drawing a variable and adding its energy terms
    cost about 8 ns per variable and interaction end of each draw (10 ns allowed), a first call
    in a process included."""
    per_draw = replicas * (model.num_variables + 2 * model.num_interactions)
    return 1e-8 * min(ROUNDING_SAMPLES * per_draw, ROUNDING_WORK)


def _polish_estimate(model: CompiledBQM, replicas: int) -> float:
    """Seconds the descent usually needs: a round costs 5-10 ns per variable and interaction end
    of each read, and a descent takes 10-40 rounds (40 rounds at 10 ns allowed)."""
    return 4e-7 * replicas * (model.num_variables + 2 * model.num_interactions)


def sample_rounding(model: CompiledBQM, probs: np.ndarray, states: np.ndarray, seed: int) -> np.ndarray:
    """Each replica's best of its rounded state and states drawn from its probabilities.

    The sampling-based rounding of Qiu et al., "Sampling-based rounding for combinatorial
    optimization with GNNs" (ROS, 2024): each variable of a replica is drawn from
    Bernoulli(:math:`p_i`), :data:`ROUNDING_SAMPLES` times (fewer on large models, within
    :data:`ROUNDING_WORK`), and the lowest-energy draw replaces the rounded state where it is
    lower. It matters where a few variables stay fractional and rounding them at ½ together is
    wrong: on ``cqm_to_bqm`` knapsacks of 60 and 100 items, one replica's rounded state paid
    the penalty (values 438 and 865, infeasible), and the best of 1,024 draws was feasible
    (435 and 885), for 2 ms.

    Example:
        >>> import dimod, numpy as np
        >>> from gnnsolve.qubo import CompiledBQM
        >>> from gnnsolve.samplers.pignn import sample_rounding
        >>> model = CompiledBQM(dimod.BQM({0: -1, 1: -1}, {(0, 1): 3}, 0, "BINARY"))
        >>> best = sample_rounding(model, np.array([[0.45, 0.45]]), np.array([[0, 0]], np.int8), seed=0)
        >>> model.binary_energies(best).tolist()   # one of the two, not both (0.45 rounds both to 0)
        [-1.0]
    """
    replicas, n = probs.shape
    count = min(ROUNDING_SAMPLES, int(ROUNDING_WORK / (replicas * (n + 2 * model.num_interactions))))
    best = np.array(states, dtype=np.int8, copy=True)
    if count == 0 or n == 0:
        return best
    best_energy = model.binary_energies(best)
    generator = np.random.default_rng(seed)
    chunk = max(1, 2**22 // (replicas * n))
    every = np.arange(replicas)
    for begin in range(0, count, chunk):
        drawn = (generator.random((min(chunk, count - begin), replicas, n)) < probs).astype(np.int8)
        energy = model.binary_energies(drawn.reshape(-1, n)).reshape(len(drawn), replicas)
        pick = energy.argmin(axis=0)
        better = energy[pick, every] < best_energy
        best[better] = drawn[pick[better], every[better]]
        best_energy = np.where(better, energy[pick, every], best_energy)
    return best


def _train(
    model: CompiledBQM,
    net: PIGNN,
    graph: GraphOperators,
    learning_rate: float,
    max_epochs: int,
    tol: float,
    patience: int,
    train_until: float,
    watch: Stopwatch,
    anneal: float = 0.0,
    anneal_epochs: int = 0,
    watcher: Watcher | None = None,
) -> tuple[np.ndarray, np.ndarray, int, str]:
    """Adam on the relaxed energy until converged, ``max_epochs`` or ``train_until`` (on ``watch``).

    With ``anneal > 0`` the loss adds :func:`annealing_term`, its strength rising from
    ``-anneal`` to ``+anneal`` times the energy's scale over ``anneal_epochs`` epochs, or over
    :data:`ANNEAL_SHARE` of the training time where that comes first; convergence is tested
    only once the schedule is done.

    A ``KeyboardInterrupt`` during the epochs stops them with ``stop_reason="interrupted"``
    (the epoch it cut short is counted); one before the first epoch is raised. ``watcher``
    sees every epoch; its callback's true answer stops them with ``stop_reason="callback"``.

    Returns the best rounded state of each replica, the last loss, the epochs run and the
    reason it stopped.
    """
    replicas = net.embedding.shape[0]
    device = net.embedding.device
    start = watch.elapsed()
    with torch.no_grad():
        best_state = net(graph) > 0.5
        best_energy = model.relaxed_energies(best_state.float())
    previous = torch.full((replicas,), math.inf, device=device)
    optimizer = torch.optim.Adam(net.parameters(), lr=learning_rate)
    magnitude = float(np.abs(model.linear).sum() + np.abs(model.quadratic).sum()) / model.num_variables
    anneal_until = start + ANNEAL_SHARE * (train_until - start)
    progress = 1.0 if anneal <= 0 else 0.0
    window_loss = torch.full((replicas,), math.inf, device=device)
    window_energy = best_energy.clone()
    best_loss = torch.full((replicas,), math.inf, device=device)
    settled = torch.ones(replicas, dtype=torch.bool, device=device)
    stop_reason = "max_epochs"
    epochs = 0
    if watcher is None:
        watcher = Watcher("PI-GNN", logger=logger, clock=watch.elapsed)
    try:
        for epochs in range(1, max_epochs + 1):
            probs = net(graph)
            loss = model.relaxed_energies(probs)
            objective = loss
            if progress < 1.0:
                elapsed = watch.elapsed()
                progress = min(1.0, max(epochs / max(anneal_epochs, 1), (elapsed - start) / max(anneal_until - start, 1e-9)))
                objective = loss + anneal * magnitude * (2 * progress - 1) * annealing_term(probs)
            optimizer.zero_grad(set_to_none=True)
            objective.sum().backward()
            optimizer.step()
            with torch.no_grad():
                rounded = probs > 0.5
                energy = model.relaxed_energies(rounded.to(probs.dtype))
                improved = energy < best_energy
                best_energy = torch.where(improved, energy, best_energy)
                best_state[improved] = rounded[improved]
                settled &= energy <= best_energy
                previous = loss.detach()
                best_loss = torch.minimum(best_loss, previous)
            if epochs % patience == 0 and progress >= 1.0:
                scale = max(magnitude, float(best_loss.abs().max()))
                done = converged(window_loss - best_loss, best_energy < window_energy, settled, scale, tol)
                window_loss, window_energy = best_loss.clone(), best_energy.clone()
                settled.fill_(True)
                if bool(done.all()):
                    stop_reason = "converged"
                    break
            if watcher.due() and watcher.update(epochs, float(best_energy.min()), float(previous.mean())):
                stop_reason = STOP_REASON
                break
            elapsed = watch.elapsed()
            if elapsed + 2 * (elapsed - start) / epochs >= train_until:
                stop_reason = "time_limit"
                break
    except KeyboardInterrupt:
        stop_reason = "interrupted"
    if logger.isEnabledFor(logging.INFO):
        logger.info(
            "PI-GNN: training stopped after %d epochs (%s) at %.2f s: best energy %.6g",
            epochs,
            stop_reason,
            watch.elapsed(),
            float(best_energy.min()),
        )
    return best_state.cpu().numpy().astype(np.int8), previous.cpu().numpy(), epochs, stop_reason
