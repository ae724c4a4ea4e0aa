"""TSP: the position QUBO, decoding into tours, 2-opt and Or-opt, exact and learned solving, bad input."""

import itertools
import subprocess
import sys

import dimod
import networkx as nx
import numpy as np
import pytest
from dimod.generators import traveling_salesperson
from dwave.samplers import SimulatedAnnealingSampler
from hypothesis import given, settings
from hypothesis import strategies as st

from gnnsolve import GNNSampler, HiGHSSampler
from gnnsolve.adapters.tsp import DEFAULT_MAX_CITIES, GNN_DEFAULTS, TSP
from gnnsolve.errors import InvalidModelError, ModelTooLargeError
from gnnsolve.search.tsp import local_search, nearest_neighbour_tour, or_opt, tour_length, two_opt

RAW = {"two_opt": False, "or_opt": False}


def random_points(seed: int, n: int) -> np.ndarray:
    return np.random.default_rng(seed).random((n, 2))


def distances(xy: np.ndarray) -> np.ndarray:
    return np.linalg.norm(xy[:, None] - xy[None, :], axis=-1)


def brute_force_length(D: np.ndarray) -> float:
    n = len(D)
    return min(tour_length(D, (0,) + rest) for rest in itertools.permutations(range(1, n)))


def random_sample(problem: TSP, seed: int, density: float) -> dict:
    bits = np.random.default_rng(seed).random(problem.num_cities**2) < density
    return dict(zip(problem.bqm.variables, bits.astype(int)))


def decode_objective(problem: TSP, sample: dict, tour: tuple) -> float:
    """What the decoder minimises: tour length + penalty × choices the sample did not make."""
    disagreements = sum(1 - sample[(city, t)] for t, city in enumerate(tour))
    return problem.evaluate(tour) + problem.penalty * disagreements


# ------------------------------------------------------------------ the model


@settings(max_examples=30, deadline=None)
@given(n=st.integers(3, 7), seed=st.integers(0, 2**16))
def test_a_valid_tours_energy_is_its_length(n, seed):
    problem = TSP.from_coordinates(random_points(seed, n))
    tour = tuple(np.random.default_rng(seed + 1).permutation(n).tolist())
    assert problem.bqm.energy(problem.encode(tour)) == pytest.approx(problem.evaluate(tour), rel=1e-9, abs=1e-9)


def test_the_model_has_n_squared_variables_and_2n2_n_minus_1_interactions():
    problem = TSP.from_coordinates(random_points(0, 6))
    assert problem.bqm.num_variables == 36
    assert problem.bqm.num_interactions == 2 * 36 * 5
    assert set(problem.bqm.variables) == {(c, t) for c in range(6) for t in range(6)}


def generator_bqm(problem: TSP) -> dimod.BinaryQuadraticModel:
    """The model as dimod's generator builds it, one interaction at a time, with the offset restored."""
    G = nx.Graph()
    G.add_nodes_from(problem.labels)
    G.add_weighted_edges_from(
        (u, v, float(problem.distances[i, j])) for (i, u), (j, v) in itertools.combinations(enumerate(problem.labels), 2)
    )
    bqm = traveling_salesperson(G, lagrange=problem.penalty)
    bqm.offset += 2 * problem.num_cities * problem.penalty
    return bqm


@pytest.mark.parametrize("n", [3, 4, 5, 6, 7, 8])
@pytest.mark.parametrize("labels", [None, "names"])
def test_the_model_equals_dimods_generator_variable_for_variable(n, labels):
    names = [f"city {i}" for i in range(n)] if labels else None
    problem = TSP.from_coordinates(random_points(n, n), names, penalty=3.5 if n == 5 else None)
    expected = generator_bqm(problem)
    assert problem.bqm == expected
    assert list(problem.bqm.variables) == list(expected.variables) == problem.bqm_variables


@settings(max_examples=20, deadline=None)
@given(n=st.integers(3, 7), seed=st.integers(0, 2**16), density=st.floats(0, 1))
def test_energies_without_the_model_equal_the_models(n, seed, density):
    problem = TSP.from_coordinates(random_points(seed, n))
    x = (np.random.default_rng(seed).random((5, n, n)) < density).astype(float)
    expected = problem.bqm.energies((x.reshape(5, -1), problem.bqm_variables))
    assert problem.energies(x) == pytest.approx(expected, rel=1e-12, abs=1e-9)


def test_decoding_a_sampleset_does_not_build_the_model():
    problem = TSP.from_coordinates(random_points(3, 7))
    tour = (3, 1, 0, 6, 2, 5, 4)
    sampleset = dimod.SampleSet.from_samples(
        ([list(problem.encode(tour).values())], problem.bqm_variables), dimod.BINARY, energy=[problem.evaluate(tour)]
    )
    (solution,) = TSP(problem.distances, **RAW).decode_sampleset(sampleset)
    assert "bqm" not in problem.__dict__
    assert solution.value == tour and not solution.repaired
    assert solution.energy == pytest.approx(problem.evaluate(tour))
    with pytest.raises(InvalidModelError, match="49 variables"):
        problem.decode_sampleset(dimod.SampleSet.from_samples([{"a": 1}], dimod.BINARY, energy=[0]))


def test_an_invalid_assignment_pays_the_penalty_per_broken_row_or_column():
    problem = TSP.from_coordinates(random_points(1, 5))
    sample = problem.encode((0, 1, 2, 3, 4))
    sample[(4, 4)] = 0  # city 4 and position 4 are now both empty
    assert problem.bqm.energy(sample) == pytest.approx(
        problem.evaluate((0, 1, 2, 3)) - problem.distances[3, 0] + 2 * problem.penalty
    )


def test_penalty_defaults_to_twice_the_largest_distance_and_can_be_set():
    D = [[0, 1, 4], [1, 0, 2], [4, 2, 0]]
    assert TSP(D).penalty == 8.0
    assert TSP(D, penalty=3).penalty == 3.0
    assert TSP(np.zeros((3, 3))).penalty == 1.0


# ------------------------------------------------------------------ decoding


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(3, 8),
    seed=st.integers(0, 2**16),
    density=st.floats(0.0, 1.0),
    decoder=st.sampled_from(["greedy", "beam"]),
    improve=st.booleans(),
)
def test_any_sample_decodes_to_a_permutation_of_all_cities(n, seed, density, decoder, improve):
    problem = TSP.from_coordinates(random_points(seed, n), decoder=decoder, two_opt=improve, or_opt=improve)
    solution = problem.decode(random_sample(problem, seed, density))
    assert sorted(solution.value) == list(range(n))
    assert solution.feasible
    assert solution.objective == pytest.approx(problem.evaluate(solution.value))


@pytest.mark.parametrize("decoder", ["greedy", "beam"])
def test_a_sample_that_is_a_tour_decodes_to_that_tour_unchanged(decoder):
    problem = TSP.from_coordinates(random_points(2, 9), labels="abcdefghi", decoder=decoder, **RAW)
    tour = tuple("dbgiahcfe")
    solution = problem.decode(problem.encode(tour))
    assert solution.value == tour
    assert not solution.repaired
    assert solution.energy == pytest.approx(solution.objective)


def test_improving_a_sampled_tour_marks_it_repaired_and_keeps_its_start():
    problem = TSP.from_coordinates(random_points(3, 12))
    crossed = tuple(np.random.default_rng(3).permutation(12).tolist())
    solution = problem.decode(problem.encode(crossed))
    assert solution.repaired and solution.value[0] == crossed[0]
    assert solution.objective < problem.evaluate(crossed)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(3, 9), seed=st.integers(0, 2**16), density=st.floats(0.0, 0.5), width=st.integers(2, 6))
def test_beam_never_decodes_worse_than_greedy(n, seed, density, width):
    xy = random_points(seed, n)
    greedy = TSP.from_coordinates(xy, decoder="greedy", **RAW)
    beam = TSP.from_coordinates(xy, decoder="beam", beam_width=width, **RAW)
    sample = random_sample(greedy, seed, density)
    assert (
        decode_objective(beam, sample, beam.decode(sample).value)
        <= decode_objective(greedy, sample, greedy.decode(sample).value) + 1e-9
    )


def test_decoding_fills_an_empty_sample_by_distance():
    problem = TSP.from_coordinates(random_points(4, 10), decoder="greedy", **RAW)
    empty = dict.fromkeys(problem.bqm.variables, 0)
    assert problem.decode(empty).value == tuple(nearest_neighbour_tour(problem.distances).tolist())


# ------------------------------------------------------------------ local search


def improving_two_opt_move_exists(D: np.ndarray, tour: np.ndarray) -> bool:
    n = len(tour)
    for i in range(n - 1):
        for j in range(i + 2, n):
            candidate = np.concatenate([tour[: i + 1], tour[i + 1 : j + 1][::-1], tour[j + 1 :]])
            if tour_length(D, candidate) < tour_length(D, tour) - 1e-9:
                return True
    return False


def improving_or_opt_move_exists(D: np.ndarray, tour: np.ndarray) -> bool:
    n = len(tour)
    for start, length in itertools.product(range(n), (1, 2, 3)):
        rolled = np.roll(tour, -start)
        segment, rest = rolled[:length], rolled[length:]
        for k, inserted in itertools.product(range(len(rest) - 1), (segment, segment[::-1])):
            candidate = np.concatenate([rest[: k + 1], inserted, rest[k + 1 :]])
            if tour_length(D, candidate) < tour_length(D, tour) - 1e-9:
                return True
    return False


@settings(max_examples=30, deadline=None)
@given(n=st.integers(3, 12), seed=st.integers(0, 2**16))
def test_two_opt_never_lengthens_and_leaves_no_improving_move(n, seed):
    D = distances(random_points(seed, n))
    start = np.random.default_rng(seed).permutation(n)
    improved = two_opt(D, start)
    assert sorted(improved) == list(range(n)) and improved[0] == start[0]
    assert tour_length(D, improved) <= tour_length(D, start) + 1e-9
    assert not improving_two_opt_move_exists(D, improved)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(3, 12), seed=st.integers(0, 2**16))
def test_or_opt_never_lengthens_and_leaves_no_improving_move(n, seed):
    D = distances(random_points(seed, n))
    start = np.random.default_rng(seed).permutation(n)
    improved = or_opt(D, start)
    assert sorted(improved) == list(range(n)) and improved[0] == start[0]
    assert tour_length(D, improved) <= tour_length(D, start) + 1e-9
    assert not improving_or_opt_move_exists(D, improved)


@settings(max_examples=20, deadline=None)
@given(n=st.integers(3, 12), seed=st.integers(0, 2**16))
def test_local_search_is_locally_optimal_for_both_moves(n, seed):
    D = distances(random_points(seed, n))
    improved = local_search(D, np.random.default_rng(seed).permutation(n))
    assert not improving_two_opt_move_exists(D, improved)
    assert not improving_or_opt_move_exists(D, improved)


@pytest.mark.parametrize("seed", range(4))
def test_local_search_from_nearest_neighbour_tours_reaches_the_optimum_on_small_instances(seed):
    D = distances(random_points(seed, 8))
    best = min(tour_length(D, local_search(D, nearest_neighbour_tour(D, start))) for start in range(8))
    assert best == pytest.approx(brute_force_length(D))


def test_max_rounds_bounds_the_sweeps():
    D = distances(random_points(5, 40))
    start = np.arange(40)
    assert np.array_equal(two_opt(D, start, max_rounds=0), start)
    assert tour_length(D, two_opt(D, start, max_rounds=1)) >= tour_length(D, two_opt(D, start))


# ------------------------------------------------------------------ solving


@pytest.mark.parametrize("exact", ["highs", "gurobi"])
def test_exact_samplers_find_the_brute_force_optimum_on_five_cities(exact):
    if exact == "gurobi":
        pytest.importorskip("gurobipy", reason="gurobipy is not installed")
        from gnnsolve import GurobiSampler as sampler_class
    else:
        sampler_class = HiGHSSampler
    problem = TSP.from_coordinates(random_points(6, 5), **RAW)
    solution, sampleset = problem.solve(sampler_class(), time_limit=30)
    assert sampleset.info["status"] == "optimal"
    assert solution.feasible and not solution.repaired
    assert solution.objective == pytest.approx(brute_force_length(problem.distances))
    assert sampleset.first.energy == pytest.approx(solution.objective)


def test_simulated_annealing_gives_feasible_tours():
    problem = TSP.from_coordinates(random_points(7, 8))
    solution, sampleset = problem.solve(SimulatedAnnealingSampler(), num_reads=4, seed=1)
    assert len(sampleset) == 4
    assert all(s.feasible for s in problem.decode_sampleset(sampleset))
    assert solution.objective == pytest.approx(brute_force_length(problem.distances))


def test_gnn_sampler_uses_graphsage_and_gives_feasible_tours():
    problem = TSP.from_coordinates(random_points(8, 6), labels="uvwxyz")
    assert problem.sample_defaults(GNNSampler()) == GNN_DEFAULTS and GNN_DEFAULTS["conv"] == "sage"
    assert problem.sample_defaults(SimulatedAnnealingSampler()) == {}
    solution, sampleset = problem.solve(GNNSampler(), num_reads=2, seed=0, max_epochs=30)
    assert len(sampleset) == 2 and solution.feasible and set(solution.value) == set("uvwxyz")


def test_sample_defaults_do_not_import_torch():
    code = (
        "import sys\n"
        "from dwave.samplers import SimulatedAnnealingSampler\n"
        "from gnnsolve.adapters.tsp import TSP\n"
        "assert TSP([[0, 1, 1], [1, 0, 1], [1, 1, 0]]).sample_defaults(SimulatedAnnealingSampler()) == {}\n"
        "assert 'torch' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# ------------------------------------------------------------------ constructors


def test_constructors_agree():
    xy = random_points(9, 5)
    labels = ["p", "q", "r", "s", "t"]
    G = nx.complete_graph(labels)
    for i, j in itertools.combinations(range(5), 2):
        G[labels[i]][labels[j]]["km"] = float(np.linalg.norm(xy[i] - xy[j]))
    G.add_edge("p", "p", km=100.0)  # a self-loop is ignored
    by_graph = TSP.from_graph(G, weight="km")
    by_points = TSP.from_coordinates(xy, labels=labels)
    assert by_graph.labels == by_points.labels == tuple(labels)
    np.testing.assert_allclose(by_graph.distances, by_points.distances)
    np.testing.assert_allclose(TSP(by_points.distances, labels).distances, by_points.distances)


def test_from_tsplib_uses_the_instances_distance_matrix():
    class Instance:
        name = "tiny"

        def distance_matrix(self):
            return np.array([[0, 3, 4], [3, 0, 5], [4, 5, 0]])

    problem = TSP.from_tsplib(Instance(), decoder="greedy")
    assert problem.labels == (0, 1, 2) and problem.evaluate((0, 1, 2)) == 12.0


def test_evaluate_and_is_feasible():
    problem = TSP([[0, 1, 2, 1], [1, 0, 1, 2], [2, 1, 0, 1], [1, 2, 1, 0]])
    assert problem.evaluate((0, 1, 2, 3)) == 4.0 and problem.is_feasible((0, 1, 2, 3))
    assert problem.evaluate((0, 2, 1, 3)) == 6.0
    assert not problem.is_feasible((0, 1, 2)) and not problem.is_feasible((0, 1, 2, 2))
    with pytest.raises(InvalidModelError, match="'z' is not a city"):
        problem.evaluate((0, "z", 2, 3))


def test_distances_are_read_only():
    problem = TSP.from_coordinates(random_points(10, 4))
    with pytest.raises(ValueError):
        problem.distances[0, 1] = 5.0


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    "matrix, message",
    [
        ([[0, 1], [1, 0]], "at least 3 cities"),
        ([[0, 1, 2], [1, 0, 3], [2, 4, 0]], "symmetric"),
        ([[0, 1, np.nan], [1, 0, 3], [np.nan, 3, 0]], "finite"),
        ([[0, 1, -2], [1, 0, 3], [-2, 3, 0]], "negative"),
        ([[0, 1, "far"], [1, 0, 3], ["far", 3, 0]], "must be numbers"),
        ([[0, 1, 2], [1, 0, 3]], "square"),
    ],
)
def test_bad_matrices_are_named(matrix, message):
    with pytest.raises(InvalidModelError, match=message):
        TSP(matrix)


def test_bad_graphs_are_named():
    G = nx.complete_graph(4)
    G.remove_edge(1, 3)
    with pytest.raises(InvalidModelError, match="no edge between 1 and 3"):
        TSP.from_graph(G)
    G = nx.complete_graph(["a", "b", "c"])
    G["a"]["c"]["weight"] = "long"
    with pytest.raises(InvalidModelError, match=r"edge \('a', 'c'\)"):
        TSP.from_graph(G)
    with pytest.raises(InvalidModelError, match="undirected"):
        TSP.from_graph(nx.complete_graph(3, create_using=nx.DiGraph))


def test_bad_options_are_refused():
    D = [[0, 1, 1], [1, 0, 1], [1, 1, 0]]
    with pytest.raises(InvalidModelError, match="distinct"):
        TSP(D, labels=["a", "a", "b"])
    with pytest.raises(ValueError, match="decoder"):
        TSP(D, decoder="exact")
    with pytest.raises(ValueError, match="beam_width"):
        TSP(D, beam_width=0)
    with pytest.raises(ValueError, match="penalty"):
        TSP(D, penalty=-1)
    with pytest.raises(InvalidModelError, match="coordinates of city 1"):
        TSP.from_coordinates([[0, 0], [np.inf, 1], [1, 1]])


def test_too_many_cities_names_the_size_and_max_cities():
    xy = random_points(11, DEFAULT_MAX_CITIES + 1)
    with pytest.raises(ModelTooLargeError, match="max_cities") as err:
        TSP.from_coordinates(xy)
    assert f"{(DEFAULT_MAX_CITIES + 1) ** 2:,} variables" in str(err.value)
    with pytest.raises(ModelTooLargeError, match="max_cities=4"):
        TSP.from_coordinates(random_points(12, 5), max_cities=4)
    assert TSP.from_coordinates(random_points(12, 5), max_cities=5).num_cities == 5


def test_a_model_that_would_not_fit_in_memory_is_refused_before_it_is_built(monkeypatch):
    import gnnsolve.adapters.tsp as tsp_module

    monkeypatch.setattr(tsp_module, "available_memory", lambda: 20e6)
    problem = TSP.from_coordinates(random_points(13, 60))
    with pytest.raises(ModelTooLargeError) as err:
        _ = problem.bqm
    message = str(err.value)
    assert "60 cities" in message and "3,600 variables" in message and f"{2 * 3600 * 59:,} interactions" in message
    assert f"about {tsp_module.model_bytes(60) / 1e9:.1f} GB" in message and "0.0 GB are available" in message
    assert "LKHSampler" in message and "gnnsolve[lkh]" in message
    monkeypatch.setattr(tsp_module, "available_memory", lambda: 1e9)
    assert problem.bqm.num_variables == 3600
