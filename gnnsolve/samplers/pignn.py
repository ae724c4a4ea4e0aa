"""``GNNSampler``: PI-GNN for any binary quadratic model.

Implements Schuetz, Brubaker and Katzgraber, "Combinatorial optimization with physics-inspired
graph neural networks", Nature Machine Intelligence 4, 367–377 (2022). The network
(:class:`gnnsolve.nn.pignn.PIGNN`) runs on the model's interaction graph, so any BQM works, not
only graphs built for MaxCut. Its loss is the model's energy in BINARY form evaluated at the
sigmoid outputs (the relaxed QUBO energy), minimised with Adam until the loss stops changing
(tolerance and patience), the time limit or ``max_epochs``. Each read is an independent replica;
all replicas train in one batched forward pass. A replica's answer is its outputs rounded at
0.5 — the best rounded state it visited — and, with ``polish=True`` (default), that state then
descends to a local minimum with dwave-samplers' ``SteepestDescentSolver``.

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

import math
from typing import Any

import dimod
import numpy as np
import torch
from dwave.samplers import SteepestDescentSolver

from gnnsolve.nn.pignn import CONVOLUTIONS, PIGNN, GraphOperators
from gnnsolve.qubo import CompiledBQM
from gnnsolve.samplers._common import (
    Stopwatch,
    check_positive_int,
    check_time_limit,
)
from gnnsolve.samplers._torch import resolve_device

__all__ = ["GNNSampler"]


class GNNSampler(dimod.Sampler):
    """PI-GNN sampler: a graph network trained on the model's own relaxed energy.

    Example:
        >>> import dimod
        >>> from gnnsolve import GNNSampler
        >>> bqm = dimod.BQM.from_ising({}, {(0, 1): 1, (1, 2): 1, (0, 2): 1})
        >>> float(GNNSampler().sample(bqm, seed=1).first.energy)
        -1.0
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
            "device": [],
        }
        self.properties = {
            "convolutions": CONVOLUTIONS,
            "paper": "Schuetz, Brubaker, Katzgraber, Nat. Mach. Intell. 4, 367 (2022)",
        }

    def sample(
        self,
        bqm: dimod.BinaryQuadraticModel,
        *,
        num_reads: int = 1,
        seed: int | None = None,
        time_limit: float | None = None,
        max_epochs: int = 10_000,
        learning_rate: float = 0.005,
        embedding_dim: int | None = None,
        hidden_dim: int | None = None,
        conv: str = "gcn",
        dropout: float = 0.0,
        tol: float = 1e-4,
        patience: int = 100,
        polish: bool = True,
        device: str | torch.device = "cpu",
        **kwargs: Any,
    ) -> dimod.SampleSet:
        """Train ``num_reads`` PI-GNN replicas on ``bqm`` and return one sample per replica.

        Args:
            bqm: Any binary quadratic model (SPIN or BINARY, any labels).
            num_reads: Independent replicas, trained together in one batched pass.
            seed: Seed of the initialisation; the same seed gives the same samples on the CPU.
            time_limit: Seconds for the whole call (training stops early to leave room to polish).
            max_epochs: Upper bound on training epochs.
            learning_rate: Adam's step size.
            embedding_dim: Node-embedding width; default ``round(sqrt(n))`` clipped to [8, 128].
            hidden_dim: Width after the first convolution; default half the embedding width.
            conv: ``"gcn"`` or ``"sage"`` (GraphSAGE, mean aggregation).
            dropout: Dropout between the two convolutions.
            tol, patience: Stop once every replica's loss has changed by at most ``tol`` (or
                risen) for ``patience`` consecutive epochs.
            polish: Descend each rounded state to a local minimum with SteepestDescentSolver.
            device: ``"cpu"`` or ``"cuda"``.

        Returns:
            A SampleSet with ``num_reads`` rows in the user's labels and vartype, energies
            recomputed on ``bqm``, and the data vector ``raw_energy`` (energy before polishing).
            ``info`` holds ``timing`` (ns), ``epochs``, ``stop_reason`` (``"converged"``,
            ``"max_epochs"`` or ``"time_limit"``) and ``relaxed_loss`` (final loss per read).
        """
        kwargs = self.remove_unknown_kwargs(**kwargs)
        num_reads = check_positive_int("num_reads", num_reads)
        max_epochs = check_positive_int("max_epochs", max_epochs)
        patience = check_positive_int("patience", patience)
        time_limit = check_time_limit(time_limit)
        if conv not in CONVOLUTIONS:
            raise ValueError(f"conv must be one of {CONVOLUTIONS}, got {conv!r}")
        if not (learning_rate > 0 and math.isfinite(learning_rate)):
            raise ValueError(f"learning_rate must be positive, got {learning_rate!r}")
        torch_device = resolve_device(device)

        watch = Stopwatch()
        with watch.phase("preprocessing"):
            model = CompiledBQM(bqm)
            n = model.num_variables
        if n == 0:
            info = {"timing": watch.timing(), "epochs": 0, "stop_reason": "empty", "relaxed_loss": [model.offset] * num_reads}
            return model.sampleset(bqm, np.zeros((num_reads, 0), np.int8), info=info)

        with watch.phase("preprocessing"):
            embedding_dim, hidden_dim = default_widths(n, embedding_dim, hidden_dim)
            generator = torch.Generator().manual_seed(
                int(seed) if seed is not None else int(torch.seed() % 2**63)
            )
            graph = GraphOperators.build(model.edge_index(), n, conv).to(torch_device)
            net = PIGNN(n, num_reads, embedding_dim, hidden_dim, conv, dropout, generator).to(torch_device)
            model.torch_terms(torch_device, torch.float32)

        with watch.phase("sampling"):
            raw, losses, epochs, stop_reason = _train(
                model, net, graph, learning_rate, max_epochs, tol, patience, time_limit, watch
            )

        with watch.phase("postprocessing"):
            raw_energy = model.binary_energies(raw)
            states = _steepest_descent(bqm, model, raw) if polish else raw
        info = {
            "timing": watch.timing(),
            "epochs": epochs,
            "stop_reason": stop_reason,
            "relaxed_loss": losses.tolist(),
        }
        return model.sampleset(bqm, states, info=info, raw_energy=raw_energy)


def default_widths(num_variables: int, embedding_dim: int | None, hidden_dim: int | None) -> tuple[int, int]:
    """PI-GNN's widths: embedding ``round(sqrt(n))`` clipped to [8, 128], hidden half of it; given values win."""
    embedding = embedding_dim or int(min(128, max(8, round(math.sqrt(num_variables)))))
    return embedding, hidden_dim or max(1, embedding // 2)


def _train(
    model: CompiledBQM,
    net: PIGNN,
    graph: GraphOperators,
    learning_rate: float,
    max_epochs: int,
    tol: float,
    patience: int,
    time_limit: float | None,
    watch: Stopwatch,
) -> tuple[np.ndarray, np.ndarray, int, str]:
    """Adam on the relaxed energy; returns the best rounded state of each replica."""
    optimizer = torch.optim.Adam(net.parameters(), lr=learning_rate)
    replicas = net.embedding.shape[0]
    device = net.embedding.device
    best_energy = torch.full((replicas,), math.inf, device=device)
    best_state = torch.zeros((replicas, model.num_variables), dtype=torch.bool, device=device)
    previous = torch.full((replicas,), math.inf, device=device)
    stalled = torch.zeros(replicas, dtype=torch.long, device=device)
    epoch_seconds = 0.0
    stop_reason = "max_epochs"
    epochs = 0
    for epochs in range(1, max_epochs + 1):
        probs = net(graph)
        loss = model.relaxed_energies(probs)
        optimizer.zero_grad(set_to_none=True)
        loss.sum().backward()
        optimizer.step()
        with torch.no_grad():
            rounded = probs > 0.5
            energy = model.relaxed_energies(rounded.to(probs.dtype))
            improved = energy < best_energy
            best_energy = torch.where(improved, energy, best_energy)
            best_state[improved] = rounded[improved]
            change = loss.detach() - previous
            stalled = torch.where((change.abs() <= tol) | (change > 0), stalled + 1, 0)
            previous = loss.detach()
        if bool((stalled >= patience).all()):
            stop_reason = "converged"
            break
        if time_limit is not None:
            elapsed = watch.elapsed()
            epoch_seconds = elapsed / epochs if epochs == 1 else 0.9 * epoch_seconds + 0.1 * (elapsed / epochs)
            if elapsed + 2 * epoch_seconds + 0.01 >= time_limit:
                stop_reason = "time_limit"
                break
    return best_state.cpu().numpy().astype(np.int8), previous.cpu().numpy(), epochs, stop_reason


def _steepest_descent(bqm: dimod.BinaryQuadraticModel, model: CompiledBQM, x: np.ndarray) -> np.ndarray:
    """Each 0/1 state descended to a single-flip local minimum of ``bqm``, in index order."""
    descended = SteepestDescentSolver().sample(bqm, initial_states=(model.from_binary(x), model.variables))
    position = {v: i for i, v in enumerate(descended.variables)}
    columns = [position[v] for v in model.variables]
    return model.to_binary(descended.record.sample[:, columns])
