"""Multicut (correlation clustering): MCTS over GNN-guided edge contraction against GAEC, KLj and the exact ILP.

Instances, one process, methods side by side on each:

``scaling``
    Signed graphs, Erdős–Rényi with edge probability 0.3 and Barabási–Albert with ``m`` = 2, weights
    uniform in [−1, 1], ``N`` = 100, 300, 500, 1,000 (``--scaling-sizes``), seeds 0..2 (``--seeds``),
    idle and under one competing busy process per core (``--loads``, the load of
    ``benchmarks/_load.py``). On each: the default call ``MulticutSampler().sample(problem)``
    (no keywords: method ``mcts`` within :func:`~gnnsolve.samplers.multicut.default_time_limit`),
    our GAEC and GAEC+KLj, and elf's. Reported: costs, seconds, the log-log slope of the default
    call's median seconds against ``N``, and the scaling targets, MET or MISSED.
``generated``
    Signed graphs, one per family and size with seed 0: Erdős–Rényi with edge probability 0.3 and
    Barabási–Albert with ``m`` = 2, ``N`` = 20, 40, 100, 200, weights uniform in [−1, 1].
``cplib``
    The CP-Lib clique-partitioning instances (``../shared/data/cplib``) with a proven optimum and
    at most ``--cplib-max-n`` nodes (110 by default; ``--cplib-max-n 0`` takes all).
``modularity``
    Karate and dolphins as CP-Lib matrices :math:`w_{ij} = 2m A_{ij} - d_i d_j`, with the proven
    optimum of ``modularity/optima.json``.

Methods: the cutting-plane ILP (:func:`~gnnsolve.search.multicut_ilp.solve_multicut_ilp`, a time
limit per instance; its status and gap are reported), GAEC, GAEC followed by Kernighan–Lin with
joins (KLj), the network's greedy episode (``greedy-policy``) and the tree search (``mcts``,
default simulations) of :class:`~gnnsolve.samplers.multicut.MulticutSampler`, and, when
``python-elf`` is installed, elf's GAEC and its KL warm-started from GAEC (bioimage-cpp).

Scores, all exact and computed by :class:`~gnnsolve.adapters.multicut.Multicut` on the returned
partition: the *cost* :math:`\\sum_{\\text{cut}} w` (positive weights attract; minimised), the
*disagreement* :math:`\\sum_{w>0,\\text{cut}} w + \\sum_{w<0,\\text{uncut}} |w|` (the cost plus
the total repulsive weight) and, on CP-Lib and modularity, the *inside weight*
:math:`\\sum_{\\text{uncut}} w` (CP-Lib's maximised objective) as a ratio to the proven optimum.
Also measured: the policy network's forward time per state on the first state of the ``N`` = 100
Erdős–Rényi graph (median over ``--forward-calls`` calls, one thread).

The ``mcts`` rows of the other parts run with ``--simulations`` and ``--mcts-reads`` within
``--mcts-time-limit`` seconds (0, the default: the default budget; ``inf``: none).

Run: ``OMP_NUM_THREADS=1 python benchmarks/multicut.py [--parts scaling,generated,modularity,cplib]
[--scaling-sizes 100,300,500,1000] [--seeds 3] [--loads idle,loaded]
[--ilp-time-limit 60] [--cplib-ilp-time-limit 5] [--cplib-max-n 110] [--ilp-max-edges 2000]
[--simulations 32] [--mcts-reads 1] [--mcts-time-limit 0] [--only NAME,...] [--tag TAG] [--out docs/benchmarks]``
(``--report JSON`` reprints an earlier run's tables); the JSON is
``multicut.json`` (``multicut_<TAG>.json`` with ``--tag``), rewritten after every instance.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import time
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import torch

from _cli import add_progress_option, progress, say  # benchmarks/_cli.py
from _load import competing_load  # benchmarks/_load.py
from gnnsolve.adapters.datasets import cplib_catalogue, shared_data_dir
from gnnsolve.adapters.multicut import Multicut
from gnnsolve.nn.multicut import encode_state
from gnnsolve.samplers.multicut import MulticutSampler
from gnnsolve.samplers.references import elf_input
from gnnsolve.search.contraction import ContractionEnv
from gnnsolve.search.multicut import _gaec, _kernighan_lin_joins
from gnnsolve.search.multicut_ilp import solve_multicut_ilp

SIZES = (20, 40, 100, 200)
FAMILIES = ("er", "ba")
MODULARITY = ("karate", "dolphins")
SAMPLER_METHODS = ("gaec", "gaec+kl", "greedy-policy", "mcts")
LABELS = {
    "ilp": "ILP (cutting planes)",
    "gaec": "GAEC",
    "gaec+kl": "GAEC+KLj",
    "greedy-policy": "greedy-policy",
    "mcts": "MCTS",
    "elf-gaec": "elf GAEC",
    "elf-kl": "elf KLj (from GAEC)",
}
BLOG_ILP_SECONDS = {"er-40": 1273.0}  # the all-triangles ILP of the blog post on ER N=40
TOLERANCE = 0.01  # "within 1%" of the proven optimum


def generated(family: str, n: int, seed: int = 0) -> Multicut:
    """The signed graph of ``family`` (``"er"``: p = 0.3, ``"ba"``: m = 2) on ``n`` nodes, weights U[−1, 1]."""
    G = nx.erdos_renyi_graph(n, 0.3, seed=seed) if family == "er" else nx.barabasi_albert_graph(n, 2, seed=seed)
    rng = np.random.default_rng(seed)
    for u, v in sorted(G.edges()):
        G[u][v]["weight"] = float(rng.uniform(-1.0, 1.0))
    return Multicut(G)


def instances(parts: list[str], cplib_max_n: int) -> list[dict[str, Any]]:
    """``{"name", "part", "problem", "optimum_inside"}`` per instance, in run order."""
    found = []
    if "generated" in parts:
        for n in SIZES:
            for family in FAMILIES:
                found.append(
                    {"name": f"{family}-{n}", "part": "generated", "problem": generated(family, n), "optimum_inside": None}
                )
    data = shared_data_dir()
    if data is None and parts != ["generated"]:
        print("benchmark data not found (../shared/data or $GNNSOLVE_DATA): CP-Lib and modularity skipped")
        return found
    if "modularity" in parts:
        optima = json.loads((data / "modularity" / "optima.json").read_text())
        for name in MODULARITY:
            found.append(
                {
                    "name": name,
                    "part": "modularity",
                    "problem": Multicut.from_cplib(data / "modularity" / f"{name}.txt"),
                    "optimum_inside": float(optima[name]["cplib_objective"]),
                }
            )
    if "cplib" in parts:
        for name, entry in cplib_catalogue(data).items():
            if entry.optimal_value is None or (cplib_max_n and entry.n > cplib_max_n):
                continue
            found.append(
                {
                    "name": name,
                    "part": "cplib",
                    "problem": Multicut.from_cplib(data / "cplib" / entry.file),
                    "optimum_inside": float(entry.optimal_value),
                }
            )
    return found


def elf_solvers() -> tuple[Any, str]:
    """``(module, "")`` with elf's multicut module, or ``(None, reason)`` when it cannot be imported."""
    try:
        import bioimage_cpp
        from elf.segmentation import multicut
    except Exception as error:  # noqa: BLE001 - any import failure means: skip the elf rows
        return None, f"{type(error).__name__}: {error}"
    return (multicut, bioimage_cpp), ""


def median_time(solve: Any, least_seconds: float = 0.2, most_runs: int = 25) -> tuple[Any, float]:
    """``solve()``'s answer and its median seconds over repeated runs: at least 3, then more until
    ``least_seconds`` have passed (at most ``most_runs``), so that sub-millisecond runs are not
    one reading of the clock and a first run's warm-up (caches, compiled kernels) is not the time."""
    times: list[float] = []
    while len(times) < 3 or (sum(times) < least_seconds and len(times) < most_runs):
        started = time.perf_counter()
        answer = solve()
        times.append(time.perf_counter() - started)
    return answer, statistics.median(times)


def run_elf(elf: Any, problem: Multicut) -> dict[str, tuple[np.ndarray, float]]:
    """elf's GAEC and KLj (warm start from GAEC) on the problem: labels in node order and median
    seconds (:func:`median_time`).

    elf/nifty minimise the summed cost of the cut edges with positive costs attractive, the
    convention of :class:`Multicut`, so the weights go in unchanged (zero weights left out).
    """
    module, bic = elf
    elf_graph, costs = elf_input(problem, bic)
    results = {}
    for key, solve in (("elf-gaec", module.multicut_gaec), ("elf-kl", module.multicut_kernighan_lin)):
        labels, seconds = median_time(lambda: np.asarray(solve(elf_graph, costs)))
        results[key] = (labels, seconds)
    return results


def score(problem: Multicut, labels: dict, seconds: float, optimum_inside: float | None) -> dict[str, Any]:
    row = {
        "cost": problem.evaluate(labels),
        "disagreement": problem.disagreement(labels),
        "inside_weight": problem.inside_weight(labels),
        "clusters": len(set(labels.values())),
        "seconds": seconds,
    }
    if optimum_inside is not None:
        row["inside_ratio"] = row["inside_weight"] / optimum_inside
    return row


def run_instance(entry: dict[str, Any], sampler: MulticutSampler, args: argparse.Namespace, elf: Any) -> dict[str, Any]:
    problem: Multicut = entry["problem"]
    graph = problem.signed_graph
    total = float(graph.weights.sum())
    record: dict[str, Any] = {
        "name": entry["name"],
        "part": entry["part"],
        "n": graph.num_nodes,
        "edges": int(np.count_nonzero(graph.weights)),
        "total_weight": total,
        "repulsive_weight": float(-graph.weights[graph.weights < 0].sum()),
        "optimum_inside": entry["optimum_inside"],
        "methods": {},
    }
    if entry["optimum_inside"] is not None:  # the catalogue's maximum of the inside weight as a cost
        record["optimum_cost"] = total - entry["optimum_inside"]
    limit = args.ilp_time_limit if entry["part"] != "cplib" else args.cplib_ilp_time_limit
    edges = record["edges"]
    if limit > 0 and (args.ilp_max_edges <= 0 or edges <= args.ilp_max_edges or entry["part"] != "generated"):
        result = solve_multicut_ilp(problem, time_limit=limit)
        row = score(problem, result.labels, result.seconds, entry["optimum_inside"])
        row.update(
            status=result.status,
            bound=result.bound,
            gap=result.gap,
            time_limit=limit,
            rounds=result.rounds,
            constraints=result.constraints,
        )
        record["methods"]["ilp"] = row
        if result.status == "optimal" and "optimum_cost" not in record:
            record["optimum_cost"] = result.cost
    else:
        record["ilp_skipped"] = f"{edges} edges above --ilp-max-edges {args.ilp_max_edges}" if limit > 0 else "no limit"
    for method in SAMPLER_METHODS:
        keywords = {"simulations": args.simulations, "num_reads": args.mcts_reads} if method == "mcts" else {}
        if method == "mcts" and args.mcts_time_limit:
            keywords["time_limit"] = args.mcts_time_limit
        started = time.perf_counter()
        sampleset = sampler.sample(problem, method=method, seed=0, **keywords)
        seconds = time.perf_counter() - started
        labels = {node: int(c) for node, c in sampleset.first.sample.items()}
        row = score(problem, labels, seconds, entry["optimum_inside"])
        if method == "mcts":
            row.update(
                reference_cost=float(sampleset.info["reference_cost"]),
                policy_cost=float(sampleset.info["policy_cost"]),
                search_cost=float(sampleset.info["search_cost"][0]),
                stop_reason=sampleset.info["stop_reason"][0],
            )
        record["methods"][method] = row
    if elf is not None:
        for key, (labels, seconds) in run_elf(elf, problem).items():
            record["methods"][key] = score(problem, graph.as_dict(graph.canonical(labels)), seconds, entry["optimum_inside"])
    return record


def forward_time(sampler: MulticutSampler, calls: int) -> dict[str, float]:
    """Median seconds of the policy network per state on the first state of ER N=100 (one thread)."""
    torch.set_num_threads(1)
    net = sampler.network()[0]
    env = ContractionEnv(generated("er", 100).signed_graph)
    state = encode_state(env)
    with torch.no_grad():
        for _ in range(10):
            net.forward_state(state)
        forward, encode_and_forward = [], []
        for _ in range(calls):
            started = time.perf_counter()
            net.forward_state(state)
            forward.append(time.perf_counter() - started)
        for _ in range(calls):
            started = time.perf_counter()
            net.evaluate(env)
            encode_and_forward.append(time.perf_counter() - started)
    return {
        "n": 100,
        "clusters": len(env.clusters()),
        "pairs": len(state.pairs),
        "calls": calls,
        "forward_median_s": statistics.median(forward),
        "encode_and_forward_median_s": statistics.median(encode_and_forward),
        "torch_threads": torch.get_num_threads(),
    }


# ---------------------------------------------------------------- scaling


def run_scaling_instance(problem: Multicut, sampler: MulticutSampler, elf: Any) -> dict[str, Any]:
    """The default ``mcts`` call (no keywords), our GAEC and GAEC+KLj, and elf's, on one graph:
    cost and seconds each; for the default call also its budget, stop reason and GAEC+KLj's cost."""
    graph = problem.signed_graph
    row: dict[str, Any] = {"n": graph.num_nodes, "edges": int(np.count_nonzero(graph.weights)), "methods": {}}
    started = time.perf_counter()
    sampleset = sampler.sample(problem)
    seconds = time.perf_counter() - started
    info = sampleset.info
    row["methods"]["mcts"] = {
        "cost": float(sampleset.first.energy),
        "seconds": seconds,
        "time_limit": info["time_limit"],
        "stop_reason": info["stop_reason"][0],
        "reference_cost": float(info["reference_cost"]),
        "simulations": info["simulations"][0],
        "refined": info["refined"][0],
    }
    labels, seconds = median_time(lambda: _gaec(graph))
    row["methods"]["gaec"] = {"cost": graph.cost(labels), "seconds": seconds}
    labels, seconds = median_time(lambda: _kernighan_lin_joins(graph, _gaec(graph)))
    row["methods"]["gaec+kl"] = {"cost": graph.cost(labels), "seconds": seconds}
    if elf is not None:
        for key, (labels, seconds) in run_elf(elf, problem).items():
            row["methods"][key] = {"cost": graph.cost(np.asarray(labels, dtype=np.int64)), "seconds": seconds}
    return row


def run_scaling(sampler: MulticutSampler, elf: Any, args: argparse.Namespace, emit: Any) -> list[dict[str, Any]]:
    """Every generated graph of the scaling part at each load; ``emit(records)`` after each."""
    sizes = [int(size) for size in args.scaling_sizes.split(",")]
    graphs = [(family, n, seed) for family in FAMILIES for n in sizes for seed in range(args.seeds)]
    records: list[dict[str, Any]] = []
    for load in [load for load in args.loads.split(",") if load]:
        with competing_load((os.cpu_count() or 1) if load == "loaded" else 0):
            for family, n, seed in progress(graphs, args, desc=f"scaling ({load})", unit="graph"):
                record = run_scaling_instance(generated(family, n, seed), sampler, elf)
                record.update(name=f"{family}-{n}-s{seed}", family=family, seed=seed, load=load)
                records.append(record)
                mcts, klj = record["methods"]["mcts"], record["methods"]["gaec+kl"]
                elf_kl = record["methods"].get("elf-kl")
                say(
                    f"{load:>6s} {record['name']:>12s}  MCTS {mcts['cost']:.6g} ({mcts['seconds']:.1f}s "
                    f"of {mcts['time_limit']:g}, {mcts['stop_reason']})  GAEC+KLj {klj['cost']:.6g} "
                    f"({klj['seconds']:.3f}s)" + (f"  elf KLj {elf_kl['cost']:.6g} ({elf_kl['seconds']:.3f}s)" if elf_kl else "")
                )
                emit(records)
    return records


def growth(records: list[dict[str, Any]], family: str, load: str) -> dict[str, Any] | None:
    """The log-log slope of the default call's median seconds against N (least squares over the
    sizes run, and between the smallest and the largest)."""
    chosen = [r for r in records if r["family"] == family and r["load"] == load]
    sizes = sorted({r["n"] for r in chosen})
    if len(sizes) < 2:
        return None
    medians = [statistics.median(r["methods"]["mcts"]["seconds"] for r in chosen if r["n"] == n) for n in sizes]
    fit = float(np.polyfit(np.log(sizes), np.log(medians), 1)[0])
    ends = math.log(medians[-1] / medians[0]) / math.log(sizes[-1] / sizes[0])
    return {"sizes": sizes, "median_seconds": medians, "slope_fit": fit, "slope_ends": ends}


def scaling_targets(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The scaling targets, each ``{"name", "met", "detail"}``."""
    found = []

    def beats(n: int, seconds: float, load: str) -> None:
        chosen = [r for r in records if r["family"] == "er" and r["n"] == n and r["load"] == load]
        if not chosen:
            return
        good = [
            r
            for r in chosen
            if r["methods"]["mcts"]["cost"] < r["methods"]["gaec+kl"]["cost"] - 1e-9
            and r["methods"]["mcts"]["seconds"] <= seconds
        ]
        detail = "; ".join(
            f"s{r['seed']}: {r['methods']['mcts']['cost']:.2f} vs {r['methods']['gaec+kl']['cost']:.2f} "
            f"in {r['methods']['mcts']['seconds']:.1f} s"
            for r in chosen
        )
        found.append(
            {
                "name": f"ER N={n} ({load}): default call strictly better than GAEC+KLj in <= {seconds:g} s",
                "met": len(good) == len(chosen),
                "detail": f"{len(good)}/{len(chosen)} ({detail})",
            }
        )

    for load in ("idle", "loaded"):
        beats(500, 30.0, load)
        beats(1000, 60.0, load)
    for load in ("idle", "loaded"):
        for family in FAMILIES:
            fit = growth(records, family, load)
            if fit is None or fit["sizes"][0] != 100 or fit["sizes"][-1] < 1000:
                continue
            slope = max(fit["slope_fit"], fit["slope_ends"])
            found.append(
                {
                    "name": f"growth exponent of the default call, {family.upper()} {load}, N=100..1000, <= 1.5",
                    "met": slope <= 1.5,
                    "detail": f"fit {fit['slope_fit']:.2f}, end to end {fit['slope_ends']:.2f}; median seconds "
                    + ", ".join(f"{n}: {s:.1f}" for n, s in zip(fit["sizes"], fit["median_seconds"])),
                }
            )
    idle = [r for r in records if r["load"] == "idle" and "elf-kl" in r["methods"]]
    if idle:
        for ours, theirs, label in (("gaec", "elf-gaec", "GAEC"), ("gaec+kl", "elf-kl", "GAEC+KLj")):
            ratios = [r["methods"][ours]["seconds"] / r["methods"][theirs]["seconds"] for r in idle]
            exact = all(r["methods"][ours]["cost"] == r["methods"][theirs]["cost"] for r in idle)
            worst = max(idle, key=lambda r: r["methods"][ours]["seconds"] / r["methods"][theirs]["seconds"])
            found.append(
                {
                    "name": f"our {label} within 3x of elf's time (idle, every generated graph)",
                    "met": max(ratios) <= 3.0,
                    "detail": f"ratio median {statistics.median(ratios):.1f}, max {max(ratios):.1f} "
                    f"({worst['name']}); same costs as elf on all: {exact}",
                }
            )
    return found


def scaling_table(records: list[dict[str, Any]], load: str) -> str:
    """One row per graph at ``load``: costs and seconds of the default call, GAEC+KLj and elf."""
    lines = [
        "| graph | N | edges | MCTS (default) | s (budget) | stop | GAEC+KLj | elf KLj | GAEC s | elf GAEC s "
        "| GAEC+KLj s | elf KLj s |",
        "|" + "---|" * 12,
    ]

    def cell(row: dict[str, Any] | None, key: str, digits: str) -> str:
        return "—" if row is None else format(row[key], digits)

    for r in (r for r in records if r["load"] == load):
        m = r["methods"]
        mcts, elf_gaec, elf_kl = m["mcts"], m.get("elf-gaec"), m.get("elf-kl")
        lines.append(
            f"| {r['name']} | {r['n']} | {r['edges']} | {mcts['cost']:.6g} | {mcts['seconds']:.1f} "
            f"({mcts['time_limit']:g}) | {mcts['stop_reason']} | {m['gaec+kl']['cost']:.6g} | "
            f"{cell(elf_kl, 'cost', '.6g')} | {m['gaec']['seconds']:.4f} | {cell(elf_gaec, 'seconds', '.4f')} | "
            f"{m['gaec+kl']['seconds']:.3f} | {cell(elf_kl, 'seconds', '.3f')} |"
        )
    return "\n".join(lines)


# ---------------------------------------------------------------- report


def relative(cost: float, optimum: float) -> float:
    """How much worse ``cost`` is than ``optimum``, relative to ``|optimum|`` (0 when equal)."""
    return (cost - optimum) / abs(optimum) if optimum else (0.0 if cost == optimum else math.inf)


def methods_in(records: list[dict[str, Any]]) -> list[str]:
    present = {key for record in records for key in record["methods"]}
    return [key for key in LABELS if key in present]


def ilp_cell(row: dict[str, Any] | None) -> str:
    if row is None:
        return "—"
    if row["status"] == "optimal":
        return f"{row['cost']:.6g} (opt)"
    return f"{row['cost']:.6g} (limit, gap {100 * row['gap']:.2f}%)"


def cost_table(records: list[dict[str, Any]]) -> str:
    """One row per instance: each method's cost / disagreement."""
    methods = methods_in(records)
    head = "| instance | N | edges | opt. cost | " + " | ".join(LABELS[m] for m in methods) + " |"
    lines = [head, "|" + "---|" * (4 + len(methods))]
    for record in records:
        cells = []
        for method in methods:
            row = record["methods"].get(method)
            if row is None:
                cells.append("—")
            elif method == "ilp":
                cells.append(f"{ilp_cell(row)} / {row['disagreement']:.6g}")
            else:
                cells.append(f"{row['cost']:.6g} / {row['disagreement']:.6g}")
        optimum = record.get("optimum_cost")
        lines.append(
            f"| {record['name']} | {record['n']} | {record['edges']} | "
            f"{'—' if optimum is None else f'{optimum:.6g}'} | " + " | ".join(cells) + " |"
        )
    return "\n".join(lines)


def time_table(records: list[dict[str, Any]]) -> str:
    methods = methods_in(records)
    lines = ["| instance | N | " + " | ".join(LABELS[m] for m in methods) + " |", "|" + "---|" * (2 + len(methods))]
    for record in records:
        cells = []
        for method in methods:
            row = record["methods"].get(method)
            cells.append("—" if row is None else f"{row['seconds']:.3g}")
        lines.append(f"| {record['name']} | {record['n']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def ratio_table(records: list[dict[str, Any]]) -> str:
    """Inside weight / proven optimum, per method, for the instances with a catalogue optimum."""
    chosen = [r for r in records if r["optimum_inside"] is not None]
    if not chosen:
        return ""
    methods = methods_in(chosen)
    lines = [
        "| instance | N | optimum (inside) | " + " | ".join(LABELS[m] for m in methods) + " |",
        "|" + "---|" * (3 + len(methods)),
    ]
    for record in chosen:
        cells = []
        for method in methods:
            row = record["methods"].get(method)
            cells.append("—" if row is None else f"{row['inside_ratio']:.4f}")
        lines.append(f"| {record['name']} | {record['n']} | {record['optimum_inside']:.6g} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def targets(records: list[dict[str, Any]]) -> dict[str, Any]:
    """The three targets, evaluated."""
    not_worse = [r["name"] for r in records if r["methods"]["mcts"]["cost"] > r["methods"]["gaec+kl"]["cost"] + 1e-9]
    checked, missed, unproven = [], [], []
    for record in records:
        if record["part"] == "generated" and record["n"] > 40:
            continue
        optimum = record.get("optimum_cost")
        if optimum is None:
            unproven.append(record["name"])
            continue
        gap = relative(record["methods"]["mcts"]["cost"], optimum)
        checked.append({"name": record["name"], "gap": gap})
        if gap > TOLERANCE:
            missed.append({"name": record["name"], "gap": gap})
    blog = []
    for record in records:
        if record["name"] in BLOG_ILP_SECONDS and "ilp" in record["methods"]:
            row = record["methods"]["ilp"]
            blog.append(
                {
                    "name": record["name"],
                    "blog_seconds": BLOG_ILP_SECONDS[record["name"]],
                    "ours_seconds": row["seconds"],
                    "status": row["status"],
                    "gap": row["gap"],
                }
            )
    inside_checked = [r for r in records if r["optimum_inside"] is not None]
    inside_missed = [
        {"name": r["name"], "ratio": r["methods"]["mcts"]["inside_ratio"]}
        for r in inside_checked
        if r["methods"]["mcts"]["inside_ratio"] < 1 - TOLERANCE
    ]
    return {
        "mcts_within_1pct_inside": {"met": not inside_missed, "checked": len(inside_checked), "missed": inside_missed},
        "mcts_not_worse_than_gaec_kl": {"met": not not_worse, "instances": len(records), "worse_on": not_worse},
        "mcts_within_1pct": {
            "met": not missed and not unproven,
            "checked": len(checked),
            "missed": missed,
            "no_proven_optimum": unproven,
            "exact": sum(1 for c in checked if c["gap"] <= 1e-9),
        },
        "ilp_vs_blog": blog,
    }


def targets_text(summary: dict[str, Any]) -> str:
    first = summary["mcts_not_worse_than_gaec_kl"]
    second = summary["mcts_within_1pct"]
    lines = [
        f"- MCTS cost <= GAEC+KLj cost on every instance: {'MET' if first['met'] else 'MISSED'} "
        f"({first['instances'] - len(first['worse_on'])}/{first['instances']}"
        + (f"; worse on {', '.join(first['worse_on'])}" if first["worse_on"] else "")
        + ")",
        f"- MCTS within 1% of the proven optimum (generated N <= 40, CP-Lib, modularity): "
        f"{'MET' if second['met'] else 'MISSED'} ({second['checked'] - len(second['missed'])}/{second['checked']} "
        f"within 1%, {second['exact']} exactly optimal"
        + (
            "; missed: " + ", ".join(f"{m['name']} (+{100 * m['gap']:.2f}%)" for m in second["missed"])
            if second["missed"]
            else ""
        )
        + (f"; no proven optimum: {', '.join(second['no_proven_optimum'])}" if second["no_proven_optimum"] else "")
        + ")",
    ]
    third = summary.get("mcts_within_1pct_inside")
    if third is not None and third["checked"]:
        lines.append(
            f"- the same in CP-Lib's own objective, MCTS inside weight >= 0.99 x the proven optimum (CP-Lib, "
            f"modularity): {'MET' if third['met'] else 'MISSED'} "
            f"({third['checked'] - len(third['missed'])}/{third['checked']}"
            + ("; missed: " + ", ".join(f"{m['name']} ({m['ratio']:.4f})" for m in third["missed"]) if third["missed"] else "")
            + ")"
        )
    for blog in summary["ilp_vs_blog"]:
        lines.append(
            f"- ILP on {blog['name']}: {blog['ours_seconds']:.1f} s ({blog['status']}"
            + ("" if blog["status"] == "optimal" else f", gap {100 * blog['gap']:.3f}%")
            + f") against the blog's all-triangles ILP, {blog['blog_seconds']:.0f} s"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", default="scaling,modularity,cplib")
    parser.add_argument("--scaling-sizes", default="100,300,500,1000", help="N of the scaling part's graphs")
    parser.add_argument("--seeds", type=int, default=3, help="graphs per family and size in the scaling part")
    parser.add_argument(
        "--loads", default="idle,loaded", help="the scaling part idle and/or under one competing busy process per core"
    )
    parser.add_argument("--only", default="", help="comma-separated instance names (default: all)")
    parser.add_argument(
        "--ilp-time-limit", type=float, default=60.0, help="seconds per generated / modularity instance; 0 skips the ILP"
    )
    parser.add_argument(
        "--cplib-ilp-time-limit",
        type=float,
        default=5.0,
        help="seconds per CP-Lib instance (their optima are known); 0 skips the ILP",
    )
    parser.add_argument(
        "--ilp-max-edges", type=int, default=2000, help="skip the ILP on generated graphs with more edges (0: never skip)"
    )
    parser.add_argument("--cplib-max-n", type=int, default=110, help="largest CP-Lib instance (0: all)")
    parser.add_argument("--simulations", type=int, default=32, help="MCTS simulations per contraction")
    parser.add_argument(
        "--mcts-reads",
        type=int,
        default=1,
        help="MCTS reads (the first commits the most visited contraction, the others draw by visits)",
    )
    parser.add_argument(
        "--mcts-time-limit",
        type=float,
        default=0.0,
        help="seconds per MCTS run outside the scaling part (0: the default budget; inf: none)",
    )
    parser.add_argument("--forward-calls", type=int, default=200)
    parser.add_argument("--no-elf", action="store_true", help="leave out the python-elf rows")
    parser.add_argument("--tag", default="", help="the JSON is multicut_<tag>.json (default: multicut.json)")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--report", type=Path, help="print the tables of an earlier run's JSON and exit")
    add_progress_option(parser)
    args = parser.parse_args()
    if args.report:
        output = json.loads(args.report.read_text())
        output["targets"] = targets(output["instances"])
        report(output)
        return

    torch.set_num_threads(1)
    started = time.perf_counter()
    elf, reason = (None, "--no-elf") if args.no_elf else elf_solvers()
    if elf is None:
        say(f"elf rows skipped: {reason}")
    sampler = MulticutSampler()
    forward = forward_time(sampler, args.forward_calls)
    say(
        f"policy forward at N=100 ({forward['pairs']} contractible pairs): "
        f"{1e3 * forward['forward_median_s']:.2f} ms forward, "
        f"{1e3 * forward['encode_and_forward_median_s']:.2f} ms encode+forward (median of {forward['calls']})"
    )
    parts = [p for p in args.parts.split(",") if p]
    chosen = instances([p for p in parts if p != "scaling"], args.cplib_max_n)
    if args.only:
        wanted = set(args.only.split(","))
        chosen = [entry for entry in chosen if entry["name"] in wanted]
    records: list[dict[str, Any]] = []
    output = {
        "config": {
            **{k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items() if k != "progress"},
            "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
            "elf": reason or "used",
        },
        "forward": forward,
        "instances": records,
        "scaling": [],
    }

    def emit(scaling: list[dict[str, Any]]) -> None:
        output.update(seconds=time.perf_counter() - started, scaling=scaling, scaling_targets=scaling_targets(scaling))
        if args.out:
            args.out.mkdir(parents=True, exist_ok=True)
            (args.out / (f"multicut_{args.tag}.json" if args.tag else "multicut.json")).write_text(json.dumps(output, indent=1))

    if "scaling" in parts:
        run_scaling(sampler, elf, args, emit)
    for entry in progress(chosen, args, desc="instances", unit="instance"):
        record = run_instance(entry, sampler, args, elf)
        records.append(record)
        methods = record["methods"]
        ilp = methods.get("ilp")
        say(
            f"{record['name']:>14s} N={record['n']:3d}  ILP {ilp_cell(ilp)} {ilp['seconds'] if ilp else 0:.1f}s  "
            + "  ".join(
                f"{LABELS[m]} {methods[m]['cost']:.6g} ({methods[m]['seconds']:.2f}s)"
                for m in LABELS
                if m in methods and m != "ilp"
            )
        )
        output["seconds"] = time.perf_counter() - started
        output["targets"] = targets(records)
        if args.out:
            args.out.mkdir(parents=True, exist_ok=True)
            (args.out / (f"multicut_{args.tag}.json" if args.tag else "multicut.json")).write_text(json.dumps(output, indent=1))
    output["seconds"] = time.perf_counter() - started
    output["targets"] = targets(records)
    report(output)


def report(output: dict[str, Any]) -> None:
    """Print the markdown tables and the targets of a run."""
    records = output["instances"]
    forward = output["forward"]
    print(
        f"\npolicy forward at N=100: {1e3 * forward['forward_median_s']:.2f} ms per state "
        f"({1e3 * forward['encode_and_forward_median_s']:.2f} ms with the encoding), median of {forward['calls']}"
    )
    scaling = output.get("scaling", [])
    for load in ("idle", "loaded"):
        if any(r["load"] == load for r in scaling):
            print(f"\n### Scaling, {load}: costs and seconds\n\n{scaling_table(scaling, load)}")
    if scaling:
        print("\n### Scaling targets\n")
        for target in scaling_targets(scaling):
            print(f"- {target['name']}: {'MET' if target['met'] else 'MISSED'} ({target['detail']})")
    for part, title in (
        ("generated", "Generated signed graphs"),
        ("modularity", "Modularity (karate, dolphins)"),
        ("cplib", "CP-Lib"),
    ):
        subset = [r for r in records if r["part"] == part]
        if not subset:
            continue
        print(f"\n### {title}: cost / disagreement\n\n{cost_table(subset)}")
        if part != "generated":
            print(f"\n### {title}: inside weight / proven optimum\n\n{ratio_table(subset)}")
        print(f"\n### {title}: seconds\n\n{time_table(subset)}")
    print(f"\n### Targets\n\n{targets_text(output['targets'])}")
    print(f"\ntotal {output['seconds']:.0f} s")


if __name__ == "__main__":
    main()
