"""LKHSampler: optimal tours through TSP.solve, energies on the QUBO, seeds, budgets, refusals, elkai missing."""

import itertools
import sys

import dimod
import numpy as np
import pytest

import gnnsolve
from gnnsolve.adapters.tsp import TSP
from gnnsolve.errors import MissingDependencyError
from gnnsolve.instances import BUILTIN_TSP_OPTIMUM, builtin_tsp_coordinates
from gnnsolve.registry import get_sampler, sample_kwargs
from gnnsolve.samplers.lkh import LKHSampler, integer_distances
from gnnsolve.search.tsp import tour_length


@pytest.fixture
def elkai():
    return pytest.importorskip("elkai", reason="elkai is not installed (pip install 'gnnsolve[lkh]')")


def random_tsp(seed: int, n: int, **options) -> TSP:
    return TSP.from_coordinates(np.random.default_rng(seed).random((n, 2)), **options)


def brute_force_length(D: np.ndarray) -> float:
    return min(tour_length(D, (0,) + rest) for rest in itertools.permutations(range(1, len(D))))


def test_the_builtin_instance_is_solved_to_its_optimum(elkai):
    problem = TSP.from_coordinates(builtin_tsp_coordinates())
    solution, sampleset = problem.solve(LKHSampler(), seed=0)
    assert solution.feasible and not solution.repaired
    assert solution.objective == pytest.approx(BUILTIN_TSP_OPTIMUM)
    assert sampleset.info["tour_length"] == [pytest.approx(BUILTIN_TSP_OPTIMUM)]
    assert sampleset.info["runs"] == [10] and sampleset.info["time_limit"] == float("inf")


@pytest.mark.parametrize("seed", range(4))
def test_small_random_instances_reach_the_brute_force_optimum(elkai, seed):
    problem = random_tsp(seed, 8)
    solution, _ = problem.solve(LKHSampler(), num_reads=2, seed=seed)
    assert solution.objective == pytest.approx(brute_force_length(problem.distances))


def test_rows_are_tours_over_the_qubos_variables_with_the_qubos_energies(elkai):
    problem = random_tsp(5, 9, labels=[f"c{i}" for i in range(9)])
    sampleset = LKHSampler().sample(problem, num_reads=3, seed=2)
    assert sampleset.vartype is dimod.BINARY and len(sampleset) == 3
    assert list(sampleset.variables) == problem.bqm_variables == list(problem.bqm.variables)
    assert sampleset.record.energy == pytest.approx(problem.bqm.energies(sampleset), rel=1e-12)
    for row, length in zip(sampleset.samples(), sampleset.info["tour_length"]):
        solution = TSP(problem.distances, problem.labels, two_opt=False, or_opt=False).decode(row)
        assert not solution.repaired and solution.value[0] == "c0"
        assert solution.objective == pytest.approx(length)


def test_the_same_seed_gives_the_same_samples(elkai):
    problem = random_tsp(1, 40)
    first, second = (LKHSampler().sample(problem, num_reads=3, seed=7) for _ in range(2))
    assert np.array_equal(first.record.sample, second.record.sample)


def test_a_time_limit_sizes_the_runs_and_runs_can_be_given(elkai):
    problem = random_tsp(2, 30)
    timed = LKHSampler().sample(problem, num_reads=2, seed=0, time_limit=0.5)
    assert timed.info["time_limit"] == 0.5 and all(runs >= 1 for runs in timed.info["runs"])
    assert sum(timed.info["seconds"]) <= 0.5 + 0.2
    assert LKHSampler().sample(problem, num_reads=2, seed=0, runs=3).info["runs"] == [3, 3]


def test_integer_distances_pass_unscaled_and_others_are_scaled_and_scored_exactly(elkai):
    D = np.array([[0, 3, 4, 5], [3, 0, 5, 4], [4, 5, 0, 3], [5, 4, 3, 0]])
    weights, scale = integer_distances(D)
    assert scale == 1.0 and np.array_equal(weights, D)
    problem = random_tsp(3, 12)
    weights, scale = integer_distances(problem.distances)
    assert weights.max() == 1_000_000 and np.abs(weights / scale - problem.distances).max() <= 0.5 / scale
    sampleset = LKHSampler().sample(problem, seed=0)
    assert sampleset.info["scale"] == scale
    assert sampleset.first.energy == pytest.approx(problem.evaluate(problem.decode(sampleset.first.sample).value))


def test_a_dimod_model_is_refused_with_the_way_to_call_it(elkai):
    with pytest.raises(TypeError, match=r"TSP\(distances\).solve\(LKHSampler\(\)\)"):
        LKHSampler().sample(random_tsp(0, 5).bqm)


def test_bad_keywords_are_refused_and_unknown_ones_warn(elkai):
    problem = random_tsp(0, 5)
    for keywords in ({"num_reads": 0}, {"seed": -1}, {"time_limit": 0}, {"runs": 0}):
        with pytest.raises(ValueError):
            LKHSampler().sample(problem, **keywords)
    with pytest.warns(dimod.exceptions.SamplerUnknownArgWarning):
        LKHSampler().sample(problem, sweeps=3)


def test_it_is_a_dimod_sampler_declared_at_class_level():
    assert issubclass(LKHSampler, dimod.Sampler)
    assert LKHSampler.parameters == {} and LKHSampler.properties == {}
    sampler = LKHSampler()
    assert set(sampler.parameters) == {"num_reads", "seed", "time_limit", "runs"}
    assert sampler.properties["problems"] == (TSP,)


def test_registered_as_lkh_and_exported_lazily(elkai):
    assert isinstance(get_sampler("lkh"), LKHSampler)
    assert gnnsolve.LKHSampler is LKHSampler
    assert sample_kwargs("lkh", time_limit=2.0, num_reads=3, seed=1) == {"num_reads": 3, "seed": 1, "time_limit": 2.0}


def test_missing_elkai_is_a_missing_dependency_error_naming_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "elkai", None)  # makes `import elkai` raise ImportError
    with pytest.raises(MissingDependencyError, match=r"pip install 'gnnsolve\[lkh\]'"):
        LKHSampler().sample(random_tsp(0, 5))
