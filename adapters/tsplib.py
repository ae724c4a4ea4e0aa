"""TSPLIB95 files: symmetric travelling-salesman instances (``.tsp``) and tours (``.tour``).

A TSPLIB95 file (G. Reinelt, "TSPLIB 95", Universität Heidelberg 1995) is a specification part
of ``KEYWORD : value`` lines (``NAME``, ``TYPE``, ``COMMENT``, ``DIMENSION``, ``EDGE_WEIGHT_TYPE``,
``EDGE_WEIGHT_FORMAT``, ``NODE_COORD_TYPE``, ``DISPLAY_DATA_TYPE``), then data sections
(``NODE_COORD_SECTION`` with lines ``i x y``, ``EDGE_WEIGHT_SECTION`` with a stream of weights,
``DISPLAY_DATA_SECTION``), up to an optional ``EOF``. Cities are numbered ``1..n`` in the file
and ``0..n-1`` here. Only ``TYPE: TSP`` (symmetric) is read; ATSP, HCP, CVRP and other types are
rejected.

Distances follow TSPLIB95's integer rules exactly, with ``nint(x) = int(x + 0.5)``:

- ``EUC_2D``: the nint of the Euclidean distance;
- ``CEIL_2D``: its ceiling;
- ``ATT`` (pseudo-Euclidean): ``r = sqrt((dx² + dy²) / 10)``, ``t = nint(r)``, then ``t + 1`` if
  ``t < r`` else ``t``;
- ``GEO``: coordinates are latitude and longitude in degrees.minutes, converted by
  ``PI * (deg + 5 * min / 3) / 180`` with ``PI = 3.141592``, ``deg = int(x)`` (truncated) and
  ``min = x - deg``; the distance is
  ``int(6378.388 * acos(0.5 * ((1 + q1) * q2 - (1 - q1) * q3)) + 1)`` with
  ``q1 = cos(lon_i - lon_j)``, ``q2 = cos(lat_i - lat_j)``, ``q3 = cos(lat_i + lat_j)``;
- ``EXPLICIT``: the weights of ``EDGE_WEIGHT_SECTION`` in one of the formats ``FULL_MATRIX``,
  ``UPPER_ROW``, ``LOWER_ROW``, ``UPPER_DIAG_ROW``, ``LOWER_DIAG_ROW`` or their column-wise
  counterparts ``UPPER_COL``, ``LOWER_COL``, ``UPPER_DIAG_COL``, ``LOWER_DIAG_COL``.

A city's distance to itself is 0 under every rule (the GEO formula alone would give 1). A tour
file lists the cities of a ``TOUR_SECTION`` in visiting order, ending with ``-1`` or the end of
the file. Every malformed file is a :class:`~gnnsolve.errors.FileFormatError` naming the file and,
where there is one, the line.

Example:
    >>> import pathlib, tempfile
    >>> from gnnsolve.adapters.tsplib import read_tsplib, tour_length
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "rectangle.tsp"
    >>> _ = path.write_text(
    ...     "NAME: rectangle\\nTYPE: TSP\\nDIMENSION: 4\\nEDGE_WEIGHT_TYPE: EUC_2D\\n"
    ...     "NODE_COORD_SECTION\\n1 0 0\\n2 0 6\\n3 4.5 6\\n4 4.5 0\\nEOF\\n"
    ... )
    >>> rectangle = read_tsplib(path)
    >>> rectangle.dimension, rectangle.distance(0, 3), rectangle.distance(0, 2)  # nint(4.5), nint(7.5)
    (4, 5.0, 8.0)
    >>> tour_length(rectangle, [0, 1, 2, 3]), tour_length(rectangle, [0, 2, 1, 3])
    (22.0, 26.0)
"""

from __future__ import annotations

import itertools
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Collection, Mapping, Sequence

import networkx as nx
import numpy as np
from numpy.typing import ArrayLike

from gnnsolve.adapters._text import numbered_lines
from gnnsolve.errors import FileFormatError
from gnnsolve.search.tsp import tour_length as closed_tour_length

__all__ = ["TSPLIBInstance", "read_tsplib", "read_tour", "tour_length", "geo_degrees"]

_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_INTEGER = re.compile(r"[+-]?\d+")

_COORDINATE_TYPES = ("EUC_2D", "CEIL_2D", "ATT", "GEO")
_MATRIX_FORMATS = (
    "FULL_MATRIX",
    "UPPER_ROW",
    "LOWER_ROW",
    "UPPER_DIAG_ROW",
    "LOWER_DIAG_ROW",
    "UPPER_COL",
    "LOWER_COL",
    "UPPER_DIAG_COL",
    "LOWER_DIAG_COL",
)
_TSP_CHOICES: Mapping[str, Sequence[str] | None] = {
    "NAME": None,
    "TYPE": ("TSP",),
    "COMMENT": None,
    "DIMENSION": None,
    "EDGE_WEIGHT_TYPE": (*_COORDINATE_TYPES, "EXPLICIT"),
    "EDGE_WEIGHT_FORMAT": ("FUNCTION", *_MATRIX_FORMATS),
    "NODE_COORD_TYPE": ("TWOD_COORDS", "NO_COORDS"),
    "DISPLAY_DATA_TYPE": ("COORD_DISPLAY", "TWOD_DISPLAY", "NO_DISPLAY"),
}
_TSP_SECTIONS = ("NODE_COORD_SECTION", "EDGE_WEIGHT_SECTION", "DISPLAY_DATA_SECTION")
_TOUR_CHOICES: Mapping[str, Sequence[str] | None] = {
    "NAME": None,
    "TYPE": ("TOUR",),
    "COMMENT": None,
    "DIMENSION": None,
}

_Rows = list[tuple[int, list[str]]]
"""The data lines of a section: line number and tokens."""

_Spec = dict[str, tuple[str, int]]
"""The specification part: keyword to value and line number."""


@dataclass(frozen=True, eq=False)
class TSPLIBInstance:
    """A symmetric TSPLIB95 instance; cities are ``0..dimension-1``.

    Attributes:
        name: ``NAME``, or the file name without its suffix when absent.
        comment: ``COMMENT``, or ``""``.
        type: ``TYPE``; always ``"TSP"``.
        dimension: the number of cities.
        edge_weight_type: ``"EUC_2D"``, ``"CEIL_2D"``, ``"ATT"``, ``"GEO"`` or ``"EXPLICIT"``.
        edge_weight_format: ``EDGE_WEIGHT_FORMAT`` (the matrix layout of an EXPLICIT instance,
            or ``"FUNCTION"``), or ``None`` when absent.
        coordinates: ``[dimension, 2]`` positions from ``NODE_COORD_SECTION``, else from
            ``DISPLAY_DATA_SECTION`` (drawing only), else ``None``.
        edge_weights: the symmetric ``[dimension, dimension]`` matrix of an EXPLICIT instance
            with a zero diagonal, else ``None``.
    """

    name: str
    comment: str
    type: str
    dimension: int
    edge_weight_type: str
    edge_weight_format: str | None
    coordinates: np.ndarray | None = field(repr=False)
    edge_weights: np.ndarray | None = field(repr=False)

    def distance_matrix(self) -> np.ndarray:
        """All distances as a new ``float64`` matrix with a zero diagonal.

        Its values are integers, except for EXPLICIT weights written with decimals.
        """
        if self.edge_weights is not None:
            return self.edge_weights.copy()
        points = self._points()
        matrix = _DISTANCES[self.edge_weight_type](points[:, None, :], points[None, :, :])
        np.fill_diagonal(matrix, 0.0)
        return matrix

    def distance(self, i: int, j: int) -> float:
        """The distance between cities ``i`` and ``j`` (0-based).

        Raises:
            IndexError: ``i`` or ``j`` is outside ``0..dimension-1``.
        """
        for city in (i, j):
            if not 0 <= city < self.dimension:
                raise IndexError(f"city {city} is outside 0..{self.dimension - 1}")
        if i == j:
            return 0.0
        if self.edge_weights is not None:
            return float(self.edge_weights[i, j])
        points = self._points()
        return float(_DISTANCES[self.edge_weight_type](points[i], points[j]))

    def _points(self) -> np.ndarray:
        """The coordinates the distances are computed from, where there are no edge weights."""
        if self.coordinates is None:
            raise ValueError(f"TSPLIB instance {self.name!r} has neither edge weights nor coordinates")
        return self.coordinates

    def to_graph(self) -> nx.Graph:
        """The complete graph on ``0..dimension-1``: edge attribute ``"weight"`` holds the
        distance, node attribute ``"pos"`` the coordinates when there are any."""
        matrix = self.distance_matrix()
        graph = nx.Graph(name=self.name)
        graph.add_nodes_from(range(self.dimension))
        if self.coordinates is not None:
            nx.set_node_attributes(graph, {i: (float(x), float(y)) for i, (x, y) in enumerate(self.coordinates)}, "pos")
        graph.add_weighted_edges_from((i, j, float(matrix[i, j])) for i, j in itertools.combinations(range(self.dimension), 2))
        return graph


def read_tsplib(path: str | os.PathLike) -> TSPLIBInstance:
    """Read a symmetric TSPLIB95 instance (``TYPE: TSP``).

    Args:
        path: the ``.tsp`` file; CRLF line ends, blank lines, trailing spaces and ``KEY: value``
            with or without spaces around the colon are accepted; anything after ``EOF`` is ignored.

    Raises:
        FileFormatError: a keyword or section is unknown, repeated, missing or has an unsupported
            value; a number is malformed; a city index is outside ``1..DIMENSION`` or repeated;
            a section gives too few or too many values; a FULL_MATRIX is not symmetric.
        OSError: the file cannot be opened.
    """
    path = Path(path)
    spec, sections = _read_parts(path, _TSP_CHOICES, _TSP_SECTIONS)
    for keyword in ("TYPE", "DIMENSION", "EDGE_WEIGHT_TYPE"):
        _required(path, spec, keyword)
    n = _dimension(path, spec)
    weight_type, type_line = spec["EDGE_WEIGHT_TYPE"]
    weight_format = spec["EDGE_WEIGHT_FORMAT"][0] if "EDGE_WEIGHT_FORMAT" in spec else None
    explicit = weight_type == "EXPLICIT"
    if explicit != (weight_format in _MATRIX_FORMATS):
        raise FileFormatError(
            path,
            f"EDGE_WEIGHT_TYPE {weight_type} cannot have EDGE_WEIGHT_FORMAT {weight_format or '(none)'}",
            type_line,
        )
    if explicit != ("EDGE_WEIGHT_SECTION" in sections):
        needs = "needs an" if explicit else "cannot have an"
        raise FileFormatError(path, f"EDGE_WEIGHT_TYPE {weight_type} {needs} EDGE_WEIGHT_SECTION", type_line)
    if not explicit and "NODE_COORD_SECTION" not in sections:
        raise FileFormatError(path, f"EDGE_WEIGHT_TYPE {weight_type} needs a NODE_COORD_SECTION", type_line)

    shown = next((s for s in ("NODE_COORD_SECTION", "DISPLAY_DATA_SECTION") if s in sections), None)
    coordinates = _coordinates(path, shown, *sections[shown], n) if shown else None
    weights = None
    if explicit:
        assert weight_format is not None, "checked above: an EXPLICIT instance has a matrix format"
        weights = _explicit_matrix(path, *sections["EDGE_WEIGHT_SECTION"], weight_format, n)
    return TSPLIBInstance(
        name=spec["NAME"][0] if "NAME" in spec else path.stem,
        comment=spec["COMMENT"][0] if "COMMENT" in spec else "",
        type=spec["TYPE"][0],
        dimension=n,
        edge_weight_type=weight_type,
        edge_weight_format=weight_format,
        coordinates=coordinates,
        edge_weights=weights,
    )


def read_tour(path: str | os.PathLike) -> list[int]:
    """Read a TSPLIB95 tour file into the 0-based cities in visiting order.

    Args:
        path: the ``.tour`` file; its ``TOUR_SECTION`` may spread the cities over any number of
            lines and ends with ``-1``, ``EOF`` or the end of the file.

    Raises:
        FileFormatError: ``DIMENSION`` or ``TOUR_SECTION`` is missing, ``TYPE`` is not ``TOUR``,
            a city is not an integer, is outside ``1..DIMENSION`` or repeats, the tour does not
            visit every city, or the section goes on after its ``-1``.
        OSError: the file cannot be opened.
    """
    path = Path(path)
    spec, sections = _read_parts(path, _TOUR_CHOICES, ("TOUR_SECTION",))
    n = _dimension(path, spec)
    if "TOUR_SECTION" not in sections:
        raise FileFormatError(path, "missing TOUR_SECTION")
    section_line, rows = sections["TOUR_SECTION"]
    tokens = _tokens(rows)
    tour: list[int] = []
    visited: set[int] = set()
    for index, (number, token) in enumerate(tokens):
        city = _integer(path, number, token)
        if city == -1:
            if index + 1 < len(tokens):
                following = tokens[index + 1][0]
                raise FileFormatError(path, "TOUR_SECTION goes on after the -1 that ends the tour", following)
            break
        if not 1 <= city <= n:
            raise FileFormatError(path, f"city {city} is outside 1..{n}", number)
        if city in visited:
            raise FileFormatError(path, f"city {city} is visited twice", number)
        visited.add(city)
        tour.append(city - 1)
    if len(tour) != n:
        raise FileFormatError(path, f"the tour visits {len(tour)} of the {n} cities", section_line)
    return tour


def tour_length(instance_or_matrix: TSPLIBInstance | ArrayLike, tour: Sequence[int]) -> float:
    """The length of the closed tour visiting the 0-based cities ``tour`` in order.

    Args:
        instance_or_matrix: an instance, or a square distance matrix.
        tour: city indices; the last city connects back to the first.
    """
    matrix = instance_or_matrix.distance_matrix() if isinstance(instance_or_matrix, TSPLIBInstance) else instance_or_matrix
    return closed_tour_length(np.asarray(matrix, dtype=float), tour)


# ---------------------------------------------------------------- reading


def _read_parts(
    path: Path, choices: Mapping[str, Sequence[str] | None], sections: Collection[str]
) -> tuple[_Spec, dict[str, tuple[int, _Rows]]]:
    """Split a TSPLIB file into its keywords and its sections (header line and data lines).

    A line that is not a keyword, a section header or ``EOF`` is a data line of the current
    section. Keyword values are checked against ``choices`` (``None``: any value).
    """
    spec: _Spec = {}
    data: dict[str, tuple[int, _Rows]] = {}
    rows: _Rows | None = None
    for number, line in numbered_lines(path):
        key, _, value = (part.strip() for part in line.partition(":"))
        if key == "EOF":
            break
        if key not in choices and key not in sections:
            if rows is None:
                known = ", ".join([*choices, *sections])
                raise FileFormatError(path, f"expected one of the keywords or sections {known}, found {line!r}", number)
            rows.append((number, line.split()))
        elif key in spec or key in data:
            raise FileFormatError(path, f"{key} appears twice", number)
        elif key in sections:
            rows = []
            data[key] = (number, rows)
        else:
            allowed = choices[key]
            if allowed is not None and value not in allowed:
                expected = ", ".join(allowed)
                raise FileFormatError(path, f"{key} {value!r} is not supported; expected one of {expected}", number)
            spec[key] = (value, number)
            rows = None
    return spec, data


def _tokens(rows: _Rows) -> list[tuple[int, str]]:
    """The tokens of a section one by one, each with its line number."""
    return [(number, token) for number, line_tokens in rows for token in line_tokens]


def _required(path: Path, spec: _Spec, keyword: str) -> tuple[str, int]:
    if keyword not in spec:
        raise FileFormatError(path, f"missing {keyword}")
    return spec[keyword]


def _dimension(path: Path, spec: _Spec) -> int:
    value, number = _required(path, spec, "DIMENSION")
    n = _integer(path, number, value)
    if n < 1:
        raise FileFormatError(path, f"DIMENSION must be positive, found {n}", number)
    return n


def _integer(path: Path, line: int, token: str) -> int:
    if not _INTEGER.fullmatch(token):
        raise FileFormatError(path, f"expected an integer, found {token!r}", line)
    return int(token)


def _number(path: Path, line: int, token: str) -> float:
    if not _NUMBER.fullmatch(token):
        raise FileFormatError(path, f"expected a number, found {token!r}", line)
    value = float(token)
    if not math.isfinite(value):
        raise FileFormatError(path, f"{token} is beyond the range of a float", line)
    return value


def _coordinates(path: Path, section: str, section_line: int, rows: _Rows, n: int) -> np.ndarray:
    """The ``i x y`` lines of a coordinate section as an ``[n, 2]`` array in city order."""
    if len(rows) < n:  # checked before the array for DIMENSION cities is allocated
        raise FileFormatError(path, f"{section} gives {len(rows)} of the {n} cities", section_line)
    points = np.zeros((n, 2))
    given: set[int] = set()
    for number, tokens in rows:
        if len(tokens) != 3:
            raise FileFormatError(path, f"expected a city 'i x y', found {' '.join(tokens)!r}", number)
        city = _integer(path, number, tokens[0])
        if not 1 <= city <= n:
            raise FileFormatError(path, f"city {city} is outside 1..{n}", number)
        if city in given:
            raise FileFormatError(path, f"city {city} appears twice", number)
        given.add(city)
        points[city - 1] = [_number(path, number, token) for token in tokens[1:]]
    if len(given) != n:
        raise FileFormatError(path, f"{section} gives {len(given)} of the {n} cities", section_line)
    points.setflags(write=False)
    return points


_TRIANGLES: Mapping[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "FULL": lambda rows, cols: np.ones(rows.shape, dtype=bool),
    "UPPER": np.less,
    "UPPER_DIAG": np.less_equal,
    "LOWER": np.greater,
    "LOWER_DIAG": np.greater_equal,
}


def _entry_count(weight_format: str, n: int) -> int:
    """How many weights an EDGE_WEIGHT_SECTION of ``weight_format`` holds for ``n`` cities."""
    triangle = weight_format.rpartition("_")[0]
    if triangle == "FULL":
        return n * n
    return n * (n + 1) // 2 if triangle.endswith("_DIAG") else n * (n - 1) // 2


def _entry_positions(weight_format: str, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column of each weight of an EDGE_WEIGHT_SECTION, in file order."""
    triangle, _, order = weight_format.rpartition("_")
    rows, cols = np.indices((n, n)).reshape(2, -1)
    if order == "COL":
        rows, cols = cols, rows
    keep = _TRIANGLES[triangle](rows, cols)
    return rows[keep], cols[keep]


def _explicit_matrix(path: Path, section_line: int, rows: _Rows, weight_format: str, n: int) -> np.ndarray:
    tokens = _tokens(rows)
    needed = _entry_count(weight_format, n)  # checked before any array of n x n is allocated
    if len(tokens) < needed:
        raise FileFormatError(
            path,
            f"EDGE_WEIGHT_SECTION has {len(tokens)} weights; {weight_format} of {n} cities needs {needed}",
            section_line,
        )
    if len(tokens) > needed:
        extra_line = tokens[needed][0]
        raise FileFormatError(path, f"more weights than the {needed} of {weight_format} of {n} cities", extra_line)
    row, col = _entry_positions(weight_format, n)
    values = np.array([_number(path, number, token) for number, token in tokens])
    matrix = np.zeros((n, n))
    matrix[row, col] = values
    if weight_format != "FULL_MATRIX":
        matrix[col, row] = values
    elif not np.array_equal(matrix, matrix.T):
        raise FileFormatError(path, "the FULL_MATRIX is not symmetric, as TYPE TSP requires", section_line)
    np.fill_diagonal(matrix, 0.0)
    matrix.setflags(write=False)
    return matrix


# ---------------------------------------------------------------- distance rules


def _nint(x: np.ndarray) -> np.ndarray:
    return np.floor(x + 0.5)


def _squared_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    dx, dy = a[..., 0] - b[..., 0], a[..., 1] - b[..., 1]
    return dx * dx + dy * dy


def _att(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    r = np.sqrt(_squared_distance(a, b) / 10.0)
    t = _nint(r)
    return np.where(t < r, t + 1.0, t)


_GEO_PI = 3.141592
_EARTH_RADIUS = 6378.388


def geo_degrees(x: np.ndarray) -> np.ndarray:
    """TSPLIB GEO degrees.minutes (``12.30`` is 12°30') as decimal degrees (12.5).

    Example:
        >>> import numpy as np
        >>> from gnnsolve.adapters.tsplib import geo_degrees
        >>> geo_degrees(np.array([12.30, -3.45])).round(6).tolist()
        [12.5, -3.75]
    """
    whole = np.trunc(x)
    return whole + 5.0 * (x - whole) / 3.0


def _geo_radians(x: np.ndarray) -> np.ndarray:
    return _GEO_PI * geo_degrees(x) / 180.0


def _geo(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    latitude_a, longitude_a = _geo_radians(a[..., 0]), _geo_radians(a[..., 1])
    latitude_b, longitude_b = _geo_radians(b[..., 0]), _geo_radians(b[..., 1])
    q1 = np.cos(longitude_a - longitude_b)
    q2 = np.cos(latitude_a - latitude_b)
    q3 = np.cos(latitude_a + latitude_b)
    cosine = np.clip(0.5 * ((1.0 + q1) * q2 - (1.0 - q1) * q3), -1.0, 1.0)
    return np.trunc(_EARTH_RADIUS * np.arccos(cosine) + 1.0)


_DISTANCES: Mapping[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "EUC_2D": lambda a, b: _nint(np.sqrt(_squared_distance(a, b))),
    "CEIL_2D": lambda a, b: np.ceil(np.sqrt(_squared_distance(a, b))),
    "ATT": _att,
    "GEO": _geo,
}
