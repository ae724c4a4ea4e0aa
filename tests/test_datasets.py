"""Dataset readers (G-set), the benchmark data location, and the MaxCut model of a graph."""

from __future__ import annotations

from pathlib import Path

import dimod
import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gnnsolve.adapters.datasets import (
    gset_catalogue,
    load_gset_best_known,
    read_gset,
    shared_data_dir,
)
from gnnsolve.adapters.graphs import cut_value, maxcut_bqm
from gnnsolve.errors import FileFormatError
from shared_data import DATA, needs_data, write

# ---------------------------------------------------------------- G-set reader


def test_read_gset_accepts_crlf_trailing_spaces_and_blank_lines(tmp_path):
    path = write(tmp_path / "g.txt", "4 3 \r\n1 2 1 \r\n2 3 -1\r\n4 1 1\r\n\r\n")
    graph = read_gset(path)
    assert sorted(graph.nodes) == [0, 1, 2, 3]
    assert sorted(graph.edges(data="weight")) == [(0, 1, 1), (0, 3, 1), (1, 2, -1)]


def test_read_gset_keeps_isolated_nodes(tmp_path):
    graph = read_gset(write(tmp_path / "g.txt", "5 1\n1 2 1\n"))
    assert graph.number_of_nodes() == 5


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("", None, "empty"),
        ("4\n", 1, "header 'n m'"),
        ("4 x\n1 2 1\n", 1, "header 'n m'"),
        ("-1 0\n", 1, "non-negative"),
        ("3 2\n1 2 1\n", 1, "declares m=2 edges but the file has 1"),
        ("3 1\n1 2 1\n2 3 1\n", 3, "more edge lines than the m=1"),
        ("3 2\n1 2 1\n2 3 1.5\n", 3, "'2 3 1.5'"),
        ("3 2\n1 2 1\n2 3\n", 3, "an edge 'i j w'"),
        ("3 2\n1 2 1\n2 4 1\n", 3, "node index 4 is outside 1..3"),
        ("3 2\n0 2 1\n2 3 1\n", 2, "node index 0 is outside 1..3"),
        ("3 2\n1 2 1\n2 1 1\n", 3, "edge (2, 1) appears twice"),
    ],
)
def test_malformed_gset_names_file_and_line(tmp_path, text, line, words):
    path = write(tmp_path / "bad.txt", text)
    with pytest.raises(FileFormatError) as caught:
        read_gset(path)
    assert caught.value.line == line
    assert str(path) in str(caught.value)
    assert words in str(caught.value)


def test_non_text_gset_is_a_format_error(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(FileFormatError, match="not a text file"):
        read_gset(path)


@needs_data
def test_g1_has_800_nodes_and_19176_unit_edges():
    graph = read_gset(DATA / "gset" / "G1.txt")
    assert graph.number_of_nodes() == 800
    assert graph.number_of_edges() == 19176
    assert {w for _, _, w in graph.edges(data="weight")} == {1}


@needs_data
def test_every_gset_file_matches_its_catalogue_row():
    catalogue = gset_catalogue()
    assert len(catalogue) == 22
    for instance in catalogue.values():
        graph = read_gset(DATA / "gset" / instance.file)
        assert (graph.number_of_nodes(), graph.number_of_edges()) == (instance.nodes, instance.edges), instance.name


@needs_data
def test_best_known_values():
    assert load_gset_best_known("G1") == 11624
    assert load_gset_best_known("g14.txt") == 3064
    with pytest.raises(ValueError, match="unknown G-set instance 'G99'"):
        load_gset_best_known("G99")


# ---------------------------------------------------------------- data location


def test_shared_data_dir_honours_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("GNNSOLVE_DATA", str(tmp_path))
    assert shared_data_dir() == tmp_path
    monkeypatch.setenv("GNNSOLVE_DATA", str(tmp_path / "absent"))
    assert shared_data_dir() is None


def test_shared_data_dir_defaults_beside_the_project(monkeypatch):
    monkeypatch.delenv("GNNSOLVE_DATA", raising=False)
    project_root = Path(__file__).resolve().parent.parent
    expected = project_root.parent / "shared" / "data"
    assert shared_data_dir() == (expected if expected.is_dir() else None)


def test_catalogue_without_data_says_where_to_put_it(monkeypatch, tmp_path):
    monkeypatch.setenv("GNNSOLVE_DATA", str(tmp_path / "absent"))
    with pytest.raises(FileNotFoundError, match="GNNSOLVE_DATA"):
        gset_catalogue()


def test_catalogue_with_missing_columns_is_a_format_error(tmp_path):
    (tmp_path / "gset").mkdir()
    write(tmp_path / "gset" / "best_known.csv", "instance,nodes\nG1,800\n")
    with pytest.raises(FileFormatError, match="missing columns"):
        gset_catalogue(tmp_path)


# ---------------------------------------------------------------- MaxCut model


@st.composite
def weighted_graphs_and_spins(draw):
    n = draw(st.integers(1, 12))
    weights = st.one_of(st.integers(-3, 3), st.floats(-2, 2, allow_nan=False, width=32))
    edges = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1), weights), max_size=30))
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    graph.add_weighted_edges_from(edges)
    spins = draw(st.lists(st.sampled_from([-1, 1]), min_size=n, max_size=n))
    return graph, dict(enumerate(spins))


@settings(max_examples=200, deadline=None)
@given(weighted_graphs_and_spins())
def test_maxcut_energy_is_minus_the_cut(graph_and_spins):
    graph, spins = graph_and_spins
    bqm = maxcut_bqm(graph)
    assert bqm.vartype is dimod.SPIN
    assert set(bqm.variables) == set(graph.nodes)
    assert float(bqm.energy(spins)) == pytest.approx(-cut_value(graph, spins), abs=1e-9)


def test_self_loops_never_cut_and_are_left_out():
    graph = nx.Graph([(0, 1), (1, 1)])
    bqm = maxcut_bqm(graph)
    assert bqm.num_interactions == 1
    assert bqm.linear[1] == 0.0
    assert bqm.offset == -0.5
    assert cut_value(graph, {0: 1, 1: -1}) == 1
    assert cut_value(nx.Graph([(2, 2)]), {2: 1}) == 0


def test_unweighted_edges_weigh_one_and_other_attributes_can_be_named():
    graph = nx.Graph()
    graph.add_edge("a", "b", capacity=3)
    graph.add_edge("b", "c")
    spins = {"a": 1, "b": -1, "c": 1}
    assert cut_value(graph, spins) == 2
    assert cut_value(graph, spins, weight="capacity") == 4
    assert float(maxcut_bqm(graph, weight="capacity").energy(spins)) == -4


def test_binary_samples_cut_the_same_way():
    graph = nx.cycle_graph(5)
    assert cut_value(graph, {0: 0, 1: 1, 2: 0, 3: 1, 4: 1}) == 4


@needs_data
def test_g1_model_has_one_coupling_per_edge():
    bqm = maxcut_bqm(read_gset(DATA / "gset" / "G1.txt"))
    assert (bqm.num_variables, bqm.num_interactions) == (800, 19176)
    assert bqm.offset == -19176 / 2
