"""TSP on TSPLIB: PI-GNN on the position QUBO beside simulated annealing, tour heuristics and LKH.

Every method runs in the same process on the same instances (burma14, ulysses22, eil51,
berlin52, st70), with TSPLIB's own integer distances, so ratios are to the proven optima
(``optimal_lengths.txt``). Rows per instance:

* ``lkh (elkai)``: LKH-3 through elkai with its defaults (10 runs); its time is the reference
  for every time ratio.
* ``nn``, ``nn + 2-opt``, ``nn + 2-opt + or-opt``: the nearest-neighbour tour from city 0, then
  :mod:`gnnsolve.search.tsp`'s local search.
* ``random ×R + 2-opt + or-opt``: the same local search from R random permutations — the
  control that shows what the starting tours of the QUBO samplers are worth.
* ``sa ×R …``: SimulatedAnnealingSampler (defaults, R reads) on the QUBO of
  :class:`gnnsolve.adapters.tsp.TSP`; ``raw`` is the beam decode alone, then with local search.
* ``gnn ×R …``: GNNSampler on the same QUBO with the keywords ``TSP.sample_defaults`` gives
  it (GraphSAGE, no polish, 100 epochs), R reads, one training run per instance, decoded four
  ways: raw (beam, no local search); greedy or beam decode + 2-opt; beam decode + 2-opt + Or-opt.

Cells: the best tour over the reads, its ratio to the optimum, the mean ratio over the reads,
wall seconds (for the QUBO rows: building the model, sampling and that row's decoding) and
seconds / LKH's. The GNN's training is shared by its four rows and counted in each.

Run: ``python benchmarks/tsp_tsplib.py [--reads 16] [--threads 1] [--out docs/benchmarks]``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import elkai
import numpy as np
import torch
from dwave.samplers import SimulatedAnnealingSampler

from gnnsolve import GNNSampler
from gnnsolve.adapters.datasets import read_tsplib, shared_data_dir, tsplib_optimal_lengths
from gnnsolve.adapters.tsp import TSP
from gnnsolve.search.tsp import local_search, nearest_neighbour_tour, tour_length, two_opt

INSTANCES = ["burma14", "ulysses22", "eil51", "berlin52", "st70"]
TARGETS = {"burma14": 1.02, "ulysses22": 1.02, "st70": 1.05}
"""Ratios to report against: the DyCO-GNN paper's best static PI-GNN results, rounded down."""

DECODINGS = {
    "raw (beam)": {"decoder": "beam", "two_opt": False, "or_opt": False},
    "+ 2-opt (greedy)": {"decoder": "greedy", "or_opt": False},
    "+ 2-opt (beam)": {"decoder": "beam", "or_opt": False},
    "+ 2-opt + or-opt (beam)": {"decoder": "beam"},
}


def timed(work):
    start = time.perf_counter()
    result = work()
    return result, time.perf_counter() - start


def row(method: str, lengths: list[float], seconds: float, optimum: float, **info) -> dict:
    return {
        "method": method,
        "length": float(min(lengths)),
        "ratio": float(min(lengths)) / optimum,
        "mean_ratio": float(np.mean(lengths)) / optimum,
        "seconds": seconds,
        **info,
    }


def heuristic_rows(D: np.ndarray, reads: int, seed: int, optimum: float) -> list[dict]:
    tour, seconds = timed(lambda: elkai.DistanceMatrix(D.astype(int).tolist()).solve_tsp()[:-1])
    rows = [row("lkh (elkai)", [tour_length(D, tour)], seconds, optimum)]
    nn, seconds = timed(lambda: nearest_neighbour_tour(D))
    rows.append(row("nn", [tour_length(D, nn)], seconds, optimum))
    for method, improve in [("nn + 2-opt", two_opt), ("nn + 2-opt + or-opt", local_search)]:
        tour, seconds = timed(lambda: improve(D, nearest_neighbour_tour(D)))
        rows.append(row(method, [tour_length(D, tour)], seconds, optimum))
    rng = np.random.default_rng(seed)
    tours, seconds = timed(lambda: [local_search(D, rng.permutation(len(D))) for _ in range(reads)])
    rows.append(row(f"random ×{reads} + 2-opt + or-opt", [tour_length(D, t) for t in tours], seconds, optimum))
    return rows


def decoded_rows(name: str, D: np.ndarray, sampleset, seconds: float, optimum: float, decodings: dict) -> list[dict]:
    """One row per decoding of ``sampleset``.

    ``valid_samples`` counts the reads that are tours as sampled, ``mean_ones`` the (city, position)
    pairs a read sets on average (a tour sets ``n``).
    """
    raw = TSP(D, two_opt=False, or_opt=False).decode_sampleset(sampleset)
    info = {"valid_samples": sum(not s.repaired for s in raw), "mean_ones": float(sampleset.record.sample.sum(1).mean())}
    info.update((k, v) for k, v in sampleset.info.items() if k in ("epochs", "stop_reason"))
    rows = []
    for label, options in decodings.items():
        problem = TSP(D, **options)
        solutions, decode_seconds = timed(lambda: problem.decode_sampleset(sampleset))
        rows.append(row(f"{name} {label}", [s.objective for s in solutions], seconds + decode_seconds, optimum,
                        **info))
    return rows


def qubo_rows(D: np.ndarray, reads: int, seed: int, optimum: float) -> list[dict]:
    problem = TSP(D)
    bqm, build_seconds = timed(lambda: problem.bqm)
    sampleset, seconds = timed(lambda: SimulatedAnnealingSampler().sample(bqm, num_reads=reads, seed=seed))
    sa_decodings = {k: DECODINGS[k] for k in ("raw (beam)", "+ 2-opt + or-opt (beam)")}
    rows = decoded_rows(f"sa ×{reads}", D, sampleset, build_seconds + seconds, optimum, sa_decodings)
    sampleset, seconds = timed(lambda: GNNSampler().sample(
        bqm, num_reads=reads, seed=seed, **problem.sample_defaults(GNNSampler())))
    rows += decoded_rows(f"gnn ×{reads}", D, sampleset, build_seconds + seconds, optimum, DECODINGS)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", nargs="+", default=INSTANCES)
    parser.add_argument("--reads", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (the other methods use one)")
    parser.add_argument("--out", type=Path, default=Path("docs/benchmarks"))
    args = parser.parse_args()
    data = shared_data_dir()
    if data is None:
        raise SystemExit("../shared/data is missing: the benchmark needs TSPLIB")
    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    optima = tsplib_optimal_lengths()

    results = {"settings": {**vars(args), "out": str(args.out)}, "instances": {}}
    print("| instance (optimum) | method | length | ratio | mean ratio | seconds | time / lkh |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for name in args.instances:
        D = read_tsplib(data / "tsplib" / f"{name}.tsp").distance_matrix()
        optimum = optima[name]
        rows = heuristic_rows(D, args.reads, args.seed, optimum)
        rows += qubo_rows(D, args.reads, args.seed, optimum)
        reference = rows[0]["seconds"]
        for r in rows:
            r["time_ratio"] = r["seconds"] / reference
            print(f"| {name} ({optimum}) | {r['method']} | {r['length']:.0f} | {r['ratio']:.4f} | "
                  f"{r['mean_ratio']:.4f} | {r['seconds']:.3f} | {r['time_ratio']:.1f} |", flush=True)
        results["instances"][name] = {"optimum": optimum, "target": TARGETS.get(name), "rows": rows}
    (args.out / "tsp_tsplib.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
