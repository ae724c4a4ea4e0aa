"""A QUBO dict and an Ising model through GNNSampler, beside simulated annealing and HiGHS.

The QUBO is a 12-variable random dict ``{(u, v): bias}``; the Ising model is a frustrated
ring-with-chords ``(h, J)`` on 16 spins. Each goes to ``GNNSampler`` (``sample_qubo`` /
``sample_ising``, PI-GNN trained for a fixed number of epochs), to dwave-samplers'
``SimulatedAnnealingSampler`` and to ``HiGHSSampler``, which proves the optimum. The calls are
the same for all three: only the sampler changes.

Prints, for each model, one line per sampler: its lowest energy, the gap to the proven optimum
(0 on every line for these small models) and HiGHS's status (``optimal``). With the epoch budget
fixed and seeds given, the printed values do not depend on the machine's load. About 5 s on a
busy 2-core machine, most of it importing torch.

Run: ``python examples/qubo_and_ising.py``
"""

from __future__ import annotations

import math
import random

from dwave.samplers import SimulatedAnnealingSampler

from gnnsolve import GNNSampler, HiGHSSampler


def random_qubo(n: int = 12, seed: int = 0) -> dict[tuple[int, int], float]:
    rng = random.Random(seed)
    Q: dict[tuple[int, int], float] = {(i, i): rng.randint(-5, 2) for i in range(n)}
    for i in range(n):
        for j in range(i + 1, n):
            if rng.random() < 0.4:
                Q[(i, j)] = rng.randint(-3, 6)
    return Q


def frustrated_ising(n: int = 16, seed: int = 1) -> tuple[dict[int, float], dict[tuple[int, int], float]]:
    rng = random.Random(seed)
    h = {i: rng.choice([-0.5, 0.0, 0.5]) for i in range(n)}
    J = {(i, (i + 1) % n): 1.0 for i in range(n)}  # antiferromagnetic ring ...
    J.update({(i, (i + 5) % n): rng.choice([-1.0, 1.0]) for i in range(0, n, 2)})  # ... with chords
    return h, J


def report(kind: str, results: dict[str, float], optimum: float, status: str) -> None:
    for name, energy in results.items():
        print(f"{kind:<6} {name:<22} energy {energy:8.2f}   gap to optimum {energy - optimum:5.2f}")
    print(f"{kind:<6} (HiGHS status: {status})")


def main() -> None:
    gnn = GNNSampler()
    sa = SimulatedAnnealingSampler()
    highs = HiGHSSampler()
    budget = {"max_epochs": 300, "time_limit": math.inf}  # epochs, not seconds: load-independent

    Q = random_qubo()
    exact = highs.sample_qubo(Q, time_limit=30)
    results = {
        "GNNSampler": gnn.sample_qubo(Q, num_reads=4, seed=0, **budget).first.energy,
        "SimulatedAnnealing": sa.sample_qubo(Q, num_reads=16, seed=0).first.energy,
        "HiGHSSampler": exact.first.energy,
    }
    report("QUBO", results, exact.first.energy, exact.info["status"])

    h, J = frustrated_ising()
    exact = highs.sample_ising(h, J, time_limit=30)
    results = {
        "GNNSampler": gnn.sample_ising(h, J, num_reads=4, seed=0, **budget).first.energy,
        "SimulatedAnnealing": sa.sample_ising(h, J, num_reads=16, seed=0).first.energy,
        "HiGHSSampler": exact.first.energy,
    }
    report("Ising", results, exact.first.energy, exact.info["status"])


if __name__ == "__main__":
    main()
