"""Maximum independent set: GNNSampler beside greedy heuristics and simulated annealing.

Instances: the ten random d-regular graphs of ``pignn_dregular`` (n = 100, d = 3 and 5, proven
optima) and the BHOSLIB graphs frb30-15-1..5 (n = 450, MIS 30) and frb35-17-1..5 (n = 595,
MIS 35). Every method runs in the same process on the same graphs:

* ``gnn``: GNNSampler (PI-GNN, GCN) on the MIS QUBO (penalty 2), ``--reads`` replicas, a wall
  budget of ``--budget`` seconds; the best decoded row counts. ``gnn (repair)`` decodes with the
  DyCO-GNN repair alone (greedy removal of conflicts, greedy extension to a maximal set);
  ``gnn`` decodes the same SampleSet with the default decoder, which then applies (1,2)-swaps.
  ``gnn sage`` is the GraphSAGE variant (``conv="sage"``) with the default decoder.
* ``sa (repair)`` and ``sa``: SimulatedAnnealingSampler on the same QUBO, default schedule,
  ``--reads`` reads, the same two decoders.
* ``greedy min-degree``: :func:`gnnsolve.adapters.graphs.greedy_independent_set` from an empty
  set; ``greedy + swaps`` improves it with :func:`gnnsolve.search.mis.two_improvement`.
* ``nx maximal (random)``: ``networkx.maximal_independent_set``, best of ``--reads`` seeds.
* ``nx approximation``: ``networkx.algorithms.approximation.maximum_independent_set``.

Cells: set size over the optimum, and seconds. Times are also given over simulated annealing's.

Run: ``python benchmarks/mis.py [--budget 10] [--reads 16] [--out docs/benchmarks]``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Callable, TypeVar

import networkx as nx
from dwave.samplers import SimulatedAnnealingSampler

from _cli import add_progress_option, progress, say
from gnnsolve import GNNSampler
from gnnsolve.adapters.datasets import bhoslib_catalogue, pignn_dregular_catalogue, read_dimacs, read_edgelist, shared_data_dir
from gnnsolve.adapters.graphs import MaxIndependentSet, greedy_independent_set
from gnnsolve.search.mis import two_improvement

T = TypeVar("T")

METHODS = (
    "gnn (repair)",
    "gnn",
    "gnn sage",
    "sa (repair)",
    "sa",
    "greedy min-degree",
    "greedy + swaps",
    "nx maximal (random)",
    "nx approximation",
)


def instances(data: Path) -> list[tuple[str, nx.Graph, int]]:
    """(name, graph, optimum) for every benchmark graph."""
    found = []
    for name, entry in sorted(pignn_dregular_catalogue(data).items(), key=lambda item: (item[1].d, item[1].seed)):
        found.append((name, read_edgelist(data / "pignn_dregular" / entry.file), entry.mis))
    for name, entry in sorted(bhoslib_catalogue(data).items()):
        found.append((name, read_dimacs(data / "bhoslib" / entry.file), entry.mis))
    return found


def timed(method: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    value = method()
    return value, time.perf_counter() - start


def run_methods(graph: nx.Graph, budget: float, reads: int, seed: int) -> dict[str, dict]:
    """Every method's set size and seconds; a sampler's two decoders share its SampleSet."""
    repair_only, default = MaxIndependentSet(graph, local_search=False), MaxIndependentSet(graph)
    bqm = default.bqm
    results = {}
    samplers = {
        "gnn": (GNNSampler(), {"time_limit": budget}, True),
        "gnn sage": (GNNSampler(), {"time_limit": budget, "conv": "sage"}, False),
        "sa": (SimulatedAnnealingSampler(), {}, True),
    }
    for name, (sampler, keywords, both) in samplers.items():
        sampleset, sampling = timed(lambda: sampler.sample(bqm, num_reads=reads, seed=seed, **keywords))
        decoders = ((f"{name} (repair)", repair_only), (name, default)) if both else ((name, default),)
        for label, problem in decoders:
            solution, decoding = timed(lambda: problem.best_solution(sampleset))
            results[label] = {"size": int(solution.objective), "seconds": sampling + decoding}
    greedy, seconds = timed(lambda: greedy_independent_set(graph))
    results["greedy min-degree"] = {"size": len(greedy), "seconds": seconds}
    swapped, more = timed(lambda: two_improvement(graph, greedy))
    results["greedy + swaps"] = {"size": len(swapped), "seconds": seconds + more}
    others: dict[str, Callable[[], int]] = {
        "nx maximal (random)": lambda: max(len(nx.maximal_independent_set(graph, seed=seed + k)) for k in range(reads)),
        "nx approximation": lambda: len(nx.approximation.maximum_independent_set(graph)),
    }
    for name, method in others.items():
        size, seconds = timed(method)
        results[name] = {"size": size, "seconds": seconds}
    return results


def table(rows: list[dict]) -> str:
    header = "| instance | n | MIS | " + " | ".join(METHODS) + " | gnn (repair) ≥ greedy | gnn ≥ greedy | gnn sage ≥ greedy |"
    lines = [header, "|" + "---|" * (len(METHODS) + 6)]
    for row in rows:
        cells = [f"{row['results'][m]['size']} ({row['results'][m]['size'] / row['optimum']:.3f})" for m in METHODS]
        greedy = row["results"]["greedy min-degree"]["size"]
        verdicts = ["yes" if row["results"][m]["size"] >= greedy else "**no**" for m in ("gnn (repair)", "gnn", "gnn sage")]
        lines.append(f"| {row['instance']} | {row['n']} | {row['optimum']} | " + " | ".join(cells + verdicts) + " |")
    lines.append("")
    lines.append("Seconds (ratio to sa (repair)'s time in brackets):")
    lines.append("")
    lines.append("| instance | " + " | ".join(METHODS) + " |")
    lines.append("|" + "---|" * (len(METHODS) + 1))
    for row in rows:
        sa = row["results"]["sa (repair)"]["seconds"]
        cells = [f"{row['results'][m]['seconds']:.2f} ({row['results'][m]['seconds'] / sa:.2g})" for m in METHODS]
        lines.append(f"| {row['instance']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=10.0, help="GNNSampler seconds per instance")
    parser.add_argument("--reads", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", help="comma-separated instance names")
    parser.add_argument("--out", type=Path, help="folder for mis.json")
    add_progress_option(parser)
    args = parser.parse_args()
    data = shared_data_dir()
    if data is None:
        raise SystemExit("benchmark data not found: set GNNSOLVE_DATA or place it at ../shared/data")
    wanted = set(args.only.split(",")) if args.only else None
    chosen = [instance for instance in instances(data) if not wanted or instance[0] in wanted]
    rows = []
    for name, graph, optimum in progress(chosen, args, desc="MIS", unit="graph"):
        results = run_methods(graph, args.budget, args.reads, args.seed)
        rows.append(
            {
                "instance": name,
                "n": graph.number_of_nodes(),
                "edges": graph.number_of_edges(),
                "optimum": optimum,
                "results": results,
            }
        )
        sizes = {m: r["size"] for m, r in results.items()}
        say(f"{name} {sizes}")
    print(table(rows))
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        settings = {"budget": args.budget, "reads": args.reads, "seed": args.seed}
        (args.out / "mis.json").write_text(json.dumps({"settings": settings, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
