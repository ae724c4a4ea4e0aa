"""TSP at TSPLIB and random sizes: the position QUBO's build cost, and tours from PI-GNN, SA, 2-opt/Or-opt and LKH.

Instances: the shared TSPLIB set (burma14 … kroA100, TSPLIB's integer distances, ratios to the
proven optima of ``optimal_lengths.txt``) and random Euclidean instances of 150, 200 and 280
cities (uniform in the unit square, seed 0 + n, unrounded distances, ratios to LKH's tour).

Per instance, in this one process:

* ``build``: building :attr:`TSP.bqm <gnnsolve.adapters.tsp.TSP.bqm>` (numpy arrays into
  ``BinaryQuadraticModel.from_numpy_vectors``), and, up to :data:`OLD_BUILD_UP_TO` cities, dimod's
  ``traveling_salesperson`` generator that built it before. Each build runs in a fresh child
  process, which reports its seconds and the rise of its peak RSS.
* ``lkh``: ``TSP.solve(LKHSampler())``, elkai's default 10 runs.
* ``random ×R + 2-opt + or-opt``: :func:`gnnsolve.search.tsp.local_search` from R random
  permutations.
* ``sa ×R``: SimulatedAnnealingSampler (its default 1000 sweeps) on the QUBO through
  ``TSP.solve`` (every row decoded by beam search, then 2-opt and Or-opt).
* ``gnn ×R``: GNNSampler through ``TSP.solve(..., time_limit=B)`` with the keywords
  ``TSP.sample_defaults`` gives it (GraphSAGE, no polish, at most 100 epochs); ``B`` is the
  stated budget for the whole call (building the QUBO, training, decoding). Also ``gnn ×1`` on
  the random instances: one replica needs a quarter of the work per epoch, so it trains where
  four replicas cannot.

For the QUBO rows, ``raw`` is the best beam decode without local search (what the samples are
worth alone), ``valid`` the rows that were tours as sampled. Cells: best tour length, its ratio,
wall seconds, epochs. Targets: the 150-city build in at most 2 s; the GNN's call within its budget
(+10 %).

Run under the shared lock: ``flock /tmp/gnnsolve-bench.lock python benchmarks/tsp_tsplib.py
[--budget 60] [--reads 16] [--gnn-reads 4] [--loads idle,loaded] [--out docs/benchmarks]``.
``--loads loaded`` repeats everything beside one busy process per core.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from dwave.samplers import SimulatedAnnealingSampler

from _cli import add_progress_option, progress, say
from _load import competing_load  # benchmarks/_load.py
from gnnsolve import GNNSampler, LKHSampler
from gnnsolve.adapters.datasets import read_tsplib, shared_data_dir, tsplib_optimal_lengths
from gnnsolve.adapters.tsp import TSP, model_bytes
from gnnsolve.samplers._common import available_memory
from gnnsolve.search.tsp import local_search

TSPLIB = ["burma14", "ulysses16", "ulysses22", "eil51", "berlin52", "st70", "eil76", "kroA100"]
RANDOM_SIZES = (150, 200, 280)
OLD_BUILD_UP_TO = 150
BUILD_TARGET_SECONDS = 2.0
BUDGET_SLACK = 1.10

BUILD = """
import json, sys, time
import networkx as nx, numpy as np
from dimod.generators import traveling_salesperson
from gnnsolve.adapters.tsp import TSP
problem = TSP(np.load(sys.argv[1]), max_cities=10**4)
def peak():  # VmHWM, not ru_maxrss, which a child inherits from its parent across exec
    line = next(line for line in open("/proc/self/status") if line.startswith("VmHWM:"))
    return int(line.split()[1]) * 1024
before = peak()
start = time.perf_counter()
if sys.argv[2] == "numpy":
    bqm = problem.bqm
else:
    G = nx.Graph()
    n = problem.num_cities
    G.add_weighted_edges_from((i, j, float(problem.distances[i, j])) for i in range(n) for j in range(i + 1, n))
    bqm = traveling_salesperson(G, lagrange=problem.penalty)
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "rss_rise_bytes": peak() - before, "interactions": bqm.num_interactions}))
"""
"""A child process that builds one QUBO (``numpy``: today's; ``generator``: dimod's loop) and reports it."""


def instances(data: Path) -> list[tuple[str, np.ndarray, float | None]]:
    optima = tsplib_optimal_lengths()
    named = [(name, read_tsplib(data / "tsplib" / f"{name}.tsp").distance_matrix(), optima[name]) for name in TSPLIB]
    for n in RANDOM_SIZES:
        xy = np.random.default_rng(n).random((n, 2))
        named.append((f"random{n}", np.linalg.norm(xy[:, None] - xy[None, :], axis=-1), None))
    return named


def build_cost(D: np.ndarray, how: str) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "distances.npy"
        np.save(path, D)
        done = subprocess.run([sys.executable, "-c", BUILD, str(path), how], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def timed(work):
    start = time.perf_counter()
    result = work()
    return result, time.perf_counter() - start


def qubo_row(method: str, problem: TSP, sampler, seconds_of, **keywords) -> dict:
    """Sample through ``TSP.solve``; ``raw`` and ``valid`` from the beam decode without local search."""
    (solution, sampleset), seconds = timed(lambda: problem.solve(sampler, **keywords))
    raw = TSP(problem.distances, two_opt=False, or_opt=False).decode_sampleset(sampleset)
    info = sampleset.info
    return {
        "method": method,
        "length": solution.objective,
        "seconds": seconds_of(seconds),
        "raw": min(s.objective for s in raw),
        "valid": sum(not s.repaired for s in raw),
        "rows": len(raw),
        "epochs": info.get("epochs"),
        "stop_reason": info.get("stop_reason"),
        "budget": keywords.get("time_limit"),
    }


def gnn_row(method: str, problem: TSP, budget: float, reads: int, seed: int) -> dict:
    """The GNN's call, or why it was not made: the QUBO alone would not fit in memory."""
    if model_bytes(problem.num_cities) * 4 > available_memory():
        return {
            "method": method,
            "length": None,
            "note": f"not run: the QUBO takes {model_bytes(problem.num_cities) / 1e9:.1f} GB "
            f"to build, a sampler several times that, {available_memory() / 1e9:.1f} GB available",
        }
    row = qubo_row(method, problem, GNNSampler(), lambda s: s, time_limit=budget, num_reads=reads, seed=seed)
    row["within_budget"] = row["seconds"] <= budget * BUDGET_SLACK
    return row


def run_instance(name: str, D: np.ndarray, optimum: float | None, args: argparse.Namespace) -> dict:
    n = len(D)
    build = {"numpy": build_cost(D, "numpy")}
    if n <= OLD_BUILD_UP_TO:
        build["generator"] = build_cost(D, "generator")
    problem = TSP(D)
    (lkh, sampleset), seconds = timed(lambda: problem.solve(LKHSampler(), seed=args.seed))
    rows = [{"method": "lkh (elkai, 10 runs)", "length": lkh.objective, "seconds": seconds, "runs": sampleset.info["runs"]}]
    rng = np.random.default_rng(args.seed)
    tours, seconds = timed(lambda: [local_search(D, rng.permutation(n)) for _ in range(args.reads)])
    rows.append(
        {
            "method": f"random ×{args.reads} + 2-opt + or-opt",
            "length": min(problem.evaluate(t) for t in tours),
            "seconds": seconds,
        }
    )
    _, build_seconds = timed(lambda: problem.bqm)  # SA's rows count the build, as the GNN's call does
    rows.append(
        qubo_row(
            f"sa ×{args.gnn_reads} (1000 sweeps)",
            problem,
            SimulatedAnnealingSampler(),
            lambda s: s + build_seconds,
            num_reads=args.gnn_reads,
            seed=args.seed,
        )
    )
    problem.__dict__.pop("bqm")  # the GNN's call builds its own, inside its budget
    rows.append(gnn_row(f"gnn ×{args.gnn_reads}", problem, args.budget, args.gnn_reads, args.seed))
    if optimum is None:
        problem.__dict__.pop("bqm", None)
        rows.append(gnn_row("gnn ×1", problem, args.budget, 1, args.seed))
    reference = optimum if optimum is not None else lkh.objective
    for row in rows:
        row["ratio"] = None if row["length"] is None else row["length"] / reference
        if row.get("raw") is not None:
            row["raw_ratio"] = row["raw"] / reference
    return {
        "cities": n,
        "optimum": optimum,
        "reference": "optimum" if optimum else "lkh",
        "build": build,
        "rows": rows,
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }


def print_rows(load: str, name: str, record: dict) -> None:
    for row in record["rows"]:
        if row["length"] is None:
            say(f"| {load} | {name} | {row['method']} | {row['note']} | | | | |")
            continue
        raw = f"{row['raw_ratio']:.3f} ({row['valid']}/{row['rows']} valid)" if "raw_ratio" in row else ""
        epochs = "" if row.get("epochs") is None else f"{row['epochs']} ({row['stop_reason']})"
        budget = "" if row.get("budget") is None else f"{row['budget']:g}"
        say(
            f"| {load} | {name} | {row['method']} | {row['length']:.1f} | {row['ratio']:.4f} | {raw} | "
            f"{row['seconds']:.1f} | {budget} | {epochs} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", nargs="+", help="names from the TSPLIB set and random150/200/280")
    parser.add_argument("--budget", type=float, default=60.0, help="seconds for the GNN's whole TSP.solve call")
    parser.add_argument("--reads", type=int, default=16, help="random starts of the local search")
    parser.add_argument("--gnn-reads", type=int, default=4, help="reads of the GNN and SA")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--loads", default="idle", help="comma-separated: idle, loaded (one busy process per core)")
    parser.add_argument("--out", type=Path, default=Path("docs/benchmarks"))
    add_progress_option(parser)
    args = parser.parse_args()
    data = shared_data_dir()
    if data is None:
        raise SystemExit("../shared/data is missing: the benchmark needs TSPLIB")
    torch.set_num_threads(args.threads)
    chosen = [i for i in instances(data) if args.instances is None or i[0] in args.instances]
    settings = {k: v for k, v in vars(args).items() if k != "progress"}  # the display is not a setting of the run
    results = {"settings": {**settings, "out": str(args.out)}, "runs": {}}
    print("| load | instance | method | length | ratio | raw ratio | seconds | budget | epochs |")
    print("|---|---|---|---:|---:|---|---:|---:|---|")
    for load in args.loads.split(","):
        with competing_load((os.cpu_count() or 1) if load == "loaded" else 0):
            for name, D, optimum in progress(chosen, args, desc=f"TSP ({load})", unit="instance"):
                record = run_instance(name, D, optimum, args)
                results["runs"].setdefault(load, {})[name] = record
                print_rows(load, name, record)
    print(
        "\n| instance | cities | interactions | numpy build s | numpy peak RSS rise MB | generator build s | generator RSS rise MB |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, record in results["runs"][args.loads.split(",")[0]].items():
        new, old = record["build"]["numpy"], record["build"].get("generator")
        old_cells = f"{old['seconds']:.2f} | {old['rss_rise_bytes'] / 2**20:.0f}" if old else "– | –"
        print(
            f"| {name} | {record['cities']} | {new['interactions']:,} | {new['seconds']:.2f} | "
            f"{new['rss_rise_bytes'] / 2**20:.0f} | {old_cells} |"
        )
    print()
    for load, records in results["runs"].items():
        if "random150" in records:
            seconds = records["random150"]["build"]["numpy"]["seconds"]
            verdict = "MET" if seconds <= BUILD_TARGET_SECONDS else "MISSED"
            print(f"{verdict}: {load} 150-city QUBO build {seconds:.2f} s (target <= {BUILD_TARGET_SECONDS:g} s)")
        gnn = [(name, row) for name, record in records.items() for row in record["rows"] if "within_budget" in row]
        late = [f"{name} {row['method']} {row['seconds']:.1f} s" for name, row in gnn if not row["within_budget"]]
        verdict = "MET" if not late else "MISSED"
        print(
            f"{verdict}: {load} GNN calls within budget + 10 % ({len(gnn) - len(late)}/{len(gnn)})"
            + (f"; late: {', '.join(late)}" if late else "")
        )
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "tsp_tsplib.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
