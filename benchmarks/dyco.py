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
annealing with 10,000 sweeps (``--reference-reads``, ``--reference-sweeps``); for TSP, LKH's tour (elkai). The JSON says which for every
snapshot.

Run: ``python benchmarks/dyco.py --instance infectious-maxcut [--budgets 50,100,...] [--out docs/benchmarks]``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import dimod
from dwave.samplers import SimulatedAnnealingSampler

from _cli import add_progress_option, progress, say
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


def reference(problem: GraphProblem, seconds: float, seed: int, reads: int, sweeps: int) -> tuple[float, str]:
    """The proven optimum, or the best known value from HiGHS's incumbent and long SA runs.

    ``seconds`` = 0 skips HiGHS (models too large for it to help). For TSP (whose QUBO HiGHS
    cannot close at these sizes) it is LKH's tour through elkai.
    """
    if isinstance(problem, TSP):
        import elkai

        tour = elkai.DistanceMatrix(problem.distances.astype(int).tolist()).solve_tsp()[:-1]
        return problem.evaluate(tuple(problem.labels[i] for i in tour)), "LKH (elkai)"
    candidates = []
    sources = f"SA {reads}×{sweeps} sweeps"
    if seconds > 0:
        sources = "HiGHS incumbent, " + sources
        try:
            solution, sampleset = problem.solve(HiGHSSampler(), time_limit=seconds)
            if sampleset.info.get("status") == "optimal":
                return solution.objective, "optimal (HiGHS)"
            candidates.append(solution.objective)
        except NoSolutionError:
            pass
    solution, _ = problem.solve(SimulatedAnnealingSampler(), num_reads=reads, num_sweeps=sweeps, seed=seed)
    candidates.append(solution.objective)
    best = max(candidates) if problem.sense == "max" else min(candidates)
    return best, f"best known ({sources})"


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
        results.append(
            {
                "ratio": ratio(snapshot.problem, solution.objective, snapshot.reference),
                "objective": solution.objective,
                "seconds": time.perf_counter() - start,
            }
        )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instance", choices=sorted(INSTANCES), required=True)
    parser.add_argument("--budgets", default=",".join(map(str, BUDGETS)))
    parser.add_argument("--rows", default=",".join(ROWS))
    parser.add_argument("--reads", type=int, default=1)
    parser.add_argument("--seeds", default="0", help="comma-separated; every row runs once per seed")
    parser.add_argument("--reference-seconds", type=float, default=60.0, help="HiGHS time limit; 0 skips HiGHS")
    parser.add_argument("--reference-reads", type=int, default=64)
    parser.add_argument("--reference-sweeps", type=int, default=10_000)
    parser.add_argument("--references", type=Path, help="reuse the references of an earlier run's JSON")
    parser.add_argument("--out", type=Path)
    add_progress_option(parser)
    args = parser.parse_args()
    data = shared_data_dir()
    if data is None:
        raise SystemExit("benchmark data not found: set GNNSOLVE_DATA or place it at ../shared/data")
    kind = INSTANCES[args.instance][1]
    conv = "sage" if kind == "tsp" else "gcn"
    seeds = [int(seed) for seed in args.seeds.split(",")]
    sequence = problems(args.instance, data)
    earlier = json.loads(args.references.read_text())["references"] if args.references else None
    if earlier is not None and len(earlier) != len(sequence):
        raise SystemExit(f"{args.references} has {len(earlier)} references for {len(sequence)} snapshots")
    snapshots = []
    for index, problem in progress(enumerate(sequence), args, desc="references", total=len(sequence), unit="snapshot"):
        if earlier is not None:
            best, how = earlier[index]["value"], earlier[index]["kind"]
        else:
            best, how = reference(problem, args.reference_seconds, seeds[0], args.reference_reads, args.reference_sweeps)
        snapshots.append(Snapshot(problem, best, how))
        say(f"snapshot {index}: reference {best} ({how})")
    budgets = [int(b) for b in args.budgets.split(",")]
    rows = [r for r in args.rows.split(",") if r]
    table: dict[str, dict[int, list[list[dict]]]] = {}
    cells = itertools.product(rows, budgets)
    for row, budget in progress(cells, args, desc="DyCO", total=len(rows) * len(budgets), unit="cell"):
        runs = [run_row(row, snapshots, budget, args.reads, seed, conv) for seed in seeds]
        table.setdefault(row, {})[budget] = runs
        say(f"{row:15s} {budget:5d}: {cell(runs)}")
    print(markdown(table, budgets))
    if "static" in table:
        print(speedups(table, budgets))
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        record = {
            "instance": args.instance,
            "reads": args.reads,
            "seeds": seeds,
            "conv": conv,
            "references": [{"value": s.reference, "kind": s.reference_kind} for s in snapshots],
            "rows": {row: {str(b): runs for b, runs in by_budget.items()} for row, by_budget in table.items()},
        }
        (args.out / f"dyco_{args.instance}.json").write_text(json.dumps(record, indent=1))
        plot(record, args.out / f"dyco_{args.instance}.png")


def later_mean(runs: list[list[dict]], key: str) -> list[float]:
    """Per seed, the mean of ``key`` over snapshots 2..K."""
    return [statistics.fmean(c[key] for c in cells[1:]) for cells in runs]


def cell(runs: list[list[dict]]) -> str:
    """``mean ratio [± std over seeds] (mean seconds per snapshot)``."""
    ratios = later_mean(runs, "ratio")
    spread = f" ± {statistics.stdev(ratios):.4f}" if len(ratios) > 1 else ""
    return f"{statistics.fmean(ratios):.4f}{spread} ({statistics.fmean(later_mean(runs, 'seconds')):.2f} s)"


def plot(record: dict, path: Path) -> None:
    """Mean ratio over snapshots 2..K against mean seconds per snapshot, one line per row."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6.4, 4.2))
    for row, by_budget in record["rows"].items():
        points = sorted(
            (statistics.fmean(later_mean(runs, "seconds")), statistics.fmean(later_mean(runs, "ratio")))
            for runs in by_budget.values()
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


def markdown(table: dict[str, dict[int, list[list[dict]]]], budgets: list[int]) -> str:
    lines = ["| method | " + " | ".join(f"{b} epochs" for b in budgets) + " |", "|---|" + "---:|" * len(budgets)]
    for row, by_budget in table.items():
        lines.append(f"| {row} | " + " | ".join(cell(by_budget[b]) for b in budgets) + " |")
    return "\n".join(lines)


def speedups(table: dict[str, dict[int, list[list[dict]]]], budgets: list[int]) -> str:
    """How much sooner each row reaches static PI-GNN's best mean ratio (the target's measure).

    Static's best is its highest mean ratio over the budgets, reached first at some budget; for
    every row, the first budget whose mean ratio is at least as high, and the quotients of static's
    epochs and seconds there over the row's.
    """

    def ratio_at(row: str, budget: int) -> float:
        return statistics.fmean(later_mean(table[row][budget], "ratio"))

    def seconds_at(row: str, budget: int) -> float:
        return statistics.fmean(later_mean(table[row][budget], "seconds"))

    target = max(ratio_at("static", b) for b in budgets)
    static_budget = next(b for b in budgets if ratio_at("static", b) >= target)
    lines = [
        f"static's best: {target:.4f}, first at {static_budget} epochs",
        "| method | first budget at or above it | sooner in epochs | sooner in seconds |",
        "|---|---:|---:|---:|",
    ]
    for row in table:
        reached = next((b for b in budgets if ratio_at(row, b) >= target), None)
        if reached is None:
            lines.append(f"| {row} | not reached | – | – |")
            continue
        epochs = f"{static_budget / reached:.1f}×" if row != "sa warm" else "–"
        lines.append(f"| {row} | {reached} | {epochs} | {seconds_at('static', static_budget) / seconds_at(row, reached):.1f}× |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
