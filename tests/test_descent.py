"""The polish's vectorised descent: never worse, single-flip local minima, a deadline that stops it."""

import math
import time

import dimod
import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gnnsolve.qubo import CompiledBQM
from gnnsolve.search.descent import SEQUENTIAL_DEGREE, descend


def _flip_gains(model: CompiledBQM, state: np.ndarray) -> np.ndarray:
    """Energy change of each single flip, by brute force."""
    flipped = np.where(np.eye(len(state), dtype=bool), 1 - state, state)
    return model.binary_energies(flipped) - model.binary_energies(state[None])[0]


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 25),
    density=st.floats(0.05, 1.0),
    seed=st.integers(0, 10_000),
    reads=st.integers(1, 4),
    scale=st.sampled_from([1e-6, 1.0, 1e6]),
)
def test_descends_to_single_flip_local_minima(n, density, seed, reads, scale):
    rng = np.random.default_rng(seed)
    bqm = dimod.generators.gnp_random_bqm(n, density, "BINARY", random_state=seed)
    bqm.scale(scale)
    model = CompiledBQM(bqm)
    start = rng.integers(0, 2, size=(reads, n), dtype=np.int8)
    result = descend(model, start)
    assert result.complete
    assert (model.binary_energies(result.states) <= model.binary_energies(start) + 1e-9 * scale * n).all()
    for state in result.states:
        assert _flip_gains(model, state).min() >= -1e-9 * scale * n


def test_dense_and_sparse_models_both_reach_local_minima():
    dense = dimod.generators.gnp_random_bqm(3 * SEQUENTIAL_DEGREE, 1.0, "SPIN", random_state=0)
    sparse = dimod.generators.ran_r(1, nx.random_regular_graph(3, 200, seed=0), seed=0)
    for bqm in (dense, sparse):
        model = CompiledBQM(bqm)
        start = np.random.default_rng(1).integers(0, 2, size=(3, model.num_variables), dtype=np.int8)
        result = descend(model, start)
        assert result.complete and result.flips > 0
        for state in result.states:
            assert _flip_gains(model, state).min() >= -1e-9


def test_a_past_deadline_returns_the_states_unchanged():
    model = CompiledBQM(dimod.generators.ran_r(1, 50, seed=0))
    start = np.random.default_rng(0).integers(0, 2, size=(2, 50), dtype=np.int8)
    result = descend(model, start, deadline=time.perf_counter() - 1)
    assert not result.complete and result.rounds == 0
    np.testing.assert_array_equal(result.states, start)


def test_a_model_without_interactions_descends_in_one_round():
    bqm = dimod.BQM({i: (-1) ** i * (i + 1.0) for i in range(1000)}, {}, 0.0, "SPIN")
    model = CompiledBQM(bqm)
    result = descend(model, np.zeros((1, 1000), dtype=np.int8), deadline=math.inf)
    assert result.rounds == 1 and result.complete
    assert model.binary_energies(result.states)[0] == pytest.approx(-sum(i + 1.0 for i in range(1000)))
