"""Readers of DIMACS, CP-Lib, KONECT, DBLP, GML and edge-list files, and the benchmark catalogues."""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gnnsolve.adapters.datasets import (
    bhoslib_catalogue,
    cplib_catalogue,
    pignn_dregular_catalogue,
    read_cplib,
    read_dblp_temporal,
    read_dimacs,
    read_edgelist,
    read_gml,
    read_konect,
    static_graph,
    tsplib_optimal_lengths,
)
from gnnsolve.errors import FileFormatError
from shared_data import DATA, needs_data, write


def assert_format_error(reader, path: Path, line: int | None, words: str) -> None:
    with pytest.raises(FileFormatError) as caught:
        reader(path)
    assert caught.value.line == line
    assert str(path) in str(caught.value)
    assert words in str(caught.value)


# ---------------------------------------------------------------- DIMACS


def test_dimacs_keeps_isolated_nodes_and_accepts_crlf_and_col(tmp_path):
    path = write(tmp_path / "g.col", "c a comment\r\nc\r\np col 5 3 \r\ne 1 2\r\n\r\ne 2 3\r\ne 5 2\r\n")
    graph = read_dimacs(path)
    assert sorted(graph.nodes) == [0, 1, 2, 3, 4]
    assert sorted(graph.edges) == [(0, 1), (1, 2), (1, 4)]


def test_dimacs_edges_listed_twice_count_towards_m_and_appear_once(tmp_path):
    graph = read_dimacs(write(tmp_path / "g.clq", "p edge 3 4\ne 1 2\ne 2 1\ne 2 3\ne 3 2\n"))
    assert graph.number_of_edges() == 2


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("c nothing\n", None, "missing the problem line"),
        ("e 1 2\np edge 2 1\n", 1, "expected the problem line 'p edge n m', found 'e 1 2'"),
        ("c x\np edge 2 1\np edge 2 1\ne 1 2\n", 3, "expected an edge 'e u v', found 'p edge 2 1'"),
        ("p sp 2 1\ne 1 2\n", 1, "expected the problem line 'p edge n m', found 'p sp 2 1'"),
        ("p edge 2\ne 1 2\n", 1, "the problem line 'p edge n m'"),
        ("p edge 2 -1\n", 1, "declares n=2, m=-1; both must be non-negative"),
        ("p edge 2 1\ne 1 3\n", 2, "node index 3 is outside 1..2"),
        ("p edge 2 1\ne 0 1\n", 2, "node index 0 is outside 1..2"),
        ("p edge 2 1\ne 2 2\n", 2, "edge (2, 2) is a self-loop"),
        ("p edge 2 1\ne 1 x\n", 2, "an edge 'e u v'"),
        ("p edge 2 1\nn 1 5\n", 2, "expected an edge 'e u v', found 'n 1 5'"),
        ("p edge 3 2\ne 1 2\n", 1, "declares m=2 edges but the file has 1"),
        ("p edge 3 1\ne 1 2\ne 2 3\n", 1, "declares m=1 edges but the file has 2"),
    ],
)
def test_malformed_dimacs_names_file_and_line(tmp_path, text, line, words):
    assert_format_error(read_dimacs, write(tmp_path / "bad.clq", text), line, words)


BHOSLIB = sorted(bhoslib_catalogue()) if DATA else []


@needs_data
@pytest.mark.parametrize("name", BHOSLIB or ["(no data)"])
def test_bhoslib_graphs_match_their_problem_line_and_clique_cover(name):
    instance = bhoslib_catalogue()[name]
    path = DATA / "bhoslib" / instance.file
    _, _, n, m = next(line for line in path.read_text().splitlines() if line.startswith("p")).split()
    graph = read_dimacs(path)
    assert (graph.number_of_nodes(), graph.number_of_edges()) == (int(n), int(m)) == (instance.nodes, int(m))
    # Model RB: mis cliques of consecutive nodes cover the graph, so no independent set is larger.
    size = instance.nodes // instance.mis
    for start in range(0, instance.nodes, size):
        clique = range(start, start + size)
        assert graph.subgraph(clique).number_of_edges() == size * (size - 1) // 2


@needs_data
def test_bhoslib_catalogue_and_the_complement_file():
    catalogue = bhoslib_catalogue()
    assert len(catalogue) == 10
    assert {(i.nodes, i.mis) for i in catalogue.values()} == {(450, 30), (595, 35)}
    assert [i.name for i in catalogue.values() if i.complement_file] == ["frb30-15-1"]
    edges = {frozenset(edge) for edge in read_dimacs(DATA / "bhoslib" / "frb30-15-1.mis").edges}
    complement = {frozenset(edge) for edge in read_dimacs(DATA / "bhoslib" / "frb30-15-1.clq").edges}
    assert not edges & complement
    assert len(edges | complement) == 450 * 449 // 2


# ---------------------------------------------------------------- CP-Lib


def test_cplib_reads_the_upper_triangle_across_any_line_breaks(tmp_path):
    matrix = read_cplib(write(tmp_path / "c.txt", "4\r\n1 -2\r\n3\r\n4 5 -6 \r\n\r\n"))
    assert matrix.dtype == np.int64
    np.testing.assert_array_equal(matrix, [[0, 1, -2, 3], [1, 0, 4, 5], [-2, 4, 0, -6], [3, 5, -6, 0]])
    assert sorted(nx.from_numpy_array(matrix).edges(data="weight"))[:2] == [(0, 1, 1), (0, 2, -2)]


@st.composite
def upper_triangles(draw):
    n = draw(st.integers(1, 9))
    pairs = n * (n - 1) // 2
    return n, draw(st.lists(st.integers(-99, 99), min_size=pairs, max_size=pairs))


@settings(max_examples=50, deadline=None)
@given(upper_triangles(), st.integers(1, 10))
def test_cplib_round_trip(tmp_path_factory, triangle, per_line):
    n, weights = triangle
    lines = [" ".join(map(str, weights[k : k + per_line])) for k in range(0, len(weights), per_line)]
    matrix = read_cplib(write(tmp_path_factory.mktemp("cplib") / "c.txt", "\n".join([str(n), *lines])))
    rows, cols = np.triu_indices(n, k=1)
    assert matrix[rows, cols].tolist() == weights
    np.testing.assert_array_equal(matrix, matrix.T)
    assert not np.diag(matrix).any()


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("", None, "the file is empty"),
        ("three\n1 2 3\n", 1, "expected the number of nodes n, found 'three'"),
        ("0\n", 1, "must be positive"),
        ("3\n1 2\n", 1, "n=3 needs 3 weights but the file has 2"),
        ("3\n1 2\n3\n4\n", 4, "more than the 3 weights"),
        ("3\n1 2.5\n3\n", 2, "expected an integer weight, found '2.5'"),
    ],
)
def test_malformed_cplib_names_file_and_line(tmp_path, text, line, words):
    assert_format_error(read_cplib, write(tmp_path / "bad.txt", text), line, words)


@needs_data
def test_every_cplib_instance_matches_its_index_row():
    catalogue = cplib_catalogue()
    assert len(catalogue) == 87
    assert {i.family for i in catalogue.values()} == {"ABR", "ClusEdit", "Correlation", "Equicut"}
    for instance in catalogue.values():
        matrix = read_cplib(DATA / "cplib" / instance.file)
        assert matrix.shape == (instance.n, instance.n), instance.name
        assert np.count_nonzero(np.triu(matrix)) == instance.nonzero_weights, instance.name
    assert catalogue["cars"].optimal_value == 1501
    assert catalogue["ce60-30"].optimal_value is None


@needs_data
@pytest.mark.parametrize(("name", "order"), [("karate", "label"), ("dolphins", "id")])
def test_modularity_instances_are_2m_a_minus_d_d(name, order):
    # karate.txt numbers the nodes by their GML label (networkx's karate_club_graph order),
    # dolphins.txt by their GML id.
    graph = read_gml(DATA / "community" / f"{name}.gml")
    nodes = sorted(graph, key=lambda node: int(graph.nodes[node]["label"]) if order == "label" else node)
    adjacency = nx.to_numpy_array(graph, nodelist=nodes, dtype=np.int64)
    degrees = adjacency.sum(axis=1)
    expected = 2 * graph.number_of_edges() * adjacency - np.outer(degrees, degrees)
    np.fill_diagonal(expected, 0)
    np.testing.assert_array_equal(read_cplib(DATA / "modularity" / f"{name}.txt"), expected)


def test_cplib_catalogue_with_missing_columns_is_a_format_error(tmp_path):
    (tmp_path / "cplib").mkdir()
    write(tmp_path / "cplib" / "cplib_index.csv", "family,instance,file,n\nABR,cars,ABR/cars.txt,33\n")
    with pytest.raises(FileFormatError, match="missing columns"):
        cplib_catalogue(tmp_path)


# ---------------------------------------------------------------- KONECT and DBLP

KONECT_HEAD = "% sym positive\n% 3 4 4\n"


def test_konect_events_keep_file_order_and_become_zero_based(tmp_path):
    path = write(tmp_path / "out.t", "% asym positive\r\n% 3 4 4\r\n2 1 1 30\r\n1 2 1 10\r\n4 4 2.5 20\r\n")
    events = read_konect(path)
    assert (len(events), events.num_nodes, events.directed) == (3, 4, True)
    assert events.sources.tolist() == [1, 0, 3]
    assert events.targets.tolist() == [0, 1, 3]
    assert events.weights.tolist() == [1, 1, 2.5]
    assert events.times.tolist() == [30, 10, 20]
    assert not read_konect(write(tmp_path / "out.s", KONECT_HEAD + "1 2 1 1\n1 2 1 2\n2 3 1 3\n")).directed


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("", None, "the file is empty (0 bytes)"),
        ("\n", None, "expected the KONECT format line"),
        ("1 2 1 5\n% 1 2 2\n", 1, "found '1 2 1 5'"),
        ("% bip unweighted\n% 1 2 2\n1 1 1 1\n", 1, "'% sym <weights>' or '% asym <weights>'"),
        ("% sym positive\n1 2 1 5\n", 2, "expected the KONECT size line '% m n n', found '1 2 1 5'"),
        ("% sym positive\n% 1 two 2\n1 2 1 5\n", 2, "expected the KONECT size line '% m n n'"),
        (KONECT_HEAD + "1 2 1 5\n1 2 1\n", 4, "expected an edge 'u v weight time', found '1 2 1'"),
        (KONECT_HEAD + "1 2 1 nan\n", 3, "found '1 2 1 nan'"),
        (KONECT_HEAD + "1 5 1 1\n", 3, "node index 5 is outside 1..4"),
        (KONECT_HEAD + "1 2 1 1\n2 3 1 1\n", 2, "declares 3 edges but the file has 2"),
    ],
)
def test_malformed_konect_names_file_and_line(tmp_path, text, line, words):
    assert_format_error(read_konect, write(tmp_path / "out.bad", text), line, words)


def test_static_graph_drops_self_loops_and_repeats_and_keeps_every_node(tmp_path):
    path = write(tmp_path / "out.t", "% asym positive\n% 4 5 5\n1 2 1 1\n2 1 1 2\n3 3 1 3\n1 2 1 4\n")
    graph = static_graph(read_konect(path))
    assert sorted(graph.nodes) == [0, 1, 2, 3, 4]
    assert sorted(graph.edges) == [(0, 1)]


def test_dblp_rows_are_zero_based_and_undirected(tmp_path):
    events = read_dblp_temporal(write(tmp_path / "dblp.txt", "0 3 0.0\r\n3 0 0.038462\r\n2 2 0.5\r\n"))
    assert (len(events), events.num_nodes, events.directed) == (3, 4, False)
    assert events.sources.tolist() == [0, 3, 2]
    assert events.times.tolist() == [0.0, 0.038462, 0.5]
    assert events.weights.tolist() == [1, 1, 1]
    assert sorted(static_graph(events).edges) == [(0, 3)]
    negative = write(tmp_path / "negative.txt", "0 1 0.0\n-1 2 0.0\n")
    assert_format_error(read_dblp_temporal, negative, 2, "node index -1 is below 0")
    assert_format_error(read_dblp_temporal, write(tmp_path / "short.txt", "0 1 0.0\n1 2\n"), 2, "an edge 'u v t'")


@needs_data
@pytest.mark.parametrize(
    ("file", "events", "nodes", "pairs", "directed"),
    [
        ("konect_sociopatterns-infectious/out.sociopatterns-infectious", 17_298, 410, 2_765, False),
        ("konect_opsahl-ucsocial/out.opsahl-ucsocial", 59_835, 1_899, 13_838, True),
    ],
)
def test_konect_networks_have_the_stated_sizes(file, events, nodes, pairs, directed):
    temporal = read_konect(DATA / file)
    graph = static_graph(temporal)
    assert (len(temporal), temporal.num_nodes, temporal.directed) == (events, nodes, directed)
    assert (graph.number_of_nodes(), graph.number_of_edges()) == (nodes, pairs)
    assert min(dict(graph.degree).values()) > 0


@needs_data
def test_infectious_events_stay_in_file_order():
    # The file is sorted by node pair, not by time; the reader must not reorder it.
    times = read_konect(DATA / "konect_sociopatterns-infectious" / "out.sociopatterns-infectious").times
    assert times[:3].tolist() == [1247658439, 1247660019, 1247658579]
    assert np.any(np.diff(times) < 0)


@needs_data
def test_dblp_has_the_stated_sizes_and_25_time_steps():
    events = read_dblp_temporal(DATA / "dblp_temporal" / "dblp.txt")
    graph = static_graph(events)
    assert (len(events), events.num_nodes) == (185_480, 25_387)
    assert (graph.number_of_nodes(), graph.number_of_edges()) == (25_387, 119_899)
    steps = np.unique(np.round(events.times * 26, 3))
    assert steps.tolist() == list(range(25))


# ---------------------------------------------------------------- GML


def test_gml_nodes_are_the_ids_and_keep_their_attributes(tmp_path):
    path = write(
        tmp_path / "g.gml",
        'graph [\n node [ id 0 label "b" gt "x" ]\n node [ id 1 label "a" gt 2 ]\n edge [ source 0 target 1 ]\n]\n',
    )
    graph = read_gml(path)
    assert dict(graph.nodes(data=True)) == {0: {"label": "b", "gt": "x"}, 1: {"label": "a", "gt": 2}}
    assert sorted(read_gml(path, label="label").nodes) == ["a", "b"]


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("graph [\n node [ id 0 ]\n", 3, "expected ']', found EOF"),
        ("graph [\n node [ id 0 ]\n $$ \n]\n", 3, "cannot tokenize"),
        ("graph [ node [ id 0 ] edge [ source 0 ] ]", None, "no 'target' attribute"),
        ("graph [ node [ id 0 ] node [ id 0 ] ]", None, "node id 0 is duplicated"),
        ("", None, "the file is empty (0 bytes)"),
        ("\n", None, "input contains no graph"),
        ("graph [ node [ id [ a 1 ] ] ]", None, "not a GML graph (TypeError"),
    ],
)
def test_malformed_gml_names_file_and_line(tmp_path, text, line, words):
    assert_format_error(read_gml, write(tmp_path / "bad.gml", text), line, words)


@needs_data
@pytest.mark.parametrize(
    ("name", "nodes", "edges", "classes"),
    [
        ("karate", 34, 78, 2),
        ("dolphins", 62, 159, 2),
        ("football", 115, 613, 12),
        ("polbooks", 105, 441, 3),
        ("cora", 2_708, 5_278, 7),
        ("citeseer", 3_327, 4_676, 6),
    ],
)
def test_community_graphs(name, nodes, edges, classes):
    graph = read_gml(DATA / "community" / f"{name}.gml")
    assert (graph.number_of_nodes(), graph.number_of_edges()) == (nodes, edges)
    assert sorted(graph.nodes) == list(range(nodes))
    assert len(set(nx.get_node_attributes(graph, "gt").values())) == classes


# ---------------------------------------------------------------- edge lists and the regular graphs


def test_edgelist_nodes_are_sorted_and_comments_skipped(tmp_path):
    graph = read_edgelist(write(tmp_path / "g.edgelist", "# header\r\n# 4 3\r\n3 1\r\n0 3\r\n\r\n2 0\r\n"))
    assert list(graph.nodes) == [0, 1, 2, 3]
    assert sorted(graph.edges) == [(0, 2), (0, 3), (1, 3)]


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("0 1\n1 0\n", 2, "edge (1, 0) appears twice"),
        ("0 1\n1\n", 2, "expected an edge 'u v', found '1'"),
        ("0 1\n1 2 {}\n", 2, "found '1 2 {}'"),
        ("0 -1\n", 1, "node index -1 is below 0"),
    ],
)
def test_malformed_edgelist_names_file_and_line(tmp_path, text, line, words):
    assert_format_error(read_edgelist, write(tmp_path / "bad.edgelist", text), line, words)


@needs_data
def test_regular_graphs_match_their_catalogue():
    catalogue = pignn_dregular_catalogue()
    assert len(catalogue) == 10
    for instance in catalogue.values():
        graph = read_edgelist(DATA / "pignn_dregular" / instance.file)
        assert list(graph.nodes) == list(range(instance.n)), instance.name
        assert graph.number_of_edges() == instance.edges == instance.n * instance.d // 2
        assert {degree for _, degree in graph.degree} == {instance.d}
    assert (catalogue["reg_n100_d3_seed0"].mis, catalogue["reg_n100_d3_seed0"].maxcut) == (45, 137)


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ('[\n {"file": "a.edgelist",\n', 3, "Expecting"),
        ('[{"file": "a.edgelist", "n": 4}]', None, "expected a list of objects with file, n, d"),
        ('[{"file": "a", "n": 4, "d": 3, "seed": 0, "edges": 6, "mis": "x", "maxcut": 4}]', None, "expected a list"),
    ],
)
def test_malformed_regular_graph_catalogue(tmp_path, text, line, words):
    (tmp_path / "pignn_dregular").mkdir()
    table = write(tmp_path / "pignn_dregular" / "optima.json", text)
    assert_format_error(lambda _: pignn_dregular_catalogue(tmp_path), table, line, words)


def test_regular_graph_catalogue_reads_every_entry(tmp_path):
    (tmp_path / "pignn_dregular").mkdir()
    entry = {"file": "g.edgelist", "n": 4, "d": 3, "seed": 1, "edges": 6, "mis": 1, "maxcut": 4, "mis_time": 0.1}
    write(tmp_path / "pignn_dregular" / "optima.json", json.dumps([entry]))
    assert pignn_dregular_catalogue(tmp_path)["g"].maxcut == 4


# ---------------------------------------------------------------- catalogues without data


@pytest.mark.parametrize("catalogue", [tsplib_optimal_lengths, cplib_catalogue, bhoslib_catalogue, pignn_dregular_catalogue])
def test_catalogues_without_data_say_where_to_put_it(monkeypatch, tmp_path, catalogue):
    monkeypatch.setenv("GNNSOLVE_DATA", str(tmp_path / "absent"))
    with pytest.raises(FileNotFoundError, match="GNNSOLVE_DATA"):
        catalogue()
