"""TSPLIB95 reader: the distance rules, the matrix layouts, tours, and the benchmark instances."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gnnsolve.adapters.datasets import (
    read_tour,
    read_tsplib,
    tour_length,
    tsplib_optimal_lengths,
)
from gnnsolve.errors import FileFormatError
from shared_data import DATA, held_karp, needs_data, write


def coordinate_file(path: Path, weight_type: str, points: list[tuple[float, float]]) -> Path:
    lines = ["NAME: hand", "TYPE: TSP", f"DIMENSION: {len(points)}", f"EDGE_WEIGHT_TYPE: {weight_type}"]
    lines += ["NODE_COORD_SECTION", *(f"{i} {x} {y}" for i, (x, y) in enumerate(points, start=1))]
    return write(path, "\n".join([*lines, "EOF", ""]))


def explicit_file(path: Path, weight_format: str, n: int, weights: str) -> Path:
    header = f"NAME: hand\nTYPE: TSP\nDIMENSION: {n}\nEDGE_WEIGHT_TYPE: EXPLICIT\nEDGE_WEIGHT_FORMAT: {weight_format}\n"
    return write(path, f"{header}EDGE_WEIGHT_SECTION\n{weights}\nEOF\n")


# ---------------------------------------------------------------- distance rules

# A(0,0), B(0,2.5), C(3,4), D(0,-1.6): |AB| = 2.5, |AC| = 5, |AD| = 1.6, |BC| = sqrt(11.25) = 3.354,
# |BD| = 4.1, |CD| = sqrt(40.36) = 6.353.
HAND_POINTS = [(0, 0), (0, 2.5), (3, 4), (0, -1.6)]


def test_euc_2d_rounds_half_up(tmp_path):
    instance = read_tsplib(coordinate_file(tmp_path / "e.tsp", "EUC_2D", HAND_POINTS))
    # nint(2.5) = 3 where Python's round() would give 2.
    expected = [[0, 3, 5, 2], [3, 0, 3, 4], [5, 3, 0, 6], [2, 4, 6, 0]]
    np.testing.assert_array_equal(instance.distance_matrix(), expected)
    assert instance.distance_matrix().dtype == np.float64


def test_ceil_2d_rounds_up(tmp_path):
    instance = read_tsplib(coordinate_file(tmp_path / "c.tsp", "CEIL_2D", HAND_POINTS))
    np.testing.assert_array_equal(instance.distance_matrix(), [[0, 3, 5, 2], [3, 0, 4, 5], [5, 4, 0, 7], [2, 5, 7, 0]])


def test_att_pseudo_euclidean_rule(tmp_path):
    # r = sqrt(d²/10): AB sqrt(10) = 3.16 -> nint 3 < r -> 4; AC sqrt(90) = 9.49 -> 10;
    # AD sqrt(3.6) = 1.90 -> nint 2 >= r -> 2; BC sqrt(100) = 10 exactly -> 10;
    # BD sqrt(1.6) = 1.26 -> 2; CD sqrt(93.6) = 9.67 -> nint 10 >= r -> 10.
    instance = read_tsplib(coordinate_file(tmp_path / "a.tsp", "ATT", [(0, 0), (10, 0), (0, 30), (6, 0)]))
    expected = [[0, 4, 10, 2], [4, 0, 10, 2], [10, 10, 0, 10], [2, 2, 10, 0]]
    np.testing.assert_array_equal(instance.distance_matrix(), expected)


def test_geo_rule_by_hand(tmp_path):
    # burma14's cities 1 and 2: latitude 16.47 -> 16 + 5 * 0.47 / 3 = 16.7833 degrees -> 0.292923 rad;
    # longitudes 96.10 -> 96.1667° -> 1.678431 rad and 94.44 -> 94.7333° -> 1.653416 rad.
    # q1 = cos(0.025016) = 0.999687, q2 = 1, q3 = cos(0.585846) = 0.833227;
    # 6378.388 * acos(0.5 * (1.999687 - 0.000313 * 0.833227)) = 152.8; int(152.8 + 1) = 153.
    instance = read_tsplib(coordinate_file(tmp_path / "g.tsp", "GEO", [(16.47, 96.10), (16.47, 94.44)]))
    assert instance.distance(0, 1) == 153
    assert instance.distance(0, 0) == 0  # the formula alone gives int(0 + 1) = 1


@pytest.mark.parametrize(
    ("points", "expected"),
    [
        # Degrees are truncated towards zero: floor() would give 154 for the southern mirror image.
        ([(-16.47, -96.10), (-16.47, -94.44)], 153),
        # ... and not rounded: nint() would give 314.
        ([(20.09, 92.54), (22.39, 93.37)], 289),
    ],
)
def test_geo_truncates_degrees(tmp_path, points, expected):
    assert read_tsplib(coordinate_file(tmp_path / "g.tsp", "GEO", points)).distance(0, 1) == expected


def test_distance_agrees_with_the_matrix_and_checks_its_cities(tmp_path):
    instance = read_tsplib(coordinate_file(tmp_path / "e.tsp", "ATT", HAND_POINTS))
    matrix = instance.distance_matrix()
    assert [[instance.distance(i, j) for j in range(4)] for i in range(4)] == matrix.tolist()
    with pytest.raises(IndexError, match="city 4 is outside 0..3"):
        instance.distance(0, 4)
    with pytest.raises(IndexError):
        instance.distance(-1, 0)


# ---------------------------------------------------------------- EXPLICIT layouts

#   0 1 2 3
#   1 0 4 5
#   2 4 0 6
#   3 5 6 0
HAND_MATRIX = [[0, 1, 2, 3], [1, 0, 4, 5], [2, 4, 0, 6], [3, 5, 6, 0]]
HAND_LAYOUTS = {
    "FULL_MATRIX": "0 1 2 3\n1 0 4 5\n2 4 0 6\n3 5 6 0",
    "UPPER_ROW": "1 2 3\n4 5\n6",
    "LOWER_ROW": "1\n2 4\n3 5 6",
    "UPPER_DIAG_ROW": "0 1 2 3\n0 4 5\n0 6\n0",
    "LOWER_DIAG_ROW": "0\n1 0\n2 4 0\n3 5 6 0",
    "UPPER_COL": "1\n2 4\n3 5 6",
    "LOWER_COL": "1 2 3\n4 5\n6",
    "UPPER_DIAG_COL": "0\n1 0\n2 4 0\n3 5 6 0",
    "LOWER_DIAG_COL": "0 1 2 3\n0 4 5\n0 6\n0",
}


@pytest.mark.parametrize("weight_format", sorted(HAND_LAYOUTS))
def test_every_explicit_layout_gives_the_same_matrix(tmp_path, weight_format):
    instance = read_tsplib(explicit_file(tmp_path / "x.tsp", weight_format, 4, HAND_LAYOUTS[weight_format]))
    assert (instance.edge_weight_type, instance.edge_weight_format) == ("EXPLICIT", weight_format)
    np.testing.assert_array_equal(instance.distance_matrix(), HAND_MATRIX)
    assert instance.distance(3, 1) == 5
    assert instance.coordinates is None


def test_explicit_diagonal_is_zeroed_and_weights_may_run_across_lines(tmp_path):
    instance = read_tsplib(explicit_file(tmp_path / "x.tsp", "UPPER_DIAG_ROW", 3, "9 1 2 9\n3 9"))
    np.testing.assert_array_equal(instance.distance_matrix(), [[0, 1, 2], [1, 0, 3], [2, 3, 0]])


def layout(matrix: list[list[int]], weight_format: str) -> list[int]:
    """The weights of ``matrix`` in the order TSPLIB95 writes ``weight_format``."""
    n = len(matrix)
    triangle, _, order = weight_format.rpartition("_")
    wanted = {
        "FULL": lambda i, j: True,
        "UPPER": lambda i, j: i < j,
        "UPPER_DIAG": lambda i, j: i <= j,
        "LOWER": lambda i, j: i > j,
        "LOWER_DIAG": lambda i, j: i >= j,
    }[triangle]
    if order == "COL":
        return [matrix[i][j] for j in range(n) for i in range(n) if wanted(i, j)]
    return [matrix[i][j] for i in range(n) for j in range(n) if wanted(i, j)]


@st.composite
def symmetric_matrices(draw):
    n = draw(st.integers(1, 8))
    matrix = [[0] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            matrix[i][j] = matrix[j][i] = draw(st.integers(0, 10_000))
    return matrix


@settings(max_examples=60, deadline=None)
@given(symmetric_matrices(), st.sampled_from(sorted(HAND_LAYOUTS)), st.integers(1, 12), st.sampled_from(["\n", "\r\n"]))
def test_explicit_layouts_round_trip(tmp_path_factory, matrix, weight_format, per_line, newline):
    weights = [str(w) for w in layout(matrix, weight_format)]
    lines = [" ".join(weights[k : k + per_line]) for k in range(0, len(weights), per_line)]
    text = newline.join(
        [
            "TYPE: TSP",
            f"DIMENSION: {len(matrix)}",
            "EDGE_WEIGHT_TYPE: EXPLICIT",
            f"EDGE_WEIGHT_FORMAT: {weight_format}",
            "EDGE_WEIGHT_SECTION",
            *lines,
            "EOF",
            "",
        ]
    )
    path = write(tmp_path_factory.mktemp("layout") / "x.tsp", text)
    np.testing.assert_array_equal(read_tsplib(path).distance_matrix(), matrix)


def test_display_data_gives_explicit_instances_positions(tmp_path):
    text = (
        "NAME: shown\nTYPE: TSP\nDIMENSION: 3\nEDGE_WEIGHT_TYPE: EXPLICIT\nEDGE_WEIGHT_FORMAT: UPPER_ROW\n"
        "DISPLAY_DATA_TYPE: TWOD_DISPLAY\nEDGE_WEIGHT_SECTION\n7 8\n9\nDISPLAY_DATA_SECTION\n1 0 0\n2 1 0\n3 0 1\nEOF\n"
    )
    instance = read_tsplib(write(tmp_path / "x.tsp", text))
    np.testing.assert_array_equal(instance.coordinates, [[0, 0], [1, 0], [0, 1]])
    assert instance.to_graph().nodes[2]["pos"] == (0.0, 1.0)
    assert instance.distance(1, 2) == 9  # the display positions are not distances


# ---------------------------------------------------------------- the instance object


def test_to_graph_is_complete_with_weights_and_positions(tmp_path):
    # Cities 1 and 4 coincide: their edge of weight 0 is still there.
    instance = read_tsplib(coordinate_file(tmp_path / "e.tsp", "EUC_2D", [(0, 0), (3, 4), (6, 8), (0, 0)]))
    graph = instance.to_graph()
    assert sorted(graph.nodes) == [0, 1, 2, 3]
    assert graph.number_of_edges() == 6
    assert graph[0][3]["weight"] == 0.0
    assert graph[0][2]["weight"] == 10.0
    assert graph.nodes[1]["pos"] == (3.0, 4.0)
    assert graph.graph["name"] == "hand"


def test_tour_length_of_an_instance_or_a_matrix(tmp_path):
    instance = read_tsplib(coordinate_file(tmp_path / "e.tsp", "EUC_2D", HAND_POINTS))
    assert tour_length(instance, [0, 1, 2, 3]) == 3 + 3 + 6 + 2
    assert tour_length(instance.distance_matrix(), [3, 2, 1, 0]) == 14
    assert tour_length([[0, 2], [2, 0]], [1, 0]) == 4
    assert tour_length(instance, []) == 0


def test_instances_are_read_only(tmp_path):
    instance = read_tsplib(coordinate_file(tmp_path / "e.tsp", "EUC_2D", HAND_POINTS))
    with pytest.raises(AttributeError):
        instance.dimension = 3
    with pytest.raises(ValueError):
        instance.coordinates[0, 0] = 1.0
    instance.distance_matrix()[0, 1] = -1.0  # a copy
    assert instance.distance(0, 1) == 3


def test_keyword_spacing_crlf_trailing_spaces_and_text_after_eof(tmp_path):
    text = (
        "NAME :spaced\r\nTYPE:TSP  \r\nCOMMENT : a: b \r\nDIMENSION :  2\r\nEDGE_WEIGHT_TYPE : EUC_2D\r\n"
        "EDGE_WEIGHT_FORMAT: FUNCTION \r\nNODE_COORD_TYPE: TWOD_COORDS\r\n\r\nNODE_COORD_SECTION\r\n"
        "  2   3.0e0 4 \r\n 1 0 0\r\n EOF\r\nanything at all\r\n"
    )
    instance = read_tsplib(write(tmp_path / "spaced.tsp", text))
    assert (instance.name, instance.comment, instance.type, instance.dimension) == ("spaced", "a: b", "TSP", 2)
    assert instance.edge_weight_format == "FUNCTION"
    assert instance.distance(0, 1) == 5


def test_name_defaults_to_the_file_name_and_eof_is_optional(tmp_path):
    text = "TYPE: TSP\nDIMENSION: 1\nEDGE_WEIGHT_TYPE: GEO\nNODE_COORD_SECTION\n1 1 1\n"
    path = write(tmp_path / "unnamed.tsp", text)
    instance = read_tsplib(path)
    assert (instance.name, instance.comment, instance.edge_weight_format) == ("unnamed", "", None)
    np.testing.assert_array_equal(instance.distance_matrix(), [[0]])


# ---------------------------------------------------------------- malformed instances

HEAD = "TYPE: TSP\nDIMENSION: 3\nEDGE_WEIGHT_TYPE: EUC_2D\n"
COORDS = "NODE_COORD_SECTION\n1 0 0\n2 0 1\n3 1 0\n"
EXPLICIT_HEAD = "TYPE: TSP\nDIMENSION: 3\nEDGE_WEIGHT_TYPE: EXPLICIT\nEDGE_WEIGHT_FORMAT: UPPER_ROW\n"


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("", None, "the file is empty (0 bytes)"),
        ("\n", None, "missing TYPE"),
        ("TYPE: TSP\nEDGE_WEIGHT_TYPE: EUC_2D\n" + COORDS, None, "missing DIMENSION"),
        ("TYPE: TSP\nDIMENSION: 3\n" + COORDS, None, "missing EDGE_WEIGHT_TYPE"),
        ("TYPE: TSP\nDIMENSION: three\nEDGE_WEIGHT_TYPE: EUC_2D\n", 2, "expected an integer, found 'three'"),
        ("TYPE: TSP\nDIMENSION: 0\nEDGE_WEIGHT_TYPE: EUC_2D\n", 2, "DIMENSION must be positive"),
        ("TYPE: ATSP\nDIMENSION: 3\n", 1, "TYPE 'ATSP' is not supported"),
        ("TYPE: TSP\nDIMENSION: 3\nEDGE_WEIGHT_TYPE: MAN_2D\n", 3, "EDGE_WEIGHT_TYPE 'MAN_2D' is not supported"),
        (HEAD + "NODE_COORD_TYPE: THREED_COORDS\n", 4, "NODE_COORD_TYPE 'THREED_COORDS' is not supported"),
        (HEAD + "CAPACITY: 5\n", 4, "found 'CAPACITY: 5'"),
        (HEAD + "DIMENSION: 3\n", 4, "DIMENSION appears twice"),
        (HEAD + "1 0 0\n", 4, "expected one of the keywords or sections NAME, TYPE"),
        (HEAD, 3, "EUC_2D needs a NODE_COORD_SECTION"),
        (HEAD + "NODE_COORD_SECTION\n1 0 0\n2 0 1\n", 4, "NODE_COORD_SECTION gives 2 of the 3 cities"),
        (HEAD + "NODE_COORD_SECTION\n1 0 0\n2 0\n3 1 0\n", 6, "expected a city 'i x y', found '2 0'"),
        (HEAD + "NODE_COORD_SECTION\n1 0 0\n2 0 x1\n3 1 0\n", 6, "expected a number, found 'x1'"),
        (HEAD + "NODE_COORD_SECTION\n1 0 0\n2 0 nan\n3 1 0\n", 6, "expected a number, found 'nan'"),
        (HEAD + "NODE_COORD_SECTION\n1 0 0\n2.5 0 1\n3 1 0\n", 6, "expected an integer, found '2.5'"),
        (HEAD + "NODE_COORD_SECTION\n1 0 0\n4 0 1\n3 1 0\n", 6, "city 4 is outside 1..3"),
        (HEAD + "NODE_COORD_SECTION\n1 0 0\n1 0 1\n3 1 0\n", 6, "city 1 appears twice"),
        (HEAD + COORDS + "NODE_COORD_SECTION\n", 8, "NODE_COORD_SECTION appears twice"),
        (HEAD + COORDS + "EDGE_WEIGHT_SECTION\n1 2 3\n", 3, "EUC_2D cannot have an EDGE_WEIGHT_SECTION"),
        (HEAD + "EDGE_WEIGHT_FORMAT: UPPER_ROW\n" + COORDS, 3, "EUC_2D cannot have EDGE_WEIGHT_FORMAT UPPER_ROW"),
        (
            "TYPE: TSP\nDIMENSION: 3\nEDGE_WEIGHT_TYPE: EXPLICIT\nEDGE_WEIGHT_SECTION\n1 2 3\n",
            3,
            "EXPLICIT cannot have EDGE_WEIGHT_FORMAT (none)",
        ),
        (EXPLICIT_HEAD, 3, "EXPLICIT needs an EDGE_WEIGHT_SECTION"),
        (EXPLICIT_HEAD + "EDGE_WEIGHT_SECTION\n1 2\n", 5, "has 2 weights; UPPER_ROW of 3 cities needs 3"),
        (EXPLICIT_HEAD + "EDGE_WEIGHT_SECTION\n1 2\n3\n4\n", 8, "more weights than the 3"),
        (EXPLICIT_HEAD + "EDGE_WEIGHT_SECTION\n1 2\n3x\n", 7, "found '3x'"),
        (
            "TYPE: TSP\nDIMENSION: 2\nEDGE_WEIGHT_TYPE: EXPLICIT\nEDGE_WEIGHT_FORMAT: FULL_MATRIX\n"
            "EDGE_WEIGHT_SECTION\n0 1\n2 0\n",
            5,
            "FULL_MATRIX is not symmetric",
        ),
    ],
)
def test_malformed_instances_name_file_and_line(tmp_path, text, line, words):
    path = write(tmp_path / "bad.tsp", text)
    with pytest.raises(FileFormatError) as caught:
        read_tsplib(path)
    assert caught.value.line == line
    assert str(path) in str(caught.value)
    assert words in str(caught.value)


def test_non_text_instance_is_a_format_error(tmp_path):
    path = tmp_path / "bad.tsp"
    path.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(FileFormatError, match="not a text file"):
        read_tsplib(path)


# ---------------------------------------------------------------- tours


@pytest.mark.parametrize(
    "section",
    [
        "TOUR_SECTION\n3\n1\n2\n-1\nEOF\n",
        "TOUR_SECTION\n3 1 2\n-1\n",
        "TOUR_SECTION\r\n3 1\r\n2\r\n",
        "TOUR_SECTION\n3 1 2 -1\n",
    ],
)
def test_tours_become_zero_based(tmp_path, section):
    path = write(tmp_path / "t.tour", "NAME : t.tour\nTYPE : TOUR\nDIMENSION : 3\n" + section)
    assert read_tour(path) == [2, 0, 1]


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("TYPE: TOUR\nTOUR_SECTION\n1\n-1\n", None, "missing DIMENSION"),
        ("DIMENSION: 2\n", None, "missing TOUR_SECTION"),
        ("TYPE: TSP\nDIMENSION: 2\n", 1, "TYPE 'TSP' is not supported; expected one of TOUR"),
        ("DIMENSION: 3\nTOUR_SECTION\n1 2\n-1\n", 2, "the tour visits 2 of the 3 cities"),
        ("DIMENSION: 3\nTOUR_SECTION\n1 2\n4\n-1\n", 4, "city 4 is outside 1..3"),
        ("DIMENSION: 3\nTOUR_SECTION\n1 0 2\n-1\n", 3, "city 0 is outside 1..3"),
        ("DIMENSION: 3\nTOUR_SECTION\n1 2\n1\n-1\n", 4, "city 1 is visited twice"),
        ("DIMENSION: 3\nTOUR_SECTION\n1 2 x\n-1\n", 3, "expected an integer, found 'x'"),
        ("DIMENSION: 3\nTOUR_SECTION\n1 2 3\n-1\n2 3 1\n-1\n", 5, "goes on after the -1"),
    ],
)
def test_malformed_tours_name_file_and_line(tmp_path, text, line, words):
    path = write(tmp_path / "bad.tour", text)
    with pytest.raises(FileFormatError) as caught:
        read_tour(path)
    assert caught.value.line == line
    assert str(path) in str(caught.value)
    assert words in str(caught.value)


# ---------------------------------------------------------------- the benchmark instances

TOUR_NAMES = sorted(path.name.removesuffix(".opt.tour") for path in DATA.glob("tsplib/*.opt.tour")) if DATA else []


@needs_data
@pytest.mark.parametrize("name", TOUR_NAMES or ["(no data)"])
def test_optimal_tours_have_the_optimal_lengths(name):
    instance = read_tsplib(DATA / "tsplib" / f"{name}.tsp")
    tour = read_tour(DATA / "tsplib" / f"{name}.opt.tour")
    assert len(tour) == instance.dimension
    assert tour_length(instance, tour) == tsplib_optimal_lengths()[name]
    assert instance.to_graph().size(weight="weight") == instance.distance_matrix().sum() / 2


@needs_data
def test_every_instance_is_listed_and_all_but_burma14_have_a_tour():
    instances = {path.stem for path in (DATA / "tsplib").glob("*.tsp")}
    assert set(tsplib_optimal_lengths()) == instances
    assert instances - set(TOUR_NAMES) == {"burma14"}


@needs_data
def test_burma14_geo_distances_and_optimum():
    instance = read_tsplib(DATA / "tsplib" / "burma14.tsp")
    assert (instance.dimension, instance.edge_weight_type) == (14, "GEO")
    # The first row of burma14's distance matrix as published with TSPLIB solutions.
    assert instance.distance_matrix()[0].tolist() == [0, 153, 510, 706, 966, 581, 455, 70, 160, 372, 157, 567, 342, 398]
    assert held_karp(instance.distance_matrix()) == tsplib_optimal_lengths()["burma14"] == 3323


def test_optimal_lengths_lines_are_checked(tmp_path):
    (tmp_path / "tsplib").mkdir()
    write(tmp_path / "tsplib" / "optimal_lengths.txt", "a : 1\nb:2\n\nc 3\n")
    with pytest.raises(FileFormatError) as caught:
        tsplib_optimal_lengths(tmp_path)
    assert caught.value.line == 4
    write(tmp_path / "tsplib" / "optimal_lengths.txt", "a : 1\nb:2\n")
    assert tsplib_optimal_lengths(tmp_path) == {"a": 1, "b": 2}
