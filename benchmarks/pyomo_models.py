"""Six Pyomo models through ``SolverFactory("gnnsolve")``, beside Pyomo's own ``appsi_highs``.

The models are the kinds users write (built by ``tests/pyomo_models.py`` with fixed seeds):
knapsack, sudoku with 30 clues, weighted set cover, minimum graph colouring, uncapacitated
warehouse location and p-median, each at a small and a medium size. Every solver is called the
way a user calls it, with no options but the seed: ``appsi_highs`` and the exact samplers
(``highs``, ``gurobi`` where installed and within its pip licence) on the model as written,
continuous variables included; the heuristic samplers (``sa``, ``tabu``, ``gnn``), which take no
continuous variables, on its binary form (the same optimum; the colour count a bounded integer,
assignments binary), each through the penalty composite with its default budget.

Cells: the objective, its ratio to the optimum ``appsi_highs`` proves (1 is optimal; above 1 is
worse for a minimisation, below 1 for the knapsack's maximisation), whether the answer satisfies
every constraint (checked on the Pyomo model), and seconds over ``appsi_highs``'s seconds. The
run is repeated beside one busy process per core (``benchmarks/_load.py``).

The ``"structured"`` rows of ``docs/benchmarks/pyomo_models.json`` (``GNNSampler.sample_cqm`` by
the flat penalty against PI-GNN trained on the CQM's own structure, HiGHSSampler's optimum as
the reference) were measured at commit b24ee80, whose ``--part structured`` ran them; ``--report``
prints them with the rest.

Run: ``python benchmarks/pyomo_models.py [--quick] [--models ...] [--out docs/benchmarks]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import json
import math
import os
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyomo.environ as pyo

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import gnnsolve  # noqa: E402,F401  (registers the solver)
import gnnsolve.samplers.pignn  # noqa: E402,F401  (torch's import, once per process, is not any solve's time)
from _cli import add_progress_option, fill_defaults, progress, say  # noqa: E402
from _load import competing_load  # noqa: E402
from pyomo_models import MODELS, constraints_hold  # noqa: E402

EXACT = ("highs", "gurobi")
HEURISTIC = ("sa", "tabu", "gnn")

SIZES: dict[str, dict[str, dict[str, Any]]] = {
    "small": {name: {} for name in MODELS},
    "medium": {
        "knapsack": {"n": 200},
        "sudoku": {"seed": 1},
        "set_cover": {"elements": 400, "sets": 250},
        "graph_colouring": {"nodes": 30, "p": 0.25},
        "warehouse": {"sites": 15, "customers": 60},
        "p_median": {"sites": 25, "customers": 80, "p": 5},
    },
}
"""Each model's keywords at each size (the builders' defaults are the small size)."""


def build(name: str, size: str, binary: bool) -> pyo.ConcreteModel:
    keywords = dict(SIZES[size][name])
    if binary and name in ("graph_colouring", "warehouse", "p_median"):
        keywords["binary"] = True
    return MODELS[name](**keywords)


def objective_of(model: pyo.ConcreteModel) -> float:
    return float(pyo.value(next(model.component_data_objects(pyo.Objective, active=True))))


def solve(model: pyo.ConcreteModel, solver: str, seed: int) -> dict[str, Any]:
    """One solve as a user makes it; the objective, feasibility, termination and seconds."""
    opt = (
        pyo.SolverFactory("appsi_highs") if solver == "appsi_highs" else pyo.SolverFactory("gnnsolve", sampler=solver, seed=seed)
    )
    start = time.perf_counter()
    try:
        results = opt.solve(model)
    except Exception as error:  # a refusal is a result: it is reported, not hidden
        return {"error": f"{type(error).__name__}: {error}"[:160], "seconds": time.perf_counter() - start}
    seconds = time.perf_counter() - start
    condition = str(results.solver.termination_condition)
    loaded = all(v.value is not None for v in model.component_data_objects(pyo.Var) if not v.fixed)
    row: dict[str, Any] = {"termination": condition, "seconds": seconds}
    if loaded:
        row.update(objective=objective_of(model), feasible=constraints_hold(model))
    else:
        row["feasible"] = False
        row["message"] = str(results.solver.message)[:160]
    return row


def available(solver: str) -> bool:
    return solver != "gurobi" or importlib.util.find_spec("gurobipy") is not None


def run(instances: Iterable[tuple[str, str]], solvers: list[str], seed: int) -> list[dict[str, Any]]:
    """Every ``(size, model)`` solved by appsi_highs for reference, then by each available solver."""
    rows = []
    for size, name in instances:
        reference = solve(build(name, size, binary=False), "appsi_highs", seed)
        rows.append({"model": name, "size": size, "solver": "appsi_highs", **reference})
        for solver in solvers:
            if not available(solver):
                continue
            model = build(name, size, binary=solver in HEURISTIC)
            result = solve(model, solver, seed)
            rows.append({"model": name, "size": size, "solver": solver, **result})
            say(f"{size} {name} {solver}: {result}")
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    """Markdown: one row per model, size and solver; ratios against the reference solver
    (appsi_highs; HiGHSSampler in the ``"structured"`` rows) on the same model."""
    reference_solver = "appsi_highs" if any(r["solver"] == "appsi_highs" for r in rows) else "highs"
    optimum = {(r["model"], r["size"]): r for r in rows if r["solver"] == reference_solver}
    lines = [
        f"| model | size | solver | objective | / optimum | feasible | seconds | time / {reference_solver} |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        reference = optimum[r["model"], r["size"]]
        if "objective" in r:
            best = reference.get("objective")
            ratio = "1" if best == r["objective"] else (f"{r['objective'] / best:.3f}" if best else "—")
            cells = [f"{r['objective']:g}", ratio, "yes" if r["feasible"] else "**no**"]
        else:
            cells = ["—", "—", r.get("error") or f"no ({r.get('termination')})"]
        time_ratio = r["seconds"] / reference["seconds"] if reference["seconds"] > 0 else math.inf
        lines.append(
            f"| {r['model']} | {r['size']} | {r['solver']} | "
            + " | ".join(cells)
            + f" | {r['seconds']:.2f} | {time_ratio:.0f}× |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small models only, idle only, no output file")
    parser.add_argument("--models", nargs="+", choices=list(MODELS), default=None)
    parser.add_argument("--sizes", nargs="+", choices=list(SIZES), default=None)
    parser.add_argument("--solvers", nargs="+", default=[*EXACT, *HEURISTIC])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--load", choices=("both", "idle", "loaded"), default=None)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--report", type=Path, default=None, help="print the tables of a saved JSON and stop")
    add_progress_option(parser)
    args = parser.parse_args()
    if args.report:
        saved = json.loads(args.report.read_text())
        for condition, rows in saved.get("runs", {}).items():
            print(f"\n### {condition}\n\n{table(rows)}")
        for condition, rows in saved.get("structured", {}).items():
            print(f"\n### structured, {condition}\n\n{table(rows)}")
        return
    fill_defaults(args, quick={"sizes": ["small"], "load": "idle"}, full={"sizes": list(SIZES), "load": "both"})
    models = args.models or list(MODELS)
    instances = list(itertools.product(args.sizes, models))
    runs = {}
    for condition in ("idle", "loaded") if args.load == "both" else (args.load,):
        with competing_load((os.cpu_count() or 1) if condition == "loaded" else 0):
            chosen = progress(instances, args, desc=f"pyomo ({condition})", unit="model")
            runs[condition] = run(chosen, args.solvers, args.seed)
        say(f"\n### {condition}\n\n{table(runs[condition])}")
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        path = args.out / "pyomo_models.json"
        saved = json.loads(path.read_text()) if path.exists() else {"seed": args.seed}
        saved["runs"] = runs
        path.write_text(json.dumps(saved, indent=1))


if __name__ == "__main__":
    main()
