"""The annealing finisher: never worse than its start, reproducible by sweeps, paced to a deadline."""

import math
import time
import warnings

import dimod
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gnnsolve.qubo import CompiledBQM
from gnnsolve.search.anneal import anneal, default_beta_range


def starts(model: CompiledBQM, reads: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 2, size=(reads, model.num_variables), dtype=np.int8)


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 25),
    reads=st.integers(1, 4),
    seed=st.integers(0, 2**31 - 1),
    vartype=st.sampled_from([dimod.SPIN, dimod.BINARY]),
    start=st.floats(0.0, 1.0),
)
def test_never_worse_than_the_start(n, reads, seed, vartype, start):
    bqm = dimod.generators.uniform(n, vartype, low=-2, high=1, seed=seed % 1000)
    model = CompiledBQM(bqm)
    x = starts(model, reads, seed)
    result = anneal(model, x, sweeps=50, start=start, seed=seed)
    assert result.states.shape == x.shape and set(np.unique(result.states)) <= {0, 1}
    assert (model.binary_energies(result.states) <= model.binary_energies(x) + 1e-9).all()


def test_same_seed_and_sweeps_give_the_same_states():
    model = CompiledBQM(dimod.generators.ran_r(1, 200, seed=1))
    x = starts(model, 3)
    a, b = (anneal(model, x, sweeps=3000, seed=7) for _ in range(2))
    np.testing.assert_array_equal(a.states, b.states)
    assert a.sweeps == 3000 and a.calls >= 1


def test_finds_the_ground_state_of_a_small_spin_glass():
    bqm = dimod.generators.ran_r(1, 14, seed=2)
    model = CompiledBQM(bqm)
    ground = dimod.ExactSolver().sample(bqm).first.energy
    result = anneal(model, starts(model, 4), sweeps=2000, seed=0)
    assert model.binary_energies(result.states).min() == pytest.approx(ground)


def test_a_deadline_paces_the_schedule_to_its_cold_end():
    model = CompiledBQM(dimod.generators.ran_r(1, 300, seed=3))
    begin = time.perf_counter()
    result = anneal(model, starts(model, 2), begin + 0.4, seed=0)
    elapsed = time.perf_counter() - begin
    assert elapsed < 0.4 + 0.25
    assert result.calls > 1 and result.sweeps > 0
    hot, cold = result.beta_range
    assert cold > hot  # the schedule reached its cold end


def test_the_deadline_wins_over_a_number_of_sweeps():
    model = CompiledBQM(dimod.generators.ran_r(1, 2000, seed=4))
    begin = time.perf_counter()
    result = anneal(model, starts(model, 1), begin + 0.3, sweeps=10**9, seed=0)
    assert time.perf_counter() - begin < 0.3 + 0.25
    assert 0 < result.sweeps < 10**9


def test_nothing_to_do():
    model = CompiledBQM(dimod.BQM("BINARY"))
    assert anneal(model, np.zeros((2, 0), np.int8), sweeps=10).sweeps == 0
    model = CompiledBQM(dimod.generators.ran_r(1, 5, seed=0))
    x = starts(model, 2)
    past = anneal(model, x, time.perf_counter() - 1.0)
    np.testing.assert_array_equal(past.states, x)
    assert past.sweeps == 0


@pytest.mark.parametrize("kwargs, message", [({"start": 1.5, "sweeps": 10}, "start"), ({}, "sweeps or a finite deadline")])
def test_bad_arguments(kwargs, message):
    model = CompiledBQM(dimod.generators.ran_r(1, 5, seed=0))
    with pytest.raises(ValueError, match=message):
        anneal(model, starts(model, 1), math.inf, **kwargs)


@pytest.mark.parametrize(
    "bqm",
    [
        dimod.generators.ran_r(1, 30, seed=0),
        dimod.generators.uniform(20, "SPIN", low=-3, high=0.5, seed=1),
        dimod.generators.gnp_random_bqm(25, 0.3, "BINARY", random_state=2),
        dimod.BQM({0: 0.0, 1: 2.0}, {}, 0, "SPIN"),
        dimod.BQM({0: 0.0, 1: 0.0}, {(0, 1): 0.0}, 0, "SPIN"),
    ],
)
def test_beta_range_is_dwave_samplers_default(bqm):
    from dwave.samplers.sa.sampler import default_beta_range as reference

    spin = bqm.spin
    field, (starts, ends, couplings), _ = spin.to_numpy_vectors(list(spin.variables))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # dwave-samplers warns about an all-zero model
        expected = reference(spin)
    assert default_beta_range(field, starts, ends, couplings) == pytest.approx(tuple(expected))


def test_copies_keep_the_best_chain_of_each_state():
    bqm = dimod.generators.ran_r(1, 40, seed=6)
    model = CompiledBQM(bqm)
    x = starts(model, 3)
    one = anneal(model, x, sweeps=200, seed=2)
    many = anneal(model, x, sweeps=200, copies=5, seed=2)
    assert many.states.shape == x.shape
    assert (model.binary_energies(many.states) <= model.binary_energies(x) + 1e-9).all()
    with pytest.raises(ValueError, match="copies"):
        anneal(model, x, sweeps=10, copies=0)
    assert model.binary_energies(many.states).mean() <= model.binary_energies(one.states).mean() + 1e-9


def test_a_short_deadline_on_a_large_model_keeps_fewer_longer_chains():
    import networkx as nx

    from gnnsolve.adapters.graphs import maxcut_bqm

    model = CompiledBQM(maxcut_bqm(nx.random_regular_graph(3, 20_000, seed=0)))
    x = starts(model, 2)
    paced = anneal(model, x, time.perf_counter() + 0.5, copies=16, seed=0)
    assert paced.copies < 16 and paced.states.shape == x.shape
    assert (model.binary_energies(paced.states) <= model.binary_energies(x)).all()
    assert anneal(model, x, sweeps=2, copies=16, seed=0).copies == 16  # a fixed number of sweeps keeps them all
