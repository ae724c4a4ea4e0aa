"""Threads, time limits, default calls and import cost of every sampler, idle and under a competing load.

One process measures four sections, each twice: on the machine as it is (``idle``), then while
one busy process per usable core (a pure-Python loop the benchmark starts, and ends when the
loaded half is over, also on Ctrl-C or an error) competes for the cores (``loaded``).

``threads``
    ms/epoch of ``GNNSampler`` on G-set G1 and G22 and a 10,000-node 3-regular graph
    (``networkx.random_regular_graph(3, 10_000, seed=0)``), ``--epochs`` epochs with the stopping
    rule and polishing off and no time limit, with ``threads=None`` (the library's choice, whose
    count ``info["threads"]`` is reported) against ``threads=1``: ``sampling_ns / epochs``. The
    same for ClusterNet on karate (modularity, ``k`` = 4, unweighted: ``Modularity`` ignores the
    ``weight`` attribute unless told to read it). Target: default ≤ 1.2 × one thread.
``walls``
    Wall time of one call against ``time_limit`` (``--limits``, default 1, 5 and 30 s) for every
    sampler on a small, a medium and a 100,000-variable input of the kind it takes (see
    :data:`INPUTS`): BQMs for ``GNNSampler``, ``DyCOSampler`` (a fresh one, first snapshot),
    ``HiGHSSampler``, ``GurobiSampler`` (skipped where its licence's size cap refuses the model)
    and :func:`gnnsolve.compare.compare` (its default samplers; the limit is per sampler, so its
    bound is that of each sampler run, summed); modularity problems for ``ClusterNetSampler``
    (with ``polish=True``); signed graphs for ``MulticutSampler``; Pyomo models for
    ``SolverFactory("gnnsolve", sampler=...)`` with ``gnn`` and ``highs``. Every sampler runs
    once, untimed, on its small input before the section (first-call costs of the process).
    Target: wall ≤ 1.05 × limit + 0.5 s. The seconds that worker threads of a call go on running
    after it returned are waited out before the next call and reported. ``--samplers``,
    ``--sizes`` and ``--limits`` rerun part of the section: its rows replace the same calls of
    the earlier run and the others are kept, the page naming both runs.
``defaults``
    Calls without ``time_limit``: two 5-node models (the 5-cycle Ising antiferromagnet and
    Ocean's max-cut example graph) with ``num_reads=100``, timed after one warm-up call (target
    ≤ 1 s); ``GNNSampler().sample(bqm, seed=s)`` on G-set G1–G5 (target: ≤ 5 s idle,
    ``stop_reason == "converged"``, and a cut at least 0.998 × that of the former default: 10,000
    epochs without a convergence test, then dwave-samplers' ``SteepestDescentSolver`` from the
    raw states; computed once per instance and seed, since it does not depend on the load).
``imports``
    ``python -c "from gnnsolve import HiGHSSampler"`` and ``gnnsolve --help`` in fresh processes,
    best of ``--import-repeats`` (target ≤ 1 s each), with ``from gnnsolve import GNNSampler``
    beside them, and which of torch, torch_geometric and pyomo each loaded.

Run: ``python benchmarks/budget.py [--sections threads,walls,defaults,imports] [--loads idle,loaded]
[--limits 1,5,30] [--sizes small,medium,large] [--samplers gnn,dyco,...] [--quick] [--out docs/benchmarks]
[--tag NAME]``; ``--report JSON`` renders an earlier run's page again. Results go to
``budget.json`` (``budget_<tag>.json``), rewritten after every section, and the page
``budget.md`` with the plot ``budget_walls.png`` beside it, both rendered from the JSON. A
rerun of some sections or loads replaces those in the JSON and keeps the rest (each keeps the
date and load it was measured at). ``--quick`` is a smoke run of two to three minutes (G1 and
karate at 100 epochs and one repeat, limit 1 s on the small and medium inputs, G1 with one seed
against a 2,000-epoch former default, one run per import command) that writes files only when
``--out`` is given. The full run takes 45 to 60 minutes on an otherwise idle 2-core machine,
about 35 of them the walls with the 30 s limit (``--limits 1,5``: about 20 minutes in all).
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import math
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Callable

import dimod
import networkx as nx
import numpy as np
import pyomo.environ as pyo
import torch
from dwave.samplers import SteepestDescentSolver

from _cli import add_progress_option, check_lists, fill_defaults, progress, say  # benchmarks/_cli.py
from _load import competing_load  # benchmarks/_load.py
from clusternet import timed  # benchmarks/clusternet.py
from gnnsolve import ClusterNetSampler, DyCOSampler, GNNSampler, GurobiSampler, HiGHSSampler, MulticutSampler
from gnnsolve.adapters.clustering import Modularity
from gnnsolve.adapters.datasets import read_gset, shared_data_dir
from gnnsolve.adapters.graphs import maxcut_bqm
from gnnsolve.compare import compare
from gnnsolve.errors import MissingDependencyError, ModelTooLargeError
from multicut import generated  # benchmarks/multicut.py

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
from pyomo_knapsack import build_model as knapsack  # noqa: E402  (examples/pyomo_knapsack.py)

SECTIONS = ("threads", "walls", "defaults", "imports")
LOADS = ("idle", "loaded")
SIZES = ("small", "medium", "large")
THREAD_TARGET = 1.2
TINY_TARGET = 1.0
GSET_TARGET = 5.0
CUT_TARGET = 0.998
IMPORT_TARGET = 1.0

FULL = {
    "limits": "1,5,30",
    "sizes": ",".join(SIZES),
    "thread_instances": "G1,G22,regular-10000,karate",
    "epochs": 300,
    "clusternet_epochs": 200,
    "repeats": 3,
    "gset": "G1,G2,G3,G4,G5",
    "seeds": "0,1,2",
    "old_epochs": 10_000,
    "imports": "highs,help,gnn",
    "import_repeats": 3,
}
QUICK = {
    "limits": "1",
    "sizes": "small,medium",
    "thread_instances": "G1,karate",
    "epochs": 100,
    "clusternet_epochs": 100,
    "repeats": 1,
    "gset": "G1",
    "seeds": "0",
    "old_epochs": 2_000,
    "imports": "highs,help",
    "import_repeats": 1,
}


def allowed(limit: float) -> float:
    """The longest wall a call with ``time_limit=limit`` may take: 5% and 0.5 s over."""
    return 1.05 * limit + 0.5


def conditions(load: str, processes: int) -> dict[str, Any]:
    """When and under what load a half of a section ran: the load averages and runnable tasks now."""
    with open("/proc/loadavg") as file:
        fields = file.read().split()
    return {
        "load": load,
        "processes": processes if load == "loaded" else 0,
        "started": datetime.datetime.now().isoformat(timespec="seconds"),
        "loadavg": [float(x) for x in fields[:3]],
        "runnable": int(fields[3].partition("/")[0]),
    }


def machine() -> dict[str, Any]:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], capture_output=True, text=True, cwd=Path(__file__).parent).stdout.strip()

    return {
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_default_threads": torch.get_num_threads(),
        "loadavg_at_start": list(os.getloadavg()),
        "commit": git("rev-parse", "--short", "HEAD"),
        "uncommitted_changes": bool(git("status", "--porcelain")),
    }


# ----------------------------------------------------------------------------------------------- inputs


@cache
def regular_graph(n: int) -> nx.Graph:
    return nx.random_regular_graph(3, n, seed=0)


def community_graph(n: int, size: int, seed: int = 0) -> nx.Graph:
    """``n`` nodes in communities of ``size`` consecutive nodes: about 8 edges per node drawn inside
    its community and 1 across (uniform ends; repeats and self-loops dropped)."""
    rng = np.random.default_rng(seed)
    ends = rng.integers(n, size=4 * n)
    partners = ends // size * size + rng.integers(size, size=4 * n)
    across = rng.integers(n, size=(n // 2, 2))
    G = nx.Graph()
    G.add_nodes_from(range(n))
    G.add_edges_from(zip(ends.tolist(), partners.tolist()))
    G.add_edges_from(map(tuple, across.tolist()))
    G.remove_edges_from(list(nx.selfloop_edges(G)))
    return G


def pyomo_maxcut(G: nx.Graph) -> pyo.ConcreteModel:
    """MaxCut of ``G`` as a Pyomo user writes it: binaries, a quadratic objective, no constraints."""
    m = pyo.ConcreteModel(name="maxcut")
    m.x = pyo.Var(list(G.nodes), domain=pyo.Binary)
    m.cut = pyo.Objective(expr=sum(m.x[u] + m.x[v] - 2 * m.x[u] * m.x[v] for u, v in G.edges), sense=pyo.maximize)
    return m


INPUTS: dict[str, dict[str, tuple[str, Callable[[], Any]]]] = {
    "bqm": {
        "small": ("MaxCut BQM, 3-regular, 50 nodes", lambda: maxcut_bqm(regular_graph(50))),
        "medium": ("MaxCut BQM, 3-regular, 2,000 nodes", lambda: maxcut_bqm(regular_graph(2000))),
        "large": ("MaxCut BQM, 3-regular, 100,000 nodes", lambda: maxcut_bqm(regular_graph(100_000))),
    },
    "modularity": {
        "small": ("modularity, karate, k = 4", lambda: Modularity(nx.karate_club_graph(), k=4)),
        "medium": ("modularity, 1,000 nodes in 10 communities, k = 10", lambda: Modularity(community_graph(1000, 100), k=10)),
        "large": (
            "modularity, 100,000 nodes in 100 communities, k = 100",
            lambda: Modularity(community_graph(100_000, 1000), k=100),
        ),
    },
    "multicut": {
        "small": ("signed Barabási–Albert graph (m = 2), 50 nodes", lambda: generated("ba", 50)),
        "medium": ("signed Barabási–Albert graph (m = 2), 1,000 nodes", lambda: generated("ba", 1000)),
        "large": ("signed Barabási–Albert graph (m = 2), 100,000 nodes", lambda: generated("ba", 100_000)),
    },
    "pyomo": {
        "small": ("Pyomo knapsack (examples/pyomo_knapsack.py), 20 projects", lambda: knapsack(20)),
        "medium": ("Pyomo knapsack (examples/pyomo_knapsack.py), 200 projects", lambda: knapsack(200)),
        "large": ("Pyomo MaxCut, 3-regular, 100,000 binaries", lambda: pyomo_maxcut(regular_graph(100_000))),
    },
}
"""Per input kind and size: a description and a builder (each input is built once per process)."""


# --------------------------------------------------------------------------------------------- samplers


def sampleset_facts(sampleset: dimod.SampleSet) -> dict[str, Any]:
    """What a SampleSet says about how its call spent its time."""
    info = sampleset.info
    stop = info.get("stop_reason", info.get("status"))
    if isinstance(stop, list):
        stop = "/".join(sorted(set(map(str, stop))))
    return {
        "stop": stop,
        "reported_limit": info.get("time_limit"),
        "threads": info.get("threads"),
        "timing_s": {key.removesuffix("_ns"): ns / 1e9 for key, ns in info.get("timing", {}).items()},
        "energy": float(sampleset.first.energy) if len(sampleset) else None,
    }


def pyomo_solve(sampler: str) -> Callable[[pyo.ConcreteModel, float], dict[str, Any]]:
    def solve(model: pyo.ConcreteModel, limit: float) -> dict[str, Any]:
        results = pyo.SolverFactory("gnnsolve", sampler=sampler, time_limit=limit, seed=0).solve(model)
        return {
            "stop": str(results.solver.termination_condition),
            "reported_seconds": results.solver.wallclock_time,
            "message": results.solver.message,
        }

    return solve


def compare_all(bqm: dimod.BinaryQuadraticModel, limit: float) -> dict[str, Any]:
    result = compare(bqm, time_limit=limit, seed=0)
    runs = [{"sampler": run.name, "seconds": run.seconds} for run in result.runs]
    return {"stop": f"{len(runs)} samplers", "runs": runs, "notes": result.notes, "calls": len(runs)}


@dataclass(frozen=True)
class Entry:
    """A row of the walls section: the input kind a sampler takes and one call with a time limit."""

    kind: str
    call: Callable[[Any, float], dict[str, Any]]


SAMPLERS: dict[str, Entry] = {
    "gnn": Entry("bqm", lambda bqm, limit: sampleset_facts(GNNSampler().sample(bqm, seed=0, time_limit=limit))),
    "dyco": Entry("bqm", lambda bqm, limit: sampleset_facts(DyCOSampler().sample(bqm, seed=0, time_limit=limit))),
    "clusternet": Entry(
        "modularity",
        lambda problem, limit: sampleset_facts(ClusterNetSampler().sample(problem, seed=0, time_limit=limit, polish=True)),
    ),
    "multicut": Entry(
        "multicut", lambda problem, limit: sampleset_facts(MulticutSampler().sample(problem, seed=0, time_limit=limit))
    ),
    "highs": Entry("bqm", lambda bqm, limit: sampleset_facts(HiGHSSampler().sample(bqm, seed=0, time_limit=limit))),
    "gurobi": Entry("bqm", lambda bqm, limit: sampleset_facts(GurobiSampler().sample(bqm, seed=0, time_limit=limit))),
    "pyomo-gnn": Entry("pyomo", pyomo_solve("gnn")),
    "pyomo-highs": Entry("pyomo", pyomo_solve("highs")),
    "compare": Entry("bqm", compare_all),
}


# ---------------------------------------------------------------------------------------------- context


@dataclass
class Context:
    """The run's settings and what is built once per process: inputs, the former default's cuts."""

    args: argparse.Namespace
    data: Path | None
    inputs: dict[tuple[str, str], Any] = field(default_factory=dict)
    former: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)
    warmed: bool = False

    def input(self, kind: str, size: str) -> Any:
        if (kind, size) not in self.inputs:
            built, seconds = timed(INPUTS[kind][size][1])
            say(f"  built {kind}/{size} in {seconds:.1f} s")
            self.inputs[kind, size] = built
        return self.inputs[kind, size]

    def gset(self, name: str) -> dimod.BinaryQuadraticModel | None:
        if self.data is None:
            return None
        return maxcut_bqm(read_gset(self.data / "gset" / f"{name}.txt"))


def settle(threads_before: int, cap: float = 600.0) -> float:
    """Wait until the Python threads a call left running have ended; the seconds waited."""
    start = time.perf_counter()
    while threading.active_count() > threads_before and time.perf_counter() - start < cap:
        time.sleep(0.02)
    return time.perf_counter() - start


# ---------------------------------------------------------------------------------------------- threads


def gnn_epoch(bqm: dimod.BinaryQuadraticModel, threads: int | None, epochs: int) -> dict[str, Any]:
    info = (
        GNNSampler()
        .sample(bqm, max_epochs=epochs, patience=10**6, polish=False, seed=0, time_limit=math.inf, threads=threads)
        .info
    )
    return {"ms": info["timing"]["sampling_ns"] / 1e6 / info["epochs"], "threads": info["threads"]}


def clusternet_epoch(problem: Modularity, threads: int | None, epochs: int) -> dict[str, Any]:
    info = ClusterNetSampler().sample(problem, epochs=epochs, seed=0, time_limit=math.inf, threads=threads).info
    return {"ms": info["timing"]["sampling_ns"] / 1e6 / sum(info["epochs"]), "threads": info["threads"]}


def thread_instance(ctx: Context, name: str) -> tuple[Any, Callable, int] | None:
    """The model, the function timing an epoch on it, and the epochs per call."""
    if name == "karate":
        return Modularity(nx.karate_club_graph(), k=4), clusternet_epoch, ctx.args.clusternet_epochs
    if name.startswith("regular-"):
        return maxcut_bqm(regular_graph(int(name.removeprefix("regular-")))), gnn_epoch, ctx.args.epochs
    bqm = ctx.gset(name)
    return None if bqm is None else (bqm, gnn_epoch, ctx.args.epochs)


def threads_section(ctx: Context) -> list[dict[str, Any]]:
    rows = []
    for name in progress(ctx.args.thread_instances.split(","), ctx.args, desc="threads", unit="instance"):
        found = thread_instance(ctx, name)
        if found is None:
            say(f"  {name}: skipped, G-set data not found (set GNNSOLVE_DATA or place it at ../shared/data)")
            continue
        model, epoch, epochs = found
        epoch(model, 1, min(epochs, 20))  # untimed: the first call of a sampler in a process costs more
        runs: dict[str, list[dict[str, Any]]] = {"default": [], "one": []}
        for repeat in range(ctx.args.repeats):
            order = (("default", None), ("one", 1)) if repeat % 2 == 0 else (("one", 1), ("default", None))
            for key, threads in order:
                gc.collect()
                runs[key].append(epoch(model, threads, epochs))
        default = statistics.median(run["ms"] for run in runs["default"])
        one = statistics.median(run["ms"] for run in runs["one"])
        row = {
            "instance": name,
            "sampler": "ClusterNet" if epoch is clusternet_epoch else "GNNSampler",
            "n": len(model.nodes) if isinstance(model, Modularity) else model.num_variables,
            "epochs": epochs,
            "default_ms": default,
            "one_ms": one,
            "ratio": default / one,
            "threads_chosen": sorted({run["threads"] for run in runs["default"]}),
            "runs": runs,
            "pass": default / one <= THREAD_TARGET,
        }
        say(
            f"  {name}: default {default:.2f} ms/epoch (threads {row['threads_chosen']}), one thread {one:.2f}, "
            f"ratio {row['ratio']:.2f} {verdict(row['pass'])}"
        )
        rows.append(row)
    return rows


# ------------------------------------------------------------------------------------------------ walls


def wall_call(entry: Entry, problem: Any, limit: float) -> dict[str, Any]:
    """One timed call; skipped when the sampler refuses the model for its size or a missing package."""
    gc.collect()
    threads_before = threading.active_count()
    start = time.perf_counter()
    try:
        facts = entry.call(problem, limit)
    except (ModelTooLargeError, MissingDependencyError) as err:
        return {"limit": limit, "skipped": f"{type(err).__name__}: {err}"}
    except Exception as err:  # noqa: BLE001 - a failing sampler is a result of the benchmark, not its end
        return {"limit": limit, "wall": time.perf_counter() - start, "error": f"{type(err).__name__}: {err}", "pass": False}
    wall = time.perf_counter() - start
    bound = max(facts.pop("calls", 1), 1) * allowed(limit)
    row = {
        "limit": limit,
        "wall": wall,
        "bound": bound,
        "ratio": wall / bound,
        "pass": wall <= bound,
        **facts,
        "after_return_s": settle(threads_before),
    }
    if "runs" in row:  # compare: every sampler within its own limit, too
        row["pass"] = row["pass"] and all(run["seconds"] <= allowed(limit) for run in row["runs"])
    return row


def walls_section(ctx: Context) -> list[dict[str, Any]]:
    names = ctx.args.samplers.split(",")
    limits = [float(x) for x in ctx.args.limits.split(",")]
    if not ctx.warmed:
        _, seconds = timed(lambda: [wall_call(SAMPLERS[name], ctx.input(SAMPLERS[name].kind, "small"), 1.0) for name in names])
        say(f"  warm-up calls on the small inputs: {seconds:.1f} s")
        ctx.warmed = True
    worst = sum(allowed(limit) for limit in limits) * len(ctx.args.sizes.split(",")) * (len(names) + 4)
    say(f"  at most about {worst / 60:.0f} min (every call at its bound; compare counted as 5 samplers)")
    calls = [(size, name, limit) for size in ctx.args.sizes.split(",") for name in names for limit in limits]
    rows = []
    for size, name, limit in progress(calls, ctx.args, desc="walls", unit="call"):
        entry = SAMPLERS[name]
        problem = ctx.input(entry.kind, size)
        row = {"sampler": name, "size": size, "input": INPUTS[entry.kind][size][0], **wall_call(entry, problem, limit)}
        rows.append(row)
        say(f"  {name:<12} {size:<6} limit {limit:>4g}: {wall_cell(row)}  {row.get('stop', '')}")
    return rows


# --------------------------------------------------------------------------------------------- defaults


TINY = {
    "5-cycle Ising antiferromagnet": lambda: dimod.BQM.from_ising({}, {(i, (i + 1) % 5): 1.0 for i in range(5)}),
    "Ocean max-cut example (5 nodes)": lambda: maxcut_bqm(nx.Graph([(1, 2), (1, 3), (2, 4), (3, 4), (3, 5), (4, 5)])),
}


def former_default(bqm: dimod.BinaryQuadraticModel, seed: int, epochs: int) -> dict[str, Any]:
    """The former default call: ``epochs`` epochs, no convergence test, then steepest descent."""
    raw, seconds = timed(
        lambda: GNNSampler().sample(bqm, seed=seed, max_epochs=epochs, patience=10**6, time_limit=math.inf, polish=False)
    )
    polished, polish_seconds = timed(lambda: SteepestDescentSolver().sample(bqm, initial_states=raw))
    return {"cut": -float(polished.first.energy), "seconds": seconds + polish_seconds, "epochs": epochs}


def defaults_section(ctx: Context) -> dict[str, list[dict[str, Any]]]:
    tiny = []
    for name, build in TINY.items():
        bqm = build()
        GNNSampler().sample(bqm, num_reads=100, seed=0)  # warm-up
        sampleset, wall = timed(lambda: GNNSampler().sample(bqm, num_reads=100, seed=0))
        row = {
            "model": name,
            "reads": 100,
            "wall": wall,
            "epochs": sampleset.info["epochs"],
            "stop": sampleset.info["stop_reason"],
            "time_limit": sampleset.info["time_limit"],
            "pass": wall <= TINY_TARGET,
        }
        say(f"  {name}: {wall:.2f} s, {row['epochs']} epochs, {row['stop']} {verdict(row['pass'])}")
        tiny.append(row)
    gset = []
    if ctx.data is None:
        say("  G-set: skipped, data not found (set GNNSOLVE_DATA or place it at ../shared/data)")
    names = ctx.args.gset.split(",") if ctx.data is not None else []
    for name in progress(names, ctx.args, desc="defaults (G-set)", unit="instance"):
        bqm = ctx.gset(name)
        for seed in (int(s) for s in ctx.args.seeds.split(",")):
            if (name, seed) not in ctx.former:
                ctx.former[name, seed] = former_default(bqm, seed, ctx.args.old_epochs)
            former = ctx.former[name, seed]
            gc.collect()
            sampleset, wall = timed(lambda: GNNSampler().sample(bqm, seed=seed))
            cut = -float(sampleset.first.energy)
            row = {
                "instance": name,
                "seed": seed,
                "wall": wall,
                "stop": sampleset.info["stop_reason"],
                "epochs": sampleset.info["epochs"],
                "threads": sampleset.info["threads"],
                "time_limit": sampleset.info["time_limit"],
                "cut": cut,
                "former": former,
                "cut_ratio": cut / former["cut"],
                "converged": sampleset.info["stop_reason"] == "converged",
                "wall_pass": wall <= GSET_TARGET,
            }
            row["cut_pass"] = row["cut_ratio"] >= CUT_TARGET
            say(
                f"  {name} seed {seed}: {wall:.2f} s, {row['epochs']} epochs, {row['stop']}, cut {cut:g} "
                f"(former {former['cut']:g} in {former['seconds']:.1f} s, ratio {row['cut_ratio']:.4f})"
            )
            gset.append(row)
    return {"tiny": tiny, "gset": gset}


# ---------------------------------------------------------------------------------------------- imports


def import_commands() -> dict[str, tuple[str, list[str], list[str], bool]]:
    """Per name: the command shown, the command timed, a command of the same imports that prints
    which heavy modules it loaded, and whether the import target applies to it."""
    modules = "print(sorted(m for m in ('torch', 'torch_geometric', 'pyomo') if m in sys.modules))"
    gnnsolve_cli = shutil.which("gnnsolve") or str(Path(sys.executable).with_name("gnnsolve"))

    def statement(name: str, target: bool) -> tuple[str, list[str], list[str], bool]:
        line = f"from gnnsolve import {name}"
        return (
            f'python -c "{line}"',
            [sys.executable, "-c", line],
            [sys.executable, "-c", f"import sys; {line}; {modules}"],
            target,
        )

    return {
        "highs": statement("HiGHSSampler", True),
        "help": (
            "gnnsolve --help",
            [gnnsolve_cli, "--help"],
            [
                sys.executable,
                "-c",
                "import contextlib, io, sys\nfrom gnnsolve.cli import main\n"
                f"with contextlib.redirect_stdout(io.StringIO()):\n    main(['--help'])\n{modules}",
            ],
            True,
        ),
        "gnn": statement("GNNSampler", False),
    }


def imports_section(ctx: Context) -> list[dict[str, Any]]:
    rows = []
    commands = import_commands()
    for shown, command, probe, target in (commands[name] for name in ctx.args.imports.split(",")):
        walls = []
        for _ in range(ctx.args.import_repeats):
            _, wall = timed(lambda: subprocess.run(command, capture_output=True, check=True))
            walls.append(wall)
        loaded = subprocess.run(probe, capture_output=True, text=True, check=True).stdout.strip()
        row = {
            "command": shown,
            "best": min(walls),
            "walls": walls,
            "modules": loaded,
            "pass": min(walls) <= IMPORT_TARGET if target else None,
        }
        say(f"  {shown}: best {row['best']:.2f} s of {len(walls)}, loads {loaded} {verdict(row['pass'])}")
        rows.append(row)
    return rows


RUNNERS: dict[str, Callable[[Context], Any]] = {
    "threads": threads_section,
    "walls": walls_section,
    "defaults": defaults_section,
    "imports": imports_section,
}


# ------------------------------------------------------------------------------------------------ pages


def verdict(ok: bool | None) -> str:
    return "–" if ok is None else "PASS" if ok else "FAIL"


def wall_cell(row: dict[str, Any] | None) -> str:
    if row is None:
        return "–"
    if "skipped" in row:
        return "skipped"
    if "error" in row:
        return f"ERROR ({row['error'][:60]})"
    return f"{row['wall']:.2f} s ({row['ratio']:.2f}) {verdict(row['pass'])}"


def halves(record: dict[str, Any], section: str) -> dict[str, Any]:
    return record.get("sections", {}).get(section, {})


def measured_line(parts: dict[str, Any]) -> str:
    def run(part: dict[str, Any]) -> str:
        conditions = part["conditions"]
        line = f"{conditions['started']}, load average {conditions['loadavg'][0]:.1f}, {conditions['processes']} busy processes"
        kept = "; ".join(f"{c['started']}, load average {c['loadavg'][0]:.1f}" for c in part.get("earlier", []))
        return line + (f" (other rows kept from the runs of {kept})" if kept else "")

    return "; ".join(f"{load}: {run(part)}" for load, part in parts.items())


def merge_walls(earlier: dict[str, Any], part: dict[str, Any]) -> dict[str, Any]:
    """A walls rerun of some samplers, sizes or limits: its rows replace the same calls of the
    earlier run and the others are kept, in sampler, size and limit order; the earlier run's
    conditions are listed under ``earlier`` while any of its rows remain."""

    def key(row: dict[str, Any]) -> tuple[Any, ...]:
        return row["sampler"], row["size"], row["limit"]

    new = {key(row) for row in part["rows"]}
    kept = [row for row in earlier["rows"] if key(row) not in new]
    for row in part["rows"]:
        row["started"] = part["conditions"]["started"]
    for row in kept:
        row.setdefault("started", earlier["conditions"]["started"])
    order = {name: i for i, name in enumerate(SAMPLERS)}
    rows = sorted(kept + part["rows"], key=lambda r: (order.get(r["sampler"], len(order)), SIZES.index(r["size"]), r["limit"]))
    starts = {row["started"] for row in kept}
    runs = [earlier["conditions"], *earlier.get("earlier", [])]
    return {**part, "rows": rows, "earlier": [c for c in runs if c["started"] in starts]}


def threads_page(parts: dict[str, Any]) -> list[str]:
    rows = {load: {row["instance"]: row for row in part["rows"]} for load, part in parts.items()}
    instances = list(dict.fromkeys(name for load_rows in rows.values() for name in load_rows))
    lines = [
        "## Threads: ms/epoch with the default threads against one thread",
        "",
        f"Target: default ≤ {THREAD_TARGET} × one thread, idle and loaded. Cells: default / one thread "
        "(ms/epoch), their ratio, the threads the default chose.",
        "",
        "| instance | sampler | n | " + " | ".join(f"{load}: default / 1 thread | {load}: ratio" for load in rows) + " |",
        "|---|---|---:|" + "---:|---:|" * len(rows),
    ]
    for name in instances:
        first = next(load_rows[name] for load_rows in rows.values() if name in load_rows)
        cells = []
        for load_rows in rows.values():
            row = load_rows.get(name)
            cells.append(
                "– | –"
                if row is None
                else f"{row['default_ms']:.2f} / {row['one_ms']:.2f} "
                f"({row['threads_chosen']}) | {row['ratio']:.2f} {verdict(row['pass'])}"
            )
        lines.append(f"| {name} | {first['sampler']} | {first['n']} | " + " | ".join(cells) + " |")
    return lines


def walls_page(parts: dict[str, Any]) -> list[str]:
    keyed = {load: {(r["sampler"], r["size"], r["limit"]): r for r in part["rows"]} for load, part in parts.items()}
    keys = list(dict.fromkeys(key for rows in keyed.values() for key in rows))
    lines = [
        "## Wall time against time_limit",
        "",
        "Target: wall ≤ 1.05 × limit + 0.5 s (for `compare`, the limit is per sampler: the bound is the sum "
        "over the samplers it ran, and each must keep its own). Cells: wall, wall / bound, verdict.",
        "",
    ]
    for load, rows in keyed.items():
        counted = [r for r in rows.values() if "pass" in r]
        lines.append(
            f"- {load}: {sum(r['pass'] for r in counted)} of {len(counted)} calls within the bound"
            f"{'' if len(counted) == len(rows) else f' ({len(rows) - len(counted)} skipped)'}"
        )
    lines += [
        "",
        "| sampler | input | limit (s) | " + " | ".join(keyed) + " | stop (" + " / ".join(keyed) + ") |",
        "|---|---|---:|" + "---|" * len(keyed) + "---|",
    ]
    for key in keys:
        found = [rows.get(key) for rows in keyed.values()]
        first = next(row for row in found if row is not None)
        stops = " / ".join(
            "–" if row is None else "skipped" if "skipped" in row else "error" if "error" in row else str(row.get("stop"))
            for row in found
        )
        lines.append(f"| {key[0]} | {first['input']} | {key[2]:g} | " + " | ".join(map(wall_cell, found)) + f" | {stops} |")
    late = [(load, r) for load, rows in keyed.items() for r in rows.values() if r.get("after_return_s", 0) > 0.1]
    if late:
        lines += ["", "Worker threads still running after the call returned (waited out before the next call):", ""]
        lines += [
            f"- {load}: {r['sampler']}, {r['size']}, limit {r['limit']:g} s: {r['after_return_s']:.1f} s" for load, r in late
        ]
    runs = [(load, r) for load, rows in keyed.items() for r in rows.values() if "runs" in r]
    if runs:
        lines += [
            "",
            "`compare`, seconds of each sampler it ran:",
            "",
            "| load | input | limit (s) | per sampler (s) | notes |",
            "|---|---|---:|---|---|",
        ]
        lines += [
            f"| {load} | {r['input']} | {r['limit']:g} | "
            + ", ".join(f"{run['sampler']} {run['seconds']:.2f}" for run in r["runs"])
            + f" | {'; '.join(note[:60] for note in r['notes']) or '–'} |"
            for load, r in runs
        ]
    return lines


def defaults_page(parts: dict[str, Any]) -> list[str]:
    lines = [
        "## Default calls (no time_limit)",
        "",
        f"Targets: a 5-node model with `num_reads=100` ≤ {TINY_TARGET:g} s after a warm-up call; on G1–G5 "
        f'`stop_reason == "converged"`, ≤ {GSET_TARGET:g} s idle, cut ≥ {CUT_TARGET} × the former default\'s '
        "(10,000 epochs without a convergence test, then SteepestDescentSolver).",
        "",
        "| load | model | wall (s) | default budget (s) | epochs | stop | verdict |",
        "|---|---|---:|---:|---:|---|---|",
    ]
    for load, part in parts.items():
        lines += [
            f"| {load} | {r['model']} | {r['wall']:.2f} | {r['time_limit']:.3g} | {r['epochs']} | {r['stop']} | "
            f"{verdict(r['pass'])} |"
            for r in part["rows"]["tiny"]
        ]
    lines += [
        "",
        "| load | instance | seed | wall (s) | default budget (s) | epochs | threads | stop | cut | "
        "former cut (s) | ratio | verdict |",
        "|---|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---|",
    ]
    for load, part in parts.items():
        for r in part["rows"]["gset"]:
            ok = r["converged"] and r["cut_pass"] and (r["wall_pass"] or load != "idle")
            lines.append(
                f"| {load} | {r['instance']} | {r['seed']} | {r['wall']:.2f} | {r['time_limit']:.3g} | "
                f"{r['epochs']} | {r['threads']} | "
                f"{r['stop']} | {r['cut']:g} | {r['former']['cut']:g} ({r['former']['seconds']:.1f}) | "
                f"{r['cut_ratio']:.4f} | {verdict(ok)} |"
            )
    former_epochs = {r["former"]["epochs"] for part in parts.values() for r in part["rows"]["gset"]}
    if former_epochs - {10_000}:
        lines += ["", f"The former default ran {sorted(former_epochs)} epochs here, not 10,000 (a quick run)."]
    return lines


def imports_page(parts: dict[str, Any]) -> list[str]:
    lines = [
        "## Import cost",
        "",
        f"Target: ≤ {IMPORT_TARGET:g} s for the HiGHSSampler import and `gnnsolve --help` (best of the "
        "repeats, fresh processes); `GNNSampler` is shown for comparison.",
        "",
        "| load | command | best (s) | all (s) | loads | verdict |",
        "|---|---|---:|---|---|---|",
    ]
    for load, part in parts.items():
        lines += [
            f"| {load} | `{r['command']}` | {r['best']:.2f} | {', '.join(f'{w:.2f}' for w in r['walls'])} | "
            f"{r['modules']} | {verdict(r['pass'])} |"
            for r in part["rows"]
        ]
    return lines


TARGETS: tuple[tuple[str, str, Callable[[Any, str], list[bool]]], ...] = (
    (
        f"ms/epoch with the default threads ≤ {THREAD_TARGET} × one thread",
        "threads",
        lambda rows, load: [r["pass"] for r in rows],
    ),
    ("every wall ≤ 1.05 × time_limit + 0.5 s", "walls", lambda rows, load: [r["pass"] for r in rows if "pass" in r]),
    (
        f"5-node model, 100 reads, no time_limit: ≤ {TINY_TARGET:g} s after a warm-up",
        "defaults",
        lambda rows, load: [r["pass"] for r in rows["tiny"]],
    ),
    ('G-set, no time_limit: stop_reason "converged"', "defaults", lambda rows, load: [r["converged"] for r in rows["gset"]]),
    (
        f"G-set, no time_limit: ≤ {GSET_TARGET:g} s (idle)",
        "defaults",
        lambda rows, load: [r["wall_pass"] for r in rows["gset"]] if load == "idle" else [],
    ),
    (
        f"G-set, no time_limit: cut ≥ {CUT_TARGET} × the former default's",
        "defaults",
        lambda rows, load: [r["cut_pass"] for r in rows["gset"]],
    ),
    (
        f"import of HiGHSSampler and `gnnsolve --help` ≤ {IMPORT_TARGET:g} s",
        "imports",
        lambda rows, load: [r["pass"] for r in rows if r["pass"] is not None],
    ),
)
"""Each target's line in the summary: which section's rows it reads, and the verdicts it counts in them."""


def summary(record: dict[str, Any]) -> list[str]:
    loads = [load for load in LOADS if any(load in parts for parts in record["sections"].values())]
    lines = ["| target | " + " | ".join(f"{load}: met" for load in loads) + " |", "|---|" + "---:|" * len(loads)]
    for label, section, verdicts in TARGETS:
        parts = halves(record, section)
        if not parts:
            continue
        cells = []
        for load in loads:
            found = verdicts(parts[load]["rows"], load) if load in parts else []
            cells.append(f"{sum(found)} of {len(found)}" if found else "–")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


PAGES = {"threads": threads_page, "walls": walls_page, "defaults": defaults_page, "imports": imports_page}


def render(record: dict[str, Any], plot: Path | None) -> str:
    m = record["machine"]
    lines = [
        "# Budgets, threads and default calls",
        "",
        "Rendered by `benchmarks/budget.py` from its JSON; how each section is measured is in the script's "
        "docstring. Every section ran on the machine as it was (`idle`) and again with one busy process per "
        "usable core started by the benchmark (`loaded`).",
        "",
        f"Machine: {m['usable_cores']} usable cores of {m['cores']}, {m['platform']}, Python {m['python']}, "
        f"torch {m['torch']} (default intra-op threads {m['torch_default_threads']}), commit {m['commit']}"
        f"{' with uncommitted changes' if m['uncommitted_changes'] else ''}; load average at start "
        f"{', '.join(f'{x:.1f}' for x in m['loadavg_at_start'])}.",
        "",
        *summary(record),
    ]
    for section in SECTIONS:
        parts = halves(record, section)
        if parts:
            lines += ["", *PAGES[section](parts), "", f"Measured: {measured_line(parts)}."]
            if section == "walls" and plot is not None:
                lines += ["", f"![wall / limit against the limit]({plot.name})"]
    return "\n".join(lines) + "\n"


def plot_walls(parts: dict[str, Any], path: Path) -> bool:
    """wall / bound of every call, by limit and size, one panel per load; at most 1 is within the bound."""
    try:
        import matplotlib
    except ImportError:
        print("matplotlib is not installed: no plot")
        return False
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(parts), figsize=(6 * len(parts), 4), sharey=True, squeeze=False)
    for ax, (load, part) in zip(axes[0], parts.items()):
        rows = [r for r in part["rows"] if "bound" in r]
        groups = sorted({(r["limit"], SIZES.index(r["size"])) for r in rows})
        names = list(dict.fromkeys(r["sampler"] for r in rows))
        for k, name in enumerate(names):
            mine = [r for r in rows if r["sampler"] == name]
            offset = 0.6 * (k / max(len(names) - 1, 1) - 0.5)
            ax.scatter(
                [groups.index((r["limit"], SIZES.index(r["size"]))) + offset for r in mine],
                [r["ratio"] for r in mine],
                label=name,
                s=18,
            )
        ax.axhline(1.0, color="k", linestyle="--", linewidth=1)
        ax.set_xticks(range(len(groups)), [f"{limit:g} s\n{SIZES[size]}" for limit, size in groups], fontsize=8)
        ax.set_yscale("log")
        ax.set_title(load)
        ax.grid(True, axis="y", alpha=0.3)
    axes[0][0].set_ylabel("wall / (1.05 limit + 0.5 s)")
    axes[0][-1].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def publish(record: dict[str, Any], json_path: Path | None) -> None:
    """Write the JSON, the plot and the page beside it (nothing without a path); print the page."""
    plot = None
    if json_path is not None:
        json_path.write_text(json.dumps(record, indent=1))
        walls = halves(record, "walls")
        if walls and plot_walls(walls, json_path.with_name(f"{json_path.stem}_walls.png")):
            plot = json_path.with_name(f"{json_path.stem}_walls.png")
    page = render(record, plot)
    if json_path is not None:
        json_path.with_suffix(".md").write_text(page)
    print(page)


# ------------------------------------------------------------------------------------------------- main


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sections", default=",".join(SECTIONS), help="comma-separated, of " + ", ".join(SECTIONS))
    parser.add_argument("--loads", default=",".join(LOADS), help="idle, loaded or both, in that order")
    parser.add_argument(
        "--processes",
        type=int,
        default=len(os.sched_getaffinity(0)),
        help="busy processes of the loaded half (default: one per usable core)",
    )
    parser.add_argument("--samplers", default=",".join(SAMPLERS), help="walls: comma-separated, of " + ", ".join(SAMPLERS))
    parser.add_argument("--limits", help=f"walls: seconds (default {FULL['limits']})")
    parser.add_argument("--sizes", help=f"walls: of {', '.join(SIZES)} (default all)")
    parser.add_argument("--thread-instances", help=f"threads: default {FULL['thread_instances']}")
    parser.add_argument("--epochs", type=int, help=f"threads: GNNSampler epochs per call (default {FULL['epochs']})")
    parser.add_argument(
        "--clusternet-epochs", type=int, help=f"threads: ClusterNet epochs per call (default {FULL['clusternet_epochs']})"
    )
    parser.add_argument(
        "--repeats", type=int, help=f"threads: calls per setting, alternating, median kept (default {FULL['repeats']})"
    )
    parser.add_argument("--gset", help=f"defaults: instances (default {FULL['gset']})")
    parser.add_argument("--seeds", help=f"defaults: seeds (default {FULL['seeds']})")
    parser.add_argument("--old-epochs", type=int, help=f"defaults: the former default's epochs ({FULL['old_epochs']})")
    parser.add_argument("--imports", help=f"imports: of highs, help, gnn (default {FULL['imports']})")
    parser.add_argument(
        "--import-repeats", type=int, help=f"imports: runs per command, best kept (default {FULL['import_repeats']})"
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run of a few minutes (see the docstring)")
    parser.add_argument("--out", type=Path, help="folder of the JSON and page (default docs/benchmarks; none with --quick)")
    parser.add_argument("--tag", help="names the files budget_<tag>.*")
    parser.add_argument("--report", type=Path, help="render the page of this JSON again and exit")
    add_progress_option(parser)
    args = parser.parse_args()
    fill_defaults(args, QUICK, FULL)
    check_lists(
        parser,
        (
            ("sections", args.sections, SECTIONS),
            ("loads", args.loads, LOADS),
            ("samplers", args.samplers, SAMPLERS),
            ("sizes", args.sizes, SIZES),
            ("imports", args.imports, ("highs", "help", "gnn")),
        ),
    )
    return args


def main() -> None:
    args = parse()
    if args.report:
        publish(json.loads(args.report.read_text()), args.report)
        return
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the clean-up of the load on kill, too
    json_path = None if args.out is None else args.out / f"budget{'_' + args.tag if args.tag else ''}.json"
    record: dict[str, Any] = {"sections": {}}
    if json_path is not None and json_path.exists():
        record = json.loads(json_path.read_text())  # a rerun replaces what it measures again
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
    record["machine"] = machine()
    print(f"machine: {json.dumps(record['machine'])}", flush=True)
    ctx = Context(args, shared_data_dir())
    if ctx.data is None:
        print("benchmark data not found (../shared/data or $GNNSOLVE_DATA): the G-set parts are skipped")
    sections = [s for s in SECTIONS if s in args.sections.split(",")]
    for load in (load for load in LOADS if load in args.loads.split(",")):
        with competing_load(args.processes if load == "loaded" else 0):
            for section in progress(sections, args, desc=f"budget ({load})", unit="section"):
                measured = conditions(load, args.processes)
                say(f"\n== {section}, {load} (load average {measured['loadavg'][0]:.1f})")
                rows, seconds = timed(lambda: RUNNERS[section](ctx))
                part = {"conditions": measured, "seconds": seconds, "rows": rows}
                earlier = record["sections"].get(section, {}).get(load)
                if section == "walls" and earlier is not None:
                    part = merge_walls(earlier, part)
                record["sections"].setdefault(section, {})[load] = part
                if json_path is not None:
                    json_path.write_text(json.dumps(record, indent=1))
    publish(record, json_path)


if __name__ == "__main__":
    main()
