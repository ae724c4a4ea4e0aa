"""MaxCut on G-set G1–G5: GNNSampler (with and without polish) beside simulated annealing and tabu.

Every sampler runs in the same process on the same instances. The learned sampler gets a wall
budget (``--budget`` seconds, 16 reads); the references get the same wall time:

* ``sa (default)``: SimulatedAnnealingSampler with its defaults (1000 sweeps), 16 reads — what a
  user gets without tuning; its time is the reference for every time ratio.
* ``sa (matched)``: 16 reads with the sweeps scaled so that it takes about the budget.
* ``tabu (matched)``: TabuSampler, 16 reads of ``budget / 16`` seconds each.

Cells: best and mean cut over the 16 reads divided by the best-known cut
(``best_known.csv``), and wall seconds. A second part records the anytime curve on G1 —
best cut against the wall budget — for GNNSampler and simulated annealing, saved as a plot.

Run: ``python benchmarks/gset_maxcut.py [--budget 10] [--out docs/benchmarks]``.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from dwave.samplers import SimulatedAnnealingSampler, TabuSampler

from _cli import add_progress_option, progress, say
from gnnsolve import GNNSampler
from gnnsolve.adapters.datasets import load_gset_best_known, read_gset, shared_data_dir
from gnnsolve.adapters.graphs import maxcut_bqm

READS = 16


def run(name, sample):
    start = time.perf_counter()
    sampleset = sample()
    seconds = time.perf_counter() - start
    cuts = -sampleset.record.energy
    return {
        "sampler": name,
        "best": float(cuts.max()),
        "mean": float(cuts.mean()),
        "seconds": seconds,
        "info": {k: v for k, v in sampleset.info.items() if k in ("epochs", "stop_reason")},
    }


def compare_instance(bqm, budget: float, seed: int) -> list[dict]:
    sa = SimulatedAnnealingSampler()
    rows = [run("sa (default)", lambda: sa.sample(bqm, num_reads=READS, seed=seed))]
    sweeps = max(1000, int(1000 * budget / rows[0]["seconds"]))
    rows.append(run("sa (matched)", lambda: sa.sample(bqm, num_reads=READS, seed=seed, num_sweeps=sweeps)))
    rows.append(
        run("tabu (matched)", lambda: TabuSampler().sample(bqm, num_reads=READS, seed=seed, timeout=int(budget * 1000 / READS)))
    )
    gnn = GNNSampler()
    rows.append(run("gnn (polished)", lambda: gnn.sample(bqm, num_reads=READS, seed=seed, time_limit=budget)))
    rows.append(run("gnn (raw)", lambda: gnn.sample(bqm, num_reads=READS, seed=seed, time_limit=budget, polish=False)))
    return rows


def anytime_curve(bqm, budgets: Iterable[float], seed: int) -> dict[str, list[tuple[float, float]]]:
    sa, gnn = SimulatedAnnealingSampler(), GNNSampler()
    reference = run("sa", lambda: sa.sample(bqm, num_reads=READS, seed=seed))["seconds"]
    curves: dict[str, list[tuple[float, float]]] = {"gnn (polished)": [], "sa": []}
    for budget in budgets:
        row = run("gnn", lambda: gnn.sample(bqm, num_reads=READS, seed=seed, time_limit=budget))
        curves["gnn (polished)"].append((row["seconds"], row["best"]))
        sweeps = max(10, int(1000 * budget / reference))
        row = run("sa", lambda: sa.sample(bqm, num_reads=READS, seed=seed, num_sweeps=sweeps))
        curves["sa"].append((row["seconds"], row["best"]))
    return curves


def plot_curve(curves, best_known: float, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for name, points in curves.items():
        seconds, cuts = zip(*points)
        ax.plot(seconds, np.array(cuts) / best_known, marker="o", label=name)
    ax.set_xscale("log")
    ax.set_xlabel("wall seconds (16 reads)")
    ax.set_ylabel("best cut / best known")
    ax.set_title("G1 MaxCut: quality against wall time")
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", nargs="+", default=["G1", "G2", "G3", "G4", "G5"])
    parser.add_argument("--budget", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--curve", type=float, nargs="*", default=[0.5, 1, 2, 5, 10, 20])
    parser.add_argument("--out", type=Path, default=Path("docs/benchmarks"))
    add_progress_option(parser)
    args = parser.parse_args()
    data = shared_data_dir()
    if data is None:
        raise SystemExit("../shared/data is missing: the benchmark needs G-set")
    args.out.mkdir(parents=True, exist_ok=True)

    results = {}
    print("| instance | sampler | best / best known | mean / best known | seconds | time / sa (default) |")
    print("|---|---|---:|---:|---:|---:|")
    for name in progress(args.instances, args, desc="G-set", unit="instance"):
        bqm = maxcut_bqm(read_gset(data / "gset" / f"{name}.txt"))
        best_known = load_gset_best_known(name)
        rows = compare_instance(bqm, args.budget, args.seed)
        reference = rows[0]["seconds"]
        for row in rows:
            row["best_ratio"], row["mean_ratio"] = row["best"] / best_known, row["mean"] / best_known
            say(
                f"| {name} ({best_known}) | {row['sampler']} | {row['best_ratio']:.4f} | "
                f"{row['mean_ratio']:.4f} | {row['seconds']:.2f} | {row['seconds'] / reference:.1f} |"
            )
        results[name] = {"best_known": best_known, "rows": rows}

    print("\nMean over instances of best cut / best known:")
    for sampler in [row["sampler"] for row in results[args.instances[0]]["rows"]]:
        ratios = [r["best_ratio"] for inst in results.values() for r in inst["rows"] if r["sampler"] == sampler]
        print(f"- {sampler}: {np.mean(ratios):.4f}")

    if args.curve:
        bqm = maxcut_bqm(read_gset(data / "gset" / "G1.txt"))
        curves = anytime_curve(bqm, progress(args.curve, args, desc="G1 anytime", unit="budget"), args.seed)
        results["G1_anytime"] = curves
        plot_curve(curves, load_gset_best_known("G1"), args.out / "gset_g1_anytime.png")
        print("\nG1 anytime (seconds, best cut):", json.dumps(curves))
    (args.out / "gset_maxcut.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
