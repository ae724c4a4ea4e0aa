"""Every reader answers damaged or hostile input with a FileFormatError naming the file, quickly:
no header is trusted before the file bears it out, so nothing is allocated for a size it declares."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gnnsolve.adapters.datasets import (
    read_cplib,
    read_dblp_temporal,
    read_dimacs,
    read_edgelist,
    read_gml,
    read_gset,
    read_konect,
)
from gnnsolve.adapters.tsplib import read_tour, read_tsplib
from gnnsolve.errors import FileFormatError
from gnnsolve.instances import read_instance
from gnnsolve.io import read_bqm

SECONDS = 2.0
"""The most a reader may take to refuse any input here (each is a few hundred bytes)."""

TSP_HEAD = "NAME: t\nTYPE: TSP\nEDGE_WEIGHT_TYPE: EUC_2D\n"
EXPLICIT_HEAD = "NAME: t\nTYPE: TSP\nEDGE_WEIGHT_TYPE: EXPLICIT\nEDGE_WEIGHT_FORMAT: UPPER_ROW\n"

READERS = {  # each reader with a small well-formed file of its format
    "gset": (read_gset, "g.txt", "4 3\n1 2 1\n2 3 -1\n3 4 1\n"),
    "dimacs": (read_dimacs, "g.clq", "c a path\np edge 4 3\ne 1 2\ne 2 3\ne 3 4\n"),
    "cplib": (read_cplib, "c.txt", "4\n1 -2 3\n4 -5\n6\n"),
    "konect": (read_konect, "out.k", "% sym unweighted\n% 3 4 4\n1 2 1 10\n2 3 1 11\n3 4 1 12\n"),
    "dblp": (read_dblp_temporal, "dblp.txt", "0 1 0.5\n1 2 0.25\n2 3 1\n"),
    "gml": (read_gml, "g.gml", "graph [\n node [ id 0 ]\n node [ id 1 ]\n edge [ source 0 target 1 ]\n]\n"),
    "edgelist": (read_edgelist, "g.edgelist", "# a path\n0 1\n1 2\n2 3\n"),
    "tsplib": (read_tsplib, "t.tsp", TSP_HEAD + "DIMENSION: 3\nNODE_COORD_SECTION\n1 0 0\n2 3 0\n3 0 4\nEOF\n"),
    "tsplib explicit": (read_tsplib, "e.tsp", EXPLICIT_HEAD + "DIMENSION: 3\nEDGE_WEIGHT_SECTION\n1 2\n3\nEOF\n"),
    "tour": (read_tour, "t.tour", "NAME: t\nTYPE: TOUR\nDIMENSION: 3\nTOUR_SECTION\n1\n3\n2\n-1\nEOF\n"),
    "bqm": (read_bqm, "m.coo", "# vartype=SPIN\n0 0 -1.0\n0 1 0.5\n1 2 -2\n"),
}

HUGE_HEADERS = {  # a declared size the file does not bear out, and a number no float holds
    "gset nodes": (read_gset, "2000000000 1\n1 2 1\n", "n=2000000000"),
    "gset edges": (read_gset, "3 2000000000\n1 2 1\n", "m=2000000000"),
    "dimacs nodes": (read_dimacs, "p edge 2000000000 1\ne 1 2\n", "n=2000000000"),
    "konect nodes": (read_konect, "% sym unweighted\n% 1 2000000000 2000000000\n1 2 1 5\n", "n=2000000000"),
    "cplib nodes": (read_cplib, "2000000000\n1 2 3\n", "n=2000000000"),
    "tsplib cities": (
        read_tsplib,
        TSP_HEAD + "DIMENSION: 2000000000\nNODE_COORD_SECTION\n1 0 0\n2 1 1\nEOF\n",
        "gives 2 of the 2000000000 cities",
    ),
    "tsplib matrix": (read_tsplib, EXPLICIT_HEAD + "DIMENSION: 100000\nEDGE_WEIGHT_SECTION\n1 2 3\nEOF\n", "has 3 weights"),
    "tour cities": (read_tour, "TYPE: TOUR\nDIMENSION: 2000000000\nTOUR_SECTION\n1\n2\n-1\n", "visits 2 of"),
    "tsplib 1e400 coordinate": (
        read_tsplib,
        TSP_HEAD + "DIMENSION: 3\nNODE_COORD_SECTION\n1 0 0\n2 1e400 0\n3 0 4\n",
        "1e400 is beyond the range of a float",
    ),
    "tsplib 1e400 weight": (
        read_tsplib,
        EXPLICIT_HEAD + "DIMENSION: 3\nEDGE_WEIGHT_SECTION\n1 -1e400 3\n",
        "-1e400 is beyond the range of a float",
    ),
}


def refused(reader, path: Path) -> FileFormatError:
    """The FileFormatError ``reader`` raises on ``path``, checked to name the file and to come in time."""
    start = time.perf_counter()
    with pytest.raises(FileFormatError) as caught:
        reader(path)
    assert time.perf_counter() - start < SECONDS
    assert str(path) in str(caught.value)
    return caught.value


def read_or_refuse(reader, path: Path) -> None:
    """``reader`` either reads ``path`` or refuses it with a FileFormatError naming it, in time."""
    start = time.perf_counter()
    try:
        reader(path)
    except FileFormatError as err:
        assert str(path) in str(err)
    assert time.perf_counter() - start < SECONDS


@pytest.mark.parametrize("name", READERS)
def test_every_reader_reads_its_sample(name, tmp_path):
    reader, filename, text = READERS[name]
    path = tmp_path / filename
    path.write_text(text)
    reader(path)


@pytest.mark.parametrize("name", READERS)
def test_every_reader_refuses_a_0_byte_file_and_a_directory(name, tmp_path):
    reader, filename, _ = READERS[name]
    empty = tmp_path / filename
    empty.write_bytes(b"")
    assert "the file is empty (0 bytes)" in str(refused(reader, empty))
    folder = tmp_path / "folder"
    folder.mkdir()
    assert "a directory, not a file" in str(refused(reader, folder))


@pytest.mark.parametrize("name", HUGE_HEADERS)
def test_a_size_the_file_does_not_bear_out_is_refused_before_allocating(name, tmp_path):
    reader, text, words = HUGE_HEADERS[name]
    path = tmp_path / "huge"
    path.write_text(text)
    assert words in str(refused(reader, path))


def test_isolated_nodes_are_read_up_to_the_allowance(tmp_path):
    graph = read_gset(_written(tmp_path / "g.txt", "1000 1\n1 2 5\n"))
    assert graph.number_of_nodes() == 1000 and graph.number_of_edges() == 1


@pytest.mark.parametrize("name", READERS)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_truncated_file_is_read_or_refused_by_name(name, tmp_path, data):
    reader, filename, text = READERS[name]
    cut = data.draw(st.integers(1, len(text) - 1), label="bytes kept")
    read_or_refuse(reader, _written(tmp_path / filename, text[:cut]))


@pytest.mark.parametrize("name", READERS)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(garbage=st.binary(min_size=1, max_size=400) | st.text(min_size=1, max_size=400))
def test_garbage_is_read_or_refused_by_name(name, tmp_path, garbage):
    reader, filename, _ = READERS[name]
    path = tmp_path / filename
    path.write_bytes(garbage if isinstance(garbage, bytes) else garbage.encode())
    read_or_refuse(reader, path)


@pytest.mark.parametrize("kind", ["bqm", "maxcut", "mis", "tsp"])
def test_instances_refuse_a_directory_and_a_missing_file_as_format_errors(kind, tmp_path):
    assert "a directory, not a file" in str(refused(lambda path: read_instance(path, kind), tmp_path))
    assert "cannot read the file" in str(refused(lambda path: read_instance(path, kind), tmp_path / "absent"))


def _written(path: Path, text: str) -> Path:
    path.write_text(text)
    return path
