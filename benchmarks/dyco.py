"""Dynamic combinatorial optimisation: DyCO-GNN against static and warm PI-GNN and warm-started SA.

Reproduces the shape of the DyCO-GNN paper's Tables 1–3 on one instance per run. Snapshots come
from :mod:`gnnsolve.adapters.dynamic` (10 for temporal networks, 5 city positions for TSP). For
every per-snapshot budget, every row solves the whole sequence in order:

* ``static``: a fresh PI-GNN on every snapshot (``DyCOSampler(mode="static")``);
* ``warm``: the last snapshot's replicas carried over unchanged;
* ``dyco full``, ``dyco embedding``, ``dyco gnn``: carried over, then shrunk and perturbed
  (λ = 0.4, σ = 0.1) on all parameters, the embeddings only, or the convolutions only;
* ``sa warm``: SimulatedAnnealingSampler through ``WarmStartComposite``, started from the last
  snapshot's best sample, with ``num_sweeps`` equal to the epoch budget.

A budget is a number of epochs with early stopping off (``patience`` = budget), as in the paper;
the seconds each took are reported beside it. Decoding is the problem's own (MaxCut: the cut;
MIS: DyCO-GNN's repair, ``local_search=False``; TSP: the raw beam decode, without 2-opt or
Or-opt, which would bring every row to the optimum on these sizes and hide the network). A cell
is the mean approximation ratio over snapshots 2..K (the first snapshot is the same cold start
for every row): value / reference for MaxCut and MIS, reference / length for TSP, so 1 is best.

References per snapshot: the proven optimum where an exact sampler proves one within
``--reference-seconds`` (HiGHS), otherwise the best of that incumbent and 64 reads of simulated
annealing with 10,000 sweeps; for TSP, LKH's tour (elkai). The JSON says which for every
snapshot.

Run: ``python benchmarks/dyco.py --instance infectious-maxcut [--budgets 50,100,...] [--out docs/benchmarks]``.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass
from pathlib import Path
import dimod
from dwave.samplers import SimulatedAnnealingSampler

from gnnsolve import HiGHSSampler
from gnnsolve.adapters.datasets import read_dblp_temporal, read_konect, read_tsplib, shared_data_dir
from gnnsolve.adapters.dynamic import edge_snapshots, moving_city_tsp_snapshots
from gnnsolve.adapters.graphs import TSP, MaxCut, MaxIndependentSet
from gnnsolve.adapters.problem import GraphProblem
from gnnsolve.errors import NoSolutionError
from gnnsolve.samplers.dyco import DyCOSampler
from gnnsolve.samplers.warm_start import WarmStartComposite

BUDGETS = (50, 100, 200, 300, 500, 1000, 2000, 3000)
ROWS = ("static", "warm", "dyco full", "dyco embedding", "dyco gnn", "sa warm")
INSTANCES = {
    "infectious-maxcut": ("konect_sociopatterns-infectious/out.sociopatterns-infectious", "maxcut"),
    "ucsocial-maxcut": ("konect_opsahl-ucsocial/out.opsahl-ucsocial", "maxcut"),
    "dblp-maxcut": ("dblp_temporal/dblp.txt", "maxcut"),
    "infectious-mis": ("konect_sociopatterns-infectious/out.sociopatterns-infectious", "mis"),
    "ucsocial-mis": ("konect_opsahl-ucsocial/out.opsahl-ucsocial", "mis"),
    "burma14": ("tsplib/burma14.tsp", "tsp"),
    "ulysses22": ("tsplib/ulysses22.tsp", "tsp"),
    "st70": ("tsplib/st70.tsp", "tsp"),
}


@dataclass
class Snapshot:
    problem: GraphProblem
    reference: float
    reference_kind: str


def problems(name: str, data: Path) -> list[GraphProblem]:
    """The instance's snapshot sequence as problem objects."""
    path, kind = INSTANCES[name]
    if kind == "tsp":
        return [TSP(distances, two_opt=False, or_opt=False) for distances in moving_city_tsp_snapshots(read_tsplib(data / path))]
    events = read_dblp_temporal(data / path) if name.startswith("dblp") else read_konect(data / path)
    fraction = 0.02 if name.startswith("dblp") else 0.1
    graphs = edge_snapshots(events, fraction=fraction, reverse=kind == "mis")
    if kind == "maxcut":
        return [MaxCut(G) for G in graphs]
    return [MaxIndependentSet(G, local_search=False) for G in graphs]


def reference(problem: GraphProblem, seconds: float, seed: int) -> tuple[float, str]:
    """The proven optimum, or the best known value from HiGHS's incumbent and long SA runs.

    For TSP (whose QUBO HiGHS cannot close at these sizes) it is LKH's tour through elkai.
    """
    if isinstance(problem, TSP):
        import elkai

        tour = elkai.DistanceMatrix(problem.distances.astype(int).tolist()).solve_tsp()[:-1]
        return problem.evaluate(tuple(problem.labels[i] for i in tour)), "LKH (elkai)"
    candidates = []
    try:
        solution, sampleset = problem.solve(HiGHSSampler(), time_limit=seconds)
        if sampleset.info.get("status") == "optimal":
            return solution.objective, "optimal (HiGHS)"
        candidates.append(solution.objective)
    except NoSolutionError:
        pass
    solution, _ = problem.solve(SimulatedAnnealingSampler(), num_reads=64, num_sweeps=10_000, seed=seed)
    candidates.append(solution.objective)
    best = max(candidates) if problem.sense == "max" else min(candidates)
    return best, "best known (HiGHS incumbent, SA 64×10k sweeps)"


def ratio(problem: GraphProblem, value: float, best: float) -> float:
    return value / best if problem.sense == "max" else best / value


def run_row(row: str, snapshots: list[Snapshot], budget: int, reads: int, seed: int, conv: str) -> list[dict]:
    """Solve the sequence with one row's method; per snapshot its ratio and seconds."""
    sampler: dimod.Sampler
    if row == "sa warm":
        sampler = WarmStartComposite(SimulatedAnnealingSampler(), seed=seed)
        keywords = {"num_reads": reads, "num_sweeps": budget, "seed": seed}
    else:
        mode = {"static": "static", "warm": "warm"}.get(row, row.removeprefix("dyco "))
        sampler = DyCOSampler(mode=mode, conv=conv)
        keywords = {"num_reads": reads, "seed": seed, "max_epochs": budget, "patience": budget}
    results = []
    for snapshot in snapshots:
        start = time.perf_counter()
        solution, _ = snapshot.problem.solve(sampler, **keywords)
        results.append({
            "ratio": ratio(snapshot.problem, solution.objective, snapshot.reference),
            "objective": solution.objective,
            "seconds": time.perf_counter() - start,
        })
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instance", choices=sorted(INSTANCES), required=True)
    parser.add_argument("--budgets", default=",".join(map(str, BUDGETS)))
    parser.add_argument("--rows", default=",".join(ROWS))
    parser.add_argument("--reads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--reference-seconds", type=float, default=60.0)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    data = shared_data_dir()
    if data is None:
        raise SystemExit("benchmark data not found: set GNNSOLVE_DATA or place it at ../shared/data")
    kind = INSTANCES[args.instance][1]
    conv = "sage" if kind == "tsp" else "gcn"
    snapshots = []
    for index, problem in enumerate(problems(args.instance, data)):
        best, how = reference(problem, args.reference_seconds, args.seed)
        snapshots.append(Snapshot(problem, best, how))
        print(f"snapshot {index}: reference {best} ({how})", flush=True)
    budgets = [int(b) for b in args.budgets.split(",")]
    rows = [r for r in args.rows.split(",") if r]
    table: dict[str, dict[int, list[dict]]] = {}
    for row in rows:
        table[row] = {}
        for budget in budgets:
            table[row][budget] = run_row(row, snapshots, budget, args.reads, args.seed, conv)
            later = table[row][budget][1:]
            print(f"{row:15s} {budget:5d}: mean ratio {sum(r['ratio'] for r in later) / len(later):.4f}, "
                  f"{sum(r['seconds'] for r in later) / len(later):.2f} s/snapshot", flush=True)
    print(markdown(table, budgets))
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        record = {
            "instance": args.instance, "reads": args.reads, "seed": args.seed, "conv": conv,
            "references": [{"value": s.reference, "kind": s.reference_kind} for s in snapshots],
            "rows": {row: {str(b): cells for b, cells in by_budget.items()} for row, by_budget in table.items()},
        }
        (args.out / f"dyco_{args.instance}.json").write_text(json.dumps(record, indent=1))
        plot(record, args.out / f"dyco_{args.instance}.png")


def plot(record: dict, path: Path) -> None:
    """Mean ratio over snapshots 2..K against mean seconds per snapshot, one line per row."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6.4, 4.2))
    for row, by_budget in record["rows"].items():
        points = sorted(
            (sum(c["seconds"] for c in cells[1:]) / len(cells[1:]), sum(c["ratio"] for c in cells[1:]) / len(cells[1:]))
            for cells in by_budget.values()
        )
        axes.plot(*zip(*points), marker="o", label=row)
    axes.set_xscale("log")
    axes.set_xlabel("seconds per snapshot")
    axes.set_ylabel("mean approximation ratio, snapshots 2..K")
    axes.set_title(f"{record['instance']}: one point per epoch budget")
    axes.grid(True, alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)


def markdown(table: dict[str, dict[int, list[dict]]], budgets: list[int]) -> str:
    def mean(cells: list[dict], key: str) -> float:
        return sum(c[key] for c in cells[1:]) / len(cells[1:])

    lines = ["| method | " + " | ".join(f"{b} epochs" for b in budgets) + " |", "|---|" + "---:|" * len(budgets)]
    for row, by_budget in table.items():
        cells = [f"{mean(by_budget[b], 'ratio'):.4f} ({mean(by_budget[b], 'seconds'):.2f} s)" for b in budgets]
        lines.append(f"| {row} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
