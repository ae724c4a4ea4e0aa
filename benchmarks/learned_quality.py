"""Solution quality of GNNSampler against the references a user would pick, at the same wall time.

Every solver runs in one process, on the same instances, with the same seed (``--seed``), at each
wall budget B of ``--budgets`` (seconds), and every row's energy is recomputed on the instance's
BQM. Solvers:

* GNN variants: ``GNNSampler().sample(bqm, time_limit=B, seed=seed, threads=1, **kwargs)``, one
  per ``--gnn NAME=JSON`` (default: one variant ``gnn`` with no keyword arguments). Their rows
  also record ``info`` (``stop_reason``, ``epochs``, ``conv``) and the lowest ``raw_energy``: the
  best rounded state before polishing. On the knapsack each variant runs once more with
  ``polish=False`` (row ``NAME (polish off)``), whose best state is the raw state checked for
  feasibility.
* ``sa (default)``: dwave-samplers' SimulatedAnnealingSampler with its defaults, one read; its
  wall time is the unit of every time ratio.
* ``sa (matched)``: 16 reads, ``num_sweeps`` set so that the call takes about B (a fixed cost and
  a cost per sweep from two untimed calls of 16 reads lasting 0.2 s or more, just before).
* ``anneal (random start)``: GNNSampler's ``polish="sa"`` finisher
  (:func:`gnnsolve.search.finish.finish_states`: the anneal, kicks where they fit, the descent) with its 16 chains
  (:data:`gnnsolve.search.finish.CHAINS`), each from its own uniformly random state, for the
  whole budget: the control that says what the learned start is worth.
* ``tabu (matched)``: TabuSampler, 16 reads of ``B / 16`` seconds each.
* ``qqa balanced`` and ``qqa quality``: ``qqa.solve(problem, profile=..., budget=B,
  device="cpu", seed=seed)`` of the optional package qqa (≥ 0.11) on the BQM's sparse QUBO (its
  ``SparseQUBOProblem``), one torch thread; the profiles fix qqa's replicas and epoch cap
  (balanced: 128 replicas, ≤ 1,500 epochs; quality: 512 replicas, ≤ 5,000 epochs), so a call may
  end before B. The conversion to qqa's form is inside the timed call. Skipped, with the reason
  printed, when qqa is absent.
* MIS only: ``greedy min-degree`` (:func:`gnnsolve.adapters.graphs.greedy_independent_set`).

Instances (``--instances``: families or single names, comma-separated, default all):

``gset``       G-set G1–G5, G14, G15, G22 as MaxCut BQMs; best known from ``best_known.csv``.
``torus``      ``torus-50x60``: a periodic 50 × 60 grid with couplings ±1 (numpy seed 0), Ising.
``regular``    ``regular-10000`` and ``regular-20000``: MaxCut on ``networkx.random_regular_graph(3, n,
               seed=0)``.
``chimera``    ``chimera-16``: ``dimod.generators.ran_r(1, chimera_graph(16), seed=0)``; needs
               dwave-graphs (Ocean's graph package, in the ``bench`` extra), skipped without it.
``gnp``        ``gnp-500``: ``dimod.generators.gnp_random_bqm(500, 0.5, "SPIN", random_state=0)``.
``knapsack``   ``knapsack-60``: ``dimod.generators.random_knapsack(60, seed=0)`` through
               ``dimod.cqm_to_bqm``; rows say whether the best state is feasible: the CQM's
               constraint holds and the BQM pays no penalty (its slack bits match), so that
               its energy is the packed value.
``mis``        the MIS QUBOs (penalty 2) of ``benchmarks/mis.py``'s graphs: the ten random
               d-regular graphs of ``pignn_dregular`` and BHOSLIB frb30-15-*, frb35-17-*;
               every solver's SampleSet is decoded by ``MaxIndependentSet`` (repair and
               (1,2)-swaps; the decoding is inside the row's seconds).

Cells: energy; the cut (MaxCut), set size (MIS) or packed value (knapsack); the ratio to the
best known — cut / best-known cut, size / optimum, energy / best-known energy — and where none
is known (torus, regular, chimera, gnp, knapsack), to the best found by any solver anywhere in
the run (said so on the page); wall seconds; wall / ``sa (default)``'s wall. The published
PI-GNN cuts (Schuetz et al., Nature Machine Intelligence 4, 367 (2022): G14 3026, G15 2990,
G22 13181) stand beside G14, G15 and G22 as reference rows, not runs. The page ends with
MET / MISSED for each GNN variant against the targets in :data:`TARGETS`.

Anytime curves: on G22 and chimera-16 (where selected), each budgeted solver again at every
``--curve-budgets`` budget (default 1, 3, 10, 30 s) in the idle half, plotted as best cut /
best known (or energy / best found) against wall seconds (matplotlib; no plot without it).

Loads (``--loads``, default ``idle,loaded``): ``loaded`` repeats everything while one busy
process per usable core (``--processes``) competes for the cores.

Run: ``python benchmarks/learned_quality.py [--budgets 10,60] [--gnn NAME=JSON ...]
[--instances gset,torus,...] [--loads idle,loaded] [--curve-budgets 1,3,10,30] [--seed 0] [--solvers A,B]
[--out docs/benchmarks] [--tag NAME] [--quick]``, and ``--summarise RUN.json ...`` for the page
comparing ``gnn`` with the random-start annealers over several runs' seeds. Results go to ``learned_quality.json``
(every row, the machine, the git commit, the command line; rewritten after every instance) and
the page ``learned_quality.md`` with ``learned_quality_<instance>.png`` beside it;
``--tag NAME`` names them ``learned_quality_NAME.*`` instead. ``--quick`` is a smoke run of
under a minute (budget 1 s, G1, gnp-500 and knapsack-60, idle, no curves) that writes files
only when ``--out`` is given. At ``--budgets 10,60`` with both loads and the curves, a full run
with one variant and qqa takes about 7 hours (each instance costs about five budgets per load).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shlex
import signal
import statistics
import sys
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from types import ModuleType
from typing import Any

import dimod
import networkx as nx
import numpy as np
import torch
from dwave.samplers import SimulatedAnnealingSampler, TabuSampler

from _cli import add_progress_option, fill_defaults, progress, say  # benchmarks/_cli.py
from _load import competing_load  # benchmarks/_load.py
from budget import machine as machine_facts  # benchmarks/budget.py
from gnnsolve import GNNSampler
from gnnsolve.adapters.datasets import (
    bhoslib_catalogue,
    load_gset_best_known,
    pignn_dregular_catalogue,
    read_dimacs,
    read_edgelist,
    read_gset,
    shared_data_dir,
)
from gnnsolve.adapters.graphs import MaxIndependentSet, greedy_independent_set, maxcut_bqm
from gnnsolve.qubo import CompiledBQM
from gnnsolve.samplers._torch import torch_threads
from gnnsolve.search.finish import CHAINS, finish_states

LOADS = ("idle", "loaded")
FAMILIES = ("gset", "torus", "regular", "chimera", "gnp", "knapsack", "mis")
GSET = ("G1", "G2", "G3", "G4", "G5", "G14", "G15", "G22")
INSTANCE_SEED = 0
"""The seed of every generated instance (torus couplings, regular graph, Chimera, gnp, knapsack)."""
TORUS = (50, 60)
REGULAR_SIZES = (10_000, 20_000)
PIGNN_PUBLISHED = {"G14": 3026, "G15": 2990, "G22": 13181}
"""PI-GNN's cuts in Schuetz, Brubaker and Katzgraber, Nature Machine Intelligence 4, 367 (2022)."""
PIGNN_ROW = "PI-GNN (published)"
READS = 16
CALIBRATION_SWEEPS = 100
CALIBRATION_SECONDS = 0.2
QQA_PROFILES = ("balanced", "quality")
QQA_MINIMUM = (0, 11)
SA_DEFAULT = "sa (default)"
SA_MATCHED = "sa (matched)"
ANNEAL_RANDOM = "anneal (random start)"
GREEDY = "greedy min-degree"
CURVE_INSTANCES = ("G22", "chimera-16")
GSET_MEAN_TARGET = 0.995
SA_SHARE_TARGET = 0.98
TOLERANCE = 1e-9

FULL = {"budgets": "10", "instances": ",".join(FAMILIES), "curve_budgets": "1,3,10,30", "loads": ",".join(LOADS)}
QUICK = {"budgets": "1", "instances": "G1,gnp,knapsack", "curve_budgets": "", "loads": "idle"}


# ------------------------------------------------------------------------------------------- instances


@dataclass
class Instance:
    """A benchmark model and what its rows are measured against.

    ``kind`` says what a row reports beside the energy: ``"maxcut"`` the cut, ``"mis"`` the
    decoded set size, ``"knapsack"`` the packed value and CQM feasibility, ``"energy"`` nothing.
    ``best_known`` is in those terms (cut, set size), else an energy.
    """

    name: str
    family: str
    kind: str
    bqm: dimod.BinaryQuadraticModel
    best_known: float | None = None
    cqm: dimod.ConstrainedQuadraticModel | None = None
    invert: Callable[[Mapping[Any, int]], Mapping[Any, int]] | None = None
    mis: MaxIndependentSet | None = None

    def describe(self) -> dict[str, Any]:
        return {
            "family": self.family,
            "kind": self.kind,
            "variables": self.bqm.num_variables,
            "interactions": self.bqm.num_interactions,
            "vartype": self.bqm.vartype.name,
            "best_known": self.best_known,
        }


@dataclass(frozen=True)
class Spec:
    """A selectable instance: how to build it, or why it cannot be."""

    name: str
    family: str
    build: Callable[[], Instance]
    missing: str | None = None


def torus_instance() -> Instance:
    rows, cols = TORUS
    graph = nx.convert_node_labels_to_integers(nx.grid_2d_graph(rows, cols, periodic=True))
    signs = np.random.default_rng(INSTANCE_SEED).choice((-1.0, 1.0), size=graph.number_of_edges())
    bqm = dimod.BinaryQuadraticModel.from_ising({}, dict(zip(graph.edges, signs.tolist())))
    return Instance(f"torus-{rows}x{cols}", "torus", "energy", bqm)


def chimera_instance() -> Instance:
    import dwave.graphs

    bqm = dimod.generators.ran_r(1, dwave.graphs.chimera_graph(16), seed=INSTANCE_SEED)
    return Instance("chimera-16", "chimera", "energy", bqm)


def knapsack_instance() -> Instance:
    cqm = dimod.generators.random_knapsack(60, seed=INSTANCE_SEED)
    bqm, invert = dimod.cqm_to_bqm(cqm)
    return Instance("knapsack-60", "knapsack", "knapsack", bqm, cqm=cqm, invert=invert)


def mis_instance(name: str, graph: nx.Graph, optimum: int) -> Instance:
    problem = MaxIndependentSet(graph)
    return Instance(name, "mis", "mis", problem.bqm, best_known=optimum, mis=problem)


def chimera_missing() -> str | None:
    try:
        import dwave.graphs  # noqa: F401
    except ImportError:
        return "dwave-graphs is not installed (pip install dwave-graphs): the Chimera spin glass is skipped"
    return None


def catalogue(data: Path | None) -> list[Spec]:
    """Every instance the benchmark knows, in running order."""
    no_data = None if data is not None else "benchmark data not found (../shared/data or $GNNSOLVE_DATA)"
    specs = [
        Spec(
            name,
            "gset",
            lambda name=name: Instance(
                name,
                "gset",
                "maxcut",
                maxcut_bqm(read_gset(data / "gset" / f"{name}.txt")),
                best_known=load_gset_best_known(name, data),
            ),
            no_data,
        )
        for name in GSET
    ]
    specs += [
        Spec(f"torus-{TORUS[0]}x{TORUS[1]}", "torus", torus_instance),
        *(
            Spec(
                f"regular-{n}",
                "regular",
                lambda n=n: Instance(
                    f"regular-{n}", "regular", "maxcut", maxcut_bqm(nx.random_regular_graph(3, n, seed=INSTANCE_SEED))
                ),
            )
            for n in REGULAR_SIZES
        ),
        Spec("chimera-16", "chimera", chimera_instance, chimera_missing()),
        Spec(
            "gnp-500",
            "gnp",
            lambda: Instance(
                "gnp-500", "gnp", "energy", dimod.generators.gnp_random_bqm(500, 0.5, "SPIN", random_state=INSTANCE_SEED)
            ),
        ),
        Spec("knapsack-60", "knapsack", knapsack_instance),
    ]
    if data is None:
        return specs + [Spec("mis", "mis", lambda: None, no_data)]
    regular = sorted(pignn_dregular_catalogue(data).items(), key=lambda item: (item[1].d, item[1].seed))
    specs += [
        Spec(
            name,
            "mis",
            lambda name=name, entry=entry: mis_instance(name, read_edgelist(data / "pignn_dregular" / entry.file), entry.mis),
        )
        for name, entry in regular
    ]
    specs += [
        Spec(
            name, "mis", lambda name=name, entry=entry: mis_instance(name, read_dimacs(data / "bhoslib" / entry.file), entry.mis)
        )
        for name, entry in sorted(bhoslib_catalogue(data).items())
    ]
    return specs


def select(specs: list[Spec], wanted: str) -> list[Spec]:
    """The specs named by ``wanted``: families or instance names, comma-separated, in catalogue order."""
    tokens = {token.strip() for token in wanted.split(",") if token.strip()}
    unknown = tokens - set(FAMILIES) - {spec.name for spec in specs}
    if unknown:
        raise ValueError(
            f"--instances: unknown {sorted(unknown)}; families are {', '.join(FAMILIES)}, "
            "or name single instances (G1, torus-50x60, regular-10000, chimera-16, gnp-500, "
            "knapsack-60, reg_n100_d3_seed0, frb30-15-1, ...)"
        )
    return [spec for spec in specs if spec.name in tokens or spec.family in tokens]


# --------------------------------------------------------------------------------------------- solvers

Call = Callable[[], tuple[dimod.SampleSet, dict[str, Any]]]
Planner = Callable[[dimod.BinaryQuadraticModel, float, int], Call]
"""``(bqm, budget, seed)`` to the call that is timed; what a planner does itself (calibration) is not."""


@dataclass(frozen=True)
class Solver:
    """A row of every table: ``role`` is ``"gnn"`` for a variant, ``"gnn raw"`` for its polish-off
    run (knapsack only) and ``"reference"`` for the others."""

    name: str
    role: str
    plan: Planner


def gnn(kwargs: dict[str, Any]) -> Planner:
    def plan(bqm: dimod.BinaryQuadraticModel, budget: float, seed: int) -> Call:
        def call() -> tuple[dimod.SampleSet, dict[str, Any]]:
            sampleset = GNNSampler().sample(bqm, time_limit=budget, seed=seed, threads=1, **kwargs)
            facts = {key: sampleset.info[key] for key in ("stop_reason", "epochs", "conv") if key in sampleset.info}
            if "raw_energy" in sampleset.data_vectors:
                facts["raw_energy_min"] = float(np.min(sampleset.data_vectors["raw_energy"]))
            return sampleset, facts

        return call

    return plan


def sa_default(bqm: dimod.BinaryQuadraticModel, budget: float, seed: int) -> Call:
    return lambda: (SimulatedAnnealingSampler().sample(bqm, num_reads=1, seed=seed), {})


def matched_sweeps(sampler: SimulatedAnnealingSampler, bqm: dimod.BinaryQuadraticModel, budget: float, seed: int) -> int:
    """Sweeps for which 16 reads take about ``budget``: a fixed cost and a cost per sweep, from two calls
    of at least :data:`CALIBRATION_SECONDS` (the shorter doubled until it lasts that long)."""

    def seconds(sweeps: int) -> float:
        start = time.perf_counter()
        sampler.sample(bqm, num_reads=READS, num_sweeps=sweeps, seed=seed)
        return time.perf_counter() - start

    sweeps, short = CALIBRATION_SWEEPS, seconds(CALIBRATION_SWEEPS)
    while short < CALIBRATION_SECONDS:
        sweeps *= 2
        short = seconds(sweeps)
    long = seconds(2 * sweeps)
    per_sweep = (long - short) / sweeps if long > short else long / (2 * sweeps)
    fixed = max(0.0, short - per_sweep * sweeps)
    return max(10, round((budget - fixed) / per_sweep))


def sa_matched(bqm: dimod.BinaryQuadraticModel, budget: float, seed: int) -> Call:
    sampler = SimulatedAnnealingSampler()
    sweeps = matched_sweeps(sampler, bqm, budget, seed)
    return lambda: (sampler.sample(bqm, num_reads=READS, num_sweeps=sweeps, seed=seed), {"num_sweeps": sweeps})


def anneal_random(bqm: dimod.BinaryQuadraticModel, budget: float, seed: int) -> Call:
    """GNNSampler's finisher from uniformly random states instead of learned ones, for ``budget``
    seconds: what the learned start is worth, with the rest the same (its 16 chains)."""

    def call() -> tuple[dimod.SampleSet, dict[str, Any]]:
        deadline = time.perf_counter() + budget
        model = CompiledBQM(bqm)
        start = np.random.default_rng(seed).integers(0, 2, size=(CHAINS, model.num_variables), dtype=np.int8)
        states, done = finish_states(model, start, deadline - 0.02, seed=seed)
        return model.sampleset(bqm, states), {"num_sweeps": done["sweeps"], "kick_rounds": done.get("kick_rounds", 0)}

    return call


def tabu_matched(bqm: dimod.BinaryQuadraticModel, budget: float, seed: int) -> Call:
    timeout = max(1, round(1000 * budget / READS))
    return lambda: (TabuSampler().sample(bqm, num_reads=READS, timeout=timeout, seed=seed), {"timeout_ms": timeout})


def load_qqa() -> tuple[ModuleType | None, str | None]:
    """qqa and its sparse QUBO problem, or ``None`` and why it cannot be used."""
    try:
        found = tuple(int(part) for part in metadata.version("qqa").split(".")[:2])
    except metadata.PackageNotFoundError:
        return None, "qqa is not installed (pip install 'qqa>=0.11'): its rows are skipped"
    except ValueError:
        found = QQA_MINIMUM
    if found < QQA_MINIMUM:
        return None, f"qqa {metadata.version('qqa')} is older than 0.11: its rows are skipped"
    try:
        import qqa
        from qqa.compile import SparseQUBO  # noqa: F401
        from qqa.engines.qqa import SparseQUBOProblem  # noqa: F401
    except Exception as error:  # a broken install must not end the benchmark
        return None, f"qqa cannot be imported ({type(error).__name__}: {error}): its rows are skipped"
    return qqa, None


def qqa_profile(qqa: ModuleType, profile: str) -> Planner:
    from qqa.compile import SparseQUBO
    from qqa.engines.qqa import SparseQUBOProblem

    def plan(bqm: dimod.BinaryQuadraticModel, budget: float, seed: int) -> Call:
        def call() -> tuple[dimod.SampleSet, dict[str, Any]]:
            variables = list(bqm.variables)
            binary = bqm.change_vartype(dimod.BINARY, inplace=False)
            linear, (row, col, quadratic), offset = binary.to_numpy_vectors(variable_order=variables)
            edges = torch.from_numpy(np.stack([row, col]).astype(np.int64))
            problem = SparseQUBOProblem(SparseQUBO(torch.from_numpy(linear), edges, torch.from_numpy(quadratic), float(offset)))
            with torch_threads(1):
                result = qqa.solve(problem, profile=profile, budget=budget, device="cpu", seed=seed)
            if result.solution is None:
                raise RuntimeError(f"qqa returned no solution (status {result.status.value})")
            x = result.solution.detach().cpu().numpy().round().astype(np.int8)
            states = x if bqm.vartype is dimod.BINARY else 2 * x - 1
            sampleset = dimod.SampleSet.from_samples_bqm((states[None, :], variables), bqm)
            return sampleset, {
                "status": result.status.value,
                "epochs": result.diagnostics.get("completed_epochs"),
                "candidate": result.selected_candidate_id,
            }

        return call

    return plan


def solvers(variants: dict[str, dict[str, Any]], qqa: ModuleType | None) -> list[Solver]:
    """References first, then the GNN variants; the polish-off runs are added per instance."""
    found = [
        Solver(SA_DEFAULT, "reference", sa_default),
        Solver(SA_MATCHED, "reference", sa_matched),
        Solver(ANNEAL_RANDOM, "reference", anneal_random),
        Solver("tabu (matched)", "reference", tabu_matched),
    ]
    if qqa is not None:
        found += [Solver(f"qqa {profile}", "reference", qqa_profile(qqa, profile)) for profile in QQA_PROFILES]
    return found + [Solver(name, "gnn", gnn(kwargs)) for name, kwargs in variants.items()]


def for_instance(instance: Instance, every: list[Solver], variants: dict[str, dict[str, Any]]) -> list[Solver]:
    if instance.kind != "knapsack":
        return every
    return every + [
        Solver(f"{name} (polish off)", "gnn raw", gnn({**kwargs, "polish": False})) for name, kwargs in variants.items()
    ]


# -------------------------------------------------------------------------------------------- measuring


def evaluate(instance: Instance, sampleset: dimod.SampleSet) -> dict[str, Any]:
    """What a row reports beside the energy, from the SampleSet's best row (MIS: every row decoded)."""
    if instance.kind == "maxcut":
        return {"cut": -float(sampleset.first.energy)}
    if instance.kind == "knapsack":
        chosen = instance.invert(sampleset.first.sample)
        value = 0.0 - float(instance.cqm.objective.energy(chosen))
        # feasible as a BQM state: the constraint holds and its slack matches, so no penalty is paid
        paid = abs(float(sampleset.first.energy) + value) > TOLERANCE * max(1.0, abs(value))
        return {"feasible": bool(instance.cqm.check_feasible(chosen)) and not paid, "value": value}
    if instance.kind == "mis":
        return {"size": int(instance.mis.best_solution(sampleset).objective)}
    return {}


def measure(instance: Instance, solver: Solver, budget: float, seed: int) -> dict[str, Any]:
    """One solver's row; an error is recorded in the row, not raised."""
    row: dict[str, Any] = {"solver": solver.name, "role": solver.role}
    try:
        call = solver.plan(instance.bqm, budget, seed)
        start = time.perf_counter()
        sampleset, facts = call()
        row["seconds"] = time.perf_counter() - start
        start = time.perf_counter()
        row.update(energy=float(sampleset.first.energy), **evaluate(instance, sampleset), **facts)
        if instance.kind == "mis":
            row["decode_s"] = time.perf_counter() - start
            row["seconds"] += row["decode_s"]
    except Exception as error:  # one failing solver on one instance must not end the run
        row["error"] = f"{type(error).__name__}: {error}"
        traceback.print_exc()
    return row


def greedy_row(instance: Instance) -> dict[str, Any]:
    start = time.perf_counter()
    chosen = greedy_independent_set(instance.mis.graph)
    seconds = time.perf_counter() - start
    energy = instance.bqm.energy({node: int(node in chosen) for node in instance.bqm.variables})
    return {"solver": GREEDY, "role": "reference", "seconds": seconds, "energy": float(energy), "size": len(chosen)}


def row_line(row: dict[str, Any]) -> str:
    shown = ", ".join(f"{key} {row[key]:g}" for key in ("cut", "size", "value") if key in row)
    result = row.get("error") or f"energy {row['energy']:g}{', ' + shown if shown else ''}, {row['seconds']:.2f} s"
    return f"  {row['load']} {row['budget']:g} s {row['instance']} | {row['solver']}: {result}"


def run_instance(
    instance: Instance, lineup: list[Solver], load: str, budgets: list[float], seed: int, section: str
) -> list[dict[str, Any]]:
    """Every solver at every budget; MIS instances add the greedy row."""
    rows = []
    for budget in budgets:
        found = [measure(instance, solver, budget, seed) for solver in lineup]
        if instance.kind == "mis" and section == "main":
            found.append(greedy_row(instance))
        for row in found:
            row.update(section=section, load=load, budget=budget, instance=instance.name)
            say(row_line(row))
        rows += found
    return rows


def warm_up(lineup: list[Solver]) -> None:
    """One untimed call of every solver on a small model, so that no row pays a first call's costs."""
    bqm = dimod.generators.ran_r(1, 20, seed=INSTANCE_SEED)
    for solver in lineup:
        try:
            solver.plan(bqm, 0.2, 0)()
        except Exception as error:  # the timed rows will record it
            say(f"warm-up of {solver.name} failed: {type(error).__name__}: {error}")


# ---------------------------------------------------------------------------------------------- ratios


def objective(kind: str, row: dict[str, Any]) -> float | None:
    """The row's value in its instance's terms, larger or smaller better as :func:`maximised` says."""
    key = {"maxcut": "cut", "mis": "size"}.get(kind, "energy")
    return row.get(key)


def maximised(kind: str) -> bool:
    return kind in ("maxcut", "mis")


def compare(kind: str, first: dict[str, Any] | None, second: dict[str, Any] | None) -> int | None:
    """+1 if ``first`` is better than ``second``, 0 on a tie, -1 if worse; ``None`` if either has no result."""
    a, b = (None if row is None else objective(kind, row) for row in (first, second))
    if a is None or b is None:
        return None
    gain = (a - b) if maximised(kind) else (b - a)
    return 0 if abs(gain) <= TOLERANCE * max(1.0, abs(a), abs(b)) else (1 if gain > 0 else -1)


def annotate(record: dict[str, Any]) -> None:
    """Each row's ratio to its instance's reference, and its wall over ``sa (default)``'s."""
    for name, meta in record["instances"].items():
        kind = meta["kind"]
        values = [objective(kind, r) for r in record["rows"] if r["instance"] == name and "energy" in r]
        if meta["best_known"] is not None:
            meta["reference"], meta["reference_source"] = meta["best_known"], "best known"
        elif values:
            meta["reference"] = max(values) if maximised(kind) else min(values)
            meta["reference_source"] = "best found in this run"
        for row in (r for r in record["rows"] if r["instance"] == name and "energy" in r):
            reference, value = meta.get("reference"), objective(kind, row)
            usable = reference is not None and (reference > 0 if maximised(kind) else reference < 0)
            row["ratio"] = value / reference if usable else None
    walls = {
        (r["section"], r["load"], r["budget"], r["instance"]): r["seconds"]
        for r in record["rows"]
        if r["solver"] == SA_DEFAULT and "energy" in r
    }
    for row in record["rows"]:
        wall = walls.get((row["section"], row["load"], row["budget"], row["instance"]))
        if wall and "seconds" in row:
            row["time_ratio"] = row["seconds"] / wall


# --------------------------------------------------------------------------------------------- targets


class Rows:
    """The main rows of a record, looked up by load, budget, instance and solver."""

    def __init__(self, record: dict[str, Any]) -> None:
        self.instances = record["instances"]
        self.by_key = {(r["load"], r["budget"], r["instance"], r["solver"]): r for r in record["rows"] if r["section"] == "main"}

    def get(self, load: str, budget: float, instance: str, solver: str) -> dict[str, Any] | None:
        row = self.by_key.get((load, budget, instance, solver))
        return row if row is not None and "energy" in row else None

    def ran(self, load: str, budget: float, solver: str, family: str | None = None) -> list[str]:
        """Instances (of ``family``) where ``solver`` has a row at this load and budget, errors included."""
        return [
            name
            for (at, budget_, name, who) in self.by_key
            if (at, budget_, who) == (load, budget, solver) and (family is None or self.instances[name]["family"] == family)
        ]


Verdict = tuple[bool, str] | None
"""Met or not, and the numbers behind it; ``None`` where the target does not apply."""


def pignn_target(rows: Rows, variant: str, load: str, budget: float) -> Verdict:
    names = [name for name in PIGNN_PUBLISHED if name in rows.ran(load, budget, variant)]
    if budget != 10 or not names:
        return None
    cuts = {name: (rows.get(load, budget, name, variant) or {}).get("cut") for name in names}
    met = all(cut is not None and cut >= PIGNN_PUBLISHED[name] for name, cut in cuts.items())
    return met, ", ".join(
        f"{name} {'error' if cut is None else f'{cut:g}'} vs {PIGNN_PUBLISHED[name]}" for name, cut in cuts.items()
    )


def gset_mean_target(rows: Rows, variant: str, load: str, budget: float) -> Verdict:
    names = [name for name in GSET[:5] if name in rows.ran(load, budget, variant)]
    if not names:
        return None
    ratios = [(rows.get(load, budget, name, variant) or {}).get("ratio") for name in names]
    if None in ratios:
        return False, "a run failed"
    mean = statistics.fmean(ratios)
    return mean >= GSET_MEAN_TARGET, f"mean {mean:.4f} over {', '.join(names)}"


def qqa_target(profile: str) -> Callable[[Rows, str, str, float], Verdict]:
    def target(rows: Rows, variant: str, load: str, budget: float) -> Verdict:
        other = f"qqa {profile}"
        names = [name for name in rows.ran(load, budget, other) if rows.get(load, budget, name, other)]
        if not names:
            return None
        outcome: dict[int | None, list[str]] = {1: [], 0: [], -1: [], None: []}
        for name in names:
            kind = rows.instances[name]["kind"]
            outcome[compare(kind, rows.get(load, budget, name, variant), rows.get(load, budget, name, other))].append(name)
        worse = outcome[-1] + outcome[None]
        return not worse, (
            f"better on {len(outcome[1])}, tied on {len(outcome[0])}, worse or failed on "
            f"{len(worse)} of {len(names)}{': ' + ', '.join(worse) if worse else ''}"
        )

    return target


def sa_share_target(rows: Rows, variant: str, load: str, budget: float) -> Verdict:
    names = [name for family in ("chimera", "torus") for name in rows.ran(load, budget, variant, family)]
    if not names:
        return None
    shares = {}
    for name in names:
        mine, sa = rows.get(load, budget, name, variant), rows.get(load, budget, name, SA_MATCHED)
        shares[name] = mine["energy"] / sa["energy"] if mine and sa and sa["energy"] < 0 else None
    met = all(share is not None and share >= SA_SHARE_TARGET for share in shares.values())
    return met, ", ".join(f"{name} {'–' if share is None else f'{share:.3f}'}" for name, share in shares.items())


def gnp_target(rows: Rows, variant: str, load: str, budget: float) -> Verdict:
    names = rows.ran(load, budget, variant, "gnp")
    if not names:
        return None
    raw = {name: (rows.get(load, budget, name, variant) or {}).get("raw_energy_min") for name in names}
    met = all(value is not None and value < 0 for value in raw.values())
    return met, ", ".join(f"{name} raw {'–' if value is None else f'{value:.3g}'}" for name, value in raw.items())


def knapsack_target(rows: Rows, variant: str, load: str, budget: float) -> Verdict:
    raw = f"{variant} (polish off)"
    names = rows.ran(load, budget, raw, "knapsack")
    if not names:
        return None
    found = {name: rows.get(load, budget, name, raw) for name in names}

    def said(row: dict[str, Any] | None) -> str:
        if row is None:
            return "error"
        return f"{'feasible' if row['feasible'] else 'infeasible'}, value {row['value']:g}"

    return all(row and row["feasible"] for row in found.values()), ", ".join(f"{name} {said(row)}" for name, row in found.items())


def mis_target(rows: Rows, variant: str, load: str, budget: float) -> Verdict:
    names = rows.ran(load, budget, variant, "mis")
    if not names:
        return None
    short = [
        name
        for name in names
        if compare("mis", rows.get(load, budget, name, variant), rows.get(load, budget, name, GREEDY)) in (-1, None)
    ]
    return not short, f"{len(names) - len(short)} of {len(names)}{': short on ' + ', '.join(short) if short else ''}"


def moonshot_target(rows: Rows, variant: str, load: str, budget: float) -> Verdict:
    """Better than both annealers from random starts (``sa (matched)`` and ``anneal (random
    start)``) on every instance of some family; the evidence counts wins, ties and losses."""
    beaten, tried, tally = [], [], {1: 0, 0: 0, -1: 0, None: 0}
    for family in FAMILIES:
        names = rows.ran(load, budget, variant, family)
        if not names:
            continue
        tried.append(family)
        outcomes = []
        for name in names:
            kind, mine = rows.instances[name]["kind"], rows.get(load, budget, name, variant)
            against = [compare(kind, mine, rows.get(load, budget, name, other)) for other in (SA_MATCHED, ANNEAL_RANDOM)]
            outcomes.append(None if None in against else min(against))
            tally[outcomes[-1]] += 1
        if all(outcome == 1 for outcome in outcomes):
            beaten.append(family)
    if not tried:
        return None
    return bool(beaten), (
        f"beats both on {', '.join(beaten) or 'no family'} (of {', '.join(tried)}); instances: "
        f"better {tally[1]}, tied {tally[0]}, worse {tally[-1]}, missing {tally[None]}"
    )


TARGETS: tuple[tuple[str, Callable[[Rows, str, str, float], Verdict]], ...] = (
    ("G14, G15, G22 at 10 s: cut ≥ published PI-GNN", pignn_target),
    (f"G1–G5: mean cut / best known ≥ {GSET_MEAN_TARGET}", gset_mean_target),
    *((f"at least as good as qqa {profile} wherever it ran (ties count)", qqa_target(profile)) for profile in QQA_PROFILES),
    (f"Chimera and torus spin glasses: energy ≥ {SA_SHARE_TARGET:.0%} of sa (matched)'s", sa_share_target),
    ("gnp dense: best raw state has negative energy", gnp_target),
    ("knapsack: best raw state (polish off) feasible", knapsack_target),
    ("MIS: set size ≥ greedy min-degree on every instance", mis_target),
    (
        "moonshot: better than annealing from random starts (sa (matched) and anneal (random start)) "
        "on every instance of a family (one seed; --summarise compares over seeds)",
        moonshot_target,
    ),
)


def verdicts(record: dict[str, Any]) -> list[dict[str, Any]]:
    rows = Rows(record)
    settings = record["settings"]
    found = []
    for label, target in TARGETS:
        for variant in settings["variants"]:
            for load in settings["loads"]:
                for budget in settings["budgets"]:
                    verdict = target(rows, variant, load, budget)
                    if verdict is not None:
                        found.append(
                            {
                                "target": label,
                                "variant": variant,
                                "load": load,
                                "budget": budget,
                                "met": verdict[0],
                                "evidence": verdict[1],
                            }
                        )
    return found


# ---------------------------------------------------------------------------------------------- page


def cell(value: float | None, spec: str) -> str:
    return "–" if value is None else format(value, spec)


def notes(row: dict[str, Any]) -> str:
    if "error" in row:
        return f"**error**: {row['error'][:120]}"
    shown = [
        f"{key} {row[key]}"
        for key in ("stop_reason", "epochs", "conv", "status", "candidate", "num_sweeps", "timeout_ms")
        if row.get(key) is not None
    ]
    if "raw_energy_min" in row:
        shown.append(f"raw {row['raw_energy_min']:g}")
    if "feasible" in row:
        shown.append(f"{'feasible' if row['feasible'] else '**infeasible**'}, value {row['value']:g}")
    return ", ".join(shown)


def detail_table(record: dict[str, Any], rows: list[dict[str, Any]], names: list[str]) -> list[str]:
    lines = [
        "| instance | solver | energy | cut / size / value | ratio | wall (s) | time / sa (default) | notes |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for name in names:
        for row in (r for r in rows if r["instance"] == name):
            shown = next((row[key] for key in ("cut", "size", "value") if key in row), None)
            lines.append(
                f"| {name} | {row['solver']} | {cell(row.get('energy'), 'g')} | {cell(shown, 'g')} | "
                f"{cell(row.get('ratio'), '.4f')} | {cell(row.get('seconds'), '.2f')} | "
                f"{cell(row.get('time_ratio'), '.3g')} | {notes(row)} |"
            )
        if name in PIGNN_PUBLISHED:
            cut = PIGNN_PUBLISHED[name]
            lines.append(
                f"| {name} | {PIGNN_ROW} | – | {cut} | {cut / record['instances'][name]['reference']:.4f} "
                "| – | – | reference, not run |"
            )
    return lines


def summary_table(record: dict[str, Any], rows: list[dict[str, Any]], names: list[str]) -> list[str]:
    solvers_seen = list(dict.fromkeys(r["solver"] for r in rows))
    lines = ["| instance | reference | " + " | ".join(solvers_seen) + " |", "|---|---:|" + "---:|" * len(solvers_seen)]
    for name in names:
        meta = record["instances"][name]
        mine = {r["solver"]: r for r in rows if r["instance"] == name}
        cells = ["error" if "error" in mine.get(s, {}) else cell(mine.get(s, {}).get("ratio"), ".4f") for s in solvers_seen]
        source = "" if meta.get("reference_source") == "best known" else " (best found)"
        lines.append(f"| {name} | {cell(meta.get('reference'), 'g')}{source} | " + " | ".join(cells) + " |")
    return lines


def results_section(record: dict[str, Any], load: str, budget: float, mis: bool) -> list[str]:
    rows = [
        r
        for r in record["rows"]
        if r["section"] == "main"
        and r["load"] == load
        and r["budget"] == budget
        and (record["instances"][r["instance"]]["family"] == "mis") == mis
    ]
    if not rows:
        return []
    names = list(dict.fromkeys(r["instance"] for r in rows))
    title = "Maximum independent set" if mis else "Results"
    what = (
        "set size / optimum"
        if mis
        else "cut / best-known cut (MaxCut), energy / reference energy (the others); 1 is the reference"
    )
    return [
        "",
        f"## {title}, {load}, {budget:g} s",
        "",
        f"Ratios ({what}):",
        "",
        *summary_table(record, rows, names),
        "",
        *detail_table(record, rows, names),
    ]


def targets_section(found: list[dict[str, Any]]) -> list[str]:
    lines = ["## Targets", "", "| target | variant | load | budget (s) | verdict | evidence |", "|---|---|---|---:|---|---|"]
    lines += [
        f"| {v['target']} | {v['variant']} | {v['load']} | {v['budget']:g} | "
        f"{'MET' if v['met'] else '**MISSED**'} | {v['evidence']} |"
        for v in found
    ]
    return lines


def curves_section(record: dict[str, Any], plots: dict[str, Path]) -> list[str]:
    rows = [r for r in record["rows"] if r["section"] == "curve"]
    if not rows:
        return []
    lines = ["", "## Anytime curves (idle)", "", "Each budgeted solver again at every curve budget: ratio (wall seconds)."]
    for name in dict.fromkeys(r["instance"] for r in rows):
        mine = [r for r in rows if r["instance"] == name]
        budgets = sorted({r["budget"] for r in mine})
        lines += [
            "",
            f"### {name}",
            "",
            "| solver | " + " | ".join(f"{b:g} s" for b in budgets) + " |",
            "|---|" + "---:|" * len(budgets),
        ]
        for solver in dict.fromkeys(r["solver"] for r in mine):
            points = {r["budget"]: r for r in mine if r["solver"] == solver}
            lines.append(
                f"| {solver} | "
                + " | ".join(
                    "–"
                    if b not in points
                    else "error"
                    if "error" in points[b]
                    else f"{cell(points[b].get('ratio'), '.4f')} ({points[b]['seconds']:.1f})"
                    for b in budgets
                )
                + " |"
            )
        if name in plots:
            lines += ["", f"![{name}: quality against wall time]({plots[name].name})"]
    return lines


def render(record: dict[str, Any], plots: dict[str, Path]) -> str:
    m, settings = record["machine"], record["settings"]
    references = [
        f"- {name}: {meta['reference_source']}"
        for name, meta in record["instances"].items()
        if meta.get("reference_source") not in (None, "best known")
    ]
    lines = [
        "# GNNSampler quality at equal wall time",
        "",
        "Rendered by `benchmarks/learned_quality.py`; what each solver runs and how is in the script's "
        "docstring. One process, the same seed for every solver, one torch thread; energies are "
        "recomputed on each instance's BQM.",
        "",
        f"Reproduce: `{record['command']}`",
        "",
        f"Machine: {m['usable_cores']} usable cores of {m['cores']}, {m['platform']}, Python {m['python']}, "
        f"torch {m['torch']}, dwave-samplers {m['dwave-samplers']}, qqa {m['qqa'] or 'absent'}; commit "
        f"{m['commit']}{' with uncommitted changes' if m['uncommitted_changes'] else ''}; started "
        f"{m['started']}, load average {', '.join(f'{x:.1f}' for x in m['loadavg_at_start'])}.",
        "",
        "GNN variants (keyword arguments of `GNNSampler().sample`):",
        "",
        *[f"- `{name}`: `{json.dumps(kwargs)}`" for name, kwargs in settings["variants"].items()],
    ]
    if references:
        lines += ["", "No best known value; ratios are to the best any solver found in this run:", "", *references]
    if record["skipped"]:
        lines += ["", "Skipped:", "", *[f"- {reason}" for reason in record["skipped"]]]
    lines += ["", *targets_section(record["targets"])]
    for load in settings["loads"]:
        for budget in settings["budgets"]:
            lines += results_section(record, load, budget, mis=False)
    for load in settings["loads"]:
        for budget in settings["budgets"]:
            lines += results_section(record, load, budget, mis=True)
    return "\n".join(lines + curves_section(record, plots)) + "\n"


def plot_curve(record: dict[str, Any], instance: str, path: Path) -> bool:
    """Best ratio against wall seconds on ``instance``, one line per solver; ``False`` without matplotlib."""
    try:
        import matplotlib
    except ImportError:
        print("matplotlib is not installed: no plot")
        return False
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in record["rows"] if r["section"] == "curve" and r["instance"] == instance and r.get("ratio") is not None]
    meta = record["instances"][instance]
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for solver in dict.fromkeys(r["solver"] for r in rows):
        points = sorted((r["seconds"], r["ratio"]) for r in rows if r["solver"] == solver)
        ax.plot(*zip(*points), marker="o", label=solver)
    ax.set_xscale("log")
    ax.set_xlabel("wall seconds")
    ax.set_ylabel(
        "best cut / best known" if meta["kind"] == "maxcut" and meta["best_known"] else "best energy / best found in the run"
    )
    ax.set_title(f"{instance}: quality against wall time (idle)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


def publish(record: dict[str, Any], json_path: Path | None) -> None:
    """Ratios and verdicts into the record; the JSON, plots and page beside it (none without a path); print the page."""
    annotate(record)
    record["targets"] = verdicts(record)
    plots: dict[str, Path] = {}
    if json_path is not None:
        json_path.write_text(json.dumps(record, indent=1))
        for instance in dict.fromkeys(r["instance"] for r in record["rows"] if r["section"] == "curve"):
            path = json_path.with_name(f"{json_path.stem}_{instance}.png")
            if plot_curve(record, instance, path):
                plots[instance] = path
    page = render(record, plots)
    if json_path is not None:
        json_path.with_suffix(".md").write_text(page)
    print(page)


# -------------------------------------------------------------------------------------- across seeds


def seed_summary(paths: list[Path], variant: str = "gnn") -> str:
    """A page comparing ``variant`` with the better of the two random-start annealers, per instance
    over the runs in ``paths`` (one seed each, e.g. ``--seed K --tag moonshot-sK``): mean values
    (the cut, set size or energy, as in the main tables) and how often the variant was better,
    tied or worse."""
    controls = (SA_MATCHED, ANNEAL_RANDOM)
    found: dict[str, dict[str, dict[int, dict[str, Any]]]] = {}
    kinds: dict[str, str] = {}
    commands = []
    for path in paths:
        record = json.loads(path.read_text())
        commands.append(record["command"])
        kinds.update({name: meta["kind"] for name, meta in record["instances"].items()})
        for row in record["rows"]:
            if row["section"] == "main" and "energy" in row and row["solver"] in (*controls, variant):
                found.setdefault(row["instance"], {}).setdefault(row["solver"], {})[record["settings"]["seed"]] = row
    lines = [
        f"# {variant} against annealing from random starts, over seeds",
        "",
        f"Rendered by `benchmarks/learned_quality.py --summarise` from {len(paths)} runs:",
        "",
        *[f"- `{command}`" for command in commands],
        "",
        "Values are cuts (MaxCut), set sizes (MIS) or energies (the others).",
        "",
        f"| instance | seeds | {' mean | '.join(controls)} mean | {variant} mean | {variant} against the better "
        "control: better / tied / worse |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for name, by in found.items():
        seeds = sorted(set.intersection(*(set(by.get(solver, {})) for solver in (*controls, variant))))
        if not seeds:
            continue
        kind, tally = kinds[name], {1: 0, 0: 0, -1: 0}
        for seed in seeds:
            rivals = [by[solver][seed] for solver in controls]
            best = rivals[0] if compare(kind, rivals[0], rivals[1]) >= 0 else rivals[1]
            tally[compare(kind, by[variant][seed], best)] += 1
        means = [statistics.fmean(objective(kind, by[solver][seed]) for seed in seeds) for solver in (*controls, variant)]
        lines.append(
            f"| {name} | {len(seeds)} | "
            + " | ".join(f"{mean:.2f}" for mean in means)
            + f" | {tally[1]} / {tally[0]} / {tally[-1]} |"
        )
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------------------- main


def machine() -> dict[str, Any]:
    """`budget.machine`, with the versions of the packages compared and the start time."""

    def version(package: str) -> str | None:
        try:
            return metadata.version(package)
        except metadata.PackageNotFoundError:
            return None

    return {
        **machine_facts(),
        "dimod": version("dimod"),
        "dwave-samplers": version("dwave-samplers"),
        "qqa": version("qqa"),
        "started": datetime.datetime.now().isoformat(timespec="seconds"),
    }


def variant(text: str) -> tuple[str, dict[str, Any]]:
    """``NAME=JSON`` to the name and the keyword arguments."""
    name, sep, kwargs = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=JSON, got {text!r}")
    try:
        parsed = json.loads(kwargs)
    except json.JSONDecodeError as error:
        raise argparse.ArgumentTypeError(f"{name}: the keyword arguments are not JSON ({error})") from None
    if not isinstance(parsed, dict):
        raise argparse.ArgumentTypeError(f"{name}: the keyword arguments must be a JSON object, got {kwargs!r}")
    return name.strip(), parsed


def numbers(text: str) -> list[float]:
    return [float(part) for part in text.split(",") if part.strip()]


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], epilog="How each solver is run, the instances and the targets: the module docstring."
    )
    parser.add_argument(
        "--gnn",
        type=variant,
        action="append",
        metavar="NAME=JSON",
        help="a GNNSampler variant: its name and the keyword arguments of sample() as a JSON object, "
        "e.g. --gnn 'gnn={}' --gnn 'signed={\"conv\": \"signed\"}' (repeatable; default: gnn={})",
    )
    parser.add_argument("--budgets", help=f"wall seconds per call, comma-separated (default {FULL['budgets']})")
    parser.add_argument("--instances", help=f"families ({', '.join(FAMILIES)}) or instance names, comma-separated (default all)")
    parser.add_argument(
        "--curve-budgets",
        help="budgets of the anytime curves on G22 and chimera-16, comma-separated; "
        f"empty for none (default {FULL['curve_budgets']})",
    )
    parser.add_argument("--loads", help="idle, loaded or both, comma-separated (default both)")
    parser.add_argument(
        "--processes",
        type=int,
        default=len(os.sched_getaffinity(0)),
        help="busy processes of the loaded half (default: one per usable core)",
    )
    parser.add_argument("--seed", type=int, default=0, help="the seed of every solver call (default 0)")
    parser.add_argument(
        "--solvers",
        help="run only these solvers (their row names, comma-separated; "
        "a variant's polish-off run follows the variant); default all",
    )
    parser.add_argument(
        "--out", type=Path, help="folder of the JSON, page and plots (default docs/benchmarks; none with --quick)"
    )
    parser.add_argument("--tag", help="names the files learned_quality_<tag>.*")
    parser.add_argument(
        "--summarise",
        nargs="+",
        type=Path,
        metavar="JSON",
        help="instead of running: the page comparing gnn with the random-start annealers over "
        "these runs' seeds, written beside the first as learned_quality_seeds.md "
        "(learned_quality_seeds_<tag>.md with --tag)",
    )
    parser.add_argument(
        "--quick", action="store_true", help=f"smoke run: budget {QUICK['budgets']} s, {QUICK['instances']}, idle, no curves"
    )
    add_progress_option(parser)
    args = parser.parse_args()
    fill_defaults(args, QUICK, FULL)
    args.variants = dict(args.gnn or [("gnn", {})])
    if len(args.variants) != len(args.gnn or [None]):
        parser.error("--gnn: every variant needs its own name")
    taken = {SA_DEFAULT, SA_MATCHED, ANNEAL_RANDOM, "tabu (matched)", GREEDY, PIGNN_ROW, *(f"qqa {p}" for p in QQA_PROFILES)}
    if taken & set(args.variants) or any(name.endswith("(polish off)") for name in args.variants):
        parser.error(f"--gnn: a variant name may not be a reference's: {', '.join(sorted(taken))}")
    args.loads = [load.strip() for load in args.loads.split(",") if load.strip()]
    if not args.loads or set(args.loads) - set(LOADS):
        parser.error(f"--loads: choose from {', '.join(LOADS)}")
    args.loads = [load for load in LOADS if load in args.loads]
    try:
        args.budgets, args.curve_budgets = numbers(args.budgets), numbers(args.curve_budgets)
    except ValueError as error:
        parser.error(f"--budgets / --curve-budgets: {error}")
    if not args.budgets or min(args.budgets + args.curve_budgets) <= 0:
        parser.error("budgets must be positive seconds")
    return args


def main() -> None:
    args = parse()
    if args.summarise:
        page = seed_summary(sorted(args.summarise))
        args.summarise[0].with_name(f"learned_quality_seeds{'_' + args.tag if args.tag else ''}.md").write_text(page)
        print(page)
        return
    data = shared_data_dir()
    try:
        chosen = select(catalogue(data), args.instances)
    except ValueError as error:
        raise SystemExit(str(error)) from None
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the clean-up of the load on kill, too
    json_path = None if args.out is None else args.out / f"learned_quality{'_' + args.tag if args.tag else ''}.json"
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
    qqa, qqa_reason = load_qqa()
    every = solvers(args.variants, qqa)
    if args.solvers:
        wanted = {name.strip() for name in args.solvers.split(",") if name.strip()}
        unknown = wanted - {solver.name for solver in every}
        if unknown:
            raise SystemExit(f"--solvers: unknown {sorted(unknown)}; known: {', '.join(s.name for s in every)}")
        every = [solver for solver in every if solver.name in wanted]
        args.variants = {name: kwargs for name, kwargs in args.variants.items() if name in wanted}
    record: dict[str, Any] = {
        "command": shlex.join(["python", *sys.argv]),
        "machine": machine(),
        "settings": {
            "variants": args.variants,
            "budgets": args.budgets,
            "curve_budgets": args.curve_budgets,
            "loads": args.loads,
            "seed": args.seed,
            "reads": READS,
            "processes": args.processes,
            "instances": [spec.name for spec in chosen],
        },
        "skipped": sorted({spec.missing for spec in chosen if spec.missing} | ({qqa_reason} if qqa_reason else set())),
        "instances": {},
        "rows": [],
        "targets": [],
    }
    for reason in record["skipped"]:
        say(f"skipped: {reason}")
    say(f"machine: {json.dumps(record['machine'])}")
    warm_up(every)
    built: dict[str, Instance] = {}
    runnable = [spec for spec in chosen if not spec.missing]
    for load in args.loads:
        with competing_load(args.processes if load == "loaded" else 0):
            say(f"\n== {load}")
            for spec in progress(runnable, args, desc=f"learned quality ({load})", unit="instance"):
                if spec.name not in built:
                    built[spec.name] = spec.build()
                    record["instances"][spec.name] = built[spec.name].describe()
                instance = built[spec.name]
                lineup = for_instance(instance, every, args.variants)
                record["rows"] += run_instance(instance, lineup, load, args.budgets, args.seed, "main")
                if load == "idle" and spec.name in CURVE_INSTANCES and args.curve_budgets:
                    budgeted = [s for s in lineup if s.name != SA_DEFAULT]
                    record["rows"] += run_instance(instance, budgeted, load, args.curve_budgets, args.seed, "curve")
                if json_path is not None:
                    annotate(record)
                    json_path.write_text(json.dumps(record, indent=1))
    publish(record, json_path)


if __name__ == "__main__":
    main()
