"""Readers for benchmark instance files, and where the shared benchmark data lives.

G-set (the rudy format of Helmberg and Rendl's MaxCut graphs): line 1 holds ``n m``, then ``m``
lines ``i j w`` with 1-based node indices and integer weights. Nodes become ``0..n-1``, weights
the edge attribute ``"weight"``. Every deviation (a wrong edge count, a token that is not an
integer, an index out of range, a repeated edge) is a :class:`~gnnsolve.errors.FileFormatError`
naming the file and line.

Example:
    >>> import pathlib, tempfile
    >>> from gnnsolve.adapters.datasets import read_gset
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "triangle.txt"
    >>> _ = path.write_text("3 3\\n1 2 1\\n2 3 1\\n1 3 -1\\n")
    >>> G = read_gset(path)
    >>> G.number_of_nodes(), G.number_of_edges(), G[0][2]["weight"]
    (3, 3, -1)
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import NamedTuple

import networkx as nx

from gnnsolve.errors import FileFormatError

__all__ = [
    "DATA_ENV_VAR",
    "GsetInstance",
    "shared_data_dir",
    "read_gset",
    "gset_catalogue",
    "load_gset_best_known",
]

DATA_ENV_VAR = "GNNSOLVE_DATA"
"""Environment variable naming the benchmark data folder, read before the default location."""

_PROJECT_ROOT = Path(__file__).resolve().parent.parent


def shared_data_dir() -> Path | None:
    """The benchmark data folder, or ``None`` if it is absent.

    ``$GNNSOLVE_DATA`` when set, else ``shared/data`` beside the project root
    (``../shared/data`` seen from the repository).
    """
    configured = os.environ.get(DATA_ENV_VAR)
    folder = Path(configured).expanduser() if configured else _PROJECT_ROOT.parent / "shared" / "data"
    return folder if folder.is_dir() else None


def _integers(path: Path, line_number: int, line: str, count: int, what: str) -> list[int]:
    tokens = line.split()
    if len(tokens) != count:
        raise FileFormatError(path, f"expected {what} ({count} integers), found {line.strip()!r}", line_number)
    try:
        return [int(token) for token in tokens]
    except ValueError:
        raise FileFormatError(path, f"expected {what} ({count} integers), found {line.strip()!r}", line_number) from None


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
    with open(path, encoding="utf-8") as handle:
        try:
            numbered = [(number, line) for number, line in enumerate(handle, start=1) if line.strip()]
        except UnicodeDecodeError as err:
            raise FileFormatError(path, f"not a text file ({err.reason})") from None
    if not numbered:
        raise FileFormatError(path, "the file is empty; expected a header line 'n m'")
    header_line, header = numbered[0]
    n, m = _integers(path, header_line, header, 2, "the header 'n m'")
    if n < 0 or m < 0:
        raise FileFormatError(path, f"the header declares n={n}, m={m}; both must be non-negative", header_line)

    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    for count, (number, line) in enumerate(numbered[1:], start=1):
        if count > m:
            raise FileFormatError(path, f"more edge lines than the m={m} declared on line {header_line}", number)
        i, j, weight = _integers(path, number, line, 3, "an edge 'i j w'")
        for index in (i, j):
            if not 1 <= index <= n:
                raise FileFormatError(path, f"node index {index} is outside 1..{n}", number)
        if graph.has_edge(i - 1, j - 1):
            raise FileFormatError(path, f"edge ({i}, {j}) appears twice", number)
        graph.add_edge(i - 1, j - 1, weight=weight)
    edges_read = len(numbered) - 1
    if edges_read != m:
        raise FileFormatError(path, f"the header declares m={m} edges but the file has {edges_read}", header_line)
    return graph


class GsetInstance(NamedTuple):
    """One row of ``gset/best_known.csv``: the best cut value reported for the instance."""

    name: str
    file: str
    nodes: int
    edges: int
    best_known: int


def gset_catalogue(data_dir: str | os.PathLike | None = None) -> dict[str, GsetInstance]:
    """The G-set instances of the benchmark data by name (``"G1"``..``"G22"``).

    Args:
        data_dir: the benchmark data folder; :func:`shared_data_dir` when ``None``.

    Raises:
        FileNotFoundError: the benchmark data cannot be found.
        FileFormatError: ``best_known.csv`` lacks a column it needs or a value is not an integer.
    """
    folder = Path(data_dir) if data_dir is not None else shared_data_dir()
    if folder is None:
        raise FileNotFoundError(
            f"benchmark data not found: set {DATA_ENV_VAR} or place it at {_PROJECT_ROOT.parent / 'shared' / 'data'}"
        )
    table = folder / "gset" / "best_known.csv"
    with open(table, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        needed = {"instance", "file", "nodes", "edges", "recommended_best_known"}
        missing = needed - set(reader.fieldnames or ())
        if missing:
            raise FileFormatError(table, f"missing columns {sorted(missing)}", 1)
        catalogue = {}
        for row in reader:
            try:
                catalogue[row["instance"]] = GsetInstance(
                    row["instance"], row["file"], int(row["nodes"]), int(row["edges"]),
                    int(row["recommended_best_known"]),
                )
            except ValueError as err:
                raise FileFormatError(table, f"not an integer: {err}", reader.line_num) from None
    return catalogue


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
