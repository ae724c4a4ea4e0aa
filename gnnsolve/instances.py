"""Problem instances for ``gnnsolve compare``: the built-in ones and those read from files.

An :class:`Instance` is a model with what is known about it: the graph problem it states (so
samples can be decoded into a cut, a set or a tour) and a known optimum when there is one.

Built-in instances, generated with fixed seeds so they need no data files:

- MaxCut and maximum independent set on ``networkx.random_regular_graph(3, 100, seed=0)``, the
  family of the PI-GNN paper; its maximum cut (137) and maximum independent set (45) are proven
  with HiGHS.
- TSP on 12 cities with integer coordinates drawn by ``numpy.random.default_rng(0)`` in
  ``[0, 100)²``, Euclidean distances; its optimal tour length is proven by dynamic programming.
- Modularity with ``k = 5`` on ``networkx.planted_partition_graph(5, 20, 0.3, 0.02, seed=0)``:
  five planted communities of 20 nodes.
- k-center with ``k = 5`` (hop distances) on ``networkx.connected_watts_strogatz_graph(100, 4,
  0.1, seed=0)``.
- Multicut on an Erdős–Rényi graph ``networkx.gnp_random_graph(100, 0.3, seed=0)`` with weights
  uniform in ``[-1, 1]`` from ``numpy.random.default_rng(0)``, in edge order.

Files: ``bqm`` reads a dimod model (:func:`gnnsolve.io.read_bqm`); ``maxcut`` and ``mis`` read a
graph by its suffix (``.gml``, DIMACS ``.clq``/``.mis``/``.col``/``.dimacs``, ``.edgelist``, else
the G-set rudy format); ``tsp`` reads a TSPLIB95 file; ``modularity`` and ``kcenter`` read a
graph as ``maxcut`` does and need ``k``; ``multicut`` reads a CP-Lib file (a ``.gml`` graph with
``weight`` attributes otherwise), its weights :math:`w_{ij}` the attraction of ``i`` and ``j``. Where the benchmark data names the
instance (G-set best known cuts, the d-regular graphs' optima, BHOSLIB's forced independent
sets, TSPLIB optimal tour lengths, CP-Lib's proven optima as a least cut cost) and its size
matches, that value becomes the known optimum.

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
from typing import TYPE_CHECKING, Literal, TypedDict

import dimod
import networkx as nx
import numpy as np

from gnnsolve.errors import FileFormatError, InvalidModelError
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
    "builtin_signed_graph",
    "BUILTIN_K",
    "BUILTIN_MAXCUT_OPTIMUM",
    "BUILTIN_MIS_OPTIMUM",
    "BUILTIN_TSP_OPTIMUM",
]

ProblemKind = Literal["bqm", "maxcut", "mis", "tsp", "modularity", "kcenter", "multicut"]
PROBLEM_KINDS: tuple[str, ...] = ("bqm", "maxcut", "mis", "tsp", "modularity", "kcenter", "multicut")

BUILTIN_K = 5
"""``k`` of the built-in modularity and k-center instances (five planted communities)."""

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
    bqm: dimod.BinaryQuadraticModel | None
    """The model; ``None`` for problems whose samplers take the problem itself or its CQM
    (modularity, k-center, multicut): their BQM is built only for a sampler that needs it."""
    problem: GraphProblem | None = None
    optimum: float | None = None


def builtin_regular_graph() -> nx.Graph:
    """The built-in graph: ``networkx.random_regular_graph(3, 100, seed=0)``."""
    return nx.random_regular_graph(3, 100, seed=0)


def builtin_tsp_coordinates() -> np.ndarray:
    """The built-in TSP cities: 12 integer points in ``[0, 100)²`` from ``numpy.random.default_rng(0)``."""
    return np.random.default_rng(0).integers(0, 100, size=(12, 2)).astype(float)


def builtin_instance(kind: ProblemKind = "maxcut", *, k: int | None = None, max_cities: int | None = None) -> Instance:
    """The built-in instance of a problem kind (``"bqm"`` means the MaxCut one).

    Args:
        kind: one of :data:`PROBLEM_KINDS`.
        k: communities or facilities for ``modularity`` and ``kcenter`` (default :data:`BUILTIN_K`).
        max_cities: the TSP model's city limit (the default of :class:`~gnnsolve.adapters.graphs.TSP`).
    """
    from gnnsolve.adapters.graphs import TSP, MaxCut, MaxIndependentSet

    regular = "random 3-regular graph, 100 nodes, networkx seed 0 (built-in"
    if kind in ("bqm", "maxcut"):
        problem: GraphProblem = MaxCut(builtin_regular_graph())
        return Instance(
            f"MaxCut on a {regular}; maximum cut {BUILTIN_MAXCUT_OPTIMUM})", problem.bqm, problem, BUILTIN_MAXCUT_OPTIMUM
        )
    if kind == "mis":
        problem = MaxIndependentSet(builtin_regular_graph())
        return Instance(
            f"maximum independent set on a {regular}; maximum {BUILTIN_MIS_OPTIMUM})", problem.bqm, problem, BUILTIN_MIS_OPTIMUM
        )
    if kind == "tsp":
        problem = TSP.from_coordinates(builtin_tsp_coordinates(), **_city_limit(max_cities))
        return Instance(
            f"TSP on 12 random cities, numpy seed 0 (built-in; optimal tour {BUILTIN_TSP_OPTIMUM:.4f})",
            problem.bqm,
            problem,
            BUILTIN_TSP_OPTIMUM,
        )
    if kind in ("modularity", "kcenter"):
        graph = (
            nx.planted_partition_graph(5, 20, 0.3, 0.02, seed=0)
            if kind == "modularity"
            else nx.connected_watts_strogatz_graph(100, 4, 0.1, seed=0)
        )
        origin = (
            "planted partition graph, 5 x 20 nodes, p_in 0.3, p_out 0.02"
            if kind == "modularity"
            else "connected Watts-Strogatz graph, 100 nodes, 4 neighbours, p 0.1"
        )
        return _clustering_instance(graph, kind, BUILTIN_K if k is None else k, f"a {origin}, networkx seed 0 (built-in)")
    if kind == "multicut":
        from gnnsolve.adapters.multicut import Multicut

        graph = builtin_signed_graph()
        return Instance(
            "multicut on an Erdős–Rényi graph, 100 nodes, p 0.3, weights U[-1, 1], seed 0 (built-in)",
            None,
            Multicut(graph, weight="weight"),
        )
    raise ValueError(f"unknown problem kind {kind!r}; expected one of {', '.join(PROBLEM_KINDS)}")


def builtin_signed_graph() -> nx.Graph:
    """The built-in multicut graph: ``gnp_random_graph(100, 0.3, seed=0)``, ``weight`` uniform in
    ``[-1, 1]`` from ``numpy.random.default_rng(0)`` in edge order."""
    graph = nx.gnp_random_graph(100, 0.3, seed=0)
    weights = np.random.default_rng(0).uniform(-1.0, 1.0, graph.number_of_edges())
    nx.set_edge_attributes(graph, dict(zip(graph.edges, weights.tolist())), "weight")
    return graph


def read_instance(path: str | os.PathLike, kind: ProblemKind, *, k: int | None = None, max_cities: int | None = None) -> Instance:
    """Read a file as an instance of ``kind``.

    Args:
        path: the file.
        kind: one of :data:`PROBLEM_KINDS`.
        k: communities or facilities; required for ``modularity`` and ``kcenter``.
        max_cities: the TSP model's city limit (the default of :class:`~gnnsolve.adapters.graphs.TSP`).

    Raises:
        FileFormatError: the file is malformed or cannot be read (path and line named).
        InvalidModelError: the file reads but does not state a valid problem (e.g. a TSP with
            fewer than 3 cities, or ``k`` missing or out of range).
        ModelTooLargeError: the problem's model is too large (e.g. a TSP beyond ``max_cities``).
    """
    path = Path(path)
    try:
        if kind == "bqm":
            bqm = read_bqm(path)
            return Instance(
                f"{path} ({bqm.vartype.name}, {bqm.num_variables} variables, {bqm.num_interactions} interactions)", bqm
            )
        if kind in ("maxcut", "mis"):
            return _graph_instance(path, kind)
        if kind == "tsp":
            return _tsp_instance(path, max_cities)
        if kind in ("modularity", "kcenter"):
            if k is None:
                raise InvalidModelError(
                    f"{kind} needs k, the number of {'communities' if kind == 'modularity' else 'facilities'} "
                    "(--k on the command line)"
                )
            return _clustering_instance(_read_graph(path), kind, k, str(path))
        if kind == "multicut":
            return _multicut_instance(path)
    except OSError as err:
        raise FileFormatError(path, f"cannot read the file ({err.strerror or err})") from None
    raise ValueError(f"unknown problem kind {kind!r}; expected one of {', '.join(PROBLEM_KINDS)}")


class _CityLimit(TypedDict, total=False):
    """The TSP keyword ``max_cities``, where one is given."""

    max_cities: int


def _city_limit(max_cities: int | None) -> _CityLimit:
    return {} if max_cities is None else {"max_cities": max_cities}


def _clustering_instance(graph: nx.Graph, kind: ProblemKind, k: int, origin: str) -> Instance:
    from gnnsolve.adapters.clustering import Modularity
    from gnnsolve.adapters.kcenter import KCenter

    problem: GraphProblem = Modularity(graph, k=k) if kind == "modularity" else KCenter(graph, k=k)
    label = f"modularity, at most {k} communities" if kind == "modularity" else f"k-center, {k} facilities"
    size = f"{graph.number_of_nodes()} nodes, {graph.number_of_edges()} edges"
    return Instance(f"{label}, on {origin} ({size})", None, problem)


def _multicut_instance(path: Path) -> Instance:
    """A CP-Lib file (or a weighted GML graph) as a multicut; CP-Lib's proven optimum, the largest
    weight inside clusters, becomes the least cut cost: the total weight less it."""
    from gnnsolve.adapters import datasets
    from gnnsolve.adapters.multicut import Multicut

    if path.suffix.lower() == ".gml":
        return Instance(f"multicut on {path}", None, Multicut(datasets.read_gml(path), weight="weight"))
    weights = datasets.read_cplib(path)
    problem = Multicut(nx.from_numpy_array(weights), weight="weight")
    optimum, known = None, ""
    try:
        entry = next((e for e in datasets.cplib_catalogue().values() if Path(e.file).name == path.name), None)
    except FileNotFoundError:
        entry = None
    if entry is not None and entry.n == len(weights) and entry.optimal_value is not None:
        optimum = float(np.triu(weights, 1).sum() - entry.optimal_value)
        known = f"; least cut cost {optimum:g}, from CP-Lib's optimum {entry.optimal_value}"
    return Instance(f"multicut on CP-Lib {path} ({len(weights)} nodes{known})", None, problem, optimum)


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


def _tsp_instance(path: Path, max_cities: int | None) -> Instance:
    from gnnsolve.adapters import datasets
    from gnnsolve.adapters.graphs import TSP

    tsplib = datasets.read_tsplib(path)
    problem = TSP.from_tsplib(tsplib, **_city_limit(max_cities))
    try:
        lengths = datasets.tsplib_optimal_lengths()
        optimum = lengths.get(tsplib.name.removesuffix(".tsp"), lengths.get(path.stem))
    except FileNotFoundError:
        optimum = None
    described = f"TSP {tsplib.name} from {path} ({tsplib.dimension} cities, {tsplib.edge_weight_type}"
    described += f"; optimal tour {optimum})" if optimum is not None else ")"
    return Instance(described, problem.bqm, problem, optimum)
