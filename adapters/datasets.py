"""Readers for benchmark instance files, and where the shared benchmark data lives.

Each reader numbers nodes from 0 (1-based files are shifted down by one) and raises
:class:`~gnnsolve.errors.FileFormatError`, naming the file and, where there is one, the line,
for every deviation from its format; CRLF line ends, trailing spaces and blank lines are accepted.
A directory or a 0-byte file is refused the same way, and no size a header declares is allocated
before the file bears it out: a count of edges, cities or weights must match the lines that
follow, and a graph may declare only so many nodes its edges never name
(:data:`ISOLATED_NODES_ALLOWED`).

- G-set (the rudy format of Helmberg and Rendl's MaxCut graphs): line 1 holds ``n m``, then
  ``m`` lines ``i j w`` with 1-based node indices and integer weights: :func:`read_gset`.
- TSPLIB95 instances and tours: :func:`read_tsplib`, :func:`read_tour` and :func:`tour_length`
  of :mod:`gnnsolve.adapters.tsplib`, re-exported here.
- DIMACS graphs such as BHOSLIB's (``c`` comment lines, ``p edge n m``, then ``e u v`` with
  1-based nodes): :func:`read_dimacs`.
- CP-Lib clique-partitioning instances (``n``, then the strict upper triangle of the integer
  weight matrix, row by row): :func:`read_cplib`.
- KONECT temporal networks (a ``%`` header, rows ``u v weight time``) and the DBLP temporal
  co-authorship graph (rows ``u v t``): :func:`read_konect`, :func:`read_dblp_temporal`, and
  :func:`static_graph` for the graph of their distinct pairs.
- GML graphs with their node attributes: :func:`read_gml`; edge lists ``u v`` with ``#``
  comments: :func:`read_edgelist`.

The ``*_catalogue`` functions list the instances of the benchmark data with their known optima.

Example:
    >>> import pathlib, tempfile
    >>> from gnnsolve.adapters.datasets import read_dimacs, read_gset
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "triangle.txt").write_text("3 3\\n1 2 1\\n2 3 1\\n1 3 -1\\n")
    >>> G = read_gset(folder / "triangle.txt")
    >>> G.number_of_nodes(), G.number_of_edges(), G[0][2]["weight"]
    (3, 3, -1)
    >>> _ = (folder / "path.col").write_text("c a path and an isolated node\\np edge 4 2\\ne 1 2\\ne 2 3\\n")
    >>> H = read_dimacs(folder / "path.col")
    >>> sorted(H.nodes), sorted(H.edges)
    ([0, 1, 2, 3], [(0, 1), (1, 2)])
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Collection, NamedTuple, Sequence, TypeVar

import networkx as nx
import numpy as np

from gnnsolve.adapters._text import numbered_lines
from gnnsolve.adapters.dynamic import distinct_edges, edge_snapshots, moving_city_snapshots, moving_city_tsp_snapshots
from gnnsolve.adapters.tsplib import TSPLIBInstance, read_tour, read_tsplib, tour_length
from gnnsolve.errors import FileFormatError
from gnnsolve.io import file_bytes

__all__ = [
    "DATA_ENV_VAR",
    "GsetInstance",
    "shared_data_dir",
    "read_gset",
    "gset_catalogue",
    "load_gset_best_known",
    "TSPLIBInstance",
    "read_tsplib",
    "read_tour",
    "tour_length",
    "tsplib_optimal_lengths",
    "read_dimacs",
    "BhoslibInstance",
    "bhoslib_catalogue",
    "read_cplib",
    "CplibInstance",
    "cplib_catalogue",
    "TemporalEdges",
    "read_konect",
    "read_dblp_temporal",
    "static_graph",
    "read_gml",
    "read_edgelist",
    "ISOLATED_NODES_ALLOWED",
    "RegularGraphInstance",
    "pignn_dregular_catalogue",
    "distinct_edges",
    "edge_snapshots",
    "moving_city_snapshots",
    "moving_city_tsp_snapshots",
    "PlanetoidData",
    "read_planetoid",
]

DATA_ENV_VAR = "GNNSOLVE_DATA"
"""Environment variable naming the benchmark data folder, read before the default location."""

_PROJECT_ROOT = Path(__file__).resolve().parent.parent

_T = TypeVar("_T")


def shared_data_dir() -> Path | None:
    """The benchmark data folder, or ``None`` if it is absent.

    ``$GNNSOLVE_DATA`` when set, else ``shared/data`` beside the project root
    (``../shared/data`` seen from the repository).
    """
    configured = os.environ.get(DATA_ENV_VAR)
    folder = Path(configured).expanduser() if configured else _PROJECT_ROOT.parent / "shared" / "data"
    return folder if folder.is_dir() else None


def _data_folder(data_dir: str | os.PathLike | None) -> Path:
    folder = Path(data_dir) if data_dir is not None else shared_data_dir()
    if folder is None:
        raise FileNotFoundError(
            f"benchmark data not found: set {DATA_ENV_VAR} or place it at {_PROJECT_ROOT.parent / 'shared' / 'data'}"
        )
    return folder


def _fields(path: Path, line_number: int, line: str, kinds: Sequence[Callable[[str], Any]], what: str) -> list:
    """The whitespace-separated tokens of ``line`` converted by ``kinds``, one kind per token."""
    tokens = line.split()
    if len(tokens) == len(kinds):
        try:
            return [kind(token) for kind, token in zip(kinds, tokens)]
        except ValueError:
            pass
    raise FileFormatError(path, f"expected {what}, found {line.strip()!r}", line_number)


def _finite(token: str) -> float:
    value = float(token)
    if not math.isfinite(value):
        raise ValueError(f"not a finite number: {token!r}")
    return value


def _one_of(*words: str) -> Callable[[str], str]:
    """A token conversion that accepts only ``words``."""

    def word(token: str) -> str:
        if token not in words:
            raise ValueError(token)
        return token

    return word


def _check_node(path: Path, line_number: int, node: int, first: int, last: float = math.inf) -> None:
    if not first <= node <= last:
        where = f"outside {first}..{last}" if last < math.inf else f"below {first}"
        raise FileFormatError(path, f"node index {node} is {where}", line_number)


# ---------------------------------------------------------------- G-set


def read_gset(path: str | os.PathLike) -> nx.Graph:
    """Read a G-set (rudy) file into an undirected graph with nodes ``0..n-1``.

    Args:
        path: the file; CRLF line ends, trailing spaces and blank lines are accepted.

    Returns:
        A :class:`networkx.Graph` with all ``n`` nodes and ``m`` edges, each with an integer
        ``"weight"``.

    Raises:
        FileFormatError: the header or an edge line is malformed, an index is outside ``1..n``,
            an edge repeats, or the number of edge lines differs from ``m``.
        OSError: the file cannot be opened.
    """
    path = Path(path)
    numbered = numbered_lines(path)
    if not numbered:
        raise FileFormatError(path, "the file is empty; expected a header line 'n m'")
    header_line, header = numbered[0]
    n, m = _fields(path, header_line, header, (int, int), "the header 'n m' (two integers)")
    if n < 0 or m < 0:
        raise FileFormatError(path, f"the header declares n={n}, m={m}; both must be non-negative", header_line)
    edges: dict[tuple[int, int], int] = {}
    for count, (number, line) in enumerate(numbered[1:], start=1):
        if count > m:
            raise FileFormatError(path, f"more edge lines than the m={m} declared on line {header_line}", number)
        i, j, weight = _fields(path, number, line, (int, int, int), "an edge 'i j w' (three integers)")
        for index in (i, j):
            _check_node(path, number, index, 1, n)
        if (i, j) in edges or (j, i) in edges:
            raise FileFormatError(path, f"edge ({i}, {j}) appears twice", number)
        edges[i, j] = weight
    if len(edges) != m:
        raise FileFormatError(path, f"the header declares m={m} edges but the file has {len(edges)}", header_line)
    graph = _declared_graph(path, header_line, n, edges)
    graph.add_edges_from((i - 1, j - 1, {"weight": weight}) for (i, j), weight in edges.items())
    return graph


ISOLATED_NODES_ALLOWED = 100_000
"""Isolated nodes a graph file may declare beyond those its edges name, when it names fewer."""


def _declared_graph(path: Path, header_line: int, n: int, edges: Collection[tuple[int, int]]) -> nx.Graph:
    """The graph of the ``n`` nodes a header declares (no edges yet), once the file's edges bear
    the number out (:func:`_check_declared_nodes`)."""
    _check_declared_nodes(path, header_line, n, edges)
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    return graph


def _check_declared_nodes(path: Path, header_line: int, n: int, edges: Collection[tuple[int, int]]) -> None:
    """Refuse a header that declares far more nodes than the file's edges name.

    Nodes no edge names are isolated; a file may declare as many of them as the nodes its edges
    name, or :data:`ISOLATED_NODES_ALLOWED`, whichever is more. Beyond that the header, not the
    graph, is taken to be wrong, and nothing is allocated for it.
    """
    named = len({node for edge in edges for node in edge})
    if n - named > max(named, ISOLATED_NODES_ALLOWED):
        raise FileFormatError(
            path,
            f"the header declares n={n} nodes but the edges name only {named}; a graph file may declare at most "
            f"max({named}, {ISOLATED_NODES_ALLOWED}) isolated nodes",
            header_line,
        )


class GsetInstance(NamedTuple):
    """One row of ``gset/best_known.csv``: the best cut value reported for the instance."""

    name: str
    file: str
    nodes: int
    edges: int
    best_known: int


def _csv_records(table: Path, columns: Collection[str], record: Callable[[dict[str, str]], _T]) -> list[_T]:
    """One ``record(row)`` per row of the CSV file ``table``, which needs ``columns``."""
    with open(table, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = set(columns) - set(reader.fieldnames or ())
        if missing:
            raise FileFormatError(table, f"missing columns {sorted(missing)}", 1)
        records = []
        for row in reader:
            try:
                records.append(record(row))
            except ValueError as err:
                raise FileFormatError(table, f"not an integer: {err}", reader.line_num) from None
    return records


def gset_catalogue(data_dir: str | os.PathLike | None = None) -> dict[str, GsetInstance]:
    """The G-set instances of the benchmark data by name (``"G1"`` to ``"G22"``).

    Args:
        data_dir: the benchmark data folder; :func:`shared_data_dir` when ``None``.

    Raises:
        FileNotFoundError: the benchmark data cannot be found.
        FileFormatError: ``best_known.csv`` lacks a column it needs or a value is not an integer.
    """
    table = _data_folder(data_dir) / "gset" / "best_known.csv"
    records = _csv_records(
        table,
        ("instance", "file", "nodes", "edges", "recommended_best_known"),
        lambda row: GsetInstance(
            row["instance"], row["file"], int(row["nodes"]), int(row["edges"]), int(row["recommended_best_known"])
        ),
    )
    return {instance.name: instance for instance in records}


def load_gset_best_known(name: str, data_dir: str | os.PathLike | None = None) -> int:
    """The best known cut value of the G-set instance ``name`` (``"G1"`` or ``"G1.txt"``).

    Raises:
        ValueError: ``name`` is not a G-set instance of the benchmark data.
        FileNotFoundError: the benchmark data cannot be found.
    """
    catalogue = gset_catalogue(data_dir)
    key = Path(name).stem.upper()
    if key not in catalogue:
        raise ValueError(f"unknown G-set instance {name!r}; known: {', '.join(catalogue)}")
    return catalogue[key].best_known


# ---------------------------------------------------------------- TSPLIB


def tsplib_optimal_lengths(data_dir: str | os.PathLike | None = None) -> dict[str, int]:
    """The optimal tour lengths of ``tsplib/optimal_lengths.txt`` (lines ``name : length``).

    Raises:
        FileNotFoundError: the benchmark data cannot be found.
        FileFormatError: a line is not ``name : length`` with an integer length.
    """
    table = _data_folder(data_dir) / "tsplib" / "optimal_lengths.txt"
    lengths = {}
    for number, line in numbered_lines(table):
        match = re.fullmatch(r"(\S+)\s*:\s*(\d+)", line)
        if match is None:
            raise FileFormatError(table, f"expected 'name : length', found {line!r}", number)
        lengths[match[1]] = int(match[2])
    return lengths


# ---------------------------------------------------------------- DIMACS and BHOSLIB


def read_dimacs(path: str | os.PathLike) -> nx.Graph:
    """Read a DIMACS graph (``p edge n m`` or ``p col n m``) into a graph with nodes ``0..n-1``.

    Isolated nodes are kept. An edge listed twice (some DIMACS files list both directions)
    counts towards ``m`` and appears once in the graph; the BHOSLIB files repeat none.

    Raises:
        FileFormatError: the first line after the comments is not ``p edge n m`` (or
            ``p col n m``), a later one is not ``e u v``, an edge is a self-loop or names a node
            outside ``1..n``, or the number of edge lines differs from ``m``.
        OSError: the file cannot be opened.
    """
    path = Path(path)
    lines = [(number, line) for number, line in numbered_lines(path) if line.split()[0] != "c"]
    if not lines:
        raise FileFormatError(path, "missing the problem line 'p edge n m'")
    problem_line, problem = lines[0]
    _, _, n, m = _fields(
        path, problem_line, problem, (_one_of("p"), _one_of("edge", "col"), int, int), "the problem line 'p edge n m'"
    )
    if n < 0 or m < 0:
        raise FileFormatError(path, f"the problem line declares n={n}, m={m}; both must be non-negative", problem_line)
    edges = []
    for number, line in lines[1:]:
        _, u, v = _fields(path, number, line, (_one_of("e"), int, int), "an edge 'e u v'")
        for node in (u, v):
            _check_node(path, number, node, 1, n)
        if u == v:
            raise FileFormatError(path, f"edge ({u}, {v}) is a self-loop", number)
        edges.append((u, v))
    if len(edges) != m:
        raise FileFormatError(path, f"the problem line declares m={m} edges but the file has {len(edges)}", problem_line)
    graph = _declared_graph(path, problem_line, n, edges)
    graph.add_edges_from((u - 1, v - 1) for u, v in edges)
    return graph


class BhoslibInstance(NamedTuple):
    """A BHOSLIB instance ``frbK-C-i`` of Xu's model RB: ``K`` cliques of ``C`` nodes plus random
    edges between them, with a hidden independent set of one node per clique."""

    name: str
    file: str
    """The DIMACS graph whose maximum independent set has ``mis`` nodes (``.mis``)."""
    nodes: int
    mis: int
    """The independence number ``K``: the hidden set reaches it, the ``K`` cliques bound it."""
    complement_file: str | None
    """The complement graph (``.clq``), whose maximum clique has ``mis`` nodes, if present."""


def bhoslib_catalogue(data_dir: str | os.PathLike | None = None) -> dict[str, BhoslibInstance]:
    """The BHOSLIB instances of the benchmark data by name (``"frb30-15-1"``, ...).

    Raises:
        FileNotFoundError: the benchmark data cannot be found.
    """
    folder = _data_folder(data_dir) / "bhoslib"
    catalogue = {}
    for path in sorted(folder.glob("frb*.mis")):
        match = re.fullmatch(r"frb(\d+)-(\d+)-\d+", path.stem)
        if match:
            cliques, clique_size = int(match[1]), int(match[2])
            complement = path.with_suffix(".clq")
            catalogue[path.stem] = BhoslibInstance(
                path.stem, path.name, cliques * clique_size, cliques, complement.name if complement.is_file() else None
            )
    return catalogue


# ---------------------------------------------------------------- CP-Lib


def read_cplib(path: str | os.PathLike) -> np.ndarray:
    """Read a CP-Lib instance into its symmetric ``int64`` weight matrix with a zero diagonal.

    The file holds ``n`` and then the ``n(n-1)/2`` weights ``w_ij``, ``i < j``, row by row,
    separated by any whitespace. ``networkx.from_numpy_array(W)`` gives the signed graph of the
    nonzero weights.

    Raises:
        FileFormatError: a token is not an integer, ``n < 1``, or there are too few or too many
            weights.
        OSError: the file cannot be opened.
    """
    path = Path(path)
    tokens = [(number, token) for number, line in numbered_lines(path) for token in line.split()]
    if not tokens:
        raise FileFormatError(path, "the file is empty; expected the number of nodes n")
    header_line, header = tokens[0]
    (n,) = _fields(path, header_line, header, (int,), "the number of nodes n")
    if n < 1:
        raise FileFormatError(path, f"the number of nodes must be positive, found {n}", header_line)
    weights = tokens[1:]
    needed = n * (n - 1) // 2
    if len(weights) < needed:
        raise FileFormatError(path, f"n={n} needs {needed} weights but the file has {len(weights)}", header_line)
    if len(weights) > needed:
        raise FileFormatError(path, f"more than the {needed} weights that n={n} needs", weights[needed][0])
    values = []
    for number, token in weights:
        try:
            values.append(int(token))
        except ValueError:
            raise FileFormatError(path, f"expected an integer weight, found {token!r}", number) from None
    rows, cols = np.triu_indices(n, k=1)
    matrix = np.zeros((n, n), dtype=np.int64)
    matrix[rows, cols] = values
    matrix[cols, rows] = values
    return matrix


class CplibInstance(NamedTuple):
    """One row of ``cplib/cplib_index.csv``."""

    family: str
    name: str
    file: str
    """Relative to the ``cplib`` folder."""
    n: int
    nonzero_weights: int
    """The number of nonzero ``w_ij``, ``i < j``."""
    optimal_value: int | None
    """The proven maximum of the same-cluster weight, or ``None`` where the index has none."""


def cplib_catalogue(data_dir: str | os.PathLike | None = None) -> dict[str, CplibInstance]:
    """The CP-Lib instances of the benchmark data by name (``"cars"``, ``"ce50-20"``, ...).

    Raises:
        FileNotFoundError: the benchmark data cannot be found.
        FileFormatError: ``cplib_index.csv`` lacks a column it needs or a value is not an integer.
    """
    table = _data_folder(data_dir) / "cplib" / "cplib_index.csv"
    records = _csv_records(
        table,
        ("family", "instance", "file", "n", "nonzero_weights", "optimal_value_max"),
        lambda row: CplibInstance(
            row["family"],
            row["instance"],
            row["file"],
            int(row["n"]),
            int(row["nonzero_weights"]),
            int(row["optimal_value_max"]) if row["optimal_value_max"] else None,
        ),
    )
    return {instance.name: instance for instance in records}


# ---------------------------------------------------------------- temporal networks


@dataclass(frozen=True, eq=False)
class TemporalEdges:
    """Timestamped edge events in file order: event ``k`` joins ``sources[k]`` and
    ``targets[k]`` at ``times[k]`` with weight ``weights[k]``; nodes are ``0..num_nodes-1``."""

    num_nodes: int
    sources: np.ndarray = field(repr=False)
    targets: np.ndarray = field(repr=False)
    weights: np.ndarray = field(repr=False)
    times: np.ndarray = field(repr=False)
    directed: bool

    def __len__(self) -> int:
        return len(self.sources)


def _temporal_edges(events: list[tuple[int, int, float, float]], num_nodes: int, directed: bool) -> TemporalEdges:
    table = np.array(events, dtype=float).reshape(-1, 4)
    sources, targets, weights, times = (np.ascontiguousarray(column) for column in table.T)
    arrays = (sources.astype(np.int64), targets.astype(np.int64), weights, times)
    for array in arrays:
        array.setflags(write=False)
    return TemporalEdges(num_nodes, *arrays, directed=directed)


def read_konect(path: str | os.PathLike) -> TemporalEdges:
    """Read a temporal KONECT network (an ``out.*`` file) into its edge events, in file order.

    The file starts with the format line ``% sym <weights>`` (undirected) or ``% asym <weights>``
    (directed) and the size line ``% m n n``; each of the ``m`` rows is ``u v weight time`` with
    1-based nodes ``u, v`` and a Unix timestamp. Nodes become ``0..n-1``.

    Raises:
        FileFormatError: the format line is missing or names a bipartite (``bip``) network, the
            size line is malformed, a row is not ``u v weight time``, a node is outside
            ``1..n``, or the number of rows differs from ``m``.
        OSError: the file cannot be opened.
    """
    path = Path(path)
    lines = numbered_lines(path)
    if len(lines) < 2:
        raise FileFormatError(path, "expected the KONECT format line '% sym|asym <weights>' and size line '% m n n'")
    (format_line, format_text), (size_line, size_text) = lines[:2]
    network = format_text.split()[:2]
    if network not in (["%", "sym"], ["%", "asym"]):
        raise FileFormatError(
            path,
            f"expected the KONECT format line '% sym <weights>' or '% asym <weights>', found {format_text!r}",
            format_line,
        )
    _, m, n, _ = _fields(path, size_line, size_text, (_one_of("%"), int, int, int), "the KONECT size line '% m n n'")
    events = []
    for number, line in lines[2:]:
        if line.startswith("%"):
            continue
        u, v, weight, time = _fields(path, number, line, (int, int, _finite, _finite), "an edge 'u v weight time'")
        for node in (u, v):
            _check_node(path, number, node, 1, n)
        events.append((u - 1, v - 1, weight, time))
    if len(events) != m:
        raise FileFormatError(path, f"the size line declares {m} edges but the file has {len(events)}", size_line)
    _check_declared_nodes(path, size_line, n, [(u, v) for u, v, _, _ in events])
    return _temporal_edges(events, n, directed=network[1] == "asym")


def read_dblp_temporal(path: str | os.PathLike) -> TemporalEdges:
    """Read the DBLP temporal co-authorship graph (``dblp_temporal/dblp.txt``) into its events.

    Each row is ``u v t``: 0-based authors and the normalised year ``t = k/26``. The graph is
    undirected, every weight is 1, and ``num_nodes`` is one more than the largest node.

    Raises:
        FileFormatError: a row is not ``u v t`` or a node is negative.
        OSError: the file cannot be opened.
    """
    path = Path(path)
    events = []
    for number, line in numbered_lines(path):
        u, v, time = _fields(path, number, line, (int, int, _finite), "an edge 'u v t'")
        for node in (u, v):
            _check_node(path, number, node, 0)
        events.append((u, v, 1.0, time))
    num_nodes = 1 + max((max(u, v) for u, v, _, _ in events), default=-1)
    return _temporal_edges(events, num_nodes, directed=False)


def static_graph(events: TemporalEdges) -> nx.Graph:
    """The undirected graph on ``0..num_nodes-1`` of the distinct pairs joined by an event,
    without self-loops."""
    graph = nx.Graph()
    graph.add_nodes_from(range(events.num_nodes))
    graph.add_edges_from((u, v) for u, v in zip(events.sources.tolist(), events.targets.tolist()) if u != v)
    return graph


# ---------------------------------------------------------------- GML and edge lists


def read_gml(path: str | os.PathLike, label: str | None = "id") -> nx.Graph:
    """Read a GML graph with :func:`networkx.read_gml`, keeping node attributes such as ``gt``.

    Args:
        path: the ``.gml`` file.
        label: the node attribute that names the nodes; ``"id"`` (the default here) keeps the
            integer GML ids and leaves ``"label"`` an attribute; ``None`` as in networkx.

    Raises:
        FileFormatError: networkx rejects the file; the line is given where networkx reports it.
        OSError: the file cannot be opened.
    """
    try:
        text = file_bytes(path).decode("ascii")  # GML is 7-bit ASCII, other characters as entities
    except UnicodeDecodeError as err:
        raise FileFormatError(path, f"not a GML file: {err.reason} at byte {err.start}") from None
    try:
        return nx.parse_gml(text, label=label)
    except nx.NetworkXError as err:
        position = re.search(r" at \((\d+), \d+\)$", str(err))
        raise FileFormatError(path, str(err), int(position[1]) if position else None) from None
    except (TypeError, ValueError, KeyError) as err:  # a list or a record where networkx wants a value
        raise FileFormatError(path, f"not a GML graph ({type(err).__name__}: {err})") from None


def read_edgelist(path: str | os.PathLike) -> nx.Graph:
    """Read an edge list (``u v`` per line, ``#`` comments) of non-negative integer nodes.

    The nodes are those the edges name, in increasing order; an isolated node cannot be listed.

    Raises:
        FileFormatError: a line is not ``u v``, a node is negative, or an edge repeats.
        OSError: the file cannot be opened.
    """
    path = Path(path)
    edges = []
    for number, line in numbered_lines(path):
        if line.startswith("#"):
            continue
        u, v = _fields(path, number, line, (int, int), "an edge 'u v'")
        for node in (u, v):
            _check_node(path, number, node, 0)
        edges.append((number, u, v))
    graph = nx.Graph()
    graph.add_nodes_from(sorted({node for _, u, v in edges for node in (u, v)}))
    for number, u, v in edges:
        if graph.has_edge(u, v):
            raise FileFormatError(path, f"edge ({u}, {v}) appears twice", number)
        graph.add_edge(u, v)
    return graph


class RegularGraphInstance(NamedTuple):
    """A random ``d``-regular graph of ``pignn_dregular/optima.json`` with its proven optima."""

    name: str
    file: str
    n: int
    d: int
    seed: int
    """The seed of ``networkx.random_regular_graph(d, n, seed)`` that built it."""
    edges: int
    mis: int
    maxcut: int


def pignn_dregular_catalogue(data_dir: str | os.PathLike | None = None) -> dict[str, RegularGraphInstance]:
    """The random regular graphs of the benchmark data by name (``"reg_n100_d3_seed0"``, ...).

    Raises:
        FileNotFoundError: the benchmark data cannot be found.
        FileFormatError: ``optima.json`` is not JSON or not a list of objects with the keys
            ``file, n, d, seed, edges, mis, maxcut``.
    """
    table = _data_folder(data_dir) / "pignn_dregular" / "optima.json"
    with open(table, encoding="utf-8") as handle:
        try:
            entries = json.load(handle)
        except json.JSONDecodeError as err:
            raise FileFormatError(table, err.msg, err.lineno) from None
    try:
        instances = [
            RegularGraphInstance(
                Path(entry["file"]).stem,
                entry["file"],
                *(int(entry[key]) for key in ("n", "d", "seed", "edges", "mis", "maxcut")),
            )
            for entry in entries
        ]
    except (KeyError, TypeError, ValueError) as err:
        raise FileFormatError(table, f"expected a list of objects with file, n, d, seed, edges, mis, maxcut ({err!r})") from None
    return {instance.name: instance for instance in instances}


# ---------------------------------------------------------------- Planetoid citation graphs


class PlanetoidData(NamedTuple):
    """A Planetoid citation graph: nodes ``0..N-1``, bag-of-words features and class labels."""

    graph: nx.Graph
    """The undirected simple graph of the citations, isolated nodes included, no self-loops."""
    features: np.ndarray
    """``N × F`` float32, row ``i`` for node ``i``; zero for a node without features."""
    labels: np.ndarray
    """``N`` int64 classes ``0..C-1``; ``-1`` for a node without a label."""


_PLANETOID_PARTS = ("allx", "ally", "tx", "ty", "graph")


def read_planetoid(directory: str | os.PathLike, name: str) -> PlanetoidData:
    """Read a Planetoid dataset (``ind.<name>.*``, as in Kipf and Welling's GCN) into nodes ``0..N-1``.

    Reads ``allx``/``ally`` (features and one-hot labels of nodes ``0..len(allx)-1``),
    ``tx``/``ty`` (those of the test nodes, row ``t`` belonging to node ``test.index[t]``),
    ``test.index`` and ``graph`` (a dict of adjacency lists); ``x``/``y``, the labelled subset of
    ``allx``, are not needed. ``N`` is ``max(len(allx), max(test.index) + 1)``. Nodes that no file
    describes (15 isolated test nodes of citeseer) get zero features and label ``-1``, the usual
    convention. The graph drops self-loops and repeated edges. The pickles are Python 2's, read
    with ``encoding="latin1"``, and may hold only numpy arrays, scipy sparse matrices, lists and
    dicts.

    With the files of the GCN repository: cora has 2708 nodes, 5278 edges, 1433 features and 7
    classes; citeseer has 3327 nodes, 4552 edges (its graph lists 124 self-loops), 3703
    features and 6 classes.

    Args:
        directory: the folder holding the files (``shared_data_dir() / "planetoid"``).
        name: the dataset's name in the file names, ``"cora"`` or ``"citeseer"``.

    Raises:
        FileFormatError: a file is missing, is not a readable pickle of the expected objects,
            or disagrees with the others (row counts, widths, a node outside ``0..N-1``,
            a repeated test index, a label row that is not one-hot or empty).

    Example:
        >>> import pathlib, pickle, tempfile
        >>> import numpy as np, scipy.sparse
        >>> from gnnsolve.adapters.datasets import read_planetoid
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> parts = {
        ...     "allx": scipy.sparse.csr_matrix(np.eye(2, 3)), "ally": np.eye(2),
        ...     "tx": scipy.sparse.csr_matrix(np.ones((1, 3))), "ty": np.array([[0.0, 1.0]]),
        ...     "graph": {0: [1, 1], 1: [0], 2: [2]},
        ... }
        >>> for part, value in parts.items():
        ...     _ = (folder / f"ind.toy.{part}").write_bytes(pickle.dumps(value, protocol=2))
        >>> _ = (folder / "ind.toy.test.index").write_text("3\\n")
        >>> toy = read_planetoid(folder, "toy")
        >>> sorted(toy.graph.edges), toy.features.shape, toy.labels.tolist()
        ([(0, 1)], (4, 3), [0, 1, -1, 1])
    """
    folder = Path(directory)
    paths = {part: folder / f"ind.{name}.{part}" for part in (*_PLANETOID_PARTS, "test.index")}
    for path in paths.values():
        if not path.is_file():
            raise FileFormatError(
                path, f"missing: the Planetoid dataset {name!r} needs ind.{name}.{{allx,ally,tx,ty,graph,test.index}}"
            )
    allx, ally, tx, ty, adjacency = (_planetoid_pickle(paths[part]) for part in _PLANETOID_PARTS)
    index_file = paths["test.index"]
    test_index = np.array(
        [_fields(index_file, number, line, (int,), "a node index")[0] for number, line in numbered_lines(index_file)],
        dtype=np.int64,
    )

    allx, tx = (_planetoid_matrix(paths[part], matrix) for part, matrix in (("allx", allx), ("tx", tx)))
    ally, ty = (_planetoid_matrix(paths[part], matrix) for part, matrix in (("ally", ally), ("ty", ty)))
    for features, targets, x_part, y_part in ((allx, ally, "allx", "ally"), (tx, ty, "tx", "ty")):
        if len(features) != len(targets):
            raise FileFormatError(paths[y_part], f"{len(targets)} label rows for the {len(features)} rows of {x_part}")
    if tx.shape[1] != allx.shape[1] or ty.shape[1] != ally.shape[1]:
        raise FileFormatError(paths["tx"], "tx/ty are not as wide as allx/ally")
    if len(test_index) != len(tx):
        raise FileFormatError(index_file, f"{len(test_index)} indices for the {len(tx)} rows of tx")
    if len(set(test_index.tolist())) != len(test_index) or (len(test_index) and test_index.min() < len(allx)):
        raise FileFormatError(index_file, f"test indices must be distinct and at least len(allx) = {len(allx)}")

    num_nodes = max(len(allx), int(test_index.max()) + 1 if len(test_index) else 0)
    features = np.zeros((num_nodes, allx.shape[1]), dtype=np.float32)
    features[: len(allx)] = allx
    features[test_index] = tx
    one_hot = np.zeros((num_nodes, ally.shape[1]))
    one_hot[: len(ally)] = ally
    one_hot[test_index] = ty
    if not (np.isin(one_hot, (0, 1)).all() and (one_hot.sum(axis=1) <= 1).all()):
        raise FileFormatError(paths["ally"], "label rows must be one-hot (or all zero for an unlabelled node)")
    labels = np.where(one_hot.any(axis=1), one_hot.argmax(axis=1), -1).astype(np.int64)

    if not isinstance(adjacency, dict):
        raise FileFormatError(paths["graph"], f"expected a dict of adjacency lists, found {type(adjacency).__name__}")
    graph = nx.Graph()
    graph.add_nodes_from(range(num_nodes))
    for u, neighbours in adjacency.items():
        if not isinstance(neighbours, (list, tuple)):
            raise FileFormatError(paths["graph"], f"node {u!r} has {type(neighbours).__name__} for its adjacency list")
        for v in (u, *neighbours):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not 0 <= v < num_nodes:
                raise FileFormatError(paths["graph"], f"node {v!r} is not an index in 0..{num_nodes - 1}")
        graph.add_edges_from((int(u), int(v)) for v in neighbours if v != u)
    return PlanetoidData(graph, features, labels)


def _planetoid_pickle(path: Path) -> Any:
    """Load a Python 2 pickle that may hold only numpy arrays, scipy sparse matrices, lists and dicts."""
    import collections
    import pickle

    import scipy.sparse

    allowed = {
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("__builtin__", "list"),
        ("builtins", "list"),
        ("_codecs", "encode"),  # bytes in a protocol-2 pickle written by Python 3
    }

    class Unpickler(pickle.Unpickler):
        def find_class(self, module: str, name: str) -> Any:
            if module.startswith("scipy.sparse") and name in ("csr_matrix", "csc_matrix", "coo_matrix", "lil_matrix"):
                return getattr(scipy.sparse, name)
            if (module, name) == ("collections", "defaultdict"):
                return collections.defaultdict
            if (module, name) in allowed:
                return super().find_class(module, name)
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")

    with open(path, "rb") as handle:
        try:
            return Unpickler(handle, encoding="latin1").load()
        except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError) as err:
            raise FileFormatError(path, f"not a readable Planetoid pickle ({type(err).__name__}: {err})") from None


def _planetoid_matrix(path: Path, matrix: Any) -> np.ndarray:
    """A 2-D dense float array from a scipy sparse matrix or a numpy array."""
    if hasattr(matrix, "toarray"):
        matrix = matrix.toarray()
    if not isinstance(matrix, np.ndarray) or matrix.ndim != 2 or not np.issubdtype(matrix.dtype, np.number):
        raise FileFormatError(path, "expected a 2-D numeric matrix")
    return matrix
