"""Problem instances for ``gnnsolve compare``: the built-in ones and those read from files.

An :class:`Instance` is a model with what is known about it: the graph problem it states (so
samples can be decoded into a cut, a set or a tour) and a known optimum when there is one.

Built-in instances, generated with fixed seeds so they need no data files:

- MaxCut and maximum independent set on ``networkx.random_regular_graph(3, 100, seed=0)``, the
  family of the PI-GNN paper; its maximum cut (137) and maximum independent set (45) are proven
  with HiGHS.
- TSP on 12 cities with integer coordinates drawn by ``numpy.random.default_rng(0)`` in
  ``[0, 100)²``, Euclidean distances; its optimal tour length is proven by dynamic programming.

Files: ``bqm`` reads a dimod model (:func:`gnnsolve.io.read_bqm`); ``maxcut`` and ``mis`` read a
graph by its suffix (``.gml``, DIMACS ``.clq``/``.mis``/``.col``/``.dimacs``, ``.edgelist``, else
the G-set rudy format); ``tsp`` reads a TSPLIB95 file. Where the benchmark data names the
instance (G-set best known cuts, the d-regular graphs' optima, BHOSLIB's forced independent
sets, TSPLIB optimal tour lengths) and its size matches, that value becomes the known optimum.

Example:
    >>> from gnnsolve.instances import builtin_instance
    >>> instance = builtin_instance("mis")
    >>> instance.optimum, instance.bqm.num_variables
    (45, 100)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import dimod
import networkx as nx
import numpy as np

from gnnsolve.errors import FileFormatError
from gnnsolve.io import read_bqm

if TYPE_CHECKING:  # the graph problems and readers load on use, so `gnnsolve --help` stays quick
    from gnnsolve.adapters.problem import GraphProblem

__all__ = [
    "PROBLEM_KINDS",
    "Instance",
    "builtin_instance",
    "builtin_regular_graph",
    "builtin_tsp_coordinates",
    "read_instance",
    "BUILTIN_MAXCUT_OPTIMUM",
    "BUILTIN_MIS_OPTIMUM",
    "BUILTIN_TSP_OPTIMUM",
]

ProblemKind = Literal["bqm", "maxcut", "mis", "tsp"]
PROBLEM_KINDS: tuple[str, ...] = ("bqm", "maxcut", "mis", "tsp")

BUILTIN_MAXCUT_OPTIMUM = 137
"""Maximum cut of :func:`builtin_regular_graph`, proven optimal with HiGHS."""

BUILTIN_MIS_OPTIMUM = 45
"""Maximum independent set size of :func:`builtin_regular_graph`, proven optimal with HiGHS."""

BUILTIN_TSP_OPTIMUM = 346.4254224940199
"""Optimal tour length of :func:`builtin_tsp_coordinates`, proven by Held–Karp dynamic programming."""


@dataclass
class Instance:
    """A model to compare samplers on, and what is known about it."""

    description: str
    bqm: dimod.BinaryQuadraticModel
    problem: GraphProblem | None = None
    optimum: float | None = None


def builtin_regular_graph() -> nx.Graph:
    """The built-in graph: ``networkx.random_regular_graph(3, 100, seed=0)``."""
    return nx.random_regular_graph(3, 100, seed=0)


def builtin_tsp_coordinates() -> np.ndarray:
    """The built-in TSP cities: 12 integer points in ``[0, 100)²`` from ``numpy.random.default_rng(0)``."""
    return np.random.default_rng(0).integers(0, 100, size=(12, 2)).astype(float)


def builtin_instance(kind: ProblemKind = "maxcut") -> Instance:
    """The built-in instance of a problem kind (``"bqm"`` means the MaxCut one)."""
    from gnnsolve.adapters.graphs import TSP, MaxCut, MaxIndependentSet

    regular = "random 3-regular graph, 100 nodes, networkx seed 0 (built-in"
    if kind in ("bqm", "maxcut"):
        problem = MaxCut(builtin_regular_graph())
        return Instance(f"MaxCut on a {regular}; maximum cut {BUILTIN_MAXCUT_OPTIMUM})", problem.bqm, problem, BUILTIN_MAXCUT_OPTIMUM)
    if kind == "mis":
        problem = MaxIndependentSet(builtin_regular_graph())
        return Instance(
            f"maximum independent set on a {regular}; maximum {BUILTIN_MIS_OPTIMUM})", problem.bqm, problem, BUILTIN_MIS_OPTIMUM
        )
    if kind == "tsp":
        problem = TSP.from_coordinates(builtin_tsp_coordinates())
        return Instance(
            f"TSP on 12 random cities, numpy seed 0 (built-in; optimal tour {BUILTIN_TSP_OPTIMUM:.4f})",
            problem.bqm, problem, BUILTIN_TSP_OPTIMUM,
        )
    raise ValueError(f"unknown problem kind {kind!r}; expected one of {', '.join(PROBLEM_KINDS)}")


def read_instance(path: str | os.PathLike, kind: ProblemKind) -> Instance:
    """Read a file as an instance of ``kind``.

    Raises:
        FileFormatError: the file is malformed or cannot be read (path and line named).
        InvalidModelError: the file reads but does not state a valid problem (e.g. a TSP with
            fewer than 3 cities).
        ModelTooLargeError: the problem's model is too large (e.g. a TSP beyond ``max_cities``).
    """
    path = Path(path)
    try:
        if kind == "bqm":
            bqm = read_bqm(path)
            return Instance(f"{path} ({bqm.vartype.name}, {bqm.num_variables} variables, {bqm.num_interactions} interactions)", bqm)
        if kind in ("maxcut", "mis"):
            return _graph_instance(path, kind)
        if kind == "tsp":
            return _tsp_instance(path)
    except OSError as err:
        raise FileFormatError(path, f"cannot read the file ({err.strerror or err})") from None
    raise ValueError(f"unknown problem kind {kind!r}; expected one of {', '.join(PROBLEM_KINDS)}")


def _read_graph(path: Path) -> nx.Graph:
    """A graph file read by its suffix (G-set's rudy format otherwise)."""
    from gnnsolve.adapters import datasets

    readers = {
        ".gml": datasets.read_gml,
        ".clq": datasets.read_dimacs,
        ".mis": datasets.read_dimacs,
        ".col": datasets.read_dimacs,
        ".dimacs": datasets.read_dimacs,
        ".edgelist": datasets.read_edgelist,
    }
    return readers.get(path.suffix.lower(), datasets.read_gset)(path)


def _graph_instance(path: Path, kind: ProblemKind) -> Instance:
    from gnnsolve.adapters.graphs import MaxCut, MaxIndependentSet

    graph = _read_graph(path)
    size = f"{graph.number_of_nodes()} nodes, {graph.number_of_edges()} edges"
    problem: GraphProblem = MaxCut(graph) if kind == "maxcut" else MaxIndependentSet(graph)
    label = "MaxCut" if kind == "maxcut" else "maximum independent set"
    known = _known_optimum(path, graph, kind)
    described = f"{label} on {path} ({size}" + (f"; {known[1]} {known[0]})" if known is not None else ")")
    return Instance(described, problem.bqm, problem, None if known is None else known[0])


def _known_optimum(path: Path, graph: nx.Graph, kind: ProblemKind) -> tuple[int, str] | None:
    """The optimum (or best known value) the benchmark data records for a file of this name and size."""
    from gnnsolve.adapters import datasets

    size = (graph.number_of_nodes(), graph.number_of_edges())
    try:
        if kind == "maxcut":
            gset = datasets.gset_catalogue().get(path.stem.upper())
            if gset is not None and (gset.nodes, gset.edges) == size:
                return gset.best_known, "best known cut"
        regular = datasets.pignn_dregular_catalogue().get(path.stem)
        if regular is not None and (regular.n, regular.edges) == size:
            return (regular.maxcut, "maximum cut") if kind == "maxcut" else (regular.mis, "maximum independent set")
        if kind == "mis":
            frb = datasets.bhoslib_catalogue().get(path.stem)
            if frb is not None and frb.nodes == size[0]:
                return frb.mis, "maximum independent set"
    except FileNotFoundError:
        return None
    return None


def _tsp_instance(path: Path) -> Instance:
    from gnnsolve.adapters import datasets
    from gnnsolve.adapters.graphs import TSP

    tsplib = datasets.read_tsplib(path)
    problem = TSP.from_tsplib(tsplib)
    try:
        lengths = datasets.tsplib_optimal_lengths()
        optimum = lengths.get(tsplib.name.removesuffix(".tsp"), lengths.get(path.stem))
    except FileNotFoundError:
        optimum = None
    described = f"TSP {tsplib.name} from {path} ({tsplib.dimension} cities, {tsplib.edge_weight_type}"
    described += f"; optimal tour {optimum})" if optimum is not None else ")"
    return Instance(described, problem.bqm, problem, optimum)
