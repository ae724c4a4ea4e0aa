"""Kicks (iterated local search) and the finisher around them: never worse, reproducible,
feasible optima of knapsack QUBOs where annealing alone stalls, and no kicks where they do not pay."""

import time

import dimod
import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gnnsolve import HiGHSSampler
from gnnsolve.adapters.graphs import maxcut_bqm
from gnnsolve.qubo import CompiledBQM
from gnnsolve.search.anneal import anneal
from gnnsolve.search.finish import CHAINS, KICK_SHARE, finish_states, kick_rounds
from gnnsolve.search.kicks import kick, kick_seconds, rounds_for


def knapsack(items: int, seed: int) -> tuple[dimod.ConstrainedQuadraticModel, dimod.BinaryQuadraticModel, object]:
    cqm = dimod.generators.random_knapsack(items, seed=seed)
    bqm, invert = dimod.cqm_to_bqm(cqm)
    return cqm, bqm, invert


def random_states(model: CompiledBQM, reads: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 2, size=(reads, model.num_variables), dtype=np.int8)


def single_flip_minimum(model: CompiledBQM, state: np.ndarray) -> bool:
    flipped = np.where(np.eye(model.num_variables, dtype=bool), 1 - state, state)
    return bool((model.binary_energies(flipped) >= model.binary_energies(state[None])[0] - 1e-9).all())


@settings(max_examples=20, deadline=None)
@given(
    n=st.integers(1, 20),
    reads=st.integers(1, 3),
    copies=st.integers(1, 3),
    seed=st.integers(0, 2**31 - 1),
    vartype=st.sampled_from([dimod.SPIN, dimod.BINARY]),
)
def test_never_worse_than_the_start_and_ends_at_local_minima(n, reads, copies, seed, vartype):
    model = CompiledBQM(dimod.generators.uniform(n, vartype, low=-2, high=1, seed=seed % 1000))
    x = random_states(model, reads, seed)
    result = kick(model, x, rounds=30, copies=copies, seed=seed)
    assert result.states.shape == x.shape and result.complete and result.rounds == 30
    assert (model.binary_energies(result.states) <= model.binary_energies(x) + 1e-9).all()
    assert all(single_flip_minimum(model, row) for row in result.states)


def test_same_seed_and_rounds_give_the_same_states():
    _, bqm, _ = knapsack(20, seed=1)
    model = CompiledBQM(bqm)
    x = random_states(model, 2)
    a, b = (kick(model, x, rounds=300, copies=4, seed=5) for _ in range(2))
    np.testing.assert_array_equal(a.states, b.states)
    assert a.accepted == b.accepted


def test_kicks_reach_the_optimum_of_a_small_knapsack_qubo():
    cqm, bqm, invert = knapsack(8, seed=2)
    model = CompiledBQM(bqm)
    ground = dimod.ExactSolver().sample(bqm).first.energy
    result = kick(model, np.zeros((1, model.num_variables), np.int8), rounds=400, copies=8, seed=0)
    found = model.sampleset(bqm, result.states).first
    assert found.energy == pytest.approx(ground) and cqm.check_feasible(invert(found.sample))


def test_a_deadline_stops_the_kicks():
    _, bqm, _ = knapsack(60, seed=0)
    model = CompiledBQM(bqm)
    start = time.perf_counter()
    result = kick(model, random_states(model, 16), start + 0.3, seed=0)
    assert time.perf_counter() - start < 0.6 and result.rounds > 10 and not result.complete


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({}, "rounds or a finite deadline"),
        ({"rounds": -1}, "rounds must be a non-negative integer"),
        ({"rounds": 1.5}, "rounds must be a non-negative integer"),
        ({"rounds": 5, "copies": 0}, "copies must be a positive integer"),
    ],
)
def test_bad_arguments(kwargs, message):
    model = CompiledBQM(dimod.generators.ran_r(1, 5, seed=0))
    with pytest.raises(ValueError, match=message):
        kick(model, random_states(model, 1), **kwargs)


def test_nothing_to_do():
    model = CompiledBQM(dimod.BinaryQuadraticModel("BINARY"))
    assert kick(model, np.zeros((2, 0), np.int8), rounds=5).states.shape == (2, 0)


def test_the_finisher_packs_knapsacks_annealing_alone_does_not():
    """60 items, the finisher's fixed length (1,000 sweeps, then its rounds of kicks): feasible and
    within 2 % of the optimum; the same anneal without the kicks stays at least 10 % short."""
    cqm, bqm, invert = knapsack(60, seed=0)
    optimum = HiGHSSampler().sample_cqm(cqm).first.energy
    model = CompiledBQM(bqm)
    start = np.zeros((1, model.num_variables), np.int8)
    states, done = finish_states(model, start, time.perf_counter() + 60, sweeps=1000, seed=3)
    chosen = invert(model.sampleset(bqm, states).first.sample)
    assert cqm.check_feasible(chosen) and done["kick_rounds"] == rounds_for(model, CHAINS)
    assert cqm.objective.energy(chosen) <= 0.98 * optimum
    annealed = anneal(model, start, sweeps=1000, copies=CHAINS, seed=3).states
    assert model.sampleset(bqm, annealed).first.energy >= 0.9 * optimum


def test_kicks_are_left_out_where_they_do_not_pay():
    large = CompiledBQM(maxcut_bqm(nx.random_regular_graph(3, 20_000, seed=0)))
    small = CompiledBQM(knapsack(60, seed=0)[1])
    assert kick_rounds(large, CHAINS, None, 5.0) == 0 and kick_rounds(large, CHAINS, 1000, 60.0) == 0
    assert kick_rounds(small, CHAINS, None, 5.0) is None
    assert kick_rounds(small, CHAINS, 1000, 1.0) == rounds_for(small, CHAINS)
    assert kick_seconds(small, CHAINS) <= 4 * KICK_SHARE * 5.0 < kick_seconds(large, CHAINS)


def test_paced_by_the_clock_the_finisher_ends_at_its_deadline():
    _, bqm, _ = knapsack(60, seed=0)
    model = CompiledBQM(bqm)
    start = time.perf_counter()
    states, done = finish_states(model, random_states(model, 1), start + 1.0, seed=0)
    assert 0.8 < time.perf_counter() - start < 1.2
    assert done["kick_rounds"] > 0 and done["sweeps"] > 0 and done["complete"]
