"""Maximum independent set on a BHOSLIB (DIMACS) file and TSP on a TSPLIB file, against their optima.

MIS: ``bhoslib/frb30-15-1.mis`` (450 nodes; its independence number is 30, the number of
cliques of model RB) read with ``read_dimacs`` and solved as ``MaxIndependentSet(G)`` by
``GNNSampler`` (a fixed 300 epochs) and ``SimulatedAnnealingSampler``; each sample is repaired
into an independent set and improved by swaps.

TSP: ``tsplib/burma14.tsp`` read with ``read_tsplib`` into ``TSP.from_tsplib`` (the position
QUBO on 196 variables), solved by the same two samplers; each sample is decoded into a tour and
improved by 2-opt. The optimum, 3323, comes from ``tsplib/optimal_lengths.txt``.

Prints one line per problem and sampler: set size or tour length, feasibility (``True``), the
optimum and the ratio to it (MIS: sizes 27 and 26 of 30, ratios 0.900 and 0.867; TSP: 3323
for both, the optimum). With epochs and seeds fixed the
values do not depend on the machine's load; about 7 s in all on a busy 2-core machine. If the
benchmark data is missing it prints why and returns.

Run: ``python examples/mis_and_tsp.py``
"""

from __future__ import annotations

import math

import dimod
from dwave.samplers import SimulatedAnnealingSampler

from gnnsolve import GNNSampler
from gnnsolve.adapters.datasets import bhoslib_catalogue, read_dimacs, shared_data_dir, tsplib_optimal_lengths
from gnnsolve.adapters.graphs import TSP, MaxIndependentSet
from gnnsolve.adapters.tsplib import read_tsplib


def main() -> None:
    data = shared_data_dir()
    if data is None:
        print("skipped: benchmark data not found at ../shared/data beside the project (or $GNNSOLVE_DATA)")
        return
    samplers: dict[str, tuple[dimod.Sampler, dict]] = {
        "GNNSampler": (GNNSampler(), {"num_reads": 4, "seed": 0, "max_epochs": 300, "time_limit": math.inf}),
        "SimulatedAnnealing": (SimulatedAnnealingSampler(), {"num_reads": 16, "seed": 0}),
    }

    entry = bhoslib_catalogue(data)["frb30-15-1"]
    mis = MaxIndependentSet(read_dimacs(data / "bhoslib" / entry.file))
    for name, (sampler, options) in samplers.items():
        found, _ = mis.solve(sampler, **options)
        print(
            f"MIS {entry.name:<11} {name:<20} size {found.objective:6.0f}  feasible {found.feasible}"
            f"  optimum {entry.mis}  ratio {found.objective / entry.mis:.3f}"
        )

    optimum = tsplib_optimal_lengths(data)["burma14"]
    tsp = TSP.from_tsplib(read_tsplib(data / "tsplib" / "burma14.tsp"))
    for name, (sampler, options) in samplers.items():
        tour, _ = tsp.solve(sampler, **options)
        print(
            f"TSP {'burma14':<11} {name:<20} length {tour.objective:6.0f}  feasible {tour.feasible}"
            f"  optimum {optimum}  ratio {tour.objective / optimum:.3f}"
        )


if __name__ == "__main__":
    main()
