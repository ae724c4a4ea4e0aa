"""MaxCut on a G-set benchmark file, against the best known cut from the data's catalogue.

Reads ``gset/G1.txt`` (800 nodes, 19,176 edges) from the benchmark data with
``gnnsolve.adapters.datasets.read_gset``, builds ``MaxCut(G)`` and solves it with ``GNNSampler``
(PI-GNN, a fixed 300 epochs) and with dwave-samplers' ``SimulatedAnnealingSampler``; every sample
is decoded into a cut and scored exactly on the graph.

Prints the instance's size and best known cut (11624, from ``gset/best_known.csv``), then one
line per sampler: the cut weight, its ratio to the best known cut (``cut 11624 ... 1.0000`` for
both) and the seconds taken (about 2 s and 0.4 s on a busy 2-core machine; 6 s in all with the
imports). With the epoch budget and seeds fixed, the cuts do not depend on the machine's load. If the benchmark data is missing it prints why and returns.

Run: ``python examples/maxcut_gset.py``
"""

from __future__ import annotations

import math
import time

import dimod
from dwave.samplers import SimulatedAnnealingSampler

from gnnsolve import GNNSampler
from gnnsolve.adapters.datasets import gset_catalogue, read_gset, shared_data_dir
from gnnsolve.adapters.graphs import MaxCut


def main(instance: str = "G1") -> None:
    data = shared_data_dir()
    if data is None:
        print("skipped: benchmark data not found at ../shared/data beside the project (or $GNNSOLVE_DATA)")
        return
    entry = gset_catalogue(data)[instance]
    G = read_gset(data / "gset" / entry.file)
    problem = MaxCut(G)
    print(f"{instance}: {G.number_of_nodes()} nodes, {G.number_of_edges()} edges, best known cut {entry.best_known}")
    samplers: dict[str, tuple[dimod.Sampler, dict]] = {
        "GNNSampler": (GNNSampler(), {"num_reads": 4, "seed": 0, "max_epochs": 300, "time_limit": math.inf}),
        "SimulatedAnnealing": (SimulatedAnnealingSampler(), {"num_reads": 8, "seed": 0}),
    }
    for name, (sampler, options) in samplers.items():
        start = time.perf_counter()
        cut, _ = problem.solve(sampler, **options)
        seconds = time.perf_counter() - start
        print(
            f"{name:<20} cut {cut.objective:7.0f}   ratio to best known {cut.objective / entry.best_known:.4f}"
            f"   ({seconds:.1f} s)"
        )


if __name__ == "__main__":
    main()
